/*
 * certs/jpki_verify: a small PKI made here with the OpenSSL API (three
 * roots with one DN, two of them trusted), the profile, the issuer chosen
 * by signature, validity, the card's signature, the CRL fallback, and the
 * OCSP client against a responder forked by this test on 127.0.0.1
 * (good, revoked, unknown, bad signers, nonce, stale, HTTP errors, a
 * responder that never answers).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crl_cache.h"
#include "jpki_verify.h"
#include "ocsp_basic.h"
#include "ocsp_client.h"
#include "t.h"
#include "verify_util.h"

#define DAY	86400L
#define NFILES	64

static const char *const root_dn[] = {
	"C", "JP", "O", "JPKI-TEST", "OU", "JPKI for user authentication",
	"OU", "Japan Agency for Local Authority Information Systems", NULL
};

static char dir[256];
static char files[NFILES][512];
static int nfiles;
static time_t now;

/* ---- building the PKI */

static void
die(const char *what)
{
	fprintf(stderr, "test_jpki_verify: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(2);
}

static EVP_PKEY *
rsa_key(int bits)
{
	EVP_PKEY *k = EVP_RSA_gen((unsigned int)bits);

	if (k == NULL)
		die("EVP_RSA_gen");
	return k;
}

static X509_NAME *
mkname(const char *const *pairs)
{
	X509_NAME *n = X509_NAME_new();
	size_t i;

	if (n == NULL)
		die("X509_NAME_new");
	for (i = 0; pairs[i] != NULL; i += 2)
		if (X509_NAME_add_entry_by_txt(n, pairs[i], MBSTRING_UTF8,
		    (const unsigned char *)pairs[i + 1], -1, -1, 0) != 1)
			die("X509_NAME_add_entry_by_txt");
	return n;
}

struct spec {
	const char *const *subject;	/* NULL: C=JP, CN=<cn> */
	const char	*cn;
	EVP_PKEY	*key;
	X509		*issuer;	/* NULL: self-signed */
	EVP_PKEY	*issuer_key;
	long		 serial;
	long		 nb, na;	/* offsets from now, seconds */
	const EVP_MD	*md;		/* NULL: SHA-256 */
	const char	*exts[8][2];	/* { "keyUsage", "critical,..." } */
	int		 bad_critical;	/* add an unknown critical ext */
};

static X509 *
mkcert(const struct spec *s)
{
	const char *const cardname[] = { "C", "JP", "CN", s->cn, NULL };
	X509 *x;
	X509_NAME *n;
	X509V3_CTX ctx;
	CONF *conf;
	X509_EXTENSION *e;
	ASN1_OBJECT *obj;
	ASN1_OCTET_STRING *os;
	int i;

	if ((x = X509_new()) == NULL || X509_set_version(x, X509_VERSION_3) != 1)
		die("X509_new");
	if (ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial) != 1)
		die("serial");
	n = mkname(s->subject != NULL ? s->subject : cardname);
	if (X509_set_subject_name(x, n) != 1 || X509_set_issuer_name(x,
	    s->issuer != NULL ? X509_get_subject_name(s->issuer) : n) != 1)
		die("names");
	X509_NAME_free(n);
	if (X509_time_adj_ex(X509_getm_notBefore(x), 0, s->nb, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, s->na, &now) == NULL)
		die("times");
	if (X509_set_pubkey(x, s->key) != 1)
		die("pubkey");
	X509V3_set_ctx(&ctx, s->issuer != NULL ? s->issuer : x, x, NULL, NULL,
	    0);
	if ((conf = NCONF_new(NULL)) == NULL)
		die("NCONF_new");
	X509V3_set_nconf(&ctx, conf);
	for (i = 0; i < 8 && s->exts[i][0] != NULL; i++) {
		e = X509V3_EXT_nconf(conf, &ctx, s->exts[i][0], s->exts[i][1]);
		if (e == NULL || X509_add_ext(x, e, -1) != 1)
			die(s->exts[i][0]);
		X509_EXTENSION_free(e);
	}
	NCONF_free(conf);
	if (s->bad_critical) {
		obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
		os = ASN1_OCTET_STRING_new();
		if (obj == NULL || os == NULL ||
		    ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00",
		    2) != 1 ||
		    (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os)) ==
		    NULL || X509_add_ext(x, e, -1) != 1)
			die("critical ext");
		X509_EXTENSION_free(e);
		ASN1_OBJECT_free(obj);
		ASN1_OCTET_STRING_free(os);
	}
	if (X509_sign(x, s->issuer_key != NULL ? s->issuer_key : s->key,
	    s->md != NULL ? s->md : EVP_sha256()) <= 0)
		die("X509_sign");
	return x;
}

static const char *
path_of(const char *name)
{
	if (nfiles == NFILES)
		die("too many files");
	(void)snprintf(files[nfiles], sizeof(files[0]), "%s/%s", dir, name);
	return files[nfiles++];
}

static const char *
write_pem(const char *name, X509 *a, X509 *b)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "w");

	if (f == NULL || PEM_write_X509(f, a) != 1 ||
	    (b != NULL && PEM_write_X509(f, b) != 1) || fclose(f) != 0)
		die(p);
	return p;
}

static const char *
write_bytes(const char *name, const void *data, size_t len)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "w");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(p);
	return p;
}

struct der {
	unsigned char	*p;
	size_t		 len;
};

static struct der
der_of(X509 *x)
{
	struct der d = { NULL, 0 };
	int n = i2d_X509(x, &d.p);

	if (n <= 0)
		die("i2d_X509");
	d.len = (size_t)n;
	return d;
}

static X509_CRL *
mkcrl(X509 *issuer, EVP_PKEY *key, long tu, long nu, int no_next,
    const long *serials, int nserials, int delta)
{
	X509_CRL *c = X509_CRL_new();
	X509_REVOKED *r;
	ASN1_TIME *t;
	ASN1_INTEGER *sn;
	ASN1_ENUMERATED *reason;
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int i;

	if (c == NULL || X509_CRL_set_version(c, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer)) != 1)
		die("X509_CRL_new");
	if ((t = X509_time_adj_ex(NULL, 0, tu, &now)) == NULL ||
	    X509_CRL_set1_lastUpdate(c, t) != 1)
		die("lastUpdate");
	ASN1_TIME_free(t);
	if (!no_next) {
		if ((t = X509_time_adj_ex(NULL, 0, nu, &now)) == NULL ||
		    X509_CRL_set1_nextUpdate(c, t) != 1)
			die("nextUpdate");
		ASN1_TIME_free(t);
	}
	for (i = 0; i < nserials; i++) {
		if ((r = X509_REVOKED_new()) == NULL ||
		    (sn = ASN1_INTEGER_new()) == NULL ||
		    ASN1_INTEGER_set(sn, serials[i]) != 1 ||
		    X509_REVOKED_set_serialNumber(r, sn) != 1 ||
		    (t = X509_time_adj_ex(NULL, 0, -3600, &now)) == NULL ||
		    X509_REVOKED_set_revocationDate(r, t) != 1 ||
		    (reason = ASN1_ENUMERATED_new()) == NULL ||
		    ASN1_ENUMERATED_set(reason, 1) != 1 ||
		    X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0,
		    0) != 1 || X509_CRL_add0_revoked(c, r) != 1)
			die("revoked entry");
		ASN1_INTEGER_free(sn);
		ASN1_TIME_free(t);
		ASN1_ENUMERATED_free(reason);
	}
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, c, 0);
	if (X509_get0_subject_key_id(issuer) != NULL) {
		if ((e = X509V3_EXT_conf(NULL, &ctx, "authorityKeyIdentifier",
		    "keyid:always")) == NULL || X509_CRL_add_ext(c, e, -1) != 1)
			die("CRL AKI");
		X509_EXTENSION_free(e);
	}
	if (delta) {
		if ((sn = ASN1_INTEGER_new()) == NULL ||
		    ASN1_INTEGER_set(sn, 1) != 1 ||
		    X509_CRL_add1_ext_i2d(c, NID_delta_crl, sn, 1, 0) != 1)
			die("deltaCRL");
		ASN1_INTEGER_free(sn);
	}
	if (X509_CRL_sort(c) != 1 || X509_CRL_sign(c, key, EVP_sha256()) <= 0)
		die("X509_CRL_sign");
	return c;
}

