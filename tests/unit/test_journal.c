/*
 * The transaction journal on a real file: both paths end to end, every
 * step tried in every reachable state (the allowed ones written out here,
 * apart from journal.c's rules), one outcome only even through raw SQL,
 * a step that is there after the writer is SIGKILLed right after the call
 * returns, a second owner refused, a locked file waited for or refused
 * with JOURNAL_BUSY, a newer schema left alone, counters and pruning.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "journal.h"
#include "t.h"

#define SID	"0123456789abcdef0123456789abcdef"
#define ISS	"fedcba9876543210fedcba9876543210"
#define ISS2	"aaaabbbbccccddddeeeeffff00001111"

static char dir[512];
static int serial;
static time_t fake_now = 1767225600;	/* 2026-01-01 00:00 UTC */

static time_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void
mkpath(char *buf, size_t len, const char *name)
{
	(void)snprintf(buf, len, "%s/%s", dir, name);
}

static struct journal *
jopen(const char *name, int flags)
{
	struct journal *j;
	char path[600], err[256];
	enum journal_rc rc;

	mkpath(path, sizeof(path), name);
	rc = journal_open(path, flags | JOURNAL_CREATE, &j, err, sizeof(err));
	if (rc != JOURNAL_OK) {
		fprintf(stderr, "open %s: %s\n", path, err);
		return NULL;
	}
	return j;
}

/* A new transaction with its own key and ref. */
static int64_t
begin(struct journal *j, int64_t fee)
{
	struct journal_new nw;
	char key[40], ref[40];
	int64_t id = 0;

	serial++;
	(void)snprintf(key, sizeof(key), "key-%016d", serial);
	(void)snprintf(ref, sizeof(ref), "pay-%016d", serial);
	memset(&nw, 0, sizeof(nw));
	nw.session = "00112233445566ff/3fa2c1";
	nw.idem_key = key;
	nw.pay_ref = ref;
	nw.doctype = "juminhyo";
	nw.center_sid = SID;
	nw.options = "{\"members\":[0],\"my_number\":false}";
	nw.copies = 2;
	nw.fee_yen = fee;
	if (journal_begin(j, &nw, &id) != JOURNAL_OK)
		return -1;
	return id;
}

static const char *
refof(struct journal *j, int64_t id)
{
	static struct journal_tx tx;

	if (journal_get(j, id, &tx) != JOURNAL_OK)
		return "";
	return tx.pay_ref;
}

/* --- the candidates and the states ------------------------------------- */

enum cand {
	C_PAID, C_ISSUING, C_ISSUED, C_SPOOLING, C_SPOOLED, C_PRINTED,
	C_FAILED, C_REFUNDED, C_REP_COMMITTED, C_REP_VOIDED, C_REP_CONFLICT,
	C_REP_ABSENT, C_FINISHED, C__MAX
};

static const char *const cand_names[C__MAX] = {
	"paid", "issuing", "issued", "spooling", "spooled", "printed",
	"failed", "refunded", "reported committed", "reported voided",
	"reported conflict", "reported absent", "finished"
};

static enum journal_rc
apply(struct journal *j, int64_t id, enum cand c)
{
	struct journal_tx tx;
	const char *learned;

	if (journal_get(j, id, &tx) != JOURNAL_OK)
		return JOURNAL_ERR;
	/* a row without an issuance id names the one a re-issue found */
	learned = tx.issuance_id[0] == '\0' ? ISS2 : NULL;
	switch (c) {
	case C_PAID:
		return journal_paid(j, id, tx.fee_yen, tx.pay_ref);
	case C_ISSUING:
		return journal_issuing(j, id);
	case C_ISSUED:
		return journal_issued(j, id, ISS);
	case C_SPOOLING:
		return journal_spooling(j, id);
	case C_SPOOLED:
		return journal_spooled(j, id, 42);
	case C_PRINTED:
		return journal_printed(j, id, 2);
	case C_FAILED:
		return journal_failed(j, id, "job_aborted");
	case C_REFUNDED:
		return journal_refunded(j, id, tx.paid_yen);
	case C_REP_COMMITTED:
		return journal_reported(j, id, JA_COMMITTED, NULL);
	case C_REP_VOIDED:
		return journal_reported(j, id, JA_VOIDED, learned);
	case C_REP_CONFLICT:
		return journal_reported(j, id, JA_CONFLICT, learned);
	case C_REP_ABSENT:
		return journal_reported(j, id, JA_ABSENT, NULL);
	case C_FINISHED:
		return journal_finished(j, id);
	case C__MAX:
		break;
	}
	return JOURNAL_ERR;
}

