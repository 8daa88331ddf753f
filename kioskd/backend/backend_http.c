/*
 * A minimal HTTP/1.1 client over one kept-alive TLS connection, on the
 * worker's libevent loop.  Not libevent's evhttp client: evhttp reuses one
 * bufferevent (and so one SSL object) across reconnects, which breaks TLS
 * after the first dropped connection (libevent issue #975), and it hides
 * whether a failed request ever reached the wire, which the retry policy
 * needs.  Here each connection gets a fresh socket, SSL and bufferevent;
 * TCP connect and TLS handshake are separate phases so their failures are
 * told apart; a request is marked "sent" the moment its bytes are queued.
 *
 * One request is on the wire at a time (no pipelining); the others wait
 * in a FIFO.  Every request has a deadline from submission.  A connection
 * failure re-sends the request only if it was never sent or is
 * idempotent; a 503 answer (the center busy or restarting) re-sends it
 * only if it is idempotent.  An idle connection is watched for EOF so a close by the
 * center is seen before the connection is reused, and one idle longer
 * than idle_max is replaced rather than trusted.
 *
 * Reentrancy: user callbacks may submit, cancel or free.  Every event
 * callback brackets its work with http_enter()/http_leave(); a free during
 * a callback is deferred to the outermost http_leave().
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "backend_local.h"
#include "log.h"
#include "util.h"

#define HTTP_LINE_MAX		8192
#define HTTP_HEADERS_MAX	(32 * 1024)
#define HTTP_NHEADERS_MAX	64
#define HTTP_BACKOFF_MS		100	/* first retry; doubles */
#define HTTP_HOST_MAX		253

enum conn_state {
	C_CLOSED,
	C_RESOLVING,
	C_CONNECTING,	/* TCP */
	C_HANDSHAKE,	/* TLS */
	C_IDLE,
	C_BUSY		/* cur's request written, answer awaited */
};

static const char *const conn_state_names[] = {
	"closed", "resolving", "connecting", "handshake", "idle", "busy"
};

enum resp_state {
	R_STATUS,
	R_HEADERS,
	R_BODY_LEN,
	R_BODY_EOF,
	R_CHUNK_SIZE,
	R_CHUNK_DATA,
	R_CHUNK_CRLF,
	R_TRAILERS,
	R_DONE
};

struct http_req {
	TAILQ_ENTRY(http_req)	 entry;
	struct backend_http	*h;
	uint64_t		 id;
	char			 method[8];
	char			*path;
	char			*body;
	size_t			 bodylen;
	int			 idempotent;
	int			 attempts;	/* times written to a connection */
	int			 sent;		/* ever reached the wire */
	int			 cancelled;
	struct event		*deadline;
	struct timeval		 t_submit;
	http_cb			 cb;
	void			*arg;
};
TAILQ_HEAD(http_reqs, http_req);

struct backend_http {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct backend_tls	*tls;
	struct http_params	 p;
	char			 host[HTTP_HOST_MAX + 1];
	char			 hosthdr[HTTP_HOST_MAX + 16];
	char			 port[8];
	int			 host_is_ip;
	struct sockaddr_storage	 ipaddr;	/* host_is_ip */
	int			 ipaddrlen;

	struct http_reqs	 queue;		/* head is cur when cur != NULL */
	struct http_req		*cur;
	uint64_t		 next_id;
	struct event		*kick;		/* deferred dispatch */
	struct event		*backoff;
	int			 in_backoff;

	enum conn_state		 state;
	struct bufferevent	*bev;
	struct evdns_getaddrinfo_request *dnsreq;
	struct evutil_addrinfo	*ai, *ai_cur;
	struct timeval		 idle_since;
	int			 conn_requests;	/* on this connection */

	enum resp_state		 rs;
	int			 status;
	int			 http10;
	int			 close_after;
	int			 json;
	int			 chunked;
	long long		 clen;		/* -1: none */
	size_t			 chunk_left;
	size_t			 hdr_bytes;
	int			 nhdr;
	struct evbuffer		*rbody;

	int			 depth;
	int			 dying;
	struct backend_stats	 stats;
};

static void	http_kick(struct backend_http *);
static void	conn_close(struct backend_http *);
static void	conn_failed(struct backend_http *, enum backend_errkind,
		    const char *);
static void	connect_next(struct backend_http *);
static void	http_free_now(struct backend_http *);

static void
http_enter(struct backend_http *h)
{
	h->depth++;
}

static void
http_leave(struct backend_http *h)
{
	if (--h->depth == 0 && h->dying)
		http_free_now(h);
}

static void
set_state(struct backend_http *h, enum conn_state s)
{
	if (h->state != s)
		log_debug("backend: connection %s -> %s",
		    conn_state_names[h->state], conn_state_names[s]);
	h->state = s;
}

static long
elapsed_ms(const struct timeval *since)
{
	struct timeval	 now, d;

	evutil_gettimeofday(&now, NULL);
	evutil_timersub(&now, since, &d);
	return d.tv_sec * 1000L + d.tv_usec / 1000;
}

static void
req_free(struct http_req *r)
{
	if (r->deadline != NULL)
		event_free(r->deadline);
	free(r->path);
	if (r->body != NULL)
		explicit_bzero(r->body, r->bodylen);	/* personal data */
	free(r->body);
	free(r);
}

