/* Fake card transports for unit tests; see card_fake.h. */
#include <stdio.h>
#include <string.h>

#include "card_fake.h"
#include "hex.h"

static const uint8_t aid[] = {
	0xd3, 0x92, 0xf0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01
};

void
fake_sim_init(struct fake_card *f)
{
	memset(f, 0, sizeof(*f));
	f->label = "JPKIAPICCTOKEN2";
	memcpy(f->pin, "1234", 5);
	f->tries = f->max_tries = 3;
}

void
fake_sim_cert(struct fake_card *f, size_t len, size_t ef_size)
{
	size_t i, h, content;

	if (ef_size > FAKE_EF_MAX)
		ef_size = FAKE_EF_MAX;
	if (len > ef_size)
		len = ef_size;
	if (len < 4)
		len = 4;
	memset(f->cert_ef, 0xff, sizeof(f->cert_ef));	/* filler */
	/* minimal DER length: short form, 81 xx or 82 xx xx */
	h = len - 2 < 0x80 ? 2 : len - 3 < 0x100 ? 3 : 4;
	content = len - h;
	f->cert_ef[0] = 0x30;
	if (h == 2)
		f->cert_ef[1] = (uint8_t)content;
	else if (h == 3) {
		f->cert_ef[1] = 0x81;
		f->cert_ef[2] = (uint8_t)content;
	} else {
		f->cert_ef[1] = 0x82;
		f->cert_ef[2] = (uint8_t)(content >> 8);
		f->cert_ef[3] = (uint8_t)content;
	}
	for (i = h; i < len; i++)
		f->cert_ef[i] = (uint8_t)(i * 7 + 3);
	f->cert_ef_size = ef_size;
}

void
fake_script_init(struct fake_card *f, const struct fake_step *s, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->script = s;
	f->nscript = n;
}

void
fake_transport(struct fake_card *f, struct card_transport *tr,
    int extended_ok)
{
	memset(tr, 0, sizeof(*tr));
	tr->transmit = fake_transmit;
	tr->ctx = f;
	tr->max_short_le = 256;
	tr->extended_ok = extended_ok;
}

int
fake_sent(const struct fake_card *f, size_t i, const char *hex)
{
	uint8_t want[FAKE_CMD_MAX];
	long n;

	if (i >= f->nlog)
		return 0;
	if ((n = hex_decode(want, sizeof(want), hex)) < 0)
		return 0;
	return (size_t)n == f->loglen[i] && memcmp(want, f->log[i], n) == 0;
}

static enum card_err
put(uint8_t *r, size_t *rlen, size_t rcap, const uint8_t *data, size_t n,
    uint16_t sw)
{
	if (n + 2 > rcap)
		return CARD_E_COMM;
	if (n > 0)
		memcpy(r, data, n);
	r[n] = (uint8_t)(sw >> 8);
	r[n + 1] = (uint8_t)sw;
	*rlen = n + 2;
	return CARD_OK;
}

static enum card_err
script_step(struct fake_card *f, const uint8_t *c, size_t clen, uint8_t *r,
    size_t *rlen)
{
	const struct fake_step *s;
	uint8_t want[FAKE_CMD_MAX];
	long n;

	if (f->pos >= f->nscript) {
		f->script_error = 1;
		snprintf(f->why, sizeof(f->why), "command %zu past the script",
		    f->pos);
		return CARD_E_COMM;
	}
	s = &f->script[f->pos++];
	if (s->cmd != NULL) {
		n = hex_decode(want, sizeof(want), s->cmd);
		if (n < 0 || (size_t)n != clen || memcmp(want, c, clen) != 0) {
			f->script_error = 1;
			snprintf(f->why, sizeof(f->why),
			    "step %zu: unexpected command", f->pos - 1);
			return CARD_E_COMM;
		}
	}
	if (s->err != CARD_OK)
		return s->err;
	n = hex_decode(r, *rlen, s->resp != NULL ? s->resp : "");
	if (n < 0)
		return CARD_E_COMM;
	*rlen = (size_t)n;
	return CARD_OK;
}

/* Le of a READ BINARY: short (1 byte) or extended (3 bytes). */
static size_t
read_le(const uint8_t *c, size_t clen)
{
	size_t le;

	if (clen == 5)
		return c[4] == 0 ? 256 : c[4];
	if (clen == 7 && c[4] == 0) {
		le = (size_t)c[5] << 8 | c[6];
		return le == 0 ? 65536 : le;
	}
	return 0;
}

