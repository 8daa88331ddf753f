/*
 * Framed messages over a non-blocking socket with libevent (msg.h).
 *
 * One read event per peer, always armed; one write event, armed only while
 * the output queue is non-empty (tmux proc.c).  The input buffer holds at
 * most one header plus the largest payload, so a peer cannot make us
 * buffer more; a header is checked against its type's bounds as soon as it
 * arrives.  Consumed input and sent output are wiped: a PIN passes through
 * here.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "util.h"
#include "msg.h"

/* The payload structs must have no padding the compiler could add. */
_Static_assert(sizeof(struct msg_hdr) == 24, "msg_hdr size");
_Static_assert(sizeof(struct msg_hello) == 24, "msg_hello size");
_Static_assert(sizeof(struct msg_ping) == 8, "msg_ping size");
_Static_assert(sizeof(struct msg_card_read_req) == 128, "card_read_req");
_Static_assert(sizeof(struct msg_card_info) == 188, "card_info size");
_Static_assert(sizeof(struct msg_card_sign_req) == 80, "card_sign_req");
_Static_assert(sizeof(struct msg_card_sign_result) == 528, "sign_result");
_Static_assert(sizeof(struct msg_card_event) == 136, "card_event size");
_Static_assert(sizeof(struct msg_backend_error) == 72, "backend_error");
_Static_assert(sizeof(struct msg_backend_session_result) == 192,
    "session_result size");
_Static_assert(sizeof(struct msg_backend_auth_req) == 560, "auth_req size");
_Static_assert(sizeof(struct msg_backend_auth_result) == 80, "auth_result");
_Static_assert(sizeof(struct msg_backend_issue_req) == 148, "issue_req");
_Static_assert(sizeof(struct msg_backend_issue_result) == 392,
    "issue_result size");
_Static_assert(sizeof(struct msg_backend_report_req) == 48, "report_req");
_Static_assert(sizeof(struct msg_backend_report_result) == 120,
    "report_result size");
_Static_assert(sizeof(struct msg_backend_status) == 88, "backend_status");
_Static_assert(sizeof(struct msg_print_job_req) == 348, "print_job_req");
_Static_assert(sizeof(struct msg_print_job) == 240, "print_job size");
_Static_assert(sizeof(struct msg_print_cancel_req) == 8, "print_cancel_req");
_Static_assert(sizeof(struct msg_print_query_req) == 48, "print_query_req");
_Static_assert(sizeof(struct msg_print_state) == 760, "print_state size");

struct msg_typeinfo {
	const char	*name;
	size_t		 min;
	size_t		 max;
};

#define FIXED(n, s)	{ (n), sizeof(s), sizeof(s) }
#define TAIL(n, s, t)	{ (n), sizeof(s), sizeof(s) + (t) }

