/*
 * docverify(): a document is accepted only when the pinned key signed
 * these exact bytes and the binding names our session, our card's
 * certificate, this kiosk and the issuance we asked for.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "docverify.h"
#include "t.h"

#define SID	"0123456789abcdef0123456789abcdef"
#define IID	"fedcba9876543210fedcba9876543210"
#define KIOSK	"S0001-T01"

static uint8_t	 cert_hash[32];
static char	 cert_hex[65];

static EVP_PKEY *
gen_key(void)
{
	EVP_PKEY	*k = EVP_EC_gen("P-256");

	if (k == NULL) {
		fprintf(stderr, "EVP_EC_gen failed\n");
		exit(2);
	}
	return k;
}

static struct docverify_key *
pin(EVP_PKEY *pkey)
{
	unsigned char		*der = NULL;
	int			 n;
	struct docverify_key	*k;
	char			 err[128];

	n = i2d_PUBKEY(pkey, &der);
	k = docverify_key_from_spki(der, (size_t)n, err, sizeof(err));
	OPENSSL_free(der);
	if (k == NULL) {
		fprintf(stderr, "pin: %s\n", err);
		exit(2);
	}
	return k;
}

static size_t
sign(EVP_PKEY *pkey, const char *msg, size_t len, uint8_t *sig)
{
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	size_t		 siglen = DOCVERIFY_MAX_SIG;

	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    pkey) != 1 || EVP_DigestSign(md, sig, &siglen,
	    (const uint8_t *)msg, len) != 1) {
		fprintf(stderr, "sign failed\n");
		exit(2);
	}
	EVP_MD_CTX_free(md);
	return siglen;
}

static char *
make_doc(const char *sid, const char *hash, const char *kiosk,
    const char *iid)
{
	char	*s;

	if ((s = malloc(1024)) == NULL || snprintf(s, 1024, "{\"issuance_id\":\"%s\",\"document\":\"juminhyo\","
	    "\"issued_at\":\"2025-04-01T09:00:00Z\",\"copies\":2,"
	    "\"fee_yen\":400,\"municipality\":\"\xe5\xb7\x9d\xe5\x8f\xa3"
	    "\xe5\xb8\x82\",\"binding\":{\"session_id\":\"%s\","
	    "\"cert_sha256\":\"%s\",\"kiosk_id\":\"%s\"},\"body\":"
	    "{\"name\":\"\xe5\xb1\xb1\xe7\x94\xb0\"}}", iid, sid, hash, kiosk) >= 1024)
		exit(2);
	return s;
}

/* Sign doc with pkey and verify against key; returns the status. */
static enum docverify_status
run(EVP_PKEY *signer, const struct docverify_key *key, const char *doc,
    size_t len, const char *key_id, const struct docverify_expect *ex)
{
	uint8_t			 sig[DOCVERIFY_MAX_SIG];
	size_t			 siglen;
	struct docverify_out	 out;
	enum docverify_status	 st;

	siglen = sign(signer, doc, len, sig);
	st = docverify((const uint8_t *)doc, len, sig, siglen, key_id, key,
	    ex, &out);
	if (st != DOCVERIFY_OK && out.doc != NULL)
		st = DOCVERIFY_E_INTERNAL;	/* must not leak a document */
	docverify_out_clear(&out);
	return st;
}

