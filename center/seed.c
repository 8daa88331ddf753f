/*
 * The synthetic town of 東京都みどり市.  Households are drawn from a few
 * templates (singles, couples, families, three generations, single
 * parents, lodgers, foreign residents, mixed marriages) so that
 * relationships, ages, marriages and births agree with each other; then
 * each household's family registers (戸籍), 附票 lines, seal
 * registrations and tax records are derived from the members.  One PRNG
 * (splitmix64) seeded by the caller drives every choice, so a seed and a
 * date always give the same town.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "names.h"
#include "seed.h"
#include "store.h"

#define HH_MAX		8	/* members, including a deceased spouse */
#define UNITS_MAX	4	/* family registers touching one household */
#define UNIT_MAX	8	/* entries of one register */

enum role {
	ROLE_HEAD,
	ROLE_SPOUSE,
	ROLE_CHILD,
	ROLE_FATHER,
	ROLE_MOTHER,
	ROLE_CHILD_SPOUSE,
	ROLE_GRANDCHILD,
	ROLE_LODGER
};

struct member {
	struct resident	 r;
	enum role	 role;
	int		 age;
	int		 father;	/* member index or -1 */
	int		 mother;
	int		 spouse;
	int		 unit;		/* current register, -1 none */
	char		 birth_family[STORE_NAME_MAX];	/* surname at birth */
	const char	*birthplace;
	struct store_date marriage;
	int64_t		 salary;	/* yearly, of the latest income year */
	int64_t		 pension;
	int64_t		 social_ins;
};

struct unit {
	struct koseki		k;
	int			in_town;
	int			n;
	struct koseki_entry	e[UNIT_MAX];
	int			who[UNIT_MAX];	/* member index or -1 */
};

struct hh {
	struct member	m[HH_MAX];
	int		n;
	struct unit	u[UNITS_MAX];
	int		nu;
	char		address[STORE_ADDR_MAX];
	struct store_date moved_in;
};

struct gen {
	struct store		*s;
	uint64_t		 rng;
	struct store_date	 today;
	long			 today_days;
	uint64_t		 code_a, code_b, mn_a, mn_b, idx;
	int			 seal_seq;
	int			 cur_fy;
	int			 overflow;
	struct seed_summary	*sum;
	char			*err;
	size_t			 errlen;
};

/* ---------------------------------------------------------------- util */

static uint64_t
rng_next(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]; lo > hi yields lo. */
static int
rrange(struct gen *g, int lo, int hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int)(rng_next(g) % (uint64_t)(hi - lo + 1));
}

static int
chance(struct gen *g, int permille)
{
	return (int)(rng_next(g) % 1000) < permille;
}

