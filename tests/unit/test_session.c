/*
 * The resident session state machine, driven directly with fake workers:
 * every row of the table (and every pair that is not one), every timeout,
 * cancel in every state, the PIN wiped, the last-try confirmation, a
 * blocked card, a worker dying mid-state, forged and misdirected
 * documents (aborted, voided, never "issued"), and nothing of a session
 * left in memory after it.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kioskd/config.h"
#include "doccode.h"
#include "docverify.h"
#include "hex.h"
#include "log.h"
#include "msg.h"
#include "session.h"
#include "t.h"

#define CENTER_SID	"0123456789abcdef0123456789abcdef"
#define ISSUANCE_ID	"fedcba9876543210fedcba9876543210"
#define KIOSK_ID	"S0001-T01"
#define READER		"Test VPCD 00 00"
#define PIN		"8361"

struct fake {
	char		 trail[2048];	/* screen states, comma separated */
	json_t		*screen;	/* the last one */
	unsigned int	 timer;
	time_t		 now;
	uint64_t	 rnd;
	int		 card_ready, backend_ready;
	int		 fail_card, fail_backend;	/* sends fail */
	int		 n_read, n_sign, n_abort, n_reset, n_status, n_open;
	int		 n_auth, n_issue, n_report, n_defer;
	int		 printer_down;	/* printer_ready answers 0 */
	int		 n_pay, n_print, n_settle, fail_pay, fail_print;
	char		 pay_key[MSG_IDEMKEY_LEN];
	long long	 pay_fee;
	char		 print_code[MSG_DOCCODE_LEN];
	size_t		 print_len;
	enum session_outcome settle_outcome;
	char		 settle_reason[32];
	char		 settle_issuance[MSG_CENTER_ID_LEN];
	char		 pin_seen[MSG_PIN_SIZE + 1];
	uint32_t	 pin_len_seen;
	size_t		 auth_certlen;
	uint8_t		 auth_cert_first, auth_cert_last;
	uint32_t	 auth_siglen;
	struct msg_backend_issue_req issue;
	char		 options[MSG_OPTIONS_MAX + 1];
	struct msg_backend_report_req report;
};

static struct fake F;
static struct kiosk_conf *conf, *conf_closed;
static uint8_t *cert_der, *cert2_der;
static size_t cert_len, cert2_len;
static EVP_PKEY *dockey_priv, *otherkey_priv;
static struct docverify_key *dockey, *otherkey;

/* --- fakes ---------------------------------------------------------------- */

static void
f_screen(void *arg, json_t *screen)
{
	const char *st = json_string_value(json_object_get(screen, "state"));
	size_t n = strlen(F.trail);

	snprintf(F.trail + n, sizeof(F.trail) - n, "%s%s", n ? "," : "",
	    st != NULL ? st : "?");
	if (F.screen != NULL)
		json_decref(F.screen);
	F.screen = json_incref(screen);
}

static void
f_timer(void *arg, unsigned int secs)
{
	F.timer = secs;
}

static time_t
f_now(void *arg)
{
	return F.now;
}

static void
f_defer(void *arg)
{
	F.n_defer++;
}

static int
f_random(void *arg, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(++F.rnd * 37);
	return 0;
}

static int f_card_ready(void *arg) { return F.card_ready; }
static int f_backend_ready(void *arg) { return F.backend_ready; }

static int
f_card_read(void *arg, uint64_t sid)
{
	F.n_read++;
	return F.fail_card ? -1 : 0;
}

static int
f_card_sign(void *arg, uint64_t sid, const struct msg_card_sign_req *req)
{
	F.n_sign++;
	memcpy(F.pin_seen, req->pin, sizeof(req->pin));
	F.pin_seen[MSG_PIN_SIZE] = '\0';
	F.pin_len_seen = req->pin_len;
	return F.fail_card ? -1 : 0;
}

static void f_card_abort(void *arg, uint64_t sid) { F.n_abort++; }
static void f_card_reset(void *arg, const char *why) { F.n_reset++; }

static int
f_backend_status(void *arg, uint64_t sid)
{
	F.n_status++;
	return F.fail_backend ? -1 : 0;
}

static int
f_backend_open(void *arg, uint64_t sid)
{
	F.n_open++;
	return F.fail_backend ? -1 : 0;
}

static int
f_backend_auth(void *arg, uint64_t sid, const struct msg_backend_auth_req *r,
    const uint8_t *cert, size_t certlen)
{
	F.n_auth++;
	F.auth_certlen = certlen;
	F.auth_cert_first = certlen > 0 ? cert[0] : 0;
	F.auth_cert_last = certlen > 0 ? cert[certlen - 1] : 0;
	F.auth_siglen = r->sig_len;
	return F.fail_backend ? -1 : 0;
}

static int
f_backend_issue(void *arg, uint64_t sid, const struct msg_backend_issue_req *r,
    const char *options, size_t optlen)
{
	F.n_issue++;
	F.issue = *r;
	if (optlen < sizeof(F.options)) {
		memcpy(F.options, options, optlen);
		F.options[optlen] = '\0';
	}
	return F.fail_backend ? -1 : 0;
}

static int
f_printer_ready(void *arg, char *reason, size_t len)
{
	if (F.printer_down) {
		snprintf(reason, len, "media_empty");
		return 0;
	}
	return 1;
}

static int
f_pay(void *arg, uint64_t sid, const struct session_pay *p)
{
	F.n_pay++;
	snprintf(F.pay_key, sizeof(F.pay_key), "%s", p->idem_key);
	F.pay_fee = p->fee_yen;
	return F.fail_pay ? -1 : 0;
}

static int
f_print(void *arg, uint64_t sid, const struct session_print *p)
{
	F.n_print++;
	snprintf(F.print_code, sizeof(F.print_code), "%s", p->code);
	F.print_len = p->content_len;
	return F.fail_print ? -1 : 0;
}

/* The void of old: a settlement with the FAILED outcome counts as one. */
static void
f_settle(void *arg, uint64_t sid, const struct session_settle *st)
{
	F.n_settle++;
	F.settle_outcome = st->outcome;
	snprintf(F.settle_reason, sizeof(F.settle_reason), "%s", st->reason);
	snprintf(F.settle_issuance, sizeof(F.settle_issuance), "%s",
	    st->issuance_id);
	if (st->outcome != SESSION_PRINTED) {
		F.n_report++;
		F.report.outcome = MSG_PRINT_FAILED;
		snprintf(F.report.issuance_id, sizeof(F.report.issuance_id),
		    "%s", st->issuance_id);
	}
}

static const struct session_ops ops = {
	.screen = f_screen, .timer = f_timer, .now = f_now, .defer = f_defer,
	.random = f_random, .card_ready = f_card_ready,
	.backend_ready = f_backend_ready, .card_read = f_card_read,
	.card_sign = f_card_sign, .card_abort = f_card_abort,
	.card_reset = f_card_reset, .backend_status = f_backend_status,
	.backend_open = f_backend_open, .backend_auth = f_backend_auth,
	.backend_issue = f_backend_issue, .printer_ready = f_printer_ready,
	.pay = f_pay, .print = f_print, .settle = f_settle
};

