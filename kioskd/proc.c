/*
 * Worker processes: fork, link, reap, restart with backoff, orderly stop
 * (proc.h).  Signals reach us only through libevent; nothing runs in
 * signal context.  Only our own children are reaped (waitpid per pid), so
 * the core may run other children of its own.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msg.h"
#include "proc.h"
#include "util.h"

struct proc {
	char			 name[PROC_NAME_LEN];
	enum msg_role		 role;
	proc_main_fn		 main_fn;
	void			*main_arg;
	struct proc_hooks	 hooks;
	void			*hook_arg;
	pid_t			 pid;		/* 0: not running */
	struct msg_peer		*peer;
	int			 up;		/* HELLO received */
	int			 in_msg;	/* inside the msg hook */
	int			 killed;	/* we sent SIGKILL */
	int			 recycle;	/* stopped for a new arg */
	struct timespec		 started;
	struct timeval		 delay;		/* next restart delay */
	struct event		*restart_ev;
	struct event		*kill_ev;	/* SIGKILL a lingering child */
};

struct proc_child {
	struct event_base	*base;
	struct msg_peer		*peer;
	char			 name[PROC_NAME_LEN];
	enum msg_role		 role;
	struct event		*term_ev;
	proc_child_cb		 handler;
	void			*handler_arg;
	int			 status;
};

static struct event_base	*proc_base;
static struct proc		*procs[PROC_MAX];
static struct event		*proc_chld_ev;
static struct event		*proc_term_ev, *proc_int_ev, *proc_hup_ev;
static struct event		*proc_stop_ev;	/* shutdown escalation */
static struct event		*proc_done_ev;
static int			 proc_stopping;
static int			 proc_stop_stage;
static int			 proc_done_fired;
static struct timeval		 proc_grace;
static void			(*proc_done_cb)(void *);
static void			*proc_done_arg;
static void			(*proc_on_term)(int, void *);
static void			(*proc_on_hup)(void *);
static void			*proc_sig_arg;

static struct timeval	backoff_min = { 0, 500000 };
static struct timeval	backoff_max = { 30, 0 };
static struct timeval	backoff_stable = { 60, 0 };

static int	proc_start(struct proc *);
static void	proc_check_done(void);

/* --- helpers ----------------------------------------------------------- */

