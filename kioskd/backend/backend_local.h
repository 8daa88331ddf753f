/*
 * Internals of the backend client shared by backend_tls.c,
 * backend_http.c, backend_json.c and backend_api.c.
 */
#ifndef KIOSK_BACKEND_LOCAL_H
#define KIOSK_BACKEND_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "backend.h"

struct event_base;

/* backend_tls.c: the client TLS context.  The private key lives here. */
struct backend_tls;

struct backend_tls *backend_tls_new(const char *ca_file, const char *cert_file,
		    const char *key_file, char *err, size_t errlen);
void		 backend_tls_free(struct backend_tls *);
/* A new SSL for one connection to host (DNS name or IP literal). */
SSL		*backend_tls_ssl_new(struct backend_tls *, const char *host,
		    int host_is_ip, char *err, size_t errlen);
/* After the handshake: 0 when the peer is verified, TLS 1.3; else -1. */
int		 backend_tls_check(SSL *, char *err, size_t errlen);
/* Describe and clear the OpenSSL error queue. */
void		 backend_tls_errstr(char *dst, size_t dstlen, unsigned long e);

/* backend_http.c: minimal HTTP/1.1 over one kept-alive TLS connection. */
struct backend_http;

struct http_params {
	const char	*url;
	int		 timeout_ms;
	int		 max_attempts;
	int		 idle_max_ms;
	size_t		 max_response;
};

struct http_response {
	int		 status;
	int		 json;		/* Content-Type is application/json */
	const uint8_t	*body;		/* NUL-terminated for convenience */
	size_t		 len;
	int		 rtt_ms;	/* submit to complete answer */
};

/*
 * Called exactly once per request.  err->kind != BACKEND_OK: no response
 * (res is NULL).  cancelled: backend_http_cancel() dropped it; only free
 * arg then.
 */
typedef void	 (*http_cb)(struct backend_error *err,
		    const struct http_response *res, int cancelled, void *arg);

struct backend_http *backend_http_new(struct event_base *, struct backend_tls *,
		    const struct http_params *, char *err, size_t errlen);
void		 backend_http_free(struct backend_http *);
uint64_t	 backend_http_request(struct backend_http *, const char *method,
		    const char *path, const char *body, size_t bodylen,
		    int idempotent, http_cb, void *arg);
int		 backend_http_cancel(struct backend_http *, uint64_t id);
void		 backend_http_stats(const struct backend_http *,
		    struct backend_stats *);

/* backend_json.c: strict validation of the center's answers. */
void		 backend_seterr(struct backend_error *, enum backend_errkind,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int		 bj_keys_only(json_t *obj, const char *what,
		    const char *const *keys, size_t nkeys, struct backend_error *);
json_t		*bj_get(json_t *obj, const char *what, const char *key, int type,
		    struct backend_error *);
int		 bj_str(json_t *obj, const char *what, const char *key,
		    size_t minlen, size_t maxlen, char *dst, size_t dstlen,
		    struct backend_error *);
int		 bj_int(json_t *obj, const char *what, const char *key,
		    long long min, long long max, long long *out,
		    struct backend_error *);
int		 bj_bool(json_t *obj, const char *what, const char *key, int *out,
		    struct backend_error *);
int		 bj_hex_ok(const char *s, size_t len);
int		 bj_code_ok(const char *s);
int		 bj_text_ok(const char *s);
int		 bj_rfc3339_ok(const char *s);
/* Strict standard base64 (padding required); -1 on bad syntax or overflow. */
long		 bj_b64_decode(uint8_t *dst, size_t dstlen, const char *src,
		    size_t srclen);
/* Encode into a new NUL-terminated string; NULL on error. */
char		*bj_b64_encode(const uint8_t *src, size_t len);
/* The API.md error object of a non-2xx answer, into err (E_SERVER). */
void		 bj_parse_error(const struct http_response *,
		    struct backend_error *);

#endif
