/*
 * POST /v1/sessions and POST /v1/sessions/{id}/auth (API.md).
 *
 * Challenges are stateless: the session id carries its expiry and two
 * MACs under the session key that every center process on the database
 * shares (one says the id is ours, one binds it to the kiosk that asked),
 * and the challenge is a MAC of the id and the kiosk, so any process
 * recomputes it and nothing has to be durable before the kiosk has its
 * challenge.  The session's row is written for the books without waiting
 * for its commit.  Single use is durable where it matters: the answer's
 * commit records the session as used (its row, whose primary key makes a
 * second answer fail), before the answer is sent.  Any answer to a
 * challenge uses it up: a wrong or refused answer burns it (the kiosk
 * opens a new session), a right one binds it to the card for good.
 *
 * Session id (16 bytes, 32 lower-case hex): expires_at (4, big endian),
 * random (4), HMAC(key, "id" | bytes 0-7) (first 4), HMAC(key, "kiosk" |
 * bytes 0-7 | kiosk id) (first 4).  Challenge: HMAC(key, "challenge" |
 * the 16 bytes | kiosk id), 32 bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "centerd.h"
#include "document.h"
#include "hex.h"
#include "log.h"
#include "ocsp_cache.h"
#include "ocsp_fetch.h"

#define CHALLENGE_LEN	32
#define SID_LEN		16
#define SID_CLOCK_SKEW	5		/* seconds a sibling's clock may lead */
#define SIG_MAX		1024		/* RSA up to 8192 bits */
#define CERT_B64_MAX	(4 * ((JPKI_VERIFY_CERT_MAX + 2) / 3))
#define SIG_B64_MAX	(4 * ((SIG_MAX + 2) / 3))
#define SESSION_KEY_NAME "session-key-v1"
#define SESSION_KEY_FILE_MAX 4096

static const char label_id[] = "kiosk-centerd session id v1";
static const char label_kiosk[] = "kiosk-centerd session kiosk v1";
static const char label_chal[] = "kiosk-centerd challenge v1";

/* HMAC-SHA256(session key, label NUL | b | kiosk NUL) into out (32 bytes). */
static int
session_mac(const struct center *c, const char *label, const uint8_t *b,
    size_t blen, const char *kiosk, uint8_t *out)
{
	uint8_t buf[64 + SID_LEN + STORE_KEY_MAX];
	size_t llen = strlen(label) + 1, klen = 0, n;
	unsigned int mdlen = 0;

	if (kiosk != NULL)
		klen = strnlen(kiosk, STORE_KEY_MAX) + 1;
	if (llen > 64 || blen > SID_LEN || klen > STORE_KEY_MAX)
		return -1;
	memcpy(buf, label, llen);
	memcpy(buf + llen, b, blen);
	n = llen + blen;
	if (kiosk != NULL) {
		memcpy(buf + n, kiosk, klen - 1);
		buf[n + klen - 1] = '\0';
		n += klen;
	}
	if (HMAC(EVP_sha256(), c->session_key, CENTER_SESSION_KEY_LEN, buf, n,
	    out, &mdlen) == NULL || mdlen != 32)
		return -1;
	return 0;
}

/* A new session for this kiosk: id, challenge, times.  -1 on failure. */
static int
session_make(const struct center *c, const char *kiosk, time_t now,
    struct session *s)
{
	uint8_t b[SID_LEN], md[32];
	uint32_t exp;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->created_at = now;
	s->expires_at = now + c->cfg->challenge_ttl;
	if (s->expires_at <= 0 || s->expires_at > (int64_t)UINT32_MAX)
		return -1;
	exp = (uint32_t)s->expires_at;
	b[0] = (uint8_t)(exp >> 24);
	b[1] = (uint8_t)(exp >> 16);
	b[2] = (uint8_t)(exp >> 8);
	b[3] = (uint8_t)exp;
	if (RAND_bytes(b + 4, 4) != 1 ||
	    session_mac(c, label_id, b, 8, NULL, md) == -1)
		return -1;
	memcpy(b + 8, md, 4);
	if (session_mac(c, label_kiosk, b, 8, kiosk, md) == -1)
		return -1;
	memcpy(b + 12, md, 4);
	if (session_mac(c, label_chal, b, SID_LEN, kiosk, s->challenge) == -1)
		return -1;
	s->challenge_len = CHALLENGE_LEN;
	hex_encode(s->id, sizeof(s->id), b, SID_LEN);
	for (i = 0; s->id[i] != '\0'; i++)
		if (s->id[i] >= 'A' && s->id[i] <= 'F')
			s->id[i] = (char)(s->id[i] - 'A' + 'a');
	(void)snprintf(s->kiosk_id, sizeof(s->kiosk_id), "%s", kiosk);
	s->state = SESSION_NEW;
	return 0;
}

