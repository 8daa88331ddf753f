/*
 * Settlement (kioskd/settle.c) on a real journal and a real coin box
 * ledger on disk, with the workers played by fakes that answer from the
 * event loop as the real ones do.  Each case starts from a journal row
 * left where a session (or a crash) left it and asserts where it ends: the
 * journal's steps, the center's answers asked for, and the money.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "journal.h"
#include "payment.h"
#include "settle.h"
#include "t.h"

#define KEY	"00112233445566778899aabbccddeeff"
#define CSID	"0123456789abcdef0123456789abcdef"
#define IID	"fedcba9876543210fedcba9876543210"

static struct event_base *base;
static struct settle *st;

/* The fakes: what the center and CUPS answer, and what was asked. */
static struct {
	enum reconcile_center	 report, reissue;
	enum reconcile_job	 job;
	int			 pages;
	enum reconcile_cancel	 cancel;
	int			 center_down_first;	/* N unreachable answers */
	int			 n_report, n_reissue, n_query, n_find, n_cancel;
	int			 last_printed;
	char			 last_iid[40];
	/* the pending answer */
	int			 kind;	/* 1 center, 2 job, 3 cancel */
	enum reconcile_center	 c;
	char			 c_iid[40];
} F;

static struct event *answer_ev;

static void
answer_cb(evutil_socket_t fd, short what, void *arg)
{
	switch (F.kind) {
	case 1:
		settle_center_answer(st, F.c, F.c_iid);
		break;
	case 2:
		settle_job_answer(st, F.job, 0, F.pages);
		break;
	case 3:
		settle_cancel_answer(st, F.cancel);
		if (F.cancel == RCX_SENT)
			F.job = RCJ_CANCELED;
		break;
	}
}

static void
answer(int kind)
{
	F.kind = kind;
	event_active(answer_ev, EV_TIMEOUT, 0);
}

static int
f_report(void *arg, const char *iid, int printed, int pages)
{
	F.n_report++;
	F.last_printed = printed;
	snprintf(F.last_iid, sizeof(F.last_iid), "%s", iid);
	F.c = F.report;
	if (F.center_down_first > 0) {
		F.center_down_first--;
		F.c = RCC_UNREACHABLE;
	}
	F.c_iid[0] = '\0';
	answer(1);
	return 0;
}

static int
f_reissue(void *arg, const struct journal_tx *tx)
{
	F.n_reissue++;
	F.c = F.reissue;
	snprintf(F.c_iid, sizeof(F.c_iid), "%s", IID);
	answer(1);
	return 0;
}

static int
f_job_query(void *arg, int64_t id)
{
	F.n_query++;
	answer(2);
	return 0;
}

static int
f_job_find(void *arg, const char *name)
{
	F.n_find++;
	answer(2);
	return 0;
}

static int
f_job_cancel(void *arg, int64_t id)
{
	F.n_cancel++;
	answer(3);
	return 0;
}

static const struct settle_ops ops = {
	.report = f_report, .reissue = f_reissue, .job_query = f_job_query,
	.job_find = f_job_find, .job_cancel = f_job_cancel
};

static char dir[256];
static int ncase;

struct world {
	struct journal	*j;
	struct payment	*pay;
	int64_t		 id;
};

/* A fresh journal and ledger with one row taken up to `upto`. */
static void
world(struct world *w, enum journal_step upto, int paid_at_device)
{
	char jp[512], opts[600], err[256];
	struct journal_new n;

	ncase++;
	snprintf(jp, sizeof(jp), "%s/j%d.db", dir, ncase);
	snprintf(opts, sizeof(opts), "ledger=%s/c%d.db", dir, ncase);
	memset(w, 0, sizeof(*w));
	if (journal_open(jp, JOURNAL_CREATE | JOURNAL_OWNER, &w->j, err,
	    sizeof(err)) != JOURNAL_OK ||
	    (w->pay = payment_coinbox_open(opts, err, sizeof(err))) == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		exit(2);
	}
	memset(&n, 0, sizeof(n));
	n.session = "0011223344556677/abcd";
	n.idem_key = KEY;
	n.pay_ref = KEY;
	n.doctype = "juminhyo";
	n.center_sid = CSID;
	n.options = "{\"members\":[]}";
	n.copies = 1;
	n.fee_yen = 200;
	journal_begin(w->j, &n, &w->id);
	if (paid_at_device)
		w->pay->ops->take(w->pay, 200, KEY);
	if (upto >= JS_PAID)
		journal_paid(w->j, w->id, 200, KEY);
	if (upto >= JS_ISSUING)
		journal_issuing(w->j, w->id);
	if (upto >= JS_ISSUED)
		journal_issued(w->j, w->id, IID);
	if (upto >= JS_SPOOLING)
		journal_spooling(w->j, w->id);
	if (upto >= JS_SPOOLED)
		journal_spooled(w->j, w->id, 42);
	if (upto == JS_PRINTED)
		journal_printed(w->j, w->id, 2);
	if (upto == JS_FAILED)
		journal_failed(w->j, w->id, "job_aborted");
	memset(&F, 0, sizeof(F));
	F.report = RCC_COMMITTED;
	F.reissue = RCC_ISSUED;
	st = settle_new(base, w->j, w->pay, &ops, NULL);
}

