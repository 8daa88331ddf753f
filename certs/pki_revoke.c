/*
 * Revocation: the R line in index.txt (as `openssl ca -revoke
 * -crl_reason` writes it: "YYMMDDHHMMSSZ,reason") and the CRL, rebuilt
 * from the whole index each time, v2, sorted, with AKI, CRL number and
 * reason codes.  certificateHold and removeFromCRL are not offered: the
 * former needs a hold instruction in the index, the latter belongs to
 * delta CRLs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pki.h"

#define CRLNUMBER_HEX_MAX	40

static const struct pki_reason reasons[] = {
	{ "unspecified", 0 },
	{ "keyCompromise", 1 },
	{ "CACompromise", 2 },
	{ "affiliationChanged", 3 },
	{ "superseded", 4 },
	{ "cessationOfOperation", 5 },
};

int
revoke_reason(const char *name, int *code)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (strcmp(name, reasons[i].name) == 0) {
			*code = reasons[i].code;
			return 0;
		}
	}
	return -1;
}

const char *
revoke_reason_name(int code)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].name;
	return NULL;
}

/* DIR/crlnumber holds the next CRL number in hex, like openssl ca. */
static BIGNUM *
crlnumber_next(const char *dir, const char *name)
{
	char path[PKI_PATH_MAX], *data;
	BIGNUM *bn = NULL;
	size_t len;

	if (store_path(path, sizeof(path), dir, name) == -1)
		return NULL;
	if (!store_exists(path)) {
		if ((bn = BN_new()) == NULL || BN_one(bn) != 1) {
			pki_ssl_warn("BN_one");
			BN_free(bn);
			return NULL;
		}
		return bn;
	}
	if (store_read(path, &data, &len, CRLNUMBER_HEX_MAX + 2) == -1)
		return NULL;
	if (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	if (len == 0 || len > CRLNUMBER_HEX_MAX ||
	    strspn(data, "0123456789ABCDEFabcdef") != len ||
	    BN_hex2bn(&bn, data) != (int)len || BN_is_zero(bn)) {
		log_warnx("%s: not a positive hex number", path);
		BN_free(bn);
		free(data);
		return NULL;
	}
	free(data);
	return bn;
}

static int
crlnumber_save(const char *dir, const char *name, const BIGNUM *cur)
{
	char path[PKI_PATH_MAX], hex[CRLNUMBER_HEX_MAX + 8], line[sizeof(hex) + 1];
	BIGNUM *next;
	int r, n;

	if (store_path(path, sizeof(path), dir, name) == -1)
		return -1;
	if ((next = BN_dup(cur)) == NULL || BN_add_word(next, 1) != 1) {
		pki_ssl_warn("BN_add_word");
		BN_free(next);
		return -1;
	}
	r = issue_serial_hex(next, hex, sizeof(hex));
	BN_free(next);
	if (r == -1)
		return -1;
	n = snprintf(line, sizeof(line), "%s\n", hex);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return store_write(path, line, (size_t)n, 0644);
}

static int
add_revoked(X509_CRL *crl, const struct idx_entry *e)
{
	char t[IDX_TIME_MAX];
	X509_REVOKED *r = NULL;
	ASN1_TIME *when = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_ENUMERATED *code = NULL;
	BIGNUM *bn = NULL;
	int reason, ret = -1;

	if (index_revinfo(e, t, sizeof(t), &reason) == -1) {
		log_warnx("index: bad revocation field for serial %s",
		    e->serial);
		return -1;
	}
	if ((r = X509_REVOKED_new()) == NULL ||
	    (when = ASN1_TIME_new()) == NULL) {
		pki_ssl_warn("X509_REVOKED_new");
		goto done;
	}
	if (BN_hex2bn(&bn, e->serial) == 0 ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_REVOKED_set_serialNumber(r, serial) != 1) {
		pki_ssl_warn("revoked serial %s", e->serial);
		goto done;
	}
	if (ASN1_TIME_set_string_X509(when, t) != 1 ||
	    X509_REVOKED_set_revocationDate(r, when) != 1) {
		pki_ssl_warn("revocation time %s", t);
		goto done;
	}
	if (reason != -1) {
		if ((code = ASN1_ENUMERATED_new()) == NULL ||
		    ASN1_ENUMERATED_set(code, reason) != 1 ||
		    X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, code, 0,
		    0) != 1) {
			pki_ssl_warn("reason code");
			goto done;
		}
	}
	if (X509_CRL_add0_revoked(crl, r) != 1) {
		pki_ssl_warn("X509_CRL_add0_revoked");
		goto done;
	}
	r = NULL;
	ret = 0;
done:
	X509_REVOKED_free(r);
	ASN1_TIME_free(when);
	ASN1_INTEGER_free(serial);
	ASN1_ENUMERATED_free(code);
	BN_free(bn);
	return ret;
}

