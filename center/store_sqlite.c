/*
 * SQLite backend of the records layer.  One connection per struct store;
 * WAL, synchronous=FULL, foreign keys on, a busy timeout.  Every write is
 * a BEGIN IMMEDIATE transaction (a savepoint inside a bulk-load batch), so
 * several center processes can share one database file: the write lock is
 * taken before anything is read, and no decision is made on a stale
 * snapshot.  Multi-statement reads run in one read transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "util.h"

#define SQ_BUSY_TIMEOUT_MS	10000
/*
 * No memory-mapped reads: SQLite unmaps the whole mapping at the start of
 * every read transaction that follows a commit of another connection
 * (pagerBeginReadTransaction), and with several connections per process
 * and several processes that is nearly every one: munmap, TLB shootdowns
 * and page faults cost more than pread of the few pages a lookup needs.
 */
#define SQ_MMAP_SIZE		"0"
#define SQ_CACHE_KIB		"-8192"		/* 8 MiB page cache */
#define SQ_STMT_SLOTS		128		/* prepared statements kept */

/*
 * Prepared statements are kept per connection, keyed by the address of
 * their SQL text (every SQL text here is a string literal): compiling
 * the SQL again for each call cost more than running it.
 */
struct sq_stmt {
	const char	*sql;
	sqlite3_stmt	*st;
	int		 busy;		/* handed out, not yet given back */
};

struct sq {
	sqlite3	*db;
	int	 batch;		/* inside store_batch_begin/end */
	int	 colerr;	/* a column did not fit or did not parse */
	int	 busy_timeout_ms;
	struct timespec busy_since;	/* first retry of the current wait */
	uint64_t rnd;		/* xorshift state for the retry jitter */
	void	(*wal_fn)(void *, int);
	void	*wal_arg;
	struct sq_stmt stmts[SQ_STMT_SLOTS];
	char	 err[512];
};

/*
 * The schema, one string per version; migrate applies the missing ones in
 * order inside one write transaction.
 */
static const char schema_v1[] =
"CREATE TABLE households ("
"  id INTEGER PRIMARY KEY,"
"  head_resident_id INTEGER REFERENCES residents(id)"
"    DEFERRABLE INITIALLY DEFERRED,"
"  address TEXT NOT NULL CHECK (length(address) > 0)"
");"
"CREATE TABLE koseki ("
"  id INTEGER PRIMARY KEY,"
"  domicile TEXT NOT NULL,"
"  head_name TEXT NOT NULL,"
"  created_date TEXT NOT NULL CHECK (date(created_date) IS created_date),"
"  created_reason TEXT NOT NULL DEFAULT '',"
"  pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1))"
");"
"CREATE TABLE residents ("
"  id INTEGER PRIMARY KEY,"
"  register_code TEXT NOT NULL UNIQUE CHECK (length(register_code) = 11"
"    AND register_code NOT GLOB '*[^0-9]*'),"
"  family_name TEXT NOT NULL,"
"  given_name TEXT NOT NULL,"
"  family_kana TEXT NOT NULL,"
"  given_kana TEXT NOT NULL,"
"  name_substitute TEXT NOT NULL DEFAULT '',"
"  gaiji_pending INTEGER NOT NULL DEFAULT 0 CHECK (gaiji_pending IN (0, 1)),"
"  birth_date TEXT NOT NULL CHECK (date(birth_date) IS birth_date),"
"  sex INTEGER NOT NULL CHECK (sex IN (1, 2)),"
"  address TEXT NOT NULL,"
"  moved_in_date TEXT NOT NULL CHECK (date(moved_in_date) IS moved_in_date),"
"  status TEXT NOT NULL CHECK (status IN ('active', 'moved_out', 'deceased')),"
"  status_date TEXT CHECK (status_date IS NULL OR"
"    date(status_date) IS status_date),"
"  nationality TEXT,"
"  residence_status TEXT,"
"  residence_card TEXT,"
"  residence_end TEXT CHECK (residence_end IS NULL OR"
"    date(residence_end) IS residence_end),"
"  support_measures INTEGER NOT NULL DEFAULT 0"
"    CHECK (support_measures IN (0, 1)),"
"  my_number TEXT NOT NULL UNIQUE CHECK (length(my_number) = 12"
"    AND my_number NOT GLOB '*[^0-9]*'),"
"  household_id INTEGER NOT NULL REFERENCES households(id),"
"  relationship TEXT NOT NULL,"
"  domicile TEXT,"
"  domicile_head TEXT,"
"  koseki_id INTEGER REFERENCES koseki(id),"
"  CHECK ((status = 'active') = (status_date IS NULL)),"
"  CHECK (nationality IS NULL OR (koseki_id IS NULL AND domicile IS NULL)),"
"  CHECK (nationality IS NOT NULL OR (residence_status IS NULL"
"    AND domicile IS NOT NULL))"
");"
"CREATE INDEX residents_household ON residents(household_id);"
"CREATE INDEX residents_koseki ON residents(koseki_id);"
"CREATE TRIGGER households_head_member"
"  BEFORE UPDATE OF head_resident_id ON households"
"  WHEN NEW.head_resident_id IS NOT NULL AND (SELECT household_id FROM"
"    residents WHERE id = NEW.head_resident_id) IS NOT NEW.id "
"  BEGIN SELECT RAISE(ABORT, 'household head is not a member'); END;"
"CREATE TABLE koseki_entries ("
"  id INTEGER PRIMARY KEY,"
"  koseki_id INTEGER NOT NULL REFERENCES koseki(id),"
"  seq INTEGER NOT NULL CHECK (seq >= 1),"
"  resident_id INTEGER REFERENCES residents(id),"
"  family_name TEXT NOT NULL,"
"  given_name TEXT NOT NULL,"
"  birth_date TEXT NOT NULL CHECK (date(birth_date) IS birth_date),"
"  sex INTEGER NOT NULL CHECK (sex IN (1, 2)),"
"  father TEXT NOT NULL DEFAULT '',"
"  mother TEXT NOT NULL DEFAULT '',"
"  parent_relation TEXT NOT NULL DEFAULT '',"
"  removed INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1)),"
"  removal_reason TEXT NOT NULL DEFAULT '',"
"  UNIQUE (koseki_id, seq)"
");"
"CREATE INDEX koseki_entries_resident ON koseki_entries(resident_id);"
"CREATE TABLE koseki_events ("
"  entry_id INTEGER NOT NULL REFERENCES koseki_entries(id),"
"  seq INTEGER NOT NULL,"
"  kind TEXT NOT NULL,"
"  event_date TEXT NOT NULL CHECK (date(event_date) IS event_date),"
"  detail TEXT NOT NULL DEFAULT '',"
"  PRIMARY KEY (entry_id, seq)"
");"
"CREATE TABLE fuhyo_entries ("
"  entry_id INTEGER NOT NULL REFERENCES koseki_entries(id),"
"  seq INTEGER NOT NULL CHECK (seq >= 1),"
"  address TEXT NOT NULL,"
"  from_date TEXT NOT NULL CHECK (date(from_date) IS from_date),"
"  PRIMARY KEY (entry_id, seq)"
");"
"CREATE TABLE seals ("
"  id INTEGER PRIMARY KEY,"
"  registration_no TEXT NOT NULL UNIQUE,"
"  resident_id INTEGER NOT NULL REFERENCES residents(id),"
"  registered_date TEXT NOT NULL CHECK (date(registered_date) IS"
"    registered_date),"
"  status TEXT NOT NULL CHECK (status IN ('active', 'abolished')),"
"  abolished_date TEXT CHECK (abolished_date IS NULL OR"
"    date(abolished_date) IS abolished_date),"
"  image_type TEXT NOT NULL,"
"  image BLOB NOT NULL,"
"  CHECK ((status = 'active') = (abolished_date IS NULL))"
");"
"CREATE UNIQUE INDEX seals_one_active ON seals(resident_id)"
"  WHERE status = 'active';"
"CREATE INDEX seals_resident ON seals(resident_id);"
"CREATE TABLE tax_records ("
"  id INTEGER PRIMARY KEY,"
"  resident_id INTEGER NOT NULL REFERENCES residents(id),"
"  fiscal_year INTEGER NOT NULL,"
"  income_year INTEGER NOT NULL,"
"  total_income INTEGER NOT NULL,"
"  total_deductions INTEGER NOT NULL,"
"  taxable_income INTEGER NOT NULL,"
"  municipal_tax INTEGER NOT NULL,"
"  prefectural_tax INTEGER NOT NULL,"
"  UNIQUE (resident_id, fiscal_year)"
");"
"CREATE TABLE tax_items ("
"  tax_id INTEGER NOT NULL REFERENCES tax_records(id),"
"  seq INTEGER NOT NULL,"
"  kind TEXT NOT NULL CHECK (kind IN ('income', 'deduction')),"
"  category TEXT NOT NULL,"
"  amount INTEGER NOT NULL CHECK (amount >= 0),"
"  PRIMARY KEY (tax_id, seq)"
");"
"CREATE TABLE card_certs ("
"  serial TEXT PRIMARY KEY,"
"  resident_id INTEGER NOT NULL REFERENCES residents(id),"
"  issuer TEXT NOT NULL,"
"  not_after INTEGER NOT NULL,"
"  status TEXT NOT NULL CHECK (status IN ('valid', 'revoked'))"
");"
"CREATE INDEX card_certs_resident ON card_certs(resident_id);"
"CREATE TABLE issuances ("
"  id INTEGER PRIMARY KEY,"
"  idempotency_key TEXT NOT NULL UNIQUE,"
"  public_id TEXT NOT NULL UNIQUE CHECK (length(public_id) = 32),"
"  session_id TEXT NOT NULL,"
"  kiosk_id TEXT NOT NULL,"
"  resident_id INTEGER NOT NULL REFERENCES residents(id),"
"  document TEXT NOT NULL,"
"  options TEXT NOT NULL,"
"  copies INTEGER NOT NULL CHECK (copies >= 1),"
"  fee_yen INTEGER NOT NULL CHECK (fee_yen >= 0),"
"  state TEXT NOT NULL CHECK (state IN ('issued', 'committed', 'voided')),"
"  pages INTEGER NOT NULL DEFAULT 0,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  content BLOB"
");"
"CREATE INDEX issuances_session ON issuances(session_id);"
"CREATE TABLE sessions ("
"  id TEXT PRIMARY KEY,"
"  kiosk_id TEXT NOT NULL,"
"  challenge BLOB NOT NULL,"
"  created_at INTEGER NOT NULL,"
"  expires_at INTEGER NOT NULL,"
"  state TEXT NOT NULL CHECK (state IN ('new', 'authenticated', 'failed')),"
"  resident_id INTEGER REFERENCES residents(id),"
"  cert_serial TEXT,"
"  cert_sha256 TEXT,"
"  auth_at INTEGER,"
"  CHECK ((state = 'authenticated') = (resident_id IS NOT NULL))"
");"
"CREATE INDEX sessions_expiry ON sessions(expires_at);";

/*
 * v2: secrets shared by every process and center on this database (the
 * session key of stateless challenges), and the sessions table also holds
 * sessions first recorded when their challenge is answered.
 */
static const char schema_v2[] =
"CREATE TABLE center_secrets ("
"  name TEXT PRIMARY KEY,"
"  value BLOB NOT NULL CHECK (length(value) >= 16),"
"  created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))"
");";

static const char *const migrations[] = {
	schema_v1,
	schema_v2,
};

