#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The shoal CLI ($SHOAL_BUILD/clients/shoal) against a real shoald with real
instances: every verb's exit codes, --json output parsed (and checked against
api/openapi.yaml where it is the daemon's shape), the errors when the daemon
is down or the socket is wrong, and usage errors. Verbs whose endpoint this
daemon lacks are checked to say so in one line with exit 1, and are tested
for real once the daemon has the endpoint. Runner protocol: tests/README.md.
"""

import json
import os
import random
import re
import socket
import sys
import tempfile

sys.dont_write_bytecode = True  # nothing of ours lands in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shoaltest import (  # noqa: E402
    CLI, JOBSHIM, Fail, case, check, cli, conforms, jobs_may_be_unsupported, main,
    pid_is_instance, with_daemon)

VERBS = ["run", "create", "ls", "inspect", "exec", "execs", "cp", "rm", "update", "logs", "events",
         "stats", "bench", "version"]
ID_RE = re.compile(r"^i-[0-9a-f]{16}$")


def unsupported(r, verb):
    """The one-line answer to a verb whose endpoint the daemon lacks."""
    check(r.rc == 1, "want exit 1 for an unsupported endpoint: %r" % r)
    check(("shoal: %s: this shoald does not support" % verb) in r.err, "message: %r" % r)
    check(len(r.err.strip().splitlines()) == 1, "one line: %r" % r)


# ---- without a daemon


@case()
def help_everywhere():
    """--help of the tool and of every verb: exit 0, a usage line on stdout."""
    top = cli("--help", want=0)
    check(top.out.startswith("usage: shoal") and "Exit codes" in top.out, "%r" % top)
    for verb in VERBS:
        check(("\n  %s " % verb) in top.out, "%s missing from shoal --help" % verb)
        r = cli(verb, "--help", want=0)
        check(r.out.startswith("usage: shoal") and (" %s " % verb) in r.out, "%r" % r)
        r = cli(verb, "-h", want=0)
    r = cli("--version", want=0)
    check(r.out.startswith("shoal "), "%r" % r)


@case()
def usage_errors_exit_2():
    """Bad command lines exit 2 with a message and a pointer to --help, before
    any daemon is asked (the socket here does not exist)."""
    bad = [
        [], ["frobnicate"], ["--bogus"], ["ls", "--bogus"], ["ls", "extra"],
        ["ls", "--state", "sleeping"], ["ls", "--label", "novalue"], ["create", "--memory", "x"],
        ["create", "--label", "=v"], ["create", "--ttl", "-1"], ["create", "extra"],
        ["inspect"], ["rm"], ["rm", "--all", "i-0123456789abcdef"], ["rm", "--label", "x"],
        ["exec"], ["exec", "i-0123456789abcdef"], ["exec", "i-0123456789abcdef", "--"],
        ["exec", "-T", "0", "i-0123456789abcdef", "--", "true"],
        ["exec", "-e", "NOEQUALS", "i-0123456789abcdef", "--", "true"],
        ["cp"], ["cp", "a"], ["cp", "a", "b"], ["cp", "i-0123456789abcdef:/a", "i-1:/b"],
        ["cp", "a", "b", "c"], ["logs"], ["events", "x"], ["stats", "--interval", "0"],
        ["version", "x"], ["run", "-e", "A=B"], ["--socket", ""],
        ["update", "i-0123456789abcdef"], ["update", "--ttl", "0", "i-0123456789abcdef"],
        ["update", "--ttl", "5", "--no-ttl", "i-0123456789abcdef"],
        ["update", "-u", "a=b", "i-0123456789abcdef"], ["update", "-l", "x=y"],
        ["execs"], ["execs", "a", "b"], ["bench", "-n", "0"], ["bench", "-c", "1000"], ["bench", "--svg"],
    ]
    for args in bad:
        r = cli(*args, sock="/nonexistent/shoald.sock" if args[:1] != ["--socket"] else None)
        check(r.rc == 2, "want exit 2: %r" % r)
        check(r.err.strip(), "no message: %r" % r)
        check("Traceback" not in r.err and "Segmentation" not in r.err, "%r" % r)


@case()
def daemon_down_exit_3():
    """No socket, a socket nobody listens on, a path that is not a socket: exit 3
    and one line naming the path, for every verb that asks the daemon."""
    tmp = tempfile.mkdtemp(prefix="shoal-clients-")
    try:
        stale = os.path.join(tmp, "stale.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)  # bound, never listening: connect is refused
        plain = os.path.join(tmp, "plain")
        open(plain, "w").close()
        cases = [
            (os.path.join(tmp, "missing.sock"), "is it running"),
            (stale, "nothing listens there"),
            (plain, "is not a socket"),
        ]
        calls = [["ls"], ["ls", "--json"], ["create"], ["inspect", "i-0123456789abcdef"],
                 ["rm", "i-0123456789abcdef"], ["rm", "--all"], ["version"],
                 ["exec", "i-0123456789abcdef", "--", "true"], ["run", "--rm", "--", "true"],
                 ["logs", "i-0123456789abcdef"], ["events"], ["stats", "--no-stream"],
                 ["cp", "/etc/hostname", "i-0123456789abcdef:/tmp/x"]]
        for path, words in cases:
            for args in calls:
                r = cli(*args, sock=path, want=3)
                last = r.err.strip().splitlines()[-1]
                check(path in last and words in last, "message %r for %r" % (last, r))
        # $SHOAL_SOCKET is read when --socket is not given, and --socket wins over it.
        r = cli("ls", env={"SHOAL_SOCKET": stale}, want=3)
        check(stale in r.err, "%r" % r)
        r = cli("ls", sock=plain, env={"SHOAL_SOCKET": stale}, want=3)
        check(plain in r.err, "%r" % r)
        s.close()
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


# ---- with a daemon


@case(timeout=60)
def daemon_dies_mid_exec():
    """The daemon killed while exec streams: exit 3 and one line that says so."""
    import signal
    import subprocess
    import time
    from shoaltest import Daemon
    d = Daemon()
    pids = []
    iid = None
    try:
        iid = cli("create", sock=d.sock, want=0).out.strip()
        pids.append(d.client.get(iid)["pid"])
        p = subprocess.Popen([CLI, "--socket", d.sock, "exec", iid, "--", "sh", "-c",
                              "echo up; sleep 20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = p.stdout.readline()
            if line != b"up\n":
                check(jobs_may_be_unsupported(), "exec did not start: %r" % p.stderr.read())
                return
            d.proc.send_signal(signal.SIGKILL)
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 3, "exit %r, stderr %r" % (p.returncode, err))
        check(err.decode().startswith("shoal: exec: shoald at ") and
              b"closed the connection" in err and err.count(b"\n") == 1, "%r" % err)
    finally:
        d.proc.kill()
        d.proc.wait(10)
        for pid in pids:  # instances outlive a killed daemon (it re-adopts them)
            if pid_is_instance(pid):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(pid_is_instance(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Its monitor was killed too, and no daemon is left to sweep its cgroups:
        # kill what they still hold (the instance and its zygote die a moment
        # after the monitor) and remove them, bounded.
        for base in ("/sys/fs/cgroup/shoal", "/sys/fs/cgroup/memory/shoal",
                     "/sys/fs/cgroup/pids/shoal"):
            path = os.path.join(base, iid) if iid else None
            deadline = time.monotonic() + 10
            while path and os.path.isdir(path) and time.monotonic() < deadline:
                try:
                    os.rmdir(path)
                except OSError:
                    try:
                        with open(os.path.join(path, "cgroup.procs")) as f:
                            for pid in f.read().split():
                                os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
                    time.sleep(0.05)
        d.cleanup()


@case()
@with_daemon()
def version_text_and_json(d):
    r = cli("version", sock=d.sock, want=0)
    check(r.out.startswith("client: shoal ") and "daemon: shoald " in r.out, "%r" % r)
    check(d.sock in r.out, "socket path not shown: %r" % r)
    v = cli("version", "--json", sock=d.sock, want=0).json()
    check(v["daemon"] == d.client.version() and v["client"], "%r" % v)
    conforms("Version", v["daemon"])
    r = cli("version", env={"SHOAL_SOCKET": d.sock}, want=0)


@case(timeout=120)
@with_daemon()
def create_ls_inspect_rm(d):
    r = cli("create", "-l", "team=core", "--label", "job=cli-1", "-m", "32", "--ttl", "600",
            sock=d.sock, want=0)
    iid = r.out.strip()
    check(ID_RE.match(iid), "create printed %r" % r.out)
    inst = cli("create", "--json", "-l", "team=other", sock=d.sock, want=0).json()
    conforms("Instance", inst)
    other = inst["id"]
    check(inst["state"] == "running" and inst["labels"] == {"team": "other"}, "%r" % inst)
    check(pid_is_instance(inst["pid"]), "pid %r is not a live instance" % inst["pid"])

    # ls: a table for people with a header and one row per instance.
    out = cli("ls", sock=d.sock, want=0).out.splitlines()
    check(out[0].split()[:3] == ["ID", "STATE", "PID"], "header %r" % out[0])
    rows = {line.split()[0]: line for line in out[1:]}
    check(set(rows) == {iid, other}, "rows %r" % out)
    check("running" in rows[iid] and "32 MiB" in rows[iid] and "team=core" in rows[iid],
          "row %r" % rows[iid])
    # --json is the daemon's shape; filters work on the server and together.
    lst = cli("ls", "--json", sock=d.sock, want=0).json()
    conforms("InstanceList", lst)
    check([i["id"] for i in lst["instances"]] == [iid, other], "%r" % lst)
    lst = cli("ls", "--json", "--label", "team=core", sock=d.sock, want=0).json()
    check([i["id"] for i in lst["instances"]] == [iid], "label filter %r" % lst)
    lst = cli("ls", "--json", "-l", "team=core", "-l", "job=cli-1", "--state", "running",
              sock=d.sock, want=0).json()
    check([i["id"] for i in lst["instances"]] == [iid], "two labels and state %r" % lst)
    lst = cli("ls", "--json", "--state", "failed", sock=d.sock, want=0).json()
    check(lst["instances"] == [], "state filter %r" % lst)
    r = cli("ls", "-q", sock=d.sock, want=0)
    check(r.out.split() == [iid, other], "-q %r" % r)

    # inspect: one id is one object, several an array; a unique prefix is enough.
    got = cli("inspect", iid, sock=d.sock, want=0).json()
    conforms("Instance", got)
    check(got["id"] == iid and got["memory_mib"] == 32 and got["ttl_s"] == 600, "%r" % got)
    got = cli("inspect", iid[2:8], sock=d.sock, want=0).json()
    check(got["id"] == iid, "prefix %r" % got)
    both = cli("inspect", iid, other, sock=d.sock, want=0).json()
    check([i["id"] for i in both] == [iid, other], "%r" % both)
    r = cli("inspect", "-f", "pid", iid, sock=d.sock, want=0)
    check(r.out.strip() == str(got["pid"]), "%r" % r)
    r = cli("inspect", "-f", "nosuchfield", iid, sock=d.sock, want=2)
    r = cli("inspect", "-f", "state", iid, other, sock=d.sock, want=0)
    check(r.out.split() == ["running", "running"], "%r" % r)
    r = cli("inspect", "i-0000000000000000", sock=d.sock, want=1)
    check("not_found" in r.err and "i-0000000000000000" in r.err, "%r" % r)
    r = cli("inspect", "zz", sock=d.sock, want=1)
    check("not an instance id" in r.err, "%r" % r)

    # rm of several ids: each printed, each destroyed, its process gone.
    r = cli("rm", iid, other, sock=d.sock, want=0)
    check(r.out.split() == [iid, other], "%r" % r)
    check(not pid_is_instance(inst["pid"]), "pid %d alive after rm" % inst["pid"])
    for i in (iid, other):
        check(d.client.get(i)["state"] == "destroyed", "%s not destroyed" % i)
    out = cli("ls", sock=d.sock, want=0).out.splitlines()
    check(len(out) == 1, "alive after rm: %r" % out)
    lst = cli("ls", "--all", "--json", sock=d.sock, want=0).json()
    check({i["state"] for i in lst["instances"]} == {"destroyed"}, "--all %r" % lst)
    # An ended instance is still inspectable; rm of an unknown id is exit 1.
    check(cli("inspect", iid, sock=d.sock, want=0).json()["reason"] == "destroyed by request",
          "reason")
    r = cli("rm", "i-0000000000000000", sock=d.sock, want=1)
    check("not_found" in r.err, "%r" % r)


@case(timeout=120)
@with_daemon()
def rm_several_all_and_label(d):
    ids = [cli("create", "-l", "grp=%s" % g, sock=d.sock, want=0).out.strip()
           for g in ("a", "a", "b", "c")]
    # Several ids with an unknown one among them: the others still go, exit 1.
    r = cli("rm", ids[3], "i-0000000000000000", sock=d.sock, want=1)
    check(r.out.split() == [ids[3]], "%r" % r)
    check(d.client.get(ids[3])["state"] == "destroyed", "rm went on after the error")
    r = cli("rm", "--label", "grp=a", sock=d.sock, want=0)
    check(sorted(r.out.split()) == sorted(ids[:2]), "--label %r" % r)
    alive = [i["id"] for i in d.client.list(all=False)]
    check(alive == [ids[2]], "alive after --label: %r" % alive)
    r = cli("rm", "--all", sock=d.sock, want=0)
    check(r.out.split() == [ids[2]], "--all %r" % r)
    check(d.client.list(all=False) == [], "alive after --all")
    r = cli("rm", "--all", sock=d.sock, want=0)
    check(r.out == "", "nothing left to remove: %r" % r)


@case()
@with_daemon("--max-instances", "1")
def api_errors_exit_1(d):
    """The daemon's refusals: one line with its code and the HTTP status, exit 1."""
    r = cli("create", "--memory", "8", sock=d.sock, want=1)
    check(re.match(r"shoal: create: invalid_value: .*memory_mib.* \(HTTP 400\)$", r.err.strip()),
          "%r" % r)
    r = cli("create", "--label", "bad key=x", sock=d.sock, want=1)
    check("invalid_value" in r.err, "%r" % r)
    iid = cli("create", sock=d.sock, want=0).out.strip()
    r = cli("create", sock=d.sock, want=1)
    check("too_many_instances" in r.err and "HTTP 429" in r.err, "%r" % r)
    r = cli("run", sock=d.sock, want=1)
    check("too_many_instances" in r.err, "%r" % r)
    cli("rm", iid, sock=d.sock, want=0)


