/* APDU encoding/splitting, ATR capability parsing, card_err tables. */
#include <string.h>

#include "apdu.h"
#include "atr.h"
#include "card_err.h"
#include "hex.h"
#include "t.h"

static int
built(const struct apdu *a, const char *hex)
{
	uint8_t buf[APDU_CMD_MAX], want[APDU_CMD_MAX];
	size_t n;
	long w;

	if (apdu_build(a, buf, sizeof(buf), &n) != CARD_OK)
		return 0;
	if ((w = hex_decode(want, sizeof(want), hex)) < 0)
		return 0;
	return (size_t)w == n && memcmp(buf, want, n) == 0 &&
	    apdu_size(a) == n;
}

static int
atr_ext(const char *hex)
{
	uint8_t atr[64];
	long n;

	if ((n = hex_decode(atr, sizeof(atr), hex)) < 0)
		return -1;
	return atr_extended_apdu(atr, (size_t)n);
}

int
main(void)
{
	static uint8_t big[70000];
	static uint8_t buf[APDU_CMD_MAX];
	uint8_t data[300], r[8];
	struct apdu a;
	struct rapdu ra;
	size_t n;
	int i, ok;

	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)i;

	/* case 1 */
	memset(&a, 0, sizeof(a));
	a.ins = 0x20;
	a.p2 = 0x80;
	T_CHECK(built(&a, "00200080"), "case 1");
	a.extended = 1;
	T_CHECK(built(&a, "00200080"), "case 1 has no extended form");

	/* case 2 short: Le 256 encodes as 00, Le 32 as 20 */
	memset(&a, 0, sizeof(a));
	a.ins = 0xb0;
	a.le = 256;
	T_CHECK(built(&a, "00B0000000"), "case 2 short Le=256 -> 00");
	a.le = 32;
	T_CHECK(built(&a, "00B0000020"), "case 2 short Le=32");
	a.le = 257;
	T_CHECK(apdu_build(&a, buf, sizeof(buf), &n) == CARD_E_INVAL,
	    "case 2 short Le=257 refused");
	/* case 2 extended */
	a.extended = 1;
	a.le = 1144;
	T_CHECK(built(&a, "00B00000000478"), "case 2 extended Le=1144");
	a.le = 65536;
	T_CHECK(built(&a, "00B00000000000"), "case 2 extended Le=65536");
	a.le = 65537;
	T_CHECK(apdu_build(&a, buf, sizeof(buf), &n) == CARD_E_INVAL,
	    "case 2 extended Le=65537 refused");

	/* case 3 */
	memset(&a, 0, sizeof(a));
	a.ins = 0xa4;
	a.p1 = 0x02;
	a.p2 = 0x0c;
	a.data = (const uint8_t *)"\x00\x0a";
	a.lc = 2;
	T_CHECK(built(&a, "00A4020C02000A"), "case 3 short");
	a.extended = 1;
	T_CHECK(built(&a, "00A4020C000002000A"), "case 3 extended");
	a.extended = 0;
	a.data = data;
	a.lc = 255;
	T_CHECK(apdu_size(&a) == 4 + 1 + 255, "case 3 short Lc=255 size");
	a.lc = 256;
	T_CHECK(apdu_build(&a, buf, sizeof(buf), &n) == CARD_E_INVAL,
	    "case 3 short Lc=256 refused");
	a.data = NULL;
	a.lc = 2;
	T_CHECK(apdu_build(&a, buf, sizeof(buf), &n) == CARD_E_INVAL,
	    "Lc without data refused");

	/* case 4 */
	memset(&a, 0, sizeof(a));
	a.cla = 0x80;
	a.ins = 0x2a;
	a.p2 = 0x80;
	a.data = data;
	a.lc = 3;
	a.le = 256;
	T_CHECK(built(&a, "802A008003000102" "00"), "case 4 short");
	a.extended = 1;
	T_CHECK(built(&a, "802A0080" "000003" "000102" "0100"),
	    "case 4 extended Le=256");
	a.extended = 0;

	/* buffer bounds */
	T_CHECK(apdu_build(&a, buf, 8, &n) == CARD_E_INVAL && n == 0,
	    "buffer too small refused");
	T_CHECK(apdu_build(&a, buf, 9, &n) == CARD_OK && n == 9,
	    "exact buffer accepted");
	memset(&a, 0, sizeof(a));
	a.data = big;
	a.lc = 65535;
	a.le = 65536;
	a.extended = 1;
	T_CHECK(apdu_size(&a) == APDU_CMD_MAX, "largest extended APDU size");
	a.lc = 65536;
	T_CHECK(apdu_size(&a) == 0, "extended Lc=65536 refused");

	/* split */
	T_CHECK(apdu_split(r, 0, &ra) == CARD_E_PROTO, "split empty");
	r[0] = 0x90;
	T_CHECK(apdu_split(r, 1, &ra) == CARD_E_PROTO, "split 1 byte");
	r[1] = 0x00;
	T_CHECK(apdu_split(r, 2, &ra) == CARD_OK && ra.len == 0 &&
	    ra.sw == 0x9000, "split SW only");
	memcpy(r, "\x01\x02\x03\x63\xc2", 5);
	ok = apdu_split(r, 5, &ra) == CARD_OK;
	T_CHECK(ok && ra.len == 3 && ra.data == r && ra.sw == 0x63c2 &&
	    apdu_sw1(ra.sw) == 0x63 && apdu_sw2(ra.sw) == 0xc2,
	    "split data + SW");
	T_CHECK(apdu_split(NULL, 5, &ra) == CARD_E_PROTO, "split NULL");

	/* ATR: extended-length capability (JPKI.md §7 table) */
	T_CHECK(atr_ext("3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01"
	    " C0 3B") == 1, "ATR JPKI (02) announces extended");
	T_CHECK(atr_ext("3B C5 FF 81 31 FB 45 80 73 C6 01 00 00") == 0,
	    "ATR JPKI (03) does not");
	T_CHECK(atr_ext("3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F") == 0,
	    "contactless synthesised ATR: no");
	T_CHECK(atr_ext("3B E0 00 FF 81 31 FE 45 14") == 0,
	    "ATR without historical bytes: no");
	T_CHECK(atr_ext("3B DA 13 FF 81 31 FB 46 80 12 39") == 0,
	    "truncated ATR: no");
	T_CHECK(atr_ext("3B 84 80 01 80 79 C6 01") == 0,
	    "TLV running past the end: no");
	T_CHECK(atr_ext("3B 88 80 01 00 73 C6 01 40 82 90 00 00") == 1,
	    "category 00 with status bytes");
	T_CHECK(atr_ext("") == 0 && atr_ext("3B") == 0, "empty ATRs");
	T_CHECK(atr_ext("3B FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"
	    " FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF") == 0,
	    "oversize ATR: no");

	/* error table */
	ok = 1;
	for (i = 0; i < CARD_E__MAX; i++)
		if (card_strerror(i) == NULL || card_errname(i) == NULL ||
		    strncmp(card_errname(i), "CARD_", 5) != 0)
			ok = 0;
	T_CHECK(ok, "every card_err has a name and a message");
	T_CHECK(card_strerror(CARD_E__MAX) != NULL &&
	    card_strerror((enum card_err)-1) != NULL, "out of range error");
	T_CHECK(strcmp(card_strerror(CARD_E_PIN_BLOCKED), "PIN blocked: the "
	    "card must be unblocked at a municipal office") == 0,
	    "blocked message");
	return t_done();
}
