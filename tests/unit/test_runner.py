#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of tests/run-tests, the runner every suite goes through.

Each case writes small test executables (shell scripts that follow the runner
protocol) into a temporary folder, runs the real runner on them and checks its
TAP lines, summary line and exit status: passes and failures counted, skips
passing outside CI and failing under CI=true, timeouts from --timeout and from
`timeout=N` in --list, the whole process group killed on timeout, leftover
processes killed after a case, crashes and broken --list reported, empty
suites noted. This file follows the protocol itself: --list, or one case name.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "run-tests")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def write_bin(folder, name, list_lines, cases):
    """Write an executable shell script: --list prints list_lines, each case runs its body."""
    path = os.path.join(folder, name)
    body = ["#!/bin/sh", 'case "$1" in', "--list)"]
    body += ["\techo '%s'" % line for line in list_lines]
    body.append("\t;;")
    for case, script in cases.items():
        body += ["%s)" % case, "\t" + script, "\t;;"]
    body += ["*)", "\techo \"no case $1\" >&2; exit 2", "\t;;", "esac", ""]
    with open(path, "w") as f:
        f.write("\n".join(body))
    os.chmod(path, 0o755)
    return path


def run_runner(args, ci=False, timeout=60):
    env = dict(os.environ)
    env.pop("SHOAL_TEST_TIMEOUT", None)
    if ci:
        env["CI"] = "true"
    else:
        env.pop("CI", None)
    proc = subprocess.run([sys.executable, RUNNER] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=env, timeout=timeout)
    out = proc.stdout.decode()
    print(out)  # shown by the outer runner if this case fails
    return proc.returncode, out.splitlines()


def check_summary(lines, passed, failed):
    want = "%d passed, %d failed" % (passed, failed)
    check(lines and lines[-1] == want, "last line %r, want %r" % (lines[-1:], want))
    summaries = [l for l in lines if l.endswith(" failed") and " passed, " in l]
    check(len(summaries) == 1, "exactly one summary line, got %r" % summaries)


def process_gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie is dead, only not yet reaped by its new parent


def wait_gone(pid, seconds=5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.05)
    return False


def read_pid(path):
    with open(path) as f:
        return int(f.read().strip())


def case_counts_passes_and_failures(tmp):
    b = write_bin(tmp, "mixed", ["good", "bad"],
                  {"good": "exit 0", "bad": "echo to-stdout; echo to-stderr >&2; exit 3"})
    rc, lines = run_runner(["--suite", "s", b])
    check(rc == 1, "exit status %d, want 1" % rc)
    check(lines[0] == "TAP version 13" and lines[1] == "1..2", "TAP header and plan: %r" % lines[:2])
    check("ok 1 - s/mixed/good" in lines, "pass line missing")
    check("not ok 2 - s/mixed/bad # status 3 after" in "\n".join(lines), "fail line missing")
    check("# to-stdout" in lines and "# to-stderr" in lines, "output not shown as diagnostics")
    check_summary(lines, 1, 1)


def case_all_pass_exits_zero(tmp):
    b = write_bin(tmp, "fine", ["a", "b timeout=5"], {"a": "exit 0", "b": "echo quiet; exit 0"})
    rc, lines = run_runner(["--suite", "s", b])
    check(rc == 0, "exit status %d, want 0" % rc)
    check("# quiet" not in lines, "output of a passing case must not be shown")
    check_summary(lines, 2, 0)


def case_skip_passes_outside_ci(tmp):
    b = write_bin(tmp, "sk", ["needs"], {"needs": "echo 'needs a unicorn' >&2; exit 77"})
    rc, lines = run_runner(["--suite", "s", b])
    check(rc == 0, "exit status %d, want 0" % rc)
    check("ok 1 - s/sk/needs # SKIP needs a unicorn" in lines, "SKIP line missing")
    check("# 1 skipped (counted as passed; they fail when CI=true)" in lines, "skip count missing")
    check_summary(lines, 1, 0)


def case_skip_fails_in_ci(tmp):
    b = write_bin(tmp, "sk", ["needs", "other"],
                  {"needs": "echo 'needs a unicorn' >&2; exit 77", "other": "exit 0"})
    rc, lines = run_runner(["--suite", "s", b], ci=True)
    check(rc == 1, "exit status %d, want 1" % rc)
    check("not ok 1 - s/sk/needs # CI=true forbids skipping: needs a unicorn" in lines,
          "CI skip line missing")
    check(not any("skipped" in l for l in lines), "no skip count under CI")
    check_summary(lines, 1, 1)


def case_timeout_kills_whole_process_group(tmp):
    pidfile = os.path.join(tmp, "child.pid")
    # The case starts a grandchild that ignores SIGTERM, then hangs itself.
    b = write_bin(tmp, "hang", ["stuck timeout=1"],
                  {"stuck": "sh -c 'trap \"\" TERM; echo $$ > %s; exec sleep 1000' & "
                            "echo started; sleep 1000" % pidfile})
    started = time.monotonic()
    rc, lines = run_runner(["--timeout", "30", "--suite", "s", b])
    elapsed = time.monotonic() - started
    check(rc == 1, "exit status %d, want 1" % rc)
    check("not ok 1 - s/hang/stuck # timeout after 1s" in lines, "timeout line missing")
    check("# started" in lines, "output of a timed-out case must be shown")
    check(elapsed < 15, "runner took %.1fs for a 1s timeout" % elapsed)
    pid = read_pid(pidfile)
    check(wait_gone(pid), "grandchild %d survived the timeout" % pid)
    check_summary(lines, 0, 1)


