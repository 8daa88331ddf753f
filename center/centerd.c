/*
 * kiosk-centerd: the reference issuance center (API.md).
 *
 * The supervisor reads the configuration and loads every trust object and
 * key once, then forks N serving processes.  Each serving process listens
 * on its own SO_REUSEPORT socket bound to the same address (so do other,
 * independent centers on the same host), runs one libevent loop for TLS
 * and HTTP and a pool of worker threads for the handlers.  Requests carry
 * all their state; sessions and issuances live in the shared database.
 */
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "centerd.h"
#include "document.h"
#include "http.h"
#include "log.h"
#include "ocsp_cache.h"
#include "ocsp_fetch.h"
#include "util.h"

#define CONFIG_LINE_MAX	2048

enum opt_id {
	O_CONFIG = 256, O_DB, O_LISTEN, O_CERT, O_KEY, O_CLIENT_CA,
	O_CLIENT_CRL, O_AUTH_ROOTS, O_OCSP, O_OCSP_SIGNER, O_OCSP_TIMEOUT,
	O_OCSP_CACHE_TTL, O_OCSP_THREADS, O_CRL, O_DOC_KEY, O_DOC_CERT, O_SESSION_KEY, O_MUNICIPALITY,
	O_MAYOR, O_PROCESSES, O_THREADS, O_CHALLENGE_TTL, O_SESSION_LIFETIME,
	O_IDLE_TIMEOUT, O_SERVICE_HOURS, O_KOSEKI_DAYS, O_KOSEKI_HOURS,
	O_NEWYEAR_CLOSED, O_ALLOW_MY_NUMBER, O_MIN_AGE, O_DOCUMENTS, O_FEE,
	O_HOLIDAY, O_TAX_SWITCH, O_MAX_NAME, O_MAX_ADDRESS
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, O_CONFIG },
	{ "db", required_argument, NULL, O_DB },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ "client-ca", required_argument, NULL, O_CLIENT_CA },
	{ "client-crl", required_argument, NULL, O_CLIENT_CRL },
	{ "auth-roots", required_argument, NULL, O_AUTH_ROOTS },
	{ "ocsp", required_argument, NULL, O_OCSP },
	{ "ocsp-signer", required_argument, NULL, O_OCSP_SIGNER },
	{ "ocsp-timeout", required_argument, NULL, O_OCSP_TIMEOUT },
	{ "ocsp-cache-ttl", required_argument, NULL, O_OCSP_CACHE_TTL },
	{ "ocsp-threads", required_argument, NULL, O_OCSP_THREADS },
	{ "crl", required_argument, NULL, O_CRL },
	{ "doc-key", required_argument, NULL, O_DOC_KEY },
	{ "doc-cert", required_argument, NULL, O_DOC_CERT },
	{ "session-key", required_argument, NULL, O_SESSION_KEY },
	{ "municipality", required_argument, NULL, O_MUNICIPALITY },
	{ "mayor", required_argument, NULL, O_MAYOR },
	{ "processes", required_argument, NULL, O_PROCESSES },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "challenge-ttl", required_argument, NULL, O_CHALLENGE_TTL },
	{ "session-lifetime", required_argument, NULL, O_SESSION_LIFETIME },
	{ "idle-timeout", required_argument, NULL, O_IDLE_TIMEOUT },
	{ "service-hours", required_argument, NULL, O_SERVICE_HOURS },
	{ "koseki-days", required_argument, NULL, O_KOSEKI_DAYS },
	{ "koseki-hours", required_argument, NULL, O_KOSEKI_HOURS },
	{ "newyear-closed", required_argument, NULL, O_NEWYEAR_CLOSED },
	{ "allow-my-number", required_argument, NULL, O_ALLOW_MY_NUMBER },
	{ "min-age", required_argument, NULL, O_MIN_AGE },
	{ "documents", required_argument, NULL, O_DOCUMENTS },
	{ "fee", required_argument, NULL, O_FEE },
	{ "holiday", required_argument, NULL, O_HOLIDAY },
	{ "tax-switch", required_argument, NULL, O_TAX_SWITCH },
	{ "max-name-chars", required_argument, NULL, O_MAX_NAME },
	{ "max-address-chars", required_argument, NULL, O_MAX_ADDRESS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	fprintf(stderr,
"usage: kiosk-centerd [-dnv] [--config FILE] --db FILE --listen HOST:PORT\n"
"         --cert FILE --key FILE --client-ca FILE [--client-crl FILE]\n"
"         --auth-roots FILE|DIR ... [--ocsp URL] [--ocsp-signer FILE]\n"
"         [--ocsp-timeout MS] [--ocsp-cache-ttl SECONDS] [--ocsp-threads N]\n"
"         [--crl FILE ...]\n"
"         --doc-key FILE --doc-cert FILE [--session-key FILE]\n"
"         [--municipality NAME] [--mayor NAME]\n"
"         [--processes N] [--threads N] [--challenge-ttl SECONDS]\n"
"         [--session-lifetime SECONDS] [--idle-timeout SECONDS]\n"
"         [--service-hours HH:MM-HH:MM] [--koseki-days DAYS]\n"
"         [--koseki-hours HH:MM-HH:MM] [--newyear-closed yes|no]\n"
"         [--allow-my-number yes|no] [--min-age N] [--documents TYPE,...]\n"
"         [--fee TYPE=YEN] [--holiday YYYY-MM-DD] [--tax-switch MM-DD]\n"
"         [--max-name-chars N] [--max-address-chars N]\n"
"  -d  stay in the foreground\n"
"  -n  check the configuration, print it and exit\n"
"  -v  verbose: also log every request (debug messages)\n"
"A config file holds the same long options as \"name = value\" lines.\n");
	exit(2);
}

