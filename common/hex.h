/* Hex encoding for APDU logs, challenges and serial numbers. */
#ifndef KIOSK_HEX_H
#define KIOSK_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Upper-case hex of len bytes into dst (needs 2*len+1); returns dst. */
char	*hex_encode(char *dst, size_t dstlen, const uint8_t *src, size_t len);
/*
 * Decode hex (spaces and colons between bytes allowed) into dst.
 * Returns the byte count, or -1 on a bad digit, odd length or overflow.
 */
long	 hex_decode(uint8_t *dst, size_t dstlen, const char *src);

#endif
