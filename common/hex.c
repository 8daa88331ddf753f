#include <ctype.h>
#include <string.h>

#include "hex.h"

char *
hex_encode(char *dst, size_t dstlen, const uint8_t *src, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	if (dstlen == 0)
		return dst;
	if (len > (dstlen - 1) / 2)
		len = (dstlen - 1) / 2;
	for (i = 0; i < len; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 0xf];
	}
	dst[2 * len] = '\0';
	return dst;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

long
hex_decode(uint8_t *dst, size_t dstlen, const char *src)
{
	size_t n = 0;
	int hi, lo;

	while (*src != '\0') {
		if (*src == ' ' || *src == ':' || *src == '\n' || *src == '\t') {
			src++;
			continue;
		}
		if ((hi = hexval((unsigned char)src[0])) < 0)
			return -1;
		if (src[1] == '\0' || (lo = hexval((unsigned char)src[1])) < 0)
			return -1;
		if (n >= dstlen)
			return -1;
		dst[n++] = (uint8_t)(hi << 4 | lo);
		src += 2;
	}
	return (long)n;
}
