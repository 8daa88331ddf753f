/*
 * The five calls of center/API.md v1 on top of backend_http.c, with a
 * strict check of every answer: exact status code, Content-Type, field
 * set, types, lengths, hex and base64 syntax.  Anything else is
 * BACKEND_E_PROTOCOL with a message naming the call and the field.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "backend_local.h"
#include "json_compact.h"
#include "json_parse.h"
#include "log.h"

#define DEFAULT_TIMEOUT_MS	10000
#define DEFAULT_ATTEMPTS	3
#define DEFAULT_IDLE_MAX_MS	30000
#define DEFAULT_MAX_RESPONSE	(1024 * 1024)
#define MAX_FEE_YEN		1000000

struct backend {
	struct backend_tls	*tls;
	struct backend_http	*http;
};

enum api_kind {
	API_SESSION,
	API_AUTH,
	API_ISSUE,
	API_RESULT,
	API_STATUS
};

struct api_ctx {
	enum api_kind	 kind;
	union {
		backend_session_cb	 session;
		backend_auth_cb		 auth;
		backend_issue_cb	 issue;
		backend_result_cb	 result;
		backend_status_cb	 status;
	} cb;
	void		*arg;
	char		 what[96];	/* "POST /v1/issuances" for messages */
	char		 issuance_id[BACKEND_ID_LEN + 1];
	int		 outcome;
	int		 copies;
	char		 document[32];
};

static const char *const doctypes[] = {
	"juminhyo", "juminhyo_kisai", "inkan", "koseki_zenbu",
	"koseki_kojin", "koseki_fuhyo", "tax_shotoku"
};

int
backend_doctype_valid(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(doctypes) / sizeof(doctypes[0]); i++)
		if (strcmp(s, doctypes[i]) == 0)
			return 1;
	return 0;
}

const char *
backend_errkind_name(enum backend_errkind k)
{
	switch (k) {
	case BACKEND_OK:
		return "ok";
	case BACKEND_E_CONNECT:
		return "unreachable";
	case BACKEND_E_TLS:
		return "tls";
	case BACKEND_E_IO:
		return "connection lost";
	case BACKEND_E_TIMEOUT:
		return "timeout";
	case BACKEND_E_PROTOCOL:
		return "protocol error";
	case BACKEND_E_SERVER:
		return "center error";
	case BACKEND_E_SHUTDOWN:
		return "shut down";
	case BACKEND_E_INTERNAL:
		return "internal error";
	}
	return "unknown";
}

static int
id_ok(const char *s)
{
	return s != NULL && strlen(s) == BACKEND_ID_LEN &&
	    bj_hex_ok(s, BACKEND_ID_LEN);
}

static int
idemkey_ok(const char *s)
{
	size_t	 len;

	if (s == NULL)
		return 0;
	len = strlen(s);
	return len >= BACKEND_IDEMKEY_MIN && len <= BACKEND_IDEMKEY_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") == len;
}

