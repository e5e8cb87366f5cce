#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The documentation against what it documents. docs/api.md must be exactly
what docs/gen-api.py makes of api/openapi.yaml, so a change to the spec without
`make docs` fails here; the generator must notice drift and refuse spec
keywords it cannot render; and README.md's usage section may name only CLI
verbs the built `shoal` has, API paths the spec has and Python client methods
shoal.py has. Runner protocol: tests/README.md (--list, one case per process).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # nothing of ours lands in the source tree
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import openapi  # noqa: E402  (tests/e2e's spec loader)
import shoal  # noqa: E402  (clients/python/shoal.py)

BUILD = os.environ.get("SHOAL_BUILD", "build")
CLI = os.environ.get("SHOAL_CLI") or os.path.join(BUILD, "clients", "shoal")
GEN = os.path.join(ROOT, "docs", "gen-api.py")
API_MD = os.path.join(ROOT, "docs", "api.md")
SPEC = os.path.join(ROOT, "api", "openapi.yaml")
README = os.path.join(ROOT, "README.md")

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def gen(*args):
    p = subprocess.run([sys.executable, GEN] + list(args), capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def spec_variant(edit):
    """A copy of the spec with @edit (old, new) applied once, in a temporary folder."""
    text = read(SPEC)
    old, new = edit
    check(text.count(old) >= 1, "the spec no longer contains %r: update this test" % old)
    d = tempfile.mkdtemp(prefix="shoal-docs-")
    path = os.path.join(d, "openapi.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new, 1))
    return d, path


@case
def api_md_is_current():
    """docs/api.md is byte for byte what gen-api.py makes of the spec now."""
    rc, out, err = gen("--check", API_MD)
    check(rc == 0, "docs/api.md is stale (run `make docs`):\n%s%s" % (out[-4000:], err))
    rc, out, err = gen()
    check(rc == 0 and out == read(API_MD), "stdout differs from --check's verdict: %s" % err)


@case
def every_operation_schema_and_code_is_documented():
    """Each path and method, each parameter, each request body field, each
    response status, each schema and each error code has its place in api.md."""
    spec = openapi.load_spec(SPEC)
    md = read(API_MD)
    for path, item in spec["paths"].items():
        for method in ("get", "put", "post", "patch", "delete"):
            if method not in item:
                continue
            op = item[method]
            head = "### `%s %s`" % (method.upper(), path)
            check(head in md, "no section %s" % head)
            section = md.split(head, 1)[1].split("\n### ", 1)[0]
            for prm in item.get("parameters", []) + op.get("parameters", []):
                check("| `%s` | %s |" % (prm["name"], prm["in"]) in section,
                      "%s: parameter %s missing" % (head, prm["name"]))
            for media in op.get("requestBody", {}).get("content", {}).values():
                body = openapi._resolve(spec, media["schema"])
                for field in body.get("properties", {}):
                    check("| `%s` |" % field in section, "%s: body field %s missing" %
                          (head, field))
            for status in op["responses"]:
                check("\n| %s | " % status in section, "%s: status %s missing" % (head, status))
    for name, schema in spec["components"]["schemas"].items():
        check('<a id="schema-%s"></a>' % name.lower() in md, "schema %s missing" % name)
    codes = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"][
        "code"]["enum"]
    for c in codes:
        check(re.search(r"^\| `%s` \| \d{3} \|" % c, md, re.M), "error code %s missing" % c)


@case
def drift_is_detected():
    """A spec changed without regenerating fails the check, with a diff that
    shows the change; regenerating from it makes the check pass again."""
    d, path = spec_variant(("maximum: 1000\n", "maximum: 999\n"))
    try:
        rc, out, err = gen("--spec", path, "--check", API_MD)
        check(rc == 1, "a changed spec passed the check: rc %d %s" % (rc, err))
        check("+| `limit` | query |  | integer | 1..999 |" in out, "diff: %r" % out[-2000:])
        check("make docs" in err, "the message does not say how to fix it: %r" % err)
        fresh = os.path.join(d, "api.md")
        rc, _, err = gen("--spec", path, "-o", fresh)
        check(rc == 0, "gen -o failed: %s" % err)
        rc, _, err = gen("--spec", path, "--check", fresh)
        check(rc == 0, "fresh output does not pass its own check: %s" % err)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@case
def unknown_keywords_and_inconsistent_errors_refused():
    """Spec content the generator would leave out stops it with a message
    (exit 1, no traceback): an unknown schema keyword, an error code the
    Error description does not give a status."""
    for edit, want in (
        (("            maximum: 1000\n",
          "            maximum: 1000\n            format: int32\n"), "format"),
        (("timeout (504)", "timeout"), "no status for timeout"),
    ):
        d, path = spec_variant(edit)
        try:
            rc, out, err = gen("--spec", path)
            check(rc == 1 and want in err and "Traceback" not in err,
                  "%r: rc %d, stderr %r" % (edit, rc, err))
        finally:
            shutil.rmtree(d, ignore_errors=True)


def readme_usage():
    text = read(README)
    check("## Usage" in text, "README.md has no '## Usage' section")
    return text.split("## Usage", 1)[1].split("\n## ", 1)[0]


@case
def readme_names_real_verbs_paths_and_methods():
    """Every `shoal VERB` in the README's usage section is a verb of the built
    CLI, every curl URL a path of the spec, every client method one of
    shoal.py's."""
    usage = readme_usage()
    check(os.access(CLI, os.X_OK), "%s is not built (make it first)" % CLI)
    top = subprocess.run([CLI, "--help"], capture_output=True, text=True, timeout=30).stdout
    verbs = set(re.findall(r"^  ([a-z]+) ", top, re.M))
    check(len(verbs) > 5, "cannot read the verbs of shoal --help: %r" % top)
    used = set(re.findall(r"^\$ shoal (?:--socket \S+ )?([a-z]+)", usage, re.M))
    check(used, "no `$ shoal VERB` lines in the usage section")
    check(used <= verbs, "README uses verbs shoal lacks: %s" % sorted(used - verbs))
    for want in ("run", "create", "ls", "exec", "cp", "logs", "events", "stats", "rm", "bench"):
        check(want in used, "the CLI tour does not show `shoal %s`" % want)
    spec = openapi.load_spec(SPEC)
    urls = re.findall(r"curl [^\n]*?--unix-socket \S+[^\n]*?'?http://[a-z]+(/[^\s'?]*)", usage)
    check(urls, "no curl --unix-socket example in the usage section")
    for u in urls:
        check(openapi._match_path(spec, u), "README curls %s, not a path of the spec" % u)
    methods = set(re.findall(r"\bc\.([a-z_]+)\(", usage))
    check(methods, "no Python client example (c.method(...)) in the usage section")
    for m in methods:
        check(callable(getattr(shoal.Client, m, None)), "shoal.Client has no method %s" % m)


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(CASES))
        return 0
    if len(argv) != 2 or argv[1] not in CASES:
        print("usage: %s --list | CASE" % argv[0], file=sys.stderr)
        return 2
    try:
        CASES[argv[1]]()
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
