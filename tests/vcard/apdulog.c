#include <string.h>

#include "hex.h"

#include "apdulog.h"
#include "capdu.h"

int
apdulog_format(char *dst, size_t dstlen, const uint8_t *b, size_t len)
{
	struct capdu c;
	size_t o, i, pre = len, masked = 0;
	int ok;

	if (dstlen == 0)
		return -1;
	dst[0] = '\0';
	if (len > (dstlen - 1) / 2)
		return -1;
	ok = capdu_parse(&c, b, len) == 0;
	if (len > CAPDU_HDR && (b[1] == 0x20 || b[1] == 0x24)) {
		if (!ok) {
			pre = CAPDU_HDR;
			masked = len - CAPDU_HDR;
		} else if (c.nc > 0) {
			pre = c.data_off;
			masked = c.nc;
		}
	}
	hex_encode(dst, dstlen, b, pre);
	o = 2 * pre;
	for (i = 0; i < masked; i++, o += 2)
		memcpy(dst + o, "**", 2);
	dst[o] = '\0';
	hex_encode(dst + o, dstlen - o, b + pre + masked, len - pre - masked);
	return 0;
}
