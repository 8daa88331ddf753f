/*
 * The anti-forgery layers against a simulated copier: the original at
 * 600 dpi, the copy sampled by area to 200 dpi, blurred (Gaussian) and
 * thresholded (HARNESS.md).  The pantograph's word must be invisible on
 * the original and visible on the copy; microtext must lose its glyphs;
 * the code must read back with zbar at 300 and 200 dpi and from a copy.
 *
 * usage: test_antiforgery [-w DIR]   (-w: also write DIR/original.png
 * and DIR/copy.png, a crop around one word)
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <poppler.h>
#include <zbar.h>

#include "antiforgery.h"
#include "t.h"

/* A gray image: darkness 0 (paper) .. 1 (ink). */
struct gray {
	int	 w, h;
	double	*v;
};

static void
gray_free(struct gray *g)
{
	free(g->v);
	g->v = NULL;
}

static struct gray
gray_new(int w, int h)
{
	struct gray	g = { w, h, calloc((size_t)w * h, sizeof(double)) };

	if (g.v == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return g;
}

static struct gray
gray_from_surface(cairo_surface_t *s)
{
	struct gray	 g;
	unsigned char	*d;
	uint32_t	 px;
	int		 x, y, stride;

	cairo_surface_flush(s);
	g = gray_new(cairo_image_surface_get_width(s),
	    cairo_image_surface_get_height(s));
	d = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);
	for (y = 0; y < g.h; y++)
		for (x = 0; x < g.w; x++) {
			memcpy(&px, d + (size_t)y * stride + 4 * x, 4);
			g.v[(size_t)y * g.w + x] = 1.0 -
			    (0.299 * ((px >> 16) & 0xff) +
			    0.587 * ((px >> 8) & 0xff) +
			    0.114 * (px & 0xff)) / 255.0;
		}
	return g;
}

/* An image surface of w x h points at dpi, white, scaled to points. */
static cairo_t *
page(double w, double h, double dpi, cairo_surface_t **sp)
{
	cairo_surface_t	*s;
	cairo_t		*cr;

	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
	    (int)lround(w * dpi / 72), (int)lround(h * dpi / 72));
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, dpi / 72, dpi / 72);
	*sp = s;
	return cr;
}

static struct gray
finish_page(cairo_t *cr, cairo_surface_t *s)
{
	struct gray	g;

	cairo_destroy(cr);
	g = gray_from_surface(s);
	cairo_surface_destroy(s);
	return g;
}

/* Area sampling by an integer factor. */
static struct gray
downsample(const struct gray *in, int f)
{
	struct gray	out = gray_new(in->w / f, in->h / f);
	int		x, y, i, j;
	double		sum;

	for (y = 0; y < out.h; y++)
		for (x = 0; x < out.w; x++) {
			sum = 0;
			for (j = 0; j < f; j++)
				for (i = 0; i < f; i++)
					sum += in->v[(size_t)(y * f + j) *
					    in->w + x * f + i];
			out.v[(size_t)y * out.w + x] = sum / (f * f);
		}
	return out;
}

/* Separable Gaussian blur, edges clamped. */
static void
blur(struct gray *g, double sigma)
{
	double	 k[16], sum, *tmp;
	int	 r, i, x, y, xx, yy;

	r = (int)ceil(3 * sigma);
	if (r > 7)
		r = 7;
	for (i = -r, sum = 0; i <= r; i++)
		sum += k[i + r] = exp(-(double)(i * i) / (2 * sigma * sigma));
	for (i = 0; i <= 2 * r; i++)
		k[i] /= sum;
	if ((tmp = malloc((size_t)g->w * g->h * sizeof(double))) == NULL)
		exit(2);
	for (y = 0; y < g->h; y++)
		for (x = 0; x < g->w; x++) {
			for (i = -r, sum = 0; i <= r; i++) {
				xx = x + i < 0 ? 0 : x + i >= g->w ?
				    g->w - 1 : x + i;
				sum += k[i + r] * g->v[(size_t)y * g->w + xx];
			}
			tmp[(size_t)y * g->w + x] = sum;
		}
	for (y = 0; y < g->h; y++)
		for (x = 0; x < g->w; x++) {
			for (i = -r, sum = 0; i <= r; i++) {
				yy = y + i < 0 ? 0 : y + i >= g->h ?
				    g->h - 1 : y + i;
				sum += k[i + r] * tmp[(size_t)yy * g->w + x];
			}
			g->v[(size_t)y * g->w + x] = sum;
		}
	free(tmp);
}