@case(timeout=60)
@with_daemon()
def network_instances(d):
    """create --network: an address, shown by ls; without: "-"."""
    r = cli("create", "--network", "--json", sock=d.sock)
    if r.rc == 1 and "unsupported" in r.err:
        return
    check(r.rc == 0, "%r" % r)
    inst = r.json()
    check(inst["network"] is True and inst.get("address"), "%r" % inst)
    plain = cli("create", sock=d.sock, want=0).out.strip()
    rows = {line.split()[0]: line.split() for line in
            cli("ls", sock=d.sock, want=0).out.splitlines()[1:]}
    check(rows[inst["id"]][3] == inst["address"] and rows[plain][3] == "-", "%r" % rows)
    cli("rm", "--all", sock=d.sock, want=0)


IMAGE_DIR = "/tmp/shoal-clients-images-%d" % os.getpid()


def with_image_daemon(fn):
    """Run @fn with a daemon serving IMAGE_DIR, which holds data.ext4 (16 MiB, empty)."""
    import shutil
    import subprocess

    def run():
        from shoaltest import daemon_has
        if not daemon_has("--image-dir"):
            print("this shoald has no --image-dir")
            sys.exit(77)
        os.makedirs(IMAGE_DIR)
        try:
            img = os.path.join(IMAGE_DIR, "data.ext4")
            with open(img, "wb") as f:
                f.truncate(16 << 20)
            subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True, timeout=30,
                           capture_output=True)
            with_daemon("--image-dir", IMAGE_DIR)(fn)()
        finally:
            shutil.rmtree(IMAGE_DIR, ignore_errors=True)
    run.__name__ = fn.__name__
    return run


