/*
 * The printer worker: the only process that renders documents and talks
 * to CUPS.  A print request is rendered to PDF in memory (render.h),
 * submitted with job-name = the issuance id (spool.h), answered with
 * PRINT_SPOOLED, then followed from a libevent timer, one bounded IPP
 * request per tick, so PING is answered while a job waits for paper; the
 * end is PRINT_DONE.  The printer itself is asked for its readiness every
 * poll interval (printer_state.h) and PRINT_STATE goes to the core when it
 * changes.
 *
 * Whether paper may have come out of a job that did not complete is told,
 * never guessed away: a job that reached the printer (processing) and was
 * then canceled or aborted may have printed pages; a job we could not see
 * end (CUPS unreachable, cancel not confirmed) may still print.  The core
 * reconciles those with PRINT_QUERY_REQ by id or by issuance id.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "msg.h"
#include "printer_state.h"
#include "printer_worker.h"
#include "proc.h"
#include "render.h"
#include "spool.h"
#include "util.h"

#define PW_JOBS_MAX		8
#define PW_FIRST_CHECK_MS	150	/* after the submit */
#define PW_CHECK_MS		500	/* following a job */
#define PW_CANCEL_GRACE_MS	15000	/* cancel sent, then give up */
#define PW_PDF_MAX		(32u * 1024 * 1024)

/* The wire flags are printer_state.h's. */
_Static_assert(MSG_PRINT_S_OFFLINE == PSTATE_F_OFFLINE &&
    MSG_PRINT_S_DOOR_OPEN == PSTATE_F_DOOR_OPEN &&
    MSG_PRINT_S_MEDIA_JAM == PSTATE_F_MEDIA_JAM &&
    MSG_PRINT_S_MEDIA_EMPTY == PSTATE_F_MEDIA_EMPTY &&
    MSG_PRINT_S_TONER_EMPTY == PSTATE_F_TONER_EMPTY &&
    MSG_PRINT_S_STOPPED == PSTATE_F_STOPPED &&
    MSG_PRINT_S_QUEUE_STOPPED == PSTATE_F_QUEUE_STOPPED &&
    MSG_PRINT_S_MEDIA_MISSING == PSTATE_F_MEDIA_MISSING &&
    MSG_PRINT_S_MEDIA_LOW == PSTATE_F_MEDIA_LOW &&
    MSG_PRINT_S_TONER_LOW == PSTATE_F_TONER_LOW &&
    MSG_PRINT_S_OTHER_WARNING == PSTATE_F_OTHER_WARNING, "state flags");

struct printer_worker;

struct pjob {
	int			 used;
	struct printer_worker	*w;
	uint64_t		 sid;
	char			 issuance_id[MSG_CENTER_ID_LEN];
	int			 job_id;
	int			 state;		/* last seen */
	char			 reasons[MSG_PRINT_REASONS_LEN];
	int			 pages;
	int			 reached;	/* seen processing */
	uint32_t		 pages_expected;
	long long		 t0;		/* request received, ms */
	long long		 deadline;	/* job timeout, ms */
	long long		 cancel_at;	/* cancel sent, ms; 0 none */
	const char		*cancel_why;	/* "timeout", "canceled" */
	long long		 unreachable_since;
	struct event		*ev;
};

struct printer_worker {
	struct proc_child	*c;
	const struct kiosk_conf	*conf;
	struct spool_conf	 sc;
	struct printer_target	 target;
	struct printer_state	 st;
	int			 have_st;
	uint32_t		 seq;
	struct event		*poll_ev;
	struct pjob		 jobs[PW_JOBS_MAX];
};

struct pdfbuf {
	unsigned char	*p;
	size_t		 len, cap;
};

static long long
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
arm(struct event *ev, long long ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	if (evtimer_add(ev, &tv) == -1)
		fatalx("printer worker: cannot arm a timer");
}

