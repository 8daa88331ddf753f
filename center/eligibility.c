/*
 * Eligibility rules of the kiosk service; see eligibility.h.  The order of
 * the checks is deliberate: first what the town offers and when, then the
 * state of the record (removed, protected, age, pending changes), then the
 * rules of the document asked for.  Every refusal ends the check.
 */
#include <string.h>
#include <time.h>

#include "eligibility.h"

struct refusal {
	const char	*code;
	const char	*ja;
	const char	*en;
};

static const struct refusal refusals[] = {
	{ "ok", "交付できます。", "The certificate can be issued." },
	{ "no_document",
	  "この証明書はお取り扱いしていません。",
	  "This certificate is not available at kiosks." },
	{ "service_closed",
	  "年末年始（12月29日から1月3日まで）は証明書の交付を休止しています。",
	  "Certificates are not issued from 29 December to 3 January." },
	{ "service_hours",
	  "ただいまの時間は証明書を交付できません。"
	  "ご利用時間は6時30分から23時までです。",
	  "Certificates can be issued from 6:30 to 23:00." },
	{ "invalid_request",
	  "申請の内容を確認できませんでした。はじめからやり直してください。",
	  "The request could not be processed. Please start again." },
	{ "deceased",
	  "この方の証明書はコンビニ等では交付できません。"
	  "市役所の窓口でお問い合わせください。",
	  "This certificate cannot be issued at a kiosk. "
	  "Please ask at the city office." },
	{ "moved_out",
	  "転出された方、または転出の届出をされた方はご利用いただけません。"
	  "市役所の窓口でお問い合わせください。",
	  "People who have moved out, or filed a move-out notice, cannot use "
	  "this service. Please ask at the city office." },
	{ "support_measures",
	  "この証明書はコンビニ等では交付できません。"
	  "市役所の窓口でご相談ください。",
	  "This certificate cannot be issued at a kiosk. "
	  "Please ask at the city office." },
	{ "under_15",
	  "15歳未満の方はこの証明書をコンビニ等で取得できません。"
	  "印鑑登録は15歳からです。",
	  "People under 15 cannot get this certificate at a kiosk. "
	  "Seal registration starts at 15." },
	{ "moved_in_today",
	  "転入の手続きをされた当日はご利用いただけません。"
	  "翌日以降にご利用ください。",
	  "The service is not available on the day you moved in. "
	  "Please try again tomorrow." },
	{ "gaiji_pending",
	  "お名前などの文字の登録手続き中のため、交付できません。"
	  "市役所の窓口でお問い合わせください。",
	  "Characters of your name are still being registered. "
	  "Please ask at the city office." },
	{ "residence_expired",
	  "在留期間を過ぎているため、交付できません。"
	  "市役所の窓口でお問い合わせください。",
	  "Your period of stay has ended. Please ask at the city office." },
	{ "record_too_long",
	  "氏名または住所の文字数が多いため、コンビニ等では交付できません。"
	  "市役所の窓口をご利用ください。",
	  "The name or address is too long to print at a kiosk. "
	  "Please use the city office." },
	{ "option_unavailable",
	  "選択された記載事項は、この証明書には指定できません。",
	  "One of the items you chose cannot be included in this "
	  "certificate." },
	{ "household_member_ineligible",
	  "世帯全員の住民票は、世帯の方の状況によりコンビニ等では交付できません。"
	  "ご本人のみの住民票をお選びいただくか、市役所の窓口をご利用ください。",
	  "A certificate for the whole household cannot be issued at a kiosk "
	  "for this household. Choose one for yourself only, or use the city "
	  "office." },
	{ "seal_not_registered",
	  "印鑑登録がされていないため、印鑑登録証明書は交付できません。",
	  "You have no seal registration, so no seal registration certificate "
	  "can be issued." },
	{ "seal_abolished",
	  "印鑑登録が廃止されているため、印鑑登録証明書は交付できません。",
	  "Your seal registration has been cancelled, so no certificate can "
	  "be issued." },
	{ "tax_year_unavailable",
	  "コンビニ等で交付できる税証明は最新の年度分だけです"
	  "（新年度分は6月から）。",
	  "Only the latest fiscal year's tax certificate is available at "
	  "kiosks (a new year's from June)." },
	{ "no_tax_record",
	  "この年度の課税資料がないため、税証明は交付できません。"
	  "市役所の窓口でお問い合わせください。",
	  "There is no tax record for this year. Please ask at the city "
	  "office." },
	{ "koseki_foreign",
	  "外国籍の方には戸籍がないため、この証明書は交付できません。",
	  "Foreign residents have no family register, so this certificate "
	  "cannot be issued." },
	{ "koseki_not_in_town",
	  "本籍地が他の市区町村のため、ここでは交付できません。"
	  "「本籍地の証明書」から利用登録のうえ申請してください。",
	  "Your registered domicile is in another municipality. Register for "
	  "the domicile service first and apply there." },
	{ "koseki_hours",
	  "戸籍に関する証明書は、平日の開庁時間のみ交付できます。",
	  "Family register certificates are available on weekdays during "
	  "office hours only." },
	{ "koseki_pending",
	  "届出の内容を戸籍に反映しているため、現在は交付できません。"
	  "しばらくたってからご利用ください。",
	  "A recent notification is still being entered in the family "
	  "register. Please try again later." },
};