/*
 * The copier: 600 dpi original to a 200 dpi black-or-white copy.  thr is
 * on the scanned gray level (paper 1, ink 0): a pixel darker than thr
 * prints black.
 */
static struct gray
copier(const struct gray *orig, int factor, double sigma, double thr)
{
	struct gray	c = downsample(orig, factor);
	size_t		i;

	blur(&c, sigma);
	for (i = 0; i < (size_t)c.w * c.h; i++)
		c.v[i] = 1.0 - c.v[i] < thr ? 1.0 : 0.0;
	return c;
}

/* Shrink a binary mask (>= 0.999 inside) by r pixels. */
static struct gray
erode(const struct gray *m, int r)
{
	struct gray	out = gray_new(m->w, m->h);
	int		x, y, i, j, in;

	for (y = 0; y < m->h; y++)
		for (x = 0; x < m->w; x++) {
			in = 1;
			for (j = -r; j <= r && in; j++)
				for (i = -r; i <= r && in; i++)
					if (x + i < 0 || y + j < 0 ||
					    x + i >= m->w || y + j >= m->h ||
					    m->v[(size_t)(y + j) * m->w +
					    x + i] < 0.999)
						in = 0;
			out.v[(size_t)y * m->w + x] = in;
		}
	return out;
}

static struct gray
invert(const struct gray *m)
{
	struct gray	out = gray_new(m->w, m->h);
	size_t		i;

	for (i = 0; i < (size_t)m->w * m->h; i++)
		out.v[i] = 1.0 - m->v[i];
	return out;
}

/* Mean of g over the pixels where mask is 1. */
static double
masked_mean(const struct gray *g, const struct gray *mask, size_t *np)
{
	size_t	i, n = 0;
	double	sum = 0;

	for (i = 0; i < (size_t)g->w * g->h; i++)
		if (mask->v[i] > 0.5) {
			sum += g->v[i];
			n++;
		}
	if (np != NULL)
		*np = n;
	return n ? sum / n : 0;
}

/* The test area: 60 x 40 mm at a 600 dpi pixel-aligned origin. */
#define AREA_W	(60 / 25.4 * 72)
#define AREA_H	(40 / 25.4 * 72)

static struct gray
render_panto(const struct af_pantograph_style *st, double dpi)
{
	cairo_surface_t	*s;
	cairo_t		*cr = page(AREA_W, AREA_H, dpi, &s);

	af_pantograph_styled(cr, 0, 0, AREA_W, AREA_H, NULL, st);
	return finish_page(cr, s);
}

/* The word's area at 600 dpi: the word solid, no field, no camouflage. */
static struct gray
word_mask(const struct af_pantograph_style *st)
{
	struct af_pantograph_style	m = *st;

	m.field_dot = 0;
	m.word_dot = m.word_pitch;
	m.camo_width = 0;
	return render_panto(&m, 600);
}

static struct gray
field_mask(const struct af_pantograph_style *st)
{
	struct af_pantograph_style	m = *st;

	m.word_dot = 0;
	m.field_dot = m.field_pitch;
	m.camo_width = 0;
	return render_panto(&m, 600);
}

struct tone {
	double	orig;		/* word - field on the original */
	double	copy;		/* word - field on the copy */
	double	orig_word, orig_field, copy_word, copy_field;
};

/* Word minus field tone, on the original and a copy. */
static struct tone
measure(const struct gray *orig, const struct gray *mask600, double sigma,
    double thr)
{
	struct gray	m200, in, nm, out, cp;
	struct tone	t;

	/* 600 dpi: 6 px (0.25 mm) off the edge; 200 dpi: 4 px (0.5 mm),
	   outside the blur's reach. */
	in = erode(mask600, 6);
	nm = invert(mask600);
	out = erode(&nm, 6);
	t.orig_word = masked_mean(orig, &in, NULL);
	t.orig_field = masked_mean(orig, &out, NULL);
	t.orig = t.orig_word - t.orig_field;
	gray_free(&in);
	gray_free(&out);
	gray_free(&nm);

	m200 = downsample(mask600, 3);
	in = erode(&m200, 4);
	nm = invert(&m200);
	out = erode(&nm, 4);
	cp = copier(orig, 3, sigma, thr);
	t.copy_word = masked_mean(&cp, &in, NULL);
	t.copy_field = masked_mean(&cp, &out, NULL);
	t.copy = t.copy_word - t.copy_field;
	gray_free(&m200);
	gray_free(&in);
	gray_free(&nm);
	gray_free(&out);
	gray_free(&cp);
	return t;
}

