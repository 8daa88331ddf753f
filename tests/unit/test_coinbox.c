/*
 * The coin box simulator through the payment interface: the same ref
 * taken twice takes once, refunds only of a take and only once, every
 * fault (from the options and injected into the ledger of a running
 * device), the ledger across SIGKILL, and kiosk-coinbox's summary line.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payment.h"
#include "t.h"

#define REF_A	"tx-ref-aaaaaaaaaaaa"
#define REF_B	"tx-ref-bbbbbbbbbbbb"

static char dir[512];

static struct payment *
box(const char *ledger, const char *faults)
{
	struct payment *p;
	char opts[1024], err[256];

	(void)snprintf(opts, sizeof(opts), "ledger=%s/%s%s%s", dir, ledger,
	    faults[0] != '\0' ? "," : "", faults);
	if ((p = payment_coinbox_open(opts, err, sizeof(err))) == NULL)
		fprintf(stderr, "coinbox: %s\n", err);
	return p;
}

static int
summary_is(struct payment *p, int64_t taken, int64_t refunded, int64_t takes,
    int64_t refunds)
{
	struct coinbox_summary s;

	if (coinbox_summary(p, &s) == -1)
		return 0;
	return s.taken_yen == taken && s.refunded_yen == refunded &&
	    s.net_yen == taken - refunded && s.takes == takes &&
	    s.refunds == refunds;
}

static enum payment_state
state_of(struct payment *p, const char *ref)
{
	enum payment_state st;
	int64_t yen;

	if (p->ops->query(p, ref, &st, &yen) != PAYMENT_OK)
		return (enum payment_state)-1;
	return st;
}

static void
test_idempotency(void)
{
	struct payment *p = box("idem.db", "");
	struct payment_status ps;

	if (!T_CHECK(p != NULL, "open a coin box"))
		return;
	p->ops->status(p, &ps);
	T_CHECK(ps.ready, "a new coin box is ready");
	T_CHECK(p->ops->take(p, 200, REF_A) == PAYMENT_OK, "take 200 yen");
	T_CHECK(p->ops->take(p, 200, REF_A) == PAYMENT_OK &&
	    summary_is(p, 200, 0, 1, 0), "the same ref again: taken once");
	T_CHECK(p->ops->take(p, 300, REF_A) == PAYMENT_REFUSED &&
	    summary_is(p, 200, 0, 1, 0), "the same ref, another amount: "
	    "refused");
	T_CHECK(state_of(p, REF_A) == PAYMENT_TAKEN &&
	    state_of(p, REF_B) == PAYMENT_NONE, "query: taken / none");
	T_CHECK(p->ops->refund(p, 200, REF_B) == PAYMENT_REFUSED &&
	    summary_is(p, 200, 0, 1, 0), "a refund without a take: refused");
	T_CHECK(p->ops->refund(p, 100, REF_A) == PAYMENT_REFUSED,
	    "a refund of another amount than the take: refused");
	T_CHECK(p->ops->refund(p, 200, REF_A) == PAYMENT_OK &&
	    p->ops->refund(p, 200, REF_A) == PAYMENT_OK &&
	    summary_is(p, 200, 200, 1, 1), "refund twice: refunded once");
	T_CHECK(state_of(p, REF_A) == PAYMENT_REFUNDED, "query: refunded");
	T_CHECK(p->ops->take(p, 200, "short") == PAYMENT_INVALID &&
	    p->ops->take(p, -1, REF_B) == PAYMENT_INVALID,
	    "a malformed ref or amount: invalid");
	p->ops->close(p);
}

static void
test_faults(void)
{
	struct payment *p, *cli;
	struct payment_status ps;
	char err[256];

	p = box("faults.db", "declined,take_error,take_lost,refund_error,"
	    "refund_lost");
	if (!T_CHECK(p != NULL, "open a coin box with faults"))
		return;
	T_CHECK(p->ops->take(p, 450, REF_A) == PAYMENT_DECLINED &&
	    state_of(p, REF_A) == PAYMENT_NONE, "declined: nothing taken");
	T_CHECK(p->ops->take(p, 450, REF_A) == PAYMENT_DEVICE_ERROR &&
	    state_of(p, REF_A) == PAYMENT_NONE,
	    "take_error: a device error, nothing taken");
	T_CHECK(p->ops->take(p, 450, REF_A) == PAYMENT_DEVICE_ERROR &&
	    state_of(p, REF_A) == PAYMENT_TAKEN,
	    "take_lost: a device error, but query says taken");
	T_CHECK(p->ops->take(p, 450, REF_A) == PAYMENT_OK &&
	    summary_is(p, 450, 0, 1, 0), "the retried take is not taken twice");
	T_CHECK(p->ops->refund(p, 450, REF_A) == PAYMENT_DEVICE_ERROR &&
	    state_of(p, REF_A) == PAYMENT_TAKEN,
	    "refund_error: a device error, nothing refunded");
	T_CHECK(p->ops->refund(p, 450, REF_A) == PAYMENT_DEVICE_ERROR &&
	    state_of(p, REF_A) == PAYMENT_REFUNDED,
	    "refund_lost: a device error, but query says refunded");
	T_CHECK(p->ops->refund(p, 450, REF_A) == PAYMENT_OK &&
	    summary_is(p, 450, 450, 1, 1), "the retried refund is not paid "
	    "twice");

	/* faults injected into the ledger reach the running device */
	cli = box("faults.db", "");
	if (!T_CHECK(cli != NULL, "a second handle on the ledger"))
		return;
	T_CHECK(coinbox_inject(cli, "declined=2") == 0, "inject declined=2");
	T_CHECK(p->ops->take(p, 200, REF_B) == PAYMENT_DECLINED &&
	    p->ops->take(p, 200, REF_B) == PAYMENT_DECLINED &&
	    p->ops->take(p, 200, REF_B) == PAYMENT_OK,
	    "the running device declines twice, then takes");
	T_CHECK(coinbox_inject(cli, "jammed") == 0, "inject jammed");
	p->ops->status(p, &ps);
	T_CHECK(!ps.ready && strcmp(ps.reason, "jammed") == 0,
	    "jammed: out of service, reason jammed");
	T_CHECK(p->ops->take(p, 200, "tx-ref-cccccccccccc") ==
	    PAYMENT_OUT_OF_SERVICE && p->ops->refund(p, 200, REF_B) ==
	    PAYMENT_OUT_OF_SERVICE && summary_is(p, 650, 450, 2, 1),
	    "jammed: takes and refunds do nothing");
	T_CHECK(state_of(p, REF_B) == PAYMENT_TAKEN,
	    "jammed: the ledger still answers a query");
	T_CHECK(coinbox_inject(cli, "clear") == 0 &&
	    coinbox_inject(cli, "offline") == 0, "clear, inject offline");
	p->ops->status(p, &ps);
	T_CHECK(!ps.ready && strcmp(ps.reason, "offline") == 0 &&
	    state_of(p, REF_B) == (enum payment_state)-1,
	    "offline: not ready, even a query fails");
	T_CHECK(coinbox_inject(cli, "clear") == 0 &&
	    p->ops->refund(p, 200, REF_B) == PAYMENT_OK &&
	    summary_is(p, 650, 650, 2, 2), "cleared: the refund goes through");
	T_CHECK(coinbox_inject(cli, "melted") == -1 &&
	    coinbox_inject(cli, "declined=0") == -1 &&
	    coinbox_inject(cli, "jammed=3") == -1, "unknown faults refused");
	cli->ops->close(cli);
	p->ops->close(p);
	T_CHECK(payment_coinbox_open("declined", err, sizeof(err)) == NULL &&
	    strstr(err, "ledger") != NULL, "no ledger: refused, said why");
	T_CHECK(payment_coinbox_open("ledger=/nonexistent/x/y.db", err,
	    sizeof(err)) == NULL, "an unreachable ledger: refused");
	p = box("bad.db", "bogus=1");
	T_CHECK(p == NULL, "an unknown option: refused");
}