static int
sq_fail(struct sq *q, const char *what)
{
	int code = sqlite3_errcode(q->db);

	snprintf(q->err, sizeof(q->err), "%s: %s", what,
	    sqlite3_errmsg(q->db));
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return STORE_BUSY;
	return STORE_ERR;
}

static int sq_errx(struct sq *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
sq_errx(struct sq *q, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	return rc;
}

static int
sq_exec(struct sq *q, const char *sql)
{
	char *msg = NULL;
	int rc;

	if ((rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg)) != SQLITE_OK) {
		snprintf(q->err, sizeof(q->err), "%s", msg != NULL ? msg :
		    sqlite3_errstr(rc));
		sqlite3_free(msg);
		return (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ?
		    STORE_BUSY : STORE_ERR;
	}
	return STORE_OK;
}

static size_t
sq_slot(const char *sql)
{
	uintptr_t h = (uintptr_t)sql;

	h ^= h >> 17;
	h *= 0x9e3779b1u;
	return (size_t)(h >> 7) % SQ_STMT_SLOTS;
}

/*
 * A statement for `sql`, which must be a string literal (its address is
 * the key): the kept one when it is free, else a new one (kept if there
 * is room).  Give it back with sq_fin.
 */
static int
sq_prep(struct sq *q, const char *sql, sqlite3_stmt **st)
{
	struct sq_stmt *e = NULL;
	size_t i, k;

	*st = NULL;
	for (i = 0, k = sq_slot(sql); i < SQ_STMT_SLOTS; i++,
	    k = (k + 1) % SQ_STMT_SLOTS) {
		if (q->stmts[k].sql == sql) {
			if (!q->stmts[k].busy) {
				q->stmts[k].busy = 1;
				*st = q->stmts[k].st;
				return STORE_OK;
			}
			break;	/* in use (nested): a one-off below */
		}
		if (q->stmts[k].sql == NULL) {
			e = &q->stmts[k];
			break;
		}
	}
	if (e != NULL) {
		if (sqlite3_prepare_v3(q->db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
			*st = NULL;
			return sq_fail(q, "prepare");
		}
		e->sql = sql;
		e->st = *st;
		e->busy = 1;
		return STORE_OK;
	}
	if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return sq_fail(q, "prepare");
	}
	return STORE_OK;
}

/* Give a statement back: reset and kept, or finalized if a one-off. */
static void
sq_fin(struct sq *q, sqlite3_stmt *st)
{
	size_t k;

	if (st == NULL)
		return;
	for (k = 0; k < SQ_STMT_SLOTS; k++)
		if (q->stmts[k].st == st) {
			(void)sqlite3_reset(st);
			(void)sqlite3_clear_bindings(st);
			q->stmts[k].busy = 0;
			return;
		}
	(void)sqlite3_finalize(st);
}

/* One statement without rows (transaction control), kept prepared. */
static int
sq_run(struct sq *q, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = sq_prep(q, sql, &st)) != STORE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sq_fin(q, st);
		return STORE_OK;
	}
	snprintf(q->err, sizeof(q->err), "%s: %s", sql, sqlite3_errmsg(q->db));
	sq_fin(q, st);
	return (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? STORE_BUSY :
	    STORE_ERR;
}

/* Write transactions: BEGIN IMMEDIATE, or a savepoint inside a batch. */
static int
tx_write(struct sq *q)
{
	return sq_run(q, q->batch ? "SAVEPOINT op" : "BEGIN IMMEDIATE");
}

/* Read transactions: one snapshot for a multi-statement read. */
static int
tx_read(struct sq *q)
{
	return sq_run(q, q->batch ? "SAVEPOINT op" : "BEGIN");
}

/* Keeps q->err: the failure that made us roll back matters more. */
static void
tx_rollback(struct sq *q)
{
	char keep[sizeof(q->err)];

	memcpy(keep, q->err, sizeof(keep));
	if (q->batch) {
		if (sq_run(q, "ROLLBACK TO op") == STORE_OK)
			(void)sq_run(q, "RELEASE op");
	} else if (sqlite3_get_autocommit(q->db) == 0)
		(void)sq_run(q, "ROLLBACK");
	memcpy(q->err, keep, sizeof(keep));
}

static int
tx_commit(struct sq *q)
{
	int rc;

	if ((rc = sq_run(q, q->batch ? "RELEASE op" : "COMMIT")) != STORE_OK) {
		/* COMMIT can fail with BUSY for a reader; never leave it open */
		if (!q->batch && sqlite3_get_autocommit(q->db) == 0)
			(void)sq_run(q, "ROLLBACK");
	}
	return rc;
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Empty strings become NULL (optional columns). */
static int
bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL || *s == '\0')
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int
bind_date(sqlite3_stmt *st, int i, const struct store_date *d)
{
	char buf[16];

	if (store_date_is_zero(d))
		return sqlite3_bind_null(st, i);
	store_date_format(d, buf, sizeof(buf));
	return sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
}

static int
bind_id(sqlite3_stmt *st, int i, int64_t id)
{
	if (id == 0)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_int64(st, i, id);
}

static void
col_text(struct sq *q, sqlite3_stmt *st, int i, char *dst, size_t dstlen)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);

	dst[0] = '\0';
	if (t == NULL)
		return;
	if (n < 0 || (size_t)n >= dstlen || memchr(t, '\0', (size_t)n)) {
		q->colerr = 1;
		return;
	}
	memcpy(dst, t, (size_t)n);
	dst[n] = '\0';
}

static void
col_date(struct sq *q, sqlite3_stmt *st, int i, struct store_date *d)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	memset(d, 0, sizeof(*d));
	if (t == NULL)
		return;
	if (store_date_parse(t, d) == -1)
		q->colerr = 1;
}

static int64_t
col_id(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	return sqlite3_column_int64(st, i);
}

static int
col_int(struct sq *q, sqlite3_stmt *st, int i, int min, int max)
{
	sqlite3_int64 v = sqlite3_column_int64(st, i);

	if (v < min || v > max) {
		q->colerr = 1;
		return min;
	}
	return (int)v;
}

/* Step a statement that must finish with SQLITE_DONE. */
static int
step_done(struct sq *q, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return STORE_OK;
	if (rc == SQLITE_CONSTRAINT) {
		snprintf(q->err, sizeof(q->err), "%s: %s", what,
		    sqlite3_errmsg(q->db));
		return STORE_CONFLICT;
	}
	return sq_fail(q, what);
}

/* Check that all binds succeeded (they fail only on OOM or range). */
static int
binds_ok(struct sq *q, int rc)
{
	if (rc != SQLITE_OK) {
		snprintf(q->err, sizeof(q->err), "bind: %s", sqlite3_errstr(rc));
		return 0;
	}
	return 1;
}

static int
check_colerr(struct sq *q, const char *what)
{
	if (q->colerr) {
		q->colerr = 0;
		return sq_errx(q, STORE_ERR, "corrupt or oversized %s record",
		    what);
	}
	return STORE_OK;
}

