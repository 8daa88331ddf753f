/*
 * Printer readiness (printer_state.h): printer-state, printer-state-reasons,
 * marker levels / printer-supply and media-ready, from the printer and
 * from its CUPS queue, folded into flags and one stable reason code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cups/cups.h>

#include "spool_ipp.h"
#include "util.h"

/* Reason codes by precedence (the first flag set names the state). */
static const struct {
	uint32_t	 flag;
	const char	*code;
	const char	*en;
	const char	*ja;
} conds[] = {
	{ PSTATE_F_OFFLINE, "offline",
	  "The printer is not responding. Check its power and cable.",
	  "プリンターが応答しません。電源とケーブルを確認してください。" },
	{ PSTATE_F_DOOR_OPEN, "door-open",
	  "A printer cover is open. Close it.",
	  "プリンターのカバーが開いています。閉じてください。" },
	{ PSTATE_F_MEDIA_JAM, "media-jam",
	  "Paper jam. Remove the jammed paper.",
	  "紙詰まりです。詰まった用紙を取り除いてください。" },
	{ PSTATE_F_MEDIA_EMPTY, "media-empty",
	  "Out of paper. Load A4 paper.",
	  "用紙切れです。A4用紙を補充してください。" },
	{ PSTATE_F_TONER_EMPTY, "toner-empty",
	  "Out of toner. Replace the toner cartridge.",
	  "トナー切れです。トナーカートリッジを交換してください。" },
	{ PSTATE_F_STOPPED, "stopped",
	  "The printer has stopped with an error.",
	  "プリンターがエラーで停止しています。" },
	{ PSTATE_F_QUEUE_STOPPED, "queue-stopped",
	  "The print queue is stopped or not accepting jobs.",
	  "印刷キューが停止しているか、受付を停止しています。" },
	{ PSTATE_F_MEDIA_MISSING, "media-missing",
	  "No A4 paper is loaded.",
	  "A4用紙がセットされていません。" },
	{ PSTATE_F_MEDIA_LOW, "media-low",
	  "Paper is running low. Load A4 paper soon.",
	  "用紙が残り少なくなっています。A4用紙を補充してください。" },
	{ PSTATE_F_TONER_LOW, "toner-low",
	  "Toner is running low. Prepare a replacement.",
	  "トナーが残り少なくなっています。交換用を準備してください。" },
	{ PSTATE_F_OTHER_WARNING, "warning",
	  "The printer reports a warning.",
	  "プリンターが警告を出しています。" },
};
#define NCONDS	(sizeof(conds) / sizeof(conds[0]))

/* printer-state-reasons keyword (suffix stripped) -> flag. */
static const struct {
	const char	*kw;
	uint32_t	 flag;
} reason_map[] = {
	{ "offline-report", PSTATE_F_OFFLINE },	/* whole keyword */
	{ "offline", PSTATE_F_OFFLINE },
	{ "shutdown", PSTATE_F_OFFLINE },
	{ "connecting-to-device", PSTATE_F_OFFLINE },
	{ "door-open", PSTATE_F_DOOR_OPEN },
	{ "cover-open", PSTATE_F_DOOR_OPEN },
	{ "interlock-open", PSTATE_F_DOOR_OPEN },
	{ "media-jam", PSTATE_F_MEDIA_JAM },
	{ "input-tray-missing", PSTATE_F_MEDIA_EMPTY },
	{ "media-empty", PSTATE_F_MEDIA_EMPTY },
	{ "media-needed", PSTATE_F_MEDIA_EMPTY },
	{ "toner-empty", PSTATE_F_TONER_EMPTY },
	{ "marker-supply-empty", PSTATE_F_TONER_EMPTY },
	{ "marker-waste-full", PSTATE_F_TONER_EMPTY },
	{ "fuser-over-temp", PSTATE_F_STOPPED },
	{ "fuser-under-temp", PSTATE_F_STOPPED },
	{ "spool-area-full", PSTATE_F_STOPPED },
	{ "media-low", PSTATE_F_MEDIA_LOW },
	{ "toner-low", PSTATE_F_TONER_LOW },
	{ "marker-supply-low", PSTATE_F_TONER_LOW },
	{ "marker-waste-almost-full", PSTATE_F_OTHER_WARNING },
	{ "paused", PSTATE_F_QUEUE_STOPPED },
	{ "moving-to-paused", PSTATE_F_QUEUE_STOPPED },
};
#define NREASONS	(sizeof(reason_map) / sizeof(reason_map[0]))

