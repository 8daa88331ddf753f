/*
 * JPKI protocol against scripted and simulated cards: the exact C-APDUs
 * sent, their count, and the mapping of every status word.
 */
#include <stdio.h>
#include <string.h>

#include "card_fake.h"
#include "jpki.h"
#include "t.h"

#define SEL_AP		"00A4040C0AD392F000260100000001"
#define SEL_TOKEN	"00A4020C020006"
#define SEL_CERT	"00A4020C02000A"
#define SEL_KEY		"00A4020C020017"
#define SEL_PIN		"00A4020C020018"
#define TRIES		"00200080"
/* DigestInfo(SHA-256("abc")) */
#define DI_ABC		"3031300D060960864801650304020105000420" \
			"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"

static struct fake_card f;	/* large: keep off the stack */
static struct jpki_card card;
static uint8_t cert[JPKI_CERT_MAX];

static void
sim_setup(int extended_ok)
{
	struct card_transport tr;

	fake_sim_init(&f);
	fake_sim_cert(&f, 1400, 3808);
	fake_transport(&f, &tr, extended_ok);
	jpki_init(&card, &tr);
}

static void
script_setup(const struct fake_step *s, size_t n)
{
	struct card_transport tr;

	fake_script_init(&f, s, n);
	fake_transport(&f, &tr, 0);
	jpki_init(&card, &tr);
}

#define SCRIPT(s)	script_setup((s), sizeof(s) / sizeof((s)[0]))

static int
script_done(void)
{
	return !f.script_error && f.pos == f.nscript;
}

static void
test_select(void)
{
	static const struct fake_step data_in_answer[] = {
		{ SEL_AP, "6F0090 00", CARD_OK },
	};
	static const struct fake_step odd_sw[] = {
		{ SEL_AP, "1234", CARD_OK },
	};
	static const struct fake_step removed[] = {
		{ SEL_AP, NULL, CARD_E_REMOVED },
	};

	sim_setup(0);
	T_CHECK(jpki_select_ap(&card) == CARD_OK && card.apdus == 1 &&
	    fake_sent(&f, 0, SEL_AP) && card.ap_selected,
	    "SELECT AP: one APDU, P2=0C");

	sim_setup(0);
	f.answer_6f00 = 1;
	T_CHECK(jpki_select_ap(&card) == CARD_OK && card.apdus == 2 &&
	    fake_sent(&f, 0, SEL_AP) && fake_sent(&f, 1, SEL_AP),
	    "6F00 then 9000: retried once");

	sim_setup(0);
	f.answer_6f00 = 2;
	T_CHECK(jpki_select_ap(&card) == CARD_E_PROTO && card.apdus == 2 &&
	    f.ncalls == 2, "6F00 twice: retried once and only once");

	sim_setup(0);
	f.no_jpki = 1;
	T_CHECK(jpki_select_ap(&card) == CARD_E_NOT_JPKI && card.apdus == 1,
	    "6A82: not a JPKI card");

	SCRIPT(data_in_answer);
	T_CHECK(jpki_select_ap(&card) == CARD_E_PROTO,
	    "SELECT answer with data (P2=0C): CARD_E_PROTO");
	SCRIPT(odd_sw);
	T_CHECK(jpki_select_ap(&card) == CARD_E_PROTO, "odd SW: CARD_E_PROTO");
	SCRIPT(removed);
	T_CHECK(jpki_select_ap(&card) == CARD_E_REMOVED,
	    "transport error passed through");
}

