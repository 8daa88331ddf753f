/*
 * kiosk-load: load and correctness tool for the issuance center.
 *
 * One process, one libevent loop: N simulated kiosks, each with its own
 * client certificate, its own card identities (software RSA keys standing
 * in for the cards) and its own kept-alive mTLS connection (libbackend),
 * run full authenticate -> issue -> result transactions, verify every
 * document against the card that authenticated it, and reconcile what they
 * believe against the center's database afterwards.
 */
#ifndef KIOSK_LOAD_H
#define KIOSK_LOAD_H

#include <sys/types.h>

#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>

struct event_base;
struct event;
struct backend;
struct docverify_key;

#define LOAD_KIOSKS_MAX		5000
#define LOAD_CARDS_MAX		16	/* per kiosk */
#define LOAD_TX_MAX		2000000	/* ~260 bytes each */
#define LOAD_CENTERS_MAX	16
#define LOAD_URLS_MAX		16
#define LOAD_EXTRA_ARGS_MAX	32
#define LOAD_DOCS_MAX		8
#define LOAD_RUNID_LEN		8	/* hex chars in idempotency keys */
#define LOAD_CHALLENGE_LEN	32	/* challenge bytes (API.md) */
#define LOAD_SIGNERS		2	/* card signing threads */

/* SIGINT/SIGTERM received (kiosk-load.c): setup gives up, a run stops
   starting transactions at the first and breaks off at the second. */
extern volatile sig_atomic_t load_signals;

/* ---- configuration ---- */

struct load_config {
	int		 kiosks;
	long		 transactions;
	int		 centers;		/* K centers we start */
	int		 center_processes;	/* --processes of each */
	int		 center_threads;	/* --threads of each */
	const char	*center_args[LOAD_EXTRA_ARGS_MAX];
	int		 ncenter_args;
	const char	*urls[LOAD_URLS_MAX];	/* --center: running centers */
	int		 nurls;
	const char	*pki;			/* kiosk-pki directory */
	const char	*db;			/* the center's SQLite file */
	const char	*workdir;		/* logs, default DB and PKI */
	const char	*bindir;		/* build tree or install prefix */
	int		 port;			/* center port; OCSP port + 1 */
	uint64_t	 seed;
	int		 json;
	int		 faults;
	double		 fault_rate;		/* per request */
	int		 kill_interval_ms;	/* center kill period (faults) */
	int		 restart_delay_ms;
	int		 cards_per_kiosk;
	const char	*docs[LOAD_DOCS_MAX];
	int		 ndocs;
	double		 void_rate;		/* share reported "failed" */
	double		 rate;			/* tx/s, 0: closed loop */
	long		 warmup;		/* not measured; -1: default */
	int		 timeout_ms;		/* backend request timeout */
	int		 tx_timeout_ms;		/* give up retrying after */
	int		 self_test_corrupt;
	const char	*status_url;		/* --status-only */
	double		 duration;		/* --status-only seconds */
	int		 quiet;
	int		 verbose;
	int		 keep;			/* keep the work directory */
	const char	*trace;			/* --trace FILE */
};

/* ---- fleet: PKI, database, processes (fleet.c) ---- */

struct card {
	char		 name[64];
	char		 serial[64];		/* hex, as in info.txt */
	uint8_t		*der;			/* auth certificate */
	size_t		 derlen;
	uint8_t		 sha256[32];
	char		 sha256_hex[65];
	EVP_PKEY	*key;			/* auth.key: the "card" */
	int64_t		 resident_id;		/* 0: unknown (no database) */
	char		 res_name[256];		/* "family given", or "" */
	char		 res_birth[16];		/* YYYY-MM-DD, or "" */
};

struct center_proc {
	pid_t		 pid;
	char		 log[PATH_MAX];
	int		 kills;
};

struct fleet {
	const struct load_config *cfg;
	char		 workdir[PATH_MAX];
	int		 own_workdir;		/* made by us: removed at the end */
	char		 pki[PATH_MAX];
	char		 db[PATH_MAX];
	char		 url[128];		/* what the kiosks talk to */
	char		 ocsp_url[64];
	pid_t		 ocsp_pid;
	struct center_proc centers[LOAD_CENTERS_MAX];
	int		 ncenters;
	char		 centerd[PATH_MAX];
	char		 pki_bin[PATH_MAX];
	char		 seed_bin[PATH_MAX];
	double		 child_cpu0;		/* RUSAGE_CHILDREN before centers */
	double		 center_cpu;		/* after they ended */
};

const char	*fleet_kiosk_id(int idx, char *buf, size_t len);
int		 fleet_prepare(struct fleet *, const struct load_config *,
		    int want_centers);
int		 fleet_start_centers(struct fleet *);
int		 fleet_start_ocsp(struct fleet *);
void		 fleet_restart_ocsp(struct fleet *);
int		 fleet_check_ocsp(struct fleet *);
void		 fleet_stop(struct fleet *);
void		 fleet_cleanup(struct fleet *);
/* SIGKILL center i (and its serving processes); 0 or -1. */
int		 fleet_kill_center(struct fleet *, int i);
int		 fleet_spawn_center(struct fleet *, int i);
/* Load card identities of kiosk idx; 0 or -1 with a message. */
int		 fleet_load_cards(const struct fleet *, int idx, int ncards,
		    struct card *, char *err, size_t errlen);
void		 fleet_free_card(struct card *);
/* The expected resident of each card, from the database (0 or -1). */
int		 fleet_card_residents(const char *db, struct card *, size_t n,
		    char *err, size_t errlen);

/* ---- latency samples (stats.c) ---- */

struct samples {
	uint32_t	*us;
	size_t		 n, cap;
};