/*
 * Take r out of the client and run its callback.  The callback may free
 * the client; callers hold http_enter() so that is deferred.
 */
static void
req_finish(struct http_req *r, struct backend_error *err,
    const struct http_response *res)
{
	struct backend_http	*h = r->h;

	if (h->cur == r)
		h->cur = NULL;
	TAILQ_REMOVE(&h->queue, r, entry);
	err->maybe_processed = r->sent;
	r->cb(err, res, r->cancelled, r->arg);
	req_free(r);
	http_kick(h);
}

static void
req_fail(struct http_req *r, enum backend_errkind kind, const char *msg)
{
	struct backend_error	 err;

	memset(&err, 0, sizeof(err));
	backend_seterr(&err, kind, "%s %s: %s", r->method, r->path, msg);
	req_finish(r, &err, NULL);
}

static void
resp_reset(struct backend_http *h)
{
	h->rs = R_STATUS;
	h->status = 0;
	h->http10 = 0;
	h->close_after = 0;
	h->json = 0;
	h->chunked = 0;
	h->clen = -1;
	h->chunk_left = 0;
	h->hdr_bytes = 0;
	h->nhdr = 0;
	if (h->rbody != NULL)
		evbuffer_drain(h->rbody, evbuffer_get_length(h->rbody));
}

/* ---- URL ---- */

static int
parse_url(struct backend_http *h, const char *url, char *err, size_t errlen)
{
	const char	*p, *hs, *he, *ps;
	size_t		 hl;
	long long	 port = 443;
	const char	*errstr;
	char		 portbuf[8];
	struct in6_addr	 a6;
	struct in_addr	 a4;

	if (url == NULL || strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "url must start with https://");
		return -1;
	}
	p = url + 8;
	if (*p == '[') {
		hs = p + 1;
		if ((he = strchr(hs, ']')) == NULL) {
			snprintf(err, errlen, "url: unterminated [IPv6]");
			return -1;
		}
		ps = he + 1;
	} else {
		hs = p;
		he = hs + strcspn(hs, ":/");
		ps = he;
	}
	hl = (size_t)(he - hs);
	if (hl == 0 || hl > HTTP_HOST_MAX) {
		snprintf(err, errlen, "url: bad host length");
		return -1;
	}
	memcpy(h->host, hs, hl);
	h->host[hl] = '\0';
	if (*ps == ':') {
		ps++;
		hl = strcspn(ps, "/");
		if (hl == 0 || hl >= sizeof(portbuf)) {
			snprintf(err, errlen, "url: bad port");
			return -1;
		}
		memcpy(portbuf, ps, hl);
		portbuf[hl] = '\0';
		port = parse_num(portbuf, 1, 65535, &errstr);
		if (errstr != NULL) {
			snprintf(err, errlen, "url: port %s", errstr);
			return -1;
		}
		ps += hl;
	}
	if (!(*ps == '\0' || strcmp(ps, "/") == 0)) {
		snprintf(err, errlen, "url: no path allowed after the host");
		return -1;
	}
	snprintf(h->port, sizeof(h->port), "%lld", port);

	memset(&h->ipaddr, 0, sizeof(h->ipaddr));
	if (inet_pton(AF_INET6, h->host, &a6) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&h->ipaddr;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = a6;
		s6->sin6_port = htons((uint16_t)port);
		h->ipaddrlen = sizeof(*s6);
		h->host_is_ip = 1;
		snprintf(h->hosthdr, sizeof(h->hosthdr), "[%s]:%lld", h->host,
		    port);
	} else if (inet_pton(AF_INET, h->host, &a4) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&h->ipaddr;

		s4->sin_family = AF_INET;
		s4->sin_addr = a4;
		s4->sin_port = htons((uint16_t)port);
		h->ipaddrlen = sizeof(*s4);
		h->host_is_ip = 1;
		snprintf(h->hosthdr, sizeof(h->hosthdr), "%s:%lld", h->host,
		    port);
	} else {
		if (p[0] == '[' || strspn(h->host, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(h->host)) {
			snprintf(err, errlen, "url: bad host name");
			return -1;
		}
		snprintf(h->hosthdr, sizeof(h->hosthdr), "%s:%lld", h->host,
		    port);
	}
	return 0;
}

/* ---- life cycle ---- */

static void kick_cb(evutil_socket_t, short, void *);
static void backoff_cb(evutil_socket_t, short, void *);

