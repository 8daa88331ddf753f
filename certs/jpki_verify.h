/*
 * JPKI user-authentication certificate checks, shared by the center and
 * kioskd: the profile (JPKI.md §8.1), the issuer among the configured
 * roots, the validity period and revocation (OCSP first, a CRL as the
 * fallback, never "assumed good"), and the card's signature over a
 * challenge.
 *
 * Roots: JPKI user-auth certificates are issued directly by a root, and
 * every root generation has the same DN (JPKI.md §8.3).  The issuer is the
 * configured root whose name matches, whose SKI matches the certificate's
 * AKI when both are present, and whose key verifies the signature: never
 * the name alone.  Intermediate CAs are not supported.
 *
 * Threads: configure a jpki_trust (jpki_trust_add_roots, _set_ocsp,
 * _add_crl) before sharing it; jpki_check_cert, jpki_verify_cert and
 * jpki_verify_signature may then be called from any number of threads at
 * once.  The only state they change is each CRL's cache (a CRL file is
 * re-read when it changes on disk), which a mutex guards.  No global
 * mutable state.
 *
 * Blocking: jpki_verify_cert performs the OCSP query inline (a blocking
 * HTTP POST bounded by the configured timeout; name resolution of a host
 * name in the URL is not bounded, so configure an address).  Call it from
 * a worker thread or process when the caller has an event loop.
 */
#ifndef KIOSK_JPKI_VERIFY_H
#define KIOSK_JPKI_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define JPKI_VERIFY_CERT_MAX	16384	/* largest card certificate DER */
#define JPKI_VERIFY_SERIAL_MAX	(2 * 20 + 1)	/* RFC 5280: <= 20 octets */
#define JPKI_VERIFY_CN_MAX	64	/* ub-common-name */
#define JPKI_VERIFY_SHA256_HEX	(2 * 32 + 1)
#define JPKI_VERIFY_ROOT_NAME_MAX 128
#define JPKI_VERIFY_ROOTS_MAX	64
#define JPKI_VERIFY_CRLS_MAX	16
#define JPKI_VERIFY_SKEW	300	/* seconds allowed on OCSP/CRL times */
#define JPKI_VERIFY_OCSP_TIMEOUT_DEFAULT 5000	/* ms */
#define JPKI_VERIFY_OCSP_TIMEOUT_MAX	60000	/* ms */

enum jpki_verdict {
	JPKI_OK = 0,
	JPKI_UNTRUSTED,		/* no root verifies it, or a bad profile */
	JPKI_EXPIRED,
	JPKI_NOT_YET_VALID,
	JPKI_REVOKED,
	JPKI_REVOCATION_UNAVAILABLE,	/* neither OCSP nor a current CRL */
	JPKI_MALFORMED,		/* not a DER certificate */
	JPKI_ERROR		/* internal failure (memory, OpenSSL) */
};

enum jpki_revocation_source {
	JPKI_REV_NOT_CHECKED = 0,
	JPKI_REV_OCSP,
	JPKI_REV_CRL
};

struct jpki_cert_info {
	char	serial[JPKI_VERIFY_SERIAL_MAX];	/* upper-case hex, "0705D990" */
	char	subject_cn[JPKI_VERIFY_CN_MAX + 1];
	time_t	not_before;
	time_t	not_after;
	char	sha256[JPKI_VERIFY_SHA256_HEX];	/* lower-case hex of the DER */
	/* The root that issued it ("" when none): "FILE" or "FILE#N" for the
	 * N-th certificate (from 1) of a file holding several, and the
	 * root's SHA-256 fingerprint (lower-case hex). */
	char	root_name[JPKI_VERIFY_ROOT_NAME_MAX];
	char	root_sha256[JPKI_VERIFY_SHA256_HEX];
	enum jpki_revocation_source revocation;	/* what decided it */
	time_t	revoked_at;		/* JPKI_REVOKED: when; else 0 */
	int	revocation_reason;	/* CRL reason code, -1 when absent */
};

struct jpki_trust;

struct jpki_trust *jpki_trust_new(void);
void	 jpki_trust_free(struct jpki_trust *);

/*
 * Add trusted user-auth roots from path: a PEM file with one or more
 * certificates, a DER file with one, or a directory whose *.pem, *.crt,
 * *.cer and *.der files are read (in name order).  Each root must be a CA
 * (basicConstraints CA:TRUE).  Returns the number of roots added (>= 1)
 * or -1 with a message in err.
 */
int	 jpki_trust_add_roots(struct jpki_trust *, const char *path,
	    char *err, size_t errlen);

/*
 * Query an OCSP responder at url ("http://HOST[:PORT][/PATH]"; https is
 * not supported) for every certificate.  signer_path (may be NULL): PEM
 * file of responder certificates to use when a response does not carry
 * its signer; they must still pass the same checks (issued by the root
 * that issued the card certificate, extendedKeyUsage OCSPSigning, valid).
 * timeout_ms bounds the whole exchange (connect, send, receive); 0 means
 * JPKI_VERIFY_OCSP_TIMEOUT_DEFAULT.  Returns 0 or -1 with err.
 */
int	 jpki_trust_set_ocsp(struct jpki_trust *, const char *url,
	    const char *signer_path, int timeout_ms, char *err, size_t errlen);

/*
 * Add a CRL file (PEM or DER), used when OCSP is not configured or cannot
 * answer.  It is read now (it must parse) and again whenever the file
 * changes.  At each use it must verify against the root that issued the
 * certificate and be current (thisUpdate <= now + JPKI_VERIFY_SKEW,
 * now < nextUpdate; a CRL without nextUpdate is never current), else it
 * is ignored.  Delta CRLs and CRLs with an unknown critical extension or
 * a partitioning issuingDistributionPoint are ignored.  Returns 0 or -1.
 */
