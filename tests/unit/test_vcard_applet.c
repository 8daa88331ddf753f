/*
 * The virtual JPKI card driven directly through applet_process, with
 * keys and certificates generated at run time (no fixture files).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "hex.h"
#include "t.h"

#include "applet.h"

#define SEL_JPKI	"00A4040C0AD392F000260100000001"
#define SEL_TEXT	"00A4040C0AD3921000310001010408"

struct fixture {
	EVP_PKEY	*key;
	uint8_t		*der;
	size_t		 derlen;
};

static uint8_t resp[APPLET_RAPDU_MAX];
static size_t resplen;
static int cb_calls, cb_auth = -1, cb_sign = -1, cb_fail;

static int
tries_cb(void *arg, int auth, int sign)
{
	(void)arg;
	cb_calls++;
	cb_auth = auth;
	cb_sign = sign;
	return cb_fail ? -1 : 0;
}

static void
fixture_make(struct fixture *f, const char *cn, int ca)
{
	X509 *x;
	X509_NAME *name;
	unsigned char *p = NULL;
	int n;

	if ((f->key = EVP_RSA_gen(2048)) == NULL || (x = X509_new()) == NULL)
		abort();
	name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 0x0705d990) !=
	    1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
	    (const unsigned char *)"JP", -1, -1, 0) != 1 ||
	    (ca && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"JPKI-TEST", -1, -1, 0) != 1) ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, f->key) != 1 ||
	    X509_sign(x, f->key, EVP_sha256()) == 0)
		abort();
	if ((n = i2d_X509(x, &p)) <= 0)
		abort();
	f->der = p;
	f->derlen = (size_t)n;
	X509_free(x);
}

static void
fixture_free(struct fixture *f)
{
	EVP_PKEY_free(f->key);
	OPENSSL_free(f->der);
}

/* Send a hex C-APDU; returns SW, leaves the data in resp/resplen. */
static unsigned
xfer(struct applet *a, const char *hex)
{
	uint8_t c[8192];
	long n;

	if ((n = hex_decode(c, sizeof(c), hex)) < 0)
		abort();
	resplen = sizeof(resp);
	if (applet_process(a, c, (size_t)n, resp, &resplen) != 0 ||
	    resplen < 2)
		abort();
	resplen -= 2;
	return (unsigned)resp[resplen] << 8 | resp[resplen + 1];
}

static unsigned
xfer_raw(struct applet *a, const uint8_t *c, size_t n)
{
	resplen = sizeof(resp);
	if (applet_process(a, c, n, resp, &resplen) != 0 || resplen < 2)
		abort();
	resplen -= 2;
	return (unsigned)resp[resplen] << 8 | resp[resplen + 1];
}

/* Build "80 2A P1 P2 Lc data 00" and send it. */
static unsigned
sign_apdu(struct applet *a, uint8_t p1, uint8_t p2, const uint8_t *d,
    size_t len)
{
	uint8_t c[300];

	c[0] = 0x80;
	c[1] = 0x2A;
	c[2] = p1;
	c[3] = p2;
	c[4] = (uint8_t)len;
	memcpy(c + 5, d, len);
	c[5 + len] = 0x00;
	return xfer_raw(a, c, len + 6);
}

