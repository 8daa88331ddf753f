/*
 * JPKI user-authentication protocol (JPKI.md §3-§5, §10, §12).
 *
 * Every answer is checked for its exact length and status word; anything
 * else is CARD_E_PROTO.  The command buffer is wiped after every transmit
 * because one of the commands carries the PIN.  61xx (GET RESPONSE) and
 * 6Cxx (re-send with the right Le, READ BINARY only) are handled although
 * the JPKI AP, a T=1 card, is not known to emit them.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "apdu.h"
#include "der.h"
#include "hex.h"
#include "jpki.h"
#include "log.h"
#include "util.h"

/* Largest command we ever build: short, 255 data bytes, or extended Le. */
#define JPKI_CMD_MAX		(4 + 1 + APDU_SHORT_MAX_LC + 1)
/* Largest answer we accept: the whole certificate in one extended read. */
#define JPKI_RESP_MAX		(JPKI_CERT_MAX + 2)
#define JPKI_GETRESP_MAX	32	/* GET RESPONSE rounds per command */
#define JPKI_READS_MAX		256	/* READ BINARY commands per cert */
#define JPKI_OFFSET_MAX		0x7fff	/* 15-bit offset of READ BINARY */

#define XF_RESEND_6C		0x01	/* idempotent: may re-send on 6Cxx */

static const uint8_t jpki_aid[] = {
	0xd3, 0x92, 0xf0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01
};

/* DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1). */
static const uint8_t sha256_prefix[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};

static const struct {
	const char	*label;
	enum jpki_token	 token;
} jpki_labels[] = {
	{ "JPKIAPICCTOKEN2", JPKI_TOKEN_CARD },
	{ "JPKIAPGPSETOKEN", JPKI_TOKEN_ANDROID },
	{ "JPKIAPIOSTOKEN", JPKI_TOKEN_IOS },
	{ "JPKIAPICCTOKEN", JPKI_TOKEN_JUKI },
};

void
jpki_init(struct jpki_card *c, const struct card_transport *tr)
{
	memset(c, 0, sizeof(*c));
	c->tr = *tr;
}

const char *
jpki_token_name(enum jpki_token t)
{
	switch (t) {
	case JPKI_TOKEN_CARD:
		return "card";
	case JPKI_TOKEN_ANDROID:
		return "android";
	case JPKI_TOKEN_IOS:
		return "ios";
	case JPKI_TOKEN_JUKI:
		return "juki";
	case JPKI_TOKEN_UNKNOWN:
		break;
	}
	return "unknown";
}

static void
jpki_trace_cmd(const struct apdu *a, const uint8_t *cmd, size_t clen)
{
	char hex[2 * JPKI_CMD_MAX + 1];

	if (log_getverbose() < 2)
		return;
	if (a->ins == 0x20 && a->lc > 0) {
		/* VERIFY with data: the PIN never reaches a log */
		hex_encode(hex, sizeof(hex), cmd, 4);
		log_debug("apdu> %s (PIN, %zu bytes, not shown)", hex, a->lc);
	} else {
		hex_encode(hex, sizeof(hex), cmd, clen);
		log_debug("apdu> %s", hex);
	}
}

/*
 * Errors a transport may report.  PIN and application errors come from
 * status words only, so a confused transport cannot fake "wrong PIN".
 */
static int
transport_err(enum card_err e)
{
	switch (e) {
	case CARD_E_NO_SERVICE:
	case CARD_E_NO_READER:
	case CARD_E_NO_CARD:
	case CARD_E_REMOVED:
	case CARD_E_RESET:
	case CARD_E_BUSY:
	case CARD_E_COMM:
	case CARD_E_PROTO:
	case CARD_E_TIMEOUT:
	case CARD_E_CANCELLED:
	case CARD_E_NOMEM:
	case CARD_E_INVAL:
		return 1;
	default:
		return 0;
	}
}

