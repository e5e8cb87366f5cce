# SPDX-License-Identifier: GPL-2.0
#
# tests/docs/: the documentation against what it documents: docs/api.md is
# exactly what docs/gen-api.py makes of api/openapi.yaml (so the reference
# cannot drift from the spec), and the README names only CLI verbs and API
# paths that exist. Nothing to build, no root: `make test SUITE=docs`.

SUITES += docs

TEST_BINS_docs += tests/docs/test_docs.py
TEST_DEPS_docs += $(SHOAL_CLI_BIN)
