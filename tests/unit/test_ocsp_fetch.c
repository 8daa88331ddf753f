/*
 * ocsp_fetch.c: the pool that asks OCSP off the center's workers.  The
 * query here is a function of the test that blocks until released, so
 * what is asked, shared, expired, refused and answered is exact; the
 * real responder is asked through it in tests/integration/center.sh.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ocsp_fetch.h"
#include "t.h"

/* The fake responder: counts and holds queries until released. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int held;		/* queries blocked in fake_query */
static int hold = 1;		/* block new queries */
static int asked;		/* queries made */
static int last_timeout_ms;
static time_t last_now;
static char last_der[64];

static void
fake_query(void *ctx, const void *subject, time_t now, int timeout_ms,
    struct jpki_ocsp_answer *a)
{
	const char *der = subject;
	size_t len = strlen(der);

	(void)ctx;
	(void)pthread_mutex_lock(&mu);
	asked++;
	last_timeout_ms = timeout_ms;
	last_now = now;
	(void)snprintf(last_der, sizeof(last_der), "%.*s", (int)len, der);
	held++;
	(void)pthread_cond_broadcast(&cv);
	while (hold)
		(void)pthread_cond_wait(&cv, &mu);
	held--;
	(void)pthread_mutex_unlock(&mu);
	memset(a, 0, sizeof(*a));
	a->status = strncmp(der, "revoked", len) == 0 ?
	    JPKI_OCSP_REVOKED : JPKI_OCSP_GOOD;
	a->revoked_at = a->status == JPKI_OCSP_REVOKED ? 1000 : 0;
	a->reason = -1;
}

static void
set_hold(int h)
{
	(void)pthread_mutex_lock(&mu);
	hold = h;
	(void)pthread_cond_broadcast(&cv);
	(void)pthread_mutex_unlock(&mu);
}

/* Wait until n queries are held in fake_query (at most ~5 s). */
static int
wait_held(int n)
{
	struct timespec ts;
	int ok;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	(void)pthread_mutex_lock(&mu);
	while (held < n && pthread_cond_timedwait(&cv, &mu, &ts) == 0)
		;
	ok = held >= n;
	(void)pthread_mutex_unlock(&mu);
	return ok;
}

/* One waiter's outcome. */
struct got {
	int			 calls;
	struct jpki_ocsp_answer	 a;
};
static pthread_mutex_t gmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gcv = PTHREAD_COND_INITIALIZER;

static void
on_done(void *arg, const struct jpki_ocsp_answer *a)
{
	struct got *g = arg;

	(void)pthread_mutex_lock(&gmu);
	g->calls++;
	g->a = *a;
	(void)pthread_cond_broadcast(&gcv);
	(void)pthread_mutex_unlock(&gmu);
}

/* Wait until every one of the n outcomes has its answer (~5 s). */
static int
wait_got(struct got *g, size_t n)
{
	struct timespec ts;
	size_t i;
	int ok = 0;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	(void)pthread_mutex_lock(&gmu);
	for (;;) {
		for (i = 0; i < n && g[i].calls > 0; i++)
			;
		if ((ok = i == n))
			break;
		if (pthread_cond_timedwait(&gcv, &gmu, &ts) != 0)
			break;
	}
	(void)pthread_mutex_unlock(&gmu);
	return ok;
}

/* A 64-hex "SHA-256" for certificate number n. */
static const char *
sha(int n)
{
	static char buf[8][65];
	static int k;
	char *s = buf[k++ % 8];

	(void)snprintf(s, 65, "%064x", n);
	return s;
}

static int
submit(struct ocsp_fetch *f, const char *der, int n, time_t now,
    struct got *g)
{
	return ocsp_fetch_submit(f, der, sha(n), now, on_done, g);
}

