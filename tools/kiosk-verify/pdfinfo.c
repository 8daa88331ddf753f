/*
 * A string from a PDF's document information dictionary (pdfinfo.h).
 *
 * kiosk-verify needs the custom keys kioskd writes (KioskContent,
 * KioskCode); poppler-glib exposes only the standard ones.  Nothing read
 * here is trusted: the content is checked against the signed code's hash
 * and the rendering against the file's visible text, so this parser only
 * has to be safe and to find what cairo wrote, not to agree with every
 * reader.  It follows the newest trailer to /Info and the xref sections
 * (newest first, through /Prev) to the object.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pdfinfo.h"

#define MAX_SECTIONS	64	/* /Prev chain: also ends loops */
#define MAX_DEPTH	32	/* nested arrays and dictionaries */
#define MAX_NUM		10000000000ULL

struct lex {
	const unsigned char	*b;
	size_t			 len, pos;
};

static int
is_ws(int c)
{
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' ||
	    c == ' ';
}

static int
is_delim(int c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' ||
	    c == ']' || c == '{' || c == '}' || c == '/' || c == '%';
}

static int
is_regular(int c)
{
	return !is_ws(c) && !is_delim(c);
}

static int
peek(const struct lex *l)
{
	return l->pos < l->len ? l->b[l->pos] : -1;
}

static void
skip_ws(struct lex *l)
{
	while (l->pos < l->len) {
		if (is_ws(l->b[l->pos]))
			l->pos++;
		else if (l->b[l->pos] == '%') {
			while (l->pos < l->len && l->b[l->pos] != '\n' &&
			    l->b[l->pos] != '\r')
				l->pos++;
		} else
			break;
	}
}

/* The keyword kw, ending at a delimiter or whitespace. */
static int
keyword(struct lex *l, const char *kw)
{
	size_t	n = strlen(kw);

	skip_ws(l);
	if (l->len - l->pos < n || memcmp(l->b + l->pos, kw, n) != 0)
		return 0;
	if (l->pos + n < l->len && is_regular(l->b[l->pos + n]))
		return 0;
	l->pos += n;
	return 1;
}

static int
uint_tok(struct lex *l, unsigned long long *v)
{
	size_t	start;

	skip_ws(l);
	start = l->pos;
	*v = 0;
	while (l->pos < l->len && l->b[l->pos] >= '0' && l->b[l->pos] <= '9') {
		*v = *v * 10 + (l->b[l->pos] - '0');
		if (*v > MAX_NUM)
			return -1;
		l->pos++;
	}
	if (l->pos == start || (l->pos < l->len && is_regular(l->b[l->pos])))
		return -1;
	return 0;
}

/* "N G R" at the current position: consumed, or nothing consumed. */
static int
ref_tok(struct lex *l, unsigned long long *num, unsigned long long *gen)
{
	size_t	save = l->pos;

	if (uint_tok(l, num) == 0 && uint_tok(l, gen) == 0 &&
	    keyword(l, "R"))
		return 0;
	l->pos = save;
	return -1;
}

/* A growing byte buffer for decoded strings. */
struct buf {
	unsigned char	*d;
	size_t		 len, cap;
};

static int
buf_add(struct buf *b, unsigned char c)
{
	unsigned char	*n;

	if (b->len + 1 >= b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		if ((n = realloc(b->d, b->cap)) == NULL)
			return -1;
		b->d = n;
	}
	b->d[b->len++] = c;
	return 0;
}

/* A literal string "(...)", decoded into out when out is not NULL. */
static int
literal(struct lex *l, struct buf *out)
{
	int	depth = 1, c, n, v;

	if (peek(l) != '(')
		return -1;
	l->pos++;
	while (l->pos < l->len) {
		c = l->b[l->pos++];
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return 0;
		else if (c == '\\') {
			if (l->pos >= l->len)
				return -1;
			c = l->b[l->pos++];
			switch (c) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '\r':
				if (peek(l) == '\n')
					l->pos++;
				continue;
			case '\n':
				continue;
			default:
				if (c >= '0' && c <= '7') {
					v = c - '0';
					for (n = 1; n < 3 && peek(l) >= '0' &&
					    peek(l) <= '7'; n++)
						v = v * 8 + (l->b[l->pos++] - '0');
					c = v & 0xff;
				}
				break;
			}
		} else if (c == '\r') {
			/* An end of line in a string reads as \n. */
			if (peek(l) == '\n')
				l->pos++;
			c = '\n';
		}
		if (out != NULL && buf_add(out, (unsigned char)c) == -1)
			return -1;
	}
	return -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex string "<...>". */
static int
hexstring(struct lex *l, struct buf *out)
{
	int	c, hi = -1, v;

	if (peek(l) != '<')
		return -1;
	l->pos++;
	while (l->pos < l->len) {
		c = l->b[l->pos++];
		if (c == '>') {
			if (hi >= 0 && out != NULL &&
			    buf_add(out, (unsigned char)(hi << 4)) == -1)
				return -1;
			return 0;
		}
		if (is_ws(c))
			continue;
		if ((v = hexval(c)) < 0)
			return -1;
		if (hi < 0)
			hi = v;
		else {
			if (out != NULL &&
			    buf_add(out, (unsigned char)(hi << 4 | v)) == -1)
				return -1;
			hi = -1;
		}
	}
	return -1;
}

