/*
 * center-commits: the durable writes of full transactions, without TLS,
 * HTTP or signatures, against a seeded database shared by several
 * processes: what the commit path alone allows on this machine.
 *
 *   group   per transaction: claim the session, create the issuance with
 *           its signed content, record the result -- 3 operations through
 *           each process's writer (group commit), as kiosk-centerd does.
 *   direct  per transaction: session create, authenticate, issuance
 *           create, set content, set result -- 5 transactions of their
 *           own on the thread's own connection (the former kiosk-centerd).
 *
 * Built by tests/bench/center -m commits against libcenter.a.
 * usage: center-commits DB group|direct PROCESSES THREADS SECONDS
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "util.h"
#include "writer.h"

#define LAT_MAX		200000
#define CONTENT_LEN	3000

static const char *db;
static int group, seconds, nthreads;
static struct writer *wr;
static uint8_t content[CONTENT_LEN];

struct thr {
	int		 proc, index;
	pthread_t	 tid;
	double		*lat;
	size_t		 n;
	long		 failed;
	char		 why[320];
};

static double
now_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

struct tx {
	struct session		 se;
	struct issuance_req	 q;
	struct issuance		 is;
	int			 created, changed;
	uint8_t			*stored;
	size_t			 stored_len;
};

static int
op_claim(struct store *s, void *arg)
{
	struct tx *t = arg;

	return store_session_claim(s, &t->se, t->se.created_at + 1,
	    t->q.resident_id, "0A1B", "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef");
}

static int
op_create(struct store *s, void *arg)
{
	struct tx *t = arg;

	free(t->stored);
	t->stored = NULL;
	return store_issuance_create_signed(s, &t->q, content, sizeof(content),
	    &t->is, &t->created, &t->stored, &t->stored_len);
}

static int
op_result(struct store *s, void *arg)
{
	struct tx *t = arg;

	return store_issuance_set_result(s, t->is.id, ISSUANCE_COMMITTED, 1,
	    t->q.now + 2, &t->changed);
}

static void
make_tx(struct tx *t, int proc, int idx, unsigned long seq)
{
	time_t now = time(NULL);

	memset(t, 0, sizeof(*t));
	(void)snprintf(t->se.id, sizeof(t->se.id), "%08lx%04x%04x%016lx",
	    (unsigned long)now, (unsigned)getpid() & 0xffff, (unsigned)idx,
	    seq);
	(void)snprintf(t->se.kiosk_id, sizeof(t->se.kiosk_id), "S%04d-T01",
	    idx % 200 + 1);
	memset(t->se.challenge, 0x5a, 32);
	t->se.challenge_len = 32;
	t->se.created_at = now;
	t->se.expires_at = now + 60;
	(void)snprintf(t->q.idempotency_key, sizeof(t->q.idempotency_key),
	    "bench-%s", t->se.id);
	(void)snprintf(t->q.public_id, sizeof(t->q.public_id), "%s", t->se.id);
	(void)snprintf(t->q.session_id, sizeof(t->q.session_id), "%s",
	    t->se.id);
	(void)snprintf(t->q.kiosk_id, sizeof(t->q.kiosk_id), "%s",
	    t->se.kiosk_id);
	t->q.resident_id = 1 + (int64_t)((seq * 7 + (unsigned)idx +
	    (unsigned)proc * 13) % 250);
	(void)snprintf(t->q.document, sizeof(t->q.document), "juminhyo");
	(void)snprintf(t->q.options, sizeof(t->q.options), "{}");
	t->q.copies = 1;
	t->q.fee_yen = 200;
	t->q.now = now;
}

static int
run_direct(struct store *s, struct tx *t)
{
	int rc;

	if ((rc = store_session_create(s, &t->se)) != STORE_OK ||
	    (rc = store_session_authenticate(s, t->se.id, t->se.kiosk_id,
	    t->se.created_at + 1, t->q.resident_id, "0A1B",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
	    != STORE_OK ||
	    (rc = store_issuance_create(s, &t->q, &t->is, &t->created)) !=
	    STORE_OK ||
	    (rc = store_issuance_set_content(s, t->is.id, content,
	    sizeof(content))) != STORE_OK ||
	    (rc = store_issuance_set_result(s, t->is.id, ISSUANCE_COMMITTED, 1,
	    t->q.now + 2, &t->changed)) != STORE_OK)
		return rc;
	return STORE_OK;
}

static int
run_group(struct tx *t, char *why, size_t len)
{
	int rc;

	if ((rc = writer_call(wr, op_claim, t, why, len)) != STORE_OK ||
	    (rc = writer_call(wr, op_create, t, why, len)) != STORE_OK ||
	    (rc = writer_call(wr, op_result, t, why, len)) != STORE_OK)
		return rc;
	return t->created == 1 ? STORE_OK : STORE_CONFLICT;
}

static void *
thr_main(void *arg)
{
	struct thr *th = arg;
	struct store *s = NULL;
	struct tx t;
	char err[256];
	unsigned long seq = 0;
	double end, t0;
	int rc;

	if (!group && (s = store_open(db, 0, err, sizeof(err))) == NULL) {
		(void)snprintf(th->why, sizeof(th->why), "%s", err);
		th->failed++;
		return NULL;
	}
	end = now_ms() + seconds * 1e3;
	while ((t0 = now_ms()) < end && th->n < LAT_MAX) {
		make_tx(&t, th->proc, th->index, seq++);
		if (group)
			rc = run_group(&t, err, sizeof(err));
		else {
			rc = run_direct(s, &t);
			(void)snprintf(err, sizeof(err), "%s", store_errmsg(s));
		}
		free(t.stored);
		if (rc != STORE_OK) {
			th->failed++;
			(void)snprintf(th->why, sizeof(th->why), "%d: %s", rc,
			    err);
			continue;
		}
		th->lat[th->n++] = now_ms() - t0;
	}
	store_close(s);
	return NULL;
}

/* One process: its threads (and its writer); latencies to fd as text. */
static int
proc_main(int proc, int fd)
{
	struct thr *ths;
	char err[256];
	size_t k;
	int i;

	if (group && (wr = writer_start(db, err, sizeof(err))) == NULL) {
		dprintf(fd, "E %s\n", err);
		return 1;
	}
	if ((ths = calloc((size_t)nthreads, sizeof(*ths))) == NULL)
		return 1;
	for (i = 0; i < nthreads; i++) {
		ths[i].proc = proc;
		ths[i].index = proc * nthreads + i;
		if ((ths[i].lat = calloc(LAT_MAX, sizeof(double))) == NULL ||
		    pthread_create(&ths[i].tid, NULL, thr_main, &ths[i]) != 0)
			return 1;
	}
	for (i = 0; i < nthreads; i++) {
		(void)pthread_join(ths[i].tid, NULL);
		for (k = 0; k < ths[i].n; k++)
			dprintf(fd, "L %.3f\n", ths[i].lat[k]);
		if (ths[i].failed > 0)
			dprintf(fd, "F %ld %s\n", ths[i].failed, ths[i].why);
	}
	if (group) {
		struct writer_stats ws;

		writer_get_stats(wr, &ws);
		dprintf(fd, "W %lu %lu %lu\n", ws.ops, ws.batches,
		    ws.max_batch);
		writer_stop(wr);
	}
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	const char *errstr;
	double *lat;
	size_t n = 0, cap = 1 << 20;
	long failed = 0, f;
	unsigned long ops = 0, batches = 0, o, b, m, maxb = 0;
	char line[512];
	int nproc, i, fds[2], status, ok = 1;
	pid_t pid;
	FILE *in;
	size_t k;

	if (argc != 6 || (strcmp(argv[2], "group") != 0 &&
	    strcmp(argv[2], "direct") != 0)) {
		fprintf(stderr, "usage: center-commits DB group|direct "
		    "PROCESSES THREADS SECONDS\n");
		return 2;
	}
	db = argv[1];
	group = strcmp(argv[2], "group") == 0;
	nproc = (int)parse_num(argv[3], 1, 16, &errstr);
	if (errstr == NULL)
		nthreads = (int)parse_num(argv[4], 1, 256, &errstr);
	if (errstr == NULL)
		seconds = (int)parse_num(argv[5], 1, 600, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "center-commits: a number is %s\n", errstr);
		return 2;
	}
	for (k = 0; k < sizeof(content); k++)
		content[k] = (uint8_t)(k * 131 + 7);
	if (pipe(fds) == -1 || (lat = malloc(cap * sizeof(double))) == NULL)
		return 1;
	fflush(stdout);
	for (i = 0; i < nproc; i++) {
		if ((pid = fork()) == -1)
			return 1;
		if (pid == 0) {
			close(fds[0]);
			_exit(proc_main(i, fds[1]));
		}
	}
	close(fds[1]);
	if ((in = fdopen(fds[0], "r")) == NULL)
		return 1;
	while (fgets(line, sizeof(line), in) != NULL) {
		if (line[0] == 'L' && n < cap)
			lat[n++] = strtod(line + 2, NULL);
		else if (line[0] == 'F' && sscanf(line + 2, "%ld", &f) == 1) {
			failed += f;
			fprintf(stderr, "center-commits: %s", line + 2);
		} else if (line[0] == 'W' && sscanf(line + 2, "%lu %lu %lu", &o,
		    &b, &m) == 3) {
			ops += o;
			batches += b;
			if (m > maxb)
				maxb = m;
		} else if (line[0] == 'E')
			fprintf(stderr, "center-commits: %s", line + 2);
	}
	fclose(in);
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = 0;
	qsort(lat, n, sizeof(double), cmp_double);
	printf("commits %s: %d processes x %d threads, %d s: %zu transactions "
	    "(%ld failed): %.1f tx/s; p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	    group ? "group (3 writes/tx, group commit)" :
	    "direct (5 commits/tx)", nproc, nthreads, seconds, n, failed,
	    (double)n / seconds, n ? lat[n / 2] : 0.0,
	    n ? lat[(size_t)((double)(n - 1) * 0.99)] : 0.0,
	    n ? lat[n - 1] : 0.0);
	if (group && batches > 0)
		printf("  writer: %lu operations in %lu transactions (%.1f per "
		    "commit, largest %lu)\n", ops, batches, (double)ops /
		    (double)batches, maxb);
	free(lat);
	return ok && failed == 0 ? 0 : 1;
}
