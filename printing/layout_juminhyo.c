/*
 * 住民票の写し and 住民票記載事項証明書: the household's address and head,
 * then one block per member (name with its reading, birth, sex,
 * relationship, address, the date they became a resident, and what the
 * options asked for: My Number, 本籍 and 筆頭者, foreign residents'
 * nationality, status, period and card number).  A name outside JIS X
 * 0208 prints as the substitute the center gives, as the real forms do.
 */
#include <stdio.h>
#include <string.h>

#include "layout.h"

#define LW	58.0	/* label column */
#define MEMBERS_MAX	64

static void
label(struct ldoc *d, struct lrow *r, double x, double w, const char *t,
    int flags)
{
	ldoc_cell(d, r, x, w, t, 7.5, LC_LABEL | flags);
}

/* A name as printed: the substitute of the member with this exact name. */
static const char *
printed_name(struct ldoc *d, json_t *members, const char *name)
{
	size_t i;
	json_t *m;
	const char *n, *sub;

	json_array_foreach(members, i, m) {
		if (!json_is_object(m))
			continue;
		n = json_string_value(json_object_get(m, "name"));
		sub = json_string_value(json_object_get(m, "name_substitute"));
		if (n != NULL && sub != NULL && sub[0] != '\0' &&
		    strcmp(n, name) == 0)
			return sub;
	}
	(void)d;
	return name;
}

static void
member(struct ldoc *d, json_t *m, json_t *members, size_t i)
{
	char w[48], birth[64], since[64], end[64];
	const char *name, *kana, *sex, *rel, *addr, *dom, *domh, *mn, *nat,
	    *st, *card;
	struct lrow *r;

	(void)snprintf(w, sizeof(w), "body.members[%zu]", i);
	if (!json_is_object(m)) {
		(void)ldoc_fail(d, "%s: not an object", w);
		return;
	}
	name = lj_name(d, m, w);
	kana = lj_str(d, m, "kana", w);
	(void)lj_date(d, m, "birth", w, 0, birth, sizeof(birth));
	sex = lj_str(d, m, "sex", w);
	rel = lj_opt(d, m, "relationship", w);
	(void)lj_date(d, m, "resident_since", w, 0, since, sizeof(since));
	addr = lj_str(d, m, "address", w);
	dom = lj_opt(d, m, "domicile", w);
	domh = lj_opt(d, m, "domicile_head", w);
	mn = lj_opt(d, m, "my_number", w);
	nat = lj_opt(d, m, "nationality", w);
	st = lj_opt(d, m, "residence_status", w);
	(void)lj_date(d, m, "residence_end", w, 1, end, sizeof(end));
	card = lj_opt(d, m, "residence_card", w);
	if (d->failed)
		return;
	if (strcmp(sex, "男") != 0 && strcmp(sex, "女") != 0) {
		(void)ldoc_fail(d, "%s.sex: not 男 or 女", w);
		return;
	}

	r = ldoc_row(d, LR_HEAVY | LR_KEEP);
	label(d, r, 0, LW, "フリガナ", 0);
	ldoc_cell(d, r, LW, 200, kana, 8, LC_SHRINK);
	label(d, r, LW + 200, LW, "続柄", 0);
	ldoc_cell(d, r, 2 * LW + 200, L_TW - 2 * LW - 200, rel, 10, LC_SHRINK);

	r = ldoc_row(d, LR_KEEP);
	label(d, r, 0, LW, "氏名", 0);
	ldoc_cell(d, r, LW, 200, name, 13, LC_SHRINK);
	label(d, r, LW + 200, LW, "生年月日", 0);
	ldoc_cell(d, r, 2 * LW + 200, 95, birth, 10, LC_SHRINK);
	label(d, r, 2 * LW + 295, 40, "性別", 0);
	ldoc_cell(d, r, 2 * LW + 335, L_TW - 2 * LW - 335, sex, 10,
	    LC_CENTER);

	r = ldoc_row(d, LR_KEEP);
	label(d, r, 0, LW, "住所", 0);
	ldoc_cell(d, r, LW, L_TW - LW, addr, 10, 0);

	r = ldoc_row(d, LR_KEEP);
	label(d, r, 0, LW, "住民となった年月日", 0);
	ldoc_cell(d, r, LW, 200, since, 10, LC_SHRINK);
	label(d, r, LW + 200, LW, "個人番号", 0);
	ldoc_cell(d, r, 2 * LW + 200, L_TW - 2 * LW - 200, mn, 10, LC_SHRINK);

	if (dom != NULL || domh != NULL) {
		r = ldoc_row(d, LR_KEEP);
		label(d, r, 0, LW, "本籍", 0);
		ldoc_cell(d, r, LW, 256, dom, 10, 0);
		label(d, r, LW + 256, LW, "筆頭者", 0);
		ldoc_cell(d, r, 2 * LW + 256, L_TW - 2 * LW - 256,
		    domh != NULL ? printed_name(d, members, domh) : NULL, 10,
		    LC_SHRINK);
	}
	if (nat != NULL || st != NULL) {
		r = ldoc_row(d, LR_KEEP);
		label(d, r, 0, LW, "国籍・地域", 0);
		ldoc_cell(d, r, LW, 142, nat, 10, 0);
		label(d, r, LW + 142, LW, "在留資格", 0);
		ldoc_cell(d, r, 2 * LW + 142, L_TW - 2 * LW - 142, st, 10, 0);
	}
	if (end[0] != '\0' || card != NULL) {
		r = ldoc_row(d, LR_KEEP);
		label(d, r, 0, LW, "在留期間等の満了の日", 0);
		ldoc_cell(d, r, LW, 142, end, 10, LC_SHRINK);
		label(d, r, LW + 142, LW, "在留カード等の番号", 0);
		ldoc_cell(d, r, 2 * LW + 142, L_TW - 2 * LW - 142, card, 10,
		    LC_SHRINK);
	}
	/* the block ends here */
	if (!d->failed && d->nrows > 0)
		d->rows[d->nrows - 1].flags &= ~LR_KEEP;
}

