#include "atr.h"

int
atr_historical(const uint8_t *atr, size_t len, const uint8_t **hist,
    size_t *histlen)
{
	size_t i, k;
	unsigned int y;

	*hist = NULL;
	*histlen = 0;
	if (atr == NULL || len < 2 || len > ATR_MAX)
		return -1;
	if (atr[0] != 0x3b && atr[0] != 0x3f)
		return -1;
	k = atr[1] & 0x0f;
	y = atr[1] >> 4;
	i = 2;
	while (y != 0) {
		/* TAi, TBi, TCi present per bits 1-3 of Y; TDi per bit 4 */
		i += (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1);
		if ((y & 8) == 0)
			break;
		if (i >= len)
			return -1;
		y = atr[i++] >> 4;
	}
	if (i > len || len - i < k)
		return -1;
	*hist = atr + i;
	*histlen = k;
	return 0;
}

int
atr_extended_apdu(const uint8_t *atr, size_t len)
{
	const uint8_t *h, *o;
	size_t hl, ol, j, l = 0;

	if (atr_historical(atr, len, &h, &hl) != 0 || hl == 0)
		return 0;
	switch (h[0]) {
	case 0x80:	/* compact-TLV objects, optional status object inside */
		o = h + 1;
		ol = hl - 1;
		break;
	case 0x00:	/* compact-TLV objects, then 3 status bytes */
		if (hl < 4)
			return 0;
		o = h + 1;
		ol = hl - 4;
		break;
	default:	/* proprietary, e.g. synthesised contactless ATRs */
		return 0;
	}
	for (j = 0; j < ol; j += 1 + l) {
		l = o[j] & 0x0f;
		if (l > ol - j - 1)
			return 0;	/* object runs past the end */
		if ((o[j] >> 4) == 7 && l >= 3)
			return (o[j + 3] & 0x40) != 0;
	}
	return 0;
}