static int32_t
status_of(enum spool_err e)
{
	switch (e) {
	case SPOOL_OK:
		return MSG_PRINT_OK;
	case SPOOL_E_CONNECT:
		return MSG_PRINT_UNREACHABLE;
	case SPOOL_E_TIMEOUT:
		return MSG_PRINT_TIMEOUT;
	case SPOOL_E_NO_QUEUE:
		return MSG_PRINT_NO_QUEUE;
	case SPOOL_E_NOT_ACCEPTING:
		return MSG_PRINT_NOT_ACCEPTING;
	case SPOOL_E_FORMAT:
		return MSG_PRINT_FORMAT;
	case SPOOL_E_REFUSED:
		return MSG_PRINT_REFUSED;
	case SPOOL_E_NOT_FOUND:
		return MSG_PRINT_NOT_FOUND;
	case SPOOL_E_NOT_POSSIBLE:
		return MSG_PRINT_NOT_POSSIBLE;
	default:
		return MSG_PRINT_INTERNAL;
	}
}

/* Copy a reason list into a fixed field, cut at a comma if too long. */
static void
set_reasons(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src), k;

	if (n >= size) {
		n = size - 1;
		for (k = n; k > 0 && src[k] != ','; k--)
			;
		if (k > 0)
			n = k;
	}
	memset(dst, 0, size);
	memcpy(dst, src, n);
}

static void
set_code(char *dst, size_t size, const char *src)
{
	if (msg_str_set(dst, size, src) == -1)
		(void)msg_str_set(dst, size, "other");
}

static int
generic_failure(const char *why)
{
	return strcmp(why, "canceled") == 0 || strcmp(why, "aborted") == 0 ||
	    strcmp(why, "job-canceled-at-device") == 0 ||
	    strcmp(why, "aborted-by-system") == 0;
}

static void	state_check(struct printer_worker *, int, uint64_t);

static void
fill_job(const struct pjob *j, struct msg_print_job *out)
{
	memset(out, 0, sizeof(*out));
	(void)msg_str_set(out->issuance_id, sizeof(out->issuance_id),
	    j->issuance_id);
	out->status = MSG_PRINT_OK;
	out->job_id = j->job_id;
	out->job_state = j->state;
	out->pages = j->pages;
	out->pages_expected = j->pages_expected;
	out->elapsed_ms = (uint32_t)(now_ms() - j->t0);
	set_reasons(out->reasons, sizeof(out->reasons), j->reasons);
}

static void
send_job(struct printer_worker *w, uint32_t type, uint64_t sid,
    const struct msg_print_job *mj)
{
	if (proc_child_send(w->c, type, sid, mj, sizeof(*mj)) == -1)
		log_warn("%s", msg_type_name(type));
}

static void
job_free(struct pjob *j)
{
	if (j->ev != NULL)
		event_free(j->ev);
	memset(j, 0, sizeof(*j));
}

/*
 * CUPS says the job is canceled or aborted; what does the printer say?
 * A job CUPS canceled may still sit at the printer, waiting for paper, and
 * print when the paper comes back: it is canceled there too.  1: the
 * printer completed it (printed after all); 0: nothing will print; -1: it
 * may still print (still unfinished, or the printer cannot say).  A queue
 * without an IPP printer behind it: CUPS is all there is (0).
 */
static int
printer_verdict(struct printer_worker *w, const char *name)
{
	char uri[256], err[256];
	int live = 0, done = 0;
	enum spool_err e;

	if (w->target.uri[0] != '\0')
		(void)snprintf(uri, sizeof(uri), "%s", w->target.uri);
	else if (spool_queue_device(&w->sc, uri, sizeof(uri), err,
	    sizeof(err)) != SPOOL_OK || (strncmp(uri, "ipp://", 6) != 0 &&
	    strncmp(uri, "ipps://", 7) != 0))
		return 0;
	e = spool_printer_jobs(uri, w->target.timeout_ms, name, 1, &live,
	    &done, err, sizeof(err));
	if (e != SPOOL_OK) {
		log_warnx("job %s: the printer cannot say: %s", name, err);
		return -1;
	}
	if (done > 0) {
		log_warnx("job %s: canceled in CUPS but COMPLETED at the "
		    "printer", name);
		return 1;
	}
	if (live > 0)
		log_warnx("job %s: still at the printer after a cancel", name);
	return live > 0 ? -1 : 0;
}