int
backend_idempotency_key(char *dst, size_t dstlen)
{
	static const char	 digits[] = "0123456789abcdef";
	uint8_t			 rnd[BACKEND_IDEMKEY_LEN / 2];
	size_t			 i;

	if (dstlen < BACKEND_IDEMKEY_LEN + 1 ||
	    RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	for (i = 0; i < sizeof(rnd); i++) {
		dst[2 * i] = digits[rnd[i] >> 4];
		dst[2 * i + 1] = digits[rnd[i] & 0xf];
	}
	dst[BACKEND_IDEMKEY_LEN] = '\0';
	return 0;
}

/* ---- life cycle ---- */

/*
 * OpenSSL writes to the socket with write(2): a center that closed the
 * connection would raise SIGPIPE and kill the worker.  Unless the process
 * already handles it, ignore it: the write then fails with EPIPE.
 */
static int
sigpipe_ignore(char *err, size_t errlen)
{
	struct sigaction	 sa;

	if (sigaction(SIGPIPE, NULL, &sa) == -1) {
		snprintf(err, errlen, "sigaction: %s", strerror(errno));
		return -1;
	}
	if (!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGPIPE, &sa, NULL) == -1) {
			snprintf(err, errlen, "sigaction: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

struct backend *
backend_new(struct event_base *base, const struct backend_config *cfg,
    char *err, size_t errlen)
{
	struct backend		*b;
	struct http_params	 p;

	if (base == NULL || cfg == NULL) {
		snprintf(err, errlen, "no event base or configuration");
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.url = cfg->url;
	p.timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms :
	    DEFAULT_TIMEOUT_MS;
	p.max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts :
	    DEFAULT_ATTEMPTS;
	p.idle_max_ms = cfg->idle_max_ms > 0 ? cfg->idle_max_ms :
	    DEFAULT_IDLE_MAX_MS;
	p.max_response = cfg->max_response > 0 ? cfg->max_response :
	    DEFAULT_MAX_RESPONSE;
	if (p.timeout_ms > 600000 || p.max_attempts > 10 ||
	    p.idle_max_ms > 3600000 || p.max_response > 64 * 1024 * 1024) {
		snprintf(err, errlen, "timeout, attempts, idle or response "
		    "limit out of range");
		return NULL;
	}
	if (sigpipe_ignore(err, errlen) == -1)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((b->tls = backend_tls_new(cfg->ca_file, cfg->cert_file,
	    cfg->key_file, err, errlen)) == NULL ||
	    (b->http = backend_http_new(base, b->tls, &p, err,
	    errlen)) == NULL) {
		backend_tls_free(b->tls);
		free(b);
		return NULL;
	}
	return b;
}

void
backend_free(struct backend *b)
{
	if (b == NULL)
		return;
	/*
	 * The http client may outlive this call when freed from inside one
	 * of its callbacks; it never uses the TLS context after
	 * backend_http_free() because its connection is closed there.
	 */
	backend_http_free(b->http);
	backend_tls_free(b->tls);
	free(b);
}

int
backend_cancel(struct backend *b, uint64_t id)
{
	return backend_http_cancel(b->http, id);
}

void
backend_get_stats(const struct backend *b, struct backend_stats *st)
{
	backend_http_stats(b->http, st);
}

/* ---- answers ---- */

static void
deliver_error(struct api_ctx *c, const struct backend_error *err)
{
	switch (c->kind) {
	case API_SESSION:
		c->cb.session(err, NULL, c->arg);
		break;
	case API_AUTH:
		c->cb.auth(err, NULL, c->arg);
		break;
	case API_ISSUE:
		c->cb.issue(err, NULL, c->arg);
		break;
	case API_RESULT:
		c->cb.result(err, NULL, c->arg);
		break;
	case API_STATUS:
		c->cb.status(err, NULL, c->arg);
		break;
	}
}

static int
check_status(struct api_ctx *c, const struct http_response *res, int want,
    int want2, struct backend_error *err)
{
	if (res->status != want && res->status != want2) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: HTTP %d, "
		    "expected %d", c->what, res->status, want);
		err->http_status = res->status;
		return -1;
	}
	if (!res->json) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: answer is not "
		    "application/json", c->what);
		return -1;
	}
	return 0;
}

static json_t *
load_body(struct api_ctx *c, const struct http_response *res,
    struct backend_error *err)
{
	json_t		*root;
	json_error_t	 je;

	if ((root = json_parse((const char *)res->body, res->len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: bad JSON at "
		    "offset %d", c->what, je.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: answer is not a "
		    "JSON object", c->what);
		json_decref(root);
		return NULL;
	}
	return root;
}

static int
get_id(json_t *o, const char *what, const char *key, char *dst,
    struct backend_error *err)
{
	if (bj_str(o, what, key, BACKEND_ID_LEN, BACKEND_ID_LEN, dst,
	    BACKEND_ID_LEN + 1, err) == -1)
		return -1;
	if (!bj_hex_ok(dst, BACKEND_ID_LEN)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: field \"%s\" is "
		    "not 32 hex characters", what, key);
		return -1;
	}
	return 0;
}

