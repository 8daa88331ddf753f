/*
 * The core process of kioskd: the resident session, the UI socket and the
 * links to the card and backend workers, on one libevent loop that never
 * blocks.  It turns UI commands and worker messages into session inputs,
 * and implements the session's operations (struct session_ops) with
 * messages to the workers.  A message from a worker is checked for its
 * exact size before it is looked at; a malformed one kills that worker
 * (proc_fail), which fails the session in flight and restarts it.
 */
#include <sys/random.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "core.h"
#include "docverify.h"
#include "journal.h"
#include "log.h"
#include "msg.h"
#include "payment.h"
#include "printer_worker.h"
#include "proc.h"
#include "session.h"
#include "settle.h"
#include "ui.h"
#include "util.h"

#define PIN_FIELD_MAX	16	/* longer is a format error, not a PIN */

struct core {
	struct event_base	*base;
	struct kiosk_conf	*conf;
	char			 conf_path[CONF_PATH_MAX + 1];
	struct docverify_key	*dockey;
	struct session		*s;
	struct ui		*ui;
	struct proc		*card;
	struct proc		*backend;
	struct proc		*printer;
	struct event		*timer;
	struct event		*defer;
	struct event		*reload_ev;	/* workers get the new conf */
	int			 reload_pending;
	int			 stopping;

	/* exactly once: the journal, the payment device, the settlement */
	struct journal		*journal;
	struct payment		*pay;
	struct settle		*settle;
	int64_t			 tx;		/* the session's row, 0: none */
	struct event		*paid_ev;	/* the payment's answer, deferred */
	int			 paid_ok;
	char			 paid_code[MSG_CODE_LEN];
	uint64_t		 paid_sid;
	const char		*crash_after;	/* tests: SIGKILL after a step */
	struct timespec		 confirmed;	/* the resident's confirm */

	/* the printer as the printer worker last saw it */
	int			 printer_known, printer_ready;
	char			 printer_reason[MSG_CODE_LEN];
};

static struct core core;

/*
 * Tests of exactly-once: KIOSKD_CRASH_AFTER=<journal step> makes kioskd
 * kill itself with SIGKILL right after that step is durable, before the
 * side effect that follows it -- a power cut at that very point.
 */
static void
crash_point(const char *step)
{
	if (core.crash_after != NULL && strcmp(core.crash_after, step) == 0) {
		log_warnx("KIOSKD_CRASH_AFTER=%s: SIGKILL now", step);
		(void)raise(SIGKILL);
	}
}

/* A journal step of the session's transaction: 0 when durable. */
static int
journaled(const char *step, enum journal_rc rc)
{
	if (rc != JOURNAL_OK) {
		log_warnx("journal: transaction %lld: %s not recorded: %s (%s)",
		    (long long)core.tx, step, journal_rc_name(rc),
		    journal_errmsg(core.journal));
		return -1;
	}
	crash_point(step);
	return 0;
}

/* --- session operations ------------------------------------------------ */

static void
op_screen(void *arg, json_t *screen)
{
	if (core.ui != NULL)
		ui_screen(core.ui, screen);
}

static void
op_timer(void *arg, unsigned int secs)
{
	struct timeval tv = { (time_t)secs, 0 };

	evtimer_del(core.timer);
	if (secs > 0 && evtimer_add(core.timer, &tv) == -1)
		log_warnx("cannot arm the session timer");
}

static time_t
op_now(void *arg)
{
	return time(NULL);
}

static void
op_defer(void *arg)
{
	event_active(core.defer, EV_TIMEOUT, 0);
}

