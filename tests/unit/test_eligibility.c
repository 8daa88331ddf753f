/*
 * Eligibility rules: every refusal code and the OK path of every
 * document, with the boundaries that matter (age 15, the June switch of
 * the tax year, 戸籍 office hours, JST vs UTC, New Year).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eligibility.h"
#include "store.h"
#include "t.h"

/* A JST wall-clock time as time_t. */
static time_t
jst(int y, int mo, int d, int h, int mi)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm) - 9 * 3600;
}

static struct elig_config cfg;
static struct resident adult, foreigner, child;
static struct seal seal;
static struct tax_record tax;
static struct koseki kos;

/* Wednesday 2 July 2025, 10:00 JST: everything open. */
#define WEEKDAY_10	jst(2025, 7, 2, 10, 0)

static void
setup(void)
{
	elig_config_default(&cfg);

	memset(&adult, 0, sizeof(adult));
	adult.id = 10;
	snprintf(adult.family_name, sizeof(adult.family_name), "山田");
	snprintf(adult.given_name, sizeof(adult.given_name), "太郎");
	adult.birth = (struct store_date){ 1980, 4, 1 };
	adult.sex = STORE_SEX_MALE;
	snprintf(adult.address, sizeof(adult.address),
	    "東京都みどり市桜台二丁目１４番３号");
	adult.moved_in = (struct store_date){ 2010, 5, 1 };
	adult.status = RESIDENT_ACTIVE;
	adult.household_id = 3;
	snprintf(adult.relationship, sizeof(adult.relationship), "世帯主");
	snprintf(adult.domicile, sizeof(adult.domicile),
	    "東京都みどり市桜台二丁目１４番");
	snprintf(adult.domicile_head, sizeof(adult.domicile_head),
	    "山田 太郎");
	adult.koseki_id = 7;

	foreigner = adult;
	foreigner.id = 11;
	snprintf(foreigner.family_name, sizeof(foreigner.family_name),
	    "NGUYEN");
	snprintf(foreigner.given_name, sizeof(foreigner.given_name), "VAN AN");
	snprintf(foreigner.nationality, sizeof(foreigner.nationality),
	    "ベトナム");
	snprintf(foreigner.residence_status,
	    sizeof(foreigner.residence_status), "技術・人文知識・国際業務");
	foreigner.residence_end = (struct store_date){ 2027, 3, 31 };
	foreigner.domicile[0] = foreigner.domicile_head[0] = '\0';
	foreigner.koseki_id = 0;

	child = adult;
	child.id = 12;
	child.birth = (struct store_date){ 2010, 7, 3 };	/* 14 on 2 Jul */
	snprintf(child.relationship, sizeof(child.relationship), "子");
	child.moved_in = child.birth;

	memset(&seal, 0, sizeof(seal));
	seal.resident_id = adult.id;
	seal.status = SEAL_ACTIVE;

	memset(&tax, 0, sizeof(tax));
	tax.resident_id = adult.id;
	tax.fiscal_year = 2025;
	tax.income_year = 2024;

	memset(&kos, 0, sizeof(kos));
	kos.id = 7;
}

static struct elig_request
req(const struct resident *r, enum doc_type d, time_t now)
{
	struct elig_request q;

	memset(&q, 0, sizeof(q));
	q.res = r;
	q.doc = d;
	q.now = now;
	q.seal = &seal;
	q.tax = &tax;
	q.koseki = &kos;
	return q;
}

/* Run and check the code; also that a refusal has both messages. */
static int
expect(const struct elig_request *q, const char *code)
{
	struct elig_result out;
	int rc = eligibility_check(&cfg, q, &out);

	if (out.code == NULL || strcmp(out.code, code) != 0) {
		printf("# expected %s, got %s\n", code,
		    out.code ? out.code : "(null)");
		return 0;
	}
	if (out.message_ja == NULL || out.message_en == NULL ||
	    out.message_ja[0] == '\0' || out.message_en[0] == '\0')
		return 0;
	if (strcmp(code, "ok") == 0)
		return rc == ELIG_OK && out.ok == 1;
	return rc == ELIG_REFUSED && out.ok == 0;
}

