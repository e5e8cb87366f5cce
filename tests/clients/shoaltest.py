# SPDX-License-Identifier: GPL-2.0
"""What the clients suite's test files share: the runner protocol (a table of
named cases, --list, one case per process), a real shoald started per case on
a temporary socket and state directory (as tests/e2e does) and stopped by its
pid, the shoal CLI run as a subprocess, and probes that tell whether this
daemon offers an endpoint yet (tests of a verb whose endpoint is missing check
that the client says so cleanly instead of skipping). Everything a case made
is removed, also when it fails.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("SHOAL_BUILD", "build")
SHOALD = os.environ.get("SHOALD") or os.path.join(BUILD, "daemon", "shoald")
INSTANCE = os.environ.get("SHOAL_INSTANCE") or os.path.join(BUILD, "instance", "shoal-instance")
CLI = os.environ.get("SHOAL_CLI") or os.path.join(BUILD, "clients", "shoal")
# With the job shim built, jobs must run: a test may accept "exec unsupported" only without it.
JOBSHIM = os.path.join(os.path.dirname(INSTANCE), "shoal-jobshim")


def jobs_may_be_unsupported():
    return not os.path.exists(JOBSHIM)

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import shoal  # noqa: E402

try:
    import openapi  # noqa: E402  (tests/e2e's spec loader and validator)
    SPEC = openapi.load_spec(os.path.join(ROOT, "api", "openapi.yaml"))
except Exception:  # the e2e helper changed shape: validate nothing rather than fail all
    openapi, SPEC = None, None

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


def conforms(schema_name, value):
    """Check @value against a schema of api/openapi.yaml (when the spec loads)."""
    if openapi is None:
        return
    try:
        openapi.validate(SPEC, {"$ref": "#/components/schemas/" + schema_name}, value)
    except ValueError as e:
        raise Fail("not a %s as api/openapi.yaml says: %s: %r" % (schema_name, e, value))


def wait_for(what, fn, timeout):
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise Fail("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.05)


def pid_is_instance(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read()
    except OSError:
        return False
    return state != "Z" and b"shoal-instance" in cmd


def daemon_has(option):
    """Whether this shoald's --help names @option (the daemon grows options)."""
    try:
        p = subprocess.run([SHOALD, "--help"], capture_output=True, timeout=10)
    except OSError:
        return False
    return option.encode() in p.stdout + p.stderr


