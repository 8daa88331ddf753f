/*
 * The simulated kiosks: each runs transactions one after the other on its
 * own kept-alive connection, session -> auth (a real RSA signature over
 * the challenge by the card's key) -> issue (one idempotency key per
 * logical transaction, re-sent unchanged until an answer settles it) ->
 * result (the same outcome until the center confirms it).  With --faults,
 * requests are abandoned (client timeout), connections are dropped (the
 * kiosk's backend torn down mid-request), answered requests are replayed
 * with the same key, and centers are killed and restarted.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "backend.h"
#include "docverify.h"
#include "load.h"
#include "log.h"

enum step {
	ST_SESSION = 0,
	ST_AUTH = 1,
	ST_ISSUE = 2,
	ST_RESULT = 3,
	ST_REPLAY_ISSUE,
	ST_REPLAY_RESULT,
	ST_STATUS
};

enum fault {
	F_NONE,
	F_CANCEL,	/* the kiosk stops waiting: a client timeout */
	F_DROP		/* the kiosk's connection dies mid-request */
};

struct kiosk {
	struct run		*r;
	int			 idx;
	char			 id[32];
	char			 cert[PATH_MAX];
	char			 key[PATH_MAX];
	struct backend_config	 bc;
	struct backend		*b;
	struct card		 cards[LOAD_CARDS_MAX];
	int			 ncards;
	int			 next_card;
	struct txn		*tx;
	enum step		 step;
	uint64_t		 req;		/* pending request, 0: none */
	uint64_t		 t_req;
	int			 tries;		/* of the current step */
	struct event		*timer;
	void			(*action)(struct kiosk *);
	struct event		*fault;
	enum fault		 fault_kind;
	int			 finished;
	int			 parked;	/* waits for the warm-up's end */
	/* --status-only */
	uint64_t		 status_end;
	long			 status_ok, status_err;
};

static void	kiosk_next(struct kiosk *);
static void	warmup_ended(struct run *);
static void	do_session(struct kiosk *);
static void	do_auth_retry(struct kiosk *);
static void	do_issue(struct kiosk *);
static void	do_result(struct kiosk *);
static void	tx_end(struct kiosk *, enum tx_final, const char *why);

static char	 ca_path[PATH_MAX];

struct card *
run_card(struct run *r, const struct txn *t)
{
	return &r->kiosks[t->kiosk].cards[t->card];
}

const char *
run_kiosk_id(struct run *r, const struct txn *t)
{
	return r->kiosks[t->kiosk].id;
}

/* ---- plumbing ---- */

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct kiosk	*k = arg;
	void		(*fn)(struct kiosk *) = k->action;

	(void)fd;
	(void)ev;
	k->action = NULL;
	if (fn != NULL)
		fn(k);
}

static void
schedule(struct kiosk *k, void (*fn)(struct kiosk *), int delay_ms)
{
	struct timeval	 tv;

	tv.tv_sec = delay_ms / 1000;
	tv.tv_usec = (delay_ms % 1000) * 1000;
	k->action = fn;
	if (evtimer_add(k->timer, &tv) == -1)
		fatalx("cannot arm a timer");
}

static int
backoff_ms(struct kiosk *k)
{
	int	 t = k->tries < 7 ? k->tries : 7;

	return (10 << t) + (int)rng_below(&k->r->rng, 10);
}

static int
ensure_backend(struct kiosk *k)
{
	char	 err[256];

	if (k->b != NULL)
		return 0;
	if ((k->b = backend_new(k->r->base, &k->bc, err, sizeof(err))) ==
	    NULL) {
		log_warnx("kiosk %s: %s", k->id, err);
		return -1;
	}
	return 0;
}

/* Called after every submit: maybe arm an injected fault. */
static void fault_cb(evutil_socket_t, short, void *);

static void
submitted(struct kiosk *k, enum step st, uint64_t id)
{
	struct run	*r = k->r;
	struct timeval	 tv;

	k->step = st;
	k->req = id;
	k->t_req = now_us();
	k->fault_kind = F_NONE;
	if (!r->cfg->faults || id == 0 || st == ST_STATUS ||
	    rng_unit(&r->rng) >= r->cfg->fault_rate)
		return;
	k->fault_kind = rng_below(&r->rng, 2) == 0 ? F_CANCEL : F_DROP;
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)rng_below(&r->rng, 15) * 1000;
	if (evtimer_add(k->fault, &tv) == -1)
		k->fault_kind = F_NONE;
}

/* An answer (or error) arrived for k->req. */
static uint32_t
answered(struct kiosk *k)
{
	uint64_t	 dt = now_us() - k->t_req;

	k->req = 0;
	if (k->fault_kind != F_NONE) {
		evtimer_del(k->fault);
		k->fault_kind = F_NONE;
	}
	return dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
}