static int
op_random(void *arg, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t r;
	size_t off = 0;

	while (off < len) {
		r = getrandom(p + off, len - off, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			log_warn("getrandom");
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

static int
op_card_ready(void *arg)
{
	return core.card != NULL && proc_is_up(core.card);
}

static int
op_backend_ready(void *arg)
{
	return core.backend != NULL && proc_is_up(core.backend);
}

static int
op_card_read(void *arg, uint64_t sid)
{
	struct msg_card_read_req req;

	memset(&req, 0, sizeof(req));
	(void)msg_str_set(req.reader, sizeof(req.reader), core.conf->reader);
	if (proc_send(core.card, MSG_CARD_READ_REQ, sid, &req,
	    sizeof(req)) == -1) {
		log_warn("card worker: read request");
		return -1;
	}
	return 0;
}

static int
op_card_sign(void *arg, uint64_t sid, const struct msg_card_sign_req *req)
{
	/* msg_compose copies into its queue and wipes it once sent */
	if (proc_send(core.card, MSG_CARD_SIGN_REQ, sid, req,
	    sizeof(*req)) == -1) {
		log_warn("card worker: sign request");
		return -1;
	}
	return 0;
}

static void
op_card_abort(void *arg, uint64_t sid)
{
	if (proc_send(core.card, MSG_CARD_ABORT, sid, NULL, 0) == -1)
		log_debug("card worker: abort not sent");
}

static void
op_card_reset(void *arg, const char *why)
{
	if (core.card != NULL && proc_pid(core.card) > 0)
		proc_fail(core.card, why);
}

static int
op_backend_status(void *arg, uint64_t sid)
{
	if (proc_send(core.backend, MSG_BACKEND_STATUS_REQ, sid, NULL,
	    0) == -1) {
		log_warn("backend worker: status request");
		return -1;
	}
	return 0;
}

static int
op_backend_open(void *arg, uint64_t sid)
{
	if (proc_send(core.backend, MSG_BACKEND_SESSION_REQ, sid, NULL,
	    0) == -1) {
		log_warn("backend worker: session request");
		return -1;
	}
	return 0;
}

static int
op_backend_auth(void *arg, uint64_t sid, const struct msg_backend_auth_req *req,
    const uint8_t *cert, size_t certlen)
{
	struct iovec iov[2];

	iov[0].iov_base = (void *)(uintptr_t)req;
	iov[0].iov_len = sizeof(*req);
	iov[1].iov_base = (void *)(uintptr_t)cert;
	iov[1].iov_len = certlen;
	if (proc_sendv(core.backend, MSG_BACKEND_AUTH_REQ, sid, iov, 2) == -1) {
		log_warn("backend worker: auth request");
		return -1;
	}
	return 0;
}

static int
op_backend_issue(void *arg, uint64_t sid,
    const struct msg_backend_issue_req *req, const char *options,
    size_t optlen)
{
	struct iovec iov[2];

	if (!proc_is_up(core.backend))
		return -1;
	if (core.tx == 0 || journaled("issuing", journal_issuing(core.journal,
	    core.tx)) == -1)
		return -1;
	iov[0].iov_base = (void *)(uintptr_t)req;
	iov[0].iov_len = sizeof(*req);
	iov[1].iov_base = (void *)(uintptr_t)options;
	iov[1].iov_len = optlen;
	if (proc_sendv(core.backend, MSG_BACKEND_ISSUE_REQ, sid, iov,
	    2) == -1) {
		log_warn("backend worker: issue request");
		return -1;
	}
	return 0;
}

static int
op_printer_ready(void *arg, char *reason, size_t len)
{
	if (core.printer == NULL || !proc_is_up(core.printer)) {
		snprintf(reason, len, "printer_worker_down");
		return 0;
	}
	if (!core.printer_known) {
		snprintf(reason, len, "printer_unknown");
		return 0;
	}
	if (!core.printer_ready)
		snprintf(reason, len, "%s", core.printer_reason);
	return core.printer_ready;
}

static void
paid_cb(evutil_socket_t fd, short what, void *arg)
{
	if (core.paid_sid != session_id(core.s))
		return;
	session_paid(core.s, core.paid_ok, core.paid_code);
}

static void
paid_later(uint64_t sid, int ok, const char *code)
{
	core.paid_sid = sid;
	core.paid_ok = ok;
	snprintf(core.paid_code, sizeof(core.paid_code), "%s", code);
	event_active(core.paid_ev, EV_TIMEOUT, 0);
}

/*
 * The transaction is journaled under its idempotency key before the
 * device takes anything; the take is journaled before anything is asked
 * of the center.  The coin box simulator answers at once; a real device
 * would sit in a worker and answer with a message.
 */
static int
op_pay(void *arg, uint64_t sid, const struct session_pay *p)
{
	struct journal_new n;
	enum journal_rc jr;
	enum payment_rc pr;
	struct payment_status ps;

	if (core.journal == NULL || core.pay == NULL)
		return -1;
	(void)clock_gettime(CLOCK_MONOTONIC, &core.confirmed);
	core.pay->ops->status(core.pay, &ps);
	if (!ps.ready) {
		log_warnx("payment device not ready: %s", ps.reason);
		return -1;
	}
	memset(&n, 0, sizeof(n));
	n.session = p->session;
	n.idem_key = p->idem_key;
	n.pay_ref = p->idem_key;
	n.doctype = p->document;
	n.center_sid = p->center_sid;
	n.options = p->options;
	n.copies = p->copies;
	n.fee_yen = p->fee_yen;
	core.tx = 0;
	if ((jr = journal_begin(core.journal, &n, &core.tx)) != JOURNAL_OK) {
		log_warnx("journal: cannot begin a transaction: %s (%s)",
		    journal_rc_name(jr), journal_errmsg(core.journal));
		core.tx = 0;
		return -1;
	}
	crash_point("created");
	pr = core.pay->ops->take(core.pay, p->fee_yen, p->idem_key);
	switch (pr) {
	case PAYMENT_OK:
		log_info("transaction %lld: %lld yen taken", (long long)core.tx,
		    p->fee_yen);
		if (journaled("paid", journal_paid(core.journal, core.tx,
		    p->fee_yen, p->idem_key)) == -1) {
			/* taken but not journaled: settlement asks the
			   device and refunds */
			paid_later(sid, 0, "internal");
			return 0;
		}
		paid_later(sid, 1, "");
		return 0;
	case PAYMENT_DEVICE_ERROR:
		/* the state is unknown: settlement asks the device */
		log_warnx("payment device error: %s",
		    core.pay->ops->errmsg(core.pay));
		paid_later(sid, 0, "device_error");
		return 0;
	default:
		(void)journaled("failed", journal_failed(core.journal, core.tx,
		    pr == PAYMENT_DECLINED ? "declined" : "not_paid"));
		paid_later(sid, 0, pr == PAYMENT_DECLINED ? "declined" :
		    "device_unavailable");
		return 0;
	}
}

/*
 * Print the verified document: the journal says "spooling" before the job
 * can exist (a crash after this finds the job by its name, the issuance
 * id).  The worker renders with this kiosk's id and the signed code.
 */
static int
op_print(void *arg, uint64_t sid, const struct session_print *p)
{
	struct msg_print_job_req req;
	struct iovec iov[2];

	if (core.printer == NULL || !proc_is_up(core.printer) ||
	    p->content_len == 0 || p->content_len > MSG_PRINT_CONTENT_MAX)
		return -1;
	memset(&req, 0, sizeof(req));
	if (msg_str_set(req.issuance_id, sizeof(req.issuance_id),
	    p->issuance_id) == -1 || msg_str_set(req.kiosk_id,
	    sizeof(req.kiosk_id), core.conf->kiosk_id) == -1 ||
	    msg_str_set(req.code, sizeof(req.code), p->code) == -1)
		return -1;
	req.copies = (uint32_t)p->copies;
	req.content_len = (uint32_t)p->content_len;
	if (core.tx == 0 || journaled("spooling",
	    journal_spooling(core.journal, core.tx)) == -1)
		return -1;
	iov[0].iov_base = &req;
	iov[0].iov_len = sizeof(req);
	iov[1].iov_base = (void *)(uintptr_t)p->content;
	iov[1].iov_len = p->content_len;
	if (proc_sendv(core.printer, MSG_PRINT_JOB_REQ, sid, iov, 2) == -1) {
		log_warn("printer worker: print request");
		return -1;
	}
	return 0;
}

/*
 * The session is done with its transaction.  Failed (or unknown) before
 * anything went to CUPS: recorded failed here; at spooling or spooled,
 * CUPS is asked first (settlement); not paid for sure: the device is
 * asked first.  Then settlement reports, voids and refunds.
 */
static void
op_settle(void *arg, uint64_t sid, const struct session_settle *st)
{
	struct journal_tx tx;
	int64_t id = core.tx;

	core.tx = 0;
	if (id == 0 || core.journal == NULL)
		return;
	if (journal_get(core.journal, id, &tx) != JOURNAL_OK) {
		log_warnx("journal: transaction %lld unreadable; it is "
		    "settled at the next start", (long long)id);
		return;
	}
	if (st->outcome != SESSION_PRINTED && !journal_has(&tx, JS_FAILED) &&
	    !journal_has(&tx, JS_PRINTED) && (tx.last == JS_PAID ||
	    tx.last == JS_ISSUING || tx.last == JS_ISSUED))
		(void)journaled("failed", journal_failed(core.journal, id,
		    st->reason != NULL && st->reason[0] != '\0' ? st->reason :
		    "aborted"));
	settle_add(core.settle, id);
}

static const struct session_ops core_ops = {
	.screen = op_screen,
	.timer = op_timer,
	.now = op_now,
	.defer = op_defer,
	.random = op_random,
	.card_ready = op_card_ready,
	.backend_ready = op_backend_ready,
	.card_read = op_card_read,
	.card_sign = op_card_sign,
	.card_abort = op_card_abort,
	.card_reset = op_card_reset,
	.backend_status = op_backend_status,
	.backend_open = op_backend_open,
	.backend_auth = op_backend_auth,
	.backend_issue = op_backend_issue,
	.printer_ready = op_printer_ready,
	.pay = op_pay,
	.print = op_print,
	.settle = op_settle
};

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	session_timeout(core.s);
}

static void
defer_cb(evutil_socket_t fd, short what, void *arg)
{
	session_deferred(core.s);
}

/* --- the UI ------------------------------------------------------------ */

static const struct ui_errtext {
	const char	*code;
	const char	*en;
	const char	*ja;
} ui_errtexts[] = {
	{ "not_allowed", "This is not possible on this screen.",
	    "この画面ではその操作はできません。" },
	{ "bad_command", "Unknown command.", "不明なコマンドです。" },
	{ "bad_field", "A field is missing, unknown or of the wrong type.",
	    "項目が不足しているか、不正です。" },
	{ "bad_document", "Unknown or not offered document type.",
	    "選択できない証明書です。" },
	{ "document_unavailable", "This document cannot be issued for you "
	    "here.", "この証明書はここでは交付できません。" },
	{ "bad_copies", "Invalid number of copies.", "部数が正しくありません。" },
	{ "bad_options", "Invalid options.", "選択内容が正しくありません。" },
	{ "no_choice", "Choose the document and its options first.",
	    "先に証明書と内容を選択してください。" },
	{ "pin_format", "The PIN is 4 digits.", "暗証番号は4桁の数字です。" },
	{ "confirm_last_try", "This is the last try before the PIN locks: "
	    "confirm it first.",
	    "次に間違えるとロックされます。確認のうえ入力してください。" },
	{ "pin_blocked", "The PIN is locked.", "暗証番号はロックされています。" },
	{ "internal", "Internal error.", "内部エラーです。" },
};

static void
ui_fail(struct ui_client *c, const char *cmd, const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(ui_errtexts) / sizeof(ui_errtexts[0]); i++)
		if (strcmp(ui_errtexts[i].code, code) == 0) {
			ui_error(c, cmd, code, ui_errtexts[i].en,
			    ui_errtexts[i].ja);
			return;
		}
	ui_error(c, cmd, code, "Refused.", "受け付けられませんでした。");
}

/* Every field of msg is "v", "cmd" or one of allowed (NULL-ended). */
static int
fields_ok(json_t *msg, const char *const *allowed)
{
	const char *k;
	json_t *v;
	size_t i;
	int ok;

	json_object_foreach(msg, k, v) {
		if (strcmp(k, "v") == 0 || strcmp(k, "cmd") == 0)
			continue;
		ok = 0;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				ok = 1;
		if (!ok)
			return 0;
	}
	return 1;
}

static void
ui_cmd_pin(struct ui_client *c, json_t *msg)
{
	static const char *const allowed[] = { "pin", "confirm_last_try",
	    NULL };
	json_t *pin = json_object_get(msg, "pin");
	json_t *conf = json_object_get(msg, "confirm_last_try");
	char *p;
	size_t len;

	if (!json_is_string(pin) || (conf != NULL && !json_is_boolean(conf)) ||
	    !fields_ok(msg, allowed)) {
		if (json_is_string(pin))
			secure_wipe((char *)(uintptr_t)json_string_value(pin),
			    json_string_length(pin));
		ui_fail(c, "pin", "bad_field");
		return;
	}
	/* the PIN is wiped in place, inside the parsed message */
	p = (char *)(uintptr_t)json_string_value(pin);
	len = json_string_length(pin);
	if (len > PIN_FIELD_MAX) {
		secure_wipe(p, len);
		ui_fail(c, "pin", "pin_format");
		return;
	}
	if (session_ui_pin(core.s, p, len, json_is_true(conf)) != SESSION_OK)
		ui_fail(c, "pin", session_ui_error(core.s));
}

static void
ui_cmd(struct ui_client *c, const char *cmd, json_t *msg, void *arg)
{
	static const char *const none[] = { NULL };
	static const char *const sel[] = { "document", NULL };
	static const char *const opt[] = { "document", "options", "copies",
	    NULL };
	json_t *doc, *options, *copies;
	enum session_rc rc;

	if (strcmp(cmd, "pin") == 0) {
		ui_cmd_pin(c, msg);
		return;
	}
	if (strcmp(cmd, "select") == 0) {
		doc = json_object_get(msg, "document");
		if (!json_is_string(doc) || !fields_ok(msg, sel)) {
			ui_fail(c, cmd, "bad_field");
			return;
		}
		rc = session_ui_select(core.s, json_string_value(doc));
	} else if (strcmp(cmd, "options") == 0) {
		doc = json_object_get(msg, "document");
		options = json_object_get(msg, "options");
		copies = json_object_get(msg, "copies");
		if (!json_is_string(doc) || (options != NULL &&
		    !json_is_object(options)) || (copies != NULL &&
		    !json_is_integer(copies)) || !fields_ok(msg, opt)) {
			ui_fail(c, cmd, "bad_field");
			return;
		}
		rc = session_ui_options(core.s, json_string_value(doc),
		    options, copies != NULL ? json_integer_value(copies) : 1);
	} else if (strcmp(cmd, "start") == 0 || strcmp(cmd, "confirm") == 0 ||
	    strcmp(cmd, "cancel") == 0 || strcmp(cmd, "done") == 0) {
		if (!fields_ok(msg, none)) {
			ui_fail(c, cmd, "bad_field");
			return;
		}
		if (strcmp(cmd, "start") == 0)
			rc = session_ui_start(core.s);
		else if (strcmp(cmd, "confirm") == 0)
			rc = session_ui_confirm(core.s);
		else if (strcmp(cmd, "cancel") == 0)
			rc = session_ui_cancel(core.s);
		else
			rc = session_ui_done(core.s);
	} else {
		ui_fail(c, NULL, "bad_command");
		return;
	}
	if (rc != SESSION_OK)
		ui_fail(c, cmd, session_ui_error(core.s));
}

/* --- the workers ------------------------------------------------------- */

/* A printer answer for a session that is no longer the current one. */
static int
stale_sid(uint64_t sid)
{
	if (sid != session_id(core.s)) {
		log_debug("printer answer for session %016llx dropped",
		    (unsigned long long)sid);
		return 1;
	}
	return 0;
}

/* A result for another (earlier) session: dropped. */
static int
stale(const struct msg *m)
{
	if (m->hdr.sid != session_id(core.s) || m->hdr.sid == 0) {
		log_debug("%s for session %016llx dropped (current %s)",
		    msg_type_name(m->hdr.type),
		    (unsigned long long)m->hdr.sid, session_name(core.s));
		return 1;
	}
	return 0;
}

static void
card_msg(struct proc *p, const struct msg *m, void *arg)
{
	struct msg_card_info info;
	struct msg_card_sign_result sr;
	struct msg_card_event ev;
	const uint8_t *cert;

	switch (m->hdr.type) {
	case MSG_CARD_INFO:
		if (m->len < sizeof(info)) {
			proc_fail(p, "short CARD_INFO");
			return;
		}
		memcpy(&info, m->data, sizeof(info));
		if (msg_get_tail(m, sizeof(info), info.cert_len, MSG_CERT_MAX,
		    &cert) == -1 || !msg_str_ok(info.reader,
		    sizeof(info.reader)) || !msg_str_ok(info.label,
		    sizeof(info.label))) {
			proc_fail(p, "malformed CARD_INFO");
			return;
		}
		if (!stale(m))
			session_card_info(core.s, &info, cert, info.cert_len);
		return;
	case MSG_CARD_SIGN_RESULT:
		if (msg_expect_len(m, sizeof(sr)) == -1) {
			proc_fail(p, "malformed CARD_SIGN_RESULT");
			return;
		}
		memcpy(&sr, m->data, sizeof(sr));
		if (sr.sig_len > sizeof(sr.sig)) {
			proc_fail(p, "CARD_SIGN_RESULT: bad signature length");
			return;
		}
		if (!stale(m))
			session_card_signed(core.s, &sr);
		secure_wipe(&sr, sizeof(sr));
		return;
	case MSG_CARD_EVENT:
		if (msg_expect_len(m, sizeof(ev)) == -1) {
			proc_fail(p, "malformed CARD_EVENT");
			return;
		}
		memcpy(&ev, m->data, sizeof(ev));
		if (!msg_str_ok(ev.reader, sizeof(ev.reader))) {
			proc_fail(p, "CARD_EVENT: unterminated reader");
			return;
		}
		session_card_event(core.s, &ev);
		return;
	case MSG_PONG:
		return;
	default:
		proc_fail(p, "unexpected message from the card worker");
		return;
	}
}

/* The center's answer to a result call, for settlement. */
static enum reconcile_center
report_answer(const struct msg_backend_report_result *rr)
{
	if (rr->status == MSG_BACKEND_OK)
		return rr->state == MSG_ISSUANCE_VOIDED ? RCC_VOIDED :
		    RCC_COMMITTED;
	if (rr->status != MSG_BACKEND_CENTER_ERROR ||
	    rr->error.http_status >= 500)
		return RCC_UNREACHABLE;
	if (strcmp(rr->error.code, "result_conflict") == 0)
		return RCC_CONFLICT;
	if (strcmp(rr->error.code, "not_found") == 0)
		return RCC_NOT_FOUND;
	return RCC_UNREACHABLE;		/* retried, with a backoff */
}

/*
 * The center's answer to a re-issue with the same key.  A key the center
 * has seen answers for itself; any other refusal (4xx but a conflict)
 * means it made no issuance for this key.
 */
static enum reconcile_center
reissue_answer(const struct msg_backend_issue_result *ir)
{
	if (ir->status == MSG_BACKEND_OK)
		return msg_str_ok(ir->issuance_id, sizeof(ir->issuance_id)) ?
		    RCC_ISSUED : RCC_UNREACHABLE;
	if (ir->status != MSG_BACKEND_CENTER_ERROR ||
	    ir->error.http_status >= 500 || ir->error.http_status == 429)
		return RCC_UNREACHABLE;
	if (strcmp(ir->error.code, "idempotency_conflict") == 0)
		return RCC_CONFLICT;
	if (strcmp(ir->error.code, "session_expired") == 0)
		return RCC_SESSION_EXPIRED;
	return RCC_NOT_FOUND;
}

/* --- settlement's requests ------------------------------------------- */

static int
st_report(void *arg, const char *issuance_id, int printed, int pages)
{
	struct msg_backend_report_req req;

	memset(&req, 0, sizeof(req));
	if (msg_str_set(req.issuance_id, sizeof(req.issuance_id),
	    issuance_id) == -1)
		return -1;
	req.outcome = printed ? MSG_PRINTED : MSG_PRINT_FAILED;
	req.pages = printed && pages > 0 ? (uint32_t)pages : 0;
	return proc_send(core.backend, MSG_BACKEND_REPORT_REQ, 0, &req,
	    sizeof(req));
}

static int
st_reissue(void *arg, const struct journal_tx *tx)
{
	struct msg_backend_issue_req req;
	struct iovec iov[2];
	size_t optlen = strlen(tx->options);

	memset(&req, 0, sizeof(req));
	if (msg_str_set(req.center_sid, sizeof(req.center_sid),
	    tx->center_sid) == -1 || msg_str_set(req.document,
	    sizeof(req.document), tx->doctype) == -1 ||
	    msg_str_set(req.idempotency_key, sizeof(req.idempotency_key),
	    tx->idem_key) == -1 || optlen > MSG_OPTIONS_MAX)
		return -1;
	req.copies = (uint32_t)tx->copies;
	req.options_len = (uint32_t)optlen;
	iov[0].iov_base = &req;
	iov[0].iov_len = sizeof(req);
	iov[1].iov_base = (void *)(uintptr_t)tx->options;
	iov[1].iov_len = optlen;
	return proc_sendv(core.backend, MSG_BACKEND_ISSUE_REQ, 0, iov, 2);
}

static void
st_changed(void *arg)
{
	int q, h;

	settle_counts(core.settle, &q, &h);
	log_debug("settlement: %d queued, %d held", q, h);
}

static void
st_recorded(void *arg, enum journal_step step)
{
	crash_point(journal_step_name(step));
}

static void
backend_msg(struct proc *p, const struct msg *m, void *arg)
{
	struct msg_backend_session_result so;
	struct msg_backend_auth_result ar;
	struct msg_backend_issue_result ir;
	struct msg_backend_report_result rr;
	struct msg_backend_status st;
	const uint8_t *tail;
	size_t tmax;

	switch (m->hdr.type) {
	case MSG_BACKEND_STATUS:
		if (msg_expect_len(m, sizeof(st)) == -1) {
			proc_fail(p, "malformed BACKEND_STATUS");
			return;
		}
		memcpy(&st, m->data, sizeof(st));
		if (!stale(m))
			session_backend_status(core.s, &st);
		return;
	case MSG_BACKEND_SESSION_RESULT:
		if (msg_expect_len(m, sizeof(so)) == -1) {
			proc_fail(p, "malformed BACKEND_SESSION_RESULT");
			return;
		}
		memcpy(&so, m->data, sizeof(so));
		if (so.challenge_len > sizeof(so.challenge)) {
			proc_fail(p, "BACKEND_SESSION_RESULT: challenge length");
			return;
		}
		if (!stale(m))
			session_backend_opened(core.s, &so);
		secure_wipe(&so, sizeof(so));
		return;
	case MSG_BACKEND_AUTH_RESULT:
		if (m->len < sizeof(ar)) {
			proc_fail(p, "short BACKEND_AUTH_RESULT");
			return;
		}
		memcpy(&ar, m->data, sizeof(ar));
		tmax = MSG_MAX_PAYLOAD - sizeof(ar);
		if (msg_get_tail(m, sizeof(ar), ar.json_len, tmax,
		    &tail) == -1) {
			proc_fail(p, "malformed BACKEND_AUTH_RESULT");
			return;
		}
		if (!stale(m))
			session_backend_authed(core.s, &ar,
			    (const char *)tail, ar.json_len);
		return;
	case MSG_BACKEND_ISSUE_RESULT:
		if (m->len < sizeof(ir)) {
			proc_fail(p, "short BACKEND_ISSUE_RESULT");
			return;
		}
		memcpy(&ir, m->data, sizeof(ir));
		tmax = MSG_MAX_PAYLOAD - sizeof(ir);
		if (ir.content_len > tmax || ir.sig_len > tmax ||
		    msg_get_tail(m, sizeof(ir), ir.status == MSG_BACKEND_OK ?
		    (size_t)ir.content_len + ir.sig_len : m->len - sizeof(ir),
		    tmax, &tail) == -1) {
			proc_fail(p, "malformed BACKEND_ISSUE_RESULT");
			return;
		}
		if (m->hdr.sid == 0) {		/* settlement's re-issue */
			settle_center_answer(core.settle, reissue_answer(&ir),
			    ir.issuance_id);
			return;
		}
		if (stale(m)) {
			if (ir.status == MSG_BACKEND_OK &&
			    msg_str_ok(ir.issuance_id, sizeof(ir.issuance_id)))
				log_warnx("issuance %s arrived after its "
				    "session ended: settlement voids it",
				    ir.issuance_id);
			return;
		}
		if (ir.status == MSG_BACKEND_OK && (!msg_str_ok(ir.issuance_id,
		    sizeof(ir.issuance_id)) || core.tx == 0 ||
		    journaled("issued", journal_issued(core.journal, core.tx,
		    ir.issuance_id)) == -1)) {
			/* not journaled: never printed (settlement voids it) */
			ir.status = MSG_BACKEND_INTERNAL;
			session_backend_issued(core.s, &ir, NULL, NULL, "", 0);
			return;
		}
		if (ir.status == MSG_BACKEND_OK)
			session_backend_issued(core.s, &ir, tail,
			    tail + ir.content_len, NULL, 0);
		else
			session_backend_issued(core.s, &ir, NULL, NULL,
			    (const char *)tail, m->len - sizeof(ir));
		return;
	case MSG_BACKEND_REPORT_RESULT:
		if (msg_expect_len(m, sizeof(rr)) == -1) {
			proc_fail(p, "malformed BACKEND_REPORT_RESULT");
			return;
		}
		memcpy(&rr, m->data, sizeof(rr));
		if (!msg_str_ok(rr.issuance_id, sizeof(rr.issuance_id)) ||
		    !msg_str_ok(rr.error.code, sizeof(rr.error.code))) {
			proc_fail(p, "BACKEND_REPORT_RESULT: bad strings");
			return;
		}
		if (rr.status == MSG_BACKEND_OK)
			log_info("issuance %s %s", rr.issuance_id,
			    rr.state == MSG_ISSUANCE_VOIDED ? "voided" :
			    "committed");
		else
			log_warnx("issuance %s: report failed (%s %s)",
			    rr.issuance_id, msg_backend_status_name(rr.status),
			    rr.error.code);
		if (m->hdr.sid == 0)
			settle_center_answer(core.settle, report_answer(&rr),
			    NULL);
		return;
	case MSG_PONG:
		return;
	default:
		proc_fail(p, "unexpected message from the backend worker");
		return;
	}
}

/* --- the printer worker ------------------------------------------------ */

/* A printer reason ("media-jam") as a journal/session code ("media_jam"). */
static void
reason_code(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < size; i++)
		out[i] = in[i] == '-' ? '_' : (in[i] >= 'A' && in[i] <= 'Z') ?
		    (char)(in[i] - 'A' + 'a') : in[i];
	out[i] = '\0';
	if (i == 0 || strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
	    i)
		snprintf(out, size, "print_error");
}

