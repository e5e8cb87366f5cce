#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of tests/harness.h and tests/harness.c, the C side of the protocol.

The cases run the fixture executable built from tests/unit/fixtures/
harness_cases.c (found under $SHOAL_BUILD, default build/) and check what a
C test author relies on: --list in definition order with timeout=N where asked,
exit 0 / 1 / 77, failure messages naming file:line and both values, C-escaped
strings, the first failed check ending the case, output surviving a crash, and
unknown cases and bad usage refused. This file follows the runner protocol.
"""

import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SOURCE = os.path.join("tests", "unit", "fixtures", "harness_cases.c")
FIXTURE = os.path.join(os.environ.get("SHOAL_BUILD", "build"), "tests", "unit", "fixtures",
                       "harness_cases")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run(*args):
    proc = subprocess.run([os.path.join(ROOT, FIXTURE)] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    print("status %d\nstdout: %r\nstderr: %r" % (proc.returncode, out, err))
    return proc.returncode, out, err


def line_of(text):
    """Line number in the fixture source of the first line containing text."""
    with open(os.path.join(ROOT, SOURCE)) as f:
        for number, line in enumerate(f, 1):
            if text in line:
                return number
    raise Failure("%r not found in %s" % (text, SOURCE))


def check_failure(case, source_text, message):
    status, out, err = run(case)
    check(status == 1, "%s: status %d, want 1" % (case, status))
    want = "%s:%d: %s" % (SOURCE, line_of(source_text), message)
    check(err.startswith(want), "%s: stderr %r does not start with %r" % (case, err, want))


def case_list_in_definition_order_with_timeouts():
    status, out, _ = run("--list")
    check(status == 0, "--list status %d" % status)
    want = ["passes", "check_fails", "eq_int_fails", "ne_int_fails", "eq_str_fails",
            "eq_str_null_fails", "fail_formats", "skips", "asks_for_time timeout=123",
            "stops_at_first_failure", "crashes_after_output"]
    check(out.splitlines() == want, "--list gave %r" % out.splitlines())


def case_passing_case_exits_zero():
    status, out, err = run("passes")
    check(status == 0 and err == "", "status %d, stderr %r" % (status, err))


def case_check_reports_expression():
    check_failure("check_fails", "CHECK(1 + 1 == 3)", "CHECK(1 + 1 == 3) failed\n")


def case_eq_int_reports_both_values():
    check_failure("eq_int_fails", "CHECK_EQ_INT(big, -7)",
                  "CHECK_EQ_INT(big, -7) failed: 1099511627776 != -7\n")


def case_ne_int_reports_value():
    check_failure("ne_int_fails", "CHECK_NE_INT(6 * 7, 42)",
                  "CHECK_NE_INT(6 * 7, 42) failed: both 42\n")


def case_eq_str_shows_escaped_strings():
    check_failure("eq_str_fails", 'CHECK_EQ_STR("tab',
                  'CHECK_EQ_STR("tab\\there", "quote\\"here\\n") failed:\n'
                  '  left:  "tab\\there"\n  right: "quote\\"here\\n"\n')


def case_eq_str_shows_null():
    check_failure("eq_str_null_fails", 'CHECK_EQ_STR(NULL, "x")',
                  'CHECK_EQ_STR(NULL, "x") failed:\n  left:  NULL\n  right: "x"\n')


def case_fail_formats_message():
    check_failure("fail_formats", "FAIL(", "custom failure 7/seven\n")


def case_skip_exits_77_with_reason_last():
    status, _, err = run("skips")
    check(status == 77, "status %d, want 77" % status)
    want = "needs a unicorn (%s:%d)\n" % (SOURCE, line_of('SKIP("needs'))
    check(err == want, "stderr %r, want %r" % (err, want))


def case_first_failure_ends_the_case():
    status, out, _ = run("stops_at_first_failure")
    check(status == 1, "status %d" % status)
    check(out == "before\n", "stdout %r: the case went on after a failed check" % out)


def case_output_survives_a_crash():
    status, out, _ = run("crashes_after_output")
    check(status < 0, "status %d, want death by signal" % status)
    check(out == "last words\n", "stdout %r: buffered output lost in the crash" % out)


def case_unknown_case_and_bad_usage_are_refused():
    status, _, err = run("no_such_case")
    check(status == 2 and "no test case 'no_such_case'" in err, "unknown case: %d %r" % (status, err))
    status, _, err = run()
    check(status == 2 and "usage:" in err, "no arguments: %d %r" % (status, err))
    status, _, _ = run("--bogus")
    check(status == 2, "unknown option: %d" % status)


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def main(argv):
    if argv == ["--list"]:
        for name in CASES:
            print(name)
        return 0
    if len(argv) != 1 or argv[0] not in CASES:
        sys.stderr.write("usage: %s --list | CASE\n" % sys.argv[0])
        return 2
    if not os.access(os.path.join(ROOT, FIXTURE), os.X_OK):
        sys.stderr.write("fixture %s is not built (make %s)\n" % (FIXTURE, FIXTURE))
        return 77
    try:
        CASES[argv[0]]()
    except Failure as e:
        sys.stderr.write("FAILED: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
