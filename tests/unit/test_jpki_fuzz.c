/*
 * Robustness of the JPKI layer against any card answer: a transport that
 * answers random R-APDUs, and the simulated card with its valid answers
 * mutated.  Every call must return a defined card_err, never crash, never
 * read or write out of bounds (run it under --enable-asan too), and never
 * send a second VERIFY the flow did not ask for.
 *
 * KIOSK_FUZZ_ITERS overrides the iteration count; KIOSK_FUZZ_SEED the seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_fake.h"
#include "jpki.h"
#include "t.h"

#define ITERS_DEFAULT	30000

static uint64_t rng_state;

/* splitmix64: small, seedable, reproducible */
static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
rnd(size_t n)
{
	return n == 0 ? 0 : (size_t)(rng() % n);
}

static const uint16_t interesting_sw[] = {
	0x9000, 0x6f00, 0x6a82, 0x6a86, 0x6982, 0x6983, 0x6984, 0x63c0,
	0x63c1, 0x63c3, 0x63cf, 0x6300, 0x6b00, 0x6282, 0x6100, 0x6101,
	0x61ff, 0x6c00, 0x6c01, 0x6c20, 0x6cff, 0x6700, 0x6d00, 0x6e00,
	0x6985, 0x0000, 0xffff,
};

struct fuzz_stats {
	size_t	 calls;
	size_t	 verify_sent;
	size_t	 bad_err;
	size_t	 bad_bounds;
	size_t	 ok_flows;
};

static struct fuzz_stats st;

static uint16_t
pick_sw(void)
{
	if (rnd(4) == 0)
		return (uint16_t)rng();
	return interesting_sw[rnd(sizeof(interesting_sw) /
	    sizeof(interesting_sw[0]))];
}

/* Count VERIFY-with-data commands; anything else is random. */
static void
note_cmd(const uint8_t *c, size_t clen)
{
	if (clen > 5 && c[0] == 0x00 && c[1] == 0x20)
		st.verify_sent++;
}

/*
 * A card that answers roughly the right shape for the command (so the
 * random walk gets past SELECT) with random lengths, contents and SWs.
 */
static int
plausible(const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen)
{
	size_t cap = *rlen, n = 0, i, le;
	uint16_t sw = rnd(10) == 0 ? pick_sw() : 0x9000;

	if (clen < 4)
		return 0;
	switch (c[1]) {
	case 0xa4:
		break;
	case 0xb0:
		le = clen == 5 ? (c[4] == 0 ? 256 : c[4]) :
		    clen == 7 ? (size_t)(c[5] << 8 | c[6]) : 0;
		n = rnd(4) == 0 ? rnd(le + 2) : le;
		if (n + 2 > cap)
			n = cap - 2;
		for (i = 0; i < n; i++)
			r[i] = (uint8_t)rng();
		if (c[2] == 0 && c[3] == 0 && n >= 4) {
			/* a DER header with a random, often valid, length */
			r[0] = 0x30;
			r[1] = 0x82;
			r[2] = (uint8_t)rnd(0x24);
		}
		if (c[2] == 0 && c[3] == 0 && le == 32 && n >= 15 &&
		    rnd(2) == 0)
			memcpy(r, "JPKIAPICCTOKEN2", 15);
		break;
	case 0x20:
		sw = rnd(3) == 0 ? pick_sw() :
		    (uint16_t)(rnd(2) == 0 ? 0x9000 : 0x63c0 | rnd(4));
		break;
	case 0x2a:
		n = rnd(4) == 0 ? rnd(300) : JPKI_SIG_LEN;
		if (n + 2 > cap)
			n = cap - 2;
		for (i = 0; i < n; i++)
			r[i] = (uint8_t)rng();
		break;
	default:
		return 0;
	}
	r[n] = (uint8_t)(sw >> 8);
	r[n + 1] = (uint8_t)sw;
	*rlen = n + 2;
	return 1;
}

