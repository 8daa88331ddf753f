# kiosk-vcard: the virtual JPKI card (a vpcd client) used by the tests.
noinst_PROGRAMS += tests/vcard/kiosk-vcard

VCARD_CORE = \
	tests/vcard/applet.c tests/vcard/applet.h \
	tests/vcard/capdu.c tests/vcard/capdu.h

tests_vcard_kiosk_vcard_SOURCES = $(VCARD_CORE) \
	tests/vcard/vcard_state.c tests/vcard/vcard_state.h \
	tests/vcard/vpcd.c tests/vcard/vpcd.h \
	tests/vcard/apdulog.c tests/vcard/apdulog.h \
	tests/vcard/kiosk-vcard.c
tests_vcard_kiosk_vcard_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_vcard_kiosk_vcard_LDADD = common/libcommon.a $(CRYPTO_LIBS)

UNIT_TESTS += tests/unit/test_vcard_applet
tests_unit_test_vcard_applet_SOURCES = tests/unit/test_vcard_applet.c \
	tests/unit/t.h $(VCARD_CORE)
tests_unit_test_vcard_applet_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/vcard
tests_unit_test_vcard_applet_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_vcard_applet_LDADD = common/libcommon.a $(CRYPTO_LIBS)

UNIT_TESTS += tests/unit/test_vcard_io
tests_unit_test_vcard_io_SOURCES = tests/unit/test_vcard_io.c tests/unit/t.h \
	tests/vcard/capdu.c tests/vcard/capdu.h \
	tests/vcard/vcard_state.c tests/vcard/vcard_state.h \
	tests/vcard/vpcd.c tests/vcard/vpcd.h \
	tests/vcard/apdulog.c tests/vcard/apdulog.h
tests_unit_test_vcard_io_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/vcard
tests_unit_test_vcard_io_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_vcard_io_LDADD = common/libcommon.a

EXTRA_DIST += tests/vcard/README.md
