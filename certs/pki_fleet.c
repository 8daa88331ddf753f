/*
 * Kiosk certificate revocation: DIR/fleet-index.txt lists revoked kiosk
 * certificates (index.txt format) and DIR/fleet-crl.pem, signed by
 * fleet-ca, carries them for the center's --client-crl.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "log.h"
#include "pki.h"

/* Load the fleet index, or an empty one when there is none yet. */
static int
fleet_index_load(const char *dir, struct pki_index *idx, char *path,
    size_t len)
{
	if (store_path(path, len, dir, PKI_FLEET_INDEX) == -1)
		return -1;
	if (!store_exists(path)) {
		memset(idx, 0, sizeof(*idx));
		return 0;
	}
	return index_load(path, idx);
}

static int
fleet_crl_issue(const char *dir, const struct pki_index *idx)
{
	char path[PKI_PATH_MAX];
	X509 *ca = NULL;
	EVP_PKEY *key = NULL;
	int ret = -1;

	if (store_path(path, sizeof(path), dir, PKI_FLEET_CA ".crt") == -1 ||
	    (ca = store_load_cert(path)) == NULL)
		goto done;
	if (store_path(path, sizeof(path), dir, PKI_FLEET_CA ".key") == -1 ||
	    (key = store_load_key(path)) == NULL)
		goto done;
	ret = crl_issue_to(dir, idx, ca, key, PKI_FLEET_CRL,
	    PKI_FLEET_CRLNUMBER);
done:
	X509_free(ca);
	EVP_PKEY_free(key);
	return ret;
}

int
cmd_revoke_kiosk(const char *dir, const char *id)
{
	char path[PKI_PATH_MAX], ipath[PKI_PATH_MAX];
	char serial[PKI_SERIAL_HEX_MAX], rev[IDX_REV_MAX];
	struct pki_index idx;
	struct idx_entry *e;
	ASN1_TIME *t = NULL;
	X509 *x = NULL;
	int lock = -1, ret = -1, n;

	memset(&idx, 0, sizeof(idx));
	if (pki_check_card_name(id) == -1 || store_check_pki(dir) == -1)
		return -1;
	if (store_path3(path, sizeof(path), dir, PKI_KIOSKS, id,
	    "kiosk.crt") == -1)
		return -1;
	if (!store_exists(path)) {
		log_warnx("no kiosk %s in %s", id, dir);
		return -1;
	}
	if ((x = store_load_cert(path)) == NULL ||
	    issue_cert_serial_hex(x, serial, sizeof(serial)) == -1)
		goto done;
	if ((lock = store_lock(dir)) == -1)
		goto done;
	if (fleet_index_load(dir, &idx, ipath, sizeof(ipath)) == -1)
		goto done;
	if ((e = index_find(&idx, serial)) == NULL) {
		if (index_add_cert(&idx, x) == -1 ||
		    (e = index_find(&idx, serial)) == NULL)
			goto free_idx;
	}
	if (e->status == 'R') {
		log_warnx("kiosk %s (serial %s) is already revoked", id, serial);
		goto free_idx;
	}
	if ((t = ASN1_TIME_new()) == NULL ||
	    ASN1_TIME_set(t, (time_t)pki_now()) == NULL) {
		pki_ssl_warn("ASN1_TIME_set");
		goto free_idx;
	}
	n = snprintf(rev, sizeof(rev), "%.*s", ASN1_STRING_length(t),
	    (const char *)ASN1_STRING_get0_data(t));
	if (n < 0 || (size_t)n >= sizeof(e->revoked)) {
		log_warnx("revocation field too long");
		goto free_idx;
	}
	memcpy(e->revoked, rev, (size_t)n + 1);
	e->status = 'R';
	if (index_save(ipath, &idx) == -1)
		goto free_idx;
	if (fleet_crl_issue(dir, &idx) == -1) {
		log_warnx("%s updated but the fleet CRL was not; run "
		    "kiosk-pki fleet-crl %s", ipath, dir);
		goto free_idx;
	}
	printf("revoked kiosk %s: serial %s\n", id, serial);
	printf("updated %s and %s/%s\n", ipath, dir, PKI_FLEET_CRL);
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
cmd_fleet_crl(const char *dir)
{
	char path[PKI_PATH_MAX];
	struct pki_index idx;
	int lock, ret = -1;

	if (store_check_pki(dir) == -1 || (lock = store_lock(dir)) == -1)
		return -1;
	if (fleet_index_load(dir, &idx, path, sizeof(path)) == -1) {
		store_unlock(lock);
		return -1;
	}
	if (fleet_crl_issue(dir, &idx) == 0) {
		printf("re-issued %s/%s\n", dir, PKI_FLEET_CRL);
		ret = 0;
	}
	index_free(&idx);
	store_unlock(lock);
	return ret;
}