/* Reasons that say nothing about readiness. */
static const char *benign[] = {
	"none", "other", "cups-waiting-for-job-completed",
	"cups-insecure-filter", "cups-missing-filter", "identify-printer-requested",
	"processing-to-stop-point", "deactivated", "developer-low",
	"opc-near-eol", "cups-remote-pending", "cups-remote-pending-held",
	"cups-remote-processing", "cups-remote-stopped", "cups-remote-canceled",
	"cups-remote-aborted", "cups-remote-completed"
};

void
printer_state_init(struct printer_state *st)
{
	memset(st, 0, sizeof(*st));
	st->toner_percent = -1;
	(void)snprintf(st->reason, sizeof(st->reason), "ok");
}

static void
append(char *dst, size_t size, const char *s)
{
	size_t n = strlen(dst), k = strlen(s);

	if (k == 0 || n + (n > 0) + k + 1 > size)
		return;
	if (n > 0)
		dst[n++] = ',';
	memcpy(dst + n, s, k + 1);
}

/* "media-empty-warning" -> "media-empty", *sev = "warning"; no suffix
   means error (RFC 8011 5.4.12). */
static void
split_reason(const char *kw, char *base, size_t size, const char **sev)
{
	static const char *sfx[] = { "-report", "-warning", "-error" };
	size_t n = strlen(kw), i, k;

	*sev = "error";
	(void)snprintf(base, size, "%s", kw);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		k = strlen(sfx[i]);
		if (n > k && strcmp(kw + n - k, sfx[i]) == 0) {
			if (n - k < size)
				base[n - k] = '\0';
			*sev = sfx[i] + 1;
			return;
		}
	}
}

