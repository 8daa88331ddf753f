/*
 * The printer worker of kioskd (printer_worker.c): renders documents,
 * spools them through CUPS, follows the jobs and watches the printer.
 * Its messages are MSG_PRINT_* in msg.h.
 */
#ifndef KIOSK_PRINTER_WORKER_H
#define KIOSK_PRINTER_WORKER_H

struct proc_child;

/* proc_main_fn; arg is the struct kiosk_conf (printer, print). */
int	printer_worker_main(struct proc_child *, void *arg);

#endif
