#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write docs/api.md, the reference of shoald's HTTP API, from api/openapi.yaml.

The spec is the one source of truth: this script only rearranges it for
reading (an index of operations; per operation its parameters, request body
fields with types and limits, responses and the error codes each status
stands for; every schema as a table of fields). It reads the spec with the
standard-library loader the e2e tests use (tests/e2e/openapi.py), so the docs
and the response checks see the same document. Output is deterministic: the
docs test (tests/docs/test_docs.py) regenerates it and fails on any
difference, and `make docs` rewrites docs/api.md.

    docs/gen-api.py                  print the reference on stdout
    docs/gen-api.py -o docs/api.md   write it
    docs/gen-api.py --check docs/api.md
                                     exit 1 with a diff if the file is stale

Run from anywhere; paths are relative to the repository root. Standard
library only. A schema keyword the renderer does not know stops it, so the
reference cannot silently leave part of the spec out.
"""

import argparse
import difflib
import os
import re
import sys

sys.dont_write_bytecode = True  # nothing of ours lands in the source tree
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import openapi  # noqa: E402  (the spec loader of the e2e suite)

SPEC = os.path.join(ROOT, "api", "openapi.yaml")
METHODS = ("get", "put", "post", "patch", "delete")
# Schema keywords rendered below; anything else in the spec is an error.
KNOWN = {"$ref", "type", "nullable", "enum", "required", "properties", "additionalProperties",
         "items", "minimum", "maximum", "maxLength", "maxProperties", "pattern", "description",
         "default", "oneOf"}


class SpecError(Exception):
    pass


def cell(text):
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(value):
    """A literal in backticks (JSON spelling for non-strings)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif value is None:
        value = "null"
    return "`%s`" % value


def ref_name(ref):
    if not ref.startswith("#/components/schemas/"):
        raise SpecError("unsupported $ref %r" % ref)
    return ref.rsplit("/", 1)[1]


def link(name):
    return "[%s](#schema-%s)" % (name, name.lower())


def check_keywords(schema, where):
    unknown = set(schema) - KNOWN
    if unknown:
        raise SpecError("%s: schema keywords gen-api.py does not render: %s" %
                        (where, ", ".join(sorted(unknown))))


def type_of(schema, where):
    """Short type text: `integer`, `array of string`, a link to a named schema."""
    check_keywords(schema, where)
    if "$ref" in schema:
        return link(ref_name(schema["$ref"]))
    if "oneOf" in schema:
        return "one of " + ", ".join(type_of(s, where) for s in schema["oneOf"])
    t = schema.get("type")
    if t == "array":
        items = schema.get("items")
        text = "array of " + type_of(items, where + "[]") if items else "array"
    elif t == "object" and isinstance(schema.get("additionalProperties"), dict):
        text = "object of " + type_of(schema["additionalProperties"], where + ".*")
    else:
        text = t or "any"
    if schema.get("nullable"):
        text += " or null"
    return text


def limits_of(schema, where):
    """The constraints of a schema as one line: range, length, pattern, enum, default."""
    check_keywords(schema, where)
    out = []
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if lo is not None and hi is not None:
        out.append("%s..%s" % (lo, hi))
    elif lo is not None:
        out.append("≥ %s" % lo)
    elif hi is not None:
        out.append("≤ %s" % hi)
    if "maxLength" in schema:
        out.append("≤ %d chars" % schema["maxLength"])
    if "maxProperties" in schema:
        out.append("≤ %d entries" % schema["maxProperties"])
    if "pattern" in schema:
        out.append("pattern %s" % code(schema["pattern"]))
    if "enum" in schema:
        out.append("one of " + ", ".join(code(v) for v in schema["enum"]))
    if "default" in schema:
        out.append("default %s" % code(schema["default"]))
    inner = schema.get("items") or schema.get("additionalProperties")
    if isinstance(inner, dict) and "$ref" not in inner:
        sub = limits_of(inner, where + "[]")
        if sub:
            out.append(("items: " if "items" in schema else "values: ") + sub)
    return "; ".join(out)


def field_rows(spec, schema, prefix, where):
    """Rows (field, type, required, limits, description) of an object schema,
    nested inline objects flattened as parent.child."""
    check_keywords(schema, where)
    rows = []
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        full = prefix + name
        w = "%s.%s" % (where, name)
        check_keywords(sub, w)
        rows.append((code(full), type_of(sub, w), "yes" if name in required else "",
                     limits_of(sub, w), sub.get("description", "")))
        if sub.get("type") == "object" and "properties" in sub:
            rows.extend(field_rows(spec, sub, full + ".", w))
    return rows


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(cell(c) for c in r) + " |")
    return out


