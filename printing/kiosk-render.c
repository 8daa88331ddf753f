/*
 * kiosk-render: render signed document content (the UTF-8 JSON of
 * center/API.md) to an A4 PDF, and optionally one page to PNG; for
 * technicians, tests and benchmarks.  kioskd renders through the same
 * library (render.h).
 *
 * usage: kiosk-render [--kiosk-id ID] [--code TEXT] [--plain]
 *            [--page N] [--png-dpi N --png OUT.png] DOC.json OUT.pdf
 *
 * Exit codes: 0 done, 1 usage, 2 cannot read the input or write the
 * output, 3 not JSON, 4 unknown document type, 5 the content is
 * incomplete or malformed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "render.h"
#include "util.h"

#define EX_USAGE	1
#define EX_IO		2
#define EX_JSON		3
#define EX_TYPE		4
#define EX_CONTENT	5

static void
usage(void)
{
	fprintf(stderr, "usage: kiosk-render [--kiosk-id ID] [--code TEXT] "
	    "[--plain] [--page N] [--png-dpi N --png OUT.png] DOC.json "
	    "OUT.pdf\n");
	exit(EX_USAGE);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "kiosk-render: %s: %s\n", path, strerror(errno));
		exit(EX_IO);
	}
	if ((buf = malloc(RENDER_CONTENT_MAX + 1)) == NULL) {
		fprintf(stderr, "kiosk-render: out of memory\n");
		exit(EX_IO);
	}
	n = fread(buf, 1, RENDER_CONTENT_MAX + 1, f);
	if (ferror(f)) {
		fprintf(stderr, "kiosk-render: %s: read error\n", path);
		exit(EX_IO);
	}
	fclose(f);
	if (n > RENDER_CONTENT_MAX) {
		fprintf(stderr, "kiosk-render: %s: larger than %d bytes\n",
		    path, RENDER_CONTENT_MAX);
		exit(EX_CONTENT);
	}
	*len = n;
	return buf;
}

/* Sort the failure out before rendering: not JSON, or an unknown type. */
static int
precheck(const char *content, size_t len)
{
	json_error_t je;
	json_t *root, *t;
	int rc = 0;

	if ((root = json_loadb(content, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		fprintf(stderr, "kiosk-render: not JSON (line %d, column %d): "
		    "%s\n", je.line, je.column, je.text);
		return EX_JSON;
	}
	t = json_object_get(root, "document");
	if (json_is_string(t) && !render_document_known(json_string_value(t))) {
		fprintf(stderr, "kiosk-render: unknown document type "
		    "\"%.40s\"\n", json_string_value(t));
		rc = EX_TYPE;
	}
	json_decref(root);
	return rc;
}

static int
run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "kiosk-id", required_argument, NULL, 'k' },
		{ "code", required_argument, NULL, 'c' },
		{ "plain", no_argument, NULL, 'p' },
		{ "page", required_argument, NULL, 'n' },
		{ "png-dpi", required_argument, NULL, 'd' },
		{ "png", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct render_opts o;
	const char *png = NULL, *errstr;
	char err[512], *content;
	size_t len;
	long long dpi = 0, page = 1;
	cairo_surface_t *img;
	cairo_status_t st;
	int ch, n, rc;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			o.kiosk_id = optarg;
			break;
		case 'c':
			o.code = optarg;
			break;
		case 'p':
			o.plain = 1;
			break;
		case 'n':
			page = parse_num(optarg, 1, 1000, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "kiosk-render: --page %s\n",
				    errstr);
				usage();
			}
			break;
		case 'd':
			dpi = parse_num(optarg, 10, 600, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "kiosk-render: --png-dpi %s "
				    "(10 to 600)\n", errstr);
				usage();
			}
			break;
		case 'o':
			png = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || (png != NULL) != (dpi != 0))
		usage();
	content = slurp(argv[0], &len);
	if ((rc = precheck(content, len)) != 0) {
		free(content);
		return rc;
	}
	if ((n = render_pdf_file(content, len, &o, argv[1], err,
	    sizeof(err))) == -1) {
		fprintf(stderr, "kiosk-render: %s\n", err);
		free(content);
		return strncmp(err, "cannot ", 7) == 0 ? EX_IO : EX_CONTENT;
	}
	printf("pages: %d\n", n);
	if (png != NULL) {
		img = render_page_image(content, len, &o, (int)page - 1,
		    (double)dpi, err, sizeof(err));
		if (img == NULL) {
			fprintf(stderr, "kiosk-render: %s\n", err);
			free(content);
			return EX_CONTENT;
		}
		st = cairo_surface_write_to_png(img, png);
		cairo_surface_destroy(img);
		if (st != CAIRO_STATUS_SUCCESS) {
			fprintf(stderr, "kiosk-render: %s: %s\n", png,
			    cairo_status_to_string(st));
			free(content);
			return EX_IO;
		}
	}
	free(content);
	return 0;
}

int
main(int argc, char *argv[])
{
	int rc = run(argc, argv);

	render_cleanup();
	return rc;
}
