/*
 * kiosk-vcard: a virtual My Number card (JPKI AP) for tests.  It is a
 * vpcd client: pcscd's vpcd driver listens, the card connects (= card
 * inserted) and answers control bytes and C-APDUs until vpcd closes
 * the connection.  The card logic lives in applet.c; this file holds
 * options, fault injection, the retry-counter file and the APDU log.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hex.h"
#include "log.h"
#include "util.h"

#include "apdulog.h"
#include "applet.h"
#include "vcard_state.h"
#include "vpcd.h"

#define CONNECT_TIMEOUT_MS	10000
#define FILE_MAX		(1024 * 1024)
#define ATR_MAX			33
#define DELAY_MAX_MS		600000
#define FUZZ_DATA_MAX		300

/* Contactless JPKI (06) from OpenSC's list (JPKI.md §7). */
static const uint8_t default_atr[] = {
	0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x05, 0xE0, 0xB3, 0x81, 0xA1,
	0x00, 0x7F
};

struct vcard {
	struct applet	*applet;
	int		 fd;
	FILE		*log;
	int		 verbose;
	const char	*state_path;
	uint8_t		 atr[ATR_MAX];
	size_t		 atrlen;
	long long	 drop_after;	/* 0 = never */
	long long	 napdus;
	long		 delay_ms;
	int		 fail_6f00;
	int		 pending_6f00;
	int		 fuzz;
	uint64_t	 rng;
};

static volatile sig_atomic_t stop;

/* Room for "C: " + hex of the largest vpcd message. */
static char line[2 * VPCD_MSG_MAX + 16];

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: kiosk-vcard --cert auth.crt --key auth.key [--ca CA.crt]\n"
	    "\t[--sign-cert sign.crt --sign-key sign.key] [--sign-ca CA.crt]\n"
	    "\t[--pin 1234] [--sign-pin ABC123] [--state FILE]\n"
	    "\t[--host 127.0.0.1] [--port 35963] [--token card|android]\n"
	    "\t[--atr HEX] [--log FILE] [--drop-after N] [--delay-ms MS]\n"
	    "\t[--fail-first-6f00] [--fuzz SEED] [-v]\n");
	exit(1);
}

/* One line of the APDU/event log, flushed; echoed on stdout with -v. */
static void
vlog(struct vcard *v, const char *s)
{
	if (v->log != NULL) {
		if (fprintf(v->log, "%s\n", s) < 0 || fflush(v->log) == EOF)
			fatal("write to log file");
	}
	if (v->verbose) {
		printf("%s\n", s);
		fflush(stdout);
	}
}

static void
vlog_hex(struct vcard *v, const char *tag, const uint8_t *b, size_t len)
{
	size_t n = strlen(tag);

	memcpy(line, tag, n);
	hex_encode(line + n, sizeof(line) - n, b, len);
	vlog(v, line);
}

static void
vlog_capdu(struct vcard *v, const uint8_t *b, size_t len)
{
	memcpy(line, "C: ", 3);
	if (apdulog_format(line + 3, sizeof(line) - 3, b, len) == -1)
		fatalx("APDU log line too long");
	vlog(v, line);
}

