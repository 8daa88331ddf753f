/*
 * Framed messages between kioskd's processes (after OpenBSD imsg).
 *
 * Every message is a fixed header followed by at most MSG_MAX_PAYLOAD
 * bytes.  Both ends run on the same host from the same binary, so the
 * header and the payload structs travel in host byte order; the payload
 * structs have fixed sizes without padding (checked in msg.c).
 *
 * The receiver trusts nothing: the framing layer rejects an unknown type or
 * a length outside the type's bounds before any handler runs, and that is
 * fatal for the link (the core then restarts the worker).  Handlers check
 * the exact size again with msg_expect_len() / msg_get_tail() and every
 * fixed string with msg_str_ok().
 *
 * A PIN travels only in struct msg_card_sign_req; both ends wipe it, and
 * the framing layer wipes its buffers after every message.
 */
#ifndef KIOSK_MSG_H
#define KIOSK_MSG_H

#include <sys/types.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

struct event_base;

#define MSG_VERSION		1		/* carried by MSG_HELLO */
#define MSG_MAX_PAYLOAD		65536
#define MSG_QUEUE_MAX		(4u * 1024 * 1024) /* bytes queued per peer */

struct msg_hdr {
	uint32_t	type;		/* enum msg_type */
	uint32_t	len;		/* payload bytes after the header */
	uint64_t	sid;		/* resident session id, 0 for none */
	uint32_t	pid;		/* sender's pid */
	uint32_t	flags;		/* reserved, sent as 0 */
};
#define MSG_HDR_SIZE		sizeof(struct msg_hdr)

/*
 * Message numbers.  Numbers are grouped by peer and NEVER reused: a retired
 * message keeps its line here as a comment ("17 retired: ...") so an old
 * worker can never be misread by a newer core.  Printer numbers 96..127 are
 * reserved for the printer worker; they are unknown (hence fatal) until
 * defined.
 */
enum msg_type {
	MSG_NONE = 0,			/* never sent */

	/* control, 1..15: both directions */
	MSG_HELLO = 1,			/* struct msg_hello, worker first */
	MSG_SHUTDOWN = 2,		/* empty, core -> worker: exit */
	MSG_PING = 3,			/* struct msg_ping, liveness */
	MSG_PONG = 4,			/* struct msg_ping, echoed cookie */

	/* card worker, 16..47 */
	MSG_CARD_READ_REQ = 16,		/* struct msg_card_read_req */
	MSG_CARD_INFO = 17,		/* struct msg_card_info + cert DER */
	MSG_CARD_SIGN_REQ = 18,		/* struct msg_card_sign_req (PIN) */
	MSG_CARD_SIGN_RESULT = 19,	/* struct msg_card_sign_result */
	MSG_CARD_EVENT = 20,		/* struct msg_card_event */
	MSG_CARD_ABORT = 21,		/* empty: drop the card session */

	/* backend worker, 48..95 */
	MSG_BACKEND_SESSION_REQ = 48,	/* empty */
	MSG_BACKEND_SESSION_RESULT = 49,/* struct msg_backend_session_result */
	MSG_BACKEND_AUTH_REQ = 50,	/* struct msg_backend_auth_req + cert */
	MSG_BACKEND_AUTH_RESULT = 51,	/* ..._auth_result + JSON */
	MSG_BACKEND_ISSUE_REQ = 52,	/* ..._issue_req + JSON */
	MSG_BACKEND_ISSUE_RESULT = 53,	/* ..._issue_result + tail */
	MSG_BACKEND_REPORT_REQ = 54,	/* struct msg_backend_report_req */
	MSG_BACKEND_REPORT_RESULT = 55,	/* struct msg_backend_report_result */
	MSG_BACKEND_STATUS_REQ = 56,	/* empty */
	MSG_BACKEND_STATUS = 57,	/* struct msg_backend_status */

	/* printer worker, 96..127 (96..99 and 110..127 unused so far) */
	MSG_PRINT_FIRST_RESERVED = 96,
	MSG_PRINT_JOB_REQ = 100,	/* struct msg_print_job_req + content */
	MSG_PRINT_SPOOLED = 101,	/* struct msg_print_job: CUPS has it */
	MSG_PRINT_PROGRESS = 102,	/* struct msg_print_job: state changed */
	MSG_PRINT_DONE = 103,		/* struct msg_print_job: final */
	MSG_PRINT_CANCEL_REQ = 104,	/* struct msg_print_cancel_req */
	MSG_PRINT_CANCEL_RESULT = 105,	/* struct msg_print_job */
	MSG_PRINT_QUERY_REQ = 106,	/* struct msg_print_query_req */
	MSG_PRINT_QUERY_RESULT = 107,	/* struct msg_print_job */
	MSG_PRINT_STATE_REQ = 108,	/* empty */
	MSG_PRINT_STATE = 109,		/* struct msg_print_state */
	MSG_PRINT_LAST_RESERVED = 127,