/* The job ended (or we gave up on it): DONE, and forget it. */
static void
job_done(struct pjob *j, const char *reason, uint32_t flags)
{
	struct printer_worker *w = j->w;
	struct msg_print_job mj;

	fill_job(j, &mj);
	mj.flags = flags;
	if (j->state == SPOOL_JOB_COMPLETED) {
		mj.outcome = MSG_PRINTED;
		set_code(mj.reason, sizeof(mj.reason), "completed");
	} else {
		mj.outcome = MSG_PRINT_FAILED;
		set_code(mj.reason, sizeof(mj.reason), reason);
	}
	log_info("job %d (%s): %s, %s, %d pages, %u ms%s%s", j->job_id,
	    j->issuance_id, spool_job_state_name(j->state), mj.reason,
	    j->pages, mj.elapsed_ms,
	    (flags & MSG_PRINT_O_MAY_HAVE_PRINTED) ? ", may have printed" : "",
	    (flags & MSG_PRINT_O_MAY_STILL_PRINT) ? ", may still print" : "");
	send_job(w, MSG_PRINT_DONE, j->sid, &mj);
	job_free(j);
}

static void
job_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pjob *j = arg;
	struct printer_worker *w = j->w;
	struct spool_job sj;
	struct msg_print_job mj;
	enum spool_err e;
	char err[256];
	long long now;
	uint32_t flags;
	const char *why;

	e = spool_job_get(&w->sc, j->job_id, &sj, err, sizeof(err));
	now = now_ms();
	if (e == SPOOL_OK) {
		j->unreachable_since = 0;
		if (sj.state == SPOOL_JOB_PROCESSING ||
		    sj.state == SPOOL_JOB_STOPPED)
			j->reached = 1;
		if (sj.state != j->state || sj.impressions != j->pages ||
		    strncmp(sj.reasons, j->reasons, sizeof(j->reasons) - 1)
		    != 0) {
			j->state = sj.state;
			j->pages = sj.impressions;
			set_reasons(j->reasons, sizeof(j->reasons),
			    sj.reasons);
			if (!spool_job_state_final(sj.state)) {
				fill_job(j, &mj);
				send_job(w, MSG_PRINT_PROGRESS, j->sid, &mj);
			}
		}
		if (spool_job_state_final(sj.state)) {
			if ((why = spool_job_trouble(&sj)) != NULL) {
				/* "completed" by CUPS, jammed at the printer */
				log_warnx("job %d: completed with %s: failed",
				    j->job_id, why);
				j->state = SPOOL_JOB_ABORTED;
				job_done(j, why, MSG_PRINT_O_MAY_HAVE_PRINTED);
				return;
			}
			flags = sj.state != SPOOL_JOB_COMPLETED && j->reached ?
			    MSG_PRINT_O_MAY_HAVE_PRINTED : 0;
			if (sj.state != SPOOL_JOB_COMPLETED) {
				int v = printer_verdict(w, j->issuance_id);

				if (v == 1) {
					j->state = SPOOL_JOB_COMPLETED;
					flags = 0;
				} else if (v == -1)
					flags |= MSG_PRINT_O_MAY_STILL_PRINT;
			}
			why = j->cancel_why;
			if (why == NULL && sj.state != SPOOL_JOB_COMPLETED) {
				why = spool_job_cause(&sj);
				/* CUPS may not have copied the printer's
				   reason to the job yet: ask the printer */
				if (generic_failure(why)) {
					state_check(w, 0, 0);
					if (!w->st.ready)
						why = w->st.reason;
				}
			}
			job_done(j, why, flags);
			return;
		}
	} else if (e == SPOOL_E_NOT_FOUND) {
		/* CUPS lost it (restarted without its history) */
		job_done(j, "job-lost", j->reached ?
		    MSG_PRINT_O_MAY_HAVE_PRINTED : 0);
		return;
	} else {
		if (j->unreachable_since == 0)
			j->unreachable_since = now;
		log_warnx("job %d: %s", j->job_id, err);
	}

	if (j->cancel_at == 0 && now >= j->deadline) {
		log_warnx("job %d (%s): not finished after the job timeout, "
		    "canceling", j->job_id, j->issuance_id);
		j->cancel_why = "timeout";
		j->cancel_at = now;
		e = spool_job_cancel(&w->sc, j->job_id, err, sizeof(err));
		if (e != SPOOL_OK && e != SPOOL_E_NOT_POSSIBLE)
			log_warnx("job %d: cancel: %s", j->job_id, err);
	}
	if (j->cancel_at != 0 && now - j->cancel_at >= PW_CANCEL_GRACE_MS) {
		/* never saw it end: it may print yet */
		job_done(j, j->unreachable_since != 0 ? "cups-unreachable" :
		    "timeout",
		    MSG_PRINT_O_MAY_STILL_PRINT | (j->reached ?
		    MSG_PRINT_O_MAY_HAVE_PRINTED : 0));
		return;
	}
	arm(j->ev, PW_CHECK_MS);
}

