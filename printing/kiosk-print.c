/*
 * kiosk-print: the kiosk's printing path from the command line, for
 * technicians and tests.
 *
 *	kiosk-print --state [--printer URI]		readiness (exit 0/1)
 *	kiosk-print --job-name NAME [--copies N] FILE.pdf
 *						submit, follow to the end
 *	kiosk-print --job ID				one job's state
 *	kiosk-print --find NAME				jobs by name
 *	kiosk-print --cancel ID
 *
 * Common: --server S (socket path or host:port; default CUPS_SERVER),
 * --queue Q (default: CUPS's default), --timeout SEC (per request),
 * --format auto|pdf|raw, --wait SEC (how long to follow a job),
 * --lang ja|en.  Output is "key: value" lines.
 *
 * Exit: 0 ready / completed / found, 1 not ready / job canceled or aborted
 * or not finished in time, 2 usage, 3 CUPS error, 4 unknown job.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "printer_state.h"
#include "spool.h"
#include "util.h"

#define EXIT_NOTREADY	1
#define EXIT_USAGE	2
#define EXIT_CUPS	3
#define EXIT_UNKNOWN	4
#define PDF_MAX		(64L * 1024 * 1024)
#define POLL_MS		100

static void
usage(void)
{
	fprintf(stderr,
	    "usage: kiosk-print [--server S] [--queue Q] [--timeout SEC] "
	    "[--lang ja|en]\n"
	    "           --state [--printer URI]\n"
	    "       kiosk-print ... --job-name NAME [--copies N] "
	    "[--format auto|pdf|raw] [--wait SEC] FILE.pdf\n"
	    "       kiosk-print ... --job ID | --find NAME | --cancel ID\n");
	exit(EXIT_USAGE);
}

static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static char *
read_pdf(const char *path, size_t *lenp)
{
	struct stat sb;
	char *buf;
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		log_warn("%s", path);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 || sb.st_size > PDF_MAX) {
		log_warnx("%s: not a regular file of 1 byte to 64 MB", path);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)sb.st_size)) == NULL) {
		log_warn("malloc");
		close(fd);
		return NULL;
	}
	while (off < (size_t)sb.st_size) {
		n = read(fd, buf + off, (size_t)sb.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("%s: read", path);
			free(buf);
			close(fd);
			return NULL;
		}
		off += (size_t)n;
	}
	close(fd);
	*lenp = off;
	return buf;
}

static void
print_job(const struct spool_job *j)
{
	printf("job-id: %d\n", j->id);
	printf("job-name: %s\n", j->name);
	printf("state: %s\n", spool_job_state_name(j->state));
	printf("reasons: %s\n", j->reasons[0] != '\0' ? j->reasons : "none");
	if (j->message[0] != '\0')
		printf("message: %s\n", j->message);
	printf("pages: %d\n", j->impressions);
	printf("sheets: %d\n", j->sheets);
}

static int
cups_failed(enum spool_err e, const char *err)
{
	printf("error: %s\n", spool_strerror(e));
	if (err[0] != '\0')
		printf("detail: %s\n", err);
	return e == SPOOL_E_NOT_FOUND ? EXIT_UNKNOWN : EXIT_CUPS;
}

static int
do_state(const struct spool_conf *sc, const char *uri, const char *lang)
{
	struct printer_target t;
	struct printer_state st;
	static const struct {
		uint32_t f;
		const char *n;
	} names[] = {
		{ PSTATE_F_OFFLINE, "offline" },
		{ PSTATE_F_DOOR_OPEN, "door-open" },
		{ PSTATE_F_MEDIA_JAM, "media-jam" },
		{ PSTATE_F_MEDIA_EMPTY, "media-empty" },
		{ PSTATE_F_TONER_EMPTY, "toner-empty" },
		{ PSTATE_F_STOPPED, "stopped" },
		{ PSTATE_F_QUEUE_STOPPED, "queue-stopped" },
		{ PSTATE_F_MEDIA_MISSING, "media-missing" },
		{ PSTATE_F_MEDIA_LOW, "media-low" },
		{ PSTATE_F_TONER_LOW, "toner-low" },
		{ PSTATE_F_OTHER_WARNING, "warning" },
	};
	size_t i;
	int first = 1;

	memset(&t, 0, sizeof(t));
	t.spool = *sc;
	if (uri != NULL && snprintf(t.uri, sizeof(t.uri), "%s", uri) >=
	    (int)sizeof(t.uri))
		usage();
	(void)snprintf(t.want_media, sizeof(t.want_media), "%s", SPOOL_MEDIA);
	printer_state_query(&t, &st);
	printf("ready: %s\n", st.ready ? "yes" : "no");
	printf("reason: %s\n", st.reason);
	printf("flags: ");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (st.flags & names[i].f) {
			printf("%s%s", first ? "" : ",", names[i].n);
			first = 0;
		}
	printf("%s\n", first ? "none" : "");
	printf("reasons: %s\n", st.reasons[0] != '\0' ? st.reasons : "none");
	printf("printer-state: %d\n", st.printer_state);
	printf("toner: %d\n", st.toner_percent);
	printf("media-ready: %s\n", st.media_ready);
	printf("message: %s\n", printer_state_message(st.reason, lang));
	if (st.detail[0] != '\0')
		printf("detail: %s\n", st.detail);
	return st.ready ? 0 : EXIT_NOTREADY;
}

static int
do_submit(const struct spool_conf *sc, const char *name, int copies,
    int wait_s, const char *path)
{
	struct spool_submit_info info;
	struct spool_job j;
	enum spool_err e;
	char err[256] = "", *pdf;
	size_t len;
	long long t0, t1, deadline;
	int last_state = -1;
	const char *cause;

	if ((pdf = read_pdf(path, &len)) == NULL)
		return EXIT_USAGE;
	t0 = now_ms();
	e = spool_submit(sc, name, pdf, len, copies, &info, err, sizeof(err));
	free(pdf);
	if (e != SPOOL_OK)
		return cups_failed(e, err);
	t1 = now_ms();
	printf("job-id: %d\n", info.job_id);
	printf("format: %s\n", info.format);
	printf("accepted-ms: %lld\n", t1 - t0);
	fflush(stdout);
	deadline = t1 + (long long)wait_s * 1000;
	for (;;) {
		e = spool_job_get(sc, info.job_id, &j, err, sizeof(err));
		if (e != SPOOL_OK && e != SPOOL_E_TIMEOUT)
			return cups_failed(e, err);
		if (e == SPOOL_OK && j.state != last_state) {
			log_debug("job %d: %s (%s)", j.id,
			    spool_job_state_name(j.state), j.reasons);
			last_state = j.state;
		}
		if (e == SPOOL_OK && spool_job_state_final(j.state))
			break;
		if (now_ms() >= deadline) {
			printf("error: job not finished after %d s\n", wait_s);
			if (e == SPOOL_OK)
				print_job(&j);
			return EXIT_NOTREADY;
		}
		sleep_ms(POLL_MS);
	}
	printf("done-ms: %lld\n", now_ms() - t0);
	print_job(&j);
	if ((cause = spool_job_cause(&j)) == NULL) {
		printf("outcome: printed\n");
		return 0;
	}
	printf("outcome: failed (%s)\n", cause);
	return EXIT_NOTREADY;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "queue", required_argument, NULL, 'q' },
		{ "printer", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "state", no_argument, NULL, 'S' },
		{ "job-name", required_argument, NULL, 'n' },
		{ "copies", required_argument, NULL, 'c' },
		{ "wait", required_argument, NULL, 'w' },
		{ "job", required_argument, NULL, 'j' },
		{ "find", required_argument, NULL, 'F' },
		{ "cancel", required_argument, NULL, 'C' },
		{ "lang", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct spool_conf sc;
	struct spool_job j, found[16];
	enum spool_err e;
	const char *printer = NULL, *name = NULL, *find = NULL, *errstr;
	const char *lang = "en";
	char err[256] = "";
	int ch, mode = 0, copies = 1, wait_s = 120, job = 0, count, i;
	int verbose = 0;

	memset(&sc, 0, sizeof(sc));
	sc.timeout_ms = 5000;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (snprintf(sc.server, sizeof(sc.server), "%s",
			    optarg) >= (int)sizeof(sc.server))
				usage();
			break;
		case 'q':
			if (snprintf(sc.queue, sizeof(sc.queue), "%s",
			    optarg) >= (int)sizeof(sc.queue))
				usage();
			break;
		case 'p':
			printer = optarg;
			break;
		case 't':
			sc.timeout_ms = (int)parse_num(optarg, 1, 300,
			    &errstr) * 1000;
			if (errstr != NULL)
				usage();
			break;
		case 'f':
			if (strcmp(optarg, "auto") == 0)
				sc.format = SPOOL_FORMAT_AUTO;
			else if (strcmp(optarg, "pdf") == 0)
				sc.format = SPOOL_FORMAT_PDF;
			else if (strcmp(optarg, "raw") == 0)
				sc.format = SPOOL_FORMAT_RAW;
			else
				usage();
			break;
		case 'S':
		case 'n':
		case 'j':
		case 'F':
		case 'C':
			if (mode != 0)
				usage();
			mode = ch;
			if (ch == 'n')
				name = optarg;
			else if (ch == 'F')
				find = optarg;
			else if (ch == 'j' || ch == 'C') {
				job = (int)parse_num(optarg, 1, 0x7fffffff,
				    &errstr);
				if (errstr != NULL)
					usage();
			}
			break;
		case 'c':
			copies = (int)parse_num(optarg, 1, 99, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 'w':
			wait_s = (int)parse_num(optarg, 1, 86400, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 'l':
			lang = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	log_init("kiosk-print", verbose);
	if (mode == 0 || (mode == 'n') != (argc == 1) ||
	    (mode != 'n' && argc != 0))
		usage();
	switch (mode) {
	case 'S':
		return do_state(&sc, printer, lang);
	case 'n':
		return do_submit(&sc, name, copies, wait_s, argv[0]);
	case 'j':
		e = spool_job_get(&sc, job, &j, err, sizeof(err));
		if (e != SPOOL_OK)
			return cups_failed(e, err);
		print_job(&j);
		return 0;
	case 'F':
		e = spool_find_by_name(&sc, find, found, 16, &count, err,
		    sizeof(err));
		if (e != SPOOL_OK)
			return cups_failed(e, err);
		printf("count: %d\n", count);
		for (i = 0; i < count && i < 16; i++)
			print_job(&found[i]);
		return count > 0 ? 0 : EXIT_UNKNOWN;
	case 'C':
		e = spool_job_cancel(&sc, job, err, sizeof(err));
		if (e != SPOOL_OK)
			return cups_failed(e, err);
		printf("canceled: %d\n", job);
		return 0;
	}
	usage();
	return EXIT_USAGE;
}
