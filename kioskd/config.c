/*
 * kioskd.conf parser: a hand-written lexer and one function per keyword.
 *
 * Statements end at a newline or ';'.  Every error is collected as
 * "FILE:LINE: message" and parsing resumes at the next statement, so one
 * run reports all of them (up to CONF_ERRORS_MAX).  Every value is bounded
 * and validated here, so the rest of kioskd can trust struct kiosk_conf.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "config.h"

#define CONF_FILE_MAX		(1024 * 1024)
#define CONF_TOKEN_MAX		1024
#define CONF_DURATION_MAX	3600
#define CONF_CENTER_TO_MAX	300
#define CONF_POLL_MAX		600
#define CONF_JOB_TO_MIN		10
#define CONF_REQ_TO_MAX		60

enum tok {
	T_EOF,
	T_EOS,		/* end of statement: newline or ';' */
	T_WORD,
	T_STRING,
	T_LBRACE,
	T_RBRACE,
	T_ERROR		/* already reported */
};

struct token {
	enum tok	kind;
	int		line;
	size_t		len;
	char		text[CONF_TOKEN_MAX + 1];
};

struct lexer {
	const char	*name;
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 line;
	int		 peeked;
	struct token	 peek;
};

/* Which settings have been given (duplicates are errors). */
enum seen {
	SEEN_KIOSK_ID = 0x001,
	SEEN_STORE = 0x002,
	SEEN_READER = 0x004,
	SEEN_CENTER = 0x008,
	SEEN_HOURS = 0x010,
	SEEN_UI = 0x020,
	SEEN_STATUS = 0x040,
	SEEN_JOURNAL = 0x080,
	SEEN_PRINTER = 0x100,
	SEEN_CLOSED_NONE = 0x200,
	SEEN_PAYMENT = 0x400
};

struct parser {
	struct kiosk_conf *conf;
	char		*errbuf;
	size_t		 errlen;
	size_t		 errused;
	int		 nerrors;
	int		 stopped;	/* too many errors */
	unsigned int	 seen;
	int		 seen_timeout[CONF_TO__MAX];
	int		 depth;
};

static const char *timeout_names[CONF_TO__MAX] = {
	[CONF_TO_SELECT] = "select",
	[CONF_TO_CARD] = "card",
	[CONF_TO_READ] = "read",
	[CONF_TO_PIN] = "pin",
	[CONF_TO_AUTH] = "auth",
	[CONF_TO_REMOVE] = "remove",
	[CONF_TO_OPTIONS] = "options",
	[CONF_TO_PAYMENT] = "payment",
	[CONF_TO_ISSUE] = "issue",
	[CONF_TO_PRINT] = "print",
	[CONF_TO_COLLECT] = "collect",
};

static const unsigned int timeout_defaults[CONF_TO__MAX] = {
	[CONF_TO_SELECT] = 120,
	[CONF_TO_CARD] = 30,
	[CONF_TO_READ] = 20,
	[CONF_TO_PIN] = 60,
	[CONF_TO_AUTH] = 30,
	[CONF_TO_REMOVE] = 30,
	[CONF_TO_OPTIONS] = 120,
	[CONF_TO_PAYMENT] = 180,
	[CONF_TO_ISSUE] = 30,
	[CONF_TO_PRINT] = 300,
	[CONF_TO_COLLECT] = 60,
};

static int	parse_stream(struct parser *, struct lexer *);

const char *
config_print_format_name(enum conf_print_format f)
{
	switch (f) {
	case CONF_PRINT_PDF:
		return "pdf";
	case CONF_PRINT_RAW:
		return "raw";
	default:
		return "auto";
	}
}

const char *
config_timeout_name(enum conf_timeout t)
{
	if ((unsigned int)t >= CONF_TO__MAX)
		return "unknown";
	return timeout_names[t];
}

unsigned int
config_timeout(const struct kiosk_conf *conf, enum conf_timeout t)
{
	if ((unsigned int)t >= CONF_TO__MAX)
		return 0;
	return conf->timeouts[t];
}

/* --- errors ------------------------------------------------------------ */

static void
perr(struct parser *P, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
perr(struct parser *P, const char *file, int line, const char *fmt, ...)
{
	char msg[512], full[1024];
	va_list ap;
	size_t n;
	int r;

	if (P->stopped)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);	/* truncation ok */
	va_end(ap);
	if (++P->nerrors > CONF_ERRORS_MAX) {
		P->stopped = 1;
		r = snprintf(full, sizeof(full), "%s: too many errors\n", file);
	} else if (line > 0)
		r = snprintf(full, sizeof(full), "%s:%d: %s\n", file, line,
		    msg);
	else
		r = snprintf(full, sizeof(full), "%s: %s\n", file, msg);
	if (r < 0 || P->errbuf == NULL || P->errlen == 0)
		return;
	n = strlen(full);
	if (P->errused + n >= P->errlen)
		return;		/* keep whole lines only */
	memcpy(P->errbuf + P->errused, full, n + 1);
	P->errused += n;
}

/* --- lexer ------------------------------------------------------------- */

static int
is_word_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && c != '"' && c != '{' && c != '}' &&
	    c != '#' && c != ';';
}