static struct pjob *
job_slot(struct printer_worker *w)
{
	int i;

	for (i = 0; i < PW_JOBS_MAX; i++)
		if (!w->jobs[i].used)
			return &w->jobs[i];
	return NULL;
}

static struct pjob *
job_by_id(struct printer_worker *w, int job_id)
{
	int i;

	for (i = 0; i < PW_JOBS_MAX; i++)
		if (w->jobs[i].used && w->jobs[i].job_id == job_id)
			return &w->jobs[i];
	return NULL;
}

/* Start following a job in slot j. */
static void
job_follow(struct printer_worker *w, struct pjob *j, uint64_t sid,
    const char *issuance_id, int job_id, long long t0, long long first_ms)
{
	memset(j, 0, sizeof(*j));
	j->used = 1;
	j->w = w;
	j->sid = sid;
	(void)msg_str_set(j->issuance_id, sizeof(j->issuance_id),
	    issuance_id);
	j->job_id = job_id;
	j->pages = -1;
	j->t0 = t0;
	j->deadline = now_ms() + (long long)w->conf->print.job_timeout * 1000;
	if ((j->ev = evtimer_new(proc_child_base(w->c), job_tick, j)) == NULL)
		fatalx("printer worker: evtimer_new");
	arm(j->ev, first_ms);
}

static cairo_status_t
pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct pdfbuf *b = closure;
	unsigned char *p;
	size_t cap;

	if (len > PW_PDF_MAX - b->len)
		return CAIRO_STATUS_WRITE_ERROR;
	if (b->len + len > b->cap) {
		cap = b->cap == 0 ? 65536 : b->cap;
		while (cap < b->len + len)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return CAIRO_STATUS_SUCCESS;
}

static int
issuance_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static void
print_req(struct printer_worker *w, const struct msg *m)
{
	struct msg_print_job_req req;
	struct msg_print_job mj;
	struct render_opts ro;
	struct spool_submit_info info;
	struct spool_job found;
	struct pdfbuf pdf;
	struct pjob *j;
	const uint8_t *tail;
	const unsigned char *doc;
	enum spool_err e;
	char err[256];
	size_t doclen;
	long long t0 = now_ms(), t_render;
	int pages = 0, count;

	if (m->len < sizeof(req)) {
		proc_child_fail(w->c, "PRINT_JOB_REQ");
		return;
	}
	memcpy(&req, m->data, sizeof(req));
	if (msg_get_tail(m, sizeof(req), req.content_len,
	    MSG_PRINT_CONTENT_MAX, &tail) == -1 ||
	    !msg_str_ok(req.issuance_id, sizeof(req.issuance_id)) ||
	    !msg_str_ok(req.kiosk_id, sizeof(req.kiosk_id)) ||
	    !msg_str_ok(req.code, sizeof(req.code)) ||
	    !issuance_id_ok(req.issuance_id) || req.copies < 1 ||
	    req.copies > MSG_PRINT_COPIES_MAX || req.content_len == 0 ||
	    (req.flags & ~(uint32_t)(MSG_PRINT_F_PLAIN | MSG_PRINT_F_PDF))) {
		proc_child_fail(w->c, "PRINT_JOB_REQ fields");
		return;
	}
	memset(&mj, 0, sizeof(mj));
	memcpy(mj.issuance_id, req.issuance_id, sizeof(mj.issuance_id));
	memset(&pdf, 0, sizeof(pdf));
	if ((j = job_slot(w)) == NULL) {
		mj.status = MSG_PRINT_BUSY;
		set_code(mj.reason, sizeof(mj.reason), "busy");
		goto reply;
	}
	if (req.flags & MSG_PRINT_F_PDF) {
		doc = tail;
		doclen = req.content_len;
	} else {
		memset(&ro, 0, sizeof(ro));
		ro.kiosk_id = req.kiosk_id;
		ro.code = req.code[0] != '\0' ? req.code : NULL;
		ro.plain = (req.flags & MSG_PRINT_F_PLAIN) != 0;
		pages = render_pdf_stream((const char *)tail, req.content_len,
		    &ro, pdf_write, &pdf, err, sizeof(err));
		if (pages < 1) {
			log_warnx("%s: render: %s", req.issuance_id, err);
			mj.status = MSG_PRINT_RENDER;
			set_code(mj.reason, sizeof(mj.reason), "render");
			goto reply;
		}
		doc = pdf.p;
		doclen = pdf.len;
	}
	t_render = now_ms();
	e = spool_submit(&w->sc, req.issuance_id, doc, doclen,
	    (int)req.copies, &info, err, sizeof(err));
	if (e != SPOOL_OK && info.sent) {
		/* the job may exist: look before telling the core it does
		   not */
		if (spool_find_by_name(&w->sc, req.issuance_id, &found, 1,
		    &count, err, sizeof(err)) == SPOOL_OK && count > 0) {
			log_warnx("%s: submit failed but CUPS has job %d",
			    req.issuance_id, found.id);
			info.job_id = found.id;
			e = SPOOL_OK;
		} else
			mj.flags = MSG_PRINT_O_MAY_STILL_PRINT;
	}
	if (e != SPOOL_OK) {
		log_warnx("%s: submit: %s", req.issuance_id, err);
		mj.status = status_of(e);
		set_code(mj.reason, sizeof(mj.reason), e == SPOOL_E_CONNECT ?
		    "cups-unreachable" : msg_print_status_name(mj.status));
		goto reply;
	}
	job_follow(w, j, m->hdr.sid, req.issuance_id, info.job_id, t0,
	    PW_FIRST_CHECK_MS);
	j->pages_expected = (uint32_t)pages * req.copies;
	fill_job(j, &mj);
	log_info("%s: job %d, %zu bytes, %d pages x %u, render %lld ms, "
	    "accepted %lld ms", req.issuance_id, info.job_id, doclen, pages,
	    req.copies, t_render - t0, now_ms() - t_render);
	set_code(mj.reason, sizeof(mj.reason), "spooled");
reply:
	mj.elapsed_ms = (uint32_t)(now_ms() - t0);
	free(pdf.p);
	send_job(w, MSG_PRINT_SPOOLED, m->hdr.sid, &mj);
}

