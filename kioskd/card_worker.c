/*
 * The card worker: the only process that talks PC/SC.  Its loop answers
 * the core's requests with blocking libcard calls (READ: AP, token,
 * certificate 000A, PIN tries; SIGN: VERIFY and the signature over the
 * challenge), one at a time.  A thread of its own blocks in pcsc_watch()
 * on a separate PC/SC context and hands insert/remove events to the loop
 * through a pipe; the loop forwards them as MSG_CARD_EVENT.
 *
 * The PIN lives in one stack buffer of card_sign() and is wiped right
 * after the VERIFY, on every path.  The connection is exclusive while a
 * PIN is presented and the card is unpowered afterwards (JPKI.md §12).
 * Before a VERIFY the card must be the one read for this session (same
 * certificate, same tries left): a card swapped in between is refused.
 *
 * A smartphone token (JPKIAPGPSETOKEN, Android) lets 000A be read only
 * after the PIN: READ reports it with MSG_CARD_F_CERT_NEEDS_PIN and no
 * certificate; before its VERIFY the token must still be a smartphone
 * token with the same tries left, and after it the worker reads the
 * certificate, signs, and sends a MSG_CARD_INFO carrying that certificate
 * (flag MSG_CARD_F_CERT_NEEDS_PIN set) right before the
 * MSG_CARD_SIGN_RESULT: the certificate of the token that signed.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "card_err.h"
#include "config.h"
#include "core.h"
#include "jpki.h"
#include "log.h"
#include "msg.h"
#include "pcsc.h"
#include "proc.h"
#include "util.h"

#define WATCH_RETRY_S	1	/* after pcscd went away */

/* What travels through the pipe from the watch thread. */
struct watch_rec {
	uint32_t	event;		/* enum msg_card_event_kind */
	char		reader[MSG_READER_LEN];
};

struct card_worker {
	struct proc_child	*c;
	const char		*reader;	/* NULL: any */
	struct pcsc		*p;		/* requests' context */
	int			 pipe[2];
	struct event		*pev;
	/* the card read for the session in flight */
	uint64_t		 sid;
	uint8_t			 cert_sha256[32];
	int			 tries;
	int			 cert_after_pin;	/* smartphone token */
	uint8_t			 cert[JPKI_CERT_MAX];
};

/* --- the watch thread ---------------------------------------------------- */

static int
watch_cb(const struct pcsc_event *ev, void *arg)
{
	struct card_worker *w = arg;
	struct watch_rec r;
	ssize_t n;

	memset(&r, 0, sizeof(r));
	switch (ev->type) {
	case PCSC_EV_INSERTED:
		r.event = MSG_CARD_EV_INSERTED;
		break;
	case PCSC_EV_REMOVED:
		r.event = MSG_CARD_EV_REMOVED;
		break;
	case PCSC_EV_READER_ADDED:
		r.event = MSG_CARD_EV_READER_BACK;
		break;
	case PCSC_EV_READER_REMOVED:
		r.event = MSG_CARD_EV_READER_GONE;
		break;
	default:
		return 0;
	}
	if (strlen(ev->reader) >= sizeof(r.reader))
		return 0;
	memcpy(r.reader, ev->reader, strlen(ev->reader) + 1);
	/* one record is below PIPE_BUF: written whole or not at all */
	do {
		n = write(w->pipe[1], &r, sizeof(r));
	} while (n == -1 && errno == EINTR);
	return n == -1 && errno == EPIPE;	/* the loop is gone: stop */
}

static void *
watch_main(void *arg)
{
	struct card_worker *w = arg;
	struct timespec ts = { WATCH_RETRY_S, 0 };
	struct pcsc *p;
	enum card_err e;
	sigset_t set;

	/* signals are the loop's business */
	sigfillset(&set);
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		if ((e = pcsc_open(&p, w->reader)) == CARD_OK) {
			e = pcsc_watch(p, -1, watch_cb, w);
			pcsc_close(p);
			if (e == CARD_OK)
				return NULL;	/* the loop is gone */
		}
		log_warnx("watching the reader: %s; again in %d s",
		    card_strerror(e), WATCH_RETRY_S);
		(void)nanosleep(&ts, NULL);
	}
	return NULL;
}