/* One exchange: build, count, transmit, wipe, split. */
static enum card_err
jpki_raw(struct jpki_card *c, const struct apdu *a, uint8_t *r, size_t rcap,
    struct rapdu *ra)
{
	uint8_t cmd[JPKI_CMD_MAX];
	size_t clen, rlen;
	enum card_err e;

	if ((e = apdu_build(a, cmd, sizeof(cmd), &clen)) != CARD_OK)
		return e;
	jpki_trace_cmd(a, cmd, clen);
	rlen = rcap;
	c->apdus++;
	e = c->tr.transmit(c->tr.ctx, cmd, clen, r, &rlen);
	secure_wipe(cmd, sizeof(cmd));
	if (e != CARD_OK) {
		if (!transport_err(e))
			e = CARD_E_COMM;
		log_debug("apdu< transport error: %s", card_strerror(e));
		return e;
	}
	if (rlen > rcap)
		return CARD_E_COMM;	/* transport broke its contract */
	if ((e = apdu_split(r, rlen, ra)) != CARD_OK) {
		log_debug("apdu< %zu bytes: no status word", rlen);
		return e;
	}
	c->last_sw = ra->sw;
	log_debug("apdu< %zu data bytes, SW %04X", ra->len, ra->sw);
	return CARD_OK;
}

/*
 * A command with its data answer collected into out[0..outcap): follows
 * 61xx with GET RESPONSE when the command expects data, and re-sends once
 * with the card's Le on 6Cxx when flags allow.  The final SW goes to *sw;
 * more data than outcap is CARD_E_PROTO.
 */
static enum card_err
jpki_cmd(struct jpki_card *c, const struct apdu *a0, int flags, uint8_t *out,
    size_t outcap, size_t *outlen, uint16_t *sw)
{
	uint8_t r[JPKI_RESP_MAX];
	struct apdu a = *a0, gr;
	struct rapdu ra;
	size_t n;
	int resent = 0, rounds = 0;
	enum card_err e;

	*outlen = 0;
	*sw = 0;
	for (;;) {
		if ((e = jpki_raw(c, &a, r, sizeof(r), &ra)) != CARD_OK)
			return e;
		if (apdu_sw1(ra.sw) == 0x6c && ra.len == 0 && a.le > 0 &&
		    (flags & XF_RESEND_6C) && !resent) {
			resent = 1;
			a.le = apdu_sw2(ra.sw) == 0 ? 256 : apdu_sw2(ra.sw);
			a.extended = 0;
			continue;
		}
		break;
	}
	if (ra.len > outcap)
		return CARD_E_PROTO;
	memcpy(out, ra.data, ra.len);
	n = ra.len;
	while (apdu_sw1(ra.sw) == 0x61 && a0->le > 0) {
		if (++rounds > JPKI_GETRESP_MAX)
			return CARD_E_PROTO;
		memset(&gr, 0, sizeof(gr));
		gr.ins = 0xc0;
		gr.le = apdu_sw2(ra.sw) == 0 ? 256 : apdu_sw2(ra.sw);
		if ((e = jpki_raw(c, &gr, r, sizeof(r), &ra)) != CARD_OK)
			return e;
		if (ra.len > outcap - n)
			return CARD_E_PROTO;
		memcpy(out + n, ra.data, ra.len);
		n += ra.len;
	}
	*outlen = n;
	*sw = ra.sw;
	return CARD_OK;
}

/* Commands whose answer must carry no data: *sw gets the status word. */
static enum card_err
jpki_cmd_nodata(struct jpki_card *c, const struct apdu *a, uint16_t *sw)
{
	uint8_t none[1];
	size_t n;
	enum card_err e;

	if ((e = jpki_cmd(c, a, 0, none, 0, &n, sw)) != CARD_OK)
		return e;
	return CARD_OK;
}

/* A SW that says "this application or file does not exist here". */
static int
sw_absent(uint16_t sw)
{
	switch (apdu_sw1(sw)) {
	case 0x68:	/* CLA function not supported */
	case 0x69:	/* command not allowed */
	case 0x6a:	/* wrong parameters / not found */
	case 0x6d:	/* INS not supported */
	case 0x6e:	/* CLA not supported */
		return 1;
	}
	return 0;
}

