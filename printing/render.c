/*
 * Rendering a document: read and check the signed content, lay it out
 * with the family's layout (layout_*.c), then draw every page on a PDF
 * or an image surface.  See render.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <openssl/evp.h>

#include "antiforgery.h"
#include "era.h"
#include "layout.h"
#include "render.h"

#define CODE_SIZE_MAX	200.0	/* pt: a code larger than this is refused */

static const struct {
	const char	*name;
	int		 family;
	int		 variant;
} doctypes[] = {
	{ "juminhyo", 0, 0 },
	{ "juminhyo_kisai", 0, 1 },
	{ "inkan", 1, 0 },
	{ "koseki_zenbu", 2, 0 },
	{ "koseki_kojin", 2, 1 },
	{ "koseki_fuhyo", 3, 0 },
	{ "tax_shotoku", 4, 0 },
};

int
render_document_known(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(doctypes) / sizeof(doctypes[0]); i++)
		if (strcmp(doctypes[i].name, type) == 0)
			return 1;
	return 0;
}

void
render_cleanup(void)
{
	pango_cairo_font_map_set_default(NULL);
}

static int
copy(struct ldoc *d, char *dst, size_t size, const char *src,
    const char *what)
{
	if (strlen(src) >= size)
		return ldoc_fail(d, "%s: too long", what);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int
id_ok(const char *s, size_t max)
{
	size_t i, l = strlen(s);

	if (l == 0 || l > max)
		return 0;
	for (i = 0; i < l; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    s[i] == '-'))
			return 0;
	return 1;
}

static int
lay_out(struct ldoc *d, json_t *root, const struct render_opts *o)
{
	const char *type, *s;
	json_t *muni, *body;
	size_t i;
	int fam = -1, var = 0;

	if (!json_is_object(root))
		return ldoc_fail(d, "the content is not a JSON object");
	if (lj_int(d, root, "version", "content", 1, 1) != 1 || d->failed)
		return ldoc_fail(d, "content.version: not 1");
	type = lj_str(d, root, "document", "content");
	if (d->failed)
		return -1;
	for (i = 0; i < sizeof(doctypes) / sizeof(doctypes[0]); i++)
		if (strcmp(doctypes[i].name, type) == 0) {
			fam = doctypes[i].family;
			var = doctypes[i].variant;
		}
	if (fam == -1)
		return ldoc_fail(d, "unknown document type \"%.40s\"", type);
	s = lj_str(d, root, "issuance_id", "content");
	if (!d->failed && !id_ok(s, 63))
		return ldoc_fail(d, "content.issuance_id: not an identifier");
	(void)copy(d, d->issuance_id, sizeof(d->issuance_id), s,
	    "content.issuance_id");
	(void)copy(d, d->title, sizeof(d->title),
	    lj_str(d, root, "title_ja", "content"), "content.title_ja");
	s = lj_str(d, root, "issued_at", "content");
	if (!d->failed && era_format_jst(s, d->issued, sizeof(d->issued)) ==
	    -1)
		return ldoc_fail(d, "content.issued_at: not an RFC 3339 UTC "
		    "time (YYYY-MM-DDThh:mm:ssZ) in an era");
	muni = lj_obj(d, root, "municipality", "content");
	(void)copy(d, d->municipality, sizeof(d->municipality),
	    lj_str(d, muni, "name", "content.municipality"),
	    "content.municipality.name");
	(void)copy(d, d->mayor, sizeof(d->mayor),
	    lj_str(d, muni, "mayor", "content.municipality"),
	    "content.municipality.mayor");
	(void)copy(d, d->certification, sizeof(d->certification),
	    lj_str(d, root, "certification_ja", "content"),
	    "content.certification_ja");
	body = lj_obj(d, root, "body", "content");
	if (d->failed)
		return -1;
	if (d->municipality[0] == '\0' || d->title[0] == '\0')
		return ldoc_fail(d, "content: empty title or municipality");
	layout_seal_text(d->municipality, d->seal_text, sizeof(d->seal_text));
	/* the kiosk: the one printing, else the one the content is bound to */
	s = o != NULL && o->kiosk_id != NULL ? o->kiosk_id :
	    lj_opt(d, lj_obj(d, root, "binding", "content"), "kiosk_id",
	    "content.binding");
	if (d->failed)
		return -1;
	if (s != NULL) {
		if (!id_ok(s, 64))
			return ldoc_fail(d, "kiosk id: only letters, digits "
			    "and '-', at most 64");
		(void)copy(d, d->kiosk_id, sizeof(d->kiosk_id), s, "kiosk id");
	}
	d->plain = o != NULL && o->plain;
	if (o != NULL && o->code != NULL && o->code[0] != '\0') {
		if (copy(d, d->code, sizeof(d->code), o->code,
		    "document code") == -1)
			return -1;
		d->code_size = af_code_size(o->code);
		if (d->code_size <= 0 || d->code_size > CODE_SIZE_MAX)
			return ldoc_fail(d, "document code: cannot be "
			    "encoded in %.0f pt", CODE_SIZE_MAX);
	}
	switch (fam) {
	case 0:
		(void)layout_juminhyo(d, body, var);
		break;
	case 1:
		(void)layout_inkan(d, body);
		break;
	case 2:
		(void)layout_koseki(d, body, var);
		break;
	case 3:
		(void)layout_fuhyo(d, body);
		break;
	default:
		(void)layout_tax(d, body);
		break;
	}
	if (d->failed)
		return -1;
	return ldoc_paginate(d);
}

