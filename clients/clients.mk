# SPDX-License-Identifier: GPL-2.0
#
# clients/: the shoal command line tool (C: libcurl over the daemon's Unix
# socket, jansson for JSON; one file per verb group under clients/cli/), the
# Python client (clients/python/shoal.py, standard library only, nothing to
# build) and bash completion (clients/completion/shoal.bash).

SHOAL_CLI_BIN := $(BUILD)/clients/shoal
SHOAL_CLI_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard clients/cli/*.c)))

ALL_TARGETS += $(SHOAL_CLI_BIN)

$(SHOAL_CLI_OBJS): LOCAL_CFLAGS += $(call pkg-cflags,libcurl) $(call pkg-cflags,jansson)

$(SHOAL_CLI_BIN): $(SHOAL_CLI_OBJS) $(API_LIB)
	$(cmd-link)
$(SHOAL_CLI_BIN): private LOCAL_LDLIBS += $(call pkg-libs,libcurl) $(call pkg-libs,jansson) \
	-lpthread -lm $(API_LDLIBS)

# `make demo`: a private shoald, three networked instances, a job in each (HTTP
# server, a client fetching from it, files), timings, then nothing left. It is
# the orchestrator's showcase that issue 8 asks `make demo` to be, so it wins
# over the library kernel's own demo (kernel-lib/kernel.mk sorts later and sets
# DEMO_CMD too; `override` keeps this one; that demo stays runnable as
# $(SKL_DEMO)).
override DEMO_CMD = SHOAL_BUILD=$(BUILD) clients/demo.sh
