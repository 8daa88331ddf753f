/*
 * The resident session state machine (session.h, diagram session.dot).
 *
 * One table of transitions; session_fsm() is the only function that
 * changes s->state.  A row names the state, the event, the next state, the
 * default reason when the next state is ABORTED, and an action that takes
 * the event's argument (already validated by the input functions) before
 * the state changes.  Entering a state arms its timer, runs its entry work
 * (requests to the workers) and publishes its screen.  Entry work that
 * finds something at once (a closed kiosk, a card already present, the
 * document verified) posts an event to a small queue that session_fsm()
 * drains, so the machine never recurses.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"
#include "docverify.h"
#include "hex.h"
#include "log.h"
#include "msg.h"
#include "session.h"
#include "util.h"

/* Free what jansson allocated (json_dumps): its own free function, which
   in kioskd wipes. */
static void
json_release(void *p)
{
	json_malloc_t m;
	json_free_t f;

	if (p == NULL)
		return;
	json_get_alloc_funcs(&m, &f);
	f(p);
}

#define PIN_LEN			4
#define QUEUE_MAX		8
#define PRESENT_MAX		16
#define CHALLENGE_MARGIN	3	/* seconds kept for signing + auth */
#define CERT_TAG_LEN		8	/* hex chars of SHA-256(serial) */
#define COPIES_MAX		10
#define CHECK_SLACK		2	/* seconds over the center timeout */
#define JPKI_TRIES_FULL		3	/* user-auth PIN (JPKI.md §5) */

enum action {
	A_NONE = 0,
	A_SELECT,	/* keep the document chosen */
	A_UNAVAILABLE,	/* refused early: code */
	A_CARD_INFO,	/* keep certificate, hash, tries */
	A_CARD_FAIL,	/* card error: code */
	A_CARD_STUCK,	/* timeout while the card worker works: reset it */
	A_OPENED,	/* keep the challenge */
	A_CENTER_FAIL,	/* center error: code, reason, message */
	A_PIN,		/* forward the PIN to the card worker */
	A_SIGNED,	/* keep the signature */
	A_PIN_WRONG,	/* tries left */
	A_AUTHED,	/* keep the documents offered */
	A_OPTIONS,	/* keep the choice */
	A_ISSUED,	/* keep the signed content */
	A_VERIFY_FAIL,	/* detail */
	A_PAY_FAIL,	/* payment code */
	A_SPOOLED,	/* keep the job id */
	A_PRINTED,	/* keep the pages */
	A_PRINT_FAIL	/* print reason */
};

#define ROW(f, e, t)		{ SS_##f, SE_##e, SS_##t, NULL, A_NONE }
#define ROWA(f, e, t, a)	{ SS_##f, SE_##e, SS_##t, NULL, A_##a }
#define ABORT(f, e, c)		{ SS_##f, SE_##e, SS_ABORTED, (c), A_NONE }
#define ABORTA(f, e, c, a)	{ SS_##f, SE_##e, SS_ABORTED, (c), A_##a }
/* What aborts every state of a transaction in flight. */
#define ABORTS(f) \
	ABORT(f, CANCEL, "cancelled"), \
	ABORT(f, TIMEOUT, "timeout"), \
	ABORT(f, CARD_DOWN, "card_worker_died"), \
	ABORT(f, BACKEND_DOWN, "backend_worker_died")
#define ABORTS_CARD(f) \
	ABORTS(f), \
	ABORT(f, CARD_REMOVED, "card_removed")

static const struct session_transition table[] = {
	ROW(IDLE, START, SELECT),

	ROWA(SELECT, SELECT, CHECKING, SELECT),
	ABORTS(SELECT),

	ABORTA(CHECKING, UNAVAILABLE, "unavailable", UNAVAILABLE),
	ROW(CHECKING, CENTER_UP, WAIT_CARD),
	ABORT(CHECKING, CENTER_DOWN, "center_unreachable"),
	ABORTS(CHECKING),

	ROW(WAIT_CARD, CARD_INSERTED, READ_CARD),
	ABORTS(WAIT_CARD),

	ROWA(READ_CARD, READ_OK, OPEN, CARD_INFO),
	ABORT(READ_CARD, READ_BLOCKED, "pin_blocked"),
	ABORTA(READ_CARD, READ_FAIL, "card_error", CARD_FAIL),
	ABORT(READ_CARD, CANCEL, "cancelled"),
	ABORTA(READ_CARD, TIMEOUT, "timeout", CARD_STUCK),
	ABORT(READ_CARD, CARD_DOWN, "card_worker_died"),
	ABORT(READ_CARD, BACKEND_DOWN, "backend_worker_died"),
	ABORT(READ_CARD, CARD_REMOVED, "card_removed"),

	ROWA(OPEN, OPEN_OK, WAIT_PIN, OPENED),
	ABORTA(OPEN, OPEN_FAIL, "center_error", CENTER_FAIL),
	ABORTS_CARD(OPEN),

	ROWA(WAIT_PIN, PIN, SIGNING, PIN),
	ABORTS_CARD(WAIT_PIN),

	ROWA(SIGNING, SIGN_OK, AUTH, SIGNED),
	ROWA(SIGNING, PIN_WRONG, WAIT_PIN, PIN_WRONG),
	ABORT(SIGNING, PIN_BLOCKED, "pin_blocked"),
	ABORTA(SIGNING, SIGN_FAIL, "card_error", CARD_FAIL),
	ABORT(SIGNING, CANCEL, "cancelled"),
	ABORTA(SIGNING, TIMEOUT, "timeout", CARD_STUCK),
	ABORT(SIGNING, CARD_DOWN, "card_worker_died"),
	ABORT(SIGNING, BACKEND_DOWN, "backend_worker_died"),
	ABORT(SIGNING, CARD_REMOVED, "card_removed"),

	ROWA(AUTH, AUTH_OK, OPTIONS, AUTHED),
	ABORTA(AUTH, AUTH_FAIL, "center_error", CENTER_FAIL),
	ABORTS_CARD(AUTH),

	ROWA(OPTIONS, OPTIONS, OPTIONS, OPTIONS),
	ROW(OPTIONS, CONFIRM, PAYING),
	ABORTS_CARD(OPTIONS),

	ROW(PAYING, PAID, ISSUING),
	ABORTA(PAYING, PAY_FAIL, "payment_failed", PAY_FAIL),
	ABORTA(PAYING, UNAVAILABLE, "unavailable", UNAVAILABLE),
	ABORTS_CARD(PAYING),

	ROWA(ISSUING, ISSUE_OK, VERIFYING, ISSUED),
	ABORTA(ISSUING, ISSUE_FAIL, "center_error", CENTER_FAIL),
	ABORTS_CARD(ISSUING),

	ROW(VERIFYING, VERIFY_OK, PRINTING),
	ABORTA(VERIFYING, VERIFY_FAIL, "document_invalid", VERIFY_FAIL),
	ABORTS_CARD(VERIFYING),

	/* The paper is on its way: no cancel, the card may leave. */
	ROWA(PRINTING, SPOOLED, PRINTING, SPOOLED),
	ROWA(PRINTING, PRINTED, ISSUED, PRINTED),
	ABORTA(PRINTING, PRINT_FAIL, "print_failed", PRINT_FAIL),
	ABORT(PRINTING, TIMEOUT, "print_timeout"),
	ABORT(PRINTING, PRINTER_DOWN, "printer_worker_died"),

	ROW(ISSUED, CARD_REMOVED, IDLE),
	ROW(ISSUED, TIMEOUT, IDLE),
	ROW(ISSUED, DONE, IDLE),
	ROW(ISSUED, CANCEL, IDLE),

	ROW(ABORTED, TIMEOUT, IDLE),
	ROW(ABORTED, DONE, IDLE),
	ROW(ABORTED, CANCEL, IDLE),
	ROW(ABORTED, START, SELECT),
};

#undef ROW
#undef ROWA
#undef ABORT
#undef ABORTA
#undef ABORTS
#undef ABORTS_CARD

static const char *state_names[SS__MAX] = {
	"IDLE", "SELECT", "CHECKING", "WAIT_CARD", "READ_CARD", "OPEN",
	"WAIT_PIN", "SIGNING", "AUTH", "OPTIONS", "PAYING", "ISSUING",
	"VERIFYING", "PRINTING", "ISSUED", "ABORTED"
};

static const char *state_wire[SS__MAX] = {
	"idle", "select", "checking", "wait_card", "read_card", "open",
	"wait_pin", "signing", "auth", "options", "paying", "issuing",
	"verifying", "printing", "issued", "aborted"
};

static const char *event_names[SE__MAX] = {
	"START", "SELECT", "UNAVAILABLE", "CENTER_UP", "CENTER_DOWN",
	"CARD_INSERTED", "CARD_REMOVED", "READ_OK", "READ_BLOCKED",
	"READ_FAIL", "OPEN_OK", "OPEN_FAIL", "PIN", "SIGN_OK", "PIN_WRONG",
	"PIN_BLOCKED", "SIGN_FAIL", "AUTH_OK", "AUTH_FAIL", "OPTIONS",
	"CONFIRM", "ISSUE_OK", "ISSUE_FAIL", "VERIFY_OK", "VERIFY_FAIL",
	"DONE", "CANCEL", "TIMEOUT", "CARD_DOWN", "BACKEND_DOWN", "PAID",
	"PAY_FAIL", "SPOOLED", "PRINTED", "PRINT_FAIL", "PRINTER_DOWN"
};

