/*
 * Document content and signatures; see document.h.  The content is built
 * with jansson in a fixed field order (insertion order is kept by
 * jansson) and dumped compact, so the same records give the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "doccode.h"
#include "document.h"
#include "hex.h"
#include "json_compact.h"

static const struct {
	int		 fee;
	const char	*title_en;
	const char	*certification;
} doc_info[DOC_COUNT] = {
	[DOC_JUMINHYO] = { 200, "Certificate of residence",
	    "この写しは、住民票の原本と相違ないことを証明する。" },
	[DOC_JUMINHYO_KISAI] = { 200, "Certificate of resident record entries",
	    "上記の事項は、住民票に記載されていることを証明する。" },
	[DOC_INKAN] = { 200, "Seal registration certificate",
	    "この写しは、登録されている印影と相違ないことを証明する。" },
	[DOC_KOSEKI_ZENBU] = { 450, "Family register (all entries)",
	    "これは、戸籍に記録されている事項の全部を証明した書面である。" },
	[DOC_KOSEKI_KOJIN] = { 450, "Family register (individual entry)",
	    "これは、戸籍中の一部の者について記録されている事項を証明した"
	    "書面である。" },
	[DOC_KOSEKI_FUHYO] = { 200, "Family register residence record",
	    "この写しは、戸籍の附票の原本と相違ないことを証明する。" },
	[DOC_TAX] = { 200, "Income and tax certificate",
	    "上記のとおり証明する。" },
};

int
doc_default_fee(enum doc_type d)
{
	if ((unsigned)d >= DOC_COUNT)
		return -1;
	return doc_info[d].fee;
}

const char *
doc_title_en(enum doc_type d)
{
	if ((unsigned)d >= DOC_COUNT)
		return "unknown";
	return doc_info[d].title_en;
}

static int
is_juminhyo(enum doc_type d)
{
	return d == DOC_JUMINHYO || d == DOC_JUMINHYO_KISAI;
}

static int
opt_err(char *err, size_t errlen, const char *what)
{
	(void)snprintf(err, errlen, "%s", what);
	return -1;
}

static int
opt_bool(json_t *o, const char *key, int *out, char *err, size_t errlen)
{
	json_t *v;
	char what[96];

	if ((v = json_object_get(o, key)) == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		(void)snprintf(what, sizeof(what), "option \"%s\" must be true "
		    "or false", key);
		return opt_err(err, errlen, what);
	}
	*out = json_is_true(v);
	return 0;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int
parse_members(json_t *v, struct doc_options *o, char *err, size_t errlen)
{
	size_t i;
	json_t *m;

	if (json_is_string(v)) {
		if (strcmp(json_string_value(v), "all") != 0)
			return opt_err(err, errlen, "option \"members\" must be "
			    "\"all\" or a list of member indexes");
		o->all_members = 1;
		return 0;
	}
	/* an empty list, like no "members", means the applicant only */
	if (!json_is_array(v) || json_array_size(v) > DOC_MEMBERS_MAX)
		return opt_err(err, errlen, "option \"members\" must be \"all\" "
		    "or a list of at most 32 member indexes");
	json_array_foreach(v, i, m) {
		if (!json_is_integer(m) || json_integer_value(m) < 0 ||
		    json_integer_value(m) >= DOC_MEMBERS_MAX)
			return opt_err(err, errlen, "a member index is not an "
			    "integer from 0 to 31");
		o->members[i] = (int)json_integer_value(m);
	}
	o->nmembers = json_array_size(v);
	qsort(o->members, o->nmembers, sizeof(o->members[0]), cmp_int);
	for (i = 1; i < o->nmembers; i++)
		if (o->members[i] == o->members[i - 1])
			return opt_err(err, errlen, "a member index is repeated");
	return 0;
}

