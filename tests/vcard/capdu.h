/*
 * Command-APDU parsing for the virtual card (ISO/IEC 7816-3 §12.1, the
 * four cases in short and extended form).  Shared by the applet and by
 * the APDU log, which must know where a VERIFY's data starts to mask it.
 */
#ifndef VCARD_CAPDU_H
#define VCARD_CAPDU_H

#include <stddef.h>
#include <stdint.h>

#define CAPDU_HDR	4

struct capdu {
	uint8_t		 cla;
	uint8_t		 ins;
	uint8_t		 p1;
	uint8_t		 p2;
	const uint8_t	*data;		/* NULL when nc == 0 */
	size_t		 nc;		/* command data length, 0..65535 */
	size_t		 data_off;	/* offset of data in the raw APDU */
	size_t		 ne;		/* expected length, 1..65536 if has_le */
	int		 has_le;
	int		 extended;	/* Lc/Le were in extended form */
};

/*
 * Parse len raw bytes.  Returns 0 on a well-formed APDU, -1 when the
 * length fields do not match the body (ISO: wrong length, 6700).  The
 * header fields are filled whenever len >= 4, even if -1 is returned;
 * with len < 4 the whole structure is zeroed and -1 returned.
 */
int	capdu_parse(struct capdu *, const uint8_t *, size_t);

#endif
