/*
 * ATR parsing (ISO 7816-3 §8, ISO 7816-4 §8.1.1): only what the kiosk
 * needs, i.e. whether the card announces extended Lc/Le.  Detecting the
 * card by its ATR is never done (JPKI.md §7, §10).
 */
#ifndef KIOSK_ATR_H
#define KIOSK_ATR_H

#include <stddef.h>
#include <stdint.h>

#define ATR_MAX		33

/*
 * Locate the historical bytes: *hist and *histlen point into atr.  Returns 0
 * when the ATR is well formed up to the end of the historical bytes, -1
 * when it is truncated or malformed.
 */
int	atr_historical(const uint8_t *atr, size_t len, const uint8_t **hist,
	    size_t *histlen);
/*
 * 1 when the compact-TLV card-capabilities object (tag 7, third byte,
 * bit 0x40) announces extended Lc/Le; 0 when absent, clear or malformed.
 */
int	atr_extended_apdu(const uint8_t *atr, size_t len);

#endif
