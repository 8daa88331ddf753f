/*
 * JPKI user-auth certificate checks (see jpki_verify.h).
 *
 * Order of the checks: DER form, profile, issuing root (by name, AKI/SKI
 * and signature), the certificate's dates, the root's dates, revocation.
 * A certificate no root vouches for is "untrusted" before anything is
 * said about its dates.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crl_cache.h"
#include "jpki_verify.h"
#include "ocsp_client.h"
#include "verify_util.h"

#define ROOT_FILE_MAX	(1024 * 1024)
#define SIG_MAX		1024		/* bytes; RSA-8192 */

struct jpki_root {
	X509	*cert;
	char	 name[JPKI_VERIFY_ROOT_NAME_MAX];
	char	 sha256[JPKI_VERIFY_SHA256_HEX];
};

struct jpki_trust {
	struct jpki_root	 roots[JPKI_VERIFY_ROOTS_MAX];
	size_t			 nroots;
	int			 ocsp_set;
	struct ocspc_url	 ocsp_url;
	int			 ocsp_timeout_ms;
	STACK_OF(X509)		*ocsp_signers;
	struct crl_cache	*crls[JPKI_VERIFY_CRLS_MAX];
	size_t			 ncrls;
};

/*
 * A parsed card certificate (see jpki_cert_parse).  The X509 is decoded
 * in parse_libctx, whose only provider is "base": OpenSSL 3.0 otherwise
 * decodes the subject public key of every certificate it parses through
 * a provider decoder chain it builds anew each time (~0.2 ms, most of
 * the cost of an authentication).  The key is built here instead, from
 * the RSAPublicKey in the certificate, and every signature (the root's
 * over the TBS, the card's over a challenge) is checked with keys of the
 * default library context.
 */
struct jpki_cert {
	X509		*x;
	EVP_PKEY	*key;		/* RSA public key, or NULL */
	enum { KEY_RSA, KEY_OTHER, KEY_UNREADABLE } key_state;
	uint8_t		*der;		/* a copy of the DER */
	size_t		 len;
	const uint8_t	*tbs;		/* TBSCertificate inside der */
	size_t		 tbslen;
	const uint8_t	*sig;		/* signature value inside der */
	size_t		 siglen;
	char		 sha256[JPKI_VERIFY_SHA256_HEX];
};

static pthread_once_t parse_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *parse_libctx;	/* NULL: the default one */

static void
parse_init(void)
{
	OSSL_LIB_CTX *lc;

	if ((lc = OSSL_LIB_CTX_new()) == NULL)
		return;
	if (OSSL_PROVIDER_load(lc, "base") == NULL) {
		OSSL_LIB_CTX_free(lc);
		ERR_clear_error();
		return;
	}
	parse_libctx = lc;
}

struct jpki_trust *
jpki_trust_new(void)
{
	return calloc(1, sizeof(struct jpki_trust));
}

void
jpki_trust_free(struct jpki_trust *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nroots; i++)
		X509_free(t->roots[i].cert);
	sk_X509_pop_free(t->ocsp_signers, X509_free);
	for (i = 0; i < t->ncrls; i++) {
		crl_cache_fini(t->crls[i]);
		free(t->crls[i]);
	}
	free(t);
}

/* ---- loading certificates */

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/* Certificates of a PEM file (one or more) or a DER file (one). */
static STACK_OF(X509) *
load_certs(const char *path, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = NULL;
	const unsigned char *p;
	uint8_t *data = NULL;
	size_t len, i = 0;
	X509 *x;
	BIO *b = NULL;

	if (vu_read_file(path, ROOT_FILE_MAX, &data, &len, err, errlen) == -1)
		return NULL;
	if ((sk = sk_X509_new_null()) == NULL) {
		vu_err_ssl(err, errlen, "%s", path);
		goto fail;
	}
	while (i < len && (data[i] == ' ' || data[i] == '\t' ||
	    data[i] == '\r' || data[i] == '\n'))
		i++;
	if (i < len && data[i] == '-') {
		if ((b = BIO_new_mem_buf(data, (int)len)) == NULL) {
			vu_err_ssl(err, errlen, "%s", path);
			goto fail;
		}
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			if (sk_X509_push(sk, x) <= 0) {
				X509_free(x);
				vu_err_ssl(err, errlen, "%s", path);
				goto fail;
			}
		}
		/* The loop ends on "no start line" at EOF, or on junk. */
		if (ERR_GET_REASON(ERR_peek_last_error()) !=
		    PEM_R_NO_START_LINE) {
			vu_err_ssl(err, errlen, "%s: bad PEM certificate",
			    path);
			goto fail;
		}
		ERR_clear_error();
	} else {
		p = data;
		x = d2i_X509(NULL, &p, (long)len);
		if (x == NULL || p != data + len) {
			X509_free(x);
			vu_err_ssl(err, errlen, "%s: not a PEM or DER "
			    "certificate", path);
			goto fail;
		}
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			vu_err_ssl(err, errlen, "%s", path);
			goto fail;
		}
	}
	if (sk_X509_num(sk) == 0) {
		vu_err(err, errlen, "%s: no certificate in it", path);
		goto fail;
	}
	BIO_free(b);
	free(data);
	return sk;
fail:
	BIO_free(b);
	free(data);
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