#define END	C__MAX

struct state {
	const char	*name;
	enum cand	 path[12];	/* the steps to get there, END-terminated */
	enum cand	 ok[6];		/* what may follow, END-terminated */
};

static const struct state states[] = {
	{ "created", { END }, { C_PAID, C_FAILED, END } },
	{ "paid", { C_PAID, END }, { C_ISSUING, C_FAILED, END } },
	{ "issuing", { C_PAID, C_ISSUING, END }, { C_ISSUED, C_FAILED, END } },
	{ "issued", { C_PAID, C_ISSUING, C_ISSUED, END },
	    { C_SPOOLING, C_FAILED, END } },
	{ "spooling", { C_PAID, C_ISSUING, C_ISSUED, C_SPOOLING, END },
	    { C_SPOOLED, C_FAILED, END } },
	{ "spooled", { C_PAID, C_ISSUING, C_ISSUED, C_SPOOLING, C_SPOOLED,
	    END }, { C_PRINTED, C_FAILED, END } },
	{ "printed", { C_PAID, C_ISSUING, C_ISSUED, C_SPOOLING, C_SPOOLED,
	    C_PRINTED, END }, { C_REP_COMMITTED, C_REP_CONFLICT, C_REP_ABSENT,
	    END } },
	{ "printed reported", { C_PAID, C_ISSUING, C_ISSUED, C_SPOOLING,
	    C_SPOOLED, C_PRINTED, C_REP_COMMITTED, END }, { C_FINISHED, END } },
	{ "printed finished", { C_PAID, C_ISSUING, C_ISSUED, C_SPOOLING,
	    C_SPOOLED, C_PRINTED, C_REP_COMMITTED, C_FINISHED, END }, { END } },
	{ "failed unpaid", { C_FAILED, END }, { C_FINISHED, END } },
	{ "failed unpaid finished", { C_FAILED, C_FINISHED, END }, { END } },
	{ "paid failed", { C_PAID, C_FAILED, END }, { C_REFUNDED, END } },
	{ "paid failed refunded", { C_PAID, C_FAILED, C_REFUNDED, END },
	    { C_FINISHED, END } },
	{ "issuing failed", { C_PAID, C_ISSUING, C_FAILED, END },
	    { C_REFUNDED, END } },
	{ "issuing failed refunded", { C_PAID, C_ISSUING, C_FAILED,
	    C_REFUNDED, END }, { C_REP_VOIDED, C_REP_CONFLICT, C_REP_ABSENT,
	    END } },
	{ "issuing failed absent", { C_PAID, C_ISSUING, C_FAILED, C_REFUNDED,
	    C_REP_ABSENT, END }, { C_FINISHED, END } },
	{ "issued failed refunded", { C_PAID, C_ISSUING, C_ISSUED, C_FAILED,
	    C_REFUNDED, END }, { C_REP_VOIDED, C_REP_CONFLICT, C_REP_ABSENT,
	    END } },
	{ "spooled failed", { C_PAID, C_ISSUING, C_ISSUED, C_SPOOLING,
	    C_SPOOLED, C_FAILED, END }, { C_REFUNDED, END } },
	{ "spooled failed refunded", { C_PAID, C_ISSUING, C_ISSUED,
	    C_SPOOLING, C_SPOOLED, C_FAILED, C_REFUNDED, END },
	    { C_REP_VOIDED, C_REP_CONFLICT, C_REP_ABSENT, END } },
	{ "spooled failed voided", { C_PAID, C_ISSUING, C_ISSUED, C_SPOOLING,
	    C_SPOOLED, C_FAILED, C_REFUNDED, C_REP_VOIDED, END },
	    { C_FINISHED, END } },
	{ "voided finished", { C_PAID, C_ISSUING, C_ISSUED, C_SPOOLING,
	    C_SPOOLED, C_FAILED, C_REFUNDED, C_REP_VOIDED, C_FINISHED, END },
	    { END } },
};