/* A request's latency, unless its transaction is part of the warm-up. */
static void
req_sample(struct kiosk *k, int step, uint32_t dt)
{
	if (k->tx != NULL && (long)k->tx->no >= k->r->cfg->warmup)
		(void)samples_add(&k->r->lat_req[step], dt);
}

static void	handle_error(struct kiosk *, const struct backend_error *);

static void
fault_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct kiosk		*k = arg;
	struct backend		*old;
	struct backend_error	 e;
	enum fault		 f = k->fault_kind;

	(void)fd;
	(void)ev;
	k->fault_kind = F_NONE;
	if (k->req == 0 || f == F_NONE)
		return;
	if (f == F_CANCEL) {
		k->r->c.f_cancel++;
		(void)backend_cancel(k->b, k->req);
		k->req = 0;
		memset(&e, 0, sizeof(e));
		e.kind = BACKEND_E_TIMEOUT;
		e.maybe_processed = 1;
		(void)snprintf(e.message, sizeof(e.message), "client "
		    "timeout (injected)");
		handle_error(k, &e);
	} else {
		/* The pending callback runs inside backend_free() with
		   BACKEND_E_SHUTDOWN; it only schedules the retry. */
		k->r->c.f_drop++;
		old = k->b;
		k->b = NULL;
		backend_free(old);
	}
}

/* ---- transactions ---- */

static int
transient(const struct backend_error *e)
{
	switch (e->kind) {
	case BACKEND_E_CONNECT:
	case BACKEND_E_TLS:
	case BACKEND_E_IO:
	case BACKEND_E_TIMEOUT:
	case BACKEND_E_SHUTDOWN:
	case BACKEND_E_PROTOCOL:
	case BACKEND_E_INTERNAL:
		return 1;
	case BACKEND_E_SERVER:
		return e->http_status >= 500;
	case BACKEND_OK:
		break;
	}
	return 0;
}

static void
set_why(struct txn *t, const char *what, const struct backend_error *e)
{
	txn_why(t, "%s: %s%s%s", what,
	    e->kind == BACKEND_E_SERVER ? e->code : backend_errkind_name(e->kind),
	    e->reason[0] != '\0' ? "/" : "", e->reason);
}

static int
past_deadline(struct kiosk *k)
{
	return k->tx != NULL && now_us() > k->tx->deadline_us;
}

static void
handle_error(struct kiosk *k, const struct backend_error *e)
{
	struct run	*r = k->r;
	struct txn	*t = k->tx;

	if (t == NULL)
		return;
	r->c.retries++;
	t->retries++;
	switch (k->step) {
	case ST_SESSION:
	case ST_AUTH:
		set_why(t, k->step == ST_SESSION ? "session" : "auth", e);
		if (transient(e) || (e->kind == BACKEND_E_SERVER &&
		    (strcmp(e->code, "session_used") == 0 ||
		    strcmp(e->code, "challenge_expired") == 0 ||
		    strcmp(e->code, "not_found") == 0 ||
		    strcmp(e->code, "store_busy") == 0 ||
		    strcmp(e->code, "busy") == 0))) {
			if (past_deadline(k)) {
				tx_end(k, TX_GAVE_UP, NULL);
				return;
			}
			k->tries++;
			schedule(k, do_auth_retry, backoff_ms(k));
			return;
		}
		tx_end(k, TX_REFUSED, NULL);
		return;
	case ST_ISSUE:
	case ST_REPLAY_ISSUE:
		set_why(t, "issue", e);
		if (transient(e) || (e->kind == BACKEND_E_SERVER &&
		    (strcmp(e->code, "store_busy") == 0 ||
		    strcmp(e->code, "busy") == 0))) {
			if (past_deadline(k)) {
				tx_end(k, TX_GAVE_UP, NULL);
				return;
			}
			k->tries++;
			/* a replay that failed in transit: go on */
			schedule(k, k->step == ST_REPLAY_ISSUE && t->have_issuance ?
			    do_result : do_issue, backoff_ms(k));
			return;
		}
		if (strcmp(e->code, "idempotency_conflict") == 0)
			t->duplicated = 1;	/* our one key, two requests? */
		if (t->have_issuance) {
			/* the center refuses a key it answered before */
			t->lost = 1;
			tx_end(k, TX_GAVE_UP, NULL);
			return;
		}
		tx_end(k, TX_REFUSED, NULL);
		return;
	case ST_RESULT:
	case ST_REPLAY_RESULT:
		set_why(t, "result", e);
		if (transient(e) || (e->kind == BACKEND_E_SERVER &&
		    (strcmp(e->code, "store_busy") == 0 ||
		    strcmp(e->code, "busy") == 0))) {
			if (k->step == ST_REPLAY_RESULT) {
				tx_end(k, TX_DONE, NULL);
				return;
			}
			if (past_deadline(k)) {
				tx_end(k, TX_GAVE_UP, NULL);
				return;
			}
			k->tries++;
			schedule(k, do_result, backoff_ms(k));
			return;
		}
		if (strcmp(e->code, "wrong_kiosk") == 0)
			t->wrong_person = 1;
		else
			t->lost = 1;	/* not_found, result_conflict */
		if (k->step == ST_REPLAY_RESULT) {
			tx_end(k, TX_DONE, NULL);
			return;
		}
		tx_end(k, TX_GAVE_UP, NULL);
		return;
	case ST_STATUS:
		break;
	}
}