static enum card_err
random_transmit(void *ctx, const uint8_t *c, size_t clen, uint8_t *r,
    size_t *rlen)
{
	size_t cap = *rlen, n, i;
	uint16_t sw;

	(void)ctx;
	st.calls++;
	note_cmd(c, clen);
	if (rnd(8) != 0 && plausible(c, clen, r, rlen))
		return CARD_OK;
	switch (rnd(40)) {
	case 0:
		return (enum card_err)(1 + rnd(CARD_E__MAX - 1));
	case 1:
		*rlen = 0;
		return CARD_OK;
	case 2:
		*rlen = 1;
		r[0] = (uint8_t)rng();
		return CARD_OK;
	default:
		break;
	}
	switch (rnd(12)) {
	case 0:
	case 1:
		n = 0;
		break;
	case 2:
	case 3:
		n = rnd(40);
		break;
	case 4:
	case 5:
		n = 256;
		break;
	case 6:
		n = 250 + rnd(10);
		break;
	case 7:
		n = rnd(cap - 1);	/* up to the whole buffer */
		break;
	default:
		n = rnd(300);
		break;
	}
	if (n + 2 > cap)
		n = cap - 2;
	for (i = 0; i < n; i++)
		r[i] = (uint8_t)rng();
	/* sometimes look like a certificate header */
	if (n >= 4 && rnd(3) == 0) {
		r[0] = 0x30;
		r[1] = (uint8_t)(0x80 + rnd(6));
	}
	sw = pick_sw();
	r[n] = (uint8_t)(sw >> 8);
	r[n + 1] = (uint8_t)sw;
	*rlen = n + 2;
	return CARD_OK;
}

/* Mutate a valid answer of the simulated card. */
static enum card_err
mutate(struct fake_card *f, uint8_t *r, size_t *rlen, size_t cap)
{
	size_t n = *rlen, i;
	uint16_t sw;

	(void)f;
	if (rnd(10) != 0)
		return CARD_OK;		/* leave most answers valid */
	switch (rnd(7)) {
	case 0:				/* flip bytes */
		for (i = 0; i < 1 + rnd(4) && n > 0; i++)
			r[rnd(n)] ^= (uint8_t)(1 + rnd(255));
		break;
	case 1:				/* truncate */
		*rlen = rnd(n + 1);
		break;
	case 2:				/* extend with junk */
		while (n < cap && rnd(8) != 0)
			r[n++] = (uint8_t)rng();
		*rlen = n;
		break;
	case 3:				/* replace the SW */
		if (n >= 2) {
			sw = pick_sw();
			r[n - 2] = (uint8_t)(sw >> 8);
			r[n - 1] = (uint8_t)sw;
		}
		break;
	case 4:				/* transport failure */
		return (enum card_err)(1 + rnd(CARD_E__MAX - 1));
	case 5:				/* drop the data, keep the SW */
		if (n >= 2) {
			r[0] = r[n - 2];
			r[1] = r[n - 1];
			*rlen = 2;
		}
		break;
	default:			/* shift the data by one byte */
		if (n >= 3 && n < cap) {
			memmove(r + 1, r, n);
			r[0] = (uint8_t)rng();
			*rlen = n + 1;
		}
		break;
	}
	return CARD_OK;
}

static int
defined(enum card_err e)
{
	return (unsigned int)e < CARD_E__MAX;
}

static void
check(enum card_err e)
{
	if (!defined(e))
		st.bad_err++;
}

/* The kiosk flow: info, then verify + sign; stops at the first error. */
static void
flow(struct jpki_card *c, const char *pin)
{
	static uint8_t cert[JPKI_CERT_MAX + 16];
	char label[JPKI_LABEL_LEN + 1 + 8];
	uint8_t sig[JPKI_SIG_LEN + 8];
	enum jpki_token t;
	size_t len = 12345, before;
	enum card_err e;
	int tries = 12345, ok = 1;

	memset(label + JPKI_LABEL_LEN + 1, 0x5a, 8);
	memset(cert + JPKI_CERT_MAX, 0x5a, 16);
	memset(sig + JPKI_SIG_LEN, 0x5a, 8);

	if ((e = jpki_select_ap(c)) != CARD_OK)
		ok = 0;
	check(e);
	if (ok) {
		e = jpki_read_token(c, &t, label);
		check(e);
		if (strlen(label) > JPKI_LABEL_LEN)
			st.bad_bounds++;
		ok = e == CARD_OK || e == CARD_E_NOT_JPKI;
	}
	if (ok) {
		e = jpki_read_auth_cert(c, cert, JPKI_CERT_MAX, &len);
		check(e);
		if (e == CARD_OK && (len == 0 || len > JPKI_CERT_MAX ||
		    cert[0] != 0x30))
			st.bad_bounds++;
		if (e != CARD_OK && len != 0)
			st.bad_bounds++;
	}
	if (ok) {
		e = jpki_pin_tries(c, &tries);
		check(e);
		if (e == CARD_OK && (tries < 1 || tries > 15))
			st.bad_bounds++;
		if (e == CARD_E_PIN_BLOCKED && tries != 0)
			st.bad_bounds++;
		ok = e == CARD_OK;
	}
	if (ok) {
		before = st.verify_sent;
		e = jpki_verify_pin(c, pin, strlen(pin), &tries);
		check(e);
		/* exactly one VERIFY for a well-formed PIN, none otherwise */
		if (jpki_pin_format_ok(pin, strlen(pin)) ?
		    st.verify_sent > before + 1 : st.verify_sent != before)
			st.bad_bounds++;
		if (e == CARD_E_PIN_WRONG && (tries < 1 || tries > 15))
			st.bad_bounds++;
		ok = e == CARD_OK;
	}
	if (ok) {
		e = jpki_sign_auth(c, JPKI_SIGN_MESSAGE,
		    (const uint8_t *)"challenge", 9, sig);
		check(e);
		if (e == CARD_OK)
			st.ok_flows++;
	}
	for (len = 0; len < 8; len++)
		if ((uint8_t)label[JPKI_LABEL_LEN + 1 + len] != 0x5a ||
		    sig[JPKI_SIG_LEN + len] != 0x5a ||
		    cert[JPKI_CERT_MAX + len] != 0x5a)
			st.bad_bounds++;
}

