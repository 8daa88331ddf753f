/*
 * CRL files, re-read on change (see crl_cache.h).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "crl_cache.h"
#include "verify_util.h"

X509_CRL *
crl_parse(const uint8_t *data, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = data;
	X509_CRL *crl = NULL;
	size_t i = 0;
	BIO *b;

	if (len > CRL_FILE_MAX || len > INT32_MAX) {
		vu_err(err, errlen, "CRL too large");
		return NULL;
	}
	/* DER starts with a SEQUENCE tag (0x30); PEM with text. */
	while (i < len && (data[i] == ' ' || data[i] == '\t' ||
	    data[i] == '\r' || data[i] == '\n'))
		i++;
	if (i < len && data[i] == '-') {
		if ((b = BIO_new_mem_buf(data, (int)len)) == NULL) {
			vu_err_ssl(err, errlen, "BIO_new_mem_buf");
			return NULL;
		}
		crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
		if (crl == NULL)
			vu_err_ssl(err, errlen, "not a PEM CRL");
		ERR_clear_error();
		return crl;
	}
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl == NULL || p != data + len) {
		X509_CRL_free(crl);
		vu_err_ssl(err, errlen, "not a PEM or DER CRL");
		return NULL;
	}
	return crl;
}

static X509_CRL *
load(const char *path, struct stat *st, char *err, size_t errlen)
{
	char why[256];
	uint8_t *data;
	size_t len;
	X509_CRL *crl;

	if (stat(path, st) == -1) {
		vu_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (vu_read_file(path, CRL_FILE_MAX, &data, &len, err, errlen) == -1)
		return NULL;
	crl = crl_parse(data, len, why, sizeof(why));
	free(data);
	if (crl == NULL)
		vu_err(err, errlen, "%s: %s", path, why);
	return crl;
}

static void
remember(struct crl_cache *c, const struct stat *st)
{
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	c->size = st->st_size;
	c->mtim = st->st_mtim;
}

int
crl_cache_init(struct crl_cache *c, const char *path, char *err,
    size_t errlen)
{
	struct stat st;
	int n;

	memset(c, 0, sizeof(*c));
	n = snprintf(c->path, sizeof(c->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		vu_err(err, errlen, "CRL path too long");
		return -1;
	}
	if ((c->crl = load(path, &st, err, errlen)) == NULL)
		return -1;
	remember(c, &st);
	if ((n = pthread_mutex_init(&c->mu, NULL)) != 0) {
		vu_err(err, errlen, "pthread_mutex_init: %s", strerror(n));
		X509_CRL_free(c->crl);
		c->crl = NULL;
		return -1;
	}
	return 0;
}

void
crl_cache_fini(struct crl_cache *c)
{
	X509_CRL_free(c->crl);
	c->crl = NULL;
	(void)pthread_mutex_destroy(&c->mu);
}

X509_CRL *
crl_cache_get(struct crl_cache *c, char *err, size_t errlen)
{
	struct stat st;
	X509_CRL *crl = NULL, *fresh;

	if (pthread_mutex_lock(&c->mu) != 0) {
		vu_err(err, errlen, "%s: cannot lock the CRL cache", c->path);
		return NULL;
	}
	if (stat(c->path, &st) == -1)
		vu_err(err, errlen, "%s: %s (using the CRL read before)",
		    c->path, strerror(errno));
	else if (st.st_dev != c->dev || st.st_ino != c->ino ||
	    st.st_size != c->size || st.st_mtim.tv_sec != c->mtim.tv_sec ||
	    st.st_mtim.tv_nsec != c->mtim.tv_nsec) {
		if ((fresh = load(c->path, &st, err, errlen)) != NULL) {
			X509_CRL_free(c->crl);
			c->crl = fresh;
			remember(c, &st);
		}
		/* else: keep the old one, try again next time */
	}
	if (c->crl != NULL && X509_CRL_up_ref(c->crl) == 1)
		crl = c->crl;
	(void)pthread_mutex_unlock(&c->mu);
	return crl;
}
