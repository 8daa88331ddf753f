/*
 * Japanese era dates; see era.h.  The table is ordered newest first so
 * the first era that started on or before a date is its era.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "era.h"

static const struct {
	const char	*name;
	int		 y, m, d;	/* first day */
} eras[] = {
	{ "令和", 2019, 5, 1 },
	{ "平成", 1989, 1, 8 },
	{ "昭和", 1926, 12, 25 },
	{ "大正", 1912, 7, 30 },
	{ "明治", 1868, 10, 23 },
};

#define NERAS	(sizeof(eras) / sizeof(eras[0]))

static int
date_valid(int y, int m, int d)
{
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
	    d <= civil_days_in_month(y, m);
}

int
era_of(int y, int m, int d, const char **name, int *eyear)
{
	size_t i;

	if (!date_valid(y, m, d))
		return -1;
	for (i = 0; i < NERAS; i++)
		if (civil_cmp(y, m, d, eras[i].y, eras[i].m, eras[i].d) >= 0) {
			*name = eras[i].name;
			*eyear = y - eras[i].y + 1;
			return 0;
		}
	return -1;
}

static int
put_year(char *buf, size_t size, const char *name, int ey)
{
	int n;

	if (ey == 1)
		n = snprintf(buf, size, "%s元年", name);
	else
		n = snprintf(buf, size, "%s%d年", name, ey);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int
era_format_date(int y, int m, int d, char *buf, size_t size)
{
	const char *name;
	int ey, n, k;

	if (era_of(y, m, d, &name, &ey) == -1 ||
	    (n = put_year(buf, size, name, ey)) == -1)
		return -1;
	k = snprintf(buf + n, size - (size_t)n, "%d月%d日", m, d);
	return k < 0 || (size_t)k >= size - (size_t)n ? -1 : n + k;
}

int
era_format_year(int y, char *buf, size_t size)
{
	const char *name;
	int ey;

	if (era_of(y, 12, 31, &name, &ey) == -1)
		return -1;
	return put_year(buf, size, name, ey);
}

int
era_parse_iso(const char *s, int *y, int *m, int *d)
{
	int i, v[3] = { 0, 0, 0 };
	static const int len[3] = { 4, 2, 2 };
	const char *p = s;

	for (i = 0; i < 3; i++) {
		int k;

		for (k = 0; k < len[i]; k++, p++) {
			if (*p < '0' || *p > '9')
				return -1;
			v[i] = v[i] * 10 + (*p - '0');
		}
		if (i < 2 && *p++ != '-')
			return -1;
	}
	if (*p != '\0' || !date_valid(v[0], v[1], v[2]))
		return -1;
	*y = v[0];
	*m = v[1];
	*d = v[2];
	return 0;
}

int
era_format_iso(const char *s, char *buf, size_t size)
{
	int y, m, d, n;

	if (era_parse_iso(s, &y, &m, &d) == -1)
		return -1;
	if ((n = era_format_date(y, m, d, buf, size)) != -1)
		return n;
	n = snprintf(buf, size, "%d年%d月%d日", y, m, d);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int
era_format_jst(const char *s, char *buf, size_t size)
{
	char date[11];
	int y, mo, da, h, mi, se, i;
	int64_t t;
	static const int digits[] = { 11, 12, 14, 15, 17, 18 };

	if (strlen(s) != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != 'Z')
		return -1;
	for (i = 0; i < 6; i++)
		if (s[digits[i]] < '0' || s[digits[i]] > '9')
			return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	h = (s[11] - '0') * 10 + s[12] - '0';
	mi = (s[14] - '0') * 10 + s[15] - '0';
	se = (s[17] - '0') * 10 + s[18] - '0';
	if (era_parse_iso(date, &y, &mo, &da) == -1 || h > 23 || mi > 59 ||
	    se > 59)
		return -1;
	t = civil_to_days(y, mo, da) * 86400 + h * 3600 + mi * 60 + se +
	    9 * 3600;
	civil_from_days(t / 86400 - (t % 86400 < 0 ? 1 : 0), &y, &mo, &da);
	return era_format_date(y, mo, da, buf, size);
}