/*
 * The session an id names, recomputed: 0 (s filled, state NEW, its
 * challenge), -1 not one of ours (404), -2 another kiosk's (403).
 * Expiry is the caller's to check.
 */
static int
session_check(const struct center *c, const char *id, const char *kiosk,
    time_t now, struct session *s)
{
	uint8_t b[SID_LEN], md[32];
	int64_t exp;

	memset(s, 0, sizeof(*s));
	if (!api_is_hex(id, 2 * SID_LEN) ||
	    hex_decode(b, sizeof(b), id) != SID_LEN)
		return -1;
	if (session_mac(c, label_id, b, 8, NULL, md) == -1 ||
	    CRYPTO_memcmp(md, b + 8, 4) != 0)
		return -1;
	exp = ((int64_t)b[0] << 24) | ((int64_t)b[1] << 16) |
	    ((int64_t)b[2] << 8) | (int64_t)b[3];
	/* never longer-lived than any center could have made it */
	if (exp > (int64_t)now + CENTER_CHALLENGE_TTL_MAX + SID_CLOCK_SKEW)
		return -1;
	if (session_mac(c, label_kiosk, b, 8, kiosk, md) == -1)
		return -1;
	if (CRYPTO_memcmp(md, b + 12, 4) != 0)
		return -2;
	if (session_mac(c, label_chal, b, SID_LEN, kiosk, s->challenge) == -1)
		return -1;
	s->challenge_len = CHALLENGE_LEN;
	(void)snprintf(s->id, sizeof(s->id), "%s", id);
	(void)snprintf(s->kiosk_id, sizeof(s->kiosk_id), "%s", kiosk);
	s->expires_at = exp;
	/* the exact creation time is in the row if it was recorded */
	s->created_at = exp - c->cfg->challenge_ttl;
	if (s->created_at <= 0 || s->created_at >= exp)
		s->created_at = exp - 1;
	s->state = SESSION_NEW;
	return 0;
}

static int
op_session_record(struct store *st, void *arg)
{
	return store_session_record(st, arg);
}

struct claim {
	const struct session *s;
	int64_t		 now;
	int64_t		 resident_id;
	const char	*serial;
	const char	*sha256;
};

static int
op_session_claim(struct store *st, void *arg)
{
	struct claim *c = arg;

	return store_session_claim(st, c->s, c->now, c->resident_id,
	    c->serial, c->sha256);
}

struct secret {
	uint8_t	cand[CENTER_SESSION_KEY_LEN];
	uint8_t	out[CENTER_SESSION_KEY_LEN];
};

static int
op_secret(struct store *st, void *arg)
{
	struct secret *k = arg;

	return store_secret(st, SESSION_KEY_NAME, k->cand, sizeof(k->cand),
	    k->out);
}

