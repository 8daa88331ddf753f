/*
 * The reconciliation decision table (reconcile.h, reconcile.md).  One
 * function per journal phase; each looks only at the fact that phase
 * needs, so the table stays exhaustive: every (phase, fact) pair lands
 * on exactly one action, and an impossible fact lands on HOLD.
 */
#include <stddef.h>
#include <string.h>

#include "reconcile.h"

static const char *const action_names[RA__MAX] = {
	"nothing", "ask_payment", "record_paid", "record_failed", "find_job",
	"record_spooled", "ask_job", "cancel_job", "record_printed", "refund",
	"record_refunded", "reissue", "report_printed", "report_failed",
	"record_reported", "finish", "retry_later", "hold"
};

static const char *const center_names[RCC__MAX] = {
	"unasked", "issued", "committed", "voided", "conflict",
	"session_expired", "not_found", "unreachable"
};

static const char *const job_names[RCJ__MAX] = {
	"unasked", "completed", "aborted", "canceled", "pending",
	"processing", "held", "unknown", "cups_down"
};

const char *
reconcile_action_name(enum reconcile_action a)
{
	return (int)a >= 0 && a < RA__MAX ? action_names[a] : "unknown";
}

const char *
reconcile_center_name(enum reconcile_center c)
{
	return (int)c >= 0 && c < RCC__MAX ? center_names[c] : "unknown";
}

const char *
reconcile_job_name(enum reconcile_job j)
{
	return (int)j >= 0 && j < RCJ__MAX ? job_names[j] : "unknown";
}

static enum reconcile_action
decide(struct reconcile_decision *d, enum reconcile_action a,
    const char *reason)
{
	d->action = a;
	d->reason = reason;
	return a;
}

static enum reconcile_action
reported(struct reconcile_decision *d, enum journal_answer ans,
    const char *issuance_id)
{
	d->answer = ans;
	d->issuance_id = issuance_id;
	return decide(d, RA_RECORD_REPORTED, NULL);
}

/* created: was the money taken before the crash? */
static enum reconcile_action
phase_created(const struct reconcile_facts *f, struct reconcile_decision *d)
{
	switch (f->pay) {
	case RCP_UNASKED:
		return decide(d, RA_ASK_PAYMENT, NULL);
	case RCP_NONE:
		return decide(d, RA_RECORD_FAILED, "not_paid");
	case RCP_TAKEN:
	case RCP_REFUNDED:
		/* record the money first; the refund is idempotent */
		return decide(d, RA_RECORD_PAID, NULL);
	case RCP_ERROR:
		return decide(d, RA_RETRY_LATER, "payment_device");
	case RCP__MAX:
		break;
	}
	return decide(d, RA_HOLD, "bad_fact");
}

/* spooling: the job may or may not have been submitted; find it by name. */
static enum reconcile_action
phase_spooling(const struct reconcile_facts *f, struct reconcile_decision *d)
{
	switch (f->job) {
	case RCJ_UNASKED:
		return decide(d, RA_FIND_JOB, NULL);
	case RCJ_COMPLETED:
	case RCJ_ABORTED:
	case RCJ_CANCELED:
	case RCJ_PENDING:
	case RCJ_PROCESSING:
	case RCJ_HELD:
		if (f->job_id <= 0)
			return decide(d, RA_HOLD, "job_without_id");
		return decide(d, RA_RECORD_SPOOLED, NULL);
	case RCJ_UNKNOWN:
		return decide(d, RA_RECORD_FAILED, "not_submitted");
	case RCJ_CUPS_DOWN:
		return decide(d, RA_RETRY_LATER, "cups_down");
	case RCJ__MAX:
		break;
	}
	return decide(d, RA_HOLD, "bad_fact");
}

/* spooled: the paper decides; a live job is canceled before any void. */
static enum reconcile_action
phase_spooled(const struct reconcile_facts *f, struct reconcile_decision *d)
{
	switch (f->job) {
	case RCJ_UNASKED:
		return decide(d, RA_ASK_JOB, NULL);
	case RCJ_COMPLETED:
		return decide(d, RA_RECORD_PRINTED, NULL);
	case RCJ_ABORTED:
		return decide(d, RA_RECORD_FAILED, "job_aborted");
	case RCJ_CANCELED:
		return decide(d, RA_RECORD_FAILED, "job_canceled");
	case RCJ_PENDING:
	case RCJ_PROCESSING:
	case RCJ_HELD:
		switch (f->cancel) {
		case RCX_UNTRIED:
			return decide(d, RA_CANCEL_JOB, NULL);
		case RCX_SENT:
			return decide(d, RA_RETRY_LATER, "cancel_pending");
		case RCX_FAILED:
			return decide(d, RA_RETRY_LATER, "cancel_failed");
		case RCX__MAX:
			break;
		}
		return decide(d, RA_HOLD, "bad_fact");
	case RCJ_UNKNOWN:
		/* it may have printed and been purged, or never: ask a person */
		return decide(d, RA_HOLD, "job_lost");
	case RCJ_CUPS_DOWN:
		return decide(d, RA_RETRY_LATER, "cups_down");
	case RCJ__MAX:
		break;
	}
	return decide(d, RA_HOLD, "bad_fact");
}

