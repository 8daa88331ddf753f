# kioskd: the daemon (core process, the resident session state machine,
# the card and backend workers, the UI socket) and kiosk-resident, a
# scripted resident for tests and the demo.

KIOSKD_CPPFLAGS = -I$(top_srcdir)/kioskd -I$(top_srcdir)/kioskd/card \
	-I$(top_srcdir)/kioskd/backend $(AM_CPPFLAGS)
KIOSKD_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(JANSSON_CFLAGS) \
	$(CRYPTO_CFLAGS) $(PCSC_CFLAGS)

EXTRA_DIST += kioskd/session.dot tools/demo-session \
	tests/integration/kioskd.sh

# The session state machine driven directly: every row of its table,
# every pair not in it, timeouts, cancel, the PIN, forged documents.
UNIT_TESTS += tests/unit/test_session
tests_unit_test_session_SOURCES = tests/unit/test_session.c \
	kioskd/session.c kioskd/session.h
tests_unit_test_session_CPPFLAGS = $(KIOSKD_CPPFLAGS) -I$(top_srcdir) \
	-I$(top_srcdir)/tests/unit
tests_unit_test_session_CFLAGS = $(KIOSKD_CFLAGS)
tests_unit_test_session_LDADD = kioskd/libkioskcore.a \
	kioskd/backend/libbackend.a common/libcommon.a $(JANSSON_LIBS) \
	$(CRYPTO_LIBS) $(EVENT_LIBS)

bin_PROGRAMS += kioskd/kioskd kioskd/kiosk-resident

kioskd_kioskd_SOURCES = kioskd/kioskd.c kioskd/core.c kioskd/core.h \
	kioskd/session.c kioskd/session.h kioskd/ui.c kioskd/ui.h \
	kioskd/settle.c kioskd/settle.h \
	kioskd/card_worker.c kioskd/backend_worker.c \
	kioskd/printer_worker.c kioskd/printer_worker.h
kioskd_kioskd_CPPFLAGS = $(KIOSKD_CPPFLAGS) -I$(top_srcdir)/printing
kioskd_kioskd_CFLAGS = $(KIOSKD_CFLAGS) $(CUPS_CFLAGS) $(CAIRO_CFLAGS) \
	-pthread
kioskd_kioskd_LDFLAGS = $(AM_LDFLAGS) -pthread
kioskd_kioskd_LDADD = kioskd/libkioskcore.a kioskd/backend/libbackend.a \
	kioskd/card/libcard.a $(JOURNAL_LDADD) printing/libspool.a \
	$(LAYOUT_LDADD) $(CUPS_LIBS) common/libcommon.a \
	$(EVENT_OPENSSL_LIBS) $(EVENT_LIBS) $(JANSSON_LIBS) $(PCSC_LIBS) \
	$(CRYPTO_LIBS)

kioskd_kiosk_resident_SOURCES = kioskd/kiosk-resident.c
kioskd_kiosk_resident_CPPFLAGS = $(AM_CPPFLAGS)
kioskd_kiosk_resident_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
kioskd_kiosk_resident_LDADD = common/libcommon.a $(JANSSON_LIBS)

# Settlement on a real journal and coin box ledger, workers faked.
UNIT_TESTS += tests/unit/test_settle
tests_unit_test_settle_SOURCES = tests/unit/test_settle.c kioskd/settle.c \
	kioskd/settle.h
tests_unit_test_settle_CPPFLAGS = $(KIOSKD_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_settle_CFLAGS = $(KIOSKD_CFLAGS)
tests_unit_test_settle_LDADD = $(JOURNAL_LDADD) $(EVENT_LIBS)