static void
pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct card_worker *w = arg;
	struct msg_card_event ev;
	struct watch_rec r;
	ssize_t n;

	n = read(fd, &r, sizeof(r));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != (ssize_t)sizeof(r) || memchr(r.reader, '\0',
	    sizeof(r.reader)) == NULL) {
		log_warnx("watch pipe: short or bad record");
		proc_child_stop(w->c, 1);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.event = r.event;
	memcpy(ev.reader, r.reader, sizeof(ev.reader));
	log_debug("card event %u on \"%s\"", ev.event, ev.reader);
	if (proc_child_send(w->c, MSG_CARD_EVENT, 0, &ev, sizeof(ev)) == -1)
		log_warn("card event");
}

/* --- requests --------------------------------------------------------------- */

static int32_t
status_of(enum card_err e)
{
	switch (e) {
	case CARD_OK:
		return MSG_CARD_OK;
	case CARD_E_NO_SERVICE:
		return MSG_CARD_NO_SERVICE;
	case CARD_E_NO_READER:
		return MSG_CARD_NO_READER;
	case CARD_E_NO_CARD:
		return MSG_CARD_NO_CARD;
	case CARD_E_REMOVED:
		return MSG_CARD_REMOVED;
	case CARD_E_BUSY:
		return MSG_CARD_BUSY;
	case CARD_E_NOT_JPKI:
		return MSG_CARD_NOT_JPKI;
	case CARD_E_PIN_WRONG:
		return MSG_CARD_PIN_WRONG;
	case CARD_E_PIN_BLOCKED:
		return MSG_CARD_PIN_BLOCKED;
	case CARD_E_TIMEOUT:
		return MSG_CARD_TIMEOUT;
	case CARD_E_CANCELLED:
		return MSG_CARD_ABORTED;
	case CARD_E_NOMEM:
	case CARD_E_INVAL:
	case CARD_E_PIN_FORMAT:
		return MSG_CARD_INTERNAL;
	default:
		return MSG_CARD_COMM;
	}
}

/* A context for requests, re-made after pcscd went away. */
static enum card_err
ensure_ctx(struct card_worker *w)
{
	if (w->p != NULL)
		return CARD_OK;
	return pcsc_open(&w->p, w->reader);
}

static void
drop_ctx_if_gone(struct card_worker *w, enum card_err e)
{
	if (e == CARD_E_NO_SERVICE && w->p != NULL) {
		pcsc_close(w->p);
		w->p = NULL;
	}
}

/* Connect, SELECT the AP, check the token. */
static enum card_err
start(struct card_worker *w, struct jpki_card *card, int exclusive,
    enum jpki_token *token, char *label)
{
	struct card_transport tr;
	enum card_err e;

	if ((e = ensure_ctx(w)) != CARD_OK)
		return e;
	if ((e = pcsc_connect(w->p, exclusive)) != CARD_OK)
		return e;
	pcsc_transport(w->p, &tr);
	jpki_init(card, &tr);
	if ((e = jpki_select_ap(card)) != CARD_OK)
		return e;
	return jpki_read_token(card, token, label);
}

