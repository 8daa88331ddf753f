/*
 * The transaction journal on SQLite (journal.h has the rules).
 *
 * Each step is one BEGIN IMMEDIATE write transaction: the write lock is
 * taken before the row is read, the rules are checked on that row, the
 * step's columns are written, and COMMIT returns only once the WAL is
 * synced (synchronous=FULL).  The schema repeats the rules that can be
 * said in SQL (one outcome, refund only after failed, steps written once,
 * no unfinished row deleted), so even a bug here cannot write two
 * outcomes.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "journal.h"

#define JST_OFFSET	(9 * 3600)
#define KEEP_DAYS_MAX	3650

struct journal {
	sqlite3		*db;
	int		 lockfd;	/* owner lock, -1 if not the owner */
	time_t		(*clock)(void *);
	void		*clock_arg;
	char		 err[512];
};

static const char *const step_names[JS__MAX] = {
	"created", "paid", "issuing", "issued", "spooling", "spooled",
	"printed", "failed", "refunded", "reported", "finished"
};

/* The column holding each step's time. */
static const char *const step_cols[JS__MAX] = {
	"created_at", "paid_at", "issuing_at", "issued_at", "spooling_at",
	"spooled_at", "printed_at", "failed_at", "refunded_at", "reported_at",
	"finished_at"
};

static const char schema_v1[] =
"CREATE TABLE tx ("
"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  session TEXT NOT NULL,"
"  idem_key TEXT NOT NULL UNIQUE,"
"  pay_ref TEXT NOT NULL UNIQUE,"
"  doctype TEXT NOT NULL,"
"  center_sid TEXT NOT NULL,"
"  options TEXT NOT NULL,"
"  copies INTEGER NOT NULL CHECK (copies BETWEEN 1 AND 10),"
"  fee_yen INTEGER NOT NULL CHECK (fee_yen >= 0),"
"  last_step INTEGER NOT NULL CHECK (last_step BETWEEN 0 AND 10),"
"  paid_at INTEGER, paid_yen INTEGER,"
"  issuing_at INTEGER,"
"  issued_at INTEGER, issuance_id TEXT,"
"  spooling_at INTEGER,"
"  spooled_at INTEGER, job_id INTEGER,"
"  printed_at INTEGER, pages INTEGER,"
"  failed_at INTEGER, reason TEXT,"
"  refunded_at INTEGER, refunded_yen INTEGER,"
"  reported_at INTEGER, answer INTEGER CHECK (answer IN (1, 2, 3, 4)),"
"  finished_at INTEGER,"
"  CHECK (printed_at IS NULL OR failed_at IS NULL),"
"  CHECK (printed_at IS NULL OR spooled_at IS NOT NULL),"
"  CHECK (paid_at IS NULL OR paid_yen = fee_yen),"
"  CHECK (refunded_at IS NULL OR (failed_at IS NOT NULL AND"
"    paid_at IS NOT NULL AND refunded_yen = paid_yen)),"
"  CHECK (answer IS NOT 1 OR printed_at IS NOT NULL),"
"  CHECK (answer IS NOT 2 OR failed_at IS NOT NULL),"
"  CHECK ((reported_at IS NULL) = (answer IS NULL)),"
"  CHECK (finished_at IS NULL OR printed_at IS NOT NULL OR"
"    failed_at IS NOT NULL)"
");"
"CREATE INDEX tx_unfinished ON tx(id) WHERE finished_at IS NULL;"
"CREATE TRIGGER tx_write_once BEFORE UPDATE ON tx WHEN"
"  NEW.last_step < OLD.last_step"
"  OR NEW.idem_key IS NOT OLD.idem_key OR NEW.pay_ref IS NOT OLD.pay_ref"
"  OR NEW.fee_yen IS NOT OLD.fee_yen OR NEW.created_at IS NOT OLD.created_at"
"  OR (OLD.paid_at IS NOT NULL AND NEW.paid_at IS NOT OLD.paid_at)"
"  OR (OLD.issuing_at IS NOT NULL AND NEW.issuing_at IS NOT OLD.issuing_at)"
"  OR (OLD.issued_at IS NOT NULL AND NEW.issued_at IS NOT OLD.issued_at)"
"  OR (OLD.issuance_id IS NOT NULL AND"
"    NEW.issuance_id IS NOT OLD.issuance_id)"
"  OR (OLD.spooling_at IS NOT NULL AND"
"    NEW.spooling_at IS NOT OLD.spooling_at)"
"  OR (OLD.spooled_at IS NOT NULL AND NEW.spooled_at IS NOT OLD.spooled_at)"
"  OR (OLD.printed_at IS NOT NULL AND NEW.printed_at IS NOT OLD.printed_at)"
"  OR (OLD.failed_at IS NOT NULL AND NEW.failed_at IS NOT OLD.failed_at)"
"  OR (OLD.refunded_at IS NOT NULL AND"
"    NEW.refunded_at IS NOT OLD.refunded_at)"
"  OR (OLD.reported_at IS NOT NULL AND"
"    NEW.reported_at IS NOT OLD.reported_at)"
"  OR OLD.finished_at IS NOT NULL"
"  BEGIN SELECT RAISE(ABORT, 'journal: a recorded step cannot change'); END;"
"CREATE TRIGGER tx_keep_unfinished BEFORE DELETE ON tx"
"  WHEN OLD.finished_at IS NULL"
"  BEGIN SELECT RAISE(ABORT, 'journal: an unfinished row cannot go'); END;";

