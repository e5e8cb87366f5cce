#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The Python client (clients/python/shoal.py) against a real shoald with real
instances: every method, its typed errors, the daemon being down, streaming
exec as an iterator, files and events where the daemon offers them (and
Unsupported, cleanly, where it does not yet). Runner protocol: tests/README.md.
"""

import os
import socket
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # nothing of ours lands in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shoaltest import (  # noqa: E402
    JOBSHIM, case, check, conforms, jobs_may_be_unsupported, main, pid_is_instance, shoal,
    with_daemon)


def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        return e
    except Exception as e:  # noqa: BLE001 (a wrong type is the failure reported)
        check(False, "%s raised %r, want %s" % (fn.__name__, e, exc.__name__))
    check(False, "%s did not raise %s" % (fn.__name__, exc.__name__))


@case()
def unreachable_daemon():
    """A missing socket, a refusing one, a plain file: DaemonUnreachable with the
    path and the reason, for every kind of call."""
    tmp = tempfile.mkdtemp(prefix="shoal-clients-py-")
    try:
        stale = os.path.join(tmp, "stale.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)
        plain = os.path.join(tmp, "plain")
        open(plain, "w").close()
        for path, words in ((os.path.join(tmp, "none.sock"), "no such socket"),
                            (stale, "nothing listens"), (plain, "not a socket")):
            c = shoal.Client(path, timeout=5)
            for call in (c.health, c.version, c.list, lambda: c.create(),
                         lambda: c.get("i-0123456789abcdef"), lambda: c.rm(all=True),
                         lambda: list(c.events()),
                         lambda: c.exec("i-0123456789abcdef", ["true"])):
                e = raises(shoal.DaemonUnreachable, call)
                check(path in str(e) and words in str(e), "message %r" % str(e))
                check(isinstance(e, shoal.ShoalError), "not a ShoalError")
        # $SHOAL_SOCKET is the default socket.
        os.environ["SHOAL_SOCKET"] = stale
        check(shoal.Client().socket_path == stale, "SHOAL_SOCKET not used")
        del os.environ["SHOAL_SOCKET"]
        check(shoal.Client().socket_path == shoal.DEFAULT_SOCKET, "default socket")
        s.close()
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


@case(timeout=120)
@with_daemon()
def instance_methods(d):
    c = shoal.Client(d.sock)
    check(c.health() == {"status": "ok"}, "health")
    v = c.version()
    conforms("Version", v)
    a = c.create(memory_mib=32, labels={"team": "py", "n": "1"}, ttl_s=300)
    conforms("Instance", a)
    check(a["state"] == "running" and a["memory_mib"] == 32 and a["ttl_s"] == 300, "%r" % a)
    check(pid_is_instance(a["pid"]), "pid %r" % a["pid"])
    b = c.create(labels={"team": "py", "n": "2"})
    x = c.create(labels={"team": "other"})
    check([i["id"] for i in c.list()] == [a["id"], b["id"], x["id"]], "list order")
    check([i["id"] for i in c.ls(labels={"team": "py"})] == [a["id"], b["id"]], "labels dict")
    check([i["id"] for i in c.list(labels=["team=py", "n=2"], state="running")] == [b["id"]],
          "labels list + state")
    check(c.list(state="failed") == [], "state filter")
    check(c.get(a["id"])["labels"] == {"team": "py", "n": "1"}, "get")
    check(c.inspect(b["id"])["id"] == b["id"], "inspect alias")
    # The connection is kept alive across calls: one socket for all of the above.
    sock = c._conn.sock
    c.health()
    check(c._conn.sock is sock, "a new connection per call")

    gone = c.delete(x["id"])
    check(gone["state"] == "destroyed" and gone["reason"] == "destroyed by request", "%r" % gone)
    check(c.get(x["id"])["state"] == "destroyed", "ended instances stay inspectable")
    check([i["id"] for i in c.list(all=False)] == [a["id"], b["id"]], "alive only")
    done = c.rm(labels={"team": "py"})
    check(sorted(i["id"] for i in done) == sorted([a["id"], b["id"]]), "rm labels %r" % done)
    check(c.list(all=False) == [], "alive after rm")
    for i in (a, b):
        check(not pid_is_instance(i["pid"]), "pid %d alive after rm" % i["pid"])
    ids = [c.create()["id"] for _ in range(3)]
    check(len(c.rm(*ids)) == 3, "rm several")
    check(len(c.rm(c.create()["id"], c.create()["id"])) == 2, "rm two")
    # Pages: every row once, in order, following "next".
    seen, after = [], None
    while True:
        page, after = c.list_page(2, after)
        seen += [i["id"] for i in page]
        if after is None:
            break
    check(seen == [i["id"] for i in c.list()], "pages %r" % seen)
    check(c.rm(all=True) == [], "nothing left")
    c.create()
    check(len(c.rm(all=True)) == 1, "rm all")
    raises(ValueError, c.rm, "i-0123456789abcdef", all=True)
    c.close()
    # Usable as a context manager; closing is idempotent.
    with shoal.Client(d.sock) as c2:
        check(c2.health()["status"] == "ok", "with")
    c2.close()


@case()
@with_daemon("--max-instances", "1")
def typed_errors(d):
    c = shoal.Client(d.sock)
    e = raises(shoal.NotFound, c.get, "i-0000000000000000")
    check(e.status == 404 and e.code == "not_found" and "i-0000000000000000" in e.message,
          "%r" % vars(e))
    check(isinstance(e, shoal.ApiError) and isinstance(e, shoal.ShoalError), "hierarchy")
    e = raises(shoal.NotFound, c.delete, "i-0000000000000000")
    e = raises(shoal.InvalidRequest, c.create, memory_mib=8)
    check(e.status == 400 and e.code == "invalid_value", "%r" % vars(e))
    e = raises(shoal.InvalidRequest, c.create, no_such_field=1)
    check(e.code == "unknown_field", "%r" % vars(e))
    e = raises(shoal.InvalidRequest, c.list, state="sleeping")
    raises(ValueError, c.get, "../v1/health")
    raises(ValueError, c.exec, "i-0123456789abcdef", "not a list")
    inst = c.create()
    e = raises(shoal.TooManyInstances, c.create)
    check(e.status == 429 and e.code == "too_many_instances", "%r" % vars(e))
    # rm goes on past an error and raises the first one at the end.
    e = raises(shoal.NotFound, c.rm, "i-0000000000000000", inst["id"])
    check(c.get(inst["id"])["state"] == "destroyed", "rm stopped at the first error")
    # A route this daemon lacks: Unsupported (a kind of ApiError), not NotFound.
    e = raises(shoal.Unsupported, c._json, "GET", "/v1/no-such-endpoint")
    check(e.status == 404 and "no such route" in e.message, "%r" % vars(e))
    check(c.health()["status"] == "ok", "the connection still works after errors")


def job_support(c, iid):
    """None when jobs run, else the Unsupported error of this daemon/instance."""
    try:
        r = c.exec(iid, ["true"], timeout_s=5)
    except shoal.Unsupported as e:
        return e
    check(r.status == 0, "true: %r" % r)
    return None


@case(timeout=180)
@with_daemon()
def exec_iterator_and_run(d):
    c = shoal.Client(d.sock, timeout=60)
    iid = c.create()["id"]
    unsupported = job_support(c, iid)
    if unsupported:
        check(jobs_may_be_unsupported(), "jobs refused although %s is built: %s" %
              (JOBSHIM, unsupported))
        check(unsupported.status in (404, 405, 501), "%r" % vars(unsupported))
        gen = c.exec_stream(iid, ["echo", "hi"])
        raises(shoal.Unsupported, next, gen)
        raises(shoal.Unsupported, c.run, ["true"], rm=True, labels={"via": "run"})
        check(c.list(labels={"via": "run"}, all=False) == [], "run rm=True left an instance")
        check(c.health()["status"] == "ok", "connection after Unsupported")
        c.rm(iid)
        return
    # Streaming: chunks arrive as the job writes them, before it ends.
    gen = c.exec_stream(iid, ["sh", "-c", "echo first; sleep 2; echo second >&2; exit 5"])
    t0 = time.monotonic()
    started = next(gen)
    check(isinstance(started, shoal.ExecStarted) and started.exec_id >= 1, "%r" % started)
    ev = next(gen)
    check(isinstance(ev, shoal.ExecOutput) and ev.stream == "stdout" and ev.data == b"first\n",
          "%r" % ev)
    check(time.monotonic() - t0 < 1.8, "the first chunk waited for the job's end")
    rest = list(gen)
    check([(e.stream, e.data) for e in rest[:-1]] == [("stderr", b"second\n")], "%r" % rest)
    check(isinstance(rest[-1], shoal.ExecExit) and rest[-1].exit_code == 5, "%r" % rest)
    r = c.exec(iid, ["cat"], stdin=b"\x00\x01binary\xff")
    check(r.status == 0 and r.stdout == b"\x00\x01binary\xff", "%r" % r)
    r = c.exec(iid, ["sh", "-c", "echo $A; pwd"], env={"A": "b", "PATH": "/usr/bin:/bin"},
               cwd="/tmp")
    check(r.stdout == b"b\n/tmp\n", "%r" % r)
    r = c.exec(iid, ["sh", "-c", "kill -9 $$"])
    check(r.exit.signal == 9 and r.status == 137, "%r" % r)
    # A signal to a running job through exec_signal; the job's exit tells.
    gen = c.exec_stream(iid, ["sh", "-c", 'trap "echo term; exit 4" TERM; echo up; '
                                          'while true; do sleep 0.1; done'])
    started = next(gen)
    check(next(gen).data == b"up\n", "the job did not start")
    check(c.exec_signal(iid, started.exec_id) == {}, "exec_signal answer")
    rest = list(gen)
    # The whole process group got it: sh may also report its killed sleep on stderr.
    out = b"".join(e.data for e in rest[:-1] if e.stream == "stdout")
    check(out == b"term\n" and rest[-1].exit_code == 4, "%r" % rest)
    # The exec records: argv and exits of what ran.
    recs = c.execs(iid)
    conforms("ExecList", {"execs": recs})
    check(recs[-1]["argv"][0] == "sh" and recs[-1]["exit_code"] == 4, "%r" % recs[-1])
    # An instance environment for every job; create's env and an exec's env on top.
    other = c.create(env={"WHO": "instance", "KEEP": "1"})["id"]
    r = c.exec(other, ["sh", "-c", "echo $WHO $KEEP"], env={"WHO": "exec"})
    check(r.stdout == b"exec 1\n", "%r" % r)
    c.rm(other)
    inst, r = c.run(["sh", "-c", "echo ran"], rm=True, labels={"via": "run"})
    check(r.stdout == b"ran\n" and c.get(inst["id"])["state"] == "destroyed", "run %r" % r)
    c.rm(iid)


@case(timeout=120)
@with_daemon()
def files_round_trip(d):
    c = shoal.Client(d.sock)
    iid = c.create()["id"]
    data = os.urandom(256 << 10)
    try:
        c.put_file(iid, "/tmp/blob", data)
    except shoal.Unsupported:
        raises(shoal.Unsupported, c.get_file, iid, "/tmp/blob")
        c.rm(iid)
        return
    check(c.get_file(iid, "/tmp/blob") == data, "round trip differs")
    tmp = tempfile.mkdtemp(prefix="shoal-clients-py-")
    try:
        src, dst = os.path.join(tmp, "src"), os.path.join(tmp, "dst")
        with open(src, "wb") as f:
            f.write(b"hello file\n")
        c.copy_to(iid, src, "/tmp/hello")
        check(c.copy_from(iid, "/tmp/hello", dst) == 11, "copy_from size")
        check(open(dst, "rb").read() == b"hello file\n", "copy_from content")
        check(sorted(os.listdir(tmp)) == ["dst", "src"], "temp files left: %r" % os.listdir(tmp))
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    raises(shoal.NotFound, c.get_file, iid, "/tmp/no-such-file")
    raises(shoal.InvalidRequest, c.get_file, iid, "/tmp/../etc/passwd")
    c.rm(iid)


@case(timeout=60)
@with_daemon()
def events_iterator(d):
    c = shoal.Client(d.sock)
    if not d.supports("GET", "/v1/events"):
        raises(shoal.Unsupported, lambda: list(c.events()))
        return
    got, errors = [], []

    def follow():
        try:
            with shoal.Client(d.sock) as f:
                for ev in f.events():
                    got.append(ev)
                    if ev.get("type", "").endswith("destroyed"):
                        return
        except Exception as e:  # noqa: BLE001 (reported by the main thread)
            errors.append(e)

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    time.sleep(0.3)
    iid = c.create()["id"]
    c.delete(iid)
    t.join(15)
    check(not t.is_alive() and not errors, "follower: alive=%r errors=%r" % (t.is_alive(), errors))
    mine = [e["type"] for e in got if e.get("instance_id") == iid]
    check(mine and mine[0].endswith("created") and mine[-1].endswith("destroyed"), "%r" % mine)
    seqs = [e["seq"] for e in got]
    check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "seq order %r" % seqs)


@case(timeout=60)
@with_daemon()
def patch_ttl_and_labels(d):
    c = shoal.Client(d.sock)
    iid = c.create(labels={"a": "1"})["id"]
    try:
        got = c.patch(iid, ttl_s=50, labels={"b": "2"})
    except shoal.Unsupported:
        c.rm(iid)
        return
    check(got["ttl_s"] == 50 and got["labels"] == {"b": "2"}, "%r" % got)
    check(c.patch(iid, ttl_s=None)["ttl_s"] is None, "ttl removed")
    raises(shoal.InvalidRequest, c.patch, iid)
    c.rm(iid)
    e = raises(shoal.Conflict, c.patch, iid, ttl_s=5)
    check(e.status == 409 and e.code == "not_running", "%r" % vars(e))


@case(timeout=60)
@with_daemon()
def metrics_and_stats(d):
    c = shoal.Client(d.sock)
    try:
        text = c.metrics()
    except shoal.Unsupported:
        text = None
    if text is not None:
        check("# TYPE" in text or "# HELP" in text, "not Prometheus text: %r" % text[:200])
    iid = c.create()["id"]
    try:
        text = c.logs(iid)
        check(text.startswith("Linux version "), "%r" % text[:100])
        page = c.logs_page(iid, 0, 100)
        check(len(page["text"]) <= 100 and page["cursor"] == len(page["text"].encode()),
              "%r" % page)
        raises(shoal.InvalidRequest, c.logs_page, iid, 10 ** 9)
    except shoal.Unsupported:
        pass
    try:
        st = c.stats(iid)
        check(isinstance(st, dict) and st, "%r" % st)
    except shoal.Unsupported:
        pass
    c.rm(iid)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