/* --trace: one line per ended transaction, times from the run's start */
static void
trace_tx(struct run *r, const struct kiosk *k, const struct txn *t)
{
	static const char *const fin[] = { "running", "done", "refused",
	    "gave_up" };
	uint64_t t0 = (uint64_t)(r->t0 * 1e6);

	fprintf(r->trace, "%u %s %s %.3f %.3f %s\n", t->no, k->id,
	    (long)t->no < r->cfg->warmup ? "warmup" : "measured",
	    (double)(t->t_start_us - t0) / 1e3,
	    (double)(now_us() - t0) / 1e3,
	    t->final < sizeof(fin) / sizeof(fin[0]) ? fin[t->final] : "?");
}

static void
tx_end(struct kiosk *k, enum tx_final fin, const char *why)
{
	struct run	*r = k->r;
	struct txn	*t = k->tx;
	uint64_t	 dt;

	if (t == NULL)
		return;
	if (why != NULL)
		txn_why(t, "%s", why);
	t->final = (uint8_t)fin;
	switch (fin) {
	case TX_DONE:
		dt = now_us() - t->t_start_us;
		t->lat_us = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
		r->c.done++;
		if ((long)t->no < r->cfg->warmup)
			break;
		r->measured++;
		if (samples_add(&r->lat_tx, t->lat_us) == -1)
			fatalx("out of memory");
		break;
	case TX_REFUSED:
		r->c.refused++;
		if (r->cfg->verbose)
			log_warnx("kiosk %s: transaction %u refused: %s", k->id,
			    t->no, t->why);
		break;
	case TX_GAVE_UP:
		r->c.gave_up++;
		if (r->cfg->verbose)
			log_warnx("kiosk %s: transaction %u given up: %s",
			    k->id, t->no, t->why);
		break;
	case TX_RUNNING:
		break;
	}
	k->tx = NULL;
	k->tries = 0;
	if (fin != TX_RUNNING && r->trace != NULL)
		trace_tx(r, k, t);
	if (fin != TX_RUNNING && (long)t->no < r->cfg->warmup &&
	    --r->warm_open == 0)
		warmup_ended(r);
	kiosk_next(k);
}

/*
 * The measured part begins when every warm-up transaction has ended: the
 * kiosks' TLS handshakes, the centers' first OCSP answer for each card
 * and the backlog they make are behind it, and its clock (and, with
 * --rate, its schedule) starts from here.  A kiosk that finished its
 * warm-up earlier waits parked.
 */
static void
release_parked(struct run *r)
{
	int i;

	for (i = 0; i < r->nkiosks; i++)
		if (r->kiosks[i].parked) {
			r->kiosks[i].parked = 0;
			kiosk_next(&r->kiosks[i]);
		}
}

static void
warmup_ended(struct run *r)
{
	r->measure0_us = now_us();
	r->tm = (double)r->measure0_us / 1e6;
	release_parked(r);
}

static void
tx_begin(struct kiosk *k)
{
	uint64_t now = now_us();

	/*
	 * libevent times a timer from the loop's cached clock, which lags
	 * behind while callbacks run: the start may come a little early.
	 */
	if (k->tx != NULL && now < k->tx->t_start_us)
		k->tx->t_start_us = now;
	k->tries = 0;
	do_session(k);
}

