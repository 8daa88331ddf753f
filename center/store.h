/*
 * The issuance center's records layer: residents, households, family
 * registers, seal registrations, tax records, card certificates and
 * issuances.  Callers see plain structs with bounded fields and an opaque
 * struct store; the backend (SQLite here, PostgreSQL later) sits behind
 * struct store_ops.  No SQL leaves the backend file.
 *
 * Concurrency model: a struct store is one connection, owned by one
 * thread of one process.  Never share one across threads and never use one
 * opened before fork() in the child; open another.  Several processes may
 * open the same database: every write is its own transaction (or, in a
 * batch, its own savepoint of one transaction: group commit, writer.h),
 * and the issuance operations are atomic (an idempotency key maps to
 * exactly one row whatever the interleaving).  Lock waits between
 * processes poll with short randomised sleeps up to the busy timeout
 * (10 s unless store_set_busy_timeout); every connection maps up to 256
 * MiB of the file and keeps an 8 MiB page cache.
 */
#ifndef KIOSK_CENTER_STORE_H
#define KIOSK_CENTER_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Return codes of every store_* function that can fail. */
#define STORE_OK	 0
#define STORE_ERR	-1	/* backend or I/O failure: store_errmsg() */
#define STORE_NOTFOUND	-2	/* no such record */
#define STORE_CONFLICT	-3	/* contradicts a stored record */
#define STORE_INVALID	-4	/* input rejected before reaching the backend */
#define STORE_BUSY	-5	/* database locked longer than busy_timeout */
#define STORE_EXPIRED	-6	/* session past its expiry */
#define STORE_MISMATCH	-7	/* session used from another kiosk */

/* Field bounds, in bytes of UTF-8 including the terminating NUL. */
#define STORE_NAME_MAX		96	/* one name part (kanji, kana, romanized) */
#define STORE_FULLNAME_MAX	192	/* "family given" */
#define STORE_ADDR_MAX		512
#define STORE_SHORT_MAX		64	/* codes, relationship, nationality... */
#define STORE_REGCODE_LEN	11	/* 住民票コード digits */
#define STORE_MYNUMBER_LEN	12
#define STORE_RCARD_LEN		12	/* 在留カード番号 AA12345678BB */
#define STORE_SERIAL_MAX	65	/* certificate serial, upper-case hex */
#define STORE_KEY_MAX		65	/* idempotency key, session id, kiosk id */
#define STORE_OPTIONS_MAX	1024	/* issuance options, JSON text */
#define STORE_PUBID_LEN		32	/* public issuance id, lower-case hex */
#define STORE_CHALLENGE_MAX	64
#define STORE_TAX_ITEMS_MAX	16
#define STORE_KOSEKI_EVENTS_MAX	8
#define STORE_SEAL_IMAGE_MAX	(64 * 1024)
#define STORE_CONTENT_MAX	(4 * 1024 * 1024)

/* A calendar date; all zero means "none". */
struct store_date {
	int	y;
	int	m;
	int	d;
};

enum store_sex {
	STORE_SEX_MALE = 1,
	STORE_SEX_FEMALE = 2
};

enum resident_status {
	RESIDENT_ACTIVE = 0,
	RESIDENT_MOVED_OUT,	/* 転出 (filed or done): no longer served */
	RESIDENT_DECEASED
};

struct resident {
	int64_t		id;
	char		register_code[STORE_REGCODE_LEN + 1];	/* never printed */
	char		family_name[STORE_NAME_MAX];	/* kanji; romanized for foreigners */
	char		given_name[STORE_NAME_MAX];
	char		family_kana[STORE_NAME_MAX];	/* katakana */
	char		given_kana[STORE_NAME_MAX];
	/*
	 * The full name with characters outside JIS X 0208 replaced (髙→高,
	 * 﨑→崎); empty when the name is all JIS X 0208.
	 */
	char		name_substitute[STORE_FULLNAME_MAX];
	int		gaiji_pending;		/* 外字 being registered */
	struct store_date birth;
	enum store_sex	sex;
	char		address[STORE_ADDR_MAX];
	struct store_date moved_in;
	enum resident_status status;
	struct store_date status_date;		/* zero when active */
	/* Foreign residents: nationality non-empty, no family register. */
	char		nationality[STORE_SHORT_MAX];
	char		residence_status[STORE_SHORT_MAX];
	char		residence_card[STORE_RCARD_LEN + 1];
	struct store_date residence_end;	/* zero: no limit (永住者...) */
	int		support_measures;	/* 支援措置 (DV/stalking) */
	char		my_number[STORE_MYNUMBER_LEN + 1];
	int64_t		household_id;
	char		relationship[STORE_SHORT_MAX];	/* 世帯主, 妻, 子... */
	char		domicile[STORE_ADDR_MAX];	/* 本籍 (empty: foreign) */
	char		domicile_head[STORE_FULLNAME_MAX]; /* 筆頭者 */
	int64_t		koseki_id;	/* 0: register kept elsewhere / none */
};