/* IPP job-state (RFC 8011 5.3.7) as settlement's fact. */
static enum reconcile_job
job_fact(const struct msg_print_job *j)
{
	if (j->status == MSG_PRINT_NOT_FOUND)
		return RCJ_UNKNOWN;
	if (j->status != MSG_PRINT_OK)
		return RCJ_CUPS_DOWN;
	switch (j->job_state) {
	case 3:
		return RCJ_PENDING;
	case 4:
		return RCJ_HELD;
	case 5:
	case 6:
		return RCJ_PROCESSING;
	case 7:
		return RCJ_CANCELED;
	case 8:
		return RCJ_ABORTED;
	case 9:
		/* CUPS may call a jammed job completed: the worker knows */
		return j->outcome == MSG_PRINT_FAILED ? RCJ_ABORTED :
		    RCJ_COMPLETED;
	default:
		return RCJ_CUPS_DOWN;
	}
}

static int
job_pages(const struct msg_print_job *j)
{
	int p = j->pages >= 0 ? j->pages : (int)j->pages_expected;

	return p < 0 ? 0 : p > JOURNAL_PAGES_MAX ? JOURNAL_PAGES_MAX : p;
}

/*
 * The job did not print.  Unless it may still print (then settlement asks
 * CUPS and the printer), nothing can print any more: journaled failed.
 */