static void
lex_next(struct parser *P, struct lexer *L, struct token *t)
{
	unsigned char c;
	size_t n;

	if (L->peeked) {
		*t = L->peek;
		L->peeked = 0;
		return;
	}
	t->len = 0;
	t->text[0] = '\0';
	for (;;) {
		if (L->pos >= L->len) {
			t->kind = T_EOF;
			t->line = L->line;
			return;
		}
		c = (unsigned char)L->buf[L->pos];
		if (c == ' ' || c == '\t' || c == '\r') {
			L->pos++;
			continue;
		}
		if (c == '#') {
			while (L->pos < L->len && L->buf[L->pos] != '\n')
				L->pos++;
			continue;
		}
		break;
	}
	t->line = L->line;
	switch (c) {
	case '\n':
		L->pos++;
		L->line++;
		t->kind = T_EOS;
		return;
	case ';':
		L->pos++;
		t->kind = T_EOS;
		return;
	case '{':
		L->pos++;
		t->kind = T_LBRACE;
		return;
	case '}':
		L->pos++;
		t->kind = T_RBRACE;
		return;
	case '"':
		L->pos++;
		n = 0;
		for (;;) {
			if (L->pos >= L->len || L->buf[L->pos] == '\n') {
				perr(P, L->name, t->line,
				    "unterminated string");
				t->kind = T_ERROR;
				return;
			}
			c = (unsigned char)L->buf[L->pos++];
			if (c == '"')
				break;
			if (c == '\\') {
				if (L->pos >= L->len) {
					perr(P, L->name, t->line,
					    "unterminated string");
					t->kind = T_ERROR;
					return;
				}
				c = (unsigned char)L->buf[L->pos++];
				switch (c) {
				case '"':
				case '\\':
					break;
				case 'n':
					c = '\n';
					break;
				case 't':
					c = '\t';
					break;
				default:
					perr(P, L->name, t->line,
					    "unknown escape \"\\%c\" in string",
					    c >= 0x20 && c < 0x7f ? c : '?');
					t->kind = T_ERROR;
					while (L->pos < L->len &&
					    L->buf[L->pos] != '\n')
						L->pos++;
					return;
				}
			}
			if (n >= CONF_TOKEN_MAX) {
				perr(P, L->name, t->line, "string too long");
				t->kind = T_ERROR;
				while (L->pos < L->len &&
				    L->buf[L->pos] != '\n')
					L->pos++;
				return;
			}
			t->text[n++] = (char)c;
		}
		t->text[n] = '\0';
		t->len = n;
		t->kind = T_STRING;
		return;
	default:
		break;
	}
	if (!is_word_char(c)) {
		perr(P, L->name, t->line, "invalid character 0x%02x", c);
		t->kind = T_ERROR;
		L->pos++;
		return;
	}
	n = 0;
	while (L->pos < L->len && is_word_char((unsigned char)L->buf[L->pos])) {
		if (n >= CONF_TOKEN_MAX) {
			perr(P, L->name, t->line, "word too long");
			t->kind = T_ERROR;
			while (L->pos < L->len &&
			    is_word_char((unsigned char)L->buf[L->pos]))
				L->pos++;
			return;
		}
		t->text[n++] = L->buf[L->pos++];
	}
	t->text[n] = '\0';
	t->len = n;
	t->kind = T_WORD;
}

static void
lex_unget(struct lexer *L, const struct token *t)
{
	L->peek = *t;
	L->peeked = 1;
}

/* Skip the rest of a statement; a '}' is left for the block parser. */
static void
skip_statement(struct parser *P, struct lexer *L, int in_block)
{
	struct token t;

	for (;;) {
		lex_next(P, L, &t);
		if (t.kind == T_EOS || t.kind == T_EOF)
			return;
		if (t.kind == T_RBRACE && in_block) {
			lex_unget(L, &t);
			return;
		}
	}
}

static const char *
tok_desc(const struct token *t)
{
	switch (t->kind) {
	case T_EOF:
		return "end of file";
	case T_EOS:
		return "end of line";
	case T_WORD:
		return "a word";
	case T_STRING:
		return "a string";
	case T_LBRACE:
		return "'{'";
	case T_RBRACE:
		return "'}'";
	case T_ERROR:
		break;
	}
	return "an error";
}

/* --- value checks ------------------------------------------------------- */

/*
 * Well-formed UTF-8 without control characters (C0, DEL, C1), overlong
 * forms or surrogates.
 */
static int
utf8_text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, n;
	unsigned int cp, min;

	while (i < len) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int
is_value(const struct token *t)
{
	return t->kind == T_STRING || t->kind == T_WORD;
}

/* Read a string value (quoted or a bare word) into dst[size]. */
static int
get_string(struct parser *P, struct lexer *L, const char *what, char *dst,
    size_t size, int allow_empty)
{
	struct token t;

	lex_next(P, L, &t);
	if (t.kind == T_ERROR)
		return -1;
	if (!is_value(&t)) {
		perr(P, L->name, t.line, "%s: expected a string, got %s", what,
		    tok_desc(&t));
		if (t.kind == T_EOS || t.kind == T_RBRACE)
			lex_unget(L, &t);
		return -1;
	}
	if (t.len == 0 && !allow_empty) {
		perr(P, L->name, t.line, "%s: empty string", what);
		return -1;
	}
	if (t.len >= size) {
		perr(P, L->name, t.line, "%s: longer than %zu bytes", what,
		    size - 1);
		return -1;
	}
	if (!utf8_text_ok(t.text, t.len)) {
		perr(P, L->name, t.line, "%s: control character or invalid "
		    "UTF-8", what);
		return -1;
	}
	memcpy(dst, t.text, t.len + 1);
	return 0;
}

static int
get_path(struct parser *P, struct lexer *L, const char *what, char *dst,
    size_t size)
{
	int line = L->line;

	if (get_string(P, L, what, dst, size, 0) == -1)
		return -1;
	if (dst[0] != '/') {
		perr(P, L->name, line, "%s: \"%s\" is not an absolute path",
		    what, dst);
		dst[0] = '\0';
		return -1;
	}
	return 0;
}

