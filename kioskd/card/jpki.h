/*
 * The JPKI application of the My Number card (user-authentication side
 * only), over an abstract transport so the unit tests can script the card.
 * JPKI.md §3-§5 and §12.  This module never touches EF 0001, 001A or 001B
 * (signature certificate, key and password) and never sends a VERIFY the
 * caller did not ask for.
 */
#ifndef KIOSK_JPKI_H
#define KIOSK_JPKI_H

#include <stddef.h>
#include <stdint.h>

#include "card_err.h"

/*
 * transmit: send the C-APDU c[0..clen) and store the R-APDU (data + SW) in
 * r; *rlen holds the capacity of r on entry and the answer length on
 * return.  max_short_le: the largest Le the reader passes in a short APDU
 * (0 means 256).  extended_ok: both reader and card take extended APDUs.
 */
struct card_transport {
	enum card_err	(*transmit)(void *ctx, const uint8_t *c, size_t clen,
			    uint8_t *r, size_t *rlen);
	void		*ctx;
	size_t		 max_short_le;
	int		 extended_ok;
};

enum jpki_token {
	JPKI_TOKEN_UNKNOWN = 0,
	JPKI_TOKEN_CARD,	/* JPKIAPICCTOKEN2: My Number card */
	JPKI_TOKEN_ANDROID,	/* JPKIAPGPSETOKEN: Android GP-SE */
	JPKI_TOKEN_IOS,		/* JPKIAPIOSTOKEN: iPhone */
	JPKI_TOKEN_JUKI		/* JPKIAPICCTOKEN: old Juki card */
};

#define JPKI_LABEL_LEN		32
#define JPKI_CERT_MAX		8192	/* cap on the user-auth certificate */
#define JPKI_SIG_LEN		256	/* RSA-2048 */
#define JPKI_AUTH_PIN_LEN	4
#define JPKI_AUTH_PIN_TRIES	3
#define JPKI_SHA256_LEN		32

#define JPKI_EF_TOKEN		0x0006
#define JPKI_EF_AUTH_CERT	0x000A
#define JPKI_EF_AUTH_KEY	0x0017
#define JPKI_EF_AUTH_PIN	0x0018

struct jpki_card {
	struct card_transport	 tr;
	unsigned long		 apdus;		/* APDUs sent, all kinds */
	int			 ap_selected;
	uint16_t		 cur_ef;	/* 0: none selected */
	uint16_t		 last_sw;	/* last status word seen */
};

enum jpki_sign_input {
	JPKI_SIGN_MESSAGE,	/* input is the message: hashed here */
	JPKI_SIGN_SHA256	/* input is its 32-byte SHA-256 */
};

void		jpki_init(struct jpki_card *, const struct card_transport *);
/* SELECT the JPKI AID (retried once after 6F00). */
enum card_err	jpki_select_ap(struct jpki_card *);
/* Token label from EF 0006; label gets the trimmed printable label. */
enum card_err	jpki_read_token(struct jpki_card *, enum jpki_token *,
		    char label[JPKI_LABEL_LEN + 1]);
/* The user-auth certificate, exactly the DER object (filler trimmed). */
enum card_err	jpki_read_auth_cert(struct jpki_card *, uint8_t *buf,
		    size_t buflen, size_t *certlen);
/* Tries left on the user-auth PIN: CARD_OK and *tries > 0, or
   CARD_E_PIN_BLOCKED and *tries == 0. */
enum card_err	jpki_pin_tries(struct jpki_card *, int *tries);
/* 1 when pin[0..len) is exactly 4 ASCII digits. */
int		jpki_pin_format_ok(const char *pin, size_t len);
/*
 * One VERIFY of the user-auth PIN.  Format checked before any APDU.
 * *tries_left: the tries left after CARD_E_PIN_WRONG, 0 when blocked,
 * JPKI_AUTH_PIN_TRIES after success, -1 when unknown.
 */
enum card_err	jpki_verify_pin(struct jpki_card *, const char *pin,
		    size_t len, int *tries_left);
/* PKCS#1 v1.5 SHA-256 signature with the user-auth key (after VERIFY). */
enum card_err	jpki_sign_auth(struct jpki_card *, enum jpki_sign_input,
		    const uint8_t *in, size_t inlen,
		    uint8_t sig[JPKI_SIG_LEN]);
const char	*jpki_token_name(enum jpki_token);

#endif
