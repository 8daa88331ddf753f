/*
 * Japanese era (元号) dates as the forms print them: 令和7年11月25日, with
 * 元年 for the first year of an era.  The eras since the Gregorian
 * calendar's adoption: 明治 (from 1868-10-23; dates before 1873-01-01 are
 * taken as Gregorian), 大正 1912-07-30, 昭和 1926-12-25, 平成 1989-01-08,
 * 令和 2019-05-01.  A date before 明治 has no era here: -1, and the
 * caller prints the Western year.
 */
#ifndef KIOSK_ERA_H
#define KIOSK_ERA_H

#include <stddef.h>

/* The era of a date: its name ("令和") and year (1 = 元年); 0 or -1. */
int	era_of(int y, int m, int d, const char **name, int *eyear);
/* "令和7年11月25日" into buf: its length, or -1 (no era, bad date, small
   buffer). */
int	era_format_date(int y, int m, int d, char *buf, size_t size);
/* A year label: the era in force on December 31 of y, e.g. 2019 →
   "令和元年" (so 年度 2019 is 令和元年度, as the government names it). */
int	era_format_year(int y, char *buf, size_t size);
/* Parse "YYYY-MM-DD" strictly (a real calendar date): 0 or -1. */
int	era_parse_iso(const char *s, int *y, int *m, int *d);
/* era_format_date of "YYYY-MM-DD", else the Western "1850年1月2日" for a
   valid date before 明治; -1 for a malformed date. */
int	era_format_iso(const char *s, char *buf, size_t size);

/* The date in Japan (JST, UTC+9) of an RFC 3339 UTC time
   "YYYY-MM-DDThh:mm:ssZ", as era_format_date prints it; -1 malformed. */
int	era_format_jst(const char *rfc3339, char *buf, size_t size);

#endif
