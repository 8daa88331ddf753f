/*
 * Fake card transports for the unit tests (not part of libcard.a): a
 * script of expected C-APDUs with canned answers, or a small simulated
 * JPKI card after JPKI.md §11.  Every command sent is logged so a test can
 * assert the exact sequence and count.
 */
#ifndef KIOSK_CARD_FAKE_H
#define KIOSK_CARD_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "card_err.h"
#include "jpki.h"

#define FAKE_LOG_MAX	1024
#define FAKE_CMD_MAX	300
#define FAKE_EF_MAX	(JPKI_CERT_MAX + 1024)

struct fake_step {
	const char	*cmd;	/* expected C-APDU in hex; NULL: anything */
	const char	*resp;	/* R-APDU in hex (data + SW) */
	enum card_err	 err;	/* transport error instead, when not OK */
};

struct fake_card;
/* Called on every simulated answer: may rewrite r (capacity rcap). */
typedef enum card_err (*fake_mutate_fn)(struct fake_card *, uint8_t *r,
    size_t *rlen, size_t rcap);

struct fake_card {
	/* script mode (script != NULL) */
	const struct fake_step	*script;
	size_t			 nscript;
	size_t			 pos;
	int			 script_error;	/* unexpected command */
	char			 why[256];

	/* simulated card mode */
	const char		*label;		/* EF 0006 label */
	uint8_t			 cert_ef[FAKE_EF_MAX];
	size_t			 cert_ef_size;	/* EF size (cert + filler) */
	char			 pin[8];
	int			 tries;
	int			 max_tries;
	int			 verified;
	int			 cert_needs_pin;	/* Android GP-SE */
	int			 answer_6f00;	/* next N APDUs get 6F00 */
	int			 no_jpki;
	uint16_t		 sign_sw;	/* forced SW for 80 2A */
	fake_mutate_fn		 mutate;
	void			*arg;
	uint16_t		 ef;
	int			 ap;

	/* log of every command received */
	uint8_t			 log[FAKE_LOG_MAX][FAKE_CMD_MAX];
	size_t			 loglen[FAKE_LOG_MAX];
	size_t			 nlog;
	size_t			 ncalls;
	size_t			 verify_with_data;
	size_t			 forbidden;	/* SELECT 0001/001A/001B */
};

/* Reset f to a blank simulated card: label JPKIAPICCTOKEN2, PIN 1234. */
void		fake_sim_init(struct fake_card *f);
/* Put a DER-shaped certificate of total length len into EF 000A. */
void		fake_sim_cert(struct fake_card *f, size_t len, size_t ef_size);
/* Reset f to script mode. */
void		fake_script_init(struct fake_card *f,
		    const struct fake_step *s, size_t n);
void		fake_transport(struct fake_card *f, struct card_transport *tr,
		    int extended_ok);
enum card_err	fake_transmit(void *ctx, const uint8_t *c, size_t clen,
		    uint8_t *r, size_t *rlen);
/* 1 when log entry i equals the hex string. */
int		fake_sent(const struct fake_card *f, size_t i, const char *hex);

#endif
