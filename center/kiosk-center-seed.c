/*
 * kiosk-center-seed: create the center's database and fill it with the
 * synthetic town, then (optionally) bind the test cards made by
 * kiosk-pki to residents of the town.
 *
 * usage: kiosk-center-seed DB [--residents N] [--seed S] [--today DATE]
 *                             [--certs DIR]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eligibility.h"
#include "log.h"
#include "seed.h"
#include "store.h"
#include "util.h"

static void
usage(void)
{
	fprintf(stderr, "usage: kiosk-center-seed DB [--residents N] "
	    "[--seed S] [--today YYYY-MM-DD] [--certs DIR]\n");
	exit(2);
}

static void
print_summary(const struct seed_summary *s, const struct store_stats *st,
    int cur_fy)
{
	printf("town: 東京都みどり市 (synthetic)\n");
	printf("residents:          %d (active %d, moved out %d, deceased "
	    "%d)\n", s->residents, s->active, s->moved_out, s->deceased);
	printf("households:         %d\n", s->households);
	printf("under 15 (active):  %d\n", s->under_15);
	printf("foreign residents:  %d\n", s->foreign);
	printf("support measures:   %d\n", s->support_measures);
	printf("names outside JIS X 0208: %d (外字 pending %d)\n",
	    s->substitutes, s->gaiji_pending);
	printf("long addresses:     %d\n", s->long_addresses);
	printf("family registers:   %d in town (%d entries, %d pending); "
	    "%d nationals with 本籍 elsewhere\n", s->koseki, s->koseki_entries,
	    s->koseki_pending, s->domicile_elsewhere);
	printf("seal registrations: %d active, %d abolished\n",
	    s->seals_active, s->seals_abolished);
	printf("tax records:        %d (fiscal years %d-%d)\n",
	    s->tax_records, cur_fy - 2, cur_fy);
	printf("card certificates:  %ld\n", st->card_certs);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "residents", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "today", required_argument, NULL, 't' },
		{ "certs", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct seed_params p;
	struct seed_summary sum;
	struct store_stats st;
	struct seed_card *cards = NULL;
	struct elig_config cfg;
	struct store *s;
	const char *errstr, *certs = NULL, *db;
	char err[512];
	size_t ncards = 0;
	int ch, minute, wday, seeded = 0;

	log_init("kiosk-center-seed", 0);
	memset(&p, 0, sizeof(p));
	p.residents = 300;
	p.seed = 1;
	elig_jst(time(NULL), &p.today, &minute, &wday);
	while ((ch = getopt_long(argc, argv, "n:s:t:c:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'n':
			p.residents = (int)parse_num(optarg, SEED_RESIDENTS_MIN,
			    SEED_RESIDENTS_MAX, &errstr);
			if (errstr != NULL)
				fatalx("--residents %s: %s (%d..%d)", optarg,
				    errstr, SEED_RESIDENTS_MIN,
				    SEED_RESIDENTS_MAX);
			break;
		case 's':
			p.seed = (uint64_t)parse_num(optarg, 0,
			    9007199254740991LL, &errstr);
			if (errstr != NULL)
				fatalx("--seed %s: %s", optarg, errstr);
			break;
		case 't':
			if (store_date_parse(optarg, &p.today) == -1 ||
			    p.today.y < 2000)
				fatalx("--today %s: expected YYYY-MM-DD from "
				    "2000", optarg);
			break;
		case 'c':
			certs = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	db = argv[0];

	/* read the cards first: a bad card directory changes nothing */
	if (certs != NULL && seed_read_cards(certs, &cards, &ncards, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);

	if ((s = store_open(db, STORE_CREATE, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (store_migrate(s) != STORE_OK)
		fatalx("%s: migrate: %s", db, store_errmsg(s));
	if (store_stats(s, &st) != STORE_OK)
		fatalx("%s: %s", db, store_errmsg(s));
	memset(&sum, 0, sizeof(sum));
	if (st.residents == 0) {
		if (seed_town(s, &p, &sum, err, sizeof(err)) == -1)
			fatalx("%s: %s", db, err);
		seeded = 1;
	} else if (certs == NULL)
		fatalx("%s: already holds %ld residents; use a new file, or "
		    "--certs to bind cards only", db, st.residents);

	if (ncards > 0 && seed_bind_cards(s, cards, ncards, &p.today, stdout,
	    err, sizeof(err)) == -1)
		fatalx("%s: %s", db, err);
	if (certs != NULL && ncards == 0)
		log_warnx("%s/cards: no cards found", certs);
	free(cards);

	if (store_stats(s, &st) != STORE_OK)
		fatalx("%s: %s", db, store_errmsg(s));
	elig_config_default(&cfg);
	if (seeded)
		print_summary(&sum, &st, p.today.m >= cfg.tax_switch_month ?
		    p.today.y : p.today.y - 1);
	else
		printf("residents: %ld, card certificates: %ld\n",
		    st.residents, st.card_certs);
	store_close(s);
	return 0;
}
