/*
 * The backend worker: the only process that loads the kiosk's TLS key.
 * It turns the core's requests into calls of the asynchronous center
 * client (kioskd/backend, center/API.md) and its answers into messages,
 * each with the session id of its request.  Checks of what the center
 * says are libbackend's; the core checks the messages again.
 *
 * On a center error the tail of AUTH_RESULT / ISSUE_RESULT is
 * {"message": "...", "message_ja": "..."} (the center's own texts, for the
 * screen); on success AUTH_RESULT carries the validated 200 body and
 * ISSUE_RESULT the signed content, then its signature.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "backend.h"
#include "config.h"
#include "core.h"
#include "log.h"
#include "msg.h"
#include "proc.h"
#include "util.h"

/* Free what jansson allocated (json_dumps): its own free function, which
   in kioskd wipes. */
static void
json_release(void *p)
{
	json_malloc_t m;
	json_free_t f;

	if (p == NULL)
		return;
	json_get_alloc_funcs(&m, &f);
	f(p);
}

struct bw {
	struct proc_child	*c;
	struct backend		*b;
};

/* One request in flight: who asked. */
struct bw_req {
	struct bw	*w;
	uint64_t	 sid;
	uint32_t	 type;
	char		 issuance_id[MSG_CENTER_ID_LEN];
};

static struct bw_req *
req_new(struct bw *w, const struct msg *m)
{
	struct bw_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("backend request");
		return NULL;
	}
	r->w = w;
	r->sid = m->hdr.sid;
	r->type = m->hdr.type;
	return r;
}

static int32_t
status_of(const struct backend_error *e)
{
	switch (e->kind) {
	case BACKEND_OK:
		return MSG_BACKEND_OK;
	case BACKEND_E_CONNECT:
	case BACKEND_E_IO:
		return MSG_BACKEND_UNREACHABLE;
	case BACKEND_E_TLS:
		return MSG_BACKEND_TLS;
	case BACKEND_E_TIMEOUT:
		return MSG_BACKEND_TIMEOUT;
	case BACKEND_E_PROTOCOL:
		return MSG_BACKEND_BAD_RESPONSE;
	case BACKEND_E_SERVER:
		return MSG_BACKEND_CENTER_ERROR;
	case BACKEND_E_SHUTDOWN:
	case BACKEND_E_INTERNAL:
		return MSG_BACKEND_INTERNAL;
	}
	return MSG_BACKEND_INTERNAL;
}

static void
error_of(const struct backend_error *e, struct msg_backend_error *out)
{
	memset(out, 0, sizeof(*out));
	out->http_status = e->http_status > 0 ? (uint32_t)e->http_status : 0;
	if (e->kind == BACKEND_E_SERVER) {
		(void)msg_str_set(out->code, sizeof(out->code), e->code);
		(void)msg_str_set(out->reason, sizeof(out->reason), e->reason);
	}
	if (e->kind != BACKEND_OK)
		log_info("center: %s%s%s", backend_errkind_name(e->kind),
		    e->code[0] != '\0' ? " " : "", e->code);
}

/* {"message","message_ja"} of a center error, or NULL. */
static char *
error_json(const struct backend_error *e)
{
	json_t *j;
	char *s;

	if (e->kind != BACKEND_E_SERVER)
		return NULL;
	j = json_pack("{s:s, s:s}", "message", e->message, "message_ja",
	    e->message_ja);
	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s != NULL && strlen(s) > MSG_MAX_PAYLOAD / 2) {
		json_release(s);
		return NULL;
	}
	return s;
}

static void
status_cb(const struct backend_error *e, const struct backend_status *st,
    void *arg)
{
	struct bw_req *r = arg;
	struct msg_backend_status m;

	memset(&m, 0, sizeof(m));
	m.status = status_of(e);
	error_of(e, &m.error);
	if (st != NULL) {
		m.rtt_ms = st->rtt_ms > 0 ? (uint32_t)st->rtt_ms : 0;
		m.last_ok = (int64_t)time(NULL);
	}
	if (proc_child_send(r->w->c, MSG_BACKEND_STATUS, r->sid, &m,
	    sizeof(m)) == -1)
		log_warn("BACKEND_STATUS");
	free(r);
}

