/*
 * index.txt in the format of `openssl ca`'s text database, which
 * `openssl ocsp -index` reads (and rereads when the file changes):
 *   status \t expiry \t revocation[,reason] \t SERIAL \t filename \t DN
 * status V (valid), R (revoked) or E (expired); filename is "unknown".
 * Parsing is strict: a malformed line is an error naming file:line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>

#include "log.h"
#include "pki.h"

static int
copy_field(char *dst, size_t dstlen, const char *src, size_t len)
{
	if (len >= dstlen)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

static int
valid_time(const char *t)
{
	size_t len = strlen(t), i;

	if (len != 13 && len != 15)
		return 0;
	for (i = 0; i < len - 1; i++)
		if (t[i] < '0' || t[i] > '9')
			return 0;
	return t[len - 1] == 'Z';
}

static int
valid_serial(const char *s)
{
	size_t i;

	if (s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int
parse_line(char *line, struct idx_entry *e)
{
	char *f[6], *p = line;
	size_t i;

	for (i = 0; i < 6; i++) {
		f[i] = p;
		p = strchr(p, '\t');
		if (i < 5) {
			if (p == NULL)
				return -1;
			*p++ = '\0';
		} else if (p != NULL)
			return -1;
	}
	if (strlen(f[0]) != 1 || strchr("VRE", f[0][0]) == NULL)
		return -1;
	e->status = f[0][0];
	if (copy_field(e->expiry, sizeof(e->expiry), f[1], strlen(f[1])) ||
	    copy_field(e->revoked, sizeof(e->revoked), f[2], strlen(f[2])) ||
	    copy_field(e->serial, sizeof(e->serial), f[3], strlen(f[3])) ||
	    copy_field(e->dn, sizeof(e->dn), f[5], strlen(f[5])))
		return -1;
	if (!valid_time(e->expiry) || !valid_serial(e->serial))
		return -1;
	if ((e->status == 'R') != (e->revoked[0] != '\0'))
		return -1;
	return 0;
}

static int
index_append(struct pki_index *idx, const struct idx_entry *e)
{
	struct idx_entry *n;
	size_t cap;

	if (idx->n >= IDX_ENTRIES_MAX) {
		log_warnx("index: more than %d entries", IDX_ENTRIES_MAX);
		return -1;
	}
	if (idx->n == idx->cap) {
		cap = idx->cap == 0 ? 16 : idx->cap * 2;
		n = reallocarray(idx->e, cap, sizeof(*n));
		if (n == NULL) {
			log_warn("reallocarray");
			return -1;
		}
		idx->e = n;
		idx->cap = cap;
	}
	idx->e[idx->n++] = *e;
	return 0;
}

int
index_load(const char *path, struct pki_index *idx)
{
	struct idx_entry e;
	char *data, *line, *nl;
	size_t len, lineno = 0;

	memset(idx, 0, sizeof(*idx));
	if (store_read(path, &data, &len, PKI_FILE_MAX) == -1)
		return -1;
	if (strlen(data) != len) {
		log_warnx("%s: contains a NUL byte", path);
		goto fail;
	}
	for (line = data; *line != '\0'; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL) {
			log_warnx("%s:%zu: line not terminated", path, lineno);
			goto fail;
		}
		*nl = '\0';
		if ((size_t)(nl - line) >= IDX_LINE_MAX) {
			log_warnx("%s:%zu: line too long", path, lineno);
			goto fail;
		}
		memset(&e, 0, sizeof(e));
		if (parse_line(line, &e) == -1) {
			log_warnx("%s:%zu: malformed index line", path, lineno);
			goto fail;
		}
		if (index_find(idx, e.serial) != NULL) {
			log_warnx("%s:%zu: duplicate serial %s", path, lineno,
			    e.serial);
			goto fail;
		}
		if (index_append(idx, &e) == -1)
			goto fail;
	}
	free(data);
	return 0;
fail:
	free(data);
	index_free(idx);
	return -1;
}

int
index_save(const char *path, const struct pki_index *idx)
{
	char *buf, *p;
	size_t i, cap, left;
	int n, r;

	cap = idx->n * IDX_LINE_MAX + 1;
	if ((buf = malloc(cap)) == NULL) {
		log_warn("malloc");
		return -1;
	}
	p = buf;
	left = cap;
	for (i = 0; i < idx->n; i++) {
		n = snprintf(p, left, "%c\t%s\t%s\t%s\tunknown\t%s\n",
		    idx->e[i].status, idx->e[i].expiry, idx->e[i].revoked,
		    idx->e[i].serial, idx->e[i].dn);
		if (n < 0 || (size_t)n >= left || n >= IDX_LINE_MAX) {
			log_warnx("%s: index line too long", path);
			free(buf);
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	r = store_write(path, buf, (size_t)(p - buf), 0644);
	free(buf);
	return r;
}

int
index_add_cert(struct pki_index *idx, X509 *x)
{
	const ASN1_TIME *na;
	struct idx_entry e;
	int len;

	memset(&e, 0, sizeof(e));
	e.status = 'V';
	if (issue_cert_serial_hex(x, e.serial, sizeof(e.serial)) == -1)
		return -1;
	if (index_find(idx, e.serial) != NULL) {
		log_warnx("index: serial %s already present", e.serial);
		return -1;
	}
	/* openssl ca stores the notAfter string exactly as encoded */
	na = X509_get0_notAfter(x);
	len = ASN1_STRING_length(na);
	if (len <= 0 || copy_field(e.expiry, sizeof(e.expiry),
	    (const char *)ASN1_STRING_get0_data(na), (size_t)len) == -1 ||
	    !valid_time(e.expiry)) {
		log_warnx("index: unexpected notAfter encoding");
		return -1;
	}
	if (X509_NAME_oneline(X509_get_subject_name(x), e.dn,
	    sizeof(e.dn)) == NULL) {
		pki_ssl_warn("X509_NAME_oneline");
		return -1;
	}
	if (strchr(e.dn, '\t') != NULL || strchr(e.dn, '\n') != NULL) {
		log_warnx("index: subject contains a tab or newline");
		return -1;
	}
	return index_append(idx, &e);
}

struct idx_entry *
index_find(struct pki_index *idx, const char *serial)
{
	size_t i;

	for (i = 0; i < idx->n; i++)
		if (strcmp(idx->e[i].serial, serial) == 0)
			return &idx->e[i];
	return NULL;
}

void
index_free(struct pki_index *idx)
{
	free(idx->e);
	memset(idx, 0, sizeof(*idx));
}

int
index_revinfo(const struct idx_entry *e, char *t, size_t tlen, int *reason)
{
	const char *comma;
	size_t len;

	*reason = -1;
	comma = strchr(e->revoked, ',');
	len = comma != NULL ? (size_t)(comma - e->revoked) : strlen(e->revoked);
	if (copy_field(t, tlen, e->revoked, len) == -1 || !valid_time(t))
		return -1;
	if (comma != NULL && revoke_reason(comma + 1, reason) == -1)
		return -1;
	return 0;
}
