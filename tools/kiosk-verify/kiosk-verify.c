/*
 * kiosk-verify: is this printed document genuine?  For relying parties
 * and residents (issue 4).
 *
 * usage: kiosk-verify [-k KEY.pem] FILE
 *
 * FILE is the PDF a kiosk printed, or a scan of the paper (PNG, JPEG).
 * KEY.pem is the center's document-signing public key or certificate.
 *
 * A PDF: the signed code on page 1 (read with zbar from a 300 dpi
 * rendering) must verify with the key; the content embedded in the file
 * must be the one the code names (hash, id, type, date); rendering that
 * content again must give, page for page, the same visible text and the
 * same picture (at 100 dpi) as the file.  A scan: the code must verify; the content cannot be compared
 * (the reader compares the paper with what the code says).
 *
 * Exit codes: 0 genuine, 1 not genuine, 2 unreadable or no code,
 * 3 usage, 4 the key cannot be read, 5 internal error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poppler.h>

#include "doccode.h"
#include "pdfinfo.h"
#include "render.h"
#include "scan.h"

#define EX_GENUINE	0
#define EX_FORGED	1
#define EX_UNREADABLE	2
#define EX_USAGE	3
#define EX_KEY		4
#define EX_INTERNAL	5

#define DEFAULT_KEY	"/etc/kioskd/docsign.pem"
#define FILE_MAX	(256L * 1024 * 1024)
#define CODE_DPI	300.0
#define PIXEL_DPI	100.0
#define PIXEL_TOLERANCE	32

/* What the report says: filled as the checks go. */
struct report {
	int		 have_code;
	struct doccode	 code;
	char		 title_ja[128], title_en[128];
};

static const struct {
	const char	*doc, *ja, *en;
} titles[] = {
	{ "juminhyo", "住民票の写し", "Certificate of residence (copy)" },
	{ "juminhyo_kisai", "住民票記載事項証明書",
	    "Certificate of residence record items" },
	{ "inkan", "印鑑登録証明書", "Seal registration certificate" },
	{ "koseki_zenbu", "戸籍全部事項証明書",
	    "Family register, all entries" },
	{ "koseki_kojin", "戸籍個人事項証明書",
	    "Family register, individual entry" },
	{ "koseki_fuhyo", "戸籍の附票の写し",
	    "Family register supplement (copy)" },
	{ "tax_shotoku", "所得・課税証明書", "Income and tax certificate" },
};

static void
usage(void)
{
	fprintf(stderr, "usage: kiosk-verify [-k KEY.pem] FILE\n");
	exit(EX_USAGE);
}

static void
set_title(struct report *r, const char *ja, const char *en)
{
	snprintf(r->title_ja, sizeof(r->title_ja), "%s", ja);
	snprintf(r->title_en, sizeof(r->title_en), "%s", en);
}

static void
title_from_code(struct report *r)
{
	size_t	i;

	for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (strcmp(titles[i].doc, r->code.document) == 0) {
			set_title(r, titles[i].ja, titles[i].en);
			return;
		}
	set_title(r, r->code.document, r->code.document);
}

/* The report, then the exit code. */
static int
verdict(const struct report *r, int ex, const char *ja, const char *en)
{
	if (r->have_code) {
		printf("文書 / Document: %s / %s\n", r->title_ja, r->title_en);
		printf("交付番号 / Issuance number: %s\n", r->code.issuance_id);
		printf("交付日 / Date of issue: %.4s-%.2s-%.2s\n",
		    r->code.date, r->code.date + 4, r->code.date + 6);
	}
	switch (ex) {
	case EX_GENUINE:
		printf("判定 / Verdict: 真正 / GENUINE\n");
		break;
	case EX_FORGED:
		printf("判定 / Verdict: 真正ではない / NOT GENUINE\n");
		break;
	default:
		printf("判定 / Verdict: 確認できない / CANNOT VERIFY\n");
		break;
	}
	printf("  %s\n  %s\n", ja, en);
	return ex;
}

