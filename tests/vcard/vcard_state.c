/*
 * State file format (version 1), exactly three lines:
 *   kiosk-vcard-state 1
 *   auth-tries N        (0..3)
 *   sign-tries N        (0..5)
 * Anything else is corruption and is reported, never silently reset:
 * a test that blocked the card must not find it unblocked.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#include "applet.h"
#include "vcard_state.h"

#define STATE_MAXSIZE	256

static int
fail(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s", path, what);
	return -1;
}

static int
fail_errno(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s: %s", path, what, strerror(errno));
	return -1;
}

/* Parse "KEY N" with N in [0, max]; 0 ok, -1 bad. */
static int
parse_line(const char *line, const char *key, long long max, int *out)
{
	const char *errstr;
	size_t klen = strlen(key);
	long long v;

	if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
		return -1;
	v = parse_num(line + klen + 1, 0, max, &errstr);
	if (errstr != NULL)
		return -1;
	*out = (int)v;
	return 0;
}

int
vcard_state_load(const char *path, struct vcard_state *st, char *err,
    size_t errlen)
{
	char buf[STATE_MAXSIZE + 1], *lines[4], *p, *nl;
	struct vcard_state tmp;
	ssize_t r;
	size_t len = 0, n = 0;
	int fd, version;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return fail_errno(err, errlen, path, "open");
	}
	for (;;) {
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			fail_errno(err, errlen, path, "read");
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf) - 1) {
			close(fd);
			return fail(err, errlen, path, "state file too large");
		}
	}
	close(fd);
	buf[len] = '\0';
	if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\0', len) != NULL)
		return fail(err, errlen, path, "corrupt state file "
		    "(truncated or binary)");
	for (p = buf; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL || n == 3)
			return fail(err, errlen, path, "corrupt state file "
			    "(expected exactly 3 lines)");
		*nl = '\0';
		lines[n++] = p;
	}
	if (n != 3)
		return fail(err, errlen, path, "corrupt state file "
		    "(expected exactly 3 lines)");
	if (parse_line(lines[0], "kiosk-vcard-state", INT_MAX,
	    &version) == -1 || version != VCARD_STATE_VERSION)
		return fail(err, errlen, path, "corrupt state file "
		    "(bad header or version)");
	if (parse_line(lines[1], "auth-tries", APPLET_AUTH_TRIES,
	    &tmp.auth_tries) == -1)
		return fail(err, errlen, path, "corrupt state file "
		    "(bad auth-tries line)");
	if (parse_line(lines[2], "sign-tries", APPLET_SIGN_TRIES,
	    &tmp.sign_tries) == -1)
		return fail(err, errlen, path, "corrupt state file "
		    "(bad sign-tries line)");
	*st = tmp;
	return 1;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc;

	if (strlen(path) >= sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(copy, path, strlen(path) + 1);
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
vcard_state_save(const char *path, const struct vcard_state *st, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX], buf[STATE_MAXSIZE];
	int fd, len, saved;

	if (st->auth_tries < 0 || st->auth_tries > APPLET_AUTH_TRIES ||
	    st->sign_tries < 0 || st->sign_tries > APPLET_SIGN_TRIES)
		return fail(err, errlen, path, "retry counter out of range");
	len = snprintf(buf, sizeof(buf), "kiosk-vcard-state %d\n"
	    "auth-tries %d\nsign-tries %d\n", VCARD_STATE_VERSION,
	    st->auth_tries, st->sign_tries);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return fail(err, errlen, path, "state too long");
	len = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (len < 0 || (size_t)len >= sizeof(tmp))
		return fail(err, errlen, path, "path too long");
	if ((fd = mkstemp(tmp)) == -1)
		return fail_errno(err, errlen, path, "mkstemp");
	if (write_all(fd, buf, strlen(buf)) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return fail_errno(err, errlen, tmp, "write");
	}
	if (close(fd) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return fail_errno(err, errlen, tmp, "close");
	}
	if (rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return fail_errno(err, errlen, path, "rename");
	}
	if (sync_dir(path) == -1)
		return fail_errno(err, errlen, path, "fsync of directory");
	return 0;
}
