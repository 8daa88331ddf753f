# The kiosk's transaction journal (SQLite), the payment device interface
# with its coin box simulator, and the reconciliation decision table:
# kioskd/libjournal.a, linked by the core (with $(SQLITE_LIBS)).

noinst_LIBRARIES += kioskd/libjournal.a
kioskd_libjournal_a_SOURCES = \
	kioskd/journal.c kioskd/journal.h \
	kioskd/payment.h kioskd/payment_coinbox.c \
	kioskd/reconcile.c kioskd/reconcile.h
kioskd_libjournal_a_CPPFLAGS = -I$(top_srcdir)/kioskd $(AM_CPPFLAGS)
kioskd_libjournal_a_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)

# What links libjournal.a needs after it.
JOURNAL_LDADD = kioskd/libjournal.a common/libcommon.a $(SQLITE_LIBS)

EXTRA_DIST += kioskd/reconcile.md

# kiosk-coinbox: the coin box simulator's ledger, for tests and demos.
bin_PROGRAMS += kioskd/kiosk-coinbox
kioskd_kiosk_coinbox_SOURCES = kioskd/kiosk-coinbox.c
kioskd_kiosk_coinbox_CPPFLAGS = -I$(top_srcdir)/kioskd $(AM_CPPFLAGS)
kioskd_kiosk_coinbox_LDADD = $(JOURNAL_LDADD)

JOURNAL_TEST_CPPFLAGS = -I$(top_srcdir)/kioskd -I$(top_srcdir)/tests/unit \
	$(AM_CPPFLAGS)

# Steps, rules, one outcome, durability across SIGKILL, busy openers,
# schema versions, counters, pruning.
UNIT_TESTS += tests/unit/test_journal
tests_unit_test_journal_SOURCES = tests/unit/test_journal.c
tests_unit_test_journal_CPPFLAGS = $(JOURNAL_TEST_CPPFLAGS)
tests_unit_test_journal_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
tests_unit_test_journal_LDADD = $(JOURNAL_LDADD)

# The coin box: idempotent take/refund, every fault, the ledger across
# SIGKILL, kiosk-coinbox's summary.
UNIT_TESTS += tests/unit/test_coinbox
tests_unit_test_coinbox_SOURCES = tests/unit/test_coinbox.c
tests_unit_test_coinbox_CPPFLAGS = $(JOURNAL_TEST_CPPFLAGS)
tests_unit_test_coinbox_LDADD = $(JOURNAL_LDADD)

# The reconciliation table, every (phase, fact) pair, and crash-and-
# reconcile runs against a real journal and coin box.
UNIT_TESTS += tests/unit/test_reconcile
tests_unit_test_reconcile_SOURCES = tests/unit/test_reconcile.c
tests_unit_test_reconcile_CPPFLAGS = $(JOURNAL_TEST_CPPFLAGS)
tests_unit_test_reconcile_LDADD = $(JOURNAL_LDADD)