static int
add_root(struct jpki_trust *t, X509 *x, const char *label, char *err,
    size_t errlen)
{
	struct jpki_root *r;
	unsigned char *der = NULL;
	char sha[JPKI_VERIFY_SHA256_HEX];
	size_t i;
	int len;

	if (X509_check_ca(x) != 1) {
		vu_err(err, errlen, "%s: not a CA certificate "
		    "(basicConstraints CA:TRUE)", label);
		return -1;
	}
	if ((len = i2d_X509(x, &der)) <= 0) {
		vu_err_ssl(err, errlen, "%s", label);
		return -1;
	}
	if (vu_sha256_hex(der, (size_t)len, sha, sizeof(sha)) == -1) {
		OPENSSL_free(der);
		vu_err(err, errlen, "%s: SHA-256 failed", label);
		return -1;
	}
	OPENSSL_free(der);
	for (i = 0; i < t->nroots; i++)
		if (strcmp(t->roots[i].sha256, sha) == 0)
			return 0;	/* the same root twice */
	if (t->nroots == JPKI_VERIFY_ROOTS_MAX) {
		vu_err(err, errlen, "more than %d roots",
		    JPKI_VERIFY_ROOTS_MAX);
		return -1;
	}
	if (X509_up_ref(x) != 1) {
		vu_err_ssl(err, errlen, "%s", label);
		return -1;
	}
	r = &t->roots[t->nroots++];
	r->cert = x;
	(void)snprintf(r->name, sizeof(r->name), "%s", label);
	memcpy(r->sha256, sha, sizeof(r->sha256));
	return 1;
}

static int
add_roots_file(struct jpki_trust *t, const char *path, char *err,
    size_t errlen)
{
	STACK_OF(X509) *sk;
	char label[JPKI_VERIFY_ROOT_NAME_MAX];
	int i, n, r, added = 0;

	if ((sk = load_certs(path, err, errlen)) == NULL)
		return -1;
	n = sk_X509_num(sk);
	for (i = 0; i < n; i++) {
		if (n == 1)
			(void)snprintf(label, sizeof(label), "%s",
			    base_name(path));
		else
			(void)snprintf(label, sizeof(label), "%s#%d",
			    base_name(path), i + 1);
		if ((r = add_root(t, sk_X509_value(sk, i), label, err,
		    errlen)) == -1) {
			sk_X509_pop_free(sk, X509_free);
			return -1;
		}
		added += r;
	}
	sk_X509_pop_free(sk, X509_free);
	return added;
}

static int
root_file_name(const struct dirent *d)
{
	static const char *const ext[] = { ".pem", ".crt", ".cer", ".der" };
	size_t n = strlen(d->d_name), i;

	if (d->d_name[0] == '.' || n < 5)
		return 0;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (strcmp(d->d_name + n - 4, ext[i]) == 0)
			return 1;
	return 0;
}

int
jpki_trust_add_roots(struct jpki_trust *t, const char *path, char *err,
    size_t errlen)
{
	struct dirent **ents = NULL;
	struct stat st;
	char file[PATH_MAX];
	int i, n, r, added = 0, fail = 0;

	if (stat(path, &st) == -1) {
		vu_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if ((r = add_roots_file(t, path, err, errlen)) == -1)
			return -1;
		added = r;
	} else {
		if ((n = scandir(path, &ents, root_file_name,
		    alphasort)) == -1) {
			vu_err(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (!fail) {
				r = snprintf(file, sizeof(file), "%s/%s", path,
				    ents[i]->d_name);
				if (r < 0 || (size_t)r >= sizeof(file)) {
					vu_err(err, errlen, "%s: path too "
					    "long", path);
					fail = 1;
				} else if ((r = add_roots_file(t, file, err,
				    errlen)) == -1)
					fail = 1;
				else
					added += r;
			}
			free(ents[i]);
		}
		free(ents);
		if (fail)
			return -1;
	}
	if (added == 0) {
		vu_err(err, errlen, "%s: no new root certificate", path);
		return -1;
	}
	return added;
}

int
jpki_trust_set_ocsp(struct jpki_trust *t, const char *url,
    const char *signer_path, int timeout_ms, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = NULL;

	if (timeout_ms < 0 || timeout_ms > JPKI_VERIFY_OCSP_TIMEOUT_MAX) {
		vu_err(err, errlen, "OCSP timeout must be 0..%d ms",
		    JPKI_VERIFY_OCSP_TIMEOUT_MAX);
		return -1;
	}
	if (ocspc_url_parse(url, &t->ocsp_url, err, errlen) == -1)
		return -1;
	if (signer_path != NULL &&
	    (sk = load_certs(signer_path, err, errlen)) == NULL)
		return -1;
	sk_X509_pop_free(t->ocsp_signers, X509_free);
	t->ocsp_signers = sk;
	t->ocsp_timeout_ms = timeout_ms == 0 ?
	    JPKI_VERIFY_OCSP_TIMEOUT_DEFAULT : timeout_ms;
	t->ocsp_set = 1;
	return 0;
}

int
jpki_trust_add_crl(struct jpki_trust *t, const char *path, char *err,
    size_t errlen)
{
	struct crl_cache *c;

	if (t->ncrls == JPKI_VERIFY_CRLS_MAX) {
		vu_err(err, errlen, "more than %d CRL files",
		    JPKI_VERIFY_CRLS_MAX);
		return -1;
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		vu_err(err, errlen, "out of memory");
		return -1;
	}
	if (crl_cache_init(c, path, err, errlen) == -1) {
		free(c);
		return -1;
	}
	t->crls[t->ncrls++] = c;
	return 0;
}

/* ---- the certificate itself */

static int
serial_hex(X509 *x, char *hex, size_t hexlen, char *err, size_t errlen)
{
	BIGNUM *bn;
	char *s;
	int n;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL)) == NULL) {
		vu_err_ssl(err, errlen, "serial number");
		return -1;
	}
	if (BN_is_negative(bn) || BN_is_zero(bn) || BN_num_bytes(bn) > 20) {
		BN_free(bn);
		vu_err(err, errlen, "serial number not a positive integer of "
		    "at most 20 octets");
		return -1;
	}
	s = BN_bn2hex(bn);
	BN_free(bn);
	if (s == NULL) {
		vu_err_ssl(err, errlen, "serial number");
		return -1;
	}
	n = snprintf(hex, hexlen, "%s", s);
	OPENSSL_free(s);
	if (n < 0 || (size_t)n >= hexlen) {
		vu_err(err, errlen, "serial number too long");
		return -1;
	}
	return 0;
}