	MSG_TYPE_LIMIT = 128		/* every type is below this */
};

/* Which process a HELLO comes from. */
enum msg_role {
	MSG_ROLE_CORE = 0,
	MSG_ROLE_CARD = 1,
	MSG_ROLE_BACKEND = 2,
	MSG_ROLE_PRINTER = 3,
	MSG_ROLE_TEST = 15
};

#define MSG_NAME_LEN		16	/* fixed strings include the NUL */
#define MSG_READER_LEN		128	/* pcsc-lite MAX_READERNAME */
#define MSG_LABEL_LEN		36
#define MSG_DOCCODE_LEN		256	/* doccode.h text + NUL */
#define MSG_PIN_SIZE		8	/* PIN field; 4 digits used today */
#define MSG_CHALLENGE_MAX	64
#define MSG_SIG_MAX		512	/* RSA-4096 */
#define MSG_CERT_MAX		8192	/* JPKI_CERT_MAX */
#define MSG_CENTER_ID_LEN	40	/* 32 hex + NUL, padded */
#define MSG_DOCTYPE_LEN		32
#define MSG_IDEMKEY_LEN		68	/* 16..64 chars + NUL, padded */
#define MSG_CODE_LEN		32	/* center error code / reason */
#define MSG_OPTIONS_MAX		4096	/* issuance options JSON */

struct msg_hello {
	uint32_t	version;	/* MSG_VERSION */
	uint32_t	role;		/* enum msg_role */
	char		name[MSG_NAME_LEN];
};

struct msg_ping {
	uint64_t	cookie;
};

/* Results of the card worker: wire values, stable across versions. */
enum msg_card_status {
	MSG_CARD_OK = 0,
	MSG_CARD_NO_SERVICE = 1,	/* pcscd unreachable */
	MSG_CARD_NO_READER = 2,
	MSG_CARD_NO_CARD = 3,
	MSG_CARD_REMOVED = 4,
	MSG_CARD_NOT_JPKI = 5,
	MSG_CARD_PIN_WRONG = 6,		/* tries_left says how many remain */
	MSG_CARD_PIN_BLOCKED = 7,
	MSG_CARD_COMM = 8,		/* transport or protocol failure */
	MSG_CARD_BUSY = 9,
	MSG_CARD_TIMEOUT = 10,
	MSG_CARD_ABORTED = 11,
	MSG_CARD_INTERNAL = 12,
	MSG_CARD_STATUS_LIMIT
};

struct msg_card_read_req {
	char		reader[MSG_READER_LEN];	/* "": any reader */
};

#define MSG_CARD_F_CERT_NEEDS_PIN	0x01	/* smartphone token */

struct msg_card_info {
	int32_t		status;		/* enum msg_card_status */
	uint32_t	token;		/* enum jpki_token */
	int32_t		pin_tries;	/* -1 unknown, 0 blocked */
	uint32_t	flags;		/* MSG_CARD_F_* */
	char		label[MSG_LABEL_LEN];
	char		reader[MSG_READER_LEN];
	uint32_t	cert_len;	/* DER bytes after the struct */
	uint32_t	pad;
	/* uint8_t cert[cert_len], cert_len <= MSG_CERT_MAX */
};

/* The PIN: exactly MSG_PIN_SIZE bytes, pin_len used; wiped on receipt. */
struct msg_card_sign_req {
	char		pin[MSG_PIN_SIZE];
	uint32_t	pin_len;
	uint32_t	challenge_len;
	uint8_t		challenge[MSG_CHALLENGE_MAX];
};

struct msg_card_sign_result {
	int32_t		status;		/* enum msg_card_status */
	int32_t		tries_left;	/* after PIN_WRONG; -1 unknown */
	uint32_t	sig_len;
	uint32_t	pad;
	uint8_t		sig[MSG_SIG_MAX];
};

enum msg_card_event_kind {
	MSG_CARD_EV_INSERTED = 1,
	MSG_CARD_EV_REMOVED = 2,
	MSG_CARD_EV_READER_GONE = 3,
	MSG_CARD_EV_READER_BACK = 4
};

struct msg_card_event {
	uint32_t	event;		/* enum msg_card_event_kind */
	uint32_t	pad;
	char		reader[MSG_READER_LEN];
};

