/*
 * kioskd: the kiosk daemon.
 *
 *	kioskd [-d] [-v] [-n] [-f FILE]
 *
 * -n checks the configuration and prints it normalised (exit 0), or its
 * errors as FILE:LINE lines (exit 1).  -d stays in the foreground; -v
 * logs more (twice: debug).  Logs go to stderr.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "core.h"
#include "log.h"
#include "util.h"

/*
 * Every JSON value of kioskd is wiped when freed: a PIN and the center's
 * answers about a resident pass through jansson (the UI command, the auth
 * answer).  The size lives in a header before the block.
 */
#define WIPE_HDR	16

static void *
wipe_malloc(size_t n)
{
	unsigned char *p;

	if (n > SIZE_MAX - WIPE_HDR || (p = malloc(n + WIPE_HDR)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + WIPE_HDR;
}

static void
wipe_free(void *q)
{
	unsigned char *p;
	size_t n;

	if (q == NULL)
		return;
	p = (unsigned char *)q - WIPE_HDR;
	memcpy(&n, p, sizeof(n));
	secure_wipe(p, n + WIPE_HDR);
	free(p);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: kioskd [-d] [-v] [-n] [-f FILE]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct kiosk_conf *conf;
	const char *path = CONF_PATH_DEFAULT;
	static char err[16384];
	int ch, debug = 0, noaction = 0, verbose = 0;

	log_init("kioskd", 1);
	while ((ch = getopt(argc, argv, "dvnf:")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'v':
			if (verbose < 2)
				verbose++;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'f':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	json_set_alloc_funcs(wipe_malloc, wipe_free);
	if (config_load(path, &conf, err, sizeof(err)) == -1) {
		fputs(err, stderr);
		if (err[0] != '\0' && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		return 1;
	}
	if (noaction) {
		config_print(stdout, conf);
		config_free(conf);
		if (fflush(stdout) == EOF) {
			log_warn("stdout");
			return 1;
		}
		return 0;
	}
	log_init("kioskd", verbose > 0 ? verbose : (debug ? 1 : 0));
	if (!debug && daemon(0, 1) == -1)
		fatal("daemon");
	return core_run(conf, path);
}