/* Subject exactly C=JP and CN=<[0-9A-Za-z]{1,64}>, one RDN each. */
static int
subject_ok(X509 *x, char *cn, size_t cnlen, char *err, size_t errlen)
{
	const X509_NAME *name = X509_get_subject_name(x);
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *v;
	const unsigned char *d;
	int i, n, nid, len, j, have_c = 0, have_cn = 0, type;

	n = X509_NAME_entry_count(name);
	if (n != 2) {
		vu_err(err, errlen, "subject must be exactly C=JP and CN");
		return -1;
	}
	for (i = 0; i < n; i++) {
		e = X509_NAME_get_entry(name, i);
		if (X509_NAME_ENTRY_set(e) != i) {
			vu_err(err, errlen, "subject has a multi-valued RDN");
			return -1;
		}
		nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		v = X509_NAME_ENTRY_get_data(e);
		d = ASN1_STRING_get0_data(v);
		len = ASN1_STRING_length(v);
		type = ASN1_STRING_type(v);
		if (nid == NID_countryName && !have_c) {
			if (len != 2 || memcmp(d, "JP", 2) != 0) {
				vu_err(err, errlen, "subject country is not "
				    "JP");
				return -1;
			}
			have_c = 1;
		} else if (nid == NID_commonName && !have_cn) {
			if (type != V_ASN1_PRINTABLESTRING &&
			    type != V_ASN1_UTF8STRING) {
				vu_err(err, errlen, "subject CN has an "
				    "unexpected string type");
				return -1;
			}
			if (len < 1 || len > JPKI_VERIFY_CN_MAX ||
			    (size_t)len >= cnlen) {
				vu_err(err, errlen, "subject CN length %d",
				    len);
				return -1;
			}
			for (j = 0; j < len; j++)
				if (!((d[j] >= '0' && d[j] <= '9') ||
				    (d[j] >= 'A' && d[j] <= 'Z') ||
				    (d[j] >= 'a' && d[j] <= 'z'))) {
					vu_err(err, errlen, "subject CN is "
					    "not an opaque identifier");
					return -1;
				}
			memcpy(cn, d, (size_t)len);
			cn[len] = '\0';
			have_cn = 1;
		} else {
			vu_err(err, errlen, "subject must be exactly C=JP and "
			    "CN");
			return -1;
		}
	}
	return 0;
}

/* The JPKI user-auth profile.  JPKI_OK, _UNTRUSTED or _MALFORMED. */
static enum jpki_verdict
check_profile(const struct jpki_cert *c, struct jpki_cert_info *out,
    char *err, size_t errlen)
{
	const X509_ALGOR *outer, *inner;
	X509 *x = c->x;
	uint32_t flags, ku;

	flags = X509_get_extension_flags(x);
	if (flags & EXFLAG_INVALID) {
		vu_err(err, errlen, "certificate extensions are malformed");
		return JPKI_MALFORMED;
	}
	if (vu_time(X509_get0_notBefore(x), &out->not_before) == -1 ||
	    vu_time(X509_get0_notAfter(x), &out->not_after) == -1) {
		vu_err(err, errlen, "certificate validity dates unreadable");
		return JPKI_MALFORMED;
	}
	if (serial_hex(x, out->serial, sizeof(out->serial), err,
	    errlen) == -1)
		return JPKI_UNTRUSTED;
	if (X509_get_version(x) != X509_VERSION_3) {
		vu_err(err, errlen, "not an X.509 v3 certificate");
		return JPKI_UNTRUSTED;
	}
	X509_get0_signature(NULL, &outer, x);
	inner = X509_get0_tbs_sigalg(x);
	if (X509_get_signature_nid(x) != NID_sha256WithRSAEncryption ||
	    X509_ALGOR_cmp(outer, inner) != 0) {
		vu_err(err, errlen, "signature algorithm is not "
		    "sha256WithRSAEncryption");
		return JPKI_UNTRUSTED;
	}
	if (c->key_state == KEY_UNREADABLE) {
		vu_err(err, errlen, "public key unreadable");
		return JPKI_MALFORMED;
	}
	if (c->key == NULL || EVP_PKEY_get_bits(c->key) != 2048) {
		vu_err(err, errlen, "public key is not RSA-2048");
		return JPKI_UNTRUSTED;
	}
	if (subject_ok(x, out->subject_cn, sizeof(out->subject_cn), err,
	    errlen) == -1)
		return JPKI_UNTRUSTED;
	if (flags & EXFLAG_CRITICAL) {
		vu_err(err, errlen, "unknown critical extension");
		return JPKI_UNTRUSTED;
	}
	if ((flags & EXFLAG_BCONS) && (flags & EXFLAG_CA)) {
		vu_err(err, errlen, "certificate is a CA");
		return JPKI_UNTRUSTED;
	}
	if (flags & EXFLAG_KUSAGE) {
		ku = X509_get_key_usage(x);
		if (!(ku & KU_DIGITAL_SIGNATURE)) {
			vu_err(err, errlen, "keyUsage lacks digitalSignature");
			return JPKI_UNTRUSTED;
		}
		if (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) {
			vu_err(err, errlen, "keyUsage allows certificate or "
			    "CRL signing");
			return JPKI_UNTRUSTED;
		}
	}
	if (X509_check_ca(x) != 0) {
		vu_err(err, errlen, "certificate may act as a CA");
		return JPKI_UNTRUSTED;
	}
	return JPKI_OK;
}

