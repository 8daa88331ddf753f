/*
 * kiosk-pki: make and maintain the project's test PKI (see usage()).
 * Exit 0 on success, 1 on any error with a "kiosk-pki: ..." message.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pki.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: kiosk-pki init DIR\n"
"       kiosk-pki card DIR NAME [--birth YYYY-MM-DD] [--issued YYYY-MM-DD]\n"
"                 [--card-expiry YYYY-MM-DD] [--no-sign-cert]\n"
"       kiosk-pki kiosk DIR STORE-TERMINAL\n"
"       kiosk-pki revoke DIR NAME [--reason REASON]\n"
"       kiosk-pki crl DIR\n"
"       kiosk-pki revoke-kiosk DIR STORE-TERMINAL\n"
"       kiosk-pki fleet-crl DIR\n"
"       kiosk-pki --help\n"
"\n"
"init    create DIR with the test JPKI roots auth-ca and sign-ca\n"
"        (O=JPKI-TEST, RSA-2048), the OCSP signer ocsp (by auth-ca),\n"
"        index.txt(.attr) for openssl ocsp -index, crl.pem, fleet-ca,\n"
"        center-ca, center (TLS server, localhost/127.0.0.1) and docsign\n"
"        (by center-ca).  Refuses an existing DIR/auth-ca.crt.\n"
"card    DIR/cards/NAME/{auth,sign}.{crt,key} and info.txt; NAME is 1-64\n"
"        of [A-Za-z0-9._-].  The auth certificate (subject C=JP,\n"
"        CN=<opaque id>, random 4-byte serial) goes into index.txt.  No\n"
"        signature certificate with --no-sign-cert or for holders under 15\n"
"        at issuance.  Validity: from the issue date 00:00:00 JST to the\n"
"        earlier of the 5th birthday after the issue date and the card\n"
"        expiry, 23:59:59 JST.  Default card expiry: the 10th birthday after\n"
"        issuance (age 18 or over at issuance), else the 5th.  A birthday on\n"
"        the issue date does not count; 29 Feb birthdays fall on 28 Feb in\n"
"        common years; age N is reached on the day before the N-th\n"
"        birthday.  Defaults: --issued today (JST), --birth an adult date\n"
"        derived from NAME.\n"
"kiosk   DIR/kiosks/ID/kiosk.{crt,key} by fleet-ca, clientAuth, subject\n"
"        C=JP, O=STORE, OU=TERMINAL, CN=ID; each part 1-16 of [A-Za-z0-9].\n"
"revoke  mark the card's auth certificate revoked in index.txt and\n"
"        re-issue crl.pem.  REASON: unspecified, keyCompromise,\n"
"        CACompromise, affiliationChanged, superseded, cessationOfOperation\n"
"        (default: no reason code).\n"
"crl     re-issue crl.pem from index.txt (next update in 30 days).\n"
"revoke-kiosk  add the kiosk's client certificate to fleet-index.txt as\n"
"        revoked and issue fleet-crl.pem (by fleet-ca) for the center.\n"
"fleet-crl  re-issue fleet-crl.pem from fleet-index.txt (empty if none).\n");
}

/* "what 'arg'" (arg escaped), a hint, exit status 1. */
static int
usage_error(const char *what, const char *arg)
{
	char esc[128];

	if (arg != NULL)
		log_warnx("%s '%s'", what,
		    log_escape(esc, sizeof(esc), arg, strlen(arg)));
	else
		log_warnx("%s", what);
	fprintf(stderr, "try 'kiosk-pki --help'\n");
	return 1;
}

enum { OPT_BIRTH = 256, OPT_ISSUED, OPT_EXPIRY, OPT_NO_SIGN, OPT_REASON };

