/*
 * The resident session: THE state machine of one transaction at the kiosk
 * (DESIGN.md "One transaction", steps 1-4 and 6).  Diagram: session.dot.
 *
 * session.c knows no sockets and no processes.  It is driven by inputs
 * (UI commands, worker results, card events, timeouts) and acts through
 * struct session_ops, which the core implements with its workers and the
 * UI socket, and the unit test with fakes.  Every state change goes
 * through one function (session_fsm() in session.c) that looks the
 * (state, event) pair up in one table; a pair that is not in the table
 * changes nothing.  Every state but IDLE has a timeout from the
 * configuration; a timeout, a cancel, a card removal or a worker death
 * aborts the whole transaction, and nothing of it survives: the card's
 * certificate, the challenge, the signature, the center's answers and the
 * ids are wiped when the session ends.
 *
 * The PIN exists here only while session_ui_pin() runs: it is copied into
 * the card worker's request (struct msg_card_sign_req), handed to
 * ops->card_sign and wiped, with the caller's buffer, on every path.
 */
#ifndef KIOSK_SESSION_H
#define KIOSK_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "msg.h"

struct kiosk_conf;
struct docverify_key;
struct session;

enum session_state {
	SS_IDLE,	/* waiting for a resident to touch Start */
	SS_SELECT,	/* choosing the document */
	SS_CHECKING,	/* service hours, reader, center reachable */
	SS_WAIT_CARD,	/* "place your card" */
	SS_READ_CARD,	/* card worker: AP, token, cert 000A, PIN tries */
	SS_OPEN,	/* center: a challenge */
	SS_WAIT_PIN,	/* PIN entry (tries shown, last try confirmed) */
	SS_SIGNING,	/* card worker: VERIFY + sign the challenge */
	SS_AUTH,	/* center: certificate + signature */
	SS_OPTIONS,	/* documents offered; options, copies, confirm */
	SS_PAYING,	/* the payment device takes the fee */
	SS_ISSUING,	/* center: the signed document */
	SS_VERIFYING,	/* signature, binding and code for THIS session */
	SS_PRINTING,	/* printer worker: render, spool, follow the job */
	SS_ISSUED,	/* printed: "take your card and the papers" */
	SS_ABORTED,	/* reason shown, then back to IDLE */
	SS__MAX
};

enum session_event {
	SE_START,		/* UI: Start */
	SE_SELECT,		/* UI: a document type */
	SE_UNAVAILABLE,		/* checking: refused early (code says why) */
	SE_CENTER_UP,		/* checking: the center answered its status */
	SE_CENTER_DOWN,
	SE_CARD_INSERTED,	/* a card is in the reader */
	SE_CARD_REMOVED,	/* the card left the reader */
	SE_READ_OK,		/* certificate and tries read */
	SE_READ_BLOCKED,	/* the PIN is blocked: no VERIFY ever */
	SE_READ_FAIL,
	SE_OPEN_OK,		/* the center's challenge */
	SE_OPEN_FAIL,
	SE_PIN,			/* UI: the PIN (forwarded to the card) */
	SE_SIGN_OK,		/* the card signed the challenge */
	SE_PIN_WRONG,		/* tries left > 0 */
	SE_PIN_BLOCKED,
	SE_SIGN_FAIL,
	SE_AUTH_OK,		/* documents offered */
	SE_AUTH_FAIL,		/* the center refused (code, message) */
	SE_OPTIONS,		/* UI: document, options, copies */
	SE_CONFIRM,		/* UI: confirm the choice */
	SE_ISSUE_OK,		/* signed content received */
	SE_ISSUE_FAIL,
	SE_VERIFY_OK,		/* signature and binding hold */
	SE_VERIFY_FAIL,
	SE_DONE,		/* UI: dismiss the final screen */
	SE_CANCEL,		/* UI: cancel */
	SE_TIMEOUT,		/* the state's timer */
	SE_CARD_DOWN,		/* the card worker died */
	SE_BACKEND_DOWN,	/* the backend worker died */
	SE_PAID,		/* the fee was taken */
	SE_PAY_FAIL,		/* declined or device error: nothing taken */
	SE_SPOOLED,		/* CUPS accepted the job */
	SE_PRINTED,		/* the job completed */
	SE_PRINT_FAIL,		/* the job can no longer print */
	SE_PRINTER_DOWN,	/* the printer worker died */
	SE__MAX
};