static void
test_ok_paths(void)
{
	struct elig_request q;
	struct elig_result out;
	int d;

	for (d = 0; d < DOC_COUNT; d++) {
		q = req(&adult, (enum doc_type)d, WEEKDAY_10);
		T_CHECK(expect(&q, "ok"), doc_type_name((enum doc_type)d));
	}
	q = req(&adult, DOC_JUMINHYO, WEEKDAY_10);
	q.options = ELIG_OPT_HEAD_RELATION | ELIG_OPT_DOMICILE |
	    ELIG_OPT_MY_NUMBER;
	T_CHECK(expect(&q, "ok"), "juminhyo with options (national)");
	q = req(&foreigner, DOC_JUMINHYO, WEEKDAY_10);
	q.options = ELIG_OPT_NATIONALITY | ELIG_OPT_RESIDENCE_CARD |
	    ELIG_OPT_RESIDENCE_STATUS;
	T_CHECK(expect(&q, "ok"), "juminhyo with options (foreign)");
	q = req(&adult, DOC_TAX, WEEKDAY_10);
	q.fiscal_year = 2025;
	T_CHECK(eligibility_check(&cfg, &q, &out) == ELIG_OK &&
	    out.fiscal_year == 2025, "tax: explicit current year");
	/* open and close minutes */
	q = req(&adult, DOC_JUMINHYO, jst(2025, 7, 2, 6, 30));
	T_CHECK(expect(&q, "ok"), "service opens 06:30");
	q = req(&adult, DOC_JUMINHYO, jst(2025, 7, 2, 22, 59));
	T_CHECK(expect(&q, "ok"), "service open 22:59");
	q = req(&adult, DOC_KOSEKI_ZENBU, jst(2025, 7, 2, 8, 30));
	T_CHECK(expect(&q, "ok"), "koseki opens 08:30");
	q = req(&adult, DOC_KOSEKI_ZENBU, jst(2025, 7, 2, 16, 59));
	T_CHECK(expect(&q, "ok"), "koseki open 16:59");
	/* a child can have a 住民票 when the town sets no minimum age */
	cfg.min_age = 0;
	q = req(&child, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "ok"), "14-year-old juminhyo with min_age 0");
	cfg.min_age = 15;
	/* turning 15 today */
	q = req(&child, DOC_JUMINHYO, jst(2025, 7, 3, 10, 0));
	T_CHECK(expect(&q, "ok"), "15th birthday: eligible");
}

static void
test_service(void)
{
	struct elig_request q;

	cfg.documents &= ~(1u << DOC_TAX);
	q = req(&adult, DOC_TAX, WEEKDAY_10);
	T_CHECK(expect(&q, "no_document"), "no_document: not offered");
	cfg.documents = (1u << DOC_COUNT) - 1;
	q = req(&adult, DOC_COUNT, WEEKDAY_10);
	T_CHECK(expect(&q, "no_document"), "no_document: unknown type");

	q = req(&adult, DOC_JUMINHYO, jst(2025, 12, 29, 10, 0));
	T_CHECK(expect(&q, "service_closed"), "service_closed 29 Dec");
	q = req(&adult, DOC_JUMINHYO, jst(2026, 1, 3, 22, 0));
	T_CHECK(expect(&q, "service_closed"), "service_closed 3 Jan");
	q = req(&adult, DOC_JUMINHYO, jst(2026, 1, 4, 10, 0));
	T_CHECK(expect(&q, "ok"), "open again 4 Jan");
	q = req(&adult, DOC_JUMINHYO, jst(2025, 7, 2, 6, 29));
	T_CHECK(expect(&q, "service_hours"), "service_hours 06:29");
	q = req(&adult, DOC_JUMINHYO, jst(2025, 7, 2, 23, 0));
	T_CHECK(expect(&q, "service_hours"), "service_hours 23:00");
	/* 2 July 00:30 JST is 1 July 15:30 UTC: JST decides */
	q = req(&adult, DOC_JUMINHYO, jst(2025, 7, 2, 0, 30));
	T_CHECK(expect(&q, "service_hours"), "service_hours in JST");
}

static void
test_record(void)
{
	struct elig_request q;
	struct resident r;

	r = adult;
	r.status = RESIDENT_DECEASED;
	r.status_date = (struct store_date){ 2025, 1, 1 };
	q = req(&r, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "deceased"), "deceased");
	r.status = RESIDENT_MOVED_OUT;
	q = req(&r, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "moved_out"), "moved_out");

	r = adult;
	r.support_measures = 1;
	q = req(&r, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "support_measures"), "support_measures juminhyo");
	q = req(&r, DOC_INKAN, WEEKDAY_10);
	T_CHECK(expect(&q, "support_measures"), "support_measures inkan");

	q = req(&child, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "under_15"), "under_15 juminhyo (default 15)");
	cfg.min_age = 0;
	q = req(&child, DOC_INKAN, WEEKDAY_10);
	T_CHECK(expect(&q, "under_15"), "under_15 inkan even with min_age 0");
	cfg.min_age = 15;

	r = adult;
	r.moved_in = (struct store_date){ 2025, 7, 2 };
	q = req(&r, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "moved_in_today"), "moved_in_today");
	q = req(&r, DOC_JUMINHYO, jst(2025, 7, 3, 10, 0));
	T_CHECK(expect(&q, "ok"), "moved in yesterday: ok");

	r = adult;
	r.gaiji_pending = 1;
	q = req(&r, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "gaiji_pending"), "gaiji_pending");

	r = foreigner;
	r.residence_end = (struct store_date){ 2025, 7, 1 };
	q = req(&r, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "residence_expired"), "residence_expired");
	r.residence_end = (struct store_date){ 2025, 7, 2 };
	q = req(&r, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "ok"), "residence ends today: ok");

	r = adult;
	memset(r.address, 0, sizeof(r.address));
	while (strlen(r.address) < 3 * 121)
		strcat(r.address, "あ");
	q = req(&r, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "record_too_long"), "record_too_long address");
	cfg.max_address_chars = 0;
	T_CHECK(expect(&q, "ok"), "no address limit: ok");
	cfg.max_address_chars = 120;

	q = req(NULL, DOC_JUMINHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "invalid_request"), "no resident");
}

