/*
 * pdfinfo_string(): the custom keys of a cairo PDF read back exactly,
 * an incremental update wins over the original, and truncated, mutated
 * or looping files give -1 without reading out of bounds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <cairo-pdf.h>

#include "pdfinfo.h"
#include "t.h"

struct membuf {
	unsigned char	*d;
	size_t		 len, cap;
};

static cairo_status_t
mem_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct membuf	*m = closure;

	if (m->len + len + 1 > m->cap) {
		m->cap = (m->len + len + 1) * 2;
		if ((m->d = realloc(m->d, m->cap)) == NULL)
			exit(2);
	}
	memcpy(m->d + m->len, data, len);
	m->len += len;
	return CAIRO_STATUS_SUCCESS;
}

static void
append(struct membuf *m, const char *s)
{
	mem_write(m, (const unsigned char *)s, (unsigned)strlen(s));
}

#define B64	"eyJ2ZXJzaW9uIjoxfQ+/AB=="
#define CODE	"KV1;0123;juminhyo;20250401;abc(d)e\\f;sig"
#define CODE_ESC "KV1;0123;juminhyo;20250401;abc\\(d\\)e\\\\f;sig"

static struct membuf
make_pdf(void)
{
	struct membuf	 m = { NULL, 0, 0 };
	cairo_surface_t	*s;
	cairo_t		*cr;

	s = cairo_pdf_surface_create_for_stream(mem_write, &m, 200, 200);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE,
	    "東京都千代田区");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_AUTHOR,
	    "a(b)c\\d");
	cr = cairo_create(s);
	cairo_rectangle(cr, 10, 10, 20, 20);
	cairo_fill(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	cairo_surface_destroy(s);
	return m;
}

static int
get_is(const struct membuf *m, const char *key, const char *want)
{
	char	*v;
	size_t	 n;
	int	 rc, ok;

	rc = pdfinfo_string(m->d, m->len, key, &v, &n);
	ok = rc == 1 && n == strlen(want) && strcmp(v, want) == 0;
	if (rc == 1 && !ok)
		printf("# %s: got '%s'\n", key, v);
	free(v);
	return ok;
}

/* Append an update that replaces the Info dictionary with dict (as
   kioskd's renderer does: cairo 1.16 cannot add keys). */
static void
incremental(struct membuf *m, const char *dict)
{
	char		 buf[512], *p, *last = NULL;
	long		 xref, obj, xoff;
	unsigned	 info;

	m->d[m->len] = '\0';
	for (size_t i = 0; i + 9 <= m->len; i++)
		if (memcmp(m->d + i, "startxref", 9) == 0)
			last = (char *)m->d + i;
	if (last == NULL) {
		printf("# no startxref\n");
		return;
	}
	xref = strtol(last + 9, NULL, 10);
	/* The trailer is text: strstr stops at the file's end. */
	if ((p = strstr((char *)m->d + xref, "/Info ")) == NULL) {
		printf("# no /Info\n");
		return;
	}
	info = (unsigned)strtoul(p + 6, NULL, 10);
	obj = (long)m->len;
	snprintf(buf, sizeof(buf), "%u 0 obj\n%s\nendobj\n", info, dict);
	append(m, buf);
	xoff = (long)m->len;
	snprintf(buf, sizeof(buf), "xref\n%u 1\n%010ld 00000 n \n"
	    "trailer\n<< /Size %u /Info %u 0 R /Prev %ld >>\nstartxref\n"
	    "%ld\n%%%%EOF\n", info, obj, info + 1, info, xref, xoff);
	append(m, buf);
}

int
main(void)
{
	struct membuf	 m, c;
	char		*v;
	size_t		 n, i, cut;
	int		 rc, bad = 0;
	unsigned	 seed = 1;

	m = make_pdf();
	T_CHECK(get_is(&m, "Title", "東京都千代田区"),
	    "cairo's UTF-16BE Title read back as UTF-8");
	T_CHECK(get_is(&m, "Author", "a(b)c\\d"),
	    "cairo's escaped Author read back");
	rc = pdfinfo_string(m.d, m.len, "KioskContent", &v, &n);
	T_CHECK(rc == 0 && v == NULL, "missing key: 0");
	incremental(&m, "<< /Producer (kioskd) /Title <FEFF 6771 0041>\n"
	    "   /KioskContent (" B64 ")\n   /KioskCode (" CODE_ESC ") "
	    "/Nested << /A [1 2 (x\\)) <41>] /B 3 0 R >> >>");
	T_CHECK(get_is(&m, "KioskContent", B64),
	    "incremental update: KioskContent read back");
	T_CHECK(get_is(&m, "KioskCode", CODE),
	    "KioskCode with ( ) \\ read back");
	T_CHECK(get_is(&m, "Title", "東A"), "hex UTF-16BE read back");

	/* Every truncation: never a crash, never the value from nowhere. */
	for (cut = 0; cut < m.len; cut += 7) {
		rc = pdfinfo_string(m.d, cut, "KioskContent", &v, &n);
		if (rc == 1 && strcmp(v, B64) != 0)
			bad++;
		free(v);
	}
	T_CHECK(bad == 0, "truncated files: no wrong value");

	/* Random byte flips (run under ASan for bounds). */
	c.d = malloc(m.len + 1);
	c.len = m.len;
	for (i = 0; i < 3000 && c.d != NULL; i++) {
		memcpy(c.d, m.d, m.len);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245 + 12345;
			c.d[(seed >> 8) % c.len] = (unsigned char)(seed >> 20);
		}
		rc = pdfinfo_string(c.d, c.len, "KioskContent", &v, &n);
		free(v);
	}
	T_CHECK(c.d != NULL, "mutated files parsed without a crash");
	free(c.d);

	T_CHECK(pdfinfo_string((const unsigned char *)"%PDF-1.4\n", 9,
	    "KioskContent", &v, &n) == -1, "no xref: -1");
	{
		static const char loop[] = "%PDF-1.4\nxref\n0 1\n"
		    "0000000000 65535 f \ntrailer\n<< /Size 1 /Info 5 0 R "
		    "/Prev 9 >>\nstartxref\n9\n%%EOF\n";
		T_CHECK(pdfinfo_string((const unsigned char *)loop,
		    sizeof(loop) - 1, "KioskContent", &v, &n) == -1,
		    "/Prev loop: -1");
	}

	incremental(&m, "<< /KioskCode (updated) >>");
	T_CHECK(get_is(&m, "KioskCode", "updated"),
	    "second update: the newest Info wins");
	rc = pdfinfo_string(m.d, m.len, "KioskContent", &v, &n);
	T_CHECK(rc == 0, "incremental update: keys it dropped are gone");
	free(v);
	free(m.d);
	return t_done();
}
