/*
 * kiosk-certcheck: check a JPKI user-auth certificate the way the center
 * does (profile, root, validity, OCSP with CRL fallback) and print the
 * verdict as "key: value" lines.  For operators and tests.
 * Exit 0 when accepted (and the signature valid, if one was given),
 * 1 for any other verdict, 2 for a usage or configuration error.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jpki_verify.h"
#include "log.h"
#include "util.h"
#include "verify_util.h"

#define CERT_FILE_MAX	65536
#define SIG_FILE_MAX	4096
#define MSG_FILE_MAX	(1024 * 1024)

static void
usage(FILE *f)
{
	fprintf(f,
"usage: kiosk-certcheck --roots PATH [--roots PATH]... [--ocsp URL]\n"
"                       [--ocsp-signer FILE] [--timeout MS] [--crl FILE]...\n"
"                       [--at TIME] [--no-revocation]\n"
"                       [--message FILE --signature FILE] CERT\n"
"       kiosk-certcheck --help\n"
"\n"
"--roots PATH      trusted user-auth roots: a PEM file (one or more\n"
"                  certificates), a DER file, or a directory of *.pem,\n"
"                  *.crt, *.cer, *.der files\n"
"--ocsp URL        OCSP responder, http://HOST[:PORT][/PATH]\n"
"--ocsp-signer FILE  responder certificate(s) for answers that omit it\n"
"--timeout MS      bound on the whole OCSP exchange (default %d)\n"
"--crl FILE        CRL (PEM or DER) used when OCSP cannot answer\n"
"--at TIME         judge at TIME (YYYY-MM-DDTHH:MM:SSZ or @EPOCH), not now\n"
"--no-revocation   profile, root and validity only (a pre-check)\n"
"--message/--signature  also check a sha256WithRSAEncryption signature\n"
"                  (raw bytes) over the message with CERT's key\n"
"CERT              the certificate, PEM or DER\n"
"Prints verdict, code, reason, serial, subject_cn, not_before, not_after,\n"
"sha256, root, root_sha256, revocation[, revoked_at, signature].\n"
"Exit 0 accepted, 1 refused, 2 usage or configuration error.\n",
	    JPKI_VERIFY_OCSP_TIMEOUT_DEFAULT);
}

static int
usage_error(const char *what, const char *arg)
{
	char esc[128];

	if (arg != NULL)
		log_warnx("%s '%s'", what,
		    log_escape(esc, sizeof(esc), arg, strlen(arg)));
	else
		log_warnx("%s", what);
	fprintf(stderr, "try 'kiosk-certcheck --help'\n");
	return 2;
}

/* "YYYY-MM-DDTHH:MM:SSZ" or "@EPOCH".  0 or -1. */
static int
parse_time(const char *s, time_t *out)
{
	const char *errstr;
	struct tm tm, chk;
	long long v;
	int y, mo, d, h, mi, se, n = 0;
	time_t t;

	if (s[0] == '@') {
		v = parse_num(s + 1, 0, 253402300799LL, &errstr);
		if (errstr != NULL)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	if (strlen(s) != 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y,
	    &mo, &d, &h, &mi, &se, &n) != 6 || n != 20)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	if (y < 1950 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
	    se > 59)
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1 || gmtime_r(&t, &chk) == NULL ||
	    chk.tm_mday != d || chk.tm_mon != mo - 1)
		return -1;
	*out = t;
	return 0;
}