static void
test_options(void)
{
	struct elig_request q;
	struct resident members[3];

	q = req(&foreigner, DOC_JUMINHYO, WEEKDAY_10);
	q.options = ELIG_OPT_DOMICILE;
	T_CHECK(expect(&q, "option_unavailable"), "domicile for a foreigner");
	q = req(&adult, DOC_JUMINHYO, WEEKDAY_10);
	q.options = ELIG_OPT_NATIONALITY;
	T_CHECK(expect(&q, "option_unavailable"), "nationality for a national");
	q.options = 0x8000;
	T_CHECK(expect(&q, "option_unavailable"), "unknown option bit");
	cfg.allow_my_number = 0;
	q.options = ELIG_OPT_MY_NUMBER;
	T_CHECK(expect(&q, "option_unavailable"), "my number not allowed");
	cfg.allow_my_number = 1;
	q = req(&adult, DOC_INKAN, WEEKDAY_10);
	q.options = ELIG_OPT_HEAD_RELATION;
	T_CHECK(expect(&q, "option_unavailable"), "options on inkan");

	/* household */
	members[0] = adult;
	members[1] = adult;
	members[1].id = 20;
	snprintf(members[1].relationship, sizeof(members[1].relationship),
	    "妻");
	members[2] = foreigner;
	members[2].id = 21;
	members[2].household_id = adult.household_id;
	q = req(&adult, DOC_JUMINHYO, WEEKDAY_10);
	q.options = ELIG_OPT_HOUSEHOLD | ELIG_OPT_HEAD_RELATION |
	    ELIG_OPT_NATIONALITY;
	q.members = members;
	q.nmembers = 3;
	T_CHECK(expect(&q, "ok"), "household ok (mixed nationality)");
	members[1].support_measures = 1;
	T_CHECK(expect(&q, "household_member_ineligible"),
	    "household with a protected member");
	members[1].support_measures = 0;
	members[1].status = RESIDENT_MOVED_OUT;
	T_CHECK(expect(&q, "household_member_ineligible"),
	    "household with a moved-out member");
	members[1].status = RESIDENT_ACTIVE;
	q.members = &members[1];
	q.nmembers = 2;
	T_CHECK(expect(&q, "invalid_request"), "household without applicant");
	q.members = NULL;
	q.nmembers = 0;
	T_CHECK(expect(&q, "invalid_request"), "household without members");
	q.members = members;
	q.nmembers = 3;
	members[2].household_id = 99;
	T_CHECK(expect(&q, "invalid_request"), "member of another household");
}

static void
test_seal(void)
{
	struct elig_request q;
	struct seal other;

	q = req(&adult, DOC_INKAN, WEEKDAY_10);
	q.seal = NULL;
	T_CHECK(expect(&q, "seal_not_registered"), "seal_not_registered");
	seal.status = SEAL_ABOLISHED;
	q = req(&adult, DOC_INKAN, WEEKDAY_10);
	T_CHECK(expect(&q, "seal_abolished"), "seal_abolished");
	seal.status = SEAL_ACTIVE;
	other = seal;
	other.resident_id = 999;
	q.seal = &other;
	T_CHECK(expect(&q, "invalid_request"), "someone else's seal");
}

