/*
 * kiosk-card: diagnostic client of the kiosk's card layer.  It runs the
 * same JPKI code as the card worker (info, sign) and shows PC/SC events
 * (watch), so a technician can check a reader and a card on site.
 *
 * Output is one "key: value" per line on stdout (tests parse it); errors
 * go to stderr as "kiosk-card: <message>" with an exit code per class.
 * The PIN is read from stdin only, kept in one stack buffer, wiped on
 * every path; the card is unpowered after any session that saw a PIN.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "card_err.h"
#include "hex.h"
#include "jpki.h"
#include "log.h"
#include "pcsc.h"
#include "util.h"

#define EXIT_OK		0
#define EXIT_USAGE	1	/* usage or internal error */
#define EXIT_CARD	2	/* no reader/card, removed, communication */
#define EXIT_PIN_WRONG	3
#define EXIT_PIN_BLOCKED 4
#define EXIT_NOT_JPKI	5
#define EXIT_PIN_FORMAT	6

#define CHALLENGE_MAX	1024
#define PIN_BUF		16	/* a 4-digit PIN plus room to detect junk */
#define SERIAL_MAX	64	/* RFC 5280 allows 20 octets; be lenient */
#define NAME_MAX_OUT	4096
#define WATCH_COUNT_MAX	1000000
#define WATCH_TIMEOUT_MAX (7 * 24 * 3600)

/* Names as OpenSSL's one-line form, C=JP, O=..., raw UTF-8. */
#define NAME_FLAGS	((XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB & \
			    ~XN_FLAG_SPC_EQ))

enum {
	OPT_READER = 256,
	OPT_CERT_OUT,
	OPT_SIG_OUT,
	OPT_CHALLENGE,
	OPT_COUNT,
	OPT_TIMEOUT
};

struct opts {
	const char	*reader;
	const char	*cert_out;
	const char	*sig_out;
	const char	*challenge;
	long long	 count;		/* 0: unlimited */
	long long	 timeout;	/* seconds, 0: none */
	int		 verbose;
};

static volatile sig_atomic_t interrupted;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: kiosk-card [--reader NAME] [-v] info [--cert-out FILE]\n"
	    "       kiosk-card [--reader NAME] [-v] sign --challenge HEX "
	    "[--cert-out FILE] [--sig-out FILE]\n"
	    "       kiosk-card [--reader NAME] [-v] watch [--count N] "
	    "[--timeout SEC]\n"
	    "sign reads the 4-digit PIN from stdin.\n"
	    "exit: 0 ok, 1 usage/internal, 2 reader/card/communication, "
	    "3 wrong PIN,\n      4 PIN blocked, 5 not a JPKI card, "
	    "6 PIN format\n");
	exit(EXIT_USAGE);
}

static int
exit_code(enum card_err e)
{
	switch (e) {
	case CARD_OK:
		return EXIT_OK;
	case CARD_E_PIN_WRONG:
		return EXIT_PIN_WRONG;
	case CARD_E_PIN_BLOCKED:
		return EXIT_PIN_BLOCKED;
	case CARD_E_NOT_JPKI:
		return EXIT_NOT_JPKI;
	case CARD_E_PIN_FORMAT:
		return EXIT_PIN_FORMAT;
	case CARD_E_NOMEM:
	case CARD_E_INVAL:
	case CARD_E_CANCELLED:
	case CARD_E__MAX:
		return EXIT_USAGE;
	default:
		return EXIT_CARD;
	}
}

/* Report e on stderr and return its exit code. */
static int
fail(enum card_err e)
{
	log_warnx("%s", card_strerror(e));
	return exit_code(e);
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* SIGINT/SIGTERM only set a flag: a session in progress ends cleanly. */
static int
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: interrupt the PIN read */
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1) {
		log_warn("sigaction");
		return -1;
	}
	return 0;
}

