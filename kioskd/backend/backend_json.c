/*
 * Strict checks of the center's JSON: every field typed and bounded,
 * unknown fields refused, base64 and hex syntax checked before use.
 * A failed check fills a backend_error of kind BACKEND_E_PROTOCOL whose
 * message names the field; untrusted names are escaped first.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "backend_local.h"
#include "json_parse.h"
#include "log.h"

void
backend_seterr(struct backend_error *err, enum backend_errkind kind,
    const char *fmt, ...)
{
	va_list	 ap;

	err->kind = kind;
	err->code[0] = '\0';
	err->reason[0] = '\0';
	err->message_ja[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

int
bj_keys_only(json_t *obj, const char *what, const char *const *keys,
    size_t nkeys, struct backend_error *err)
{
	const char	*k;
	json_t		*v;
	size_t		 i;
	char		 esc[64];

	if (!json_is_object(obj)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: not a JSON object",
		    what);
		return -1;
	}
	json_object_foreach(obj, k, v) {
		for (i = 0; i < nkeys; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == nkeys) {
			backend_seterr(err, BACKEND_E_PROTOCOL,
			    "%s: unknown field \"%s\"", what,
			    log_escape(esc, sizeof(esc), k, strlen(k)));
			return -1;
		}
	}
	return 0;
}

static const char *
json_type_name(int type)
{
	switch (type) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "a value";
	}
}

/* The field, which must exist and have this type (JSON_TRUE: boolean). */
json_t *
bj_get(json_t *obj, const char *what, const char *key, int type,
    struct backend_error *err)
{
	json_t	*v;
	int	 ok;

	if ((v = json_object_get(obj, key)) == NULL) {
		backend_seterr(err, BACKEND_E_PROTOCOL,
		    "%s: missing field \"%s\"", what, key);
		return NULL;
	}
	if (type == JSON_TRUE || type == JSON_FALSE)
		ok = json_is_boolean(v);
	else
		ok = json_typeof(v) == (json_type)type;
	if (!ok) {
		backend_seterr(err, BACKEND_E_PROTOCOL,
		    "%s: field \"%s\" is not %s", what, key,
		    json_type_name(type));
		return NULL;
	}
	return v;
}

/* Printable text: no control characters (jansson checked the UTF-8). */
int
bj_text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
bj_str(json_t *obj, const char *what, const char *key, size_t minlen,
    size_t maxlen, char *dst, size_t dstlen, struct backend_error *err)
{
	json_t		*v;
	const char	*s;
	size_t		 len;

	if ((v = bj_get(obj, what, key, JSON_STRING, err)) == NULL)
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len < minlen || len > maxlen || len >= dstlen) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: field \"%s\" "
		    "has %zu bytes, not %zu..%zu", what, key, len, minlen,
		    maxlen);
		return -1;
	}
	if (strlen(s) != len || !bj_text_ok(s)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: field \"%s\" "
		    "contains control characters", what, key);
		return -1;
	}
	memcpy(dst, s, len + 1);
	return 0;
}

int
bj_int(json_t *obj, const char *what, const char *key, long long min,
    long long max, long long *out, struct backend_error *err)
{
	json_t		*v;
	json_int_t	 n;

	if ((v = bj_get(obj, what, key, JSON_INTEGER, err)) == NULL)
		return -1;
	n = json_integer_value(v);
	if (n < min || n > max) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: field \"%s\" = "
		    "%lld is outside %lld..%lld", what, key, (long long)n, min,
		    max);
		return -1;
	}
	*out = n;
	return 0;
}

int
bj_bool(json_t *obj, const char *what, const char *key, int *out,
    struct backend_error *err)
{
	json_t	*v;

	if ((v = bj_get(obj, what, key, JSON_TRUE, err)) == NULL)
		return -1;
	*out = json_is_true(v);
	return 0;
}

int
bj_hex_ok(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return s[len] == '\0';
}

/* An API.md error code or reason: [a-z0-9_], 1..BACKEND_CODE_MAX. */
int
bj_code_ok(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= BACKEND_CODE_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	}
	return i > 0;
}