static void
print_failed(const struct msg_print_job *j)
{
	char code[MSG_CODE_LEN];

	reason_code(j->reason, code, sizeof(code));
	if (!(j->flags & MSG_PRINT_O_MAY_STILL_PRINT) && core.tx != 0)
		(void)journaled("failed", journal_failed(core.journal, core.tx,
		    code));
	session_print_done(core.s, 0, 0, code);
}

static void
print_spooled(const struct msg_print_job *j, uint64_t sid)
{
	if (sid == 0 || stale_sid(sid))
		return;		/* settlement finds the job by its name */
	if (j->status == MSG_PRINT_OK && j->job_id > 0) {
		/* the figure tests/bench/print reads */
		log_info("issuance %s: job %d accepted by CUPS %.1f ms after "
		    "confirm", j->issuance_id, j->job_id,
		    ms_since(&core.confirmed));
		if (core.tx != 0 && journaled("spooled", journal_spooled(
		    core.journal, core.tx, j->job_id)) == 0)
			session_print_spooled(core.s, j->job_id);
		return;
	}
	log_warnx("print of %s refused: %s (%s)", j->issuance_id,
	    msg_print_status_name(j->status), j->reason);
	print_failed(j);
}

static void
print_done(const struct msg_print_job *j, uint64_t sid)
{
	if (sid == 0 || stale_sid(sid))
		return;
	if (j->outcome == MSG_PRINTED) {
		log_info("issuance %s printed: job %d, %d pages",
		    j->issuance_id, j->job_id, job_pages(j));
		if (core.tx != 0 && journaled("printed", journal_printed(
		    core.journal, core.tx, job_pages(j))) == 0)
			session_print_done(core.s, 1, job_pages(j), NULL);
		else
			/* printed but not journaled: settlement asks CUPS */
			session_worker_down(core.s, MSG_ROLE_PRINTER);
		return;
	}
	log_warnx("issuance %s not printed: job %d %s (%s)", j->issuance_id,
	    j->job_id, j->reason, j->reasons);
	print_failed(j);
}

