/*
 * The document code (common/doccode.c): what the center signs and the
 * kiosk and kiosk-verify check.  Round trips, every field tampered, the
 * wrong key, strict parsing, the JST date of issue.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "doccode.h"
#include "t.h"

static const char content[] =
    "{\"version\":1,\"binding\":{\"session_id\":\"00112233445566778899aabbccddeeff\","
    "\"cert_sha256\":\"ab\",\"kiosk_id\":\"S0001-T01\"},"
    "\"issuance_id\":\"0123456789abcdef0123456789abcdef\","
    "\"document\":\"juminhyo\",\"issued_at\":\"2025-12-31T15:00:00Z\","
    "\"body\":{}}";

static EVP_PKEY *
keygen(const char *type, const char *curve)
{
	if (strcmp(type, "EC") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

static int
verify_text(EVP_PKEY *key, const char *text)
{
	struct doccode c;

	if (doccode_parse(text, strlen(text), &c) != 0)
		return -2;
	return doccode_verify(key, &c);
}

int
main(void)
{
	EVP_PKEY *key = keygen("EC", "P-256"), *other = keygen("EC", "P-256");
	EVP_PKEY *rsa = keygen("RSA", NULL), *p384 = keygen("EC", "P-384");
	struct doccode c, p;
	char text[DOCCODE_TEXT_MAX + 1], t2[DOCCODE_TEXT_MAX + 1];
	char changed[sizeof(content)];
	int n, i, all;

	T_CHECK(key && other && rsa && p384, "keys generated");

	/* From the content: id, document, the JST date, the hash. */
	T_CHECK(doccode_from_content(content, strlen(content), &c) == 0,
	    "code from content");
	T_CHECK(strcmp(c.date, "20260101") == 0,
	    "15:00 UTC on 31 Dec is 1 Jan in Japan");
	T_CHECK(strcmp(c.issuance_id, "0123456789abcdef0123456789abcdef") == 0 &&
	    strcmp(c.document, "juminhyo") == 0, "id and document taken");
	T_CHECK(doccode_from_content("{\"issuance_id\":\"x\"}", 19, &c) == -1,
	    "content without the fields refused");
	T_CHECK(doccode_from_content("not json", 8, &c) == -1,
	    "malformed content refused");
	{
		const char *late = "{\"issuance_id\":\"0123456789abcdef0123456789abcdef\","
		    "\"document\":\"inkan\",\"issued_at\":\"2025-12-31T14:59:59Z\"}";
		T_CHECK(doccode_from_content(late, strlen(late), &c) == 0 &&
		    strcmp(c.date, "20251231") == 0, "14:59 UTC stays the same day");
	}

	/* Sign, format, parse, verify. */
	doccode_from_content(content, strlen(content), &c);
	T_CHECK(doccode_sign(key, &c) == 0, "signed with P-256");
	n = doccode_format(&c, text, sizeof(text));
	T_CHECK(n > 0 && (size_t)n == strlen(text) && n < 220,
	    "formatted, short enough for a small QR code");
	T_CHECK(strncmp(text, "KV1;0123456789abcdef0123456789abcdef;juminhyo;20260101;",
	    55) == 0, "text starts with the fields in order");
	T_CHECK(doccode_parse(text, (size_t)n, &p) == 0 &&
	    memcmp(&p, &c, sizeof(c)) == 0, "parse gives back the same code");
	T_CHECK(doccode_verify(key, &p) == 1, "genuine code verifies");
	T_CHECK(doccode_matches(&p, content, strlen(content)) == 1,
	    "code matches its content");
	T_CHECK(doccode_verify(other, &p) == 0, "another key: not genuine");
	T_CHECK(doccode_verify(rsa, &p) == 0, "an RSA key: not genuine");
	T_CHECK(doccode_sign(rsa, &c) == -1 && doccode_sign(p384, &c) == -1,
	    "only a P-256 key signs codes");

	/* One changed character of the content: the hash no longer matches. */
	memcpy(changed, content, sizeof(content));
	changed[strlen(changed) - 3] = '[';
	T_CHECK(doccode_matches(&p, changed, strlen(changed)) != 1,
	    "changed content does not match");
	memcpy(changed, content, sizeof(content));
	*strstr(changed, "juminhyo") = 'J';
	T_CHECK(doccode_matches(&p, changed, strlen(changed)) != 1,
	    "changed document type does not match");

	/* Every character of the text changed in turn: never genuine. */
	all = 1;
	for (i = 0; i < n; i++) {
		int r;

		memcpy(t2, text, (size_t)n + 1);
		t2[i] = t2[i] == 'A' ? 'B' : 'A';
		if (t2[i] == ';')
			continue;
		r = verify_text(key, t2);
		if (r == 1)
			all = 0;
	}
	T_CHECK(all, "no single-character change of the text verifies");

	/* Strict parsing. */
	T_CHECK(doccode_parse("", 0, &p) == -1, "empty refused");
	T_CHECK(doccode_parse("KV2;x", 5, &p) == -1, "other magic refused");
	memcpy(t2, text, (size_t)n + 1);
	strcat(t2, ";x");
	T_CHECK(doccode_parse(t2, strlen(t2), &p) == -1, "extra field refused");
	memcpy(t2, text, (size_t)n + 1);
	t2[n - 1] = '\0';
	T_CHECK(doccode_parse(t2, strlen(t2), &p) == -1, "short signature refused");
	memcpy(t2, text, (size_t)n + 1);
	memcpy(t2 + 46, "20250230", 8);
	T_CHECK(doccode_parse(t2, strlen(t2), &p) == -1, "30 Feb refused");
	memcpy(t2, text, (size_t)n + 1);
	t2[4] = 'A';
	T_CHECK(doccode_parse(t2, strlen(t2), &p) == -1,
	    "uppercase hex in the id refused");
	{
		/* The hash's last char carries 2 unused bits: must be zero. */
		char *h = t2 + 55;
		int v;

		memcpy(t2, text, (size_t)n + 1);
		v = h[42] == 'A' ? 'B' : h[42] == 'E' ? 'F' : 'B';
		h[42] = (char)v;
		T_CHECK(doccode_parse(t2, strlen(t2), &p) == -1 ||
		    memcmp(p.content_sha256, c.content_sha256, 32) != 0,
		    "non-canonical base64url not taken for the same hash");
	}
	memcpy(t2, text, (size_t)n + 1);
	t2[10] = '\0';
	T_CHECK(doccode_parse(t2, (size_t)n, &p) == -1, "NUL inside refused");

	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
	return t_done();
}
