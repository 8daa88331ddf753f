/*
 * Drawing a page: the frame every page shares, the table rows, and on
 * the last page the certification with the date of issue, the mayor and
 * the official seal.  Plan of a page (points, A4 595 x 842):
 *
 *	 24  コンビニ交付 (box, left)           発行番号 (right)
 *	 44  the title, centred
 *	 88  microtext (municipality), under the title
 *	102  the table ... 次頁に続く / 以下余白
 *	     last page, above the band: microtext, certification, date
 *	band the document code (left), kiosk and issuance beside it; on
 *	     the last page the mayor and the seal (right)
 *	820  page number (centre)
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "antiforgery.h"
#include "layout.h"

#define RULE		0.6
#define RULE_HEAVY	1.4
#define MICRO_PT	0.8

static const double seal_red[3] = { 0.80, 0.08, 0.10 };

/* One piece of text in a box of width w at (x, y); its height. */
static double
text_at(struct ldoc *d, cairo_t *cr, double x, double y, double w,
    const char *text, double size, int flags)
{
	PangoLayout *pl;
	double tw, th;
	PangoRectangle lg;

	if ((pl = ldoc_text(d, text, size, flags, w)) == NULL)
		return 0;
	pango_layout_get_extents(pl, NULL, &lg);
	tw = (double)lg.width / PANGO_SCALE;
	th = (double)lg.height / PANGO_SCALE;
	(void)tw;
	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, pl);
	g_object_unref(pl);
	return th;
}

static void
hline(cairo_t *cr, double x0, double x1, double y, double width)
{
	cairo_set_line_width(cr, width);
	cairo_move_to(cr, x0, y);
	cairo_line_to(cr, x1, y);
	cairo_stroke(cr);
}

static void
vline(cairo_t *cr, double x, double y0, double y1)
{
	cairo_set_line_width(cr, RULE);
	cairo_move_to(cr, x, y0);
	cairo_line_to(cr, x, y1);
	cairo_stroke(cr);
}

