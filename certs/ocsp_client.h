/*
 * OCSP client for the JPKI checks: a real HTTP/1.0 POST of a DER request
 * (with a nonce) over a plain socket, bounded by one deadline (connect,
 * send, receive), then a full check of the signed answer.  No global
 * state; blocking; safe to call from several threads at once.
 */
#ifndef KIOSK_OCSP_CLIENT_H
#define KIOSK_OCSP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#define OCSPC_HOST_MAX		256
#define OCSPC_PORT_MAX		8
#define OCSPC_PATH_MAX		1024
#define OCSPC_HEADER_MAX	8192	/* response status line + headers */
#define OCSPC_BODY_MAX		65536	/* response body */

struct ocspc_url {
	char	host[OCSPC_HOST_MAX];	/* without IPv6 brackets */
	char	port[OCSPC_PORT_MAX];
	char	path[OCSPC_PATH_MAX];	/* starts with '/' */
};

enum ocspc_status {
	OCSPC_GOOD,
	OCSPC_REVOKED,
	OCSPC_UNAVAILABLE	/* no trustworthy, conclusive answer */
};

struct ocspc_answer {
	time_t	revoked_at;	/* OCSPC_REVOKED */
	int	reason;		/* CRL reason code, -1 when absent */
};

struct ocspc_query {
	const struct ocspc_url	*url;
	int			 timeout_ms;
	X509			*cert;		/* the certificate asked about */
	X509			*issuer;	/* the root that issued it */
	STACK_OF(X509)		*signers;	/* configured responders or NULL */
	time_t			 now;
	int			 skew;		/* seconds */
};

/* "http://HOST[:PORT][/PATH]" -> url.  Returns 0 or -1 with err. */
int	ocspc_url_parse(const char *s, struct ocspc_url *url, char *err,
	    size_t errlen);

/* Ask the responder about q->cert and check the answer. */
enum ocspc_status ocspc_query(const struct ocspc_query *q,
	    struct ocspc_answer *ans, char *err, size_t errlen);

/*
 * The pieces, exposed for the tests.
 * ocspc_http_post: POST body to url within timeout_ms; *resp is malloc'd
 * (caller frees).  Returns 0 on an HTTP 200 answer, -1 with err.
 */
int	ocspc_http_post(const struct ocspc_url *url, int timeout_ms,
	    const uint8_t *body, size_t bodylen, uint8_t **resp,
	    size_t *resplen, char *err, size_t errlen);
/*
 * Check a DER OCSP response to req for q->cert: status successful, a
 * basic response signed by q->issuer itself or by a responder it issued
 * with extendedKeyUsage OCSPSigning (valid at q->now), a SingleResponse
 * for the certificate, thisUpdate/nextUpdate/producedAt sane within
 * q->skew, the nonce echoed when the responder includes one.
 */
enum ocspc_status ocspc_check_response(const struct ocspc_query *q,
	    OCSP_REQUEST *req, OCSP_CERTID *id, const uint8_t *der,
	    size_t len, struct ocspc_answer *ans, char *err, size_t errlen);

#endif