static void
fake_reset(void)
{
	if (F.screen != NULL)
		json_decref(F.screen);
	memset(&F, 0, sizeof(F));
	F.card_ready = F.backend_ready = 1;
	F.now = 1750000000;	/* 2025-06-16 00:06 JST */
}

/* --- fixtures ---------------------------------------------------------- */

static EVP_PKEY *
ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL) {
		fprintf(stderr, "EVP_EC_gen failed\n");
		exit(2);
	}
	return k;
}

static uint8_t *
make_cert(long serial, size_t *len)
{
	EVP_PKEY *k = ec_key();
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int n;

	if (x == NULL || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400) ||
	    !X509_set_pubkey(x, k) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    !X509_sign(x, k, EVP_sha256()) || (n = i2d_X509(x, &der)) <= 0) {
		fprintf(stderr, "cannot make a certificate\n");
		exit(2);
	}
	X509_free(x);
	EVP_PKEY_free(k);
	*len = (size_t)n;
	return der;
}

static struct docverify_key *
pin_key(EVP_PKEY *pkey)
{
	unsigned char *der = NULL;
	struct docverify_key *k;
	char err[128];
	int n;

	n = i2d_PUBKEY(pkey, &der);
	k = docverify_key_from_spki(der, (size_t)n, err, sizeof(err));
	OPENSSL_free(der);
	if (k == NULL) {
		fprintf(stderr, "docverify key: %s\n", err);
		exit(2);
	}
	return k;
}

static size_t
sign(EVP_PKEY *pkey, const char *msg, size_t len, uint8_t *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t siglen = DOCVERIFY_MAX_SIG;

	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    pkey) != 1 || EVP_DigestSign(md, sig, &siglen,
	    (const unsigned char *)msg, len) != 1) {
		fprintf(stderr, "sign failed\n");
		exit(2);
	}
	EVP_MD_CTX_free(md);
	return siglen;
}

/* The content the center signs, bound to (sid, cert, kiosk, issuance). */
static char *
content(const char *sid, const uint8_t *cert, size_t certlen,
    const char *kiosk, const char *doc, int copies)
{
	uint8_t md[32];
	char hex[65], *out;
	size_t i;
	json_t *j;

	EVP_Digest(cert, certlen, md, NULL, EVP_sha256(), NULL);
	hex_encode(hex, sizeof(hex), md, sizeof(md));
	for (i = 0; hex[i] != '\0'; i++)
		if (hex[i] >= 'A' && hex[i] <= 'F')
			hex[i] = (char)(hex[i] - 'A' + 'a');
	j = json_pack("{s:i, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:i, s:i, "
	    "s:{s:s, s:s}, s:{s:s}}", "version", 1, "binding",
	    "session_id", sid, "cert_sha256", hex, "kiosk_id", kiosk,
	    "issuance_id", ISSUANCE_ID, "document", doc, "issued_at",
	    "2025-06-15T14:06:40Z", "copies", copies, "fee_yen", 200 * copies,
	    "municipality", "name", "みどり市", "mayor", "緑 一郎", "body",
	    "address", "みどり市1-1");
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return out;
}

static const char *auth_json =
    "{\"resident\":{\"display_name\":\"山田 太郎\",\"ref\":\"abc\"},"
    "\"certificate\":{\"serial\":\"0a\",\"not_after\":\"2026-01-01T00:00:00Z\","
    "\"expires_soon\":true},"
    "\"documents\":[{\"type\":\"juminhyo\",\"title_ja\":\"住民票の写し\","
    "\"title_en\":\"Certificate of residence\",\"fee_yen\":200,"
    "\"max_copies\":10,\"options\":{\"members\":[]},\"unavailable\":null},"
    "{\"type\":\"inkan\",\"title_ja\":\"印鑑登録証明書\",\"title_en\":\"Seal\","
    "\"fee_yen\":200,\"max_copies\":10,\"options\":{},\"unavailable\":"
    "{\"reason\":\"seal_not_registered\",\"message\":\"m\",\"message_ja\":\"m\"}}]}";

/* --- inputs with canned, valid arguments -------------------------------- */

static void
card_event(struct session *s, uint32_t kind, const char *reader)
{
	struct msg_card_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.event = kind;
	(void)msg_str_set(ev.reader, sizeof(ev.reader), reader);
	session_card_event(s, &ev);
}

/* CARD_INFO of a token (1 card, 2 smartphone) with flags. */
static void
token_info(struct session *s, int32_t status, int tries, const uint8_t *cert,
    size_t len, uint32_t token, uint32_t flags)
{
	struct msg_card_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.status = status;
	ci.token = token;
	ci.flags = flags;
	ci.pin_tries = tries;
	(void)msg_str_set(ci.reader, sizeof(ci.reader), READER);
	ci.cert_len = (uint32_t)len;
	session_card_info(s, &ci, cert, len);
}

static void
card_info(struct session *s, int32_t status, int tries, const uint8_t *cert,
    size_t len)
{
	token_info(s, status, tries, cert, len, 1, 0);
}

static void
signed_(struct session *s, int32_t status, int tries)
{
	struct msg_card_sign_result r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.tries_left = tries;
	if (status == MSG_CARD_OK) {
		r.sig_len = 256;
		memset(r.sig, 0x5a, 256);
	}
	session_card_signed(s, &r);
}

static void
status_(struct session *s, int32_t st)
{
	struct msg_backend_status m;

	memset(&m, 0, sizeof(m));
	m.status = st;
	session_backend_status(s, &m);
}

static void
opened(struct session *s, int32_t st)
{
	struct msg_backend_session_result r;

	memset(&r, 0, sizeof(r));
	r.status = st;
	r.expires_in = 60;
	(void)msg_str_set(r.center_sid, sizeof(r.center_sid), CENTER_SID);
	r.challenge_len = 32;
	memset(r.challenge, 0xc3, 32);
	session_backend_opened(s, &r);
}

static void
authed_fail(struct session *s, const char *code, const char *reason,
    const char *errjson)
{
	struct msg_backend_auth_result r;

	memset(&r, 0, sizeof(r));
	r.status = MSG_BACKEND_CENTER_ERROR;
	r.error.http_status = 403;
	(void)msg_str_set(r.error.code, sizeof(r.error.code), code);
	(void)msg_str_set(r.error.reason, sizeof(r.error.reason), reason);
	session_backend_authed(s, &r, errjson, errjson ? strlen(errjson) : 0);
}

static void
authed(struct session *s)
{
	struct msg_backend_auth_result r;

	memset(&r, 0, sizeof(r));
	r.status = MSG_BACKEND_OK;
	r.json_len = (uint32_t)strlen(auth_json);
	session_backend_authed(s, &r, auth_json, strlen(auth_json));
}

/* When set: the document code the next answer carries instead. */
static const char *code_override;

