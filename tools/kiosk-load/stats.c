/*
 * Latency samples, clocks and a small reproducible PRNG for kiosk-load.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load.h"

#define SAMPLES_MAX	(64UL * 1024 * 1024)	/* 256 MiB of samples */

int
samples_add(struct samples *s, uint32_t us)
{
	uint32_t	*p;
	size_t		 cap;

	if (s->n == s->cap) {
		if (s->cap >= SAMPLES_MAX)
			return -1;
		cap = s->cap == 0 ? 4096 : s->cap * 2;
		if ((p = reallocarray(s->us, cap, sizeof(*p))) == NULL)
			return -1;
		s->us = p;
		s->cap = cap;
	}
	s->us[s->n++] = us;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile, in milliseconds. */
double
samples_pct_ms(struct samples *s, double p)
{
	size_t	 rank;

	if (s->n == 0)
		return 0;
	qsort(s->us, s->n, sizeof(*s->us), cmp_u32);
	if (p <= 0)
		return s->us[0] / 1000.0;
	if (p >= 100)
		return s->us[s->n - 1] / 1000.0;
	rank = (size_t)((p / 100.0) * (double)s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->us[rank - 1] / 1000.0;
}

void
samples_free(struct samples *s)
{
	free(s->us);
	memset(s, 0, sizeof(*s));
}

double
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t
now_us(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;

	r->s[0] = splitmix(&x);
	r->s[1] = splitmix(&x);
	if (r->s[0] == 0 && r->s[1] == 0)
		r->s[1] = 1;
}

/* xoroshiro128+ */
uint64_t
rng_next(struct rng *r)
{
	uint64_t s0 = r->s[0], s1 = r->s[1], res = s0 + s1;

	s1 ^= s0;
	r->s[0] = ((s0 << 24) | (s0 >> 40)) ^ s1 ^ (s1 << 16);
	r->s[1] = (s1 << 37) | (s1 >> 27);
	return res;
}

double
rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

uint32_t
rng_below(struct rng *r, uint32_t n)
{
	if (n == 0)
		return 0;
	return (uint32_t)(rng_next(r) % n);
}

void
txn_why(struct txn *t, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
}
