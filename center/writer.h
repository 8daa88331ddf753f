/*
 * Group commit: each center process has one write connection, used by one
 * batch at a time.  Whatever is queued runs as one BEGIN IMMEDIATE ...
 * COMMIT (one fsync for many requests), each operation in a savepoint of
 * its own, so an operation that fails is undone alone and the others
 * commit.  A caller is answered only after the COMMIT returned, i.e. once
 * its operation is durable (synchronous=FULL).  Reads stay on the
 * handlers' own connections.
 *
 * Who runs a batch: a handler that finds nobody committing runs it in its
 * own thread (no hand-over to another thread and back); under load one is
 * running, and the handler's operations join the next batch, which the
 * writer thread runs.  Fire-and-forget operations (writer_post) wait up to
 * WRITER_ASYNC_DELAY_MS for a handler's batch to take them along, so they
 * cost no commit of their own under a light load either.
 *
 * If SQLite rolls the whole batch back by itself (I/O error, disk full) or
 * the COMMIT fails, every operation of the batch is run again, each in a
 * transaction of its own, and reports its own result: no operation is
 * reported done that is not committed, and no failure spreads to others.
 * An operation may therefore run more than once: it must set all of its
 * outputs on every run (and free what a previous run allocated).
 *
 * The writers of several processes on one database take turns through an
 * flock() on "<db>-writer" before each batch, so a waiting writer sleeps
 * in the kernel instead of polling SQLite's lock (writer.c).
 *
 * A second thread checkpoints the WAL (PASSIVE) when it has grown by
 * WRITER_CKPT_FRAMES frames or once a second, so no commit pays for a
 * checkpoint.
 */
#ifndef KIOSK_CENTER_WRITER_H
#define KIOSK_CENTER_WRITER_H

#include <stddef.h>

#include "store.h"

#define WRITER_BATCH_MAX	256	/* operations per transaction */
#define WRITER_ASYNC_MAX	4096	/* fire-and-forget operations queued */
#define WRITER_CKPT_FRAMES	1000	/* new WAL frames that wake the checkpointer */
#define WRITER_CKPT_GAP_MS	200	/* at most 5 checkpoints a second */
#define WRITER_GATE_TIMEOUT_MS	10000	/* as SQLite's busy timeout */
#define WRITER_ASYNC_DELAY_MS	20	/* fire-and-forget ops wait for company */
#define WRITER_ASYNC_BATCH	64	/* ... unless this many are queued */

/* One write operation: runs inside the batch on the writer's connection. */
typedef int (*writer_fn)(struct store *, void *arg);
/* writer_submit's answer: the operation's STORE_* code and, if not OK, why */
typedef void (*writer_done_fn)(void *arg, int rc, const char *err);

struct writer_op {
	writer_fn	 fn;
	void		*arg;
	/* results: the operation's STORE_* code and, if not STORE_OK, why */
	int		 rc;
	char		 err[256];
	/* private to writer.c */
	int		 done;
	struct writer_waiter *waiter;	/* the caller of writer_run() */
	void		(*free_fn)(void *);
	writer_done_fn	 done_fn;	/* writer_submit() */
	struct writer_op *next;
};

struct writer_stats {
	unsigned long	batches;	/* transactions committed or tried */
	unsigned long	ops;
	unsigned long	max_batch;
	unsigned long	replays;	/* batches re-run operation by operation */
	unsigned long	async_dropped;	/* writer_post refused: queue full */
	unsigned long	checkpoints;
};

struct writer;

/*
 * Open the write connection to db (and one for checkpoints), bring the
 * schema up to date and start the threads.  NULL with a message in err.
 * Call after fork(), in the process that uses it.
 */
struct writer	*writer_start(const char *db, char *err, size_t errlen);
/* Finish everything queued, stop the threads, close the connections. */
void		 writer_stop(struct writer *);

/*
 * Queue n operations together (one batch when n <= WRITER_BATCH_MAX and
 * the writer is idle) and wait until all are durable or failed.  Each
 * op's rc/err hold its own result.  -1 if the writer is stopping (then
 * every op has rc STORE_ERR).
 */
int		 writer_run(struct writer *, struct writer_op *ops, size_t n);
/* One operation: its STORE_* code; err (may be NULL) gets the reason. */
int		 writer_call(struct writer *, writer_fn, void *arg, char *err,
		    size_t errlen);
/*
 * Fire and forget: the operation joins a later batch and nobody waits;
 * free_fn(arg) (may be NULL) runs after it.  -1 (and free_fn not called)
 * when the queue is full or the writer is stopping.
 */
int		 writer_post(struct writer *, writer_fn, void *arg,
		    void (*free_fn)(void *));
/*
 * Queue one operation and return without waiting for it: done(arg, rc,
 * err) runs once it is durable or failed, exactly once, in the thread
 * that ran its batch.  That is the caller's own, before this returns,
 * when nobody was committing (as writer_run leads); under load a batch
 * is running and the operation joins the next, which the writer thread
 * runs, so a handler does not sleep through a commit it does not lead.
 * -1 (and done not called) when out of memory or stopping.
 */
int		 writer_submit(struct writer *, writer_fn, void *arg,
		    writer_done_fn done);
void		 writer_get_stats(struct writer *, struct writer_stats *);
/*
 * How long a batch waits for the gate (<db>-writer) another process holds
 * before it goes on under SQLite's lock alone; WRITER_GATE_TIMEOUT_MS.
 */
void		 writer_set_gate_timeout(struct writer *, int ms);
/*
 * How long fire-and-forget operations alone wait for a handler's batch to
 * take them along before they are committed by themselves;
 * WRITER_ASYNC_DELAY_MS.
 */
void		 writer_set_async_delay(struct writer *, int ms);

#endif
