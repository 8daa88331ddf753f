/*
 * kioskd.conf: a small OpenBSD-style grammar, parsed by hand (config.c),
 * printed normalised by config_print() (printconf.c) for `kioskd -n`.
 * See kioskd/kioskd.conf.sample for the grammar with every default.
 *
 * Note: this header shadows autoconf's config.h for files in kioskd/;
 * include the latter as <config.h> there if it is ever needed.
 */
#ifndef KIOSKD_CONFIG_H
#define KIOSKD_CONFIG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define CONF_PATH_DEFAULT	"/etc/kioskd/kioskd.conf"
#define CONF_ID_MAX		32	/* kiosk-id: [A-Za-z0-9_-] */
#define CONF_NAME_MAX		128	/* store-name, bytes of UTF-8 */
#define CONF_READER_MAX		127	/* pcsc-lite MAX_READERNAME - 1 */
#define CONF_URL_MAX		255
#define CONF_PATH_MAX		255
#define CONF_SOCK_MAX		107	/* sun_path - 1 */
#define CONF_GROUP_MAX		32
#define CONF_PRINTER_MAX	127
#define CONF_CLOSED_MAX		16	/* closed ranges */
#define CONF_INCLUDE_DEPTH	8
#define CONF_ERRORS_MAX		50	/* then "too many errors" */

/* One timeout per state of a resident session (DESIGN.md, one
   transaction end to end); every one has a default. */
enum conf_timeout {
	CONF_TO_SELECT,		/* choosing the document */
	CONF_TO_CARD,		/* waiting for the card on the reader */
	CONF_TO_READ,		/* reading the card */
	CONF_TO_PIN,		/* PIN entry */
	CONF_TO_AUTH,		/* signature + center authentication */
	CONF_TO_REMOVE,		/* taking the card back before printing */
	CONF_TO_OPTIONS,	/* options, copies, confirmation */
	CONF_TO_PAYMENT,	/* inserting the fee */
	CONF_TO_ISSUE,		/* the center issuing the document */
	CONF_TO_PRINT,		/* printing until the job completes */
	CONF_TO_COLLECT,	/* taking the papers, final screen */
	CONF_TO__MAX
};

struct conf_socket {
	char		path[CONF_SOCK_MAX + 1];
	char		group[CONF_GROUP_MAX + 1];	/* "" = primary group */
	mode_t		mode;
};

/* A closed period, inclusive, by month and day; may wrap the year end. */
struct conf_closed {
	uint8_t		from_month, from_day;
	uint8_t		to_month, to_day;
};

/* How the printer worker reaches CUPS and the printer (printer { }). */
enum conf_print_format {
	CONF_PRINT_AUTO = 0,	/* PDF when the queue lists it */
	CONF_PRINT_PDF,		/* application/pdf (CUPS may filter it) */
	CONF_PRINT_RAW		/* unfiltered: the printer takes PDF itself */
};

struct conf_printer {
	char		server[CONF_PATH_MAX + 1];	/* "" = libcups default */
	char		uri[CONF_URL_MAX + 1];		/* "" = device-uri */
	enum conf_print_format format;
	unsigned int	poll;			/* seconds between checks */
	unsigned int	job_timeout;		/* seconds, then cancel */
	unsigned int	request_timeout;	/* seconds per IPP request */
};

struct kiosk_conf {
	char		kiosk_id[CONF_ID_MAX + 1];
	char		store_name[CONF_NAME_MAX + 1];
	char		reader[CONF_READER_MAX + 1];	/* "" = any */
	struct {
		char		url[CONF_URL_MAX + 1];
		char		ca[CONF_PATH_MAX + 1];
		char		client_cert[CONF_PATH_MAX + 1];
		char		client_key[CONF_PATH_MAX + 1];
		char		document_key[CONF_PATH_MAX + 1];
		unsigned int	timeout;		/* seconds */
	} center;
	/* Minutes after 00:00 JST; close may be below open (past midnight)
	   and may be 1440 (24:00). */
	unsigned int	open_min, close_min;
	struct conf_closed closed[CONF_CLOSED_MAX];
	size_t		nclosed;
	unsigned int	timeouts[CONF_TO__MAX];		/* seconds */
	struct conf_socket ui_socket;
	struct conf_socket status_socket;
	char		journal[CONF_PATH_MAX + 1];
	/* the payment device: the coin box simulator's options */
	char		payment[CONF_PATH_MAX + 64];
	char		printer[CONF_PRINTER_MAX + 1];	/* "" = CUPS default */
	struct conf_printer print;
};

enum conf_service {
	CONF_SERVICE_OPEN,
	CONF_SERVICE_HOURS,	/* outside the service hours */
	CONF_SERVICE_CLOSED	/* a closed day */
};

/*
 * Parse path into a new config.  On success *confp is set and 0 returned.
 * Otherwise -1, *confp untouched, and errbuf holds every error, one
 * "FILE:LINE: message" per line (truncated to errlen; errbuf may be NULL).
 */
int		 config_load(const char *path, struct kiosk_conf **confp,
		    char *errbuf, size_t errlen);
/* Parse from memory; name is used in the error messages. */
int		 config_load_buf(const char *name, const char *buf,
		    size_t len, struct kiosk_conf **confp, char *errbuf,
		    size_t errlen);
void		 config_free(struct kiosk_conf *);
/* Every setting, defaults filled in; the output parses to the same. */
void		 config_print(FILE *, const struct kiosk_conf *);

const char	*config_print_format_name(enum conf_print_format);
const char	*config_timeout_name(enum conf_timeout);
unsigned int	 config_timeout(const struct kiosk_conf *, enum conf_timeout);

/* Service state at now, in JST (UTC+9, whatever TZ says). */
enum conf_service config_service_state(const struct kiosk_conf *,
		    time_t now);
/* 1 when the kiosk may start a transaction at now. */
int		 config_in_service(const struct kiosk_conf *, time_t now);

#endif
