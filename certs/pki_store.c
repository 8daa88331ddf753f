/*
 * The PKI directory on disk.  Every file is written to a temporary name in
 * the same directory, fsync'ed and renamed over the target, then the
 * directory is fsync'ed: a crash leaves the old or the new file, never half
 * of one (the OCSP responder rereads index.txt while we write it).  Private
 * keys are created with mode 0600 and their PEM text lives in secure heap
 * memory that OpenSSL wipes on free.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "log.h"
#include "pki.h"

void
pki_ssl_warn(const char *fmt, ...)
{
	char what[512], buf[256];
	unsigned long e;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n < 0)
		what[0] = '\0';
	e = ERR_get_error();
	if (e == 0) {
		log_warnx("%s", what);
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	log_warnx("%s: %s", what, buf);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_debug("openssl: %s", buf);
	}
}

int
store_path(char *buf, size_t len, const char *dir, const char *rel)
{
	int n;

	n = snprintf(buf, len, "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= len) {
		log_warnx("path too long: %s/%s", dir, rel);
		return -1;
	}
	return 0;
}

int
store_path2(char *buf, size_t len, const char *dir, const char *a,
    const char *b)
{
	int n;

	n = snprintf(buf, len, "%s/%s/%s", dir, a, b);
	if (n < 0 || (size_t)n >= len) {
		log_warnx("path too long: %s/%s/%s", dir, a, b);
		return -1;
	}
	return 0;
}

int
store_path3(char *buf, size_t len, const char *dir, const char *a,
    const char *b, const char *c)
{
	int n;

	n = snprintf(buf, len, "%s/%s/%s/%s", dir, a, b, c);
	if (n < 0 || (size_t)n >= len) {
		log_warnx("path too long: %s/%s/%s/%s", dir, a, b, c);
		return -1;
	}
	return 0;
}

int
store_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
store_mkdir(const char *path, int must_create)
{
	struct stat st;

	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno != EEXIST) {
		log_warn("mkdir %s", path);
		return -1;
	}
	if (must_create) {
		log_warnx("%s already exists", path);
		return -1;
	}
	if (stat(path, &st) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("%s exists and is not a directory", path);
		return -1;
	}
	return 0;
}

/* mkdir -p */
int
store_mkdirs(const char *path)
{
	char buf[PKI_PATH_MAX];
	size_t len, i;

	len = strlen(path);
	if (len == 0 || len >= sizeof(buf)) {
		log_warnx("bad directory name");
		return -1;
	}
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (i = 1; i < len; i++) {
		if (buf[i] != '/' || buf[i - 1] == '/')
			continue;
		buf[i] = '\0';
		if (store_mkdir(buf, 0) == -1)
			return -1;
		buf[i] = '/';
	}
	return store_mkdir(buf, 0);
}

static int
write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_parent(const char *path)
{
	char buf[PKI_PATH_MAX];
	int fd, r = 0;
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, path, len + 1);
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fsync(fd) == -1 && errno != EINVAL)
		r = -1;
	close(fd);
	return r;
}

int
store_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PKI_PATH_MAX];
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		log_warnx("path too long: %s", path);
		return -1;
	}
	/* mkstemp creates 0600: keys are never readable by others. */
	if ((fd = mkstemp(tmp)) == -1) {
		log_warn("create %s", tmp);
		return -1;
	}
	if (fchmod(fd, mode) == -1) {
		log_warn("chmod %s", tmp);
		goto fail;
	}
	if (write_all(fd, data, len) == -1) {
		log_warn("write %s", tmp);
		goto fail;
	}
	if (fsync(fd) == -1) {
		log_warn("fsync %s", tmp);
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		log_warn("close %s", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		log_warn("rename %s to %s", tmp, path);
		goto fail;
	}
	if (fsync_parent(path) == -1) {
		log_warn("fsync directory of %s", path);
		return -1;
	}
	return 0;
fail:
	if (fd != -1)
		close(fd);
	if (unlink(tmp) == -1)
		log_warn("unlink %s", tmp);
	return -1;
}

int
store_read(const char *path, char **data, size_t *len, size_t max)
{
	struct stat st;
	char *buf;
	size_t off = 0;
	ssize_t n;
	int fd;

	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (unsigned long long)st.st_size > max) {
		log_warnx("%s: not a regular file or larger than %zu bytes",
		    path, max);
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		log_warn("malloc");
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("read %s", path);
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*data = buf;
	*len = off;
	return 0;
}

/* Store what a memory BIO holds, atomically. */
static int
write_bio(const char *path, BIO *b, mode_t mode)
{
	BUF_MEM *bm = NULL;

	if (BIO_get_mem_ptr(b, &bm) <= 0 || bm == NULL) {
		pki_ssl_warn("%s: BIO_get_mem_ptr", path);
		return -1;
	}
	return store_write(path, bm->data, bm->length, mode);
}

int
store_write_cert(const char *path, X509 *x)
{
	BIO *b;
	int r = -1;

	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		pki_ssl_warn("BIO_new");
		return -1;
	}
	if (PEM_write_bio_X509(b, x) != 1)
		pki_ssl_warn("%s: PEM_write_bio_X509", path);
	else
		r = write_bio(path, b, 0644);
	BIO_free(b);
	return r;
}

