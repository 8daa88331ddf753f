/*
 * The BasicOCSPResponse with its certificates decoded once (see
 * ocsp_basic.h).
 *
 *   OCSPResponse ::= SEQUENCE {
 *       responseStatus ENUMERATED,
 *       responseBytes  [0] EXPLICIT SEQUENCE {
 *           responseType OBJECT IDENTIFIER,	-- id-pkix-ocsp-basic
 *           response     OCTET STRING } OPTIONAL }
 *   BasicOCSPResponse ::= SEQUENCE {
 *       tbsResponseData    ResponseData,
 *       signatureAlgorithm AlgorithmIdentifier,
 *       signature          BIT STRING,
 *       certs              [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ocsp_basic.h"
#include "verify_util.h"

struct slot {
	uint8_t		*der;		/* the certs element, [0] included */
	size_t		 len;
	STACK_OF(X509)	*certs;
};

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static struct slot	 slots[OCSPB_SLOTS];
static unsigned int	 next_slot;
static unsigned long	 n_hits, n_misses;

/* id-pkix-ocsp-basic, 1.3.6.1.5.5.7.48.1.1, as a whole DER element */
static const uint8_t oid_basic[] = {
	0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01
};

/* The response OCTET STRING's contents of a basic OCSPResponse. */
static int
basic_bytes(const uint8_t *der, size_t len, const uint8_t **out,
    size_t *outlen)
{
	const uint8_t *p, *end, *q, *qend, *c;
	size_t clen, total;
	uint8_t tag;

	if (vu_der_elem(der, len, &tag, &p, &clen, &total) == -1 ||
	    tag != 0x30 || total != len)
		return -1;
	end = p + clen;
	/* responseStatus */
	if (vu_der_elem(p, (size_t)(end - p), &tag, &c, &clen, &total) == -1 ||
	    tag != 0x0a)
		return -1;
	p += total;
	/* responseBytes [0] */
	if (vu_der_elem(p, (size_t)(end - p), &tag, &c, &clen, &total) == -1 ||
	    tag != 0xa0 || p + total != end)
		return -1;
	if (vu_der_elem(c, clen, &tag, &q, &clen, &total) == -1 ||
	    tag != 0x30)
		return -1;
	qend = q + clen;
	if ((size_t)(qend - q) < sizeof(oid_basic) ||
	    memcmp(q, oid_basic, sizeof(oid_basic)) != 0)
		return -1;
	q += sizeof(oid_basic);
	if (vu_der_elem(q, (size_t)(qend - q), &tag, &c, &clen, &total) ==
	    -1 || tag != 0x04 || q + total != qend)
		return -1;
	*out = c;
	*outlen = clen;
	return 0;
}

/*
 * The signed part (tbsResponseData, signatureAlgorithm, signature) and
 * the certs element of a BasicOCSPResponse; *certs NULL when it has none.
 */
static int
split_basic(const uint8_t *b, size_t n, const uint8_t **body,
    size_t *bodylen, const uint8_t **certs, size_t *certslen)
{
	static const uint8_t tags[] = { 0x30, 0x30, 0x03 };
	const uint8_t *p, *end, *c;
	size_t clen, total, i;
	uint8_t tag;

	if (vu_der_elem(b, n, &tag, &p, &clen, &total) == -1 ||
	    tag != 0x30 || total != n)
		return -1;
	end = p + clen;
	*body = p;
	for (i = 0; i < sizeof(tags); i++) {
		if (vu_der_elem(p, (size_t)(end - p), &tag, &c, &clen,
		    &total) == -1 || tag != tags[i])
			return -1;
		p += total;
	}
	*bodylen = (size_t)(p - *body);
	*certs = NULL;
	*certslen = 0;
	if (p == end)
		return 0;
	if (vu_der_elem(p, (size_t)(end - p), &tag, &c, &clen, &total) == -1 ||
	    tag != 0xa0 || p + total != end)
		return -1;
	*certs = p;
	*certslen = total;
	return 0;
}

