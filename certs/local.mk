# kiosk-pki: the project's test PKI (OpenSSL C API, no openssl(1) calls).

bin_PROGRAMS += certs/kiosk-pki
certs_kiosk_pki_SOURCES = \
	certs/kiosk-pki.c certs/pki.h \
	certs/pki_store.c certs/pki_index.c certs/pki_issue.c \
	certs/pki_revoke.c certs/pki_init.c certs/pki_card.c \
	certs/pki_validity.c certs/pki_validity.h
certs_kiosk_pki_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
certs_kiosk_pki_LDADD = common/libcommon.a $(CRYPTO_LIBS)

# The JPKI validity rule: pure date arithmetic, no OpenSSL.
UNIT_TESTS += tests/unit/test_pki_validity
tests_unit_test_pki_validity_SOURCES = tests/unit/test_pki_validity.c \
	certs/pki_validity.c certs/pki_validity.h
tests_unit_test_pki_validity_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/certs -I$(top_srcdir)/tests/unit
tests_unit_test_pki_validity_LDADD = common/libcommon.a

EXTRA_DIST += tests/integration/pki.sh
