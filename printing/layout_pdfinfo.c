/*
 * The document information dictionary of the PDF: cairo 1.16 (Debian
 * 12) cannot add keys of our own, so after cairo has finished, an
 * incremental update (PDF 1.7 §7.5.6) appends a new Info object with the
 * standard keys and KioskContent / KioskCode, a cross-reference section
 * for it and a trailer naming it, with /Prev pointing to cairo's.  Every
 * reader takes the newest trailer; the bytes stay deterministic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

int
pdfbuf_add(struct pdfbuf *b, const void *p, size_t n)
{
	unsigned char *np;
	size_t ncap;

	if (b->failed)
		return -1;
	if (n > b->cap - b->len) {
		ncap = b->cap == 0 ? 65536 : b->cap;
		while (ncap - b->len < n)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->failed = 1;
			return -1;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

cairo_status_t
pdfbuf_write(void *closure, const unsigned char *data, unsigned int n)
{
	return pdfbuf_add(closure, data, n) == 0 ? CAIRO_STATUS_SUCCESS :
	    CAIRO_STATUS_WRITE_ERROR;
}

static void
adds(struct pdfbuf *b, const char *s)
{
	(void)pdfbuf_add(b, s, strlen(s));
}

/* A text string: literal when printable ASCII, else UTF-16BE hex. */
static void
add_text(struct pdfbuf *b, const char *s)
{
	const unsigned char *p;
	unsigned long cp;
	char hex[32];
	int ascii = 1, k;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			ascii = 0;
	if (ascii) {
		adds(b, "(");
		for (p = (const unsigned char *)s; *p != '\0'; p++) {
			if (*p == '(' || *p == ')' || *p == '\\')
				adds(b, "\\");
			(void)pdfbuf_add(b, p, 1);
		}
		adds(b, ")");
		return;
	}
	adds(b, "<FEFF");
	for (p = (const unsigned char *)s; *p != '\0';) {
		/* the text is valid UTF-8 (checked on load) */
		if (*p < 0x80) {
			cp = *p;
			k = 1;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			k = 2;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			k = 3;
		} else {
			cp = *p & 0x07;
			k = 4;
		}
		for (p++; --k > 0 && (*p & 0xc0) == 0x80; p++)
			cp = cp << 6 | (*p & 0x3f);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			(void)snprintf(hex, sizeof(hex), "%04lX%04lX",
			    0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
		} else
			(void)snprintf(hex, sizeof(hex), "%04lX", cp);
		adds(b, hex);
	}
	adds(b, ">");
}

/* The value after "key " in the last trailer: 0, or -1. */
static int
trailer_num(const char *t, size_t tl, const char *key, long *v)
{
	const char *p;
	size_t kl = strlen(key), i;
	char *end;

	for (i = 0; i + kl < tl; i++)
		if (memcmp(t + i, key, kl) == 0 && (t[i + kl] == ' ' ||
		    t[i + kl] == '\n')) {
			p = t + i + kl + 1;
			*v = strtol(p, &end, 10);
			return end > p && *v >= 0 ? 0 : -1;
		}
	return -1;
}

int
layout_pdf_info(struct pdfbuf *b, const struct pdfinfo *in)
{
	const char *t = NULL, *s;
	size_t i, tl;
	long size, root, prev;
	char line[128];
	size_t obj, xref;

	if (b->failed || b->len < 64)
		return -1;
	/* cairo's trailer and startxref: the last ones in the file */
	for (i = b->len - 8; i > 0; i--)
		if (memcmp(b->p + i, "trailer", 7) == 0) {
			t = (const char *)b->p + i;
			break;
		}
	if (t == NULL)
		return -1;
	tl = b->len - (size_t)(t - (const char *)b->p);
	if (trailer_num(t, tl, "/Size", &size) == -1 ||
	    trailer_num(t, tl, "/Root", &root) == -1 ||
	    trailer_num(t, tl, "startxref", &prev) == -1 ||
	    (size_t)prev >= b->len)
		return -1;
	if (b->p[b->len - 1] != '\n')
		adds(b, "\n");
	obj = b->len;
	(void)snprintf(line, sizeof(line), "%ld 0 obj\n<< /Producer ", size);
	adds(b, line);
	add_text(b, "kioskd (cairo)");
	for (i = 0; i < in->n; i++) {
		adds(b, "\n   /");
		adds(b, in->keys[i]);
		adds(b, " ");
		s = in->values[i];
		if (in->dates & (1U << i)) {
			/* D:YYYYMMDDHHmmSSZ from an RFC 3339 UTC time */
			(void)snprintf(line, sizeof(line), "(D:%.4s%.2s%.2s%.2s"
			    "%.2s%.2sZ)", s, s + 5, s + 8, s + 11, s + 14,
			    s + 17);
			adds(b, line);
		} else
			add_text(b, s);
	}
	adds(b, "\n>>\nendobj\n");
	xref = b->len;
	(void)snprintf(line, sizeof(line), "xref\n%ld 1\n%010zu 00000 n \n",
	    size, obj);
	adds(b, line);
	(void)snprintf(line, sizeof(line), "trailer\n<< /Size %ld\n   /Root "
	    "%ld 0 R\n   /Info %ld 0 R\n   /Prev %ld\n>>\n", size + 1, root,
	    size, prev);
	adds(b, line);
	(void)snprintf(line, sizeof(line), "startxref\n%zu\n%%%%EOF\n", xref);
	adds(b, line);
	return b->failed ? -1 : 0;
}
