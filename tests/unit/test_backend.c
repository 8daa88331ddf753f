/*
 * The backend client against a test double of the center: an evhttp
 * server over bufferevent_openssl (TLS 1.3, client certificates) on the
 * same event loop, speaking center/API.md, with knobs to hang, drop the
 * connection, close it while idle or answer canned bodies.  The test PKI
 * comes from certs/kiosk-pki (two independent ones, for a foreign CA).
 * The server counts accepted connections and requests per endpoint, so
 * keep-alive and the retry policy are checked from the far side.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "backend.h"
#include "doccode.h"
#include "docverify.h"
#include "t.h"

enum ep { P_STATUS, P_SESSIONS, P_AUTH, P_ISSUE, P_RESULT, P_OTHER, P_N };

struct server {
	struct event_base	*base;
	SSL_CTX			*ctx;
	struct evhttp		*http;
	int			 port;
	int			 accepts;
	int			 count[P_N];
	int			 drop[P_N];	/* drop the next N requests */
	int			 hang[P_N];	/* never answer the next N */
	int			 busy[P_N];	/* answer the next N 503 busy */
	int			 chunked;	/* answer status chunked */
	int			 close_hdr;	/* answer "Connection: close" */
	int			 canned_status;	/* next answer canned */
	const char		*canned_body;
	size_t			 canned_len;
	const char		*canned_ctype;
	const char		*raw;		/* next answer: these bytes */
	char			 peer_cn[64];
	struct evhttp_request	*hung;
	struct evhttp_connection *last_conn;
	EVP_PKEY		*docsign;
	char			 key_id[65];
	uint8_t			 cert_hash[32];
	char			 session_id[33];
	uint8_t			 challenge[32];
	char			 idem_key[65];
	int			 issue_answers;
	int			 rx_records;	/* TLS records received */
	int			 rx_at[P_N];	/* rx_records at the last request */
};

static struct event_base	*base;
static char			 dir[512];
static char			 pki1[600], pki2[600];

/* ---- helpers ---- */

static void
die(const char *what)
{
	fprintf(stderr, "test_backend: %s\n", what);
	exit(2);
}

static void
path_join(char *dst, size_t len, const char *a, const char *b)
{
	if ((size_t)snprintf(dst, len, "%s/%s", a, b) >= len)
		die("path too long");
}

static int
run_cmd(char *const argv[])
{
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd != -1)
			dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
make_pki(const char *pki, const char *tool)
{
	char	*a1[] = { (char *)tool, "init", (char *)pki, NULL };
	char	*a2[] = { (char *)tool, "kiosk", (char *)pki, "S0001-T01",
	    NULL };

	if (run_cmd(a1) != 0 || run_cmd(a2) != 0)
		die("kiosk-pki failed");
}

static struct timeval	 loop_guard_tv = { 10, 0 };
static int		 guard_fired;

static void
guard_cb(evutil_socket_t fd, short ev, void *arg)
{
	guard_fired = 1;
}

/* Run the loop until *flag is set (or 10 s pass). */
static int
run_until(int *flag)
{
	struct event	*guard = evtimer_new(base, guard_cb, NULL);

	guard_fired = 0;
	evtimer_add(guard, &loop_guard_tv);
	while (!*flag && !guard_fired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(guard);
	return *flag;
}

/* Run the loop for ms milliseconds. */
static void
run_for(int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static long
now_ms(void)
{
	struct timeval	 tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1000L + tv.tv_usec / 1000;
}

static void
hexs(char *dst, const uint8_t *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		snprintf(dst + 2 * i, 3, "%02x", p[i]);
}

static char *
b64(const uint8_t *p, size_t n)
{
	char	*s = malloc((n + 2) / 3 * 4 + 1);

	if (s == NULL)
		die("malloc");
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

/* ---- the center double ---- */

static void
reply_json(struct evhttp_request *req, struct server *s, int code,
    json_t *j)
{
	char			*body = json_dumps(j, JSON_COMPACT);
	struct evbuffer		*out = evbuffer_new();

	json_decref(j);
	if (body == NULL || out == NULL)
		die("reply");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	if (s->close_hdr)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
	evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, code, "x", out);
	evbuffer_free(out);
	free(body);
}

static void
reply_error(struct evhttp_request *req, struct server *s, int code,
    const char *ecode)
{
	reply_json(req, s, code, json_pack("{s:{s:s, s:s, s:s}}", "error",
	    "code", ecode, "message", "refused", "message_ja",
	    "\xe6\x8b\x92\xe5\x90\xa6"));
}

static void
drop_cb(evutil_socket_t fd, short ev, void *arg)
{
	evhttp_connection_free(arg);
}

static void
closecb(struct evhttp_connection *evcon, void *arg)
{
	struct server	*s = arg;

	if (s->last_conn == evcon)
		s->last_conn = NULL;
	if (s->hung != NULL) {
		/* Detached by evhttp (client gone): ours to free.  Still
		   attached: evhttp frees it with the connection. */
		if (evhttp_request_get_connection(s->hung) == NULL)
			evhttp_request_free(s->hung);
		s->hung = NULL;
	}
}

static json_t *
body_json(struct evhttp_request *req)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 n = evbuffer_get_length(in);
	json_error_t	 je;

	return json_loadb((const char *)evbuffer_pullup(in, -1), n, 0, &je);
}

static void
do_sessions(struct evhttp_request *req, struct server *s)
{
	uint8_t		 id[16];
	char		*ch;

	RAND_bytes(id, sizeof(id));
	RAND_bytes(s->challenge, sizeof(s->challenge));
	hexs(s->session_id, id, sizeof(id));
	ch = b64(s->challenge, sizeof(s->challenge));
	reply_json(req, s, 201, json_pack("{s:s, s:s, s:s, s:i}",
	    "session_id", s->session_id, "challenge", ch, "expires_at",
	    "2030-01-01T00:01:00Z", "expires_in", 60));
	free(ch);
}

static void
do_auth(struct evhttp_request *req, struct server *s)
{
	json_t		*j = body_json(req);
	const char	*cert, *sig;
	uint8_t		 der[8192];
	int		 n;

	if (j == NULL || json_unpack(j, "{s:s, s:s}", "certificate", &cert,
	    "signature", &sig) != 0) {
		json_decref(j);
		reply_error(req, s, 400, "bad_request");
		return;
	}
	{
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		int len = (int)strlen(cert);
		int pad = (len >= 1 && cert[len - 1] == '=') +
		    (len >= 2 && cert[len - 2] == '=');

		if (len > 10000 || (n = EVP_DecodeBlock(der,
		    (const unsigned char *)cert, len)) <= pad) {
			json_decref(j);
			reply_error(req, s, 400, "bad_request");
			return;
		}
		EVP_Digest(der, (size_t)(n - pad), s->cert_hash, NULL,
		    EVP_sha256(), NULL);
	}
	(void)sig;
	json_decref(j);
	reply_json(req, s, 200, json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:b},"
	    " s:[{s:s, s:s, s:s, s:i, s:i, s:{s:s, s:b}, s:n},"
	    " {s:s, s:s, s:s, s:i, s:i, s:{}, s:{s:s, s:s, s:s}}]}",
	    "resident", "display_name", "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa"
	    "\xe9\x83\x8e", "ref", "a1b2c3d4",
	    "certificate", "serial", "0A1B2C3D", "not_after",
	    "2029-03-31T14:59:59Z", "expires_soon", 0,
	    "documents",
	    "type", "juminhyo", "title_ja", "\xe4\xbd\x8f\xe6\xb0\x91\xe7\xa5"
	    "\xa8\xe3\x81\xae\xe5\x86\x99\xe3\x81\x97", "title_en",
	    "Certificate of residence", "fee_yen", 200, "max_copies", 10,
	    "options", "members", "all", "domicile", 1, "unavailable",
	    "type", "inkan", "title_ja", "\xe5\x8d\xb0\xe9\x91\x91", "title_en",
	    "Seal registration certificate", "fee_yen", 200, "max_copies", 10,
	    "options", "unavailable", "reason", "seal_not_registered",
	    "message", "No seal registered", "message_ja", "\xe6\x9c\xaa"));
}