struct household {
	int64_t		id;
	int64_t		head_resident_id;
	char		address[STORE_ADDR_MAX];
};

/* Family register (戸籍) kept by this town. */
struct koseki {
	int64_t		id;
	char		domicile[STORE_ADDR_MAX];	/* 本籍 */
	char		head_name[STORE_FULLNAME_MAX];	/* 筆頭者 */
	int64_t		head_resident_id; /* of entry 1; 0: not a resident (read only) */
	struct store_date created;			/* 編製日 */
	char		created_reason[STORE_SHORT_MAX]; /* 婚姻, 転籍... */
	int		pending;	/* a 届出 is still being reflected */
};

struct koseki_event {
	char		kind[STORE_SHORT_MAX];	/* 出生, 婚姻, 死亡, 入籍, 除籍... */
	struct store_date date;
	char		detail[STORE_ADDR_MAX];	/* place, spouse, former register */
};

/* One person (身分事項) in a family register. */
struct koseki_entry {
	int64_t		id;
	int64_t		koseki_id;
	int		seq;			/* order in the register, from 1 */
	int64_t		resident_id;		/* 0: not a resident of the town */
	char		family_name[STORE_NAME_MAX];
	char		given_name[STORE_NAME_MAX];
	struct store_date birth;
	enum store_sex	sex;
	char		father[STORE_FULLNAME_MAX];
	char		mother[STORE_FULLNAME_MAX];
	char		parent_relation[STORE_SHORT_MAX];	/* 長男, 二女... */
	int		removed;		/* 除籍 */
	char		removal_reason[STORE_SHORT_MAX];
	size_t		nevents;
	struct koseki_event events[STORE_KOSEKI_EVENTS_MAX];
};

/* One line of the 戸籍の附票: where a register member lived, from when. */
struct fuhyo_entry {
	int64_t		entry_id;	/* koseki_entry id */
	int		seq;
	char		address[STORE_ADDR_MAX];
	struct store_date from;
};

enum seal_status {
	SEAL_ACTIVE = 0,
	SEAL_ABOLISHED
};

struct seal {
	int64_t		id;
	char		registration_no[STORE_SHORT_MAX];
	int64_t		resident_id;
	struct store_date registered;
	enum seal_status status;
	struct store_date abolished;
	char		image_type[STORE_SHORT_MAX];	/* "image/png" */
	uint8_t		*image;		/* caller frees with store_seal_clear() */
	size_t		image_len;
};

enum tax_item_kind {
	TAX_ITEM_INCOME = 0,
	TAX_ITEM_DEDUCTION
};

struct tax_item {
	enum tax_item_kind kind;
	char		category[STORE_SHORT_MAX];	/* 給与所得, 基礎控除... */
	int64_t		amount;				/* yen */
};

/* 所得・課税証明書 data: fiscal year N taxes the income of year N-1. */
struct tax_record {
	int64_t		resident_id;
	int		fiscal_year;
	int		income_year;
	size_t		nitems;
	struct tax_item	items[STORE_TAX_ITEMS_MAX];
	int64_t		total_income;		/* 総所得金額 */
	int64_t		total_deductions;	/* 所得控除合計 */
	int64_t		taxable_income;		/* 課税標準額 */
	int64_t		municipal_tax;		/* 市民税 (所得割+均等割) */
	int64_t		prefectural_tax;	/* 都民税 (所得割+均等割) */
};

enum card_cert_status {
	CARD_CERT_VALID = 0,
	CARD_CERT_REVOKED
};

struct card_cert {
	char		serial[STORE_SERIAL_MAX];	/* normalized hex */
	int64_t		resident_id;
	char		issuer[STORE_ADDR_MAX];
	int64_t		not_after;			/* Unix time */
	enum card_cert_status status;
};