static void
kiosk_next(struct kiosk *k)
{
	struct run	*r = k->r;
	const struct load_config *cfg = r->cfg;
	struct txn	*t;
	uint64_t	 now = now_us(), at;
	long		 no;

	if (r->interrupted || r->next_tx >= cfg->transactions) {
		if (!k->finished) {
			k->finished = 1;
			if (--r->active == 0)
				event_base_loopbreak(r->base);
		}
		return;
	}
	if (r->next_tx >= cfg->warmup && r->warm_open > 0) {
		k->parked = 1;
		return;
	}
	no = r->next_tx++;
	r->c.started++;
	/* however short the run, a faulted one kills a center at least once */
	if (r->kill_ev != NULL && r->c.f_kill == 0 && !r->kill_restarting &&
	    no == cfg->transactions / 4) {
		evtimer_del(r->kill_ev);
		event_active(r->kill_ev, EV_TIMEOUT, 1);
	}
	t = &r->tx[no];
	memset(t, 0, sizeof(*t));
	t->no = (uint32_t)no;
	t->kiosk = k->idx;
	t->card = k->next_card;
	k->next_card = (k->next_card + 1) % k->ncards;
	t->doc = (int)rng_below(&r->rng, (uint32_t)cfg->ndocs);
	t->copies = 1 + (int)rng_below(&r->rng, 2);
	t->outcome = rng_unit(&r->rng) < cfg->void_rate ? OUT_FAILED :
	    OUT_PRINTED;
	t->corrupt = cfg->self_test_corrupt && t->no == r->corrupt_no;
	k->tx = t;
	at = now;
	if (cfg->rate > 0) {
		if (no < cfg->warmup)
			at = (uint64_t)(r->t0 * 1e6) + (uint64_t)((double)no *
			    1e6 / cfg->rate);
		else
			at = r->measure0_us + (uint64_t)((double)(no -
			    cfg->warmup) * 1e6 / cfg->rate);
		if (at < now)
			at = now;	/* behind schedule: start at once */
	}
	t->t_start_us = at;
	t->deadline_us = at + (uint64_t)cfg->tx_timeout_ms * 1000;
	if (at > now)
		schedule(k, tx_begin, (int)((at - now + 999) / 1000));
	else
		tx_begin(k);
}

/* -- session and auth -- */

static void
on_auth(const struct backend_error *e, const struct backend_auth *a, void *arg)
{
	struct kiosk	*k = arg;
	struct txn	*t = k->tx;
	struct card	*cd;
	uint32_t	 dt = answered(k);

	if (e->kind != BACKEND_OK) {
		handle_error(k, e);
		return;
	}
	req_sample(k, ST_AUTH, dt);
	cd = &k->cards[t->card];
	if (cd->res_name[0] == '\0')
		(void)snprintf(cd->res_name, sizeof(cd->res_name), "%s",
		    a->display_name);	/* no database: learn it once */
	else if (strcmp(cd->res_name, a->display_name) != 0) {
		t->wrong_person = 1;
		txn_why(t, "auth answered for "
		    "another resident");
	}
	k->tries = 0;
	do_issue(k);
}

/* The card's signature is made (cardpool.c): answer the challenge. */
static void
on_card_signed(void *arg, const uint8_t *sig, size_t siglen, double secs)
{
	struct kiosk	*k = arg;
	struct run	*r = k->r;
	struct txn	*t = k->tx;
	struct card	*cd = &k->cards[t->card];
	uint64_t	 id;

	if (sig == NULL)
		fatalx("card %s: RSA signature failed", cd->name);
	r->c.sign_s += secs;
	r->c.signatures++;
	if (ensure_backend(k) == -1) {
		tx_end(k, TX_GAVE_UP, "no backend");
		return;
	}
	id = backend_auth(k->b, t->session_id, cd->der, cd->derlen, sig, siglen,
	    on_auth, k);
	if (id == 0)
		fatalx("kiosk %s: cannot queue auth", k->id);
	submitted(k, ST_AUTH, id);
}

static void
on_session(const struct backend_error *e, const struct backend_session *s,
    void *arg)
{
	struct kiosk	*k = arg;
	struct txn	*t = k->tx;
	uint32_t	 dt = answered(k);

	if (e->kind != BACKEND_OK) {
		handle_error(k, e);
		return;
	}
	req_sample(k, ST_SESSION, dt);
	memcpy(t->session_id, s->session_id, sizeof(t->session_id));
	memcpy(t->challenge, s->challenge, sizeof(t->challenge));
	t->sessions++;
	/*
	 * The card: sha256WithRSAEncryption over the raw challenge, made by
	 * a signer thread as a card would on its own chip.  No request of
	 * this kiosk is in flight meanwhile, so nothing else moves it.
	 */
	if (cardpool_sign(k->r->cards, k->cards[t->card].key, t->challenge,
	    on_card_signed, k) == -1)
		fatalx("kiosk %s: cannot queue a card signature", k->id);
}

static void
do_session(struct kiosk *k)
{
	uint64_t	 id;

	if (ensure_backend(k) == -1) {
		tx_end(k, TX_GAVE_UP, "no backend");
		return;
	}
	if ((id = backend_session_new(k->b, on_session, k)) == 0)
		fatalx("kiosk %s: cannot queue a session", k->id);
	submitted(k, ST_SESSION, id);
}

static void
do_auth_retry(struct kiosk *k)
{
	if (k->tx->sessions > 0)
		k->r->c.sessions_extra++;
	do_session(k);
}

/* -- issue -- */

