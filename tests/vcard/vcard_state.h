/*
 * The card's non-volatile memory: the two PIN retry counters, kept in a
 * small text file so that a blocked card stays blocked across restarts.
 * Writes are atomic (temporary file, fsync, rename, fsync of the
 * directory).
 */
#ifndef VCARD_STATE_H
#define VCARD_STATE_H

#include <stddef.h>

#define VCARD_STATE_VERSION	1

struct vcard_state {
	int	auth_tries;	/* 0..3 */
	int	sign_tries;	/* 0..5 */
};

/*
 * Returns 1 when loaded, 0 when the file does not exist (st untouched),
 * -1 with a message in err when it cannot be read or is malformed.
 */
int	vcard_state_load(const char *path, struct vcard_state *st, char *err,
	    size_t errlen);
/* Returns 0, or -1 with a message in err. */
int	vcard_state_save(const char *path, const struct vcard_state *st,
	    char *err, size_t errlen);

#endif