enum issuance_state {
	ISSUANCE_ISSUED = 0,	/* content handed out, outcome unknown */
	ISSUANCE_COMMITTED,	/* printed: final */
	ISSUANCE_VOIDED		/* failed, refunded: final */
};

/*
 * What a kiosk asks for; the idempotency key names it for ever.  The
 * options text is compared byte for byte: callers store it canonical
 * (sorted keys, compact).  public_id is the caller's fresh random id for a
 * new row (32 lower-case hex); a replay returns the stored one instead.
 */
struct issuance_req {
	char		idempotency_key[STORE_KEY_MAX];
	char		public_id[STORE_PUBID_LEN + 1];
	char		session_id[STORE_KEY_MAX];
	char		kiosk_id[STORE_KEY_MAX];
	int64_t		resident_id;
	char		document[STORE_SHORT_MAX];
	char		options[STORE_OPTIONS_MAX];	/* JSON text, "{}" if none */
	int		copies;				/* 1..STORE_COPIES_MAX */
	int		fee_yen;			/* total, >= 0 */
	int64_t		now;				/* Unix time */
};
#define STORE_COPIES_MAX	20

struct issuance {
	int64_t		id;
	struct issuance_req req;
	enum issuance_state state;
	int		pages;		/* reported with the result */
	int64_t		created_at;
	int64_t		updated_at;
	int		has_content;
};

struct store_stats {
	long	residents;
	long	active;
	long	moved_out;
	long	deceased;
	long	foreign;
	long	support_measures;
	long	with_substitute;
	long	households;
	long	koseki;
	long	koseki_entries;
	long	seals_active;
	long	seals_abolished;
	long	tax_records;
	long	card_certs;
	long	issuances;
	long	issuances_issued;
	long	issuances_committed;
	long	issuances_voided;
};

struct store;

/*
 * Open a database.  "sqlite:PATH" or a bare PATH select the SQLite
 * backend; "postgresql:..." is reserved for a backend not built here.
 * flags: STORE_CREATE creates the file if missing.  On failure returns
 * NULL with a message in err.  Call store_migrate() before use.
 */
#define STORE_CREATE	0x01
struct store	*store_open(const char *uri, int flags, char *err, size_t errlen);
void		 store_close(struct store *);
const char	*store_errmsg(const struct store *);
/* Bring the schema to the current version (idempotent, concurrent-safe). */
int		 store_migrate(struct store *);
int		 store_schema_version(struct store *, int *version);
#define STORE_SCHEMA_VERSION	2

/*
 * Bulk loading: between batch_begin and batch_end every insert joins one
 * write transaction (each insert stays atomic through a savepoint).
 * batch_end(s, 0) rolls the whole batch back.
 */
int	store_batch_begin(struct store *);
int	store_batch_end(struct store *, int commit);
/*
 * Group commit (writer.c): inside a batch, op_begin/op_end(keep) bracket
 * one caller-level operation made of several store calls in a savepoint
 * of its own: op_end(s, 0) undoes that operation only.  batch_alive is 0
 * when SQLite has rolled the whole batch back by itself (I/O error, disk
 * full): nothing of it will commit, whatever the operations returned.
 */
int	store_op_begin(struct store *);
int	store_op_end(struct store *, int keep);
/*
 * One snapshot for several reads (the records of one request): every read
 * between read_begin and read_end sees the database as of the first of
 * them, and the connection checks for other writers' commits once instead
 * of before each statement.  Reads only: writes go through the writer.
 */
int	store_read_begin(struct store *);
int	store_read_end(struct store *);
int	store_batch_alive(struct store *);
/*
 * Checkpoints off the commit path: with a WAL hook set, this connection no
 * longer checkpoints after its commits; fn(arg, frames) is called after
 * each commit with the WAL's size in frames, and some thread calls
 * store_checkpoint (PASSIVE: never blocks writers; STORE_BUSY when another
 * connection is checkpointing).  fn NULL restores automatic checkpoints.
 */
int	store_set_wal_hook(struct store *, void (*fn)(void *, int), void *arg);
int	store_checkpoint(struct store *, int *wal_frames, int *copied);
int	store_set_busy_timeout(struct store *, int ms);
/*
 * A secret shared by every process and center using this database: the
 * stored value of `name`, or `candidate` (fresh random bytes from the
 * caller) stored now if there was none.  Exactly len bytes (16..64).
 */
