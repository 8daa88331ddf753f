/*
 * A coin box SIMULATOR behind the payment interface (payment.h).
 *
 * No physical coin box is reachable from this project's machines, so this
 * file plays one: a resident who always inserts enough coins unless a
 * "declined" fault says otherwise.  What a real device keeps in its own
 * memory -- every take and every refund -- is kept in a SQLite ledger of
 * its own (WAL, synchronous=FULL), apart from the kiosk's journal because
 * the device is a separate machine that survives kioskd's crashes on its
 * own.  Tests count the money in it (kiosk-coinbox --summary).
 *
 * The ledger is append-only (triggers refuse UPDATE and DELETE of an
 * entry), one take and one refund per ref at most (UNIQUE), a refund only
 * for a take of the same amount (trigger): the idempotency promised by
 * payment.h holds in the file, not only in this code.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "payment.h"
#include "util.h"

#define CB_BUSY_TIMEOUT_MS	5000
#define CB_FAULT_MAX		1000000
#define CB_PERMANENT		(-1)

enum cb_fault {
	F_DECLINED,
	F_TAKE_ERROR,
	F_TAKE_LOST,
	F_REFUND_ERROR,
	F_REFUND_LOST,
	F_JAMMED,
	F_OFFLINE,
	F__MAX
};

static const char *const fault_names[F__MAX] = {
	"declined", "take_error", "take_lost", "refund_error", "refund_lost",
	"jammed", "offline"
};

struct coinbox {
	struct payment	 pay;		/* first: the interface */
	sqlite3		*db;
	int		 faults[F__MAX];	/* from the options: count or -1 */
	char		 err[256];
};

static const char schema_v1[] =
"CREATE TABLE entries ("
"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
"  at INTEGER NOT NULL,"
"  op TEXT NOT NULL CHECK (op IN ('take', 'refund')),"
"  ref TEXT NOT NULL,"
"  yen INTEGER NOT NULL CHECK (yen >= 0),"
"  UNIQUE (op, ref)"
");"
"CREATE TRIGGER entries_refund_needs_take BEFORE INSERT ON entries"
"  WHEN NEW.op = 'refund' AND NOT EXISTS (SELECT 1 FROM entries"
"    WHERE op = 'take' AND ref = NEW.ref AND yen = NEW.yen)"
"  BEGIN SELECT RAISE(ABORT, 'coinbox: refund without its take'); END;"
"CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries"
"  BEGIN SELECT RAISE(ABORT, 'coinbox: the ledger is append-only'); END;"
"CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries"
"  BEGIN SELECT RAISE(ABORT, 'coinbox: the ledger is append-only'); END;"
"CREATE TABLE faults ("
"  name TEXT PRIMARY KEY,"
"  remaining INTEGER NOT NULL CHECK (remaining = -1 OR remaining > 0)"
");";

