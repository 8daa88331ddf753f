/*
 * kiosk-resident: a scripted resident at the kiosk, a client of kioskd's
 * UI socket for tests and the demo.
 *
 *	kiosk-resident --socket PATH [--document TYPE] [--pin NNNN|-]
 *	    [--confirm-last-try] [--options JSON] [--copies N]
 *	    [--script FILE] [--timeout S] [--expect STATE[:CODE]] [--no-start]
 *
 * Every message received is printed as one line: "screen STATE JSON",
 * "hello JSON", "error JSON", ...  Without a script it answers each screen
 * once, as a resident would: Start, the document, the PIN (once: never a
 * retry it was not told to type), the options and copies, confirm.  A
 * script is a list of steps run in order:
 *	wait STATE[:CODE]	until that screen (CODE: data.code)
 *	error CODE		until an error message with that code
 *	start | confirm | cancel | done
 *	select TYPE
 *	pin NNNN|- [confirm]	"-": the PIN read from stdin
 *	options TYPE [JSON [COPIES]]
 *	send JSON		a raw line
 *	sleep SECONDS
 * Exit: 0 when the --expect'ed state is reached (default "issued"; with a
 * script and no --expect, when the script ends), 1 when the session ended
 * otherwise or a command was refused, 2 on timeout, 3 on a connection or
 * protocol error, 64 on a usage error.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

#define EX_OK		0
#define EX_ENDED	1
#define EX_TIMEOUT	2
#define EX_CONN		3
#define EX_USAGE	64

#define LINE_MAX_IN	(512 * 1024)
#define PIN_MAX		16
#define STEPS_MAX	256
#define STEP_MAX	16384	/* a raw line over the server's 8 KiB limit fits */

struct opts {
	const char	*socket;
	const char	*document;
	const char	*options;
	const char	*script;
	char		 expect[64];
	char		 expect_code[64];
	long long	 copies;
	long long	 timeout;
	int		 confirm_last_try;
	int		 no_start;
	int		 have_pin;
};

static struct opts o;
static char pin[PIN_MAX + 1];
static int fd = -1;
static char *rbuf;
static size_t rlen;
static struct timespec deadline;

/* responder state */
static int started, selected, pin_sent, options_sent, confirmed;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: kiosk-resident --socket PATH [--document TYPE] "
	    "[--pin NNNN|-]\n"
	    "           [--confirm-last-try] [--options JSON] [--copies N]\n"
	    "           [--script FILE] [--timeout S] "
	    "[--expect STATE[:CODE]] [--no-start]\n");
	exit(EX_USAGE);
}

static void __attribute__((noreturn))
finish(int rc)
{
	secure_wipe(pin, sizeof(pin));
	fflush(stdout);
	exit(rc);
}

static long
ms_left(void)
{
	struct timespec now;
	long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	ms = (deadline.tv_sec - now.tv_sec) * 1000 +
	    (deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

static void
connect_socket(void)
{
	struct sockaddr_un sun;
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(o.socket) >= sizeof(sun.sun_path)) {
		log_warnx("socket path too long");
		finish(EX_USAGE);
	}
	memcpy(sun.sun_path, o.socket, strlen(o.socket) + 1);
	for (;;) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1) {
			log_warn("socket");
			finish(EX_CONN);
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return;
		if ((errno != ENOENT && errno != ECONNREFUSED) ||
		    ms_left() == 0) {
			log_warn("connect %s", o.socket);
			finish(errno == ENOENT || errno == ECONNREFUSED ?
			    EX_TIMEOUT : EX_CONN);
		}
		close(fd);
		(void)nanosleep(&ts, NULL);
	}
}

static void	drain(void) __attribute__((noreturn));

static void
send_line(const char *line)
{
	size_t len = strlen(line), off = 0;
	ssize_t n;

	while (off < len + 1) {
		n = off < len ? write(fd, line + off, len - off) :
		    write(fd, "\n", 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("write");
			if (errno == EPIPE || errno == ECONNRESET)
				drain();
			finish(EX_CONN);
		}
		off += (size_t)n;
	}
}

/* Send a command built with json_pack (reference taken). */
static void
send_json(json_t *j)
{
	char *s;

	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		log_warnx("cannot build a command");
		finish(EX_USAGE);
	}
	json_decref(j);
	send_line(s);
	secure_wipe(s, strlen(s));
	free(s);
}

