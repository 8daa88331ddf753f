/*
 * msg.c over real socketpairs with libevent: many messages, partial reads
 * and writes, the largest payload, and every way a frame can be malformed.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "kioskd/msg.h"
#include "log.h"
#include "t.h"

static struct event_base *base;

struct rx {
	int		 count;
	int		 errors;
	enum msg_error	 last_err;
	int		 bad;		/* content mismatches */
	uint32_t	 last_type;
	uint64_t	 last_sid;
	size_t		 last_len;
	uint8_t		 last_data[MSG_MAX_PAYLOAD];
	int		 fail_at;	/* call msg_peer_fail on this count */
	int		 free_at;	/* call msg_peer_free on this count */
	int		 freed;
	struct msg_peer	*peer;
};

static void
rx_msg(struct msg_peer *p, const struct msg *m, void *arg)
{
	struct rx *rx = arg;

	rx->count++;
	rx->last_type = m->hdr.type;
	rx->last_sid = m->hdr.sid;
	rx->last_len = m->len;
	if (m->len > 0)
		memcpy(rx->last_data, m->data, m->len);
	if (m->hdr.pid != (uint32_t)getpid())
		rx->bad++;
	if (rx->fail_at == rx->count)
		msg_peer_fail(p);
	if (rx->free_at == rx->count) {
		msg_peer_free(p);
		rx->freed = 1;
		rx->peer = NULL;
	}
}

