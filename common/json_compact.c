#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_compact.h"
#include "utf8.h"
#include "util.h"

struct jbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

static int
jb_reserve(struct jbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	if (n <= b->cap - b->len)
		return 0;
	cap = b->cap;
	while (n > cap - b->len) {
		if (cap > SIZE_MAX / 2) {
			b->failed = 1;
			return -1;
		}
		cap *= 2;
	}
	/* not realloc: the outgrown buffer is wiped, no copy is left */
	if ((p = malloc(cap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	memcpy(p, b->p, b->len);
	secure_wipe(b->p, b->cap);
	free(b->p);
	b->p = p;
	b->cap = cap;
	return 0;
}

static void
jb_put(struct jbuf *b, const char *s, size_t n)
{
	if (jb_reserve(b, n) == -1)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
jb_ch(struct jbuf *b, char c)
{
	if (jb_reserve(b, 1) == -1)
		return;
	b->p[b->len++] = c;
}

static void
jb_string(struct jbuf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run, k;
	char esc[6];

	jb_ch(b, '"');
	while (i < n && !b->failed) {
		for (run = i; run < n; run += k) {
			if (s[run] < 0x20 || s[run] == '"' || s[run] == '\\')
				break;
			if ((k = utf8_seq(s + run, n - run)) == 0) {
				b->failed = 1;	/* json_dumps fails too */
				return;
			}
		}
		jb_put(b, str + i, run - i);
		if ((i = run) == n)
			break;
		esc[0] = '\\';
		k = 2;
		switch (s[i]) {
		case '"':	esc[1] = '"'; break;
		case '\\':	esc[1] = '\\'; break;
		case '\b':	esc[1] = 'b'; break;
		case '\f':	esc[1] = 'f'; break;
		case '\n':	esc[1] = 'n'; break;
		case '\r':	esc[1] = 'r'; break;
		case '\t':	esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[s[i] >> 4];
			esc[5] = hex[s[i] & 0xf];
			k = 6;
			break;
		}
		jb_put(b, esc, k);
		i++;
	}
	jb_ch(b, '"');
}

static void
jb_integer(struct jbuf *b, json_int_t v)
{
	char d[24];
	size_t i = sizeof(d);
	unsigned long long u;

	/* the magnitude in unsigned arithmetic: -LLONG_MIN does not fit */
	u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		d[--i] = '-';
	jb_put(b, d + i, sizeof(d) - i);
}

/* jansson's own text for the one value kind with a format of its own */
static void
jb_jansson(struct jbuf *b, const json_t *v)
{
	char *s;

	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
		b->failed = 1;
		return;
	}
	jb_put(b, s, strlen(s));
	free(s);
}

static void
jb_value(struct jbuf *b, const json_t *v, int depth)
{
	const char *key;
	json_t *m;
	size_t i, n;
	void *it;

	if (b->failed)
		return;
	if (depth > JSON_COMPACT_DEPTH_MAX) {
		b->failed = 1;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jb_ch(b, '{');
		for (it = json_object_iter((json_t *)v), i = 0; it != NULL;
		    it = json_object_iter_next((json_t *)v, it), i++) {
			if (i > 0)
				jb_ch(b, ',');
			key = json_object_iter_key(it);
			jb_string(b, key, json_object_iter_key_len(it));
			jb_ch(b, ':');
			jb_value(b, json_object_iter_value(it), depth + 1);
		}
		jb_ch(b, '}');
		break;
	case JSON_ARRAY:
		jb_ch(b, '[');
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				jb_ch(b, ',');
			m = json_array_get(v, i);
			jb_value(b, m, depth + 1);
		}
		jb_ch(b, ']');
		break;
	case JSON_STRING:
		jb_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		jb_integer(b, json_integer_value(v));
		break;
	case JSON_REAL:
		jb_jansson(b, v);
		break;
	case JSON_TRUE:
		jb_put(b, "true", 4);
		break;
	case JSON_FALSE:
		jb_put(b, "false", 5);
		break;
	case JSON_NULL:
		jb_put(b, "null", 4);
		break;
	default:
		b->failed = 1;
		break;
	}
}

char *
json_compact(const json_t *v, size_t *len)
{
	struct jbuf b;

	if (v == NULL || (!json_is_object(v) && !json_is_array(v)))
		return NULL;
	memset(&b, 0, sizeof(b));
	b.cap = 1024;
	if ((b.p = malloc(b.cap)) == NULL)
		return NULL;
	jb_value(&b, v, 0);
	jb_ch(&b, '\0');
	if (b.failed) {
		secure_wipe(b.p, b.cap);
		free(b.p);
		return NULL;
	}
	if (len != NULL)
		*len = b.len - 1;
	return b.p;
}