static const char *
write_crl(const char *name, X509_CRL *c)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "w");

	if (f == NULL || PEM_write_X509_CRL(f, c) != 1 || fclose(f) != 0)
		die(p);
	X509_CRL_free(c);
	return p;
}

/* ---- the PKI of this test */

static EVP_PKEY *ka, *kb, *kc, *kleaf, *kleaf2, *kresp;
static X509 *root_a, *root_b, *root_c;
static X509 *leaf_a, *leaf_a2, *leaf_b, *leaf_b_noaki, *leaf_c;
static X509 *resp_ok, *resp_noeku, *resp_c;
static const char *roots_dir, *bundle;

#define CARD_EXTS(x) \
	{ { "keyUsage", "critical,digitalSignature" }, \
	  { "certificatePolicies", "1.2.392.200149.8.5.1.3.30" }, \
	  { "subjectKeyIdentifier", "hash" }, \
	  { "authorityKeyIdentifier", "keyid:always" } }

static X509 *
root(EVP_PKEY *k, long serial, long nb, long na)
{
	struct spec s = { .subject = root_dn, .key = k, .serial = serial,
	    .nb = nb, .na = na, .exts = {
		{ "basicConstraints", "critical,CA:TRUE" },
		{ "keyUsage", "critical,keyCertSign,cRLSign" },
		{ "subjectKeyIdentifier", "hash" } } };

	return mkcert(&s);
}

static X509 *
card(X509 *issuer, EVP_PKEY *ikey, EVP_PKEY *key, long serial,
    const char *cn)
{
	struct spec s = { .cn = cn, .key = key, .issuer = issuer,
	    .issuer_key = ikey, .serial = serial, .nb = -DAY, .na = 365 * DAY,
	    .exts = CARD_EXTS(0) };

	return mkcert(&s);
}

static X509 *
responder(X509 *issuer, EVP_PKEY *ikey, int eku)
{
	static const char *const name[] = { "C", "JP", "O", "JPKI-TEST",
	    "CN", "OCSP responder", NULL };
	struct spec s = { .subject = name, .key = kresp, .issuer = issuer,
	    .issuer_key = ikey, .serial = eku ? 77 : 78, .nb = -DAY,
	    .na = 30 * DAY, .exts = {
		{ "basicConstraints", "CA:FALSE" },
		{ "keyUsage", "critical,digitalSignature" },
		{ "subjectKeyIdentifier", "hash" },
		{ "authorityKeyIdentifier", "keyid:always" },
		{ eku ? "extendedKeyUsage" : NULL, "OCSPSigning" } } };

	return mkcert(&s);
}

static void
make_pki(void)
{
	struct spec s;

	ka = rsa_key(2048);
	kb = rsa_key(2048);
	kc = rsa_key(2048);
	kleaf = rsa_key(2048);
	kleaf2 = rsa_key(2048);
	kresp = rsa_key(2048);
	root_a = root(ka, 1, -5 * 365 * DAY, 5 * 365 * DAY);
	root_b = root(kb, 0x6d18006, -DAY, 10 * 365 * DAY);
	root_c = root(kc, 1, -DAY, 10 * 365 * DAY);
	leaf_a = card(root_a, ka, kleaf, 0x0705d990, "997794E9AGCIEG13221003A");
	leaf_a2 = card(root_a, ka, kleaf2, 0x12345678, "AAAA1111BBBB2222CCCC");
	leaf_b = card(root_b, kb, kleaf, 0x2a, "B0000000000000000001");
	leaf_c = card(root_c, kc, kleaf, 0x0705d991, "C0000000000000000001");
	memset(&s, 0, sizeof(s));
	s.cn = "B0000000000000000002";
	s.key = kleaf;
	s.issuer = root_b;
	s.issuer_key = kb;
	s.serial = 0x2b;
	s.nb = -DAY;
	s.na = 365 * DAY;
	s.exts[0][0] = "keyUsage";
	s.exts[0][1] = "critical,digitalSignature";
	leaf_b_noaki = mkcert(&s);
	resp_ok = responder(root_a, ka, 1);
	resp_noeku = responder(root_a, ka, 0);
	resp_c = responder(root_c, kc, 1);

	if (mkdir(path_of("roots"), 0700) == -1)
		die("mkdir roots");
	roots_dir = files[nfiles - 1];
	write_pem("roots/a.pem", root_a, NULL);
	write_pem("roots/b.crt", root_b, NULL);
	write_bytes("roots/README", "not a root\n", 11);
	bundle = write_pem("bundle.pem", root_a, root_b);
}

static struct jpki_trust *
trust(const char *roots)
{
	struct jpki_trust *t = jpki_trust_new();
	char err[256];

	if (t == NULL || jpki_trust_add_roots(t, roots, err, sizeof(err)) < 1) {
		fprintf(stderr, "add_roots: %s\n", err);
		die("trust");
	}
	return t;
}

static enum jpki_verdict
check(struct jpki_trust *t, X509 *x, struct jpki_cert_info *info, char *err,
    size_t errlen)
{
	struct der d = der_of(x);
	enum jpki_verdict v;

	v = jpki_check_cert(t, d.p, d.len, now, info, err, errlen);
	OPENSSL_free(d.p);
	return v;
}

static enum jpki_verdict
verify(struct jpki_trust *t, X509 *x, struct jpki_cert_info *info,
    char *err, size_t errlen)
{
	struct der d = der_of(x);
	enum jpki_verdict v;

	v = jpki_verify_cert(t, d.p, d.len, now, info, err, errlen);
	OPENSSL_free(d.p);
	return v;
}

/*
 * The split path, as the center goes: jpki_check_parsed, then
 * jpki_ocsp_fetch asks and jpki_revocation_parsed judges with that answer
 * (the center asks off its workers).
 */
static enum jpki_verdict
verify_split(struct jpki_trust *t, X509 *x, int timeout_ms,
    struct jpki_ocsp_answer *a, struct jpki_cert_info *info, char *err,
    size_t errlen)
{
	struct der d = der_of(x);
	struct jpki_cert *c = NULL;
	enum jpki_verdict v;

	v = jpki_cert_parse(d.p, d.len, &c, err, errlen);
	OPENSSL_free(d.p);
	if (v != JPKI_OK)
		return v;
	if ((v = jpki_check_parsed(t, c, now, info, err, errlen)) == JPKI_OK) {
		jpki_ocsp_fetch(t, c, info, now, timeout_ms, a);
		v = jpki_revocation_parsed(t, c, now, a, info, err, errlen);
	}
	jpki_cert_free(c);
	return v;
}

/* ---- tests */