/* Grow a caller-freed array by one element; NULL on overflow/OOM. */
static void *
grow(void *arr, size_t *cap, size_t n, size_t elsize)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return arr;
	ncap = *cap == 0 ? 8 : *cap * 2;
	if (ncap < *cap || ncap > SIZE_MAX / elsize)
		return NULL;
	if ((p = realloc(arr, ncap * elsize)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

/* ------------------------------------------------------------------ */

static uint64_t
sq_rand(struct sq *q)
{
	q->rnd ^= q->rnd << 13;
	q->rnd ^= q->rnd >> 7;
	q->rnd ^= q->rnd << 17;
	return q->rnd;
}

/*
 * Lock waits across processes: SQLite's own busy handler sleeps 1, 2, 5,
 * 10, 15, 20, 25... ms between attempts, so a writer that just missed a
 * ~1 ms commit of another process waits far longer than the lock is held.
 * Poll instead with short randomised sleeps (about 100 us at first, so
 * waiters do not retry in step), growing only when the wait is long, up
 * to the timeout.
 */
static int
sq_busy(void *arg, int count)
{
	struct sq *q = arg;
	struct timespec ts;
	long long waited_ms;
	uint64_t base_us, us;

	if (count == 0)
		(void)clock_gettime(CLOCK_MONOTONIC, &q->busy_since);
	waited_ms = (long long)ms_since(&q->busy_since);
	if (waited_ms >= q->busy_timeout_ms)
		return 0;
	base_us = count < 32 ? 100 : count < 256 ? 500 : 2000;
	us = base_us / 2 + sq_rand(q) % base_us;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(us * 1000);
	(void)nanosleep(&ts, NULL);
	return 1;
}

/* Replaces SQLite's auto-checkpoint on this connection (see store.h). */
static int
sq_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sq *q = arg;

	(void)db;
	(void)name;
	if (q->wal_fn != NULL)
		q->wal_fn(q->wal_arg, frames);
	return SQLITE_OK;
}

/*
 * Before SQLite's first use in the process: no memory statistics.  With
 * them on (the default) every sqlite3_malloc() and sqlite3_free() takes
 * one process-wide mutex, and the handler threads of a center queue on it
 * (a futex call per contended allocation).  We never read the statistics.
 */
static pthread_once_t sq_once = PTHREAD_ONCE_INIT;

static void
sq_configure(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void *
store_sqlite_open(const char *path, int flags, char *err, size_t errlen)
{
	struct sq *q;
	sqlite3_stmt *st = NULL;
	const char *mode;
	int oflags, rc;

	(void)pthread_once(&sq_once, sq_configure);
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
	if (flags & STORE_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	if ((rc = sqlite3_open_v2(path, &q->db, oflags, NULL)) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, q->db != NULL ?
		    sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
		goto fail;
	}
	(void)sqlite3_extended_result_codes(q->db, 0);
	q->busy_timeout_ms = SQ_BUSY_TIMEOUT_MS;
	q->rnd = ((uint64_t)time(NULL) << 32) ^ (uint64_t)getpid() ^
	    (uint64_t)(uintptr_t)q;
	if (q->rnd == 0)
		q->rnd = 0x9e3779b97f4a7c15ULL;
	if (sqlite3_busy_handler(q->db, sq_busy, q) != SQLITE_OK ||
	    sq_exec(q, "PRAGMA foreign_keys = ON") != STORE_OK ||
	    sq_exec(q, "PRAGMA synchronous = FULL") != STORE_OK ||
	    sq_exec(q, "PRAGMA trusted_schema = OFF") != STORE_OK ||
	    sq_exec(q, "PRAGMA temp_store = MEMORY") != STORE_OK ||
	    sq_exec(q, "PRAGMA cache_size = " SQ_CACHE_KIB) != STORE_OK ||
	    sq_exec(q, "PRAGMA mmap_size = " SQ_MMAP_SIZE) != STORE_OK) {
		snprintf(err, errlen, "%s: %s", path, q->err[0] ? q->err :
		    sqlite3_errmsg(q->db));
		goto fail;
	}
	/* journal_mode reports the mode it ended up in; insist on WAL */
	if (sqlite3_prepare_v2(q->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    (mode = (const char *)sqlite3_column_text(st, 0)) == NULL ||
	    strcmp(mode, "wal") != 0) {
		snprintf(err, errlen, "%s: cannot use WAL journal mode: %s",
		    path, sqlite3_errmsg(q->db));
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* foreign_keys is silently ignored inside a transaction: verify */
	if (sqlite3_prepare_v2(q->db, "PRAGMA foreign_keys", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_int(st, 0) != 1) {
		snprintf(err, errlen, "%s: foreign keys unavailable", path);
		goto fail;
	}
	sqlite3_finalize(st);
	return q;
fail:
	sqlite3_finalize(st);
	sqlite3_close(q->db);
	free(q);
	return NULL;
}

static void
sq_close(void *h)
{
	struct sq *q = h;

	size_t k;

	if (q->batch)
		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	for (k = 0; k < SQ_STMT_SLOTS; k++)
		if (q->stmts[k].st != NULL)
			(void)sqlite3_finalize(q->stmts[k].st);
	if (sqlite3_close(q->db) != SQLITE_OK)
		fprintf(stderr, "store: close: %s\n", sqlite3_errmsg(q->db));
	free(q);
}

static const char *
sq_errmsg(void *h)
{
	struct sq *q = h;

	return q->err[0] != '\0' ? q->err : "no error";
}

static int
read_version(struct sq *q, int *v)
{
	sqlite3_stmt *st;
	int rc;

	*v = 0;
	if ((rc = sq_prep(q, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'schema_version'", &st)) != STORE_OK)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = sq_fail(q, "schema lookup");
		sq_fin(q, st);
		return rc;
	}
	rc = sqlite3_column_int(st, 0);
	sq_fin(q, st);
	if (rc == 0)
		return STORE_OK;
	if ((rc = sq_prep(q, "SELECT version FROM schema_version WHERE id = 1",
	    &st)) != STORE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE) {
		rc = sq_fail(q, "schema version");
		sq_fin(q, st);
		return rc;
	}
	sq_fin(q, st);
	return STORE_OK;
}

static int
sq_schema_version(void *h, int *v)
{
	struct sq *q = h;
	int rc;

	if ((rc = tx_read(q)) != STORE_OK)
		return rc;
	rc = read_version(q, v);
	if (rc == STORE_OK)
		return tx_commit(q);
	tx_rollback(q);
	return rc;
}

static int
sq_migrate(void *h)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	int rc, v;
	const int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));

	if (q->batch)
		return sq_errx(q, STORE_ERR, "%s", "migrate inside a batch");
	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = read_version(q, &v)) != STORE_OK)
		goto fail;
	if (v > latest) {
		snprintf(q->err, sizeof(q->err), "database schema version %d "
		    "is newer than this program's (%d)", v, latest);
		rc = STORE_ERR;
		goto fail;
	}
	if (v == 0 && (rc = sq_exec(q, "CREATE TABLE schema_version ("
	    "id INTEGER PRIMARY KEY CHECK (id = 1), "
	    "version INTEGER NOT NULL, "
	    "applied_at INTEGER NOT NULL DEFAULT "
	    "(CAST(strftime('%s', 'now') AS INTEGER)))")) != STORE_OK)
		goto fail;
	for (; v < latest; v++)
		if ((rc = sq_exec(q, migrations[v])) != STORE_OK)
			goto fail;
	if ((rc = sq_prep(q, "INSERT INTO schema_version (id, version) "
	    "VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = "
	    "excluded.version, applied_at = "
	    "CAST(strftime('%s', 'now') AS INTEGER)", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int(st, 1, latest))) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "schema version")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	return tx_commit(q);
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

/* The outer transaction of a batch or a snapshot; inside, savepoints. */
static int
tx_outer(struct sq *q, const char *begin)
{
	int rc;

	if (q->batch)
		return sq_errx(q, STORE_ERR, "%s", "a transaction is open");
	if ((rc = sq_run(q, begin)) != STORE_OK)
		return rc;
	q->batch = 1;
	return STORE_OK;
}

static int
sq_batch_begin(void *h)
{
	return tx_outer(h, "BEGIN IMMEDIATE");
}

/* A read snapshot: a deferred BEGIN, ended like a batch (COMMIT). */
static int
sq_read_begin(void *h)
{
	return tx_outer(h, "BEGIN");
}

static int
sq_batch_end(void *h, int commit)
{
	struct sq *q = h;

	if (!q->batch)
		return sq_errx(q, STORE_ERR, "%s", "no transaction open");
	q->batch = 0;
	if (!commit) {
		tx_rollback(q);
		return STORE_OK;
	}
	return tx_commit(q);
}

static int
sq_read_end(void *h)
{
	return sq_batch_end(h, 1);
}

/*
 * Run one prepared single-row write in its own transaction; sets *id to
 * the new rowid when id is not NULL.  Finalizes st.
 */
static int
write_one(struct sq *q, sqlite3_stmt *st, const char *what, int64_t *id)
{
	int rc;

	if ((rc = tx_write(q)) != STORE_OK) {
		sq_fin(q, st);
		return rc;
	}
	rc = step_done(q, st, what);
	sq_fin(q, st);
	if (rc != STORE_OK) {
		tx_rollback(q);
		return rc;
	}
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(q->db);
	return tx_commit(q);
}

static int
sq_household_insert(void *h, struct household *hh)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc;

	if ((rc = sq_prep(q, "INSERT INTO households (address) VALUES (?)",
	    &st)) != STORE_OK)
		return rc;
	if (!binds_ok(q, bind_text(st, 1, hh->address))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	hh->head_resident_id = 0;
	return write_one(q, st, "insert household", &hh->id);
}

static int
sq_household_set_head(void *h, int64_t hid, int64_t rid)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc;

	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "UPDATE households SET head_resident_id = ? "
	    "WHERE id = ?", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, rid) |
	    sqlite3_bind_int64(st, 2, hid))) {
		sq_fin(q, st);
		rc = STORE_ERR;
		goto fail;
	}
	rc = step_done(q, st, "set household head");
	sq_fin(q, st);
	if (rc != STORE_OK)
		goto fail;
	if (sqlite3_changes(q->db) != 1) {
		rc = sq_errx(q, STORE_NOTFOUND, "%s", "no such household");
		goto fail;
	}
	return tx_commit(q);
fail:
	tx_rollback(q);
	return rc;
}

#define RESIDENT_COLS "r.id, r.register_code, r.family_name, r.given_name, " \
	"r.family_kana, r.given_kana, r.name_substitute, r.gaiji_pending, " \
	"r.birth_date, r.sex, r.address, r.moved_in_date, r.status, " \
	"r.status_date, r.nationality, r.residence_status, r.residence_card, " \
	"r.residence_end, r.support_measures, r.my_number, r.household_id, " \
	"r.relationship, r.domicile, r.domicile_head, r.koseki_id"

static void
read_resident(struct sq *q, sqlite3_stmt *st, struct resident *r)
{
	char status[16];

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	col_text(q, st, 1, r->register_code, sizeof(r->register_code));
	col_text(q, st, 2, r->family_name, sizeof(r->family_name));
	col_text(q, st, 3, r->given_name, sizeof(r->given_name));
	col_text(q, st, 4, r->family_kana, sizeof(r->family_kana));
	col_text(q, st, 5, r->given_kana, sizeof(r->given_kana));
	col_text(q, st, 6, r->name_substitute, sizeof(r->name_substitute));
	r->gaiji_pending = col_int(q, st, 7, 0, 1);
	col_date(q, st, 8, &r->birth);
	r->sex = (enum store_sex)col_int(q, st, 9, 1, 2);
	col_text(q, st, 10, r->address, sizeof(r->address));
	col_date(q, st, 11, &r->moved_in);
	col_text(q, st, 12, status, sizeof(status));
	if (strcmp(status, "active") == 0)
		r->status = RESIDENT_ACTIVE;
	else if (strcmp(status, "moved_out") == 0)
		r->status = RESIDENT_MOVED_OUT;
	else if (strcmp(status, "deceased") == 0)
		r->status = RESIDENT_DECEASED;
	else
		q->colerr = 1;
	col_date(q, st, 13, &r->status_date);
	col_text(q, st, 14, r->nationality, sizeof(r->nationality));
	col_text(q, st, 15, r->residence_status, sizeof(r->residence_status));
	col_text(q, st, 16, r->residence_card, sizeof(r->residence_card));
	col_date(q, st, 17, &r->residence_end);
	r->support_measures = col_int(q, st, 18, 0, 1);
	col_text(q, st, 19, r->my_number, sizeof(r->my_number));
	r->household_id = col_id(st, 20);
	col_text(q, st, 21, r->relationship, sizeof(r->relationship));
	col_text(q, st, 22, r->domicile, sizeof(r->domicile));
	col_text(q, st, 23, r->domicile_head, sizeof(r->domicile_head));
	r->koseki_id = col_id(st, 24);
}

static int
sq_resident_insert(void *h, struct resident *r)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc, b = 0;

	if ((rc = sq_prep(q, "INSERT INTO residents (register_code, "
	    "family_name, given_name, family_kana, given_kana, "
	    "name_substitute, gaiji_pending, birth_date, sex, address, "
	    "moved_in_date, status, status_date, nationality, "
	    "residence_status, residence_card, residence_end, "
	    "support_measures, my_number, household_id, relationship, "
	    "domicile, domicile_head, koseki_id) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)) !=
	    STORE_OK)
		return rc;
	b |= bind_text(st, 1, r->register_code);
	b |= bind_text(st, 2, r->family_name);
	b |= bind_text(st, 3, r->given_name);
	b |= bind_text(st, 4, r->family_kana);
	b |= bind_text(st, 5, r->given_kana);
	b |= bind_text(st, 6, r->name_substitute);
	b |= sqlite3_bind_int(st, 7, r->gaiji_pending ? 1 : 0);
	b |= bind_date(st, 8, &r->birth);
	b |= sqlite3_bind_int(st, 9, (int)r->sex);
	b |= bind_text(st, 10, r->address);
	b |= bind_date(st, 11, &r->moved_in);
	b |= bind_text(st, 12, store_status_name(r->status));
	b |= bind_date(st, 13, &r->status_date);
	b |= bind_opt_text(st, 14, r->nationality);
	b |= bind_opt_text(st, 15, r->residence_status);
	b |= bind_opt_text(st, 16, r->residence_card);
	b |= bind_date(st, 17, &r->residence_end);
	b |= sqlite3_bind_int(st, 18, r->support_measures ? 1 : 0);
	b |= bind_text(st, 19, r->my_number);
	b |= sqlite3_bind_int64(st, 20, r->household_id);
	b |= bind_text(st, 21, r->relationship);
	b |= bind_opt_text(st, 22, r->domicile);
	b |= bind_opt_text(st, 23, r->domicile_head);
	b |= bind_id(st, 24, r->koseki_id);
	if (!binds_ok(q, b)) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	return write_one(q, st, "insert resident", &r->id);
}

static int
sq_resident_set_status(void *h, int64_t id, enum resident_status s,
    const struct store_date *when)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	struct store_date zero = { 0, 0, 0 };
	int rc, b = 0;

	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "UPDATE residents SET status = ?, status_date = ? "
	    "WHERE id = ?", &st)) != STORE_OK)
		goto fail;
	b |= bind_text(st, 1, store_status_name(s));
	b |= bind_date(st, 2, s == RESIDENT_ACTIVE ? &zero : when);
	b |= sqlite3_bind_int64(st, 3, id);
	if (!binds_ok(q, b)) {
		sq_fin(q, st);
		rc = STORE_ERR;
		goto fail;
	}
	rc = step_done(q, st, "set resident status");
	sq_fin(q, st);
	if (rc != STORE_OK)
		goto fail;
	if (sqlite3_changes(q->db) != 1) {
		rc = sq_errx(q, STORE_NOTFOUND, "%s", "no such resident");
		goto fail;
	}
	return tx_commit(q);
