# SPDX-License-Identifier: GPL-2.0
#
# Shoal's one Makefile. It owns the things every module shares (flags, the
# out-of-tree build folder, quiet output, pkg-config, the Debian packages the
# project needs, the test runner) and includes one fragment per module, so that
# each module states its own targets next to its code.
#
# Fragment contract
# =================
# Every file matching */*.mk or tests/*/*.mk is included, in sorted path order,
# after the shared variables below are defined. A fragment may:
#
#   ALL_TARGETS += FILE...     files `make` / `make all` builds (all is the
#                              default goal).
#   TEST_BINS_<suite> += PATH  test executables of a suite (suite names are in
#                              SUITES: unit kernel e2e). Each follows the
#                              protocol in tests/README.md (--list, one case
#                              per run, exit 0/77/other). Paths may be built
#                              files or executable scripts in the tree.
#                              `make test` runs them all through
#                              tests/run-tests, from the repository root, with
#                              SHOAL_BUILD=$(BUILD) in the environment.
#   TEST_DEPS_<suite> += FILE  other files that must be built before the suite
#                              runs (fixtures, the kernel object, ...).
#   SUITES += NAME             a new suite; it gets test-NAME and SUITE=NAME.
#   DEMO_CMD = COMMAND         the shell command `make demo` runs after `all`.
#                              Use `=` (a later fragment may override it).
#   ordinary rules for its own files under $(BUILD).
#
# Shared variables and helpers a fragment can use:
#
#   BUILD          out-of-tree folder for this configuration: build/, or
#                  build/sanitize-<list>/ when SANITIZE is set, so objects of
#                  the two never mix. Put every object and binary under it.
#   BUILD_ROOT     build/. For outputs that do not depend on SANITIZE, such as
#                  the kernel tree, which lives in build/kernel/ (`make clean`
#                  keeps it, `make distclean` removes it).
#   OUR_CPPFLAGS   -I. (include shared headers as "api/error.h") + $(CPPFLAGS).
#   OUR_CFLAGS     -std=gnu11, the warning set, -O2 -g -D_GNU_SOURCE, the
#                  sanitizer flags, then the user's $(CFLAGS).
#   OUR_LDFLAGS    sanitizer flags + the user's $(LDFLAGS).
#   LOCAL_CFLAGS   set per object (pattern- or target-specific, e.g.
#                  `$(BUILD)/daemon/%.o: LOCAL_CFLAGS += $(call pkg-cflags,libuv)`);
#                  added by the compile rule.
#   LOCAL_LDLIBS   set per linked file (`$(BUILD)/x: private LOCAL_LDLIBS += ...`;
#                  `private` stops it leaking into prerequisites); added by
#                  cmd-link after the objects and archives.
#   $(call pkg-cflags,NAME) / $(call pkg-libs,NAME)
#                  pkg-config for NAME; stops with a clear message if pkg-config
#                  does not know NAME. Use them in deferred (`=` / `+=` /
#                  target-specific) assignments only, so that they run after
#                  `make deps` has installed the packages.
#   cmd-link       recipe line: links $@ from the .o/.a prerequisites.
#   cmd-ar         recipe line: archives the .o prerequisites into $@.
#   $(call msg,TAG,TEXT)
#                  prefix for a recipe line: prints "  TAG TEXT" unless V=1
#                  (then make echoes the command itself).
#   Q              @ unless V=1: prefix for recipe lines that print nothing.
#   DEPS_STAMP     order-only prerequisite (`| $(DEPS_STAMP)`) for any rule that
#                  needs the Debian packages; the %.c -> $(BUILD)/%.o rule has it.
#   HARNESS_OBJ    the C test harness object (tests/harness.c) to link into C
#                  test executables; API_LIB (api/api.mk) is libshoal-api.a.
#
# A variable used in a prerequisite list is expanded when the rule is read, so
# it must come from this file or from a fragment that sorts earlier (api/api.mk
# sorts first). Object files get dependency files (-MMD -MP) automatically.
#
# Entry points: all (default), deps, test [SUITE=name], test-<suite>, check,
# demo, format-check, format, clean, distclean, help. V=1 shows commands;
# SANITIZE=address,undefined builds and tests with sanitizers.

MAKEFLAGS += --no-builtin-rules
.SUFFIXES:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

comma := ,

# ---------------------------------------------------------------------------
# Configuration: build folders, flags, quiet output.

BUILD_ROOT := build
SANITIZE ?=
ifneq ($(strip $(SANITIZE)),)
BUILD := $(BUILD_ROOT)/sanitize-$(subst $(comma),-,$(strip $(SANITIZE)))
# -fno-sanitize-recover: a sanitizer report must fail the test, not scroll by.
SANITIZE_FLAGS := -fsanitize=$(strip $(SANITIZE)) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
else
BUILD := $(BUILD_ROOT)
SANITIZE_FLAGS :=
endif

