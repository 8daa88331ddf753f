/*
 * The records layer on a real SQLite file: schema migration, the seeded
 * town's invariants, certificate lookups, the idempotency and
 * exactly-once rules of issuances, and several processes writing one
 * database file at once.
 */
#define _XOPEN_SOURCE 700	/* nftw */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eligibility.h"
#include "seed.h"
#include "store.h"
#include "t.h"
#include "writer.h"

static char tmpdir[1024];
static const struct store_date today = { 2025, 7, 2 };
static struct seed_summary sum;

static void
make_tmpdir(void)
{
	const char *base = getenv("KIOSK_TMP");
	char tmpl[1024];

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/store.XXXXXX", base);
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Remove the scratch directory unless KIOSK_KEEP is set (for debugging). */
static void
cleanup(void)
{
	if (getenv("KIOSK_KEEP") != NULL)
		printf("# kept %s\n", tmpdir);
	else if (nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		printf("# cleanup %s: %s\n", tmpdir, strerror(errno));
}

static struct store *
open_db(const char *name)
{
	char path[1200], err[256];
	struct store *s;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((s = store_open(path, STORE_CREATE, err, sizeof(err))) == NULL) {
		printf("# open %s: %s\n", path, err);
		return NULL;
	}
	if (store_migrate(s) != STORE_OK) {
		printf("# migrate: %s\n", store_errmsg(s));
		store_close(s);
		return NULL;
	}
	return s;
}

static void
test_helpers(void)
{
	char out[STORE_SERIAL_MAX];
	struct store_date d;

	/* a published example of a valid My Number check digit scheme */
	T_CHECK(store_mynumber_check_digit("12345678901") == 8,
	    "check digit of 12345678901");
	T_CHECK(store_mynumber_valid("123456789018"), "valid My Number");
	T_CHECK(!store_mynumber_valid("123456789012"), "bad check digit");
	T_CHECK(!store_mynumber_valid("12345678901"), "short My Number");
	T_CHECK(!store_mynumber_valid("1234567890a8"), "non-digit My Number");
	T_CHECK(store_serial_normalize("00:0a:1B", out, sizeof(out)) == 0 &&
	    strcmp(out, "A1B") == 0, "serial normalized");
	T_CHECK(store_serial_normalize("0x00", out, sizeof(out)) == 0 &&
	    strcmp(out, "0") == 0, "serial zero");
	T_CHECK(store_serial_normalize("0x", out, sizeof(out)) == -1,
	    "empty serial");
	T_CHECK(store_serial_normalize("12G4", out, sizeof(out)) == -1,
	    "non-hex serial");
	T_CHECK(store_date_parse("2024-02-29", &d) == 0, "leap day");
	T_CHECK(store_date_parse("2023-02-29", &d) == -1, "not a leap day");
	T_CHECK(store_date_parse("2023-2-28", &d) == -1, "date format");
	d = (struct store_date){ 2010, 7, 3 };
	T_CHECK(store_age(&d, &today) == 14, "age the day before birthday");
}

static void
test_schema(struct store *s)
{
	int v = 0;

	T_CHECK(store_schema_version(s, &v) == STORE_OK &&
	    v == STORE_SCHEMA_VERSION, "schema version after migrate");
	T_CHECK(store_migrate(s) == STORE_OK, "migrate twice");
	T_CHECK(store_schema_version(s, &v) == STORE_OK &&
	    v == STORE_SCHEMA_VERSION, "schema version unchanged");
}

static int
rel_ok(const char *rel)
{
	static const char *const ok[] = { "世帯主", "妻", "夫", "子", "父",
	    "母", "孫", "子の妻", "同居人" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(rel, ok[i]) == 0)
			return 1;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Walk every resident and household and check the town hangs together. */
static void
test_invariants(struct store *s)
{
	int64_t *ids = NULL;
	size_t n = 0, i, j, nm, ne, nf;
	struct resident r, *mem, *head;
	struct household h;
	struct koseki k;
	struct koseki_entry *e;
	struct fuhyo_entry *f;
	struct seal seal;
	struct tax_record t;
	char (*mn)[STORE_MYNUMBER_LEN + 1] = NULL;
	char (*rc)[STORE_REGCODE_LEN + 1] = NULL;
	int bad_head = 0, bad_rel = 0, bad_age = 0, bad_foreign = 0,
	    bad_koseki = 0, bad_mn = 0, bad_seal = 0, bad_tax = 0,
	    bad_fuhyo = 0, bad_protected = 0, protected_seen = 0,
	    bad_status = 0, under15 = 0, heads_checked = 0,
	    taxed = 0, seals = 0, age, hage, found, dup_mn = 0, dup_rc = 0;

	T_CHECK(store_resident_ids(s, &ids, &n) == STORE_OK &&
	    n == (size_t)sum.residents, "resident ids listed");
	mn = calloc(n, sizeof(*mn));
	rc = calloc(n, sizeof(*rc));
	if (mn == NULL || rc == NULL || ids == NULL) {
		T_CHECK(0, "allocation");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (store_resident_get(s, ids[i], &r) != STORE_OK) {
			T_CHECK(0, "resident get");
			goto out;
		}
		memcpy(mn[i], r.my_number, sizeof(mn[i]));
		memcpy(rc[i], r.register_code, sizeof(rc[i]));
		if (!store_mynumber_valid(r.my_number))
			bad_mn++;
		age = store_age(&r.birth, &today);
		if (r.status == RESIDENT_ACTIVE && age < 15)
			under15++;
		if ((r.status == RESIDENT_ACTIVE) !=
		    store_date_is_zero(&r.status_date))
			bad_status++;
		if (!rel_ok(r.relationship))
			bad_rel++;
		if ((strcmp(r.relationship, "妻") == 0 &&
		    r.sex != STORE_SEX_FEMALE) ||
		    (strcmp(r.relationship, "夫") == 0 &&
		    r.sex != STORE_SEX_MALE))
			bad_rel++;

		/* household and relationship to the head */
		if (store_household_get(s, r.household_id, &h) != STORE_OK ||
		    h.head_resident_id == 0)
			bad_head++;
		else if (h.head_resident_id == r.id) {
			if (strcmp(r.relationship, "世帯主") != 0)
				bad_head++;
			if (store_household_members(s, h.id, 1, &mem, &nm) !=
			    STORE_OK || nm == 0 || mem[0].id != r.id) {
				bad_head++;
			} else {
				int heads = 0;

				heads_checked++;
				for (j = 0; j < nm; j++) {
					heads += strcmp(mem[j].relationship,
					    "世帯主") == 0;
					if (mem[j].household_id != h.id)
						bad_head++;
				}
				if (heads != 1)
					bad_head++;
			}
			free(mem);
		} else {
			struct resident hr;

			if (store_resident_get(s, h.head_resident_id, &hr) !=
			    STORE_OK) {
				bad_head++;
				continue;
			}
			head = &hr;
			hage = store_age(&head->birth, &today);
			if (strcmp(r.relationship, "世帯主") == 0)
				bad_head++;
			if (strcmp(r.relationship, "子") == 0 &&
			    hage - age < 18)
				bad_age++;
			if ((strcmp(r.relationship, "父") == 0 ||
			    strcmp(r.relationship, "母") == 0) &&
			    age - hage < 18)
				bad_age++;
			if (strcmp(r.relationship, "孫") == 0 &&
			    hage - age < 36)
				bad_age++;
		}

		/* foreign residents: nationality, status, no register */
		if (r.nationality[0] != '\0') {
			if (r.residence_status[0] == '\0' ||
			    strlen(r.residence_card) != STORE_RCARD_LEN ||
			    r.koseki_id != 0 || r.domicile[0] != '\0' ||
			    store_koseki_by_resident(s, r.id, &k, &e, &ne) !=
			    STORE_NOTFOUND)
				bad_foreign++;
		} else if (r.domicile[0] == '\0' || r.domicile_head[0] == '\0')
			bad_koseki++;
		else if (r.koseki_id != 0) {
			if (store_koseki_by_resident(s, r.id, &k, &e, &ne) !=
			    STORE_OK) {
				bad_koseki++;
				continue;
			}
			found = 0;
			for (j = 0; j < ne; j++)
				if (e[j].resident_id == r.id &&
				    (!e[j].removed ||
				    r.status == RESIDENT_DECEASED))
					found++;
			if (found != 1 || strcmp(k.domicile, r.domicile) != 0 ||
			    strcmp(k.head_name, r.domicile_head) != 0 ||
			    ne == 0 || e[0].seq != 1 || e[0].nevents == 0 ||
			    strcmp(e[0].events[0].kind, "出生") != 0)
				bad_koseki++;
			/* the register alone: the same row, no entries */
			{
				struct koseki k2;

				if (store_koseki_by_resident(s, r.id, &k2, NULL,
				    NULL) != STORE_OK || k2.id != k.id ||
				    k2.pending != k.pending ||
				    k2.head_resident_id != k.head_resident_id ||
				    strcmp(k2.domicile, k.domicile) != 0)
					bad_koseki++;
			}
			/* protected: as reading every other member would say */
			{
				struct resident m;
				int want = 0, got = -1;

				for (j = 0; j < ne; j++)
					if (e[j].resident_id != 0 &&
					    e[j].resident_id != r.id &&
					    store_resident_get(s,
					    e[j].resident_id, &m) == STORE_OK &&
					    m.support_measures)
						want = 1;
				if (store_koseki_protected(s, k.id, r.id,
				    &got) != STORE_OK || got != want)
					bad_protected++;
				protected_seen += want;
			}
			free(e);
			/* 附票: the current address is the latest line */
			if (store_fuhyo_get(s, k.id, &f, &nf) != STORE_OK)
				bad_fuhyo++;
			else {
				const struct fuhyo_entry *last = NULL;

				for (j = 0; j < nf; j++)
					if (f[j].entry_id > 0 &&
					    (last == NULL ||
					    f[j].entry_id != last->entry_id ||
					    f[j].seq > last->seq))
						last = &f[j];
				if (last == NULL)
					bad_fuhyo++;
				free(f);
			}
		}

		/* seals: only from 15, abolished when the resident left */
		if (store_seal_by_resident(s, r.id, 1, &seal) == STORE_OK) {
			struct store_date d15 = r.birth;

			seals++;
			d15.y += 15;
			if (store_date_cmp(&seal.registered, &d15) < 0 &&
			    !(d15.m == 2 && d15.d == 29))
				bad_seal++;
			if (r.status != RESIDENT_ACTIVE &&
			    seal.status == SEAL_ACTIVE)
				bad_seal++;
			if (seal.image_len < 8 ||
			    memcmp(seal.image, "\x89PNG\r\n\x1a\n", 8) != 0 ||
			    strcmp(seal.image_type, "image/png") != 0)
				bad_seal++;
			store_seal_clear(&seal);
		}

		/* tax: the current year's record adds up */
		if (store_tax_get(s, r.id, 2025, 1, &t) == STORE_OK) {
			int64_t inc = 0;
			struct tax_record bare;

			/* without its items: the same record, no items */
			if (store_tax_get(s, r.id, 2025, 0, &bare) !=
			    STORE_OK || bare.nitems != 0 ||
			    bare.total_income != t.total_income ||
			    bare.municipal_tax != t.municipal_tax ||
			    bare.income_year != t.income_year)
				bad_tax++;

			taxed++;
			if (t.income_year != 2024 || t.taxable_income < 0 ||
			    t.taxable_income > t.total_income ||
			    age < 16 || r.status != RESIDENT_ACTIVE)
				bad_tax++;
			for (j = 0; j < t.nitems; j++)
				if (t.items[j].kind == TAX_ITEM_INCOME &&
				    strstr(t.items[j].category, "収入") == NULL)
					inc += t.items[j].amount;
			if (inc != t.total_income)
				bad_tax++;
		}
	}
	T_CHECK(bad_head == 0, "every household has exactly one head");
	T_CHECK(heads_checked == sum.households, "every household checked");
	T_CHECK(bad_rel == 0, "relationships are known and fit the sex");
	T_CHECK(bad_age == 0, "ages fit the relationships");
	T_CHECK(bad_status == 0, "status dates only for the removed");
	T_CHECK(under15 == sum.under_15 && under15 > 0,
	    "under-15 count matches the birth dates");
	T_CHECK(bad_foreign == 0, "foreign residents: nationality, no koseki");
	T_CHECK(bad_koseki == 0, "nationals: 本籍 and register consistent");
	T_CHECK(bad_fuhyo == 0, "附票 lines present");
	T_CHECK(bad_protected == 0 && protected_seen > 0,
	    "a register's protected members: one query says what reading "
	    "each member says");
	T_CHECK(bad_mn == 0, "every My Number has a valid check digit");
	T_CHECK(bad_seal == 0 && seals > 0, "seal registrations consistent");
	T_CHECK(bad_tax == 0 && taxed > 0, "tax records consistent");
	qsort(mn, n, sizeof(*mn), cmp_str);
	qsort(rc, n, sizeof(*rc), cmp_str);
	for (i = 1; i < n; i++) {
		dup_mn += strcmp(mn[i - 1], mn[i]) == 0;
		dup_rc += strcmp(rc[i - 1], rc[i]) == 0;
	}
	T_CHECK(dup_mn == 0 && dup_rc == 0, "numbers are unique");
out:
	free(ids);
	free(mn);
	free(rc);
}

static void
test_seed(struct store *s)
{
	struct seed_params p = { 300, 42, { 2025, 7, 2 } };
	struct seed_summary again;
	struct store_stats st;
	char err[256];

	T_CHECK(seed_town(s, &p, &sum, err, sizeof(err)) == 0, "seed 300");
	if (sum.residents == 0)
		printf("# %s\n", err);
	T_CHECK(store_stats(s, &st) == STORE_OK && st.residents == 300 &&
	    sum.residents == 300, "300 residents");
	T_CHECK(st.households == sum.households && st.households >= 80 &&
	    st.households <= 200, "households of 1-6");
	T_CHECK(st.foreign == sum.foreign && st.foreign >= 6 &&
	    st.foreign <= 30, "about 5% foreign residents");
	T_CHECK(st.support_measures > 0, "some support measures");
	T_CHECK(st.moved_out > 0 && st.deceased > 0, "some moved out, deceased");
	T_CHECK(st.seals_active > st.seals_abolished &&
	    st.seals_abolished > 0, "seals: most active, some abolished");
	T_CHECK(st.koseki > 0 && sum.domicile_elsewhere > 0 &&
	    st.koseki_entries > st.koseki, "registers in town and elsewhere");
	T_CHECK(st.with_substitute > 0, "names outside JIS X 0208");
	T_CHECK(st.tax_records > 100, "tax records");
	T_CHECK(sum.long_addresses > 0, "some long addresses");
	printf("# residents %d households %d foreign %d dv %d moved %d "
	    "deceased %d under15 %d subst %d koseki %d elsewhere %d seals %d/%d "
	    "tax %d long %d\n", sum.residents, sum.households, sum.foreign,
	    sum.support_measures, sum.moved_out, sum.deceased, sum.under_15,
	    sum.substitutes, sum.koseki, sum.domicile_elsewhere,
	    sum.seals_active, sum.seals_abolished, sum.tax_records,
	    sum.long_addresses);

	T_CHECK(seed_town(s, &p, &again, err, sizeof(err)) == -1 &&
	    again.residents == 0 && strstr(err, "already") != NULL,
	    "seeding twice is refused");
	T_CHECK(store_stats(s, &st) == STORE_OK && st.residents == 300,
	    "the refused run added nothing");
}

/* Same seed, same town; another seed, another town. */
static void
test_determinism(void)
{
	struct store *a, *b;
	struct seed_params p = { 60, 7, { 2025, 7, 2 } };
	struct seed_summary s1, s2;
	struct resident r1, r2;
	char err[256];
	int same = 1, differ = 0;
	int64_t id;

	a = open_db("det-a.db");
	b = open_db("det-b.db");
	if (a == NULL || b == NULL) {
		T_CHECK(0, "open determinism databases");
		store_close(a);
		store_close(b);
		return;
	}
	T_CHECK(seed_town(a, &p, &s1, err, sizeof(err)) == 0 &&
	    seed_town(b, &p, &s2, err, sizeof(err)) == 0, "seed twice");
	T_CHECK(memcmp(&s1, &s2, sizeof(s1)) == 0, "same summary");
	for (id = 1; id <= 60; id++) {
		if (store_resident_get(a, id, &r1) != STORE_OK ||
		    store_resident_get(b, id, &r2) != STORE_OK ||
		    memcmp(&r1, &r2, sizeof(r1)) != 0)
			same = 0;
	}
	T_CHECK(same, "same residents, field by field");
	store_close(b);
	b = open_db("det-c.db");
	p.seed = 8;
	T_CHECK(b != NULL && seed_town(b, &p, &s2, err, sizeof(err)) == 0,
	    "seed another");
	for (id = 1; b != NULL && id <= 20; id++)
		if (store_resident_get(a, id, &r1) == STORE_OK &&
		    store_resident_get(b, id, &r2) == STORE_OK &&
		    strcmp(r1.my_number, r2.my_number) != 0)
			differ = 1;
	T_CHECK(differ, "another seed, another town");
	store_close(a);
	store_close(b);
}

static int
write_card(const char *name, const char *body)
{
	char path[1200];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/pki/cards/%s", tmpdir, name);
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/pki/cards/%s/info.txt", tmpdir, name);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(body, fp);
	return fclose(fp);
}

static void
test_cards(struct store *s)
{
	struct seed_card *cards = NULL;
	struct card_cert cc;
	struct resident r;
	struct seal seal;
	size_t n = 0;
	char path[1200], err[256], *out = NULL;
	size_t outlen = 0;
	FILE *mf;
	int rc;

	snprintf(path, sizeof(path), "%s/pki", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/pki/cards", tmpdir);
	mkdir(path, 0700);
	T_CHECK(write_card("alice", "name=alice\nserial=0A1B2C3D\n"
	    "not_after=Jun  1 12:00:00 2030 GMT\ncert=alice.pem\n") == 0 &&
	    write_card("bob", "# test card\nname=bob\nserial=01:00:FF\n"
	    "not_after=20300601120000Z\nissuer=CN=JPKI-TEST user auth CA\n") ==
	    0 && write_card("carol-dv", "serial=77\nnot_after=2030-06-01\n") ==
	    0 && write_card("dave-child", "name=dave-child\nserial=78\n"
	    "not_after=1906286400\nstatus=revoked\n") == 0,
	    "write card files");
	T_CHECK(seed_read_cards(path, &cards, &n, err, sizeof(err)) == -1,
	    "cards dir must be the pki dir");
	snprintf(path, sizeof(path), "%s/pki", tmpdir);
	T_CHECK(seed_read_cards(path, &cards, &n, err, sizeof(err)) == 0 &&
	    n == 4, "four cards read");
	if (n != 4) {
		printf("# %s\n", err);
		free(cards);
		return;
	}
	T_CHECK(strcmp(cards[0].name, "alice") == 0 &&
	    strcmp(cards[2].name, "carol-dv") == 0, "cards in name order");
	T_CHECK(cards[0].not_after == 1906545600 &&
	    cards[1].not_after == 1906545600 &&
	    cards[2].not_after == 1906502400, "not_after formats");
	T_CHECK(strcmp(cards[1].serial, "100FF") == 0 && !cards[0].revoked &&
	    cards[3].revoked, "serial and status parsed");

	mf = open_memstream(&out, &outlen);
	rc = seed_bind_cards(s, cards, n, &today, mf, err, sizeof(err));
	fclose(mf);
	T_CHECK(rc == 0, "cards bound");
	if (rc != 0)
		printf("# %s\n", err);
	T_CHECK(out != NULL && strstr(out, "card alice -> resident ") != NULL &&
	    strstr(out, "card carol-dv -> resident ") != NULL,
	    "mapping printed");
	free(out);

	rc = store_resident_by_cert(s, "0a:1b:2c:3d", &r, &cc);
	T_CHECK(rc == STORE_OK && r.status == RESIDENT_ACTIVE &&
	    store_age(&r.birth, &today) >= 18 && r.nationality[0] == '\0' &&
	    !r.support_measures && r.koseki_id != 0, "alice is ordinary");
	T_CHECK(rc == STORE_OK && store_seal_by_resident(s, r.id, 1, &seal) ==
	    STORE_OK && seal.status == SEAL_ACTIVE && seal.image_len > 0 &&
	    seal.image != NULL, "alice has a seal, with its impression");
	{
		struct seal bare;

		T_CHECK(store_seal_by_resident(s, r.id, 0, &bare) ==
		    STORE_OK && bare.id == seal.id && bare.status ==
		    seal.status && strcmp(bare.registration_no,
		    seal.registration_no) == 0 && strcmp(bare.image_type,
		    seal.image_type) == 0 && bare.image == NULL &&
		    bare.image_len == 0,
		    "the same seal without its impression: no image read");
		store_seal_clear(&bare);
	}
	store_seal_clear(&seal);
	T_CHECK(rc == STORE_OK && cc.status == CARD_CERT_VALID &&
	    strcmp(cc.issuer, "O=JPKI-TEST") == 0, "alice's certificate row");
	T_CHECK(store_resident_by_cert(s, "77", &r, NULL) == STORE_OK &&
	    r.support_measures, "carol-dv is protected");
	T_CHECK(store_resident_by_cert(s, "0078", &r, &cc) == STORE_OK &&
	    store_age(&r.birth, &today) < 15 && cc.status == CARD_CERT_REVOKED,
	    "dave-child is under 15, revoked");
	T_CHECK(store_resident_by_cert(s, "DEAD", &r, NULL) == STORE_NOTFOUND,
	    "unknown serial");
	T_CHECK(store_resident_by_cert(s, "xyz", &r, NULL) == STORE_INVALID,
	    "malformed serial");

	/* again: the same bindings, no error */
	mf = open_memstream(&out, &outlen);
	rc = seed_bind_cards(s, cards, n, &today, mf, err, sizeof(err));
	fclose(mf);
	T_CHECK(rc == 0 && strstr(out, "already bound") != NULL,
	    "binding again is idempotent");
	free(out);
	/* one serial, one resident */
	memset(&cc, 0, sizeof(cc));
	snprintf(cc.serial, sizeof(cc.serial), "0A1B2C3D");
	snprintf(cc.issuer, sizeof(cc.issuer), "O=JPKI-TEST");
	cc.not_after = 1906545600;
	store_resident_by_cert(s, "0A1B2C3D", &r, NULL);
	cc.resident_id = r.id == 1 ? 2 : 1;
	T_CHECK(store_card_cert_insert(s, &cc) == STORE_CONFLICT,
	    "serial bound to another resident");
	T_CHECK(store_card_cert_set_status(s, "a1b2c3d", CARD_CERT_REVOKED) ==
	    STORE_OK && store_card_cert_get(s, "A1B2C3D", &cc) == STORE_OK &&
	    cc.status == CARD_CERT_REVOKED, "revoke a certificate");
	free(cards);
}

/* A public id derived from the key (unique per key, 32 hex). */
static void
pubid(const char *key, char *out, size_t len)
{
	uint64_t a = 1469598103934665603ULL, b = 7;
	const unsigned char *p;

	for (p = (const unsigned char *)key; *p != '\0'; p++) {
		a = (a ^ *p) * 1099511628211ULL;
		b = b * 31 + *p;
	}
	snprintf(out, len, "%016" PRIx64 "%016" PRIx64, a, b);
}

static struct issuance_req
mkreq(const char *key, const char *session, int64_t resident)
{
	struct issuance_req q;

	memset(&q, 0, sizeof(q));
	snprintf(q.idempotency_key, sizeof(q.idempotency_key), "%s", key);
	pubid(key, q.public_id, sizeof(q.public_id));
	snprintf(q.session_id, sizeof(q.session_id), "%s", session);
	snprintf(q.kiosk_id, sizeof(q.kiosk_id), "store-0001-t1");
	q.resident_id = resident;
	snprintf(q.document, sizeof(q.document), "juminhyo");
	snprintf(q.options, sizeof(q.options), "{\"household\":false}");
	q.copies = 1;
	q.fee_yen = 200;
	q.now = 1751418000;
	return q;
}

static void
test_issuance(struct store *s)
{
	struct issuance_req q;
	struct issuance a, b;
	struct store_stats st0, st1;
	uint8_t *c = NULL;
	size_t clen = 0;
	int created = -1, changed = -1;

	store_stats(s, &st0);
	q = mkreq("k-0001", "sess-A", 1);
	T_CHECK(store_issuance_create(s, &q, &a, &created) == STORE_OK &&
	    created == 1 && a.id > 0 && a.state == ISSUANCE_ISSUED,
	    "issuance created");
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_OK &&
	    created == 0 && b.id == a.id, "same key: same issuance");
	snprintf(q.public_id, sizeof(q.public_id), "%032x", 7);
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_OK &&
	    created == 0 && strcmp(b.req.public_id, a.req.public_id) == 0,
	    "a replay keeps the first public id");
	T_CHECK(store_issuance_get_by_public_id(s, a.req.public_id, &b) ==
	    STORE_OK && b.id == a.id, "lookup by public id");
	T_CHECK(store_issuance_get_by_public_id(s, "00000000000000000000000000000007",
	    &b) == STORE_NOTFOUND, "the replay's id was not stored");
	store_stats(s, &st1);
	T_CHECK(st1.issuances == st0.issuances + 1, "one row for one key");
	q = mkreq("k-0001", "sess-B", 1);
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_CONFLICT,
	    "same key from another session: conflict");
	q = mkreq("k-0001", "sess-A", 2);
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_CONFLICT,
	    "same key for another resident: conflict");
	q = mkreq("k-0001", "sess-A", 1);
	q.copies = 2;
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_CONFLICT,
	    "same key, other copies: conflict");
	q = mkreq("k-0006", "sess-A", 1);
	snprintf(q.public_id, sizeof(q.public_id), "%s", a.req.public_id);
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_CONFLICT,
	    "public id reused by another key");
	q.public_id[5] = 'G';
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_INVALID,
	    "malformed public id");
	q = mkreq("k 0002", "sess-A", 1);
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_INVALID,
	    "malformed key");
	q = mkreq("k-0003", "sess-A", 999999);
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_NOTFOUND,
	    "unknown resident");
	q = mkreq("k-0004", "sess-A", 1);
	q.copies = 0;
	T_CHECK(store_issuance_create(s, &q, &b, &created) == STORE_INVALID,
	    "zero copies");

	/* content: written once */
	T_CHECK(store_issuance_set_content(s, a.id, (const uint8_t *)"doc-v1",
	    6) == STORE_OK, "content stored");
	T_CHECK(store_issuance_set_content(s, a.id, (const uint8_t *)"doc-v1",
	    6) == STORE_OK, "same content again");
	T_CHECK(store_issuance_set_content(s, a.id, (const uint8_t *)"doc-v2",
	    6) == STORE_CONFLICT, "different content refused");
	T_CHECK(store_issuance_get_content(s, a.id, &c, &clen) == STORE_OK &&
	    clen == 6 && memcmp(c, "doc-v1", 6) == 0, "content read back");
	free(c);

	/* result: exactly once */
	T_CHECK(store_issuance_set_result(s, a.id, ISSUANCE_COMMITTED, 1,
	    1751418060, &changed) == STORE_OK && changed == 1, "committed");
	T_CHECK(store_issuance_set_result(s, a.id, ISSUANCE_COMMITTED, 1,
	    1751418070, &changed) == STORE_OK && changed == 0,
	    "committed again: no change");
	T_CHECK(store_issuance_set_result(s, a.id, ISSUANCE_VOIDED, 0,
	    1751418080, &changed) == STORE_CONFLICT, "void after commit refused");
	T_CHECK(store_issuance_get(s, a.id, &b) == STORE_OK &&
	    b.state == ISSUANCE_COMMITTED && b.pages == 1 &&
	    b.updated_at == 1751418060 && b.has_content, "state kept");
	T_CHECK(store_issuance_set_result(s, a.id, ISSUANCE_ISSUED, 0,
	    1751418080, &changed) == STORE_INVALID, "issued is not a result");

	q = mkreq("k-0005", "sess-C", 2);
	T_CHECK(store_issuance_create(s, &q, &a, &created) == STORE_OK &&
	    created == 1, "second issuance");
	T_CHECK(store_issuance_set_result(s, a.id, ISSUANCE_VOIDED, 0,
	    1751418090, &changed) == STORE_OK && changed == 1, "voided");
	T_CHECK(store_issuance_set_result(s, a.id, ISSUANCE_COMMITTED, 1,
	    1751418091, &changed) == STORE_CONFLICT, "commit after void refused");
	T_CHECK(store_issuance_set_content(s, a.id, (const uint8_t *)"late",
	    4) == STORE_CONFLICT, "no content after the outcome");
	T_CHECK(store_issuance_get_by_key(s, "k-0005", &b) == STORE_OK &&
	    b.id == a.id && b.state == ISSUANCE_VOIDED &&
	    strcmp(b.req.session_id, "sess-C") == 0, "lookup by key");
	T_CHECK(store_issuance_set_result(s, 424242, ISSUANCE_VOIDED, 0,
	    1751418090, &changed) == STORE_NOTFOUND, "unknown issuance");
}

