noinst_LIBRARIES += common/libcommon.a
common_libcommon_a_SOURCES = \
	common/log.c common/log.h \
	common/civil.c common/civil.h \
	common/hex.c common/hex.h \
	common/util.c common/util.h