int
layout_juminhyo(struct ldoc *d, json_t *body, int kisai)
{
	const char *addr, *head, *scope;
	json_t *members, *m;
	long long count;
	size_t i, n;
	struct lrow *r;
	char buf[128];

	(void)kisai;
	addr = lj_str(d, body, "address", "body");
	head = lj_opt(d, body, "household_head", "body");
	scope = lj_str(d, body, "scope", "body");
	count = lj_int(d, body, "member_count", "body", 1, MEMBERS_MAX);
	members = lj_arr(d, body, "members", "body", MEMBERS_MAX);
	if (d->failed)
		return -1;
	n = json_array_size(members);
	if (n == 0 || (long long)n != count)
		return ldoc_fail(d, "body.member_count: %lld, but %zu members",
		    count, n);
	if (strcmp(scope, "all") == 0)
		(void)snprintf(buf, sizeof(buf), "世帯全員　%zu人", n);
	else if (strcmp(scope, "partial") == 0)
		(void)snprintf(buf, sizeof(buf), "世帯の一部　%zu人", n);
	else if (strcmp(scope, "self") == 0)
		(void)snprintf(buf, sizeof(buf), "本人のみ　%zu人", n);
	else
		return ldoc_fail(d, "body.scope: not all, partial or self");

	r = ldoc_row(d, 0);
	label(d, r, 0, LW, "住所", 0);
	ldoc_cell(d, r, LW, L_TW - LW, addr, 11, 0);
	if (head != NULL) {
		r = ldoc_row(d, 0);
		label(d, r, 0, LW, "世帯主", 0);
		ldoc_cell(d, r, LW, L_TW - LW, printed_name(d, members, head),
		    12, LC_SHRINK);
	}
	r = ldoc_row(d, 0);
	label(d, r, 0, LW, "記載", 0);
	ldoc_cell(d, r, LW, L_TW - LW, buf, 10, 0);
	json_array_foreach(members, i, m)
		member(d, m, members, i);
	return d->failed ? -1 : 0;
}
