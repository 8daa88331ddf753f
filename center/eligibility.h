/*
 * Who may get which document at a kiosk (DOMAIN.md §1.1, §1.2, §1.4).
 * A pure function of its inputs: the caller loads the records (resident,
 * household, seal, tax record, family register) and passes the time; the
 * answer is OK or one refusal with a stable code and a message in
 * Japanese and English that a resident can act on.  The message for
 * support measures (DV protection) deliberately says nothing about why:
 * the screen may be seen by others.
 */
#ifndef KIOSK_CENTER_ELIGIBILITY_H
#define KIOSK_CENTER_ELIGIBILITY_H

#include <stdint.h>
#include <time.h>

#include "store.h"

enum doc_type {
	DOC_JUMINHYO = 0,	/* 住民票の写し */
	DOC_JUMINHYO_KISAI,	/* 住民票記載事項証明書 */
	DOC_INKAN,		/* 印鑑登録証明書 */
	DOC_KOSEKI_ZENBU,	/* 戸籍全部事項証明書 */
	DOC_KOSEKI_KOJIN,	/* 戸籍個人事項証明書 */
	DOC_KOSEKI_FUHYO,	/* 戸籍の附票の写し */
	DOC_TAX,		/* 所得・課税証明書 */
	DOC_COUNT
};

/* Stable wire names ("juminhyo", ...) and Japanese titles. */
const char	*doc_type_name(enum doc_type);
const char	*doc_type_title_ja(enum doc_type);
int		 doc_type_parse(const char *, enum doc_type *);

/* Options of the 住民票 documents (DOMAIN.md §1.1 step 5). */
#define ELIG_OPT_HOUSEHOLD		0x0001	/* whole household */
#define ELIG_OPT_HEAD_RELATION		0x0002	/* 世帯主・続柄 */
#define ELIG_OPT_MY_NUMBER		0x0004	/* 個人番号 */
#define ELIG_OPT_DOMICILE		0x0008	/* 本籍・筆頭者 (nationals) */
#define ELIG_OPT_NATIONALITY		0x0010	/* 国籍・地域 (foreigners) */
#define ELIG_OPT_RESIDENCE_CARD		0x0020	/* 在留カード等の番号 */
#define ELIG_OPT_RESIDENCE_STATUS	0x0040	/* 在留資格・期間等 */
#define ELIG_OPT_ALL			0x007f

#define ELIG_HOLIDAYS_MAX	64

/* The municipality's service rules. */
struct elig_config {
	uint32_t	documents;	/* bit (1 << doc_type) per offered doc */
	int		min_age;	/* nothing at all below this age */
	int		service_open;	/* minutes after midnight JST */
	int		service_close;	/* exclusive */
	int		newyear_closed;	/* 29 Dec - 3 Jan */
	/* 戸籍 and 附票: days (bit 0 Sunday .. bit 6 Saturday) and hours */
	unsigned	koseki_days;
	int		koseki_open;
	int		koseki_close;
	size_t		nholidays;	/* office holidays: no 戸籍 */
	struct store_date holidays[ELIG_HOLIDAYS_MAX];
	/* a new fiscal year's tax certificates from this day on */
	int		tax_switch_month;
	int		tax_switch_day;
	int		allow_my_number;	/* 住民票 with 個人番号 */
	size_t		max_name_chars;		/* 0: no limit */
	size_t		max_address_chars;	/* 0: no limit */
};

/* 06:30-23:00, closed 29 Dec-3 Jan, 戸籍 weekdays 08:30-17:00, tax from 1 June. */
void	elig_config_default(struct elig_config *);

struct elig_request {
	const struct resident	*res;
	enum doc_type		 doc;
	uint32_t		 options;	/* ELIG_OPT_* */
	int			 fiscal_year;	/* tax: 0 means current */
	/* household (ELIG_OPT_HOUSEHOLD): active members incl. applicant */
	const struct resident	*members;
	size_t			 nmembers;
	const struct seal	*seal;		/* NULL: never registered */
	const struct tax_record	*tax;		/* for the fiscal year; NULL */
	const struct koseki	*koseki;	/* NULL: not kept here */
	time_t			 now;
};

struct elig_result {
	int		 ok;
	const char	*code;		/* "ok" or a refusal code */
	const char	*message_ja;
	const char	*message_en;
	int		 fiscal_year;	/* tax: the year that applies */
};

#define ELIG_OK		0
#define ELIG_REFUSED	1

/*
 * Returns ELIG_OK or ELIG_REFUSED and fills *out.  Refusal codes:
 * no_document, service_closed, service_hours, invalid_request, deceased,
 * moved_out, support_measures, under_15, moved_in_today, gaiji_pending,
 * residence_expired, record_too_long, option_unavailable,
 * household_member_ineligible, seal_not_registered, seal_abolished,
 * tax_year_unavailable, no_tax_record, koseki_foreign, koseki_not_in_town,
 * koseki_hours, koseki_pending.
 */
int	eligibility_check(const struct elig_config *,
	    const struct elig_request *, struct elig_result *);

/* The fiscal year whose tax certificates are current at `now`. */
int	elig_tax_fiscal_year(const struct elig_config *, time_t now);

/* Japan Standard Time (UTC+9, no DST) date, minute of day, weekday. */
void	elig_jst(time_t, struct store_date *, int *minute, int *weekday);

/* Looks up a code's messages (for callers that refuse for other reasons). */
int	elig_refusal(const char *code, struct elig_result *);

#endif
