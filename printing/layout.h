/*
 * The page and table engine under the document layouts (render.h).
 * A document is a list of table rows; each row is cells laid side by
 * side across the table width.  Text is fitted into its cell when the
 * row is added (shrunk, then wrapped; never clipped: the row grows), rows
 * are split into pages keeping blocks together, and each page is drawn
 * with the same frame: title, issuance number, コンビニ交付 and the kiosk,
 * page number, the anti-forgery layers and the document code; the last
 * page ends with 以下余白, the certification, the date of issue, the
 * mayor and the official seal.
 *
 * Units are points (1/72 in); text is measured once, in one pango
 * context at 72 dpi without hinting, so every surface gets the same
 * layout and a PDF is the same bytes for the same input.
 */
#ifndef KIOSK_LAYOUT_H
#define KIOSK_LAYOUT_H

#include <stddef.h>

#include <cairo.h>
#include <jansson.h>
#include <pango/pangocairo.h>

#define L_PAGE_W	595.276		/* A4 */
#define L_PAGE_H	841.890
#define L_X0		42.0		/* table left */
#define L_TW		511.0		/* table width */
#define L_PAGES_MAX	100
#define L_ROWS_MAX	4000
#define L_CELLS_MAX	8
#define L_TEXT_MAX	1024		/* bytes of one field */
#define L_PAD_X		3.0		/* text inside a cell */
#define L_PAD_Y		2.5
#define L_BODY_TOP	102.0		/* the table starts here */
#define L_MARK_H	16.0		/* 次頁に続く / 以下余白 */
#define L_FOOTER_H	70.0		/* certification and date */
#define L_BAND_MIN	76.0		/* code, mayor and seal band */

/* Cell flags. */
#define LC_LABEL	0x0001	/* a label: centred */
#define LC_CENTER	0x0002
#define LC_RIGHT	0x0004
#define LC_SHRINK	0x0008	/* shrink to one line before wrapping */
#define LC_NOTOP	0x0010	/* continues the cell above (no rule) */
#define LC_BOLD		0x0040	/* IPAexGothic (else the serif) */
#define LC_IMAGE	0x0080	/* draw the row's image in this cell */
#define LC_MULTI	0x0100	/* lines of their own: wrap, never shrink */

/* Row flags. */
#define LR_KEEP		0x0001	/* keep with the next row on one page */
#define LR_HEAVY	0x0002	/* a heavy rule above: a new record */
#define LR_FREE		0x0004	/* no rules: a line of text */

struct lcell {
	double		 x, w;		/* from the table's left edge */
	int		 flags;
	double		 size;		/* the size used, pt */
	PangoLayout	*pl;		/* NULL: empty */
	double		 tw, th;	/* the text's logical extent */
};

struct lrow {
	struct lcell	 cells[L_CELLS_MAX];
	int		 ncells;
	int		 flags;
	double		 h;
	cairo_surface_t	*image;		/* LC_IMAGE cell's picture */
};

struct ldoc {
	PangoContext	*pctx;
	PangoFontDescription *serif, *sans;
	/* the frame */
	char		 title[256];
	char		 municipality[L_TEXT_MAX];
	char		 mayor[L_TEXT_MAX];
	char		 seal_text[L_TEXT_MAX];
	char		 certification[L_TEXT_MAX];
	char		 issued[64];		/* 令和7年11月25日 */
	char		 issuance_id[64];
	char		 kiosk_id[128];
	char		 code[512];		/* "": no code */
	int		 plain;
	double		 code_size;
	/* the table */
	struct lrow	*rows;
	size_t		 nrows, cap;
	/* pagination: rows [page_start[p], page_start[p + 1]) */
	size_t		 page_start[L_PAGES_MAX + 1];
	int		 npages;
	/* checks: cells whose text would not fit (never, if all is well) */
	int		 ncells;
	int		 overflows;
	double		 min_size;
	/* the first error */
	int		 failed;
	char		 err[256];
};

