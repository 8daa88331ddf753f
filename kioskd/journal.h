/*
 * The kiosk's transaction journal (DESIGN.md "One transaction"): one row
 * per paid transaction in a SQLite file of its own (WAL,
 * synchronous=FULL), so that a crash or a power cut at any point ends,
 * after reconciliation (reconcile.h), in exactly one of: printed and
 * reported, or voided and refunded.
 *
 * Every step is its own committed write transaction: when a journal_*()
 * step call returns JOURNAL_OK the step is on disk, and only then may the
 * caller do the side effect that follows it.  Steps move forward only, in
 * this order (a step may be skipped only where the rules below say so):
 *
 *   created -> paid -> issuing -> issued -> spooling -> spooled
 *           -> printed | failed -> refunded -> reported -> finished
 *
 *   paid      after created; the amount is the fee, the ref the one begun
 *   issuing   after paid: the issuance request is about to be sent
 *   issued    after issuing: the center's issuance id
 *   spooling  after issued: the job (named by the issuance id) is about
 *             to be submitted to CUPS
 *   spooled   after spooling: the CUPS job id
 *   printed   after spooled, never with failed: CUPS said completed
 *   failed    from any step before printed, never with printed; from
 *             spooling/spooled only when no job can print any more
 *             (CUPS said aborted or canceled, or it was never submitted)
 *   refunded  after failed, only when paid; the amount that was paid
 *   reported  the center's answer: committed only after printed, voided
 *             only after failed (and after refunded when paid), conflict
 *             (the center has the other outcome) or absent (the center
 *             has no such issuance) after either
 *   finished  printed and reported, or failed with refunded (if paid) and
 *             reported (if the issuance request was ever sent)
 *
 * Anything else is refused with JOURNAL_REFUSED and changes nothing; the
 * schema's constraints and a trigger refuse it again underneath.  This is
 * the last line of defence against two outcomes for one transaction.
 *
 * Nothing secret or personal is stored: the session is named by its id and
 * certificate tag, the options are the issuance request's (member indexes
 * and switches, never names), and there is no PIN and no content.
 */
#ifndef KIOSK_JOURNAL_H
#define KIOSK_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define JOURNAL_SCHEMA_VERSION	1

#define JOURNAL_SESSION_MAX	63	/* "<16 hex>/<tag>" */
#define JOURNAL_KEY_MIN		16	/* idempotency key and payment ref */
#define JOURNAL_KEY_MAX		64
#define JOURNAL_DOCTYPE_MAX	31
#define JOURNAL_CENTER_ID_LEN	32	/* center session and issuance ids */
#define JOURNAL_OPTIONS_MAX	4096
#define JOURNAL_REASON_MAX	31
#define JOURNAL_COPIES_MAX	10
#define JOURNAL_PAGES_MAX	1000
#define JOURNAL_FEE_MAX		1000000

#define JOURNAL_BUSY_TIMEOUT_MS	5000

enum journal_rc {
	JOURNAL_OK = 0,
	JOURNAL_NOT_FOUND,	/* no such transaction */
	JOURNAL_REFUSED,	/* the step is not allowed now: nothing changed */
	JOURNAL_INVALID,	/* a malformed argument: nothing changed */
	JOURNAL_EXISTS,		/* the idempotency key is already journaled */
	JOURNAL_BUSY,		/* locked by another process beyond the timeout */
	JOURNAL_NEWER,		/* the file's schema is newer than this program */
	JOURNAL_ERR		/* I/O or database error: see journal_errmsg() */
};

enum journal_step {
	JS_CREATED = 0,
	JS_PAID,
	JS_ISSUING,
	JS_ISSUED,
	JS_SPOOLING,
	JS_SPOOLED,
	JS_PRINTED,
	JS_FAILED,
	JS_REFUNDED,
	JS_REPORTED,
	JS_FINISHED,
	JS__MAX
};

/* The center's answer to the result call (or to a re-issue). */
enum journal_answer {
	JA_NONE = 0,		/* not reported */
	JA_COMMITTED,		/* printed, and the center committed it */
	JA_VOIDED,		/* failed, and the center voided it */
	JA_CONFLICT,		/* the center holds the other outcome */
	JA_ABSENT		/* the center has no issuance for this key */
};

/* What journal_begin() records. */
struct journal_new {
	const char	*session;	/* the session's log name, no personal data */
	const char	*idem_key;	/* 16..64 of [A-Za-z0-9_-], unique */
	const char	*pay_ref;	/* the payment device ref, same charset */
	const char	*doctype;	/* [a-z0-9_], 1..31 */
	const char	*center_sid;	/* 32 lower-case hex */
	const char	*options;	/* the issuance request's options (JSON) */
	int		 copies;	/* 1..JOURNAL_COPIES_MAX */
	int64_t		 fee_yen;	/* 0..JOURNAL_FEE_MAX, the total */
};

