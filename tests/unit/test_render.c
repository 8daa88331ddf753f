/*
 * The layouts: every fixture lays out with each cell's text inside its
 * cell and renders to a PDF that is the same bytes twice and carries the
 * content and code; multi-page documents paginate; the seal is red on
 * the last page image; bad content (not JSON, invalid UTF-8, unknown
 * type, missing or mistyped fields, absurd lengths, every field of a
 * real document replaced by a wrong value) is an error with a reason,
 * never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "render.h"
#include "t.h"

#define CODE "KV1;3f2a9c0e5b7d4e1a8c6f0b2d4e6a8c01;juminhyo;20251125;" \
	"q2Lh3Zl9yGQ0t4j8mKc1bS7pXvR5wN6eUaJfHdOiTgY;" \
	"MEUCIQDx7k2Lq9v3RzTn1cY8bWpH5sJ0aG4fE6dK2mN8oP1rQwIgS3uV9xZ5yB7cD1eF" \
	"3gH5iJ7kL9mN1oP3qR5sT7uV"

struct buf {
	unsigned char	*p;
	size_t		 len, cap;
};

static cairo_status_t
sink(void *closure, const unsigned char *data, unsigned int n)
{
	struct buf *b = closure;
	unsigned char *np;

	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		if ((np = realloc(b->p, b->cap)) == NULL)
			return CAIRO_STATUS_WRITE_ERROR;
		b->p = np;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return CAIRO_STATUS_SUCCESS;
}

static char *
load(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *p;
	long n;

	(void)snprintf(path, sizeof(path), "%s/%s", RENDER_FIXTURES, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	(void)fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(p);
		return NULL;
	}
	fclose(f);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

static void *
memfind(const void *hay, size_t hl, const char *needle)
{
	size_t nl = strlen(needle), i;
	const char *h = hay;

	for (i = 0; nl <= hl && i <= hl - nl; i++)
		if (memcmp(h + i, needle, nl) == 0)
			return (void *)(h + i);
	return NULL;
}

static int
pdf_pages(const struct buf *b)
{
	char *p = memfind(b->p, b->len, "/Type /Pages");
	const char *c;

	if (p == NULL || (c = memfind(p, b->len - (size_t)(p - (char *)b->p),
	    "/Count ")) == NULL)
		return -1;
	return atoi(c + 7);
}

static void
fixture(const char *name, int min_pages)
{
	struct render_opts o = { "S0001-T01", CODE, 0 };
	struct render_stats st;
	struct buf a = { 0 }, b = { 0 };
	char err[256], msg[400];
	char *c;
	size_t len;
	int n;

	if ((c = load(name, &len)) == NULL) {
		(void)snprintf(msg, sizeof(msg), "%s: fixture loads", name);
		T_CHECK(0, msg);
		return;
	}
	n = render_measure(c, len, &o, &st, err, sizeof(err));
	(void)snprintf(msg, sizeof(msg), "%s: lays out in %d+ pages (%d, %s)",
	    name, min_pages, n, n < 0 ? err : "ok");
	T_CHECK(n >= min_pages, msg);
	(void)snprintf(msg, sizeof(msg), "%s: all %d cells fit (%d overflow)",
	    name, st.cells, st.overflows);
	T_CHECK(st.cells > 10 && st.overflows == 0, msg);
	(void)snprintf(msg, sizeof(msg), "%s: no text below 5.5 pt (%.2f)",
	    name, st.min_size);
	T_CHECK(st.min_size >= 5.5, msg);
	n = render_pdf_stream(c, len, &o, sink, &a, err, sizeof(err));
	(void)snprintf(msg, sizeof(msg), "%s: PDF has the pages measured", name);
	T_CHECK(n == st.pages && pdf_pages(&a) == n, msg);
	(void)render_pdf_stream(c, len, &o, sink, &b, err, sizeof(err));
	(void)snprintf(msg, sizeof(msg), "%s: same bytes twice", name);
	T_CHECK(a.len > 1000 && a.len == b.len &&
	    memcmp(a.p, b.p, a.len) == 0, msg);
	(void)snprintf(msg, sizeof(msg), "%s: content and code in the info",
	    name);
	T_CHECK(memfind(a.p, a.len, "/KioskContent (eyJ2ZXJzaW9uIjox") &&
	    memfind(a.p, a.len, "/KioskCode (KV1;3f2a9c0e") != NULL, msg);
	free(a.p);
	free(b.p);
	free(c);
}

/* Red pixels (the seal) in the last page at 50 dpi; none on page 1 of 2. */
static int
red_pixels(cairo_surface_t *s)
{
	int x, y, w = cairo_image_surface_get_width(s),
	    h = cairo_image_surface_get_height(s),
	    stride = cairo_image_surface_get_stride(s), n = 0;
	unsigned char *d = cairo_image_surface_get_data(s);
	uint32_t px;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			px = *(uint32_t *)(d + y * stride + x * 4);
			if (((px >> 16) & 0xff) > 150 && ((px >> 8) & 0xff) <
			    90 && (px & 0xff) < 90)
				n++;
		}
	return n;
}