static int
get_time(json_t *o, const char *what, const char *key, char *dst,
    size_t dstlen, struct backend_error *err)
{
	if (bj_str(o, what, key, 20, dstlen - 1, dst, dstlen, err) == -1)
		return -1;
	if (!bj_rfc3339_ok(dst)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: field \"%s\" is "
		    "not an RFC 3339 UTC time", what, key);
		return -1;
	}
	return 0;
}

static int
parse_session(struct api_ctx *c, json_t *o, struct backend_session *s,
    struct backend_error *err)
{
	static const char *const keys[] = { "session_id", "challenge",
	    "expires_at", "expires_in" };
	char		 b64[64];
	long long	 n;

	if (bj_keys_only(o, c->what, keys, 4, err) == -1 ||
	    get_id(o, c->what, "session_id", s->session_id, err) == -1 ||
	    bj_str(o, c->what, "challenge", 44, 44, b64, sizeof(b64),
	    err) == -1)
		return -1;
	if (bj_b64_decode(s->challenge, sizeof(s->challenge), b64, 44) !=
	    BACKEND_CHALLENGE_LEN) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: field "
		    "\"challenge\" is not base64 of %d bytes", c->what,
		    BACKEND_CHALLENGE_LEN);
		return -1;
	}
	if (get_time(o, c->what, "expires_at", s->expires_at,
	    sizeof(s->expires_at), err) == -1 ||
	    bj_int(o, c->what, "expires_in", 1, 3600, &n, err) == -1)
		return -1;
	s->expires_in = (int)n;
	return 0;
}

static int
ref_ok(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") == strlen(s);
}

static int
parse_unavailable(const char *what, json_t *v, struct backend_unavailable *u,
    struct backend_error *err)
{
	static const char *const keys[] = { "reason", "message", "message_ja" };

	memset(u, 0, sizeof(*u));
	if (json_is_null(v))
		return 0;
	if (bj_keys_only(v, what, keys, 3, err) == -1 ||
	    bj_str(v, what, "reason", 1, BACKEND_CODE_MAX, u->reason,
	    sizeof(u->reason), err) == -1 ||
	    bj_str(v, what, "message", 0, sizeof(u->message) - 1, u->message,
	    sizeof(u->message), err) == -1 ||
	    bj_str(v, what, "message_ja", 0, sizeof(u->message_ja) - 1,
	    u->message_ja, sizeof(u->message_ja), err) == -1)
		return -1;
	if (!bj_code_ok(u->reason)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: bad reason syntax",
		    what);
		return -1;
	}
	u->present = 1;
	return 0;
}

static int
parse_doc(struct api_ctx *c, size_t i, json_t *d, struct backend_doc *doc,
    struct backend_error *err)
{
	static const char *const keys[] = { "type", "title_ja", "title_en",
	    "fee_yen", "max_copies", "options", "unavailable" };
	char		 what[160];
	json_t		*v;
	char		*s;
	long long	 n;
	size_t		 len;

