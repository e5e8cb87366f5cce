# SPDX-License-Identifier: GPL-2.0
#
# instance/: shoal-instance, the process that hosts one library kernel and
# serves its supervisor over the control protocol. It links the shared api
# library (codec, channel), the library kernel and libseccomp (sandbox*.c).
#
# kernel-lib/kernel.mk sorts after this file, so its variables are not yet set
# when the prerequisites below are read: its outputs are named here the way it
# names them, and tests/instance/instance.mk (read after it) checks that the
# two agree.

INSTANCE_BIN := $(BUILD)/instance/shoal-instance
INSTANCE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard instance/*.c)))
INSTANCE_SKL_LIB := $(BUILD)/kernel-lib/libskl.a
INSTANCE_SKL_HDR_STAMP := $(BUILD_ROOT)/kernel/include/.stamp

ALL_TARGETS += $(INSTANCE_BIN)

$(INSTANCE_OBJS): LOCAL_CFLAGS += $(SKL_CFLAGS)
$(BUILD)/instance/sandbox.o $(BUILD)/instance/sandbox_allow.o: LOCAL_CFLAGS += $(call pkg-cflags,libseccomp)
$(INSTANCE_OBJS): $(INSTANCE_SKL_HDR_STAMP)

# The seccomp allow-list compiled to BPF at build time (sandbox.c loads it):
# a build tool runs libseccomp on sandbox_allow.c's table and writes C.
INSTANCE_BPF_GEN := $(BUILD)/instance/gen/seccomp-bpf-gen
INSTANCE_BPF_SRC := $(BUILD)/instance/gen/sandbox_bpf.c
INSTANCE_BPF_OBJ := $(BUILD)/instance/gen/sandbox_bpf.o
$(BUILD)/instance/gen/seccomp_bpf_gen.o: LOCAL_CFLAGS += $(call pkg-cflags,libseccomp)
$(INSTANCE_BPF_GEN): $(BUILD)/instance/gen/seccomp_bpf_gen.o $(BUILD)/instance/sandbox_allow.o \
		$(API_LIB)
	$(cmd-link)
$(INSTANCE_BPF_GEN): private LOCAL_LDLIBS += $(API_LDLIBS) $(call pkg-libs,libseccomp)
$(INSTANCE_BPF_SRC): $(INSTANCE_BPF_GEN)
	$(call msg,GEN,$@)$(INSTANCE_BPF_GEN) > $@.tmp && mv $@.tmp $@
$(INSTANCE_BPF_OBJ): $(INSTANCE_BPF_SRC) | $(DEPS_STAMP)
	$(call msg,CC,$<)mkdir -p $(@D) && \
		$(CC) $(OUR_CPPFLAGS) $(OUR_CFLAGS) -MMD -MP -c -o $@ $<

$(INSTANCE_BIN): $(INSTANCE_OBJS) $(INSTANCE_BPF_OBJ) $(API_LIB) $(INSTANCE_SKL_LIB)
	$(cmd-link)
$(INSTANCE_BIN): private LOCAL_LDLIBS += $(API_LDLIBS) $(call pkg-libs,libseccomp) $(SKL_LDLIBS)
# An instance is exec'd for every create, so what happens before main() is
# paid by every spawn -> ready: linked statically it is ~0.35 ms less (a
# shoal-instance that fails at once, fork -> exit: 1.0 ms dynamic, 0.65 ms
# static; /bin/true 0.57 ms), no dynamic loader, no four libraries to map and
# relocate. static-pie: the program is still placed at a random address.
# Sanitizer builds cannot be static: they link libgcc_s as a needed library
# instead, which the loader maps at exec, where dlopen() in kernel.c cost
# ~130 us (see kernel_prepare()).
ifeq ($(SANITIZE_FLAGS),)
# -z text: no relocation may write to the text, which trim.c unmaps when idle.
$(INSTANCE_BIN): private LOCAL_LDLIBS += -static-pie -Wl,-z,text
$(BUILD)/instance/kernel.o: LOCAL_CFLAGS += -DINSTANCE_STATIC=1
else
$(INSTANCE_BIN): private LOCAL_LDLIBS += -Wl,--push-state,--no-as-needed -lgcc_s -Wl,--pop-state
endif