static void
images(void)
{
	struct render_opts o = { "S0001-T01", NULL, 1 };
	char err[256];
	cairo_surface_t *s;
	char *c;
	size_t len;
	int pages;
	struct render_stats st;

	if ((c = load("juminhyo-12-members.json", &len)) == NULL) {
		T_CHECK(0, "image fixture loads");
		return;
	}
	pages = render_measure(c, len, &o, &st, err, sizeof(err));
	T_CHECK(pages >= 2, "12 members take more than one page");
	s = render_page_image(c, len, &o, pages - 1, 50, err, sizeof(err));
	T_CHECK(s != NULL && cairo_image_surface_get_width(s) == 414 &&
	    cairo_image_surface_get_height(s) == 585, "A4 at 50 dpi");
	T_CHECK(s != NULL && red_pixels(s) > 100, "the seal on the last page");
	if (s != NULL)
		cairo_surface_destroy(s);
	s = render_page_image(c, len, &o, 0, 50, err, sizeof(err));
	T_CHECK(s != NULL && red_pixels(s) == 0, "no seal before the last "
	    "page");
	if (s != NULL)
		cairo_surface_destroy(s);
	s = render_page_image(c, len, &o, pages, 50, err, sizeof(err));
	T_CHECK(s == NULL && strstr(err, "no page") != NULL,
	    "a page past the end is refused");
	s = render_page_image(c, len, &o, 0, 5000, err, sizeof(err));
	T_CHECK(s == NULL && strstr(err, "dpi") != NULL, "absurd dpi refused");
	free(c);
}

/* One bad input: an error with a reason mentioning want. */
static void
bad(const char *content, size_t len, const char *want, const char *name)
{
	struct render_opts o = { "S0001-T01", NULL, 1 };
	struct render_stats st;
	struct buf b = { 0 };
	char err[256] = "", msg[600];
	int n;

	n = render_measure(content, len, &o, &st, err, sizeof(err));
	(void)snprintf(msg, sizeof(msg), "bad input %s: refused (%s)", name,
	    err);
	T_CHECK(n == -1 && strstr(err, want) != NULL, msg);
	n = render_pdf_stream(content, len, &o, sink, &b, err, sizeof(err));
	(void)snprintf(msg, sizeof(msg), "bad input %s: no PDF", name);
	T_CHECK(n == -1 && b.len == 0, msg);
	free(b.p);
}

/* The fixture with one change made by jansson; bad() on the result. */
static void
bad_edit(const char *fixture, const char *path, json_t *v, const char *want)
{
	char *c, *s, msg[128];
	size_t len;
	json_t *root, *o;
	char key[64], *dot, *k;

	if ((c = load(fixture, &len)) == NULL ||
	    (root = json_loads(c, 0, NULL)) == NULL) {
		T_CHECK(0, "edit fixture loads");
		free(c);
		json_decref(v);
		return;
	}
	/* path: "body.members.0.name" (numbers index arrays) */
	o = root;
	(void)snprintf(key, sizeof(key), "%s", path);
	k = key;
	while ((dot = strchr(k, '.')) != NULL) {
		*dot = '\0';
		o = json_is_array(o) ? json_array_get(o, (size_t)atoi(k)) :
		    json_object_get(o, k);
		k = dot + 1;
	}
	if (v == NULL)
		(void)json_object_del(o, k);
	else if (json_is_array(o))
		(void)json_array_set_new(o, (size_t)atoi(k), v);
	else
		(void)json_object_set_new(o, k, v);
	s = json_dumps(root, JSON_COMPACT);
	(void)snprintf(msg, sizeof(msg), "%s %s", fixture, path);
	bad(s, strlen(s), want, msg);
	free(s);
	free(c);
	json_decref(root);
}

/*
 * Every value of a real document replaced, in turn, by each of a few
 * wrong values: the renderer may accept some (a string for a string),
 * but it must answer each without crashing; ASan runs check the rest.
 */
static int mutations, refused;