static enum card_err
sim(struct fake_card *f, const uint8_t *c, size_t clen, uint8_t *r,
    size_t *rlen, size_t rcap)
{
	uint8_t token[160], sig[JPKI_SIG_LEN];
	const uint8_t *ef;
	size_t efsize, off, le, i, n;
	uint16_t fid;

	if (f->answer_6f00 > 0) {
		f->answer_6f00--;
		return put(r, rlen, rcap, NULL, 0, 0x6f00);
	}
	if (clen < 4)
		return put(r, rlen, rcap, NULL, 0, 0x6700);
	if (c[0] == 0x00 && c[1] == 0xa4 && c[2] == 0x04) {
		if (clen == 5 + sizeof(aid) && c[4] == sizeof(aid) &&
		    memcmp(c + 5, aid, sizeof(aid)) == 0 && !f->no_jpki) {
			f->ap = 1;
			f->ef = 0;
			return put(r, rlen, rcap, NULL, 0, 0x9000);
		}
		return put(r, rlen, rcap, NULL, 0, 0x6a82);
	}
	if (c[0] == 0x00 && c[1] == 0xa4 && c[2] == 0x02) {
		if (clen != 7 || c[4] != 2 || !f->ap)
			return put(r, rlen, rcap, NULL, 0, 0x6a82);
		fid = (uint16_t)(c[5] << 8 | c[6]);
		if (fid == 0x0001 || fid == 0x001a || fid == 0x001b)
			f->forbidden++;
		switch (fid) {
		case 0x0001: case 0x0006: case 0x000a: case 0x0017:
		case 0x0018: case 0x001a: case 0x001b:
			f->ef = fid;
			return put(r, rlen, rcap, NULL, 0, 0x9000);
		}
		return put(r, rlen, rcap, NULL, 0, 0x6a82);
	}
	if (c[0] == 0x00 && c[1] == 0xb0) {
		if ((le = read_le(c, clen)) == 0)
			return put(r, rlen, rcap, NULL, 0, 0x6700);
		memset(token, 0, sizeof(token));
		memset(token, ' ', JPKI_LABEL_LEN);
		memcpy(token, f->label, strlen(f->label) < JPKI_LABEL_LEN ?
		    strlen(f->label) : JPKI_LABEL_LEN);
		if (f->ef == 0x0006) {
			ef = token;
			efsize = sizeof(token);
		} else if (f->ef == 0x000a) {
			if (f->cert_needs_pin && !f->verified)
				return put(r, rlen, rcap, NULL, 0, 0x6982);
			ef = f->cert_ef;
			efsize = f->cert_ef_size;
		} else
			return put(r, rlen, rcap, NULL, 0, 0x6982);
		off = (size_t)(c[2] & 0x7f) << 8 | c[3];
		if (off >= efsize)
			return put(r, rlen, rcap, NULL, 0, 0x6b00);
		n = efsize - off < le ? efsize - off : le;
		return put(r, rlen, rcap, ef + off, n, 0x9000);
	}
	if (c[0] == 0x00 && c[1] == 0x20 && c[2] == 0x00 && c[3] == 0x80) {
		if (f->ef != 0x0018)
			return put(r, rlen, rcap, NULL, 0, 0x6a88);
		if (clen == 4)
			return put(r, rlen, rcap, NULL, 0,
			    (uint16_t)(0x63c0 | f->tries));
		f->verify_with_data++;
		if (clen != 5 + (size_t)c[4] || c[4] == 0)
			return put(r, rlen, rcap, NULL, 0, 0x6700);
		if (f->tries == 0)
			return put(r, rlen, rcap, NULL, 0, 0x6984);
		if (c[4] == strlen(f->pin) &&
		    memcmp(c + 5, f->pin, c[4]) == 0) {
			f->tries = f->max_tries;
			f->verified = 1;
			return put(r, rlen, rcap, NULL, 0, 0x9000);
		}
		f->tries--;
		return put(r, rlen, rcap, NULL, 0,
		    (uint16_t)(0x63c0 | f->tries));
	}
	if (c[0] == 0x80 && c[1] == 0x2a) {
		if (f->sign_sw != 0)
			return put(r, rlen, rcap, NULL, 0, f->sign_sw);
		if (f->ef != 0x0017 || c[3] != 0x80)
			return put(r, rlen, rcap, NULL, 0, 0x6a86);
		if (!f->verified)
			return put(r, rlen, rcap, NULL, 0, 0x6982);
		if (clen < 6 || clen != 6 + (size_t)c[4] || c[4] > 245)
			return put(r, rlen, rcap, NULL, 0, 0x6985);
		for (i = 0; i < sizeof(sig); i++)
			sig[i] = (uint8_t)(c[5 + i % c[4]] ^ i);
		return put(r, rlen, rcap, sig, sizeof(sig), 0x9000);
	}
	return put(r, rlen, rcap, NULL, 0, 0x6d00);
}

enum card_err
fake_transmit(void *ctx, const uint8_t *c, size_t clen, uint8_t *r,
    size_t *rlen)
{
	struct fake_card *f = ctx;
	size_t rcap = *rlen;
	enum card_err e;

	f->ncalls++;
	if (f->nlog < FAKE_LOG_MAX && clen <= FAKE_CMD_MAX) {
		memcpy(f->log[f->nlog], c, clen);
		f->loglen[f->nlog] = clen;
		f->nlog++;
	}
	if (f->script != NULL)
		return script_step(f, c, clen, r, rlen);
	*rlen = 0;
	if ((e = sim(f, c, clen, r, rlen, rcap)) != CARD_OK)
		return e;
	if (f->mutate != NULL)
		return f->mutate(f, r, rlen, rcap);
	return CARD_OK;
}