static void
cancel_req(struct printer_worker *w, const struct msg *m)
{
	struct msg_print_cancel_req req;
	struct msg_print_job mj;
	struct spool_job sj;
	struct pjob *j;
	enum spool_err e;
	char err[256];

	if (msg_expect_len(m, sizeof(req)) == -1) {
		proc_child_fail(w->c, "PRINT_CANCEL_REQ");
		return;
	}
	memcpy(&req, m->data, sizeof(req));
	memset(&mj, 0, sizeof(mj));
	mj.job_id = req.job_id;
	mj.pages = -1;
	if (req.job_id < 1) {
		mj.status = MSG_PRINT_NOT_FOUND;
		set_code(mj.reason, sizeof(mj.reason), "not-found");
		goto reply;
	}
	e = spool_job_cancel(&w->sc, req.job_id, err, sizeof(err));
	mj.status = status_of(e);
	set_code(mj.reason, sizeof(mj.reason), e == SPOOL_OK ? "canceled" :
	    msg_print_status_name(mj.status));
	if ((j = job_by_id(w, req.job_id)) != NULL && e == SPOOL_OK &&
	    j->cancel_why == NULL) {
		j->cancel_why = "canceled";
		j->cancel_at = now_ms();
	}
	if (spool_job_get(&w->sc, req.job_id, &sj, err, sizeof(err)) ==
	    SPOOL_OK) {
		mj.job_state = sj.state;
		mj.pages = sj.impressions;
		(void)msg_str_set(mj.issuance_id, sizeof(mj.issuance_id),
		    strlen(sj.name) < sizeof(mj.issuance_id) ? sj.name : "");
		set_reasons(mj.reasons, sizeof(mj.reasons), sj.reasons);
	}
reply:
	send_job(w, MSG_PRINT_CANCEL_RESULT, m->hdr.sid, &mj);
}

