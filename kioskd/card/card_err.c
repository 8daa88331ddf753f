#include "card_err.h"

static const struct {
	const char	*name;
	const char	*msg;
} card_errtab[CARD_E__MAX] = {
	[CARD_OK] = { "CARD_OK", "success" },
	[CARD_E_NO_SERVICE] = { "CARD_E_NO_SERVICE",
	    "the smart card service (pcscd) is not running" },
	[CARD_E_NO_READER] = { "CARD_E_NO_READER",
	    "no card reader found (check the cable and the reader name)" },
	[CARD_E_NO_CARD] = { "CARD_E_NO_CARD",
	    "no card in the reader" },
	[CARD_E_REMOVED] = { "CARD_E_REMOVED",
	    "the card was removed during the operation" },
	[CARD_E_RESET] = { "CARD_E_RESET",
	    "the card was reset by another program" },
	[CARD_E_BUSY] = { "CARD_E_BUSY",
	    "the card is in use by another program" },
	[CARD_E_COMM] = { "CARD_E_COMM",
	    "communication with the card failed (card badly placed or "
	    "reader fault)" },
	[CARD_E_PROTO] = { "CARD_E_PROTO",
	    "the card gave an unexpected or malformed answer" },
	[CARD_E_NOT_JPKI] = { "CARD_E_NOT_JPKI",
	    "not a My Number card: no JPKI application found" },
	[CARD_E_PIN_FORMAT] = { "CARD_E_PIN_FORMAT",
	    "the PIN must be exactly 4 digits" },
	[CARD_E_PIN_WRONG] = { "CARD_E_PIN_WRONG", "wrong PIN" },
	[CARD_E_PIN_BLOCKED] = { "CARD_E_PIN_BLOCKED",
	    "PIN blocked: the card must be unblocked at a municipal office" },
	[CARD_E_SECURITY] = { "CARD_E_SECURITY",
	    "the card refused the operation: PIN not verified (6982)" },
	[CARD_E_TIMEOUT] = { "CARD_E_TIMEOUT",
	    "timed out waiting for the card or reader" },
	[CARD_E_CANCELLED] = { "CARD_E_CANCELLED",
	    "operation cancelled" },
	[CARD_E_NOMEM] = { "CARD_E_NOMEM", "out of memory" },
	[CARD_E_INVAL] = { "CARD_E_INVAL",
	    "internal error: invalid argument to the card layer" },
};

const char *
card_strerror(enum card_err e)
{
	if ((unsigned int)e >= CARD_E__MAX)
		return "unknown card error";
	return card_errtab[e].msg;
}

const char *
card_errname(enum card_err e)
{
	if ((unsigned int)e >= CARD_E__MAX)
		return "CARD_E_UNKNOWN";
	return card_errtab[e].name;
}
