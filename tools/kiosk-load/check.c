/*
 * kiosk-load's checks: every document against the card that
 * authenticated it (docverify, then the resident named in the body), and
 * after the run every transaction against the center's database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "backend.h"
#include "docverify.h"
#include "load.h"
#include "log.h"

/* Does person object o (name, birth) name the card's resident? */
static int
person_is(json_t *o, const struct card *cd)
{
	json_t		*n, *b;

	if (!json_is_object(o))
		return 0;
	n = json_object_get(o, "name");
	b = json_object_get(o, "birth");
	if (!json_is_string(n) || strcmp(json_string_value(n),
	    cd->res_name) != 0)
		return 0;
	if (cd->res_birth[0] != '\0' && (!json_is_string(b) ||
	    strcmp(json_string_value(b), cd->res_birth) != 0))
		return 0;
	return 1;
}

/* The resident the body is about, per document type. */
static int
body_names_card(json_t *doc, const char *type, const struct card *cd,
    char *why, size_t whylen)
{
	json_t	*body, *arr, *e;
	size_t	 i;

	if ((body = json_object_get(doc, "body")) == NULL ||
	    !json_is_object(body)) {
		(void)snprintf(why, whylen, "document without a body");
		return 0;
	}
	if (strcmp(type, "juminhyo") == 0 ||
	    strcmp(type, "juminhyo_kisai") == 0) {
		/* options {}: the applicant only */
		arr = json_object_get(body, "members");
		if (!json_is_array(arr) || json_array_size(arr) != 1 ||
		    !person_is(json_array_get(arr, 0), cd)) {
			(void)snprintf(why, whylen, "%s for another resident",
			    type);
			return 0;
		}
		return 1;
	}
	if (strcmp(type, "koseki_kojin") == 0) {
		arr = json_object_get(body, "entries");
		if (!json_is_array(arr) || json_array_size(arr) != 1 ||
		    !person_is(json_array_get(arr, 0), cd)) {
			(void)snprintf(why, whylen, "%s for another resident",
			    type);
			return 0;
		}
		return 1;
	}
	if (strcmp(type, "koseki_zenbu") == 0 ||
	    strcmp(type, "koseki_fuhyo") == 0) {
		arr = json_object_get(body, "entries");
		if (json_is_array(arr))
			json_array_foreach(arr, i, e)
				if (person_is(e, cd))
					return 1;
		(void)snprintf(why, whylen, "%s without the applicant", type);
		return 0;
	}
	/* inkan, tax_shotoku: the person's own fields */
	if (!person_is(body, cd)) {
		(void)snprintf(why, whylen, "%s for another resident", type);
		return 0;
	}
	return 1;
}

int
check_document(struct run *r, struct txn *t, const struct card *cd,
    const char *kiosk_id, const struct backend_issuance *is)
{
	struct docverify_expect	 ex;
	struct docverify_out	 out;
	enum docverify_status	 st;
	const char		*type = r->cfg->docs[t->doc];
	char			 why[96];
	double			 t0;
	int			 ok;

	memset(&ex, 0, sizeof(ex));
	memset(&out, 0, sizeof(out));
	ex.session_id = t->session_id;
	ex.cert_sha256 = cd->sha256;
	ex.kiosk_id = kiosk_id;
	ex.issuance_id = is->issuance_id;
	ex.document = type;
	ex.copies = t->copies;
	t0 = now_s();
	st = docverify(is->content, is->content_len, is->signature,
	    is->sig_len, is->key_id, r->dockey, &ex, &out);
	switch (st) {
	case DOCVERIFY_OK:
		break;
	case DOCVERIFY_E_SESSION_MISMATCH:
	case DOCVERIFY_E_CERT_MISMATCH:
	case DOCVERIFY_E_KIOSK_MISMATCH:
	case DOCVERIFY_E_ISSUANCE_MISMATCH:
	case DOCVERIFY_E_DOCUMENT_MISMATCH:
	case DOCVERIFY_E_COPIES_MISMATCH:
		t->wrong_person = 1;
		txn_why(t, "document refused: %s "
		    "(%s)", docverify_strerror(st), out.detail);
		r->c.verify_s += now_s() - t0;
		return -1;
	default:
		t->bad_document = 1;
		txn_why(t, "document refused: %s "
		    "(%s)", docverify_strerror(st), out.detail);
		r->c.verify_s += now_s() - t0;
		return -1;
	}
	ok = body_names_card(out.doc, type, cd, why, sizeof(why));
	docverify_out_clear(&out);
	r->c.verify_s += now_s() - t0;
	if (!ok) {
		t->wrong_person = 1;
		txn_why(t, "%s", why);
		return -1;
	}
	return 0;
}