static const struct option longopts[] = {
	{ "birth", required_argument, NULL, OPT_BIRTH },
	{ "issued", required_argument, NULL, OPT_ISSUED },
	{ "card-expiry", required_argument, NULL, OPT_EXPIRY },
	{ "no-sign-cert", no_argument, NULL, OPT_NO_SIGN },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Which options each command takes. */
static int
allowed(const char *cmd, int opt)
{
	if (opt == 'h')
		return 1;
	if (strcmp(cmd, "card") == 0)
		return opt == OPT_BIRTH || opt == OPT_ISSUED ||
		    opt == OPT_EXPIRY || opt == OPT_NO_SIGN;
	if (strcmp(cmd, "revoke") == 0)
		return opt == OPT_REASON;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct card_opts co;
	const char *cmd, *reason = NULL, *prev;
	char opt[64];
	int ch, nargs, want, r, li;

	log_init("kiosk-pki", 0);
	if (argc < 2)
		return usage_error("missing command", NULL);
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return fflush(stdout) == EOF ? 1 : 0;
	}
	if (strcmp(cmd, "init") == 0 || strcmp(cmd, "crl") == 0 ||
	    strcmp(cmd, "fleet-crl") == 0)
		want = 1;
	else if (strcmp(cmd, "card") == 0 || strcmp(cmd, "kiosk") == 0 ||
	    strcmp(cmd, "revoke") == 0 || strcmp(cmd, "revoke-kiosk") == 0)
		want = 2;
	else
		return usage_error("unknown command", cmd);

	memset(&co, 0, sizeof(co));
	/* argv[1] (the command) plays argv[0]; options may follow operands */
	argc--;
	argv++;
	opterr = 0;
	optind = 1;
	while ((li = -1, ch = getopt_long(argc, argv, ":h", longopts,
	    &li)) != -1) {
		prev = argv[optind - 1];
		if (ch == '?')
			return usage_error("unknown option", prev);
		if (ch == ':')
			return usage_error("option needs a value:", prev);
		if (!allowed(cmd, ch)) {
			r = snprintf(opt, sizeof(opt), "--%s",
			    li >= 0 ? longopts[li].name : "help");
			if (r < 0 || (size_t)r >= sizeof(opt))
				opt[0] = '\0';
			return usage_error("option not valid for this command:",
			    opt);
		}
		switch (ch) {
		case 'h':
			usage(stdout);
			return fflush(stdout) == EOF ? 1 : 0;
		case OPT_BIRTH:
			co.birth = optarg;
			break;
		case OPT_ISSUED:
			co.issued = optarg;
			break;
		case OPT_EXPIRY:
			co.card_expiry = optarg;
			break;
		case OPT_NO_SIGN:
			co.no_sign_cert = 1;
			break;
		case OPT_REASON:
			reason = optarg;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	nargs = argc;
	if (nargs != want) {
		log_warnx("%s: expected %s, got %d argument%s", cmd,
		    want == 1 ? "DIR" : strcmp(cmd, "kiosk") == 0 ||
		    strcmp(cmd, "revoke-kiosk") == 0 ?
		    "DIR ID" : "DIR NAME", nargs, nargs == 1 ? "" : "s");
		fprintf(stderr, "try 'kiosk-pki --help'\n");
		return 1;
	}
	if (argv[0][0] == '\0')
		return usage_error("empty DIR", NULL);

	if (strcmp(cmd, "init") == 0)
		r = cmd_init(argv[0]);
	else if (strcmp(cmd, "crl") == 0)
		r = cmd_crl(argv[0]);
	else if (strcmp(cmd, "card") == 0)
		r = cmd_card(argv[0], argv[1], &co);
	else if (strcmp(cmd, "kiosk") == 0)
		r = cmd_kiosk(argv[0], argv[1]);
	else if (strcmp(cmd, "revoke-kiosk") == 0)
		r = cmd_revoke_kiosk(argv[0], argv[1]);
	else if (strcmp(cmd, "fleet-crl") == 0)
		r = cmd_fleet_crl(argv[0]);
	else
		r = cmd_revoke(argv[0], argv[1], reason);
	return r == 0 ? 0 : 1;
}
