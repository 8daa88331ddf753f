/*
 * Backend-independent half of the records layer: picks the backend from
 * the URI, validates every record before a backend sees it (bounded,
 * NUL-terminated, valid UTF-8 without control characters, real dates,
 * check digits), and holds the small date/number helpers.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "store.h"

struct store {
	const struct store_ops	*ops;
	void			*impl;
	char			 err[256];
};

static int
invalid(struct store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "invalid %s", what);
	return STORE_INVALID;
}

/* Valid UTF-8, no C0/DEL controls, NUL-terminated within max bytes. */
static int
text_ok(const char *p, size_t max, int nonempty)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t len, i, n, k;
	uint32_t cp;

	len = strnlen(p, max);
	if (len == max || (nonempty && len == 0))
		return 0;
	for (i = 0; i < len; ) {
		if (u[i] < 0x80) {
			if (u[i] < 0x20 || u[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((u[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = u[i] & 0x1f;
		} else if ((u[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = u[i] & 0x0f;
		} else if ((u[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = u[i] & 0x07;
		} else
			return 0;
		if (i + n >= len)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int
digits_ok(const char *p, size_t n)
{
	size_t i;

	if (strnlen(p, n + 1) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* Printable ASCII token: keys, session and kiosk ids. */
static int
token_ok(const char *p, size_t max)
{
	size_t len, i;

	len = strnlen(p, max);
	if (len == 0 || len == max)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && strchr("-_.:", p[i]) == NULL)
			return 0;
	return 1;
}

/* Exactly n lower-case hex digits. */
static int
lowhex_ok(const char *p, size_t n)
{
	size_t i;

	if (strnlen(p, n + 1) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

static int
optdate_ok(const struct store_date *d)
{
	return store_date_is_zero(d) || store_date_valid(d);
}

struct store *
store_open(const char *uri, int flags, char *err, size_t errlen)
{
	struct store *s;
	const char *path = uri;

	if (uri == NULL || *uri == '\0') {
		snprintf(err, errlen, "no database given");
		return NULL;
	}
	if (strncmp(uri, "postgresql:", 11) == 0 ||
	    strncmp(uri, "postgres:", 9) == 0) {
		snprintf(err, errlen, "the PostgreSQL backend is not built "
		    "into this program");
		return NULL;
	}
	if (strncmp(uri, "sqlite:", 7) == 0)
		path = uri + 7;
	if (*path == '\0') {
		snprintf(err, errlen, "empty database path");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ops = &store_sqlite_ops;
	if ((s->impl = store_sqlite_open(path, flags, err, errlen)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->impl);
	free(s);
}

const char *
store_errmsg(const struct store *s)
{
	if (s->err[0] != '\0')
		return s->err;
	return s->ops->errmsg(s->impl);
}

/* Every call clears the validation message so errmsg shows the latest. */
#define CALL_RESET(s)	((s)->err[0] = '\0')

int
store_migrate(struct store *s)
{
	CALL_RESET(s);
	return s->ops->migrate(s->impl);
}

int
store_schema_version(struct store *s, int *v)
{
	CALL_RESET(s);
	return s->ops->schema_version(s->impl, v);
}

int
store_batch_begin(struct store *s)
{
	CALL_RESET(s);
	return s->ops->batch_begin(s->impl);
}

int
store_batch_end(struct store *s, int commit)
{
	CALL_RESET(s);
	return s->ops->batch_end(s->impl, commit);
}

int
store_read_begin(struct store *s)
{
	CALL_RESET(s);
	return s->ops->read_begin(s->impl);
}

int
store_read_end(struct store *s)
{
	CALL_RESET(s);
	return s->ops->read_end(s->impl);
}

int
store_op_begin(struct store *s)
{
	CALL_RESET(s);
	return s->ops->op_begin(s->impl);
}

int
store_op_end(struct store *s, int keep)
{
	CALL_RESET(s);
	return s->ops->op_end(s->impl, keep);
}

int
store_batch_alive(struct store *s)
{
	return s->ops->batch_alive(s->impl);
}

int
store_set_wal_hook(struct store *s, void (*fn)(void *, int), void *arg)
{
	CALL_RESET(s);
	return s->ops->set_wal_hook(s->impl, fn, arg);
}

int
store_checkpoint(struct store *s, int *frames, int *copied)
{
	CALL_RESET(s);
	return s->ops->checkpoint(s->impl, frames, copied);
}

int
store_set_busy_timeout(struct store *s, int ms)
{
	CALL_RESET(s);
	if (ms < 0 || ms > 600000)
		return invalid(s, "busy timeout");
	return s->ops->set_busy_timeout(s->impl, ms);
}

int
store_secret(struct store *s, const char *name, const uint8_t *cand,
    size_t len, uint8_t *out)
{
	CALL_RESET(s);
	if (name == NULL || !token_ok(name, STORE_KEY_MAX) || cand == NULL ||
	    len < 16 || len > STORE_SECRET_MAX)
		return invalid(s, "secret");
	return s->ops->secret(s->impl, name, cand, len, out);
}

int
store_household_insert(struct store *s, struct household *h)
{
	CALL_RESET(s);
	if (!text_ok(h->address, sizeof(h->address), 1))
		return invalid(s, "household address");
	return s->ops->household_insert(s->impl, h);
}

int
store_household_set_head(struct store *s, int64_t hid, int64_t rid)
{
	CALL_RESET(s);
	if (hid <= 0 || rid <= 0)
		return invalid(s, "household or resident id");
	return s->ops->household_set_head(s->impl, hid, rid);
}

static int
resident_valid(struct store *s, const struct resident *r)
{
	int foreign;

	if (!digits_ok(r->register_code, STORE_REGCODE_LEN))
		return invalid(s, "resident register code");
	if (!text_ok(r->family_name, sizeof(r->family_name), 1) ||
	    !text_ok(r->given_name, sizeof(r->given_name), 0) ||
	    !text_ok(r->family_kana, sizeof(r->family_kana), 1) ||
	    !text_ok(r->given_kana, sizeof(r->given_kana), 0) ||
	    !text_ok(r->name_substitute, sizeof(r->name_substitute), 0))
		return invalid(s, "resident name");
	if (!store_date_valid(&r->birth))
		return invalid(s, "birth date");
	if (r->sex != STORE_SEX_MALE && r->sex != STORE_SEX_FEMALE)
		return invalid(s, "sex");
	if (!text_ok(r->address, sizeof(r->address), 1))
		return invalid(s, "address");
	if (!store_date_valid(&r->moved_in) ||
	    store_date_cmp(&r->moved_in, &r->birth) < 0)
		return invalid(s, "moved-in date");
	switch (r->status) {
	case RESIDENT_ACTIVE:
		if (!store_date_is_zero(&r->status_date))
			return invalid(s, "status date (active resident)");
		break;
	case RESIDENT_MOVED_OUT:
	case RESIDENT_DECEASED:
		if (!store_date_valid(&r->status_date) ||
		    store_date_cmp(&r->status_date, &r->birth) < 0)
			return invalid(s, "status date");
		break;
	default:
		return invalid(s, "status");
	}
	if (!text_ok(r->nationality, sizeof(r->nationality), 0) ||
	    !text_ok(r->residence_status, sizeof(r->residence_status), 0) ||
	    !optdate_ok(&r->residence_end))
		return invalid(s, "foreign-resident fields");
	foreign = r->nationality[0] != '\0';
	if (foreign) {
		if (r->residence_status[0] == '\0' ||
		    strnlen(r->residence_card, sizeof(r->residence_card)) !=
		    STORE_RCARD_LEN || !text_ok(r->residence_card,
		    sizeof(r->residence_card), 1))
			return invalid(s, "residence status or card number");
		if (r->domicile[0] != '\0' || r->koseki_id != 0)
			return invalid(s, "family register of a foreign "
			    "resident");
	} else if (r->residence_status[0] != '\0' ||
	    r->residence_card[0] != '\0' ||
	    !store_date_is_zero(&r->residence_end))
		return invalid(s, "residence status of a Japanese national");
	if (!store_mynumber_valid(r->my_number))
		return invalid(s, "My Number");
	if (r->household_id <= 0 ||
	    !text_ok(r->relationship, sizeof(r->relationship), 1))
		return invalid(s, "household or relationship");
	if (!text_ok(r->domicile, sizeof(r->domicile), 0) ||
	    !text_ok(r->domicile_head, sizeof(r->domicile_head), 0) ||
	    (r->domicile[0] == '\0') != (r->domicile_head[0] == '\0') ||
	    (!foreign && r->domicile[0] == '\0') || r->koseki_id < 0)
		return invalid(s, "domicile");
	return STORE_OK;
}

int
store_resident_insert(struct store *s, struct resident *r)
{
	int rc;

	CALL_RESET(s);
	if ((rc = resident_valid(s, r)) != STORE_OK)
		return rc;
	return s->ops->resident_insert(s->impl, r);
}

int
store_resident_set_status(struct store *s, int64_t id,
    enum resident_status st, const struct store_date *when)
{
	CALL_RESET(s);
	if (id <= 0)
		return invalid(s, "resident id");
	if (st == RESIDENT_ACTIVE) {
		if (when != NULL && !store_date_is_zero(when))
			return invalid(s, "status date (active resident)");
	} else if ((st != RESIDENT_MOVED_OUT && st != RESIDENT_DECEASED) ||
	    when == NULL || !store_date_valid(when))
		return invalid(s, "status or status date");
	return s->ops->resident_set_status(s->impl, id, st, when);
}

int
store_koseki_insert(struct store *s, struct koseki *k)
{
	CALL_RESET(s);
	if (!text_ok(k->domicile, sizeof(k->domicile), 1) ||
	    !text_ok(k->head_name, sizeof(k->head_name), 1) ||
	    !text_ok(k->created_reason, sizeof(k->created_reason), 0) ||
	    !store_date_valid(&k->created) || k->head_resident_id < 0)
		return invalid(s, "family register");
	return s->ops->koseki_insert(s->impl, k);
}

int
store_koseki_entry_insert(struct store *s, struct koseki_entry *e)
{
	size_t i;

	CALL_RESET(s);
	if (e->koseki_id <= 0 || e->seq < 1 || e->resident_id < 0 ||
	    !text_ok(e->family_name, sizeof(e->family_name), 1) ||
	    !text_ok(e->given_name, sizeof(e->given_name), 1) ||
	    !store_date_valid(&e->birth) ||
	    (e->sex != STORE_SEX_MALE && e->sex != STORE_SEX_FEMALE) ||
	    !text_ok(e->father, sizeof(e->father), 0) ||
	    !text_ok(e->mother, sizeof(e->mother), 0) ||
	    !text_ok(e->parent_relation, sizeof(e->parent_relation), 0) ||
	    !text_ok(e->removal_reason, sizeof(e->removal_reason), 0) ||
	    e->nevents > STORE_KOSEKI_EVENTS_MAX)
		return invalid(s, "family register entry");
	for (i = 0; i < e->nevents; i++)
		if (!text_ok(e->events[i].kind, sizeof(e->events[i].kind), 1) ||
		    !store_date_valid(&e->events[i].date) ||
		    !text_ok(e->events[i].detail,
		    sizeof(e->events[i].detail), 0))
			return invalid(s, "family register event");
	return s->ops->koseki_entry_insert(s->impl, e);
}

int
store_fuhyo_insert(struct store *s, const struct fuhyo_entry *f)
{
	CALL_RESET(s);
	if (f->entry_id <= 0 || f->seq < 1 ||
	    !text_ok(f->address, sizeof(f->address), 1) ||
	    !store_date_valid(&f->from))
		return invalid(s, "附票 entry");
	return s->ops->fuhyo_insert(s->impl, f);
}

int
store_seal_insert(struct store *s, struct seal *seal)
{
	CALL_RESET(s);
	if (seal->resident_id <= 0 ||
	    !text_ok(seal->registration_no, sizeof(seal->registration_no), 1) ||
	    !store_date_valid(&seal->registered) ||
	    !text_ok(seal->image_type, sizeof(seal->image_type), 1) ||
	    seal->image == NULL || seal->image_len == 0 ||
	    seal->image_len > STORE_SEAL_IMAGE_MAX)
		return invalid(s, "seal registration");
	if (seal->status == SEAL_ACTIVE) {
		if (!store_date_is_zero(&seal->abolished))
			return invalid(s, "abolition date of an active seal");
	} else if (seal->status != SEAL_ABOLISHED ||
	    !store_date_valid(&seal->abolished) ||
	    store_date_cmp(&seal->abolished, &seal->registered) < 0)
		return invalid(s, "seal status or abolition date");
	return s->ops->seal_insert(s->impl, seal);
}

int
store_tax_insert(struct store *s, const struct tax_record *t)
{
	size_t i;

	CALL_RESET(s);
	if (t->resident_id <= 0 || t->fiscal_year < 1900 ||
	    t->fiscal_year > 9999 || t->income_year != t->fiscal_year - 1 ||
	    t->nitems > STORE_TAX_ITEMS_MAX || t->total_income < 0 ||
	    t->total_deductions < 0 || t->taxable_income < 0 ||
	    t->municipal_tax < 0 || t->prefectural_tax < 0)
		return invalid(s, "tax record");
	for (i = 0; i < t->nitems; i++)
		if ((t->items[i].kind != TAX_ITEM_INCOME &&
		    t->items[i].kind != TAX_ITEM_DEDUCTION) ||
		    !text_ok(t->items[i].category,
		    sizeof(t->items[i].category), 1) || t->items[i].amount < 0)
			return invalid(s, "tax item");
	return s->ops->tax_insert(s->impl, t);
}

int
store_resident_get(struct store *s, int64_t id, struct resident *r)
{
	CALL_RESET(s);
	if (id <= 0)
		return STORE_NOTFOUND;
	return s->ops->resident_get(s->impl, id, r);
}

int
store_resident_ids(struct store *s, int64_t **ids, size_t *n)
{
	CALL_RESET(s);
	return s->ops->resident_ids(s->impl, ids, n);
}

int
store_household_get(struct store *s, int64_t id, struct household *h)
{
	CALL_RESET(s);
	if (id <= 0)
		return STORE_NOTFOUND;
	return s->ops->household_get(s->impl, id, h);
}

int
store_household_members(struct store *s, int64_t id, int include_removed,
    struct resident **out, size_t *n)
{
	CALL_RESET(s);
	*out = NULL;
	*n = 0;
	if (id <= 0)
		return STORE_NOTFOUND;
	return s->ops->household_members(s->impl, id, include_removed, out, n);
}

int
store_seal_by_resident(struct store *s, int64_t rid, int with_image,
    struct seal *seal)
{
	CALL_RESET(s);
	memset(seal, 0, sizeof(*seal));
	if (rid <= 0)
		return STORE_NOTFOUND;
	return s->ops->seal_by_resident(s->impl, rid, with_image != 0, seal);
}

void
store_seal_clear(struct seal *seal)
{
	if (seal == NULL)
		return;
	free(seal->image);
	memset(seal, 0, sizeof(*seal));
}

int
store_tax_get(struct store *s, int64_t rid, int fy, int with_items,
    struct tax_record *t)
{
	CALL_RESET(s);
	if (rid <= 0 || fy < 1900 || fy > 9999)
		return STORE_NOTFOUND;
	return s->ops->tax_get(s->impl, rid, fy, with_items != 0, t);
}

int
store_koseki_by_resident(struct store *s, int64_t rid, struct koseki *k,
    struct koseki_entry **entries, size_t *n)
{
	CALL_RESET(s);
	if (entries != NULL)
		*entries = NULL;
	if (n != NULL)
		*n = 0;
	if ((entries == NULL) != (n == NULL))
		return STORE_INVALID;
	if (rid <= 0)
		return STORE_NOTFOUND;
	return s->ops->koseki_by_resident(s->impl, rid, k, entries, n);
}

int
store_koseki_protected(struct store *s, int64_t kid, int64_t except,
    int *protected)
{
	CALL_RESET(s);
	*protected = 0;
	if (kid <= 0)
		return STORE_NOTFOUND;
	return s->ops->koseki_protected(s->impl, kid, except, protected);
}

int
store_fuhyo_get(struct store *s, int64_t kid, struct fuhyo_entry **out,
    size_t *n)
{
	CALL_RESET(s);
	*out = NULL;
	*n = 0;
	if (kid <= 0)
		return STORE_NOTFOUND;
	return s->ops->fuhyo_get(s->impl, kid, out, n);
}

int
store_card_cert_insert(struct store *s, const struct card_cert *c)
{
	struct card_cert n;

	CALL_RESET(s);
	n = *c;
	if (store_serial_normalize(c->serial, n.serial, sizeof(n.serial)) == -1)
		return invalid(s, "certificate serial");
	if (c->resident_id <= 0 || !text_ok(c->issuer, sizeof(c->issuer), 1) ||
	    c->not_after <= 0 ||
	    (c->status != CARD_CERT_VALID && c->status != CARD_CERT_REVOKED))
		return invalid(s, "card certificate");
	return s->ops->card_cert_insert(s->impl, &n);
}

int
store_card_cert_get(struct store *s, const char *serial, struct card_cert *c)
{
	char norm[STORE_SERIAL_MAX];

	CALL_RESET(s);
	if (store_serial_normalize(serial, norm, sizeof(norm)) == -1)
		return invalid(s, "certificate serial");
	return s->ops->card_cert_get(s->impl, norm, c);
}

int
store_card_cert_set_status(struct store *s, const char *serial,
    enum card_cert_status st)
{
	char norm[STORE_SERIAL_MAX];

	CALL_RESET(s);
	if (store_serial_normalize(serial, norm, sizeof(norm)) == -1)
		return invalid(s, "certificate serial");
	if (st != CARD_CERT_VALID && st != CARD_CERT_REVOKED)
		return invalid(s, "certificate status");
	return s->ops->card_cert_set_status(s->impl, norm, st);
}

int
store_resident_by_cert(struct store *s, const char *serial,
    struct resident *r, struct card_cert *cert)
{
	struct card_cert c;
	int rc;

	if ((rc = store_card_cert_get(s, serial, &c)) != STORE_OK)
		return rc;
	if ((rc = s->ops->resident_get(s->impl, c.resident_id, r)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_ERR : rc;
	if (cert != NULL)
		*cert = c;
	return STORE_OK;
}

static int
issuance_req_valid(struct store *s, const struct issuance_req *q)
{
	if (!token_ok(q->idempotency_key, sizeof(q->idempotency_key)))
		return invalid(s, "idempotency key");
	if (!token_ok(q->session_id, sizeof(q->session_id)))
		return invalid(s, "session id");
	if (!lowhex_ok(q->public_id, STORE_PUBID_LEN))
		return invalid(s, "public issuance id");
	if (!token_ok(q->kiosk_id, sizeof(q->kiosk_id)))
		return invalid(s, "kiosk id");
	if (!token_ok(q->document, sizeof(q->document)))
		return invalid(s, "document type");
	if (!text_ok(q->options, sizeof(q->options), 1))
		return invalid(s, "options");
	if (q->resident_id <= 0 || q->copies < 1 ||
	    q->copies > STORE_COPIES_MAX || q->fee_yen < 0 ||
	    q->fee_yen > 1000000 || q->now <= 0)
		return invalid(s, "resident, copies, fee or time");
	return STORE_OK;
}

int
store_issuance_create(struct store *s, const struct issuance_req *q,
    struct issuance *out, int *created)
{
	int rc;

	CALL_RESET(s);
	*created = 0;
	if ((rc = issuance_req_valid(s, q)) != STORE_OK)
		return rc;
	return s->ops->issuance_create(s->impl, q, out, created);
}

int
store_issuance_create_signed(struct store *s, const struct issuance_req *q,
    const uint8_t *c, size_t len, struct issuance *out, int *created,
    uint8_t **stored, size_t *stored_len)
{
	int rc;

	CALL_RESET(s);
	*created = 0;
	*stored = NULL;
	*stored_len = 0;
	if ((rc = issuance_req_valid(s, q)) != STORE_OK)
		return rc;
	if (c == NULL || len == 0 || len > STORE_CONTENT_MAX)
		return invalid(s, "issuance content");
	return s->ops->issuance_create_signed(s->impl, q, c, len, out,
	    created, stored, stored_len);
}

int
store_issuance_same_request(const struct issuance_req *a,
    const struct issuance_req *b)
{
	return strcmp(a->idempotency_key, b->idempotency_key) == 0 &&
	    strcmp(a->session_id, b->session_id) == 0 &&
	    strcmp(a->kiosk_id, b->kiosk_id) == 0 &&
	    a->resident_id == b->resident_id &&
	    strcmp(a->document, b->document) == 0 &&
	    strcmp(a->options, b->options) == 0 &&
	    a->copies == b->copies && a->fee_yen == b->fee_yen;
}

int
store_issuance_get(struct store *s, int64_t id, struct issuance *i)
{
	CALL_RESET(s);
	if (id <= 0)
		return STORE_NOTFOUND;
	return s->ops->issuance_get(s->impl, id, i);
}

int
store_issuance_get_by_key(struct store *s, const char *key,
    struct issuance *i)
{
	CALL_RESET(s);
	if (!token_ok(key, STORE_KEY_MAX))
		return invalid(s, "idempotency key");
	return s->ops->issuance_get_by_key(s->impl, key, i);
}

int
store_issuance_get_by_public_id(struct store *s, const char *pid,
    struct issuance *i)
{
	CALL_RESET(s);
	if (!lowhex_ok(pid, STORE_PUBID_LEN))
		return STORE_NOTFOUND;
	return s->ops->issuance_get_by_public_id(s->impl, pid, i);
}

int
store_issuance_set_result(struct store *s, int64_t id,
    enum issuance_state st, int pages, int64_t now, int *changed)
{
	CALL_RESET(s);
	*changed = 0;
	if (id <= 0)
		return STORE_NOTFOUND;
	if ((st != ISSUANCE_COMMITTED && st != ISSUANCE_VOIDED) || pages < 0 ||
	    pages > 10000 || now <= 0)
		return invalid(s, "issuance result");
	return s->ops->issuance_set_result(s->impl, id, st, pages, now,
	    changed);
}

int
store_issuance_set_content(struct store *s, int64_t id, const uint8_t *c,
    size_t len)
{
	CALL_RESET(s);
	if (id <= 0)
		return STORE_NOTFOUND;
	if (c == NULL || len == 0 || len > STORE_CONTENT_MAX)
		return invalid(s, "issuance content");
	return s->ops->issuance_set_content(s->impl, id, c, len);
}

int
store_issuance_get_content(struct store *s, int64_t id, uint8_t **c,
    size_t *len)
{
	CALL_RESET(s);
	*c = NULL;
	*len = 0;
	if (id <= 0)
		return STORE_NOTFOUND;
	return s->ops->issuance_get_content(s->impl, id, c, len);
}

int
store_session_create(struct store *s, const struct session *se)
{
	CALL_RESET(s);
	if (!token_ok(se->id, sizeof(se->id)) ||
	    !token_ok(se->kiosk_id, sizeof(se->kiosk_id)) ||
	    se->challenge_len < 16 || se->challenge_len > STORE_CHALLENGE_MAX ||
	    se->created_at <= 0 || se->expires_at <= se->created_at)
		return invalid(s, "session");
	return s->ops->session_create(s->impl, se);
}

static int
session_full_valid(const struct session *se)
{
	return token_ok(se->id, sizeof(se->id)) &&
	    token_ok(se->kiosk_id, sizeof(se->kiosk_id)) &&
	    se->challenge_len >= 16 && se->challenge_len <= STORE_CHALLENGE_MAX &&
	    se->created_at > 0 && se->expires_at > se->created_at;
}

int
store_session_record(struct store *s, const struct session *se)
{
	CALL_RESET(s);
	if (!session_full_valid(se))
		return invalid(s, "session");
	return s->ops->session_record(s->impl, se);
}

int
store_session_claim(struct store *s, const struct session *se, int64_t now,
    int64_t resident_id, const char *serial, const char *cert_sha256)
{
	char norm[STORE_SERIAL_MAX];

	CALL_RESET(s);
	if (!session_full_valid(se))
		return invalid(s, "session");
	if (now <= 0 || resident_id < 0)
		return invalid(s, "session authentication");
	norm[0] = '\0';
	if (resident_id > 0 && (serial == NULL || cert_sha256 == NULL ||
	    store_serial_normalize(serial, norm, sizeof(norm)) == -1 ||
	    !lowhex_ok(cert_sha256, 64)))
		return invalid(s, "certificate of the session");
	return s->ops->session_claim(s->impl, se, now, resident_id, norm,
	    resident_id > 0 ? cert_sha256 : "");
}

int
store_session_get(struct store *s, const char *id, struct session *se)
{
	CALL_RESET(s);
	if (!token_ok(id, STORE_KEY_MAX))
		return STORE_NOTFOUND;
	return s->ops->session_get(s->impl, id, se);
}

int
store_session_authenticate(struct store *s, const char *id,
    const char *kiosk_id, int64_t now, int64_t resident_id,
    const char *serial, const char *cert_sha256)
{
	char norm[STORE_SERIAL_MAX];

	CALL_RESET(s);
	if (!token_ok(id, STORE_KEY_MAX))
		return STORE_NOTFOUND;
	if (!token_ok(kiosk_id, STORE_KEY_MAX) || now <= 0 || resident_id < 0)
		return invalid(s, "session authentication");
	norm[0] = '\0';
	if (resident_id > 0 && (serial == NULL || cert_sha256 == NULL ||
	    store_serial_normalize(serial, norm, sizeof(norm)) == -1 ||
	    !lowhex_ok(cert_sha256, 64)))
		return invalid(s, "certificate of the session");
	return s->ops->session_authenticate(s->impl, id, kiosk_id, now,
	    resident_id, norm, resident_id > 0 ? cert_sha256 : "");
}

int
store_session_purge(struct store *s, int64_t before, long *n)
{
	CALL_RESET(s);
	*n = 0;
	return s->ops->session_purge(s->impl, before, n);
}

int
store_stats(struct store *s, struct store_stats *st)
{
	CALL_RESET(s);
	memset(st, 0, sizeof(*st));
	return s->ops->stats(s->impl, st);
}

const char *
store_status_name(enum resident_status st)
{
	switch (st) {
	case RESIDENT_ACTIVE:
		return "active";
	case RESIDENT_MOVED_OUT:
		return "moved_out";
	case RESIDENT_DECEASED:
		return "deceased";
	}
	return "unknown";
}

const char *
store_issuance_state_name(enum issuance_state st)
{
	switch (st) {
	case ISSUANCE_ISSUED:
		return "issued";
	case ISSUANCE_COMMITTED:
		return "committed";
	case ISSUANCE_VOIDED:
		return "voided";
	}
	return "unknown";
}

int
store_date_valid(const struct store_date *d)
{
	return d->y >= 1868 && d->y <= 9999 && d->m >= 1 && d->m <= 12 &&
	    d->d >= 1 && d->d <= civil_days_in_month(d->y, d->m);
}

int
store_date_is_zero(const struct store_date *d)
{
	return d->y == 0 && d->m == 0 && d->d == 0;
}

int
store_date_cmp(const struct store_date *a, const struct store_date *b)
{
	return civil_cmp(a->y, a->m, a->d, b->y, b->m, b->d);
}

int
store_date_parse(const char *s, struct store_date *d)
{
	int i;

	if (s == NULL || strnlen(s, 11) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	d->y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	d->m = (s[5] - '0') * 10 + (s[6] - '0');
	d->d = (s[8] - '0') * 10 + (s[9] - '0');
	if (!store_date_valid(d)) {
		memset(d, 0, sizeof(*d));
		return -1;
	}
	return 0;
}

void
store_date_format(const struct store_date *d, char *dst, size_t dstlen)
{
	if (dstlen == 0)
		return;
	if (store_date_is_zero(d) || !store_date_valid(d)) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, dstlen, "%04d-%02d-%02d", d->y, d->m, d->d);
}

int
store_age(const struct store_date *birth, const struct store_date *on)
{
	int age;

	age = on->y - birth->y;
	if (on->m < birth->m || (on->m == birth->m && on->d < birth->d))
		age--;
	return age;
}

/*
 * 行政手続における特定の個人を識別するための番号の利用等に関する法律
 * 施行令 第八条: P(n) the n-th digit from the right of the first eleven,
 * Q(n) = n + 1 for n <= 6, n - 5 for n >= 7; r = sum P*Q mod 11;
 * check = 0 if r <= 1, else 11 - r.
 */
int
store_mynumber_check_digit(const char *first11)
{
	int n, sum = 0, p, q, r;

	for (n = 1; n <= 11; n++) {
		p = first11[11 - n] - '0';
		if (p < 0 || p > 9)
			return -1;
		q = n <= 6 ? n + 1 : n - 5;
		sum += p * q;
	}
	r = sum % 11;
	return r <= 1 ? 0 : 11 - r;
}

int
store_mynumber_valid(const char *s)
{
	if (!digits_ok(s, STORE_MYNUMBER_LEN))
		return 0;
	return store_mynumber_check_digit(s) == s[11] - '0';
}

int
store_serial_normalize(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	int leading = 1, digits = 0;
	const char *p = in;

	if (in == NULL || outlen < 2)
		return -1;
	if (strnlen(in, 4 * STORE_SERIAL_MAX) == 4 * STORE_SERIAL_MAX)
		return -1;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p != '\0'; p++) {
		if (*p == ':' || *p == ' ')
			continue;
		if (!isxdigit((unsigned char)*p))
			return -1;
		digits++;
		if (leading && *p == '0')
			continue;
		leading = 0;
		if (o + 1 >= outlen || o + 1 >= STORE_SERIAL_MAX)
			return -1;
		out[o++] = (char)toupper((unsigned char)*p);
	}
	if (digits == 0)
		return -1;
	if (o == 0)
		out[o++] = '0';	/* the serial zero */
	out[o] = '\0';
	return 0;
}