/* What session_fsm() and the inputs return. */
enum session_rc {
	SESSION_OK = 0,		/* the event was taken */
	SESSION_IGNORED,	/* not valid in this state: nothing changed */
	SESSION_BAD_INPUT,	/* malformed argument: nothing changed */
	SESSION_CONFIRM,	/* last try: the resident must confirm */
	SESSION_INTERNAL
};

/* One row of the transition table (exported for the unit test). */
struct session_transition {
	enum session_state	 from;
	enum session_event	 event;
	enum session_state	 to;
	const char		*abort_code;	/* default reason into ABORTED */
	int			 action;	/* enum in session.c, 0: none */
};

/* The payment the core takes (and journals) for the transaction. */
struct session_pay {
	const char	*session;	/* log name */
	const char	*idem_key;	/* the issuance's idempotency key */
	const char	*document;
	const char	*center_sid;
	const char	*options;	/* compact JSON of the issuance request */
	int		 copies;
	long long	 fee_yen;	/* total */
};

/* The verified document to print. */
struct session_print {
	const char	*issuance_id;
	const char	*document;
	const char	*code;		/* the signed document code */
	const uint8_t	*content;	/* the exact signed bytes */
	size_t		 content_len;
	int		 copies;
};

/*
 * A transaction leaves the session: the core settles it from its journal
 * (report to the center, refund) and owns it from here, whatever the
 * session does next.
 */
enum session_outcome {
	SESSION_PRINTED = 1,	/* the job completed */
	SESSION_FAILED,		/* nothing printed, nothing can print now */
	SESSION_UNKNOWN		/* a job may exist: ask CUPS first */
};
struct session_settle {
	enum session_outcome outcome;
	int		 pages;
	const char	*reason;	/* stable code ("print_timeout") */
	const char	*idem_key;
	const char	*issuance_id;	/* "" when none was received */
};

/* Sizes of what a session keeps. */
#define SESSION_ID_HEX		16
#define SESSION_CENTER_ID	32
#define SESSION_CODE_MAX	31
#define SESSION_MSG_MAX		511
#define SESSION_MSGJA_MAX	1023

/*
 * The core's side.  Every send returns 0 when queued, -1 when the worker
 * is down (the session then aborts).  The session wipes what it passes
 * after the call returns: copy, never keep pointers.
 */
struct session_ops {
	/* A complete screen message (borrowed: json_incref to keep). */
	void	(*screen)(void *arg, json_t *screen);
	/* Arm the single state timer (secs > 0) or disarm it (0). */
	void	(*timer)(void *arg, unsigned int secs);
	time_t	(*now)(void *arg);
	/* Call session_deferred() from the loop, soon (not from here). */
	void	(*defer)(void *arg);
	/* Fill buf with random bytes: 0, or -1. */
	int	(*random)(void *arg, void *buf, size_t len);
	int	(*card_ready)(void *arg);
	int	(*backend_ready)(void *arg);
	int	(*card_read)(void *arg, uint64_t sid);
	int	(*card_sign)(void *arg, uint64_t sid,
		    const struct msg_card_sign_req *req);
	/* Drop the card session (unpower); fire and forget. */
	void	(*card_abort)(void *arg, uint64_t sid);
	/* The card worker is stuck: kill it (it is restarted). */
	void	(*card_reset)(void *arg, const char *why);
	int	(*backend_status)(void *arg, uint64_t sid);
	int	(*backend_open)(void *arg, uint64_t sid);
	int	(*backend_auth)(void *arg, uint64_t sid,
		    const struct msg_backend_auth_req *req,
		    const uint8_t *cert, size_t certlen);
	int	(*backend_issue)(void *arg, uint64_t sid,
		    const struct msg_backend_issue_req *req,
		    const char *options, size_t optlen);
	/* 1: the printer can print now; 0: not (reason: a stable code). */
	int	(*printer_ready)(void *arg, char *reason, size_t len);
	/* Take the fee (journaled by the core): the answer comes through
	   session_paid().  -1: the payment device is not available. */
	int	(*pay)(void *arg, uint64_t sid, const struct session_pay *);
	/* Print: answers through session_print_spooled()/_done(). */
	int	(*print)(void *arg, uint64_t sid, const struct session_print *);
	/* The transaction is over for the session (see session_settle). */
	void	(*settle)(void *arg, uint64_t sid,
		    const struct session_settle *);
};

