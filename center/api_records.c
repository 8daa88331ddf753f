/*
 * The records one request needs, loaded from the store for that request
 * only, and the eligibility of a document over them.  The rules are the
 * pure ones of eligibility.c plus what needs more than one record: a
 * 附票 lists the addresses of everyone in the register, so it is not
 * issued at a kiosk when any of them is under 支援措置.
 */
#include <stdlib.h>
#include <string.h>

#include "centerd.h"
#include "document.h"

void
api_records_free(struct api_records *r)
{
	free(r->members);
	r->members = NULL;
	r->nmembers = 0;
	if (r->has_seal)
		store_seal_clear(&r->seal);
	r->has_seal = 0;
	free(r->entries);
	r->entries = NULL;
	r->nentries = 0;
	free(r->fuhyo);
	r->fuhyo = NULL;
	r->nfuhyo = 0;
}

/* STORE_NOTFOUND is an answer ("none"), anything else but OK a failure. */
static int
found(struct api_worker *w, struct api_job *j, int rc, const char *op,
    int *has)
{
	if (rc == STORE_OK) {
		*has = 1;
		return 0;
	}
	*has = 0;
	if (rc == STORE_NOTFOUND)
		return 0;
	api_store_error(j, w, rc, op);
	return -1;
}

static int
records_read(struct api_worker *w, struct api_job *j, unsigned what,
    time_t now, struct api_records *r)
{
	size_t i;
	int rc, has, entries;

	r->self_index = -1;
	if (what & REC_MEMBERS) {
		rc = store_household_get(w->st, r->res.household_id, &r->hh);
		if (found(w, j, rc, "household", &r->has_hh) == -1)
			return -1;
		if (r->has_hh) {
			rc = store_household_members(w->st, r->res.household_id,
			    0, &r->members, &r->nmembers);
			if (found(w, j, rc, "household members", &has) == -1)
				return -1;
		}
		for (i = 0; i < r->nmembers; i++)
			if (r->members[i].id == r->res.id)
				r->self_index = (int)i;
	}
	if (what & REC_SEAL) {
		rc = store_seal_by_resident(w->st, r->res.id,
		    (what & REC_SEAL_IMAGE) != 0, &r->seal);
		if (found(w, j, rc, "seal", &r->has_seal) == -1)
			return -1;
	}
	if (what & REC_TAX) {
		rc = store_tax_get(w->st, r->res.id,
		    elig_tax_fiscal_year(&w->c->cfg->elig, now),
		    (what & REC_TAX_ITEMS) != 0, &r->tax);
		if (found(w, j, rc, "tax record", &r->has_tax) == -1)
			return -1;
	}
	if ((what & (REC_KOSEKI | REC_FUHYO)) && r->res.koseki_id != 0) {
		entries = (what & REC_KOSEKI_ENTRIES) != 0;
		rc = store_koseki_by_resident(w->st, r->res.id, &r->koseki,
		    entries ? &r->entries : NULL, entries ? &r->nentries :
		    NULL);
		if (found(w, j, rc, "family register", &r->has_koseki) == -1)
			return -1;
	}
	if ((what & REC_FUHYO) && r->has_koseki) {
		if (what & REC_FUHYO_LINES) {
			rc = store_fuhyo_get(w->st, r->koseki.id, &r->fuhyo,
			    &r->nfuhyo);
			if (found(w, j, rc, "fuhyo", &has) == -1)
				return -1;
		}
		rc = store_koseki_protected(w->st, r->koseki.id, r->res.id,
		    &r->fuhyo_protected);
		if (rc != STORE_OK) {
			api_store_error(j, w, rc, "register protection");
			return -1;
		}
	}
	return 0;
}

/* The records of one request come from one snapshot of the database. */
int
api_records_load(struct api_worker *w, struct api_job *j, unsigned what,
    time_t now, struct api_records *r)
{
	int rc, ret;

	if ((rc = store_read_begin(w->st)) != STORE_OK) {
		api_store_error(j, w, rc, "records snapshot");
		return -1;
	}
	ret = records_read(w, j, what, now, r);
	if ((rc = store_read_end(w->st)) != STORE_OK && ret == 0) {
		api_store_error(j, w, rc, "records snapshot");
		return -1;
	}
	return ret;
}

int
api_eligible(const struct center *c, const struct api_records *r,
    enum doc_type doc, const struct doc_options *opt, time_t now,
    struct elig_result *out, struct resident **chosen, size_t *nchosen)
{
	struct elig_request q;
	struct resident *sel = NULL;
	size_t n = 0, i, k;
	int household = 0, rc;

	memset(&q, 0, sizeof(q));
	q.res = &r->res;
	q.doc = doc;
	q.fiscal_year = opt->fiscal_year;
	q.seal = r->has_seal ? &r->seal : NULL;
	q.tax = r->has_tax ? &r->tax : NULL;
	q.koseki = r->has_koseki ? &r->koseki : NULL;
	q.now = now;
	if (chosen != NULL)
		*chosen = NULL;
	if (nchosen != NULL)
		*nchosen = 0;

	if (doc == DOC_JUMINHYO || doc == DOC_JUMINHYO_KISAI) {
		if ((sel = calloc(DOC_MEMBERS_MAX, sizeof(*sel))) == NULL)
			return -1;
		if (opt->all_members) {
			for (i = 0; i < r->nmembers && n < DOC_MEMBERS_MAX; i++)
				sel[n++] = r->members[i];
			household = 1;
			if (r->nmembers > DOC_MEMBERS_MAX || n == 0)
				goto invalid;
		} else if (opt->nmembers > 0) {
			for (k = 0; k < opt->nmembers; k++) {
				if (opt->members[k] < 0 ||
				    (size_t)opt->members[k] >= r->nmembers)
					goto invalid;
				sel[n++] = r->members[opt->members[k]];
			}
			household = !(n == 1 && sel[0].id == r->res.id);
		} else
			sel[n++] = r->res;
		if (household) {
			q.members = sel;
			q.nmembers = n;
		}
	}
	q.options = doc_options_elig(opt, household);
	if (doc != DOC_JUMINHYO && doc != DOC_JUMINHYO_KISAI)
		q.options = 0;
	rc = eligibility_check(&c->cfg->elig, &q, out);
	if (rc == ELIG_OK && doc == DOC_KOSEKI_FUHYO && r->fuhyo_protected) {
		(void)elig_refusal("support_measures", out);
		out->ok = 0;
		rc = ELIG_REFUSED;
	}
	if (rc == ELIG_OK && chosen != NULL && sel != NULL) {
		*chosen = sel;
		*nchosen = n;
		sel = NULL;
	}
	free(sel);
	return rc;
invalid:
	free(sel);
	(void)elig_refusal("invalid_request", out);
	out->ok = 0;
	return ELIG_REFUSED;
}

void
api_not_eligible(struct api_job *j, const struct elig_result *e)
{
	json_t *o;

	o = json_pack("{s:{s:s,s:s,s:s,s:s}}", "error", "code", "not_eligible",
	    "reason", e->code, "message", e->message_en, "message_ja",
	    e->message_ja);
	api_reply_json(j, 403, o);
	(void)snprintf(j->note, sizeof(j->note), "not_eligible: %s", e->code);
}
