/*
 * The normalised form of a kioskd.conf (after bgpd's printconf.c): every
 * setting in a fixed order, defaults filled in, includes flattened.  It
 * parses back to the same configuration, and prints the same again.
 */
#include <stdio.h>

#include "config.h"

static void
print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			fputc(*s, f);
			break;
		}
	}
	fputc('"', f);
}

static void
print_duration(FILE *f, unsigned int secs)
{
	if (secs % 60 == 0)
		fprintf(f, "%um", secs / 60);
	else
		fprintf(f, "%us", secs);
}

static void
print_socket(FILE *f, const char *kw, const struct conf_socket *s)
{
	fprintf(f, "%s ", kw);
	print_string(f, s->path);
	if (s->group[0] != '\0') {
		fputs(" group ", f);
		print_string(f, s->group);
	}
	fprintf(f, " mode %04o\n", (unsigned int)s->mode);
}

static void
print_path(FILE *f, const char *indent, const char *kw, const char *path)
{
	fprintf(f, "%s%s ", indent, kw);
	print_string(f, path);
	fputc('\n', f);
}

void
config_print(FILE *f, const struct kiosk_conf *c)
{
	size_t i;
	int t;

	fputs("kiosk-id ", f);
	print_string(f, c->kiosk_id);
	fputs("\nstore-name ", f);
	print_string(f, c->store_name);
	fputs("\nreader ", f);
	if (c->reader[0] == '\0')
		fputs("any", f);
	else
		print_string(f, c->reader);
	fputs("\n\ncenter {\n", f);
	print_path(f, "\t", "url", c->center.url);
	print_path(f, "\t", "ca", c->center.ca);
	print_path(f, "\t", "client-cert", c->center.client_cert);
	print_path(f, "\t", "client-key", c->center.client_key);
	print_path(f, "\t", "document-key", c->center.document_key);
	fputs("\ttimeout ", f);
	print_duration(f, c->center.timeout);
	fputs("\n}\n\n", f);

	fprintf(f, "hours %02u:%02u - %02u:%02u\n", c->open_min / 60,
	    c->open_min % 60, c->close_min / 60, c->close_min % 60);
	if (c->nclosed == 0)
		fputs("closed none\n", f);
	for (i = 0; i < c->nclosed; i++) {
		fprintf(f, "closed %02u-%02u", c->closed[i].from_month,
		    c->closed[i].from_day);
		if (c->closed[i].to_month != c->closed[i].from_month ||
		    c->closed[i].to_day != c->closed[i].from_day)
			fprintf(f, " - %02u-%02u", c->closed[i].to_month,
			    c->closed[i].to_day);
		fputc('\n', f);
	}
	fputc('\n', f);
	for (t = 0; t < CONF_TO__MAX; t++) {
		fprintf(f, "timeout %s ", config_timeout_name(t));
		print_duration(f, c->timeouts[t]);
		fputc('\n', f);
	}
	fputc('\n', f);
	print_socket(f, "ui-socket", &c->ui_socket);
	print_socket(f, "status-socket", &c->status_socket);
	print_path(f, "", "journal", c->journal);
	fputs("payment coinbox ", f);
	print_string(f, c->payment);
	fputc('\n', f);
	fputs("printer ", f);
	if (c->printer[0] == '\0')
		fputs("default", f);
	else
		print_string(f, c->printer);
	fputs(" {\n\tserver ", f);
	if (c->print.server[0] == '\0')
		fputs("default", f);
	else
		print_string(f, c->print.server);
	fputs("\n\turi ", f);
	if (c->print.uri[0] == '\0')
		fputs("device", f);
	else
		print_string(f, c->print.uri);
	fprintf(f, "\n\tformat %s\n\tpoll ",
	    config_print_format_name(c->print.format));
	print_duration(f, c->print.poll);
	fputs("\n\tjob-timeout ", f);
	print_duration(f, c->print.job_timeout);
	fputs("\n\trequest-timeout ", f);
	print_duration(f, c->print.request_timeout);
	fputs("\n}\n", f);
}