static void
draw_image(cairo_t *cr, cairo_surface_t *img, double x, double y, double w,
    double h)
{
	double iw = cairo_image_surface_get_width(img);
	double ih = cairo_image_surface_get_height(img);
	double s, side;

	if (iw <= 0 || ih <= 0)
		return;
	side = (w < h ? w : h) - 8;
	s = side / (iw > ih ? iw : ih);
	cairo_save(cr);
	cairo_translate(cr, x + (w - iw * s) / 2, y + (h - ih * s) / 2);
	cairo_scale(cr, s, s);
	cairo_set_source_surface(cr, img, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
	cairo_paint(cr);
	cairo_restore(cr);
}

/* One row at y: rules (top unless continued, sides), texts, image. */
static void
draw_row(cairo_t *cr, const struct lrow *r, double y, int first,
    int close)
{
	const struct lcell *c;
	double x;
	int i;

	cairo_set_source_rgb(cr, 0, 0, 0);
	for (i = 0; i < r->ncells; i++) {
		c = &r->cells[i];
		x = L_X0 + c->x;
		if (!(r->flags & LR_FREE)) {
			if (!(c->flags & LC_NOTOP) || first ||
			    (r->flags & LR_HEAVY))
				hline(cr, x, x + c->w, y, (r->flags & LR_HEAVY) ?
				    RULE_HEAVY : RULE);
			vline(cr, x, y, y + r->h);
			vline(cr, x + c->w, y, y + r->h);
		}
		if ((c->flags & LC_IMAGE) && r->image != NULL)
			draw_image(cr, r->image, x, y, c->w, r->h);
		if (c->pl != NULL) {
			cairo_move_to(cr, x + L_PAD_X, y + (r->h - c->th) / 2);
			pango_cairo_show_layout(cr, c->pl);
		}
	}
	if (close && !(r->flags & LR_FREE))
		hline(cr, L_X0, L_X0 + L_TW, y + r->h, RULE);
}

static void
draw_header(struct ldoc *d, cairo_t *cr)
{
	PangoLayout *pl;
	PangoAttrList *al;
	char buf[128];
	double tw;
	PangoRectangle lg;

	cairo_set_source_rgb(cr, 0, 0, 0);
	/* コンビニ交付, boxed, as the real forms mark it */
	cairo_set_line_width(cr, 0.8);
	cairo_rectangle(cr, L_X0, 24, 62, 15);
	cairo_stroke(cr);
	(void)text_at(d, cr, L_X0, 26, 62, "コンビニ交付", 8,
	    LC_CENTER);
	(void)snprintf(buf, sizeof(buf), "発行番号　%s", d->issuance_id);
	(void)text_at(d, cr, L_X0 + L_TW - 260, 27, 260, buf, 7.5,
	    LC_RIGHT);
	/* the title, letter-spaced */
	if ((pl = ldoc_text(d, d->title, 20, LC_BOLD | LC_CENTER, -1)) != NULL) {
		if ((al = pango_attr_list_new()) != NULL) {
			pango_attr_list_insert(al,
			    pango_attr_letter_spacing_new(6 * PANGO_SCALE));
			pango_layout_set_attributes(pl, al);
			pango_attr_list_unref(al);
		}
		pango_layout_get_extents(pl, NULL, &lg);
		tw = (double)lg.width / PANGO_SCALE;
		cairo_move_to(cr, L_X0 + (L_TW - tw) / 2, 44);
		pango_cairo_show_layout(cr, pl);
		g_object_unref(pl);
	}
	if (!d->plain)
		af_microtext(cr, L_X0, 88, L_X0 + L_TW, d->municipality,
		    MICRO_PT);
}

/* The certification and the date of issue, above the band. */
static void
draw_footer(struct ldoc *d, cairo_t *cr, double y)
{
	cairo_set_source_rgb(cr, 0, 0, 0);
	if (!d->plain)
		af_microtext(cr, L_X0, y + 4, L_X0 + L_TW, d->municipality,
		    MICRO_PT);
	y += 12;
	y += text_at(d, cr, L_X0 + 14, y, L_TW - 28, d->certification, 11, 0);
	y += 4;
	(void)text_at(d, cr, L_X0 + 14, y, L_TW - 28, d->issued, 11, 0);
}

/*
 * The band: the document code at the left, the kiosk and the issuance
 * number beside it, the page number; on the last page the mayor's name
 * at the right with the official seal stamped over its end.
 */
static void
draw_band(struct ldoc *d, cairo_t *cr, int p)
{
	char buf[256];
	double top = ldoc_band_top(d), tx = L_X0, bh, mid, side = 60;

	bh = L_PAGE_H - 26 - top;
	mid = top + bh / 2;
	cairo_set_source_rgb(cr, 0, 0, 0);
	if (d->code[0] != '\0') {
		(void)af_code(cr, L_X0, top, d->code_size, d->code);
		tx = L_X0 + d->code_size + 8;
	}
	(void)snprintf(buf, sizeof(buf), "コンビニ交付　交付端末 %s",
	    d->kiosk_id[0] != '\0' ? d->kiosk_id : "-");
	(void)text_at(d, cr, tx, top + 2, 240, buf, 7.5, 0);
	(void)snprintf(buf, sizeof(buf), "発行番号 %s", d->issuance_id);
	(void)text_at(d, cr, tx, top + 13, 240, buf, 7, 0);
	(void)snprintf(buf, sizeof(buf), "%d/%d", p + 1, d->npages);
	(void)text_at(d, cr, L_X0, L_PAGE_H - 22, L_TW, buf, 9,
	    LC_CENTER);
	if (p != d->npages - 1)
		return;
	(void)text_at(d, cr, tx, mid - 2, L_X0 + L_TW - 52 - tx, d->mayor, 14,
	    LC_RIGHT | LC_SHRINK);
	layout_seal(d, cr, L_X0 + L_TW - side, mid + 9 - side / 2, side,
	    d->seal_text);
}

void
ldoc_draw_page(struct ldoc *d, cairo_t *cr, int p)
{
	size_t i, start, end;
	double y = L_BODY_TOP;
	int last = p == d->npages - 1;

	if (p < 0 || p >= d->npages)
		return;
	start = d->page_start[p];
	end = last ? d->nrows : d->page_start[p + 1];
	cairo_save(cr);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	if (!d->plain)
		af_pantograph(cr, 18, 18, L_PAGE_W - 36, L_PAGE_H - 36, NULL);
	draw_header(d, cr);
	for (i = start; i < end; i++) {
		draw_row(cr, &d->rows[i], y, i == start, i + 1 == end ||
		    (d->rows[i + 1].flags & LR_FREE));
		y += d->rows[i].h;
	}
	cairo_set_source_rgb(cr, 0, 0, 0);
	(void)text_at(d, cr, L_X0, y + 3, L_TW, last ? "以下余白" :
	    "次頁に続く", 9, LC_RIGHT);
	if (last)
		draw_footer(d, cr, ldoc_body_bottom(d) - L_FOOTER_H);
	draw_band(d, cr, p);
	cairo_restore(cr);
}

/* --- the official seal ---------------------------------------------- */

/* The next UTF-8 character's length (the input is valid UTF-8). */
static size_t
u8len(const char *s)
{
	unsigned char c = (unsigned char)*s;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	return 4;
}

#define SEAL_CHARS_MAX	16

/*
 * Columns read right to left, each top to bottom, as official seals
 * are cut: n characters in ceil(sqrt(n)) columns, the first columns
 * taking the extra ones; each character stretched to its box.
 */
void
layout_seal(struct ldoc *d, cairo_t *cr, double x, double y, double side,
    const char *text)
{
	const char *chars[SEAL_CHARS_MAX];
	size_t lens[SEAL_CHARS_MAX], n = 0, k = 0, l;
	int ncols, col, per, extra, rows, r;
	double inner = side - 10, cw, ch, tw, th;
	char one[8];
	PangoLayout *pl;
	PangoRectangle lg;
	const char *p;

	for (p = text; *p != '\0' && n < SEAL_CHARS_MAX; p += l) {
		l = u8len(p);
		if (strnlen(p, l) < l)
			break;
		chars[n] = p;
		lens[n++] = l;
	}
	cairo_save(cr);
	cairo_set_source_rgb(cr, seal_red[0], seal_red[1], seal_red[2]);
	cairo_set_line_width(cr, 2.4);
	cairo_rectangle(cr, x + 1.2, y + 1.2, side - 2.4, side - 2.4);
	cairo_stroke(cr);
	cairo_set_line_width(cr, 0.7);
	cairo_rectangle(cr, x + 3.6, y + 3.6, side - 7.2, side - 7.2);
	cairo_stroke(cr);
	if (n == 0) {
		cairo_restore(cr);
		return;
	}
	ncols = (int)ceil(sqrt((double)n));
	per = (int)n / ncols;
	extra = (int)n % ncols;
	cw = inner / ncols;
	for (col = 0; col < ncols; col++) {
		rows = per + (col < extra ? 1 : 0);
		if (rows == 0)
			continue;
		ch = inner / rows;
		for (r = 0; r < rows && k < n; r++, k++) {
			memcpy(one, chars[k], lens[k]);
			one[lens[k]] = '\0';
			if ((pl = ldoc_text(d, one, 20, LC_BOLD, -1)) == NULL)
				continue;
			pango_layout_get_extents(pl, NULL, &lg);
			tw = (double)lg.width / PANGO_SCALE;
			th = (double)lg.height / PANGO_SCALE;
			if (tw > 0 && th > 0) {
				cairo_save(cr);
				cairo_translate(cr, x + 5 + inner - (col + 1) *
				    cw, y + 5 + r * ch);
				/* the em box is ~0.72 of the line height */
				cairo_scale(cr, cw / tw, ch / (th * 0.78));
				cairo_translate(cr, 0, -th * 0.11);
				cairo_move_to(cr, 0, 0);
				pango_cairo_show_layout(cr, pl);
				cairo_restore(cr);
			}
			g_object_unref(pl);
		}
	}
	cairo_restore(cr);
}

static const char *const prefectures[] = {
	"北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県",
	"茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県",
	"新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県",
	"静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県",
	"奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県",
	"徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県",
	"熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
};

const char *
layout_prefecture(const char *m)
{
	size_t i, l;

	for (i = 0; i < sizeof(prefectures) / sizeof(prefectures[0]); i++) {
		l = strlen(prefectures[i]);
		if (strncmp(m, prefectures[i], l) == 0 && m[l] != '\0')
			return prefectures[i];
	}
	return "";
}

const char *
layout_local_name(const char *m)
{
	return m + strlen(layout_prefecture(m));
}

void
layout_seal_text(const char *m, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s長之印", layout_local_name(m));
}
