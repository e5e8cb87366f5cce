# SPDX-License-Identifier: GPL-2.0
#
# tests/unit/: one test executable per module of shared code (C, linked with the
# harness and libshoal-api.a) plus Python tests of the test tooling itself
# (the runner and the harness), which drive tests/unit/fixtures/.

UNIT_C_BINS := $(patsubst %.c,$(BUILD)/%,$(sort $(wildcard tests/unit/test_*.c)))
UNIT_FIXTURES := $(BUILD)/tests/unit/fixtures/harness_cases

TEST_BINS_unit += $(UNIT_C_BINS) $(sort $(wildcard tests/unit/test_*.py))
TEST_DEPS_unit += $(UNIT_FIXTURES)

$(UNIT_C_BINS): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(HARNESS_OBJ) $(API_LIB)
	$(cmd-link)
$(UNIT_C_BINS): private LOCAL_LDLIBS += $(API_LDLIBS)

$(UNIT_FIXTURES): $(BUILD)/%: $(BUILD)/%.o $(HARNESS_OBJ)
	$(cmd-link)

# test_log parses the JSON lines it makes; libjansson itself comes with $(API_LDLIBS).
$(BUILD)/tests/unit/test_log.o: LOCAL_CFLAGS += $(call pkg-cflags,jansson)
