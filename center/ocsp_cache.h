/*
 * A per-process cache of revocation answers obtained by OCSP, keyed by
 * the SHA-256 of the card certificate (which names the certificate and,
 * through its signature, its issuer).  Only OCSP answers are cached (a
 * CRL is local and cheap to consult again); an entry is used for at most
 * max_age seconds after the answer arrived.  jpki_verify does not expose
 * the response's nextUpdate, so max_age must not exceed the responder's
 * update interval; API.md states the bound.  Fixed size, in sets of
 * OCSP_CACHE_WAYS entries chosen by the hash: a new answer takes an
 * unused or stale entry of its set, else the oldest one.  (Direct-mapped,
 * one entry per slot, two cards in use at the same time evicted each
 * other for good: 1 authentication in 25 asked the responder again with
 * 400 cards in 8192 slots.)  Thread-safe.
 */
#ifndef KIOSK_CENTER_OCSP_CACHE_H
#define KIOSK_CENTER_OCSP_CACHE_H

#include <time.h>

#include "jpki_verify.h"

#define OCSP_CACHE_SLOTS	8192
#define OCSP_CACHE_WAYS		4	/* entries per set */
#define OCSP_CACHE_TTL_MAX	3600

struct ocsp_cache;

struct ocsp_cache *ocsp_cache_new(int max_age);
void	ocsp_cache_free(struct ocsp_cache *);
/*
 * 1 and *verdict (JPKI_OK or JPKI_REVOKED) plus *revoked_at when a fresh
 * answer for the certificate with this SHA-256 (hex) is cached; else 0.
 */
int	ocsp_cache_get(struct ocsp_cache *, const char *sha256, time_t now,
	    enum jpki_verdict *verdict, time_t *revoked_at);
/* Remember an OCSP answer (other verdicts are ignored). */
void	ocsp_cache_put(struct ocsp_cache *, const char *sha256, time_t now,
	    enum jpki_verdict verdict, time_t revoked_at);

#endif