static int
valid_at(X509 *x, time_t now)
{
	time_t nb, na;

	return vu_time(X509_get0_notBefore(x), &nb) == 0 &&
	    vu_time(X509_get0_notAfter(x), &na) == 0 && nb <= now &&
	    now <= na;
}

static int
rsa_sha256_verify(EVP_PKEY *key, const uint8_t *msg, size_t msglen,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ret = -1;

	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0)
		ret = EVP_DigestVerify(ctx, sig, siglen, msg, msglen) == 1 ?
		    1 : 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

/*
 * The certificate's signature by this root's key.  check_profile has made
 * sure both signature algorithm fields say sha256WithRSAEncryption, so
 * this is what X509_verify would check, over the TBS bytes as received.
 */
static int
root_signed(X509 *root, const struct jpki_cert *c)
{
	return rsa_sha256_verify(X509_get0_pubkey(root), c->tbs, c->tbslen,
	    c->sig, c->siglen) == 1;
}

/*
 * The root that issued c: name and AKI/SKI must match (X509_check_issued
 * also wants keyCertSign when the root has a keyUsage) and the root's key
 * must verify the signature.  Among several, one valid at now wins.
 * Only after check_profile: on a certificate fresh from jpki_cert_parse
 * (decoded in parse_libctx, extensions not yet looked at) it was seen to
 * find no root for a valid card; check_parsed keeps the order.
 */
static const struct jpki_root *
find_root(const struct jpki_trust *t, const struct jpki_cert *c, time_t now)
{
	const struct jpki_root *found = NULL;
	size_t i;

	for (i = 0; i < t->nroots; i++) {
		if (X509_check_issued(t->roots[i].cert, c->x) != X509_V_OK)
			continue;
		if (!root_signed(t->roots[i].cert, c)) {
			ERR_clear_error();
			continue;
		}
		if (valid_at(t->roots[i].cert, now))
			return &t->roots[i];
		if (found == NULL)
			found = &t->roots[i];
	}
	ERR_clear_error();
	return found;
}

/* ---- CRL */

/* Does the IDP's full name appear among the certificate's CRLDPs? */
static int
idp_covers(const ISSUING_DIST_POINT *idp, X509 *x)
{
	CRL_DIST_POINTS *dps;
	DIST_POINT *dp;
	GENERAL_NAME *a, *b;
	int i, j, k, ok = 0;

	if (idp->distpoint == NULL)
		return 1;
	if (idp->distpoint->type != 0)
		return 0;
	if ((dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL,
	    NULL)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	for (i = 0; !ok && i < sk_DIST_POINT_num(dps); i++) {
		dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (j = 0; !ok && j < sk_GENERAL_NAME_num(
		    idp->distpoint->name.fullname); j++) {
			a = sk_GENERAL_NAME_value(
			    idp->distpoint->name.fullname, j);
			for (k = 0; !ok && k < sk_GENERAL_NAME_num(
			    dp->distpoint->name.fullname); k++) {
				b = sk_GENERAL_NAME_value(
				    dp->distpoint->name.fullname, k);
				if (GENERAL_NAME_cmp(a, b) == 0)
					ok = 1;
			}
		}
	}
	CRL_DIST_POINTS_free(dps);
	return ok;
}

/* Is crl a complete, current CRL of root covering x?  1 or 0 (err). */
static int
crl_usable(X509_CRL *crl, X509 *root, X509 *x, time_t now, char *err,
    size_t errlen)
{
	const ASN1_OCTET_STRING *ski;
	AUTHORITY_KEYID *akid;
	ISSUING_DIST_POINT *idp;
	X509_EXTENSION *ext;
	EVP_PKEY *key;
	time_t tu, nu;
	int i, nid, crit, ok;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(root)) != 0) {
		vu_err(err, errlen, "CRL is from another issuer");
		return 0;
	}
	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit,
	    NULL);
	if (akid == NULL && crit != -1) {
		ERR_clear_error();
		vu_err(err, errlen, "CRL authorityKeyIdentifier malformed");
		return 0;
	}
	ski = X509_get0_subject_key_id(root);
	ok = akid == NULL || akid->keyid == NULL || ski == NULL ||
	    ASN1_OCTET_STRING_cmp(akid->keyid, ski) == 0;
	AUTHORITY_KEYID_free(akid);
	if (!ok) {
		vu_err(err, errlen, "CRL is from another key of the same "
		    "issuer name");
		return 0;
	}
	if ((X509_get_extension_flags(root) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(root) & KU_CRL_SIGN)) {
		vu_err(err, errlen, "root may not sign CRLs");
		return 0;
	}
	if ((key = X509_get0_pubkey(root)) == NULL ||
	    X509_CRL_verify(crl, key) != 1) {
		ERR_clear_error();
		vu_err(err, errlen, "CRL signature does not verify against "
		    "the root");
		return 0;
	}
	for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		ext = X509_CRL_get_ext(crl, i);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		if (nid == NID_delta_crl) {
			vu_err(err, errlen, "delta CRLs are not used");
			return 0;
		}
		if (X509_EXTENSION_get_critical(ext) &&
		    nid != NID_crl_number &&
		    nid != NID_authority_key_identifier &&
		    nid != NID_issuing_distribution_point) {
			vu_err(err, errlen, "CRL has an unknown critical "
			    "extension");
			return 0;
		}
	}
	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit,
	    NULL);
	if (idp == NULL && crit != -1) {
		ERR_clear_error();
		vu_err(err, errlen, "CRL issuingDistributionPoint malformed");
		return 0;
	}
	if (idp != NULL) {
		ok = !idp->onlyCA && !idp->onlyattr && !idp->indirectCRL &&
		    idp->onlysomereasons == NULL && idp_covers(idp, x);
		ISSUING_DIST_POINT_free(idp);
		if (!ok) {
			vu_err(err, errlen, "CRL is partitioned and does not "
			    "cover this certificate");
			return 0;
		}
	}
	if (vu_time(X509_CRL_get0_lastUpdate(crl), &tu) == -1 ||
	    tu > now + JPKI_VERIFY_SKEW) {
		vu_err(err, errlen, "CRL thisUpdate missing or in the future");
		return 0;
	}
	if (X509_CRL_get0_nextUpdate(crl) == NULL ||
	    vu_time(X509_CRL_get0_nextUpdate(crl), &nu) == -1) {
		vu_err(err, errlen, "CRL has no nextUpdate");
		return 0;
	}
	if (now >= nu) {
		vu_err(err, errlen, "CRL is stale (nextUpdate passed)");
		return 0;
	}
	return 1;
}

