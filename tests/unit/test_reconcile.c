/*
 * The reconciliation table: every journal phase against every value of
 * every fact (the expected action is written out here again, apart from
 * reconcile.c), the invariants over all of them (never a refund after
 * printed, never a printed report after failed or refunded, never a void
 * while a job may still print, every RECORD the journal itself accepts),
 * and then crash-and-reconcile runs: a real journal and a real coin box
 * ledger left at every crash point of a transaction, a simulated CUPS and
 * center in every state, the executor loop run until it finishes, and the
 * end checked: printed and committed and paid, or voided and refunded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "payment.h"
#include "reconcile.h"
#include "t.h"

#define ISS	"fedcba9876543210fedcba9876543210"
#define ISS2	"0000111122223333444455556666777f"

/* --- representative rows of every phase ------------------------------- */

enum variant {
	V_CREATED, V_PAID, V_ISSUING, V_ISSUED, V_SPOOLING, V_SPOOLED,
	V_PRINTED, V_PRINTED_REPORTED, V_FINISHED, V_FAILED_UNPAID,
	V_FAILED_PAID, V_FAILED_REFUNDED_NOISSUE, V_FAILED_REFUNDED_ISSUED,
	V_FAILED_REFUNDED_ISSUING, V_FAILED_REPORTED, V__MAX
};

static const char *const variant_names[V__MAX] = {
	"created", "paid", "issuing", "issued", "spooling", "spooled",
	"printed", "printed+reported", "finished", "failed unpaid",
	"failed paid", "failed refunded (never issuing)",
	"failed refunded issued", "failed refunded issuing (no id)",
	"failed refunded reported"
};

static void
mark(struct journal_tx *tx, enum journal_step s)
{
	tx->steps |= 1u << s;
	tx->at[s] = 1000 + s;
	if (s > tx->last)
		tx->last = s;
}

static void
row(enum variant v, struct journal_tx *tx)
{
	static const enum journal_step straight[] = { JS_PAID, JS_ISSUING,
	    JS_ISSUED, JS_SPOOLING, JS_SPOOLED };
	int upto = 0, k;

	memset(tx, 0, sizeof(*tx));
	tx->id = 1;
	tx->fee_yen = 400;
	(void)snprintf(tx->pay_ref, sizeof(tx->pay_ref), "pay-ref-0000000001");
	(void)snprintf(tx->idem_key, sizeof(tx->idem_key), "key-0000000000001");
	mark(tx, JS_CREATED);
	switch (v) {
	case V_CREATED:
	case V_FAILED_UNPAID:
		upto = 0;
		break;
	case V_PAID:
	case V_FAILED_PAID:
	case V_FAILED_REFUNDED_NOISSUE:
		upto = 1;
		break;
	case V_ISSUING:
	case V_FAILED_REFUNDED_ISSUING:
		upto = 2;
		break;
	case V_ISSUED:
	case V_FAILED_REFUNDED_ISSUED:
		upto = 3;
		break;
	case V_SPOOLING:
		upto = 4;
		break;
	default:
		upto = 5;
		break;
	}
	for (k = 0; k < upto; k++)
		mark(tx, straight[k]);
	if (upto >= 1)
		tx->paid_yen = 400;
	if (upto >= 3)
		(void)snprintf(tx->issuance_id, sizeof(tx->issuance_id), ISS);
	if (upto >= 5)
		tx->job_id = 9;
	switch (v) {
	case V_PRINTED:
		mark(tx, JS_PRINTED);
		break;
	case V_PRINTED_REPORTED:
	case V_FINISHED:
		mark(tx, JS_PRINTED);
		mark(tx, JS_REPORTED);
		tx->answer = JA_COMMITTED;
		if (v == V_FINISHED)
			mark(tx, JS_FINISHED);
		break;
	case V_FAILED_UNPAID:
	case V_FAILED_PAID:
		mark(tx, JS_FAILED);
		break;
	case V_FAILED_REFUNDED_NOISSUE:
	case V_FAILED_REFUNDED_ISSUED:
	case V_FAILED_REFUNDED_ISSUING:
		mark(tx, JS_FAILED);
		mark(tx, JS_REFUNDED);
		tx->refunded_yen = 400;
		break;
	case V_FAILED_REPORTED:
		mark(tx, JS_FAILED);
		mark(tx, JS_REFUNDED);
		mark(tx, JS_REPORTED);
		tx->refunded_yen = 400;
		tx->answer = JA_VOIDED;
		break;
	default:
		break;
	}
}

