# SPDX-License-Identifier: GPL-2.0
#
# instance/jobshim/: shoal-jobshim, the freestanding static binary that runs in
# front of every program of a job (job_abi.h). No libc, no TLS, no sanitizers
# (it cannot have their runtime), linked at SHOAL_SHIM_BASE so that all of its
# text and data lie in [SHOAL_SHIM_BASE, SHOAL_SHIM_LIMIT): the seccomp filter
# tells its calls from the program's by instruction pointer. Its objects get
# their own flags through a static pattern rule, which wins over the shared
# %.o rule. The pure-logic files, and the filter (whose test installs it in a
# child), are also built as ordinary hosted objects for tests/jobs/
# (JOBSHIM_HOSTED_OBJS, under the sanitizer flags when set). The
# binary sits next to shoal-instance, where the jail looks for it.

JOBSHIM_BIN := $(BUILD)/instance/shoal-jobshim
JOBSHIM_SRCS := $(sort $(wildcard instance/jobshim/*.c))
JOBSHIM_C_OBJS := $(patsubst instance/jobshim/%.c,$(BUILD)/instance/jobshim/obj/%.o,$(JOBSHIM_SRCS))
JOBSHIM_OBJS := $(JOBSHIM_C_OBJS) $(BUILD)/instance/jobshim/obj/start.o
JOBSHIM_LOGIC := lib state route fdtable sysclass filter
JOBSHIM_HOSTED_OBJS := $(patsubst %,$(BUILD)/instance/jobshim/hosted/%.o,$(JOBSHIM_LOGIC))

# Must match SHOAL_SHIM_BASE in instance/job_abi.h (a test checks the binary).
JOBSHIM_BASE := 0x1f0000000000
JOBSHIM_CFLAGS := -std=gnu11 $(WARN_CFLAGS) -O2 -g -ffreestanding -fno-builtin \
	-fno-stack-protector -fpie -include instance/jobshim/visibility.h -fcf-protection=none \
	-fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -fno-exceptions \
	-mgeneral-regs-only
JOBSHIM_LDFLAGS := -static -nostdlib -no-pie -Wl,-Ttext-segment=$(JOBSHIM_BASE) \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,norelro

ALL_TARGETS += $(JOBSHIM_BIN)

$(JOBSHIM_C_OBJS): $(BUILD)/instance/jobshim/obj/%.o: instance/jobshim/%.c instance/jobshim.mk | $(DEPS_STAMP)
	$(call msg,CC,$<)mkdir -p $(@D) && \
		$(CC) $(OUR_CPPFLAGS) $(JOBSHIM_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/instance/jobshim/obj/start.o: instance/jobshim/start.S | $(DEPS_STAMP)
	$(call msg,AS,$<)mkdir -p $(@D) && $(CC) -c -o $@ $<

$(JOBSHIM_BIN): $(JOBSHIM_OBJS)
	$(call msg,LD,$@)mkdir -p $(@D) && \
		$(CC) $(JOBSHIM_LDFLAGS) -o $@ $(JOBSHIM_OBJS) -lgcc

$(JOBSHIM_HOSTED_OBJS): $(BUILD)/instance/jobshim/hosted/%.o: instance/jobshim/%.c | $(DEPS_STAMP)
	$(call msg,CC,$<)mkdir -p $(@D) && \
		$(CC) $(OUR_CPPFLAGS) $(OUR_CFLAGS) -MMD -MP -c -o $@ $<