int
store_write_crl(const char *path, X509_CRL *crl)
{
	BIO *b;
	int r = -1;

	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		pki_ssl_warn("BIO_new");
		return -1;
	}
	if (PEM_write_bio_X509_CRL(b, crl) != 1)
		pki_ssl_warn("%s: PEM_write_bio_X509_CRL", path);
	else
		r = write_bio(path, b, 0644);
	BIO_free(b);
	return r;
}

int
store_write_key(const char *path, EVP_PKEY *key)
{
	BIO *b;
	int r = -1;

	/* secmem: the buffer is cleansed when the BIO is freed */
	if ((b = BIO_new(BIO_s_secmem())) == NULL) {
		pki_ssl_warn("BIO_new");
		return -1;
	}
	if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1)
		pki_ssl_warn("%s: PEM_write_bio_PrivateKey", path);
	else
		r = write_bio(path, b, 0600);
	BIO_free(b);
	return r;
}

X509 *
store_load_cert(const char *path)
{
	BIO *b;
	X509 *x;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		pki_ssl_warn("cannot open %s", path);
		return NULL;
	}
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		pki_ssl_warn("%s: not a PEM certificate", path);
	BIO_free(b);
	return x;
}

EVP_PKEY *
store_load_key(const char *path)
{
	BIO *b;
	EVP_PKEY *k;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		pki_ssl_warn("cannot open %s", path);
		return NULL;
	}
	/* an empty passphrase callback: our keys are never encrypted */
	if ((k = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"")) == NULL)
		pki_ssl_warn("%s: not a PEM private key", path);
	BIO_free(b);
	return k;
}

/* One kiosk-pki at a time per directory: index and serials are shared. */
int
store_lock(const char *dir)
{
	char path[PKI_PATH_MAX];
	int fd;

	if (store_path(path, sizeof(path), dir, ".lock") == -1)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warn("%s", path);
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		log_warn("lock %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

void
store_unlock(int fd)
{
	if (fd != -1)
		close(fd);
}

/*
 * DIR/serials: every serial number issued in DIR (upper-case hex, one a
 * line), so that card serials stay unique across both JPKI CAs.
 */
int
store_serial_used(const char *dir, const char *hex, int *used)
{
	char path[PKI_PATH_MAX], *data, *line, *save = NULL;
	size_t len;

	*used = 0;
	if (store_path(path, sizeof(path), dir, PKI_SERIALS) == -1)
		return -1;
	if (!store_exists(path))
		return 0;
	if (store_read(path, &data, &len, PKI_FILE_MAX) == -1)
		return -1;
	for (line = strtok_r(data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, hex) == 0) {
			*used = 1;
			break;
		}
	}
	free(data);
	return 0;
}

int
store_serial_record(const char *dir, const char *const *hex, size_t n)
{
	char path[PKI_PATH_MAX], *data = NULL, *out;
	size_t len = 0, total, i, l;
	int r;

	if (store_path(path, sizeof(path), dir, PKI_SERIALS) == -1)
		return -1;
	if (store_exists(path) &&
	    store_read(path, &data, &len, PKI_FILE_MAX) == -1)
		return -1;
	total = len + 1;
	for (i = 0; i < n; i++)
		total += strlen(hex[i]) + 1;
	if (total > PKI_FILE_MAX) {
		log_warnx("%s: too many serial numbers", path);
		free(data);
		return -1;
	}
	if ((out = malloc(total)) == NULL) {
		log_warn("malloc");
		free(data);
		return -1;
	}
	if (len > 0)
		memcpy(out, data, len);
	if (len > 0 && out[len - 1] != '\n')
		out[len++] = '\n';
	for (i = 0; i < n; i++) {
		l = strlen(hex[i]);
		memcpy(out + len, hex[i], l);
		len += l;
		out[len++] = '\n';
	}
	r = store_write(path, out, len, 0644);
	free(out);
	free(data);
	return r;
}

/* DIR must hold a complete init: auth-ca.crt is written last. */
int
store_check_pki(const char *dir)
{
	char path[PKI_PATH_MAX];

	if (store_path(path, sizeof(path), dir, PKI_AUTH_CA ".crt") == -1)
		return -1;
	if (!store_exists(path)) {
		log_warnx("%s is not a kiosk-pki directory (no %s); "
		    "run kiosk-pki init first", dir, path);
		return -1;
	}
	return 0;
}

/* Card NAME: [A-Za-z0-9._-]{1,64}, not "." or "..". */
int
pki_check_card_name(const char *name)
{
	char esc[PKI_NAME_MAX * 4 + 1];
	size_t len = strlen(name);

	if (len > 0 && len <= PKI_NAME_MAX &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == len &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
		return 0;
	log_warnx("bad card name '%s': use 1-64 of [A-Za-z0-9._-]",
	    log_escape(esc, sizeof(esc), name, strlen(name)));
	return -1;
}