/* --- the table, written out again --------------------------------------- */

struct want {
	enum reconcile_action	 a;
	enum journal_answer	 ans;
};

static struct want
W(enum reconcile_action a)
{
	struct want w = { a, JA_NONE };

	return w;
}

static struct want
WR(enum journal_answer ans)
{
	struct want w = { RA_RECORD_REPORTED, ans };

	return w;
}

static struct want
expect_void(enum reconcile_center r)
{
	switch (r) {
	case RCC_UNASKED:
		return W(RA_REPORT_FAILED);
	case RCC_VOIDED:
		return WR(JA_VOIDED);
	case RCC_CONFLICT:
	case RCC_COMMITTED:
		return WR(JA_CONFLICT);
	case RCC_NOT_FOUND:
		return WR(JA_ABSENT);
	case RCC_UNREACHABLE:
		return W(RA_RETRY_LATER);
	default:
		return W(RA_HOLD);
	}
}

static struct want
expect(enum variant v, const struct reconcile_facts *f, int idok)
{
	switch (v) {
	case V_CREATED:
		switch (f->pay) {
		case RCP_UNASKED:
			return W(RA_ASK_PAYMENT);
		case RCP_NONE:
			return W(RA_RECORD_FAILED);
		case RCP_TAKEN:
		case RCP_REFUNDED:
			return W(RA_RECORD_PAID);
		default:
			return W(RA_RETRY_LATER);
		}
	case V_PAID:
	case V_ISSUING:
	case V_ISSUED:
		return W(RA_RECORD_FAILED);
	case V_SPOOLING:
		switch (f->job) {
		case RCJ_UNASKED:
			return W(RA_FIND_JOB);
		case RCJ_UNKNOWN:
			return W(RA_RECORD_FAILED);
		case RCJ_CUPS_DOWN:
			return W(RA_RETRY_LATER);
		default:
			return W(f->job_id > 0 ? RA_RECORD_SPOOLED : RA_HOLD);
		}
	case V_SPOOLED:
		switch (f->job) {
		case RCJ_UNASKED:
			return W(RA_ASK_JOB);
		case RCJ_COMPLETED:
			return W(RA_RECORD_PRINTED);
		case RCJ_ABORTED:
		case RCJ_CANCELED:
			return W(RA_RECORD_FAILED);
		case RCJ_PENDING:
		case RCJ_PROCESSING:
		case RCJ_HELD:
			return W(f->cancel == RCX_UNTRIED ? RA_CANCEL_JOB :
			    RA_RETRY_LATER);
		case RCJ_UNKNOWN:
			return W(RA_HOLD);
		default:
			return W(RA_RETRY_LATER);
		}
	case V_PRINTED:
		switch (f->result) {
		case RCC_UNASKED:
			return W(RA_REPORT_PRINTED);
		case RCC_COMMITTED:
			return WR(JA_COMMITTED);
		case RCC_CONFLICT:
		case RCC_VOIDED:
			return WR(JA_CONFLICT);
		case RCC_NOT_FOUND:
			return WR(JA_ABSENT);
		case RCC_UNREACHABLE:
			return W(RA_RETRY_LATER);
		default:
			return W(RA_HOLD);
		}
	case V_PRINTED_REPORTED:
	case V_FAILED_REFUNDED_NOISSUE:
	case V_FAILED_REPORTED:
	case V_FAILED_UNPAID:
		return W(RA_FINISH);
	case V_FINISHED:
		return W(RA_NOTHING);
	case V_FAILED_PAID:
		switch (f->refund) {
		case RCR_UNASKED:
			return W(RA_REFUND);
		case RCR_OK:
			return W(RA_RECORD_REFUNDED);
		case RCR_REFUSED:
			return W(RA_HOLD);
		default:
			return W(RA_RETRY_LATER);
		}
	case V_FAILED_REFUNDED_ISSUED:
		return expect_void(f->result);
	case V_FAILED_REFUNDED_ISSUING:
		switch (f->reissue) {
		case RCC_UNASKED:
			return W(RA_REISSUE);
		case RCC_ISSUED:
			return idok ? expect_void(f->result) : W(RA_HOLD);
		case RCC_SESSION_EXPIRED:
		case RCC_NOT_FOUND:
			return WR(JA_ABSENT);
		case RCC_UNREACHABLE:
			return W(RA_RETRY_LATER);
		default:
			return W(RA_HOLD);
		}
	case V__MAX:
		break;
	}
	return W(RA__MAX);
}

