/*
 * One small logging API for every kioskd program (after OpenBSD's log.c).
 * log_warn appends strerror(errno); fatal/fatalx exit.  Untrusted strings
 * go through log_escape first.  Never pass a PIN or personal data here.
 */
#ifndef KIOSK_LOG_H
#define KIOSK_LOG_H

#include <stdarg.h>
#include <stddef.h>

void	log_init(const char *progname, int verbose);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Escape a string of untrusted origin into dst (always NUL-terminated). */
const char *log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