/* Issue answer: content signed by key (NULL: the pinned one). */
static void
issued_with(struct session *s, const char *text, EVP_PKEY *key, int flip)
{
	struct msg_backend_issue_result r;
	uint8_t sig[DOCVERIFY_MAX_SIG];
	struct doccode dc;
	uint8_t *c;
	size_t len = strlen(text);

	memset(&r, 0, sizeof(r));
	r.status = MSG_BACKEND_OK;
	(void)msg_str_set(r.issuance_id, sizeof(r.issuance_id), ISSUANCE_ID);
	r.copies = 1;
	r.fee_yen = 200;
	r.content_len = (uint32_t)len;
	r.sig_len = (uint32_t)sign(key != NULL ? key : dockey_priv, text, len,
	    sig);
	/* The document code signed with the same key, for this content. */
	if (doccode_from_content(text, len, &dc) == 0 &&
	    doccode_sign(key != NULL ? key : dockey_priv, &dc) == 0)
		(void)doccode_format(&dc, r.code, sizeof(r.code));
	if (code_override != NULL)
		(void)msg_str_set(r.code, sizeof(r.code), code_override);
	c = malloc(len);
	memcpy(c, text, len);
	if (flip)
		c[len / 2] ^= 0x01;	/* altered after signing */
	session_backend_issued(s, &r, c, sig, NULL, 0);
	free(c);
}

static void
issued_ok(struct session *s)
{
	char *t = content(CENTER_SID, cert_der, cert_len, KIOSK_ID, "juminhyo",
	    1);

	issued_with(s, t, NULL, 0);
	free(t);
}

static void
issue_fail(struct session *s)
{
	struct msg_backend_issue_result r;
	const char *ej = "{\"message\":\"Not eligible now.\","
	    "\"message_ja\":\"交付できません。\"}";

	memset(&r, 0, sizeof(r));
	r.status = MSG_BACKEND_CENTER_ERROR;
	(void)msg_str_set(r.error.code, sizeof(r.error.code), "not_eligible");
	(void)msg_str_set(r.error.reason, sizeof(r.error.reason), "deceased");
	session_backend_issued(s, &r, NULL, NULL, ej, strlen(ej));
}

static enum session_rc
pin_in(struct session *s, const char *pin, int confirm)
{
	char buf[16];
	size_t n = strlen(pin);

	memcpy(buf, pin, n);
	return session_ui_pin(s, buf, n, confirm);
}

static enum session_rc
options_in(struct session *s, const char *doc, long long copies)
{
	json_t *o = json_pack("{s:[]}", "members");
	enum session_rc rc = session_ui_options(s, doc, o, copies);

	json_decref(o);
	return rc;
}

/* Fire ev with a canned argument through the input that carries it. */
static enum session_rc
fire(struct session *s, enum session_event ev)
{
	switch (ev) {
	case SE_START:
		return session_ui_start(s);
	case SE_SELECT:
		return session_ui_select(s, "juminhyo");
	case SE_UNAVAILABLE:
		return session_fsm(s, ev, "unavailable");
	case SE_CENTER_UP:
		status_(s, MSG_BACKEND_OK);
		break;
	case SE_CENTER_DOWN:
		status_(s, MSG_BACKEND_UNREACHABLE);
		break;
	case SE_CARD_INSERTED:
		card_event(s, MSG_CARD_EV_INSERTED, READER);
		break;
	case SE_CARD_REMOVED:
		card_event(s, MSG_CARD_EV_REMOVED, READER);
		break;
	case SE_READ_OK:
		card_info(s, MSG_CARD_OK, 3, cert_der, cert_len);
		break;
	case SE_READ_BLOCKED:
		card_info(s, MSG_CARD_OK, 0, cert_der, cert_len);
		break;
	case SE_READ_FAIL:
		card_info(s, MSG_CARD_COMM, -1, NULL, 0);
		break;
	case SE_OPEN_OK:
		opened(s, MSG_BACKEND_OK);
		break;
	case SE_OPEN_FAIL:
		opened(s, MSG_BACKEND_BAD_RESPONSE);
		break;
	case SE_PIN:
		return pin_in(s, PIN, 1);
	case SE_SIGN_OK:
		signed_(s, MSG_CARD_OK, 3);
		break;
	case SE_PIN_WRONG:
		signed_(s, MSG_CARD_PIN_WRONG, 2);
		break;
	case SE_PIN_BLOCKED:
		signed_(s, MSG_CARD_PIN_BLOCKED, 0);
		break;
	case SE_SIGN_FAIL:
		signed_(s, MSG_CARD_COMM, -1);
		break;
	case SE_AUTH_OK:
		authed(s);
		break;
	case SE_AUTH_FAIL:
		authed_fail(s, "center_error", "", NULL);
		break;
	case SE_OPTIONS:
		return options_in(s, "juminhyo", 1);
	case SE_CONFIRM:
		if (session_state(s) == SS_OPTIONS)
			(void)options_in(s, "juminhyo", 1);
		return session_ui_confirm(s);
	case SE_ISSUE_OK:
		issued_ok(s);
		break;
	case SE_ISSUE_FAIL:
		issue_fail(s);
		break;
	case SE_VERIFY_OK:
		session_deferred(s);
		break;
	case SE_VERIFY_FAIL:
		session_set_dockey(s, otherkey);
		session_deferred(s);
		session_set_dockey(s, dockey);
		break;
	case SE_DONE:
		return session_ui_done(s);
	case SE_CANCEL:
		return session_ui_cancel(s);
	case SE_TIMEOUT:
		session_timeout(s);
		break;
	case SE_CARD_DOWN:
		session_worker_down(s, MSG_ROLE_CARD);
		break;
	case SE_BACKEND_DOWN:
		session_worker_down(s, MSG_ROLE_BACKEND);
		break;
	case SE_PAID:
		session_paid(s, 1, NULL);
		break;
	case SE_PAY_FAIL:
		session_paid(s, 0, "declined");
		break;
	case SE_SPOOLED:
		session_print_spooled(s, 7);
		break;
	case SE_PRINTED:
		session_print_done(s, 1, 2, NULL);
		break;
	case SE_PRINT_FAIL:
		session_print_done(s, 0, 0, "job_aborted");
		break;
	case SE_PRINTER_DOWN:
		session_worker_down(s, MSG_ROLE_PRINTER);
		break;
	case SE__MAX:
		break;
	}
	return SESSION_OK;
}

/* The normal way from IDLE to st. */
static int
drive(struct session *s, enum session_state st)
{
	static const enum session_event path[] = {
		SE_START, SE_SELECT, SE_CENTER_UP, SE_CARD_INSERTED,
		SE_READ_OK, SE_OPEN_OK, SE_PIN, SE_SIGN_OK, SE_AUTH_OK,
		SE_CONFIRM, SE_PAID, SE_ISSUE_OK, SE_VERIFY_OK, SE_SPOOLED,
		SE_PRINTED
	};
	size_t i;

	if (st == SS_ABORTED) {
		(void)fire(s, SE_START);
		(void)fire(s, SE_CANCEL);
		return session_state(s) == SS_ABORTED;
	}
	for (i = 0; session_state(s) != st && i < sizeof(path) /
	    sizeof(path[0]); i++)
		(void)fire(s, path[i]);
	return session_state(s) == st;
}

static struct session *
fresh(void)
{
	struct session *s;

	fake_reset();
	if ((s = session_new(conf, dockey, &ops, NULL)) == NULL) {
		fprintf(stderr, "session_new failed\n");
		exit(2);
	}
	return s;
}