fail:
	tx_rollback(q);
	return rc;
}

static int
sq_koseki_insert(void *h, struct koseki *k)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc, b = 0;

	if ((rc = sq_prep(q, "INSERT INTO koseki (domicile, head_name, "
	    "created_date, created_reason, pending) VALUES (?, ?, ?, ?, ?)",
	    &st)) != STORE_OK)
		return rc;
	b |= bind_text(st, 1, k->domicile);
	b |= bind_text(st, 2, k->head_name);
	b |= bind_date(st, 3, &k->created);
	b |= bind_text(st, 4, k->created_reason);
	b |= sqlite3_bind_int(st, 5, k->pending ? 1 : 0);
	if (!binds_ok(q, b)) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	return write_one(q, st, "insert family register", &k->id);
}

static int
sq_koseki_entry_insert(void *h, struct koseki_entry *e)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc, b = 0;

	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "INSERT INTO koseki_entries (koseki_id, seq, "
	    "resident_id, family_name, given_name, birth_date, sex, father, "
	    "mother, parent_relation, removed, removal_reason) VALUES (?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)) != STORE_OK)
		goto fail;
	b |= sqlite3_bind_int64(st, 1, e->koseki_id);
	b |= sqlite3_bind_int(st, 2, e->seq);
	b |= bind_id(st, 3, e->resident_id);
	b |= bind_text(st, 4, e->family_name);
	b |= bind_text(st, 5, e->given_name);
	b |= bind_date(st, 6, &e->birth);
	b |= sqlite3_bind_int(st, 7, (int)e->sex);
	b |= bind_text(st, 8, e->father);
	b |= bind_text(st, 9, e->mother);
	b |= bind_text(st, 10, e->parent_relation);
	b |= sqlite3_bind_int(st, 11, e->removed ? 1 : 0);
	b |= bind_text(st, 12, e->removal_reason);
	if (!binds_ok(q, b)) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "insert register entry")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	st = NULL;
	e->id = sqlite3_last_insert_rowid(q->db);
	for (i = 0; i < e->nevents; i++) {
		if ((rc = sq_prep(q, "INSERT INTO koseki_events (entry_id, seq, "
		    "kind, event_date, detail) VALUES (?, ?, ?, ?, ?)", &st)) !=
		    STORE_OK)
			goto fail;
		b = sqlite3_bind_int64(st, 1, e->id);
		b |= sqlite3_bind_int(st, 2, (int)i + 1);
		b |= bind_text(st, 3, e->events[i].kind);
		b |= bind_date(st, 4, &e->events[i].date);
		b |= bind_text(st, 5, e->events[i].detail);
		if (!binds_ok(q, b)) {
			rc = STORE_ERR;
			goto fail;
		}
		if ((rc = step_done(q, st, "insert register event")) !=
		    STORE_OK)
			goto fail;
		sq_fin(q, st);
		st = NULL;
	}
	return tx_commit(q);
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

static int
sq_fuhyo_insert(void *h, const struct fuhyo_entry *f)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc, b = 0;

	if ((rc = sq_prep(q, "INSERT INTO fuhyo_entries (entry_id, seq, "
	    "address, from_date) VALUES (?, ?, ?, ?)", &st)) != STORE_OK)
		return rc;
	b |= sqlite3_bind_int64(st, 1, f->entry_id);
	b |= sqlite3_bind_int(st, 2, f->seq);
	b |= bind_text(st, 3, f->address);
	b |= bind_date(st, 4, &f->from);
	if (!binds_ok(q, b)) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	return write_one(q, st, "insert 附票 entry", NULL);
}

static int
sq_seal_insert(void *h, struct seal *s)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc, b = 0;

	if ((rc = sq_prep(q, "INSERT INTO seals (registration_no, resident_id, "
	    "registered_date, status, abolished_date, image_type, image) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)", &st)) != STORE_OK)
		return rc;
	b |= bind_text(st, 1, s->registration_no);
	b |= sqlite3_bind_int64(st, 2, s->resident_id);
	b |= bind_date(st, 3, &s->registered);
	b |= bind_text(st, 4, s->status == SEAL_ACTIVE ? "active" :
	    "abolished");
	b |= bind_date(st, 5, &s->abolished);
	b |= bind_text(st, 6, s->image_type);
	b |= sqlite3_bind_blob(st, 7, s->image, (int)s->image_len,
	    SQLITE_TRANSIENT);
	if (!binds_ok(q, b)) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	return write_one(q, st, "insert seal", &s->id);
}

static int
sq_tax_insert(void *h, const struct tax_record *t)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	int64_t tid;
	size_t i;
	int rc, b = 0;

	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "INSERT INTO tax_records (resident_id, "
	    "fiscal_year, income_year, total_income, total_deductions, "
	    "taxable_income, municipal_tax, prefectural_tax) VALUES (?, ?, ?, "
	    "?, ?, ?, ?, ?)", &st)) != STORE_OK)
		goto fail;
	b |= sqlite3_bind_int64(st, 1, t->resident_id);
	b |= sqlite3_bind_int(st, 2, t->fiscal_year);
	b |= sqlite3_bind_int(st, 3, t->income_year);
	b |= sqlite3_bind_int64(st, 4, t->total_income);
	b |= sqlite3_bind_int64(st, 5, t->total_deductions);
	b |= sqlite3_bind_int64(st, 6, t->taxable_income);
	b |= sqlite3_bind_int64(st, 7, t->municipal_tax);
	b |= sqlite3_bind_int64(st, 8, t->prefectural_tax);
	if (!binds_ok(q, b)) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "insert tax record")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	st = NULL;
	tid = sqlite3_last_insert_rowid(q->db);
	for (i = 0; i < t->nitems; i++) {
		if ((rc = sq_prep(q, "INSERT INTO tax_items (tax_id, seq, kind, "
		    "category, amount) VALUES (?, ?, ?, ?, ?)", &st)) !=
		    STORE_OK)
			goto fail;
		b = sqlite3_bind_int64(st, 1, tid);
		b |= sqlite3_bind_int(st, 2, (int)i + 1);
		b |= bind_text(st, 3, t->items[i].kind == TAX_ITEM_INCOME ?
		    "income" : "deduction");
		b |= bind_text(st, 4, t->items[i].category);
		b |= sqlite3_bind_int64(st, 5, t->items[i].amount);
		if (!binds_ok(q, b)) {
			rc = STORE_ERR;
			goto fail;
		}
		if ((rc = step_done(q, st, "insert tax item")) != STORE_OK)
			goto fail;
		sq_fin(q, st);
		st = NULL;
	}
	return tx_commit(q);
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

/* Run a one-row SELECT with one int64 parameter into a resident. */
static int
sq_resident_get(void *h, int64_t id, struct resident *r)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc;

	if ((rc = sq_prep(q, "SELECT " RESIDENT_COLS " FROM residents r "
	    "WHERE r.id = ?", &st)) != STORE_OK)
		return rc;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, id))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_resident(q, st, r);
		rc = check_colerr(q, "resident");
	} else if (rc == SQLITE_DONE)
		rc = STORE_NOTFOUND;
	else
		rc = sq_fail(q, "resident lookup");
	sq_fin(q, st);
	return rc;
}

static int
sq_resident_ids(void *h, int64_t **out, size_t *n)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int64_t *ids = NULL, *p;
	size_t cap = 0, cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = sq_prep(q, "SELECT id FROM residents ORDER BY id", &st)) !=
	    STORE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((p = grow(ids, &cap, cnt, sizeof(*ids))) == NULL) {
			rc = sq_errx(q, STORE_ERR, "%s", "out of memory");
			goto done;
		}
		ids = p;
		ids[cnt++] = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE) {
		rc = sq_fail(q, "resident list");
		goto done;
	}
	*out = ids;
	*n = cnt;
	ids = NULL;
	rc = STORE_OK;
done:
	sq_fin(q, st);
	free(ids);
	return rc;
}

static int
sq_household_get(void *h, int64_t id, struct household *hh)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc;

	if ((rc = sq_prep(q, "SELECT id, head_resident_id, address FROM "
	    "households WHERE id = ?", &st)) != STORE_OK)
		return rc;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, id))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(hh, 0, sizeof(*hh));
		hh->id = sqlite3_column_int64(st, 0);
		hh->head_resident_id = col_id(st, 1);
		col_text(q, st, 2, hh->address, sizeof(hh->address));
		rc = check_colerr(q, "household");
	} else if (rc == SQLITE_DONE)
		rc = STORE_NOTFOUND;
	else
		rc = sq_fail(q, "household lookup");
	sq_fin(q, st);
	return rc;
}

static int
sq_household_members(void *h, int64_t hid, int all, struct resident **out,
    size_t *n)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	struct resident *arr = NULL, *p;
	size_t cap = 0, cnt = 0;
	int rc;

	if ((rc = tx_read(q)) != STORE_OK)
		return rc;
	/* distinguish "no such household" from "no active member" */
	if ((rc = sq_prep(q, "SELECT 1 FROM households WHERE id = ?", &st)) !=
	    STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, hid))) {
		rc = STORE_ERR;
		goto fail;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? STORE_NOTFOUND :
		    sq_fail(q, "household lookup");
		goto fail;
	}
	sq_fin(q, st);
	if ((rc = sq_prep(q, "SELECT " RESIDENT_COLS " FROM residents r "
	    "JOIN households h ON h.id = r.household_id WHERE h.id = ?1 AND "
	    "(?2 OR r.status = 'active') ORDER BY "
	    "(r.id IS h.head_resident_id) DESC, r.id", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, hid) |
	    sqlite3_bind_int(st, 2, all ? 1 : 0))) {
		rc = STORE_ERR;
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((p = grow(arr, &cap, cnt, sizeof(*arr))) == NULL) {
			rc = sq_errx(q, STORE_ERR, "%s", "out of memory");
			goto fail;
		}
		arr = p;
		read_resident(q, st, &arr[cnt++]);
	}
	if (rc != SQLITE_DONE) {
		rc = sq_fail(q, "household members");
		goto fail;
	}
	if ((rc = check_colerr(q, "resident")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	if ((rc = tx_commit(q)) != STORE_OK) {
		free(arr);
		return rc;
	}
	*out = arr;
	*n = cnt;
	return STORE_OK;
fail:
	sq_fin(q, st);
	tx_rollback(q);
	free(arr);
	return rc;
}

static int
sq_seal_by_resident(void *h, int64_t rid, int with_image, struct seal *s)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	const void *blob;
	char status[16];
	int rc, len;

	/* the image is the row's last column: without it, its overflow
	   pages are never read */
#define SEAL_COLS "SELECT id, registration_no, resident_id, " \
	    "registered_date, status, abolished_date, image_type"
#define SEAL_WHERE " FROM seals WHERE resident_id = ? ORDER BY " \
	    "(status = 'active') DESC, registered_date DESC, id DESC LIMIT 1"
	if ((rc = sq_prep(q, with_image ? SEAL_COLS ", image" SEAL_WHERE :
	    SEAL_COLS SEAL_WHERE, &st)) != STORE_OK)
		return rc;
#undef SEAL_COLS
#undef SEAL_WHERE
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, rid))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sq_fin(q, st);
		return STORE_NOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		rc = sq_fail(q, "seal lookup");
		sq_fin(q, st);
		return rc;
	}
	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	col_text(q, st, 1, s->registration_no, sizeof(s->registration_no));
	s->resident_id = sqlite3_column_int64(st, 2);
	col_date(q, st, 3, &s->registered);
	col_text(q, st, 4, status, sizeof(status));
	s->status = strcmp(status, "active") == 0 ? SEAL_ACTIVE :
	    SEAL_ABOLISHED;
	col_date(q, st, 5, &s->abolished);
	col_text(q, st, 6, s->image_type, sizeof(s->image_type));
	if (!with_image) {
		rc = check_colerr(q, "seal");
		sq_fin(q, st);
		return rc;
	}
	blob = sqlite3_column_blob(st, 7);
	len = sqlite3_column_bytes(st, 7);
	if (blob == NULL || len <= 0 || len > STORE_SEAL_IMAGE_MAX)
		q->colerr = 1;
	if ((rc = check_colerr(q, "seal")) != STORE_OK) {
		sq_fin(q, st);
		return rc;
	}
	if ((s->image = malloc((size_t)len)) == NULL) {
		sq_fin(q, st);
		return sq_errx(q, STORE_ERR, "%s", "out of memory");
	}
	memcpy(s->image, blob, (size_t)len);
	s->image_len = (size_t)len;
	sq_fin(q, st);
	return STORE_OK;
}