int		 samples_add(struct samples *, uint32_t us);
/* p in [0, 100]; sorts in place; 0 when empty. */
double		 samples_pct_ms(struct samples *, double p);
void		 samples_free(struct samples *);
double		 now_s(void);
uint64_t	 now_us(void);

/* printf into t->why, truncating */
struct txn;
void		 txn_why(struct txn *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* xoshiro-style PRNG for reproducible choices */
struct rng {
	uint64_t	 s[2];
};
void		 rng_seed(struct rng *, uint64_t);
uint64_t	 rng_next(struct rng *);
double		 rng_unit(struct rng *);	/* [0, 1) */
uint32_t	 rng_below(struct rng *, uint32_t n);

/* ---- the run (txn.c) ---- */

enum tx_final {
	TX_RUNNING = 0,
	TX_DONE,		/* result confirmed by the center */
	TX_REFUSED,		/* a definite refusal; no issuance */
	TX_GAVE_UP		/* retries exhausted; the database decides */
};

enum tx_outcome {
	OUT_PRINTED = 1,
	OUT_FAILED = 2
};

struct txn {
	uint32_t	 no;
	int		 kiosk;
	int		 card;
	int		 doc;		/* index into cfg->docs */
	int		 copies;
	int		 outcome;	/* enum tx_outcome */
	char		 idem[65];
	char		 session_id[33];
	uint8_t		 challenge[LOAD_CHALLENGE_LEN];
	int		 issue_sent;	/* an issue may have reached the center */
	int		 have_issuance;
	char		 issuance_id[33];
	uint8_t		 content_sha[32];
	int		 result_state;	/* 0, 1 committed, 2 voided */
	uint8_t		 final;		/* enum tx_final */
	uint8_t		 wrong_person;
	uint8_t		 bad_document;
	uint8_t		 duplicated;
	uint8_t		 lost;
	uint8_t		 corrupt;	/* --self-test-corrupt target */
	uint16_t	 sessions;
	uint16_t	 retries;
	uint64_t	 t_start_us;
	uint64_t	 deadline_us;
	uint32_t	 lat_us;
	char		 why[96];	/* last error or finding */
};

struct run_counts {
	long		 started, done, refused, gave_up;
	long		 committed, voided;
	long		 wrong_person, bad_document, duplicated, lost;
	long		 retries, sessions_extra;
	long		 f_cancel, f_drop, f_replay, f_kill;
	long		 signatures;
	double		 sign_s;		/* time spent signing */
	double		 verify_s;		/* time spent in docverify */
};

/* ---- the cards' signatures, off the loop (cardpool.c) ---- */
/* sig is NULL when the signature failed; secs is the CPU time it took. */
typedef void	(*cardpool_done_fn)(void *arg, const uint8_t *sig,
		    size_t siglen, double secs);
struct cardpool;
struct cardpool	*cardpool_new(struct event_base *, int nthreads);
/* sha256WithRSAEncryption over msg[LOAD_CHALLENGE_LEN]; done in the loop. */
int		 cardpool_sign(struct cardpool *, EVP_PKEY *,
		    const uint8_t *msg, cardpool_done_fn, void *arg);
void		 cardpool_free(struct cardpool *);

struct run {
	struct load_config	*cfg;
	struct fleet		*fleet;
	struct event_base	*base;
	struct docverify_key	*dockey;
	struct cardpool		*cards;		/* the cards' signatures */
	char			 runid[LOAD_RUNID_LEN + 1];
	struct rng		 rng;
	struct kiosk		*kiosks;
	int			 nkiosks;
	int			 active;	/* kiosks still running */
	struct txn		*tx;		/* cfg->transactions of them */
	long			 next_tx;
	struct run_counts	 c;
	struct samples		 lat_tx;	/* whole transactions */
	struct samples		 lat_req[4];	/* session, auth, issue, result */
	double			 t0, t1;
	double			 tm;		/* after the warm-up */
	uint64_t		 measure0_us;	/* the same, for the schedule */
	long			 warm_open;	/* warm-up transactions not ended */
	FILE			*trace;		/* --trace */
	long			 measured;	/* done after the warm-up */
	time_t			 wall0;
	struct event		*kill_ev;
	int			 kill_next;
	int			 kill_restarting;
	struct event		*progress_ev;
	struct event		*watch_ev;
	long			 progress_last;
	struct event		*sig_poll;
	int			 interrupted;
	uint32_t		 corrupt_no;	/* self-test target */
	long			 c_db_rows;	/* issuances of this run */
	long			 phantoms;	/* issuances nobody asked for */
	int			 reconciled;
};

int		 run_transactions(struct run *);
struct card	*run_card(struct run *, const struct txn *);
const char	*run_kiosk_id(struct run *, const struct txn *);
void		 run_free(struct run *);
/* --status-only: GET /v1/status from every kiosk for cfg->duration s. */
int		 run_status(struct load_config *, struct fleet *, const char *url);

/* ---- checks (check.c) ---- */

/*
 * Check one issuance answer: docverify (signature over the exact bytes,
 * binding session / card hash / kiosk / issuance / document / copies) and
 * that the body names the card's resident.  Sets tx->wrong_person or
 * tx->bad_document with tx->why.  Returns 0 when the document may be
 * printed.
 */
struct backend_issuance;
int		 check_document(struct run *, struct txn *,
		    const struct card *, const char *kiosk_id,
		    const struct backend_issuance *);
/* Reconcile every transaction against the database; -1 when it cannot. */
int		 check_reconcile(struct run *, const char *db);
/* Tally the per-transaction findings into r->c. */
void		 check_tally(struct run *);

#endif