/* printed, not reported: the paper is out, the center must hear it. */
static enum reconcile_action
phase_printed(const struct journal_tx *tx, const struct reconcile_facts *f,
    struct reconcile_decision *d)
{
	d->issuance_id = tx->issuance_id;
	switch (f->result) {
	case RCC_UNASKED:
		return decide(d, RA_REPORT_PRINTED, NULL);
	case RCC_COMMITTED:
		return reported(d, JA_COMMITTED, tx->issuance_id);
	case RCC_CONFLICT:
	case RCC_VOIDED:
		/* the paper is the truth: no refund, the operator is told */
		return reported(d, JA_CONFLICT, tx->issuance_id);
	case RCC_NOT_FOUND:
		return reported(d, JA_ABSENT, tx->issuance_id);
	case RCC_UNREACHABLE:
		return decide(d, RA_RETRY_LATER, "center_unreachable");
	case RCC_ISSUED:
	case RCC_SESSION_EXPIRED:
	case RCC__MAX:
		break;
	}
	d->issuance_id = NULL;
	return decide(d, RA_HOLD, "bad_fact");
}

/* The void of a known issuance: the answer to REPORT_FAILED. */
static enum reconcile_action
void_issuance(const char *id, const struct reconcile_facts *f,
    struct reconcile_decision *d)
{
	d->issuance_id = id;
	switch (f->result) {
	case RCC_UNASKED:
		return decide(d, RA_REPORT_FAILED, NULL);
	case RCC_VOIDED:
		return reported(d, JA_VOIDED, id);
	case RCC_CONFLICT:
	case RCC_COMMITTED:
		/* no paper came out (CUPS said so): the refund stands */
		return reported(d, JA_CONFLICT, id);
	case RCC_NOT_FOUND:
		return reported(d, JA_ABSENT, id);
	case RCC_UNREACHABLE:
		return decide(d, RA_RETRY_LATER, "center_unreachable");
	case RCC_ISSUED:
	case RCC_SESSION_EXPIRED:
	case RCC__MAX:
		break;
	}
	d->issuance_id = NULL;
	return decide(d, RA_HOLD, "bad_fact");
}

static int
hexid_ok(const char *s)
{
	size_t i;

	if (strlen(s) != JOURNAL_CENTER_ID_LEN)
		return 0;
	for (i = 0; i < JOURNAL_CENTER_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* failed: money back first, then the center hears the void. */
static enum reconcile_action
phase_failed(const struct journal_tx *tx, const struct reconcile_facts *f,
    struct reconcile_decision *d)
{
	if (journal_has(tx, JS_PAID) && !journal_has(tx, JS_REFUNDED)) {
		switch (f->refund) {
		case RCR_UNASKED:
			return decide(d, RA_REFUND, NULL);
		case RCR_OK:
			return decide(d, RA_RECORD_REFUNDED, NULL);
		case RCR_REFUSED:
			return decide(d, RA_HOLD, "refund_refused");
		case RCR_ERROR:
			return decide(d, RA_RETRY_LATER, "payment_device");
		case RCR__MAX:
			break;
		}
		return decide(d, RA_HOLD, "bad_fact");
	}
	if (journal_has(tx, JS_REPORTED) || !journal_has(tx, JS_ISSUING))
		return decide(d, RA_FINISH, NULL);
	if (tx->issuance_id[0] != '\0')
		return void_issuance(tx->issuance_id, f, d);
	/* the request may have reached the center: ask again, same key */
	switch (f->reissue) {
	case RCC_UNASKED:
		return decide(d, RA_REISSUE, NULL);
	case RCC_ISSUED:
		if (!hexid_ok(f->issuance_id))
			return decide(d, RA_HOLD, "bad_issuance_id");
		return void_issuance(f->issuance_id, f, d);
	case RCC_SESSION_EXPIRED:
	case RCC_NOT_FOUND:
		/* the key was never stored: there is nothing to void */
		return reported(d, JA_ABSENT, NULL);
	case RCC_UNREACHABLE:
		return decide(d, RA_RETRY_LATER, "center_unreachable");
	case RCC_CONFLICT:
		return decide(d, RA_HOLD, "idempotency_conflict");
	case RCC_COMMITTED:
	case RCC_VOIDED:
	case RCC__MAX:
		break;
	}
	return decide(d, RA_HOLD, "bad_fact");
}

enum reconcile_action
reconcile_next(const struct journal_tx *tx, const struct reconcile_facts *f,
    struct reconcile_decision *d)
{
	memset(d, 0, sizeof(*d));
	if (journal_has(tx, JS_FINISHED))
		return decide(d, RA_NOTHING, NULL);
	if (journal_has(tx, JS_PRINTED)) {
		if (journal_has(tx, JS_REPORTED))
			return decide(d, RA_FINISH, NULL);
		return phase_printed(tx, f, d);
	}
	if (journal_has(tx, JS_FAILED))
		return phase_failed(tx, f, d);
	switch (tx->last) {
	case JS_CREATED:
		return phase_created(f, d);
	case JS_PAID:
	case JS_ISSUING:
	case JS_ISSUED:
		/* the session is gone: nothing was sent to CUPS, none will be */
		return decide(d, RA_RECORD_FAILED, "interrupted");
	case JS_SPOOLING:
		return phase_spooling(f, d);
	case JS_SPOOLED:
		return phase_spooled(f, d);
	default:
		break;
	}
	return decide(d, RA_HOLD, "bad_row");
}