static const struct msg_typeinfo msg_types[MSG_TYPE_LIMIT] = {
	[MSG_HELLO] = FIXED("HELLO", struct msg_hello),
	[MSG_SHUTDOWN] = { "SHUTDOWN", 0, 0 },
	[MSG_PING] = FIXED("PING", struct msg_ping),
	[MSG_PONG] = FIXED("PONG", struct msg_ping),

	[MSG_CARD_READ_REQ] = FIXED("CARD_READ_REQ", struct msg_card_read_req),
	[MSG_CARD_INFO] = TAIL("CARD_INFO", struct msg_card_info,
	    MSG_CERT_MAX),
	[MSG_CARD_SIGN_REQ] = FIXED("CARD_SIGN_REQ", struct msg_card_sign_req),
	[MSG_CARD_SIGN_RESULT] = FIXED("CARD_SIGN_RESULT",
	    struct msg_card_sign_result),
	[MSG_CARD_EVENT] = FIXED("CARD_EVENT", struct msg_card_event),
	[MSG_CARD_ABORT] = { "CARD_ABORT", 0, 0 },

	[MSG_BACKEND_SESSION_REQ] = { "BACKEND_SESSION_REQ", 0, 0 },
	[MSG_BACKEND_SESSION_RESULT] = FIXED("BACKEND_SESSION_RESULT",
	    struct msg_backend_session_result),
	[MSG_BACKEND_AUTH_REQ] = TAIL("BACKEND_AUTH_REQ",
	    struct msg_backend_auth_req, MSG_CERT_MAX),
	[MSG_BACKEND_AUTH_RESULT] = { "BACKEND_AUTH_RESULT",
	    sizeof(struct msg_backend_auth_result), MSG_MAX_PAYLOAD },
	[MSG_BACKEND_ISSUE_REQ] = TAIL("BACKEND_ISSUE_REQ",
	    struct msg_backend_issue_req, MSG_OPTIONS_MAX),
	[MSG_BACKEND_ISSUE_RESULT] = { "BACKEND_ISSUE_RESULT",
	    sizeof(struct msg_backend_issue_result), MSG_MAX_PAYLOAD },
	[MSG_BACKEND_REPORT_REQ] = FIXED("BACKEND_REPORT_REQ",
	    struct msg_backend_report_req),
	[MSG_BACKEND_REPORT_RESULT] = FIXED("BACKEND_REPORT_RESULT",
	    struct msg_backend_report_result),
	[MSG_BACKEND_STATUS_REQ] = { "BACKEND_STATUS_REQ", 0, 0 },
	[MSG_BACKEND_STATUS] = FIXED("BACKEND_STATUS",
	    struct msg_backend_status),

	[MSG_PRINT_JOB_REQ] = TAIL("PRINT_JOB_REQ", struct msg_print_job_req,
	    MSG_PRINT_CONTENT_MAX),
	[MSG_PRINT_SPOOLED] = FIXED("PRINT_SPOOLED", struct msg_print_job),
	[MSG_PRINT_PROGRESS] = FIXED("PRINT_PROGRESS", struct msg_print_job),
	[MSG_PRINT_DONE] = FIXED("PRINT_DONE", struct msg_print_job),
	[MSG_PRINT_CANCEL_REQ] = FIXED("PRINT_CANCEL_REQ",
	    struct msg_print_cancel_req),
	[MSG_PRINT_CANCEL_RESULT] = FIXED("PRINT_CANCEL_RESULT",
	    struct msg_print_job),
	[MSG_PRINT_QUERY_REQ] = FIXED("PRINT_QUERY_REQ",
	    struct msg_print_query_req),
	[MSG_PRINT_QUERY_RESULT] = FIXED("PRINT_QUERY_RESULT",
	    struct msg_print_job),
	[MSG_PRINT_STATE_REQ] = { "PRINT_STATE_REQ", 0, 0 },
	[MSG_PRINT_STATE] = FIXED("PRINT_STATE", struct msg_print_state),
};

#undef FIXED
#undef TAIL

#define MSG_RBUF_SIZE	(MSG_HDR_SIZE + MSG_MAX_PAYLOAD)
#define MSG_IOV_MAX	64

struct msg_out {
	TAILQ_ENTRY(msg_out)	 entry;
	size_t			 len;	/* header + payload */
	size_t			 off;	/* bytes already written */
	uint8_t			 data[];
};

struct msg_peer {
	struct event_base	*base;
	int			 fd;
	char			 name[32];
	struct event		*rev;
	struct event		*wev;
	uint8_t			*rbuf;
	size_t			 rlen;
	TAILQ_HEAD(, msg_out)	 outq;
	size_t			 queued;
	msg_recv_cb		 recv_cb;
	msg_error_cb		 error_cb;
	void			*arg;
	int			 busy;		/* inside our callbacks */
	int			 freed;		/* free once busy drops to 0 */
	int			 dead;		/* broken: no more callbacks */
	int			 fail_req;	/* msg_peer_fail() was called */
};

static void	msg_read_cb(evutil_socket_t, short, void *);
static void	msg_write_cb(evutil_socket_t, short, void *);

int
msg_type_known(uint32_t type)
{
	return type < MSG_TYPE_LIMIT && msg_types[type].name != NULL;
}

int
msg_type_bounds(uint32_t type, size_t *min, size_t *max)
{
	if (!msg_type_known(type))
		return -1;
	*min = msg_types[type].min;
	*max = msg_types[type].max;
	return 0;
}

const char *
msg_type_name(uint32_t type)
{
	if (!msg_type_known(type))
		return "UNKNOWN";
	return msg_types[type].name;
}

const char *
msg_error_name(enum msg_error e)
{
	switch (e) {
	case MSG_ERR_EOF:
		return "connection closed";
	case MSG_ERR_IO:
		return "i/o error";
	case MSG_ERR_TYPE:
		return "unknown message type";
	case MSG_ERR_LEN:
		return "bad message length";
	case MSG_ERR_HANDLER:
		return "malformed message";
	}
	return "unknown error";
}

