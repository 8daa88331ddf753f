/*
 * Shared pieces of the request handlers: JSON replies and error objects
 * (API.md "Errors"), strict reading of request bodies, base64, times and
 * random identifiers.  Everything works on the caller's api_job only.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "centerd.h"
#include "hex.h"
#include "json_compact.h"
#include "json_parse.h"
#include "log.h"

static const char oom_reply[] = "{\"error\":{\"code\":\"internal_error\","
    "\"message\":\"Internal error.\",\"message_ja\":"
    "\"内部エラーが発生しました。\"}}";

/* json (len bytes, malloc'd) becomes the reply; NULL: out of memory */
static void
reply_set(struct api_job *j, int status, char *json, size_t len)
{
	free(j->reply);
	j->reply = NULL;
	j->reply_len = 0;
	if (json == NULL) {
		j->status = 500;
		if ((j->reply = strdup(oom_reply)) != NULL)
			j->reply_len = strlen(j->reply);
		return;
	}
	j->status = status;
	j->reply = json;
	j->reply_len = len;
}

void
api_reply_text(struct api_job *j, int status, char *json)
{
	reply_set(j, status, json, json != NULL ? strlen(json) : 0);
}

void
api_reply_json(struct api_job *j, int status, json_t *o)
{
	char *s = NULL;
	size_t len = 0;

	if (o != NULL)
		s = json_compact(o, &len);
	json_decref(o);
	reply_set(j, status, s, len);
}

void
api_reply_error(struct api_job *j, int status, const char *code,
    const char *en, const char *ja)
{
	json_t *o;

	o = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code,
	    "message", en, "message_ja", ja);
	api_reply_json(j, status, o);
	(void)snprintf(j->note, sizeof(j->note), "%s", code);
}

void
api_bad_request(struct api_job *j, const char *what)
{
	char en[256];

	(void)snprintf(en, sizeof(en), "Bad request: %s.", what);
	api_reply_error(j, 400, "bad_request", en,
	    "要求の形式が正しくありません。");
	(void)snprintf(j->note, sizeof(j->note), "bad_request: %s", what);
}

void
api_store_error(struct api_job *j, const struct api_worker *w, int rc,
    const char *op)
{
	if (rc == STORE_BUSY) {
		log_warnx("worker %d: %s: database busy", w->index, op);
		api_reply_error(j, 503, "store_busy",
		    "The records database is busy. Please try again.",
		    "ただいま混み合っています。しばらくしてからやり直してください。");
		return;
	}
	log_warnx("worker %d: %s: %s", w->index, op, store_errmsg(w->st));
	api_reply_error(j, 500, "internal_error", "Internal error.",
	    "内部エラーが発生しました。");
}

void
api_write_error(struct api_job *j, const struct api_worker *w, int rc,
    const char *op, const char *why)
{
	if (rc == STORE_BUSY) {
		log_warnx("worker %d: %s: database busy", w->index, op);
		api_reply_error(j, 503, "store_busy",
		    "The records database is busy. Please try again.",
		    "ただいま混み合っています。しばらくしてからやり直してください。");
		return;
	}
	log_warnx("worker %d: %s: %s", w->index, op, why);
	api_reply_error(j, 500, "internal_error", "Internal error.",
	    "内部エラーが発生しました。");
}

const char *
api_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, len, "?");
	return buf;
}