static void
test_sigkill(void)
{
	struct payment *p;
	int fds[2], status;
	pid_t pid;
	char b = 'n';

	if (pipe(fds) == -1 || (pid = fork()) == -1) {
		T_CHECK(0, "fork");
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		if ((p = box("kill.db", "")) == NULL ||
		    p->ops->take(p, 450, REF_A) != PAYMENT_OK ||
		    p->ops->take(p, 200, REF_B) != PAYMENT_OK ||
		    p->ops->refund(p, 200, REF_B) != PAYMENT_OK)
			_exit(3);
		b = 'y';
		if (write(fds[1], &b, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(fds[1]);
	if (read(fds[0], &b, 1) != 1)
		b = 'n';
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	close(fds[0]);
	p = box("kill.db", "");
	T_CHECK(b == 'y' && p != NULL && summary_is(p, 650, 200, 2, 1) &&
	    state_of(p, REF_A) == PAYMENT_TAKEN &&
	    state_of(p, REF_B) == PAYMENT_REFUNDED,
	    "the ledger holds every take and refund after SIGKILL");
	if (p != NULL)
		p->ops->close(p);
}

static void
test_cli(void)
{
	const char *bd = getenv("KIOSK_BUILDDIR");
	char cmd[1400], line[256] = "";
	FILE *f;
	int rc;

	if (bd == NULL || *bd == '\0')
		bd = ".";
	(void)snprintf(cmd, sizeof(cmd), "%s/kioskd/kiosk-coinbox --ledger "
	    "%s/kill.db --summary", bd, dir);
	if ((f = popen(cmd, "r")) == NULL) {
		T_CHECK(0, "run kiosk-coinbox");
		return;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	rc = pclose(f);
	T_CHECK(rc == 0 && strcmp(line, "taken=650 refunded=200 net=450 "
	    "takes=2 refunds=1\n") == 0, "kiosk-coinbox --summary prints the "
	    "ledger's totals");
	(void)snprintf(cmd, sizeof(cmd), "%s/kioskd/kiosk-coinbox --ledger "
	    "%s/kill.db --list | grep -c ' refund " REF_B " 200$'", bd, dir);
	if ((f = popen(cmd, "r")) != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		(void)pclose(f);
	}
	T_CHECK(strcmp(line, "1\n") == 0, "kiosk-coinbox --list shows the "
	    "refund");
	(void)snprintf(cmd, sizeof(cmd), "%s/kioskd/kiosk-coinbox --ledger "
	    "%s/kill.db --inject nonsense 2>/dev/null", bd, dir);
	rc = system(cmd);
	T_CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 1,
	    "kiosk-coinbox --inject of an unknown fault fails");
}

int
main(void)
{
	const char *base = getenv("KIOSK_TMP");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	(void)snprintf(dir, sizeof(dir), "%s/coinbox.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_idempotency();
	test_faults();
	test_sigkill();
	test_cli();
	return t_done();
}
