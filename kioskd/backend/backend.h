/*
 * The kiosk's client of the issuance center (center/API.md, version 1).
 *
 * Runs inside the backend worker, the only process that loads the kiosk's
 * TLS private key.  Everything is asynchronous on the worker's libevent
 * loop: a call queues a request and returns at once; its callback runs
 * later from the loop, exactly once, unless the request was cancelled with
 * backend_cancel().  Results handed to a callback are valid only during
 * that callback: copy what you keep.
 *
 * Requests go one at a time over one kept-alive TLS 1.3 connection
 * (mutual authentication, the center CA pinned).  A request that is
 * idempotent by construction (GET /v1/status, POST /v1/issuances with its
 * idempotency key, POST .../result) is re-sent after a dropped connection;
 * POST /v1/sessions and .../auth never are: the caller sees
 * BACKEND_E_IO with maybe_processed set and decides.
 */
#ifndef KIOSK_BACKEND_H
#define KIOSK_BACKEND_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct backend;

#define BACKEND_ID_LEN		32	/* session and issuance ids: hex chars */
#define BACKEND_CHALLENGE_LEN	32
#define BACKEND_IDEMKEY_LEN	32	/* what backend_idempotency_key() makes */
#define BACKEND_IDEMKEY_MIN	16	/* what API.md accepts */
#define BACKEND_IDEMKEY_MAX	64
#define BACKEND_CODE_MAX	31	/* error codes and reasons, like MSG_CODE_LEN */
#define BACKEND_MAX_DOCS	16
#define BACKEND_CERT_MAX	8192	/* card certificate DER */
#define BACKEND_SIG_MAX		512	/* card signature (RSA-4096) */
#define BACKEND_OPTIONS_MAX	4096	/* issuance options JSON */
#define BACKEND_CONTENT_MAX	(256 * 1024)	/* decoded signed content */
#define BACKEND_DOCCODE_MAX	255	/* the signed document code's text */
#define BACKEND_DOCSIG_MAX	80	/* DER ECDSA P-256 signature (<= 72) */
#define BACKEND_MAX_COPIES	10
#define BACKEND_MAX_PAGES	10000

struct backend_config {
	const char	*url;		/* "https://host[:port][/]", no path */
	const char	*ca_file;	/* center CA (PEM), the only trust anchor */
	const char	*cert_file;	/* kiosk client certificate (PEM chain) */
	const char	*key_file;	/* its private key (PEM) */
	int		 timeout_ms;	/* per request, queueing included; 0: 10000 */
	int		 max_attempts;	/* sends of a retryable request; 0: 3 */
	int		 idle_max_ms;	/* reuse an idle connection this long; 0: 30000 */
	size_t		 max_response;	/* response body bound; 0: 1 MiB */
};

enum backend_errkind {
	BACKEND_OK = 0,
	BACKEND_E_CONNECT,	/* name resolution or TCP connect failed */
	BACKEND_E_TLS,		/* handshake, certificate or TLS alert */
	BACKEND_E_IO,		/* connection lost during the request */
	BACKEND_E_TIMEOUT,	/* no complete answer within timeout_ms */
	BACKEND_E_PROTOCOL,	/* the answer violates API.md */
	BACKEND_E_SERVER,	/* the center answered an API.md error object */
	BACKEND_E_SHUTDOWN,	/* backend_free() with the request pending */
	BACKEND_E_INTERNAL	/* out of memory and the like */
};

struct backend_error {
	enum backend_errkind kind;
	int		 http_status;	/* 0 when no status line was read */
	int		 maybe_processed; /* the request reached the wire */
	char		 code[BACKEND_CODE_MAX + 1];	/* E_SERVER: API.md code */
	char		 reason[BACKEND_CODE_MAX + 1];	/* not_eligible reason */
	char		 message[512];		/* center's English text, or ours */
	char		 message_ja[1024];	/* center's Japanese text or "" */
};

/* POST /v1/sessions */
struct backend_session {
	char		 session_id[BACKEND_ID_LEN + 1];
	uint8_t		 challenge[BACKEND_CHALLENGE_LEN];
	char		 expires_at[40];	/* RFC 3339 UTC, syntax checked */
	int		 expires_in;		/* seconds, 1..3600 */
};

struct backend_unavailable {
	int		 present;
	char		 reason[BACKEND_CODE_MAX + 1];
	char		 message[512];
	char		 message_ja[1024];
};

struct backend_doc {
	char		 type[32];		/* one of API.md's document types */
	char		 title_ja[256];
	char		 title_en[256];
	int		 fee_yen;
	int		 max_copies;
	char		 options_json[BACKEND_OPTIONS_MAX]; /* compact JSON object */
	struct backend_unavailable unavailable;
};