static void
test_token(void)
{
	static const struct {
		const char	*label;
		enum jpki_token	 token;
		enum card_err	 err;
	} cases[] = {
		{ "JPKIAPICCTOKEN2", JPKI_TOKEN_CARD, CARD_OK },
		{ "JPKIAPGPSETOKEN", JPKI_TOKEN_ANDROID, CARD_OK },
		{ "JPKIAPIOSTOKEN", JPKI_TOKEN_IOS, CARD_OK },
		{ "JPKIAPICCTOKEN", JPKI_TOKEN_JUKI, CARD_OK },
		{ "JPKIAPICCTOKEN3", JPKI_TOKEN_UNKNOWN, CARD_E_NOT_JPKI },
		{ "", JPKI_TOKEN_UNKNOWN, CARD_E_NOT_JPKI },
	};
	static const struct fake_step nul_padded[] = {
		{ SEL_TOKEN, "9000", CARD_OK },
		{ "00B0000020", "4A504B494150494343544F4B454E32"
		    "0000000000000000000000000000000000" "9000", CARD_OK },
	};
	static const struct fake_step short_label[] = {
		{ SEL_TOKEN, "9000", CARD_OK },
		{ "00B0000020", "4A504B4941504943434F4B454E32" "9000", CARD_OK },
	};
	static const struct fake_step binary_label[] = {
		{ SEL_TOKEN, "9000", CARD_OK },
		{ "00B0000020", "4A504B49415049434354FF4B454E32"
		    "2020202020202020202020202020202020" "9000", CARD_OK },
	};
	static const struct fake_step resend_6c[] = {
		{ SEL_TOKEN, "9000", CARD_OK },
		{ "00B0000020", "6C20", CARD_OK },
		{ "00B0000020", "4A504B494150494343544F4B454E32"
		    "2020202020202020202020202020202020" "9000", CARD_OK },
	};
	static const struct fake_step no_token_ef[] = {
		{ SEL_TOKEN, "6A82", CARD_OK },
	};
	char label[JPKI_LABEL_LEN + 1];
	enum jpki_token t;
	char name[96];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sim_setup(0);
		f.label = cases[i].label;
		jpki_select_ap(&card);
		snprintf(name, sizeof(name), "token label \"%s\"",
		    cases[i].label);
		T_CHECK(jpki_read_token(&card, &t, label) == cases[i].err &&
		    t == cases[i].token && strcmp(label, cases[i].label) == 0 &&
		    fake_sent(&f, 1, SEL_TOKEN) &&
		    fake_sent(&f, 2, "00B0000020") && card.apdus == 3, name);
	}
	SCRIPT(nul_padded);
	T_CHECK(jpki_read_token(&card, &t, label) == CARD_OK &&
	    t == JPKI_TOKEN_CARD && strcmp(label, "JPKIAPICCTOKEN2") == 0,
	    "NUL-padded label");
	SCRIPT(short_label);
	T_CHECK(jpki_read_token(&card, &t, label) == CARD_E_PROTO,
	    "label shorter than 32 bytes: CARD_E_PROTO");
	SCRIPT(binary_label);
	T_CHECK(jpki_read_token(&card, &t, label) == CARD_E_NOT_JPKI &&
	    strchr(label, '?') != NULL && t == JPKI_TOKEN_UNKNOWN,
	    "non-ASCII label: not JPKI, label sanitised");
	SCRIPT(resend_6c);
	T_CHECK(jpki_read_token(&card, &t, label) == CARD_OK &&
	    t == JPKI_TOKEN_CARD && script_done(),
	    "6Cxx: re-sent once with the card's Le");
	SCRIPT(no_token_ef);
	T_CHECK(jpki_read_token(&card, &t, label) == CARD_E_NOT_JPKI,
	    "no EF 0006: not JPKI");
}

