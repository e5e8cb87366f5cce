# SPDX-License-Identifier: GPL-2.0
"""Read api/openapi.yaml and check HTTP responses against it, with the
standard library only.

load() reads the plain subset of YAML the spec is written in (block mappings
and sequences, plain and double-quoted scalars, flow lists of scalars, folded
block scalars, comments). check_response() finds the operation a response
answers and validates its JSON body against the schema of its status, with the
parts of OpenAPI 3.0's schema language the spec uses ($ref, type, nullable,
enum, required, properties, additionalProperties, items, minimum, maximum,
maxLength, maxProperties, pattern, oneOf). Anything outside that subset is an
error, so the spec cannot silently grow past what is checked. A response is
checked against the content type it came with: JSON as one document,
newline-delimited JSON (application/x-ndjson) line by line against the same
schema, and raw bytes (application/octet-stream, text/plain) only for being
declared.
"""

import json
import re

SPEC_PATH = "api/openapi.yaml"

_INT = re.compile(r"^-?[0-9]+$")
_FLOAT = re.compile(r"^-?[0-9]+\.[0-9]+$")


def _scalar(text):
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("["):
        if not text.endswith("]"):
            raise ValueError("unterminated flow list: %r" % text)
        inner = text[1:-1].strip()
        return [_scalar(p.strip()) for p in inner.split(",")] if inner else []
    if text in ("true", "false"):
        return text == "true"
    if text in ("null", "~"):
        return None
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text) and text.count(".") == 1:
        return float(text)
    if text[0] in "{&*!|>'%@`" or " #" in text:
        raise ValueError("outside the supported YAML subset: %r" % text)
    return text


def _split_key(line):
    if line.startswith('"'):
        end = line.index('"', 1)
        key = json.loads(line[: end + 1])
        rest = line[end + 1 :]
        if not rest.startswith(":"):
            raise ValueError("expected ':' after key in %r" % line)
        return key, rest[1:].strip()
    if line.endswith(":"):
        return line[:-1], ""
    i = line.find(": ")
    if i < 0:
        return None, None
    return line[:i], line[i + 2 :].strip()


def load(text):
    lines = []
    for raw in text.splitlines():
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError("tab in indentation")
        s = raw.rstrip()
        if not s.strip() or s.lstrip().startswith("#"):
            continue
        lines.append([len(s) - len(s.lstrip(" ")), s.strip()])
    pos = 0

    def is_item(i):
        return lines[i][1] == "-" or lines[i][1].startswith("- ")

    def block(ind):
        return seq(ind) if is_item(pos) else mapping(ind)

    def value(rest, ind):
        nonlocal pos
        if rest in (">-", ">", "|", "|-"):
            parts = []
            while pos < len(lines) and lines[pos][0] > ind:
                parts.append(lines[pos][1])
                pos += 1
            return (" " if rest.startswith(">") else "\n").join(parts)
        if rest:
            return _scalar(rest)
        if pos < len(lines) and (lines[pos][0] > ind or (lines[pos][0] == ind and is_item(pos))):
            return block(lines[pos][0])
        return None

    def mapping(ind):
        nonlocal pos
        out = {}
        while pos < len(lines) and lines[pos][0] == ind and not is_item(pos):
            key, rest = _split_key(lines[pos][1])
            if key is None:
                raise ValueError("not a 'key: value' line: %r" % lines[pos][1])
            if key in out:
                raise ValueError("duplicate key %r" % key)
            pos += 1
            out[key] = value(rest, ind)
        if pos < len(lines) and lines[pos][0] > ind:
            raise ValueError("bad indentation at %r" % lines[pos][1])
        return out

    def seq(ind):
        nonlocal pos
        out = []
        while pos < len(lines) and lines[pos][0] == ind and is_item(pos):
            item = lines[pos][1][2:].strip()
            key, _ = _split_key(item) if not item.startswith('"') else (None, None)
            if key is not None:
                lines[pos] = [ind + 2, item]
                out.append(mapping(ind + 2))
            else:
                pos += 1
                out.append(_scalar(item))
        return out

    doc = block(0)
    if pos != len(lines):
        raise ValueError("trailing content at %r" % lines[pos][1])
    return doc


def load_spec(path=SPEC_PATH):
    with open(path, encoding="utf-8") as f:
        return load(f.read())


def _resolve(spec, obj):
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            raise ValueError("only local $refs: %r" % ref)
        obj = spec
        for part in ref[2:].split("/"):
            obj = obj[part]
    return obj


