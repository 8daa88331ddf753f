/*
 * OCSP queries off the workers; see ocsp_fetch.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocsp_fetch.h"

struct waiter {
	ocsp_fetch_done_cb	 done;
	void			*arg;
	struct waiter		*next;
};

/* One certificate's query and everyone waiting for its answer. */
struct fetch_req {
	char			 sha256[JPKI_VERIFY_SHA256_HEX];
	const void		*subject;	/* the first waiter's */
	time_t			 now;
	struct timespec		 deadline;	/* CLOCK_MONOTONIC */
	struct waiter		*waiters;
	struct fetch_req	*next;
};

struct ocsp_fetch {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct fetch_req	*head, *tail;
	size_t			 queued;
	struct fetch_req	*sent[OCSP_FETCH_THREADS_MAX];	/* per thread */
	int			 stopping;
	ocsp_fetch_query_fn	 query;
	void			*ctx;
	int			 timeout_ms;
	int			 inline_max;
	int			 inline_now;
	pthread_t		 threads[OCSP_FETCH_THREADS_MAX];
	int			 nthreads;
	int			 nstarted;
	struct ocsp_fetch_stats	 stats;
};

struct fetch_thread {
	struct ocsp_fetch	*f;
	int			 index;
};

static void
mono_now(struct timespec *ts)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
}

/* Milliseconds from now to ts (<= 0 when past). */
static long
ms_until(const struct timespec *ts)
{
	struct timespec now;

	mono_now(&now);
	return (long)(ts->tv_sec - now.tv_sec) * 1000 +
	    (ts->tv_nsec - now.tv_nsec) / 1000000;
}

static void
req_free(struct fetch_req *r)
{
	free(r);
}

/* Every waiter gets the answer; r is freed.  No lock held. */
static void
deliver(struct fetch_req *r, const struct jpki_ocsp_answer *a)
{
	struct waiter *w, *next;

	for (w = r->waiters; w != NULL; w = next) {
		next = w->next;
		w->done(w->arg, a);
		free(w);
	}
	req_free(r);
}

static void
deliver_unavailable(struct fetch_req *r, const char *why)
{
	struct jpki_ocsp_answer a;

	jpki_ocsp_unavailable(&a, why);
	deliver(r, &a);
}

static void *
fetch_main(void *arg)
{
	struct fetch_thread *ft = arg;
	struct ocsp_fetch *f = ft->f;
	struct jpki_ocsp_answer a;
	struct fetch_req *r;
	long left;
	char why[96];

	for (;;) {
		if (pthread_mutex_lock(&f->mu) != 0)
			break;
		while (f->head == NULL && !f->stopping)
			(void)pthread_cond_wait(&f->cv, &f->mu);
		if ((r = f->head) == NULL) {
			(void)pthread_mutex_unlock(&f->mu);
			break;
		}
		f->head = r->next;
		if (f->head == NULL)
			f->tail = NULL;
		f->queued--;
		r->next = NULL;
		if ((left = ms_until(&r->deadline)) <= 0) {
			f->stats.expired++;
			(void)snprintf(why, sizeof(why), "no answer in time "
			    "(the responder is slow; %zu more queued)",
			    f->queued);
			(void)pthread_mutex_unlock(&f->mu);
			deliver_unavailable(r, why);
			continue;
		}
		/* from here on, queries for this certificate join r */
		f->sent[ft->index] = r;
		(void)pthread_mutex_unlock(&f->mu);

		f->query(f->ctx, r->subject, r->now, (int)left, &a);

		if (pthread_mutex_lock(&f->mu) != 0)
			break;
		f->sent[ft->index] = NULL;
		f->stats.queries++;
		(void)pthread_mutex_unlock(&f->mu);
		deliver(r, &a);
	}
	free(ft);
	return NULL;
}

