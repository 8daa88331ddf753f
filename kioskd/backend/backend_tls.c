/*
 * The kiosk's TLS client context: TLS 1.3 only, the kiosk certificate and
 * key loaded once, the center CA as the only trust anchor (no system
 * store), the server name or address checked against the URL host, and
 * the last session ticket kept for resumption.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "backend_local.h"
#include "log.h"

struct backend_tls {
	SSL_CTX		*ctx;
	SSL_SESSION	*session;	/* last ticket, for session resumption */
	char		 session_host[256];
};

void
backend_tls_errstr(char *dst, size_t dstlen, unsigned long e)
{
	unsigned long	 more;

	if (e == 0)
		e = ERR_get_error();
	if (e == 0) {
		snprintf(dst, dstlen, "no OpenSSL error");
		return;
	}
	ERR_error_string_n(e, dst, dstlen);
	/* The first error names the cause; drop the rest. */
	while ((more = ERR_get_error()) != 0)
		continue;
}

/*
 * TLS 1.3 tickets arrive after the handshake: keep a copy of the newest.
 * A copy, because OpenSSL marks the connection's own session object not
 * resumable when that connection ends without close_notify, which is how
 * evhttp closes idle connections; RFC 8446 does not ask for that.
 */
static int
tls_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct backend_tls	*tls;
	const char		*host;
	SSL_SESSION		*copy;

	tls = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	host = SSL_get_app_data(ssl);
	if (tls == NULL || host == NULL || strlen(host) >=
	    sizeof(tls->session_host))
		return 0;
	if (!SSL_SESSION_is_resumable(sess) ||
	    (copy = SSL_SESSION_dup(sess)) == NULL)
		return 0;
	if (tls->session != NULL)
		SSL_SESSION_free(tls->session);
	tls->session = copy;
	snprintf(tls->session_host, sizeof(tls->session_host), "%s", host);
	return 0;	/* the original stays OpenSSL's */
}

static void
key_file_check(const char *path)
{
	struct stat	 st;

	if (stat(path, &st) == -1)
		return;	/* the load reports it */
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		log_warnx("backend: key file %s is accessible to group or "
		    "others (mode %04o)", path, (unsigned)(st.st_mode & 07777));
}

struct backend_tls *
backend_tls_new(const char *ca_file, const char *cert_file,
    const char *key_file, char *err, size_t errlen)
{
	struct backend_tls	*tls;
	char			 e[256];

	if (ca_file == NULL || cert_file == NULL || key_file == NULL) {
		snprintf(err, errlen, "ca, certificate and key files are "
		    "required");
		return NULL;
	}
	if ((tls = calloc(1, sizeof(*tls))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ERR_clear_error();
	if ((tls->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		backend_tls_errstr(e, sizeof(e), 0);
		snprintf(err, errlen, "SSL_CTX_new: %s", e);
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(tls->ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(tls->ctx, TLS1_3_VERSION) != 1) {
		backend_tls_errstr(e, sizeof(e), 0);
		snprintf(err, errlen, "cannot restrict to TLS 1.3: %s", e);
		goto fail;
	}
	/* The center CA file is the only trust anchor: no default paths. */
	if (SSL_CTX_load_verify_locations(tls->ctx, ca_file, NULL) != 1) {
		backend_tls_errstr(e, sizeof(e), 0);
		snprintf(err, errlen, "center CA %s: %s", ca_file, e);
		goto fail;
	}
	SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(tls->ctx, 4);
	if (SSL_CTX_use_certificate_chain_file(tls->ctx, cert_file) != 1) {
		backend_tls_errstr(e, sizeof(e), 0);
		snprintf(err, errlen, "kiosk certificate %s: %s", cert_file, e);
		goto fail;
	}
	key_file_check(key_file);
	if (SSL_CTX_use_PrivateKey_file(tls->ctx, key_file,
	    SSL_FILETYPE_PEM) != 1) {
		backend_tls_errstr(e, sizeof(e), 0);
		snprintf(err, errlen, "kiosk key %s: %s", key_file, e);
		goto fail;
	}
	if (SSL_CTX_check_private_key(tls->ctx) != 1) {
		backend_tls_errstr(e, sizeof(e), 0);
		snprintf(err, errlen, "kiosk key %s does not match %s: %s",
		    key_file, cert_file, e);
		goto fail;
	}
	SSL_CTX_set_mode(tls->ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(tls->ctx,
	    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(tls->ctx, tls_new_session);
	SSL_CTX_set_app_data(tls->ctx, tls);
	return tls;
fail:
	backend_tls_free(tls);
	return NULL;
}

void
backend_tls_free(struct backend_tls *tls)
{
	if (tls == NULL)
		return;
	if (tls->session != NULL)
		SSL_SESSION_free(tls->session);
	/* SSL objects still alive keep the context: cut the link back. */
	if (tls->ctx != NULL)
		SSL_CTX_set_app_data(tls->ctx, NULL);
	SSL_CTX_free(tls->ctx);	/* frees the key, cleansed by OpenSSL */
	free(tls);
}

SSL *
backend_tls_ssl_new(struct backend_tls *tls, const char *host, int host_is_ip,
    char *err, size_t errlen)
{
	SSL	*ssl;
	char	 e[256];

	ERR_clear_error();
	if ((ssl = SSL_new(tls->ctx)) == NULL) {
		backend_tls_errstr(e, sizeof(e), 0);
		snprintf(err, errlen, "SSL_new: %s", e);
		return NULL;
	}
	if (host_is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) != 1) {
			snprintf(err, errlen, "bad IP address for "
			    "verification");
			goto fail;
		}
	} else {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(ssl, host) != 1 ||
		    SSL_set_tlsext_host_name(ssl, host) != 1) {
			backend_tls_errstr(e, sizeof(e), 0);
			snprintf(err, errlen, "host name setup: %s", e);
			goto fail;
		}
	}
	/* host outlives every SSL: it belongs to the http client. */
	SSL_set_app_data(ssl, (void *)(uintptr_t)host);
	if (tls->session != NULL && strcmp(tls->session_host, host) == 0 &&
	    SSL_SESSION_is_resumable(tls->session)) {
		if (SSL_set_session(ssl, tls->session) != 1)
			ERR_clear_error();	/* a full handshake then */
	}
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

int
backend_tls_check(SSL *ssl, char *err, size_t errlen)
{
	long	 vr;

	if (SSL_version(ssl) != TLS1_3_VERSION) {
		snprintf(err, errlen, "negotiated %s, not TLS 1.3",
		    SSL_get_version(ssl));
		return -1;
	}
	if (SSL_get0_peer_certificate(ssl) == NULL) {
		snprintf(err, errlen, "the center sent no certificate");
		return -1;
	}
	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(err, errlen, "center certificate: %s",
		    X509_verify_cert_error_string(vr));
		return -1;
	}
	return 0;
}