static enum payment_rc
cberr(struct coinbox *cb, enum payment_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum payment_rc
cberr(struct coinbox *cb, enum payment_rc rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(cb->err, sizeof(cb->err), fmt, ap);
	va_end(ap);
	return rc;
}

static enum payment_rc
cbsql(struct coinbox *cb, const char *what)
{
	return cberr(cb, PAYMENT_DEVICE_ERROR, "coinbox ledger: %s: %s", what,
	    sqlite3_errmsg(cb->db));
}

const char *
payment_rc_name(enum payment_rc rc)
{
	switch (rc) {
	case PAYMENT_OK:
		return "ok";
	case PAYMENT_DECLINED:
		return "declined";
	case PAYMENT_REFUSED:
		return "refused";
	case PAYMENT_DEVICE_ERROR:
		return "device_error";
	case PAYMENT_OUT_OF_SERVICE:
		return "out_of_service";
	case PAYMENT_INVALID:
		return "invalid";
	}
	return "unknown";
}

const char *
payment_state_name(enum payment_state s)
{
	switch (s) {
	case PAYMENT_NONE:
		return "none";
	case PAYMENT_TAKEN:
		return "taken";
	case PAYMENT_REFUNDED:
		return "refunded";
	}
	return "unknown";
}

int
payment_ref_ok(const char *ref)
{
	size_t i, n;

	if (ref == NULL)
		return 0;
	n = strlen(ref);
	if (n < PAYMENT_REF_MIN || n > PAYMENT_REF_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = ref[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* --- faults ------------------------------------------------------------- */

/* "name" or "name=N" into (fault, count); -1 when malformed. */
static int
fault_parse(const char *s, size_t len, enum cb_fault *f, int *count)
{
	const char *eq, *errstr;
	char num[16];
	size_t nlen;
	int k;

	eq = memchr(s, '=', len);
	nlen = eq != NULL ? (size_t)(eq - s) : len;
	for (k = 0; k < F__MAX; k++)
		if (strlen(fault_names[k]) == nlen &&
		    memcmp(fault_names[k], s, nlen) == 0)
			break;
	if (k == F__MAX)
		return -1;
	*f = (enum cb_fault)k;
	if (*f == F_JAMMED || *f == F_OFFLINE) {
		*count = CB_PERMANENT;
		return eq == NULL ? 0 : -1;
	}
	*count = 1;
	if (eq == NULL)
		return 0;
	if (len - nlen - 1 == 0 || len - nlen - 1 >= sizeof(num))
		return -1;
	memcpy(num, eq + 1, len - nlen - 1);
	num[len - nlen - 1] = '\0';
	*count = (int)parse_num(num, 1, CB_FAULT_MAX, &errstr);
	return errstr == NULL ? 0 : -1;
}

/* The ledger's count for a fault (0: none, -1: permanent); -2 on error. */
static int
fault_db(struct coinbox *cb, enum cb_fault f)
{
	sqlite3_stmt *st;
	int rc, v = 0;

	if (sqlite3_prepare_v2(cb->db, "SELECT remaining FROM faults WHERE "
	    "name = ?", -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_bind_text(st, 1, fault_names[f], -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		sqlite3_finalize(st);
		return -2;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		v = -2;
	sqlite3_finalize(st);
	return v;
}

/* Is fault f on now (without using it up)?  -1 on a ledger error. */
static int
fault_on(struct coinbox *cb, enum cb_fault f)
{
	int v;

	if (cb->faults[f] != 0)
		return 1;
	if ((v = fault_db(cb, f)) == -2)
		return -1;
	return v != 0;
}

/*
 * Uses fault f up once if it is on (inside the caller's write
 * transaction): 1 when it fires, 0 when not, -1 on a ledger error.
 */
static int
fault_fire(struct coinbox *cb, enum cb_fault f)
{
	sqlite3_stmt *st;
	int v, rc;

	if (cb->faults[f] != 0) {
		if (cb->faults[f] > 0)
			cb->faults[f]--;
		return 1;
	}
	if ((v = fault_db(cb, f)) == -2)
		return -1;
	if (v == 0)
		return 0;
	if (v == CB_PERMANENT)
		return 1;
	if (sqlite3_prepare_v2(cb->db, v == 1 ?
	    "DELETE FROM faults WHERE name = ?" :
	    "UPDATE faults SET remaining = remaining - 1 WHERE name = ?", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_bind_text(st, 1, fault_names[f], -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 1 : -1;
}

/* --- the ledger ---------------------------------------------------------- */

/* The entry of op for ref: 1 found (*yen), 0 none, -1 error. */
static int
entry_get(struct coinbox *cb, const char *op, const char *ref, int64_t *yen)
{
	sqlite3_stmt *st;
	int rc, found = -1;

	if (sqlite3_prepare_v2(cb->db, "SELECT yen FROM entries WHERE op = ? "
	    "AND ref = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*yen = sqlite3_column_int64(st, 0);
		found = 1;
	} else if (rc == SQLITE_DONE)
		found = 0;
	sqlite3_finalize(st);
	return found;
}

static int
entry_add(struct coinbox *cb, const char *op, const char *ref, int64_t yen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(cb->db, "INSERT INTO entries (at, op, ref, yen) "
	    "VALUES (?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_bind_int64(st, 1, (int64_t)time(NULL)) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, op, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, ref, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, yen) != SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static enum payment_rc
tx_begin(struct coinbox *cb)
{
	if (sqlite3_exec(cb->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return cbsql(cb, "begin");
	return PAYMENT_OK;
}

/* Commits what was done (a fault used up, an entry), answers rc. */
static enum payment_rc
tx_end(struct coinbox *cb, enum payment_rc rc)
{
	if (sqlite3_exec(cb->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = cbsql(cb, "commit");
		(void)sqlite3_exec(cb->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return rc;
}

static enum payment_rc
tx_abort(struct coinbox *cb, enum payment_rc rc)
{
	(void)sqlite3_exec(cb->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Offline or jammed: the answer, or PAYMENT_OK when neither. */
static enum payment_rc
device_down(struct coinbox *cb, int money)
{
	int v;

	if ((v = fault_on(cb, F_OFFLINE)) != 0)
		return v < 0 ? cbsql(cb, "faults") : cberr(cb,
		    PAYMENT_DEVICE_ERROR, "coinbox: offline (simulated)");
	if (money && (v = fault_on(cb, F_JAMMED)) != 0)
		return v < 0 ? cbsql(cb, "faults") : cberr(cb,
		    PAYMENT_OUT_OF_SERVICE, "coinbox: jammed (simulated)");
	return PAYMENT_OK;
}

static enum payment_rc
cb_take(struct payment *p, int64_t yen, const char *ref)
{
	struct coinbox *cb = (struct coinbox *)p;
	enum payment_rc rc;
	int64_t had;
	int v;

	cb->err[0] = '\0';
	if (!payment_ref_ok(ref) || yen < 0 || yen > PAYMENT_YEN_MAX)
		return cberr(cb, PAYMENT_INVALID, "coinbox: malformed take");
	if ((rc = tx_begin(cb)) != PAYMENT_OK)
		return rc;
	if ((rc = device_down(cb, 1)) != PAYMENT_OK)
		return tx_abort(cb, rc);
	if ((v = entry_get(cb, "take", ref, &had)) == -1)
		return tx_abort(cb, cbsql(cb, "take"));
	if (v == 1) {
		/* the same ref again: taken once, whatever is retried */
		if (had != yen)
			return tx_abort(cb, cberr(cb, PAYMENT_REFUSED, "coinbox: "
			    "ref %s was taken for %" PRId64 " yen, not %" PRId64,
			    ref, had, yen));
		return tx_abort(cb, PAYMENT_OK);
	}
	if ((v = fault_fire(cb, F_DECLINED)) != 0)
		return v < 0 ? tx_abort(cb, cbsql(cb, "faults")) :
		    tx_end(cb, cberr(cb, PAYMENT_DECLINED, "coinbox: not "
		    "enough coins inserted (simulated)"));
	if ((v = fault_fire(cb, F_TAKE_ERROR)) != 0)
		return v < 0 ? tx_abort(cb, cbsql(cb, "faults")) :
		    tx_end(cb, cberr(cb, PAYMENT_DEVICE_ERROR, "coinbox: "
		    "device error before taking (simulated)"));
	if (entry_add(cb, "take", ref, yen) == -1)
		return tx_abort(cb, cbsql(cb, "take"));
	if ((v = fault_fire(cb, F_TAKE_LOST)) != 0)
		return v < 0 ? tx_abort(cb, cbsql(cb, "faults")) :
		    tx_end(cb, cberr(cb, PAYMENT_DEVICE_ERROR, "coinbox: "
		    "device error after taking (simulated)"));
	return tx_end(cb, PAYMENT_OK);
}

static enum payment_rc
cb_refund(struct payment *p, int64_t yen, const char *ref)
{
	struct coinbox *cb = (struct coinbox *)p;
	enum payment_rc rc;
	int64_t had, back;
	int v;

	cb->err[0] = '\0';
	if (!payment_ref_ok(ref) || yen < 0 || yen > PAYMENT_YEN_MAX)
		return cberr(cb, PAYMENT_INVALID, "coinbox: malformed refund");
	if ((rc = tx_begin(cb)) != PAYMENT_OK)
		return rc;
	if ((rc = device_down(cb, 1)) != PAYMENT_OK)
		return tx_abort(cb, rc);
	if ((v = entry_get(cb, "take", ref, &had)) == -1)
		return tx_abort(cb, cbsql(cb, "refund"));
	if (v == 0)
		return tx_abort(cb, cberr(cb, PAYMENT_REFUSED, "coinbox: no "
		    "take with ref %s: nothing to refund", ref));
	if (had != yen)
		return tx_abort(cb, cberr(cb, PAYMENT_REFUSED, "coinbox: ref "
		    "%s took %" PRId64 " yen, not %" PRId64, ref, had, yen));
	if ((v = entry_get(cb, "refund", ref, &back)) == -1)
		return tx_abort(cb, cbsql(cb, "refund"));
	if (v == 1)
		return tx_abort(cb, PAYMENT_OK);	/* refunded once */
	if ((v = fault_fire(cb, F_REFUND_ERROR)) != 0)
		return v < 0 ? tx_abort(cb, cbsql(cb, "faults")) :
		    tx_end(cb, cberr(cb, PAYMENT_DEVICE_ERROR, "coinbox: "
		    "device error before refunding (simulated)"));
	if (entry_add(cb, "refund", ref, yen) == -1)
		return tx_abort(cb, cbsql(cb, "refund"));
	if ((v = fault_fire(cb, F_REFUND_LOST)) != 0)
		return v < 0 ? tx_abort(cb, cbsql(cb, "faults")) :
		    tx_end(cb, cberr(cb, PAYMENT_DEVICE_ERROR, "coinbox: "
		    "device error after refunding (simulated)"));
	return tx_end(cb, PAYMENT_OK);
}

static enum payment_rc
cb_query(struct payment *p, const char *ref, enum payment_state *state,
    int64_t *yen)
{
	struct coinbox *cb = (struct coinbox *)p;
	enum payment_rc rc;
	int64_t back;
	int v, r;

	cb->err[0] = '\0';
	*state = PAYMENT_NONE;
	*yen = 0;
	if (!payment_ref_ok(ref))
		return cberr(cb, PAYMENT_INVALID, "coinbox: malformed ref");
	if (sqlite3_exec(cb->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return cbsql(cb, "query");
	if ((rc = device_down(cb, 0)) != PAYMENT_OK)
		return tx_abort(cb, rc);
	if ((v = entry_get(cb, "take", ref, yen)) == -1 ||
	    (r = entry_get(cb, "refund", ref, &back)) == -1)
		return tx_abort(cb, cbsql(cb, "query"));
	if (v == 1)
		*state = r == 1 ? PAYMENT_REFUNDED : PAYMENT_TAKEN;
	return tx_abort(cb, PAYMENT_OK);
}

static void
cb_status(struct payment *p, struct payment_status *s)
{
	struct coinbox *cb = (struct coinbox *)p;
	int off, jam;

	memset(s, 0, sizeof(*s));
	if (sqlite3_exec(cb->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		(void)snprintf(s->reason, sizeof(s->reason), "ledger_error");
		return;
	}
	off = fault_on(cb, F_OFFLINE);
	jam = fault_on(cb, F_JAMMED);
	(void)sqlite3_exec(cb->db, "ROLLBACK", NULL, NULL, NULL);
	if (off < 0 || jam < 0)
		(void)snprintf(s->reason, sizeof(s->reason), "ledger_error");
	else if (off)
		(void)snprintf(s->reason, sizeof(s->reason), "offline");
	else if (jam)
		(void)snprintf(s->reason, sizeof(s->reason), "jammed");
	else
		s->ready = 1;
}

static const char *
cb_errmsg(const struct payment *p)
{
	const struct coinbox *cb = (const struct coinbox *)p;

	return cb->err[0] != '\0' ? cb->err : "no error";
}

static void
cb_close(struct payment *p)
{
	struct coinbox *cb = (struct coinbox *)p;

	if (cb == NULL)
		return;
	if (cb->db != NULL)
		(void)sqlite3_close(cb->db);
	free(cb);
}

static const struct payment_ops coinbox_ops = {
	.name = "coinbox",
	.take = cb_take,
	.refund = cb_refund,
	.query = cb_query,
	.status = cb_status,
	.errmsg = cb_errmsg,
	.close = cb_close,
};

/* --- opening -------------------------------------------------------------- */

static int
ledger_open(struct coinbox *cb, const char *path)
{
	sqlite3_stmt *st = NULL;
	const char *mode;
	int v = -1, rc;

	if (sqlite3_open_v2(path, &cb->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		(void)snprintf(cb->err, sizeof(cb->err), "%s: %s", path,
		    cb->db != NULL ? sqlite3_errmsg(cb->db) : "out of memory");
		return -1;
	}
	if (sqlite3_busy_timeout(cb->db, CB_BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_exec(cb->db, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(cb->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    (mode = (const char *)sqlite3_column_text(st, 0)) == NULL ||
	    strcmp(mode, "wal") != 0) {
		(void)snprintf(cb->err, sizeof(cb->err), "%s: cannot use WAL: "
		    "%s", path, sqlite3_errmsg(cb->db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_exec(cb->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto sqlfail;
	if (sqlite3_prepare_v2(cb->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto sqlfail;
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (v > 1 || v < 0) {
		(void)snprintf(cb->err, sizeof(cb->err), "%s: ledger schema "
		    "version %d is not this program's (1)", path, v);
		(void)sqlite3_exec(cb->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (v == 0 && (sqlite3_exec(cb->db, schema_v1, NULL, NULL, NULL) !=
	    SQLITE_OK || sqlite3_exec(cb->db, "PRAGMA user_version = 1", NULL,
	    NULL, NULL) != SQLITE_OK))
		goto sqlfail;
	if ((rc = sqlite3_exec(cb->db, "COMMIT", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		goto sqlfail;
	return 0;
sqlfail:
	(void)snprintf(cb->err, sizeof(cb->err), "%s: %s", path,
	    sqlite3_errmsg(cb->db));
	sqlite3_finalize(st);
	(void)sqlite3_exec(cb->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct payment *
payment_coinbox_open(const char *opts, char *err, size_t errlen)
{
	struct coinbox *cb;
	const char *p, *end;
	char path[4096] = "";
	enum cb_fault f;
	size_t len;
	int count;

	if (opts == NULL) {
		(void)snprintf(err, errlen, "coinbox: no options");
		return NULL;
	}
	if ((cb = calloc(1, sizeof(*cb))) == NULL) {
		(void)snprintf(err, errlen, "coinbox: out of memory");
		return NULL;
	}
	cb->pay.ops = &coinbox_ops;
	for (p = opts; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 0)
			continue;
		if (len > 7 && memcmp(p, "ledger=", 7) == 0) {
			if (len - 7 >= sizeof(path)) {
				(void)snprintf(err, errlen, "coinbox: ledger "
				    "path too long");
				goto fail;
			}
			memcpy(path, p + 7, len - 7);
			path[len - 7] = '\0';
			continue;
		}
		if (fault_parse(p, len, &f, &count) == -1) {
			(void)snprintf(err, errlen, "coinbox: unknown option "
			    "\"%.*s\" (ledger=PATH, declined[=N], "
			    "take_error[=N], take_lost[=N], refund_error[=N], "
			    "refund_lost[=N], jammed, offline)",
			    (int)(len > 40 ? 40 : len), p);
			goto fail;
		}
		cb->faults[f] = count;
	}
	if (path[0] == '\0') {
		(void)snprintf(err, errlen, "coinbox: ledger=PATH is required");
		goto fail;
	}
	if (ledger_open(cb, path) == -1) {
		(void)snprintf(err, errlen, "coinbox: %s", cb->err);
		goto fail;
	}
	cb->err[0] = '\0';
	return &cb->pay;
fail:
	cb_close(&cb->pay);
	return NULL;
}

int
coinbox_summary(struct payment *p, struct coinbox_summary *s)
{
	struct coinbox *cb = (struct coinbox *)p;
	sqlite3_stmt *st;
	int rc;

	memset(s, 0, sizeof(*s));
	if (p->ops != &coinbox_ops)
		return -1;
	if (sqlite3_prepare_v2(cb->db, "SELECT "
	    "coalesce(sum(CASE op WHEN 'take' THEN yen END), 0), "
	    "coalesce(sum(CASE op WHEN 'refund' THEN yen END), 0), "
	    "count(CASE op WHEN 'take' THEN 1 END), "
	    "count(CASE op WHEN 'refund' THEN 1 END) FROM entries", -1, &st,
	    NULL) != SQLITE_OK) {
		(void)cbsql(cb, "summary");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->taken_yen = sqlite3_column_int64(st, 0);
		s->refunded_yen = sqlite3_column_int64(st, 1);
		s->takes = sqlite3_column_int64(st, 2);
		s->refunds = sqlite3_column_int64(st, 3);
		s->net_yen = s->taken_yen - s->refunded_yen;
	} else
		(void)cbsql(cb, "summary");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
coinbox_inject(struct payment *p, const char *fault)
{
	struct coinbox *cb = (struct coinbox *)p;
	sqlite3_stmt *st;
	enum cb_fault f;
	int count, rc;

	if (p->ops != &coinbox_ops || fault == NULL)
		return -1;
	if (strcmp(fault, "clear") == 0) {
		if (sqlite3_exec(cb->db, "DELETE FROM faults", NULL, NULL,
		    NULL) != SQLITE_OK) {
			(void)cbsql(cb, "clear");
			return -1;
		}
		return 0;
	}
	if (fault_parse(fault, strlen(fault), &f, &count) == -1) {
		(void)cberr(cb, PAYMENT_INVALID, "coinbox: unknown fault");
		return -1;
	}
	if (sqlite3_prepare_v2(cb->db, "INSERT INTO faults (name, remaining) "
	    "VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET remaining = "
	    "excluded.remaining", -1, &st, NULL) != SQLITE_OK) {
		(void)cbsql(cb, "inject");
		return -1;
	}
	if (sqlite3_bind_text(st, 1, fault_names[f], -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_int(st, 2, count) != SQLITE_OK) {
		sqlite3_finalize(st);
		(void)cbsql(cb, "inject");
		return -1;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		(void)cbsql(cb, "inject");
		return -1;
	}
	return 0;
}

int
coinbox_list(struct payment *p, void (*fn)(void *, int64_t, int64_t,
    const char *, const char *, int64_t), void *arg)
{
	struct coinbox *cb = (struct coinbox *)p;
	sqlite3_stmt *st;
	const char *op, *ref;
	int rc;

	if (p->ops != &coinbox_ops)
		return -1;
	if (sqlite3_prepare_v2(cb->db, "SELECT seq, at, op, ref, yen FROM "
	    "entries ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		(void)cbsql(cb, "list");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		op = (const char *)sqlite3_column_text(st, 2);
		ref = (const char *)sqlite3_column_text(st, 3);
		fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
		    op != NULL ? op : "", ref != NULL ? ref : "",
		    sqlite3_column_int64(st, 4));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		(void)cbsql(cb, "list");
		return -1;
	}
	return 0;
}