/* Results of the backend worker. */
enum msg_backend_rc {
	MSG_BACKEND_OK = 0,
	MSG_BACKEND_CENTER_ERROR = 1,	/* the center answered an error: code */
	MSG_BACKEND_UNREACHABLE = 2,	/* connect failed */
	MSG_BACKEND_TLS = 3,		/* handshake / certificate failure */
	MSG_BACKEND_TIMEOUT = 4,
	MSG_BACKEND_BAD_RESPONSE = 5,	/* malformed answer from the center */
	MSG_BACKEND_INTERNAL = 6,
	MSG_BACKEND_STATUS_LIMIT
};

/* The center's error, when status is MSG_BACKEND_CENTER_ERROR. */
struct msg_backend_error {
	uint32_t	http_status;
	uint32_t	pad;
	char		code[MSG_CODE_LEN];	/* "cert_revoked", ... */
	char		reason[MSG_CODE_LEN];	/* not_eligible reason or "" */
};

struct msg_backend_session_result {
	int32_t		status;		/* enum msg_backend_rc */
	uint32_t	expires_in;	/* seconds */
	struct msg_backend_error error;
	char		center_sid[MSG_CENTER_ID_LEN];
	uint32_t	challenge_len;
	uint8_t		challenge[MSG_CHALLENGE_MAX];
	uint32_t	pad;
};

struct msg_backend_auth_req {
	char		center_sid[MSG_CENTER_ID_LEN];
	uint32_t	sig_len;
	uint32_t	cert_len;	/* DER bytes after the struct */
	uint8_t		sig[MSG_SIG_MAX];
	/* uint8_t cert[cert_len], cert_len <= MSG_CERT_MAX */
};

struct msg_backend_auth_result {
	int32_t		status;
	uint32_t	json_len;	/* the center's 200 body, validated */
	struct msg_backend_error error;
	/* char json[json_len], not NUL-terminated */
};

struct msg_backend_issue_req {
	char		center_sid[MSG_CENTER_ID_LEN];
	char		document[MSG_DOCTYPE_LEN];
	char		idempotency_key[MSG_IDEMKEY_LEN];
	uint32_t	copies;
	uint32_t	options_len;	/* JSON object after the struct */
	/* char options[options_len], options_len <= MSG_OPTIONS_MAX */
};

struct msg_backend_issue_result {
	int32_t		status;
	uint32_t	fee_yen;
	struct msg_backend_error error;
	char		issuance_id[MSG_CENTER_ID_LEN];
	char		code[MSG_DOCCODE_LEN];	/* the signed document code */
	uint32_t	copies;
	uint32_t	content_len;	/* signed content bytes, first */
	uint32_t	sig_len;	/* DER signature, right after */
	uint32_t	pad;
	/* uint8_t content[content_len]; uint8_t sig[sig_len] */
};

enum msg_print_outcome {
	MSG_PRINTED = 1,
	MSG_PRINT_FAILED = 2
};

enum msg_issuance_state {
	MSG_ISSUANCE_COMMITTED = 1,
	MSG_ISSUANCE_VOIDED = 2
};

struct msg_backend_report_req {
	char		issuance_id[MSG_CENTER_ID_LEN];
	uint32_t	outcome;	/* enum msg_print_outcome */
	uint32_t	pages;
};

struct msg_backend_report_result {
	int32_t		status;
	uint32_t	state;		/* enum msg_issuance_state */
	struct msg_backend_error error;
	char		issuance_id[MSG_CENTER_ID_LEN];
};

struct msg_backend_status {
	int32_t		status;		/* msg_backend_rc: OK = center is up */
	uint32_t	rtt_ms;
	int64_t		last_ok;	/* time of the last good answer */
	struct msg_backend_error error;
};

/*
 * The printer worker.  PRINT_JOB_REQ (sid = the session) renders the
 * signed content (or takes the tail as a ready PDF with MSG_PRINT_F_PDF),
 * submits it to CUPS with job-name = issuance_id and answers SPOOLED
 * (status OK and the CUPS job id, or the failure: then nothing follows),
 * then PROGRESS on each change and DONE once the job is completed,
 * canceled, aborted or given up (job timeout).  QUERY_REQ asks CUPS about
 * a job by id or by name (reconciliation after a restart); with follow
 * set the worker then follows it like its own (PROGRESS, DONE).
 * PRINT_STATE is sent on every change of the printer's readiness and in
 * answer to STATE_REQ.
 */