@case(timeout=90)
@with_image_daemon
def disks_and_env(d):
    """create -D IMAGE:/PATH[:ro] mounts a disk image, -e sets the environment of
    every job; what one instance wrote, the next reads; :ro refuses writes."""
    iid = cli("create", "-e", "GREETING=hi", "-D", "data.ext4:/data", sock=d.sock,
              want=0).out.strip()
    got = d.client.get(iid)
    check(got.get("disks") == [{"image": "data.ext4", "mount_point": "/data",
                                "read_only": False}], "%r" % got.get("disks"))
    r = cli("exec", iid, "--", "sh", "-c", "echo $GREETING; echo stored > /data/f", sock=d.sock)
    if r.rc == 1 and "does not support" in r.err:
        check(jobs_may_be_unsupported(), "jobs refused although %s is built" % JOBSHIM)
        cli("rm", iid, sock=d.sock, want=0)
        return
    check(r.rc == 0 and r.out == "hi\n", "%r" % r)
    cli("rm", iid, sock=d.sock, want=0)
    iid = cli("create", "--disk", "data.ext4:/data:ro", sock=d.sock, want=0).out.strip()
    r = cli("exec", iid, "--", "cat", "/data/f", sock=d.sock, want=0)
    check(r.out == "stored\n", "%r" % r)
    r = cli("exec", iid, "--", "sh", "-c", "echo x > /data/g", sock=d.sock)
    check(r.rc != 0 and "Read-only" in r.err, "%r" % r)
    r = cli("create", "-D", "nope.img:/x", sock=d.sock, want=1)
    check("not_found" in r.err, "%r" % r)
    cli("create", "-D", "nocolon", sock=d.sock, want=2)
    cli("rm", "--all", sock=d.sock, want=0)