static int
write_file(const char *path, const uint8_t *buf, size_t len)
{
	ssize_t w;
	size_t o = 0;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	while (o < len) {
		if ((w = write(fd, buf + o, len - o)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("%s", path);
			(void)close(fd);
			return -1;
		}
		o += (size_t)w;
	}
	if (close(fd) == -1) {
		log_warn("%s", path);
		return -1;
	}
	return 0;
}

static void
print_hex(const char *key, const uint8_t *buf, size_t len)
{
	char hex[2 * JPKI_SIG_LEN + 1];

	if (len > JPKI_SIG_LEN)
		len = JPKI_SIG_LEN;	/* ATRs, hashes, signatures */
	hex_encode(hex, sizeof(hex), buf, len);
	printf("%s: %s\n", key, hex);
}

/* The serial as OpenSSL prints it: magnitude bytes, no leading 00. */
static int
print_serial(const X509 *x)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	char hex[2 * SERIAL_MAX + 1];
	int n;

	if (s == NULL || (n = ASN1_STRING_length(s)) < 0 || n > SERIAL_MAX) {
		log_warnx("certificate serial number missing or too long");
		return -1;
	}
	if (n == 0)
		snprintf(hex, sizeof(hex), "00");
	else
		hex_encode(hex, sizeof(hex), ASN1_STRING_get0_data(s),
		    (size_t)n);
	printf("cert-serial: %s%s\n",
	    ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER ? "-" : "", hex);
	return 0;
}

static int
print_name(const char *key, const X509_NAME *name)
{
	BIO *b;
	char *data = NULL;
	long len;
	int rc = -1;

	if (name == NULL || (b = BIO_new(BIO_s_mem())) == NULL) {
		log_warnx("%s: cannot format the name", key);
		return -1;
	}
	if (X509_NAME_print_ex(b, name, 0, NAME_FLAGS) < 0 ||
	    (len = BIO_get_mem_data(b, &data)) < 0 || len > NAME_MAX_OUT ||
	    (len > 0 && data == NULL) || memchr(data, '\n', (size_t)len)) {
		log_warnx("%s: cannot format the name", key);
		goto out;
	}
	printf("%s: %.*s\n", key, (int)len, len > 0 ? data : "");
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

static int
print_time(const char *key, const ASN1_TIME *t)
{
	struct tm tm;
	char buf[32];

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm) ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		log_warnx("%s: invalid time in the certificate", key);
		return -1;
	}
	printf("%s: %s\n", key, buf);
	return 0;
}

/* Parse exactly one DER certificate; NULL (with a message) otherwise. */
static X509 *
cert_parse(const uint8_t *der, size_t len)
{
	const unsigned char *q = der;
	X509 *x;

	if (len > JPKI_CERT_MAX ||
	    (x = d2i_X509(NULL, &q, (long)len)) == NULL) {
		log_warnx("the certificate on the card is not valid X.509");
		return NULL;
	}
	if (q != der + len) {
		log_warnx("trailing bytes after the certificate");
		X509_free(x);
		return NULL;
	}
	return x;
}

static int
print_cert(const uint8_t *der, size_t len, X509 **xp)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	X509 *x;

	if ((x = cert_parse(der, len)) == NULL)
		return -1;
	if (print_serial(x) == -1 ||
	    print_name("cert-subject", X509_get_subject_name(x)) == -1 ||
	    print_name("cert-issuer", X509_get_issuer_name(x)) == -1 ||
	    print_time("cert-not-before", X509_get0_notBefore(x)) == -1 ||
	    print_time("cert-not-after", X509_get0_notAfter(x)) == -1)
		goto bad;
	if (!EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL)) {
		log_warnx("SHA-256 failed");
		goto bad;
	}
	print_hex("cert-sha256", md, mdlen);
	if (xp != NULL)
		*xp = x;
	else
		X509_free(x);
	return 0;
bad:
	X509_free(x);
	return -1;
}