static int
sq_tax_get(void *h, int64_t rid, int fy, int with_items,
    struct tax_record *t)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	char kind[16];
	int64_t tid;
	int rc;

	if ((rc = tx_read(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "SELECT id, resident_id, fiscal_year, "
	    "income_year, total_income, total_deductions, taxable_income, "
	    "municipal_tax, prefectural_tax FROM tax_records WHERE "
	    "resident_id = ? AND fiscal_year = ?", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, rid) |
	    sqlite3_bind_int(st, 2, fy))) {
		rc = STORE_ERR;
		goto fail;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? STORE_NOTFOUND :
		    sq_fail(q, "tax lookup");
		goto fail;
	}
	memset(t, 0, sizeof(*t));
	tid = sqlite3_column_int64(st, 0);
	t->resident_id = sqlite3_column_int64(st, 1);
	t->fiscal_year = col_int(q, st, 2, 1900, 9999);
	t->income_year = col_int(q, st, 3, 1899, 9998);
	t->total_income = sqlite3_column_int64(st, 4);
	t->total_deductions = sqlite3_column_int64(st, 5);
	t->taxable_income = sqlite3_column_int64(st, 6);
	t->municipal_tax = sqlite3_column_int64(st, 7);
	t->prefectural_tax = sqlite3_column_int64(st, 8);
	sq_fin(q, st);
	st = NULL;
	if (!with_items) {
		if ((rc = check_colerr(q, "tax")) != STORE_OK)
			goto fail;
		return tx_commit(q);
	}
	if ((rc = sq_prep(q, "SELECT kind, category, amount FROM tax_items "
	    "WHERE tax_id = ? ORDER BY seq", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, tid))) {
		rc = STORE_ERR;
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (t->nitems == STORE_TAX_ITEMS_MAX) {
			q->colerr = 1;
			break;
		}
		col_text(q, st, 0, kind, sizeof(kind));
		t->items[t->nitems].kind = strcmp(kind, "income") == 0 ?
		    TAX_ITEM_INCOME : TAX_ITEM_DEDUCTION;
		col_text(q, st, 1, t->items[t->nitems].category,
		    sizeof(t->items[t->nitems].category));
		t->items[t->nitems].amount = sqlite3_column_int64(st, 2);
		t->nitems++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		rc = sq_fail(q, "tax items");
		goto fail;
	}
	if ((rc = check_colerr(q, "tax")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	return tx_commit(q);
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

static int
read_events(struct sq *q, struct koseki_entry *e)
{
	sqlite3_stmt *st;
	struct koseki_event *ev;
	int rc;

	if ((rc = sq_prep(q, "SELECT kind, event_date, detail FROM "
	    "koseki_events WHERE entry_id = ? ORDER BY seq", &st)) != STORE_OK)
		return rc;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, e->id))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	e->nevents = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (e->nevents == STORE_KOSEKI_EVENTS_MAX) {
			q->colerr = 1;
			break;
		}
		ev = &e->events[e->nevents++];
		col_text(q, st, 0, ev->kind, sizeof(ev->kind));
		col_date(q, st, 1, &ev->date);
		col_text(q, st, 2, ev->detail, sizeof(ev->detail));
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		rc = sq_fail(q, "register events");
	else
		rc = check_colerr(q, "register event");
	sq_fin(q, st);
	return rc;
}

static int
sq_koseki_by_resident(void *h, int64_t rid, struct koseki *k,
    struct koseki_entry **out, size_t *n)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	struct koseki_entry *arr = NULL, *p, *e;
	size_t cap = 0, cnt = 0, i;
	int rc;

	if ((rc = tx_read(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "SELECT k.id, k.domicile, k.head_name, "
	    "k.created_date, k.created_reason, k.pending, (SELECT resident_id "
	    "FROM koseki_entries WHERE koseki_id = k.id AND seq = 1) FROM "
	    "residents r JOIN koseki k ON k.id = r.koseki_id WHERE r.id = ?",
	    &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, rid))) {
		rc = STORE_ERR;
		goto fail;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? STORE_NOTFOUND :
		    sq_fail(q, "register lookup");
		goto fail;
	}
	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(st, 0);
	col_text(q, st, 1, k->domicile, sizeof(k->domicile));
	col_text(q, st, 2, k->head_name, sizeof(k->head_name));
	col_date(q, st, 3, &k->created);
	col_text(q, st, 4, k->created_reason, sizeof(k->created_reason));
	k->pending = col_int(q, st, 5, 0, 1);
	k->head_resident_id = col_id(st, 6);
	sq_fin(q, st);
	st = NULL;
	if (out == NULL) {
		/* the register alone */
		if ((rc = check_colerr(q, "register")) != STORE_OK)
			goto fail;
		return tx_commit(q);
	}
	if ((rc = sq_prep(q, "SELECT id, koseki_id, seq, resident_id, "
	    "family_name, given_name, birth_date, sex, father, mother, "
	    "parent_relation, removed, removal_reason FROM koseki_entries "
	    "WHERE koseki_id = ? ORDER BY seq", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, k->id))) {
		rc = STORE_ERR;
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((p = grow(arr, &cap, cnt, sizeof(*arr))) == NULL) {
			rc = sq_errx(q, STORE_ERR, "%s", "out of memory");
			goto fail;
		}
		arr = p;
		e = &arr[cnt++];
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(st, 0);
		e->koseki_id = sqlite3_column_int64(st, 1);
		e->seq = col_int(q, st, 2, 1, 100000);
		e->resident_id = col_id(st, 3);
		col_text(q, st, 4, e->family_name, sizeof(e->family_name));
		col_text(q, st, 5, e->given_name, sizeof(e->given_name));
		col_date(q, st, 6, &e->birth);
		e->sex = (enum store_sex)col_int(q, st, 7, 1, 2);
		col_text(q, st, 8, e->father, sizeof(e->father));
		col_text(q, st, 9, e->mother, sizeof(e->mother));
		col_text(q, st, 10, e->parent_relation,
		    sizeof(e->parent_relation));
		e->removed = col_int(q, st, 11, 0, 1);
		col_text(q, st, 12, e->removal_reason,
		    sizeof(e->removal_reason));
	}
	if (rc != SQLITE_DONE) {
		rc = sq_fail(q, "register entries");
		goto fail;
	}
	sq_fin(q, st);
	st = NULL;
	if ((rc = check_colerr(q, "register entry")) != STORE_OK)
		goto fail;
	for (i = 0; i < cnt; i++)
		if ((rc = read_events(q, &arr[i])) != STORE_OK)
			goto fail;
	if ((rc = tx_commit(q)) != STORE_OK) {
		free(arr);
		return rc;
	}
	*out = arr;
	*n = cnt;
	return STORE_OK;
fail:
	sq_fin(q, st);
	tx_rollback(q);
	free(arr);
	return rc;
}

static int
sq_koseki_protected(void *h, int64_t kid, int64_t except, int *protected)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc;

	if ((rc = sq_prep(q, "SELECT EXISTS (SELECT 1 FROM koseki_entries e "
	    "JOIN residents r ON r.id = e.resident_id WHERE e.koseki_id = ? "
	    "AND e.resident_id <> ? AND r.support_measures = 1)", &st)) !=
	    STORE_OK)
		return rc;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, kid) |
	    sqlite3_bind_int64(st, 2, except))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = sq_fail(q, "register protection");
		sq_fin(q, st);
		return rc;
	}
	*protected = sqlite3_column_int(st, 0) != 0;
	sq_fin(q, st);
	return STORE_OK;
}

static int
sq_fuhyo_get(void *h, int64_t kid, struct fuhyo_entry **out, size_t *n)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	struct fuhyo_entry *arr = NULL, *p, *f;
	size_t cap = 0, cnt = 0;
	int rc;

	if ((rc = sq_prep(q, "SELECT f.entry_id, f.seq, f.address, "
	    "f.from_date FROM fuhyo_entries f JOIN koseki_entries e ON "
	    "e.id = f.entry_id WHERE e.koseki_id = ? ORDER BY e.seq, f.seq",
	    &st)) != STORE_OK)
		return rc;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, kid))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((p = grow(arr, &cap, cnt, sizeof(*arr))) == NULL) {
			rc = sq_errx(q, STORE_ERR, "%s", "out of memory");
			goto fail;
		}
		arr = p;
		f = &arr[cnt++];
		memset(f, 0, sizeof(*f));
		f->entry_id = sqlite3_column_int64(st, 0);
		f->seq = col_int(q, st, 1, 1, 100000);
		col_text(q, st, 2, f->address, sizeof(f->address));
		col_date(q, st, 3, &f->from);
	}
	if (rc != SQLITE_DONE) {
		rc = sq_fail(q, "附票 entries");
		goto fail;
	}
	if ((rc = check_colerr(q, "附票")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	if (cnt == 0) {
		free(arr);
		return STORE_NOTFOUND;
	}
	*out = arr;
	*n = cnt;
	return STORE_OK;
fail:
	sq_fin(q, st);
	free(arr);
	return rc;
}

static int
sq_card_cert_insert(void *h, const struct card_cert *c)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	int rc, b = 0;

	/*
	 * Binding the same serial to the same resident again is a no-op;
	 * to anyone else it is a conflict (one card, one person).
	 */
	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "SELECT resident_id FROM card_certs WHERE "
	    "serial = ?", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, bind_text(st, 1, c->serial))) {
		rc = STORE_ERR;
		goto fail;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = sqlite3_column_int64(st, 0) == c->resident_id ? STORE_OK :
		    sq_errx(q, STORE_CONFLICT, "certificate %s is bound to "
		    "another resident", c->serial);
		sq_fin(q, st);
		if (rc != STORE_OK) {
			tx_rollback(q);
			return rc;
		}
		return tx_commit(q);
	}
	if (rc != SQLITE_DONE) {
		rc = sq_fail(q, "certificate lookup");
		goto fail;
	}
	sq_fin(q, st);
	if ((rc = sq_prep(q, "INSERT INTO card_certs (serial, resident_id, "
	    "issuer, not_after, status) VALUES (?, ?, ?, ?, ?)", &st)) !=
	    STORE_OK)
		goto fail;
	b |= bind_text(st, 1, c->serial);
	b |= sqlite3_bind_int64(st, 2, c->resident_id);
	b |= bind_text(st, 3, c->issuer);
	b |= sqlite3_bind_int64(st, 4, c->not_after);
	b |= bind_text(st, 5, c->status == CARD_CERT_VALID ? "valid" :
	    "revoked");
	if (!binds_ok(q, b)) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "insert certificate")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	return tx_commit(q);
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

