/*
 * kioskd's umbrella header: the core process and the workers it forks.
 *
 * The core owns the resident session (session.c), the UI socket (ui.c)
 * and the links to its workers (proc.c, msg.h).  It never blocks: the card
 * worker does the blocking PC/SC calls, the backend worker holds the
 * kiosk's TLS key and talks to the center.
 */
#ifndef KIOSK_CORE_H
#define KIOSK_CORE_H

struct kiosk_conf;
struct proc_child;

/* Run the daemon until SIGTERM/SIGINT: 0, or 1 when it could not start.
   conf is owned by the core from here (replaced on SIGHUP). */
int	core_run(struct kiosk_conf *conf, const char *conf_path);

/* Worker entry points (proc_main_fn); arg is the struct kiosk_conf. */
int	card_worker_main(struct proc_child *, void *arg);
int	backend_worker_main(struct proc_child *, void *arg);

#endif
