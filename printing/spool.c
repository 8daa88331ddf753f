/*
 * CUPS spooler client (spool.h): one connection with a deadline per call,
 * Print-Job with the document in the same request, Get-Job-Attributes,
 * Cancel-Job, Get-Jobs filtered by job-name.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cups/cups.h>

#include "spool_ipp.h"

#define SPOOL_TIMEOUT_DEFAULT	5000	/* ms */

static const char *job_attrs[] = {
	"job-id", "job-name", "job-state", "job-state-reasons",
	"job-printer-state-reasons", "job-printer-state-message",
	"job-impressions-completed", "job-media-sheets-completed",
	"time-at-creation", "time-at-completed"
};
#define NJOB_ATTRS	((int)(sizeof(job_attrs) / sizeof(job_attrs[0])))

const char *
spool_strerror(enum spool_err e)
{
	static const char *msgs[SPOOL_E__MAX] = {
		[SPOOL_OK] = "ok",
		[SPOOL_E_CONNECT] = "CUPS unreachable",
		[SPOOL_E_TIMEOUT] = "CUPS did not answer in time",
		[SPOOL_E_NO_QUEUE] = "no such queue",
		[SPOOL_E_NOT_ACCEPTING] = "the queue is not accepting jobs",
		[SPOOL_E_FORMAT] = "the queue does not accept PDF",
		[SPOOL_E_REFUSED] = "CUPS refused the request",
		[SPOOL_E_NOT_FOUND] = "unknown job",
		[SPOOL_E_NOT_POSSIBLE] = "not possible in the job's state",
		[SPOOL_E_PROTO] = "malformed answer from CUPS",
		[SPOOL_E_INVAL] = "invalid argument",
		[SPOOL_E_NOMEM] = "out of memory",
	};

	if ((unsigned int)e >= SPOOL_E__MAX || msgs[e] == NULL)
		return "unknown error";
	return msgs[e];
}

const char *
spool_job_state_name(int s)
{
	switch (s) {
	case SPOOL_JOB_PENDING:
		return "pending";
	case SPOOL_JOB_HELD:
		return "held";
	case SPOOL_JOB_PROCESSING:
		return "processing";
	case SPOOL_JOB_STOPPED:
		return "stopped";
	case SPOOL_JOB_CANCELED:
		return "canceled";
	case SPOOL_JOB_ABORTED:
		return "aborted";
	case SPOOL_JOB_COMPLETED:
		return "completed";
	default:
		return "unknown";
	}
}

int
spool_job_state_final(int s)
{
	return s == SPOOL_JOB_CANCELED || s == SPOOL_JOB_ABORTED ||
	    s == SPOOL_JOB_COMPLETED;
}

const char *
spool_job_trouble(const struct spool_job *j)
{
	static const char *bad[] = {
		"media-jam", "door-open", "cover-open", "interlock-open",
		"job-completed-with-errors", "aborted-by-system"
	};
	size_t i;

	if (j->state != SPOOL_JOB_COMPLETED)
		return NULL;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (spool_reasons_have(j->reasons, bad[i]))
			return bad[i];
	return NULL;
}

const char *
spool_job_cause(const struct spool_job *j)
{
	static const char *known[] = {
		"media-jam", "door-open", "cover-open", "interlock-open",
		"media-empty", "media-needed", "toner-empty",
		"marker-supply-empty", "offline", "document-format-error",
		"document-unprintable-error", "job-canceled-by-user",
		"job-canceled-at-device", "aborted-by-system"
	};
	const char *t;
	size_t i;

	if (j->state == SPOOL_JOB_COMPLETED)
		return (t = spool_job_trouble(j)) != NULL ? t : NULL;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (spool_reasons_have(j->reasons, known[i]))
			return known[i];
	return j->state == SPOOL_JOB_ABORTED ? "aborted" : "canceled";
}

