/*
 * Settlement of journaled transactions; see settle.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "settle.h"

#define RETRY_MIN	2	/* seconds */
#define RETRY_MAX	60
#define ANSWER_WAIT	60	/* a worker that does not answer: unreachable */
#define STEPS_MAX	64	/* decisions per pass: a loop is a bug -> hold */

enum await {
	AW_NONE = 0,
	AW_REPORT,
	AW_REISSUE,
	AW_JOB,
	AW_CANCEL
};

struct item {
	int64_t		 id;
	time_t		 not_before;	/* retry time; 0: now */
	int		 backoff;	/* seconds of the next retry */
};

struct settle {
	struct event_base	*base;
	struct journal		*j;
	struct payment		*pay;
	const struct settle_ops	*ops;
	void			*arg;
	struct item		*q;
	size_t			 n, cap;
	int			 held;

	/* the transaction being settled: q[0] while cur_active */
	int			 cur_active;
	struct reconcile_facts	 facts;
	enum await		 await;
	int			 steps;

	struct event		*kick;		/* run soon, from the loop */
	struct event		*retry;		/* the earliest retry */
	struct event		*answer_to;	/* awaited answer's deadline */
};

static void	run(struct settle *);

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	run(arg);
}

static void
answer_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct settle *st = arg;

	log_warnx("settle: no answer within %d s: taken as unreachable",
	    ANSWER_WAIT);
	switch (st->await) {
	case AW_REPORT:
	case AW_REISSUE:
		settle_center_answer(st, RCC_UNREACHABLE, NULL);
		break;
	case AW_JOB:
		settle_job_answer(st, RCJ_CUPS_DOWN, 0, 0);
		break;
	case AW_CANCEL:
		settle_cancel_answer(st, RCX_FAILED);
		break;
	case AW_NONE:
		break;
	}
}

static void
kick(struct settle *st)
{
	event_active(st->kick, EV_TIMEOUT, 0);
}

struct settle *
settle_new(struct event_base *base, struct journal *j, struct payment *pay,
    const struct settle_ops *ops, void *arg)
{
	struct settle *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->base = base;
	st->j = j;
	st->pay = pay;
	st->ops = ops;
	st->arg = arg;
	st->kick = event_new(base, -1, 0, kick_cb, st);
	st->retry = evtimer_new(base, kick_cb, st);
	st->answer_to = evtimer_new(base, answer_timeout_cb, st);
	if (st->kick == NULL || st->retry == NULL || st->answer_to == NULL) {
		settle_free(st);
		return NULL;
	}
	return st;
}

void
settle_free(struct settle *st)
{
	if (st == NULL)
		return;
	if (st->kick != NULL)
		event_free(st->kick);
	if (st->retry != NULL)
		event_free(st->retry);
	if (st->answer_to != NULL)
		event_free(st->answer_to);
	free(st->q);
	free(st);
}

static int
queued(const struct settle *st, int64_t id)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->q[i].id == id)
			return 1;
	return 0;
}

static int
enqueue(struct settle *st, int64_t id)
{
	struct item *nq;

	if (queued(st, id))
		return 0;
	if (st->n == st->cap) {
		size_t nc = st->cap == 0 ? 16 : st->cap * 2;

		if ((nq = reallocarray(st->q, nc, sizeof(*nq))) == NULL)
			return -1;
		st->q = nq;
		st->cap = nc;
	}
	memset(&st->q[st->n], 0, sizeof(st->q[st->n]));
	st->q[st->n].id = id;
	st->q[st->n].backoff = RETRY_MIN;
	st->n++;
	return 0;
}

int
settle_recover(struct settle *st)
{
	struct journal_tx *txs = NULL;
	size_t n = 0, i;

	if (journal_unfinished(st->j, &txs, &n) != JOURNAL_OK) {
		log_warnx("settle: cannot list unfinished transactions: %s",
		    journal_errmsg(st->j));
		return -1;
	}
	for (i = 0; i < n; i++) {
		log_info("settle: transaction %lld (%s) unfinished at %s",
		    (long long)txs[i].id, txs[i].session,
		    journal_step_name(txs[i].last));
		if (enqueue(st, txs[i].id) == -1) {
			free(txs);
			return -1;
		}
	}
	free(txs);
	kick(st);
	return (int)n;
}