/* Sign a fresh DIR/crl.pem with auth-ca covering every R line. */
int
crl_issue(const char *dir, const struct pki_index *idx)
{
	char path[PKI_PATH_MAX];
	X509 *ca = NULL;
	EVP_PKEY *key = NULL;
	int ret = -1;

	if (store_path(path, sizeof(path), dir, PKI_AUTH_CA ".crt") == -1 ||
	    (ca = store_load_cert(path)) == NULL)
		goto done;
	if (store_path(path, sizeof(path), dir, PKI_AUTH_CA ".key") == -1 ||
	    (key = store_load_key(path)) == NULL)
		goto done;
	ret = crl_issue_ca(dir, idx, ca, key);
done:
	X509_free(ca);
	EVP_PKEY_free(key);
	return ret;
}

int
crl_issue_ca(const char *dir, const struct pki_index *idx, X509 *ca,
    EVP_PKEY *key)
{
	return crl_issue_to(dir, idx, ca, key, PKI_CRL, PKI_CRLNUMBER);
}

/* Sign DIR/crlfile by ca covering every R line; DIR/numfile numbers it. */
int
crl_issue_to(const char *dir, const struct pki_index *idx, X509 *ca,
    EVP_PKEY *key, const char *crlfile, const char *numfile)
{
	char path[PKI_PATH_MAX];
	X509_CRL *crl = NULL;
	X509_EXTENSION *aki = NULL;
	X509V3_CTX ctx;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	BIGNUM *bn = NULL;
	int64_t now = pki_now();
	size_t i;
	int ret = -1;

	if ((bn = crlnumber_next(dir, numfile)) == NULL)
		goto done;
	if ((crl = X509_CRL_new()) == NULL || (t = ASN1_TIME_new()) == NULL) {
		pki_ssl_warn("X509_CRL_new");
		goto done;
	}
	if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1) {
		pki_ssl_warn("CRL version/issuer");
		goto done;
	}
	if (ASN1_TIME_set(t, (time_t)now) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, t) != 1 ||
	    ASN1_TIME_set(t, (time_t)(now + PKI_CRL_DAYS * 86400)) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, t) != 1) {
		pki_ssl_warn("CRL times");
		goto done;
	}
	for (i = 0; i < idx->n; i++)
		if (idx->e[i].status == 'R' && add_revoked(crl, &idx->e[i]) == -1)
			goto done;
	if (X509_CRL_sort(crl) != 1) {
		pki_ssl_warn("X509_CRL_sort");
		goto done;
	}
	memset(&ctx, 0, sizeof(ctx));
	X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
	if ((aki = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    X509_CRL_add_ext(crl, aki, -1) != 1) {
		pki_ssl_warn("CRL authorityKeyIdentifier");
		goto done;
	}
	if ((num = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1) {
		pki_ssl_warn("CRL number");
		goto done;
	}
	if (X509_CRL_sign(crl, key, EVP_sha256()) <= 0) {
		pki_ssl_warn("X509_CRL_sign");
		goto done;
	}
	if (store_path(path, sizeof(path), dir, crlfile) == -1 ||
	    store_write_crl(path, crl) == -1 ||
	    crlnumber_save(dir, numfile, bn) == -1)
		goto done;
	ret = 0;
done:
	X509_CRL_free(crl);
	X509_EXTENSION_free(aki);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	BN_free(bn);
	return ret;
}

int
cmd_revoke(const char *dir, const char *name, const char *reason)
{
	char path[PKI_PATH_MAX], serial[PKI_SERIAL_HEX_MAX];
	char rev[IDX_REV_MAX];
	struct pki_index idx;
	struct idx_entry *e;
	ASN1_TIME *t = NULL;
	X509 *x = NULL;
	int code = -1, lock = -1, ret = -1, n;

	if (reason != NULL && revoke_reason(reason, &code) == -1) {
		log_warnx("unknown revocation reason '%s' (one of unspecified, "
		    "keyCompromise, CACompromise, affiliationChanged, "
		    "superseded, cessationOfOperation)", reason);
		return -1;
	}
	if (pki_check_card_name(name) == -1 || store_check_pki(dir) == -1)
		return -1;
	if (store_path3(path, sizeof(path), dir, PKI_CARDS, name,
	    "auth.crt") == -1)
		return -1;
	if (!store_exists(path)) {
		log_warnx("no card named %s in %s", name, dir);
		return -1;
	}
	if ((x = store_load_cert(path)) == NULL ||
	    issue_cert_serial_hex(x, serial, sizeof(serial)) == -1)
		goto done;
	if ((lock = store_lock(dir)) == -1)
		goto done;
	if (store_path(path, sizeof(path), dir, PKI_INDEX) == -1 ||
	    index_load(path, &idx) == -1)
		goto done;
	if ((e = index_find(&idx, serial)) == NULL) {
		log_warnx("serial %s of card %s is not in %s", serial, name,
		    path);
		goto free_idx;
	}
	if (e->status == 'R') {
		log_warnx("card %s (serial %s) is already revoked", name, serial);
		goto free_idx;
	}
	if ((t = ASN1_TIME_new()) == NULL ||
	    ASN1_TIME_set(t, (time_t)pki_now()) == NULL) {
		pki_ssl_warn("ASN1_TIME_set");
		goto free_idx;
	}
	n = snprintf(rev, sizeof(rev), "%.*s%s%s", ASN1_STRING_length(t),
	    (const char *)ASN1_STRING_get0_data(t), code != -1 ? "," : "",
	    code != -1 ? revoke_reason_name(code) : "");
	if (n < 0 || (size_t)n >= sizeof(e->revoked)) {
		log_warnx("revocation field too long");
		goto free_idx;
	}
	memcpy(e->revoked, rev, (size_t)n + 1);
	e->status = 'R';
	if (index_save(path, &idx) == -1)
		goto free_idx;
	if (crl_issue(dir, &idx) == -1) {
		log_warnx("index updated but the CRL was not; "
		    "run kiosk-pki crl %s", dir);
		goto free_idx;
	}
	printf("revoked card %s: serial %s%s%s\n", name, serial,
	    code != -1 ? ", reason " : "",
	    code != -1 ? revoke_reason_name(code) : "");
	printf("updated %s and %s/%s\n", path, dir, PKI_CRL);
	ret = 0;
free_idx:
	index_free(&idx);
done:
	store_unlock(lock);
	ASN1_TIME_free(t);
	X509_free(x);
	return ret;
}

int
cmd_crl(const char *dir)
{
	char path[PKI_PATH_MAX];
	struct pki_index idx;
	int lock, ret = -1;

	if (store_check_pki(dir) == -1 || (lock = store_lock(dir)) == -1)
		return -1;
	if (store_path(path, sizeof(path), dir, PKI_INDEX) == -1 ||
	    index_load(path, &idx) == -1) {
		store_unlock(lock);
		return -1;
	}
	if (crl_issue(dir, &idx) == 0) {
		printf("re-issued %s/%s\n", dir, PKI_CRL);
		ret = 0;
	}
	index_free(&idx);
	store_unlock(lock);
	return ret;
}