/* Appends with a truncation check; truncation marks the run failed. */
static void fmt(struct gen *, char *, size_t, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
fmt(struct gen *g, char *dst, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(dst, len, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		g->overflow = 1;
}

/* Days since 1970-01-01. */
static long
days_from(const struct store_date *d)
{
	return (long)civil_to_days(d->y, d->m, d->d);
}

static struct store_date
date_of(long z)
{
	struct store_date d;

	civil_from_days(z, &d.y, &d.m, &d.d);
	return d;
}

/* The same day n years later (29 Feb becomes 28 Feb). */
static long
years_after(const struct store_date *d, int n)
{
	struct store_date x = *d;

	x.y += n;
	if (x.m == 2 && x.d == 29 && !store_date_valid(&x))
		x.d = 28;
	return days_from(&x);
}

/* A birth date giving exactly `age` completed years today. */
static struct store_date
birth_for_age(struct gen *g, int age)
{
	long hi = years_after(&g->today, -age);
	long lo = years_after(&g->today, -age - 1) + 1;

	return date_of(lo + rrange(g, 0, (int)(hi - lo)));
}

static long
ldays_between(struct gen *g, long lo, long hi)
{
	if (hi <= lo)
		return lo;
	return lo + (long)(rng_next(g) % (uint64_t)(hi - lo + 1));
}

/* Full-width digits: 14 -> "１４". */
static void
fwnum(int n, char *dst, size_t len)
{
	char ascii[16];
	size_t i, o = 0;

	snprintf(ascii, sizeof(ascii), "%d", n);
	for (i = 0; ascii[i] != '\0' && o + 4 <= len; i++) {
		dst[o++] = (char)0xef;
		dst[o++] = (char)0xbc;
		dst[o++] = (char)(0x90 + (ascii[i] - '0'));
	}
	dst[o] = '\0';
}

static const char *const kanji_num[] = {
	"〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"
};

static const char *
pick(struct gen *g, const char *const *arr, size_t n)
{
	return arr[rrange(g, 0, (int)n - 1)];
}

static void
pick_surname(struct gen *g, const struct name_surname **out)
{
	if (chance(g, 30))
		*out = &names_rare_surnames[rrange(g, 0,
		    (int)names_nrare_surnames - 1)];
	else
		*out = &names_surnames[rrange(g, 0, (int)names_nsurnames - 1)];
}

static const struct name_given *
pick_given(struct gen *g, int sex, int birth_year)
{
	size_t i, cnt = 0;
	int era = birth_year < 1960 ? 0 : birth_year < 1990 ? 1 : 2, k;

	for (i = 0; i < names_ngiven; i++)
		if (names_given[i].sex == sex && names_given[i].era == era)
			cnt++;
	k = rrange(g, 0, (int)cnt - 1);
	for (i = 0; i < names_ngiven; i++)
		if (names_given[i].sex == sex && names_given[i].era == era &&
		    k-- == 0)
			return &names_given[i];
	return &names_given[0];
}

/* A distinct surname (a bride's maiden name, a lodger's). */
static const struct name_surname *
other_surname(struct gen *g, const char *not)
{
	const struct name_surname *s;
	int tries;

	for (tries = 0; tries < 16; tries++) {
		s = &names_surnames[rrange(g, 0, (int)names_nsurnames - 1)];
		if (strcmp(s->kanji, not) != 0)
			return s;
	}
	return &names_surnames[0];
}

static void
fullname(struct gen *g, char *dst, size_t len, const char *fam,
    const char *given)
{
	fmt(g, dst, len, "%s %s", fam, given);
}

/* ------------------------------------------------------------ members */

static struct member *
add_member(struct gen *g, struct hh *h, enum role role, const char *rel,
    int sex, int age, const struct name_surname *sur)
{
	struct member *m;
	const struct name_given *gv;

	if (h->n == HH_MAX) {
		g->overflow = 1;
		return &h->m[HH_MAX - 1];
	}
	m = &h->m[h->n++];
	memset(m, 0, sizeof(*m));
	m->role = role;
	m->father = m->mother = m->spouse = m->unit = -1;
	m->age = age;
	m->r.sex = (enum store_sex)sex;
	m->r.birth = birth_for_age(g, age);
	fmt(g, m->r.relationship, sizeof(m->r.relationship), "%s", rel);
	fmt(g, m->r.family_name, sizeof(m->r.family_name), "%s", sur->kanji);
	fmt(g, m->r.family_kana, sizeof(m->r.family_kana), "%s", sur->kana);
	fmt(g, m->birth_family, sizeof(m->birth_family), "%s", sur->kanji);
	gv = pick_given(g, sex, m->r.birth.y);
	fmt(g, m->r.given_name, sizeof(m->r.given_name), "%s", gv->kanji);
	fmt(g, m->r.given_kana, sizeof(m->r.given_kana), "%s", gv->kana);
	if (sur->substitute != NULL)
		fmt(g, m->r.name_substitute, sizeof(m->r.name_substitute),
		    "%s %s", sur->substitute, gv->kanji);
	m->birthplace = pick(g, names_birthplaces, names_nbirthplaces);
	return m;
}

/* A foreign resident: romanized name, katakana reading, status. */
static struct member *
add_foreigner(struct gen *g, struct hh *h, enum role role, const char *rel,
    int sex, int age, const struct name_foreign *fn, const char *status)
{
	struct member *m;
	const struct name_residence *rs = NULL;
	size_t i;
	int years;

	m = add_member(g, h, role, rel, sex, age, &names_surnames[0]);
	fmt(g, m->r.family_name, sizeof(m->r.family_name), "%s", fn->family);
	fmt(g, m->r.family_kana, sizeof(m->r.family_kana), "%s",
	    fn->family_kana);
	fmt(g, m->r.given_name, sizeof(m->r.given_name), "%s",
	    sex == STORE_SEX_MALE ? fn->given_m : fn->given_f);
	fmt(g, m->r.given_kana, sizeof(m->r.given_kana), "%s",
	    sex == STORE_SEX_MALE ? fn->given_m_kana : fn->given_f_kana);
	m->r.name_substitute[0] = '\0';
	fmt(g, m->birth_family, sizeof(m->birth_family), "%s", fn->family);
	fmt(g, m->r.nationality, sizeof(m->r.nationality), "%s",
	    fn->nationality);
	fmt(g, m->r.residence_status, sizeof(m->r.residence_status), "%s",
	    status);
	for (i = 0; i < names_nresidence; i++)
		if (strcmp(names_residence[i].status, status) == 0)
			rs = &names_residence[i];
	years = rs != NULL ? rs->years : 1;
	if (years > 0)
		m->r.residence_end = date_of(g->today_days +
		    rrange(g, 30, years * 365));
	fmt(g, m->r.residence_card, sizeof(m->r.residence_card),
	    "%c%c%08d%c%c", 'A' + rrange(g, 0, 25), 'A' + rrange(g, 0, 25),
	    rrange(g, 0, 99999999), 'A' + rrange(g, 0, 25),
	    'A' + rrange(g, 0, 25));
	m->birthplace = fn->nationality;
	return m;
}

static void
marry(struct gen *g, struct hh *h, int a, int b)
{
	struct member *x = &h->m[a], *y = &h->m[b];
	long lo, d;
	int i;

	x->spouse = b;
	y->spouse = a;
	/* after both turned 20, at 22-32 for the younger, before any child */
	lo = years_after(store_date_cmp(&x->r.birth, &y->r.birth) > 0 ?
	    &x->r.birth : &y->r.birth, 20);
	d = lo + rrange(g, 2, 12) * 365 + rrange(g, 0, 364);
	for (i = 0; i < h->n; i++)
		if ((h->m[i].father == a || h->m[i].mother == a ||
		    h->m[i].father == b || h->m[i].mother == b) &&
		    days_from(&h->m[i].r.birth) - 200 < d)
			d = days_from(&h->m[i].r.birth) - rrange(g, 200, 900);
	if (d < lo)
		d = lo;
	if (d > g->today_days - 30)
		d = g->today_days - rrange(g, 30, 400);
	if (d < lo)
		d = lo;
	x->marriage = y->marriage = date_of(d);
}

static int
add_children(struct gen *g, struct hh *h, int father, int mother, int n,
    int maxage, const struct name_surname *sur, enum role role,
    const char *rel)
{
	int i, age, youngest_parent = 200;
	struct member *c;

	if (father >= 0)
		youngest_parent = h->m[father].age;
	if (mother >= 0 && h->m[mother].age < youngest_parent)
		youngest_parent = h->m[mother].age;
	if (youngest_parent - 20 < maxage)
		maxage = youngest_parent - 20;
	if (maxage < 0)
		return 0;
	/* oldest first: registers list children in birth order */
	age = maxage;
	for (i = 0; i < n && age >= 0; i++) {
		age = i == 0 ? rrange(g, maxage / 2, maxage) :
		    age - rrange(g, 1, 4);
		if (age < 0)
			break;
		c = add_member(g, h, role, rel, rrange(g, 1, 2), age, sur);
		c->father = father;
		c->mother = mother;
	}
	return i;
}

/* Kanji numeral ordinal among same-sex siblings: 長男, 二女... */
static void
parent_relation(struct gen *g, const struct hh *h, int idx, char *dst,
    size_t len)
{
	static const char *const ord[] = { "長", "二", "三", "四", "五" };
	const struct member *m = &h->m[idx];
	int i, n = 0;

	if (m->father >= 0 || m->mother >= 0) {
		for (i = 0; i < h->n; i++)
			if (i != idx && h->m[i].r.sex == m->r.sex &&
			    h->m[i].father == m->father &&
			    h->m[i].mother == m->mother &&
			    store_date_cmp(&h->m[i].r.birth, &m->r.birth) < 0)
				n++;
	} else
		n = chance(g, 550) ? 0 : chance(g, 700) ? 1 : 2;
	if (n > 4)
		n = 4;
	fmt(g, dst, len, "%s%s", ord[n], m->r.sex == STORE_SEX_MALE ? "男" :
	    "女");
}

/* ---------------------------------------------------------- templates */

static int
adult_age(struct gen *g, int lo, int hi)
{
	return rrange(g, lo, hi > 98 ? 98 : hi);
}

static void
status_moved_out(struct gen *g, struct member *m, const struct hh *h)
{
	long lo = days_from(&h->moved_in) + 30;

	if (lo < days_from(&m->r.birth) + 30)
		lo = days_from(&m->r.birth) + 30;
	if (lo > g->today_days - 2)
		return;
	m->r.status = RESIDENT_MOVED_OUT;
	m->r.status_date = date_of(ldays_between(g, lo > g->today_days - 700 ?
	    lo : g->today_days - 700, g->today_days - 2));
}

static void
status_deceased(struct gen *g, struct member *m, const struct hh *h)
{
	long lo = days_from(&h->moved_in) + 30;

	if (lo > g->today_days - 2)
		return;
	m->r.status = RESIDENT_DECEASED;
	m->r.status_date = date_of(ldays_between(g, lo > g->today_days - 1100 ?
	    lo : g->today_days - 1100, g->today_days - 2));
}

static void
tpl_foreign(struct gen *g, struct hh *h)
{
	const struct name_foreign *fn, *fw;
	const char *st;
	struct member *head, *w;
	int age, i, n, k;

	fn = &names_foreign[rrange(g, 0, (int)names_nforeign - 1)];
	if (chance(g, 600)) {
		/* a student or a worker living alone */
		if (chance(g, 450)) {
			age = rrange(g, 19, 29);
			st = "留学";
		} else {
			age = rrange(g, 23, 45);
			st = chance(g, 600) ? "技術・人文知識・国際業務" :
			    chance(g, 500) ? "特定技能１号" : "永住者";
		}
		if (strcmp(fn->nationality, "韓国") == 0 && chance(g, 500)) {
			age = rrange(g, 40, 85);
			st = "特別永住者";
		}
		add_foreigner(g, h, ROLE_HEAD, "世帯主", rrange(g, 1, 2), age,
		    fn, st);
		return;
	}
	st = chance(g, 500) ? "永住者" : chance(g, 600) ?
	    "技術・人文知識・国際業務" : "定住者";
	head = add_foreigner(g, h, ROLE_HEAD, "世帯主", STORE_SEX_MALE,
	    rrange(g, 27, 52), fn, st);
	/* the wife: same nationality, often her own family name */
	fw = fn;
	for (k = 0; k < 4; k++) {
		const struct name_foreign *c = &names_foreign[rrange(g, 0,
		    (int)names_nforeign - 1)];

		if (strcmp(c->nationality, fn->nationality) == 0) {
			fw = c;
			break;
		}
	}
	w = add_foreigner(g, h, ROLE_SPOUSE, "妻", STORE_SEX_FEMALE,
	    adult_age(g, head->age - 6, head->age + 2), fw,
	    strcmp(st, "永住者") == 0 ? "永住者" : "家族滞在");
	marry(g, h, 0, 1);
	n = rrange(g, 0, 2);
	for (i = 0; i < n; i++) {
		struct member *c;
		int maxage = (w->age < head->age ? w->age : head->age) - 22;

		if (maxage < 0)
			break;
		c = add_foreigner(g, h, ROLE_CHILD, "子", rrange(g, 1, 2),
		    rrange(g, 0, maxage > 17 ? 17 : maxage), fn,
		    strcmp(st, "永住者") == 0 ? "永住者" : "家族滞在");
		c->father = 0;
		c->mother = 1;
	}
}

static void
tpl_single(struct gen *g, struct hh *h, int lo, int hi)
{
	const struct name_surname *sur;
	struct member *m;

	pick_surname(g, &sur);
	m = add_member(g, h, ROLE_HEAD, "世帯主", rrange(g, 1, 2),
	    adult_age(g, lo, hi), sur);
	(void)m;
}

static void
tpl_elderly(struct gen *g, struct hh *h)
{
	const struct name_surname *sur;
	struct member *m, *d;

	pick_surname(g, &sur);
	m = add_member(g, h, ROLE_HEAD, "世帯主", chance(g, 700) ?
	    STORE_SEX_FEMALE : STORE_SEX_MALE, adult_age(g, 65, 95), sur);
	if (chance(g, 400)) {
		/* the late spouse stays in the records as deceased */
		d = add_member(g, h, ROLE_SPOUSE, m->r.sex == STORE_SEX_FEMALE ?
		    "夫" : "妻", m->r.sex == STORE_SEX_FEMALE ?
		    STORE_SEX_MALE : STORE_SEX_FEMALE,
		    adult_age(g, m->age - 3, m->age + 5), sur);
		marry(g, h, 0, 1);
		if (d->r.sex == STORE_SEX_FEMALE) {
			fmt(g, d->birth_family, sizeof(d->birth_family), "%s",
			    other_surname(g, sur->kanji)->kanji);
		} else {
			fmt(g, m->birth_family, sizeof(m->birth_family), "%s",
			    other_surname(g, sur->kanji)->kanji);
		}
	}
}

/* Head and spouse; the wife's birth surname differs. */
static void
couple(struct gen *g, struct hh *h, int lo, int hi,
    const struct name_surname *sur)
{
	struct member *a, *b;
	int hage = adult_age(g, lo, hi);

	if (chance(g, 950)) {
		a = add_member(g, h, ROLE_HEAD, "世帯主", STORE_SEX_MALE, hage,
		    sur);
		b = add_member(g, h, ROLE_SPOUSE, "妻", STORE_SEX_FEMALE,
		    adult_age(g, hage - 5 < 20 ? 20 : hage - 5, hage + 3), sur);
	} else {
		a = add_member(g, h, ROLE_HEAD, "世帯主", STORE_SEX_FEMALE,
		    hage, sur);
		b = add_member(g, h, ROLE_SPOUSE, "夫", STORE_SEX_MALE,
		    adult_age(g, hage - 3 < 20 ? 20 : hage - 3, hage + 6), sur);
	}
	if (a->r.sex == STORE_SEX_FEMALE)
		fmt(g, a->birth_family, sizeof(a->birth_family), "%s",
		    other_surname(g, sur->kanji)->kanji);
	else
		fmt(g, b->birth_family, sizeof(b->birth_family), "%s",
		    other_surname(g, sur->kanji)->kanji);
}

static int
husband_of(const struct hh *h, int a, int b)
{
	return h->m[a].r.sex == STORE_SEX_MALE ? a : b;
}

static void
tpl_couple(struct gen *g, struct hh *h)
{
	const struct name_surname *sur;

	pick_surname(g, &sur);
	couple(g, h, rrange(g, 0, 2) == 0 ? 24 : 55, 88, sur);
	marry(g, h, 0, 1);
}

static void
tpl_family(struct gen *g, struct hh *h)
{
	const struct name_surname *sur;
	int hu, wi, i, k;

	pick_surname(g, &sur);
	couple(g, h, 30, 60, sur);
	hu = husband_of(h, 0, 1);
	wi = hu == 0 ? 1 : 0;
	k = rrange(g, 0, 99);
	add_children(g, h, hu, wi, k < 45 ? 1 : k < 90 ? 2 : 3, 28, sur,
	    ROLE_CHILD, "子");
	marry(g, h, 0, 1);
	for (i = 2; i < h->n; i++)
		if (h->m[i].age >= 18 && chance(g, 250))
			status_moved_out(g, &h->m[i], h);
}

static void
tpl_three_gen(struct gen *g, struct hh *h)
{
	const struct name_surname *sur;
	struct member *head, *f = NULL, *mo = NULL;
	int hu, wi, fi = -1, mi = -1, r;

	pick_surname(g, &sur);
	head = add_member(g, h, ROLE_HEAD, "世帯主", STORE_SEX_MALE,
	    rrange(g, 35, 56), sur);
	add_member(g, h, ROLE_SPOUSE, "妻", STORE_SEX_FEMALE,
	    adult_age(g, head->age - 5, head->age + 2), sur);
	fmt(g, h->m[1].birth_family, sizeof(h->m[1].birth_family), "%s",
	    other_surname(g, sur->kanji)->kanji);
	hu = 0;
	wi = 1;
	add_children(g, h, hu, wi, rrange(g, 1, 2), 20, sur, ROLE_CHILD, "子");
	r = rrange(g, 0, 9);
	if (r < 7) {
		mo = add_member(g, h, ROLE_MOTHER, "母", STORE_SEX_FEMALE,
		    adult_age(g, head->age + 24, head->age + 34), sur);
		mi = h->n - 1;
		fmt(g, mo->birth_family, sizeof(mo->birth_family), "%s",
		    other_surname(g, sur->kanji)->kanji);
	}
	if (r >= 4) {
		f = add_member(g, h, ROLE_FATHER, "父", STORE_SEX_MALE,
		    adult_age(g, head->age + 26, head->age + 36), sur);
		fi = h->n - 1;
	}
	h->m[0].father = fi;
	h->m[0].mother = mi;
	marry(g, h, hu, wi);
	if (fi >= 0 && mi >= 0)
		marry(g, h, fi, mi);
	else if (fi >= 0)
		f->marriage = date_of(days_from(&head->r.birth) -
		    rrange(g, 300, 4 * 365));
	if (f != NULL && chance(g, 250))
		status_deceased(g, f, h);
}

static void
tpl_single_parent(struct gen *g, struct hh *h)
{
	const struct name_surname *sur;
	struct member *m;

	pick_surname(g, &sur);
	m = add_member(g, h, ROLE_HEAD, "世帯主", chance(g, 850) ?
	    STORE_SEX_FEMALE : STORE_SEX_MALE, rrange(g, 28, 50), sur);
	if (m->r.sex == STORE_SEX_FEMALE)
		add_children(g, h, -1, 0, rrange(g, 1, 2), 20, sur,
		    ROLE_CHILD, "子");
	else
		add_children(g, h, 0, -1, rrange(g, 1, 2), 20, sur,
		    ROLE_CHILD, "子");
}

static void
tpl_lodgers(struct gen *g, struct hh *h)
{
	const struct name_surname *sur;

	pick_surname(g, &sur);
	add_member(g, h, ROLE_HEAD, "世帯主", rrange(g, 1, 2),
	    rrange(g, 22, 40), sur);
	add_member(g, h, ROLE_LODGER, "同居人", rrange(g, 1, 2),
	    rrange(g, 22, 40), other_surname(g, sur->kanji));
}

static void
tpl_grandchildren(struct gen *g, struct hh *h)
{
	const struct name_surname *sur;
	struct member *head, *son, *dil;
	int si, di, wi = -1;

	pick_surname(g, &sur);
	head = add_member(g, h, ROLE_HEAD, "世帯主", STORE_SEX_MALE,
	    rrange(g, 60, 80), sur);
	if (chance(g, 850)) {
		add_member(g, h, ROLE_SPOUSE, "妻", STORE_SEX_FEMALE,
		    adult_age(g, head->age - 5, head->age + 2), sur);
		wi = 1;
		fmt(g, h->m[1].birth_family, sizeof(h->m[1].birth_family), "%s",
		    other_surname(g, sur->kanji)->kanji);
	}
	son = add_member(g, h, ROLE_CHILD, "子", STORE_SEX_MALE,
	    rrange(g, 28, head->age - 24 < 28 ? 28 : (head->age - 24 > 50 ?
	    50 : head->age - 24)), sur);
	si = h->n - 1;
	son->father = 0;
	son->mother = wi;
	dil = add_member(g, h, ROLE_CHILD_SPOUSE, "子の妻", STORE_SEX_FEMALE,
	    adult_age(g, son->age - 4 < 22 ? 22 : son->age - 4, son->age + 2),
	    sur);
	di = h->n - 1;
	fmt(g, dil->birth_family, sizeof(dil->birth_family), "%s",
	    other_surname(g, sur->kanji)->kanji);
	add_children(g, h, si, di, rrange(g, 1, 2), 15, sur, ROLE_GRANDCHILD,
	    "孫");
	if (wi >= 0)
		marry(g, h, 0, wi);
	marry(g, h, si, di);
}

static void
tpl_mixed(struct gen *g, struct hh *h)
{
	const struct name_surname *sur;
	const struct name_foreign *fn;
	struct member *head, *w;

	pick_surname(g, &sur);
	head = add_member(g, h, ROLE_HEAD, "世帯主", STORE_SEX_MALE,
	    rrange(g, 28, 60), sur);
	fn = &names_foreign[rrange(g, 0, (int)names_nforeign - 1)];
	w = add_foreigner(g, h, ROLE_SPOUSE, "妻", STORE_SEX_FEMALE,
	    adult_age(g, head->age - 8 < 22 ? 22 : head->age - 8,
	    head->age + 2), fn, "日本人の配偶者等");
	(void)w;
	add_children(g, h, 0, 1, rrange(g, 0, 2), 15, sur, ROLE_CHILD, "子");
	marry(g, h, 0, 1);
}

/* ---------------------------------------------------------- addresses */

static void
make_address(struct gen *g, struct hh *h)
{
	char ban[16], go[16], room[16];
	const char *district = pick(g, names_districts, names_ndistricts);
	int chome = rrange(g, 1, 5), r = rrange(g, 0, 999);

	fwnum(rrange(g, 1, 30), ban, sizeof(ban));
	fwnum(rrange(g, 1, 25), go, sizeof(go));
	if (r < 580) {
		fmt(g, h->address, sizeof(h->address), "%s%s%s丁目%s番%s号",
		    names_town, district, kanji_num[chome], ban, go);
		return;
	}
	fwnum(rrange(g, 1, 14) * 100 + rrange(g, 1, 12), room, sizeof(room));
	if (r < 950)
		fmt(g, h->address, sizeof(h->address),
		    "%s%s%s丁目%s番%s号　%s%s号室", names_town, district,
		    kanji_num[chome], ban, go,
		    pick(g, names_buildings, names_nbuildings), room);
	else {
		fmt(g, h->address, sizeof(h->address),
		    "%s%s%s丁目%s番%s号　%s%s号室", names_town, district,
		    kanji_num[chome], ban, go, pick(g, names_long_buildings,
		    names_nlong_buildings), room);
	}
}

static void
town_domicile(struct gen *g, char *dst, size_t len)
{
	char ban[16];

	fwnum(rrange(g, 1, 30), ban, sizeof(ban));
	fmt(g, dst, len, "%s%s%s丁目%s番", names_town,
	    pick(g, names_districts, names_ndistricts),
	    kanji_num[rrange(g, 1, 5)], ban);
}

static void
elsewhere_address(struct gen *g, char *dst, size_t len)
{
	const char *base = pick(g, names_elsewhere, names_nelsewhere);
	char go[16];
	size_t bl = strlen(base);

	fwnum(rrange(g, 1, 20), go, sizeof(go));
	if (bl >= 3 && strcmp(base + bl - 3, "番") == 0)
		fmt(g, dst, len, "%s%s号", base, go);
	else
		fmt(g, dst, len, "%s", base);
}

/* ----------------------------------------------------- family registers */

static struct unit *
unit_new(struct gen *g, struct hh *h, const char *created_reason,
    const struct store_date *created)
{
	struct unit *u;

	if (h->nu == UNITS_MAX) {
		g->overflow = 1;
		return &h->u[UNITS_MAX - 1];
	}
	u = &h->u[h->nu++];
	memset(u, 0, sizeof(*u));
	u->in_town = chance(g, 820);
	if (u->in_town)
		town_domicile(g, u->k.domicile, sizeof(u->k.domicile));
	else
		fmt(g, u->k.domicile, sizeof(u->k.domicile), "%s",
		    pick(g, names_elsewhere, names_nelsewhere));
	fmt(g, u->k.created_reason, sizeof(u->k.created_reason), "%s",
	    created_reason);
	u->k.created = *created;
	if (store_date_cmp(created, &g->today) > 0)
		u->k.created = g->today;
	u->k.pending = u->in_town && chance(g, 25);
	return u;
}

static struct koseki_entry *
unit_entry(struct gen *g, struct unit *u, int who)
{
	struct koseki_entry *e;

	if (u->n == UNIT_MAX) {
		g->overflow = 1;
		return &u->e[UNIT_MAX - 1];
	}
	e = &u->e[u->n];
	memset(e, 0, sizeof(*e));
	u->who[u->n] = who;
	e->seq = ++u->n;
	return e;
}

static void
add_event(struct gen *g, struct koseki_entry *e, const char *kind,
    const struct store_date *d, const char *detail)
{
	struct koseki_event *ev;

	if (e->nevents == STORE_KOSEKI_EVENTS_MAX) {
		g->overflow = 1;
		return;
	}
	ev = &e->events[e->nevents++];
	fmt(g, ev->kind, sizeof(ev->kind), "%s", kind);
	ev->date = *d;
	fmt(g, ev->detail, sizeof(ev->detail), "%s", detail);
}

/* An invented person outside the town: a parent, a late husband. */
static void
invent_parent(struct gen *g, char *dst, size_t len, const char *family,
    int sex, int child_birth_year, int given_only)
{
	const struct name_given *gv = pick_given(g, sex,
	    child_birth_year - 30);

	if (given_only)
		fmt(g, dst, len, "%s", gv->kanji);
	else
		fullname(g, dst, len, family, gv->kanji);
}

/* Parents' names as the register prints them: 父 full name, 母 given. */
static void
entry_parents(struct gen *g, const struct hh *h, int idx,
    struct koseki_entry *e)
{
	const struct member *m = &h->m[idx];

	if (m->father >= 0)
		fullname(g, e->father, sizeof(e->father),
		    h->m[m->father].birth_family, h->m[m->father].r.given_name);
	else
		invent_parent(g, e->father, sizeof(e->father), m->birth_family,
		    STORE_SEX_MALE, m->r.birth.y, 0);
	if (m->mother >= 0 && h->m[m->mother].r.nationality[0] != '\0')
		fmt(g, e->mother, sizeof(e->mother), "%s，%s",
		    h->m[m->mother].r.family_name,
		    h->m[m->mother].r.given_name);
	else if (m->mother >= 0)
		fmt(g, e->mother, sizeof(e->mother), "%s",
		    h->m[m->mother].r.given_name);
	else
		invent_parent(g, e->mother, sizeof(e->mother), "",
		    STORE_SEX_FEMALE, m->r.birth.y, 1);
	parent_relation(g, h, idx, e->parent_relation,
	    sizeof(e->parent_relation));
}

static void
entry_birth(struct gen *g, const struct member *m, struct koseki_entry *e)
{
	char d[STORE_ADDR_MAX];

	fmt(g, d, sizeof(d), "【出生地】%s", m->birthplace);
	add_event(g, e, "出生", &m->r.birth, d);
}

/* Put member idx into unit u as a current (or removed) entry. */
static struct koseki_entry *
unit_add(struct gen *g, struct hh *h, struct unit *u, int idx, int current)
{
	struct member *m = &h->m[idx];
	struct koseki_entry *e = unit_entry(g, u, idx);
	char d[STORE_ADDR_MAX];

	fmt(g, e->family_name, sizeof(e->family_name), "%s",
	    current ? m->r.family_name : m->birth_family);
	fmt(g, e->given_name, sizeof(e->given_name), "%s", m->r.given_name);
	e->birth = m->r.birth;
	e->sex = m->r.sex;
	entry_parents(g, h, idx, e);
	entry_birth(g, m, e);
	if (current) {
		m->unit = (int)(u - h->u);
		if (m->r.status == RESIDENT_DECEASED) {
			e->removed = 1;
			fmt(g, e->removal_reason, sizeof(e->removal_reason),
			    "死亡");
			fmt(g, d, sizeof(d), "【死亡地】%s", names_town);
			add_event(g, e, "死亡", &m->r.status_date, d);
			m->unit = (int)(u - h->u);
		}
	}
	return e;
}

static void
marriage_events(struct gen *g, struct hh *h, struct unit *u,
    struct koseki_entry *he, int hi, struct koseki_entry *we, int wi)
{
	char d[STORE_ADDR_MAX], prev[STORE_ADDR_MAX], hn[STORE_FULLNAME_MAX];
	const struct member *hm = &h->m[hi], *wm = &h->m[wi];

	fullname(g, hn, sizeof(hn), hm->r.family_name, hm->r.given_name);
	if (wm->r.nationality[0] != '\0') {
		char bd[16];

		store_date_format(&wm->r.birth, bd, sizeof(bd));
		fmt(g, d, sizeof(d), "【配偶者氏名】%s，%s【配偶者の国籍】%s"
		    "【配偶者の生年月日】%s", wm->r.family_name,
		    wm->r.given_name, wm->r.nationality, bd);
		add_event(g, he, "婚姻", &hm->marriage, d);
		return;
	}
	fmt(g, d, sizeof(d), "【配偶者氏名】%s %s", wm->birth_family,
	    wm->r.given_name);
	add_event(g, he, "婚姻", &hm->marriage, d);
	if (we == NULL)
		return;
	elsewhere_address(g, prev, sizeof(prev));
	fmt(g, d, sizeof(d), "【配偶者氏名】%s【従前戸籍】%s %s", hn, prev,
	    we->father);
	add_event(g, we, "婚姻", &wm->marriage, d);
	(void)u;
}

/*
 * The register of the household's core family: husband as 筆頭者, wife,
 * then their children still in it.
 */
static void
unit_core(struct gen *g, struct hh *h, int hu, int wi, int kids_of)
{
	struct unit *u;
	struct koseki_entry *he, *we = NULL;
	int i;

	u = unit_new(g, h, "婚姻", &h->m[hu].marriage);
	fullname(g, u->k.head_name, sizeof(u->k.head_name),
	    h->m[hu].r.family_name, h->m[hu].r.given_name);
	he = unit_add(g, h, u, hu, 1);
	if (wi >= 0 && h->m[wi].r.nationality[0] == '\0')
		we = unit_add(g, h, u, wi, 1);
	if (wi >= 0)
		marriage_events(g, h, u, he, hu, we, wi);
	for (i = 0; i < h->n; i++)
		if (h->m[i].r.nationality[0] == '\0' && h->m[i].unit == -1 &&
		    (h->m[i].father == kids_of || h->m[i].mother == kids_of) &&
		    h->m[i].spouse == -1)
			unit_add(g, h, u, i, 1);
}

/*
 * A register whose 筆頭者 is not a resident: the parents' register of a
 * single adult, or the register of a widow whose husband died before
 * the records here begin.
 */
static void
unit_with_absent_head(struct gen *g, struct hh *h, int idx, int as_widow)
{
	struct unit *u;
	struct koseki_entry *he, *e;
	struct member *m = &h->m[idx];
	struct store_date created, died;
	char d[STORE_ADDR_MAX];
	const struct name_given *gv;

	if (as_widow) {
		created = m->r.birth;
		created.y += rrange(g, 22, 28);
		if (created.m == 2 && created.d == 29)
			created.d = 28;
	} else {
		created = m->r.birth;
		created.y -= rrange(g, 1, 4);
		if (created.m == 2 && created.d == 29)
			created.d = 28;
	}
	u = unit_new(g, h, "婚姻", &created);
	he = unit_entry(g, u, -1);
	fmt(g, he->family_name, sizeof(he->family_name), "%s",
	    as_widow ? m->r.family_name : m->birth_family);
	gv = pick_given(g, STORE_SEX_MALE, m->r.birth.y - (as_widow ? 2 : 30));
	fmt(g, he->given_name, sizeof(he->given_name), "%s", gv->kanji);
	fullname(g, u->k.head_name, sizeof(u->k.head_name), he->family_name,
	    he->given_name);
	he->birth = date_of(days_from(&m->r.birth) - (as_widow ? rrange(g,
	    0, 5 * 365) : rrange(g, 25 * 365, 35 * 365)));
	he->sex = STORE_SEX_MALE;
	invent_parent(g, he->father, sizeof(he->father), he->family_name,
	    STORE_SEX_MALE, he->birth.y, 0);
	invent_parent(g, he->mother, sizeof(he->mother), "", STORE_SEX_FEMALE,
	    he->birth.y, 1);
	fmt(g, he->parent_relation, sizeof(he->parent_relation), "%s",
	    chance(g, 600) ? "長男" : "二男");
	fmt(g, d, sizeof(d), "【出生地】%s", pick(g, names_birthplaces,
	    names_nbirthplaces));
	add_event(g, he, "出生", &he->birth, d);
	add_event(g, he, "婚姻", &created, "");
	if (as_widow || chance(g, 150)) {
		long lo = days_from(&created) + 365;

		died = date_of(ldays_between(g, lo, g->today_days - 400));
		he->removed = 1;
		fmt(g, he->removal_reason, sizeof(he->removal_reason), "死亡");
		add_event(g, he, "死亡", &died, "");
	}
	if (as_widow) {
		e = unit_add(g, h, u, idx, 1);
		fmt(g, d, sizeof(d), "【配偶者氏名】%s", u->k.head_name);
		add_event(g, e, "婚姻", &created, d);
		return;
	}
	/* the parents' register: the mother, then the resident as a child */
	e = unit_entry(g, u, -1);
	fmt(g, e->family_name, sizeof(e->family_name), "%s", he->family_name);
	fmt(g, e->given_name, sizeof(e->given_name), "%s",
	    pick_given(g, STORE_SEX_FEMALE, he->birth.y)->kanji);
	e->birth = date_of(days_from(&he->birth) + rrange(g, -3 * 365,
	    3 * 365));
	e->sex = STORE_SEX_FEMALE;
	invent_parent(g, e->father, sizeof(e->father),
	    other_surname(g, he->family_name)->kanji, STORE_SEX_MALE,
	    e->birth.y, 0);
	invent_parent(g, e->mother, sizeof(e->mother), "", STORE_SEX_FEMALE,
	    e->birth.y, 1);
	fmt(g, e->parent_relation, sizeof(e->parent_relation), "長女");
	fmt(g, d, sizeof(d), "【出生地】%s", pick(g, names_birthplaces,
	    names_nbirthplaces));
	add_event(g, e, "出生", &e->birth, d);
	fmt(g, d, sizeof(d), "【配偶者氏名】%s", u->k.head_name);
	add_event(g, e, "婚姻", &created, d);
	e = unit_add(g, h, u, idx, 1);
	fmt(g, e->father, sizeof(e->father), "%s", u->k.head_name);
	fmt(g, e->mother, sizeof(e->mother), "%s", u->e[1].given_name);
}

/* Registers for every national of the household, by template shape. */
static void
assign_units(struct gen *g, struct hh *h)
{
	struct unit *u;
	struct koseki_entry *e;
	struct store_date d;
	char det[STORE_ADDR_MAX];
	int i, hu, wi, head = 0;

	if (h->m[head].r.nationality[0] != '\0')
		return;		/* foreign household (no national in it) */

	/* the head's generation */
	if (h->m[head].spouse >= 0) {
		hu = husband_of(h, head, h->m[head].spouse);
		wi = hu == head ? h->m[head].spouse : head;
		unit_core(g, h, hu, wi, hu);
		/* the wife's children count too (same couple) */
	} else if (h->m[head].role == ROLE_HEAD) {
		int has_kids = 0;

		for (i = 0; i < h->n; i++)
			if ((h->m[i].father == head ||
			    h->m[i].mother == head) && h->m[i].spouse == -1)
				has_kids = 1;
		if (has_kids && h->m[head].age < 60) {
			/* a single parent: own register since the divorce */
			d = date_of(days_from(&h->m[head].r.birth) +
			    rrange(g, 30, 40) * 365);
			if (days_from(&d) > g->today_days - 60)
				d = date_of(g->today_days - rrange(g, 60, 900));
			u = unit_new(g, h, "離婚", &d);
			fullname(g, u->k.head_name, sizeof(u->k.head_name),
			    h->m[head].r.family_name, h->m[head].r.given_name);
			e = unit_add(g, h, u, head, 1);
			invent_parent(g, det, sizeof(det),
			    h->m[head].r.family_name, STORE_SEX_MALE,
			    h->m[head].r.birth.y + 30, 0);
			{
				char dd[STORE_ADDR_MAX];

				fmt(g, dd, sizeof(dd), "【配偶者氏名】%s", det);
				add_event(g, e, "離婚", &u->k.created, dd);
			}
			for (i = 0; i < h->n; i++)
				if (h->m[i].unit == -1 &&
				    h->m[i].spouse == -1 &&
				    (h->m[i].father == head ||
				    h->m[i].mother == head))
					unit_add(g, h, u, i, 1);
		} else if (h->m[head].age >= 65 &&
		    h->m[head].r.sex == STORE_SEX_FEMALE)
			unit_with_absent_head(g, h, head, 1);
		else if (h->m[head].age >= 45 || has_kids || chance(g, 200)) {
			/* an own register, made by 分籍 */
			d = date_of(years_after(&h->m[head].r.birth, 20) +
			    rrange(g, 0, 3000));
			if (days_from(&d) > g->today_days - 30)
				d = date_of(g->today_days - 30);
			u = unit_new(g, h, "分籍", &d);
			fullname(g, u->k.head_name, sizeof(u->k.head_name),
			    h->m[head].r.family_name, h->m[head].r.given_name);
			e = unit_add(g, h, u, head, 1);
			add_event(g, e, "分籍", &u->k.created, "");
			for (i = 0; i < h->n; i++)
				if (h->m[i].unit == -1 &&
				    h->m[i].spouse == -1 &&
				    h->m[i].r.nationality[0] == '\0' &&
				    (h->m[i].father == head ||
				    h->m[i].mother == head))
					unit_add(g, h, u, i, 1);
		} else
			unit_with_absent_head(g, h, head, 0);
	}

	/* the next generation with its own family (子, 子の妻, 孫) */
	for (i = 0; i < h->n; i++)
		if (h->m[i].role == ROLE_CHILD && h->m[i].spouse >= 0 &&
		    h->m[i].unit == -1)
			unit_core(g, h, i, h->m[i].spouse, i);

	/* the head's parents: their register, the head removed by marriage */
	for (i = 0; i < h->n; i++) {
		if ((h->m[i].role != ROLE_FATHER &&
		    h->m[i].role != ROLE_MOTHER) || h->m[i].unit != -1)
			continue;
		if (h->m[i].role == ROLE_FATHER) {
			int mo = h->m[i].spouse;

			unit_core(g, h, i, mo, i);
			u = &h->u[h->m[i].unit];
		} else if (h->m[i].spouse >= 0)
			continue;	/* handled with the father */
		else {
			unit_with_absent_head(g, h, i, 1);
			u = &h->u[h->m[i].unit];
		}
		e = unit_add(g, h, u, head, 0);
		if (h->m[head].father < 0)
			fmt(g, e->father, sizeof(e->father), "%s",
			    u->k.head_name);
		e->removed = 1;
		fmt(g, e->removal_reason, sizeof(e->removal_reason), "婚姻");
		fmt(g, det, sizeof(det), "【新本籍】%s【称する氏】夫の氏",
		    h->u[h->m[head].unit].k.domicile);
		add_event(g, e, "婚姻", &h->m[head].marriage, det);
	}

	/* everyone else: lodgers and the like, in their parents' register */
	for (i = 0; i < h->n; i++)
		if (h->m[i].r.nationality[0] == '\0' && h->m[i].unit == -1)
			unit_with_absent_head(g, h, i, 0);
}

/* ----------------------------------------------------------- numbers */

static uint64_t
gcd64(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* An affine permutation of [0, 10^11): unique codes without a table. */
static uint64_t
perm_mult(struct gen *g)
{
	uint64_t a;

	do
		a = rng_next(g) % 100000000000ULL;
	while (a < 1000 || gcd64(a, 100000000000ULL) != 1);
	return a;
}

static uint64_t
perm(uint64_t a, uint64_t b, uint64_t i)
{
	const uint64_t n = 100000000000ULL;
	unsigned __int128 x = (unsigned __int128)a * (i % n) + b;

	return (uint64_t)(x % n);
}

static void
numbers(struct gen *g, struct resident *r)
{
	char first[16];
	int cd;

	snprintf(r->register_code, sizeof(r->register_code), "%011" PRIu64,
	    perm(g->code_a, g->code_b, g->idx));
	snprintf(first, sizeof(first), "%011" PRIu64,
	    perm(g->mn_a, g->mn_b, g->idx));
	if (first[0] == '0')
		first[0] = '1' + (char)(g->idx % 9);
	cd = store_mynumber_check_digit(first);
	snprintf(r->my_number, sizeof(r->my_number), "%.11s%c", first,
	    (char)('0' + (cd < 0 ? 0 : cd)));
	g->idx++;
}

/* ------------------------------------------------------------ seal PNG */

static uint32_t
crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	size_t i;
	int k;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1)));
	}
	return ~crc;
}

