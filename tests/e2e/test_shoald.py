#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""End-to-end tests of shoald: the real daemon ($SHOAL_BUILD/daemon/shoald)
over its real Unix socket, with real shoal-instance processes booting real
library kernels. Every case starts its own daemon on a temporary socket and
state directory and stops it; whatever it made (daemon, instance processes by
pid, socket, state directory with its database) is removed also when the case
fails. Every HTTP response any case receives is checked against
api/openapi.yaml (tests/e2e/openapi.py). Runner protocol: tests/README.md.
"""

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi  # noqa: E402

BUILD = os.environ.get("SHOAL_BUILD", "build")
# $SHOALD / $SHOAL_INSTANCE override the binaries (e.g. a sanitizer build of
# the daemon beside a plain instance).
SHOALD = os.environ.get("SHOALD") or os.path.join(BUILD, "daemon", "shoald")
INSTANCE = os.environ.get("SHOAL_INSTANCE") or os.path.join(BUILD, "instance", "shoal-instance")
SPEC = openapi.load_spec()

CASES = {}


def case(timeout=None):
    def register(fn):
        CASES[fn.__name__] = (fn, timeout)
        return fn
    return register


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_for(what, fn, timeout):
    """Poll @fn until it returns something true, at most @timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise Fail("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.05)


def pid_is_instance(pid):
    """True while @pid is a live shoal-instance (not a reused pid, not a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read()
    except OSError:
        return False
    return state != "Z" and b"shoal-instance" in cmd


def parse_head(head):
    """(status, headers dict) of a response head (without the blank line)."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


def parse_body(headers, body):
    """A body as the checker wants it for its content type."""
    ctype = headers.get("content-type", "").split(";")[0].strip()
    if ctype == "application/json":
        return json.loads(body) if body else None
    if ctype == "application/x-ndjson":
        return [json.loads(line) for line in body.split(b"\n") if line.strip()]
    return body


def check_spec(method, path, status, parsed, ctype):
    try:
        openapi.check_response(SPEC, method, path, status, parsed, ctype)
    except ValueError as e:
        raise Fail("response not as api/openapi.yaml says: %s %s -> %d %r: %s" %
                   (method, path, status, parsed if not isinstance(parsed, bytes)
                    else parsed[:100], e))


class Conn:
    """One HTTP/1.1 connection to the daemon; every answer is checked against the spec."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self, n=1):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise Fail("connection closed early; got %r" % self.buf[:200])
        self.buf += chunk

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return parse_head(head)

    def read_chunk(self):
        """The next piece of a chunked body; b"" at its end."""
        while b"\r\n" not in self.buf:
            self._fill()
        size_line, self.buf = self.buf.split(b"\r\n", 1)
        n = int(size_line.split(b";")[0], 16)
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read_lines(self):
        """Parsed NDJSON lines of a chunked body as they arrive; ends with the body."""
        pending = b""
        while True:
            data = self.read_chunk()
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip():
                    yield json.loads(line)

    def read_raw_response(self):
        status, headers = self.read_head()
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                data = self.read_chunk()
                if not data:
                    break
                body += data
        else:
            n = int(headers.get("content-length", "0"))
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def read_response(self):
        status, headers, body = self.read_raw_response()
        return status, headers, parse_body(headers, body)

    def send_request(self, method, path, body=None, raw_body=None, headers=None,
                     content_type="application/json"):
        data = raw_body if raw_body is not None else (
            json.dumps(body).encode() if body is not None else b"")
        req = "%s %s HTTP/1.1\r\nHost: shoald\r\n" % (method, path)
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        if data or method in ("POST", "PUT", "PATCH"):
            req += "Content-Type: %s\r\nContent-Length: %d\r\n" % (content_type, len(data))
        self.send_raw(req.encode() + b"\r\n" + data)

    def request(self, method, path, body=None, raw_body=None, headers=None,
                content_type="application/json"):
        self.send_request(method, path, body, raw_body, headers, content_type)
        status, hdrs, parsed = self.read_response()
        check_spec(method, path, status, parsed, hdrs.get("content-type"))
        return status, parsed


class Daemon:
    def __init__(self, *args):
        if os.geteuid() != 0:
            print("needs root: instances lock themselves down with namespaces and cgroups")
            sys.exit(77)
        for b in (SHOALD, INSTANCE):
            check(os.access(b, os.X_OK), "%s is not built (make it first)" % b)
        self.dir = tempfile.mkdtemp(prefix="shoal-e2e-")
        self.sock = os.path.join(self.dir, "shoald.sock")
        self.state = os.path.join(self.dir, "state")
        # A network namespace of its own per daemon, so that cases never share one.
        self.netns = "shoal-e2e-%d" % os.getpid()
        self.args = list(args)
        self.pids = set()
        self.log = open(os.path.join(self.dir, "shoald.log"), "w+")
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [SHOALD, "--socket", self.sock, "--state-dir", self.state,
             "--instance-bin", INSTANCE, "--netns", self.netns] + self.args,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_for("the daemon's socket", self._up, 10)
        except Fail:
            self.cleanup()
            raise

    def ns(self, *cmd, check_rc=True):
        """Run @cmd inside the daemon's network namespace; its CompletedProcess."""
        r = subprocess.run(["ip", "netns", "exec", self.netns] + list(cmd),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        if check_rc and r.returncode:
            raise Fail("%r in %s: status %d: %s" % (cmd, self.netns, r.returncode,
                                                    r.stderr.decode(errors="replace")))
        return r

    def links(self):
        """Interface names in the daemon's namespace."""
        out = self.ns("ip", "-o", "link", "show").stdout.decode()
        return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}

    def pool_links(self, links=None):
        """The veth pool's ends among @links (default: all): named for an id
        that no instance row has (yet). Read while no create is in flight."""
        links = self.links() if links is None else links
        ids = {r[0][2:14] for r in self.db("SELECT id FROM instances")}
        return {n for n in links
                if len(n) == 14 and n[:2] in ("sb", "si") and n[2:] not in ids}

    def instance_links(self):
        """Interface names without the veth pool's (--veth-pool)."""
        links = self.links()
        return links - self.pool_links(links)

    def db(self, sql, *params):
        db = sqlite3.connect("file:%s/shoald.db?mode=ro" % self.state, uri=True, timeout=5)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def _up(self):
        if self.proc.poll() is not None:
            raise Fail("shoald exited with %d at start" % self.proc.returncode)
        try:
            Conn(self.sock, 2).close()
            return True
        except OSError:
            return False

    def conn(self):
        return Conn(self.sock)

    def request(self, method, path, body=None, **kw):
        c = self.conn()
        try:
            status, parsed = c.request(method, path, body, **kw)
        finally:
            c.close()
        if isinstance(parsed, dict) and isinstance(parsed.get("pid"), int):
            self.pids.add(parsed["pid"])
        return status, parsed

    def create(self, **body):
        body.setdefault("network", False)
        status, inst = self.request("POST", "/v1/instances", body)
        check(status == 201, "create answered %d %r" % (status, inst))
        return inst

    def db_row(self, iid):
        db = sqlite3.connect("file:%s/shoald.db?mode=ro" % self.state, uri=True, timeout=5)
        try:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM instances WHERE id = ?", (iid,)).fetchone()
            return dict(row) if row else None
        finally:
            db.close()

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                raise Fail("shoald did not stop within %ss of SIGTERM" % timeout)
        return self.proc.returncode

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pid in self.pids:
            if pid_is_instance(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        # A daemon that did not stop clean leaves its namespace (and veths in it).
        if os.path.exists("/run/netns/" + self.netns):
            subprocess.run(["ip", "netns", "del", self.netns], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def with_daemon(*args):
    """Decorator: run the case with a fresh daemon started with @args."""
    def wrap(fn):
        def run():
            d = Daemon(*args)
            ok = False
            try:
                fn(d)
                # Every case ends with a clean stop: status 0 (a sanitizer
                # build reports leaks and errors through it) and no socket.
                rc = d.stop()
                check(rc == 0, "shoald exited with %d" % rc)
                check(not os.path.exists(d.sock), "socket file left behind")
                check(not os.path.exists("/run/netns/" + d.netns),
                      "network namespace %s left behind" % d.netns)
                ok = True
            finally:
                if not ok:
                    sys.stdout.write("--- shoald log ---\n" + d.output())
                d.cleanup()
        run.__name__ = fn.__name__
        return run
    return wrap


# ---- cases


@case()
def spec_loads():
    """The spec reads with our loader, as PyYAML reads it where installed."""
    check(SPEC["openapi"].startswith("3.0"), "openapi version")
    for p in ("/v1/health", "/v1/version", "/v1/instances", "/v1/instances/{id}", "/metrics",
              "/v1/events", "/v1/instances/{id}/stats", "/v1/instances/{id}/files",
              "/v1/instances/{id}/logs",
              "/v1/instances/{id}/exec"):
        check(p in SPEC["paths"], "%s missing from the spec" % p)
    try:
        import yaml
    except ImportError:
        return
    with open(openapi.SPEC_PATH) as f:
        check(yaml.safe_load(f) == SPEC, "the small loader and PyYAML disagree on the spec")


@case()
def command_line():
    """Bad options end shoald at once with status 2 and a message; a state
    directory it cannot make is status 1; nothing is left behind."""
    tmp = tempfile.mkdtemp(prefix="shoal-e2e-")
    try:
        sock = os.path.join(tmp, "s.sock")
        base = [SHOALD, "--socket", sock, "--state-dir", os.path.join(tmp, "st"),
                "--instance-bin", INSTANCE]
        for extra, want in ((["--max-instances", "0"], 2), (["--max-instances", "x"], 2),
                            (["--log-format", "xml"], 2), (["--log-level", "loud"], 2),
                            (["--bogus"], 2), (["extra-arg"], 2),
                            (["--veth-pool", "65"], 2), (["--veth-pool", "x"], 2),
                            (["--state-dir", "/proc/shoal-no"], 1),
                            (["--instance-bin", "/nonexistent/shoal-instance"], 1)):
            r = subprocess.run(base + extra, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=10)
            check(r.returncode == want, "%r: status %d, want %d" % (extra, r.returncode, want))
            check(r.stderr.strip(), "%r: no message" % extra)
            check(not os.path.exists(sock), "%r: socket left" % extra)
        r = subprocess.run([SHOALD, "--help"], capture_output=True, timeout=10)
        check(r.returncode == 0 and b"usage" in r.stdout, "--help")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case()
@with_daemon()
def health_and_version(d):
    status, body = d.request("GET", "/v1/health")
    check(status == 200 and body == {"status": "ok"}, "health: %d %r" % (status, body))
    status, body = d.request("GET", "/v1/version")
    check(status == 200 and body["api"] == "v1" and body["protocol"] == 1,
          "version: %d %r" % (status, body))
    mode = os.stat(d.sock).st_mode & 0o777
    check(mode == 0o660, "socket mode %o, want 660" % mode)


@case()
@with_daemon()
def keep_alive_and_pipelining(d):
    c = d.conn()
    try:
        for _ in range(3):
            status, _ = c.request("GET", "/v1/health")
            check(status == 200, "keep-alive request %d" % status)
        # Two requests in one write: answered in order.
        c.send_raw(b"GET /v1/version HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        s1, _, b1 = c.read_response()
        s2, _, b2 = c.read_response()
        check(s1 == 200 and "version" in b1 and s2 == 200 and b2 == {"status": "ok"},
              "pipelined: %r %r" % (b1, b2))
        # A burst of 3000 pipelined requests (about 100 KiB, more than one read):
        # all answered, in order, and the daemon keeps serving.
        n = 3000
        c.send_raw(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n" * n)
        for i in range(n):
            status, _, body = c.read_response()
            check(status == 200 and body == {"status": "ok"}, "burst answer %d: %d" % (i, status))
    finally:
        c.close()


@case(timeout=60)
@with_daemon()
def client_that_does_not_read(d):
    """Requests from a client that does not read its answers wait (the daemon
    queues at most 256 KiB of answers for it); others are served meanwhile,
    and once it reads, every answer arrives in order."""
    import threading

    n = 20000
    c = Conn(d.sock, 30)
    sender = threading.Thread(
        target=c.send_raw, args=(b"GET /v1/version HTTP/1.1\r\nHost: x\r\n\r\n" * n,))
    sender.start()
    try:
        time.sleep(0.5)
        status, _ = d.request("GET", "/v1/health")
        check(status == 200, "another client while one does not read: %d" % status)
        for i in range(n):
            status, _, body = c.read_response()
            check(status == 200 and body["api"] == "v1", "answer %d: %d" % (i, status))
        sender.join(30)
        check(not sender.is_alive(), "the sender is still blocked")
    finally:
        c.close()
        sender.join(30)


@case()
@with_daemon()
def expect_continue(d):
    """Expect: 100-continue (curl sends it with bodies over 1 KiB) gets its interim answer."""
    body = b'{"memory_mib": 3}'
    c = Conn(d.sock, 10)
    try:
        c.send_raw(b"POST /v1/instances HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body))
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = c.sock.recv(1)
            check(chunk, "closed before 100 Continue")
            interim += chunk
        check(interim.startswith(b"HTTP/1.1 100 "), "interim answer %r" % interim)
        c.send_raw(body)
        status, _, parsed = c.read_response()
        check(status == 400 and parsed["error"]["code"] == "invalid_value", "%d" % status)
        openapi.check_response(SPEC, "POST", "/v1/instances", status, parsed)
    finally:
        c.close()


@case(timeout=120)
@with_daemon()
def lifecycle(d):
    inst = d.create(memory_mib=64, labels={"team": "core", "job": "e2e-1"}, network=False)
    iid = inst["id"]
    check(inst["state"] == "running", "state %r" % inst["state"])
    check(inst["memory_mib"] == 64 and inst["network"] is False, "fields %r" % inst)
    check(inst["labels"] == {"team": "core", "job": "e2e-1"}, "labels %r" % inst["labels"])
    check(isinstance(inst["boot_ms"], float) and inst["boot_ms"] > 0, "boot_ms %r" % inst)
    check(pid_is_instance(inst["pid"]), "pid %d is not a live shoal-instance" % inst["pid"])

    status, got = d.request("GET", "/v1/instances/" + iid)
    check(status == 200 and got["id"] == iid and got["state"] == "running", "get %r" % got)
    row = d.db_row(iid)
    check(row and row["state"] == "running" and row["pid"] == inst["pid"], "db row %r" % row)

    other = d.create(labels={"team": "other"})
    status, lst = d.request("GET", "/v1/instances")
    check(status == 200 and {i["id"] for i in lst["instances"]} == {iid, other["id"]},
          "list %r" % lst)
    status, lst = d.request("GET", "/v1/instances?label=team%3Dcore")
    check([i["id"] for i in lst["instances"]] == [iid], "label filter %r" % lst)
    status, lst = d.request("GET", "/v1/instances?label=team=core&label=job=e2e-1&state=running")
    check([i["id"] for i in lst["instances"]] == [iid], "two labels and state %r" % lst)
    status, lst = d.request("GET", "/v1/instances?state=failed")
    check(lst["instances"] == [], "state filter %r" % lst)

    status, gone = d.request("DELETE", "/v1/instances/" + iid)
    check(status == 200 and gone["state"] == "destroyed", "delete %d %r" % (status, gone))
    check(gone["reason"] == "destroyed by request" and gone["ended_ms"], "reason %r" % gone)
    check(not pid_is_instance(inst["pid"]), "pid %d still alive after delete" % inst["pid"])
    for base in ("/sys/fs/cgroup/shoal", "/sys/fs/cgroup/memory/shoal",
                 "/sys/fs/cgroup/pids/shoal"):
        check(not os.path.exists(os.path.join(base, iid)), "cgroup %s/%s left" % (base, iid))
    row = d.db_row(iid)
    check(row["state"] == "destroyed" and row["reason"] == "destroyed by request", "%r" % row)
    status, again = d.request("DELETE", "/v1/instances/" + iid)
    check(status == 200 and again["state"] == "destroyed", "second delete %r" % again)
    status, lst = d.request("GET", "/v1/instances?state=running")
    check([i["id"] for i in lst["instances"]] == [other["id"]], "running after delete %r" % lst)
    d.request("DELETE", "/v1/instances/" + other["id"])


ERROR_TABLE = [
    # (method, path, body bytes or None, status, code)
    ("GET", "/v1/nothing", None, 404, "not_found"),
    ("GET", "/", None, 404, "not_found"),
    ("GET", "/v1/instances/", None, 404, "not_found"),
    ("GET", "/v1/instances/i-0000000000000000/extra", None, 404, "not_found"),
    ("PUT", "/v1/health", None, 405, "method_not_allowed"),
    ("POST", "/v1/version", b"{}", 405, "method_not_allowed"),
    ("DELETE", "/v1/instances", None, 405, "method_not_allowed"),
    ("PATCH", "/v1/instances", b"{}", 405, "method_not_allowed"),
    ("PATCH", "/v1/instances/i-0000000000000000", b"{}", 400, "invalid_value"),
    ("PATCH", "/v1/instances/i-0000000000000000", b"{\"ttl_s\":5}", 404, "not_found"),
    ("PATCH", "/v1/instances/i-0000000000000000", b"{\"ttl_s\":0}", 400, "invalid_value"),
    ("PATCH", "/v1/instances/i-0000000000000000", b"{\"state\":\"x\"}", 400, "unknown_field"),
    ("PATCH", "/v1/instances/i-0000000000000000", b"{\"labels\":[1]}", 400, "invalid_value"),
    ("PATCH", "/v1/instances/nope", b"{\"ttl_s\":5}", 404, "not_found"),
    ("POST", "/metrics", b"{}", 405, "method_not_allowed"),
    ("GET", "/metrics?x=1", None, 400, "unknown_field"),
    ("GET", "/v1/events?after=-1", None, 400, "invalid_value"),
    ("GET", "/v1/events?follow=maybe", None, 400, "invalid_value"),
    ("GET", "/v1/events?since=3", None, 400, "unknown_field"),
    ("DELETE", "/v1/events", None, 405, "method_not_allowed"),
    ("GET", "/v1/instances?limit=0", None, 400, "invalid_value"),
    ("GET", "/v1/instances?limit=1001", None, 400, "invalid_value"),
    ("GET", "/v1/instances?limit=x", None, 400, "invalid_value"),
    ("GET", "/v1/instances?after=nope", None, 400, "invalid_value"),
    ("GET", "/v1/instances?after=i-0000000000000000", None, 400, "invalid_value"),
    ("GET", "/v1/instances/i-0000000000000000/stats", None, 404, "not_found"),
    ("POST", "/v1/instances/i-0000000000000000/stats", b"{}", 405, "method_not_allowed"),
    ("GET", "/v1/instances/i-0000000000000000/files?path=/a", None, 404, "not_found"),
    ("DELETE", "/v1/instances/i-0000000000000000/files?path=/a", None, 405,
     "method_not_allowed"),
    ("POST", "/v1/instances/i-0000000000000000/exec", b"{\"argv\":[\"/bin/true\"]}", 404,
     "not_found"),
    ("GET", "/v1/instances/i-0000000000000000/exec", None, 405, "method_not_allowed"),
    ("POST", "/v1/instances/..%2F..%2Fetc/exec", b"{}", 404, "not_found"),
    ("POST", "/v1/instances", b"", 400, "bad_json"),
    ("POST", "/v1/instances", b"{", 400, "bad_json"),
    ("POST", "/v1/instances", b"{\"memory_mib\": 64,}", 400, "bad_json"),
    ("POST", "/v1/instances", b"[]", 400, "bad_json"),
    ("POST", "/v1/instances", b"\"x\"", 400, "bad_json"),
    ("POST", "/v1/instances", b"{} {}", 400, "bad_json"),
    ("POST", "/v1/instances", b"{\"a\":1,\"a\":2}", 400, "bad_json"),
    ("POST", "/v1/instances", b"{\"memory_mib\":64}\x00", 400, "bad_json"),
    ("POST", "/v1/instances", b"{\"memory\":64}", 400, "unknown_field"),
    ("POST", "/v1/instances", b"{\"network\":false,\"exec\":[]}", 400, "unknown_field"),
    ("POST", "/v1/instances", b"{\"memory_mib\":\"64\"}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"memory_mib\":3}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"memory_mib\":15}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"memory_mib\":65537}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"memory_mib\":64.5}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"memory_mib\":null}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"ttl_s\":0}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"ttl_s\":-5}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"network\":\"no\"}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"labels\":[]}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"env\":\"A=1\"}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"env\":[\"NOEQUALS\"]}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"env\":[\"=x\"]}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"env\":[1]}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"disks\":{}}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"labels\":{\"a\":1}}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"labels\":{\"\":\"x\"}}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"labels\":{\"a\":\"\\\"quote\"}}", 400, "invalid_value"),
    ("POST", "/v1/instances", b"{\"labels\":{\"a b\":\"x\"}}", 400, "invalid_value"),
    ("POST", "/v1/instances",
     json.dumps({"labels": {"k%d" % i: "v" for i in range(17)}}).encode(), 400, "invalid_value"),
    ("GET", "/v1/instances?color=red", None, 400, "unknown_field"),
    ("GET", "/v1/instances?state=zombie", None, 400, "invalid_value"),
    ("GET", "/v1/instances?label=novalue", None, 400, "invalid_value"),
    ("GET", "/v1/instances?state=%zz", None, 400, "invalid_value"),
    ("GET", "/v1/instances/nope", None, 404, "not_found"),
    ("GET", "/v1/instances/..%2F..%2Fetc", None, 404, "not_found"),
    ("GET", "/v1/instances/i-0000000000000000", None, 404, "not_found"),
    ("DELETE", "/v1/instances/i-0000000000000000", None, 404, "not_found"),
    ("DELETE", "/v1/instances/I-0000000000000000", None, 404, "not_found"),
]


@case()
@with_daemon()
def error_table(d):
    for method, path, body, want_status, want_code in ERROR_TABLE:
        status, parsed = d.request(method, path, raw_body=body)
        check(status == want_status and parsed["error"]["code"] == want_code,
              "%s %s %r: got %d %r, want %d %s" % (method, path, body, status, parsed,
                                                  want_status, want_code))
        check(parsed["error"]["message"], "empty message for %s %s" % (method, path))
    status, lst = d.request("GET", "/v1/instances")
    check(status == 200 and lst["instances"] == [], "bad requests created something: %r" % lst)


def raw_exchange(d, data, timeout=20):
    c = Conn(d.sock, timeout)
    try:
        c.send_raw(data)
        status, headers, parsed = c.read_response()
        return status, headers, parsed
    finally:
        c.close()


@case()
@with_daemon()
def oversized_requests(d):
    # A declared body over 64 KiB is refused before it is sent.
    status, hdrs, body = raw_exchange(
        d, b"POST /v1/instances HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
    check(status == 413 and body["error"]["code"] == "body_too_large", "%d %r" % (status, body))
    openapi.check_response(SPEC, "POST", "/v1/instances", status, body)
    check(hdrs.get("connection") == "close", "413 must close: %r" % hdrs)
    # A chunked body that grows past the cap.
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
    status, _, body = raw_exchange(
        d, b"POST /v1/instances HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
        chunk * 2)
    check(status == 413, "chunked: %d %r" % (status, body))
    # Headers over 8 KiB.
    status, _, body = raw_exchange(
        d, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 9000 + b"\r\n\r\n")
    check(status == 431 and body["error"]["code"] == "header_too_large", "%d %r" % (status, body))
    openapi.check_response(SPEC, "GET", "/v1/health", status, body)
    status, _, body = raw_exchange(d, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")
    check(status == 431, "long URL: %d" % status)
    # Garbage that is not HTTP.
    status, _, body = raw_exchange(d, b"\x16\x03\x01\x00\xa5hello\r\n\r\n")
    check(status == 400 and body["error"]["code"] == "bad_request", "garbage: %d" % status)
    status, _ = d.request("GET", "/v1/health")
    check(status == 200, "daemon not serving after oversized requests")


@case(timeout=40)
@with_daemon()
def slow_client_does_not_block(d):
    slow = Conn(d.sock, 20)
    try:
        slow.send_raw(b"GET /v1/hea")
        t0 = time.monotonic()
        for _ in range(5):
            status, _ = d.request("GET", "/v1/health")
            check(status == 200, "health while a client is slow: %d" % status)
        check(time.monotonic() - t0 < 5, "others were held up by a slow client")
        # The slow request is cut off with 408 once its time is up (10 s).
        status, _, body = slow.read_response()
        check(status == 408 and body["error"]["code"] == "request_timeout", "%d" % status)
        openapi.check_response(SPEC, "GET", "/v1/health", status, body)
    finally:
        slow.close()


@case()
@with_daemon("--max-connections", "2")
def connection_cap(d):
    a, b = d.conn(), d.conn()
    try:
        status, _, body = raw_exchange(d, b"GET /v1/health HTTP/1.1\r\n\r\n")
        check(status == 503 and body["error"]["code"] == "too_many_connections", "%d" % status)
        status, _ = a.request("GET", "/v1/health")
        check(status == 200, "an admitted connection is served: %d" % status)
    finally:
        a.close()
        b.close()
    status, _ = wait_for("a free connection slot", lambda: d.request("GET", "/v1/health"), 5)
    check(status == 200, "served again after connections closed")


@case(timeout=90)
@with_daemon("--max-instances", "2")
def max_instances(d):
    one = d.create()
    two = d.create()
    status, body = d.request("POST", "/v1/instances", {"network": False})
    check(status == 429 and body["error"]["code"] == "too_many_instances",
          "third create: %d %r" % (status, body))
    status, lst = d.request("GET", "/v1/instances")
    check(len(lst["instances"]) == 2, "a refused create left a row: %r" % lst)
    d.request("DELETE", "/v1/instances/" + one["id"])
    three = d.create()
    check(three["state"] == "running", "create after a delete %r" % three)
    for i in (two, three):
        d.request("DELETE", "/v1/instances/" + i["id"])


@case(timeout=60)
@with_daemon()
def killed_instance_is_noticed(d):
    inst = d.create()
    os.kill(inst["pid"], signal.SIGKILL)

    def failed():
        status, got = d.request("GET", "/v1/instances/" + inst["id"])
        return got if got["state"] == "failed" else None

    got = wait_for("the daemon to mark the killed instance", failed, 10)
    check("signal 9" in got["reason"], "reason %r" % got["reason"])
    check(got["ended_ms"], "ended_ms %r" % got)
    row = d.db_row(inst["id"])
    check(row["state"] == "failed" and "signal 9" in row["reason"], "db row %r" % row)
    wait_for("the instance's cgroup to go", lambda: not any(
        os.path.exists(os.path.join(b, inst["id"])) for b in (
            "/sys/fs/cgroup/shoal", "/sys/fs/cgroup/memory/shoal", "/sys/fs/cgroup/pids/shoal")),
        5)
    status, gone = d.request("DELETE", "/v1/instances/" + inst["id"])
    check(status == 200 and gone["state"] == "failed", "delete of a dead one %r" % gone)


@case(timeout=60)
@with_daemon()
def ttl_expiry(d):
    inst = d.create(ttl_s=1)
    check(inst["ttl_s"] == 1 and inst["expires_ms"] == inst["created_ms"] + 1000,
          "ttl fields %r" % inst)

    def destroyed():
        status, got = d.request("GET", "/v1/instances/" + inst["id"])
        return got if got["state"] == "destroyed" else None

    got = wait_for("TTL expiry", destroyed, 10)
    check(got["reason"] == "ttl expired", "reason %r" % got["reason"])
    check(not pid_is_instance(inst["pid"]), "process still alive after TTL")


@case(timeout=90)
@with_daemon()
def stop_leaves_nothing(d):
    insts = [d.create(labels={"n": str(i)}) for i in range(3)]
    pids = [i["pid"] for i in insts]
    check(all(pid_is_instance(p) for p in pids), "instances not alive")
    rc = d.stop()
    check(rc == 0, "shoald exited with %d" % rc)
    check(not os.path.exists(d.sock), "socket file left behind")
    left = [p for p in pids if pid_is_instance(p)]
    check(not left, "instance processes left behind: %r" % left)
    for i in insts:
        row = d.db_row(i["id"])
        check(row["state"] == "destroyed" and row["reason"] == "daemon shutdown", "%r" % row)
    out = d.output()
    check("handles still open" not in out, "the loop did not close clean:\n" + out)


@case(timeout=120)
@with_daemon()
def concurrent_creates(d):
    """Eight clients create at once; the loop serves health meanwhile."""
    import threading

    results, errors = [], []

    def create():
        try:
            results.append(d.create(labels={"batch": "c8"}))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    status, _ = d.request("GET", "/v1/health")
    check(status == 200, "health during creates: %d" % status)
    for t in threads:
        t.join(60)
    check(not errors, "creates failed: %r" % errors)
    check(len({i["id"] for i in results}) == 8, "ids not distinct: %r" % results)
    status, lst = d.request("GET", "/v1/instances?state=running&label=batch=c8")
    check(len(lst["instances"]) == 8, "running: %d" % len(lst["instances"]))
    for i in results:
        status, gone = d.request("DELETE", "/v1/instances/" + i["id"])
        check(status == 200 and gone["state"] == "destroyed", "delete %r" % gone)


@case(timeout=240)
@with_daemon()
def fifty_instances(d):
    """50 instances alive at once, created and destroyed by 10 clients; half
    of them with networking (25 veths and leases, distinct addresses, all gone
    after)."""
    import threading

    made, errors, lock = [], [], threading.Lock()

    def worker(k):
        try:
            for _ in range(5):
                inst = d.create(memory_mib=32, labels={"batch": "fifty", "worker": str(k)},
                                network=k % 2 == 0)
                with lock:
                    made.append(inst)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not errors, "creates failed: %r" % errors[:3])
    check(len(made) == 50, "made %d" % len(made))
    alive = [i["pid"] for i in made if pid_is_instance(i["pid"])]
    check(len(alive) == 50, "%d of 50 processes alive" % len(alive))
    status, lst = d.request("GET", "/v1/instances?state=running&label=batch=fifty")
    check(len(lst["instances"]) == 50, "listed %d" % len(lst["instances"]))
    addrs = [i["address"] for i in made if i["network"]]
    check(len(addrs) == 25 and len(set(addrs)) == 25, "addresses %r" % addrs)
    check(len([n for n in d.instance_links() if n.startswith("sb")]) == 25,
          "veths %r" % d.links())
    check(d.db("SELECT COUNT(*) FROM leases")[0][0] == 25, "leases")
    errors.clear()

    def destroy(part):
        try:
            for i in part:
                status, gone = d.request("DELETE", "/v1/instances/" + i["id"])
                check(status == 200 and gone["state"] == "destroyed", "delete %r" % gone)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=destroy, args=(made[k::10],)) for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not errors, "deletes failed: %r" % errors[:3])
    left = [i["pid"] for i in made if pid_is_instance(i["pid"])]
    check(not left, "processes left: %r" % left)
    status, lst = d.request("GET", "/v1/instances?state=destroyed")
    check(len(lst["instances"]) == 50, "destroyed rows %d" % len(lst["instances"]))
    check(d.instance_links() == {"lo", "shoal0"}, "links left %r" % d.links())
    check(d.db("SELECT COUNT(*) FROM leases")[0][0] == 0, "leases left")


@case()
@with_daemon("--log-format", "json")
def json_logs(d):
    d.request("GET", "/v1/health")
    out = d.output()
    recs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    check(any(r.get("component") == "shoald" and "listening on" in r.get("msg", "")
              for r in recs), "no JSON record of shoald listening in:\n" + out)
    for line in out.splitlines():
        if "shoald[" in line:
            raise Fail("a text record from shoald with --log-format json: %r" % line)


@case(timeout=120)
def restart_readopts():
    """kill -9 the daemon while instances run: they keep running, and a new
    daemon on the same state dir adopts the live ones (same pid, channel
    back: stats, files, ping), marks the one that died meanwhile failed and
    removes its veth and lease; counts of processes, veths and leases are
    checked before and after, and nothing is left at the end."""
    d = Daemon()
    ok = False
    try:
        a = d.create(network=True, labels={"r": "a"})
        b = d.create(labels={"r": "b"})
        c = d.create(network=True, labels={"r": "c"})
        base = "/v1/instances/%s/files?path=/tmp/kept" % a["id"]
        status, _ = d.request("PUT", base, raw_body=b"before", content_type="application/octet-stream")
        check(status == 200, "put before the restart")
        links_before = d.instance_links()
        check(d.db("SELECT COUNT(*) FROM leases")[0][0] == 2, "two leases")
        jobs = os.access(JOBSHIM, os.X_OK)
        if jobs:
            # A job in flight when the daemon dies.
            jc = d.conn()
            jc.send_request("POST", "/v1/instances/%s/exec?stream=true" % b["id"],
                            {"argv": ["/bin/sleep", "3"]})
            check(jc.read_head()[0] == 200, "job started")
        d.proc.kill()
        d.proc.wait(10)
        time.sleep(0.5)
        check(all(pid_is_instance(i["pid"]) for i in (a, b, c)),
              "instances did not outlive the daemon")
        # One dies while nobody supervises it.
        os.kill(c["pid"], signal.SIGKILL)
        wait_for("the unsupervised instance to die", lambda: not pid_is_instance(c["pid"]), 10)
        d.log.write("--- restart ---\n")
        d.log.flush()
        os.unlink(d.sock)
        d.start()
        for i in (a, b):
            status, got = d.request("GET", "/v1/instances/" + i["id"])
            check(got["state"] == "running" and got["pid"] == i["pid"], "adopted %r" % got)
        status, got = d.request("GET", "/v1/instances/" + c["id"])
        check(got["state"] == "failed" and "could not adopt" in got["reason"], "%r" % got)
        check(c["host_interface"] not in d.links(), "veth of the dead one left")
        for cg in ("/sys/fs/cgroup/shoal", "/sys/fs/cgroup/memory/shoal",
                   "/sys/fs/cgroup/pids/shoal"):
            check(not os.path.exists(os.path.join(cg, c["id"])),
                  "cgroup of the dead one left in %s" % cg)
        gone = {c["host_interface"], "si" + c["host_interface"][2:]}
        check(d.instance_links() == links_before - gone,
              "links %r, before %r" % (d.links(), links_before))
        check([r[0] for r in d.db("SELECT instance_id FROM leases")] == [a["id"]],
              "leases %r" % d.db("SELECT * FROM leases"))
        # The channel is back.
        status, st = d.request("GET", "/v1/instances/%s/stats" % a["id"])
        check(status == 200 and iface(st, "eth0"), "stats after adoption %r" % st)
        status, data = d.request("GET", base)
        check(status == 200 and data == b"before", "file after adoption %r" % data)
        check(ping(d, a["address"]), "no ping after adoption")
        if jobs:
            jc.close()
            rows = d.db("SELECT ended_ms, error FROM execs")
            check(len(rows) == 1 and rows[0][0] > 0 and "restarted" in rows[0][1],
                  "the job record of the dead daemon: %r" % rows)
        status, lst = d.request("GET", "/v1/events?follow=false")
        adopted = [e["instance_id"] for e in lst if e["type"] == "instance.adopted"]
        check(sorted(adopted) == sorted([a["id"], b["id"]]), "adopted events %r" % adopted)
        # An adopted instance that dies is noticed (through its pidfd).
        os.kill(b["pid"], signal.SIGKILL)

        def failed():
            status, got = d.request("GET", "/v1/instances/" + b["id"])
            return got if got["state"] == "failed" else None

        wait_for("the adopted instance's death to be noticed", failed, 10)
        status, gone = d.request("DELETE", "/v1/instances/" + a["id"])
        check(status == 200 and gone["state"] == "destroyed", "delete adopted %r" % gone)
        check(not pid_is_instance(a["pid"]), "adopted instance still alive after delete")
        check(d.instance_links() == {"lo", "shoal0"}, "links left %r" % d.links())
        check(d.db("SELECT COUNT(*) FROM leases")[0][0] == 0, "leases left")
        check(not os.listdir(os.path.join(d.state, "adopt")), "adoption sockets left")
        check(d.stop() == 0, "restarted daemon did not stop clean")
        check(not os.path.exists("/run/netns/" + d.netns), "namespace left after a clean stop")
        ok = True
    finally:
        if not ok:
            sys.stdout.write("--- shoald log ---\n" + d.output())
        d.cleanup()


@case(timeout=60)
def retention_at_start():
    """Instances that ended more than 7 days ago are forgotten at start;
    recent ones are kept."""
    d = Daemon()
    ok = False
    try:
        old = d.create()
        new = d.create()
        for i in (old, new):
            d.request("DELETE", "/v1/instances/" + i["id"])
        check(d.stop() == 0, "stop")
        db = sqlite3.connect(os.path.join(d.state, "shoald.db"), timeout=5)
        db.execute("UPDATE instances SET ended_ms = ended_ms - 8 * 86400 * 1000 WHERE id = ?",
                   (old["id"],))
        db.commit()
        db.close()
        d.start()
        status, _ = d.request("GET", "/v1/instances/" + old["id"])
        check(status == 404, "an instance ended 8 days ago is still there: %d" % status)
        status, got = d.request("GET", "/v1/instances/" + new["id"])
        check(status == 200 and got["state"] == "destroyed", "a recent one went: %r" % got)
        check(d.stop() == 0, "stop")
        ok = True
    finally:
        if not ok:
            sys.stdout.write("--- shoald log ---\n" + d.output())
        d.cleanup()


def make_image(path, files, size_mib=8):
    """An ext4 image at @path holding @files {name: bytes}, made by mkfs.ext4 -d."""
    src = path + ".d"
    os.mkdir(src)
    for name, data in files.items():
        with open(os.path.join(src, name), "wb") as f:
            f.write(data)
    r = subprocess.run(["mkfs.ext4", "-q", "-F", "-d", src, path, "%dM" % size_mib],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    shutil.rmtree(src)
    check(r.returncode == 0, "mkfs.ext4: %r" % r.stderr)


@case(timeout=120)
@with_daemon()
def disks_from_image_dir(d):
    """Images of the image directory, by name, mounted in instances: read
    through the files API; written inside and found by the host's debugfs
    after the instance is gone; many readers or one writer (409 image_busy
    otherwise); names that are not plain file names are refused."""
    images = os.path.join(d.state, "images")
    check(os.path.isdir(images), "no image directory")
    make_image(os.path.join(images, "ro.ext4"), {"hello.txt": b"hello from an image\n"})
    make_image(os.path.join(images, "rw.ext4"), {})
    disk_ro = {"image": "ro.ext4", "mount_point": "/data", "read_only": True}
    a = d.create(disks=[disk_ro])
    check(a["disks"] == [disk_ro], "disks in the row %r" % a["disks"])
    status, data = d.request("GET", "/v1/instances/%s/files?path=/data/hello.txt" % a["id"])
    check(status == 200 and data == b"hello from an image\n", "read %d %r" % (status, data))
    status, body = d.request("PUT", "/v1/instances/%s/files?path=/data/x" % a["id"],
                             raw_body=b"x", content_type="application/octet-stream")
    check(status == 403 and body["error"]["code"] == "permission", "read-only %d %r" %
          (status, body))
    b = d.create(disks=[disk_ro])  # a second reader
    status, body = d.request("POST", "/v1/instances",
                             {"disks": [{"image": "ro.ext4", "mount_point": "/w"}]})
    check(status == 409 and body["error"]["code"] == "image_busy", "writer of a read image %r"
          % body)
    w = d.create(disks=[{"image": "rw.ext4", "mount_point": "/mnt/rw", "fstype": "ext4"}])
    status, body = d.request("PUT", "/v1/instances/%s/files?path=/mnt/rw/new.txt" % w["id"],
                             raw_body=b"written inside\n",
                             content_type="application/octet-stream")
    check(status == 200, "write to the image %d %r" % (status, body))
    status, body = d.request("POST", "/v1/instances",
                             {"disks": [{"image": "rw.ext4", "mount_point": "/r",
                                         "read_only": True}]})
    check(status == 409 and body["error"]["code"] == "image_busy", "reader of a written image")
    for bad, code, want in (
            ({"image": "../etc/passwd", "mount_point": "/d"}, "invalid_value", 400),
            ({"image": ".hidden", "mount_point": "/d"}, "invalid_value", 400),
            ({"image": "none.ext4", "mount_point": "/d"}, "not_found", 404),
            ({"image": "ro.ext4", "mount_point": "/"}, "invalid_value", 400),
            ({"image": "ro.ext4", "mount_point": "d"}, "invalid_value", 400),
            ({"image": "ro.ext4", "mount_point": "/d", "size": 1}, "unknown_field", 400),
            ({"image": "ro.ext4", "mount_point": "/d", "read_only": 1}, "invalid_value", 400),
            ({"image": "ro.ext4", "mount_point": "/d", "fstype": "EXT4"}, "invalid_value", 400)):
        status, body = d.request("POST", "/v1/instances", {"disks": [bad]})
        check(status == want and body["error"]["code"] == code, "%r: %d %r" % (bad, status, body))
    status, body = d.request("POST", "/v1/instances", {"disks": [disk_ro, disk_ro]})
    check(status == 400, "one mount point twice %r" % body)
    status, body = d.request("POST", "/v1/instances", {"disks": [disk_ro] * 9})
    check(status == 400, "nine disks %r" % body)
    status, lst = d.request("GET", "/v1/instances")
    check(len(lst["instances"]) == 3, "refused creates left rows %r" % len(lst["instances"]))
    for i in (a, b, w):
        d.request("DELETE", "/v1/instances/" + i["id"])
    r = subprocess.run(["debugfs", "-R", "cat /new.txt", os.path.join(images, "rw.ext4")],
                       capture_output=True, timeout=30)
    check(r.stdout == b"written inside\n", "the host does not see the write: %r" % r.stdout)
    r = subprocess.run(["e2fsck", "-fn", os.path.join(images, "rw.ext4")],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "image not clean after the instance: %r" % r.stdout[-300:])
    # Released: a writer may have the read image now.
    w2 = d.create(disks=[{"image": "ro.ext4", "mount_point": "/w"}])
    d.request("DELETE", "/v1/instances/" + w2["id"])


@case(timeout=120)
def events_replay_large():
    """A history far beyond what a stream may have queued (20000 events of
    1 KiB) replays whole, in order, a page at a time; then live events follow."""
    import threading

    d = Daemon()
    ok = False
    try:
        check(d.stop() == 0, "stop")
        db = sqlite3.connect(os.path.join(d.state, "shoald.db"), timeout=5)
        pad = "p" * 1000
        db.executemany("INSERT INTO events (time_ms, type, instance_id, data) VALUES (?, ?, ?, ?)",
                       [(i, "instance.updated", "i-%016x" % i, json.dumps({"pad": pad}))
                        for i in range(20000)])
        db.commit()
        last = db.execute("SELECT MAX(seq) FROM events").fetchone()[0]
        db.close()
        d.start()
        c = d.conn()
        try:
            c.send_request("GET", "/v1/events?follow=false")
            status, headers = c.read_head()
            seqs = [ev["seq"] for ev in c.read_lines()]
        finally:
            c.close()
        check(status == 200 and seqs == list(range(1, last + 1)), "replayed %d of %d" %
              (len(seqs), last))
        c = Conn(d.sock, 30)
        c.send_request("GET", "/v1/events?after=%d" % (last - 600))
        check(c.read_head()[0] == 200, "follow")
        got, errors = [], []

        def follow():
            try:
                for ev in c.read_lines():
                    got.append(ev)
                    if ev["type"] == "instance.running":
                        return
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        t = threading.Thread(target=follow)
        t.start()
        time.sleep(0.5)
        inst = d.create()
        t.join(20)
        c.close()
        check(not errors and [e["seq"] for e in got[:600]] == list(range(last - 599, last + 1)),
              "replay then live: %r %r" % (errors, [e["seq"] for e in got][:5]))
        check(got[-1]["instance_id"] == inst["id"], "live events after the replay %r" % got[-1])
        d.request("DELETE", "/v1/instances/" + inst["id"])
        check(d.stop() == 0, "stop")
        ok = True
    finally:
        if not ok:
            sys.stdout.write("--- shoald log ---\n" + d.output()[-5000:])
        d.cleanup()


def ping(d, addr):
    r = d.ns("ping", "-6" if ":" in addr else "-4", "-c", "3", "-i", "0.2", "-W", "2", addr,
             check_rc=False)
    return r.returncode == 0


def iface(stats, name):
    for i in stats["interfaces"]:
        if i["name"] == name:
            return i
    return None


@case(timeout=120)
@with_daemon("--subnet", "198.18.0.0/16")
def network_two_instances(d):
    """Two instances with network get distinct addresses and MACs on veths
    on the bridge; the bridge is the gateway; their kernels answer ping from
    the daemon's namespace; stats show their interface; delete and a killed
    process both give back veth and lease."""
    a = d.create(network=True, labels={"net": "a"})
    b = d.create(network=True, labels={"net": "b"})
    check(a["network"] is True and b["network"] is True, "network flag %r %r" % (a, b))
    check(a["address"] != b["address"], "same address %s" % a["address"])
    check(a["mac"] != b["mac"], "same MAC %s" % a["mac"])
    for i in (a, b):
        check(i["address"].startswith("198.18.") and i["prefix"] == 16, "address %r" % i)
        check(i["gateway"] == "198.18.0.1", "gateway %r" % i["gateway"])
        o = [int(x) for x in i["address"].split(".")]
        want6 = "fd53:6f61:6c00::%x:%x" % (o[0] << 8 | o[1], o[2] << 8 | o[3])
        check(i["address6"] == want6 and i["gateway6"] == "fd53:6f61:6c00::1",
              "IPv6 %r %r, want %s" % (i["address6"], i["gateway6"], want6))
    links = d.links()
    check("shoal0" in links, "no bridge in %r" % links)
    check(a["host_interface"] in links and b["host_interface"] in links, "veths %r" % links)
    # Host ends are ports of the bridge.
    out = d.ns("ip", "-o", "link", "show", "master", "shoal0").stdout.decode()
    check(a["host_interface"] in out and b["host_interface"] in out, "bridge ports: %s" % out)
    out = d.ns("ip", "-o", "-4", "addr", "show", "dev", "shoal0").stdout.decode()
    check("198.18.0.1/16" in out, "bridge address: %s" % out)
    leases = d.db("SELECT addr, instance_id FROM leases ORDER BY addr")
    check(len(leases) == 2 and {r[1] for r in leases} == {a["id"], b["id"]}, "%r" % leases)
    row = d.db_row(a["id"])
    check(row["ipv4"] == a["address"] and row["veth"] == a["host_interface"], "%r" % row)
    # The host's own namespace has no trace of the pool.
    host = subprocess.run(["ip", "-o", "addr"], capture_output=True, timeout=10).stdout
    check(b"198.18.0.1/16" not in host, "the bridge address leaked into the host namespace")

    for i in (a, b):
        check(ping(d, i["address"]), "no answer to ping from %s" % i["address"])
        check(ping(d, i["address6"]), "no answer to ping from %s" % i["address6"])
        status, st = d.request("GET", "/v1/instances/%s/stats" % i["id"])
        check(status == 200, "stats %d %r" % (status, st))
        eth = iface(st, "eth0")
        check(eth and eth["rx_packets"] >= 3 and eth["tx_packets"] >= 3,
              "eth0 counters after ping: %r" % st["interfaces"])

    status, gone = d.request("DELETE", "/v1/instances/" + a["id"])
    check(status == 200 and gone["state"] == "destroyed", "delete %r" % gone)
    check(a["host_interface"] not in d.links(), "veth of a deleted instance left")
    check([r[1] for r in d.db("SELECT addr, instance_id FROM leases")] == [b["id"]],
          "lease of a deleted instance left")
    check(not ping(d, a["address"]), "a deleted instance still answers")

    os.kill(b["pid"], signal.SIGKILL)

    def failed():
        status, got = d.request("GET", "/v1/instances/" + b["id"])
        return got if got["state"] == "failed" else None

    got = wait_for("the killed instance to be noticed", failed, 10)
    check("signal 9" in got["reason"], "reason %r" % got["reason"])
    check(b["host_interface"] not in d.links(), "veth of a killed instance left")
    check(d.db("SELECT COUNT(*) FROM leases")[0][0] == 0, "lease of a killed instance left")
    check(d.instance_links() == {"lo", "shoal0"}, "links left: %r" % d.links())


SERVER = """
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1], 7000))
s.listen(1)
print('listening', flush=True)
c, peer = s.accept()
data = b''
while len(data) < 100000:
    more = c.recv(65536)
    if not more:
        break
    data += more
c.sendall(data[::-1])
c.close()
print(peer[0], len(data), flush=True)
"""

CLIENT = """
import socket, sys, hashlib
c = socket.create_connection((sys.argv[1], 7000), timeout=10)
data = bytes(range(256)) * 400
c.sendall(data[:100000])
got = b''
while len(got) < 100000:
    more = c.recv(65536)
    if not more:
        break
    got += more
print('ok' if got == data[:100000][::-1] else 'bad', flush=True)
"""


@case(timeout=120)
@with_daemon()
def instances_talk_over_the_bridge(d):
    """Two instances with network exchange 100 KB over TCP, each through its
    own kernel's stack, its virtio-net device, its veth and the bridge, over
    IPv4 and IPv6 (jobs run python3 inside them)."""
    import base64
    import threading

    if not os.access(JOBSHIM, os.X_OK):
        print("the instance cannot run jobs yet (no %s)" % JOBSHIM)
        sys.exit(77)
    a = d.create(network=True)
    b = d.create(network=True)
    for family in ("address", "address6"):
        out, errors = [], []
        c = d.conn()
        c.send_request("POST", "/v1/instances/%s/exec?stream=true" % b["id"],
                       {"argv": ["python3", "-c", SERVER, b[family]], "timeout_ms": 30000})
        check(c.read_head()[0] == 200, "server job")
        lines = c.read_lines()

        def serve():
            try:
                for ev in lines:
                    if ev.get("stream") == "stdout":
                        out.append(base64.b64decode(ev["data"]))
                    if "exit_code" in ev:
                        out.append(ev)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        first = next(lines)  # {exec_id, job}
        check("exec_id" in first, "server start %r" % first)
        t = threading.Thread(target=serve)
        t.start()
        wait_for("the server to listen", lambda: any(b"listening" in x for x in out
                                                     if isinstance(x, bytes)), 20)
        status, got = d.request("POST", "/v1/instances/%s/exec" % a["id"],
                                {"argv": ["python3", "-c", CLIENT, b[family]],
                                 "timeout_ms": 30000})
        check(status == 200 and base64.b64decode(got["stdout"]) == b"ok\n",
              "client over %s: %r %r" % (family, got, base64.b64decode(got.get("stderr", ""))))
        t.join(30)
        c.close()
        text = b"".join(x for x in out if isinstance(x, bytes)).decode()
        check(not errors and ("%s 100000" % a[family]) in text and out[-1]["exit_code"] == 0,
              "server over %s saw %r %r" % (family, text, errors))
    for i in (a, b):
        d.request("DELETE", "/v1/instances/" + i["id"])


SNIFF = """
import json, socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
end, out = time.monotonic() + float(sys.argv[2]), []
while time.monotonic() < end:
    try:
        f, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    what, et = 'other', struct.unpack('!H', f[12:14])[0]
    if et == 0x86dd:
        nh, p = f[20], 54
        if nh == 0:
            nh, p = f[54], 54 + (f[55] + 1) * 8
        if nh == 58:
            unspec = f[22:38] == bytes(16)
            what = {133: 'RS', 143: 'MLD'}.get(f[p], 'icmp6-%d' % f[p])
            if f[p] == 135 and unspec:
                what = 'DAD'
    out.append({'instance': f[6:9] == b'\\x02\\x53\\x48', 'what': what})
print(json.dumps(out))
"""


@case(timeout=120)
@with_daemon()
def network_is_quiet(d):
    """Nothing sends multicast that the bridge would flood to every instance
    while it idles: the veth ends carry no IPv6 of the host (the bridge keeps
    its own), and instances' kernels do no duplicate detection and send no
    router solicitation; their IPv6 works at once and between them."""
    a = d.create(network=True)
    b = d.create(network=True)
    for i in (a, b):
        for n in (i["host_interface"], "si" + i["id"][2:14]):
            out = d.ns("cat", "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % n).stdout
            check(out.strip() == b"1", "IPv6 of %s: disable_ipv6 %r" % (n, out))
            out = d.ns("ip", "-6", "-o", "addr", "show", "dev", n).stdout
            check(not out.strip(), "%s has IPv6 addresses: %r" % (n, out))
        check(ping(d, i["address6"]), "no IPv6 answer from %s" % i["address6"])
    out = d.ns("ip", "-6", "-o", "addr", "show", "dev", "shoal0").stdout.decode()
    check("fd53:6f61:6c00::1/64" in out, "the bridge lost its IPv6 gateway: %s" % out)
    frames = json.loads(d.ns("python3", "-c", SNIFF, "shoal0", "2").stdout)
    bad = [f for f in frames if not f["instance"] or f["what"] in ("RS", "DAD")]
    check(not bad, "unwanted frames on the bridge: %r of %r" % (bad, frames))
    if os.access(JOBSHIM, os.X_OK):
        import base64
        for key, want in (("accept_dad", b"0\n"), ("router_solicitations", b"0\n")):
            status, got = d.request("POST", "/v1/instances/%s/exec" % a["id"],
                                    {"argv": ["cat", "/proc/sys/net/ipv6/conf/eth0/" + key]})
            check(status == 200 and base64.b64decode(got["stdout"]) == want,
                  "%s in the instance: %r" % (key, got))
    for i in (a, b):
        d.request("DELETE", "/v1/instances/" + i["id"])


@case(timeout=120)
def stop_during_creates():
    """SIGTERM while network creates are in flight (veth pairs being made off
    the loop, instances booting): the daemon waits for them, stops clean, and
    leaves no process, lease or namespace behind."""
    import threading

    d = Daemon()
    ok = False
    try:
        results = []

        def create():
            try:
                c = Conn(d.sock, 30)
                try:
                    c.send_request("POST", "/v1/instances", {"network": True})
                    results.append(c.read_response()[:3:2])
                finally:
                    c.close()
            except Exception as e:  # noqa: BLE001 - a closed connection is fine here
                results.append(repr(e))

        threads = [threading.Thread(target=create) for _ in range(12)]
        for t in threads:
            t.start()
        time.sleep(0.03)
        rc = d.stop()
        for t in threads:
            t.join(30)
        check(rc == 0, "shoald exited with %d" % rc)
        check(not os.path.exists("/run/netns/" + d.netns), "namespace left")
        rows = d.db("SELECT id, state, pid FROM instances")
        check(all(r[1] in ("destroyed", "failed") for r in rows), "rows %r" % rows)
        check(not [r for r in rows if r[2] and pid_is_instance(r[2])], "processes left")
        check(d.db("SELECT COUNT(*) FROM leases")[0][0] == 0, "leases left")
        check(not os.listdir(os.path.join(d.state, "adopt")), "adoption sockets left")
        for r in results:
            if isinstance(r, tuple):
                check(r[0] in (201, 503), "answer %r" % (r,))
        ok = True
    finally:
        if not ok:
            sys.stdout.write("--- shoald log ---\n" + d.output()[-6000:])
        d.cleanup()


@case(timeout=120)
@with_daemon("--warm-pool", "2")
def warm_pool(d):
    """--warm-pool 2 keeps two instances of the default shape booted ahead
    (state pooled); a create of that shape takes one (same pid, already
    booted) and the pool fills again; other shapes boot their own; a pooled
    instance that dies is replaced; PATCH does not touch pooled ones."""
    def pooled():
        status, lst = d.request("GET", "/v1/instances?state=pooled")
        for i in lst["instances"]:
            d.pids.add(i["pid"])
        return lst["instances"] if len(lst["instances"]) == 2 else None

    first = wait_for("two pooled instances", pooled, 20)
    check(all(pid_is_instance(i["pid"]) and i["ready_ms"] for i in first), "%r" % first)
    status, body = d.request("PATCH", "/v1/instances/" + first[0]["id"], {"labels": {}})
    check(status == 409, "PATCH of a pooled instance %r" % body)
    got = d.create(labels={"from": "pool"}, ttl_s=600, env=["A=1"])
    check(got["id"] in [i["id"] for i in first] and got["state"] == "running", "%r" % got)
    check(got["labels"] == {"from": "pool"} and got["ttl_s"] == 600 and got["env"] == ["A=1"],
          "claimed fields %r" % got)
    check(got["pid"] in [i["pid"] for i in first], "a new process for a pool create")
    again = wait_for("the pool to fill again", pooled, 20)
    check(got["id"] not in [i["id"] for i in again], "the claimed one is still pooled")
    big = d.create(memory_mib=128)
    check(big["id"] not in [i["id"] for i in again], "another shape came from the pool")
    victim = again[0]
    os.kill(victim["pid"], signal.SIGKILL)
    wait_for("the dead pooled instance to be replaced",
             lambda: (lambda p: p and victim["id"] not in [i["id"] for i in p])(pooled()), 20)
    status, m = d.request("GET", "/metrics")
    check(b'shoal_instances{state="pooled"} 2' in m, "pooled gauge\n%s" % m.decode())
    for i in (got, big):
        d.request("DELETE", "/v1/instances/" + i["id"])
    # The pool survives a daemon killed with -9: its members are adopted, not rebooted.
    before = sorted(i["pid"] for i in wait_for("a full pool", pooled, 20))
    d.proc.kill()
    d.proc.wait(10)
    os.unlink(d.sock)
    d.start()
    after = sorted(i["pid"] for i in wait_for("the adopted pool", pooled, 20))
    check(after == before, "pool after the restart %r, before %r" % (after, before))


def veth_pool_ready(d):
    """shoal_veth_pool_ready of /metrics, and the takes and misses so far."""
    status, body = d.request("GET", "/metrics")
    m, _ = parse_metrics(body.decode())
    return (int(m["shoal_veth_pool_ready"]), int(m["shoal_veth_pool_takes_total"]),
            int(m["shoal_veth_pool_misses_total"]))


def wait_pool_full(d, n):
    """Wait (bounded) until the veth pool holds @n pairs; their ends' names."""
    wait_for("%d veth pairs in the pool" % n, lambda: veth_pool_ready(d)[0] == n, 20)
    pool = d.pool_links()
    check(len(pool) == 2 * n, "pool %r of %d pairs" % (pool, n))
    return pool


def stop_keeping_netns(d):
    """Stop the daemon while a second name holds its namespace alive, and
    return the links the daemon left in it: what the daemon itself removed,
    not what the namespace's end would have removed anyway."""
    keep = "/run/netns/%s-keep" % d.netns
    open(keep, "w").close()
    try:
        subprocess.run(["mount", "--bind", "/run/netns/" + d.netns, keep], check=True,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        try:
            check(d.stop() == 0, "shoald did not stop clean")
            out = subprocess.run(["ip", "netns", "exec", os.path.basename(keep), "ip", "-o",
                                  "link", "show"], stdin=subprocess.DEVNULL,
                                 capture_output=True, timeout=30).stdout.decode()
            return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}
        finally:
            subprocess.run(["umount", keep], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=10)
    finally:
        os.unlink(keep)


@case(timeout=120)
@with_daemon("--veth-pool", "3")
def veth_pool(d):
    """--veth-pool 3 keeps three veth pairs made ahead, on the bridge and up,
    each named for an id no instance has; a network create takes one (the
    instance gets that id and works), the pool fills again, creates beyond
    what it holds make their own; a stop removes every pair it holds."""
    pool = wait_pool_full(d, 3)
    out = d.ns("ip", "-o", "link", "show", "master", "shoal0").stdout.decode()
    for n in pool:
        if n.startswith("sb"):
            check(n in out, "pool end %s not on the bridge: %s" % (n, out))
    up = d.ns("ip", "-o", "link", "show", "up").stdout.decode()
    check(all(n in up for n in pool), "pool ends not up: %s" % up)
    a = d.create(network=True)
    check(a["host_interface"] in pool and a["host_interface"] == "sb" + a["id"][2:14],
          "the create did not take a pooled pair: %r, pool %r" % (a, pool))
    check(veth_pool_ready(d)[1] == 1, "takes %r" % (veth_pool_ready(d),))
    check(ping(d, a["address"]) and ping(d, a["address6"]), "no ping to a pooled veth's instance")
    again = wait_pool_full(d, 3)
    check(not again & {a["host_interface"], "si" + a["id"][2:14]},
          "the taken pair is still counted in the pool: %r" % again)
    check(len(again - pool) == 2, "pool not refilled with a new pair: %r then %r" % (pool, again))
    # More creates at once than the pool holds: every one succeeds.
    import threading
    made, errors = [], []

    def create():
        try:
            made.append(d.create(network=True))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=create) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    check(not errors and len(made) == 5, "creates %r" % errors)
    ready, takes, misses = veth_pool_ready(d)
    check(takes + misses == 6, "takes %d + misses %d, want 6" % (takes, misses))
    check(len({i["id"] for i in made + [a]}) == 6, "ids not unique")
    for i in made:
        check(i["host_interface"] in d.links(), "veth of %r missing" % i)
        check(ping(d, i["address"]), "no ping to %s" % i["address"])
    for i in made + [a]:
        status, gone = d.request("DELETE", "/v1/instances/" + i["id"])
        check(status == 200 and gone["state"] == "destroyed", "delete %r" % gone)
    wait_pool_full(d, 3)
    check(d.instance_links() == {"lo", "shoal0"}, "links left %r" % d.links())
    left = stop_keeping_netns(d)
    check(left == {"lo", "shoal0"}, "the stop left veths of the pool: %r" % left)


@case(timeout=60)
@with_daemon("--veth-pool", "0")
def veth_pool_off(d):
    """--veth-pool 0: no pair is made ahead; network creates make their own."""
    time.sleep(0.3)
    check(d.links() == {"lo", "shoal0"}, "links %r" % d.links())
    a = d.create(network=True)
    check(ping(d, a["address"]), "no ping")
    check(veth_pool_ready(d) == (0, 0, 0), "pool counters %r" % (veth_pool_ready(d),))
    d.request("DELETE", "/v1/instances/" + a["id"])
    check(d.links() == {"lo", "shoal0"}, "links left %r" % d.links())


@case(timeout=120)
def veth_pool_after_kill():
    """kill -9 the daemon with a full veth pool and an instance on a pooled
    pair: a new daemon adopts the instance, removes the dead daemon's pool
    (no orphan veth) and makes a pool of its own; its stop leaves nothing."""
    d = Daemon("--veth-pool", "2")
    ok = False
    try:
        wait_pool_full(d, 2)
        a = d.create(network=True)
        old_pool = wait_pool_full(d, 2)
        d.proc.kill()
        d.proc.wait(10)
        check(pid_is_instance(a["pid"]), "the instance did not outlive the daemon")
        d.log.write("--- restart ---\n")
        d.log.flush()
        os.unlink(d.sock)
        d.start()
        new_pool = wait_pool_full(d, 2)
        check(not old_pool & d.links(), "orphan veths of the dead daemon's pool: %r" %
              (old_pool & d.links()))
        check(not old_pool & new_pool, "pool %r kept the old names %r" % (new_pool, old_pool))
        status, got = d.request("GET", "/v1/instances/" + a["id"])
        check(got["state"] == "running" and got["pid"] == a["pid"], "adopted %r" % got)
        check(d.instance_links() == {"lo", "shoal0", a["host_interface"], "si" + a["id"][2:14]},
              "links %r" % d.links())
        check(ping(d, a["address"]), "no ping after adoption")
        status, gone = d.request("DELETE", "/v1/instances/" + a["id"])
        check(status == 200 and gone["state"] == "destroyed", "delete %r" % gone)
        left = stop_keeping_netns(d)
        check(left == {"lo", "shoal0"}, "the stop left veths: %r" % left)
        check(not os.path.exists("/run/netns/" + d.netns), "namespace left after a clean stop")
        ok = True
    finally:
        if not ok:
            sys.stdout.write("--- shoald log ---\n" + d.output())
        d.cleanup()


@case(timeout=90)
@with_daemon("--subnet", "198.18.0.0/30")
def address_pool_exhausted(d):
    """A /30 has one address to lease (.2; .1 is the gateway): the second
    network create is 503 pool_exhausted and leaves nothing; loopback-only
    instances are not affected; a delete frees the address."""
    one = d.create(network=True)
    check(one["address"] == "198.18.0.2" and one["prefix"] == 30, "%r" % one)
    status, body = d.request("POST", "/v1/instances", {"network": True})
    check(status == 503 and body["error"]["code"] == "pool_exhausted", "%d %r" % (status, body))
    status, lst = d.request("GET", "/v1/instances")
    check(len(lst["instances"]) == 1, "a refused create left a row: %r" % lst)
    check(len(d.instance_links()) == 4, "a refused create left a veth: %r" % d.links())
    lo = d.create(network=False)
    check(lo["address"] is None and lo["mac"] is None and lo["address6"] is None,
          "loopback only %r" % lo)
    d.request("DELETE", "/v1/instances/" + one["id"])
    two = d.create(network=True)
    check(two["address"] == "198.18.0.2", "freed address not leased again: %r" % two)
    for i in (lo, two):
        d.request("DELETE", "/v1/instances/" + i["id"])


@case()
def bad_subnet():
    """--subnet that is not a usable pool ends shoald with status 2."""
    tmp = tempfile.mkdtemp(prefix="shoal-e2e-")
    try:
        for subnet in ("198.18.0.0", "198.18.0.0/31", "198.18.0.0/7", "300.1.1.1/16",
                       "198.18.0.0/x"):
            r = subprocess.run([SHOALD, "--socket", os.path.join(tmp, "s"), "--state-dir",
                                os.path.join(tmp, "st"), "--instance-bin", INSTANCE,
                                "--netns", "shoal-e2e-%d" % os.getpid(), "--subnet", subnet],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
            check(r.returncode == 2 and b"subnet" in r.stderr, "%s: %d %r" %
                  (subnet, r.returncode, r.stderr))
        check(not os.path.exists("/run/netns/shoal-e2e-%d" % os.getpid()), "namespace made")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case()
@with_daemon()
def netns_in_use(d):
    """A second daemon on the network namespace of a running one refuses to
    start (it would take the first's veths for leftovers)."""
    inst = d.create(network=True)
    tmp = tempfile.mkdtemp(prefix="shoal-e2e-")
    try:
        r = subprocess.run([SHOALD, "--socket", os.path.join(tmp, "s"), "--state-dir",
                            os.path.join(tmp, "st"), "--instance-bin", INSTANCE,
                            "--netns", d.netns], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=10)
        check(r.returncode == 1 and b"another shoald" in r.stderr, "%d %r" %
              (r.returncode, r.stderr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    check(inst["host_interface"] in d.links(), "the second daemon touched the first's veth")
    check(ping(d, inst["address"]), "the first daemon's instance lost its network")
    d.request("DELETE", "/v1/instances/" + inst["id"])


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tcp_request(port, method, path, token=None, body=None):
    """One request over the TCP listener; (status, parsed), checked against the spec."""
    c = Conn.__new__(Conn)
    c.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    c.buf = b""
    try:
        headers = {"Authorization": "Bearer " + token} if token is not None else None
        c.send_request(method, path, body, headers=headers)
        status, hdrs, parsed = c.read_response()
        check_spec(method, path, status, parsed, hdrs.get("content-type"))
        return status, parsed
    finally:
        c.sock.close()


@case(timeout=60)
def tcp_listener_needs_token():
    """--tcp-port listens on 127.0.0.1 only; every request there needs the
    bearer token from --token-file (401 otherwise, before any body is read);
    the Unix socket needs none; a token file others can read is refused."""
    tmp = tempfile.mkdtemp(prefix="shoal-e2e-")
    token = "t0k3n-" + os.urandom(12).hex()
    tf = os.path.join(tmp, "token")
    with open(tf, "w") as f:
        f.write(token + "\n")
    os.chmod(tf, 0o600)
    port = free_port()
    d = None
    ok = False
    try:
        base = [SHOALD, "--socket", os.path.join(tmp, "s"), "--state-dir",
                os.path.join(tmp, "st"), "--instance-bin", INSTANCE,
                "--netns", "shoal-e2e-%d" % os.getpid()]
        for extra, want in ((["--tcp-port", str(port)], 2), (["--token-file", tf], 2),
                            (["--tcp-port", "0", "--token-file", tf], 2)):
            r = subprocess.run(base + extra, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=10)
            check(r.returncode == want, "%r: %d %r" % (extra, r.returncode, r.stderr))
        os.chmod(tf, 0o644)
        r = subprocess.run(base + ["--tcp-port", str(port), "--token-file", tf],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        check(r.returncode == 1 and b"token-file" in r.stderr, "readable token: %d %r" %
              (r.returncode, r.stderr))
        os.chmod(tf, 0o600)
        d = Daemon("--tcp-port", str(port), "--token-file", tf)
        status, body = tcp_request(port, "GET", "/v1/health")
        check(status == 401 and body["error"]["code"] == "unauthorized", "no token %r" % body)
        status, body = tcp_request(port, "GET", "/v1/health", token="wrong" + token)
        check(status == 401, "wrong token %d" % status)
        status, body = tcp_request(port, "POST", "/v1/instances", token=token[:-1],
                                   body={"network": False})
        check(status == 401, "a prefix of the token %d" % status)
        status, body = tcp_request(port, "GET", "/v1/health", token=token)
        check(status == 200 and body == {"status": "ok"}, "with the token %d %r" % (status, body))
        status, inst = tcp_request(port, "POST", "/v1/instances", token=token,
                                   body={"network": False})
        check(status == 201, "create over TCP %d %r" % (status, inst))
        d.pids.add(inst["pid"])
        status, body = d.request("GET", "/v1/instances/" + inst["id"])
        check(status == 200, "the Unix socket needs no token")
        with open("/proc/net/tcp") as f:
            listen = [l.split()[1] for l in f.read().splitlines()[1:] if l.split()[3] == "0A"]
        check("0100007F:%04X" % port in listen, "not listening on 127.0.0.1:%d: %r" %
              (port, listen))
        check("00000000:%04X" % port not in listen, "listening on every address")
        tcp_request(port, "DELETE", "/v1/instances/" + inst["id"], token=token)
        check(d.stop() == 0, "stop")
        ok = True
    finally:
        if d:
            if not ok:
                sys.stdout.write("--- shoald log ---\n" + d.output())
            d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


@case(timeout=90)
@with_daemon()
def patch_ttl_and_labels(d):
    inst = d.create(labels={"team": "core"})
    iid = inst["id"]
    status, got = d.request("PATCH", "/v1/instances/" + iid, {"labels": {"team": "web"}})
    check(status == 200 and got["labels"] == {"team": "web"}, "%d %r" % (status, got))
    status, lst = d.request("GET", "/v1/instances?label=team=web")
    check([i["id"] for i in lst["instances"]] == [iid], "label filter after PATCH %r" % lst)
    check(json.loads(d.db_row(iid)["labels"]) == {"team": "web"}, "labels not stored")
    status, got = d.request("PATCH", "/v1/instances/" + iid, {"ttl_s": 3600})
    check(got["ttl_s"] == 3600 and got["expires_ms"] >= got["created_ms"] + 3600 * 1000,
          "ttl %r" % got)
    check(got["labels"] == {"team": "web"}, "a TTL change touched labels %r" % got)
    status, got = d.request("PATCH", "/v1/instances/" + iid, {"ttl_s": None})
    check(got["ttl_s"] is None and got["expires_ms"] is None, "ttl removed %r" % got)
    status, got = d.request("PATCH", "/v1/instances/" + iid, {"ttl_s": 1})
    check(got["ttl_s"] == 1, "%r" % got)

    def destroyed():
        status, got = d.request("GET", "/v1/instances/" + iid)
        return got if got["state"] == "destroyed" else None

    got = wait_for("the patched TTL to expire", destroyed, 10)
    check(got["reason"] == "ttl expired", "reason %r" % got)
    status, body = d.request("PATCH", "/v1/instances/" + iid, {"labels": {}})
    check(status == 409 and body["error"]["code"] == "not_running", "%d %r" % (status, body))


@case(timeout=90)
@with_daemon()
def list_pagination(d):
    made = [d.create(labels={"page": "p", "n": str(i)}) for i in range(3)]
    other = d.create(labels={"page": "q"})
    ids = [i["id"] for i in made]
    status, p1 = d.request("GET", "/v1/instances?label=page=p&limit=2")
    check([i["id"] for i in p1["instances"]] == ids[:2] and p1["next"] == ids[1], "%r" % p1)
    status, p2 = d.request("GET", "/v1/instances?label=page=p&limit=2&after=" + p1["next"])
    check([i["id"] for i in p2["instances"]] == ids[2:] and p2["next"] is None, "%r" % p2)
    status, allp = d.request("GET", "/v1/instances?limit=1000")
    check(len(allp["instances"]) == 4 and allp["next"] is None, "%r" % allp)
    status, one = d.request("GET", "/v1/instances?limit=1&after=" + ids[2])
    check([i["id"] for i in one["instances"]] == [other["id"]] and one["next"] is None,
          "%r" % one)
    # A cursor holds its place whatever the filters: here the row it names is not running.
    d.request("DELETE", "/v1/instances/" + ids[0])
    status, run = d.request("GET", "/v1/instances?state=running&after=" + ids[0])
    check([i["id"] for i in run["instances"]] == ids[1:] + [other["id"]], "%r" % run)
    for i in made + [other]:
        d.request("DELETE", "/v1/instances/" + i["id"])


def parse_metrics(text):
    """{name{labels}: value} of a Prometheus text exposition; checks its grammar."""
    import re
    out, types = {}, {}
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_]+="[^"]*"(,[a-zA-Z_]+="[^"]*")*\})?'
                        r' (-?[0-9.e+]+|\+Inf)$')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            check(kind in ("counter", "gauge", "histogram"), "type %r" % line)
            types[name] = kind
            continue
        if line.startswith("# HELP ") or not line:
            continue
        m = sample.match(line)
        check(m, "not a sample line: %r" % line)
        out[m.group(1) + (m.group(2) or "")] = float(m.group(4))
    return out, types


@case(timeout=90)
@with_daemon()
def metrics(d):
    a = d.create()
    b = d.create()
    d.request("DELETE", "/v1/instances/" + b["id"])
    c = d.conn()
    try:
        c.send_request("GET", "/metrics")
        status, headers, body = c.read_response()
    finally:
        c.close()
    check_spec("GET", "/metrics", status, body, headers.get("content-type"))
    check(status == 200 and headers["content-type"].startswith("text/plain"), "%r" % headers)
    m, types = parse_metrics(body.decode())
    check(m['shoal_instances{state="running"}'] == 1, "running %r" % m)
    check(m['shoal_instances{state="destroyed"}'] == 1, "destroyed %r" % m)
    check(m["shoal_instance_creates_total"] == 2, "creates %r" % m)
    check(m["shoal_instance_create_failures_total"] == 0, "failures %r" % m)
    check(types["shoal_create_latency_seconds"] == "histogram", "types %r" % types)
    check(m["shoal_create_latency_seconds_count"] == 2, "latency count %r" % m)
    buckets = [(k, v) for k, v in m.items() if k.startswith("shoal_create_latency_seconds_bucket")]
    values = [v for _, v in buckets]
    check(values == sorted(values) and values[-1] == 2 and 'le="+Inf"' in buckets[-1][0],
          "buckets not cumulative: %r" % buckets)
    check(m["shoal_address_pool_size"] == 65533, "pool size %r" % m)
    d.request("DELETE", "/v1/instances/" + a["id"])


@case(timeout=90)
@with_daemon()
def events_stream(d):
    """A follower sees an instance's life in order as it happens; the store
    keeps the same events; ?after= replays from a point; follow=false ends."""
    import threading

    c = Conn(d.sock, 30)
    got, errors = [], []
    c.send_request("GET", "/v1/events")
    status, headers = c.read_head()
    check(status == 200 and headers["content-type"] == "application/x-ndjson", "%r" % headers)

    def follow():
        try:
            for ev in c.read_lines():
                check_spec("GET", "/v1/events", 200, [ev], "application/x-ndjson")
                got.append(ev)
                if ev["type"] == "instance.destroyed":
                    return
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    t = threading.Thread(target=follow)
    t.start()
    inst = d.create()
    d.request("PATCH", "/v1/instances/" + inst["id"], {"labels": {"x": "y"}})
    d.request("DELETE", "/v1/instances/" + inst["id"])
    t.join(20)
    c.close()
    check(not t.is_alive() and not errors, "follower: %r %r" % (errors, got))
    types = [e["type"] for e in got if e["instance_id"] == inst["id"]]
    check(types == ["instance.created", "instance.running", "instance.updated",
                    "instance.stopping", "instance.destroyed"], "order %r" % types)
    seqs = [e["seq"] for e in got]
    check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "seqs %r" % seqs)
    check(got[-1]["data"]["state"] == "destroyed", "data %r" % got[-1])
    rows = d.db("SELECT seq, type FROM events WHERE instance_id = ? ORDER BY seq", inst["id"])
    check([r[1] for r in rows] == types, "stored %r" % rows)
    status, replay = d.request("GET", "/v1/events?follow=false&after=%d" % rows[1][0])
    check([e["type"] for e in replay] == types[2:], "replay %r" % replay)
    status, none = d.request("GET", "/v1/events?follow=false&after=%d" % rows[-1][0])
    check(none == [], "after the last: %r" % none)
    # The daemon stops clean with a follower still attached.
    c2 = Conn(d.sock, 30)
    c2.send_request("GET", "/v1/events?after=%d" % rows[-1][0])
    check(c2.read_head()[0] == 200, "second follower")


@case(timeout=90)
@with_daemon()
def files_put_and_get(d):
    inst = d.create()
    base = "/v1/instances/%s/files?path=" % inst["id"]
    data = os.urandom(300 * 1024 + 7)  # several protocol chunks, not a multiple of one
    status, body = d.request("PUT", base + "/tmp/blob", raw_body=data,
                             content_type="application/octet-stream")
    check(status == 200 and body == {"path": "/tmp/blob", "size": len(data)}, "%r" % body)
    status, got = d.request("GET", base + "/tmp/blob")
    check(status == 200 and got == data, "GET gave %d bytes, put %d" % (len(got), len(data)))
    status, body = d.request("PUT", base + "/tmp/empty", raw_body=b"",
                             content_type="application/octet-stream")
    check(status == 200 and body["size"] == 0, "empty %r" % body)
    status, got = d.request("GET", base + "/tmp/empty")
    check(status == 200 and got == b"", "empty get %r" % got)
    status, body = d.request("PUT", base + "/tmp/new/dir/f&parents=true&mode=600",
                             raw_body=b"x", content_type="application/octet-stream")
    check(status == 200, "parents %r" % body)
    for path, want, code in (("/tmp/../etc/passwd", 400, "invalid_value"),
                             ("tmp/x", 400, "invalid_value"),
                             ("/tmp//x", 400, "invalid_value"),
                             ("/tmp/x/", 400, "invalid_value"),
                             ("/nonexistent/file", 404, "not_found"),
                             ("/tmp", 400, "invalid_value")):
        status, body = d.request("GET", base + path)
        check(status == want and body["error"]["code"] == code,
              "GET %s: %d %r" % (path, status, body))
    status, body = d.request("PUT", base + "/tmp/a/b/c", raw_body=b"x",
                             content_type="application/octet-stream")
    check(status == 404, "PUT without parents: %d %r" % (status, body))
    status, body = d.request("GET", "/v1/instances/%s/files" % inst["id"])
    check(status == 400 and body["error"]["code"] == "invalid_value", "no path %r" % body)
    status, body = d.request("GET", base + "/tmp/blob&color=red")
    check(status == 400 and body["error"]["code"] == "unknown_field", "%r" % body)
    status, body = d.request("PUT", base + "/tmp/m&mode=999", raw_body=b"x",
                             content_type="application/octet-stream")
    check(status == 400, "mode 999 %r" % body)
    # Over the cap: refused from Content-Length, before the body is read.
    status, _, body = raw_exchange(
        d, ("PUT %s/tmp/huge HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" %
            (base, 16 * 1024 * 1024 + 1)).encode())
    check(status == 413 and body["error"]["code"] == "body_too_large", "%d %r" % (status, body))
    d.request("DELETE", "/v1/instances/" + inst["id"])
    status, body = d.request("GET", base + "/tmp/blob")
    check(status == 409 and body["error"]["code"] == "not_running", "ended: %r" % body)


JOBSHIM = os.path.join(os.path.dirname(INSTANCE), "shoal-jobshim")


@case(timeout=90)
@with_daemon()
def exec_in_instance(d):
    """exec through the API: /bin/echo hi buffered and streamed when the
    instance can run jobs (its job shim is built); otherwise the instance's
    refusal is mapped to 501 unsupported. Either way the record is stored,
    and bad bodies are refused before anything reaches the instance."""
    inst = d.create()
    path = "/v1/instances/%s/exec" % inst["id"]
    for body, code in (({}, "invalid_value"), ({"argv": []}, "invalid_value"),
                       ({"argv": [""]}, "invalid_value"), ({"argv": "echo"}, "invalid_value"),
                       ({"argv": ["/bin/true"], "x": 1}, "unknown_field"),
                       ({"argv": ["/bin/true"], "stdin": "not base64!"}, "invalid_value"),
                       ({"argv": ["/bin/true"], "env": ["NOEQUALS"]}, "invalid_value"),
                       ({"argv": ["/bin/true"], "cwd": "/a/../b"}, "invalid_value"),
                       ({"argv": ["/bin/true"], "timeout_ms": 0}, "invalid_value")):
        status, got = d.request("POST", path, body)
        check(status == 400 and got["error"]["code"] == code, "%r: %d %r" % (body, status, got))
    status, got = d.request("POST", path + "?stream=maybe", {"argv": ["/bin/true"]})
    check(status == 400, "stream=maybe %r" % got)
    status, got = d.request("POST", path, {"argv": ["/bin/echo", "hi"]})
    if os.access(JOBSHIM, os.X_OK):
        import base64
        check(status == 200 and got["exit_code"] == 0, "echo: %d %r" % (status, got))
        check(base64.b64decode(got["stdout"]) == b"hi\n", "stdout %r" % got)
        c = d.conn()
        try:
            c.send_request("POST", path + "?stream=true", {"argv": ["/bin/echo", "hi"]})
            status, headers = c.read_head()
            lines = list(c.read_lines())
        finally:
            c.close()
        check_spec("POST", path, status, lines, headers.get("content-type"))
        out = b"".join(base64.b64decode(x["data"]) for x in lines if x.get("stream") == "stdout")
        check(out == b"hi\n" and lines[-1].get("exit_code") == 0, "stream %r" % lines)
        rows = d.db("SELECT argv, exit_code, stdout_bytes, error FROM execs")
        check(len(rows) == 2 and rows[0][1] == 0 and rows[0][2] == 3, "records %r" % rows)
        status, recs = d.request("GET", "/v1/instances/%s/execs" % inst["id"])
        check(status == 200 and [r["argv"] for r in recs["execs"]] == [["/bin/echo", "hi"]] * 2
              and recs["execs"][0]["exit_code"] == 0 and recs["execs"][0]["stdout_bytes"] == 3
              and recs["execs"][0]["ended_ms"] and recs["execs"][0]["error"] is None,
              "records through the API %r" % recs)
        status, got = d.request("POST", path, {"argv": ["/bin/sh", "-c", "echo err >&2; exit 3"]})
        check(status == 200 and got["exit_code"] == 3 and
              base64.b64decode(got["stderr"]) == b"err\n", "exit 3: %r" % got)
        data = os.urandom(1000)
        status, got = d.request("POST", path, {"argv": ["/bin/cat"],
                                               "stdin": base64.b64encode(data).decode()})
        check(status == 200 and base64.b64decode(got["stdout"]) == data, "stdin to cat %r" %
              {k: v for k, v in got.items() if k != "stdout"})
        status, got = d.request("POST", path, {"argv": ["/bin/sleep", "5"], "timeout_ms": 300})
        check(status == 200 and got["timed_out"] and got["signal"] == 9 and
              got["exit_code"] is None, "timeout %r" % got)
        status, got = d.request("POST", path, {"argv": ["/nonexistent/program"]})
        check(status == 404 and got["error"]["code"] == "not_found", "no program %r" % got)
        # A running job is signalled through the API; its stream reports the end.
        c = d.conn()
        try:
            c.send_request("POST", path + "?stream=true", {"argv": ["/bin/sleep", "30"]})
            status, headers = c.read_head()
            lines = c.read_lines()
            started = next(lines)
            sig = path + "/signal"
            for body, want in (({"exec_id": started["exec_id"], "signal": 0}, 400),
                               ({"exec_id": started["exec_id"], "pid": 1}, 400),
                               ({"exec_id": 999999}, 404)):
                status, got = d.request("POST", sig, body)
                check(status == want, "%r: %d %r" % (body, status, got))
            status, got = d.request("POST", sig, {"exec_id": started["exec_id"], "signal": 9})
            check(status == 200 and got == {}, "signal %d %r" % (status, got))
            rest = list(lines)
        finally:
            c.close()
        check(rest and rest[-1].get("signal") == 9 and not rest[-1]["timed_out"],
              "the signalled job's end %r" % rest)
        # The environment in layers: defaults, the instance's, the exec's.
        e = d.create(env=["FOO=bar", "HOME=/tmp"])
        check(e["env"] == ["FOO=bar", "HOME=/tmp"], "env in the row %r" % e["env"])
        epath = "/v1/instances/%s/exec" % e["id"]
        script = ["/bin/sh", "-c", "echo $FOO $HOME $LANG $PATH"]
        status, got = d.request("POST", epath, {"argv": script})
        check(base64.b64decode(got["stdout"]) ==
              b"bar /tmp C.UTF-8 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
              "instance env %r" % base64.b64decode(got["stdout"]))
        status, got = d.request("POST", epath, {"argv": script, "env": ["FOO=baz", "PATH=/bin"]})
        check(base64.b64decode(got["stdout"]) == b"baz /tmp C.UTF-8 /bin\n",
              "exec env on top %r" % base64.b64decode(got["stdout"]))
        d.request("DELETE", "/v1/instances/" + e["id"])
        status, m = d.request("GET", "/metrics")
        check(b"shoal_exec_latency_seconds_count 8" in m, "exec histogram:\n%s" % m.decode())
    else:
        check(status == 501 and got["error"]["code"] == "unsupported" and
              "shim" in got["error"]["message"], "without a job shim: %d %r" % (status, got))
        rows = d.db("SELECT argv, exit_code, error FROM execs")
        check(len(rows) == 1 and json.loads(rows[0][0]) == ["/bin/echo", "hi"] and
              rows[0][1] == -1 and "unsupported" in rows[0][2], "record %r" % rows)
        c = d.conn()
        try:
            status, got = c.request("POST", path + "?stream=true", {"argv": ["/bin/echo", "hi"]})
        finally:
            c.close()
        check(status == 501, "streamed refusal %d %r" % (status, got))
    d.request("DELETE", "/v1/instances/" + inst["id"])
    status, got = d.request("POST", path, {"argv": ["/bin/true"]})
    check(status == 409 and got["error"]["code"] == "not_running", "ended %r" % got)
    status, recs = d.request("GET", "/v1/instances/%s/execs" % inst["id"])
    check(status == 200 and recs["execs"], "records of an ended instance %r" % recs)
    status, body = d.request("GET", "/v1/instances/i-0000000000000000/execs")
    check(status == 404, "records of no instance %r" % body)


@case(timeout=60)
@with_daemon()
def stats_of_instance(d):
    inst = d.create()
    status, st = d.request("GET", "/v1/instances/%s/stats" % inst["id"])
    check(status == 200 and st["host_syscalls_allowed"] > 0, "stats %r" % st)
    check(iface(st, "lo") and not iface(st, "eth0"), "loopback only: %r" % st["interfaces"])
    check(st["memory"]["kernel_total_bytes"] > 32 * 1024 * 1024, "memory %r" % st["memory"])
    logs = "/v1/instances/%s/logs" % inst["id"]
    status, lg = d.request("GET", logs)
    check(status == 200 and "Linux version" in lg["text"] and lg["cursor"] >= len(lg["text"]),
          "logs %d %r" % (status, str(lg)[:300]))
    status, more = d.request("GET", logs + "?cursor=%d&max_bytes=100" % lg["cursor"])
    check(status == 200 and more["cursor"] >= lg["cursor"] and len(more["text"]) <= 100,
          "logs from the cursor %r" % more)
    status, part = d.request("GET", logs + "?max_bytes=10")
    check(status == 200 and len(part["text"]) <= 10 and part["cursor"] <= 10, "%r" % part)
    for q, code in (("?max_bytes=0", "invalid_value"), ("?cursor=-1", "invalid_value"),
                    ("?tail=5", "unknown_field")):
        status, body = d.request("GET", logs + q)
        check(status == 400 and body["error"]["code"] == code, "%s: %r" % (q, body))
    d.request("DELETE", "/v1/instances/" + inst["id"])
    status, body = d.request("GET", "/v1/instances/%s/stats" % inst["id"])
    check(status == 409 and body["error"]["code"] == "not_running", "%r" % body)


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name, (_, timeout) in CASES.items():
            print(name if timeout is None else "%s timeout=%d" % (name, timeout))
        return 0
    if len(argv) != 2 or argv[1] not in CASES:
        print("usage: %s --list | CASE" % argv[0], file=sys.stderr)
        return 2
    try:
        CASES[argv[1]][0]()
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
