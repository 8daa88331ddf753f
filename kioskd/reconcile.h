/*
 * Reconciliation: what to do next with an unfinished journal row that no
 * live session owns (every unfinished row at start; later, the rows left
 * to "retry later").  Pure: no I/O.  The caller runs a loop:
 *
 *	struct reconcile_facts f = { 0 };	(nothing asked yet)
 *	for (;;) {
 *		journal_get(j, id, &tx);
 *		reconcile_next(&tx, &f, &d);
 *		do d.action: an ASK/FIND/CANCEL/REPORT/REISSUE/REFUND fills
 *		its fact in f; a RECORD writes the journal step; RETRY_LATER,
 *		HOLD and FINISH (after journal_finished) end the loop.
 *	}
 *
 * The decision table (reconcile.md has it with the reasons):
 *
 *   row is at            fact                         action
 *   created              pay unasked                  ASK_PAYMENT (query ref)
 *                        pay none                     RECORD_FAILED not_paid
 *                        pay taken / refunded         RECORD_PAID
 *                        pay error                    RETRY_LATER
 *   paid, issuing,       -                            RECORD_FAILED interrupted
 *     issued                                          (no paper can exist)
 *   spooling             job unasked                  FIND_JOB (name = issuance)
 *                        found (any state, id > 0)    RECORD_SPOOLED
 *                        unknown to CUPS              RECORD_FAILED not_submitted
 *                        CUPS down                    RETRY_LATER
 *   spooled              job unasked                  ASK_JOB
 *                        completed                    RECORD_PRINTED
 *                        aborted / canceled           RECORD_FAILED job_*
 *                        pending/processing/held:
 *                          cancel not tried           CANCEL_JOB
 *                          cancel sent or failed      RETRY_LATER
 *                        unknown to CUPS              HOLD job_lost
 *                        CUPS down                    RETRY_LATER
 *   printed              result unasked               REPORT_PRINTED
 *                        committed                    RECORD_REPORTED committed
 *                        conflict / voided            RECORD_REPORTED conflict
 *                        not found                    RECORD_REPORTED absent
 *                        unreachable                  RETRY_LATER
 *   printed+reported     -                            FINISH
 *   failed, paid,        refund unasked               REFUND
 *     not refunded       refund ok                    RECORD_REFUNDED
 *                        refund refused               HOLD refund_refused
 *                        refund error                 RETRY_LATER
 *   failed, money        issued: result unasked       REPORT_FAILED
 *     settled, not       voided                       RECORD_REPORTED voided
 *     reported           conflict / committed         RECORD_REPORTED conflict
 *                        not found                    RECORD_REPORTED absent
 *                        unreachable                  RETRY_LATER
 *                        issuing only: reissue        REISSUE (same key), then
 *                          issued -> as "issued" above with the learned id;
 *                          session expired / not found -> RECORD_REPORTED
 *                          absent; unreachable -> RETRY_LATER
 *                        never issuing                FINISH
 *   failed+settled+reported -                         FINISH
 *
 * Any other fact for a row (an answer that cannot answer the question
 * asked, a found job without an id) is HOLD: the facts contradict the
 * journal and a person decides.  Never: a refund after printed, a printed
 * report after failed, a second outcome.
 */
#ifndef KIOSK_RECONCILE_H
#define KIOSK_RECONCILE_H

#include <stdint.h>

#include "journal.h"

/* The center's answer to the result call or to a re-issue. */
enum reconcile_center {
	RCC_UNASKED = 0,
	RCC_ISSUED,		/* re-issue: the issuance (id in the facts) */
	RCC_COMMITTED,		/* result: 200 committed */
	RCC_VOIDED,		/* result: 200 voided */
	RCC_CONFLICT,		/* 409 result_conflict / idempotency_conflict */
	RCC_SESSION_EXPIRED,	/* re-issue: 410, the key was never seen */
	RCC_NOT_FOUND,		/* 404: no such session / issuance */
	RCC_UNREACHABLE,	/* no answer, 5xx, busy, any other error */
	RCC__MAX
};