struct buf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	int	 fail;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	uint8_t *np;
	size_t ncap;

	if (b->fail)
		return;
	if (b->len + n > b->cap) {
		ncap = b->cap == 0 ? 4096 : b->cap;
		while (ncap < b->len + n)
			ncap *= 2;
		if (ncap > STORE_SEAL_IMAGE_MAX * 2 ||
		    (np = realloc(b->p, ncap)) == NULL) {
			b->fail = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_be32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	buf_add(b, x, 4);
}

static void
png_chunk(struct buf *b, const char *type, const uint8_t *data, size_t n)
{
	uint32_t crc;

	buf_be32(b, (uint32_t)n);
	buf_add(b, type, 4);
	if (n > 0)
		buf_add(b, data, n);
	crc = crc32_update(0, (const uint8_t *)type, 4);
	crc = crc32_update(crc, data, n);
	buf_be32(b, crc);
}

#define SEAL_PX	64

static void
seal_line(uint8_t img[SEAL_PX][SEAL_PX], int x0, int y0, int x1, int y1)
{
	int x, y, t;

	for (y = y0; y <= y1; y++)
		for (x = x0; x <= x1; x++)
			for (t = 0; t < 2; t++)
				if (x + t < SEAL_PX && y + t < SEAL_PX &&
				    x >= 0 && y >= 0)
					img[y + t][x + t] = 1;
}

int
seed_seal_png(const char *surname, uint8_t **png, size_t *len)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };
	uint8_t img[SEAL_PX][SEAL_PX], ihdr[13], plte[6] = { 255, 255, 255,
	    200, 32, 32 }, trns[1] = { 0 };
	struct buf raw = { 0 }, z = { 0 }, out = { 0 };
	const unsigned char *s = (const unsigned char *)surname;
	uint32_t hash, a1 = 1, a2 = 0, cps[4];
	size_t i, ncp = 0, off, n;
	int x, y, c, row, col, cell_h, top;
	uint8_t hdr[5], zero = 0;

	memset(img, 0, sizeof(img));
	/* double ring */
	for (y = 0; y < SEAL_PX; y++)
		for (x = 0; x < SEAL_PX; x++) {
			double dx = x + 0.5 - SEAL_PX / 2.0;
			double dy = y + 0.5 - SEAL_PX / 2.0;
			double d2 = dx * dx + dy * dy;

			if ((d2 >= 28.0 * 28.0 && d2 <= 31.0 * 31.0) ||
			    (d2 >= 25.0 * 25.0 && d2 <= 26.0 * 26.0))
				img[y][x] = 1;
		}
	/* one abstract glyph per code point of the surname, top to bottom */
	for (i = 0; s[i] != '\0' && ncp < 4; ) {
		hash = 2166136261U;
		n = (s[i] & 0x80) == 0 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 :
		    (s[i] & 0xf0) == 0xe0 ? 3 : 4;
		for (off = 0; off < n && s[i + off] != '\0'; off++)
			hash = (hash ^ s[i + off]) * 16777619U;
		cps[ncp++] = hash;
		i += off;
	}
	if (ncp == 0)
		cps[ncp++] = 2166136261U;
	cell_h = 36 / (int)ncp;
	for (c = 0; c < (int)ncp; c++) {
		top = 14 + c * cell_h;
		hash = cps[c];
		for (row = 0; row < 4; row++)
			if (hash & (1U << row) || row == 0)
				seal_line(img, 22, top + row * (cell_h - 2) / 3,
				    41, top + row * (cell_h - 2) / 3);
		for (col = 0; col < 4; col++)
			if (hash & (1U << (4 + col)))
				seal_line(img, 22 + col * 6, top, 22 + col * 6,
				    top + cell_h - 3);
	}
	/* scanlines, filter 0 */
	for (y = 0; y < SEAL_PX; y++) {
		buf_add(&raw, &zero, 1);
		buf_add(&raw, img[y], SEAL_PX);
	}
	/* zlib: stored deflate blocks (no compression library needed) */
	hdr[0] = 0x78;
	hdr[1] = 0x01;
	buf_add(&z, hdr, 2);
	for (off = 0; off < raw.len || off == 0; off += n) {
		n = raw.len - off > 65535 ? 65535 : raw.len - off;
		hdr[0] = off + n >= raw.len ? 1 : 0;
		hdr[1] = (uint8_t)(n & 0xff);
		hdr[2] = (uint8_t)(n >> 8);
		hdr[3] = (uint8_t)(~n & 0xff);
		hdr[4] = (uint8_t)((~n >> 8) & 0xff);
		buf_add(&z, hdr, 5);
		buf_add(&z, raw.p + off, n);
		if (n == 0)
			break;
	}
	for (i = 0; i < raw.len; i++) {
		a1 = (a1 + raw.p[i]) % 65521;
		a2 = (a2 + a1) % 65521;
	}
	buf_be32(&z, (a2 << 16) | a1);
	ihdr[0] = ihdr[1] = ihdr[4] = ihdr[5] = 0;
	ihdr[2] = ihdr[6] = 0;
	ihdr[3] = ihdr[7] = SEAL_PX;
	ihdr[8] = 8;		/* bit depth */
	ihdr[9] = 3;		/* palette */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	buf_add(&out, sig, sizeof(sig));
	png_chunk(&out, "IHDR", ihdr, sizeof(ihdr));
	png_chunk(&out, "PLTE", plte, sizeof(plte));
	png_chunk(&out, "tRNS", trns, sizeof(trns));	/* white: clear */
	if (!z.fail)
		png_chunk(&out, "IDAT", z.p, z.len);
	png_chunk(&out, "IEND", NULL, 0);
	free(raw.p);
	if (raw.fail || z.fail || out.fail) {
		free(z.p);
		free(out.p);
		return -1;
	}
	free(z.p);
	*png = out.p;
	*len = out.len;
	return 0;
}

