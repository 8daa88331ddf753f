#include "der.h"

enum der_err
der_header(const uint8_t *p, size_t n, size_t max, struct der_hdr *h)
{
	size_t o = 0, nlen, i, len;
	uint32_t tag;

	h->tag = 0;
	h->hdrlen = h->len = h->total = 0;
	if (n < 1)
		return DER_E_SHORT;
	tag = p[o++];
	if ((tag & 0x1f) == 0x1f) {
		/* high tag number: base-128, minimal, at most 3 bytes here */
		for (i = 0;; i++) {
			if (i == 3)
				return DER_E_MALFORMED;
			if (o >= n)
				return DER_E_SHORT;
			if (i == 0 && (p[o] == 0x80 || p[o] < 0x1f))
				return DER_E_MALFORMED;
			tag = tag << 8 | p[o];
			if ((p[o++] & 0x80) == 0)
				break;
		}
	}
	if (o >= n)
		return DER_E_SHORT;
	if (p[o] < 0x80) {
		len = p[o++];
	} else if (p[o] == 0x80) {
		return DER_E_INDEFINITE;
	} else {
		nlen = p[o++] & 0x7f;
		if (nlen == 0x7f)
			return DER_E_MALFORMED;	/* reserved */
		if (nlen > 4)
			return DER_E_TOO_LARGE;
		if (n - o < nlen)
			return DER_E_SHORT;
		if (p[o] == 0)
			return DER_E_MALFORMED;	/* leading zero: not minimal */
		len = 0;
		for (i = 0; i < nlen; i++)
			len = len << 8 | p[o++];
		if (len < 0x80)
			return DER_E_MALFORMED;	/* should be short form */
	}
	if (len > max || o > max - len)
		return DER_E_TOO_LARGE;
	h->tag = tag;
	h->hdrlen = o;
	h->len = len;
	h->total = o + len;
	return DER_OK;
}

const char *
der_strerror(enum der_err e)
{
	switch (e) {
	case DER_OK:
		return "ok";
	case DER_E_SHORT:
		return "truncated DER header";
	case DER_E_MALFORMED:
		return "malformed DER header";
	case DER_E_INDEFINITE:
		return "indefinite length not allowed in DER";
	case DER_E_TOO_LARGE:
		return "DER object too large";
	}
	return "unknown DER error";
}