/* Run the loop until the row is finished (or seconds pass). */
static int
settled(struct world *w, int seconds)
{
	struct journal_tx tx;
	int i;

	for (i = 0; i < seconds * 20; i++) {
		struct timeval tv = { 0, 50000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
		if (journal_get(w->j, w->id, &tx) == JOURNAL_OK &&
		    journal_has(&tx, JS_FINISHED))
			return 1;
	}
	return 0;
}

static void
done(struct world *w)
{
	settle_free(st);
	st = NULL;
	w->pay->ops->close(w->pay);
	journal_close(w->j);
}

static int
money(struct world *w, int64_t net, int64_t refunds)
{
	struct coinbox_summary s;

	return coinbox_summary(w->pay, &s) == 0 && s.net_yen == net &&
	    s.refunds == refunds;
}

static enum journal_answer
answer_of(struct world *w)
{
	struct journal_tx tx;

	journal_get(w->j, w->id, &tx);
	return tx.answer;
}

int
main(void)
{
	struct world w;
	struct journal_tx tx;
	const char *tmp = getenv("KIOSK_TMP");

	snprintf(dir, sizeof(dir), "%s/settle.XXXXXX", tmp != NULL ? tmp :
	    "/tmp");
	if (tmp != NULL)
		(void)mkdir(tmp, 0700);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	base = event_base_new();
	answer_ev = event_new(base, -1, 0, answer_cb, NULL);

	/* printed: reported printed, committed; the fee stays */
	world(&w, JS_PRINTED, 1);
	settle_add(st, w.id);
	T_CHECK(settled(&w, 5) && F.n_report == 1 && F.last_printed &&
	    strcmp(F.last_iid, IID) == 0 && answer_of(&w) == JA_COMMITTED &&
	    money(&w, 200, 0), "printed: committed, fee kept, finished");
	done(&w);

	/* failed at the printer: refund first, then the void */
	world(&w, JS_FAILED, 1);
	F.report = RCC_VOIDED;
	settle_add(st, w.id);
	T_CHECK(settled(&w, 5) && F.n_report == 1 && !F.last_printed &&
	    answer_of(&w) == JA_VOIDED && money(&w, 0, 1),
	    "job aborted: refunded, voided, finished");
	done(&w);

	/* the center holds the other outcome: the paper is the truth */
	world(&w, JS_FAILED, 1);
	F.report = RCC_COMMITTED;
	settle_add(st, w.id);
	T_CHECK(settled(&w, 5) && answer_of(&w) == JA_CONFLICT &&
	    money(&w, 0, 1), "failed but center committed: conflict recorded, "
	    "refund stands");
	done(&w);

	/* spooled, job still pending: cancelled first, then voided */
	world(&w, JS_SPOOLED, 1);
	F.job = RCJ_PENDING;
	F.cancel = RCX_SENT;
	F.report = RCC_VOIDED;
	settle_add(st, w.id);
	T_CHECK(settled(&w, 5) && F.n_cancel == 1 && F.n_query >= 2 &&
	    answer_of(&w) == JA_VOIDED && money(&w, 0, 1),
	    "pending job: cancelled, then refunded and voided");
	done(&w);

	/* spooled and completed while kioskd was down: printed */
	world(&w, JS_SPOOLED, 1);
	F.job = RCJ_COMPLETED;
	F.pages = 2;
	settle_add(st, w.id);
	T_CHECK(settled(&w, 5) && F.n_cancel == 0 && F.last_printed &&
	    answer_of(&w) == JA_COMMITTED && money(&w, 200, 0),
	    "job completed meanwhile: reported printed, no refund");
	done(&w);

	/* issuing without an id: refund, re-issue with the same key, void
	   the issuance the center made */
	world(&w, JS_ISSUING, 1);
	F.report = RCC_VOIDED;
	settle_add(st, w.id);
	T_CHECK(settled(&w, 5) && F.n_reissue == 1 && F.n_report == 1 &&
	    strcmp(F.last_iid, IID) == 0 && !F.last_printed &&
	    answer_of(&w) == JA_VOIDED && money(&w, 0, 1),
	    "in flight at the center: re-asked with the key, voided, refunded");
	journal_get(w.j, w.id, &tx);
	T_CHECK(strcmp(tx.issuance_id, IID) == 0,
	    "the learned issuance id is journaled");
	done(&w);

	/* the take's answer was lost: the device is asked, then refunded */
	world(&w, JS_CREATED, 1);
	F.reissue = RCC_SESSION_EXPIRED;
	settle_add(st, w.id);
	T_CHECK(settled(&w, 5) && money(&w, 0, 1) && F.n_report == 0,
	    "taken but not journaled: found at the device, refunded");
	done(&w);

	/* never taken: nothing to refund, nothing asked of the center */
	world(&w, JS_CREATED, 0);
	settle_add(st, w.id);
	T_CHECK(settled(&w, 5) && money(&w, 0, 0) && F.n_report == 0 &&
	    F.n_reissue == 0, "not paid: finished, no refund, no report");
	done(&w);

	/* the center down: nothing lost, retried until it answers */
	world(&w, JS_PRINTED, 1);
	F.center_down_first = 1;
	settle_add(st, w.id);
	T_CHECK(!settled(&w, 1) && F.n_report == 1,
	    "center down: not finished, waiting");
	T_CHECK(settled(&w, 5) && F.n_report == 2 &&
	    answer_of(&w) == JA_COMMITTED && money(&w, 200, 0),
	    "center back: reported, finished once");
	done(&w);

	/* at start: every unfinished row, in one pass */
	world(&w, JS_PRINTED, 1);
	T_CHECK(settle_recover(st) == 1 && settled(&w, 5) &&
	    answer_of(&w) == JA_COMMITTED, "recover: unfinished row settled");
	T_CHECK(settle_recover(st) == 0, "recover: nothing left");
	done(&w);

	event_free(answer_ev);
	event_base_free(base);
	return t_done();
}
