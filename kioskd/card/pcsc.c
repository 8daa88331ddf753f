/*
 * pcsc-lite glue.  All DWORD/LONG/SCARDHANDLE handling lives here; the
 * rest of the card layer sees card_err.  pcsc-lite calls block, which is
 * why the kiosk runs this in its card worker process.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <winscard.h>
#include <reader.h>

#include "atr.h"
#include "jpki.h"
#include "log.h"
#include "pcsc.h"

#define PCSC_PNP_NAME		"\\\\?PnP?\\Notification"
#define PCSC_LIST_MAX		(PCSC_MAX_READERS * PCSC_READER_NAME_MAX + 1)
#define PCSC_RELIST_MS		1000	/* only without PnP notification */
#define PCSC_LOST_WAIT_MS	1000	/* for pcscd to see a removal */

struct pcsc {
	SCARDCONTEXT	 ctx;
	SCARDHANDLE	 card;
	DWORD		 proto;
	int		 connected;
	int		 exclusive;
	int		 extended_ok;
	char		 want[PCSC_READER_NAME_MAX];
	char		 reader[PCSC_READER_NAME_MAX];
	uint8_t		 atr[PCSC_ATR_MAX];
	size_t		 atrlen;
};

struct pcsc_readers {
	char	names[PCSC_MAX_READERS][PCSC_READER_NAME_MAX];
	size_t	count;
};

static enum card_err
pcsc_err(LONG rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS:
		return CARD_OK;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
		return CARD_E_NO_SERVICE;
	case SCARD_E_NO_READERS_AVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_READER_UNAVAILABLE:
		return CARD_E_NO_READER;
	case SCARD_E_NO_SMARTCARD:
		return CARD_E_NO_CARD;
	case SCARD_W_REMOVED_CARD:
		return CARD_E_REMOVED;
	case SCARD_W_RESET_CARD:
		return CARD_E_RESET;
	case SCARD_E_SHARING_VIOLATION:
		return CARD_E_BUSY;
	case SCARD_E_TIMEOUT:
		return CARD_E_TIMEOUT;
	case SCARD_E_CANCELLED:
		return CARD_E_CANCELLED;
	case SCARD_E_NO_MEMORY:
		return CARD_E_NOMEM;
	case SCARD_E_INSUFFICIENT_BUFFER:
		return CARD_E_PROTO;
	case SCARD_E_INVALID_PARAMETER:
	case SCARD_E_INVALID_VALUE:
	case SCARD_E_INVALID_HANDLE:
		return CARD_E_INVAL;
	default:
		/* unresponsive/unpowered card, T=x mismatch, comm errors */
		return CARD_E_COMM;
	}
}

static enum card_err
pcsc_fail(const char *what, LONG rv)
{
	log_debug("%s: %s (0x%08lX)", what, pcsc_stringify_error(rv),
	    (unsigned long)rv);
	return pcsc_err(rv);
}

enum card_err
pcsc_open(struct pcsc **pp, const char *reader)
{
	struct pcsc *p;
	LONG rv;

	*pp = NULL;
	if (reader != NULL && (reader[0] == '\0' ||
	    strlen(reader) >= PCSC_READER_NAME_MAX))
		return CARD_E_INVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return CARD_E_NOMEM;
	if (reader != NULL)
		memcpy(p->want, reader, strlen(reader) + 1);
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
	if (rv != SCARD_S_SUCCESS) {
		free(p);
		return pcsc_fail("SCardEstablishContext", rv);
	}
	*pp = p;
	return CARD_OK;
}

void
pcsc_close(struct pcsc *p)
{
	if (p == NULL)
		return;
	if (p->connected)
		(void)pcsc_disconnect(p, p->exclusive);
	(void)SCardReleaseContext(p->ctx);
	free(p);
}