static void
card_read(struct card_worker *w, const struct msg *m)
{
	struct msg_card_read_req req;
	struct msg_card_info info;
	struct jpki_card card;
	struct iovec iov[2];
	enum jpki_token token = JPKI_TOKEN_UNKNOWN;
	char label[JPKI_LABEL_LEN + 1];
	size_t certlen = 0;
	enum card_err e;
	int tries = -1;

	if (msg_expect_len(m, sizeof(req)) == -1) {
		proc_child_fail(w->c, "CARD_READ_REQ");
		return;
	}
	memcpy(&req, m->data, sizeof(req));
	if (!msg_str_ok(req.reader, sizeof(req.reader))) {
		proc_child_fail(w->c, "CARD_READ_REQ reader");
		return;
	}
	memset(&info, 0, sizeof(info));
	memset(&card, 0, sizeof(card));
	memset(label, 0, sizeof(label));
	w->sid = 0;
	w->cert_after_pin = 0;
	e = start(w, &card, 0, &token, label);
	if (e == CARD_OK && token == JPKI_TOKEN_ANDROID)
		info.flags |= MSG_CARD_F_CERT_NEEDS_PIN;
	else if (e == CARD_OK)
		e = jpki_read_auth_cert(&card, w->cert, sizeof(w->cert),
		    &certlen);
	if (e == CARD_OK) {
		/* the empty VERIFY: never a try spent */
		e = jpki_pin_tries(&card, &tries);
	}
	if (w->p != NULL) {
		(void)msg_str_set(info.reader, sizeof(info.reader),
		    pcsc_reader_name(w->p));
		(void)pcsc_disconnect(w->p, 0);
	}
	info.status = status_of(e);
	info.token = (uint32_t)token;
	info.pin_tries = e == CARD_E_PIN_BLOCKED ? 0 : tries;
	(void)msg_str_set(info.label, sizeof(info.label), label);
	if (e == CARD_OK && certlen > 0) {
		info.cert_len = (uint32_t)certlen;
		if (EVP_Digest(w->cert, certlen, w->cert_sha256, NULL,
		    EVP_sha256(), NULL) != 1) {
			info.status = MSG_CARD_INTERNAL;
			info.cert_len = 0;
		} else {
			w->sid = m->hdr.sid;
			w->tries = tries;
		}
	} else if (e == CARD_OK && token == JPKI_TOKEN_ANDROID) {
		/* its certificate comes after the PIN, with the signature */
		memset(w->cert_sha256, 0, sizeof(w->cert_sha256));
		w->sid = m->hdr.sid;
		w->tries = tries;
		w->cert_after_pin = 1;
	}
	log_info("read: %s, token %s, tries %d, certificate %u bytes, %lu "
	    "APDUs", msg_card_status_name(info.status),
	    jpki_token_name(token), info.pin_tries, info.cert_len,
	    card.apdus);
	drop_ctx_if_gone(w, e);
	iov[0].iov_base = &info;
	iov[0].iov_len = sizeof(info);
	iov[1].iov_base = w->cert;
	iov[1].iov_len = info.cert_len;
	if (proc_child_sendv(w->c, MSG_CARD_INFO, m->hdr.sid, iov,
	    info.cert_len > 0 ? 2 : 1) == -1)
		log_warn("CARD_INFO");
	secure_wipe(w->cert, sizeof(w->cert));
}

/* Same card as read for this session?  CARD_OK, or why not. */
static enum card_err
same_card(struct card_worker *w, struct jpki_card *card, int *tries,
    int *changed)
{
	uint8_t md[32];
	size_t certlen = 0;
	enum card_err e;

	*changed = 0;
	if ((e = jpki_read_auth_cert(card, w->cert, sizeof(w->cert),
	    &certlen)) != CARD_OK)
		return e;
	if (EVP_Digest(w->cert, certlen, md, NULL, EVP_sha256(),
	    NULL) != 1) {
		secure_wipe(w->cert, sizeof(w->cert));
		return CARD_E_NOMEM;
	}
	secure_wipe(w->cert, sizeof(w->cert));
	if (CRYPTO_memcmp(md, w->cert_sha256, sizeof(md)) != 0) {
		*changed = 1;
		return CARD_OK;
	}
	/* blocked: CARD_E_PIN_BLOCKED, and no VERIFY will follow */
	if ((e = jpki_pin_tries(card, tries)) != CARD_OK)
		return e;
	if (*tries != w->tries)
		*changed = 1;	/* someone else spent a try */
	return CARD_OK;
}

/*
 * The smartphone token read for this session?  Its certificate cannot be
 * read before the PIN: still a smartphone token, the same tries left.
 */
