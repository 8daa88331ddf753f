/*
 * common/json_parse.c against json_loadb: for fixed texts (every token,
 * escape, surrogate, number form, NUL, depth, bad UTF-8, trailing bytes)
 * and for 200,000 random texts (valid trees dumped with random spacing,
 * then mutated: bytes flipped, inserted, deleted, cut), with and without
 * JSON_REJECT_DUPLICATES, JSON_DECODE_ANY and JSON_ALLOW_NUL, both accept
 * or both refuse, and what is accepted is the same value in the same
 * order.  KIOSK_FUZZ_ITERS overrides the number of random texts,
 * KIOSK_FUZZ_SEED the seed (as in test_jpki_fuzz).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_parse.h"
#include "t.h"

static char last_diff[512];

/* 1 when json_parse and json_loadb agree on (buf, len, flags) */
static int
agree(const char *buf, size_t len, size_t flags)
{
	json_error_t e1, e2;
	json_t *a, *b;
	char *sa, *sb;
	int ok;

	a = json_parse(buf, len, flags, &e1);
	b = json_loadb(buf, len, flags, &e2);
	if (a == NULL || b == NULL) {
		ok = a == NULL && b == NULL;
		if (ok)
			ok = e1.text[0] != '\0' && e1.line >= 1 &&
			    e1.position >= 0 && (size_t)e1.position <= len;
	} else {
		sa = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
		sb = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
		ok = json_equal(a, b) && sa != NULL && sb != NULL &&
		    strcmp(sa, sb) == 0;
		free(sa);
		free(sb);
	}
	if (!ok)
		(void)snprintf(last_diff, sizeof(last_diff),
		    "flags %zx, ours %s (%s), jansson %s (%s): %.*s", flags,
		    a ? "ok" : "error", a ? "" : e1.text, b ? "ok" : "error",
		    b ? "" : e2.text, (int)(len > 200 ? 200 : len), buf);
	json_decref(a);
	json_decref(b);
	return ok;
}

static const size_t flagsets[] = { 0, JSON_REJECT_DUPLICATES,
    JSON_DECODE_ANY, JSON_ALLOW_NUL,
    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL };
#define NFLAGSETS (sizeof(flagsets) / sizeof(flagsets[0]))

static int
agree_all(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < NFLAGSETS; i++)
		if (!agree(buf, len, flagsets[i]))
			return 0;
	return 1;
}

static int
text_ok(const char *text)
{
	int ok = agree_all(text, strlen(text));

	if (!ok)
		printf("# %s\n", last_diff);
	return ok;
}

static unsigned long long rng = 0x243f6a8885a308d3ULL;

static unsigned
rnd(unsigned n)
{
	return t_rand(&rng, n);
}

struct out {
	char	buf[8192];
	size_t	len;
};

static void
put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->len + n < sizeof(o->buf)) {
		memcpy(o->buf + o->len, s, n);
		o->len += n;
	}
}

static void
ws(struct out *o)
{
	static const char *const w[] = { "", "", "", " ", "\n", "\t", "\r\n ",
	    "  " };

	put(o, w[rnd(8)]);
}

static void
rnd_string(struct out *o)
{
	static const char *const parts[] = { "a", "Z", "0", " ", "\\\"",
	    "\\\\", "\\/", "/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041",
	    "\\u00e9", "\\u5c71", "\\ud842\\udfb7", "\\u0000", "é", "山田",
	    "𠮷", "key", "{}[],:", "\x7f", "\\uD83D\\uDE00", "\\u001f" };
	size_t i, n = rnd(6);

	put(o, "\"");
	for (i = 0; i < n; i++)
		put(o, parts[rnd(sizeof(parts) / sizeof(parts[0]))]);
	put(o, "\"");
}

static void
rnd_value(struct out *o, int depth)
{
	static const char *const atoms[] = { "true", "false", "null", "0",
	    "-0", "1", "-1", "42", "9223372036854775807",
	    "-9223372036854775808", "0.5", "-1.25e3", "1E-2", "3e+2", "1.0",
	    "123456789012", "2.2250738585072014e-308" };
	unsigned i, n, kind = rnd(depth < 4 ? 5 : 3);

	ws(o);
	switch (kind) {
	case 0:
	case 1:
		put(o, atoms[rnd(sizeof(atoms) / sizeof(atoms[0]))]);
		break;
	case 2:
		rnd_string(o);
		break;
	case 3:
		put(o, "[");
		for (n = rnd(5), i = 0; i < n; i++) {
			if (i > 0)
				put(o, ",");
			rnd_value(o, depth + 1);
		}
		ws(o);
		put(o, "]");
		break;
	default:
		put(o, "{");
		for (n = rnd(5), i = 0; i < n; i++) {
			if (i > 0)
				put(o, ",");
			ws(o);
			if (rnd(4) == 0)
				put(o, "\"dup\"");	/* duplicates now and then */
			else
				rnd_string(o);
			ws(o);
			put(o, ":");
			rnd_value(o, depth + 1);
		}
		ws(o);
		put(o, "}");
		break;
	}
	ws(o);
}

static void
mutate(struct out *o)
{
	static const char bytes[] = "{}[]\",:\\u0123456789eE+-.tfn \n\x80\xc3"
	    "\xff\x01";
	size_t at;
	unsigned m, k, times = 1 + rnd(3);

	for (k = 0; k < times && o->len > 0; k++) {
		at = rnd((unsigned)o->len);
		m = rnd(4);
		if (m == 0)		/* replace */
			o->buf[at] = bytes[rnd(sizeof(bytes) - 1)];
		else if (m == 1 && o->len + 1 < sizeof(o->buf)) {
			memmove(o->buf + at + 1, o->buf + at, o->len - at);
			o->buf[at] = bytes[rnd(sizeof(bytes) - 1)];
			o->len++;
		} else if (m == 2) {	/* delete */
			memmove(o->buf + at, o->buf + at + 1, o->len - at - 1);
			o->len--;
		} else			/* cut */
			o->len = at;
	}
}

