/*
 * A strict JSON parser into jansson values: accepts and rejects what
 * json_loadb(buf, len, flags) does and builds the same value (objects in
 * document order), in one pass over the bytes.  jansson's own lexer goes
 * through a stream a byte at a time, copies every string into a buffer
 * and decodes it again; on the kiosk's side, parsing the center's
 * replies and the document content was 13% of kiosk-load's CPU, most of
 * it in the long base64 strings.
 *
 * flags: JSON_REJECT_DUPLICATES, JSON_DECODE_ANY and JSON_ALLOW_NUL;
 * with any other flag the call is json_loadb's.  On error, NULL and
 * *error (when not NULL) says what and where: the line and column
 * (from 1) and byte offset where the offending token starts; jansson
 * points just past it.
 * Values are made with jansson's allocator; the scratch buffer of a
 * string with escapes is wiped before it is freed.
 */
#ifndef KIOSK_JSON_PARSE_H
#define KIOSK_JSON_PARSE_H

#include <stddef.h>

#include <jansson.h>

#define JSON_PARSE_DEPTH_MAX	2048	/* jansson's JSON_PARSER_MAX_DEPTH */

json_t	*json_parse(const char *buf, size_t len, size_t flags,
	    json_error_t *error);

#endif
