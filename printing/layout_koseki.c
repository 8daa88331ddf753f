/*
 * 戸籍全部事項証明書 / 個人事項証明書 (the computerised register's
 * certificate: 本籍, 氏名, 戸籍事項, then each person recorded, with
 * their 身分事項 one event a block, 【item】 a line) and 戸籍の附票の写し
 * (each person's addresses with the date each was set).
 */
#include <stdio.h>
#include <string.h>

#include "layout.h"

#define LW		70.0	/* label column */
#define KW		70.0	/* event kind / status column */
#define ENTRIES_MAX	64
#define EVENTS_MAX	16
#define ADDRS_MAX	32

static void
label(struct ldoc *d, struct lrow *r, double x, double w, const char *t,
    int flags)
{
	ldoc_cell(d, r, x, w, t, 7.5, LC_LABEL | flags);
}

/* 出生 → 出　生: two-character kinds are spaced as the forms print them. */
static void
spaced_kind(const char *k, char *buf, size_t size)
{
	size_t l = strlen(k);

	if (l == 6 && (unsigned char)k[0] >= 0xe0 &&
	    (unsigned char)k[3] >= 0xe0)
		(void)snprintf(buf, size, "%.3s　%.3s", k, k + 3);
	else
		(void)snprintf(buf, size, "%s", k);
}

/* "【a】x【b】y" → "【a】x\n【b】y" after a first line. */
static void
detail_lines(const char *first, const char *detail, char *buf, size_t size)
{
	size_t k;
	const char *p;
	int n;

	n = snprintf(buf, size, "%s", first);
	k = n < 0 ? 0 : (size_t)n;
	for (p = detail; *p != '\0' && k + 2 < size; p++) {
		if (strncmp(p, "【", 3) == 0 && k < size - 1)
			buf[k++] = '\n';
		else if (p == detail && k < size - 1)
			buf[k++] = '\n';
		if (k < size - 1)
			buf[k++] = *p;
	}
	buf[k < size ? k : size - 1] = '\0';
}

/* A continuation line of a person's block: 【item】value. */
static void
line(struct ldoc *d, const char *text)
{
	struct lrow *r = ldoc_row(d, LR_KEEP);

	label(d, r, 0, LW, NULL, LC_NOTOP);
	ldoc_cell(d, r, LW, L_TW - LW - KW, text, 10, LC_NOTOP);
	ldoc_cell(d, r, L_TW - KW, KW, NULL, 10, LC_NOTOP);
}

static void
events(struct ldoc *d, json_t *e, const char *w)
{
	json_t *evs, *ev;
	size_t i;
	char ew[80], date[64], first[128], kind[64], text[3 * L_TEXT_MAX];
	const char *k, *detail;
	struct lrow *r;

	if ((evs = lj_arr(d, e, "events", w, EVENTS_MAX)) == NULL)
		return;
	json_array_foreach(evs, i, ev) {
		(void)snprintf(ew, sizeof(ew), "%s.events[%zu]", w, i);
		k = lj_str(d, ev, "kind", ew);
		(void)lj_date(d, ev, "date", ew, 0, date, sizeof(date));
		detail = lj_str(d, ev, "detail", ew);
		if (d->failed)
			return;
		if (strlen(k) > 48) {
			(void)ldoc_fail(d, "%s.kind: too long", ew);
			return;
		}
		(void)snprintf(first, sizeof(first), "【%s日】%s", k, date);
		detail_lines(first, detail, text, sizeof(text));
		spaced_kind(k, kind, sizeof(kind));
		/* an event is a unit: a long register breaks between them */
		r = ldoc_row(d, 0);
		label(d, r, 0, LW, i == 0 ? "身分事項" : NULL,
		    i == 0 ? 0 : LC_NOTOP);
		ldoc_cell(d, r, LW, KW, kind, 10, LC_CENTER);
		ldoc_cell(d, r, LW + KW, L_TW - LW - KW, text, 10, LC_MULTI);
	}
}

/* 【名】淳 when the family name is the register's, else 【氏名】full. */
static void
name_line(const char *head, const char *name, char *buf, size_t size)
{
	const char *sp = strchr(head, ' ');
	size_t fl = sp != NULL ? (size_t)(sp - head) : 0;

	if (fl > 0 && strncmp(name, head, fl) == 0 && name[fl] == ' ' &&
	    name[fl + 1] != '\0')
		(void)snprintf(buf, size, "【名】%s", name + fl + 1);
	else
		(void)snprintf(buf, size, "【氏名】%s", name);
}

static void
person(struct ldoc *d, json_t *e, const char *head, size_t i)
{
	char w[48], birth[64], buf[L_TEXT_MAX + 64];
	const char *name, *sex, *father, *mother, *rel;
	int removed;
	struct lrow *r;

	(void)snprintf(w, sizeof(w), "body.entries[%zu]", i);
	(void)lj_int(d, e, "seq", w, 1, 999);
	name = lj_name(d, e, w);
	(void)lj_date(d, e, "birth", w, 0, birth, sizeof(birth));
	sex = lj_str(d, e, "sex", w);
	father = lj_str(d, e, "father", w);
	mother = lj_str(d, e, "mother", w);
	rel = lj_str(d, e, "parent_relation", w);
	removed = lj_bool(d, e, "removed", w);
	(void)lj_opt(d, e, "removal_reason", w);
	if (d->failed)
		return;
	if (strcmp(sex, "男") != 0 && strcmp(sex, "女") != 0) {
		(void)ldoc_fail(d, "%s.sex: not 男 or 女", w);
		return;
	}
	name_line(head, name, buf, sizeof(buf));
	r = ldoc_row(d, LR_HEAVY | LR_KEEP);
	label(d, r, 0, LW, "戸籍に記録されている者", 0);
	ldoc_cell(d, r, LW, L_TW - LW - KW, buf, 12, LC_SHRINK);
	ldoc_cell(d, r, L_TW - KW, KW, removed ? "除　籍" : NULL, 10,
	    LC_CENTER | LC_BOLD);
	(void)snprintf(buf, sizeof(buf), "【生年月日】%s", birth);
	line(d, buf);
	(void)snprintf(buf, sizeof(buf), "【父】%s", father);
	line(d, buf);
	(void)snprintf(buf, sizeof(buf), "【母】%s", mother);
	line(d, buf);
	(void)snprintf(buf, sizeof(buf), "【続柄】%s", rel);
	line(d, buf);
	events(d, e, w);
	if (!d->failed && d->nrows > 0)
		d->rows[d->nrows - 1].flags &= ~LR_KEEP;
}

