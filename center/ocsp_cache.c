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

/* The key is a SHA-256 already: its first bytes spread well enough. */
static size_t
slot_of(const char *sha256)
{
	size_t h = 0, i;

	for (i = 0; i < 8 && sha256[i] != '\0'; i++)
		h = h * 31 + (unsigned char)sha256[i];
	return h % OCSP_CACHE_SLOTS;
}

int
ocsp_cache_get(struct ocsp_cache *c, const char *sha256, time_t now,
    enum jpki_verdict *verdict, time_t *revoked_at)
{
	struct ocsp_slot *s;
	int hit = 0;

	if (c == NULL || strlen(sha256) != JPKI_VERIFY_SHA256_HEX - 1)
		return 0;
	s = &c->slots[slot_of(sha256)];
	if (pthread_mutex_lock(&c->mu) != 0)
		return 0;
	if (strcmp(s->sha256, sha256) == 0 && now >= s->at &&
	    now - s->at < c->max_age) {
		*verdict = s->verdict;
		*revoked_at = s->revoked_at;
		hit = 1;
	}
	(void)pthread_mutex_unlock(&c->mu);
	return hit;
}

void
ocsp_cache_put(struct ocsp_cache *c, const char *sha256, time_t now,
    enum jpki_verdict verdict, time_t revoked_at)
{
	struct ocsp_slot *s;

	if (c == NULL || (verdict != JPKI_OK && verdict != JPKI_REVOKED) ||
	    strlen(sha256) != JPKI_VERIFY_SHA256_HEX - 1)
		return;
	s = &c->slots[slot_of(sha256)];
	if (pthread_mutex_lock(&c->mu) != 0)
		return;
	memcpy(s->sha256, sha256, JPKI_VERIFY_SHA256_HEX);
	s->at = now;
	s->verdict = verdict;
	s->revoked_at = revoked_at;
	(void)pthread_mutex_unlock(&c->mu);
}