static int
in(const enum cand *set, enum cand c)
{
	for (; *set != END; set++)
		if (*set == c)
			return 1;
	return 0;
}

static void
test_every_step_in_every_state(void)
{
	struct journal *j = jopen("steps.db", 0);
	struct journal_tx before, after;
	size_t s, k;
	int c, bad = 0, refused_ok = 0, total = 0;
	char name[160];

	if (!T_CHECK(j != NULL, "open a journal for the step table"))
		return;
	for (s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		for (c = 0; c < C__MAX; c++) {
			int64_t id = begin(j, 400);
			int replay_ok = id > 0;
			enum journal_rc rc, want;

			for (k = 0; replay_ok && states[s].path[k] != END; k++)
				replay_ok = apply(j, id,
				    states[s].path[k]) == JOURNAL_OK;
			if (!replay_ok) {
				bad++;
				fprintf(stderr, "replay of %s failed: %s\n",
				    states[s].name, journal_errmsg(j));
				continue;
			}
			(void)journal_get(j, id, &before);
			want = in(states[s].ok, (enum cand)c) ? JOURNAL_OK :
			    JOURNAL_REFUSED;
			rc = apply(j, id, (enum cand)c);
			(void)journal_get(j, id, &after);
			total++;
			if (rc != want) {
				bad++;
				fprintf(stderr, "state %s + %s: %s, want %s\n",
				    states[s].name, cand_names[c],
				    journal_rc_name(rc), journal_rc_name(want));
			} else if (rc != JOURNAL_OK) {
				/* refused: not a byte of the row changed */
				if (memcmp(&before, &after, sizeof(before)) != 0)
					bad++;
				else
					refused_ok++;
			}
		}
		(void)snprintf(name, sizeof(name), "state \"%s\": exactly the "
		    "allowed steps are taken", states[s].name);
		T_CHECK(bad == 0, name);
		bad = 0;
	}
	(void)snprintf(name, sizeof(name), "%d (state, step) pairs tried, "
	    "%d refused leaving the row untouched", total, refused_ok);
	T_CHECK(total == (int)(sizeof(states) / sizeof(states[0])) * C__MAX &&
	    refused_ok > total / 2, name);
	journal_close(j);
}

