# kiosk-load: load and correctness tool for the issuance center (one
# libevent loop of simulated kiosks over libbackend, card signatures in
# a few threads, document checks with
# docverify, reconciliation against the center's SQLite database).

bin_PROGRAMS += tools/kiosk-load/kiosk-load
tools_kiosk_load_kiosk_load_SOURCES = \
	tools/kiosk-load/load.h tools/kiosk-load/kiosk-load.c \
	tools/kiosk-load/fleet.c tools/kiosk-load/txn.c \
	tools/kiosk-load/check.c tools/kiosk-load/stats.c \
	tools/kiosk-load/cardpool.c
tools_kiosk_load_kiosk_load_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/kioskd/backend
tools_kiosk_load_kiosk_load_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) \
	$(EVENT_CFLAGS) $(EVENT_OPENSSL_CFLAGS) $(JANSSON_CFLAGS) \
	$(SQLITE_CFLAGS)
tools_kiosk_load_kiosk_load_LDADD = $(BACKEND_LDADD) $(SQLITE_LIBS)

EXTRA_DIST += tests/integration/load.sh tests/bench/load
