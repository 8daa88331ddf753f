# kiosk-verify: checks a printed document (PDF, or a PNG/JPEG scan)
# against the center's document key; re-renders the signed content with
# liblayout.a (printing/layout.mk) and compares the visible text.

KV_CFLAGS = $(AM_CFLAGS) $(POPPLER_CFLAGS) $(CAIRO_CFLAGS) $(ZBAR_CFLAGS) \
	$(JPEG_CFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)
KV_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/printing \
	-I$(top_srcdir)/tools/kiosk-verify

bin_PROGRAMS += tools/kiosk-verify/kiosk-verify
tools_kiosk_verify_kiosk_verify_SOURCES = \
	tools/kiosk-verify/kiosk-verify.c \
	tools/kiosk-verify/pdfinfo.c tools/kiosk-verify/pdfinfo.h \
	tools/kiosk-verify/scan.c tools/kiosk-verify/scan.h
tools_kiosk_verify_kiosk_verify_CPPFLAGS = $(KV_CPPFLAGS)
tools_kiosk_verify_kiosk_verify_CFLAGS = $(KV_CFLAGS)
tools_kiosk_verify_kiosk_verify_LDADD = $(LAYOUT_LDADD) $(POPPLER_LIBS) \
	$(ZBAR_LIBS) $(JPEG_LIBS)

# Signs test fixtures as the center would (tests only, not installed).
noinst_PROGRAMS += tools/kiosk-verify/sign-fixture
tools_kiosk_verify_sign_fixture_SOURCES = tools/kiosk-verify/sign-fixture.c
tools_kiosk_verify_sign_fixture_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tools_kiosk_verify_sign_fixture_LDADD = common/libcommon.a $(JANSSON_LIBS) \
	$(CRYPTO_LIBS)

# The info-dictionary reader on well-formed, incremental and hostile PDFs.
UNIT_TESTS += tests/unit/test_pdfinfo
tests_unit_test_pdfinfo_SOURCES = tests/unit/test_pdfinfo.c \
	tools/kiosk-verify/pdfinfo.c tools/kiosk-verify/pdfinfo.h
tests_unit_test_pdfinfo_CPPFLAGS = $(KV_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_pdfinfo_CFLAGS = $(AM_CFLAGS) $(CAIRO_CFLAGS)
tests_unit_test_pdfinfo_LDADD = $(CAIRO_LIBS)

EXTRA_DIST += tests/integration/kiosk_verify.sh