/* POST /v1/sessions/{id}/auth, 200 */
struct backend_auth {
	char		 display_name[256];	/* personal data: never log */
	char		 resident_ref[65];	/* short hash, fit for logs */
	char		 cert_serial[129];	/* hex */
	char		 cert_not_after[40];	/* RFC 3339 */
	int		 expires_soon;
	size_t		 ndocs;
	struct backend_doc docs[BACKEND_MAX_DOCS];
	const char	*json;		/* the validated body, as received */
	size_t		 json_len;
};

/* POST /v1/issuances, 200 or 201 */
struct backend_issuance {
	int		 created;	/* 201: new; 0: 200, the same issuance again */
	char		 issuance_id[BACKEND_ID_LEN + 1];
	int		 fee_yen;
	int		 copies;
	const uint8_t	*content;	/* the exact signed bytes, decoded */
	size_t		 content_len;
	const uint8_t	*signature;	/* DER ECDSA */
	size_t		 sig_len;
	char		 key_id[65];	/* hex SHA-256 of the signer's SPKI */
	char		 code[BACKEND_DOCCODE_MAX + 1];	/* doccode.h text */
};

enum backend_outcome {
	BACKEND_PRINTED = 1,
	BACKEND_FAILED = 2
};

/* POST /v1/issuances/{id}/result, 200 */
struct backend_result {
	char		 issuance_id[BACKEND_ID_LEN + 1];
	int		 committed;	/* 1 committed, 0 voided */
};

/* GET /v1/status, 200 */
struct backend_status {
	int		 version;
	int		 rtt_ms;
};

/* On success err->kind is BACKEND_OK and the result is non-NULL; else NULL. */
typedef void (*backend_session_cb)(const struct backend_error *err,
    const struct backend_session *, void *arg);
typedef void (*backend_auth_cb)(const struct backend_error *err,
    const struct backend_auth *, void *arg);
typedef void (*backend_issue_cb)(const struct backend_error *err,
    const struct backend_issuance *, void *arg);
typedef void (*backend_result_cb)(const struct backend_error *err,
    const struct backend_result *, void *arg);
typedef void (*backend_status_cb)(const struct backend_error *err,
    const struct backend_status *, void *arg);

/*
 * Load the TLS context (the key is read once, here) and prepare the
 * client.  No connection is made until the first request.  NULL with a
 * message in err on failure.  Sets SIGPIPE to SIG_IGN if it was SIG_DFL.
 */
struct backend	*backend_new(struct event_base *, const struct backend_config *,
		    char *err, size_t errlen);
/* Pending callbacks run with BACKEND_E_SHUTDOWN.  Safe inside a callback. */
void		 backend_free(struct backend *);

/*
 * Each call returns a request id (> 0), or 0 when the arguments are
 * invalid or memory is short: then the reason is logged and the callback
 * will not run.
 */
uint64_t	 backend_session_new(struct backend *, backend_session_cb,
		    void *arg);
uint64_t	 backend_auth(struct backend *, const char *session_id,
		    const uint8_t *cert_der, size_t cert_len,
		    const uint8_t *sig, size_t sig_len, backend_auth_cb, void *arg);
/* options_json: a JSON object ("{}" for none), at most BACKEND_OPTIONS_MAX. */
uint64_t	 backend_issue(struct backend *, const char *session_id,
		    const char *document, const char *options_json, int copies,
		    const char *idempotency_key, backend_issue_cb, void *arg);
uint64_t	 backend_result(struct backend *, const char *issuance_id,
		    enum backend_outcome, int pages, backend_result_cb, void *arg);
uint64_t	 backend_status(struct backend *, backend_status_cb, void *arg);

/*
 * Forget a request: its callback will not run.  One that is already on
 * the wire still completes there (its answer is read and dropped) so the
 * connection stays usable.  Returns 0, or -1 for an unknown id.
 */
int		 backend_cancel(struct backend *, uint64_t id);

/* 32 random lower-case hex chars and a NUL (dst >= 33 bytes); -1 on error. */
int		 backend_idempotency_key(char *dst, size_t dstlen);

/* Counters for the status socket and for tests. */
struct backend_stats {
	unsigned long	 connects;	/* TCP connections opened */
	unsigned long	 handshakes;	/* TLS handshakes completed */
	unsigned long	 resumed;	/* of which resumed a session */
	unsigned long	 requests;	/* requests written, retries included */
	unsigned long	 retries;
};
void		 backend_get_stats(const struct backend *, struct backend_stats *);

const char	*backend_errkind_name(enum backend_errkind);
/* Is this one of API.md's document types? */
int		 backend_doctype_valid(const char *);

#endif