/*
 * The largest tone difference between word and field at a 1 mm scale
 * on the original: mean tone of each 1 mm cell lying wholly in the word
 * or wholly in the field, the word cells' mean against the field cells'.
 */
static double
mm_scale_diff(const struct gray *orig, const struct gray *mask)
{
	int	 cell = 24, cx, cy, x, y, nw = 0, nf = 0;
	double	 sw = 0, sf = 0, sum, ms;

	for (cy = 0; cy + cell <= orig->h; cy += cell)
		for (cx = 0; cx + cell <= orig->w; cx += cell) {
			sum = ms = 0;
			for (y = cy; y < cy + cell; y++)
				for (x = cx; x < cx + cell; x++) {
					sum += orig->v[(size_t)y * orig->w + x];
					ms += mask->v[(size_t)y * orig->w + x];
				}
			sum /= cell * cell;
			ms /= cell * cell;
			if (ms > 0.999) {
				sw += sum;
				nw++;
			} else if (ms < 0.001) {
				sf += sum;
				nf++;
			}
		}
	if (nw == 0 || nf == 0)
		return 1;
	return sw / nw - sf / nf;
}

static void
test_masks(void)
{
	struct gray	wm, fm;
	size_t		i, n = (size_t)0, over = 0, gap = 0, wordpx = 0;
	double		s;

	wm = word_mask(&af_pantograph_default);
	fm = field_mask(&af_pantograph_default);
	n = (size_t)wm.w * wm.h;
	for (i = 0; i < n; i++) {
		s = wm.v[i] + fm.v[i];
		if (s > 1.05)
			over++;
		if (s < 0.5)
			gap++;
		if (wm.v[i] > 0.5)
			wordpx++;
	}
	printf("# word area %.1f %% of the rectangle\n", 100.0 * wordpx / n);
	T_CHECK(wordpx > n / 20 && wordpx < n / 2,
	    "the word covers a fair part of the rectangle (5-50 %)");
	T_CHECK(over == 0, "word and field areas do not overlap");
	T_CHECK(gap < n / 1000, "word and field areas cover the rectangle");
	gray_free(&wm);
	gray_free(&fm);
}