int
api_random_hex(char *out, size_t n)
{
	uint8_t b[64];

	if (n == 0 || n > sizeof(b) || RAND_bytes(b, (int)n) != 1)
		return -1;
	hex_encode(out, 2 * n + 1, b, n);
	/* hex_encode writes upper case; ids on the wire are lower case */
	for (size_t i = 0; i < 2 * n; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return 0;
}

int
api_is_hex(const char *s, size_t len)
{
	size_t i;

	if (strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A field name from the client, safe to echo: printable ASCII, short. */
static void
safe_name(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && in[i] != '\0'; i++)
		out[i] = (in[i] > 0x20 && in[i] < 0x7f && in[i] != '"' &&
		    in[i] != '\\') ? in[i] : '?';
	out[i] = '\0';
	if (in[i] != '\0' && i >= 4) {
		out[i - 3] = out[i - 2] = out[i - 1] = '.';
	}
}

json_t *
api_body_object(struct api_job *j, const char *const *allowed)
{
	json_error_t e;
	json_t *o, *v;
	const char *k;
	char what[96], name[40];
	size_t i;

	if (j->body == NULL || j->body_len == 0) {
		api_bad_request(j, "empty body");
		return NULL;
	}
	o = json_parse(j->body, j->body_len, JSON_REJECT_DUPLICATES, &e);
	if (o == NULL) {
		(void)snprintf(what, sizeof(what), "malformed JSON at line %d "
		    "column %d", e.line, e.column);
		api_bad_request(j, what);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		api_bad_request(j, "the body is not a JSON object");
		return NULL;
	}
	json_object_foreach(o, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], k) == 0)
				break;
		if (allowed[i] == NULL) {
			safe_name(k, name, sizeof(name));
			(void)snprintf(what, sizeof(what), "unknown field "
			    "\"%s\"", name);
			json_decref(o);
			api_bad_request(j, what);
			return NULL;
		}
	}
	return o;
}

static int
absent(struct api_job *j, const char *key, int required)
{
	char what[96];

	if (!required)
		return 0;
	(void)snprintf(what, sizeof(what), "missing field \"%s\"", key);
	api_bad_request(j, what);
	return -1;
}

static int
wrong(struct api_job *j, const char *key, const char *how)
{
	char what[128];

	(void)snprintf(what, sizeof(what), "field \"%s\" %s", key, how);
	api_bad_request(j, what);
	return -1;
}

int
api_get_string(struct api_job *j, json_t *o, const char *key, int required,
    size_t minlen, size_t maxlen, const char **out)
{
	json_t *v;
	size_t len;

	if ((v = json_object_get(o, key)) == NULL)
		return absent(j, key, required);
	if (!json_is_string(v))
		return wrong(j, key, "must be a string");
	len = json_string_length(v);
	if (len < minlen || len > maxlen)
		return wrong(j, key, "has a bad length");
	if (strlen(json_string_value(v)) != len)
		return wrong(j, key, "contains NUL");
	*out = json_string_value(v);
	return 1;
}

int
api_get_int(struct api_job *j, json_t *o, const char *key, int required,
    json_int_t min, json_int_t max, json_int_t *out)
{
	json_t *v;

	if ((v = json_object_get(o, key)) == NULL)
		return absent(j, key, required);
	if (!json_is_integer(v))
		return wrong(j, key, "must be an integer");
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return wrong(j, key, "is out of range");
	*out = json_integer_value(v);
	return 1;
}

int
api_get_bool(struct api_job *j, json_t *o, const char *key, int *out)
{
	json_t *v;

	if ((v = json_object_get(o, key)) == NULL)
		return 0;
	if (!json_is_boolean(v))
		return wrong(j, key, "must be true or false");
	*out = json_is_true(v);
	return 1;
}

char *
api_base64(const uint8_t *in, size_t len)
{
	char *out;
	size_t n;

	if (len > (size_t)16 * 1024 * 1024)
		return NULL;
	n = 4 * ((len + 2) / 3) + 1;
	if ((out = malloc(n)) == NULL)
		return NULL;
	if (EVP_EncodeBlock((unsigned char *)out, in, (int)len) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

int
api_unbase64(const char *in, uint8_t *out, size_t outmax, size_t *outlen)
{
	size_t len = strlen(in), n, pad = 0;
	char *again;
	int r;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > outmax)
		return -1;
	if (in[len - 1] == '=')
		pad++;
	if (len >= 2 && in[len - 2] == '=')
		pad++;
	if ((r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len)) <
	    0 || (size_t)r < pad)
		return -1;
	n = (size_t)r - pad;
	/* canonical only: the same text again, no whitespace or junk */
	if ((again = api_base64(out, n)) == NULL)
		return -1;
	r = strcmp(again, in) == 0 ? 0 : -1;
	free(again);
	if (r == 0)
		*outlen = n;
	return r;
}
