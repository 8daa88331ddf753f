/*
 * The document code: build, sign, format, parse and verify the text of the
 * signed 2D code printed on every document.  See doccode.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "civil.h"
#include "doccode.h"
#include "json_parse.h"

#define HASH_B64_LEN	43	/* 32 bytes, base64url without padding */
#define SIG_B64_LEN	86	/* 64 bytes */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding of in[0..len) into out (NUL-terminated). */
static void
b64url_encode(char *out, const uint8_t *in, size_t len)
{
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64url[v >> 18 & 63];
		*out++ = b64url[v >> 12 & 63];
		*out++ = b64url[v >> 6 & 63];
		*out++ = b64url[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		*out++ = b64url[v >> 18 & 63];
		*out++ = b64url[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = b64url[v >> 18 & 63];
		*out++ = b64url[v >> 12 & 63];
		*out++ = b64url[v >> 6 & 63];
	}
	*out = '\0';
}

static int
b64url_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64url, c)) == NULL)
		return -1;
	return (int)(p - b64url);
}

/*
 * Decode exactly outlen bytes from the canonical base64url text s of
 * length slen (no padding; the unused low bits must be zero): 0, or -1.
 */
static int
b64url_decode(uint8_t *out, size_t outlen, const char *s, size_t slen)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0, v;

	if (slen != (outlen * 8 + 5) / 6)
		return -1;
	for (i = 0; i < slen; i++) {
		if ((v = b64url_value(s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == outlen)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (n != outlen || acc != 0)
		return -1;
	return 0;
}

static int
valid_id(const char *s, size_t len)
{
	size_t i;

	if (len != DOCCODE_ID_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
valid_doc(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > DOCCODE_DOC_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	return 1;
}

/* "YYYYMMDD", a real calendar date. */
static int
valid_date(const char *s, size_t len)
{
	int y, m, d;
	size_t i;

	if (len != 8)
		return 0;
	for (i = 0; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	d = (s[6] - '0') * 10 + (s[7] - '0');
	return y >= 1900 && m >= 1 && m <= 12 && d >= 1 &&
	    d <= civil_days_in_month(y, m);
}

/* The JST date YYYYMMDD of an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ". */
static int
jst_date(const char *t, char out[9])
{
	int y, m, d, hh, mi, ss, n = 0;
	int64_t days;

	if (strlen(t) != 20 ||
	    sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &m, &d, &hh, &mi, &ss,
	    &n) != 6 || n != 20)
		return -1;
	if (y < 1900 || y > 9998 || m < 1 || m > 12 || d < 1 ||
	    d > civil_days_in_month(y, m) || hh > 23 || mi > 59 || ss > 60 ||
	    hh < 0 || mi < 0 || ss < 0)
		return -1;
	days = civil_to_days(y, m, d);
	if (hh + 9 >= 24)
		days++;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 9, "%04d%02d%02d", y, m, d);
	return 0;
}

int
doccode_fill(struct doccode *code, const char *id, const char *doc,
    const char *issued_at, const char *content, size_t len)
{
	memset(code, 0, sizeof(*code));
	if (id == NULL || doc == NULL || issued_at == NULL ||
	    !valid_id(id, strlen(id)) || !valid_doc(doc, strlen(doc)) ||
	    jst_date(issued_at, code->date) != 0 ||
	    EVP_Digest(content, len, code->content_sha256, NULL, EVP_sha256(),
	    NULL) != 1) {
		memset(code, 0, sizeof(*code));
		return -1;
	}
	memcpy(code->issuance_id, id, DOCCODE_ID_LEN + 1);
	memcpy(code->document, doc, strlen(doc) + 1);
	return 0;
}

int
doccode_from_content(const char *content, size_t len, struct doccode *code)
{
	json_t *root;
	int rc;

	memset(code, 0, sizeof(*code));
	if ((root = json_parse(content, len, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL)
		return -1;
	rc = doccode_fill(code,
	    json_string_value(json_object_get(root, "issuance_id")),
	    json_string_value(json_object_get(root, "document")),
	    json_string_value(json_object_get(root, "issued_at")), content,
	    len);
	json_decref(root);
	return rc;
}

int
doccode_signed_part(const struct doccode *c, char *buf, size_t size)
{
	char hash[HASH_B64_LEN + 1];
	int n;

	if (!valid_id(c->issuance_id, strlen(c->issuance_id)) ||
	    !valid_doc(c->document, strlen(c->document)) ||
	    !valid_date(c->date, strlen(c->date)))
		return -1;
	b64url_encode(hash, c->content_sha256, sizeof(c->content_sha256));
	n = snprintf(buf, size, "%s;%s;%s;%s;%s", DOCCODE_MAGIC,
	    c->issuance_id, c->document, c->date, hash);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int
doccode_sign(EVP_PKEY *key, struct doccode *c)
{
	char part[DOCCODE_TEXT_MAX + 1];
	uint8_t der[128];
	const uint8_t *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *es = NULL;
	EVP_MD_CTX *md;
	size_t derlen = sizeof(der);
	int n, rc = -1;

	if ((n = doccode_signed_part(c, part, sizeof(part))) < 0)
		return -1;
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_bits(key) != 256)
		return -1;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, der, &derlen, (const uint8_t *)part,
	    (size_t)n) == 1 &&
	    (es = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) != NULL) {
		ECDSA_SIG_get0(es, &r, &s);
		if (BN_bn2binpad(r, c->sig, 32) == 32 &&
		    BN_bn2binpad(s, c->sig + 32, 32) == 32)
			rc = 0;
	}
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}

int
doccode_verify(EVP_PKEY *key, const struct doccode *c)
{
	char part[DOCCODE_TEXT_MAX + 1];
	uint8_t *der = NULL;
	BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *es = NULL;
	EVP_MD_CTX *md = NULL;
	int n, derlen, rc = -1, v;

	if ((n = doccode_signed_part(c, part, sizeof(part))) < 0)
		return -1;
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return 0;		/* not the kind of key that signs codes */
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(c->sig, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(c->sig + 32, 32, NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;		/* owned by es */
	if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1)
		goto out;
	v = EVP_DigestVerify(md, der, (size_t)derlen, (const uint8_t *)part,
	    (size_t)n);
	rc = v == 1 ? 1 : 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return rc;
}

int
doccode_format(const struct doccode *c, char *buf, size_t size)
{
	char sig[SIG_B64_LEN + 1];
	int n, m;

	if ((n = doccode_signed_part(c, buf, size)) < 0)
		return -1;
	b64url_encode(sig, c->sig, sizeof(c->sig));
	m = snprintf(buf + n, size - (size_t)n, ";%s", sig);
	if (m < 0 || (size_t)m >= size - (size_t)n)
		return -1;
	return n + m;
}

int
doccode_parse(const char *text, size_t len, struct doccode *c)
{
	const char *f[6], *p, *end = text + len;
	size_t fl[6];
	int i;

	memset(c, 0, sizeof(*c));
	if (len == 0 || len > DOCCODE_TEXT_MAX || memchr(text, '\0', len))
		return -1;
	for (i = 0, p = text; i < 6; i++) {
		const char *semi = memchr(p, ';', (size_t)(end - p));

		f[i] = p;
		if (i < 5) {
			if (semi == NULL)
				return -1;
			fl[i] = (size_t)(semi - p);
			p = semi + 1;
		} else {
			if (semi != NULL)
				return -1;
			fl[i] = (size_t)(end - p);
		}
	}
	if (fl[0] != strlen(DOCCODE_MAGIC) ||
	    memcmp(f[0], DOCCODE_MAGIC, fl[0]) != 0 ||
	    !valid_id(f[1], fl[1]) || !valid_doc(f[2], fl[2]) ||
	    !valid_date(f[3], fl[3]))
		goto bad;
	memcpy(c->issuance_id, f[1], fl[1]);
	memcpy(c->document, f[2], fl[2]);
	memcpy(c->date, f[3], fl[3]);
	if (b64url_decode(c->content_sha256, sizeof(c->content_sha256), f[4],
	    fl[4]) != 0 || b64url_decode(c->sig, sizeof(c->sig), f[5],
	    fl[5]) != 0)
		goto bad;
	return 0;
bad:
	memset(c, 0, sizeof(*c));
	return -1;
}

int
doccode_matches(const struct doccode *c, const char *content, size_t len)
{
	struct doccode mine;

	if (doccode_from_content(content, len, &mine) != 0)
		return -1;
	return strcmp(mine.issuance_id, c->issuance_id) == 0 &&
	    strcmp(mine.document, c->document) == 0 &&
	    strcmp(mine.date, c->date) == 0 &&
	    memcmp(mine.content_sha256, c->content_sha256,
	    sizeof(mine.content_sha256)) == 0;
}