/* The documents a kiosk knows (API.md); the center says which it offers. */
static const struct doctype {
	const char	*type;
	const char	*title_ja;
	const char	*title_en;
} doctypes[] = {
	{ "juminhyo", "住民票の写し", "Certificate of residence" },
	{ "juminhyo_kisai", "住民票記載事項証明書",
	    "Certificate of resident register entries" },
	{ "inkan", "印鑑登録証明書", "Seal registration certificate" },
	{ "koseki_zenbu", "戸籍全部事項証明書",
	    "Family register certificate (all entries)" },
	{ "koseki_kojin", "戸籍個人事項証明書",
	    "Family register certificate (one person)" },
	{ "koseki_fuhyo", "戸籍の附票の写し",
	    "Family register residence record" },
	{ "tax_shotoku", "所得・課税証明書", "Income and tax certificate" },
};

/* Reasons a session ends, in both languages (the center's own message
   wins for the center's codes when it sent one). */
static const struct reason {
	const char	*code;
	const char	*en;
	const char	*ja;
} reasons[] = {
	{ "cancelled", "The transaction was cancelled.",
	    "お取引を中止しました。" },
	{ "timeout", "The transaction was ended because no operation was "
	    "made in time.",
	    "一定時間操作がなかったため、お取引を終了しました。" },
	{ "service_hours", "This service is not available at this time of "
	    "day.", "ただいまの時間帯はご利用いただけません。" },
	{ "service_closed", "This service is closed today.",
	    "本日はご利用いただけません。" },
	{ "reader_unavailable", "The card reader is not available. Please "
	    "ask the store staff.",
	    "カードリーダーが利用できません。店員にお知らせください。" },
	{ "center_unreachable", "The issuance center cannot be reached. "
	    "Please try again later.",
	    "証明書交付センターに接続できません。しばらくしてからお試しください。" },
	{ "center_error", "The issuance center could not process the "
	    "request. Please try again later.",
	    "証明書交付センターで処理できませんでした。しばらくしてからお試しください。" },
	{ "card_removed", "The card was removed before the transaction "
	    "ended.", "お取引の途中でカードが取り出されました。" },
	{ "card_error", "The card could not be read. Please place it "
	    "again and retry.",
	    "カードを読み取れませんでした。置き直して再度お試しください。" },
	{ "not_jpki", "This card cannot be used. Please use a My Number "
	    "card with a valid user-authentication certificate.",
	    "ご利用いただけないカードです。有効な利用者証明用電子証明書が"
	    "搭載されたマイナンバーカードをご利用ください。" },
	{ "token_unsupported", "This kind of card or device is not "
	    "supported by this kiosk.",
	    "このカード・端末はこのキオスクではご利用いただけません。" },
	{ "card_changed", "The card was changed during the transaction.",
	    "お取引の途中でカードが変わりました。" },
	{ "pin_blocked", "The PIN is locked after 3 wrong entries. Please "
	    "have it reset at the counter of your municipal office (city "
	    "hall).",
	    "暗証番号が3回連続で誤って入力されたため、ロックされています。"
	    "お住まいの市区町村の窓口で暗証番号の再設定を行ってください。" },
	{ "card_worker_died", "The card reader stopped unexpectedly. "
	    "Please try again.",
	    "カードリーダーの処理が中断されました。もう一度お試しください。" },
	{ "backend_worker_died", "The connection to the issuance center "
	    "stopped unexpectedly. Please try again.",
	    "証明書交付センターとの通信が中断されました。もう一度お試しください。" },
	{ "document_invalid", "The document received failed its "
	    "verification; nothing was issued.",
	    "交付データの検証に失敗したため、交付を中止しました。" },
	{ "cert_expired", "The user-authentication certificate of this "
	    "card has expired. Please renew it at your municipal office.",
	    "利用者証明用電子証明書の有効期限が切れています。市区町村の窓口で"
	    "更新してください。" },
	{ "cert_not_yet_valid", "The user-authentication certificate of "
	    "this card is not valid yet. Please try again tomorrow.",
	    "利用者証明用電子証明書はまだ有効ではありません。明日以降にお試しください。" },
	{ "cert_revoked", "The user-authentication certificate of this "
	    "card has been revoked. Please contact your municipal office.",
	    "利用者証明用電子証明書は失効しています。市区町村の窓口にお問い合わせください。" },
	{ "revocation_unavailable", "The certificate cannot be checked "
	    "right now. Please try again later.",
	    "現在、電子証明書の有効性を確認できません。しばらくしてからお試しください。" },
	{ "not_eligible", "Certificates cannot be issued for this card at "
	    "this kiosk. Please ask at your municipal office.",
	    "このカードではコンビニ交付をご利用いただけません。市区町村の窓口にお問い合わせください。" },
	{ "unknown_certificate", "This card is not registered with this "
	    "service. Please ask at your municipal office.",
	    "このカードはご利用いただけません。市区町村の窓口にお問い合わせください。" },
	{ "printer_unavailable", "The printer cannot print right now; no "
	    "fee was taken. Please ask the store staff or try again later.",
	    "ただいまプリンターをご利用いただけません（料金はいただいておりません）。"
	    "店員にお知らせいただくか、しばらくしてからお試しください。" },
	{ "out_of_service", "This kiosk is out of service for the moment.",
	    "ただいまこの端末はご利用いただけません。" },
	{ "payment_failed", "The fee could not be paid; nothing was "
	    "charged.", "料金のお支払いができませんでした。料金はいただいておりません。" },
	{ "print_failed", "The document could not be printed. The fee is "
	    "refunded and nothing was issued.",
	    "証明書を印刷できませんでした。料金は返金し、交付は取り消しました。" },
	{ "print_timeout", "Printing took too long and was stopped. The fee "
	    "is refunded unless the document was printed.",
	    "印刷に時間がかかりすぎたため中止しました。印刷されていない場合は料金を返金します。" },
	{ "printer_worker_died", "The printer stopped unexpectedly. The fee "
	    "is refunded unless the document was printed.",
	    "プリンターの処理が中断されました。印刷されていない場合は料金を返金します。" },
	{ "internal", "An internal error occurred. Please try again.",
	    "内部エラーが発生しました。もう一度お試しください。" },
};

static const char *last_try_en =
    "This is your last try: a wrong PIN now locks the card, and it must "
    "then be reset at your municipal office.";
static const char *last_try_ja =
    "次に誤った暗証番号を入力するとロックされ、市区町村の窓口での再設定が"
    "必要になります。";
static const char *expiry_en =
    "Your user-authentication certificate expires within 3 months. "
    "Renewal is possible at your municipal office.";
static const char *expiry_ja =
    "利用者証明用電子証明書の有効期限が3か月以内に到来します。"
    "市区町村の窓口で更新できます。";
static const char *collect_en = "The document was printed. Please take "
    "your card and the papers.";
static const char *collect_ja =
    "証明書を交付しました。カードと証明書をお取りください。";

struct session_abort {
	char	code[SESSION_CODE_MAX + 1];
	char	reason[SESSION_CODE_MAX + 1];
	char	message[SESSION_MSG_MAX + 1];
	char	message_ja[SESSION_MSGJA_MAX + 1];
	char	from[16];		/* state wire name it left */
};

struct qitem {
	enum session_event	 ev;
	const void		*arg;
};

struct session {
	enum session_state	 state;
	const struct kiosk_conf	*conf;
	const struct docverify_key *dockey;
	const struct session_ops *ops;
	void			*arg;

	uint64_t		 id;
	char			 name[SESSION_ID_HEX + 1 + CERT_TAG_LEN + 1];
	char			 document[MSG_DOCTYPE_LEN];
	const char		*ui_error;

	/* the card */
	char			 present[PRESENT_MAX][MSG_READER_LEN];
	char			 reader[MSG_READER_LEN];
	uint8_t			 cert[MSG_CERT_MAX];
	size_t			 cert_len;
	uint8_t			 cert_sha256[32];
	int			 tries;
	int			 pin_wrong;	/* the last PIN was wrong */
	int			 confirm_asked;

	/* the center */
	char			 center_sid[MSG_CENTER_ID_LEN];
	uint8_t			 challenge[MSG_CHALLENGE_MAX];
	size_t			 challenge_len;
	time_t			 challenge_until;
	uint8_t			 sig[MSG_SIG_MAX];
	size_t			 sig_len;
	json_t			*auth;		/* the 200 body, parsed */

	/* the choice */
	int			 has_choice;
	char			 choice_doc[MSG_DOCTYPE_LEN];
	char			*choice_options;	/* compact JSON */
	int			 copies;
	long long		 fee_yen;
	char			 idem_key[MSG_IDEMKEY_LEN];

	/* the issuance */
	char			 issuance_id[MSG_CENTER_ID_LEN];
	uint8_t			*content;
	size_t			 content_len;
	uint8_t			 docsig[DOCVERIFY_MAX_SIG + 8];
	size_t			 docsig_len;
	char			 doccode[MSG_DOCCODE_LEN];	/* printed */
	int			 verified;

	/* payment and printing */
	int			 paying;	/* pay asked: settle at the end */
	int			 print_sent;
	long long		 job_id;	/* 0 until spooled */
	int			 pages;
	char			 issued_at[40];
	char			 verify_detail[200];

