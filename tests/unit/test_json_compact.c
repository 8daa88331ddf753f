/*
 * common/json_compact.c: the same bytes as json_dumps(JSON_COMPACT) for
 * every kind of value, escapes, UTF-8, empty containers, extreme
 * integers, reals, keys with NULs, and for 20,000 random trees; NULL
 * where json_dumps gives NULL (not a container, too deep, bad UTF-8).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_compact.h"
#include "t.h"

/* 1 when json_compact(v) and json_dumps(v, JSON_COMPACT) agree */
static int
same(const json_t *v)
{
	char *a, *b;
	size_t n = (size_t)-1;
	int ok;

	a = json_compact(v, &n);
	b = json_dumps(v, JSON_COMPACT);
	if (a == NULL || b == NULL)
		ok = a == NULL && b == NULL;
	else
		ok = strcmp(a, b) == 0 && n == strlen(b);
	if (!ok)
		printf("# ours   %s\n# jansson %s\n", a ? a : "(null)",
		    b ? b : "(null)");
	free(a);
	free(b);
	return ok;
}

static int
same_text(const char *text)
{
	json_error_t e;
	json_t *v;
	int ok;

	if ((v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e)) ==
	    NULL) {
		printf("# cannot parse %s: %s\n", text, e.text);
		return 0;
	}
	ok = same(v);
	json_decref(v);
	return ok;
}

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	return t_rand(&rng, n);
}

/* a random string of ASCII, controls, escapes and 2-, 3-, 4-byte UTF-8 */
static json_t *
rnd_string(void)
{
	static const char *const parts[] = { "a", "Z", "0", " ", "\"", "\\",
	    "/", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1f", "\x7f", "é",
	    "山田", "太郎", "𠮷", "\xe2\x80\xa8", "key", "{}[],:" };
	char s[128];
	size_t len = 0, k, n = rnd(8), i;

	for (i = 0; i < n; i++) {
		const char *p = parts[rnd(sizeof(parts) / sizeof(parts[0]))];

		k = strlen(p);
		memcpy(s + len, p, k);
		len += k;
	}
	if (rnd(10) == 0)
		s[len++] = '\0';	/* an embedded NUL */
	return json_stringn(s, len);
}

static json_t *
rnd_value(int depth)
{
	static const json_int_t ints[] = { 0, 1, -1, 9, 10, 99, 100, 300,
	    -12345, 2026, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1, 1000000007 };
	json_t *v, *s;
	unsigned i, n, kind = rnd(depth < 5 ? 9 : 7);

	switch (kind) {
	case 0:	return json_true();
	case 1:	return json_false();
	case 2:	return json_null();
	case 3:	return json_integer(ints[rnd(sizeof(ints) /
		    sizeof(ints[0]))]);
	case 4:	return json_integer((json_int_t)rnd(1u << 31) -
		    (json_int_t)(1u << 30));
	case 5:	return json_real((double)rnd(100000) / 64.0 - 700.0);
	case 6:	return rnd_string();
	case 7:
		v = json_array();
		for (n = rnd(5), i = 0; i < n; i++)
			json_array_append_new(v, rnd_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (n = rnd(6), i = 0; i < n; i++) {
			s = rnd_string();
			json_object_setn_new(v, json_string_value(s),
			    json_string_length(s), rnd_value(depth + 1));
			json_decref(s);
		}
		return v;
	}
}

static json_t *
nest(int depth)
{
	json_t *v = json_object(), *in = v, *next;
	int i;

	for (i = 0; i < depth; i++) {
		next = i % 2 ? json_object() : json_array();
		if (json_is_object(in))
			json_object_set_new(in, "d", next);
		else
			json_array_append_new(in, next);
		in = next;
	}
	return v;
}

int
main(void)
{
	json_t *v, *deep;
	char *s, bad[] = "\"x\"";
	size_t n;
	int i, bad_trees = 0;

	T_CHECK(same_text("{}"), "empty object");
	T_CHECK(same_text("[]"), "empty array");
	T_CHECK(same_text("{\"a\":1,\"b\":[true,false,null],\"c\":{}}"),
	    "object in insertion order, literals");
	T_CHECK(same_text("{\"z\":1,\"a\":2,\"m\":3}"),
	    "keys not sorted, as json_dumps without JSON_SORT_KEYS");
	T_CHECK(same_text("[\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"]"),
	    "every escape jansson writes; / and DEL as they are");
	T_CHECK(same_text("[\"a\\u0000b\"]"), "an embedded NUL as \\u0000");
	T_CHECK(same_text("{\"氏名\":\"山田 太郎\",\"𠮷\":\"\\u2028\"}"),
	    "UTF-8 keys and values unescaped");
	v = json_object();
	json_object_setn_new(v, "k\0ey", 4, json_integer(1));
	T_CHECK(same(v), "a key with a NUL");
	json_decref(v);
	T_CHECK(same_text("[0,-1,9223372036854775807,-9223372036854775808]"),
	    "extreme integers");
	T_CHECK(same_text("[0.5,-1e300,3.0,1.5e-7,100.0]"),
	    "reals in jansson's own format");

	v = json_array();
	for (i = 0; i < 3000; i++)
		json_array_append_new(v, json_sprintf("item %d \"%d\"", i, i));
	T_CHECK(same(v), "60 KB: grown from 1 KB, the same bytes");
	json_decref(v);

	v = json_string("x");
	T_CHECK(json_compact(v, &n) == NULL && json_dumps(v, JSON_COMPACT) ==
	    NULL, "a bare string: NULL, as json_dumps");
	json_decref(v);
	T_CHECK(json_compact(NULL, &n) == NULL, "NULL: NULL");

	deep = nest(JSON_COMPACT_DEPTH_MAX);
	s = json_compact(deep, &n);
	T_CHECK(s != NULL && n == 2 * (JSON_COMPACT_DEPTH_MAX + 1) +
	    4 * (JSON_COMPACT_DEPTH_MAX / 2), "depth limit itself: written");
	free(s);
	json_decref(deep);
	deep = nest(JSON_COMPACT_DEPTH_MAX + 1);
	T_CHECK(json_compact(deep, &n) == NULL, "one deeper: NULL");
	json_decref(deep);

	/* bytes jansson would not have accepted, put in behind its back */
	v = json_pack("[s]", "x");
	bad[1] = (char)0xc3;	/* a lead byte without its continuation */
	(void)json_string_setn_nocheck(json_array_get(v, 0), bad + 1, 1);
	T_CHECK(same(v) && json_compact(v, &n) == NULL,
	    "invalid UTF-8: NULL, as json_dumps");
	json_decref(v);

	for (i = 0; i < 20000; i++) {
		v = json_object();
		json_object_set_new(v, "v", rnd_value(0));
		if (!same(v))
			bad_trees++;
		json_decref(v);
	}
	T_CHECK(bad_trees == 0, "20,000 random trees: the same bytes");
	return t_done();
}
