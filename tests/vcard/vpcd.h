/*
 * The vpcd wire protocol, card side (HARNESS.md): the card is a TCP
 * client of vpcd; every message both ways is a 2-byte big-endian length
 * and that many bytes.  One byte from vpcd is a control code, anything
 * longer a C-APDU.
 */
#ifndef VCARD_VPCD_H
#define VCARD_VPCD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define VPCD_CTRL_OFF	0x00
#define VPCD_CTRL_ON	0x01
#define VPCD_CTRL_RESET	0x02
#define VPCD_CTRL_ATR	0x04

#define VPCD_MSG_MAX	0xFFFF

/*
 * Connect to host:port, retrying while refused for up to timeout_ms or
 * until *stop becomes non-zero.  Returns the socket, or -1 with err.
 */
int	vpcd_connect(const char *host, const char *port, int timeout_ms,
	    volatile sig_atomic_t *stop, char *err, size_t errlen);

/*
 * Receive one message into buf (VPCD_MSG_MAX bytes).  Returns 1 with
 * *len set, 0 when the peer closed at a message boundary, -1 on error
 * (errno; EPIPE for a close inside a message, EINTR when *stop is set).
 */
int	vpcd_recv(int fd, uint8_t *buf, size_t *len,
	    volatile sig_atomic_t *stop);

/* Send one framed message in a single write.  0 or -1 (errno). */
int	vpcd_send(int fd, const uint8_t *buf, size_t len);

#endif