/* A name "/Abc" (no # escapes needed for ours): its bytes. */
static int
name_tok(struct lex *l, const unsigned char **s, size_t *n)
{
	skip_ws(l);
	if (peek(l) != '/')
		return -1;
	l->pos++;
	*s = l->b + l->pos;
	while (l->pos < l->len && is_regular(l->b[l->pos]))
		l->pos++;
	*n = (size_t)(l->b + l->pos - *s);
	return 0;
}

static int	skip_object(struct lex *, int);

/* After "<<": skip to the matching ">>". */
static int
skip_dict_rest(struct lex *l, int depth)
{
	for (;;) {
		skip_ws(l);
		if (l->pos + 1 < l->len && l->b[l->pos] == '>' &&
		    l->b[l->pos + 1] == '>') {
			l->pos += 2;
			return 0;
		}
		if (skip_object(l, depth + 1) == -1)
			return -1;
	}
}

static int
skip_object(struct lex *l, int depth)
{
	const unsigned char	*s;
	size_t			 n;
	unsigned long long	 rn, rg;
	int			 c;

	if (depth > MAX_DEPTH)
		return -1;
	skip_ws(l);
	if ((c = peek(l)) == -1)
		return -1;
	if (c == '(')
		return literal(l, NULL);
	if (c == '<') {
		if (l->pos + 1 < l->len && l->b[l->pos + 1] == '<') {
			l->pos += 2;
			return skip_dict_rest(l, depth);
		}
		return hexstring(l, NULL);
	}
	if (c == '[') {
		l->pos++;
		for (;;) {
			skip_ws(l);
			if (peek(l) == ']') {
				l->pos++;
				return 0;
			}
			if (skip_object(l, depth + 1) == -1)
				return -1;
		}
	}
	if (c == '/')
		return name_tok(l, &s, &n);
	if (!is_regular(c))
		return -1;
	/* A reference "N G R" is one object. */
	if (c >= '0' && c <= '9' && ref_tok(l, &rn, &rg) == 0)
		return 0;
	/* Numbers, keywords (true, null, ...): one regular run. */
	while (l->pos < l->len && is_regular(l->b[l->pos]))
		l->pos++;
	return 0;
}

static int
name_is(const unsigned char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

/*
 * One xref section at off: the offset of object num if this section
 * has it in use (*found set), and from its trailer /Info and /Prev.
 */
struct section {
	int			has_info, has_prev, found;
	unsigned long long	info_num, info_gen, prev, obj_off;
};

static int
read_section(const unsigned char *pdf, size_t len, unsigned long long off,
    unsigned long long num, struct section *sec)
{
	struct lex		 l = { pdf, len, 0 };
	unsigned long long	 start, count, i, o, g;
	const unsigned char	*s;
	size_t			 n;

	memset(sec, 0, sizeof(*sec));
	if (off >= len)
		return -1;
	l.pos = (size_t)off;
	if (!keyword(&l, "xref"))
		return -1;
	for (;;) {
		if (keyword(&l, "trailer"))
			break;
		if (uint_tok(&l, &start) == -1 || uint_tok(&l, &count) == -1)
			return -1;
		/* Each entry takes at least 18 bytes. */
		if (count > (len - l.pos) / 18 + 1)
			return -1;
		for (i = 0; i < count; i++) {
			if (uint_tok(&l, &o) == -1 || uint_tok(&l, &g) == -1)
				return -1;
			skip_ws(&l);
			if (peek(&l) != 'n' && peek(&l) != 'f')
				return -1;
			if (start + i == num && peek(&l) == 'n') {
				sec->found = 1;
				sec->obj_off = o;
			}
			l.pos++;
		}
	}
	skip_ws(&l);
	if (l.len - l.pos < 2 || memcmp(l.b + l.pos, "<<", 2) != 0)
		return -1;
	l.pos += 2;
	for (;;) {
		skip_ws(&l);
		if (l.len - l.pos >= 2 && memcmp(l.b + l.pos, ">>", 2) == 0)
			return 0;
		if (name_tok(&l, &s, &n) == -1)
			return -1;
		if (name_is(s, n, "Info")) {
			if (ref_tok(&l, &sec->info_num, &sec->info_gen) == -1)
				return -1;
			sec->has_info = 1;
		} else if (name_is(s, n, "Prev")) {
			if (uint_tok(&l, &sec->prev) == -1)
				return -1;
			sec->has_prev = 1;
		} else if (skip_object(&l, 1) == -1)
			return -1;
	}
}

/* The offset after the last "startxref". */
static int
startxref(const unsigned char *pdf, size_t len, unsigned long long *off)
{
	static const char	 kw[] = "startxref";
	struct lex		 l = { pdf, len, 0 };
	size_t			 i, n = sizeof(kw) - 1;

	if (len < n)
		return -1;
	for (i = len - n + 1; i-- > 0 && len - i < 65536; )
		if (memcmp(pdf + i, kw, n) == 0) {
			l.pos = i + n;
			return uint_tok(&l, off);
		}
	return -1;
}

/* UTF-16BE (after its BOM) to UTF-8, in place into a new buffer. */
static int
utf16_to_utf8(const unsigned char *s, size_t n, struct buf *out)
{
	size_t		i;
	uint32_t	u, lo;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n; i += 2) {
		u = (uint32_t)s[i] << 8 | s[i + 1];
		if (u >= 0xd800 && u <= 0xdbff) {
			if (i + 3 >= n)
				return -1;
			lo = (uint32_t)s[i + 2] << 8 | s[i + 3];
			if (lo < 0xdc00 || lo > 0xdfff)
				return -1;
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		} else if (u >= 0xdc00 && u <= 0xdfff)
			return -1;
		if (u == 0)
			return -1;
		if (u < 0x80) {
			if (buf_add(out, (unsigned char)u) == -1)
				return -1;
		} else if (u < 0x800) {
			if (buf_add(out, (unsigned char)(0xc0 | u >> 6)) ||
			    buf_add(out, (unsigned char)(0x80 | (u & 0x3f))))
				return -1;
		} else if (u < 0x10000) {
			if (buf_add(out, (unsigned char)(0xe0 | u >> 12)) ||
			    buf_add(out,
			    (unsigned char)(0x80 | (u >> 6 & 0x3f))) ||
			    buf_add(out, (unsigned char)(0x80 | (u & 0x3f))))
				return -1;
		} else {
			if (buf_add(out, (unsigned char)(0xf0 | u >> 18)) ||
			    buf_add(out,
			    (unsigned char)(0x80 | (u >> 12 & 0x3f))) ||
			    buf_add(out,
			    (unsigned char)(0x80 | (u >> 6 & 0x3f))) ||
			    buf_add(out, (unsigned char)(0x80 | (u & 0x3f))))
				return -1;
		}
	}
	return 0;
}