	struct session_abort	 abort;

	int			 in_fsm;
	struct qitem		 queue[QUEUE_MAX];
	size_t			 qhead, qlen;
};

/* Arguments of the events that carry one (validated by the inputs). */
struct arg_card {
	const struct msg_card_info	*info;
	const uint8_t			*cert;
	size_t				 certlen;
	char				 tag[CERT_TAG_LEN + 1];
};

struct arg_center {
	int32_t				 status;
	const struct msg_backend_error	*error;
	const char			*errjson;
	size_t				 errlen;
};

struct arg_pin {
	const char	*pin;
	size_t		 len;
};

struct arg_options {
	const char	*doc;
	char		*options;	/* taken by the action */
	int		 copies;
	long long	 fee;
};

struct arg_issue {
	const struct msg_backend_issue_result	*res;
	const uint8_t				*content;
	const uint8_t				*sig;
};

static void	 change_state(struct session *, enum session_state);
static int	 printer_ready(struct session *);

/* --- names and lookups -------------------------------------------------- */

const char *
session_state_name(enum session_state st)
{
	if ((unsigned int)st >= SS__MAX)
		return "INVALID";
	return state_names[st];
}

const char *
session_state_wire(enum session_state st)
{
	if ((unsigned int)st >= SS__MAX)
		return "invalid";
	return state_wire[st];
}

const char *
session_event_name(enum session_event ev)
{
	if ((unsigned int)ev >= SE__MAX)
		return "INVALID";
	return event_names[ev];
}

const struct session_transition *
session_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

static const struct doctype *
doctype_find(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(doctypes) / sizeof(doctypes[0]); i++)
		if (strcmp(doctypes[i].type, type) == 0)
			return &doctypes[i];
	return NULL;
}

static const struct reason *
reason_find(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].code, code) == 0)
			return &reasons[i];
	return NULL;
}

/* A code from a peer: [a-z0-9_], 1..31 chars. */
static int
code_ok(const char *s, size_t size)
{
	size_t i, n;

	if (!msg_str_ok(s, size) || (n = strlen(s)) == 0 ||
	    n > SESSION_CODE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

unsigned int
session_state_timeout(const struct session *s, enum session_state st)
{
	const struct kiosk_conf *c = s->conf;
	unsigned int t = 0;
	time_t now;

	switch (st) {
	case SS_IDLE:
	case SS__MAX:
		return 0;
	case SS_SELECT:
		return config_timeout(c, CONF_TO_SELECT);
	case SS_CHECKING:
		return c->center.timeout + CHECK_SLACK;
	case SS_WAIT_CARD:
		return config_timeout(c, CONF_TO_CARD);
	case SS_READ_CARD:
		return config_timeout(c, CONF_TO_READ);
	case SS_OPEN:
	case SS_SIGNING:
	case SS_AUTH:
		return config_timeout(c, CONF_TO_AUTH);
	case SS_WAIT_PIN:
		t = config_timeout(c, CONF_TO_PIN);
		/* the challenge must still be good when the card has signed */
		if (s->challenge_until != 0) {
			now = s->ops->now(s->arg);
			if (s->challenge_until - CHALLENGE_MARGIN - now <
			    (time_t)t)
				t = s->challenge_until - CHALLENGE_MARGIN >
				    now ? (unsigned int)(s->challenge_until -
				    CHALLENGE_MARGIN - now) : 1;
		}
		return t;
	case SS_OPTIONS:
		return config_timeout(c, CONF_TO_OPTIONS);
	case SS_PAYING:
		return config_timeout(c, CONF_TO_PAYMENT);
	case SS_ISSUING:
	case SS_VERIFYING:
		return config_timeout(c, CONF_TO_ISSUE);
	case SS_PRINTING:
		return config_timeout(c, CONF_TO_PRINT);
	case SS_ISSUED:
		return config_timeout(c, CONF_TO_REMOVE);
	case SS_ABORTED:
		return config_timeout(c, CONF_TO_COLLECT);
	}
	return 0;
}

/* --- life cycle ------------------------------------------------------------ */

struct session *
session_new(const struct kiosk_conf *conf, const struct docverify_key *key,
    const struct session_ops *ops, void *arg)
{
	struct session *s;

	if (conf == NULL || ops == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->conf = conf;
	s->dockey = key;
	s->ops = ops;
	s->arg = arg;
	s->state = SS_IDLE;
	s->tries = -1;
	s->ui_error = "";
	snprintf(s->name, sizeof(s->name), "-");
	return s;
}

/* Forget everything of the transaction; the abort reason survives. */
static void
wipe(struct session *s)
{
	if (s->auth != NULL) {
		json_decref(s->auth);
		s->auth = NULL;
	}
	if (s->choice_options != NULL) {
		secure_wipe(s->choice_options, strlen(s->choice_options));
		json_release(s->choice_options);
		s->choice_options = NULL;
	}
	if (s->content != NULL) {
		secure_wipe(s->content, s->content_len);
		free(s->content);
		s->content = NULL;
	}
	s->content_len = 0;
	secure_wipe(s->cert, sizeof(s->cert));
	s->cert_len = 0;
	secure_wipe(s->cert_sha256, sizeof(s->cert_sha256));
	secure_wipe(s->center_sid, sizeof(s->center_sid));
	secure_wipe(s->challenge, sizeof(s->challenge));
	s->challenge_len = 0;
	s->challenge_until = 0;
	secure_wipe(s->sig, sizeof(s->sig));
	s->sig_len = 0;
	secure_wipe(s->docsig, sizeof(s->docsig));
	s->docsig_len = 0;
	memset(s->issuance_id, 0, sizeof(s->issuance_id));
	memset(s->doccode, 0, sizeof(s->doccode));
	memset(s->idem_key, 0, sizeof(s->idem_key));
	memset(s->choice_doc, 0, sizeof(s->choice_doc));
	memset(s->issued_at, 0, sizeof(s->issued_at));
	memset(s->verify_detail, 0, sizeof(s->verify_detail));
	s->has_choice = 0;
	s->copies = 0;
	s->fee_yen = 0;
	s->verified = 0;
	s->paying = 0;
	s->print_sent = 0;
	s->job_id = 0;
	s->pages = 0;
	s->tries = -1;
	s->pin_wrong = 0;
	s->confirm_asked = 0;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	wipe(s);
	secure_wipe(s, sizeof(*s));
	free(s);
}

void
session_set_conf(struct session *s, const struct kiosk_conf *conf)
{
	s->conf = conf;
}

void
session_set_dockey(struct session *s, const struct docverify_key *key)
{
	s->dockey = key;
}

enum session_state
session_state(const struct session *s)
{
	return s->state;
}

uint64_t
session_id(const struct session *s)
{
	return s->id;
}

const char *
session_name(const struct session *s)
{
	return s->name;
}

const char *
session_abort_code(const struct session *s)
{
	return s->abort.code;
}

const void *
session_memory(const struct session *s, size_t *len)
{
	*len = sizeof(*s);
	return s;
}

int
session_tries(const struct session *s)
{
	return s->tries;
}

const char *
session_ui_error(const struct session *s)
{
	return s->ui_error;
}

/* --- the abort reason --------------------------------------------------- */

static void
set_abort(struct session *s, const char *code, const char *reason,
    const char *en, const char *ja)
{
	const struct reason *r;

	memset(&s->abort, 0, sizeof(s->abort));
	if (code == NULL || !code_ok(code, strlen(code) + 1))
		code = "internal";
	snprintf(s->abort.code, sizeof(s->abort.code), "%s", code);
	if (reason != NULL && code_ok(reason, strlen(reason) + 1))
		snprintf(s->abort.reason, sizeof(s->abort.reason), "%s",
		    reason);
	if ((r = reason_find(code)) == NULL)
		r = reason_find(strncmp(code, "card", 4) == 0 ?
		    "card_error" : "center_error");
	/* A message too long for the screen is replaced, not truncated
	   (UTF-8 must not be cut). */
	if (en != NULL && en[0] != '\0' && strlen(en) <= SESSION_MSG_MAX)
		snprintf(s->abort.message, sizeof(s->abort.message), "%s", en);
	else
		snprintf(s->abort.message, sizeof(s->abort.message), "%s",
		    r->en);
	if (ja != NULL && ja[0] != '\0' && strlen(ja) <= SESSION_MSGJA_MAX)
		snprintf(s->abort.message_ja, sizeof(s->abort.message_ja),
		    "%s", ja);
	else
		snprintf(s->abort.message_ja, sizeof(s->abort.message_ja),
		    "%s", r->ja);
}

static const char *
card_status_code(int32_t st)
{
	switch (st) {
	case MSG_CARD_NO_SERVICE:
	case MSG_CARD_NO_READER:
		return "reader_unavailable";
	case MSG_CARD_NO_CARD:
	case MSG_CARD_REMOVED:
		return "card_removed";
	case MSG_CARD_NOT_JPKI:
		return "not_jpki";
	case MSG_CARD_PIN_BLOCKED:
		return "pin_blocked";
	case MSG_CARD_ABORTED:
		return "card_changed";
	case MSG_CARD_INTERNAL:
		return "internal";
	default:
		return "card_error";
	}
}

/* --- the event queue and the one function that changes state ----------- */

static void
post(struct session *s, enum session_event ev, const void *arg)
{
	size_t i;

	if (s->qlen == QUEUE_MAX) {
		log_warnx("session %s: event queue full, %s dropped", s->name,
		    session_event_name(ev));
		return;
	}
	i = (s->qhead + s->qlen) % QUEUE_MAX;
	s->queue[i].ev = ev;
	s->queue[i].arg = arg;
	s->qlen++;
}

static const struct session_transition *
lookup(enum session_state st, enum session_event ev)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].from == st && table[i].event == ev)
			return &table[i];
	return NULL;
}