static struct applet *
card_new(const struct fixture *auth, const struct fixture *sign,
    const struct fixture *ca, enum applet_token token)
{
	struct applet_config cf;
	struct applet *a;
	char err[256];

	memset(&cf, 0, sizeof(cf));
	cf.token = token;
	cf.auth_cert = auth->der;
	cf.auth_cert_len = auth->derlen;
	cf.auth_key = auth->key;
	if (sign != NULL) {
		cf.sign_cert = sign->der;
		cf.sign_cert_len = sign->derlen;
		cf.sign_key = sign->key;
	}
	if (ca != NULL) {
		cf.auth_ca = ca->der;
		cf.auth_ca_len = ca->derlen;
		cf.sign_ca = ca->der;
		cf.sign_ca_len = ca->derlen;
	}
	cf.auth_pin = "1234";
	cf.sign_pin = "ABC123";
	cf.auth_tries = -1;
	cf.sign_tries = -1;
	cf.tries_cb = tries_cb;
	if ((a = applet_new(&cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "applet_new: %s\n", err);
		abort();
	}
	applet_power_on(a);
	return a;
}

/* Read a whole EF in 256-byte short chunks until 6B00. */
static size_t
read_ef(struct applet *a, uint8_t *out, size_t max)
{
	char cmd[32];
	size_t off = 0;
	unsigned sw;

	for (;;) {
		snprintf(cmd, sizeof(cmd), "00B0%04zX00", off);
		if ((sw = xfer(a, cmd)) != 0x9000 || off + resplen > max)
			break;
		memcpy(out + off, resp, resplen);
		off += resplen;
		if (resplen < 256)
			break;
	}
	return off;
}

static int
verify_sig(EVP_PKEY *key, int pss, int digestinfo, const uint8_t *msg,
    size_t msglen, const uint8_t *sig, size_t siglen)
{
	EVP_PKEY_CTX *ctx;
	uint8_t md[32];
	int ok;

	if (EVP_Digest(msg, msglen, md, NULL, EVP_sha256(), NULL) != 1)
		return 0;
	if ((ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL)
		return 0;
	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, pss ? RSA_PKCS1_PSS_PADDING :
	    RSA_PKCS1_PADDING) == 1;
	if (ok && (digestinfo || pss))
		ok = EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1;
	if (ok && pss)
		ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx,
		    RSA_PSS_SALTLEN_AUTO) == 1;
	ok = ok && EVP_PKEY_verify(ctx, sig, siglen, md, sizeof(md)) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void
test_select(const struct fixture *auth)
{
	struct applet *a = card_new(auth, NULL, NULL, APPLET_TOKEN_CARD);

	T_CHECK(xfer(a, "00A40000") == 0x6A86, "SELECT MF after power-on 6A86");
	T_CHECK(xfer(a, "00A4020C02000A") == 0x6A82,
	    "SELECT EF before any AP 6A82");
	T_CHECK(xfer(a, "00A4040C0AD392F000260100000002") == 0x6A82,
	    "unknown AID 6A82");
	T_CHECK(xfer(a, SEL_JPKI) == 0x9000 && resplen == 0,
	    "SELECT JPKI AP 9000, no data");
	T_CHECK(xfer(a, "00A404000AD392F00026010000000100") == 0x9000,
	    "SELECT JPKI AP with P2 00 and Le");
	T_CHECK(xfer(a, "00A40000") == 0x9000, "SELECT MF no-op inside an AP");
	T_CHECK(xfer(a, "00A4000C023F00") == 0x6A82, "SELECT 3F00 6A82");
	T_CHECK(xfer(a, "00A4020C02000A") == 0x9000, "SELECT EF 000A");
	T_CHECK(xfer(a, "00A4020C020006") == 0x9000, "SELECT EF 0006");
	T_CHECK(xfer(a, "00A4020C020099") == 0x6A82, "unknown EF 6A82");
	T_CHECK(xfer(a, "00A4020C02000B") == 0x6A82, "no CA: EF 000B 6A82");
	T_CHECK(xfer(a, "00A4020C020001") == 0x6A82,
	    "no sign cert: EF 0001 6A82");
	T_CHECK(xfer(a, "00A4020C02001A") == 0x6A82,
	    "no sign cert: EF 001A 6A82");
	T_CHECK(xfer(a, "00A4020C02001B") == 0x9000,
	    "sign password IEF always exists");
	T_CHECK(xfer(a, "00A4020C03000A00") == 0x6700, "SELECT EF Lc 3 6700");
	T_CHECK(xfer(a, "00A4030C02000A") == 0x6A86, "SELECT P1 03 6A86");
	T_CHECK(xfer(a, "00A4020402000A") == 0x6A86, "SELECT P2 04 6A86");
	T_CHECK(xfer(a, "00A4040C0AD3921000310001010402") == 0x9000,
	    "SELECT 券面AP 9000");
	T_CHECK(xfer(a, "00A4020C02000A") == 0x6A82,
	    "JPKI EF not found in another AP");
	T_CHECK(xfer(a, "00A4040C07A0000001510000") == 0x9000,
	    "SELECT GP ISD 9000");
	T_CHECK(xfer(a, "00A4040C05D392F00026") == 0x9000,
	    "SELECT by DF-name prefix");
	T_CHECK(xfer(a, "00A4020C020018") == 0x9000,
	    "prefix selected the JPKI AP");
	applet_free(a);
}

static void
test_read(const struct fixture *auth, const struct fixture *sign,
    const struct fixture *ca)
{
	struct applet *a = card_new(auth, NULL, NULL, APPLET_TOKEN_CARD);
	struct applet *b = card_new(auth, sign, ca, APPLET_TOKEN_CARD);
	static uint8_t buf[8192];
	size_t n, i;
	int filler_ok = 1;

	T_CHECK(xfer(a, SEL_JPKI) == 0x9000, "read: select AP");
	T_CHECK(xfer(a, "00B0000004") == 0x6986, "READ without current EF 6986");
	T_CHECK(xfer(a, "00A4020C020006") == 0x9000, "select 0006");
	T_CHECK(xfer(a, "00B0000000") == 0x9000 && resplen == 160,
	    "EF 0006 is 160 bytes");
	T_CHECK(memcmp(resp, "JPKIAPICCTOKEN2                 ", 32) == 0,
	    "token label JPKIAPICCTOKEN2 space-padded");
	T_CHECK(resp[96] == 0 && resp[97] == 0 && resp[98] == 0x04 &&
	    resp[99] == 0x0D, "token flags 0x40D");
	T_CHECK(resp[119] == 16 && resp[123] == 6, "max/min PIN length 16/6");
	T_CHECK(xfer(a, "00B000A000") == 0x6B00, "offset 160 on 0006 6B00");
	T_CHECK(xfer(a, "00A4020C020008") == 0x9000 &&
	    xfer(a, "00B0000000") == 0x9000 && resplen == 3 &&
	    resp[0] == 0x00 && resp[1] == 0x8F && resp[2] == 0x00,
	    "EF 0008 = 00 8F 00 without a sign cert");

	T_CHECK(xfer(a, "00A4020C02000A") == 0x9000, "select 000A");
	T_CHECK(xfer(a, "00B0000004") == 0x9000 && resplen == 4 &&
	    resp[0] == 0x30 && resp[1] == 0x82, "first 4 bytes: 30 82");
	n = read_ef(a, buf, sizeof(buf));
	T_CHECK(n == APPLET_CERT_EF_SIZE, "auth cert EF is 3808 bytes");
	T_CHECK(memcmp(buf, auth->der, auth->derlen) == 0,
	    "auth cert EF starts with the DER");
	for (i = auth->derlen; i < n; i++)
		if (buf[i] != APPLET_FILLER)
			filler_ok = 0;
	T_CHECK(filler_ok, "filler after the DER is 0xFF");
	T_CHECK(xfer(a, "00B00EDF00") == 0x9000 && resplen == 1,
	    "last byte: 1 byte for Le 256");
	T_CHECK(xfer(a, "00B00EE000") == 0x6B00, "offset 3808: 6B00");
	T_CHECK(xfer(a, "00B07FFF01") == 0x6B00, "offset 7FFF: 6B00");
	T_CHECK(xfer(a, "00B00000000000") == 0x9000 &&
	    resplen == APPLET_CERT_EF_SIZE &&
	    memcmp(resp, auth->der, auth->derlen) == 0,
	    "extended Le 0000 returns the whole EF");
	T_CHECK(xfer(a, "00B0001000012C") == 0x9000 && resplen == 300,
	    "extended Le 300 returns 300 bytes");
	T_CHECK(xfer(a, "00B000001E") == 0x9000 && resplen == 30,
	    "short Le 30 returns 30 bytes");
	T_CHECK(xfer(a, "00B00000") == 0x6700, "READ BINARY without Le 6700");
	T_CHECK(xfer(a, "00B0000001AA00") == 0x6700,
	    "READ BINARY with data 6700");
	T_CHECK(xfer(a, "00A4020C020006") == 0x9000 &&
	    xfer(a, "00B08A0004") == 0x9000 && resplen == 4 &&
	    memcmp(resp, auth->der, 4) == 0, "READ BINARY by SFI 8A");
	T_CHECK(xfer(a, "00B0000004") == 0x9000 &&
	    memcmp(resp, auth->der, 4) == 0, "SFI read selected 000A");
	T_CHECK(xfer(a, "00B0990004") == 0x6A82, "unknown SFI 6A82");
	T_CHECK(xfer(a, "00B0E00004") == 0x6A86, "SFI with bits 6-7 6A86");
	T_CHECK(xfer(a, "00A4020C020017") == 0x9000 &&
	    xfer(a, "00B0000004") == 0x6982, "READ on key EF 6982");
	T_CHECK(xfer(a, "00A4020C020018") == 0x9000 &&
	    xfer(a, "00B0000004") == 0x6982, "READ on PIN EF 6982");

	/* With sign cert and CAs. */
	T_CHECK(xfer(b, SEL_JPKI) == 0x9000 &&
	    xfer(b, "00A4020C020008") == 0x9000 &&
	    xfer(b, "00B0000000") == 0x9000 && resplen == 3 &&
	    resp[0] == 0x8F && resp[1] == 0x8F && resp[2] == 0x00,
	    "EF 0008 = 8F 8F 00 with both certs");
	T_CHECK(xfer(b, "00A4020C02000B") == 0x9000 &&
	    xfer(b, "00B0000000") == 0x9000 &&
	    memcmp(resp, ca->der, 256) == 0, "EF 000B holds the CA");
	T_CHECK(xfer(b, "00A4020C020002") == 0x9000 &&
	    xfer(b, "00B0000004") == 0x9000, "EF 0002 free");
	T_CHECK(xfer(b, "00A4020C020001") == 0x9000 &&
	    xfer(b, "00B0000004") == 0x6982,
	    "EF 0001 before the sign password 6982");
	T_CHECK(xfer(b, "00A4020C02001B") == 0x9000 &&
	    xfer(b, "002000800641424331323300") == 0x6700,
	    "VERIFY case 4 6700");
	T_CHECK(xfer(b, "0020008006414243313233") == 0x9000,
	    "sign password verified");
	T_CHECK(xfer(b, "00A4020C020001") == 0x9000 &&
	    read_ef(b, buf, sizeof(buf)) == APPLET_CERT_EF_SIZE &&
	    memcmp(buf, sign->der, sign->derlen) == 0,
	    "EF 0001 readable after VERIFY");
	applet_free(a);
	applet_free(b);
}

static void
test_verify(const struct fixture *auth)
{
	struct applet *a = card_new(auth, NULL, NULL, APPLET_TOKEN_CARD);

	xfer(a, SEL_JPKI);
	T_CHECK(xfer(a, "0020008004") == 0x6986,
	    "VERIFY with no current EF 6986");
	T_CHECK(xfer(a, "00A4020C02000A") == 0x9000 &&
	    xfer(a, "00200080") == 0x6986, "VERIFY on a non-PIN EF 6986");
	T_CHECK(xfer(a, "00A4020C020018") == 0x9000, "select 0018");
	T_CHECK(xfer(a, "00200080") == 0x63C3, "empty VERIFY 63C3");
	T_CHECK(xfer(a, "0020008000") == 0x63C3, "5-byte empty VERIFY 63C3");
	cb_calls = 0;
	T_CHECK(xfer(a, "0020008004") == 0x6700, "VERIFY Lc 4 no data 6700");
	T_CHECK(xfer(a, "002000800430303030") == 0x63C2, "wrong PIN 63C2");
	T_CHECK(cb_calls == 1 && cb_auth == 2 && cb_sign == 5,
	    "counter change persisted (2, 5)");
	T_CHECK(xfer(a, "00200080") == 0x63C2, "empty VERIFY now 63C2");
	T_CHECK(xfer(a, "002000800431323334") == 0x9000, "right PIN 9000");
	T_CHECK(applet_verified(a, APPLET_PIN_AUTH), "auth PIN verified");
	T_CHECK(cb_calls == 2 && cb_auth == 3, "reset to 3 persisted");
	T_CHECK(xfer(a, "00200080") == 0x63C3,
	    "empty VERIFY 63C3 even when verified");
	T_CHECK(applet_verified(a, APPLET_PIN_AUTH),
	    "empty VERIFY keeps the state");
	T_CHECK(xfer(a, "002000800431323334") == 0x9000 && cb_calls == 2,
	    "success at max persists nothing");
	T_CHECK(xfer(a, "00200080033132") == 0x6700, "Lc/body mismatch 6700");
	T_CHECK(xfer(a, "0020008003313233") == 0x63C2,
	    "short PIN burns a try");
	T_CHECK(!applet_verified(a, APPLET_PIN_AUTH),
	    "failed VERIFY clears the state");
	T_CHECK(xfer(a, "002000800439393939") == 0x63C1, "second wrong 63C1");
	T_CHECK(xfer(a, "002000980439393939") == 0x63C0,
	    "third wrong (by SFI 98) 63C0");
	T_CHECK(applet_tries(a, APPLET_PIN_AUTH) == 0 && cb_auth == 0,
	    "counter 0 persisted");
	T_CHECK(xfer(a, "002000800431323334") == 0x6984,
	    "right PIN on a blocked card 6984");
	T_CHECK(xfer(a, "00200080") == 0x63C0, "empty VERIFY blocked 63C0");
	T_CHECK(!applet_verified(a, APPLET_PIN_AUTH), "blocked: not verified");
	T_CHECK(xfer(a, "0020009B") == 0x63C5, "sign password by SFI 63C5");
	T_CHECK(xfer(a, "00200097") == 0x6A88, "VERIFY SFI of a key 6A88");
	T_CHECK(xfer(a, "00200180") == 0x6A86, "VERIFY P1 01 6A86");
	T_CHECK(xfer(a, "00A4020C02001B") == 0x9000 &&
	    xfer(a, "0020008006414243313234") == 0x63C4, "sign wrong 63C4");
	cb_fail = 1;
	T_CHECK(xfer(a, "0020008006414243313234") == 0x6581,
	    "persistence failure 6581");
	cb_fail = 0;
	T_CHECK(applet_tries(a, APPLET_PIN_SIGN) == 3,
	    "counter still decremented after 6581");
	applet_free(a);
}

static void
test_security(const struct fixture *auth)
{
	struct applet *a = card_new(auth, NULL, NULL, APPLET_TOKEN_CARD);
	uint8_t di[51] = { 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86,
	    0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

	xfer(a, SEL_JPKI);
	T_CHECK(xfer(a, "00A4020C020017") == 0x9000 &&
	    sign_apdu(a, 0, 0x80, di, sizeof(di)) == 0x6982,
	    "sign before VERIFY 6982");
	T_CHECK(sign_apdu(a, 0, 0x97, di, sizeof(di)) == 0x6982,
	    "sign by SFI before VERIFY 6982");
	xfer(a, "00A4020C020018");
	xfer(a, "002000800431323334");
	T_CHECK(sign_apdu(a, 0, 0x97, di, sizeof(di)) == 0x9000 &&
	    resplen == 256, "sign by SFI 97 after VERIFY");
	T_CHECK(sign_apdu(a, 0, 0x80, di, sizeof(di)) == 0x6986,
	    "sign P2 80 with PIN EF current 6986");
	xfer(a, "00A4020C020017");
	T_CHECK(sign_apdu(a, 0, 0x80, di, sizeof(di)) == 0x9000,
	    "state survives SELECT EF and signing");
	T_CHECK(xfer(a, SEL_JPKI) == 0x9000 &&
	    applet_verified(a, APPLET_PIN_AUTH),
	    "re-selecting the same AP keeps the state");
	applet_reset(a);
	T_CHECK(applet_verified(a, APPLET_PIN_AUTH), "warm reset keeps it");
	T_CHECK(xfer(a, "00A4020C020017") == 0x6A82,
	    "warm reset clears the selection");
	xfer(a, SEL_JPKI);
	T_CHECK(sign_apdu(a, 0, 0x97, di, sizeof(di)) == 0x9000,
	    "sign after reset + re-select");
	T_CHECK(xfer(a, SEL_TEXT) == 0x9000 &&
	    !applet_verified(a, APPLET_PIN_AUTH),
	    "selecting another AP clears the state");
	xfer(a, SEL_JPKI);
	T_CHECK(sign_apdu(a, 0, 0x97, di, sizeof(di)) == 0x6982,
	    "back in JPKI: sign 6982");
	xfer(a, "00A4020C020018");
	xfer(a, "002000800431323334");
	applet_power_off(a);
	applet_power_on(a);
	T_CHECK(!applet_verified(a, APPLET_PIN_AUTH),
	    "power-off clears the state");
	xfer(a, SEL_JPKI);
	T_CHECK(sign_apdu(a, 0, 0x97, di, sizeof(di)) == 0x6982,
	    "after power cycle: sign 6982");
	T_CHECK(xfer(a, "00A4020C020018") == 0x9000 &&
	    xfer(a, "00240180043131313100") == 0x6700, "CHANGE case 4 6700");
	T_CHECK(xfer(a, "002401800435363738") == 0x6982,
	    "CHANGE before VERIFY 6982");
	xfer(a, "002000800431323334");
	T_CHECK(xfer(a, "0024018003353637") == 0x6A80,
	    "CHANGE to a 3-digit PIN 6A80");
	T_CHECK(xfer(a, "002401800435363738") == 0x9000, "CHANGE 9000");
	T_CHECK(xfer(a, "002000800431323334") == 0x63C2,
	    "old PIN now wrong");
	T_CHECK(xfer(a, "002000800435363738") == 0x9000, "new PIN works");
	T_CHECK(xfer(a, "00880097020102") == 0x6985,
	    "INTERNAL AUTHENTICATE is not the signing command");
	applet_free(a);
}

static void
test_sign(const struct fixture *auth, const struct fixture *sign)
{
	struct applet *a = card_new(auth, sign, NULL, APPLET_TOKEN_CARD);
	static const uint8_t prefix[19] = { 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09,
	    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
	    0x04, 0x20 };
	const char *msg = "server nonce 0123456789";
	uint8_t di[51], md[32], big[246];
	EVP_PKEY_CTX *ctx;
	uint8_t rec[256];
	size_t reclen = sizeof(rec);
	int ok;

	memcpy(di, prefix, sizeof(prefix));
	EVP_Digest(msg, strlen(msg), md, NULL, EVP_sha256(), NULL);
	memcpy(di + 19, md, 32);
	memset(big, 0x5A, sizeof(big));

	xfer(a, SEL_JPKI);
	xfer(a, "00A4020C020018");
	xfer(a, "002000800431323334");
	xfer(a, "00A4020C020017");
	T_CHECK(sign_apdu(a, 0, 0x80, di, sizeof(di)) == 0x9000 &&
	    resplen == 256, "P1 00: 256-byte signature");
	T_CHECK(verify_sig(auth->key, 0, 1, (const uint8_t *)msg, strlen(msg),
	    resp, resplen), "P1 00 DigestInfo verifies as sha256WithRSA");
	T_CHECK(sign_apdu(a, 0x03, 0x80, (const uint8_t *)msg, strlen(msg)) ==
	    0x9000 && verify_sig(auth->key, 0, 1, (const uint8_t *)msg,
	    strlen(msg), resp, resplen), "P1 03 card hashes + DigestInfo");
	T_CHECK(sign_apdu(a, 0x02, 0x80, md, 32) == 0x9000 &&
	    verify_sig(auth->key, 0, 1, (const uint8_t *)msg, strlen(msg),
	    resp, resplen), "P1 02 pre-hashed DigestInfo");
	T_CHECK(sign_apdu(a, 0x04, 0x80, md, 32) == 0x9000 &&
	    verify_sig(auth->key, 1, 0, (const uint8_t *)msg, strlen(msg),
	    resp, resplen), "P1 04 PSS over a supplied hash");
	T_CHECK(sign_apdu(a, 0x05, 0x80, (const uint8_t *)msg, strlen(msg)) ==
	    0x9000 && verify_sig(auth->key, 1, 0, (const uint8_t *)msg,
	    strlen(msg), resp, resplen), "P1 05 card hashes + PSS");
	/* P1 01: a bare hash inside the type-1 block. */
	ok = sign_apdu(a, 0x01, 0x80, (const uint8_t *)msg, strlen(msg)) ==
	    0x9000;
	ctx = EVP_PKEY_CTX_new(auth->key, NULL);
	ok = ok && ctx != NULL && EVP_PKEY_verify_recover_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_verify_recover(ctx, rec, &reclen, resp, resplen) == 1 &&
	    reclen == 32 && memcmp(rec, md, 32) == 0;
	EVP_PKEY_CTX_free(ctx);
	T_CHECK(ok, "P1 01 signs the bare SHA-256");
	T_CHECK(sign_apdu(a, 0x06, 0x80, md, 32) == 0x6A86, "P1 06 6A86");
	T_CHECK(sign_apdu(a, 0x02, 0x80, md, 31) == 0x6985,
	    "P1 02 with 31 bytes 6985");
	T_CHECK(sign_apdu(a, 0x00, 0x80, big, 246) == 0x6985,
	    "P1 00 with 246 bytes 6985");
	T_CHECK(sign_apdu(a, 0x00, 0x80, big, 245) == 0x9000,
	    "P1 00 with 245 bytes 9000");
	T_CHECK(xfer(a, "802A0080") == 0x6700, "sign without data 6700");
	T_CHECK(xfer(a, "002A0080020102") == 0x6E00, "CLA 00 INS 2A 6E00");
	T_CHECK(sign_apdu(a, 0, 0x9A, di, sizeof(di)) == 0x6982,
	    "sign key needs the sign password");
	T_CHECK(sign_apdu(a, 0, 0x90, di, sizeof(di)) == 0x6A88,
	    "unknown key SFI 6A88");
	xfer(a, "00A4020C02001B");
	xfer(a, "0020008006414243313233");
	T_CHECK(sign_apdu(a, 0, 0x9A, di, sizeof(di)) == 0x9000 &&
	    verify_sig(sign->key, 0, 1, (const uint8_t *)msg, strlen(msg),
	    resp, resplen), "sign key signature verifies with its key");
	applet_free(a);
}

static void
test_android(const struct fixture *auth)
{
	struct applet *a = card_new(auth, NULL, NULL, APPLET_TOKEN_ANDROID);

	T_CHECK(xfer(a, SEL_TEXT) == 0x6A82, "android: no 入力補助AP");
	T_CHECK(xfer(a, SEL_JPKI) == 0x9000, "android: JPKI AP");
	T_CHECK(xfer(a, "00A4020C020006") == 0x9000 &&
	    xfer(a, "00B0000020") == 0x9000 &&
	    memcmp(resp, "JPKIAPGPSETOKEN                 ", 32) == 0,
	    "android: label JPKIAPGPSETOKEN");
	T_CHECK(xfer(a, "00A4020C02000A") == 0x9000 &&
	    xfer(a, "00B0000004") == 0x6982, "android: 000A needs the PIN");
	xfer(a, "00A4020C020018");
	xfer(a, "002000800431323334");
	T_CHECK(xfer(a, "00A4020C02000A") == 0x9000 &&
	    xfer(a, "00B0000004") == 0x9000 && memcmp(resp, auth->der, 4) == 0,
	    "android: 000A readable after VERIFY");
	T_CHECK(xfer(a, "00CA5F5100") == 0x6A88, "android: no contact ATR");
	applet_free(a);
}

static void
test_misc(const struct fixture *auth)
{
	struct applet *a = card_new(auth, NULL, NULL, APPLET_TOKEN_CARD);
	uint8_t c[2] = { 0x00, 0xA4 };
	uint8_t first[8];

	T_CHECK(xfer(a, "0CA4040C0AD392F000260100000001") == 0x6882,
	    "SM SELECT 6882");
	T_CHECK(xfer(a, "08B0000004") == 0x69FC, "SM READ 69FC");
	T_CHECK(xfer(a, "FFA40000") == 0x6E00, "CLA FF 6E00");
	T_CHECK(xfer(a, "01A40000") == 0x6E00, "logical channel 1 6E00");
	T_CHECK(xfer(a, "00FF0000") == 0x6D00, "unknown INS 6D00");
	T_CHECK(xfer(a, "80B0000004") == 0x6E00, "CLA 80 READ 6E00");
	T_CHECK(xfer_raw(a, c, 2) == 0x6700 && resplen == 0,
	    "2-byte APDU 6700");
	T_CHECK(xfer_raw(a, c, 0) == 0x6700, "empty APDU 6700");
	T_CHECK(xfer(a, "00A4040C0BD392F000260100000001") == 0x6700,
	    "Lc larger than the body 6700");
	T_CHECK(xfer(a, "00A4040C00") == 0x6700, "SELECT by name, no name 6700");
	T_CHECK(xfer(a, "0084000008") == 0x9000 && resplen == 8,
	    "GET CHALLENGE 8");
	memcpy(first, resp, 8);
	T_CHECK(xfer(a, "0084000008") == 0x9000 && memcmp(first, resp, 8) != 0,
	    "GET CHALLENGE is random");
	T_CHECK(xfer(a, "0084000000") == 0x9000 && resplen == 256,
	    "GET CHALLENGE Le 00 = 256");
	T_CHECK(xfer(a, "00840000000008") == 0x6985,
	    "extended GET CHALLENGE 6985");
	T_CHECK(xfer(a, "00CA5F5100") == 0x9000 && resplen == 12 &&
	    resp[0] == 0xC5, "GET DATA 5F51 contact ATR without TS");
	T_CHECK(xfer(a, "00CA010100") == 0x6A88, "GET DATA other tag 6A88");
	T_CHECK(xfer(a, "80FC0000") == 0x6700, "last command indicator 6700");
	applet_free(a);
}

static uint32_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 16);
}