/* In the dictionary of object num gen at off: the string value of key. */
static int
dict_string(const unsigned char *pdf, size_t len, unsigned long long off,
    unsigned long long num, unsigned long long gen, const char *key,
    struct buf *out)
{
	struct lex		 l = { pdf, len, 0 };
	unsigned long long	 n1, g1;
	const unsigned char	*s;
	size_t			 n;
	struct buf		 raw = { NULL, 0, 0 };
	int			 rc;

	if (off >= len)
		return -1;
	l.pos = (size_t)off;
	if (uint_tok(&l, &n1) == -1 || uint_tok(&l, &g1) == -1 ||
	    n1 != num || g1 != gen || !keyword(&l, "obj"))
		return -1;
	skip_ws(&l);
	if (l.len - l.pos < 2 || memcmp(l.b + l.pos, "<<", 2) != 0)
		return -1;
	l.pos += 2;
	for (;;) {
		skip_ws(&l);
		if (l.len - l.pos >= 2 && memcmp(l.b + l.pos, ">>", 2) == 0)
			return 0;
		if (name_tok(&l, &s, &n) == -1)
			return -1;
		if (!name_is(s, n, key)) {
			if (skip_object(&l, 1) == -1)
				return -1;
			continue;
		}
		skip_ws(&l);
		if (peek(&l) == '(')
			rc = literal(&l, &raw);
		else if (peek(&l) == '<')
			rc = hexstring(&l, &raw);
		else
			rc = -1;	/* not a direct string */
		if (rc == -1) {
			free(raw.d);
			return -1;
		}
		if (raw.len >= 2 && raw.d[0] == 0xfe && raw.d[1] == 0xff) {
			rc = utf16_to_utf8(raw.d + 2, raw.len - 2, out);
			free(raw.d);
			if (rc == -1)
				return -1;
		} else {
			*out = raw;
			if (out->len > 0 &&
			    memchr(out->d, '\0', out->len) != NULL)
				return -1;
		}
		return 1;
	}
}

int
pdfinfo_string(const unsigned char *pdf, size_t len, const char *key,
    char **out, size_t *outlen)
{
	struct section		 sec;
	struct buf		 b = { NULL, 0, 0 };
	unsigned long long	 off, num, gen;
	int			 i, rc;

	*out = NULL;
	*outlen = 0;
	if (startxref(pdf, len, &off) == -1 ||
	    read_section(pdf, len, off, ~0ULL, &sec) == -1)
		return -1;
	if (!sec.has_info)
		return 0;
	num = sec.info_num;
	gen = sec.info_gen;
	for (i = 0; i < MAX_SECTIONS; i++) {
		if (read_section(pdf, len, off, num, &sec) == -1)
			return -1;
		if (sec.found)
			break;
		if (!sec.has_prev)
			return -1;
		off = sec.prev;
	}
	if (i == MAX_SECTIONS)
		return -1;
	rc = dict_string(pdf, len, sec.obj_off, num, gen, key, &b);
	if (rc != 1) {
		free(b.d);
		return rc;
	}
	if (buf_add(&b, '\0') == -1) {
		free(b.d);
		return -1;
	}
	*out = (char *)b.d;
	*outlen = b.len - 1;
	return 1;
}
