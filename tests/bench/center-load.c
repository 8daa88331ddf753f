/*
 * center-load: drive kiosk-centerd with full transactions over kept-alive
 * mutual-TLS connections, one thread per connection, and report the rate
 * and the latencies.  A full transaction is what a kiosk does for one
 * resident: POST /v1/sessions, sign the challenge with the card's key,
 * POST .../auth, POST /v1/issuances, POST .../result.  Every answer is
 * checked (status, the session/issuance ids it must carry); a failed
 * transaction is counted and reported, never silently retried.
 *
 * Built by tests/bench/center (cc ... -lssl -lcrypto -pthread); not part
 * of the product.
 *
 * usage: center-load --port N --pki DIR --kiosks K1,K2,... --cards C1,...
 *            [--conns N] [--seconds S] [--warmup S] [--document TYPE]
 */
#define _GNU_SOURCE	/* strcasestr */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define NAMES_MAX	256
#define NAME_MAX_LEN	64
#define RESP_MAX	(512 * 1024)
#define LAT_MAX		(4 * 1024 * 1024)
#define STEPS		4

static const char *const step_names[STEPS] = {
	"POST /v1/sessions", "sign + POST .../auth", "POST /v1/issuances",
	"POST .../result"
};

struct card {
	char		 name[NAME_MAX_LEN + 1];
	char		*cert_b64;	/* DER, base64 */
	EVP_PKEY	*key;
};

struct lat {
	double		*v;		/* ms */
	size_t		 n, cap;
};

struct worker {
	int		 index;
	pthread_t	 tid;
	SSL_CTX		*ctx;
	const struct card *card;
	const char	*kiosk;
	/* results, read by main after join */
	struct lat	 tx;
	struct lat	 step[STEPS];
	long		 ok, failed;
	char		 first_error[256];
	int		 dead;
};

static int port;
static int doc_copies = 1;
static const char *document = "juminhyo";
static volatile int measuring, stopping;

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "center-load: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int
lat_add(struct lat *l, double ms)
{
	double *p;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap == 0 ? 4096 : l->cap * 2;
		if (ncap > LAT_MAX)
			return -1;
		if ((p = realloc(l->v, ncap * sizeof(*p))) == NULL)
			return -1;
		l->v = p;
		l->cap = ncap;
	}
	l->v[l->n++] = ms;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static void
mkpath(char *dst, size_t len, const char *fmt, const char *a, const char *b)
{
	int n = snprintf(dst, len, fmt, a, b);

	if (n < 0 || (size_t)n >= len)
		die("path too long: %s", a);
}

static char *
b64(const unsigned char *in, size_t len)
{
	char *out;
	size_t n = 4 * ((len + 2) / 3) + 1;

	if (len > 1 << 20 || (out = malloc(n)) == NULL)
		die("out of memory");
	if (EVP_EncodeBlock((unsigned char *)out, in, (int)len) < 0)
		die("base64 failed");
	return out;
}

static void
load_card(struct card *c, const char *pki, const char *name)
{
	char path[1024];
	X509 *x;
	FILE *f;
	unsigned char *der = NULL;
	int n;

	if (strlen(name) > NAME_MAX_LEN)
		die("card name too long");
	memcpy(c->name, name, strlen(name) + 1);
	mkpath(path, sizeof(path), "%s/cards/%s/auth.crt", pki, name);
	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	(void)fclose(f);
	if (x == NULL || (n = i2d_X509(x, &der)) <= 0)
		die("%s: not a certificate", path);
	c->cert_b64 = b64(der, (size_t)n);
	OPENSSL_free(der);
	X509_free(x);
	mkpath(path, sizeof(path), "%s/cards/%s/auth.key", pki, name);
	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	(void)fclose(f);
	if (c->key == NULL)
		die("%s: not a private key", path);
}

