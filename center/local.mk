# center: the issuance center's records layer (store), eligibility rules,
# the synthetic town and its seeding command.  The HTTP server joins later
# and links libcenter.a.

noinst_LIBRARIES += center/libcenter.a
center_libcenter_a_SOURCES = \
	center/store.c center/store.h \
	center/store_sqlite.c \
	center/eligibility.c center/eligibility.h \
	center/names.c center/names.h \
	center/seed.c center/seed.h \
	center/writer.c center/writer.h
center_libcenter_a_CFLAGS = $(AM_CFLAGS) -pthread $(SQLITE_CFLAGS)

# What links libcenter.a needs after it.
CENTER_LDADD = center/libcenter.a common/libcommon.a $(SQLITE_LIBS) -lpthread

bin_PROGRAMS += center/kiosk-center-seed
center_kiosk_center_seed_SOURCES = center/kiosk-center-seed.c
center_kiosk_center_seed_LDADD = $(CENTER_LDADD)

CENTER_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/center \
	-I$(top_srcdir)/tests/unit

UNIT_TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CPPFLAGS = $(CENTER_TEST_CPPFLAGS)
tests_unit_test_store_LDADD = $(CENTER_LDADD)

UNIT_TESTS += tests/unit/test_eligibility
tests_unit_test_eligibility_SOURCES = tests/unit/test_eligibility.c
tests_unit_test_eligibility_CPPFLAGS = $(CENTER_TEST_CPPFLAGS)
tests_unit_test_eligibility_LDADD = $(CENTER_LDADD)

# The per-process cache of OCSP answers.
UNIT_TESTS += tests/unit/test_ocsp_cache
tests_unit_test_ocsp_cache_SOURCES = tests/unit/test_ocsp_cache.c \
	center/ocsp_cache.c center/ocsp_cache.h
tests_unit_test_ocsp_cache_CPPFLAGS = $(CENTER_TEST_CPPFLAGS) \
	-I$(top_srcdir)/certs
tests_unit_test_ocsp_cache_CFLAGS = $(AM_CFLAGS) -pthread
tests_unit_test_ocsp_cache_LDADD = -lpthread

# The pool that asks OCSP off the workers.
UNIT_TESTS += tests/unit/test_ocsp_fetch
tests_unit_test_ocsp_fetch_SOURCES = tests/unit/test_ocsp_fetch.c \
	center/ocsp_fetch.c center/ocsp_fetch.h
tests_unit_test_ocsp_fetch_CPPFLAGS = $(CENTER_TEST_CPPFLAGS) \
	-I$(top_srcdir)/certs
tests_unit_test_ocsp_fetch_CFLAGS = $(AM_CFLAGS) -pthread $(CRYPTO_CFLAGS)
tests_unit_test_ocsp_fetch_LDADD = certs/libjpkiverify.a common/libcommon.a \
	$(CRYPTO_LIBS) -lpthread

# kiosk-centerd: the reference issuance center (API.md).
bin_PROGRAMS += center/kiosk-centerd
center_kiosk_centerd_SOURCES = \
	center/centerd.c center/centerd.h \
	center/http.c center/http.h \
	center/api_util.c center/api_records.c \
	center/api_sessions.c center/api_issuances.c \
	center/document.c center/document.h \
	center/ocsp_cache.c center/ocsp_cache.h \
	center/ocsp_fetch.c center/ocsp_fetch.h
center_kiosk_centerd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/center \
	-I$(top_srcdir)/certs
center_kiosk_centerd_CFLAGS = $(AM_CFLAGS) -pthread $(EVENT_CFLAGS) \
	$(EVENT_OPENSSL_CFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS) \
	$(SQLITE_CFLAGS)
center_kiosk_centerd_LDADD = certs/libjpkiverify.a $(CENTER_LDADD) \
	$(EVENT_OPENSSL_LIBS) $(EVENT_LIBS) $(JANSSON_LIBS) $(CRYPTO_LIBS) \
	-lpthread

# Document content, options and signatures.
UNIT_TESTS += tests/unit/test_document
tests_unit_test_document_SOURCES = tests/unit/test_document.c \
	center/document.c center/document.h
tests_unit_test_document_CPPFLAGS = $(CENTER_TEST_CPPFLAGS)
tests_unit_test_document_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(CRYPTO_CFLAGS)
tests_unit_test_document_LDADD = $(CENTER_LDADD) $(JANSSON_LIBS) \
	$(CRYPTO_LIBS)

EXTRA_DIST += center/API.md tests/integration/center.sh
