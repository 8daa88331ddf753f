/*
 * Compact JSON text of a jansson value: the same bytes as
 * json_dumps(v, JSON_COMPACT) (objects in insertion order), written in
 * one pass into one growing buffer.  jansson's own dump keeps a hash
 * table of the containers it is inside (loop detection, with an
 * snprintf("%p") per container) and appends through a callback, a few
 * bytes at a time; for the center's replies that was about 8% of its
 * CPU.  Our trees are built by us and have no loops; depth is bounded.
 *
 * The buffer comes from malloc(); as it grows, each outgrown copy is
 * wiped before it is freed, so the only copy left is the one returned,
 * which the caller wipes when the text deserves it.
 */
#ifndef KIOSK_JSON_COMPACT_H
#define KIOSK_JSON_COMPACT_H

#include <stddef.h>

#include <jansson.h>

#define JSON_COMPACT_DEPTH_MAX	64

/*
 * A NUL-terminated string to free(), its length in *len (when len is not
 * NULL); NULL on allocation failure, a value deeper than
 * JSON_COMPACT_DEPTH_MAX, a string jansson could not dump, or v not an
 * object or array (as json_dumps without JSON_ENCODE_ANY).
 */
char	*json_compact(const json_t *v, size_t *len);

#endif
