/*
 * kiosk-load: load and correctness tool for kiosk-centerd (see usage()).
 *
 * Exit status: 0 when every transaction checked out (wrong_person, lost,
 * duplicated and bad documents all zero, at least one transaction done);
 * 1 when the run found a problem; 2 on a usage or set-up error.
 */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backend.h"
#include "load.h"
#include "log.h"
#include "util.h"

volatile sig_atomic_t load_signals;

static void
on_signal(int sig)
{
	(void)sig;
	if (load_signals < 100)
		load_signals++;
}

static const char *const default_docs[] = {
	"juminhyo", "inkan", "tax_shotoku", "koseki_kojin"
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: kiosk-load [--kiosks N] [--transactions M] [--centers K] [--faults]\n"
"                  [--pki DIR] [--center URL ...] [--db FILE] [--seed S]\n"
"                  [--json] [options]\n"
"       kiosk-load --status-only URL|local [--duration S] [--kiosks N]\n"
"                  [--pki DIR] [options]\n"
"\n"
"Simulates N kiosks, each with its own client certificate, its own card\n"
"identities (software RSA keys: sha256WithRSA over each challenge) and one\n"
"kept-alive mTLS connection, running authenticate -> issue -> result\n"
"transactions against the center.  Every document is verified against the\n"
"card that authenticated it; afterwards every transaction is reconciled\n"
"against the database.  The last line printed is\n"
"  transactions=N tps=X p50_ms=Y p99_ms=Z wrong_person=0 lost=0 duplicated=0\n"
"(transaction latency: session opened to result confirmed).\n"
"\n"
"Without --center it makes what it needs (the PKI in --pki DIR if missing,\n"
"kiosk certificates, cards, the seeded database, an `openssl ocsp`\n"
"responder, K kiosk-centerd instances on one database and one port) and\n"
"stops it all at the end.\n"
"\n"
"  --kiosks N            simulated kiosks (default 10, at most %d)\n"
"  --transactions M      transactions in all (default 1000)\n"
"  --centers K           kiosk-centerd instances to start (default 1)\n"
"  --center-processes P  --processes of each center (default 1)\n"
"  --center-threads T    --threads of each center (default 16)\n"
"  --center-arg ARG      one more argument for every center (repeatable)\n"
"  --center URL          use a running center (repeatable: kiosks are\n"
"                        spread over them); needs --pki, and --db for the\n"
"                        reconciliation\n"
"  --pki DIR             kiosk-pki directory (default WORKDIR/pki)\n"
"  --db FILE             the center's SQLite database (default\n"
"                        WORKDIR/town.db, seeded when new)\n"
"  --workdir DIR         logs, default PKI and database (default a new\n"
"                        /tmp/kiosk-load.XXXXXX, removed at the end)\n"
"  --keep                keep the default work directory\n"
"  --bindir DIR          build tree (or directory) with kiosk-pki,\n"
"                        kiosk-center-seed and kiosk-centerd\n"
"  --port P              center port; the OCSP responder uses P+1\n"
"                        (default 18460)\n"
"  --cards-per-kiosk C   card identities per kiosk (default 2)\n"
"  --documents LIST      document types, comma separated (default\n"
"                        juminhyo,inkan,tax_shotoku,koseki_kojin)\n"
"  --void-rate F         share of transactions reported failed (0.1)\n"
"  --rate TPS            start transactions at this rate (default: as\n"
"                        fast as the kiosks go, each one after the other)\n"
"  --warmup N            the first N transactions are done and checked\n"
"                        but not measured (default: one per card, at most\n"
"                        a quarter of the run); the measured ones start\n"
"                        when all of them have ended\n"
"  --trace FILE          one line per ended transaction: number, kiosk,\n"
"                        warmup or measured, start and end (ms from the\n"
"                        run's start; the start is the scheduled one with\n"
"                        --rate) and how it ended\n"
"  --timeout MS          request timeout of the kiosk client (10000)\n"
"  --tx-timeout MS       stop retrying a transaction after (60000)\n"
"  --faults              inject faults: client timeouts, dropped\n"
"                        connections, replays with the same idempotency\n"
"                        key, centers killed (SIGKILL) and restarted\n"
"  --fault-rate F        share of requests hit by a fault (0.05)\n"
"  --kill-interval MS    between center kills (1500)\n"
"  --restart-delay MS    a killed center is restarted after (300)\n"
"  --seed S              seed of the choices and faults (default 1)\n"
"  --self-test-corrupt   check one document against another card than the\n"
"                        one that authenticated: must end in wrong_person=1\n"
"  --status-only URL     GET /v1/status on every kiosk's connection for\n"
"                        --duration S seconds (default 10); \"local\" starts\n"
"                        the centers as a full run would\n"
"  --json                also print a JSON summary line before the last\n"
"  -q, --quiet           no progress lines\n"
"  -v, --verbose         report every refused or abandoned transaction\n",
	    LOAD_KIOSKS_MAX);
}