static void
on_issue(const struct backend_error *e, const struct backend_issuance *is,
    void *arg)
{
	struct kiosk	*k = arg;
	struct run	*r = k->r;
	struct txn	*t = k->tx;
	const struct card *cd;
	struct card	 fake;
	enum step	 st = k->step;
	uint8_t		 sha[32];
	unsigned int	 mdlen;
	uint32_t	 dt = answered(k);

	if (e->kind != BACKEND_OK) {
		handle_error(k, e);
		return;
	}
	req_sample(k, ST_ISSUE, dt);
	if (EVP_Digest(is->content, is->content_len, sha, &mdlen, EVP_sha256(),
	    NULL) != 1)
		fatalx("SHA-256 failed");
	if (t->have_issuance) {
		/* a retry or replay of the same key: the very same issuance */
		if (strcmp(t->issuance_id, is->issuance_id) != 0 ||
		    memcmp(t->content_sha, sha, 32) != 0 || is->created) {
			t->duplicated = 1;
			txn_why(t, "same key "
			    "answered with another issuance or new bytes");
		}
	} else {
		/*
		 * --self-test-corrupt: check this one document against the
		 * next card as if the kiosk had read that card: a binding
		 * for another card must be caught.
		 */
		cd = &k->cards[t->card];
		if (t->corrupt) {
			if (k->ncards > 1)
				cd = &k->cards[(t->card + 1) % k->ncards];
			else if (r->nkiosks > 1)
				cd = &r->kiosks[(k->idx + 1) %
				    r->nkiosks].cards[0];
			else {
				fake = *cd;
				fake.sha256[0] ^= 1;
				cd = &fake;
			}
		}
		(void)check_document(r, t, cd, k->id, is);
		memcpy(t->issuance_id, is->issuance_id, sizeof(t->issuance_id));
		memcpy(t->content_sha, sha, 32);
		t->have_issuance = 1;
	}
	k->tries = 0;
	if (st == ST_ISSUE && r->cfg->faults &&
	    rng_unit(&r->rng) < r->cfg->fault_rate) {
		/* the same request again, as a kiosk that lost the answer */
		r->c.f_replay++;
		if ((k->req = backend_issue(k->b, t->session_id,
		    r->cfg->docs[t->doc], "{}", t->copies, t->idem, on_issue,
		    k)) == 0)
			fatalx("kiosk %s: cannot queue an issue", k->id);
		submitted(k, ST_REPLAY_ISSUE, k->req);
		return;
	}
	do_result(k);
}

static void
do_issue(struct kiosk *k)
{
	struct run	*r = k->r;
	struct txn	*t = k->tx;
	uint8_t		 rnd[4];
	uint64_t	 id;

	if (t->idem[0] == '\0') {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			fatalx("RAND_bytes failed");
		(void)snprintf(t->idem, sizeof(t->idem), "kl-%s-%u-%02x%02x%02x"
		    "%02x", r->runid, t->no, rnd[0], rnd[1], rnd[2], rnd[3]);
	}
	if (ensure_backend(k) == -1) {
		tx_end(k, TX_GAVE_UP, "no backend");
		return;
	}
	t->issue_sent = 1;
	if ((id = backend_issue(k->b, t->session_id, r->cfg->docs[t->doc], "{}",
	    t->copies, t->idem, on_issue, k)) == 0)
		fatalx("kiosk %s: cannot queue an issue", k->id);
	submitted(k, ST_ISSUE, id);
}

/* -- result -- */

static void
on_result(const struct backend_error *e, const struct backend_result *res,
    void *arg)
{
	struct kiosk	*k = arg;
	struct run	*r = k->r;
	struct txn	*t = k->tx;
	enum step	 st = k->step;
	uint32_t	 dt = answered(k);
	int		 want = t->outcome == OUT_PRINTED ? 1 : 2;
	int		 got;

	if (e->kind != BACKEND_OK) {
		handle_error(k, e);
		return;
	}
	req_sample(k, ST_RESULT, dt);
	got = res->committed ? 1 : 2;
	if (strcmp(res->issuance_id, t->issuance_id) != 0 || got != want) {
		t->lost = 1;
		txn_why(t, "result answered %s "
		    "for %s", res->committed ? "committed" : "voided",
		    res->issuance_id);
	}
	if (st == ST_RESULT) {
		t->result_state = got;
		if (r->cfg->faults && rng_unit(&r->rng) < r->cfg->fault_rate) {
			r->c.f_replay++;
			k->req = backend_result(k->b, t->issuance_id,
			    t->outcome == OUT_PRINTED ? BACKEND_PRINTED :
			    BACKEND_FAILED, t->outcome == OUT_PRINTED ?
			    t->copies : 0, on_result, k);
			if (k->req == 0)
				fatalx("kiosk %s: cannot queue a result",
				    k->id);
			submitted(k, ST_REPLAY_RESULT, k->req);
			return;
		}
	}
	tx_end(k, TX_DONE, NULL);
}

