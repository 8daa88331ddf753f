/*
 * A faithful JPKI application (JPKI.md §11) as a pure state machine.
 *
 * State: the selected AP, the AP the security state belongs to, the
 * current EF, and per PIN {value, tries, max, verified}.  The security
 * state is cleared on power-off and when a different AP is selected; it
 * survives re-selecting the same AP, SELECT EF, signing and warm reset
 * (JPKI.md §5.1).  Decisions where the sources are silent are listed in
 * README.md next to this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "util.h"

#include "applet.h"
#include "capdu.h"

/* Status words used by the card (JPKI.md §4). */
enum {
	SW_OK			= 0x9000,
	SW_VERIFY_FAIL		= 0x63C0,	/* | tries left */
	SW_MEMORY_FAILURE	= 0x6581,
	SW_WRONG_LENGTH		= 0x6700,
	SW_SM_NOT_SUPPORTED	= 0x6882,
	SW_SECURITY		= 0x6982,
	SW_PIN_BLOCKED		= 0x6984,
	SW_CONDITIONS		= 0x6985,
	SW_NO_CURRENT_EF	= 0x6986,
	SW_SM_DATA_MISSING	= 0x69FC,
	SW_WRONG_DATA		= 0x6A80,
	SW_NOT_FOUND		= 0x6A82,
	SW_WRONG_P1P2		= 0x6A86,
	SW_REF_NOT_FOUND	= 0x6A88,
	SW_WRONG_OFFSET		= 0x6B00,
	SW_INS_NOT_SUPPORTED	= 0x6D00,
	SW_CLA_NOT_SUPPORTED	= 0x6E00,
	SW_UNKNOWN		= 0x6F00
};

enum ap {
	AP_NONE,	/* after power-up or reset: the GP ISD, implicitly */
	AP_ISD,
	AP_JPKI,
	AP_TEXT,
	AP_VISUAL,
	AP_JUKI,
	AP_COMMON
};

static const struct {
	enum ap		ap;
	size_t		len;
	uint8_t		aid[10];
	int		on_phone;	/* present with --token android */
} aid_table[] = {
	{ AP_JPKI, 10, { 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00,
	    0x00, 0x01 }, 1 },
	{ AP_TEXT, 10, { 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01,
	    0x04, 0x08 }, 0 },
	{ AP_VISUAL, 10, { 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01,
	    0x04, 0x02 }, 0 },
	{ AP_JUKI, 10, { 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01,
	    0x04, 0x01 }, 0 },
	{ AP_COMMON, 10, { 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01,
	    0x01, 0x00 }, 0 },
	{ AP_ISD, 7, { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00 }, 1 },
};
#define AID_PREFIX_MIN	5	/* a RID: shorter partial names are refused */

/* Contact ATR of JPKI (03) without TS, answered to GET DATA 5F51. */
static const uint8_t contact_atr[] = {
	0xC5, 0xFF, 0x81, 0x31, 0xFB, 0x45, 0x80, 0x73, 0xC6, 0x01, 0x00, 0x00
};

enum ef_kind {
	EF_DATA,	/* transparent, readable subject to read_pin */
	EF_KEY,		/* private key: COMPUTE DIGITAL SIGNATURE target */
	EF_PIN,		/* PIN IEF: VERIFY / CHANGE target */
	EF_OPAQUE	/* exists, never readable (0009, 0016) */
};

#define EF_MAX	16

struct ef {
	uint16_t	 fid;
	enum ef_kind	 kind;
	int		 read_pin;	/* -1 free, else the PIN to verify */
	int		 pin;		/* EF_KEY/EF_PIN: which PIN */
	uint8_t		*data;
	size_t		 size;
};

struct pin_state {
	uint8_t		 value[APPLET_PIN_MAXLEN];
	size_t		 len;
	int		 tries;
	int		 max;
	int		 verified;
};

struct applet {
	enum applet_token	 token;
	struct ef		 efs[EF_MAX];
	size_t			 nefs;
	EVP_PKEY		*key[APPLET_NPINS];
	struct pin_state	 pin[APPLET_NPINS];
	enum ap			 ap;
	enum ap			 sec_ap;
	int			 cur_ef;
	applet_tries_cb		 tries_cb;
	void			*tries_arg;
};