static int	run_action(struct session *, int, const void *);

static enum session_rc
fsm_one(struct session *s, enum session_event ev, const void *arg)
{
	const struct session_transition *t;

	if ((t = lookup(s->state, ev)) == NULL) {
		log_debug("session %s: %s ignored in %s", s->name,
		    session_event_name(ev), session_state_name(s->state));
		return SESSION_IGNORED;
	}
	if (t->to == SS_ABORTED) {
		set_abort(s, t->abort_code, NULL, NULL, NULL);
		snprintf(s->abort.from, sizeof(s->abort.from), "%s",
		    session_state_wire(s->state));
	}
	if (run_action(s, t->action, arg) == -1) {
		if (t->to != SS_ABORTED) {
			set_abort(s, "internal", NULL, NULL, NULL);
			snprintf(s->abort.from, sizeof(s->abort.from), "%s",
			    session_state_wire(s->state));
		}
		log_warnx("session %s: %s in %s failed", s->name,
		    session_event_name(ev), session_state_name(s->state));
		change_state(s, SS_ABORTED);
		return SESSION_OK;
	}
	log_info("session %s: %s -> %s (%s)%s%s", s->name,
	    session_state_name(s->state), session_state_name(t->to),
	    session_event_name(ev), t->to == SS_ABORTED ? " reason " : "",
	    t->to == SS_ABORTED ? s->abort.code : "");
	change_state(s, t->to);
	return SESSION_OK;
}

enum session_rc
session_fsm(struct session *s, enum session_event ev, const void *arg)
{
	enum session_rc rc;
	struct qitem q;

	if ((unsigned int)ev >= SE__MAX)
		return SESSION_BAD_INPUT;
	if (s->in_fsm) {
		post(s, ev, arg);
		return SESSION_OK;
	}
	s->in_fsm = 1;
	rc = fsm_one(s, ev, arg);
	while (s->qlen > 0) {
		q = s->queue[s->qhead];
		s->qhead = (s->qhead + 1) % QUEUE_MAX;
		s->qlen--;
		(void)fsm_one(s, q.ev, q.arg);
	}
	s->in_fsm = 0;
	return rc;
}

/* --- actions (the event's argument into the session) ------------------- */

static int
act_card_info(struct session *s, const struct arg_card *a)
{
	/* a smartphone token shows its certificate only after the PIN
	   (certlen 0 here; session_card_info() takes it while SIGNING) */
	if (a->certlen > 0)
		memcpy(s->cert, a->cert, a->certlen);
	s->cert_len = a->certlen;
	if (a->certlen == 0)
		memset(s->cert_sha256, 0, sizeof(s->cert_sha256));
	else if (EVP_Digest(s->cert, s->cert_len, s->cert_sha256, NULL,
	    EVP_sha256(), NULL) != 1)
		return -1;
	if (msg_str_ok(a->info->reader, sizeof(a->info->reader)))
		snprintf(s->reader, sizeof(s->reader), "%s", a->info->reader);
	s->tries = a->info->pin_tries;
	snprintf(s->name, sizeof(s->name), "%016llx/%s",
	    (unsigned long long)s->id, a->tag);
	return 0;
}

static int
act_opened(struct session *s, const struct msg_backend_session_result *r)
{
	memcpy(s->center_sid, r->center_sid, sizeof(s->center_sid));
	memcpy(s->challenge, r->challenge, r->challenge_len);
	s->challenge_len = r->challenge_len;
	s->challenge_until = s->ops->now(s->arg) + (time_t)r->expires_in;
	return 0;
}

static void
act_center_fail(struct session *s, const struct arg_center *a)
{
	json_t *j = NULL, *v;
	const char *en = NULL, *ja = NULL, *code;

	switch (a->status) {
	case MSG_BACKEND_CENTER_ERROR:
		code = code_ok(a->error->code, sizeof(a->error->code)) ?
		    a->error->code : "center_error";
		break;
	case MSG_BACKEND_UNREACHABLE:
	case MSG_BACKEND_TLS:
	case MSG_BACKEND_TIMEOUT:
		code = "center_unreachable";
		break;
	case MSG_BACKEND_INTERNAL:
		code = "internal";
		break;
	default:
		code = "center_error";
		break;
	}
	if (a->status == MSG_BACKEND_CENTER_ERROR && a->errjson != NULL &&
	    a->errlen > 0 && (j = json_loadb(a->errjson, a->errlen,
	    JSON_REJECT_DUPLICATES, NULL)) != NULL && json_is_object(j)) {
		if ((v = json_object_get(j, "message")) != NULL &&
		    json_is_string(v))
			en = json_string_value(v);
		if ((v = json_object_get(j, "message_ja")) != NULL &&
		    json_is_string(v))
			ja = json_string_value(v);
	}
	set_abort(s, code, a->status == MSG_BACKEND_CENTER_ERROR &&
	    a->error->reason[0] != '\0' && msg_str_ok(a->error->reason,
	    sizeof(a->error->reason)) ? a->error->reason : NULL, en, ja);
	snprintf(s->abort.from, sizeof(s->abort.from), "%s",
	    session_state_wire(s->state));
	if (j != NULL)
		json_decref(j);
}

static int
act_pin(struct session *s, const struct arg_pin *a)
{
	struct msg_card_sign_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	memcpy(req.pin, a->pin, a->len);
	req.pin_len = (uint32_t)a->len;
	req.challenge_len = (uint32_t)s->challenge_len;
	memcpy(req.challenge, s->challenge, s->challenge_len);
	s->pin_wrong = 0;
	s->confirm_asked = 0;
	rc = s->ops->card_sign(s->arg, s->id, &req);
	secure_wipe(&req, sizeof(req));
	if (rc == -1)
		post(s, SE_CARD_DOWN, NULL);
	return 0;
}

static int
act_authed(struct session *s, json_t *auth)
{
	json_incref(auth);
	s->auth = auth;
	return 0;
}

static int
act_options(struct session *s, struct arg_options *a)
{
	if (s->choice_options != NULL) {
		secure_wipe(s->choice_options, strlen(s->choice_options));
		json_release(s->choice_options);
	}
	s->choice_options = a->options;
	a->options = NULL;
	snprintf(s->choice_doc, sizeof(s->choice_doc), "%s", a->doc);
	s->copies = a->copies;
	s->fee_yen = a->fee;
	s->has_choice = 1;
	return 0;
}

static int
act_issued(struct session *s, const struct arg_issue *a)
{
	memcpy(s->issuance_id, a->res->issuance_id, sizeof(s->issuance_id));
	if ((s->content = malloc(a->res->content_len)) == NULL)
		return -1;
	memcpy(s->content, a->content, a->res->content_len);
	s->content_len = a->res->content_len;
	memcpy(s->docsig, a->sig, a->res->sig_len);
	s->docsig_len = a->res->sig_len;
	memcpy(s->doccode, a->res->code, sizeof(s->doccode));
	return 0;
}

static int
run_action(struct session *s, int action, const void *arg)
{
	switch (action) {
	case A_NONE:
		return 0;
	case A_SELECT:
		snprintf(s->document, sizeof(s->document), "%s",
		    (const char *)arg);
		return 0;
	case A_UNAVAILABLE:
		set_abort(s, arg, NULL, NULL, NULL);
		snprintf(s->abort.from, sizeof(s->abort.from), "checking");
		return 0;
	case A_CARD_INFO:
		return act_card_info(s, arg);
	case A_CARD_FAIL:
		set_abort(s, arg, NULL, NULL, NULL);
		snprintf(s->abort.from, sizeof(s->abort.from), "%s",
		    session_state_wire(s->state));
		return 0;
	case A_CARD_STUCK:
		/* blocked in a PC/SC call: a new worker is cleaner */
		s->ops->card_reset(s->arg, "card operation timed out");
		return 0;
	case A_OPENED:
		return act_opened(s, arg);
	case A_CENTER_FAIL:
		act_center_fail(s, arg);
		return 0;
	case A_PIN:
		return act_pin(s, arg);
	case A_SIGNED: {
		const struct msg_card_sign_result *r = arg;

		memcpy(s->sig, r->sig, r->sig_len);
		s->sig_len = r->sig_len;
		s->tries = JPKI_TRIES_FULL;
		return 0;
	}
	case A_PIN_WRONG: {
		const struct msg_card_sign_result *r = arg;

		s->tries = r->tries_left;
		s->pin_wrong = 1;
		return 0;
	}
	case A_AUTHED:
		return act_authed(s, (json_t *)(uintptr_t)arg);
	case A_OPTIONS:
		return act_options(s, (struct arg_options *)(uintptr_t)arg);
	case A_ISSUED:
		return act_issued(s, arg);
	case A_VERIFY_FAIL:
		return 0;
	case A_PAY_FAIL:
		set_abort(s, "payment_failed", arg, NULL, NULL);
		snprintf(s->abort.from, sizeof(s->abort.from), "paying");
		return 0;
	case A_SPOOLED:
		s->job_id = *(const long long *)arg;
		return 0;
	case A_PRINTED:
		s->pages = *(const int *)arg;
		return 0;
	case A_PRINT_FAIL:
		set_abort(s, "print_failed", arg, NULL, NULL);
		snprintf(s->abort.from, sizeof(s->abort.from), "printing");
		return 0;
	}
	return -1;
}