/* The journal step a RECORD/FINISH action writes. */
static int
recorded_step(enum reconcile_action a, enum journal_step *s)
{
	switch (a) {
	case RA_RECORD_PAID:
		*s = JS_PAID;
		return 1;
	case RA_RECORD_FAILED:
		*s = JS_FAILED;
		return 1;
	case RA_RECORD_SPOOLED:
		*s = JS_SPOOLED;
		return 1;
	case RA_RECORD_PRINTED:
		*s = JS_PRINTED;
		return 1;
	case RA_RECORD_REFUNDED:
		*s = JS_REFUNDED;
		return 1;
	case RA_RECORD_REPORTED:
		*s = JS_REPORTED;
		return 1;
	case RA_FINISH:
		*s = JS_FINISHED;
		return 1;
	default:
		return 0;
	}
}

static void
test_table(void)
{
	struct reconcile_facts f;
	struct reconcile_decision d;
	struct journal_tx tx;
	struct want w;
	enum journal_step s;
	int v, pay, ref, job, jid, can, reis, res, idok;
	long combos, wrong, broken, refund_after_print, print_after_fail;
	long void_while_live, journal_refuses;
	char name[200];

	combos = refund_after_print = print_after_fail = void_while_live = 0;
	journal_refuses = 0;
	for (v = 0; v < V__MAX; v++) {
		row((enum variant)v, &tx);
		wrong = broken = 0;
		for (pay = 0; pay < RCP__MAX; pay++)
		for (ref = 0; ref < RCR__MAX; ref++)
		for (job = 0; job < RCJ__MAX; job++)
		for (jid = 0; jid < 2; jid++)
		for (can = 0; can < RCX__MAX; can++)
		for (reis = 0; reis < RCC__MAX; reis++)
		for (idok = 0; idok < 2; idok++)
		for (res = 0; res < RCC__MAX; res++) {
			memset(&f, 0, sizeof(f));
			f.pay = (enum reconcile_pay)pay;
			f.refund = (enum reconcile_refund)ref;
			f.job = (enum reconcile_job)job;
			f.job_id = jid ? 12 : 0;
			f.pages = 2;
			f.cancel = (enum reconcile_cancel)can;
			f.reissue = (enum reconcile_center)reis;
			(void)snprintf(f.issuance_id, sizeof(f.issuance_id),
			    "%s", idok ? ISS2 : "not-an-id");
			f.result = (enum reconcile_center)res;
			combos++;
			(void)reconcile_next(&tx, &f, &d);
			w = expect((enum variant)v, &f, idok);
			if (d.action != w.a || (w.a == RA_RECORD_REPORTED &&
			    d.answer != w.ans)) {
				if (wrong++ < 3)
					fprintf(stderr, "%s pay %d refund %d "
					    "job %d id %d cancel %d reissue %d "
					    "result %d: %s, want %s\n",
					    variant_names[v], pay, ref, job,
					    jid, can, reis, res,
					    reconcile_action_name(d.action),
					    reconcile_action_name(w.a));
			}
			if (journal_has(&tx, JS_PRINTED) &&
			    (d.action == RA_REFUND ||
			    d.action == RA_RECORD_REFUNDED ||
			    d.action == RA_RECORD_FAILED ||
			    d.action == RA_REPORT_FAILED))
				refund_after_print++;
			if ((journal_has(&tx, JS_FAILED) ||
			    journal_has(&tx, JS_REFUNDED)) &&
			    (d.action == RA_REPORT_PRINTED ||
			    d.action == RA_RECORD_PRINTED ||
			    (d.action == RA_RECORD_REPORTED &&
			    d.answer == JA_COMMITTED)))
				print_after_fail++;
			if ((f.job == RCJ_PENDING || f.job == RCJ_PROCESSING ||
			    f.job == RCJ_HELD) && tx.last == JS_SPOOLED &&
			    d.action == RA_RECORD_FAILED)
				void_while_live++;
			/* every record the table asks for, the journal takes */
			if (recorded_step(d.action, &s) &&
			    journal_allowed(&tx, s, d.answer) != JOURNAL_OK) {
				journal_refuses++;
				broken++;
			}
			if ((d.action == RA_REPORT_FAILED ||
			    d.action == RA_REPORT_PRINTED) &&
			    (d.issuance_id == NULL ||
			    strlen(d.issuance_id) != 32))
				broken++;
			if (d.action == RA_RECORD_FAILED && d.reason == NULL)
				broken++;
		}
		(void)snprintf(name, sizeof(name), "phase \"%s\": every fact "
		    "combination gets the table's action", variant_names[v]);
		T_CHECK(wrong == 0, name);
		(void)snprintf(name, sizeof(name), "phase \"%s\": every "
		    "decision is one the journal accepts, with its arguments",
		    variant_names[v]);
		T_CHECK(broken == 0, name);
	}
	(void)snprintf(name, sizeof(name), "%ld (phase, facts) combinations "
	    "decided", combos);
	T_CHECK(combos == (long)V__MAX * RCP__MAX * RCR__MAX * RCJ__MAX * 2 *
	    RCX__MAX * RCC__MAX * 2 * RCC__MAX, name);
	T_CHECK(refund_after_print == 0, "never a refund or a void after "
	    "printed");
	T_CHECK(print_after_fail == 0, "never printed reported after failed "
	    "or refunded");
	T_CHECK(void_while_live == 0, "never failed while the job is pending, "
	    "processing or held (cancel first)");
	T_CHECK(journal_refuses == 0, "the table never asks the journal for "
	    "a step it refuses");
}