static void
test_cert(void)
{
	static const char *seq1400[] = {
		SEL_CERT, "00B0000000", "00B0010000", "00B0020000",
		"00B0030000", "00B0040000", "00B0050078"
	};
	static const struct fake_step end_6282[] = {
		{ SEL_CERT, "9000", CARD_OK },
		/* 30 81 83: 131 bytes + 3 header = 134 */
		{ "00B0000000", "308183" "0102030405060708090A" "6282", CARD_OK },
	};
	static const struct fake_step le_6c[] = {
		{ SEL_CERT, "9000", CARD_OK },
		{ "00B0000000", "6C05", CARD_OK },
		{ "00B0000005", "3003020101" "9000", CARD_OK },
	};
	static const struct fake_step chained_61[] = {
		{ SEL_CERT, "9000", CARD_OK },
		{ "00B0000000", "3006" "6104", CARD_OK },
		{ "00C0000004", "01020304" "6102", CARD_OK },
		{ "00C0000002", "0506" "9000", CARD_OK },
	};
	static const struct fake_step no_progress[] = {
		{ SEL_CERT, "9000", CARD_OK },
		{ "00B0000000", "30820200" "9000", CARD_OK },
		{ "00B0000400", "9000", CARD_OK },
	};
	static const struct fake_step gr_loop[] = {
		{ SEL_CERT, "9000", CARD_OK },
		{ "00B0000000", "6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
		{ NULL, "AA6101", CARD_OK }, { NULL, "AA6101", CARD_OK },
	};
	size_t len, i;
	int ok;

	/* the reference sequence: 1400-byte certificate, 3808-byte EF */
	sim_setup(0);
	jpki_select_ap(&card);
	card.apdus = 0;
	ok = jpki_read_auth_cert(&card, cert, sizeof(cert), &len) == CARD_OK;
	T_CHECK(ok && len == 1400 && memcmp(cert, f.cert_ef, 1400) == 0,
	    "1400-byte cert read exactly, filler trimmed");
	T_CHECK(card.apdus == 7, "1400-byte cert: 7 APDUs (SELECT + 6 reads)");
	ok = f.nlog == 8;
	for (i = 0; i < 7; i++)
		ok = ok && fake_sent(&f, i + 1, seq1400[i]);
	T_CHECK(ok, "1400-byte cert: exact READ BINARY sequence");

	/* extended Le when the transport allows it */
	sim_setup(1);
	jpki_select_ap(&card);
	ok = jpki_read_auth_cert(&card, cert, sizeof(cert), &len) == CARD_OK;
	T_CHECK(ok && len == 1400 && memcmp(cert, f.cert_ef, 1400) == 0 &&
	    card.apdus == 4 && fake_sent(&f, 2, "00B0000000") &&
	    fake_sent(&f, 3, "00B00100000478"),
	    "extended: first read short, the rest in one extended read");

	/* sizes around the chunk boundaries */
	sim_setup(0);
	fake_sim_cert(&f, 512, 3808);
	jpki_select_ap(&card);
	ok = jpki_read_auth_cert(&card, cert, sizeof(cert), &len) == CARD_OK;
	T_CHECK(ok && len == 512 && card.apdus == 4 &&
	    fake_sent(&f, 3, "00B0010000"), "512 bytes: 2 reads, Le=00");
	sim_setup(0);
	fake_sim_cert(&f, 511, 3808);
	jpki_select_ap(&card);
	ok = jpki_read_auth_cert(&card, cert, sizeof(cert), &len) == CARD_OK;
	T_CHECK(ok && len == 511 && fake_sent(&f, 3, "00B00100FF"),
	    "511 bytes: last read Le=FF");
	sim_setup(0);
	fake_sim_cert(&f, 200, 200);
	jpki_select_ap(&card);
	ok = jpki_read_auth_cert(&card, cert, sizeof(cert), &len) == CARD_OK;
	T_CHECK(ok && len == 200 && card.apdus == 3,
	    "short EF: one short answer is the whole object");
	sim_setup(0);
	fake_sim_cert(&f, JPKI_CERT_MAX, FAKE_EF_MAX);
	jpki_select_ap(&card);
	ok = jpki_read_auth_cert(&card, cert, sizeof(cert), &len) == CARD_OK;
	T_CHECK(ok && len == JPKI_CERT_MAX, "8 KB certificate accepted");

	/* errors */
	sim_setup(0);
	fake_sim_cert(&f, 1400, 1000);	/* EF ends inside the object */
	f.cert_ef[2] = 0x05;
	f.cert_ef[3] = 0x74;
	jpki_select_ap(&card);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_E_PROTO && len == 0, "EF shorter than DER length: 6B00 -> PROTO");
	sim_setup(0);
	memset(f.cert_ef, 0xff, 300);	/* no certificate: filler only */
	jpki_select_ap(&card);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_E_PROTO, "filler only: CARD_E_PROTO");
	sim_setup(0);
	f.cert_ef[1] = 0x80;		/* indefinite length */
	jpki_select_ap(&card);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_E_PROTO, "indefinite length: CARD_E_PROTO");
	sim_setup(0);
	f.cert_ef[1] = 0x82;
	f.cert_ef[2] = 0x20;		/* 8196 bytes */
	f.cert_ef[3] = 0x00;
	jpki_select_ap(&card);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_E_PROTO && card.apdus == 3, "over 8 KB: refused after header");
	sim_setup(0);
	jpki_select_ap(&card);
	T_CHECK(jpki_read_auth_cert(&card, cert, 1399, &len) == CARD_E_INVAL,
	    "caller buffer too small: CARD_E_INVAL");
	sim_setup(0);
	f.cert_needs_pin = 1;
	f.label = "JPKIAPGPSETOKEN";
	jpki_select_ap(&card);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_E_SECURITY, "Android before VERIFY: 6982 -> CARD_E_SECURITY");
	T_CHECK(jpki_verify_pin(&card, "1234", 4, &(int){ 0 }) == CARD_OK &&
	    jpki_read_auth_cert(&card, cert, sizeof(cert), &len) == CARD_OK &&
	    len == 1400, "Android after VERIFY: readable");

	SCRIPT(end_6282);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_E_PROTO && script_done(),
	    "6282 before the end of the object: CARD_E_PROTO");
	SCRIPT(le_6c);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_OK && len == 5 && script_done(), "6Cxx: re-sent with Le=xx");
	SCRIPT(chained_61);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_OK && len == 8 && cert[7] == 0x06 && script_done(),
	    "61xx: GET RESPONSE chained");
	SCRIPT(no_progress);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_E_PROTO, "empty 9000 answer mid-object: CARD_E_PROTO");
	SCRIPT(gr_loop);
	T_CHECK(jpki_read_auth_cert(&card, cert, sizeof(cert), &len) ==
	    CARD_E_PROTO && !f.script_error,
	    "endless 61xx chain stops (bounded)");
}

