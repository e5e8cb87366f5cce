# SPDX-License-Identifier: GPL-2.0
#
# tests/jobs/: shoal-jobshim (instance/jobshim/). test_passthrough runs real
# Debian programs under the shim in passthrough mode (every call on the host)
# and checks what they print and how they end; test_logic unit-tests the
# shim's pure-logic files (path routing, state string, placeholder table,
# call classes) built as hosted objects; test_filter installs the shim's
# seccomp filter in a child and checks what it traps, allows and denies
# (the job's deny list, also from the shim's range). Forwarding mode runs
# against real instances only: tests/instance/test_jobs.c and
# test_jobs_forward.c (suite instance). jobprog is a small helper program,
# built static and dynamic, that makes raw system calls and misbehaves on
# request (test_jobs_forward puts it into instances). A suite of its own:
# `make test SUITE=jobs`.

SUITES += jobs

JOBS_TEST_BINS := $(BUILD)/tests/jobs/test_passthrough $(BUILD)/tests/jobs/test_logic \
	$(BUILD)/tests/jobs/test_filter
JOBS_PROGS := $(BUILD)/tests/jobs/jobprog-static $(BUILD)/tests/jobs/jobprog-dynamic

TEST_BINS_jobs += $(JOBS_TEST_BINS)
TEST_DEPS_jobs += $(JOBSHIM_BIN) $(JOBS_PROGS)

$(BUILD)/tests/jobs/test_passthrough: $(BUILD)/tests/jobs/test_passthrough.o \
		$(BUILD)/tests/jobs/jobrun.o $(HARNESS_OBJ)
	$(cmd-link)

$(BUILD)/tests/jobs/test_logic: $(BUILD)/tests/jobs/test_logic.o $(JOBSHIM_HOSTED_OBJS) \
		$(HARNESS_OBJ)
	$(cmd-link)

$(BUILD)/tests/jobs/test_filter: $(BUILD)/tests/jobs/test_filter.o \
		$(BUILD)/instance/jobshim/hosted/filter.o $(HARNESS_OBJ)
	$(cmd-link)

# The helper is a program under test, not test code: no sanitizers (their
# runtime would be part of what the shim runs), plain flags.
$(BUILD)/tests/jobs/jobprog-static: tests/jobs/jobprog.c | $(DEPS_STAMP)
	$(call msg,CC,$@)mkdir -p $(@D) && $(CC) -O2 -Wall -Werror -static -pthread -o $@ $<

$(BUILD)/tests/jobs/jobprog-dynamic: tests/jobs/jobprog.c | $(DEPS_STAMP)
	$(call msg,CC,$@)mkdir -p $(@D) && $(CC) -O2 -Wall -Werror -pthread -o $@ $<