/* Parse and lay out; on error d->err says why (and d is freed). */
static int
prepare(struct ldoc *d, json_t **rootp, const char *content, size_t len,
    const struct render_opts *o, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;

	*rootp = NULL;
	if (ldoc_init(d) == -1)
		goto fail;
	if (content == NULL || len == 0) {
		(void)ldoc_fail(d, "empty content");
		goto fail;
	}
	if (len > RENDER_CONTENT_MAX) {
		(void)ldoc_fail(d, "content larger than %d bytes",
		    RENDER_CONTENT_MAX);
		goto fail;
	}
	if ((root = json_loadb(content, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		(void)ldoc_fail(d, "not JSON (line %d, column %d): %s",
		    je.line, je.column, je.text);
		goto fail;
	}
	*rootp = root;
	if (lay_out(d, root, o) == -1)
		goto fail;
	return 0;
fail:
	(void)snprintf(err, errlen, "%s", d->err[0] != '\0' ? d->err :
	    "cannot render");
	json_decref(*rootp);
	*rootp = NULL;
	ldoc_free(d);
	return -1;
}

/*
 * The PDF into memory: cairo draws every page, then the information
 * dictionary is added (layout_pdf_info).  The pages, or -1.
 */
static int
make_pdf(struct ldoc *d, json_t *root, const char *content, size_t len,
    struct pdfbuf *out, char *err, size_t errlen)
{
	const char *issued = json_string_value(json_object_get(root,
	    "issued_at"));
	struct pdfinfo info;
	cairo_surface_t *s;
	char *b64;
	cairo_t *cr;
	int p, rc = -1;

	memset(out, 0, sizeof(*out));
	s = cairo_pdf_surface_create_for_stream(pdfbuf_write, out, L_PAGE_W,
	    L_PAGE_H);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		(void)snprintf(err, errlen, "cannot create the PDF: %s",
		    cairo_status_to_string(cairo_surface_status(s)));
		cairo_surface_destroy(s);
		return -1;
	}
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE,
	    issued);
	cr = cairo_create(s);
	for (p = 0; p < d->npages; p++) {
		ldoc_draw_page(d, cr, p);
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS || out->failed) {
		(void)snprintf(err, errlen, "cannot make the PDF: %s",
		    out->failed ? "out of memory" :
		    cairo_status_to_string(cairo_surface_status(s)));
		cairo_surface_destroy(s);
		return -1;
	}
	cairo_surface_destroy(s);
	if ((b64 = malloc(4 * ((len + 2) / 3) + 1)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	(void)EVP_EncodeBlock((unsigned char *)b64,
	    (const unsigned char *)content, (int)len);
	memset(&info, 0, sizeof(info));
	info.keys[info.n] = "Title";
	info.values[info.n++] = d->title;
	info.keys[info.n] = "Author";
	info.values[info.n++] = d->municipality;
	info.keys[info.n] = "Creator";
	info.values[info.n++] = "kioskd";
	info.dates = 1U << info.n | 1U << (info.n + 1);
	info.keys[info.n] = "CreationDate";
	info.values[info.n++] = issued;
	info.keys[info.n] = "ModDate";
	info.values[info.n++] = issued;
	info.keys[info.n] = "KioskContent";
	info.values[info.n++] = b64;
	if (d->code[0] != '\0') {
		info.keys[info.n] = "KioskCode";
		info.values[info.n++] = d->code;
	}
	if (layout_pdf_info(out, &info) == 0)
		rc = d->npages;
	else
		(void)snprintf(err, errlen, "cannot add the document "
		    "information to the PDF");
	free(b64);
	return rc;
}

int
render_pdf_stream(const char *content, size_t len,
    const struct render_opts *o, cairo_write_func_t write, void *closure,
    char *err, size_t errlen)
{
	struct ldoc d;
	struct pdfbuf pdf;
	json_t *root;
	size_t off, n;
	int pages;

	if (prepare(&d, &root, content, len, o, err, errlen) == -1)
		return -1;
	pages = make_pdf(&d, root, content, len, &pdf, err, errlen);
	json_decref(root);
	ldoc_free(&d);
	for (off = 0; pages != -1 && off < pdf.len; off += n) {
		n = pdf.len - off > 65536 ? 65536 : pdf.len - off;
		if (write(closure, pdf.p + off, (unsigned int)n) !=
		    CAIRO_STATUS_SUCCESS) {
			(void)snprintf(err, errlen, "cannot write the PDF");
			pages = -1;
		}
	}
	free(pdf.p);
	return pages;
}

int
render_pdf_file(const char *content, size_t len, const struct render_opts *o,
    const char *path, char *err, size_t errlen)
{
	struct ldoc d;
	struct pdfbuf pdf;
	json_t *root;
	FILE *f;
	int pages;

	if (prepare(&d, &root, content, len, o, err, errlen) == -1)
		return -1;
	pages = make_pdf(&d, root, content, len, &pdf, err, errlen);
	json_decref(root);
	ldoc_free(&d);
	if (pages != -1) {
		if ((f = fopen(path, "wb")) == NULL) {
			(void)snprintf(err, errlen, "cannot write %s: %s", path,
			    strerror(errno));
			pages = -1;
		} else if (fwrite(pdf.p, 1, pdf.len, f) != pdf.len ||
		    fclose(f) != 0) {
			(void)snprintf(err, errlen, "cannot write %s", path);
			(void)unlink(path);
			pages = -1;
		}
	}
	free(pdf.p);
	return pages;
}

cairo_surface_t *
render_page_image(const char *content, size_t len,
    const struct render_opts *o, int page, double dpi, char *err,
    size_t errlen)
{
	struct ldoc d;
	json_t *root;
	cairo_surface_t *s;
	cairo_t *cr;
	int w, h;

	if (!(dpi >= 10 && dpi <= 600)) {
		(void)snprintf(err, errlen, "dpi must be from 10 to 600");
		return NULL;
	}
	if (prepare(&d, &root, content, len, o, err, errlen) == -1)
		return NULL;
	json_decref(root);
	if (page < 0 || page >= d.npages) {
		(void)snprintf(err, errlen, "no page %d (the document has %d)",
		    page + 1, d.npages);
		ldoc_free(&d);
		return NULL;
	}
	w = (int)ceil(L_PAGE_W * dpi / 72);
	h = (int)ceil(L_PAGE_H * dpi / 72);
	s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		(void)snprintf(err, errlen, "cannot make a %dx%d image", w, h);
		cairo_surface_destroy(s);
		ldoc_free(&d);
		return NULL;
	}
	cr = cairo_create(s);
	cairo_scale(cr, dpi / 72, dpi / 72);
	ldoc_draw_page(&d, cr, page);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	ldoc_free(&d);
	return s;
}

int
render_measure(const char *content, size_t len, const struct render_opts *o,
    struct render_stats *st, char *err, size_t errlen)
{
	struct ldoc d;
	json_t *root;

	memset(st, 0, sizeof(*st));
	if (prepare(&d, &root, content, len, o, err, errlen) == -1)
		return -1;
	json_decref(root);
	st->pages = d.npages;
	st->rows = (int)d.nrows;
	st->cells = d.ncells;
	st->overflows = d.overflows;
	st->min_size = d.ncells > 0 ? d.min_size : 0;
	ldoc_free(&d);
	return st->pages;
}