static void
test_roots(void)
{
	struct jpki_trust *t = trust(roots_dir), *tb = trust(bundle), *t2;
	struct jpki_cert_info info;
	struct der d;
	char err[256], sha[65];
	int n;

	T_CHECK(check(t, leaf_a, &info, err, sizeof(err)) == JPKI_OK,
	    "card of the old root generation accepted");
	T_CHECK(strcmp(info.root_name, "a.pem") == 0,
	    "... and the old root reported");
	T_CHECK(check(t, leaf_b, &info, err, sizeof(err)) == JPKI_OK &&
	    strcmp(info.root_name, "b.crt") == 0,
	    "card of the new root (same DN) accepted, new root reported");
	d = der_of(root_b);
	T_CHECK(vu_sha256_hex(d.p, d.len, sha, sizeof(sha)) == 0 &&
	    strcmp(info.root_sha256, sha) == 0, "root fingerprint reported");
	OPENSSL_free(d.p);
	T_CHECK(check(t, leaf_b_noaki, &info, err, sizeof(err)) == JPKI_OK &&
	    strcmp(info.root_name, "b.crt") == 0,
	    "without AKI the issuer is chosen by signature");
	T_CHECK(check(tb, leaf_b, &info, err, sizeof(err)) == JPKI_OK &&
	    strcmp(info.root_name, "bundle.pem#2") == 0,
	    "roots from one PEM bundle, named FILE#N");
	T_CHECK(check(tb, leaf_a, &info, err, sizeof(err)) == JPKI_OK &&
	    strcmp(info.root_name, "bundle.pem#1") == 0,
	    "first root of the bundle reported");
	T_CHECK(check(t, leaf_c, &info, err, sizeof(err)) == JPKI_UNTRUSTED &&
	    info.root_name[0] == '\0',
	    "same DN, another key: untrusted");
	T_CHECK(strstr(err, "no configured root") != NULL,
	    "... with a reason");

	/* out: serial, CN, dates, SHA-256 */
	T_CHECK(check(t, leaf_a, &info, err, sizeof(err)) == JPKI_OK,
	    "leaf_a again");
	T_CHECK(strcmp(info.serial, "0705D990") == 0, "serial in upper hex");
	T_CHECK(strcmp(info.subject_cn, "997794E9AGCIEG13221003A") == 0,
	    "subject CN");
	T_CHECK(info.not_before == now - DAY && info.not_after ==
	    now + 365 * DAY, "not_before/not_after as time_t");
	d = der_of(leaf_a);
	T_CHECK(vu_sha256_hex(d.p, d.len, sha, sizeof(sha)) == 0 &&
	    strcmp(info.sha256, sha) == 0 && strlen(info.sha256) == 64,
	    "SHA-256 of the DER");
	OPENSSL_free(d.p);
	T_CHECK(info.revocation == JPKI_REV_NOT_CHECKED,
	    "pre-check does not claim a revocation check");

	/* trust setup errors */
	t2 = jpki_trust_new();
	T_CHECK(jpki_trust_add_roots(t2, "/nonexistent/roots", err,
	    sizeof(err)) == -1 && strstr(err, "/nonexistent") != NULL,
	    "missing roots path refused");
	T_CHECK(jpki_trust_add_roots(t2, write_pem("leaf.pem", leaf_a, NULL),
	    err, sizeof(err)) == -1 && strstr(err, "not a CA") != NULL,
	    "a non-CA certificate is refused as a root");
	T_CHECK(jpki_trust_add_roots(t2, write_bytes("junk.pem",
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    59), err, sizeof(err)) == -1, "bad PEM refused as roots");
	n = jpki_trust_add_roots(t2, bundle, err, sizeof(err));
	T_CHECK(n == 2, "bundle adds two roots");
	T_CHECK(jpki_trust_add_roots(t2, roots_dir, err, sizeof(err)) == -1,
	    "the same roots again add nothing (refused)");
	T_CHECK(jpki_check_cert(NULL, NULL, 0, now, &info, err,
	    sizeof(err)) == JPKI_ERROR, "no trust: error");
	jpki_trust_free(t2);
	t2 = jpki_trust_new();
	d = der_of(leaf_a);
	T_CHECK(jpki_check_cert(t2, d.p, d.len, now, &info, err,
	    sizeof(err)) == JPKI_ERROR, "no roots configured: error");
	OPENSSL_free(d.p);
	jpki_trust_free(t2);
	jpki_trust_free(t);
	jpki_trust_free(tb);
}

static size_t	sign(EVP_PKEY *, const unsigned char *, size_t,
		    unsigned char *);

/* Parsed once (the center's path): the same verdicts as the wrappers,
   and one changed byte inside the signed part is caught. */
static void
test_parsed(void)
{
	struct jpki_trust *t = trust(roots_dir);
	struct jpki_cert_info i1, i2;
	struct jpki_cert *pc = NULL;
	unsigned char challenge[32], sig[512];
	struct der d = der_of(leaf_b), dc = der_of(leaf_c);
	char err[256];
	size_t n, k;
	int same = 1;

	T_CHECK(jpki_cert_parse(d.p, d.len, &pc, err, sizeof(err)) == JPKI_OK,
	    "parsed once");
	T_CHECK(jpki_check_parsed(t, pc, now, &i1, err, sizeof(err)) ==
	    JPKI_OK && jpki_check_cert(t, d.p, d.len, now, &i2, err,
	    sizeof(err)) == JPKI_OK && strcmp(i1.sha256, i2.sha256) == 0 &&
	    strcmp(i1.root_name, i2.root_name) == 0 &&
	    strcmp(i1.serial, i2.serial) == 0,
	    "parsed check: same verdict and facts as the wrapper");
	if (RAND_bytes(challenge, sizeof(challenge)) != 1)
		die("RAND_bytes");
	n = sign(kleaf, challenge, sizeof(challenge), sig);
	T_CHECK(jpki_verify_signature_parsed(pc, challenge, sizeof(challenge),
	    sig, n) == jpki_verify_signature(d.p, d.len, challenge,
	    sizeof(challenge), sig, n), "parsed signature: same answer");
	jpki_cert_free(pc);
	pc = NULL;
	T_CHECK(jpki_cert_parse(dc.p, dc.len, &pc, err, sizeof(err)) ==
	    JPKI_OK && jpki_check_parsed(t, pc, now, &i1, err, sizeof(err)) ==
	    JPKI_UNTRUSTED, "parsed: another key's card stays untrusted");
	jpki_cert_free(pc);
	/* every byte of the TBS part in the middle: never OK */
	for (k = 200; k < d.len - 300 && k < 600; k += 7) {
		struct jpki_cert *q = NULL;

		d.p[k] ^= 0x01;
		if (jpki_cert_parse(d.p, d.len, &q, err, sizeof(err)) ==
		    JPKI_OK && jpki_check_parsed(t, q, now, &i1, err,
		    sizeof(err)) == JPKI_OK)
			same = 0;
		jpki_cert_free(q);
		d.p[k] ^= 0x01;
	}
	T_CHECK(same, "a changed byte inside the signed part: never trusted");
	T_CHECK(jpki_cert_parse((const uint8_t *)"junk", 4, &pc, err,
	    sizeof(err)) == JPKI_MALFORMED, "parse: junk is malformed");
	OPENSSL_free(d.p);
	OPENSSL_free(dc.p);
	jpki_trust_free(t);
}

static void
test_validity(void)
{
	struct jpki_trust *t = trust(roots_dir);
	struct jpki_cert_info info;
	struct spec s = { .cn = "X0000000000000000001", .key = kleaf,
	    .issuer = root_a, .issuer_key = ka, .serial = 1000,
	    .exts = CARD_EXTS(0) };
	char err[256];
	X509 *x;

	s.nb = -6 * 365 * DAY;
	s.na = -DAY;
	x = mkcert(&s);
	T_CHECK(check(t, x, &info, err, sizeof(err)) == JPKI_EXPIRED,
	    "expired certificate");
	T_CHECK(verify(t, x, &info, err, sizeof(err)) == JPKI_EXPIRED &&
	    strstr(err, "expired at") != NULL, "... also by the full check");
	X509_free(x);
	s.nb = DAY;
	s.na = 365 * DAY;
	x = mkcert(&s);
	T_CHECK(check(t, x, &info, err, sizeof(err)) == JPKI_NOT_YET_VALID,
	    "not-yet-valid certificate");
	X509_free(x);
	/* an expired certificate from an untrusted root says untrusted */
	s.issuer = root_c;
	s.issuer_key = kc;
	s.nb = -6 * 365 * DAY;
	s.na = -DAY;
	x = mkcert(&s);
	T_CHECK(check(t, x, &info, err, sizeof(err)) == JPKI_UNTRUSTED,
	    "untrusted before expired");
	X509_free(x);
	/* the last second of notAfter is still valid */
	s.issuer = root_a;
	s.issuer_key = ka;
	s.nb = -DAY;
	s.na = 0;
	x = mkcert(&s);
	T_CHECK(check(t, x, &info, err, sizeof(err)) == JPKI_OK,
	    "valid at exactly notAfter");
	X509_free(x);
	jpki_trust_free(t);
}

