/*
 * proc.c with real forks: an echo worker, kill -9 and restart with
 * backoff, a malformed reply, orderly and forced shutdown, inherited
 * descriptors, and a worker outliving its parent (it must exit on EOF).
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "kioskd/msg.h"
#include "kioskd/proc.h"
#include "log.h"
#include "util.h"
#include "t.h"

static struct event_base *base;

struct state {
	int		 ups;
	int		 downs;
	int		 msgs;
	struct proc_exit last_exit;
	pid_t		 up_pid;
	uint32_t	 last_type;
	uint32_t	 last_pid;	/* from the header */
	struct msg_card_info info;
	uint64_t	 pong;
	int		 done;
	int		 clean_exits;	/* exit 0 */
};

static struct state S;

/* --- worker side --------------------------------------------------------- */

/*
 * CARD_READ_REQ "fd:N": reply CARD_INFO, pin_tries = 1 when fd N is open
 * here; any other reader name is echoed in reader.  CARD_ABORT: reply a
 * CARD_INFO whose cert_len lies.  CARD_SIGN_REQ: stop with status 3.
 */
static void
echo_handler(struct proc_child *c, const struct msg *m, void *arg)
{
	struct msg_card_read_req req;
	struct msg_card_info ci;
	uint8_t junk[8] = { 0 };
	struct iovec iov[2];
	const char *errstr;
	int fd;

	memset(&ci, 0, sizeof(ci));
	switch (m->hdr.type) {
	case MSG_CARD_READ_REQ:
		if (msg_expect_len(m, sizeof(req)) == -1) {
			proc_child_fail(c, "CARD_READ_REQ");
			return;
		}
		memcpy(&req, m->data, sizeof(req));
		if (!msg_str_ok(req.reader, sizeof(req.reader))) {
			proc_child_fail(c, "reader");
			return;
		}
		if (strncmp(req.reader, "fd:", 3) == 0) {
			fd = (int)parse_num(req.reader + 3, 0, 65535, &errstr);
			ci.pin_tries = fcntl(fd, F_GETFD) != -1;
		} else
			memcpy(ci.reader, req.reader, sizeof(ci.reader));
		ci.status = MSG_CARD_OK;
		proc_child_send(c, MSG_CARD_INFO, m->hdr.sid, &ci, sizeof(ci));
		break;
	case MSG_CARD_ABORT:
		ci.cert_len = 100;	/* but only 8 bytes follow */
		iov[0].iov_base = &ci;
		iov[0].iov_len = sizeof(ci);
		iov[1].iov_base = junk;
		iov[1].iov_len = sizeof(junk);
		proc_child_sendv(c, MSG_CARD_INFO, m->hdr.sid, iov, 2);
		break;
	case MSG_CARD_SIGN_REQ:
		proc_child_stop(c, 3);
		break;
	default:
		proc_child_fail(c, msg_type_name(m->hdr.type));
		break;
	}
}

static int
echo_main(struct proc_child *c, void *arg)
{
	if (arg == NULL || strcmp(arg, "echo-arg") != 0)
		return 7;
	proc_child_set_handler(c, echo_handler, NULL);
	return proc_child_run(c);
}

/* Never reads its link and ignores SIGTERM: needs SIGKILL. */
static int
stubborn_main(struct proc_child *c, void *arg)
{
	signal(SIGTERM, SIG_IGN);
	for (;;)
		pause();
	return 0;
}

/* --- core side ----------------------------------------------------------- */

static void
hook_up(struct proc *p, void *arg)
{
	S.ups++;
	S.up_pid = proc_pid(p);
}

static void
hook_msg(struct proc *p, const struct msg *m, void *arg)
{
	const uint8_t *tail;
	struct msg_ping ping;

	S.msgs++;
	S.last_type = m->hdr.type;
	S.last_pid = m->hdr.pid;
	if (m->hdr.type == MSG_PONG && m->len == sizeof(ping)) {
		memcpy(&ping, m->data, sizeof(ping));
		S.pong = ping.cookie;
	}
	if (m->hdr.type == MSG_CARD_INFO) {
		memcpy(&S.info, m->data, sizeof(S.info));
		if (msg_get_tail(m, sizeof(S.info), S.info.cert_len,
		    MSG_CERT_MAX, &tail) == -1)
			proc_fail(p, "malformed CARD_INFO");
	}
}

