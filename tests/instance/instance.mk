# SPDX-License-Identifier: GPL-2.0
#
# tests/instance/: the real shoal-instance, driven over a real socketpair by a
# small supervisor (tinst.c) that speaks the control protocol with the shared
# codec; real veths in namespaces the tests make. A suite of its own:
# `make test SUITE=instance` (root: the instances lock themselves down).

SUITES += instance

# instance/instance.mk had to name kernel-lib's outputs before kernel.mk set them.
ifneq ($(INSTANCE_SKL_LIB) $(INSTANCE_SKL_HDR_STAMP),$(SKL_LIB) $(SKL_HDR_STAMP))
$(error instance/instance.mk names $(INSTANCE_SKL_LIB) $(INSTANCE_SKL_HDR_STAMP) but kernel-lib/kernel.mk makes $(SKL_LIB) $(SKL_HDR_STAMP))
endif

INSTANCE_TEST_BINS := $(patsubst %.c,$(BUILD)/%,$(sort $(wildcard tests/instance/test_*.c)))
INSTANCE_TEST_HELPER := $(BUILD)/tests/instance/tinst.o

TEST_BINS_instance += $(INSTANCE_TEST_BINS)
TEST_DEPS_instance += $(INSTANCE_BIN)
# test_jobs_forward and test_jobs_patch put tests/jobs' helper program into their instances.
TEST_DEPS_instance += $(BUILD)/tests/jobs/jobprog-static $(BUILD)/tests/jobs/jobprog-dynamic

$(INSTANCE_TEST_BINS): $(BUILD)/tests/instance/%: $(BUILD)/tests/instance/%.o \
		$(INSTANCE_TEST_HELPER) $(HARNESS_OBJ) $(API_LIB)
	$(cmd-link)
$(INSTANCE_TEST_BINS): private LOCAL_LDLIBS += $(API_LDLIBS)

# The kernel-lib test cases once more under the instance's own lock-down
# (tests/kernel/lockdown-run, tests/kernel/klockdown.c).
TEST_BINS_instance += tests/kernel/lockdown-run
TEST_DEPS_instance += $(KERNEL_TEST_BINS)