enum card_err
jpki_select_ap(struct jpki_card *c)
{
	struct apdu a;
	uint16_t sw;
	enum card_err e;
	int attempt;

	c->ap_selected = 0;
	c->cur_ef = 0;
	memset(&a, 0, sizeof(a));
	a.ins = 0xa4;
	a.p1 = 0x04;
	a.p2 = 0x0c;
	a.data = jpki_aid;
	a.lc = sizeof(jpki_aid);
	/* first APDU after power-up may be answered 6F00: retry once */
	for (attempt = 0; attempt < 2; attempt++) {
		if ((e = jpki_cmd_nodata(c, &a, &sw)) != CARD_OK)
			return e;
		if (sw != 0x6f00)
			break;
		log_debug("SELECT JPKI AP answered 6F00 (attempt %d)",
		    attempt + 1);
	}
	if (sw == SW_OK) {
		c->ap_selected = 1;
		return CARD_OK;
	}
	if (sw_absent(sw))
		return CARD_E_NOT_JPKI;
	return CARD_E_PROTO;
}

static enum card_err
jpki_select_ef(struct jpki_card *c, uint16_t fid)
{
	struct apdu a;
	uint8_t f[2];
	uint16_t sw;
	enum card_err e;

	c->cur_ef = 0;
	f[0] = (uint8_t)(fid >> 8);
	f[1] = (uint8_t)fid;
	memset(&a, 0, sizeof(a));
	a.ins = 0xa4;
	a.p1 = 0x02;
	a.p2 = 0x0c;
	a.data = f;
	a.lc = sizeof(f);
	if ((e = jpki_cmd_nodata(c, &a, &sw)) != CARD_OK)
		return e;
	if (sw == SW_OK) {
		c->cur_ef = fid;
		return CARD_OK;
	}
	if (sw == 0x6a82)
		return CARD_E_NOT_JPKI;	/* a JPKI AP always has these EFs */
	return CARD_E_PROTO;
}

enum card_err
jpki_read_token(struct jpki_card *c, enum jpki_token *token,
    char label[JPKI_LABEL_LEN + 1])
{
	uint8_t raw[JPKI_LABEL_LEN];
	struct apdu a;
	size_t n, i, len;
	uint16_t sw;
	enum card_err e;
	int printable = 1;

	*token = JPKI_TOKEN_UNKNOWN;
	label[0] = '\0';
	if ((e = jpki_select_ef(c, JPKI_EF_TOKEN)) != CARD_OK)
		return e;
	memset(&a, 0, sizeof(a));
	a.ins = 0xb0;
	a.le = JPKI_LABEL_LEN;
	if ((e = jpki_cmd(c, &a, XF_RESEND_6C, raw, sizeof(raw), &n, &sw)) !=
	    CARD_OK)
		return e;
	if (sw == 0x6982)
		return CARD_E_SECURITY;
	if (sw != SW_OK || n != JPKI_LABEL_LEN)
		return CARD_E_PROTO;
	/* label: ASCII, padded with spaces (or NULs on some cards) */
	for (len = JPKI_LABEL_LEN; len > 0; len--)
		if (raw[len - 1] != ' ' && raw[len - 1] != '\0')
			break;
	for (i = 0; i < len; i++) {
		if (raw[i] < 0x20 || raw[i] > 0x7e) {
			printable = 0;
			label[i] = '?';
		} else
			label[i] = (char)raw[i];
	}
	label[len] = '\0';
	if (!printable)
		return CARD_E_NOT_JPKI;
	for (i = 0; i < sizeof(jpki_labels) / sizeof(jpki_labels[0]); i++) {
		if (strcmp(label, jpki_labels[i].label) == 0) {
			*token = jpki_labels[i].token;
			return CARD_OK;
		}
	}
	return CARD_E_NOT_JPKI;
}

