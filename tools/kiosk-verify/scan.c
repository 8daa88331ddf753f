/*
 * Images for kiosk-verify (scan.h).  PNG through cairo, JPEG through
 * libjpeg (with an error handler that returns instead of exiting), a
 * PDF page through poppler's cairo renderer; then zbar over the gray
 * pixels.  Image sizes are bounded before anything is allocated.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <jpeglib.h>
#include <poppler.h>
#include <zbar.h>

#include "scan.h"

#define MAX_SIDE	20000
#define MAX_PIXELS	(200 * 1000 * 1000)	/* an A3 at 1200 dpi */

static int
size_ok(long w, long h)
{
	return w > 0 && h > 0 && w <= MAX_SIDE && h <= MAX_SIDE &&
	    w * h <= MAX_PIXELS;
}

void
scan_free(struct gray_image *g)
{
	free(g->px);
	g->px = NULL;
	g->w = g->h = 0;
}

/* ARGB32 or RGB24 onto white, to gray. */
static int
gray_from_surface(cairo_surface_t *s, struct gray_image *g)
{
	unsigned char	*d;
	uint32_t	 p, a, r, gr, b;
	int		 x, y, stride;
	cairo_format_t	 fmt;

	cairo_surface_flush(s);
	fmt = cairo_image_surface_get_format(s);
	if (fmt != CAIRO_FORMAT_ARGB32 && fmt != CAIRO_FORMAT_RGB24)
		return -1;
	g->w = cairo_image_surface_get_width(s);
	g->h = cairo_image_surface_get_height(s);
	if (!size_ok(g->w, g->h) ||
	    (g->px = malloc((size_t)g->w * g->h)) == NULL)
		return -1;
	d = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);
	for (y = 0; y < g->h; y++)
		for (x = 0; x < g->w; x++) {
			memcpy(&p, d + (size_t)y * stride + 4 * (size_t)x, 4);
			a = fmt == CAIRO_FORMAT_ARGB32 ? p >> 24 : 255;
			/* Premultiplied: over white adds 255 - a. */
			r = ((p >> 16) & 0xff) + 255 - a;
			gr = ((p >> 8) & 0xff) + 255 - a;
			b = (p & 0xff) + 255 - a;
			g->px[(size_t)y * g->w + x] = (unsigned char)
			    ((299 * r + 587 * gr + 114 * b + 500) / 1000);
		}
	return 0;
}

struct reader {
	const unsigned char	*d;
	size_t			 len, pos;
};

static cairo_status_t
png_read(void *closure, unsigned char *data, unsigned int len)
{
	struct reader	*r = closure;

	if (r->len - r->pos < len)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, r->d + r->pos, len);
	r->pos += len;
	return CAIRO_STATUS_SUCCESS;
}

/* The PNG header's size, before cairo allocates for it. */
static int
png_header_size(const unsigned char *d, size_t len, long *w, long *h)
{
	if (len < 24 || memcmp(d + 12, "IHDR", 4) != 0)
		return -1;
	*w = (long)d[16] << 24 | (long)d[17] << 16 | (long)d[18] << 8 | d[19];
	*h = (long)d[20] << 24 | (long)d[21] << 16 | (long)d[22] << 8 | d[23];
	return 0;
}

int
scan_load_png(const unsigned char *d, size_t len, struct gray_image *g,
    char *err, size_t errlen)
{
	struct reader	 r = { d, len, 0 };
	cairo_surface_t	*s;
	long		 w, h;
	int		 rc;

	memset(g, 0, sizeof(*g));
	if (png_header_size(d, len, &w, &h) == -1 || !size_ok(w, h)) {
		snprintf(err, errlen, "PNG header unreadable or image too "
		    "large");
		return -1;
	}
	s = cairo_image_surface_create_from_png_stream(png_read, &r);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "PNG unreadable: %s",
		    cairo_status_to_string(cairo_surface_status(s)));
		cairo_surface_destroy(s);
		return -1;
	}
	rc = gray_from_surface(s, g);
	cairo_surface_destroy(s);
	if (rc == -1)
		snprintf(err, errlen, "PNG: unsupported pixel format or size");
	return rc;
}

struct jerr {
	struct jpeg_error_mgr	 mgr;
	jmp_buf			 jmp;
	char			 msg[JMSG_LENGTH_MAX];
};

static void
jpeg_fail(j_common_ptr cinfo)
{
	struct jerr	*e = (struct jerr *)cinfo->err;

	(*cinfo->err->format_message)(cinfo, e->msg);
	longjmp(e->jmp, 1);
}

static void
jpeg_quiet(j_common_ptr cinfo, int level)
{
	(void)cinfo;
	(void)level;
}