static const struct {
	const char	*name;
	const char	*title;
} docs[DOC_COUNT] = {
	[DOC_JUMINHYO] = { "juminhyo", "住民票の写し" },
	[DOC_JUMINHYO_KISAI] = { "juminhyo_kisai", "住民票記載事項証明書" },
	[DOC_INKAN] = { "inkan", "印鑑登録証明書" },
	[DOC_KOSEKI_ZENBU] = { "koseki_zenbu", "戸籍全部事項証明書" },
	[DOC_KOSEKI_KOJIN] = { "koseki_kojin", "戸籍個人事項証明書" },
	[DOC_KOSEKI_FUHYO] = { "koseki_fuhyo", "戸籍の附票の写し" },
	[DOC_TAX] = { "tax_shotoku", "所得・課税証明書" },
};

const char *
doc_type_name(enum doc_type d)
{
	if ((unsigned)d >= DOC_COUNT)
		return "unknown";
	return docs[d].name;
}

const char *
doc_type_title_ja(enum doc_type d)
{
	if ((unsigned)d >= DOC_COUNT)
		return "不明";
	return docs[d].title;
}

int
doc_type_parse(const char *s, enum doc_type *d)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < DOC_COUNT; i++)
		if (strcmp(s, docs[i].name) == 0) {
			*d = (enum doc_type)i;
			return 0;
		}
	return -1;
}

void
elig_config_default(struct elig_config *c)
{
	memset(c, 0, sizeof(*c));
	c->documents = (1u << DOC_COUNT) - 1;
	c->min_age = 15;
	c->service_open = 6 * 60 + 30;
	c->service_close = 23 * 60;
	c->newyear_closed = 1;
	c->koseki_days = 0x3e;		/* Monday to Friday */
	c->koseki_open = 8 * 60 + 30;
	c->koseki_close = 17 * 60;
	c->tax_switch_month = 6;
	c->tax_switch_day = 1;
	c->allow_my_number = 1;
	c->max_name_chars = 40;
	c->max_address_chars = 120;
}

int
elig_refusal(const char *code, struct elig_result *out)
{
	size_t i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (strcmp(refusals[i].code, code) == 0) {
			out->ok = i == 0;
			out->code = refusals[i].code;
			out->message_ja = refusals[i].ja;
			out->message_en = refusals[i].en;
			return 0;
		}
	return -1;
}