static void
test_paths(void)
{
	struct journal *j = jopen("paths.db", 0);
	struct journal_tx tx;
	int64_t id;
	int ok;

	if (!T_CHECK(j != NULL, "open a journal"))
		return;
	T_CHECK(journal_schema_version(j) == JOURNAL_SCHEMA_VERSION,
	    "a new journal is at schema version 1");
	id = begin(j, 400);
	ok = id > 0 &&
	    journal_paid(j, id, 400, refof(j, id)) == JOURNAL_OK &&
	    journal_issuing(j, id) == JOURNAL_OK &&
	    journal_issued(j, id, ISS) == JOURNAL_OK &&
	    journal_spooling(j, id) == JOURNAL_OK &&
	    journal_spooled(j, id, 17) == JOURNAL_OK &&
	    journal_printed(j, id, 3) == JOURNAL_OK &&
	    journal_reported(j, id, JA_COMMITTED, NULL) == JOURNAL_OK &&
	    journal_finished(j, id) == JOURNAL_OK;
	T_CHECK(ok, "printed path: every step recorded in order");
	ok = journal_get(j, id, &tx) == JOURNAL_OK;
	T_CHECK(ok && tx.last == JS_FINISHED && tx.paid_yen == 400 &&
	    strcmp(tx.issuance_id, ISS) == 0 && tx.job_id == 17 &&
	    tx.pages == 3 && tx.answer == JA_COMMITTED &&
	    journal_has(&tx, JS_PRINTED) && !journal_has(&tx, JS_FAILED) &&
	    !journal_has(&tx, JS_REFUNDED) && tx.copies == 2 &&
	    strcmp(tx.doctype, "juminhyo") == 0 &&
	    strcmp(tx.center_sid, SID) == 0,
	    "printed path: the row reads back with every value");

	id = begin(j, 200);
	ok = id > 0 &&
	    journal_paid(j, id, 200, refof(j, id)) == JOURNAL_OK &&
	    journal_issuing(j, id) == JOURNAL_OK &&
	    journal_issued(j, id, ISS) == JOURNAL_OK &&
	    journal_spooling(j, id) == JOURNAL_OK &&
	    journal_spooled(j, id, 18) == JOURNAL_OK &&
	    journal_failed(j, id, "job_aborted") == JOURNAL_OK &&
	    journal_refunded(j, id, 200) == JOURNAL_OK &&
	    journal_reported(j, id, JA_VOIDED, NULL) == JOURNAL_OK &&
	    journal_finished(j, id) == JOURNAL_OK;
	T_CHECK(ok, "voided path: every step recorded in order");
	ok = journal_get(j, id, &tx) == JOURNAL_OK;
	T_CHECK(ok && tx.refunded_yen == 200 && tx.answer == JA_VOIDED &&
	    strcmp(tx.reason, "job_aborted") == 0 &&
	    !journal_has(&tx, JS_PRINTED), "voided path reads back");

	/* one outcome, said again the other way round */
	id = begin(j, 200);
	(void)journal_paid(j, id, 200, refof(j, id));
	(void)journal_issuing(j, id);
	(void)journal_issued(j, id, ISS);
	(void)journal_spooling(j, id);
	(void)journal_spooled(j, id, 19);
	T_CHECK(journal_printed(j, id, 1) == JOURNAL_OK &&
	    journal_failed(j, id, "job_aborted") == JOURNAL_REFUSED &&
	    journal_refunded(j, id, 200) == JOURNAL_REFUSED &&
	    journal_reported(j, id, JA_VOIDED, NULL) == JOURNAL_REFUSED,
	    "printed: failed, refunded and a void are refused");
	T_CHECK(journal_printed(j, id, 1) == JOURNAL_REFUSED,
	    "printed twice is refused");
	id = begin(j, 200);
	(void)journal_paid(j, id, 200, refof(j, id));
	T_CHECK(journal_failed(j, id, "declined") == JOURNAL_OK &&
	    journal_issuing(j, id) == JOURNAL_REFUSED &&
	    journal_printed(j, id, 1) == JOURNAL_REFUSED &&
	    journal_reported(j, id, JA_COMMITTED, NULL) == JOURNAL_REFUSED,
	    "failed: printed, a commit and going on are refused");
	T_CHECK(journal_finished(j, id) == JOURNAL_REFUSED,
	    "failed and paid: no finish before the refund");
	T_CHECK(journal_refunded(j, id, 200) == JOURNAL_OK &&
	    journal_refunded(j, id, 200) == JOURNAL_REFUSED,
	    "refunded once only");
	T_CHECK(journal_finished(j, id) == JOURNAL_OK &&
	    journal_failed(j, id, "x") == JOURNAL_REFUSED,
	    "finished: nothing after it");
	journal_close(j);
}