static SSL_CTX *
kiosk_ctx(const char *pki, const char *kiosk)
{
	char path[1024];
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1)
		die("SSL_CTX_new");
	mkpath(path, sizeof(path), "%s/center-ca.crt%s", pki, "");
	if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1)
		die("%s: cannot load", path);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	mkpath(path, sizeof(path), "%s/kiosks/%s/kiosk.crt", pki, kiosk);
	if (SSL_CTX_use_certificate_file(ctx, path, SSL_FILETYPE_PEM) != 1)
		die("%s: cannot load", path);
	mkpath(path, sizeof(path), "%s/kiosks/%s/kiosk.key", pki, kiosk);
	if (SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1)
		die("%s: cannot load", path);
	return ctx;
}

struct conn {
	int	 fd;
	SSL	*ssl;
	char	 buf[RESP_MAX + 1];
	size_t	 have;
};

static int
conn_open(struct conn *c, SSL_CTX *ctx)
{
	struct sockaddr_in sa;
	int on = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->have = 0;
	c->ssl = NULL;
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) ==
	    -1 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto fail;
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_connect(c->ssl) != 1)
		goto fail;
	return 0;
fail:
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	(void)close(c->fd);
	c->fd = -1;
	return -1;
}

static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd != -1)
		(void)close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

/*
 * One request on the kept-alive connection; the body of the answer into
 * *body (inside c->buf).  Returns the HTTP status or -1.
 */