static void
test_profile(void)
{
	static const char *const with_o[] = { "C", "JP", "O", "Test",
	    "CN", "A0000000000000000001", NULL };
	static const char *const us[] = { "C", "US", "CN",
	    "A0000000000000000001", NULL };
	static const char *const cn_only[] = { "CN", "A0000000000000000001",
	    NULL };
	struct jpki_trust *t = trust(roots_dir);
	struct jpki_cert_info info;
	char err[256];
	EVP_PKEY *ec, *small;
	struct {
		const char	*name;
		struct spec	 s;
		enum jpki_verdict want;
	} cases[] = {
		{ "EC key: untrusted", { .cn = "A1" }, JPKI_UNTRUSTED },
		{ "RSA-1024: untrusted", { .cn = "A2" }, JPKI_UNTRUSTED },
		{ "sha1WithRSA: untrusted", { .cn = "A3", .md = EVP_sha1() },
		    JPKI_UNTRUSTED },
		{ "sha384WithRSA: untrusted", { .cn = "A4",
		    .md = EVP_sha384() }, JPKI_UNTRUSTED },
		{ "subject with O=: untrusted", { .subject = with_o },
		    JPKI_UNTRUSTED },
		{ "subject C=US: untrusted", { .subject = us },
		    JPKI_UNTRUSTED },
		{ "subject without C: untrusted", { .subject = cn_only },
		    JPKI_UNTRUSTED },
		{ "CN that is a name: untrusted", { .cn = "Yamada Taro" },
		    JPKI_UNTRUSTED },
		{ "CA:TRUE: untrusted", { .cn = "A5", .exts = {
		    { "basicConstraints", "critical,CA:TRUE" } } },
		    JPKI_UNTRUSTED },
		{ "keyUsage without digitalSignature: untrusted", { .cn = "A6",
		    .exts = { { "keyUsage", "critical,keyEncipherment" } } },
		    JPKI_UNTRUSTED },
		{ "keyUsage with keyCertSign: untrusted", { .cn = "A7",
		    .exts = { { "keyUsage",
		    "critical,digitalSignature,keyCertSign" } } },
		    JPKI_UNTRUSTED },
		{ "unknown critical extension: untrusted", { .cn = "A8",
		    .exts = CARD_EXTS(0), .bad_critical = 1 },
		    JPKI_UNTRUSTED },
		{ "no keyUsage at all: accepted", { .cn = "A9" }, JPKI_OK },
		{ "CA:FALSE + digitalSignature: accepted", { .cn = "A10",
		    .exts = { { "basicConstraints", "CA:FALSE" },
		    { "keyUsage", "digitalSignature" } } }, JPKI_OK },
	};
	size_t i;
	X509 *x;

	if ((ec = EVP_EC_gen("P-256")) == NULL)
		die("EVP_EC_gen");
	small = rsa_key(1024);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec s = cases[i].s;

		s.key = i == 0 ? ec : i == 1 ? small : kleaf;
		s.issuer = root_a;
		s.issuer_key = ka;
		s.serial = 2000 + (long)i;
		s.nb = -DAY;
		s.na = DAY;
		x = mkcert(&s);
		T_CHECK(check(t, x, &info, err, sizeof(err)) == cases[i].want,
		    cases[i].name);
		X509_free(x);
	}
	EVP_PKEY_free(ec);
	EVP_PKEY_free(small);
	jpki_trust_free(t);
}

static void
test_malformed(void)
{
	struct jpki_trust *t = trust(roots_dir);
	struct jpki_cert_info info;
	struct der d = der_of(leaf_a);
	unsigned char *longer;
	char err[256];

	T_CHECK(jpki_check_cert(t, (const uint8_t *)"\x30\x03garbage", 10,
	    now, &info, err, sizeof(err)) == JPKI_MALFORMED, "garbage DER");
	T_CHECK(jpki_check_cert(t, d.p, d.len - 1, now, &info, err,
	    sizeof(err)) == JPKI_MALFORMED, "truncated DER");
	if ((longer = malloc(d.len + 1)) == NULL)
		die("malloc");
	memcpy(longer, d.p, d.len);
	longer[d.len] = 0;
	T_CHECK(jpki_check_cert(t, longer, d.len + 1, now, &info, err,
	    sizeof(err)) == JPKI_MALFORMED, "DER with a trailing byte");
	free(longer);
	T_CHECK(jpki_check_cert(t, d.p, 0, now, &info, err, sizeof(err)) ==
	    JPKI_MALFORMED, "empty input");
	T_CHECK(jpki_check_cert(t, NULL, 10, now, &info, err, sizeof(err)) ==
	    JPKI_MALFORMED, "NULL input");
	T_CHECK(jpki_check_cert(t, d.p, JPKI_VERIFY_CERT_MAX + 1, now, &info,
	    err, sizeof(err)) == JPKI_MALFORMED, "oversized input");
	T_CHECK(jpki_check_cert(t, d.p, d.len, now, NULL, NULL, 0) == JPKI_OK,
	    "out and err may be NULL");
	OPENSSL_free(d.p);
	jpki_trust_free(t);
}

static size_t
sign(EVP_PKEY *k, const unsigned char *msg, size_t len, unsigned char *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = 512;

	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    k) != 1 || EVP_DigestSign(ctx, sig, &siglen, msg, len) != 1)
		die("sign");
	EVP_MD_CTX_free(ctx);
	return siglen;
}

/* What the card does: RSA PKCS#1 v1.5 over the SHA-256 DigestInfo. */
static size_t
card_sign(EVP_PKEY *k, const unsigned char *msg, size_t len,
    unsigned char *sig)
{
	static const unsigned char prefix[19] = { 0x30, 0x31, 0x30, 0x0d,
	    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	    0x05, 0x00, 0x04, 0x20 };
	unsigned char di[19 + 32];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
	size_t siglen = 512;

	memcpy(di, prefix, sizeof(prefix));
	if (EVP_Digest(msg, len, di + 19, NULL, EVP_sha256(), NULL) != 1 ||
	    ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_sign(ctx, sig, &siglen, di, sizeof(di)) != 1)
		die("card_sign");
	EVP_PKEY_CTX_free(ctx);
	return siglen;
}

static void
test_signature(void)
{
	unsigned char challenge[32], sig[512], sig2[512];
	struct der d = der_of(leaf_a), dc;
	size_t n, n2;
	struct spec s = { .cn = "E1", .issuer = root_a, .issuer_key = ka,
	    .serial = 3000, .nb = -DAY, .na = DAY };
	X509 *x;

	if (RAND_bytes(challenge, sizeof(challenge)) != 1)
		die("RAND_bytes");
	n = sign(kleaf, challenge, sizeof(challenge), sig);
	T_CHECK(jpki_verify_signature(d.p, d.len, challenge, sizeof(challenge),
	    sig, n) == 1, "signature over the challenge verifies");
	n2 = card_sign(kleaf, challenge, sizeof(challenge), sig2);
	T_CHECK(n2 == n && memcmp(sig, sig2, n) == 0 &&
	    jpki_verify_signature(d.p, d.len, challenge, sizeof(challenge),
	    sig2, n2) == 1, "card-style DigestInfo signature verifies");
	sig[10] ^= 1;
	T_CHECK(jpki_verify_signature(d.p, d.len, challenge, sizeof(challenge),
	    sig, n) == 0, "flipped bit: invalid");
	sig[10] ^= 1;
	challenge[0] ^= 1;
	T_CHECK(jpki_verify_signature(d.p, d.len, challenge, sizeof(challenge),
	    sig, n) == 0, "other challenge: invalid");
	challenge[0] ^= 1;
	T_CHECK(jpki_verify_signature(d.p, d.len, challenge, sizeof(challenge),
	    sig, n - 1) == 0, "short signature: invalid");
	T_CHECK(jpki_verify_signature(d.p, d.len, challenge, sizeof(challenge),
	    NULL, 0) == 0, "no signature: invalid");
	n = sign(kleaf2, challenge, sizeof(challenge), sig);
	T_CHECK(jpki_verify_signature(d.p, d.len, challenge, sizeof(challenge),
	    sig, n) == 0, "signature by another key: invalid");
	T_CHECK(jpki_verify_signature((const uint8_t *)"junk", 4, challenge,
	    sizeof(challenge), sig, n) == -1, "unparseable certificate: -1");
	if ((s.key = EVP_EC_gen("P-256")) == NULL)
		die("EVP_EC_gen");
	x = mkcert(&s);
	dc = der_of(x);
	T_CHECK(jpki_verify_signature(dc.p, dc.len, challenge,
	    sizeof(challenge), sig, n) == -1, "EC certificate: -1");
	OPENSSL_free(dc.p);
	X509_free(x);
	EVP_PKEY_free(s.key);
	OPENSSL_free(d.p);
}