static void
config_defaults(struct center_config *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->ocsp_timeout_ms = 3000;
	c->ocsp_cache_ttl = 60;
	/* the pool's queries in flight at once per process (ocsp_fetch.h):
	   each thread waits out one responder round trip, so a remote
	   responder at 30 ms gives 16 threads about 500 queries/s */
	c->ocsp_threads = 16;
	(void)snprintf(c->municipality, sizeof(c->municipality),
	    "東京都みどり市");
	(void)snprintf(c->mayor, sizeof(c->mayor), "みどり市長 緑川 一郎");
	c->processes = 1;
	/* handlers hand their writes to the group commit and go on; the
	   spare threads keep the cores busy while some wait for a page
	   read or another process's writer (4, 8 and 16 measured alike on
	   2 cores) */
	c->threads = 16;
	c->challenge_ttl = 60;
	c->session_lifetime = 600;
	c->idle_timeout = 120;
	for (i = 0; i < DOC_COUNT; i++)
		c->fees[i] = doc_default_fee((enum doc_type)i);
	elig_config_default(&c->elig);
}

static int
set_path(char *dst, size_t len, const char *v, char *err, size_t errlen)
{
	if (v[0] == '\0' || strlen(v) >= len) {
		(void)snprintf(err, errlen, "bad path");
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
set_num(int *dst, const char *v, long long min, long long max, char *err,
    size_t errlen)
{
	const char *errstr;
	long long n;

	n = parse_num(v, min, max, &errstr);
	if (errstr != NULL) {
		(void)snprintf(err, errlen, "number %s (%lld-%lld)", errstr,
		    min, max);
		return -1;
	}
	*dst = (int)n;
	return 0;
}

static int
set_bool(int *dst, const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		*dst = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0)
		*dst = 0;
	else {
		(void)snprintf(err, errlen, "expected yes or no");
		return -1;
	}
	return 0;
}

/* "HH:MM" -> minutes (0..1440). */
static int
parse_hhmm(const char *s, int *out)
{
	int h, m;
	char tail;

	if (strlen(s) != 5 || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 ||
	    h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0))
		return -1;
	*out = h * 60 + m;
	return 0;
}

static int
set_hours(int *open, int *close, const char *v, char *err, size_t errlen)
{
	char a[8], b[8];
	const char *dash = strchr(v, '-');
	int o, c;

	if (dash == NULL || dash - v != 5 || strlen(dash + 1) != 5) {
		(void)snprintf(err, errlen, "expected HH:MM-HH:MM");
		return -1;
	}
	memcpy(a, v, 5);
	a[5] = '\0';
	memcpy(b, dash + 1, 6);
	if (parse_hhmm(a, &o) == -1 || parse_hhmm(b, &c) == -1 || o > c) {
		(void)snprintf(err, errlen, "expected HH:MM-HH:MM");
		return -1;
	}
	*open = o;
	*close = c;
	return 0;
}

static int
set_days(unsigned *dst, const char *v, char *err, size_t errlen)
{
	static const char *const names[] = { "sun", "mon", "tue", "wed",
	    "thu", "fri", "sat" };
	char buf[64], *p, *tok, *save = NULL;
	unsigned days = 0;
	int i;

	if (strcmp(v, "none") == 0) {
		*dst = 0;
		return 0;
	}
	if (strcmp(v, "all") == 0) {
		*dst = 0x7f;
		return 0;
	}
	if (strlen(v) >= sizeof(buf))
		goto bad;
	memcpy(buf, v, strlen(v) + 1);
	for (p = buf; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		for (i = 0; i < 7; i++)
			if (strcmp(tok, names[i]) == 0)
				break;
		if (i == 7)
			goto bad;
		days |= 1u << i;
	}
	*dst = days;
	return 0;
bad:
	(void)snprintf(err, errlen, "expected all, none or days like "
	    "mon,tue,wed");
	return -1;
}