static void
session_cb(const struct backend_error *e, const struct backend_session *bs,
    void *arg)
{
	struct bw_req *r = arg;
	struct msg_backend_session_result m;

	memset(&m, 0, sizeof(m));
	m.status = status_of(e);
	error_of(e, &m.error);
	if (bs != NULL) {
		if (msg_str_set(m.center_sid, sizeof(m.center_sid),
		    bs->session_id) == -1)
			m.status = MSG_BACKEND_BAD_RESPONSE;
		memcpy(m.challenge, bs->challenge, sizeof(bs->challenge));
		m.challenge_len = sizeof(bs->challenge);
		m.expires_in = bs->expires_in > 0 ? (uint32_t)bs->expires_in :
		    0;
	}
	if (proc_child_send(r->w->c, MSG_BACKEND_SESSION_RESULT, r->sid, &m,
	    sizeof(m)) == -1)
		log_warn("BACKEND_SESSION_RESULT");
	secure_wipe(&m, sizeof(m));
	free(r);
}

static void
auth_cb(const struct backend_error *e, const struct backend_auth *a,
    void *arg)
{
	struct bw_req *r = arg;
	struct msg_backend_auth_result m;
	struct iovec iov[2];
	char *ej = NULL;

	memset(&m, 0, sizeof(m));
	m.status = status_of(e);
	error_of(e, &m.error);
	iov[0].iov_base = &m;
	iov[0].iov_len = sizeof(m);
	iov[1].iov_base = NULL;
	iov[1].iov_len = 0;
	if (a != NULL) {
		if (a->json_len > MSG_MAX_PAYLOAD - sizeof(m)) {
			log_warnx("auth answer of %zu bytes is too large",
			    a->json_len);
			m.status = MSG_BACKEND_BAD_RESPONSE;
		} else {
			log_info("auth: resident %s, %zu documents",
			    a->resident_ref, a->ndocs);
			iov[1].iov_base = (void *)(uintptr_t)a->json;
			iov[1].iov_len = a->json_len;
		}
	} else if ((ej = error_json(e)) != NULL) {
		iov[1].iov_base = ej;
		iov[1].iov_len = strlen(ej);
	}
	m.json_len = (uint32_t)iov[1].iov_len;
	if (proc_child_sendv(r->w->c, MSG_BACKEND_AUTH_RESULT, r->sid, iov,
	    iov[1].iov_len > 0 ? 2 : 1) == -1)
		log_warn("BACKEND_AUTH_RESULT");
	json_release(ej);
	free(r);
}

static void
issue_cb(const struct backend_error *e, const struct backend_issuance *is,
    void *arg)
{
	struct bw_req *r = arg;
	struct msg_backend_issue_result m;
	struct iovec iov[3];
	char *ej = NULL;
	int n = 1;

	memset(&m, 0, sizeof(m));
	m.status = status_of(e);
	error_of(e, &m.error);
	iov[0].iov_base = &m;
	iov[0].iov_len = sizeof(m);
	if (is != NULL) {
		if (is->content_len + is->sig_len > MSG_MAX_PAYLOAD - sizeof(m) ||
		    msg_str_set(m.issuance_id, sizeof(m.issuance_id),
		    is->issuance_id) == -1 ||
		    msg_str_set(m.code, sizeof(m.code), is->code) == -1) {
			log_warnx("issuance %s: %zu bytes of content do not "
			    "fit a message", is->issuance_id, is->content_len);
			m.status = MSG_BACKEND_BAD_RESPONSE;
		} else {
			log_info("issuance %s %s (%d copies)", is->issuance_id,
			    is->created ? "created" : "replayed", is->copies);
			m.fee_yen = is->fee_yen > 0 ? (uint32_t)is->fee_yen : 0;
			m.copies = is->copies > 0 ? (uint32_t)is->copies : 0;
			m.content_len = (uint32_t)is->content_len;
			m.sig_len = (uint32_t)is->sig_len;
			iov[1].iov_base = (void *)(uintptr_t)is->content;
			iov[1].iov_len = is->content_len;
			iov[2].iov_base = (void *)(uintptr_t)is->signature;
			iov[2].iov_len = is->sig_len;
			n = 3;
		}
	} else if ((ej = error_json(e)) != NULL) {
		iov[1].iov_base = ej;
		iov[1].iov_len = strlen(ej);
		n = 2;
	}
	if (proc_child_sendv(r->w->c, MSG_BACKEND_ISSUE_RESULT, r->sid, iov,
	    n) == -1)
		log_warn("BACKEND_ISSUE_RESULT");
	json_release(ej);
	free(r);
}

