# kioskd core foundation: framed messages (msg), worker processes (proc),
# the configuration (config, printconf).  The core and the workers link
# KIOSKCORE_LDADD.

noinst_LIBRARIES += kioskd/libkioskcore.a
kioskd_libkioskcore_a_SOURCES = \
	kioskd/msg.c kioskd/msg.h \
	kioskd/proc.c kioskd/proc.h \
	kioskd/config.c kioskd/config.h \
	kioskd/printconf.c
kioskd_libkioskcore_a_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)

KIOSKCORE_LDADD = kioskd/libkioskcore.a common/libcommon.a $(EVENT_LIBS)

EXTRA_DIST += kioskd/kioskd.conf.sample $(KIOSKCORE_GOLDEN)
KIOSKCORE_GOLDEN = \
	tests/config/default.conf tests/config/default.out \
	tests/config/full.conf tests/config/full.out \
	tests/config/include.conf tests/config/include.out \
	tests/config/include-part.inc \
	tests/config/midnight.conf tests/config/midnight.out \
	tests/config/sample.out \
	tests/config/bad-syntax.conf tests/config/bad-syntax.err \
	tests/config/bad-values.conf tests/config/bad-values.err \
	tests/config/bad-missing.conf tests/config/bad-missing.err \
	tests/config/bad-center.conf tests/config/bad-center.err \
	tests/config/bad-include.conf tests/config/bad-include.err \
	tests/config/bad-include-part.inc

KIOSKCORE_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) \
	-I$(top_srcdir)/tests/unit

UNIT_TESTS += tests/unit/test_msg
tests_unit_test_msg_SOURCES = tests/unit/test_msg.c
tests_unit_test_msg_CPPFLAGS = $(KIOSKCORE_TEST_CPPFLAGS)
tests_unit_test_msg_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)
tests_unit_test_msg_LDADD = $(KIOSKCORE_LDADD)

UNIT_TESTS += tests/unit/test_proc
tests_unit_test_proc_SOURCES = tests/unit/test_proc.c
tests_unit_test_proc_CPPFLAGS = $(KIOSKCORE_TEST_CPPFLAGS)
tests_unit_test_proc_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)
tests_unit_test_proc_LDADD = $(KIOSKCORE_LDADD)

UNIT_TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CPPFLAGS = $(KIOSKCORE_TEST_CPPFLAGS)
tests_unit_test_config_LDADD = $(KIOSKCORE_LDADD)
