/*
 * Group commit: the writer thread and the checkpointer (see writer.h).
 */
#include <sys/file.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "writer.h"

struct writer {
	struct store		*st;		/* writer thread only */
	struct store		*ckpt_st;	/* checkpointer only */
	pthread_t		 thread;
	pthread_t		 ckpt_thread;
	int			 started, ckpt_started;
	int			 gate;		/* <db>-writer, or -1 */
	int			 gate_held;
	int			 gate_bypass;	/* gave up waiting for it */
	int			 gate_timeout_ms;
	int			 async_delay_ms;
	timer_t			 gate_timer;	/* interrupts the wait */
	int			 gate_timer_ok;

	pthread_mutex_t		 mu;
	pthread_cond_t		 work_cv;	/* ops queued, or stopping */
	struct writer_op	*head, *tail;
	int			 busy;		/* a batch is running */
	size_t			 sync_queued;	/* ops someone waits for */
	size_t			 async_queued;
	unsigned long		 async_epoch;	/* posts into an empty queue */
	int			 stopping;
	struct writer_stats	 stats;

	pthread_mutex_t		 ckpt_mu;
	pthread_cond_t		 ckpt_cv;
	int			 ckpt_wanted;
	int			 ckpt_stopping;
	int			 wal_frames;	/* after the last commit */
	int			 ckpt_frames;	/* the WAL the last checkpoint saw */
};

/*
 * One caller of writer_run(): woken alone once all of its operations are
 * done, rather than every waiting handler after every batch.
 */
struct writer_waiter {
	pthread_cond_t	 cv;
	size_t		 remaining;
};

static void
lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) != 0)
		fatalx("writer: mutex lock");
}

static void
unlock(pthread_mutex_t *m)
{
	if (pthread_mutex_unlock(m) != 0)
		fatalx("writer: mutex unlock");
}

static void
op_fail(struct writer_op *op, int rc, const char *why)
{
	op->rc = rc;
	(void)snprintf(op->err, sizeof(op->err), "%s", why);
}

static void
op_result(struct writer *w, struct writer_op *op, int rc)
{
	op->rc = rc;
	if (rc == STORE_OK)
		op->err[0] = '\0';
	else
		(void)snprintf(op->err, sizeof(op->err), "%s",
		    store_errmsg(w->st));
}

/*
 * The gate between the writers of several center processes on one
 * database.  SQLite's write lock has no queue: a writer that finds it
 * taken can only poll (sq_busy), and every poll is a round of fcntl()
 * calls and a read of the WAL index, on a machine whose cores the
 * processes share.  Each writer first takes an exclusive flock() on
 * "<db>-writer": the kernel puts it to sleep until the holder lets go
 * and wakes it then, so the lock passes from one process to the next
 * without polling.  The gate only orders our own writers; SQLite's lock
 * still guards the database against everyone (seed, a second tool), and
 * a holder that dies lets go with its descriptor.
 *
 * A holder that is stopped (SIGSTOP, a debugger, a frozen container)
 * keeps the gate without dying.  The wait for it is therefore bounded
 * like SQLite's busy timeout: a timer signal interrupts the flock() after
 * gate_timeout_ms, and the writer then goes on under SQLite's lock alone
 * (which its busy handler bounds again), trying the gate without waiting
 * before each later batch until it gets it back.
 */
static int
gate_open(const char *db, char *err, size_t errlen)
{
	char path[4096];
	int fd;

	if (db[0] == '\0' || strcmp(db, ":memory:") == 0 ||
	    strncmp(db, "file:", 5) == 0)
		return -1;
	if (snprintf(path, sizeof(path), "%s-writer", db) >= (int)sizeof(path))
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -2;
	}
	return fd;
}

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id	_sigev_un._tid
#endif

static void
gate_alarm(int sig)
{
	(void)sig;	/* only there to interrupt flock() */
}

/*
 * In the writer thread: a timer whose signal goes to this thread alone.
 * The handler is installed without SA_RESTART, so the signal ends a
 * waiting flock() with EINTR.  The timer is disarmed as soon as the wait
 * ends; a signal that lands between the two only runs the empty handler.
 */
