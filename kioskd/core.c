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
#include "log.h"
#include "msg.h"
#include "proc.h"
#include "session.h"
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
	struct event		*timer;
	struct event		*defer;
	int			 stopping;
};

static struct core core;

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

static void
op_backend_report(void *arg, uint64_t sid,
    const struct msg_backend_report_req *req)
{
	if (proc_send(core.backend, MSG_BACKEND_REPORT_REQ, sid, req,
	    sizeof(*req)) == -1)
		log_warnx("issuance %s: the void could not be sent; the "
		    "center keeps it unreported", req->issuance_id);
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
	.backend_report = op_backend_report
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
		if (stale(m)) {
			if (ir.status == MSG_BACKEND_OK &&
			    msg_str_ok(ir.issuance_id, sizeof(ir.issuance_id)))
				log_warnx("issuance %s arrived after its "
				    "session ended: left unreported",
				    ir.issuance_id);
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
		return;
	case MSG_PONG:
		return;
	default:
		proc_fail(p, "unexpected message from the backend worker");
		return;
	}
}

static void
worker_up(struct proc *p, void *arg)
{
	log_info("worker %s[%ld] ready", proc_name(p), (long)proc_pid(p));
}

static void
worker_down(struct proc *p, const struct proc_exit *ex, void *arg)
{
	if (core.stopping)
		return;
	log_warnx("worker %s ended (%s)%s", proc_name(p), ex->desc,
	    session_id(core.s) != 0 ? ": failing the session in flight" : "");
	session_worker_down(core.s, p == core.card ? MSG_ROLE_CARD :
	    MSG_ROLE_BACKEND);
}

static const struct proc_hooks card_hooks = { worker_up, card_msg,
    worker_down };
static const struct proc_hooks backend_hooks = { worker_up, backend_msg,
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

/* Reload: a new configuration only when it is valid; the socket path and
   the workers' settings apply at the next start of each. */
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
	config_free(core.conf);
	docverify_key_free(core.dockey);
	core.conf = nc;
	core.dockey = nk;
	log_info("configuration reloaded; workers take it when restarted");
}

/* --- run ----------------------------------------------------------------- */

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
	core.defer = event_new(core.base, -1, 0, defer_cb, NULL);
	if (core.timer == NULL || core.defer == NULL) {
		log_warnx("out of memory");
		goto out;
	}
	if ((core.s = session_new(conf, core.dockey, &core_ops, NULL)) ==
	    NULL) {
		log_warn("session");
		goto out;
	}
	/* the workers first: they must not inherit the UI socket */
	core.card = proc_spawn("card", MSG_ROLE_CARD, card_worker_main, conf,
	    &card_hooks, NULL);
	core.backend = proc_spawn("backend", MSG_ROLE_BACKEND,
	    backend_worker_main, conf, &backend_hooks, NULL);
	if (core.card == NULL || core.backend == NULL) {
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
	if (core.timer != NULL)
		event_free(core.timer);
	if (core.defer != NULL)
		event_free(core.defer);
	docverify_key_free(core.dockey);
	config_free(core.conf);
	/* the base stays: proc.c keeps its signal events on it */
	return rc;
}