int
spool_reasons_have(const char *reasons, const char *kw)
{
	static const char *suffixes[] = { "", "-report", "-warning",
	    "-error" };
	const char *p = reasons, *end;
	size_t n, klen = strlen(kw), i, slen;

	while (p != NULL && *p != '\0') {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
			slen = strlen(suffixes[i]);
			if (n == klen + slen && strncmp(p, kw, klen) == 0 &&
			    strncmp(p + klen, suffixes[i], slen) == 0)
				return 1;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

static void	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	/* messages only: truncation is acceptable */
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
timeout_of(int ms)
{
	return ms > 0 ? ms : SPOOL_TIMEOUT_DEFAULT;
}

static http_t *
connect_host(const char *host, int port, http_encryption_t enc,
    int timeout_ms, enum spool_err *e, char *err, size_t errlen)
{
	http_t *http;
	char portstr[16];

	timeout_ms = timeout_of(timeout_ms);
	http = httpConnect2(host, port, NULL, AF_UNSPEC, enc, 1, timeout_ms,
	    NULL);
	if (http == NULL) {
		(void)snprintf(portstr, sizeof(portstr), "%d", port);
		*e = errno == ETIMEDOUT ? SPOOL_E_TIMEOUT : SPOOL_E_CONNECT;
		if (host[0] == '/')
			seterr(err, errlen, "cannot connect to %s", host);
		else
			seterr(err, errlen, "cannot connect to %s:%s", host,
			    portstr);
		return NULL;
	}
	httpSetTimeout(http, timeout_ms / 1000.0, NULL, NULL);
	*e = SPOOL_OK;
	return http;
}

http_t *
spool_http_server(const char *server, int timeout_ms, enum spool_err *e,
    char *err, size_t errlen)
{
	char host[SPOOL_SERVER_MAX + 1], *colon, *end;
	const char *s;
	long port = ippPort();

	s = server != NULL && server[0] != '\0' ? server : cupsServer();
	if (s == NULL || strlen(s) >= sizeof(host)) {
		*e = SPOOL_E_INVAL;
		seterr(err, errlen, "bad CUPS server");
		return NULL;
	}
	memcpy(host, s, strlen(s) + 1);
	if (host[0] != '/') {
		/* host:port, [v6]:port */
		colon = strrchr(host, ':');
		if (colon != NULL && strchr(host, ']') < colon &&
		    (host[0] == '[' || strchr(host, ':') == colon)) {
			errno = 0;
			port = strtol(colon + 1, &end, 10);
			if (errno != 0 || *end != '\0' || port < 1 ||
			    port > 65535) {
				*e = SPOOL_E_INVAL;
				seterr(err, errlen, "bad port in CUPS server "
				    "\"%s\"", s);
				return NULL;
			}
			*colon = '\0';
		}
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host) - 2);
			host[strlen(host) - 2] = '\0';
		}
	}
	return connect_host(host, (int)port, HTTP_ENCRYPTION_IF_REQUESTED,
	    timeout_ms, e, err, errlen);
}

http_t *
spool_http_uri(const char *uri, int timeout_ms, char *resource,
    size_t reslen, enum spool_err *e, char *err, size_t errlen)
{
	char scheme[16], user[64], host[256];
	int port;

	if (reslen > INT_MAX || httpSeparateURI(HTTP_URI_CODING_ALL, uri,
	    scheme, sizeof(scheme), user, sizeof(user), host, sizeof(host),
	    &port, resource, (int)reslen) < HTTP_URI_STATUS_OK ||
	    (strcmp(scheme, "ipp") != 0 && strcmp(scheme, "ipps") != 0)) {
		*e = SPOOL_E_INVAL;
		seterr(err, errlen, "\"%s\" is not an ipp:// or ipps:// "
		    "URI", uri);
		return NULL;
	}
	return connect_host(host, port, strcmp(scheme, "ipps") == 0 ?
	    HTTP_ENCRYPTION_ALWAYS : HTTP_ENCRYPTION_IF_REQUESTED, timeout_ms,
	    e, err, errlen);
}

/* After a request without a response: timeout or lost connection. */
static enum spool_err
transport_error(http_t *http, char *err, size_t errlen)
{
	int herr = httpError(http);

	if (herr == ETIMEDOUT || cupsLastError() ==
	    IPP_STATUS_ERROR_SERVICE_UNAVAILABLE) {
		seterr(err, errlen, "no answer in time");
		return SPOOL_E_TIMEOUT;
	}
	seterr(err, errlen, "connection lost: %s",
	    cupsLastErrorString());
	return SPOOL_E_CONNECT;
}