/* --- entering a state --------------------------------------------------- */

static void
new_id(struct session *s)
{
	uint64_t id = 0;

	while (id == 0) {
		if (s->ops->random(s->arg, &id, sizeof(id)) == -1)
			fatalx("no random bytes for a session id");
	}
	s->id = id;
	snprintf(s->name, sizeof(s->name), "%016llx", (unsigned long long)id);
}

static void
enter_checking(struct session *s)
{
	switch (config_service_state(s->conf, s->ops->now(s->arg))) {
	case CONF_SERVICE_OPEN:
		break;
	case CONF_SERVICE_HOURS:
		post(s, SE_UNAVAILABLE, "service_hours");
		return;
	case CONF_SERVICE_CLOSED:
		post(s, SE_UNAVAILABLE, "service_closed");
		return;
	}
	if (!s->ops->card_ready(s->arg)) {
		post(s, SE_UNAVAILABLE, "reader_unavailable");
		return;
	}
	if (!printer_ready(s)) {
		post(s, SE_UNAVAILABLE, "printer_unavailable");
		return;
	}
	if (!s->ops->backend_ready(s->arg) ||
	    s->ops->backend_status(s->arg, s->id) == -1)
		post(s, SE_CENTER_DOWN, NULL);
}

static void
enter_auth(struct session *s)
{
	struct msg_backend_auth_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	memcpy(req.center_sid, s->center_sid, sizeof(req.center_sid));
	memcpy(req.sig, s->sig, s->sig_len);
	req.sig_len = (uint32_t)s->sig_len;
	req.cert_len = (uint32_t)s->cert_len;
	rc = s->ops->backend_auth(s->arg, s->id, &req, s->cert, s->cert_len);
	secure_wipe(&req, sizeof(req));
	/* the signature answers one challenge, once: not kept */
	secure_wipe(s->sig, sizeof(s->sig));
	s->sig_len = 0;
	if (rc == -1)
		post(s, SE_BACKEND_DOWN, NULL);
}

/* The printer can take a job now (the core asks the printer's state). */
static int
printer_ready(struct session *s)
{
	char reason[SESSION_CODE_MAX + 1];

	reason[0] = '\0';
	return s->ops->printer_ready(s->arg, reason, sizeof(reason));
}

/*
 * Before any fee: the printer must be ready.  The idempotency key is made
 * here: the core journals the transaction under it before the payment
 * device takes anything, and the issuance request carries it.
 */
static void
enter_paying(struct session *s)
{
	struct session_pay p;
	uint8_t rnd[16];
	size_t i;

	if (!printer_ready(s)) {
		post(s, SE_UNAVAILABLE, "printer_unavailable");
		return;
	}
	if (s->ops->random(s->arg, rnd, sizeof(rnd)) == -1) {
		post(s, SE_PAY_FAIL, "internal");
		return;
	}
	/* lower-case hex, 32 chars: [A-Za-z0-9_-]{16,64} for API.md */
	hex_encode(s->idem_key, sizeof(s->idem_key), rnd, sizeof(rnd));
	for (i = 0; s->idem_key[i] != '\0'; i++)
		s->idem_key[i] = (char)tolower((unsigned char)s->idem_key[i]);
	memset(&p, 0, sizeof(p));
	p.session = s->name;
	p.idem_key = s->idem_key;
	p.document = s->choice_doc;
	p.center_sid = s->center_sid;
	p.options = s->choice_options;
	p.copies = s->copies;
	p.fee_yen = s->fee_yen;
	s->paying = 1;	/* from here the core may hold money: settle */
	if (s->ops->pay(s->arg, s->id, &p) == -1)
		post(s, SE_PAY_FAIL, "device_unavailable");
}

static void
enter_printing(struct session *s)
{
	struct session_print p;

	if (s->print_sent)
		return;		/* SPOOLED: still printing */
	memset(&p, 0, sizeof(p));
	p.issuance_id = s->issuance_id;
	p.document = s->choice_doc;
	p.code = s->doccode;
	p.content = s->content;
	p.content_len = s->content_len;
	p.copies = s->copies;
	s->print_sent = 1;
	if (s->ops->print(s->arg, s->id, &p) == -1)
		post(s, SE_PRINTER_DOWN, NULL);
}

/* The transaction leaves the session for the core's settlement. */
static void
settle(struct session *s, enum session_outcome o, const char *reason)
{
	struct session_settle st;

	if (!s->paying)
		return;
	memset(&st, 0, sizeof(st));
	st.outcome = o;
	st.pages = s->pages;
	st.reason = reason;
	st.idem_key = s->idem_key;
	st.issuance_id = s->issuance_id;
	s->ops->settle(s->arg, s->id, &st);
	s->paying = 0;
}

static void
enter_issuing(struct session *s)
{
	struct msg_backend_issue_req req;
	size_t optlen;
	int rc;

	memset(&req, 0, sizeof(req));
	memcpy(req.center_sid, s->center_sid, sizeof(req.center_sid));
	(void)msg_str_set(req.document, sizeof(req.document), s->choice_doc);
	(void)msg_str_set(req.idempotency_key, sizeof(req.idempotency_key),
	    s->idem_key);
	req.copies = (uint32_t)s->copies;
	optlen = strlen(s->choice_options);
	req.options_len = (uint32_t)optlen;
	rc = s->ops->backend_issue(s->arg, s->id, &req, s->choice_options,
	    optlen);
	if (rc == -1)
		post(s, SE_BACKEND_DOWN, NULL);
}

/* Run from the loop (ops->defer) so the VERIFYING screen goes out first. */
void
session_deferred(struct session *s)
{
	struct docverify_expect ex;
	struct docverify_out out;
	enum docverify_status st;

	if (s->state != SS_VERIFYING)
		return;
	memset(&ex, 0, sizeof(ex));
	memset(&out, 0, sizeof(out));
	if (s->dockey == NULL) {
		snprintf(s->verify_detail, sizeof(s->verify_detail),
		    "no document key configured");
		(void)session_fsm(s, SE_VERIFY_FAIL, s->verify_detail);
		return;
	}
	ex.session_id = s->center_sid;
	ex.cert_sha256 = s->cert_sha256;
	ex.kiosk_id = s->conf->kiosk_id;
	ex.issuance_id = s->issuance_id;
	ex.document = s->choice_doc;
	ex.copies = s->copies;
	ex.code = s->doccode;	/* the code printed on the paper */
	st = docverify(s->content, s->content_len, s->docsig, s->docsig_len,
	    NULL, s->dockey, &ex, &out);
	if (st != DOCVERIFY_OK) {
		/* a log line: truncation is harmless */
		if (snprintf(s->verify_detail, sizeof(s->verify_detail),
		    "%s%s%.100s", docverify_strerror(st), out.detail[0] !=
		    '\0' && strcmp(out.detail, docverify_strerror(st)) != 0 ?
		    ": " : "", strcmp(out.detail, docverify_strerror(st)) != 0 ?
		    out.detail : "") < 0)
			s->verify_detail[0] = '\0';
		log_warnx("session %s: document %s REFUSED: %s", s->name,
		    s->issuance_id, s->verify_detail);
		docverify_out_clear(&out);
		(void)session_fsm(s, SE_VERIFY_FAIL, s->verify_detail);
		return;
	}
	snprintf(s->issued_at, sizeof(s->issued_at), "%s", out.issued_at);
	s->fee_yen = out.fee_yen;
	s->verified = 1;
	docverify_out_clear(&out);
	log_info("session %s: document %s verified (signature, binding, code)",
	    s->name, s->issuance_id);
	(void)session_fsm(s, SE_VERIFY_OK, NULL);
}

static void
enter_aborted(struct session *s)
{
	if (s->ops->card_ready(s->arg))
		s->ops->card_abort(s->arg, s->id);
	/*
	 * Nothing was printed, except perhaps when printing was under way
	 * and no definite answer came (timeout, the worker died): then the
	 * core asks CUPS before it voids.  The core voids and refunds.
	 */
	settle(s, s->print_sent && strcmp(s->abort.code, "print_failed") != 0 ?
	    SESSION_UNKNOWN : SESSION_FAILED, s->abort.code);
	log_info("session %s: aborted in %s: %s%s%s", s->name,
	    s->abort.from, s->abort.code, s->abort.reason[0] != '\0' ?
	    "/" : "", s->abort.reason);
	wipe(s);
}

