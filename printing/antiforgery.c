/*
 * The anti-forgery layers (antiforgery.h).
 *
 * The pantograph is two repeating tiles, one of fine dots (the field) and
 * one of large dots (the word), at the same ink coverage, each filled
 * through the outlines of the tiled word or their complement.  A copier
 * samples coarsely and blurs: the fine dots fall under its threshold and
 * vanish, the large ones survive, and the word appears.  Both tiles carry
 * the same camouflage, a 七宝 lattice of white rings continuous across
 * the word's edge, which breaks the dot texture everywhere so that the
 * eye does not find the edge on the original.  The tiles are recording
 * surfaces: a PDF gets two vector tiling patterns and two fills, not a
 * million dots.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include "antiforgery.h"

/* 600 dpi device pixels in points: the measured geometry (HARNESS.md). */
#define PX600		(72.0 / 600.0)

const struct af_pantograph_style af_pantograph_default = {
	.field_dot = 2 * PX600,		/* 2x2 px on a 5 px pitch: 16 % */
	.field_pitch = 5 * PX600,
	.word_dot = 10 * PX600,		/* 10x10 px on a 25 px pitch: 16 % */
	.word_pitch = 25 * PX600,
	.camo_width = 1.5 * PX600,
	.tile = 100 * PX600,		/* 4 word pitches, 20 field pitches */
	.word_size = 64.0,
};

#define AF_WORD_DEFAULT		"複写"
#define AF_WORD_FONT		"IPAexGothic Bold"	/* synthesised bold: a broad word */
#define AF_MICRO_FONT		"IPAexGothic Bold"
#define AF_MICRO_MAXBYTES	65536

/* Fonts laid out without hinting, so the same on every surface. */
static PangoLayout *
af_layout(cairo_t *cr, const char *family, double size)
{
	PangoLayout		*layout;
	PangoFontDescription	*desc;
	cairo_font_options_t	*fo;

	layout = pango_cairo_create_layout(cr);
	if (layout == NULL)
		return NULL;
	fo = cairo_font_options_create();
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	pango_cairo_context_set_font_options(pango_layout_get_context(layout),
	    fo);
	cairo_font_options_destroy(fo);
	pango_layout_context_changed(layout);
	desc = pango_font_description_from_string(family);
	pango_font_description_set_absolute_size(desc, size * PANGO_SCALE);
	pango_layout_set_font_description(layout, desc);
	pango_font_description_free(desc);
	return layout;
}

/* Vector surfaces get vector tiles; the rest, tiles of device pixels. */
static int
af_vector(cairo_t *cr)
{
	switch (cairo_surface_get_type(cairo_get_target(cr))) {
	case CAIRO_SURFACE_TYPE_PDF:
	case CAIRO_SURFACE_TYPE_PS:
	case CAIRO_SURFACE_TYPE_SVG:
	case CAIRO_SURFACE_TYPE_RECORDING:
	case CAIRO_SURFACE_TYPE_SCRIPT:
		return 1;
	default:
		return 0;
	}
}

/*
 * One tile: dots of side dot on a pitch grid, then the camouflage rings
 * (circles of radius tile/2 at the corners and the centre: 七宝).
 * The dots sit in the middle of their cells so both tiles share one
 * grid.
 * On a raster target the tile is drawn at the device's resolution:
 * cairo would otherwise rasterise a recording tile at one pixel per
 * point and scale it up, blurring the dots the copier must tell apart.
 */
