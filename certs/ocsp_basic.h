/*
 * The BasicOCSPResponse of an OCSP answer, with the responder's
 * certificates decoded once per process.
 *
 * A responder puts its own certificate in every answer.  OpenSSL 3.0
 * decodes the public key of every certificate it parses through a
 * provider decoder chain it builds anew each time, and that was a third
 * of the center's cost of an authentication whose revocation is asked
 * (about 0.3 ms of the 1.1 ms).  The certificates are therefore cut out
 * of the DER before it is decoded and replaced by the X509 objects
 * decoded from the same bytes before; any answer whose bytes differ is a
 * miss and is decoded afresh.  The response signature covers only the
 * tbsResponseData, so what is checked is unchanged; the certificates
 * handed back are exactly the ones the answer carried.
 */
#ifndef KIOSK_OCSP_BASIC_H
#define KIOSK_OCSP_BASIC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ocsp.h>

#define OCSPB_SLOTS		8	/* distinct certificate sets kept */
#define OCSPB_CERTS_MAX		8	/* certificates in one answer */
#define OCSPB_CERTS_DER_MAX	32768	/* bytes of them */

/*
 * The basic response of resp, whose DER is der/len (already decoded into
 * resp by the caller).  Falls back to OCSP_response_get1_basic() for
 * anything this does not take apart itself.  NULL as that function.
 */
OCSP_BASICRESP	*ocspb_get1_basic(OCSP_RESPONSE *resp, const uint8_t *der,
		    size_t len);

/* Answers whose certificates were found decoded, and decoded afresh. */
void		 ocspb_stats(unsigned long *hits, unsigned long *misses);

#endif
