/*
 * Helpers for the certificate checks (see verify_util.h).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "verify_util.h"

void
vu_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

void
vu_err_ssl(char *err, size_t errlen, const char *fmt, ...)
{
	char ssl[256];
	unsigned long e;
	va_list ap;
	size_t n;

	e = ERR_peek_last_error();
	ERR_clear_error();
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
	if (e == 0)
		return;
	ERR_error_string_n(e, ssl, sizeof(ssl));
	n = strlen(err);
	if (n < errlen)
		(void)snprintf(err + n, errlen - n, ": %s", ssl);
}

int
vu_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;
	time_t r;

	if (t == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return -1;
	}
	r = timegm(&tm);
	if (r == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 &&
	    tm.tm_mday == 31 && tm.tm_hour == 23 && tm.tm_min == 59 &&
	    tm.tm_sec == 59))
		return -1;
	*out = r;
	return 0;
}

const char *
vu_time_str(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (len == 0)
		return buf;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, len, "?");
	return buf;
}

int
vu_read_file(const char *path, size_t max, uint8_t **data, size_t *len,
    char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t off = 0;
	ssize_t n;
	int fd;

	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		vu_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		vu_err(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		vu_err(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		vu_err(err, errlen, "%s: larger than %zu bytes", path, max);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		vu_err(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	/* Read what fstat promised; a file that grows meanwhile is cut. */
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			vu_err(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	(void)close(fd);
	*data = buf;
	*len = off;
	return 0;
fail:
	free(buf);
	(void)close(fd);
	return -1;
}

int
vu_sha256_hex(const uint8_t *data, size_t len, char *hex, size_t hexlen)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (hexlen < 65)
		return -1;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[2 * mdlen] = '\0';
	return 0;
}

int
vu_der_elem(const uint8_t *p, size_t n, uint8_t *tag, const uint8_t **cont,
    size_t *clen, size_t *total)
{
	size_t hl, len, i, k;

	if (n < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	if (p[1] < 0x80) {
		len = p[1];
		hl = 2;
	} else {
		k = p[1] & 0x7f;
		if (k == 0 || k > 3 || n < 2 + k || p[2] == 0)
			return -1;	/* indefinite, huge or not minimal */
		for (len = 0, i = 0; i < k; i++)
			len = (len << 8) | p[2 + i];
		if (len < 0x80)
			return -1;
		hl = 2 + k;
	}
	if (len > n - hl)
		return -1;
	*tag = p[0];
	*cont = p + hl;
	*clen = len;
	*total = hl + len;
	return 0;
}