/* ------------------------------------------------------------------ tax */

static int64_t
salary_income(int64_t s)
{
	int64_t v;

	if (s <= 0)
		return 0;
	if (s <= 1625000)
		v = s - 550000;
	else if (s <= 1800000)
		v = s - (s * 40 / 100 - 100000);
	else if (s <= 3600000)
		v = s - (s * 30 / 100 + 80000);
	else if (s <= 6600000)
		v = s - (s * 20 / 100 + 440000);
	else if (s <= 8500000)
		v = s - (s * 10 / 100 + 1100000);
	else
		v = s - 1950000;
	return v < 0 ? 0 : v;
}

static int64_t
pension_income(int64_t p, int age)
{
	int64_t v;

	if (p <= 0)
		return 0;
	if (age >= 65)
		v = p <= 3300000 ? p - 1100000 : p * 75 / 100 - 275000;
	else
		v = p <= 1300000 ? p - 600000 : p * 75 / 100 - 275000;
	return v < 0 ? 0 : v;
}

/* Scale the latest income to an earlier year (a modest yearly drift). */
static int64_t
year_amount(int64_t base, int back)
{
	int64_t v = base;

	while (back-- > 0)
		v = v * 98 / 100;
	return v / 1000 * 1000;
}

static void
item(struct gen *g, struct tax_record *t, enum tax_item_kind k,
    const char *cat, int64_t amount)
{
	if (amount <= 0)
		return;
	if (t->nitems == STORE_TAX_ITEMS_MAX) {
		g->overflow = 1;
		return;
	}
	t->items[t->nitems].kind = k;
	fmt(g, t->items[t->nitems].category,
	    sizeof(t->items[t->nitems].category), "%s", cat);
	t->items[t->nitems].amount = amount;
	t->nitems++;
}

