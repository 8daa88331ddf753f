/*
 * kioskd.conf: golden files (tests/config/NAME.conf -> NAME.out, the
 * normalised print; bad-NAME.conf -> bad-NAME.err, every error line), the
 * print/parse round trip, service hours at their edges in JST whatever TZ
 * says, and garbage input.
 *
 * KIOSK_REGEN=1 rewrites the expected files from the current output (then
 * review the diff before committing).
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kioskd/config.h"
#include "log.h"
#include "t.h"

static const char *good[] = {
	"default", "full", "include", "midnight"
};
static const char *bad[] = {
	"bad-syntax", "bad-values", "bad-missing", "bad-center",
	"bad-include"
};

static int regen;

static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1 || (buf = malloc((size_t)n + 1)) ==
	    NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

static void
spit(const char *path, const char *s)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL || fputs(s, f) == EOF ||
	    fclose(f) == EOF)
		fatal("%s", path);
}

static char *
print_to_string(const struct kiosk_conf *c)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&s, &len)) == NULL)
		fatal("open_memstream");
	config_print(f, c);
	if (fclose(f) == EOF)
		fatal("fclose");
	return s;
}

/* Compare with the expected file (or write it when regenerating). */
static int
matches(const char *got, const char *expected_path)
{
	char *want;
	int ok;

	if (regen) {
		spit(expected_path, got);
		return 1;
	}
	if ((want = slurp(expected_path, NULL)) == NULL) {
		printf("# cannot read %s\n", expected_path);
		return 0;
	}
	ok = strcmp(got, want) == 0;
	if (!ok)
		printf("# %s differs; got:\n%s# end\n", expected_path, got);
	free(want);
	return ok;
}

static void
golden_good(const char *name, const char *conf_path, const char *out_path)
{
	struct kiosk_conf *c = NULL, *c2 = NULL;
	char err[4096], label[160], *p1, *p2;

	snprintf(label, sizeof(label), "%s: loads", name);
	if (!T_CHECK(config_load(conf_path, &c, err, sizeof(err)) == 0,
	    label)) {
		printf("# %s", err);
		return;
	}
	p1 = print_to_string(c);
	snprintf(label, sizeof(label), "%s: normalised print matches %s",
	    name, out_path);
	T_CHECK(matches(p1, out_path), label);
	snprintf(label, sizeof(label), "%s: the print parses again", name);
	if (T_CHECK(config_load_buf("printed", p1, strlen(p1), &c2, err,
	    sizeof(err)) == 0, label)) {
		p2 = print_to_string(c2);
		snprintf(label, sizeof(label), "%s: ... and prints the same",
		    name);
		T_CHECK(strcmp(p1, p2) == 0, label);
		snprintf(label, sizeof(label), "%s: ... to the same struct",
		    name);
		T_CHECK(memcmp(c, c2, sizeof(*c)) == 0, label);
		free(p2);
		config_free(c2);
	}
	free(p1);
	config_free(c);
}

static void
golden_bad(const char *name)
{
	struct kiosk_conf *c = NULL;
	char path[128], err[8192], label[160];
	int r;

	snprintf(path, sizeof(path), "%s.conf", name);
	r = config_load(path, &c, err, sizeof(err));
	snprintf(label, sizeof(label), "%s: refused", name);
	T_CHECK(r == -1 && c == NULL, label);
	snprintf(path, sizeof(path), "%s.err", name);
	snprintf(label, sizeof(label), "%s: every error as FILE:LINE",
	    name);
	T_CHECK(matches(err, path), label);
}

/* time_t of a JST wall-clock time. */
static time_t
jst(int y, int mo, int d, int h, int mi)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm) - 9 * 3600;
}

static struct kiosk_conf *
load_str(const char *text)
{
	struct kiosk_conf *c = NULL;
	char err[4096];

	if (config_load_buf("inline", text, strlen(text), &c, err,
	    sizeof(err)) == -1) {
		printf("# %s", err);
		return NULL;
	}
	return c;
}

#define CENTER "center { url \"https://c\"; ca \"/a\"; client-cert \"/b\"\n" \
    "client-key \"/c\"; document-key \"/d\" }\n"

