/*
 * kiosk-centerd: the reference issuance center.  Umbrella header of the
 * daemon: the configuration, the read-only context every request sees,
 * and one request in flight (struct api_job).
 *
 * Process model: a supervisor forks N serving processes; each has one
 * libevent loop thread (TLS, HTTP parsing, replies, and the challenges:
 * a MAC and a queued row, no read and no wait) and a pool of worker
 * threads, each with its own database connection, that run the handlers'
 * reads, one writer thread (writer.h) that commits the writes of all
 * handlers in groups, and a few threads that ask the OCSP responder
 * (ocsp_fetch.h) while the authentication that needs the answer waits
 * off the workers.  The authentication (a refused one too: its challenge
 * is used up before the refusal goes out), issuance and result handlers
 * hand their write over together with the job (writer_submit) and take
 * the next job; the reply is made by the writer's answer, once the write is
 * durable, and goes back to the loop (api_job_done).  Nothing about a
 * request lives outside its api_job (and, on its way through the
 * writer, the answer's state that carries it): there is no "current"
 * session, resident or document anywhere (DOMAIN.md §3).
 */
#ifndef KIOSK_CENTERD_H
#define KIOSK_CENTERD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "eligibility.h"
#include "jpki_verify.h"
#include "store.h"
#include "writer.h"

#define CENTER_VERSION		1
#define CENTER_BODY_MAX		(64 * 1024)	/* API.md: bodies <= 64 KiB */
#define CENTER_PATH_MAX		256
#define CENTER_ROOTS_MAX	16
#define CENTER_CRLS_MAX		8
#define CENTER_NAME_MAX		128		/* municipality, mayor */
#define CENTER_COPIES_MAX	10
#define CENTER_PAGES_MAX	1000
#define CENTER_PROCESSES_MAX	64
#define CENTER_THREADS_MAX	64
#define CENTER_QUEUE_MAX	8192		/* jobs waiting per process */
#define CENTER_SESSION_KEY_LEN	32		/* HMAC-SHA256 key of challenges */
#define CENTER_CHALLENGE_TTL_MAX 600		/* --challenge-ttl bound */

struct center_config {
	char		 db[1024];
	char		 listen_host[256];
	char		 listen_port[8];
	char		 cert[1024];
	char		 key[1024];
	char		 client_ca[1024];
	char		 client_crl[1024];	/* "" : none */
	char		 auth_roots[CENTER_ROOTS_MAX][1024];
	size_t		 nauth_roots;
	char		 ocsp_url[1024];	/* "" : CRL only */
	char		 ocsp_signer[1024];	/* "" : the response's own */
	int		 ocsp_timeout_ms;
	int		 ocsp_cache_ttl;	/* seconds; 0: no cache */
	int		 ocsp_threads;		/* queries at once per process */
	char		 crls[CENTER_CRLS_MAX][1024];
	size_t		 ncrls;
	char		 doc_key[1024];
	char		 doc_cert[1024];
	char		 session_key[1024];	/* "" : kept in the database */
	char		 municipality[CENTER_NAME_MAX];
	char		 mayor[CENTER_NAME_MAX];
	int		 processes;
	int		 threads;
	int		 challenge_ttl;		/* seconds */
	int		 session_lifetime;	/* seconds after auth */
	int		 idle_timeout;		/* seconds, keep-alive */
	int		 fees[DOC_COUNT];	/* yen per copy */
	struct elig_config elig;
	int		 debug;
};

struct ocsp_fetch;
struct auth_park;

/* Read-only after start: shared by every thread of a serving process. */
struct center {
	const struct center_config *cfg;
	struct jpki_trust	*trust;
	EVP_PKEY		*doc_key;
	char			 doc_key_id[65];	/* hex SHA-256 of SPKI */
	struct ocsp_cache	*ocsp_cache;		/* NULL: disabled */
	/* per serving process, set before the workers start */
	struct writer		*writer;		/* group commit */
	struct ocsp_fetch	*ocsp_fetch;		/* NULL: no responder */
	uint8_t			 session_key[CENTER_SESSION_KEY_LEN];
	int			 have_session_key;	/* from --session-key */
};

/* The routes of API.md. */
enum api_route {
	ROUTE_STATUS = 0,
	ROUTE_SESSIONS,
	ROUTE_SESSION_AUTH,
	ROUTE_ISSUANCES,
	ROUTE_ISSUANCE_RESULT,
	ROUTE_PURGE		/* internal: expired sessions */
};

struct evhttp_request;

/*
 * One request in flight.  The loop thread fills the request part, a
 * worker the reply part; the loop thread sends the reply and frees it.
 */
struct api_job {
	enum api_route		 route;
	char			 path_id[STORE_KEY_MAX];
	char			 kiosk_id[STORE_KEY_MAX];
	char			*body;		/* NUL-terminated copy */
	size_t			 body_len;
	struct evhttp_request	*req;		/* NULL for internal jobs */
	struct timespec		 started;
	/* reply */
	int			 status;
	char			*reply;		/* JSON text, malloc'd */
	size_t			 reply_len;
	char			 note[160];	/* for the access log, no PII */
	/* POST .../auth: waiting for (then with) its OCSP answer, off the
	   workers; NULL until it is asked (api_sessions.c) */
	struct auth_park	*park;
	struct api_job		*next;
};

/* A worker thread's own resources. */
struct http_server;

struct api_worker {
	const struct center	*c;
	struct store		*st;
	int			 index;
	struct http_server	*server;
};

/* api_util.c: replies and strict JSON reading. */
void	api_reply_text(struct api_job *, int status, char *json);
void	api_reply_json(struct api_job *, int status, json_t *);
void	api_reply_error(struct api_job *, int status, const char *code,
	    const char *en, const char *ja);