static void
test_values(void)
{
	struct journal *j = jopen("values.db", 0);
	struct journal_new nw;
	struct journal_tx tx;
	int64_t id, id2;

	if (!T_CHECK(j != NULL, "open a journal for value checks"))
		return;
	id = begin(j, 400);
	T_CHECK(journal_paid(j, id, 399, refof(j, id)) == JOURNAL_INVALID,
	    "paid with another amount than the fee: invalid");
	T_CHECK(journal_paid(j, id, 400, "another-ref-0000001") ==
	    JOURNAL_INVALID, "paid with another ref: invalid");
	T_CHECK(journal_paid(j, id, 400, "bad ref") == JOURNAL_INVALID,
	    "a malformed ref: invalid");
	(void)journal_paid(j, id, 400, refof(j, id));
	(void)journal_issuing(j, id);
	T_CHECK(journal_issued(j, id, "ABC") == JOURNAL_INVALID,
	    "a malformed issuance id: invalid");
	(void)journal_failed(j, id, "center_unreachable");
	T_CHECK(journal_refunded(j, id, 100) == JOURNAL_INVALID,
	    "a partial refund: invalid");
	(void)journal_refunded(j, id, 400);
	T_CHECK(journal_reported(j, id, JA_VOIDED, NULL) == JOURNAL_INVALID,
	    "a void without an issuance id: invalid");
	T_CHECK(journal_reported(j, id, JA_VOIDED, ISS2) == JOURNAL_OK &&
	    journal_get(j, id, &tx) == JOURNAL_OK &&
	    strcmp(tx.issuance_id, ISS2) == 0,
	    "a void names the issuance a re-issue found; it is kept");
	T_CHECK(journal_failed(j, 999999, "x") == JOURNAL_NOT_FOUND,
	    "an unknown transaction: not found");
	T_CHECK(journal_failed(j, id, "Not A Code") == JOURNAL_INVALID,
	    "a reason outside [a-z0-9_]: invalid");

	memset(&nw, 0, sizeof(nw));
	nw.session = "山田太郎";
	nw.idem_key = "key-personal-000001";
	nw.pay_ref = "pay-personal-000001";
	nw.doctype = "juminhyo";
	nw.center_sid = SID;
	nw.options = "{}";
	nw.copies = 1;
	nw.fee_yen = 200;
	T_CHECK(journal_begin(j, &nw, &id2) == JOURNAL_INVALID,
	    "a session name that is not an id and tag is refused");
	nw.session = "00112233445566ff";
	nw.copies = 11;
	T_CHECK(journal_begin(j, &nw, &id2) == JOURNAL_INVALID,
	    "11 copies: invalid");
	nw.copies = 1;
	nw.idem_key = "short";
	T_CHECK(journal_begin(j, &nw, &id2) == JOURNAL_INVALID,
	    "a short idempotency key: invalid");
	nw.idem_key = "key-personal-000001";
	T_CHECK(journal_begin(j, &nw, &id2) == JOURNAL_OK, "begin");
	nw.pay_ref = "pay-personal-000002";
	T_CHECK(journal_begin(j, &nw, &id2) == JOURNAL_EXISTS,
	    "the same idempotency key twice: exists");
	T_CHECK(journal_get_by_key(j, "key-personal-000001", &tx) ==
	    JOURNAL_OK && tx.id > 0 && tx.fee_yen == 200,
	    "found by its idempotency key");
	journal_close(j);
}

/* The schema refuses what the code would, even through raw SQL. */
static void
test_schema_defence(void)
{
	struct journal *j = jopen("raw.db", 0);
	sqlite3 *db = NULL;
	char path[600], sql[256];
	int64_t pr, fa;

	if (!T_CHECK(j != NULL, "open a journal for raw SQL"))
		return;
	pr = begin(j, 200);
	(void)journal_paid(j, pr, 200, refof(j, pr));
	(void)journal_issuing(j, pr);
	(void)journal_issued(j, pr, ISS);
	(void)journal_spooling(j, pr);
	(void)journal_spooled(j, pr, 5);
	(void)journal_printed(j, pr, 1);
	fa = begin(j, 200);
	(void)journal_failed(j, fa, "declined");
	journal_close(j);
	mkpath(path, sizeof(path), "raw.db");
	if (!T_CHECK(sqlite3_open(path, &db) == SQLITE_OK, "raw open"))
		return;
	(void)snprintf(sql, sizeof(sql), "UPDATE tx SET failed_at = 1, "
	    "reason = 'x' WHERE id = %" PRId64, pr);
	T_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_CONSTRAINT,
	    "raw SQL: failed on a printed row is refused by the schema");
	(void)snprintf(sql, sizeof(sql), "UPDATE tx SET refunded_at = 1, "
	    "refunded_yen = 200 WHERE id = %" PRId64, pr);
	T_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_CONSTRAINT,
	    "raw SQL: a refund on a printed row is refused");
	(void)snprintf(sql, sizeof(sql), "UPDATE tx SET printed_at = NULL "
	    "WHERE id = %" PRId64, pr);
	T_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_CONSTRAINT,
	    "raw SQL: a recorded step cannot be erased");
	(void)snprintf(sql, sizeof(sql), "UPDATE tx SET answer = 1, "
	    "reported_at = 1 WHERE id = %" PRId64, fa);
	T_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_CONSTRAINT,
	    "raw SQL: committed on a failed row is refused");
	(void)snprintf(sql, sizeof(sql), "DELETE FROM tx WHERE id = %" PRId64,
	    fa);
	T_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_CONSTRAINT,
	    "raw SQL: an unfinished row cannot be deleted");
	sqlite3_close(db);
}

