# SPDX-License-Identifier: GPL-2.0
#
# tests/kernel/: cases against the real library kernel, one executable per
# area, each case in its own process (the runner's protocol). They link
# libskl.a; they are not built with sanitizers' runtime in the kernel, but
# their own code is.

KERNEL_TEST_BINS := $(patsubst %.c,$(BUILD)/%,$(sort $(wildcard tests/kernel/test_*.c)))
KERNEL_TEST_OBJS := $(KERNEL_TEST_BINS:=.o)

TEST_BINS_kernel += $(KERNEL_TEST_BINS) $(sort $(wildcard tests/kernel-headers/*-test.py))

$(KERNEL_TEST_OBJS): LOCAL_CFLAGS += $(SKL_CFLAGS)
$(KERNEL_TEST_OBJS): $(SKL_HDR_STAMP)

# klockdown.o: kboot() applies the instance's lock-down (instance/sandbox.c)
# when SHOAL_KTEST_LOCKDOWN is set; lockdown-run runs the cases that way.
KERNEL_TEST_LOCKDOWN_OBJS := $(BUILD)/tests/kernel/klockdown.o $(BUILD)/instance/sandbox.o \
	$(BUILD)/instance/sandbox_allow.o $(BUILD)/instance/gen/sandbox_bpf.o
$(BUILD)/tests/kernel/klockdown.o: LOCAL_CFLAGS += $(SKL_CFLAGS)
$(BUILD)/tests/kernel/klockdown.o: $(SKL_HDR_STAMP)

$(KERNEL_TEST_BINS): $(BUILD)/tests/kernel/%: $(BUILD)/tests/kernel/%.o $(HARNESS_OBJ) \
		$(KERNEL_TEST_LOCKDOWN_OBJS) $(API_LIB) $(SKL_LIB)
	$(cmd-link)
$(KERNEL_TEST_BINS): private LOCAL_LDLIBS += $(call pkg-libs,libseccomp) $(SKL_LDLIBS)
# test_job_server runs real programs through the real shim.
TEST_DEPS_kernel += $(JOBSHIM_BIN)
