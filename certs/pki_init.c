/*
 * kiosk-pki init: every CA and service certificate of the test PKI.
 * Everything is generated in memory first; files are then written with
 * auth-ca.crt last, so its presence means a complete directory.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/objects.h>

#include "log.h"
#include "pki.h"

static const char *const auth_ca_name[] = {
	"C", "JP", "O", "JPKI-TEST", "OU", "JPKI for user authentication",
	"OU", "Japan Agency for Local Authority Information Systems", NULL
};
static const char *const sign_ca_name[] = {
	"C", "JP", "O", "JPKI-TEST", "OU", "JPKI for digital signature",
	"OU", "Japan Agency for Local Authority Information Systems", NULL
};
static const char *const ocsp_name[] = {
	"C", "JP", "O", "JPKI-TEST", "CN", "JPKI-TEST OCSP responder", NULL
};
static const char *const fleet_ca_name[] = {
	"C", "JP", "O", "kioskd test fleet", "CN", "Kiosk Fleet CA", NULL
};
static const char *const center_ca_name[] = {
	"C", "JP", "O", "kioskd test fleet", "CN", "Kiosk Center CA", NULL
};
static const char *const center_name[] = {
	"C", "JP", "O", "kioskd test fleet", "CN", "localhost", NULL
};
static const char *const docsign_name[] = {
	"C", "JP", "O", "kioskd test fleet", "CN", "Document Signing", NULL
};

static const struct pki_ext ca_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE" },
	{ NID_key_usage, "critical,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier, "hash" },
};
static const struct pki_ext ocsp_exts[] = {
	{ NID_basic_constraints, "CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "OCSPSigning" },
	{ NID_id_pkix_OCSP_noCheck, "ignored" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};
static const struct pki_ext center_exts[] = {
	{ NID_basic_constraints, "CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "serverAuth" },
	{ NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};
static const struct pki_ext docsign_exts[] = {
	{ NID_basic_constraints, "CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};

#define NEXTS(a)	(sizeof(a) / sizeof((a)[0]))

struct entity {
	const char		*file;
	const char		*what;
	enum pki_keytype	 type;
	const char *const	*name;
	int			 issuer;	/* index in ents[], -1 self */
	int			 serial_bytes;	/* 0: serial 1 */
	const struct pki_ext	*exts;
	size_t			 nexts;
	X509			*cert;
	EVP_PKEY		*key;
	char			 serial[PKI_SERIAL_HEX_MAX];
};

enum { E_AUTH, E_SIGN, E_OCSP, E_FLEET, E_CENTER_CA, E_CENTER, E_DOCSIGN,
    E_COUNT };

static struct entity ents[E_COUNT] = {
	{ PKI_AUTH_CA, "JPKI-TEST user-authentication root", PKI_KEY_RSA2048,
	    auth_ca_name, -1, 0, ca_exts, NEXTS(ca_exts), NULL, NULL, "" },
	{ PKI_SIGN_CA, "JPKI-TEST digital-signature root", PKI_KEY_RSA2048,
	    sign_ca_name, -1, 0, ca_exts, NEXTS(ca_exts), NULL, NULL, "" },
	{ PKI_OCSP, "OCSP signer (by auth-ca)", PKI_KEY_RSA2048, ocsp_name,
	    E_AUTH, 8, ocsp_exts, NEXTS(ocsp_exts), NULL, NULL, "" },
	{ PKI_FLEET_CA, "kiosk fleet CA", PKI_KEY_P256, fleet_ca_name, -1, 8,
	    ca_exts, NEXTS(ca_exts), NULL, NULL, "" },
	{ PKI_CENTER_CA, "center CA (kiosks pin it)", PKI_KEY_P256,
	    center_ca_name, -1, 8, ca_exts, NEXTS(ca_exts), NULL, NULL, "" },
	{ PKI_CENTER, "center TLS server (by center-ca)", PKI_KEY_P256,
	    center_name, E_CENTER_CA, 8, center_exts, NEXTS(center_exts), NULL,
	    NULL, "" },
	{ PKI_DOCSIGN, "document signing (by center-ca)", PKI_KEY_P256,
	    docsign_name, E_CENTER_CA, 8, docsign_exts, NEXTS(docsign_exts),
	    NULL, NULL, "" },
};