/* "30s", "2m": seconds in [min, max]. */
static int
get_duration(struct parser *P, struct lexer *L, const char *what,
    unsigned int min, unsigned int max, unsigned int *out)
{
	struct token t;
	const char *errstr;
	char num[16];
	long long v;
	size_t n;
	int mult;

	lex_next(P, L, &t);
	if (t.kind == T_ERROR)
		return -1;
	if (t.kind != T_WORD) {
		perr(P, L->name, t.line, "%s: expected a duration, got %s",
		    what, tok_desc(&t));
		if (t.kind == T_EOS || t.kind == T_RBRACE)
			lex_unget(L, &t);
		return -1;
	}
	n = t.len;
	if (n < 2 || n > sizeof(num) - 1 ||
	    (t.text[n - 1] != 's' && t.text[n - 1] != 'm') ||
	    strspn(t.text, "0123456789") != n - 1) {
		perr(P, L->name, t.line, "%s: bad duration \"%s\" (use e.g. "
		    "30s or 2m)", what, t.text);
		return -1;
	}
	mult = t.text[n - 1] == 'm' ? 60 : 1;
	memcpy(num, t.text, n - 1);
	num[n - 1] = '\0';
	v = parse_num(num, 0, 100000, &errstr);
	if (errstr == NULL && (v * mult < min || v * mult > max))
		errstr = v * mult < min ? "too small" : "too large";
	if (errstr != NULL) {
		perr(P, L->name, t.line, "%s: duration \"%s\" is %s (%us to "
		    "%us)", what, t.text, errstr, min, max);
		return -1;
	}
	*out = (unsigned int)(v * mult);
	return 0;
}

/* Two decimal digits at s, into *v. */
static int
two_digits(const char *s, unsigned int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*v = (unsigned int)(s[0] - '0') * 10 + (unsigned int)(s[1] - '0');
	return 0;
}

/* "HH:MM" into minutes; 24:00 only when allow_24. */
static int
get_time(struct parser *P, struct lexer *L, const char *what, int allow_24,
    unsigned int *out)
{
	struct token t;
	unsigned int h, m;

	lex_next(P, L, &t);
	if (t.kind == T_ERROR)
		return -1;
	if (t.kind != T_WORD || t.len != 5 || t.text[2] != ':' ||
	    two_digits(t.text, &h) == -1 || two_digits(t.text + 3, &m) == -1) {
		perr(P, L->name, t.line, "%s: expected a time HH:MM, got %s%s",
		    what, t.kind == T_WORD ? t.text : tok_desc(&t),
		    t.kind == T_WORD && strchr(t.text, '-') != NULL ?
		    " (put spaces around '-')" : "");
		if (t.kind == T_EOS || t.kind == T_RBRACE)
			lex_unget(L, &t);
		return -1;
	}
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24))) {
		perr(P, L->name, t.line, "%s: no such time %s", what, t.text);
		return -1;
	}
	*out = h * 60 + m;
	return 0;
}

static const uint8_t mdays[13] = {
	0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
};

/* "MM-DD" (February 29 allowed). */
static int
parse_date(const char *s, size_t len, uint8_t *month, uint8_t *day)
{
	unsigned int mo, d;

	if (len != 5 || s[2] != '-' || two_digits(s, &mo) == -1 ||
	    two_digits(s + 3, &d) == -1)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo])
		return -2;
	*month = (uint8_t)mo;
	*day = (uint8_t)d;
	return 0;
}

static int
expect_word(struct parser *P, struct lexer *L, const char *word,
    const char *what)
{
	struct token t;

	lex_next(P, L, &t);
	if (t.kind == T_ERROR)
		return -1;
	if (t.kind != T_WORD || strcmp(t.text, word) != 0) {
		perr(P, L->name, t.line, "%s: expected \"%s\", got %s", what,
		    word, t.kind == T_WORD ? t.text : tok_desc(&t));
		if (t.kind == T_EOS || t.kind == T_RBRACE)
			lex_unget(L, &t);
		return -1;
	}
	return 0;
}

static int
once(struct parser *P, struct lexer *L, int line, unsigned int bit,
    const char *kw)
{
	if (P->seen & bit) {
		perr(P, L->name, line, "%s given twice", kw);
		return -1;
	}
	P->seen |= bit;
	return 0;
}

/* --- statements --------------------------------------------------------- */

static int
st_kiosk_id(struct parser *P, struct lexer *L, int line)
{
	struct kiosk_conf *c = P->conf;
	char id[CONF_ID_MAX + 1];

	memset(id, 0, sizeof(id));
	if (once(P, L, line, SEEN_KIOSK_ID, "kiosk-id") == -1 ||
	    get_string(P, L, "kiosk-id", id, sizeof(id), 0) == -1)
		return -1;
	if (strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") != strlen(id)) {
		perr(P, L->name, line, "kiosk-id: only letters, digits, '_' "
		    "and '-' are allowed");
		return -1;
	}
	memcpy(c->kiosk_id, id, sizeof(id));
	return 0;
}

static int
st_store_name(struct parser *P, struct lexer *L, int line)
{
	if (once(P, L, line, SEEN_STORE, "store-name") == -1)
		return -1;
	return get_string(P, L, "store-name", P->conf->store_name,
	    sizeof(P->conf->store_name), 1);
}

/* reader any | reader "NAME" */
static int
st_reader(struct parser *P, struct lexer *L, int line)
{
	struct token t;

	if (once(P, L, line, SEEN_READER, "reader") == -1)
		return -1;
	lex_next(P, L, &t);
	if (t.kind == T_WORD && strcmp(t.text, "any") == 0) {
		P->conf->reader[0] = '\0';
		return 0;
	}
	lex_unget(L, &t);
	if (t.kind == T_WORD) {
		perr(P, L->name, line, "reader: quote the reader name, or "
		    "use any");
		return -1;
	}
	return get_string(P, L, "reader", P->conf->reader,
	    sizeof(P->conf->reader), 0);
}

/* server default | server "/socket" | server "host[:port]" */
static int
pr_server(struct parser *P, struct lexer *L, int line, char *dst,
    size_t size)
{
	struct token t;
	const char *colon, *errstr;

	lex_next(P, L, &t);
	if (t.kind == T_WORD && strcmp(t.text, "default") == 0) {
		dst[0] = '\0';
		return 0;
	}
	lex_unget(L, &t);
	if (get_string(P, L, "server", dst, size, 0) == -1)
		return -1;
	if (dst[0] == '/')
		return 0;
	colon = strrchr(dst, ':');
	if (strpbrk(dst, " /\"#") != NULL || dst[0] == ':' ||
	    (colon != NULL && (parse_num(colon + 1, 1, 65535, &errstr),
	    errstr != NULL))) {
		perr(P, L->name, line, "server: \"%s\" is neither a socket "
		    "path nor host[:port]", dst);
		dst[0] = '\0';
		return -1;
	}
	return 0;
}