/* Random C-APDUs, half of them shaped like real commands. */
static void
test_fuzz(const struct fixture *auth, const struct fixture *sign,
    const struct fixture *ca)
{
	static const uint8_t clas[] = { 0x00, 0x80, 0x08, 0x0C, 0x8C, 0xFF,
	    0x01 };
	static const uint8_t inss[] = { 0xA4, 0xB0, 0x20, 0x24, 0x2A, 0x84,
	    0xCA, 0x88, 0xFC, 0xC0, 0x00 };
	struct applet *a = NULL;
	uint8_t c[600];
	uint64_t s = 0x1234567887654321ULL;
	size_t n, i, body;
	unsigned sw;
	int bad = 0, iter, sane;

	for (iter = 0; iter < 60000; iter++) {
		if (iter % 2000 == 0) {
			applet_free(a);
			a = card_new(auth, iter % 4000 ? sign : NULL,
			    iter % 4000 ? ca : NULL, iter % 6000 ?
			    APPLET_TOKEN_CARD : APPLET_TOKEN_ANDROID);
			xfer(a, SEL_JPKI);
			xfer(a, "00A4020C020018");
			xfer(a, "002000800431323334");
		}
		switch (rnd(&s) % 4) {
		case 0:		/* pure noise */
			n = rnd(&s) % sizeof(c);
			for (i = 0; i < n; i++)
				c[i] = (uint8_t)rnd(&s);
			break;
		default:	/* plausible header, random body */
			c[0] = clas[rnd(&s) % sizeof(clas)];
			c[1] = inss[rnd(&s) % sizeof(inss)];
			c[2] = (uint8_t)(rnd(&s) % 3 ? rnd(&s) % 6 : rnd(&s));
			c[3] = (uint8_t)(rnd(&s) % 2 ? 0x80 | rnd(&s) % 0x20 :
			    rnd(&s));
			body = rnd(&s) % 300;
			n = 4;
			if (rnd(&s) % 4 == 0) {
				c[n++] = (uint8_t)rnd(&s);	/* Le only */
			} else if (body > 0) {
				c[n++] = (uint8_t)(rnd(&s) % 8 ? body : rnd(&s));
				if (body > 255) {
					c[4] = 0;
					c[n++] = (uint8_t)(body >> 8);
					c[n++] = (uint8_t)body;
				}
				for (i = 0; i < body; i++)
					c[n++] = (uint8_t)rnd(&s);
				if (rnd(&s) % 2)
					c[n++] = (uint8_t)rnd(&s);
			}
			break;
		}
		sw = xfer_raw(a, c, n);
		sane = resplen <= APPLET_CERT_EF_SIZE &&
		    (sw == 0x9000 || resplen == 0) && (sw >> 8) >= 0x61;
		if (!sane)
			bad++;
	}
	T_CHECK(bad == 0, "60000 random C-APDUs: sane answers, no crash");
	T_CHECK(xfer(a, SEL_JPKI) == 0x9000, "card still works after fuzzing");
	applet_free(a);
}

