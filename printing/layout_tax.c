/*
 * 所得・課税証明書: who (address, name, birth), the fiscal year with the
 * income year it taxes, then income, deductions, the taxable amount and
 * the two residence taxes with their local names (市民税 / 特別区民税 /
 * 町民税 / 村民税, 都民税 / 道民税 / 府民税 / 県民税) and their sum.
 */
#include <stdio.h>
#include <string.h>

#include "era.h"
#include "layout.h"

#define LW		70.0
#define CW		241.0	/* category */
#define ITEMS_MAX	32
#define YEN_MAX		1000000000000LL	/* a trillion yen */

static int
ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);

	return l >= k && strcmp(s + l - k, suffix) == 0;
}

static const char *
municipal_tax_name(const char *municipality)
{
	const char *local = layout_local_name(municipality);

	if (ends_with(local, "区"))
		return "特別区民税";
	if (ends_with(local, "町"))
		return "町民税";
	if (ends_with(local, "村"))
		return "村民税";
	return "市民税";
}

static const char *
prefectural_tax_name(const char *municipality)
{
	const char *p = layout_prefecture(municipality);

	if (ends_with(p, "都"))
		return "都民税";
	if (ends_with(p, "道"))
		return "道民税";
	if (ends_with(p, "府"))
		return "府民税";
	if (ends_with(p, "県"))
		return "県民税";
	return "道府県民税";
}

static void
money_row(struct ldoc *d, const char *section, int first, const char *what,
    long long v, int flags)
{
	struct lrow *r = ldoc_row(d, flags);
	char yen[48];

	layout_yen(v, yen, sizeof(yen));
	ldoc_cell(d, r, 0, LW, first ? section : NULL, 7.5,
	    LC_LABEL | (first ? 0 : LC_NOTOP));
	ldoc_cell(d, r, LW, CW, what, 10, 0);
	ldoc_cell(d, r, LW + CW, L_TW - LW - CW, yen, 11, LC_RIGHT | LC_SHRINK);
}

static void
items(struct ldoc *d, json_t *list, const char *kind, const char *section)
{
	json_t *it;
	size_t i;
	char w[48];
	const char *k, *cat;
	long long amount;
	int n = 0;

	json_array_foreach(list, i, it) {
		(void)snprintf(w, sizeof(w), "body.items[%zu]", i);
		k = lj_str(d, it, "kind", w);
		cat = lj_str(d, it, "category", w);
		amount = lj_int(d, it, "amount", w, 0, YEN_MAX);
		if (d->failed)
			return;
		if (strcmp(k, "income") != 0 && strcmp(k, "deduction") != 0) {
			(void)ldoc_fail(d, "%s.kind: not income or deduction",
			    w);
			return;
		}
		if (strcmp(k, kind) == 0)
			money_row(d, section, n++ == 0, cat, amount, LR_KEEP);
	}
	if (n == 0)
		money_row(d, section, 1, "該当なし", 0, LR_KEEP);
}

int
layout_tax(struct ldoc *d, json_t *body)
{
	char birth[64], fy[32], iy[32], buf[96];
	const char *name, *addr;
	long long fiscal, income, total, ded, taxable, mun, pref;
	json_t *list;
	struct lrow *r;

	fiscal = lj_int(d, body, "fiscal_year", "body", 1989, 9999);
	income = lj_int(d, body, "income_year", "body", 1988, 9998);
	name = lj_name(d, body, "body");
	(void)lj_date(d, body, "birth", "body", 0, birth, sizeof(birth));
	addr = lj_str(d, body, "address", "body");
	list = lj_arr(d, body, "items", "body", ITEMS_MAX);
	total = lj_int(d, body, "total_income", "body", -YEN_MAX, YEN_MAX);
	ded = lj_int(d, body, "total_deductions", "body", 0, YEN_MAX);
	taxable = lj_int(d, body, "taxable_income", "body", 0, YEN_MAX);
	mun = lj_int(d, body, "municipal_tax", "body", 0, YEN_MAX);
	pref = lj_int(d, body, "prefectural_tax", "body", 0, YEN_MAX);
	if (d->failed)
		return -1;
	if (era_format_year((int)fiscal, fy, sizeof(fy)) == -1 ||
	    era_format_year((int)income, iy, sizeof(iy)) == -1)
		return ldoc_fail(d, "body.fiscal_year: no era");
	/* 令和7年度 (令和6年分): drop the 年 of the year label for 年度 */
	fy[strlen(fy) - strlen("年")] = '\0';
	(void)snprintf(buf, sizeof(buf), "%s年度（%s分所得）", fy, iy);

	r = ldoc_row(d, 0);
	ldoc_cell(d, r, 0, LW, "住所", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, L_TW - LW, addr, 11, 0);
	r = ldoc_row(d, 0);
	ldoc_cell(d, r, 0, LW, "氏名", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, L_TW - LW, name, 13, LC_SHRINK);
	r = ldoc_row(d, 0);
	ldoc_cell(d, r, 0, LW, "生年月日", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, L_TW - LW, birth, 10, 0);
	r = ldoc_row(d, 0);
	ldoc_cell(d, r, 0, LW, "年度", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, L_TW - LW, buf, 11, 0);

	r = ldoc_row(d, LR_HEAVY | LR_KEEP);
	ldoc_cell(d, r, 0, LW, "区分", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW, CW, "項目", 7.5, LC_LABEL);
	ldoc_cell(d, r, LW + CW, L_TW - LW - CW, "金額", 7.5, LC_LABEL);
	items(d, list, "income", "所得");
	money_row(d, "所得", 0, "総所得金額", total, 0);
	items(d, list, "deduction", "所得控除");
	money_row(d, "所得控除", 0, "所得控除合計", ded, 0);
	money_row(d, "課税標準", 1, "課税標準額", taxable, 0);
	money_row(d, "税額", 1, municipal_tax_name(d->municipality), mun,
	    LR_KEEP);
	money_row(d, "税額", 0, prefectural_tax_name(d->municipality), pref,
	    LR_KEEP);
	money_row(d, "税額", 0, "合計", mun + pref, 0);
	return d->failed ? -1 : 0;
}