static void
print_state(const struct msg_print_state *ps)
{
	char code[MSG_CODE_LEN];
	int was_known = core.printer_known, was = core.printer_ready;

	reason_code(ps->reason, code, sizeof(code));
	core.printer_known = 1;
	core.printer_ready = ps->status == MSG_PRINT_OK && ps->ready != 0;
	snprintf(core.printer_reason, sizeof(core.printer_reason), "%s",
	    core.printer_ready ? "" : code);
	if (was_known && was == core.printer_ready)
		return;
	if (core.printer_ready)
		log_info("printer ready%s%s", strcmp(ps->reason, "ok") != 0 ?
		    ": " : "", strcmp(ps->reason, "ok") != 0 ? ps->reason : "");
	else
		log_warnx("printer NOT ready: %s (%s): out of service",
		    ps->reason, ps->message_en);
	if (session_state(core.s) == SS_IDLE)
		session_refresh(core.s);
}

static void
printer_msg(struct proc *p, const struct msg *m, void *arg)
{
	struct msg_print_job j;
	struct msg_print_state ps;

	switch (m->hdr.type) {
	case MSG_PRINT_SPOOLED:
	case MSG_PRINT_PROGRESS:
	case MSG_PRINT_DONE:
	case MSG_PRINT_CANCEL_RESULT:
	case MSG_PRINT_QUERY_RESULT:
		if (msg_expect_len(m, sizeof(j)) == -1) {
			proc_fail(p, "malformed printer answer");
			return;
		}
		memcpy(&j, m->data, sizeof(j));
		if (!msg_str_ok(j.issuance_id, sizeof(j.issuance_id)) ||
		    !msg_str_ok(j.reason, sizeof(j.reason)) ||
		    !msg_str_ok(j.reasons, sizeof(j.reasons))) {
			proc_fail(p, "printer answer: bad strings");
			return;
		}
		break;
	case MSG_PRINT_STATE:
		if (msg_expect_len(m, sizeof(ps)) == -1) {
			proc_fail(p, "malformed PRINT_STATE");
			return;
		}
		memcpy(&ps, m->data, sizeof(ps));
		if (!msg_str_ok(ps.reason, sizeof(ps.reason)) ||
		    !msg_str_ok(ps.message_en, sizeof(ps.message_en))) {
			proc_fail(p, "PRINT_STATE: bad strings");
			return;
		}
		print_state(&ps);
		return;
	case MSG_PONG:
		return;
	default:
		proc_fail(p, "unexpected message from the printer worker");
		return;
	}
	switch (m->hdr.type) {
	case MSG_PRINT_SPOOLED:
		print_spooled(&j, m->hdr.sid);
		break;
	case MSG_PRINT_PROGRESS:
		log_info("issuance %s: job %d %s", j.issuance_id, j.job_id,
		    j.reasons);
		break;
	case MSG_PRINT_DONE:
		print_done(&j, m->hdr.sid);
		break;
	case MSG_PRINT_CANCEL_RESULT:
		if (m->hdr.sid == 0)
			settle_cancel_answer(core.settle, j.status ==
			    MSG_PRINT_OK ? RCX_SENT : RCX_FAILED);
		break;
	case MSG_PRINT_QUERY_RESULT:
		if (m->hdr.sid == 0)
			settle_job_answer(core.settle, job_fact(&j), j.job_id,
			    job_pages(&j));
		break;
	}
}

