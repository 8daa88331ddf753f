/*
 * OCSP queries off the workers.  An authentication whose certificate has
 * no fresh answer in the cache, when no inline slot is free (below),
 * hands the query to this pool and its worker takes the next job: a
 * responder that is slow or hangs keeps the residents who wait for it
 * waiting, and nobody else (the issuances and results of other kiosks
 * need the workers).
 *
 * A few threads of their own make the queries (blocking, as ocsp_client
 * does).  Queries for the same certificate share one answer.  Every
 * query has a deadline, its submission plus the configured OCSP timeout:
 * one still queued at its deadline is answered "unavailable" without
 * being sent, and one sent gets only the time left, so an authentication
 * waits for revocation at most about that long however many are queued.
 * The queue is bounded; past it a query is answered "unavailable" at once
 * (the CRL is the fallback, else the kiosk is told to try again).
 *
 * done(arg, answer) is called exactly once per ocsp_fetch_submit that
 * returned 0, from a fetch thread, without any lock of the pool held.
 */
#ifndef KIOSK_CENTER_OCSP_FETCH_H
#define KIOSK_CENTER_OCSP_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "jpki_verify.h"

#define OCSP_FETCH_THREADS_MAX	32
#define OCSP_FETCH_QUEUE_MAX	1024	/* distinct certificates waiting */

struct ocsp_fetch;

typedef void	(*ocsp_fetch_done_cb)(void *arg,
		    const struct jpki_ocsp_answer *);
/*
 * The query itself about subject, run by a fetch thread: the center's
 * calls jpki_ocsp_fetch for its parked authentication (the tests give
 * their own).  It must give up by timeout_ms.
 */
typedef void	(*ocsp_fetch_query_fn)(void *ctx, const void *subject,
		    time_t now, int timeout_ms, struct jpki_ocsp_answer *);

/* nthreads fetch threads making query(ctx, ...); timeout_ms per query;
 * inline_max callers may ask themselves at once (ocsp_fetch_inline). */
struct ocsp_fetch *ocsp_fetch_new(ocsp_fetch_query_fn, void *ctx,
	    int nthreads, int inline_max, int timeout_ms, char *err,
	    size_t errlen);

/*
 * Handing a query over costs a few thread switches, more than a healthy
 * responder takes to answer.  So a caller may make the query itself when
 * fewer than inline_max others are doing so: 1, and then it calls
 * ocsp_fetch_inline_end once answered; 0, and it submits instead.  A
 * responder that hangs holds at most inline_max of the callers' threads.
 */
int	 ocsp_fetch_inline_begin(struct ocsp_fetch *);
void	 ocsp_fetch_inline_end(struct ocsp_fetch *);

/*
 * Ask about subject (what the query function takes), the certificate
 * whose SHA-256 is sha256 (hex), as at now.  subject is read by a fetch
 * thread, so it must stay unchanged until done is called.
 * 0: done will be called.  -1: the queue is full or the pool is
 * stopping; done will not be called.
 */
int	 ocsp_fetch_submit(struct ocsp_fetch *, const void *subject,
	    const char *sha256, time_t now, ocsp_fetch_done_cb done,
	    void *arg);

/* Answer what is still queued "unavailable" and refuse new queries; the
 * queries already sent finish within their deadline. */
void	 ocsp_fetch_stop(struct ocsp_fetch *);
/* Stop, wait for the threads, free. */
void	 ocsp_fetch_free(struct ocsp_fetch *);

struct ocsp_fetch_stats {
	unsigned long	queries;	/* sent to the responder */
	unsigned long	shared;		/* answered by another's query */
	unsigned long	expired;	/* deadline passed while queued */
	unsigned long	refused;	/* queue full or stopping */
	unsigned long	inline_asked;	/* made by the callers themselves */
};
void	 ocsp_fetch_get_stats(struct ocsp_fetch *, struct ocsp_fetch_stats *);

#endif