def parse_error_codes(spec):
    """(code, status, note) for every error code, from the Error response's
    description ("... Codes: a (404), b, c (409, why), ..."), checked against
    the code enum of the Error schema so that the two cannot disagree."""
    desc = openapi._resolve(spec, spec["components"]["responses"]["Error"])["description"]
    enum = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"][
        "code"]["enum"]
    if "Codes:" not in desc:
        raise SpecError("the Error response's description has no 'Codes:' list")
    text = desc.split("Codes:", 1)[1].strip().rstrip(".")
    items, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    items.append(cur.strip())
    out, pending = [], []
    for item in items:
        m = re.fullmatch(r"([a-z_]+)(?:\s*\((\d{3})(?:,\s*(.*))?\))?", item, re.S)
        if not m:
            raise SpecError("Error description: cannot read %r as 'code' or 'code (status)'" % item)
        pending.append((m.group(1), m.group(3) or ""))
        if m.group(2):
            out.extend((c, int(m.group(2)), note) for c, note in pending)
            pending = []
    if pending:
        raise SpecError("Error description: no status for %s" % ", ".join(c for c, _ in pending))
    named = [c for c, _, _ in out]
    if sorted(named) != sorted(enum) or len(set(named)) != len(named):
        raise SpecError("Error description lists %s; the Error schema's enum is %s" %
                        (sorted(named), sorted(enum)))
    return out


def paragraphs(text):
    return [" ".join(text.split())] if text else []


def summary(op):
    """The first sentence of an operation's description, else of its first
    success response's description."""
    text = op.get("description")
    if not text:
        ok = [r for s, r in op["responses"].items() if s.startswith("2")]
        text = ok[0].get("description", "") if ok else ""
    return " ".join(text.split()).split(". ")[0].rstrip(".")


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item, item[method]
        extra = set(item) - set(METHODS) - {"parameters"}
        if extra:
            raise SpecError("%s: path item keys gen-api.py does not render: %s" %
                            (path, ", ".join(sorted(extra))))


def render_body_schema(spec, schema, where):
    """The fields table of a request body (named schema: link + its fields)."""
    out = []
    check_keywords(schema, where)
    name = ref_name(schema["$ref"]) if "$ref" in schema else None
    target = openapi._resolve(spec, schema)
    if target.get("type") == "object" and target.get("properties"):
        if name:
            out.append("Schema %s; fields:" % link(name))
            out.append("")
        out += table(["Field", "Type", "Required", "Limits", "Description"],
                     field_rows(spec, target, "", where))
        extra = target.get("additionalProperties", True)
        out.append("")
        out.append("Unknown fields are refused." if extra is False else
                   "Other fields are allowed.")
    else:
        lim = limits_of(target, where)
        what = "raw bytes" if target.get("type") == "string" else type_of(schema, where)
        out.append("The body is %s%s." % (what, " (%s)" % lim if lim else ""))
    return out


def render_operation(spec, path, method, item, op, codes_by_status):
    opid = op.get("operationId") or "%s %s" % (method, path)
    where = "%s %s" % (method.upper(), path)
    out = ['<a id="op-%s"></a>' % opid.lower(), "", "### `%s %s`" % (method.upper(), path), ""]
    out.append("Operation `%s`." % opid)
    out.append("")
    for p in paragraphs(op.get("description", "")):
        out += [p, ""]
    params = list(item.get("parameters", [])) + list(op.get("parameters", []))
    if params:
        rows = []
        for prm in params:
            prm = openapi._resolve(spec, prm)
            extra = set(prm) - {"name", "in", "required", "description", "schema"}
            if extra:
                raise SpecError("%s: parameter keys gen-api.py does not render: %s" %
                                (where, ", ".join(sorted(extra))))
            w = "%s ?%s" % (where, prm["name"])
            sch = prm.get("schema", {})
            target = openapi._resolve(spec, sch)
            rows.append((code(prm["name"]), prm["in"], "yes" if prm.get("required") else "",
                         type_of(sch, w), limits_of(target, w), prm.get("description", "")))
        out.append("**Parameters**")
        out.append("")
        out += table(["Name", "In", "Required", "Type", "Limits", "Description"], rows)
        out.append("")
    body = op.get("requestBody")
    if body:
        content = body.get("content", {})
        for ctype, media in content.items():
            out.append("**Request body** (`%s`%s)" %
                       (ctype, ", required" if body.get("required") else ", optional"))
            out.append("")
            out += render_body_schema(spec, media.get("schema", {}), where + " body")
            out.append("")
    out.append("**Responses**")
    out.append("")
    rows = []
    for status, resp in op["responses"].items():
        is_error = resp.get("$ref") == "#/components/responses/Error"
        resp = openapi._resolve(spec, resp)
        content = resp.get("content", {})
        if is_error:
            codes = codes_by_status.get(int(status), [])
            what = link("Error")
            if codes:
                what += ", codes of this status: " + ", ".join(code(c) for c in codes)
            rows.append((status, "`application/json`", what))
            continue
        if not content:
            rows.append((status, "", resp.get("description", "")))
        for ctype, media in content.items():
            sch = media.get("schema", {})
            t = type_of(sch, "%s %s" % (where, status))
            if ctype != "application/json" and openapi._resolve(spec, sch).get("type") == "string":
                t = "raw bytes" if ctype == "application/octet-stream" else "text"
            if ctype == "application/x-ndjson":
                t = "one %s per line" % t
            rows.append((status, "`%s`" % ctype, "%s: %s" % (t, resp.get("description", ""))))
    out += table(["Status", "Content", "Body"], rows)
    out.append("")
    return out