static void
take_reason(struct printer_state *st, const char *kw)
{
	char base[128];
	const char *sev;
	size_t i;

	if (strcmp(kw, "none") == 0)
		return;
	if (!spool_reasons_have(st->reasons, kw))
		append(st->reasons, sizeof(st->reasons), kw);
	split_reason(kw, base, sizeof(base), &sev);
	for (i = 0; i < NREASONS; i++)
		if (strcmp(base, reason_map[i].kw) == 0 ||
		    strcmp(kw, reason_map[i].kw) == 0) {
			st->flags |= reason_map[i].flag;
			return;
		}
	for (i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
		if (strcmp(base, benign[i]) == 0)
			return;
	/* Unknown: an error stops us (be safe), a warning is shown. */
	if (strcmp(sev, "error") == 0)
		st->flags |= PSTATE_F_STOPPED;
	else if (strcmp(sev, "warning") == 0)
		st->flags |= PSTATE_F_OTHER_WARNING;
}

/* One "key=value;" field of a printer-supply octetString. */
static int
supply_field(const char *s, size_t len, const char *key, char *out,
    size_t outlen)
{
	size_t klen = strlen(key), i = 0, j;

	while (i < len) {
		j = i;
		while (j < len && s[j] != ';')
			j++;
		if (j - i > klen && strncmp(s + i, key, klen) == 0 &&
		    s[i + klen] == '=') {
			if (j - i - klen - 1 >= outlen)
				return -1;
			memcpy(out, s + i + klen + 1, j - i - klen - 1);
			out[j - i - klen - 1] = '\0';
			return 0;
		}
		i = j + 1;
	}
	return -1;
}

static void
take_level(struct printer_state *st, const char *type, int level, int max)
{
	int pct;

	if (strcmp(type, "toner") != 0 && strcmp(type, "ink") != 0 &&
	    strcmp(type, "tonerCartridge") != 0 &&
	    strcmp(type, "inkCartridge") != 0)
		return;
	if (level < 0 || max <= 0)
		return;		/* unknown, or "some left" (-3) */
	pct = level >= max ? 100 : level * 100 / max;
	if (st->toner_percent < 0 || pct < st->toner_percent)
		st->toner_percent = pct;
}

static void
take_supplies(ipp_t *resp, struct printer_state *st)
{
	ipp_attribute_t *a, *lv, *ty;
	char type[64], level[16], maxc[16], buf[512];
	const void *data;
	const char *t, *errstr;
	int i, len, l, m;

	/* CUPS queues: marker-levels with marker-types (percent) */
	lv = ippFindAttribute(resp, "marker-levels", IPP_TAG_INTEGER);
	ty = ippFindAttribute(resp, "marker-types", IPP_TAG_KEYWORD);
	if (lv != NULL && ty != NULL)
		for (i = 0; i < ippGetCount(lv) && i < ippGetCount(ty); i++)
			if ((t = ippGetString(ty, i, NULL)) != NULL)
				take_level(st, t, ippGetInteger(lv, i), 100);
	/* printers: printer-supply "type=toner;maxcapacity=100;level=75;" */
	a = ippFindAttribute(resp, "printer-supply", IPP_TAG_STRING);
	for (i = 0; a != NULL && i < ippGetCount(a); i++) {
		if ((data = ippGetOctetString(a, i, &len)) == NULL || len <= 0 ||
		    (size_t)len >= sizeof(buf))
			continue;
		memcpy(buf, data, (size_t)len);
		buf[len] = '\0';
		if (supply_field(buf, (size_t)len, "type", type,
		    sizeof(type)) == -1 ||
		    supply_field(buf, (size_t)len, "level", level,
		    sizeof(level)) == -1)
			continue;
		if (supply_field(buf, (size_t)len, "maxcapacity", maxc,
		    sizeof(maxc)) == -1)
			(void)snprintf(maxc, sizeof(maxc), "100");
		l = (int)parse_num(level, -3, 1000000, &errstr);
		if (errstr != NULL)
			continue;
		m = (int)parse_num(maxc, -2, 1000000, &errstr);
		if (errstr != NULL)
			continue;
		take_level(st, type, l, m);
	}
}

void
printer_state_parse(ipp_t *resp, enum pstate_source src,
    const char *want_media, struct printer_state *st)
{
	ipp_attribute_t *a;
	const char *s;
	char base[128];
	const char *sev;
	int i, state, have_media = 0, queue = src != PSTATE_SRC_PRINTER;

	if ((a = ippFindAttribute(resp, "printer-state", IPP_TAG_ENUM)) !=
	    NULL) {
		state = ippGetInteger(a, 0);
		/* the printer's own state wins over its queue's */
		if (!queue || st->printer_state == 0)
			st->printer_state = state;
		if (state == IPP_PSTATE_STOPPED)
			st->flags |= queue ? PSTATE_F_QUEUE_STOPPED :
			    PSTATE_F_STOPPED;
	}
	if ((a = ippFindAttribute(resp, "printer-state-reasons",
	    IPP_TAG_KEYWORD)) != NULL)
		for (i = 0; i < ippGetCount(a); i++) {
			if ((s = ippGetString(a, i, NULL)) == NULL)
				continue;
			split_reason(s, base, sizeof(base), &sev);
			if (src == PSTATE_SRC_QUEUE_OWN &&
			    strcmp(base, "paused") != 0 &&
			    strcmp(base, "moving-to-paused") != 0)
				continue;
			take_reason(st, s);
		}
	if (queue && (a = ippFindAttribute(resp, "printer-is-accepting-jobs",
	    IPP_TAG_BOOLEAN)) != NULL && !ippGetBoolean(a, 0))
		st->flags |= PSTATE_F_QUEUE_STOPPED;
	if (src != PSTATE_SRC_QUEUE_OWN)
		take_supplies(resp, st);
	if (!queue && (a = ippFindAttribute(resp, "media-ready",
	    IPP_TAG_ZERO)) != NULL) {
		st->media_ready[0] = '\0';
		for (i = 0; i < ippGetCount(a); i++) {
			if ((s = ippGetString(a, i, NULL)) == NULL)
				continue;
			if (!spool_reasons_have(st->media_ready, s))
				append(st->media_ready,
				    sizeof(st->media_ready), s);
			if (want_media != NULL && strcmp(s, want_media) == 0)
				have_media = 1;
		}
		/* an empty tray drops out of media-ready: that is
		   media-empty, already flagged; else the wrong size */
		if (want_media != NULL && want_media[0] != '\0' &&
		    !have_media && !(st->flags & PSTATE_F_MEDIA_EMPTY))
			st->flags |= PSTATE_F_MEDIA_MISSING;
	}
}

void
printer_state_finish(struct printer_state *st)
{
	size_t i;

	st->ready = (st->flags & PSTATE_F_BLOCKING) == 0;
	for (i = 0; i < NCONDS; i++)
		if (st->flags & conds[i].flag) {
			(void)snprintf(st->reason, sizeof(st->reason), "%s",
			    conds[i].code);
			return;
		}
	(void)snprintf(st->reason, sizeof(st->reason), "ok");
}

const char *
printer_state_message(const char *reason, const char *lang)
{
	int ja = lang != NULL && strncmp(lang, "ja", 2) == 0;
	size_t i;

	if (reason == NULL || strcmp(reason, "ok") == 0)
		return ja ? "印刷できます。" : "Ready to print.";
	for (i = 0; i < NCONDS; i++)
		if (strcmp(reason, conds[i].code) == 0)
			return ja ? conds[i].ja : conds[i].en;
	return ja ? "プリンターの状態が不明です。" :
	    "The printer's state is unknown.";
}

int
printer_state_changed(const struct printer_state *a,
    const struct printer_state *b)
{
	return a->ready != b->ready || a->flags != b->flags ||
	    a->printer_state != b->printer_state ||
	    strcmp(a->reason, b->reason) != 0 ||
	    strcmp(a->reasons, b->reasons) != 0;
}

static ipp_t *
get_attrs(http_t *http, const char *uri, const char *resource,
    enum spool_err *e, char *err, size_t errlen)
{
	static const char *want[] = {
		"printer-state", "printer-state-reasons",
		"printer-is-accepting-jobs", "marker-levels", "marker-names",
		"marker-types", "printer-supply", "media-ready", "device-uri"
	};
	ipp_t *req;

	if ((req = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES)) == NULL) {
		*e = SPOOL_E_NOMEM;
		return NULL;
	}
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL,
	    uri);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME,
	    "requesting-user-name", NULL, cupsUser());
	ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD,
	    "requested-attributes", (int)(sizeof(want) / sizeof(want[0])),
	    NULL, want);
	return spool_http_do(http, req, resource, e, err, errlen);
}