	snprintf(what, sizeof(what), "%s: documents[%zu]", c->what, i);
	if (bj_keys_only(d, what, keys, 7, err) == -1 ||
	    bj_str(d, what, "type", 1, sizeof(doc->type) - 1, doc->type,
	    sizeof(doc->type), err) == -1)
		return -1;
	if (!backend_doctype_valid(doc->type)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: unknown document "
		    "type", what);
		return -1;
	}
	if (bj_str(d, what, "title_ja", 1, sizeof(doc->title_ja) - 1,
	    doc->title_ja, sizeof(doc->title_ja), err) == -1 ||
	    bj_str(d, what, "title_en", 1, sizeof(doc->title_en) - 1,
	    doc->title_en, sizeof(doc->title_en), err) == -1 ||
	    bj_int(d, what, "fee_yen", 0, MAX_FEE_YEN, &n, err) == -1)
		return -1;
	doc->fee_yen = (int)n;
	if (bj_int(d, what, "max_copies", 1, BACKEND_MAX_COPIES, &n,
	    err) == -1)
		return -1;
	doc->max_copies = (int)n;
	if ((v = bj_get(d, what, "options", JSON_OBJECT, err)) == NULL)
		return -1;
	if ((s = json_dumps(v, JSON_COMPACT)) == NULL) {
		backend_seterr(err, BACKEND_E_INTERNAL, "%s: cannot serialise "
		    "options", what);
		return -1;
	}
	len = strlen(s);
	if (len >= sizeof(doc->options_json)) {
		free(s);
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: options over %zu "
		    "bytes", what, sizeof(doc->options_json) - 1);
		return -1;
	}
	memcpy(doc->options_json, s, len + 1);
	free(s);
	if ((v = json_object_get(d, "unavailable")) == NULL) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: missing field "
		    "\"unavailable\"", what);
		return -1;
	}
	if (!json_is_null(v) && !json_is_object(v)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: field "
		    "\"unavailable\" is neither null nor an object", what);
		return -1;
	}
	strncat(what, ".unavailable", sizeof(what) - strlen(what) - 1);
	return parse_unavailable(what, v, &doc->unavailable, err);
}

static int
parse_auth(struct api_ctx *c, json_t *o, struct backend_auth *a,
    struct backend_error *err)
{
	static const char *const keys[] = { "resident", "certificate",
	    "documents" };
	static const char *const rkeys[] = { "display_name", "ref" };
	static const char *const ckeys[] = { "serial", "not_after",
	    "expires_soon" };
	char		 what[160];
	json_t		*v, *d;
	size_t		 i;

	if (bj_keys_only(o, c->what, keys, 3, err) == -1)
		return -1;
	snprintf(what, sizeof(what), "%s: resident", c->what);
	if ((v = bj_get(o, c->what, "resident", JSON_OBJECT, err)) == NULL ||
	    bj_keys_only(v, what, rkeys, 2, err) == -1 ||
	    bj_str(v, what, "display_name", 1, sizeof(a->display_name) - 1,
	    a->display_name, sizeof(a->display_name), err) == -1 ||
	    bj_str(v, what, "ref", 1, sizeof(a->resident_ref) - 1,
	    a->resident_ref, sizeof(a->resident_ref), err) == -1)
		return -1;
	if (!ref_ok(a->resident_ref)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: \"ref\" is not "
		    "[A-Za-z0-9_-]", what);
		return -1;
	}
	snprintf(what, sizeof(what), "%s: certificate", c->what);
	if ((v = bj_get(o, c->what, "certificate", JSON_OBJECT, err)) == NULL ||
	    bj_keys_only(v, what, ckeys, 3, err) == -1 ||
	    bj_str(v, what, "serial", 1, sizeof(a->cert_serial) - 1,
	    a->cert_serial, sizeof(a->cert_serial), err) == -1)
		return -1;
	if (!bj_hex_ok(a->cert_serial, strlen(a->cert_serial))) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: \"serial\" is not "
		    "hex", what);
		return -1;
	}
	if (get_time(v, what, "not_after", a->cert_not_after,
	    sizeof(a->cert_not_after), err) == -1 ||
	    bj_bool(v, what, "expires_soon", &a->expires_soon, err) == -1)
		return -1;
	if ((v = bj_get(o, c->what, "documents", JSON_ARRAY, err)) == NULL)
		return -1;
	if (json_array_size(v) > BACKEND_MAX_DOCS) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: more than %d "
		    "documents", c->what, BACKEND_MAX_DOCS);
		return -1;
	}
	json_array_foreach(v, i, d) {
		if (parse_doc(c, i, d, &a->docs[i], err) == -1)
			return -1;
	}
	a->ndocs = json_array_size(v);
	return 0;
}

