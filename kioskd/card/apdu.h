/*
 * ISO 7816-4 command/response APDUs: encoding into a caller buffer and
 * splitting an answer into data and status word.  No I/O here.
 */
#ifndef KIOSK_APDU_H
#define KIOSK_APDU_H

#include <stddef.h>
#include <stdint.h>

#include "card_err.h"

#define APDU_SHORT_MAX_LC	255
#define APDU_SHORT_MAX_LE	256
#define APDU_EXT_MAX_LC		65535
#define APDU_EXT_MAX_LE		65536
/* Largest command apdu_build can produce (extended case 4). */
#define APDU_CMD_MAX		(4 + 3 + APDU_EXT_MAX_LC + 2)

#define SW_OK			0x9000

struct apdu {
	uint8_t		 cla;
	uint8_t		 ins;
	uint8_t		 p1;
	uint8_t		 p2;
	const uint8_t	*data;		/* Lc bytes, or NULL when lc == 0 */
	size_t		 lc;
	size_t		 le;		/* 0: no Le field; 256 (short) or
					   65536 (extended) encode as 00 */
	int		 extended;	/* use extended length fields */
};

struct rapdu {
	const uint8_t	*data;		/* points into the answer buffer */
	size_t		 len;
	uint16_t	 sw;
};

/*
 * Encode a into buf (capacity buflen); *outlen gets the length.  Case 1-4
 * follow from lc and le.  CARD_E_INVAL on lengths the chosen form cannot
 * carry or a buffer that is too small.
 */
enum card_err	apdu_build(const struct apdu *a, uint8_t *buf, size_t buflen,
		    size_t *outlen);
/* Encoded size of a, or 0 when a cannot be encoded. */
size_t		apdu_size(const struct apdu *a);
/* Split an answer into data and SW; CARD_E_PROTO when shorter than 2. */
enum card_err	apdu_split(const uint8_t *r, size_t rlen, struct rapdu *out);

static inline uint8_t
apdu_sw1(uint16_t sw)
{
	return (uint8_t)(sw >> 8);
}

static inline uint8_t
apdu_sw2(uint16_t sw)
{
	return (uint8_t)(sw & 0xff);
}

#endif
