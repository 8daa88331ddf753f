/*
 * Civil dates and the JPKI validity rule (shared/JPKI.md §8.1), as pure
 * functions so that the rule can be unit-tested without OpenSSL.
 *
 * Rules implemented (documented in kiosk-pki --help too):
 * - "The n-th birthday after the issue date" (発行日後n回目の誕生日) counts
 *   only anniversaries strictly after the issue date: a card issued on the
 *   holder's birthday gets a full 5 (10) years.
 * - A 29 February birthday falls on 28 February in common years (Civil Code
 *   art. 143(2) proviso: a period in years whose last month has no
 *   corresponding day ends on that month's last day).
 * - Age (年齢計算ニ関スル法律 with Civil Code art. 143): age N is attained
 *   on the day before the N-th birthday (the day the period ends), e.g.
 *   someone born 2006-04-02 is 18 on 2024-04-01.  For 29 February births
 *   that day is 28 February in every year.
 * - Certificate: notBefore = issue date 00:00:00 JST, notAfter = the earlier
 *   of the 5th birthday after issuance and the card expiry, 23:59:59 JST.
 * - Default card expiry: the 10th birthday after issuance when the holder is
 *   18 or older on the issue date, else the 5th.
 */
#ifndef KIOSK_PKI_VALIDITY_H
#define KIOSK_PKI_VALIDITY_H

#include <stddef.h>
#include <stdint.h>

#define PKI_YEAR_MIN	1900
#define PKI_YEAR_MAX	2999
#define PKI_DATE_STRLEN	11	/* "YYYY-MM-DD" + NUL */
#define PKI_JST_OFFSET	(9 * 3600)

struct pki_date {
	int	y;
	int	m;	/* 1..12 */
	int	d;	/* 1..31 */
};

struct pki_validity {
	struct pki_date	issued;
	struct pki_date	card_expiry;
	struct pki_date	last_day;	/* JST day notAfter falls on */
	int64_t		not_before;	/* seconds since the epoch, UTC */
	int64_t		not_after;
	int		age_at_issue;
};

int	pki_is_leap(int y);
int	pki_days_in_month(int y, int m);
int	pki_date_valid(const struct pki_date *);
int	pki_date_cmp(const struct pki_date *, const struct pki_date *);
/* Strict "YYYY-MM-DD"; returns 0, or -1 with *errstr set. */
int	pki_date_parse(const char *, struct pki_date *, const char **errstr);
/* "YYYY-MM-DD" into buf (PKI_DATE_STRLEN); returns buf. */
char	*pki_date_format(const struct pki_date *, char *buf, size_t len);
int64_t	pki_days_from_civil(const struct pki_date *);
void	pki_civil_from_days(int64_t days, struct pki_date *);
void	pki_date_add_days(struct pki_date *, int64_t n);
/* The JST calendar day of a UTC instant. */
void	pki_date_from_time_jst(int64_t t, struct pki_date *);

/* The birthday of someone born on *birth in year y. */
void	pki_birthday_in(const struct pki_date *birth, int y, struct pki_date *);
/* The n-th (n >= 1) birthday strictly after *after. */
void	pki_nth_birthday_after(const struct pki_date *birth,
	    const struct pki_date *after, int n, struct pki_date *);
/* Age in completed years on day *on (see above); -1 if on < birth. */
int	pki_age_on(const struct pki_date *birth, const struct pki_date *on);
/* Default card expiry per the age at issuance. */
void	pki_default_card_expiry(const struct pki_date *birth,
	    const struct pki_date *issued, struct pki_date *);

/*
 * Fill *v for a certificate issued on *issued to someone born on *birth;
 * card_expiry NULL means the default.  Returns 0, or -1 with *errstr set
 * (birth after issue, expiry before issue, invalid dates).
 */
int	pki_validity_compute(const struct pki_date *birth,
	    const struct pki_date *issued, const struct pki_date *card_expiry,
	    struct pki_validity *, const char **errstr);

#endif