/* Status of a READ BINARY chunk: data ok, data + end of file, or error. */
static enum card_err
read_sw(uint16_t sw, size_t n, int *eof)
{
	*eof = 0;
	if (sw == SW_OK)
		return n > 0 ? CARD_OK : CARD_E_PROTO;
	if (sw == 0x6282 && n > 0) {
		*eof = 1;
		return CARD_OK;
	}
	if (sw == 0x6982)
		return CARD_E_SECURITY;
	/* 6B00 / 6282 without data: the EF ended before the object */
	return CARD_E_PROTO;
}

enum card_err
jpki_read_auth_cert(struct jpki_card *c, uint8_t *buf, size_t buflen,
    size_t *certlen)
{
	uint8_t chunk[JPKI_CERT_MAX];
	struct der_hdr h;
	struct apdu a;
	size_t n, off, remain, take, maxshort;
	uint16_t sw;
	enum card_err e;
	int eof, reads;

	*certlen = 0;
	if (buf == NULL || buflen == 0)
		return CARD_E_INVAL;
	maxshort = c->tr.max_short_le;
	if (maxshort == 0 || maxshort > APDU_SHORT_MAX_LE)
		maxshort = APDU_SHORT_MAX_LE;
	if ((e = jpki_select_ef(c, JPKI_EF_AUTH_CERT)) != CARD_OK)
		return e;

	/* the first chunk (Le=00: 256 bytes) carries the DER header */
	memset(&a, 0, sizeof(a));
	a.ins = 0xb0;
	a.le = maxshort;
	if ((e = jpki_cmd(c, &a, XF_RESEND_6C, chunk, APDU_SHORT_MAX_LE, &n,
	    &sw)) != CARD_OK)
		return e;
	if ((e = read_sw(sw, n, &eof)) != CARD_OK)
		return e;
	if (der_header(chunk, n, JPKI_CERT_MAX, &h) != DER_OK ||
	    h.tag != DER_TAG_SEQUENCE || h.len == 0)
		return CARD_E_PROTO;	/* empty EF, filler, or not DER */
	if (h.total > buflen)
		return CARD_E_INVAL;
	/* bytes past the object are card filler: never copied out */
	off = n < h.total ? n : h.total;
	memcpy(buf, chunk, off);

	for (reads = 1; off < h.total; reads++) {
		if (eof || reads >= JPKI_READS_MAX || off > JPKI_OFFSET_MAX)
			return CARD_E_PROTO;
		remain = h.total - off;
		memset(&a, 0, sizeof(a));
		a.ins = 0xb0;
		a.p1 = (uint8_t)(off >> 8);
		a.p2 = (uint8_t)off;
		if (c->tr.extended_ok && remain > maxshort) {
			a.le = remain;
			a.extended = 1;
		} else
			a.le = remain < maxshort ? remain : maxshort;
		if ((e = jpki_cmd(c, &a, XF_RESEND_6C, chunk, sizeof(chunk),
		    &n, &sw)) != CARD_OK)
			return e;
		if ((e = read_sw(sw, n, &eof)) != CARD_OK)
			return e;
		take = n < remain ? n : remain;
		memcpy(buf + off, chunk, take);
		off += take;
	}
	*certlen = h.total;
	return CARD_OK;
}

/* Map a VERIFY status word; *tries as in jpki_verify_pin. */
static enum card_err
verify_sw(uint16_t sw, int *tries)
{
	if (sw == SW_OK) {
		*tries = JPKI_AUTH_PIN_TRIES;
		return CARD_OK;
	}
	if ((sw & 0xfff0) == 0x63c0) {
		*tries = sw & 0x0f;
		return *tries > 0 ? CARD_E_PIN_WRONG : CARD_E_PIN_BLOCKED;
	}
	if (sw == 0x6984 || sw == 0x6983) {
		*tries = 0;
		return CARD_E_PIN_BLOCKED;
	}
	if (sw == 0x6982)
		return CARD_E_SECURITY;
	return CARD_E_PROTO;
}

