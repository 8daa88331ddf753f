/*
 * The JPKI validity rule of kiosk-pki (certs/pki_validity.h): birthdays
 * after the issue date, 29 February, card expiry earlier than the 5th
 * birthday, the under-18 card expiry, age on the day before a birthday,
 * date parsing and the JST/UTC instants.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pki_validity.h"
#include "t.h"

static struct pki_date
D(int y, int m, int d)
{
	struct pki_date t = { y, m, d };

	return t;
}

static int
same(struct pki_date a, struct pki_date b)
{
	return pki_date_cmp(&a, &b) == 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" of a UTC instant */
static const char *
utc(int64_t t)
{
	static char buf[32];
	struct pki_date d;
	int64_t days = t / 86400, s = t % 86400;

	if (s < 0) {
		s += 86400;
		days--;
	}
	pki_civil_from_days(days, &d);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", d.y, d.m,
	    d.d, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
	return buf;
}

static int
validity(struct pki_date b, struct pki_date i, const struct pki_date *exp,
    struct pki_validity *v)
{
	const char *err;

	return pki_validity_compute(&b, &i, exp, v, &err);
}

static void
test_parse(void)
{
	struct pki_date d;
	const char *err;
	char buf[PKI_DATE_STRLEN];

	T_CHECK(pki_date_parse("2024-02-29", &d, &err) == 0 &&
	    same(d, D(2024, 2, 29)), "parse leap day");
	T_CHECK(pki_date_parse("2023-02-29", &d, &err) == -1 &&
	    strcmp(err, "no such date") == 0, "reject 2023-02-29");
	T_CHECK(pki_date_parse("2023-02-30", &d, &err) == -1,
	    "reject 2023-02-30");
	T_CHECK(pki_date_parse("1900-02-29", &d, &err) == -1,
	    "reject 1900-02-29 (century)");
	T_CHECK(pki_date_parse("2000-02-29", &d, &err) == 0,
	    "accept 2000-02-29 (400-year)");
	T_CHECK(pki_date_parse("2023-04-31", &d, &err) == -1,
	    "reject 2023-04-31");
	T_CHECK(pki_date_parse("2023-13-01", &d, &err) == -1, "reject month 13");
	T_CHECK(pki_date_parse("2023-00-10", &d, &err) == -1, "reject month 0");
	T_CHECK(pki_date_parse("2023-01-00", &d, &err) == -1, "reject day 0");
	T_CHECK(pki_date_parse("2023-1-01", &d, &err) == -1,
	    "reject short month");
	T_CHECK(pki_date_parse("2023-01-01x", &d, &err) == -1,
	    "reject trailing junk");
	T_CHECK(pki_date_parse("+023-01-01", &d, &err) == -1,
	    "reject sign");
	T_CHECK(pki_date_parse("", &d, &err) == -1, "reject empty");
	T_CHECK(pki_date_parse("1899-12-31", &d, &err) == -1,
	    "reject year before 1900");
	T_CHECK(pki_date_parse("3000-01-01", &d, &err) == -1,
	    "reject year 3000");
	d = D(1999, 1, 2);
	T_CHECK(strcmp(pki_date_format(&d, buf, sizeof(buf)), "1999-01-02") == 0,
	    "format");
}

static void
test_calendar(void)
{
	struct pki_date d;
	int64_t n;
	int ok = 1;

	d = D(1970, 1, 1);
	T_CHECK(pki_days_from_civil(&d) == 0, "epoch is day 0");
	d = D(2000, 3, 1);
	T_CHECK(pki_days_from_civil(&d) == 11017, "2000-03-01 is day 11017");
	/* round trip over 1900..2999 */
	for (n = pki_days_from_civil(&(struct pki_date){ 1900, 1, 1 });
	    n < pki_days_from_civil(&(struct pki_date){ 3000, 1, 1 }); n++) {
		pki_civil_from_days(n, &d);
		if (!pki_date_valid(&d) || pki_days_from_civil(&d) != n) {
			ok = 0;
			break;
		}
	}
	T_CHECK(ok, "civil <-> days round trip 1900-2999");
	d = D(2024, 2, 28);
	pki_date_add_days(&d, 1);
	T_CHECK(same(d, D(2024, 2, 29)), "2024-02-28 + 1 = 02-29");
	d = D(2023, 12, 31);
	pki_date_add_days(&d, 1);
	T_CHECK(same(d, D(2024, 1, 1)), "year rollover");
	pki_date_from_time_jst(1704034800, &d);	/* 2023-12-31T15:00:00Z */
	T_CHECK(same(d, D(2024, 1, 1)), "15:00Z is the next JST day");
	pki_date_from_time_jst(1704034799, &d);
	T_CHECK(same(d, D(2023, 12, 31)), "14:59:59Z is still the JST day");
}