enum msg_print_status {
	MSG_PRINT_OK = 0,
	MSG_PRINT_UNREACHABLE = 1,	/* cupsd unreachable */
	MSG_PRINT_TIMEOUT = 2,		/* cupsd did not answer in time */
	MSG_PRINT_NO_QUEUE = 3,
	MSG_PRINT_NOT_ACCEPTING = 4,	/* the queue rejects jobs */
	MSG_PRINT_FORMAT = 5,		/* the queue takes no PDF */
	MSG_PRINT_REFUSED = 6,		/* CUPS answered an error */
	MSG_PRINT_NOT_FOUND = 7,	/* CUPS knows no such job */
	MSG_PRINT_NOT_POSSIBLE = 8,	/* cancel: the job already ended */
	MSG_PRINT_RENDER = 9,		/* the content did not render */
	MSG_PRINT_BUSY = 10,		/* too many jobs followed */
	MSG_PRINT_INTERNAL = 11,
	MSG_PRINT_STATUS_LIMIT
};

#define MSG_KIOSK_ID_LEN	36	/* CONF_ID_MAX + NUL, padded */
#define MSG_DOCCODE_LEN		256	/* DOCCODE_TEXT_MAX + NUL */
#define MSG_PRINT_REASONS_LEN	128
#define MSG_PRINT_MSG_LEN	160
#define MSG_PRINT_COPIES_MAX	10
#define MSG_PRINT_CONTENT_MAX	(MSG_MAX_PAYLOAD - 512)

/* msg_print_job_req.flags */
#define MSG_PRINT_F_PLAIN	0x01	/* no pantograph/microtext (tests) */
#define MSG_PRINT_F_PDF		0x02	/* the tail is a PDF: print as is */

struct msg_print_job_req {
	char		issuance_id[MSG_CENTER_ID_LEN];	/* CUPS job-name */
	char		kiosk_id[MSG_KIOSK_ID_LEN];	/* printed beside the
							   store name */
	char		code[MSG_DOCCODE_LEN];	/* doccode_format(); "" none */
	uint32_t	copies;		/* 1..MSG_PRINT_COPIES_MAX */
	uint32_t	flags;		/* MSG_PRINT_F_* */
	uint32_t	content_len;	/* bytes after the struct */
	uint32_t	pad;
	/* uint8_t content[content_len], at most MSG_PRINT_CONTENT_MAX */
};

/* msg_print_job.flags: what a failed or unknown job means for paper. */
#define MSG_PRINT_O_MAY_HAVE_PRINTED	0x01	/* it reached the printer:
						   pages may have come out */
#define MSG_PRINT_O_MAY_STILL_PRINT	0x02	/* not known to be final:
						   it may print later */

/* One job as the worker knows it (SPOOLED, PROGRESS, DONE, CANCEL_RESULT,
   QUERY_RESULT). */
struct msg_print_job {
	char		issuance_id[MSG_CENTER_ID_LEN];	/* job-name */
	int32_t		status;		/* enum msg_print_status */
	int32_t		job_id;		/* CUPS job id; 0 none */
	int32_t		job_state;	/* IPP job-state; 0 unknown */
	uint32_t	outcome;	/* DONE: enum msg_print_outcome */
	uint32_t	flags;		/* MSG_PRINT_O_* */
	int32_t		pages;		/* impressions completed; -1 unknown */
	uint32_t	pages_expected;	/* rendered pages x copies; 0 unknown */
	uint32_t	elapsed_ms;	/* since the request */
	uint32_t	matches;	/* QUERY_RESULT by name: how many jobs */
	uint32_t	pad;
	/* "completed", "media-jam", "canceled", "aborted", "timeout",
	   "cups-unreachable", ...; the render error code for RENDER */
	char		reason[MSG_CODE_LEN];
	char		reasons[MSG_PRINT_REASONS_LEN];	/* CUPS's keywords */
};

struct msg_print_cancel_req {
	int32_t		job_id;
	uint32_t	pad;
};

struct msg_print_query_req {
	int32_t		job_id;		/* 0: by issuance_id (job-name) */
	uint32_t	follow;		/* 1: follow it to the end (DONE) */
	char		issuance_id[MSG_CENTER_ID_LEN];
};

/* msg_print_state.flags: the printer's conditions (printer_state.h). */
#define MSG_PRINT_S_OFFLINE		0x0001
#define MSG_PRINT_S_DOOR_OPEN		0x0002
#define MSG_PRINT_S_MEDIA_JAM		0x0004
#define MSG_PRINT_S_MEDIA_EMPTY		0x0008
#define MSG_PRINT_S_TONER_EMPTY		0x0010
#define MSG_PRINT_S_STOPPED		0x0020
#define MSG_PRINT_S_QUEUE_STOPPED	0x0040
#define MSG_PRINT_S_MEDIA_MISSING	0x0080
#define MSG_PRINT_S_MEDIA_LOW		0x0100
#define MSG_PRINT_S_TONER_LOW		0x0200
#define MSG_PRINT_S_OTHER_WARNING	0x0400