static void
test_answer_and_sharing(void)
{
	struct ocsp_fetch *f;
	struct ocsp_fetch_stats st;
	struct got g[4];
	char err[128];
	int i, ok;

	memset(g, 0, sizeof(g));
	asked = 0;
	set_hold(1);
	f = ocsp_fetch_new(fake_query, NULL, 2, 0, 3000, err, sizeof(err));
	T_CHECK(f != NULL, "pool of 2 threads made");
	if (f == NULL)
		return;
	T_CHECK(submit(f, "card-1", 1, 12345, &g[0]) == 0, "query submitted");
	T_CHECK(wait_held(1), "... and asked");
	T_CHECK(last_now == 12345 && strcmp(last_der, "card-1") == 0 &&
	    last_timeout_ms > 2500 && last_timeout_ms <= 3000,
	    "... about its certificate, at its time, within the timeout");
	/* the same certificate while asked: no second query */
	ok = 1;
	for (i = 1; i < 3; i++)
		ok = ok && submit(f, "card-1", 1, 12346, &g[i]) == 0;
	T_CHECK(ok, "the same certificate twice more: submitted");
	T_CHECK(submit(f, "revoked", 2, 12347, &g[3]) == 0,
	    "another certificate: submitted");
	T_CHECK(wait_held(2), "... and asked by the second thread");
	set_hold(0);
	T_CHECK(wait_got(g, 4), "every waiter answered");
	ok = 1;
	for (i = 0; i < 3; i++)
		ok = ok && g[i].calls == 1 && g[i].a.status == JPKI_OCSP_GOOD;
	T_CHECK(ok, "the three waiters for card-1 got its answer, once each");
	T_CHECK(g[3].calls == 1 && g[3].a.status == JPKI_OCSP_REVOKED &&
	    g[3].a.revoked_at == 1000, "the other got its own answer");
	ocsp_fetch_get_stats(f, &st);
	T_CHECK(asked == 2 && st.queries == 2 && st.shared == 2 &&
	    st.expired == 0 && st.refused == 0,
	    "two queries made, two answers shared");
	ocsp_fetch_free(f);
}

static void
test_deadline(void)
{
	struct ocsp_fetch *f;
	struct ocsp_fetch_stats st;
	struct got g[2];
	char err[128];

	memset(g, 0, sizeof(g));
	asked = 0;
	set_hold(1);
	/* one thread, 300 ms per query: the second waits behind the first */
	f = ocsp_fetch_new(fake_query, NULL, 1, 0, 300, err, sizeof(err));
	if (f == NULL) {
		T_CHECK(0, "pool of 1 thread made");
		return;
	}
	(void)submit(f, "card-1", 1, 1, &g[0]);
	(void)wait_held(1);
	(void)submit(f, "card-2", 2, 1, &g[1]);
	(void)usleep(450 * 1000);	/* past the second one's deadline */
	set_hold(0);
	T_CHECK(wait_got(g, 2), "both answered");
	T_CHECK(g[0].a.status == JPKI_OCSP_GOOD, "the first: its answer");
	T_CHECK(g[1].a.status == JPKI_OCSP_UNAVAILABLE &&
	    strstr(g[1].a.err, "no answer in time") != NULL,
	    "the second, queued past its deadline: unavailable, not asked");
	ocsp_fetch_get_stats(f, &st);
	T_CHECK(asked == 1 && st.queries == 1 && st.expired == 1,
	    "one query made, one expired in the queue");
	ocsp_fetch_free(f);
}

