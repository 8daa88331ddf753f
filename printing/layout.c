/*
 * The table engine: rows of cells, text fitted into each cell when it is
 * added, and the split into pages.  Drawing is in layout_page.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

#define MIN_SIZE	5.5		/* the smallest text printed, pt */

int
ldoc_fail(struct ldoc *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->failed) {
		va_start(ap, fmt);
		(void)vsnprintf(d->err, sizeof(d->err), fmt, ap);
		va_end(ap);
		d->failed = 1;
	}
	return -1;
}

static int
font_present(struct ldoc *d, PangoFontDescription *fd, const char *family)
{
	PangoFont *f;
	PangoFontDescription *got;
	const char *name;
	int ok;

	if ((f = pango_context_load_font(d->pctx, fd)) == NULL)
		return 0;
	got = pango_font_describe(f);
	name = pango_font_description_get_family(got);
	ok = name != NULL && strcmp(name, family) == 0;
	pango_font_description_free(got);
	g_object_unref(f);
	return ok;
}

int
ldoc_init(struct ldoc *d)
{
	cairo_font_options_t *fo;

	memset(d, 0, sizeof(*d));
	d->min_size = 1000;
	d->pctx = pango_font_map_create_context(
	    pango_cairo_font_map_get_default());
	if (d->pctx == NULL)
		return ldoc_fail(d, "no pango context");
	/* one metric for every surface: no hinting, 1 unit = 1 pt */
	if ((fo = cairo_font_options_create()) == NULL)
		return ldoc_fail(d, "out of memory");
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
	pango_cairo_context_set_font_options(d->pctx, fo);
	cairo_font_options_destroy(fo);
	pango_cairo_context_set_resolution(d->pctx, 72.0);
	pango_context_set_language(d->pctx, pango_language_from_string("ja-jp"));
	d->serif = pango_font_description_from_string("IPAexMincho 10");
	d->sans = pango_font_description_from_string("IPAexGothic 10");
	if (d->serif == NULL || d->sans == NULL)
		return ldoc_fail(d, "out of memory");
	if (!font_present(d, d->serif, "IPAexMincho") ||
	    !font_present(d, d->sans, "IPAexGothic"))
		return ldoc_fail(d, "the fonts IPAexMincho and IPAexGothic "
		    "are not installed (fonts-ipaexfont)");
	return 0;
}

void
ldoc_free(struct ldoc *d)
{
	size_t i;
	int c;

	for (i = 0; i < d->nrows; i++) {
		for (c = 0; c < d->rows[i].ncells; c++)
			if (d->rows[i].cells[c].pl != NULL)
				g_object_unref(d->rows[i].cells[c].pl);
		if (d->rows[i].image != NULL)
			cairo_surface_destroy(d->rows[i].image);
	}
	free(d->rows);
	if (d->serif != NULL)
		pango_font_description_free(d->serif);
	if (d->sans != NULL)
		pango_font_description_free(d->sans);
	if (d->pctx != NULL)
		g_object_unref(d->pctx);
	d->rows = NULL;
	d->nrows = d->cap = 0;
	d->serif = d->sans = NULL;
	d->pctx = NULL;
}

struct lrow *
ldoc_row(struct ldoc *d, int flags)
{
	struct lrow *r;
	size_t ncap;

	if (d->failed)
		return NULL;
	if (d->nrows == L_ROWS_MAX) {
		(void)ldoc_fail(d, "the document is too long to print");
		return NULL;
	}
	if (d->nrows == d->cap) {
		ncap = d->cap == 0 ? 64 : d->cap * 2;
		if ((r = reallocarray(d->rows, ncap, sizeof(*r))) == NULL) {
			(void)ldoc_fail(d, "out of memory");
			return NULL;
		}
		d->rows = r;
		d->cap = ncap;
	}
	r = &d->rows[d->nrows++];
	memset(r, 0, sizeof(*r));
	r->flags = flags;
	return r;
}

void
ldoc_row_min(struct lrow *r, double h)
{
	if (r != NULL && r->h < h)
		r->h = h;
}

