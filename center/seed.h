/*
 * The synthetic town: a deterministic population of 東京都みどり市 for the
 * demo and the tests (households, family registers, 附票, seal
 * registrations, tax records), and the binding of test card certificates
 * made by kiosk-pki to residents of that town.
 */
#ifndef KIOSK_CENTER_SEED_H
#define KIOSK_CENTER_SEED_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"

#define SEED_RESIDENTS_MIN	20
#define SEED_RESIDENTS_MAX	100000
#define SEED_LONG_ADDRESS	45	/* characters: wraps on a certificate */

struct seed_params {
	int		residents;	/* target, SEED_RESIDENTS_MIN..MAX */
	uint64_t	seed;
	struct store_date today;	/* ages and dates are relative to it */
};

struct seed_summary {
	int	residents;
	int	households;
	int	active;
	int	moved_out;
	int	deceased;
	int	foreign;
	int	support_measures;
	int	under_15;		/* active */
	int	substitutes;		/* names outside JIS X 0208 */
	int	gaiji_pending;
	int	long_addresses;		/* > SEED_LONG_ADDRESS characters */
	int	koseki;			/* registers kept in town */
	int	koseki_entries;
	int	koseki_pending;
	int	domicile_elsewhere;	/* nationals whose 本籍 is elsewhere */
	int	seals_active;
	int	seals_abolished;
	int	tax_records;
};

/*
 * Populate an empty, migrated store.  Same params, same town: every
 * choice comes from one PRNG seeded with params->seed.  The whole town is
 * one transaction: on failure nothing is left behind.
 */
int	seed_town(struct store *, const struct seed_params *,
	    struct seed_summary *, char *err, size_t errlen);

/* One test card as described by kiosk-pki's cards/NAME/info.txt. */
struct seed_card {
	char	name[64];
	char	serial[STORE_SERIAL_MAX];
	char	issuer[256];
	int64_t	not_after;
	int	revoked;
};

/* Read DIR/cards/<each>/info.txt in name order; *cards freed by caller. */
int	seed_read_cards(const char *dir, struct seed_card **cards, size_t *n,
	    char *err, size_t errlen);
/*
 * Parse one info.txt (key=value lines: name, serial, not_after, optional
 * issuer, status).  not_after may be Unix seconds, YYYY-MM-DD,
 * YYYY-MM-DDTHH:MM:SSZ, YYYYMMDDHHMMSSZ or OpenSSL's "Mon DD HH:MM:SS
 * YYYY GMT".
 */
int	seed_parse_card(FILE *, const char *fallback_name, struct seed_card *,
	    char *err, size_t errlen);
/*
 * Bind each card to a resident and print "card NAME -> resident ID
 * (summary)" lines to out.  The card's name picks the kind of resident:
 * names containing dv/support, child/minor/under15, moved, deceased,
 * foreign, noseal, abolished, elsewhere, gaiji get a resident of that
 * kind; any other name gets the next "ordinary" resident: an active
 * adult national with an active seal, a family register in town, a tax
 * record for the current fiscal year and nothing that would refuse a
 * document.  Deterministic for the same store and cards.
 */
int	seed_bind_cards(struct store *, const struct seed_card *, size_t n,
	    const struct store_date *today, FILE *out, char *err,
	    size_t errlen);

/*
 * A seal impression as a PNG (red double ring around an abstract mark
 * derived from the surname; no font is needed).  *png freed by caller.
 */
int	seed_seal_png(const char *surname, uint8_t **png, size_t *len);

#endif