static void
query_req(struct printer_worker *w, const struct msg *m)
{
	struct msg_print_query_req req;
	struct msg_print_job mj;
	struct spool_job sj;
	struct pjob *j;
	enum spool_err e;
	char err[256];
	int count = 0;

	if (msg_expect_len(m, sizeof(req)) == -1) {
		proc_child_fail(w->c, "PRINT_QUERY_REQ");
		return;
	}
	memcpy(&req, m->data, sizeof(req));
	if (!msg_str_ok(req.issuance_id, sizeof(req.issuance_id)) ||
	    req.follow > 1 || req.job_id < 0 ||
	    (req.job_id == 0 && !issuance_id_ok(req.issuance_id))) {
		proc_child_fail(w->c, "PRINT_QUERY_REQ fields");
		return;
	}
	memset(&mj, 0, sizeof(mj));
	mj.pages = -1;
	if (req.job_id > 0) {
		e = spool_job_get(&w->sc, req.job_id, &sj, err, sizeof(err));
		count = e == SPOOL_OK;
	} else {
		e = spool_find_by_name(&w->sc, req.issuance_id, &sj, 1,
		    &count, err, sizeof(err));
		if (e == SPOOL_OK && count == 0)
			e = SPOOL_E_NOT_FOUND;
	}
	mj.status = status_of(e);
	mj.matches = (uint32_t)count;
	if (e != SPOOL_OK) {
		mj.job_id = req.job_id;
		memcpy(mj.issuance_id, req.issuance_id, sizeof(mj.issuance_id));
		set_code(mj.reason, sizeof(mj.reason), e == SPOOL_E_NOT_FOUND ?
		    "unknown-job" : msg_print_status_name(mj.status));
		send_job(w, MSG_PRINT_QUERY_RESULT, m->hdr.sid, &mj);
		return;
	}
	mj.job_id = sj.id;
	mj.job_state = sj.state;
	mj.pages = sj.impressions;
	if (strlen(sj.name) < sizeof(mj.issuance_id))
		memcpy(mj.issuance_id, sj.name, strlen(sj.name) + 1);
	set_reasons(mj.reasons, sizeof(mj.reasons), sj.reasons);
	if (spool_job_trouble(&sj) != NULL) {
		mj.outcome = MSG_PRINT_FAILED;
		mj.flags = MSG_PRINT_O_MAY_HAVE_PRINTED;
		set_code(mj.reason, sizeof(mj.reason), spool_job_trouble(&sj));
	} else if (sj.state == SPOOL_JOB_COMPLETED) {
		mj.outcome = MSG_PRINTED;
		set_code(mj.reason, sizeof(mj.reason), "completed");
	} else if (spool_job_state_final(sj.state)) {
		switch (printer_verdict(w, sj.name)) {
		case 1:		/* printed at the printer after all */
			mj.job_state = SPOOL_JOB_COMPLETED;
			mj.outcome = MSG_PRINTED;
			set_code(mj.reason, sizeof(mj.reason), "completed");
			break;
		case -1:	/* may print yet: not final for us */
			mj.job_state = SPOOL_JOB_PROCESSING;
			mj.flags = MSG_PRINT_O_MAY_STILL_PRINT;
			set_code(mj.reason, sizeof(mj.reason),
			    "at-printer");
			break;
		default:
			mj.outcome = MSG_PRINT_FAILED;
			set_code(mj.reason, sizeof(mj.reason),
			    spool_job_cause(&sj));
			break;
		}
	} else {
		set_code(mj.reason, sizeof(mj.reason),
		    spool_job_state_name(sj.state));
		mj.flags = MSG_PRINT_O_MAY_STILL_PRINT;
	}
	send_job(w, MSG_PRINT_QUERY_RESULT, m->hdr.sid, &mj);
	if (req.follow && !spool_job_state_final(sj.state) &&
	    job_by_id(w, sj.id) == NULL) {
		if ((j = job_slot(w)) == NULL) {
			log_warnx("job %d: too many jobs to follow", sj.id);
			return;
		}
		job_follow(w, j, m->hdr.sid, mj.issuance_id, sj.id, now_ms(),
		    0);
		/* it may have been printing before we came */
		j->reached = 1;
	}
}