static int
set_documents(uint32_t *dst, const char *v, char *err, size_t errlen)
{
	char buf[256], *p, *tok, *save = NULL;
	enum doc_type d;
	uint32_t set = 0;

	if (strcmp(v, "all") == 0) {
		*dst = (1u << DOC_COUNT) - 1;
		return 0;
	}
	if (strlen(v) >= sizeof(buf))
		goto bad;
	memcpy(buf, v, strlen(v) + 1);
	for (p = buf; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		if (doc_type_parse(tok, &d) == -1)
			goto bad;
		set |= 1u << d;
	}
	if (set == 0)
		goto bad;
	*dst = set;
	return 0;
bad:
	(void)snprintf(err, errlen, "expected all or document types like "
	    "juminhyo,inkan");
	return -1;
}

static int
set_fee(struct center_config *c, const char *v, char *err, size_t errlen)
{
	char name[64];
	const char *eq = strchr(v, '=');
	enum doc_type d;

	if (eq == NULL || (size_t)(eq - v) >= sizeof(name))
		goto bad;
	memcpy(name, v, (size_t)(eq - v));
	name[eq - v] = '\0';
	if (doc_type_parse(name, &d) == -1)
		goto bad;
	return set_num(&c->fees[d], eq + 1, 0, 100000, err, errlen);
bad:
	(void)snprintf(err, errlen, "expected TYPE=YEN");
	return -1;
}

static int
set_listen(struct center_config *c, const char *v, char *err, size_t errlen)
{
	const char *colon = strrchr(v, ':'), *h = v;
	size_t hl;

	if (colon == NULL || colon[1] == '\0' ||
	    strlen(colon + 1) >= sizeof(c->listen_port))
		goto bad;
	hl = (size_t)(colon - v);
	if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') {
		h = v + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(c->listen_host))
		goto bad;
	memcpy(c->listen_host, h, hl);
	c->listen_host[hl] = '\0';
	memcpy(c->listen_port, colon + 1, strlen(colon + 1) + 1);
	return 0;
bad:
	(void)snprintf(err, errlen, "expected HOST:PORT");
	return -1;
}

static int	load_config(struct center_config *, const char *, char *,
		    size_t, int depth);