static cairo_pattern_t *
af_tile(cairo_t *cr, double tile, double dot, double pitch, double camo,
    int opaque, double ox, double oy)
{
	cairo_surface_t		*surf;
	cairo_rectangle_t	 ext = { 0, 0, tile, tile };
	cairo_pattern_t		*pat;
	cairo_matrix_t		 m;
	cairo_t			*tc;
	int			 i, j, n, px = 0;
	double			 off, r, sx = 1, sy = 0, scale = 1;

	if (af_vector(cr))
		surf = cairo_recording_surface_create(
		    CAIRO_CONTENT_COLOR_ALPHA, &ext);
	else {
		cairo_user_to_device_distance(cr, &sx, &sy);
		scale = hypot(sx, sy);
		if (!(scale > 0) || tile * scale > 4096)
			scale = 1;
		px = (int)ceil(tile * scale - 1e-6);
		if (px < 1)
			px = 1;
		scale = px / tile;
		surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, px, px);
	}
	tc = cairo_create(surf);
	cairo_scale(tc, scale, scale);
	if (opaque) {
		cairo_set_source_rgb(tc, 1, 1, 1);
		cairo_paint(tc);
	}
	n = (int)lround(tile / pitch);
	/* Centred to an even number of 600 dpi pixels, so that a 600 (or
	   300) dpi rasteriser puts each dot on whole device pixels. */
	off = ceil((pitch - dot) / 2 / (2 * PX600) - 1e-9) * 2 * PX600;
	if (off + dot > pitch)
		off = (pitch - dot) / 2;
	if (dot > 0) {
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++)
				cairo_rectangle(tc, i * pitch + off,
				    j * pitch + off, dot, dot);
		cairo_set_source_rgb(tc, 0, 0, 0);
		cairo_fill(tc);
	}
	if (camo > 0) {
		r = tile / 2;
		cairo_new_path(tc);
		cairo_arc(tc, r, r, r, 0, 2 * M_PI);
		for (i = 0; i <= 1; i++)
			for (j = 0; j <= 1; j++) {
				cairo_new_sub_path(tc);
				cairo_arc(tc, i * tile, j * tile, r, 0,
				    2 * M_PI);
			}
		cairo_set_source_rgb(tc, 1, 1, 1);
		cairo_set_line_width(tc, camo);
		cairo_stroke(tc);
	}
	cairo_destroy(tc);
	pat = cairo_pattern_create_for_surface(surf);
	cairo_surface_destroy(surf);
	cairo_pattern_set_extend(pat, CAIRO_EXTEND_REPEAT);
	/* Pattern space: the tile's own units, from the rectangle's origin. */
	cairo_matrix_init_scale(&m, scale, scale);
	cairo_matrix_translate(&m, -ox, -oy);
	cairo_pattern_set_matrix(pat, &m);
	if (px > 0 && fabs(px - tile * (scale = hypot(sx, sy))) < 1e-6)
		cairo_pattern_set_filter(pat, CAIRO_FILTER_NEAREST);
	return pat;
}

/* The word's outlines tiled over the rectangle, in staggered rows. */
static cairo_path_t *
af_word_path(cairo_t *cr, double x, double y, double w, double h,
    const char *word, double size)
{
	PangoLayout	*layout;
	PangoRectangle	 ink;
	cairo_path_t	*path;
	double		 sx, sy, px, py, ww, wh;
	int		 row;

	layout = af_layout(cr, AF_WORD_FONT, size);
	if (layout == NULL)
		return NULL;
	pango_layout_set_text(layout, word, -1);
	pango_layout_get_extents(layout, &ink, NULL);
	ww = (double)ink.width / PANGO_SCALE;
	wh = (double)ink.height / PANGO_SCALE;
	cairo_new_path(cr);
	if (ww > 0 && wh > 0) {
		sx = ww * 1.5;
		sy = wh * 1.9;
		for (row = 0, py = y + wh * 0.45; py < y + h; py += sy, row++)
			for (px = x + ww * 0.25 - (row % 2 ? sx / 2 : 0);
			    px < x + w; px += sx) {
				if (px + ww < x)
					continue;
				cairo_move_to(cr,
				    px - (double)ink.x / PANGO_SCALE,
				    py - (double)ink.y / PANGO_SCALE);
				pango_cairo_layout_path(cr, layout);
			}
	}
	g_object_unref(layout);
	path = cairo_copy_path(cr);
	cairo_new_path(cr);
	return path;
}

void
af_pantograph_styled(cairo_t *cr, double x, double y, double w, double h,
    const char *word, const struct af_pantograph_style *st)
{
	cairo_pattern_t	*field, *big;
	cairo_path_t	*path;

	if (w <= 0 || h <= 0 || st->tile <= 0 || st->field_pitch <= 0 ||
	    st->word_pitch <= 0)
		return;
	if (word == NULL || *word == '\0')
		word = AF_WORD_DEFAULT;
	cairo_save(cr);
	cairo_new_path(cr);
	cairo_rectangle(cr, x, y, w, h);
	cairo_clip(cr);
	path = af_word_path(cr, x, y, w, h, word, st->word_size);
	if (path == NULL || path->status != CAIRO_STATUS_SUCCESS) {
		if (path != NULL)
			cairo_path_destroy(path);
		cairo_restore(cr);
		return;
	}
	field = af_tile(cr, st->tile, st->field_dot, st->field_pitch,
	    st->camo_width, 0, x, y);
	big = af_tile(cr, st->tile, st->word_dot, st->word_pitch,
	    st->camo_width, 1, x, y);

	/* The field over the whole rectangle, then the word's tile, opaque
	   (paper between its dots), through the word's outlines: the
	   outlines appear once in the PDF. */
	cairo_set_source(cr, field);
	cairo_paint(cr);
	cairo_append_path(cr, path);
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
	cairo_set_source(cr, big);
	cairo_fill(cr);

	cairo_pattern_destroy(field);
	cairo_pattern_destroy(big);
	cairo_path_destroy(path);
	cairo_restore(cr);
}