static void
test_crl(void)
{
	static const long revoked_a[] = { 0x0705d990 };
	static const long revoked_a2[] = { 0x0705d990, 0x12345678 };
	struct jpki_trust *t;
	struct jpki_cert_info info;
	const char *crl_a, *crl_b;
	char err[512];

	crl_a = write_crl("crl-a.pem", mkcrl(root_a, ka, -3600, 7 * DAY, 0,
	    revoked_a, 1, 0));
	crl_b = write_crl("crl-b.pem", mkcrl(root_b, kb, -3600, 7 * DAY, 0,
	    NULL, 0, 0));

	t = trust(roots_dir);
	T_CHECK(verify(t, leaf_a, &info, err, sizeof(err)) ==
	    JPKI_REVOCATION_UNAVAILABLE, "no OCSP, no CRL: unavailable");
	T_CHECK(strstr(err, "no OCSP") != NULL && strstr(err, "no CRL") !=
	    NULL, "... the reason names both");
	T_CHECK(jpki_trust_add_crl(t, crl_a, err, sizeof(err)) == 0,
	    "add CRL of the old root");
	T_CHECK(verify(t, leaf_a, &info, err, sizeof(err)) == JPKI_REVOKED &&
	    info.revocation == JPKI_REV_CRL, "revoked by the CRL");
	T_CHECK(info.revocation_reason == 1 && info.revoked_at == now - 3600,
	    "... with reason and time");
	T_CHECK(verify(t, leaf_a2, &info, err, sizeof(err)) == JPKI_OK &&
	    info.revocation == JPKI_REV_CRL, "not listed: ok by the CRL");
	T_CHECK(verify(t, leaf_b, &info, err, sizeof(err)) ==
	    JPKI_REVOCATION_UNAVAILABLE,
	    "CRL of another root generation does not decide");
	T_CHECK(jpki_trust_add_crl(t, crl_b, err, sizeof(err)) == 0 &&
	    verify(t, leaf_b, &info, err, sizeof(err)) == JPKI_OK &&
	    info.revocation == JPKI_REV_CRL, "its own root's CRL decides");

	/* the CRL file is replaced while in use: re-read */
	write_crl("crl-a.pem", mkcrl(root_a, ka, -1800, 7 * DAY, 0,
	    revoked_a2, 2, 0));
	nfiles--;	/* same path, already listed */
	T_CHECK(verify(t, leaf_a2, &info, err, sizeof(err)) == JPKI_REVOKED,
	    "a replaced CRL file is re-read");
	jpki_trust_free(t);

	struct {
		const char	*name;
		X509_CRL	*crl;
	} bad[] = {
		{ "stale CRL (nextUpdate passed): unavailable",
		    mkcrl(root_a, ka, -8 * DAY, -DAY, 0, NULL, 0, 0) },
		{ "CRL from the future: unavailable",
		    mkcrl(root_a, ka, 3600, 7 * DAY, 0, NULL, 0, 0) },
		{ "CRL without nextUpdate: unavailable",
		    mkcrl(root_a, ka, -3600, 0, 1, NULL, 0, 0) },
		{ "CRL signed by another key of the same DN: unavailable",
		    mkcrl(root_c, kc, -3600, 7 * DAY, 0, NULL, 0, 0) },
		{ "delta CRL: unavailable",
		    mkcrl(root_a, ka, -3600, 7 * DAY, 0, NULL, 0, 1) },
	};
	size_t i;
	char name[32];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(name, sizeof(name), "bad-crl-%zu.pem", i);
		t = trust(roots_dir);
		if (jpki_trust_add_crl(t, write_crl(name, bad[i].crl), err,
		    sizeof(err)) == -1)
			die(err);
		T_CHECK(verify(t, leaf_a2, &info, err, sizeof(err)) ==
		    JPKI_REVOCATION_UNAVAILABLE, bad[i].name);
		jpki_trust_free(t);
	}
	t = trust(roots_dir);
	T_CHECK(jpki_trust_add_crl(t, write_bytes("junk.crl", "junk", 4), err,
	    sizeof(err)) == -1, "unparseable CRL file refused");
	T_CHECK(jpki_trust_add_crl(t, "/nonexistent.crl", err,
	    sizeof(err)) == -1, "missing CRL file refused");
	jpki_trust_free(t);
}

/* ---- threads: the CRL cache under concurrent use */

struct thr {
	struct jpki_trust	*t;
	struct der		 d;
	int			 bad;
};

static void *
thr_main(void *arg)
{
	struct thr *a = arg;
	struct jpki_cert_info info;
	char err[256];
	int i;

	for (i = 0; i < 50; i++)
		if (jpki_verify_cert(a->t, a->d.p, a->d.len, now, &info, err,
		    sizeof(err)) != JPKI_REVOKED)
			a->bad++;
	return NULL;
}

static void
test_threads(void)
{
	struct jpki_trust *t = trust(roots_dir);
	struct thr a[4];
	pthread_t th[4];
	char err[256];
	int i, bad = 0, started = 0;

	for (i = 0; i < nfiles; i++)
		if (strstr(files[i], "/crl-a.pem") != NULL)
			break;
	if (i == nfiles || jpki_trust_add_crl(t, files[i], err,
	    sizeof(err)) == -1)
		die("crl-a.pem");
	for (i = 0; i < 4; i++) {
		a[i].t = t;
		a[i].d = der_of(leaf_a);
		a[i].bad = 0;
		if (pthread_create(&th[i], NULL, thr_main, &a[i]) == 0)
			started++;
	}
	for (i = 0; i < started; i++)
		(void)pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++) {
		bad += a[i].bad;
		OPENSSL_free(a[i].d.p);
	}
	T_CHECK(started == 4 && bad == 0,
	    "4 threads x 50 checks share one trust and CRL cache");
	jpki_trust_free(t);
}

/* ---- OCSP against a responder forked here */

enum rmode {
	R_GOOD, R_REVOKED, R_UNKNOWN, R_BY_ROOT, R_NO_EKU, R_OTHER_ROOT,
	R_NONCE_BAD, R_NO_NONCE, R_STALE, R_TRY_LATER, R_GARBAGE, R_HTTP500,
	R_NO_CERTS, R_OTHER_SERIAL, R_FUTURE, R_BAD_SIG, R_SILENT, R_CLOSE
};

static int listen_fd = -1;
static int listen_port;

static int
read_request(int fd, OCSP_REQUEST **req)
{
	static unsigned char buf[16384];
	const unsigned char *p, *body;
	size_t len = 0;
	ssize_t n;
	long clen = -1;
	char *h;

	for (;;) {
		if (len == sizeof(buf) - 1)
			return -1;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((h = strstr((char *)buf, "\r\n\r\n")) == NULL)
			continue;
		body = (unsigned char *)h + 4;
		if (clen < 0) {
			char *cl = strstr((char *)buf, "Content-Length: ");

			if (cl == NULL)
				return -1;
			clen = strtol(cl + 16, NULL, 10);
		}
		if ((size_t)(buf + len - body) >= (size_t)clen)
			break;
	}
	p = body;
	*req = d2i_OCSP_REQUEST(NULL, &p, clen);
	return *req != NULL ? 0 : -1;
}