enum {
	O_KIOSKS = 256, O_TX, O_CENTERS, O_CPROCS, O_CTHREADS, O_CARG,
	O_CENTER, O_PKI, O_DB, O_WORKDIR, O_KEEP, O_BINDIR, O_PORT, O_CARDS,
	O_DOCS, O_VOID, O_RATE, O_TIMEOUT, O_TXTIMEOUT, O_FAULTS, O_FRATE,
	O_KILL, O_RESTART, O_SEED, O_CORRUPT, O_STATUS, O_DURATION, O_JSON,
	O_WARMUP, O_TRACE
};

static const struct option longopts[] = {
	{ "kiosks", required_argument, NULL, O_KIOSKS },
	{ "transactions", required_argument, NULL, O_TX },
	{ "centers", required_argument, NULL, O_CENTERS },
	{ "center-processes", required_argument, NULL, O_CPROCS },
	{ "center-threads", required_argument, NULL, O_CTHREADS },
	{ "center-arg", required_argument, NULL, O_CARG },
	{ "center", required_argument, NULL, O_CENTER },
	{ "pki", required_argument, NULL, O_PKI },
	{ "db", required_argument, NULL, O_DB },
	{ "workdir", required_argument, NULL, O_WORKDIR },
	{ "keep", no_argument, NULL, O_KEEP },
	{ "bindir", required_argument, NULL, O_BINDIR },
	{ "port", required_argument, NULL, O_PORT },
	{ "cards-per-kiosk", required_argument, NULL, O_CARDS },
	{ "documents", required_argument, NULL, O_DOCS },
	{ "void-rate", required_argument, NULL, O_VOID },
	{ "rate", required_argument, NULL, O_RATE },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "trace", required_argument, NULL, O_TRACE },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "tx-timeout", required_argument, NULL, O_TXTIMEOUT },
	{ "faults", no_argument, NULL, O_FAULTS },
	{ "fault-rate", required_argument, NULL, O_FRATE },
	{ "kill-interval", required_argument, NULL, O_KILL },
	{ "restart-delay", required_argument, NULL, O_RESTART },
	{ "seed", required_argument, NULL, O_SEED },
	{ "self-test-corrupt", no_argument, NULL, O_CORRUPT },
	{ "status-only", required_argument, NULL, O_STATUS },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "json", no_argument, NULL, O_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
bad(const char *opt, const char *arg, const char *why)
{
	char	 esc[128];

	log_warnx("--%s '%s': %s", opt, log_escape(esc, sizeof(esc), arg,
	    strlen(arg)), why);
	fprintf(stderr, "try 'kiosk-load --help'\n");
	exit(2);
}

static long long
num(const char *opt, const char *arg, long long min, long long max)
{
	const char	*errstr;
	long long	 v;
	char		 why[96];

	v = parse_num(arg, min, max, &errstr);
	if (errstr != NULL) {
		(void)snprintf(why, sizeof(why), "%s (%lld..%lld)", errstr,
		    min, max);
		bad(opt, arg, why);
	}
	return v;
}

