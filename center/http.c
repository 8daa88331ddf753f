/*
 * evhttp + bufferevent_openssl glue, request checks and the worker pool;
 * see http.h.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http.h"
#include "log.h"
#include "util.h"

struct http_server {
	struct event_base	*base;
	SSL_CTX			*ssl;
	const struct center	*c;
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	X509_CRL		*fleet_crl;	/* loop thread only */

	/* the pool */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct api_job		*queue_head, *queue_tail;
	size_t			 queued;
	struct api_job		*done;		/* finished, LIFO */
	size_t			 working;	/* taken, not yet answered */
	pthread_cond_t		 answered;	/* working went down */
	int			 stopping;
	int			 nthreads;
	int			 nstarted;
	pthread_t		*threads;
	struct api_worker	*workers;
	struct api_worker	 loop_worker;	/* routes run in the loop */
	int			 notify[2];	/* workers -> loop */
	struct event		*notify_ev;
	struct event		*purge_ev;
	struct event		*drain_ev;
	size_t			 inflight;	/* loop thread only */
	size_t			 sending;	/* replies of the drain, unwritten */
	int			 shutting_down;
};

/* --- TLS ------------------------------------------------------------ */

static void
ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	(void)snprintf(err, errlen, "%s %s: %s", what, path, e ? buf : "failed");
	ERR_clear_error();
}

static X509_CRL *
load_crl(const char *path, char *err, size_t errlen)
{
	X509_CRL *crl = NULL;
	BIO *b;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		ssl_err(err, errlen, "cannot open CRL", path);
		return NULL;
	}
	crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	if (crl == NULL) {
		(void)BIO_reset(b);
		ERR_clear_error();
		crl = d2i_X509_CRL_bio(b, NULL);
	}
	BIO_free(b);
	if (crl == NULL)
		ssl_err(err, errlen, "cannot read CRL", path);
	return crl;
}

static X509_STORE *
client_store(const struct center_config *cfg, char *err, size_t errlen)
{
	X509_STORE *st;
	X509_CRL *crl;

	if ((st = X509_STORE_new()) == NULL) {
		ssl_err(err, errlen, "X509_STORE_new", "");
		return NULL;
	}
	if (X509_STORE_load_file(st, cfg->client_ca) != 1) {
		ssl_err(err, errlen, "cannot load client CA", cfg->client_ca);
		X509_STORE_free(st);
		return NULL;
	}
	if (cfg->client_crl[0] != '\0') {
		if ((crl = load_crl(cfg->client_crl, err, errlen)) == NULL) {
			X509_STORE_free(st);
			return NULL;
		}
		if (X509_STORE_add_crl(st, crl) != 1) {
			X509_CRL_free(crl);
			ssl_err(err, errlen, "cannot use CRL", cfg->client_crl);
			X509_STORE_free(st);
			return NULL;
		}
		X509_CRL_free(crl);
		(void)X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
	return st;
}

SSL_CTX *
http_tls_new(const struct center_config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	X509_STORE *st;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ssl_err(err, errlen, "SSL_CTX_new", "");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		ssl_err(err, errlen, "cannot require", "TLS 1.3");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
		ssl_err(err, errlen, "cannot load certificate", cfg->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) !=
	    1 || SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "cannot load key", cfg->key);
		goto fail;
	}
	if ((st = client_store(cfg, err, errlen)) == NULL)
		goto fail;
	SSL_CTX_set_cert_store(ctx, st);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 3);
	(void)SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)"kiosk-centerd", 13);
	(void)SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	(void)SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
http_tls_reload(SSL_CTX *ctx, const struct center_config *cfg, char *err,
    size_t errlen)
{
	X509_STORE *st;

	if ((st = client_store(cfg, err, errlen)) == NULL)
		return -1;
	SSL_CTX_set_cert_store(ctx, st);
	return 0;
}