/* Every (phase, single fact) pair, one line each, as the brief lists. */
static void
test_pairs(void)
{
	struct reconcile_facts f;
	struct reconcile_decision d;
	struct journal_tx tx;
	struct want w;
	int v, k, bad = 0, n = 0;
	char name[200];

	for (v = 0; v < V__MAX; v++) {
		row((enum variant)v, &tx);
		for (k = 0; k < RCJ__MAX + RCC__MAX * 2 + RCP__MAX + RCR__MAX;
		    k++) {
			memset(&f, 0, sizeof(f));
			f.job_id = 12;
			(void)snprintf(f.issuance_id, sizeof(f.issuance_id),
			    "%s", ISS2);
			if (k < RCJ__MAX)
				f.job = (enum reconcile_job)k;
			else if (k < RCJ__MAX + RCC__MAX)
				f.result = (enum reconcile_center)(k - RCJ__MAX);
			else if (k < RCJ__MAX + 2 * RCC__MAX)
				f.reissue = (enum reconcile_center)(k -
				    RCJ__MAX - RCC__MAX);
			else if (k < RCJ__MAX + 2 * RCC__MAX + RCP__MAX)
				f.pay = (enum reconcile_pay)(k - RCJ__MAX -
				    2 * RCC__MAX);
			else
				f.refund = (enum reconcile_refund)(k -
				    RCJ__MAX - 2 * RCC__MAX - RCP__MAX);
			(void)reconcile_next(&tx, &f, &d);
			w = expect((enum variant)v, &f, 1);
			n++;
			if (d.action != w.a)
				bad++;
		}
		(void)snprintf(name, sizeof(name), "phase \"%s\" x each "
		    "single fact: %s first", variant_names[v],
		    reconcile_action_name((memset(&f, 0, sizeof(f)),
		    reconcile_next(&tx, &f, &d))));
		T_CHECK(bad == 0, name);
		bad = 0;
	}
	(void)snprintf(name, sizeof(name), "%d single (phase, fact) pairs", n);
	T_CHECK(n > 300, name);
}