def render(spec):
    info = spec["info"]
    errors = parse_error_codes(spec)
    codes_by_status = {}
    for c, status, _ in errors:
        codes_by_status.setdefault(status, []).append(c)
    ops = list(operations(spec))
    out = [
        "# shoald API reference",
        "",
        "<!-- Generated by docs/gen-api.py from api/openapi.yaml: do not edit by hand,",
        "     run `make docs` (tests/docs checks that this file is up to date). -->",
        "",
        "%s, version %s (OpenAPI %s). The spec itself is [`api/openapi.yaml`](../api/openapi.yaml);"
        % (info["title"], info["version"], spec["openapi"]),
        "the e2e tests check every response of the daemon against it.",
        "",
    ]
    for p in paragraphs(info.get("description", "")):
        out += [p, ""]
    out += ["## Operations", ""]
    rows = [("[`%s %s`](#op-%s)" % (m.upper(), p, (o.get("operationId") or "").lower()),
             summary(o)) for p, m, _, o in ops]
    out += table(["Request", "What it does"], rows)
    out.append("")
    out += ["## Errors", ""]
    out.append("Every error answer is a JSON %s object, `{\"error\": {\"code\": ..., "
               "\"message\": ...}}`: a stable code for programs and a message for people. "
               "The codes and the HTTP status each comes with (a response table below lists "
               "every code of a status, not only those that operation gives):" % link("Error"))
    out.append("")
    out += table(["Code", "Status", "Note"], [(code(c), s, n) for c, s, n in errors])
    out.append("")
    out += ["## Requests", ""]
    for path, method, item, op in ops:
        out += render_operation(spec, path, method, item, op, codes_by_status)
    out += ["## Schemas", ""]
    for name, schema in spec["components"]["schemas"].items():
        where = "schema " + name
        check_keywords(schema, where)
        out += ['<a id="schema-%s"></a>' % name.lower(), "", "### %s" % name, ""]
        for p in paragraphs(schema.get("description", "")):
            out += [p, ""]
        if "oneOf" in schema:
            out.append("One of: " + ", ".join(type_of(s, where) for s in schema["oneOf"]) + ".")
        elif schema.get("type") == "object" and schema.get("properties"):
            out += table(["Field", "Type", "Required", "Limits", "Description"],
                         field_rows(spec, schema, "", where))
            if schema.get("additionalProperties") is False:
                out += ["", "No other fields."]
        elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"),
                                                           dict):
            lim = limits_of(schema, where)
            out.append("An %s%s." % (type_of(schema, where), " (%s)" % lim if lim else ""))
        elif schema.get("type") == "object":
            out.append("An empty object `{}`." if schema.get("additionalProperties") is False
                       else "An object.")
        else:
            lim = limits_of(schema, where)
            out.append("A %s%s." % (type_of(schema, where), ": " + lim if lim else ""))
        out.append("")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description="Generate docs/api.md from api/openapi.yaml.")
    ap.add_argument("--spec", default=SPEC, help="the OpenAPI file (default: api/openapi.yaml)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("-o", "--output", help="write the reference to this file")
    g.add_argument("--check", metavar="FILE", help="exit 1 with a diff unless FILE is current")
    args = ap.parse_args(argv[1:])
    try:
        text = render(openapi.load_spec(args.spec))
    except (SpecError, ValueError, KeyError) as e:
        print("gen-api.py: %s: %s" % (args.spec, e), file=sys.stderr)
        return 1
    if args.check:
        try:
            with open(args.check, encoding="utf-8") as f:
                have = f.read()
        except OSError as e:
            print("gen-api.py: %s" % e, file=sys.stderr)
            return 1
        if have == text:
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            have.splitlines(True), text.splitlines(True), args.check, "generated"))
        print("gen-api.py: %s is not what api/openapi.yaml gives: run `make docs`" %
              args.check, file=sys.stderr)
        return 1
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.output)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