/* What CUPS says about the job (by id, or found by name). */
enum reconcile_job {
	RCJ_UNASKED = 0,
	RCJ_COMPLETED,		/* pages in the facts */
	RCJ_ABORTED,
	RCJ_CANCELED,
	RCJ_PENDING,
	RCJ_PROCESSING,
	RCJ_HELD,
	RCJ_UNKNOWN,		/* CUPS knows no such job */
	RCJ_CUPS_DOWN,		/* CUPS did not answer */
	RCJ__MAX
};

enum reconcile_cancel {
	RCX_UNTRIED = 0,
	RCX_SENT,		/* CUPS took the cancel */
	RCX_FAILED,		/* CUPS refused it or did not answer */
	RCX__MAX
};

/* The payment device's query(ref). */
enum reconcile_pay {
	RCP_UNASKED = 0,
	RCP_NONE,
	RCP_TAKEN,
	RCP_REFUNDED,
	RCP_ERROR,		/* device error, out of service */
	RCP__MAX
};

/* The payment device's refund(paid, ref). */
enum reconcile_refund {
	RCR_UNASKED = 0,
	RCR_OK,			/* refunded now or before */
	RCR_REFUSED,		/* the device has no such take */
	RCR_ERROR,
	RCR__MAX
};

struct reconcile_facts {
	enum reconcile_pay	 pay;
	enum reconcile_refund	 refund;
	enum reconcile_job	 job;
	int64_t			 job_id;	/* of a job found by name */
	int			 pages;		/* of a completed job */
	enum reconcile_cancel	 cancel;
	enum reconcile_center	 reissue;
	char			 issuance_id[JOURNAL_CENTER_ID_LEN + 1];
	enum reconcile_center	 result;
};

enum reconcile_action {
	RA_NOTHING = 0,		/* the row is finished */
	RA_ASK_PAYMENT,		/* device query(tx.pay_ref) -> facts.pay */
	RA_RECORD_PAID,		/* journal_paid(tx.fee_yen, tx.pay_ref) */
	RA_RECORD_FAILED,	/* journal_failed(d.reason) */
	RA_FIND_JOB,		/* CUPS: job named tx.issuance_id -> job, id */
	RA_RECORD_SPOOLED,	/* journal_spooled(facts.job_id) */
	RA_ASK_JOB,		/* CUPS: job tx.job_id -> facts.job, pages */
	RA_CANCEL_JOB,		/* CUPS: cancel -> facts.cancel; job unasked */
	RA_RECORD_PRINTED,	/* journal_printed(facts.pages) */
	RA_REFUND,		/* device refund(tx.paid_yen) -> facts.refund */
	RA_RECORD_REFUNDED,	/* journal_refunded(tx.paid_yen) */
	RA_REISSUE,		/* center: same request, same key -> reissue */
	RA_REPORT_PRINTED,	/* center result printed -> facts.result */
	RA_REPORT_FAILED,	/* center result failed (d.issuance_id) */
	RA_RECORD_REPORTED,	/* journal_reported(d.answer, d.issuance_id) */
	RA_FINISH,		/* journal_finished */
	RA_RETRY_LATER,		/* nothing lost: try again later */
	RA_HOLD,		/* contradiction: leave it to a person */
	RA__MAX
};

struct reconcile_decision {
	enum reconcile_action	 action;
	const char		*reason;	/* RECORD_FAILED, RETRY, HOLD */
	enum journal_answer	 answer;	/* RECORD_REPORTED */
	/* REPORT_FAILED / RECORD_REPORTED: tx's or the re-issue's; else NULL */
	const char		*issuance_id;
};

enum reconcile_action reconcile_next(const struct journal_tx *,
		    const struct reconcile_facts *,
		    struct reconcile_decision *);
const char	*reconcile_action_name(enum reconcile_action);
const char	*reconcile_center_name(enum reconcile_center);
const char	*reconcile_job_name(enum reconcile_job);

#endif