/* Decoded content and signature live in *buf, freed by the caller. */
static int
parse_issue(struct api_ctx *c, json_t *o, struct backend_issuance *is,
    uint8_t **buf, struct backend_error *err)
{
	/* "document" is not in API.md's example but kiosk-centerd sends
	   it: accepted when it names the type asked for. */
	static const char *const keys[] = { "issuance_id", "fee_yen",
	    "copies", "content", "signature", "key_id", "document", "code" };
	const size_t	 b64max = (BACKEND_CONTENT_MAX + 2) / 3 * 4;
	json_t		*v;
	const char	*s;
	size_t		 len;
	long long	 n;
	long		 dec;
	uint8_t		*p;
	char		 doc[32];

	if (bj_keys_only(o, c->what, keys, 8, err) == -1 ||
	    get_id(o, c->what, "issuance_id", is->issuance_id, err) == -1 ||
	    bj_int(o, c->what, "fee_yen", 0, MAX_FEE_YEN, &n, err) == -1)
		return -1;
	is->fee_yen = (int)n;
	if (bj_int(o, c->what, "copies", 1, BACKEND_MAX_COPIES, &n, err) == -1)
		return -1;
	is->copies = (int)n;
	if (json_object_get(o, "document") != NULL) {
		if (bj_str(o, c->what, "document", 1, sizeof(doc) - 1, doc,
		    sizeof(doc), err) == -1)
			return -1;
		if (strcmp(doc, c->document) != 0) {
			backend_seterr(err, BACKEND_E_PROTOCOL, "%s: answer is "
			    "for another document type", c->what);
			return -1;
		}
	}
	if (is->copies != c->copies) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: %d copies issued, "
		    "%d asked", c->what, is->copies, c->copies);
		return -1;
	}
	if (bj_str(o, c->what, "key_id", 64, 64, is->key_id,
	    sizeof(is->key_id), err) == -1)
		return -1;
	if (!bj_hex_ok(is->key_id, 64)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: \"key_id\" is not "
		    "64 hex characters", c->what);
		return -1;
	}
	/* The signed document code printed on the paper: its syntax here,
	   its signature and content hash in docverify. */
	if (bj_str(o, c->what, "code", 1, BACKEND_DOCCODE_MAX, is->code,
	    sizeof(is->code), err) == -1)
		return -1;
	if ((v = bj_get(o, c->what, "content", JSON_STRING, err)) == NULL)
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len > b64max) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: \"content\" has "
		    "%zu base64 chars, not 1..%zu", c->what, len, b64max);
		return -1;
	}
	if ((p = *buf = malloc(BACKEND_CONTENT_MAX + BACKEND_DOCSIG_MAX)) ==
	    NULL) {
		backend_seterr(err, BACKEND_E_INTERNAL, "out of memory");
		return -1;
	}
	if ((dec = bj_b64_decode(p, BACKEND_CONTENT_MAX, s, len)) <= 0) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: \"content\" is not "
		    "valid base64 of at most %d bytes", c->what,
		    BACKEND_CONTENT_MAX);
		return -1;
	}
	is->content = p;
	is->content_len = (size_t)dec;
	if ((v = bj_get(o, c->what, "signature", JSON_STRING, err)) == NULL)
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len > (BACKEND_DOCSIG_MAX + 2) / 3 * 4 ||
	    (dec = bj_b64_decode(p + BACKEND_CONTENT_MAX, BACKEND_DOCSIG_MAX,
	    s, len)) < 8) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: \"signature\" is "
		    "not base64 of 8..%d bytes", c->what, BACKEND_DOCSIG_MAX);
		return -1;
	}
	is->signature = p + BACKEND_CONTENT_MAX;
	is->sig_len = (size_t)dec;
	return 0;
}

static int
parse_result(struct api_ctx *c, json_t *o, struct backend_result *r,
    struct backend_error *err)
{
	static const char *const keys[] = { "issuance_id", "state" };
	char	 state[16];

