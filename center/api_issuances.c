/*
 * POST /v1/issuances and POST /v1/issuances/{id}/result (API.md).
 *
 * An issuance is named for ever by its idempotency key.  Its content is
 * built from the records of THIS request's session (its resident, its
 * card, its kiosk) for the row about to be made (its public id, its time),
 * signed, and then the row and the signed content are stored in ONE write
 * (group-committed by the writer): the store creates the row or returns
 * the existing one with ITS content, atomically, whatever process or
 * thread asks.  Every later answer for the key returns the stored bytes,
 * so a replay is byte-identical and two racing builders cannot both win.
 * A replay of a stored key is answered from a read, without any write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "centerd.h"
#include "doccode.h"
#include "document.h"
#include "log.h"

static int
key_ok(const char *k)
{
	size_t i, n = strlen(k);

	if (n < 16 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-'))
			return 0;
	return 1;
}

static unsigned
records_for(enum doc_type d)
{
	switch (d) {
	case DOC_JUMINHYO:
	case DOC_JUMINHYO_KISAI:
		return REC_MEMBERS;
	case DOC_INKAN:
		return REC_SEAL | REC_SEAL_IMAGE;
	case DOC_KOSEKI_ZENBU:
	case DOC_KOSEKI_KOJIN:
		return REC_KOSEKI | REC_KOSEKI_ENTRIES;
	case DOC_KOSEKI_FUHYO:
		return REC_KOSEKI | REC_KOSEKI_ENTRIES | REC_FUHYO |
		    REC_FUHYO_LINES;
	case DOC_TAX:
		return REC_TAX | REC_TAX_ITEMS;
	default:
		return 0;
	}
}

static void
reply_not_found(struct api_job *j, const char *what_en, const char *what_ja)
{
	api_reply_error(j, 404, "not_found", what_en, what_ja);
}

/* The stored envelope as the wire's answer. */
static void
reply_issuance(struct api_job *j, int status, const struct issuance *is,
    const uint8_t *env, size_t envlen)
{
	char key_id[DOC_KEY_ID_LEN + 1], *c64 = NULL, *s64 = NULL;
	char code[DOCCODE_TEXT_MAX + 1];
	uint8_t sig[DOC_SIG_MAX];
	const char *content;
	size_t siglen, clen;
	json_t *o;

	if (doc_envelope_unpack(env, envlen, key_id, sig, sizeof(sig),
	    &siglen, code, sizeof(code), &content, &clen) == -1) {
		log_warnx("issuance %s: stored document is damaged",
		    is->req.public_id);
		api_reply_error(j, 500, "internal_error", "Internal error.",
		    "内部エラーが発生しました。");
		return;
	}
	if ((c64 = api_base64((const uint8_t *)content, clen)) == NULL ||
	    (s64 = api_base64(sig, siglen)) == NULL) {
		free(c64);
		api_reply_text(j, 500, NULL);
		return;
	}
	o = json_pack("{s:s,s:s,s:i,s:i,s:s,s:s,s:s}",
	    "issuance_id", is->req.public_id, "document", is->req.document,
	    "fee_yen", is->req.fee_yen, "copies", is->req.copies,
	    "content", c64, "signature", s64, "key_id", key_id);
	/* Documents stored before codes existed have none. */
	if (o != NULL && code[0] != '\0')
		json_object_set_new(o, "code", json_string(code));
	free(c64);
	free(s64);
	api_reply_json(j, status, o);
	(void)snprintf(j->note, sizeof(j->note), "issuance %s %s%s",
	    is->req.public_id, is->req.document, status == 200 ?
	    " (replay)" : "");
}

/*
 * Build and sign the content of issuance `public_id` made at `issued_at`
 * from this request's records into an envelope (*env, malloc'd).  -1
 * after a reply.
 */