PangoLayout *
ldoc_text(struct ldoc *d, const char *text, double size, int flags,
    double w)
{
	PangoLayout *pl;
	PangoFontDescription *fd;

	if ((pl = pango_layout_new(d->pctx)) == NULL)
		return NULL;
	/*
	 * Two faces in all, IPAexMincho and IPAexGothic (which the
	 * anti-forgery layers use too; bold is synthesised).  The IPAex
	 * fonts (TrueType, JIS X 0208 and more, made for Japanese
	 * government documents) subset in about half the time of the
	 * Noto CJK OpenType/CFF collection: ~25 ms instead of ~55 ms a
	 * single-page document with every layer (tests/bench/render).
	 */
	fd = pango_font_description_copy_static((flags & LC_BOLD) ?
	    d->sans : d->serif);
	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	if (flags & LC_BOLD)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	pango_layout_set_font_description(pl, fd);
	pango_font_description_free(fd);
	pango_layout_set_wrap(pl, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_width(pl, w < 0 ? -1 : (int)floor(w * PANGO_SCALE));
	pango_layout_set_alignment(pl, (flags & (LC_CENTER | LC_LABEL)) ?
	    PANGO_ALIGN_CENTER : (flags & LC_RIGHT) ? PANGO_ALIGN_RIGHT :
	    PANGO_ALIGN_LEFT);
	pango_layout_set_text(pl, text, -1);
	return pl;
}

static void
extent(PangoLayout *pl, double *w, double *h)
{
	PangoRectangle lg;

	pango_layout_get_extents(pl, NULL, &lg);
	*w = (double)lg.width / PANGO_SCALE;
	*h = (double)lg.height / PANGO_SCALE;
}

/*
 * Fit: LC_SHRINK text shrinks (to 55 % at most) to stay on one line;
 * other text wraps, and shrinks (to 75 %) to stay within two lines.
 * Past that it wraps at the smallest size and the row grows.
 */
static PangoLayout *
fit(struct ldoc *d, const char *text, double size, int flags, double iw,
    double *used)
{
	PangoLayout *pl;
	double s, tw, th, floor_size;
	int maxlines = (flags & LC_SHRINK) ? 1 : (flags & LC_MULTI) ?
	    L_ROWS_MAX : 2;

	floor_size = size * ((flags & LC_SHRINK) ? 0.55 : 0.75);
	if (floor_size < MIN_SIZE)
		floor_size = MIN_SIZE < size ? MIN_SIZE : size;
	for (s = size;; s -= 0.25) {
		if (s < floor_size)
			s = floor_size;
		if ((pl = ldoc_text(d, text, s, flags, iw)) == NULL)
			return NULL;
		extent(pl, &tw, &th);
		if (pango_layout_get_line_count(pl) <= maxlines ||
		    s <= floor_size) {
			*used = s;
			return pl;
		}
		g_object_unref(pl);
	}
}

void
ldoc_cell(struct ldoc *d, struct lrow *r, double x, double w,
    const char *text, double size, int flags)
{
	struct lcell *c;
	PangoRectangle lg;
	double iw = w - 2 * L_PAD_X;

	if (d->failed || r == NULL)
		return;
	if (r->ncells == L_CELLS_MAX || iw <= 0 || x < 0 ||
	    x + w > L_TW + 0.01) {
		(void)ldoc_fail(d, "internal: bad cell");
		return;
	}
	c = &r->cells[r->ncells++];
	memset(c, 0, sizeof(*c));
	c->x = x;
	c->w = w;
	c->flags = flags;
	c->size = size;
	if (text == NULL || text[0] == '\0')
		return;
	if (strlen(text) > 4 * L_TEXT_MAX) {
		(void)ldoc_fail(d, "a field is longer than %d bytes",
		    4 * L_TEXT_MAX);
		return;
	}
	if ((c->pl = fit(d, text, size, flags, iw, &c->size)) == NULL) {
		(void)ldoc_fail(d, "out of memory");
		return;
	}
	pango_layout_get_extents(c->pl, NULL, &lg);
	c->tw = (double)lg.width / PANGO_SCALE;
	c->th = (double)lg.height / PANGO_SCALE;
	d->ncells++;
	if (c->size < d->min_size)
		d->min_size = c->size;
	/* the text's box must lie inside the cell's inner width */
	if (lg.x < 0 || (double)(lg.x + lg.width) / PANGO_SCALE > iw + 0.01)
		d->overflows++;
	if (r->h < c->th + 2 * L_PAD_Y)
		r->h = c->th + 2 * L_PAD_Y;
}

/* --- pages ---------------------------------------------------------- */

double
ldoc_band_top(const struct ldoc *d)
{
	double band = d->code_size > L_BAND_MIN ? d->code_size : L_BAND_MIN;

	return L_PAGE_H - 26 - band;
}

double
ldoc_body_bottom(const struct ldoc *d)
{
	return ldoc_band_top(d) - 6;
}

static int
new_page(struct ldoc *d, size_t start)
{
	if (d->npages == L_PAGES_MAX)
		return ldoc_fail(d, "the document would take more than %d "
		    "pages", L_PAGES_MAX);
	d->page_start[d->npages++] = start;
	return 0;
}

int
ldoc_paginate(struct ldoc *d)
{
	double cap = ldoc_body_bottom(d) - L_BODY_TOP - L_MARK_H, used = 0, uh;
	size_t i, j, k, last_unit = 0;

	if (d->failed)
		return -1;
	d->npages = 0;
	if (new_page(d, 0) == -1)
		return -1;
	for (i = 0; i < d->nrows; i = j) {
		/* a unit: rows joined by LR_KEEP */
		uh = 0;
		for (j = i; j < d->nrows; j++) {
			if (d->rows[j].h > cap)
				return ldoc_fail(d, "a record is too long to "
				    "print on one page");
			uh += d->rows[j].h;
			if (!(d->rows[j].flags & LR_KEEP)) {
				j++;
				break;
			}
		}
		if (uh <= cap) {
			if (used + uh > cap && used > 0) {
				if (new_page(d, i) == -1)
					return -1;
				used = 0;
			}
			last_unit = i;
			used += uh;
			continue;
		}
		/* longer than a page: row by row */
		for (k = i; k < j; k++) {
			if (used + d->rows[k].h > cap && used > 0) {
				if (new_page(d, k) == -1)
					return -1;
				used = 0;
			}
			last_unit = k;
			used += d->rows[k].h;
		}
	}
	if (used + L_FOOTER_H <= cap)
		return 0;
	/* the certification needs room: take the last record along */
	uh = 0;
	for (k = last_unit; k < d->nrows; k++)
		uh += d->rows[k].h;
	if (last_unit > d->page_start[d->npages - 1] && uh + L_FOOTER_H <= cap)
		return new_page(d, last_unit);
	return new_page(d, d->nrows);
}
