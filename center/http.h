/*
 * The HTTP side of kiosk-centerd: TLS 1.3 with client certificates
 * (bufferevent_openssl under evhttp), routing, request bounds, JSON error
 * replies, and the worker threads that run the handlers.
 *
 * The loop thread owns every evhttp and TLS object; a worker sees only
 * its api_job and its own database connection, and hands the finished job
 * back through a pipe.  The kiosk's identity is read from the connection
 * of each request (its client certificate), never remembered.
 */
#ifndef KIOSK_CENTER_HTTP_H
#define KIOSK_CENTER_HTTP_H

#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "centerd.h"

#define HTTP_HEADERS_MAX	(8 * 1024)
/* evhttp itself answers (HTML) beyond this; we answer 413 JSON above 64 KiB */
#define HTTP_BODY_HARD_MAX	(256 * 1024)

struct event_base;
struct http_server;

/*
 * The server TLS context: TLS 1.3 only, the server certificate and key,
 * client certificates required and verified against the fleet CA (and
 * the fleet CRL when configured).  -1 with err.
 */
SSL_CTX	*http_tls_new(const struct center_config *, char *err, size_t errlen);
/* A fresh certificate store for client verification (CA + CRL). */
int	 http_tls_reload(SSL_CTX *, const struct center_config *, char *err,
	    size_t errlen);

/*
 * Serve the API on an already listening socket: nthreads workers, each
 * with its own connection to cfg->db (opened here; -1 with err).
 */
struct http_server *http_server_new(struct event_base *, SSL_CTX *,
	    const struct center *, int listen_fd, char *err, size_t errlen);
/* Stop accepting, finish the requests in flight, then leave the loop. */
void	 http_server_shutdown(struct http_server *);
void	 http_server_free(struct http_server *);
/* Re-read the fleet CRL (SIGHUP); the old one stays on failure. */
void	 http_server_reload(struct http_server *);

#endif
