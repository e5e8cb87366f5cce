# SPDX-License-Identifier: GPL-2.0
#
# docs/: hand-written guides and docs/api.md, the API reference generated from
# api/openapi.yaml by docs/gen-api.py (Python standard library only). The
# generated file is committed; `make docs` rewrites it after a change to the
# spec, and the docs suite (tests/docs/) fails while it is stale.

.PHONY: docs
docs:
	$(call msg,GEN,docs/api.md)python3 docs/gen-api.py -o docs/api.md