struct backend_http *
backend_http_new(struct event_base *base, struct backend_tls *tls,
    const struct http_params *p, char *err, size_t errlen)
{
	struct backend_http	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	h->tls = tls;
	h->p = *p;
	h->p.url = NULL;
	h->next_id = 1;
	h->clen = -1;
	TAILQ_INIT(&h->queue);
	if (parse_url(h, p->url, err, errlen) == -1)
		goto fail;
	if ((h->kick = event_new(base, -1, 0, kick_cb, h)) == NULL ||
	    (h->backoff = evtimer_new(base, backoff_cb, h)) == NULL ||
	    (h->rbody = evbuffer_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!h->host_is_ip) {
		/* Asynchronous resolution: never block the loop on DNS. */
		if ((h->dns = evdns_base_new(base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL) {
			snprintf(err, errlen, "cannot set up the DNS resolver");
			goto fail;
		}
	}
	return h;
fail:
	http_free_now(h);
	return NULL;
}

static void
http_free_now(struct backend_http *h)
{
	struct http_req	*r;

	conn_close(h);
	while ((r = TAILQ_FIRST(&h->queue)) != NULL) {
		TAILQ_REMOVE(&h->queue, r, entry);
		req_free(r);
	}
	if (h->kick != NULL)
		event_free(h->kick);
	if (h->backoff != NULL)
		event_free(h->backoff);
	if (h->rbody != NULL)
		evbuffer_free(h->rbody);
	if (h->dns != NULL)
		evdns_base_free(h->dns, 0);
	free(h);
}

void
backend_http_free(struct backend_http *h)
{
	struct http_req	*r;
	struct backend_error err;

	if (h == NULL || h->dying)
		return;
	h->dying = 1;
	http_enter(h);
	/* Tell the owners; their callbacks must not resubmit (dying). */
	while ((r = TAILQ_FIRST(&h->queue)) != NULL) {
		memset(&err, 0, sizeof(err));
		backend_seterr(&err, BACKEND_E_SHUTDOWN, "%s %s: backend shut "
		    "down", r->method, r->path);
		if (h->cur == r)
			h->cur = NULL;
		TAILQ_REMOVE(&h->queue, r, entry);
		err.maybe_processed = r->sent;
		r->cb(&err, NULL, r->cancelled, r->arg);
		req_free(r);
	}
	http_leave(h);
}

void
backend_http_stats(const struct backend_http *h, struct backend_stats *st)
{
	*st = h->stats;
}

/* ---- connection ---- */

static void
conn_close(struct backend_http *h)
{
	if (h->dnsreq != NULL) {
		struct evdns_getaddrinfo_request *q = h->dnsreq;

		h->dnsreq = NULL;
		evdns_getaddrinfo_cancel(q);	/* its callback sees CANCEL */
	}
	if (h->bev != NULL) {
		bufferevent_free(h->bev);
		h->bev = NULL;
	}
	if (h->ai != NULL) {
		evutil_freeaddrinfo(h->ai);
		h->ai = NULL;
		h->ai_cur = NULL;
	}
	resp_reset(h);
	h->conn_requests = 0;
	set_state(h, C_CLOSED);
}

/* The SSL error queue of the bufferevent, as text; 1 if it was a TLS error
   (alert, bad record), 0 if only an unexpected EOF or nothing. */
static int
bev_ssl_error(struct bufferevent *bev, char *dst, size_t dstlen)
{
	unsigned long	 e, first = 0;
	int		 tls = 0;

	/* libevent queues SSL_get_error()'s small code (library 0) ahead
	   of the OpenSSL error queue: only the latter names a cause. */
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (ERR_GET_LIB(e) == 0)
			continue;
		if (first == 0)
			first = e;
		if (!(ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
			tls = 1;
	}
	if (first != 0)
		ERR_error_string_n(first, dst, dstlen);
	else if (dstlen > 0)
		dst[0] = '\0';
	return tls;
}

static void
write_request(struct backend_http *h, struct http_req *r)
{
	struct evbuffer	*out = bufferevent_get_output(h->bev);
	int		 rc;

	resp_reset(h);
	rc = evbuffer_add_printf(out, "%s %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "User-Agent: kioskd/" PACKAGE_VERSION "\r\n"
	    "Accept: application/json\r\n",
	    r->method, r->path, h->hosthdr);
	if (rc >= 0 && r->body != NULL)
		rc = evbuffer_add_printf(out, "Content-Type: application/json"
		    "\r\nContent-Length: %zu\r\n", r->bodylen);
	if (rc >= 0)
		rc = evbuffer_add(out, "\r\n", 2);
	if (rc >= 0 && r->body != NULL)
		rc = evbuffer_add(out, r->body, r->bodylen);
	/*
	 * A body that did not fit the headers' chain is a chain of its own,
	 * and bufferevent_openssl writes each chain as a TLS record with a
	 * write() of its own; the write waits for the loop, so one chain
	 * now is one record.
	 */
	if (rc >= 0 && evbuffer_pullup(out, -1) == NULL &&
	    evbuffer_get_length(out) > 0)
		rc = -1;
	r->sent = 1;	/* from here the center may have seen it */
	r->attempts++;
	h->stats.requests++;
	if (r->attempts > 1)
		h->stats.retries++;
	h->conn_requests++;
	set_state(h, C_BUSY);
	if (rc < 0) {
		conn_failed(h, BACKEND_E_INTERNAL, "cannot queue the request");
		return;
	}
	log_debug("backend: %s %s (attempt %d, request %d on connection)",
	    r->method, r->path, r->attempts, h->conn_requests);
}

static void conn_read_cb(struct bufferevent *, void *);
static void conn_event_cb(struct bufferevent *, short, void *);
static void tcp_event_cb(struct bufferevent *, short, void *);

static void
start_tls(struct backend_http *h)
{
	struct bufferevent	*bev;
	evutil_socket_t		 fd;
	SSL			*ssl;
	char			 err[256];
	int			 one = 1;

	/* The plain bufferevent owns (and closes) its socket: keep a copy. */
	fd = fcntl(bufferevent_getfd(h->bev), F_DUPFD_CLOEXEC, 0);
	bufferevent_free(h->bev);
	h->bev = NULL;
	if (fd == -1) {
		conn_failed(h, BACKEND_E_CONNECT, strerror(errno));
		return;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_warn("backend: TCP_NODELAY");
	if ((ssl = backend_tls_ssl_new(h->tls, h->host, h->host_is_ip, err,
	    sizeof(err))) == NULL) {
		evutil_closesocket(fd);
		conn_failed(h, BACKEND_E_TLS, err);
		return;
	}
	bev = bufferevent_openssl_socket_new(h->base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		conn_failed(h, BACKEND_E_INTERNAL, "cannot create the TLS "
		    "bufferevent");
		return;
	}
	h->bev = bev;
	set_state(h, C_HANDSHAKE);
	bufferevent_setcb(bev, conn_read_cb, NULL, conn_event_cb, h);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) == -1)
		conn_failed(h, BACKEND_E_INTERNAL, "cannot enable the "
		    "connection");
}

static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct backend_http	*h = arg;
	char			 msg[512];
	int			 e;

	http_enter(h);
	if (what & BEV_EVENT_CONNECTED) {
		h->stats.connects++;
		start_tls(h);
	} else {
		e = EVUTIL_SOCKET_ERROR();
		snprintf(msg, sizeof(msg), "connect to %s port %s: %s",
		    h->host, h->port, (what & BEV_EVENT_TIMEOUT) ?
		    "timed out" : evutil_socket_error_to_string(e));
		log_debug("backend: %s", msg);
		bufferevent_free(h->bev);
		h->bev = NULL;
		if (h->ai_cur != NULL && h->ai_cur->ai_next != NULL) {
			h->ai_cur = h->ai_cur->ai_next;
			connect_next(h);
		} else
			conn_failed(h, BACKEND_E_CONNECT, msg);
	}
	http_leave(h);
}

/* Connect to h->ai_cur (or the literal address). */
static void
connect_next(struct backend_http *h)
{
	const struct sockaddr	*sa;
	int			 salen;
	char			 msg[512];

	for (;;) {
		if (h->host_is_ip) {
			sa = (const struct sockaddr *)&h->ipaddr;
			salen = h->ipaddrlen;
		} else {
			sa = h->ai_cur->ai_addr;
			salen = (int)h->ai_cur->ai_addrlen;
		}
		if ((h->bev = bufferevent_socket_new(h->base, -1,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
			conn_failed(h, BACKEND_E_INTERNAL, "out of memory");
			return;
		}
		bufferevent_setcb(h->bev, NULL, NULL, tcp_event_cb, h);
		set_state(h, C_CONNECTING);
		if (bufferevent_socket_connect(h->bev, (struct sockaddr *)
		    (uintptr_t)sa, salen) == 0)
			return;
		snprintf(msg, sizeof(msg), "connect to %s port %s: %s",
		    h->host, h->port, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
		bufferevent_free(h->bev);
		h->bev = NULL;
		if (h->host_is_ip || h->ai_cur->ai_next == NULL) {
			conn_failed(h, BACKEND_E_CONNECT, msg);
			return;
		}
		h->ai_cur = h->ai_cur->ai_next;
	}
}

static void
dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct backend_http	*h = arg;
	char			 msg[512];

	if (result == EVUTIL_EAI_CANCEL) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;		/* conn_close() is tearing down */
	}
	http_enter(h);
	h->dnsreq = NULL;
	if (result != 0 || res == NULL) {
		snprintf(msg, sizeof(msg), "cannot resolve %s: %s", h->host,
		    evutil_gai_strerror(result));
		if (res != NULL)
			evutil_freeaddrinfo(res);
		conn_failed(h, BACKEND_E_CONNECT, msg);
	} else {
		h->ai = h->ai_cur = res;
		connect_next(h);
	}
	http_leave(h);
}

static void
conn_open(struct backend_http *h)
{
	struct evutil_addrinfo			 hints;
	struct evdns_getaddrinfo_request	*q;

	if (h->host_is_ip) {
		connect_next(h);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	set_state(h, C_RESOLVING);
	/* May answer at once (hosts file) and run dns_cb before returning. */
	q = evdns_getaddrinfo(h->dns, h->host, h->port, &hints, dns_cb, h);
	if (q != NULL && h->state == C_RESOLVING)
		h->dnsreq = q;
}

/*
 * The backoff before r's next attempt, or -1 when its attempts or its
 * time are used up.
 */
static long
retry_delay(const struct backend_http *h, const struct http_req *r)
{
	long	 delay;

	if (r->attempts >= h->p.max_attempts)
		return -1;
	delay = HTTP_BACKOFF_MS << (r->attempts > 0 ? r->attempts - 1 : 0);
	if (elapsed_ms(&r->t_submit) + delay >= h->p.timeout_ms)
		return -1;
	return delay;
}

/* r (cur) stays at the head of the queue and goes again after delay. */
static void
retry_after(struct backend_http *h, struct http_req *r, long delay,
    const char *why)
{
	struct timeval	 tv;

	log_info("backend: %s %s: %s; trying again in %ld ms", r->method,
	    r->path, why, delay);
	h->cur = NULL;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	h->in_backoff = 1;
	evtimer_add(h->backoff, &tv);
}

/*
 * The connection is gone: close it and decide for the request in hand.
 * Never sent, or idempotent with attempts left: back to the queue after a
 * backoff.  Otherwise it fails with kind.
 */
static void
conn_failed(struct backend_http *h, enum backend_errkind kind,
    const char *msg)
{
	struct http_req	*r = h->cur;
	long		 delay;

	conn_close(h);
	if (r == NULL)
		return;
	/* A connect failure is retried as often as a lost answer. */
	if (kind == BACKEND_E_CONNECT && !r->sent)
		r->attempts++;
	if ((kind != BACKEND_E_IO && kind != BACKEND_E_CONNECT) ||
	    (r->sent && !r->idempotent) || (delay = retry_delay(h, r)) < 0) {
		req_fail(r, kind, msg);
		return;
	}
	retry_after(h, r, delay, msg);
}

static void
backoff_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct backend_http	*h = arg;

	h->in_backoff = 0;
	http_kick(h);
}

/* ---- response parsing ---- */

/* Does the comma-separated header value contain token? */
static int
has_token(const char *v, const char *token)
{
	size_t	 tl = strlen(token), n;

	while (*v != '\0') {
		v += strspn(v, " \t,");
		n = strcspn(v, " \t,");
		if (n == tl && strncasecmp(v, token, tl) == 0)
			return 1;
		v += n;
	}
	return 0;
}

/* -1 with msg on a protocol error. */
static int
parse_status(struct backend_http *h, const char *line, char *msg,
    size_t msglen)
{
	const char	*errstr;
	char		 code[4];

	if (strlen(line) < 12) {
		snprintf(msg, msglen, "short HTTP status line");
		return -1;
	}
	if (strncmp(line, "HTTP/1.1 ", 9) == 0)
		h->http10 = 0;
	else if (strncmp(line, "HTTP/1.0 ", 9) == 0)
		h->http10 = 1;
	else {
		snprintf(msg, msglen, "bad HTTP status line");
		return -1;
	}
	memcpy(code, line + 9, 3);
	code[3] = '\0';
	if (strspn(code, "0123456789") != 3 || (line[12] != ' ' &&
	    line[12] != '\0')) {
		snprintf(msg, msglen, "bad HTTP status code");
		return -1;
	}
	h->status = (int)parse_num(code, 100, 599, &errstr);
	if (errstr != NULL) {
		snprintf(msg, msglen, "HTTP status code %s", errstr);
		return -1;
	}
	return 0;
}

static int
parse_header(struct backend_http *h, char *line, char *msg, size_t msglen)
{
	char		*colon, *v, *e;
	long long	 n;
	const char	*errstr;

	if (++h->nhdr > HTTP_NHEADERS_MAX) {
		snprintf(msg, msglen, "too many HTTP headers");
		return -1;
	}
	if (line[0] == ' ' || line[0] == '\t' ||
	    (colon = strchr(line, ':')) == NULL || colon == line) {
		snprintf(msg, msglen, "malformed HTTP header");
		return -1;
	}
	*colon = '\0';
	v = colon + 1;
	v += strspn(v, " \t");
	for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
		continue;
	*e = '\0';
	if (strcasecmp(line, "Content-Length") == 0) {
		if (strspn(v, "0123456789") != strlen(v) || *v == '\0' ||
		    strlen(v) > 12) {
			snprintf(msg, msglen, "bad Content-Length");
			return -1;
		}
		n = parse_num(v, 0, (long long)h->p.max_response, &errstr);
		if (errstr != NULL) {
			snprintf(msg, msglen, "response body of %s bytes is "
			    "over the limit of %zu", v, h->p.max_response);
			return -1;
		}
		if (h->clen != -1 && h->clen != n) {
			snprintf(msg, msglen, "conflicting Content-Length");
			return -1;
		}
		h->clen = n;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		if (strcasecmp(v, "chunked") != 0) {
			snprintf(msg, msglen, "unsupported Transfer-Encoding");
			return -1;
		}
		h->chunked = 1;
	} else if (strcasecmp(line, "Connection") == 0) {
		if (has_token(v, "close"))
			h->close_after = 1;
	} else if (strcasecmp(line, "Content-Type") == 0) {
		n = (long long)strcspn(v, "; \t");
		h->json = (n == 16 && strncasecmp(v, "application/json",
		    16) == 0);
	}
	return 0;
}

static int
body_add(struct backend_http *h, struct evbuffer *in, size_t n, char *msg,
    size_t msglen)
{
	if (evbuffer_get_length(h->rbody) + n > h->p.max_response) {
		snprintf(msg, msglen, "response body over the limit of %zu "
		    "bytes", h->p.max_response);
		return -1;
	}
	if (evbuffer_remove_buffer(in, h->rbody, n) != (int)n) {
		snprintf(msg, msglen, "cannot buffer the response");
		return -1;
	}
	return 0;
}

/* Pull the next line; 0 none yet, 1 line, -1 too long (msg set). */
static int
get_line(struct backend_http *h, struct evbuffer *in, char **line,
    char *msg, size_t msglen)
{
	size_t	 n;

	*line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	if (*line == NULL) {
		if (evbuffer_get_length(in) > HTTP_LINE_MAX) {
			snprintf(msg, msglen, "HTTP line too long");
			return -1;
		}
		return 0;
	}
	if (n > HTTP_LINE_MAX || strlen(*line) != n) {
		free(*line);
		*line = NULL;
		snprintf(msg, msglen, "HTTP line too long or with NUL");
		return -1;
	}
	h->hdr_bytes += n + 2;
	return 1;
}

static int
headers_done(struct backend_http *h, char *msg, size_t msglen)
{
	if (h->status >= 100 && h->status < 200) {
		if (h->status == 101) {
			snprintf(msg, msglen, "unexpected protocol switch");
			return -1;
		}
		resp_reset(h);	/* informational: the real answer follows */
		return 0;
	}
	if (h->http10)
		h->close_after = 1;
	if (h->status == 204 || h->status == 304)
		h->rs = R_DONE;
	else if (h->chunked)
		h->rs = R_CHUNK_SIZE;
	else if (h->clen >= 0)
		h->rs = h->clen == 0 ? R_DONE : R_BODY_LEN;
	else {
		h->rs = R_BODY_EOF;
		h->close_after = 1;
	}
	return 0;
}

/* Advance the parser; -1 protocol error (msg set). */
static int
resp_parse(struct backend_http *h, struct evbuffer *in, char *msg,
    size_t msglen)
{
	char		*line = NULL, *end;
	size_t		 n;
	unsigned long long sz;
	int		 rc;

	while (h->rs != R_DONE) {
		switch (h->rs) {
		case R_STATUS:
		case R_HEADERS:
		case R_CHUNK_SIZE:
		case R_CHUNK_CRLF:
		case R_TRAILERS:
			if ((rc = get_line(h, in, &line, msg, msglen)) <= 0)
				return rc;
			if (h->hdr_bytes > HTTP_HEADERS_MAX) {
				snprintf(msg, msglen, "HTTP headers too long");
				goto bad;
			}
			break;
		default:
			break;
		}
		switch (h->rs) {
		case R_STATUS:
			rc = parse_status(h, line, msg, msglen);
			free(line);
			if (rc == -1)
				return -1;
			h->rs = R_HEADERS;
			break;
		case R_HEADERS:
			if (line[0] == '\0') {
				free(line);
				if (h->chunked && h->clen != -1) {
					snprintf(msg, msglen, "both chunked and "
					    "Content-Length");
					return -1;
				}
				h->rs = R_DONE;	/* headers_done decides */
				if (headers_done(h, msg, msglen) == -1)
					return -1;
				break;
			}
			rc = parse_header(h, line, msg, msglen);
			free(line);
			if (rc == -1)
				return -1;
			break;
		case R_CHUNK_SIZE:
			line[strcspn(line, ";")] = '\0';
			n = strlen(line);
			while (n > 0 && (line[n - 1] == ' ' ||
			    line[n - 1] == '\t'))
				line[--n] = '\0';
			errno = 0;
			sz = strtoull(line, &end, 16);
			if (n == 0 || n > 8 || strspn(line,
			    "0123456789abcdefABCDEF") != n || *end != '\0' ||
			    errno != 0 || sz > h->p.max_response) {
				snprintf(msg, msglen, "bad or oversized chunk");
				goto bad;
			}
			free(line);
			h->chunk_left = (size_t)sz;
			h->rs = sz == 0 ? R_TRAILERS : R_CHUNK_DATA;
			break;
		case R_CHUNK_DATA:
			n = evbuffer_get_length(in);
			if (n == 0)
				return 0;
			if (n > h->chunk_left)
				n = h->chunk_left;
			if (body_add(h, in, n, msg, msglen) == -1)
				return -1;
			h->chunk_left -= n;
			if (h->chunk_left == 0)
				h->rs = R_CHUNK_CRLF;
			break;
		case R_CHUNK_CRLF:
			rc = line[0] == '\0';
			free(line);
			if (!rc) {
				snprintf(msg, msglen, "chunk not followed by "
				    "CRLF");
				return -1;
			}
			h->rs = R_CHUNK_SIZE;
			break;
		case R_TRAILERS:
			rc = line[0] == '\0';
			free(line);
			if (rc)
				h->rs = R_DONE;
			else if (++h->nhdr > HTTP_NHEADERS_MAX) {
				snprintf(msg, msglen, "too many trailers");
				return -1;
			}
			break;
		case R_BODY_LEN:
			n = evbuffer_get_length(in);
			if (n == 0)
				return 0;
			if (n > (size_t)h->clen -
			    evbuffer_get_length(h->rbody))
				n = (size_t)h->clen -
				    evbuffer_get_length(h->rbody);
			if (body_add(h, in, n, msg, msglen) == -1)
				return -1;
			if (evbuffer_get_length(h->rbody) == (size_t)h->clen)
				h->rs = R_DONE;
			break;
		case R_BODY_EOF:
			n = evbuffer_get_length(in);
			if (n == 0)
				return 0;
			if (body_add(h, in, n, msg, msglen) == -1)
				return -1;
			return 0;
		case R_DONE:
			break;
		}
		line = NULL;
	}
	return 1;
bad:
	free(line);
	return -1;
}

/* A complete answer for cur: hand it over, keep or close the connection. */
static void
resp_complete(struct backend_http *h)
{
	struct http_req		*r = h->cur;
	struct http_response	 res;
	struct backend_error	 err;
	size_t			 len;
	uint8_t			*body;
	long			 delay;
	int			 keep;

	keep = !h->close_after && h->state == C_BUSY &&
	    evbuffer_get_length(bufferevent_get_input(h->bev)) == 0;
	len = evbuffer_get_length(h->rbody);
	/* NUL-terminate for the JSON parser's error positions and tests. */
	if (evbuffer_add(h->rbody, "", 1) == -1 ||
	    (body = evbuffer_pullup(h->rbody, -1)) == NULL) {
		conn_close(h);
		if (r != NULL)
			req_fail(r, BACKEND_E_INTERNAL, "out of memory");
		return;
	}
	if (r == NULL) {	/* cannot happen: an answer without request */
		conn_close(h);
		return;
	}
	/*
	 * 503: the center did not do it now (busy, restarting).  An
	 * idempotent request goes again after a backoff, within its
	 * attempts and time; the others get the answer.
	 */
	if (h->status == 503 && r->idempotent && !r->cancelled &&
	    (delay = retry_delay(h, r)) >= 0) {
		if (keep) {
			set_state(h, C_IDLE);
			evutil_gettimeofday(&h->idle_since, NULL);
			resp_reset(h);
		} else
			conn_close(h);
		retry_after(h, r, delay, "the center answered 503");
		return;
	}
	memset(&res, 0, sizeof(res));
	res.status = h->status;
	res.json = h->json;
	res.body = body;
	res.len = len;
	res.rtt_ms = (int)elapsed_ms(&r->t_submit);
	if (keep) {
		set_state(h, C_IDLE);
		evutil_gettimeofday(&h->idle_since, NULL);
	}
	memset(&err, 0, sizeof(err));
	err.kind = BACKEND_OK;
	err.http_status = h->status;
	/* The body lives in rbody until the next response: after the
	   callback.  A close would drain it, so close after. */
	http_enter(h);
	if (h->cur == r)
		h->cur = NULL;
	TAILQ_REMOVE(&h->queue, r, entry);
	err.maybe_processed = 1;
	r->cb(&err, &res, r->cancelled, r->arg);
	req_free(r);
	explicit_bzero(body, len);	/* documents carry personal data */
	if (!h->dying) {
		if (!keep && h->state == C_BUSY)
			conn_close(h);
		else if (keep)
			resp_reset(h);
		http_kick(h);
	}
	http_leave(h);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct backend_http	*h = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			 msg[256];
	int			 rc;

	http_enter(h);
	if (h->state != C_BUSY) {
		/* Nothing is expected on an idle connection: drop it. */
		if (evbuffer_get_length(in) > 0) {
			log_info("backend: unexpected data from the center on "
			    "an idle connection; closing it");
			conn_close(h);
		}
		goto out;
	}
	rc = resp_parse(h, in, msg, sizeof(msg));
	if (rc == -1) {
		struct http_req *r = h->cur;

		conn_close(h);
		if (r != NULL)
			req_fail(r, BACKEND_E_PROTOCOL, msg);
	} else if (rc == 1)
		resp_complete(h);
out:
	http_leave(h);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct backend_http	*h = arg;
	char			 msg[512], e[200];
	int			 tls;

	http_enter(h);
	if (what & BEV_EVENT_CONNECTED) {
		if (backend_tls_check(bufferevent_openssl_get_ssl(bev), e,
		    sizeof(e)) == -1) {
			conn_failed(h, BACKEND_E_TLS, e);
			goto out;
		}
		h->stats.handshakes++;
		if (SSL_session_reused(bufferevent_openssl_get_ssl(bev)))
			h->stats.resumed++;
		set_state(h, C_IDLE);
		evutil_gettimeofday(&h->idle_since, NULL);
		/* Opened for cur: send at once, so a TLS alert the center
		   sends after its check of our certificate is this
		   request's error, not a silent reconnect. */
		if (h->cur != NULL)
			write_request(h, h->cur);
		else
			http_kick(h);
		goto out;
	}
	tls = bev_ssl_error(bev, e, sizeof(e));
	if (h->state == C_HANDSHAKE) {
		SSL	*ssl = bufferevent_openssl_get_ssl(bev);
		long	 vr = ssl != NULL ? SSL_get_verify_result(ssl) :
		    X509_V_OK;

		if (vr != X509_V_OK)
			snprintf(msg, sizeof(msg), "TLS handshake with %s: "
			    "center certificate: %s", h->host,
			    X509_verify_cert_error_string(vr));
		else
			snprintf(msg, sizeof(msg), "TLS handshake with %s: %s",
			    h->host, e[0] != '\0' ? e :
			    "connection closed by the center");
		conn_failed(h, BACKEND_E_TLS, msg);
		goto out;
	}
	if (h->state == C_BUSY && h->rs == R_BODY_EOF &&
	    (what & BEV_EVENT_EOF) && !tls) {
		/* A clean close (close_notify) ends an unframed body. */
		h->rs = R_DONE;
		resp_complete(h);
		goto out;
	}
	if (h->state != C_BUSY) {
		log_debug("backend: idle connection closed (%s)",
		    e[0] != '\0' ? e : "EOF");
		conn_close(h);
		goto out;
	}
	if (what & BEV_EVENT_EOF)
		snprintf(msg, sizeof(msg), "connection closed by the center");
	else if (e[0] != '\0')
		snprintf(msg, sizeof(msg), "%s: %s", tls ? "TLS error (the "
		    "center may have refused this kiosk's certificate)" :
		    "connection lost", e);
	else
		snprintf(msg, sizeof(msg), "connection lost: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	conn_failed(h, tls ? BACKEND_E_TLS : BACKEND_E_IO, msg);
out:
	http_leave(h);
}

/* ---- dispatch ---- */

static void
http_kick(struct backend_http *h)
{
	if (!h->dying)
		event_active(h->kick, EV_TIMEOUT, 1);
}

static void
kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct backend_http	*h = arg;
	struct http_req		*r;

	http_enter(h);
	if (h->cur != NULL || h->in_backoff || h->dying)
		goto out;
	if ((r = TAILQ_FIRST(&h->queue)) == NULL)
		goto out;
	h->cur = r;
	if (h->state == C_IDLE &&
	    elapsed_ms(&h->idle_since) >= h->p.idle_max_ms) {
		log_debug("backend: idle connection too old; reconnecting");
		conn_close(h);
	}
	switch (h->state) {
	case C_CLOSED:
		conn_open(h);
		break;
	case C_IDLE:
		write_request(h, r);
		break;
	default:
		break;	/* a connection is on its way: CONNECTED kicks */
	}
out:
	http_leave(h);
}

static void
deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_req		*r = arg;
	struct backend_http	*h = r->h;
	char			 msg[64];

	http_enter(h);
	snprintf(msg, sizeof(msg), "no answer within %d ms", h->p.timeout_ms);
	if (h->cur == r) {
		/* The answer may still come: this connection is unusable. */
		conn_close(h);
		if (h->in_backoff) {
			evtimer_del(h->backoff);
			h->in_backoff = 0;
		}
	} else if (r == TAILQ_FIRST(&h->queue) && h->in_backoff) {
		evtimer_del(h->backoff);
		h->in_backoff = 0;
	}
	req_fail(r, BACKEND_E_TIMEOUT, msg);
	http_leave(h);
}

uint64_t
backend_http_request(struct backend_http *h, const char *method,
    const char *path, const char *body, size_t bodylen, int idempotent,
    http_cb cb, void *arg)
{
	struct http_req	*r;
	struct timeval	 tv;

	if (h->dying || strlen(method) >= sizeof(r->method))
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return 0;
	r->h = h;
	snprintf(r->method, sizeof(r->method), "%s", method);
	if ((r->path = strdup(path)) == NULL)
		goto fail;
	if (body != NULL) {
		if ((r->body = malloc(bodylen + 1)) == NULL)
			goto fail;
		memcpy(r->body, body, bodylen);
		r->body[bodylen] = '\0';
		r->bodylen = bodylen;
	}
	r->idempotent = idempotent;
	r->cb = cb;
	r->arg = arg;
	if ((r->deadline = evtimer_new(h->base, deadline_cb, r)) == NULL)
		goto fail;
	tv.tv_sec = h->p.timeout_ms / 1000;
	tv.tv_usec = (h->p.timeout_ms % 1000) * 1000;
	if (evtimer_add(r->deadline, &tv) == -1)
		goto fail;
	evutil_gettimeofday(&r->t_submit, NULL);
	r->id = h->next_id++;
	TAILQ_INSERT_TAIL(&h->queue, r, entry);
	http_kick(h);
	return r->id;
fail:
	req_free(r);
	return 0;
}

static void
req_drop(struct http_req *r)
{
	struct backend_http	*h = r->h;
	struct backend_error	 err;

	if (h->cur == r)
		h->cur = NULL;
	TAILQ_REMOVE(&h->queue, r, entry);
	memset(&err, 0, sizeof(err));
	backend_seterr(&err, BACKEND_E_SHUTDOWN, "cancelled");
	r->cb(&err, NULL, 1, r->arg);
	req_free(r);
	http_kick(h);
}

int
backend_http_cancel(struct backend_http *h, uint64_t id)
{
	struct http_req	*r;

	TAILQ_FOREACH(r, &h->queue, entry) {
		if (r->id != id || r->cancelled)
			continue;
		r->cancelled = 1;
		/* Not on the wire yet: drop it now.  Else let it finish. */
		if (h->cur != r) {
			if (r == TAILQ_FIRST(&h->queue) && h->in_backoff) {
				evtimer_del(h->backoff);
				h->in_backoff = 0;
			}
			req_drop(r);
		} else if (h->state != C_BUSY) {
			/* Still connecting for it: the connection will serve
			   the next request. */
			req_drop(r);
		}
		return 0;
	}
	return -1;
}