int
doc_options_parse(json_t *opts, enum doc_type d, struct doc_options *o,
    char *err, size_t errlen)
{
	static const char *const jum[] = { "members", "head_relationship",
	    "domicile", "my_number", "foreign_details", "residence_card",
	    NULL };
	static const char *const tax[] = { "fiscal_year", NULL };
	static const char *const none[] = { NULL };
	const char *const *allowed;
	const char *k;
	json_t *v;
	size_t i;
	char what[96];

	memset(o, 0, sizeof(*o));
	if ((unsigned)d >= DOC_COUNT)
		return opt_err(err, errlen, "unknown document");
	if (opts == NULL || json_is_null(opts))
		return 0;
	if (!json_is_object(opts))
		return opt_err(err, errlen, "\"options\" must be an object");
	allowed = is_juminhyo(d) ? jum : d == DOC_TAX ? tax : none;
	json_object_foreach(opts, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], k) == 0)
				break;
		if (allowed[i] == NULL) {
			(void)snprintf(what, sizeof(what), "option not "
			    "allowed for %s", doc_type_name(d));
			return opt_err(err, errlen, what);
		}
	}
	if (is_juminhyo(d)) {
		if ((v = json_object_get(opts, "members")) != NULL &&
		    parse_members(v, o, err, errlen) == -1)
			return -1;
		if (opt_bool(opts, "head_relationship", &o->head_relationship,
		    err, errlen) == -1 ||
		    opt_bool(opts, "domicile", &o->domicile, err, errlen) == -1 ||
		    opt_bool(opts, "my_number", &o->my_number, err, errlen) ==
		    -1 || opt_bool(opts, "foreign_details", &o->foreign_details,
		    err, errlen) == -1 || opt_bool(opts, "residence_card",
		    &o->residence_card, err, errlen) == -1)
			return -1;
	} else if (d == DOC_TAX &&
	    (v = json_object_get(opts, "fiscal_year")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1989 ||
		    json_integer_value(v) > 9999)
			return opt_err(err, errlen, "option \"fiscal_year\" "
			    "must be a year");
		o->fiscal_year = (int)json_integer_value(v);
	}
	return 0;
}