static void
enter(struct session *s, enum session_state st)
{
	switch (st) {
	case SS_IDLE:
		wipe(s);
		memset(s->reader, 0, sizeof(s->reader));
		memset(s->document, 0, sizeof(s->document));
		memset(&s->abort, 0, sizeof(s->abort));
		s->id = 0;
		snprintf(s->name, sizeof(s->name), "-");
		break;
	case SS_SELECT:
		wipe(s);
		memset(s->reader, 0, sizeof(s->reader));
		memset(s->document, 0, sizeof(s->document));
		memset(&s->abort, 0, sizeof(s->abort));
		new_id(s);
		break;
	case SS_CHECKING:
		enter_checking(s);
		break;
	case SS_WAIT_CARD:
		if (session_card_present(s))
			post(s, SE_CARD_INSERTED, NULL);
		break;
	case SS_READ_CARD:
		if (s->ops->card_read(s->arg, s->id) == -1)
			post(s, SE_CARD_DOWN, NULL);
		break;
	case SS_OPEN:
		if (s->ops->backend_open(s->arg, s->id) == -1)
			post(s, SE_BACKEND_DOWN, NULL);
		break;
	case SS_WAIT_PIN:
	case SS_SIGNING:
		break;
	case SS_AUTH:
		enter_auth(s);
		break;
	case SS_OPTIONS:
		/* the challenge is used up */
		secure_wipe(s->challenge, sizeof(s->challenge));
		s->challenge_len = 0;
		s->challenge_until = 0;
		break;
	case SS_PAYING:
		enter_paying(s);
		break;
	case SS_ISSUING:
		enter_issuing(s);
		break;
	case SS_VERIFYING:
		s->ops->defer(s->arg);
		break;
	case SS_PRINTING:
		enter_printing(s);
		break;
	case SS_ISSUED:
		settle(s, SESSION_PRINTED, "printed");
		/* only the summary on the screen is still needed */
		secure_wipe(s->cert, sizeof(s->cert));
		s->cert_len = 0;
		if (s->auth != NULL) {
			json_decref(s->auth);
			s->auth = NULL;
		}
		break;
	case SS_ABORTED:
		enter_aborted(s);
		break;
	case SS__MAX:
		break;
	}
}

static void
change_state(struct session *s, enum session_state to)
{
	json_t *screen;

	s->state = to;
	s->ops->timer(s->arg, session_state_timeout(s, to));
	enter(s, to);
	if ((screen = session_screen(s)) != NULL) {
		s->ops->screen(s->arg, screen);
		json_decref(screen);
	} else
		log_warnx("session %s: cannot build the %s screen", s->name,
		    session_state_wire(to));
}

/* --- screens ------------------------------------------------------------ */

static json_t *
doc_titles(const char *type)
{
	const struct doctype *d = doctype_find(type);

	if (d == NULL)
		return json_pack("{s:s}", "type", type);
	return json_pack("{s:s, s:s, s:s}", "type", d->type, "title_ja",
	    d->title_ja, "title_en", d->title_en);
}

static json_t *
screen_select(void)
{
	json_t *docs, *d;
	size_t i;

	if ((docs = json_array()) == NULL)
		return NULL;
	for (i = 0; i < sizeof(doctypes) / sizeof(doctypes[0]); i++) {
		if ((d = doc_titles(doctypes[i].type)) == NULL ||
		    json_array_append_new(docs, d) == -1) {
			json_decref(docs);
			return NULL;
		}
	}
	return json_pack("{s:o}", "documents", docs);
}

static json_t *
screen_wait_pin(const struct session *s)
{
	json_t *d;

	d = json_pack("{s:i, s:i, s:b, s:b}", "tries_left", s->tries,
	    "pin_length", PIN_LEN, "last_try", s->tries == 1,
	    "confirm_required", s->tries == 1);
	if (d == NULL)
		return NULL;
	if (s->tries == 1 && json_object_set_new(d, "warning",
	    json_pack("{s:s, s:s, s:s}", "code", "last_try", "message",
	    last_try_en, "message_ja", last_try_ja)) == -1)
		goto bad;
	if (s->pin_wrong && json_object_set_new(d, "error",
	    json_pack("{s:s, s:s, s:s}", "code", "pin_wrong", "message",
	    "The PIN was wrong.", "message_ja",
	    "暗証番号が違います。")) == -1)
		goto bad;
	return d;
bad:
	json_decref(d);
	return NULL;
}

static json_t *
screen_options(const struct session *s)
{
	json_t *d, *v, *cert;

	if (s->auth == NULL)
		return json_object();
	cert = json_object_get(s->auth, "certificate");
	d = json_pack("{s:s, s:O, s:O, s:O}", "selected", s->document,
	    "resident", json_object_get(s->auth, "resident"),
	    "certificate", cert,
	    "documents", json_object_get(s->auth, "documents"));
	if (d == NULL)
		return NULL;
	if ((v = json_object_get(cert, "expires_soon")) != NULL &&
	    json_is_true(v) && json_object_set_new(d, "expiry_notice",
	    json_pack("{s:s, s:s, s:s}", "code", "expires_soon", "message",
	    expiry_en, "message_ja", expiry_ja)) == -1)
		goto bad;
	if (s->has_choice)
		v = json_pack("{s:s, s:o, s:i, s:I}", "document",
		    s->choice_doc, "options", json_loads(s->choice_options, 0,
		    NULL), "copies", s->copies, "fee_yen",
		    (json_int_t)s->fee_yen);
	else
		v = json_null();
	if (v == NULL || json_object_set_new(d, "choice", v) == -1)
		goto bad;
	return d;
bad:
	json_decref(d);
	return NULL;
}

static json_t *
screen_issued(const struct session *s)
{
	json_t *d;

	if ((d = doc_titles(s->choice_doc)) == NULL)
		return NULL;
	if (json_object_set_new(d, "document", json_string(s->choice_doc)) ||
	    json_object_set_new(d, "issuance_id",
	    json_string(s->issuance_id)) ||
	    json_object_set_new(d, "issued_at", json_string(s->issued_at)) ||
	    json_object_set_new(d, "copies", json_integer(s->copies)) ||
	    json_object_set_new(d, "fee_yen", json_integer(s->fee_yen)) ||
	    json_object_set_new(d, "verified", json_true()) ||
	    json_object_set_new(d, "message", json_string(collect_en)) ||
	    json_object_set_new(d, "message_ja", json_string(collect_ja))) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* In service: hours, and a printer that can print. */
static json_t *
screen_idle(const struct session *s)
{
	char reason[SESSION_CODE_MAX + 1];
	int hours, printer;
	json_t *d;

	reason[0] = '\0';
	hours = config_in_service(s->conf, s->ops->now(s->arg));
	printer = s->ops->printer_ready(s->arg, reason, sizeof(reason));
	d = json_pack("{s:s, s:s, s:b, s:{s:b, s:s?}}", "kiosk_id",
	    s->conf->kiosk_id, "store_name", s->conf->store_name,
	    "in_service", hours && printer, "printer", "ready", printer,
	    "reason", printer ? NULL : reason);
	if (d != NULL && !printer) {
		const struct reason *r = reason_find("out_of_service");

		if (json_object_set_new(d, "message", json_string(r->en)) ||
		    json_object_set_new(d, "message_ja", json_string(r->ja))) {
			json_decref(d);
			return NULL;
		}
	}
	return d;
}

static json_t *
screen_data(const struct session *s)
{
	switch (s->state) {
	case SS_IDLE:
		return screen_idle(s);
	case SS_SELECT:
		return screen_select();
	case SS_CHECKING:
	case SS_WAIT_CARD:
	case SS_READ_CARD:
	case SS_OPEN:
	case SS_SIGNING:
	case SS_AUTH:
		return json_pack("{s:o}", "document", doc_titles(s->document));
	case SS_WAIT_PIN:
		return screen_wait_pin(s);
	case SS_OPTIONS:
		return screen_options(s);
	case SS_PAYING:
		return json_pack("{s:o, s:i, s:I}", "document",
		    doc_titles(s->choice_doc), "copies", s->copies, "fee_yen",
		    (json_int_t)s->fee_yen);
	case SS_ISSUING:
	case SS_VERIFYING:
		return json_pack("{s:o, s:i}", "document",
		    doc_titles(s->choice_doc), "copies", s->copies);
	case SS_PRINTING:
		return json_pack("{s:o, s:i, s:s, s:b}", "document",
		    doc_titles(s->choice_doc), "copies", s->copies,
		    "issuance_id", s->issuance_id, "spooled", s->job_id != 0);
	case SS_ISSUED:
		return screen_issued(s);
	case SS_ABORTED:
		return json_pack("{s:s, s:s?, s:s, s:s, s:s}", "code",
		    s->abort.code, "reason", s->abort.reason[0] != '\0' ?
		    s->abort.reason : NULL, "message", s->abort.message,
		    "message_ja", s->abort.message_ja, "during",
		    s->abort.from);
	case SS__MAX:
		break;
	}
	return json_object();
}

json_t *
session_screen(struct session *s)
{
	json_t *data;
	char id[SESSION_ID_HEX + 1];

	if ((data = screen_data(s)) == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)s->id);
	return json_pack("{s:i, s:s, s:s, s:s?, s:i, s:o}", "v", 1, "type",
	    "screen", "state", session_state_wire(s->state), "session",
	    s->id != 0 ? id : NULL, "timeout",
	    (int)session_state_timeout(s, s->state), "data", data);
}

/* --- inputs: UI ---------------------------------------------------------- */

static enum session_rc
ui_rc(struct session *s, enum session_rc rc, const char *code)
{
	s->ui_error = rc == SESSION_OK ? "" : code;
	return rc;
}