class Daemon:
    """A real shoald on a temporary socket; stop() ends it by its pid."""

    def __init__(self, *args):
        if os.geteuid() != 0:
            print("needs root: instances lock themselves down with namespaces and cgroups")
            sys.exit(77)
        for b in (SHOALD, INSTANCE, CLI):
            check(os.access(b, os.X_OK), "%s is not built (make it first)" % b)
        self.dir = tempfile.mkdtemp(prefix="shoal-clients-")
        self.sock = os.path.join(self.dir, "shoald.sock")
        self.state = os.path.join(self.dir, "state")
        self.log = open(os.path.join(self.dir, "shoald.log"), "w+")
        # A network namespace of our own, so this daemon never meets another
        # one (a developer's, or another suite's) over the default "shoal".
        self.netns = "shoal-cl-%d" % os.getpid() if daemon_has("--netns") else None
        self.proc = subprocess.Popen(
            [SHOALD, "--socket", self.sock, "--state-dir", self.state,
             "--instance-bin", INSTANCE] + (["--netns", self.netns] if self.netns else []) +
            list(args),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.client = shoal.Client(self.sock, timeout=60)
        try:
            wait_for("the daemon's socket", self._up, 10)
        except Fail:
            self.cleanup()
            raise

    def _up(self):
        if self.proc.poll() is not None:
            raise Fail("shoald exited with %d at start" % self.proc.returncode)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.sock)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def supports(self, method, path):
        """Whether this daemon has a route for @method @path: any answer but
        404 "no such route", 405 or 501. Only the head of the answer is read,
        so a streamed endpoint (events) does not hold the probe."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(self.sock)
            body = b"{}" if method in ("POST", "PUT", "PATCH") else b""
            s.sendall(b"%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (method.encode(), path.encode(),
                                                          len(body), body))
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
            status = int(head.split(b" ", 2)[1])
            if status in (405, 501):
                return False
            if status == 404:
                while True:  # Connection: close, so the body ends with the connection
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                return b"no such route" not in head
            return True
        finally:
            s.close()

    def instance_pids(self):
        """Pids of every instance the daemon has a row for."""
        return [i["pid"] for i in self.client.list() if i.get("pid")]

    def stop(self, timeout=20):
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
        """Remove everything, also after a failure: a clean stop first (the daemon
        destroys its instances, cgroups and namespace itself), then by force."""
        rows = []
        if self.proc.poll() is None:
            try:
                rows = [(i["id"], i.get("pid")) for i in self.client.list()]
            except shoal.ShoalError:
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.client.close()
        for _, pid in rows:
            if pid and pid_is_instance(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        deadline = time.monotonic() + 5
        while any(pid and pid_is_instance(pid) for _, pid in rows) and time.monotonic() < deadline:
            time.sleep(0.05)
        for iid, _ in rows:  # an instance's cgroup, left only if the daemon was killed
            for base in ("/sys/fs/cgroup/shoal", "/sys/fs/cgroup/memory/shoal",
                         "/sys/fs/cgroup/pids/shoal"):
                try:
                    os.rmdir(os.path.join(base, iid))
                except OSError:
                    pass
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.netns and os.path.exists("/run/netns/" + self.netns):
            subprocess.run(["ip", "netns", "del", self.netns], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=10)


def with_daemon(*args):
    """Decorator: run the case with a fresh daemon; it must stop clean (status 0)."""
    def wrap(fn):
        def run():
            d = Daemon(*args)
            ok = False
            try:
                fn(d)
                pids = d.instance_pids()
                rc = d.stop()
                check(rc == 0, "shoald exited with %d" % rc)
                for pid in pids:
                    check(not pid_is_instance(pid), "instance pid %d outlived the daemon" % pid)
                if d.netns:
                    check(not os.path.exists("/run/netns/" + d.netns),
                          "network namespace %s left after a clean stop" % d.netns)
                ok = True
            finally:
                if not ok:
                    sys.stdout.write("--- shoald log ---\n" + d.output())
                d.cleanup()
        run.__name__ = fn.__name__
        return run
    return wrap


class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise Fail("%s: stdout is not JSON (%s): %r" % (" ".join(self.argv), e, self.out))

    def __repr__(self):
        return "%s -> %d\nstdout: %r\nstderr: %r" % (" ".join(self.argv), self.rc,
                                                     self.out[:2000], self.err[:2000])


def cli(*args, sock=None, env=None, input=None, timeout=60, want=None):
    """Run the shoal CLI; with @want, check its exit status. stdout/stderr as text."""
    e = dict(os.environ)
    e.pop("SHOAL_SOCKET", None)
    e.update(env or {})
    argv = [CLI] + (["--socket", sock] if sock else []) + list(args)
    p = subprocess.run(argv, input=input if isinstance(input, bytes) or input is None
                       else input.encode(), capture_output=True, timeout=timeout, env=e)
    r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
               p.stderr.decode("utf-8", "replace"))
    if want is not None:
        check(r.rc == want, "want exit %d: %r" % (want, r))
    return r


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name, (_, timeout) in CASES.items():
            print(name if timeout is None else "%s timeout=%d" % (name, timeout))
        return 0
    if len(argv) != 2 or argv[1] not in CASES:
        print("usage: %s --list | CASE" % argv[0], file=sys.stderr)
        return 2
    # The runner ends a case that overruns with SIGTERM to its group: turn it
    # into an exception, so the case's finally blocks still remove what it made.
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(128 + sig))
    try:
        CASES[argv[1]][0]()
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    return 0