/* The current reader list; an empty list is not an error here. */
static enum card_err
pcsc_list(struct pcsc *p, struct pcsc_readers *rl)
{
	char *buf;
	DWORD len = 0;
	LONG rv;
	size_t o, n;

	rl->count = 0;
	rv = SCardListReaders(p->ctx, NULL, NULL, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		return CARD_OK;
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardListReaders", rv);
	if (len == 0 || len > PCSC_LIST_MAX)
		return CARD_E_PROTO;
	if ((buf = calloc(1, len + 1)) == NULL)
		return CARD_E_NOMEM;
	rv = SCardListReaders(p->ctx, NULL, buf, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE) {
		free(buf);
		return CARD_OK;
	}
	if (rv != SCARD_S_SUCCESS) {
		free(buf);
		/* a reader appeared between the two calls: caller retries */
		return pcsc_fail("SCardListReaders", rv);
	}
	/* multi-string: names separated by NUL, ended by an empty name */
	for (o = 0; o < len && buf[o] != '\0'; o += n + 1) {
		n = strnlen(buf + o, len - o);
		if (n >= PCSC_READER_NAME_MAX || rl->count == PCSC_MAX_READERS)
			continue;
		memcpy(rl->names[rl->count], buf + o, n);
		rl->names[rl->count][n] = '\0';
		rl->count++;
	}
	free(buf);
	return CARD_OK;
}

/* Does name match the reader requested by the user (or any, if none)? */
static int
pcsc_wanted(const struct pcsc *p, const char *name)
{
	if (p->want[0] == '\0')
		return 1;
	return strncmp(name, p->want, strlen(p->want)) == 0;
}

static enum card_err
pcsc_pick(struct pcsc *p)
{
	struct pcsc_readers rl;
	SCARD_READERSTATE rs[PCSC_MAX_READERS];
	char esc[PCSC_READER_NAME_MAX * 4];
	size_t i, matches = 0, pick = 0;
	enum card_err e;
	LONG rv;

	if ((e = pcsc_list(p, &rl)) != CARD_OK)
		return e;
	if (rl.count == 0)
		return CARD_E_NO_READER;
	if (p->want[0] != '\0') {
		for (i = 0; i < rl.count; i++) {
			if (strcmp(rl.names[i], p->want) == 0) {
				matches = 1;
				pick = i;
				break;
			}
			if (pcsc_wanted(p, rl.names[i])) {
				matches++;
				pick = i;
			}
		}
		if (matches != 1) {
			log_escape(esc, sizeof(esc), p->want, strlen(p->want));
			if (matches == 0)
				log_warnx("reader \"%s\" not found", esc);
			else
				log_warnx("reader name \"%s\" matches %zu "
				    "readers: give the full name", esc,
				    matches);
			return CARD_E_NO_READER;
		}
	} else if (rl.count > 1) {
		memset(rs, 0, sizeof(rs));
		for (i = 0; i < rl.count; i++) {
			rs[i].szReader = rl.names[i];
			rs[i].dwCurrentState = SCARD_STATE_UNAWARE;
		}
		rv = SCardGetStatusChange(p->ctx, 0, rs, (DWORD)rl.count);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
			return pcsc_fail("SCardGetStatusChange", rv);
		for (i = 0; i < rl.count; i++)
			if (rs[i].dwEventState & SCARD_STATE_PRESENT)
				break;
		if (i == rl.count)
			return CARD_E_NO_CARD;
		pick = i;
		log_info("%zu readers, using the first with a card: %s",
		    rl.count, rl.names[pick]);
	}
	memcpy(p->reader, rl.names[pick], sizeof(p->reader));
	return CARD_OK;
}

/* Reader's dwMaxAPDUDataSize from FEATURE_GET_TLV_PROPERTIES, or 0. */
static size_t
pcsc_reader_max_apdu(struct pcsc *p)
{
	uint8_t buf[256];
	DWORD len = 0, ioctl = 0;
	LONG rv;
	size_t i, l, j, val;

	rv = SCardControl(p->card, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0,
	    buf, sizeof(buf), &len);
	if (rv != SCARD_S_SUCCESS || len > sizeof(buf))
		return 0;
	/* tag, length 4, big-endian control code */
	for (i = 0; i + 2 <= len; i += 2 + l) {
		l = buf[i + 1];
		if (l > len - i - 2)
			return 0;
		if (buf[i] == FEATURE_GET_TLV_PROPERTIES && l == 4)
			ioctl = (DWORD)buf[i + 2] << 24 |
			    (DWORD)buf[i + 3] << 16 |
			    (DWORD)buf[i + 4] << 8 | buf[i + 5];
	}
	if (ioctl == 0)
		return 0;
	len = 0;
	rv = SCardControl(p->card, ioctl, NULL, 0, buf, sizeof(buf), &len);
	if (rv != SCARD_S_SUCCESS || len > sizeof(buf))
		return 0;
	/* tag, length, little-endian value */
	for (i = 0; i + 2 <= len; i += 2 + l) {
		l = buf[i + 1];
		if (l > len - i - 2)
			return 0;
		if (buf[i] == PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize &&
		    l >= 1 && l <= 4) {
			val = 0;
			for (j = l; j > 0; j--)
				val = val << 8 | buf[i + 1 + j];
			return val;
		}
	}
	return 0;
}

enum card_err
pcsc_connect(struct pcsc *p, int exclusive)
{
	char name[PCSC_READER_NAME_MAX];
	uint8_t atr[MAX_ATR_SIZE];
	DWORD namelen = sizeof(name), state = 0, proto = 0;
	DWORD atrlen = sizeof(atr);
	size_t maxapdu;
	enum card_err e;
	LONG rv;

	if (p->connected)
		return CARD_E_INVAL;
	p->extended_ok = 0;
	p->atrlen = 0;
	if ((e = pcsc_pick(p)) != CARD_OK)
		return e;
	rv = SCardConnect(p->ctx, p->reader,
	    exclusive ? SCARD_SHARE_EXCLUSIVE : SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0, &p->card, &p->proto);
	if (rv == SCARD_W_REMOVED_CARD)
		rv = SCARD_E_NO_SMARTCARD;	/* nothing was removed yet */
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardConnect", rv);
	p->connected = 1;
	p->exclusive = exclusive;
	rv = SCardStatus(p->card, name, &namelen, &state, &proto, atr,
	    &atrlen);
	if (rv != SCARD_S_SUCCESS) {
		e = pcsc_fail("SCardStatus", rv);
		(void)pcsc_disconnect(p, exclusive);
		return e;
	}
	if (atrlen > sizeof(p->atr))
		atrlen = 0;
	memcpy(p->atr, atr, atrlen);
	p->atrlen = atrlen;
	/* extended only with T=1, a card that says so and a reader that can */
	if (p->proto == SCARD_PROTOCOL_T1 &&
	    atr_extended_apdu(p->atr, p->atrlen)) {
		maxapdu = pcsc_reader_max_apdu(p);
		p->extended_ok = maxapdu > 256;
		log_debug("card announces extended APDUs; reader max %zu",
		    maxapdu);
	}
	log_debug("connected to \"%s\" (%s, T=%d)", p->reader,
	    exclusive ? "exclusive" : "shared",
	    p->proto == SCARD_PROTOCOL_T1 ? 1 : 0);
	return CARD_OK;
}

enum card_err
pcsc_disconnect(struct pcsc *p, int unpower)
{
	LONG rv;

	if (!p->connected)
		return CARD_OK;
	p->connected = 0;
	p->exclusive = 0;
	rv = SCardDisconnect(p->card,
	    unpower ? SCARD_UNPOWER_CARD : SCARD_LEAVE_CARD);
	if (rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD)
		return CARD_OK;		/* gone: unpowered by definition */
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardDisconnect", rv);
	return CARD_OK;
}

const char *
pcsc_reader_name(const struct pcsc *p)
{
	return p->reader;
}

enum card_err
pcsc_atr(const struct pcsc *p, uint8_t *atr, size_t cap, size_t *len)
{
	*len = 0;
	if (!p->connected && p->atrlen == 0)
		return CARD_E_NO_CARD;
	if (cap < p->atrlen)
		return CARD_E_INVAL;
	memcpy(atr, p->atr, p->atrlen);
	*len = p->atrlen;
	return CARD_OK;
}

int
pcsc_extended_ok(const struct pcsc *p)
{
	return p->extended_ok;
}

void
pcsc_transport(struct pcsc *p, struct card_transport *tr)
{
	memset(tr, 0, sizeof(*tr));
	tr->transmit = pcsc_transmit;
	tr->ctx = p;
	tr->max_short_le = 256;
	tr->extended_ok = p->extended_ok;
}

/*
 * After an answer without SW: removed, or a communication error.  pcscd
 * notices a removal by polling, so wait briefly for it on this reader.
 */
static enum card_err
pcsc_lost(struct pcsc *p)
{
	SCARD_READERSTATE rs;
	LONG rv;

	memset(&rs, 0, sizeof(rs));
	rs.szReader = p->reader;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	rv = SCardGetStatusChange(p->ctx, 0, &rs, 1);
	if (rv == SCARD_S_SUCCESS && (rs.dwEventState & SCARD_STATE_PRESENT)) {
		rs.dwCurrentState = rs.dwEventState &
		    ~(DWORD)SCARD_STATE_CHANGED;
		rv = SCardGetStatusChange(p->ctx, PCSC_LOST_WAIT_MS, &rs, 1);
	}
	log_debug("answer without status word; reader state 0x%lX",
	    (unsigned long)rs.dwEventState);
	if (rv == SCARD_S_SUCCESS && (rs.dwEventState & SCARD_STATE_EMPTY))
		return CARD_E_REMOVED;
	return CARD_E_COMM;
}

enum card_err
pcsc_transmit(void *ctx, const uint8_t *c, size_t clen, uint8_t *r,
    size_t *rlen)
{
	struct pcsc *p = ctx;
	const SCARD_IO_REQUEST *pci;
	DWORD rl;
	LONG rv;

	if (p == NULL || !p->connected)
		return CARD_E_INVAL;
	if (clen < 4 || clen > MAX_BUFFER_SIZE_EXTENDED || *rlen < 2)
		return CARD_E_INVAL;
	rl = *rlen > MAX_BUFFER_SIZE_EXTENDED ? MAX_BUFFER_SIZE_EXTENDED :
	    (DWORD)*rlen;
	pci = p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	rv = SCardTransmit(p->card, pci, c, (DWORD)clen, NULL, r, &rl);
	if (rv != SCARD_S_SUCCESS) {
		*rlen = 0;
		return pcsc_fail("SCardTransmit", rv);
	}
	if (rl > *rlen)
		return CARD_E_COMM;
	if (rl < 2) {
		/* no status word: the reader lost the card (vpcd does this) */
		*rlen = 0;
		return pcsc_lost(p);
	}
	*rlen = rl;
	return CARD_OK;
}

enum card_err
pcsc_cancel(struct pcsc *p)
{
	LONG rv;

	rv = SCardCancel(p->ctx);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardCancel", rv);
	return CARD_OK;
}

/* Watch state: slot 0 is the PnP pseudo reader, then the readers. */
struct pcsc_watch {
	struct pcsc		*p;
	pcsc_watch_cb		 cb;
	void			*arg;
	char			 names[PCSC_MAX_READERS][PCSC_READER_NAME_MAX];
	SCARD_READERSTATE	 rs[1 + PCSC_MAX_READERS];
	size_t			 n;	/* readers, rs[1..n] */
	int			 stop;
};

static void
watch_emit(struct pcsc_watch *w, enum pcsc_event_type type, size_t i)
{
	struct pcsc_event ev;

	if (w->stop)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.reader = w->names[i - 1];
	if (type == PCSC_EV_INSERTED) {
		ev.atr = w->rs[i].rgbAtr;
		ev.atrlen = w->rs[i].cbAtr <= MAX_ATR_SIZE ?
		    w->rs[i].cbAtr : 0;
	}
	if (w->cb(&ev, w->arg) != 0)
		w->stop = 1;
}

static int
present(DWORD st)
{
	return (st & SCARD_STATE_PRESENT) != 0 &&
	    (st & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE)) == 0;
}

