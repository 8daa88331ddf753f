/*
 * Document verification (docverify.h).  Order matters: size, signer,
 * signature syntax, signature over the exact bytes, and only then the
 * JSON parser and the binding.  Nothing of an unverified document is
 * parsed, so a forged or misdirected document cannot even reach jansson.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "doccode.h"
#include "docverify.h"
#include "hex.h"
#include "json_parse.h"

#define KEYFILE_MAX	(64 * 1024)

struct docverify_key {
	EVP_PKEY	*pkey;
	char		 id[65];
};

static const char *const status_names[] = {
	"ok",
	"bad arguments",
	"document too large",
	"signed by another key",
	"malformed signature",
	"bad signature",
	"signed content is not a JSON object",
	"missing field",
	"malformed field",
	"document bound to another session",
	"document bound to another card certificate",
	"document bound to another kiosk",
	"document is for another issuance",
	"document of another type",
	"document with another number of copies",
	"document code malformed or not signed by the document key",
	"document code is for other content",
	"internal error"
};

const char *
docverify_strerror(enum docverify_status st)
{
	if ((size_t)st >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[st];
}

static struct docverify_key *
key_new(EVP_PKEY *pkey, char *err, size_t errlen)
{
	struct docverify_key	*k;
	char			 group[32];
	unsigned char		*der = NULL;
	unsigned char		 md[32];
	unsigned int		 mdlen = 0;
	size_t			 glen = 0, i;
	int			 n;
	static const char	 digits[] = "0123456789abcdef";

	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		snprintf(err, errlen, "document key is not EC P-256");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if ((n = i2d_PUBKEY(pkey, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md)) {
		OPENSSL_free(der);
		snprintf(err, errlen, "cannot hash the document key");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	OPENSSL_free(der);
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "out of memory");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	for (i = 0; i < sizeof(md); i++) {
		k->id[2 * i] = digits[md[i] >> 4];
		k->id[2 * i + 1] = digits[md[i] & 0xf];
	}
	k->id[64] = '\0';
	k->pkey = pkey;
	return k;
}

struct docverify_key *
docverify_key_from_spki(const uint8_t *der, size_t len, char *err,
    size_t errlen)
{
	const unsigned char	*p = der;
	EVP_PKEY		*pkey;

	if (der == NULL || len == 0 || len > KEYFILE_MAX ||
	    (pkey = d2i_PUBKEY(NULL, &p, (long)len)) == NULL) {
		snprintf(err, errlen, "bad SubjectPublicKeyInfo");
		return NULL;
	}
	if (p != der + len) {
		EVP_PKEY_free(pkey);
		snprintf(err, errlen, "trailing bytes after the key");
		return NULL;
	}
	return key_new(pkey, err, errlen);
}

struct docverify_key *
docverify_key_load(const char *path, char *err, size_t errlen)
{
	FILE		*f;
	char		*buf;
	size_t		 n;
	BIO		*bio;
	X509		*x;
	EVP_PKEY	*pkey = NULL;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return NULL;
	}
	if ((buf = malloc(KEYFILE_MAX + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, KEYFILE_MAX + 1, f);
	if (ferror(f) || n == 0 || n > KEYFILE_MAX) {
		fclose(f);
		free(buf);
		snprintf(err, errlen, "%s: unreadable, empty or over %d bytes",
		    path, KEYFILE_MAX);
		return NULL;
	}
	fclose(f);
	if ((bio = BIO_new_mem_buf(buf, (int)n)) != NULL) {
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			pkey = X509_get_pubkey(x);
			X509_free(x);
		} else if (BIO_reset(bio) == 1)
			pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	free(buf);
	ERR_clear_error();
	if (pkey == NULL) {
		snprintf(err, errlen, "%s: no PEM certificate or public key",
		    path);
		return NULL;
	}
	return key_new(pkey, err, errlen);
}

void
docverify_key_free(struct docverify_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *
docverify_key_id(const struct docverify_key *k)
{
	return k->id;
}

void
docverify_out_clear(struct docverify_out *out)
{
	json_decref(out->doc);
	memset(out, 0, sizeof(*out));
}

static int
is_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdefABCDEF") == len;
}

/* Strict DER: it parses completely and re-encodes to the same bytes. */
static int
sig_canonical(const uint8_t *sig, size_t siglen)
{
	const unsigned char	*p = sig;
	ECDSA_SIG		*es;
	unsigned char		*re = NULL;
	int			 n, ok;

	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)siglen)) == NULL)
		return 0;
	ok = p == sig + siglen;
	if (ok) {
		n = i2d_ECDSA_SIG(es, &re);
		ok = n > 0 && (size_t)n == siglen && memcmp(re, sig,
		    siglen) == 0;
		OPENSSL_free(re);
	}
	ECDSA_SIG_free(es);
	return ok;
}