static int
sq_card_cert_get(void *h, const char *serial, struct card_cert *c)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	char status[16];
	int rc;

	if ((rc = sq_prep(q, "SELECT serial, resident_id, issuer, not_after, "
	    "status FROM card_certs WHERE serial = ?", &st)) != STORE_OK)
		return rc;
	if (!binds_ok(q, bind_text(st, 1, serial))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(c, 0, sizeof(*c));
		col_text(q, st, 0, c->serial, sizeof(c->serial));
		c->resident_id = sqlite3_column_int64(st, 1);
		col_text(q, st, 2, c->issuer, sizeof(c->issuer));
		c->not_after = sqlite3_column_int64(st, 3);
		col_text(q, st, 4, status, sizeof(status));
		c->status = strcmp(status, "valid") == 0 ? CARD_CERT_VALID :
		    CARD_CERT_REVOKED;
		rc = check_colerr(q, "certificate");
	} else if (rc == SQLITE_DONE)
		rc = STORE_NOTFOUND;
	else
		rc = sq_fail(q, "certificate lookup");
	sq_fin(q, st);
	return rc;
}

static int
sq_card_cert_set_status(void *h, const char *serial,
    enum card_cert_status s)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc;

	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "UPDATE card_certs SET status = ? WHERE "
	    "serial = ?", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, bind_text(st, 1, s == CARD_CERT_VALID ? "valid" :
	    "revoked") | bind_text(st, 2, serial))) {
		sq_fin(q, st);
		rc = STORE_ERR;
		goto fail;
	}
	rc = step_done(q, st, "set certificate status");
	sq_fin(q, st);
	if (rc != STORE_OK)
		goto fail;
	if (sqlite3_changes(q->db) != 1) {
		rc = sq_errx(q, STORE_NOTFOUND, "%s", "no such certificate");
		goto fail;
	}
	return tx_commit(q);
fail:
	tx_rollback(q);
	return rc;
}

#define ISSUANCE_COLS "id, idempotency_key, public_id, session_id, " \
	"kiosk_id, " \
	"resident_id, document, options, copies, fee_yen, state, pages, " \
	"created_at, updated_at, content IS NOT NULL"

static void
read_issuance(struct sq *q, sqlite3_stmt *st, struct issuance *i)
{
	char state[16];

	memset(i, 0, sizeof(*i));
	i->id = sqlite3_column_int64(st, 0);
	col_text(q, st, 1, i->req.idempotency_key,
	    sizeof(i->req.idempotency_key));
	col_text(q, st, 2, i->req.public_id, sizeof(i->req.public_id));
	col_text(q, st, 3, i->req.session_id, sizeof(i->req.session_id));
	col_text(q, st, 4, i->req.kiosk_id, sizeof(i->req.kiosk_id));
	i->req.resident_id = sqlite3_column_int64(st, 5);
	col_text(q, st, 6, i->req.document, sizeof(i->req.document));
	col_text(q, st, 7, i->req.options, sizeof(i->req.options));
	i->req.copies = col_int(q, st, 8, 1, STORE_COPIES_MAX);
	i->req.fee_yen = col_int(q, st, 9, 0, 1000000);
	col_text(q, st, 10, state, sizeof(state));
	if (strcmp(state, "issued") == 0)
		i->state = ISSUANCE_ISSUED;
	else if (strcmp(state, "committed") == 0)
		i->state = ISSUANCE_COMMITTED;
	else if (strcmp(state, "voided") == 0)
		i->state = ISSUANCE_VOIDED;
	else
		q->colerr = 1;
	i->pages = col_int(q, st, 11, 0, 10000);
	i->created_at = sqlite3_column_int64(st, 12);
	i->req.now = i->created_at;
	i->updated_at = sqlite3_column_int64(st, 13);
	i->has_content = sqlite3_column_int(st, 14) != 0;
}

/* SELECT one issuance by id (key == NULL), key or public id. */
static int
issuance_lookup_by(struct sq *q, int64_t id, const char *key, int public,
    struct issuance *i)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = sq_prep(q, key == NULL ?
	    "SELECT " ISSUANCE_COLS " FROM issuances WHERE id = ?" : public ?
	    "SELECT " ISSUANCE_COLS " FROM issuances WHERE public_id = ?" :
	    "SELECT " ISSUANCE_COLS " FROM issuances WHERE idempotency_key = ?",
	    &st)) != STORE_OK)
		return rc;
	rc = key == NULL ? sqlite3_bind_int64(st, 1, id) :
	    bind_text(st, 1, key);
	if (!binds_ok(q, rc)) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_issuance(q, st, i);
		rc = check_colerr(q, "issuance");
	} else if (rc == SQLITE_DONE)
		rc = STORE_NOTFOUND;
	else
		rc = sq_fail(q, "issuance lookup");
	sq_fin(q, st);
	return rc;
}

static int
issuance_lookup(struct sq *q, int64_t id, const char *key, struct issuance *i)
{
	return issuance_lookup_by(q, id, key, 0, i);
}

static int
same_request(const struct issuance_req *a, const struct issuance_req *b)
{
	return strcmp(a->idempotency_key, b->idempotency_key) == 0 &&
	    strcmp(a->session_id, b->session_id) == 0 &&
	    strcmp(a->kiosk_id, b->kiosk_id) == 0 &&
	    a->resident_id == b->resident_id &&
	    strcmp(a->document, b->document) == 0 &&
	    strcmp(a->options, b->options) == 0 &&
	    a->copies == b->copies && a->fee_yen == b->fee_yen;
}

/*
 * Insert a new issuance row (with its signed content, or none when c is
 * NULL) for a resident that must exist, inside the caller's write
 * transaction, and read it back.  A UNIQUE violation is STORE_CONFLICT.
 */
static int
issuance_insert(struct sq *q, const struct issuance_req *r,
    const uint8_t *c, size_t len, struct issuance *cur)
{
	sqlite3_stmt *st = NULL;
	int rc, b = 0;

	if ((rc = sq_prep(q, "SELECT 1 FROM residents WHERE id = ?", &st)) !=
	    STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, r->resident_id))) {
		rc = STORE_ERR;
		goto fail;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? sq_errx(q, STORE_NOTFOUND, "%s",
		    "no such resident") : sq_fail(q, "resident lookup");
		goto fail;
	}
	sq_fin(q, st);
	st = NULL;
	if ((rc = sq_prep(q, "INSERT INTO issuances (idempotency_key, "
	    "public_id, session_id, kiosk_id, resident_id, document, options, "
	    "copies, fee_yen, state, created_at, updated_at, content) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, 'issued', ?, ?, ?)", &st)) != STORE_OK)
		goto fail;
	b |= bind_text(st, 1, r->idempotency_key);
	b |= bind_text(st, 2, r->public_id);
	b |= bind_text(st, 3, r->session_id);
	b |= bind_text(st, 4, r->kiosk_id);
	b |= sqlite3_bind_int64(st, 5, r->resident_id);
	b |= bind_text(st, 6, r->document);
	b |= bind_text(st, 7, r->options);
	b |= sqlite3_bind_int(st, 8, r->copies);
	b |= sqlite3_bind_int(st, 9, r->fee_yen);
	b |= sqlite3_bind_int64(st, 10, r->now);
	b |= sqlite3_bind_int64(st, 11, r->now);
	if (c != NULL)
		b |= sqlite3_bind_blob(st, 12, c, (int)len, SQLITE_TRANSIENT);
	else
		b |= sqlite3_bind_null(st, 12);
	if (!binds_ok(q, b)) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "insert issuance")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	return issuance_lookup(q, sqlite3_last_insert_rowid(q->db), NULL, cur);
fail:
	sq_fin(q, st);
	return rc;
}

static int
sq_issuance_create(void *h, const struct issuance_req *r,
    struct issuance *out, int *created)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	struct issuance cur;
	int rc;

	*created = 0;
	/* the write lock first: no other process can insert the key now */
	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	rc = issuance_lookup(q, 0, r->idempotency_key, &cur);
	if (rc == STORE_OK) {
		if (!same_request(&cur.req, r)) {
			rc = sq_errx(q, STORE_CONFLICT, "idempotency key %s "
			    "was used for a different request",
			    r->idempotency_key);
			goto fail;
		}
		if ((rc = tx_commit(q)) != STORE_OK)
			return rc;
		*out = cur;
		return STORE_OK;
	}
	if (rc != STORE_NOTFOUND)
		goto fail;
	if ((rc = issuance_insert(q, r, NULL, 0, &cur)) != STORE_OK)
		goto fail;
	if ((rc = tx_commit(q)) != STORE_OK)
		return rc;
	*out = cur;
	*created = 1;
	return STORE_OK;
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

static int
sq_issuance_get(void *h, int64_t id, struct issuance *i)
{
	return issuance_lookup(h, id, NULL, i);
}

static int
sq_issuance_get_by_key(void *h, const char *key, struct issuance *i)
{
	return issuance_lookup(h, 0, key, i);
}

static int
sq_issuance_get_by_public_id(void *h, const char *pid, struct issuance *i)
{
	return issuance_lookup_by(h, 0, pid, 1, i);
}

static int
sq_issuance_set_result(void *h, int64_t id, enum issuance_state s,
    int pages, int64_t now, int *changed)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	struct issuance cur;
	int rc, b = 0;

	*changed = 0;
	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = issuance_lookup(q, id, NULL, &cur)) != STORE_OK)
		goto fail;
	if (cur.state == s) {
		/* a retried report of the same outcome */
		return tx_commit(q);
	}
	if (cur.state != ISSUANCE_ISSUED) {
		snprintf(q->err, sizeof(q->err), "issuance %" PRId64 " is "
		    "already %s", id, store_issuance_state_name(cur.state));
		rc = STORE_CONFLICT;
		goto fail;
	}
	if ((rc = sq_prep(q, "UPDATE issuances SET state = ?, pages = ?, "
	    "updated_at = ? WHERE id = ? AND state = 'issued'", &st)) !=
	    STORE_OK)
		goto fail;
	b |= bind_text(st, 1, store_issuance_state_name(s));
	b |= sqlite3_bind_int(st, 2, pages);
	b |= sqlite3_bind_int64(st, 3, now);
	b |= sqlite3_bind_int64(st, 4, id);
	if (!binds_ok(q, b)) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "set issuance result")) != STORE_OK)
		goto fail;
	if (sqlite3_changes(q->db) != 1) {
		rc = sq_errx(q, STORE_ERR, "%s", "issuance result not applied");
		goto fail;
	}
	sq_fin(q, st);
	if ((rc = tx_commit(q)) != STORE_OK)
		return rc;
	*changed = 1;
	return STORE_OK;
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

