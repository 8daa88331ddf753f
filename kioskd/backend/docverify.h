/*
 * Verification of a signed document from the center before it is
 * rendered (center/API.md, POST /v1/issuances).  Pure: OpenSSL and
 * jansson only, no I/O besides docverify_key_load().
 *
 * The signature (ECDSA P-256 / SHA-256, DER) is checked over the exact
 * bytes received, with the pinned document-signing key, before the JSON
 * is parsed; then the binding must name this kiosk's own session, the
 * card certificate the kiosk itself read, this kiosk and the issuance it
 * asked for.  A document for any other card or session is never printed.
 */
#ifndef KIOSK_DOCVERIFY_H
#define KIOSK_DOCVERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define DOCVERIFY_MAX_CONTENT	(1024 * 1024)
#define DOCVERIFY_MAX_SIG	72	/* DER ECDSA P-256 */

enum docverify_status {
	DOCVERIFY_OK = 0,
	DOCVERIFY_E_ARG,		/* bad call: NULL, empty, bad expectation */
	DOCVERIFY_E_TOO_LARGE,		/* content over DOCVERIFY_MAX_CONTENT */
	DOCVERIFY_E_WRONG_KEY,		/* key_id names another signer */
	DOCVERIFY_E_SIG_SYNTAX,		/* not a canonical DER ECDSA signature */
	DOCVERIFY_E_BAD_SIGNATURE,	/* does not verify with the pinned key */
	DOCVERIFY_E_NOT_JSON,		/* signed, but not a JSON object */
	DOCVERIFY_E_MISSING_FIELD,	/* a required field is absent */
	DOCVERIFY_E_BAD_FIELD,		/* a field has the wrong type or syntax */
	DOCVERIFY_E_SESSION_MISMATCH,	/* binding.session_id is not ours */
	DOCVERIFY_E_CERT_MISMATCH,	/* binding.cert_sha256 is not our card */
	DOCVERIFY_E_KIOSK_MISMATCH,	/* binding.kiosk_id is not this kiosk */
	DOCVERIFY_E_ISSUANCE_MISMATCH,	/* issuance_id is not the one asked */
	DOCVERIFY_E_DOCUMENT_MISMATCH,	/* another document type */
	DOCVERIFY_E_COPIES_MISMATCH,	/* another number of copies */
	DOCVERIFY_E_BAD_CODE,		/* document code malformed or forged */
	DOCVERIFY_E_CODE_MISMATCH,	/* document code of other content */
	DOCVERIFY_E_INTERNAL		/* out of memory, OpenSSL failure */
};

/* The pinned document-signing public key (EC P-256). */
struct docverify_key;

/* A PEM certificate or PEM public key.  NULL with a message in err. */
struct docverify_key *docverify_key_load(const char *path, char *err,
		    size_t errlen);
/* A DER SubjectPublicKeyInfo. */
struct docverify_key *docverify_key_from_spki(const uint8_t *der, size_t len,
		    char *err, size_t errlen);
void		 docverify_key_free(struct docverify_key *);
/* Lower-case hex SHA-256 of the key's SubjectPublicKeyInfo (API key_id). */
const char	*docverify_key_id(const struct docverify_key *);

struct docverify_expect {
	const char	*session_id;	/* the center session this kiosk opened */
	const uint8_t	*cert_sha256;	/* 32 bytes: SHA-256 of the card's
					   certificate DER as the kiosk read it */
	const char	*kiosk_id;	/* "S0001-T01" */
	const char	*issuance_id;	/* from the issuance answer */
	const char	*document;	/* type asked for; NULL: not checked */
	int		 copies;	/* copies asked for; 0: not checked */
	const char	*code;		/* the answer's document code (doccode.h):
					   signed with the same key, for this
					   very content; NULL: not checked */
};

struct docverify_out {
	char		 issuance_id[65];
	char		 document[32];
	char		 issued_at[40];
	int		 copies;
	int		 fee_yen;
	json_t		*doc;		/* the parsed document, for rendering */
	char		 detail[160];	/* which field, on failure */
};

/*
 * key_id: the answer's key_id (hex) or NULL.  On DOCVERIFY_OK out->doc
 * holds a reference the caller releases with docverify_out_clear(); on
 * failure out->doc is NULL and out->detail says more.
 */
enum docverify_status docverify(const uint8_t *content, size_t len,
		    const uint8_t *sig, size_t siglen, const char *key_id,
		    const struct docverify_key *key,
		    const struct docverify_expect *expect,
		    struct docverify_out *out);
void		 docverify_out_clear(struct docverify_out *);
const char	*docverify_strerror(enum docverify_status);

#endif