static int
build_signed(struct api_worker *w, struct api_job *j,
    const struct session *s, const struct issuance_req *q,
    const struct doc_options *opt, enum doc_type doc,
    const struct api_records *rec, const struct resident *chosen,
    size_t nchosen, uint8_t **env, size_t *envlen)
{
	struct doc_input in;
	size_t clen, siglen, i;
	uint8_t sig[DOC_SIG_MAX];
	char *content = NULL, err[160], head[STORE_FULLNAME_MAX * 2];
	char code[DOCCODE_TEXT_MAX + 1];
	int ret = -1;

	*env = NULL;
	memset(&in, 0, sizeof(in));
	in.issuance_id = q->public_id;
	in.session_id = s->id;
	in.cert_sha256 = s->cert_sha256;
	in.kiosk_id = s->kiosk_id;
	in.doc = doc;
	in.opt = opt;
	in.copies = q->copies;
	in.fee_yen = q->fee_yen;
	in.issued_at = (time_t)q->now;
	in.municipality = w->c->cfg->municipality;
	in.mayor = w->c->cfg->mayor;
	in.res = &rec->res;
	in.household = rec->has_hh ? &rec->hh : NULL;
	head[0] = '\0';
	for (i = 0; rec->has_hh && i < rec->nmembers; i++)
		if (rec->members[i].id == rec->hh.head_resident_id)
			(void)snprintf(head, sizeof(head), "%s %s",
			    rec->members[i].family_name,
			    rec->members[i].given_name);
	in.head_name = head;
	in.members = chosen;
	in.nmembers = nchosen;
	in.seal = rec->has_seal ? &rec->seal : NULL;
	in.koseki = rec->has_koseki ? &rec->koseki : NULL;
	in.entries = rec->entries;
	in.nentries = rec->nentries;
	in.fuhyo = rec->fuhyo;
	in.nfuhyo = rec->nfuhyo;
	in.tax = rec->has_tax ? &rec->tax : NULL;
	if (doc_build(&in, &content, &clen, err, sizeof(err)) == -1) {
		log_warnx("issuance %s: document: %s", q->public_id, err);
		api_reply_error(j, 500, "internal_error", "Internal error.",
		    "内部エラーが発生しました。");
		goto done;
	}
	if (doc_sign(w->c->doc_key, (const uint8_t *)content, clen, sig,
	    sizeof(sig), &siglen) == -1 ||
	    doc_code_sign(w->c->doc_key, &in, content, clen, code,
	    sizeof(code)) == -1 ||
	    doc_envelope_pack(w->c->doc_key_id, sig, siglen, code, content,
	    clen, env, envlen) == -1) {
		log_warnx("issuance %s: signing failed", q->public_id);
		api_reply_error(j, 500, "internal_error", "Internal error.",
		    "内部エラーが発生しました。");
		*env = NULL;
		goto done;
	}
	ret = 0;
done:
	free(content);
	return ret;
}

struct set_content {
	int64_t		 id;
	const uint8_t	*env;
	size_t		 envlen;
};

static int
op_set_content(struct store *st, void *arg)
{
	struct set_content *a = arg;

	return store_issuance_set_content(st, a->id, a->env, a->envlen);
}

/*
 * The content of a stored row that has none (made by the two-step
 * store_issuance_create, or by an older center): built for that row and
 * stored once; *env gets the stored envelope (ours, or the one another
 * builder stored first).  -1 after a reply.
 */
static int
make_content(struct api_worker *w, struct api_job *j,
    const struct session *s, const struct issuance *is,
    const struct doc_options *opt, enum doc_type doc,
    const struct api_records *rec, const struct resident *chosen,
    size_t nchosen, uint8_t **env, size_t *envlen)
{
	struct set_content sc;
	struct issuance_req q;
	char why[256];
	int rc;

	q = is->req;
	q.now = is->created_at;
	if (build_signed(w, j, s, &q, opt, doc, rec, chosen, nchosen, env,
	    envlen) == -1)
		return -1;
	sc.id = is->id;
	sc.env = *env;
	sc.envlen = *envlen;
	rc = writer_call(w->c->writer, op_set_content, &sc, why, sizeof(why));
	if (rc == STORE_CONFLICT) {
		/* another builder stored its bytes first: those are the ones */
		free(*env);
		*env = NULL;
		rc = store_issuance_get_content(w->st, is->id, env, envlen);
		if (rc != STORE_OK) {
			api_store_error(j, w, rc, "issuance content");
			return -1;
		}
		return 0;
	}
	if (rc != STORE_OK) {
		free(*env);
		*env = NULL;
		api_write_error(j, w, rc, "issuance content", why);
		return -1;
	}
	return 0;
}

static void
reply_conflict(struct api_job *j)
{
	api_reply_error(j, 409, "idempotency_conflict",
	    "This idempotency key was used for another request.",
	    "この要求番号は別の申請に使われています。");
}