static int
st_job_query(void *arg, int64_t job_id)
{
	struct msg_print_query_req q;

	if (job_id <= 0 || job_id > INT32_MAX)
		return -1;
	memset(&q, 0, sizeof(q));
	q.job_id = (int32_t)job_id;
	return proc_send(core.printer, MSG_PRINT_QUERY_REQ, 0, &q, sizeof(q));
}

static int
st_job_find(void *arg, const char *name)
{
	struct msg_print_query_req q;

	memset(&q, 0, sizeof(q));
	if (msg_str_set(q.issuance_id, sizeof(q.issuance_id), name) == -1)
		return -1;
	return proc_send(core.printer, MSG_PRINT_QUERY_REQ, 0, &q, sizeof(q));
}

static int
st_job_cancel(void *arg, int64_t job_id)
{
	struct msg_print_cancel_req c;

	if (job_id <= 0 || job_id > INT32_MAX)
		return -1;
	memset(&c, 0, sizeof(c));
	c.job_id = (int32_t)job_id;
	return proc_send(core.printer, MSG_PRINT_CANCEL_REQ, 0, &c,
	    sizeof(c));
}

static void
worker_up(struct proc *p, void *arg)
{
	log_info("worker %s[%ld] ready", proc_name(p), (long)proc_pid(p));
	/* what waited for this worker is tried now */
	if (core.settle != NULL && p != core.card)
		settle_poke(core.settle);
}

