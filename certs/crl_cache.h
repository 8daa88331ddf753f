/*
 * A CRL file kept in memory and re-read when the file changes on disk
 * (device, inode, size or mtime), so an operator can drop a new CRL in
 * place while the center runs.  One mutex per file; readers get their
 * own reference.
 */
#ifndef KIOSK_CRL_CACHE_H
#define KIOSK_CRL_CACHE_H

#include <sys/types.h>

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#define CRL_FILE_MAX	(64 * 1024 * 1024)

struct crl_cache {
	char		 path[PATH_MAX];
	pthread_mutex_t	 mu;
	X509_CRL	*crl;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtim;
};

/* Read path now; -1 with err when it cannot be read or parsed. */
int	 crl_cache_init(struct crl_cache *, const char *path, char *err,
	    size_t errlen);
void	 crl_cache_fini(struct crl_cache *);
/*
 * The current CRL with a reference the caller frees (X509_CRL_free).
 * When the file changed and the new one cannot be read, the previous
 * CRL is kept (it is still judged by its own dates) and err tells why.
 * NULL only when there is none.
 */
X509_CRL *crl_cache_get(struct crl_cache *, char *err, size_t errlen);
/* Parse a PEM or DER CRL from memory (exposed for the tests). */
X509_CRL *crl_parse(const uint8_t *data, size_t len, char *err,
	    size_t errlen);

#endif