static const char *
screen_str(const char *path1, const char *path2)
{
	json_t *d = json_object_get(F.screen, "data"), *v;

	v = json_object_get(d, path1);
	if (path2 != NULL)
		v = json_object_get(v, path2);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* --- the tests ------------------------------------------------------------ */

static void
test_table(void)
{
	const struct session_transition *t;
	struct session *s;
	size_t n, i;
	char name[160];
	int st, ev, ok, in;

	t = session_table(&n);
	T_CHECK(n > 60, "the table has every row");
	for (i = 0; i < n; i++) {
		s = fresh();
		ok = drive(s, t[i].from);
		(void)fire(s, t[i].event);
		snprintf(name, sizeof(name), "table: %s --%s--> %s",
		    session_state_name(t[i].from),
		    session_event_name(t[i].event),
		    session_state_name(t[i].to));
		T_CHECK(ok && session_state(s) == t[i].to, name);
		if (t[i].to == SS_ABORTED && t[i].action == 0) {
			snprintf(name, sizeof(name), "table: %s --%s--> "
			    "ABORTED with reason %s",
			    session_state_name(t[i].from),
			    session_event_name(t[i].event), t[i].abort_code);
			T_CHECK(strcmp(session_abort_code(s),
			    t[i].abort_code) == 0, name);
		}
		session_free(s);
	}
	/* every pair NOT in the table changes nothing */
	for (st = 0; st < SS__MAX; st++) {
		for (ev = 0; ev < SE__MAX; ev++) {
			for (i = 0, in = 0; i < n; i++)
				if (t[i].from == (enum session_state)st &&
				    t[i].event == (enum session_event)ev)
					in = 1;
			if (in)
				continue;
			s = fresh();
			ok = drive(s, st);
			snprintf(name, sizeof(name), "not in the table: %s in "
			    "%s is ignored", session_event_name(ev),
			    session_state_name(st));
			T_CHECK(ok && session_fsm(s, ev, NULL) ==
			    SESSION_IGNORED && session_state(s) ==
			    (enum session_state)st, name);
			session_free(s);
		}
	}
}

static void
test_happy(void)
{
	struct session *s = fresh();
	json_t *d;

	T_CHECK(session_state(s) == SS_IDLE && session_id(s) == 0,
	    "starts IDLE without a session id");
	T_CHECK(session_ui_start(s) == SESSION_OK && session_id(s) != 0,
	    "start: a session id");
	T_CHECK(session_ui_select(s, "passport") == SESSION_BAD_INPUT &&
	    strcmp(session_ui_error(s), "bad_document") == 0 &&
	    session_state(s) == SS_SELECT, "unknown document refused");
	T_CHECK(session_ui_select(s, "juminhyo") == SESSION_OK &&
	    session_state(s) == SS_CHECKING && F.n_status == 1,
	    "select: checking asks the center's status");
	fire(s, SE_CENTER_UP);
	T_CHECK(session_state(s) == SS_WAIT_CARD, "center up: wait for card");
	card_event(s, MSG_CARD_EV_INSERTED, READER);
	T_CHECK(session_state(s) == SS_READ_CARD && F.n_read == 1,
	    "card inserted: read");
	fire(s, SE_READ_OK);
	T_CHECK(session_state(s) == SS_OPEN && F.n_open == 1,
	    "read: open a center session");
	T_CHECK(strchr(session_name(s), '/') != NULL,
	    "the session's log name carries the certificate tag");
	fire(s, SE_OPEN_OK);
	T_CHECK(session_state(s) == SS_WAIT_PIN, "challenge: wait for PIN");
	d = json_object_get(F.screen, "data");
	T_CHECK(json_integer_value(json_object_get(d, "tries_left")) == 3 &&
	    json_is_false(json_object_get(d, "last_try")),
	    "wait_pin screen: 3 tries, not the last");
	T_CHECK(pin_in(s, "12a4", 0) == SESSION_BAD_INPUT &&
	    strcmp(session_ui_error(s), "pin_format") == 0 && F.n_sign == 0 &&
	    session_state(s) == SS_WAIT_PIN, "bad PIN format: nothing sent");
	T_CHECK(pin_in(s, PIN, 0) == SESSION_OK &&
	    session_state(s) == SS_SIGNING && F.n_sign == 1 &&
	    F.pin_len_seen == 4 && memcmp(F.pin_seen, PIN, 4) == 0,
	    "PIN forwarded to the card worker");
	fire(s, SE_SIGN_OK);
	T_CHECK(session_state(s) == SS_AUTH && F.n_auth == 1 &&
	    F.auth_certlen == cert_len && F.auth_siglen == 256,
	    "signed: auth with certificate and signature");
	fire(s, SE_AUTH_OK);
	T_CHECK(session_state(s) == SS_OPTIONS, "auth: options");
	T_CHECK(strcmp(screen_str("expiry_notice", "code"), "expires_soon") ==
	    0, "options screen: expiry notice");
	T_CHECK(strcmp(screen_str("resident", "display_name"), "山田 太郎") ==
	    0, "options screen: the resident's name");
	T_CHECK(session_ui_confirm(s) == SESSION_BAD_INPUT &&
	    session_state(s) == SS_OPTIONS, "confirm before a choice refused");
	T_CHECK(options_in(s, "inkan", 1) == SESSION_BAD_INPUT &&
	    strcmp(session_ui_error(s), "document_unavailable") == 0,
	    "an unavailable document refused");
	T_CHECK(options_in(s, "juminhyo", 11) == SESSION_BAD_INPUT &&
	    strcmp(session_ui_error(s), "bad_copies") == 0,
	    "copies over max_copies refused");
	T_CHECK(options_in(s, "koseki_zenbu", 1) == SESSION_BAD_INPUT,
	    "a document not offered refused");
	T_CHECK(options_in(s, "juminhyo", 2) == SESSION_OK &&
	    session_state(s) == SS_OPTIONS, "options taken");
	d = json_object_get(json_object_get(F.screen, "data"), "choice");
	T_CHECK(json_integer_value(json_object_get(d, "fee_yen")) == 400 &&
	    json_integer_value(json_object_get(d, "copies")) == 2,
	    "options screen: choice with the fee");
	T_CHECK(options_in(s, "juminhyo", 1) == SESSION_OK,
	    "options changed");
	F.printer_down = 1;
	T_CHECK(session_ui_confirm(s) == SESSION_OK &&
	    session_state(s) == SS_ABORTED && F.n_pay == 0 &&
	    strcmp(session_abort_code(s), "printer_unavailable") == 0 &&
	    strcmp(screen_str("code", NULL), "printer_unavailable") == 0 &&
	    F.n_settle == 0, "printer out at confirm: aborted before any fee");
	session_free(s);
	s = fresh();
	drive(s, SS_OPTIONS);
	F.trail[0] = '\0';
	T_CHECK(options_in(s, "juminhyo", 1) == SESSION_OK &&
	    session_ui_confirm(s) == SESSION_OK &&
	    session_state(s) == SS_PAYING && F.n_pay == 1 && F.n_issue == 0,
	    "confirm: paying, nothing issued yet");
	T_CHECK(F.pay_fee == 200 && strlen(F.pay_key) == 32,
	    "payment: the fee, under the idempotency key");
	T_CHECK(json_integer_value(json_object_get(json_object_get(F.screen,
	    "data"), "fee_yen")) == 200, "paying screen: the fee");
	session_paid(s, 1, NULL);
	T_CHECK(session_state(s) == SS_ISSUING && F.n_issue == 1,
	    "paid: issuing");
	T_CHECK(strcmp(F.issue.idempotency_key, F.pay_key) == 0,
	    "the issuance carries the key the payment was journaled under");
	T_CHECK(strlen(F.issue.idempotency_key) == 32 &&
	    strspn(F.issue.idempotency_key, "0123456789abcdef") == 32,
	    "idempotency key: 32 lower-case hex made by the core");
	T_CHECK(strcmp(F.issue.center_sid, CENTER_SID) == 0 &&
	    strcmp(F.issue.document, "juminhyo") == 0 && F.issue.copies == 1 &&
	    strcmp(F.options, "{\"members\":[]}") == 0,
	    "issue request: session, document, copies, options");
	issued_ok(s);
	T_CHECK(session_state(s) == SS_VERIFYING && F.n_defer == 1,
	    "issued: verifying (deferred)");
	session_deferred(s);
	T_CHECK(session_state(s) == SS_PRINTING && F.n_print == 1 &&
	    strncmp(F.print_code, "KV1;", 4) == 0 && F.print_len > 0,
	    "verified: printing, with the document code");
	T_CHECK(session_ui_cancel(s) != SESSION_OK &&
	    session_state(s) == SS_PRINTING, "no cancel while printing");
	card_event(s, MSG_CARD_EV_REMOVED, READER);
	T_CHECK(session_state(s) == SS_PRINTING,
	    "the card may leave while printing");
	card_event(s, MSG_CARD_EV_INSERTED, READER);
	session_print_spooled(s, 12);
	T_CHECK(session_state(s) == SS_PRINTING && F.n_print == 1 &&
	    json_is_true(json_object_get(json_object_get(F.screen, "data"),
	    "spooled")), "spooled: still printing, not sent twice");
	session_print_done(s, 1, 2, NULL);
	T_CHECK(session_state(s) == SS_ISSUED, "printed: issued");
	T_CHECK(F.n_settle == 1 && F.settle_outcome == SESSION_PRINTED &&
	    strcmp(F.settle_issuance, ISSUANCE_ID) == 0,
	    "printed: settled as printed");
	T_CHECK(strcmp(screen_str("issuance_id", NULL), ISSUANCE_ID) == 0,
	    "issued screen: the issuance id");
	T_CHECK(F.n_report == 0, "a printed document is not voided");
	T_CHECK(strcmp(F.trail, "options,paying,issuing,verifying,printing,"
	    "printing,issued") == 0, "every screen in order");
	card_event(s, MSG_CARD_EV_REMOVED, "Another Reader 00 00");
	T_CHECK(session_state(s) == SS_ISSUED,
	    "another reader's removal ignored");
	card_event(s, MSG_CARD_EV_REMOVED, READER);
	T_CHECK(session_state(s) == SS_IDLE && session_id(s) == 0,
	    "card taken: idle");
	session_free(s);
}

static void
test_timeouts(void)
{
	static const struct {
		enum session_state st;
		unsigned int secs;
		enum session_state after;
	} want[] = {
		{ SS_SELECT, 11, SS_ABORTED },
		{ SS_CHECKING, 7, SS_ABORTED },
		{ SS_WAIT_CARD, 12, SS_ABORTED },
		{ SS_READ_CARD, 13, SS_ABORTED },
		{ SS_OPEN, 15, SS_ABORTED },
		{ SS_WAIT_PIN, 14, SS_ABORTED },
		{ SS_SIGNING, 15, SS_ABORTED },
		{ SS_AUTH, 15, SS_ABORTED },
		{ SS_OPTIONS, 16, SS_ABORTED },
		{ SS_PAYING, 20, SS_ABORTED },
		{ SS_ISSUING, 17, SS_ABORTED },
		{ SS_VERIFYING, 17, SS_ABORTED },
		{ SS_PRINTING, 21, SS_ABORTED },
		{ SS_ISSUED, 18, SS_IDLE },
		{ SS_ABORTED, 19, SS_IDLE },
	};
	struct session *s;
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		s = fresh();
		drive(s, want[i].st);
		snprintf(name, sizeof(name), "%s: timer %us from the config",
		    session_state_name(want[i].st), want[i].secs);
		T_CHECK(session_state(s) == want[i].st &&
		    F.timer == want[i].secs, name);
		session_timeout(s);
		snprintf(name, sizeof(name), "%s: timeout -> %s",
		    session_state_name(want[i].st),
		    session_state_name(want[i].after));
		T_CHECK(session_state(s) == want[i].after &&
		    (want[i].after != SS_ABORTED ||
		    strcmp(session_abort_code(s), want[i].st == SS_PRINTING ?
		    "print_timeout" : "timeout") == 0), name);
		if (want[i].st == SS_READ_CARD || want[i].st == SS_SIGNING) {
			snprintf(name, sizeof(name), "%s: timeout restarts "
			    "the card worker", session_state_name(want[i].st));
			T_CHECK(F.n_reset == 1, name);
		}
		session_free(s);
	}
	s = fresh();
	drive(s, SS_IDLE);
	T_CHECK(F.timer == 0 && session_fsm(s, SE_TIMEOUT, NULL) ==
	    SESSION_IGNORED, "IDLE has no timeout");
	session_free(s);

	/* the PIN wait ends before the center's challenge does */
	s = fresh();
	drive(s, SS_WAIT_PIN);
	T_CHECK(F.timer == 14, "wait_pin: the config's PIN timeout");
	F.now += 50;
	pin_in(s, "0000", 0);
	signed_(s, MSG_CARD_PIN_WRONG, 2);
	T_CHECK(session_state(s) == SS_WAIT_PIN && F.timer == 7,
	    "wait_pin after 50 s: capped by the challenge (60 s - 3 s)");
	session_free(s);
}