static void
do_issue(struct evhttp_request *req, struct server *s, int drop)
{
	json_t		*j = body_json(req), *doc;
	const char	*sid, *type, *key;
	int		 copies, created;
	char		*content, *c64, *s64, hash[65], iid[33];
	char		 code[DOCCODE_TEXT_MAX + 1];
	struct doccode	 dc;
	uint8_t		 sig[80];
	size_t		 siglen = sizeof(sig);
	EVP_MD_CTX	*md;

	if (j == NULL || json_unpack(j, "{s:s, s:s, s:o, s:i, s:s}",
	    "session_id", &sid, "document", &type, "options", &doc, "copies",
	    &copies, "idempotency_key", &key) != 0) {
		json_decref(j);
		reply_error(req, s, 400, "bad_request");
		return;
	}
	created = strcmp(key, s->idem_key) != 0;
	snprintf(s->idem_key, sizeof(s->idem_key), "%s", key);
	if (drop) {
		json_decref(j);
		return;		/* processed, then the connection dies */
	}
	/* A new key makes a new issuance; the same key the same one. */
	if (created)
		s->issue_answers++;
	snprintf(iid, sizeof(iid), "fedcba9876543210fedcba98765432%02x",
	    (s->issue_answers + 0x0f) & 0xff);
	hexs(hash, s->cert_hash, 32);
	doc = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:{s:s, s:s, s:s},"
	    " s:{s:s}}", "issuance_id", iid, "document", type, "issued_at",
	    "2025-04-01T09:00:00Z", "copies", copies, "fee_yen", 200 * copies,
	    "municipality", "\xe5\xb7\x9d\xe5\x8f\xa3\xe5\xb8\x82",
	    "binding", "session_id", sid, "cert_sha256", hash, "kiosk_id",
	    "S0001-T01", "body", "name", "\xe5\xb1\xb1\xe7\x94\xb0");
	content = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestSignInit(md, NULL,
	    EVP_sha256(), NULL, s->docsign) != 1 || EVP_DigestSign(md, sig,
	    &siglen, (uint8_t *)content, strlen(content)) != 1)
		die("server sign");
	EVP_MD_CTX_free(md);
	c64 = b64((uint8_t *)content, strlen(content));
	s64 = b64(sig, siglen);
	if (doccode_from_content(content, strlen(content), &dc) != 0 ||
	    doccode_sign(s->docsign, &dc) != 0 ||
	    doccode_format(&dc, code, sizeof(code)) < 0)
		die("server code");
	reply_json(req, s, created ? 201 : 200, json_pack("{s:s, s:i, s:i,"
	    " s:s, s:s, s:s, s:s}", "issuance_id", iid, "fee_yen", 200 * copies,
	    "copies", copies, "content", c64, "signature", s64, "key_id",
	    s->key_id, "code", code));
	json_decref(j);
	free(content);
	free(c64);
	free(s64);
}

static void
do_result(struct evhttp_request *req, struct server *s, const char *uri)
{
	json_t		*j = body_json(req);
	const char	*st;
	int		 pages;
	char		 iid[33];

	/* /v1/issuances/<32 hex>/result */
	memcpy(iid, uri + 14, 32);
	iid[32] = '\0';
	if (j == NULL || json_unpack(j, "{s:s, s:i}", "status", &st, "pages",
	    &pages) != 0) {
		json_decref(j);
		reply_error(req, s, 400, "bad_request");
		return;
	}
	reply_json(req, s, 200, json_pack("{s:s, s:s}", "issuance_id", iid,
	    "state", strcmp(st, "printed") == 0 ? "committed" : "voided"));
	json_decref(j);
}

static enum ep
classify(const char *uri)
{
	size_t	 n = strlen(uri);

	if (strcmp(uri, "/v1/status") == 0)
		return P_STATUS;
	if (strcmp(uri, "/v1/sessions") == 0)
		return P_SESSIONS;
	if (strcmp(uri, "/v1/issuances") == 0)
		return P_ISSUE;
	if (n > 18 && strncmp(uri, "/v1/sessions/", 13) == 0 &&
	    strcmp(uri + n - 5, "/auth") == 0)
		return P_AUTH;
	if (n == 14 + 32 + 7 && strncmp(uri, "/v1/issuances/", 14) == 0 &&
	    strcmp(uri + n - 7, "/result") == 0)
		return P_RESULT;
	return P_OTHER;
}

static void
handler(struct evhttp_request *req, void *arg)
{
	struct server			*s = arg;
	struct evhttp_connection	*evcon = evhttp_request_get_connection(req);
	struct bufferevent		*bev;
	SSL				*ssl;
	X509				*peer;
	const char			*uri = evhttp_request_get_uri(req);
	enum ep				 ep = classify(uri);
	struct timeval			 zero = { 0, 0 };

	s->count[ep]++;
	s->rx_at[ep] = s->rx_records;
	s->last_conn = evcon;
	evhttp_connection_set_closecb(evcon, closecb, s);
	bev = evhttp_connection_get_bufferevent(evcon);
	ssl = bufferevent_openssl_get_ssl(bev);
	s->peer_cn[0] = '\0';
	if (ssl != NULL && (peer = SSL_get0_peer_certificate(ssl)) != NULL)
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
		    NID_commonName, s->peer_cn, sizeof(s->peer_cn));
	if (s->drop[ep] > 0) {
		s->drop[ep]--;
		if (ep == P_ISSUE)
			do_issue(req, s, 1);
		/* Free the connection from the loop, not from inside evhttp. */
		event_base_once(s->base, -1, EV_TIMEOUT, drop_cb, evcon, &zero);
		return;
	}
	if (s->busy[ep] > 0) {
		s->busy[ep]--;
		reply_json(req, s, 503, json_pack("{s:{s:s,s:s,s:s}}", "error",
		    "code", "busy", "message", "The center is busy.",
		    "message_ja", "混み合っています。"));
		return;
	}
	if (s->hang[ep] > 0) {
		s->hang[ep]--;
		s->hung = req;
		return;
	}
	if (s->raw != NULL) {
		/* Bypass evhttp: the request stays unanswered for it. */
		bufferevent_write(bev, s->raw, strlen(s->raw));
		bufferevent_enable(bev, EV_WRITE);
		s->raw = NULL;
		s->hung = req;
		return;
	}
	if (s->canned_body != NULL) {
		struct evbuffer *out = evbuffer_new();

		if (s->canned_ctype != NULL)
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Content-Type", s->canned_ctype);
		evbuffer_add(out, s->canned_body, s->canned_len);
		evhttp_send_reply(req, s->canned_status, "x", out);
		evbuffer_free(out);
		s->canned_body = NULL;
		return;
	}
	switch (ep) {
	case P_STATUS:
		if (s->chunked) {
			struct evbuffer *out = evbuffer_new();

			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Content-Type", "application/json; charset=utf-8");
			evhttp_send_reply_start(req, 200, "OK");
			evbuffer_add_printf(out, "{\"status\":");
			evhttp_send_reply_chunk(req, out);
			evbuffer_add_printf(out, "\"ok\",\"version\":1}");
			evhttp_send_reply_chunk(req, out);
			evhttp_send_reply_end(req);
			evbuffer_free(out);
			break;
		}
		reply_json(req, s, 200, json_pack("{s:s, s:i}", "status", "ok",
		    "version", 1));
		break;
	case P_SESSIONS:
		do_sessions(req, s);
		break;
	case P_AUTH:
		do_auth(req, s);
		break;
	case P_ISSUE:
		do_issue(req, s, 0);
		break;
	case P_RESULT:
		do_result(req, s, uri);
		break;
	default:
		reply_error(req, s, 404, "not_found");
		break;
	}
}