static void
test_pin(void)
{
	static const char *bad[] = {
		"", "1", "123", "12345", "12a4", " 123", "123\n", "１２３４",
		"12\0" "4",
	};
	static const size_t badlen[] = { 0, 1, 3, 5, 4, 4, 4, 12, 4 };
	static const struct fake_step sw_6984[] = {
		{ SEL_PIN, "9000", CARD_OK }, { TRIES, "6984", CARD_OK },
	};
	static const struct fake_step sw_6983[] = {
		{ SEL_PIN, "9000", CARD_OK }, { TRIES, "6983", CARD_OK },
	};
	static const struct fake_step sw_9000[] = {
		{ SEL_PIN, "9000", CARD_OK }, { TRIES, "9000", CARD_OK },
	};
	static const struct fake_step tries_data[] = {
		{ SEL_PIN, "9000", CARD_OK }, { TRIES, "0163C3", CARD_OK },
	};
	static const struct fake_step verify_6983[] = {
		{ SEL_PIN, "9000", CARD_OK },
		{ "002000800435353535", "6983", CARD_OK },
	};
	static const struct fake_step verify_61[] = {
		{ SEL_PIN, "9000", CARD_OK },
		{ "002000800435353535", "6110", CARD_OK },
	};
	static const struct fake_step verify_6c[] = {
		{ SEL_PIN, "9000", CARD_OK },
		{ "002000800435353535", "6C04", CARD_OK },
	};
	int tries;
	size_t i;
	int ok;

	/* format checked before any APDU */
	ok = 1;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sim_setup(0);
		tries = 99;
		if (jpki_verify_pin(&card, bad[i], badlen[i], &tries) !=
		    CARD_E_PIN_FORMAT || f.ncalls != 0 || card.apdus != 0 ||
		    tries != -1)
			ok = 0;
	}
	T_CHECK(ok, "bad PIN formats: CARD_E_PIN_FORMAT, no APDU at all");
	sim_setup(0);
	T_CHECK(jpki_verify_pin(&card, NULL, 4, &tries) == CARD_E_PIN_FORMAT &&
	    f.ncalls == 0, "NULL PIN: no APDU");
	T_CHECK(jpki_pin_format_ok("0000", 4) && jpki_pin_format_ok("9999", 4),
	    "4 digits accepted");

	/* retries query */
	sim_setup(0);
	jpki_select_ap(&card);
	T_CHECK(jpki_pin_tries(&card, &tries) == CARD_OK && tries == 3 &&
	    fake_sent(&f, 1, SEL_PIN) && fake_sent(&f, 2, TRIES) &&
	    f.verify_with_data == 0, "tries: SELECT 0018 + empty VERIFY -> 3");

	/* wrong PIN: one VERIFY, tries from 63Cx, no SELECT repeated */
	card.apdus = 0;
	T_CHECK(jpki_verify_pin(&card, "1111", 4, &tries) == CARD_E_PIN_WRONG &&
	    tries == 2 && card.apdus == 1 &&
	    fake_sent(&f, 3, "002000800431313131") && f.verify_with_data == 1,
	    "wrong PIN: CARD_E_PIN_WRONG, 2 left, exactly one VERIFY");
	T_CHECK(jpki_pin_tries(&card, &tries) == CARD_OK && tries == 2 &&
	    f.verify_with_data == 1, "tries after a wrong PIN: 2");
	T_CHECK(jpki_verify_pin(&card, "1234", 4, &tries) == CARD_OK &&
	    tries == 3 && f.verify_with_data == 2 && f.tries == 3,
	    "right PIN: OK, counter reset");

	/* down to blocked */
	sim_setup(0);
	jpki_select_ap(&card);
	f.tries = 1;
	T_CHECK(jpki_verify_pin(&card, "0000", 4, &tries) ==
	    CARD_E_PIN_BLOCKED && tries == 0 && f.verify_with_data == 1,
	    "last try wrong: 63C0 -> CARD_E_PIN_BLOCKED");
	T_CHECK(jpki_pin_tries(&card, &tries) == CARD_E_PIN_BLOCKED &&
	    tries == 0, "tries on a blocked PIN: 63C0 -> blocked");
	T_CHECK(jpki_verify_pin(&card, "1234", 4, &tries) ==
	    CARD_E_PIN_BLOCKED && tries == 0 && f.verify_with_data == 2,
	    "VERIFY on a blocked PIN: 6984 -> blocked, no retry");
	SCRIPT(sw_6984);
	T_CHECK(jpki_pin_tries(&card, &tries) == CARD_E_PIN_BLOCKED &&
	    script_done(), "tries answered 6984: blocked");
	SCRIPT(sw_6983);
	T_CHECK(jpki_pin_tries(&card, &tries) == CARD_E_PIN_BLOCKED,
	    "tries answered 6983: blocked");
	SCRIPT(sw_9000);
	T_CHECK(jpki_pin_tries(&card, &tries) == CARD_E_PROTO,
	    "tries answered 9000: CARD_E_PROTO");
	SCRIPT(tries_data);
	T_CHECK(jpki_pin_tries(&card, &tries) == CARD_E_PROTO,
	    "tries answer with data: CARD_E_PROTO");
	SCRIPT(verify_6983);
	T_CHECK(jpki_verify_pin(&card, "5555", 4, &tries) ==
	    CARD_E_PIN_BLOCKED && script_done(), "VERIFY 6983: blocked");
	SCRIPT(verify_61);
	T_CHECK(jpki_verify_pin(&card, "5555", 4, &tries) == CARD_E_PROTO &&
	    script_done(), "VERIFY 61xx: no GET RESPONSE, CARD_E_PROTO");
	SCRIPT(verify_6c);
	T_CHECK(jpki_verify_pin(&card, "5555", 4, &tries) == CARD_E_PROTO &&
	    script_done(), "VERIFY 6Cxx: never re-sent");
}