void
settle_add(struct settle *st, int64_t id)
{
	if (enqueue(st, id) == -1) {
		log_warnx("settle: out of memory: transaction %lld waits "
		    "for the next start", (long long)id);
		return;
	}
	kick(st);
}

void
settle_poke(struct settle *st)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		st->q[i].not_before = 0;
		st->q[i].backoff = RETRY_MIN;
	}
	kick(st);
}

int
settle_busy(const struct settle *st, int64_t id)
{
	return queued(st, id);
}

void
settle_counts(const struct settle *st, int *nqueued, int *nheld)
{
	*nqueued = (int)st->n;
	*nheld = st->held;
}

/* Drop q[0] (finished or held). */
static void
pop(struct settle *st)
{
	if (st->n == 0)
		return;
	memmove(&st->q[0], &st->q[1], (st->n - 1) * sizeof(st->q[0]));
	st->n--;
	st->cur_active = 0;
	st->await = AW_NONE;
	memset(&st->facts, 0, sizeof(st->facts));
	if (st->ops->changed != NULL)
		st->ops->changed(st->arg);
}

/* q[0] waits: it goes to the back with a later retry time. */
static void
later(struct settle *st, const char *why)
{
	struct item it = st->q[0];

	log_info("settle: transaction %lld: %s; retry in %d s",
	    (long long)it.id, why, it.backoff);
	it.not_before = time(NULL) + it.backoff;
	it.backoff = it.backoff * 2 > RETRY_MAX ? RETRY_MAX : it.backoff * 2;
	memmove(&st->q[0], &st->q[1], (st->n - 1) * sizeof(st->q[0]));
	st->q[st->n - 1] = it;
	st->cur_active = 0;
	st->await = AW_NONE;
	memset(&st->facts, 0, sizeof(st->facts));
}

static void
wait_answer(struct settle *st, enum await a)
{
	struct timeval tv = { ANSWER_WAIT, 0 };

	st->await = a;
	evtimer_add(st->answer_to, &tv);
}

static void
recorded(struct settle *st, const struct journal_tx *tx, const char *what,
    enum journal_rc rc, enum journal_step step)
{
	if (rc == JOURNAL_OK) {
		log_info("settle: transaction %lld: %s", (long long)tx->id,
		    what);
		if (st->ops->recorded != NULL)
			st->ops->recorded(st->arg, step);
	} else
		log_warnx("settle: transaction %lld: %s not recorded: %s (%s)",
		    (long long)tx->id, what, journal_rc_name(rc),
		    journal_errmsg(st->j));
}

/*
 * One decision for q[0].  Returns 1 to take the next decision at once, 0
 * when an answer is awaited or the row left the head of the queue.
 */
