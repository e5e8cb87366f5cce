# SPDX-License-Identifier: GPL-2.0
#
# daemon/: shoald, the supervisor daemon. One libuv loop serves the HTTP/1.1 +
# JSON API on a Unix socket (http-parser parses, jansson builds JSON), keeps
# every fact in SQLite (store.c only) and spawns shoal-instance processes
# (supervisor.c) over the control channel of libshoal-api.a; netman.c speaks
# netlink through libnl-route-3.
# http-parser has no .pc file on Debian, so it is linked by name.

SHOALD_BIN := $(BUILD)/daemon/shoald
SHOALD_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard daemon/*.c)))

ALL_TARGETS += $(SHOALD_BIN)

$(SHOALD_OBJS): LOCAL_CFLAGS += $(call pkg-cflags,libuv) $(call pkg-cflags,jansson) \
	$(call pkg-cflags,sqlite3) $(call pkg-cflags,libnl-route-3.0)

$(SHOALD_BIN): $(SHOALD_OBJS) $(API_LIB)
	$(cmd-link)
$(SHOALD_BIN): private LOCAL_LDLIBS += $(call pkg-libs,libuv) $(call pkg-libs,sqlite3) \
	$(call pkg-libs,libnl-route-3.0) -lhttp_parser $(API_LDLIBS)
