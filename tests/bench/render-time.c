/*
 * The render benchmark's timer (tests/bench/render): each document
 * given on the command line rendered to a PDF in memory N times, after
 * one warm-up; prints the median and the best time per page.
 *
 * usage: render-time N [--plain] DOC.json...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"

static size_t sunk;

static cairo_status_t
sink(void *closure, const unsigned char *data, unsigned int n)
{
	(void)closure;
	(void)data;
	sunk += n;
	return CAIRO_STATUS_SUCCESS;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char *argv[])
{
	static const char code[] = "KV1;3f2a9c0e5b7d4e1a8c6f0b2d4e6a8c01;"
	    "juminhyo;20251125;q2Lh3Zl9yGQ0t4j8mKc1bS7pXvR5wN6eUaJfHdOiTgY;"
	    "MEUCIQDx7k2Lq9v3RzTn1cY8bWpH5sJ0aG4fE6dK2mN8oP1rQwIgS3uV9xZ5yB7c"
	    "D1eF3gH5iJ7kL9mN1oP3qR5sT7uV";
	struct render_opts o = { "S0001-T01", code, 0 };
	char err[256], *buf;
	double *t, t0, med;
	int n, i, a, pages, first = 2, worst = 0;
	FILE *f;
	long len;

	if (argc < 3 || (n = atoi(argv[1])) < 1 || n > 10000) {
		fprintf(stderr, "usage: render-time N [--plain] DOC.json...\n");
		return 2;
	}
	if (strcmp(argv[2], "--plain") == 0) {
		o.plain = 1;
		o.code = NULL;
		first = 3;
	}
	if ((t = calloc((size_t)n, sizeof(*t))) == NULL)
		return 2;
	printf("%-32s %5s %12s %12s %10s\n", "document", "pages",
	    "median ms/pg", "best ms/pg", "PDF KiB");
	for (a = first; a < argc; a++) {
		if ((f = fopen(argv[a], "rb")) == NULL) {
			perror(argv[a]);
			return 2;
		}
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		if ((buf = malloc((size_t)len)) == NULL ||
		    fread(buf, 1, (size_t)len, f) != (size_t)len)
			return 2;
		fclose(f);
		pages = render_pdf_stream(buf, (size_t)len, &o, sink, NULL,
		    err, sizeof(err));
		if (pages < 1) {
			fprintf(stderr, "%s: %s\n", argv[a], err);
			return 1;
		}
		for (i = 0; i < n; i++) {
			sunk = 0;
			t0 = now_ms();
			(void)render_pdf_stream(buf, (size_t)len, &o, sink,
			    NULL, err, sizeof(err));
			t[i] = (now_ms() - t0) / pages;
		}
		qsort(t, (size_t)n, sizeof(*t), cmp);
		med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
		if (med > 50)
			worst = 1;
		printf("%-32.32s %5d %12.1f %12.1f %10.0f\n",
		    strrchr(argv[a], '/') ? strrchr(argv[a], '/') + 1 : argv[a],
		    pages, med, t[0], sunk / 1024.0);
		free(buf);
	}
	if (o.plain)
		printf("(plain: a reference, the target is for documents as "
		    "printed)\n");
	else
		printf("target: <= 50 ms a page (median): %s\n", worst ?
		    "MISSED" : "met");
	free(t);
	return 0;
}