int
api_session_key_file(struct center *c, const char *path, char *err,
    size_t errlen)
{
	static const char label[] = "kiosk-centerd session key file v1";
	uint8_t *buf;
	unsigned int mdlen = 0;
	size_t n;
	FILE *f;
	int ok;

	if ((buf = malloc(SESSION_KEY_FILE_MAX + 1)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		(void)snprintf(err, errlen, "%s: cannot open", path);
		free(buf);
		return -1;
	}
	n = fread(buf, 1, SESSION_KEY_FILE_MAX + 1, f);
	ok = !ferror(f);
	(void)fclose(f);
	if (!ok || n < 32 || n > SESSION_KEY_FILE_MAX) {
		(void)snprintf(err, errlen, "%s: expected 32 to %d bytes of "
		    "secret", path, SESSION_KEY_FILE_MAX);
		OPENSSL_cleanse(buf, SESSION_KEY_FILE_MAX + 1);
		free(buf);
		return -1;
	}
	/* any length of secret: the key is a MAC of it under a label */
	ok = HMAC(EVP_sha256(), label, (int)strlen(label), buf, n,
	    c->session_key, &mdlen) != NULL && mdlen == CENTER_SESSION_KEY_LEN;
	OPENSSL_cleanse(buf, SESSION_KEY_FILE_MAX + 1);
	free(buf);
	if (!ok) {
		(void)snprintf(err, errlen, "%s: cannot derive the key", path);
		return -1;
	}
	c->have_session_key = 1;
	return 0;
}

int
api_session_key_init(struct center *c, char *err, size_t errlen)
{
	struct secret k;
	char why[256];
	int rc;

	if (c->have_session_key)
		return 0;
	if (RAND_bytes(k.cand, sizeof(k.cand)) != 1) {
		(void)snprintf(err, errlen, "no random bytes for the session "
		    "key");
		return -1;
	}
	rc = writer_call(c->writer, op_secret, &k, why, sizeof(why));
	OPENSSL_cleanse(k.cand, sizeof(k.cand));
	if (rc != STORE_OK) {
		OPENSSL_cleanse(k.out, sizeof(k.out));
		(void)snprintf(err, errlen, "session key: %s", why);
		return -1;
	}
	memcpy(c->session_key, k.out, sizeof(c->session_key));
	OPENSSL_cleanse(k.out, sizeof(k.out));
	return 0;
}

void
api_session_create(struct api_worker *w, struct api_job *j)
{
	static const char *const allowed[] = { NULL };
	struct session s, *rec;
	json_t *body, *o;
	char *ch64, when[32];
	time_t now = time(NULL);

	if ((body = api_body_object(j, allowed)) == NULL)
		return;
	json_decref(body);

	if (session_make(w->c, j->kiosk_id, now, &s) == -1) {
		api_reply_error(j, 500, "internal_error", "Internal error.",
		    "内部エラーが発生しました。");
		return;
	}
	/* for the books only: nothing waits for (or depends on) this row */
	if ((rec = malloc(sizeof(*rec))) != NULL) {
		*rec = s;
		if (writer_post(w->c->writer, op_session_record, rec, free) ==
		    -1) {
			free(rec);
			log_debug("worker %d: session %s not recorded (writer "
			    "queue full)", w->index, s.id);
		}
	}
	if ((ch64 = api_base64(s.challenge, s.challenge_len)) == NULL) {
		api_reply_text(j, 500, NULL);
		return;
	}
	o = json_pack("{s:s,s:s,s:s,s:i}", "session_id", s.id, "challenge",
	    ch64, "expires_at", api_time(s.expires_at, when, sizeof(when)),
	    "expires_in", w->c->cfg->challenge_ttl);
	free(ch64);
	api_reply_json(j, 201, o);
	(void)snprintf(j->note, sizeof(j->note), "session %s", s.id);
}

/*
 * An answer to a challenge on its way through the writer: its claim, and
 * what the answer needs (an accepted one; a refused one, burn, has its
 * reply made already and uses only w, j, s and claim).
 */
struct auth_write {
	struct api_worker	*w;
	struct api_job		*j;
	struct session		 s;
	struct claim		 claim;
	char			 serial[JPKI_VERIFY_SERIAL_MAX];
	char			 sha256[JPKI_VERIFY_SHA256_HEX];
	char			 display[STORE_FULLNAME_MAX * 2];
	char			 ref[16];
	time_t			 not_after;
	time_t			 now;
	int			 cached;
	json_t			*docs;		/* the menu, ours */
};

static int
op_auth_claim(struct store *st, void *arg)
{
	struct auth_write *aw = arg;

	return op_session_claim(st, &aw->claim);
}

static void
burn_log(const struct api_worker *w, const char *sid, int rc,
    const char *why)
{
	if (rc != STORE_OK && rc != STORE_CONFLICT && rc != STORE_EXPIRED)
		log_warnx("worker %d: session %s: could not mark the answer "
		    "as used: %s", w->index, sid, why);
}

/* The writer's answer: the refusal made before goes out now. */
static void
burn_written(void *arg, int rc, const char *why)
{
	struct auth_write *bw = arg;

	burn_log(bw->w, bw->s.id, rc, why);
	api_job_done(bw->w, bw->j);
	free(bw);
}

/*
 * The answer was refused: it uses the challenge up, durably, before the
 * refusal (already made in j) is sent, and the worker does not wait for
 * the commit.  1: handed to the writer with j; 0: written here (no
 * memory, or the writer has stopped), j is answered by the caller.
 */
static int
burn(struct api_worker *w, struct api_job *j, const struct session *s,
    time_t now)
{
	struct auth_write *bw;
	struct claim c;
	char why[256];
	int rc;

	if ((bw = calloc(1, sizeof(*bw))) != NULL) {
		bw->w = w;
		bw->j = j;
		bw->s = *s;
		bw->claim.s = &bw->s;
		bw->claim.now = now;
		if (writer_submit(w->c->writer, op_auth_claim, bw,
		    burn_written) == 0)
			return 1;	/* j may be answered and gone already */
		free(bw);
	}
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.now = now;
	rc = writer_call(w->c->writer, op_session_claim, &c, why, sizeof(why));
	burn_log(w, s->id, rc, why);
	return 0;
}

static void
reply_verdict(struct api_job *j, enum jpki_verdict v)
{
	int status = jpki_verdict_http_status(v);

	if (v == JPKI_MALFORMED || v == JPKI_ERROR) {
		/* a certificate that is not one: the request is bad */
		if (v == JPKI_MALFORMED) {
			api_bad_request(j, "certificate is not DER");
			return;
		}
		api_reply_error(j, 500, "internal_error", "Internal error.",
		    "内部エラーが発生しました。");
		return;
	}
	api_reply_error(j, status, jpki_verdict_code(v),
	    jpki_verdict_message(v), jpki_verdict_message_ja(v));
}

/* A fresh OCSP verdict from the cache: looked up once per authentication. */
struct cached_rev {
	int			 hit;
	enum jpki_verdict	 v;
	time_t			 revoked_at;
};

/*
 * Revocation of the certificate the caller has checked (profile, root,
 * validity: info): the cached verdict when cr has one, else with the
 * answer the fetch threads got (a, when not NULL), else asked here (no
 * fetch pool, a free inline slot, or no memory to wait).
 */
static enum jpki_verdict
check_revocation(struct api_worker *w, const struct jpki_cert *cert,
    time_t now, const struct jpki_ocsp_answer *a, const struct cached_rev *cr,
    struct jpki_cert_info *info, int *cached)
{
	enum jpki_verdict v;
	char err[256];

	*cached = 0;
	if (cr != NULL && cr->hit) {
		*cached = 1;
		info->revocation = JPKI_REV_OCSP;
		info->revoked_at = cr->revoked_at;
		return cr->v;
	}
	v = jpki_revocation_parsed(w->c->trust, cert, now, a, info, err,
	    sizeof(err));
	if (v != JPKI_OK)
		log_info("worker %d: certificate %.12s: %s: %s", w->index,
		    info->sha256, jpki_verdict_code(v), err);
	if (info->revocation == JPKI_REV_OCSP)
		ocsp_cache_put(w->c->ocsp_cache, info->sha256, now, v,
		    info->revoked_at);
	return v;
}

/*
 * An authentication waiting for its OCSP answer, off the workers: what
 * its first part established (the session, the certificate checked and
 * its signature over the challenge verified), for the part after.
 */
struct auth_park {
	struct api_worker	*w;
	struct api_job		*j;
	struct session		 s;
	struct jpki_cert	*cert;		/* read by a fetch thread */
	struct jpki_cert_info	 info;
	time_t			 now;
	struct jpki_ocsp_answer	 answer;
};

void
api_auth_park_free(struct auth_park *p)
{
	if (p == NULL)
		return;
	jpki_cert_free(p->cert);
	free(p);
}

/* The fetch pool's query (ocsp_fetch.h): subject is a struct auth_park. */
void
api_auth_ocsp_query(void *trust, const void *subject, time_t now,
    int timeout_ms, struct jpki_ocsp_answer *a)
{
	const struct auth_park *p = subject;

	jpki_ocsp_fetch(trust, p->cert, &p->info, now, timeout_ms, a);
}

/* From a fetch thread: the answer, and a worker finishes the job. */
static void
auth_ocsp_done(void *arg, const struct jpki_ocsp_answer *a)
{
	struct auth_park *p = arg;

	p->answer = *a;
	api_job_requeue(p->w, p->j);
}

/*
 * Hand the OCSP query to the fetch threads (the cache has no answer): 1
 * when it was (j comes back to a worker with the answer, and *cert is the
 * park's now), 0 when the authentication goes on here: no responder, a
 * slot to ask the responder from this worker (*slot set:
 * ocsp_fetch_inline_end after), or *ap set to "unavailable" when the pool
 * cannot take the query (full or stopping: the CRL decides).
 */
static int
auth_park(struct api_worker *w, struct api_job *j, const struct session *s,
    struct jpki_cert **cert, const struct jpki_cert_info *info, time_t now,
    struct jpki_ocsp_answer *a, const struct jpki_ocsp_answer **ap,
    int *slot)
{
	struct auth_park *p;

	*ap = NULL;
	*slot = 0;
	if (w->c->ocsp_fetch == NULL)
		return 0;
	if (ocsp_fetch_inline_begin(w->c->ocsp_fetch)) {
		*slot = 1;
		return 0;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return 0;	/* asked here instead */
	p->w = w;
	p->j = j;
	p->s = *s;
	p->cert = *cert;
	p->info = *info;
	p->now = now;
	j->park = p;
	if (ocsp_fetch_submit(w->c->ocsp_fetch, p, info->sha256, now,
	    auth_ocsp_done, p) == 0) {
		*cert = NULL;	/* the park's, freed with j */
		return 1;	/* j may be back and gone already */
	}
	j->park = NULL;
	free(p);
	log_warnx("worker %d: certificate %.12s: too many OCSP queries "
	    "waiting", w->index, info->sha256);
	jpki_ocsp_unavailable(a, "too many queries waiting");
	*ap = a;
	return 0;
}

/* Add the months to a time, calendar-wise (UTC). */
static time_t
add_months(time_t t, int months)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return t;
	tm.tm_mon += months;
	return timegm(&tm);
}

static json_t *
juminhyo_options(const struct center *c, const struct api_records *r)
{
	json_t *o, *list, *m;
	size_t i;
	char name[STORE_FULLNAME_MAX * 2];
	int foreign_any = 0;

	if ((list = json_array()) == NULL)
		return NULL;
	for (i = 0; i < r->nmembers && i < DOC_MEMBERS_MAX; i++) {
		(void)snprintf(name, sizeof(name), "%s %s",
		    r->members[i].family_name, r->members[i].given_name);
		if (r->members[i].nationality[0] != '\0')
			foreign_any = 1;
		m = json_pack("{s:i,s:s,s:s,s:b}", "index", (int)i, "name",
		    name, "relationship", r->members[i].relationship, "self",
		    r->members[i].id == r->res.id);
		if (m == NULL || json_array_append_new(list, m) == -1) {
			json_decref(list);
			return NULL;
		}
	}
	o = json_pack("{s:o,s:b,s:b,s:b,s:b,s:b}", "members", list,
	    "head_relationship", 1,
	    "domicile", r->res.nationality[0] == '\0',
	    "my_number", c->cfg->elig.allow_my_number != 0,
	    "foreign_details", r->res.nationality[0] != '\0' || foreign_any,
	    "residence_card", r->res.nationality[0] != '\0' || foreign_any);
	return o;
}

static json_t *
documents_list(const struct center *c, const struct api_records *r,
    time_t now, struct elig_result *first_refusal, int *navailable)
{
	struct doc_options opt;
	struct elig_result e;
	json_t *list, *d, *opts, *un;
	int i, rc;

	*navailable = 0;
	memset(first_refusal, 0, sizeof(*first_refusal));
	if ((list = json_array()) == NULL)
		return NULL;
	for (i = 0; i < DOC_COUNT; i++) {
		if (!(c->cfg->elig.documents & (1u << i)))
			continue;
		memset(&opt, 0, sizeof(opt));
		rc = api_eligible(c, r, (enum doc_type)i, &opt, now, &e, NULL,
		    NULL);
		if (rc == -1)
			goto fail;
		if (rc == ELIG_OK) {
			(*navailable)++;
			un = json_null();
		} else {
			if (first_refusal->code == NULL)
				*first_refusal = e;
			un = json_pack("{s:s,s:s,s:s}", "reason", e.code,
			    "message", e.message_en, "message_ja",
			    e.message_ja);
		}
		if (i == DOC_JUMINHYO || i == DOC_JUMINHYO_KISAI)
			opts = juminhyo_options(c, r);
		else if (i == DOC_TAX)
			opts = json_pack("{s:i}", "fiscal_year",
			    elig_tax_fiscal_year(&c->cfg->elig, now));
		else
			opts = json_object();
		d = json_pack("{s:s,s:s,s:s,s:i,s:i,s:o,s:o}", "type",
		    doc_type_name((enum doc_type)i), "title_ja",
		    doc_type_title_ja((enum doc_type)i), "title_en",
		    doc_title_en((enum doc_type)i), "fee_yen",
		    c->cfg->fees[i], "max_copies", CENTER_COPIES_MAX,
		    "options", opts, "unavailable", un);
		if (d == NULL || json_array_append_new(list, d) == -1)
			goto fail;
	}
	return list;
fail:
	json_decref(list);
	return NULL;
}

/* A short, stable name of the card for logs: not the serial itself. */
static void
card_ref(const char *serial, char *out, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(serial, strlen(serial), md, &mdlen, EVP_sha256(),
	    NULL) == 1 && mdlen == sizeof(md))
		(void)snprintf(out, len, "%02x%02x%02x%02x%02x%02x", md[0],
		    md[1], md[2], md[3], md[4], md[5]);
	else
		(void)snprintf(out, len, "?");
}

