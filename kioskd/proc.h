/*
 * Worker processes of kioskd (after bgpd's start_child() and tmux proc.c).
 *
 * The core calls proc_init() once, then proc_spawn() per worker.  Each
 * worker is a fork connected to the core by a socketpair carrying msg.h
 * frames.  In the child, the core's event base is re-initialised and freed,
 * every inherited descriptor but the worker's own link (and 0-2) is closed,
 * and the worker gets a fresh event base; its main function calls
 * proc_child_run(), which returns when the core sends MSG_SHUTDOWN, closes
 * the link, or sends SIGTERM.
 *
 * In the core, SIGCHLD is handled through libevent: a dead worker is
 * reaped, reported through the down hook (fail the session in flight
 * there) and restarted with backoff: 0.5 s doubling to 30 s, back to 0.5 s
 * once a worker stayed up 60 s.  A worker whose link breaks or that sends a
 * malformed message is killed (SIGKILL) and restarted the same way.
 */
#ifndef KIOSK_PROC_H
#define KIOSK_PROC_H

#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

struct event_base;
struct proc;
struct proc_child;

#define PROC_MAX		8	/* workers per core */
#define PROC_NAME_LEN		16

/* How a worker ended. */
struct proc_exit {
	pid_t		pid;
	int		signo;		/* killed by this signal, else 0 */
	int		status;		/* exit status when signo == 0 */
	int		restart;	/* 1: a restart is scheduled */
	int		recycled;	/* 1: stopped by proc_recycle() */
	struct timeval	delay;		/* ... after this long */
	char		desc[64];	/* "exit 0", "signal 9 (Killed)" */
};

/* Core-side hooks of one worker; any may be NULL. */
struct proc_hooks {
	/* The worker said HELLO with our version: ready for requests. */
	void	(*up)(struct proc *, void *);
	/* Every message after HELLO (PONG included).  A handler that finds
	   the payload malformed calls proc_fail(). */
	void	(*msg)(struct proc *, const struct msg *, void *);
	/* The worker is gone (reaped): fail what it was doing. */
	void	(*down)(struct proc *, const struct proc_exit *, void *);
};

/* Runs in the child; its return value is the exit status. */
typedef int	(*proc_main_fn)(struct proc_child *, void *);
typedef void	(*proc_child_cb)(struct proc_child *, const struct msg *,
		    void *);

/* --- core side --------------------------------------------------------- */

/* Watch SIGCHLD on base, ignore SIGPIPE.  0, or -1 on failure. */
int		 proc_init(struct event_base *);
/*
 * Fork a worker now.  name: short ("card"; the child's log prefix and
 * process name become "kioskd-card"); role: what its HELLO must say;
 * main_arg: handed to main_fn in the child (a snapshot at fork time; see
 * proc_set_arg()).  NULL when the first fork fails (errno set).
 */
struct proc	*proc_spawn(const char *name, enum msg_role role,
		    proc_main_fn main_fn, void *main_arg,
		    const struct proc_hooks *hooks, void *hook_arg);
/* The argument later restarts pass to main_fn (after a reload). */
void		 proc_set_arg(struct proc *, void *main_arg);
/* Send to a worker: -1 (errno EPIPE) while it is down; see msg_compose. */
int		 proc_send(struct proc *, uint32_t type, uint64_t sid,
		    const void *data, size_t len);
int		 proc_sendv(struct proc *, uint32_t type, uint64_t sid,
		    const struct iovec *iov, int iovcnt);
/*
 * Stop a worker in order (MSG_SHUTDOWN, SIGKILL after 2 s) and start it
 * again at once with the argument of proc_set_arg(), without backoff.  The
 * down hook runs as for any end: call it only when nothing is in flight.
 * From the call on, proc_is_up() is 0 until the new worker says HELLO.
 */
void		 proc_recycle(struct proc *);
/* The worker misbehaved (malformed payload...): drop the link, SIGKILL it,
   the down hook and a restart follow.  Safe inside the msg hook. */
void		 proc_fail(struct proc *, const char *why);
int		 proc_is_up(const struct proc *);
pid_t		 proc_pid(const struct proc *);	/* 0 while not running */
const char	*proc_name(const struct proc *);
/* Override the backoff (tests): first delay, ceiling, uptime that resets. */
void		 proc_set_backoff(const struct timeval *min,
		    const struct timeval *max, const struct timeval *stable);
/*
 * Orderly stop of every worker: MSG_SHUTDOWN, then SIGTERM after grace,
 * then SIGKILL after another grace.  No restarts from here on.  done runs
 * (from the event loop) once every worker is reaped.
 */
void		 proc_shutdown(const struct timeval *grace,
		    void (*done)(void *), void *arg);
int		 proc_shutting_down(void);
/*
 * SIGTERM/SIGINT and SIGHUP through libevent on the base of proc_init().
 * on_term NULL: proc_shutdown() with a 2 s grace, then leave the loop.
 * on_hup NULL: SIGHUP ignored.  0, or -1 on failure.
 */
int		 proc_catch_signals(void (*on_term)(int, void *),
		    void (*on_hup)(void *), void *arg);

/* --- child side --------------------------------------------------------- */

struct event_base *proc_child_base(struct proc_child *);
const char	*proc_child_name(const struct proc_child *);
/* Messages from the core other than SHUTDOWN and PING (answered here). */
void		 proc_child_set_handler(struct proc_child *, proc_child_cb,
		    void *);
int		 proc_child_send(struct proc_child *, uint32_t type,
		    uint64_t sid, const void *data, size_t len);
int		 proc_child_sendv(struct proc_child *, uint32_t type,
		    uint64_t sid, const struct iovec *iov, int iovcnt);
/* The core sent something malformed: the worker stops with status 1. */
void		 proc_child_fail(struct proc_child *, const char *why);
/* Leave proc_child_run() with this status after the current callback. */
void		 proc_child_stop(struct proc_child *, int status);
/*
 * Say HELLO and dispatch until SHUTDOWN (0), EOF on the link (0), SIGTERM
 * (0), a malformed message or a lost link (1), or proc_child_stop().
 */
int		 proc_child_run(struct proc_child *);

#endif