static int
http_post(struct conn *c, const char *path, const char *json,
    const char **body)
{
	char head[512], *eoh, *p;
	size_t hlen, blen = strlen(json), need;
	long clen;
	int n, status;

	n = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: "
	    "127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
	    "%zu\r\n\r\n", path, blen);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	hlen = (size_t)n;
	if (SSL_write(c->ssl, head, (int)hlen) != (int)hlen ||
	    SSL_write(c->ssl, json, (int)blen) != (int)blen)
		return -1;
	c->have = 0;
	for (;;) {
		c->buf[c->have] = '\0';
		if ((eoh = strstr(c->buf, "\r\n\r\n")) != NULL)
			break;
		if (c->have >= RESP_MAX)
			return -1;
		n = SSL_read(c->ssl, c->buf + c->have, (int)(RESP_MAX - c->have));
		if (n <= 0)
			return -1;
		c->have += (size_t)n;
	}
	if (sscanf(c->buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	*eoh = '\0';
	if ((p = strcasestr(c->buf, "\r\nContent-Length:")) == NULL)
		return -1;
	clen = strtol(p + 17, NULL, 10);
	if (clen < 0 || clen > RESP_MAX / 2)
		return -1;
	need = (size_t)(eoh + 4 - c->buf) + (size_t)clen;
	if (need > RESP_MAX)
		return -1;
	while (c->have < need) {
		n = SSL_read(c->ssl, c->buf + c->have, (int)(RESP_MAX - c->have));
		if (n <= 0)
			return -1;
		c->have += (size_t)n;
	}
	c->buf[need] = '\0';
	*body = eoh + 4;
	return status;
}

/* The string value of "key":"..." (no escapes expected) into out. */
static int
json_str(const char *json, const char *key, char *out, size_t outlen)
{
	char pat[64];
	const char *p, *e;

	(void)snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(json, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if ((e = strchr(p, '"')) == NULL || (size_t)(e - p) >= outlen)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static int
sign_challenge(EVP_PKEY *key, const char *chal64, char **sig64)
{
	unsigned char chal[128], sig[512];
	size_t siglen = sizeof(sig), l = strlen(chal64);
	EVP_MD_CTX *md;
	int n, ok;

	if (l == 0 || l % 4 != 0 || l > 160)
		return -1;
	if ((n = EVP_DecodeBlock(chal, (const unsigned char *)chal64,
	    (int)l)) < 0)
		return -1;
	n -= (chal64[l - 1] == '=') + (chal64[l - 2] == '=');
	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, chal, (size_t)n) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	*sig64 = b64(sig, siglen);
	return 0;
}

static void
fail_note(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (measuring)
		w->failed++;
	if (w->first_error[0] != '\0')
		return;
	va_start(ap, fmt);
	(void)vsnprintf(w->first_error, sizeof(w->first_error), fmt, ap);
	va_end(ap);
}

/* One full transaction; 0 when every answer was the expected one. */
static int
one_tx(struct worker *w, struct conn *c, unsigned long seq)
{
	char path[128], sid[64], chal[128], iid[64], *sig = NULL;
	char *body = NULL;
	const char *ans;
	double t0, t[STEPS + 1];
	size_t blen;
	int st, i;

	t0 = t[0] = now_ms();
	if ((st = http_post(c, "/v1/sessions", "{}", &ans)) != 201 ||
	    json_str(ans, "session_id", sid, sizeof(sid)) == -1 ||
	    json_str(ans, "challenge", chal, sizeof(chal)) == -1) {
		fail_note(w, "session: %d", st);
		return -1;
	}
	t[1] = now_ms();
	if (sign_challenge(w->card->key, chal, &sig) == -1) {
		fail_note(w, "cannot sign the challenge");
		return -1;
	}
	blen = strlen(w->card->cert_b64) + strlen(sig) + 64;
	if ((body = malloc(blen)) == NULL)
		die("out of memory");
	(void)snprintf(body, blen, "{\"certificate\":\"%s\",\"signature\":"
	    "\"%s\"}", w->card->cert_b64, sig);
	free(sig);
	(void)snprintf(path, sizeof(path), "/v1/sessions/%s/auth", sid);
	st = http_post(c, path, body, &ans);
	free(body);
	if (st != 200) {
		fail_note(w, "auth: %d %.120s", st, st > 0 ? ans : "");
		return -1;
	}
	t[2] = now_ms();
	if ((body = malloc(512)) == NULL)
		die("out of memory");
	(void)snprintf(body, 512, "{\"session_id\":\"%s\",\"document\":\"%s\","
	    "\"options\":{},\"copies\":%d,\"idempotency_key\":"
	    "\"bench-key-%ld-%d-%lu\"}", sid, document, doc_copies,
	    (long)getpid(), w->index, seq);
	st = http_post(c, "/v1/issuances", body, &ans);
	free(body);
	if (st != 201 || json_str(ans, "issuance_id", iid, sizeof(iid)) ==
	    -1 || strstr(ans, "\"signature\":\"") == NULL) {
		fail_note(w, "issuance: %d %.120s", st, st > 0 ? ans : "");
		return -1;
	}
	t[3] = now_ms();
	(void)snprintf(path, sizeof(path), "/v1/issuances/%s/result", iid);
	if ((st = http_post(c, path, "{\"status\":\"printed\",\"pages\":1}",
	    &ans)) != 200 || strstr(ans, "\"committed\"") == NULL) {
		fail_note(w, "result: %d", st);
		return -1;
	}
	t[4] = now_ms();
	if (measuring) {
		w->ok++;
		if (lat_add(&w->tx, t[4] - t0) == -1)
			die("too many samples");
		for (i = 0; i < STEPS; i++)
			if (lat_add(&w->step[i], t[i + 1] - t[i]) == -1)
				die("too many samples");
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn *c;
	unsigned long seq = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		die("out of memory");
	c->fd = -1;
	while (!stopping) {
		if (c->ssl == NULL && conn_open(c, w->ctx) == -1) {
			fail_note(w, "cannot connect");
			(void)usleep(100000);
			continue;
		}
		if (one_tx(w, c, seq++) == -1) {
			/* start clean: the connection may be out of step */
			conn_close(c);
		}
	}
	conn_close(c);
	free(c);
	return NULL;
}

static size_t
split(char *list, char names[][NAME_MAX_LEN + 1], size_t max)
{
	char *tok, *save = NULL, *p;
	size_t n = 0;

	for (p = list; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		if (n == max || strlen(tok) > NAME_MAX_LEN)
			die("too many or too long names");
		(void)snprintf(names[n++], NAME_MAX_LEN + 1, "%s", tok);
	}
	return n;
}

static void
report(const char *name, struct lat *l)
{
	qsort(l->v, l->n, sizeof(double), cmp_double);
	printf("%-22s n=%-8zu p50=%7.2f ms  p90=%7.2f ms  p99=%7.2f ms  "
	    "max=%8.2f ms\n", name, l->n, pct(l->v, l->n, 0.50),
	    pct(l->v, l->n, 0.90), pct(l->v, l->n, 0.99),
	    l->n ? l->v[l->n - 1] : 0.0);
}

static void
merge(struct lat *dst, const struct lat *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (lat_add(dst, src->v[i]) == -1)
			die("too many samples");
}

int
main(int argc, char *argv[])
{
	static char kiosks[NAMES_MAX][NAME_MAX_LEN + 1];
	static char cardnames[NAMES_MAX][NAME_MAX_LEN + 1];
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "pki", required_argument, NULL, 'k' },
		{ "kiosks", required_argument, NULL, 'K' },
		{ "cards", required_argument, NULL, 'C' },
		{ "conns", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "document", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct worker *ws;
	struct card *cards;
	struct lat tx = { 0 }, steps[STEPS];
	SSL_CTX **ctxs;
	const char *pki = NULL;
	char *klist = NULL, *clist = NULL;
	size_t nk = 0, nc = 0, i;
	int conns = 32, seconds = 10, warmup = 2, ch, k;
	long ok = 0, failed = 0;
	double t0, t1;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'k': pki = optarg; break;
		case 'K': klist = optarg; break;
		case 'C': clist = optarg; break;
		case 'c': conns = atoi(optarg); break;
		case 's': seconds = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'd': document = optarg; break;
		default:
			die("usage: center-load --port N --pki DIR --kiosks "
			    "K,... --cards C,... [--conns N] [--seconds S] "
			    "[--warmup S] [--document TYPE]");
		}
	}
	if (port <= 0 || port > 65535 || pki == NULL || klist == NULL ||
	    clist == NULL || conns < 1 || conns > 4096 || seconds < 1 ||
	    warmup < 0)
		die("bad or missing arguments (see the usage)");
	nk = split(klist, kiosks, NAMES_MAX);
	nc = split(clist, cardnames, NAMES_MAX);
	if (nk == 0 || nc == 0)
		die("no kiosks or no cards");
	if ((cards = calloc(nc, sizeof(*cards))) == NULL ||
	    (ctxs = calloc(nk, sizeof(*ctxs))) == NULL ||
	    (ws = calloc((size_t)conns, sizeof(*ws))) == NULL)
		die("out of memory");
	for (i = 0; i < nc; i++)
		load_card(&cards[i], pki, cardnames[i]);
	for (i = 0; i < nk; i++)
		ctxs[i] = kiosk_ctx(pki, kiosks[i]);
	memset(steps, 0, sizeof(steps));
	for (k = 0; k < conns; k++) {
		ws[k].index = k;
		ws[k].ctx = ctxs[(size_t)k % nk];
		ws[k].kiosk = kiosks[(size_t)k % nk];
		ws[k].card = &cards[(size_t)k % nc];
		if (pthread_create(&ws[k].tid, NULL, worker_main, &ws[k]) != 0)
			die("pthread_create");
	}
	(void)sleep((unsigned)warmup);
	measuring = 1;
	t0 = now_ms();
	(void)sleep((unsigned)seconds);
	measuring = 0;
	t1 = now_ms();
	stopping = 1;
	for (k = 0; k < conns; k++) {
		(void)pthread_join(ws[k].tid, NULL);
		ok += ws[k].ok;
		failed += ws[k].failed;
		merge(&tx, &ws[k].tx);
		for (i = 0; i < STEPS; i++)
			merge(&steps[i], &ws[k].step[i]);
	}
	printf("connections %d, kiosks %zu, cards %zu, document %s, "
	    "%.1f s measured\n", conns, nk, nc, document, (t1 - t0) / 1e3);
	printf("transactions ok %ld, failed %ld: %.1f tx/s (%.1f requests/s)\n",
	    ok, failed, (double)ok * 1e3 / (t1 - t0),
	    (double)ok * 4e3 / (t1 - t0));
	report("full transaction", &tx);
	for (i = 0; i < STEPS; i++)
		report(step_names[i], &steps[i]);
	for (k = 0; k < conns; k++)
		if (ws[k].first_error[0] != '\0') {
			printf("first error (connection %d): %s\n", k,
			    ws[k].first_error);
			break;
		}
	return failed > 0 ? 3 : 0;
}