/* uri device | uri "ipp://..." */
static int
pr_uri(struct parser *P, struct lexer *L, int line, char *dst, size_t size)
{
	struct token t;

	lex_next(P, L, &t);
	if (t.kind == T_WORD && strcmp(t.text, "device") == 0) {
		dst[0] = '\0';
		return 0;
	}
	lex_unget(L, &t);
	if (get_string(P, L, "uri", dst, size, 0) == -1)
		return -1;
	if ((strncmp(dst, "ipp://", 6) != 0 && strncmp(dst, "ipps://", 7) !=
	    0) || strpbrk(dst, " \"<>\\^`{|}") != NULL ||
	    dst[strncmp(dst, "ipp://", 6) == 0 ? 6 : 7] == '\0' ||
	    dst[strncmp(dst, "ipp://", 6) == 0 ? 6 : 7] == '/') {
		perr(P, L->name, line, "uri: \"%s\" is not an ipp:// or "
		    "ipps:// printer URI", dst);
		dst[0] = '\0';
		return -1;
	}
	return 0;
}

static int
pr_format(struct parser *P, struct lexer *L, int line,
    enum conf_print_format *out)
{
	struct token t;

	lex_next(P, L, &t);
	if (t.kind == T_ERROR)
		return -1;
	if (t.kind == T_WORD && strcmp(t.text, "auto") == 0)
		*out = CONF_PRINT_AUTO;
	else if (t.kind == T_WORD && strcmp(t.text, "pdf") == 0)
		*out = CONF_PRINT_PDF;
	else if (t.kind == T_WORD && strcmp(t.text, "raw") == 0)
		*out = CONF_PRINT_RAW;
	else {
		perr(P, L->name, line, "format: expected auto, pdf or raw, "
		    "got %s", t.kind == T_WORD ? t.text : tok_desc(&t));
		if (t.kind == T_EOS || t.kind == T_RBRACE)
			lex_unget(L, &t);
		return -1;
	}
	return 0;
}

/*
 * The end of one statement inside a block ("center { ... }",
 * "printer { ... }"), kw its keyword: a keyword given twice is an error, a
 * statement whose value failed is skipped, and a statement must end here.
 */
static void
block_stmt_end(struct parser *P, struct lexer *L, const char *block,
    const struct token *kw, int r, unsigned int bit, unsigned int *seen)
{
	struct token t;

	if (*seen & bit) {
		perr(P, L->name, kw->line, "%s: %s given twice", block,
		    kw->text);
		r = -1;
	}
	*seen |= bit;
	if (r == -1) {
		skip_statement(P, L, 1);
		return;
	}
	lex_next(P, L, &t);
	if (t.kind == T_RBRACE) {
		lex_unget(L, &t);
		return;
	}
	if (t.kind != T_EOS && t.kind != T_EOF) {
		if (t.kind != T_ERROR)
			perr(P, L->name, t.line, "%s: unexpected %s at the "
			    "end of the statement", block, tok_desc(&t));
		skip_statement(P, L, 1);
	} else if (t.kind == T_EOF)
		lex_unget(L, &t);
}

/*
 * printer default|"QUEUE" [{ server ...; uri ...; format ...; poll ...;
 * job-timeout ...; request-timeout ... }]
 */
static int
st_printer(struct parser *P, struct lexer *L, int line)
{
	struct conf_printer *pc = &P->conf->print;
	struct token t;
	unsigned int seen = 0, bit;
	int r;

	if (once(P, L, line, SEEN_PRINTER, "printer") == -1)
		return -1;
	lex_next(P, L, &t);
	if (t.kind == T_WORD && strcmp(t.text, "default") == 0)
		P->conf->printer[0] = '\0';
	else {
		lex_unget(L, &t);
		if (t.kind == T_WORD) {
			perr(P, L->name, line, "printer: quote the queue name, "
			    "or use default");
			return -1;
		}
		if (get_string(P, L, "printer", P->conf->printer,
		    sizeof(P->conf->printer), 0) == -1)
			return -1;
		if (strpbrk(P->conf->printer, " /#") != NULL) {
			perr(P, L->name, line, "printer: a CUPS queue name has "
			    "no spaces, '/' or '#'");
			return -1;
		}
	}
	lex_next(P, L, &t);
	if (t.kind != T_LBRACE) {
		lex_unget(L, &t);
		return 0;
	}
	for (;;) {
		if (P->stopped)
			return -1;
		lex_next(P, L, &t);
		if (t.kind == T_EOS)
			continue;
		if (t.kind == T_ERROR) {
			skip_statement(P, L, 1);
			continue;
		}
		if (t.kind == T_RBRACE)
			break;
		if (t.kind == T_EOF) {
			perr(P, L->name, line, "printer: missing '}'");
			lex_unget(L, &t);
			return 0;
		}
		if (t.kind != T_WORD) {
			perr(P, L->name, t.line, "printer: expected a keyword, "
			    "got %s", tok_desc(&t));
			skip_statement(P, L, 1);
			continue;
		}
		if (strcmp(t.text, "server") == 0) {
			bit = 0x01;
			r = pr_server(P, L, t.line, pc->server,
			    sizeof(pc->server));
		} else if (strcmp(t.text, "uri") == 0) {
			bit = 0x02;
			r = pr_uri(P, L, t.line, pc->uri, sizeof(pc->uri));
		} else if (strcmp(t.text, "format") == 0) {
			bit = 0x04;
			r = pr_format(P, L, t.line, &pc->format);
		} else if (strcmp(t.text, "poll") == 0) {
			bit = 0x08;
			r = get_duration(P, L, "poll", 1, CONF_POLL_MAX,
			    &pc->poll);
		} else if (strcmp(t.text, "job-timeout") == 0) {
			bit = 0x10;
			r = get_duration(P, L, "job-timeout", CONF_JOB_TO_MIN,
			    CONF_DURATION_MAX, &pc->job_timeout);
		} else if (strcmp(t.text, "request-timeout") == 0) {
			bit = 0x20;
			r = get_duration(P, L, "request-timeout", 1,
			    CONF_REQ_TO_MAX, &pc->request_timeout);
		} else {
			perr(P, L->name, t.line, "printer: unknown keyword "
			    "\"%s\" (server, uri, format, poll, job-timeout, "
			    "request-timeout)", t.text);
			skip_statement(P, L, 1);
			continue;
		}
		block_stmt_end(P, L, "printer", &t, r, bit, &seen);
	}
	return 0;
}

