noinst_LIBRARIES += common/libcommon.a
common_libcommon_a_SOURCES = \
	common/log.c common/log.h \
	common/civil.c common/civil.h \
	common/hex.c common/hex.h \
	common/util.c common/util.h \
	common/doccode.c common/doccode.h \
	common/json_compact.c common/json_compact.h \
	common/json_parse.c common/json_parse.h common/utf8.h
common_libcommon_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)

# The signed document code: format, parse, sign, verify, JST dates.
UNIT_TESTS += tests/unit/test_doccode
tests_unit_test_doccode_SOURCES = tests/unit/test_doccode.c
tests_unit_test_doccode_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_doccode_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(CRYPTO_CFLAGS)
tests_unit_test_doccode_LDADD = common/libcommon.a $(JANSSON_LIBS) \
	$(CRYPTO_LIBS)

# Compact JSON text, byte for byte what json_dumps(JSON_COMPACT) writes.
UNIT_TESTS += tests/unit/test_json_compact
tests_unit_test_json_compact_SOURCES = tests/unit/test_json_compact.c
tests_unit_test_json_compact_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_json_compact_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_json_compact_LDADD = common/libcommon.a $(JANSSON_LIBS)

# A strict one-pass JSON parser, accepting what json_loadb accepts.
UNIT_TESTS += tests/unit/test_json_parse
tests_unit_test_json_parse_SOURCES = tests/unit/test_json_parse.c
tests_unit_test_json_parse_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_json_parse_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_json_parse_LDADD = common/libcommon.a $(JANSSON_LIBS)