void
af_pantograph(cairo_t *cr, double x, double y, double w, double h,
    const char *word)
{
	af_pantograph_styled(cr, x, y, w, h, word, &af_pantograph_default);
}

void
af_microtext(cairo_t *cr, double x0, double y, double x1, const char *text,
    double size_pt)
{
	PangoLayout	*layout;
	PangoRectangle	 logical;
	char		*line;
	size_t		 tlen, n, i, reps;
	double		 one, len, base;

	if (text == NULL || (tlen = strlen(text)) == 0 || x1 <= x0)
		return;
	if (!(size_pt > 0) || size_pt > 1.0)
		size_pt = 1.0;
	len = x1 - x0;
	layout = af_layout(cr, AF_MICRO_FONT, size_pt);
	if (layout == NULL)
		return;
	pango_layout_set_text(layout, text, (int)tlen);
	pango_layout_get_extents(layout, NULL, &logical);
	one = (double)logical.width / PANGO_SCALE;
	if (!(one > 0)) {
		g_object_unref(layout);
		return;
	}
	reps = (size_t)ceil(len / one) + 1;
	if (reps > AF_MICRO_MAXBYTES / tlen)
		reps = AF_MICRO_MAXBYTES / tlen;
	if (reps == 0 || (line = malloc(reps * tlen + 1)) == NULL) {
		g_object_unref(layout);
		return;
	}
	for (i = 0, n = 0; i < reps; i++, n += tlen)
		memcpy(line + n, text, tlen);
	line[n] = '\0';
	pango_layout_set_text(layout, line, (int)n);
	free(line);
	base = (double)pango_layout_get_baseline(layout) / PANGO_SCALE;

	cairo_save(cr);
	cairo_new_path(cr);
	cairo_rectangle(cr, x0, y - 2 * size_pt, len, 3 * size_pt);
	cairo_clip(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_move_to(cr, x0, y - base);
	pango_cairo_show_layout(cr, layout);
	cairo_restore(cr);
	g_object_unref(layout);
}

static QRcode *
af_encode(const char *text)
{
	if (text == NULL || *text == '\0' || strlen(text) > 2048)
		return NULL;
	return QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
}

int
af_code(cairo_t *cr, double x, double y, double size, const char *text)
{
	QRcode		*qr;
	double		 m;
	int		 w, r, c, c0;

	if (!(size > 0) || (qr = af_encode(text)) == NULL)
		return -1;
	w = qr->width;
	m = size / (w + 2 * AF_QUIET);
	cairo_save(cr);
	/* The quiet zone and the light modules are paper, whatever lies
	   under the code (the pantograph). */
	cairo_new_path(cr);
	cairo_rectangle(cr, x, y, size, size);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_fill(cr);
	/* Dark runs of each row as rectangles in one path: one fill, so
	   that adjacent modules meet without antialiasing seams. */
	for (r = 0; r < w; r++)
		for (c = 0; c < w; ) {
			if (!(qr->data[r * w + c] & 1)) {
				c++;
				continue;
			}
			for (c0 = c; c < w && (qr->data[r * w + c] & 1); c++)
				;
			cairo_rectangle(cr, x + (AF_QUIET + c0) * m,
			    y + (AF_QUIET + r) * m, (c - c0) * m, m);
		}
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_fill(cr);
	cairo_restore(cr);
	QRcode_free(qr);
	return 0;
}

double
af_code_size(const char *text)
{
	QRcode	*qr;
	int	 w;

	if ((qr = af_encode(text)) == NULL)
		return -1;
	w = qr->width;
	QRcode_free(qr);
	return (w + 2 * AF_QUIET) * AF_MODULE_PT;
}