/* The writer's answer (in the thread that ran the batch). */
static void
auth_written(void *arg, int rc, const char *why)
{
	struct auth_write *aw = arg;
	struct api_job *j = aw->j;
	char notafter[32];
	json_t *o;

	switch (rc) {
	case STORE_OK:
		o = json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:b},s:o}",
		    "resident", "display_name", aw->display, "ref", aw->ref,
		    "certificate", "serial", aw->serial, "not_after",
		    api_time(aw->not_after, notafter, sizeof(notafter)),
		    "expires_soon", aw->not_after <= add_months(aw->now, 3),
		    "documents", aw->docs);
		aw->docs = NULL;
		api_reply_json(j, 200, o);
		(void)snprintf(j->note, sizeof(j->note), "session %s card %s%s",
		    aw->s.id, aw->ref, aw->cached ? " (cached revocation)" :
		    "");
		break;
	case STORE_CONFLICT:
		api_reply_error(j, 409, "session_used",
		    "This challenge has already been answered.",
		    "この認証はすでに使用されています。最初からやり直してください。");
		break;
	case STORE_EXPIRED:
		api_reply_error(j, 410, "challenge_expired",
		    "The challenge has expired. Please start again.",
		    "認証の有効時間が過ぎました。最初からやり直してください。");
		break;
	case STORE_MISMATCH:
		api_reply_error(j, 403, "wrong_kiosk",
		    "This session belongs to another kiosk.",
		    "このセッションは別の端末のものです。");
		break;
	case STORE_NOTFOUND:
		api_reply_error(j, 404, "not_found", "No such session.",
		    "セッションが見つかりません。");
		break;
	default:
		api_write_error(j, aw->w, rc, "session authenticate", why);
		break;
	}
	json_decref(aw->docs);
	api_job_done(aw->w, j);
	free(aw);
}

