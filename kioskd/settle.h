/*
 * Settlement: the core's driver that takes every transaction of the
 * journal to its one end -- printed and reported, or voided and refunded --
 * with the decisions of reconcile.h.  It settles the transactions a
 * session hands over (the live path) and every unfinished row found at
 * start (after a crash or a power cut) by one and the same code.
 *
 * One transaction at a time, in order: each decision is carried out,
 * recorded in the journal, and the next one taken.  Answers from the
 * workers (the center through the backend worker, CUPS through the
 * printer worker) come back through settle_*_answer(); the payment device
 * is called directly.  A row whose answer is "retry later" (the center or
 * CUPS is down) is tried again with a backoff of 2 s doubling to 60 s;
 * nothing is lost.  A row whose facts contradict the journal is held for
 * a person and counted.
 */
#ifndef KIOSK_SETTLE_H
#define KIOSK_SETTLE_H

#include <stdint.h>

#include "journal.h"
#include "payment.h"
#include "reconcile.h"

struct event_base;
struct settle;

/* Requests to the workers; each returns 0 when sent, -1 when it cannot be
   (the worker is down: the answer is then taken as "unreachable"). */
struct settle_ops {
	/* Center: the result of issuance_id (printed with pages, or failed). */
	int	(*report)(void *arg, const char *issuance_id, int printed,
		    int pages);
	/* Center: the same issuance request again, same idempotency key. */
	int	(*reissue)(void *arg, const struct journal_tx *);
	/* CUPS: the state of job_id / the job named name / cancel job_id. */
	int	(*job_query)(void *arg, int64_t job_id);
	int	(*job_find)(void *arg, const char *name);
	int	(*job_cancel)(void *arg, int64_t job_id);
	/* A row finished or was held (for the operator's counters). */
	void	(*changed)(void *arg);
	/* A step is durable in the journal (may be NULL). */
	void	(*recorded)(void *arg, enum journal_step);
};

struct settle	*settle_new(struct event_base *, struct journal *,
		    struct payment *, const struct settle_ops *, void *arg);
void		 settle_free(struct settle *);
/* Queue every unfinished row of the journal (at start). */
int		 settle_recover(struct settle *);
/* Queue one transaction (a session is done with it). */
void		 settle_add(struct settle *, int64_t id);
/* A worker is back: every waiting row is tried now. */
void		 settle_poke(struct settle *);
/* 1 while transaction id is queued or being settled. */
int		 settle_busy(const struct settle *, int64_t id);
/* Rows queued (including waiting for a retry) and rows held. */
void		 settle_counts(const struct settle *, int *queued, int *held);

/* Answers (ignored when nothing of that kind is awaited). */
void		 settle_center_answer(struct settle *, enum reconcile_center,
		    const char *issuance_id);
void		 settle_job_answer(struct settle *, enum reconcile_job,
		    int64_t job_id, int pages);
void		 settle_cancel_answer(struct settle *, enum reconcile_cancel);
/* A worker died: what it owed is answered as unreachable. */
void		 settle_backend_down(struct settle *);
void		 settle_printer_down(struct settle *);

#endif
