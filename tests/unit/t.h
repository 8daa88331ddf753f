/*
 * Minimal test reporting shared by the unit tests: one line per check,
 * "ok - NAME" or "not ok - NAME (file:line)", counted by tests/run.
 * A test program exits non-zero when any check failed.
 */
#ifndef KIOSK_T_H
#define KIOSK_T_H

#include <stdio.h>

static int t_failed;
static int t_count;

static inline int
t_check(int cond, const char *name, const char *file, int line)
{
	t_count++;
	if (cond)
		printf("ok - %s\n", name);
	else {
		printf("not ok - %s (%s:%d)\n", name, file, line);
		t_failed++;
	}
	fflush(stdout);
	return cond;
}

#define T_CHECK(cond, name) t_check((cond) ? 1 : 0, (name), __FILE__, __LINE__)

/* xorshift64: a reproducible number below n from *state (never 0). */
static inline unsigned
t_rand(unsigned long long *state, unsigned n)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (unsigned)(*state % n);
}

static inline int
t_done(void)
{
	return t_failed != 0 ? 1 : 0;
}

#endif