static void
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0)
			_exit(3);
		p += n;
		len -= (size_t)n;
	}
}

static void
respond(int fd, enum rmode m)
{
	OCSP_REQUEST *req = NULL;
	OCSP_BASICRESP *bs;
	OCSP_RESPONSE *resp;
	OCSP_CERTID *id, *other = NULL;
	ASN1_TIME *tu, *nu, *rt;
	X509 *signer = resp_ok;
	EVP_PKEY *skey = kresp;
	STACK_OF(X509) *certs = NULL;
	unsigned char *der = NULL;
	char head[256];
	int len, status = V_OCSP_CERTSTATUS_GOOD, hl;
	unsigned long flags = 0;

	if (read_request(fd, &req) == -1)
		_exit(4);
	if (m == R_SILENT) {
		sleep(10);
		_exit(0);
	}
	if (m == R_CLOSE)
		_exit(0);
	if (m == R_HTTP500) {
		static const char r[] = "HTTP/1.0 500 Internal Server Error\r\n"
		    "Content-Length: 0\r\n\r\n";
		write_all(fd, r, sizeof(r) - 1);
		_exit(0);
	}
	if (m == R_GARBAGE) {
		static const char r[] = "HTTP/1.0 200 OK\r\n"
		    "Content-Type: application/ocsp-response\r\n"
		    "Content-Length: 5\r\n\r\nhello";
		write_all(fd, r, sizeof(r) - 1);
		_exit(0);
	}
	id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
	if (m == R_OTHER_SERIAL) {
		if ((other = OCSP_cert_to_id(EVP_sha1(), leaf_a2, root_a)) ==
		    NULL)
			_exit(5);
		id = other;
	}
	if (m == R_TRY_LATER)
		resp = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER,
		    NULL);
	else {
		bs = OCSP_BASICRESP_new();
		tu = X509_time_adj_ex(NULL, 0, m == R_STALE ? -2 * DAY :
		    m == R_FUTURE ? 3600 : -60, NULL);
		nu = X509_time_adj_ex(NULL, 0, m == R_STALE ? -DAY : 3600,
		    NULL);
		rt = X509_time_adj_ex(NULL, 0, -7200, NULL);
		if (m == R_REVOKED)
			status = V_OCSP_CERTSTATUS_REVOKED;
		if (m == R_UNKNOWN)
			status = V_OCSP_CERTSTATUS_UNKNOWN;
		if (bs == NULL || tu == NULL || nu == NULL || rt == NULL ||
		    OCSP_basic_add1_status(bs, id, status,
		    m == R_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0,
		    rt, tu, nu) == NULL)
			_exit(5);
		if (m == R_NONCE_BAD) {
			if (OCSP_basic_add1_nonce(bs, NULL, 16) != 1)
				_exit(5);
		} else if (m != R_NO_NONCE && OCSP_copy_nonce(bs, req) != 1)
			_exit(5);
		if (m == R_BY_ROOT) {
			signer = root_a;
			skey = ka;
		} else if (m == R_NO_EKU)
			signer = resp_noeku;
		else if (m == R_OTHER_ROOT)
			signer = resp_c;
		else if (m == R_BAD_SIG)
			skey = kleaf;
		if (m == R_NO_CERTS)
			flags |= OCSP_NOCERTS;
		if (OCSP_basic_sign(bs, signer, skey, EVP_sha256(), certs,
		    flags) != 1)
			_exit(6);
		resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
		    bs);
		OCSP_BASICRESP_free(bs);
		ASN1_TIME_free(tu);
		ASN1_TIME_free(nu);
		ASN1_TIME_free(rt);
	}
	if (resp == NULL || (len = i2d_OCSP_RESPONSE(resp, &der)) <= 0)
		_exit(7);
	hl = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
	    "Content-Type: application/ocsp-response\r\n"
	    "Content-Length: %d\r\n\r\n", len);
	write_all(fd, head, (size_t)hl);
	write_all(fd, der, (size_t)len);
	_exit(0);
}

/* Serve one connection in a child with mode m; returns its pid. */
static pid_t
serve_one(enum rmode m)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		if ((fd = accept(listen_fd, NULL, NULL)) == -1)
			_exit(2);
		respond(fd, m);
		_exit(0);
	}
	return pid;
}

static int
listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		die("listener");
	*port = ntohs(sin.sin_port);
	return fd;
}

static long long
ms_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An OCSPResponse signed by signer, with its certificate unless nocerts. */
static int
basic_der(X509 *signer, int nocerts, uint8_t **der)
{
	OCSP_BASICRESP *bs;
	OCSP_RESPONSE *resp = NULL;
	OCSP_CERTID *id;
	ASN1_TIME *tu;
	int len = -1;

	bs = OCSP_BASICRESP_new();
	id = OCSP_cert_to_id(EVP_sha1(), leaf_a, root_a);
	tu = X509_time_adj_ex(NULL, 0, -60, NULL);
	if (bs != NULL && id != NULL && tu != NULL &&
	    OCSP_basic_add1_status(bs, id, V_OCSP_CERTSTATUS_GOOD, 0, NULL, tu,
	    NULL) != NULL && OCSP_basic_sign(bs, signer, kresp, EVP_sha256(),
	    NULL, nocerts ? OCSP_NOCERTS : 0) == 1 &&
	    (resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) !=
	    NULL) {
		*der = NULL;
		len = i2d_OCSP_RESPONSE(resp, der);
	}
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(tu);
	return len;
}

/*
 * ocsp_basic.c: the basic response comes back as OpenSSL decodes it (the
 * same DER when encoded again, the same certificates), the responder's
 * certificate is decoded once, and an answer with other certificate bytes
 * is not given the remembered ones.
 */
static void
test_ocsp_basic(void)
{
	struct {
		X509		*signer;
		int		 nocerts;
		unsigned long	 hits, misses;	/* added by this answer */
		const char	*name;
	} cases[] = {
		{ resp_ok, 0, 0, 1, "first answer: its certificate decoded" },
		{ resp_ok, 0, 1, 0, "second answer: the certificate reused" },
		{ resp_c, 0, 0, 1, "a same-DN signer of another root: decoded "
		    "afresh" },
		{ resp_ok, 1, 0, 0, "answer without certificates" },
		{ resp_ok, 0, 1, 0, "the first signer again: reused" },
	};
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *want, *got;
	const STACK_OF(X509) *certs;
	const unsigned char *p;
	unsigned char *wder, *gder;
	uint8_t *der;
	unsigned long h0, m0, h1, m1;
	size_t i;
	int len, wlen, glen, same;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if ((len = basic_der(cases[i].signer, cases[i].nocerts,
		    &der)) <= 0)
			die("OCSP response");
		p = der;
		resp = d2i_OCSP_RESPONSE(NULL, &p, len);
		want = OCSP_response_get1_basic(resp);
		ocspb_stats(&h0, &m0);
		got = ocspb_get1_basic(resp, der, (size_t)len);
		ocspb_stats(&h1, &m1);
		wder = gder = NULL;
		wlen = want != NULL ? i2d_OCSP_BASICRESP(want, &wder) : -1;
		glen = got != NULL ? i2d_OCSP_BASICRESP(got, &gder) : -2;
		certs = got != NULL ? OCSP_resp_get0_certs(got) : NULL;
		same = wlen > 0 && wlen == glen && memcmp(wder, gder,
		    (size_t)wlen) == 0;
		if (cases[i].nocerts)
			same = same && sk_X509_num(certs) <= 0;
		else
			same = same && sk_X509_num(certs) == 1 &&
			    X509_cmp(sk_X509_value(certs, 0),
			    cases[i].signer) == 0;
		T_CHECK(same && h1 - h0 == cases[i].hits &&
		    m1 - m0 == cases[i].misses, cases[i].name);
		OPENSSL_free(wder);
		OPENSSL_free(gder);
		OCSP_BASICRESP_free(want);
		OCSP_BASICRESP_free(got);
		OCSP_RESPONSE_free(resp);
		OPENSSL_free(der);
	}
}