/* A new issuance on its way through the writer: what its answer needs. */
struct issue_write {
	struct api_worker	*w;
	struct api_job		*j;
	struct issuance_req	 q;
	uint8_t			*env;	/* ours, signed for q */
	size_t			 envlen;
	/* the store's answer */
	struct issuance		 out;
	int			 created;
	uint8_t			*stored;	/* another builder's bytes */
	size_t			 stored_len;
};

static int
op_issue_write(struct store *st, void *arg)
{
	struct issue_write *iw = arg;

	/* the writer may run an operation again: drop a previous run's */
	free(iw->stored);
	iw->stored = NULL;
	return store_issuance_create_signed(st, &iw->q, iw->env, iw->envlen,
	    &iw->out, &iw->created, &iw->stored, &iw->stored_len);
}

/* The writer's answer (in the thread that ran the batch). */
static void
issue_written(void *arg, int rc, const char *why)
{
	struct issue_write *iw = arg;

	if (rc == STORE_CONFLICT)
		reply_conflict(iw->j);
	else if (rc != STORE_OK)
		api_write_error(iw->j, iw->w, rc, "issuance create", why);
	else if (iw->created)
		reply_issuance(iw->j, 201, &iw->out, iw->env, iw->envlen);
	else if (iw->stored != NULL)
		/* raced with another builder: its bytes are the answer */
		reply_issuance(iw->j, 200, &iw->out, iw->stored,
		    iw->stored_len);
	else {
		/*
		 * Another builder's row without content yet (the two-step
		 * create, or an older center): building it needs a worker's
		 * own connection, so the request runs again and finds the row.
		 */
		log_info("issuance %s: another builder's row has no content "
		    "yet; running the request again", iw->out.req.public_id);
		api_job_requeue(iw->w, iw->j);
		iw->j = NULL;
	}
	if (iw->j != NULL)
		api_job_done(iw->w, iw->j);
	free(iw->env);
	free(iw->stored);
	free(iw);
}