static int
member_total_income(const struct member *m, int back, int age)
{
	return (int)(salary_income(year_amount(m->salary, back)) +
	    pension_income(year_amount(m->pension, back), age));
}

/*
 * A simplified 個人住民税 (Tokyo rates): 所得割 6 % + 4 % less a flat
 * 調整控除, 均等割, the non-taxable limit for the household size.
 */
static int
make_tax(struct gen *g, const struct hh *h, int idx, int fy,
    struct tax_record *t)
{
	const struct member *m = &h->m[idx];
	struct store_date dec31 = { fy - 1, 12, 31 };
	int back = g->cur_fy - fy, age, i, dependants = 0, a;
	int64_t sal, pen, inc, ded = 0, v, limit;

	memset(t, 0, sizeof(*t));
	t->fiscal_year = fy;
	t->income_year = fy - 1;
	age = store_age(&m->r.birth, &dec31);
	sal = year_amount(m->salary, back);
	pen = year_amount(m->pension, back);
	if (sal + pen <= 0)
		return 0;
	item(g, t, TAX_ITEM_INCOME, "給与収入", sal);
	item(g, t, TAX_ITEM_INCOME, "給与所得", salary_income(sal));
	item(g, t, TAX_ITEM_INCOME, "公的年金等収入", pen);
	item(g, t, TAX_ITEM_INCOME, "公的年金等に係る雑所得",
	    pension_income(pen, age));
	inc = salary_income(sal) + pension_income(pen, age);
	t->total_income = inc;
	v = (sal * 15 + pen * 8) / 100;
	item(g, t, TAX_ITEM_DEDUCTION, "社会保険料控除", v);
	ded += v;
	if (m->role == ROLE_HEAD || m->role == ROLE_FATHER ||
	    (m->role == ROLE_CHILD && m->spouse >= 0)) {
		if (m->spouse >= 0 && h->m[m->spouse].r.status ==
		    RESIDENT_ACTIVE && member_total_income(&h->m[m->spouse],
		    back, age) <= 480000 && inc <= 9000000) {
			v = store_age(&h->m[m->spouse].r.birth, &dec31) >= 70 ?
			    380000 : 330000;
			item(g, t, TAX_ITEM_DEDUCTION, "配偶者控除", v);
			ded += v;
			dependants++;
		}
		v = 0;
		for (i = 0; i < h->n; i++) {
			const struct member *d = &h->m[i];

			if (i == idx || d->r.status != RESIDENT_ACTIVE ||
			    i == m->spouse ||
			    member_total_income(d, back, 0) > 480000 ||
			    days_from(&d->r.birth) > days_from(&dec31))
				continue;
			a = store_age(&d->r.birth, &dec31);
			if (d->father == idx || d->mother == idx ||
			    (m->spouse >= 0 && (d->father == m->spouse ||
			    d->mother == m->spouse))) {
				dependants++;
				v += a < 16 ? 0 : a <= 18 ? 330000 : a <= 22 ?
				    450000 : a < 70 ? 330000 : 380000;
			} else if (m->role == ROLE_HEAD &&
			    (d->role == ROLE_FATHER || d->role == ROLE_MOTHER) &&
			    a >= 70) {
				dependants++;
				v += 450000;	/* 同居老親等 */
			}
		}
		item(g, t, TAX_ITEM_DEDUCTION, "扶養控除", v);
		ded += v;
	}
	if (sal > 2000000 && chance(g, 550)) {
		v = rrange(g, 10, 70) * 1000;
		item(g, t, TAX_ITEM_DEDUCTION, "生命保険料控除", v);
		ded += v;
	}
	if (inc <= 24000000) {
		item(g, t, TAX_ITEM_DEDUCTION, "基礎控除", 430000);
		ded += 430000;
	}
	t->total_deductions = ded;
	t->taxable_income = inc > ded ? (inc - ded) / 1000 * 1000 : 0;
	limit = dependants > 0 ? 350000 * (1 + dependants) + 100000 + 210000 :
	    450000;
	if (inc <= limit) {
		t->municipal_tax = t->prefectural_tax = 0;
		return 1;
	}
	t->municipal_tax = t->taxable_income * 6 / 100 - 1500;
	t->prefectural_tax = t->taxable_income * 4 / 100 - 1000;
	if (t->municipal_tax < 0)
		t->municipal_tax = 0;
	if (t->prefectural_tax < 0)
		t->prefectural_tax = 0;
	t->municipal_tax = t->municipal_tax / 100 * 100 + (fy <= 2023 ?
	    3500 : 3000);
	t->prefectural_tax = t->prefectural_tax / 100 * 100 + (fy <= 2023 ?
	    1500 : 1000);
	return 1;
}