/* splitmix64: a tiny seeded PRNG, reproducible across platforms. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z;

	*s += 0x9E3779B97F4A7C15ULL;
	z = *s;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static size_t
fuzz_answer(struct vcard *v, uint8_t *r)
{
	size_t n, i;

	n = (size_t)(rng_next(&v->rng) % (FUZZ_DATA_MAX + 1)) + 2;
	for (i = 0; i < n; i++)
		r[i] = (uint8_t)rng_next(&v->rng);
	return n;
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !stop)
		;
}

static uint8_t *
read_file(const char *path, size_t *lenp)
{
	FILE *f;
	uint8_t *buf;
	size_t len;

	if ((f = fopen(path, "rbe")) == NULL)
		fatal("%s", path);
	if ((buf = malloc(FILE_MAX + 1)) == NULL)
		fatal("malloc");
	len = fread(buf, 1, FILE_MAX + 1, f);
	if (ferror(f))
		fatal("%s: read", path);
	fclose(f);
	if (len > FILE_MAX)
		fatalx("%s: larger than %d bytes", path, FILE_MAX);
	if (len == 0)
		fatalx("%s: empty file", path);
	*lenp = len;
	return buf;
}

/* A certificate in PEM or DER; returns its DER encoding. */
static uint8_t *
load_cert_der(const char *path, size_t *derlen)
{
	BIO *bio;
	X509 *x;
	uint8_t *raw, *der = NULL;
	const uint8_t *p;
	size_t len;
	int n;

	raw = read_file(path, &len);
	if ((bio = BIO_new_mem_buf(raw, (int)len)) == NULL)
		fatalx("BIO_new_mem_buf");
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL) {
		p = raw;
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && p != raw + len)
			fatalx("%s: trailing bytes after the DER certificate",
			    path);
	}
	ERR_clear_error();
	free(raw);
	if (x == NULL)
		fatalx("%s: not a PEM or DER X.509 certificate", path);
	if ((n = i2d_X509(x, &der)) <= 0)
		fatalx("%s: cannot encode the certificate", path);
	X509_free(x);
	*derlen = (size_t)n;
	return der;
}

static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *
load_key(const char *path)
{
	EVP_PKEY *key;
	uint8_t *raw;
	size_t len;
	BIO *bio;

	raw = read_file(path, &len);
	if ((bio = BIO_new_mem_buf(raw, (int)len)) == NULL)
		fatalx("BIO_new_mem_buf");
	key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(raw, len);
	free(raw);
	ERR_clear_error();
	if (key == NULL)
		fatalx("%s: not an unencrypted PEM private key", path);
	return key;
}