/* sha256WithRSAEncryption (PKCS#1 v1.5) over msg with the cert's key. */
static int
sig_verify(X509 *x, const uint8_t *msg, size_t msglen, const uint8_t *sig,
    size_t siglen)
{
	EVP_PKEY *pk;
	EVP_MD_CTX *md;
	int ok = 0;

	if ((pk = X509_get0_pubkey(x)) == NULL ||
	    EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return 0;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return 0;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/*
 * Read one line from stdin into pin (never through stdio, whose buffer
 * would keep a copy).  No echo on a terminal.  Returns 0 with *len set,
 * CARD_E_PIN_FORMAT for an over-long line, -1 on I/O error or signal.
 */
static int
read_pin(char *pin, size_t cap, size_t *len)
{
	struct termios old, noecho;
	char ch = 0;
	ssize_t r;
	size_t n = 0;
	int tty, restore = 0, toolong = 0, rc = 0;

	*len = 0;
	tty = isatty(STDIN_FILENO);
	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		noecho.c_lflag |= ECHONL;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho) == 0)
			restore = 1;
		fprintf(stderr, "PIN: ");
		fflush(stderr);
	}
	for (;;) {
		if (interrupted) {
			rc = -1;
			break;
		}
		r = read(STDIN_FILENO, &ch, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_warn("reading the PIN");
			rc = -1;
			break;
		}
		if (r == 0 || ch == '\n')
			break;
		if (n + 1 < cap)
			pin[n++] = ch;
		else
			toolong = 1;
	}
	secure_wipe(&ch, sizeof(ch));
	if (restore)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (n > 0 && pin[n - 1] == '\r')
		n--;
	pin[n] = '\0';
	if (rc == 0 && toolong)
		rc = CARD_E_PIN_FORMAT;
	if (rc != 0) {
		secure_wipe(pin, cap);
		return rc;
	}
	*len = n;
	return 0;
}

/* Connect and select the JPKI AP; prints reader: and atr: when asked. */
static enum card_err
session_start(struct pcsc *p, struct jpki_card *card, int exclusive,
    int print)
{
	struct card_transport tr;
	char esc[PCSC_READER_NAME_MAX * 4];
	uint8_t atr[PCSC_ATR_MAX];
	size_t atrlen;
	enum card_err e;

	if ((e = pcsc_connect(p, exclusive)) != CARD_OK)
		return e;
	if (print) {
		printf("reader: %s\n", log_escape(esc, sizeof(esc),
		    pcsc_reader_name(p), strlen(pcsc_reader_name(p))));
		if (pcsc_atr(p, atr, sizeof(atr), &atrlen) == CARD_OK)
			print_hex("atr", atr, atrlen);
		fflush(stdout);
	}
	pcsc_transport(p, &tr);
	jpki_init(card, &tr);
	return jpki_select_ap(card);
}

/* Token check; reports its own failure on stderr. */
static enum card_err
read_token(struct jpki_card *card, enum jpki_token *token, int print)
{
	char label[JPKI_LABEL_LEN + 1];
	enum card_err e;

	e = jpki_read_token(card, token, label);
	if (e == CARD_E_NOT_JPKI && label[0] != '\0') {
		log_warnx("not a JPKI card: unknown token label \"%s\"", label);
		return e;
	}
	if (e != CARD_OK) {
		(void)fail(e);
		return e;
	}
	if (print) {
		printf("token: %s\n", jpki_token_name(*token));
		printf("label: %s\n", label);
		fflush(stdout);
	}
	return CARD_OK;
}