static void
gate_timer_init(struct writer *w)
{
	struct sigaction sa;
	struct sigevent sev;
	sigset_t set;

	if (w->gate == -1)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gate_alarm;
	(void)sigemptyset(&sa.sa_mask);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGRTMIN;
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGRTMIN);
	if (sigaction(SIGRTMIN, &sa, NULL) == -1 ||
	    pthread_sigmask(SIG_UNBLOCK, &set, NULL) != 0 ||
	    timer_create(CLOCK_MONOTONIC, &sev, &w->gate_timer) == -1) {
		log_warn("writer: gate timer; waits for the writer gate "
		    "are not bounded");
		return;
	}
	w->gate_timer_ok = 1;
}

static void
gate_timer_set(struct writer *w, int ms)
{
	struct itimerspec it;

	if (!w->gate_timer_ok)
		return;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	(void)timer_settime(w->gate_timer, 0, &it, NULL);
}

/*
 * The gate without waiting: 1 when this batch may run (the gate taken,
 * none configured, its holder stuck past the timeout, or flock() failing,
 * when SQLite's lock still holds), 0 when another process holds it.
 */
static int
gate_try(struct writer *w)
{
	w->gate_held = 0;
	if (w->gate == -1)
		return 1;
	if (flock(w->gate, LOCK_EX | LOCK_NB) == 0) {
		w->gate_held = 1;
		if (w->gate_bypass) {
			w->gate_bypass = 0;
			log_info("writer: the writer gate is free again");
		}
		return 1;
	}
	if (errno != EWOULDBLOCK) {
		log_warn("writer: flock");
		return 1;
	}
	return w->gate_bypass;
}

/* The gate, waiting for it up to timeout_ms when another process has it. */
static void
gate_enter(struct writer *w, int timeout_ms)
{
	struct timespec t0;
	long waited;

	if (gate_try(w))
		return;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	gate_timer_set(w, timeout_ms);
	for (;;) {
		if (flock(w->gate, LOCK_EX) == 0) {
			w->gate_held = 1;
			break;
		}
		if (errno != EINTR) {
			log_warn("writer: flock");
			break;
		}
		waited = (long)ms_since(&t0);
		if (waited >= timeout_ms) {
			w->gate_bypass = 1;
			log_warnx("writer: another process has held the writer "
			    "gate for %ld ms; writing under SQLite's lock alone "
			    "until it lets go", waited);
			break;
		}
	}
	gate_timer_set(w, 0);
}

static void
gate_leave(struct writer *w)
{
	if (w->gate_held)
		(void)flock(w->gate, LOCK_UN);
	w->gate_held = 0;
}

void
writer_set_gate_timeout(struct writer *w, int ms)
{
	lock(&w->mu);
	w->gate_timeout_ms = ms > 0 ? ms : 1;
	unlock(&w->mu);
}

void
writer_set_async_delay(struct writer *w, int ms)
{
	lock(&w->mu);
	w->async_delay_ms = ms >= 0 ? ms : 0;
	unlock(&w->mu);
}

/* One operation in a transaction of its own (the replay path). */
static void
run_alone(struct writer *w, struct writer_op *op)
{
	int rc;

	if ((rc = store_batch_begin(w->st)) != STORE_OK) {
		op_result(w, op, rc);
		return;
	}
	if ((rc = store_op_begin(w->st)) != STORE_OK) {
		op_result(w, op, rc);
		(void)store_batch_end(w->st, 0);
		return;
	}
	rc = op->fn(w->st, op->arg);
	op_result(w, op, rc);
	if (!store_batch_alive(w->st)) {
		if (rc == STORE_OK)
			op_fail(op, STORE_ERR, "the transaction was rolled back");
		(void)store_batch_end(w->st, 0);
		return;
	}
	if (store_op_end(w->st, rc == STORE_OK) != STORE_OK) {
		if (rc == STORE_OK)
			op_result(w, op, STORE_ERR);
		(void)store_batch_end(w->st, 0);
		return;
	}
	if (rc != STORE_OK) {
		(void)store_batch_end(w->st, 0);
		return;
	}
	if ((rc = store_batch_end(w->st, 1)) != STORE_OK)
		op_result(w, op, rc);
}

