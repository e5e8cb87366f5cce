# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/: benchmarks that print figures beside peers measured in the
# same run; they never pass or fail on time (tests/bench/README.md).
#
#   make bench                         build and run them (not part of `make test`)
#   make bench BENCH_ARGS='--runs 20'  pass options to boot-bench
#   make bench NET_BENCH_ARGS='--seconds 5 --json'
#                                      pass options to net-bench
#
# boot-bench is ordinary C using api/'s error convention (error.o and the
# header-only cleanup.h; not the whole archive, so work in progress elsewhere
# in api/ does not stop the benchmark from building); boot-one, the instance it
# measures, links the library kernel like the tests in tests/kernel/. The one
# test case (test_bench) proves in the kernel suite that the benchmark runs
# and prints complete JSON, without judging any figure.
#
# net-bench (network throughput and latency, Shoal beside native Linux and
# iperf3) is one program: its Shoal nodes are forked children that boot a
# library kernel each, so it links libskl.a, and jansson for iperf3's JSON.
# test_net_bench runs it once, quick, and checks its JSON's shape.
#
# instance-bench (many real shoal-instance processes alive at once, beside a
# namespace with a veth and User-mode Linux) links api/'s archive for the
# control protocol's codec; its shape test (test_instance_bench) runs in the
# instance suite, which is where shoal-instance is built and run as root.
#   make bench INSTANCE_BENCH_ARGS='--counts 1,10 --uml 0'

BENCH_DIR := $(BUILD)/tests/bench
BENCH_BOOT := $(BENCH_DIR)/boot-bench
BENCH_BOOT_ONE := $(BENCH_DIR)/boot-one
BENCH_TEST := $(BENCH_DIR)/test_bench
BENCH_OBJS := $(addprefix $(BENCH_DIR)/,boot-bench.o cgroup.o instance.o procfs.o report.o \
	program.o)
BENCH_ARGS ?=
NET_BENCH := $(BENCH_DIR)/net-bench
NET_BENCH_TEST := $(BENCH_DIR)/test_net_bench
NET_BENCH_OBJS := $(addprefix $(BENCH_DIR)/,net-bench.o net-stream.o net-sock-host.o \
	net-sock-skl.o net-node.o net-proc.o netns.o net-iperf.o net-report.o report.o program.o)
NET_BENCH_ARGS ?=
INSTANCE_BENCH := $(BENCH_DIR)/instance-bench
INSTANCE_BENCH_TEST := $(BENCH_DIR)/test_instance_bench
INSTANCE_BENCH_OBJS := $(addprefix $(BENCH_DIR)/,instance-bench.o cgroup.o instance.o procfs.o \
	report.o program.o)
INSTANCE_BENCH_ARGS ?=
# job-bench (running programs in an instance, beside native and bubblewrap) is
# Python over `shoal-instance --stdio`; its shape test runs in the instance suite.
#   make bench JOB_BENCH_ARGS='--runs 20'
JOB_BENCH := tests/bench/job-bench.py
JOB_BENCH_ARGS ?=
JOB_PROBE := $(BENCH_DIR)/job-probe
# daemon-bench (shoald through its API: create -> ready, creates/s at 1/8/32,
# exec, destroy, daemon CPU, PSS per idle instance, GET throughput, beside
# netns+veth and UML) is Python over the daemon's socket; its shape test runs
# in the e2e suite, where shoald is built and run as root.
#   make bench DAEMON_BENCH_ARGS='--density 500 --json'
DAEMON_BENCH := tests/bench/daemon-bench.py
DAEMON_BENCH_ARGS ?=

ALL_TARGETS += $(BENCH_BOOT) $(BENCH_BOOT_ONE) $(NET_BENCH) $(INSTANCE_BENCH) $(JOB_PROBE)
TEST_BINS_kernel += $(BENCH_TEST) $(NET_BENCH_TEST)
TEST_DEPS_kernel += $(BENCH_BOOT) $(BENCH_BOOT_ONE) $(NET_BENCH)
TEST_BINS_instance += $(INSTANCE_BENCH_TEST) tests/bench/job-bench-test.py
TEST_DEPS_instance += $(INSTANCE_BENCH) $(JOBSHIM_BIN) $(JOB_PROBE)
TEST_BINS_e2e += tests/bench/daemon-bench-test.py
TEST_DEPS_e2e += $(SHOALD_BIN) $(INSTANCE_BIN) $(JOBSHIM_BIN) $(SHOAL_CLI_BIN)