static int
sq_issuance_set_content(void *h, int64_t id, const uint8_t *c, size_t len)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	const void *blob;
	int rc, n;

	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "SELECT state, content FROM issuances WHERE "
	    "id = ?", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, id))) {
		rc = STORE_ERR;
		goto fail;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? STORE_NOTFOUND :
		    sq_fail(q, "issuance lookup");
		goto fail;
	}
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		blob = sqlite3_column_blob(st, 1);
		n = sqlite3_column_bytes(st, 1);
		rc = (n >= 0 && (size_t)n == len && blob != NULL &&
		    memcmp(blob, c, len) == 0) ? STORE_OK :
		    sq_errx(q, STORE_CONFLICT, "%s", "issuance already has "
		    "different content");
		sq_fin(q, st);
		st = NULL;
		if (rc != STORE_OK)
			goto fail;
		return tx_commit(q);
	}
	if (sqlite3_column_text(st, 0) == NULL ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "issued") != 0) {
		rc = sq_errx(q, STORE_CONFLICT, "%s", "issuance is already "
		    "final");
		goto fail;
	}
	sq_fin(q, st);
	if ((rc = sq_prep(q, "UPDATE issuances SET content = ? WHERE id = ?",
	    &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, sqlite3_bind_blob(st, 1, c, (int)len,
	    SQLITE_TRANSIENT) | sqlite3_bind_int64(st, 2, id))) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "set issuance content")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	return tx_commit(q);
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

static int
sq_issuance_get_content(void *h, int64_t id, uint8_t **c, size_t *len)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	const void *blob;
	int rc, n;

	if ((rc = sq_prep(q, "SELECT content FROM issuances WHERE id = ?",
	    &st)) != STORE_OK)
		return rc;
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, id))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
		rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? STORE_NOTFOUND :
		    sq_fail(q, "issuance content");
		sq_fin(q, st);
		return rc;
	}
	blob = sqlite3_column_blob(st, 0);
	n = sqlite3_column_bytes(st, 0);
	if (blob == NULL || n <= 0 || n > STORE_CONTENT_MAX) {
		sq_fin(q, st);
		return sq_errx(q, STORE_ERR, "%s", "corrupt issuance content");
	}
	if ((*c = malloc((size_t)n)) == NULL) {
		sq_fin(q, st);
		return sq_errx(q, STORE_ERR, "%s", "out of memory");
	}
	memcpy(*c, blob, (size_t)n);
	*len = (size_t)n;
	sq_fin(q, st);
	return STORE_OK;
}

static int
sq_session_create(void *h, const struct session *se)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc, b = 0;

	if ((rc = sq_prep(q, "INSERT INTO sessions (id, kiosk_id, challenge, "
	    "created_at, expires_at, state) VALUES (?, ?, ?, ?, ?, 'new')",
	    &st)) != STORE_OK)
		return rc;
	b |= bind_text(st, 1, se->id);
	b |= bind_text(st, 2, se->kiosk_id);
	b |= sqlite3_bind_blob(st, 3, se->challenge, (int)se->challenge_len,
	    SQLITE_TRANSIENT);
	b |= sqlite3_bind_int64(st, 4, se->created_at);
	b |= sqlite3_bind_int64(st, 5, se->expires_at);
	if (!binds_ok(q, b)) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	return write_one(q, st, "insert session", NULL);
}

static int
session_lookup(struct sq *q, const char *id, struct session *se)
{
	sqlite3_stmt *st;
	const void *blob;
	char state[16];
	int rc, n;

	if ((rc = sq_prep(q, "SELECT id, kiosk_id, challenge, created_at, "
	    "expires_at, state, resident_id, cert_serial, cert_sha256, auth_at "
	    "FROM sessions WHERE id = ?", &st)) != STORE_OK)
		return rc;
	if (!binds_ok(q, bind_text(st, 1, id))) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? STORE_NOTFOUND :
		    sq_fail(q, "session lookup");
		sq_fin(q, st);
		return rc;
	}
	memset(se, 0, sizeof(*se));
	col_text(q, st, 0, se->id, sizeof(se->id));
	col_text(q, st, 1, se->kiosk_id, sizeof(se->kiosk_id));
	blob = sqlite3_column_blob(st, 2);
	n = sqlite3_column_bytes(st, 2);
	if (blob == NULL || n <= 0 || n > STORE_CHALLENGE_MAX)
		q->colerr = 1;
	else {
		memcpy(se->challenge, blob, (size_t)n);
		se->challenge_len = (size_t)n;
	}
	se->created_at = sqlite3_column_int64(st, 3);
	se->expires_at = sqlite3_column_int64(st, 4);
	col_text(q, st, 5, state, sizeof(state));
	if (strcmp(state, "new") == 0)
		se->state = SESSION_NEW;
	else if (strcmp(state, "authenticated") == 0)
		se->state = SESSION_AUTHENTICATED;
	else if (strcmp(state, "failed") == 0)
		se->state = SESSION_FAILED;
	else
		q->colerr = 1;
	se->resident_id = col_id(st, 6);
	col_text(q, st, 7, se->cert_serial, sizeof(se->cert_serial));
	col_text(q, st, 8, se->cert_sha256, sizeof(se->cert_sha256));
	se->auth_at = col_id(st, 9);
	sq_fin(q, st);
	return check_colerr(q, "session");
}

static int
sq_session_get(void *h, const char *id, struct session *se)
{
	return session_lookup(h, id, se);
}

static int
sq_session_authenticate(void *h, const char *id, const char *kiosk,
    int64_t now, int64_t rid, const char *serial, const char *sha)
{
	struct sq *q = h;
	struct session se;
	sqlite3_stmt *st = NULL;
	int rc, b = 0;

	/* the write lock first: two answers to one challenge serialize */
	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = session_lookup(q, id, &se)) != STORE_OK)
		goto fail;
	if (strcmp(se.kiosk_id, kiosk) != 0) {
		rc = sq_errx(q, STORE_MISMATCH, "%s", "session belongs to "
		    "another kiosk");
		goto fail;
	}
	if (se.state != SESSION_NEW) {
		rc = sq_errx(q, STORE_CONFLICT, "%s", "session already used");
		goto fail;
	}
	if (now >= se.expires_at) {
		rc = sq_errx(q, STORE_EXPIRED, "%s", "session expired");
		goto fail;
	}
	if ((rc = sq_prep(q, "UPDATE sessions SET state = ?, resident_id = ?, "
	    "cert_serial = ?, cert_sha256 = ?, auth_at = ? WHERE id = ? AND "
	    "state = 'new'", &st)) != STORE_OK)
		goto fail;
	b |= bind_text(st, 1, rid > 0 ? "authenticated" : "failed");
	b |= bind_id(st, 2, rid);
	b |= bind_opt_text(st, 3, serial);
	b |= bind_opt_text(st, 4, sha);
	b |= sqlite3_bind_int64(st, 5, now);
	b |= bind_text(st, 6, id);
	if (!binds_ok(q, b)) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "authenticate session")) != STORE_OK)
		goto fail;
	if (sqlite3_changes(q->db) != 1) {
		rc = sq_errx(q, STORE_CONFLICT, "%s", "session already used");
		goto fail;
	}
	sq_fin(q, st);
	return tx_commit(q);
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

static int
sq_session_purge(void *h, int64_t before, long *n)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc;

	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "DELETE FROM sessions WHERE expires_at < ?",
	    &st)) != STORE_OK) {
		tx_rollback(q);
		return rc;
	}
	if (!binds_ok(q, sqlite3_bind_int64(st, 1, before))) {
		sq_fin(q, st);
		tx_rollback(q);
		return STORE_ERR;
	}
	rc = step_done(q, st, "purge sessions");
	sq_fin(q, st);
	if (rc != STORE_OK) {
		tx_rollback(q);
		return rc;
	}
	*n = (long)sqlite3_changes(q->db);
	return tx_commit(q);
}

static int
sq_stats(void *h, struct store_stats *s)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	long *f[] = {
		&s->residents, &s->active, &s->moved_out, &s->deceased,
		&s->foreign, &s->support_measures, &s->with_substitute,
		&s->households, &s->koseki, &s->koseki_entries,
		&s->seals_active, &s->seals_abolished, &s->tax_records,
		&s->card_certs, &s->issuances, &s->issuances_issued,
		&s->issuances_committed, &s->issuances_voided,
	};
	size_t i;
	int rc;

	/* one statement: one consistent snapshot */
	if ((rc = sq_prep(q, "SELECT "
	    "(SELECT count(*) FROM residents),"
	    "(SELECT count(*) FROM residents WHERE status = 'active'),"
	    "(SELECT count(*) FROM residents WHERE status = 'moved_out'),"
	    "(SELECT count(*) FROM residents WHERE status = 'deceased'),"
	    "(SELECT count(*) FROM residents WHERE nationality IS NOT NULL),"
	    "(SELECT count(*) FROM residents WHERE support_measures = 1),"
	    "(SELECT count(*) FROM residents WHERE name_substitute <> ''),"
	    "(SELECT count(*) FROM households),"
	    "(SELECT count(*) FROM koseki),"
	    "(SELECT count(*) FROM koseki_entries),"
	    "(SELECT count(*) FROM seals WHERE status = 'active'),"
	    "(SELECT count(*) FROM seals WHERE status = 'abolished'),"
	    "(SELECT count(*) FROM tax_records),"
	    "(SELECT count(*) FROM card_certs),"
	    "(SELECT count(*) FROM issuances),"
	    "(SELECT count(*) FROM issuances WHERE state = 'issued'),"
	    "(SELECT count(*) FROM issuances WHERE state = 'committed'),"
	    "(SELECT count(*) FROM issuances WHERE state = 'voided')",
	    &st)) != STORE_OK)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = sq_fail(q, "statistics");
		sq_fin(q, st);
		return rc;
	}
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = (long)sqlite3_column_int64(st, (int)i);
	sq_fin(q, st);
	return STORE_OK;
}

/* --- group commit, checkpoints, secrets ------------------------------ */

static int
sq_op_begin(void *h)
{
	struct sq *q = h;

	if (!q->batch)
		return sq_errx(q, STORE_ERR, "%s", "operation outside a batch");
	return sq_run(q, "SAVEPOINT wop");
}

static int
sq_op_end(void *h, int keep)
{
	struct sq *q = h;
	int rc;

	if (!q->batch)
		return sq_errx(q, STORE_ERR, "%s", "operation outside a batch");
	if (sqlite3_get_autocommit(q->db))
		return sq_errx(q, STORE_ERR, "%s", "the batch was rolled back");
	if (keep)
		return sq_run(q, "RELEASE wop");
	rc = sq_run(q, "ROLLBACK TO wop");
	if (rc == STORE_OK)
		rc = sq_run(q, "RELEASE wop");
	return rc;
}

/*
 * Some errors (I/O, disk full, out of memory) make SQLite roll the whole
 * transaction back by itself: then nothing of the batch so far will be
 * committed, whatever the operations reported.
 */
static int
sq_batch_alive(void *h)
{
	struct sq *q = h;

	return q->batch && !sqlite3_get_autocommit(q->db);
}

static int
sq_checkpoint(void *h, int *frames, int *copied)
{
	struct sq *q = h;
	int rc;

	*frames = *copied = 0;
	rc = sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    frames, copied);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		/* another connection is checkpointing: it does the work */
		snprintf(q->err, sizeof(q->err), "checkpoint: busy");
		return STORE_BUSY;
	}
	if (rc != SQLITE_OK)
		return sq_fail(q, "checkpoint");
	return STORE_OK;
}

