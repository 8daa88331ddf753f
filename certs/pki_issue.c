/*
 * Keys, names and certificates.  Extensions are given in the X509V3 config
 * syntax ("critical,CA:TRUE") and built with X509V3_EXT_conf_nid against a
 * context holding the issuer and the subject, so keyid/hash values are
 * computed by OpenSSL exactly as `openssl ca` would.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pki.h"

#define SERIAL_TRIES	1000

int64_t
pki_now(void)
{
	return (int64_t)time(NULL);
}

EVP_PKEY *
issue_key(enum pki_keytype type)
{
	EVP_PKEY *k = NULL;

	switch (type) {
	case PKI_KEY_RSA2048:
		/* EVP_RSA_gen uses e = 65537 */
		k = EVP_RSA_gen(2048);
		break;
	case PKI_KEY_P256:
		k = EVP_EC_gen("P-256");
		break;
	}
	if (k == NULL)
		pki_ssl_warn("key generation");
	return k;
}

X509_NAME *
issue_name(const char *const *pairs)
{
	X509_NAME *n;
	size_t i;

	if ((n = X509_NAME_new()) == NULL) {
		pki_ssl_warn("X509_NAME_new");
		return NULL;
	}
	for (i = 0; pairs[i] != NULL && pairs[i + 1] != NULL; i += 2) {
		/* -1, 0: each attribute in a new RDN, appended in order */
		if (X509_NAME_add_entry_by_txt(n, pairs[i], MBSTRING_UTF8,
		    (const unsigned char *)pairs[i + 1], -1, -1, 0) != 1) {
			pki_ssl_warn("name attribute %s", pairs[i]);
			X509_NAME_free(n);
			return NULL;
		}
	}
	return n;
}

static int
set_time(ASN1_TIME *t, int64_t when)
{
	if ((int64_t)(time_t)when != when ||
	    ASN1_TIME_set(t, (time_t)when) == NULL) {
		pki_ssl_warn("time out of range");
		return -1;
	}
	return 0;
}

static int
add_exts(X509 *x, X509 *issuer, const struct pki_ext *exts, size_t n)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	CONF *conf;
	size_t i;
	int r = -1;

	/* an empty config: certificatePolicies (an r2i method) needs one */
	if ((conf = NCONF_new(NULL)) == NULL) {
		pki_ssl_warn("NCONF_new");
		return -1;
	}
	memset(&ctx, 0, sizeof(ctx));
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509V3_set_nconf(&ctx, conf);
	for (i = 0; i < n; i++) {
		ext = X509V3_EXT_nconf_nid(conf, &ctx, exts[i].nid,
		    exts[i].value);
		if (ext == NULL) {
			pki_ssl_warn("extension %s = %s", OBJ_nid2sn(exts[i].nid),
			    exts[i].value);
			goto done;
		}
		if (X509_add_ext(x, ext, -1) != 1) {
			pki_ssl_warn("X509_add_ext %s", OBJ_nid2sn(exts[i].nid));
			X509_EXTENSION_free(ext);
			goto done;
		}
		X509_EXTENSION_free(ext);
	}
	r = 0;
done:
	NCONF_free(conf);
	return r;
}

X509 *
issue_cert(const struct pki_cert_req *req)
{
	X509 *x;
	ASN1_INTEGER *serial = NULL;
	X509 *issuer;
	EVP_PKEY *ikey;

	if ((x = X509_new()) == NULL) {
		pki_ssl_warn("X509_new");
		return NULL;
	}
	issuer = req->issuer != NULL ? req->issuer : x;
	ikey = req->issuer != NULL ? req->issuer_key : req->key;
	if (X509_set_version(x, X509_VERSION_3) != 1) {
		pki_ssl_warn("X509_set_version");
		goto fail;
	}
	if ((serial = BN_to_ASN1_INTEGER(req->serial, NULL)) == NULL ||
	    X509_set_serialNumber(x, serial) != 1) {
		pki_ssl_warn("serial number");
		goto fail;
	}
	if (X509_set_subject_name(x, req->subject) != 1 ||
	    X509_set_issuer_name(x, req->issuer != NULL ?
	    X509_get_subject_name(req->issuer) : req->subject) != 1) {
		pki_ssl_warn("names");
		goto fail;
	}
	if (set_time(X509_getm_notBefore(x), req->not_before) == -1 ||
	    set_time(X509_getm_notAfter(x), req->not_after) == -1)
		goto fail;
	if (X509_set_pubkey(x, req->key) != 1) {
		pki_ssl_warn("X509_set_pubkey");
		goto fail;
	}
	if (add_exts(x, issuer, req->exts, req->nexts) == -1)
		goto fail;
	if (X509_sign(x, ikey, EVP_sha256()) <= 0) {
		pki_ssl_warn("X509_sign");
		goto fail;
	}
	ASN1_INTEGER_free(serial);
	return x;
fail:
	ASN1_INTEGER_free(serial);
	X509_free(x);
	return NULL;
}