/* --- crash and reconcile against a real journal and coin box ----------- */

enum cstate { CS_NONE, CS_ISSUED, CS_COMMITTED, CS_VOIDED };

struct world {
	struct journal	*j;
	struct payment	*pay;
	int		 center_up, session_alive;
	enum cstate	 center;		/* of our key */
	char		 center_id[33];
	int		 cups_up;
	int		 job_exists;
	enum reconcile_job job;		/* PENDING..CANCELED */
	int		 processing_cancels;	/* cancels a printing job ignores */
	int		 reports, refunds, holds;
};

static enum reconcile_center
center_result(struct world *w, int printed)
{
	if (!w->center_up)
		return RCC_UNREACHABLE;
	if (w->center == CS_NONE)
		return RCC_NOT_FOUND;
	if (w->center == CS_ISSUED)
		w->center = printed ? CS_COMMITTED : CS_VOIDED;
	w->reports++;
	if (w->center == CS_COMMITTED)
		return printed ? RCC_COMMITTED : RCC_CONFLICT;
	return printed ? RCC_CONFLICT : RCC_VOIDED;
}

/* One reconciliation pass: the executor loop the core will run. */
static enum reconcile_action
pass(struct world *w, int64_t id)
{
	struct reconcile_facts f;
	struct reconcile_decision d;
	struct journal_tx tx;
	enum payment_state ps;
	enum payment_rc prc;
	int64_t yen;
	int guard;

	memset(&f, 0, sizeof(f));
	for (guard = 0; guard < 40; guard++) {
		if (journal_get(w->j, id, &tx) != JOURNAL_OK)
			return RA__MAX;
		switch (reconcile_next(&tx, &f, &d)) {
		case RA_NOTHING:
			return RA_NOTHING;
		case RA_ASK_PAYMENT:
			prc = w->pay->ops->query(w->pay, tx.pay_ref, &ps, &yen);
			f.pay = prc != PAYMENT_OK ? RCP_ERROR :
			    ps == PAYMENT_NONE ? RCP_NONE :
			    ps == PAYMENT_TAKEN ? RCP_TAKEN : RCP_REFUNDED;
			break;
		case RA_RECORD_PAID:
			if (journal_paid(w->j, id, tx.fee_yen, tx.pay_ref) !=
			    JOURNAL_OK)
				return RA__MAX;
			break;
		case RA_RECORD_FAILED:
			if (journal_failed(w->j, id, d.reason) != JOURNAL_OK)
				return RA__MAX;
			break;
		case RA_FIND_JOB:
			f.job = !w->cups_up ? RCJ_CUPS_DOWN : !w->job_exists ?
			    RCJ_UNKNOWN : w->job;
			f.job_id = w->job_exists ? 31 : 0;
			f.pages = 2;
			break;
		case RA_RECORD_SPOOLED:
			if (journal_spooled(w->j, id, f.job_id) != JOURNAL_OK)
				return RA__MAX;
			break;
		case RA_ASK_JOB:
			f.job = !w->cups_up ? RCJ_CUPS_DOWN : !w->job_exists ?
			    RCJ_UNKNOWN : w->job;
			f.pages = 2;
			break;
		case RA_CANCEL_JOB:
			if (!w->cups_up)
				f.cancel = RCX_FAILED;
			else {
				f.cancel = RCX_SENT;
				if (w->job == RCJ_PROCESSING &&
				    w->processing_cancels > 0)
					w->processing_cancels--;
				else if (w->job == RCJ_PENDING ||
				    w->job == RCJ_HELD ||
				    w->job == RCJ_PROCESSING)
					w->job = RCJ_CANCELED;
			}
			f.job = RCJ_UNASKED;	/* ask again */
			break;
		case RA_RECORD_PRINTED:
			if (journal_printed(w->j, id, f.pages) != JOURNAL_OK)
				return RA__MAX;
			break;
		case RA_REFUND:
			w->refunds++;
			prc = w->pay->ops->refund(w->pay, tx.paid_yen,
			    tx.pay_ref);
			f.refund = prc == PAYMENT_OK ? RCR_OK :
			    prc == PAYMENT_REFUSED ? RCR_REFUSED : RCR_ERROR;
			break;
		case RA_RECORD_REFUNDED:
			if (journal_refunded(w->j, id, tx.paid_yen) !=
			    JOURNAL_OK)
				return RA__MAX;
			break;
		case RA_REISSUE:
			if (!w->center_up)
				f.reissue = RCC_UNREACHABLE;
			else if (w->center != CS_NONE) {
				f.reissue = RCC_ISSUED;
				(void)snprintf(f.issuance_id,
				    sizeof(f.issuance_id), "%s", w->center_id);
			} else if (w->session_alive) {
				/* the center makes it now: it will be voided */
				w->center = CS_ISSUED;
				f.reissue = RCC_ISSUED;
				(void)snprintf(f.issuance_id,
				    sizeof(f.issuance_id), "%s", w->center_id);
			} else
				f.reissue = RCC_SESSION_EXPIRED;
			break;
		case RA_REPORT_PRINTED:
			f.result = center_result(w, 1);
			break;
		case RA_REPORT_FAILED:
			if (strcmp(d.issuance_id, w->center_id) != 0)
				return RA__MAX;
			f.result = center_result(w, 0);
			break;
		case RA_RECORD_REPORTED:
			if (journal_reported(w->j, id, d.answer,
			    tx.issuance_id[0] == '\0' ? d.issuance_id : NULL) !=
			    JOURNAL_OK)
				return RA__MAX;
			break;
		case RA_FINISH:
			if (journal_finished(w->j, id) != JOURNAL_OK)
				return RA__MAX;
			return RA_FINISH;
		case RA_RETRY_LATER:
			return RA_RETRY_LATER;
		case RA_HOLD:
			w->holds++;
			return RA_HOLD;
		case RA__MAX:
			return RA__MAX;
		}
	}
	return RA__MAX;
}