int
scan_load_jpeg(const unsigned char *d, size_t len, struct gray_image *g,
    char *err, size_t errlen)
{
	struct jpeg_decompress_struct	 ci;
	struct jerr			 je;
	unsigned char *volatile		 px = NULL;
	JSAMPROW			 row;

	memset(g, 0, sizeof(*g));
	if (len > (unsigned long)-1) {
		snprintf(err, errlen, "JPEG too large");
		return -1;
	}
	memset(&je, 0, sizeof(je));
	ci.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jpeg_fail;
	je.mgr.emit_message = jpeg_quiet;
	if (setjmp(je.jmp)) {
		snprintf(err, errlen, "JPEG unreadable: %s", je.msg);
		jpeg_destroy_decompress(&ci);
		free(px);
		return -1;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, d, (unsigned long)len);
	if (jpeg_read_header(&ci, TRUE) != JPEG_HEADER_OK) {
		jpeg_destroy_decompress(&ci);
		snprintf(err, errlen, "JPEG header unreadable");
		return -1;
	}
	if (!size_ok((long)ci.image_width, (long)ci.image_height)) {
		jpeg_destroy_decompress(&ci);
		snprintf(err, errlen, "JPEG too large");
		return -1;
	}
	ci.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&ci);
	if (ci.output_components != 1 ||
	    (px = malloc((size_t)ci.output_width * ci.output_height)) ==
	    NULL) {
		jpeg_destroy_decompress(&ci);
		snprintf(err, errlen, "JPEG: cannot decode to gray");
		return -1;
	}
	while (ci.output_scanline < ci.output_height) {
		row = px + (size_t)ci.output_scanline * ci.output_width;
		if (jpeg_read_scanlines(&ci, &row, 1) != 1)
			break;
	}
	g->w = (int)ci.output_width;
	g->h = (int)ci.output_height;
	g->px = px;
	jpeg_finish_decompress(&ci);
	jpeg_destroy_decompress(&ci);
	return 0;
}

int
scan_render_page(PopplerPage *page, double dpi, struct gray_image *g,
    char *err, size_t errlen)
{
	cairo_surface_t	*s;
	cairo_t		*cr;
	double		 pw, ph, w, h;
	int		 rc;

	memset(g, 0, sizeof(*g));
	poppler_page_get_size(page, &pw, &ph);
	w = ceil(pw * dpi / 72);
	h = ceil(ph * dpi / 72);
	if (!(w >= 1 && h >= 1 && w <= MAX_SIDE && h <= MAX_SIDE &&
	    w * h <= MAX_PIXELS)) {
		snprintf(err, errlen, "page size %.0f x %.0f pt out of range",
		    pw, ph);
		return -1;
	}
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)w, (int)h);
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, dpi / 72, dpi / 72);
	poppler_page_render(page, cr);
	rc = cairo_status(cr) == CAIRO_STATUS_SUCCESS ? 0 : -1;
	cairo_destroy(cr);
	if (rc == 0)
		rc = gray_from_surface(s, g);
	cairo_surface_destroy(s);
	if (rc == -1)
		snprintf(err, errlen, "cannot render the page");
	return rc;
}

int
scan_codes(const struct gray_image *g, struct scan_codes *out)
{
	zbar_image_scanner_t	*sc;
	zbar_image_t		*img;
	const zbar_symbol_t	*sym;
	unsigned int		 n;
	const char		*data;

	out->n = 0;
	if (g->px == NULL || g->w <= 0 || g->h <= 0)
		return 0;
	if ((sc = zbar_image_scanner_create()) == NULL)
		return 0;
	zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	/* Bytes as they are: no guessing of a text encoding. */
	zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_BINARY, 1);
	img = zbar_image_create();
	zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(img, (unsigned)g->w, (unsigned)g->h);
	zbar_image_set_data(img, g->px, (unsigned long)g->w * g->h, NULL);
	if (zbar_scan_image(sc, img) > 0)
		for (sym = zbar_image_first_symbol(img); sym != NULL &&
		    out->n < SCAN_MAX_CODES; sym = zbar_symbol_next(sym)) {
			if (zbar_symbol_get_type(sym) != ZBAR_QRCODE)
				continue;
			n = zbar_symbol_get_data_length(sym);
			data = zbar_symbol_get_data(sym);
			if (n > SCAN_CODE_MAX || memchr(data, '\0', n) != NULL)
				continue;
			memcpy(out->text[out->n], data, n);
			out->text[out->n][n] = '\0';
			out->n++;
		}
	zbar_image_destroy(img);
	zbar_image_scanner_destroy(sc);
	return out->n;
}