struct msg_print_state {
	int32_t		status;		/* MSG_PRINT_OK */
	uint32_t	ready;		/* 1: a document may be printed now */
	uint32_t	flags;		/* MSG_PRINT_S_* */
	int32_t		printer_state;	/* IPP: 3 idle, 4 processing, 5 stopped */
	int32_t		toner_percent;	/* -1 unknown */
	uint32_t	seq;		/* +1 on every change */
	char		reason[MSG_CODE_LEN];	/* "ok", "media-empty", ... */
	char		reasons[256];		/* the printer's keywords */
	char		message_ja[MSG_PRINT_MSG_LEN];	/* for the operator */
	char		message_en[MSG_PRINT_MSG_LEN];
	char		detail[128];		/* offline: why */
};

/* One received message; data points into the peer's buffer and is valid
   (and wiped afterwards) only during the callback. */
struct msg {
	struct msg_hdr	 hdr;
	const uint8_t	*data;
	size_t		 len;
};

enum msg_error {
	MSG_ERR_EOF = 1,	/* the other end closed the link */
	MSG_ERR_IO,		/* read/write failed: errno in the log */
	MSG_ERR_TYPE,		/* unknown message type */
	MSG_ERR_LEN,		/* length outside the type's bounds */
	MSG_ERR_HANDLER		/* a handler called msg_peer_fail() */
};

struct msg_peer;

/* A complete, framing-checked message. */
typedef void	(*msg_recv_cb)(struct msg_peer *, const struct msg *, void *);
/* The link is unusable: no more callbacks follow; free the peer. */
typedef void	(*msg_error_cb)(struct msg_peer *, enum msg_error, void *);

/*
 * Wrap a connected socket (made non-blocking here).  The peer owns fd and
 * closes it in msg_peer_free().  name is used in logs.  NULL on failure.
 */
struct msg_peer	*msg_peer_new(struct event_base *, int fd, const char *name,
		    msg_recv_cb, msg_error_cb, void *arg);
/* Close and free; safe inside the peer's own callbacks. */
void		 msg_peer_free(struct msg_peer *);
/* Queue one message.  -1 with errno EMSGSIZE, ENOBUFS (queue full),
   EINVAL (unknown type, length outside its bounds) or EPIPE (link dead). */
int		 msg_compose(struct msg_peer *, uint32_t type, uint64_t sid,
		    const void *data, size_t len);
/* The same, payload gathered from iov (fixed struct + tail). */
int		 msg_composev(struct msg_peer *, uint32_t type, uint64_t sid,
		    const struct iovec *iov, int iovcnt);
/* Write the queue out now, blocking up to timeout_ms; 0 when empty. */
int		 msg_flush(struct msg_peer *, int timeout_ms);
/* Declare the link broken from inside a handler (bad payload): the error
   callback runs with MSG_ERR_HANDLER once the handler returns. */
void		 msg_peer_fail(struct msg_peer *);
size_t		 msg_peer_queued(const struct msg_peer *);
const char	*msg_peer_name(const struct msg_peer *);
int		 msg_peer_fd(const struct msg_peer *);

/* Receive-side checks: 0 when the payload is exactly right, else -1 with a
   warning naming the peer and type. */
int		 msg_expect_len(const struct msg *, size_t len);
/* Fixed struct of fixed_len, then a tail of exactly tail_len bytes, at most
   tail_max: on success *tail points at it. */
int		 msg_get_tail(const struct msg *, size_t fixed_len,
		    size_t tail_len, size_t tail_max, const uint8_t **tail);
/* 1 when the fixed-size field s[size] holds a NUL. */
int		 msg_str_ok(const char *s, size_t size);
/* Copy a string into a fixed field (zero-filled); -1 when it does not fit. */
int		 msg_str_set(char *dst, size_t size, const char *src);

const char	*msg_type_name(uint32_t type);
const char	*msg_error_name(enum msg_error);
/* 1 when type is defined (known to this build). */
int		 msg_type_known(uint32_t type);
/* Payload bounds of a known type; -1 when unknown. */
int		 msg_type_bounds(uint32_t type, size_t *min, size_t *max);
const char	*msg_card_status_name(int32_t);
const char	*msg_backend_status_name(int32_t);
const char	*msg_print_status_name(int32_t);

/* HELLO helpers: send ours, check theirs (version and role). */
int		 msg_send_hello(struct msg_peer *, enum msg_role,
		    const char *name);
int		 msg_check_hello(const struct msg *, enum msg_role expected);

#endif
