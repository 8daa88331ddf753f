/*
 * PC/SC transport (pcsc-lite).  PC/SC types stay inside pcsc.c: callers see
 * struct pcsc, card_err and plain C types only.
 *
 * Reader choice (at pcsc_connect): a name given to pcsc_open must match a
 * reader exactly or be a prefix of exactly one reader name ("Test VPCD"
 * for "Test VPCD 00 00").  Without a name, the first reader holding a card
 * is used; with a single reader and no card, that reader (connect then
 * reports CARD_E_NO_CARD); several readers and none with a card is
 * CARD_E_NO_CARD.  A kiosk names its reader in its configuration.
 */
#ifndef KIOSK_PCSC_H
#define KIOSK_PCSC_H

#include <stddef.h>
#include <stdint.h>

#include "card_err.h"

struct card_transport;
struct pcsc;

#define PCSC_READER_NAME_MAX	128	/* pcsc-lite MAX_READERNAME */
#define PCSC_MAX_READERS	16	/* pcsc-lite's limit per context */
#define PCSC_ATR_MAX		33

enum pcsc_event_type {
	PCSC_EV_INSERTED,
	PCSC_EV_REMOVED,
	PCSC_EV_READER_ADDED,
	PCSC_EV_READER_REMOVED
};

struct pcsc_event {
	enum pcsc_event_type	 type;
	const char		*reader;
	const uint8_t		*atr;		/* PCSC_EV_INSERTED only */
	size_t			 atrlen;	/* 0 for a mute card */
};

/* Return non-zero to stop pcsc_watch (which then returns CARD_OK). */
typedef int (*pcsc_watch_cb)(const struct pcsc_event *, void *arg);

/* Establish a PC/SC context; reader may be NULL (see above). */
enum card_err	pcsc_open(struct pcsc **pp, const char *reader);
/* Disconnect (unpowering after an exclusive session) and release. */
void		pcsc_close(struct pcsc *);
/*
 * Pick the reader and connect, T=1 or T=0.  exclusive: SCARD_SHARE_EXCLUSIVE
 * (while a PIN will be verified), else SCARD_SHARE_SHARED.
 */
enum card_err	pcsc_connect(struct pcsc *, int exclusive);
/* unpower: SCARD_UNPOWER_CARD (after a PIN session), else LEAVE_CARD. */
enum card_err	pcsc_disconnect(struct pcsc *, int unpower);
/* The connected reader's name, "" before pcsc_connect. */
const char	*pcsc_reader_name(const struct pcsc *);
/* The ATR read at connect time. */
enum card_err	pcsc_atr(const struct pcsc *, uint8_t *atr, size_t cap,
		    size_t *len);
/* 1 when both the card's ATR and the reader allow extended APDUs. */
int		pcsc_extended_ok(const struct pcsc *);
/* Fill a transport for jpki_init() bound to this connection. */
void		pcsc_transport(struct pcsc *, struct card_transport *);
/* The card_transport transmit function; ctx is the struct pcsc. */
enum card_err	pcsc_transmit(void *ctx, const uint8_t *c, size_t clen,
		    uint8_t *r, size_t *rlen);
/*
 * Report card and reader events until cb asks to stop (CARD_OK), the
 * timeout expires (CARD_E_TIMEOUT; timeout_ms < 0: none), pcsc_cancel is
 * called (CARD_E_CANCELLED) or an error.  A card already present when the
 * watch starts is reported as inserted; readers present at the start are
 * not reported.  Blocks in SCardGetStatusChange, no polling (except a 1 s
 * re-list when pcscd lacks reader hotplug notification).
 */
enum card_err	pcsc_watch(struct pcsc *, int timeout_ms, pcsc_watch_cb cb,
		    void *arg);
/* Wake a pcsc_watch blocked in another thread (SCardCancel). */
enum card_err	pcsc_cancel(struct pcsc *);

#endif
