/* Era dates at every boundary, 元年, year labels and strict parsing. */
#include <string.h>

#include "era.h"
#include "t.h"

static int
date_is(int y, int m, int d, const char *want)
{
	char buf[64];

	return era_format_date(y, m, d, buf, sizeof(buf)) ==
	    (int)strlen(want) && strcmp(buf, want) == 0;
}

static int
iso_is(const char *s, const char *want)
{
	char buf[64];

	if (want == NULL)
		return era_format_iso(s, buf, sizeof(buf)) == -1;
	return era_format_iso(s, buf, sizeof(buf)) == (int)strlen(want) &&
	    strcmp(buf, want) == 0;
}

static int
year_is(int y, const char *want)
{
	char buf[64];

	return era_format_year(y, buf, sizeof(buf)) == (int)strlen(want) &&
	    strcmp(buf, want) == 0;
}

int
main(void)
{
	char small[12];
	const char *name = NULL;
	int ey = 0, y, m, d;

	T_CHECK(date_is(2025, 11, 25, "令和7年11月25日"), "reiwa 7");
	T_CHECK(date_is(2019, 5, 1, "令和元年5月1日"), "reiwa first day is 元年");
	T_CHECK(date_is(2019, 4, 30, "平成31年4月30日"), "heisei last day");
	T_CHECK(date_is(2020, 1, 1, "令和2年1月1日"), "reiwa 2");
	T_CHECK(date_is(1989, 1, 8, "平成元年1月8日"), "heisei first day");
	T_CHECK(date_is(1989, 1, 7, "昭和64年1月7日"), "showa last day");
	T_CHECK(date_is(1926, 12, 25, "昭和元年12月25日"), "showa first day");
	T_CHECK(date_is(1926, 12, 24, "大正15年12月24日"), "taisho last day");
	T_CHECK(date_is(1912, 7, 30, "大正元年7月30日"), "taisho first day");
	T_CHECK(date_is(1912, 7, 29, "明治45年7月29日"), "meiji last day");
	T_CHECK(date_is(1868, 10, 23, "明治元年10月23日"), "meiji first day");
	T_CHECK(era_format_date(1868, 10, 22, small, sizeof(small)) == -1,
	    "before meiji: no era");
	T_CHECK(date_is(1873, 1, 1, "明治6年1月1日"), "meiji 6");
	T_CHECK(date_is(2024, 2, 29, "令和6年2月29日"), "leap day");
	T_CHECK(era_format_date(2025, 2, 29, small, sizeof(small)) == -1,
	    "no 29 February in 2025");
	T_CHECK(era_format_date(2025, 13, 1, small, sizeof(small)) == -1,
	    "month 13 refused");
	T_CHECK(era_format_date(2025, 11, 0, small, sizeof(small)) == -1,
	    "day 0 refused");
	T_CHECK(era_format_date(2025, 11, 25, small, sizeof(small)) == -1,
	    "a short buffer is an error, not a truncation");
	T_CHECK(era_of(2019, 5, 1, &name, &ey) == 0 &&
	    strcmp(name, "令和") == 0 && ey == 1, "era_of");
	T_CHECK(year_is(2019, "令和元年"), "year 2019 is 令和元年");
	T_CHECK(year_is(2018, "平成30年"), "year 2018");
	T_CHECK(year_is(1989, "平成元年"), "year 1989");
	T_CHECK(year_is(1926, "昭和元年"), "year 1926");
	T_CHECK(year_is(2025, "令和7年"), "year 2025");
	T_CHECK(iso_is("1950-03-04", "昭和25年3月4日"), "iso showa");
	T_CHECK(iso_is("1860-01-02", "1860年1月2日"), "iso before meiji: "
	    "western year");
	T_CHECK(iso_is("1950-3-04", NULL), "iso: short month refused");
	T_CHECK(iso_is("1950-03-04x", NULL), "iso: trailing text refused");
	T_CHECK(iso_is("", NULL), "iso: empty refused");
	T_CHECK(iso_is("2023-02-29", NULL), "iso: invalid day refused");
	T_CHECK(era_parse_iso("2000-02-29", &y, &m, &d) == 0 && y == 2000 &&
	    m == 2 && d == 29, "iso parse");
	T_CHECK(era_format_jst("2025-11-25T03:00:00Z", small, sizeof(small)) ==
	    -1, "jst: short buffer");
	{
		char b[64];

		T_CHECK(era_format_jst("2019-04-30T14:59:59Z", b, sizeof(b)) >
		    0 && strcmp(b, "平成31年4月30日") == 0,
		    "jst: 23:59:59 on the last day of 平成");
		T_CHECK(era_format_jst("2019-04-30T15:00:00Z", b, sizeof(b)) >
		    0 && strcmp(b, "令和元年5月1日") == 0,
		    "jst: midnight starts 令和 (UTC still 30 April)");
		T_CHECK(era_format_jst("2024-12-31T15:30:00Z", b, sizeof(b)) >
		    0 && strcmp(b, "令和7年1月1日") == 0,
		    "jst: new year in Japan");
		T_CHECK(era_format_jst("2024-02-28T15:00:00Z", b, sizeof(b)) >
		    0 && strcmp(b, "令和6年2月29日") == 0, "jst: leap day");
		T_CHECK(era_format_jst("2025-11-25T24:00:00Z", b, sizeof(b)) ==
		    -1, "jst: hour 24 refused");
		T_CHECK(era_format_jst("2025-11-25T03:00:00+09:00", b,
		    sizeof(b)) == -1, "jst: only UTC (Z) accepted");
		T_CHECK(era_format_jst("2025-11-25 03:00:00Z", b, sizeof(b)) ==
		    -1, "jst: the T is required");
		T_CHECK(era_format_jst("2025-1a-25T03:00:00Z", b, sizeof(b)) ==
		    -1, "jst: digits only");
	}
	return t_done();
}
