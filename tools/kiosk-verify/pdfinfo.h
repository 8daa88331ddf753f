/*
 * Read a string from a PDF's document information dictionary: the one
 * the newest trailer names, found through the cross-reference tables
 * (classic "xref" sections, following /Prev).  Enough for the PDFs
 * kioskd writes (cairo); a file re-saved with cross-reference streams
 * reads as "not found".  Input is untrusted: every offset is checked.
 */
#ifndef KIOSK_PDFINFO_H
#define KIOSK_PDFINFO_H

#include <stddef.h>

/*
 * The value of key (a name without the slash, e.g. "KioskContent"):
 * 1 and a malloc'd NUL-terminated copy in *out (its length in *outlen;
 * UTF-16BE strings converted to UTF-8), 0 when the dictionary has no
 * such key, -1 when the file's structure cannot be read.
 */
int	pdfinfo_string(const unsigned char *pdf, size_t len, const char *key,
	    char **out, size_t *outlen);

#endif