static void
test_pantograph(void)
{
	static const double	 sigmas[] = { 0.6, 0.8, 1.0 };
	static const double	 thrs[] = { 0.5, 0.6, 0.7 };
	struct af_pantograph_style same, nocamo;
	struct gray		 orig, mask;
	struct tone		 t;
	double			 minc = 1, maxc = -1, maxo = 0, mm;
	size_t			 i, j;
	char			 name[160];
	int			 okc = 1, oko = 1;

	mask = word_mask(&af_pantograph_default);
	orig = render_panto(&af_pantograph_default, 600);
	t = measure(&orig, &mask, 1.0, 0.6);
	printf("# original: word %.4f field %.4f diff %+.4f\n",
	    t.orig_word, t.orig_field, t.orig);
	printf("# copy (sigma 1.0, threshold 0.6): word %.4f field %.4f "
	    "diff %+.4f\n", t.copy_word, t.copy_field, t.copy);
	T_CHECK(t.orig_word > 0.10 && t.orig_word < 0.20 &&
	    t.orig_field > 0.10 && t.orig_field < 0.20,
	    "light tone on the original (10-20 %)");
	T_CHECK(fabs(t.orig) < 0.02, "word hidden on the original (< 0.02)");
	T_CHECK(t.copy > 0.08, "word visible on the copy (> 0.08)");
	T_CHECK(t.copy_field < 0.02, "field drops out on the copy");
	mm = mm_scale_diff(&orig, &mask);
	printf("# original at 1 mm scale: word - field %+.4f\n", mm);
	T_CHECK(fabs(mm) < 0.02, "word hidden at a 1 mm scale");

	for (i = 0; i < sizeof(sigmas) / sizeof(sigmas[0]); i++)
		for (j = 0; j < sizeof(thrs) / sizeof(thrs[0]); j++) {
			t = measure(&orig, &mask, sigmas[i], thrs[j]);
			printf("# sigma %.1f threshold %.1f: copy diff "
			    "%+.4f\n", sigmas[i], thrs[j], t.copy);
			if (t.copy < minc)
				minc = t.copy;
			if (t.copy > maxc)
				maxc = t.copy;
			if (fabs(t.orig) > maxo)
				maxo = fabs(t.orig);
			if (!(t.copy > 0.08))
				okc = 0;
			if (!(fabs(t.orig) < 0.02))
				oko = 0;
		}
	snprintf(name, sizeof(name), "word visible across blurs 0.6-1.0 and "
	    "thresholds 0.5-0.7 (copy diff %+.3f..%+.3f)", minc, maxc);
	T_CHECK(okc, name);
	T_CHECK(oko, "original stays even across the same settings");
	gray_free(&orig);

	/* The checks can fail: word dots like the field's never emerge. */
	same = af_pantograph_default;
	same.word_dot = same.field_dot;
	same.word_pitch = same.field_pitch;
	orig = render_panto(&same, 600);
	t = measure(&orig, &mask, 1.0, 0.6);
	printf("# word dots = field dots: copy diff %+.4f\n", t.copy);
	T_CHECK(!(t.copy > 0.08), "word drawn with field dots: no emergence");
	gray_free(&orig);

	/* ... nor do mid-sized dots, which the copier also drops. */
	same = af_pantograph_default;
	same.word_dot = 5 * 72.0 / 600;
	same.word_pitch = 13 * 72.0 / 600;
	same.tile = 13 * 5 * 72.0 / 600;
	orig = render_panto(&same, 600);
	gray_free(&mask);
	mask = word_mask(&same);
	t = measure(&orig, &mask, 1.0, 0.6);
	printf("# word 5x5 px dots on 13 px: copy diff %+.4f\n", t.copy);
	T_CHECK(!(t.copy > 0.08), "word of 5 px dots: no emergence");
	gray_free(&orig);
	gray_free(&mask);

	/* The camouflage takes as much from both areas. */
	nocamo = af_pantograph_default;
	nocamo.camo_width = 0;
	mask = word_mask(&nocamo);
	orig = render_panto(&nocamo, 600);
	t = measure(&orig, &mask, 1.0, 0.6);
	printf("# without camouflage: original diff %+.4f, copy diff "
	    "%+.4f, tone %.4f\n", t.orig, t.copy, t.orig_field);
	gray_free(&orig);
	gray_free(&mask);
}

struct membuf {
	unsigned char	*d;
	size_t		 len, cap;
};

static cairo_status_t
mem_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct membuf	*m = closure;
	unsigned char	*n;

	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2;
		if ((n = realloc(m->d, m->cap)) == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		m->d = n;
	}
	memcpy(m->d + m->len, data, len);
	m->len += len;
	return CAIRO_STATUS_SUCCESS;
}

/*
 * The same through a PDF (vector tiling patterns) rasterised by poppler
 * at 600 dpi: what a printer's RIP gets.
 */
static void
test_pantograph_pdf(void)
{
	struct membuf		 m = { NULL, 0, 0 };
	cairo_surface_t		*s;
	cairo_t			*cr;
	GBytes			*bytes;
	PopplerDocument		*doc;
	PopplerPage		*pg;
	GError			*err = NULL;
	struct gray		 orig, mask;
	struct tone		 t;

	s = cairo_pdf_surface_create_for_stream(mem_write, &m, AREA_W, AREA_H);
	cr = cairo_create(s);
	af_pantograph(cr, 0, 0, AREA_W, AREA_H, NULL);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	cairo_surface_destroy(s);
	printf("# 60 x 40 mm of pantograph as PDF: %zu bytes\n", m.len);
	bytes = g_bytes_new_take(m.d, m.len);
	doc = poppler_document_new_from_bytes(bytes, NULL, &err);
	g_bytes_unref(bytes);
	if (!T_CHECK(doc != NULL, "pantograph PDF loads in poppler")) {
		if (err != NULL)
			g_error_free(err);
		return;
	}
	pg = poppler_document_get_page(doc, 0);
	cr = page(AREA_W, AREA_H, 600, &s);
	poppler_page_render(pg, cr);
	orig = finish_page(cr, s);
	mask = word_mask(&af_pantograph_default);
	t = measure(&orig, &mask, 1.0, 0.6);
	printf("# PDF at 600 dpi: original word %.4f field %.4f diff %+.4f; "
	    "copy diff %+.4f\n", t.orig_word, t.orig_field, t.orig, t.copy);
	T_CHECK(fabs(t.orig) < 0.02, "PDF: word hidden on the original");
	T_CHECK(t.copy > 0.08, "PDF: word visible on the copy");
	gray_free(&orig);
	gray_free(&mask);
	g_object_unref(pg);
	g_object_unref(doc);
}