struct session	*session_new(const struct kiosk_conf *,
		    const struct docverify_key *, const struct session_ops *,
		    void *arg);
void		 session_free(struct session *);
/* A reloaded configuration (timeouts, hours) for the next transitions. */
void		 session_set_conf(struct session *, const struct kiosk_conf *);
void		 session_set_dockey(struct session *,
		    const struct docverify_key *);

/* Publish the current screen again (a new UI client). */
json_t		*session_screen(struct session *);

enum session_state session_state(const struct session *);
/* The session id (0 in IDLE) and its log name "<16 hex>[/<cert tag>]". */
uint64_t	 session_id(const struct session *);
const char	*session_name(const struct session *);
const char	*session_state_name(enum session_state);
/* The name UIs see ("wait_pin"). */
const char	*session_state_wire(enum session_state);
const char	*session_event_name(enum session_event);
const char	*session_abort_code(const struct session *);
int		 session_tries(const struct session *);
const struct session_transition *session_table(size_t *n);
unsigned int	 session_state_timeout(const struct session *,
		    enum session_state);
/* For tests: the session's own memory (nothing secret may linger). */
const void	*session_memory(const struct session *, size_t *len);

/* The one entry point of the table (inputs below end here). */
enum session_rc	 session_fsm(struct session *, enum session_event,
		    const void *arg);

/* --- inputs ---------------------------------------------------------- */

/* UI commands. */
enum session_rc	 session_ui_start(struct session *);
enum session_rc	 session_ui_select(struct session *, const char *doctype);
/* pin[0..len) is wiped before this returns, whatever happens. */
enum session_rc	 session_ui_pin(struct session *, char *pin, size_t len,
		    int confirm_last_try);
/* options: a JSON object (borrowed). */
enum session_rc	 session_ui_options(struct session *, const char *doctype,
		    json_t *options, long long copies);
enum session_rc	 session_ui_confirm(struct session *);
enum session_rc	 session_ui_cancel(struct session *);
enum session_rc	 session_ui_done(struct session *);
/* Why the last UI input was refused (a stable code), "" if it was not. */
const char	*session_ui_error(const struct session *);

/* Workers and timers: the caller has checked the message's session id. */
void		 session_card_event(struct session *,
		    const struct msg_card_event *);
void		 session_card_info(struct session *,
		    const struct msg_card_info *, const uint8_t *cert,
		    size_t certlen);
void		 session_card_signed(struct session *,
		    const struct msg_card_sign_result *);
void		 session_backend_status(struct session *,
		    const struct msg_backend_status *);
void		 session_backend_opened(struct session *,
		    const struct msg_backend_session_result *);
/* json: the 200 body on success, or {"message","message_ja"} (may be
   empty) with a center error. */
void		 session_backend_authed(struct session *,
		    const struct msg_backend_auth_result *, const char *json,
		    size_t jsonlen);
void		 session_backend_issued(struct session *,
		    const struct msg_backend_issue_result *,
		    const uint8_t *content, const uint8_t *sig,
		    const char *errjson, size_t errlen);
/* The payment device's answer: paid 1, or 0 with a code ("declined"). */
void		 session_paid(struct session *, int paid, const char *code);
void		 session_print_spooled(struct session *, long long job_id);
/* printed 1 with pages, or 0 with a reason: the job can no longer print. */
void		 session_print_done(struct session *, int printed, int pages,
		    const char *reason);
/* Publish the screen again (the printer's state changed). */
void		 session_refresh(struct session *);
void		 session_timeout(struct session *);
/* Work posted with ops->defer: the document verification. */
void		 session_deferred(struct session *);
/* which: MSG_ROLE_CARD, MSG_ROLE_BACKEND or MSG_ROLE_PRINTER. */
void		 session_worker_down(struct session *, enum msg_role which);
/* 1 when a card is on the (configured) reader, as the events said. */
int		 session_card_present(const struct session *);

#endif
