#include "config.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "utf8.h"
#include "util.h"

#define JP_FLAGS	(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | \
			 JSON_ALLOW_NUL)

struct jp {
	const unsigned char	*start;
	const unsigned char	*p;
	const unsigned char	*end;
	size_t			 flags;
	json_error_t		*error;
	int			 depth;
};

static json_t	*jp_value(struct jp *);

/*
 * The error at byte `at`, where the offending token starts: its line and
 * column (in characters, both from 1) and its byte offset.
 */
static void
jp_fail(struct jp *j, const unsigned char *at, enum json_error_code code,
    const char *fmt, ...)
{
	const unsigned char *s;
	va_list ap;
	int line = 1, column = 0;

	if (j->error == NULL)
		return;
	for (s = j->start; s < at && s < j->end; s++) {
		if (*s == '\n') {
			line++;
			column = 0;
		} else if ((*s & 0xc0) != 0x80)
			column++;
	}
	j->error->line = line;
	j->error->column = column + 1;
	j->error->position = (int)(at - j->start);
	(void)snprintf(j->error->source, sizeof(j->error->source), "%s",
	    "<buffer>");
	va_start(ap, fmt);
	(void)vsnprintf(j->error->text, sizeof(j->error->text) - 1, fmt, ap);
	va_end(ap);
	/* jansson keeps the code in the last byte of text */
	j->error->text[sizeof(j->error->text) - 1] = (char)code;
}

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
jp_hex4(const unsigned char *s, unsigned *out)
{
	unsigned v = 0, d;
	int i;

	for (i = 0; i < 4; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static size_t
jp_put_utf8(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the escapes of a string body [s, e) already checked by
 * jp_string_span into o (at least e - s bytes).  Its length, or -1.
 */
static long
jp_unescape(struct jp *j, const unsigned char *s, const unsigned char *e,
    unsigned char *o, int *has_nul)
{
	unsigned char *o0 = o;
	unsigned cp, lo;

	while (s < e) {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case '"': case '\\': case '/':
			*o++ = *s++;
			continue;
		case 'b': *o++ = '\b'; s++; continue;
		case 'f': *o++ = '\f'; s++; continue;
		case 'n': *o++ = '\n'; s++; continue;
		case 'r': *o++ = '\r'; s++; continue;
		case 't': *o++ = '\t'; s++; continue;
		default:
			break;	/* 'u', checked by the span */
		}
		(void)jp_hex4(s + 1, &cp);
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (e - s < 11 || s[5] != '\\' || s[6] != 'u' ||
			    jp_hex4(s + 7, &lo) == -1 || lo < 0xdc00 ||
			    lo > 0xdfff) {
				jp_fail(j, s - 1, json_error_invalid_syntax,
				    "invalid Unicode '\\u%04X'", cp);
				return -1;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			s += 11;
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			jp_fail(j, s - 1, json_error_invalid_syntax,
			    "invalid Unicode '\\u%04X'", cp);
			return -1;
		} else
			s += 5;
		if (cp == 0)
			*has_nul = 1;
		o += jp_put_utf8(o, cp);
	}
	return (long)(o - o0);
}

/*
 * The body of the string whose opening quote is at j->p: [*s, *e), with
 * j->p past the closing quote.  *esc when it has escapes.
 */
static int
jp_string_span(struct jp *j, const unsigned char **s,
    const unsigned char **e, int *esc)
{
	const unsigned char *p = j->p + 1;
	size_t k;

	*esc = 0;
	*s = p;
	for (;;) {
		/* the common run: printable ASCII */
		while (p < j->end && *p >= 0x20 && *p < 0x80 && *p != '"' &&
		    *p != '\\')
			p++;
		if (p >= j->end) {
			jp_fail(j, p, json_error_premature_end_of_input,
			    "premature end of input");
			return -1;
		}
		if (*p == '"')
			break;
		if (*p < 0x20) {
			jp_fail(j, p, json_error_invalid_syntax,
			    "control character 0x%x", *p);
			return -1;
		}
		if (*p == '\\') {
			*esc = 1;
			if (p + 1 >= j->end) {
				jp_fail(j, p + 1,
				    json_error_premature_end_of_input,
				    "premature end of input");
				return -1;
			}
			if (p[1] == 'u') {
				unsigned cp;

				if (j->end - p < 6 || jp_hex4(p + 2, &cp) ==
				    -1) {
					jp_fail(j, p, json_error_invalid_syntax,
					    "invalid escape");
					return -1;
				}
				p += 6;
			} else if (strchr("\"\\/bfnrt", p[1]) != NULL &&
			    p[1] != '\0')
				p += 2;
			else {
				jp_fail(j, p, json_error_invalid_syntax,
				    "invalid escape");
				return -1;
			}
			continue;
		}
		if ((k = utf8_seq(p, (size_t)(j->end - p))) == 0) {
			jp_fail(j, p, json_error_invalid_utf8,
			    "unable to decode byte 0x%x", *p);
			return -1;
		}
		p += k;
	}
	*e = p;
	j->p = p + 1;
	return 0;
}

/*
 * The string at j->p as bytes: *out and *n point into the input when it has
 * no escapes, else into *scratch (decoded, to wipe and free).
 */
static int
jp_string_bytes(struct jp *j, const char **out, size_t *n,
    unsigned char **scratch, int *has_nul)
{
	const unsigned char *s, *e, *at = j->p;
	long k;
	int esc;

	*scratch = NULL;
	*has_nul = 0;
	if (jp_string_span(j, &s, &e, &esc) == -1)
		return -1;
	if (!esc) {
		*out = (const char *)s;
		*n = (size_t)(e - s);
		return 0;
	}
	if ((*scratch = malloc((size_t)(e - s) + 1)) == NULL) {
		jp_fail(j, at, json_error_out_of_memory, "out of memory");
		return -1;
	}
	if ((k = jp_unescape(j, s, e, *scratch, has_nul)) < 0) {
		free(*scratch);
		*scratch = NULL;
		return -1;
	}
	*out = (const char *)*scratch;
	*n = (size_t)k;
	return 0;
}

static void
jp_scratch_free(unsigned char *scratch, size_t n)
{
	if (scratch == NULL)
		return;
	secure_wipe(scratch, n);
	free(scratch);
}

static json_t *
jp_string(struct jp *j)
{
	const unsigned char *at = j->p;
	unsigned char *scratch;
	const char *b;
	size_t n;
	int has_nul;
	json_t *v = NULL;

	if (jp_string_bytes(j, &b, &n, &scratch, &has_nul) == -1)
		return NULL;
	if (has_nul && !(j->flags & JSON_ALLOW_NUL))
		jp_fail(j, at, json_error_null_character,
		    "\\u0000 is not allowed without JSON_ALLOW_NUL");
	else if ((v = json_stringn_nocheck(b, n)) == NULL)
		jp_fail(j, at, json_error_out_of_memory, "out of memory");
	jp_scratch_free(scratch, n);
	return v;
}

static pthread_once_t	c_locale_once = PTHREAD_ONCE_INIT;
static locale_t		c_locale;

static void
c_locale_make(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static json_t *
jp_number(struct jp *j)
{
	const unsigned char *s = j->p, *p = j->p;
	char tmp[64], *text, *end;
	size_t n;
	int real = 0;
	json_t *v = NULL;
	long long iv;
	double dv;
	locale_t old;

	if (p < j->end && *p == '-')
		p++;
	if (p < j->end && *p == '0') {
		p++;
		if (p < j->end && *p >= '0' && *p <= '9')
			goto bad;
	} else if (p < j->end && *p >= '1' && *p <= '9') {
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	} else
		goto bad;
	if (p < j->end && *p == '.') {
		real = 1;
		p++;
		if (p >= j->end || *p < '0' || *p > '9')
			goto bad;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || *p < '0' || *p > '9')
			goto bad;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	n = (size_t)(p - s);
	text = n < sizeof(tmp) ? tmp : malloc(n + 1);
	if (text == NULL) {
		jp_fail(j, s, json_error_out_of_memory, "out of memory");
		return NULL;
	}
	memcpy(text, s, n);
	text[n] = '\0';
	errno = 0;
	if (!real) {
		iv = strtoll(text, &end, 10);
		if (errno == ERANGE)
			jp_fail(j, s, json_error_numeric_overflow, iv < 0 ?
			    "too big negative integer" : "too big integer");
		else if ((v = json_integer(iv)) == NULL)
			jp_fail(j, s, json_error_out_of_memory,
			    "out of memory");
	} else {
		(void)pthread_once(&c_locale_once, c_locale_make);
		old = c_locale != (locale_t)0 ? uselocale(c_locale) :
		    (locale_t)0;
		dv = strtod(text, &end);
		if (old != (locale_t)0)
			(void)uselocale(old);
		if (errno == ERANGE && (dv == HUGE_VAL || dv == -HUGE_VAL))
			jp_fail(j, s, json_error_numeric_overflow,
			    "real number overflow");
		else if ((v = json_real(dv)) == NULL)
			jp_fail(j, s, json_error_out_of_memory,
			    "out of memory");
	}
	if (text != tmp)
		free(text);
	j->p = p;
	return v;
bad:
	jp_fail(j, s, json_error_invalid_syntax, "invalid token");
	return NULL;
}

static json_t *
jp_word(struct jp *j)
{
	const unsigned char *s = j->p, *p = j->p;
	size_t n;

	/* like jansson: the whole run of letters is the token */
	while (p < j->end && ((*p >= 'a' && *p <= 'z') ||
	    (*p >= 'A' && *p <= 'Z')))
		p++;
	n = (size_t)(p - s);
	j->p = p;
	if (n == 4 && memcmp(s, "true", 4) == 0)
		return json_true();
	if (n == 5 && memcmp(s, "false", 5) == 0)
		return json_false();
	if (n == 4 && memcmp(s, "null", 4) == 0)
		return json_null();
	jp_fail(j, s, json_error_invalid_syntax, "invalid token");
	return NULL;
}

/* Past spacing, consume c when it comes next: 1, else 0. */
static int
jp_eat(struct jp *j, unsigned char c)
{
	jp_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return 1;
	}
	return 0;
}

/* "what expected" at j->p: a premature end when the input ran out. */
static void
jp_expected(struct jp *j, const char *what)
{
	jp_fail(j, j->p, j->p >= j->end ? json_error_premature_end_of_input :
	    json_error_invalid_syntax, "%s expected", what);
}

/* After a member: 1 on ',' (another follows), 0 on close, -1 on error. */
static int
jp_after_member(struct jp *j, unsigned char close)
{
	if (jp_eat(j, ','))
		return 1;
	if (jp_eat(j, close))
		return 0;
	jp_expected(j, close == '}' ? "'}'" : "']'");
	return -1;
}

static json_t *
jp_object(struct jp *j)
{
	json_t *o, *v;
	const char *key;
	size_t keylen = 0;
	unsigned char *scratch = NULL;
	const unsigned char *at;
	int has_nul, more;

	if ((o = json_object()) == NULL) {
		jp_fail(j, j->p, json_error_out_of_memory, "out of memory");
		return NULL;
	}
	j->p++;
	if (jp_eat(j, '}'))
		return o;
	do {
		jp_ws(j);
		at = j->p;
		if (j->p >= j->end || *j->p != '"') {
			jp_expected(j, "string or '}'");
			goto fail;
		}
		if (jp_string_bytes(j, &key, &keylen, &scratch, &has_nul) ==
		    -1)
			goto fail;
		if (has_nul) {
			jp_fail(j, at, json_error_null_byte_in_key,
			    "NUL byte in object key not supported");
			goto fail;
		}
		if ((j->flags & JSON_REJECT_DUPLICATES) &&
		    json_object_getn(o, key, keylen) != NULL) {
			jp_fail(j, at, json_error_duplicate_key,
			    "duplicate object key");
			goto fail;
		}
		if (!jp_eat(j, ':')) {
			jp_expected(j, "':'");
			goto fail;
		}
		if ((v = jp_value(j)) == NULL)
			goto fail;
		if (json_object_setn_new_nocheck(o, key, keylen, v) != 0) {
			jp_fail(j, at, json_error_out_of_memory,
			    "out of memory");
			goto fail;
		}
		jp_scratch_free(scratch, keylen);
		scratch = NULL;
	} while ((more = jp_after_member(j, '}')) == 1);
	if (more == 0)
		return o;
fail:
	jp_scratch_free(scratch, keylen);
	json_decref(o);
	return NULL;
}

static json_t *
jp_array(struct jp *j)
{
	json_t *a, *v;
	int more;

	if ((a = json_array()) == NULL) {
		jp_fail(j, j->p, json_error_out_of_memory, "out of memory");
		return NULL;
	}
	j->p++;
	if (jp_eat(j, ']'))
		return a;
	do {
		if ((v = jp_value(j)) == NULL)
			goto fail;
		if (json_array_append_new(a, v) != 0) {
			jp_fail(j, j->p, json_error_out_of_memory,
			    "out of memory");
			goto fail;
		}
	} while ((more = jp_after_member(j, ']')) == 1);
	if (more == 0)
		return a;
fail:
	json_decref(a);
	return NULL;
}

static json_t *
jp_value(struct jp *j)
{
	json_t *v;
	unsigned char c;

	jp_ws(j);
	if (j->p >= j->end) {
		jp_fail(j, j->p, json_error_premature_end_of_input,
		    "premature end of input");
		return NULL;
	}
	c = *j->p;
	switch (c) {
	case '{':
	case '[':
		if (j->depth >= JSON_PARSE_DEPTH_MAX) {
			jp_fail(j, j->p, json_error_stack_overflow,
			    "maximum parsing depth reached");
			return NULL;
		}
		j->depth++;
		v = c == '{' ? jp_object(j) : jp_array(j);
		j->depth--;
		return v;
	case '"':
		return jp_string(j);
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return jp_number(j);
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			return jp_word(j);
		if (c >= 0x80 && utf8_seq(j->p, (size_t)(j->end - j->p)) == 0)
			jp_fail(j, j->p, json_error_invalid_utf8,
			    "unable to decode byte 0x%x", c);
		else
			jp_fail(j, j->p, json_error_invalid_syntax,
			    "unexpected token");
		return NULL;
	}
}

json_t *
json_parse(const char *buf, size_t len, size_t flags, json_error_t *error)
{
	struct jp j;
	json_t *v;

	if ((flags & ~(size_t)JP_FLAGS) != 0)
		return json_loadb(buf, len, flags, error);
	memset(&j, 0, sizeof(j));
	j.start = j.p = (const unsigned char *)buf;
	j.end = j.start + len;
	j.flags = flags;
	j.error = error;
	if (error != NULL) {
		memset(error, 0, sizeof(*error));
		error->line = -1;
		error->column = -1;
	}
	if (buf == NULL) {
		j.start = j.p = j.end = (const unsigned char *)"";
		jp_fail(&j, j.p, json_error_invalid_argument,
		    "wrong arguments");
		return NULL;
	}
	jp_ws(&j);
	if (!(flags & JSON_DECODE_ANY) && (j.p >= j.end ||
	    (*j.p != '[' && *j.p != '{'))) {
		jp_expected(&j, "'[' or '{'");
		return NULL;
	}
	if ((v = jp_value(&j)) == NULL)
		return NULL;
	jp_ws(&j);
	if (j.p < j.end) {
		jp_fail(&j, j.p, json_error_end_of_input_expected,
		    "end of file expected");
		json_decref(v);
		return NULL;
	}
	return v;
}