static struct session
mksession(const char *id, const char *kiosk, int64_t now)
{
	struct session se;

	memset(&se, 0, sizeof(se));
	snprintf(se.id, sizeof(se.id), "%s", id);
	snprintf(se.kiosk_id, sizeof(se.kiosk_id), "%s", kiosk);
	memset(se.challenge, 0x5a, 32);
	se.challenge_len = 32;
	se.created_at = now;
	se.expires_at = now + 60;
	return se;
}

#define SHA_HEX	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"

static void
test_sessions(struct store *s)
{
	struct session se, got;
	long n = -1;

	se = mksession("0123456789abcdef0123456789abcdef", "S0001-T01", 1000);
	T_CHECK(store_session_create(s, &se) == STORE_OK, "session created");
	T_CHECK(store_session_create(s, &se) == STORE_CONFLICT,
	    "session id is unique");
	T_CHECK(store_session_get(s, se.id, &got) == STORE_OK &&
	    got.state == SESSION_NEW && got.challenge_len == 32 &&
	    memcmp(got.challenge, se.challenge, 32) == 0 &&
	    got.expires_at == 1060, "session read back");
	T_CHECK(store_session_authenticate(s, se.id, "S0002-T01", 1010, 1,
	    "0A1B", SHA_HEX) == STORE_MISMATCH, "another kiosk");
	T_CHECK(store_session_authenticate(s, se.id, "S0001-T01", 1060, 1,
	    "0A1B", SHA_HEX) == STORE_EXPIRED, "expired at expires_at");
	T_CHECK(store_session_authenticate(s, se.id, "S0001-T01", 1010, 1,
	    "0A1B", "xyz") == STORE_INVALID, "bad certificate hash");
	T_CHECK(store_session_authenticate(s, se.id, "S0001-T01", 1010, 1,
	    "0a:1b", SHA_HEX) == STORE_OK, "authenticated");
	T_CHECK(store_session_get(s, se.id, &got) == STORE_OK &&
	    got.state == SESSION_AUTHENTICATED && got.resident_id == 1 &&
	    strcmp(got.cert_serial, "A1B") == 0 &&
	    strcmp(got.cert_sha256, SHA_HEX) == 0 && got.auth_at == 1010,
	    "session bound to resident and card");
	T_CHECK(store_session_authenticate(s, se.id, "S0001-T01", 1011, 2,
	    "0C", SHA_HEX) == STORE_CONFLICT, "a second answer is a replay");
	T_CHECK(store_session_get(s, se.id, &got) == STORE_OK &&
	    got.resident_id == 1, "replay changed nothing");

	se = mksession("burnt-session-0001", "S0001-T01", 2000);
	T_CHECK(store_session_create(s, &se) == STORE_OK &&
	    store_session_authenticate(s, se.id, "S0001-T01", 2001, 0, NULL,
	    NULL) == STORE_OK && store_session_get(s, se.id, &got) ==
	    STORE_OK && got.state == SESSION_FAILED && got.resident_id == 0,
	    "a wrong answer burns the session");
	T_CHECK(store_session_authenticate(s, se.id, "S0001-T01", 2002, 1,
	    "0A1B", SHA_HEX) == STORE_CONFLICT, "no second try");
	T_CHECK(store_session_get(s, "nope", &got) == STORE_NOTFOUND,
	    "unknown session");
	se.challenge_len = 4;
	T_CHECK(store_session_create(s, &se) == STORE_INVALID,
	    "short challenge refused");
	T_CHECK(store_session_purge(s, 1061, &n) == STORE_OK && n == 1 &&
	    store_session_get(s, "0123456789abcdef0123456789abcdef", &got) ==
	    STORE_NOTFOUND && store_session_get(s, "burnt-session-0001",
	    &got) == STORE_OK, "expired sessions purged");
}