/* ---- reconciliation ---- */

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

/*
 * The signed bytes inside the stored envelope: the center keeps
 * "KDOC1 <key id> <signature>\n" before the content (center/document.c).
 */
static const uint8_t *
stored_content(const void *blob, int len, size_t *clen)
{
	const uint8_t	*p = blob, *nl;

	if (p == NULL || len <= 0)
		return NULL;
	if (len > 6 && memcmp(p, "KDOC1 ", 6) == 0) {
		if ((nl = memchr(p, '\n', (size_t)len)) == NULL)
			return NULL;
		*clen = (size_t)len - (size_t)(nl + 1 - p);
		return nl + 1;
	}
	*clen = (size_t)len;
	return p;
}

/* Our kiosk index for id, or -1. */
static int
our_kiosk(const struct run *r, const char *id)
{
	char		 buf[32];
	unsigned long	 n;
	char		*end;

	if (id[0] != 'L')
		return -1;
	n = strtoul(id + 1, &end, 10);
	if (end == id + 1 || n < 1 || n > (unsigned long)r->nkiosks)
		return -1;
	fleet_kiosk_id((int)n - 1, buf, sizeof(buf));
	return strcmp(buf, id) == 0 ? (int)n - 1 : -1;
}

static void
flag(struct txn *t, uint8_t *field, const char *why)
{
	*field = 1;
	txn_why(t, "database: %s", why);
}