static enum card_err
same_phone(struct card_worker *w, struct jpki_card *card,
    enum jpki_token token, int *tries, int *changed)
{
	enum card_err e;

	*changed = token != JPKI_TOKEN_ANDROID;
	if (*changed)
		return CARD_OK;
	if ((e = jpki_pin_tries(card, tries)) != CARD_OK)
		return e;
	if (*tries != w->tries)
		*changed = 1;
	return CARD_OK;
}

/* The certificate read after the PIN, as a MSG_CARD_INFO.  0 or -1. */
static int
send_phone_cert(struct card_worker *w, uint64_t sid, enum jpki_token token,
    const char *label, size_t certlen)
{
	struct msg_card_info info;
	struct iovec iov[2];
	int rc;

	memset(&info, 0, sizeof(info));
	info.status = MSG_CARD_OK;
	info.token = (uint32_t)token;
	info.pin_tries = JPKI_AUTH_PIN_TRIES;
	info.flags = MSG_CARD_F_CERT_NEEDS_PIN;
	(void)msg_str_set(info.label, sizeof(info.label), label);
	if (w->p != NULL)
		(void)msg_str_set(info.reader, sizeof(info.reader),
		    pcsc_reader_name(w->p));
	info.cert_len = (uint32_t)certlen;
	iov[0].iov_base = &info;
	iov[0].iov_len = sizeof(info);
	iov[1].iov_base = w->cert;
	iov[1].iov_len = certlen;
	rc = proc_child_sendv(w->c, MSG_CARD_INFO, sid, iov, 2);
	if (rc == -1)
		log_warn("CARD_INFO (certificate after the PIN)");
	return rc;
}

static void
card_sign(struct card_worker *w, const struct msg *m)
{
	struct msg_card_sign_req req;
	struct msg_card_sign_result res;
	struct jpki_card card;
	enum jpki_token token = JPKI_TOKEN_UNKNOWN;
	char label[JPKI_LABEL_LEN + 1];
	enum card_err e;
	size_t certlen = 0;
	int tries = -1, changed = 0, presented = 0;

	memset(&res, 0, sizeof(res));
	memset(&card, 0, sizeof(card));
	res.tries_left = -1;
	if (msg_expect_len(m, sizeof(req)) == -1) {
		proc_child_fail(w->c, "CARD_SIGN_REQ");
		return;
	}
	memcpy(&req, m->data, sizeof(req));
	if (req.pin_len > sizeof(req.pin) || req.challenge_len == 0 ||
	    req.challenge_len > sizeof(req.challenge)) {
		secure_wipe(&req, sizeof(req));
		proc_child_fail(w->c, "CARD_SIGN_REQ lengths");
		return;
	}
	if (m->hdr.sid == 0 || m->hdr.sid != w->sid) {
		/* never a VERIFY on a card not read for this session */
		log_warnx("sign for a session whose card was not read");
		res.status = MSG_CARD_ABORTED;
		goto reply;
	}
	e = start(w, &card, 1, &token, label);
	if (e == CARD_OK && w->cert_after_pin)
		e = same_phone(w, &card, token, &tries, &changed);
	else if (e == CARD_OK)
		e = same_card(w, &card, &tries, &changed);
	if (e == CARD_OK && changed) {
		log_warnx("the card changed since it was read: no VERIFY");
		res.status = MSG_CARD_ABORTED;
		goto done;
	}
	if (e != CARD_OK) {
		res.status = status_of(e);
		res.tries_left = e == CARD_E_PIN_BLOCKED ? 0 : -1;
		goto done;
	}
	presented = 1;
	e = jpki_verify_pin(&card, req.pin, req.pin_len, &tries);
	secure_wipe(req.pin, sizeof(req.pin));
	req.pin_len = 0;
	if (e == CARD_E_PIN_WRONG || e == CARD_E_PIN_BLOCKED) {
		res.status = status_of(e);
		res.tries_left = e == CARD_E_PIN_BLOCKED ? 0 : tries;
		w->tries = res.tries_left;
		goto done;
	}
	if (e == CARD_OK && w->cert_after_pin)
		e = jpki_read_auth_cert(&card, w->cert, sizeof(w->cert),
		    &certlen);
	if (e == CARD_OK)
		e = jpki_sign_auth(&card, JPKI_SIGN_MESSAGE, req.challenge,
		    req.challenge_len, res.sig);
	res.status = status_of(e);
	if (e == CARD_OK) {
		res.sig_len = JPKI_SIG_LEN;
		res.tries_left = JPKI_AUTH_PIN_TRIES;
		w->tries = JPKI_AUTH_PIN_TRIES;
		if (w->cert_after_pin && send_phone_cert(w, m->hdr.sid, token,
		    label, certlen) == -1) {
			res.status = MSG_CARD_INTERNAL;
			res.sig_len = 0;
			secure_wipe(res.sig, sizeof(res.sig));
		}
	}
	secure_wipe(w->cert, sizeof(w->cert));
done:
	if (w->p != NULL)
		(void)pcsc_disconnect(w->p, 1);	/* unpower: no verified state */
	drop_ctx_if_gone(w, e);
	log_info("sign: %s%s, tries left %d, %lu APDUs",
	    msg_card_status_name(res.status), presented ? "" :
	    " (no PIN presented)", res.tries_left, card.apdus);
reply:
	secure_wipe(&req, sizeof(req));
	if (proc_child_send(w->c, MSG_CARD_SIGN_RESULT, m->hdr.sid, &res,
	    sizeof(res)) == -1)
		log_warn("CARD_SIGN_RESULT");
	secure_wipe(&res, sizeof(res));
}