const char *
msg_card_status_name(int32_t s)
{
	static const char *names[MSG_CARD_STATUS_LIMIT] = {
		"ok", "no-service", "no-reader", "no-card", "removed",
		"not-jpki", "pin-wrong", "pin-blocked", "comm", "busy",
		"timeout", "aborted", "internal"
	};

	if (s < 0 || s >= MSG_CARD_STATUS_LIMIT)
		return "invalid";
	return names[s];
}

const char *
msg_backend_status_name(int32_t s)
{
	static const char *names[MSG_BACKEND_STATUS_LIMIT] = {
		"ok", "center-error", "unreachable", "tls", "timeout",
		"bad-response", "internal"
	};

	if (s < 0 || s >= MSG_BACKEND_STATUS_LIMIT)
		return "invalid";
	return names[s];
}

const char *
msg_print_status_name(int32_t s)
{
	static const char *names[MSG_PRINT_STATUS_LIMIT] = {
		"ok", "unreachable", "timeout", "no-queue", "not-accepting",
		"format", "refused", "not-found", "not-possible", "render",
		"busy", "internal"
	};

	if (s < 0 || s >= MSG_PRINT_STATUS_LIMIT)
		return "invalid";
	return names[s];
}

struct msg_peer *
msg_peer_new(struct event_base *base, int fd, const char *name,
    msg_recv_cb recv_cb, msg_error_cb error_cb, void *arg)
{
	struct msg_peer *p;
	int fl;

	if (base == NULL || fd < 0 || recv_cb == NULL || error_cb == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->rbuf = malloc(MSG_RBUF_SIZE)) == NULL) {
		free(p);
		return NULL;
	}
	p->base = base;
	p->fd = fd;
	/* A name is for logs only: truncation is harmless. */
	snprintf(p->name, sizeof(p->name), "%s", name != NULL ? name : "peer");
	TAILQ_INIT(&p->outq);
	p->recv_cb = recv_cb;
	p->error_cb = error_cb;
	p->arg = arg;
	p->rev = event_new(base, fd, EV_READ | EV_PERSIST, msg_read_cb, p);
	p->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, msg_write_cb, p);
	if (p->rev == NULL || p->wev == NULL || event_add(p->rev, NULL) == -1) {
		if (p->rev != NULL)
			event_free(p->rev);
		if (p->wev != NULL)
			event_free(p->wev);
		free(p->rbuf);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

static void
msg_out_free(struct msg_out *o)
{
	secure_wipe(o->data, o->len);
	free(o);
}

static void
msg_peer_destroy(struct msg_peer *p)
{
	struct msg_out *o;

	event_free(p->rev);
	event_free(p->wev);
	if (p->fd != -1)
		close(p->fd);
	while ((o = TAILQ_FIRST(&p->outq)) != NULL) {
		TAILQ_REMOVE(&p->outq, o, entry);
		msg_out_free(o);
	}
	secure_wipe(p->rbuf, MSG_RBUF_SIZE);
	free(p->rbuf);
	free(p);
}

void
msg_peer_free(struct msg_peer *p)
{
	if (p == NULL)
		return;
	if (p->busy > 0) {
		/* Called from our own callback: finish there. */
		p->freed = 1;
		p->dead = 1;
		event_del(p->rev);
		event_del(p->wev);
		return;
	}
	msg_peer_destroy(p);
}

void
msg_peer_fail(struct msg_peer *p)
{
	p->fail_req = 1;
}

size_t
msg_peer_queued(const struct msg_peer *p)
{
	return p->queued;
}

const char *
msg_peer_name(const struct msg_peer *p)
{
	return p->name;
}

int
msg_peer_fd(const struct msg_peer *p)
{
	return p->fd;
}

/* The link is broken: stop the events and tell the owner once. */
static void
msg_peer_error(struct msg_peer *p, enum msg_error e)
{
	if (p->dead)
		return;
	p->dead = 1;
	event_del(p->rev);
	event_del(p->wev);
	p->busy++;
	p->error_cb(p, e, p->arg);
	p->busy--;
	if (p->freed && p->busy == 0)
		msg_peer_destroy(p);
}

static void
msg_update_write(struct msg_peer *p)
{
	if (p->dead)
		return;
	if (TAILQ_EMPTY(&p->outq))
		event_del(p->wev);
	else if (!event_pending(p->wev, EV_WRITE, NULL)) {
		if (event_add(p->wev, NULL) == -1)
			log_warnx("%s: cannot arm the write event", p->name);
	}
}

/* Dispatch every complete message in the input buffer. */
static void
msg_dispatch(struct msg_peer *p)
{
	struct msg m;
	struct msg_hdr hdr;
	size_t off = 0, left;
	enum msg_error err = 0;

	p->busy++;
	while (!p->dead && p->rlen - off >= MSG_HDR_SIZE) {
		memcpy(&hdr, p->rbuf + off, MSG_HDR_SIZE);
		if (!msg_type_known(hdr.type)) {
			log_warnx("%s: unknown message type %u", p->name,
			    hdr.type);
			err = MSG_ERR_TYPE;
			break;
		}
		if (hdr.len < msg_types[hdr.type].min ||
		    hdr.len > msg_types[hdr.type].max) {
			log_warnx("%s: %s with bad length %u", p->name,
			    msg_type_name(hdr.type), hdr.len);
			err = MSG_ERR_LEN;
			break;
		}
		if (p->rlen - off - MSG_HDR_SIZE < hdr.len)
			break;
		m.hdr = hdr;
		m.data = p->rbuf + off + MSG_HDR_SIZE;
		m.len = hdr.len;
		p->recv_cb(p, &m, p->arg);
		off += MSG_HDR_SIZE + hdr.len;
		if (p->fail_req && !p->dead) {
			/* The handler has said what was wrong. */
			err = MSG_ERR_HANDLER;
			break;
		}
	}
	if (off > 0) {
		left = p->rlen - off;
		memmove(p->rbuf, p->rbuf + off, left);
		secure_wipe(p->rbuf + left, off);
		p->rlen = left;
	}
	p->busy--;
	if (p->freed && p->busy == 0) {
		msg_peer_destroy(p);
		return;
	}
	if (err != 0)
		msg_peer_error(p, err);
}

static void
msg_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct msg_peer *p = arg;
	ssize_t n;

	n = read(p->fd, p->rbuf + p->rlen, MSG_RBUF_SIZE - p->rlen);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno == ECONNRESET) {
			msg_peer_error(p, MSG_ERR_EOF);
			return;
		}
		log_warn("%s: read", p->name);
		msg_peer_error(p, MSG_ERR_IO);
		return;
	}
	if (n == 0) {
		if (p->rlen > 0)
			log_warnx("%s: connection closed inside a message",
			    p->name);
		msg_peer_error(p, MSG_ERR_EOF);
		return;
	}
	p->rlen += (size_t)n;
	msg_dispatch(p);
}