static int
apply(struct center_config *c, int id, const char *v, char *err,
    size_t errlen, int depth)
{
	struct store_date d;
	char buf[16];
	int m, dd;

	switch (id) {
	case O_CONFIG:
		return load_config(c, v, err, errlen, depth + 1);
	case O_DB:
		return set_path(c->db, sizeof(c->db), v, err, errlen);
	case O_LISTEN:
		return set_listen(c, v, err, errlen);
	case O_CERT:
		return set_path(c->cert, sizeof(c->cert), v, err, errlen);
	case O_KEY:
		return set_path(c->key, sizeof(c->key), v, err, errlen);
	case O_CLIENT_CA:
		return set_path(c->client_ca, sizeof(c->client_ca), v, err,
		    errlen);
	case O_CLIENT_CRL:
		return set_path(c->client_crl, sizeof(c->client_crl), v, err,
		    errlen);
	case O_AUTH_ROOTS:
		if (c->nauth_roots >= CENTER_ROOTS_MAX) {
			(void)snprintf(err, errlen, "too many root sets");
			return -1;
		}
		return set_path(c->auth_roots[c->nauth_roots++],
		    sizeof(c->auth_roots[0]), v, err, errlen);
	case O_OCSP:
		return set_path(c->ocsp_url, sizeof(c->ocsp_url), v, err,
		    errlen);
	case O_OCSP_SIGNER:
		return set_path(c->ocsp_signer, sizeof(c->ocsp_signer), v, err,
		    errlen);
	case O_OCSP_TIMEOUT:
		return set_num(&c->ocsp_timeout_ms, v, 100,
		    JPKI_VERIFY_OCSP_TIMEOUT_MAX, err, errlen);
	case O_OCSP_CACHE_TTL:
		return set_num(&c->ocsp_cache_ttl, v, 0, OCSP_CACHE_TTL_MAX,
		    err, errlen);
	case O_OCSP_THREADS:
		return set_num(&c->ocsp_threads, v, 1, OCSP_FETCH_THREADS_MAX,
		    err, errlen);
	case O_CRL:
		if (c->ncrls >= CENTER_CRLS_MAX) {
			(void)snprintf(err, errlen, "too many CRLs");
			return -1;
		}
		return set_path(c->crls[c->ncrls++], sizeof(c->crls[0]), v,
		    err, errlen);
	case O_DOC_KEY:
		return set_path(c->doc_key, sizeof(c->doc_key), v, err, errlen);
	case O_DOC_CERT:
		return set_path(c->doc_cert, sizeof(c->doc_cert), v, err,
		    errlen);
	case O_SESSION_KEY:
		return set_path(c->session_key, sizeof(c->session_key), v, err,
		    errlen);
	case O_MUNICIPALITY:
		return set_path(c->municipality, sizeof(c->municipality), v,
		    err, errlen);
	case O_MAYOR:
		return set_path(c->mayor, sizeof(c->mayor), v, err, errlen);
	case O_PROCESSES:
		return set_num(&c->processes, v, 1, CENTER_PROCESSES_MAX, err,
		    errlen);
	case O_THREADS:
		return set_num(&c->threads, v, 1, CENTER_THREADS_MAX, err,
		    errlen);
	case O_CHALLENGE_TTL:
		return set_num(&c->challenge_ttl, v, 1,
		    CENTER_CHALLENGE_TTL_MAX, err, errlen);
	case O_SESSION_LIFETIME:
		return set_num(&c->session_lifetime, v, 10, 86400, err, errlen);
	case O_IDLE_TIMEOUT:
		return set_num(&c->idle_timeout, v, 1, 3600, err, errlen);
	case O_SERVICE_HOURS:
		return set_hours(&c->elig.service_open, &c->elig.service_close,
		    v, err, errlen);
	case O_KOSEKI_DAYS:
		return set_days(&c->elig.koseki_days, v, err, errlen);
	case O_KOSEKI_HOURS:
		return set_hours(&c->elig.koseki_open, &c->elig.koseki_close,
		    v, err, errlen);
	case O_NEWYEAR_CLOSED:
		return set_bool(&c->elig.newyear_closed, v, err, errlen);
	case O_ALLOW_MY_NUMBER:
		return set_bool(&c->elig.allow_my_number, v, err, errlen);
	case O_MIN_AGE:
		return set_num(&c->elig.min_age, v, 0, 120, err, errlen);
	case O_DOCUMENTS:
		return set_documents(&c->elig.documents, v, err, errlen);
	case O_FEE:
		return set_fee(c, v, err, errlen);
	case O_HOLIDAY:
		if (c->elig.nholidays >= ELIG_HOLIDAYS_MAX ||
		    store_date_parse(v, &d) == -1) {
			(void)snprintf(err, errlen, "expected YYYY-MM-DD (at "
			    "most %d holidays)", ELIG_HOLIDAYS_MAX);
			return -1;
		}
		c->elig.holidays[c->elig.nholidays++] = d;
		return 0;
	case O_TAX_SWITCH:
		(void)snprintf(buf, sizeof(buf), "2000-%s", v);
		if (strlen(v) != 5 || store_date_parse(buf, &d) == -1) {
			(void)snprintf(err, errlen, "expected MM-DD");
			return -1;
		}
		m = d.m;
		dd = d.d;
		c->elig.tax_switch_month = m;
		c->elig.tax_switch_day = dd;
		return 0;
	case O_MAX_NAME:
		if (set_num(&m, v, 0, 1000, err, errlen) == -1)
			return -1;
		c->elig.max_name_chars = (size_t)m;
		return 0;
	case O_MAX_ADDRESS:
		if (set_num(&m, v, 0, 1000, err, errlen) == -1)
			return -1;
		c->elig.max_address_chars = (size_t)m;
		return 0;
	default:
		(void)snprintf(err, errlen, "unknown option");
		return -1;
	}
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* "name = value" lines; '#' starts a comment line.  Errors name file:line. */
static int
load_config(struct center_config *c, const char *path, char *err,
    size_t errlen, int depth)
{
	char line[CONFIG_LINE_MAX], why[256], *k, *v, *eq;
	FILE *f;
	int lineno = 0, i, rc = 0;

	if (depth > 4) {
		(void)snprintf(err, errlen, "%s: config files nest too deep",
		    path);
		return -1;
	}
	if ((f = fopen(path, "r")) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			(void)snprintf(err, errlen, "%s:%d: line too long",
			    path, lineno);
			rc = -1;
			break;
		}
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			(void)snprintf(err, errlen, "%s:%d: expected name = "
			    "value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		for (i = 0; longopts[i].name != NULL; i++)
			if (strcmp(longopts[i].name, k) == 0 &&
			    longopts[i].val >= O_CONFIG)
				break;
		if (longopts[i].name == NULL) {
			(void)snprintf(err, errlen, "%s:%d: unknown option "
			    "\"%.64s\"", path, lineno, k);
			rc = -1;
			break;
		}
		if (apply(c, longopts[i].val, v, why, sizeof(why), depth) ==
		    -1) {
			(void)snprintf(err, errlen, "%s:%d: %s: %s", path,
			    lineno, k, why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		(void)snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	(void)fclose(f);
	return rc;
}

static int
config_check(const struct center_config *c, char *err, size_t errlen)
{
	const char *missing = NULL;

	if (c->db[0] == '\0')
		missing = "--db";
	else if (c->listen_host[0] == '\0')
		missing = "--listen";
	else if (c->cert[0] == '\0')
		missing = "--cert";
	else if (c->key[0] == '\0')
		missing = "--key";
	else if (c->client_ca[0] == '\0')
		missing = "--client-ca";
	else if (c->nauth_roots == 0)
		missing = "--auth-roots";
	else if (c->ocsp_url[0] == '\0' && c->ncrls == 0)
		missing = "--ocsp or --crl";
	else if (c->doc_key[0] == '\0')
		missing = "--doc-key";
	else if (c->doc_cert[0] == '\0')
		missing = "--doc-cert";
	if (missing != NULL) {
		(void)snprintf(err, errlen, "%s is required", missing);
		return -1;
	}
	if (c->elig.service_open >= c->elig.service_close) {
		(void)snprintf(err, errlen, "--service-hours is empty");
		return -1;
	}
	return 0;
}

/* --- the trust objects and keys, loaded once ------------------------ */

static void
load_doc_key(struct center *ctr, const struct center_config *c)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	FILE *f;

	if ((f = fopen(c->doc_key, "r")) == NULL)
		fatal("%s", c->doc_key);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	(void)fclose(f);
	if (key == NULL)
		fatalx("%s: not a PEM private key", c->doc_key);
	if ((f = fopen(c->doc_cert, "r")) == NULL)
		fatal("%s", c->doc_cert);
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	(void)fclose(f);
	if (cert == NULL)
		fatalx("%s: not a PEM certificate", c->doc_cert);
	if (X509_check_private_key(cert, key) != 1)
		fatalx("%s does not match %s", c->doc_key, c->doc_cert);
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_bits(key) != 256)
		fatalx("%s: the document key must be ECDSA P-256", c->doc_key);
	if (doc_key_id(key, ctr->doc_key_id) == -1)
		fatalx("cannot compute the document key id");
	X509_free(cert);
	ERR_clear_error();
	ctr->doc_key = key;
}

static void
load_trust(struct center *ctr, const struct center_config *c)
{
	char err[512];
	size_t i;
	int n;

	if ((ctr->trust = jpki_trust_new()) == NULL)
		fatalx("jpki_trust_new failed");
	for (i = 0; i < c->nauth_roots; i++) {
		if ((n = jpki_trust_add_roots(ctr->trust, c->auth_roots[i], err,
		    sizeof(err))) < 0)
			fatalx("--auth-roots %s: %s", c->auth_roots[i], err);
		log_info("%d user-auth root(s) from %s", n, c->auth_roots[i]);
	}
	if (c->ocsp_url[0] != '\0' && jpki_trust_set_ocsp(ctr->trust,
	    c->ocsp_url, c->ocsp_signer[0] != '\0' ? c->ocsp_signer : NULL,
	    c->ocsp_timeout_ms, err, sizeof(err)) == -1)
		fatalx("--ocsp %s: %s", c->ocsp_url, err);
	for (i = 0; i < c->ncrls; i++)
		if (jpki_trust_add_crl(ctr->trust, c->crls[i], err,
		    sizeof(err)) == -1)
			fatalx("--crl %s: %s", c->crls[i], err);
}

static int
listen_socket(const struct center_config *c, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, on = 1, rc, flags;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(c->listen_host, c->listen_port, &hints,
	    &res)) != 0) {
		(void)snprintf(err, errlen, "%s:%s: %s", c->listen_host,
		    c->listen_port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1)
			continue;
		/*
		 * TCP_NODELAY is inherited by accepted sockets: a reply
		 * written as several TLS records must not wait for the
		 * kiosk's delayed ACK (40 ms per request otherwise).
		 */
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1 || setsockopt(fd, SOL_SOCKET,
		    SO_REUSEPORT, &on, sizeof(on)) == -1 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on)) == -1 ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, 1024) == -1 ||
		    (flags = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			(void)snprintf(err, errlen, "%s:%s: %s",
			    c->listen_host, c->listen_port, strerror(errno));
			(void)close(fd);
			fd = -1;
			continue;
		}
		break;
	}
	freeaddrinfo(res);
	if (fd == -1 && err[0] == '\0')
		(void)snprintf(err, errlen, "%s:%s: no usable address",
		    c->listen_host, c->listen_port);
	return fd;
}