static void
test_hours(void)
{
	struct kiosk_conf *c, *m, *all;
	int pass;

	c = load_str("kiosk-id k\n" CENTER);
	m = load_str("kiosk-id k\n" CENTER "hours 22:00 - 02:00\n");
	all = load_str("kiosk-id k\n" CENTER "hours 00:00 - 24:00\n"
	    "closed none\n");
	if (!T_CHECK(c != NULL && m != NULL && all != NULL, "hours configs"))
		return;
	T_CHECK(c->open_min == 390 && c->close_min == 1380 &&
	    c->nclosed == 1 && c->closed[0].from_month == 12 &&
	    c->closed[0].from_day == 29 && c->closed[0].to_month == 1 &&
	    c->closed[0].to_day == 3,
	    "defaults: 06:30-23:00, closed 12-29 - 01-03");

	/* Twice: under the process's TZ and under a far-away one. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			setenv("TZ", "America/Los_Angeles", 1);
			tzset();
		}
		T_CHECK(config_service_state(c, jst(2026, 6, 10, 6, 29)) ==
		    CONF_SERVICE_HOURS, "06:29 closed (hours)");
		T_CHECK(config_in_service(c, jst(2026, 6, 10, 6, 30)),
		    "06:30 open");
		T_CHECK(config_in_service(c, jst(2026, 6, 10, 22, 59)),
		    "22:59 open");
		T_CHECK(config_service_state(c, jst(2026, 6, 10, 23, 0)) ==
		    CONF_SERVICE_HOURS, "23:00 closed (hours)");
		T_CHECK(config_in_service(c, jst(2026, 6, 10, 22, 59) + 59),
		    "22:59:59 open");
		T_CHECK(config_in_service(c, jst(2026, 12, 28, 12, 0)),
		    "Dec 28 open");
		T_CHECK(config_in_service(c, jst(2026, 12, 28, 22, 59)),
		    "Dec 28 22:59 open");
		T_CHECK(config_service_state(c, jst(2026, 12, 29, 6, 30)) ==
		    CONF_SERVICE_CLOSED, "Dec 29 closed day");
		T_CHECK(config_service_state(c, jst(2026, 12, 31, 12, 0)) ==
		    CONF_SERVICE_CLOSED, "Dec 31 closed day");
		T_CHECK(config_service_state(c, jst(2027, 1, 1, 12, 0)) ==
		    CONF_SERVICE_CLOSED, "Jan 1 closed day");
		T_CHECK(config_service_state(c, jst(2027, 1, 3, 22, 59)) ==
		    CONF_SERVICE_CLOSED, "Jan 3 closed day");
		T_CHECK(config_in_service(c, jst(2027, 1, 4, 6, 30)),
		    "Jan 4 06:30 open");
		T_CHECK(config_service_state(c, jst(2027, 1, 4, 6, 29)) ==
		    CONF_SERVICE_HOURS, "Jan 4 06:29 closed (hours)");
		/* 15:00 UTC is 00:00 JST the next day. */
		T_CHECK(config_service_state(c, jst(2026, 12, 28, 23, 59)) ==
		    CONF_SERVICE_HOURS, "Dec 28 23:59 closed (hours)");

		/* Hours past midnight belong to the day they began on. */
		T_CHECK(config_in_service(m, jst(2026, 6, 10, 22, 0)),
		    "midnight: 22:00 open");
		T_CHECK(config_service_state(m, jst(2026, 6, 10, 21, 59)) ==
		    CONF_SERVICE_HOURS, "midnight: 21:59 closed");
		T_CHECK(config_in_service(m, jst(2026, 6, 11, 1, 59)),
		    "midnight: 01:59 open");
		T_CHECK(config_service_state(m, jst(2026, 6, 11, 2, 0)) ==
		    CONF_SERVICE_HOURS, "midnight: 02:00 closed");
		T_CHECK(config_in_service(m, jst(2026, 12, 29, 1, 0)),
		    "midnight: Dec 29 01:00 open (service day Dec 28)");
		T_CHECK(config_service_state(m, jst(2026, 12, 29, 22, 0)) ==
		    CONF_SERVICE_CLOSED, "midnight: Dec 29 22:00 closed day");
		T_CHECK(config_service_state(m, jst(2027, 1, 4, 1, 0)) ==
		    CONF_SERVICE_CLOSED,
		    "midnight: Jan 4 01:00 closed (service day Jan 3)");
		T_CHECK(config_in_service(m, jst(2027, 1, 4, 22, 0)),
		    "midnight: Jan 4 22:00 open");

		T_CHECK(config_in_service(all, jst(2026, 12, 31, 0, 0)) &&
		    config_in_service(all, jst(2026, 12, 31, 23, 59)),
		    "00:00 - 24:00, closed none: always open");
	}
	unsetenv("TZ");
	tzset();
	config_free(c);
	config_free(m);
	config_free(all);
}