static void
test_cancel(void)
{
	struct session *s;
	char name[96];
	int st;

	for (st = 0; st < SS__MAX; st++) {
		s = fresh();
		drive(s, st);
		snprintf(name, sizeof(name), "cancel in %s",
		    session_state_name(st));
		if (st == SS_IDLE)
			T_CHECK(session_ui_cancel(s) == SESSION_IGNORED &&
			    strcmp(session_ui_error(s), "not_allowed") == 0 &&
			    session_state(s) == SS_IDLE, name);
		else if (st == SS_ISSUED || st == SS_ABORTED)
			T_CHECK(session_ui_cancel(s) == SESSION_OK &&
			    session_state(s) == SS_IDLE, name);
		else if (st == SS_PRINTING)
			T_CHECK(session_ui_cancel(s) == SESSION_IGNORED &&
			    session_state(s) == SS_PRINTING, name);
		else
			T_CHECK(session_ui_cancel(s) == SESSION_OK &&
			    session_state(s) == SS_ABORTED &&
			    strcmp(session_abort_code(s), "cancelled") == 0 &&
			    strcmp(json_string_value(json_object_get(
			    F.screen, "state")), "aborted") == 0, name);
		session_free(s);
	}
	/* a cancel after the issuance, before verification: voided */
	s = fresh();
	drive(s, SS_VERIFYING);
	session_ui_cancel(s);
	T_CHECK(F.n_report == 1 && F.report.outcome == MSG_PRINT_FAILED &&
	    strcmp(F.report.issuance_id, ISSUANCE_ID) == 0,
	    "cancel while verifying: the issuance is voided");
	session_deferred(s);
	T_CHECK(session_state(s) == SS_ABORTED,
	    "a late verification does nothing");
	session_free(s);
}

