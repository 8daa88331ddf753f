# Unit tests: each module's fragment adds its programs to UNIT_TESTS.
noinst_PROGRAMS += $(UNIT_TESTS)

list-unit-tests:
	@echo $(UNIT_TESTS)
.PHONY: list-unit-tests
