/*
 * The anti-forgery layers of a printed document (DOMAIN.md §2.4), drawn
 * with cairo in points (1/72 inch) on any surface: PDF for printing,
 * images for tests.
 *
 * - af_pantograph(): the void pantograph (地紋) with the latent warning
 *   word 「複写」: large dots for the word, fine dots for the field, at
 *   equal tone, under a camouflage pattern; hidden on the original, it
 *   emerges on a photocopy.
 * - af_microtext(): a line of microtext (the municipality's name repeated
 *   at <= 1 pt) that a copy turns into a plain line.
 * - af_code(): the signed document code (doccode.h) as a QR code.
 */
#ifndef KIOSK_ANTIFORGERY_H
#define KIOSK_ANTIFORGERY_H

#include <cairo.h>

/* Fill the rectangle with the pantograph; word NULL: 「複写」. */
void	af_pantograph(cairo_t *, double x, double y, double w, double h,
	    const char *word);
/* Microtext from (x0, y) to (x1, y), text repeated, size_pt <= 1.0. */
void	af_microtext(cairo_t *, double x0, double y, double x1,
	    const char *text, double size_pt);
/* The QR code of text, size x size points at (x, y), quiet zone
   included: 0, or -1 (text too long, encoder failure). */
int	af_code(cairo_t *, double x, double y, double size, const char *text);
/* The side of the code for text in points at the module size the
   printed code needs to scan from a 300 dpi copy (>= 0.5 mm/module):
   > 0, or -1. */
double	af_code_size(const char *text);

/* The printed module: 6 px at 300 dpi (0.508 mm), 4 px at 200 dpi. */
#define AF_MODULE_PT	(6 * 72.0 / 300.0)
#define AF_QUIET	4		/* modules of quiet zone each side */

/*
 * The pantograph's geometry, in points, for tests and tuning: dots of
 * side *_dot on a *_pitch grid; tile a multiple of both pitches, also
 * the period of the camouflage rings (camo_width 0: none); word_size the
 * font size of the word.  af_pantograph() uses af_pantograph_default.
 */
struct af_pantograph_style {
	double	field_dot, field_pitch;
	double	word_dot, word_pitch;
	double	camo_width;
	double	tile;
	double	word_size;
};
extern const struct af_pantograph_style af_pantograph_default;
void	af_pantograph_styled(cairo_t *, double x, double y, double w,
	    double h, const char *word, const struct af_pantograph_style *);

#endif
