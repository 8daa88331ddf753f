/*
 * ocsp_cache.c: the center's per-process cache of OCSP answers.  What is
 * kept, for how long, and which entry a new answer takes in its set.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ocsp_cache.h"
#include "t.h"

#define KEYLEN	(JPKI_VERIFY_SHA256_HEX - 1)

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

/* A random SHA-256 in hex; with prefix (8 hex digits), in that set. */
static void
key(char out[JPKI_VERIFY_SHA256_HEX], const char *prefix)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < KEYLEN; i++)
		out[i] = hex[t_rand(&rng, 16)];
	out[KEYLEN] = '\0';
	if (prefix != NULL)
		memcpy(out, prefix, 8);
}

static int
has(struct ocsp_cache *c, const char *k, time_t now)
{
	enum jpki_verdict v;
	time_t at;

	return ocsp_cache_get(c, k, now, &v, &at);
}

static void
test_answers(void)
{
	struct ocsp_cache *c = ocsp_cache_new(60);
	char a[JPKI_VERIFY_SHA256_HEX], b[JPKI_VERIFY_SHA256_HEX];
	enum jpki_verdict v = JPKI_ERROR;
	time_t at = 0;

	key(a, NULL);
	key(b, NULL);
	T_CHECK(c != NULL && !has(c, a, 1000), "empty: a miss");
	ocsp_cache_put(c, a, 1000, JPKI_OK, 0);
	ocsp_cache_put(c, b, 1000, JPKI_REVOKED, 777);
	T_CHECK(ocsp_cache_get(c, a, 1000, &v, &at) && v == JPKI_OK,
	    "good answer kept");
	T_CHECK(ocsp_cache_get(c, b, 1001, &v, &at) && v == JPKI_REVOKED &&
	    at == 777, "revoked answer kept, with its time");
	T_CHECK(has(c, a, 1059) && !has(c, a, 1060),
	    "used for max_age seconds, not after");
	T_CHECK(!has(c, a, 999), "not before it arrived (clock stepped back)");
	ocsp_cache_put(c, a, 1100, JPKI_REVOKED, 1090);
	T_CHECK(ocsp_cache_get(c, a, 1100, &v, &at) && v == JPKI_REVOKED &&
	    at == 1090, "a newer answer replaces the card's own entry");
	key(a, NULL);
	ocsp_cache_put(c, a, 1000, JPKI_REVOCATION_UNAVAILABLE, 0);
	ocsp_cache_put(c, a, 1000, JPKI_EXPIRED, 0);
	T_CHECK(!has(c, a, 1000), "no answer, or another verdict: not kept");
	ocsp_cache_put(c, "abc", 1000, JPKI_OK, 0);
	T_CHECK(!has(c, "abc", 1000) && !has(NULL, a, 1000),
	    "short key, no cache: a miss");
	T_CHECK(ocsp_cache_new(0) == NULL &&
	    ocsp_cache_new(OCSP_CACHE_TTL_MAX + 1) == NULL,
	    "max_age out of range: refused");
	ocsp_cache_free(c);
}

static void
test_sets(void)
{
	struct ocsp_cache *c = ocsp_cache_new(60);
	char k[OCSP_CACHE_WAYS + 2][JPKI_VERIFY_SHA256_HEX];
	int i, all;

	/* one set: its ways, then one more */
	for (i = 0; i < OCSP_CACHE_WAYS + 2; i++)
		key(k[i], "0badcafe");
	for (i = 0; i < OCSP_CACHE_WAYS; i++)
		ocsp_cache_put(c, k[i], 1000 + i, JPKI_OK, 0);
	for (all = 1, i = 0; i < OCSP_CACHE_WAYS; i++)
		all &= has(c, k[i], 1010);
	T_CHECK(all, "as many cards as a set holds share it");
	ocsp_cache_put(c, k[OCSP_CACHE_WAYS], 1010, JPKI_OK, 0);
	for (all = 1, i = 1; i <= OCSP_CACHE_WAYS; i++)
		all &= has(c, k[i], 1010);
	T_CHECK(!has(c, k[0], 1010) && all,
	    "one more: the oldest answer makes room, the others stay");
	/* k[1] (put at 1001) is stale at 1061, k[2..] are not */
	ocsp_cache_put(c, k[OCSP_CACHE_WAYS + 1], 1061, JPKI_OK, 0);
	for (all = 1, i = 2; i <= OCSP_CACHE_WAYS + 1; i++)
		all &= has(c, k[i], 1061);
	T_CHECK(all, "a stale entry is taken first");
	ocsp_cache_free(c);
}

/*
 * The bench's 400 cards, each answered once: every one is found again.
 * With one entry per slot about 20 of them shared a slot with another
 * and were asked about again on every other use.
 */
static void
test_many(void)
{
	struct ocsp_cache *c = ocsp_cache_new(60);
	static char k[400][JPKI_VERIFY_SHA256_HEX];
	int i, found = 0;

	for (i = 0; i < 400; i++) {
		key(k[i], NULL);
		ocsp_cache_put(c, k[i], 1000, JPKI_OK, 0);
	}
	for (i = 0; i < 400; i++)
		found += has(c, k[i], 1001);
	T_CHECK(found == 400, "400 cards in use: all 400 answers kept");
	ocsp_cache_free(c);
}

int
main(void)
{
	test_answers();
	test_sets();
	test_many();
	return t_done();
}