	if (bj_keys_only(o, c->what, keys, 2, err) == -1 ||
	    get_id(o, c->what, "issuance_id", r->issuance_id, err) == -1 ||
	    bj_str(o, c->what, "state", 1, sizeof(state) - 1, state,
	    sizeof(state), err) == -1)
		return -1;
	if (strcasecmp(r->issuance_id, c->issuance_id) != 0) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: answer names "
		    "another issuance", c->what);
		return -1;
	}
	if (strcmp(state, "committed") == 0)
		r->committed = 1;
	else if (strcmp(state, "voided") == 0)
		r->committed = 0;
	else {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: unknown state",
		    c->what);
		return -1;
	}
	if (r->committed != (c->outcome == BACKEND_PRINTED)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: state %s does not "
		    "match the reported outcome", c->what, state);
		return -1;
	}
	return 0;
}

static int
parse_status(struct api_ctx *c, json_t *o, struct backend_status *st,
    struct backend_error *err)
{
	static const char *const keys[] = { "status", "version" };
	char		 s[8];
	long long	 n;

	if (bj_keys_only(o, c->what, keys, 2, err) == -1 ||
	    bj_str(o, c->what, "status", 1, sizeof(s) - 1, s, sizeof(s),
	    err) == -1 ||
	    bj_int(o, c->what, "version", 0, 1000, &n, err) == -1)
		return -1;
	if (strcmp(s, "ok") != 0) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: status is not "
		    "\"ok\"", c->what);
		return -1;
	}
	if (n != 1) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: center speaks "
		    "version %lld, not 1", c->what, n);
		return -1;
	}
	st->version = (int)n;
	return 0;
}

/* "what: message", truncating the message if need be. */
static void
prefix_message(struct backend_error *err, const char *what)
{
	size_t	 pl = strlen(what), ml = strlen(err->message);
	size_t	 room = sizeof(err->message) - 1;

	if (pl + 2 > room)
		return;
	if (pl + 2 + ml > room)
		ml = room - pl - 2;
	memmove(err->message + pl + 2, err->message, ml);
	err->message[pl + 2 + ml] = '\0';
	memcpy(err->message, what, pl);
	err->message[pl] = ':';
	err->message[pl + 1] = ' ';
}

static void
api_done(struct backend_error *err, const struct http_response *res,
    int cancelled, void *arg)
{
	struct api_ctx		*c = arg;
	json_t			*root = NULL;
	struct backend_auth	*auth = NULL;
	uint8_t			*buf = NULL;
	union {
		struct backend_session	 session;
		struct backend_issuance	 issue;
		struct backend_result	 result;
		struct backend_status	 status;
	} u;
	int			 rc = -1;

	if (cancelled)
		goto out;
	if (err->kind != BACKEND_OK) {
		log_debug("backend: %s", err->message);
		deliver_error(c, err);
		goto out;
	}
	if (res->status < 200 || res->status > 299) {
		bj_parse_error(res, err);
		if (err->kind == BACKEND_E_PROTOCOL)
			prefix_message(err, c->what);
		deliver_error(c, err);
		goto out;
	}
	memset(&u, 0, sizeof(u));
	switch (c->kind) {
	case API_SESSION:
		if (check_status(c, res, 201, 201, err) == 0 &&
		    (root = load_body(c, res, err)) != NULL)
			rc = parse_session(c, root, &u.session, err);
		if (rc == 0)
			c->cb.session(err, &u.session, c->arg);
		explicit_bzero(&u.session, sizeof(u.session));
		break;
	case API_AUTH:
		if ((auth = calloc(1, sizeof(*auth))) == NULL)
			backend_seterr(err, BACKEND_E_INTERNAL, "%s: out of "
			    "memory", c->what);
		else if (check_status(c, res, 200, 200, err) == 0 &&
		    (root = load_body(c, res, err)) != NULL)
			rc = parse_auth(c, root, auth, err);
		if (rc == 0) {
			auth->json = (const char *)res->body;
			auth->json_len = res->len;
			c->cb.auth(err, auth, c->arg);
		}
		if (auth != NULL)
			explicit_bzero(auth, sizeof(*auth));
		free(auth);
		break;
	case API_ISSUE:
		if (check_status(c, res, 201, 200, err) == 0 &&
		    (root = load_body(c, res, err)) != NULL)
			rc = parse_issue(c, root, &u.issue, &buf, err);
		if (rc == 0) {
			u.issue.created = res->status == 201;
			c->cb.issue(err, &u.issue, c->arg);
		}
		break;
	case API_RESULT:
		if (check_status(c, res, 200, 200, err) == 0 &&
		    (root = load_body(c, res, err)) != NULL)
			rc = parse_result(c, root, &u.result, err);
		if (rc == 0)
			c->cb.result(err, &u.result, c->arg);
		break;
	case API_STATUS:
		if (check_status(c, res, 200, 200, err) == 0 &&
		    (root = load_body(c, res, err)) != NULL)
			rc = parse_status(c, root, &u.status, err);
		if (rc == 0) {
			u.status.rtt_ms = res->rtt_ms;
			c->cb.status(err, &u.status, c->arg);
		}
		break;
	}
	if (rc == -1) {
		log_debug("backend: %s", err->message);
		deliver_error(c, err);
	}
out:
	json_decref(root);
	if (buf != NULL)
		explicit_bzero(buf, BACKEND_CONTENT_MAX + BACKEND_DOCSIG_MAX);
	free(buf);
	free(c);
}