/* Where the live transaction stopped, and what the world had done. */
struct crash {
	const char	*name;
	int		 upto;		/* journal steps 0 created .. 6 printed */
	int		 taken;		/* the device took the money */
	int		 center;	/* the center holds the issuance */
	int		 job;		/* the job is in CUPS ... */
	enum reconcile_job jstate;	/* ... in this state */
	int		 failed;	/* the live flow had recorded failed */
	int		 refunded_dev;	/* the device had refunded */
	int		 refunded_j;	/* the journal had refunded */
	int		 want_printed;
};

static const struct crash crashes[] = {
	{ "begun, money not taken", 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "begun, money taken, paid not recorded", 0, 1, 0, 0, 0, 0, 0, 0, 0 },
	{ "paid", 1, 1, 0, 0, 0, 0, 0, 0, 0 },
	{ "issuing, request lost", 2, 1, 0, 0, 0, 0, 0, 0, 0 },
	{ "issuing, center issued, answer lost", 2, 1, 1, 0, 0, 0, 0, 0, 0 },
	{ "issued", 3, 1, 1, 0, 0, 0, 0, 0, 0 },
	{ "spooling, never submitted", 4, 1, 1, 0, 0, 0, 0, 0, 0 },
	{ "spooling, submitted, pending", 4, 1, 1, 1, RCJ_PENDING, 0, 0, 0,
	    0 },
	{ "spooling, submitted, completed", 4, 1, 1, 1, RCJ_COMPLETED, 0, 0,
	    0, 1 },
	{ "spooled, pending", 5, 1, 1, 1, RCJ_PENDING, 0, 0, 0, 0 },
	{ "spooled, held", 5, 1, 1, 1, RCJ_HELD, 0, 0, 0, 0 },
	{ "spooled, processing", 5, 1, 1, 1, RCJ_PROCESSING, 0, 0, 0, 0 },
	{ "spooled, completed", 5, 1, 1, 1, RCJ_COMPLETED, 0, 0, 0, 1 },
	{ "spooled, aborted", 5, 1, 1, 1, RCJ_ABORTED, 0, 0, 0, 0 },
	{ "spooled, canceled", 5, 1, 1, 1, RCJ_CANCELED, 0, 0, 0, 0 },
	{ "printed, not reported", 6, 1, 1, 1, RCJ_COMPLETED, 0, 0, 0, 1 },
	{ "failed, not refunded", 5, 1, 1, 1, RCJ_ABORTED, 1, 0, 0, 0 },
	{ "failed, refunded by the device only", 5, 1, 1, 1, RCJ_ABORTED, 1,
	    1, 0, 0 },
	{ "failed, refunded, not reported", 5, 1, 1, 1, RCJ_ABORTED, 1, 1, 1,
	    0 },
	{ "issuing failed refunded, center issued", 2, 1, 1, 0, 0, 1, 1, 1,
	    0 },
};