$(BENCH_BOOT): $(BENCH_OBJS) $(BUILD)/api/error.o
	$(cmd-link)
$(BENCH_BOOT): private LOCAL_LDLIBS += -lm

$(BENCH_DIR)/boot-one.o: LOCAL_CFLAGS += $(SKL_CFLAGS)
$(BENCH_DIR)/boot-one.o: $(SKL_HDR_STAMP)
$(BENCH_BOOT_ONE): $(BENCH_DIR)/boot-one.o $(SKL_LIB)
	$(cmd-link)
$(BENCH_BOOT_ONE): private LOCAL_LDLIBS += $(SKL_LDLIBS)

$(BENCH_DIR)/test_bench.o: LOCAL_CFLAGS += $(call pkg-cflags,jansson)
$(BENCH_TEST): $(BENCH_DIR)/test_bench.o $(HARNESS_OBJ)
	$(cmd-link)
$(BENCH_TEST): private LOCAL_LDLIBS += $(call pkg-libs,jansson)

$(BENCH_DIR)/net-sock-skl.o $(BENCH_DIR)/net-node.o: LOCAL_CFLAGS += $(SKL_CFLAGS)
$(BENCH_DIR)/net-sock-skl.o $(BENCH_DIR)/net-node.o: $(SKL_HDR_STAMP)
$(BENCH_DIR)/net-iperf.o: LOCAL_CFLAGS += $(call pkg-cflags,jansson)
$(NET_BENCH): $(NET_BENCH_OBJS) $(BUILD)/api/error.o $(SKL_LIB)
	$(cmd-link)
$(NET_BENCH): private LOCAL_LDLIBS += $(call pkg-libs,jansson) -lm $(SKL_LDLIBS)

$(BENCH_DIR)/test_net_bench.o: LOCAL_CFLAGS += $(call pkg-cflags,jansson)
$(NET_BENCH_TEST): $(BENCH_DIR)/test_net_bench.o $(HARNESS_OBJ)
	$(cmd-link)
$(NET_BENCH_TEST): private LOCAL_LDLIBS += $(call pkg-libs,jansson)

# Static: the same binary runs natively and from an instance's /tmp. A program
# under test, like tests/jobs/jobprog: plain flags, no sanitizers (their
# runtime cannot be linked static, nor would it belong in what the shim runs).
$(JOB_PROBE): tests/bench/job-probe.c | $(DEPS_STAMP)
	$(call msg,CC,$@)mkdir -p $(@D) && $(CC) -O2 -Wall -Werror -static -o $@ $<

$(INSTANCE_BENCH): $(INSTANCE_BENCH_OBJS) $(API_LIB)
	$(cmd-link)
$(INSTANCE_BENCH): private LOCAL_LDLIBS += $(API_LDLIBS) -lm

$(BENCH_DIR)/test_instance_bench.o: LOCAL_CFLAGS += $(call pkg-cflags,jansson)
$(INSTANCE_BENCH_TEST): $(BENCH_DIR)/test_instance_bench.o $(HARNESS_OBJ)
	$(cmd-link)
$(INSTANCE_BENCH_TEST): private LOCAL_LDLIBS += $(call pkg-libs,jansson)

.PHONY: bench
bench: $(BENCH_BOOT) $(BENCH_BOOT_ONE) $(NET_BENCH) $(INSTANCE_BENCH) $(INSTANCE_BIN) \
		$(JOBSHIM_BIN) $(JOB_PROBE) $(SHOALD_BIN) $(SHOAL_CLI_BIN) | $(DEPS_STAMP)
	$(Q)$(BENCH_BOOT) $(BENCH_ARGS)
	$(Q)$(NET_BENCH) $(NET_BENCH_ARGS)
	$(Q)$(INSTANCE_BENCH) $(INSTANCE_BENCH_ARGS)
	$(Q)$(JOB_BENCH) --instance $(INSTANCE_BIN) --probe $(JOB_PROBE) $(JOB_BENCH_ARGS)
	$(Q)$(DAEMON_BENCH) --shoald $(SHOALD_BIN) --instance $(INSTANCE_BIN) $(DAEMON_BENCH_ARGS)
