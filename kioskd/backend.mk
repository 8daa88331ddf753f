# kioskd backend client library: TLS 1.3 mutual-auth HTTP client of the
# center (center/API.md), strict answer checks, and document verification.

noinst_LIBRARIES += kioskd/backend/libbackend.a
kioskd_backend_libbackend_a_SOURCES = \
	kioskd/backend/backend.h kioskd/backend/backend_local.h \
	kioskd/backend/backend_tls.c kioskd/backend/backend_http.c \
	kioskd/backend/backend_json.c kioskd/backend/backend_api.c \
	kioskd/backend/docverify.c kioskd/backend/docverify.h
kioskd_backend_libbackend_a_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) \
	$(EVENT_CFLAGS) $(EVENT_OPENSSL_CFLAGS) $(JANSSON_CFLAGS)

# What links libbackend.a needs after it.
BACKEND_LDADD = kioskd/backend/libbackend.a common/libcommon.a \
	$(EVENT_OPENSSL_LIBS) $(EVENT_LIBS) $(JANSSON_LIBS) $(CRYPTO_LIBS)
BACKEND_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/kioskd/backend \
	-I$(top_srcdir)/tests/unit
BACKEND_TEST_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(EVENT_CFLAGS) \
	$(EVENT_OPENSSL_CFLAGS) $(JANSSON_CFLAGS)

# Signature first, then the binding: forged, altered and misdirected
# documents (docverify.c only: no libevent).
UNIT_TESTS += tests/unit/test_docverify
tests_unit_test_docverify_SOURCES = tests/unit/test_docverify.c
tests_unit_test_docverify_CPPFLAGS = $(BACKEND_TEST_CPPFLAGS)
tests_unit_test_docverify_CFLAGS = $(BACKEND_TEST_CFLAGS)
tests_unit_test_docverify_LDADD = $(BACKEND_LDADD)

# The client against an in-test TLS 1.3 center double (evhttp +
# bufferevent_openssl) with a test PKI made by certs/kiosk-pki.
UNIT_TESTS += tests/unit/test_backend
tests_unit_test_backend_SOURCES = tests/unit/test_backend.c
tests_unit_test_backend_CPPFLAGS = $(BACKEND_TEST_CPPFLAGS)
tests_unit_test_backend_CFLAGS = $(BACKEND_TEST_CFLAGS)
tests_unit_test_backend_LDADD = $(BACKEND_LDADD)
EXTRA_tests_unit_test_backend_DEPENDENCIES = certs/kiosk-pki