/* Write as much of the queue as the socket takes: 0, or -1 and errno. */
static int
msg_write(struct msg_peer *p)
{
	struct iovec iov[MSG_IOV_MAX];
	struct msghdr mh;
	struct msg_out *o, *next;
	size_t done;
	ssize_t n;
	int cnt = 0;

	TAILQ_FOREACH(o, &p->outq, entry) {
		if (cnt == MSG_IOV_MAX)
			break;
		iov[cnt].iov_base = o->data + o->off;
		iov[cnt].iov_len = o->len - o->off;
		cnt++;
	}
	if (cnt == 0)
		return 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)cnt;
	n = sendmsg(p->fd, &mh, MSG_NOSIGNAL);
	if (n == -1)
		return -1;
	done = (size_t)n;
	for (o = TAILQ_FIRST(&p->outq); o != NULL && done > 0; o = next) {
		next = TAILQ_NEXT(o, entry);
		if (done < o->len - o->off) {
			o->off += done;
			break;
		}
		done -= o->len - o->off;
		p->queued -= o->len;
		TAILQ_REMOVE(&p->outq, o, entry);
		msg_out_free(o);
	}
	return 0;
}

static void
msg_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct msg_peer *p = arg;

	if (msg_write(p) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno == EPIPE || errno == ECONNRESET) {
			msg_peer_error(p, MSG_ERR_EOF);
			return;
		}
		log_warn("%s: write", p->name);
		msg_peer_error(p, MSG_ERR_IO);
		return;
	}
	msg_update_write(p);
}

