/*
 * Inside the printing library only (and its unit tests): the libcups side
 * of spool.c and printer_state.c.  Nothing else includes <cups/cups.h>.
 */
#ifndef KIOSK_SPOOL_IPP_H
#define KIOSK_SPOOL_IPP_H

#include <stddef.h>

#include <cups/cups.h>

#include "printer_state.h"
#include "spool.h"

/* Connect to a CUPS server: "" (libcups default), "/socket" or
   "host[:port]"; NULL with *e and err set. */
http_t		*spool_http_server(const char *server, int timeout_ms,
		    enum spool_err *e, char *err, size_t errlen);
/* Connect to the host of an ipp:// or ipps:// URI; its path into
   resource.  NULL with *e and err set. */
http_t		*spool_http_uri(const char *uri, int timeout_ms,
		    char *resource, size_t reslen, enum spool_err *e,
		    char *err, size_t errlen);
/* cupsDoRequest with the error mapped: the response on SPOOL_OK (IPP
   status successful-ok...), else NULL.  req is consumed. */
ipp_t		*spool_http_do(http_t *, ipp_t *req, const char *resource,
		    enum spool_err *e, char *err, size_t errlen);

/* One job's attributes from a response group starting at attr (walks until
   the next separator); returns the attribute after the group, or NULL. */
ipp_attribute_t	*spool_job_parse(ipp_t *, ipp_attribute_t *attr,
		    struct spool_job *);

/* Whose attributes printer_state_parse() reads. */
enum pstate_source {
	PSTATE_SRC_PRINTER = 0,	/* the printer's own */
	PSTATE_SRC_QUEUE,	/* a CUPS queue, the only view we have */
	/* a CUPS queue whose printer answers too: only the queue's own
	   conditions (stopped, paused, rejecting jobs).  The reasons a
	   backend copied from the printer during the last job stay on the
	   queue after it (a cleared jam still shows there). */
	PSTATE_SRC_QUEUE_OWN
};

/*
 * The printer's readiness from a Get-Printer-Attributes response.
 * want_media: the media that must be loaded ("" skips the check).  The
 * result is merged into st (flags ORed), so a queue and its printer can
 * be read one after the other; start with printer_state_init(), end with
 * printer_state_finish().
 */
void		 printer_state_parse(ipp_t *, enum pstate_source,
		    const char *want_media, struct printer_state *st);

#endif