static int
cmd_info(struct pcsc *p, const struct opts *o)
{
	static uint8_t cert[JPKI_CERT_MAX];
	struct jpki_card card;
	enum jpki_token token = JPKI_TOKEN_UNKNOWN;
	size_t certlen = 0;
	enum card_err e;
	int tries = -1, rc = EXIT_OK;

	if ((e = session_start(p, &card, 0, 1)) != CARD_OK)
		goto cardfail;
	if ((e = read_token(&card, &token, 1)) != CARD_OK) {
		rc = exit_code(e);
		goto out;
	}
	e = jpki_pin_tries(&card, &tries);
	if (e == CARD_E_PIN_BLOCKED)
		printf("pin-tries: blocked\n");
	else if (e == CARD_OK)
		printf("pin-tries: %d\n", tries);
	else
		goto cardfail;
	fflush(stdout);

	/* Android keeps the auth certificate behind the PIN (JPKI.md §9) */
	if (token == JPKI_TOKEN_ANDROID)
		e = CARD_E_SECURITY;
	else
		e = jpki_read_auth_cert(&card, cert, sizeof(cert), &certlen);
	if (e == CARD_E_SECURITY) {
		printf("cert: requires PIN\n");
		if (o->cert_out != NULL)
			log_warnx("--cert-out: the certificate needs the PIN "
			    "on this token (use sign)");
	} else if (e != CARD_OK)
		goto cardfail;
	else {
		if (print_cert(cert, certlen, NULL) == -1) {
			rc = EXIT_CARD;
			goto out;
		}
		if (o->cert_out != NULL &&
		    write_file(o->cert_out, cert, certlen) == -1)
			rc = EXIT_USAGE;
	}
	log_info("%lu APDUs", card.apdus);
	goto out;
cardfail:
	rc = fail(e);
out:
	fflush(stdout);
	(void)pcsc_disconnect(p, 0);
	return rc;
}

static int
cmd_sign(struct pcsc *p, const struct opts *o)
{
	static uint8_t cert[JPKI_CERT_MAX];
	uint8_t challenge[CHALLENGE_MAX];
	uint8_t sig[JPKI_SIG_LEN];
	char pin[PIN_BUF];
	struct jpki_card card;
	enum jpki_token token = JPKI_TOKEN_UNKNOWN;
	X509 *x = NULL;
	size_t certlen = 0, pinlen = 0;
	long clen;
	enum card_err e;
	int tries = -1, rc = EXIT_OK, r;

	memset(pin, 0, sizeof(pin));
	if (o->challenge == NULL) {
		log_warnx("sign needs --challenge HEX");
		return EXIT_USAGE;
	}
	clen = hex_decode(challenge, sizeof(challenge), o->challenge);
	if (clen < 1) {
		log_warnx("--challenge: 1 to %d bytes of hex expected",
		    CHALLENGE_MAX);
		return EXIT_USAGE;
	}
	if (catch_signals() == -1)
		return EXIT_USAGE;
	if ((r = read_pin(pin, sizeof(pin), &pinlen)) != 0) {
		if (r == CARD_E_PIN_FORMAT)
			return fail(CARD_E_PIN_FORMAT);
		if (interrupted)
			log_warnx("interrupted");
		return EXIT_USAGE;
	}
	if (!jpki_pin_format_ok(pin, pinlen)) {
		secure_wipe(pin, sizeof(pin));
		return fail(CARD_E_PIN_FORMAT);
	}

	if ((e = session_start(p, &card, 1, 0)) != CARD_OK)
		goto cardfail;
	if ((e = read_token(&card, &token, 0)) != CARD_OK) {
		rc = exit_code(e);
		goto out;
	}
	if (token != JPKI_TOKEN_ANDROID) {
		e = jpki_read_auth_cert(&card, cert, sizeof(cert), &certlen);
		if (e != CARD_OK && e != CARD_E_SECURITY)
			goto cardfail;
	}
	if (interrupted)
		goto intr;
	if ((e = jpki_pin_tries(&card, &tries)) != CARD_OK)
		goto cardfail;		/* blocked: no VERIFY */
	printf("pin-tries: %d\n", tries);
	fflush(stdout);
	if (interrupted)
		goto intr;

	e = jpki_verify_pin(&card, pin, pinlen, &tries);
	secure_wipe(pin, sizeof(pin));
	if (e == CARD_E_PIN_WRONG) {
		/* wording parsed by scripts: "N tries left" / "1 try left" */
		log_warnx("wrong PIN, %d %s left", tries,
		    tries == 1 ? "try" : "tries");
		rc = EXIT_PIN_WRONG;
		goto out;
	}
	if (e != CARD_OK)
		goto cardfail;
	if (certlen == 0 && (e = jpki_read_auth_cert(&card, cert, sizeof(cert),
	    &certlen)) != CARD_OK)
		goto cardfail;
	if ((e = jpki_sign_auth(&card, JPKI_SIGN_MESSAGE, challenge,
	    (size_t)clen, sig)) != CARD_OK)
		goto cardfail;
	(void)pcsc_disconnect(p, 1);

	if ((x = cert_parse(cert, certlen)) == NULL) {
		rc = EXIT_CARD;
		goto out;
	}
	if (!sig_verify(x, challenge, (size_t)clen, sig, sizeof(sig))) {
		log_warnx("the card's signature does NOT verify with its "
		    "certificate's public key");
		rc = EXIT_CARD;
		goto out;
	}
	print_hex("signature", sig, sizeof(sig));
	printf("verified: yes\n");
	if (print_serial(x) == -1) {
		rc = EXIT_CARD;
		goto out;
	}
	printf("apdus: %lu\n", card.apdus);
	if (o->cert_out != NULL &&
	    write_file(o->cert_out, cert, certlen) == -1)
		rc = EXIT_USAGE;
	if (o->sig_out != NULL &&
	    write_file(o->sig_out, sig, sizeof(sig)) == -1)
		rc = EXIT_USAGE;
	goto out;
intr:
	log_warnx("interrupted");
	rc = EXIT_USAGE;
	goto out;
cardfail:
	rc = fail(e);
out:
	secure_wipe(pin, sizeof(pin));
	fflush(stdout);
	(void)pcsc_disconnect(p, 1);	/* every path: clear the PIN state */
	X509_free(x);
	return rc;
}

