# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/: the real shoald over its real Unix socket with real instances
# (root). Every response is checked against api/openapi.yaml.

TEST_BINS_e2e += tests/e2e/test_shoald.py
TEST_DEPS_e2e += $(SHOALD_BIN) $(INSTANCE_BIN)
