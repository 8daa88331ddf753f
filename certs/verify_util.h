/*
 * Small helpers shared by jpki_verify.c, ocsp_client.c and crl_cache.c:
 * bounded error messages (with the OpenSSL error queue, which is then
 * cleared: it is per thread), ASN.1 times as time_t, bounded file reads.
 */
#ifndef KIOSK_VERIFY_UTIL_H
#define KIOSK_VERIFY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/asn1.h>

/* printf into err (when err != NULL and errlen > 0), truncating safely. */
void	vu_err(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The same, with ": <first OpenSSL error>" appended; clears the queue. */
void	vu_err_ssl(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* ASN.1 UTCTime/GeneralizedTime -> seconds since the epoch.  0 or -1. */
int	vu_time(const ASN1_TIME *t, time_t *out);
/* "2024-01-21T15:00:00Z" into buf (>= 21 bytes); "?" when out of range. */
const char *vu_time_str(time_t t, char *buf, size_t len);
/*
 * Read a whole regular file of at most max bytes into a malloc'd buffer
 * (NUL-terminated, the NUL not counted).  0 or -1 with err.
 */
int	vu_read_file(const char *path, size_t max, uint8_t **data,
	    size_t *len, char *err, size_t errlen);
/*
 * One DER element (low tag numbers, definite lengths of at most 3 bytes)
 * at p, n bytes available: its tag, contents and whole size.  0 or -1.
 */
int	vu_der_elem(const uint8_t *p, size_t n, uint8_t *tag,
	    const uint8_t **cont, size_t *clen, size_t *total);
/* Lower-case hex SHA-256 of data into hex (65 bytes).  0 or -1. */
int	vu_sha256_hex(const uint8_t *data, size_t len, char *hex,
	    size_t hexlen);

#endif