static int
st_journal(struct parser *P, struct lexer *L, int line)
{
	if (once(P, L, line, SEEN_JOURNAL, "journal") == -1)
		return -1;
	return get_path(P, L, "journal", P->conf->journal,
	    sizeof(P->conf->journal));
}

/*
 * payment coinbox "OPTIONS"
 * The payment device.  The only kind today is the coin box simulator
 * (kioskd/payment_coinbox.c: no physical cash device is reachable here);
 * its options are "ledger=PATH" (absolute) and optional faults.
 */
static int
st_payment(struct parser *P, struct lexer *L, int line)
{
	char kind[16], *lp, *end;

	if (once(P, L, line, SEEN_PAYMENT, "payment") == -1 ||
	    get_string(P, L, "payment", kind, sizeof(kind), 0) == -1)
		return -1;
	if (strcmp(kind, "coinbox") != 0) {
		perr(P, L->name, line, "payment: unknown device \"%s\" "
		    "(known: coinbox)", kind);
		return -1;
	}
	if (get_string(P, L, "payment coinbox", P->conf->payment,
	    sizeof(P->conf->payment), 0) == -1)
		return -1;
	lp = strstr(P->conf->payment, "ledger=");
	if (lp == NULL || (lp != P->conf->payment && lp[-1] != ',') ||
	    lp[7] != '/') {
		perr(P, L->name, line, "payment coinbox: the options need "
		    "ledger=/ABSOLUTE/PATH");
		P->conf->payment[0] = '\0';
		return -1;
	}
	end = strchr(lp, ',');
	if (end != NULL && end == lp + 7) {
		perr(P, L->name, line, "payment coinbox: empty ledger path");
		return -1;
	}
	return 0;
}

/* hours HH:MM - HH:MM */
static int
st_hours(struct parser *P, struct lexer *L, int line)
{
	unsigned int open, close;

	if (once(P, L, line, SEEN_HOURS, "hours") == -1 ||
	    get_time(P, L, "hours", 0, &open) == -1 ||
	    expect_word(P, L, "-", "hours") == -1 ||
	    get_time(P, L, "hours", 1, &close) == -1)
		return -1;
	if (open == close) {
		perr(P, L->name, line, "hours: opening and closing times are "
		    "equal (use 00:00 - 24:00 for all day)");
		return -1;
	}
	P->conf->open_min = open;
	P->conf->close_min = close;
	return 0;
}

/* closed none | closed MM-DD [- MM-DD] */
static int
st_closed(struct parser *P, struct lexer *L, int line)
{
	struct kiosk_conf *c = P->conf;
	struct conf_closed cl;
	struct token t;
	int r = 0;

	lex_next(P, L, &t);
	if (t.kind == T_ERROR)
		return -1;
	if (t.kind == T_WORD && strcmp(t.text, "none") == 0) {
		if (P->seen & SEEN_CLOSED_NONE || c->nclosed > 0) {
			perr(P, L->name, line, "closed none conflicts with "
			    "another closed statement");
			return -1;
		}
		P->seen |= SEEN_CLOSED_NONE;
		return 0;
	}
	if (t.kind != T_WORD ||
	    (r = parse_date(t.text, t.len, &cl.from_month, &cl.from_day)) < 0) {
		if (t.kind == T_WORD && r == -2)
			perr(P, L->name, line, "closed: no such date %s",
			    t.text);
		else
			perr(P, L->name, line, "closed: expected MM-DD or "
			    "none, got %s", t.kind == T_WORD ? t.text :
			    tok_desc(&t));
		if (t.kind == T_EOS || t.kind == T_RBRACE)
			lex_unget(L, &t);
		return -1;
	}
	cl.to_month = cl.from_month;
	cl.to_day = cl.from_day;
	lex_next(P, L, &t);
	if (t.kind == T_WORD && strcmp(t.text, "-") == 0) {
		lex_next(P, L, &t);
		if (t.kind == T_ERROR)
			return -1;
		if (t.kind != T_WORD ||
		    (r = parse_date(t.text, t.len, &cl.to_month,
		    &cl.to_day)) < 0) {
			if (t.kind == T_WORD && r == -2)
				perr(P, L->name, line, "closed: no such date "
				    "%s", t.text);
			else
				perr(P, L->name, line, "closed: expected "
				    "MM-DD, got %s", t.kind == T_WORD ?
				    t.text : tok_desc(&t));
			if (t.kind == T_EOS || t.kind == T_RBRACE)
				lex_unget(L, &t);
			return -1;
		}
	} else
		lex_unget(L, &t);
	if (P->seen & SEEN_CLOSED_NONE) {
		perr(P, L->name, line, "closed none conflicts with another "
		    "closed statement");
		return -1;
	}
	if (c->nclosed >= CONF_CLOSED_MAX) {
		perr(P, L->name, line, "closed: more than %d periods",
		    CONF_CLOSED_MAX);
		return -1;
	}
	c->closed[c->nclosed++] = cl;
	return 0;
}

