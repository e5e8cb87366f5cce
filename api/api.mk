# SPDX-License-Identifier: GPL-2.0
#
# api/: libshoal-api.a, the code shared by daemon, instance and clients (errors,
# logging, cleanup helpers, and the control protocol: codec and SEQPACKET
# channel). Every api/*.c file goes into the archive.
#
# The codec parses JSON with jansson, so whatever links $(API_LIB) also links
# $(API_LDLIBS):
#   $(BUILD)/x: private LOCAL_LDLIBS += $(API_LDLIBS)
# The public headers do not include <jansson.h>; users need no extra cflags.

API_SRCS := $(sort $(wildcard api/*.c))
API_OBJS := $(API_SRCS:%.c=$(BUILD)/%.o)
API_LIB := $(BUILD)/api/libshoal-api.a
API_LDLIBS = $(call pkg-libs,jansson)

ALL_TARGETS += $(API_LIB)

$(API_OBJS): LOCAL_CFLAGS += $(call pkg-cflags,jansson)

$(API_LIB): $(API_OBJS)
	$(cmd-ar)
