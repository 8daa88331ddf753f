/*
 * kiosk-pki: the project's test PKI, made with OpenSSL's C API.
 * One umbrella header; each module keeps one job:
 *   pki_store.c	paths, atomic file writes, PEM load/save, lock, serial registry
 *   pki_index.c	the `openssl ca` index.txt database
 *   pki_issue.c	keys, names, certificates with extensions, random serials
 *   pki_validity.c	the JPKI validity rule (pure, see pki_validity.h)
 *   pki_revoke.c	CRL generation and the revoke/crl commands
 *   pki_init.c		the init command
 *   pki_card.c		the card and kiosk commands
 *   kiosk-pki.c	main, option parsing
 */
#ifndef KIOSK_PKI_H
#define KIOSK_PKI_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki_validity.h"

#define PKI_PATH_MAX		PATH_MAX
#define PKI_SERIAL_HEX_MAX	64	/* upper-case hex, NUL included */
#define PKI_FILE_MAX		(1024 * 1024)	/* largest file we read */
#define PKI_NAME_MAX		64	/* card NAME */
#define PKI_CA_DAYS		3652	/* 10 years */
#define PKI_CRL_DAYS		30
#define PKI_CLOCK_SKEW		300	/* backdate non-card certificates */

/* File names inside DIR. */
#define PKI_AUTH_CA	"auth-ca"
#define PKI_SIGN_CA	"sign-ca"
#define PKI_OCSP	"ocsp"
#define PKI_FLEET_CA	"fleet-ca"
#define PKI_CENTER_CA	"center-ca"
#define PKI_CENTER	"center"
#define PKI_DOCSIGN	"docsign"
#define PKI_INDEX	"index.txt"
#define PKI_INDEX_ATTR	"index.txt.attr"
#define PKI_CRL		"crl.pem"
#define PKI_CRLNUMBER	"crlnumber"
#define PKI_SERIALS	"serials"
#define PKI_CARDS	"cards"
#define PKI_KIOSKS	"kiosks"
#define PKI_FLEET_INDEX	"fleet-index.txt"	/* revoked kiosk certificates */
#define PKI_FLEET_CRL	"fleet-crl.pem"
#define PKI_FLEET_CRLNUMBER "fleet-crlnumber"

/* pki_store.c */
int	 store_path(char *buf, size_t len, const char *dir, const char *rel);
int	 store_path2(char *buf, size_t len, const char *dir, const char *a,
	    const char *b);
int	 store_path3(char *buf, size_t len, const char *dir, const char *a,
	    const char *b, const char *c);
int	 store_exists(const char *path);
int	 store_mkdir(const char *path, int must_create);
int	 store_mkdirs(const char *path);
int	 store_write(const char *path, const void *data, size_t len,
	    mode_t mode);
int	 store_read(const char *path, char **data, size_t *len, size_t max);
int	 store_write_cert(const char *path, X509 *);
int	 store_write_key(const char *path, EVP_PKEY *);
int	 store_write_crl(const char *path, X509_CRL *);
X509	*store_load_cert(const char *path);
EVP_PKEY *store_load_key(const char *path);
int	 store_lock(const char *dir);
void	 store_unlock(int fd);
int	 store_serial_used(const char *dir, const char *hex, int *used);
int	 store_serial_record(const char *dir, const char *const *hex, size_t n);
int	 store_check_pki(const char *dir);
int	 pki_check_card_name(const char *name);
/* Report the OpenSSL error queue after "what". */
void	 pki_ssl_warn(const char *what, ...)
	    __attribute__((format(printf, 1, 2)));

/* pki_index.c: lines of `openssl ca`'s database */
#define IDX_TIME_MAX	32
#define IDX_REV_MAX	64
#define IDX_DN_MAX	1024
#define IDX_LINE_MAX	2048
#define IDX_ENTRIES_MAX	100000

struct idx_entry {
	char	status;			/* 'V', 'R' or 'E' */
	char	expiry[IDX_TIME_MAX];	/* YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ */
	char	revoked[IDX_REV_MAX];	/* time[,reason] or "" */
	char	serial[PKI_SERIAL_HEX_MAX];
	char	dn[IDX_DN_MAX];		/* /C=JP/CN=... */
};

struct pki_index {
	struct idx_entry	*e;
	size_t			 n;
	size_t			 cap;
};

int	 index_load(const char *path, struct pki_index *);
int	 index_save(const char *path, const struct pki_index *);
int	 index_add_cert(struct pki_index *, X509 *);
struct idx_entry *index_find(struct pki_index *, const char *serial);
void	 index_free(struct pki_index *);
/* Split "time[,reason]"; reason -1 if absent.  Returns 0 or -1. */
int	 index_revinfo(const struct idx_entry *, char *time, size_t timelen,
	    int *reason);

/* pki_issue.c */
enum pki_keytype {
	PKI_KEY_RSA2048,
	PKI_KEY_P256
};

struct pki_ext {
	int		 nid;
	const char	*value;	/* X509V3 config syntax, "critical," allowed */
};

struct pki_cert_req {
	const X509_NAME		*subject;
	EVP_PKEY		*key;		/* subject's key */
	X509			*issuer;	/* NULL: self-signed */
	EVP_PKEY		*issuer_key;
	const BIGNUM		*serial;
	int64_t			 not_before;
	int64_t			 not_after;
	const struct pki_ext	*exts;
	size_t			 nexts;
};

EVP_PKEY *issue_key(enum pki_keytype);
/* NULL-terminated pairs of short name, UTF-8 value, in RDN order. */
X509_NAME *issue_name(const char *const *pairs);
X509	*issue_cert(const struct pki_cert_req *);
/* A random positive serial of nbytes (minimal DER length), unused in dir. */
BIGNUM	*issue_serial(const char *dir, int nbytes, char *hex, size_t hexlen);
/* Upper-case [0-9A-Z] identifier of len chars from the CSPRNG. */
int	 issue_opaque_id(char *buf, size_t buflen, size_t len);
/* BN_bn2hex into a bounded buffer. */
int	 issue_serial_hex(const BIGNUM *, char *hex, size_t hexlen);
int	 issue_cert_serial_hex(X509 *, char *hex, size_t hexlen);
int	 issue_describe(const char *label, const char *path, X509 *);
int64_t	 pki_now(void);

/* pki_revoke.c */
struct pki_reason {
	const char	*name;
	int		 code;
};
int	 revoke_reason(const char *name, int *code);
const char *revoke_reason_name(int code);
int	 crl_issue(const char *dir, const struct pki_index *);
int	 crl_issue_ca(const char *dir, const struct pki_index *, X509 *ca,
	    EVP_PKEY *key);
int	 crl_issue_to(const char *dir, const struct pki_index *, X509 *ca,
	    EVP_PKEY *key, const char *crlfile, const char *numfile);

/* commands */
int	 cmd_init(const char *dir);
struct card_opts {
	const char	*birth;
	const char	*issued;
	const char	*card_expiry;
	int		 no_sign_cert;
};
int	 cmd_card(const char *dir, const char *name, const struct card_opts *);
int	 cmd_kiosk(const char *dir, const char *id);
int	 cmd_revoke(const char *dir, const char *name, const char *reason);
int	 cmd_crl(const char *dir);
/* pki_fleet.c: kiosk certificate revocation (fleet CRL by fleet-ca) */
int	 cmd_revoke_kiosk(const char *dir, const char *id);
int	 cmd_fleet_crl(const char *dir);

#endif