/*
 * Decide by the configured CRLs: JPKI_OK, JPKI_REVOKED, or
 * JPKI_REVOCATION_UNAVAILABLE when none is usable.
 */
static enum jpki_verdict
check_crls(struct jpki_trust *t, X509 *root, X509 *x, time_t now,
    struct jpki_cert_info *out, char *err, size_t errlen)
{
	X509_REVOKED *rev;
	X509_CRL *crl;
	ASN1_ENUMERATED *reason;
	char why[256];
	size_t i;
	int usable = 0, r;

	vu_err(err, errlen, "no CRL configured");
	for (i = 0; i < t->ncrls; i++) {
		why[0] = '\0';
		if ((crl = crl_cache_get(t->crls[i], why, sizeof(why))) ==
		    NULL) {
			vu_err(err, errlen, "%s", why);
			continue;
		}
		if (!crl_usable(crl, root, x, now, why, sizeof(why))) {
			vu_err(err, errlen, "%s: %s",
			    base_name(t->crls[i]->path), why);
			X509_CRL_free(crl);
			continue;
		}
		usable = 1;
		rev = NULL;
		r = X509_CRL_get0_by_serial(crl, &rev,
		    X509_get0_serialNumber(x));
		if (r == 1 && rev != NULL) {
			if (vu_time(X509_REVOKED_get0_revocationDate(rev),
			    &out->revoked_at) == -1)
				out->revoked_at = 0;
			reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason,
			    NULL, NULL);
			out->revocation_reason = reason != NULL ?
			    (int)ASN1_ENUMERATED_get(reason) : -1;
			ASN1_ENUMERATED_free(reason);
			ERR_clear_error();
			X509_CRL_free(crl);
			vu_err(err, errlen, "revoked (CRL)");
			return JPKI_REVOKED;
		}
		X509_CRL_free(crl);
	}
	ERR_clear_error();
	return usable ? JPKI_OK : JPKI_REVOCATION_UNAVAILABLE;
}

/* Ask the responder: the answer, or why there is none. */
static void
ocsp_ask(struct jpki_trust *t, X509 *root, X509 *x, time_t now,
    int timeout_ms, struct jpki_ocsp_answer *a)
{
	struct ocspc_query q;
	struct ocspc_answer ans;

	memset(a, 0, sizeof(*a));
	a->reason = -1;
	if (!t->ocsp_set) {
		jpki_ocsp_unavailable(a, "no OCSP responder configured");
		return;
	}
	memset(&q, 0, sizeof(q));
	q.url = &t->ocsp_url;
	q.timeout_ms = timeout_ms > 0 && timeout_ms < t->ocsp_timeout_ms ?
	    timeout_ms : t->ocsp_timeout_ms;
	q.cert = x;
	q.issuer = root;
	q.signers = t->ocsp_signers;
	q.now = now;
	q.skew = JPKI_VERIFY_SKEW;
	switch (ocspc_query(&q, &ans, a->err, sizeof(a->err))) {
	case OCSPC_GOOD:
		a->status = JPKI_OCSP_GOOD;
		break;
	case OCSPC_REVOKED:
		a->status = JPKI_OCSP_REVOKED;
		a->revoked_at = ans.revoked_at;
		a->reason = ans.reason;
		break;
	case OCSPC_UNAVAILABLE:
	default:
		a->status = JPKI_OCSP_UNAVAILABLE;
		break;
	}
}

/*
 * OCSP first (asked now, or the answer pre when a caller fetched it
 * before), then the CRLs when it has no answer.
 */
