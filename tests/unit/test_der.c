/* DER header parsing: lengths, strictness, bounds. */
#include <string.h>

#include "der.h"
#include "hex.h"
#include "t.h"

static enum der_err
parse(const char *hex, size_t max, struct der_hdr *h)
{
	uint8_t b[64];
	long n;

	if ((n = hex_decode(b, sizeof(b), hex)) < 0)
		return (enum der_err)-1;
	return der_header(b, (size_t)n, max, h);
}

int
main(void)
{
	struct der_hdr h;
	size_t i;
	int ok;

	T_CHECK(parse("30 05", 100, &h) == DER_OK && h.tag == 0x30 &&
	    h.hdrlen == 2 && h.len == 5 && h.total == 7, "short form");
	T_CHECK(parse("30 7F", 200, &h) == DER_OK && h.total == 129,
	    "short form 127");
	T_CHECK(parse("30 81 80", 200, &h) == DER_OK && h.hdrlen == 3 &&
	    h.len == 128 && h.total == 131, "long form 1 byte");
	T_CHECK(parse("30 82 05 74", 8192, &h) == DER_OK && h.hdrlen == 4 &&
	    h.len == 1396 && h.total == 1400, "long form 2 bytes (1400 B cert)");
	T_CHECK(parse("30 83 01 00 00", 1 << 20, &h) == DER_OK &&
	    h.len == 65536 && h.total == 65541, "long form 3 bytes");
	T_CHECK(parse("30 84 01 00 00 00", (size_t)1 << 30, &h) == DER_OK &&
	    h.len == 16777216, "long form 4 bytes");
	T_CHECK(parse("30 85 01 00 00 00 00", (size_t)-1, &h) ==
	    DER_E_TOO_LARGE, "5 length bytes refused");

	/* truncated input */
	T_CHECK(parse("", 100, &h) == DER_E_SHORT, "empty");
	T_CHECK(parse("30", 100, &h) == DER_E_SHORT, "tag only");
	T_CHECK(parse("30 82 05", 8192, &h) == DER_E_SHORT,
	    "long form cut short");
	T_CHECK(parse("1F", 100, &h) == DER_E_SHORT, "high tag cut short");

	/* strictness */
	T_CHECK(parse("30 80", 100, &h) == DER_E_INDEFINITE, "indefinite");
	T_CHECK(parse("30 81 05", 100, &h) == DER_E_MALFORMED,
	    "non-minimal: long form for 5");
	T_CHECK(parse("30 82 00 90", 1000, &h) == DER_E_MALFORMED,
	    "non-minimal: leading zero length byte");
	T_CHECK(parse("30 FF", 100, &h) == DER_E_MALFORMED, "reserved 0xFF");
	T_CHECK(parse("1F 1E 01", 100, &h) == DER_E_MALFORMED,
	    "high tag form for a low tag number");
	T_CHECK(parse("1F 80 21 01", 100, &h) == DER_E_MALFORMED,
	    "high tag with leading 0x80");
	T_CHECK(parse("1F 81 01 02", 100, &h) == DER_OK && h.tag == 0x1f8101 &&
	    h.hdrlen == 4 && h.total == 6, "high tag 2 bytes");
	T_CHECK(parse("1F 81 81 81 01 00", 100, &h) == DER_E_MALFORMED,
	    "high tag too long");

	/* limits */
	T_CHECK(parse("30 82 20 00", 8192, &h) == DER_E_TOO_LARGE,
	    "over the cap (8196 > 8192)");
	T_CHECK(parse("30 82 1F FC", 8192, &h) == DER_OK && h.total == 8192,
	    "exactly the cap");
	T_CHECK(parse("30 84 FF FF FF FF", 8192, &h) == DER_E_TOO_LARGE,
	    "4 GB object");
	T_CHECK(parse("30 05", 6, &h) == DER_E_TOO_LARGE && h.total == 0,
	    "header+content over max");

	/* every 1..3 byte input: no crash, defined result */
	ok = 1;
	for (i = 0; i < 0x10000; i++) {
		uint8_t b[3] = { (uint8_t)(i >> 8), (uint8_t)i, 0x80 };
		enum der_err e = der_header(b, 1 + i % 3, 1000, &h);

		if (e != DER_OK && e != DER_E_SHORT && e != DER_E_MALFORMED &&
		    e != DER_E_INDEFINITE && e != DER_E_TOO_LARGE)
			ok = 0;
		if (e == DER_OK && (h.total > 1000 || h.hdrlen > 3))
			ok = 0;
		if (der_strerror(e) == NULL)
			ok = 0;
	}
	T_CHECK(ok, "exhaustive short inputs");
	return t_done();
}