static void
test_birthdays(void)
{
	struct pki_date b, r;

	b = D(1980, 5, 5);
	pki_nth_birthday_after(&b, &(struct pki_date){ 2024, 1, 22 }, 5, &r);
	T_CHECK(same(r, D(2028, 5, 5)), "5th birthday, issued before birthday");
	pki_nth_birthday_after(&b, &(struct pki_date){ 2024, 6, 1 }, 5, &r);
	T_CHECK(same(r, D(2029, 5, 5)), "5th birthday, issued after birthday");
	pki_nth_birthday_after(&b, &(struct pki_date){ 2024, 5, 5 }, 5, &r);
	T_CHECK(same(r, D(2029, 5, 5)),
	    "birthday on the issue date does not count");
	pki_nth_birthday_after(&b, &(struct pki_date){ 2024, 5, 4 }, 5, &r);
	T_CHECK(same(r, D(2028, 5, 5)), "issued the day before the birthday");
	pki_nth_birthday_after(&b, &(struct pki_date){ 2024, 5, 4 }, 1, &r);
	T_CHECK(same(r, D(2024, 5, 5)), "1st birthday is the next day");

	/* 29 February: 28 February in common years */
	b = D(2000, 2, 29);
	pki_birthday_in(&b, 2023, &r);
	T_CHECK(same(r, D(2023, 2, 28)), "29 Feb birthday in 2023 is 28 Feb");
	pki_birthday_in(&b, 2024, &r);
	T_CHECK(same(r, D(2024, 2, 29)), "29 Feb birthday in 2024 is 29 Feb");
	pki_nth_birthday_after(&b, &(struct pki_date){ 2023, 3, 1 }, 5, &r);
	T_CHECK(same(r, D(2028, 2, 29)), "5th birthday lands on a leap day");
	pki_nth_birthday_after(&b, &(struct pki_date){ 2024, 3, 1 }, 5, &r);
	T_CHECK(same(r, D(2029, 2, 28)), "5th birthday in a common year");
	pki_nth_birthday_after(&b, &(struct pki_date){ 2023, 2, 28 }, 1, &r);
	T_CHECK(same(r, D(2024, 2, 29)),
	    "issued on 28 Feb of a common year: that day was the birthday");
	pki_nth_birthday_after(&b, &(struct pki_date){ 2024, 2, 28 }, 1, &r);
	T_CHECK(same(r, D(2024, 2, 29)), "issued 2024-02-28: next day counts");
	/* newborn: issued on the birth date */
	b = D(2020, 7, 1);
	pki_nth_birthday_after(&b, &b, 5, &r);
	T_CHECK(same(r, D(2025, 7, 1)), "newborn: 5th birthday");
}

static void
test_age(void)
{
	struct pki_date b;

	b = D(2006, 4, 2);
	T_CHECK(pki_age_on(&b, &(struct pki_date){ 2024, 3, 31 }) == 17,
	    "17 two days before the 18th birthday");
	T_CHECK(pki_age_on(&b, &(struct pki_date){ 2024, 4, 1 }) == 18,
	    "18 on the day before the 18th birthday");
	T_CHECK(pki_age_on(&b, &(struct pki_date){ 2024, 4, 2 }) == 18,
	    "18 on the birthday");
	T_CHECK(pki_age_on(&b, &b) == 0, "0 on the birth date");
	T_CHECK(pki_age_on(&b, &(struct pki_date){ 2006, 4, 1 }) == -1,
	    "-1 before birth");
	b = D(2000, 1, 1);
	T_CHECK(pki_age_on(&b, &(struct pki_date){ 2017, 12, 31 }) == 18,
	    "born 1 Jan: 18 on 31 Dec of the year before");
	T_CHECK(pki_age_on(&b, &(struct pki_date){ 2017, 12, 30 }) == 17,
	    "born 1 Jan: 17 on 30 Dec");
	b = D(2004, 2, 29);
	T_CHECK(pki_age_on(&b, &(struct pki_date){ 2022, 2, 27 }) == 17,
	    "29 Feb: 17 on 27 Feb");
	T_CHECK(pki_age_on(&b, &(struct pki_date){ 2022, 2, 28 }) == 18,
	    "29 Feb: 18 on 28 Feb of a common year");
	T_CHECK(pki_age_on(&b, &(struct pki_date){ 2024, 2, 28 }) == 20,
	    "29 Feb: 20 on 28 Feb of a leap year");
}