static enum docverify_status
fail(struct docverify_out *out, enum docverify_status st, const char *field)
{
	json_decref(out->doc);
	out->doc = NULL;
	snprintf(out->detail, sizeof(out->detail), "%s%s%s",
	    docverify_strerror(st), field != NULL ? ": " : "",
	    field != NULL ? field : "");
	return st;
}

/* A required string field into dst, 1..dstlen-1 bytes. */
static enum docverify_status
get_str(json_t *o, const char *key, char *dst, size_t dstlen,
    struct docverify_out *out)
{
	json_t	*v;
	size_t	 len;

	if ((v = json_object_get(o, key)) == NULL)
		return fail(out, DOCVERIFY_E_MISSING_FIELD, key);
	if (!json_is_string(v))
		return fail(out, DOCVERIFY_E_BAD_FIELD, key);
	len = json_string_length(v);
	if (len == 0 || len >= dstlen || strlen(json_string_value(v)) != len)
		return fail(out, DOCVERIFY_E_BAD_FIELD, key);
	memcpy(dst, json_string_value(v), len + 1);
	return DOCVERIFY_OK;
}

static enum docverify_status
get_int(json_t *o, const char *key, long long min, long long max, int *dst,
    struct docverify_out *out)
{
	json_t	*v;

	if ((v = json_object_get(o, key)) == NULL)
		return fail(out, DOCVERIFY_E_MISSING_FIELD, key);
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return fail(out, DOCVERIFY_E_BAD_FIELD, key);
	*dst = (int)json_integer_value(v);
	return DOCVERIFY_OK;
}

/* The binding: exactly these three fields, and all three ours. */
static enum docverify_status
check_binding(json_t *doc, const struct docverify_expect *ex,
    struct docverify_out *out)
{
	json_t			*b;
	const char		*k;
	json_t			*v;
	char			 sid[65], hash[65], kiosk[65];
	uint8_t			 h[32];
	enum docverify_status	 st;

	if ((b = json_object_get(doc, "binding")) == NULL)
		return fail(out, DOCVERIFY_E_MISSING_FIELD, "binding");
	if (!json_is_object(b))
		return fail(out, DOCVERIFY_E_BAD_FIELD, "binding");
	json_object_foreach(b, k, v) {
		if (strcmp(k, "session_id") != 0 &&
		    strcmp(k, "cert_sha256") != 0 &&
		    strcmp(k, "kiosk_id") != 0)
			return fail(out, DOCVERIFY_E_BAD_FIELD,
			    "binding has an unknown field");
	}
	if ((st = get_str(b, "session_id", sid, sizeof(sid), out)) != 0 ||
	    (st = get_str(b, "cert_sha256", hash, sizeof(hash), out)) != 0 ||
	    (st = get_str(b, "kiosk_id", kiosk, sizeof(kiosk), out)) != 0)
		return st;
	if (!is_hex(hash, 64) || hex_decode(h, sizeof(h), hash) != 32)
		return fail(out, DOCVERIFY_E_BAD_FIELD, "binding.cert_sha256");
	if (strlen(sid) != strlen(ex->session_id) ||
	    strcasecmp(sid, ex->session_id) != 0)
		return fail(out, DOCVERIFY_E_SESSION_MISMATCH, NULL);
	if (CRYPTO_memcmp(h, ex->cert_sha256, sizeof(h)) != 0)
		return fail(out, DOCVERIFY_E_CERT_MISMATCH, NULL);
	if (strcmp(kiosk, ex->kiosk_id) != 0)
		return fail(out, DOCVERIFY_E_KIOSK_MISMATCH, NULL);
	return DOCVERIFY_OK;
}

