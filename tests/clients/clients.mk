# SPDX-License-Identifier: GPL-2.0
#
# tests/clients/: the shoal CLI and the Python client against the real shoald
# over its real socket, with real instances (root). A suite of its own:
# `make test SUITE=clients`.

SUITES += clients

TEST_BINS_clients += tests/clients/test_cli.py tests/clients/test_python_client.py
# Jobs (exec, run, bench -- CMD, the demo) need the instance's job shim.
TEST_DEPS_clients += $(SHOAL_CLI_BIN) $(SHOALD_BIN) $(INSTANCE_BIN) $(JOBSHIM_BIN)