static EVP_PKEY *
load_key(const char *path)
{
	BIO		*bio;
	EVP_PKEY	*key;
	X509		*x;

	if ((bio = BIO_new_file(path, "r")) == NULL)
		return NULL;
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (key == NULL) {
		(void)BIO_reset(bio);
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			key = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	BIO_free(bio);
	if (key != NULL && EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

static unsigned char *
read_file(const char *path, size_t *lenp)
{
	struct stat	 st;
	unsigned char	*d;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > FILE_MAX) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	if ((d = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, d + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	*lenp = got;
	return d;
}

/* Strict base64 (RFC 4648, padded): the bytes, or NULL. */
static char *
b64_decode(const char *s, size_t n, size_t *outlen)
{
	static const char	 al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*p;
	char			*out;
	size_t			 i, o = 0, pad = 0;
	uint32_t		 acc = 0;
	int			 v;

	if (n == 0 || n % 4 != 0)
		return NULL;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (i >= n - pad)
			v = 0;
		else if (s[i] == '\0' || (p = strchr(al, s[i])) == NULL) {
			free(out);
			return NULL;
		} else
			v = (int)(p - al);
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (char)(acc >> 16);
			out[o++] = (char)(acc >> 8);
			out[o++] = (char)acc;
			acc = 0;
		}
	}
	o -= pad;
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* The first code on the image that parses. */
static int
find_code(const struct gray_image *g, struct report *r, char *text,
    size_t size)
{
	struct scan_codes	*sc;
	int			 i, found = 0;

	if ((sc = malloc(sizeof(*sc))) == NULL)
		return 0;
	scan_codes(g, sc);
	for (i = 0; i < sc->n && !found; i++)
		if (doccode_parse(sc->text[i], strlen(sc->text[i]),
		    &r->code) == 0) {
			snprintf(text, size, "%s", sc->text[i]);
			found = 1;
		}
	free(sc);
	if (found) {
		r->have_code = 1;
		title_from_code(r);
	}
	return found;
}

/* The code must carry the key's signature. */
static int
check_signature(EVP_PKEY *key, struct report *r)
{
	switch (doccode_verify(key, &r->code)) {
	case 1:
		return EX_GENUINE;
	case 0:
		return verdict(r, EX_FORGED,
		    "コードの署名が鍵で検証できません(偽造、または別の鍵)。",
		    "The code's signature does not verify with this key "
		    "(forged, or another key).");
	default:
		return verdict(r, EX_FORGED,
		    "コードの署名を検証できません。",
		    "The code's signature cannot be checked.");
	}
}

static int
verify_scan(EVP_PKEY *key, const unsigned char *d, size_t len, int jpeg)
{
	struct gray_image	 g;
	struct report		 r;
	char			 err[256], text[SCAN_CODE_MAX + 1];
	int			 rc, found;

	memset(&r, 0, sizeof(r));
	rc = jpeg ? scan_load_jpeg(d, len, &g, err, sizeof(err)) :
	    scan_load_png(d, len, &g, err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "kiosk-verify: %s\n", err);
		return verdict(&r, EX_UNREADABLE, "画像を読めません。",
		    "The image cannot be read.");
	}
	found = find_code(&g, &r, text, sizeof(text));
	scan_free(&g);
	if (!found)
		return verdict(&r, EX_UNREADABLE,
		    "文書コードが見つかりません。",
		    "No document code found in the image.");
	if ((rc = check_signature(key, &r)) != EX_GENUINE)
		return rc;
	return verdict(&r, EX_GENUINE,
	    "コードの署名は真正です。内容そのものは照合していません: "
	    "上記と紙面の記載を照合してください。",
	    "The code's signature is genuine.  The content itself was not "
	    "compared: compare the paper with the above.");
}

struct membuf {
	unsigned char	*d;
	size_t		 len, cap;
	int		 failed;
};

static cairo_status_t
mem_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct membuf	*m = closure;
	unsigned char	*n;
	size_t		 cap;

	if (m->len + len > m->cap) {
		cap = (m->len + len) * 2;
		if ((n = realloc(m->d, cap)) == NULL) {
			m->failed = 1;
			return CAIRO_STATUS_NO_MEMORY;
		}
		m->d = n;
		m->cap = cap;
	}
	memcpy(m->d + m->len, data, len);
	m->len += len;
	return CAIRO_STATUS_SUCCESS;
}

static PopplerDocument *
open_pdf(const unsigned char *d, size_t len)
{
	GBytes		*b;
	PopplerDocument	*doc;
	GError		*gerr = NULL;

	b = g_bytes_new(d, len);
	doc = poppler_document_new_from_bytes(b, NULL, &gerr);
	g_bytes_unref(b);
	if (doc == NULL && gerr != NULL) {
		fprintf(stderr, "kiosk-verify: PDF: %s\n", gerr->message);
		g_error_free(gerr);
	}
	return doc;
}

/* The page texts of both documents: -1 equal, else the first page that
   differs (0-based; the page count when only the counts differ). */
static int
compare_text(PopplerDocument *a, PopplerDocument *b, long *at)
{
	PopplerPage	*pa, *pb;
	char		*ta, *tb;
	int		 i, n, diff = -1;
	long		 k;

	*at = -1;
	n = poppler_document_get_n_pages(a);
	if (n != poppler_document_get_n_pages(b))
		return n < poppler_document_get_n_pages(b) ? n :
		    poppler_document_get_n_pages(b);
	for (i = 0; i < n && diff == -1; i++) {
		pa = poppler_document_get_page(a, i);
		pb = poppler_document_get_page(b, i);
		ta = pa != NULL ? poppler_page_get_text(pa) : NULL;
		tb = pb != NULL ? poppler_page_get_text(pb) : NULL;
		if (ta == NULL || tb == NULL || strcmp(ta, tb) != 0) {
			diff = i;
			/* The first differing character, counted in
			   UTF-8 characters. */
			for (k = 0; ta != NULL && tb != NULL &&
			    ta[k] != '\0' && ta[k] == tb[k]; k++)
				;
			if (ta != NULL && tb != NULL)
				*at = (long)g_utf8_pointer_to_offset(ta,
				    ta + k);
		}
		g_free(ta);
		g_free(tb);
		if (pa != NULL)
			g_object_unref(pa);
		if (pb != NULL)
			g_object_unref(pb);
	}
	return diff;
}

/*
 * The pages drawn at PIXEL_DPI: -1 when every pixel is the same (within
 * PIXEL_TOLERANCE gray levels), else the first page that differs, with
 * the number of differing pixels.  Catches what the text cannot: an
 * image or drawing laid over the genuine text.
 */
static int
compare_pixels(PopplerDocument *a, PopplerDocument *b, long *ndiff)
{
	PopplerPage		*pa, *pb;
	struct gray_image	 ga, gb;
	char			 err[128];
	int			 i, n, diff = -1;
	size_t			 k;

	*ndiff = 0;
	n = poppler_document_get_n_pages(a);
	for (i = 0; i < n && diff == -1; i++) {
		pa = poppler_document_get_page(a, i);
		pb = poppler_document_get_page(b, i);
		memset(&ga, 0, sizeof(ga));
		memset(&gb, 0, sizeof(gb));
		if (pa == NULL || pb == NULL ||
		    scan_render_page(pa, PIXEL_DPI, &ga, err, sizeof(err)) ||
		    scan_render_page(pb, PIXEL_DPI, &gb, err, sizeof(err)) ||
		    ga.w != gb.w || ga.h != gb.h)
			diff = i;
		else
			for (k = 0; k < (size_t)ga.w * ga.h; k++)
				if (abs(ga.px[k] - gb.px[k]) >
				    PIXEL_TOLERANCE) {
					diff = i;
					(*ndiff)++;
				}
		scan_free(&ga);
		scan_free(&gb);
		if (pa != NULL)
			g_object_unref(pa);
		if (pb != NULL)
			g_object_unref(pb);
	}
	return diff;
}

/* Titles and the kiosk from the (authenticated) content. */
static int
content_fields(const char *content, size_t len, struct report *r,
    char *kiosk, size_t kiosksize)
{
	json_t		*root;
	json_error_t	 je;
	const char	*ja, *en, *k;

	if ((root = json_loadb(content, len, 0, &je)) == NULL)
		return -1;
	ja = json_string_value(json_object_get(root, "title_ja"));
	en = json_string_value(json_object_get(root, "title_en"));
	if (ja != NULL && en != NULL)
		set_title(r, ja, en);
	k = json_string_value(json_object_get(json_object_get(root,
	    "binding"), "kiosk_id"));
	snprintf(kiosk, kiosksize, "%s", k != NULL ? k : "");
	json_decref(root);
	return k != NULL ? 0 : -1;
}

static int
verify_pdf(EVP_PKEY *key, const unsigned char *d, size_t len)
{
	PopplerDocument		*doc, *again = NULL;
	PopplerPage		*page;
	struct gray_image	 g;
	struct report		 r;
	struct render_opts	 o;
	struct membuf		 m = { NULL, 0, 0, 0 };
	char			 err[256], text[SCAN_CODE_MAX + 1];
	char			 kiosk[80], ja[160], en[160];
	char			*b64 = NULL, *icode = NULL, *content = NULL;
	size_t			 b64len, icodelen, clen;
	long			 at;
	int			 rc, found, diff;

	memset(&r, 0, sizeof(r));
	if ((doc = open_pdf(d, len)) == NULL)
		return verdict(&r, EX_UNREADABLE, "PDF を読めません。",
		    "The PDF cannot be read.");
	if (poppler_document_get_n_pages(doc) < 1 ||
	    (page = poppler_document_get_page(doc, 0)) == NULL) {
		g_object_unref(doc);
		return verdict(&r, EX_UNREADABLE, "PDF にページがありません。",
		    "The PDF has no page.");
	}
	rc = scan_render_page(page, CODE_DPI, &g, err, sizeof(err));
	g_object_unref(page);
	if (rc == -1) {
		g_object_unref(doc);
		fprintf(stderr, "kiosk-verify: %s\n", err);
		return verdict(&r, EX_UNREADABLE, "ページを描画できません。",
		    "The page cannot be rendered.");
	}
	found = find_code(&g, &r, text, sizeof(text));
	scan_free(&g);
	if (!found) {
		g_object_unref(doc);
		return verdict(&r, EX_UNREADABLE,
		    "1 ページ目に文書コードが見つかりません。",
		    "No document code found on page 1.");
	}
	if ((rc = check_signature(key, &r)) != EX_GENUINE)
		goto done;

	/* The code the file carries must be the one printed on it. */
	if (pdfinfo_string(d, len, "KioskCode", &icode, &icodelen) == 1 &&
	    strcmp(icode, text) != 0) {
		rc = verdict(&r, EX_FORGED,
		    "ファイル内のコードが印字されたコードと異なります。",
		    "The code stored in the file differs from the printed "
		    "code.");
		goto done;
	}
	if (pdfinfo_string(d, len, "KioskContent", &b64, &b64len) != 1 ||
	    (content = b64_decode(b64, b64len, &clen)) == NULL) {
		rc = verdict(&r, EX_FORGED,
		    "ファイルに署名された内容が含まれていないため、"
		    "表示内容を照合できません。",
		    "The file does not carry the signed content, so what it "
		    "shows cannot be checked.");
		goto done;
	}
	switch (doccode_matches(&r.code, content, clen)) {
	case 1:
		break;
	case 0:
		rc = verdict(&r, EX_FORGED,
		    "コードはこの文書の内容のものではありません"
		    "(内容の改変、または別の文書のコード)。",
		    "The code does not belong to this document's content "
		    "(altered content, or another document's code).");
		goto done;
	default:
		rc = verdict(&r, EX_FORGED,
		    "ファイル内の内容が不正な形式です。",
		    "The content stored in the file is malformed.");
		goto done;
	}
	if (content_fields(content, clen, &r, kiosk, sizeof(kiosk)) == -1) {
		rc = verdict(&r, EX_FORGED,
		    "ファイル内の内容が不正な形式です。",
		    "The content stored in the file is malformed.");
		goto done;
	}

	/* The signed content, drawn again, must show the same text. */
	memset(&o, 0, sizeof(o));
	o.kiosk_id = kiosk;
	o.code = text;
	if (render_pdf_stream(content, clen, &o, mem_write, &m, err,
	    sizeof(err)) < 1 || m.failed ||
	    (again = open_pdf(m.d, m.len)) == NULL) {
		fprintf(stderr, "kiosk-verify: re-rendering: %s\n",
		    m.failed ? "out of memory" : err);
		rc = verdict(&r, EX_INTERNAL,
		    "署名された内容を描画できません。",
		    "The signed content cannot be rendered again.");
		goto done;
	}
	if ((diff = compare_text(doc, again, &at)) != -1) {
		if (at >= 0) {
			snprintf(ja, sizeof(ja), "%d ページ目の %ld 文字目以降"
			    "の文字が署名された内容と異なります。",
			    diff + 1, at + 1);
			snprintf(en, sizeof(en), "The text of page %d differs "
			    "from the signed content from character %ld on.",
			    diff + 1, at + 1);
		} else {
			snprintf(ja, sizeof(ja), "ページ数が署名された内容と"
			    "異なります(%d と %d)。",
			    poppler_document_get_n_pages(doc),
			    poppler_document_get_n_pages(again));
			snprintf(en, sizeof(en), "The number of pages differs "
			    "from the signed content (%d, not %d).",
			    poppler_document_get_n_pages(doc),
			    poppler_document_get_n_pages(again));
		}
		rc = verdict(&r, EX_FORGED, ja, en);
		goto done;
	}
	if ((diff = compare_pixels(doc, again, &at)) != -1) {
		snprintf(ja, sizeof(ja), "%d ページ目の表示が署名された内容と"
		    "異なります(%ld 画素)。", diff + 1, at);
		snprintf(en, sizeof(en), "Page %d does not look like the "
		    "signed content (%ld pixels differ).", diff + 1, at);
		rc = verdict(&r, EX_FORGED, ja, en);
		goto done;
	}
	rc = verdict(&r, EX_GENUINE,
	    "署名、署名された内容、全ページの表示(文字と画像)が一致しました。",
	    "The signature, the signed content and every page (text and "
	    "image) match.");
done:
	if (again != NULL)
		g_object_unref(again);
	g_object_unref(doc);
	free(m.d);
	free(b64);
	free(icode);
	free(content);
	return rc;
}

int
main(int argc, char **argv)
{
	const char	*keypath = DEFAULT_KEY;
	EVP_PKEY	*key;
	unsigned char	*d;
	size_t		 len = 0;
	struct report	 none;
	int		 ch, rc;

	while ((ch = getopt(argc, argv, "k:")) != -1) {
		switch (ch) {
		case 'k':
			keypath = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	if ((key = load_key(keypath)) == NULL) {
		fprintf(stderr, "kiosk-verify: %s: not a readable EC public "
		    "key or certificate (PEM)\n", keypath);
		return EX_KEY;
	}
	memset(&none, 0, sizeof(none));
	if ((d = read_file(argv[0], &len)) == NULL) {
		fprintf(stderr, "kiosk-verify: %s: %s\n", argv[0],
		    strerror(errno));
		EVP_PKEY_free(key);
		return verdict(&none, EX_UNREADABLE, "ファイルを読めません。",
		    "The file cannot be read.");
	}
	if (len >= 5 && memcmp(d, "%PDF-", 5) == 0)
		rc = verify_pdf(key, d, len);
	else if (len >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
		rc = verify_scan(key, d, len, 0);
	else if (len >= 3 && memcmp(d, "\xff\xd8\xff", 3) == 0)
		rc = verify_scan(key, d, len, 1);
	else
		rc = verdict(&none, EX_UNREADABLE,
		    "PDF、PNG、JPEG のいずれでもありません。",
		    "Not a PDF, PNG or JPEG file.");
	free(d);
	EVP_PKEY_free(key);
	return rc;
}