struct watch_state {
	long long	 count;
	long long	 seen;
	int		 write_error;
};

static int
watch_cb(const struct pcsc_event *ev, void *arg)
{
	struct watch_state *ws = arg;
	char esc[PCSC_READER_NAME_MAX * 4];
	char hex[2 * PCSC_ATR_MAX + 1];

	log_escape(esc, sizeof(esc), ev->reader, strlen(ev->reader));
	switch (ev->type) {
	case PCSC_EV_INSERTED:
		if (ev->atrlen == 0)
			snprintf(hex, sizeof(hex), "-");
		else
			hex_encode(hex, sizeof(hex), ev->atr, ev->atrlen);
		printf("inserted %s %s\n", esc, hex);
		break;
	case PCSC_EV_REMOVED:
		printf("removed %s\n", esc);
		break;
	case PCSC_EV_READER_ADDED:
		printf("reader-added %s\n", esc);
		break;
	case PCSC_EV_READER_REMOVED:
		printf("reader-removed %s\n", esc);
		break;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		ws->write_error = 1;
		return 1;
	}
	ws->seen++;
	return ws->count > 0 && ws->seen >= ws->count;
}

/* Waits for SIGINT/SIGTERM, then wakes pcsc_watch until it returns. */
static void *
watch_sigthread(void *arg)
{
	struct pcsc *p = arg;
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigwait(&set, &sig) != 0)
		return NULL;
	interrupted = 1;
	/* repeat: a cancel before the wait starts would be lost */
	for (;;) {
		(void)pcsc_cancel(p);
		(void)nanosleep(&ts, NULL);
	}
	return NULL;
}