_KNOWN = {"$ref", "type", "nullable", "enum", "required", "properties", "additionalProperties",
          "items", "minimum", "maximum", "maxLength", "maxProperties", "pattern", "description",
          "default", "oneOf"}


def validate(spec, schema, value, where="$"):
    """Raise ValueError naming the first place where @value breaks @schema."""
    schema = _resolve(spec, schema)
    unknown = set(schema) - _KNOWN
    if unknown:
        raise ValueError("%s: schema keywords the checker does not know: %s" % (where, unknown))
    if "oneOf" in schema:
        errors, matched = [], 0
        for alt in schema["oneOf"]:
            try:
                validate(spec, alt, value, where)
                matched += 1
            except ValueError as e:
                errors.append(str(e))
        if matched != 1:
            raise ValueError("%s: matches %d of oneOf, want 1 (%s)" %
                             (where, matched, "; ".join(errors)))
        return
    if value is None:
        if schema.get("nullable"):
            return
        raise ValueError("%s: null where it is not nullable" % where)
    t = schema.get("type")
    ok = {
        None: True,
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
    }.get(t)
    if ok is None:
        raise ValueError("%s: unknown type %r" % (where, t))
    if not ok:
        raise ValueError("%s: %r is not of type %s" % (where, value, t))
    if "enum" in schema and value not in schema["enum"]:
        raise ValueError("%s: %r not in %r" % (where, value, schema["enum"]))
    if "minimum" in schema and value < schema["minimum"]:
        raise ValueError("%s: %r < minimum %r" % (where, value, schema["minimum"]))
    if "maximum" in schema and value > schema["maximum"]:
        raise ValueError("%s: %r > maximum %r" % (where, value, schema["maximum"]))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise ValueError("%s: longer than %d" % (where, schema["maxLength"]))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise ValueError("%s: %r does not match %s" % (where, value, schema["pattern"]))
    if t == "object":
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            raise ValueError("%s: more than %d properties" % (where, schema["maxProperties"]))
        for key in schema.get("required", []):
            if key not in value:
                raise ValueError("%s: required %r missing" % (where, key))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, v in value.items():
            if key in props:
                validate(spec, props[key], v, "%s.%s" % (where, key))
            elif extra is False:
                raise ValueError("%s: property %r not in the spec" % (where, key))
            elif isinstance(extra, dict):
                validate(spec, extra, v, "%s.%s" % (where, key))
    if t == "array" and "items" in schema:
        for i, v in enumerate(value):
            validate(spec, schema["items"], v, "%s[%d]" % (where, i))


# Answers the server gives before it knows the operation (connection level).
CONNECTION_STATUSES = (400, 401, 408, 413, 431, 503)


def _match_path(spec, path):
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    return None


def check_response(spec, method, path, status, body, content_type="application/json"):
    """Raise ValueError unless @body is what the spec says @method @path
    answers with @status and @content_type: parsed JSON for application/json,
    a list of parsed lines for application/x-ndjson, bytes otherwise."""
    content_type = (content_type or "application/json").split(";")[0].strip()
    path = path.split("?", 1)[0]
    error_schema = {"$ref": "#/components/schemas/Error"}
    template = _match_path(spec, path)
    if template is None:
        if status != 404:
            raise ValueError("%s %s: not in the spec, answered %d (want 404)" %
                             (method, path, status))
        return validate(spec, error_schema, body)
    op = spec["paths"][template].get(method.lower())
    if op is None:
        if status not in (405,) + CONNECTION_STATUSES:
            raise ValueError("%s %s: method not in the spec, answered %d" %
                             (method, path, status))
        return validate(spec, error_schema, body)
    resp = op["responses"].get(str(status))
    if resp is None:
        if status in CONNECTION_STATUSES:
            return validate(spec, error_schema, body)
        raise ValueError("%s %s: status %d is not declared" % (method, template, status))
    resp = _resolve(spec, resp)
    content = resp.get("content", {})
    if not content:
        if body is not None:
            raise ValueError("%s %s %d: a body where the spec has none" %
                             (method, template, status))
        return None
    if content_type not in content:
        raise ValueError("%s %s %d: content type %s, the spec has %s" %
                         (method, template, status, content_type, list(content)))
    schema = content[content_type].get("schema")
    if content_type == "application/json":
        return validate(spec, schema, body)
    if content_type == "application/x-ndjson":
        for i, line in enumerate(body):
            validate(spec, schema, line, "$[line %d]" % i)
        return None
    if _resolve(spec, schema).get("type") != "string" or not isinstance(body, bytes):
        raise ValueError("%s %s %d: raw content must be bytes of a string schema" %
                         (method, template, status))
    return None