/* timeout STATE DURATION */
static int
st_timeout(struct parser *P, struct lexer *L, int line)
{
	struct token t;
	int i;

	lex_next(P, L, &t);
	if (t.kind == T_ERROR)
		return -1;
	if (t.kind != T_WORD) {
		perr(P, L->name, line, "timeout: expected a state name, got "
		    "%s", tok_desc(&t));
		if (t.kind == T_EOS || t.kind == T_RBRACE)
			lex_unget(L, &t);
		return -1;
	}
	for (i = 0; i < CONF_TO__MAX; i++)
		if (strcmp(t.text, timeout_names[i]) == 0)
			break;
	if (i == CONF_TO__MAX) {
		perr(P, L->name, line, "timeout: unknown state \"%s\" (select, "
		    "card, read, pin, auth, remove, options, payment, issue, "
		    "print, collect)", t.text);
		return -1;
	}
	if (P->seen_timeout[i]) {
		perr(P, L->name, line, "timeout %s given twice",
		    timeout_names[i]);
		return -1;
	}
	if (get_duration(P, L, "timeout", 1, CONF_DURATION_MAX,
	    &P->conf->timeouts[i]) == -1)
		return -1;
	P->seen_timeout[i] = 1;
	return 0;
}

/* PATH [group NAME] [mode OCTAL] */
static int
st_socket(struct parser *P, struct lexer *L, int line, const char *kw,
    unsigned int bit, struct conf_socket *s)
{
	struct token t;
	int got_group = 0, got_mode = 0;
	size_t i;
	unsigned long mode;
	char *end;

	if (once(P, L, line, bit, kw) == -1 ||
	    get_path(P, L, kw, s->path, sizeof(s->path)) == -1)
		return -1;
	for (;;) {
		lex_next(P, L, &t);
		if (t.kind == T_ERROR)
			return -1;
		if (t.kind != T_WORD) {
			lex_unget(L, &t);
			return 0;
		}
		if (strcmp(t.text, "group") == 0 && !got_group) {
			got_group = 1;
			if (get_string(P, L, "group", s->group,
			    sizeof(s->group), 0) == -1)
				return -1;
			for (i = 0; s->group[i] != '\0'; i++)
				if (strchr("abcdefghijklmnopqrstuvwxyz"
				    "0123456789_-", s->group[i]) == NULL ||
				    (i == 0 && strchr("0123456789-",
				    s->group[i]) != NULL))
					break;
			if (s->group[i] != '\0') {
				perr(P, L->name, line, "%s: bad group name "
				    "\"%s\"", kw, s->group);
				return -1;
			}
		} else if (strcmp(t.text, "mode") == 0 && !got_mode) {
			got_mode = 1;
			lex_next(P, L, &t);
			if (t.kind == T_ERROR)
				return -1;
			if (t.kind != T_WORD || t.len < 3 || t.len > 4 ||
			    strspn(t.text, "01234567") != t.len) {
				perr(P, L->name, line, "%s: mode: expected "
				    "octal digits such as 0660", kw);
				if (t.kind == T_EOS || t.kind == T_RBRACE)
					lex_unget(L, &t);
				return -1;
			}
			errno = 0;
			mode = strtoul(t.text, &end, 8);
			if (errno != 0 || *end != '\0' || mode > 0777) {
				perr(P, L->name, line, "%s: mode %s: only "
				    "permission bits (at most 0777)", kw,
				    t.text);
				return -1;
			}
			if (mode & 0007) {
				perr(P, L->name, line, "%s: mode %s would let "
				    "any local user in", kw, t.text);
				return -1;
			}
			if ((mode & 0600) != 0600) {
				perr(P, L->name, line, "%s: mode %s: the owner "
				    "needs read and write", kw, t.text);
				return -1;
			}
			s->mode = (mode_t)mode;
		} else {
			perr(P, L->name, line, "%s: unexpected \"%s\" (group "
			    "NAME, mode OCTAL)", kw, t.text);
			return -1;
		}
	}
}

static int
st_ui_socket(struct parser *P, struct lexer *L, int line)
{
	return st_socket(P, L, line, "ui-socket", SEEN_UI,
	    &P->conf->ui_socket);
}

static int
st_status_socket(struct parser *P, struct lexer *L, int line)
{
	return st_socket(P, L, line, "status-socket", SEEN_STATUS,
	    &P->conf->status_socket);
}

/* center { url ...; ca ...; client-cert ...; client-key ...;
   document-key ...; timeout ... } */
static int
st_center(struct parser *P, struct lexer *L, int line)
{
	struct kiosk_conf *c = P->conf;
	struct token t;
	unsigned int seen = 0, bit;
	int r;
	const char *host;

	if (once(P, L, line, SEEN_CENTER, "center") == -1)
		return -1;
	lex_next(P, L, &t);
	if (t.kind != T_LBRACE) {
		if (t.kind != T_ERROR)
			perr(P, L->name, line, "center: expected '{', got %s",
			    tok_desc(&t));
		if (t.kind == T_EOS)
			lex_unget(L, &t);
		return -1;
	}
	for (;;) {
		if (P->stopped)
			return -1;
		lex_next(P, L, &t);
		if (t.kind == T_EOS)
			continue;
		if (t.kind == T_ERROR) {
			skip_statement(P, L, 1);
			continue;
		}
		if (t.kind == T_RBRACE)
			break;
		if (t.kind == T_EOF) {
			/* Reported once; the block counts as given. */
			perr(P, L->name, line, "center: missing '}'");
			lex_unget(L, &t);
			return 0;
		}
		if (t.kind != T_WORD) {
			perr(P, L->name, t.line, "center: expected a keyword, "
			    "got %s", tok_desc(&t));
			skip_statement(P, L, 1);
			continue;
		}
		bit = 0;
		if (strcmp(t.text, "url") == 0) {
			bit = 0x01;
			r = get_string(P, L, "url", c->center.url,
			    sizeof(c->center.url), 0);
			if (r == 0) {
				host = c->center.url + strlen("https://");
				if (strncmp(c->center.url, "https://",
				    strlen("https://")) != 0 ||
				    *host == '\0' || *host == '/' ||
				    strpbrk(c->center.url, " \"<>\\^`{|}") !=
				    NULL) {
					perr(P, L->name, t.line, "url: "
					    "\"%s\" is not an https:// URL",
					    c->center.url);
					r = -1;
				}
			}
		} else if (strcmp(t.text, "ca") == 0) {
			bit = 0x02;
			r = get_path(P, L, "ca", c->center.ca,
			    sizeof(c->center.ca));
		} else if (strcmp(t.text, "client-cert") == 0) {
			bit = 0x04;
			r = get_path(P, L, "client-cert", c->center.client_cert,
			    sizeof(c->center.client_cert));
		} else if (strcmp(t.text, "client-key") == 0) {
			bit = 0x08;
			r = get_path(P, L, "client-key", c->center.client_key,
			    sizeof(c->center.client_key));
		} else if (strcmp(t.text, "document-key") == 0) {
			bit = 0x10;
			r = get_path(P, L, "document-key",
			    c->center.document_key,
			    sizeof(c->center.document_key));
		} else if (strcmp(t.text, "timeout") == 0) {
			bit = 0x20;
			r = get_duration(P, L, "center timeout", 1,
			    CONF_CENTER_TO_MAX, &c->center.timeout);
		} else {
			perr(P, L->name, t.line, "center: unknown keyword "
			    "\"%s\"", t.text);
			skip_statement(P, L, 1);
			continue;
		}
		block_stmt_end(P, L, "center", &t, r, bit, &seen);
	}
	if (!(seen & 0x01))
		perr(P, L->name, line, "center: missing url");
	if (!(seen & 0x02))
		perr(P, L->name, line, "center: missing ca");
	if (!(seen & 0x04))
		perr(P, L->name, line, "center: missing client-cert");
	if (!(seen & 0x08))
		perr(P, L->name, line, "center: missing client-key");
	if (!(seen & 0x10))
		perr(P, L->name, line, "center: missing document-key");
	return 0;
}