static int
refuse(struct elig_result *out, const char *code)
{
	if (elig_refusal(code, out) == -1)
		(void)elig_refusal("invalid_request", out);
	out->ok = 0;
	return ELIG_REFUSED;
}

void
elig_jst(time_t t, struct store_date *d, int *minute, int *weekday)
{
	struct tm tm;
	time_t j = t + 9 * 3600;

	memset(&tm, 0, sizeof(tm));
	if (gmtime_r(&j, &tm) == NULL) {
		d->y = d->m = d->d = 0;
		*minute = 0;
		*weekday = 0;
		return;
	}
	d->y = tm.tm_year + 1900;
	d->m = tm.tm_mon + 1;
	d->d = tm.tm_mday;
	*minute = tm.tm_hour * 60 + tm.tm_min;
	*weekday = tm.tm_wday;
}

int
elig_tax_fiscal_year(const struct elig_config *c, time_t now)
{
	struct store_date d;
	int minute, wday;

	elig_jst(now, &d, &minute, &wday);
	if (d.m > c->tax_switch_month ||
	    (d.m == c->tax_switch_month && d.d >= c->tax_switch_day))
		return d.y;
	return d.y - 1;
}

/* Code points of a UTF-8 string (the store validated the encoding). */
static size_t
u8len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
is_holiday(const struct elig_config *c, const struct store_date *d)
{
	size_t i;

	for (i = 0; i < c->nholidays && i < ELIG_HOLIDAYS_MAX; i++)
		if (store_date_cmp(&c->holidays[i], d) == 0)
			return 1;
	return 0;
}

static int
is_foreign(const struct resident *r)
{
	return r->nationality[0] != '\0';
}

/* The 住民票 options a resident may ask for. */
static const char *
check_juminhyo(const struct elig_config *c, const struct elig_request *q)
{
	const struct resident *r = q->res;
	size_t i;
	int self = 0;

	if (q->options & ~(uint32_t)ELIG_OPT_ALL)
		return "option_unavailable";
	if ((q->options & ELIG_OPT_MY_NUMBER) && !c->allow_my_number)
		return "option_unavailable";
	if ((q->options & ELIG_OPT_DOMICILE) && is_foreign(r))
		return "option_unavailable";
	if ((q->options & (ELIG_OPT_NATIONALITY | ELIG_OPT_RESIDENCE_CARD |
	    ELIG_OPT_RESIDENCE_STATUS)) && !is_foreign(r) &&
	    !(q->options & ELIG_OPT_HOUSEHOLD))
		return "option_unavailable";
	if (!(q->options & ELIG_OPT_HOUSEHOLD))
		return NULL;
	if (q->members == NULL || q->nmembers == 0)
		return "invalid_request";
	for (i = 0; i < q->nmembers; i++) {
		const struct resident *m = &q->members[i];

		if (m->household_id != r->household_id)
			return "invalid_request";
		if (m->id == r->id)
			self = 1;
		/* a removed, protected or unprintable member: counter only */
		if (m->status != RESIDENT_ACTIVE || m->support_measures ||
		    m->gaiji_pending)
			return "household_member_ineligible";
		if ((c->max_name_chars != 0 && u8len(m->family_name) +
		    u8len(m->given_name) > c->max_name_chars))
			return "household_member_ineligible";
	}
	if (!self)
		return "invalid_request";
	return NULL;
}

static const char *
check_koseki(const struct elig_config *c, const struct elig_request *q,
    const struct store_date *today, int minute, int wday)
{
	if (is_foreign(q->res))
		return "koseki_foreign";
	if (q->koseki == NULL || q->res->koseki_id == 0 ||
	    q->koseki->id != q->res->koseki_id)
		return "koseki_not_in_town";
	if (!(c->koseki_days & (1u << wday)) || is_holiday(c, today) ||
	    minute < c->koseki_open || minute >= c->koseki_close)
		return "koseki_hours";
	if (q->koseki->pending)
		return "koseki_pending";
	return NULL;
}