@case(timeout=60)
@with_daemon()
def update_ttl_and_labels(d):
    """update: labels edited one by one (the daemon replaces the set), TTL set
    and removed; an ended instance cannot change (exit 1)."""
    iid = cli("create", "-l", "a=1", "-l", "b=2", sock=d.sock, want=0).out.strip()
    r = cli("update", iid, "-l", "c=3", "-u", "a", "--ttl", "100", sock=d.sock)
    if r.rc == 1 and "does not support" in r.err:
        unsupported(r, "update")
        cli("rm", iid, sock=d.sock, want=0)
        return
    check(r.rc == 0 and r.out.strip() == iid, "%r" % r)
    got = d.client.get(iid)
    check(got["labels"] == {"b": "2", "c": "3"} and got["ttl_s"] == 100, "%r" % got)
    got = cli("update", iid[2:10], "--no-ttl", "--json", sock=d.sock, want=0).json()
    check(got["ttl_s"] is None and got["expires_ms"] is None, "%r" % got)
    r = cli("update", iid, "-l", "bad key=x", sock=d.sock, want=1)
    check("invalid_value" in r.err, "%r" % r)
    cli("rm", iid, sock=d.sock, want=0)
    r = cli("update", iid, "--ttl", "5", sock=d.sock, want=1)
    check(r.err.count("\n") == 1, "%r" % r)


@case(timeout=120)
@with_daemon()
def run_without_command(d):
    """run without a command creates and prints the id; with --rm it also removes."""
    r = cli("run", "-l", "via=run", "-m", "48", sock=d.sock, want=0)
    iid = r.out.strip()
    check(ID_RE.match(iid), "%r" % r)
    got = d.client.get(iid)
    check(got["state"] == "running" and got["memory_mib"] == 48 and got["labels"] == {"via": "run"},
          "%r" % got)
    r = cli("run", "--rm", sock=d.sock, want=0)
    gone = r.out.strip()
    check(d.client.get(gone)["state"] == "destroyed", "run --rm left %s" % gone)
    cli("rm", iid, sock=d.sock, want=0)


