/*
 * The JPKI card itself, as a pure state machine: bytes in, bytes out,
 * no I/O.  JPKI.md §11 is the specification; README.md in this
 * directory lists every choice made where the sources are silent.
 */
#ifndef VCARD_APPLET_H
#define VCARD_APPLET_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define APPLET_CERT_EF_SIZE	3808	/* as measured on a real card */
#define APPLET_FILLER		0xFF	/* EF bytes after the DER object */
#define APPLET_TOKEN_INFO_SIZE	160
#define APPLET_RAPDU_MAX	(APPLET_CERT_EF_SIZE + 2)

#define APPLET_AUTH_TRIES	3
#define APPLET_SIGN_TRIES	5
#define APPLET_PIN_MAXLEN	16

enum applet_token {
	APPLET_TOKEN_CARD,	/* JPKIAPICCTOKEN2: a physical card */
	APPLET_TOKEN_ANDROID	/* JPKIAPGPSETOKEN: 000A needs the PIN */
};

enum applet_pin {
	APPLET_PIN_AUTH,	/* EF 0018, 4 digits, 3 tries */
	APPLET_PIN_SIGN,	/* EF 001B, 6-16 of A-Z0-9, 5 tries */
	APPLET_NPINS
};

/*
 * Called after every change of a retry counter, before the answer is
 * produced; a non-zero return makes the card answer 6581 (memory
 * failure), the counter staying changed in memory.
 */
typedef int (*applet_tries_cb)(void *arg, int auth_tries, int sign_tries);

struct applet_config {
	enum applet_token	 token;
	const uint8_t		*auth_cert;	/* DER, required */
	size_t			 auth_cert_len;
	EVP_PKEY		*auth_key;	/* RSA-2048, required */
	const uint8_t		*auth_ca;	/* DER or NULL: EF 000B absent */
	size_t			 auth_ca_len;
	const uint8_t		*sign_cert;	/* DER or NULL: 0001/001A absent */
	size_t			 sign_cert_len;
	EVP_PKEY		*sign_key;	/* iff sign_cert */
	const uint8_t		*sign_ca;	/* DER or NULL: EF 0002 absent */
	size_t			 sign_ca_len;
	const char		*auth_pin;	/* NUL-terminated, validated */
	const char		*sign_pin;
	int			 auth_tries;	/* initial remaining, -1 = max */
	int			 sign_tries;
	applet_tries_cb		 tries_cb;	/* may be NULL */
	void			*tries_arg;
};

struct applet;

/*
 * Build a card.  The key objects are referenced (EVP_PKEY_up_ref), the
 * byte buffers and PINs copied.  On error returns NULL with a message.
 * The new card is powered off; applet_process works nonetheless.
 */
struct applet	*applet_new(const struct applet_config *, char *err,
		    size_t errlen);
void		 applet_free(struct applet *);

void		 applet_power_on(struct applet *);
void		 applet_power_off(struct applet *);
void		 applet_reset(struct applet *);	/* warm: keeps PIN state */

/*
 * Process one C-APDU.  *rlen is the capacity of rapdu on entry (at
 * least APPLET_RAPDU_MAX) and the R-APDU length (data + SW1 SW2) on
 * return.  Any byte string is a valid input.  Returns -1 only on a
 * caller error (NULL pointers, buffer too small), else 0.
 */
int		 applet_process(struct applet *, const uint8_t *capdu,
		    size_t clen, uint8_t *rapdu, size_t *rlen);

int		 applet_tries(const struct applet *, enum applet_pin);
int		 applet_verified(const struct applet *, enum applet_pin);

/* 1 if s has the format the card registers for that PIN, else 0. */
int		 applet_pin_valid(enum applet_pin, const char *s);

#endif
