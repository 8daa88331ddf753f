/*
 * The JPKI validity rule on civil dates.  No time zone library: JST has no
 * daylight saving time, so a fixed +09:00 offset is exact.  Day numbers use
 * the proleptic Gregorian calendar (days since 1970-01-01).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "pki_validity.h"

int
pki_is_leap(int y)
{
	return civil_is_leap(y);
}

int
pki_days_in_month(int y, int m)
{
	return civil_days_in_month(y, m);
}

int
pki_date_valid(const struct pki_date *dt)
{
	if (dt->y < PKI_YEAR_MIN || dt->y > PKI_YEAR_MAX)
		return 0;
	if (dt->m < 1 || dt->m > 12)
		return 0;
	return dt->d >= 1 && dt->d <= pki_days_in_month(dt->y, dt->m);
}

int
pki_date_cmp(const struct pki_date *a, const struct pki_date *b)
{
	return civil_cmp(a->y, a->m, a->d, b->y, b->m, b->d);
}

static int
digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
pki_date_parse(const char *s, struct pki_date *dt, const char **errstr)
{
	struct pki_date t;

	*errstr = NULL;
	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    digits(s, 4, &t.y) == -1 || digits(s + 5, 2, &t.m) == -1 ||
	    digits(s + 8, 2, &t.d) == -1) {
		*errstr = "not a date of the form YYYY-MM-DD";
		return -1;
	}
	if (t.y < PKI_YEAR_MIN || t.y > PKI_YEAR_MAX) {
		*errstr = "year out of range 1900-2999";
		return -1;
	}
	if (!pki_date_valid(&t)) {
		*errstr = "no such date";
		return -1;
	}
	*dt = t;
	return 0;
}

char *
pki_date_format(const struct pki_date *dt, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%04d-%02d-%02d", dt->y, dt->m, dt->d);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
	}
	return buf;
}

int64_t
pki_days_from_civil(const struct pki_date *dt)
{
	return civil_to_days(dt->y, dt->m, dt->d);
}

void
pki_civil_from_days(int64_t z, struct pki_date *dt)
{
	civil_from_days(z, &dt->y, &dt->m, &dt->d);
}

void
pki_date_add_days(struct pki_date *dt, int64_t n)
{
	pki_civil_from_days(pki_days_from_civil(dt) + n, dt);
}

void
pki_date_from_time_jst(int64_t t, struct pki_date *dt)
{
	int64_t s = t + PKI_JST_OFFSET, days;

	days = s / 86400;
	if (s % 86400 < 0)
		days--;
	pki_civil_from_days(days, dt);
}

void
pki_birthday_in(const struct pki_date *birth, int y, struct pki_date *out)
{
	out->y = y;
	out->m = birth->m;
	out->d = birth->d;
	if (birth->m == 2 && birth->d == 29 && !pki_is_leap(y))
		out->d = 28;
}

void
pki_nth_birthday_after(const struct pki_date *birth,
    const struct pki_date *after, int n, struct pki_date *out)
{
	struct pki_date b;
	int y = after->y;

	pki_birthday_in(birth, y, &b);
	if (pki_date_cmp(&b, after) <= 0)
		y++;
	pki_birthday_in(birth, y + n - 1, out);
}

/* The day on which age (y - birth year) is attained, see the header. */
static void
attain_day(const struct pki_date *birth, int y, struct pki_date *out)
{
	if (birth->m == 2 && birth->d == 29) {
		out->y = y;
		out->m = 2;
		out->d = 28;
		return;
	}
	out->y = y;
	out->m = birth->m;
	out->d = birth->d;
	pki_date_add_days(out, -1);
}

int
pki_age_on(const struct pki_date *birth, const struct pki_date *on)
{
	struct pki_date a;
	int n;

	if (pki_date_cmp(on, birth) < 0)
		return -1;
	for (n = on->y - birth->y + 1; n > 0; n--) {
		attain_day(birth, birth->y + n, &a);
		if (pki_date_cmp(&a, on) <= 0)
			break;
	}
	return n;
}

void
pki_default_card_expiry(const struct pki_date *birth,
    const struct pki_date *issued, struct pki_date *out)
{
	int n = pki_age_on(birth, issued) >= 18 ? 10 : 5;

	pki_nth_birthday_after(birth, issued, n, out);
}

int
pki_validity_compute(const struct pki_date *birth,
    const struct pki_date *issued, const struct pki_date *card_expiry,
    struct pki_validity *v, const char **errstr)
{
	struct pki_date fifth;

	*errstr = NULL;
	memset(v, 0, sizeof(*v));
	if (!pki_date_valid(birth)) {
		*errstr = "invalid birth date";
		return -1;
	}
	if (!pki_date_valid(issued)) {
		*errstr = "invalid issue date";
		return -1;
	}
	if (pki_date_cmp(birth, issued) > 0) {
		*errstr = "birth date is after the issue date";
		return -1;
	}
	if (card_expiry != NULL) {
		if (!pki_date_valid(card_expiry)) {
			*errstr = "invalid card expiry date";
			return -1;
		}
		if (pki_date_cmp(card_expiry, issued) < 0) {
			*errstr = "card expiry is before the issue date";
			return -1;
		}
		v->card_expiry = *card_expiry;
	} else
		pki_default_card_expiry(birth, issued, &v->card_expiry);
	pki_nth_birthday_after(birth, issued, 5, &fifth);
	v->issued = *issued;
	v->last_day = pki_date_cmp(&fifth, &v->card_expiry) <= 0 ?
	    fifth : v->card_expiry;
	v->not_before = pki_days_from_civil(issued) * 86400 - PKI_JST_OFFSET;
	v->not_after = pki_days_from_civil(&v->last_day) * 86400 + 86399 -
	    PKI_JST_OFFSET;
	v->age_at_issue = pki_age_on(birth, issued);
	return 0;
}