static int
decide_one(struct settle *st)
{
	struct journal_tx tx;
	struct reconcile_decision d;
	struct reconcile_facts *f = &st->facts;
	enum payment_state ps;
	enum payment_rc pr;
	enum journal_rc jr = JOURNAL_OK;
	int64_t yen = 0;

	if ((jr = journal_get(st->j, st->q[0].id, &tx)) != JOURNAL_OK) {
		if (jr == JOURNAL_NOT_FOUND) {
			log_warnx("settle: transaction %lld is not in the "
			    "journal", (long long)st->q[0].id);
			pop(st);
		} else
			later(st, "journal unreadable");
		return 0;
	}
	if (++st->steps > STEPS_MAX) {
		st->held++;
		log_warnx("settle: transaction %lld HELD after %d decisions "
		    "at %s: an operator must look", (long long)tx.id,
		    STEPS_MAX, journal_step_name(tx.last));
		pop(st);
		return 0;
	}
	reconcile_next(&tx, f, &d);
	log_debug("settle: transaction %lld at %s: %s%s%s", (long long)tx.id,
	    journal_step_name(tx.last), reconcile_action_name(d.action),
	    d.reason != NULL ? " " : "", d.reason != NULL ? d.reason : "");
	switch (d.action) {
	case RA_NOTHING:
		pop(st);
		return 0;
	case RA_FINISH:
		jr = journal_finished(st->j, tx.id);
		recorded(st, &tx, "finished", jr, JS_FINISHED);
		if (jr != JOURNAL_OK) {
			later(st, "journal write failed");
			return 0;
		}
		pop(st);
		return 0;
	case RA_ASK_PAYMENT:
		pr = st->pay->ops->query(st->pay, tx.pay_ref, &ps, &yen);
		if (pr != PAYMENT_OK)
			f->pay = RCP_ERROR;
		else
			f->pay = ps == PAYMENT_TAKEN ? RCP_TAKEN :
			    ps == PAYMENT_REFUNDED ? RCP_REFUNDED : RCP_NONE;
		return 1;
	case RA_RECORD_PAID:
		jr = journal_paid(st->j, tx.id, tx.fee_yen, tx.pay_ref);
		recorded(st, &tx, "paid (found at the payment device)", jr,
		    JS_PAID);
		break;
	case RA_RECORD_FAILED:
		jr = journal_failed(st->j, tx.id, d.reason != NULL ? d.reason :
		    "interrupted");
		recorded(st, &tx, "failed", jr, JS_FAILED);
		break;
	case RA_FIND_JOB:
		if (st->ops->job_find(st->arg, tx.issuance_id) == -1) {
			f->job = RCJ_CUPS_DOWN;
			return 1;
		}
		wait_answer(st, AW_JOB);
		return 0;
	case RA_RECORD_SPOOLED:
		jr = journal_spooled(st->j, tx.id, f->job_id);
		recorded(st, &tx, "spooled (job found by name)", jr,
		    JS_SPOOLED);
		break;
	case RA_ASK_JOB:
		if (st->ops->job_query(st->arg, tx.job_id) == -1) {
			f->job = RCJ_CUPS_DOWN;
			return 1;
		}
		wait_answer(st, AW_JOB);
		return 0;
	case RA_CANCEL_JOB:
		if (st->ops->job_cancel(st->arg, tx.job_id) == -1) {
			f->cancel = RCX_FAILED;
			f->job = RCJ_UNASKED;
			return 1;
		}
		wait_answer(st, AW_CANCEL);
		return 0;
	case RA_RECORD_PRINTED:
		jr = journal_printed(st->j, tx.id, f->pages);
		recorded(st, &tx, "printed (CUPS completed the job)", jr,
		    JS_PRINTED);
		break;
	case RA_REFUND:
		pr = st->pay->ops->refund(st->pay, tx.paid_yen, tx.pay_ref);
		f->refund = pr == PAYMENT_OK ? RCR_OK :
		    pr == PAYMENT_REFUSED ? RCR_REFUSED : RCR_ERROR;
		if (pr == PAYMENT_OK)
			log_info("settle: transaction %lld: %lld yen refunded",
			    (long long)tx.id, (long long)tx.paid_yen);
		return 1;
	case RA_RECORD_REFUNDED:
		jr = journal_refunded(st->j, tx.id, tx.paid_yen);
		recorded(st, &tx, "refunded", jr, JS_REFUNDED);
		break;
	case RA_REISSUE:
		if (st->ops->reissue(st->arg, &tx) == -1) {
			f->reissue = RCC_UNREACHABLE;
			return 1;
		}
		wait_answer(st, AW_REISSUE);
		return 0;
	case RA_REPORT_PRINTED:
	case RA_REPORT_FAILED:
		if (st->ops->report(st->arg, d.action == RA_REPORT_PRINTED ?
		    tx.issuance_id : d.issuance_id, d.action ==
		    RA_REPORT_PRINTED, tx.pages) == -1) {
			f->result = RCC_UNREACHABLE;
			return 1;
		}
		wait_answer(st, AW_REPORT);
		return 0;
	case RA_RECORD_REPORTED:
		jr = journal_reported(st->j, tx.id, d.answer, d.issuance_id);
		recorded(st, &tx, journal_answer_name(d.answer), jr,
		    JS_REPORTED);
		break;
	case RA_RETRY_LATER:
		later(st, d.reason != NULL ? d.reason : "retry later");
		return 0;
	case RA_HOLD:
	case RA__MAX:
		st->held++;
		log_warnx("settle: transaction %lld HELD at %s: %s: an "
		    "operator must look", (long long)tx.id,
		    journal_step_name(tx.last), d.reason != NULL ? d.reason :
		    "contradiction");
		pop(st);
		return 0;
	}
	if (jr != JOURNAL_OK) {
		later(st, "journal write failed");
		return 0;
	}
	return 1;
}

