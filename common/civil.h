/*
 * Proleptic Gregorian calendar arithmetic on civil dates, shared by the test
 * PKI's validity rule and the center's records.  Day numbers count days
 * since 1970-01-01 (negative before).  No time zones here: callers add the
 * fixed JST offset themselves (Japan has no daylight saving time).
 */
#ifndef KIOSK_CIVIL_H
#define KIOSK_CIVIL_H

#include <stdint.h>

int	civil_is_leap(int y);
/* Days in month m (1-12) of year y; 0 for a month out of range. */
int	civil_days_in_month(int y, int m);
int64_t	civil_to_days(int y, int m, int d);
void	civil_from_days(int64_t days, int *y, int *m, int *d);
/* -1, 0 or 1 as (y1,m1,d1) is before, equal to or after (y2,m2,d2). */
int	civil_cmp(int y1, int m1, int d1, int y2, int m2, int d2);

#endif