/* Report the change of reader i; remember the new state. */
static void
watch_reader(struct pcsc_watch *w, size_t i)
{
	DWORD cur = w->rs[i].dwCurrentState, ev = w->rs[i].dwEventState;

	if (present(cur) && !present(ev))
		watch_emit(w, PCSC_EV_REMOVED, i);
	else if (!present(cur) && present(ev))
		watch_emit(w, PCSC_EV_INSERTED, i);
	else if (present(cur) && present(ev) && cur != SCARD_STATE_UNAWARE &&
	    (cur >> 16) != (ev >> 16)) {
		/* pcsc-lite's event counter moved: removed and re-inserted */
		watch_emit(w, PCSC_EV_REMOVED, i);
		watch_emit(w, PCSC_EV_INSERTED, i);
	}
	w->rs[i].dwCurrentState = ev & ~(DWORD)SCARD_STATE_CHANGED;
}

/* Diff the reader list: report removed readers, add new ones. */
static enum card_err
watch_relist(struct pcsc_watch *w)
{
	struct pcsc_readers rl;
	size_t i, j;
	enum card_err e;

	if ((e = pcsc_list(w->p, &rl)) != CARD_OK)
		return e;
	for (i = 1; i <= w->n;) {
		for (j = 0; j < rl.count; j++)
			if (strcmp(rl.names[j], w->names[i - 1]) == 0)
				break;
		if (j < rl.count) {
			i++;
			continue;
		}
		if (present(w->rs[i].dwCurrentState))
			watch_emit(w, PCSC_EV_REMOVED, i);
		watch_emit(w, PCSC_EV_READER_REMOVED, i);
		/* close the gap, keeping szReader pointing at names[] */
		for (j = i; j < w->n; j++) {
			memcpy(w->names[j - 1], w->names[j],
			    sizeof(w->names[0]));
			w->rs[j] = w->rs[j + 1];
			w->rs[j].szReader = w->names[j - 1];
		}
		w->n--;
	}
	for (j = 0; j < rl.count && w->n < PCSC_MAX_READERS; j++) {
		if (!pcsc_wanted(w->p, rl.names[j]))
			continue;
		for (i = 1; i <= w->n; i++)
			if (strcmp(rl.names[j], w->names[i - 1]) == 0)
				break;
		if (i <= w->n)
			continue;
		w->n++;
		memcpy(w->names[w->n - 1], rl.names[j], sizeof(w->names[0]));
		memset(&w->rs[w->n], 0, sizeof(w->rs[0]));
		w->rs[w->n].szReader = w->names[w->n - 1];
		/* UNAWARE: the next wait returns its state at once */
		w->rs[w->n].dwCurrentState = SCARD_STATE_UNAWARE;
		watch_emit(w, PCSC_EV_READER_ADDED, w->n);
	}
	return CARD_OK;
}