static void
do_result(struct kiosk *k)
{
	struct txn	*t = k->tx;
	uint64_t	 id;

	if (ensure_backend(k) == -1) {
		tx_end(k, TX_GAVE_UP, "no backend");
		return;
	}
	id = backend_result(k->b, t->issuance_id, t->outcome == OUT_PRINTED ?
	    BACKEND_PRINTED : BACKEND_FAILED, t->outcome == OUT_PRINTED ?
	    t->copies : 0, on_result, k);
	if (id == 0)
		fatalx("kiosk %s: cannot queue a result", k->id);
	submitted(k, ST_RESULT, id);
}

/* ---- centers killed and restarted ---- */

/*
 * One timer kills the next center, then restart_delay later starts it
 * again, then waits kill_interval before the next kill.
 */
static void
killer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct run	*r = arg;
	struct fleet	*f = r->fleet;
	struct timeval	 tv;
	int		 i, ms;

	(void)fd;
	(void)ev;
	if (r->interrupted || r->active == 0)
		return;
	if (r->kill_restarting) {
		for (i = 0; i < f->ncenters; i++)
			if (f->centers[i].pid <= 0 &&
			    fleet_spawn_center(f, i) == -1)
				log_warnx("center %d: restart failed", i);
		r->kill_restarting = 0;
		ms = r->cfg->kill_interval_ms;
	} else {
		i = r->kill_next;
		r->kill_next = (i + 1) % f->ncenters;
		if (fleet_kill_center(f, i) == 0) {
			r->c.f_kill++;
			if (r->cfg->verbose)
				log_info("center %d killed", i);
			/* it may have left the responder a half request */
			fleet_restart_ocsp(f);
		}
		r->kill_restarting = 1;
		ms = r->cfg->restart_delay_ms;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(r->kill_ev, &tv) == -1)
		log_warnx("cannot re-arm the center killer");
}

/* ---- progress, watchdog and signals ---- */

static void
watch_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct run	*r = arg;

	(void)fd;
	(void)ev;
	(void)fleet_check_ocsp(r->fleet);
}

static void
progress_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct run	*r = arg;
	double		 t = now_s() - r->t0;

	(void)fd;
	(void)ev;
	fprintf(stderr, "kiosk-load: %6.1f s  done %ld/%ld  %.0f tx/s  "
	    "retries %ld  faults %ld/%ld/%ld/%ld\n", t, r->c.done,
	    r->cfg->transactions, (double)(r->c.done - r->progress_last) / 2.0,
	    r->c.retries, r->c.f_cancel, r->c.f_drop, r->c.f_replay,
	    r->c.f_kill);
	r->progress_last = r->c.done;
}

/* Signals are counted by a plain handler (load_signals), polled here. */
static void
sig_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct run	*r = arg;

	(void)fd;
	(void)ev;
	if (load_signals <= r->interrupted)
		return;
	r->interrupted = load_signals;
	if (r->interrupted > 1) {
		log_warnx("interrupted again: stopping now");
		event_base_loopbreak(r->base);
		return;
	}
	log_warnx("interrupted: finishing the transactions in flight");
	release_parked(r);	/* they finish at once */
}

/* ---- set-up ---- */

static int
kiosks_setup(struct run *r, const char *url, int with_cards)
{
	const struct load_config *cfg = r->cfg;
	struct fleet	*f = r->fleet;
	char		 err[512];
	int		 i;

	if ((size_t)snprintf(ca_path, sizeof(ca_path), "%s/center-ca.crt",
	    f->pki) >= sizeof(ca_path))
		return -1;
	if ((r->kiosks = calloc((size_t)cfg->kiosks, sizeof(*r->kiosks))) ==
	    NULL)
		return -1;
	r->nkiosks = cfg->kiosks;
	for (i = 0; i < cfg->kiosks; i++) {
		struct kiosk *k = &r->kiosks[i];

		k->r = r;
		k->idx = i;
		fleet_kiosk_id(i, k->id, sizeof(k->id));
		if ((size_t)snprintf(k->cert, sizeof(k->cert),
		    "%s/kiosks/%s/kiosk.crt", f->pki, k->id) >=
		    sizeof(k->cert) || (size_t)snprintf(k->key,
		    sizeof(k->key), "%s/kiosks/%s/kiosk.key", f->pki, k->id) >=
		    sizeof(k->key))
			return -1;
		k->bc.url = url != NULL ? url : cfg->urls[i % cfg->nurls];
		k->bc.ca_file = ca_path;
		k->bc.cert_file = k->cert;
		k->bc.key_file = k->key;
		k->bc.timeout_ms = cfg->timeout_ms;
		k->bc.max_attempts = 3;
		k->bc.idle_max_ms = 60000;
		if ((k->timer = evtimer_new(r->base, timer_cb, k)) == NULL ||
		    (k->fault = evtimer_new(r->base, fault_cb, k)) == NULL)
			return -1;
		if (ensure_backend(k) == -1)
			return -1;
		if (with_cards) {
			k->ncards = cfg->cards_per_kiosk;
			if (fleet_load_cards(f, i, k->ncards, k->cards, err,
			    sizeof(err)) == -1) {
				log_warnx("kiosk %s: %s", k->id, err);
				return -1;
			}
			if (f->db[0] != '\0' && fleet_card_residents(f->db,
			    k->cards, (size_t)k->ncards, err, sizeof(err)) ==
			    -1) {
				log_warnx("%s", err);
				return -1;
			}
		}
	}
	return 0;
}

