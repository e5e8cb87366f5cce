# SPDX-License-Identifier: GPL-2.0
#
# tests/fuzz/: libFuzzer targets for the code that parses untrusted input.
# fuzz_proto drives the control-protocol decoder (api/proto*.c). It is built
# with clang, whatever CC is, because libFuzzer is clang's: the api sources are
# compiled again here with coverage instrumentation and ASan + UBSan, into
# $(BUILD)/tests/fuzz/obj/, apart from the ordinary objects.
#
# The unit suite runs it for a bounded number of inputs (test_fuzz.py); for a
# longer run by hand:
#   make build/tests/fuzz/fuzz_proto
#   build/tests/fuzz/fuzz_proto -dict=tests/fuzz/proto.dict -max_len=65536 \
#       /tmp/corpus tests/fuzz/corpus/proto

FUZZ_CC := clang
FUZZ_SANITIZE := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu11 $(WARN_CFLAGS) -O1 -g -D_GNU_SOURCE $(FUZZ_SANITIZE) \
	$(call pkg-cflags,jansson)
FUZZ_OBJDIR := $(BUILD)/tests/fuzz/obj
FUZZ_PROTO := $(BUILD)/tests/fuzz/fuzz_proto

TEST_BINS_unit += tests/fuzz/test_fuzz.py
TEST_DEPS_unit += $(FUZZ_PROTO)

$(FUZZ_OBJDIR)/%.o: %.c | $(DEPS_STAMP)
	$(call msg,CC,$< (fuzz))mkdir -p $(@D) && \
		$(FUZZ_CC) $(OUR_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_PROTO): $(FUZZ_OBJDIR)/tests/fuzz/fuzz_proto.o $(API_SRCS:%.c=$(FUZZ_OBJDIR)/%.o)
	$(call msg,LD,$@)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ \
		$(call pkg-libs,jansson)
