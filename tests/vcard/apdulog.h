/*
 * Hex rendering of C-APDUs for the APDU log, with PINs masked: every
 * data byte of VERIFY (20) and CHANGE REFERENCE DATA (24) becomes "**",
 * whatever the CLA; a malformed one is masked from its fifth byte on.
 */
#ifndef VCARD_APDULOG_H
#define VCARD_APDULOG_H

#include <stddef.h>
#include <stdint.h>

/*
 * Write the masked upper-case hex of b into dst (needs 2 * len + 1).
 * Returns 0, or -1 (dst left empty) when dst is too small.
 */
int	apdulog_format(char *dst, size_t dstlen, const uint8_t *b,
	    size_t len);

#endif