static long long
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum card_err
pcsc_watch(struct pcsc *p, int timeout_ms, pcsc_watch_cb cb, void *arg)
{
	struct pcsc_watch *w;
	struct pcsc_readers rl;
	long long deadline = 0, left;
	DWORD wait;
	size_t i, first;
	enum card_err e;
	LONG rv;
	int pnp;

	if (cb == NULL)
		return CARD_E_INVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return CARD_E_NOMEM;
	w->p = p;
	w->cb = cb;
	w->arg = arg;
	if (timeout_ms >= 0)
		deadline = now_ms() + timeout_ms;

	/* baseline: the readers present now are not reported */
	if ((e = pcsc_list(p, &rl)) != CARD_OK)
		goto done;
	for (i = 0; i < rl.count; i++) {
		if (!pcsc_wanted(p, rl.names[i]))
			continue;
		memcpy(w->names[w->n], rl.names[i], sizeof(w->names[0]));
		w->rs[w->n + 1].szReader = w->names[w->n];
		w->rs[w->n + 1].dwCurrentState = SCARD_STATE_UNAWARE;
		w->n++;
	}
	w->rs[0].szReader = PCSC_PNP_NAME;
	w->rs[0].dwCurrentState = SCARD_STATE_UNAWARE;
	rv = SCardGetStatusChange(p->ctx, 0, w->rs, (DWORD)(w->n + 1));
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
		e = pcsc_fail("SCardGetStatusChange", rv);
		goto done;
	}
	pnp = (w->rs[0].dwEventState & SCARD_STATE_UNKNOWN) == 0;
	if (!pnp)
		log_info("pcscd has no reader hotplug notification: "
		    "re-listing readers every %d ms", PCSC_RELIST_MS);
	w->rs[0].dwCurrentState = w->rs[0].dwEventState &
	    ~(DWORD)SCARD_STATE_CHANGED;
	for (i = 1; i <= w->n; i++)
		watch_reader(w, i);	/* cards already present: inserted */

	while (!w->stop) {
		if (timeout_ms < 0)
			wait = INFINITE;
		else {
			if ((left = deadline - now_ms()) <= 0) {
				e = CARD_E_TIMEOUT;
				goto done;
			}
			wait = left > 0x7fffffff ? 0x7fffffff : (DWORD)left;
		}
		if (!pnp && wait > PCSC_RELIST_MS)
			wait = PCSC_RELIST_MS;
		first = pnp ? 0 : 1;
		if (!pnp && w->n == 0) {
			/* nothing to wait on: sleep until the next re-list */
			struct timespec ts = { wait / 1000,
			    (long)(wait % 1000) * 1000000 };

			(void)nanosleep(&ts, NULL);
			rv = SCARD_E_TIMEOUT;
		} else
			rv = SCardGetStatusChange(p->ctx, wait, w->rs + first,
			    (DWORD)(w->n + 1 - first));
		if (rv == SCARD_E_TIMEOUT) {
			if (!pnp && (e = watch_relist(w)) != CARD_OK)
				goto done;
			continue;
		}
		if (rv == SCARD_E_UNKNOWN_READER) {
			/* a reader vanished between two calls */
			if ((e = watch_relist(w)) != CARD_OK)
				goto done;
			continue;
		}
		if (rv != SCARD_S_SUCCESS) {
			e = pcsc_fail("SCardGetStatusChange", rv);
			goto done;
		}
		for (i = 1; i <= w->n && !w->stop; i++)
			if (w->rs[i].dwEventState & SCARD_STATE_CHANGED)
				watch_reader(w, i);
		if (pnp && (w->rs[0].dwEventState & SCARD_STATE_CHANGED)) {
			w->rs[0].dwCurrentState = w->rs[0].dwEventState &
			    ~(DWORD)SCARD_STATE_CHANGED;
			if ((e = watch_relist(w)) != CARD_OK)
				goto done;
		}
	}
	e = CARD_OK;
done:
	free(w);
	return e;
}
