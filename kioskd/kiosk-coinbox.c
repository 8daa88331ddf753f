/*
 * kiosk-coinbox: looks into the coin box simulator's ledger (the money it
 * took and gave back) and injects faults into it, for tests and for a
 * technician at a demo kiosk.
 *
 *   kiosk-coinbox --ledger FILE [--summary]
 *   kiosk-coinbox --ledger FILE --list
 *   kiosk-coinbox --ledger FILE --inject FAULT     (declined[=N], ..., clear)
 *
 * --summary prints "taken=N refunded=M net=K takes=A refunds=B".
 * Exit codes: 0 ok, 1 error, 2 usage.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payment.h"

static void
usage(void)
{
	fprintf(stderr, "usage: kiosk-coinbox --ledger FILE "
	    "[--summary | --list | --inject FAULT]\n"
	    "faults: declined[=N] take_error[=N] take_lost[=N] "
	    "refund_error[=N] refund_lost[=N] jammed offline clear\n");
	exit(2);
}

static void
print_entry(void *arg, int64_t seq, int64_t at, const char *op,
    const char *ref, int64_t yen)
{
	(void)arg;
	printf("%" PRId64 " %" PRId64 " %s %s %" PRId64 "\n", seq, at, op, ref,
	    yen);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ledger", required_argument, NULL, 'l' },
		{ "summary", no_argument, NULL, 's' },
		{ "list", no_argument, NULL, 'L' },
		{ "inject", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct coinbox_summary s;
	struct payment *p;
	const char *ledger = NULL, *fault = NULL;
	char opts[4200], err[512];
	int ch, mode = 's', n, rc = 0;

	while ((ch = getopt_long(argc, argv, "l:sLi:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			ledger = optarg;
			break;
		case 's':
		case 'L':
			mode = ch;
			break;
		case 'i':
			mode = 'i';
			fault = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || ledger == NULL || *ledger == '\0' ||
	    strchr(ledger, ',') != NULL)
		usage();
	n = snprintf(opts, sizeof(opts), "ledger=%s", ledger);
	if (n < 0 || (size_t)n >= sizeof(opts)) {
		fprintf(stderr, "kiosk-coinbox: ledger path too long\n");
		return 1;
	}
	if ((p = payment_coinbox_open(opts, err, sizeof(err))) == NULL) {
		fprintf(stderr, "kiosk-coinbox: %s\n", err);
		return 1;
	}
	switch (mode) {
	case 's':
		if (coinbox_summary(p, &s) == -1) {
			rc = 1;
			break;
		}
		printf("taken=%" PRId64 " refunded=%" PRId64 " net=%" PRId64
		    " takes=%" PRId64 " refunds=%" PRId64 "\n", s.taken_yen,
		    s.refunded_yen, s.net_yen, s.takes, s.refunds);
		break;
	case 'L':
		if (coinbox_list(p, print_entry, NULL) == -1)
			rc = 1;
		break;
	case 'i':
		if (coinbox_inject(p, fault) == -1)
			rc = 1;
		break;
	}
	if (rc != 0)
		fprintf(stderr, "kiosk-coinbox: %s\n", p->ops->errmsg(p));
	if (fflush(stdout) == EOF) {
		perror("kiosk-coinbox: stdout");
		rc = 1;
	}
	p->ops->close(p);
	return rc;
}
