/*
 * ISO 7816-3 C-APDU cases:
 *   1   CLA INS P1 P2
 *   2S  ... Le                      2E  ... 00 Le1 Le2
 *   3S  ... Lc data                 3E  ... 00 Lc1 Lc2 data
 *   4S  ... Lc data Le              4E  ... 00 Lc1 Lc2 data Le1 Le2
 * Le 00 means 256 (short) and 0000 means 65536 (extended).
 */
#include <string.h>

#include "capdu.h"

int
capdu_parse(struct capdu *c, const uint8_t *b, size_t len)
{
	size_t lc, rest;

	memset(c, 0, sizeof(*c));
	if (b == NULL || len < CAPDU_HDR)
		return -1;
	c->cla = b[0];
	c->ins = b[1];
	c->p1 = b[2];
	c->p2 = b[3];
	rest = len - CAPDU_HDR;
	if (rest == 0)
		return 0;				/* case 1 */
	if (rest == 1) {				/* case 2S */
		c->has_le = 1;
		c->ne = b[4] == 0 ? 256 : b[4];
		return 0;
	}
	if (b[4] != 0) {				/* case 3S / 4S */
		lc = b[4];
		if (rest == 1 + lc) {
			c->has_le = 0;
		} else if (rest == 2 + lc) {
			c->has_le = 1;
			c->ne = b[len - 1] == 0 ? 256 : b[len - 1];
		} else
			return -1;
		c->nc = lc;
		c->data_off = 5;
		c->data = b + 5;
		return 0;
	}
	/* Extended form: a 00 byte, then two-byte fields. */
	c->extended = 1;
	if (rest == 3) {				/* case 2E */
		c->has_le = 1;
		c->ne = ((size_t)b[5] << 8) | b[6];
		if (c->ne == 0)
			c->ne = 65536;
		return 0;
	}
	if (rest < 3)
		return -1;
	lc = ((size_t)b[5] << 8) | b[6];
	if (lc == 0)
		return -1;
	if (rest == 3 + lc) {				/* case 3E */
		c->has_le = 0;
	} else if (rest == 5 + lc) {			/* case 4E */
		c->has_le = 1;
		c->ne = ((size_t)b[len - 2] << 8) | b[len - 1];
		if (c->ne == 0)
			c->ne = 65536;
	} else
		return -1;
	c->nc = lc;
	c->data_off = 7;
	c->data = b + 7;
	return 0;
}
