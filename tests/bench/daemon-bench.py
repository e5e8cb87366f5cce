#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""daemon-bench: what shoald's API costs per instance, beside peers (issue 7, point 7).

One run starts a shoald of its own (own socket, state directory and network
namespace) and measures, through the real API (HTTP/1.1 with keep-alive on the
Unix socket, one connection per worker):

  create -> ready   POST /v1/instances with network on, answered once the
                    instance said ready: median and p99 at concurrency 1;
  creates per s     N creates at concurrency 1, 8 and 32 (all kept alive),
                    then N destroys at the same concurrency (destroy time);
  daemon CPU        utime+stime of shoald (/proc/PID/stat) over the creates,
                    per create; also the whole host's (/proc/stat) per create;
  exec              POST /v1/instances/{id}/exec of /bin/true, round trip;
  memory            PSS (/proc/PID/smaps_rollup) of each instance's processes
                    with --density N alive at once, per instance;
  GET throughput    GET /v1/instances/{id} from 8 worker processes (one
                    connection each) for --get-seconds, with N alive.

The same lifecycle is done from a script, in the same run, with the same
counts and concurrency, by two peers: bare network namespaces (`ip netns add`,
a veth to a hub namespace's bridge, an address, a `sleep` in it via `ip netns
exec`; exec = `ip netns exec NS /bin/true`; destroy = kill + `ip netns del`)
and Debian's User-mode Linux (a kernel per instance, on a veth in its own
namespace through vec0 raw; exec = a command line on its console; destroy =
poweroff + `ip netns del`), the latter with fewer instances (--uml-count,
default 5: each boots in over a second and holds ~30 MiB).

Nothing passes or fails on time: a table (or --json) with the goals of issue 7
beside the figures, as information. Everything it makes is removed on every
way out (end, error, SIGINT, SIGTERM, SIGHUP); every wait is bounded.
"""
import argparse
import ctypes
import json
import os
import platform
import random
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("SHOAL_BUILD", os.path.join(ROOT, "build"))
CONCURRENCY = (1, 8, 32)
GET_CONCURRENCY = 8
PEERS = ("shoal", "netns", "uml")
PEER_TITLE = {"shoal": "shoald", "netns": "netns+veth", "uml": "uml"}
GOALS = {"create_p50_ms": 10.0, "creates_per_s": 100.0, "idle_alive": 500}
TICK = os.sysconf("SC_CLK_TCK")
LIBC = ctypes.CDLL(None, use_errno=True)
SYS_KCMP, KCMP_VM = 312, 1  # x86_64; <linux/kcmp.h>: KCMP_FILE 0, KCMP_VM 1

UML_INIT = """#!/bin/busybox sh
# daemon-bench's init for User-mode Linux: address on vec0, then commands
# from the console, one per line ("stop" powers off).
/bin/busybox stty -echo
/bin/busybox ip addr add "$shoaladdr" dev vec0 && /bin/busybox ip link set vec0 up || echo noaddr
echo ready
while read cmd; do
  if [ "$cmd" = stop ]; then exec /bin/busybox poweroff -f; fi
  $cmd; echo "done $?"
done
"""


def log(args, msg):
    if not args.quiet:
        sys.stderr.write("daemon-bench: %s\n" % msg)
        sys.stderr.flush()


class Stop(Exception):
    """A signal asked us to stop."""


def on_signal(sig, frame):
    raise Stop("signal %d" % sig)


# ------------------------------------------------------------------ helpers

def pct(samples, p):
    """Nearest-rank percentile (with fewer than 100 samples, p99 is the maximum)."""
    if not samples:
        return None
    s = sorted(samples)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def loadavg():
    """The 1-minute load average: other work on this machine shows here."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def median(samples):
    return statistics.median(samples) if samples else None


def proc_cpu_ns(pid):
    """CPU time of every thread of @pid so far (schedstat, nanoseconds)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError):
            pass
    return total


def host_cpu_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6]  # user nice system irq softirq


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid, kids):
    out, todo = [], [pid]
    while todo and len(out) < 10000:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def same_vm(a, b):
    return a == b or LIBC.syscall(SYS_KCMP, a, b, KCMP_VM, 0, 0) == 0


def pss_rss_kib(pids):
    """PSS and RSS summed over @pids, an address space shared by several counted once."""
    pss = rss = 0
    seen = []
    for p in pids:
        if any(same_vm(q, p) for q in seen):
            continue
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
        seen.append(p)
    return pss, rss


def run(argv, timeout=30, check=True):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                                p.stderr.decode(errors="replace").strip()))
    return p


def pid_is_instance(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return state != "Z" and b"shoal-instance" in f.read()
    except OSError:
        return False


class Lines:
    """Lines from a pipe, each read bounded in time."""

    def __init__(self, fd):
        self.fd, self.buf, self.skipped = fd, b"", []

    def until(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                if line.strip().startswith(prefix):
                    return line.strip()
                self.skipped = (self.skipped + [line.strip()])[-4:]
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %r line within %ss" % (prefix, timeout))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise EOFError("the process ended before a %r line (its last lines: %r)" %
                                   (prefix, self.skipped))
                self.buf += chunk


# ------------------------------------------------------------- HTTP client

class Conn:
    """One keep-alive HTTP/1.1 connection to the daemon's Unix socket."""

    def __init__(self, path, timeout=60):
        self.path, self.timeout, self.sock, self.buf = path, timeout, None, b""

    def _connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("the daemon closed the connection")
        self.buf += chunk

    def request(self, method, path, body=None):
        """Returns (status, body bytes)."""
        if self.sock is None:
            self._connect()
        data = b"" if body is None else json.dumps(body).encode()
        head = "%s %s HTTP/1.1\r\nHost: shoal\r\n" % (method, path)
        if body is not None:
            head += "Content-Type: application/json\r\n"
        head += "Content-Length: %d\r\n\r\n" % len(data)
        self.sock.sendall(head.encode() + data)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        hdr = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdr[k.strip().lower()] = v.strip()
        if hdr.get("transfer-encoding", "").lower() == "chunked":
            out = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self._fill()
                out, self.buf = out + self.buf[:size], self.buf[size + 2:]
                if size == 0:
                    break
        else:
            n = int(hdr.get("content-length", "0"))
            while len(self.buf) < n:
                self._fill()
            out, self.buf = self.buf[:n], self.buf[n:]
        if hdr.get("connection", "").lower() == "close":
            self.close()
        return status, out

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


# ------------------------------------------------------------------- peers

class ShoalPeer:
    """Instances of a shoald of our own, through its API."""

    name = "shoal"

    def __init__(self, args, tmp):
        self.args = args
        self.dir = os.path.join(tmp, "shoald")
        os.mkdir(self.dir)
        self.sock = os.path.join(self.dir, "shoald.sock")
        self.netns = "shoal-db%d" % os.getpid()
        self.logf = open(os.path.join(self.dir, "shoald.log"), "w+")
        self.pids = set()  # every instance pid ever answered, for a forced cleanup
        self.ids = set()
        self.proc = None
        self.local = threading.local()
        self.conns = []
        self.lock = threading.Lock()

    def start(self):
        for b in (self.args.shoald, self.args.instance):
            if not os.access(b, os.X_OK):
                raise RuntimeError("%s is not built (make it first)" % b)
        if os.path.exists("/run/netns/" + self.netns):
            raise RuntimeError("network namespace %s exists already" % self.netns)
        max_inst = max(256, self.args.creates + 8, self.args.density + 8)
        # The daemon gets SIGTERM if we die (prctl from the main thread, the
        # only one alive now): it stops its instances and removes its namespace.
        self.proc = subprocess.Popen(
            [self.args.shoald, "--socket", self.sock, "--state-dir",
             os.path.join(self.dir, "state"), "--instance-bin", self.args.instance,
             "--netns", self.netns, "--max-instances", str(max_inst),
             "--max-connections", "256", "--log-level", "warn"],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT,
            preexec_fn=lambda: LIBC.prctl(1, signal.SIGTERM, 0, 0, 0))
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("shoald exited with %d at start: %s" %
                                   (self.proc.returncode, self.log_tail()))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.sock)
                s.close()
                break
            except OSError:
                s.close()
            if time.monotonic() > deadline:
                raise RuntimeError("shoald's socket did not appear within 10 s")
            time.sleep(0.02)

    def log_tail(self):
        self.logf.flush()
        self.logf.seek(0)
        return self.logf.read()[-2000:]

    def conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = self.local.conn = Conn(self.sock)
            with self.lock:
                self.conns.append(c)
        return c

    def create(self, i, network=True):
        t = time.perf_counter()
        st, body = self.conn().request("POST", "/v1/instances",
                                       {"network": network, "labels": {"bench": "daemon-bench"}})
        dt = time.perf_counter() - t
        if st != 201:
            raise RuntimeError("create: HTTP %d %s" % (st, body[:300]))
        r = json.loads(body)
        with self.lock:
            self.pids.add(r["pid"])
            self.ids.add(r["id"])
        return dt, {"id": r["id"], "pid": r["pid"], "boot_ms": r.get("boot_ms"),
                    "daemon_ms": (r["ready_ms"] - r["created_ms"]
                                  if r.get("ready_ms") and r.get("created_ms") else None)}

    def exec_true(self, h):
        t = time.perf_counter()
        st, body = self.conn().request("POST", "/v1/instances/%s/exec" % h["id"],
                                       {"argv": ["/bin/true"]})
        dt = time.perf_counter() - t
        if st != 200 or json.loads(body).get("exit_code") != 0:
            raise RuntimeError("exec: HTTP %d %s" % (st, body[:300]))
        return dt

    def destroy(self, h):
        t = time.perf_counter()
        st, body = self.conn().request("DELETE", "/v1/instances/%s" % h["id"])
        dt = time.perf_counter() - t
        if st != 200:
            raise RuntimeError("destroy: HTTP %d %s" % (st, body[:300]))
        with self.lock:
            self.ids.discard(h["id"])
        return dt

    def pids_of(self, h, kids):
        return tree(h["pid"], kids)

    def thread_done(self):
        """Close the calling thread's connection (an idle one would meet the
        daemon's 60 s idle timeout, and each counts against its cap)."""
        c = getattr(self.local, "conn", None)
        if c is not None:
            c.close()
            self.local.conn = None
            with self.lock:
                self.conns.remove(c)

    def cpu_ns(self):
        return proc_cpu_ns(self.proc.pid)

    def close_conns(self):
        with self.lock:
            for c in self.conns:
                c.close()

    def cleanup(self):
        """A clean stop (the daemon destroys its instances and its namespace),
        then by force: instance pids, cgroups, the namespace."""
        self.close_conns()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        rc = self.proc.returncode if self.proc is not None else 0
        left = [p for p in self.pids if pid_is_instance(p)]
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while any(pid_is_instance(p) for p in left) and time.monotonic() < deadline:
            time.sleep(0.05)
        for iid in self.ids:
            for base in ("/sys/fs/cgroup/shoal", "/sys/fs/cgroup/memory/shoal",
                         "/sys/fs/cgroup/pids/shoal", "/sys/fs/cgroup/cpuacct/shoal"):
                try:
                    os.rmdir(os.path.join(base, iid))
                except OSError:
                    pass
        if os.path.exists("/run/netns/" + self.netns):
            run(["ip", "netns", "del", self.netns], check=False)
        self.logf.close()
        return rc, len(left)


class NetnsPeer:
    """A network namespace, a veth to a hub's bridge, an address, a sleep in it."""

    name = "netns"

    def __init__(self, args, tmp, prefix):
        self.args, self.prefix = args, prefix
        self.hub = prefix + "hub"
        self.seq = 0
        self.lock = threading.Lock()
        self.live = {}  # pid -> Popen
        self.made_hub = False

    def start(self):
        self.made_hub = True
        run(["ip", "netns", "add", self.hub])
        run(["ip", "-n", self.hub, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.hub, "addr", "add", "198.18.0.1/16", "dev", "br0"])
        run(["ip", "-n", self.hub, "link", "set", "br0", "up"])

    def next_index(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def setup_script(self, i, ns, inner):
        return ("set -e; ip netns add {ns}; "
                "ip -n {hub} link add h{i} type veth peer name {inner} netns {ns}; "
                "ip -n {hub} link set h{i} master br0 up; ".format(
                    ns=ns, hub=self.hub, i=i, inner=inner))

    def address(self, i):
        return "198.18.%d.%d/16" % (1 + i // 250, 2 + i % 250)

    def spawn(self, argv, timeout, env=None):
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, start_new_session=True, env=env)
        with self.lock:
            self.live[p.pid] = p
        lines = Lines(p.stdout.fileno())
        try:
            lines.until(b"ready", timeout)
        except BaseException:
            self.kill(p)
            raise
        return p, lines

    def create(self, i):
        i = self.next_index()
        ns = "%s%d" % (self.prefix, i)
        t = time.perf_counter()
        script = (self.setup_script(i, ns, "eth0") +
                  "ip -n {ns} addr add {a} dev eth0; ip -n {ns} link set eth0 up; "
                  "exec ip netns exec {ns} /bin/sh -c 'echo ready; exec sleep 1000000'".format(
                      ns=ns, a=self.address(i)))
        p, _ = self.spawn(["/bin/sh", "-c", script], 20)
        dt = time.perf_counter() - t
        p.stdout.close()
        return dt, {"ns": ns, "proc": p}

    def exec_true(self, h):
        t = time.perf_counter()
        run(["ip", "netns", "exec", h["ns"], "/bin/true"])
        return time.perf_counter() - t

    def kill(self, p):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        with self.lock:
            self.live.pop(p.pid, None)

    def destroy(self, h):
        t = time.perf_counter()
        self.kill(h["proc"])
        run(["ip", "netns", "del", h["ns"]])
        return time.perf_counter() - t

    def pids_of(self, h, kids):
        return tree(h["proc"].pid, kids)

    def thread_done(self):
        pass

    def cpu_ns(self):
        return None

    def cleanup(self):
        with self.lock:
            procs = list(self.live.values())
        for p in procs:
            self.kill(p)
        left = 0
        try:
            names = [n for n in os.listdir("/run/netns") if n.startswith(self.prefix)]
        except OSError:
            names = []
        for n in names:
            # Whatever still runs in it (a process a signal caught half made).
            pids = run(["ip", "netns", "pids", n], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            if run(["ip", "netns", "del", n], check=False).returncode != 0:
                left += 1
        return 0, left


class UmlPeer(NetnsPeer):
    """Debian's User-mode Linux, one kernel per instance, on a veth in its own namespace."""

    name = "uml"

    def __init__(self, args, tmp, prefix):
        super().__init__(args, tmp, prefix)
        self.root = os.path.join(tmp, "umlroot")
        self.umldir = os.path.join(tmp, "umldir")

    def start(self):
        if not shutil.which(self.args.uml_bin):
            raise RuntimeError("%s not found (package user-mode-linux)" % self.args.uml_bin)
        os.makedirs(os.path.join(self.root, "bin"))
        os.mkdir(self.umldir)
        shutil.copy(self.args.busybox, os.path.join(self.root, "bin", "busybox"))
        for applet in ("sh", "true"):
            os.symlink("busybox", os.path.join(self.root, "bin", applet))
        with open(os.path.join(self.root, "init"), "w") as f:
            f.write(UML_INIT)
        os.chmod(os.path.join(self.root, "init"), 0o755)
        super().start()

    def create(self, i):
        i = self.next_index()
        ns = "%s%d" % (self.prefix, i)
        t = time.perf_counter()
        script = (self.setup_script(i, ns, "u0") + "ip -n {ns} link set u0 up; "
                  "exec ip netns exec {ns} {uml} mem=64M root=/dev/root rootfstype=hostfs "
                  "rootflags={root} rw init=/init quiet con=null con0=fd:0,fd:1 "
                  "uml_dir={umldir} umid=db{pid}-{i} vec0:transport=raw,ifname=u0 "
                  "shoaladdr={a}".format(ns=ns, uml=shutil.which(self.args.uml_bin),
                                         root=self.root, umldir=self.umldir,
                                         pid=os.getpid(), i=i, a=self.address(i)))
        p, lines = self.spawn(["/bin/sh", "-c", script], 60)
        dt = time.perf_counter() - t
        if b"noaddr" in lines.skipped:
            self.kill(p)
            raise RuntimeError("uml: the guest could not configure vec0: %r" % lines.skipped)
        return dt, {"ns": ns, "proc": p, "lines": lines}

    def exec_true(self, h):
        t = time.perf_counter()
        h["proc"].stdin.write(b"/bin/true\n")
        h["proc"].stdin.flush()
        line = h["lines"].until(b"done", 30)
        dt = time.perf_counter() - t
        if line != b"done 0":
            raise RuntimeError("uml exec: %r" % line)
        return dt

    def destroy(self, h):
        t = time.perf_counter()
        p = h["proc"]
        try:
            p.stdin.write(b"stop\n")
            p.stdin.flush()
            p.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill(p)
        p.stdin.close()
        p.stdout.close()
        run(["ip", "netns", "del", h["ns"]])
        return time.perf_counter() - t


# ---------------------------------------------------------------- phases

WORKERS = []  # every worker thread started, joined (bounded) before cleanup


def join_workers(timeout):
    deadline = time.monotonic() + timeout
    for th in WORKERS:
        th.join(max(0.0, deadline - time.monotonic()))


def parallel(items, conc, fn, stop):
    """fn(item) for every item, @conc at a time (threads); returns
    ([(item, result)], [error strings], wall seconds)."""
    items = list(items)
    out, errors, lock = [], [], threading.Lock()
    it = iter(range(len(items)))

    def worker():
        try:
            while not stop.is_set():
                with lock:
                    k = next(it, None)
                if k is None:
                    return
                try:
                    r = fn(items[k])
                    with lock:
                        out.append((items[k], r))
                except Exception as e:  # noqa: BLE001 -- counted and reported
                    with lock:
                        errors.append("%s" % e)
        finally:
            owner = getattr(fn, "__self__", None)
            if owner is not None:
                owner.thread_done()
    t = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(conc, len(items)))]
    WORKERS.extend(threads)
    for th in threads:
        th.start()
    for th in threads:
        while th.is_alive():
            th.join(0.2)
    return out, errors, time.perf_counter() - t


def lifecycle(peer, n, conc, stop):
    """n creates at @conc kept alive, then n destroys at @conc."""
    cpu0 = peer.cpu_ns()
    host0 = host_cpu_ticks()
    made, errs, wall = parallel(range(n), conc, peer.create, stop)
    host1 = host_cpu_ticks()
    cpu1 = peer.cpu_ns()
    lat = [r[0] for _, r in made]
    handles = [r[1] for _, r in made]
    gone, derrs, dwall = parallel(handles, conc, peer.destroy, stop)
    dlat = [r for _, r in gone]
    own = [h["daemon_ms"] for h in handles if h.get("daemon_ms") is not None]
    boot = [h["boot_ms"] for h in handles if h.get("boot_ms") is not None]
    ok = len(lat)
    ms = 1000.0 / TICK
    return {
        "count": n, "concurrency": min(conc, n), "created": ok, "failed": len(errs),
        "wall_s": wall, "creates_per_s": ok / wall if wall > 0 and ok else None,
        "ready_p50_ms": median(lat) and median(lat) * 1e3,
        "ready_p99_ms": pct(lat, 99) and pct(lat, 99) * 1e3,
        "daemon_ready_p50_ms": median(own), "boot_p50_ms": median(boot),
        "destroyed": len(dlat), "destroy_failed": len(derrs),
        "destroy_p50_ms": median(dlat) and median(dlat) * 1e3,
        "destroy_p99_ms": pct(dlat, 99) and pct(dlat, 99) * 1e3,
        "destroys_per_s": len(dlat) / dwall if dwall > 0 and dlat else None,
        "daemon_cpu_ms_per_create": ((cpu1 - cpu0) / 1e6 / ok) if cpu0 is not None and ok
        else None,
        "host_cpu_ms_per_create": (host1 - host0) * ms / ok if ok else None,
        "errors": (errs + derrs)[:3],
    }


def no_network(peer, n, stop):
    """Shoal only: n creates without network at concurrency 1, each destroyed
    at once, to show what the veth, lease and packet socket add."""
    lat, own = [], []
    for _ in range(n):
        if stop.is_set():
            break
        dt, h = peer.create(0, network=False)
        lat.append(dt * 1e3)
        if h["daemon_ms"] is not None:
            own.append(h["daemon_ms"])
        peer.destroy(h)
    peer.thread_done()
    return {"count": len(lat), "ready_p50_ms": median(lat), "ready_p99_ms": pct(lat, 99),
            "daemon_ready_p50_ms": median(own)}


def exec_rounds(peer, runs, stop):
    _, h = peer.create(0)
    try:
        lat = []
        for _ in range(runs):
            if stop.is_set():
                break
            lat.append(peer.exec_true(h))
    finally:
        peer.destroy(h)
        peer.thread_done()
    if not lat:
        return None
    return {"runs": len(lat), "p50_ms": median(lat) * 1e3, "p99_ms": pct(lat, 99) * 1e3}


def get_worker(sock, ids, seconds, wfd):
    """A forked worker: GET one instance after another until time is up."""
    count = errors = 0
    try:
        c = Conn(sock)
        end = time.monotonic() + seconds
        k = random.randrange(len(ids))
        while time.monotonic() < end:
            st, _ = c.request("GET", "/v1/instances/" + ids[k % len(ids)])
            k += 1
            if st == 200:
                count += 1
            else:
                errors += 1
    except Exception:  # noqa: BLE001 -- reported as one error
        errors += 1
    os.write(wfd, json.dumps([count, errors]).encode())
    os._exit(0)


def get_throughput(peer, handles, seconds):
    ids = [h["id"] for h in handles]
    workers = []
    cpu0 = peer.cpu_ns()
    t = time.perf_counter()
    for _ in range(GET_CONCURRENCY):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                get_worker(peer.sock, ids, seconds, w)
            finally:
                os._exit(1)
        os.close(w)
        workers.append((pid, r))
    total = errors = 0
    deadline = time.monotonic() + seconds + 30
    for pid, r in workers:
        data = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([r], [], [], 1)
            if ready:
                chunk = os.read(r, 4096)
                if not chunk:
                    break
                data += chunk
        os.close(r)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(pid, 0)
        try:
            c, e = json.loads(data)
        except ValueError:
            c, e = 0, 1
        total, errors = total + c, errors + e
    wall = time.perf_counter() - t
    cpu = (peer.cpu_ns() - cpu0) / 1e3
    return {"concurrency": GET_CONCURRENCY, "seconds": wall, "requests": total, "errors": errors,
            "per_s": total / wall, "daemon_cpu_us_per_request": cpu / total if total else None}


def proc_cpu_ns_quiet(pid):
    try:
        return proc_cpu_ns(pid)
    except OSError:
        return 0


def density(peer, n, stop, get_seconds, idle_seconds):
    """n alive at once (created 8 at a time), PSS per instance, then GETs (Shoal)."""
    made, errs, wall = parallel(range(n), 8, peer.create, stop)
    handles = [r[1] for _, r in made]
    res = {"count": n, "alive": len(handles), "failed": len(errs), "pss_mib_per_instance": None,
           "rss_mib_per_instance": None, "daemon_pss_mib": None, "idle_cpu_pct_all": None,
           "get": None,
           "errors": errs[:3]}
    try:
        time.sleep(1.0)  # let them settle
        kids = children_map()
        pss = rss = 0
        allpids = []
        for h in handles:
            pids = peer.pids_of(h, kids)
            allpids += pids
            p, r = pss_rss_kib(pids)
            pss, rss = pss + p, rss + r
        if handles and idle_seconds > 0 and not stop.is_set():
            # CPU of every thread of every instance while nobody asks them anything.
            c0, t0 = sum(proc_cpu_ns_quiet(p) for p in allpids), time.perf_counter()
            time.sleep(idle_seconds)
            c1, t1 = sum(proc_cpu_ns_quiet(p) for p in allpids), time.perf_counter()
            res["idle_cpu_pct_all"] = (c1 - c0) / 1e9 / (t1 - t0) * 100
        if handles:
            res["pss_mib_per_instance"] = pss / len(handles) / 1024
            res["rss_mib_per_instance"] = rss / len(handles) / 1024
        if isinstance(peer, ShoalPeer):
            res["daemon_pss_mib"] = pss_rss_kib([peer.proc.pid])[0] / 1024
            if handles and get_seconds > 0 and not stop.is_set():
                res["get"] = get_throughput(peer, handles, get_seconds)
    finally:
        _, derrs, _ = parallel(handles, 8, peer.destroy, stop)
        res["destroy_failed"] = len(derrs)
    return res


# ----------------------------------------------------------------- report

def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def table(res):
    peers = [p for p in PEERS if res["peers"].get(p)]
    c = res["conditions"]
    out = ["daemon-bench: %d CPUs, host Linux %s, %s; load average %.2f at start, %.2f at end" % (
        c["cpus"], c["kernel"], c["date"], c["loadavg_start"], c["loadavg_end"]),
           "creates per concurrency: shoald %d, netns+veth %d, uml %d (uml capped at its count); "
           "density: shoald %d, netns+veth %d, uml %d; exec runs %d; GETs %g s at %d" % (
               c["creates"], c["creates"], c["uml_count"], c["density"], c["density"],
               c["uml_count"], c["execs"], c["get_seconds"], GET_CONCURRENCY), ""]
    w = 13
    out.append("%-44s" % "" + "".join("%*s" % (w, PEER_TITLE[p]) for p in peers) +
               "   goal (issue 7)")

    def row(label, fn, spec="%.1f", goal=""):
        out.append("%-44s" % label + "".join(
            "%*s" % (w, fmt(fn(res["peers"][p]), spec)) for p in peers) +
            ("   " + goal if goal else ""))

    def lc(conc, key):
        return lambda r: r["lifecycle"][str(conc)][key] if r["lifecycle"].get(str(conc)) else None

    p50 = res["peers"]["shoal"]["lifecycle"]["1"]["ready_p50_ms"] if "shoal" in peers else None
    row("create -> ready p50, conc 1 (ms)", lc(1, "ready_p50_ms"), "%.2f",
        "<= %g ms  %s" % (GOALS["create_p50_ms"], met(p50, GOALS["create_p50_ms"], False)))
    row("create -> ready p99, conc 1 (ms)", lc(1, "ready_p99_ms"), "%.2f")
    row("  daemon's own created -> ready p50 [2]", lc(1, "daemon_ready_p50_ms"), "%.1f")
    row("  of it the instance's boot_ms p50", lc(1, "boot_p50_ms"), "%.2f")
    row("  network off, create -> ready p50 (ms) [3]",
        lambda r: r["no_network"] and r["no_network"]["ready_p50_ms"], "%.2f")
    row("  network off, daemon's own p50 (ms)",
        lambda r: r["no_network"] and r["no_network"]["daemon_ready_p50_ms"], "%.1f")
    for conc in CONCURRENCY:
        g = ""
        if conc == CONCURRENCY[-1] and "shoal" in peers:
            best = max((res["peers"]["shoal"]["lifecycle"][str(k)]["creates_per_s"] or 0)
                       for k in CONCURRENCY)
            g = ">= %g/s (best: %.0f)  %s" % (GOALS["creates_per_s"], best,
                                              met(best, GOALS["creates_per_s"], True))
        row("creates/s, conc %d" % conc, lc(conc, "creates_per_s"), "%.1f", g)
    for conc in CONCURRENCY[1:]:
        row("create -> ready p50, conc %d (ms)" % conc, lc(conc, "ready_p50_ms"), "%.2f")
    sb = lambda key: lambda r: (r.get("shoal_bench") or {}).get(key)  # noqa: E731
    row("shoal bench -N -c 8: create p50 (ms)", sb("create_p50_ms"), "%.2f")
    row("shoal bench -N -c 8: ready p50 (ms)", sb("ready_p50_ms"), "%.2f")
    row("shoal bench -N -c 8: creates/s", sb("creates_per_s"), "%.1f")
    row("destroy p50, conc 1 (ms)", lc(1, "destroy_p50_ms"), "%.2f")
    row("destroy p99, conc 1 (ms)", lc(1, "destroy_p99_ms"), "%.2f")
    row("destroys/s, conc 32", lc(32, "destroys_per_s"), "%.1f")
    row("daemon CPU per create, conc 1 (ms)", lc(1, "daemon_cpu_ms_per_create"), "%.2f")
    row("daemon CPU per create, conc 32 (ms)", lc(32, "daemon_cpu_ms_per_create"), "%.2f")
    row("host CPU per create, conc 1 (ms) [1]", lc(1, "host_cpu_ms_per_create"), "%.1f")
    row("host CPU per create, conc 32 (ms) [1]", lc(32, "host_cpu_ms_per_create"), "%.1f")
    row("exec /bin/true p50 (ms)", lambda r: r["exec"]["p50_ms"] if r["exec"] else None, "%.2f")
    row("exec /bin/true p99 (ms)", lambda r: r["exec"]["p99_ms"] if r["exec"] else None, "%.2f")
    d = (res["peers"].get("shoal") or {}).get("density") or {}
    if d.get("count", 0) < GOALS["idle_alive"]:
        verdict = "not tried (--density %d)" % GOALS["idle_alive"]
    else:
        verdict = met(d.get("alive"), GOALS["idle_alive"], True)
    row("alive at once", lambda r: r["density"]["alive"] if r["density"] else None, "%d",
        ">= %d  %s" % (GOALS["idle_alive"], verdict))
    row("PSS per idle instance (MiB)",
        lambda r: r["density"]["pss_mib_per_instance"] if r["density"] else None, "%.2f")
    row("RSS per idle instance (MiB)",
        lambda r: r["density"]["rss_mib_per_instance"] if r["density"] else None, "%.2f")
    row("CPU of all alive instances, idle (% 1 CPU)",
        lambda r: r["density"]["idle_cpu_pct_all"] if r["density"] else None, "%.2f")
    row("daemon PSS with all alive (MiB)",
        lambda r: r["density"]["daemon_pss_mib"] if r["density"] else None, "%.2f")
    row("GET /v1/instances/{id} per s, conc 8",
        lambda r: (r["density"] or {}).get("get") and r["density"]["get"]["per_s"], "%.0f")
    row("daemon CPU per GET (us)",
        lambda r: (r["density"] or {}).get("get") and
        r["density"]["get"]["daemon_cpu_us_per_request"], "%.1f")
    fails = lambda r: (sum(v["failed"] + v["destroy_failed"] for v in r["lifecycle"].values()) +
                       (r["density"]["failed"] + r["density"]["destroy_failed"]
                        if r["density"] else 0))
    row("failed operations", fails, "%d")
    out.append("")
    out.append("[1] every process of the host (/proc/stat user+nice+system+irq+softirq) over the "
               "creates: the benchmark's own client included")
    out.append("[2] ready_ms - created_ms of the answer (whole milliseconds); the rest of the "
               "round trip is the client, HTTP and the loop's queue")
    out.append("[3] min(--creates, 50) creates at concurrency 1 with network off, each "
               "destroyed at once (Shoal only: without a veth the peers' lifecycle is another)")
    for p in peers:
        if res["peers"][p].get("errors"):
            out.append("%s: first errors: %s" % (PEER_TITLE[p], "; ".join(res["peers"][p]["errors"])))
    for p, why in res["skipped"].items():
        out.append("%s: not measured: %s" % (PEER_TITLE[p], why))
    out.append("left after the run: %d instance processes, %d namespaces; shoald exit status %s" % (
        res["left"]["instances"], res["left"]["namespaces"], res["left"]["shoald_status"]))
    return "\n".join(out)


def met(v, goal, at_least):
    if v is None:
        return "not measured"
    return "met" if (v >= goal if at_least else v <= goal) else "NOT met"


# ------------------------------------------------------------------- main

SHOAL_CLI = os.path.join(BUILD, "clients", "shoal")


def shoal_bench(peer, count, conc):
    """`shoal bench -N --json` against our shoald: its create/ready/destroy
    percentiles and creates/s, or the reason it could not run."""
    if not os.access(SHOAL_CLI, os.X_OK):
        return {"error": "%s is not built" % SHOAL_CLI}
    p = subprocess.run([SHOAL_CLI, "--socket", peer.sock, "bench", "-n", str(count), "-c",
                        str(conc), "-N", "--json"], capture_output=True, text=True,
                       timeout=60 + 5 * count)
    try:
        r = json.loads(p.stdout)
    except ValueError:
        return {"error": "shoal bench exit %d: %s" % (p.returncode, p.stderr.strip()[:200])}
    lat = r.get("latency_ms", {})
    return {"concurrency": conc, "created": r.get("created"), "failed": r.get("failed"),
            "creates_per_s": r.get("creates_per_s"),
            "create_p50_ms": lat.get("create", {}).get("p50"),
            "create_p99_ms": lat.get("create", {}).get("p99"),
            "ready_p50_ms": lat.get("ready", {}).get("p50"),
            "destroy_p50_ms": lat.get("destroy", {}).get("p50")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shoald", default=os.path.join(BUILD, "daemon", "shoald"))
    ap.add_argument("--instance", default=os.path.join(BUILD, "instance", "shoal-instance"))
    ap.add_argument("--creates", type=int, default=100,
                    help="creates (kept alive, then destroyed) per concurrency level")
    ap.add_argument("--density", type=int, default=100, help="instances alive at once")
    ap.add_argument("--uml-count", type=int, default=5,
                    help="UML instances per phase and alive at once (0: no UML)")
    ap.add_argument("--execs", type=int, default=50, help="exec round trips per peer")
    ap.add_argument("--get-seconds", type=float, default=3.0)
    ap.add_argument("--settle", type=float, default=1.0,
                    help="seconds of rest before each phase (`ip netns del` returns before the "
                    "kernel has torn the namespace down, and that work would land on the next "
                    "peer's phase)")
    ap.add_argument("--idle-seconds", type=float, default=2.0,
                    help="CPU of all instances alive at once is measured over this long")
    ap.add_argument("--peers", default="shoal,netns,uml")
    ap.add_argument("--uml-bin", default="linux.uml")
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args()
    if not (1 <= args.creates <= 10000 and 1 <= args.density <= 10000 and
            0 <= args.uml_count <= 100 and 1 <= args.execs <= 100000 and
            0 <= args.get_seconds <= 600 and 0 <= args.settle <= 60 and
            0 <= args.idle_seconds <= 600):
        ap.error("--creates 1..10000, --density 1..10000, --uml-count 0..100, "
                 "--execs 1..100000, --get-seconds 0..600, --settle 0..60, "
                 "--idle-seconds 0..600")
    want = args.peers.split(",")
    if "shoal" not in want or any(p not in PEERS for p in want):
        ap.error("--peers: a comma list of shoal, netns, uml (shoal always)")
    if args.uml_count == 0 and "uml" in want:
        want.remove("uml")
    if os.geteuid() != 0:
        print("daemon-bench: needs root (shoald, namespaces, veths)", file=sys.stderr)
        return 77
    # SIGINT too, even when inherited ignored (started in the background by a shell).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    tmp = tempfile.mkdtemp(prefix="shoal-db-")
    prefix = "shoal-db%d-" % os.getpid()
    stop = threading.Event()
    peers = {"shoal": ShoalPeer(args, tmp)}
    if "netns" in want:
        peers["netns"] = NetnsPeer(args, tmp, prefix + "n")
    if "uml" in want:
        peers["uml"] = UmlPeer(args, tmp, prefix + "u")
    res = {"conditions": {
        "cpus": os.cpu_count(), "kernel": platform.release(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "creates": args.creates, "density": args.density, "uml_count": args.uml_count,
        "execs": args.execs, "get_seconds": args.get_seconds, "settle_s": args.settle,
        "idle_seconds": args.idle_seconds,
        "concurrency": list(CONCURRENCY), "get_concurrency": GET_CONCURRENCY,
        "network": True, "loadavg_start": loadavg(), "loadavg_end": None},
        "goals": dict(GOALS), "skipped": {},
        "peers": {p: None for p in PEERS},
        "left": {"instances": 0, "namespaces": 0, "shoald_status": None}}
    rc = 0
    try:
        for name in list(peers):
            try:
                peers[name].start()
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                if name == "shoal":
                    raise
                res["skipped"][name] = str(e)
                del peers[name]
        for name in peers:
            res["peers"][name] = {"lifecycle": {}, "no_network": None, "exec": None,
                                  "density": None, "errors": []}
        count = {n: (args.uml_count if n == "uml" else args.creates) for n in peers}
        dens = {n: (args.uml_count if n == "uml" else args.density) for n in peers}
        # One uncounted create and destroy per peer: caches, the daemon's first
        # connection, UML's first boot.
        for name, peer in peers.items():
            log(args, "%s: warm-up" % name)
            peer.destroy(peer.create(0)[1])
            peer.thread_done()
        # Interleaved by concurrency, so the machine's drift spreads over every peer.
        for conc in CONCURRENCY:
            for name, peer in peers.items():
                time.sleep(args.settle)
                log(args, "%s: %d creates at concurrency %d" % (name, count[name], conc))
                r = lifecycle(peer, count[name], conc, stop)
                res["peers"][name]["lifecycle"][str(conc)] = r
                res["peers"][name]["errors"] += r.pop("errors")
        # The same lifecycle once more through the CLI's stress tool (issue 8:
        # `shoal bench` is the tool these benchmarks use), at concurrency 8.
        time.sleep(args.settle)
        log(args, "shoal bench: %d creates at concurrency 8" % args.creates)
        res["peers"]["shoal"]["shoal_bench"] = shoal_bench(peers["shoal"], args.creates, 8)
        time.sleep(args.settle)
        n = min(args.creates, 50)
        log(args, "shoal: %d creates without network at concurrency 1" % n)
        res["peers"]["shoal"]["no_network"] = no_network(peers["shoal"], n, stop)
        for name, peer in peers.items():
            log(args, "%s: %d exec round trips" % (name, args.execs))
            res["peers"][name]["exec"] = exec_rounds(peer, args.execs, stop)
        for name, peer in peers.items():
            time.sleep(args.settle)
            log(args, "%s: %d alive at once" % (name, dens[name]))
            d = density(peer, dens[name], stop, args.get_seconds, args.idle_seconds)
            res["peers"][name]["errors"] += d.pop("errors")
            res["peers"][name]["density"] = d
        for name in peers:
            res["peers"][name]["errors"] = res["peers"][name]["errors"][:3]
    except (KeyboardInterrupt, Stop) as e:
        stop.set()
        print("daemon-bench: interrupted (%s), cleaning up" % (e or "SIGINT"), file=sys.stderr)
        rc = 130
    except Exception as e:  # noqa: BLE001 -- cleaned up, then reported
        stop.set()
        print("daemon-bench: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        if peers["shoal"].proc is not None:
            sys.stderr.write("--- shoald log (tail) ---\n" + peers["shoal"].log_tail() + "\n")
        rc = 1
    finally:
        stop.set()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        # A worker takes no new item once stop is set; the one it holds ends
        # within its own bound (a UML boot: 60 s).
        join_workers(90)
        status, left = peers["shoal"].cleanup()
        res["left"]["shoald_status"] = status
        res["left"]["instances"] = left
        for name in ("netns", "uml"):
            if name in peers:
                res["left"]["namespaces"] += peers[name].cleanup()[1]
        if os.path.exists("/run/netns/" + peers["shoal"].netns):
            res["left"]["namespaces"] += 1
        shutil.rmtree(tmp, ignore_errors=True)
        res["conditions"]["loadavg_end"] = loadavg()
    if rc:
        return rc
    print(json.dumps(res, indent=1) if args.json else table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