/*
 * The batch: one transaction, a savepoint per operation.  Returns 0, or
 * -1 when the transaction as a whole failed after operations ran (the
 * caller replays them one by one).
 */
static int
run_batch(struct writer *w, struct writer_op *list)
{
	struct writer_op *op;
	int rc;

	if ((rc = store_batch_begin(w->st)) != STORE_OK) {
		/* nothing ran: the lock (or the file) is not available */
		for (op = list; op != NULL; op = op->next)
			op_result(w, op, rc);
		return 0;
	}
	for (op = list; op != NULL; op = op->next) {
		if (store_op_begin(w->st) != STORE_OK)
			goto broken;
		rc = op->fn(w->st, op->arg);
		op_result(w, op, rc);
		if (!store_batch_alive(w->st) ||
		    store_op_end(w->st, rc == STORE_OK) != STORE_OK)
			goto broken;
	}
	if (store_batch_end(w->st, 1) != STORE_OK)
		return -1;	/* the COMMIT failed and was rolled back */
	return 0;
broken:
	(void)store_batch_end(w->st, 0);
	return -1;
}

/*
 * One batch, with w->mu held and w->busy set by the caller (so nobody else
 * runs one meanwhile): the gate, everything queued up to the batch limit,
 * the transaction, then each operation's waiter woken and each
 * fire-and-forget operation freed.  Returns with w->mu held.  With
 * may_wait 0 (a handler leading, see writer_run) a gate that another
 * process holds is not waited for: -1 and nothing taken, the writer
 * thread waits for it instead, under the gate's timeout.
 */
static int
batch_once(struct writer *w, int may_wait)
{
	struct writer_op *list, *op, *last, *next, *async = NULL;
	struct writer_op *answer = NULL;
	unsigned long n;
	int tmo;

	/*
	 * The gate first, then the batch: what is queued while another
	 * process commits joins this batch instead of waiting for the next
	 * one.
	 */
	tmo = w->gate_timeout_ms;
	unlock(&w->mu);
	if (may_wait)
		gate_enter(w, tmo);
	else if (!gate_try(w)) {
		lock(&w->mu);
		return -1;
	}
	lock(&w->mu);
	/* everything queued, up to the batch limit */
	list = last = w->head;
	for (n = 1; n < WRITER_BATCH_MAX && last->next != NULL; n++)
		last = last->next;
	for (op = list; op != last->next; op = op->next)
		if (op->done != -1)
			w->sync_queued--;
	w->head = last->next;
	if (w->head == NULL)
		w->tail = NULL;
	last->next = NULL;
	unlock(&w->mu);

	if (run_batch(w, list) == -1) {
		for (op = list; op != NULL; op = op->next)
			run_alone(w, op);
		gate_leave(w);
		lock(&w->mu);
		w->stats.replays++;
	} else {
		gate_leave(w);
		lock(&w->mu);
	}
	w->stats.batches++;
	w->stats.ops += n;
	if (n > w->stats.max_batch)
		w->stats.max_batch = n;
	for (op = list; op != NULL; op = next) {
		next = op->next;
		if (op->done == -1) {
			/* fire-and-forget: ours to free */
			op->next = async;
			async = op;
			w->async_queued--;
		} else if (op->done == -2) {
			/* writer_submit: answered, then ours to free */
			op->next = answer;
			answer = op;
		} else {
			op->done = 1;
			/* the caller needs w->mu to return: op and its
			   waiter stay valid until we unlock */
			if (--op->waiter->remaining == 0)
				(void)pthread_cond_signal(&op->waiter->cv);
		}
	}
	if (async != NULL || answer != NULL) {
		unlock(&w->mu);
		for (op = answer; op != NULL; op = next) {
			next = op->next;
			op->done_fn(op->arg, op->rc, op->rc == STORE_OK ? "" :
			    op->err);
			free(op);
		}
		for (op = async; op != NULL; op = next) {
			next = op->next;
			if (op->free_fn != NULL)
				op->free_fn(op->arg);
			free(op);
		}
		lock(&w->mu);
	}
	return 0;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct timespec until;
	unsigned long epoch;
	int timedout;

	gate_timer_init(w);
	lock(&w->mu);
	for (;;) {
		/* a handler leading a batch finishes it, even when stopping */
		while (w->busy || (w->head == NULL && !w->stopping))
			(void)pthread_cond_wait(&w->work_cv, &w->mu);
		if (w->head == NULL)
			break;
		/*
		 * Only fire-and-forget operations: nobody waits for them, so
		 * they wait (WRITER_ASYNC_DELAY_MS at most) for a handler's
		 * batch to take them along rather than cost a commit of
		 * their own.
		 */
		if (w->sync_queued == 0 && !w->stopping &&
		    w->async_queued < WRITER_ASYNC_BATCH) {
			(void)clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += w->async_delay_ms / 1000;
			until.tv_nsec += (long)(w->async_delay_ms % 1000) *
			    1000000;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			timedout = 0;
			epoch = w->async_epoch;
			while (!timedout && w->head != NULL && !w->stopping &&
			    w->sync_queued == 0 && w->async_epoch == epoch &&
			    w->async_queued < WRITER_ASYNC_BATCH)
				timedout = pthread_cond_timedwait(&w->work_cv,
				    &w->mu, &until) == ETIMEDOUT;
			/* taken along meanwhile, or a new wait to start */
			if (w->busy || w->head == NULL ||
			    w->async_epoch != epoch)
				continue;
		}
		w->busy = 1;
		(void)batch_once(w, 1);
		w->busy = 0;
	}
	unlock(&w->mu);
	if (w->gate_timer_ok)
		(void)timer_delete(w->gate_timer);
	return NULL;
}