#define STORE_SECRET_MAX	64
int	store_secret(struct store *, const char *name,
	    const uint8_t *candidate, size_t len, uint8_t *out);

/* Inserts: the id fields are set on success. */
int	store_household_insert(struct store *, struct household *);
int	store_household_set_head(struct store *, int64_t household_id,
	    int64_t resident_id);
int	store_resident_insert(struct store *, struct resident *);
int	store_resident_set_status(struct store *, int64_t id,
	    enum resident_status, const struct store_date *when);
int	store_koseki_insert(struct store *, struct koseki *);
int	store_koseki_entry_insert(struct store *, struct koseki_entry *);
int	store_fuhyo_insert(struct store *, const struct fuhyo_entry *);
int	store_seal_insert(struct store *, struct seal *);
int	store_tax_insert(struct store *, const struct tax_record *);

/* Lookups. */
int	store_resident_get(struct store *, int64_t id, struct resident *);
/* All resident ids in id order; *ids is freed by the caller with free(). */
int	store_resident_ids(struct store *, int64_t **ids, size_t *n);
int	store_household_get(struct store *, int64_t id, struct household *);
/*
 * Members of a household, head first, then in registration order.  Only
 * active residents unless include_removed.  *out freed with free().
 */
int	store_household_members(struct store *, int64_t household_id,
	    int include_removed, struct resident **out, size_t *n);
/*
 * The resident's seal registration: the active one, else the latest
 * abolished one (so the caller can tell "abolished" from "none").
 * The impression image (several KB) is read only when with_image is
 * set; without it image is NULL and image_len 0.  Release with
 * store_seal_clear().
 */
int	store_seal_by_resident(struct store *, int64_t resident_id,
	    int with_image, struct seal *);
void	store_seal_clear(struct seal *);
/* The fiscal year's record; its income and deduction items only when
   with_items is set (else nitems is 0). */
int	store_tax_get(struct store *, int64_t resident_id, int fiscal_year,
	    int with_items, struct tax_record *);
/*
 * The family register holding the resident (in town) and all its
 * entries in order; *entries freed with free().  With entries NULL (n
 * too), the register alone.
 */
int	store_koseki_by_resident(struct store *, int64_t resident_id,
	    struct koseki *, struct koseki_entry **entries, size_t *n);
/*
 * *protected: 1 when an entry of register koseki_id other than
 * except_resident_id is a resident of the town under support measures
 * (支援措置), else 0.
 */
int	store_koseki_protected(struct store *, int64_t koseki_id,
	    int64_t except_resident_id, int *protected);
/* 附票 lines of a register, by entry then seq; *out freed with free(). */
int	store_fuhyo_get(struct store *, int64_t koseki_id,
	    struct fuhyo_entry **out, size_t *n);

/* Card certificates: the serial is normalized (see store_serial_normalize). */
int	store_card_cert_insert(struct store *, const struct card_cert *);
int	store_card_cert_get(struct store *, const char *serial,
	    struct card_cert *);
int	store_card_cert_set_status(struct store *, const char *serial,
	    enum card_cert_status);
/* The resident a certificate maps to; cert (may be NULL) gets the row. */
int	store_resident_by_cert(struct store *, const char *serial,
	    struct resident *, struct card_cert *cert);

/*
 * Create-or-get by idempotency key, atomically.  *created is 1 when a new
 * row was made, 0 when the key existed and the stored request is the same
 * (session, kiosk, resident, document, options, copies, fee).  A key
 * reused for a different request returns STORE_CONFLICT and nothing else:
 * one key never yields another session's or resident's issuance.
 */
int	store_issuance_create(struct store *, const struct issuance_req *,
	    struct issuance *out, int *created);
/*
 * The same, with the signed content stored in the SAME transaction: the
 * caller builds and signs the content for its own req->public_id and
 * req->now before calling.  New key: the row is inserted with `content`,
 * *created = 1.  Stored key, same request: *out is the stored row and
 * *stored (malloc'd, caller frees) its stored content -- those bytes, not
 * the caller's, are the answer; *stored is NULL if that row has no
 * content yet (a row made by store_issuance_create).  Different request:
 * STORE_CONFLICT.
 */
int	store_issuance_create_signed(struct store *,
	    const struct issuance_req *, const uint8_t *content, size_t len,
	    struct issuance *out, int *created, uint8_t **stored,
	    size_t *stored_len);