static void
send_simple(const char *cmd)
{
	send_json(json_pack("{s:i, s:s}", "v", 1, "cmd", cmd));
}

static void
send_pin(const char *p, int confirm)
{
	send_json(json_pack("{s:i, s:s, s:s, s:b}", "v", 1, "cmd", "pin",
	    "pin", p, "confirm_last_try", confirm));
}

static void
send_options(const char *doc, const char *optjson, long long copies)
{
	json_t *opt;
	json_error_t err;

	if ((opt = json_loads(optjson, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL || !json_is_object(opt)) {
		log_warnx("options: not a JSON object: %s", optjson);
		finish(EX_USAGE);
	}
	send_json(json_pack("{s:i, s:s, s:s, s:o, s:I}", "v", 1, "cmd",
	    "options", "document", doc, "options", opt, "copies",
	    (json_int_t)copies));
}

/* Next complete line, NULL on timeout (after printing why). */
static char *
read_line(void)
{
	struct pollfd pfd;
	char *nl, *line;
	size_t n;
	ssize_t r;
	int pr;

	for (;;) {
		if (rlen > 0 && (nl = memchr(rbuf, '\n', rlen)) != NULL) {
			n = (size_t)(nl - rbuf);
			if ((line = malloc(n + 1)) == NULL) {
				log_warn("malloc");
				finish(EX_CONN);
			}
			memcpy(line, rbuf, n);
			line[n] = '\0';
			memmove(rbuf, nl + 1, rlen - n - 1);
			rlen -= n + 1;
			return line;
		}
		if (rlen == LINE_MAX_IN) {
			log_warnx("a line from kioskd is over %d bytes",
			    LINE_MAX_IN);
			finish(EX_CONN);
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pr = poll(&pfd, 1, (int)ms_left());
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == -1) {
			log_warn("poll");
			finish(EX_CONN);
		}
		if (pr == 0)
			return NULL;
		r = read(fd, rbuf + rlen, LINE_MAX_IN - rlen);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			log_warnx("kioskd closed the connection");
			finish(EX_CONN);
		}
		rlen += (size_t)r;
	}
}

struct in {
	json_t		*j;
	const char	*type;
	const char	*state;		/* screens */
	const char	*code;		/* data.code or error code */
	char		*line;
};

/* Read, print and parse the next message; exits on timeout. */
static void
next(struct in *in)
{
	json_t *d, *c;

	memset(in, 0, sizeof(*in));
	if ((in->line = read_line()) == NULL) {
		log_warnx("timeout");
		finish(EX_TIMEOUT);
	}
	in->j = json_loads(in->line, 0, NULL);
	if (in->j == NULL || !json_is_object(in->j) ||
	    !json_is_string(json_object_get(in->j, "type"))) {
		printf("garbage %s\n", in->line);
		log_warnx("kioskd sent something that is not a message");
		finish(EX_CONN);
	}
	in->type = json_string_value(json_object_get(in->j, "type"));
	if (strcmp(in->type, "screen") == 0) {
		in->state = json_string_value(json_object_get(in->j, "state"));
		if (in->state == NULL)
			in->state = "?";
		d = json_object_get(in->j, "data");
		c = json_object_get(d, "code");
		in->code = json_is_string(c) ? json_string_value(c) : "";
		printf("screen %s %s\n", in->state, in->line);
	} else {
		c = json_object_get(in->j, "code");
		in->code = json_is_string(c) ? json_string_value(c) : "";
		printf("%s %s\n", in->type, in->line);
	}
	fflush(stdout);
}

static void	in_free(struct in *);

/* kioskd closed on us: print what it said before, then leave. */
static void
drain(void)
{
	struct in in;

	for (;;) {
		next(&in);	/* exits at EOF or timeout */
		in_free(&in);
	}
}

static void
in_free(struct in *in)
{
	if (in->j != NULL)
		json_decref(in->j);
	free(in->line);
	memset(in, 0, sizeof(*in));
}

static int
matches(const struct in *in, const char *state, const char *code)
{
	if (in->state == NULL || strcmp(in->state, state) != 0)
		return 0;
	return code[0] == '\0' || strcmp(in->code, code) == 0;
}

static void
check_expect(struct in *in)
{
	if (o.expect[0] == '\0')
		return;
	if (strcmp(o.expect, "error") == 0 && strcmp(in->type, "error") == 0 &&
	    (o.expect_code[0] == '\0' || strcmp(in->code,
	    o.expect_code) == 0)) {
		in_free(in);
		finish(EX_OK);
	}
	if (matches(in, o.expect, o.expect_code)) {
		in_free(in);
		finish(EX_OK);
	}
}

/* A final screen that is not the one expected ends the run. */
static void
check_final(struct in *in)
{
	if (in->state == NULL)
		return;
	if (started && (strcmp(in->state, "issued") == 0 ||
	    strcmp(in->state, "aborted") == 0)) {
		log_warnx("session ended in %s%s%s, expected %s", in->state,
		    in->code[0] != '\0' ? ": " : "", in->code,
		    o.expect[0] != '\0' ? o.expect : "the end of the script");
		in_free(in);
		finish(EX_ENDED);
	}
}

/* --- the responder (no script) ----------------------------------------- */

static void
respond(struct in *in)
{
	json_t *choice;

	if (strcmp(in->type, "error") == 0) {
		log_warnx("kioskd refused a command: %s", in->code);
		in_free(in);
		finish(EX_ENDED);
	}
	if (in->state == NULL)
		return;
	if ((strcmp(in->state, "idle") == 0 ||
	    strcmp(in->state, "aborted") == 0) && !started) {
		if (o.no_start)
			return;
		/* out of service for the printer: wait until kioskd says
		   it is back (its screen comes again), within --timeout */
		if (strcmp(in->state, "idle") == 0 && json_is_false(
		    json_object_get(json_object_get(json_object_get(in->j,
		    "data"), "printer"), "ready"))) {
			log_info("out of service (printer): waiting");
			return;
		}
		started = 1;
		send_simple("start");
	} else if (strcmp(in->state, "select") == 0 && !selected) {
		started = selected = 1;
		send_json(json_pack("{s:i, s:s, s:s}", "v", 1, "cmd", "select",
		    "document", o.document));
	} else if (strcmp(in->state, "wait_pin") == 0) {
		if (pin_sent || !o.have_pin) {
			log_warnx("kioskd asks for a PIN again: no retry the "
			    "resident did not type");
			in_free(in);
			finish(EX_ENDED);
		}
		pin_sent = 1;
		send_pin(pin, o.confirm_last_try);
		secure_wipe(pin, sizeof(pin));
	} else if (strcmp(in->state, "options") == 0) {
		choice = json_object_get(json_object_get(in->j, "data"),
		    "choice");
		if (!options_sent) {
			options_sent = 1;
			send_options(o.document, o.options, o.copies);
		} else if (choice != NULL && !json_is_null(choice) &&
		    !confirmed) {
			confirmed = 1;
			send_simple("confirm");
		}
	}
}

/* --- scripts ------------------------------------------------------------ */

static void
split_code(const char *arg, char *state, size_t ssz, char *code, size_t csz)
{
	const char *c = strchr(arg, ':');
	size_t n = c != NULL ? (size_t)(c - arg) : strlen(arg);

	if (n >= ssz || (c != NULL && strlen(c + 1) >= csz)) {
		log_warnx("state too long: %s", arg);
		finish(EX_USAGE);
	}
	memcpy(state, arg, n);
	state[n] = '\0';
	snprintf(code, csz, "%s", c != NULL ? c + 1 : "");
}

static void
run_step(char *line, int lineno)
{
	char state[64], code[64], *cmd, *arg, *rest;
	struct timespec ts;
	struct in in;
	const char *errstr;
	long long n;
	double secs;

	cmd = strtok_r(line, " \t", &rest);
	if (cmd == NULL || cmd[0] == '#')
		return;
	arg = rest;
	while (arg != NULL && (*arg == ' ' || *arg == '\t'))
		arg++;
	if (strcmp(cmd, "wait") == 0 || strcmp(cmd, "error") == 0) {
		if (arg == NULL || *arg == '\0')
			goto bad;
		if (strcmp(cmd, "wait") == 0)
			split_code(arg, state, sizeof(state), code,
			    sizeof(code));
		else {
			snprintf(state, sizeof(state), "error");
			snprintf(code, sizeof(code), "%s", arg);
		}
		for (;;) {
			next(&in);
			if (strcmp(cmd, "error") == 0 &&
			    strcmp(in.type, "error") == 0) {
				if (strcmp(in.code, code) == 0) {
					in_free(&in);
					return;
				}
				log_warnx("script line %d: error %s, expected "
				    "%s", lineno, in.code, code);
				in_free(&in);
				finish(EX_ENDED);
			}
			if (strcmp(cmd, "wait") == 0 &&
			    matches(&in, state, code)) {
				in_free(&in);
				return;
			}
			if (strcmp(in.type, "error") == 0) {
				log_warnx("script line %d: kioskd refused a "
				    "command: %s", lineno, in.code);
				in_free(&in);
				finish(EX_ENDED);
			}
			check_expect(&in);
			if (in.state != NULL && (strcmp(in.state,
			    "issued") == 0 || strcmp(in.state,
			    "aborted") == 0) && strcmp(state, "idle") != 0 &&
			    strcmp(state, "select") != 0) {
				log_warnx("script line %d: session ended in "
				    "%s %s while waiting for %s", lineno,
				    in.state, in.code, arg);
				in_free(&in);
				finish(EX_ENDED);
			}
			in_free(&in);
		}
	}
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "confirm") == 0 ||
	    strcmp(cmd, "cancel") == 0 || strcmp(cmd, "done") == 0) {
		started = 1;
		send_simple(cmd);
		return;
	}
	if (strcmp(cmd, "select") == 0 && arg != NULL && *arg != '\0') {
		send_json(json_pack("{s:i, s:s, s:s}", "v", 1, "cmd", "select",
		    "document", arg));
		return;
	}
	if (strcmp(cmd, "pin") == 0 && arg != NULL) {
		char *p = strtok_r(NULL, " \t", &rest), *c;

		c = strtok_r(NULL, " \t", &rest);
		if (p == NULL)
			goto bad;
		if (strcmp(p, "-") == 0) {
			if (!o.have_pin) {
				log_warnx("script line %d: pin - without a "
				    "PIN on stdin", lineno);
				finish(EX_USAGE);
			}
			send_pin(pin, c != NULL && strcmp(c, "confirm") == 0);
		} else
			send_pin(p, c != NULL && strcmp(c, "confirm") == 0);
		secure_wipe(line, strlen(line));
		return;
	}
	if (strcmp(cmd, "options") == 0 && arg != NULL && *arg != '\0') {
		char *doc = strtok_r(NULL, " \t", &rest), *json, *cp;

		if (doc == NULL)
			goto bad;
		json = strtok_r(NULL, " \t", &rest);
		cp = strtok_r(NULL, " \t", &rest);
		n = 1;
		if (cp != NULL) {
			n = parse_num(cp, 1, 10, &errstr);
			if (errstr != NULL)
				goto bad;
		}
		send_options(doc, json != NULL ? json : "{}", n);
		return;
	}
	if (strcmp(cmd, "send") == 0 && arg != NULL && *arg != '\0') {
		send_line(arg);
		return;
	}
	if (strcmp(cmd, "sleep") == 0 && arg != NULL) {
		char *end;

		errno = 0;
		secs = strtod(arg, &end);
		if (errno != 0 || *end != '\0' || secs < 0 || secs > 600)
			goto bad;
		ts.tv_sec = (time_t)secs;
		ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
		(void)nanosleep(&ts, NULL);
		return;
	}