static enum jpki_verdict
check_revocation(struct jpki_trust *t, X509 *root, X509 *x, time_t now,
    const struct jpki_ocsp_answer *pre, struct jpki_cert_info *out,
    char *err, size_t errlen)
{
	struct jpki_ocsp_answer asked;
	const struct jpki_ocsp_answer *a = pre;
	enum jpki_verdict v;
	char cerr[256];

	if (a == NULL) {
		ocsp_ask(t, root, x, now, 0, &asked);
		a = &asked;
	}
	switch (a->status) {
	case JPKI_OCSP_GOOD:
		out->revocation = JPKI_REV_OCSP;
		return JPKI_OK;
	case JPKI_OCSP_REVOKED:
		out->revocation = JPKI_REV_OCSP;
		out->revoked_at = a->revoked_at;
		out->revocation_reason = a->reason;
		vu_err(err, errlen, "revoked (OCSP)");
		return JPKI_REVOKED;
	case JPKI_OCSP_UNAVAILABLE:
		break;
	}
	cerr[0] = '\0';
	v = check_crls(t, root, x, now, out, cerr, sizeof(cerr));
	if (v == JPKI_OK || v == JPKI_REVOKED) {
		out->revocation = JPKI_REV_CRL;
		if (v == JPKI_REVOKED)
			vu_err(err, errlen, "%s", cerr);
		else if (t->ocsp_set)
			vu_err(err, errlen, "ok by the CRL; OCSP: %s", a->err);
		return v;
	}
	vu_err(err, errlen, "revocation status unavailable: OCSP: %s; CRL: %s",
	    a->err, cerr);
	return JPKI_REVOCATION_UNAVAILABLE;
}

/* ---- parsing */

/* Certificate ::= SEQUENCE { tbs, signatureAlgorithm, BIT STRING } */
static int
split_cert(struct jpki_cert *c)
{
	const uint8_t *p, *q, *end;
	size_t clen, total, qlen;
	uint8_t tag;

	if (vu_der_elem(c->der, c->len, &tag, &p, &clen, &total) == -1 ||
	    tag != 0x30 || total != c->len)
		return -1;
	end = p + clen;
	if (vu_der_elem(p, (size_t)(end - p), &tag, &q, &qlen, &total) == -1 ||
	    tag != 0x30)
		return -1;
	c->tbs = p;
	c->tbslen = total;
	p += total;
	if (vu_der_elem(p, (size_t)(end - p), &tag, &q, &qlen, &total) == -1 ||
	    tag != 0x30)
		return -1;
	p += total;
	if (vu_der_elem(p, (size_t)(end - p), &tag, &q, &qlen, &total) == -1 ||
	    tag != 0x03 || p + total != end || qlen < 2 || q[0] != 0)
		return -1;
	c->sig = q + 1;
	c->siglen = qlen - 1;
	return 0;
}

/* A positive DER INTEGER into a BIGNUM. */
static BIGNUM *
der_uint(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *v;
	size_t vlen, total;
	uint8_t tag;

	if (vu_der_elem(*pp, (size_t)(end - *pp), &tag, &v, &vlen, &total) ==
	    -1 || tag != 0x02 || vlen == 0 || (v[0] & 0x80) ||
	    (vlen > 1 && v[0] == 0 && !(v[1] & 0x80)))
		return NULL;
	*pp += total;
	return BN_bin2bn(v, (int)vlen, NULL);
}

/* The RSA key of the SubjectPublicKeyInfo, in the default libctx. */
static void
build_key(struct jpki_cert *c)
{
	ASN1_OBJECT *alg = NULL;
	const unsigned char *pk = NULL;
	const uint8_t *p, *end;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	size_t clen, total;
	int pklen;
	uint8_t tag;

	c->key_state = KEY_UNREADABLE;
	if (X509_PUBKEY_get0_param(&alg, &pk, &pklen, NULL,
	    X509_get_X509_PUBKEY(c->x)) != 1 || pk == NULL || pklen <= 0)
		goto done;
	if (OBJ_obj2nid(alg) != NID_rsaEncryption) {
		c->key_state = KEY_OTHER;
		goto done;
	}
	/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, exponent INTEGER } */
	if (vu_der_elem(pk, (size_t)pklen, &tag, &p, &clen, &total) == -1 ||
	    tag != 0x30 || total != (size_t)pklen)
		goto done;
	end = p + clen;
	if ((n = der_uint(&p, end)) == NULL || (e = der_uint(&p, end)) ==
	    NULL || p != end || BN_is_zero(n) || BN_is_zero(e))
		goto done;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &c->key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto done;
	c->key_state = KEY_RSA;
done:
	if (c->key_state != KEY_RSA) {
		EVP_PKEY_free(c->key);
		c->key = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	ERR_clear_error();
}

enum jpki_verdict
jpki_cert_parse(const uint8_t *der, size_t len, struct jpki_cert **out,
    char *err, size_t errlen)
{
	struct jpki_cert *c;
	const unsigned char *p;
	enum jpki_verdict v;

	*out = NULL;
	if (der == NULL || len == 0 || len > JPKI_VERIFY_CERT_MAX) {
		vu_err(err, errlen, "certificate empty or larger than %d bytes",
		    JPKI_VERIFY_CERT_MAX);
		return JPKI_MALFORMED;
	}
	(void)pthread_once(&parse_once, parse_init);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->der = malloc(len)) == NULL) {
		free(c);
		vu_err(err, errlen, "out of memory");
		return JPKI_ERROR;
	}
	memcpy(c->der, der, len);
	c->len = len;
	p = c->der;
	if ((c->x = X509_new_ex(parse_libctx, NULL)) == NULL) {
		vu_err_ssl(err, errlen, "X509_new");
		v = JPKI_ERROR;
		goto fail;
	}
	if (d2i_X509(&c->x, &p, (long)len) == NULL || p != c->der + len ||
	    split_cert(c) == -1) {
		vu_err_ssl(err, errlen, "not a DER certificate");
		v = JPKI_MALFORMED;
		goto fail;
	}
	if (vu_sha256_hex(der, len, c->sha256, sizeof(c->sha256)) == -1) {
		vu_err(err, errlen, "SHA-256 failed");
		v = JPKI_ERROR;
		goto fail;
	}
	build_key(c);
	ERR_clear_error();
	*out = c;
	return JPKI_OK;
