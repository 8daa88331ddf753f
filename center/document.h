/*
 * The documents the center issues: the options a kiosk may ask for, the
 * structured content of each type (a UTF-8 JSON text, API.md), its
 * signature with the document key, and the stored form of a signed
 * document.  Pure functions of their inputs: the caller loads the records
 * of ONE request and passes them in; nothing is kept between calls.
 *
 * Never in any content: the resident-register code (住民票コード).  The
 * My Number only in a 住民票 asked for with "my_number" (the caller has
 * checked that the municipality allows it).
 */
#ifndef KIOSK_CENTER_DOCUMENT_H
#define KIOSK_CENTER_DOCUMENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "eligibility.h"
#include "store.h"

#define DOC_MEMBERS_MAX		32	/* household members in one 住民票 */
#define DOC_KEY_ID_LEN		64	/* hex SHA-256 */
#define DOC_SIG_MAX		80	/* DER ECDSA P-256 */

struct doc_options {
	/* 住民票 (both kinds) */
	int	all_members;		/* "members": "all" */
	size_t	nmembers;		/* explicit list; 0: only the applicant */
	int	members[DOC_MEMBERS_MAX];	/* sorted, unique */
	int	head_relationship;
	int	domicile;
	int	my_number;
	int	foreign_details;	/* nationality, status, period */
	int	residence_card;		/* 在留カード等の番号 */
	/* 所得・課税証明書: 0 = the current fiscal year */
	int	fiscal_year;
};

/*
 * Strict parse of a request's "options" (NULL: none) for a type: only
 * the fields API.md lists for it, bounded.  -1 with a short English
 * reason in err.
 */
int	doc_options_parse(json_t *, enum doc_type, struct doc_options *,
	    char *err, size_t errlen);
/* The canonical text (sorted keys, compact, every field): STORE_OPTIONS_MAX. */
int	doc_options_canonical(const struct doc_options *, enum doc_type,
	    char *out, size_t outlen);
/* The options as the eligibility rules see them (ELIG_OPT_*). */
uint32_t doc_options_elig(const struct doc_options *, int household);

/* Default fee per copy (API.md table) and the English title. */
int	doc_default_fee(enum doc_type);
const char *doc_title_en(enum doc_type);

/* Everything one document is made of. */
struct doc_input {
	const char		*issuance_id;
	const char		*session_id;
	const char		*cert_sha256;
	const char		*kiosk_id;
	enum doc_type		 doc;
	const struct doc_options *opt;
	int			 copies;
	int			 fee_yen;	/* total */
	time_t			 issued_at;
	const char		*municipality;
	const char		*mayor;
	const struct resident	*res;		/* the applicant */
	/* 住民票: the household and the members printed, in order */
	const struct household	*household;
	const char		*head_name;	/* 世帯主, "family given" */
	const struct resident	*members;
	size_t			 nmembers;
	const struct seal	*seal;		/* 印鑑登録証明書 */
	/* 戸籍 and 附票 */
	const struct koseki	*koseki;
	const struct koseki_entry *entries;
	size_t			 nentries;
	const struct fuhyo_entry *fuhyo;
	size_t			 nfuhyo;
	const struct tax_record	*tax;		/* 所得・課税証明書 */
};

/* The content bytes (malloc'd, NUL-terminated, len without the NUL). */
int	doc_build(const struct doc_input *, char **content, size_t *len,
	    char *err, size_t errlen);

/* ECDSA (P-256) / SHA-256 over data, DER.  0 or -1. */
int	doc_sign(EVP_PKEY *, const uint8_t *data, size_t len, uint8_t *sig,
	    size_t sigmax, size_t *siglen);
/* 1 valid, 0 invalid, -1 error. */
int	doc_verify(EVP_PKEY *, const uint8_t *data, size_t len,
	    const uint8_t *sig, size_t siglen);
/* Hex SHA-256 of the key's SubjectPublicKeyInfo DER. */
int	doc_key_id(EVP_PKEY *, char out[DOC_KEY_ID_LEN + 1]);

/*
 * The stored form of a signed document, so that a replay returns the
 * very same bytes and signatures: "KDOC1 <key_id> <base64 sig> <code>\n"
 * then the content, where <code> is the signed document code's text
 * (common/doccode.h; ECDSA is randomised, so it is stored, not redone).
 * An envelope written before codes existed has no " <code>": unpack then
 * gives code "".  unpack points into `in`.
 */
int	doc_envelope_pack(const char *key_id, const uint8_t *sig,
	    size_t siglen, const char *code, const char *content, size_t len,
	    uint8_t **out, size_t *outlen);
int	doc_envelope_unpack(const uint8_t *in, size_t len,
	    char key_id[DOC_KEY_ID_LEN + 1], uint8_t *sig, size_t sigmax,
	    size_t *siglen, char *code, size_t codesz, const char **content,
	    size_t *clen);
/*
 * Sign the document code of content, which doc_build made from in, with
 * key into code[codesz] (the fields come from in: no second parse of the
 * content).  0 or -1.
 */
int	doc_code_sign(EVP_PKEY *key, const struct doc_input *in,
	    const char *content, size_t len, char *code, size_t codesz);

#endif