int
check_reconcile(struct run *r, const char *db)
{
	sqlite3		*h = NULL;
	sqlite3_stmt	*st = NULL;
	char		 like[32], prefix[32];
	uint8_t		*rows = NULL, sha[32];
	unsigned int	 mdlen;
	long		 no, i;
	int		 rc, ret = -1, ki;
	size_t		 plen;

	(void)snprintf(like, sizeof(like), "kl-%s-%%", r->runid);
	plen = (size_t)snprintf(prefix, sizeof(prefix), "kl-%s-", r->runid);
	if ((rows = calloc((size_t)r->c.started + 1, 1)) == NULL)
		goto out;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		log_warnx("%s: %s", db, h != NULL ? sqlite3_errmsg(h) :
		    "cannot open");
		goto out;
	}
	(void)sqlite3_busy_timeout(h, 30000);
	if (sqlite3_prepare_v2(h, "SELECT i.idempotency_key, i.public_id, "
	    "i.session_id, i.kiosk_id, i.resident_id, i.document, i.copies, "
	    "i.state, i.content, s.kiosk_id, s.resident_id, s.cert_sha256 "
	    "FROM issuances i LEFT JOIN sessions s ON s.id = i.session_id "
	    "WHERE i.idempotency_key LIKE ?1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC) != SQLITE_OK)
		goto dberr;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char	*key = col_text(st, 0), *pub = col_text(st, 1);
		const char	*sid = col_text(st, 2), *kid = col_text(st, 3);
		const char	*state = col_text(st, 7);
		const void	*content = sqlite3_column_blob(st, 8);
		int		 clen = sqlite3_column_bytes(st, 8);
		const uint8_t	*body;
		size_t		 bodylen = 0;
		struct txn	*t;
		struct card	*cd;
		char		*end;

		r->c_db_rows++;
		if (strncmp(key, prefix, plen) != 0) {
			r->phantoms++;
			continue;
		}
		no = strtol(key + plen, &end, 10);
		if (end == key + plen || no < 0 || no >= r->c.started ||
		    strcmp(key, r->tx[no].idem) != 0) {
			r->phantoms++;	/* a key this run never sent */
			continue;
		}
		t = &r->tx[no];
		if (rows[no]++ > 0)
			flag(t, &t->duplicated, "two issuances for one key");
		cd = run_card(r, t);
		if (strcmp(kid, run_kiosk_id(r, t)) != 0)
			flag(t, &t->wrong_person, "issued to another kiosk");
		if (cd->resident_id != 0 && sqlite3_column_int64(st, 4) !=
		    cd->resident_id)
			flag(t, &t->wrong_person, "issued for another "
			    "resident");
		if (strcmp(sid, t->session_id) != 0)
			flag(t, &t->wrong_person, "bound to another session");
		if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
			if (strcmp(col_text(st, 9), kid) != 0 ||
			    sqlite3_column_int64(st, 10) !=
			    sqlite3_column_int64(st, 4) ||
			    strcasecmp(col_text(st, 11), cd->sha256_hex) != 0)
				flag(t, &t->wrong_person, "session of another "
				    "card or kiosk");
		}
		if (t->have_issuance) {
			if (strcmp(pub, t->issuance_id) != 0)
				flag(t, &t->duplicated, "another issuance "
				    "than the one answered");
			if ((body = stored_content(content, clen,
			    &bodylen)) == NULL ||
			    EVP_Digest(body, bodylen, sha, &mdlen,
			    EVP_sha256(), NULL) != 1 ||
			    memcmp(sha, t->content_sha, 32) != 0)
				flag(t, &t->duplicated, "stored document "
				    "differs from the one answered");
		} else if (strcmp(state, "issued") != 0)
			flag(t, &t->duplicated, "an issuance with a result "
			    "the kiosk never received");
		if (strcmp(state, "issued") == 0)
			flag(t, &t->lost, "issuance without a result");
		else if (strcmp(state, "committed") == 0) {
			if (t->result_state == 2)
				flag(t, &t->lost, "voided by the kiosk, "
				    "committed in the database");
			else
				r->c.committed++;
		} else if (strcmp(state, "voided") == 0) {
			if (t->result_state == 1)
				flag(t, &t->lost, "committed by the kiosk, "
				    "voided in the database");
			else
				r->c.voided++;
		} else
			flag(t, &t->lost, "unknown state");
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;
	for (i = 0; i < r->c.started; i++) {
		struct txn *t = &r->tx[i];

		if (rows[i] == 0 && (t->have_issuance || t->result_state != 0))
			flag(t, &t->lost, "answered issuance not in the "
			    "database");
	}

	/*
	 * Issuances for our kiosks since the run began under keys no
	 * kiosk-load run made ("kl-..."): nobody asked for them.  Another
	 * run's keys are left alone: runs may follow each other closely.
	 */
	if (sqlite3_prepare_v2(h, "SELECT kiosk_id FROM issuances WHERE "
	    "created_at >= ?1 AND substr(idempotency_key, 1, 3) <> 'kl-'",
	    -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->wall0) != SQLITE_OK)
		goto dberr;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((ki = our_kiosk(r, col_text(st, 0))) >= 0)
			r->phantoms++;
	if (rc != SQLITE_DONE)
		goto dberr;
	ret = 0;
	goto out;
dberr:
	log_warnx("%s: reconciliation query: %s", db, sqlite3_errmsg(h));
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	free(rows);
	return ret;
}

void
check_tally(struct run *r)
{
	long	 i;

	r->c.wrong_person = r->c.bad_document = r->c.duplicated = 0;
	r->c.lost = 0;
	for (i = 0; i < r->c.started; i++) {
		const struct txn *t = &r->tx[i];

		r->c.wrong_person += t->wrong_person;
		r->c.bad_document += t->bad_document;
		r->c.duplicated += t->duplicated;
		r->c.lost += t->lost;
		/* without the database: a transaction that may have left an
		   issuance behind and never settled is presumed lost */
		if (!r->reconciled && t->final == TX_GAVE_UP && t->issue_sent)
			r->c.lost += !t->lost;
	}
	r->c.duplicated += r->phantoms;
}
