# Document layouts (issue 4): liblayout.a renders the signed content to
# A4 PDF with cairo + pango; kiosk-render is its command; the era and
# render unit tests.  Needs printing/libantiforgery.a (antiforgery.mk).
noinst_LIBRARIES += printing/liblayout.a
printing_liblayout_a_SOURCES = \
	printing/render.c printing/render.h \
	printing/era.c printing/era.h \
	printing/layout.c printing/layout.h \
	printing/layout_page.c \
	printing/layout_json.c \
	printing/layout_pdfinfo.c \
	printing/layout_juminhyo.c \
	printing/layout_inkan.c \
	printing/layout_koseki.c \
	printing/layout_tax.c
printing_liblayout_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/printing \
	$(CAIRO_CFLAGS) $(PANGO_CFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)

# What links liblayout.a needs after it.
LAYOUT_LDADD = printing/liblayout.a printing/libantiforgery.a \
	common/libcommon.a $(PANGO_LIBS) $(CAIRO_LIBS) $(QRENCODE_LIBS) \
	$(JANSSON_LIBS) $(CRYPTO_LIBS) -lm

bin_PROGRAMS += printing/kiosk-render
printing_kiosk_render_SOURCES = printing/kiosk-render.c
printing_kiosk_render_CPPFLAGS = $(printing_liblayout_a_CPPFLAGS)
printing_kiosk_render_LDADD = $(LAYOUT_LDADD)

UNIT_TESTS += tests/unit/test_era tests/unit/test_render
tests_unit_test_era_SOURCES = tests/unit/test_era.c printing/era.c
tests_unit_test_era_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/printing \
	-I$(top_srcdir)/tests/unit
tests_unit_test_era_LDADD = common/libcommon.a
tests_unit_test_render_SOURCES = tests/unit/test_render.c
tests_unit_test_render_CPPFLAGS = $(printing_liblayout_a_CPPFLAGS) \
	-I$(top_srcdir)/tests/unit \
	-DRENDER_FIXTURES='"$(abs_top_srcdir)/tests/render"'
tests_unit_test_render_LDADD = $(LAYOUT_LDADD)

EXTRA_DIST += tests/render tests/integration/render.sh tests/bench/render \
	tests/bench/render-time.c