static void
result_cb(const struct backend_error *e, const struct backend_result *res,
    void *arg)
{
	struct bw_req *r = arg;
	struct msg_backend_report_result m;

	memset(&m, 0, sizeof(m));
	m.status = status_of(e);
	error_of(e, &m.error);
	memcpy(m.issuance_id, r->issuance_id, sizeof(m.issuance_id));
	if (res != NULL)
		m.state = res->committed ? MSG_ISSUANCE_COMMITTED :
		    MSG_ISSUANCE_VOIDED;
	if (proc_child_send(r->w->c, MSG_BACKEND_REPORT_RESULT, r->sid, &m,
	    sizeof(m)) == -1)
		log_warn("BACKEND_REPORT_RESULT");
	free(r);
}

/* What the center expects as ids: 32 hex chars. */
static int
id_ok(const char *s, size_t size)
{
	size_t i;

	if (!msg_str_ok(s, size) || strlen(s) != BACKEND_ID_LEN)
		return 0;
	for (i = 0; i < BACKEND_ID_LEN; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	return 1;
}

static void
bw_handler(struct proc_child *c, const struct msg *m, void *arg)
{
	struct bw *w = arg;
	struct msg_backend_auth_req ar;
	struct msg_backend_issue_req ir;
	struct msg_backend_report_req rr;
	struct bw_req *r = NULL;
	const uint8_t *tail;
	char options[MSG_OPTIONS_MAX + 1];
	uint64_t id = 0;

	memset(&rr, 0, sizeof(rr));

	switch (m->hdr.type) {
	case MSG_BACKEND_STATUS_REQ:
	case MSG_BACKEND_SESSION_REQ:
		if (m->len != 0) {
			proc_child_fail(c, msg_type_name(m->hdr.type));
			return;
		}
		if ((r = req_new(w, m)) == NULL)
			break;
		id = m->hdr.type == MSG_BACKEND_STATUS_REQ ?
		    backend_status(w->b, status_cb, r) :
		    backend_session_new(w->b, session_cb, r);
		break;
	case MSG_BACKEND_AUTH_REQ:
		if (m->len < sizeof(ar)) {
			proc_child_fail(c, "short BACKEND_AUTH_REQ");
			return;
		}
		memcpy(&ar, m->data, sizeof(ar));
		if (msg_get_tail(m, sizeof(ar), ar.cert_len, MSG_CERT_MAX,
		    &tail) == -1 || ar.sig_len == 0 ||
		    ar.sig_len > sizeof(ar.sig) ||
		    !id_ok(ar.center_sid, sizeof(ar.center_sid))) {
			proc_child_fail(c, "malformed BACKEND_AUTH_REQ");
			return;
		}
		if ((r = req_new(w, m)) == NULL)
			break;
		id = backend_auth(w->b, ar.center_sid, tail, ar.cert_len,
		    ar.sig, ar.sig_len, auth_cb, r);
		secure_wipe(&ar, sizeof(ar));
		break;
	case MSG_BACKEND_ISSUE_REQ:
		if (m->len < sizeof(ir)) {
			proc_child_fail(c, "short BACKEND_ISSUE_REQ");
			return;
		}
		memcpy(&ir, m->data, sizeof(ir));
		if (msg_get_tail(m, sizeof(ir), ir.options_len,
		    MSG_OPTIONS_MAX, &tail) == -1 ||
		    !id_ok(ir.center_sid, sizeof(ir.center_sid)) ||
		    !msg_str_ok(ir.document, sizeof(ir.document)) ||
		    !msg_str_ok(ir.idempotency_key,
		    sizeof(ir.idempotency_key)) || ir.copies == 0 ||
		    ir.copies > BACKEND_MAX_COPIES ||
		    memchr(tail, '\0', ir.options_len) != NULL) {
			proc_child_fail(c, "malformed BACKEND_ISSUE_REQ");
			return;
		}
		memcpy(options, tail, ir.options_len);
		options[ir.options_len] = '\0';
		if ((r = req_new(w, m)) == NULL)
			break;
		id = backend_issue(w->b, ir.center_sid, ir.document,
		    ir.options_len > 0 ? options : "{}", (int)ir.copies,
		    ir.idempotency_key, issue_cb, r);
		break;
	case MSG_BACKEND_REPORT_REQ:
		if (msg_expect_len(m, sizeof(rr)) == -1) {
			proc_child_fail(c, "BACKEND_REPORT_REQ");
			return;
		}
		memcpy(&rr, m->data, sizeof(rr));
		if (!id_ok(rr.issuance_id, sizeof(rr.issuance_id)) ||
		    (rr.outcome != MSG_PRINTED &&
		    rr.outcome != MSG_PRINT_FAILED) ||
		    rr.pages > BACKEND_MAX_PAGES) {
			proc_child_fail(c, "malformed BACKEND_REPORT_REQ");
			return;
		}
		if ((r = req_new(w, m)) == NULL)
			break;
		memcpy(r->issuance_id, rr.issuance_id, sizeof(r->issuance_id));
		id = backend_result(w->b, rr.issuance_id,
		    rr.outcome == MSG_PRINTED ? BACKEND_PRINTED :
		    BACKEND_FAILED, (int)rr.pages, result_cb, r);
		break;
	default:
		proc_child_fail(c, msg_type_name(m->hdr.type));
		return;
	}
	if (id == 0) {
		/* refused at once: answer as an internal failure */
		struct backend_error e;

		memset(&e, 0, sizeof(e));
		e.kind = BACKEND_E_INTERNAL;
		log_warnx("%s could not be queued", msg_type_name(m->hdr.type));
		/* the callback was not armed: r is still ours */
		if (r == NULL && (r = req_new(w, m)) == NULL)
			return;
		switch (m->hdr.type) {
		case MSG_BACKEND_STATUS_REQ:
			status_cb(&e, NULL, r);
			break;
		case MSG_BACKEND_SESSION_REQ:
			session_cb(&e, NULL, r);
			break;
		case MSG_BACKEND_AUTH_REQ:
			auth_cb(&e, NULL, r);
			break;
		case MSG_BACKEND_ISSUE_REQ:
			issue_cb(&e, NULL, r);
			break;
		default:
			memcpy(r->issuance_id, rr.issuance_id,
			    sizeof(r->issuance_id));
			result_cb(&e, NULL, r);
			break;
		}
	}
}

int
backend_worker_main(struct proc_child *c, void *arg)
{
	const struct kiosk_conf *conf = arg;
	struct backend_config cfg;
	struct bw w;
	char err[512];
	int rc;

	/* libbackend frees what json_dumps returns with free(): the plain
	   allocator here (the core's wipes, see kioskd.c) */
	json_set_alloc_funcs(malloc, free);
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = conf->center.url;
	cfg.ca_file = conf->center.ca;
	cfg.cert_file = conf->center.client_cert;
	cfg.key_file = conf->center.client_key;
	cfg.timeout_ms = (int)conf->center.timeout * 1000;
	memset(&w, 0, sizeof(w));
	w.c = c;
	if ((w.b = backend_new(proc_child_base(c), &cfg, err,
	    sizeof(err))) == NULL) {
		log_warnx("center client: %s", err);
		return 1;
	}
	proc_child_set_handler(c, bw_handler, &w);
	log_info("backend worker up, center %s", conf->center.url);
	rc = proc_child_run(c);
	backend_free(w.b);
	return rc;
}