static int serial;

static int
run_crash(const char *dir, const struct crash *c, int center_up_first,
    int cups_up_first, int session_alive, char *why, size_t whylen)
{
	struct world w;
	struct journal_new nw;
	struct journal_tx tx;
	struct coinbox_summary s;
	char path[600], opts[700], err[256], key[40], ref[40];
	int64_t id;
	enum reconcile_action a;
	int round, ok;

	memset(&w, 0, sizeof(w));
	serial++;
	(void)snprintf(path, sizeof(path), "%s/j%d.db", dir, serial);
	(void)snprintf(opts, sizeof(opts), "ledger=%s/c%d.db", dir, serial);
	if (journal_open(path, JOURNAL_CREATE | JOURNAL_OWNER, &w.j, err,
	    sizeof(err)) != JOURNAL_OK ||
	    (w.pay = payment_coinbox_open(opts, err, sizeof(err))) == NULL) {
		(void)snprintf(why, whylen, "open: %s", err);
		return 0;
	}
	(void)snprintf(w.center_id, sizeof(w.center_id), ISS);
	(void)snprintf(key, sizeof(key), "key-%016d", serial);
	(void)snprintf(ref, sizeof(ref), "ref-%016d", serial);
	memset(&nw, 0, sizeof(nw));
	nw.session = "00112233445566ff/abc123";
	nw.idem_key = key;
	nw.pay_ref = ref;
	nw.doctype = "inkan";
	nw.center_sid = "0123456789abcdef0123456789abcdef";
	nw.options = "{}";
	nw.copies = 1;
	nw.fee_yen = 300;
	ok = journal_begin(w.j, &nw, &id) == JOURNAL_OK;
	/* replay the live transaction up to the crash */
	if (ok && c->taken)
		ok = w.pay->ops->take(w.pay, 300, ref) == PAYMENT_OK;
	if (ok && c->upto >= 1)
		ok = journal_paid(w.j, id, 300, ref) == JOURNAL_OK;
	if (ok && c->upto >= 2)
		ok = journal_issuing(w.j, id) == JOURNAL_OK;
	if (c->center)
		w.center = CS_ISSUED;
	if (ok && c->upto >= 3)
		ok = journal_issued(w.j, id, ISS) == JOURNAL_OK;
	if (ok && c->upto >= 4)
		ok = journal_spooling(w.j, id) == JOURNAL_OK;
	w.job_exists = c->job;
	w.job = c->jstate;
	if (ok && c->upto >= 5)
		ok = journal_spooled(w.j, id, 31) == JOURNAL_OK;
	if (ok && c->upto >= 6)
		ok = journal_printed(w.j, id, 2) == JOURNAL_OK;
	if (ok && c->failed)
		ok = journal_failed(w.j, id, "job_aborted") == JOURNAL_OK;
	if (ok && c->refunded_dev)
		ok = w.pay->ops->refund(w.pay, 300, ref) == PAYMENT_OK;
	if (ok && c->refunded_j)
		ok = journal_refunded(w.j, id, 300) == JOURNAL_OK;
	if (!ok) {
		(void)snprintf(why, whylen, "replay: %s", journal_errmsg(w.j));
		goto done;
	}
	/* the restart: first with the world as it is, then it recovers */
	w.center_up = center_up_first;
	w.cups_up = cups_up_first;
	w.session_alive = session_alive;
	w.processing_cancels = 1;
	ok = 0;
	for (round = 0; round < 6; round++) {
		a = pass(&w, id);
		if (a == RA_FINISH || a == RA_NOTHING) {
			ok = 1;
			break;
		}
		if (a != RA_RETRY_LATER) {
			(void)snprintf(why, whylen, "pass ended with %s (%s)",
			    reconcile_action_name(a), journal_errmsg(w.j));
			goto done;
		}
		w.center_up = w.cups_up = 1;
	}
	if (!ok) {
		(void)snprintf(why, whylen, "never finished");
		goto done;
	}
	ok = 0;
	if (journal_get(w.j, id, &tx) != JOURNAL_OK ||
	    coinbox_summary(w.pay, &s) == -1) {
		(void)snprintf(why, whylen, "read back");
		goto done;
	}
	if (journal_has(&tx, JS_PRINTED) == journal_has(&tx, JS_FAILED)) {
		(void)snprintf(why, whylen, "not exactly one outcome");
		goto done;
	}
	if (c->want_printed) {
		if (!journal_has(&tx, JS_PRINTED) || w.center != CS_COMMITTED ||
		    s.net_yen != 300 || s.refunds != 0 ||
		    tx.answer != JA_COMMITTED) {
			(void)snprintf(why, whylen, "printed: center %d net %"
			    PRId64 " answer %d", w.center, s.net_yen,
			    tx.answer);
			goto done;
		}
	} else {
		if (!journal_has(&tx, JS_FAILED) || w.center == CS_COMMITTED ||
		    w.center == CS_ISSUED || s.net_yen != 0 ||
		    (s.takes == 1) != (s.refunds == 1) ||
		    (journal_has(&tx, JS_PAID) && tx.refunded_yen != 300)) {
			(void)snprintf(why, whylen, "voided: center %d net %"
			    PRId64 " takes %" PRId64 " refunds %" PRId64,
			    w.center, s.net_yen, s.takes, s.refunds);
			goto done;
		}
		/* no paper may come out after the void */
		if (w.job_exists && w.job != RCJ_ABORTED &&
		    w.job != RCJ_CANCELED) {
			(void)snprintf(why, whylen, "voided while the job is "
			    "%s", reconcile_job_name(w.job));
			goto done;
		}
	}
	ok = 1;
done:
	journal_close(w.j);
	if (w.pay != NULL)
		w.pay->ops->close(w.pay);
	return ok;
}

static void
test_crashes(void)
{
	const char *base = getenv("KIOSK_TMP");
	char dir[512], name[300], why[300];
	size_t k;
	int env, ok;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	(void)snprintf(dir, sizeof(dir), "%s/reconcile.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		T_CHECK(0, "mkdtemp");
		return;
	}
	for (k = 0; k < sizeof(crashes) / sizeof(crashes[0]); k++) {
		/* center up/down x CUPS up/down x session alive/expired */
		for (env = 0; env < 8; env++) {
			why[0] = '\0';
			ok = run_crash(dir, &crashes[k], env & 1,
			    (env >> 1) & 1, (env >> 2) & 1, why, sizeof(why));
			(void)snprintf(name, sizeof(name), "crash \"%s\", "
			    "center %s, CUPS %s, session %s: %s%s%s",
			    crashes[k].name, env & 1 ? "up" : "down",
			    env & 2 ? "up" : "down", env & 4 ? "alive" :
			    "expired", crashes[k].want_printed ?
			    "printed, committed, paid" :
			    "voided, refunded", why[0] ? " -- " : "", why);
			T_CHECK(ok, name);
		}
	}
}

int
main(void)
{
	test_table();
	test_pairs();
	test_crashes();
	return t_done();
}