static struct api_ctx *
ctx_new(enum api_kind kind, const char *method, const char *path, void *arg)
{
	struct api_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("backend: out of memory");
		return NULL;
	}
	c->kind = kind;
	c->arg = arg;
	snprintf(c->what, sizeof(c->what), "%s %s", method, path);
	return c;
}

static uint64_t
submit(struct backend *b, struct api_ctx *c, const char *method,
    const char *path, json_t *body, int idempotent)
{
	char		*s = NULL;
	size_t		 len = 0;
	uint64_t	 id;

	if (body != NULL && (s = json_compact(body, &len)) == NULL) {
		log_warnx("backend: %s: cannot serialise the request", c->what);
		free(c);
		return 0;
	}
	id = backend_http_request(b->http, method, path, s, len, idempotent,
	    api_done, c);
	if (s != NULL) {
		explicit_bzero(s, len);
		free(s);
	}
	if (id == 0) {
		log_warnx("backend: %s: cannot queue the request", c->what);
		free(c);
	}
	return id;
}

uint64_t
backend_session_new(struct backend *b, backend_session_cb cb, void *arg)
{
	struct api_ctx	*c;
	json_t		*body;
	uint64_t	 id;

	if (cb == NULL || (c = ctx_new(API_SESSION, "POST", "/v1/sessions",
	    arg)) == NULL)
		return 0;
	c->cb.session = cb;
	if ((body = json_object()) == NULL) {
		free(c);
		return 0;
	}
	/* Never re-sent: a second session would be a silent duplicate. */
	id = submit(b, c, "POST", "/v1/sessions", body, 0);
	json_decref(body);
	return id;
}

uint64_t
backend_auth(struct backend *b, const char *session_id,
    const uint8_t *cert_der, size_t cert_len, const uint8_t *sig,
    size_t sig_len, backend_auth_cb cb, void *arg)
{
	struct api_ctx	*c;
	json_t		*body = NULL;
	char		*cert64 = NULL, *sig64 = NULL, path[64];
	uint64_t	 id = 0;

	if (cb == NULL || !id_ok(session_id) || cert_der == NULL ||
	    cert_len == 0 || cert_len > BACKEND_CERT_MAX || sig == NULL ||
	    sig_len == 0 || sig_len > BACKEND_SIG_MAX) {
		log_warnx("backend: auth: bad session id, certificate or "
		    "signature");
		return 0;
	}
	snprintf(path, sizeof(path), "/v1/sessions/%s/auth", session_id);
	if ((c = ctx_new(API_AUTH, "POST", path, arg)) == NULL)
		return 0;
	c->cb.auth = cb;
	if ((cert64 = bj_b64_encode(cert_der, cert_len)) == NULL ||
	    (sig64 = bj_b64_encode(sig, sig_len)) == NULL ||
	    (body = json_pack("{s:s, s:s}", "certificate", cert64,
	    "signature", sig64)) == NULL) {
		log_warnx("backend: auth: cannot build the request");
		free(c);
		goto out;
	}
	/* Never re-sent: the challenge is single use (session_used). */
	id = submit(b, c, "POST", path, body, 0);
out:
	json_decref(body);
	free(cert64);
	free(sig64);
	return id;
}