static void
mutate_walk(json_t *root, json_t *node, const char *fixture)
{
	json_t *wrong[5], *saved, *child;
	const char *k;
	size_t i, w;
	char *s, err[256], big[3000];
	struct render_stats st;
	struct render_opts o = { NULL, NULL, 1 };

	memset(big, 'W', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	if (json_is_object(node)) {
		json_object_foreach(node, k, child) {
			if (strcmp(k, "data") == 0)
				continue;	/* the PNG: tested apart */
			saved = json_incref(child);
			wrong[0] = json_null();
			wrong[1] = json_integer(-1);
			wrong[2] = json_string(big);
			wrong[3] = json_array();
			wrong[4] = json_string("");
			for (w = 0; w < 5; w++) {
				(void)json_object_set_new(node, k, wrong[w]);
				if ((s = json_dumps(root, JSON_COMPACT)) !=
				    NULL) {
					mutations++;
					if (render_measure(s, strlen(s), &o, &st,
					    err, sizeof(err)) == -1 &&
					    err[0] != '\0')
						refused++;
					free(s);
				}
			}
			(void)json_object_set_new(node, k, saved);
			mutate_walk(root, saved, fixture);
		}
	} else if (json_is_array(node)) {
		json_array_foreach(node, i, child)
			if (i < 2)
				mutate_walk(root, child, fixture);
	}
}

static void
mutate(const char *fixture)
{
	char *c, msg[128];
	size_t len;
	json_t *root;

	mutations = refused = 0;
	if ((c = load(fixture, &len)) == NULL ||
	    (root = json_loads(c, 0, NULL)) == NULL) {
		T_CHECK(0, "mutation fixture loads");
		free(c);
		return;
	}
	mutate_walk(root, root, fixture);
	(void)snprintf(msg, sizeof(msg), "%s: %d wrong values, %d refused "
	    "with a reason, no crash", fixture, mutations, refused);
	T_CHECK(mutations > 100 && refused > mutations / 2, msg);
	json_decref(root);
	free(c);
}

int
main(void)
{
	static const struct {
		const char	*name;
		int		 pages;
	} fx[] = {
		{ "juminhyo.json", 1 }, { "juminhyo_kisai.json", 1 },
		{ "inkan.json", 1 }, { "inkan-gaiji.json", 1 },
		{ "koseki_zenbu.json", 1 }, { "koseki_kojin.json", 1 },
		{ "koseki_fuhyo.json", 1 }, { "tax_shotoku.json", 1 },
		{ "juminhyo-gaiji.json", 1 }, { "juminhyo-foreign.json", 1 },
		{ "juminhyo-long-address.json", 1 },
		{ "juminhyo-long-name.json", 1 },
		{ "juminhyo-12-members.json", 2 },
		{ "koseki_zenbu-multipage.json", 2 },
	};
	static const char bad_utf8[] = "{\"version\":1,\"document\":\"juminhyo\","
	    "\"title_ja\":\"\xff\xfe\"}";
	static const char with_nul[] = "{\"version\":1,\"document\":\"ju\0\"}";
	char *huge;
	size_t i;

	for (i = 0; i < sizeof(fx) / sizeof(fx[0]); i++)
		fixture(fx[i].name, fx[i].pages);
	images();

	bad("", 0, "empty", "empty");
	bad("{", 1, "not JSON", "truncated JSON");
	bad("[]", 2, "not a JSON object", "an array");
	bad(bad_utf8, sizeof(bad_utf8) - 1, "not JSON", "invalid UTF-8");
	bad(with_nul, sizeof(with_nul) - 1, "not JSON", "a NUL byte");
	bad("{\"version\":1,\"version\":1}", 25, "not JSON", "duplicate key");
	if ((huge = malloc(RENDER_CONTENT_MAX + 2)) != NULL) {
		memset(huge, ' ', RENDER_CONTENT_MAX + 1);
		bad(huge, RENDER_CONTENT_MAX + 1, "larger", "over 1 MiB");
		free(huge);
	}
	bad_edit("juminhyo.json", "document", json_string("passport"),
	    "unknown document type");
	bad_edit("juminhyo.json", "version", json_integer(2), "version");
	bad_edit("juminhyo.json", "body", NULL, "content.body: missing");
	bad_edit("juminhyo.json", "body.members.0.name", NULL,
	    "body.members[0].name: missing");
	bad_edit("juminhyo.json", "body.members.1.birth",
	    json_string("1988-02-30"), "body.members[1].birth: not a date");
	bad_edit("juminhyo.json", "body.members.0.sex", json_string("X"),
	    "sex");
	bad_edit("juminhyo.json", "body.member_count", json_integer(9),
	    "member_count");
	bad_edit("juminhyo.json", "body.members", json_string("all"),
	    "not a list");
	bad_edit("juminhyo.json", "body.address", json_string("a\tb"),
	    "control character");
	bad_edit("juminhyo.json", "issued_at", json_string("2025-11-25"),
	    "issued_at");
	bad_edit("juminhyo.json", "issuance_id", json_string("../x"),
	    "issuance_id");
	bad_edit("koseki_zenbu.json", "body.entries.0.events.0.date",
	    json_integer(19770202), "not a date");
	bad_edit("koseki_kojin.json", "body.scope", json_string("all"),
	    "scope");
	bad_edit("inkan.json", "body.seal_image.type", json_string("image/gif"),
	    "image/png");
	bad_edit("inkan.json", "body.seal_image.data", json_string("AAAA"),
	    "not a PNG");
	bad_edit("inkan.json", "body.seal_image.data",
	    json_string("iVBORw0KGgoAAAANSUhEUgAAJxAAACcQCAMAAAD/x4pY"),
	    "not a PNG");	/* 10000 x 10000: refused before decoding */
	bad_edit("inkan.json", "body.seal_image.data", json_string("@@@@"),
	    "base64");
	bad_edit("tax_shotoku.json", "body.items.0.kind", json_string("gift"),
	    "income or deduction");
	bad_edit("tax_shotoku.json", "body.municipal_tax", json_integer(-5),
	    "out of range");

	mutate("juminhyo-foreign.json");
	mutate("koseki_kojin.json");
	mutate("tax_shotoku.json");
	render_cleanup();
	return t_done();
}
