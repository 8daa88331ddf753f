/*
 * kiosk-vcard's I/O helpers: C-APDU parsing, the masked APDU log, the
 * retry-counter file and the vpcd framing (over a socketpair).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"
#include "t.h"

#include "apdulog.h"
#include "capdu.h"
#include "vcard_state.h"
#include "vpcd.h"

static int
parse_hex(struct capdu *c, uint8_t *buf, size_t len, const char *hex)
{
	long n = hex_decode(buf, len, hex);

	if (n < 0)
		abort();
	return capdu_parse(c, buf, (size_t)n);
}

static void
test_capdu(void)
{
	struct capdu c;
	uint8_t b[70000];

	T_CHECK(parse_hex(&c, b, sizeof(b), "00A40000") == 0 && c.nc == 0 &&
	    !c.has_le, "case 1");
	T_CHECK(parse_hex(&c, b, sizeof(b), "00B0000000") == 0 && c.has_le &&
	    c.ne == 256 && !c.extended, "case 2S, Le 00 = 256");
	T_CHECK(parse_hex(&c, b, sizeof(b), "00B00000000000") == 0 &&
	    c.ne == 65536 && c.extended, "case 2E, Le 0000 = 65536");
	T_CHECK(parse_hex(&c, b, sizeof(b), "002000800431323334") == 0 &&
	    c.nc == 4 && c.data_off == 5 && !c.has_le, "case 3S");
	T_CHECK(parse_hex(&c, b, sizeof(b), "802A008002010200") == 0 &&
	    c.nc == 2 && c.has_le && c.ne == 256, "case 4S");
	T_CHECK(parse_hex(&c, b, sizeof(b), "00200080000002AABB") == 0 &&
	    c.nc == 2 && c.data_off == 7 && !c.has_le, "case 3E");
	T_CHECK(parse_hex(&c, b, sizeof(b), "00200080000002AABB0100") == 0 &&
	    c.nc == 2 && c.ne == 256 && c.extended, "case 4E");
	T_CHECK(parse_hex(&c, b, sizeof(b), "0020008004313233") == -1 &&
	    c.ins == 0x20, "short body: malformed, header kept");
	T_CHECK(parse_hex(&c, b, sizeof(b), "00200080000000") == 0 &&
	    c.ne == 65536, "00 0000 is an extended Le");
	T_CHECK(parse_hex(&c, b, sizeof(b), "002000800000") == -1,
	    "6 bytes with 00 at 5: malformed");
	T_CHECK(parse_hex(&c, b, sizeof(b), "00A400") == -1, "3 bytes");
}

static void
test_apdulog(void)
{
	char out[256];
	uint8_t b[64];
	long n;

	n = hex_decode(b, sizeof(b), "002000800431323334");
	T_CHECK(apdulog_format(out, sizeof(out), b, (size_t)n) == 0 &&
	    strcmp(out, "0020008004********") == 0, "VERIFY PIN masked");
	n = hex_decode(b, sizeof(b), "0024018004353637383900");
	T_CHECK(apdulog_format(out, sizeof(out), b, (size_t)n) == 0 &&
	    strcmp(out, "00240180**************") == 0,
	    "malformed CHANGE masked from the fifth byte");
	T_CHECK(strstr(out, "35") == NULL && strncmp(out, "00240180", 8) == 0,
	    "malformed CHANGE leaks no PIN byte");
	n = hex_decode(b, sizeof(b), "0C20009B0000064142433132330000");
	T_CHECK(apdulog_format(out, sizeof(out), b, (size_t)n) == 0 &&
	    strcmp(out, "0C20009B000006************0000") == 0,
	    "extended SM VERIFY masked, Le kept");
	n = hex_decode(b, sizeof(b), "00200080");
	T_CHECK(apdulog_format(out, sizeof(out), b, (size_t)n) == 0 &&
	    strcmp(out, "00200080") == 0, "empty VERIFY unmasked");
	n = hex_decode(b, sizeof(b), "00B0000004");
	T_CHECK(apdulog_format(out, sizeof(out), b, (size_t)n) == 0 &&
	    strcmp(out, "00B0000004") == 0, "READ BINARY upper-case hex");
	n = hex_decode(b, sizeof(b), "802a00800201ff00");
	T_CHECK(apdulog_format(out, sizeof(out), b, (size_t)n) == 0 &&
	    strcmp(out, "802A00800201FF00") == 0, "sign data not masked");
	T_CHECK(apdulog_format(out, 5, b, (size_t)n) == -1 && out[0] == '\0',
	    "too small a buffer refused");
}

static void
test_state(void)
{
	char dir[256], path[512], err[512];
	struct vcard_state st, in;
	const char *tmpdir;
	FILE *f;
	int fd;

	if ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	snprintf(dir, sizeof(dir), "%s/test_vcard_io.XXXXXX", tmpdir);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/state", dir);
	T_CHECK(vcard_state_load(path, &in, err, sizeof(err)) == 0,
	    "absent state file: 0");
	st.auth_tries = 1;
	st.sign_tries = 4;
	T_CHECK(vcard_state_save(path, &st, err, sizeof(err)) == 0,
	    "save state");
	memset(&in, 0, sizeof(in));
	T_CHECK(vcard_state_load(path, &in, err, sizeof(err)) == 1 &&
	    in.auth_tries == 1 && in.sign_tries == 4, "round trip");
	st.auth_tries = 0;
	T_CHECK(vcard_state_save(path, &st, err, sizeof(err)) == 0 &&
	    vcard_state_load(path, &in, err, sizeof(err)) == 1 &&
	    in.auth_tries == 0, "blocked counter survives");
	st.auth_tries = 4;
	T_CHECK(vcard_state_save(path, &st, err, sizeof(err)) == -1,
	    "out-of-range counter not saved");

	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs("kiosk-vcard-state 1\nauth-tries 9\nsign-tries 5\n", f);
	fclose(f);
	T_CHECK(vcard_state_load(path, &in, err, sizeof(err)) == -1 &&
	    strstr(err, "corrupt") != NULL, "auth-tries 9 is corrupt");
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs("kiosk-vcard-state 1\nauth-tries 3\n", f);
	fclose(f);
	T_CHECK(vcard_state_load(path, &in, err, sizeof(err)) == -1,
	    "missing line is corrupt");
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs("kiosk-vcard-state 1\nauth-tries 3\nsign-tries 5", f);
	fclose(f);
	T_CHECK(vcard_state_load(path, &in, err, sizeof(err)) == -1,
	    "truncated last line is corrupt");
	if ((fd = open(path, O_WRONLY | O_TRUNC)) == -1)
		abort();
	close(fd);
	T_CHECK(vcard_state_load(path, &in, err, sizeof(err)) == -1,
	    "empty file is corrupt");
	unlink(path);
	rmdir(dir);
}

static void
test_vpcd(void)
{
	int sv[2];
	uint8_t buf[VPCD_MSG_MAX], big[VPCD_MSG_MAX];
	uint8_t raw[8];
	size_t len, i;
	ssize_t r;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	/* vpcd side writes the length and the payload separately. */
	T_CHECK(write(sv[0], "\x00\x01", 2) == 2 &&
	    write(sv[0], "\x04", 1) == 1, "peer writes ATR request");
	T_CHECK(vpcd_recv(sv[1], buf, &len, NULL) == 1 && len == 1 &&
	    buf[0] == VPCD_CTRL_ATR, "control byte received");
	T_CHECK(vpcd_send(sv[1], (const uint8_t *)"\x90\x00", 2) == 0,
	    "send R-APDU");
	r = read(sv[0], raw, sizeof(raw));
	T_CHECK(r == 4 && memcmp(raw, "\x00\x02\x90\x00", 4) == 0,
	    "framed with a 2-byte big-endian length");
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	T_CHECK(vpcd_send(sv[0], big, sizeof(big)) == 0,
	    "send a 65535-byte message");
	T_CHECK(vpcd_recv(sv[1], buf, &len, NULL) == 1 &&
	    len == VPCD_MSG_MAX && memcmp(buf, big, len) == 0,
	    "65535-byte message round trip");
	T_CHECK(vpcd_send(sv[0], big, VPCD_MSG_MAX + 1) == -1 &&
	    errno == EMSGSIZE, "oversized message refused");
	T_CHECK(write(sv[0], "\x00\x05\x00\xA4", 4) == 4, "partial message");
	close(sv[0]);
	T_CHECK(vpcd_recv(sv[1], buf, &len, NULL) == -1 && errno == EPIPE,
	    "close inside a message: error");
	close(sv[1]);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	close(sv[0]);
	T_CHECK(vpcd_recv(sv[1], buf, &len, NULL) == 0,
	    "close at a boundary: EOF");
	close(sv[1]);
}

int
main(void)
{
	test_capdu();
	test_apdulog();
	test_state();
	test_vpcd();
	return t_done();
}