int
msg_flush(struct msg_peer *p, int timeout_ms)
{
	struct pollfd pfd;
	struct timespec start;
	long elapsed;
	int r;

	if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
		return -1;
	while (!TAILQ_EMPTY(&p->outq)) {
		if (p->dead) {
			errno = EPIPE;
			return -1;
		}
		elapsed = (long)ms_since(&start);
		if (elapsed >= timeout_ms) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = p->fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, (int)(timeout_ms - elapsed));
		if (r == -1 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		if (msg_write(p) == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	msg_update_write(p);
	return 0;
}

int
msg_composev(struct msg_peer *p, uint32_t type, uint64_t sid,
    const struct iovec *iov, int iovcnt)
{
	struct msg_hdr hdr;
	struct msg_out *o;
	size_t len = 0, off;
	int i;

	if (p == NULL || iovcnt < 0 || (iovcnt > 0 && iov == NULL)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > MSG_MAX_PAYLOAD ||
		    len + iov[i].iov_len > MSG_MAX_PAYLOAD) {
			errno = EMSGSIZE;
			return -1;
		}
		len += iov[i].iov_len;
	}
	if (!msg_type_known(type) || len < msg_types[type].min ||
	    len > msg_types[type].max) {
		log_warnx("%s: refusing to send %s (type %u) of %zu bytes",
		    p->name, msg_type_name(type), type, len);
		errno = EINVAL;
		return -1;
	}
	if (p->dead) {
		errno = EPIPE;
		return -1;
	}
	if (p->queued + MSG_HDR_SIZE + len > MSG_QUEUE_MAX) {
		log_warnx("%s: output queue full", p->name);
		errno = ENOBUFS;
		return -1;
	}
	if ((o = malloc(sizeof(*o) + MSG_HDR_SIZE + len)) == NULL)
		return -1;
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = (uint32_t)len;
	hdr.sid = sid;
	hdr.pid = (uint32_t)getpid();
	memcpy(o->data, &hdr, MSG_HDR_SIZE);
	off = MSG_HDR_SIZE;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0)
			memcpy(o->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	o->len = off;
	o->off = 0;
	TAILQ_INSERT_TAIL(&p->outq, o, entry);
	p->queued += o->len;
	msg_update_write(p);
	return 0;
}

int
msg_compose(struct msg_peer *p, uint32_t type, uint64_t sid,
    const void *data, size_t len)
{
	struct iovec iov;

	if (len > MSG_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (len > 0 && data == NULL) {
		errno = EINVAL;
		return -1;
	}
	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	return msg_composev(p, type, sid, &iov, len > 0 ? 1 : 0);
}

int
msg_expect_len(const struct msg *m, size_t len)
{
	if (m->len != len) {
		log_warnx("%s: payload of %zu bytes, expected %zu",
		    msg_type_name(m->hdr.type), m->len, len);
		return -1;
	}
	return 0;
}

int
msg_get_tail(const struct msg *m, size_t fixed_len, size_t tail_len,
    size_t tail_max, const uint8_t **tail)
{
	if (tail_len > tail_max || m->len < fixed_len ||
	    m->len - fixed_len != tail_len) {
		log_warnx("%s: payload of %zu bytes, expected %zu + %zu "
		    "(at most %zu)", msg_type_name(m->hdr.type), m->len,
		    fixed_len, tail_len, tail_max);
		return -1;
	}
	*tail = m->data + fixed_len;
	return 0;
}

int
msg_str_ok(const char *s, size_t size)
{
	return size > 0 && memchr(s, '\0', size) != NULL;
}

int
msg_str_set(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memset(dst, 0, size);
	memcpy(dst, src, n);
	return 0;
}

int
msg_send_hello(struct msg_peer *p, enum msg_role role, const char *name)
{
	struct msg_hello h;

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.role = (uint32_t)role;
	if (msg_str_set(h.name, sizeof(h.name), name) == -1) {
		errno = EINVAL;
		return -1;
	}
	return msg_compose(p, MSG_HELLO, 0, &h, sizeof(h));
}

int
msg_check_hello(const struct msg *m, enum msg_role expected)
{
	struct msg_hello h;

	if (m->hdr.type != MSG_HELLO ||
	    msg_expect_len(m, sizeof(h)) == -1)
		return -1;
	memcpy(&h, m->data, sizeof(h));
	if (h.version != MSG_VERSION) {
		log_warnx("HELLO: protocol version %u, expected %u",
		    h.version, MSG_VERSION);
		return -1;
	}
	if (h.role != (uint32_t)expected) {
		log_warnx("HELLO: role %u, expected %u", h.role,
		    (unsigned)expected);
		return -1;
	}
	if (!msg_str_ok(h.name, sizeof(h.name))) {
		log_warnx("HELLO: unterminated name");
		return -1;
	}
	return 0;
}
