/*
 * vpcd transport.  Latency trap (HARNESS.md): vpcd writes the length and
 * the payload separately, so the card must ACK at once; Linux clears
 * TCP_QUICKACK after use, hence it is set again before every recv().
 * Our own writes go out in one piece with TCP_NODELAY.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vpcd.h"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);	/* EINTR is fine: the caller re-checks */
}

static int
try_connect(const struct addrinfo *res, int *lasterr)
{
	const struct addrinfo *ai;
	int fd, one = 1;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			*lasterr = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one)) == -1) {
				*lasterr = errno;
				close(fd);
				return -1;
			}
			return fd;
		}
		*lasterr = errno;
		close(fd);
	}
	return -1;
}

int
vpcd_connect(const char *host, const char *port, int timeout_ms,
    volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	long long deadline;
	int fd, rc, lasterr = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s:%s: %s", host, port,
		    gai_strerror(rc));
		return -1;
	}
	deadline = now_ms() + timeout_ms;
	for (;;) {
		if ((fd = try_connect(res, &lasterr)) != -1)
			break;
		if ((stop != NULL && *stop) || now_ms() >= deadline ||
		    (lasterr != ECONNREFUSED && lasterr != ECONNRESET &&
		    lasterr != ETIMEDOUT && lasterr != EINTR))
			break;
		sleep_ms(100);
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "connect to vpcd at %s:%s: %s", host,
		    port, stop != NULL && *stop ? "interrupted" :
		    strerror(lasterr));
	return fd;
}

/* Read exactly len bytes; 1 done, 0 EOF before any byte, -1 error. */
static int
read_full(int fd, uint8_t *buf, size_t len, volatile sig_atomic_t *stop)
{
	size_t got = 0;
	ssize_t r;
	int one = 1;

	while (got < len) {
		/* Best effort: a failure only costs latency. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
		r = recv(fd, buf + got, len - got, 0);
		if (r == -1 && errno == EINTR) {
			if (stop != NULL && *stop)
				return -1;
			continue;
		}
		if (r == -1)
			return -1;
		if (r == 0) {
			if (got == 0)
				return 0;
			errno = EPIPE;
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

int
vpcd_recv(int fd, uint8_t *buf, size_t *len, volatile sig_atomic_t *stop)
{
	uint8_t hdr[2];
	size_t n;
	int rc;

	if ((rc = read_full(fd, hdr, sizeof(hdr), stop)) != 1)
		return rc;
	n = (size_t)hdr[0] << 8 | hdr[1];
	if (n > 0 && (rc = read_full(fd, buf, n, stop)) != 1) {
		if (rc == 0)
			errno = EPIPE;	/* closed inside a message */
		return -1;
	}
	*len = n;
	return 1;
}

int
vpcd_send(int fd, const uint8_t *buf, size_t len)
{
	uint8_t out[2 + VPCD_MSG_MAX];
	size_t off = 0;
	ssize_t w;

	if (len > VPCD_MSG_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	if (len > 0)
		memcpy(out + 2, buf, len);
	len += 2;
	while (off < len) {
		w = send(fd, out + off, len - off, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		off += (size_t)w;
	}
	return 0;
}