/* Whether two requests are the same for idempotency (store_issuance_create). */
int	store_issuance_same_request(const struct issuance_req *,
	    const struct issuance_req *);
int	store_issuance_get(struct store *, int64_t id, struct issuance *);
int	store_issuance_get_by_key(struct store *, const char *key,
	    struct issuance *);
int	store_issuance_get_by_public_id(struct store *, const char *public_id,
	    struct issuance *);
/*
 * Final outcome, exactly once: ISSUANCE_COMMITTED or ISSUANCE_VOIDED.
 * The same outcome again returns STORE_OK with *changed = 0; the other
 * outcome returns STORE_CONFLICT and leaves the row as it was.
 */
int	store_issuance_set_result(struct store *, int64_t id,
	    enum issuance_state, int pages, int64_t now, int *changed);
/*
 * The signed document content of an issuance, written once: the same
 * bytes again are accepted, different bytes give STORE_CONFLICT.
 */
int	store_issuance_set_content(struct store *, int64_t id,
	    const uint8_t *content, size_t len);
int	store_issuance_get_content(struct store *, int64_t id,
	    uint8_t **content, size_t *len);

/*
 * Sessions live in the database, not in a process, so any center process
 * can answer any step.  A session is created with its challenge, then
 * authenticated exactly once; afterwards its resident and card are fixed.
 */
enum session_state {
	SESSION_NEW = 0,
	SESSION_AUTHENTICATED,
	SESSION_FAILED		/* the challenge was answered wrongly: burnt */
};

struct session {
	char		id[STORE_KEY_MAX];
	char		kiosk_id[STORE_KEY_MAX];
	uint8_t		challenge[STORE_CHALLENGE_MAX];
	size_t		challenge_len;
	int64_t		created_at;
	int64_t		expires_at;
	enum session_state state;
	/* set by store_session_authenticate */
	int64_t		resident_id;
	char		cert_serial[STORE_SERIAL_MAX];
	char		cert_sha256[65];	/* lower-case hex */
	int64_t		auth_at;
};

/* A new session (state NEW); STORE_CONFLICT if the id exists. */
int	store_session_create(struct store *, const struct session *);
int	store_session_get(struct store *, const char *id, struct session *);
/*
 * The one transition out of NEW, atomically: STORE_OK (now AUTHENTICATED,
 * or FAILED when resident_id is 0: a wrong answer burns the challenge),
 * STORE_NOTFOUND, STORE_MISMATCH (another kiosk), STORE_EXPIRED (now >=
 * expires_at) or STORE_CONFLICT (already answered: a replay).
 */
int	store_session_authenticate(struct store *, const char *id,
	    const char *kiosk_id, int64_t now, int64_t resident_id,
	    const char *cert_serial, const char *cert_sha256);
/*
 * Stateless challenges (the caller verifies the challenge from the session
 * id with a key, see api_sessions.c): store_session_record writes a new
 * session's row for the books (an existing row is left alone; nothing
 * depends on it), store_session_claim is the one transition out of NEW
 * for a session given in full (id, kiosk, challenge, created, expires):
 * the row is updated if recorded, inserted otherwise, so a second answer
 * fails on the primary key either way.  Results as
 * store_session_authenticate.
 */
int	store_session_record(struct store *, const struct session *);
int	store_session_claim(struct store *, const struct session *,
	    int64_t now, int64_t resident_id, const char *cert_serial,
	    const char *cert_sha256);
/* Delete sessions that expired before `before`; *n gets the count. */
int	store_session_purge(struct store *, int64_t before, long *n);

int	store_stats(struct store *, struct store_stats *);

/* Helpers shared by the store and its callers. */
const char *store_status_name(enum resident_status);
const char *store_issuance_state_name(enum issuance_state);
int	store_date_valid(const struct store_date *);
int	store_date_is_zero(const struct store_date *);
int	store_date_cmp(const struct store_date *, const struct store_date *);
/* "YYYY-MM-DD" into a date; -1 on anything else. */
int	store_date_parse(const char *, struct store_date *);
/* Formats "YYYY-MM-DD" (or "" for the zero date); dst needs 11 bytes. */
void	store_date_format(const struct store_date *, char *dst, size_t dstlen);
/* Completed years of age on day `on`. */
int	store_age(const struct store_date *birth, const struct store_date *on);
/* My Number: 12 digits whose last is the check digit of the first 11. */
int	store_mynumber_valid(const char *);
int	store_mynumber_check_digit(const char *first11);
/*
 * Serial normalization: hex digits with optional ':' or ' ' separators,
 * optional "0x"; upper-cased, leading zeros dropped ("0" stays).
 * Returns -1 if not hex or too long.
 */