fail:
	ERR_clear_error();
	jpki_cert_free(c);
	return v;
}

void
jpki_cert_free(struct jpki_cert *c)
{
	if (c == NULL)
		return;
	X509_free(c->x);
	EVP_PKEY_free(c->key);
	free(c->der);
	free(c);
}

/* ---- entry points */

/*
 * Everything but revocation: profile, issuing root (*rootp), validity.
 * out is filled as far as the check got.
 */
static enum jpki_verdict
check_parsed(struct jpki_trust *t, const struct jpki_cert *c, time_t now,
    struct jpki_cert_info *out, const struct jpki_root **rootp, char *err,
    size_t errlen)
{
	const struct jpki_root *root;
	enum jpki_verdict v;
	char ts[32];

	*rootp = NULL;
	memset(out, 0, sizeof(*out));
	out->revocation_reason = -1;
	vu_err(err, errlen, "ok");
	if (t == NULL || t->nroots == 0) {
		vu_err(err, errlen, "no trusted roots configured");
		return JPKI_ERROR;
	}
	if (c == NULL) {
		vu_err(err, errlen, "no certificate");
		return JPKI_MALFORMED;
	}
	memcpy(out->sha256, c->sha256, sizeof(out->sha256));
	if ((v = check_profile(c, out, err, errlen)) != JPKI_OK)
		return v;
	if ((root = find_root(t, c, now)) == NULL) {
		vu_err(err, errlen, "issued by no configured root");
		return JPKI_UNTRUSTED;
	}
	(void)snprintf(out->root_name, sizeof(out->root_name), "%s",
	    root->name);
	memcpy(out->root_sha256, root->sha256, sizeof(out->root_sha256));
	if (now < out->not_before) {
		vu_err(err, errlen, "not valid before %s",
		    vu_time_str(out->not_before, ts, sizeof(ts)));
		return JPKI_NOT_YET_VALID;
	}
	if (now > out->not_after) {
		vu_err(err, errlen, "expired at %s",
		    vu_time_str(out->not_after, ts, sizeof(ts)));
		return JPKI_EXPIRED;
	}
	if (!valid_at(root->cert, now)) {
		vu_err(err, errlen, "root %s is not valid at this time",
		    root->name);
		return JPKI_UNTRUSTED;
	}
	*rootp = root;
	return JPKI_OK;
}

static enum jpki_verdict
verify_parsed(struct jpki_trust *t, const struct jpki_cert *c, time_t now,
    int revocation, struct jpki_cert_info *outp, char *err, size_t errlen)
{
	struct jpki_cert_info tmp;
	struct jpki_cert_info *out = outp != NULL ? outp : &tmp;
	const struct jpki_root *root;
	enum jpki_verdict v;

	v = check_parsed(t, c, now, out, &root, err, errlen);
	if (v == JPKI_OK && revocation)
		v = check_revocation(t, root->cert, c->x, now, NULL, out, err,
		    errlen);
	ERR_clear_error();
	return v;
}

/*
 * The root that check_parsed found for c, as info (its output) names it:
 * by the root's SHA-256, still the issuer of c by name and key id, and
 * both valid at now.  The signature is not checked again.  NULL when info
 * is not a successful check of c with this trust at now.
 */
static const struct jpki_root *
checked_root(const struct jpki_trust *t, const struct jpki_cert *c,
    const struct jpki_cert_info *info, time_t now, char *err, size_t errlen)
{
	size_t i;

	if (t != NULL && c != NULL && info != NULL &&
	    strcmp(info->sha256, c->sha256) == 0 &&
	    info->not_before <= now && now <= info->not_after)
		for (i = 0; i < t->nroots; i++)
			if (strcmp(t->roots[i].sha256, info->root_sha256) ==
			    0 && X509_check_issued(t->roots[i].cert, c->x) ==
			    X509_V_OK && valid_at(t->roots[i].cert, now)) {
				ERR_clear_error();
				return &t->roots[i];
			}
	ERR_clear_error();
	vu_err(err, errlen, "the certificate was not checked with these "
	    "roots (jpki_check_parsed)");
	return NULL;
}

static enum jpki_verdict
verify(struct jpki_trust *t, const uint8_t *der, size_t len, time_t now,
    int revocation, struct jpki_cert_info *outp, char *err, size_t errlen)
{
	struct jpki_cert *c;
	enum jpki_verdict v;

	if (outp != NULL) {
		memset(outp, 0, sizeof(*outp));
		outp->revocation_reason = -1;
	}
	if (t == NULL || t->nroots == 0) {
		vu_err(err, errlen, "no trusted roots configured");
		return JPKI_ERROR;
	}
	if ((v = jpki_cert_parse(der, len, &c, err, errlen)) != JPKI_OK)
		return v;
	v = verify_parsed(t, c, now, revocation, outp, err, errlen);
	jpki_cert_free(c);
	return v;
}

enum jpki_verdict
jpki_verify_cert(struct jpki_trust *t, const uint8_t *der, size_t len,
    time_t now, struct jpki_cert_info *out, char *err, size_t errlen)
{
	return verify(t, der, len, now, 1, out, err, errlen);
}

enum jpki_verdict
jpki_check_cert(struct jpki_trust *t, const uint8_t *der, size_t len,
    time_t now, struct jpki_cert_info *out, char *err, size_t errlen)
{
	return verify(t, der, len, now, 0, out, err, errlen);
}

