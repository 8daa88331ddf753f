# kioskd: the card layer (kioskd/card) for now; the daemon joins later.

noinst_LIBRARIES += kioskd/card/libcard.a
kioskd_card_libcard_a_SOURCES = \
	kioskd/card/card_err.c kioskd/card/card_err.h \
	kioskd/card/apdu.c kioskd/card/apdu.h \
	kioskd/card/atr.c kioskd/card/atr.h \
	kioskd/card/der.c kioskd/card/der.h \
	kioskd/card/jpki.c kioskd/card/jpki.h \
	kioskd/card/pcsc.c kioskd/card/pcsc.h
kioskd_card_libcard_a_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) $(CRYPTO_CFLAGS)

# What links libcard.a needs after it (libcrypto for SHA-256, pcsc-lite).
CARD_LDADD = kioskd/card/libcard.a common/libcommon.a $(PCSC_LIBS) \
	$(CRYPTO_LIBS)

bin_PROGRAMS += kioskd/card/kiosk-card
kioskd_card_kiosk_card_SOURCES = kioskd/card/kiosk-card.c
kioskd_card_kiosk_card_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) $(CRYPTO_CFLAGS) \
	-pthread
kioskd_card_kiosk_card_LDFLAGS = $(AM_LDFLAGS) -pthread
kioskd_card_kiosk_card_LDADD = $(CARD_LDADD)

# Unit tests of the card layer: scripted fake transports, no card needed.
CARD_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/kioskd/card \
	-I$(top_srcdir)/tests/unit

UNIT_TESTS += tests/unit/test_apdu
tests_unit_test_apdu_SOURCES = tests/unit/test_apdu.c
tests_unit_test_apdu_CPPFLAGS = $(CARD_TEST_CPPFLAGS)
tests_unit_test_apdu_LDADD = $(CARD_LDADD)

UNIT_TESTS += tests/unit/test_der
tests_unit_test_der_SOURCES = tests/unit/test_der.c
tests_unit_test_der_CPPFLAGS = $(CARD_TEST_CPPFLAGS)
tests_unit_test_der_LDADD = $(CARD_LDADD)

UNIT_TESTS += tests/unit/test_jpki
tests_unit_test_jpki_SOURCES = tests/unit/test_jpki.c \
	kioskd/card/card_fake.c kioskd/card/card_fake.h
tests_unit_test_jpki_CPPFLAGS = $(CARD_TEST_CPPFLAGS)
tests_unit_test_jpki_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_jpki_LDADD = $(CARD_LDADD)

UNIT_TESTS += tests/unit/test_jpki_fuzz
tests_unit_test_jpki_fuzz_SOURCES = tests/unit/test_jpki_fuzz.c \
	kioskd/card/card_fake.c kioskd/card/card_fake.h
tests_unit_test_jpki_fuzz_CPPFLAGS = $(CARD_TEST_CPPFLAGS)
tests_unit_test_jpki_fuzz_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_jpki_fuzz_LDADD = $(CARD_LDADD)