static char *
nested(int depth, int close)
{
	char *s = malloc((size_t)depth * 2 + 1);
	int i;

	for (i = 0; i < depth; i++)
		s[i] = '[';
	for (i = 0; i < (close ? depth : 0); i++)
		s[depth + i] = ']';
	s[depth + (close ? depth : 0)] = '\0';
	return s;
}

int
main(void)
{
	static const char *const fixed[] = {
	    "{}", "[]", " {} ", "{\"a\":1}", "[1,2,3]", "", " ", "1", "\"s\"",
	    "true", "null", "tru", "truex", "nul", "[true false]", "[1,]",
	    "{\"a\":1,}", "{,}", "[,]", "{\"a\"}", "{\"a\" 1}", "{1:2}",
	    "{\"a\":1 \"b\":2}", "{} {}", "{}x", "[01]", "[-]", "[-0]",
	    "[1.]", "[.5]", "[1e]", "[1e+]", "[1.5e-3]", "[+1]", "[0x10]",
	    "[9223372036854775807]", "[9223372036854775808]",
	    "[-9223372036854775808]", "[-9223372036854775809]",
	    "[1e308]", "[1e309]", "[-1e309]", "[1e-400]", "[NaN]",
	    "[Infinity]", "[\"\\u0041\\u00e9\\u5c71\"]", "[\"\\ud842\\udfb7\"]",
	    "[\"\\ud842\"]", "[\"\\ud842x\"]", "[\"\\ud842\\u0041\"]",
	    "[\"\\udfb7\"]", "[\"\\u12\"]", "[\"\\u12G4\"]", "[\"\\x\"]",
	    "[\"\\\"]", "[\"a\\u0000b\"]", "{\"a\\u0000b\":1}", "[\"\t\"]",
	    "[\"\x01\"]", "[\"\x7f\"]", "[\"\xc3\xa9\"]", "[\"\xc3\"]",
	    "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]",
	    "[\"\xe2\x82\"]", "[\xc3\xa9]", "[\xff]", "{\"a\":1,\"a\":2}",
	    "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":\"e\"}",
	    "{\"z\":1,\"a\":2}", "[\"\\/\\b\\f\\n\\r\\t\\\\\\\"\"]", "[\"",
	    "[\"abc", "{\"a\":", "{\"a\"", "[1", "{", "[", "\xef\xbb\xbf{}",
	    "{\"\":0}", "[\"\\u00\"]", "[1 2]", "[-01]", "[1.5.5]",
	};
	struct out o;
	json_t *v;
	char *deep;
	size_t i;
	int bad = 0, accepted = 0;
	long iters = 200000, n;
	const char *env;
	char name[96];

	if ((env = getenv("KIOSK_FUZZ_ITERS")) != NULL &&
	    (n = strtol(env, NULL, 10)) >= 1 && n <= 1000000000L)
		iters = n;
	if ((env = getenv("KIOSK_FUZZ_SEED")) != NULL)
		rng = strtoull(env, NULL, 0) | 1;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		char fname[160];

		(void)snprintf(fname, sizeof(fname), "as json_loadb: %s",
		    fixed[i]);
		T_CHECK(text_ok(fixed[i]), fname);
	}
	T_CHECK(agree_all("[\"a\0b\"]", 7), "a raw NUL in a string");
	T_CHECK(agree_all("[1]\0", 4), "a NUL after the value");

	deep = nested(JSON_PARSE_DEPTH_MAX, 1);
	T_CHECK(text_ok(deep), "nesting at the depth limit");
	free(deep);
	deep = nested(JSON_PARSE_DEPTH_MAX + 1, 1);
	T_CHECK(text_ok(deep) && json_parse(deep, strlen(deep), 0, NULL) ==
	    NULL, "one deeper: refused, as json_loadb");
	free(deep);
	deep = nested(100000, 0);
	T_CHECK(json_parse(deep, strlen(deep), 0, NULL) == NULL,
	    "100,000 open brackets: refused without running out of stack");
	free(deep);

	{
		json_error_t e;

		T_CHECK(json_parse("{\n \"a\": 1,\n \"a\": 2}", 20,
		    JSON_REJECT_DUPLICATES, &e) == NULL && e.line == 3 &&
		    e.column == 2 && e.position == 12 &&
		    json_error_code(&e) == json_error_duplicate_key,
		    "the error's line, column, position and code");
		T_CHECK(json_parse(NULL, 0, 0, &e) == NULL &&
		    json_error_code(&e) == json_error_invalid_argument,
		    "NULL buffer: invalid argument");
	}

	for (i = 0; i < (size_t)iters; i++) {
		memset(&o, 0, sizeof(o));
		rnd_value(&o, rnd(2) ? 3 : 0);
		if (i % 4 != 0)
			mutate(&o);
		if (!agree_all(o.buf, o.len)) {
			if (bad++ < 5)
				printf("# %s\n", last_diff);
		} else if ((v = json_parse(o.buf, o.len, JSON_DECODE_ANY |
		    JSON_ALLOW_NUL, NULL)) != NULL) {
			accepted++;
			json_decref(v);
		}
	}
	printf("# %d of %ld random texts accepted\n", accepted, iters);
	(void)snprintf(name, sizeof(name), "%ld random and mutated texts: "
	    "as json_loadb", iters);
	T_CHECK(bad == 0, name);
	T_CHECK(accepted > iters / 10 && accepted < iters * 9 / 10,
	    "the random texts are a mix of good and bad");
	return t_done();
}
