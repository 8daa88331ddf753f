/*
 * Rendering a document to A4 PDF (cairo + pango): one layout per document
 * type, the anti-forgery layers (antiforgery.h) and the signed document
 * code (doccode.h) on every page.
 *
 * Input: the exact signed content bytes (the UTF-8 JSON of center/API.md
 * "The signed content").  The PDF also carries, in its document info
 * dictionary, the content (key "KioskContent", base64) and the code text
 * (key "KioskCode"), so that kiosk-verify can re-render and compare.
 * Output is deterministic for the same input and options (no timestamps
 * that vary: the creation date is the content's issued_at).
 */
#ifndef KIOSK_RENDER_H
#define KIOSK_RENDER_H

#include <stddef.h>

#include <cairo.h>

struct render_opts {
	const char	*kiosk_id;	/* "S0001-T01": printed with コンビニ交付 */
	const char	*code;		/* doccode_format() text; NULL: no code */
	int		 plain;		/* 1: no pantograph/microtext (tests) */
};

/* Render to a PDF file: the number of pages, or -1 with err filled. */
int	render_pdf_file(const char *content, size_t len,
	    const struct render_opts *, const char *path, char *err,
	    size_t errlen);
/* Render to a stream (cairo_pdf_surface_create_for_stream). */
int	render_pdf_stream(const char *content, size_t len,
	    const struct render_opts *, cairo_write_func_t write, void *closure,
	    char *err, size_t errlen);
/* Render page 'page' (0-based) to an ARGB image at dpi (tests, previews):
   a new surface, or NULL with err filled.  (dpi from 10 to 600.) */
cairo_surface_t *render_page_image(const char *content, size_t len,
	    const struct render_opts *, int page, double dpi, char *err,
	    size_t errlen);

/*
 * Added with the layouts: the most content bytes rendered; whether a
 * document type has a layout; and a dry run that lays the document out
 * without drawing (the page count for the print job and the center's
 * result, and the fitting checks the tests assert on).
 */
#define RENDER_CONTENT_MAX	(1024 * 1024)

struct render_stats {
	int	pages;
	int	rows;
	int	cells;		/* cells holding text */
	int	overflows;	/* of them, text wider than its cell: 0 */
	double	min_size;	/* the smallest text size used, pt */
};

int	render_document_known(const char *type);
/* Release pango's font map shared by every render, before exit, so
   leak checkers see only real leaks; no render may run afterwards.
   (fontconfig's own caches stay: FcFini() asserts while cairo's font
   cache still holds a face.) */
void	render_cleanup(void);
/* The number of pages, or -1 with err filled. */
int	render_measure(const char *content, size_t len,
	    const struct render_opts *, struct render_stats *, char *err,
	    size_t errlen);

#endif