def case_timeout_option_sets_default(tmp):
    b = write_bin(tmp, "slow", ["slow", "fast timeout=20"], {"slow": "sleep 30", "fast": "sleep 2"})
    rc, lines = run_runner(["--timeout", "1", "--suite", "s", b])
    check("not ok 1 - s/slow/slow # timeout after 1s" in lines, "--timeout not applied")
    check("ok 2 - s/slow/fast" in lines, "timeout=20 in --list must override --timeout 1")
    check_summary(lines, 1, 1)
    check(rc == 1, "exit status %d, want 1" % rc)


def case_leftover_processes_are_killed(tmp):
    pidfile = os.path.join(tmp, "bg.pid")
    # The background sleeper keeps the output file open; the runner must not wait for it.
    b = write_bin(tmp, "leak", ["leaks"],
                  {"leaks": "sh -c 'echo $$ > %s; exec sleep 1000' & sleep 0.5; exit 0" % pidfile})
    started = time.monotonic()
    rc, lines = run_runner(["--suite", "s", b])
    check(time.monotonic() - started < 15, "runner waited for a leftover process")
    check(rc == 0, "exit status %d, want 0" % rc)
    pid = read_pid(pidfile)
    check(wait_gone(pid), "leftover process %d still running" % pid)
    check_summary(lines, 1, 0)


def case_crash_is_a_failure(tmp):
    b = write_bin(tmp, "crash", ["segv"], {"segv": "echo dying; kill -SEGV $$"})
    rc, lines = run_runner(["--suite", "s", b])
    check(rc == 1, "exit status %d, want 1" % rc)
    check(any(l.startswith("not ok 1 - s/crash/segv # signal SIGSEGV") for l in lines),
          "signal not reported")
    check("# dying" in lines, "output missing")
    check_summary(lines, 0, 1)


def case_broken_list_is_a_failure(tmp):
    b = write_bin(tmp, "nolist", [], {})
    with open(b, "w") as f:
        f.write("#!/bin/sh\necho 'cannot list' >&2\nexit 5\n")
    missing = os.path.join(tmp, "does-not-exist")
    badattr = write_bin(tmp, "badattr", ["x colour=red"], {"x": "exit 0"})
    rc, lines = run_runner(["--suite", "s", b, missing, badattr])
    check(rc == 1, "exit status %d, want 1" % rc)
    check("not ok 1 - s/nolist/--list # --list exited with status 5" in lines, "list failure")
    check("# cannot list" in lines, "list output missing")
    check(any(l.startswith("not ok 2 - s/does-not-exist/--list # cannot run") for l in lines),
          "missing binary not reported")
    check(any(l.startswith("not ok 3 - s/badattr/--list # unknown attribute") for l in lines),
          "bad --list attribute not reported")
    check_summary(lines, 0, 3)


def case_suites_and_empty_suites(tmp):
    sub = os.path.join(tmp, "unitlike")
    os.mkdir(sub)
    a = write_bin(sub, "one", ["c"], {"c": "exit 0"})
    b = write_bin(tmp, "two", ["c"], {"c": "exit 0"})
    rc, lines = run_runner([a, "--suite", "kern", b, "--suite", "e2e"])
    check(rc == 0, "exit status %d, want 0" % rc)
    check("ok 1 - unitlike/one/c" in lines, "suite from parent folder")
    check("ok 2 - kern/two/c" in lines, "suite from --suite")
    check("# e2e: no test binaries" in lines, "empty suite not noted")
    check_summary(lines, 2, 0)


def case_cases_run_in_separate_processes(tmp):
    b = write_bin(tmp, "pids", ["a", "b"], {"a": "echo $$ > %s/a" % tmp, "b": "echo $$ > %s/b" % tmp})
    rc, lines = run_runner(["--suite", "s", b])
    check(rc == 0, "exit status %d, want 0" % rc)
    a, b2 = read_pid(os.path.join(tmp, "a")), read_pid(os.path.join(tmp, "b"))
    check(a != b2, "both cases ran in process %d" % a)
    check(a != os.getpid(), "case ran in the caller's process")


def case_bad_usage_is_rejected(tmp):
    rc, lines = run_runner(["--timeout", "0"])
    check(rc == 2, "--timeout 0 accepted (status %d)" % rc)
    rc, lines = run_runner(["--no-such-option"])
    check(rc == 2, "unknown option accepted (status %d)" % rc)


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def main(argv):
    if argv == ["--list"]:
        for name in CASES:
            print(name)
        return 0
    if len(argv) != 1 or argv[0] not in CASES:
        sys.stderr.write("usage: %s --list | CASE\n" % sys.argv[0])
        return 2
    with tempfile.TemporaryDirectory(prefix="shoal-runner-test-") as tmp:
        try:
            CASES[argv[0]](tmp)
        except Failure as e:
            sys.stderr.write("FAILED: %s\n" % e)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
