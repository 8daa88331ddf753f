# The anti-forgery layers of a printed document: the void pantograph,
# microtext and the QR code (printing/antiforgery.h).

noinst_LIBRARIES += printing/libantiforgery.a
printing_libantiforgery_a_SOURCES = \
	printing/antiforgery.c printing/antiforgery.h
printing_libantiforgery_a_CFLAGS = $(AM_CFLAGS) $(CAIRO_CFLAGS) \
	$(PANGO_CFLAGS) $(QRENCODE_CFLAGS)

# What links libantiforgery.a needs after it.
ANTIFORGERY_LDADD = printing/libantiforgery.a $(PANGO_LIBS) $(CAIRO_LIBS) \
	$(QRENCODE_LIBS) -lm

# A simulated copier over the pantograph and the microtext; the code read
# back with zbar.  With -w DIR it also writes the docs/antiforgery images.
UNIT_TESTS += tests/unit/test_antiforgery
tests_unit_test_antiforgery_SOURCES = tests/unit/test_antiforgery.c
tests_unit_test_antiforgery_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/printing -I$(top_srcdir)/tests/unit
tests_unit_test_antiforgery_CFLAGS = $(AM_CFLAGS) $(CAIRO_CFLAGS) \
	$(PANGO_CFLAGS) $(ZBAR_CFLAGS) $(POPPLER_CFLAGS)
tests_unit_test_antiforgery_LDADD = $(ANTIFORGERY_LDADD) $(ZBAR_LIBS) \
	$(POPPLER_LIBS)

EXTRA_DIST += docs/antiforgery