static void
test_ocsp(void)
{
	struct {
		enum rmode	 m;
		enum jpki_verdict want;
		const char	*name;
	} cases[] = {
		{ R_GOOD, JPKI_OK, "OCSP good" },
		{ R_REVOKED, JPKI_REVOKED, "OCSP revoked" },
		{ R_UNKNOWN, JPKI_REVOCATION_UNAVAILABLE,
		    "OCSP unknown: unavailable" },
		{ R_BY_ROOT, JPKI_OK, "answer signed by the root itself: good" },
		{ R_NO_EKU, JPKI_REVOCATION_UNAVAILABLE,
		    "signer without OCSPSigning: unavailable" },
		{ R_OTHER_ROOT, JPKI_REVOCATION_UNAVAILABLE,
		    "signer from a same-DN foreign root: unavailable" },
		{ R_BAD_SIG, JPKI_REVOCATION_UNAVAILABLE,
		    "bad response signature: unavailable" },
		{ R_NONCE_BAD, JPKI_REVOCATION_UNAVAILABLE,
		    "wrong nonce: unavailable" },
		{ R_NO_NONCE, JPKI_OK, "no nonce, with nextUpdate: good" },
		{ R_STALE, JPKI_REVOCATION_UNAVAILABLE,
		    "stale answer: unavailable" },
		{ R_FUTURE, JPKI_REVOCATION_UNAVAILABLE,
		    "thisUpdate in the future: unavailable" },
		{ R_TRY_LATER, JPKI_REVOCATION_UNAVAILABLE,
		    "tryLater: unavailable" },
		{ R_GARBAGE, JPKI_REVOCATION_UNAVAILABLE,
		    "garbage body: unavailable" },
		{ R_HTTP500, JPKI_REVOCATION_UNAVAILABLE,
		    "HTTP 500: unavailable" },
		{ R_NO_CERTS, JPKI_REVOCATION_UNAVAILABLE,
		    "signer not included and not configured: unavailable" },
		{ R_OTHER_SERIAL, JPKI_REVOCATION_UNAVAILABLE,
		    "answer about another certificate: unavailable" },
		{ R_CLOSE, JPKI_REVOCATION_UNAVAILABLE,
		    "connection closed without an answer: unavailable" },
	};
	struct jpki_trust *t;
	struct jpki_cert_info info;
	struct ocspc_url u;
	char url[64], err[512];
	const char *signer_file;
	enum jpki_verdict v;
	long long t0, dt;
	size_t i;
	pid_t pid;
	int st, port, fd;

	listen_fd = listener(&listen_port);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d/", listen_port);
	t = trust(roots_dir);
	T_CHECK(jpki_trust_set_ocsp(t, url, NULL, 3000, err, sizeof(err)) == 0,
	    "set OCSP URL");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid = serve_one(cases[i].m);
		v = verify(t, leaf_a, &info, err, sizeof(err));
		if (!T_CHECK(v == cases[i].want && (v == JPKI_REVOCATION_UNAVAILABLE ||
		    info.revocation == JPKI_REV_OCSP), cases[i].name))
			fprintf(stderr, "  got %s: %s\n", jpki_verdict_code(v),
			    err);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		if (cases[i].m == R_REVOKED)
			T_CHECK(info.revocation_reason == 1 && info.revoked_at >
			    now - 7300 && info.revoked_at < now - 7000,
			    "OCSP revocation reason and time");
	}
	jpki_trust_free(t);

	/* a configured signer for answers that omit it */
	signer_file = write_pem("ocsp-signer.pem", resp_ok, NULL);
	t = trust(roots_dir);
	T_CHECK(jpki_trust_set_ocsp(t, url, signer_file, 3000, err,
	    sizeof(err)) == 0, "set OCSP URL with a signer file");
	pid = serve_one(R_NO_CERTS);
	T_CHECK(verify(t, leaf_a, &info, err, sizeof(err)) == JPKI_OK &&
	    info.revocation == JPKI_REV_OCSP,
	    "signer not included but configured: good");
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	jpki_trust_free(t);

	/* the query on its own, then the verdict with its answer */
	t = trust(roots_dir);
	T_CHECK(!jpki_trust_has_ocsp(t), "split: no responder configured yet");
	(void)jpki_trust_set_ocsp(t, url, NULL, 3000, err, sizeof(err));
	T_CHECK(jpki_trust_has_ocsp(t), "split: a responder configured");
	{
		struct jpki_ocsp_answer a;

		pid = serve_one(R_GOOD);
		v = verify_split(t, leaf_a, 0, &a, &info, err, sizeof(err));
		T_CHECK(a.status == JPKI_OCSP_GOOD && v == JPKI_OK &&
		    info.revocation == JPKI_REV_OCSP, "split: OCSP good");
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		pid = serve_one(R_REVOKED);
		v = verify_split(t, leaf_a, 0, &a, &info, err, sizeof(err));
		T_CHECK(a.status == JPKI_OCSP_REVOKED && a.reason == 1 &&
		    v == JPKI_REVOKED && info.revocation_reason == 1 &&
		    info.revoked_at == a.revoked_at && a.revoked_at >
		    now - 7300 && a.revoked_at < now - 7000,
		    "split: OCSP revoked, with its reason and time");
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		pid = serve_one(R_TRY_LATER);
		v = verify_split(t, leaf_a, 0, &a, &info, err, sizeof(err));
		T_CHECK(a.status == JPKI_OCSP_UNAVAILABLE && a.err[0] != '\0' &&
		    v == JPKI_REVOCATION_UNAVAILABLE && strstr(err, a.err) !=
		    NULL, "split: tryLater: unavailable, and why");
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		/* the caller's time limit, below the configured one */
		pid = serve_one(R_SILENT);
		t0 = ms_now();
		v = verify_split(t, leaf_a, 400, &a, &info, err, sizeof(err));
		dt = ms_now() - t0;
		T_CHECK(a.status == JPKI_OCSP_UNAVAILABLE &&
		    v == JPKI_REVOCATION_UNAVAILABLE && dt >= 350 && dt < 2000,
		    "split: silent responder: unavailable after the caller's "
		    "400 ms, not the configured 3 s");
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		T_CHECK(jpki_revocation_parsed(t, NULL, now, &a, &info, err,
		    sizeof(err)) == JPKI_MALFORMED,
		    "split: no certificate: malformed");
	}
	jpki_trust_free(t);

	/* a responder that accepts and never answers: bounded */
	t = trust(roots_dir);
	(void)jpki_trust_set_ocsp(t, url, NULL, 700, err, sizeof(err));
	pid = serve_one(R_SILENT);
	t0 = ms_now();
	v = verify(t, leaf_a, &info, err, sizeof(err));
	dt = ms_now() - t0;
	T_CHECK(v == JPKI_REVOCATION_UNAVAILABLE,
	    "silent responder: unavailable");
	T_CHECK(dt >= 650 && dt < 2000, "... after about the timeout");
	T_CHECK(strstr(err, "no answer within the timeout") != NULL,
	    "... and says so");
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	/* nobody accepts (backlog only): also bounded */
	t0 = ms_now();
	v = verify(t, leaf_a, &info, err, sizeof(err));
	dt = ms_now() - t0;
	T_CHECK(v == JPKI_REVOCATION_UNAVAILABLE && dt < 2000,
	    "listener that never accepts: unavailable, bounded");
	jpki_trust_free(t);
	(void)close(listen_fd);

	/* refused connection: the CRL decides, with a note */
	fd = listener(&port);
	(void)close(fd);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	t = trust(roots_dir);
	(void)jpki_trust_set_ocsp(t, url, NULL, 1000, err, sizeof(err));
	T_CHECK(verify(t, leaf_a2, &info, err, sizeof(err)) ==
	    JPKI_REVOCATION_UNAVAILABLE && strstr(err, "connect") != NULL,
	    "responder down, no CRL: unavailable");
	for (i = 0; i < (size_t)nfiles; i++)
		if (strstr(files[i], "/crl-a.pem") != NULL)
			break;
	if (i == (size_t)nfiles || jpki_trust_add_crl(t, files[i], err,
	    sizeof(err)) == -1)
		die("crl-a.pem");
	T_CHECK(verify(t, leaf_a, &info, err, sizeof(err)) == JPKI_REVOKED &&
	    info.revocation == JPKI_REV_CRL,
	    "responder down, current CRL: revoked by the CRL");
	T_CHECK(verify(t, leaf_b, &info, err,
	    sizeof(err)) == JPKI_REVOCATION_UNAVAILABLE,
	    "responder down, CRL of another root: unavailable");
	{
		struct jpki_ocsp_answer a;
		struct der d = der_of(leaf_a);
		struct jpki_cert *c = NULL;

		struct der db = der_of(leaf_b);
		struct jpki_cert *cb = NULL;
		struct jpki_cert_info ib, bad;

		jpki_ocsp_unavailable(&a, "too many queries waiting");
		if (jpki_cert_parse(d.p, d.len, &c, err, sizeof(err)) !=
		    JPKI_OK || jpki_cert_parse(db.p, db.len, &cb, err,
		    sizeof(err)) != JPKI_OK)
			die("parse leaf_a, leaf_b");
		T_CHECK(jpki_check_parsed(t, c, now, &info, err, sizeof(err)) ==
		    JPKI_OK && jpki_check_parsed(t, cb, now, &ib, err,
		    sizeof(err)) == JPKI_OK, "split: both cards pass the check");
		T_CHECK(jpki_revocation_parsed(t, c, now, &a, &info, err,
		    sizeof(err)) == JPKI_REVOKED &&
		    info.revocation == JPKI_REV_CRL,
		    "split: an answer given as unavailable: the CRL decides");
		memset(&a, 0, sizeof(a));
		T_CHECK(jpki_revocation_parsed(t, c, now, NULL, &info, err,
		    sizeof(err)) == JPKI_REVOKED &&
		    info.revocation == JPKI_REV_CRL && strstr(err, "CRL") !=
		    NULL, "split: no answer given: OCSP asked now (down), "
		    "the CRL decides");
		/* an info that is not this card's successful check */
		T_CHECK(jpki_revocation_parsed(t, c, now, NULL, &ib, err,
		    sizeof(err)) == JPKI_ERROR && strstr(err,
		    "not checked") != NULL,
		    "split: another card's check: an error, not a verdict");
		jpki_ocsp_fetch(t, c, &ib, now, 0, &a);
		T_CHECK(a.status == JPKI_OCSP_UNAVAILABLE && strstr(a.err,
		    "not checked") != NULL,
		    "split: ... and not asked about either");
		bad = info;
		bad.root_sha256[0] = bad.root_sha256[0] == '0' ? '1' : '0';
		T_CHECK(jpki_revocation_parsed(t, c, now, NULL, &bad, err,
		    sizeof(err)) == JPKI_ERROR,
		    "split: a root the check did not find: an error");
		(void)jpki_check_parsed(t, c, now, &info, err, sizeof(err));
		T_CHECK(jpki_revocation_parsed(t, c, info.not_after + 1, NULL,
		    &info, err, sizeof(err)) == JPKI_ERROR &&
		    jpki_revocation_parsed(t, c, info.not_before - 1, NULL,
		    &info, err, sizeof(err)) == JPKI_ERROR,
		    "split: a time the check did not pass: an error");
		jpki_cert_free(c);
		jpki_cert_free(cb);
		OPENSSL_free(d.p);
		OPENSSL_free(db.p);
	}
	jpki_trust_free(t);

	/* URL parsing */
	T_CHECK(ocspc_url_parse("http://127.0.0.1:18890", &u, err,
	    sizeof(err)) == 0 && strcmp(u.host, "127.0.0.1") == 0 &&
	    strcmp(u.port, "18890") == 0 && strcmp(u.path, "/") == 0,
	    "URL host:port");
	T_CHECK(ocspc_url_parse("http://[::1]/ocsp/x", &u, err,
	    sizeof(err)) == 0 && strcmp(u.host, "::1") == 0 &&
	    strcmp(u.port, "80") == 0 && strcmp(u.path, "/ocsp/x") == 0,
	    "URL [v6] default port and path");
	T_CHECK(ocspc_url_parse("https://x/", &u, err, sizeof(err)) == -1,
	    "https refused");
	T_CHECK(ocspc_url_parse("http://x:0/", &u, err, sizeof(err)) == -1 &&
	    ocspc_url_parse("http://x:65536/", &u, err, sizeof(err)) == -1 &&
	    ocspc_url_parse("http://x:8a/", &u, err, sizeof(err)) == -1,
	    "bad ports refused");
	T_CHECK(ocspc_url_parse("http://u@x/", &u, err, sizeof(err)) == -1 &&
	    ocspc_url_parse("http:///", &u, err, sizeof(err)) == -1 &&
	    ocspc_url_parse("http://a b/", &u, err, sizeof(err)) == -1 &&
	    ocspc_url_parse("ftp://x/", &u, err, sizeof(err)) == -1,
	    "bad URLs refused");
	t = trust(roots_dir);
	T_CHECK(jpki_trust_set_ocsp(t, "http://127.0.0.1:1/", NULL, -1, err,
	    sizeof(err)) == -1 && jpki_trust_set_ocsp(t, "http://127.0.0.1/",
	    NULL, JPKI_VERIFY_OCSP_TIMEOUT_MAX + 1, err, sizeof(err)) == -1,
	    "bad timeouts refused");
	jpki_trust_free(t);
}