static struct bufferevent *
bev_new(struct event_base *base, void *arg)
{
	struct http_server *h = arg;
	struct bufferevent *bev;
	SSL *ssl;

	if ((ssl = SSL_new(h->ssl)) == NULL) {
		log_warnx("SSL_new failed");
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		log_warnx("bufferevent_openssl_socket_new failed");
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* --- replies in the loop thread -------------------------------------- */

static void
job_free(struct api_job *j)
{
	if (j == NULL)
		return;
	free(j->body);
	free(j->reply);
	api_auth_park_free(j->park);
	free(j);
}

static void
send_json(struct evhttp_request *req, int status, const char *json,
    size_t len, int close_after)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ?
	    evhttp_connection_get_bufferevent(evcon) : NULL;
	struct evbuffer *buf;

	if ((buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (evhttp_add_header(hdr, "Content-Type", "application/json") != 0 ||
	    evhttp_add_header(hdr, "Cache-Control", "no-store") != 0 ||
	    (close_after && evhttp_add_header(hdr, "Connection", "close") !=
	    0) || evbuffer_add(buf, json, len) != 0) {
		evbuffer_free(buf);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_send_reply(req, status, NULL, buf);
	evbuffer_free(buf);
	/*
	 * evhttp leaves the headers and the body in two chains of the
	 * output buffer, and bufferevent_openssl writes each chain as a TLS
	 * record of its own, with a write() each.  The write itself waits
	 * for the loop, so one chain now means one record and one write.
	 */
	if (bev != NULL)
		(void)evbuffer_pullup(bufferevent_get_output(bev), -1);
}

/* An error answered by the loop thread itself (routing, bounds). */
static void
loop_error(struct evhttp_request *req, int status, const char *code,
    const char *en, const char *ja, int close_after)
{
	const char *uri = evhttp_request_get_uri(req);
	struct api_job j;
	char path[96];

	if (uri == NULL)
		uri = "?";
	memset(&j, 0, sizeof(j));
	api_reply_error(&j, status, code, en, ja);
	if (j.reply == NULL)
		evhttp_send_error(req, 500, NULL);
	else
		send_json(req, j.status, j.reply, j.reply_len, close_after);
	free(j.reply);
	log_debug("%s -> %d %s", log_escape(path, sizeof(path), uri,
	    strlen(uri)), status, code);
}

static const char *
route_name(enum api_route r)
{
	switch (r) {
	case ROUTE_SESSIONS:
		return "POST /v1/sessions";
	case ROUTE_SESSION_AUTH:
		return "POST /v1/sessions/-/auth";
	case ROUTE_ISSUANCES:
		return "POST /v1/issuances";
	case ROUTE_ISSUANCE_RESULT:
		return "POST /v1/issuances/-/result";
	default:
		return "-";
	}
}

/* Leave the loop once the drain is over: no job and no reply left. */
static void
drained(struct http_server *h)
{
	if (h->shutting_down && h->inflight == 0 && h->sending == 0)
		(void)event_base_loopexit(h->base, NULL);
}

/* A reply made while draining has reached the socket. */
static void
on_sent(struct evhttp_request *req, void *arg)
{
	struct http_server *h = arg;

	(void)req;
	if (h->sending > 0)
		h->sending--;
	drained(h);
}

static void
finish(struct http_server *h, struct api_job *j)
{
	if (j->req != NULL) {
		if (j->reply == NULL)
			api_reply_text(j, 500, NULL);
		/* while draining, the loop ends only after the reply is
		   written, and the connection closes after it (a connection
		   the kiosk drops first leaves it to the drain timer) */
		if (h->shutting_down) {
			evhttp_request_set_on_complete_cb(j->req, on_sent, h);
			h->sending++;
		}
		send_json(j->req, j->status, j->reply, j->reply_len,
		    h->shutting_down);
		/* the note names sessions and issuances by id, never a person */
		log_debug("%s %s -> %d %.1f ms: %s", j->kiosk_id,
		    route_name(j->route), j->status, ms_since(&j->started),
		    j->note);
	}
	job_free(j);
	if (h->inflight > 0)
		h->inflight--;
	drained(h);
}

static void
on_notify(evutil_socket_t fd, short ev, void *arg)
{
	struct http_server *h = arg;
	struct api_job *list, *next;
	char buf[256];

	(void)ev;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (pthread_mutex_lock(&h->mu) != 0)
		fatalx("mutex");
	list = h->done;
	h->done = NULL;
	(void)pthread_mutex_unlock(&h->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		finish(h, list);
	}
}

/* --- the pool -------------------------------------------------------- */

int
api_dispatch(struct api_worker *w, struct api_job *j)
{
	switch (j->route) {
	case ROUTE_SESSIONS:
		api_session_create(w, j);
		break;
	case ROUTE_SESSION_AUTH:
		return api_session_auth(w, j);
	case ROUTE_ISSUANCES:
		return api_issuance_create(w, j);
	case ROUTE_ISSUANCE_RESULT:
		return api_issuance_result(w, j);
	case ROUTE_PURGE:
		api_purge(w, j);
		break;
	default:
		api_reply_error(j, 404, "not_found", "Not found.",
		    "見つかりません。");
		break;
	}
	return 0;
}

/*
 * The reply of a job a worker took is in it: to the loop.  From the
 * worker, or from the writer's answer when the handler handed it on.
 */
static void
job_done(struct http_server *h, struct api_job *j)
{
	int was_empty;

	if (pthread_mutex_lock(&h->mu) != 0)
		fatalx("mutex");
	was_empty = h->done == NULL;
	j->next = h->done;
	h->done = j;
	h->working--;
	(void)pthread_cond_broadcast(&h->answered);
	(void)pthread_mutex_unlock(&h->mu);
	if (was_empty && write(h->notify[1], "j", 1) == -1 &&
	    errno != EAGAIN)
		log_warn("notify");
}

void
api_job_done(struct api_worker *w, struct api_job *j)
{
	job_done(w->server, j);
}

/*
 * A job handed to the writer that must run its handler again: first in
 * the queue (it was admitted long ago), taken by a worker like any other.
 * Once the pool is stopping no worker may be left to take it, so it is
 * answered "busy" instead and the kiosk retries with the same request.
 */
void
api_job_requeue(struct api_worker *w, struct api_job *j)
{
	struct http_server *h = w->server;

	if (pthread_mutex_lock(&h->mu) != 0)
		fatalx("mutex");
	if (h->stopping) {
		(void)pthread_mutex_unlock(&h->mu);
		api_reply_error(j, 503, "busy",
		    "The center is restarting. Please try again.",
		    "ただいま混み合っています。しばらくしてからやり直してください。");
		job_done(h, j);
		return;
	}
	j->next = h->queue_head;
	h->queue_head = j;
	if (h->queue_tail == NULL)
		h->queue_tail = j;
	h->queued++;
	h->working--;
	(void)pthread_cond_broadcast(&h->answered);
	(void)pthread_cond_signal(&h->cv);
	(void)pthread_mutex_unlock(&h->mu);
}

static void *
worker_main(void *arg)
{
	struct api_worker *w = arg;
	struct http_server *h = w->server;
	struct api_job *j;

	for (;;) {
		if (pthread_mutex_lock(&h->mu) != 0)
			fatalx("mutex");
		while (h->queue_head == NULL && !h->stopping)
			(void)pthread_cond_wait(&h->cv, &h->mu);
		if (h->queue_head == NULL) {
			(void)pthread_mutex_unlock(&h->mu);
			break;
		}
		j = h->queue_head;
		h->queue_head = j->next;
		if (h->queue_head == NULL)
			h->queue_tail = NULL;
		h->queued--;
		/* counted before the handler runs: the writer may answer
		   (api_job_done) before api_dispatch returns */
		h->working++;
		(void)pthread_mutex_unlock(&h->mu);

		j->next = NULL;
		if (api_dispatch(w, j) == 0)
			job_done(h, j);
	}
	return NULL;
}

/* Queue a job (loop thread).  -1 when the queue is full. */
static int
submit(struct http_server *h, struct api_job *j)
{
	if (pthread_mutex_lock(&h->mu) != 0)
		fatalx("mutex");
	if (h->queued >= CENTER_QUEUE_MAX || h->stopping) {
		(void)pthread_mutex_unlock(&h->mu);
		return -1;
	}
	j->next = NULL;
	if (h->queue_tail != NULL)
		h->queue_tail->next = j;
	else
		h->queue_head = j;
	h->queue_tail = j;
	h->queued++;
	(void)pthread_cond_signal(&h->cv);
	(void)pthread_mutex_unlock(&h->mu);
	h->inflight++;
	return 0;
}

/* --- requests -------------------------------------------------------- */

/*
 * The kiosk is the client certificate's CN, checked against the fleet
 * CRL on every request too (a long keep-alive connection does not outlive
 * a revocation).  0, or -1 after an answer.
 */
static int
kiosk_identity(struct http_server *h, struct evhttp_request *req,
    char *out, size_t outlen)
{
	struct evhttp_connection *evcon;
	struct bufferevent *bev;
	X509_REVOKED *rev = NULL;
	X509_NAME *subj;
	X509 *peer;
	SSL *ssl;
	int n, i;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(bev)) == NULL ||
	    (peer = SSL_get0_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		goto refuse;
	if ((subj = X509_get_subject_name(peer)) == NULL)
		goto refuse;
	n = X509_NAME_get_text_by_NID(subj, NID_commonName, out, (int)outlen);
	if (n < 1 || (size_t)n >= outlen)
		goto refuse;
	for (i = 0; i < n; i++)
		if (!((out[i] >= 'A' && out[i] <= 'Z') ||
		    (out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= '0' && out[i] <= '9') || out[i] == '-'))
			goto refuse;
	if (h->fleet_crl != NULL && X509_CRL_get0_by_serial(h->fleet_crl, &rev,
	    X509_get0_serialNumber(peer)) == 1) {
		log_warnx("kiosk %s: certificate revoked", out);
		loop_error(req, 403, "kiosk_revoked",
		    "This kiosk's certificate has been revoked.",
		    "この端末の証明書は失効しています。", 1);
		return -1;
	}
	return 0;
refuse:
	loop_error(req, 403, "kiosk_unknown",
	    "The kiosk could not be identified.",
	    "端末を確認できませんでした。", 1);
	return -1;
}

/* Path -> route; the id of the path into id.  -1: no such path. */
static int
route_of(const char *path, enum api_route *r, char *id, size_t idlen)
{
	static const char sess[] = "/v1/sessions/", iss[] = "/v1/issuances/";
	const char *p, *tail;

	id[0] = '\0';
	if (strcmp(path, "/v1/status") == 0) {
		*r = ROUTE_STATUS;
		return 0;
	}
	if (strcmp(path, "/v1/sessions") == 0) {
		*r = ROUTE_SESSIONS;
		return 0;
	}
	if (strcmp(path, "/v1/issuances") == 0) {
		*r = ROUTE_ISSUANCES;
		return 0;
	}
	if (strncmp(path, sess, sizeof(sess) - 1) == 0) {
		p = path + sizeof(sess) - 1;
		tail = "/auth";
		*r = ROUTE_SESSION_AUTH;
	} else if (strncmp(path, iss, sizeof(iss) - 1) == 0) {
		p = path + sizeof(iss) - 1;
		tail = "/result";
		*r = ROUTE_ISSUANCE_RESULT;
	} else
		return -1;
	if (strlen(p) != 32 + strlen(tail) || strcmp(p + 32, tail) != 0 ||
	    idlen < 33)
		return -1;
	memcpy(id, p, 32);
	id[32] = '\0';
	if (!api_is_hex(id, 32))
		return -1;
	return 0;
}

static int
json_content_type(struct evhttp_request *req)
{
	const char *ct;
	size_t n = strlen("application/json");

	ct = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	static const char status_body[] = "{\"status\":\"ok\",\"version\":1}";
	struct http_server *h = arg;
	struct evbuffer *in;
	struct api_job *j;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	enum api_route route;
	const char *uri = evhttp_request_get_uri(req);
	char id[STORE_KEY_MAX], kiosk[STORE_KEY_MAX];
	size_t len;

	if (uri == NULL || uri[0] != '/' || strlen(uri) > CENTER_PATH_MAX ||
	    strpbrk(uri, "?#") != NULL) {
		loop_error(req, 400, "bad_request",
		    "Bad request: the path is not plain.",
		    "要求の形式が正しくありません。", 0);
		return;
	}
	if (route_of(uri, &route, id, sizeof(id)) == -1) {
		loop_error(req, 404, "not_found", "Not found.",
		    "見つかりません。", 0);
		return;
	}
	if ((route == ROUTE_STATUS && cmd != EVHTTP_REQ_GET) ||
	    (route != ROUTE_STATUS && cmd != EVHTTP_REQ_POST)) {
		(void)evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", route == ROUTE_STATUS ? "GET" : "POST");
		loop_error(req, 405, "method_not_allowed",
		    "Method not allowed.", "この操作はできません。", 0);
		return;
	}
	if (kiosk_identity(h, req, kiosk, sizeof(kiosk)) == -1)
		return;
	if (route == ROUTE_STATUS) {
		send_json(req, 200, status_body, sizeof(status_body) - 1, 0);
		return;
	}
	if (!json_content_type(req)) {
		loop_error(req, 415, "unsupported_media_type",
		    "The body must be application/json.",
		    "要求の形式が正しくありません。", 0);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len > CENTER_BODY_MAX) {
		loop_error(req, 413, "too_large",
		    "The body is larger than 64 KiB.",
		    "要求が大きすぎます。", 0);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->body = malloc(len + 1)) == NULL) {
		job_free(j);
		loop_error(req, 500, "internal_error", "Internal error.",
		    "内部エラーが発生しました。", 0);
		return;
	}
	if (evbuffer_remove(in, j->body, len) != (int)len) {
		job_free(j);
		loop_error(req, 500, "internal_error", "Internal error.",
		    "内部エラーが発生しました。", 0);
		return;
	}
	j->body[len] = '\0';
	j->body_len = len;
	j->route = route;
	j->req = req;
	(void)snprintf(j->path_id, sizeof(j->path_id), "%s", id);
	(void)snprintf(j->kiosk_id, sizeof(j->kiosk_id), "%s", kiosk);
	(void)clock_gettime(CLOCK_MONOTONIC, &j->started);
	if (route == ROUTE_SESSIONS) {
		/*
		 * A challenge is a MAC and a queued row: no database read and
		 * no wait, so it is answered here rather than handed to a
		 * worker and back (two thread switches for a few microseconds
		 * of work).
		 */
		h->inflight++;
		if (api_dispatch(&h->loop_worker, j) == 0)
			finish(h, j);
		return;
	}
	if (submit(h, j) == -1) {
		job_free(j);
		loop_error(req, 503, "busy",
		    "The center is busy. Please try again.",
		    "ただいま混み合っています。しばらくしてからやり直してください。",
		    0);
	}
}

static void
on_purge(evutil_socket_t fd, short ev, void *arg)
{
	struct http_server *h = arg;
	struct api_job *j;

	(void)fd;
	(void)ev;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return;
	j->route = ROUTE_PURGE;
	(void)clock_gettime(CLOCK_MONOTONIC, &j->started);
	if (submit(h, j) == -1)
		job_free(j);
}

static void
on_drain_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct http_server *h = arg;

	(void)fd;
	(void)ev;
	log_warnx("%zu requests still in flight and %zu replies unwritten at "
	    "shutdown", h->inflight, h->sending);
	(void)event_base_loopexit(h->base, NULL);
}

/* --- life cycle ------------------------------------------------------ */

struct http_server *
http_server_new(struct event_base *base, SSL_CTX *ssl,
    const struct center *c, int fd, char *err, size_t errlen)
{
	struct http_server *h;
	struct timeval purge = { 300, 0 };
	int i, flags;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	h->ssl = ssl;
	h->c = c;
	h->notify[0] = h->notify[1] = -1;
	if (pthread_mutex_init(&h->mu, NULL) != 0 ||
	    pthread_cond_init(&h->cv, NULL) != 0 ||
	    pthread_cond_init(&h->answered, NULL) != 0) {
		(void)snprintf(err, errlen, "pthread init failed");
		free(h);
		return NULL;
	}
	if (c->cfg->client_crl[0] != '\0' &&
	    (h->fleet_crl = load_crl(c->cfg->client_crl, err, errlen)) == NULL)
		goto fail;
	if (pipe(h->notify) == -1) {
		(void)snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < 2; i++) {
		if ((flags = fcntl(h->notify[i], F_GETFL)) == -1 ||
		    fcntl(h->notify[i], F_SETFL, flags | O_NONBLOCK) == -1 ||
		    fcntl(h->notify[i], F_SETFD, FD_CLOEXEC) == -1) {
			(void)snprintf(err, errlen, "fcntl: %s",
			    strerror(errno));
			goto fail;
		}
	}
	if ((h->notify_ev = event_new(base, h->notify[0], EV_READ | EV_PERSIST,
	    on_notify, h)) == NULL || event_add(h->notify_ev, NULL) != 0 ||
	    (h->purge_ev = event_new(base, -1, EV_PERSIST, on_purge, h)) ==
	    NULL || event_add(h->purge_ev, &purge) != 0) {
		(void)snprintf(err, errlen, "event setup failed");
		goto fail;
	}

	h->loop_worker.c = c;
	h->loop_worker.index = -1;
	h->loop_worker.server = h;
	h->loop_worker.st = NULL;	/* the loop reads no records */
	h->nthreads = c->cfg->threads;
	if ((h->workers = calloc((size_t)h->nthreads, sizeof(*h->workers))) ==
	    NULL || (h->threads = calloc((size_t)h->nthreads,
	    sizeof(*h->threads))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < h->nthreads; i++) {
		h->workers[i].c = c;
		h->workers[i].index = i;
		h->workers[i].server = h;
		h->workers[i].st = store_open(c->cfg->db, 0, err, errlen);
		if (h->workers[i].st == NULL)
			goto fail;
	}
	if (store_migrate(h->workers[0].st) != STORE_OK) {
		(void)snprintf(err, errlen, "database %s: %s", c->cfg->db,
		    store_errmsg(h->workers[0].st));
		goto fail;
	}

	if ((h->http = evhttp_new(base)) == NULL) {
		(void)snprintf(err, errlen, "evhttp_new failed");
		goto fail;
	}
	evhttp_set_bevcb(h->http, bev_new, h);
	evhttp_set_gencb(h->http, on_request, h);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(h->http, HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(h->http, HTTP_BODY_HARD_MAX);
	evhttp_set_timeout(h->http, c->cfg->idle_timeout);
	if ((h->bound = evhttp_accept_socket_with_handle(h->http, fd)) ==
	    NULL) {
		(void)snprintf(err, errlen, "cannot serve on the socket");
		goto fail;
	}

	for (i = 0; i < h->nthreads; i++)
		if (pthread_create(&h->threads[i], NULL, worker_main,
		    &h->workers[i]) != 0) {
			(void)snprintf(err, errlen, "pthread_create failed");
			goto fail;
		} else
			h->nstarted = i + 1;
	return h;
fail:
	http_server_free(h);
	return NULL;
}

void
http_server_shutdown(struct http_server *h)
{
	struct timeval tv = { 10, 0 };

	if (h->shutting_down)
		return;
	h->shutting_down = 1;
	if (h->bound != NULL) {
		evhttp_del_accept_socket(h->http, h->bound);
		h->bound = NULL;
	}
	if (h->inflight == 0) {
		(void)event_base_loopexit(h->base, NULL);
		return;
	}
	if ((h->drain_ev = evtimer_new(h->base, on_drain_timeout, h)) ==
	    NULL || evtimer_add(h->drain_ev, &tv) != 0)
		(void)event_base_loopexit(h->base, NULL);
}

void
http_server_reload(struct http_server *h)
{
	X509_CRL *crl;
	char err[512];

	if (h->c->cfg->client_crl[0] == '\0')
		return;
	if ((crl = load_crl(h->c->cfg->client_crl, err, sizeof(err))) ==
	    NULL) {
		log_warnx("reload: %s (keeping the previous fleet CRL)", err);
		return;
	}
	if (http_tls_reload(h->ssl, h->c->cfg, err, sizeof(err)) == -1) {
		X509_CRL_free(crl);
		log_warnx("reload: %s (keeping the previous fleet CRL)", err);
		return;
	}
	X509_CRL_free(h->fleet_crl);
	h->fleet_crl = crl;
	log_info("fleet CRL reloaded");
}

void
http_server_free(struct http_server *h)
{
	struct api_job *j, *next;
	int i;

	if (h == NULL)
		return;
	if (pthread_mutex_lock(&h->mu) == 0) {
		h->stopping = 1;
		(void)pthread_cond_broadcast(&h->cv);
		(void)pthread_mutex_unlock(&h->mu);
	}
	for (i = 0; h->threads != NULL && i < h->nstarted; i++)
		(void)pthread_join(h->threads[i], NULL);
	/* what the workers handed to the writer comes back to h */
	if (pthread_mutex_lock(&h->mu) == 0) {
		while (h->working > 0)
			(void)pthread_cond_wait(&h->answered, &h->mu);
		(void)pthread_mutex_unlock(&h->mu);
	}
	/* replies nobody will send: the connections go with evhttp */
	for (j = h->done; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	for (j = h->queue_head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	if (h->http != NULL)
		evhttp_free(h->http);
	for (i = 0; h->workers != NULL && i < h->nthreads; i++)
		if (h->workers[i].st != NULL)
			store_close(h->workers[i].st);
	if (h->notify_ev != NULL)
		event_free(h->notify_ev);
	if (h->purge_ev != NULL)
		event_free(h->purge_ev);
	if (h->drain_ev != NULL)
		event_free(h->drain_ev);
	for (i = 0; i < 2; i++)
		if (h->notify[i] != -1)
			(void)close(h->notify[i]);
	X509_CRL_free(h->fleet_crl);
	free(h->workers);
	free(h->threads);
	(void)pthread_cond_destroy(&h->cv);
	(void)pthread_cond_destroy(&h->answered);
	(void)pthread_mutex_destroy(&h->mu);
	free(h);
}