static void
test_pin(void)
{
	struct session *s = fresh();
	const void *mem;
	char buf[8];
	size_t memlen;

	drive(s, SS_WAIT_PIN);
	memcpy(buf, PIN, 4);
	T_CHECK(session_ui_pin(s, buf, 4, 0) == SESSION_OK,
	    "PIN taken");
	T_CHECK(memcmp(buf, "\0\0\0\0", 4) == 0,
	    "the caller's PIN buffer is wiped");
	mem = session_memory(s, &memlen);
	T_CHECK(memmem(mem, memlen, PIN, 4) == NULL,
	    "the session keeps no copy of the PIN");
	signed_(s, MSG_CARD_PIN_WRONG, 2);
	T_CHECK(session_state(s) == SS_WAIT_PIN && session_tries(s) == 2,
	    "wrong PIN: back to PIN entry, 2 tries left");
	T_CHECK(strcmp(screen_str("error", "code"), "pin_wrong") == 0,
	    "wait_pin screen says the PIN was wrong");
	T_CHECK(F.n_sign == 1, "no retry the resident did not type");
	memcpy(buf, "9999", 4);
	T_CHECK(session_ui_pin(s, buf, 4, 0) == SESSION_OK &&
	    memcmp(buf, "\0\0\0\0", 4) == 0, "second PIN taken and wiped");
	signed_(s, MSG_CARD_PIN_WRONG, 1);
	T_CHECK(session_state(s) == SS_WAIT_PIN && session_tries(s) == 1,
	    "second wrong PIN: 1 try left");
	T_CHECK(json_is_true(json_object_get(json_object_get(F.screen,
	    "data"), "last_try")) &&
	    strcmp(screen_str("warning", "code"), "last_try") == 0,
	    "last try: the screen warns");
	memcpy(buf, PIN, 4);
	T_CHECK(session_ui_pin(s, buf, 4, 0) == SESSION_CONFIRM &&
	    strcmp(session_ui_error(s), "confirm_last_try") == 0 &&
	    session_state(s) == SS_WAIT_PIN && F.n_sign == 2,
	    "last try without confirmation: nothing sent");
	T_CHECK(memcmp(buf, "\0\0\0\0", 4) == 0,
	    "an unconfirmed PIN is wiped too");
	memcpy(buf, PIN, 4);
	T_CHECK(session_ui_pin(s, buf, 4, 1) == SESSION_OK &&
	    session_state(s) == SS_SIGNING && F.n_sign == 3,
	    "last try confirmed: sent");
	signed_(s, MSG_CARD_PIN_WRONG, 0);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "pin_blocked") == 0,
	    "third wrong PIN: blocked, aborted");
	T_CHECK(strstr(screen_str("message", NULL), "municipal office") !=
	    NULL && strstr(screen_str("message_ja", NULL), "窓口") != NULL,
	    "blocked: the city-hall advice in both languages");
	memcpy(buf, PIN, 4);
	T_CHECK(session_ui_pin(s, buf, 4, 1) == SESSION_IGNORED &&
	    F.n_sign == 3 && memcmp(buf, "\0\0\0\0", 4) == 0,
	    "a PIN outside WAIT_PIN: refused, wiped, not sent");
	session_free(s);

	/* a card read with one try left asks first */
	s = fresh();
	drive(s, SS_READ_CARD);
	card_info(s, MSG_CARD_OK, 1, cert_der, cert_len);
	opened(s, MSG_BACKEND_OK);
	T_CHECK(session_state(s) == SS_WAIT_PIN && json_is_true(
	    json_object_get(json_object_get(F.screen, "data"),
	    "confirm_required")), "read with 1 try: confirmation required");
	T_CHECK(pin_in(s, PIN, 0) == SESSION_CONFIRM && F.n_sign == 0,
	    "1 try, unconfirmed: no VERIFY");
	session_free(s);

	/* a blocked card: no PIN asked, nothing sent to the card */
	s = fresh();
	drive(s, SS_READ_CARD);
	card_info(s, MSG_CARD_OK, 0, cert_der, cert_len);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "pin_blocked") == 0 &&
	    F.n_sign == 0 && F.n_open == 0,
	    "blocked card: aborted before any challenge or VERIFY");
	session_free(s);
	s = fresh();
	drive(s, SS_READ_CARD);
	card_info(s, MSG_CARD_PIN_BLOCKED, 0, NULL, 0);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "pin_blocked") == 0,
	    "card worker says blocked: aborted");
	session_free(s);
}