static void
worker_down(struct proc *p, const struct proc_exit *ex, void *arg)
{
	if (core.stopping)
		return;
	if (ex->recycled)
		log_info("worker %s ended (%s) for the new configuration",
		    proc_name(p), ex->desc);
	else
		log_warnx("worker %s ended (%s)%s", proc_name(p), ex->desc,
		    session_id(core.s) != 0 ?
		    ": failing the session in flight" : "");
	if (p == core.printer) {
		core.printer_known = 0;
		settle_printer_down(core.settle);
		session_worker_down(core.s, MSG_ROLE_PRINTER);
		if (session_state(core.s) == SS_IDLE)
			session_refresh(core.s);
	} else if (p == core.backend) {
		settle_backend_down(core.settle);
		session_worker_down(core.s, MSG_ROLE_BACKEND);
	} else
		session_worker_down(core.s, MSG_ROLE_CARD);
}

static const struct proc_hooks card_hooks = { worker_up, card_msg,
    worker_down };
static const struct proc_hooks backend_hooks = { worker_up, backend_msg,
    worker_down };
static const struct proc_hooks printer_hooks = { worker_up, printer_msg,
    worker_down };

/* --- signals ------------------------------------------------------------ */

static void
stopped(void *arg)
{
	event_base_loopexit(core.base, NULL);
}

static void
on_term(int sig, void *arg)
{
	struct timeval grace = { 2, 0 };

	if (core.stopping)
		return;
	core.stopping = 1;
	log_info("shutting down");
	evtimer_del(core.timer);
	ui_free(core.ui);
	core.ui = NULL;
	proc_shutdown(&grace, stopped, NULL);
}

/*
 * After a reload the workers are stopped in order and started again with
 * the new configuration, once no resident's session is in flight: a card,
 * a center request or a print job of a transaction never moves to another
 * configuration half-way.  Settlement tolerates a worker's end (it asks
 * again later).  Tried again every second until then.
 */
static void
reload_workers(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = { 1, 0 };

	if (!core.reload_pending || core.stopping)
		return;
	if (session_id(core.s) != 0) {
		if (evtimer_add(core.reload_ev, &tv) == -1)
			log_warnx("cannot arm the reload timer");
		return;
	}
	core.reload_pending = 0;
	log_info("restarting the workers with the new configuration");
	proc_recycle(core.card);
	proc_recycle(core.backend);
	proc_recycle(core.printer);
}

