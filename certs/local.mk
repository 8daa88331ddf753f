# kiosk-pki: the project's test PKI (OpenSSL C API, no openssl(1) calls).

bin_PROGRAMS += certs/kiosk-pki
certs_kiosk_pki_SOURCES = \
	certs/kiosk-pki.c certs/pki.h \
	certs/pki_store.c certs/pki_index.c certs/pki_issue.c \
	certs/pki_revoke.c certs/pki_init.c certs/pki_card.c \
	certs/pki_fleet.c certs/pki_validity.c certs/pki_validity.h
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

# ---- libjpkiverify: the JPKI user-auth certificate checks shared by the
# center and kioskd (profile, roots, validity, OCSP with CRL fallback,
# the card's signature), and kiosk-certcheck, its command-line front end.
noinst_LIBRARIES += certs/libjpkiverify.a
certs_libjpkiverify_a_SOURCES = \
	certs/jpki_verify.c certs/jpki_verify.h \
	certs/ocsp_client.c certs/ocsp_client.h \
	certs/ocsp_basic.c certs/ocsp_basic.h \
	certs/crl_cache.c certs/crl_cache.h \
	certs/verify_util.c certs/verify_util.h
certs_libjpkiverify_a_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)

# What links libjpkiverify.a needs after it.
JPKIVERIFY_LDADD = certs/libjpkiverify.a common/libcommon.a $(CRYPTO_LIBS)

bin_PROGRAMS += certs/kiosk-certcheck
certs_kiosk_certcheck_SOURCES = certs/kiosk-certcheck.c
certs_kiosk_certcheck_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
certs_kiosk_certcheck_LDADD = $(JPKIVERIFY_LDADD)

UNIT_TESTS += tests/unit/test_jpki_verify
tests_unit_test_jpki_verify_SOURCES = tests/unit/test_jpki_verify.c
tests_unit_test_jpki_verify_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/certs -I$(top_srcdir)/tests/unit
tests_unit_test_jpki_verify_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_jpki_verify_LDADD = $(JPKIVERIFY_LDADD)

EXTRA_DIST += tests/integration/verify.sh