static void
test_full_and_stop(void)
{
	static struct got g[OCSP_FETCH_QUEUE_MAX + 2];
	struct ocsp_fetch *f;
	struct ocsp_fetch_stats st;
	struct got late;
	char err[128];
	int i, ok, stopped;

	memset(g, 0, sizeof(g));
	memset(&late, 0, sizeof(late));
	asked = 0;
	set_hold(1);
	f = ocsp_fetch_new(fake_query, NULL, 1, 0, 30000, err, sizeof(err));
	if (f == NULL) {
		T_CHECK(0, "pool made");
		return;
	}
	(void)submit(f, "card-0", 0, 1, &g[0]);
	(void)wait_held(1);
	ok = 1;
	for (i = 1; i <= OCSP_FETCH_QUEUE_MAX; i++)
		ok = ok && submit(f, "card", i, 1, &g[i]) == 0;
	T_CHECK(ok, "a full queue of distinct certificates taken");
	T_CHECK(submit(f, "card", OCSP_FETCH_QUEUE_MAX + 1, 1,
	    &g[OCSP_FETCH_QUEUE_MAX + 1]) == -1,
	    "one more: refused at once (the caller answers unavailable)");
	T_CHECK(submit(f, "card", 5, 1, &late) == 0,
	    "a queued certificate again: shares its query, not refused");
	/* stop: what is queued is answered now, the query in flight ends */
	ocsp_fetch_stop(f);
	stopped = 1;
	for (i = 1; i <= OCSP_FETCH_QUEUE_MAX; i++)
		stopped = stopped && g[i].calls == 1 &&
		    g[i].a.status == JPKI_OCSP_UNAVAILABLE &&
		    strstr(g[i].a.err, "stopping") != NULL;
	T_CHECK(stopped && late.calls == 1,
	    "stop: every queued waiter answered unavailable, once");
	T_CHECK(g[0].calls == 0, "stop: the query in flight is not cut short");
	T_CHECK(submit(f, "card", 99999, 1, &late) == -1,
	    "stop: new queries refused");
	set_hold(0);
	T_CHECK(wait_got(g, 1) && g[0].a.status == JPKI_OCSP_GOOD,
	    "stop: the query in flight answered when it ends");
	ocsp_fetch_get_stats(f, &st);
	T_CHECK(st.queries == 1 && st.refused == 2 && st.shared == 1,
	    "stats: one query, two refused, one shared");
	ocsp_fetch_free(f);
	T_CHECK(g[OCSP_FETCH_QUEUE_MAX + 1].calls == 0,
	    "a refused query never gets an answer callback");
}

static void
test_inline(void)
{
	struct ocsp_fetch *f;
	struct ocsp_fetch_stats st;
	char err[128];
	int a, b, c, d;

	if ((f = ocsp_fetch_new(fake_query, NULL, 1, 2, 1000, err,
	    sizeof(err))) == NULL) {
		T_CHECK(0, "pool with 2 inline slots made");
		return;
	}
	a = ocsp_fetch_inline_begin(f);
	b = ocsp_fetch_inline_begin(f);
	c = ocsp_fetch_inline_begin(f);
	T_CHECK(a == 1 && b == 1 && c == 0,
	    "2 inline slots: two callers ask themselves, the third submits");
	ocsp_fetch_inline_end(f);
	d = ocsp_fetch_inline_begin(f);
	T_CHECK(d == 1, "a slot given back is taken again");
	ocsp_fetch_inline_end(f);
	ocsp_fetch_inline_end(f);
	ocsp_fetch_stop(f);
	T_CHECK(ocsp_fetch_inline_begin(f) == 0, "stopped: no inline slot");
	ocsp_fetch_get_stats(f, &st);
	T_CHECK(st.inline_asked == 3 && st.queries == 0,
	    "stats: 3 inline, none by the pool");
	ocsp_fetch_free(f);
}

static void
test_bad_arguments(void)
{
	struct ocsp_fetch *f;
	struct got g;
	char err[128];

	T_CHECK(ocsp_fetch_new(fake_query, NULL, 0, 0, 1000, err,
	    sizeof(err)) == NULL && ocsp_fetch_new(NULL, NULL, 1, 0, 1000,
	    err, sizeof(err)) == NULL && ocsp_fetch_new(fake_query, NULL,
	    1, -1, 1000, err, sizeof(err)) == NULL &&
	    ocsp_fetch_new(fake_query, NULL, OCSP_FETCH_THREADS_MAX + 1,
	    0, 1000, err, sizeof(err)) == NULL,
	    "bad thread counts, inline slots and no query: refused");
	if ((f = ocsp_fetch_new(fake_query, NULL, 1, 0, 1000, err,
	    sizeof(err))) == NULL)
		return;
	memset(&g, 0, sizeof(g));
	T_CHECK(ocsp_fetch_submit(f, NULL, sha(1), 1, on_done, &g) == -1 &&
	    ocsp_fetch_submit(f, "x", "abc", 1, on_done, &g) == -1 &&
	    ocsp_fetch_submit(f, "x", sha(1), 1, NULL, &g) == -1,
	    "no certificate, short hash, no callback: refused");
	ocsp_fetch_free(f);
	T_CHECK(g.calls == 0, "... and never answered");
}

int
main(void)
{
	test_answer_and_sharing();
	test_deadline();
	test_full_and_stop();
	test_inline();
	test_bad_arguments();
	return t_done();
}