/*
 * After each commit of the writer (in its thread): wake the checkpointer
 * when the WAL holds WRITER_CKPT_FRAMES frames more than the last
 * checkpoint saw.  The WAL only starts over when a checkpoint has copied
 * all of it and no reader still uses it, so its size alone would wake the
 * checkpointer after every commit under load.
 */
static void
wal_grew(void *arg, int frames)
{
	struct writer *w = arg;

	lock(&w->ckpt_mu);
	w->wal_frames = frames;
	if (frames < w->ckpt_frames)
		w->ckpt_frames = 0;	/* the WAL started over */
	if (!w->ckpt_wanted && frames - w->ckpt_frames >= WRITER_CKPT_FRAMES) {
		w->ckpt_wanted = 1;
		(void)pthread_cond_signal(&w->ckpt_cv);
	}
	unlock(&w->ckpt_mu);
}

/*
 * The checkpointer: PASSIVE checkpoints (they never block the writer)
 * when woken, and once a second if anything was committed since the last
 * one, but at most every WRITER_CKPT_GAP_MS: each checkpoint that copies
 * pages syncs the database file, which the commits' syncs wait behind.
 */
static void *
ckpt_main(void *arg)
{
	struct writer *w = arg;
	struct timespec until, gap;
	int frames, copied, rc, seen;

	gap.tv_sec = 0;
	gap.tv_nsec = WRITER_CKPT_GAP_MS * 1000000L;
	lock(&w->ckpt_mu);
	while (!w->ckpt_stopping) {
		if (!w->ckpt_wanted) {
			(void)clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			(void)pthread_cond_timedwait(&w->ckpt_cv, &w->ckpt_mu,
			    &until);
			if (w->ckpt_stopping)
				break;
		}
		w->ckpt_wanted = 0;
		seen = w->wal_frames;
		if (seen == w->ckpt_frames)
			continue;	/* nothing new since the last one */
		unlock(&w->ckpt_mu);
		rc = store_checkpoint(w->ckpt_st, &frames, &copied);
		if (rc != STORE_OK && rc != STORE_BUSY)
			log_warnx("writer: checkpoint: %s",
			    store_errmsg(w->ckpt_st));
		lock(&w->mu);
		if (rc == STORE_OK)
			w->stats.checkpoints++;
		unlock(&w->mu);
		(void)nanosleep(&gap, NULL);
		lock(&w->ckpt_mu);
		w->ckpt_frames = seen;
	}
	unlock(&w->ckpt_mu);
	return NULL;
}