static long long
tv_ms(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000 + tv->tv_usec / 1000;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- core side ----------------------------------------------------------- */

void
proc_set_backoff(const struct timeval *min, const struct timeval *max,
    const struct timeval *stable)
{
	int i;

	if (min != NULL)
		backoff_min = *min;
	if (max != NULL)
		backoff_max = *max;
	if (stable != NULL)
		backoff_stable = *stable;
	for (i = 0; i < PROC_MAX; i++)
		if (procs[i] != NULL)
			procs[i]->delay = backoff_min;
}

const char *
proc_name(const struct proc *p)
{
	return p->name;
}

pid_t
proc_pid(const struct proc *p)
{
	return p->pid;
}

/* A worker being recycled is on its way out: nothing new for it. */
int
proc_is_up(const struct proc *p)
{
	return p->up && !p->recycle;
}

void
proc_set_arg(struct proc *p, void *main_arg)
{
	p->main_arg = main_arg;
}

int
proc_shutting_down(void)
{
	return proc_stopping;
}

/* Drop the link; signal the child (0: none) unless it is gone. */
static void
proc_link_down(struct proc *p, int sig)
{
	struct timeval tv = { 1, 0 };

	if (p->peer != NULL) {
		msg_peer_free(p->peer);
		p->peer = NULL;
	}
	p->up = 0;
	if (p->pid <= 0)
		return;
	if (sig == SIGKILL) {
		if (kill(p->pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill %s[%ld]", p->name, (long)p->pid);
		p->killed = 1;
	} else if (!event_pending(p->kill_ev, EV_TIMEOUT, NULL)) {
		/* EOF: the child should be exiting; make sure it does. */
		if (event_add(p->kill_ev, &tv) == -1)
			log_warnx("%s: cannot arm the kill timer", p->name);
	}
}

void
proc_recycle(struct proc *p)
{
	struct timeval grace = { 2, 0 };

	if (proc_stopping || p->pid <= 0)
		return;	/* a worker that is down starts with it anyway */
	p->recycle = 1;
	if (p->peer != NULL && msg_compose(p->peer, MSG_SHUTDOWN, 0, NULL,
	    0) == 0) {
		if (event_add(p->kill_ev, &grace) == -1)
			log_warnx("%s: cannot arm the kill timer", p->name);
	} else
		proc_link_down(p, SIGKILL);
}

void
proc_fail(struct proc *p, const char *why)
{
	log_warnx("worker %s[%ld]: %s", p->name, (long)p->pid, why);
	if (p->in_msg && p->peer != NULL)
		msg_peer_fail(p->peer);	/* proc_peer_error() follows */
	else
		proc_link_down(p, SIGKILL);
}

static void
proc_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	if (p->pid > 0) {
		log_warnx("worker %s[%ld] lingers, killing it", p->name,
		    (long)p->pid);
		if (kill(p->pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill %s[%ld]", p->name, (long)p->pid);
		p->killed = 1;
	}
}

static void
proc_peer_msg(struct msg_peer *peer, const struct msg *m, void *arg)
{
	struct proc *p = arg;

	if (m->hdr.pid != (uint32_t)p->pid) {
		log_warnx("worker %s[%ld]: message claims pid %u", p->name,
		    (long)p->pid, m->hdr.pid);
		msg_peer_fail(peer);
		return;
	}
	if (!p->up) {
		if (msg_check_hello(m, p->role) == -1) {
			log_warnx("worker %s[%ld]: bad HELLO", p->name,
			    (long)p->pid);
			msg_peer_fail(peer);
			return;
		}
		p->up = 1;
		log_debug("worker %s[%ld] up", p->name, (long)p->pid);
		if (p->hooks.up != NULL)
			p->hooks.up(p, p->hook_arg);
		return;
	}
	if (m->hdr.type == MSG_HELLO || m->hdr.type == MSG_SHUTDOWN) {
		log_warnx("worker %s[%ld]: unexpected %s", p->name,
		    (long)p->pid, msg_type_name(m->hdr.type));
		msg_peer_fail(peer);
		return;
	}
	if (p->hooks.msg == NULL) {
		log_warnx("worker %s: no handler for %s", p->name,
		    msg_type_name(m->hdr.type));
		msg_peer_fail(peer);
		return;
	}
	p->in_msg = 1;
	p->hooks.msg(p, m, p->hook_arg);
	p->in_msg = 0;
}

static void
proc_peer_error(struct msg_peer *peer, enum msg_error e, void *arg)
{
	struct proc *p = arg;

	if (e == MSG_ERR_EOF) {
		if (!proc_stopping)
			log_warnx("worker %s[%ld]: link closed", p->name,
			    (long)p->pid);
		proc_link_down(p, 0);
		return;
	}
	log_warnx("worker %s[%ld]: %s, killing it", p->name, (long)p->pid,
	    msg_error_name(e));
	proc_link_down(p, SIGKILL);
}

static void
proc_restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	if (proc_stopping || p->pid > 0)
		return;
	log_info("restarting worker %s", p->name);
	if (proc_start(p) == -1) {
		log_warn("restart %s", p->name);
		if (event_add(p->restart_ev, &p->delay) == -1)
			log_warnx("%s: cannot arm the restart timer", p->name);
		timeradd(&p->delay, &p->delay, &p->delay);
		if (timercmp(&p->delay, &backoff_max, >))
			p->delay = backoff_max;
	}
}

static void
proc_reaped(struct proc *p, int st)
{
	struct proc_exit ex;
	long long up_ms;

	memset(&ex, 0, sizeof(ex));
	ex.pid = p->pid;
	if (WIFSIGNALED(st)) {
		ex.signo = WTERMSIG(st);
		snprintf(ex.desc, sizeof(ex.desc), "signal %d (%s)", ex.signo,
		    strsignal(ex.signo));
	} else {
		ex.status = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
		snprintf(ex.desc, sizeof(ex.desc), "exit %d", ex.status);
	}
	p->pid = 0;
	p->killed = 0;
	event_del(p->kill_ev);
	if (p->peer != NULL) {
		msg_peer_free(p->peer);
		p->peer = NULL;
	}
	p->up = 0;

	if (!proc_stopping && p->recycle) {
		/* asked to stop for a new configuration: back at once */
		p->recycle = 0;
		ex.recycled = 1;
		ex.restart = 1;
		timerclear(&ex.delay);
		if (event_add(p->restart_ev, &ex.delay) == -1) {
			log_warnx("%s: cannot arm the restart timer", p->name);
			ex.restart = 0;
		}
		log_info("worker %s[%ld] stopped (%s) to take the new "
		    "configuration", p->name, (long)ex.pid, ex.desc);
	} else if (!proc_stopping) {
		up_ms = mono_ms() - ((long long)p->started.tv_sec * 1000 +
		    p->started.tv_nsec / 1000000);
		if (up_ms >= tv_ms(&backoff_stable))
			p->delay = backoff_min;
		ex.restart = 1;
		ex.delay = p->delay;
		if (event_add(p->restart_ev, &p->delay) == -1) {
			log_warnx("%s: cannot arm the restart timer", p->name);
			ex.restart = 0;
		}
		timeradd(&p->delay, &p->delay, &p->delay);
		if (timercmp(&p->delay, &backoff_max, >))
			p->delay = backoff_max;
		log_warnx("worker %s[%ld] died (%s), restart in %lld ms",
		    p->name, (long)ex.pid, ex.desc, tv_ms(&ex.delay));
	} else
		log_info("worker %s[%ld] stopped (%s)", p->name, (long)ex.pid,
		    ex.desc);

	if (p->hooks.down != NULL)
		p->hooks.down(p, &ex, p->hook_arg);
}

static void
proc_chld_cb(evutil_socket_t sig, short what, void *arg)
{
	pid_t r;
	int i, st;

	for (i = 0; i < PROC_MAX; i++) {
		if (procs[i] == NULL || procs[i]->pid <= 0)
			continue;
		do {
			r = waitpid(procs[i]->pid, &st, WNOHANG);
		} while (r == -1 && errno == EINTR);
		if (r == -1) {
			log_warn("waitpid %s[%ld]", procs[i]->name,
			    (long)procs[i]->pid);
			if (errno == ECHILD) {
				/* Someone else reaped it: treat as lost. */
				proc_reaped(procs[i], 0xff00);
			}
			continue;
		}
		if (r == procs[i]->pid)
			proc_reaped(procs[i], st);
	}
	if (proc_stopping)
		proc_check_done();
}

int
proc_init(struct event_base *base)
{
	if (proc_base != NULL) {
		errno = EALREADY;
		return -1;
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	proc_chld_ev = evsignal_new(base, SIGCHLD, proc_chld_cb, NULL);
	if (proc_chld_ev == NULL || evsignal_add(proc_chld_ev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	proc_base = base;
	return 0;
}

/* Close every descriptor from 3 up except keep (the worker's link). */
static int
proc_close_fds(int keep)
{
	DIR *d;
	struct dirent *de;
	int fds[256], n, i, fd, more;
	const char *errstr;

#ifdef SYS_close_range
	if (keep > 3 && syscall(SYS_close_range, 3u,
	    (unsigned int)keep - 1, 0u) == -1 && errno != ENOSYS)
		return -1;
	if (syscall(SYS_close_range, (unsigned int)keep + 1, ~0u, 0u) == 0)
		return 0;
	if (errno != ENOSYS)
		return -1;
#endif
	do {
		if ((d = opendir("/proc/self/fd")) == NULL)
			return -1;
		n = 0;
		more = 0;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			fd = (int)parse_num(de->d_name, 0, INT_MAX, &errstr);
			if (errstr != NULL)
				continue;
			if (fd < 3 || fd == keep || fd == dirfd(d))
				continue;
			if (n == (int)(sizeof(fds) / sizeof(fds[0]))) {
				more = 1;
				break;
			}
			fds[n++] = fd;
		}
		closedir(d);
		for (i = 0; i < n; i++)
			close(fds[i]);
	} while (more);
	return 0;
}

static void proc_child_main(struct proc *, int) __attribute__((noreturn));

static int
proc_start(struct proc *p)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	fflush(NULL);	/* the child must not write our buffered output */
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		proc_child_main(p, sv[1]);
	}
	close(sv[1]);
	p->pid = pid;
	p->killed = 0;
	p->up = 0;
	if (clock_gettime(CLOCK_MONOTONIC, &p->started) == -1)
		fatal("clock_gettime");
	p->peer = msg_peer_new(proc_base, sv[0], p->name, proc_peer_msg,
	    proc_peer_error, p);
	if (p->peer == NULL) {
		log_warn("worker %s: link", p->name);
		close(sv[0]);
		proc_link_down(p, SIGKILL);
	}
	log_debug("worker %s started, pid %ld", p->name, (long)pid);
	return 0;
}

struct proc *
proc_spawn(const char *name, enum msg_role role, proc_main_fn main_fn,
    void *main_arg, const struct proc_hooks *hooks, void *hook_arg)
{
	struct proc *p;
	int i, slot = -1;

	if (proc_base == NULL || name == NULL || main_fn == NULL ||
	    strlen(name) == 0 || strlen(name) >= PROC_NAME_LEN ||
	    proc_stopping) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < PROC_MAX; i++)
		if (procs[i] == NULL) {
			slot = i;
			break;
		}
	if (slot == -1) {
		errno = ENOSPC;
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	memcpy(p->name, name, strlen(name) + 1);
	p->role = role;
	p->main_fn = main_fn;
	p->main_arg = main_arg;
	if (hooks != NULL)
		p->hooks = *hooks;
	p->hook_arg = hook_arg;
	p->delay = backoff_min;
	p->restart_ev = evtimer_new(proc_base, proc_restart_cb, p);
	p->kill_ev = evtimer_new(proc_base, proc_kill_cb, p);
	if (p->restart_ev == NULL || p->kill_ev == NULL) {
		if (p->restart_ev != NULL)
			event_free(p->restart_ev);
		if (p->kill_ev != NULL)
			event_free(p->kill_ev);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	procs[slot] = p;
	if (proc_start(p) == -1) {
		procs[slot] = NULL;
		event_free(p->restart_ev);
		event_free(p->kill_ev);
		free(p);
		return NULL;
	}
	return p;
}

int
proc_sendv(struct proc *p, uint32_t type, uint64_t sid,
    const struct iovec *iov, int iovcnt)
{
	if (p->peer == NULL) {
		errno = EPIPE;
		return -1;
	}
	return msg_composev(p->peer, type, sid, iov, iovcnt);
}

int
proc_send(struct proc *p, uint32_t type, uint64_t sid, const void *data,
    size_t len)
{
	if (p->peer == NULL) {
		errno = EPIPE;
		return -1;
	}
	return msg_compose(p->peer, type, sid, data, len);
}

static void
proc_done_cb_ev(evutil_socket_t fd, short what, void *arg)
{
	if (proc_done_cb != NULL)
		proc_done_cb(proc_done_arg);
}

static void
proc_check_done(void)
{
	int i;

	for (i = 0; i < PROC_MAX; i++)
		if (procs[i] != NULL && procs[i]->pid > 0)
			return;
	if (proc_stop_ev != NULL)
		event_del(proc_stop_ev);
	if (proc_done_ev != NULL && !proc_done_fired) {
		proc_done_fired = 1;
		event_active(proc_done_ev, EV_TIMEOUT, 0);
	}
}

static void
proc_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	int i, sig;

	proc_stop_stage++;
	sig = proc_stop_stage == 1 ? SIGTERM : SIGKILL;
	for (i = 0; i < PROC_MAX; i++) {
		if (procs[i] == NULL || procs[i]->pid <= 0)
			continue;
		log_warnx("worker %s[%ld] still running, sending %s",
		    procs[i]->name, (long)procs[i]->pid,
		    sig == SIGTERM ? "SIGTERM" : "SIGKILL");
		if (kill(procs[i]->pid, sig) == -1 && errno != ESRCH)
			log_warn("kill %s", procs[i]->name);
	}
	if (proc_stop_stage == 1 && evtimer_add(proc_stop_ev,
	    &proc_grace) == -1)
		log_warnx("cannot arm the shutdown timer");
}

void
proc_shutdown(const struct timeval *grace, void (*done)(void *), void *arg)
{
	int i;

	if (proc_stopping) {
		log_debug("shutdown already in progress");
		return;
	}
	proc_stopping = 1;
	proc_stop_stage = 0;
	proc_grace = *grace;
	proc_done_cb = done;
	proc_done_arg = arg;
	if (proc_stop_ev == NULL)
		proc_stop_ev = evtimer_new(proc_base, proc_stop_cb, NULL);
	if (proc_done_ev == NULL)
		proc_done_ev = evtimer_new(proc_base, proc_done_cb_ev, NULL);
	if (proc_stop_ev == NULL || proc_done_ev == NULL)
		fatalx("proc_shutdown: out of memory");
	for (i = 0; i < PROC_MAX; i++) {
		if (procs[i] == NULL)
			continue;
		event_del(procs[i]->restart_ev);
		if (procs[i]->pid <= 0)
			continue;
		if (procs[i]->peer == NULL || msg_compose(procs[i]->peer,
		    MSG_SHUTDOWN, 0, NULL, 0) == -1) {
			if (kill(procs[i]->pid, SIGTERM) == -1 &&
			    errno != ESRCH)
				log_warn("kill %s", procs[i]->name);
		}
	}
	if (evtimer_add(proc_stop_ev, &proc_grace) == -1)
		fatalx("proc_shutdown: cannot arm the timer");
	proc_check_done();
}

static void
proc_loopexit(void *arg)
{
	event_base_loopexit(proc_base, NULL);
}

static void
proc_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct timeval grace = { 2, 0 };

	if (sig == SIGHUP) {
		if (proc_on_hup != NULL)
			proc_on_hup(proc_sig_arg);
		return;
	}
	log_info("received signal %d (%s)", (int)sig, strsignal((int)sig));
	if (proc_on_term != NULL)
		proc_on_term((int)sig, proc_sig_arg);
	else
		proc_shutdown(&grace, proc_loopexit, NULL);
}

int
proc_catch_signals(void (*on_term)(int, void *), void (*on_hup)(void *),
    void *arg)
{
	if (proc_base == NULL || proc_term_ev != NULL) {
		errno = EINVAL;
		return -1;
	}
	proc_on_term = on_term;
	proc_on_hup = on_hup;
	proc_sig_arg = arg;
	proc_term_ev = evsignal_new(proc_base, SIGTERM, proc_signal_cb, NULL);
	proc_int_ev = evsignal_new(proc_base, SIGINT, proc_signal_cb, NULL);
	proc_hup_ev = evsignal_new(proc_base, SIGHUP, proc_signal_cb, NULL);
	if (proc_term_ev == NULL || proc_int_ev == NULL ||
	    proc_hup_ev == NULL || evsignal_add(proc_term_ev, NULL) == -1 ||
	    evsignal_add(proc_int_ev, NULL) == -1 ||
	    evsignal_add(proc_hup_ev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* --- child side ----------------------------------------------------------- */

struct event_base *
proc_child_base(struct proc_child *c)
{
	return c->base;
}

const char *
proc_child_name(const struct proc_child *c)
{
	return c->name;
}

void
proc_child_set_handler(struct proc_child *c, proc_child_cb cb, void *arg)
{
	c->handler = cb;
	c->handler_arg = arg;
}

int
proc_child_send(struct proc_child *c, uint32_t type, uint64_t sid,
    const void *data, size_t len)
{
	if (c->peer == NULL) {
		errno = EPIPE;
		return -1;
	}
	return msg_compose(c->peer, type, sid, data, len);
}

int
proc_child_sendv(struct proc_child *c, uint32_t type, uint64_t sid,
    const struct iovec *iov, int iovcnt)
{
	if (c->peer == NULL) {
		errno = EPIPE;
		return -1;
	}
	return msg_composev(c->peer, type, sid, iov, iovcnt);
}

void
proc_child_stop(struct proc_child *c, int status)
{
	c->status = status;
	event_base_loopbreak(c->base);
}

void
proc_child_fail(struct proc_child *c, const char *why)
{
	log_warnx("malformed message from the core: %s", why);
	if (c->peer != NULL)
		msg_peer_fail(c->peer);
	proc_child_stop(c, 1);
}

static void
proc_child_msg(struct msg_peer *peer, const struct msg *m, void *arg)
{
	struct proc_child *c = arg;
	struct msg_ping ping;

	switch (m->hdr.type) {
	case MSG_SHUTDOWN:
		log_debug("shutdown requested");
		proc_child_stop(c, 0);
		return;
	case MSG_PING:
		if (msg_expect_len(m, sizeof(ping)) == -1) {
			proc_child_fail(c, "PING");
			return;
		}
		memcpy(&ping, m->data, sizeof(ping));
		if (msg_compose(peer, MSG_PONG, m->hdr.sid, &ping,
		    sizeof(ping)) == -1)
			log_warn("PONG");
		return;
	case MSG_HELLO:
		proc_child_fail(c, "unexpected HELLO");
		return;
	default:
		break;
	}
	if (c->handler == NULL) {
		proc_child_fail(c, msg_type_name(m->hdr.type));
		return;
	}
	c->handler(c, m, c->handler_arg);
}

static void
proc_child_error(struct msg_peer *peer, enum msg_error e, void *arg)
{
	struct proc_child *c = arg;

	if (e == MSG_ERR_EOF) {
		log_debug("core closed the link, exiting");
		proc_child_stop(c, c->status);
	} else {
		log_warnx("link to the core: %s", msg_error_name(e));
		proc_child_stop(c, 1);
	}
	msg_peer_free(peer);
	c->peer = NULL;
}

static void
proc_child_term(evutil_socket_t sig, short what, void *arg)
{
	struct proc_child *c = arg;

	log_debug("SIGTERM, exiting");
	proc_child_stop(c, 0);
}

int
proc_child_run(struct proc_child *c)
{
	if (c->peer == NULL)
		return 1;
	if (msg_send_hello(c->peer, c->role, c->name) == -1) {
		log_warn("HELLO");
		return 1;
	}
	c->status = 0;
	if (event_base_dispatch(c->base) == -1) {
		log_warnx("event loop failed");
		return 1;
	}
	return c->status;
}

static void
proc_child_main(struct proc *p, int fd)
{
	static char title[32];
	struct proc_child c;
	int rc, nfd;

	/* The core's base shares its epoll instance with the core:
	   re-initialise before touching it, then drop it entirely. */
	if (event_reinit(proc_base) == -1) {
		log_warnx("%s: event_reinit failed", p->name);
		_exit(1);
	}
	event_base_free(proc_base);
	proc_base = NULL;
	if (fd < 3) {
		/* Our stdio was closed: keep 0-2 free for it. */
		if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
			log_warn("%s: dup", p->name);
			_exit(1);
		}
		close(fd);
		fd = nfd;
	}
	if (proc_close_fds(fd) == -1) {
		log_warn("%s: closing inherited descriptors", p->name);
		_exit(1);
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    signal(SIGINT, SIG_IGN) == SIG_ERR ||
	    signal(SIGHUP, SIG_IGN) == SIG_ERR ||
	    signal(SIGCHLD, SIG_DFL) == SIG_ERR) {
		log_warn("%s: signal", p->name);
		_exit(1);
	}
	snprintf(title, sizeof(title), "kioskd-%s", p->name);
	log_init(title, log_getverbose());
	if (prctl(PR_SET_NAME, title, 0, 0, 0) == -1)
		log_warn("prctl PR_SET_NAME");

	memset(&c, 0, sizeof(c));
	memcpy(c.name, p->name, sizeof(c.name));
	c.role = p->role;
	if ((c.base = event_base_new()) == NULL) {
		log_warnx("event_base_new failed");
		_exit(1);
	}
	c.peer = msg_peer_new(c.base, fd, "core", proc_child_msg,
	    proc_child_error, &c);
	if (c.peer == NULL) {
		log_warn("link to the core");
		_exit(1);
	}
	c.term_ev = evsignal_new(c.base, SIGTERM, proc_child_term, &c);
	if (c.term_ev == NULL || evsignal_add(c.term_ev, NULL) == -1) {
		log_warnx("cannot watch SIGTERM");
		_exit(1);
	}

	rc = p->main_fn(&c, p->main_arg);

	if (c.peer != NULL) {
		if (msg_flush(c.peer, 1000) == -1 && errno != EPIPE)
			log_warn("flushing the link");
		msg_peer_free(c.peer);
	}
	event_free(c.term_ev);
	event_base_free(c.base);
	fflush(NULL);
	_exit(rc);
}
