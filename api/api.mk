# SPDX-License-Identifier: GPL-2.0
#
# api/: libshoal-api.a, the code shared by daemon, instance and clients (errors,
# logging, cleanup helpers; later the control-message codec). Every api/*.c file
# goes into the archive.

API_SRCS := $(sort $(wildcard api/*.c))
API_OBJS := $(API_SRCS:%.c=$(BUILD)/%.o)
API_LIB := $(BUILD)/api/libshoal-api.a

ALL_TARGETS += $(API_LIB)

$(API_LIB): $(API_OBJS)
	$(cmd-ar)
