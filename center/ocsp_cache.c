/*
 * Revocation answer cache; see ocsp_cache.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ocsp_cache.h"

struct ocsp_slot {
	char		sha256[JPKI_VERIFY_SHA256_HEX];
	time_t		at;
	enum jpki_verdict verdict;
	time_t		revoked_at;
};

struct ocsp_cache {
	pthread_mutex_t	 mu;
	int		 max_age;
	struct ocsp_slot slots[OCSP_CACHE_SLOTS];
};

struct ocsp_cache *
ocsp_cache_new(int max_age)
{
	struct ocsp_cache *c;

	if (max_age <= 0 || max_age > OCSP_CACHE_TTL_MAX)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->max_age = max_age;
	return c;
}

void
ocsp_cache_free(struct ocsp_cache *c)
{
	if (c == NULL)
		return;
	(void)pthread_mutex_destroy(&c->mu);
	free(c);
}

/* The key is a SHA-256 already: its first 8 hex digits pick the set. */
static struct ocsp_slot *
set_of(struct ocsp_cache *c, const char *sha256)
{
	unsigned long h = 0;
	size_t i;

	for (i = 0; i < 8; i++) {
		char x = sha256[i];

		h = h << 4 | (unsigned long)(x >= 'a' ? x - 'a' + 10 :
		    x >= 'A' ? x - 'A' + 10 : x - '0');
	}
	return &c->slots[(h % (OCSP_CACHE_SLOTS / OCSP_CACHE_WAYS)) *
	    OCSP_CACHE_WAYS];
}

static int
fresh(const struct ocsp_cache *c, const struct ocsp_slot *s, time_t now)
{
	return s->sha256[0] != '\0' && now >= s->at && now - s->at <
	    c->max_age;
}

int
ocsp_cache_get(struct ocsp_cache *c, const char *sha256, time_t now,
    enum jpki_verdict *verdict, time_t *revoked_at)
{
	struct ocsp_slot *set;
	int hit = 0, i;

	if (c == NULL || strlen(sha256) != JPKI_VERIFY_SHA256_HEX - 1)
		return 0;
	set = set_of(c, sha256);
	if (pthread_mutex_lock(&c->mu) != 0)
		return 0;
	for (i = 0; i < OCSP_CACHE_WAYS && !hit; i++)
		if (strcmp(set[i].sha256, sha256) == 0 && fresh(c, &set[i],
		    now)) {
			*verdict = set[i].verdict;
			*revoked_at = set[i].revoked_at;
			hit = 1;
		}
	(void)pthread_mutex_unlock(&c->mu);
	return hit;
}

void
ocsp_cache_put(struct ocsp_cache *c, const char *sha256, time_t now,
    enum jpki_verdict verdict, time_t revoked_at)
{
	struct ocsp_slot *set, *s = NULL;
	int i;

	if (c == NULL || (verdict != JPKI_OK && verdict != JPKI_REVOKED) ||
	    strlen(sha256) != JPKI_VERIFY_SHA256_HEX - 1)
		return;
	set = set_of(c, sha256);
	if (pthread_mutex_lock(&c->mu) != 0)
		return;
	/* its own entry, else one unused or stale, else the oldest */
	for (i = 0; i < OCSP_CACHE_WAYS && s == NULL; i++)
		if (strcmp(set[i].sha256, sha256) == 0)
			s = &set[i];
	for (i = 0; i < OCSP_CACHE_WAYS && s == NULL; i++)
		if (!fresh(c, &set[i], now))
			s = &set[i];
	if (s == NULL)
		for (s = &set[0], i = 1; i < OCSP_CACHE_WAYS; i++)
			if (set[i].at < s->at)
				s = &set[i];
	memcpy(s->sha256, sha256, JPKI_VERIFY_SHA256_HEX);
	s->at = now;
	s->verdict = verdict;
	s->revoked_at = revoked_at;
	(void)pthread_mutex_unlock(&c->mu);
}