struct ocsp_fetch *
ocsp_fetch_new(ocsp_fetch_query_fn query, void *ctx, int nthreads,
    int inline_max, int timeout_ms, char *err, size_t errlen)
{
	struct ocsp_fetch *f;
	struct fetch_thread *ft;
	int i;

	if (query == NULL || nthreads < 1 || nthreads > OCSP_FETCH_THREADS_MAX ||
	    inline_max < 0 || timeout_ms < 1) {
		(void)snprintf(err, errlen, "ocsp fetch: bad arguments");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		(void)snprintf(err, errlen, "ocsp fetch: out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&f->mu, NULL) != 0) {
		free(f);
		(void)snprintf(err, errlen, "ocsp fetch: mutex");
		return NULL;
	}
	if (pthread_cond_init(&f->cv, NULL) != 0) {
		(void)pthread_mutex_destroy(&f->mu);
		free(f);
		(void)snprintf(err, errlen, "ocsp fetch: condition");
		return NULL;
	}
	f->query = query;
	f->ctx = ctx;
	f->timeout_ms = timeout_ms;
	f->inline_max = inline_max;
	f->nthreads = nthreads;
	for (i = 0; i < nthreads; i++) {
		if ((ft = malloc(sizeof(*ft))) == NULL)
			break;
		ft->f = f;
		ft->index = i;
		if (pthread_create(&f->threads[i], NULL, fetch_main, ft) != 0) {
			free(ft);
			break;
		}
		f->nstarted++;
	}
	if (f->nstarted < nthreads) {
		ocsp_fetch_free(f);
		(void)snprintf(err, errlen, "ocsp fetch: cannot start threads");
		return NULL;
	}
	return f;
}

int
ocsp_fetch_inline_begin(struct ocsp_fetch *f)
{
	int ok;

	if (f == NULL || pthread_mutex_lock(&f->mu) != 0)
		return 0;
	if ((ok = !f->stopping && f->inline_now < f->inline_max)) {
		f->inline_now++;
		f->stats.inline_asked++;
	}
	(void)pthread_mutex_unlock(&f->mu);
	return ok;
}

void
ocsp_fetch_inline_end(struct ocsp_fetch *f)
{
	if (f == NULL || pthread_mutex_lock(&f->mu) != 0)
		return;
	if (f->inline_now > 0)
		f->inline_now--;
	(void)pthread_mutex_unlock(&f->mu);
}

/* The request for sha256, queued or sent; NULL when none.  Locked. */
static struct fetch_req *
find_req(struct ocsp_fetch *f, const char *sha256)
{
	struct fetch_req *r;
	int i;

	for (i = 0; i < f->nthreads; i++)
		if (f->sent[i] != NULL && strcmp(f->sent[i]->sha256,
		    sha256) == 0)
			return f->sent[i];
	for (r = f->head; r != NULL; r = r->next)
		if (strcmp(r->sha256, sha256) == 0)
			return r;
	return NULL;
}

int
ocsp_fetch_submit(struct ocsp_fetch *f, const void *subject,
    const char *sha256, time_t now, ocsp_fetch_done_cb done, void *arg)
{
	struct fetch_req *r, *same;
	struct waiter *w;

	if (f == NULL || subject == NULL || sha256 == NULL ||
	    strlen(sha256) != JPKI_VERIFY_SHA256_HEX - 1 || done == NULL)
		return -1;
	/* made outside the lock; dropped again when a query is shared */
	w = malloc(sizeof(*w));
	r = calloc(1, sizeof(*r));
	if (w == NULL || r == NULL) {
		free(w);
		req_free(r);
		return -1;
	}
	w->done = done;
	w->arg = arg;
	w->next = NULL;
	r->subject = subject;
	r->now = now;
	memcpy(r->sha256, sha256, sizeof(r->sha256));
	mono_now(&r->deadline);
	r->deadline.tv_sec += f->timeout_ms / 1000;
	r->deadline.tv_nsec += (long)(f->timeout_ms % 1000) * 1000000;
	if (r->deadline.tv_nsec >= 1000000000) {
		r->deadline.tv_sec++;
		r->deadline.tv_nsec -= 1000000000;
	}

	if (pthread_mutex_lock(&f->mu) != 0)
		goto refused_unlocked;
	if (f->stopping)
		goto refused;
	if ((same = find_req(f, sha256)) != NULL) {
		w->next = same->waiters;
		same->waiters = w;
		f->stats.shared++;
		(void)pthread_mutex_unlock(&f->mu);
		req_free(r);
		return 0;
	}
	if (f->queued >= OCSP_FETCH_QUEUE_MAX)
		goto refused;
	r->waiters = w;
	if (f->tail != NULL)
		f->tail->next = r;
	else
		f->head = r;
	f->tail = r;
	f->queued++;
	(void)pthread_cond_signal(&f->cv);
	(void)pthread_mutex_unlock(&f->mu);
	return 0;
refused:
	f->stats.refused++;
	(void)pthread_mutex_unlock(&f->mu);
refused_unlocked:
	free(w);
	req_free(r);
	return -1;
}

void
ocsp_fetch_stop(struct ocsp_fetch *f)
{
	struct fetch_req *list, *next;

	if (f == NULL || pthread_mutex_lock(&f->mu) != 0)
		return;
	f->stopping = 1;
	list = f->head;
	f->head = f->tail = NULL;
	f->queued = 0;
	(void)pthread_cond_broadcast(&f->cv);
	(void)pthread_mutex_unlock(&f->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		deliver_unavailable(list, "the center is stopping");
	}
}

void
ocsp_fetch_free(struct ocsp_fetch *f)
{
	int i;

	if (f == NULL)
		return;
	ocsp_fetch_stop(f);
	for (i = 0; i < f->nstarted; i++)
		(void)pthread_join(f->threads[i], NULL);
	(void)pthread_cond_destroy(&f->cv);
	(void)pthread_mutex_destroy(&f->mu);
	free(f);
}

void
ocsp_fetch_get_stats(struct ocsp_fetch *f, struct ocsp_fetch_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (f == NULL || pthread_mutex_lock(&f->mu) != 0)
		return;
	*st = f->stats;
	(void)pthread_mutex_unlock(&f->mu);
}