static enum spool_err
status_error(ipp_status_t st, const char *msg, char *err, size_t errlen)
{
	seterr(err, errlen, "%s: %s", ippErrorString(st),
	    msg != NULL ? msg : "");
	switch (st) {
	case IPP_STATUS_ERROR_NOT_FOUND:
		return SPOOL_E_NOT_FOUND;
	case IPP_STATUS_ERROR_NOT_POSSIBLE:
		return SPOOL_E_NOT_POSSIBLE;
	case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
		return SPOOL_E_NOT_ACCEPTING;
	case IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED:
		return SPOOL_E_FORMAT;
	case IPP_STATUS_ERROR_TIMEOUT:
	case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
	case IPP_STATUS_ERROR_BUSY:
		return SPOOL_E_TIMEOUT;
	default:
		return SPOOL_E_REFUSED;
	}
}

static const char *
response_message(ipp_t *resp)
{
	ipp_attribute_t *a;

	a = ippFindAttribute(resp, "status-message", IPP_TAG_TEXT);
	return a != NULL ? ippGetString(a, 0, NULL) : NULL;
}

ipp_t *
spool_http_do(http_t *http, ipp_t *req, const char *resource,
    enum spool_err *e, char *err, size_t errlen)
{
	ipp_t *resp;
	ipp_status_t st;

	resp = cupsDoRequest(http, req, resource);
	if (resp == NULL) {
		*e = transport_error(http, err, errlen);
		return NULL;
	}
	st = ippGetStatusCode(resp);
	if (st > IPP_STATUS_OK_EVENTS_COMPLETE) {
		*e = status_error(st, response_message(resp), err, errlen);
		ippDelete(resp);
		return NULL;
	}
	*e = SPOOL_OK;
	return resp;
}

/* ipp://localhost/printers/QUEUE, resolving "" to the default queue. */
static enum spool_err
queue_uri(http_t *http, const char *queue, char *uri, size_t urilen,
    char *err, size_t errlen)
{
	const char *q = queue;

	if (q == NULL || q[0] == '\0') {
		if ((q = cupsGetDefault2(http)) == NULL) {
			seterr(err, errlen, "no default queue in CUPS");
			return SPOOL_E_NO_QUEUE;
		}
	}
	if (urilen > INT_MAX || httpAssembleURIf(HTTP_URI_CODING_ALL, uri,
	    (int)urilen, "ipp", NULL, "localhost", 0, "/printers/%s", q) <
	    HTTP_URI_STATUS_OK) {
		seterr(err, errlen, "bad queue name \"%s\"", q);
		return SPOOL_E_INVAL;
	}
	return SPOOL_OK;
}

/* An operation on `what` ("printer-uri" or "job-uri") uri, as us. */
static ipp_t *
uri_request(ipp_op_t op, const char *what, const char *uri)
{
	ipp_t *req;

	if ((req = ippNewRequest(op)) == NULL)
		return NULL;
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, what, NULL, uri);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME,
	    "requesting-user-name", NULL, cupsUser());
	return req;
}

static ipp_t *
new_request(ipp_op_t op, const char *printer_uri)
{
	return uri_request(op, "printer-uri", printer_uri);
}

/* A request about CUPS job job_id (its job-uri on the server). */
static ipp_t *
new_job_request(ipp_op_t op, int job_id)
{
	char uri[HTTP_MAX_URI];

	(void)snprintf(uri, sizeof(uri), "ipp://localhost/jobs/%d", job_id);
	return uri_request(op, "job-uri", uri);
}

/* The queue's attributes (format choice, device-uri). */
static ipp_t *
queue_attrs(http_t *http, const char *uri, enum spool_err *e, char *err,
    size_t errlen)
{
	static const char *want[] = {
		"document-format-supported", "printer-is-accepting-jobs",
		"device-uri", "printer-state"
	};
	ipp_t *req;

	if ((req = new_request(IPP_OP_GET_PRINTER_ATTRIBUTES, uri)) == NULL) {
		*e = SPOOL_E_NOMEM;
		return NULL;
	}
	ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD,
	    "requested-attributes", (int)(sizeof(want) / sizeof(want[0])),
	    NULL, want);
	return spool_http_do(http, req, "/", e, err, errlen);
}