static int
sq_set_wal_hook(void *h, void (*fn)(void *, int), void *arg)
{
	struct sq *q = h;

	q->wal_fn = fn;
	q->wal_arg = arg;
	if (fn == NULL) {
		/* back to SQLite's automatic checkpoints */
		if (sqlite3_wal_autocheckpoint(q->db, 1000) != SQLITE_OK)
			return sq_fail(q, "wal_autocheckpoint");
		return STORE_OK;
	}
	(void)sqlite3_wal_hook(q->db, sq_wal_hook, q);
	return STORE_OK;
}

static int
sq_set_busy_timeout(void *h, int ms)
{
	struct sq *q = h;

	q->busy_timeout_ms = ms;
	return STORE_OK;
}

static int
sq_secret(void *h, const char *name, const uint8_t *cand, size_t len,
    uint8_t *out)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	const void *blob;
	int rc, n;

	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	if ((rc = sq_prep(q, "SELECT value FROM center_secrets WHERE name = ?",
	    &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, bind_text(st, 1, name))) {
		rc = STORE_ERR;
		goto fail;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		blob = sqlite3_column_blob(st, 0);
		n = sqlite3_column_bytes(st, 0);
		if (blob == NULL || n < 0 || (size_t)n != len) {
			rc = sq_errx(q, STORE_ERR, "secret %s has the wrong "
			    "length", name);
			goto fail;
		}
		memcpy(out, blob, len);
		sq_fin(q, st);
		return tx_commit(q);
	}
	if (rc != SQLITE_DONE) {
		rc = sq_fail(q, "secret lookup");
		goto fail;
	}
	sq_fin(q, st);
	if ((rc = sq_prep(q, "INSERT INTO center_secrets (name, value) "
	    "VALUES (?, ?)", &st)) != STORE_OK)
		goto fail;
	if (!binds_ok(q, bind_text(st, 1, name) | sqlite3_bind_blob(st, 2,
	    cand, (int)len, SQLITE_TRANSIENT))) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "insert secret")) != STORE_OK)
		goto fail;
	sq_fin(q, st);
	memcpy(out, cand, len);
	return tx_commit(q);
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

/*
 * The issuance row and its signed content in one transaction.  A key
 * already stored answers with its own row and content (*stored, malloc'd;
 * NULL when that row has none yet), never with the caller's bytes.
 */
static int
sq_issuance_create_signed(void *h, const struct issuance_req *r,
    const uint8_t *c, size_t len, struct issuance *out, int *created,
    uint8_t **stored, size_t *stored_len)
{
	struct sq *q = h;
	sqlite3_stmt *st = NULL;
	struct issuance cur;
	const void *blob;
	int rc, n;

	*created = 0;
	*stored = NULL;
	*stored_len = 0;
	/* the write lock first: no other process can insert the key now */
	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	rc = issuance_lookup(q, 0, r->idempotency_key, &cur);
	if (rc == STORE_OK) {
		if (!same_request(&cur.req, r)) {
			rc = sq_errx(q, STORE_CONFLICT, "idempotency key %s "
			    "was used for a different request",
			    r->idempotency_key);
			goto fail;
		}
		if (cur.has_content) {
			if ((rc = sq_prep(q, "SELECT content FROM issuances "
			    "WHERE id = ?", &st)) != STORE_OK)
				goto fail;
			if (!binds_ok(q, sqlite3_bind_int64(st, 1, cur.id))) {
				rc = STORE_ERR;
				goto fail;
			}
			if (sqlite3_step(st) != SQLITE_ROW) {
				rc = sq_fail(q, "issuance content");
				goto fail;
			}
			blob = sqlite3_column_blob(st, 0);
			n = sqlite3_column_bytes(st, 0);
			if (blob == NULL || n <= 0 || n > STORE_CONTENT_MAX) {
				rc = sq_errx(q, STORE_ERR, "%s",
				    "corrupt issuance content");
				goto fail;
			}
			if ((*stored = malloc((size_t)n)) == NULL) {
				rc = sq_errx(q, STORE_ERR, "%s",
				    "out of memory");
				goto fail;
			}
			memcpy(*stored, blob, (size_t)n);
			*stored_len = (size_t)n;
			sq_fin(q, st);
			st = NULL;
		}
		if ((rc = tx_commit(q)) != STORE_OK)
			goto fail_free;
		*out = cur;
		return STORE_OK;
	}
	if (rc != STORE_NOTFOUND)
		goto fail;
	if ((rc = issuance_insert(q, r, c, len, &cur)) != STORE_OK) {
		/* not the key (checked above): the random public id */
		if (rc == STORE_CONFLICT)
			rc = STORE_ERR;
		goto fail;
	}
	if ((rc = tx_commit(q)) != STORE_OK)
		return rc;
	*out = cur;
	*created = 1;
	return STORE_OK;
fail:
	sq_fin(q, st);
	tx_rollback(q);
fail_free:
	free(*stored);
	*stored = NULL;
	*stored_len = 0;
	return rc;
}

/* A new session's record, for the books: an existing row stays as it is. */
static int
sq_session_record(void *h, const struct session *se)
{
	struct sq *q = h;
	sqlite3_stmt *st;
	int rc, b = 0;

	if ((rc = sq_prep(q, "INSERT OR IGNORE INTO sessions (id, kiosk_id, "
	    "challenge, created_at, expires_at, state) VALUES (?, ?, ?, ?, ?, "
	    "'new')", &st)) != STORE_OK)
		return rc;
	b |= bind_text(st, 1, se->id);
	b |= bind_text(st, 2, se->kiosk_id);
	b |= sqlite3_bind_blob(st, 3, se->challenge, (int)se->challenge_len,
	    SQLITE_TRANSIENT);
	b |= sqlite3_bind_int64(st, 4, se->created_at);
	b |= sqlite3_bind_int64(st, 5, se->expires_at);
	if (!binds_ok(q, b)) {
		sq_fin(q, st);
		return STORE_ERR;
	}
	return write_one(q, st, "record session", NULL);
}

/*
 * The one transition out of "new" for a session whose challenge was
 * verified by the caller: the row is updated if it was recorded, inserted
 * otherwise; the primary key makes a second answer fail either way.
 */
static int
sq_session_claim(void *h, const struct session *se, int64_t now,
    int64_t rid, const char *serial, const char *sha)
{
	struct sq *q = h;
	struct session cur;
	sqlite3_stmt *st = NULL;
	int rc, b = 0;

	if ((rc = tx_write(q)) != STORE_OK)
		return rc;
	rc = session_lookup(q, se->id, &cur);
	if (rc == STORE_OK) {
		if (strcmp(cur.kiosk_id, se->kiosk_id) != 0) {
			rc = sq_errx(q, STORE_MISMATCH, "%s", "session "
			    "belongs to another kiosk");
			goto fail;
		}
		if (cur.state != SESSION_NEW) {
			rc = sq_errx(q, STORE_CONFLICT, "%s", "session "
			    "already used");
			goto fail;
		}
		if (now >= cur.expires_at || now >= se->expires_at) {
			rc = sq_errx(q, STORE_EXPIRED, "%s", "session expired");
			goto fail;
		}
		rc = sq_prep(q, "UPDATE sessions SET state = ?, resident_id = "
		    "?, cert_serial = ?, cert_sha256 = ?, auth_at = ? WHERE "
		    "id = ? AND state = 'new'", &st);
		if (rc != STORE_OK)
			goto fail;
		b |= bind_text(st, 1, rid > 0 ? "authenticated" : "failed");
		b |= bind_id(st, 2, rid);
		b |= bind_opt_text(st, 3, serial);
		b |= bind_opt_text(st, 4, sha);
		b |= sqlite3_bind_int64(st, 5, now);
		b |= bind_text(st, 6, se->id);
	} else if (rc == STORE_NOTFOUND) {
		if (now >= se->expires_at) {
			rc = sq_errx(q, STORE_EXPIRED, "%s", "session expired");
			goto fail;
		}
		rc = sq_prep(q, "INSERT INTO sessions (id, kiosk_id, challenge, "
		    "created_at, expires_at, state, resident_id, cert_serial, "
		    "cert_sha256, auth_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    &st);
		if (rc != STORE_OK)
			goto fail;
		b |= bind_text(st, 1, se->id);
		b |= bind_text(st, 2, se->kiosk_id);
		b |= sqlite3_bind_blob(st, 3, se->challenge,
		    (int)se->challenge_len, SQLITE_TRANSIENT);
		b |= sqlite3_bind_int64(st, 4, se->created_at);
		b |= sqlite3_bind_int64(st, 5, se->expires_at);
		b |= bind_text(st, 6, rid > 0 ? "authenticated" : "failed");
		b |= bind_id(st, 7, rid);
		b |= bind_opt_text(st, 8, serial);
		b |= bind_opt_text(st, 9, sha);
		b |= sqlite3_bind_int64(st, 10, now);
	} else
		goto fail;
	if (!binds_ok(q, b)) {
		rc = STORE_ERR;
		goto fail;
	}
	if ((rc = step_done(q, st, "claim session")) != STORE_OK)
		goto fail;
	if (sqlite3_changes(q->db) != 1) {
		rc = sq_errx(q, STORE_CONFLICT, "%s", "session already used");
		goto fail;
	}
	sq_fin(q, st);
	return tx_commit(q);
fail:
	sq_fin(q, st);
	tx_rollback(q);
	return rc;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.errmsg = sq_errmsg,
	.migrate = sq_migrate,
	.schema_version = sq_schema_version,
	.batch_begin = sq_batch_begin,
	.batch_end = sq_batch_end,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
	.household_insert = sq_household_insert,
	.household_set_head = sq_household_set_head,
	.resident_insert = sq_resident_insert,
	.resident_set_status = sq_resident_set_status,
	.koseki_insert = sq_koseki_insert,
	.koseki_entry_insert = sq_koseki_entry_insert,
	.fuhyo_insert = sq_fuhyo_insert,
	.seal_insert = sq_seal_insert,
	.tax_insert = sq_tax_insert,
	.resident_get = sq_resident_get,
	.resident_ids = sq_resident_ids,
	.household_get = sq_household_get,
	.household_members = sq_household_members,
	.seal_by_resident = sq_seal_by_resident,
	.tax_get = sq_tax_get,
	.koseki_by_resident = sq_koseki_by_resident,
	.fuhyo_get = sq_fuhyo_get,
	.koseki_protected = sq_koseki_protected,
	.card_cert_insert = sq_card_cert_insert,
	.card_cert_get = sq_card_cert_get,
	.card_cert_set_status = sq_card_cert_set_status,
	.issuance_create = sq_issuance_create,
	.issuance_get = sq_issuance_get,
	.issuance_get_by_key = sq_issuance_get_by_key,
	.issuance_get_by_public_id = sq_issuance_get_by_public_id,
	.issuance_set_result = sq_issuance_set_result,
	.issuance_set_content = sq_issuance_set_content,
	.issuance_get_content = sq_issuance_get_content,
	.session_create = sq_session_create,
	.session_get = sq_session_get,
	.session_authenticate = sq_session_authenticate,
	.session_purge = sq_session_purge,
	.stats = sq_stats,
	.op_begin = sq_op_begin,
	.op_end = sq_op_end,
	.batch_alive = sq_batch_alive,
	.checkpoint = sq_checkpoint,
	.set_wal_hook = sq_set_wal_hook,
	.set_busy_timeout = sq_set_busy_timeout,
	.secret = sq_secret,
	.issuance_create_signed = sq_issuance_create_signed,
	.session_record = sq_session_record,
	.session_claim = sq_session_claim,
};