int
eligibility_check(const struct elig_config *c, const struct elig_request *q,
    struct elig_result *out)
{
	const struct resident *r = q->res;
	struct store_date today;
	const char *why;
	int minute, wday, age, fy;

	memset(out, 0, sizeof(*out));
	if ((unsigned)q->doc >= DOC_COUNT || !(c->documents & (1u << q->doc)))
		return refuse(out, "no_document");
	if (r == NULL || !store_date_valid(&r->birth))
		return refuse(out, "invalid_request");
	elig_jst(q->now, &today, &minute, &wday);
	if (!store_date_valid(&today))
		return refuse(out, "invalid_request");
	if (c->newyear_closed && ((today.m == 12 && today.d >= 29) ||
	    (today.m == 1 && today.d <= 3)))
		return refuse(out, "service_closed");
	if (minute < c->service_open || minute >= c->service_close)
		return refuse(out, "service_hours");

	/* the record itself */
	if (r->status == RESIDENT_DECEASED)
		return refuse(out, "deceased");
	if (r->status != RESIDENT_ACTIVE)
		return refuse(out, "moved_out");
	if (r->support_measures)
		return refuse(out, "support_measures");
	age = store_age(&r->birth, &today);
	if (age < c->min_age || (q->doc == DOC_INKAN && age < 15))
		return refuse(out, "under_15");
	if (store_date_cmp(&r->moved_in, &today) == 0)
		return refuse(out, "moved_in_today");
	if (r->gaiji_pending)
		return refuse(out, "gaiji_pending");
	if (is_foreign(r) && !store_date_is_zero(&r->residence_end) &&
	    store_date_cmp(&r->residence_end, &today) < 0)
		return refuse(out, "residence_expired");
	if ((c->max_name_chars != 0 && u8len(r->family_name) +
	    u8len(r->given_name) > c->max_name_chars) ||
	    (c->max_address_chars != 0 &&
	    u8len(r->address) > c->max_address_chars))
		return refuse(out, "record_too_long");

	/* the document's own rules */
	switch (q->doc) {
	case DOC_JUMINHYO:
	case DOC_JUMINHYO_KISAI:
		if ((why = check_juminhyo(c, q)) != NULL)
			return refuse(out, why);
		break;
	case DOC_INKAN:
		if (q->options != 0)
			return refuse(out, "option_unavailable");
		if (q->seal == NULL)
			return refuse(out, "seal_not_registered");
		if (q->seal->resident_id != r->id)
			return refuse(out, "invalid_request");
		if (q->seal->status != SEAL_ACTIVE)
			return refuse(out, "seal_abolished");
		break;
	case DOC_KOSEKI_ZENBU:
	case DOC_KOSEKI_KOJIN:
	case DOC_KOSEKI_FUHYO:
		if (q->options != 0)
			return refuse(out, "option_unavailable");
		if ((why = check_koseki(c, q, &today, minute, wday)) != NULL)
			return refuse(out, why);
		break;
	case DOC_TAX:
		if (q->options != 0)
			return refuse(out, "option_unavailable");
		fy = elig_tax_fiscal_year(c, q->now);
		out->fiscal_year = fy;
		if (q->fiscal_year != 0 && q->fiscal_year != fy) {
			(void)refuse(out, "tax_year_unavailable");
			out->fiscal_year = fy;
			return ELIG_REFUSED;
		}
		if (q->tax == NULL || q->tax->resident_id != r->id ||
		    q->tax->fiscal_year != fy) {
			(void)refuse(out, "no_tax_record");
			out->fiscal_year = fy;
			return ELIG_REFUSED;
		}
		break;
	default:
		return refuse(out, "no_document");
	}
	(void)elig_refusal("ok", out);
	out->ok = 1;
	if (q->doc == DOC_TAX)
		out->fiscal_year = elig_tax_fiscal_year(c, q->now);
	return ELIG_OK;
}
