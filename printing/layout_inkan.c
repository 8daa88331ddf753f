/*
 * 印鑑登録証明書: the registered seal's impression (the PNG image the
 * center sends) beside the registration number, then the person: name
 * with its reading, birth, sex, address, and the date of registration.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "layout.h"

#define LW		58.0
#define SEAL_B64_MAX	(4 * ((64 * 1024 + 2) / 3))	/* 64 KiB image */
#define SEAL_PX_MAX	2048

struct pngsrc {
	const uint8_t	*p;
	size_t		 len, off;
};

static cairo_status_t
png_read(void *closure, unsigned char *data, unsigned int n)
{
	struct pngsrc *s = closure;

	if (s->len - s->off < n)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, s->p + s->off, n);
	s->off += n;
	return CAIRO_STATUS_SUCCESS;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The seal image: checked header first, so no size reaches the decoder. */
static cairo_surface_t *
seal_image(struct ldoc *d, json_t *body)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };
	uint8_t *png = NULL;
	json_t *img;
	const char *type, *b64;
	size_t len, pad = 0;
	int n;
	struct pngsrc src;
	cairo_surface_t *s;

	if ((img = lj_obj(d, body, "seal_image", "body")) == NULL)
		return NULL;
	type = lj_str(d, img, "type", "body.seal_image");
	if (!json_is_string(json_object_get(img, "data")) && !d->failed) {
		(void)ldoc_fail(d, "body.seal_image.data: missing");
		return NULL;
	}
	if (d->failed)
		return NULL;
	if (strcmp(type, "image/png") != 0) {
		(void)ldoc_fail(d, "body.seal_image.type: not image/png");
		return NULL;
	}
	b64 = json_string_value(json_object_get(img, "data"));
	len = strlen(b64);
	if (len == 0 || len % 4 != 0 || len > SEAL_B64_MAX) {
		(void)ldoc_fail(d, "body.seal_image.data: not base64 of at "
		    "most 64 KiB");
		return NULL;
	}
	if (b64[len - 1] == '=')
		pad++;
	if (b64[len - 2] == '=')
		pad++;
	if ((png = malloc(len / 4 * 3)) == NULL) {
		(void)ldoc_fail(d, "out of memory");
		return NULL;
	}
	if ((n = EVP_DecodeBlock(png, (const unsigned char *)b64,
	    (int)len)) < 0 || (size_t)n < pad) {
		free(png);
		(void)ldoc_fail(d, "body.seal_image.data: not base64");
		return NULL;
	}
	n -= (int)pad;
	if (n < 33 || memcmp(png, sig, 8) != 0 || be32(png + 8) != 13 ||
	    memcmp(png + 12, "IHDR", 4) != 0 || be32(png + 16) == 0 ||
	    be32(png + 20) == 0 || be32(png + 16) > SEAL_PX_MAX ||
	    be32(png + 20) > SEAL_PX_MAX) {
		free(png);
		(void)ldoc_fail(d, "body.seal_image: not a PNG image of at "
		    "most %dx%d pixels", SEAL_PX_MAX, SEAL_PX_MAX);
		return NULL;
	}
	src.p = png;
	src.len = (size_t)n;
	src.off = 0;
	s = cairo_image_surface_create_from_png_stream(png_read, &src);
	free(png);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		(void)ldoc_fail(d, "body.seal_image: the PNG image does not "
		    "decode");
		return NULL;
	}
	return s;
}

int
layout_inkan(struct ldoc *d, json_t *body)
{
	char birth[64], reg[64];
	const char *name, *kana, *sex, *addr, *no;
	cairo_surface_t *img;
	struct lrow *r;

	name = lj_name(d, body, "body");
	kana = lj_str(d, body, "kana", "body");
	(void)lj_date(d, body, "birth", "body", 0, birth, sizeof(birth));
	sex = lj_str(d, body, "sex", "body");
	addr = lj_str(d, body, "address", "body");
	no = lj_str(d, body, "registration_no", "body");
	(void)lj_date(d, body, "registered", "body", 0, reg, sizeof(reg));
	if (d->failed || (img = seal_image(d, body)) == NULL)
		return -1;
	if (strcmp(sex, "男") != 0 && strcmp(sex, "女") != 0) {
		cairo_surface_destroy(img);
		return ldoc_fail(d, "body.sex: not 男 or 女");
	}
	if ((r = ldoc_row(d, LR_KEEP)) == NULL) {
		cairo_surface_destroy(img);
		return -1;
	}
	r->image = img;
	ldoc_row_min(r, 170);
	ldoc_cell(d, r, 0, LW, "印影", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, 180, NULL, 10, LC_IMAGE);
	ldoc_cell(d, r, LW + 180, LW, "登録番号", 7.5, LC_LABEL);
	ldoc_cell(d, r, 2 * LW + 180, L_TW - 2 * LW - 180, no, 11, LC_SHRINK);

	r = ldoc_row(d, LR_KEEP);
	ldoc_cell(d, r, 0, LW, "フリガナ", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, L_TW - LW, kana, 8, LC_SHRINK);
	r = ldoc_row(d, LR_KEEP);
	ldoc_cell(d, r, 0, LW, "氏名", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, 238, name, 14, LC_SHRINK);
	ldoc_cell(d, r, LW + 238, LW, "生年月日", 7.5, LC_LABEL);
	ldoc_cell(d, r, 2 * LW + 238, 97, birth, 10, LC_SHRINK);
	ldoc_cell(d, r, 2 * LW + 335, 30, "性別", 7.5, LC_LABEL);
	ldoc_cell(d, r, 2 * LW + 365, L_TW - 2 * LW - 365, sex, 10, LC_CENTER);
	r = ldoc_row(d, LR_KEEP);
	ldoc_cell(d, r, 0, LW, "住所", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, L_TW - LW, addr, 11, 0);
	r = ldoc_row(d, 0);
	ldoc_cell(d, r, 0, LW, "登録年月日", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, L_TW - LW, reg, 10, 0);
	return d->failed ? -1 : 0;
}