/* Batch rollback leaves nothing behind; validation stops bad records. */
static void
test_batch_and_validation(struct store *s)
{
	struct store_stats a, b;
	struct household h;
	struct resident r;

	store_stats(s, &a);
	memset(&h, 0, sizeof(h));
	snprintf(h.address, sizeof(h.address), "東京都みどり市中央一丁目１番１号");
	T_CHECK(store_batch_begin(s) == STORE_OK &&
	    store_household_insert(s, &h) == STORE_OK &&
	    store_batch_end(s, 0) == STORE_OK, "batch rolled back");
	store_stats(s, &b);
	T_CHECK(a.households == b.households, "nothing left by the rollback");

	T_CHECK(store_resident_get(s, 1, &r) == STORE_OK, "resident 1");
	snprintf(r.register_code, sizeof(r.register_code), "99999999999");
	r.my_number[11] = r.my_number[11] == '9' ? '0' : r.my_number[11] + 1;
	T_CHECK(store_resident_insert(s, &r) == STORE_INVALID,
	    "bad My Number refused");
	T_CHECK(store_resident_get(s, 1, &r) == STORE_OK, "resident 1 again");
	snprintf(r.nationality, sizeof(r.nationality), "中国");
	T_CHECK(store_resident_insert(s, &r) == STORE_INVALID,
	    "foreigner with a register refused");
	T_CHECK(store_resident_get(s, 1, &r) == STORE_OK, "resident 1 again");
	r.birth = (struct store_date){ 2023, 2, 29 };
	T_CHECK(store_resident_insert(s, &r) == STORE_INVALID,
	    "impossible birth date refused");
	T_CHECK(store_resident_get(s, 1, &r) == STORE_OK, "resident 1 again");
	T_CHECK(store_resident_insert(s, &r) == STORE_CONFLICT,
	    "duplicate register code and My Number refused");
	T_CHECK(store_household_set_head(s, r.household_id == 1 ? 2 : 1, 1) ==
	    STORE_CONFLICT, "a head must be a member");
	T_CHECK(store_resident_set_status(s, 1, RESIDENT_MOVED_OUT, NULL) ==
	    STORE_INVALID, "moving out needs a date");
	r.status_date = (struct store_date){ 2025, 7, 1 };
	T_CHECK(store_resident_set_status(s, 1, RESIDENT_MOVED_OUT,
	    &r.status_date) == STORE_OK && store_resident_get(s, 1, &r) ==
	    STORE_OK && r.status == RESIDENT_MOVED_OUT &&
	    r.status_date.d == 1, "resident moved out");
	T_CHECK(store_resident_set_status(s, 1000000, RESIDENT_DECEASED,
	    &r.status_date) == STORE_NOTFOUND, "status of nobody");
	T_CHECK(store_resident_get(s, 0, &r) == STORE_NOTFOUND &&
	    store_resident_get(s, 1000000, &r) == STORE_NOTFOUND,
	    "missing residents");
}