static int
common_setup(struct run *r)
{
	struct timeval	 tv = { 0, 100000 };

	if ((r->base = event_base_new()) == NULL)
		return -1;
	if ((r->sig_poll = event_new(r->base, -1, EV_PERSIST, sig_cb, r)) ==
	    NULL || evtimer_add(r->sig_poll, &tv) == -1)
		return -1;
	return 0;
}

void
run_free(struct run *r)
{
	int	 i, c;

	if (r->kiosks != NULL) {
		for (i = 0; i < r->nkiosks; i++) {
			struct kiosk *k = &r->kiosks[i];

			backend_free(k->b);
			if (k->timer != NULL)
				event_free(k->timer);
			if (k->fault != NULL)
				event_free(k->fault);
			for (c = 0; c < k->ncards; c++)
				fleet_free_card(&k->cards[c]);
		}
		free(r->kiosks);
		r->kiosks = NULL;
	}
	if (r->kill_ev != NULL)
		event_free(r->kill_ev);
	if (r->progress_ev != NULL)
		event_free(r->progress_ev);
	if (r->watch_ev != NULL)
		event_free(r->watch_ev);
	r->watch_ev = NULL;
	if (r->sig_poll != NULL)
		event_free(r->sig_poll);
	r->kill_ev = r->progress_ev = r->sig_poll = NULL;
	cardpool_free(r->cards);
	r->cards = NULL;
	docverify_key_free(r->dockey);
	r->dockey = NULL;
	if (r->base != NULL)
		event_base_free(r->base);
	r->base = NULL;
}