static void
test_sign(void)
{
	static const struct fake_step chained[] = {
		{ SEL_KEY, "9000", CARD_OK },
		{ "802A008033" DI_ABC "00", "6100", CARD_OK },
		{ "00C0000000",
		  "000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0F"
		  "000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0F"
		  "000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0F"
		  "000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0F"
		  "000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0F"
		  "000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0F"
		  "000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0F"
		  "000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0F"
		  "9000", CARD_OK },
	};
	static const struct fake_step short_sig[] = {
		{ SEL_KEY, "9000", CARD_OK },
		{ NULL, "0102" "9000", CARD_OK },
	};
	static const struct fake_step key_missing[] = {
		{ SEL_KEY, "6A82", CARD_OK },
	};
	uint8_t sig[JPKI_SIG_LEN], h[32];
	int tries, ok;

	sim_setup(0);
	jpki_select_ap(&card);
	T_CHECK(jpki_sign_auth(&card, JPKI_SIGN_MESSAGE,
	    (const uint8_t *)"abc", 3, sig) == CARD_E_SECURITY &&
	    fake_sent(&f, 1, SEL_KEY) &&
	    fake_sent(&f, 2, "802A008033" DI_ABC "00"),
	    "sign without VERIFY: exact APDU, 6982 -> CARD_E_SECURITY");
	jpki_verify_pin(&card, "1234", 4, &tries);
	card.apdus = 0;
	ok = jpki_sign_auth(&card, JPKI_SIGN_MESSAGE, (const uint8_t *)"abc",
	    3, sig) == CARD_OK;
	T_CHECK(ok && card.apdus == 2 && sig[0] == 0x30 && sig[1] == 0x30 &&
	    sig[255] == 0xcf /* di[255 % 51] ^ 255 */,
	    "sign after VERIFY: 256 bytes");
	memcpy(h, "\xba\x78\x16\xbf\x8f\x01\xcf\xea\x41\x41\x40\xde\x5d\xae"
	    "\x22\x23\xb0\x03\x61\xa3\x96\x17\x7a\x9c\xb4\x10\xff\x61\xf2\x00"
	    "\x15\xad", 32);
	T_CHECK(jpki_sign_auth(&card, JPKI_SIGN_SHA256, h, 32, sig) ==
	    CARD_OK && fake_sent(&f, f.nlog - 1, "802A008033" DI_ABC "00"),
	    "sign a given SHA-256: same DigestInfo");
	card.apdus = 0;
	T_CHECK(jpki_sign_auth(&card, JPKI_SIGN_SHA256, h, 31, sig) ==
	    CARD_E_INVAL && card.apdus == 0, "31-byte hash refused, no APDU");
	f.sign_sw = 0x6982;
	T_CHECK(jpki_sign_auth(&card, JPKI_SIGN_MESSAGE, h, 1, sig) ==
	    CARD_E_SECURITY, "sign 6982: CARD_E_SECURITY");
	f.sign_sw = 0x6985;
	T_CHECK(jpki_sign_auth(&card, JPKI_SIGN_MESSAGE, h, 1, sig) ==
	    CARD_E_PROTO, "sign 6985: CARD_E_PROTO");

	SCRIPT(chained);
	T_CHECK(jpki_sign_auth(&card, JPKI_SIGN_MESSAGE,
	    (const uint8_t *)"abc", 3, sig) == CARD_OK && script_done() &&
	    sig[17] == 0x01 && card.apdus == 3, "sign 6100 + GET RESPONSE");
	SCRIPT(short_sig);
	T_CHECK(jpki_sign_auth(&card, JPKI_SIGN_MESSAGE,
	    (const uint8_t *)"abc", 3, sig) == CARD_E_PROTO,
	    "2-byte signature: CARD_E_PROTO");
	SCRIPT(key_missing);
	T_CHECK(jpki_sign_auth(&card, JPKI_SIGN_MESSAGE,
	    (const uint8_t *)"abc", 3, sig) == CARD_E_NOT_JPKI,
	    "no key EF: not JPKI");
}

