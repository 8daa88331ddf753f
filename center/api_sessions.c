/*
 * POST /v1/sessions and POST /v1/sessions/{id}/auth (API.md).
 *
 * A session lives in the database, never in this process: its challenge,
 * its kiosk, its expiry and, once, its resident and card.  Any answer to
 * a challenge uses it up: a wrong or refused answer burns it (the kiosk
 * opens a new session), a right one binds it to the card for good.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "centerd.h"
#include "document.h"
#include "log.h"
#include "ocsp_cache.h"

#define CHALLENGE_LEN	32
#define SIG_MAX		1024		/* RSA up to 8192 bits */
#define CERT_B64_MAX	(4 * ((JPKI_VERIFY_CERT_MAX + 2) / 3))
#define SIG_B64_MAX	(4 * ((SIG_MAX + 2) / 3))

void
api_session_create(struct api_worker *w, struct api_job *j)
{
	static const char *const allowed[] = { NULL };
	struct session s;
	json_t *body, *o;
	char *ch64, when[32];
	time_t now = time(NULL);
	int rc, tries;

	if ((body = api_body_object(j, allowed)) == NULL)
		return;
	json_decref(body);

	for (tries = 0; tries < 3; tries++) {
		memset(&s, 0, sizeof(s));
		(void)snprintf(s.kiosk_id, sizeof(s.kiosk_id), "%s", j->kiosk_id);
		if (api_random_hex(s.id, 16) == -1 ||
		    RAND_bytes(s.challenge, CHALLENGE_LEN) != 1) {
			api_reply_error(j, 500, "internal_error",
			    "Internal error.", "内部エラーが発生しました。");
			return;
		}
		s.challenge_len = CHALLENGE_LEN;
		s.created_at = now;
		s.expires_at = now + w->c->cfg->challenge_ttl;
		s.state = SESSION_NEW;
		if ((rc = store_session_create(w->st, &s)) != STORE_CONFLICT)
			break;
	}
	if (rc != STORE_OK) {
		api_store_error(j, w, rc, "session create");
		return;
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

/* Use the challenge up after a refused answer; the refusal stands. */
static void
burn(struct api_worker *w, const char *id, const char *kiosk, time_t now)
{
	int rc;

	rc = store_session_authenticate(w->st, id, kiosk, now, 0, NULL, NULL);
	if (rc != STORE_OK && rc != STORE_CONFLICT && rc != STORE_EXPIRED)
		log_warnx("worker %d: session %s: could not mark the answer "
		    "as used (%d)", w->index, id, rc);
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

/*
 * Revocation, through the cache when it holds a fresh OCSP answer; the
 * caller has checked the certificate itself (profile, root, validity).
 */
static enum jpki_verdict
check_revocation(struct api_worker *w, const uint8_t *der, size_t len,
    time_t now, struct jpki_cert_info *info, int *cached)
{
	enum jpki_verdict v, cv;
	time_t revoked_at;
	char err[256];

	*cached = 0;
	if (ocsp_cache_get(w->c->ocsp_cache, info->sha256, now, &cv,
	    &revoked_at)) {
		*cached = 1;
		info->revocation = JPKI_REV_OCSP;
		info->revoked_at = revoked_at;
		return cv;
	}
	v = jpki_verify_cert(w->c->trust, der, len, now, info, err,
	    sizeof(err));
	if (v != JPKI_OK)
		log_info("worker %d: certificate %.12s: %s: %s", w->index,
		    info->sha256, jpki_verdict_code(v), err);
	if (info->revocation == JPKI_REV_OCSP)
		ocsp_cache_put(w->c->ocsp_cache, info->sha256, now, v,
		    info->revoked_at);
	return v;
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

void
api_session_auth(struct api_worker *w, struct api_job *j)
{
	static const char *const allowed[] = { "certificate", "signature",
	    NULL };
	struct session s;
	struct jpki_cert_info info;
	struct card_cert cc;
	struct api_records rec;
	struct elig_result refusal;
	enum jpki_verdict v;
	json_t *body = NULL, *docs = NULL, *o;
	const char *cert64, *sig64;
	uint8_t *der = NULL, sig[SIG_MAX];
	size_t derlen, siglen;
	time_t now = time(NULL);
	char ref[16], notafter[32], display[STORE_FULLNAME_MAX * 2];
	char err[256];
	int rc, cached = 0, navail;

	memset(&rec, 0, sizeof(rec));
	if ((body = api_body_object(j, allowed)) == NULL)
		return;
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

	/* the session: exists, this kiosk's, unanswered, in time */
	rc = store_session_get(w->st, j->path_id, &s);
	if (rc == STORE_NOTFOUND) {
		api_reply_error(j, 404, "not_found", "No such session.",
		    "セッションが見つかりません。");
		goto done;
	} else if (rc != STORE_OK) {
		api_store_error(j, w, rc, "session get");
		goto done;
	}
	if (strcmp(s.kiosk_id, j->kiosk_id) != 0) {
		api_reply_error(j, 403, "wrong_kiosk",
		    "This session belongs to another kiosk.",
		    "このセッションは別の端末のものです。");
		goto done;
	}
	if (s.state != SESSION_NEW) {
		api_reply_error(j, 409, "session_used",
		    "This challenge has already been answered.",
		    "この認証はすでに使用されています。最初からやり直してください。");
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
	v = jpki_check_cert(w->c->trust, der, derlen, now, &info, err,
	    sizeof(err));
	if (v != JPKI_OK) {
		log_info("worker %d: session %s: certificate refused: %s",
		    w->index, s.id, err);
		burn(w, s.id, j->kiosk_id, now);
		reply_verdict(j, v);
		goto done;
	}
	rc = jpki_verify_signature(der, derlen, s.challenge, s.challenge_len,
	    sig, siglen);
	if (rc != 1) {
		burn(w, s.id, j->kiosk_id, now);
		api_reply_error(j, 401, "signature_invalid",
		    "The card's signature does not verify.",
		    "カードの署名を確認できませんでした。");
		goto done;
	}
	if ((v = check_revocation(w, der, derlen, now, &info, &cached)) !=
	    JPKI_OK) {
		burn(w, s.id, j->kiosk_id, now);
		reply_verdict(j, v);
		goto done;
	}
	card_ref(info.serial, ref, sizeof(ref));

	/* the resident */
	rc = store_resident_by_cert(w->st, info.serial, &rec.res, &cc);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK &&
	    cc.status == CARD_CERT_REVOKED)) {
		burn(w, s.id, j->kiosk_id, now);
		if (rc == STORE_OK)
			api_reply_error(j, 403, "cert_revoked",
			    jpki_verdict_message(JPKI_REVOKED),
			    jpki_verdict_message_ja(JPKI_REVOKED));
		else
			api_reply_error(j, 403, "unknown_certificate",
			    "This card is not registered with this "
			    "municipality.",
			    "このカードはこの市区町村で利用できません。");
		goto done;
	} else if (rc != STORE_OK) {
		api_store_error(j, w, rc, "resident by certificate");
		goto done;
	}
	if (api_records_load(w, j, REC_ALL, now, &rec) == -1)
		goto done;
	if ((docs = documents_list(w->c, &rec, now, &refusal, &navail)) ==
	    NULL) {
		api_reply_text(j, 500, NULL);
		goto done;
	}
	if (navail == 0) {
		burn(w, s.id, j->kiosk_id, now);
		if (refusal.code == NULL)
			(void)elig_refusal("no_document", &refusal);
		api_not_eligible(j, &refusal);
		goto done;
	}

	rc = store_session_authenticate(w->st, s.id, j->kiosk_id, now,
	    rec.res.id, info.serial, info.sha256);
	switch (rc) {
	case STORE_OK:
		break;
	case STORE_CONFLICT:
		api_reply_error(j, 409, "session_used",
		    "This challenge has already been answered.",
		    "この認証はすでに使用されています。最初からやり直してください。");
		goto done;
	case STORE_EXPIRED:
		api_reply_error(j, 410, "challenge_expired",
		    "The challenge has expired. Please start again.",
		    "認証の有効時間が過ぎました。最初からやり直してください。");
		goto done;
	case STORE_MISMATCH:
		api_reply_error(j, 403, "wrong_kiosk",
		    "This session belongs to another kiosk.",
		    "このセッションは別の端末のものです。");
		goto done;
	case STORE_NOTFOUND:
		api_reply_error(j, 404, "not_found", "No such session.",
		    "セッションが見つかりません。");
		goto done;
	default:
		api_store_error(j, w, rc, "session authenticate");
		goto done;
	}

	(void)snprintf(display, sizeof(display), "%s %s",
	    rec.res.family_name, rec.res.given_name);
	o = json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:b},s:o}",
	    "resident", "display_name", display, "ref", ref,
	    "certificate", "serial", info.serial, "not_after",
	    api_time(info.not_after, notafter, sizeof(notafter)),
	    "expires_soon", info.not_after <= add_months(now, 3),
	    "documents", docs);
	docs = NULL;
	api_reply_json(j, 200, o);
	(void)snprintf(j->note, sizeof(j->note), "session %s card %s%s",
	    s.id, ref, cached ? " (cached revocation)" : "");
done:
	json_decref(docs);
	api_records_free(&rec);
	json_decref(body);
	if (der != NULL) {
		OPENSSL_cleanse(der, JPKI_VERIFY_CERT_MAX);
		free(der);
	}
}

void
api_purge(struct api_worker *w, struct api_job *j)
{
	time_t now = time(NULL);
	long n = 0;
	int rc;

	/* keep a day of sessions after their use for reconciliation */
	rc = store_session_purge(w->st, now - w->c->cfg->session_lifetime -
	    24 * 3600, &n);
	if (rc != STORE_OK)
		log_warnx("purge: %s", store_errmsg(w->st));
	else if (n > 0)
		log_info("purged %ld expired sessions", n);
	j->status = 0;
}