static int
make_entity(const char *dir, struct entity *e, int64_t now)
{
	struct pki_cert_req req;
	X509_NAME *name;
	BIGNUM *serial;

	if ((e->key = issue_key(e->type)) == NULL)
		return -1;
	if (e->serial_bytes == 0) {
		if ((serial = BN_new()) == NULL || BN_one(serial) != 1 ||
		    issue_serial_hex(serial, e->serial, sizeof(e->serial)) == -1) {
			pki_ssl_warn("serial");
			BN_free(serial);
			return -1;
		}
	} else if ((serial = issue_serial(dir, e->serial_bytes, e->serial,
	    sizeof(e->serial))) == NULL)
		return -1;
	if ((name = issue_name(e->name)) == NULL) {
		BN_free(serial);
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.subject = name;
	req.key = e->key;
	if (e->issuer != -1) {
		req.issuer = ents[e->issuer].cert;
		req.issuer_key = ents[e->issuer].key;
	}
	req.serial = serial;
	req.not_before = now - PKI_CLOCK_SKEW;
	req.not_after = now + (int64_t)PKI_CA_DAYS * 86400;
	req.exts = e->exts;
	req.nexts = e->nexts;
	e->cert = issue_cert(&req);
	X509_NAME_free(name);
	BN_free(serial);
	return e->cert != NULL ? 0 : -1;
}

static int
write_entity(const char *dir, struct entity *e, int cert)
{
	char path[PKI_PATH_MAX], file[64];
	int n;

	n = snprintf(file, sizeof(file), "%s.%s", e->file, cert ? "crt" : "key");
	if (n < 0 || (size_t)n >= sizeof(file) ||
	    store_path(path, sizeof(path), dir, file) == -1)
		return -1;
	if (cert)
		return store_write_cert(path, e->cert);
	return store_write_key(path, e->key);
}

static int
write_text(const char *dir, const char *file, const char *text)
{
	char path[PKI_PATH_MAX];

	if (store_path(path, sizeof(path), dir, file) == -1)
		return -1;
	return store_write(path, text, strlen(text), 0644);
}

static int
write_all(const char *dir)
{
	char path[PKI_PATH_MAX];
	const char *serials[E_COUNT];
	struct pki_index empty;
	size_t i;

	for (i = 0; i < E_COUNT; i++) {
		if (write_entity(dir, &ents[i], 0) == -1)
			return -1;
		if (i != E_AUTH && write_entity(dir, &ents[i], 1) == -1)
			return -1;
		serials[i] = ents[i].serial;
	}
	if (store_serial_record(dir, serials, E_COUNT) == -1)
		return -1;
	if (write_text(dir, PKI_INDEX, "") == -1 ||
	    write_text(dir, PKI_INDEX_ATTR, "unique_subject = no\n") == -1)
		return -1;
	if (store_path(path, sizeof(path), dir, PKI_CARDS) == -1 ||
	    store_mkdir(path, 0) == -1 ||
	    store_path(path, sizeof(path), dir, PKI_KIOSKS) == -1 ||
	    store_mkdir(path, 0) == -1)
		return -1;
	memset(&empty, 0, sizeof(empty));
	if (crl_issue_ca(dir, &empty, ents[E_AUTH].cert, ents[E_AUTH].key) == -1)
		return -1;
	return write_entity(dir, &ents[E_AUTH], 1);
}

static int
summary(const char *dir)
{
	char path[PKI_PATH_MAX], file[64];
	size_t i;
	int n;

	printf("kiosk-pki: initialised %s\n", dir);
	for (i = 0; i < E_COUNT; i++) {
		n = snprintf(file, sizeof(file), "%s.crt", ents[i].file);
		if (n < 0 || (size_t)n >= sizeof(file) ||
		    store_path(path, sizeof(path), dir, file) == -1)
			return -1;
		printf("%s: %s (+ %s.key)\n", ents[i].file, ents[i].what,
		    ents[i].file);
		if (issue_describe("", path, ents[i].cert) == -1)
			return -1;
	}
	printf("%s/%s, %s: OCSP database of auth-ca card certificates "
	    "(empty)\n", dir, PKI_INDEX, PKI_INDEX_ATTR);
	printf("%s/%s: CRL signed by auth-ca (empty, next update in %d days)\n",
	    dir, PKI_CRL, PKI_CRL_DAYS);
	printf("%s/%s/, %s/%s/: for kiosk-pki card and kiosk-pki kiosk\n",
	    dir, PKI_CARDS, dir, PKI_KIOSKS);
	if (fflush(stdout) == EOF) {
		log_warn("stdout");
		return -1;
	}
	return 0;
}

int
cmd_init(const char *dir)
{
	char path[PKI_PATH_MAX];
	int64_t now = pki_now();
	size_t i;
	int lock = -1, ret = -1;

	if (store_path(path, sizeof(path), dir, PKI_AUTH_CA ".crt") == -1)
		return -1;
	if (store_exists(path)) {
		log_warnx("%s already exists: %s is already initialised "
		    "(refusing to overwrite it)", path, dir);
		return -1;
	}
	if (store_mkdirs(dir) == -1 || (lock = store_lock(dir)) == -1)
		return -1;
	if (store_exists(path)) {
		log_warnx("%s already exists: initialised concurrently", path);
		goto done;
	}
	for (i = 0; i < E_COUNT; i++)
		if (make_entity(dir, &ents[i], now) == -1)
			goto done;
	if (write_all(dir) == -1)
		goto done;
	ret = summary(dir);
done:
	for (i = 0; i < E_COUNT; i++) {
		X509_free(ents[i].cert);
		EVP_PKEY_free(ents[i].key);
		ents[i].cert = NULL;
		ents[i].key = NULL;
	}
	store_unlock(lock);
	return ret;
}