static void
test_workers(void)
{
	struct session *s = fresh();
	uint64_t first;

	drive(s, SS_SIGNING);
	first = session_id(s);
	session_worker_down(s, MSG_ROLE_CARD);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "card_worker_died") == 0,
	    "card worker died while signing: aborted with the reason");
	T_CHECK(session_card_present(s) == 0,
	    "the dead worker's card presence is forgotten");
	fire(s, SE_TIMEOUT);
	T_CHECK(drive(s, SS_ISSUED) && session_id(s) != first,
	    "the next session reaches ISSUED");
	session_free(s);

	s = fresh();
	drive(s, SS_AUTH);
	session_worker_down(s, MSG_ROLE_BACKEND);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "backend_worker_died") == 0,
	    "backend worker died during auth: aborted");
	session_free(s);

	/* a send that fails (worker down at that moment) aborts too */
	s = fresh();
	drive(s, SS_WAIT_CARD);
	F.fail_card = 1;
	card_event(s, MSG_CARD_EV_INSERTED, READER);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "card_worker_died") == 0,
	    "card read cannot be sent: aborted");
	session_free(s);
	s = fresh();
	drive(s, SS_PAYING);
	F.fail_backend = 1;
	fire(s, SE_PAID);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "backend_worker_died") == 0 &&
	    F.n_settle == 1 && F.settle_outcome == SESSION_FAILED,
	    "issue cannot be sent after payment: aborted, settled as failed");
	session_free(s);
	s = fresh();
	drive(s, SS_OPTIONS);
	F.fail_pay = 1;
	fire(s, SE_CONFIRM);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "payment_failed") == 0 &&
	    F.n_issue == 0 && F.n_settle == 1,
	    "payment device unavailable: aborted, nothing issued");
	session_free(s);
	s = fresh();
	drive(s, SS_PAYING);
	fire(s, SE_PAY_FAIL);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(screen_str("reason", NULL), "declined") == 0 &&
	    F.n_issue == 0 && F.n_settle == 1 &&
	    F.settle_outcome == SESSION_FAILED,
	    "payment declined: aborted with the reason, nothing issued");
	session_free(s);
	/* printing: a definite failure, and no answer */
	s = fresh();
	drive(s, SS_PRINTING);
	fire(s, SE_PRINT_FAIL);
	T_CHECK(session_state(s) == SS_ABORTED && F.n_settle == 1 &&
	    F.settle_outcome == SESSION_FAILED &&
	    strcmp(screen_str("reason", NULL), "job_aborted") == 0,
	    "job aborted: settled as failed (void and refund)");
	session_free(s);
	s = fresh();
	drive(s, SS_PRINTING);
	fire(s, SE_TIMEOUT);
	T_CHECK(session_state(s) == SS_ABORTED && F.n_settle == 1 &&
	    F.settle_outcome == SESSION_UNKNOWN &&
	    strcmp(F.settle_reason, "print_timeout") == 0,
	    "print timeout: settled as unknown (CUPS is asked first)");
	session_free(s);
	s = fresh();
	drive(s, SS_PRINTING);
	fire(s, SE_PRINTER_DOWN);
	T_CHECK(session_state(s) == SS_ABORTED && F.n_settle == 1 &&
	    F.settle_outcome == SESSION_UNKNOWN,
	    "printer worker died: settled as unknown");
	session_free(s);
	s = fresh();
	drive(s, SS_VERIFYING);
	F.fail_print = 1;
	fire(s, SE_VERIFY_OK);
	T_CHECK(session_state(s) == SS_ABORTED && F.n_settle == 1 &&
	    F.settle_outcome == SESSION_UNKNOWN &&
	    strcmp(session_abort_code(s), "printer_worker_died") == 0,
	    "print cannot be sent: aborted, CUPS asked before the void");
	session_free(s);
	/* out of service: the idle screen says so, Start is refused */
	s = fresh();
	F.printer_down = 1;
	session_refresh(s);
	T_CHECK(json_is_false(json_object_get(json_object_get(F.screen,
	    "data"), "in_service")) && strcmp(screen_str("printer",
	    "reason"), "media_empty") == 0, "idle: out of service, reason");
	T_CHECK(session_ui_start(s) == SESSION_IGNORED &&
	    strcmp(session_ui_error(s), "out_of_service") == 0 &&
	    session_state(s) == SS_IDLE, "out of service: start refused");
	F.printer_down = 0;
	session_refresh(s);
	T_CHECK(json_is_true(json_object_get(json_object_get(F.screen,
	    "data"), "in_service")) && session_ui_start(s) == SESSION_OK,
	    "back in service by itself");
	session_free(s);

	/* stale answers change nothing */
	s = fresh();
	drive(s, SS_WAIT_PIN);
	card_info(s, MSG_CARD_OK, 3, cert_der, cert_len);
	opened(s, MSG_BACKEND_OK);
	authed(s);
	signed_(s, MSG_CARD_OK, 3);
	T_CHECK(session_state(s) == SS_WAIT_PIN,
	    "answers not awaited in WAIT_PIN are dropped");
	session_free(s);
}

/* The smartphone token: the certificate only after the PIN. */
static void
phone_info(struct session *s, const uint8_t *cert, size_t len)
{
	token_info(s, MSG_CARD_OK, 3, cert, len, 2, MSG_CARD_F_CERT_NEEDS_PIN);
}

static void
test_phone(void)
{
	struct session *s = fresh();

	drive(s, SS_READ_CARD);
	phone_info(s, NULL, 0);
	T_CHECK(session_state(s) == SS_OPEN && strstr(session_name(s),
	    "/phone") != NULL, "phone token: no certificate yet, goes on");
	fire(s, SE_OPEN_OK);
	fire(s, SE_PIN);
	T_CHECK(session_state(s) == SS_SIGNING, "phone token: PIN sent");
	phone_info(s, cert_der, cert_len);
	T_CHECK(session_state(s) == SS_SIGNING,
	    "phone token: certificate taken while signing");
	phone_info(s, cert2_der, cert2_len);
	signed_(s, MSG_CARD_OK, 3);
	T_CHECK(session_state(s) == SS_AUTH && F.auth_certlen == cert_len &&
	    F.auth_cert_last == cert_der[cert_len - 1],
	    "phone token: the center gets the first certificate, not a later one");
	fire(s, SE_AUTH_OK);
	fire(s, SE_CONFIRM);
	fire(s, SE_PAID);
	issued_ok(s);
	session_deferred(s);
	T_CHECK(session_state(s) == SS_PRINTING,
	    "phone token: the document bound to its certificate verifies");
	session_free(s);

	s = fresh();
	drive(s, SS_READ_CARD);
	phone_info(s, NULL, 0);
	fire(s, SE_OPEN_OK);
	fire(s, SE_PIN);
	signed_(s, MSG_CARD_OK, 3);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "card_error") == 0 && F.n_auth == 0,
	    "phone token that never showed its certificate: refused");
	session_free(s);

	s = fresh();
	drive(s, SS_READ_CARD);
	phone_info(s, cert_der, cert_len);
	T_CHECK(session_state(s) == SS_ABORTED,
	    "phone token claiming a certificate before the PIN: refused");
	session_free(s);
}

static void
test_documents(void)
{
	struct session *s;
	char *t;
	const void *mem;
	size_t memlen;

	/* content altered after signing */
	s = fresh();
	drive(s, SS_ISSUING);
	t = content(CENTER_SID, cert_der, cert_len, KIOSK_ID, "juminhyo", 1);
	issued_with(s, t, NULL, 1);
	session_deferred(s);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "document_invalid") == 0,
	    "altered document: aborted");
	T_CHECK(strstr(F.trail, "issued") == NULL,
	    "altered document: no issued screen");
	T_CHECK(F.n_report == 1 && F.report.outcome == MSG_PRINT_FAILED,
	    "altered document: voided at the center");
	session_free(s);

	/* signed by another key */
	s = fresh();
	drive(s, SS_ISSUING);
	issued_with(s, t, otherkey_priv, 0);
	session_deferred(s);
	T_CHECK(session_state(s) == SS_ABORTED && strstr(F.trail, "issued") ==
	    NULL, "document signed by another key: aborted, not issued");
	free(t);
	session_free(s);

	/* genuine, but for another card (the 2023 incidents) */
	s = fresh();
	drive(s, SS_ISSUING);
	t = content(CENTER_SID, cert2_der, cert2_len, KIOSK_ID, "juminhyo", 1);
	issued_with(s, t, NULL, 0);
	free(t);
	session_deferred(s);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "document_invalid") == 0 &&
	    strstr(F.trail, "issued") == NULL && F.n_report == 1,
	    "document for another card: aborted, voided, not issued");
	session_free(s);

	/* genuine content, but its document code is another content's
	   (a code copied from another paper) or forged or missing */
	{
		char other[DOCCODE_TEXT_MAX + 1], *t2;
		struct doccode dc;
		static const char *const what[] = { "another content's code",
		    "a forged code", "no code" };
		int i;

		t2 = content(CENTER_SID, cert2_der, cert2_len, KIOSK_ID,
		    "juminhyo", 1);
		T_CHECK(doccode_from_content(t2, strlen(t2), &dc) == 0 &&
		    doccode_sign(dockey_priv, &dc) == 0 &&
		    doccode_format(&dc, other, sizeof(other)) > 0,
		    "a code for other content");
		free(t2);
		for (i = 0; i < 3; i++) {
			if (i == 1)
				other[strlen(other) - 2] ^= 0x01;
			if (i == 2)
				other[0] = '\0';
			s = fresh();
			drive(s, SS_ISSUING);
			t = content(CENTER_SID, cert_der, cert_len, KIOSK_ID,
			    "juminhyo", 1);
			code_override = other;
			issued_with(s, t, NULL, 0);
			code_override = NULL;
			free(t);
			session_deferred(s);
			T_CHECK(session_state(s) == SS_ABORTED &&
			    strcmp(session_abort_code(s), "document_invalid") ==
			    0 && strstr(F.trail, "issued") == NULL &&
			    F.n_report == 1, what[i]);
			session_free(s);
		}
	}

	/* genuine, but for another session */
	s = fresh();
	drive(s, SS_ISSUING);
	t = content("00000000000000000000000000000000", cert_der, cert_len,
	    KIOSK_ID, "juminhyo", 1);
	issued_with(s, t, NULL, 0);
	free(t);
	session_deferred(s);
	T_CHECK(session_state(s) == SS_ABORTED && strstr(F.trail, "issued") ==
	    NULL, "document for another session: aborted, not issued");
	session_free(s);

	/* genuine, but for another kiosk */
	s = fresh();
	drive(s, SS_ISSUING);
	t = content(CENTER_SID, cert_der, cert_len, "S0002-T01", "juminhyo",
	    1);
	issued_with(s, t, NULL, 0);
	free(t);
	session_deferred(s);
	T_CHECK(session_state(s) == SS_ABORTED && strstr(F.trail, "issued") ==
	    NULL, "document for another kiosk: aborted, not issued");
	mem = session_memory(s, &memlen);
	T_CHECK(memmem(mem, memlen, cert_der + cert_len - 40, 32) == NULL &&
	    memmem(mem, memlen, CENTER_SID, 32) == NULL,
	    "after the abort: no certificate, no center session id in memory");
	session_free(s);

	/* the center refused the issuance: its message is shown */
	s = fresh();
	drive(s, SS_ISSUING);
	issue_fail(s);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "not_eligible") == 0 &&
	    strcmp(screen_str("reason", NULL), "deceased") == 0 &&
	    strcmp(screen_str("message_ja", NULL), "交付できません。") == 0,
	    "issuance refused: the center's code, reason and message");
	session_free(s);
}