/* Dark/light transitions along the most crossed row of [y0, y1). */
static int
transitions(const struct gray *g, int y0, int y1, double thr)
{
	int	x, y, n, best = 0, cur, prev;

	for (y = y0 < 0 ? 0 : y0; y < y1 && y < g->h; y++) {
		n = 0;
		prev = g->v[(size_t)y * g->w] >= thr;
		for (x = 1; x < g->w; x++) {
			cur = g->v[(size_t)y * g->w + x] >= thr;
			if (cur != prev)
				n++;
			prev = cur;
		}
		if (n > best)
			best = n;
	}
	return best;
}

static double
band_mean(const struct gray *g, int y0, int y1)
{
	double	sum = 0;
	int	x, y, n = 0;

	for (y = y0 < 0 ? 0 : y0; y < y1 && y < g->h; y++)
		for (x = 0; x < g->w; x++, n++)
			sum += g->v[(size_t)y * g->w + x];
	return n ? sum / n : 0;
}

static void
test_microtext(void)
{
	cairo_surface_t	*s;
	cairo_t		*cr;
	struct gray	 orig, cp;
	static const double thrs[] = { 0.5, 0.6, 0.7 };
	double		 w = 144, h = 12, y = 6;	/* 2 inch line */
	int		 to, tc, i, x, yy, any, dark;
	char		 name[128];

	cr = page(w, h, 600, &s);
	af_microtext(cr, 0, y, w, "東京都千代田区", 1.0);
	orig = finish_page(cr, s);
	/* The glyphs lie in the em box above the baseline: 1 pt = 8.3 px. */
	to = transitions(&orig, (int)(y * 600 / 72) - 9,
	    (int)(y * 600 / 72) + 2, 0.5);
	printf("# microtext at 600 dpi: %d transitions over %.0f mm "
	    "(%.1f per mm), band tone %.3f\n", to, w / 72 * 25.4,
	    to / (w / 72 * 25.4), band_mean(&orig, (int)(y * 600 / 72) - 9,
	    (int)(y * 600 / 72) + 2));
	T_CHECK(to > 4 * w / 72 * 25.4,
	    "microtext has glyph structure (> 4 transitions/mm)");

	/* Transitions along the copied line, and the share of its length
	   that prints at all (columns with some black). */
	for (i = 0; i < 3; i++) {
		cp = copier(&orig, 3, 1.0, thrs[i]);
		tc = transitions(&cp, (int)(y * 200 / 72) - 4,
		    (int)(y * 200 / 72) + 2, 0.5);
		for (x = 0, dark = 0; x < cp.w; x++) {
			for (yy = 0, any = 0; yy < cp.h; yy++)
				any |= cp.v[(size_t)yy * cp.w + x] > 0.5;
			dark += any;
		}
		printf("# microtext copied at threshold %.1f: %d transitions, "
		    "line covers %.1f %%\n", thrs[i], tc, 100.0 * dark / cp.w);
		snprintf(name, sizeof(name), "copy at threshold %.1f loses the "
		    "glyphs (%d -> %d transitions, < 1/4)", thrs[i], to, tc);
		T_CHECK(tc * 4 < to, name);
		gray_free(&cp);
	}
	gray_free(&orig);

	/* Normal-size text keeps its structure through the same copier:
	   the check above is about size, not the copier erasing all. */
	cr = page(w, h, 600, &s);
	cairo_select_font_face(cr, "IPAexGothic",
	    CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 9);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_move_to(cr, 0, 10);
	cairo_show_text(cr, "東京都千代田区東京都千代田区東京都千代田区");
	orig = finish_page(cr, s);
	cp = copier(&orig, 3, 1.0, 0.5);
	tc = transitions(&cp, 0, cp.h, 0.5);
	printf("# 9 pt text copied: %d transitions\n", tc);
	T_CHECK(tc > 40, "9 pt text survives the copier");
	gray_free(&orig);
	gray_free(&cp);
}