int	 jpki_trust_add_crl(struct jpki_trust *, const char *path,
	    char *err, size_t errlen);

/*
 * The full check of a card's user-auth certificate at time now: DER
 * form, profile (RSA-2048, sha256WithRSAEncryption, subject exactly C=JP
 * and CN, keyUsage with digitalSignature when present, not a CA, no
 * unknown critical extension), the issuing root, validity, revocation.
 * out (may be NULL) is filled as far as the check got; err gets a short
 * English reason (no personal data: the subject CN is never put in it);
 * for JPKI_OK it is "ok", or a note when OCSP failed and the CRL decided.  The OCSP/CRL times are judged against
 * now too.
 */
enum jpki_verdict jpki_verify_cert(struct jpki_trust *, const uint8_t *der,
	    size_t len, time_t now, struct jpki_cert_info *out, char *err,
	    size_t errlen);

/*
 * The same without revocation: a pre-check (for example on the kiosk,
 * before asking for the PIN), never a substitute for jpki_verify_cert.
 * out->revocation is JPKI_REV_NOT_CHECKED.
 */
enum jpki_verdict jpki_check_cert(struct jpki_trust *, const uint8_t *der,
	    size_t len, time_t now, struct jpki_cert_info *out, char *err,
	    size_t errlen);

/*
 * sha256WithRSAEncryption (PKCS#1 v1.5) signature sig over msg, checked
 * with the certificate's RSA key.  Returns 1 valid, 0 invalid, -1 when
 * the certificate cannot be used (unparseable, not an RSA key).
 */
int	 jpki_verify_signature(const uint8_t *cert_der, size_t cert_len,
	    const uint8_t *msg, size_t msg_len, const uint8_t *sig,
	    size_t sig_len);

/*
 * The same checks on a certificate parsed once, in steps: a caller that
 * checks the certificate, then the card's signature, then revocation (the
 * center's authentication) parses the DER once and checks the chain once.
 * jpki_cert_parse: JPKI_OK (*out set; free it with jpki_cert_free),
 * JPKI_MALFORMED (not one DER certificate of at most
 * JPKI_VERIFY_CERT_MAX bytes) or JPKI_ERROR.  jpki_check_parsed is
 * jpki_check_cert; its info, when JPKI_OK, is what jpki_revocation_parsed
 * and jpki_ocsp_fetch (below) go on from.
 */
struct jpki_cert;

enum jpki_verdict jpki_cert_parse(const uint8_t *der, size_t len,
	    struct jpki_cert **out, char *err, size_t errlen);
void	 jpki_cert_free(struct jpki_cert *);
enum jpki_verdict jpki_check_parsed(struct jpki_trust *,
	    const struct jpki_cert *, time_t now, struct jpki_cert_info *out,
	    char *err, size_t errlen);
int	 jpki_verify_signature_parsed(const struct jpki_cert *,
	    const uint8_t *msg, size_t msg_len, const uint8_t *sig,
	    size_t sig_len);

/*
 * Revocation, the step after jpki_check_parsed accepted c at now with
 * info as its output: the root it found (info->root_sha256) is taken as
 * found, not searched for and its signature checked again.  OCSP is asked
 * now when a is NULL; otherwise a is the answer (jpki_ocsp_fetch, made
 * off a thread that must not block), and the CRL is still the fallback
 * when it is JPKI_OCSP_UNAVAILABLE.  info gets the revocation fields; the
 * verdict is jpki_verify_cert's.  JPKI_ERROR when info is not a
 * successful check of c with this trust.
 *
 * jpki_ocsp_fetch: the OCSP query on its own, blocking for at most
 * timeout_ms (0: the configured timeout); "unavailable" without asking
 * when info is not a successful check of c.  jpki_trust_has_ocsp:
 * whether a responder is configured at all.
 */
enum jpki_ocsp_status {
	JPKI_OCSP_GOOD = 0,
	JPKI_OCSP_REVOKED,
	JPKI_OCSP_UNAVAILABLE	/* no trustworthy, conclusive answer */
};

struct jpki_ocsp_answer {
	enum jpki_ocsp_status status;
	time_t	revoked_at;	/* JPKI_OCSP_REVOKED */
	int	reason;		/* CRL reason code, -1 when absent */
	char	err[200];	/* why unavailable (no personal data) */
};

int	 jpki_trust_has_ocsp(const struct jpki_trust *);
enum jpki_verdict jpki_revocation_parsed(struct jpki_trust *,
	    const struct jpki_cert *, time_t now,
	    const struct jpki_ocsp_answer *, struct jpki_cert_info *info,
	    char *err, size_t errlen);
void	 jpki_ocsp_fetch(struct jpki_trust *, const struct jpki_cert *,
	    const struct jpki_cert_info *info, time_t now, int timeout_ms,
	    struct jpki_ocsp_answer *);
/* An answer for when no query could be made: unavailable, err = why. */
void	 jpki_ocsp_unavailable(struct jpki_ocsp_answer *, const char *why);

/* The wire's error code (center/API.md): "ok", "cert_untrusted", ... */
const char *jpki_verdict_code(enum jpki_verdict);
/* The HTTP status the center answers with for it (200, 400, 403, 503). */
int	 jpki_verdict_http_status(enum jpki_verdict);
/* English and Japanese messages for the wire's error object. */
const char *jpki_verdict_message(enum jpki_verdict);
const char *jpki_verdict_message_ja(enum jpki_verdict);
/* "ocsp", "crl" or "none". */
const char *jpki_revocation_source_name(enum jpki_revocation_source);

#endif