static void
test_flow(void)
{
	char label[JPKI_LABEL_LEN + 1];
	uint8_t sig[JPKI_SIG_LEN];
	enum jpki_token t;
	size_t len;
	int tries, ok;

	sim_setup(0);
	ok = jpki_select_ap(&card) == CARD_OK &&
	    jpki_read_token(&card, &t, label) == CARD_OK &&
	    jpki_read_auth_cert(&card, cert, sizeof(cert), &len) == CARD_OK &&
	    jpki_pin_tries(&card, &tries) == CARD_OK &&
	    jpki_verify_pin(&card, "1234", 4, &tries) == CARD_OK &&
	    jpki_sign_auth(&card, JPKI_SIGN_MESSAGE, (const uint8_t *)"nonce",
	    5, sig) == CARD_OK;
	T_CHECK(ok, "full kiosk flow succeeds");
	T_CHECK(card.apdus == 15 && f.ncalls == 15,
	    "full flow: 15 APDUs (AP, token 2, cert 7, tries 2, VERIFY, sign 2)");
	T_CHECK(f.forbidden == 0 && f.verify_with_data == 1,
	    "never selects 0001/001A/001B; one VERIFY with data");
}

/* A transport that breaks its contract. */
static size_t liar_len;
static int liar_err;

static enum card_err
liar(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen)
{
	(void)ctx;
	(void)c;
	(void)clen;
	if (liar_err != 0)
		return (enum card_err)liar_err;
	if (*rlen >= 2) {
		r[0] = 0x90;
		r[1] = 0x00;
	}
	*rlen = liar_len;
	return CARD_OK;
}