/* 400 bad_request naming the offending field. */
void	api_bad_request(struct api_job *, const char *what);
/* A store failure: 503 store_busy or 500 internal_error. */
void	api_store_error(struct api_job *, const struct api_worker *, int rc,
	    const char *op);
/* The same for a write that failed in the writer, with its reason. */
void	api_write_error(struct api_job *, const struct api_worker *, int rc,
	    const char *op, const char *why);
/* RFC 3339 UTC ("2026-01-02T03:04:05Z") into buf (>= 21 bytes). */
const char *api_time(time_t, char *buf, size_t len);
int	api_random_hex(char *out, size_t nbytes);	/* out: 2n+1 */
int	api_is_hex(const char *s, size_t len);
/*
 * Strict JSON: the body must be one object; fields not in `allowed`
 * (NULL-terminated) are refused.  Each getter answers 400 itself and
 * returns -1 on a wrong type, a bound violated or a missing required
 * field; 0 when absent and optional (out untouched), 1 when present.
 */
json_t	*api_body_object(struct api_job *, const char *const *allowed);
int	 api_get_string(struct api_job *, json_t *, const char *key,
	    int required, size_t minlen, size_t maxlen, const char **out);
int	 api_get_int(struct api_job *, json_t *, const char *key,
	    int required, json_int_t min, json_int_t max, json_int_t *out);
int	 api_get_bool(struct api_job *, json_t *, const char *key,
	    int *out);
/* Standard base64; decode refuses anything but canonical input. */
char	*api_base64(const uint8_t *, size_t);
int	 api_unbase64(const char *, uint8_t *out, size_t outmax,
	    size_t *outlen);

/*
 * api_records.c: the records of ONE resident that the eligibility rules
 * and the documents need, loaded fresh for each request.
 */
#define REC_MEMBERS	0x01	/* household and its active members */
#define REC_SEAL	0x02
#define REC_TAX		0x04	/* the current fiscal year's record */
#define REC_KOSEKI	0x08	/* the register */
#define REC_FUHYO	0x10	/* whether a member is protected */
#define REC_SEAL_IMAGE	0x20	/* with REC_SEAL: the impression too */
#define REC_KOSEKI_ENTRIES 0x40	/* with REC_KOSEKI: its entries too */
#define REC_FUHYO_LINES	0x80	/* with REC_FUHYO: the 附票 lines too */
#define REC_TAX_ITEMS	0x100	/* with REC_TAX: its items too */
#define REC_ALL		0x1f	/* all the menu needs: no image, entries,
				   lines or items */

struct api_records {
	struct resident		 res;
	struct household	 hh;
	int			 has_hh;
	struct resident		*members;	/* active, head first */
	size_t			 nmembers;
	int			 self_index;	/* res in members, or -1 */
	struct seal		 seal;
	int			 has_seal;
	struct tax_record	 tax;
	int			 has_tax;
	struct koseki		 koseki;
	int			 has_koseki;
	struct koseki_entry	*entries;
	size_t			 nentries;
	struct fuhyo_entry	*fuhyo;
	size_t			 nfuhyo;
	int			 fuhyo_protected; /* a member under 支援措置 */
};

struct doc_options;

/* Loads `what` for the resident in rec->res; -1 after a store reply. */
int	api_records_load(struct api_worker *, struct api_job *, unsigned what,
	    time_t now, struct api_records *);
void	api_records_free(struct api_records *);
/*
 * Eligibility of one document with these options: ELIG_OK, ELIG_REFUSED
 * or -1 (out of memory).  chosen (may be NULL): the members a 住民票
 * prints, in household order, malloc'd copies the caller frees.
 */
int	api_eligible(const struct center *, const struct api_records *,
	    enum doc_type, const struct doc_options *, time_t now,
	    struct elig_result *, struct resident **chosen, size_t *nchosen);
/* 403 not_eligible with the refusal's reason and messages. */
void	api_not_eligible(struct api_job *, const struct elig_result *);

/* api_sessions.c, api_issuances.c */
void	api_session_create(struct api_worker *, struct api_job *);
int	api_session_auth(struct api_worker *, struct api_job *);
/* 1 when the job went to the writer (writer_submit): see api_job_done */
int	api_issuance_create(struct api_worker *, struct api_job *);
int	api_issuance_result(struct api_worker *, struct api_job *);
void	api_purge(struct api_worker *, struct api_job *);
/*
 * The session key of this process: from --session-key (loaded by the
 * supervisor) or the one stored in the database, created by the first
 * process that needs it.  -1 with a message.
 */
int	api_session_key_init(struct center *, char *err, size_t errlen);
int	api_session_key_file(struct center *, const char *path, char *err,
	    size_t errlen);
/*
 * Runs the job's handler (worker thread).  0: the reply is in the job.
 * 1: the handler handed the job on with its write (writer_submit), and
 * whoever answers it calls api_job_done; the job is not the caller's any
 * more, it may already be answered and freed.
 */
int	api_dispatch(struct api_worker *, struct api_job *);
/* A job's reply is ready: back to the loop thread (any thread; http.c). */
void	api_job_done(struct api_worker *, struct api_job *);
/* A job handed on that must run its handler again (any thread; http.c). */
void	api_job_requeue(struct api_worker *, struct api_job *);
/* What job_free frees of an authentication parked for OCSP. */
void	api_auth_park_free(struct auth_park *);
/* The OCSP fetch pool's query (ocsp_fetch.h); trust: the center's. */
void	api_auth_ocsp_query(void *trust, const void *subject, time_t now,
	    int timeout_ms, struct jpki_ocsp_answer *);

#endif