/* Reload: a new configuration only when it is valid; the socket path
   applies at the next start, the workers' settings once they are idle. */
static void
on_hup(void *arg)
{
	struct kiosk_conf *nc;
	struct docverify_key *nk;
	char err[4096], kerr[256];

	if (config_load(core.conf_path, &nc, err, sizeof(err)) == -1) {
		log_warnx("reload refused, configuration kept:\n%s", err);
		return;
	}
	if ((nk = docverify_key_load(nc->center.document_key, kerr,
	    sizeof(kerr))) == NULL) {
		log_warnx("reload refused: document key: %s", kerr);
		config_free(nc);
		return;
	}
	if (strcmp(nc->ui_socket.path, core.conf->ui_socket.path) != 0)
		log_warnx("reload: the UI socket moves at the next start");
	session_set_conf(core.s, nc);
	session_set_dockey(core.s, nk);
	proc_set_arg(core.card, nc);
	proc_set_arg(core.backend, nc);
	proc_set_arg(core.printer, nc);
	config_free(core.conf);
	docverify_key_free(core.dockey);
	core.conf = nc;
	core.dockey = nk;
	log_info("configuration reloaded");
	core.reload_pending = 1;
	reload_workers(-1, 0, NULL);
}

/* --- run ----------------------------------------------------------------- */

static const struct settle_ops settle_ops = {
	.report = st_report,
	.reissue = st_reissue,
	.job_query = st_job_query,
	.job_find = st_job_find,
	.job_cancel = st_job_cancel,
	.changed = st_changed,
	.recorded = st_recorded
};

/* The journal (owned: one kioskd per file), the payment device and the
   settlement of what a crash left unfinished. */
static int
open_money(const struct kiosk_conf *conf)
{
	char err[256];
	enum journal_rc jr;

	core.crash_after = getenv("KIOSKD_CRASH_AFTER");
	if ((jr = journal_open(conf->journal, JOURNAL_CREATE | JOURNAL_OWNER,
	    &core.journal, err, sizeof(err))) != JOURNAL_OK) {
		log_warnx("journal %s: %s", conf->journal, err);
		return -1;
	}
	if ((core.pay = payment_coinbox_open(conf->payment, err,
	    sizeof(err))) == NULL) {
		log_warnx("payment device: %s", err);
		return -1;
	}
	core.paid_ev = event_new(core.base, -1, 0, paid_cb, NULL);
	core.settle = settle_new(core.base, core.journal, core.pay,
	    &settle_ops, NULL);
	if (core.paid_ev == NULL || core.settle == NULL) {
		log_warnx("out of memory");
		return -1;
	}
	return 0;
}

int
core_run(struct kiosk_conf *conf, const char *conf_path)
{
	char err[256];
	json_t *screen;
	int rc = 1;

	memset(&core, 0, sizeof(core));
	core.conf = conf;
	snprintf(core.conf_path, sizeof(core.conf_path), "%s", conf_path);
	if ((core.dockey = docverify_key_load(conf->center.document_key, err,
	    sizeof(err))) == NULL) {
		log_warnx("document key %s: %s", conf->center.document_key,
		    err);
		return 1;
	}
	if ((core.base = event_base_new()) == NULL) {
		log_warnx("event_base_new failed");
		goto out;
	}
	if (proc_init(core.base) == -1 ||
	    proc_catch_signals(on_term, on_hup, NULL) == -1) {
		log_warn("signals");
		goto out;
	}
	core.timer = evtimer_new(core.base, timer_cb, NULL);
	core.reload_ev = evtimer_new(core.base, reload_workers, NULL);
	core.defer = event_new(core.base, -1, 0, defer_cb, NULL);
	if (core.timer == NULL || core.defer == NULL ||
	    core.reload_ev == NULL) {
		log_warnx("out of memory");
		goto out;
	}
	if ((core.s = session_new(conf, core.dockey, &core_ops, NULL)) ==
	    NULL) {
		log_warn("session");
		goto out;
	}
	if (open_money(conf) == -1)
		goto out;
	/* the workers first: they must not inherit the UI socket */
	core.card = proc_spawn("card", MSG_ROLE_CARD, card_worker_main, conf,
	    &card_hooks, NULL);
	core.backend = proc_spawn("backend", MSG_ROLE_BACKEND,
	    backend_worker_main, conf, &backend_hooks, NULL);
	core.printer = proc_spawn("printer", MSG_ROLE_PRINTER,
	    printer_worker_main, conf, &printer_hooks, NULL);
	if (core.card == NULL || core.backend == NULL || core.printer == NULL) {
		log_warn("cannot start the workers");
		goto out;
	}
	if ((core.ui = ui_new(core.base, &conf->ui_socket, conf->kiosk_id,
	    conf->store_name, ui_cmd, NULL)) == NULL)
		goto out_stop;
	if ((screen = session_screen(core.s)) != NULL) {
		ui_screen(core.ui, screen);
		json_decref(screen);
	}
	/* what a crash left unfinished: settled first, whatever comes */
	if (settle_recover(core.settle) > 0)
		log_warnx("unfinished transactions found: settling them");
	log_info("kioskd %s ready", conf->kiosk_id);
	if (event_base_dispatch(core.base) == -1)
		log_warnx("event loop failed");
	else
		rc = 0;
	goto out;
out_stop:
	on_term(0, NULL);
	(void)event_base_dispatch(core.base);
out:
	ui_free(core.ui);
	session_free(core.s);
	settle_free(core.settle);
	if (core.pay != NULL)
		core.pay->ops->close(core.pay);
	journal_close(core.journal);
	if (core.paid_ev != NULL)
		event_free(core.paid_ev);
	if (core.timer != NULL)
		event_free(core.timer);
	if (core.defer != NULL)
		event_free(core.defer);
	if (core.reload_ev != NULL)
		event_free(core.reload_ev);
	docverify_key_free(core.dockey);
	config_free(core.conf);
	/* the base stays: proc.c keeps its signal events on it */
	return rc;
}