static void
hook_down(struct proc *p, const struct proc_exit *ex, void *arg)
{
	S.downs++;
	S.last_exit = *ex;
	if (ex->signo == 0 && ex->status == 0)
		S.clean_exits++;
}

static const struct proc_hooks hooks = { hook_up, hook_msg, hook_down };

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

/* Run the loop until *v >= want or ms pass; returns 1 when reached. */
static int
wait_for(const int *v, int want, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *to;
	int expired = 0;

	to = evtimer_new(base, timeout_cb, &expired);
	evtimer_add(to, &tv);
	while (!expired && *v < want)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(to);
	return *v >= want;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
echo_once(struct proc *p, const char *text)
{
	struct msg_card_read_req req;
	int want = S.msgs + 1;

	memset(&req, 0, sizeof(req));
	snprintf(req.reader, sizeof(req.reader), "%s", text);
	if (proc_send(p, MSG_CARD_READ_REQ, 77, &req, sizeof(req)) == -1)
		return 0;
	if (!wait_for(&S.msgs, want, 3000))
		return 0;
	return S.last_type == MSG_CARD_INFO &&
	    strcmp(S.info.reader, text) == 0 &&
	    S.last_pid == (uint32_t)proc_pid(p);
}

/*
 * The parent dies without a word: its worker must see EOF and exit 0.
 * Runs in a child of the test that is its own event world.
 */
static void
test_orphan(void)
{
	int pfd[2], st, exited = 0;
	pid_t mid, w = 0;
	long long deadline;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		fatal("PR_SET_CHILD_SUBREAPER");
	if (pipe(pfd) == -1)
		fatal("pipe");
	if ((mid = fork()) == -1)
		fatal("fork");
	if (mid == 0) {
		struct proc *p;

		close(pfd[0]);
		if ((base = event_base_new()) == NULL || proc_init(base) == -1)
			_exit(2);
		p = proc_spawn("echo", MSG_ROLE_TEST, echo_main, "echo-arg",
		    &hooks, NULL);
		if (p == NULL || !wait_for(&S.ups, 1, 3000))
			_exit(3);
		w = proc_pid(p);
		if (write(pfd[1], &w, sizeof(w)) != (ssize_t)sizeof(w))
			_exit(4);
		_exit(0);	/* no SHUTDOWN, no SIGTERM: just gone */
	}
	close(pfd[1]);
	if (read(pfd[0], &w, sizeof(w)) != (ssize_t)sizeof(w))
		w = 0;
	close(pfd[0]);
	waitpid(mid, &st, 0);
	T_CHECK(w > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "orphan test: parent spawned a worker and left");
	if (w <= 0)
		return;
	deadline = now_ms() + 5000;
	while (now_ms() < deadline) {
		if (waitpid(w, &st, WNOHANG) == w) {
			exited = 1;
			break;
		}
		usleep(10000);
	}
	if (!exited)
		kill(w, SIGKILL);
	T_CHECK(exited && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "worker exits cleanly (0) when the link to its parent closes");
	if (prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) == -1)
		fatal("PR_SET_CHILD_SUBREAPER");
}

static int hups;

static void
on_hup(void *arg)
{
	hups++;
}

/*
 * proc_catch_signals() defaults, in a child of the test: SIGHUP reaches
 * the hook, SIGTERM stops the workers (exit 0) and leaves the loop.
 */
static void
test_signals(void)
{
	pid_t mid;
	int st;

	if ((mid = fork()) == -1)
		fatal("fork");
	if (mid == 0) {
		struct proc *p;

		if ((base = event_base_new()) == NULL || proc_init(base) == -1 ||
		    proc_catch_signals(NULL, on_hup, NULL) == -1)
			_exit(2);
		p = proc_spawn("echo", MSG_ROLE_TEST, echo_main, "echo-arg",
		    &hooks, NULL);
		if (p == NULL || !wait_for(&S.ups, 1, 3000))
			_exit(3);
		raise(SIGHUP);
		if (!wait_for(&hups, 1, 3000))
			_exit(4);
		raise(SIGTERM);
		if (event_base_dispatch(base) == -1)
			_exit(5);
		/* The loop ends only once the worker is reaped. */
		if (proc_pid(p) != 0 || S.clean_exits != 1 || S.downs != 1)
			_exit(6);
		_exit(0);
	}
	if (waitpid(mid, &st, 0) == -1)
		fatal("waitpid");
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "SIGHUP hook; SIGTERM stops the workers, then the loop");
}