/* 本籍 and 氏名 (筆頭者), the head of both kinds. */
static void
register_head(struct ldoc *d, const char *dom, const char *head)
{
	struct lrow *r;

	r = ldoc_row(d, 0);
	label(d, r, 0, LW, "本籍", 0);
	ldoc_cell(d, r, LW, L_TW - LW, dom, 11, 0);
	r = ldoc_row(d, 0);
	label(d, r, 0, LW, "氏名", 0);
	ldoc_cell(d, r, LW, L_TW - LW, head, 12, LC_SHRINK);
}

int
layout_koseki(struct ldoc *d, json_t *body, int kojin)
{
	const char *dom, *head, *reason, *scope;
	char created[64], text[256];
	json_t *entries, *e;
	struct lrow *r;
	size_t i;

	dom = lj_str(d, body, "domicile", "body");
	head = lj_str(d, body, "head_name", "body");
	(void)lj_date(d, body, "created", "body", 0, created, sizeof(created));
	reason = lj_str(d, body, "created_reason", "body");
	scope = lj_str(d, body, "scope", "body");
	entries = lj_arr(d, body, "entries", "body", ENTRIES_MAX);
	if (d->failed)
		return -1;
	if (strcmp(scope, kojin ? "self" : "all") != 0)
		return ldoc_fail(d, "body.scope: must be \"%s\" for this "
		    "document", kojin ? "self" : "all");
	if (json_array_size(entries) == 0)
		return ldoc_fail(d, "body.entries: empty");
	register_head(d, dom, head);
	(void)snprintf(text, sizeof(text), "【編製日】%s", created);
	r = ldoc_row(d, 0);
	label(d, r, 0, LW, "戸籍事項", 0);
	ldoc_cell(d, r, LW, KW, "戸籍編製", 10, LC_CENTER);
	if (strlen(reason) < 128)
		(void)snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "\n【編製事由】%s", reason);
	ldoc_cell(d, r, LW + KW, L_TW - LW - KW, text, 10, LC_MULTI);
	json_array_foreach(entries, i, e) {
		if (!json_is_object(e))
			return ldoc_fail(d, "body.entries[%zu]: not an object",
			    i);
		person(d, e, head, i);
	}
	return d->failed ? -1 : 0;
}

int
layout_fuhyo(struct ldoc *d, json_t *body)
{
	const char *dom, *head, *name, *addr;
	char w[48], aw[80], birth[64], from[64], buf[L_TEXT_MAX + 64];
	json_t *entries, *e, *addrs, *a;
	struct lrow *r;
	size_t i, j;
	int removed;

	dom = lj_str(d, body, "domicile", "body");
	head = lj_str(d, body, "head_name", "body");
	entries = lj_arr(d, body, "entries", "body", ENTRIES_MAX);
	if (d->failed)
		return -1;
	if (json_array_size(entries) == 0)
		return ldoc_fail(d, "body.entries: empty");
	register_head(d, dom, head);
	json_array_foreach(entries, i, e) {
		(void)snprintf(w, sizeof(w), "body.entries[%zu]", i);
		(void)lj_int(d, e, "seq", w, 1, 999);
		name = lj_name(d, e, w);
		(void)lj_date(d, e, "birth", w, 0, birth, sizeof(birth));
		removed = lj_bool(d, e, "removed", w);
		addrs = lj_arr(d, e, "addresses", w, ADDRS_MAX);
		if (d->failed)
			return -1;
		name_line(head, name, buf, sizeof(buf));
		r = ldoc_row(d, LR_HEAVY | LR_KEEP);
		label(d, r, 0, LW, "附票に記録されている者", 0);
		ldoc_cell(d, r, LW, L_TW - LW - KW, buf, 12, LC_SHRINK);
		ldoc_cell(d, r, L_TW - KW, KW, removed ? "消　除" : NULL, 10,
		    LC_CENTER | LC_BOLD);
		(void)snprintf(buf, sizeof(buf), "【生年月日】%s", birth);
		line(d, buf);
		json_array_foreach(addrs, j, a) {
			(void)snprintf(aw, sizeof(aw), "%s.addresses[%zu]", w, j);
			addr = lj_str(d, a, "address", aw);
			(void)lj_date(d, a, "from", aw, 0, from, sizeof(from));
			if (d->failed)
				return -1;
			r = ldoc_row(d, 0);
			label(d, r, 0, LW, j == 0 ? "住所" : NULL,
			    j == 0 ? 0 : LC_NOTOP);
			ldoc_cell(d, r, LW, 321, addr, 10, 0);
			label(d, r, LW + 321, 50, "住所を定めた年月日", 0);
			ldoc_cell(d, r, LW + 371, L_TW - LW - 371, from, 9,
			    LC_SHRINK);
		}
		if (!d->failed && d->nrows > 0)
			d->rows[d->nrows - 1].flags &= ~LR_KEEP;
	}
	return d->failed ? -1 : 0;
}