static void
offline(struct printer_state *st, const char *what, const char *why)
{
	size_t n;

	st->flags |= PSTATE_F_OFFLINE;
	if (st->detail[0] != '\0')
		return;
	/* "what: why", cut to fit */
	n = strlen(what);
	if (n + 2 >= sizeof(st->detail))
		return;
	memcpy(st->detail, what, n);
	memcpy(st->detail + n, ": ", 2);
	n += 2;
	st->detail[n] = '\0';
	(void)strncat(st->detail + n, why, sizeof(st->detail) - n - 1);
}

void
printer_state_query(const struct printer_target *t, struct printer_state *st)
{
	http_t *http;
	ipp_t *resp;
	ipp_attribute_t *a;
	enum spool_err e;
	char uri[HTTP_MAX_URI], dev[HTTP_MAX_URI], resource[HTTP_MAX_URI];
	char err[256];
	const char *q = t->spool.queue, *s;
	int timeout = t->timeout_ms > 0 ? t->timeout_ms : t->spool.timeout_ms;
	ipp_t *qresp = NULL;
	enum pstate_source src = PSTATE_SRC_QUEUE;

	printer_state_init(st);
	dev[0] = '\0';
	if (t->spool.queue[0] != '\0' || t->uri[0] == '\0') {
		http = spool_http_server(t->spool.server, timeout, &e, err,
		    sizeof(err));
		if (http == NULL) {
			offline(st, "cupsd", err);
			goto printer;
		}
		if (q[0] == '\0' && (q = cupsGetDefault2(http)) == NULL) {
			httpClose(http);
			st->flags |= PSTATE_F_QUEUE_STOPPED;
			(void)snprintf(st->detail, sizeof(st->detail),
			    "no default queue in CUPS");
			goto printer;
		}
		(void)httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof(uri),
		    "ipp", NULL, "localhost", 0, "/printers/%s", q);
		resp = get_attrs(http, uri, "/", &e, err, sizeof(err));
		httpClose(http);
		if (resp == NULL) {
			if (e == SPOOL_E_NOT_FOUND) {
				st->flags |= PSTATE_F_QUEUE_STOPPED;
				(void)snprintf(st->detail, sizeof(st->detail),
				    "no queue %s", q);
			} else
				offline(st, "cupsd", err);
			goto printer;
		}
		a = ippFindAttribute(resp, "device-uri", IPP_TAG_URI);
		if (a != NULL && (s = ippGetString(a, 0, NULL)) != NULL &&
		    strlen(s) < sizeof(dev))
			memcpy(dev, s, strlen(s) + 1);
		qresp = resp;
	}
printer:
	s = t->uri[0] != '\0' ? t->uri : dev;
	if (s[0] != '\0' && (strncmp(s, "ipp://", 6) == 0 ||
	    strncmp(s, "ipps://", 7) == 0)) {
		http = spool_http_uri(s, timeout, resource, sizeof(resource),
		    &e, err, sizeof(err));
		resp = NULL;
		if (http != NULL) {
			resp = get_attrs(http, s, resource, &e, err,
			    sizeof(err));
			httpClose(http);
		}
		if (resp == NULL)
			offline(st, "printer", err);
		else {
			printer_state_parse(resp, PSTATE_SRC_PRINTER,
			    t->want_media, st);
			ippDelete(resp);
			src = PSTATE_SRC_QUEUE_OWN;
		}
	}
	/* no IPP printer to ask, or it did not answer: the queue's view */
	if (qresp != NULL) {
		printer_state_parse(qresp, src, t->want_media, st);
		ippDelete(qresp);
	}
	printer_state_finish(st);
}