static int
format_supported(ipp_t *attrs, const char *fmt)
{
	ipp_attribute_t *a;

	a = ippFindAttribute(attrs, "document-format-supported",
	    IPP_TAG_MIMETYPE);
	return a != NULL && ippContainsString(a, fmt);
}

enum spool_err
spool_submit(const struct spool_conf *conf, const char *name,
    const void *pdf, size_t len, int copies, struct spool_submit_info *info,
    char *err, size_t errlen)
{
	http_t *http;
	ipp_t *attrs, *req, *resp;
	ipp_attribute_t *a;
	ipp_status_t st;
	enum spool_err e;
	char uri[HTTP_MAX_URI];
	const char *fmt;

	memset(info, 0, sizeof(*info));
	if (name == NULL || name[0] == '\0' || strlen(name) >
	    SPOOL_NAME_MAX || pdf == NULL || len < 5 || len > INT_MAX ||
	    memcmp(pdf, "%PDF-", 5) != 0 || copies < 1 || copies > 99) {
		seterr(err, errlen, "bad job: name, PDF or copies");
		return SPOOL_E_INVAL;
	}
	if ((http = spool_http_server(conf->server, conf->timeout_ms, &e, err,
	    errlen)) == NULL)
		return e;
	if ((e = queue_uri(http, conf->queue, uri, sizeof(uri), err,
	    errlen)) != SPOOL_OK)
		goto done;
	if ((attrs = queue_attrs(http, uri, &e, err, errlen)) == NULL) {
		if (e == SPOOL_E_NOT_FOUND) {
			e = SPOOL_E_NO_QUEUE;
			seterr(err, errlen, "no queue %s", uri);
		}
		goto done;
	}
	a = ippFindAttribute(attrs, "printer-is-accepting-jobs",
	    IPP_TAG_BOOLEAN);
	if (a != NULL && !ippGetBoolean(a, 0)) {
		ippDelete(attrs);
		seterr(err, errlen, "%s is not accepting jobs", uri);
		e = SPOOL_E_NOT_ACCEPTING;
		goto done;
	}
	switch (conf->format) {
	case SPOOL_FORMAT_PDF:
		fmt = "application/pdf";
		break;
	case SPOOL_FORMAT_RAW:
		fmt = "application/vnd.cups-raw";
		break;
	default:
		fmt = format_supported(attrs, "application/pdf") ?
		    "application/pdf" : "application/octet-stream";
		break;
	}
	if (!format_supported(attrs, fmt)) {
		ippDelete(attrs);
		seterr(err, errlen, "the queue does not list %s", fmt);
		e = SPOOL_E_FORMAT;
		goto done;
	}
	ippDelete(attrs);
	(void)snprintf(info->format, sizeof(info->format), "%s", fmt);

	if ((req = new_request(IPP_OP_PRINT_JOB, uri)) == NULL) {
		e = SPOOL_E_NOMEM;
		goto done;
	}
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL,
	    name);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE,
	    "document-format", NULL, fmt);
	ippAddInteger(req, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", copies);
	ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "media", NULL,
	    SPOOL_MEDIA);
	info->sent = 1;
	/* the length covers the IPP message and the document */
	if (cupsSendRequest(http, req, "/", ippLength(req) + len) !=
	    HTTP_STATUS_CONTINUE ||
	    cupsWriteRequestData(http, pdf, len) != HTTP_STATUS_CONTINUE) {
		ippDelete(req);
		e = transport_error(http, err, errlen);
		goto done;
	}
	ippDelete(req);
	if ((resp = cupsGetResponse(http, "/")) == NULL) {
		e = transport_error(http, err, errlen);
		goto done;
	}
	st = ippGetStatusCode(resp);
	if (st > IPP_STATUS_OK_EVENTS_COMPLETE) {
		e = status_error(st, response_message(resp), err, errlen);
		ippDelete(resp);
		goto done;
	}
	a = ippFindAttribute(resp, "job-id", IPP_TAG_INTEGER);
	if (a == NULL || ippGetInteger(a, 0) < 1) {
		ippDelete(resp);
		seterr(err, errlen, "Print-Job answer without a job-id");
		e = SPOOL_E_PROTO;
		goto done;
	}
	info->job_id = ippGetInteger(a, 0);
	ippDelete(resp);
	e = SPOOL_OK;