static void
test_names(void)
{
	T_CHECK(strcmp(jpki_verdict_code(JPKI_OK), "ok") == 0 &&
	    strcmp(jpki_verdict_code(JPKI_UNTRUSTED), "cert_untrusted") == 0 &&
	    strcmp(jpki_verdict_code(JPKI_EXPIRED), "cert_expired") == 0 &&
	    strcmp(jpki_verdict_code(JPKI_NOT_YET_VALID),
	    "cert_not_yet_valid") == 0 &&
	    strcmp(jpki_verdict_code(JPKI_REVOKED), "cert_revoked") == 0 &&
	    strcmp(jpki_verdict_code(JPKI_REVOCATION_UNAVAILABLE),
	    "revocation_unavailable") == 0 &&
	    strcmp(jpki_verdict_code(JPKI_MALFORMED), "bad_request") == 0,
	    "verdict codes match center/API.md");
	T_CHECK(jpki_verdict_http_status(JPKI_REVOCATION_UNAVAILABLE) == 503 &&
	    jpki_verdict_http_status(JPKI_REVOKED) == 403 &&
	    jpki_verdict_http_status(JPKI_MALFORMED) == 400,
	    "HTTP statuses match center/API.md");
	T_CHECK(strcmp(jpki_verdict_code((enum jpki_verdict)99),
	    "internal_error") == 0, "out-of-range verdict is safe");
	T_CHECK(jpki_verdict_message_ja(JPKI_EXPIRED)[0] != '\0' &&
	    jpki_verdict_message(JPKI_EXPIRED)[0] != '\0', "messages");
}

static void
cleanup(void)
{
	int i;

	for (i = nfiles - 1; i >= 0; i--)
		if (unlink(files[i]) == -1)
			(void)rmdir(files[i]);
	(void)rmdir(dir);
}

int
main(void)
{
	const char *tmp = getenv("KIOSK_TMP");

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (snprintf(dir, sizeof(dir), "%s/jpki-verify.XXXXXX", tmp) >=
	    (int)sizeof(dir) || mkdtemp(dir) == NULL)
		die("mkdtemp");
	now = time(NULL);
	make_pki();
	test_roots();
	test_parsed();
	test_validity();
	test_profile();
	test_malformed();
	test_signature();
	test_crl();
	test_threads();
	test_ocsp_basic();
	test_ocsp();
	test_names();
	cleanup();
	return t_done();
}
