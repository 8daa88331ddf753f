/*
 * Printing through CUPS (libcups): submit a PDF held in memory to a queue,
 * follow the job, cancel it, find it again by id or by name.
 *
 * Every call opens its own connection with a deadline (httpConnect2 with
 * a timeout, then an I/O timeout on the same connection) and does one
 * IPP request (spool_submit: two, the queue check and the Print-Job), so
 * a caller on an event loop can poll a job from a timer without ever
 * blocking longer than spool_conf.timeout_ms per step.  libcups types do
 * not leave this module.
 */
#ifndef KIOSK_SPOOL_H
#define KIOSK_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SPOOL_SERVER_MAX	255
#define SPOOL_QUEUE_MAX		127
#define SPOOL_NAME_MAX		127	/* job-name */
#define SPOOL_REASONS_MAX	255
#define SPOOL_MEDIA		"iso_a4_210x297mm"

/* How the document is declared to CUPS. */
enum spool_format {
	SPOOL_FORMAT_AUTO = 0,	/* application/pdf when the queue takes it,
				   else application/octet-stream */
	SPOOL_FORMAT_PDF,	/* application/pdf (CUPS may filter it) */
	SPOOL_FORMAT_RAW	/* application/vnd.cups-raw: CUPS passes the
				   bytes unchanged; the printer senses PDF */
};

struct spool_conf {
	char		server[SPOOL_SERVER_MAX + 1];	/* "" = libcups default
							   (CUPS_SERVER...);
							   "/path" or
							   "host[:port]" */
	char		queue[SPOOL_QUEUE_MAX + 1];	/* "" = default dest */
	int		timeout_ms;			/* per request */
	enum spool_format format;
};

enum spool_err {
	SPOOL_OK = 0,
	SPOOL_E_CONNECT,	/* cupsd unreachable */
	SPOOL_E_TIMEOUT,	/* no answer in time */
	SPOOL_E_NO_QUEUE,	/* no such queue / no default */
	SPOOL_E_NOT_ACCEPTING,	/* the queue rejects jobs */
	SPOOL_E_FORMAT,		/* the queue accepts no PDF */
	SPOOL_E_REFUSED,	/* CUPS answered an error */
	SPOOL_E_NOT_FOUND,	/* no such job */
	SPOOL_E_NOT_POSSIBLE,	/* e.g. cancel of a finished job */
	SPOOL_E_PROTO,		/* malformed answer */
	SPOOL_E_INVAL,
	SPOOL_E_NOMEM,
	SPOOL_E__MAX
};

/* IPP job-state values. */
enum spool_job_state {
	SPOOL_JOB_UNKNOWN = 0,
	SPOOL_JOB_PENDING = 3,
	SPOOL_JOB_HELD = 4,
	SPOOL_JOB_PROCESSING = 5,
	SPOOL_JOB_STOPPED = 6,
	SPOOL_JOB_CANCELED = 7,
	SPOOL_JOB_ABORTED = 8,
	SPOOL_JOB_COMPLETED = 9
};

struct spool_job {
	int		id;
	int		state;			/* enum spool_job_state */
	char		name[SPOOL_NAME_MAX + 1];
	/* job-state-reasons then job-printer-state-reasons (the printer's
	   view, CUPS 2.3+), comma-separated, "none" dropped */
	char		reasons[SPOOL_REASONS_MAX + 1];
	char		message[SPOOL_REASONS_MAX + 1];	/* job-printer-state-message */
	int		impressions;		/* completed; -1 unknown */
	int		sheets;			/* media sheets completed; -1 */
	time_t		created;		/* time-at-creation, 0 unknown */
	time_t		completed;		/* time-at-completed, 0 */
};

struct spool_submit_info {
	int		job_id;
	int		sent;			/* 1: the Print-Job went out
						   (the job may exist) */
	char		format[64];		/* document-format sent */
};

const char	*spool_strerror(enum spool_err);
const char	*spool_job_state_name(int);
/* 1 for canceled, aborted and completed. */
int		 spool_job_state_final(int);
/*
 * Why a job that CUPS calls completed did not print, or NULL: CUPS can
 * mark a job completed that the printer aborted (the ipp backend loses the
 * race with the printer's end of job), but the printer's reasons copied
 * into the job still say "media-jam".
 */
const char	*spool_job_trouble(const struct spool_job *);
/*
 * Why a final job did not print: NULL for a good completion, else the
 * printer condition among its reasons ("media-jam", "door-open", ...),
 * else "canceled" or "aborted".
 */
const char	*spool_job_cause(const struct spool_job *);
/* 1 when the comma list contains keyword (suffixes -report, -warning and
   -error ignored). */
int		 spool_reasons_have(const char *reasons, const char *keyword);

/*
 * Print-Job on the queue: job-name = name (the issuance id), media A4,
 * copies, the format chosen from the queue's document-format-supported.
 * On success info->job_id is CUPS's job id.  On SPOOL_E_TIMEOUT and
 * SPOOL_E_CONNECT during the upload the job may exist anyway: look for it
 * by name (spool_find_by_name) before submitting again.  err: a message.
 */
enum spool_err	 spool_submit(const struct spool_conf *, const char *name,
		    const void *pdf, size_t len, int copies,
		    struct spool_submit_info *info, char *err, size_t errlen);
/* Get-Job-Attributes of one job; SPOOL_E_NOT_FOUND when CUPS has no such
   job (never had it, or purged it from its history). */
enum spool_err	 spool_job_get(const struct spool_conf *, int job_id,
		    struct spool_job *, char *err, size_t errlen);
/* Cancel-Job; SPOOL_E_NOT_POSSIBLE when the job already ended. */
enum spool_err	 spool_job_cancel(const struct spool_conf *, int job_id,
		    char *err, size_t errlen);
/*
 * The jobs named name on the queue (all states, history included), the
 * newest first, at most max in jobs; *count gets how many matched in all.
 * SPOOL_OK with *count == 0 when there are none.
 */
enum spool_err	 spool_find_by_name(const struct spool_conf *,
		    const char *name, struct spool_job *jobs, int max,
		    int *count, char *err, size_t errlen);
/*
 * At the printer itself (its ipp:// or ipps:// URI), not the CUPS queue:
 * the jobs named name it holds unfinished (*live: pending, held,
 * processing, stopped) and printed (*completed, as far as its history
 * goes: completed, or canceled/aborted with impressions completed).  A job CUPS has canceled may still sit at the printer waiting for
 * paper and print when the paper comes back: with cancel != 0, each
 * unfinished one is canceled there first (Cancel-Job), and *live counts
 * those that are still unfinished afterwards.
 */
enum spool_err	 spool_printer_jobs(const char *printer_uri, int timeout_ms,
		    const char *name, int cancel, int *live, int *completed,
		    char *err, size_t errlen);
/* The queue's device-uri (the printer behind it). */
enum spool_err	 spool_queue_device(const struct spool_conf *, char *uri,
		    size_t urilen, char *err, size_t errlen);

#endif
