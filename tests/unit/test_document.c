/*
 * center/document.c: options parsing and canonical form, the content of
 * every document type (binding, fields asked for, never the
 * resident-register code, My Number only when asked), signatures and the
 * stored envelope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "doccode.h"
#include "document.h"
#include "t.h"

#define REGCODE		"98765432109"
#define MYNUMBER	"123456789018"

static struct resident res[3];
static struct household hh;
static struct seal seal;
static struct koseki kos;
static struct koseki_entry entries[2];
static struct fuhyo_entry fuhyo[2];
static struct tax_record tax;
static uint8_t seal_png[] = { 0x89, 'P', 'N', 'G', 1, 2, 3, 4, 5 };

static void
set_date(struct store_date *d, int y, int m, int dd)
{
	d->y = y;
	d->m = m;
	d->d = dd;
}

static void
make_records(void)
{
	int i;

	memset(res, 0, sizeof(res));
	for (i = 0; i < 3; i++) {
		res[i].id = 10 + i;
		(void)snprintf(res[i].register_code,
		    sizeof(res[i].register_code), "%s", REGCODE);
		(void)snprintf(res[i].my_number, sizeof(res[i].my_number), "%s",
		    MYNUMBER);
		res[i].household_id = 5;
		res[i].koseki_id = 7;
		set_date(&res[i].birth, 1980 + i, 1 + i, 2 + i);
		set_date(&res[i].moved_in, 2010, 4, 1);
		res[i].sex = i == 1 ? STORE_SEX_FEMALE : STORE_SEX_MALE;
		(void)snprintf(res[i].address, sizeof(res[i].address),
		    "東京都みどり市本町1-2-3");
		(void)snprintf(res[i].domicile, sizeof(res[i].domicile),
		    "東京都みどり市本町1番地");
		(void)snprintf(res[i].domicile_head,
		    sizeof(res[i].domicile_head), "山田 太郎");
	}
	(void)snprintf(res[0].family_name, STORE_NAME_MAX, "山田");
	(void)snprintf(res[0].given_name, STORE_NAME_MAX, "太郎");
	(void)snprintf(res[0].relationship, STORE_SHORT_MAX, "世帯主");
	(void)snprintf(res[1].family_name, STORE_NAME_MAX, "山田");
	(void)snprintf(res[1].given_name, STORE_NAME_MAX, "花子");
	(void)snprintf(res[1].relationship, STORE_SHORT_MAX, "妻");
	(void)snprintf(res[2].family_name, STORE_NAME_MAX, "SMITH");
	(void)snprintf(res[2].given_name, STORE_NAME_MAX, "JOHN");
	(void)snprintf(res[2].relationship, STORE_SHORT_MAX, "同居人");
	(void)snprintf(res[2].nationality, STORE_SHORT_MAX, "アメリカ合衆国");
	(void)snprintf(res[2].residence_status, STORE_SHORT_MAX, "永住者");
	(void)snprintf(res[2].residence_card, sizeof(res[2].residence_card),
	    "AB12345678CD");
	res[2].domicile[0] = '\0';
	res[2].koseki_id = 0;
	for (i = 0; i < 3; i++) {
		(void)snprintf(res[i].family_kana, STORE_NAME_MAX, "ヤマダ");
		(void)snprintf(res[i].given_kana, STORE_NAME_MAX, "タロウ");
	}

	hh.id = 5;
	hh.head_resident_id = 10;
	(void)snprintf(hh.address, sizeof(hh.address), "%s", res[0].address);

	memset(&seal, 0, sizeof(seal));
	seal.id = 3;
	seal.resident_id = 10;
	(void)snprintf(seal.registration_no, STORE_SHORT_MAX, "R-000123");
	(void)snprintf(seal.image_type, STORE_SHORT_MAX, "image/png");
	set_date(&seal.registered, 2005, 5, 5);
	seal.image = seal_png;
	seal.image_len = sizeof(seal_png);

	memset(&kos, 0, sizeof(kos));
	kos.id = 7;
	(void)snprintf(kos.domicile, sizeof(kos.domicile), "%s",
	    res[0].domicile);
	(void)snprintf(kos.head_name, sizeof(kos.head_name), "山田 太郎");
	set_date(&kos.created, 2008, 8, 8);
	(void)snprintf(kos.created_reason, STORE_SHORT_MAX, "婚姻");
	memset(entries, 0, sizeof(entries));
	for (i = 0; i < 2; i++) {
		entries[i].id = 100 + i;
		entries[i].koseki_id = 7;
		entries[i].seq = i + 1;
		entries[i].resident_id = res[i].id;
		(void)snprintf(entries[i].family_name, STORE_NAME_MAX, "%s",
		    res[i].family_name);
		(void)snprintf(entries[i].given_name, STORE_NAME_MAX, "%s",
		    res[i].given_name);
		entries[i].birth = res[i].birth;
		entries[i].sex = res[i].sex;
		entries[i].nevents = 1;
		(void)snprintf(entries[i].events[0].kind, STORE_SHORT_MAX,
		    "出生");
		set_date(&entries[i].events[0].date, 1980 + i, 1, 1);
		fuhyo[i].entry_id = entries[i].id;
		fuhyo[i].seq = 1;
		(void)snprintf(fuhyo[i].address, sizeof(fuhyo[i].address),
		    "東京都みどり市旧町%d", i);
		set_date(&fuhyo[i].from, 2000 + i, 1, 1);
	}

	memset(&tax, 0, sizeof(tax));
	tax.resident_id = 10;
	tax.fiscal_year = 2026;
	tax.income_year = 2025;
	tax.nitems = 1;
	(void)snprintf(tax.items[0].category, STORE_SHORT_MAX, "給与所得");
	tax.items[0].amount = 4000000;
	tax.total_income = 4000000;
	tax.municipal_tax = 123400;
}

static void
base_input(struct doc_input *in, enum doc_type d, struct doc_options *o)
{
	memset(in, 0, sizeof(*in));
	in->issuance_id = "0123456789abcdef0123456789abcdef";
	in->session_id = "fedcba9876543210fedcba9876543210";
	in->cert_sha256 = "aa00000000000000000000000000000000000000000000000000000000000000";
	in->kiosk_id = "S0001-T01";
	in->doc = d;
	in->opt = o;
	in->copies = 2;
	in->fee_yen = 400;
	in->issued_at = 1780000000;
	in->municipality = "東京都みどり市";
	in->mayor = "みどり市長 緑川 一郎";
	in->res = &res[0];
	in->household = &hh;
	in->members = res;
	in->nmembers = 1;
	in->seal = &seal;
	in->koseki = &kos;
	in->entries = entries;
	in->nentries = 2;
	in->fuhyo = fuhyo;
	in->nfuhyo = 2;
	in->tax = &tax;
}

static json_t *
build(const struct doc_input *in, char **text)
{
	char err[160];
	size_t len;
	json_t *j;

	*text = NULL;
	if (doc_build(in, text, &len, err, sizeof(err)) == -1) {
		printf("# doc_build: %s\n", err);
		return NULL;
	}
	if (strlen(*text) != len)
		return NULL;
	j = json_loads(*text, JSON_REJECT_DUPLICATES, NULL);
	return j;
}

static const char *
str_at(json_t *o, const char *path)
{
	char buf[128], *p, *tok, *save = NULL;
	json_t *v = o;

	(void)snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; v != NULL && (tok = strtok_r(p, ".", &save)) != NULL;
	    p = NULL) {
		if (json_is_array(v))
			v = json_array_get(v, (size_t)atoi(tok));
		else
			v = json_object_get(v, tok);
	}
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void
test_options(void)
{
	struct doc_options o;
	char err[160], canon[STORE_OPTIONS_MAX];
	json_t *j;

	j = json_loads("{\"members\":[2,0],\"my_number\":true}", 0, NULL);
	T_CHECK(doc_options_parse(j, DOC_JUMINHYO, &o, err, sizeof(err)) == 0,
	    "options: members list parses");
	T_CHECK(o.nmembers == 2 && o.members[0] == 0 && o.members[1] == 2,
	    "options: members sorted");
	T_CHECK(doc_options_canonical(&o, DOC_JUMINHYO, canon,
	    sizeof(canon)) == 0 && strcmp(canon, "{\"domicile\":false,"
	    "\"foreign_details\":false,\"head_relationship\":false,"
	    "\"members\":[0,2],\"my_number\":true,\"residence_card\":false}")
	    == 0, "options: canonical text");
	T_CHECK(doc_options_elig(&o, 1) == (ELIG_OPT_HOUSEHOLD |
	    ELIG_OPT_MY_NUMBER), "options: eligibility flags");
	json_decref(j);

	j = json_loads("{\"members\":[1,1]}", 0, NULL);
	T_CHECK(doc_options_parse(j, DOC_JUMINHYO, &o, err, sizeof(err)) == -1,
	    "options: repeated member refused");
	json_decref(j);
	j = json_loads("{\"members\":\"some\"}", 0, NULL);
	T_CHECK(doc_options_parse(j, DOC_JUMINHYO, &o, err, sizeof(err)) == -1,
	    "options: members other than all refused");
	json_decref(j);
	j = json_loads("{\"color\":true}", 0, NULL);
	T_CHECK(doc_options_parse(j, DOC_JUMINHYO, &o, err, sizeof(err)) == -1,
	    "options: unknown option refused");
	json_decref(j);
	j = json_loads("{\"my_number\":1}", 0, NULL);
	T_CHECK(doc_options_parse(j, DOC_JUMINHYO, &o, err, sizeof(err)) == -1,
	    "options: non-boolean refused");
	json_decref(j);
	j = json_loads("{\"my_number\":true}", 0, NULL);
	T_CHECK(doc_options_parse(j, DOC_INKAN, &o, err, sizeof(err)) == -1,
	    "options: inkan takes none");
	json_decref(j);
	j = json_loads("{\"fiscal_year\":2026}", 0, NULL);
	T_CHECK(doc_options_parse(j, DOC_TAX, &o, err, sizeof(err)) == 0 &&
	    o.fiscal_year == 2026, "options: fiscal year");
	json_decref(j);
	j = json_loads("{\"fiscal_year\":\"2026\"}", 0, NULL);
	T_CHECK(doc_options_parse(j, DOC_TAX, &o, err, sizeof(err)) == -1,
	    "options: fiscal year must be a number");
	json_decref(j);
	j = json_loads("[]", 0, NULL);
	T_CHECK(doc_options_parse(j, DOC_TAX, &o, err, sizeof(err)) == -1,
	    "options: must be an object");
	json_decref(j);
	T_CHECK(doc_options_parse(NULL, DOC_KOSEKI_ZENBU, &o, err,
	    sizeof(err)) == 0, "options: absent is fine");
}

static void
test_juminhyo(void)
{
	struct doc_options o;
	struct doc_input in;
	char *text;
	json_t *j;

	memset(&o, 0, sizeof(o));
	base_input(&in, DOC_JUMINHYO, &o);
	j = build(&in, &text);
	T_CHECK(j != NULL, "juminhyo: content is JSON");
	T_CHECK(eq(str_at(j, "binding.session_id"), in.session_id) &&
	    eq(str_at(j, "binding.cert_sha256"), in.cert_sha256) &&
	    eq(str_at(j, "binding.kiosk_id"), "S0001-T01"),
	    "juminhyo: binding");
	T_CHECK(eq(str_at(j, "issuance_id"), in.issuance_id) &&
	    eq(str_at(j, "document"), "juminhyo") &&
	    eq(str_at(j, "issued_at"), "2026-05-28T20:26:40Z") &&
	    json_integer_value(json_object_get(j, "copies")) == 2 &&
	    json_integer_value(json_object_get(j, "fee_yen")) == 400,
	    "juminhyo: header fields");
	T_CHECK(eq(str_at(j, "municipality.name"), "東京都みどり市") &&
	    eq(str_at(j, "municipality.mayor"), "みどり市長 緑川 一郎"),
	    "juminhyo: municipality");
	T_CHECK(eq(str_at(j, "body.members.0.name"), "山田 太郎") &&
	    eq(str_at(j, "body.members.0.birth"), "1980-01-02") &&
	    eq(str_at(j, "body.members.0.sex"), "男"),
	    "juminhyo: member fields");
	T_CHECK(text != NULL && strstr(text, REGCODE) == NULL,
	    "juminhyo: no resident-register code");
	T_CHECK(text != NULL && strstr(text, MYNUMBER) == NULL,
	    "juminhyo: no My Number unless asked");
	T_CHECK(str_at(j, "body.members.0.relationship") == NULL &&
	    str_at(j, "body.members.0.domicile") == NULL,
	    "juminhyo: no relationship or domicile unless asked");
	json_decref(j);
	free(text);

	o.all_members = 1;
	o.head_relationship = 1;
	o.domicile = 1;
	o.my_number = 1;
	o.foreign_details = 1;
	o.residence_card = 1;
	in.nmembers = 3;
	j = build(&in, &text);
	T_CHECK(j != NULL && json_array_size(json_object_get(
	    json_object_get(j, "body"), "members")) == 3,
	    "juminhyo: whole household");
	T_CHECK(eq(str_at(j, "body.household_head"), "山田 太郎") &&
	    eq(str_at(j, "body.members.1.relationship"), "妻"),
	    "juminhyo: head and relationship when asked");
	T_CHECK(eq(str_at(j, "body.members.0.domicile"),
	    "東京都みどり市本町1番地") &&
	    str_at(j, "body.members.2.domicile") == NULL,
	    "juminhyo: domicile for nationals only");
	T_CHECK(eq(str_at(j, "body.members.0.my_number"), MYNUMBER),
	    "juminhyo: My Number when asked");
	T_CHECK(eq(str_at(j, "body.members.2.nationality"), "アメリカ合衆国") &&
	    eq(str_at(j, "body.members.2.residence_card"), "AB12345678CD") &&
	    str_at(j, "body.members.0.nationality") == NULL,
	    "juminhyo: foreign details for foreign residents only");
	T_CHECK(text != NULL && strstr(text, REGCODE) == NULL,
	    "juminhyo: still no resident-register code");
	json_decref(j);
	free(text);
}

static void
test_others(void)
{
	struct doc_options o;
	struct doc_input in;
	char *text;
	json_t *j;

	memset(&o, 0, sizeof(o));
	base_input(&in, DOC_INKAN, &o);
	j = build(&in, &text);
	T_CHECK(eq(str_at(j, "body.registration_no"), "R-000123") &&
	    eq(str_at(j, "body.seal_image.type"), "image/png") &&
	    eq(str_at(j, "body.seal_image.data"), "iVBORwECAwQF"),
	    "inkan: registration number and seal image");
	T_CHECK(text != NULL && strstr(text, REGCODE) == NULL &&
	    strstr(text, MYNUMBER) == NULL, "inkan: no codes");
	json_decref(j);
	free(text);

	base_input(&in, DOC_KOSEKI_ZENBU, &o);
	j = build(&in, &text);
	T_CHECK(j != NULL && json_array_size(json_object_get(
	    json_object_get(j, "body"), "entries")) == 2 &&
	    eq(str_at(j, "body.head_name"), "山田 太郎") &&
	    eq(str_at(j, "body.entries.1.events.0.kind"), "出生"),
	    "koseki_zenbu: every entry with events");
	json_decref(j);
	free(text);

	base_input(&in, DOC_KOSEKI_KOJIN, &o);
	in.res = &res[1];
	j = build(&in, &text);
	T_CHECK(j != NULL && json_array_size(json_object_get(
	    json_object_get(j, "body"), "entries")) == 1 &&
	    eq(str_at(j, "body.entries.0.name"), "山田 花子"),
	    "koseki_kojin: only the applicant's entry");
	json_decref(j);
	free(text);
	in.res = &res[2];
	T_CHECK(build(&in, &text) == NULL, "koseki_kojin: applicant not in "
	    "the register refused");
	free(text);

	base_input(&in, DOC_KOSEKI_FUHYO, &o);
	j = build(&in, &text);
	T_CHECK(eq(str_at(j, "body.entries.1.addresses.0.address"),
	    "東京都みどり市旧町1") &&
	    eq(str_at(j, "body.entries.1.addresses.0.from"), "2001-01-01"),
	    "koseki_fuhyo: address history per entry");
	json_decref(j);
	free(text);

	o.fiscal_year = 2026;
	base_input(&in, DOC_TAX, &o);
	j = build(&in, &text);
	T_CHECK(j != NULL && json_integer_value(json_object_get(
	    json_object_get(j, "body"), "fiscal_year")) == 2026 &&
	    json_integer_value(json_object_get(json_object_get(j, "body"),
	    "municipal_tax")) == 123400 &&
	    eq(str_at(j, "body.items.0.category"), "給与所得"),
	    "tax_shotoku: figures of the fiscal year");
	json_decref(j);
	free(text);
	in.tax = NULL;
	T_CHECK(build(&in, &text) == NULL, "tax_shotoku: no record refused");
	free(text);
}

static void
test_signature(void)
{
	struct doc_options o;
	struct doc_input in;
	EVP_PKEY *key = NULL, *other = NULL;
	char *text, *again, kid[DOC_KEY_ID_LEN + 1], kid2[DOC_KEY_ID_LEN + 1];
	uint8_t sig[DOC_SIG_MAX], sig2[DOC_SIG_MAX], *env = NULL;
	size_t siglen = 0, sig2len = 0, len, envlen = 0, clen = 0;
	const char *content = NULL;
	json_t *j;
	char err[160], code[DOCCODE_TEXT_MAX + 1], code2[DOCCODE_TEXT_MAX + 1];
	struct doccode dc;

	key = EVP_EC_gen("P-256");
	other = EVP_EC_gen("P-256");
	T_CHECK(key != NULL && other != NULL, "sign: test keys");
	if (key == NULL || other == NULL)
		return;
	memset(&o, 0, sizeof(o));
	base_input(&in, DOC_JUMINHYO, &o);
	j = build(&in, &text);
	json_decref(j);
	T_CHECK(doc_build(&in, &again, &len, err, sizeof(err)) == 0 &&
	    strcmp(text, again) == 0, "content: same input, same bytes");
	free(again);
	T_CHECK(doc_sign(key, (const uint8_t *)text, strlen(text), sig,
	    sizeof(sig), &siglen) == 0 && siglen > 8,
	    "sign: ECDSA signature made");
	T_CHECK(doc_verify(key, (const uint8_t *)text, strlen(text), sig,
	    siglen) == 1, "sign: verifies");
	T_CHECK(doc_verify(other, (const uint8_t *)text, strlen(text), sig,
	    siglen) == 0, "sign: other key refuses");
	text[10] ^= 1;
	T_CHECK(doc_verify(key, (const uint8_t *)text, strlen(text), sig,
	    siglen) == 0, "sign: changed content refused");
	text[10] ^= 1;
	T_CHECK(doc_key_id(key, kid) == 0 && strlen(kid) == 64 &&
	    doc_key_id(other, kid2) == 0 && strcmp(kid, kid2) != 0,
	    "sign: key ids");

	T_CHECK(doc_code_sign(key, &in, text, strlen(text), code,
	    sizeof(code)) == 0,
	    "code: signed");
	T_CHECK(doccode_parse(code, strlen(code), &dc) == 0 &&
	    doccode_verify(key, &dc) == 1 && doccode_verify(other, &dc) == 0 &&
	    doccode_matches(&dc, text, strlen(text)) == 1,
	    "code: verifies with the document key and matches the content");
	T_CHECK(doc_envelope_pack(kid, sig, siglen, "KV1;nonsense", text,
	    strlen(text), &env, &envlen) == -1 && env == NULL,
	    "envelope: a malformed code refused");
	T_CHECK(doc_envelope_pack(kid, sig, siglen, code, text, strlen(text),
	    &env, &envlen) == 0, "envelope: packed");
	T_CHECK(env != NULL && doc_envelope_unpack(env, envlen, kid2, sig2,
	    sizeof(sig2), &sig2len, code2, sizeof(code2), &content,
	    &clen) == 0 && strcmp(kid, kid2) == 0 && sig2len == siglen &&
	    memcmp(sig, sig2, siglen) == 0 && clen == strlen(text) &&
	    memcmp(content, text, clen) == 0 && strcmp(code, code2) == 0,
	    "envelope: round trip");
	if (env != NULL) {
		env[3] = 'X';
		T_CHECK(doc_envelope_unpack(env, envlen, kid2, sig2,
		    sizeof(sig2), &sig2len, code2, sizeof(code2), &content,
		    &clen) == -1, "envelope: damaged header refused");
	}
	T_CHECK(doc_envelope_unpack((const uint8_t *)"KDOC1 x", 7, kid2, sig2,
	    sizeof(sig2), &sig2len, code2, sizeof(code2), &content,
	    &clen) == -1, "envelope: short input refused");
	free(env);
	env = NULL;
	{
		/* An envelope from before codes: readable, code "". */
		char old[512], s64[200];
		int n;

		EVP_EncodeBlock((unsigned char *)s64, sig, (int)siglen);
		n = snprintf(old, 300, "KDOC1 %s %s\n{}", kid, s64);
		T_CHECK(n > 0 && doc_envelope_unpack((const uint8_t *)old,
		    (size_t)n, kid2, sig2, sizeof(sig2), &sig2len, code2,
		    sizeof(code2), &content, &clen) == 0 && code2[0] == '\0' &&
		    clen == 2, "envelope: one without a code still reads");
	}
	free(env);
	free(text);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

int
main(void)
{
	make_records();
	test_options();
	test_juminhyo();
	test_others();
	test_signature();
	return t_done();
}
