/*
 * The printer worker forked as kioskd forks it (proc_spawn), driven over
 * its socketpair against a private cupsd + ippeveprinter (tests/cups.sh,
 * ports 16451/16452): print -> SPOOLED -> DONE with exactly the rendered
 * bytes at the printer, PING answered while a job waits for paper, state
 * changes pushed, jam, cancel, job timeout, and reconciliation queries by
 * id and by issuance id.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "kioskd/config.h"
#include "log.h"
#include "msg.h"
#include "printer_worker.h"
#include "proc.h"
#include "render.h"
#include "t.h"

#define CUPSD_PORT	16451
#define PRINTER_PORT	16452
#define QUEUE		"pwq"

static struct event_base *base;
static char dir[512], srcdir[512];

static struct {
	int			 up;
	int			 downs;
	int			 pongs;
	int			 pings;
	int			 n_spooled, n_done, n_progress, n_state;
	int			 n_cancel, n_query;
	int			 pong_while_waiting;
	struct msg_print_job	 spooled, done, progress, cancel, query;
	struct msg_print_state	 state;
	uint64_t		 done_sid;
	int			 saw_media_needed;
} R;

static struct proc *pw;

/* --- the stack ------------------------------------------------------------ */

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[2048], full[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	(void)snprintf(full, sizeof(full), ". '%s/tests/cups.sh' && %s",
	    srcdir, cmd);
	fflush(NULL);
	st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1 || (buf = malloc((size_t)n + 1)) ==
	    NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The bytes the printer received for the job named name. */
static char *
printed(const char *name, size_t *len)
{
	char cmd[1024], path[1024];
	FILE *p;

	(void)snprintf(cmd, sizeof(cmd), ". '%s/tests/cups.sh' && "
	    "cups_printed_by_name '%s'", srcdir, name);
	fflush(NULL);
	if ((p = popen(cmd, "r")) == NULL)
		return NULL;
	if (fgets(path, sizeof(path), p) == NULL) {
		pclose(p);
		return NULL;
	}
	pclose(p);
	path[strcspn(path, "\n")] = '\0';
	return slurp(path, len);
}

/* --- the core's side --------------------------------------------------------- */

static void
hook_up(struct proc *p, void *arg)
{
	R.up++;
}

static void
hook_msg(struct proc *p, const struct msg *m, void *arg)
{
	struct msg_print_job mj;

	switch (m->hdr.type) {
	case MSG_PONG:
		R.pongs++;
		if (R.n_spooled > R.n_done)
			R.pong_while_waiting++;
		return;
	case MSG_PRINT_STATE:
		if (m->len != sizeof(R.state)) {
			proc_fail(p, "PRINT_STATE size");
			return;
		}
		memcpy(&R.state, m->data, sizeof(R.state));
		R.n_state++;
		return;
	default:
		break;
	}
	if (m->len != sizeof(mj)) {
		proc_fail(p, "job message size");
		return;
	}
	memcpy(&mj, m->data, sizeof(mj));
	switch (m->hdr.type) {
	case MSG_PRINT_SPOOLED:
		R.spooled = mj;
		R.n_spooled++;
		break;
	case MSG_PRINT_PROGRESS:
		R.progress = mj;
		R.n_progress++;
		if (strstr(mj.reasons, "media-needed") != NULL)
			R.saw_media_needed = 1;
		break;
	case MSG_PRINT_DONE:
		R.done = mj;
		R.done_sid = m->hdr.sid;
		R.n_done++;
		break;
	case MSG_PRINT_CANCEL_RESULT:
		R.cancel = mj;
		R.n_cancel++;
		break;
	case MSG_PRINT_QUERY_RESULT:
		R.query = mj;
		R.n_query++;
		break;
	default:
		proc_fail(p, "unexpected message");
		break;
	}
}

static void
hook_down(struct proc *p, const struct proc_exit *ex, void *arg)
{
	R.downs++;
}

static const struct proc_hooks hooks = { hook_up, hook_msg, hook_down };

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct msg_ping ping;

	if (proc_is_up(pw)) {
		ping.cookie = (uint64_t)++R.pings;
		(void)proc_send(pw, MSG_PING, 0, &ping, sizeof(ping));
	}
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the loop until *counter exceeds before, or timeout_ms. */
static int
wait_for(const int *counter, int before, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	while (*counter <= before && now_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
	return *counter > before;
}

static void
run_for(int ms)
{
	long long end = now_ms() + ms;

	while (now_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
}

static int
send_print(uint64_t sid, const char *id, uint32_t flags, uint32_t copies,
    const void *content, size_t len)
{
	struct msg_print_job_req req;
	struct iovec iov[2];

	memset(&req, 0, sizeof(req));
	(void)msg_str_set(req.issuance_id, sizeof(req.issuance_id), id);
	(void)msg_str_set(req.kiosk_id, sizeof(req.kiosk_id), "S0001-T01");
	req.copies = copies;
	req.flags = flags;
	req.content_len = (uint32_t)len;
	iov[0].iov_base = &req;
	iov[0].iov_len = sizeof(req);
	iov[1].iov_base = (void *)(uintptr_t)content;
	iov[1].iov_len = len;
	return proc_sendv(pw, MSG_PRINT_JOB_REQ, sid, iov, 2);
}

static int
send_query(int job_id, const char *id, int follow)
{
	struct msg_print_query_req q;

	memset(&q, 0, sizeof(q));
	q.job_id = job_id;
	q.follow = (uint32_t)follow;
	(void)msg_str_set(q.issuance_id, sizeof(q.issuance_id), id);
	return proc_send(pw, MSG_PRINT_QUERY_REQ, 9, &q, sizeof(q));
}

/* Print and wait for SPOOLED then DONE. */
static int
print_and_wait(uint64_t sid, const char *id, uint32_t flags, uint32_t copies,
    const void *content, size_t len, int timeout_ms)
{
	int s = R.n_spooled, d = R.n_done;

	if (send_print(sid, id, flags, copies, content, len) == -1)
		return -1;
	if (!wait_for(&R.n_spooled, s, timeout_ms))
		return -1;
	if (R.spooled.status != MSG_PRINT_OK)
		return 0;
	return wait_for(&R.n_done, d, timeout_ms) ? 1 : -1;
}

static cairo_status_t
collect(void *closure, const unsigned char *data, unsigned int len)
{
	FILE *f = closure;

	return fwrite(data, 1, len, f) == len ? CAIRO_STATUS_SUCCESS :
	    CAIRO_STATUS_WRITE_ERROR;
}

int
main(void)
{
	struct kiosk_conf *conf;
	struct event *tev;
	struct timeval tv = { 0, 100000 };
	const char *tmp = getenv("KIOSK_TMP"), *src = getenv("KIOSK_SRCDIR");
	char confbuf[2048], errbuf[2048], path[600], *pdf, *got, *content;
	char *rendered = NULL;
	size_t pdflen, gotlen, contentlen, renderedlen = 0;
	struct render_opts ro = { "S0001-T01", NULL, 1 };
	FILE *mf;
	int r, s, d, st, job_a;

	log_init("test_printer_worker", 0);
	(void)snprintf(srcdir, sizeof(srcdir), "%s", src != NULL ? src :
	    ".");
	if (tmp != NULL)
		(void)snprintf(dir, sizeof(dir), "%s/pwstack", tmp);
	else
		(void)snprintf(dir, sizeof(dir), "/tmp/test_printer_worker.%ld",
		    (long)getpid());
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);
	/* what cups_start exports, for the helpers we run later */
	(void)snprintf(path, sizeof(path), "%s/cups/cups.sock", dir);
	setenv("CUPS_SERVER", path, 1);
	setenv("KIOSK_CUPS_DIR", dir, 1);
	(void)snprintf(path, sizeof(path), "%d", PRINTER_PORT);
	setenv("KIOSK_PRINTER_PORT", path, 1);
	(void)snprintf(path, sizeof(path), "ipp://localhost:%d/ipp/print",
	    PRINTER_PORT);
	setenv("KIOSK_PRINTER_URI", path, 1);
	(void)snprintf(path, sizeof(path), "%s/ippeve/out", dir);
	setenv("KIOSK_IPPEVE_SPOOL", path, 1);
	(void)snprintf(path, sizeof(path), "%s/ippeve/ctl", dir);
	setenv("KIOSK_IPPEVE_CTL", path, 1);
	r = sh("cups_start '%s' %d %d %s 2>'%s/start.log'", dir, CUPSD_PORT,
	    PRINTER_PORT, QUEUE, dir);
	if (!T_CHECK(r == 0, "private CUPS stack starts")) {
		sh("cat '%s/start.log'; cups_stop '%s'", dir, dir);
		return t_done();
	}
	if (sh("cups_mkpdf 2 worker >'%s/doc.pdf'", dir) != 0 ||
	    (snprintf(path, sizeof(path), "%s/doc.pdf", dir),
	    pdf = slurp(path, &pdflen)) == NULL)
		fatalx("cannot make the test PDF");

	(void)snprintf(confbuf, sizeof(confbuf),
	    "kiosk-id \"S0001-T01\"\n"
	    "center { url \"https://localhost:8443\"; ca \"/x/ca\"\n"
	    " client-cert \"/x/c\"; client-key \"/x/k\"; document-key \"/x/d\" }\n"
	    "printer \"%s\" { server \"%s/cups/cups.sock\"\n"
	    " uri \"ipp://localhost:%d/ipp/print\"; poll 1s; job-timeout 10s\n"
	    " request-timeout 3s }\n", QUEUE, dir, PRINTER_PORT);
	if (config_load_buf("test.conf", confbuf, strlen(confbuf), &conf,
	    errbuf, sizeof(errbuf)) == -1)
		fatalx("config: %s", errbuf);

	base = event_base_new();
	if (base == NULL || proc_init(base) == -1)
		fatalx("event base");
	tev = event_new(base, -1, EV_PERSIST, tick, NULL);
	event_add(tev, &tv);
	pw = proc_spawn("printer", MSG_ROLE_PRINTER, printer_worker_main, conf,
	    &hooks, NULL);
	T_CHECK(pw != NULL && wait_for(&R.up, 0, 5000), "worker says HELLO");
	T_CHECK(wait_for(&R.n_state, 0, 5000) && R.state.ready == 1 &&
	    strcmp(R.state.reason, "ok") == 0 && R.state.toner_percent == 75,
	    "first PRINT_STATE unasked: ready, ok, toner 75 %");

	/* 1. a ready PDF, bytes compared at the printer */
	r = print_and_wait(41, "ISS-PDF-1", MSG_PRINT_F_PDF, 1, pdf, pdflen,
	    20000);
	T_CHECK(r == 1 && R.spooled.job_id > 0 && R.spooled.status == 0,
	    "PDF: SPOOLED with a CUPS job id");
	T_CHECK(R.done.outcome == MSG_PRINTED && R.done.pages == 2 &&
	    R.done.job_id == R.spooled.job_id && R.done_sid == 41 &&
	    strcmp(R.done.reason, "completed") == 0 && R.done.flags == 0,
	    "PDF: DONE printed, 2 pages, same job, session id kept");
	printf("# timing PDF job: accepted %u ms, completed %u ms\n",
	    R.spooled.elapsed_ms, R.done.elapsed_ms);
	job_a = R.done.job_id;
	got = printed("ISS-PDF-1", &gotlen);
	T_CHECK(got != NULL && gotlen == pdflen &&
	    memcmp(got, pdf, pdflen) == 0,
	    "PDF: the printer received exactly the PDF sent");
	free(got);
	T_CHECK(R.pong_while_waiting > 0,
	    "PING answered while the job was followed");

	/* 2. signed content rendered by the worker */
	(void)snprintf(path, sizeof(path), "%s/tests/render/juminhyo.json",
	    srcdir);
	if ((content = slurp(path, &contentlen)) == NULL)
		fatal("%s", path);
	if ((mf = open_memstream(&rendered, &renderedlen)) == NULL)
		fatal("open_memstream");
	st = render_pdf_stream(content, contentlen, &ro, collect, mf, errbuf,
	    sizeof(errbuf));
	fclose(mf);
	r = print_and_wait(42, "ISS-RENDER-1", MSG_PRINT_F_PLAIN, 2, content,
	    contentlen, 30000);
	T_CHECK(st > 0 && r == 1 && R.done.outcome == MSG_PRINTED &&
	    R.spooled.pages_expected == (uint32_t)st * 2 &&
	    R.done.pages == st * 2,
	    "content: rendered, 2 copies printed, pages = rendered x 2");
	printf("# timing rendered job (%d pages x 2): accepted %u ms "
	    "(render included), completed %u ms\n", st,
	    R.spooled.elapsed_ms, R.done.elapsed_ms);
	got = printed("ISS-RENDER-1", &gotlen);
	T_CHECK(got != NULL && gotlen == renderedlen &&
	    memcmp(got, rendered, renderedlen) == 0,
	    "content: the printer received the rendered PDF, byte for byte");
	free(got);
	r = print_and_wait(43, "ISS-BAD-CONTENT", 0, 1, "{not json", 9, 5000);
	T_CHECK(r == 0 && R.spooled.status == MSG_PRINT_RENDER &&
	    strcmp(R.spooled.reason, "render") == 0,
	    "bad content: SPOOLED status render, nothing submitted");

	/* 3. paper out: pushed state, job waits, prints once on reload */
	s = R.n_state;
	sh("cups_paper_out");
	T_CHECK(wait_for(&R.n_state, s, 5000) && R.state.ready == 0 &&
	    strcmp(R.state.reason, "media-empty") == 0 &&
	    (R.state.flags & MSG_PRINT_S_MEDIA_EMPTY) &&
	    strstr(R.state.message_ja, "用紙切れ") != NULL,
	    "paper out: PRINT_STATE pushed, media-empty, Japanese message");
	d = R.n_done;
	R.pong_while_waiting = 0;
	T_CHECK(send_print(44, "ISS-WAIT-1", MSG_PRINT_F_PDF, 1, pdf, pdflen)
	    == 0 && wait_for(&R.n_spooled, R.n_spooled, 5000) &&
	    R.spooled.status == 0, "paper out: job spooled");
	run_for(2500);
	T_CHECK(R.saw_media_needed && R.n_done == d,
	    "paper out: PROGRESS says media-needed, no DONE yet");
	T_CHECK(R.pong_while_waiting >= 10,
	    "paper out: PINGs answered while the job waits");
	s = R.n_state;
	sh("cups_paper_reload");
	T_CHECK(wait_for(&R.n_done, d, 15000) &&
	    R.done.outcome == MSG_PRINTED && R.done.pages == 2,
	    "reload: DONE printed");
	T_CHECK(sh("test \"$(cups_printed_count ISS-WAIT-1)\" = 1") == 0,
	    "reload: printed exactly once");
	T_CHECK(wait_for(&R.n_state, s, 5000) && R.state.ready == 1,
	    "reload: PRINT_STATE back to ready");

	/* 4. jam */
	sh("cups_jam_next");
	r = print_and_wait(45, "ISS-JAM-1", MSG_PRINT_F_PDF, 1, pdf, pdflen,
	    20000);
	T_CHECK(r == 1 && R.done.outcome == MSG_PRINT_FAILED &&
	    strcmp(R.done.reason, "media-jam") == 0 &&
	    (R.done.flags & MSG_PRINT_O_MAY_HAVE_PRINTED) &&
	    (R.done.job_state == 7 || R.done.job_state == 8),
	    "jam: DONE failed, media-jam, may have printed");
	if (R.done.outcome != MSG_PRINTED)
		printf("# jam: state %d, reason %s, reasons %s, flags %u\n",
		    R.done.job_state, R.done.reason, R.done.reasons,
		    R.done.flags);
	sh("cups_jam_clear");

	/* 5. cancel a job the queue holds */
	sh("cupsdisable %s", QUEUE);
	s = R.n_spooled;
	d = R.n_done;
	send_print(46, "ISS-CANCEL-1", MSG_PRINT_F_PDF, 1, pdf, pdflen);
	wait_for(&R.n_spooled, s, 5000);
	{
		struct msg_print_cancel_req cr = { R.spooled.job_id, 0 };
		int c = R.n_cancel;

		proc_send(pw, MSG_PRINT_CANCEL_REQ, 46, &cr, sizeof(cr));
		T_CHECK(wait_for(&R.n_cancel, c, 5000) &&
		    R.cancel.status == MSG_PRINT_OK &&
		    R.cancel.job_state == 7, "cancel: CANCEL_RESULT ok, "
		    "canceled");
	}
	T_CHECK(wait_for(&R.n_done, d, 5000) &&
	    R.done.outcome == MSG_PRINT_FAILED &&
	    strcmp(R.done.reason, "canceled") == 0 && R.done.flags == 0,
	    "cancel: DONE failed, canceled, never reached the printer");

	/* 6. job timeout (10 s): canceled by the worker */
	s = R.n_spooled;
	d = R.n_done;
	send_print(47, "ISS-TIMEOUT-1", MSG_PRINT_F_PDF, 1, pdf, pdflen);
	wait_for(&R.n_spooled, s, 5000);
	T_CHECK(wait_for(&R.n_done, d, 20000) &&
	    R.done.outcome == MSG_PRINT_FAILED &&
	    strcmp(R.done.reason, "timeout") == 0 && R.done.job_state == 7 &&
	    R.done.flags == 0, "job timeout: canceled, reason timeout");
	T_CHECK(sh("test \"$(cups_printed_count ISS-TIMEOUT-1)\" = 0") == 0,
	    "job timeout: nothing printed");
	sh("cupsenable %s", QUEUE);

	/* 7. reconciliation */
	s = R.n_query;
	send_query(job_a, "", 0);
	T_CHECK(wait_for(&R.n_query, s, 5000) && R.query.status == 0 &&
	    R.query.job_id == job_a && R.query.outcome == MSG_PRINTED &&
	    strcmp(R.query.issuance_id, "ISS-PDF-1") == 0,
	    "query by id: completed, printed, its issuance id");
	s = R.n_query;
	send_query(0, "ISS-RENDER-1", 0);
	T_CHECK(wait_for(&R.n_query, s, 5000) && R.query.status == 0 &&
	    R.query.matches == 1 && R.query.outcome == MSG_PRINTED &&
	    R.query.pages == st * 2, "query by issuance id: found, printed");
	s = R.n_query;
	send_query(0, "ISS-NEVER", 0);
	T_CHECK(wait_for(&R.n_query, s, 5000) &&
	    R.query.status == MSG_PRINT_NOT_FOUND && R.query.matches == 0 &&
	    strcmp(R.query.reason, "unknown-job") == 0,
	    "query an unknown issuance id: not-found");
	s = R.n_query;
	send_query(99999, "", 0);
	T_CHECK(wait_for(&R.n_query, s, 5000) &&
	    R.query.status == MSG_PRINT_NOT_FOUND,
	    "query an unknown job id: not-found");

	/* 8. unreachable printer, then on request */
	s = R.n_state;
	sh("cups_printer_kill");
	T_CHECK(wait_for(&R.n_state, s, 5000) && R.state.ready == 0 &&
	    strcmp(R.state.reason, "offline") == 0,
	    "printer gone: PRINT_STATE offline");
	sh("cups_printer_start");
	/*
	 * Each STATE_REQ is answered with the state of that moment; CUPS
	 * may still call the restarted printer offline for a moment, so ask
	 * again until it is ready (5 s at most).
	 */
	{
		long long end = now_ms() + 5000;
		int answered = 1, ready = 0;

		while (answered && !ready && now_ms() < end) {
			s = R.n_state;
			proc_send(pw, MSG_PRINT_STATE_REQ, 0, NULL, 0);
			answered = wait_for(&R.n_state, s, 5000);
			ready = answered && R.state.ready == 1;
			if (!ready)
				run_for(200);
		}
		T_CHECK(answered && ready, "STATE_REQ: answered, ready again");
	}

	/* 9. a malformed request is fatal for the worker, which restarts */
	{
		struct msg_print_job_req bad;
		int u = R.up;

		memset(&bad, 0, sizeof(bad));
		(void)msg_str_set(bad.issuance_id, sizeof(bad.issuance_id),
		    "X");
		bad.copies = 0;
		bad.content_len = 4;
		send_print(48, "X", MSG_PRINT_F_PDF, 0, "%PDF", 4);
		T_CHECK(wait_for(&R.downs, 0, 5000) &&
		    wait_for(&R.up, u, 5000),
		    "copies 0: the worker is failed and restarted");
	}
	T_CHECK(R.downs == 1, "no other worker death");

	proc_shutdown(&(struct timeval){ 2, 0 }, NULL, NULL);
	run_for(300);
	sh("cups_stop '%s'", dir);
	free(pdf);
	free(content);
	free(rendered);
	render_cleanup();
	config_free(conf);
	return t_done();
}
