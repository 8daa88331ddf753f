/*
 * Just enough DER to learn how long an object is from its first bytes:
 * the card's certificate EF is larger than the certificate and padded with
 * filler, so the DER header tells where to stop reading.
 */
#ifndef KIOSK_DER_H
#define KIOSK_DER_H

#include <stddef.h>
#include <stdint.h>

enum der_err {
	DER_OK = 0,
	DER_E_SHORT,		/* need more input bytes to decide */
	DER_E_MALFORMED,	/* bad tag or non-minimal length */
	DER_E_INDEFINITE,	/* BER indefinite length (0x80) */
	DER_E_TOO_LARGE		/* length over the caller's limit */
};

#define DER_TAG_SEQUENCE	0x30
/* Longest header der_header accepts: 1 tag + 3 tag bytes + 1 + 4. */
#define DER_HDR_MAX		9

struct der_hdr {
	uint32_t	tag;		/* identifier octets, big-endian */
	size_t		hdrlen;		/* tag + length bytes */
	size_t		len;		/* content length */
	size_t		total;		/* hdrlen + len */
};

/*
 * Parse the identifier and length octets at p[0..n).  Strict DER: long
 * form only for lengths >= 128, no leading zero length byte, at most 4
 * length bytes, no indefinite length.  total must be <= max.
 */
enum der_err	der_header(const uint8_t *p, size_t n, size_t max,
		    struct der_hdr *h);
const char	*der_strerror(enum der_err);

#endif