/* Decode the one QR code in g: the text into buf, or -1. */
static int
zbar_read(const struct gray *g, char *buf, size_t size)
{
	zbar_image_scanner_t	*sc;
	zbar_image_t		*img;
	const zbar_symbol_t	*sym;
	unsigned char		*y8;
	size_t			 i, n;
	int			 found = -1;

	n = (size_t)g->w * g->h;
	if ((y8 = malloc(n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		y8[i] = (unsigned char)lround(255 * (1 - g->v[i]));
	sc = zbar_image_scanner_create();
	zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	img = zbar_image_create();
	zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(img, (unsigned)g->w, (unsigned)g->h);
	zbar_image_set_data(img, y8, n, zbar_image_free_data);
	if (zbar_scan_image(sc, img) > 0) {
		sym = zbar_image_first_symbol(img);
		if (sym != NULL && zbar_symbol_get_data_length(sym) < size) {
			memcpy(buf, zbar_symbol_get_data(sym),
			    zbar_symbol_get_data_length(sym));
			buf[zbar_symbol_get_data_length(sym)] = '\0';
			found = 0;
		}
	}
	zbar_image_destroy(img);
	zbar_image_scanner_destroy(sc);
	return found;
}

/* A code text shaped like doccode's (about 200 characters). */
static const char code_text[] =
    "KV1;0123456789abcdef0123456789abcdef;juminhyo;20250401;"
    "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA;"
    "MEUCIQDx3Yk9oGz0p1Wf3Qk8yZ8mJ4w0bq9wq8XH2vC9j1m7ZQIgY3QJ6H2kq8n"
    "0ZzH6Yl3aV5Jm2Q8tB3fLwKx9cV0P1sE";

static void
test_code(void)
{
	cairo_surface_t	*s;
	cairo_t		*cr;
	struct gray	 g, cp;
	char		 buf[512], name[128];
	double		 size, dpis[] = { 300, 200 };
	size_t		 i;
	char		 big[4000];

	size = af_code_size(code_text);
	printf("# code of %zu chars: %.1f pt (%.1f mm) square\n",
	    strlen(code_text), size, size / 72 * 25.4);
	T_CHECK(size > 0, "af_code_size of a doccode text");
	T_CHECK(AF_MODULE_PT / 72 * 25.4 >= 0.5, "module >= 0.5 mm");

	for (i = 0; i < sizeof(dpis) / sizeof(dpis[0]); i++) {
		/* Over the pantograph, as on the page. */
		cr = page(size + 40, size + 40, dpis[i], &s);
		af_pantograph(cr, 0, 0, size + 40, size + 40, NULL);
		T_CHECK(af_code(cr, 20, 20, size, code_text) == 0,
		    "af_code draws");
		g = finish_page(cr, s);
		buf[0] = '\0';
		snprintf(name, sizeof(name), "code reads back at %.0f dpi",
		    dpis[i]);
		T_CHECK(zbar_read(&g, buf, sizeof(buf)) == 0 &&
		    strcmp(buf, code_text) == 0, name);
		gray_free(&g);
	}

	/* A copy: 600 dpi original, the copier, read at 200 dpi. */
	cr = page(size + 40, size + 40, 600, &s);
	af_pantograph(cr, 0, 0, size + 40, size + 40, NULL);
	(void)af_code(cr, 20, 20, size, code_text);
	g = finish_page(cr, s);
	cp = copier(&g, 3, 1.0, 0.5);
	buf[0] = '\0';
	T_CHECK(zbar_read(&cp, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, code_text) == 0, "code reads back from a 200 dpi copy");
	gray_free(&g);
	gray_free(&cp);

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_CHECK(af_code_size(big) == -1, "too long text: af_code_size -1");
	cr = page(10, 10, 72, &s);
	T_CHECK(af_code(cr, 0, 0, 10, big) == -1, "too long text: af_code -1");
	T_CHECK(af_code(cr, 0, 0, 10, "") == -1, "empty text: af_code -1");
	g = finish_page(cr, s);
	gray_free(&g);
}

static cairo_status_t
count_bytes(void *closure, const unsigned char *data, unsigned int len)
{
	(void)data;
	*(size_t *)closure += len;
	return CAIRO_STATUS_SUCCESS;
}

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A whole A4 page of pantograph, microtext and code into a PDF. */
static void
test_pdf(void)
{
	cairo_surface_t	*s;
	cairo_t		*cr;
	size_t		 bytes = 0, bytes1 = 0;
	double		 t0, t1, best = 1e9;
	int		 i;
	char		 name[128];

	for (i = 0; i < 8; i++) {
		bytes = 0;
		t0 = now_ms();
		s = cairo_pdf_surface_create_for_stream(count_bytes, &bytes,
		    595.28, 841.89);
		cr = cairo_create(s);
		af_pantograph(cr, 0, 0, 595.28, 841.89, NULL);
		af_microtext(cr, 50, 100, 545, "東京都千代田区", 0.8);
		af_microtext(cr, 50, 760, 545, "東京都千代田区", 0.8);
		(void)af_code(cr, 460, 700, af_code_size(code_text),
		    code_text);
		cairo_show_page(cr);
		cairo_destroy(cr);
		cairo_surface_finish(s);
		cairo_surface_destroy(s);
		t1 = now_ms() - t0;
		if (t1 < best)
			best = t1;
		if (i == 0)
			bytes1 = bytes;
	}
	printf("# A4 page of layers to PDF: %.1f ms (best of 8), %zu bytes\n",
	    best, bytes);
	T_CHECK(bytes == bytes1, "PDF output is deterministic in size");
	snprintf(name, sizeof(name), "A4 layers PDF small (%zu bytes < 150 KB)",
	    bytes);
	T_CHECK(bytes < 150 * 1024, name);
	/* the time is a figure for the benchmark (tests/bench/render), not
	   a check: a loaded machine must not fail a test */
}

/* Gray PNG (cairo writes A8 as 8-bit gray): g's darkness, each pixel
   repeated zoom times. */
static int
write_gray_png(const struct gray *g, int zoom, const char *path)
{
	cairo_surface_t	*s;
	unsigned char	*d;
	int		 x, y, stride, rc;

	s = cairo_image_surface_create(CAIRO_FORMAT_A8, g->w * zoom,
	    g->h * zoom);
	cairo_surface_flush(s);
	d = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);
	for (y = 0; y < g->h * zoom; y++)
		for (x = 0; x < g->w * zoom; x++)
			d[(size_t)y * stride + x] = (unsigned char)lround(255 *
			    (1 - g->v[(size_t)(y / zoom) * g->w + x / zoom]));
	cairo_surface_mark_dirty(s);
	rc = cairo_surface_write_to_png(s, path) == CAIRO_STATUS_SUCCESS ?
	    0 : -1;
	cairo_surface_destroy(s);
	return rc;
}

/* docs/antiforgery: a crop around one word at 600 dpi, and its copy
   (200 dpi, shown at the same scale). */
static int
write_pngs(const char *dir)
{
	cairo_surface_t	*s;
	cairo_t		*cr;
	struct gray	 orig, cp;
	char		 path[4096];
	int		 rc = 0;
	double		 w = 54 / 25.4 * 72, h = 30 / 25.4 * 72;

	cr = page(w, h, 600, &s);
	/* Shifted so that one word sits in the crop. */
	cairo_translate(cr, -10.8, -12);
	af_pantograph(cr, 0, 0, w + 10.8, h + 12, NULL);
	orig = finish_page(cr, s);
	cp = copier(&orig, 3, 1.0, 0.6);
	snprintf(path, sizeof(path), "%s/original.png", dir);
	if (write_gray_png(&orig, 1, path) != 0)
		rc = -1;
	snprintf(path, sizeof(path), "%s/copy.png", dir);
	if (write_gray_png(&cp, 3, path) != 0)
		rc = -1;
	gray_free(&orig);
	gray_free(&cp);
	return rc;
}

int
main(int argc, char **argv)
{
	int	ch;

	while ((ch = getopt(argc, argv, "w:")) != -1) {
		switch (ch) {
		case 'w':
			if (write_pngs(optarg) != 0) {
				fprintf(stderr, "cannot write to %s\n", optarg);
				return 2;
			}
			return 0;
		default:
			fprintf(stderr, "usage: test_antiforgery [-w DIR]\n");
			return 2;
		}
	}
	test_masks();
	test_pantograph();
	test_pantograph_pdf();
	test_microtext();
	test_code();
	test_pdf();
	/* Drop the font caches so that LeakSanitizer sees only our leaks. */
	pango_cairo_font_map_set_default(NULL);
	cairo_debug_reset_static_data();
	FcFini();
	return t_done();
}