int
main(void)
{
	EVP_PKEY		*docsign, *other;
	struct docverify_key	*key, *okey;
	struct docverify_expect	 ex;
	struct docverify_out	 out;
	uint8_t			 sig[DOCVERIFY_MAX_SIG], bad[DOCVERIFY_MAX_SIG];
	size_t			 siglen, i, len;
	char			*doc, *d2, *huge, hexother[65];
	uint8_t			 other_hash[32];
	enum docverify_status	 st;

	SHA256((const uint8_t *)"card certificate DER", 20, cert_hash);
	SHA256((const uint8_t *)"another card", 12, other_hash);
	for (i = 0; i < 32; i++) {
		snprintf(cert_hex + 2 * i, 3, "%02x", cert_hash[i]);
		snprintf(hexother + 2 * i, 3, "%02x", other_hash[i]);
	}
	docsign = gen_key();
	other = gen_key();
	key = pin(docsign);
	okey = pin(other);

	memset(&ex, 0, sizeof(ex));
	ex.session_id = SID;
	ex.cert_sha256 = cert_hash;
	ex.kiosk_id = KIOSK;
	ex.issuance_id = IID;
	ex.document = "juminhyo";
	ex.copies = 2;

	doc = make_doc(SID, cert_hex, KIOSK, IID);
	len = strlen(doc);
	siglen = sign(docsign, doc, len, sig);
	st = docverify((const uint8_t *)doc, len, sig, siglen,
	    docverify_key_id(key), key, &ex, &out);
	T_CHECK(st == DOCVERIFY_OK, "good document verifies");
	T_CHECK(out.doc != NULL && strcmp(out.issuance_id, IID) == 0 &&
	    out.copies == 2 && out.fee_yen == 400 &&
	    strcmp(out.document, "juminhyo") == 0, "fields extracted");
	T_CHECK(json_is_object(json_object_get(out.doc, "body")),
	    "parsed document handed over");
	docverify_out_clear(&out);
	T_CHECK(run(docsign, key, doc, len, NULL, &ex) == DOCVERIFY_OK,
	    "good document without key_id");

	/* Every single changed byte is caught by the signature. */
	{
		int	 all = 1;

		d2 = strdup(doc);
		for (i = 0; i < len; i++) {
			d2[i] ^= 0x01;
			st = docverify((const uint8_t *)d2, len, sig, siglen,
			    NULL, key, &ex, &out);
			if (st != DOCVERIFY_E_BAD_SIGNATURE || out.doc != NULL)
				all = 0;
			docverify_out_clear(&out);
			d2[i] ^= 0x01;
		}
		T_CHECK(all, "any changed byte: bad signature");
		free(d2);
	}
	memcpy(bad, sig, siglen);
	bad[siglen - 1] ^= 0x01;
	st = docverify((const uint8_t *)doc, len, bad, siglen, NULL, key, &ex,
	    &out);
	T_CHECK(st == DOCVERIFY_E_BAD_SIGNATURE, "changed signature byte");
	st = docverify((const uint8_t *)doc, len, sig, siglen - 1, NULL, key,
	    &ex, &out);
	T_CHECK(st == DOCVERIFY_E_SIG_SYNTAX, "truncated signature");
	st = docverify((const uint8_t *)doc, len - 1, sig, siglen, NULL, key,
	    &ex, &out);
	T_CHECK(st == DOCVERIFY_E_BAD_SIGNATURE, "truncated content");

	/* Another key: named by key_id, or silently. */
	T_CHECK(run(other, key, doc, len, docverify_key_id(okey), &ex) ==
	    DOCVERIFY_E_WRONG_KEY, "signed by another key (key_id)");
	T_CHECK(run(other, key, doc, len, NULL, &ex) ==
	    DOCVERIFY_E_BAD_SIGNATURE, "signed by another key (no key_id)");
	T_CHECK(run(other, key, doc, len, docverify_key_id(key), &ex) ==
	    DOCVERIFY_E_BAD_SIGNATURE, "another key claiming our key_id");
	T_CHECK(run(docsign, key, doc, len, "zz", &ex) ==
	    DOCVERIFY_E_WRONG_KEY, "malformed key_id");

	/* Properly signed, but for someone else. */
	d2 = make_doc("00000000000000000000000000000000", cert_hex, KIOSK, IID);
	T_CHECK(run(docsign, key, d2, strlen(d2), NULL, &ex) ==
	    DOCVERIFY_E_SESSION_MISMATCH, "other session");
	free(d2);
	d2 = make_doc(SID, hexother, KIOSK, IID);
	T_CHECK(run(docsign, key, d2, strlen(d2), NULL, &ex) ==
	    DOCVERIFY_E_CERT_MISMATCH, "other certificate hash");
	free(d2);
	d2 = make_doc(SID, cert_hex, "S0001-T02", IID);
	T_CHECK(run(docsign, key, d2, strlen(d2), NULL, &ex) ==
	    DOCVERIFY_E_KIOSK_MISMATCH, "other kiosk");
	free(d2);
	d2 = make_doc(SID, cert_hex, KIOSK, "00000000000000000000000000000001");
	T_CHECK(run(docsign, key, d2, strlen(d2), NULL, &ex) ==
	    DOCVERIFY_E_ISSUANCE_MISMATCH, "other issuance");
	free(d2);
	d2 = make_doc(SID, "abcd", KIOSK, IID);
	T_CHECK(run(docsign, key, d2, strlen(d2), NULL, &ex) ==
	    DOCVERIFY_E_BAD_FIELD, "malformed cert_sha256");
	free(d2);
	ex.copies = 3;
	T_CHECK(run(docsign, key, doc, len, NULL, &ex) ==
	    DOCVERIFY_E_COPIES_MISMATCH, "other copies");
	ex.copies = 2;
	ex.document = "inkan";
	T_CHECK(run(docsign, key, doc, len, NULL, &ex) ==
	    DOCVERIFY_E_DOCUMENT_MISMATCH, "other document type");
	ex.document = "juminhyo";

	/* Signed but unusable content. */
	T_CHECK(run(docsign, key, doc, len - 1, NULL, &ex) ==
	    DOCVERIFY_E_NOT_JSON, "truncated JSON (signed)");
	T_CHECK(run(docsign, key, "not json", 8, NULL, &ex) ==
	    DOCVERIFY_E_NOT_JSON, "not JSON");
	T_CHECK(run(docsign, key, "[1,2]", 5, NULL, &ex) ==
	    DOCVERIFY_E_NOT_JSON, "JSON but not an object");
	d2 = "{\"issuance_id\":\"" IID "\",\"document\":\"juminhyo\","
	    "\"issued_at\":\"x\",\"copies\":2,\"fee_yen\":1,"
	    "\"municipality\":\"m\",\"body\":{}}";
	T_CHECK(run(docsign, key, d2, strlen(d2), NULL, &ex) ==
	    DOCVERIFY_E_MISSING_FIELD, "missing binding");
	d2 = "{\"issuance_id\":\"" IID "\",\"document\":\"juminhyo\","
	    "\"issued_at\":\"x\",\"copies\":2,\"fee_yen\":1,"
	    "\"municipality\":\"m\",\"body\":{},\"binding\":{\"session_id\":"
	    "\"" SID "\",\"kiosk_id\":\"" KIOSK "\"}}";
	T_CHECK(run(docsign, key, d2, strlen(d2), NULL, &ex) ==
	    DOCVERIFY_E_MISSING_FIELD, "binding without cert_sha256");
	d2 = "{\"issuance_id\":\"" IID "\",\"document\":\"juminhyo\","
	    "\"issued_at\":\"x\",\"copies\":2,\"fee_yen\":1,"
	    "\"municipality\":\"m\",\"binding\":{}}";
	T_CHECK(run(docsign, key, d2, strlen(d2), NULL, &ex) ==
	    DOCVERIFY_E_MISSING_FIELD, "missing body");
	d2 = "{\"issuance_id\":\"" IID "\",\"issuance_id\":\"" IID "\"}";
	T_CHECK(run(docsign, key, d2, strlen(d2), NULL, &ex) ==
	    DOCVERIFY_E_NOT_JSON, "duplicate keys refused");

	/* Huge: refused before any work. */
	huge = malloc(DOCVERIFY_MAX_CONTENT + 2);
	memset(huge, ' ', DOCVERIFY_MAX_CONTENT + 1);
	huge[DOCVERIFY_MAX_CONTENT + 1] = '\0';
	st = docverify((const uint8_t *)huge, DOCVERIFY_MAX_CONTENT + 1, sig,
	    siglen, NULL, key, &ex, &out);
	T_CHECK(st == DOCVERIFY_E_TOO_LARGE && out.doc == NULL, "huge");
	free(huge);

	/* Arguments. */
	st = docverify((const uint8_t *)doc, 0, sig, siglen, NULL, key, &ex,
	    &out);
	T_CHECK(st == DOCVERIFY_E_ARG, "empty content");
	ex.cert_sha256 = NULL;
	st = docverify((const uint8_t *)doc, len, sig, siglen, NULL, key, &ex,
	    &out);
	T_CHECK(st == DOCVERIFY_E_ARG, "no expected certificate");
	ex.cert_sha256 = cert_hash;
	T_CHECK(docverify(NULL, 0, NULL, 0, NULL, NULL, NULL, NULL) ==
	    DOCVERIFY_E_ARG, "all NULL");

	/* A key that is not P-256 is refused when pinned. */
	{
		EVP_PKEY		*rsa = EVP_RSA_gen(2048);
		unsigned char		*der = NULL;
		int			 n = i2d_PUBKEY(rsa, &der);
		char			 err[128];
		struct docverify_key	*k;

		k = docverify_key_from_spki(der, (size_t)n, err, sizeof(err));
		T_CHECK(k == NULL, "RSA key refused as document key");
		docverify_key_free(k);
		OPENSSL_free(der);
		EVP_PKEY_free(rsa);
	}

	free(doc);
	docverify_key_free(key);
	docverify_key_free(okey);
	EVP_PKEY_free(docsign);
	EVP_PKEY_free(other);
	return t_done();
}