static int
digits(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* YYYY-MM-DDTHH:MM:SS[.frac](Z|+00:00), fields in range. */
int
bj_rfc3339_ok(const char *s)
{
	size_t	 len = strlen(s), i;
	int	 mo, d, h, mi, sec;

	if (len < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2) || (s[10] != 'T' &&
	    s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return 0;
	mo = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	h = (s[11] - '0') * 10 + (s[12] - '0');
	mi = (s[14] - '0') * 10 + (s[15] - '0');
	sec = (s[17] - '0') * 10 + (s[18] - '0');
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return 0;
	i = 19;
	if (s[i] == '.') {
		i++;
		if (!digits(s + i, 1))
			return 0;
		while (i < len && i < 30 && digits(s + i, 1))
			i++;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0')
		return 1;
	return strcmp(s + i, "+00:00") == 0;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
bj_b64_decode(uint8_t *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t		 i, n = 0, pad = 0;
	int		 v[4], k;
	uint32_t	 w;

	if (srclen % 4 != 0 || srclen / 4 * 3 > dstlen + 2)
		return -1;
	for (i = 0; i < srclen; i += 4) {
		for (k = 0; k < 4; k++) {
			if (src[i + k] == '=' && i + 4 == srclen && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = b64val((unsigned char)
			    src[i + k])) < 0)
				return -1;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* Canonical: the bits under the padding are zero. */
		if ((pad == 1 && (w & 0xff) != 0) ||
		    (pad == 2 && (w & 0xffff) != 0))
			return -1;
		if (n + 3 - pad > dstlen)
			return -1;
		dst[n++] = w >> 16;
		if (pad < 2)
			dst[n++] = (w >> 8) & 0xff;
		if (pad < 1)
			dst[n++] = w & 0xff;
	}
	return (long)n;
}

char *
bj_b64_encode(const uint8_t *src, size_t len)
{
	char	*dst;
	size_t	 outlen;

	if (len > 1024 * 1024)
		return NULL;
	outlen = (len + 2) / 3 * 4;
	if ((dst = malloc(outlen + 1)) == NULL)
		return NULL;
	if (EVP_EncodeBlock((unsigned char *)dst, src, (int)len) !=
	    (int)outlen) {
		free(dst);
		return NULL;
	}
	dst[outlen] = '\0';
	return dst;
}

/*
 * {"error": {"code", "message", "message_ja"[, "reason"]}}.  A body that
 * is not such an object is a protocol error that still carries the HTTP
 * status, so the caller can tell a 503 from a 400.
 */
void
bj_parse_error(const struct http_response *res, struct backend_error *err)
{
	static const char *const top[] = { "error" };
	static const char *const inner[] = { "code", "message", "message_ja",
	    "reason" };
	json_t		*root = NULL, *e;
	json_error_t	 je;
	char		 code[BACKEND_CODE_MAX + 1], reason[BACKEND_CODE_MAX + 1];
	char		 what[64];

	snprintf(what, sizeof(what), "HTTP %d error object", res->status);
	reason[0] = '\0';
	if (!res->json) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "HTTP %d without a JSON "
		    "error object", res->status);
		goto out;
	}
	if ((root = json_parse((const char *)res->body, res->len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: bad JSON at "
		    "offset %d", what, je.position);
		goto out;
	}
	if (bj_keys_only(root, what, top, 1, err) == -1 ||
	    (e = bj_get(root, what, "error", JSON_OBJECT, err)) == NULL ||
	    bj_keys_only(e, what, inner, 4, err) == -1 ||
	    bj_str(e, what, "code", 1, BACKEND_CODE_MAX, code, sizeof(code),
	    err) == -1)
		goto out;
	if (!bj_code_ok(code)) {
		backend_seterr(err, BACKEND_E_PROTOCOL, "%s: bad code syntax",
		    what);
		goto out;
	}
	if (json_object_get(e, "reason") != NULL) {
		if (bj_str(e, what, "reason", 1, BACKEND_CODE_MAX, reason,
		    sizeof(reason), err) == -1)
			goto out;
		if (!bj_code_ok(reason)) {
			backend_seterr(err, BACKEND_E_PROTOCOL, "%s: bad reason "
			    "syntax", what);
			goto out;
		}
	}
	if (bj_str(e, what, "message", 0, sizeof(err->message) - 1,
	    err->message, sizeof(err->message), err) == -1 ||
	    bj_str(e, what, "message_ja", 0, sizeof(err->message_ja) - 1,
	    err->message_ja, sizeof(err->message_ja), err) == -1)
		goto out;
	err->kind = BACKEND_E_SERVER;
	memcpy(err->code, code, sizeof(code));
	memcpy(err->reason, reason, sizeof(reason));
out:
	err->http_status = res->status;
	json_decref(root);
}