static void
test_seal_png(void)
{
	uint8_t *p = NULL;
	size_t n = 0;

	T_CHECK(seed_seal_png("山田", &p, &n) == 0 && n > 100 &&
	    n < STORE_SEAL_IMAGE_MAX, "seal png made");
	T_CHECK(p != NULL && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 &&
	    memcmp(p + 12, "IHDR", 4) == 0 && p[16 + 3] == 64 &&
	    memcmp(p + n - 8, "IEND", 4) == 0, "png structure");
	free(p);
}

#define NPROC	4
#define NKEYS	60

/*
 * Child: its own connection; creates its keys, retries each, joins the
 * one shared key and races to commit it and to answer one challenge.
 * Writes "<committed> <won>\n" to fd
 * on success and exits 0; any cross-talk exits 1.
 */
static int
child(int idx, int fd)
{
	struct store *s;
	struct issuance_req q;
	struct issuance a, b;
	char key[64], sess[64];
	int j, created, changed = 0, ch;

	if ((s = open_db("town.db")) == NULL)
		return 1;
	snprintf(sess, sizeof(sess), "sess-p%d", idx);
	for (j = 0; j < NKEYS; j++) {
		snprintf(key, sizeof(key), "p%d-k%03d", idx, j);
		q = mkreq(key, sess, 1 + (idx * NKEYS + j) % 250);
		if (store_issuance_create(s, &q, &a, &created) != STORE_OK ||
		    created != 1 || strcmp(a.req.session_id, sess) != 0 ||
		    strcmp(a.req.idempotency_key, key) != 0)
			goto bad;
		if (store_issuance_create(s, &q, &b, &created) != STORE_OK ||
		    created != 0 || b.id != a.id)
			goto bad;
		if (j % 10 == 0) {
			q = mkreq("shared-key", "sess-shared", 3);
			if (store_issuance_create(s, &q, &b, &created) !=
			    STORE_OK || strcmp(b.req.session_id,
			    "sess-shared") != 0)
				goto bad;
		}
	}
	q = mkreq("shared-key", "sess-shared", 3);
	if (store_issuance_create(s, &q, &b, &created) != STORE_OK ||
	    store_issuance_set_result(s, b.id, ISSUANCE_COMMITTED, 1,
	    1751418100, &ch) != STORE_OK)
		goto bad;
	changed += ch;
	/* every process answers the one challenge: one may win */
	ch = store_session_authenticate(s, "race-session-0001", "S0001-T01",
	    1751418050, 1 + idx, "0A1B", SHA_HEX);
	if (ch != STORE_OK && ch != STORE_CONFLICT)
		goto bad;
	dprintf(fd, "%d %d\n", changed, ch == STORE_OK);
	store_close(s);
	return 0;
bad:
	dprintf(fd, "# child %d: %s\n", idx, store_errmsg(s));
	store_close(s);
	return 1;
}

