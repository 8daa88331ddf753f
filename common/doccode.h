/*
 * The document code: the signed 2D code printed on every document
 * (DOMAIN.md §2.4, issue 4).  The text in the QR code is
 *
 *	KV1;<issuance id>;<document type>;<YYYYMMDD>;<content hash>;<signature>
 *
 * issuance id: the center's 32 lowercase hex; document type: the wire
 * name ("juminhyo"); the date of issue in Japan (JST) of issued_at;
 * content hash: SHA-256 of the exact signed content bytes, base64url
 * without padding (43 chars); signature: the center's document key
 * (ECDSA P-256, SHA-256) over everything before the last ';' (the
 * "signed part"), as raw r||s (64 bytes), base64url without padding
 * (86 chars).  About 200 characters: a version 9-10 QR code at level M.
 *
 * The center signs it when it issues (center/document.c); kioskd checks
 * it with the pinned document key before printing; kiosk-verify checks a
 * printed copy.  Nothing personal is in it.
 */
#ifndef KIOSK_DOCCODE_H
#define KIOSK_DOCCODE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define DOCCODE_MAGIC		"KV1"
#define DOCCODE_ID_LEN		32
#define DOCCODE_DOC_MAX		23
#define DOCCODE_TEXT_MAX	255	/* the whole text, without NUL */

struct doccode {
	char	issuance_id[DOCCODE_ID_LEN + 1];
	char	document[DOCCODE_DOC_MAX + 1];
	char	date[9];		/* YYYYMMDD, JST */
	uint8_t	content_sha256[32];
	uint8_t	sig[64];		/* raw r||s; zero before signing */
};

/*
 * Fill code (no signature) from signed content: the UTF-8 JSON the center
 * signs (fields issuance_id, document, issued_at).  0, or -1 when the
 * content lacks them or they are malformed.
 */
int	doccode_from_content(const char *content, size_t len,
	    struct doccode *code);
/*
 * The same from the fields themselves, for the signer that just wrote
 * them into content (issued_at as in the content: "YYYY-MM-DDTHH:MM:SSZ").
 */
int	doccode_fill(struct doccode *code, const char *issuance_id,
	    const char *document, const char *issued_at, const char *content,
	    size_t len);
/* The signed part "KV1;id;doc;date;hash" into buf: its length, or -1. */
int	doccode_signed_part(const struct doccode *, char *buf, size_t size);
/* Sign with the document key (EC P-256): 0, or -1. */
int	doccode_sign(EVP_PKEY *key, struct doccode *);
/* 1 genuine, 0 the signature does not verify, -1 error. */
int	doccode_verify(EVP_PKEY *key, const struct doccode *);
/* The whole text for the QR code: its length, or -1. */
int	doccode_format(const struct doccode *, char *buf, size_t size);
/* Parse the whole text (strict: every field's syntax): 0, or -1. */
int	doccode_parse(const char *text, size_t len, struct doccode *);
/* 1 when code belongs to this content (id, document, date, hash equal),
   0 when it does not, -1 when the content is malformed. */
int	doccode_matches(const struct doccode *, const char *content,
	    size_t len);

#endif
