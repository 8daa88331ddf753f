/*
 * Is the printer ready to print a document now?  Asked of the printer
 * itself (Get-Printer-Attributes on its own URI), because an idle CUPS
 * queue does not show paper-out or an empty toner until a job fails;
 * the CUPS queue is asked too (stopped, or rejecting jobs).
 *
 * printer-state-reasons keywords are read without their -report,
 * -warning or -error suffix: a printer such as ippeveprinter reports
 * "media-empty-report" while idle and "media-empty-warning" while a job
 * waits; the paper is out either way.  The suffix is kept in
 * st->reasons for the operator.
 */
#ifndef KIOSK_PRINTER_STATE_H
#define KIOSK_PRINTER_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

/* Conditions; the first seven block printing (not ready). */
#define PSTATE_F_OFFLINE	0x0001	/* unreachable */
#define PSTATE_F_DOOR_OPEN	0x0002	/* door-open, cover-open, interlock */
#define PSTATE_F_MEDIA_JAM	0x0004
#define PSTATE_F_MEDIA_EMPTY	0x0008	/* media-empty, media-needed */
#define PSTATE_F_TONER_EMPTY	0x0010	/* toner-empty, marker-supply-empty */
#define PSTATE_F_STOPPED	0x0020	/* printer-state stopped, or an
					   unknown error reason */
#define PSTATE_F_QUEUE_STOPPED	0x0040	/* CUPS queue stopped/rejecting */
#define PSTATE_F_MEDIA_MISSING	0x0080	/* A4 not among media-ready */
#define PSTATE_F_BLOCKING	0x00ff
/* Warnings: ready, but the operator should act soon. */
#define PSTATE_F_MEDIA_LOW	0x0100
#define PSTATE_F_TONER_LOW	0x0200
#define PSTATE_F_OTHER_WARNING	0x0400

#define PSTATE_REASON_MAX	31
#define PSTATE_REASONS_MAX	255
#define PSTATE_MSG_MAX		127

struct printer_state {
	int		ready;		/* 1: may print now */
	uint32_t	flags;		/* PSTATE_F_* */
	int		printer_state;	/* 3 idle, 4 processing, 5 stopped,
					   0 unknown */
	int		toner_percent;	/* lowest toner/ink level; -1 unknown */
	/* Stable code of the worst condition: "ok", "offline", "door-open",
	   "media-jam", "media-empty", "toner-empty", "stopped",
	   "queue-stopped", "media-missing", "media-low", "toner-low",
	   "warning". */
	char		reason[PSTATE_REASON_MAX + 1];
	/* Every reason as reported, suffixes kept: "media-empty-report,..." */
	char		reasons[PSTATE_REASONS_MAX + 1];
	char		media_ready[PSTATE_REASONS_MAX + 1];
	char		detail[PSTATE_REASONS_MAX + 1];	/* offline: why */
};

/* Where to ask. */
struct printer_target {
	struct spool_conf spool;	/* the CUPS queue ("" queue: skip it) */
	/* The printer's ipp:// or ipps:// URI; "" = the queue's device-uri
	   when that is ipp(s), else the queue alone is asked. */
	char		uri[256];
	char		want_media[64];	/* "" = no check */
	int		timeout_ms;
};

void		 printer_state_init(struct printer_state *);
/* Fill ready/reason from flags (after printer_state_parse). */
void		 printer_state_finish(struct printer_state *);
/* Ask the queue and the printer (up to three requests).  Always fills st;
   an unreachable printer or cupsd is PSTATE_F_OFFLINE. */
void		 printer_state_query(const struct printer_target *,
		    struct printer_state *st);
/* Operator text for a reason code, "ja" or "en" (anything else: en). */
const char	*printer_state_message(const char *reason, const char *lang);
/* 1 when a and b differ in what the core cares about (ready, flags,
   reason, state). */
int		 printer_state_changed(const struct printer_state *a,
		    const struct printer_state *b);

#endif