/* The certificate file as DER (PEM converted).  0 or -1. */
static int
read_cert(const char *path, uint8_t **der, size_t *len)
{
	char err[256];
	uint8_t *data;
	unsigned char *out = NULL;
	size_t n, i = 0;
	X509 *x;
	BIO *b;
	int l;

	if (vu_read_file(path, CERT_FILE_MAX, &data, &n, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	while (i < n && (data[i] == ' ' || data[i] == '\t' ||
	    data[i] == '\r' || data[i] == '\n'))
		i++;
	if (i == n || data[i] != '-') {
		*der = data;
		*len = n;
		return 0;
	}
	if ((b = BIO_new_mem_buf(data, (int)n)) == NULL) {
		free(data);
		log_warnx("%s: out of memory", path);
		return -1;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	free(data);
	if (x == NULL || (l = i2d_X509(x, &out)) <= 0) {
		X509_free(x);
		ERR_clear_error();
		log_warnx("%s: not a PEM certificate", path);
		return -1;
	}
	X509_free(x);
	if ((*der = malloc((size_t)l)) == NULL) {
		OPENSSL_free(out);
		log_warnx("%s: out of memory", path);
		return -1;
	}
	memcpy(*der, out, (size_t)l);
	OPENSSL_free(out);
	*len = (size_t)l;
	return 0;
}

enum {
	OPT_ROOTS = 256, OPT_OCSP, OPT_SIGNER, OPT_TIMEOUT, OPT_CRL, OPT_AT,
	OPT_NOREV, OPT_MESSAGE, OPT_SIGNATURE
};

static const struct option longopts[] = {
	{ "roots", required_argument, NULL, OPT_ROOTS },
	{ "ocsp", required_argument, NULL, OPT_OCSP },
	{ "ocsp-signer", required_argument, NULL, OPT_SIGNER },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "crl", required_argument, NULL, OPT_CRL },
	{ "at", required_argument, NULL, OPT_AT },
	{ "no-revocation", no_argument, NULL, OPT_NOREV },
	{ "message", required_argument, NULL, OPT_MESSAGE },
	{ "signature", required_argument, NULL, OPT_SIGNATURE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct jpki_trust *t;
	struct jpki_cert_info info;
	enum jpki_verdict v;
	const char *ocsp = NULL, *signer = NULL, *msgpath = NULL;
	const char *sigpath = NULL, *errstr;
	char err[512], ts[32];
	uint8_t *der = NULL, *msg = NULL, *sig = NULL;
	size_t len = 0, msglen = 0, siglen = 0;
	time_t now = time(NULL);
	int ch, timeout = 0, norev = 0, nroots = 0, sigok = 1, rc = 2, s;

	log_init(argv[0], 0);
	if ((t = jpki_trust_new()) == NULL)
		fatalx("out of memory");
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_ROOTS:
			if (jpki_trust_add_roots(t, optarg, err,
			    sizeof(err)) == -1) {
				log_warnx("%s", err);
				goto out;
			}
			nroots++;
			break;
		case OPT_OCSP:
			ocsp = optarg;
			break;
		case OPT_SIGNER:
			signer = optarg;
			break;
		case OPT_TIMEOUT:
			timeout = (int)parse_num(optarg, 1,
			    JPKI_VERIFY_OCSP_TIMEOUT_MAX, &errstr);
			if (errstr != NULL) {
				rc = usage_error("--timeout: bad milliseconds",
				    optarg);
				goto out;
			}
			break;
		case OPT_CRL:
			if (jpki_trust_add_crl(t, optarg, err,
			    sizeof(err)) == -1) {
				log_warnx("%s", err);
				goto out;
			}
			break;
		case OPT_AT:
			if (parse_time(optarg, &now) == -1) {
				rc = usage_error("--at: not YYYY-MM-DDTHH:MM:SSZ "
				    "or @EPOCH", optarg);
				goto out;
			}
			break;
		case OPT_NOREV:
			norev = 1;
			break;
		case OPT_MESSAGE:
			msgpath = optarg;
			break;
		case OPT_SIGNATURE:
			sigpath = optarg;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			rc = usage_error("bad option", NULL);
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		rc = usage_error("exactly one CERT expected", NULL);
		goto out;
	}
	if (nroots == 0) {
		rc = usage_error("--roots is required", NULL);
		goto out;
	}
	if ((msgpath == NULL) != (sigpath == NULL)) {
		rc = usage_error("--message and --signature go together", NULL);
		goto out;
	}
	if (signer != NULL && ocsp == NULL) {
		rc = usage_error("--ocsp-signer needs --ocsp", NULL);
		goto out;
	}
	if (ocsp != NULL && jpki_trust_set_ocsp(t, ocsp, signer, timeout, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto out;
	}
	if (read_cert(argv[0], &der, &len) == -1)
		goto out;
	if (msgpath != NULL &&
	    (vu_read_file(msgpath, MSG_FILE_MAX, &msg, &msglen, err,
	    sizeof(err)) == -1 ||
	    vu_read_file(sigpath, SIG_FILE_MAX, &sig, &siglen, err,
	    sizeof(err)) == -1)) {
		log_warnx("%s", err);
		goto out;
	}

	if (norev)
		v = jpki_check_cert(t, der, len, now, &info, err, sizeof(err));
	else
		v = jpki_verify_cert(t, der, len, now, &info, err, sizeof(err));
	printf("verdict: %s\n", v == JPKI_OK ? "ok" : "refused");
	printf("code: %s\n", jpki_verdict_code(v));
	printf("reason: %s\n", err);
	if (info.serial[0] != '\0') {
		printf("serial: %s\n", info.serial);
		printf("not_before: %s\n",
		    vu_time_str(info.not_before, ts, sizeof(ts)));
		printf("not_after: %s\n",
		    vu_time_str(info.not_after, ts, sizeof(ts)));
	}
	if (info.subject_cn[0] != '\0')
		printf("subject_cn: %s\n", info.subject_cn);
	if (info.sha256[0] != '\0')
		printf("sha256: %s\n", info.sha256);
	if (info.root_name[0] != '\0') {
		printf("root: %s\n", info.root_name);
		printf("root_sha256: %s\n", info.root_sha256);
	}
	printf("revocation: %s\n",
	    jpki_revocation_source_name(info.revocation));
	if (v == JPKI_REVOKED && info.revoked_at != 0)
		printf("revoked_at: %s\n",
		    vu_time_str(info.revoked_at, ts, sizeof(ts)));
	if (msgpath != NULL) {
		s = jpki_verify_signature(der, len, msg, msglen, sig, siglen);
		printf("signature: %s\n", s == 1 ? "valid" : s == 0 ?
		    "invalid" : "unusable");
		sigok = s == 1;
	}
	rc = v == JPKI_OK && sigok ? 0 : 1;
out:
	free(der);
	free(msg);
	free(sig);
	jpki_trust_free(t);
	if (fflush(stdout) == EOF && rc == 0)
		rc = 2;
	return rc;
}