enum docverify_status
docverify(const uint8_t *content, size_t len, const uint8_t *sig,
    size_t siglen, const char *key_id, const struct docverify_key *key,
    const struct docverify_expect *ex, struct docverify_out *out)
{
	EVP_MD_CTX		*md;
	json_t			*doc, *v;
	json_error_t		 je;
	enum docverify_status	 st;
	int			 rc;

	if (out == NULL)
		return DOCVERIFY_E_ARG;
	memset(out, 0, sizeof(*out));
	if (content == NULL || sig == NULL || key == NULL || ex == NULL ||
	    ex->session_id == NULL || ex->cert_sha256 == NULL ||
	    ex->kiosk_id == NULL || ex->issuance_id == NULL || len == 0 ||
	    siglen == 0)
		return fail(out, DOCVERIFY_E_ARG, NULL);
	if (len > DOCVERIFY_MAX_CONTENT)
		return fail(out, DOCVERIFY_E_TOO_LARGE, NULL);
	if (key_id != NULL && (!is_hex(key_id, 64) ||
	    strcasecmp(key_id, key->id) != 0))
		return fail(out, DOCVERIFY_E_WRONG_KEY, NULL);
	if (siglen > DOCVERIFY_MAX_SIG || !sig_canonical(sig, siglen)) {
		ERR_clear_error();
		return fail(out, DOCVERIFY_E_SIG_SYNTAX, NULL);
	}
	if ((md = EVP_MD_CTX_new()) == NULL)
		return fail(out, DOCVERIFY_E_INTERNAL, NULL);
	rc = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey);
	if (rc == 1)
		rc = EVP_DigestVerify(md, sig, siglen, content, len);
	else
		rc = -2;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	if (rc == -2)
		return fail(out, DOCVERIFY_E_INTERNAL, "verify init");
	if (rc != 1)
		return fail(out, DOCVERIFY_E_BAD_SIGNATURE, NULL);

	/* Authentic from here: now it may be parsed. */
	if ((doc = json_parse((const char *)content, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL)
		return fail(out, DOCVERIFY_E_NOT_JSON, NULL);
	out->doc = doc;
	if (!json_is_object(doc))
		return fail(out, DOCVERIFY_E_NOT_JSON, NULL);
	if ((st = get_str(doc, "issuance_id", out->issuance_id,
	    sizeof(out->issuance_id), out)) != 0 ||
	    (st = get_str(doc, "document", out->document,
	    sizeof(out->document), out)) != 0 ||
	    (st = get_str(doc, "issued_at", out->issued_at,
	    sizeof(out->issued_at), out)) != 0 ||
	    (st = get_int(doc, "copies", 1, 10, &out->copies, out)) != 0 ||
	    (st = get_int(doc, "fee_yen", 0, 1000000, &out->fee_yen,
	    out)) != 0)
		return st;
	if ((v = json_object_get(doc, "municipality")) == NULL)
		return fail(out, DOCVERIFY_E_MISSING_FIELD, "municipality");
	if (!json_is_string(v) && !json_is_object(v))
		return fail(out, DOCVERIFY_E_BAD_FIELD, "municipality");
	if ((v = json_object_get(doc, "body")) == NULL)
		return fail(out, DOCVERIFY_E_MISSING_FIELD, "body");
	if (!json_is_object(v))
		return fail(out, DOCVERIFY_E_BAD_FIELD, "body");
	if ((st = check_binding(doc, ex, out)) != 0)
		return st;
	if (strlen(out->issuance_id) != strlen(ex->issuance_id) ||
	    strcasecmp(out->issuance_id, ex->issuance_id) != 0)
		return fail(out, DOCVERIFY_E_ISSUANCE_MISMATCH, NULL);
	if (ex->document != NULL && strcmp(out->document, ex->document) != 0)
		return fail(out, DOCVERIFY_E_DOCUMENT_MISMATCH, NULL);
	if (ex->copies != 0 && out->copies != ex->copies)
		return fail(out, DOCVERIFY_E_COPIES_MISMATCH, NULL);
	if (ex->code != NULL) {
		struct doccode dc;
		int r;

		if (doccode_parse(ex->code, strlen(ex->code), &dc) == -1)
			return fail(out, DOCVERIFY_E_BAD_CODE, "syntax");
		r = doccode_verify(key->pkey, &dc);
		ERR_clear_error();
		if (r != 1)
			return fail(out, r == 0 ? DOCVERIFY_E_BAD_CODE :
			    DOCVERIFY_E_INTERNAL, "code signature");
		if (doccode_matches(&dc, (const char *)content, len) != 1)
			return fail(out, DOCVERIFY_E_CODE_MISMATCH, NULL);
	}
	return DOCVERIFY_OK;
}