static void
test_config(const struct fixture *auth, const struct fixture *sign)
{
	struct applet_config cf;
	char err[256];

	memset(&cf, 0, sizeof(cf));
	cf.auth_cert = auth->der;
	cf.auth_cert_len = auth->derlen;
	cf.auth_key = sign->key;
	cf.auth_pin = "1234";
	cf.sign_pin = "ABC123";
	cf.auth_tries = cf.sign_tries = -1;
	T_CHECK(applet_new(&cf, err, sizeof(err)) == NULL &&
	    strstr(err, "does not match") != NULL, "key/cert mismatch refused");
	cf.auth_key = auth->key;
	cf.auth_pin = "12345";
	T_CHECK(applet_new(&cf, err, sizeof(err)) == NULL,
	    "5-digit auth PIN refused");
	cf.auth_pin = "1234";
	cf.sign_pin = "abc123";
	T_CHECK(applet_new(&cf, err, sizeof(err)) == NULL,
	    "lower-case sign password refused");
	cf.sign_pin = "ABC123";
	cf.sign_cert = sign->der;
	cf.sign_cert_len = sign->derlen;
	T_CHECK(applet_new(&cf, err, sizeof(err)) == NULL,
	    "sign cert without its key refused");
	cf.sign_cert = NULL;
	cf.auth_cert_len = auth->derlen - 1;
	T_CHECK(applet_new(&cf, err, sizeof(err)) == NULL,
	    "truncated DER refused");
	T_CHECK(applet_pin_valid(APPLET_PIN_SIGN, "ABCDEFGHIJ123456") &&
	    !applet_pin_valid(APPLET_PIN_SIGN, "ABCDEFGHIJ1234567") &&
	    !applet_pin_valid(APPLET_PIN_SIGN, "ABC12") &&
	    !applet_pin_valid(APPLET_PIN_AUTH, "12a4"),
	    "PIN format rules");
}

int
main(void)
{
	struct fixture auth, sign, ca;

	fixture_make(&auth, "997794E9AGCIEG13221003A", 0);
	fixture_make(&sign, "997794E9AGCIEG13221003B", 0);
	fixture_make(&ca, "JPKI-TEST CA", 1);
	test_select(&auth);
	test_read(&auth, &sign, &ca);
	test_verify(&auth);
	test_security(&auth);
	test_sign(&auth, &sign);
	test_android(&auth);
	test_misc(&auth);
	test_config(&auth, &sign);
	test_fuzz(&auth, &sign, &ca);
	fixture_free(&auth);
	fixture_free(&sign);
	fixture_free(&ca);
	return t_done();
}