int
api_issuance_create(struct api_worker *w, struct api_job *j)
{
	static const char *const allowed[] = { "session_id", "document",
	    "options", "copies", "idempotency_key", NULL };
	struct session s;
	struct issuance_req q;
	struct issuance is;
	struct doc_options opt;
	enum doc_type doc;
	json_t *body;
	const char *sid, *dname, *key;
	json_int_t copies;
	uint8_t *env = NULL;
	size_t envlen = 0;
	struct api_records rec;
	struct elig_result e;
	struct resident *chosen = NULL;
	size_t nchosen = 0;
	time_t now = time(NULL);
	struct issue_write *iw;
	char err[160];
	int rc, existed;

	memset(&rec, 0, sizeof(rec));
	memset(&is, 0, sizeof(is));
	if ((body = api_body_object(j, allowed)) == NULL)
		return 0;
	if (api_get_string(j, body, "session_id", 1, 32, 32, &sid) == -1 ||
	    api_get_string(j, body, "document", 1, 1, 32, &dname) == -1 ||
	    api_get_int(j, body, "copies", 1, 1, CENTER_COPIES_MAX,
	    &copies) == -1 ||
	    api_get_string(j, body, "idempotency_key", 1, 16, 64, &key) == -1)
		goto done;
	if (!api_is_hex(sid, 32)) {
		api_bad_request(j, "session_id is not 32 lower-case hex digits");
		goto done;
	}
	if (!key_ok(key)) {
		api_bad_request(j, "idempotency_key is not 16 to 64 of "
		    "[A-Za-z0-9_-]");
		goto done;
	}
	if (doc_type_parse(dname, &doc) == -1) {
		api_bad_request(j, "unknown document type");
		goto done;
	}
	if (doc_options_parse(json_object_get(body, "options"), doc, &opt,
	    err, sizeof(err)) == -1) {
		api_bad_request(j, err);
		goto done;
	}

	if (doc == DOC_TAX && opt.fiscal_year == 0)
		opt.fiscal_year = elig_tax_fiscal_year(&w->c->cfg->elig, now);

	rc = store_session_get(w->st, sid, &s);
	if (rc == STORE_NOTFOUND) {
		reply_not_found(j, "No such session.",
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
	if (s.state != SESSION_AUTHENTICATED || s.resident_id <= 0) {
		api_reply_error(j, 409, "session_not_authenticated",
		    "The session has not been authenticated.",
		    "本人確認が完了していません。");
		goto done;
	}

	memset(&q, 0, sizeof(q));
	(void)snprintf(q.idempotency_key, sizeof(q.idempotency_key), "%s",
	    key);
	(void)snprintf(q.session_id, sizeof(q.session_id), "%s", s.id);
	(void)snprintf(q.kiosk_id, sizeof(q.kiosk_id), "%s", s.kiosk_id);
	q.resident_id = s.resident_id;
	(void)snprintf(q.document, sizeof(q.document), "%s",
	    doc_type_name(doc));
	if (doc_options_canonical(&opt, doc, q.options, sizeof(q.options)) ==
	    -1) {
		api_bad_request(j, "options too large");
		goto done;
	}
	q.copies = (int)copies;
	q.fee_yen = w->c->cfg->fees[doc] * (int)copies;
	q.now = now;
	if (api_random_hex(q.public_id, STORE_PUBID_LEN / 2) == -1) {
		api_reply_text(j, 500, NULL);
		goto done;
	}

	/* a key seen before answers for itself, even after the lifetime */
	rc = store_issuance_get_by_key(w->st, key, &is);
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		api_store_error(j, w, rc, "issuance by key");
		goto done;
	}
	existed = rc == STORE_OK;
	if (existed && !store_issuance_same_request(&is.req, &q)) {
		reply_conflict(j);
		goto done;
	}
	if (existed && is.has_content) {
		/* stored row and content never change: a read answers */
		rc = store_issuance_get_content(w->st, is.id, &env, &envlen);
		if (rc != STORE_OK) {
			api_store_error(j, w, rc, "issuance content");
			goto done;
		}
		reply_issuance(j, 200, &is, env, envlen);
		goto done;
	}
	if (!existed && s.auth_at + w->c->cfg->session_lifetime <= now) {
		api_reply_error(j, 410, "session_expired",
		    "The session has expired. Please start again.",
		    "セッションの有効時間が過ぎました。最初からやり直してください。");
		goto done;
	}
	/* this request's records; eligibility before any row exists */
	rc = store_resident_get(w->st, s.resident_id, &rec.res);
	if (rc != STORE_OK) {
		api_store_error(j, w, rc == STORE_NOTFOUND ? STORE_ERR : rc,
		    "resident of the session");
		goto done;
	}
	if (api_records_load(w, j, records_for(doc), now, &rec) == -1)
		goto done;
	rc = api_eligible(w->c, &rec, doc, &opt, now, &e, &chosen, &nchosen);
	if (rc == -1) {
		api_reply_text(j, 500, NULL);
		goto done;
	}
	if (rc != ELIG_OK) {
		if (strcmp(e.code, "invalid_request") == 0)
			api_bad_request(j, "options do not fit this "
			    "resident's records (member index)");
		else
			api_not_eligible(j, &e);
		goto done;
	}
	if (existed) {
		/* a row without content: built for that row, stored once */
		if (make_content(w, j, &s, &is, &opt, doc, &rec, chosen,
		    nchosen, &env, &envlen) == -1)
			goto done;
		reply_issuance(j, 200, &is, env, envlen);
		goto done;
	}
	/*
	 * Signed for the row about to be made; one write stores both.  The
	 * write goes to the writer with the job: its answer replies once the
	 * row is durable, and this worker takes the next job instead of
	 * sleeping through the commit.
	 */
	if (build_signed(w, j, &s, &q, &opt, doc, &rec, chosen, nchosen,
	    &env, &envlen) == -1)
		goto done;
	if ((iw = calloc(1, sizeof(*iw))) == NULL) {
		api_reply_text(j, 500, NULL);
		goto done;
	}
	iw->w = w;
	iw->j = j;
	iw->q = q;
	iw->env = env;
	iw->envlen = envlen;
	env = NULL;
	free(chosen);
	chosen = NULL;
	api_records_free(&rec);
	json_decref(body);
	body = NULL;
	if (writer_submit(w->c->writer, op_issue_write, iw,
	    issue_written) == 0)
		return 1;	/* j may be answered and gone already */
	free(iw->env);
	free(iw);
	api_write_error(j, w, STORE_ERR, "issuance create",
	    "the writer has stopped");
done:
	free(env);
	free(chosen);
	api_records_free(&rec);
	json_decref(body);
	return 0;
}

static void
reply_result_conflict(struct api_job *j)
{
	api_reply_error(j, 409, "result_conflict",
	    "The other outcome has already been recorded.",
	    "この交付の結果はすでに別の内容で記録されています。");
}

static void
reply_result(struct api_job *j, const char *public_id,
    enum issuance_state want, int changed)
{
	json_t *o;

	o = json_pack("{s:s,s:s}", "issuance_id", public_id, "state",
	    want == ISSUANCE_COMMITTED ? "committed" : "voided");
	api_reply_json(j, 200, o);
	(void)snprintf(j->note, sizeof(j->note), "issuance %s %s%s",
	    public_id, want == ISSUANCE_COMMITTED ? "printed" : "failed",
	    changed ? "" : " (again)");
}

/* A result on its way through the writer: what its answer needs. */
struct result_write {
	struct api_worker	*w;
	struct api_job		*j;
	int64_t			 id;
	enum issuance_state	 state;
	int			 pages;
	int64_t			 now;
	int			 changed;	/* the store's answer */
	char			 public_id[STORE_PUBID_LEN + 1];
};

static int
op_result_write(struct store *st, void *arg)
{
	struct result_write *rw = arg;

	return store_issuance_set_result(st, rw->id, rw->state, rw->pages,
	    rw->now, &rw->changed);
}

/* The writer's answer (in the thread that ran the batch). */
static void
result_written(void *arg, int rc, const char *why)
{
	struct result_write *rw = arg;

	if (rc == STORE_CONFLICT)
		reply_result_conflict(rw->j);
	else if (rc != STORE_OK)
		api_write_error(rw->j, rw->w, rc, "issuance result", why);
	else
		reply_result(rw->j, rw->public_id, rw->state, rw->changed);
	api_job_done(rw->w, rw->j);
	free(rw);
}

int
api_issuance_result(struct api_worker *w, struct api_job *j)
{
	static const char *const allowed[] = { "status", "pages", NULL };
	struct issuance is;
	enum issuance_state want;
	json_t *body;
	const char *status;
	json_int_t pages;
	struct result_write *rw;
	int rc;

	if ((body = api_body_object(j, allowed)) == NULL)
		return 0;
	if (api_get_string(j, body, "status", 1, 1, 16, &status) == -1 ||
	    api_get_int(j, body, "pages", 1, 0, CENTER_PAGES_MAX, &pages) ==
	    -1)
		goto done;
	if (strcmp(status, "printed") == 0)
		want = ISSUANCE_COMMITTED;
	else if (strcmp(status, "failed") == 0)
		want = ISSUANCE_VOIDED;
	else {
		api_bad_request(j, "status is not \"printed\" or \"failed\"");
		goto done;
	}
	rc = store_issuance_get_by_public_id(w->st, j->path_id, &is);
	if (rc == STORE_NOTFOUND) {
		reply_not_found(j, "No such issuance.",
		    "証明書の交付記録が見つかりません。");
		goto done;
	} else if (rc != STORE_OK) {
		api_store_error(j, w, rc, "issuance get");
		goto done;
	}
	if (strcmp(is.req.kiosk_id, j->kiosk_id) != 0) {
		api_reply_error(j, 403, "wrong_kiosk",
		    "This issuance belongs to another kiosk.",
		    "この交付は別の端末のものです。");
		goto done;
	}
	if (is.state == want) {
		/* the same outcome again: nothing to write */
		reply_result(j, is.req.public_id, want, 0);
		goto done;
	}
	if (is.state != ISSUANCE_ISSUED) {
		reply_result_conflict(j);
		goto done;
	}
	/*
	 * The write goes to the writer with the job: its answer replies
	 * once the result is durable, and this worker takes the next job
	 * instead of sleeping through the commit.
	 */
	if ((rw = calloc(1, sizeof(*rw))) == NULL) {
		api_reply_text(j, 500, NULL);
		goto done;
	}
	rw->w = w;
	rw->j = j;
	rw->id = is.id;
	rw->state = want;
	rw->pages = (int)pages;
	rw->now = (int64_t)time(NULL);
	(void)snprintf(rw->public_id, sizeof(rw->public_id), "%s",
	    is.req.public_id);
	json_decref(body);
	body = NULL;
	if (writer_submit(w->c->writer, op_result_write, rw,
	    result_written) == 0)
		return 1;	/* j may be answered and gone already */
	free(rw);
	api_write_error(j, w, STORE_ERR, "issuance result",
	    "the writer has stopped");
done:
	json_decref(body);
	return 0;
}