/* --- one serving process ---------------------------------------------- */

static void
on_term(evutil_socket_t sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	log_info("shutting down");
	http_server_shutdown(arg);
}

static void
on_hup(evutil_socket_t sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	http_server_reload(arg);
}

/*
 * How many workers may ask the OCSP responder themselves at once: all but
 * a reserve (a quarter, at least 2) that never waits for it, so that a
 * responder that hangs cannot stop the issuances and results.  Past that
 * the authentications wait in the fetch pool, off the workers.
 */
static int
ocsp_inline_max(int threads)
{
	int reserve = threads / 4 > 2 ? threads / 4 : 2;

	return threads > reserve ? threads - reserve : 0;
}

static int
serve(struct center *ctr, SSL_CTX *ssl, int fd)
{
	static char name[64];
	struct event_base *base;
	struct http_server *h;
	struct event *sterm, *sint, *shup;
	struct writer_stats ws;
	struct ocsp_fetch_stats os;
	char err[512];

	/* every line of a serving process names it */
	(void)snprintf(name, sizeof(name), "kiosk-centerd[%ld]", (long)getpid());
	log_init(name, log_getverbose());
	if (ctr->cfg->ocsp_cache_ttl > 0 && (ctr->ocsp_cache =
	    ocsp_cache_new(ctr->cfg->ocsp_cache_ttl)) == NULL)
		fatalx("cannot make the OCSP cache");
	/* the workers never wait for the responder (ocsp_fetch.h) */
	if (jpki_trust_has_ocsp(ctr->trust) && (ctr->ocsp_fetch =
	    ocsp_fetch_new(api_auth_ocsp_query, ctr->trust,
	    ctr->cfg->ocsp_threads,
	    ocsp_inline_max(ctr->cfg->threads),
	    ctr->cfg->ocsp_timeout_ms, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	/* this process's own write connection and group commit */
	if ((ctr->writer = writer_start(ctr->cfg->db, err, sizeof(err))) ==
	    NULL)
		fatalx("%s", err);
	if (api_session_key_init(ctr, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((h = http_server_new(base, ssl, ctr, fd, err, sizeof(err))) ==
	    NULL)
		fatalx("%s", err);
	if ((sterm = evsignal_new(base, SIGTERM, on_term, h)) == NULL ||
	    (sint = evsignal_new(base, SIGINT, on_term, h)) == NULL ||
	    (shup = evsignal_new(base, SIGHUP, on_hup, h)) == NULL ||
	    event_add(sterm, NULL) != 0 || event_add(sint, NULL) != 0 ||
	    event_add(shup, NULL) != 0)
		fatalx("signal events");
	log_info("serving on %s:%s (pid %ld, %d threads)",
	    ctr->cfg->listen_host, ctr->cfg->listen_port, (long)getpid(),
	    ctr->cfg->threads);
	if (event_base_dispatch(base) == -1)
		log_warnx("event loop failed");
	/* the authentications still waiting for OCSP are answered */
	ocsp_fetch_stop(ctr->ocsp_fetch);
	http_server_free(h);
	if (ctr->ocsp_fetch != NULL) {
		ocsp_fetch_get_stats(ctr->ocsp_fetch, &os);
		log_info("ocsp: %lu queries by the workers, %lu by the pool "
		    "(%lu shared, %lu past their deadline in the queue, %lu "
		    "refused)", os.inline_asked, os.queries, os.shared,
		    os.expired, os.refused);
	}
	ocsp_fetch_free(ctr->ocsp_fetch);
	ctr->ocsp_fetch = NULL;
	/* after the workers: their last writes are still answered */
	writer_get_stats(ctr->writer, &ws);
	log_info("writer: %lu operations in %lu transactions (largest %lu, "
	    "%lu replayed, %lu checkpoints)", ws.ops, ws.batches, ws.max_batch,
	    ws.replays, ws.checkpoints);
	writer_stop(ctr->writer);
	ctr->writer = NULL;
	OPENSSL_cleanse(ctr->session_key, sizeof(ctr->session_key));
	event_free(sterm);
	event_free(sint);
	event_free(shup);
	event_base_free(base);
	ocsp_cache_free(ctr->ocsp_cache);
	ctr->ocsp_cache = NULL;
	return 0;
}

/* --- the supervisor ------------------------------------------------- */

static volatile sig_atomic_t got_chld, got_term, got_hup;

static void
sup_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

struct child {
	pid_t	pid;
	int	fd;
	time_t	started;
};

static pid_t
spawn(struct center *ctr, SSL_CTX *ssl, struct child *kids, int n, int i,
    const sigset_t *oldmask)
{
	struct sigaction sa;
	pid_t pid;
	int k;

	if ((pid = fork()) == -1) {
		log_warn("fork");
		return -1;
	}
	if (pid == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		(void)sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGCHLD, &sa, NULL);
		(void)sigaction(SIGTERM, &sa, NULL);
		(void)sigaction(SIGINT, &sa, NULL);
		(void)sigaction(SIGHUP, &sa, NULL);
		(void)sigprocmask(SIG_SETMASK, oldmask, NULL);
		for (k = 0; k < n; k++)
			if (k != i && kids[k].fd != -1)
				(void)close(kids[k].fd);
		_exit(serve(ctr, ssl, kids[i].fd));
	}
	kids[i].pid = pid;
	kids[i].started = time(NULL);
	return pid;
}

static int
supervise(struct center *ctr, SSL_CTX *ssl)
{
	struct child kids[CENTER_PROCESSES_MAX];
	struct sigaction sa;
	sigset_t block, old;
	struct timespec ts;
	char err[512];
	int n = ctr->cfg->processes, i, status, alive, pending = 0;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sup_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGCHLD);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGINT);
	(void)sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &block, &old) == -1 ||
	    sigaction(SIGCHLD, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		fatal("signals");
	for (i = 0; i < n; i++) {
		kids[i].pid = -1;
		err[0] = '\0';
		if ((kids[i].fd = listen_socket(ctr->cfg, err, sizeof(err))) ==
		    -1)
			fatalx("listen: %s", err);
	}
	for (i = 0; i < n; i++)
		if (spawn(ctr, ssl, kids, n, i, &old) == -1)
			fatalx("cannot start the serving processes");
	log_info("supervisor %ld: %d serving processes", (long)getpid(), n);

	while (!got_term) {
		/*
		 * Signals are only taken here: a restart that must wait (a
		 * process that died young) waits with them unblocked too, so
		 * a crash loop never keeps SIGTERM out.
		 */
		if (pending) {
			ts.tv_sec = 1;
			ts.tv_nsec = 0;
			(void)pselect(0, NULL, NULL, NULL, &ts, &old);
		} else
			(void)sigsuspend(&old);
		if (got_term)
			break;
		if (got_hup) {
			got_hup = 0;
			for (i = 0; i < n; i++)
				if (kids[i].pid > 0)
					(void)kill(kids[i].pid, SIGHUP);
		}
		if (got_chld) {
			got_chld = 0;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				for (i = 0; i < n; i++)
					if (kids[i].pid == pid)
						break;
				if (i == n)
					continue;
				kids[i].pid = -1;
				log_warnx("serving process %ld ended (%s %d); "
				    "restarting", (long)pid,
				    WIFSIGNALED(status) ? "signal" : "status",
				    WIFSIGNALED(status) ? WTERMSIG(status) :
				    WEXITSTATUS(status));
			}
		}
		pending = 0;
		for (i = 0; i < n; i++) {
			if (kids[i].pid > 0)
				continue;
			/* not in a tight loop */
			if (time(NULL) - kids[i].started < 2 ||
			    spawn(ctr, ssl, kids, n, i, &old) == -1)
				pending = 1;
		}
	}
	for (i = 0; i < n; i++)
		if (kids[i].pid > 0)
			(void)kill(kids[i].pid, SIGTERM);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	do {
		alive = 0;
		for (i = 0; i < n; i++) {
			if (kids[i].pid <= 0)
				continue;
			if (waitpid(kids[i].pid, &status, 0) == kids[i].pid ||
			    errno == ECHILD)
				kids[i].pid = -1;
			else
				alive = 1;
		}
	} while (alive);
	for (i = 0; i < n; i++)
		(void)close(kids[i].fd);
	log_info("supervisor: done");
	return 0;
}

static void
print_config(const struct center_config *c, const struct center *ctr)
{
	size_t i;
	int d;

	printf("db = %s\nlisten = %s:%s\ncert = %s\nkey = %s\n"
	    "client-ca = %s\n", c->db, c->listen_host, c->listen_port,
	    c->cert, c->key, c->client_ca);
	if (c->client_crl[0] != '\0')
		printf("client-crl = %s\n", c->client_crl);
	for (i = 0; i < c->nauth_roots; i++)
		printf("auth-roots = %s\n", c->auth_roots[i]);
	if (c->ocsp_url[0] != '\0')
		printf("ocsp = %s\nocsp-timeout = %d\nocsp-threads = %d\n",
		    c->ocsp_url, c->ocsp_timeout_ms, c->ocsp_threads);
	if (c->ocsp_signer[0] != '\0')
		printf("ocsp-signer = %s\n", c->ocsp_signer);
	printf("ocsp-cache-ttl = %d\n", c->ocsp_cache_ttl);
	for (i = 0; i < c->ncrls; i++)
		printf("crl = %s\n", c->crls[i]);
	printf("doc-key = %s\ndoc-cert = %s\n# key id %s\n", c->doc_key,
	    c->doc_cert, ctr->doc_key_id);
	if (c->session_key[0] != '\0')
		printf("session-key = %s\n", c->session_key);
	printf("municipality = %s\nmayor = %s\nprocesses = %d\nthreads = %d\n"
	    "challenge-ttl = %d\nsession-lifetime = %d\nidle-timeout = %d\n",
	    c->municipality, c->mayor, c->processes, c->threads,
	    c->challenge_ttl, c->session_lifetime, c->idle_timeout);
	printf("service-hours = %02d:%02d-%02d:%02d\n",
	    c->elig.service_open / 60, c->elig.service_open % 60,
	    c->elig.service_close / 60, c->elig.service_close % 60);
	printf("koseki-hours = %02d:%02d-%02d:%02d\nkoseki-days = 0x%02x\n",
	    c->elig.koseki_open / 60, c->elig.koseki_open % 60,
	    c->elig.koseki_close / 60, c->elig.koseki_close % 60,
	    c->elig.koseki_days);
	printf("newyear-closed = %s\nallow-my-number = %s\nmin-age = %d\n",
	    c->elig.newyear_closed ? "yes" : "no",
	    c->elig.allow_my_number ? "yes" : "no", c->elig.min_age);
	for (d = 0; d < DOC_COUNT; d++)
		if (c->elig.documents & (1u << d))
			printf("fee = %s=%d\n", doc_type_name((enum doc_type)d),
			    c->fees[d]);
}

int
main(int argc, char *argv[])
{
	static struct center_config cfg;
	struct center ctr;
	struct sigaction sa;
	SSL_CTX *ssl;
	char err[512];
	int ch, check_only = 0, debug = 0, verbose = 0, fd, idx;

	log_init("kiosk-centerd", 1);
	config_defaults(&cfg);
	while ((ch = getopt_long(argc, argv, "dnhv", longopts, &idx)) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage();
			break;
		default:
			if (ch < O_CONFIG)
				usage();
			err[0] = '\0';
			if (apply(&cfg, ch, optarg, err, sizeof(err), 0) == -1)
				fatalx("--%s %s: %s", longopts[idx].name,
				    optarg, err);
			break;
		}
	}
	if (optind != argc)
		usage();
	cfg.debug = debug;
	log_setverbose(verbose ? 2 : 1);
	if (config_check(&cfg, err, sizeof(err)) == -1)
		fatalx("%s", err);

	memset(&ctr, 0, sizeof(ctr));
	ctr.cfg = &cfg;
	load_trust(&ctr, &cfg);
	load_doc_key(&ctr, &cfg);
	if (cfg.session_key[0] != '\0' && api_session_key_file(&ctr,
	    cfg.session_key, err, sizeof(err)) == -1)
		fatalx("--session-key %s", err);
	if ((ssl = http_tls_new(&cfg, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (check_only) {
		print_config(&cfg, &ctr);
		printf("# configuration OK\n");
		SSL_CTX_free(ssl);
		EVP_PKEY_free(ctr.doc_key);
		jpki_trust_free(ctr.trust);
		return 0;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
	if (!debug && daemon(0, 1) == -1)
		fatal("daemon");

	if (cfg.processes > 1) {
		(void)supervise(&ctr, ssl);
		SSL_CTX_free(ssl);
		EVP_PKEY_free(ctr.doc_key);
		jpki_trust_free(ctr.trust);
		OPENSSL_cleanse(ctr.session_key, sizeof(ctr.session_key));
		return 0;
	}
	err[0] = '\0';
	if ((fd = listen_socket(&cfg, err, sizeof(err))) == -1)
		fatalx("listen: %s", err);
	(void)serve(&ctr, ssl, fd);
	(void)close(fd);
	SSL_CTX_free(ssl);
	EVP_PKEY_free(ctr.doc_key);
	jpki_trust_free(ctr.trust);
	return 0;
}