int
run_transactions(struct run *r)
{
	const struct load_config *cfg = r->cfg;
	struct fleet	*f = r->fleet;
	char		 path[PATH_MAX], err[256];
	uint8_t		 rnd[LOAD_RUNID_LEN / 2];
	struct timeval	 tv;
	int		 i;

	if (common_setup(r) == -1) {
		log_warnx("cannot set up the event loop");
		return -1;
	}
	if (cfg->trace != NULL) {
		if ((r->trace = fopen(cfg->trace, "w")) == NULL) {
			log_warn("%s", cfg->trace);
			return -1;
		}
		fprintf(r->trace, "# no kiosk phase start_ms end_ms final\n");
	}
	if ((r->cards = cardpool_new(r->base, LOAD_SIGNERS)) == NULL) {
		log_warnx("cannot start the card signers");
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/docsign.crt", f->pki) >=
	    sizeof(path) || (r->dockey = docverify_key_load(path, err,
	    sizeof(err))) == NULL) {
		log_warnx("document key %s: %s", path, err);
		return -1;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	for (i = 0; i < (int)sizeof(rnd); i++)
		(void)snprintf(r->runid + 2 * i, 3, "%02x", rnd[i]);
	rng_seed(&r->rng, cfg->seed);
	if ((r->tx = calloc((size_t)cfg->transactions, sizeof(*r->tx))) ==
	    NULL) {
		log_warnx("out of memory for %ld transactions",
		    cfg->transactions);
		return -1;
	}
	if (kiosks_setup(r, cfg->nurls > 0 ? NULL : f->url, 1) == -1)
		return -1;
	r->corrupt_no = (uint32_t)(cfg->transactions / 2);
	if (cfg->faults && f->ncenters > 0 && cfg->kill_interval_ms > 0) {
		if ((r->kill_ev = evtimer_new(r->base, killer_cb, r)) == NULL)
			return -1;
		r->kill_next = 0;
		tv.tv_sec = cfg->kill_interval_ms / 1000;
		tv.tv_usec = (cfg->kill_interval_ms % 1000) * 1000;
		if (evtimer_add(r->kill_ev, &tv) == -1)
			return -1;
	}
	if (f->ncenters > 0) {
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		if ((r->watch_ev = event_new(r->base, -1, EV_PERSIST,
		    watch_cb, r)) == NULL ||
		    evtimer_add(r->watch_ev, &tv) == -1)
			return -1;
	}
	if (!cfg->quiet) {
		tv.tv_sec = 2;
		tv.tv_usec = 0;
		if ((r->progress_ev = event_new(r->base, -1, EV_PERSIST,
		    progress_cb, r)) == NULL ||
		    evtimer_add(r->progress_ev, &tv) == -1)
			return -1;
	}
	r->wall0 = time(NULL);
	r->t0 = r->tm = now_s();
	r->measure0_us = (uint64_t)(r->t0 * 1e6);
	r->warm_open = cfg->warmup < cfg->transactions ? cfg->warmup :
	    cfg->transactions;
	r->active = r->nkiosks;
	r->interrupted = load_signals;
	for (i = 0; i < r->nkiosks; i++)
		kiosk_next(&r->kiosks[i]);
	if (r->active > 0 && event_base_dispatch(r->base) == -1) {
		log_warnx("event loop failed");
		return -1;
	}
	r->t1 = now_s();
	if (r->kill_ev != NULL)
		evtimer_del(r->kill_ev);
	/* a center killed last is started again for the reconciliation */
	for (i = 0; i < f->ncenters; i++)
		if (f->centers[i].pid <= 0)
			(void)fleet_spawn_center(f, i);
	if (r->trace != NULL && fclose(r->trace) == EOF) {
		r->trace = NULL;
		log_warn("%s", cfg->trace);
		return -1;
	}
	r->trace = NULL;
	return 0;
}

/* ---- --status-only ---- */

static void do_status(struct kiosk *);

static void
on_status(const struct backend_error *e, const struct backend_status *st,
    void *arg)
{
	struct kiosk	*k = arg;
	struct run	*r = k->r;
	uint32_t	 dt = answered(k);

	(void)st;
	if (e->kind != BACKEND_OK) {
		k->status_err++;
		if (r->cfg->verbose)
			log_warnx("kiosk %s: status: %s", k->id, e->message);
		schedule(k, do_status, 10);
		return;
	}
	k->status_ok++;
	if (samples_add(&r->lat_tx, dt) == -1)
		fatalx("out of memory");
	do_status(k);
}

static void
do_status(struct kiosk *k)
{
	struct run	*r = k->r;
	uint64_t	 id;

	if (r->interrupted || now_us() >= k->status_end) {
		if (!k->finished) {
			k->finished = 1;
			if (--r->active == 0)
				event_base_loopbreak(r->base);
		}
		return;
	}
	if (ensure_backend(k) == -1) {
		schedule(k, do_status, 100);
		return;
	}
	if ((id = backend_status(k->b, on_status, k)) == 0)
		fatalx("kiosk %s: cannot queue a status request", k->id);
	submitted(k, ST_STATUS, id);
}

int
run_status(struct load_config *cfg, struct fleet *f, const char *url)
{
	struct run	 r;
	uint64_t	 end;
	long		 ok = 0, errs = 0;
	double		 secs, p50, p99;
	int		 i, ret = -1;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.fleet = f;
	rng_seed(&r.rng, cfg->seed);
	if (common_setup(&r) == -1 || kiosks_setup(&r, url, 0) == -1) {
		log_warnx("cannot set up the status run");
		goto out;
	}
	r.t0 = now_s();
	r.interrupted = load_signals;
	end = now_us() + (uint64_t)(cfg->duration * 1e6);
	r.active = r.nkiosks;
	for (i = 0; i < r.nkiosks; i++) {
		r.kiosks[i].status_end = end;
		do_status(&r.kiosks[i]);
	}
	if (event_base_dispatch(r.base) == -1)
		goto out;
	r.t1 = now_s();
	for (i = 0; i < r.nkiosks; i++) {
		ok += r.kiosks[i].status_ok;
		errs += r.kiosks[i].status_err;
	}
	secs = r.t1 - r.t0;
	p50 = samples_pct_ms(&r.lat_tx, 50);
	p99 = samples_pct_ms(&r.lat_tx, 99);
	if (cfg->json)
		printf("{\"mode\":\"status\",\"url\":\"%s\",\"connections\":%d,"
		    "\"requests\":%ld,\"errors\":%ld,\"seconds\":%.3f,"
		    "\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n", url,
		    r.nkiosks, ok, errs, secs, secs > 0 ? ok / secs : 0, p50,
		    p99);
	printf("requests=%ld rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%ld\n",
	    ok, secs > 0 ? ok / secs : 0, p50, p99, errs);
	fflush(stdout);
	ret = ok > 0 && !r.interrupted ? 0 : -1;
out:
	samples_free(&r.lat_tx);
	run_free(&r);
	return ret;
}