static void
seterr(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

int
applet_pin_valid(enum applet_pin which, const char *s)
{
	size_t i, len;

	if (s == NULL)
		return 0;
	len = strnlen(s, APPLET_PIN_MAXLEN + 1);
	if (which == APPLET_PIN_AUTH) {
		if (len != 4)
			return 0;
		for (i = 0; i < len; i++)
			if (s[i] < '0' || s[i] > '9')
				return 0;
		return 1;
	}
	if (which != APPLET_PIN_SIGN || len < 6 || len > APPLET_PIN_MAXLEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* Same check on raw VERIFY/CHANGE data, which is not NUL-terminated. */
static int
pin_bytes_valid(enum applet_pin which, const uint8_t *b, size_t len)
{
	char s[APPLET_PIN_MAXLEN + 1];
	int ok;

	if (len > APPLET_PIN_MAXLEN || memchr(b, '\0', len) != NULL)
		return 0;
	memcpy(s, b, len);
	s[len] = '\0';
	ok = applet_pin_valid(which, s);
	secure_wipe(s, sizeof(s));
	return ok;
}

static void
put_padded(uint8_t *dst, size_t len, const char *s)
{
	size_t n = strlen(s);

	memset(dst, ' ', len);
	memcpy(dst, s, n < len ? n : len);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * EF 0006: a serialised CK_TOKEN_INFO (JPKI.md §2).  The serial number
 * is derived from the auth certificate so that it is stable per card.
 */
static int
token_info_build(uint8_t *ti, enum applet_token token, const uint8_t *cert,
    size_t certlen)
{
	static const char hexd[] = "0123456789ABCDEF";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	if (EVP_Digest(cert, certlen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 8)
		return -1;
	put_padded(ti, 32, token == APPLET_TOKEN_ANDROID ?
	    "JPKIAPGPSETOKEN" : "JPKIAPICCTOKEN2");
	put_padded(ti + 32, 32, "JPKI-TEST kiosk-vcard");
	put_padded(ti + 64, 16, "VIRTUAL JPKI");
	for (i = 0; i < 8; i++) {
		ti[80 + 2 * i] = (uint8_t)hexd[md[i] >> 4];
		ti[80 + 2 * i + 1] = (uint8_t)hexd[md[i] & 0xf];
	}
	put_be32(ti + 96, 0x40D);	/* RNG|LOGIN_REQUIRED|USER_PIN_INIT|INIT */
	put_be32(ti + 100, 0);		/* maxSession: effectively infinite */
	put_be32(ti + 104, 0xFFFFFFFFu);	/* session: unavailable */
	put_be32(ti + 108, 0);		/* maxRwSession */
	put_be32(ti + 112, 0xFFFFFFFFu);	/* rwSession */
	put_be32(ti + 116, 16);		/* maxPinLen */
	put_be32(ti + 120, 6);		/* minPinLen */
	for (i = 124; i < 140; i += 4)
		put_be32(ti + i, 0xFFFFFFFFu);
	memcpy(ti + 140, "03", 2);	/* hardwareVersion */
	memcpy(ti + 142, "01", 2);	/* firmwareVersion */
	memset(ti + 144, ' ', 16);	/* utcTime: no clock */
	return 0;
}

static struct ef *
ef_add(struct applet *a, uint16_t fid, enum ef_kind kind, int read_pin,
    int pin)
{
	struct ef *e;

	if (a->nefs >= EF_MAX)
		return NULL;
	e = &a->efs[a->nefs++];
	e->fid = fid;
	e->kind = kind;
	e->read_pin = read_pin;
	e->pin = pin;
	e->data = NULL;
	e->size = 0;
	return e;
}

/* A certificate EF: the DER object, then filler up to the EF size. */
static int
ef_add_cert(struct applet *a, uint16_t fid, int read_pin, const uint8_t *der,
    size_t len)
{
	struct ef *e;

	if ((e = ef_add(a, fid, EF_DATA, read_pin, -1)) == NULL)
		return -1;
	if ((e->data = malloc(APPLET_CERT_EF_SIZE)) == NULL)
		return -1;
	memset(e->data, APPLET_FILLER, APPLET_CERT_EF_SIZE);
	memcpy(e->data, der, len);
	e->size = APPLET_CERT_EF_SIZE;
	return 0;
}

static int
ef_add_bytes(struct applet *a, uint16_t fid, const uint8_t *b, size_t len)
{
	struct ef *e;

	if ((e = ef_add(a, fid, EF_DATA, -1, -1)) == NULL)
		return -1;
	if ((e->data = malloc(len)) == NULL)
		return -1;
	memcpy(e->data, b, len);
	e->size = len;
	return 0;
}

/* A DER certificate that fits the EF and has no trailing bytes. */
static X509 *
cert_check(const uint8_t *der, size_t len, const char *what, char *err,
    size_t errlen)
{
	const uint8_t *p = der;
	X509 *x;
	char msg[128];

	if (der == NULL || len == 0 || len > APPLET_CERT_EF_SIZE) {
		snprintf(msg, sizeof(msg), "%s: missing or larger than the "
		    "%d-byte EF", what, APPLET_CERT_EF_SIZE);
		seterr(err, errlen, msg);
		return NULL;
	}
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		X509_free(x);
		snprintf(msg, sizeof(msg), "%s: not a DER certificate", what);
		seterr(err, errlen, msg);
		return NULL;
	}
	return x;
}

static int
key_check(EVP_PKEY *key, const uint8_t *der, size_t len, const char *what,
    char *err, size_t errlen)
{
	X509 *x;
	char msg[128];
	int ok;

	if ((x = cert_check(der, len, what, err, errlen)) == NULL)
		return -1;
	ok = key != NULL && EVP_PKEY_is_a(key, "RSA") &&
	    EVP_PKEY_get_bits(key) == 2048;
	if (!ok)
		snprintf(msg, sizeof(msg), "%s: key must be RSA-2048", what);
	else if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
		snprintf(msg, sizeof(msg), "%s: key does not match the "
		    "certificate", what);
		ok = 0;
	}
	X509_free(x);
	if (!ok) {
		seterr(err, errlen, msg);
		return -1;
	}
	return 0;
}

static int
pin_init(struct pin_state *p, enum applet_pin which, const char *value,
    int tries, int max)
{
	if (!applet_pin_valid(which, value) || tries < -1 || tries > max)
		return -1;
	p->len = strlen(value);
	memcpy(p->value, value, p->len);
	p->max = max;
	p->tries = tries == -1 ? max : tries;
	p->verified = 0;
	return 0;
}

struct applet *
applet_new(const struct applet_config *cf, char *err, size_t errlen)
{
	struct applet *a;
	X509 *x;
	uint8_t ti[APPLET_TOKEN_INFO_SIZE], avail[3];
	int has_sign;

	if (cf == NULL) {
		seterr(err, errlen, "no configuration");
		return NULL;
	}
	if (key_check(cf->auth_key, cf->auth_cert, cf->auth_cert_len,
	    "auth certificate", err, errlen) == -1)
		return NULL;
	has_sign = cf->sign_cert != NULL || cf->sign_key != NULL;
	if (has_sign && key_check(cf->sign_key, cf->sign_cert,
	    cf->sign_cert_len, "sign certificate", err, errlen) == -1)
		return NULL;
	if (cf->auth_ca != NULL) {
		if ((x = cert_check(cf->auth_ca, cf->auth_ca_len,
		    "auth CA certificate", err, errlen)) == NULL)
			return NULL;
		X509_free(x);
	}
	if (cf->sign_ca != NULL) {
		if ((x = cert_check(cf->sign_ca, cf->sign_ca_len,
		    "sign CA certificate", err, errlen)) == NULL)
			return NULL;
		X509_free(x);
	}
	if (cf->token != APPLET_TOKEN_CARD &&
	    cf->token != APPLET_TOKEN_ANDROID) {
		seterr(err, errlen, "unknown token type");
		return NULL;
	}

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	a->token = cf->token;
	a->cur_ef = -1;
	a->tries_cb = cf->tries_cb;
	a->tries_arg = cf->tries_arg;
	if (pin_init(&a->pin[APPLET_PIN_AUTH], APPLET_PIN_AUTH, cf->auth_pin,
	    cf->auth_tries, APPLET_AUTH_TRIES) == -1) {
		seterr(err, errlen, "auth PIN must be 4 digits, tries 0-3");
		goto fail;
	}
	if (pin_init(&a->pin[APPLET_PIN_SIGN], APPLET_PIN_SIGN, cf->sign_pin,
	    cf->sign_tries, APPLET_SIGN_TRIES) == -1) {
		seterr(err, errlen, "sign PIN must be 6-16 of A-Z0-9, "
		    "tries 0-5");
		goto fail;
	}
	if (EVP_PKEY_up_ref(cf->auth_key) != 1)
		goto nomem;
	a->key[APPLET_PIN_AUTH] = cf->auth_key;
	if (has_sign) {
		if (EVP_PKEY_up_ref(cf->sign_key) != 1)
			goto nomem;
		a->key[APPLET_PIN_SIGN] = cf->sign_key;
	}

	if (token_info_build(ti, cf->token, cf->auth_cert,
	    cf->auth_cert_len) == -1) {
		seterr(err, errlen, "cannot digest the auth certificate");
		goto fail;
	}
	/* EF 0008: byte 0 = signature cert, byte 1 = auth cert (MC). */
	avail[0] = has_sign ? 0x8F : 0x00;
	avail[1] = 0x8F;
	avail[2] = 0x00;

	if (has_sign && ef_add_cert(a, 0x0001, APPLET_PIN_SIGN,
	    cf->sign_cert, cf->sign_cert_len) == -1)
		goto nomem;
	if (cf->sign_ca != NULL && ef_add_cert(a, 0x0002, -1, cf->sign_ca,
	    cf->sign_ca_len) == -1)
		goto nomem;
	if (ef_add_bytes(a, 0x0006, ti, sizeof(ti)) == -1 ||
	    ef_add_bytes(a, 0x0008, avail, sizeof(avail)) == -1 ||
	    ef_add(a, 0x0009, EF_OPAQUE, -1, -1) == NULL)
		goto nomem;
	if (ef_add_cert(a, 0x000A, cf->token == APPLET_TOKEN_ANDROID ?
	    APPLET_PIN_AUTH : -1, cf->auth_cert, cf->auth_cert_len) == -1)
		goto nomem;
	if (cf->auth_ca != NULL && ef_add_cert(a, 0x000B, -1, cf->auth_ca,
	    cf->auth_ca_len) == -1)
		goto nomem;
	if (ef_add(a, 0x0016, EF_OPAQUE, -1, -1) == NULL ||
	    ef_add(a, 0x0017, EF_KEY, -1, APPLET_PIN_AUTH) == NULL ||
	    ef_add(a, 0x0018, EF_PIN, -1, APPLET_PIN_AUTH) == NULL)
		goto nomem;
	if (has_sign && ef_add(a, 0x001A, EF_KEY, -1, APPLET_PIN_SIGN) == NULL)
		goto nomem;
	/* The sign password IEF exists even on cards without the cert. */
	if (ef_add(a, 0x001B, EF_PIN, -1, APPLET_PIN_SIGN) == NULL)
		goto nomem;
	applet_power_off(a);
	return a;

 nomem:
	seterr(err, errlen, "out of memory");
 fail:
	applet_free(a);
	return NULL;
}

void
applet_free(struct applet *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nefs; i++)
		free(a->efs[i].data);
	for (i = 0; i < APPLET_NPINS; i++)
		EVP_PKEY_free(a->key[i]);
	secure_wipe(a, sizeof(*a));
	free(a);
}

static void
security_clear(struct applet *a)
{
	size_t i;

	for (i = 0; i < APPLET_NPINS; i++)
		a->pin[i].verified = 0;
}

void
applet_power_off(struct applet *a)
{
	security_clear(a);
	a->ap = AP_NONE;
	a->sec_ap = AP_NONE;
	a->cur_ef = -1;
}

void
applet_power_on(struct applet *a)
{
	applet_power_off(a);
}

/*
 * Warm reset: the selection returns to the power-up default but the
 * security state survives (JPKI.md §5.1, SCARD_RESET_CARD); it stays
 * bound to the AP it was earned in.
 */
void
applet_reset(struct applet *a)
{
	a->ap = AP_NONE;
	a->cur_ef = -1;
}

int
applet_tries(const struct applet *a, enum applet_pin which)
{
	if (a == NULL || which >= APPLET_NPINS)
		return -1;
	return a->pin[which].tries;
}

int
applet_verified(const struct applet *a, enum applet_pin which)
{
	if (a == NULL || which >= APPLET_NPINS)
		return 0;
	return a->pin[which].verified;
}

static int
persist(struct applet *a)
{
	if (a->tries_cb == NULL)
		return 0;
	return a->tries_cb(a->tries_arg, a->pin[APPLET_PIN_AUTH].tries,
	    a->pin[APPLET_PIN_SIGN].tries);
}

static int
ef_find(const struct applet *a, uint16_t fid)
{
	size_t i;

	for (i = 0; i < a->nefs; i++)
		if (a->efs[i].fid == fid)
			return (int)i;
	return -1;
}

static uint16_t
select_df(struct applet *a, const struct capdu *c)
{
	size_t i;
	int found = -1;

	if (c->p2 != 0x00 && c->p2 != 0x0C)
		return SW_WRONG_P1P2;
	if (c->nc == 0 || c->nc > 16)
		return SW_WRONG_LENGTH;
	for (i = 0; i < sizeof(aid_table) / sizeof(aid_table[0]); i++) {
		if (a->token == APPLET_TOKEN_ANDROID && !aid_table[i].on_phone)
			continue;
		if (c->nc == aid_table[i].len &&
		    memcmp(c->data, aid_table[i].aid, c->nc) == 0) {
			found = (int)i;
			break;
		}
	}
	/* Partial DF names are legal on this card (JICSAP): first match. */
	for (i = 0; found == -1 && c->nc >= AID_PREFIX_MIN &&
	    i < sizeof(aid_table) / sizeof(aid_table[0]); i++) {
		if (a->token == APPLET_TOKEN_ANDROID && !aid_table[i].on_phone)
			continue;
		if (c->nc < aid_table[i].len &&
		    memcmp(c->data, aid_table[i].aid, c->nc) == 0)
			found = (int)i;
	}
	if (found == -1)
		return SW_NOT_FOUND;
	if (aid_table[found].ap != a->sec_ap)
		security_clear(a);
	a->sec_ap = aid_table[found].ap;
	a->ap = aid_table[found].ap;
	a->cur_ef = -1;
	return SW_OK;
}

static uint16_t
select_ef(struct applet *a, const struct capdu *c)
{
	int idx;

	if (c->p2 != 0x00 && c->p2 != 0x0C)
		return SW_WRONG_P1P2;
	if (c->nc != 2)
		return SW_WRONG_LENGTH;
	/* Only the JPKI AP's files are modelled; elsewhere nothing exists. */
	if (a->ap != AP_JPKI)
		return SW_NOT_FOUND;
	if ((idx = ef_find(a, (uint16_t)(c->data[0] << 8 | c->data[1]))) < 0)
		return SW_NOT_FOUND;
	a->cur_ef = idx;
	return SW_OK;
}

static uint16_t
cmd_select(struct applet *a, const struct capdu *c)
{
	switch (c->p1) {
	case 0x04:
		return select_df(a, c);
	case 0x02:
		return select_ef(a, c);
	case 0x00:
		if (c->nc > 0)
			return select_ef(a, c);	/* 3F00 and co: 6A82 */
		/* SELECT MF quirk (JPKI.md §7). */
		if (c->p2 != 0x00 && c->p2 != 0x0C)
			return SW_WRONG_P1P2;
		return a->ap == AP_NONE ? SW_WRONG_P1P2 : SW_OK;
	default:
		return SW_WRONG_P1P2;
	}
}

static uint16_t
cmd_read_binary(struct applet *a, const struct capdu *c, uint8_t *out,
    size_t *outlen)
{
	const struct ef *e;
	size_t off, n;
	int idx;

	if (c->nc != 0 || !c->has_le)
		return SW_WRONG_LENGTH;
	if (c->p1 & 0x80) {
		if ((c->p1 & 0x60) != 0 || (c->p1 & 0x1F) == 0)
			return SW_WRONG_P1P2;
		if (a->ap != AP_JPKI ||
		    (idx = ef_find(a, c->p1 & 0x1F)) < 0)
			return SW_NOT_FOUND;
		a->cur_ef = idx;	/* READ BINARY by SFI selects the EF */
		off = c->p2;
	} else {
		if (a->cur_ef < 0)
			return SW_NO_CURRENT_EF;
		off = (size_t)c->p1 << 8 | c->p2;
	}
	e = &a->efs[a->cur_ef];
	if (e->kind != EF_DATA)
		return SW_SECURITY;
	if (e->read_pin >= 0 && !a->pin[e->read_pin].verified)
		return SW_SECURITY;
	if (off >= e->size)
		return SW_WRONG_OFFSET;
	n = e->size - off;
	if (n > c->ne)
		n = c->ne;
	memcpy(out, e->data + off, n);
	*outlen = n;
	return SW_OK;
}

/*
 * Resolve the key reference of VERIFY, CHANGE, SIGN and INTERNAL
 * AUTHENTICATE: P2 80 is the current EF, 80|SFI names an EF directly.
 */
static int
ref_resolve(struct applet *a, uint8_t p2, enum ef_kind kind, uint16_t *sw)
{
	int idx;

	if (p2 == 0x80) {
		if (a->cur_ef < 0 || a->efs[a->cur_ef].kind != kind) {
			*sw = SW_NO_CURRENT_EF;
			return -1;
		}
		return a->efs[a->cur_ef].pin;
	}
	if (p2 < 0x81 || p2 > 0x9E) {
		*sw = SW_WRONG_P1P2;
		return -1;
	}
	if (a->ap != AP_JPKI || (idx = ef_find(a, p2 & 0x1F)) < 0 ||
	    a->efs[idx].kind != kind) {
		*sw = SW_REF_NOT_FOUND;
		return -1;
	}
	return a->efs[idx].pin;
}

static uint16_t
cmd_verify(struct applet *a, const struct capdu *c)
{
	struct pin_state *p;
	uint16_t sw = SW_UNKNOWN;
	int which, match;

	if (c->p1 != 0x00)
		return SW_WRONG_P1P2;
	if ((which = ref_resolve(a, c->p2, EF_PIN, &sw)) < 0)
		return sw;
	p = &a->pin[which];
	/* The 5-byte "00 20 00 80 00" form counts as an empty VERIFY. */
	if (c->has_le && !(c->nc == 0 && !c->extended && c->ne == 256))
		return SW_WRONG_LENGTH;
	if (c->nc == 0)
		return (uint16_t)(SW_VERIFY_FAIL | p->tries);
	if (p->tries == 0)
		return SW_PIN_BLOCKED;
	match = c->nc == p->len &&
	    CRYPTO_memcmp(c->data, p->value, p->len) == 0;
	if (match) {
		p->verified = 1;
		if (p->tries != p->max) {
			p->tries = p->max;
			if (persist(a) != 0)
				return SW_MEMORY_FAILURE;
		}
		return SW_OK;
	}
	/* Any mismatch burns a try, whatever its length or format. */
	p->verified = 0;
	p->tries--;
	if (persist(a) != 0)
		return SW_MEMORY_FAILURE;
	return (uint16_t)(SW_VERIFY_FAIL | p->tries);
}

static uint16_t
cmd_change(struct applet *a, const struct capdu *c)
{
	struct pin_state *p;
	uint16_t sw = SW_UNKNOWN;
	int which;

	if (c->p1 != 0x01)
		return SW_WRONG_P1P2;
	if ((which = ref_resolve(a, c->p2, EF_PIN, &sw)) < 0)
		return sw;
	if (c->has_le || c->nc == 0)
		return SW_WRONG_LENGTH;
	p = &a->pin[which];
	if (!p->verified)
		return SW_SECURITY;
	if (!pin_bytes_valid((enum applet_pin)which, c->data, c->nc))
		return SW_WRONG_DATA;
	secure_wipe(p->value, sizeof(p->value));
	memcpy(p->value, c->data, c->nc);
	p->len = c->nc;
	return SW_OK;
}

/* P1 selects the scheme (JPKI.md §6, MC's survey). */
static int
rsa_sign(EVP_PKEY *key, uint8_t scheme, const uint8_t *in, size_t inlen,
    uint8_t *sig, size_t *siglen)
{
	EVP_PKEY_CTX *ctx;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const uint8_t *tbs = in;
	size_t tbslen = inlen;
	int ok;

	if (scheme == 0x01 || scheme == 0x03 || scheme == 0x05) {
		if (EVP_Digest(in, inlen, md, &mdlen, EVP_sha256(), NULL) != 1)
			return -1;
		tbs = md;
		tbslen = mdlen;
	}
	if ((ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL)
		return -1;
	ok = EVP_PKEY_sign_init(ctx) == 1;
	switch (scheme) {
	case 0x00:
	case 0x01:
		/* No digest: raw PKCS#1 v1.5 type-1 block over tbs. */
		ok = ok && EVP_PKEY_CTX_set_rsa_padding(ctx,
		    RSA_PKCS1_PADDING) == 1;
		break;
	case 0x02:
	case 0x03:
		ok = ok && EVP_PKEY_CTX_set_rsa_padding(ctx,
		    RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1;
		break;
	default:
		ok = ok && EVP_PKEY_CTX_set_rsa_padding(ctx,
		    RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx,
		    RSA_PSS_SALTLEN_DIGEST) == 1;
		break;
	}
	ok = ok && EVP_PKEY_sign(ctx, sig, siglen, tbs, tbslen) == 1;
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_cleanse(md, sizeof(md));
	return ok ? 0 : -1;
}

static uint16_t
cmd_sign(struct applet *a, const struct capdu *c, uint8_t *out,
    size_t *outlen)
{
	uint16_t sw = SW_UNKNOWN;
	size_t siglen;
	int which;

	if (c->p1 > 0x05)
		return SW_WRONG_P1P2;
	if ((which = ref_resolve(a, c->p2, EF_KEY, &sw)) < 0)
		return sw;
	if (c->nc == 0)
		return SW_WRONG_LENGTH;
	if (c->has_le && c->ne < 256)
		return SW_WRONG_LENGTH;	/* a 2048-bit signature cannot fit */
	if (!a->pin[which].verified)
		return SW_SECURITY;
	switch (c->p1) {
	case 0x00:
		if (c->nc > 245)
			return SW_CONDITIONS;
		break;
	case 0x02:
	case 0x04:
		if (c->nc != 32)
			return SW_CONDITIONS;
		break;
	default:
		break;		/* the card hashes: any length */
	}
	siglen = APPLET_RAPDU_MAX - 2;
	if (rsa_sign(a->key[which], c->p1, c->data, c->nc, out,
	    &siglen) == -1)
		return SW_UNKNOWN;
	*outlen = siglen;
	return SW_OK;
}

static uint16_t
cmd_get_challenge(const struct capdu *c, uint8_t *out, size_t *outlen)
{
	if (c->p1 != 0 || c->p2 != 0)
		return SW_WRONG_P1P2;
	if (c->nc != 0 || !c->has_le)
		return SW_WRONG_LENGTH;
	if (c->extended)
		return SW_CONDITIONS;
	if (RAND_bytes(out, (int)c->ne) != 1)
		return SW_UNKNOWN;
	*outlen = c->ne;
	return SW_OK;
}

static uint16_t
cmd_get_data(const struct applet *a, const struct capdu *c, uint8_t *out,
    size_t *outlen)
{
	if (c->nc != 0 || !c->has_le)
		return SW_WRONG_LENGTH;
	/* A phone has no contact interface, hence no contact ATR. */
	if (c->p1 != 0x5F || c->p2 != 0x51 ||
	    a->token == APPLET_TOKEN_ANDROID)
		return SW_REF_NOT_FOUND;
	if (c->ne < sizeof(contact_atr))
		return SW_WRONG_LENGTH;
	memcpy(out, contact_atr, sizeof(contact_atr));
	*outlen = sizeof(contact_atr);
	return SW_OK;
}

/* Not the JPKI signing command: refused on every key (JPKI.md §6). */
static uint16_t
cmd_internal_auth(struct applet *a, const struct capdu *c)
{
	uint16_t sw = SW_UNKNOWN;
	int which;

	if (c->p1 != 0x00)
		return SW_WRONG_P1P2;
	if ((which = ref_resolve(a, c->p2, EF_KEY, &sw)) < 0)
		return sw;
	if (c->nc == 0)
		return SW_WRONG_LENGTH;
	if (!a->pin[which].verified)
		return SW_SECURITY;
	return SW_CONDITIONS;
}

/* Which class an instruction belongs to: 0x00, 0x80, or -1 unknown. */
static int
ins_class(uint8_t ins)
{
	switch (ins) {
	case 0xA4:	/* SELECT */
	case 0xB0:	/* READ BINARY */
	case 0x20:	/* VERIFY */
	case 0x24:	/* CHANGE REFERENCE DATA */
	case 0x84:	/* GET CHALLENGE */
	case 0xCA:	/* GET DATA */
	case 0x88:	/* INTERNAL AUTHENTICATE */
		return 0x00;
	case 0x2A:	/* COMPUTE DIGITAL SIGNATURE */
	case 0xFC:	/* last command indicator (iPhone only) */
		return 0x80;
	default:
		return -1;
	}
}

static uint16_t
dispatch(struct applet *a, const uint8_t *capdu, size_t clen, uint8_t *out,
    size_t *outlen)
{
	struct capdu c;
	int wellformed, cls;

	if (clen < CAPDU_HDR)
		return SW_WRONG_LENGTH;
	wellformed = capdu_parse(&c, capdu, clen) == 0;
	if ((c.cla & ~0x0C) != 0x00 && (c.cla & ~0x0C) != 0x80)
		return SW_CLA_NOT_SUPPORTED;
	if (c.cla & 0x0C)
		return c.ins == 0xA4 ? SW_SM_NOT_SUPPORTED :
		    SW_SM_DATA_MISSING;
	if ((cls = ins_class(c.ins)) == -1)
		return SW_INS_NOT_SUPPORTED;
	if (cls != c.cla)
		return SW_CLA_NOT_SUPPORTED;
	if (!wellformed)
		return SW_WRONG_LENGTH;
	switch (c.ins) {
	case 0xA4:
		return cmd_select(a, &c);
	case 0xB0:
		return cmd_read_binary(a, &c, out, outlen);
	case 0x20:
		return cmd_verify(a, &c);
	case 0x24:
		return cmd_change(a, &c);
	case 0x84:
		return cmd_get_challenge(&c, out, outlen);
	case 0xCA:
		return cmd_get_data(a, &c, out, outlen);
	case 0x88:
		return cmd_internal_auth(a, &c);
	case 0x2A:
		return cmd_sign(a, &c, out, outlen);
	case 0xFC:
		return SW_WRONG_LENGTH;	/* physical cards and Android */
	default:
		return SW_INS_NOT_SUPPORTED;
	}
}

int
applet_process(struct applet *a, const uint8_t *capdu, size_t clen,
    uint8_t *rapdu, size_t *rlen)
{
	size_t n = 0;
	uint16_t sw;

	if (a == NULL || (capdu == NULL && clen > 0) || rapdu == NULL ||
	    rlen == NULL || *rlen < APPLET_RAPDU_MAX)
		return -1;
	sw = dispatch(a, capdu, clen, rapdu, &n);
	if (n > APPLET_RAPDU_MAX - 2)
		sw = SW_UNKNOWN;	/* cannot happen: every EF fits */
	if (sw != SW_OK)
		n = 0;
	rapdu[n] = (uint8_t)(sw >> 8);
	rapdu[n + 1] = (uint8_t)sw;
	*rlen = n + 2;
	return 0;
}