int
doc_options_canonical(const struct doc_options *o, enum doc_type d,
    char *out, size_t outlen)
{
	json_t *obj, *m;
	char *s;
	size_t i;
	int rc = -1;

	if ((obj = json_object()) == NULL)
		return -1;
	if (is_juminhyo(d)) {
		if (o->all_members)
			m = json_string("all");
		else {
			m = json_array();
			for (i = 0; m != NULL && i < o->nmembers; i++)
				if (json_array_append_new(m,
				    json_integer(o->members[i])) == -1) {
					json_decref(m);
					m = NULL;
				}
		}
		if (json_object_set_new(obj, "members", m) == -1 ||
		    json_object_set_new(obj, "head_relationship",
		    json_boolean(o->head_relationship)) == -1 ||
		    json_object_set_new(obj, "domicile",
		    json_boolean(o->domicile)) == -1 ||
		    json_object_set_new(obj, "my_number",
		    json_boolean(o->my_number)) == -1 ||
		    json_object_set_new(obj, "foreign_details",
		    json_boolean(o->foreign_details)) == -1 ||
		    json_object_set_new(obj, "residence_card",
		    json_boolean(o->residence_card)) == -1)
			goto done;
	} else if (d == DOC_TAX) {
		if (json_object_set_new(obj, "fiscal_year",
		    json_integer(o->fiscal_year)) == -1)
			goto done;
	}
	if ((s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto done;
	if (strlen(s) < outlen) {
		memcpy(out, s, strlen(s) + 1);
		rc = 0;
	}
	free(s);
done:
	json_decref(obj);
	return rc;
}

uint32_t
doc_options_elig(const struct doc_options *o, int household)
{
	uint32_t f = 0;

	if (household)
		f |= ELIG_OPT_HOUSEHOLD;
	if (o->head_relationship)
		f |= ELIG_OPT_HEAD_RELATION;
	if (o->my_number)
		f |= ELIG_OPT_MY_NUMBER;
	if (o->domicile)
		f |= ELIG_OPT_DOMICILE;
	if (o->foreign_details)
		f |= ELIG_OPT_NATIONALITY | ELIG_OPT_RESIDENCE_STATUS;
	if (o->residence_card)
		f |= ELIG_OPT_RESIDENCE_CARD;
	return f;
}

/* --- content ------------------------------------------------------- */

/*
 * Building helpers: each adds one member and returns -1 on failure, so a
 * builder is a chain of calls joined with ||.
 */
static int
put(json_t *o, const char *k, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, k, v);
}

static int
put_s(json_t *o, const char *k, const char *v)
{
	return put(o, k, json_string(v));
}

static int
put_i(json_t *o, const char *k, json_int_t v)
{
	return put(o, k, json_integer(v));
}

static int
put_date(json_t *o, const char *k, const struct store_date *d)
{
	char buf[16];

	if (store_date_is_zero(d))
		return put(o, k, json_null());
	store_date_format(d, buf, sizeof(buf));
	return put_s(o, k, buf);
}

static const char *
sex_ja(enum store_sex s)
{
	return s == STORE_SEX_FEMALE ? "女" : "男";
}

static int
put_name(json_t *o, const char *family, const char *given,
    const char *substitute)
{
	char full[STORE_FULLNAME_MAX * 2];

	(void)snprintf(full, sizeof(full), "%s %s", family, given);
	if (put_s(o, "name", full) == -1)
		return -1;
	if (substitute != NULL && substitute[0] != '\0')
		return put_s(o, "name_substitute", substitute);
	return 0;
}

static int
put_kana(json_t *o, const struct resident *r)
{
	char full[STORE_FULLNAME_MAX * 2];

	(void)snprintf(full, sizeof(full), "%s %s", r->family_kana,
	    r->given_kana);
	return put_s(o, "kana", full);
}

static int
is_foreign(const struct resident *r)
{
	return r->nationality[0] != '\0';
}

static json_t *
juminhyo_member(const struct doc_input *in, const struct resident *m)
{
	const struct doc_options *o = in->opt;
	json_t *e;

	if ((e = json_object()) == NULL)
		return NULL;
	if (put_name(e, m->family_name, m->given_name, m->name_substitute) ||
	    put_kana(e, m) || put_date(e, "birth", &m->birth) ||
	    put_s(e, "sex", sex_ja(m->sex)))
		goto fail;
	if (o->head_relationship && put_s(e, "relationship", m->relationship))
		goto fail;
	if (put_date(e, "resident_since", &m->moved_in) ||
	    put_s(e, "address", m->address))
		goto fail;
	if (o->domicile && !is_foreign(m) && (put_s(e, "domicile",
	    m->domicile) || put_s(e, "domicile_head", m->domicile_head)))
		goto fail;
	if (o->my_number && m->my_number[0] != '\0' &&
	    put_s(e, "my_number", m->my_number))
		goto fail;
	if (o->foreign_details && is_foreign(m) && (put_s(e, "nationality",
	    m->nationality) || put_s(e, "residence_status",
	    m->residence_status) || put_date(e, "residence_end",
	    &m->residence_end)))
		goto fail;
	if (o->residence_card && is_foreign(m) &&
	    put_s(e, "residence_card", m->residence_card))
		goto fail;
	return e;
fail:
	json_decref(e);
	return NULL;
}

static json_t *
body_juminhyo(const struct doc_input *in, char *err, size_t errlen)
{
	const struct resident *head = NULL;
	json_t *b, *list, *m;
	size_t i;
	char full[STORE_FULLNAME_MAX * 2];

	if (in->household == NULL || in->members == NULL ||
	    in->nmembers == 0) {
		(void)snprintf(err, errlen, "no household members");
		return NULL;
	}
	if ((b = json_object()) == NULL || (list = json_array()) == NULL) {
		json_decref(b);
		return NULL;
	}
	for (i = 0; i < in->nmembers; i++) {
		if (in->members[i].id == in->household->head_resident_id)
			head = &in->members[i];
		if ((m = juminhyo_member(in, &in->members[i])) == NULL ||
		    json_array_append_new(list, m) == -1) {
			json_decref(list);
			json_decref(b);
			return NULL;
		}
	}
	if (put_s(b, "address", in->household->address))
		goto fail;
	if (in->opt->head_relationship) {
		if (in->head_name != NULL)
			(void)snprintf(full, sizeof(full), "%s", in->head_name);
		else if (head != NULL)
			(void)snprintf(full, sizeof(full), "%s %s",
			    head->family_name, head->given_name);
		else
			full[0] = '\0';
		if (put_s(b, "household_head", full))
			goto fail;
	}
	if (put_s(b, "scope", in->opt->all_members ? "all" :
	    in->nmembers > 1 ? "partial" : "self") ||
	    put_i(b, "member_count", (json_int_t)in->nmembers) ||
	    put(b, "members", list))
		goto fail2;
	return b;
fail:
	json_decref(list);
fail2:
	json_decref(b);
	return NULL;
}

static json_t *
body_inkan(const struct doc_input *in, char *err, size_t errlen)
{
	const struct resident *r = in->res;
	json_t *b, *img = NULL;
	char *data;

	if (in->seal == NULL || in->seal->image == NULL ||
	    in->seal->image_len == 0) {
		(void)snprintf(err, errlen, "no seal image");
		return NULL;
	}
	if ((b = json_object()) == NULL)
		return NULL;
	if ((data = malloc(4 * ((in->seal->image_len + 2) / 3) + 1)) ==
	    NULL)
		goto fail;
	if (EVP_EncodeBlock((unsigned char *)data, in->seal->image,
	    (int)in->seal->image_len) < 0) {
		free(data);
		goto fail;
	}
	img = json_pack("{s:s,s:s}", "type", in->seal->image_type, "data",
	    data);
	free(data);
	if (img == NULL)
		goto fail;
	if (put_name(b, r->family_name, r->given_name, r->name_substitute) ||
	    put_kana(b, r) || put_date(b, "birth", &r->birth) ||
	    put_s(b, "sex", sex_ja(r->sex)) || put_s(b, "address", r->address) ||
	    put_s(b, "registration_no", in->seal->registration_no) ||
	    put_date(b, "registered", &in->seal->registered)) {
		json_decref(img);
		goto fail;
	}
	if (put(b, "seal_image", img))
		goto fail;
	return b;
fail:
	json_decref(b);
	return NULL;
}

static json_t *
koseki_entry_json(const struct koseki_entry *e)
{
	json_t *o, *evs, *ev;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	if ((evs = json_array()) == NULL)
		goto fail;
	for (i = 0; i < e->nevents && i < STORE_KOSEKI_EVENTS_MAX; i++) {
		if ((ev = json_object()) == NULL ||
		    json_array_append_new(evs, ev) == -1 ||
		    put_s(ev, "kind", e->events[i].kind) ||
		    put_date(ev, "date", &e->events[i].date) ||
		    put_s(ev, "detail", e->events[i].detail)) {
			json_decref(evs);
			goto fail;
		}
	}
	if (put_i(o, "seq", e->seq) ||
	    put_name(o, e->family_name, e->given_name, NULL) ||
	    put_date(o, "birth", &e->birth) || put_s(o, "sex", sex_ja(e->sex)) ||
	    put_s(o, "father", e->father) || put_s(o, "mother", e->mother) ||
	    put_s(o, "parent_relation", e->parent_relation) ||
	    put(o, "removed", json_boolean(e->removed))) {
		json_decref(evs);
		goto fail;
	}
	if (e->removed && put_s(o, "removal_reason", e->removal_reason)) {
		json_decref(evs);
		goto fail;
	}
	if (put(o, "events", evs))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *
body_koseki(const struct doc_input *in, char *err, size_t errlen)
{
	const struct koseki *k = in->koseki;
	json_t *b, *list, *e;
	size_t i, n = 0;

	if (k == NULL || in->entries == NULL || in->nentries == 0) {
		(void)snprintf(err, errlen, "no family register");
		return NULL;
	}
	if ((list = json_array()) == NULL)
		return NULL;
	for (i = 0; i < in->nentries; i++) {
		if (in->doc == DOC_KOSEKI_KOJIN &&
		    in->entries[i].resident_id != in->res->id)
			continue;
		if ((e = koseki_entry_json(&in->entries[i])) == NULL ||
		    json_array_append_new(list, e) == -1) {
			json_decref(list);
			return NULL;
		}
		n++;
	}
	if (n == 0) {
		json_decref(list);
		(void)snprintf(err, errlen, "the applicant is not in the "
		    "register");
		return NULL;
	}
	if ((b = json_object()) == NULL) {
		json_decref(list);
		return NULL;
	}
	if (put_s(b, "domicile", k->domicile) ||
	    put_s(b, "head_name", k->head_name) ||
	    put_date(b, "created", &k->created) ||
	    put_s(b, "created_reason", k->created_reason) ||
	    put_s(b, "scope", in->doc == DOC_KOSEKI_ZENBU ? "all" : "self")) {
		json_decref(list);
		json_decref(b);
		return NULL;
	}
	if (put(b, "entries", list)) {
		json_decref(b);
		return NULL;
	}
	return b;
}

static json_t *
body_fuhyo(const struct doc_input *in, char *err, size_t errlen)
{
	const struct koseki *k = in->koseki;
	json_t *b, *list, *e, *addrs, *a;
	size_t i, j;

	if (k == NULL || in->entries == NULL || in->nentries == 0) {
		(void)snprintf(err, errlen, "no family register");
		return NULL;
	}
	if ((list = json_array()) == NULL)
		return NULL;
	for (i = 0; i < in->nentries; i++) {
		const struct koseki_entry *ke = &in->entries[i];

		if ((addrs = json_array()) == NULL)
			goto fail;
		for (j = 0; j < in->nfuhyo; j++) {
			if (in->fuhyo[j].entry_id != ke->id)
				continue;
			if ((a = json_object()) == NULL ||
			    json_array_append_new(addrs, a) == -1 ||
			    put_s(a, "address", in->fuhyo[j].address) ||
			    put_date(a, "from", &in->fuhyo[j].from)) {
				json_decref(addrs);
				goto fail;
			}
		}
		if ((e = json_object()) == NULL ||
		    json_array_append_new(list, e) == -1) {
			json_decref(addrs);
			goto fail;
		}
		if (put_i(e, "seq", ke->seq) ||
		    put_name(e, ke->family_name, ke->given_name, NULL) ||
		    put_date(e, "birth", &ke->birth) ||
		    put(e, "removed", json_boolean(ke->removed))) {
			json_decref(addrs);
			goto fail;
		}
		if (put(e, "addresses", addrs))
			goto fail;
	}
	if ((b = json_object()) == NULL)
		goto fail;
	if (put_s(b, "domicile", k->domicile) ||
	    put_s(b, "head_name", k->head_name) || put(b, "entries", list)) {
		json_decref(b);
		return NULL;
	}
	return b;
fail:
	json_decref(list);
	return NULL;
}

static json_t *
body_tax(const struct doc_input *in, char *err, size_t errlen)
{
	const struct tax_record *t = in->tax;
	const struct resident *r = in->res;
	json_t *b, *items, *it;
	size_t i;

	if (t == NULL) {
		(void)snprintf(err, errlen, "no tax record");
		return NULL;
	}
	if ((items = json_array()) == NULL)
		return NULL;
	for (i = 0; i < t->nitems && i < STORE_TAX_ITEMS_MAX; i++) {
		it = json_pack("{s:s,s:s,s:I}", "kind",
		    t->items[i].kind == TAX_ITEM_INCOME ? "income" :
		    "deduction", "category", t->items[i].category, "amount",
		    (json_int_t)t->items[i].amount);
		if (it == NULL || json_array_append_new(items, it) == -1) {
			json_decref(items);
			return NULL;
		}
	}
	if ((b = json_object()) == NULL) {
		json_decref(items);
		return NULL;
	}
	if (put_i(b, "fiscal_year", t->fiscal_year) ||
	    put_i(b, "income_year", t->income_year) ||
	    put_name(b, r->family_name, r->given_name, r->name_substitute) ||
	    put_date(b, "birth", &r->birth) || put_s(b, "address", r->address)) {
		json_decref(items);
		goto fail;
	}
	if (put(b, "items", items) ||
	    put_i(b, "total_income", t->total_income) ||
	    put_i(b, "total_deductions", t->total_deductions) ||
	    put_i(b, "taxable_income", t->taxable_income) ||
	    put_i(b, "municipal_tax", t->municipal_tax) ||
	    put_i(b, "prefectural_tax", t->prefectural_tax))
		goto fail;
	return b;
fail:
	json_decref(b);
	return NULL;
}

int
doc_build(const struct doc_input *in, char **content, size_t *len,
    char *err, size_t errlen)
{
	json_t *doc = NULL, *body = NULL, *binding, *muni;
	char when[32], opts[STORE_OPTIONS_MAX];
	struct tm tm;
	char *s;

	*content = NULL;
	*len = 0;
	(void)snprintf(err, errlen, "out of memory");
	if ((unsigned)in->doc >= DOC_COUNT || in->res == NULL ||
	    in->opt == NULL) {
		(void)snprintf(err, errlen, "bad document input");
		return -1;
	}
	switch (in->doc) {
	case DOC_JUMINHYO:
	case DOC_JUMINHYO_KISAI:
		body = body_juminhyo(in, err, errlen);
		break;
	case DOC_INKAN:
		body = body_inkan(in, err, errlen);
		break;
	case DOC_KOSEKI_ZENBU:
	case DOC_KOSEKI_KOJIN:
		body = body_koseki(in, err, errlen);
		break;
	case DOC_KOSEKI_FUHYO:
		body = body_fuhyo(in, err, errlen);
		break;
	case DOC_TAX:
		body = body_tax(in, err, errlen);
		break;
	default:
		break;
	}
	if (body == NULL)
		return -1;
	if (gmtime_r(&in->issued_at, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 ||
	    doc_options_canonical(in->opt, in->doc, opts, sizeof(opts)) ==
	    -1) {
		json_decref(body);
		(void)snprintf(err, errlen, "bad issue time or options");
		return -1;
	}
	binding = json_pack("{s:s,s:s,s:s}", "session_id", in->session_id,
	    "cert_sha256", in->cert_sha256, "kiosk_id", in->kiosk_id);
	muni = json_pack("{s:s,s:s}", "name", in->municipality, "mayor",
	    in->mayor);
	if (binding == NULL || muni == NULL || (doc = json_object()) == NULL) {
		json_decref(binding);
		json_decref(muni);
		json_decref(body);
		return -1;
	}
	if (put_i(doc, "version", 1) || put(doc, "binding", binding) ||
	    put_s(doc, "issuance_id", in->issuance_id) ||
	    put_s(doc, "document", doc_type_name(in->doc)) ||
	    put_s(doc, "title_ja", doc_type_title_ja(in->doc)) ||
	    put_s(doc, "title_en", doc_title_en(in->doc)) ||
	    put_s(doc, "issued_at", when) || put_i(doc, "copies", in->copies) ||
	    put_i(doc, "fee_yen", in->fee_yen) || put(doc, "municipality", muni) ||
	    put(doc, "options", json_loads(opts, 0, NULL)) ||
	    put_s(doc, "certification_ja", doc_info[in->doc].certification)) {
		json_decref(body);
		json_decref(doc);
		return -1;
	}
	if (put(doc, "body", body)) {
		json_decref(doc);
		return -1;
	}
	s = json_compact(doc, len);
	json_decref(doc);
	if (s == NULL)
		return -1;
	*content = s;
	return 0;
}

/* --- signatures ---------------------------------------------------- */

int
doc_sign(EVP_PKEY *key, const uint8_t *data, size_t len, uint8_t *sig,
    size_t sigmax, size_t *siglen)
{
	EVP_MD_CTX *md;
	size_t n = 0;
	int rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, NULL, &n, data, len) == 1 && n <= sigmax &&
	    EVP_DigestSign(md, sig, &n, data, len) == 1) {
		*siglen = n;
		rc = 0;
	}
	EVP_MD_CTX_free(md);
	return rc;
}

int
doc_verify(EVP_PKEY *key, const uint8_t *data, size_t len,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *md;
	int rc = -1, r;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1) {
		r = EVP_DigestVerify(md, sig, siglen, data, len);
		rc = r == 1 ? 1 : 0;
	}
	EVP_MD_CTX_free(md);
	return rc;
}