done:
	httpClose(http);
	return e;
}

/* Append a keyword to a comma list (silently bounded). */
static void
append_reason(char *dst, size_t size, const char *kw)
{
	size_t n = strlen(dst), k = strlen(kw);

	if (kw[0] == '\0' || strcmp(kw, "none") == 0 ||
	    spool_reasons_have(dst, kw))
		return;
	if (n + (n > 0) + k + 1 > size)
		return;
	if (n > 0)
		dst[n++] = ',';
	memcpy(dst + n, kw, k + 1);
}

ipp_attribute_t *
spool_job_parse(ipp_t *resp, ipp_attribute_t *a, struct spool_job *j)
{
	const char *name, *s;
	int i;

	memset(j, 0, sizeof(*j));
	j->impressions = -1;
	j->sheets = -1;
	for (; a != NULL; a = ippNextAttribute(resp)) {
		if ((name = ippGetName(a)) == NULL) {
			if (j->id != 0)
				return ippNextAttribute(resp);
			continue;	/* leading separator */
		}
		if (ippGetGroupTag(a) != IPP_TAG_JOB)
			continue;
		if (strcmp(name, "job-id") == 0 &&
		    ippGetValueTag(a) == IPP_TAG_INTEGER)
			j->id = ippGetInteger(a, 0);
		else if (strcmp(name, "job-state") == 0 &&
		    ippGetValueTag(a) == IPP_TAG_ENUM)
			j->state = ippGetInteger(a, 0);
		else if (strcmp(name, "job-name") == 0 &&
		    (s = ippGetString(a, 0, NULL)) != NULL)
			(void)snprintf(j->name, sizeof(j->name), "%s", s);
		else if (strcmp(name, "job-state-reasons") == 0 ||
		    strcmp(name, "job-printer-state-reasons") == 0) {
			for (i = 0; i < ippGetCount(a); i++)
				if ((s = ippGetString(a, i, NULL)) != NULL)
					append_reason(j->reasons,
					    sizeof(j->reasons), s);
		} else if (strcmp(name, "job-printer-state-message") == 0 &&
		    (s = ippGetString(a, 0, NULL)) != NULL)
			(void)snprintf(j->message, sizeof(j->message), "%s",
			    s);
		else if (strcmp(name, "job-impressions-completed") == 0 &&
		    ippGetValueTag(a) == IPP_TAG_INTEGER)
			j->impressions = ippGetInteger(a, 0);
		else if (strcmp(name, "job-media-sheets-completed") == 0 &&
		    ippGetValueTag(a) == IPP_TAG_INTEGER)
			j->sheets = ippGetInteger(a, 0);
		else if (strcmp(name, "time-at-creation") == 0 &&
		    ippGetValueTag(a) == IPP_TAG_INTEGER)
			j->created = (time_t)ippGetInteger(a, 0);
		else if (strcmp(name, "time-at-completed") == 0 &&
		    ippGetValueTag(a) == IPP_TAG_INTEGER)
			j->completed = (time_t)ippGetInteger(a, 0);
	}
	return NULL;
}

enum spool_err
spool_job_get(const struct spool_conf *conf, int job_id,
    struct spool_job *job, char *err, size_t errlen)
{
	http_t *http;
	ipp_t *req, *resp;
	enum spool_err e;

