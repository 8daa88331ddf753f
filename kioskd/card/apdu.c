#include <string.h>

#include "apdu.h"

size_t
apdu_size(const struct apdu *a)
{
	size_t n = 4;

	if (a->lc > 0 && a->data == NULL)
		return 0;
	if (a->extended) {
		if (a->lc > APDU_EXT_MAX_LC || a->le > APDU_EXT_MAX_LE)
			return 0;
		if (a->lc == 0 && a->le == 0)
			return 4;	/* case 1 has no extended form */
		n += 1;			/* the 00 marker byte */
		if (a->lc > 0)
			n += 2 + a->lc;
		if (a->le > 0)
			n += 2;
		return n;
	}
	if (a->lc > APDU_SHORT_MAX_LC || a->le > APDU_SHORT_MAX_LE)
		return 0;
	if (a->lc > 0)
		n += 1 + a->lc;
	if (a->le > 0)
		n += 1;
	return n;
}

enum card_err
apdu_build(const struct apdu *a, uint8_t *buf, size_t buflen, size_t *outlen)
{
	size_t n, o = 0;

	*outlen = 0;
	if ((n = apdu_size(a)) == 0 || n > buflen)
		return CARD_E_INVAL;
	buf[o++] = a->cla;
	buf[o++] = a->ins;
	buf[o++] = a->p1;
	buf[o++] = a->p2;
	if (a->extended && (a->lc > 0 || a->le > 0)) {
		buf[o++] = 0x00;
		if (a->lc > 0) {
			buf[o++] = (uint8_t)(a->lc >> 8);
			buf[o++] = (uint8_t)a->lc;
			memcpy(buf + o, a->data, a->lc);
			o += a->lc;
		}
		if (a->le > 0) {
			/* 65536 encodes as 00 00 */
			buf[o++] = (uint8_t)((a->le >> 8) & 0xff);
			buf[o++] = (uint8_t)(a->le & 0xff);
		}
	} else {
		if (a->lc > 0) {
			buf[o++] = (uint8_t)a->lc;
			memcpy(buf + o, a->data, a->lc);
			o += a->lc;
		}
		if (a->le > 0)
			buf[o++] = (uint8_t)(a->le & 0xff); /* 256 -> 00 */
	}
	*outlen = o;
	return CARD_OK;
}

enum card_err
apdu_split(const uint8_t *r, size_t rlen, struct rapdu *out)
{
	out->data = r;
	out->len = 0;
	out->sw = 0;
	if (r == NULL || rlen < 2)
		return CARD_E_PROTO;
	out->len = rlen - 2;
	out->sw = (uint16_t)(r[rlen - 2] << 8 | r[rlen - 1]);
	return CARD_OK;
}