WARN_CFLAGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wpointer-arith -Wundef -Wcast-align -Wvla
OUR_CPPFLAGS := -I. $(CPPFLAGS)
OUR_CFLAGS := -std=gnu11 $(WARN_CFLAGS) -O2 -g -D_GNU_SOURCE $(SANITIZE_FLAGS) $(CFLAGS)
OUR_LDFLAGS := $(SANITIZE_FLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q :=
msg =
else ifneq ($(findstring s,$(filter-out --%,$(firstword -$(MAKEFLAGS)))),)
Q := @
msg = @
else
Q := @
msg = @printf '  %-3s %s\n' '$(1)' '$(2)';
endif

pkg-query = $(if $(shell pkg-config --exists $(2) 2>/dev/null && echo yes),$\
	$(shell pkg-config $(1) $(2)),$\
	$(error pkg-config does not know '$(2)': is its -dev package in DEB_PACKAGES? 'make deps' installs them))
pkg-cflags = $(call pkg-query,--cflags,$(1))
pkg-libs = $(call pkg-query,--libs,$(1))

define cmd-link
$(call msg,LD,$@)mkdir -p $(@D) && \
	$(CC) $(OUR_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LOCAL_LDLIBS) $(LDLIBS)
endef

define cmd-ar
$(call msg,AR,$@)mkdir -p $(@D) && rm -f $@ && $(AR) rcs $@ $(filter %.o,$^)
endef

# ---------------------------------------------------------------------------
# Debian packages. One list; `make deps` installs what is missing of it.
# clang-format is here because `make format-check` needs it.

DEB_PACKAGES := linux-source-6.12 libuv1-dev libjansson-dev libsqlite3-dev libseccomp-dev \
	libhttp-parser-dev libnl-route-3-dev libcurl4-openssl-dev iproute2 bc flex bison \
	libelf-dev libssl-dev build-essential pkg-config python3 user-mode-linux busybox-static \
	iperf3 clang libclang-rt-14-dev e2fsprogs util-linux clang-format \
	iputils-ping curl bubblewrap

# The stamp's name carries a checksum of the list, so changing the list re-checks;
# depending on dpkg's status file re-checks whenever any package is installed or
# removed. Otherwise a repeated `make` costs no dpkg-query at all.
DEPS_STAMP := $(BUILD_ROOT)/.deps-$(shell printf '%s' '$(DEB_PACKAGES)' | cksum | cut -d' ' -f1).stamp
DPKG_STATUS := $(wildcard /var/lib/dpkg/status)
DEPS_LOG := $(BUILD_ROOT)/deps-apt.log

# One shell script: find the missing packages with one dpkg-query; if any,
# `apt-get update` once, make sure apt knows every one of them, install them and
# check again. Every failure ends in one line naming the missing packages; apt's
# own output goes to $(DEPS_LOG).
define deps-install
pkgs='$(strip $(DEB_PACKAGES))'; \
command -v dpkg-query >/dev/null 2>&1 || { \
	echo "make deps: dpkg-query not found: Shoal builds on Debian 12 and needs: $$pkgs" >&2; \
	exit 1; }; \
find_missing() { \
	installed=" $$(echo $$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $$pkgs \
		2>/dev/null | awk '$$1 ~ /^.i/ { print $$2 }')) "; \
	missing=; \
	for p in $$pkgs; do \
		case "$$installed" in *" $$p "*) ;; *) missing="$$missing $$p" ;; esac; \
	done; \
}; \
find_missing; \
if [ -n "$$missing" ]; then \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make deps: missing Debian packages:$$missing (run 'make deps' as root)" >&2; \
		exit 1; \
	fi; \
	echo "  DEPS installing:$$missing"; \
	mkdir -p $(BUILD_ROOT); \
	export DEBIAN_FRONTEND=noninteractive LC_ALL=C; \
	no_network() { grep -q -E 'Failed to fetch|Could not (connect|resolve)|Temporary failure resolving|Unable to connect|Network is unreachable' $(DEPS_LOG); }; \
	if ! apt-get update >$(DEPS_LOG) 2>&1; then \
		echo "make deps: 'apt-get update' failed (no network to the archive?); missing:$$missing; see $(DEPS_LOG)" >&2; \
		exit 1; \
	fi; \
	unknown=; \
	for p in $$missing; do \
		apt-cache show --no-all-versions "$$p" >/dev/null 2>&1 || unknown="$$unknown $$p"; \
	done; \
	if [ -n "$$unknown" ]; then \
		if no_network; then \
			echo "make deps: the package archive is unreachable; apt knows nothing of:$$unknown; see $(DEPS_LOG)" >&2; \
		else \
			echo "make deps: apt cannot find these packages in its sources:$$unknown" >&2; \
		fi; \
		exit 1; \
	fi; \
	if ! apt-get install -y --no-install-recommends $$missing >>$(DEPS_LOG) 2>&1; then \
		if no_network; then \
			echo "make deps: cannot download from the package archive (no network?); missing:$$missing; see $(DEPS_LOG)" >&2; \
		else \
			echo "make deps: 'apt-get install' failed for:$$missing; see $(DEPS_LOG)" >&2; \
		fi; \
		exit 1; \
	fi; \
	find_missing; \
	if [ -n "$$missing" ]; then \
		echo "make deps: still not installed after apt-get install:$$missing; see $(DEPS_LOG)" >&2; \
		exit 1; \
	fi; \
fi; \
mkdir -p $(BUILD_ROOT) && rm -f $(BUILD_ROOT)/.deps-*.stamp && touch $(DEPS_STAMP)
endef