static int
cmd_watch(struct pcsc *p, const struct opts *o)
{
	struct watch_state ws;
	pthread_t th;
	sigset_t set;
	enum card_err e;
	int rc;

	memset(&ws, 0, sizeof(ws));
	ws.count = o->count;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if ((rc = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0) {
		errno = rc;
		log_warn("pthread_sigmask");
		return EXIT_USAGE;
	}
	if ((rc = pthread_create(&th, NULL, watch_sigthread, p)) != 0) {
		errno = rc;
		log_warn("pthread_create");
		return EXIT_USAGE;
	}
	e = pcsc_watch(p, o->timeout > 0 ? (int)(o->timeout * 1000) : -1,
	    watch_cb, &ws);
	(void)pthread_cancel(th);
	(void)pthread_join(th, NULL);
	if (ws.write_error) {
		log_warnx("stdout: write error");
		return EXIT_USAGE;
	}
	if (e == CARD_OK || e == CARD_E_TIMEOUT ||
	    (e == CARD_E_CANCELLED && interrupted))
		return EXIT_OK;
	return fail(e);
}

int
main(int argc, char *argv[])
{
	static const struct option gopts[] = {
		{ "reader", required_argument, NULL, OPT_READER },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct option copts[] = {
		{ "reader", required_argument, NULL, OPT_READER },
		{ "verbose", no_argument, NULL, 'v' },
		{ "cert-out", required_argument, NULL, OPT_CERT_OUT },
		{ "sig-out", required_argument, NULL, OPT_SIG_OUT },
		{ "challenge", required_argument, NULL, OPT_CHALLENGE },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	struct pcsc *p = NULL;
	const char *cmd, *errstr;
	enum card_err e;
	int ch, rc;

	memset(&o, 0, sizeof(o));
	log_init("kiosk-card", 0);
	while ((ch = getopt_long(argc, argv, "+vh", gopts, NULL)) != -1) {
		switch (ch) {
		case OPT_READER:
			o.reader = optarg;
			break;
		case 'v':
			o.verbose = 2;	/* debug: APDU trace, PIN never shown */
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	if (strcmp(cmd, "info") != 0 && strcmp(cmd, "sign") != 0 &&
	    strcmp(cmd, "watch") != 0)
		usage();

	optind = 0;	/* glibc: full re-initialisation for the new vector */
	while ((ch = getopt_long(argc, argv, "+v", copts, NULL)) != -1) {
		switch (ch) {
		case OPT_READER:
			o.reader = optarg;
			break;
		case 'v':
			o.verbose = 2;
			break;
		case OPT_CERT_OUT:
			if (strcmp(cmd, "watch") == 0)
				usage();
			o.cert_out = optarg;
			break;
		case OPT_SIG_OUT:
		case OPT_CHALLENGE:
			if (strcmp(cmd, "sign") != 0)
				usage();
			if (ch == OPT_SIG_OUT)
				o.sig_out = optarg;
			else
				o.challenge = optarg;
			break;
		case OPT_COUNT:
		case OPT_TIMEOUT:
			if (strcmp(cmd, "watch") != 0)
				usage();
			if (ch == OPT_COUNT)
				o.count = parse_num(optarg, 1, WATCH_COUNT_MAX,
				    &errstr);
			else
				o.timeout = parse_num(optarg, 1,
				    WATCH_TIMEOUT_MAX, &errstr);
			if (errstr != NULL) {
				log_warnx("--%s %s: %s",
				    ch == OPT_COUNT ? "count" : "timeout",
				    optarg, errstr);
				return EXIT_USAGE;
			}
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_setverbose(o.verbose);
	if (o.reader != NULL && (o.reader[0] == '\0' ||
	    strlen(o.reader) >= PCSC_READER_NAME_MAX)) {
		log_warnx("--reader: name empty or too long");
		return EXIT_USAGE;
	}

	if ((e = pcsc_open(&p, o.reader)) != CARD_OK)
		return fail(e);
	if (strcmp(cmd, "info") == 0)
		rc = cmd_info(p, &o);
	else if (strcmp(cmd, "sign") == 0)
		rc = cmd_sign(p, &o);
	else
		rc = cmd_watch(p, &o);
	pcsc_close(p);
	if (fflush(stdout) == EOF && rc == EXIT_OK) {
		log_warn("stdout");
		rc = EXIT_USAGE;
	}
	return rc;
}
