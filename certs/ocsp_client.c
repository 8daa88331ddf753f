/*
 * OCSP over HTTP with one hard deadline (see ocsp_client.h).
 *
 * The transport is our own small HTTP/1.0 client rather than OpenSSL's:
 * it keeps every step (connect, send, receive) under a single monotonic
 * deadline in milliseconds, writes with MSG_NOSIGNAL (a responder that
 * hangs up must not raise SIGPIPE in the center), ignores http_proxy, and
 * bounds the answer.  A responder that accepts and never answers costs at
 * most the timeout.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "ocsp_basic.h"
#include "ocsp_client.h"
#include "verify_util.h"

#define OCSPC_NONCE_LEN	16

/* ---- URL */

static int
url_chars_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

int
ocspc_url_parse(const char *s, struct ocspc_url *url, char *err,
    size_t errlen)
{
	const char *auth, *end, *hend, *colon;
	size_t hlen, plen, i;

	memset(url, 0, sizeof(*url));
	if (s == NULL || strlen(s) > OCSPC_PATH_MAX + OCSPC_HOST_MAX) {
		vu_err(err, errlen, "OCSP URL missing or too long");
		return -1;
	}
	if (!url_chars_ok(s, strlen(s))) {
		vu_err(err, errlen, "OCSP URL has spaces or control characters");
		return -1;
	}
	if (strncasecmp(s, "https://", 8) == 0) {
		vu_err(err, errlen, "OCSP URL: https is not supported");
		return -1;
	}
	if (strncasecmp(s, "http://", 7) != 0) {
		vu_err(err, errlen, "OCSP URL must start with http://");
		return -1;
	}
	auth = s + 7;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL) {
		vu_err(err, errlen, "OCSP URL: user information not supported");
		return -1;
	}
	if (*auth == '[') {
		hend = memchr(auth, ']', (size_t)(end - auth));
		if (hend == NULL) {
			vu_err(err, errlen, "OCSP URL: unterminated [address]");
			return -1;
		}
		hlen = (size_t)(hend - auth - 1);
		auth++;
		colon = hend + 1;
		if (colon != end && *colon != ':') {
			vu_err(err, errlen, "OCSP URL: junk after ]");
			return -1;
		}
	} else {
		colon = memchr(auth, ':', (size_t)(end - auth));
		if (colon == NULL)
			colon = end;
		hlen = (size_t)(colon - auth);
	}
	if (hlen == 0 || hlen >= sizeof(url->host)) {
		vu_err(err, errlen, "OCSP URL: bad host");
		return -1;
	}
	memcpy(url->host, auth, hlen);
	url->host[hlen] = '\0';
	if (colon != end && *colon == ':') {
		size_t plen2 = (size_t)(end - colon - 1);
		long port = 0;

		if (plen2 == 0 || plen2 > 5) {
			vu_err(err, errlen, "OCSP URL: bad port");
			return -1;
		}
		for (i = 0; i < plen2; i++) {
			if (!isdigit((unsigned char)colon[1 + i])) {
				vu_err(err, errlen, "OCSP URL: bad port");
				return -1;
			}
			port = port * 10 + (colon[1 + i] - '0');
		}
		if (port < 1 || port > 65535) {
			vu_err(err, errlen, "OCSP URL: port out of range");
			return -1;
		}
		(void)snprintf(url->port, sizeof(url->port), "%ld", port);
	} else
		(void)snprintf(url->port, sizeof(url->port), "80");
	if (*end == '#') {
		vu_err(err, errlen, "OCSP URL: fragment not allowed");
		return -1;
	}
	if (*end == '\0')
		end = "/";
	if (*end == '?') {
		vu_err(err, errlen, "OCSP URL: query without a path");
		return -1;
	}
	plen = strcspn(end, "#");
	if (end[plen] == '#') {
		vu_err(err, errlen, "OCSP URL: fragment not allowed");
		return -1;
	}
	if (plen >= sizeof(url->path)) {
		vu_err(err, errlen, "OCSP URL: path too long");
		return -1;
	}
	memcpy(url->path, end, plen);
	url->path[plen] = '\0';
	return 0;
}