static double
real(const char *opt, const char *arg, double min, double max)
{
	char	*end;
	double	 v;

	if (strlen(arg) > 32)
		bad(opt, arg, "too long");
	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < min || v > max)
		bad(opt, arg, "not a number in range");
	return v;
}

static void
parse_docs(struct load_config *cfg, char *list)
{
	char	*p, *save = NULL;

	cfg->ndocs = 0;
	for (p = strtok_r(list, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (!backend_doctype_valid(p))
			bad("documents", p, "not a document type of API.md");
		if (cfg->ndocs == LOAD_DOCS_MAX)
			bad("documents", p, "too many types");
		cfg->docs[cfg->ndocs++] = p;
	}
	if (cfg->ndocs == 0)
		bad("documents", "", "no document type");
}

static double
self_cpu(void)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *const req_names[] = { "session", "auth", "issue", "result" };

static void
report(struct run *r, double client_cpu)
{
	const struct load_config *cfg = r->cfg;
	struct fleet	*f = r->fleet;
	double		 secs = r->t1 - r->t0, msecs = r->t1 - r->tm, tps;
	double		 p50, p90, p99, pmax;
	double		 rp50[4], rp99[4];
	long		 i, shown = 0;
	int		 k;

	tps = msecs > 0 ? (double)r->measured / msecs : 0;
	p50 = samples_pct_ms(&r->lat_tx, 50);
	p90 = samples_pct_ms(&r->lat_tx, 90);
	p99 = samples_pct_ms(&r->lat_tx, 99);
	pmax = samples_pct_ms(&r->lat_tx, 100);
	for (k = 0; k < 4; k++) {
		rp50[k] = samples_pct_ms(&r->lat_req[k], 50);
		rp99[k] = samples_pct_ms(&r->lat_req[k], 99);
	}
	printf("run %s: %d kiosks x %d cards, %s, faults %s, %.2f s\n",
	    r->runid, r->nkiosks, cfg->cards_per_kiosk, f->ncenters > 0 ?
	    "own centers" : "running centers", cfg->faults ? "on" : "off",
	    secs);
	if (f->ncenters > 0)
		printf("centers: %d x kiosk-centerd --processes %d --threads "
		    "%d on %s (logs in %s)\n", f->ncenters,
		    cfg->center_processes, cfg->center_threads, f->url,
		    f->workdir);
	printf("transactions: started %ld, done %ld, refused %ld, given up "
	    "%ld\n", r->c.started, r->c.done, r->c.refused, r->c.gave_up);
	if (r->reconciled)
		printf("database: %ld issuances of this run: %ld committed, "
		    "%ld voided; %ld under keys never sent\n", r->c_db_rows,
		    r->c.committed, r->c.voided, r->phantoms);
	else
		printf("database: not reconciled (no --db); unsettled "
		    "transactions count as lost\n");
	printf("measured: %ld transactions after a warm-up of %ld (each "
	    "card's first authentication), %.2f s, %.1f tx/s\n", r->measured,
	    cfg->warmup, msecs, tps);
	printf("latency ms (transaction): p50 %.2f  p90 %.2f  p99 %.2f  "
	    "max %.2f\n", p50, p90, p99, pmax);
	printf("latency ms (requests p50/p99):");
	for (k = 0; k < 4; k++)
		printf(" %s %.2f/%.2f", req_names[k], rp50[k], rp99[k]);
	printf("\n");
	printf("client: %ld RSA-2048 signatures, %.3f ms each (%.2f s in "
	    "all); docverify %.3f ms each; client CPU %.2f s = %.3f ms/tx "
	    "(%.0f%% of one core)\n", r->c.signatures, r->c.signatures > 0 ?
	    r->c.sign_s * 1000 / (double)r->c.signatures : 0, r->c.sign_s,
	    r->c.done > 0 ? r->c.verify_s * 1000 / (double)(r->c.done) : 0,
	    client_cpu, r->c.done > 0 ? client_cpu * 1000 /
	    (double)r->c.done : 0, secs > 0 ? client_cpu * 100 / secs : 0);
	if (f->ncenters > 0)
		printf("centers: CPU %.2f s = %.3f ms/tx (%.0f%% of one "
		    "core)\n", f->center_cpu, r->c.done > 0 ? f->center_cpu *
		    1000 / (double)r->c.done : 0, secs > 0 ? f->center_cpu *
		    100 / secs : 0);
	printf("faults: %ld client timeouts, %ld dropped connections, %ld "
	    "replays, %ld center kills; %ld retries, %ld extra sessions\n",
	    r->c.f_cancel, r->c.f_drop, r->c.f_replay, r->c.f_kill,
	    r->c.retries, r->c.sessions_extra);
	printf("bad documents: %ld\n", r->c.bad_document);
	for (i = 0; i < r->c.started && shown < 20; i++) {
		const struct txn *t = &r->tx[i];

		if (!(t->wrong_person || t->lost || t->duplicated ||
		    t->bad_document || (cfg->verbose && t->final !=
		    TX_DONE)))
			continue;
		printf("finding: transaction %u kiosk %s card %s%s%s%s%s: "
		    "%s\n", t->no, run_kiosk_id(r, t), run_card(r, t)->name,
		    t->wrong_person ? " wrong_person" : "", t->lost ? " lost" :
		    "", t->duplicated ? " duplicated" : "", t->bad_document ?
		    " bad_document" : "", t->why);
		shown++;
	}
	if (cfg->json) {
		printf("{\"run\":\"%s\",\"kiosks\":%d,\"centers\":%d,"
		    "\"faults\":%s,\"seconds\":%.3f,\"started\":%ld,"
		    "\"transactions\":%ld,\"refused\":%ld,\"gave_up\":%ld,"
		    "\"warmup\":%ld,\"measured\":%ld,\"measured_seconds\":%.3f,"
		    "\"tps\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
		    "\"p99_ms\":%.3f,\"max_ms\":%.3f,", r->runid, r->nkiosks,
		    f->ncenters, cfg->faults ? "true" : "false", secs,
		    r->c.started, r->c.done, r->c.refused, r->c.gave_up,
		    cfg->warmup, r->measured, msecs, tps, p50, p90, p99, pmax);
		for (k = 0; k < 4; k++)
			printf("\"%s_p50_ms\":%.3f,\"%s_p99_ms\":%.3f,",
			    req_names[k], rp50[k], req_names[k], rp99[k]);
		printf("\"signatures\":%ld,\"sign_ms\":%.4f,\"client_cpu_s\":"
		    "%.3f,\"center_cpu_s\":%.3f,\"reconciled\":%s,"
		    "\"committed\":%ld,\"voided\":%ld,\"cancels\":%ld,"
		    "\"drops\":%ld,\"replays\":%ld,\"kills\":%ld,"
		    "\"retries\":%ld,\"bad_documents\":%ld,"
		    "\"wrong_person\":%ld,\"lost\":%ld,\"duplicated\":%ld,"
		    "\"workdir\":", r->c.signatures, r->c.signatures > 0 ?
		    r->c.sign_s * 1000 / (double)r->c.signatures : 0,
		    client_cpu, f->center_cpu, r->reconciled ? "true" :
		    "false", r->c.committed, r->c.voided, r->c.f_cancel,
		    r->c.f_drop, r->c.f_replay, r->c.f_kill, r->c.retries,
		    r->c.bad_document, r->c.wrong_person, r->c.lost,
		    r->c.duplicated);
		json_str(f->workdir);
		printf("}\n");
	}
	printf("transactions=%ld tps=%.1f p50_ms=%.2f p99_ms=%.2f "
	    "wrong_person=%ld lost=%ld duplicated=%ld\n", r->c.done, tps, p50,
	    p99, r->c.wrong_person, r->c.lost, r->c.duplicated);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	static struct load_config cfg;
	static struct fleet f;
	static struct run r;
	char		*docs = NULL;
	const char	*env;
	struct sigaction sa;
	double		 cpu0;
	int		 ch, rc = 2, own, k;

	log_init("kiosk-load", 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.kiosks = 10;
	cfg.transactions = 1000;
	cfg.centers = 1;
	cfg.center_processes = 1;
	cfg.center_threads = 16;	/* kiosk-centerd's own default */
	cfg.port = 18460;
	if ((env = getenv("KIOSK_LOAD_PORT")) != NULL && *env != '\0')
		cfg.port = (int)num("port (KIOSK_LOAD_PORT)", env, 1024, 65534);
	cfg.seed = 1;
	cfg.fault_rate = 0.05;
	cfg.kill_interval_ms = 1500;
	cfg.restart_delay_ms = 300;
	cfg.cards_per_kiosk = 2;
	cfg.void_rate = 0.1;
	cfg.timeout_ms = 10000;
	cfg.tx_timeout_ms = 60000;
	cfg.duration = 10;
	cfg.warmup = -1;

	while ((ch = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		switch (ch) {
		case O_KIOSKS:
			cfg.kiosks = (int)num("kiosks", optarg, 1,
			    LOAD_KIOSKS_MAX);
			break;
		case O_TX:
			cfg.transactions = (long)num("transactions", optarg, 1,
			    LOAD_TX_MAX);
			break;
		case O_CENTERS:
			cfg.centers = (int)num("centers", optarg, 1,
			    LOAD_CENTERS_MAX);
			break;
		case O_CPROCS:
			cfg.center_processes = (int)num("center-processes",
			    optarg, 1, 64);
			break;
		case O_CTHREADS:
			cfg.center_threads = (int)num("center-threads", optarg,
			    1, 256);
			break;
		case O_CARG:
			if (cfg.ncenter_args == LOAD_EXTRA_ARGS_MAX)
				bad("center-arg", optarg, "too many");
			cfg.center_args[cfg.ncenter_args++] = optarg;
			break;
		case O_CENTER:
			if (cfg.nurls == LOAD_URLS_MAX)
				bad("center", optarg, "too many");
			if (strncmp(optarg, "https://", 8) != 0 ||
			    strlen(optarg) > 120)
				bad("center", optarg, "not an https:// URL");
			cfg.urls[cfg.nurls++] = optarg;
			break;
		case O_PKI:
			cfg.pki = optarg;
			break;
		case O_DB:
			cfg.db = optarg;
			break;
		case O_WORKDIR:
			cfg.workdir = optarg;
			break;
		case O_KEEP:
			cfg.keep = 1;
			break;
		case O_BINDIR:
			cfg.bindir = optarg;
			break;
		case O_PORT:
			cfg.port = (int)num("port", optarg, 1024, 65534);
			break;
		case O_CARDS:
			cfg.cards_per_kiosk = (int)num("cards-per-kiosk",
			    optarg, 1, LOAD_CARDS_MAX);
			break;
		case O_DOCS:
			docs = optarg;
			break;
		case O_VOID:
			cfg.void_rate = real("void-rate", optarg, 0, 1);
			break;
		case O_RATE:
			cfg.rate = real("rate", optarg, 0, 1e6);
			break;
		case O_WARMUP:
			cfg.warmup = num("warmup", optarg, 0, LONG_MAX);
			break;
		case O_TRACE:
			cfg.trace = optarg;
			break;
		case O_TIMEOUT:
			cfg.timeout_ms = (int)num("timeout", optarg, 10,
			    600000);
			break;
		case O_TXTIMEOUT:
			cfg.tx_timeout_ms = (int)num("tx-timeout", optarg, 100,
			    3600000);
			break;
		case O_FAULTS:
			cfg.faults = 1;
			break;
		case O_FRATE:
			cfg.fault_rate = real("fault-rate", optarg, 0, 1);
			break;
		case O_KILL:
			cfg.kill_interval_ms = (int)num("kill-interval", optarg,
			    0, 3600000);
			break;
		case O_RESTART:
			cfg.restart_delay_ms = (int)num("restart-delay", optarg,
			    0, 600000);
			break;
		case O_SEED:
			cfg.seed = (uint64_t)num("seed", optarg, 0,
			    9007199254740991LL);
			break;
		case O_CORRUPT:
			cfg.self_test_corrupt = 1;
			break;
		case O_STATUS:
			if (strcmp(optarg, "local") != 0 &&
			    (strncmp(optarg, "https://", 8) != 0 ||
			    strlen(optarg) > 120))
				bad("status-only", optarg, "not an https:// "
				    "URL or \"local\"");
			cfg.status_url = optarg;
			break;
		case O_DURATION:
			cfg.duration = real("duration", optarg, 0.1, 86400);
			break;
		case O_JSON:
			cfg.json = 1;
			break;
		case 'q':
			cfg.quiet = 1;
			break;
		case 'v':
			cfg.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_setverbose(cfg.verbose);
	/* a plain handler, also over an inherited SIG_IGN (a shell's
	   background job): the event loop polls the count */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1) {
		log_warn("sigaction");
		return 2;
	}
	if (docs != NULL)
		parse_docs(&cfg, docs);
	else {
		cfg.ndocs = (int)(sizeof(default_docs) / sizeof(*default_docs));
		for (k = 0; k < cfg.ndocs; k++)
			cfg.docs[k] = default_docs[k];
	}
	if (cfg.nurls > 0 && cfg.pki == NULL) {
		log_warnx("--center needs --pki: the kiosk and card "
		    "identities, the center CA and the document key");
		return 2;
	}
	/*
	 * Each card's first authentication waits for a real OCSP query (the
	 * center caches the answer): by default that first round, at most a
	 * quarter of the run, is done and checked but left out of the rate
	 * and the latencies.
	 */
	if (cfg.warmup < 0) {
		cfg.warmup = (long)cfg.kiosks * cfg.cards_per_kiosk;
		if (cfg.warmup > cfg.transactions / 4)
			cfg.warmup = cfg.transactions / 4;
	}
	if (cfg.warmup >= cfg.transactions) {
		log_warnx("--warmup %ld leaves no transaction to measure of "
		    "%ld", cfg.warmup, cfg.transactions);
		return 2;
	}
	if (cfg.self_test_corrupt && cfg.kiosks * cfg.cards_per_kiosk < 2)
		log_warnx("--self-test-corrupt with one card: the card hash "
		    "is altered instead");

	if (cfg.status_url != NULL) {
		own = strcmp(cfg.status_url, "local") == 0;
		cfg.cards_per_kiosk = own ? cfg.cards_per_kiosk : 0;
		if (fleet_prepare(&f, &cfg, own) == -1 ||
		    (own && fleet_start_centers(&f) == -1)) {
			fleet_stop(&f);
			fleet_cleanup(&f);
			return 2;
		}
		rc = run_status(&cfg, &f, own ? f.url : cfg.status_url) == 0 ?
		    0 : 1;
		fleet_stop(&f);
		fleet_cleanup(&f);
		return rc;
	}

	own = cfg.nurls == 0;
	if (fleet_prepare(&f, &cfg, own) == -1)
		goto out;
	if (own && fleet_start_centers(&f) == -1)
		goto out;
	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;
	r.fleet = &f;
	cpu0 = self_cpu();
	if (run_transactions(&r) == -1)
		goto out;
	cpu0 = self_cpu() - cpu0;
	if (own)
		fleet_stop(&f);
	if (f.db[0] != '\0') {
		if (check_reconcile(&r, f.db) == 0)
			r.reconciled = 1;
		else
			log_warnx("the reconciliation against %s failed", f.db);
	}
	check_tally(&r);
	report(&r, cpu0);
	rc = (r.c.wrong_person || r.c.lost || r.c.duplicated ||
	    r.c.bad_document || r.c.done == 0 || r.interrupted ||
	    (f.db[0] != '\0' && !r.reconciled)) ? 1 : 0;
out:
	fleet_stop(&f);
	for (k = 0; k < 4; k++)
		samples_free(&r.lat_req[k]);
	samples_free(&r.lat_tx);
	run_free(&r);
	free(r.tx);
	fleet_cleanup(&f);
	return rc;
}