static void
test_transport(void)
{
	struct card_transport tr;
	int tries;

	memset(&tr, 0, sizeof(tr));
	tr.transmit = liar;
	jpki_init(&card, &tr);
	liar_len = 100000;
	T_CHECK(jpki_select_ap(&card) == CARD_E_COMM,
	    "transport reporting more than the buffer: CARD_E_COMM");
	liar_len = 0;
	T_CHECK(jpki_select_ap(&card) == CARD_E_PROTO, "empty answer: PROTO");
	liar_len = 1;
	T_CHECK(jpki_pin_tries(&card, &tries) == CARD_E_PROTO,
	    "1-byte answer: PROTO");
	liar_err = 12345;
	T_CHECK(jpki_select_ap(&card) == CARD_E_COMM,
	    "undefined transport error: CARD_E_COMM");
	liar_err = CARD_E_PIN_WRONG;
	T_CHECK(jpki_select_ap(&card) == CARD_E_COMM,
	    "transport cannot fake a PIN error: CARD_E_COMM");
	liar_err = CARD_E_REMOVED;
	T_CHECK(jpki_pin_tries(&card, &tries) == CARD_E_REMOVED,
	    "card removed: CARD_E_REMOVED");
	liar_err = 0;
}

int
main(void)
{
	test_select();
	test_token();
	test_cert();
	test_pin();
	test_sign();
	test_flow();
	test_transport();
	return t_done();
}
