/*
 * Error codes of the card access layer (APDU, JPKI, PC/SC).  One enum for
 * every layer so the card worker can map any failure to a screen and a
 * journal entry without knowing which layer produced it.
 */
#ifndef KIOSK_CARD_ERR_H
#define KIOSK_CARD_ERR_H

enum card_err {
	CARD_OK = 0,
	CARD_E_NO_SERVICE,	/* pcscd not running / not reachable */
	CARD_E_NO_READER,	/* no reader, or the named reader is absent */
	CARD_E_NO_CARD,		/* reader present, no card in it */
	CARD_E_REMOVED,		/* card removed during the session */
	CARD_E_RESET,		/* card reset by another program */
	CARD_E_BUSY,		/* card held exclusively by another program */
	CARD_E_COMM,		/* transport-level failure */
	CARD_E_PROTO,		/* malformed or unexpected answer */
	CARD_E_NOT_JPKI,	/* no JPKI application / unknown token */
	CARD_E_PIN_FORMAT,	/* PIN is not exactly 4 ASCII digits */
	CARD_E_PIN_WRONG,	/* VERIFY failed, tries remain */
	CARD_E_PIN_BLOCKED,	/* 63C0 / 6984 / 6983 */
	CARD_E_SECURITY,	/* 6982: security status not satisfied */
	CARD_E_TIMEOUT,
	CARD_E_CANCELLED,
	CARD_E_NOMEM,
	CARD_E_INVAL,		/* caller error: bad argument, small buffer */
	CARD_E__MAX
};

/* A sentence a technician understands; never NULL. */
const char	*card_strerror(enum card_err);
/* The enum name ("CARD_E_PROTO") for logs and tests; never NULL. */
const char	*card_errname(enum card_err);

#endif