static void
writer_free(struct writer *w)
{
	store_close(w->st);
	store_close(w->ckpt_st);
	if (w->gate != -1)
		(void)close(w->gate);
	(void)pthread_cond_destroy(&w->work_cv);
	(void)pthread_cond_destroy(&w->ckpt_cv);
	(void)pthread_mutex_destroy(&w->mu);
	(void)pthread_mutex_destroy(&w->ckpt_mu);
	free(w);
}

struct writer *
writer_start(const char *db, char *err, size_t errlen)
{
	struct writer *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->gate_timeout_ms = WRITER_GATE_TIMEOUT_MS;
	w->async_delay_ms = WRITER_ASYNC_DELAY_MS;
	if ((w->gate = gate_open(db, err, errlen)) == -2) {
		free(w);
		return NULL;
	}
	if (pthread_mutex_init(&w->mu, NULL) != 0 ||
	    pthread_mutex_init(&w->ckpt_mu, NULL) != 0 ||
	    pthread_cond_init(&w->work_cv, NULL) != 0 ||
	    pthread_cond_init(&w->ckpt_cv, NULL) != 0) {
		(void)snprintf(err, errlen, "pthread init failed");
		if (w->gate != -1)
			(void)close(w->gate);
		free(w);
		return NULL;
	}
	if ((w->st = store_open(db, 0, err, errlen)) == NULL)
		goto fail;
	if (store_migrate(w->st) != STORE_OK) {
		(void)snprintf(err, errlen, "database %s: %s", db,
		    store_errmsg(w->st));
		goto fail;
	}
	if ((w->ckpt_st = store_open(db, 0, err, errlen)) == NULL)
		goto fail;
	if (store_set_wal_hook(w->st, wal_grew, w) != STORE_OK) {
		(void)snprintf(err, errlen, "database %s: %s", db,
		    store_errmsg(w->st));
		goto fail;
	}
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		(void)snprintf(err, errlen, "pthread_create failed");
		goto fail;
	}
	w->started = 1;
	if (pthread_create(&w->ckpt_thread, NULL, ckpt_main, w) != 0) {
		(void)snprintf(err, errlen, "pthread_create failed");
		writer_stop(w);
		return NULL;
	}
	w->ckpt_started = 1;
	return w;
fail:
	writer_free(w);
	return NULL;
}

void
writer_stop(struct writer *w)
{
	if (w == NULL)
		return;
	lock(&w->mu);
	w->stopping = 1;
	(void)pthread_cond_broadcast(&w->work_cv);
	unlock(&w->mu);
	if (w->started)
		(void)pthread_join(w->thread, NULL);
	lock(&w->ckpt_mu);
	w->ckpt_stopping = 1;
	(void)pthread_cond_signal(&w->ckpt_cv);
	unlock(&w->ckpt_mu);
	if (w->ckpt_started)
		(void)pthread_join(w->ckpt_thread, NULL);
	writer_free(w);
}

/* An operation of its own (writer_post, writer_submit): the writer frees it. */
static struct writer_op *
op_new(writer_fn fn, void *arg)
{
	struct writer_op *op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->fn = fn;
	op->arg = arg;
	return op;
}

/* Append the chain first..last to the queue (w->mu held). */
static void
enqueue(struct writer *w, struct writer_op *first, struct writer_op *last)
{
	if (w->tail != NULL)
		w->tail->next = first;
	else
		w->head = first;
	w->tail = last;
}