/* One row as read back. */
struct journal_tx {
	int64_t		 id;
	time_t		 created, updated;
	char		 session[JOURNAL_SESSION_MAX + 1];
	char		 idem_key[JOURNAL_KEY_MAX + 1];
	char		 pay_ref[JOURNAL_KEY_MAX + 1];
	char		 doctype[JOURNAL_DOCTYPE_MAX + 1];
	char		 center_sid[JOURNAL_CENTER_ID_LEN + 1];
	char		 options[JOURNAL_OPTIONS_MAX + 1];
	int		 copies;
	int64_t		 fee_yen;
	enum journal_step last;		/* the furthest step recorded */
	unsigned int	 steps;		/* 1 << step for every step recorded */
	time_t		 at[JS__MAX];	/* when each step was; 0: not done */
	int64_t		 paid_yen;
	char		 issuance_id[JOURNAL_CENTER_ID_LEN + 1];
	int64_t		 job_id;
	int		 pages;
	char		 reason[JOURNAL_REASON_MAX + 1];	/* of failed */
	int64_t		 refunded_yen;
	enum journal_answer answer;
};

/* The operator's counters over [from, to). */
struct journal_counters {
	int64_t		 begun;		/* transactions created */
	int64_t		 printed;
	int64_t		 failed;
	int64_t		 refunded, refunded_yen;
	int64_t		 paid, paid_yen;
	int64_t		 net_yen;	/* paid - refunded */
	int64_t		 conflicts;	/* reported conflict or absent after
					   printed: the center disagrees */
	int64_t		 unfinished;	/* now, whatever the range */
};

struct journal;

/* journal_open() flags */
#define JOURNAL_CREATE	0x01	/* create the file if missing */
#define JOURNAL_OWNER	0x02	/* the one daemon: fail if another owns it */

/*
 * Opens (and creates or upgrades) the journal at path.  An owner takes an
 * exclusive lock for as long as the journal is open; a second owner gets
 * JOURNAL_BUSY at once.  Other openers (tools, tests) share the file and
 * wait up to the busy timeout for a write lock.  On error *jp is NULL and
 * err says why.
 */
enum journal_rc	 journal_open(const char *path, int flags, struct journal **jp,
		    char *err, size_t errlen);
void		 journal_close(struct journal *);
void		 journal_set_busy_timeout(struct journal *, int ms);
/* For tests: where the time comes from (NULL: time()). */
void		 journal_set_clock(struct journal *, time_t (*)(void *),
		    void *arg);
const char	*journal_errmsg(const struct journal *);
const char	*journal_rc_name(enum journal_rc);
const char	*journal_step_name(enum journal_step);
const char	*journal_answer_name(enum journal_answer);
/* The schema version of the open file. */
int		 journal_schema_version(struct journal *);

/* The steps; each is durable when it returns JOURNAL_OK. */
enum journal_rc	 journal_begin(struct journal *, const struct journal_new *,
		    int64_t *id);
enum journal_rc	 journal_paid(struct journal *, int64_t id, int64_t yen,
		    const char *ref);
enum journal_rc	 journal_issuing(struct journal *, int64_t id);
enum journal_rc	 journal_issued(struct journal *, int64_t id,
		    const char *issuance_id);
enum journal_rc	 journal_spooling(struct journal *, int64_t id);
enum journal_rc	 journal_spooled(struct journal *, int64_t id,
		    int64_t job_id);
enum journal_rc	 journal_printed(struct journal *, int64_t id, int pages);
/* reason: a stable code, [a-z0-9_] 1..31 ("job_aborted", "declined") */
enum journal_rc	 journal_failed(struct journal *, int64_t id,
		    const char *reason);
enum journal_rc	 journal_refunded(struct journal *, int64_t id, int64_t yen);
/*
 * issuance_id: NULL, or the id learned by a re-issue for a transaction
 * that failed after issuing without recording one.
 */
enum journal_rc	 journal_reported(struct journal *, int64_t id,
		    enum journal_answer, const char *issuance_id);
enum journal_rc	 journal_finished(struct journal *, int64_t id);

/*
 * The rules above as a pure function: may this step be recorded on tx
 * now?  (The answer is checked for JS_REPORTED only.)
 */
enum journal_rc	 journal_allowed(const struct journal_tx *, enum journal_step,
		    enum journal_answer);
int		 journal_has(const struct journal_tx *, enum journal_step);

enum journal_rc	 journal_get(struct journal *, int64_t id,
		    struct journal_tx *);
enum journal_rc	 journal_get_by_key(struct journal *, const char *idem_key,
		    struct journal_tx *);
/* The unfinished transactions, oldest first; free(*txs). */
enum journal_rc	 journal_unfinished(struct journal *, struct journal_tx **txs,
		    size_t *n);
enum journal_rc	 journal_counters(struct journal *, time_t from, time_t to,
		    struct journal_counters *);
/* Midnight JST of the day that contains t (for "today" counters). */
time_t		 journal_day_start_jst(time_t t);
/* Deletes finished transactions finished more than keep_days ago. */
enum journal_rc	 journal_prune(struct journal *, int keep_days,
		    int64_t *deleted);

#endif
