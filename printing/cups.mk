# Printing through CUPS: the spooler client and the printer-state monitor
# (printing/libspool.a, libcups only), and kiosk-print, the command-line
# face of both.

noinst_LIBRARIES += printing/libspool.a
printing_libspool_a_SOURCES = \
	printing/spool.c printing/spool.h printing/spool_ipp.h \
	printing/printer_state.c printing/printer_state.h
printing_libspool_a_CFLAGS = $(AM_CFLAGS) $(CUPS_CFLAGS)

# What links libspool.a needs after it.
SPOOL_LDADD = printing/libspool.a common/libcommon.a $(CUPS_LIBS)

bin_PROGRAMS += printing/kiosk-print
printing_kiosk_print_SOURCES = printing/kiosk-print.c
printing_kiosk_print_CFLAGS = $(AM_CFLAGS) $(CUPS_CFLAGS)
printing_kiosk_print_LDADD = $(SPOOL_LDADD)

EXTRA_DIST += tests/cups.sh tests/integration/print.sh

# Readiness from hand-built attribute sets (no CUPS needed).
UNIT_TESTS += tests/unit/test_printer_state
tests_unit_test_printer_state_SOURCES = tests/unit/test_printer_state.c
tests_unit_test_printer_state_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/printing -I$(top_srcdir)/tests/unit
tests_unit_test_printer_state_CFLAGS = $(AM_CFLAGS) $(CUPS_CFLAGS)
tests_unit_test_printer_state_LDADD = $(SPOOL_LDADD)

# The printer worker of kioskd (kioskd/printer_worker.c, built into kioskd
# by kioskd.mk) forked as the core forks it and driven over its link
# against a private cupsd + ippeveprinter (ports 16451/16452).
PRINTER_WORKER_LDADD = kioskd/libkioskcore.a printing/libspool.a \
	$(LAYOUT_LDADD) $(CUPS_LIBS) $(EVENT_LIBS)
UNIT_TESTS += tests/unit/test_printer_worker
tests_unit_test_printer_worker_SOURCES = tests/unit/test_printer_worker.c \
	kioskd/printer_worker.c kioskd/printer_worker.h
tests_unit_test_printer_worker_CPPFLAGS = -I$(top_srcdir) -I$(top_srcdir)/kioskd \
	-I$(top_srcdir)/printing $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_printer_worker_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) \
	$(CUPS_CFLAGS) $(CAIRO_CFLAGS)
tests_unit_test_printer_worker_LDADD = $(PRINTER_WORKER_LDADD)