static void
test_concurrency(void)
{
	struct store *s;
	struct store_stats a, b;
	struct issuance is;
	pid_t pids[NPROC];
	struct session se;
	int fds[2], i, j, status, ok = 1, changed = 0, v, w, won = 0,
	    wrong = 0;
	char buf[512], key[64], sess[64];
	ssize_t r;
	size_t off = 0;
	char *p;

	if ((s = open_db("town.db")) == NULL) {
		T_CHECK(0, "open for concurrency");
		return;
	}
	store_stats(s, &a);
	se = mksession("race-session-0001", "S0001-T01", 1751418000);
	T_CHECK(store_session_create(s, &se) == STORE_OK, "race session");
	if (pipe(fds) == -1) {
		T_CHECK(0, "pipe");
		store_close(s);
		return;
	}
	fflush(stdout);
	for (i = 0; i < NPROC; i++) {
		if ((pids[i] = fork()) == -1) {
			T_CHECK(0, "fork");
			return;
		}
		if (pids[i] == 0) {
			close(fds[0]);
			_exit(child(i, fds[1]));
		}
	}
	close(fds[1]);
	while (off < sizeof(buf) - 1 &&
	    (r = read(fds[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)r;
	buf[off] = '\0';
	close(fds[0]);
	for (i = 0; i < NPROC; i++)
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ok = 0;
	if (!ok)
		printf("%s", buf);
	T_CHECK(ok, "every process saw only its own issuances");
	for (p = buf; *p != '\0'; p++)
		if (sscanf(p, "%d %d", &v, &w) == 2) {
			changed += v;
			won += w;
			while (*p != '\0' && *p != '\n')
				p++;
			if (*p == '\0')
				break;
		}
	T_CHECK(changed == 1, "the shared issuance committed exactly once");
	T_CHECK(won == 1 && store_session_get(s, "race-session-0001", &se) ==
	    STORE_OK && se.state == SESSION_AUTHENTICATED,
	    "one challenge, one winner");
	store_stats(s, &b);
	T_CHECK(b.issuances == a.issuances + NPROC * NKEYS + 1,
	    "no lost and no extra rows");
	for (i = 0; i < NPROC; i++) {
		snprintf(sess, sizeof(sess), "sess-p%d", i);
		for (j = 0; j < NKEYS; j++) {
			snprintf(key, sizeof(key), "p%d-k%03d", i, j);
			if (store_issuance_get_by_key(s, key, &is) != STORE_OK ||
			    strcmp(is.req.session_id, sess) != 0 ||
			    is.req.resident_id != 1 + (i * NKEYS + j) % 250)
				wrong++;
		}
	}
	T_CHECK(wrong == 0, "every key maps to its own request");
	store_close(s);
}

/* --- one-transaction issuance, stateless sessions, secrets ----------- */

static int
content_is(struct store *s, int64_t id, const char *want)
{
	uint8_t *c = NULL;
	size_t len = 0;
	int ok;

	ok = store_issuance_get_content(s, id, &c, &len) == STORE_OK &&
	    len == strlen(want) && memcmp(c, want, len) == 0;
	free(c);
	return ok;
}

static void
test_signed_and_claim(struct store *s)
{
	struct issuance_req q, q2;
	struct issuance a, b;
	struct session se, got;
	struct store_stats st0, st1;
	uint8_t *stored = NULL, k1[32], k2[32], out[32];
	size_t slen = 0;
	int created = -1;

	q = mkreq("signed-key-0001", "sess-signed-1", 5);
	T_CHECK(store_issuance_create_signed(s, &q, (const uint8_t *)"doc-A",
	    5, &a, &created, &stored, &slen) == STORE_OK && created == 1 &&
	    stored == NULL && a.has_content && content_is(s, a.id, "doc-A") &&
	    strcmp(a.req.public_id, q.public_id) == 0,
	    "create_signed: row and content in one call");
	q2 = q;
	pubid("another public id", q2.public_id, sizeof(q2.public_id));
	q2.now = q.now + 30;
	T_CHECK(store_issuance_create_signed(s, &q2, (const uint8_t *)"doc-B",
	    5, &b, &created, &stored, &slen) == STORE_OK && created == 0 &&
	    b.id == a.id && stored != NULL && slen == 5 &&
	    memcmp(stored, "doc-A", 5) == 0 && content_is(s, a.id, "doc-A") &&
	    strcmp(b.req.public_id, q.public_id) == 0,
	    "create_signed again: the stored row and the stored bytes");
	free(stored);
	stored = NULL;
	q2 = q;
	q2.copies = 2;
	T_CHECK(store_issuance_create_signed(s, &q2, (const uint8_t *)"doc-C",
	    5, &b, &created, &stored, &slen) == STORE_CONFLICT &&
	    stored == NULL && content_is(s, a.id, "doc-A"),
	    "create_signed: same key, other request is a conflict");
	store_stats(s, &st0);
	q2 = mkreq("signed-key-0002", "sess-signed-2", 999999);
	T_CHECK(store_issuance_create_signed(s, &q2, (const uint8_t *)"doc-D",
	    5, &b, &created, &stored, &slen) == STORE_NOTFOUND,
	    "create_signed: unknown resident");
	q2 = mkreq("signed-key-0003", "sess-signed-3", 5);
	T_CHECK(store_issuance_create_signed(s, &q2, NULL, 0, &b, &created,
	    &stored, &slen) == STORE_INVALID, "create_signed: no content");
	store_stats(s, &st1);
	T_CHECK(st1.issuances == st0.issuances, "refused: no row left");
	q2 = mkreq("signed-key-0004", "sess-signed-4", 5);
	T_CHECK(store_issuance_create(s, &q2, &a, &created) == STORE_OK &&
	    store_issuance_create_signed(s, &q2, (const uint8_t *)"doc-E", 5,
	    &b, &created, &stored, &slen) == STORE_OK && created == 0 &&
	    stored == NULL && b.id == a.id && !b.has_content,
	    "create_signed on a row without content: that row, no bytes");
	T_CHECK(store_issuance_same_request(&q, &q) &&
	    !store_issuance_same_request(&q, &q2), "same_request");

	/* claims: the row made at auth time, or updated if recorded */
	se = mksession("claim-session-0001", "S0001-T01", 5000);
	T_CHECK(store_session_get(s, se.id, &got) == STORE_NOTFOUND &&
	    store_session_claim(s, &se, 5010, 1, "0A1B", SHA_HEX) ==
	    STORE_OK && store_session_get(s, se.id, &got) == STORE_OK &&
	    got.state == SESSION_AUTHENTICATED && got.resident_id == 1 &&
	    got.expires_at == se.expires_at && got.auth_at == 5010,
	    "claim of an unrecorded session inserts it authenticated");
	T_CHECK(store_session_claim(s, &se, 5011, 2, "0C", SHA_HEX) ==
	    STORE_CONFLICT, "a second claim is a replay");
	T_CHECK(store_session_record(s, &se) == STORE_OK &&
	    store_session_get(s, se.id, &got) == STORE_OK &&
	    got.state == SESSION_AUTHENTICATED && got.resident_id == 1,
	    "a late record changes nothing");
	se = mksession("claim-session-0002", "S0001-T01", 6000);
	T_CHECK(store_session_record(s, &se) == STORE_OK &&
	    store_session_get(s, se.id, &got) == STORE_OK &&
	    got.state == SESSION_NEW, "recorded session is new");
	strcpy(se.kiosk_id, "S0002-T01");
	T_CHECK(store_session_claim(s, &se, 6001, 1, "0A1B", SHA_HEX) ==
	    STORE_MISMATCH, "claim from another kiosk");
	strcpy(se.kiosk_id, "S0001-T01");
	T_CHECK(store_session_claim(s, &se, se.expires_at, 1, "0A1B",
	    SHA_HEX) == STORE_EXPIRED, "claim at expiry");
	T_CHECK(store_session_claim(s, &se, 6001, 0, NULL, NULL) == STORE_OK &&
	    store_session_get(s, se.id, &got) == STORE_OK &&
	    got.state == SESSION_FAILED, "a refused answer burns it");
	T_CHECK(store_session_claim(s, &se, 6002, 1, "0A1B", SHA_HEX) ==
	    STORE_CONFLICT, "no answer after a burn");
	se = mksession("claim-session-0003", "S0001-T01", 7000);
	T_CHECK(store_session_claim(s, &se, 7060, 1, "0A1B", SHA_HEX) ==
	    STORE_EXPIRED && store_session_get(s, se.id, &got) ==
	    STORE_NOTFOUND, "expired unrecorded claim leaves no row");

	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x22, sizeof(k2));
	T_CHECK(store_secret(s, "test-secret", k1, sizeof(k1), out) ==
	    STORE_OK && memcmp(out, k1, 32) == 0, "secret stored");
	T_CHECK(store_secret(s, "test-secret", k2, sizeof(k2), out) ==
	    STORE_OK && memcmp(out, k1, 32) == 0,
	    "secret: the stored one wins over a new candidate");
	T_CHECK(store_secret(s, "test-secret", k2, 8, out) == STORE_INVALID,
	    "secret: too short");
}

/* --- group commit -------------------------------------------------------- */

struct t_create {
	struct issuance_req	 q;
	const char		*content;
	struct issuance		 out;
	int			 created;
	uint8_t			*stored;
	size_t			 stored_len;
};

static int
t_op_create(struct store *s, void *arg)
{
	struct t_create *c = arg;

	free(c->stored);
	c->stored = NULL;
	return store_issuance_create_signed(s, &c->q,
	    (const uint8_t *)c->content, strlen(c->content), &c->out,
	    &c->created, &c->stored, &c->stored_len);
}

/* Writes a row, then fails: the writer must undo this operation only. */
static int
t_op_write_then_fail(struct store *s, void *arg)
{
	struct t_create *c = arg;
	int rc;

	if ((rc = t_op_create(s, c)) != STORE_OK)
		return rc;
	return STORE_CONFLICT;
}

struct t_result {
	int64_t	id;
	int	changed;
};

static int
t_op_result(struct store *s, void *arg)
{
	struct t_result *r = arg;

	return store_issuance_set_result(s, r->id, ISSUANCE_COMMITTED, 1,
	    1751418100, &r->changed);
}

struct t_claim {
	struct session	se;
	int64_t		rid;
};

static int
t_op_claim(struct store *s, void *arg)
{
	struct t_claim *c = arg;

	return store_session_claim(s, &c->se, c->se.created_at + 1, c->rid,
	    "0A1B", SHA_HEX);
}

static int
t_op_record(struct store *s, void *arg)
{
	return store_session_record(s, arg);
}

/*
 * A writer on the test town (and, with s, a reader connection to it);
 * NULL after a failed check named check.
 */
static struct writer *
t_writer(const char *check, struct store **s)
{
	struct writer *w;
	char path[1200], err[256] = "";

	snprintf(path, sizeof(path), "%s/town.db", tmpdir);
	if ((w = writer_start(path, err, sizeof(err))) == NULL ||
	    (s != NULL && (*s = open_db("town.db")) == NULL)) {
		printf("# writer: %s\n", err);
		T_CHECK(0, check);
		writer_stop(w);
		return NULL;
	}
	return w;
}

static void
test_writer(void)
{
	struct writer *w;
	struct writer_op ops[6];
	struct writer_stats a, b;
	struct t_create c1, c2, c3, c4;
	struct t_result r;
	struct t_claim cl;
	struct session *rec, got;
	struct issuance is;
	struct store *s;
	char err[256];
	int i;

	if ((w = t_writer("writer starts", &s)) == NULL)
		return;
	memset(&c1, 0, sizeof(c1));
	c4 = c3 = c2 = c1;
	c1.q = mkreq("batch-key-0001", "sess-batch-1", 7);
	c1.content = "batch-doc-1";
	c2.q = mkreq("batch-key-0002", "sess-batch-2", 8);
	c2.content = "batch-doc-2";
	c3.q = mkreq("batch-key-0003", "sess-batch-3", 9);
	c3.content = "batch-doc-3";
	/* the same key as c1 with another request: a conflict in the batch */
	c4.q = mkreq("batch-key-0001", "sess-batch-4", 10);
	c4.content = "batch-doc-4";
	r.id = 999999999;
	r.changed = 0;
	memset(&cl, 0, sizeof(cl));
	cl.se = mksession("batch-session-0001", "S0001-T01", 1751418000);
	cl.rid = 7;
	memset(ops, 0, sizeof(ops));
	ops[0].fn = t_op_create;
	ops[0].arg = &c1;
	ops[1].fn = t_op_write_then_fail;
	ops[1].arg = &c2;
	ops[2].fn = t_op_result;
	ops[2].arg = &r;
	ops[3].fn = t_op_claim;
	ops[3].arg = &cl;
	ops[4].fn = t_op_create;
	ops[4].arg = &c4;
	ops[5].fn = t_op_create;
	ops[5].arg = &c3;
	writer_get_stats(w, &a);
	T_CHECK(writer_run(w, ops, 6) == 0, "writer ran the batch");
	writer_get_stats(w, &b);
	T_CHECK(b.batches == a.batches + 1 && b.ops == a.ops + 6 &&
	    b.replays == a.replays, "six operations, one transaction");
	T_CHECK(ops[0].rc == STORE_OK && c1.created == 1 &&
	    ops[5].rc == STORE_OK && c3.created == 1 &&
	    ops[3].rc == STORE_OK, "the good operations succeeded");
	T_CHECK(ops[1].rc == STORE_CONFLICT && ops[2].rc == STORE_NOTFOUND &&
	    ops[4].rc == STORE_CONFLICT && ops[4].err[0] != '\0',
	    "each failure reported to its own operation");
	T_CHECK(store_issuance_get_by_key(s, "batch-key-0001", &is) ==
	    STORE_OK && strcmp(is.req.session_id, "sess-batch-1") == 0 &&
	    content_is(s, is.id, "batch-doc-1") &&
	    store_issuance_get_by_key(s, "batch-key-0003", &is) == STORE_OK &&
	    content_is(s, is.id, "batch-doc-3") &&
	    store_session_get(s, "batch-session-0001", &got) == STORE_OK &&
	    got.state == SESSION_AUTHENTICATED && got.resident_id == 7,
	    "the good operations are committed, visible to other connections");
	T_CHECK(store_issuance_get_by_key(s, "batch-key-0002", &is) ==
	    STORE_NOTFOUND, "the failed operation's write was undone");
	free(c1.stored);
	free(c2.stored);
	free(c3.stored);
	free(c4.stored);

	/* replays of one key in one batch: the first one's bytes for all */
	for (i = 0; i < 4; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].fn = t_op_create;
	}
	memset(&c1, 0, sizeof(c1));
	c4 = c3 = c2 = c1;
	c1.q = mkreq("batch-key-0005", "sess-batch-5", 11);
	c2.q = c3.q = c4.q = c1.q;
	pubid("p2", c2.q.public_id, sizeof(c2.q.public_id));
	pubid("p3", c3.q.public_id, sizeof(c3.q.public_id));
	pubid("p4", c4.q.public_id, sizeof(c4.q.public_id));
	c1.content = "first";
	c2.content = "second";
	c3.content = "third";
	c4.content = "fourth";
	ops[0].arg = &c1;
	ops[1].arg = &c2;
	ops[2].arg = &c3;
	ops[3].arg = &c4;
	T_CHECK(writer_run(w, ops, 4) == 0 && ops[0].rc == STORE_OK &&
	    c1.created == 1 && ops[1].rc == STORE_OK && c2.created == 0 &&
	    c2.stored_len == 5 && memcmp(c2.stored, "first", 5) == 0 &&
	    c3.out.id == c1.out.id && c4.stored != NULL &&
	    memcmp(c4.stored, "first", 5) == 0 &&
	    strcmp(c4.out.req.public_id, c1.q.public_id) == 0,
	    "concurrent first requests for one key: one row, one document");
	free(c1.stored);
	free(c2.stored);
	free(c3.stored);
	free(c4.stored);

	/* fire and forget, then a waited call: both durable in order */
	if ((rec = malloc(sizeof(*rec))) != NULL)
		*rec = mksession("posted-session-0001", "S0003-T01", 1751418000);
	T_CHECK(rec != NULL && writer_post(w, t_op_record, rec, free) == 0,
	    "writer_post accepted");
	r.id = 999999998;
	T_CHECK(writer_call(w, t_op_result, &r, err, sizeof(err)) ==
	    STORE_NOTFOUND && err[0] != '\0', "writer_call reports its error");
	T_CHECK(store_session_get(s, "posted-session-0001", &got) == STORE_OK &&
	    got.state == SESSION_NEW, "posted operation committed");
	store_close(s);
	writer_stop(w);
}

static int
t_op_thread(struct store *s, void *arg)
{
	(void)s;
	*(pthread_t *)arg = pthread_self();
	return STORE_OK;
}

struct t_posted {
	struct session	 se;
	int		*ran;	/* __atomic */
};

static int
t_op_posted(struct store *s, void *arg)
{
	struct t_posted *p = arg;

	__atomic_store_n(p->ran, 1, __ATOMIC_RELEASE);
	return store_session_record(s, &p->se);
}

/* Post a session row that sets *ran when it runs.  0 or -1. */
static int
t_post_session(struct writer *w, const char *id, int *ran)
{
	struct t_posted *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->se = mksession(id, "S0003-T01", 1751418000);
	p->ran = ran;
	if (writer_post(w, t_op_posted, p, free) == -1) {
		free(p);
		return -1;
	}
	return 0;
}

/*
 * Group commit without needless thread switches: with nobody committing,
 * a handler's own thread runs its batch; fire-and-forget operations wait
 * (WRITER_ASYNC_DELAY_MS) for a handler's batch to take them along, and
 * are committed after that wait when none comes.
 */
static void
test_writer_leader(void)
{
	struct writer *w;
	struct writer_stats a, b;
	struct session got;
	struct store *s;
	pthread_t ran_in;
	int ran = 0;
	int i;

	if ((w = t_writer("leader: writer starts", &s)) == NULL)
		return;
	memset(&ran_in, 0, sizeof(ran_in));
	T_CHECK(writer_call(w, t_op_thread, &ran_in, NULL, 0) == STORE_OK &&
	    pthread_equal(ran_in, pthread_self()),
	    "leader: an idle writer's caller runs the batch itself");

	/* posted, then a waited call soon after: one transaction for both */
	writer_set_async_delay(w, 3000);	/* a slow machine's margin */
	writer_get_stats(w, &a);
	T_CHECK(t_post_session(w, "posted-session-0002", &ran) == 0,
	    "leader: writer_post accepted");
	(void)usleep(20000);
	T_CHECK(!__atomic_load_n(&ran, __ATOMIC_ACQUIRE),
	    "leader: a posted operation alone waits for company");
	T_CHECK(writer_call(w, t_op_thread, &ran_in, NULL, 0) == STORE_OK,
	    "leader: a waited call");
	writer_get_stats(w, &b);
	T_CHECK(__atomic_load_n(&ran, __ATOMIC_ACQUIRE) &&
	    b.batches == a.batches + 1 && b.ops == a.ops + 2,
	    "leader: the waited call's batch took the posted one along");
	T_CHECK(store_session_get(s, "posted-session-0002", &got) == STORE_OK,
	    "leader: ... and it is committed");

	/* posted and nothing else: committed after the delay all the same */
	__atomic_store_n(&ran, 0, __ATOMIC_RELEASE);
	writer_set_async_delay(w, WRITER_ASYNC_DELAY_MS);
	T_CHECK(t_post_session(w, "posted-session-0003", &ran) == 0,
	    "leader: writer_post accepted again");
	for (i = 0; i < 100 && store_session_get(s, "posted-session-0003",
	    &got) != STORE_OK; i++)
		(void)usleep(10000);
	T_CHECK(i < 100, "leader: a posted operation alone is committed "
	    "within a second");
	store_close(s);
	writer_stop(w);
}

/* writer_submit: an operation answered through a callback. */
struct t_submit {
	struct session	 se;
	int		 fail;		/* the op returns STORE_CONFLICT */
	int		*hold;		/* __atomic: the op waits while set */
	pthread_t	 op_thread;
	pthread_t	 done_thread;
	int		 rc;
	int		 answers;	/* __atomic */
};

static int
t_op_submit(struct store *s, void *arg)
{
	struct t_submit *t = arg;

	t->op_thread = pthread_self();
	while (t->hold != NULL && __atomic_load_n(t->hold, __ATOMIC_ACQUIRE))
		(void)usleep(1000);
	if (t->fail)
		return STORE_CONFLICT;
	return store_session_record(s, &t->se);
}

static void
t_submit_done(void *arg, int rc, const char *err)
{
	struct t_submit *t = arg;

	(void)err;
	t->done_thread = pthread_self();
	t->rc = rc;
	__atomic_add_fetch(&t->answers, 1, __ATOMIC_RELEASE);
}

struct t_holder {
	struct writer	*w;
	struct t_submit	 t;
};

static void *
t_hold_batch(void *arg)
{
	struct t_holder *h = arg;

	(void)writer_call(h->w, t_op_submit, &h->t, NULL, 0);
	return NULL;
}

/*
 * A handler hands its write over and goes on: with nobody committing its
 * own thread runs the batch and the answer comes before writer_submit
 * returns; while a batch runs, writer_submit returns at once and the
 * answer comes later, from the thread that ran the next batch, after the
 * commit.  Failures are answered as such, and each operation once.
 */
static void
test_writer_submit(void)
{
	struct writer *w;
	struct t_submit a, b, c;
	struct t_holder h;
	struct session got;
	struct store *s;
	pthread_t holder;
	int hold = 1, i;

	if ((w = t_writer("submit: writer starts", &s)) == NULL)
		return;
	memset(&a, 0, sizeof(a));
	a.se = mksession("submit-session-0001", "S0003-T01", 1751418000);
	T_CHECK(writer_submit(w, t_op_submit, &a, t_submit_done) == 0 &&
	    __atomic_load_n(&a.answers, __ATOMIC_ACQUIRE) == 1 &&
	    a.rc == STORE_OK && pthread_equal(a.op_thread, pthread_self()) &&
	    pthread_equal(a.done_thread, pthread_self()),
	    "submit: idle writer: run and answered in the caller's thread "
	    "before it returns");
	T_CHECK(store_session_get(s, "submit-session-0001", &got) == STORE_OK,
	    "submit: ... and committed");

	/* a batch that holds on: what is submitted meanwhile waits for it */
	memset(&h, 0, sizeof(h));
	h.w = w;
	h.t.se = mksession("submit-session-0002", "S0003-T01", 1751418000);
	h.t.hold = &hold;
	if (pthread_create(&holder, NULL, t_hold_batch, &h) != 0) {
		T_CHECK(0, "submit: holder thread");
		store_close(s);
		writer_stop(w);
		return;
	}
	(void)usleep(50000);
	memset(&b, 0, sizeof(b));
	b.se = mksession("submit-session-0003", "S0003-T01", 1751418000);
	memset(&c, 0, sizeof(c));
	c.fail = 1;
	T_CHECK(writer_submit(w, t_op_submit, &b, t_submit_done) == 0 &&
	    writer_submit(w, t_op_submit, &c, t_submit_done) == 0,
	    "submit: accepted while a batch runs");
	(void)usleep(50000);
	T_CHECK(__atomic_load_n(&b.answers, __ATOMIC_ACQUIRE) == 0 &&
	    __atomic_load_n(&c.answers, __ATOMIC_ACQUIRE) == 0 &&
	    store_session_get(s, "submit-session-0003", &got) ==
	    STORE_NOTFOUND,
	    "submit: returned at once, not answered before its commit");
	__atomic_store_n(&hold, 0, __ATOMIC_RELEASE);
	(void)pthread_join(holder, NULL);
	for (i = 0; i < 500 && (__atomic_load_n(&b.answers, __ATOMIC_ACQUIRE)
	    == 0 || __atomic_load_n(&c.answers, __ATOMIC_ACQUIRE) == 0); i++)
		(void)usleep(2000);
	T_CHECK(b.rc == STORE_OK && store_session_get(s,
	    "submit-session-0003", &got) == STORE_OK,
	    "submit: answered OK once committed");
	T_CHECK(!pthread_equal(b.done_thread, pthread_self()) &&
	    pthread_equal(b.done_thread, b.op_thread),
	    "submit: ... by the thread that ran its batch");
	T_CHECK(c.rc == STORE_CONFLICT, "submit: a failed operation is "
	    "answered with its code");
	(void)usleep(20000);
	T_CHECK(__atomic_load_n(&b.answers, __ATOMIC_ACQUIRE) == 1 &&
	    __atomic_load_n(&c.answers, __ATOMIC_ACQUIRE) == 1,
	    "submit: each answered once");
	store_close(s);
	writer_stop(w);
}

/*
 * store_read_begin/end: the reads of one request see one snapshot; a row
 * another connection commits meanwhile shows only after read_end.
 */
static void
test_read_snapshot(void)
{
	struct store *a, *b;
	struct session se, got;

	if ((a = open_db("town.db")) == NULL || (b = open_db("town.db")) ==
	    NULL) {
		T_CHECK(0, "snapshot: open");
		if (a != NULL)
			store_close(a);
		return;
	}
	se = mksession("snapshot-session-01", "S0001-T01", 1751418000);
	T_CHECK(store_read_begin(a) == STORE_OK, "snapshot: begins");
	T_CHECK(store_read_begin(a) != STORE_OK, "snapshot: not twice");
	T_CHECK(store_session_get(a, "snapshot-session-01", &got) ==
	    STORE_NOTFOUND, "snapshot: the row is not there yet");
	T_CHECK(store_session_create(b, &se) == STORE_OK,
	    "snapshot: another connection commits the row");
	T_CHECK(store_session_get(a, "snapshot-session-01", &got) ==
	    STORE_NOTFOUND, "snapshot: still the database as it was");
	T_CHECK(store_read_end(a) == STORE_OK, "snapshot: ends");
	T_CHECK(store_read_end(a) != STORE_OK, "snapshot: no second end");
	T_CHECK(store_session_get(a, "snapshot-session-01", &got) ==
	    STORE_OK && strcmp(got.kiosk_id, "S0001-T01") == 0,
	    "snapshot: after it, the committed row is seen");
	store_close(a);
	store_close(b);
}

struct t_gate_call {
	struct writer	*w;
	struct t_result	 r;
	int		 rc;
	int		 done;	/* __atomic: set after rc */
};

static void *
t_gate_call(void *arg)
{
	struct t_gate_call *g = arg;

	g->rc = writer_call(g->w, t_op_result, &g->r, NULL, 0);
	__atomic_store_n(&g->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* One writer_call() for result id in a thread of its own.  0 or -1. */
static int
t_gate_spawn(struct t_gate_call *g, struct writer *w, int64_t id,
    pthread_t *t)
{
	memset(g, 0, sizeof(*g));
	g->w = w;
	g->r.id = id;
	return pthread_create(t, NULL, t_gate_call, g) == 0 ? 0 : -1;
}

/* Has that call returned (then its rc is there to read)? */
static int
t_gate_done(const struct t_gate_call *g)
{
	return __atomic_load_n(&g->done, __ATOMIC_ACQUIRE);
}

/* Up to ticks x 10 ms for that call to return. */
static void
t_gate_wait(const struct t_gate_call *g, int ticks)
{
	int i;

	for (i = 0; i < ticks && !t_gate_done(g); i++)
		(void)usleep(10000);
}

/*
 * The writers of several processes pass the database between them
 * through an flock() on "<db>-writer" (writer.c): while someone else
 * holds it, no batch starts; once it is let go, the waiting batch runs.
 */
static void
test_writer_gate(void)
{
	struct t_gate_call g;
	struct writer *w;
	pthread_t t;
	char gate[1300];
	int fd;

	snprintf(gate, sizeof(gate), "%s/town.db-writer", tmpdir);
	if ((w = t_writer("gate: writer starts", NULL)) == NULL)
		return;
	fd = open(gate, O_RDWR | O_CLOEXEC);
	T_CHECK(fd != -1, "gate: the writer made <db>-writer");
	if (fd == -1 || flock(fd, LOCK_EX) == -1) {
		writer_stop(w);
		if (fd != -1)
			(void)close(fd);
		return;
	}
	if (t_gate_spawn(&g, w, 999999997, &t) == -1) {
		T_CHECK(0, "gate: thread");
		(void)close(fd);
		writer_stop(w);
		return;
	}
	t_gate_wait(&g, 30);
	T_CHECK(!t_gate_done(&g), "gate: no batch while another writer holds the gate");
	(void)flock(fd, LOCK_UN);
	(void)pthread_join(t, NULL);
	T_CHECK(t_gate_done(&g) && g.rc == STORE_NOTFOUND,
	    "gate: the batch ran once the gate was let go");
	(void)close(fd);
	writer_stop(w);
}

/*
 * A holder that is stopped without dying keeps the gate: the wait for it
 * is bounded (WRITER_GATE_TIMEOUT_MS, here 200 ms), then batches go on
 * under SQLite's lock alone, and the writer takes the gate again once it
 * is let go.
 */
static void
test_writer_gate_timeout(void)
{
	struct t_gate_call g;
	struct writer *w;
	pthread_t t;
	struct timespec t0, t1;
	char gate[1300];
	int fd;
	long ms;

	snprintf(gate, sizeof(gate), "%s/town.db-writer", tmpdir);
	if ((w = t_writer("gate timeout: writer starts", NULL)) == NULL)
		return;
	writer_set_gate_timeout(w, 200);
	if ((fd = open(gate, O_RDWR | O_CLOEXEC)) == -1 ||
	    flock(fd, LOCK_EX) == -1) {
		T_CHECK(0, "gate timeout: the test holds the gate");
		writer_stop(w);
		if (fd != -1)
			(void)close(fd);
		return;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	if (t_gate_spawn(&g, w, 999999996, &t) == -1) {
		T_CHECK(0, "gate timeout: thread");
		(void)close(fd);
		writer_stop(w);
		return;
	}
	/* 5 s: far beyond the timeout; without it the call never returns */
	t_gate_wait(&g, 500);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (long)(t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	T_CHECK(t_gate_done(&g) && g.rc == STORE_NOTFOUND,
	    "gate timeout: a stuck holder does not stop the batch for good");
	printf("# gate timeout: the batch ran after %ld ms\n", ms);
	T_CHECK(ms >= 150, "gate timeout: the batch first waited for the "
	    "gate");
	if (!t_gate_done(&g)) {
		/* let it finish so the thread can be joined */
		(void)flock(fd, LOCK_UN);
		(void)pthread_join(t, NULL);
		(void)close(fd);
		writer_stop(w);
		return;
	}
	(void)pthread_join(t, NULL);
	/* still held: the next batch does not wait again */
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	g.r.id = 999999995;
	T_CHECK(writer_call(w, t_op_result, &g.r, NULL, 0) == STORE_NOTFOUND,
	    "gate timeout: the next batch runs while the gate is held");
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (long)(t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("# gate timeout: the next batch ran after %ld ms\n", ms);
	T_CHECK(ms < 150, "gate timeout: ... without waiting for it again");
	/* let go: the writer takes the gate again for its next batch */
	(void)flock(fd, LOCK_UN);
	g.r.id = 999999994;
	(void)writer_call(w, t_op_result, &g.r, NULL, 0);
	(void)flock(fd, LOCK_EX);	/* waits while the writer holds it */
	if (t_gate_spawn(&g, w, 999999993, &t) == -1) {
		T_CHECK(0, "gate timeout: thread");
		(void)close(fd);
		writer_stop(w);
		return;
	}
	t_gate_wait(&g, 10);
	T_CHECK(!t_gate_done(&g), "gate timeout: once let go, the gate orders the "
	    "writers again");
	(void)flock(fd, LOCK_UN);
	(void)pthread_join(t, NULL);
	(void)close(fd);
	writer_stop(w);
}

#define WPROC	4
#define WKEYS	60

/*
 * Child with its own writer: batches of its own keys plus the shared one,
 * and one claim of a shared session.  Writes "<won> <shared bytes>" and
 * exits 0; any cross-talk exits 1.
 */
static int
writer_child(int idx, int fd)
{
	struct writer *w;
	struct writer_op ops[8];
	struct t_create c[8];
	struct t_claim cl;
	char path[1200], err[256], key[64], sess[64], doc[64];
	char shared[64] = "";
	int j, k, n, bad = 0, won;

	snprintf(path, sizeof(path), "%s/town.db", tmpdir);
	if ((w = writer_start(path, err, sizeof(err))) == NULL) {
		dprintf(fd, "# child %d: %s\n", idx, err);
		return 1;
	}
	snprintf(sess, sizeof(sess), "wsess-p%d", idx);
	for (j = 0; j < WKEYS; j += n) {
		n = 0;
		memset(c, 0, sizeof(c));
		memset(ops, 0, sizeof(ops));
		for (k = 0; k < 7 && j + k < WKEYS; k++, n++) {
			snprintf(key, sizeof(key), "wp%d-k%03d", idx, j + k);
			c[n].q = mkreq(key, sess, 1 + (idx * WKEYS + j + k) %
			    250);
			c[n].content = "own";
			ops[n].fn = t_op_create;
			ops[n].arg = &c[n];
		}
		/* the shared key, made by whichever process is first */
		c[n].q = mkreq("writer-shared-key", "wsess-shared", 3);
		pubid(sess, c[n].q.public_id, sizeof(c[n].q.public_id));
		snprintf(doc, sizeof(doc), "shared-by-%d", idx);
		c[n].content = doc;
		ops[n].fn = t_op_create;
		ops[n].arg = &c[n];
		n++;
		(void)writer_run(w, ops, (size_t)n);
		for (k = 0; k < n; k++)
			if (ops[k].rc != STORE_OK ||
			    strcmp(c[k].out.req.session_id,
			    c[k].q.session_id) != 0 ||
			    strcmp(c[k].out.req.idempotency_key,
			    c[k].q.idempotency_key) != 0)
				bad = 1;
		if (ops[n - 1].rc == STORE_OK) {
			if (c[n - 1].created)
				snprintf(shared, sizeof(shared), "%s", doc);
			else if (c[n - 1].stored_len > 0 &&
			    c[n - 1].stored_len < sizeof(shared) &&
			    shared[0] == '\0')
				snprintf(shared, sizeof(shared), "%.*s",
				    (int)c[n - 1].stored_len,
				    (const char *)c[n - 1].stored);
		}
		for (k = 0; k < n; k++)
			free(c[k].stored);
		n -= 1;		/* the shared op does not advance j */
		if (n == 0)
			break;
	}
	memset(&cl, 0, sizeof(cl));
	cl.se = mksession("writer-race-0001", "S0001-T01", 1751418000);
	cl.rid = 1 + idx;
	won = writer_call(w, t_op_claim, &cl, err, sizeof(err));
	if (won != STORE_OK && won != STORE_CONFLICT)
		bad = 1;
	writer_stop(w);
	if (bad)
		return 1;
	dprintf(fd, "%d %s\n", won == STORE_OK, shared[0] ? shared : "-");
	return 0;
}

static void
test_writer_processes(void)
{
	struct store *s;
	struct session se;
	struct issuance is;
	pid_t pids[WPROC];
	int fds[2], i, j, status, ok = 1, won = 0, v, wrong = 0, same = 1;
	char buf[1024], key[64], sess[64], doc[64], first[64] = "";
	uint8_t *c = NULL;
	size_t clen = 0, off = 0;
	ssize_t r;
	char *p;

	if (pipe(fds) == -1) {
		T_CHECK(0, "pipe");
		return;
	}
	fflush(stdout);
	for (i = 0; i < WPROC; i++) {
		if ((pids[i] = fork()) == -1) {
			T_CHECK(0, "fork");
			return;
		}
		if (pids[i] == 0) {
			close(fds[0]);
			_exit(writer_child(i, fds[1]));
		}
	}
	close(fds[1]);
	while (off < sizeof(buf) - 1 &&
	    (r = read(fds[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)r;
	buf[off] = '\0';
	close(fds[0]);
	for (i = 0; i < WPROC; i++)
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ok = 0;
	if (!ok)
		printf("%s", buf);
	T_CHECK(ok, "group commit in 4 processes: each saw only its own rows");
	for (p = buf; *p != '\0'; ) {
		if (sscanf(p, "%d %63s", &v, doc) == 2) {
			won += v;
			if (first[0] == '\0')
				snprintf(first, sizeof(first), "%s", doc);
			else if (strcmp(first, doc) != 0)
				same = 0;
		}
		while (*p != '\0' && *p != '\n')
			p++;
		if (*p == '\n')
			p++;
	}
	if ((s = open_db("town.db")) == NULL) {
		T_CHECK(0, "open after the writers");
		return;
	}
	T_CHECK(won == 1 && store_session_get(s, "writer-race-0001", &se) ==
	    STORE_OK && se.state == SESSION_AUTHENTICATED,
	    "one challenge, one winner across writers");
	T_CHECK(store_issuance_get_by_key(s, "writer-shared-key", &is) ==
	    STORE_OK && store_issuance_get_content(s, is.id, &c, &clen) ==
	    STORE_OK && clen == strlen(first) && memcmp(c, first, clen) == 0 &&
	    same, "the shared key: one stored document every process returned");
	if (!same || clen != strlen(first))
		printf("# children said:\n%s", buf);
	free(c);
	for (i = 0; i < WPROC; i++) {
		snprintf(sess, sizeof(sess), "wsess-p%d", i);
		for (j = 0; j < WKEYS; j++) {
			snprintf(key, sizeof(key), "wp%d-k%03d", i, j);
			if (store_issuance_get_by_key(s, key, &is) != STORE_OK ||
			    strcmp(is.req.session_id, sess) != 0 ||
			    is.req.resident_id != 1 + (i * WKEYS + j) % 250 ||
			    !content_is(s, is.id, "own"))
				wrong++;
		}
	}
	T_CHECK(wrong == 0, "every key of every writer maps to its own request");
	store_close(s);
}

int
main(void)
{
	struct store *s;
	char err[256];

	make_tmpdir();
	test_helpers();
	test_seal_png();
	T_CHECK(store_open("postgresql://x", 0, err, sizeof(err)) == NULL,
	    "postgresql not built in");
	T_CHECK(store_open("/nonexistent/dir/x.db", STORE_CREATE, err,
	    sizeof(err)) == NULL, "unopenable path");
	if ((s = open_db("town.db")) == NULL) {
		T_CHECK(0, "open database");
		return t_done();
	}
	test_schema(s);
	test_seed(s);
	test_invariants(s);
	test_cards(s);
	test_issuance(s);
	test_sessions(s);
	test_batch_and_validation(s);
	test_signed_and_claim(s);
	store_close(s);
	test_concurrency();
	test_writer();
	test_read_snapshot();
	test_writer_leader();
	test_writer_submit();
	test_writer_gate();
	test_writer_gate_timeout();
	test_writer_processes();
	test_determinism();
	cleanup();
	return t_done();
}