int
issue_serial_hex(const BIGNUM *bn, char *hex, size_t hexlen)
{
	char *h;
	size_t len;

	if ((h = BN_bn2hex(bn)) == NULL) {
		pki_ssl_warn("BN_bn2hex");
		return -1;
	}
	len = strlen(h);
	if (len >= hexlen || h[0] == '-') {
		log_warnx("serial number too long or negative");
		OPENSSL_free(h);
		return -1;
	}
	memcpy(hex, h, len + 1);
	OPENSSL_free(h);
	return 0;
}

int
issue_cert_serial_hex(X509 *x, char *hex, size_t hexlen)
{
	BIGNUM *bn;
	int r;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL) {
		pki_ssl_warn("ASN1_INTEGER_to_BN");
		return -1;
	}
	r = issue_serial_hex(bn, hex, hexlen);
	BN_free(bn);
	return r;
}

/*
 * Real JPKI card serials are small positive integers (4 bytes, e.g.
 * 0705D990).  The first byte is 01..7F so the DER INTEGER is exactly
 * nbytes long.  Caller holds the directory lock and records the result.
 */
BIGNUM *
issue_serial(const char *dir, int nbytes, char *hex, size_t hexlen)
{
	unsigned char b[20];
	BIGNUM *bn;
	int tries, used;

	if (nbytes < 1 || (size_t)nbytes > sizeof(b)) {
		log_warnx("bad serial size");
		return NULL;
	}
	for (tries = 0; tries < SERIAL_TRIES; tries++) {
		if (RAND_bytes(b, nbytes) != 1) {
			pki_ssl_warn("RAND_bytes");
			return NULL;
		}
		b[0] &= 0x7f;
		if (b[0] == 0)
			continue;
		if ((bn = BN_bin2bn(b, nbytes, NULL)) == NULL) {
			pki_ssl_warn("BN_bin2bn");
			return NULL;
		}
		if (issue_serial_hex(bn, hex, hexlen) == -1 ||
		    store_serial_used(dir, hex, &used) == -1) {
			BN_free(bn);
			return NULL;
		}
		if (!used)
			return bn;
		BN_free(bn);
	}
	log_warnx("no unused serial number found in %d tries", SERIAL_TRIES);
	return NULL;
}

int
issue_opaque_id(char *buf, size_t buflen, size_t len)
{
	static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned char r[64];
	size_t o = 0, i;

	if (len == 0 || len >= buflen) {
		log_warnx("bad identifier length");
		return -1;
	}
	while (o < len) {
		if (RAND_bytes(r, sizeof(r)) != 1) {
			pki_ssl_warn("RAND_bytes");
			return -1;
		}
		/* 252 = 7 * 36: reject the rest so every character is uniform */
		for (i = 0; i < sizeof(r) && o < len; i++)
			if (r[i] < 252)
				buf[o++] = alnum[r[i] % 36];
	}
	buf[o] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

/* "label: path\n  subject ... serial ... until ..." on stdout. */
int
issue_describe(const char *label, const char *path, X509 *x)
{
	char serial[PKI_SERIAL_HEX_MAX];
	BIO *b;
	int ok;

	if (issue_cert_serial_hex(x, serial, sizeof(serial)) == -1)
		return -1;
	if (fflush(stdout) == EOF ||
	    (b = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL) {
		pki_ssl_warn("stdout");
		return -1;
	}
	ok = BIO_printf(b, "%s%s%s\n    subject ", label,
	    label[0] != '\0' ? ": " : "    ", path) > 0 &&
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ) >= 0 &&
	    BIO_printf(b, "\n    serial %s, not after ", serial) > 0 &&
	    ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1 &&
	    BIO_printf(b, "\n") > 0 && BIO_flush(b) == 1;
	BIO_free(b);
	if (!ok) {
		pki_ssl_warn("writing to stdout");
		return -1;
	}
	return 0;
}