/*
 * The authentication from revocation on: the resident, the menu, and the
 * claim handed to the writer.  s, cert and info are the first part's.
 * 1 when j was handed on.
 */
static int
auth_finish(struct api_worker *w, struct api_job *j, const struct session *s,
    const struct jpki_cert *cert, struct jpki_cert_info *info, time_t now,
    const struct jpki_ocsp_answer *a, const struct cached_rev *cr)
{
	struct auth_write *aw;
	struct card_cert cc;
	struct api_records rec;
	struct elig_result refusal;
	enum jpki_verdict v;
	json_t *docs = NULL;
	char ref[16];
	int rc, cached = 0, navail, handed = 0;

	memset(&rec, 0, sizeof(rec));
	if ((v = check_revocation(w, cert, now, a, cr, info, &cached)) !=
	    JPKI_OK) {
		reply_verdict(j, v);
		return burn(w, j, s, now);
	}
	card_ref(info->serial, ref, sizeof(ref));

	/* the resident */
	rc = store_resident_by_cert(w->st, info->serial, &rec.res, &cc);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK &&
	    cc.status == CARD_CERT_REVOKED)) {
		if (rc == STORE_OK)
			api_reply_error(j, 403, "cert_revoked",
			    jpki_verdict_message(JPKI_REVOKED),
			    jpki_verdict_message_ja(JPKI_REVOKED));
		else
			api_reply_error(j, 403, "unknown_certificate",
			    "This card is not registered with this "
			    "municipality.",
			    "このカードはこの市区町村で利用できません。");
		return burn(w, j, s, now);
	} else if (rc != STORE_OK) {
		api_store_error(j, w, rc, "resident by certificate");
		return 0;
	}
	if (api_records_load(w, j, REC_ALL, now, &rec) == -1)
		goto done;
	if ((docs = documents_list(w->c, &rec, now, &refusal, &navail)) ==
	    NULL) {
		api_reply_text(j, 500, NULL);
		goto done;
	}
	if (navail == 0) {
		if (refusal.code == NULL)
			(void)elig_refusal("no_document", &refusal);
		api_not_eligible(j, &refusal);
		handed = burn(w, j, s, now);
		goto done;
	}

	/*
	 * The claim goes to the writer with the job and what the answer
	 * needs: its answer replies once the claim is durable, and this
	 * worker takes the next job instead of sleeping through the commit.
	 */
	if ((aw = calloc(1, sizeof(*aw))) == NULL) {
		api_reply_text(j, 500, NULL);
		goto done;
	}
	aw->w = w;
	aw->j = j;
	aw->s = *s;
	(void)snprintf(aw->serial, sizeof(aw->serial), "%s", info->serial);
	(void)snprintf(aw->sha256, sizeof(aw->sha256), "%s", info->sha256);
	aw->claim.s = &aw->s;
	aw->claim.now = now;
	aw->claim.resident_id = rec.res.id;
	aw->claim.serial = aw->serial;
	aw->claim.sha256 = aw->sha256;
	(void)snprintf(aw->display, sizeof(aw->display), "%s %s",
	    rec.res.family_name, rec.res.given_name);
	(void)snprintf(aw->ref, sizeof(aw->ref), "%s", ref);
	aw->not_after = info->not_after;
	aw->now = now;
	aw->cached = cached;
	aw->docs = docs;
	docs = NULL;
	if (writer_submit(w->c->writer, op_auth_claim, aw, auth_written) ==
	    0)
		handed = 1;	/* j may be answered and gone already */
	else {
		json_decref(aw->docs);
		free(aw);
		api_write_error(j, w, STORE_ERR, "session authenticate",
		    "the writer has stopped");
	}