static void
incomes(struct gen *g, struct hh *h)
{
	int i;
	struct member *m;

	for (i = 0; i < h->n; i++) {
		m = &h->m[i];
		if (m->age < 18)
			continue;
		if (m->age >= 65) {
			m->pension = rrange(g, 70, 280) * 10000;
			if (m->age < 75 && chance(g, 200))
				m->salary = rrange(g, 100, 250) * 10000;
		} else if (strcmp(m->r.residence_status, "留学") == 0 ||
		    (m->role == ROLE_CHILD && m->age <= 22 &&
		    m->spouse == -1)) {
			if (chance(g, 550))
				m->salary = rrange(g, 20, 110) * 10000;
		} else if (m->role == ROLE_SPOUSE || m->role ==
		    ROLE_CHILD_SPOUSE) {
			if (chance(g, 400))
				m->salary = rrange(g, 50, 130) * 10000;
			else if (chance(g, 550))
				m->salary = rrange(g, 250, 550) * 10000;
		} else if (chance(g, 900))
			m->salary = (250 + (m->age - 22) * rrange(g, 6, 16) +
			    rrange(g, -40, 80)) * 10000;
	}
}

/* ------------------------------------------------------------- insert */

static int
fail(struct gen *g, const char *what)
{
	snprintf(g->err, g->errlen, "%s: %s", what, store_errmsg(g->s));
	return -1;
}

static int
insert_seals(struct gen *g, struct hh *h)
{
	struct seal s;
	struct member *m;
	long lo, hi, reg, ab;
	int i, rc;

	for (i = 0; i < h->n; i++) {
		m = &h->m[i];
		lo = years_after(&m->r.birth, 15);
		if (days_from(&m->r.moved_in) > lo)
			lo = days_from(&m->r.moved_in);
		hi = m->r.status == RESIDENT_ACTIVE ? g->today_days - 1 :
		    days_from(&m->r.status_date) - 1;
		if (hi - lo < 30 || !chance(g, 780))
			continue;
		memset(&s, 0, sizeof(s));
		s.resident_id = m->r.id;
		reg = ldays_between(g, lo, hi - 20);
		s.registered = date_of(reg);
		fmt(g, s.image_type, sizeof(s.image_type), "image/png");
		if (seed_seal_png(m->r.family_name, &s.image, &s.image_len) ==
		    -1) {
			snprintf(g->err, g->errlen, "seal image: out of memory");
			return -1;
		}
		fmt(g, s.registration_no, sizeof(s.registration_no),
		    "MD-%07d", ++g->seal_seq);
		s.status = SEAL_ACTIVE;
		if (m->r.status != RESIDENT_ACTIVE) {
			/* 転出 and 死亡 abolish a registration */
			s.status = SEAL_ABOLISHED;
			s.abolished = m->r.status_date;
		} else if (chance(g, 80)) {
			s.status = SEAL_ABOLISHED;
			ab = ldays_between(g, reg + 1, hi);
			s.abolished = date_of(ab);
		}
		rc = store_seal_insert(g->s, &s);
		if (rc != STORE_OK) {
			free(s.image);
			return fail(g, "insert seal");
		}
		if (s.status == SEAL_ACTIVE)
			g->sum->seals_active++;
		else
			g->sum->seals_abolished++;
		/* some re-register a new seal after losing the old one */
		if (m->r.status == RESIDENT_ACTIVE &&
		    s.status == SEAL_ABOLISHED && chance(g, 400) &&
		    days_from(&s.abolished) < g->today_days - 1) {
			s.registered = date_of(ldays_between(g,
			    days_from(&s.abolished), g->today_days - 1));
			memset(&s.abolished, 0, sizeof(s.abolished));
			s.status = SEAL_ACTIVE;
			fmt(g, s.registration_no, sizeof(s.registration_no),
			    "MD-%07d", ++g->seal_seq);
			if (store_seal_insert(g->s, &s) != STORE_OK) {
				free(s.image);
				return fail(g, "insert seal");
			}
			g->sum->seals_active++;
		}
		free(s.image);
	}
	return 0;
}

static int
insert_taxes(struct gen *g, struct hh *h)
{
	struct tax_record t;
	struct store_date jan1;
	int i, fy;

	for (i = 0; i < h->n; i++) {
		if (h->m[i].r.status != RESIDENT_ACTIVE)
			continue;
		for (fy = g->cur_fy - 2; fy <= g->cur_fy; fy++) {
			/* taxed by the town it lived in on 1 January */
			jan1.y = fy;
			jan1.m = 1;
			jan1.d = 1;
			if (store_date_cmp(&h->m[i].r.moved_in, &jan1) > 0)
				continue;
			if (!make_tax(g, h, i, fy, &t))
				continue;
			t.resident_id = h->m[i].r.id;
			if (store_tax_insert(g->s, &t) != STORE_OK)
				return fail(g, "insert tax record");
			g->sum->tax_records++;
		}
	}
	return 0;
}

static int
insert_fuhyo(struct gen *g, const struct member *m, int64_t entry_id)
{
	struct fuhyo_entry f;
	int seq = 0;

	memset(&f, 0, sizeof(f));
	f.entry_id = entry_id;
	if (store_date_cmp(&m->r.moved_in, &m->r.birth) > 0) {
		elsewhere_address(g, f.address, sizeof(f.address));
		f.seq = ++seq;
		f.from = m->r.birth;
		if (store_fuhyo_insert(g->s, &f) != STORE_OK)
			return fail(g, "insert 附票");
	}
	fmt(g, f.address, sizeof(f.address), "%s", m->r.address);
	f.seq = ++seq;
	f.from = m->r.moved_in;
	if (store_fuhyo_insert(g->s, &f) != STORE_OK)
		return fail(g, "insert 附票");
	if (m->r.status == RESIDENT_MOVED_OUT) {
		elsewhere_address(g, f.address, sizeof(f.address));
		f.seq = ++seq;
		f.from = m->r.status_date;
		if (store_fuhyo_insert(g->s, &f) != STORE_OK)
			return fail(g, "insert 附票");
	}
	return 0;
}

/* Register events in date order (a death is added before a marriage). */
static void
sort_events(struct koseki_entry *e)
{
	struct koseki_event t;
	size_t i, j;

	for (i = 1; i < e->nevents; i++) {
		t = e->events[i];
		for (j = i; j > 0 &&
		    store_date_cmp(&e->events[j - 1].date, &t.date) > 0; j--)
			e->events[j] = e->events[j - 1];
		e->events[j] = t;
	}
}

static int
insert_household(struct gen *g, struct hh *h)
{
	struct household hd;
	struct member *m;
	struct unit *u;
	int i, j;

	memset(&hd, 0, sizeof(hd));
	fmt(g, hd.address, sizeof(hd.address), "%s", h->address);
	if (store_household_insert(g->s, &hd) != STORE_OK)
		return fail(g, "insert household");
	for (j = 0; j < h->nu; j++) {
		u = &h->u[j];
		if (!u->in_town)
			continue;
		if (store_koseki_insert(g->s, &u->k) != STORE_OK)
			return fail(g, "insert family register");
		g->sum->koseki++;
		g->sum->koseki_pending += u->k.pending;
	}
	for (i = 0; i < h->n; i++) {
		m = &h->m[i];
		m->r.household_id = hd.id;
		numbers(g, &m->r);
		if (m->unit >= 0) {
			u = &h->u[m->unit];
			fmt(g, m->r.domicile, sizeof(m->r.domicile), "%s",
			    u->k.domicile);
			fmt(g, m->r.domicile_head, sizeof(m->r.domicile_head),
			    "%s", u->k.head_name);
			m->r.koseki_id = u->in_town ? u->k.id : 0;
		}
		if (g->overflow) {
			snprintf(g->err, g->errlen, "seed: a generated field "
			    "did not fit");
			return -1;
		}
		if (store_resident_insert(g->s, &m->r) != STORE_OK)
			return fail(g, "insert resident");
	}
	if (store_household_set_head(g->s, hd.id, h->m[0].r.id) != STORE_OK)
		return fail(g, "set household head");
	for (j = 0; j < h->nu; j++) {
		u = &h->u[j];
		if (!u->in_town)
			continue;
		for (i = 0; i < u->n; i++) {
			sort_events(&u->e[i]);
			u->e[i].koseki_id = u->k.id;
			u->e[i].resident_id = u->who[i] >= 0 ?
			    h->m[u->who[i]].r.id : 0;
			if (store_koseki_entry_insert(g->s, &u->e[i]) !=
			    STORE_OK)
				return fail(g, "insert register entry");
			g->sum->koseki_entries++;
			if (u->who[i] >= 0 && h->m[u->who[i]].unit == j &&
			    insert_fuhyo(g, &h->m[u->who[i]], u->e[i].id) == -1)
				return -1;
		}
	}
	if (insert_seals(g, h) == -1 || insert_taxes(g, h) == -1)
		return -1;
	return 0;
}