static void
card_handler(struct proc_child *c, const struct msg *m, void *arg)
{
	struct card_worker *w = arg;

	switch (m->hdr.type) {
	case MSG_CARD_READ_REQ:
		card_read(w, m);
		return;
	case MSG_CARD_SIGN_REQ:
		card_sign(w, m);
		return;
	case MSG_CARD_ABORT:
		if (m->len != 0) {
			proc_child_fail(c, "CARD_ABORT");
			return;
		}
		/* requests run to completion: nothing is connected now */
		w->sid = 0;
		w->tries = -1;
		secure_wipe(w->cert_sha256, sizeof(w->cert_sha256));
		return;
	default:
		proc_child_fail(c, msg_type_name(m->hdr.type));
		return;
	}
}

int
card_worker_main(struct proc_child *c, void *arg)
{
	const struct kiosk_conf *conf = arg;
	struct card_worker *w;
	pthread_t th;
	int rc, fl;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("card worker");
		return 1;
	}
	w->c = c;
	w->tries = -1;
	w->reader = conf->reader[0] != '\0' ? conf->reader : NULL;
	if (pipe2(w->pipe, O_CLOEXEC) == -1 ||
	    (fl = fcntl(w->pipe[0], F_GETFL)) == -1 ||
	    fcntl(w->pipe[0], F_SETFL, fl | O_NONBLOCK) == -1) {
		log_warn("card worker: pipe");
		free(w);
		return 1;
	}
	w->pev = event_new(proc_child_base(c), w->pipe[0],
	    EV_READ | EV_PERSIST, pipe_cb, w);
	if (w->pev == NULL || event_add(w->pev, NULL) == -1) {
		log_warnx("card worker: cannot watch the pipe");
		return 1;
	}
	if ((rc = pthread_create(&th, NULL, watch_main, w)) != 0) {
		errno = rc;
		log_warn("card worker: thread");
		return 1;
	}
	(void)pthread_detach(th);
	proc_child_set_handler(c, card_handler, w);
	log_info("card worker up, reader %s", w->reader != NULL ? w->reader :
	    "any");
	rc = proc_child_run(c);
	/* the watch thread ends with the process: w stays for it */
	if (w->p != NULL)
		pcsc_close(w->p);
	w->p = NULL;
	secure_wipe(w->cert_sha256, sizeof(w->cert_sha256));
	return rc;
}