bad:
	log_warnx("script line %d: bad step", lineno);
	finish(EX_USAGE);
}

static void
run_script(void)
{
	char *steps[STEPS_MAX], buf[STEP_MAX];
	FILE *f;
	size_t n = 0, i, len;

	if ((f = fopen(o.script, "r")) == NULL) {
		log_warn("%s", o.script);
		finish(EX_USAGE);
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		len = strlen(buf);
		if (len > 0 && buf[len - 1] != '\n' && !feof(f)) {
			log_warnx("%s:%zu: line too long", o.script, n + 1);
			finish(EX_USAGE);
		}
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (n == STEPS_MAX) {
			log_warnx("%s: more than %d lines", o.script,
			    STEPS_MAX);
			finish(EX_USAGE);
		}
		if ((steps[n++] = strdup(buf)) == NULL) {
			log_warn("strdup");
			finish(EX_USAGE);
		}
	}
	fclose(f);
	for (i = 0; i < n; i++) {
		run_step(steps[i], (int)i + 1);
		secure_wipe(steps[i], strlen(steps[i]));
		free(steps[i]);
	}
}

/* The PIN from stdin: one line, read byte by byte (no stdio copy). */
static void
read_pin_stdin(void)
{
	size_t n = 0;
	ssize_t r;
	char ch;

	for (;;) {
		r = read(STDIN_FILENO, &ch, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_warn("reading the PIN");
			finish(EX_USAGE);
		}
		if (r == 0 || ch == '\n')
			break;
		if (ch == '\r')
			continue;
		if (n == PIN_MAX) {
			log_warnx("the PIN on stdin is too long");
			finish(EX_USAGE);
		}
		pin[n++] = ch;
	}
	ch = 0;
	pin[n] = '\0';
}