static void
test_tax(void)
{
	struct elig_request q;
	struct elig_result out;
	struct tax_record t24;

	/* 31 May 2025 23:59 JST: FY2024 is still current */
	T_CHECK(elig_tax_fiscal_year(&cfg, jst(2025, 5, 31, 23, 59)) == 2024,
	    "tax year before June");
	T_CHECK(elig_tax_fiscal_year(&cfg, jst(2025, 6, 1, 0, 0)) == 2025,
	    "tax year from 1 June (JST)");
	T_CHECK(elig_tax_fiscal_year(&cfg, jst(2025, 1, 10, 12, 0)) == 2024,
	    "tax year in January");

	q = req(&adult, DOC_TAX, WEEKDAY_10);
	q.fiscal_year = 2024;
	T_CHECK(expect(&q, "tax_year_unavailable"), "last year's tax");
	(void)eligibility_check(&cfg, &q, &out);
	T_CHECK(out.fiscal_year == 2025, "refusal names the current year");
	q.fiscal_year = 2026;
	T_CHECK(expect(&q, "tax_year_unavailable"), "next year's tax");

	/* in May the FY2025 record is not the current one yet */
	q = req(&adult, DOC_TAX, jst(2025, 5, 20, 10, 0));
	T_CHECK(expect(&q, "no_tax_record"), "FY2025 record in May");
	t24 = tax;
	t24.fiscal_year = 2024;
	t24.income_year = 2023;
	q.tax = &t24;
	T_CHECK(expect(&q, "ok"), "FY2024 record in May");
	q.fiscal_year = 2025;
	T_CHECK(expect(&q, "tax_year_unavailable"), "FY2025 asked in May");

	q = req(&adult, DOC_TAX, WEEKDAY_10);
	q.tax = NULL;
	T_CHECK(expect(&q, "no_tax_record"), "no_tax_record");
	q.tax = &t24;
	T_CHECK(expect(&q, "no_tax_record"), "record of another year");
}

static void
test_koseki(void)
{
	struct elig_request q;
	struct resident r;

	q = req(&foreigner, DOC_KOSEKI_ZENBU, WEEKDAY_10);
	q.koseki = NULL;
	T_CHECK(expect(&q, "koseki_foreign"), "koseki_foreign");
	q = req(&foreigner, DOC_KOSEKI_FUHYO, WEEKDAY_10);
	T_CHECK(expect(&q, "koseki_foreign"), "koseki_foreign 附票");

	r = adult;
	r.koseki_id = 0;
	snprintf(r.domicile, sizeof(r.domicile), "大阪府大阪市北区中之島一丁目３番");
	q = req(&r, DOC_KOSEKI_KOJIN, WEEKDAY_10);
	q.koseki = NULL;
	T_CHECK(expect(&q, "koseki_not_in_town"), "koseki_not_in_town");
	q = req(&adult, DOC_KOSEKI_ZENBU, WEEKDAY_10);
	q.koseki = NULL;
	T_CHECK(expect(&q, "koseki_not_in_town"), "register not loaded");

	q = req(&adult, DOC_KOSEKI_ZENBU, jst(2025, 7, 5, 10, 0));
	T_CHECK(expect(&q, "koseki_hours"), "koseki_hours Saturday");
	q = req(&adult, DOC_KOSEKI_ZENBU, jst(2025, 7, 6, 10, 0));
	T_CHECK(expect(&q, "koseki_hours"), "koseki_hours Sunday");
	q = req(&adult, DOC_KOSEKI_ZENBU, jst(2025, 7, 2, 17, 0));
	T_CHECK(expect(&q, "koseki_hours"), "koseki_hours 17:00");
	q = req(&adult, DOC_KOSEKI_ZENBU, jst(2025, 7, 2, 8, 29));
	T_CHECK(expect(&q, "koseki_hours"), "koseki_hours 08:29");
	cfg.holidays[0] = (struct store_date){ 2025, 7, 21 };
	cfg.nholidays = 1;
	q = req(&adult, DOC_KOSEKI_ZENBU, jst(2025, 7, 21, 10, 0));
	T_CHECK(expect(&q, "koseki_hours"), "koseki_hours holiday (海の日)");
	q = req(&adult, DOC_JUMINHYO, jst(2025, 7, 21, 10, 0));
	T_CHECK(expect(&q, "ok"), "juminhyo on the holiday");
	cfg.nholidays = 0;

	kos.pending = 1;
	q = req(&adult, DOC_KOSEKI_ZENBU, WEEKDAY_10);
	T_CHECK(expect(&q, "koseki_pending"), "koseki_pending");
	kos.pending = 0;
}

static void
test_names(void)
{
	struct elig_result out;
	enum doc_type d;
	int i, ok = 1;

	for (i = 0; i < DOC_COUNT; i++)
		if (doc_type_parse(doc_type_name((enum doc_type)i), &d) != 0 ||
		    (int)d != i)
			ok = 0;
	T_CHECK(ok, "doc type names round-trip");
	T_CHECK(doc_type_parse("juminhyo_all", &d) == -1, "unknown doc name");
	T_CHECK(elig_refusal("support_measures", &out) == 0 &&
	    strstr(out.message_ja, "DV") == NULL &&
	    strstr(out.message_en, "DV") == NULL &&
	    strstr(out.message_en, "support") == NULL,
	    "support_measures message stays discreet");
	T_CHECK(elig_refusal("nonsense", &out) == -1, "unknown code");
}

int
main(void)
{
	setup();
	test_ok_paths();
	test_service();
	test_record();
	test_options();
	test_seal();
	test_tax();
	test_koseki();
	test_names();
	return t_done();
}