static size_t
u8chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void
count(struct gen *g, const struct hh *h)
{
	const struct member *m;
	int i;

	g->sum->households++;
	g->sum->long_addresses += u8chars(h->address) > SEED_LONG_ADDRESS;
	for (i = 0; i < h->n; i++) {
		m = &h->m[i];
		g->sum->residents++;
		if (m->r.status == RESIDENT_ACTIVE) {
			g->sum->active++;
			if (m->age < 15)
				g->sum->under_15++;
		} else if (m->r.status == RESIDENT_MOVED_OUT)
			g->sum->moved_out++;
		else
			g->sum->deceased++;
		g->sum->foreign += m->r.nationality[0] != '\0';
		g->sum->support_measures += m->r.support_measures;
		g->sum->substitutes += m->r.name_substitute[0] != '\0';
		g->sum->gaiji_pending += m->r.gaiji_pending;
		if (m->r.nationality[0] == '\0' && m->r.koseki_id == 0)
			g->sum->domicile_elsewhere++;
	}
}

/*
 * The first households are a fixed cast, so that every town, whatever
 * its seed, has each kind of resident the tests and the demo need: a
 * family, foreigners, a protected single parent, a death, a move-out.
 */
static const struct {
	int	t;		/* template draw */
	int	dv;
	int	moved;
	int	deceased;
} cast[] = {
	{ 700, 0, 0, 0 },	/* family */
	{ 40, 0, 0, 0 },	/* foreign */
	{ 880, 1, 0, 0 },	/* single parent under support measures */
	{ 300, 0, 0, 1 },	/* elderly, a death in the records */
	{ 150, 0, 1, 0 },	/* single, moved out */
	{ 450, 0, 0, 0 },	/* couple */
};

static void
build_household(struct gen *g, struct hh *h, int nth)
{
	struct member *m;
	long lo, hi, mv;
	int t = rrange(g, 0, 999), i, k, elderly = 0, single_parent = 0;
	int cast_n = (int)(sizeof(cast) / sizeof(cast[0]));

	if (nth < cast_n)
		t = cast[nth].t;

	/* shares of households, roughly a Japanese suburb's */
	memset(h, 0, sizeof(*h));
	if (t < 80)
		tpl_foreign(g, h);
	else if (t < 92)
		tpl_mixed(g, h);
	else if (t < 215)
		tpl_single(g, h, 18, 34);
	else if (t < 265)
		tpl_single(g, h, 35, 64);
	else if (t < 415) {
		tpl_elderly(g, h);
		elderly = 1;
	} else if (t < 620)
		tpl_couple(g, h);
	else if (t < 800)
		tpl_family(g, h);
	else if (t < 860)
		tpl_three_gen(g, h);
	else if (t < 910) {
		tpl_single_parent(g, h);
		single_parent = 1;
	} else if (t < 935)
		tpl_lodgers(g, h);
	else
		tpl_grandchildren(g, h);

	make_address(g, h);
	/* moved in as adults; the foreign-born recently */
	lo = years_after(&h->m[0].r.birth, 18);
	for (i = 0; i < h->n; i++)
		if (h->m[i].age >= 18 && years_after(&h->m[i].r.birth, 18) > lo)
			lo = years_after(&h->m[i].r.birth, 18);
	if (lo < g->today_days - 45 * 365)
		lo = g->today_days - 45 * 365;
	if (h->m[0].r.nationality[0] != '\0' && lo < g->today_days - 12 * 365)
		lo = g->today_days - 12 * 365;
	hi = g->today_days - 60;
	mv = ldays_between(g, lo, hi);
	h->moved_in = date_of(mv > hi ? hi : mv);
	for (i = 0; i < h->n; i++) {
		m = &h->m[i];
		fmt(g, m->r.address, sizeof(m->r.address), "%s", h->address);
		m->r.moved_in = store_date_cmp(&m->r.birth, &h->moved_in) > 0 ?
		    m->r.birth : h->moved_in;
		if (store_date_cmp(&m->r.birth, &h->moved_in) > 0)
			m->birthplace = names_town;
	}
	/* a single's whole household has left, or died */
	if (h->n == 1 && h->m[0].age < 35 && chance(g, 180))
		status_moved_out(g, &h->m[0], h);
	if (h->m[0].age >= 65 && h->n <= 2 && chance(g, 80))
		status_deceased(g, &h->m[0], h);
	for (i = 1; i < h->n; i++)
		if (h->m[i].role == ROLE_SPOUSE && h->m[0].age >= 65 &&
		    h->n == 2 && h->m[0].r.sex != h->m[i].r.sex &&
		    h->m[i].r.status == RESIDENT_ACTIVE &&
		    h->m[0].r.status == RESIDENT_ACTIVE && elderly)
			status_deceased(g, &h->m[i], h);
	if (nth < cast_n && cast[nth].moved &&
	    h->m[0].r.status == RESIDENT_ACTIVE)
		status_moved_out(g, &h->m[0], h);
	if (nth < cast_n && cast[nth].deceased &&
	    h->m[h->n - 1].r.status == RESIDENT_ACTIVE)
		status_deceased(g, &h->m[h->n - 1], h);
	/* DV support measures cover the whole household */
	k = (h->m[0].r.sex == STORE_SEX_FEMALE && h->m[0].role == ROLE_HEAD &&
	    ((single_parent && chance(g, 350)) ||
	    (h->n == 1 && h->m[0].age < 45 && chance(g, 50))));
	if (nth < cast_n && cast[nth].dv)
		k = 1;
	for (i = 0; i < h->n; i++)
		h->m[i].r.support_measures = k;
	for (i = 0; i < h->n; i++)
		if (h->m[i].r.name_substitute[0] != '\0' && i == 0 &&
		    chance(g, 250))
			h->m[i].r.gaiji_pending = 1;
	incomes(g, h);
	assign_units(g, h);
}

int
seed_town(struct store *s, const struct seed_params *p,
    struct seed_summary *sum, char *err, size_t errlen)
{
	struct gen g;
	struct hh *h;
	struct store_stats st;
	int rc = -1;

	memset(sum, 0, sizeof(*sum));
	if (p->residents < SEED_RESIDENTS_MIN ||
	    p->residents > SEED_RESIDENTS_MAX || !store_date_valid(&p->today) ||
	    p->today.y < 2000) {
		snprintf(err, errlen, "seed: residents must be %d..%d and the "
		    "date from 2000", SEED_RESIDENTS_MIN, SEED_RESIDENTS_MAX);
		return -1;
	}
	if (store_stats(s, &st) != STORE_OK) {
		snprintf(err, errlen, "seed: %s", store_errmsg(s));
		return -1;
	}
	if (st.residents != 0 || st.households != 0) {
		snprintf(err, errlen, "seed: the database already holds %ld "
		    "residents", st.residents);
		return -1;
	}
	memset(&g, 0, sizeof(g));
	g.s = s;
	g.rng = p->seed ^ 0x6b696f736b2d7365ULL;	/* "kiosk-se" */
	g.today = p->today;
	g.today_days = days_from(&p->today);
	g.sum = sum;
	g.err = err;
	g.errlen = errlen;
	g.code_a = perm_mult(&g);
	g.code_b = rng_next(&g) % 100000000000ULL;
	g.mn_a = perm_mult(&g);
	g.mn_b = rng_next(&g) % 100000000000ULL;
	g.cur_fy = p->today.m >= 6 ? p->today.y : p->today.y - 1;
	if ((h = malloc(sizeof(*h))) == NULL) {
		snprintf(err, errlen, "seed: out of memory");
		return -1;
	}
	if (store_batch_begin(s) != STORE_OK) {
		snprintf(err, errlen, "seed: %s", store_errmsg(s));
		free(h);
		return -1;
	}
	while (sum->residents < p->residents) {
		build_household(&g, h, sum->households);
		if (sum->residents + h->n > p->residents && h->n > 1)
			continue;	/* keep the total exact */
		if (insert_household(&g, h) == -1)
			goto done;
		count(&g, h);
	}
	rc = 0;
done:
	free(h);
	if (store_batch_end(s, rc == 0) != STORE_OK && rc == 0) {
		snprintf(err, errlen, "seed: commit: %s", store_errmsg(s));
		rc = -1;
	}
	if (rc == -1)
		memset(sum, 0, sizeof(*sum));
	return rc;
}

/* ---------------------------------------------------------------- cards */

static void
trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* YYYYMMDDHHMMSS[Z] (ASN.1 GeneralizedTime) into tm. */
static int
parse_gentime(const char *v, struct tm *tm)
{
	size_t n = strspn(v, "0123456789");

	if (n != 14 || (v[14] != '\0' && strcmp(v + 14, "Z") != 0))
		return -1;
	if (sscanf(v, "%4d%2d%2d%2d%2d%2d", &tm->tm_year, &tm->tm_mon,
	    &tm->tm_mday, &tm->tm_hour, &tm->tm_min, &tm->tm_sec) != 6)
		return -1;
	tm->tm_year -= 1900;
	tm->tm_mon -= 1;
	return 0;
}

static int
parse_time(const char *v, int64_t *out)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	struct store_date d;
	char m3[4], tz[4], *end;
	long long n;
	int i, used = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (parse_gentime(v, &tm) == 0)
		goto done;
	if (*v != '\0' && strspn(v, "0123456789") == strlen(v)) {
		/* Unix seconds */
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno != 0 || *end != '\0' || n <= 0 || n > 253402300799LL)
			return -1;
		*out = n;
		return 0;
	}
	if (strlen(v) == 10 && store_date_parse(v, &d) == 0) {
		tm.tm_year = d.y - 1900;
		tm.tm_mon = d.m - 1;
		tm.tm_mday = d.d;
		goto done;
	}
	if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) == 6 &&
	    v[used] == '\0') {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		goto done;
	}
	/* OpenSSL: "Jun  1 12:00:00 2030 GMT" */
	if (sscanf(v, "%3s %d %d:%d:%d %d %3s%n", m3, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tm.tm_year, tz, &used) == 7 &&
	    v[used] == '\0' && strcmp(tz, "GMT") == 0) {
		for (i = 0; i < 12; i++)
			if (strcmp(m3, mon[i]) == 0)
				break;
		if (i == 12)
			return -1;
		tm.tm_mon = i;
		tm.tm_year -= 1900;
		goto done;
	}
	return -1;