int
doc_key_id(EVP_PKEY *key, char out[DOC_KEY_ID_LEN + 1])
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len, i;

	if ((len = i2d_PUBKEY(key, &der)) <= 0)
		return -1;
	i = EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (i != 1 || mdlen != sizeof(md))
		return -1;
	hex_encode(out, DOC_KEY_ID_LEN + 1, md, sizeof(md));
	for (i = 0; i < DOC_KEY_ID_LEN; i++)
		if (out[i] >= 'A' && out[i] <= 'F')
			out[i] = (char)(out[i] - 'A' + 'a');
	return 0;
}

#define ENVELOPE_MAGIC	"KDOC1 "

int
doc_envelope_pack(const char *key_id, const uint8_t *sig, size_t siglen,
    const char *code, const char *content, size_t len, uint8_t **out,
    size_t *outlen)
{
	char sig64[4 * ((DOC_SIG_MAX + 2) / 3) + 1];
	struct doccode dc;
	size_t hl, total;
	uint8_t *p;
	int n;

	if (strlen(key_id) != DOC_KEY_ID_LEN || siglen == 0 ||
	    siglen > DOC_SIG_MAX || len > STORE_CONTENT_MAX - 512)
		return -1;
	if (doccode_parse(code, strlen(code), &dc) == -1)
		return -1;
	if (EVP_EncodeBlock((unsigned char *)sig64, sig, (int)siglen) < 0)
		return -1;
	hl = strlen(ENVELOPE_MAGIC) + DOC_KEY_ID_LEN + 1 + strlen(sig64) + 1 +
	    strlen(code) + 1;
	total = hl + len;
	if ((p = malloc(total + 1)) == NULL)
		return -1;
	n = snprintf((char *)p, hl + 1, "%s%s %s %s\n", ENVELOPE_MAGIC, key_id,
	    sig64, code);
	if (n < 0 || (size_t)n != hl) {
		free(p);
		return -1;
	}
	memcpy(p + hl, content, len);
	p[total] = '\0';
	*out = p;
	*outlen = total;
	return 0;
}