enum jpki_verdict
jpki_check_parsed(struct jpki_trust *t, const struct jpki_cert *c,
    time_t now, struct jpki_cert_info *out, char *err, size_t errlen)
{
	return verify_parsed(t, c, now, 0, out, err, errlen);
}

enum jpki_verdict
jpki_revocation_parsed(struct jpki_trust *t, const struct jpki_cert *c,
    time_t now, const struct jpki_ocsp_answer *a, struct jpki_cert_info *info,
    char *err, size_t errlen)
{
	const struct jpki_root *root;
	enum jpki_verdict v;

	if (c == NULL) {
		vu_err(err, errlen, "no certificate");
		return JPKI_MALFORMED;
	}
	if ((root = checked_root(t, c, info, now, err, errlen)) == NULL)
		return JPKI_ERROR;
	vu_err(err, errlen, "ok");
	v = check_revocation(t, root->cert, c->x, now, a, info, err, errlen);
	ERR_clear_error();
	return v;
}

int
jpki_trust_has_ocsp(const struct jpki_trust *t)
{
	return t != NULL && t->ocsp_set;
}

void
jpki_ocsp_unavailable(struct jpki_ocsp_answer *a, const char *why)
{
	memset(a, 0, sizeof(*a));
	a->status = JPKI_OCSP_UNAVAILABLE;
	a->reason = -1;
	vu_err(a->err, sizeof(a->err), "%s", why);
}

void
jpki_ocsp_fetch(struct jpki_trust *t, const struct jpki_cert *c,
    const struct jpki_cert_info *info, time_t now, int timeout_ms,
    struct jpki_ocsp_answer *a)
{
	const struct jpki_root *root;
	char err[sizeof(a->err)];

	/* only about a certificate that passed its check */
	if ((root = checked_root(t, c, info, now, err, sizeof(err))) == NULL)
		jpki_ocsp_unavailable(a, err);
	else
		ocsp_ask(t, root->cert, c->x, now, timeout_ms, a);
	ERR_clear_error();
}

int
jpki_verify_signature_parsed(const struct jpki_cert *c, const uint8_t *msg,
    size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	if (c == NULL || c->key == NULL)
		return -1;
	if (sig == NULL || sig_len == 0 || sig_len > SIG_MAX ||
	    (msg == NULL && msg_len != 0))
		return 0;
	return rsa_sha256_verify(c->key, msg != NULL ? msg :
	    (const uint8_t *)"", msg_len, sig, sig_len);
}

int
jpki_verify_signature(const uint8_t *cert_der, size_t cert_len,
    const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	struct jpki_cert *c;
	int ret;

	if (jpki_cert_parse(cert_der, cert_len, &c, NULL, 0) != JPKI_OK)
		return -1;
	ret = jpki_verify_signature_parsed(c, msg, msg_len, sig, sig_len);
	jpki_cert_free(c);
	return ret;
}

/* ---- names */

struct verdict_name {
	const char	*code;
	int		 http;
	const char	*en;
	const char	*ja;
};

static const struct verdict_name verdict_names[] = {
	[JPKI_OK] = { "ok", 200, "certificate accepted",
	    "証明書を確認しました" },
	[JPKI_UNTRUSTED] = { "cert_untrusted", 403,
	    "the certificate is not from a trusted JPKI authority",
	    "この証明書は信頼できる公的個人認証サービスのものではありません" },
	[JPKI_EXPIRED] = { "cert_expired", 403,
	    "the user-authentication certificate has expired",
	    "利用者証明用電子証明書の有効期限が切れています" },
	[JPKI_NOT_YET_VALID] = { "cert_not_yet_valid", 403,
	    "the user-authentication certificate is not valid yet",
	    "利用者証明用電子証明書はまだ有効になっていません" },
	[JPKI_REVOKED] = { "cert_revoked", 403,
	    "the user-authentication certificate has been revoked",
	    "利用者証明用電子証明書は失効しています" },
	[JPKI_REVOCATION_UNAVAILABLE] = { "revocation_unavailable", 503,
	    "the certificate's revocation status cannot be checked now",
	    "現在、証明書の失効確認ができません。しばらくしてからお試しください" },
	[JPKI_MALFORMED] = { "bad_request", 400,
	    "the certificate is malformed",
	    "証明書の形式が正しくありません" },
	[JPKI_ERROR] = { "internal_error", 500,
	    "internal error while checking the certificate",
	    "証明書の確認中に内部エラーが発生しました" },
};

static const struct verdict_name *
verdict_name(enum jpki_verdict v)
{
	if ((unsigned int)v >= sizeof(verdict_names) / sizeof(verdict_names[0]))
		return &verdict_names[JPKI_ERROR];
	return &verdict_names[v];
}

const char *
jpki_verdict_code(enum jpki_verdict v)
{
	return verdict_name(v)->code;
}

int
jpki_verdict_http_status(enum jpki_verdict v)
{
	return verdict_name(v)->http;
}

const char *
jpki_verdict_message(enum jpki_verdict v)
{
	return verdict_name(v)->en;
}

const char *
jpki_verdict_message_ja(enum jpki_verdict v)
{
	return verdict_name(v)->ja;
}

const char *
jpki_revocation_source_name(enum jpki_revocation_source s)
{
	switch (s) {
	case JPKI_REV_OCSP:
		return "ocsp";
	case JPKI_REV_CRL:
		return "crl";
	case JPKI_REV_NOT_CHECKED:
		break;
	}
	return "none";
}