int
writer_run(struct writer *w, struct writer_op *ops, size_t n)
{
	struct writer_waiter wt;
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		ops[i].done = 0;
		ops[i].free_fn = NULL;
		ops[i].waiter = &wt;
		ops[i].next = i + 1 < n ? &ops[i + 1] : NULL;
		op_fail(&ops[i], STORE_ERR, "not run");
	}
	if (pthread_cond_init(&wt.cv, NULL) != 0) {
		for (i = 0; i < n; i++)
			op_fail(&ops[i], STORE_ERR, "pthread_cond_init");
		return -1;
	}
	wt.remaining = n;
	lock(&w->mu);
	if (w->stopping) {
		unlock(&w->mu);
		(void)pthread_cond_destroy(&wt.cv);
		for (i = 0; i < n; i++)
			op_fail(&ops[i], STORE_ERR, "the writer has stopped");
		return -1;
	}
	enqueue(w, &ops[0], &ops[n - 1]);
	w->sync_queued += n;
	if (!w->busy) {
		/*
		 * Nobody is committing: run the batch in this thread rather
		 * than wake the writer thread and wait to be woken by it, two
		 * thread switches per write when the load is light.  Under
		 * load a batch is running, and this waits to join the next.
		 */
		w->busy = 1;
		while (wt.remaining > 0 && batch_once(w, 0) == 0)
			;
		w->busy = 0;
		/* what queued meanwhile, or a writer_stop() waiting */
		if (w->head != NULL || w->stopping)
			(void)pthread_cond_signal(&w->work_cv);
	}
	while (wt.remaining > 0)
		(void)pthread_cond_wait(&wt.cv, &w->mu);
	unlock(&w->mu);
	(void)pthread_cond_destroy(&wt.cv);
	return 0;
}

int
writer_call(struct writer *w, writer_fn fn, void *arg, char *err,
    size_t errlen)
{
	struct writer_op op;

	memset(&op, 0, sizeof(op));
	op.fn = fn;
	op.arg = arg;
	(void)writer_run(w, &op, 1);
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "%s", op.rc == STORE_OK ? "" :
		    op.err);
	return op.rc;
}

int
writer_post(struct writer *w, writer_fn fn, void *arg,
    void (*free_fn)(void *))
{
	struct writer_op *op;

	if ((op = op_new(fn, arg)) == NULL)
		return -1;
	op->free_fn = free_fn;
	op->done = -1;		/* nobody waits: the writer frees it */
	lock(&w->mu);
	if (w->stopping || w->async_queued >= WRITER_ASYNC_MAX) {
		w->stats.async_dropped++;
		unlock(&w->mu);
		free(op);
		return -1;
	}
	w->async_queued++;
	enqueue(w, op, op);
	/* the first one starts the writer's clock; a full queue ends it */
	if (w->head == op)
		w->async_epoch++;
	if (w->head == op || w->async_queued == WRITER_ASYNC_BATCH)
		(void)pthread_cond_signal(&w->work_cv);
	unlock(&w->mu);
	return 0;
}

int
writer_submit(struct writer *w, writer_fn fn, void *arg, writer_done_fn done)
{
	struct writer_op *op;

	if ((op = op_new(fn, arg)) == NULL)
		return -1;
	op->done_fn = done;
	op->done = -2;		/* answered through done_fn, then freed */
	op_fail(op, STORE_ERR, "not run");
	lock(&w->mu);
	if (w->stopping) {
		unlock(&w->mu);
		free(op);
		return -1;
	}
	enqueue(w, op, op);
	w->sync_queued++;
	if (!w->busy) {
		/* as writer_run: nobody is committing, so this thread does */
		w->busy = 1;
		(void)batch_once(w, 0);
		w->busy = 0;
		/* another process's gate, what queued meanwhile, a stop */
		if (w->head != NULL || w->stopping)
			(void)pthread_cond_signal(&w->work_cv);
	}
	unlock(&w->mu);
	return 0;
}

void
writer_get_stats(struct writer *w, struct writer_stats *s)
{
	lock(&w->mu);
	*s = w->stats;
	unlock(&w->mu);
}