static void
test_validity(void)
{
	struct pki_validity v;
	struct pki_date e;
	const char *err;

	/* adult: cert to the 5th birthday, card to the 10th */
	T_CHECK(validity(D(1980, 5, 5), D(2024, 1, 22), NULL, &v) == 0,
	    "adult computes");
	T_CHECK(same(v.card_expiry, D(2033, 5, 5)), "adult card: 10th birthday");
	T_CHECK(same(v.last_day, D(2028, 5, 5)), "adult cert: 5th birthday");
	T_CHECK(strcmp(utc(v.not_before), "2024-01-21T15:00:00Z") == 0,
	    "notBefore is issue day 00:00 JST");
	T_CHECK(strcmp(utc(v.not_after), "2028-05-05T14:59:59Z") == 0,
	    "notAfter is 23:59:59 JST");
	T_CHECK(v.age_at_issue == 43, "age at issue");

	/* under 18: card to the 5th birthday, same as the cert */
	T_CHECK(validity(D(2010, 8, 20), D(2024, 9, 1), NULL, &v) == 0,
	    "minor computes");
	T_CHECK(same(v.card_expiry, D(2029, 8, 20)),
	    "under-18 card: 5th birthday");
	T_CHECK(same(v.last_day, D(2029, 8, 20)), "under-18 cert: 5th birthday");
	/* 18 reached the day before the birthday: adult card */
	T_CHECK(validity(D(2006, 4, 2), D(2024, 4, 1), NULL, &v) == 0 &&
	    same(v.card_expiry, D(2033, 4, 2)) &&
	    same(v.last_day, D(2028, 4, 2)),
	    "issued the day before the 18th birthday: 10-year card");
	T_CHECK(validity(D(2006, 4, 2), D(2024, 3, 31), NULL, &v) == 0 &&
	    same(v.card_expiry, D(2028, 4, 2)),
	    "issued two days before the 18th birthday: 5-year card");

	/* card expiry before the 5th birthday wins */
	e = D(2026, 3, 31);
	T_CHECK(validity(D(1980, 5, 5), D(2024, 1, 22), &e, &v) == 0 &&
	    same(v.last_day, D(2026, 3, 31)) &&
	    strcmp(utc(v.not_after), "2026-03-31T14:59:59Z") == 0,
	    "earlier card expiry limits the certificate");
	e = D(2040, 1, 1);
	T_CHECK(validity(D(1980, 5, 5), D(2024, 1, 22), &e, &v) == 0 &&
	    same(v.last_day, D(2028, 5, 5)),
	    "later card expiry: 5th birthday limits the certificate");
	e = D(2024, 1, 22);
	T_CHECK(validity(D(1980, 5, 5), D(2024, 1, 22), &e, &v) == 0 &&
	    v.not_after - v.not_before == 86399,
	    "expiry on the issue date: valid one JST day");

	/* 29 February holders */
	T_CHECK(validity(D(2000, 2, 29), D(2024, 3, 1), NULL, &v) == 0 &&
	    same(v.last_day, D(2029, 2, 28)) &&
	    same(v.card_expiry, D(2034, 2, 28)),
	    "29 Feb holder: 28 Feb in common years");
	T_CHECK(validity(D(2000, 2, 29), D(2023, 3, 1), NULL, &v) == 0 &&
	    same(v.last_day, D(2028, 2, 29)) &&
	    same(v.card_expiry, D(2033, 2, 28)),
	    "29 Feb holder: 29 Feb in leap years, 28 Feb otherwise");

	/* long expired certificate */
	T_CHECK(validity(D(1970, 1, 1), D(2001, 6, 1), NULL, &v) == 0 &&
	    strcmp(utc(v.not_after), "2006-01-01T14:59:59Z") == 0,
	    "issue date in the past gives an expired certificate");

	/* errors */
	T_CHECK(pki_validity_compute(&(struct pki_date){ 2025, 1, 1 },
	    &(struct pki_date){ 2024, 1, 1 }, NULL, &v, &err) == -1 &&
	    strstr(err, "birth") != NULL, "birth after issue rejected");
	e = D(2023, 12, 31);
	T_CHECK(pki_validity_compute(&(struct pki_date){ 1980, 1, 1 },
	    &(struct pki_date){ 2024, 1, 1 }, &e, &v, &err) == -1 &&
	    strstr(err, "expiry") != NULL, "expiry before issue rejected");
	e = D(2023, 2, 30);
	T_CHECK(pki_validity_compute(&(struct pki_date){ 1980, 1, 1 },
	    &(struct pki_date){ 2020, 1, 1 }, &e, &v, &err) == -1,
	    "impossible expiry date rejected");
	T_CHECK(validity(D(2024, 1, 1), D(2024, 1, 1), NULL, &v) == 0 &&
	    v.age_at_issue == 0, "born on the issue date is allowed");
}

int
main(void)
{
	test_parse();
	test_calendar();
	test_birthdays();
	test_age();
	test_validity();
	return t_done();
}