/* Read a whole file into a new NUL-terminated buffer. */
static char *
read_file(const char *path, size_t *lenp, const char **why)
{
	struct stat st;
	char *buf;
	size_t off = 0;
	ssize_t n;
	int fd;

	*why = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return NULL;
	}
	if (st.st_size > CONF_FILE_MAX) {
		close(fd);
		*why = "file too large";
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;		/* shrank under us: take what we have */
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*lenp = off;
	return buf;
}

static int
parse_buffer(struct parser *P, const char *name, const char *buf,
    size_t len)
{
	struct lexer L;

	memset(&L, 0, sizeof(L));
	L.name = name;
	L.buf = buf;
	L.len = len;
	L.line = 1;
	if (memchr(buf, '\0', len) != NULL) {
		perr(P, name, 0, "contains a NUL byte");
		return -1;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		L.pos = 3;	/* UTF-8 byte order mark */
	return parse_stream(P, &L);
}

/* include "PATH": relative to the including file's directory. */
static int
st_include(struct parser *P, struct lexer *L, int line)
{
	char rel[CONF_PATH_MAX + 1], path[PATH_MAX];
	const char *slash, *why;
	char *buf;
	size_t len;
	int r, saved;

	if (get_string(P, L, "include", rel, sizeof(rel), 0) == -1)
		return -1;
	slash = strrchr(L->name, '/');
	if (rel[0] == '/' || slash == NULL)
		r = snprintf(path, sizeof(path), "%s", rel);
	else
		r = snprintf(path, sizeof(path), "%.*s/%s",
		    (int)(slash - L->name), L->name, rel);
	if (r < 0 || (size_t)r >= sizeof(path)) {
		perr(P, L->name, line, "include: path too long");
		return -1;
	}
	if (P->depth >= CONF_INCLUDE_DEPTH) {
		perr(P, L->name, line, "include: nested more than %d deep",
		    CONF_INCLUDE_DEPTH);
		return -1;
	}
	if ((buf = read_file(path, &len, &why)) == NULL) {
		saved = errno;
		perr(P, L->name, line, "include \"%s\": %s", path,
		    why != NULL ? why : strerror(saved));
		return -1;
	}
	P->depth++;
	(void)parse_buffer(P, path, buf, len);	/* errors are collected */
	P->depth--;
	free(buf);
	return 0;
}

struct keyword {
	const char	*name;
	int		(*fn)(struct parser *, struct lexer *, int);
};

static const struct keyword keywords[] = {
	{ "center", st_center },
	{ "closed", st_closed },
	{ "hours", st_hours },
	{ "include", st_include },
	{ "journal", st_journal },
	{ "kiosk-id", st_kiosk_id },
	{ "payment", st_payment },
	{ "printer", st_printer },
	{ "reader", st_reader },
	{ "status-socket", st_status_socket },
	{ "store-name", st_store_name },
	{ "timeout", st_timeout },
	{ "ui-socket", st_ui_socket },
};

static int
parse_stream(struct parser *P, struct lexer *L)
{
	struct token t;
	size_t i;
	unsigned int seen;
	int r;

	for (;;) {
		if (P->stopped)
			return -1;
		lex_next(P, L, &t);
		if (t.kind == T_EOF)
			return 0;
		if (t.kind == T_EOS)
			continue;
		if (t.kind == T_ERROR) {
			skip_statement(P, L, 0);
			continue;
		}
		if (t.kind != T_WORD) {
			perr(P, L->name, t.line, "expected a keyword, got %s",
			    tok_desc(&t));
			skip_statement(P, L, 0);
			continue;
		}
		for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
			if (strcmp(t.text, keywords[i].name) == 0)
				break;
		if (i == sizeof(keywords) / sizeof(keywords[0])) {
			perr(P, L->name, t.line, "unknown keyword \"%s\"",
			    t.text);
			skip_statement(P, L, 0);
			continue;
		}
		seen = P->seen;
		r = keywords[i].fn(P, L, t.line);
		if (r == -1) {
			/* A failed statement does not count as given. */
			P->seen = seen;
			skip_statement(P, L, 0);
			continue;
		}
		lex_next(P, L, &t);
		if (t.kind == T_EOS || t.kind == T_EOF) {
			if (t.kind == T_EOF)
				lex_unget(L, &t);
			continue;
		}
		if (t.kind == T_WORD || t.kind == T_STRING)
			perr(P, L->name, t.line, "%s: unexpected \"%s\" at the "
			    "end of the statement", keywords[i].name, t.text);
		else if (t.kind != T_ERROR)
			perr(P, L->name, t.line, "%s: unexpected %s at the end "
			    "of the statement", keywords[i].name, tok_desc(&t));
		skip_statement(P, L, 0);
	}
}

static void
config_defaults(struct kiosk_conf *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->center.timeout = 10;
	c->open_min = 6 * 60 + 30;
	c->close_min = 23 * 60;
	for (i = 0; i < CONF_TO__MAX; i++)
		c->timeouts[i] = timeout_defaults[i];
	(void)snprintf(c->ui_socket.path, sizeof(c->ui_socket.path), "%s",
	    "/run/kioskd/ui.sock");
	(void)snprintf(c->ui_socket.group, sizeof(c->ui_socket.group), "%s",
	    "kiosk-ui");
	c->ui_socket.mode = 0660;
	(void)snprintf(c->status_socket.path, sizeof(c->status_socket.path),
	    "%s", "/run/kioskd/status.sock");
	c->status_socket.mode = 0600;
	(void)snprintf(c->journal, sizeof(c->journal), "%s",
	    "/var/lib/kioskd/journal.db");
	(void)snprintf(c->payment, sizeof(c->payment), "%s",
	    "ledger=/var/lib/kioskd/coinbox.db");
	c->print.format = CONF_PRINT_AUTO;
	c->print.poll = 10;
	c->print.job_timeout = 300;
	c->print.request_timeout = 5;
}

/* Whole-file checks after parsing. */
static void
config_finish(struct parser *P, const char *name)
{
	struct kiosk_conf *c = P->conf;

	if (!(P->seen & SEEN_KIOSK_ID))
		perr(P, name, 0, "missing kiosk-id");
	if (!(P->seen & SEEN_CENTER))
		perr(P, name, 0, "missing center { ... } block");
	if (c->nclosed == 0 && !(P->seen & SEEN_CLOSED_NONE)) {
		/* DOMAIN.md 1.2: closed 29 Dec - 3 Jan. */
		c->closed[0].from_month = 12;
		c->closed[0].from_day = 29;
		c->closed[0].to_month = 1;
		c->closed[0].to_day = 3;
		c->nclosed = 1;
	}
	if (strcmp(c->ui_socket.path, c->status_socket.path) == 0)
		perr(P, name, 0, "ui-socket and status-socket are the same "
		    "path");
}

int
config_load_buf(const char *name, const char *buf, size_t len,
    struct kiosk_conf **confp, char *errbuf, size_t errlen)
{
	struct parser P;
	struct kiosk_conf *c;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	memset(&P, 0, sizeof(P));
	P.errbuf = errbuf;
	P.errlen = errlen;
	if ((c = malloc(sizeof(*c))) == NULL) {
		perr(&P, name, 0, "out of memory");
		return -1;
	}
	config_defaults(c);
	P.conf = c;
	(void)parse_buffer(&P, name, buf, len);
	if (!P.stopped)
		config_finish(&P, name);
	if (P.nerrors > 0) {
		config_free(c);
		return -1;
	}
	*confp = c;
	return 0;
}

int
config_load(const char *path, struct kiosk_conf **confp, char *errbuf,
    size_t errlen)
{
	struct parser P;
	const char *why;
	char *buf;
	size_t len;
	int r, saved;

	if ((buf = read_file(path, &len, &why)) == NULL) {
		saved = errno;
		if (errbuf != NULL && errlen > 0)
			errbuf[0] = '\0';
		memset(&P, 0, sizeof(P));
		P.errbuf = errbuf;
		P.errlen = errlen;
		perr(&P, path, 0, "%s", why != NULL ? why : strerror(saved));
		return -1;
	}
	r = config_load_buf(path, buf, len, confp, errbuf, errlen);
	free(buf);
	return r;
}

void
config_free(struct kiosk_conf *c)
{
	free(c);
}

/* --- service hours ------------------------------------------------------- */

#define JST_OFFSET	(9 * 60 * 60)

static int
closed_on(const struct kiosk_conf *c, int month, int day)
{
	size_t i;
	int md, from, to;

	md = month * 100 + day;
	for (i = 0; i < c->nclosed; i++) {
		from = c->closed[i].from_month * 100 + c->closed[i].from_day;
		to = c->closed[i].to_month * 100 + c->closed[i].to_day;
		if (from <= to ? (md >= from && md <= to) :
		    (md >= from || md <= to))
			return 1;
	}
	return 0;
}

/*
 * Hours past midnight (e.g. 22:00 - 02:00) belong to the day they began
 * on: at 01:00 on 12-29 the kiosk is still in the service day of 12-28.
 */
enum conf_service
config_service_state(const struct kiosk_conf *c, time_t now)
{
	struct tm tm;
	time_t t;
	unsigned int m;
	int in_hours, spans;

	t = now + JST_OFFSET;
	if (gmtime_r(&t, &tm) == NULL)
		return CONF_SERVICE_HOURS;
	m = (unsigned int)(tm.tm_hour * 60 + tm.tm_min);
	spans = c->close_min < c->open_min;
	if (spans)
		in_hours = m >= c->open_min || m < c->close_min;
	else
		in_hours = m >= c->open_min && m < c->close_min;
	if (!in_hours)
		return CONF_SERVICE_HOURS;
	if (spans && m < c->close_min) {
		t -= 24 * 60 * 60;
		if (gmtime_r(&t, &tm) == NULL)
			return CONF_SERVICE_HOURS;
	}
	if (closed_on(c, tm.tm_mon + 1, tm.tm_mday))
		return CONF_SERVICE_CLOSED;
	return CONF_SERVICE_OPEN;
}

int
config_in_service(const struct kiosk_conf *c, time_t now)
{
	return config_service_state(c, now) == CONF_SERVICE_OPEN;
}