/* Ask the printer; send PRINT_STATE when it changed or always. */
static void
state_check(struct printer_worker *w, int always, uint64_t sid)
{
	struct printer_state st;
	struct msg_print_state ms;

	printer_state_query(&w->target, &st);
	if (!w->have_st || printer_state_changed(&w->st, &st)) {
		w->seq++;
		if (w->have_st)
			log_info("printer: %s -> %s%s%s", w->st.reason,
			    st.reason, st.detail[0] != '\0' ? ": " : "",
			    st.detail);
		w->st = st;
		w->have_st = 1;
		always = 1;
	}
	if (!always)
		return;
	memset(&ms, 0, sizeof(ms));
	ms.status = MSG_PRINT_OK;
	ms.ready = (uint32_t)st.ready;
	ms.flags = st.flags;
	ms.printer_state = st.printer_state;
	ms.toner_percent = st.toner_percent;
	ms.seq = w->seq;
	set_code(ms.reason, sizeof(ms.reason), st.reason);
	set_reasons(ms.reasons, sizeof(ms.reasons), st.reasons);
	(void)msg_str_set(ms.message_ja, sizeof(ms.message_ja),
	    printer_state_message(st.reason, "ja"));
	(void)msg_str_set(ms.message_en, sizeof(ms.message_en),
	    printer_state_message(st.reason, "en"));
	set_reasons(ms.detail, sizeof(ms.detail), st.detail);
	if (proc_child_send(w->c, MSG_PRINT_STATE, sid, &ms, sizeof(ms)) ==
	    -1)
		log_warn("PRINT_STATE");
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct printer_worker *w = arg;

	state_check(w, 0, 0);
	arm(w->poll_ev, (long long)w->conf->print.poll * 1000);
}

static void
printer_handler(struct proc_child *c, const struct msg *m, void *arg)
{
	struct printer_worker *w = arg;

	switch (m->hdr.type) {
	case MSG_PRINT_JOB_REQ:
		print_req(w, m);
		return;
	case MSG_PRINT_CANCEL_REQ:
		cancel_req(w, m);
		return;
	case MSG_PRINT_QUERY_REQ:
		query_req(w, m);
		return;
	case MSG_PRINT_STATE_REQ:
		if (m->len != 0) {
			proc_child_fail(c, "PRINT_STATE_REQ");
			return;
		}
		state_check(w, 1, m->hdr.sid);
		return;
	default:
		proc_child_fail(c, msg_type_name(m->hdr.type));
		return;
	}
}

int
printer_worker_main(struct proc_child *c, void *arg)
{
	const struct kiosk_conf *conf = arg;
	struct printer_worker *w;
	int rc, i;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("printer worker");
		return 1;
	}
	w->c = c;
	w->conf = conf;
	/* config.c bounds every field: these copies fit */
	(void)snprintf(w->sc.server, sizeof(w->sc.server), "%s",
	    conf->print.server);
	(void)snprintf(w->sc.queue, sizeof(w->sc.queue), "%s", conf->printer);
	w->sc.timeout_ms = (int)conf->print.request_timeout * 1000;
	switch (conf->print.format) {
	case CONF_PRINT_PDF:
		w->sc.format = SPOOL_FORMAT_PDF;
		break;
	case CONF_PRINT_RAW:
		w->sc.format = SPOOL_FORMAT_RAW;
		break;
	default:
		w->sc.format = SPOOL_FORMAT_AUTO;
		break;
	}
	w->target.spool = w->sc;
	(void)snprintf(w->target.uri, sizeof(w->target.uri), "%s",
	    conf->print.uri);
	(void)snprintf(w->target.want_media, sizeof(w->target.want_media),
	    "%s", SPOOL_MEDIA);
	w->target.timeout_ms = w->sc.timeout_ms;
	if ((w->poll_ev = evtimer_new(proc_child_base(c), poll_cb, w)) ==
	    NULL) {
		log_warnx("printer worker: evtimer_new");
		free(w);
		return 1;
	}
	/* the first check right after HELLO */
	arm(w->poll_ev, 0);
	proc_child_set_handler(c, printer_handler, w);
	log_info("printer worker up, queue %s, server %s, printer %s",
	    w->sc.queue[0] != '\0' ? w->sc.queue : "(default)",
	    w->sc.server[0] != '\0' ? w->sc.server : "(default)",
	    w->target.uri[0] != '\0' ? w->target.uri : "(device-uri)");
	rc = proc_child_run(c);
	for (i = 0; i < PW_JOBS_MAX; i++)
		if (w->jobs[i].used)
			job_free(&w->jobs[i]);
	event_free(w->poll_ev);
	free(w);
	render_cleanup();
	return rc;
}