/* Set up (fonts, context); -1 with d->err. */
int	ldoc_init(struct ldoc *);
void	ldoc_free(struct ldoc *);
/* Record the first error (printf-style); always returns -1. */
int	ldoc_fail(struct ldoc *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* A new row (NULL after an error: check d->failed at the end). */
struct lrow *ldoc_row(struct ldoc *, int flags);
/*
 * A cell of the current row at x (from the table's left) and width w:
 * text (NULL or "" empty) at size pt, fitted now.
 */
void	ldoc_cell(struct ldoc *, struct lrow *, double x, double w,
	    const char *text, double size, int flags);
/* A layout of text at size in the cell flags' font, wrapped at w (-1:
   no wrap); NULL when out of memory. */
PangoLayout *ldoc_text(struct ldoc *, const char *text, double size,
	    int flags, double w);
/* Give a row at least this height (an image cell). */
void	ldoc_row_min(struct lrow *, double h);

/* The band at the bottom of every page (code, kiosk, mayor and seal),
   and where the table must end above it. */
double	ldoc_band_top(const struct ldoc *);
double	ldoc_body_bottom(const struct ldoc *);
/* Split into pages: 0, or -1 (a record too long, too many pages). */
int	ldoc_paginate(struct ldoc *);
/* Draw page p (0-based) on cr in points. */
void	ldoc_draw_page(struct ldoc *, cairo_t *, int p);

/* The official seal (公印): a red square with text, in vector. */
void	layout_seal(struct ldoc *, cairo_t *, double x, double y,
	    double side, const char *text);
/* "東京都みどり市" → "みどり市長之印" into buf. */
void	layout_seal_text(const char *municipality, char *buf, size_t size);
/* The municipality without its prefecture ("みどり市"), and the
   prefecture ("東京都", "" when none): pointers into name / static. */
const char *layout_local_name(const char *municipality);
const char *layout_prefecture(const char *municipality);

/* --- content access: each records the first error in d, and returns a
 * harmless value ("" / 0 / NULL) so a builder can run on and check
 * d->failed once. --------------------------------------------------- */
const char *lj_str(struct ldoc *, json_t *o, const char *key,
	    const char *where);
/* Absent or null: NULL. */
const char *lj_opt(struct ldoc *, json_t *o, const char *key,
	    const char *where);
long long lj_int(struct ldoc *, json_t *o, const char *key,
	    const char *where, long long min, long long max);
int	lj_bool(struct ldoc *, json_t *o, const char *key, const char *where);
json_t	*lj_obj(struct ldoc *, json_t *o, const char *key, const char *where);
json_t	*lj_arr(struct ldoc *, json_t *o, const char *key, const char *where,
	    size_t max);
/* A "YYYY-MM-DD" field as the forms print it (令和7年11月25日); null
   allowed when nullable ("" then). */
const char *lj_date(struct ldoc *, json_t *o, const char *key,
	    const char *where, int nullable, char *buf, size_t size);
/* A person's printed name: name_substitute when present, else name. */
const char *lj_name(struct ldoc *, json_t *o, const char *where);
/* A yen amount with digit grouping: "5,290,000円". */
void	layout_yen(long long v, char *buf, size_t size);

/* --- the PDF's document information (layout_pdfinfo.c) -------------- */
struct pdfbuf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 failed;
};
int	pdfbuf_add(struct pdfbuf *, const void *, size_t);
/* A cairo_write_func_t into a pdfbuf. */
cairo_status_t pdfbuf_write(void *closure, const unsigned char *,
	    unsigned int);

#define PDFINFO_MAX	8
struct pdfinfo {
	const char	*keys[PDFINFO_MAX];	/* names without the slash */
	const char	*values[PDFINFO_MAX];	/* UTF-8 */
	unsigned	 dates;		/* bit i: values[i] is RFC 3339 UTC */
	size_t		 n;
};
/* Append an incremental update whose Info dictionary holds these keys
   (and /Producer) to the finished PDF in b: 0, or -1. */
int	layout_pdf_info(struct pdfbuf *, const struct pdfinfo *);

/* --- the document families ----------------------------------------- */
int	layout_juminhyo(struct ldoc *, json_t *body, int kisai);
int	layout_inkan(struct ldoc *, json_t *body);
int	layout_koseki(struct ldoc *, json_t *body, int kojin);
int	layout_fuhyo(struct ldoc *, json_t *body);
int	layout_tax(struct ldoc *, json_t *body);

#endif
