/*
 * Images for kiosk-verify: a PNG or JPEG file, or a PDF page rendered
 * by poppler, as 8-bit gray, and the QR codes zbar finds in it.
 */
#ifndef KIOSK_SCAN_H
#define KIOSK_SCAN_H

#include <stddef.h>

#include <poppler.h>

struct gray_image {
	unsigned char	*px;		/* w * h bytes, 0 black .. 255 white */
	int		 w, h;
};

#define SCAN_MAX_CODES	8
#define SCAN_CODE_MAX	1024

struct scan_codes {
	int	n;
	char	text[SCAN_MAX_CODES][SCAN_CODE_MAX + 1];
};

/* 0, or -1 with err filled (not an image, corrupt, too large). */
int	scan_load_png(const unsigned char *, size_t, struct gray_image *,
	    char *err, size_t errlen);
int	scan_load_jpeg(const unsigned char *, size_t, struct gray_image *,
	    char *err, size_t errlen);
/* Page of doc at dpi onto white: 0, or -1 with err filled. */
int	scan_render_page(PopplerPage *, double dpi, struct gray_image *,
	    char *err, size_t errlen);
void	scan_free(struct gray_image *);
/* The QR codes in the image (binary-safe texts of <= SCAN_CODE_MAX
   bytes without NUL; longer ones are skipped): their number. */
int	scan_codes(const struct gray_image *, struct scan_codes *);

#endif