	memset(job, 0, sizeof(*job));
	if (job_id < 1) {
		seterr(err, errlen, "bad job id");
		return SPOOL_E_INVAL;
	}
	if ((http = spool_http_server(conf->server, conf->timeout_ms, &e, err,
	    errlen)) == NULL)
		return e;
	if ((req = new_job_request(IPP_OP_GET_JOB_ATTRIBUTES, job_id)) ==
	    NULL) {
		httpClose(http);
		return SPOOL_E_NOMEM;
	}
	ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD,
	    "requested-attributes", NJOB_ATTRS, NULL, job_attrs);
	if ((resp = spool_http_do(http, req, "/", &e, err, errlen)) != NULL) {
		(void)spool_job_parse(resp, ippFirstAttribute(resp), job);
		ippDelete(resp);
		if (job->id != job_id || job->state == SPOOL_JOB_UNKNOWN) {
			seterr(err, errlen, "job attributes without id or "
			    "state");
			e = SPOOL_E_PROTO;
		}
	} else if (e == SPOOL_E_NOT_FOUND)
		seterr(err, errlen, "CUPS knows no job %d", job_id);
	httpClose(http);
	return e;
}

enum spool_err
spool_job_cancel(const struct spool_conf *conf, int job_id, char *err,
    size_t errlen)
{
	http_t *http;
	ipp_t *req, *resp;
	enum spool_err e;

	if (job_id < 1) {
		seterr(err, errlen, "bad job id");
		return SPOOL_E_INVAL;
	}
	if ((http = spool_http_server(conf->server, conf->timeout_ms, &e, err,
	    errlen)) == NULL)
		return e;
	if ((req = new_job_request(IPP_OP_CANCEL_JOB, job_id)) == NULL) {
		httpClose(http);
		return SPOOL_E_NOMEM;
	}
	if ((resp = spool_http_do(http, req, "/", &e, err, errlen)) != NULL)
		ippDelete(resp);
	httpClose(http);
	return e;
}

enum spool_err
spool_find_by_name(const struct spool_conf *conf, const char *name,
    struct spool_job *jobs, int max, int *count, char *err, size_t errlen)
{
	http_t *http;
	ipp_t *req, *resp;
	ipp_attribute_t *a;
	struct spool_job j;
	enum spool_err e;
	char uri[HTTP_MAX_URI];
	int i, k;

	*count = 0;
	if (name == NULL || name[0] == '\0' || max < 0 ||
	    (max > 0 && jobs == NULL)) {
		seterr(err, errlen, "bad job name");
		return SPOOL_E_INVAL;
	}
	if ((http = spool_http_server(conf->server, conf->timeout_ms, &e, err,
	    errlen)) == NULL)
		return e;
	if ((e = queue_uri(http, conf->queue, uri, sizeof(uri), err,
	    errlen)) != SPOOL_OK) {
		httpClose(http);
		return e;
	}
	if ((req = new_request(IPP_OP_GET_JOBS, uri)) == NULL) {
		httpClose(http);
		return SPOOL_E_NOMEM;
	}
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs",
	    NULL, "all");
	ippAddBoolean(req, IPP_TAG_OPERATION, "my-jobs", 0);
	ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD,
	    "requested-attributes", NJOB_ATTRS, NULL, job_attrs);
	if ((resp = spool_http_do(http, req, "/", &e, err, errlen)) == NULL) {
		if (e == SPOOL_E_NOT_FOUND) {
			e = SPOOL_E_NO_QUEUE;
			seterr(err, errlen, "no queue %s", uri);
		}
		httpClose(http);
		return e;
	}
	a = ippFirstAttribute(resp);
	while (a != NULL) {
		a = spool_job_parse(resp, a, &j);
		if (j.id == 0 || strcmp(j.name, name) != 0)
			continue;
		/* keep the newest (highest id) first */
		for (i = 0; i < *count && i < max; i++)
			if (j.id > jobs[i].id)
				break;
		if (i < max) {
			k = *count < max ? *count : max - 1;
			for (; k > i; k--)
				jobs[k] = jobs[k - 1];
			jobs[i] = j;
		}
		(*count)++;
	}
	ippDelete(resp);
	httpClose(http);
	return SPOOL_OK;
}