static int
persist_cb(void *arg, int auth_tries, int sign_tries)
{
	struct vcard *v = arg;
	struct vcard_state st;
	char err[512];

	if (v->state_path == NULL)
		return 0;
	st.auth_tries = auth_tries;
	st.sign_tries = sign_tries;
	if (vcard_state_save(v->state_path, &st, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

static void
control(struct vcard *v, uint8_t code)
{
	switch (code) {
	case VPCD_CTRL_OFF:
		applet_power_off(v->applet);
		vlog(v, "EV: power-off");
		break;
	case VPCD_CTRL_ON:
		applet_power_on(v->applet);
		v->pending_6f00 = v->fail_6f00;
		vlog(v, "EV: power-on");
		break;
	case VPCD_CTRL_RESET:
		applet_reset(v->applet);
		vlog(v, "EV: reset");
		break;
	case VPCD_CTRL_ATR:
		if (vpcd_send(v->fd, v->atr, v->atrlen) == -1 && errno != EPIPE &&
		    errno != ECONNRESET)
			fatal("send ATR");
		break;
	default:
		log_warnx("unknown vpcd control byte 0x%02x ignored", code);
		break;
	}
}

/* Returns 0 to go on, 1 to stop (connection dropped on purpose). */
static int
command(struct vcard *v, const uint8_t *c, size_t clen)
{
	static uint8_t r[APPLET_RAPDU_MAX + FUZZ_DATA_MAX + 2];
	size_t rlen;

	vlog_capdu(v, c, clen);
	v->napdus++;
	if (v->drop_after > 0 && v->napdus >= v->drop_after) {
		vlog(v, "EV: dropped");
		return 1;
	}
	if (v->fuzz)
		rlen = fuzz_answer(v, r);
	else if (v->pending_6f00) {
		r[0] = 0x6F;
		r[1] = 0x00;
		rlen = 2;
	} else {
		rlen = sizeof(r);
		if (applet_process(v->applet, c, clen, r, &rlen) == -1)
			fatalx("applet_process: internal error");
	}
	v->pending_6f00 = 0;
	if (v->delay_ms > 0)
		sleep_ms(v->delay_ms);
	if (stop)
		return 1;
	if (vpcd_send(v->fd, r, rlen) == -1) {
		if (errno == EPIPE || errno == ECONNRESET)
			return 1;
		fatal("send R-APDU");
	}
	vlog_hex(v, "R: ", r, rlen);
	return 0;
}

static void
serve(struct vcard *v)
{
	static uint8_t buf[VPCD_MSG_MAX];
	size_t len;
	int rc;

	for (;;) {
		rc = vpcd_recv(v->fd, buf, &len, &stop);
		if (stop)
			return;
		if (rc == 0)
			return;		/* vpcd closed: card removed */
		if (rc == -1) {
			if (errno == ECONNRESET || errno == EPIPE)
				return;
			fatal("receive from vpcd");
		}
		if (len == 0)
			continue;
		if (len == 1)
			control(v, buf[0]);
		else if (command(v, buf, len) == 1)
			return;
	}
}

static long long
num_opt(const char *name, const char *s, long long min, long long max)
{
	const char *errstr;
	long long n;

	n = parse_num(s, min, max, &errstr);
	if (errstr != NULL)
		fatalx("%s %s: %s (%lld-%lld)", name, s, errstr, min, max);
	return n;
}

enum {
	OPT_CERT = 256, OPT_KEY, OPT_CA, OPT_SIGN_CERT, OPT_SIGN_KEY,
	OPT_SIGN_CA, OPT_PIN, OPT_SIGN_PIN, OPT_STATE, OPT_PORT, OPT_HOST,
	OPT_TOKEN, OPT_ATR, OPT_LOG, OPT_DROP, OPT_DELAY, OPT_6F00, OPT_FUZZ
};

static const struct option longopts[] = {
	{ "cert",		required_argument, NULL, OPT_CERT },
	{ "key",		required_argument, NULL, OPT_KEY },
	{ "ca",			required_argument, NULL, OPT_CA },
	{ "sign-cert",		required_argument, NULL, OPT_SIGN_CERT },
	{ "sign-key",		required_argument, NULL, OPT_SIGN_KEY },
	{ "sign-ca",		required_argument, NULL, OPT_SIGN_CA },
	{ "pin",		required_argument, NULL, OPT_PIN },
	{ "sign-pin",		required_argument, NULL, OPT_SIGN_PIN },
	{ "state",		required_argument, NULL, OPT_STATE },
	{ "port",		required_argument, NULL, OPT_PORT },
	{ "host",		required_argument, NULL, OPT_HOST },
	{ "token",		required_argument, NULL, OPT_TOKEN },
	{ "atr",		required_argument, NULL, OPT_ATR },
	{ "log",		required_argument, NULL, OPT_LOG },
	{ "drop-after",		required_argument, NULL, OPT_DROP },
	{ "delay-ms",		required_argument, NULL, OPT_DELAY },
	{ "fail-first-6f00",	no_argument,	   NULL, OPT_6F00 },
	{ "fuzz",		required_argument, NULL, OPT_FUZZ },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL,			0,		   NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct applet_config cf;
	struct vcard v;
	struct vcard_state st;
	struct sigaction sa;
	const char *cert = NULL, *key = NULL, *ca = NULL, *scert = NULL;
	const char *skey = NULL, *sca = NULL, *logpath = NULL;
	const char *host = "127.0.0.1", *port = "35963";
	const char *pin = "1234", *spin = "ABC123";
	char err[512];
	long hexlen;
	int ch, rc;

	log_init(argv[0], 0);
	memset(&v, 0, sizeof(v));
	memset(&cf, 0, sizeof(cf));
	v.fd = -1;
	memcpy(v.atr, default_atr, sizeof(default_atr));
	v.atrlen = sizeof(default_atr);
	cf.token = APPLET_TOKEN_CARD;

	while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_CERT:
			cert = optarg;
			break;
		case OPT_KEY:
			key = optarg;
			break;
		case OPT_CA:
			ca = optarg;
			break;
		case OPT_SIGN_CERT:
			scert = optarg;
			break;
		case OPT_SIGN_KEY:
			skey = optarg;
			break;
		case OPT_SIGN_CA:
			sca = optarg;
			break;
		case OPT_PIN:
			pin = optarg;
			break;
		case OPT_SIGN_PIN:
			spin = optarg;
			break;
		case OPT_STATE:
			v.state_path = optarg;
			break;
		case OPT_PORT:
			num_opt("--port", optarg, 1, 65535);
			port = optarg;
			break;
		case OPT_HOST:
			host = optarg;
			break;
		case OPT_TOKEN:
			if (strcmp(optarg, "card") == 0)
				cf.token = APPLET_TOKEN_CARD;
			else if (strcmp(optarg, "android") == 0)
				cf.token = APPLET_TOKEN_ANDROID;
			else
				fatalx("--token must be card or android");
			break;
		case OPT_ATR:
			hexlen = hex_decode(v.atr, sizeof(v.atr), optarg);
			if (hexlen < 2)
				fatalx("--atr: 2 to %d bytes of hex expected",
				    ATR_MAX);
			v.atrlen = (size_t)hexlen;
			break;
		case OPT_LOG:
			logpath = optarg;
			break;
		case OPT_DROP:
			v.drop_after = num_opt("--drop-after", optarg, 1,
			    LLONG_MAX);
			break;
		case OPT_DELAY:
			v.delay_ms = (long)num_opt("--delay-ms", optarg, 0,
			    DELAY_MAX_MS);
			break;
		case OPT_6F00:
			v.fail_6f00 = 1;
			break;
		case OPT_FUZZ:
			v.fuzz = 1;
			v.rng = (uint64_t)num_opt("--fuzz", optarg, 0,
			    LLONG_MAX);
			break;
		case 'v':
			v.verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || cert == NULL || key == NULL)
		usage();
	if ((scert == NULL) != (skey == NULL))
		fatalx("--sign-cert and --sign-key go together");
	if (!applet_pin_valid(APPLET_PIN_AUTH, pin))
		fatalx("--pin must be exactly 4 digits");
	if (!applet_pin_valid(APPLET_PIN_SIGN, spin))
		fatalx("--sign-pin must be 6 to 16 characters of A-Z and 0-9");
	log_setverbose(v.verbose);

	cf.auth_cert = load_cert_der(cert, &cf.auth_cert_len);
	cf.auth_key = load_key(key);
	if (ca != NULL)
		cf.auth_ca = load_cert_der(ca, &cf.auth_ca_len);
	if (scert != NULL) {
		cf.sign_cert = load_cert_der(scert, &cf.sign_cert_len);
		cf.sign_key = load_key(skey);
	}
	if (sca != NULL)
		cf.sign_ca = load_cert_der(sca, &cf.sign_ca_len);
	cf.auth_pin = pin;
	cf.sign_pin = spin;
	cf.auth_tries = -1;
	cf.sign_tries = -1;
	if (v.state_path != NULL) {
		rc = vcard_state_load(v.state_path, &st, err, sizeof(err));
		if (rc == -1)
			fatalx("%s", err);
		if (rc == 1) {
			cf.auth_tries = st.auth_tries;
			cf.sign_tries = st.sign_tries;
		} else {
			st.auth_tries = APPLET_AUTH_TRIES;
			st.sign_tries = APPLET_SIGN_TRIES;
			if (vcard_state_save(v.state_path, &st, err,
			    sizeof(err)) == -1)
				fatalx("%s", err);
		}
	}
	cf.tries_cb = persist_cb;
	cf.tries_arg = &v;
	if ((v.applet = applet_new(&cf, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	/* The applet holds its own copies and key references. */
	OPENSSL_free((void *)cf.auth_cert);
	OPENSSL_free((void *)cf.auth_ca);
	OPENSSL_free((void *)cf.sign_cert);
	OPENSSL_free((void *)cf.sign_ca);
	EVP_PKEY_free(cf.auth_key);
	EVP_PKEY_free(cf.sign_key);

	if (logpath != NULL && (v.log = fopen(logpath, "ae")) == NULL)
		fatal("%s", logpath);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");

	v.fd = vpcd_connect(host, port, CONNECT_TIMEOUT_MS, &stop, err,
	    sizeof(err));
	if (v.fd == -1) {
		if (stop)
			return 0;
		fatalx("%s", err);
	}
	vlog(&v, "EV: connected");
	log_info("connected to vpcd at %s:%s", host, port);
	serve(&v);
	close(v.fd);
	applet_free(v.applet);
	if (v.log != NULL && fclose(v.log) == EOF)
		fatal("%s", logpath);
	return 0;
}
