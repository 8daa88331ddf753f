/* Bounded parsing and secret wiping shared by every program. */
#ifndef KIOSK_UTIL_H
#define KIOSK_UTIL_H

#include <stddef.h>
#include <time.h>

/*
 * strtonum-style: parse a decimal in [min, max].  On error returns 0 and
 * sets *errstr to "invalid", "too small" or "too large"; else *errstr = NULL.
 */
long long	parse_num(const char *s, long long min, long long max,
		    const char **errstr);
/* Wipe a secret; never optimised away. */
void		secure_wipe(void *p, size_t len);
/* Milliseconds from t0 (read from CLOCK_MONOTONIC) to now. */
double		ms_since(const struct timespec *t0);

#endif
