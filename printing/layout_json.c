/*
 * Reading the signed content: every field is checked for its type and
 * bounds, and the first problem is kept with the field's path
 * ("body.members[2].birth: ...") so a bad document says what is wrong.
 * The text is valid UTF-8 without NUL (jansson checks both on load);
 * control characters are refused here, since nothing printed has them.
 */
#include <stdio.h>
#include <string.h>

#include "era.h"
#include "layout.h"

static json_t *
field(struct ldoc *d, json_t *o, const char *key, const char *where,
    int required)
{
	json_t *v;

	if (d->failed)
		return NULL;
	if (!json_is_object(o)) {
		(void)ldoc_fail(d, "%s: not an object", where);
		return NULL;
	}
	v = json_object_get(o, key);
	if (required && (v == NULL || json_is_null(v))) {
		(void)ldoc_fail(d, "%s.%s: missing", where, key);
		return NULL;
	}
	return json_is_null(v) ? NULL : v;
}

static const char *
check_text(struct ldoc *d, json_t *v, const char *key, const char *where)
{
	const char *s;
	size_t i, len;

	if (!json_is_string(v)) {
		(void)ldoc_fail(d, "%s.%s: not a string", where, key);
		return "";
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > L_TEXT_MAX) {
		(void)ldoc_fail(d, "%s.%s: longer than %d bytes", where, key,
		    L_TEXT_MAX);
		return "";
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			(void)ldoc_fail(d, "%s.%s: control character", where,
			    key);
			return "";
		}
	return s;
}

const char *
lj_str(struct ldoc *d, json_t *o, const char *key, const char *where)
{
	json_t *v;

	if ((v = field(d, o, key, where, 1)) == NULL)
		return "";
	return check_text(d, v, key, where);
}

const char *
lj_opt(struct ldoc *d, json_t *o, const char *key, const char *where)
{
	json_t *v;
	const char *s;

	if ((v = field(d, o, key, where, 0)) == NULL)
		return NULL;
	s = check_text(d, v, key, where);
	return d->failed ? NULL : s;
}

long long
lj_int(struct ldoc *d, json_t *o, const char *key, const char *where,
    long long min, long long max)
{
	json_t *v;
	long long n;

	if ((v = field(d, o, key, where, 1)) == NULL)
		return min;
	if (!json_is_integer(v)) {
		(void)ldoc_fail(d, "%s.%s: not an integer", where, key);
		return min;
	}
	n = (long long)json_integer_value(v);
	if (n < min || n > max) {
		(void)ldoc_fail(d, "%s.%s: %lld is out of range (%lld..%lld)",
		    where, key, n, min, max);
		return min;
	}
	return n;
}

int
lj_bool(struct ldoc *d, json_t *o, const char *key, const char *where)
{
	json_t *v;

	if ((v = field(d, o, key, where, 1)) == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		(void)ldoc_fail(d, "%s.%s: not true or false", where, key);
		return 0;
	}
	return json_is_true(v);
}

json_t *
lj_obj(struct ldoc *d, json_t *o, const char *key, const char *where)
{
	json_t *v;

	if ((v = field(d, o, key, where, 1)) == NULL)
		return NULL;
	if (!json_is_object(v)) {
		(void)ldoc_fail(d, "%s.%s: not an object", where, key);
		return NULL;
	}
	return v;
}

json_t *
lj_arr(struct ldoc *d, json_t *o, const char *key, const char *where,
    size_t max)
{
	json_t *v;

	if ((v = field(d, o, key, where, 1)) == NULL)
		return NULL;
	if (!json_is_array(v)) {
		(void)ldoc_fail(d, "%s.%s: not a list", where, key);
		return NULL;
	}
	if (json_array_size(v) > max) {
		(void)ldoc_fail(d, "%s.%s: more than %zu entries", where, key,
		    max);
		return NULL;
	}
	return v;
}

const char *
lj_date(struct ldoc *d, json_t *o, const char *key, const char *where,
    int nullable, char *buf, size_t size)
{
	json_t *v;

	buf[0] = '\0';
	if ((v = field(d, o, key, where, !nullable)) == NULL)
		return buf;
	if (!json_is_string(v) ||
	    era_format_iso(json_string_value(v), buf, size) == -1) {
		buf[0] = '\0';
		(void)ldoc_fail(d, "%s.%s: not a date (YYYY-MM-DD)", where,
		    key);
	}
	return buf;
}

const char *
lj_name(struct ldoc *d, json_t *o, const char *where)
{
	const char *sub;

	if ((sub = lj_opt(d, o, "name_substitute", where)) != NULL &&
	    sub[0] != '\0') {
		(void)lj_str(d, o, "name", where);
		return sub;
	}
	return lj_str(d, o, "name", where);
}

void
layout_yen(long long v, char *buf, size_t size)
{
	char digits[32], out[48];
	size_t n, i, k = 0;
	int neg = v < 0;
	unsigned long long u = neg ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	(void)snprintf(digits, sizeof(digits), "%llu", u);
	n = strlen(digits);
	if (neg)
		out[k++] = '-';
	for (i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = digits[i];
	}
	out[k] = '\0';
	(void)snprintf(buf, size, "%s円", out);
}