enum spool_err
spool_queue_device(const struct spool_conf *conf, char *dev, size_t devlen,
    char *err, size_t errlen)
{
	http_t *http;
	ipp_t *attrs;
	ipp_attribute_t *a;
	enum spool_err e;
	char uri[HTTP_MAX_URI];
	const char *s;

	if ((http = spool_http_server(conf->server, conf->timeout_ms, &e, err,
	    errlen)) == NULL)
		return e;
	if ((e = queue_uri(http, conf->queue, uri, sizeof(uri), err,
	    errlen)) != SPOOL_OK) {
		httpClose(http);
		return e;
	}
	if ((attrs = queue_attrs(http, uri, &e, err, errlen)) == NULL) {
		if (e == SPOOL_E_NOT_FOUND)
			e = SPOOL_E_NO_QUEUE;
		httpClose(http);
		return e;
	}
	a = ippFindAttribute(attrs, "device-uri", IPP_TAG_URI);
	s = a != NULL ? ippGetString(a, 0, NULL) : NULL;
	if (s == NULL || strlen(s) >= devlen) {
		seterr(err, errlen, "the queue shows no device-uri");
		e = SPOOL_E_PROTO;
	} else
		memcpy(dev, s, strlen(s) + 1);
	ippDelete(attrs);
	httpClose(http);
	return e;
}

/* One Get-Jobs at the printer: counts of the jobs named name. */
static enum spool_err
printer_count(http_t *http, const char *uri, const char *resource,
    const char *name, int *live, int *completed, int *ids, int maxids,
    int *nids, char *err, size_t errlen)
{
	static const char *want[] = { "job-id", "job-name", "job-state",
	    "job-impressions-completed" };
	ipp_t *req, *resp;
	ipp_attribute_t *a;
	struct spool_job j;
	enum spool_err e;

	*live = *completed = *nids = 0;
	if ((req = new_request(IPP_OP_GET_JOBS, uri)) == NULL)
		return SPOOL_E_NOMEM;
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs",
	    NULL, "all");
	ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD,
	    "requested-attributes", 4, NULL, want);
	if ((resp = spool_http_do(http, req, resource, &e, err, errlen)) ==
	    NULL)
		return e;
	a = ippFirstAttribute(resp);
	while (a != NULL) {
		a = spool_job_parse(resp, a, &j);
		if (j.id == 0 || strcmp(j.name, name) != 0)
			continue;
		/* canceled or aborted after its pages came out (a printer
		   that took a cancel while it waited for paper, then printed
		   when the paper came back): printed all the same */
		if (j.state == SPOOL_JOB_COMPLETED ||
		    (spool_job_state_final(j.state) && j.impressions > 0))
			(*completed)++;
		else if (!spool_job_state_final(j.state)) {
			(*live)++;
			if (*nids < maxids)
				ids[(*nids)++] = j.id;
		}
	}
	ippDelete(resp);
	return SPOOL_OK;
}

enum spool_err
spool_printer_jobs(const char *printer_uri, int timeout_ms, const char *name,
    int cancel, int *live, int *completed, char *err, size_t errlen)
{
	char resource[HTTP_MAX_URI];
	int ids[16], nids = 0, i;
	http_t *http;
	ipp_t *req, *resp;
	enum spool_err e;

	*live = *completed = 0;
	if (printer_uri == NULL || name == NULL || name[0] == '\0') {
		seterr(err, errlen, "no printer URI or job name");
		return SPOOL_E_INVAL;
	}
	if ((http = spool_http_uri(printer_uri, timeout_ms, resource,
	    sizeof(resource), &e, err, errlen)) == NULL)
		return e;
	e = printer_count(http, printer_uri, resource, name, live, completed,
	    ids, 16, &nids, err, errlen);
	if (e == SPOOL_OK && cancel && nids > 0) {
		for (i = 0; i < nids; i++) {
			if ((req = new_request(IPP_OP_CANCEL_JOB,
			    printer_uri)) == NULL) {
				e = SPOOL_E_NOMEM;
				break;
			}
			ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER,
			    "job-id", ids[i]);
			if ((resp = spool_http_do(http, req, resource, &e, err,
			    errlen)) != NULL)
				ippDelete(resp);
		}
		e = printer_count(http, printer_uri, resource, name, live,
		    completed, ids, 16, &nids, err, errlen);
	}
	httpClose(http);
	return e;
}