/* The certificates of a certs element, decoded the slow way. */
static STACK_OF(X509) *
decode_certs(const uint8_t *e, size_t n)
{
	STACK_OF(X509) *sk;
	const uint8_t *p, *end, *c, *q;
	size_t clen, total;
	uint8_t tag;
	X509 *x;

	if (vu_der_elem(e, n, &tag, &c, &clen, &total) == -1 ||
	    vu_der_elem(c, clen, &tag, &p, &clen, &total) == -1 ||
	    tag != 0x30)
		return NULL;
	end = p + clen;
	if ((sk = sk_X509_new_null()) == NULL)
		return NULL;
	while (p < end) {
		if (vu_der_elem(p, (size_t)(end - p), &tag, &c, &clen,
		    &total) == -1 || tag != 0x30 ||
		    sk_X509_num(sk) == OCSPB_CERTS_MAX)
			goto fail;
		q = p;
		if ((x = d2i_X509(NULL, &q, (long)total)) == NULL)
			goto fail;
		/*
		 * OpenSSL fills a certificate's extension cache on first use;
		 * done here, before other threads share it, so that later
		 * uses only read it.
		 */
		(void)X509_check_purpose(x, -1, 0);
		if (q != p + total || !sk_X509_push(sk, x)) {
			X509_free(x);
			goto fail;
		}
		p += total;
	}
	return sk;
fail:
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

/* The decoded certificates for these bytes, decoding them on a miss. */
static STACK_OF(X509) *
certs_for(const uint8_t *e, size_t n)
{
	STACK_OF(X509) *sk = NULL, *fresh;
	struct slot *s;
	uint8_t *copy;
	size_t i;

	(void)pthread_mutex_lock(&mu);
	for (i = 0; i < OCSPB_SLOTS; i++)
		if (slots[i].der != NULL && slots[i].len == n &&
		    memcmp(slots[i].der, e, n) == 0)
			break;
	/* the caller's own references: the slot may be replaced */
	if (i < OCSPB_SLOTS &&
	    (sk = X509_chain_up_ref(slots[i].certs)) != NULL)
		n_hits++;
	(void)pthread_mutex_unlock(&mu);
	if (sk != NULL)
		return sk;

	if ((fresh = decode_certs(e, n)) == NULL)
		return NULL;
	if ((copy = malloc(n)) == NULL)
		return fresh;
	memcpy(copy, e, n);
	(void)pthread_mutex_lock(&mu);
	n_misses++;
	if ((sk = X509_chain_up_ref(fresh)) != NULL) {
		s = &slots[next_slot++ % OCSPB_SLOTS];
		free(s->der);
		sk_X509_pop_free(s->certs, X509_free);
		s->der = copy;
		s->len = n;
		s->certs = sk;
		copy = NULL;
	}
	(void)pthread_mutex_unlock(&mu);
	free(copy);
	return fresh;
}

OCSP_BASICRESP *
ocspb_get1_basic(OCSP_RESPONSE *resp, const uint8_t *der, size_t len)
{
	OCSP_BASICRESP *bs = NULL;
	STACK_OF(X509) *certs = NULL;
	const uint8_t *b, *body, *ce, *p;
	size_t blen, bodylen, celen;
	uint8_t *stripped = NULL, *q;
	int k, total;

	if (basic_bytes(der, len, &b, &blen) == -1 ||
	    split_basic(b, blen, &body, &bodylen, &ce, &celen) == -1)
		return OCSP_response_get1_basic(resp);
	if (ce == NULL) {
		p = b;
		bs = d2i_OCSP_BASICRESP(NULL, &p, (long)blen);
		if (bs == NULL || p != b + blen)
			goto slow;
		return bs;
	}
	if (celen > OCSPB_CERTS_DER_MAX || bodylen > 0xffffff ||
	    (certs = certs_for(ce, celen)) == NULL)
		goto slow;
	/* the same SEQUENCE without the certs element */
	if ((total = ASN1_object_size(1, (int)bodylen, V_ASN1_SEQUENCE)) <= 0 ||
	    (stripped = malloc((size_t)total)) == NULL)
		goto slow;
	q = stripped;
	ASN1_put_object(&q, 1, (int)bodylen, V_ASN1_SEQUENCE,
	    V_ASN1_UNIVERSAL);
	memcpy(q, body, bodylen);
	p = stripped;
	if ((bs = d2i_OCSP_BASICRESP(NULL, &p, total)) == NULL ||
	    p != stripped + total)
		goto slow;
	for (k = 0; k < sk_X509_num(certs); k++)
		if (OCSP_basic_add1_cert(bs, sk_X509_value(certs, k)) != 1)
			goto slow;
	free(stripped);
	sk_X509_pop_free(certs, X509_free);
	return bs;
slow:
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	free(stripped);
	sk_X509_pop_free(certs, X509_free);
	return OCSP_response_get1_basic(resp);
}

void
ocspb_stats(unsigned long *hits, unsigned long *misses)
{
	(void)pthread_mutex_lock(&mu);
	*hits = n_hits;
	*misses = n_misses;
	(void)pthread_mutex_unlock(&mu);
}