enum card_err
jpki_pin_tries(struct jpki_card *c, int *tries)
{
	struct apdu a;
	uint16_t sw;
	enum card_err e;
	int t = -1;

	*tries = -1;
	if ((e = jpki_select_ef(c, JPKI_EF_AUTH_PIN)) != CARD_OK)
		return e;
	memset(&a, 0, sizeof(a));
	a.ins = 0x20;
	a.p2 = 0x80;
	if ((e = jpki_cmd_nodata(c, &a, &sw)) != CARD_OK)
		return e;
	if (sw == SW_OK)
		return CARD_E_PROTO;	/* JPKI always answers 63Cx here */
	e = verify_sw(sw, &t);
	if (e == CARD_E_PIN_WRONG) {
		*tries = t;
		return CARD_OK;
	}
	if (e == CARD_E_PIN_BLOCKED)
		*tries = 0;
	return e;
}

int
jpki_pin_format_ok(const char *pin, size_t len)
{
	size_t i;

	if (pin == NULL || len != JPKI_AUTH_PIN_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return 0;
	return 1;
}

enum card_err
jpki_verify_pin(struct jpki_card *c, const char *pin, size_t len,
    int *tries_left)
{
	struct apdu a;
	uint16_t sw;
	enum card_err e;
	int t = -1;

	*tries_left = -1;
	if (!jpki_pin_format_ok(pin, len))
		return CARD_E_PIN_FORMAT;
	if (c->cur_ef != JPKI_EF_AUTH_PIN &&
	    (e = jpki_select_ef(c, JPKI_EF_AUTH_PIN)) != CARD_OK)
		return e;
	memset(&a, 0, sizeof(a));
	a.ins = 0x20;
	a.p2 = 0x80;
	a.data = (const uint8_t *)pin;
	a.lc = len;
	/* jpki_raw wipes its copy of the command; no retry on any answer */
	if ((e = jpki_cmd_nodata(c, &a, &sw)) != CARD_OK)
		return e;
	e = verify_sw(sw, &t);
	*tries_left = t;
	return e;
}

enum card_err
jpki_sign_auth(struct jpki_card *c, enum jpki_sign_input kind,
    const uint8_t *in, size_t inlen, uint8_t sig[JPKI_SIG_LEN])
{
	uint8_t di[sizeof(sha256_prefix) + JPKI_SHA256_LEN];
	uint8_t out[JPKI_SIG_LEN];
	unsigned int mdlen = 0;
	struct apdu a;
	size_t n;
	uint16_t sw;
	enum card_err e;

	memcpy(di, sha256_prefix, sizeof(sha256_prefix));
	switch (kind) {
	case JPKI_SIGN_SHA256:
		if (in == NULL || inlen != JPKI_SHA256_LEN)
			return CARD_E_INVAL;
		memcpy(di + sizeof(sha256_prefix), in, JPKI_SHA256_LEN);
		break;
	case JPKI_SIGN_MESSAGE:
		if (in == NULL && inlen > 0)
			return CARD_E_INVAL;
		if (!EVP_Digest(in != NULL ? in : (const uint8_t *)"", inlen,
		    di + sizeof(sha256_prefix), &mdlen, EVP_sha256(), NULL) ||
		    mdlen != JPKI_SHA256_LEN)
			return CARD_E_NOMEM;
		break;
	default:
		return CARD_E_INVAL;
	}
	if ((e = jpki_select_ef(c, JPKI_EF_AUTH_KEY)) != CARD_OK)
		return e;
	memset(&a, 0, sizeof(a));
	a.cla = 0x80;
	a.ins = 0x2a;
	a.p1 = 0x00;
	a.p2 = 0x80;
	a.data = di;
	a.lc = sizeof(di);
	a.le = APDU_SHORT_MAX_LE;
	if ((e = jpki_cmd(c, &a, 0, out, sizeof(out), &n, &sw)) != CARD_OK)
		return e;
	if (sw == 0x6982)
		return CARD_E_SECURITY;
	if (sw != SW_OK || n != JPKI_SIG_LEN)
		return CARD_E_PROTO;
	memcpy(sig, out, JPKI_SIG_LEN);
	return CARD_OK;
}