static void
stop_done(void *arg)
{
	S.done++;
}

int
main(void)
{
	struct timeval bmin = { 0, 200000 }, bmax = { 0, 800000 };
	struct timeval stable = { 60, 0 }, grace = { 0, 300000 };
	struct msg_ping ping = { 0xfeedbeefcafef00dULL };
	struct proc *p, *q, *r;
	pid_t old;
	int pfd[2], want, ok, i, clean0;
	long long t0, t1;
	char fdreq[32];
	long long delays[3];

	log_init("test_proc", 0);
	test_orphan();
	test_signals();

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	T_CHECK(proc_init(base) == 0, "proc_init");
	proc_set_backoff(&bmin, &bmax, &stable);

	/* A descriptor the core holds: the worker must not. */
	if (pipe(pfd) == -1)
		fatal("pipe");
	p = proc_spawn("echo", MSG_ROLE_TEST, echo_main, "echo-arg", &hooks,
	    NULL);
	T_CHECK(p != NULL && proc_pid(p) > 0, "spawn");
	T_CHECK(wait_for(&S.ups, 1, 3000) && proc_is_up(p) &&
	    S.up_pid == proc_pid(p), "worker says HELLO: up hook");
	T_CHECK(echo_once(p, "hello"), "echo works");
	snprintf(fdreq, sizeof(fdreq), "fd:%d", pfd[0]);
	{
		struct msg_card_read_req req;

		memset(&req, 0, sizeof(req));
		snprintf(req.reader, sizeof(req.reader), "%s", fdreq);
		want = S.msgs + 1;
		proc_send(p, MSG_CARD_READ_REQ, 1, &req, sizeof(req));
		T_CHECK(wait_for(&S.msgs, want, 3000) &&
		    S.info.pin_tries == 0,
		    "inherited descriptors are closed in the worker");
	}
	want = S.msgs + 1;
	T_CHECK(proc_send(p, MSG_PING, 5, &ping, sizeof(ping)) == 0 &&
	    wait_for(&S.msgs, want, 3000) && S.last_type == MSG_PONG &&
	    S.pong == ping.cookie, "PING answered with the cookie");

	/* kill -9: down hook with the signal, restart, echo again. */
	old = proc_pid(p);
	t0 = now_ms();
	kill(old, SIGKILL);
	T_CHECK(wait_for(&S.downs, 1, 3000) && S.last_exit.signo == SIGKILL &&
	    S.last_exit.pid == old && S.last_exit.restart,
	    "kill -9: down hook reports signal 9 and a restart");
	T_CHECK(strstr(S.last_exit.desc, "signal 9") != NULL,
	    "exit description names the signal");
	T_CHECK(!proc_is_up(p) && proc_send(p, MSG_PING, 0, &ping,
	    sizeof(ping)) == -1 && errno == EPIPE,
	    "sending to a dead worker fails with EPIPE");
	T_CHECK(wait_for(&S.ups, 2, 3000) && proc_pid(p) != old &&
	    proc_pid(p) > 0, "worker restarted with a new pid");
	t1 = now_ms();
	T_CHECK(t1 - t0 >= 190, "restart waited for the backoff");
	T_CHECK(echo_once(p, "again"), "echo works after the restart");

	/* A malformed reply: the core kills and restarts the worker. */
	old = proc_pid(p);
	proc_send(p, MSG_CARD_ABORT, 0, NULL, 0);
	T_CHECK(wait_for(&S.downs, 2, 3000) && S.last_exit.signo == SIGKILL &&
	    S.last_exit.pid == old, "malformed message: worker killed");
	T_CHECK(wait_for(&S.ups, 3, 3000) && echo_once(p, "third"),
	    "... and restarted");

	/* Backoff doubles on quick deaths, up to the ceiling. */
	delays[0] = delays[1] = delays[2] = 0;
	ok = 1;
	for (i = 0; i < 3; i++) {
		struct msg_card_sign_req sr;

		memset(&sr, 0, sizeof(sr));
		want = S.downs + 1;
		if (proc_send(p, MSG_CARD_SIGN_REQ, 0, &sr, sizeof(sr)) == -1 ||
		    !wait_for(&S.downs, want, 3000))
			ok = 0;
		if (S.last_exit.signo != 0 || S.last_exit.status != 3)
			ok = 0;
		delays[i] = (long long)S.last_exit.delay.tv_sec * 1000 +
		    S.last_exit.delay.tv_usec / 1000;
		if (!wait_for(&S.ups, S.ups + 1, 3000))
			ok = 0;
	}
	T_CHECK(ok, "worker exit 3 reported as exit status, restarted");
	/* After two quick deaths so far the next delays are 800 (cap). */
	T_CHECK(delays[0] == 800 && delays[1] == 800 && delays[2] == 800,
	    "backoff capped at the ceiling");

	/* Recycled: stopped in order, back at once despite the backoff. */
	old = proc_pid(p);
	want = S.ups + 1;
	proc_recycle(p);
	T_CHECK(!proc_is_up(p), "recycle: not up from the call on");
	T_CHECK(wait_for(&S.ups, want, 3000) && proc_pid(p) != old &&
	    proc_is_up(p), "recycle: started again, up");
	T_CHECK(S.last_exit.recycled && S.last_exit.signo == 0 &&
	    S.last_exit.status == 0 && S.last_exit.restart &&
	    !timerisset(&S.last_exit.delay),
	    "recycle: a clean exit and a restart without delay");
	T_CHECK(echo_once(p, "recycled"), "recycle: echo works");

	/* Spawn argument errors. */
	errno = 0;
	T_CHECK(proc_spawn("a-name-that-is-too-long", MSG_ROLE_TEST,
	    echo_main, NULL, &hooks, NULL) == NULL && errno == EINVAL,
	    "spawn: over-long name refused");

	/* A second worker with a bad argument exits 7 at once. */
	q = proc_spawn("bad", MSG_ROLE_TEST, echo_main, NULL, &hooks, NULL);
	T_CHECK(q != NULL, "spawn a second worker");
	want = S.downs + 1;
	T_CHECK(wait_for(&S.downs, want, 3000) && S.last_exit.status == 7,
	    "a worker failing at start is reported (exit 7)");
	proc_set_arg(q, "echo-arg");
	want = S.ups + 1;
	T_CHECK(wait_for(&S.ups, want, 3000) && proc_is_up(q),
	    "proc_set_arg: the restart gets the new argument");

	/* Orderly shutdown: the echo workers leave at SHUTDOWN, the
	   stubborn one needs SIGTERM then SIGKILL. */
	r = proc_spawn("stubborn", MSG_ROLE_TEST, stubborn_main, NULL,
	    &hooks, NULL);
	T_CHECK(r != NULL, "spawn a stubborn worker");
	wait_for(&S.done, 1, 100);	/* let it start */
	want = S.downs;
	clean0 = S.clean_exits;
	t0 = now_ms();
	proc_shutdown(&grace, stop_done, NULL);
	T_CHECK(wait_for(&S.done, 1, 5000), "shutdown completes");
	t1 = now_ms();
	T_CHECK(S.downs == want + 3, "three workers reaped");
	T_CHECK(S.clean_exits - clean0 == 2,
	    "echo workers left cleanly at SHUTDOWN");
	T_CHECK(S.last_exit.signo == SIGKILL && !S.last_exit.restart,
	    "stubborn worker killed after two graces, no restart");
	T_CHECK(t1 - t0 >= 550 && t1 - t0 < 3000, "escalation took two graces");
	T_CHECK(proc_pid(p) == 0 && proc_pid(q) == 0 && proc_pid(r) == 0,
	    "no worker left");
	wait_for(&S.ups, 1000, 700);
	T_CHECK(proc_pid(p) == 0, "no restart after shutdown");
	T_CHECK(S.done == 1, "done called once");
	return t_done();
}