static void
rx_err(struct msg_peer *p, enum msg_error e, void *arg)
{
	struct rx *rx = arg;

	rx->errors++;
	rx->last_err = e;
	msg_peer_free(p);
	rx->peer = NULL;
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

/* Run the loop until *count reaches want, an error, or 5 s pass. */
static void
run_until(struct rx *rx, int want)
{
	struct timeval tv = { 5, 0 };
	struct event *to;
	int expired = 0;

	to = evtimer_new(base, timeout_cb, &expired);
	evtimer_add(to, &tv);
	while (!expired && rx->count < want && rx->errors == 0)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(to);
}

static void
run_briefly(int ms)
{
	struct timeval tv = { 0, ms * 1000 };
	struct event *to;
	int expired = 0;

	to = evtimer_new(base, timeout_cb, &expired);
	evtimer_add(to, &tv);
	while (!expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(to);
}

static void
fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

static void
make_pair(int sv[2], int small_buffers)
{
	int sz = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		fatal("socketpair");
	if (small_buffers) {
		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
}

/* A raw header written straight to the socket. */
static void
raw_hdr(int fd, uint32_t type, uint32_t len)
{
	struct msg_hdr h;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.len = len;
	h.pid = (uint32_t)getpid();
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h))
		fatal("write");
}

static struct rx rx;	/* large: static */
static struct rx rx2;

static void
test_many(void)
{
	struct msg_peer *a;
	struct msg_card_info ci;
	struct iovec iov[2];
	static uint8_t cert[MSG_CERT_MAX];
	static uint8_t big[MSG_MAX_PAYLOAD];
	int sv[2], i, ok = 1, want;
	size_t tail;

	/* Small socket buffers force partial writes and reads. */
	make_pair(sv, 1);
	memset(&rx, 0, sizeof(rx));
	a = msg_peer_new(base, sv[0], "a", rx_msg, rx_err, &rx2);
	rx.peer = msg_peer_new(base, sv[1], "b", rx_msg, rx_err, &rx);
	T_CHECK(a != NULL && rx.peer != NULL, "msg_peer_new");

	/* 500 CARD_INFO of growing tails, checked one by one. */
	for (i = 0; i < 500 && ok; i++) {
		memset(&ci, 0, sizeof(ci));
		tail = (size_t)(i * 97) % (MSG_CERT_MAX + 1);
		ci.status = MSG_CARD_OK;
		ci.cert_len = (uint32_t)tail;
		fill(cert, tail, (unsigned int)i);
		iov[0].iov_base = &ci;
		iov[0].iov_len = sizeof(ci);
		iov[1].iov_base = cert;
		iov[1].iov_len = tail;
		if (msg_composev(a, MSG_CARD_INFO, (uint64_t)i + 1000, iov,
		    2) == -1)
			ok = 0;
		run_until(&rx, i + 1);
		if (rx.count != i + 1 || rx.last_type != MSG_CARD_INFO ||
		    rx.last_sid != (uint64_t)i + 1000 ||
		    rx.last_len != sizeof(ci) + tail ||
		    memcmp(rx.last_data + sizeof(ci), cert, tail) != 0)
			ok = 0;
	}
	T_CHECK(ok, "500 messages with tails arrive intact, in order");

	/* A burst queued before the loop runs: 2000 small messages. */
	want = rx.count + 2000;
	for (i = 0; i < 2000; i++)
		if (msg_compose(a, MSG_CARD_ABORT, (uint64_t)i, NULL, 0) == -1)
			ok = 0;
	T_CHECK(ok && msg_peer_queued(a) == 2000 * MSG_HDR_SIZE,
	    "2000 queued messages");
	run_until(&rx, want);
	T_CHECK(rx.count == want && rx.last_sid == 1999 && rx.bad == 0,
	    "burst of 2000 delivered, header pid is the sender's");
	T_CHECK(msg_peer_queued(a) == 0, "queue drained");

	/* The largest payload, several times, through a 4 KiB socket. */
	fill(big, sizeof(big), 7);
	want = rx.count + 5;
	for (i = 0; i < 5; i++)
		if (msg_compose(a, MSG_BACKEND_AUTH_RESULT, 7, big,
		    sizeof(big)) == -1)
			ok = 0;
	T_CHECK(ok, "compose 64 KiB payloads");
	run_until(&rx, want);
	T_CHECK(rx.count == want && rx.last_len == MSG_MAX_PAYLOAD &&
	    memcmp(rx.last_data, big, sizeof(big)) == 0,
	    "max-size payloads arrive intact");

	/* Sender-side refusals. */
	errno = 0;
	T_CHECK(msg_compose(a, MSG_BACKEND_AUTH_RESULT, 0, big,
	    MSG_MAX_PAYLOAD + 1) == -1 && errno == EMSGSIZE,
	    "compose: oversize refused (EMSGSIZE)");
	errno = 0;
	T_CHECK(msg_compose(a, 99, 0, NULL, 0) == -1 && errno == EINVAL,
	    "compose: unknown type refused");
	errno = 0;
	T_CHECK(msg_compose(a, MSG_PRINT_FIRST_RESERVED, 0, NULL, 0) == -1 &&
	    errno == EINVAL, "compose: reserved printer number refused");
	errno = 0;
	T_CHECK(msg_compose(a, MSG_HELLO, 0, big, 10) == -1 &&
	    errno == EINVAL, "compose: wrong fixed size refused");
	errno = 0;
	T_CHECK(msg_compose(a, MSG_CARD_INFO, 0, big,
	    sizeof(struct msg_card_info) + MSG_CERT_MAX + 1) == -1 &&
	    errno == EINVAL, "compose: tail over its bound refused");

	/* Queue limit: stop the loop from draining, fill 4 MiB. */
	for (i = 0; i < 100; i++)
		if (msg_compose(a, MSG_BACKEND_AUTH_RESULT, 0, big,
		    sizeof(big)) == -1)
			break;
	T_CHECK(i < 100 && errno == ENOBUFS &&
	    msg_peer_queued(a) <= MSG_QUEUE_MAX, "queue bounded (ENOBUFS)");
	want = rx.count + i;
	run_until(&rx, want);
	T_CHECK(rx.count == want && rx.errors == 0, "bounded queue drains");

	/* EOF: the sender goes away. */
	msg_peer_free(a);
	run_until(&rx, rx.count + 1);
	T_CHECK(rx.errors == 1 && rx.last_err == MSG_ERR_EOF,
	    "EOF reported when the other end closes");
}

/* One frame byte by byte: the receiver must wait for all of it. */
static void
test_partial_read(void)
{
	struct msg_hdr h;
	struct msg_ping ping = { 0x1122334455667788ULL };
	uint8_t frame[sizeof(h) + sizeof(ping)];
	int sv[2], ok = 1;
	size_t i;

	make_pair(sv, 0);
	memset(&rx, 0, sizeof(rx));
	rx.peer = msg_peer_new(base, sv[1], "b", rx_msg, rx_err, &rx);
	memset(&h, 0, sizeof(h));
	h.type = MSG_PING;
	h.len = sizeof(ping);
	h.sid = 42;
	h.pid = (uint32_t)getpid();
	memcpy(frame, &h, sizeof(h));
	memcpy(frame + sizeof(h), &ping, sizeof(ping));
	for (i = 0; i < sizeof(frame); i++) {
		if (write(sv[0], frame + i, 1) != 1)
			fatal("write");
		run_briefly(2);
		if (i + 1 < sizeof(frame) && rx.count != 0)
			ok = 0;
	}
	T_CHECK(ok, "no message before the last byte");
	T_CHECK(rx.count == 1 && rx.last_type == MSG_PING &&
	    rx.last_sid == 42 &&
	    memcmp(rx.last_data, &ping, sizeof(ping)) == 0,
	    "byte-by-byte frame delivered once");
	/* Two frames and a half in one write. */
	{
		uint8_t three[3 * sizeof(frame)];

		memcpy(three, frame, sizeof(frame));
		memcpy(three + sizeof(frame), frame, sizeof(frame));
		memcpy(three + 2 * sizeof(frame), frame, sizeof(frame));
		if (write(sv[0], three, sizeof(frame) * 2 + 10) !=
		    (ssize_t)(sizeof(frame) * 2 + 10))
			fatal("write");
		run_briefly(20);
		T_CHECK(rx.count == 3, "two complete frames of two and a half");
		if (write(sv[0], three + 2 * sizeof(frame) + 10,
		    sizeof(frame) - 10) != (ssize_t)(sizeof(frame) - 10))
			fatal("write");
		run_briefly(20);
		T_CHECK(rx.count == 4 && rx.errors == 0, "the half completes");
	}
	/* EOF inside a frame. */
	if (write(sv[0], frame, 5) != 5)
		fatal("write");
	close(sv[0]);
	run_briefly(20);
	T_CHECK(rx.errors == 1 && rx.last_err == MSG_ERR_EOF &&
	    rx.count == 4, "EOF inside a frame: error, no message");
}

/* A malformed frame kills the link; nothing after it is delivered. */
static void
expect_bad(const char *name, uint32_t type, uint32_t len, size_t sendlen,
    enum msg_error want)
{
	static uint8_t payload[MSG_MAX_PAYLOAD + 16];
	char label[128];
	int sv[2];

	make_pair(sv, 0);
	memset(&rx, 0, sizeof(rx));
	rx.peer = msg_peer_new(base, sv[1], "b", rx_msg, rx_err, &rx);
	raw_hdr(sv[0], type, len);
	if (sendlen > 0 && write(sv[0], payload, sendlen) != (ssize_t)sendlen)
		fatal("write");
	/* A valid frame after it must not be delivered. */
	raw_hdr(sv[0], MSG_SHUTDOWN, 0);
	run_briefly(30);
	snprintf(label, sizeof(label), "%s: link error %s", name,
	    msg_error_name(want));
	T_CHECK(rx.errors == 1 && rx.last_err == want && rx.count == 0,
	    label);
	close(sv[0]);
}

static void
test_malformed(void)
{
	expect_bad("oversize AUTH_RESULT", MSG_BACKEND_AUTH_RESULT,
	    MSG_MAX_PAYLOAD + 1, 0, MSG_ERR_LEN);
	expect_bad("huge length", MSG_BACKEND_AUTH_RESULT, 0xffffffffu, 0,
	    MSG_ERR_LEN);
	expect_bad("unknown type 99", 99, 0, 0, MSG_ERR_TYPE);
	expect_bad("type 0", MSG_NONE, 0, 0, MSG_ERR_TYPE);
	expect_bad("reserved printer type", MSG_PRINT_FIRST_RESERVED, 0, 0,
	    MSG_ERR_TYPE);
	expect_bad("type beyond the table", 0x10000, 0, 0, MSG_ERR_TYPE);
	expect_bad("HELLO one byte short", MSG_HELLO,
	    sizeof(struct msg_hello) - 1, sizeof(struct msg_hello) - 1,
	    MSG_ERR_LEN);
	expect_bad("SHUTDOWN with payload", MSG_SHUTDOWN, 4, 4, MSG_ERR_LEN);
	expect_bad("CARD_INFO below its struct", MSG_CARD_INFO, 10, 10,
	    MSG_ERR_LEN);
	expect_bad("CARD_INFO tail over the cert bound", MSG_CARD_INFO,
	    sizeof(struct msg_card_info) + MSG_CERT_MAX + 1, 0, MSG_ERR_LEN);
}

/* Handlers: msg_peer_fail and msg_peer_free from inside the callback. */
static void
test_handlers(void)
{
	struct msg_peer *a;
	struct msg_ping ping = { 1 };
	int sv[2], i;

	make_pair(sv, 0);
	memset(&rx, 0, sizeof(rx));
	memset(&rx2, 0, sizeof(rx2));
	a = msg_peer_new(base, sv[0], "a", rx_msg, rx_err, &rx2);
	rx.peer = msg_peer_new(base, sv[1], "b", rx_msg, rx_err, &rx);
	rx.fail_at = 2;
	for (i = 0; i < 5; i++)
		msg_compose(a, MSG_PING, (uint64_t)i, &ping, sizeof(ping));
	run_briefly(30);
	T_CHECK(rx.count == 2 && rx.errors == 1 &&
	    rx.last_err == MSG_ERR_HANDLER,
	    "msg_peer_fail: link error after the handler, no more messages");
	run_briefly(30);
	T_CHECK(rx2.errors == 1 && rx2.last_err == MSG_ERR_EOF,
	    "the other end sees EOF");
	if (rx2.errors == 0)
		msg_peer_free(a);

	make_pair(sv, 0);
	memset(&rx, 0, sizeof(rx));
	memset(&rx2, 0, sizeof(rx2));
	a = msg_peer_new(base, sv[0], "a", rx_msg, rx_err, &rx2);
	rx.peer = msg_peer_new(base, sv[1], "b", rx_msg, rx_err, &rx);
	rx.free_at = 1;
	for (i = 0; i < 3; i++)
		msg_compose(a, MSG_PING, (uint64_t)i, &ping, sizeof(ping));
	run_briefly(30);
	T_CHECK(rx.count == 1 && rx.freed && rx.errors == 0,
	    "msg_peer_free inside the callback stops delivery safely");
	T_CHECK(rx2.errors == 1 && rx2.last_err == MSG_ERR_EOF,
	    "... and closes the link");
	if (rx2.errors == 0)
		msg_peer_free(a);
}

static void
test_checks(void)
{
	struct msg m;
	uint8_t buf[300];
	const uint8_t *tail = NULL;
	char s[4];
	size_t min, max;
	int i, named = 1;

	memset(&m, 0, sizeof(m));
	memset(buf, 0, sizeof(buf));
	m.hdr.type = MSG_CARD_INFO;
	m.data = buf;
	m.len = sizeof(struct msg_card_info) + 10;
	T_CHECK(msg_expect_len(&m, m.len) == 0, "expect_len exact");
	T_CHECK(msg_expect_len(&m, m.len - 1) == -1, "expect_len short");
	T_CHECK(msg_expect_len(&m, m.len + 1) == -1, "expect_len long");
	T_CHECK(msg_get_tail(&m, sizeof(struct msg_card_info), 10, 100,
	    &tail) == 0 && tail == buf + sizeof(struct msg_card_info),
	    "get_tail exact");
	T_CHECK(msg_get_tail(&m, sizeof(struct msg_card_info), 11, 100,
	    &tail) == -1, "get_tail: declared length disagrees");
	T_CHECK(msg_get_tail(&m, sizeof(struct msg_card_info), 10, 9,
	    &tail) == -1, "get_tail: over the bound");
	m.len = 4;
	T_CHECK(msg_get_tail(&m, sizeof(struct msg_card_info), 0, 100,
	    &tail) == -1, "get_tail: shorter than the struct");

	memcpy(s, "abcd", 4);
	T_CHECK(!msg_str_ok(s, sizeof(s)), "str_ok: unterminated");
	s[3] = '\0';
	T_CHECK(msg_str_ok(s, sizeof(s)), "str_ok: terminated");
	T_CHECK(msg_str_set(s, sizeof(s), "abcd") == -1 &&
	    msg_str_set(s, sizeof(s), "abc") == 0 && strcmp(s, "abc") == 0,
	    "str_set bounds");

	for (i = 0; i < MSG_TYPE_LIMIT; i++)
		if (msg_type_known((uint32_t)i) &&
		    (strcmp(msg_type_name((uint32_t)i), "UNKNOWN") == 0 ||
		    msg_type_bounds((uint32_t)i, &min, &max) != 0 ||
		    min > max || max > MSG_MAX_PAYLOAD))
			named = 0;
	T_CHECK(named, "every known type has a name and sane bounds");
	T_CHECK(strcmp(msg_type_name(MSG_CARD_SIGN_REQ), "CARD_SIGN_REQ") == 0
	    && strcmp(msg_type_name(MSG_BACKEND_STATUS), "BACKEND_STATUS") == 0
	    && strcmp(msg_type_name(1000), "UNKNOWN") == 0, "type names");
	T_CHECK(!msg_type_known(MSG_PRINT_FIRST_RESERVED) &&
	    !msg_type_known(MSG_PRINT_LAST_RESERVED) &&
	    !msg_type_known(MSG_NONE), "reserved and zero types unknown");
	T_CHECK(strcmp(msg_card_status_name(MSG_CARD_PIN_BLOCKED),
	    "pin-blocked") == 0 && strcmp(msg_card_status_name(-1),
	    "invalid") == 0 && strcmp(msg_backend_status_name(
	    MSG_BACKEND_STATUS_LIMIT), "invalid") == 0, "status names");
}

static void
test_hello(void)
{
	struct msg_peer *a;
	struct msg_hello h;
	struct msg m;
	int sv[2];

	make_pair(sv, 0);
	memset(&rx, 0, sizeof(rx));
	memset(&rx2, 0, sizeof(rx2));
	a = msg_peer_new(base, sv[0], "a", rx_msg, rx_err, &rx2);
	rx.peer = msg_peer_new(base, sv[1], "b", rx_msg, rx_err, &rx);
	T_CHECK(msg_send_hello(a, MSG_ROLE_CARD, "card") == 0, "send hello");
	run_until(&rx, 1);
	memset(&m, 0, sizeof(m));
	m.hdr.type = rx.last_type;
	m.data = rx.last_data;
	m.len = rx.last_len;
	T_CHECK(msg_check_hello(&m, MSG_ROLE_CARD) == 0, "hello accepted");
	T_CHECK(msg_check_hello(&m, MSG_ROLE_BACKEND) == -1,
	    "hello from the wrong role refused");
	memcpy(&h, rx.last_data, sizeof(h));
	h.version = MSG_VERSION + 1;
	m.data = (const uint8_t *)&h;
	T_CHECK(msg_check_hello(&m, MSG_ROLE_CARD) == -1,
	    "hello with another version refused");
	h.version = MSG_VERSION;
	memset(h.name, 'x', sizeof(h.name));
	T_CHECK(msg_check_hello(&m, MSG_ROLE_CARD) == -1,
	    "hello with an unterminated name refused");
	msg_peer_free(a);
	msg_peer_free(rx.peer);
}

int
main(void)
{
	log_init("test_msg", 0);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	test_checks();
	test_many();
	test_partial_read();
	test_malformed();
	test_handlers();
	test_hello();
	event_base_free(base);
	return t_done();
}