int	store_serial_normalize(const char *in, char *out, size_t outlen);

/*
 * The backend interface.  Every operation gets the backend's own handle;
 * store.c validates inputs before calling, so a backend may assume bounded,
 * NUL-terminated fields and valid dates.
 */
struct store_ops {
	const char *name;
	void	(*close)(void *);
	const char *(*errmsg)(void *);
	int	(*migrate)(void *);
	int	(*schema_version)(void *, int *);
	int	(*batch_begin)(void *);
	int	(*batch_end)(void *, int);
	int	(*read_begin)(void *);
	int	(*read_end)(void *);
	int	(*household_insert)(void *, struct household *);
	int	(*household_set_head)(void *, int64_t, int64_t);
	int	(*resident_insert)(void *, struct resident *);
	int	(*resident_set_status)(void *, int64_t, enum resident_status,
		    const struct store_date *);
	int	(*koseki_insert)(void *, struct koseki *);
	int	(*koseki_entry_insert)(void *, struct koseki_entry *);
	int	(*fuhyo_insert)(void *, const struct fuhyo_entry *);
	int	(*seal_insert)(void *, struct seal *);
	int	(*tax_insert)(void *, const struct tax_record *);
	int	(*resident_get)(void *, int64_t, struct resident *);
	int	(*resident_ids)(void *, int64_t **, size_t *);
	int	(*household_get)(void *, int64_t, struct household *);
	int	(*household_members)(void *, int64_t, int, struct resident **,
		    size_t *);
	int	(*seal_by_resident)(void *, int64_t, int, struct seal *);
	int	(*tax_get)(void *, int64_t, int, int, struct tax_record *);
	int	(*koseki_by_resident)(void *, int64_t, struct koseki *,
		    struct koseki_entry **, size_t *);
	int	(*fuhyo_get)(void *, int64_t, struct fuhyo_entry **, size_t *);
	int	(*koseki_protected)(void *, int64_t, int64_t, int *);
	int	(*card_cert_insert)(void *, const struct card_cert *);
	int	(*card_cert_get)(void *, const char *, struct card_cert *);
	int	(*card_cert_set_status)(void *, const char *,
		    enum card_cert_status);
	int	(*issuance_create)(void *, const struct issuance_req *,
		    struct issuance *, int *);
	int	(*issuance_get)(void *, int64_t, struct issuance *);
	int	(*issuance_get_by_key)(void *, const char *, struct issuance *);
	int	(*issuance_get_by_public_id)(void *, const char *,
		    struct issuance *);
	int	(*issuance_set_result)(void *, int64_t, enum issuance_state,
		    int, int64_t, int *);
	int	(*issuance_set_content)(void *, int64_t, const uint8_t *,
		    size_t);
	int	(*issuance_get_content)(void *, int64_t, uint8_t **, size_t *);
	int	(*session_create)(void *, const struct session *);
	int	(*session_get)(void *, const char *, struct session *);
	int	(*session_authenticate)(void *, const char *, const char *,
		    int64_t, int64_t, const char *, const char *);
	int	(*session_purge)(void *, int64_t, long *);
	int	(*stats)(void *, struct store_stats *);
	int	(*op_begin)(void *);
	int	(*op_end)(void *, int);
	int	(*batch_alive)(void *);
	int	(*checkpoint)(void *, int *, int *);
	int	(*set_wal_hook)(void *, void (*)(void *, int), void *);
	int	(*set_busy_timeout)(void *, int);
	int	(*secret)(void *, const char *, const uint8_t *, size_t,
		    uint8_t *);
	int	(*issuance_create_signed)(void *, const struct issuance_req *,
		    const uint8_t *, size_t, struct issuance *, int *,
		    uint8_t **, size_t *);
	int	(*session_record)(void *, const struct session *);
	int	(*session_claim)(void *, const struct session *, int64_t,
		    int64_t, const char *, const char *);
};

/* The SQLite backend's constructor (store_sqlite.c). */
void	*store_sqlite_open(const char *path, int flags, char *err,
	    size_t errlen);
extern const struct store_ops store_sqlite_ops;

#endif