/* --- durability ------------------------------------------------------------ */

/*
 * A child records steps 1..upto and writes one byte after the last call
 * returns; the parent SIGKILLs it on that byte and reopens the file.
 */
static int
crash_after(const char *name, int upto, int64_t *idp)
{
	int fds[2], status;
	pid_t pid;
	char b;
	int64_t id = -1;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		struct journal *j;
		int ok = 1;

		close(fds[0]);
		if ((j = jopen(name, JOURNAL_OWNER)) == NULL)
			_exit(3);
		id = begin(j, 450);
		if (write(fds[1], &id, sizeof(id)) != sizeof(id))
			_exit(3);
		if (upto >= 1)
			ok = ok && journal_paid(j, id, 450, refof(j, id)) ==
			    JOURNAL_OK;
		if (upto >= 2)
			ok = ok && journal_issuing(j, id) == JOURNAL_OK;
		if (upto >= 3)
			ok = ok && journal_issued(j, id, ISS) == JOURNAL_OK;
		if (upto >= 4)
			ok = ok && journal_spooling(j, id) == JOURNAL_OK;
		if (upto >= 5)
			ok = ok && journal_spooled(j, id, 77) == JOURNAL_OK;
		if (upto >= 6)
			ok = ok && journal_printed(j, id, 2) == JOURNAL_OK;
		if (upto >= 7)
			ok = ok && journal_reported(j, id, JA_COMMITTED,
			    NULL) == JOURNAL_OK;
		if (upto >= 8)
			ok = ok && journal_finished(j, id) == JOURNAL_OK;
		b = ok ? 'y' : 'n';
		if (write(fds[1], &b, 1) != 1)
			_exit(3);
		for (;;)
			pause();	/* killed here, the journal still open */
	}
	close(fds[1]);
	if (read(fds[0], &id, sizeof(id)) != sizeof(id) ||
	    read(fds[0], &b, 1) != 1)
		b = 'n';
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	close(fds[0]);
	*idp = id;
	return b == 'y' && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL ? 0 : -1;
}

static void
test_sigkill(void)
{
	static const enum journal_step want[] = { JS_CREATED, JS_PAID,
	    JS_ISSUING, JS_ISSUED, JS_SPOOLING, JS_SPOOLED, JS_PRINTED,
	    JS_REPORTED, JS_FINISHED };
	struct journal *j;
	struct journal_tx tx;
	char name[64], label[160];
	int64_t id;
	int k;

	for (k = 0; k <= 8; k++) {
		(void)snprintf(name, sizeof(name), "kill%d.db", k);
		if (!T_CHECK(crash_after(name, k, &id) == 0,
		    "a child records steps and is SIGKILLed"))
			continue;
		j = jopen(name, JOURNAL_OWNER);
		(void)snprintf(label, sizeof(label), "SIGKILL right after "
		    "\"%s\" returned: it is there on reopen",
		    journal_step_name(want[k]));
		T_CHECK(j != NULL && journal_get(j, id, &tx) == JOURNAL_OK &&
		    tx.last == want[k] && journal_has(&tx, want[k]), label);
		if (k == 5)
			T_CHECK(tx.job_id == 77 && strcmp(tx.issuance_id,
			    ISS) == 0, "the job id and issuance id survive");
		journal_close(j);
	}
}