int
doc_envelope_unpack(const uint8_t *in, size_t len,
    char key_id[DOC_KEY_ID_LEN + 1], uint8_t *sig, size_t sigmax,
    size_t *siglen, char *code, size_t codesz, const char **content,
    size_t *clen)
{
	const size_t ml = strlen(ENVELOPE_MAGIC);
	const uint8_t *nl, *s64, *sp;
	uint8_t buf[4 * ((DOC_SIG_MAX + 2) / 3) + 1];
	size_t s64len, pad = 0, codelen = 0;
	struct doccode dc;
	int r;

	if (len < ml + DOC_KEY_ID_LEN + 3 || memcmp(in, ENVELOPE_MAGIC, ml) != 0)
		return -1;
	memcpy(key_id, in + ml, DOC_KEY_ID_LEN);
	key_id[DOC_KEY_ID_LEN] = '\0';
	if (in[ml + DOC_KEY_ID_LEN] != ' ')
		return -1;
	s64 = in + ml + DOC_KEY_ID_LEN + 1;
	if ((nl = memchr(s64, '\n', len - (size_t)(s64 - in))) == NULL)
		return -1;
	if ((sp = memchr(s64, ' ', (size_t)(nl - s64))) != NULL) {
		codelen = (size_t)(nl - sp - 1);
		if (codelen >= codesz ||
		    doccode_parse((const char *)sp + 1, codelen, &dc) == -1)
			return -1;
		s64len = (size_t)(sp - s64);
	} else
		s64len = (size_t)(nl - s64);
	if (s64len == 0 || s64len % 4 != 0 || s64len >= sizeof(buf))
		return -1;
	if (s64[s64len - 1] == '=')
		pad++;
	if (s64[s64len - 2] == '=')
		pad++;
	if ((r = EVP_DecodeBlock(buf, s64, (int)s64len)) < 0 ||
	    (size_t)r < pad || (size_t)r - pad > sigmax)
		return -1;
	*siglen = (size_t)r - pad;
	memcpy(sig, buf, *siglen);
	if (codesz > 0) {
		if (codelen > 0)
			memcpy(code, sp + 1, codelen);
		code[codelen] = '\0';
	}
	*content = (const char *)nl + 1;
	*clen = len - (size_t)(nl + 1 - in);
	return 0;
}

int
doc_code_sign(EVP_PKEY *key, const struct doc_input *in, const char *content,
    size_t len, char *code, size_t codesz)
{
	struct doccode dc;
	struct tm tm;
	char when[32];

	if (gmtime_r(&in->issued_at, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 ||
	    doccode_fill(&dc, in->issuance_id, doc_type_name(in->doc), when,
	    content, len) == -1 ||
	    doccode_sign(key, &dc) == -1 ||
	    doccode_format(&dc, code, codesz) < 0)
		return -1;
	return 0;
}