enum session_rc
session_ui_start(struct session *s)
{
	/* out of service (printer): no transaction can start */
	if ((s->state == SS_IDLE || s->state == SS_ABORTED) &&
	    !printer_ready(s))
		return ui_rc(s, SESSION_IGNORED, "out_of_service");
	return ui_rc(s, session_fsm(s, SE_START, NULL), "not_allowed");
}

enum session_rc
session_ui_select(struct session *s, const char *doctype)
{
	const struct doctype *d;

	if (s->state != SS_SELECT)
		return ui_rc(s, SESSION_IGNORED, "not_allowed");
	if (doctype == NULL || (d = doctype_find(doctype)) == NULL)
		return ui_rc(s, SESSION_BAD_INPUT, "bad_document");
	return ui_rc(s, session_fsm(s, SE_SELECT, d->type), "not_allowed");
}

enum session_rc
session_ui_pin(struct session *s, char *pin, size_t len,
    int confirm_last_try)
{
	struct arg_pin a;
	enum session_rc rc;
	size_t i;
	int ok = len == PIN_LEN;

	for (i = 0; ok && i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			ok = 0;
	if (s->state != SS_WAIT_PIN)
		rc = ui_rc(s, SESSION_IGNORED, "not_allowed");
	else if (!ok)
		rc = ui_rc(s, SESSION_BAD_INPUT, "pin_format");
	else if (s->tries == 1 && !confirm_last_try) {
		/* never the last try without the resident's yes */
		s->confirm_asked = 1;
		rc = ui_rc(s, SESSION_CONFIRM, "confirm_last_try");
	} else if (s->tries == 0)
		rc = ui_rc(s, SESSION_IGNORED, "pin_blocked");
	else {
		a.pin = pin;
		a.len = len;
		rc = ui_rc(s, session_fsm(s, SE_PIN, &a), "not_allowed");
		secure_wipe(&a, sizeof(a));
	}
	secure_wipe(pin, len);
	return rc;
}

static json_t *
auth_doc(const struct session *s, const char *type)
{
	json_t *docs, *d, *t;
	size_t i;

	if (s->auth == NULL ||
	    (docs = json_object_get(s->auth, "documents")) == NULL)
		return NULL;
	json_array_foreach(docs, i, d) {
		t = json_object_get(d, "type");
		if (json_is_string(t) && strcmp(json_string_value(t), type) == 0)
			return d;
	}
	return NULL;
}

enum session_rc
session_ui_options(struct session *s, const char *doctype, json_t *options,
    long long copies)
{
	struct arg_options a;
	json_t *d, *v;
	json_int_t fee, maxc;
	enum session_rc rc;

	if (s->state != SS_OPTIONS)
		return ui_rc(s, SESSION_IGNORED, "not_allowed");
	if (doctype == NULL || (d = auth_doc(s, doctype)) == NULL)
		return ui_rc(s, SESSION_BAD_INPUT, "bad_document");
	v = json_object_get(d, "unavailable");
	if (v != NULL && !json_is_null(v))
		return ui_rc(s, SESSION_BAD_INPUT, "document_unavailable");
	v = json_object_get(d, "max_copies");
	maxc = json_is_integer(v) ? json_integer_value(v) : 1;
	if (maxc < 1 || maxc > COPIES_MAX)
		maxc = 1;
	if (copies < 1 || copies > maxc)
		return ui_rc(s, SESSION_BAD_INPUT, "bad_copies");
	if (options == NULL)
		options = json_object();
	else
		json_incref(options);
	if (options == NULL || !json_is_object(options)) {
		json_decref(options);
		return ui_rc(s, SESSION_BAD_INPUT, "bad_options");
	}
	v = json_object_get(d, "fee_yen");
	fee = json_is_integer(v) ? json_integer_value(v) : 0;
	memset(&a, 0, sizeof(a));
	a.doc = json_string_value(json_object_get(d, "type"));
	a.copies = (int)copies;
	a.fee = (long long)fee * copies;
	a.options = json_dumps(options, JSON_COMPACT);
	json_decref(options);
	if (a.options == NULL)
		return ui_rc(s, SESSION_INTERNAL, "internal");
	if (strlen(a.options) >= MSG_OPTIONS_MAX) {
		json_release(a.options);
		return ui_rc(s, SESSION_BAD_INPUT, "bad_options");
	}
	rc = session_fsm(s, SE_OPTIONS, &a);
	json_release(a.options);	/* NULL when the action took it */
	return ui_rc(s, rc, "not_allowed");
}

enum session_rc
session_ui_confirm(struct session *s)
{
	if (s->state == SS_OPTIONS && !s->has_choice)
		return ui_rc(s, SESSION_BAD_INPUT, "no_choice");
	return ui_rc(s, session_fsm(s, SE_CONFIRM, NULL), "not_allowed");
}

enum session_rc
session_ui_cancel(struct session *s)
{
	return ui_rc(s, session_fsm(s, SE_CANCEL, NULL), "not_allowed");
}

enum session_rc
session_ui_done(struct session *s)
{
	return ui_rc(s, session_fsm(s, SE_DONE, NULL), "not_allowed");
}

/* --- inputs: workers, timer ------------------------------------------------ */

static int
present_find(const struct session *s, const char *reader)
{
	int i;

	for (i = 0; i < PRESENT_MAX; i++)
		if (s->present[i][0] != '\0' &&
		    strcmp(s->present[i], reader) == 0)
			return i;
	return -1;
}

int
session_card_present(const struct session *s)
{
	int i;

	for (i = 0; i < PRESENT_MAX; i++)
		if (s->present[i][0] != '\0')
			return 1;
	return 0;
}

void
session_card_event(struct session *s, const struct msg_card_event *ev)
{
	int i;

	if (!msg_str_ok(ev->reader, sizeof(ev->reader)) ||
	    ev->reader[0] == '\0')
		return;
	switch (ev->event) {
	case MSG_CARD_EV_INSERTED:
		if (present_find(s, ev->reader) == -1) {
			for (i = 0; i < PRESENT_MAX; i++)
				if (s->present[i][0] == '\0') {
					memcpy(s->present[i], ev->reader,
					    sizeof(s->present[i]));
					break;
				}
		}
		(void)session_fsm(s, SE_CARD_INSERTED, NULL);
		break;
	case MSG_CARD_EV_REMOVED:
	case MSG_CARD_EV_READER_GONE:
		if ((i = present_find(s, ev->reader)) != -1)
			memset(s->present[i], 0, sizeof(s->present[i]));
		/* ours, or any while the card is being read */
		if (s->reader[0] == '\0' || strcmp(s->reader, ev->reader) == 0)
			(void)session_fsm(s, SE_CARD_REMOVED, NULL);
		break;
	default:
		break;
	}
}

/* A short tag of the certificate serial, for logs: no personal data. */
static int
cert_tag(const uint8_t *der, size_t len, char tag[CERT_TAG_LEN + 1])
{
	const unsigned char *p = der;
	const ASN1_INTEGER *serial;
	uint8_t md[32];
	char hex[65];
	X509 *x;
	int n;

	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return -1;
	if (p != der + len || (serial = X509_get0_serialNumber(x)) == NULL ||
	    (n = ASN1_STRING_length(serial)) <= 0 ||
	    EVP_Digest(ASN1_STRING_get0_data(serial), (size_t)n, md, NULL,
	    EVP_sha256(), NULL) != 1) {
		X509_free(x);
		return -1;
	}
	X509_free(x);
	hex_encode(hex, sizeof(hex), md, sizeof(md));
	for (n = 0; n < CERT_TAG_LEN; n++)
		tag[n] = (char)tolower((unsigned char)hex[n]);
	tag[CERT_TAG_LEN] = '\0';
	return 0;
}

void
session_card_info(struct session *s, const struct msg_card_info *info,
    const uint8_t *cert, size_t certlen)
{
	struct arg_card a;

	/* The smartphone token's certificate, read right after the PIN,
	   before the signature arrives: once, and only for such a token. */
	if (s->state == SS_SIGNING && s->cert_len == 0 &&
	    (info->flags & MSG_CARD_F_CERT_NEEDS_PIN) &&
	    info->status == MSG_CARD_OK) {
		memset(&a, 0, sizeof(a));
		if (certlen == 0 || certlen > MSG_CERT_MAX ||
		    cert_tag(cert, certlen, a.tag) == -1) {
			(void)session_fsm(s, SE_SIGN_FAIL, "card_error");
			return;
		}
		a.info = info;
		a.cert = cert;
		a.certlen = certlen;
		if (act_card_info(s, &a) == -1)
			(void)session_fsm(s, SE_SIGN_FAIL, "internal");
		else
			log_info("session %s: smartphone token, certificate "
			    "read after the PIN", s->name);
		return;
	}
	if (s->state != SS_READ_CARD) {
		log_debug("session %s: card info in %s dropped", s->name,
		    session_state_name(s->state));
		return;
	}
	if (info->status != MSG_CARD_OK) {
		if (info->status == MSG_CARD_PIN_BLOCKED)
			(void)session_fsm(s, SE_READ_BLOCKED, NULL);
		else if (info->status == MSG_CARD_REMOVED ||
		    info->status == MSG_CARD_NO_CARD)
			(void)session_fsm(s, SE_CARD_REMOVED, NULL);
		else
			(void)session_fsm(s, SE_READ_FAIL,
			    card_status_code(info->status));
		return;
	}
	if (info->pin_tries == 0) {
		(void)session_fsm(s, SE_READ_BLOCKED, NULL);
		return;
	}
	memset(&a, 0, sizeof(a));
	if (info->flags & MSG_CARD_F_CERT_NEEDS_PIN) {
		/* smartphone: the PIN first, the certificate after it */
		if (info->pin_tries < 0 || info->pin_tries > JPKI_TRIES_FULL ||
		    certlen != 0) {
			(void)session_fsm(s, SE_READ_FAIL, "card_error");
			return;
		}
		snprintf(a.tag, sizeof(a.tag), "phone");
		a.info = info;
		(void)session_fsm(s, SE_READ_OK, &a);
		return;
	}
	if (info->pin_tries < 0 || info->pin_tries > JPKI_TRIES_FULL ||
	    certlen == 0 || certlen > MSG_CERT_MAX ||
	    cert_tag(cert, certlen, a.tag) == -1) {
		log_warnx("session %s: unusable card answer (tries %d, "
		    "certificate %zu bytes)", s->name, info->pin_tries,
		    certlen);
		(void)session_fsm(s, SE_READ_FAIL, "card_error");
		return;
	}
	a.info = info;
	a.cert = cert;
	a.certlen = certlen;
	(void)session_fsm(s, SE_READ_OK, &a);
}

void
session_card_signed(struct session *s, const struct msg_card_sign_result *r)
{
	if (s->state != SS_SIGNING) {
		log_debug("session %s: signature in %s dropped", s->name,
		    session_state_name(s->state));
		return;
	}
	switch (r->status) {
	case MSG_CARD_OK:
		/* no certificate (a smartphone token that did not show it):
		   nothing to authenticate with */
		if (r->sig_len == 0 || r->sig_len > MSG_SIG_MAX ||
		    s->cert_len == 0) {
			(void)session_fsm(s, SE_SIGN_FAIL, "card_error");
			return;
		}
		(void)session_fsm(s, SE_SIGN_OK, r);
		return;
	case MSG_CARD_PIN_WRONG:
		if (r->tries_left <= 0)
			(void)session_fsm(s, SE_PIN_BLOCKED, NULL);
		else if (r->tries_left > JPKI_TRIES_FULL)
			(void)session_fsm(s, SE_SIGN_FAIL, "card_error");
		else
			(void)session_fsm(s, SE_PIN_WRONG, r);
		return;
	case MSG_CARD_PIN_BLOCKED:
		(void)session_fsm(s, SE_PIN_BLOCKED, NULL);
		return;
	case MSG_CARD_REMOVED:
	case MSG_CARD_NO_CARD:
		(void)session_fsm(s, SE_CARD_REMOVED, NULL);
		return;
	default:
		(void)session_fsm(s, SE_SIGN_FAIL, card_status_code(r->status));
		return;
	}
}

void
session_backend_status(struct session *s, const struct msg_backend_status *st)
{
	if (s->state != SS_CHECKING)
		return;
	(void)session_fsm(s, st->status == MSG_BACKEND_OK ? SE_CENTER_UP :
	    SE_CENTER_DOWN, NULL);
}

/* 32 lower-case hex chars, NUL-padded. */
static int
center_id_ok(const char *id, size_t size)
{
	size_t i;

	if (!msg_str_ok(id, size) || strlen(id) != SESSION_CENTER_ID)
		return 0;
	for (i = 0; i < SESSION_CENTER_ID; i++)
		if (!isxdigit((unsigned char)id[i]) ||
		    isupper((unsigned char)id[i]))
			return 0;
	return 1;
}

void
session_backend_opened(struct session *s,
    const struct msg_backend_session_result *r)
{
	struct arg_center a;

	if (s->state != SS_OPEN)
		return;
	if (r->status == MSG_BACKEND_OK) {
		if (!center_id_ok(r->center_sid, sizeof(r->center_sid)) ||
		    r->challenge_len == 0 ||
		    r->challenge_len > MSG_CHALLENGE_MAX ||
		    r->expires_in == 0 || r->expires_in > 3600) {
			memset(&a, 0, sizeof(a));
			a.status = MSG_BACKEND_BAD_RESPONSE;
			a.error = &r->error;
			(void)session_fsm(s, SE_OPEN_FAIL, &a);
			return;
		}
		(void)session_fsm(s, SE_OPEN_OK, r);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.status = r->status;
	a.error = &r->error;
	(void)session_fsm(s, SE_OPEN_FAIL, &a);
}

/* The auth answer must hold what the screens use, with the right types. */
static int
auth_ok(json_t *j)
{
	json_t *docs, *d, *v;
	size_t i;

	if (!json_is_object(j) ||
	    !json_is_object(json_object_get(j, "resident")) ||
	    !json_is_object(json_object_get(j, "certificate")) ||
	    !json_is_array(docs = json_object_get(j, "documents")) ||
	    json_array_size(docs) == 0 || json_array_size(docs) > 16)
		return 0;
	json_array_foreach(docs, i, d) {
		if (!json_is_object(d) ||
		    !json_is_string(v = json_object_get(d, "type")) ||
		    doctype_find(json_string_value(v)) == NULL ||
		    !json_is_integer(json_object_get(d, "fee_yen")) ||
		    !json_is_integer(json_object_get(d, "max_copies")))
			return 0;
	}
	return 1;
}

void
session_backend_authed(struct session *s,
    const struct msg_backend_auth_result *r, const char *json, size_t len)
{
	struct arg_center a;
	json_t *j;

	if (s->state != SS_AUTH)
		return;
	memset(&a, 0, sizeof(a));
	a.status = r->status;
	a.error = &r->error;
	if (r->status != MSG_BACKEND_OK) {
		a.errjson = json;
		a.errlen = len;
		(void)session_fsm(s, SE_AUTH_FAIL, &a);
		return;
	}
	j = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL || !auth_ok(j)) {
		log_warnx("session %s: malformed auth answer", s->name);
		if (j != NULL)
			json_decref(j);
		a.status = MSG_BACKEND_BAD_RESPONSE;
		(void)session_fsm(s, SE_AUTH_FAIL, &a);
		return;
	}
	(void)session_fsm(s, SE_AUTH_OK, j);
	json_decref(j);
}

void
session_backend_issued(struct session *s,
    const struct msg_backend_issue_result *r, const uint8_t *content,
    const uint8_t *sig, const char *errjson, size_t errlen)
{
	struct arg_center ac;
	struct arg_issue ai;

	if (s->state != SS_ISSUING)
		return;
	memset(&ac, 0, sizeof(ac));
	ac.status = r->status;
	ac.error = &r->error;
	if (r->status != MSG_BACKEND_OK) {
		ac.errjson = errjson;
		ac.errlen = errlen;
		(void)session_fsm(s, SE_ISSUE_FAIL, &ac);
		return;
	}
	if (!center_id_ok(r->issuance_id, sizeof(r->issuance_id)) ||
	    memchr(r->code, '\0', sizeof(r->code)) == NULL ||
	    r->content_len == 0 || r->content_len > MSG_MAX_PAYLOAD ||
	    r->sig_len == 0 || r->sig_len > DOCVERIFY_MAX_SIG) {
		ac.status = MSG_BACKEND_BAD_RESPONSE;
		(void)session_fsm(s, SE_ISSUE_FAIL, &ac);
		return;
	}
	memset(&ai, 0, sizeof(ai));
	ai.res = r;
	ai.content = content;
	ai.sig = sig;
	(void)session_fsm(s, SE_ISSUE_OK, &ai);
}

void
session_paid(struct session *s, int paid, const char *code)
{
	if (s->state != SS_PAYING)
		return;
	if (paid)
		(void)session_fsm(s, SE_PAID, NULL);
	else
		(void)session_fsm(s, SE_PAY_FAIL, code != NULL &&
		    code_ok(code, strlen(code) + 1) ? code : "internal");
}

void
session_print_spooled(struct session *s, long long job_id)
{
	if (s->state != SS_PRINTING || job_id <= 0)
		return;
	(void)session_fsm(s, SE_SPOOLED, &job_id);
}

void
session_print_done(struct session *s, int printed, int pages,
    const char *reason)
{
	if (s->state != SS_PRINTING)
		return;
	if (printed)
		(void)session_fsm(s, SE_PRINTED, &pages);
	else
		(void)session_fsm(s, SE_PRINT_FAIL, reason != NULL &&
		    code_ok(reason, strlen(reason) + 1) ? reason : "internal");
}

void
session_refresh(struct session *s)
{
	json_t *screen;

	if ((screen = session_screen(s)) != NULL) {
		s->ops->screen(s->arg, screen);
		json_decref(screen);
	}
}

void
session_timeout(struct session *s)
{
	(void)session_fsm(s, SE_TIMEOUT, NULL);
}

void
session_worker_down(struct session *s, enum msg_role which)
{
	if (which == MSG_ROLE_CARD) {
		memset(s->present, 0, sizeof(s->present));
		(void)session_fsm(s, SE_CARD_DOWN, NULL);
	} else if (which == MSG_ROLE_PRINTER)
		(void)session_fsm(s, SE_PRINTER_DOWN, NULL);
	else
		(void)session_fsm(s, SE_BACKEND_DOWN, NULL);
}