static void
test_misc(void)
{
	struct kiosk_conf *c = NULL;
	char err[512], small[60], *buf;
	size_t i, n, lines;
	int r;

	r = config_load("no-such.conf", &c, err, sizeof(err));
	T_CHECK(r == -1 && c == NULL &&
	    strcmp(err, "no-such.conf: No such file or directory\n") == 0,
	    "missing file: FILE: reason");
	r = config_load(".", &c, err, sizeof(err));
	T_CHECK(r == -1 && strcmp(err, ".: not a regular file\n") == 0,
	    "a directory is refused");

	/* 200 bad lines: at most CONF_ERRORS_MAX errors, then a stop. */
	n = 200 * 16;
	if ((buf = malloc(n + 1)) == NULL)
		fatal("malloc");
	buf[0] = '\0';
	for (i = 0; i < 200; i++)
		strcat(buf, "nonsense 1 2 3\n");
	{
		static char big[65536];

		r = config_load_buf("many", buf, strlen(buf), &c, big,
		    sizeof(big));
		for (lines = 0, i = 0; big[i] != '\0'; i++)
			lines += big[i] == '\n';
		T_CHECK(r == -1 && lines == CONF_ERRORS_MAX + 1 &&
		    strstr(big, "many: too many errors\n") != NULL,
		    "errors capped, then \"too many errors\"");
		r = config_load_buf("many", buf, strlen(buf), &c, small,
		    sizeof(small));
		T_CHECK(r == -1 && strlen(small) < sizeof(small) &&
		    small[strlen(small) - 1] == '\n',
		    "a small error buffer keeps whole lines");
		r = config_load_buf("many", buf, strlen(buf), &c, NULL, 0);
		T_CHECK(r == -1, "errors without a buffer still fail");
	}
	free(buf);

	r = config_load_buf("nul", "kiosk-id a\0b\n", 13, &c, err,
	    sizeof(err));
	T_CHECK(r == -1 && strstr(err, "NUL") != NULL, "NUL byte refused");
	{
		const char *u = "kiosk-id k\n" CENTER
		    "store-name \"\xc3\x28\"\n"
		    "reader \"\xe3\x81\"\nprinter \"\xed\xa0\x80\"\n"
		    "journal \"/\xc0\xaf\"\n";

		r = config_load_buf("utf", u, strlen(u), &c, err,
		    sizeof(err));
		T_CHECK(r == -1 && strcmp(err, "utf:4: store-name: control "
		    "character or invalid UTF-8\nutf:5: reader: control "
		    "character or invalid UTF-8\nutf:6: printer: control "
		    "character or invalid UTF-8\nutf:7: journal: control "
		    "character or invalid UTF-8\n") == 0,
		    "bad UTF-8 (broken, truncated, surrogate, overlong) "
		    "refused with its line");
	}
	r = config_load_buf("bom", "\xef\xbb\xbfkiosk-id k\n" CENTER,
	    strlen("\xef\xbb\xbfkiosk-id k\n" CENTER), &c, err, sizeof(err));
	T_CHECK(r == 0 && strcmp(c->kiosk_id, "k") == 0,
	    "UTF-8 byte order mark skipped");
	if (r == 0) {
		T_CHECK(config_timeout(c, CONF_TO_PIN) == 60 &&
		    config_timeout(c, CONF_TO_SELECT) == 120 &&
		    config_timeout(c, CONF_TO_CARD) == 30 &&
		    c->center.timeout == 10, "timeout defaults");
		T_CHECK(strcmp(config_timeout_name(CONF_TO_COLLECT),
		    "collect") == 0 && strcmp(config_timeout_name(CONF_TO__MAX),
		    "unknown") == 0, "timeout names");
		config_free(c);
	}
	{
		char dir[] = "/tmp/kiosk-conf.XXXXXX", path[64];
		FILE *f;

		if (mkdtemp(dir) == NULL)
			fatal("mkdtemp");
		snprintf(path, sizeof(path), "%s/loop.conf", dir);
		if ((f = fopen(path, "w")) == NULL ||
		    fputs("include \"loop.conf\"\n", f) == EOF ||
		    fclose(f) == EOF)
			fatal("%s", path);
		r = config_load(path, &c, err, sizeof(err));
		T_CHECK(r == -1 && strstr(err, "loop.conf:1: include: nested "
		    "more than 8 deep\n") != NULL,
		    "include loop stops at the depth limit");
		unlink(path);
		rmdir(dir);
	}
}

/* Mutated configurations must never crash the parser. */
static void
test_garbage(void)
{
	struct kiosk_conf *c;
	char err[2048], *base, *buf;
	size_t len, i;
	int k, accepted = 0, refused = 0;

	if ((base = slurp("full.conf", &len)) == NULL) {
		T_CHECK(0, "read full.conf");
		return;
	}
	if ((buf = malloc(len + 1)) == NULL)
		fatal("malloc");
	srandom(12345);
	for (k = 0; k < 3000; k++) {
		memcpy(buf, base, len + 1);
		for (i = 0; i < 1 + (size_t)(k % 8); i++)
			buf[random() % len] = (char)(random() & 0xff);
		c = NULL;
		if (config_load_buf("fuzz", buf, (size_t)(random() % (long)len),
		    &c, err, sizeof(err)) == 0) {
			accepted++;
			config_free(c);
		} else
			refused++;
	}
	free(buf);
	free(base);
	T_CHECK(accepted + refused == 3000 && refused > 0,
	    "3000 mutated files parsed without a crash");
}

int
main(void)
{
	const char *src = getenv("KIOSK_SRCDIR");
	char dir[4096], conf[160], out[160];
	size_t i;

	log_init("test_config", 0);
	regen = getenv("KIOSK_REGEN") != NULL;
	if (src == NULL)
		src = ".";
	snprintf(dir, sizeof(dir), "%s/tests/config", src);
	if (chdir(dir) == -1)
		fatal("chdir %s", dir);

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(conf, sizeof(conf), "%s.conf", good[i]);
		snprintf(out, sizeof(out), "%s.out", good[i]);
		golden_good(good[i], conf, out);
	}
	golden_good("sample", "../../kioskd/kioskd.conf.sample", "sample.out");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		golden_bad(bad[i]);
	test_hours();
	test_misc();
	test_garbage();
	return t_done();
}