int
main(int argc, char *argv[])
{
	enum { O_SOCKET = 256, O_DOC, O_PIN, O_OPTIONS, O_COPIES, O_SCRIPT,
	    O_TIMEOUT, O_EXPECT, O_CONFIRM, O_NOSTART };
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "document", required_argument, NULL, O_DOC },
		{ "pin", required_argument, NULL, O_PIN },
		{ "options", required_argument, NULL, O_OPTIONS },
		{ "copies", required_argument, NULL, O_COPIES },
		{ "script", required_argument, NULL, O_SCRIPT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "confirm-last-try", no_argument, NULL, O_CONFIRM },
		{ "no-start", no_argument, NULL, O_NOSTART },
		{ NULL, 0, NULL, 0 }
	};
	const char *errstr, *pin_arg = NULL;
	struct timespec now;
	struct in in;
	int ch;

	log_init("kiosk-resident", 0);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		log_warn("signal");
		return EX_CONN;
	}
	memset(&o, 0, sizeof(o));
	o.document = "juminhyo";
	o.options = "{}";
	o.copies = 1;
	o.timeout = 60;
	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (ch) {
		case O_SOCKET:
			o.socket = optarg;
			break;
		case O_DOC:
			o.document = optarg;
			break;
		case O_PIN:
			pin_arg = optarg;
			break;
		case O_OPTIONS:
			o.options = optarg;
			break;
		case O_COPIES:
			o.copies = parse_num(optarg, 1, 10, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case O_SCRIPT:
			o.script = optarg;
			break;
		case O_TIMEOUT:
			o.timeout = parse_num(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case O_EXPECT:
			split_code(optarg, o.expect, sizeof(o.expect),
			    o.expect_code, sizeof(o.expect_code));
			break;
		case O_CONFIRM:
			o.confirm_last_try = 1;
			break;
		case O_NOSTART:
			o.no_start = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o.socket == NULL)
		usage();
	if (pin_arg != NULL) {
		if (strcmp(pin_arg, "-") == 0)
			read_pin_stdin();
		else if (strlen(pin_arg) > PIN_MAX)
			usage();
		else
			memcpy(pin, pin_arg, strlen(pin_arg) + 1);
		o.have_pin = 1;
	}
	if (o.expect[0] == '\0' && o.script == NULL)
		snprintf(o.expect, sizeof(o.expect), "issued");
	if ((rbuf = malloc(LINE_MAX_IN)) == NULL) {
		log_warn("malloc");
		finish(EX_CONN);
	}
	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1) {
		log_warn("clock_gettime");
		finish(EX_CONN);
	}
	deadline = now;
	deadline.tv_sec += (time_t)o.timeout;
	connect_socket();

	if (o.script != NULL) {
		run_script();
		if (o.expect[0] == '\0')
			finish(EX_OK);
		for (;;) {
			next(&in);
			check_expect(&in);
			check_final(&in);
			in_free(&in);
		}
	}
	for (;;) {
		next(&in);
		check_expect(&in);
		check_final(&in);
		respond(&in);
		in_free(&in);
	}
}