/* --- concurrency and versions ------------------------------------------- */

static void
test_busy(void)
{
	struct journal *a, *b;
	char path[600], err[256];
	enum journal_rc rc;
	int fds[2], status;
	struct timespec t0, t1;
	struct journal_tx tx;
	pid_t pid;
	int64_t id;
	double waited;
	char c;

	mkpath(path, sizeof(path), "busy.db");
	a = jopen("busy.db", JOURNAL_OWNER);
	if (!T_CHECK(a != NULL, "first owner opens"))
		return;
	rc = journal_open(path, JOURNAL_OWNER, &b, err, sizeof(err));
	T_CHECK(rc == JOURNAL_BUSY && b == NULL && strstr(err, "owned") !=
	    NULL, "a second owner gets JOURNAL_BUSY at once, clearly said");
	id = begin(a, 200);
	journal_close(a);
	rc = journal_open(path, JOURNAL_OWNER, &a, err, sizeof(err));
	T_CHECK(rc == JOURNAL_OK, "the owner lock goes with the owner");

	/* another process holds the write lock for 1.5 s */
	if (pipe(fds) == -1 || (pid = fork()) == -1) {
		T_CHECK(0, "fork");
		return;
	}
	if (pid == 0) {
		sqlite3 *db;

		close(fds[0]);
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		    SQLITE_OK)
			_exit(3);
		c = 'l';
		if (write(fds[1], &c, 1) != 1)
			_exit(3);
		usleep(1500 * 1000);
		(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		c = 0;
	close(fds[0]);
	journal_set_busy_timeout(a, 200);
	rc = journal_paid(a, id, 200, refof(a, id));
	T_CHECK(c == 'l' && rc == JOURNAL_BUSY &&
	    strstr(journal_errmsg(a), "locked") != NULL,
	    "a write lock held past the busy timeout: JOURNAL_BUSY");
	T_CHECK(journal_get(a, id, &tx) == JOURNAL_OK && tx.last == JS_CREATED,
	    "the busy step changed nothing");
	journal_set_busy_timeout(a, 5000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = journal_paid(a, id, 200, refof(a, id));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	(void)waitpid(pid, &status, 0);
	T_CHECK(rc == JOURNAL_OK && waited > 0.5, "within the busy timeout "
	    "the step waits for the lock and is recorded");
	printf("# waited %.2f s for the other process's lock\n", waited);
	journal_close(a);
}

static void
test_newer_schema(void)
{
	struct journal *j;
	sqlite3 *db;
	char path[600], err[256];
	enum journal_rc rc;
	int v = -1;
	sqlite3_stmt *st;

	j = jopen("newer.db", 0);
	journal_close(j);
	mkpath(path, sizeof(path), "newer.db");
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return;
	(void)sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL);
	sqlite3_close(db);
	rc = journal_open(path, 0, &j, err, sizeof(err));
	T_CHECK(rc == JOURNAL_NEWER && j == NULL && strstr(err, "newer"),
	    "a journal from a newer schema is refused");
	if (sqlite3_open(path, &db) == SQLITE_OK) {
		if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
		    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
		    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			T_CHECK(strcmp((const char *)sqlite3_column_text(st,
			    0), "wal") == 0, "the journal file is in WAL mode");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	T_CHECK(v == 7, "... and left as it was");
	mkpath(path, sizeof(path), "nonexistent.db");
	rc = journal_open(path, 0, &j, err, sizeof(err));
	T_CHECK(rc == JOURNAL_ERR && j == NULL,
	    "without JOURNAL_CREATE a missing file is an error");
}

/* --- the operator's view -------------------------------------------------- */

static void
test_counters_prune(void)
{
	struct journal *j = jopen("counters.db", 0);
	struct journal_counters c;
	struct journal_tx *txs;
	size_t n;
	int64_t a, b, d, e, deleted;
	time_t day;

	if (!T_CHECK(j != NULL, "open a journal for counters"))
		return;
	journal_set_clock(j, fake_clock, NULL);
	/* 2026-01-01 09:00 JST is 00:00 UTC */
	T_CHECK(journal_day_start_jst(fake_now) == fake_now - 9 * 3600 &&
	    journal_day_start_jst(fake_now - 9 * 3600 - 1) ==
	    fake_now - 33 * 3600, "the JST day starts at 15:00 UTC");
	day = journal_day_start_jst(fake_now);
	a = begin(j, 400);	/* printed */
	(void)journal_paid(j, a, 400, refof(j, a));
	(void)journal_issuing(j, a);
	(void)journal_issued(j, a, ISS);
	(void)journal_spooling(j, a);
	(void)journal_spooled(j, a, 1);
	(void)journal_printed(j, a, 2);
	(void)journal_reported(j, a, JA_COMMITTED, NULL);
	(void)journal_finished(j, a);
	b = begin(j, 200);	/* refunded */
	(void)journal_paid(j, b, 200, refof(j, b));
	(void)journal_failed(j, b, "declined");
	(void)journal_refunded(j, b, 200);
	(void)journal_finished(j, b);
	d = begin(j, 450);	/* printed, the center disagrees */
	(void)journal_paid(j, d, 450, refof(j, d));
	(void)journal_issuing(j, d);
	(void)journal_issued(j, d, ISS2);
	(void)journal_spooling(j, d);
	(void)journal_spooled(j, d, 2);
	(void)journal_printed(j, d, 1);
	(void)journal_reported(j, d, JA_CONFLICT, NULL);
	(void)journal_finished(j, d);
	e = begin(j, 200);	/* unfinished */
	(void)journal_paid(j, e, 200, refof(j, e));
	T_CHECK(journal_counters(j, day, day + 86400, &c) == JOURNAL_OK &&
	    c.begun == 4 && c.printed == 2 && c.failed == 1 &&
	    c.refunded == 1 && c.refunded_yen == 200 && c.paid == 4 &&
	    c.paid_yen == 1250 && c.net_yen == 1050 && c.conflicts == 1 &&
	    c.unfinished == 1, "today's counters: printed 2, failed 1, "
	    "refunded 200 yen, net 1050 yen, 1 conflict, 1 unfinished");
	T_CHECK(journal_counters(j, day + 86400, day + 2 * 86400, &c) ==
	    JOURNAL_OK && c.printed == 0 && c.paid_yen == 0 &&
	    c.unfinished == 1, "tomorrow's counters are empty");
	T_CHECK(journal_unfinished(j, &txs, &n) == JOURNAL_OK && n == 1 &&
	    txs[0].id == e && txs[0].last == JS_PAID,
	    "the unfinished list holds the one unfinished row");
	free(txs);

	fake_now += 10 * 86400;
	T_CHECK(journal_prune(j, 30, &deleted) == JOURNAL_OK && deleted == 0,
	    "pruning keeps rows younger than 30 days");
	T_CHECK(journal_prune(j, 7, &deleted) == JOURNAL_OK && deleted == 3,
	    "pruning at 7 days deletes the 3 finished rows");
	T_CHECK(journal_unfinished(j, &txs, &n) == JOURNAL_OK && n == 1 &&
	    txs[0].id == e, "... never the unfinished one");
	free(txs);
	T_CHECK(journal_prune(j, -1, &deleted) == JOURNAL_INVALID,
	    "a negative keep: invalid");
	a = begin(j, 200);
	T_CHECK(a > e, "ids are never reused after pruning");
	journal_close(j);
}

int
main(void)
{
	const char *base = getenv("KIOSK_TMP");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	(void)snprintf(dir, sizeof(dir), "%s/journal.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_paths();
	test_values();
	test_every_step_in_every_state();
	test_schema_defence();
	test_sigkill();
	test_busy();
	test_newer_schema();
	test_counters_prune();
	return t_done();
}