@case(timeout=180)
@with_daemon()
def exec_and_run(d):
    """exec: output relayed live on the right streams, the job's exit code, -i
    stdin, --json events; run --rm -- CMD runs and removes. On a daemon without
    the exec endpoint both say so in one line, exit 1, and run --rm still
    removes its instance."""
    iid = cli("create", sock=d.sock, want=0).out.strip()
    # The route may exist while the instance cannot run jobs yet (501 from the
    # instance): both are "not supported" for the user, and said the same way.
    first = cli("exec", "-T", "5", iid, "--", "true", sock=d.sock, timeout=50)
    if first.rc == 1 and "does not support" in first.err:
        check(jobs_may_be_unsupported(), "jobs refused although %s is built: %r" % (JOBSHIM, first))
        unsupported(first, "exec")
        unsupported(cli("exec", iid[2:9], "echo", "hi", sock=d.sock, timeout=30), "exec")
        r = cli("run", "--rm", "-l", "via=run", "--", "true", sock=d.sock, timeout=30)
        unsupported(r, "run")
        left = d.client.list(labels={"via": "run"}, all=False)
        check(left == [], "run --rm left %r" % left)
        cli("rm", iid, sock=d.sock, want=0)
        return
    check(first.rc == 0 and first.out == "" and first.err == "", "exec true: %r" % first)
    r = cli("exec", iid, "--", "sh", "-c", "echo out; echo err >&2; exit 7", sock=d.sock)
    check(r.rc == 7 and r.out == "out\n" and r.err == "err\n", "%r" % r)
    # Streaming: the first line is on our stdout while the job still runs.
    import subprocess
    import time
    p = subprocess.Popen([CLI, "--socket", d.sock, "exec", iid, "--", "sh", "-c",
                          "echo first; sleep 2; echo second"], stdout=subprocess.PIPE)
    try:
        t0 = time.monotonic()
        first = p.stdout.readline()
        early = time.monotonic() - t0
        rest = p.stdout.read()
        rc = p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(first == b"first\n" and rest == b"second\n" and rc == 0, "%r %r %r" % (first, rest, rc))
    check(early < 1.5, "the first line came after %.1fs: output is not live" % early)
    # Order across streams is kept chunk by chunk.
    r = cli("exec", iid, "--", "sh", "-c", "for i in 1 2 3; do echo o$i; sleep 0.1; done",
            sock=d.sock, want=0)
    check(r.out == "o1\no2\no3\n", "%r" % r)
    r = cli("exec", "-T", "1", iid, "--", "sleep", "10", sock=d.sock, timeout=40)
    check(r.rc == 137 and "timed out" in r.err, "timeout: %r" % r)
    r = cli("exec", iid, "--", "sh", "-c", "kill -TERM $$", sock=d.sock)
    check(r.rc == 143, "signal 15: %r" % r)
    r = cli("exec", iid[2:10], "--", "cat", sock=d.sock, want=0)
    check(r.out == "", "cat without -i reads nothing: %r" % r)
    data = "".join(random.choice("abcdef\n") for _ in range(5000))
    r = cli("exec", "-i", iid, "--", "cat", input=data, sock=d.sock, want=0)
    check(r.out == data, "stdin round trip")
    r = cli("exec", "-e", "GREETING=hi", "-w", "/tmp", iid, "--", "sh", "-c",
            "echo $GREETING; pwd", sock=d.sock, want=0)
    check(r.out == "hi\n/tmp\n", "%r" % r)
    r = cli("exec", "--json", iid, "--", "sh", "-c", "echo a; echo b >&2", sock=d.sock, want=0)
    events = [json.loads(line) for line in r.out.splitlines()]
    check(events and ("exit_code" in events[-1]), "%r" % events)
    # The records of what ran, newest last.
    recs = cli("execs", "--json", iid, sock=d.sock, want=0).json()
    conforms("ExecList", recs)
    check(recs["execs"][-1]["argv"] == ["sh", "-c", "echo a; echo b >&2"], "%r" % recs)
    lines = cli("execs", iid[2:10], sock=d.sock, want=0).out.splitlines()
    check(lines[0].split()[0] == "EXEC" and "exit 7" in "\n".join(lines), "%r" % lines)
    check(lines[-1].rstrip().endswith("sh -c echo a; echo b >&2"), "%r" % lines[-1])
    r = cli("exec", iid, "--", "/nonexistent/program", sock=d.sock)
    check(r.rc != 0 and r.err.strip(), "%r" % r)
    r = cli("run", "--rm", "-l", "via=run", "--", "sh", "-c", "echo ran; exit 3", sock=d.sock)
    check(r.rc == 3 and r.out == "ran\n", "%r" % r)
    check(d.client.list(labels={"via": "run"}, all=False) == [], "run --rm left an instance")
    # Ctrl-C during exec goes to the job, which decides how to end; we relay
    # its last words and exit with its status.
    if d.supports("POST", "/v1/instances/i-0000000000000000/exec/signal"):
        p = subprocess.Popen([CLI, "--socket", d.sock, "exec", iid, "--", "sh", "-c",
                              'trap "echo got INT; exit 9" INT; echo ready; '
                              'while true; do sleep 0.1; done'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(p.stdout.readline() == b"ready\n", "the job did not start")
            p.send_signal(2)
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 9 and out == b"got INT\n", "forwarded SIGINT: %r %r %r" %
              (p.returncode, out, err))
    # Ctrl-C during run --rm: the instance still goes, and the status says SIGINT.
    p = subprocess.Popen([CLI, "--socket", d.sock, "run", "--rm", "-l", "via=int", "--",
                          "sleep", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_alive = time.monotonic() + 10
        while not d.client.list(labels={"via": "int"}, all=False):
            check(time.monotonic() < wait_for_alive, "run --rm never created its instance")
            time.sleep(0.05)
        time.sleep(0.3)
        p.send_signal(2)
        rc = p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(rc == 130, "run --rm after SIGINT exited %r" % rc)
    check(d.client.list(labels={"via": "int"}, all=False) == [], "SIGINT left the instance")
    cli("rm", iid, sock=d.sock, want=0)


@case(timeout=120)
@with_daemon()
def cp_round_trip(d):
    """cp host -> instance -> host is byte-identical (binary, 1 MiB), also via
    stdin/stdout and into a folder; unsupported daemons get one line, exit 1."""
    iid = cli("create", sock=d.sock, want=0).out.strip()
    tmp = tempfile.mkdtemp(prefix="shoal-clients-cp-")
    try:
        src = os.path.join(tmp, "blob.bin")
        data = os.urandom(1 << 20)
        with open(src, "wb") as f:
            f.write(data)
        if not d.supports("GET", "/v1/instances/i-0000000000000000/files?path=/x"):
            # A small file: this daemon refuses large bodies before it looks at the route.
            unsupported(cli("cp", "/etc/hostname", iid + ":/tmp/blob.bin", sock=d.sock), "cp")
            unsupported(cli("cp", iid + ":/tmp/blob.bin", os.path.join(tmp, "back"),
                            sock=d.sock), "cp")
            check(sorted(os.listdir(tmp)) == ["blob.bin"], "cp left files: %r" % os.listdir(tmp))
            return
        cli("cp", src, iid + ":/tmp/blob.bin", sock=d.sock, want=0)
        # Missing folders: refused, unless -p makes them.
        r = cli("cp", src, iid + ":/tmp/new/dir/blob.bin", sock=d.sock, want=1)
        check("not_found" in r.err, "%r" % r)
        cli("cp", "-p", src, iid + ":/tmp/new/dir/blob.bin", sock=d.sock, want=0)
        r = cli("cp", "-", iid + ":/tmp/", input=b"x", sock=d.sock, want=1)
        check("invalid_value" in r.err, "a folder path for stdin: %r" % r)
        r = cli("cp", tmp, iid + ":/tmp/x", sock=d.sock, want=1)
        check("is a folder" in r.err, "%r" % r)
        back = os.path.join(tmp, "back.bin")
        cli("cp", iid[2:9] + ":/tmp/blob.bin", back, sock=d.sock, want=0)
        with open(back, "rb") as f:
            check(f.read() == data, "round trip differs")
        cli("cp", iid + ":/tmp/new/dir/blob.bin", back, sock=d.sock, want=0)
        with open(back, "rb") as f:
            check(f.read() == data, "round trip through -p differs")
        # An instance folder path ending in '/' takes the host file's name.
        cli("cp", src, iid + ":/tmp/new/", sock=d.sock, want=0)
        cli("cp", iid + ":/tmp/new/blob.bin", back, sock=d.sock, want=0)
        cli("cp", "-", iid + ":/tmp/small", input=b"hello\n", sock=d.sock, want=0)
        r = cli("cp", iid + ":/tmp/small", "-", sock=d.sock, want=0)
        check(r.out == "hello\n", "%r" % r)
        os.mkdir(os.path.join(tmp, "dir"))
        cli("cp", iid + ":/tmp/small", os.path.join(tmp, "dir"), sock=d.sock, want=0)
        check(open(os.path.join(tmp, "dir", "small")).read() == "hello\n", "into a folder")
        r = cli("cp", iid + ":/tmp/does-not-exist", os.path.join(tmp, "nope"), sock=d.sock,
                want=1)
        check(not os.path.exists(os.path.join(tmp, "nope")), "a failed download left a file")
        check(not [n for n in os.listdir(tmp) if n.startswith(".shoal-cp-")], "temp file left")
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
        cli("rm", iid, sock=d.sock)


@case(timeout=60)
@with_daemon()
def logs_and_events(d):
    """logs prints the kernel console; events follows the stream. Without the
    endpoints: one line each, exit 1."""
    iid = cli("create", sock=d.sock, want=0).out.strip()
    if d.supports("GET", "/v1/instances/i-0000000000000000/logs"):
        r = cli("logs", iid[2:10], sock=d.sock, want=0, timeout=20)
        check(r.out.startswith("Linux version "), "console %r" % r.out[:200])
        check(r.out == d.client.logs(iid), "the CLI and the Python client disagree")
        # --follow prints what there is, then waits; SIGINT ends it with status 0.
        import subprocess
        import time
        p = subprocess.Popen([CLI, "--socket", d.sock, "logs", "-f", iid],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1)
        p.send_signal(2)
        out, err = p.communicate(timeout=10)
        check(p.returncode == 0 and out.decode() == r.out and not err, "logs -f: %r %r %r" %
              (p.returncode, out[:100], err))
        r = cli("logs", "i-0000000000000000", sock=d.sock, want=1)
    else:
        unsupported(cli("logs", iid, sock=d.sock), "logs")
    if d.supports("GET", "/v1/events"):
        import subprocess
        import time
        p = subprocess.Popen([CLI, "--socket", d.sock, "events", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(0.3)
            other = cli("create", sock=d.sock, want=0).out.strip()
            cli("rm", other, sock=d.sock, want=0)
            # Read the raw pipe (not a buffered reader, whose buffer select cannot see).
            buf, seen = b"", []
            end = time.monotonic() + 10
            import select
            while time.monotonic() < end and not any(
                    other in s and "destroyed" in s for s in seen):
                if select.select([p.stdout], [], [], 0.5)[0]:
                    chunk = os.read(p.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    buf += chunk
                    *lines, buf = buf.split(b"\n")
                    for line in lines:
                        json.loads(line)
                        seen.append(line.decode())
            check(any(other in s for s in seen), "no event about %s: %r" % (other, seen))
            types = [json.loads(s).get("type") for s in seen if other in s]
            check(types and "destroyed" in types[-1], "events of %s: %r" % (other, types))
        finally:
            p.kill()
            p.wait()
        # The stored events without following; text for people, --after skips.
        r = cli("events", "--no-follow", sock=d.sock, want=0, timeout=10)
        lines = [line for line in r.out.splitlines() if other in line]
        check(len(lines) >= 3 and "created" in lines[0] and "destroyed" in lines[-1], "%r" % r)
        allev = [json.loads(line) for line in
                 cli("events", "-N", "--json", sock=d.sock, want=0, timeout=10).out.splitlines()]
        last = allev[-1]["seq"]
        r = cli("events", "-N", "--json", "--after", str(last - 1), sock=d.sock, want=0)
        check([json.loads(line)["seq"] for line in r.out.splitlines()] == [last], "%r" % r)
        cli("events", "--after", "x", sock=d.sock, want=2)
    else:
        unsupported(cli("events", sock=d.sock, timeout=10), "events")
    cli("rm", iid, sock=d.sock, want=0)


@case(timeout=60)
@with_daemon()
def stats_one_sample(d):
    ids = [cli("create", sock=d.sock, want=0).out.strip() for _ in range(2)]
    s = cli("stats", "--json", sock=d.sock, want=0).json()
    got = {i["id"]: i for i in s["instances"]}
    check(set(got) == set(ids), "%r" % s)
    inside = d.supports("GET", "/v1/instances/i-0000000000000000/stats")
    for i in got.values():
        check(i["rss_kib"] > 0 and i["threads"] >= 1 and i["cpu_pct"] >= 0, "%r" % i)
        # The instance's process tree: monitor, kernel host, so more than one thread.
        check(i["threads"] >= 2, "only the monitor was counted: %r" % i)
        if inside:
            check(i["instance"]["memory"]["kernel_total_bytes"] > 0, "%r" % i)
        else:
            check("instance" not in i, "%r" % i)
    r = cli("stats", "--no-stream", ids[0][2:10], sock=d.sock, want=0)
    lines = r.out.splitlines()
    check(lines[0].split()[:2] == ["ID", "PID"] and ids[0] in lines[1] and len(lines) == 3,
          "%r" % r)
    check(lines[-1].startswith("1 instance,"), "%r" % r)
    check(("KiB" in lines[1] or "MiB" in lines[1].split("MiB", 1)[1]) if inside else True,
          "no kernel memory column: %r" % r)
    # Not a terminal: one sample and done, without --no-stream.
    r = cli("stats", sock=d.sock, want=0, timeout=10)
    cli("rm", *ids, sock=d.sock, want=0)
    s = cli("stats", "--json", sock=d.sock, want=0).json()
    check(s["instances"] == [], "%r" % s)


def complete(line, sock=None):
    """What clients/completion/shoal.bash offers for @line (the cursor at its end)."""
    import subprocess
    words = line.split(" ")
    script = (
        'PATH="%s:$PATH"; source clients/completion/shoal.bash; '
        'COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE=%s; COMP_POINT=${#COMP_LINE}; _shoal; '
        'printf "%%s\\n" "${COMPREPLY[@]}"' % (
            os.path.dirname(os.path.abspath(CLI)), " ".join("'%s'" % w for w in words),
            len(words) - 1, "'%s'" % line))
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       timeout=30, env={k: v for k, v in os.environ.items()
                                        if k != "SHOAL_SOCKET"})
    check(p.returncode == 0 and not p.stderr, "bash: %r" % p)
    return [w for w in p.stdout.decode().split("\n") if w]


@case()
@with_daemon()
def bash_completion(d):
    """Verbs, options, states, and instance ids asked of the daemon on --socket."""
    check(complete("shoal r") == ["run", "rm"], "%r" % complete("shoal r"))
    check(set(complete("shoal ")) == set(VERBS), "%r" % complete("shoal "))
    check(complete("shoal --so") == ["--socket"], "global option")
    check("--json" in complete("shoal ls --"), "ls options")
    check(complete("shoal ls --state r") == ["running"], "states")
    check("--rm" in complete("shoal run --"), "run options")
    check("--svg" in complete("shoal bench --"), "bench options")
    a = d.client.create()["id"]
    b = d.client.create()["id"]
    got = complete("shoal --socket %s rm " % d.sock)
    check(sorted(got) == sorted([a, b]), "ids %r" % got)
    got = complete("shoal --socket %s exec %s" % (d.sock, a[:6]))
    check(got == [a] or (a[:6] == b[:6] and a in got), "exec id %r" % got)
    check(complete("shoal --socket %s exec %s " % (d.sock, a)) == ["--"], "after the id")
    check("ls" in complete("shoal --socket %s exec %s -- l" % (d.sock, a)), "host commands")
    check(a + ":" in complete("shoal --socket %s cp " % d.sock), "cp ID:")
    # No daemon on the socket: nothing offered, nothing printed.
    check(complete("shoal --socket /nonexistent.sock rm ") == [], "ids without a daemon")
    d.client.rm(all=True)


@case(timeout=150)
def demo_script():
    """clients/demo.sh (make demo) runs end to end and leaves nothing behind."""
    import glob
    import subprocess
    if os.geteuid() != 0:
        print("needs root: instances lock themselves down with namespaces and cgroups")
        sys.exit(77)
    before = set(glob.glob("/tmp/shoal-demo.*"))
    p = subprocess.run(["clients/demo.sh"], capture_output=True, timeout=140)
    out = p.stdout.decode("utf-8", "replace")
    check(p.returncode == 0, "demo exited %d\n%s\n%s" % (p.returncode, out,
                                                        p.stderr.decode("utf-8", "replace")))
    for want in ("hello from i-", "10000 /tmp/numbers", "copied back to the host: 10000 lines",
                 "no instance process, socket, namespace or file left"):
        check(want in out, "%r missing from the demo's output:\n%s" % (want, out))
    sums = re.findall(r"\b([0-9a-f]{64})\b", out)
    check(len(sums) == 2 and sums[0] == sums[1], "checksums inside and on the host: %r" % sums)
    check(set(glob.glob("/tmp/shoal-demo.*")) == before, "the demo left its folder")


def check_svg(path, series):
    """A well-formed SVG document with one polyline per series that has samples."""
    import xml.etree.ElementTree as ET
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise Fail("%s is not well-formed XML: %s" % (path, e))
    ns = "{http://www.w3.org/2000/svg}"
    check(root.tag == ns + "svg", "root element %r" % root.tag)
    lines = root.findall(ns + "polyline")
    check(len(lines) == series, "%d polylines, want %d" % (len(lines), series))
    for pl in lines:
        pts = [tuple(map(float, p.split(","))) for p in pl.get("points").split()]
        check(len(pts) >= 2, "a CDF with %d points" % len(pts))
        ys = [y for _, y in pts]
        check(ys == sorted(ys, reverse=True), "a CDF must only rise (SVG y falls)")
        xs = [x for x, _ in pts]
        check(xs == sorted(xs), "a CDF must go left to right")
    texts = "".join(t.text or "" for t in root.iter(ns + "text"))
    check("create" in texts and "destroy" in texts, "legend %r" % texts)


@case(timeout=180)
@with_daemon()
def bench_twenty(d):
    """bench on 20 instances, 4 at a time: JSON report consistent, a valid SVG
    CDF; then --keep (all 20 alive at once) with memory; nothing left alive."""
    tmp = tempfile.mkdtemp(prefix="shoal-clients-bench-")
    try:
        svg = os.path.join(tmp, "cdf.svg")
        rep = cli("bench", "-n", "20", "-c", "4", "--json", "--svg", svg, "-m", "32",
                  sock=d.sock, want=0, timeout=150).json()
        check(rep["created"] == 20 and rep["destroyed"] == 20 and rep["failed"] == 0,
              "%r" % rep)
        check(rep["config"] == {"count": 20, "concurrency": 4, "keep": False, "memory_mib": 32,
                                "job": None}, "%r" % rep["config"])
        for op in ("create", "ready", "destroy"):
            lat = rep["latency_ms"][op]
            check(lat["n"] == 20, "%s: n %r" % (op, lat))
            check(0 <= lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"],
                  "%s percentiles out of order: %r" % (op, lat))
        check(rep["creates_per_s"] > 0 and rep["errors"] == [], "%r" % rep)
        check(rep["memory"]["daemon_rss_kib"] > 0, "%r" % rep["memory"])
        check_svg(svg, 3)
        check(d.client.list(all=False) == [], "bench left instances alive")

        rep = cli("bench", "-n", "20", "-c", "8", "--keep", "--json", sock=d.sock, want=0,
                  timeout=150).json()
        check(rep["created"] == 20 and rep["destroyed"] == 20, "%r" % rep)
        check(rep["memory"]["instance_rss_kib_mean"] > 0, "%r" % rep["memory"])
        rows = d.client.list()
        check(all(r["state"] == "destroyed" for r in rows) and len(rows) == 40,
              "%d rows, states %r" % (len(rows), {r["state"] for r in rows}))
        # A job in each instance: exec latencies, and a fourth series in the plot.
        r = cli("bench", "-n", "6", "-c", "3", "--json", "--svg", svg, "--", "sh", "-c",
                "echo hi", sock=d.sock, timeout=120)
        if r.rc == 1 and "does not support exec" in r.err:
            check(jobs_may_be_unsupported(), "jobs refused although %s is built" % JOBSHIM)
            check(r.json()["created"] >= 1, "%r" % r)
        else:
            rep = r.json()
            check(r.rc == 0 and rep["latency_ms"]["exec"]["n"] == 6, "%r" % r)
            check(rep["config"]["job"] == "sh", "%r" % rep["config"])
            check_svg(svg, 4)
        check(d.client.list(all=False) == [], "bench with a job left instances alive")
        # The text report for people.
        r = cli("bench", "-n", "2", sock=d.sock, want=0, timeout=60)
        check("creates/s" in r.out and "p99" in r.out and "create" in r.out, "%r" % r)
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


@case(timeout=60)
@with_daemon("--max-instances", "3")
def bench_counts_failures(d):
    """With --keep and room for 3, 5 creates: 3 succeed, 2 fail with the
    daemon's reason; all 3 are destroyed; exit 1."""
    r = cli("bench", "-n", "5", "-c", "1", "--keep", "--json", sock=d.sock, want=1, timeout=50)
    rep = r.json()
    check(rep["created"] == 3 and rep["failed"] == 2 and rep["destroyed"] == 3, "%r" % rep)
    check(any("too_many_instances" in e for e in rep["errors"]), "%r" % rep["errors"])
    check(d.client.list(all=False) == [], "bench left instances alive")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