static const char *const migrations[] = { schema_v1 };

#define TX_COLUMNS \
	"id, created_at, updated_at, session, idem_key, pay_ref, doctype, " \
	"center_sid, options, copies, fee_yen, last_step, paid_at, paid_yen, " \
	"issuing_at, issued_at, issuance_id, spooling_at, spooled_at, " \
	"job_id, printed_at, pages, failed_at, reason, refunded_at, " \
	"refunded_yen, reported_at, answer, finished_at"

static enum journal_rc
jerr(struct journal *j, enum journal_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum journal_rc
jerr(struct journal *j, enum journal_rc rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(j->err, sizeof(j->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* A SQLite failure: busy is its own code, the rest is an error. */
static enum journal_rc
jsql(struct journal *j, int rc, const char *what)
{
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return jerr(j, JOURNAL_BUSY, "%s: the journal stayed locked "
		    "by another process for the whole busy timeout", what);
	if (rc == SQLITE_CONSTRAINT)
		return jerr(j, JOURNAL_REFUSED, "%s: refused by the schema: %s",
		    what, sqlite3_errmsg(j->db));
	return jerr(j, JOURNAL_ERR, "%s: %s", what, sqlite3_errmsg(j->db));
}

static time_t
jnow(struct journal *j)
{
	if (j->clock != NULL)
		return j->clock(j->clock_arg);
	return time(NULL);
}

const char *
journal_rc_name(enum journal_rc rc)
{
	switch (rc) {
	case JOURNAL_OK:
		return "ok";
	case JOURNAL_NOT_FOUND:
		return "not_found";
	case JOURNAL_REFUSED:
		return "refused";
	case JOURNAL_INVALID:
		return "invalid";
	case JOURNAL_EXISTS:
		return "exists";
	case JOURNAL_BUSY:
		return "busy";
	case JOURNAL_NEWER:
		return "newer_schema";
	case JOURNAL_ERR:
		return "error";
	}
	return "unknown";
}

const char *
journal_step_name(enum journal_step s)
{
	if ((int)s < 0 || s >= JS__MAX)
		return "unknown";
	return step_names[s];
}

const char *
journal_answer_name(enum journal_answer a)
{
	switch (a) {
	case JA_NONE:
		return "none";
	case JA_COMMITTED:
		return "committed";
	case JA_VOIDED:
		return "voided";
	case JA_CONFLICT:
		return "conflict";
	case JA_ABSENT:
		return "absent";
	}
	return "unknown";
}

const char *
journal_errmsg(const struct journal *j)
{
	return j->err[0] != '\0' ? j->err : "no error";
}

/* --- argument checks ---------------------------------------------------- */

static int
chars_ok(const char *s, size_t min, size_t max, const char *extra)
{
	size_t i, n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(extra, c) != NULL))
			continue;
		return 0;
	}
	return 1;
}

static int
key_ok(const char *s)
{
	return chars_ok(s, JOURNAL_KEY_MIN, JOURNAL_KEY_MAX,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-");
}

static int
hexid_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != JOURNAL_CENTER_ID_LEN)
		return 0;
	for (i = 0; i < JOURNAL_CENTER_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
reason_ok(const char *s)
{
	return chars_ok(s, 1, JOURNAL_REASON_MAX, "_");
}

/* The session's log name: "<hex>[/<tag>]", nothing a person could read. */
static int
session_ok(const char *s)
{
	return chars_ok(s, 1, JOURNAL_SESSION_MAX,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ/_-");
}

/* --- the rules --------------------------------------------------------- */

int
journal_has(const struct journal_tx *tx, enum journal_step s)
{
	if ((int)s < 0 || s >= JS__MAX)
		return 0;
	return (tx->steps & (1u << s)) != 0;
}

/* The money is settled and the center needs (or needs no more) a word. */
static int
failed_money_settled(const struct journal_tx *tx)
{
	return !journal_has(tx, JS_PAID) || journal_has(tx, JS_REFUNDED);
}

enum journal_rc
journal_allowed(const struct journal_tx *tx, enum journal_step s,
    enum journal_answer a)
{
	int printed = journal_has(tx, JS_PRINTED);
	int failed = journal_has(tx, JS_FAILED);

	if (journal_has(tx, JS_FINISHED))
		return JOURNAL_REFUSED;
	switch (s) {
	case JS_CREATED:
		return JOURNAL_REFUSED;
	case JS_PAID:
	case JS_ISSUING:
	case JS_ISSUED:
	case JS_SPOOLING:
	case JS_SPOOLED:
	case JS_PRINTED:
		/* the straight line: exactly the step before it */
		return tx->last == s - 1 && !failed ? JOURNAL_OK :
		    JOURNAL_REFUSED;
	case JS_FAILED:
		return tx->last <= JS_SPOOLED && !printed && !failed ?
		    JOURNAL_OK : JOURNAL_REFUSED;
	case JS_REFUNDED:
		return tx->last == JS_FAILED && journal_has(tx, JS_PAID) ?
		    JOURNAL_OK : JOURNAL_REFUSED;
	case JS_REPORTED:
		if (journal_has(tx, JS_REPORTED))
			return JOURNAL_REFUSED;
		switch (a) {
		case JA_COMMITTED:
			return printed ? JOURNAL_OK : JOURNAL_REFUSED;
		case JA_VOIDED:
			return failed && failed_money_settled(tx) &&
			    journal_has(tx, JS_ISSUING) ? JOURNAL_OK :
			    JOURNAL_REFUSED;
		case JA_CONFLICT:
		case JA_ABSENT:
			if (printed)
				return JOURNAL_OK;
			return failed && failed_money_settled(tx) &&
			    journal_has(tx, JS_ISSUING) ? JOURNAL_OK :
			    JOURNAL_REFUSED;
		case JA_NONE:
			return JOURNAL_INVALID;
		}
		return JOURNAL_INVALID;
	case JS_FINISHED:
		if (printed)
			return journal_has(tx, JS_REPORTED) ? JOURNAL_OK :
			    JOURNAL_REFUSED;
		if (!failed || !failed_money_settled(tx))
			return JOURNAL_REFUSED;
		if (journal_has(tx, JS_ISSUING) && !journal_has(tx, JS_REPORTED))
			return JOURNAL_REFUSED;
		return JOURNAL_OK;
	case JS__MAX:
		break;
	}
	return JOURNAL_INVALID;
}

/* --- opening ----------------------------------------------------------- */

static enum journal_rc
exec_sql(struct journal *j, const char *sql, const char *what)
{
	int rc;

	if ((rc = sqlite3_exec(j->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return jsql(j, rc, what);
	return JOURNAL_OK;
}

static int
pragma_int(struct journal *j, const char *sql, int *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sqlite3_errcode(j->db);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static enum journal_rc
migrate(struct journal *j)
{
	const int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));
	char sql[64];
	enum journal_rc rc;
	int v, src;

	if ((src = sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL)) != SQLITE_OK)
		return jsql(j, src, "schema");
	if ((src = pragma_int(j, "PRAGMA user_version", &v)) != SQLITE_OK) {
		rc = jsql(j, src, "schema version");
		goto fail;
	}
	if (v > latest) {
		rc = jerr(j, JOURNAL_NEWER, "journal schema version %d is newer "
		    "than this program's (%d): refusing to touch it", v, latest);
		goto fail;
	}
	if (v < 0) {
		rc = jerr(j, JOURNAL_ERR, "journal schema version %d is "
		    "not one of ours", v);
		goto fail;
	}
	for (; v < latest; v++)
		if ((rc = exec_sql(j, migrations[v], "schema")) != JOURNAL_OK)
			goto fail;
	(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", latest);
	if ((rc = exec_sql(j, sql, "schema version")) != JOURNAL_OK)
		goto fail;
	if ((src = sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		rc = jsql(j, src, "schema commit");
		goto fail;
	}
	return JOURNAL_OK;
fail:
	(void)sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static enum journal_rc
owner_lock(struct journal *j, const char *path)
{
	char lpath[4096];
	int n;

	n = snprintf(lpath, sizeof(lpath), "%s.lock", path);
	if (n < 0 || (size_t)n >= sizeof(lpath))
		return jerr(j, JOURNAL_INVALID, "journal path too long");
	/* a file of its own: closing it cannot drop SQLite's POSIX locks */
	if ((j->lockfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) ==
	    -1)
		return jerr(j, JOURNAL_ERR, "%s: %s", lpath, strerror(errno));
	if (flock(j->lockfd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;

		(void)close(j->lockfd);
		j->lockfd = -1;
		if (e == EWOULDBLOCK)
			return jerr(j, JOURNAL_BUSY, "%s: the journal is owned "
			    "by another running process", path);
		return jerr(j, JOURNAL_ERR, "%s: lock: %s", lpath,
		    strerror(e));
	}
	return JOURNAL_OK;
}

enum journal_rc
journal_open(const char *path, int flags, struct journal **jp, char *err,
    size_t errlen)
{
	struct journal *j;
	sqlite3_stmt *st = NULL;
	const char *mode;
	enum journal_rc rc;
	int oflags, src;

	*jp = NULL;
	if (path == NULL || *path == '\0') {
		(void)snprintf(err, errlen, "journal: no path");
		return JOURNAL_INVALID;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		(void)snprintf(err, errlen, "journal: out of memory");
		return JOURNAL_ERR;
	}
	j->lockfd = -1;
	if ((flags & JOURNAL_OWNER) &&
	    (rc = owner_lock(j, path)) != JOURNAL_OK)
		goto fail;
	oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (flags & JOURNAL_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	if ((src = sqlite3_open_v2(path, &j->db, oflags, NULL)) != SQLITE_OK) {
		rc = jerr(j, JOURNAL_ERR, "%s: %s", path, j->db != NULL ?
		    sqlite3_errmsg(j->db) : sqlite3_errstr(src));
		goto fail;
	}
	(void)sqlite3_extended_result_codes(j->db, 0);
	if (sqlite3_busy_timeout(j->db, JOURNAL_BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    (rc = exec_sql(j, "PRAGMA synchronous = FULL", "pragma")) !=
	    JOURNAL_OK ||
	    (rc = exec_sql(j, "PRAGMA trusted_schema = OFF", "pragma")) !=
	    JOURNAL_OK) {
		if (j->err[0] == '\0')
			rc = jerr(j, JOURNAL_ERR, "busy timeout");
		goto fail;
	}
	/* journal_mode reports the mode it ended up in: insist on WAL */
	if ((src = sqlite3_prepare_v2(j->db, "PRAGMA journal_mode = WAL", -1,
	    &st, NULL)) != SQLITE_OK ||
	    (src = sqlite3_step(st)) != SQLITE_ROW ||
	    (mode = (const char *)sqlite3_column_text(st, 0)) == NULL ||
	    strcmp(mode, "wal") != 0) {
		rc = src == SQLITE_BUSY ? jsql(j, src, path) :
		    jerr(j, JOURNAL_ERR, "%s: cannot use WAL: %s", path,
		    sqlite3_errmsg(j->db));
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = migrate(j)) != JOURNAL_OK)
		goto fail;
	j->err[0] = '\0';
	*jp = j;
	return JOURNAL_OK;
fail:
	(void)snprintf(err, errlen, "%s", j->err);
	sqlite3_finalize(st);
	journal_close(j);
	return rc;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->db != NULL)
		(void)sqlite3_close(j->db);
	if (j->lockfd != -1)
		(void)close(j->lockfd);
	free(j);
}

void
journal_set_busy_timeout(struct journal *j, int ms)
{
	(void)sqlite3_busy_timeout(j->db, ms < 0 ? 0 : ms);
}

void
journal_set_clock(struct journal *j, time_t (*fn)(void *), void *arg)
{
	j->clock = fn;
	j->clock_arg = arg;
}

int
journal_schema_version(struct journal *j)
{
	int v = -1;

	if (pragma_int(j, "PRAGMA user_version", &v) != SQLITE_OK)
		return -1;
	return v;
}

/* --- reading ----------------------------------------------------------- */

static int
col_text(sqlite3_stmt *st, int i, char *dst, size_t dstlen, int null_ok)
{
	const unsigned char *s;
	int n;

	dst[0] = '\0';
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return null_ok ? 0 : -1;
	if ((s = sqlite3_column_text(st, i)) == NULL)
		return -1;
	n = sqlite3_column_bytes(st, i);
	if (n < 0 || (size_t)n >= dstlen || memchr(s, '\0', (size_t)n) != NULL)
		return -1;
	memcpy(dst, s, (size_t)n);
	dst[n] = '\0';
	return 0;
}

static int
row_read(sqlite3_stmt *st, struct journal_tx *tx)
{
	/* the time of each step: created_at, then each step's *_at column */
	static const int at_col[JS__MAX] = { 1, 12, 14, 15, 17, 18, 20, 22,
	    24, 26, 28 };
	int k, c;
	int64_t last;

	memset(tx, 0, sizeof(*tx));
	tx->id = sqlite3_column_int64(st, 0);
	tx->created = (time_t)sqlite3_column_int64(st, 1);
	tx->updated = (time_t)sqlite3_column_int64(st, 2);
	if (col_text(st, 3, tx->session, sizeof(tx->session), 0) == -1 ||
	    col_text(st, 4, tx->idem_key, sizeof(tx->idem_key), 0) == -1 ||
	    col_text(st, 5, tx->pay_ref, sizeof(tx->pay_ref), 0) == -1 ||
	    col_text(st, 6, tx->doctype, sizeof(tx->doctype), 0) == -1 ||
	    col_text(st, 7, tx->center_sid, sizeof(tx->center_sid), 0) == -1 ||
	    col_text(st, 8, tx->options, sizeof(tx->options), 0) == -1)
		return -1;
	tx->copies = sqlite3_column_int(st, 9);
	tx->fee_yen = sqlite3_column_int64(st, 10);
	last = sqlite3_column_int64(st, 11);
	if (last < 0 || last >= JS__MAX)
		return -1;
	tx->last = (enum journal_step)last;
	for (k = 0; k < JS__MAX; k++) {
		c = at_col[k];
		if (sqlite3_column_type(st, c) == SQLITE_NULL)
			continue;
		tx->at[k] = (time_t)sqlite3_column_int64(st, c);
		tx->steps |= 1u << k;
	}
	tx->paid_yen = sqlite3_column_int64(st, 13);
	if (col_text(st, 16, tx->issuance_id, sizeof(tx->issuance_id), 1) ==
	    -1)
		return -1;
	tx->job_id = sqlite3_column_int64(st, 19);
	tx->pages = sqlite3_column_int(st, 21);
	if (col_text(st, 23, tx->reason, sizeof(tx->reason), 1) == -1)
		return -1;
	tx->refunded_yen = sqlite3_column_int64(st, 25);
	c = sqlite3_column_int(st, 27);
	if (c < JA_NONE || c > JA_ABSENT)
		return -1;
	tx->answer = (enum journal_answer)c;
	return 0;
}

/* One row by id or key, inside whatever transaction is open. */
static enum journal_rc
load(struct journal *j, int64_t id, const char *key, struct journal_tx *tx)
{
	sqlite3_stmt *st;
	enum journal_rc rc;
	int src;

	src = sqlite3_prepare_v2(j->db, key == NULL ?
	    "SELECT " TX_COLUMNS " FROM tx WHERE id = ?" :
	    "SELECT " TX_COLUMNS " FROM tx WHERE idem_key = ?", -1, &st, NULL);
	if (src != SQLITE_OK)
		return jsql(j, src, "read");
	if (key == NULL)
		src = sqlite3_bind_int64(st, 1, id);
	else
		src = sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (src != SQLITE_OK) {
		sqlite3_finalize(st);
		return jsql(j, src, "read");
	}
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = row_read(st, tx) == 0 ? JOURNAL_OK : jerr(j, JOURNAL_ERR,
		    "transaction %" PRId64 ": a column is malformed", id);
	else if (src == SQLITE_DONE)
		rc = key == NULL ? jerr(j, JOURNAL_NOT_FOUND, "no transaction %"
		    PRId64, id) : jerr(j, JOURNAL_NOT_FOUND, "no transaction "
		    "with that key");
	else
		rc = jsql(j, src, "read");
	sqlite3_finalize(st);
	return rc;
}

enum journal_rc
journal_get(struct journal *j, int64_t id, struct journal_tx *tx)
{
	return load(j, id, NULL, tx);
}

enum journal_rc
journal_get_by_key(struct journal *j, const char *key, struct journal_tx *tx)
{
	if (!key_ok(key))
		return jerr(j, JOURNAL_INVALID, "malformed idempotency key");
	return load(j, 0, key, tx);
}

enum journal_rc
journal_unfinished(struct journal *j, struct journal_tx **txs, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct journal_tx *v = NULL, *nv;
	size_t cap = 0, cnt = 0;
	enum journal_rc rc;
	int src;

	*txs = NULL;
	*n = 0;
	if ((src = sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		return jsql(j, src, "list");
	if ((src = sqlite3_prepare_v2(j->db, "SELECT " TX_COLUMNS " FROM tx "
	    "WHERE finished_at IS NULL ORDER BY id", -1, &st, NULL)) !=
	    SQLITE_OK) {
		rc = jsql(j, src, "list");
		goto fail;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = jerr(j, JOURNAL_ERR, "out of memory");
				goto fail;
			}
			v = nv;
		}
		if (row_read(st, &v[cnt]) == -1) {
			rc = jerr(j, JOURNAL_ERR, "a row is malformed");
			goto fail;
		}
		cnt++;
	}
	if (src != SQLITE_DONE) {
		rc = jsql(j, src, "list");
		goto fail;
	}
	sqlite3_finalize(st);
	(void)sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
	*txs = v;
	*n = cnt;
	return JOURNAL_OK;
fail:
	sqlite3_finalize(st);
	(void)sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	free(v);
	return rc;
}

/* --- writing ----------------------------------------------------------- */

enum journal_rc
journal_begin(struct journal *j, const struct journal_new *nw, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	time_t now = jnow(j);
	int src;

	*id = 0;
	if (!session_ok(nw->session))
		return jerr(j, JOURNAL_INVALID, "session name is not "
		    "1..%d of [A-Za-z0-9/_-]", JOURNAL_SESSION_MAX);
	if (!key_ok(nw->idem_key) || !key_ok(nw->pay_ref))
		return jerr(j, JOURNAL_INVALID, "idempotency key or payment "
		    "ref is not 16..64 of [A-Za-z0-9_-]");
	if (!chars_ok(nw->doctype, 1, JOURNAL_DOCTYPE_MAX, "_"))
		return jerr(j, JOURNAL_INVALID, "malformed document type");
	if (!hexid_ok(nw->center_sid))
		return jerr(j, JOURNAL_INVALID, "center session id is not 32 "
		    "lower-case hex digits");
	if (nw->options == NULL || strlen(nw->options) > JOURNAL_OPTIONS_MAX)
		return jerr(j, JOURNAL_INVALID, "options missing or longer "
		    "than %d bytes", JOURNAL_OPTIONS_MAX);
	if (nw->copies < 1 || nw->copies > JOURNAL_COPIES_MAX)
		return jerr(j, JOURNAL_INVALID, "copies out of 1..%d",
		    JOURNAL_COPIES_MAX);
	if (nw->fee_yen < 0 || nw->fee_yen > JOURNAL_FEE_MAX)
		return jerr(j, JOURNAL_INVALID, "fee out of 0..%d",
		    JOURNAL_FEE_MAX);
	if ((src = sqlite3_prepare_v2(j->db, "INSERT INTO tx (created_at, "
	    "updated_at, session, idem_key, pay_ref, doctype, center_sid, "
	    "options, copies, fee_yen, last_step) VALUES (?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, 0)", -1, &st, NULL)) != SQLITE_OK)
		return jsql(j, src, "begin");
	if (sqlite3_bind_int64(st, 1, (int64_t)now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (int64_t)now) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, nw->session, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 4, nw->idem_key, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 5, nw->pay_ref, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 6, nw->doctype, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 7, nw->center_sid, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 8, nw->options, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int(st, 9, nw->copies) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 10, nw->fee_yen) != SQLITE_OK) {
		sqlite3_finalize(st);
		return jsql(j, sqlite3_errcode(j->db), "begin");
	}
	/* one statement in autocommit: its own durable transaction */
	src = sqlite3_step(st);
	sqlite3_finalize(st);
	if (src == SQLITE_CONSTRAINT)
		return jerr(j, JOURNAL_EXISTS, "the idempotency key or the "
		    "payment ref is already in the journal");
	if (src != SQLITE_DONE)
		return jsql(j, src, "begin");
	*id = sqlite3_last_insert_rowid(j->db);
	j->err[0] = '\0';
	return JOURNAL_OK;
}

/* The values a step writes beside its time. */
struct step_args {
	enum journal_answer answer;
	int64_t		 i64;		/* yen, job id */
	int		 pages;
	const char	*text;		/* ref, issuance id, reason */
};

static enum journal_rc
step(struct journal *j, int64_t id, enum journal_step s,
    const struct step_args *a)
{
	struct journal_tx tx;
	sqlite3_stmt *st = NULL;
	char sql[256];
	const char *extra = "";
	enum journal_rc rc;
	time_t now = jnow(j);
	int src, n;

	if ((src = sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL)) != SQLITE_OK)
		return jsql(j, src, step_names[s]);
	if ((rc = load(j, id, NULL, &tx)) != JOURNAL_OK)
		goto fail;
	if ((rc = journal_allowed(&tx, s, a->answer)) != JOURNAL_OK) {
		rc = jerr(j, rc, "transaction %" PRId64 ": %s after %s is %s",
		    id, step_names[s], step_names[tx.last],
		    rc == JOURNAL_REFUSED ? "not allowed" : "malformed");
		goto fail;
	}
	/* the values must agree with what is recorded */
	switch (s) {
	case JS_PAID:
		if (a->i64 != tx.fee_yen || strcmp(a->text, tx.pay_ref) != 0) {
			rc = jerr(j, JOURNAL_INVALID, "transaction %" PRId64
			    ": paid %" PRId64 " yen with ref %s, begun for %"
			    PRId64 " with another", id, a->i64, a->text,
			    tx.fee_yen);
			goto fail;
		}
		extra = ", paid_yen = ?2";
		break;
	case JS_ISSUED:
		extra = ", issuance_id = ?3";
		break;
	case JS_SPOOLED:
		extra = ", job_id = ?2";
		break;
	case JS_PRINTED:
		extra = ", pages = ?4";
		break;
	case JS_FAILED:
		extra = ", reason = ?3";
		break;
	case JS_REFUNDED:
		if (a->i64 != tx.paid_yen) {
			rc = jerr(j, JOURNAL_INVALID, "transaction %" PRId64
			    ": refund of %" PRId64 " yen, %" PRId64 " were "
			    "paid", id, a->i64, tx.paid_yen);
			goto fail;
		}
		extra = ", refunded_yen = ?2";
		break;
	case JS_REPORTED:
		if (a->text != NULL && tx.issuance_id[0] != '\0' &&
		    strcmp(a->text, tx.issuance_id) != 0) {
			rc = jerr(j, JOURNAL_INVALID, "transaction %" PRId64
			    ": reported for another issuance", id);
			goto fail;
		}
		if (tx.issuance_id[0] == '\0' && a->text == NULL &&
		    (a->answer == JA_VOIDED || a->answer == JA_CONFLICT)) {
			rc = jerr(j, JOURNAL_INVALID, "transaction %" PRId64
			    ": a void names its issuance", id);
			goto fail;
		}
		extra = tx.issuance_id[0] == '\0' && a->text != NULL ?
		    ", answer = ?5, issuance_id = ?3" : ", answer = ?5";
		break;
	default:
		break;
	}
	/* failed, refunded, reported, finished never lower last_step */
	n = snprintf(sql, sizeof(sql), "UPDATE tx SET %s = ?1, updated_at = "
	    "?1, last_step = max(last_step, ?6)%s WHERE id = ?7",
	    step_cols[s], extra);
	if (n < 0 || (size_t)n >= sizeof(sql)) {
		rc = jerr(j, JOURNAL_ERR, "statement too long");
		goto fail;
	}
	if ((src = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL)) !=
	    SQLITE_OK) {
		rc = jsql(j, src, step_names[s]);
		goto fail;
	}
	/* unused parameters stay NULL; only the named ones are in the SQL */
	if (sqlite3_bind_int64(st, 1, (int64_t)now) != SQLITE_OK ||
	    (strstr(sql, "?2") && sqlite3_bind_int64(st, 2, a->i64) !=
	    SQLITE_OK) ||
	    (strstr(sql, "?3") && sqlite3_bind_text(st, 3, a->text, -1,
	    SQLITE_STATIC) != SQLITE_OK) ||
	    (strstr(sql, "?4") && sqlite3_bind_int(st, 4, a->pages) !=
	    SQLITE_OK) ||
	    (strstr(sql, "?5") && sqlite3_bind_int(st, 5, (int)a->answer) !=
	    SQLITE_OK) ||
	    sqlite3_bind_int(st, 6, (int)s) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, id) != SQLITE_OK) {
		rc = jsql(j, sqlite3_errcode(j->db), step_names[s]);
		goto fail;
	}
	if ((src = sqlite3_step(st)) != SQLITE_DONE) {
		rc = jsql(j, src, step_names[s]);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((src = sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		rc = jsql(j, src, "commit");
		goto fail;
	}
	j->err[0] = '\0';
	return JOURNAL_OK;
fail:
	sqlite3_finalize(st);
	(void)sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

enum journal_rc
journal_paid(struct journal *j, int64_t id, int64_t yen, const char *ref)
{
	struct step_args a = { JA_NONE, yen, 0, ref };

	if (!key_ok(ref) || yen < 0 || yen > JOURNAL_FEE_MAX)
		return jerr(j, JOURNAL_INVALID, "malformed payment");
	return step(j, id, JS_PAID, &a);
}

enum journal_rc
journal_issuing(struct journal *j, int64_t id)
{
	struct step_args a = { JA_NONE, 0, 0, NULL };

	return step(j, id, JS_ISSUING, &a);
}

enum journal_rc
journal_issued(struct journal *j, int64_t id, const char *issuance_id)
{
	struct step_args a = { JA_NONE, 0, 0, issuance_id };

	if (!hexid_ok(issuance_id))
		return jerr(j, JOURNAL_INVALID, "issuance id is not 32 "
		    "lower-case hex digits");
	return step(j, id, JS_ISSUED, &a);
}

enum journal_rc
journal_spooling(struct journal *j, int64_t id)
{
	struct step_args a = { JA_NONE, 0, 0, NULL };

	return step(j, id, JS_SPOOLING, &a);
}

enum journal_rc
journal_spooled(struct journal *j, int64_t id, int64_t job_id)
{
	struct step_args a = { JA_NONE, job_id, 0, NULL };

	if (job_id <= 0 || job_id > INT32_MAX)
		return jerr(j, JOURNAL_INVALID, "job id out of range");
	return step(j, id, JS_SPOOLED, &a);
}

enum journal_rc
journal_printed(struct journal *j, int64_t id, int pages)
{
	struct step_args a = { JA_NONE, 0, pages, NULL };

	if (pages < 0 || pages > JOURNAL_PAGES_MAX)
		return jerr(j, JOURNAL_INVALID, "pages out of 0..%d",
		    JOURNAL_PAGES_MAX);
	return step(j, id, JS_PRINTED, &a);
}

enum journal_rc
journal_failed(struct journal *j, int64_t id, const char *reason)
{
	struct step_args a = { JA_NONE, 0, 0, reason };

	if (!reason_ok(reason))
		return jerr(j, JOURNAL_INVALID, "failure reason is not 1..%d "
		    "of [a-z0-9_]", JOURNAL_REASON_MAX);
	return step(j, id, JS_FAILED, &a);
}

enum journal_rc
journal_refunded(struct journal *j, int64_t id, int64_t yen)
{
	struct step_args a = { JA_NONE, yen, 0, NULL };

	if (yen < 0 || yen > JOURNAL_FEE_MAX)
		return jerr(j, JOURNAL_INVALID, "refund out of range");
	return step(j, id, JS_REFUNDED, &a);
}

enum journal_rc
journal_reported(struct journal *j, int64_t id, enum journal_answer ans,
    const char *issuance_id)
{
	struct step_args a = { ans, 0, 0, issuance_id };

	if (ans != JA_COMMITTED && ans != JA_VOIDED && ans != JA_CONFLICT &&
	    ans != JA_ABSENT)
		return jerr(j, JOURNAL_INVALID, "no such center answer");
	if (issuance_id != NULL && !hexid_ok(issuance_id))
		return jerr(j, JOURNAL_INVALID, "issuance id is not 32 "
		    "lower-case hex digits");
	return step(j, id, JS_REPORTED, &a);
}

enum journal_rc
journal_finished(struct journal *j, int64_t id)
{
	struct step_args a = { JA_NONE, 0, 0, NULL };

	return step(j, id, JS_FINISHED, &a);
}

/* --- the operator's view ----------------------------------------------- */

time_t
journal_day_start_jst(time_t t)
{
	int64_t local = (int64_t)t + JST_OFFSET;
	int64_t days = local / 86400;

	if (local % 86400 < 0)
		days--;
	return (time_t)(days * 86400 - JST_OFFSET);
}

enum journal_rc
journal_counters(struct journal *j, time_t from, time_t to,
    struct journal_counters *c)
{
	static const char sql[] =
	    "SELECT"
	    " (SELECT count(*) FROM tx WHERE created_at >= ?1 AND"
	    "   created_at < ?2),"
	    " (SELECT count(*) FROM tx WHERE printed_at >= ?1 AND"
	    "   printed_at < ?2),"
	    " (SELECT count(*) FROM tx WHERE failed_at >= ?1 AND"
	    "   failed_at < ?2),"
	    " (SELECT count(*) FROM tx WHERE reported_at >= ?1 AND"
	    "   reported_at < ?2 AND (answer = 3 OR (answer = 4 AND"
	    "   printed_at IS NOT NULL))),"
	    " (SELECT count(*) FROM tx WHERE finished_at IS NULL)";
	static const char sql_paid[] =
	    "SELECT count(*), coalesce(sum(paid_yen), 0) FROM tx"
	    " WHERE paid_at >= ?1 AND paid_at < ?2";
	static const char sql_ref[] =
	    "SELECT count(*), coalesce(sum(refunded_yen), 0) FROM tx"
	    " WHERE refunded_at >= ?1 AND refunded_at < ?2";
	sqlite3_stmt *st = NULL;
	enum journal_rc rc = JOURNAL_OK;
	const char *q[3] = { sql, sql_paid, sql_ref };
	int k, src;

	memset(c, 0, sizeof(*c));
	if ((src = sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		return jsql(j, src, "counters");
	for (k = 0; k < 3; k++) {
		if ((src = sqlite3_prepare_v2(j->db, q[k], -1, &st, NULL)) !=
		    SQLITE_OK ||
		    (src = sqlite3_bind_int64(st, 1, (int64_t)from)) !=
		    SQLITE_OK ||
		    (src = sqlite3_bind_int64(st, 2, (int64_t)to)) !=
		    SQLITE_OK ||
		    (src = sqlite3_step(st)) != SQLITE_ROW) {
			rc = jsql(j, src == SQLITE_DONE ? SQLITE_ERROR : src,
			    "counters");
			break;
		}
		if (k == 0) {
			c->begun = sqlite3_column_int64(st, 0);
			c->printed = sqlite3_column_int64(st, 1);
			c->failed = sqlite3_column_int64(st, 2);
			c->conflicts = sqlite3_column_int64(st, 3);
			c->unfinished = sqlite3_column_int64(st, 4);
		} else if (k == 1) {
			c->paid = sqlite3_column_int64(st, 0);
			c->paid_yen = sqlite3_column_int64(st, 1);
		} else {
			c->refunded = sqlite3_column_int64(st, 0);
			c->refunded_yen = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	sqlite3_finalize(st);
	(void)sqlite3_exec(j->db, rc == JOURNAL_OK ? "COMMIT" : "ROLLBACK",
	    NULL, NULL, NULL);
	c->net_yen = c->paid_yen - c->refunded_yen;
	return rc;
}

enum journal_rc
journal_prune(struct journal *j, int keep_days, int64_t *deleted)
{
	sqlite3_stmt *st;
	int64_t before;
	int src;

	*deleted = 0;
	if (keep_days < 0 || keep_days > KEEP_DAYS_MAX)
		return jerr(j, JOURNAL_INVALID, "keep days out of 0..%d",
		    KEEP_DAYS_MAX);
	before = (int64_t)jnow(j) - (int64_t)keep_days * 86400;
	if ((src = sqlite3_prepare_v2(j->db, "DELETE FROM tx WHERE "
	    "finished_at IS NOT NULL AND finished_at < ?", -1, &st, NULL)) !=
	    SQLITE_OK)
		return jsql(j, src, "prune");
	if ((src = sqlite3_bind_int64(st, 1, before)) != SQLITE_OK ||
	    (src = sqlite3_step(st)) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return jsql(j, src, "prune");
	}
	sqlite3_finalize(st);
	*deleted = sqlite3_changes(j->db);
	j->err[0] = '\0';
	return JOURNAL_OK;
}
