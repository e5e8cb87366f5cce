# SPDX-License-Identifier: GPL-2.0
#
# The library kernel: Debian's linux-source-6.12 unpacked into build/kernel/,
# our arch port linked in (a symlink, so edits rebuild), patches applied,
# configured from our defconfig on top of allnoconfig, built out of tree with
# O=. Kbuild does the incremental work, so it runs on every `make`.
#
# Outputs:
#   $(SKL_KERNEL_OBJ)  the kernel as one relocatable object, only skl_* global
#   $(SKL_LIB)         libskl.a: that object + the POSIX host library
#   $(SKL_INCLUDE)/    skl.h, skl/host_ops.h and the prefixed uapi headers

KERNEL_TARBALL := /usr/src/linux-source-6.12.tar.xz
KERNEL_DIR := $(BUILD_ROOT)/kernel
KERNEL_SRC := $(KERNEL_DIR)/src/linux-source-6.12
KERNEL_OBJ := $(KERNEL_DIR)/obj
KERNEL_ARCH := $(abspath kernel-lib/arch/skl)
KERNEL_PATCHES := $(sort $(wildcard kernel-lib/patches/*.patch))
KERNEL_JOBS ?= $(shell nproc)
SKL_KERNEL_OBJ := $(KERNEL_DIR)/skl-kernel.o
SKL_INCLUDE := $(KERNEL_DIR)/include
SKL_LIB := $(BUILD)/kernel-lib/libskl.a

# One kernel build at a time in build/kernel/obj: two make processes (two
# terminals, a test run and a benchmark) would corrupt each other's objects.
kmake = flock $(abspath $(KERNEL_DIR))/.build-lock $(MAKE) -C $(KERNEL_SRC) O=$(abspath $(KERNEL_OBJ)) ARCH=skl \
	$(if $(filter 1,$(V)),V=1) -j$(KERNEL_JOBS)

# A fresh tree per unpack: the kernel refuses O= builds from a tree that was
# ever built in place. The stamp records which patches were applied, so a new
# or changed patch starts over from a clean unpack.
KERNEL_STAMP := $(KERNEL_SRC)/.skl-unpacked
$(KERNEL_STAMP): $(KERNEL_TARBALL) $(KERNEL_PATCHES) | $(DEPS_STAMP)
	$(call msg,TAR,$(KERNEL_TARBALL))rm -rf $(KERNEL_DIR)/src && \
		mkdir -p $(KERNEL_DIR)/src && tar -C $(KERNEL_DIR)/src -xf $(KERNEL_TARBALL)
	$(Q)ln -sfn $(KERNEL_ARCH) $(KERNEL_SRC)/arch/skl
	$(Q)for p in $(KERNEL_PATCHES); do \
		echo "  PATCH $$p"; \
		patch -d $(KERNEL_SRC) -p1 --quiet < $$p || exit 1; \
	done
	$(Q)touch $@

$(KERNEL_TARBALL): | $(DEPS_STAMP)

$(KERNEL_OBJ)/.config: kernel-lib/arch/skl/configs/skl_defconfig \
		kernel-lib/arch/skl/Kconfig $(KERNEL_STAMP)
	$(call msg,CFG,$@)mkdir -p $(KERNEL_OBJ) && \
		$(kmake) -s KCONFIG_ALLCONFIG=$(abspath $<) allnoconfig
	$(Q)for opt in $$(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$$/\1/p' $<); do \
		grep -q "^$$opt=y" $@ || { echo "kernel config: $$opt did not stay =y" >&2; \
		rm -f $@; exit 1; }; \
	done

# Kbuild decides what is out of date; this recipe always runs.
$(KERNEL_OBJ)/vmlinux: $(KERNEL_OBJ)/.config FORCE
	$(call msg,KBUILD,vmlinux)$(kmake) $(if $(filter 1,$(V)),,-s) vmlinux

# Keep only the API (kernel-lib/api.symbols) global: every other kernel
# symbol (memcpy, printk, jiffies, our own skl_cpu_*...) becomes local so it
# cannot clash with the host's libc or the program.
$(SKL_KERNEL_OBJ): $(KERNEL_OBJ)/vmlinux kernel-lib/api.symbols
	$(call msg,OBJCOPY,$@)objcopy --keep-global-symbols=kernel-lib/api.symbols \
		-R .eh_frame --add-section .note.GNU-stack=/dev/null \
		$< $@.tmp && mv $@.tmp $@

.PHONY: kernel FORCE
FORCE:
kernel: $(SKL_LIB) skl-headers

ALL_TARGETS += kernel

# Installable headers: our API, the host-operations contract, and the
# kernel's uapi renamed with the skl prefix (kernel-lib/scripts/).
SKL_HDR_STAMP := $(SKL_INCLUDE)/.stamp
SKL_UAPI_INSTALL := $(KERNEL_DIR)/uapi-install
$(SKL_HDR_STAMP): $(KERNEL_OBJ)/vmlinux $(wildcard kernel-lib/include/*.h) \
		kernel-lib/arch/skl/include/shared/skl/host_ops.h \
		kernel-lib/scripts/prefix-uapi.py kernel-lib/scripts/gen-syscalls.py
	$(call msg,HDRS,$(SKL_INCLUDE))$(kmake) -s headers_install \
		INSTALL_HDR_PATH=$(abspath $(SKL_UAPI_INSTALL))
	$(Q)mkdir -p $(SKL_INCLUDE)/skl
	$(Q)kernel-lib/scripts/prefix-uapi.py --src $(SKL_UAPI_INSTALL)/include \
		--out $(SKL_INCLUDE) --prefix skl --srctree $(KERNEL_SRC)
	$(Q)kernel-lib/scripts/gen-syscalls.py --srctree $(KERNEL_SRC) \
		--unistd $(SKL_UAPI_INSTALL)/include/asm/unistd_64.h --prefix skl \
		--out $(SKL_INCLUDE)/skl/syscalls.h
	$(Q)cp kernel-lib/include/*.h $(SKL_INCLUDE)/
	$(Q)cp kernel-lib/arch/skl/include/shared/skl/host_ops.h $(SKL_INCLUDE)/skl/host_ops.h
	$(Q)touch $@

.PHONY: skl-headers
skl-headers: $(SKL_HDR_STAMP)

# The host library: host operations on POSIX and the boot helper.
SKL_HOST_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard kernel-lib/host/*.c)))
$(SKL_HOST_OBJS): LOCAL_CFLAGS += -I$(SKL_INCLUDE)
$(SKL_HOST_OBJS): $(SKL_HDR_STAMP)

$(SKL_LIB): $(SKL_KERNEL_OBJ) $(SKL_HOST_OBJS)
	$(call msg,AR,$@)mkdir -p $(@D) && rm -f $@ && $(AR) rcs $@ $^

# What a program needs to use the library kernel.
SKL_CFLAGS = -I$(SKL_INCLUDE)
SKL_LDLIBS = -lpthread

# tests/kernel-headers checks our real generated headers, not its stand-in.
export SKL_HEADERS_DIR := $(abspath $(SKL_INCLUDE))

# make demo (until the orchestrator exists): one process, its own kernel.
SKL_DEMO := $(BUILD)/kernel-lib/demo/skl-demo
$(BUILD)/kernel-lib/demo/skl-demo.o: LOCAL_CFLAGS += $(SKL_CFLAGS)
$(BUILD)/kernel-lib/demo/skl-demo.o: $(SKL_HDR_STAMP)
$(SKL_DEMO): $(BUILD)/kernel-lib/demo/skl-demo.o $(SKL_LIB)
	$(cmd-link)
$(SKL_DEMO): private LOCAL_LDLIBS += $(SKL_LDLIBS)
ALL_TARGETS += $(SKL_DEMO)
DEMO_CMD = $(SKL_DEMO)

# make install-kernel-lib [PREFIX=/usr/local]: the library and its headers.
PREFIX ?= /usr/local
.PHONY: install-kernel-lib
install-kernel-lib: $(SKL_LIB) $(SKL_HDR_STAMP)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))mkdir -p $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include && \
		cp $(SKL_LIB) $(DESTDIR)$(PREFIX)/lib/ && \
		cp -r $(SKL_INCLUDE)/skl $(SKL_INCLUDE)/skl.h $(SKL_INCLUDE)/skl_net.h $(DESTDIR)$(PREFIX)/include/