/* ---- transport */

static long long
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int r;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			continue;	/* recompute what is left */
		return 1;
	}
}

static int
connect_one(const struct addrinfo *ai, long long deadline, char *err,
    size_t errlen)
{
	socklen_t sl;
	int fd, e, r;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		vu_err(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR) {
		vu_err(err, errlen, "connect: %s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	r = wait_fd(fd, POLLOUT, deadline);
	if (r <= 0) {
		vu_err(err, errlen, "connect: %s",
		    r == 0 ? "timed out" : strerror(errno));
		(void)close(fd);
		return -1;
	}
	e = 0;
	sl = sizeof(e);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1)
		e = errno;
	if (e != 0) {
		vu_err(err, errlen, "connect: %s", strerror(e));
		(void)close(fd);
		return -1;
	}
	return fd;
}

static int
connect_url(const struct ocspc_url *url, long long deadline, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
	r = getaddrinfo(url->host, url->port, &hints, &res);
	if (r == EAI_NONAME) {
		/* A name, not an address: resolution is not bounded. */
		hints.ai_flags = AI_NUMERICSERV;
		r = getaddrinfo(url->host, url->port, &hints, &res);
	}
	if (r != 0) {
		vu_err(err, errlen, "OCSP host %s: %s", url->host,
		    gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (mono_ms() >= deadline) {
			vu_err(err, errlen, "connect: timed out");
			break;
		}
		if ((fd = connect_one(ai, deadline, err, errlen)) != -1)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

static int
send_all(int fd, const uint8_t *p, size_t len, long long deadline,
    char *err, size_t errlen)
{
	ssize_t n;
	int r;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r = wait_fd(fd, POLLOUT, deadline);
			if (r == 1)
				continue;
			vu_err(err, errlen, "send: %s",
			    r == 0 ? "timed out" : strerror(errno));
			return -1;
		}
		vu_err(err, errlen, "send: %s",
		    n == 0 ? "no progress" : strerror(errno));
		return -1;
	}
	return 0;
}

/* The end of the header block ("\r\n\r\n"), or NULL. */
static const uint8_t *
header_end(const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return buf + i + 4;
	return NULL;
}

/*
 * Parse the status line and the headers in [buf, hend).  Sets *clen to
 * the Content-Length or -1.  0 or -1 with err.
 */
static int
parse_headers(const uint8_t *buf, size_t hlen, long *clen, char *err,
    size_t errlen)
{
	char line[512];
	const char *p, *v;
	size_t off = 0, n;
	int first = 1, i;

	*clen = -1;
	while (off < hlen) {
		const uint8_t *eol = NULL;

		for (n = off; n + 1 < hlen; n++)
			if (buf[n] == '\r' && buf[n + 1] == '\n') {
				eol = buf + n;
				break;
			}
		if (eol == NULL)
			break;
		n = (size_t)(eol - (buf + off));
		if (n == 0)
			break;		/* the empty line */
		if (n >= sizeof(line)) {
			vu_err(err, errlen, "HTTP header line too long");
			return -1;
		}
		memcpy(line, buf + off, n);
		line[n] = '\0';
		off += n + 2;
		for (i = 0; i < (int)n; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
				vu_err(err, errlen, "HTTP header: control "
				    "character");
				return -1;
			}
		if (first) {
			first = 0;
			if (strncmp(line, "HTTP/1.", 7) != 0 ||
			    !isdigit((unsigned char)line[7]) || line[8] != ' ' ||
			    !isdigit((unsigned char)line[9]) ||
			    !isdigit((unsigned char)line[10]) ||
			    !isdigit((unsigned char)line[11]) ||
			    (line[12] != ' ' && line[12] != '\0')) {
				vu_err(err, errlen, "not an HTTP response");
				return -1;
			}
			if (strncmp(line + 9, "200", 3) != 0) {
				vu_err(err, errlen, "HTTP status %.3s",
				    line + 9);
				return -1;
			}
			continue;
		}
		if ((p = strchr(line, ':')) == NULL) {
			vu_err(err, errlen, "HTTP header without ':'");
			return -1;
		}
		v = p + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if ((size_t)(p - line) == 14 &&
		    strncasecmp(line, "Content-Length", 14) == 0) {
			long x = 0;

			if (*v == '\0' || *clen != -1) {
				vu_err(err, errlen, "bad Content-Length");
				return -1;
			}
			for (; isdigit((unsigned char)*v); v++) {
				x = x * 10 + (*v - '0');
				if (x > OCSPC_BODY_MAX) {
					vu_err(err, errlen, "OCSP response "
					    "larger than %d bytes",
					    OCSPC_BODY_MAX);
					return -1;
				}
			}
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v != '\0') {
				vu_err(err, errlen, "bad Content-Length");
				return -1;
			}
			*clen = x;
		} else if ((size_t)(p - line) == 17 &&
		    strncasecmp(line, "Transfer-Encoding", 17) == 0 &&
		    strcasecmp(v, "identity") != 0) {
			vu_err(err, errlen, "HTTP transfer coding not "
			    "supported");
			return -1;
		}
	}
	if (first) {
		vu_err(err, errlen, "empty HTTP response");
		return -1;
	}
	return 0;
}

int
ocspc_http_post(const struct ocspc_url *url, int timeout_ms,
    const uint8_t *body, size_t bodylen, uint8_t **resp, size_t *resplen,
    char *err, size_t errlen)
{
	char head[OCSPC_HOST_MAX + OCSPC_PATH_MAX + 256];
	uint8_t *buf = NULL, *out;
	const uint8_t *hend = NULL;
	size_t cap = OCSPC_HEADER_MAX + OCSPC_BODY_MAX, len = 0, blen;
	long long deadline;
	long clen = -1;
	ssize_t n;
	int fd, hn, r, v6;

	*resp = NULL;
	*resplen = 0;
	deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	v6 = strchr(url->host, ':') != NULL;
	hn = snprintf(head, sizeof(head),
	    "POST %s HTTP/1.0\r\n"
	    "Host: %s%s%s:%s\r\n"
	    "Content-Type: application/ocsp-request\r\n"
	    "Accept: application/ocsp-response\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n"
	    "\r\n", url->path, v6 ? "[" : "", url->host, v6 ? "]" : "",
	    url->port, bodylen);
	if (hn < 0 || (size_t)hn >= sizeof(head)) {
		vu_err(err, errlen, "HTTP request head too long");
		return -1;
	}
	if ((fd = connect_url(url, deadline, err, errlen)) == -1)
		return -1;
	if (send_all(fd, (const uint8_t *)head, (size_t)hn, deadline, err,
	    errlen) == -1 ||
	    send_all(fd, body, bodylen, deadline, err, errlen) == -1)
		goto fail;
	if ((buf = malloc(cap)) == NULL) {
		vu_err(err, errlen, "out of memory");
		goto fail;
	}
	for (;;) {
		if (hend != NULL && clen >= 0 &&
		    len - (size_t)(hend - buf) >= (size_t)clen)
			break;
		if (len == cap) {
			vu_err(err, errlen, "OCSP response too large");
			goto fail;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r = wait_fd(fd, POLLIN, deadline);
			if (r == 1)
				continue;
			vu_err(err, errlen, "OCSP responder: %s",
			    r == 0 ? "no answer within the timeout" :
			    strerror(errno));
			goto fail;
		}
		if (n == -1) {
			vu_err(err, errlen, "recv: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;		/* EOF */
		len += (size_t)n;
		if (hend == NULL) {
			hend = header_end(buf, len);
			if (hend == NULL && len > OCSPC_HEADER_MAX) {
				vu_err(err, errlen, "HTTP headers too long");
				goto fail;
			}
			if (hend != NULL && parse_headers(buf,
			    (size_t)(hend - buf), &clen, err, errlen) == -1)
				goto fail;
		}
	}
	if (hend == NULL) {
		vu_err(err, errlen, len == 0 ? "OCSP responder closed the "
		    "connection without an answer" : "truncated HTTP headers");
		goto fail;
	}
	blen = len - (size_t)(hend - buf);
	if (clen >= 0 && blen < (size_t)clen) {
		vu_err(err, errlen, "truncated OCSP response");
		goto fail;
	}
	if (clen >= 0)
		blen = (size_t)clen;
	if (blen == 0 || blen > OCSPC_BODY_MAX) {
		vu_err(err, errlen, "OCSP response body empty or too large");
		goto fail;
	}
	if ((out = malloc(blen)) == NULL) {
		vu_err(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(out, hend, blen);
	free(buf);
	(void)close(fd);
	*resp = out;
	*resplen = blen;
	return 0;
fail:
	free(buf);
	(void)close(fd);
	return -1;
}

/* ---- response checks */

static int
sigalg_ok(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj;

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	switch (OBJ_obj2nid(obj)) {
	case NID_sha256WithRSAEncryption:
	case NID_sha384WithRSAEncryption:
	case NID_sha512WithRSAEncryption:
	case NID_ecdsa_with_SHA256:
	case NID_ecdsa_with_SHA384:
	case NID_ecdsa_with_SHA512:
		return 1;
	default:
		return 0;
	}
}

/* Does c match the ResponderID (by name or by SHA-1 of its key)? */
static int
responder_id_matches(X509 *c, const ASN1_OCTET_STRING *keyid,
    const X509_NAME *name)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (name != NULL)
		return X509_NAME_cmp(X509_get_subject_name(c), name) == 0;
	if (keyid == NULL || ASN1_STRING_length(keyid) != SHA_DIGEST_LENGTH)
		return 0;
	if (X509_pubkey_digest(c, EVP_sha1(), md, &mdlen) != 1) {
		ERR_clear_error();
		return 0;
	}
	return mdlen == SHA_DIGEST_LENGTH &&
	    memcmp(md, ASN1_STRING_get0_data(keyid), mdlen) == 0;
}

/* May c sign OCSP answers about certificates of issuer, at now? */
static int
responder_authorised(X509 *c, X509 *issuer, time_t now, int skew,
    char *err, size_t errlen)
{
	EVP_PKEY *ikey;
	uint32_t flags;
	time_t nb, na;

	if (X509_cmp(c, issuer) == 0)
		return 1;	/* signed by the root itself */
	flags = X509_get_extension_flags(c);
	if (flags & (EXFLAG_INVALID | EXFLAG_CRITICAL)) {
		vu_err(err, errlen, "OCSP signer: invalid or unknown critical "
		    "extension");
		return 0;
	}
	if (X509_check_issued(issuer, c) != X509_V_OK ||
	    (ikey = X509_get0_pubkey(issuer)) == NULL ||
	    X509_verify(c, ikey) != 1) {
		ERR_clear_error();
		vu_err(err, errlen, "OCSP signer not issued by the "
		    "certificate's root");
		return 0;
	}
	if (!(flags & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(c) & XKU_OCSP_SIGN)) {
		vu_err(err, errlen, "OCSP signer lacks extendedKeyUsage "
		    "OCSPSigning");
		return 0;
	}
	if ((flags & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(c) & KU_DIGITAL_SIGNATURE)) {
		vu_err(err, errlen, "OCSP signer keyUsage lacks "
		    "digitalSignature");
		return 0;
	}
	if (vu_time(X509_get0_notBefore(c), &nb) == -1 ||
	    vu_time(X509_get0_notAfter(c), &na) == -1 ||
	    now + skew < nb || now - skew > na) {
		vu_err(err, errlen, "OCSP signer certificate not valid now");
		return 0;
	}
	return 1;
}

/*
 * c as the signer: it matches the ResponderID, its key verifies the
 * response and it may sign for q->issuer.  1 yes, 0 no (err set).
 */
static int
try_signer(OCSP_BASICRESP *bs, const struct ocspc_query *q, X509 *c,
    const ASN1_OCTET_STRING *keyid, const X509_NAME *name, int *tried,
    char *err, size_t errlen)
{
	EVP_PKEY *key;

	if (!responder_id_matches(c, keyid, name))
		return 0;
	*tried = 1;
	if ((key = X509_get0_pubkey(c)) == NULL) {
		vu_err_ssl(err, errlen, "OCSP signer key");
		return 0;
	}
	if (ASN1_item_verify(ASN1_ITEM_rptr(OCSP_RESPDATA),
	    OCSP_resp_get0_tbs_sigalg(bs), OCSP_resp_get0_signature(bs),
	    OCSP_resp_get0_respdata(bs), key) != 1) {
		ERR_clear_error();
		vu_err(err, errlen, "OCSP response signature does not verify");
		return 0;
	}
	return responder_authorised(c, q->issuer, q->now, q->skew, err,
	    errlen);
}

/*
 * Find the signer among the response's certificates, the configured
 * responders and the root itself.  1 when one is found and checks out.
 */
static int
check_signer(OCSP_BASICRESP *bs, const struct ocspc_query *q, char *err,
    size_t errlen)
{
	const ASN1_OCTET_STRING *keyid = NULL;
	const X509_NAME *name = NULL;
	const STACK_OF(X509) *certs;
	int i, tried = 0;

	if (OCSP_resp_get0_id(bs, &keyid, &name) != 1) {
		vu_err(err, errlen, "OCSP response without a responder id");
		return 0;
	}
	certs = OCSP_resp_get0_certs(bs);
	for (i = 0; certs != NULL && i < sk_X509_num(certs); i++)
		if (try_signer(bs, q, sk_X509_value(certs, i), keyid, name,
		    &tried, err, errlen))
			return 1;
	for (i = 0; q->signers != NULL && i < sk_X509_num(q->signers); i++)
		if (try_signer(bs, q, sk_X509_value(q->signers, i), keyid,
		    name, &tried, err, errlen))
			return 1;
	if (try_signer(bs, q, q->issuer, keyid, name, &tried, err, errlen))
		return 1;
	if (!tried)
		vu_err(err, errlen, "OCSP responder certificate not found");
	return 0;
}

enum ocspc_status
ocspc_check_response(const struct ocspc_query *q, OCSP_REQUEST *req,
    OCSP_CERTID *id, const uint8_t *der, size_t len,
    struct ocspc_answer *ans, char *err, size_t errlen)
{
	enum ocspc_status ret = OCSPC_UNAVAILABLE;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_SINGLERESP *single;
	ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
	const unsigned char *p = der;
	time_t tu, nu, pa, rt;
	int st, reason, idx, nonce, any_good = 0, found = 0;

	ans->revoked_at = 0;
	ans->reason = -1;
	if (len > OCSPC_BODY_MAX || (resp = d2i_OCSP_RESPONSE(NULL, &p,
	    (long)len)) == NULL || p != der + len) {
		vu_err_ssl(err, errlen, "OCSP response is not DER");
		goto done;
	}
	st = OCSP_response_status(resp);
	if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		vu_err(err, errlen, "OCSP responder status %s (%d)",
		    OCSP_response_status_str(st), st);
		goto done;
	}
	if ((bs = ocspb_get1_basic(resp, der, len)) == NULL) {
		vu_err_ssl(err, errlen, "OCSP response is not a basic "
		    "response");
		goto done;
	}
	if (!sigalg_ok(OCSP_resp_get0_tbs_sigalg(bs))) {
		vu_err(err, errlen, "OCSP response signature algorithm not "
		    "accepted");
		goto done;
	}
	if (!check_signer(bs, q, err, errlen))
		goto done;
	nonce = OCSP_check_nonce(req, bs);
	if (nonce != 1 && nonce != -1) {
		vu_err(err, errlen, "OCSP nonce mismatch");
		goto done;
	}
	if (vu_time(OCSP_resp_get0_produced_at(bs), &pa) == -1 ||
	    pa > q->now + q->skew) {
		vu_err(err, errlen, "OCSP producedAt missing or in the "
		    "future");
		goto done;
	}
	/* Every SingleResponse for this certificate; revoked wins. */
	idx = -1;
	while ((idx = OCSP_resp_find(bs, id, idx)) >= 0) {
		single = OCSP_resp_get0(bs, idx);
		rev = thisupd = nextupd = NULL;
		reason = -1;
		st = OCSP_single_get0_status(single, &reason, &rev, &thisupd,
		    &nextupd);
		found = 1;
		if (vu_time(thisupd, &tu) == -1 || tu > q->now + q->skew) {
			vu_err(err, errlen, "OCSP thisUpdate missing or in "
			    "the future");
			goto done;
		}
		if (nextupd != NULL) {
			if (vu_time(nextupd, &nu) == -1 || nu < tu ||
			    nu < q->now - q->skew) {
				vu_err(err, errlen, "OCSP answer is stale "
				    "(nextUpdate passed)");
				goto done;
			}
		} else if (nonce != 1 && tu < q->now - q->skew) {
			/* Neither a nonce nor a nextUpdate vouch for it. */
			vu_err(err, errlen, "OCSP answer is stale (old "
			    "thisUpdate, no nonce, no nextUpdate)");
			goto done;
		}
		if (st == V_OCSP_CERTSTATUS_REVOKED) {
			if (vu_time(rev, &rt) == -1)
				rt = 0;
			ans->revoked_at = rt;
			ans->reason = reason >= 0 ? reason : -1;
			ret = OCSPC_REVOKED;
			goto done;
		}
		if (st == V_OCSP_CERTSTATUS_GOOD)
			any_good = 1;
	}
	if (!found) {
		vu_err(err, errlen, "OCSP response has no answer for this "
		    "certificate");
		goto done;
	}
	if (!any_good) {
		vu_err(err, errlen, "OCSP responder says unknown");
		goto done;
	}
	ret = OCSPC_GOOD;
done:
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return ret;
}

enum ocspc_status
ocspc_query(const struct ocspc_query *q, struct ocspc_answer *ans,
    char *err, size_t errlen)
{
	enum ocspc_status ret = OCSPC_UNAVAILABLE;
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *id = NULL, *rid;
	uint8_t *rder = NULL, *resp = NULL;
	size_t resplen = 0;
	int rlen;

	ans->revoked_at = 0;
	ans->reason = -1;
	if ((id = OCSP_cert_to_id(EVP_sha1(), q->cert, q->issuer)) == NULL ||
	    (req = OCSP_REQUEST_new()) == NULL ||
	    (rid = OCSP_CERTID_dup(id)) == NULL) {
		vu_err_ssl(err, errlen, "OCSP request");
		goto done;
	}
	if (OCSP_request_add0_id(req, rid) == NULL) {
		OCSP_CERTID_free(rid);
		vu_err_ssl(err, errlen, "OCSP request");
		goto done;
	}
	if (OCSP_request_add1_nonce(req, NULL, OCSPC_NONCE_LEN) != 1) {
		vu_err_ssl(err, errlen, "OCSP nonce");
		goto done;
	}
	if ((rlen = i2d_OCSP_REQUEST(req, &rder)) <= 0) {
		vu_err_ssl(err, errlen, "OCSP request encoding");
		goto done;
	}
	if (ocspc_http_post(q->url, q->timeout_ms, rder, (size_t)rlen, &resp,
	    &resplen, err, errlen) == -1)
		goto done;
	ret = ocspc_check_response(q, req, id, resp, resplen, ans, err,
	    errlen);
done:
	ERR_clear_error();
	free(resp);
	OPENSSL_free(rder);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(id);
	return ret;
}