$(DEPS_STAMP): $(DPKG_STATUS)
	$(Q)$(deps-install)

# `make deps` always asks dpkg (it is fast) rather than trusting the stamp.
.PHONY: deps
deps:
	$(Q)$(deps-install)

# ---------------------------------------------------------------------------
# Compiling, shared by every module.

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	$(call msg,CC,$<)mkdir -p $(@D) && \
		$(CC) $(OUR_CPPFLAGS) $(OUR_CFLAGS) $(LOCAL_CFLAGS) -MMD -MP -c -o $@ $<

HARNESS_OBJ := $(BUILD)/tests/harness.o

# ---------------------------------------------------------------------------
# Module fragments.

SUITES := unit kernel e2e
ALL_TARGETS :=
$(foreach s,$(SUITES),$(eval TEST_BINS_$(s) :=)$(eval TEST_DEPS_$(s) :=))

include $(sort $(wildcard */*.mk tests/*/*.mk))

DEMO_CMD ?= echo "make demo: nothing to show yet. The library kernel (kernel-lib/) and the \
orchestrator above it are in progress; this target will become the create -> exec -> destroy \
showcase."

# Dependency files of every object under $(BUILD), leaving out the kernel tree
# (its own build system tracks it) and, for the plain build, the sanitizer trees.
DEP_DIRS := $(filter-out $(BUILD_ROOT)/kernel/ $(if $(SANITIZE_FLAGS),,$(BUILD_ROOT)/sanitize-%/),$\
	$(wildcard $(BUILD)/*/))
-include $(if $(DEP_DIRS),$(shell find $(DEP_DIRS) -name '*.d' 2>/dev/null))

# ---------------------------------------------------------------------------
# Entry points.

.PHONY: all
all: $(ALL_TARGETS) | $(DEPS_STAMP)
	@:

.PHONY: demo
demo: all
	$(Q)$(DEMO_CMD)

# SUITE selects suites (`make test SUITE=unit`); without it every suite runs.
$(foreach s,$(SUITE),$(if $(filter $(s),$(SUITES)),,$(error SUITE=$(s): not one of $(SUITES))))
RUN_SUITES := $(or $(strip $(SUITE)),$(SUITES))

test-prereqs = $(foreach s,$(1),$(TEST_BINS_$(s)) $(TEST_DEPS_$(s)))
run-tests = SHOAL_BUILD=$(BUILD) tests/run-tests $(foreach s,$(1),--suite $(s) $(TEST_BINS_$(s)))

# The full run also builds `all`, so a build break anywhere fails CI.
.PHONY: test check
test: $(if $(SUITE),,all) $(call test-prereqs,$(RUN_SUITES)) | $(DEPS_STAMP)
	$(Q)$(call run-tests,$(RUN_SUITES))

check: test

define suite-target
.PHONY: test-$(1)
test-$(1): $$(call test-prereqs,$(1)) | $$(DEPS_STAMP)
	$$(Q)$$(call run-tests,$(1))
endef
$(foreach s,$(SUITES),$(eval $(call suite-target,$(s))))

# Our C files; kernel-lib/arch/ is code that lives inside the kernel tree and
# is left to the kernel's own conventions.
FORMAT_FILES = $(shell find daemon instance kernel-lib api clients tests \
	-path kernel-lib/arch -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print \
	2>/dev/null | LC_ALL=C sort)

.PHONY: format-check format
format-check: | $(DEPS_STAMP)
	$(call msg,FMT,check $(words $(FORMAT_FILES)) files)clang-format --dry-run -Werror $(FORMAT_FILES)

format: | $(DEPS_STAMP)
	$(call msg,FMT,$(words $(FORMAT_FILES)) files)clang-format -i $(FORMAT_FILES)

# clean keeps build/kernel/: a cold kernel build takes minutes.
.PHONY: clean distclean
clean:
	$(Q)if [ -d $(BUILD_ROOT) ]; then \
		find $(BUILD_ROOT) -mindepth 1 -maxdepth 1 ! -name kernel -exec rm -rf {} +; \
	fi

distclean:
	$(Q)rm -rf $(BUILD_ROOT)

.PHONY: help
help:
	@echo 'make [all]            build everything into $(BUILD_ROOT)/ (V=1 shows commands)'
	@echo 'make deps             install missing Debian packages (as root)'
	@echo 'make test [SUITE=s]   build and run the tests; suites: $(SUITES)'
	@echo 'make test-<suite>     run one suite'
	@echo 'make demo             build everything and run the demo'
	@echo 'make docs             regenerate docs/api.md from api/openapi.yaml'
	@echo 'make format-check     check C formatting (make format fixes it)'
	@echo 'make clean            remove $(BUILD_ROOT)/ except $(BUILD_ROOT)/kernel/; distclean removes all'
	@echo 'SANITIZE=address,undefined  build into $(BUILD_ROOT)/sanitize-*/ with sanitizers'