done:
	d.y = tm.tm_year + 1900;
	d.m = tm.tm_mon + 1;
	d.d = tm.tm_mday;
	if (!store_date_valid(&d) || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

int
seed_parse_card(FILE *fp, const char *fallback, struct seed_card *c,
    char *err, size_t errlen)
{
	char line[1024], *eq, *k, *v;
	int lineno = 0, have_serial = 0, have_na = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->issuer, sizeof(c->issuer), "O=JPKI-TEST");
	if (fallback != NULL && strlen(fallback) < sizeof(c->name))
		snprintf(c->name, sizeof(c->name), "%s", fallback);
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "line %d too long", lineno);
			return -1;
		}
		trim(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			snprintf(err, errlen, "line %d: expected key=value",
			    lineno);
			return -1;
		}
		*eq = '\0';
		k = line;
		v = eq + 1;
		trim(k);
		while (isspace((unsigned char)*v))
			v++;
		if (strcmp(k, "name") == 0) {
			if (*v == '\0' || strlen(v) >= sizeof(c->name)) {
				snprintf(err, errlen, "line %d: bad name",
				    lineno);
				return -1;
			}
			snprintf(c->name, sizeof(c->name), "%s", v);
		} else if (strcmp(k, "serial") == 0) {
			if (store_serial_normalize(v, c->serial,
			    sizeof(c->serial)) == -1) {
				snprintf(err, errlen, "line %d: bad serial",
				    lineno);
				return -1;
			}
			have_serial = 1;
		} else if (strcmp(k, "not_after") == 0) {
			if (parse_time(v, &c->not_after) == -1) {
				snprintf(err, errlen, "line %d: bad not_after",
				    lineno);
				return -1;
			}
			have_na = 1;
		} else if (strcmp(k, "issuer") == 0) {
			if (*v == '\0' || strlen(v) >= sizeof(c->issuer)) {
				snprintf(err, errlen, "line %d: bad issuer",
				    lineno);
				return -1;
			}
			snprintf(c->issuer, sizeof(c->issuer), "%s", v);
		} else if (strcmp(k, "status") == 0)
			c->revoked = strcmp(v, "revoked") == 0;
		else if (strcmp(k, "revoked") == 0)
			c->revoked = strcmp(v, "1") == 0 ||
			    strcmp(v, "yes") == 0 || strcmp(v, "true") == 0;
		/* other keys (paths, PINs of the test card) are not ours */
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "read error");
		return -1;
	}
	if (!have_serial || !have_na || c->name[0] == '\0') {
		snprintf(err, errlen, "missing %s", !have_serial ? "serial" :
		    !have_na ? "not_after" : "name");
		return -1;
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
seed_read_cards(const char *dir, struct seed_card **out, size_t *n,
    char *err, size_t errlen)
{
	char path[4096], e2[256], **names = NULL, **np;
	struct seed_card *cards = NULL, *cp;
	struct dirent *de;
	DIR *d;
	FILE *fp;
	size_t cnt = 0, cap = 0, i, nc = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/cards", dir) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if ((d = opendir(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if (cap > 100000 || (np = realloc(names,
			    cap * sizeof(*names))) == NULL) {
				snprintf(err, errlen, "too many cards");
				goto done;
			}
			names = np;
		}
		if ((names[cnt] = strdup(de->d_name)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		cnt++;
	}
	qsort(names, cnt, sizeof(*names), cmp_str);
	if (cnt > 0 && (cards = calloc(cnt, sizeof(*cards))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < cnt; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/cards/%s/info.txt",
		    dir, names[i]) >= sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", names[i]);
			goto done;
		}
		if ((fp = fopen(path, "r")) == NULL) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;	/* not a card directory */
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		cp = &cards[nc];
		if (seed_parse_card(fp, names[i], cp, e2, sizeof(e2)) == -1) {
			snprintf(err, errlen, "%s: %s", path, e2);
			fclose(fp);
			goto done;
		}
		fclose(fp);
		nc++;
	}
	*out = cards;
	*n = nc;
	cards = NULL;
	rc = 0;
done:
	closedir(d);
	for (i = 0; i < cnt; i++)
		free(names[i]);
	free(names);
	free(cards);
	return rc;
}

/* What a resident is, for choosing who gets which test card. */
#define K_ORDINARY	0x0001
#define K_DV		0x0002
#define K_CHILD		0x0004
#define K_MOVED		0x0008
#define K_DECEASED	0x0010
#define K_FOREIGN	0x0020
#define K_NOSEAL	0x0040
#define K_ABOLISHED	0x0080
#define K_ELSEWHERE	0x0100
#define K_GAIJI		0x0200

static const struct {
	const char	*word;
	int		 kind;
	const char	*label;
} card_kinds[] = {
	{ "dv", K_DV, "support measures" },
	{ "support", K_DV, "support measures" },
	{ "child", K_CHILD, "under 15" },
	{ "minor", K_CHILD, "under 15" },
	{ "under15", K_CHILD, "under 15" },
	{ "moved", K_MOVED, "moved out" },
	{ "deceased", K_DECEASED, "deceased" },
	{ "foreign", K_FOREIGN, "foreign resident" },
	{ "noseal", K_NOSEAL, "no seal registration" },
	{ "abolished", K_ABOLISHED, "seal abolished" },
	{ "elsewhere", K_ELSEWHERE, "本籍 elsewhere" },
	{ "gaiji", K_GAIJI, "name outside JIS X 0208" },
};

struct cand {
	int64_t	 id;
	int	 kinds;
	int	 age;
	int	 used;
	char	 name[STORE_FULLNAME_MAX];
	int64_t	 household;
};

static int
classify(struct store *s, const struct resident *r,
    const struct store_date *today, int *kinds)
{
	struct seal seal;
	struct tax_record t;
	struct koseki k;
	struct koseki_entry *e = NULL;
	size_t ne;
	int age = store_age(&r->birth, today), rc, fy, has_seal, abolished,
	    koseki_ok, tax_ok;

	*kinds = 0;
	rc = store_seal_by_resident(s, r->id, 0, &seal);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return -1;
	has_seal = rc == STORE_OK && seal.status == SEAL_ACTIVE;
	abolished = rc == STORE_OK && seal.status == SEAL_ABOLISHED;
	store_seal_clear(&seal);
	fy = today->m >= 6 ? today->y : today->y - 1;
	rc = store_tax_get(s, r->id, fy, 0, &t);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return -1;
	tax_ok = rc == STORE_OK;
	rc = store_koseki_by_resident(s, r->id, &k, &e, &ne);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return -1;
	koseki_ok = rc == STORE_OK && !k.pending;
	free(e);

	if (r->status == RESIDENT_DECEASED) {
		*kinds = K_DECEASED;
		return 0;
	}
	if (r->status == RESIDENT_MOVED_OUT) {
		*kinds = K_MOVED;
		return 0;
	}
	if (r->support_measures) {
		*kinds = K_DV;
		return 0;
	}
	if (age < 15) {
		*kinds = K_CHILD;
		return 0;
	}
	if (r->name_substitute[0] != '\0')
		*kinds |= K_GAIJI;
	if (age < 18 || r->gaiji_pending ||
	    store_date_cmp(&r->moved_in, today) == 0)
		return 0;
	if (r->nationality[0] != '\0')
		*kinds |= K_FOREIGN;
	else if (r->koseki_id == 0)
		*kinds |= K_ELSEWHERE;
	if (!has_seal)
		*kinds |= abolished ? K_ABOLISHED : K_NOSEAL;
	if (r->nationality[0] == '\0' && has_seal && koseki_ok && tax_ok &&
	    r->name_substitute[0] == '\0' && strlen(r->address) <= 300)
		*kinds |= K_ORDINARY;
	return 0;
}

int
seed_bind_cards(struct store *s, const struct seed_card *cards, size_t n,
    const struct store_date *today, FILE *out, char *err, size_t errlen)
{
	struct cand *cands = NULL;
	struct resident r;
	struct card_cert cc;
	int64_t *ids = NULL;
	size_t nids = 0, i, j, k;
	char lower[64];
	int kind, rc = -1, found;
	const char *label;

	if (n == 0)
		return 0;
	if (store_resident_ids(s, &ids, &nids) != STORE_OK) {
		snprintf(err, errlen, "cards: %s", store_errmsg(s));
		return -1;
	}
	if (nids == 0 || (cands = calloc(nids, sizeof(*cands))) == NULL) {
		snprintf(err, errlen, "cards: no residents to bind to");
		goto done;
	}
	for (i = 0; i < nids; i++) {
		if (store_resident_get(s, ids[i], &r) != STORE_OK ||
		    classify(s, &r, today, &cands[i].kinds) == -1) {
			snprintf(err, errlen, "cards: %s", store_errmsg(s));
			goto done;
		}
		cands[i].id = r.id;
		cands[i].age = store_age(&r.birth, today);
		cands[i].household = r.household_id;
		snprintf(cands[i].name, sizeof(cands[i].name), "%s %s",
		    r.family_name, r.given_name);
	}
	for (i = 0; i < n; i++) {
		/* a serial bound before keeps its resident */
		if (store_card_cert_get(s, cards[i].serial, &cc) == STORE_OK) {
			for (j = 0; j < nids; j++)
				if (cands[j].id == cc.resident_id)
					cands[j].used = 1;
			fprintf(out, "card %s -> resident %" PRId64
			    " (already bound)\n", cards[i].name,
			    cc.resident_id);
			continue;
		}
		for (k = 0; cards[i].name[k] != '\0' && k + 1 < sizeof(lower);
		    k++)
			lower[k] = (char)tolower((unsigned char)cards[i].name[k]);
		lower[k] = '\0';
		kind = K_ORDINARY;
		label = "ordinary";
		for (k = 0; k < sizeof(card_kinds) / sizeof(card_kinds[0]); k++)
			if (strstr(lower, card_kinds[k].word) != NULL) {
				kind = card_kinds[k].kind;
				label = card_kinds[k].label;
				break;
			}
		found = 0;
		for (j = 0; j < nids; j++) {
			if (cands[j].used || !(cands[j].kinds & kind))
				continue;
			memset(&cc, 0, sizeof(cc));
			snprintf(cc.serial, sizeof(cc.serial), "%s",
			    cards[i].serial);
			cc.resident_id = cands[j].id;
			snprintf(cc.issuer, sizeof(cc.issuer), "%s",
			    cards[i].issuer);
			cc.not_after = cards[i].not_after;
			cc.status = cards[i].revoked ? CARD_CERT_REVOKED :
			    CARD_CERT_VALID;
			if (store_card_cert_insert(s, &cc) != STORE_OK) {
				snprintf(err, errlen, "card %s: %s",
				    cards[i].name, store_errmsg(s));
				goto done;
			}
			cands[j].used = 1;
			fprintf(out, "card %s -> resident %" PRId64 " (%s, age "
			    "%d, %s, household %" PRId64 ")\n", cards[i].name,
			    cands[j].id, cands[j].name, cands[j].age, label,
			    cands[j].household);
			found = 1;
			break;
		}
		if (!found) {
			snprintf(err, errlen, "card %s: no unbound %s resident "
			    "left", cards[i].name, label);
			goto done;
		}
	}
	rc = 0;
done:
	free(ids);
	free(cands);
	return rc;
}