/* Every TLS record the server reads (its header), for counting. */
static void
record_cb(int write_p, int version, int content_type, const void *buf,
    size_t len, SSL *ssl, void *arg)
{
	struct server *s = arg;

	(void)version;
	(void)buf;
	(void)len;
	(void)ssl;
	if (!write_p && content_type == SSL3_RT_HEADER)
		s->rx_records++;
}

static struct bufferevent *
bevcb(struct event_base *b, void *arg)
{
	struct server	*s = arg;
	SSL		*ssl = SSL_new(s->ctx);

	s->accepts++;
	return bufferevent_openssl_socket_new(b, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/*
 * A center double: certificate and key from pki/center.*, client
 * certificates checked against fleet_pki/fleet-ca.crt.
 */
static struct server *
server_new(const char *pki, const char *fleet_pki, const char *addr,
    int max_version)
{
	struct server			*s = calloc(1, sizeof(*s));
	struct evhttp_bound_socket	*bs;
	struct sockaddr_storage		 ss;
	socklen_t			 sl = sizeof(ss);
	char				 p[700];
	FILE				*f;
	unsigned char			*der = NULL;
	int				 n;
	uint8_t				 md[32];
	X509				*x;

	if (s == NULL)
		die("calloc");
	s->base = base;
	if ((s->ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		die("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(s->ctx, max_version == TLS1_3_VERSION ?
	    TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(s->ctx, max_version);
	path_join(p, sizeof(p), pki, "center.crt");
	if (SSL_CTX_use_certificate_chain_file(s->ctx, p) != 1)
		die("server certificate");
	path_join(p, sizeof(p), pki, "center.key");
	if (SSL_CTX_use_PrivateKey_file(s->ctx, p, SSL_FILETYPE_PEM) != 1)
		die("server key");
	path_join(p, sizeof(p), fleet_pki, "fleet-ca.crt");
	if (SSL_CTX_load_verify_locations(s->ctx, p, NULL) != 1)
		die("fleet CA");
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_session_id_context(s->ctx, (const uint8_t *)"center", 6);
	SSL_CTX_set_msg_callback(s->ctx, record_cb);
	SSL_CTX_set_msg_callback_arg(s->ctx, s);

	path_join(p, sizeof(p), pki, "docsign.key");
	if ((f = fopen(p, "r")) == NULL ||
	    (s->docsign = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		die("docsign key");
	fclose(f);
	path_join(p, sizeof(p), pki, "docsign.crt");
	if ((f = fopen(p, "r")) == NULL ||
	    (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die("docsign cert");
	fclose(f);
	n = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
	hexs(s->key_id, md, 32);
	OPENSSL_free(der);
	X509_free(x);

	if ((s->http = evhttp_new(base)) == NULL)
		die("evhttp_new");
	evhttp_set_bevcb(s->http, bevcb, s);
	evhttp_set_gencb(s->http, handler, s);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	if ((bs = evhttp_bind_socket_with_handle(s->http, addr, 0)) == NULL)
		die("bind");
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
	    &sl) == -1)
		die("getsockname");
	s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return s;
}

static void
server_free(struct server *s)
{
	evhttp_free(s->http);
	if (s->hung != NULL && evhttp_request_get_connection(s->hung) == NULL)
		evhttp_request_free(s->hung);
	SSL_CTX_free(s->ctx);
	EVP_PKEY_free(s->docsign);
	free(s);
}

static int
total(const struct server *s)
{
	int	 i, n = 0;

	for (i = 0; i < P_N; i++)
		n += s->count[i];
	return n;
}

/* ---- the client side ---- */

struct outcome {
	int			 done;
	int			 calls;
	struct backend_error	 err;
	struct backend_session	 session;
	struct backend_auth	*auth;
	char			 auth_json_first;
	struct backend_issuance	 issue;
	uint8_t			 content[65536];
	uint8_t			 sig[80];
	struct backend_result	 result;
	struct backend_status	 status;
};

static struct outcome	 o;

static void
reset(void)
{
	struct backend_auth	*a = o.auth;

	memset(&o, 0, sizeof(o));
	o.auth = a;
}

static void
explain(void)
{
	if (o.err.kind != BACKEND_OK)
		fprintf(stderr, "   (%s: %s)\n", backend_errkind_name(o.err.kind),
		    o.err.message);
}

static void
session_cb(const struct backend_error *err, const struct backend_session *s,
    void *arg)
{
	o.calls++;
	o.done = 1;
	o.err = *err;
	if (s != NULL)
		o.session = *s;
}

static void
auth_cb(const struct backend_error *err, const struct backend_auth *a,
    void *arg)
{
	o.calls++;
	o.done = 1;
	o.err = *err;
	if (a != NULL) {
		*o.auth = *a;
		o.auth_json_first = a->json != NULL && a->json_len > 0 ?
		    a->json[0] : 0;
	}
}

static void
issue_cb(const struct backend_error *err, const struct backend_issuance *is,
    void *arg)
{
	o.calls++;
	o.done = 1;
	o.err = *err;
	if (is != NULL && is->content_len <= sizeof(o.content) &&
	    is->sig_len <= sizeof(o.sig)) {
		o.issue = *is;
		memcpy(o.content, is->content, is->content_len);
		memcpy(o.sig, is->signature, is->sig_len);
	}
}

static void
result_cb(const struct backend_error *err, const struct backend_result *r,
    void *arg)
{
	o.calls++;
	o.done = 1;
	o.err = *err;
	if (r != NULL)
		o.result = *r;
}

static int	 chain_left;
static struct backend *chain_b;

static void
status_cb(const struct backend_error *err, const struct backend_status *st,
    void *arg)
{
	o.calls++;
	o.done = 1;
	o.err = *err;
	if (st != NULL)
		o.status = *st;
}

/* Each answer submits the next request from inside the callback. */
static void
chain_cb(const struct backend_error *err, const struct backend_status *st,
    void *arg)
{
	o.calls++;
	if (err->kind != BACKEND_OK)
		o.err = *err;
	if (--chain_left > 0) {
		if (backend_status(chain_b, chain_cb, NULL) == 0)
			o.done = 1;
	} else
		o.done = 1;
}

/* Answer the next status request with raw bytes; the result kind. */
static enum backend_errkind
raw(struct backend *b, struct server *s, const char *bytes)
{
	s->raw = bytes;
	reset();
	backend_status(b, status_cb, NULL);
	run_until(&o.done);
	run_for(20);
	s->raw = NULL;
	explain();
	return o.done ? o.err.kind : BACKEND_E_INTERNAL;
}

#define RAW_OK_HDR "HTTP/1.1 200 OK\r\nConnection: close\r\n" \
	"Content-Type: application/json\r\n"
#define RAW_OK_BODY "{\"status\":\"ok\",\"version\":1}"

/* Frees the backend from inside its own callback. */
static struct backend *free_in_cb;

static void
free_cb(const struct backend_error *err, const struct backend_status *st,
    void *arg)
{
	o.calls++;
	if (err->kind == BACKEND_OK && free_in_cb != NULL) {
		backend_free(free_in_cb);
		free_in_cb = NULL;
	}
}

/* Counts answers; done after count_want of them. */
static int	 count_want;

static void
count_cb(const struct backend_error *err, const struct backend_status *st,
    void *arg)
{
	o.calls++;
	if (err->kind != BACKEND_OK)
		o.err = *err;
	if (o.calls >= count_want)
		o.done = 1;
}

static struct backend *
client(const char *url, const char *pki, int timeout_ms, int attempts)
{
	struct backend_config	 cfg;
	struct backend		*b;
	char			 ca[700], crt[700], key[700], err[256];

	path_join(ca, sizeof(ca), pki, "center-ca.crt");
	path_join(crt, sizeof(crt), pki1, "kiosks/S0001-T01/kiosk.crt");
	path_join(key, sizeof(key), pki1, "kiosks/S0001-T01/kiosk.key");
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = url;
	cfg.ca_file = ca;
	cfg.cert_file = crt;
	cfg.key_file = key;
	cfg.timeout_ms = timeout_ms;
	cfg.max_attempts = attempts;
	if ((b = backend_new(base, &cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "backend_new: %s\n", err);
		die("backend_new");
	}
	return b;
}

static int
status_once(struct backend *b)
{
	reset();
	if (backend_status(b, status_cb, NULL) == 0)
		return 0;
	run_until(&o.done);
	return o.done && o.err.kind == BACKEND_OK;
}

/* One issuance of an inkan for the session the double knows, with key;
 * its outcome in o. */
static void
issue_now(struct backend *b, const char *key)
{
	reset();
	backend_issue(b, "0123456789abcdef0123456789abcdef", "inkan", "{}", 1,
	    key, issue_cb, NULL);
	run_until(&o.done);
}

/* One "printed" result for the issuance the double knows; outcome in o. */
static void
result_now(struct backend *b)
{
	reset();
	backend_result(b, "fedcba9876543210fedcba9876543210", BACKEND_PRINTED,
	    1, result_cb, NULL);
	run_until(&o.done);
}

/* Answer the next request with a canned body; expect a protocol error. */
static int
canned(struct backend *b, struct server *s, enum ep which, int code,
    const char *ctype, const char *body)
{
	char	 key[BACKEND_IDEMKEY_LEN + 1];

	s->canned_status = code;
	s->canned_ctype = ctype;
	s->canned_body = body;
	s->canned_len = strlen(body);
	reset();
	backend_idempotency_key(key, sizeof(key));
	switch (which) {
	case P_STATUS:
		backend_status(b, status_cb, NULL);
		break;
	case P_SESSIONS:
		backend_session_new(b, session_cb, NULL);
		break;
	case P_ISSUE:
		backend_issue(b, "0123456789abcdef0123456789abcdef", "juminhyo",
		    "{}", 1, key, issue_cb, NULL);
		break;
	case P_RESULT:
		backend_result(b, "fedcba9876543210fedcba9876543210",
		    BACKEND_PRINTED, 1, result_cb, NULL);
		break;
	default:
		die("canned");
	}
	run_until(&o.done);
	s->canned_body = NULL;
	return o.done;
}

static const char cert_der_fake[] = "a card certificate, DER in real life";

int
main(void)
{
	const char		*tool_dir, *tmp;
	char			 tool[600], url[128], key[BACKEND_IDEMKEY_LEN + 1];
	char			 key2[BACKEND_IDEMKEY_LEN + 1], p[700], err[256];
	struct server		*s, *s2;
	struct backend		*b, *b2;
	struct backend_stats	 st, st2;
	int			 a0, n0, i;
	long			 t0;
	uint8_t			 sig[256];
	char			*big;
	int			 own_dir = 0;

	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		die("event_base_new");
	if ((o.auth = calloc(1, sizeof(*o.auth))) == NULL)
		die("calloc");
	tool_dir = getenv("KIOSK_BUILDDIR");
	snprintf(tool, sizeof(tool), "%s/certs/kiosk-pki",
	    tool_dir != NULL ? tool_dir : ".");
	if ((tmp = getenv("KIOSK_TMP")) != NULL && *tmp != '\0')
		snprintf(dir, sizeof(dir), "%s/backend", tmp);
	else {
		snprintf(dir, sizeof(dir), "/tmp/test_backend.%ld",
		    (long)getpid());
		own_dir = 1;
	}
	mkdir(dir, 0700);
	snprintf(pki1, sizeof(pki1), "%s/pki1.%ld", dir, (long)getpid());
	snprintf(pki2, sizeof(pki2), "%s/pki2.%ld", dir, (long)getpid());
	make_pki(pki1, tool);
	make_pki(pki2, tool);

	/* -- argument checks and helpers, no network -- */
	T_CHECK(backend_idempotency_key(key, sizeof(key)) == 0 &&
	    strlen(key) == 32 && strspn(key, "0123456789abcdef") == 32,
	    "idempotency key: 32 hex chars");
	T_CHECK(backend_idempotency_key(key2, sizeof(key2)) == 0 &&
	    strcmp(key, key2) != 0, "idempotency keys differ");
	T_CHECK(backend_idempotency_key(key2, 32) == -1,
	    "idempotency key: short buffer refused");
	{
		struct backend_config	 cfg;

		memset(&cfg, 0, sizeof(cfg));
		path_join(p, sizeof(p), pki1, "center-ca.crt");
		cfg.ca_file = p;
		cfg.cert_file = cfg.key_file = p;
		cfg.url = "http://127.0.0.1:1";
		T_CHECK(backend_new(base, &cfg, err, sizeof(err)) == NULL,
		    "plain http URL refused");
	}

	s = server_new(pki1, pki1, "127.0.0.1", TLS1_3_VERSION);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", s->port);
	b = client(url, pki1, 3000, 3);

	T_CHECK(backend_issue(b, "0123456789abcdef0123456789abcdef",
	    "juminhyo", "{}", 1, "short", issue_cb, NULL) == 0,
	    "issue: short idempotency key refused");
	T_CHECK(backend_issue(b, "0123456789abcdef0123456789abcdef",
	    "passport", "{}", 1, key, issue_cb, NULL) == 0,
	    "issue: unknown document refused");
	T_CHECK(backend_issue(b, "0123456789abcdef0123456789abcdef",
	    "juminhyo", "[1]", 1, key, issue_cb, NULL) == 0,
	    "issue: options not an object refused");
	T_CHECK(backend_issue(b, "0123456789abcdef0123456789abcdef",
	    "juminhyo", "{}", 11, key, issue_cb, NULL) == 0,
	    "issue: 11 copies refused");
	T_CHECK(backend_auth(b, "../../etc/passwd/aaaaaaaaaaaaaaaaa",
	    (const uint8_t *)"x", 1, sig, 1, auth_cb, NULL) == 0,
	    "auth: session id not hex refused");
	T_CHECK(backend_result(b, "fedcba9876543210fedcba9876543210", 7, 1,
	    result_cb, NULL) == 0, "result: bad outcome refused");
	T_CHECK(total(s) == 0 && s->accepts == 0,
	    "refused calls never reach the wire");

	/* -- mutual TLS and keep-alive -- */
	T_CHECK(status_once(b) && o.status.version == 1, "GET /v1/status");
	T_CHECK(strcmp(s->peer_cn, "S0001-T01") == 0,
	    "center saw the kiosk certificate");
	T_CHECK(s->accepts == 1, "one connection");
	chain_b = b;
	chain_left = 20;
	reset();
	backend_status(b, chain_cb, NULL);
	run_until(&o.done);
	T_CHECK(o.calls == 20 && o.err.kind == BACKEND_OK,
	    "20 chained requests answered");
	reset();
	count_want = 5;
	for (i = 0; i < 5; i++)
		backend_status(b, count_cb, NULL);
	run_until(&o.done);
	run_for(50);
	T_CHECK(o.calls == 5 && o.err.kind == BACKEND_OK,
	    "5 queued requests answered");
	T_CHECK(s->accepts == 1 && s->count[P_STATUS] == 26,
	    "keep-alive: 26 requests over one TCP connection");
	s->chunked = 1;
	T_CHECK(status_once(b), "chunked answer parsed");
	s->chunked = 0;

	/* -- the API calls, end to end with document verification -- */
	reset();
	backend_session_new(b, session_cb, NULL);
	run_until(&o.done);
	explain();
	T_CHECK(o.err.kind == BACKEND_OK && strcmp(o.session.session_id,
	    s->session_id) == 0 && memcmp(o.session.challenge, s->challenge,
	    32) == 0 && o.session.expires_in == 60, "POST /v1/sessions");
	{
		char sid[33];

		memcpy(sid, o.session.session_id, sizeof(sid));
		memset(sig, 0x5a, sizeof(sig));
		reset();
		backend_auth(b, sid, (const uint8_t *)cert_der_fake,
		    sizeof(cert_der_fake) - 1, sig, sizeof(sig), auth_cb, NULL);
		run_until(&o.done);
		T_CHECK(o.err.kind == BACKEND_OK && o.auth->ndocs == 2 &&
		    strcmp(o.auth->docs[0].type, "juminhyo") == 0 &&
		    !o.auth->docs[0].unavailable.present &&
		    o.auth->docs[1].unavailable.present &&
		    strcmp(o.auth->docs[1].unavailable.reason,
		    "seal_not_registered") == 0 &&
		    strcmp(o.auth->resident_ref, "a1b2c3d4") == 0 &&
		    o.auth_json_first == '{', "POST .../auth");

		T_CHECK(strstr(o.auth->docs[0].options_json,
		    "\"members\":\"all\"") != NULL,
		    "auth: options passed through");

		/*
		 * A real certificate makes a body of about 2 KB, larger than
		 * the chain the headers went into: still one TLS record (and
		 * one write) for the whole request.
		 */
		{
			static uint8_t big_cert[1600];
			char sid2[33];

			memset(big_cert, 0x30, sizeof(big_cert));
			reset();
			backend_session_new(b, session_cb, NULL);
			run_until(&o.done);
			memcpy(sid2, o.session.session_id, sizeof(sid2));
			reset();
			backend_auth(b, sid2, big_cert, sizeof(big_cert), sig,
			    sizeof(sig), auth_cb, NULL);
			run_until(&o.done);
			printf("# auth request with a 1600-byte certificate: "
			    "%d TLS record(s)\n",
			    s->rx_at[P_AUTH] - s->rx_at[P_SESSIONS]);
			T_CHECK(o.err.kind == BACKEND_OK &&
			    s->rx_at[P_AUTH] - s->rx_at[P_SESSIONS] == 1,
			    "auth: headers and a 2 KB body in one TLS record");
			reset();
			backend_session_new(b, session_cb, NULL);
			run_until(&o.done);
			memcpy(sid, o.session.session_id, sizeof(sid));
			reset();
			backend_auth(b, sid, (const uint8_t *)cert_der_fake,
			    sizeof(cert_der_fake) - 1, sig, sizeof(sig),
			    auth_cb, NULL);
			run_until(&o.done);
		}

		backend_idempotency_key(key, sizeof(key));
		reset();
		backend_issue(b, sid, "juminhyo", "{\"members\":\"all\"}", 2,
		    key, issue_cb, NULL);
		run_until(&o.done);
		T_CHECK(o.err.kind == BACKEND_OK && o.issue.created &&
		    o.issue.copies == 2 && o.issue.content_len > 0 &&
		    strcmp(o.issue.key_id, s->key_id) == 0,
		    "POST /v1/issuances");
		{
			struct docverify_key	*dk;
			struct docverify_expect	 ex;
			struct docverify_out	 out;
			uint8_t			 h[32];

			path_join(p, sizeof(p), pki1, "docsign.crt");
			dk = docverify_key_load(p, err, sizeof(err));
			EVP_Digest(cert_der_fake, sizeof(cert_der_fake) - 1, h,
			    NULL, EVP_sha256(), NULL);
			memset(&ex, 0, sizeof(ex));
			ex.session_id = sid;
			ex.cert_sha256 = h;
			ex.kiosk_id = "S0001-T01";
			ex.issuance_id = o.issue.issuance_id;
			ex.document = "juminhyo";
			ex.copies = 2;
			ex.code = o.issue.code;
			T_CHECK(dk != NULL && docverify(o.content,
			    o.issue.content_len, o.sig, o.issue.sig_len,
			    o.issue.key_id, dk, &ex, &out) == DOCVERIFY_OK,
			    "issued document verifies with the pinned key");
			docverify_out_clear(&out);
			ex.session_id = "ffffffffffffffffffffffffffffffff";
			T_CHECK(dk != NULL && docverify(o.content,
			    o.issue.content_len, o.sig, o.issue.sig_len,
			    o.issue.key_id, dk, &ex, &out) ==
			    DOCVERIFY_E_SESSION_MISMATCH,
			    "issued document refused for another session");
			docverify_out_clear(&out);
			docverify_key_free(dk);
		}
		reset();
		backend_result(b, "fedcba9876543210fedcba9876543210",
		    BACKEND_PRINTED, 2, result_cb, NULL);
		run_until(&o.done);
		T_CHECK(o.err.kind == BACKEND_OK && o.result.committed == 1,
		    "POST .../result printed: committed");
		reset();
		backend_result(b, "fedcba9876543210fedcba9876543210",
		    BACKEND_FAILED, 0, result_cb, NULL);
		run_until(&o.done);
		T_CHECK(o.err.kind == BACKEND_OK && o.result.committed == 0,
		    "POST .../result failed: voided");
	}
	T_CHECK(s->accepts == 1, "still one connection after the calls");

	/* -- error objects -- */
	canned(b, s, P_SESSIONS, 403, "application/json",
	    "{\"error\":{\"code\":\"not_eligible\",\"reason\":\"under_15\","
	    "\"message\":\"Under 15\",\"message_ja\":\"15\xe6\xad\xb3\"}}");
	T_CHECK(o.err.kind == BACKEND_E_SERVER && o.err.http_status == 403 &&
	    strcmp(o.err.code, "not_eligible") == 0 &&
	    strcmp(o.err.reason, "under_15") == 0 &&
	    strcmp(o.err.message, "Under 15") == 0 &&
	    strcmp(o.err.message_ja, "15\xe6\xad\xb3") == 0,
	    "error object with reason parsed");
	canned(b, s, P_SESSIONS, 503, "application/json",
	    "{\"error\":{\"code\":\"revocation_unavailable\",\"message\":\"m\","
	    "\"message_ja\":\"j\"}}");
	T_CHECK(o.err.kind == BACKEND_E_SERVER && o.err.http_status == 503 &&
	    strcmp(o.err.code, "revocation_unavailable") == 0,
	    "503 error object parsed");
	canned(b, s, P_STATUS, 502, "text/html", "<html>bad gateway</html>");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL && o.err.http_status == 502,
	    "non-JSON error page: protocol error with status");
	canned(b, s, P_STATUS, 400, "application/json",
	    "{\"error\":{\"code\":\"Bad Code\",\"message\":\"m\","
	    "\"message_ja\":\"j\"}}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "bad error code syntax");
	canned(b, s, P_STATUS, 400, "application/json",
	    "{\"error\":{\"code\":\"x\",\"message\":\"m\"}}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "error without message_ja");

	/* -- malformed answers: protocol errors, never a crash -- */
	canned(b, s, P_STATUS, 200, "application/json", "{\"status\":");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "truncated JSON");
	canned(b, s, P_STATUS, 200, "application/json", "[]");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "JSON array");
	canned(b, s, P_STATUS, 200, "text/plain",
	    "{\"status\":\"ok\",\"version\":1}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "wrong Content-Type");
	canned(b, s, P_STATUS, 200, "application/json",
	    "{\"status\":\"ok\",\"version\":1,\"extra\":1}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL &&
	    strstr(o.err.message, "unknown field") != NULL, "unknown field");
	canned(b, s, P_STATUS, 200, "application/json",
	    "{\"status\":\"ok\",\"version\":1,\"status\":\"ok\"}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "duplicate field");
	canned(b, s, P_STATUS, 200, "application/json",
	    "{\"status\":\"ok\",\"version\":2}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "wrong version");
	canned(b, s, P_SESSIONS, 201, "application/json",
	    "{\"session_id\":\"0123456789abcdef0123456789abcdef\","
	    "\"expires_at\":\"2030-01-01T00:00:00Z\",\"expires_in\":60}");
	explain();
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL &&
	    strstr(o.err.message, "challenge") != NULL, "missing challenge");
	canned(b, s, P_SESSIONS, 201, "application/json",
	    "{\"session_id\":\"0123456789abcdef0123456789abcdeg\","
	    "\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
	    "\"expires_at\":\"2030-01-01T00:00:00Z\",\"expires_in\":60}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "session id not hex");
	canned(b, s, P_SESSIONS, 201, "application/json",
	    "{\"session_id\":\"0123456789abcdef0123456789abcdef\","
	    "\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*=\","
	    "\"expires_at\":\"2030-01-01T00:00:00Z\",\"expires_in\":60}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "challenge not base64");
	canned(b, s, P_SESSIONS, 201, "application/json",
	    "{\"session_id\":\"0123456789abcdef0123456789abcdef\","
	    "\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
	    "\"expires_at\":\"tomorrow\",\"expires_in\":60}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "expires_at not RFC 3339");
	canned(b, s, P_SESSIONS, 201, "application/json",
	    "{\"session_id\":\"0123456789abcdef0123456789abcdef\","
	    "\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
	    "\"expires_at\":\"2030-01-01T00:00:00Z\",\"expires_in\":\"60\"}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "expires_in of wrong type");
	canned(b, s, P_SESSIONS, 200, "application/json",
	    "{\"session_id\":\"0123456789abcdef0123456789abcdef\","
	    "\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
	    "\"expires_at\":\"2030-01-01T00:00:00Z\",\"expires_in\":60}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "200 where 201 is due");
	canned(b, s, P_SESSIONS, 201, "application/json",
	    "{\"session_id\":\"0123456789abcdef0123456789abcdef\","
	    "\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
	    "\"expires_at\":\"2030-01-01T00:00:00Z\",\"expires_in\":60}");
	T_CHECK(o.err.kind == BACKEND_OK, "the same answer, well formed");
	canned(b, s, P_ISSUE, 201, "application/json",
	    "{\"issuance_id\":\"fedcba9876543210fedcba9876543210\","
	    "\"fee_yen\":200,\"copies\":1,\"content\":\"e30=\","
	    "\"signature\":\"!!!!\",\"key_id\":\"00000000000000000000000000000000"
	    "00000000000000000000000000000000\",\"code\":\"KV1;x\"}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "signature not base64");
	canned(b, s, P_ISSUE, 201, "application/json",
	    "{\"issuance_id\":\"fedcba9876543210fedcba9876543210\","
	    "\"fee_yen\":200,\"copies\":1,\"content\":\"e30=\","
	    "\"signature\":\"MEUCIQ==\",\"key_id\":\"0000000000000000000000000000"
	    "000000000000000000000000000000000000\"}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL &&
	    strstr(o.err.message, "code") != NULL,
	    "an issuance without its document code refused");
	canned(b, s, P_ISSUE, 201, "application/json",
	    "{\"issuance_id\":\"fedcba9876543210fedcba9876543210\","
	    "\"fee_yen\":200,\"copies\":3,\"content\":\"e30=\","
	    "\"signature\":\"MEUCIQ==\",\"key_id\":\"0000000000000000000000000000"
	    "000000000000000000000000000000000000\",\"code\":\"KV1;x\"}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "other number of copies");
	canned(b, s, P_RESULT, 200, "application/json",
	    "{\"issuance_id\":\"fedcba9876543210fedcba9876543210\","
	    "\"state\":\"voided\"}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "result state mismatch");
	canned(b, s, P_RESULT, 200, "application/json",
	    "{\"issuance_id\":\"00000000000000000000000000000000\","
	    "\"state\":\"committed\"}");
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL, "result for another id");
	big = malloc(2 * 1024 * 1024 + 1);
	memset(big, 'a', 2 * 1024 * 1024);
	big[2 * 1024 * 1024] = '\0';
	canned(b, s, P_STATUS, 200, "application/json", big);
	T_CHECK(o.err.kind == BACKEND_E_PROTOCOL &&
	    strstr(o.err.message, "limit") != NULL, "oversized answer");
	free(big);
	T_CHECK(status_once(b), "usable after the protocol errors");

	/* -- HTTP framing, bytes written by hand -- */
	T_CHECK(raw(b, s, RAW_OK_HDR "Transfer-Encoding: chunked\r\n\r\n"
	    "5;ext=1\r\n{\"sta\r\n16\r\ntus\":\"ok\",\"version\":1}\r\n"
	    "0\r\nX-Trailer: 1\r\n\r\n") == BACKEND_OK,
	    "raw: chunked with extension and trailer");
	T_CHECK(raw(b, s, "HTTP/1.1 100 Continue\r\n\r\n" RAW_OK_HDR
	    "Content-Length: 27\r\n\r\n" RAW_OK_BODY) == BACKEND_OK,
	    "raw: 100 Continue skipped");
	T_CHECK(raw(b, s, "HTTP/1.1 2x0 OK\r\n\r\n") == BACKEND_E_PROTOCOL,
	    "raw: bad status code");
	T_CHECK(raw(b, s, "HTTP/1.1 20\r\n\r\n") == BACKEND_E_PROTOCOL,
	    "raw: short status line");
	T_CHECK(raw(b, s, "SMTP ready\r\n\r\n") == BACKEND_E_PROTOCOL,
	    "raw: not HTTP");
	T_CHECK(raw(b, s, RAW_OK_HDR "Content-Length: 27\r\n"
	    "Content-Length: 28\r\n\r\n" RAW_OK_BODY) == BACKEND_E_PROTOCOL,
	    "raw: conflicting Content-Length");
	T_CHECK(raw(b, s, RAW_OK_HDR "Content-Length: -1\r\n\r\n") ==
	    BACKEND_E_PROTOCOL, "raw: negative Content-Length");
	T_CHECK(raw(b, s, RAW_OK_HDR "Transfer-Encoding: gzip\r\n\r\n") ==
	    BACKEND_E_PROTOCOL, "raw: unknown Transfer-Encoding");
	T_CHECK(raw(b, s, RAW_OK_HDR "Transfer-Encoding: chunked\r\n\r\n"
	    "0x1b\r\n" RAW_OK_BODY "\r\n0\r\n\r\n") == BACKEND_E_PROTOCOL,
	    "raw: bad chunk size");
	T_CHECK(raw(b, s, RAW_OK_HDR "Transfer-Encoding: chunked\r\n\r\n"
	    "fffffff\r\n") == BACKEND_E_PROTOCOL, "raw: oversized chunk");
	T_CHECK(raw(b, s, RAW_OK_HDR "Transfer-Encoding: chunked\r\n\r\n"
	    "2\r\n{}XX0\r\n\r\n") == BACKEND_E_PROTOCOL,
	    "raw: chunk without CRLF");
	T_CHECK(raw(b, s, RAW_OK_HDR " folded: header\r\n\r\n") ==
	    BACKEND_E_PROTOCOL, "raw: obsolete line folding");
	{
		static char	 many[64 * 1024];
		size_t		 k;

		snprintf(many, sizeof(many), "%s", RAW_OK_HDR);
		for (k = 0; k < 70; k++)
			strncat(many, "X-A: b\r\n", sizeof(many) -
			    strlen(many) - 1);
		strncat(many, "\r\n", sizeof(many) - strlen(many) - 1);
		T_CHECK(raw(b, s, many) == BACKEND_E_PROTOCOL,
		    "raw: too many headers");
		snprintf(many, sizeof(many), "%sX-Long: ", RAW_OK_HDR);
		memset(many + strlen(many), 'a', 20000);
		T_CHECK(raw(b, s, many) == BACKEND_E_PROTOCOL,
		    "raw: header line too long");
	}
	T_CHECK(status_once(b), "usable after the framing errors");

	/* -- timeout -- */
	b2 = client(url, pki1, 400, 3);
	s->hang[P_STATUS] = 1;
	reset();
	t0 = now_ms();
	backend_status(b2, status_cb, NULL);
	run_until(&o.done);
	t0 = now_ms() - t0;
	explain();
	T_CHECK(o.err.kind == BACKEND_E_TIMEOUT && t0 >= 350 && t0 < 3000,
	    "timeout on a center that never answers");
	n0 = s->count[P_STATUS];
	T_CHECK(status_once(b2) && s->count[P_STATUS] == n0 + 1,
	    "usable after a timeout");
	backend_free(b2);

	/* -- dropped connections and the retry policy -- */
	a0 = s->accepts;
	n0 = s->count[P_STATUS];
	s->drop[P_STATUS] = 1;
	T_CHECK(status_once(b) && s->count[P_STATUS] == n0 + 2 &&
	    s->accepts == a0 + 1, "GET retried once after a drop");

	backend_idempotency_key(key, sizeof(key));
	n0 = s->count[P_ISSUE];
	s->drop[P_ISSUE] = 1;
	issue_now(b, key);
	T_CHECK(o.err.kind == BACKEND_OK && s->count[P_ISSUE] == n0 + 2 &&
	    !o.issue.created, "issuance retried with the same key: the "
	    "same issuance (200)");

	n0 = s->count[P_ISSUE];
	s->drop[P_ISSUE] = 5;
	issue_now(b, key);
	T_CHECK(o.err.kind == BACKEND_E_IO && o.err.maybe_processed &&
	    s->count[P_ISSUE] == n0 + 3, "issuance: at most 3 attempts");
	s->drop[P_ISSUE] = 0;

	n0 = s->count[P_RESULT];
	s->drop[P_RESULT] = 1;
	result_now(b);
	T_CHECK(o.err.kind == BACKEND_OK && s->count[P_RESULT] == n0 + 2,
	    "result retried after a drop");

	/* 503: an idempotent request goes again, the others get it */
	n0 = s->count[P_ISSUE];
	s->busy[P_ISSUE] = 1;
	issue_now(b, key);
	T_CHECK(o.err.kind == BACKEND_OK && o.calls == 1 &&
	    s->count[P_ISSUE] == n0 + 2 && s->busy[P_ISSUE] == 0,
	    "issuance answered 503 busy once: sent again, then issued");
	n0 = s->count[P_ISSUE];
	s->busy[P_ISSUE] = 5;
	issue_now(b, key);
	T_CHECK(o.err.kind == BACKEND_E_SERVER && o.err.http_status == 503 &&
	    strcmp(o.err.code, "busy") == 0 && o.calls == 1 &&
	    s->count[P_ISSUE] == n0 + 3,
	    "issuance busy every time: 3 attempts, then the 503 busy answer");
	s->busy[P_ISSUE] = 0;
	n0 = s->count[P_RESULT];
	s->busy[P_RESULT] = 2;
	result_now(b);
	T_CHECK(o.err.kind == BACKEND_OK && s->count[P_RESULT] == n0 + 3,
	    "result answered 503 twice: recorded at the third attempt");
	n0 = s->count[P_SESSIONS];
	s->busy[P_SESSIONS] = 1;
	reset();
	backend_session_new(b, session_cb, NULL);
	run_until(&o.done);
	run_for(300);
	T_CHECK(o.err.kind == BACKEND_E_SERVER && o.err.http_status == 503 &&
	    o.calls == 1 && s->count[P_SESSIONS] == n0 + 1,
	    "POST /v1/sessions answered 503: given to the caller, not re-sent");
	s->busy[P_SESSIONS] = 0;

	n0 = s->count[P_SESSIONS];
	s->drop[P_SESSIONS] = 1;
	reset();
	backend_session_new(b, session_cb, NULL);
	run_until(&o.done);
	run_for(300);
	T_CHECK(o.err.kind == BACKEND_E_IO && o.err.maybe_processed &&
	    o.calls == 1 && s->count[P_SESSIONS] == n0 + 1,
	    "POST /v1/sessions never re-sent");

	n0 = s->count[P_AUTH];
	s->drop[P_AUTH] = 1;
	reset();
	backend_auth(b, "0123456789abcdef0123456789abcdef",
	    (const uint8_t *)cert_der_fake, sizeof(cert_der_fake) - 1, sig,
	    sizeof(sig), auth_cb, NULL);
	run_until(&o.done);
	run_for(300);
	T_CHECK(o.err.kind == BACKEND_E_IO && o.calls == 1 &&
	    s->count[P_AUTH] == n0 + 1, "POST .../auth never re-sent");

	/* -- the center closes an idle connection: seen, then reconnected -- */
	T_CHECK(status_once(b), "status before the idle close");
	backend_get_stats(b, &st);
	a0 = s->accepts;
	if (s->last_conn != NULL)
		evhttp_connection_free(s->last_conn);
	run_for(100);
	n0 = s->count[P_SESSIONS];
	reset();
	backend_session_new(b, session_cb, NULL);
	run_until(&o.done);
	backend_get_stats(b, &st2);
	T_CHECK(o.err.kind == BACKEND_OK && s->count[P_SESSIONS] == n0 + 1 &&
	    s->accepts == a0 + 1 && st2.retries == st.retries,
	    "idle close noticed: a session is opened on a new connection");
	T_CHECK(st2.resumed > 0, "TLS session resumed on reconnect");

	s->close_hdr = 1;
	a0 = s->accepts;
	T_CHECK(status_once(b), "answer with Connection: close");
	s->close_hdr = 0;
	T_CHECK(status_once(b) && s->accepts == a0 + 1,
	    "new connection after Connection: close");

	/* -- cancel and free with requests pending -- */
	reset();
	{
		uint64_t	 id1, id2;

		id1 = backend_status(b, status_cb, NULL);
		id2 = backend_session_new(b, session_cb, NULL);
		n0 = s->count[P_SESSIONS];
		T_CHECK(backend_cancel(b, id2) == 0 &&
		    backend_cancel(b, id2) == -1, "cancel a queued request");
		run_until(&o.done);
		run_for(100);
		T_CHECK(o.calls == 1 && s->count[P_SESSIONS] == n0 &&
		    id1 != 0, "cancelled request neither sent nor reported");
	}
	b2 = client(url, pki1, 3000, 3);
	s->hang[P_STATUS] = 1;
	reset();
	backend_status(b2, status_cb, NULL);
	backend_status(b2, status_cb, NULL);
	run_for(100);
	backend_free(b2);
	T_CHECK(o.calls == 2 && o.err.kind == BACKEND_E_SHUTDOWN,
	    "backend_free reports pending requests");
	run_for(100);

	/* backend_free from inside a callback, another request queued. */
	b2 = client(url, pki1, 3000, 3);
	free_in_cb = b2;
	reset();
	backend_status(b2, free_cb, NULL);
	backend_status(b2, status_cb, NULL);
	run_until(&o.done);
	run_for(100);
	T_CHECK(o.calls == 2 && o.err.kind == BACKEND_E_SHUTDOWN &&
	    free_in_cb == NULL, "backend_free inside a callback");

	/* -- TLS failures -- */
	/* The server certificate comes from another center CA. */
	s2 = server_new(pki2, pki1, "127.0.0.1", TLS1_3_VERSION);
	snprintf(p, sizeof(p), "https://127.0.0.1:%d", s2->port);
	b2 = client(p, pki1, 3000, 3);
	reset();
	backend_status(b2, status_cb, NULL);
	run_until(&o.done);
	T_CHECK(o.err.kind == BACKEND_E_TLS && !o.err.maybe_processed &&
	    total(s2) == 0, "server certificate from another CA refused");
	fprintf(stderr, "   (%s)\n", o.err.message);
	backend_free(b2);
	server_free(s2);

	/* The center does not know this kiosk's fleet CA. */
	s2 = server_new(pki1, pki2, "127.0.0.1", TLS1_3_VERSION);
	snprintf(p, sizeof(p), "https://127.0.0.1:%d", s2->port);
	b2 = client(p, pki1, 3000, 3);
	reset();
	backend_status(b2, status_cb, NULL);
	run_until(&o.done);
	T_CHECK(o.err.kind == BACKEND_E_TLS && total(s2) == 0 &&
	    s2->accepts == 1, "kiosk certificate refused by the center: "
	    "TLS error, not retried");
	fprintf(stderr, "   (%s)\n", o.err.message);
	backend_free(b2);
	server_free(s2);

	/* TLS 1.2 only. */
	s2 = server_new(pki1, pki1, "127.0.0.1", TLS1_2_VERSION);
	snprintf(p, sizeof(p), "https://127.0.0.1:%d", s2->port);
	b2 = client(p, pki1, 3000, 3);
	reset();
	backend_status(b2, status_cb, NULL);
	run_until(&o.done);
	T_CHECK(o.err.kind == BACKEND_E_TLS && total(s2) == 0,
	    "TLS 1.2 server refused");
	backend_free(b2);
	server_free(s2);

	/* The certificate names 127.0.0.1 and localhost, not 127.0.0.2. */
	s2 = server_new(pki1, pki1, "127.0.0.2", TLS1_3_VERSION);
	snprintf(p, sizeof(p), "https://127.0.0.2:%d", s2->port);
	b2 = client(p, pki1, 3000, 3);
	reset();
	backend_status(b2, status_cb, NULL);
	run_until(&o.done);
	T_CHECK(o.err.kind == BACKEND_E_TLS && total(s2) == 0,
	    "server certificate for another address refused");
	fprintf(stderr, "   (%s)\n", o.err.message);
	backend_free(b2);
	server_free(s2);

	/* By name: asynchronous resolution, localhost in the certificate. */
	snprintf(p, sizeof(p), "https://localhost:%d/", s->port);
	b2 = client(p, pki1, 3000, 3);
	T_CHECK(status_once(b2), "https://localhost: resolved and verified");
	if (o.err.kind != BACKEND_OK)
		fprintf(stderr, "   (%s)\n", o.err.message);
	backend_free(b2);

	/* Nobody listening. */
	snprintf(p, sizeof(p), "https://127.0.0.1:1");
	b2 = client(p, pki1, 2000, 2);
	reset();
	backend_session_new(b2, session_cb, NULL);
	run_until(&o.done);
	T_CHECK(o.err.kind == BACKEND_E_CONNECT && !o.err.maybe_processed,
	    "connection refused: unreachable, nothing sent");
	backend_free(b2);

	backend_free(b);
	run_for(50);
	server_free(s);
	free(o.auth);
	event_base_free(base);
	{
		char	*a[] = { "/bin/rm", "-rf", pki1, pki2, NULL };

		run_cmd(a);
		if (own_dir)
			rmdir(dir);
	}
	return t_done();
}