int
main(void)
{
	static struct fake_card f;
	static const char *pins[] = { "1234", "0000", "123", "12a4", "" };
	struct card_transport tr;
	struct jpki_card c;
	const char *s;
	long iters = ITERS_DEFAULT, i;
	size_t sim_ok;
	char name[128];

	if ((s = getenv("KIOSK_FUZZ_ITERS")) != NULL) {
		iters = strtol(s, NULL, 10);
		if (iters < 1 || iters > 100000000)
			iters = ITERS_DEFAULT;
	}
	rng_state = 0x4b494f534b2d4a50ULL;	/* "KIOSK-JP" */
	if ((s = getenv("KIOSK_FUZZ_SEED")) != NULL)
		rng_state = strtoull(s, NULL, 0);

	/* 1: random answers to every command */
	memset(&st, 0, sizeof(st));
	memset(&tr, 0, sizeof(tr));
	tr.transmit = random_transmit;
	for (i = 0; i < iters; i++) {
		tr.extended_ok = (int)(i & 1);
		tr.max_short_le = rnd(5) == 0 ? 1 + rnd(256) : 256;
		jpki_init(&c, &tr);
		flow(&c, pins[rnd(sizeof(pins) / sizeof(pins[0]))]);
	}
	snprintf(name, sizeof(name), "random answers: %ld flows, %zu APDUs, "
	    "%zu signed, all errors defined", iters, st.calls, st.ok_flows);
	T_CHECK(st.bad_err == 0, name);
	T_CHECK(st.bad_bounds == 0, "random answers: results within bounds, "
	    "one VERIFY at most, none for a bad PIN");

	/* 2: valid answers of the simulated card, mutated */
	memset(&st, 0, sizeof(st));
	for (i = 0; i < iters; i++) {
		fake_sim_init(&f);
		fake_sim_cert(&f, 900 + rnd(2000), 3808);
		f.mutate = mutate;
		f.answer_6f00 = rnd(8) == 0 ? (int)rnd(3) : 0;
		f.cert_needs_pin = rnd(10) == 0;
		f.tries = (int)rnd(4);
		fake_transport(&f, &tr, (int)(i & 1));
		jpki_init(&c, &tr);
		flow(&c, pins[rnd(2)]);
		if (f.verify_with_data > 1 || f.forbidden != 0)
			st.bad_bounds++;
	}
	snprintf(name, sizeof(name), "mutated answers: %ld flows, %zu signed, "
	    "all errors defined", iters, st.ok_flows);
	T_CHECK(st.bad_err == 0, name);
	T_CHECK(st.bad_bounds == 0, "mutated answers: bounds, one VERIFY at "
	    "most, never 0001/001A/001B");
	T_CHECK(st.ok_flows > 0, "mutated answers: some flows still succeed");

	/* 3: the unmutated card always works (the fuzz harness is sane) */
	memset(&st, 0, sizeof(st));
	sim_ok = 0;
	for (i = 0; i < 100; i++) {
		fake_sim_init(&f);
		fake_sim_cert(&f, 900 + rnd(2000), 3808);
		fake_transport(&f, &tr, (int)(i & 1));
		jpki_init(&c, &tr);
		flow(&c, "1234");
		sim_ok = st.ok_flows;
	}
	T_CHECK(sim_ok == 100 && st.bad_bounds == 0,
	    "unmutated simulated card: every flow signs");
	return t_done();
}