uint64_t
backend_issue(struct backend *b, const char *session_id, const char *document,
    const char *options_json, int copies, const char *idempotency_key,
    backend_issue_cb cb, void *arg)
{
	struct api_ctx	*c;
	json_t		*body = NULL, *opts = NULL;
	json_error_t	 je;
	uint64_t	 id = 0;

	if (cb == NULL || !id_ok(session_id) || document == NULL ||
	    !backend_doctype_valid(document) || copies < 1 ||
	    copies > BACKEND_MAX_COPIES || !idemkey_ok(idempotency_key) ||
	    options_json == NULL || strlen(options_json) >
	    BACKEND_OPTIONS_MAX) {
		log_warnx("backend: issue: bad session id, document, copies, "
		    "idempotency key or options");
		return 0;
	}
	if ((opts = json_loads(options_json, JSON_REJECT_DUPLICATES,
	    &je)) == NULL || !json_is_object(opts)) {
		log_warnx("backend: issue: options are not a JSON object");
		json_decref(opts);
		return 0;
	}
	if ((c = ctx_new(API_ISSUE, "POST", "/v1/issuances", arg)) == NULL)
		goto out;
	c->cb.issue = cb;
	c->copies = copies;
	snprintf(c->document, sizeof(c->document), "%s", document);
	if ((body = json_pack("{s:s, s:s, s:O, s:i, s:s}", "session_id",
	    session_id, "document", document, "options", opts, "copies",
	    copies, "idempotency_key", idempotency_key)) == NULL) {
		log_warnx("backend: issue: cannot build the request");
		free(c);
		goto out;
	}
	/* Safe to re-send: the key makes the center answer the same issuance. */
	id = submit(b, c, "POST", "/v1/issuances", body, 1);
out:
	json_decref(body);
	json_decref(opts);
	return id;
}

uint64_t
backend_result(struct backend *b, const char *issuance_id,
    enum backend_outcome outcome, int pages, backend_result_cb cb, void *arg)
{
	struct api_ctx	*c;
	json_t		*body;
	char		 path[80];
	uint64_t	 id;

	if (cb == NULL || !id_ok(issuance_id) || (outcome != BACKEND_PRINTED &&
	    outcome != BACKEND_FAILED) || pages < 0 ||
	    pages > BACKEND_MAX_PAGES) {
		log_warnx("backend: result: bad issuance id, outcome or pages");
		return 0;
	}
	snprintf(path, sizeof(path), "/v1/issuances/%s/result", issuance_id);
	if ((c = ctx_new(API_RESULT, "POST", path, arg)) == NULL)
		return 0;
	c->cb.result = cb;
	c->outcome = outcome;
	memcpy(c->issuance_id, issuance_id, BACKEND_ID_LEN + 1);
	if ((body = json_pack("{s:s, s:i}", "status", outcome ==
	    BACKEND_PRINTED ? "printed" : "failed", "pages", pages)) == NULL) {
		free(c);
		return 0;
	}
	/* Safe to re-send: the same outcome again is answered 200 again. */
	id = submit(b, c, "POST", path, body, 1);
	json_decref(body);
	return id;
}

uint64_t
backend_status(struct backend *b, backend_status_cb cb, void *arg)
{
	struct api_ctx	*c;

	if (cb == NULL || (c = ctx_new(API_STATUS, "GET", "/v1/status",
	    arg)) == NULL)
		return 0;
	c->cb.status = cb;
	return submit(b, c, "GET", "/v1/status", NULL, 1);
}