static void
test_center_errors(void)
{
	static const char *codes[] = {
		"cert_expired", "cert_revoked", "revocation_unavailable",
		"not_eligible"
	};
	struct session *s;
	char name[96];
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		s = fresh();
		drive(s, SS_AUTH);
		authed_fail(s, codes[i], i == 3 ? "support_measures" : "",
		    "{\"message\":\"Center says no.\",\"message_ja\":"
		    "\"センターの説明。\"}");
		snprintf(name, sizeof(name), "auth refused %s: aborted with "
		    "the center's message", codes[i]);
		T_CHECK(session_state(s) == SS_ABORTED &&
		    strcmp(session_abort_code(s), codes[i]) == 0 &&
		    strcmp(screen_str("message", NULL), "Center says no.") ==
		    0 && strcmp(screen_str("message_ja", NULL),
		    "センターの説明。") == 0, name);
		session_free(s);
	}
	s = fresh();
	drive(s, SS_AUTH);
	authed_fail(s, "cert_expired", "", NULL);
	T_CHECK(strcmp(screen_str("code", NULL), "cert_expired") == 0 &&
	    strstr(screen_str("message", NULL), "expired") != NULL,
	    "no message from the center: the kiosk's own");
	session_free(s);
	s = fresh();
	drive(s, SS_AUTH);
	authed_fail(s, "Bad Code!", "", NULL);
	T_CHECK(strcmp(session_abort_code(s), "center_error") == 0,
	    "a malformed code from the center is not shown");
	session_free(s);
	s = fresh();
	drive(s, SS_AUTH);
	{
		struct msg_backend_auth_result r;

		memset(&r, 0, sizeof(r));
		r.status = MSG_BACKEND_OK;
		session_backend_authed(s, &r, "{\"documents\":1}", 15);
	}
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "center_error") == 0,
	    "a malformed auth answer aborts");
	session_free(s);
}

static void
test_checking(void)
{
	struct session *s;

	s = fresh();
	session_set_conf(s, conf_closed);
	drive(s, SS_CHECKING);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "service_hours") == 0 &&
	    F.n_status == 0 && F.n_read == 0,
	    "outside service hours: refused early, nothing asked");
	session_free(s);

	s = fresh();
	F.card_ready = 0;
	drive(s, SS_CHECKING);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "reader_unavailable") == 0,
	    "card worker not up: refused early");
	session_free(s);

	s = fresh();
	F.backend_ready = 0;
	drive(s, SS_CHECKING);
	T_CHECK(session_state(s) == SS_ABORTED &&
	    strcmp(session_abort_code(s), "center_unreachable") == 0,
	    "backend worker not up: refused early");
	session_free(s);

	/* a card already on the reader is read at once */
	s = fresh();
	card_event(s, MSG_CARD_EV_INSERTED, READER);
	drive(s, SS_CHECKING);
	fire(s, SE_CENTER_UP);
	T_CHECK(session_state(s) == SS_READ_CARD,
	    "a card already present: read at once");
	session_free(s);
}

static struct kiosk_conf *
load(const char *text)
{
	struct kiosk_conf *c;
	char err[1024];

	if (config_load_buf("test.conf", text, strlen(text), &c, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "config: %s\n", err);
		exit(2);
	}
	return c;
}

int
main(void)
{
	static const char *base =
	    "kiosk-id S0001-T01\n"
	    "center {\n url \"https://localhost:8443\"\n"
	    " ca \"/x/ca.crt\"\n client-cert \"/x/k.crt\"\n"
	    " client-key \"/x/k.key\"\n document-key \"/x/d.crt\"\n"
	    " timeout 5s\n}\n"
	    "closed none\n"
	    "timeout select 11s\ntimeout card 12s\ntimeout read 13s\n"
	    "timeout pin 14s\ntimeout auth 15s\ntimeout options 16s\n"
	    "timeout issue 17s\ntimeout remove 18s\ntimeout collect 19s\n"
	    "timeout payment 20s\ntimeout print 21s\n";
	char text[2048];

	log_init("test_session", 0);
	snprintf(text, sizeof(text), "%shours 00:00 - 24:00\n", base);
	conf = load(text);
	/* 2025-06-16 00:06 JST is outside 06:30 - 23:00 */
	snprintf(text, sizeof(text), "%shours 06:30 - 23:00\n", base);
	conf_closed = load(text);
	cert_der = make_cert(0x1234, &cert_len);
	cert2_der = make_cert(0x5678, &cert2_len);
	dockey_priv = ec_key();
	otherkey_priv = ec_key();
	dockey = pin_key(dockey_priv);
	otherkey = pin_key(otherkey_priv);

	test_table();
	test_happy();
	test_timeouts();
	test_cancel();
	test_pin();
	test_workers();
	test_documents();
	test_phone();
	test_center_errors();
	test_checking();

	fake_reset();
	docverify_key_free(dockey);
	docverify_key_free(otherkey);
	EVP_PKEY_free(dockey_priv);
	EVP_PKEY_free(otherkey_priv);
	OPENSSL_free(cert_der);
	OPENSSL_free(cert2_der);
	config_free(conf);
	config_free(conf_closed);
	return t_done();
}