done:
	json_decref(docs);
	api_records_free(&rec);
	return handed;
}

int
api_session_auth(struct api_worker *w, struct api_job *j)
{
	static const char *const allowed[] = { "certificate", "signature",
	    NULL };
	struct session s, used;
	struct jpki_cert_info info;
	struct jpki_cert *cert = NULL;
	struct jpki_ocsp_answer unavailable;
	const struct jpki_ocsp_answer *a = NULL;
	struct cached_rev cr;
	struct auth_park *p;
	enum jpki_verdict v;
	json_t *body = NULL;
	const char *cert64, *sig64;
	uint8_t *der = NULL, sig[SIG_MAX];
	size_t derlen, siglen;
	time_t now = time(NULL);
	char err[256];
	int rc, handed = 0, slot = 0;

	/* back with its OCSP answer: the second part, as when it came */
	if ((p = j->park) != NULL)
		return auth_finish(w, j, &p->s, p->cert, &p->info, p->now,
		    &p->answer, NULL);

	if ((body = api_body_object(j, allowed)) == NULL)
		return 0;
	if (api_get_string(j, body, "certificate", 1, 4, CERT_B64_MAX,
	    &cert64) == -1 || api_get_string(j, body, "signature", 1, 4,
	    SIG_B64_MAX, &sig64) == -1)
		goto done;
	if ((der = malloc(JPKI_VERIFY_CERT_MAX)) == NULL) {
		api_reply_text(j, 500, NULL);
		goto done;
	}
	if (api_unbase64(cert64, der, JPKI_VERIFY_CERT_MAX, &derlen) == -1) {
		api_bad_request(j, "certificate is not base64");
		goto done;
	}
	if (api_unbase64(sig64, sig, sizeof(sig), &siglen) == -1) {
		api_bad_request(j, "signature is not base64");
		goto done;
	}

	/* the session: ours, this kiosk's, unanswered, in time */
	rc = session_check(w->c, j->path_id, j->kiosk_id, now, &s);
	if (rc == -1) {
		api_reply_error(j, 404, "not_found", "No such session.",
		    "セッションが見つかりません。");
		goto done;
	}
	if (rc == -2) {
		api_reply_error(j, 403, "wrong_kiosk",
		    "This session belongs to another kiosk.",
		    "このセッションは別の端末のものです。");
		goto done;
	}
	/* an answered challenge has its row (the claim's commit made it) */
	rc = store_session_get(w->st, s.id, &used);
	if (rc == STORE_OK && used.state != SESSION_NEW) {
		api_reply_error(j, 409, "session_used",
		    "This challenge has already been answered.",
		    "この認証はすでに使用されています。最初からやり直してください。");
		goto done;
	} else if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		api_store_error(j, w, rc, "session get");
		goto done;
	}
	if (now >= s.expires_at) {
		api_reply_error(j, 410, "challenge_expired",
		    "The challenge has expired. Please start again.",
		    "認証の有効時間が過ぎました。最初からやり直してください。");
		goto done;
	}

	/* the card: certificate, its signature over the challenge, revocation */
	memset(&info, 0, sizeof(info));
	v = jpki_cert_parse(der, derlen, &cert, err, sizeof(err));
	if (v == JPKI_OK)
		v = jpki_check_parsed(w->c->trust, cert, now, &info, err,
		    sizeof(err));
	if (v != JPKI_OK) {
		log_info("worker %d: session %s: certificate refused: %s",
		    w->index, s.id, err);
		reply_verdict(j, v);
		handed = burn(w, j, &s, now);
		goto done;
	}
	rc = jpki_verify_signature_parsed(cert, s.challenge, s.challenge_len,
	    sig, siglen);
	if (rc != 1) {
		api_reply_error(j, 401, "signature_invalid",
		    "The card's signature does not verify.",
		    "カードの署名を確認できませんでした。");
		handed = burn(w, j, &s, now);
		goto done;
	}
	cr.hit = ocsp_cache_get(w->c->ocsp_cache, info.sha256, now, &cr.v,
	    &cr.revoked_at);
	if (!cr.hit && auth_park(w, j, &s, &cert, &info, now, &unavailable,
	    &a, &slot) == 1)
		handed = 1;
	else {
		handed = auth_finish(w, j, &s, cert, &info, now, a, &cr);
		if (slot)
			ocsp_fetch_inline_end(w->c->ocsp_fetch);
	}
done:
	jpki_cert_free(cert);
	json_decref(body);
	if (der != NULL) {
		OPENSSL_cleanse(der, JPKI_VERIFY_CERT_MAX);
		free(der);
	}
	return handed;
}

struct purge {
	int64_t	before;
	long	n;
};

static int
op_purge(struct store *st, void *arg)
{
	struct purge *p = arg;

	return store_session_purge(st, p->before, &p->n);
}

void
api_purge(struct api_worker *w, struct api_job *j)
{
	struct purge p;
	time_t now = time(NULL);
	char why[256];
	int rc;

	/*
	 * Keep a day of sessions after their use for reconciliation; a
	 * purged session has long expired, so its id is refused before its
	 * (missing) row matters.
	 */
	p.before = now - w->c->cfg->session_lifetime - 24 * 3600;
	p.n = 0;
	rc = writer_call(w->c->writer, op_purge, &p, why, sizeof(why));
	if (rc != STORE_OK)
		log_warnx("purge: %s", why);
	else if (p.n > 0)
		log_info("purged %ld expired sessions", p.n);
	j->status = 0;
}