static void
run(struct settle *st)
{
	struct timeval tv;
	time_t now, first;
	size_t i;

	if (st->await != AW_NONE)
		return;		/* an answer is on its way */
	now = time(NULL);
	while (st->n > 0) {
		if (!st->cur_active) {
			/* the first row that is due goes to the head */
			for (i = 0; i < st->n; i++)
				if (st->q[i].not_before <= now)
					break;
			if (i == st->n)
				break;
			if (i != 0) {
				struct item it = st->q[i];

				memmove(&st->q[1], &st->q[0],
				    i * sizeof(st->q[0]));
				st->q[0] = it;
			}
			st->cur_active = 1;
			st->steps = 0;
			memset(&st->facts, 0, sizeof(st->facts));
		}
		if (!decide_one(st))
			if (st->await != AW_NONE)
				return;
	}
	/* nothing due now: wake at the earliest retry */
	if (st->n > 0) {
		first = st->q[0].not_before;
		for (i = 1; i < st->n; i++)
			if (st->q[i].not_before < first)
				first = st->q[i].not_before;
		tv.tv_sec = first > now ? first - now : 0;
		tv.tv_usec = 0;
		evtimer_add(st->retry, &tv);
	}
}

static int
answer_ok(struct settle *st, enum await a, const char *what)
{
	if (st->await != a || !st->cur_active || st->n == 0) {
		log_debug("settle: unexpected %s answer dropped", what);
		return 0;
	}
	evtimer_del(st->answer_to);
	st->await = AW_NONE;
	return 1;
}

void
settle_center_answer(struct settle *st, enum reconcile_center rc,
    const char *issuance_id)
{
	if (st->await == AW_REISSUE) {
		if (!answer_ok(st, AW_REISSUE, "re-issue"))
			return;
		st->facts.reissue = rc;
		if (rc == RCC_ISSUED && issuance_id != NULL)
			snprintf(st->facts.issuance_id,
			    sizeof(st->facts.issuance_id), "%s", issuance_id);
	} else {
		if (!answer_ok(st, AW_REPORT, "result"))
			return;
		st->facts.result = rc;
	}
	kick(st);
}

void
settle_job_answer(struct settle *st, enum reconcile_job job, int64_t job_id,
    int pages)
{
	if (!answer_ok(st, AW_JOB, "job"))
		return;
	st->facts.job = job;
	st->facts.job_id = job_id;
	st->facts.pages = pages;
	kick(st);
}

void
settle_cancel_answer(struct settle *st, enum reconcile_cancel c)
{
	if (!answer_ok(st, AW_CANCEL, "cancel"))
		return;
	st->facts.cancel = c;
	st->facts.job = RCJ_UNASKED;	/* ask again what became of it */
	kick(st);
}

void
settle_backend_down(struct settle *st)
{
	if (st->await == AW_REPORT || st->await == AW_REISSUE)
		settle_center_answer(st, RCC_UNREACHABLE, NULL);
}

void
settle_printer_down(struct settle *st)
{
	if (st->await == AW_JOB)
		settle_job_answer(st, RCJ_CUPS_DOWN, 0, 0);
	else if (st->await == AW_CANCEL)
		settle_cancel_answer(st, RCX_FAILED);
}
