/*
 * Data tables for the synthetic town: common Japanese surnames and given
 * names (by sex and by generation), a few surnames written with characters
 * outside JIS X 0208 together with their usual substitutes, foreign names,
 * residence statuses, and the places that make up addresses.
 */
#ifndef KIOSK_CENTER_NAMES_H
#define KIOSK_CENTER_NAMES_H

#include <stddef.h>

struct name_surname {
	const char	*kanji;
	const char	*kana;
	const char	*substitute;	/* NULL when all JIS X 0208 */
};

/* era: 0 born before 1960, 1 born 1960-1989, 2 born 1990 or later */
struct name_given {
	const char	*kanji;
	const char	*kana;
	int		 sex;		/* 1 male, 2 female */
	int		 era;
};

struct name_foreign {
	const char	*nationality;	/* as printed: 中国, ベトナム... */
	const char	*family;	/* romanized, upper case */
	const char	*family_kana;
	const char	*given_m;
	const char	*given_m_kana;
	const char	*given_f;
	const char	*given_f_kana;
};

struct name_residence {
	const char	*status;	/* 在留資格 */
	int		 years;		/* period of stay; 0 = no limit */
	int		 min_age;
	int		 max_age;
};

extern const struct name_surname	names_surnames[];
extern const size_t			names_nsurnames;
extern const struct name_surname	names_rare_surnames[];	/* non-JIS */
extern const size_t			names_nrare_surnames;
extern const struct name_given		names_given[];
extern const size_t			names_ngiven;
extern const struct name_foreign	names_foreign[];
extern const size_t			names_nforeign;
extern const struct name_residence	names_residence[];
extern const size_t			names_nresidence;

/* The town: 東京都みどり市 and its districts (町名). */
extern const char			names_town[];
extern const char *const		names_districts[];
extern const size_t			names_ndistricts;
extern const char *const		names_buildings[];
extern const size_t			names_nbuildings;
extern const char *const		names_long_buildings[];
extern const size_t			names_nlong_buildings;
/* Addresses and birthplaces elsewhere in Japan (本籍, former address). */
extern const char *const		names_elsewhere[];
extern const size_t			names_nelsewhere;
extern const char *const		names_birthplaces[];
extern const size_t			names_nbirthplaces;

#endif
