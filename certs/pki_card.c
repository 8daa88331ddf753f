/*
 * kiosk-pki card and kiosk: end-entity identities.  Keys and certificates
 * are made in memory; the directory for the identity is created (which
 * claims the name), the files written, and index.txt updated last, so a
 * failure leaves no half-registered card behind.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/objects.h>

#include "log.h"
#include "pki.h"

#define OPAQUE_ID_LEN	23	/* like the JPKI-TEST card's 997794E9AGCIEG13221003A */
#define KIOSK_PART_MAX	16
#define INFO_MAX	2048

static const struct pki_ext auth_exts[] = {
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_certificate_policies, "1.2.392.200149.8.5.1.3.30" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};
static const struct pki_ext sign_exts[] = {
	{ NID_key_usage, "critical,digitalSignature,nonRepudiation" },
	{ NID_certificate_policies, "1.2.392.200149.8.5.1.1.20" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};
static const struct pki_ext kiosk_exts[] = {
	{ NID_basic_constraints, "CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "clientAuth" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};

struct ee {
	X509		*ca;
	EVP_PKEY	*ca_key;
	EVP_PKEY	*key;
	X509		*cert;
	char		 serial[PKI_SERIAL_HEX_MAX];
	char		 cn[OPAQUE_ID_LEN + 1];
};

static void
ee_free(struct ee *e)
{
	X509_free(e->ca);
	EVP_PKEY_free(e->ca_key);
	EVP_PKEY_free(e->key);
	X509_free(e->cert);
	memset(e, 0, sizeof(*e));
}

static int
load_ca(const char *dir, const char *base, struct ee *e)
{
	char path[PKI_PATH_MAX], file[64];
	int n;

	n = snprintf(file, sizeof(file), "%s.crt", base);
	if (n < 0 || (size_t)n >= sizeof(file) ||
	    store_path(path, sizeof(path), dir, file) == -1 ||
	    (e->ca = store_load_cert(path)) == NULL)
		return -1;
	n = snprintf(file, sizeof(file), "%s.key", base);
	if (n < 0 || (size_t)n >= sizeof(file) ||
	    store_path(path, sizeof(path), dir, file) == -1 ||
	    (e->ca_key = store_load_key(path)) == NULL)
		return -1;
	return 0;
}

/* Sign e->key's certificate; e->serial may hold a serial to avoid. */
static int
ee_issue(const char *dir, struct ee *e, const X509_NAME *name, int serial_bytes,
    int64_t not_before, int64_t not_after, const struct pki_ext *exts,
    size_t nexts, const char *avoid)
{
	struct pki_cert_req req;
	BIGNUM *serial;
	int tries;

	for (tries = 0;; tries++) {
		serial = issue_serial(dir, serial_bytes, e->serial,
		    sizeof(e->serial));
		if (serial == NULL)
			return -1;
		if (avoid == NULL || strcmp(avoid, e->serial) != 0)
			break;
		BN_free(serial);
		if (tries == 100) {
			log_warnx("no unused serial number");
			return -1;
		}
	}
	memset(&req, 0, sizeof(req));
	req.subject = name;
	req.key = e->key;
	req.issuer = e->ca;
	req.issuer_key = e->ca_key;
	req.serial = serial;
	req.not_before = not_before;
	req.not_after = not_after;
	req.exts = exts;
	req.nexts = nexts;
	e->cert = issue_cert(&req);
	BN_free(serial);
	return e->cert != NULL ? 0 : -1;
}

/* Files written so far, removed again if a later step fails. */
struct written {
	char	dir[PKI_PATH_MAX];
	char	path[6][PKI_PATH_MAX];
	size_t	n;
	int	made_dir;
};

static int
put_file(struct written *w, const char *file, X509 *cert, EVP_PKEY *key,
    const char *text)
{
	char p[PKI_PATH_MAX];
	int r;

	if (w->n >= sizeof(w->path) / sizeof(w->path[0])) {
		log_warnx("internal error: too many files");
		return -1;
	}
	if (store_path(p, sizeof(p), w->dir, file) == -1)
		return -1;
	if (cert != NULL)
		r = store_write_cert(p, cert);
	else if (key != NULL)
		r = store_write_key(p, key);
	else
		r = store_write(p, text, strlen(text), 0644);
	if (r == 0)
		memcpy(w->path[w->n++], p, sizeof(p));
	return r;
}

static void
undo_files(struct written *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (unlink(w->path[i]) == -1)
			log_warn("cleanup: unlink %s", w->path[i]);
	if (w->made_dir && rmdir(w->dir) == -1)
		log_warn("cleanup: rmdir %s", w->dir);
}

static const char alnum[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* STORE-TERMINAL, each [A-Za-z0-9]{1,16} */
static int
split_kiosk_id(const char *id, char *store, char *term)
{
	size_t s, t;

	s = strspn(id, alnum);
	if (s == 0 || s > KIOSK_PART_MAX || id[s] != '-')
		return -1;
	t = strspn(id + s + 1, alnum);
	if (t == 0 || t > KIOSK_PART_MAX || id[s + 1 + t] != '\0')
		return -1;
	memcpy(store, id, s);
	store[s] = '\0';
	memcpy(term, id + s + 1, t);
	term[t] = '\0';
	return 0;
}

/*
 * A deterministic adult birth date from NAME: 1960-1999 when that makes
 * the holder 18 or older on the issue date, else 20-59 years before it.
 */
static int
default_birth(const char *name, const struct pki_date *issued,
    struct pki_date *b)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned long h;

	if (EVP_Digest(name, strlen(name), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen < 4) {
		pki_ssl_warn("SHA-256");
		return -1;
	}
	h = (unsigned long)md[0] << 24 | (unsigned long)md[1] << 16 |
	    (unsigned long)md[2] << 8 | md[3];
	b->y = 1960 + (int)(h % 40);
	b->m = 1 + (int)((h >> 8) % 12);
	b->d = 1 + (int)((h >> 16) % 28);
	if (pki_age_on(b, issued) < 18)
		b->y = issued->y - 20 - (int)(h % 40);
	if (!pki_date_valid(b) || pki_age_on(b, issued) < 18) {
		log_warnx("cannot derive a birth date for an issue date in %d; "
		    "give --birth", issued->y);
		return -1;
	}
	return 0;
}

static int
parse_date_opt(const char *opt, const char *s, struct pki_date *d)
{
	char esc[64];
	const char *err;

	if (pki_date_parse(s, d, &err) == -1) {
		log_warnx("%s '%s': %s", opt, log_escape(esc, sizeof(esc), s,
		    strlen(s)), err);
		return -1;
	}
	return 0;
}

static char *
fmt_utc(int64_t t, char *buf, size_t len)
{
	struct pki_date d;
	int64_t days = t / 86400, secs = t % 86400;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	pki_civil_from_days(days, &d);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", d.y, d.m, d.d,
	    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	return buf;
}

static int
card_info(char *buf, size_t len, const char *name, const struct pki_date *birth,
    const struct pki_validity *v, const struct ee *auth, const struct ee *sign)
{
	char b[PKI_DATE_STRLEN], is[PKI_DATE_STRLEN], ce[PKI_DATE_STRLEN];
	char nb[32], na[32];
	int n;

	n = snprintf(buf, len,
	    "name=%s\nbirth=%s\nissued=%s\ncard_expiry=%s\nage_at_issue=%d\n"
	    "not_before=%s\nnot_after=%s\nserial=%s\nsubject_cn=%s\n"
	    "sign_cert=%s\nsign_serial=%s\nsign_subject_cn=%s\n",
	    name, pki_date_format(birth, b, sizeof(b)),
	    pki_date_format(&v->issued, is, sizeof(is)),
	    pki_date_format(&v->card_expiry, ce, sizeof(ce)), v->age_at_issue,
	    fmt_utc(v->not_before, nb, sizeof(nb)),
	    fmt_utc(v->not_after, na, sizeof(na)), auth->serial, auth->cn,
	    sign->cert != NULL ? "yes" : "no", sign->serial, sign->cn);
	if (n < 0 || (size_t)n >= len) {
		log_warnx("info.txt too long");
		return -1;
	}
	return 0;
}

static int
make_card_cert(const char *dir, struct ee *e, const struct pki_validity *v,
    const struct pki_ext *exts, size_t nexts, const char *avoid)
{
	const char *pairs[5] = { "C", "JP", "CN", NULL, NULL };
	X509_NAME *name;
	int r;

	if (issue_opaque_id(e->cn, sizeof(e->cn), OPAQUE_ID_LEN) == -1)
		return -1;
	pairs[3] = e->cn;
	if ((name = issue_name(pairs)) == NULL)
		return -1;
	r = ee_issue(dir, e, name, 4, v->not_before, v->not_after, exts, nexts,
	    avoid);
	X509_NAME_free(name);
	return r;
}

static int
card_commit(const char *dir, const char *name, struct written *w,
    struct ee *auth, struct ee *sign, const char *info)
{
	char path[PKI_PATH_MAX];
	const char *serials[2];
	struct pki_index idx;

	if (store_path(path, sizeof(path), dir, PKI_INDEX) == -1 ||
	    index_load(path, &idx) == -1)
		return -1;
	if (store_path2(w->dir, sizeof(w->dir), dir, PKI_CARDS, name) == -1)
		goto fail;
	if (store_mkdir(w->dir, 1) == -1)
		goto fail;
	w->made_dir = 1;
	if (put_file(w, "auth.key", NULL, auth->key, NULL) == -1 ||
	    put_file(w, "auth.crt", auth->cert, NULL, NULL) == -1)
		goto fail;
	if (sign->cert != NULL &&
	    (put_file(w, "sign.key", NULL, sign->key, NULL) == -1 ||
	    put_file(w, "sign.crt", sign->cert, NULL, NULL) == -1))
		goto fail;
	if (put_file(w, "info.txt", NULL, NULL, info) == -1)
		goto fail;
	serials[0] = auth->serial;
	serials[1] = sign->serial;
	if (store_serial_record(dir, serials, sign->cert != NULL ? 2 : 1) == -1)
		goto fail;
	if (index_add_cert(&idx, auth->cert) == -1 || index_save(path, &idx) == -1)
		goto fail;
	index_free(&idx);
	return 0;
fail:
	index_free(&idx);
	undo_files(w);
	return -1;
}

int
cmd_card(const char *dir, const char *name, const struct card_opts *o)
{
	char path[PKI_PATH_MAX], info[INFO_MAX], d1[PKI_DATE_STRLEN];
	char d2[PKI_DATE_STRLEN], d3[PKI_DATE_STRLEN];
	struct pki_date birth, issued, expiry;
	struct pki_validity v;
	struct ee auth, sign;
	struct written w;
	const char *err;
	int want_sign, lock = -1, ret = -1;

	memset(&auth, 0, sizeof(auth));
	memset(&sign, 0, sizeof(sign));
	memset(&w, 0, sizeof(w));
	if (pki_check_card_name(name) == -1 || store_check_pki(dir) == -1)
		return -1;
	if (store_path2(path, sizeof(path), dir, PKI_CARDS, name) == -1)
		return -1;
	if (store_exists(path)) {
		log_warnx("card %s already exists in %s", name, dir);
		return -1;
	}
	if (o->issued != NULL) {
		if (parse_date_opt("--issued", o->issued, &issued) == -1)
			return -1;
	} else
		pki_date_from_time_jst(pki_now(), &issued);
	if (o->birth != NULL) {
		if (parse_date_opt("--birth", o->birth, &birth) == -1)
			return -1;
	} else if (default_birth(name, &issued, &birth) == -1)
		return -1;
	if (o->card_expiry != NULL &&
	    parse_date_opt("--card-expiry", o->card_expiry, &expiry) == -1)
		return -1;
	if (pki_validity_compute(&birth, &issued,
	    o->card_expiry != NULL ? &expiry : NULL, &v, &err) == -1) {
		log_warnx("birth %s, issued %s: %s",
		    pki_date_format(&birth, d1, sizeof(d1)),
		    pki_date_format(&issued, d2, sizeof(d2)), err);
		return -1;
	}
	/* J-LIS does not issue the signature certificate to under-15s */
	want_sign = !o->no_sign_cert && v.age_at_issue >= 15;

	if (load_ca(dir, PKI_AUTH_CA, &auth) == -1 ||
	    (want_sign && load_ca(dir, PKI_SIGN_CA, &sign) == -1))
		goto done;
	if ((auth.key = issue_key(PKI_KEY_RSA2048)) == NULL ||
	    (want_sign && (sign.key = issue_key(PKI_KEY_RSA2048)) == NULL))
		goto done;
	if ((lock = store_lock(dir)) == -1)
		goto done;
	if (make_card_cert(dir, &auth, &v, auth_exts,
	    sizeof(auth_exts) / sizeof(auth_exts[0]), NULL) == -1)
		goto done;
	if (want_sign && make_card_cert(dir, &sign, &v, sign_exts,
	    sizeof(sign_exts) / sizeof(sign_exts[0]), auth.serial) == -1)
		goto done;
	if (card_info(info, sizeof(info), name, &birth, &v, &auth, &sign) == -1)
		goto done;
	if (card_commit(dir, name, &w, &auth, &sign, info) == -1)
		goto done;
	store_unlock(lock);
	lock = -1;

	printf("card %s: birth %s, issued %s, card expiry %s, age %d at issue\n",
	    name, pki_date_format(&birth, d1, sizeof(d1)),
	    pki_date_format(&v.issued, d2, sizeof(d2)),
	    pki_date_format(&v.card_expiry, d3, sizeof(d3)),
	    v.age_at_issue);
	if (issue_describe("auth", w.path[1], auth.cert) == -1)
		goto done;
	if (sign.cert != NULL) {
		if (issue_describe("sign", w.path[3], sign.cert) == -1)
			goto done;
	} else
		printf("sign: none (%s)\n", o->no_sign_cert ?
		    "--no-sign-cert" : "under 15 at issuance");
	printf("info: %s\n", w.path[w.n - 1]);
	if (fflush(stdout) == EOF) {
		log_warn("stdout");
		goto done;
	}
	ret = 0;
done:
	store_unlock(lock);
	ee_free(&auth);
	ee_free(&sign);
	return ret;
}

int
cmd_kiosk(const char *dir, const char *id)
{
	char store[KIOSK_PART_MAX + 1], term[KIOSK_PART_MAX + 1];
	char esc[128];
	const char *pairs[9];
	const char *serials[1];
	X509_NAME *name = NULL;
	struct written w;
	struct ee k;
	int64_t now = pki_now();
	int lock = -1, ret = -1;

	memset(&k, 0, sizeof(k));
	memset(&w, 0, sizeof(w));
	if (split_kiosk_id(id, store, term) == -1) {
		log_warnx("bad kiosk id '%s': use STORE-TERMINAL, each 1-16 of "
		    "[A-Za-z0-9] (e.g. S0001-T01)",
		    log_escape(esc, sizeof(esc), id, strlen(id)));
		return -1;
	}
	if (store_check_pki(dir) == -1)
		return -1;
	if (store_path2(w.dir, sizeof(w.dir), dir, PKI_KIOSKS, id) == -1)
		return -1;
	if (store_exists(w.dir)) {
		log_warnx("kiosk %s already exists in %s", id, dir);
		return -1;
	}
	pairs[0] = "C";
	pairs[1] = "JP";
	pairs[2] = "O";
	pairs[3] = store;
	pairs[4] = "OU";
	pairs[5] = term;
	pairs[6] = "CN";
	pairs[7] = id;
	pairs[8] = NULL;
	if (load_ca(dir, PKI_FLEET_CA, &k) == -1 ||
	    (k.key = issue_key(PKI_KEY_P256)) == NULL ||
	    (name = issue_name(pairs)) == NULL)
		goto done;
	if ((lock = store_lock(dir)) == -1)
		goto done;
	if (ee_issue(dir, &k, name, 8, now - PKI_CLOCK_SKEW,
	    now + (int64_t)PKI_CA_DAYS * 86400, kiosk_exts,
	    sizeof(kiosk_exts) / sizeof(kiosk_exts[0]), NULL) == -1)
		goto done;
	if (store_mkdir(w.dir, 1) == -1)
		goto done;
	w.made_dir = 1;
	serials[0] = k.serial;
	if (put_file(&w, "kiosk.key", NULL, k.key, NULL) == -1 ||
	    put_file(&w, "kiosk.crt", k.cert, NULL, NULL) == -1 ||
	    store_serial_record(dir, serials, 1) == -1) {
		undo_files(&w);
		goto done;
	}
	store_unlock(lock);
	lock = -1;
	printf("kiosk %s: store %s, terminal %s\n", id, store, term);
	if (issue_describe("kiosk", w.path[1], k.cert) == -1)
		goto done;
	if (fflush(stdout) == EOF) {
		log_warn("stdout");
		goto done;
	}
	ret = 0;
done:
	store_unlock(lock);
	X509_NAME_free(name);
	ee_free(&k);
	return ret;
}
