#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""job-bench: what running a program in a Shoal instance costs, beside peers.

Measured in one run, side by side:

  exec round trip   from the `exec` request to its `exec_exit` for /bin/true
                    and `python3 -c pass`, in a real shoal-instance (driven
                    through `shoal-instance --stdio`, whose relay adds two
                    local hops), against the same programs started natively
                    (posix_spawn + waitpid) and under bubblewrap (bwrap with
                    fresh namespaces and a read-only /usr);
  system calls      job-probe (tests/bench/job-probe.c, static), the same
                    binary run natively and as a job (put into the
                    instance's /tmp): a 1-byte write + read on a pipe
                    (forwarded: served by the instance kernel), getppid (a
                    host call the filter lets through) and getpriority (a host
                    call trapped and run by the shim), per call; in the
                    instance twice: as jobs run (hot call sites rewritten
                    into calls of the shim after a few traps,
                    instance/jobshim/patch.c) and with SHOAL_SHIM_PATCH=0
                    in the job's environment ("traps only": every such
                    call pays for a SIGSYS).

Nothing here passes or fails on time: it prints figures (a table, or JSON
with --json) and exits 0 unless something could not be measured.
"""
import argparse
import base64
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_INSTANCE = os.path.join(ROOT, "build", "instance", "shoal-instance")
DEFAULT_PROBE = os.path.join(ROOT, "build", "tests", "bench", "job-probe")

class Instance:
    """A shoal-instance behind its --stdio relay: one JSON message per line."""

    def __init__(self, binary, timeout):
        self.timeout = timeout
        self.proc = subprocess.Popen([binary, "--stdio"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)
        self.buf = b""
        self.next_id = 1
        self.read_until(lambda m: m.get("type") == "hello")
        self.request({"type": "configure", "instance_id": "job-bench-%d" % os.getpid(),
                      "memory_mib": 128,
                      "keep_on_supervisor_exit": False})
        self.read_until(lambda m: m.get("type") == "ready")

    def send(self, msg):
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")

    def read(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message from the instance in time")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise EOFError("the instance ended")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def read_until(self, pred):
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self.read(deadline)
            if msg.get("type") == "fatal":
                raise RuntimeError("instance fatal: %s" % msg)
            if pred(msg):
                return msg

    def request(self, msg):
        msg["id"] = self.next_id
        self.next_id += 1
        self.send(msg)
        reply = self.read_until(lambda m: m.get("id") == msg["id"])
        if reply["type"] != "ok":
            raise RuntimeError("%s: %s" % (msg["type"], reply))
        return reply.get("result", {})

    def put(self, path, data, mode):
        """file_put in 64 KiB chunks; waits for the ok."""
        rid = self.next_id
        self.next_id += 1
        self.send({"type": "file_put", "id": rid, "path": path, "size": len(data), "mode": mode})
        for off in range(0, len(data), 65536):
            self.send({"type": "file_chunk", "stream": rid, "offset": off,
                       "data": base64.b64encode(data[off:off + 65536]).decode()})
        self.send({"type": "file_end", "stream": rid})
        reply = self.read_until(lambda m: m.get("id") == rid)
        if reply["type"] != "ok":
            raise RuntimeError("file_put %s: %s" % (path, reply))

    def run(self, argv, env=None):
        """exec request -> exec_exit; returns (seconds, stdout bytes, exit)."""
        t = time.perf_counter()
        req = {"type": "exec", "argv": argv}
        if env is not None:
            req["env"] = env
        job = self.request(req)["job"]
        out = b""
        while True:
            msg = self.read_until(lambda m: m.get("job") == job)
            if msg["type"] == "exec_output" and msg["stream"] == "stdout":
                out += base64.b64decode(msg["data"])
            if msg["type"] == "exec_exit":
                return time.perf_counter() - t, out, msg

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=self.timeout)
        except (subprocess.TimeoutExpired, OSError):
            self.proc.kill()
            self.proc.wait()


def spawn_wait(argv):
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    os.waitpid(pid, 0)
    return time.perf_counter() - t


BWRAP = ["/usr/bin/bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
         "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
         "--symlink", "usr/sbin", "/sbin", "--ro-bind", "/etc", "/etc", "--proc", "/proc",
         "--dev", "/dev", "--tmpfs", "/tmp", "--unshare-all", "--die-with-parent", "--"]


def summary(samples):
    s = sorted(samples)
    return {"median_ms": statistics.median(s) * 1e3,
            "p99_ms": s[min(len(s) - 1, int(len(s) * 0.99))] * 1e3, "runs": len(s)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instance", default=DEFAULT_INSTANCE)
    ap.add_argument("--runs", type=int, default=50, help="exec round trips per program and peer")
    ap.add_argument("--probe", default=DEFAULT_PROBE, help="the static job-probe binary")
    ap.add_argument("--calls", type=int, default=100000, help="loop iterations of the call probe")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    if not (1 <= args.runs <= 10000 and 1 <= args.calls <= 10_000_000):
        ap.error("--runs 1..10000, --calls 1..10000000")
    python = "/usr/bin/python3"
    programs = {"true": ["/bin/true"], "python3": [python, "-c", "pass"]}
    have_bwrap = os.access(BWRAP[0], os.X_OK)

    result = {"exec": {}, "calls": {}}
    inst = Instance(args.instance, args.timeout)
    try:
        for name, argv in programs.items():
            row = {}
            shoal = []
            for _ in range(args.runs):
                dt, _, ex = inst.run(argv)
                if ex.get("exit_code") != 0:
                    raise RuntimeError("%s in the instance: %s" % (argv, ex))
                shoal.append(dt)
            row["shoal"] = summary(shoal)
            row["native"] = summary([spawn_wait(argv) for _ in range(args.runs)])
            if have_bwrap:
                row["bwrap"] = summary([spawn_wait(BWRAP + argv) for _ in range(args.runs)])
            result["exec"][name] = row
        with open(args.probe, "rb") as f:
            inst.put("/tmp/job-probe", f.read(), 0o755)
        for peer, env in (("shoal", None), ("shoal_trapped", ["SHOAL_SHIM_PATCH=0"])):
            _, out, ex = inst.run(["/tmp/job-probe", str(args.calls)], env)
            if ex.get("exit_code") != 0:
                raise RuntimeError("call probe in the instance: %s" % ex)
            result["calls"][peer] = json.loads(out)
    finally:
        inst.close()
    result["calls"]["native"] = json.loads(subprocess.run(
        [args.probe, str(args.calls)], check=True, capture_output=True).stdout)

    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print("exec round trip (request to exit status), %d runs" % args.runs)
    print("  %-10s %-8s %10s %10s" % ("program", "peer", "median ms", "p99 ms"))
    for name, row in result["exec"].items():
        for peer, s in row.items():
            print("  %-10s %-8s %10.2f %10.2f" % (name, peer, s["median_ms"], s["p99_ms"]))
    print("system calls (job-probe, best of 3 loops of %d, per call)" % args.calls)
    print("  %-40s %10s %12s %10s" % ("call", "shoal ns", "traps only", "native ns"))
    calls = result["calls"]
    for key, label in (("pipe_call_ns", "1-byte pipe write or read (forwarded)"),
                       ("getppid_ns", "getppid (host, not trapped)"),
                       ("trapped_host_ns", "getpriority (host, trapped)")):
        print("  %-40s %10.0f %12.0f %10.0f" % (label, calls["shoal"][key],
                                                calls["shoal_trapped"][key], calls["native"][key]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
