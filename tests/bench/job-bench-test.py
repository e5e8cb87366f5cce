#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Shape check of job-bench: it runs against a real shoal-instance, quickly,
and prints complete JSON. It judges no figure (tests never assert on time).

Protocol (tests/run-tests): `--list` prints the cases, `CASE` runs one:
exit 0 pass, 77 skip, anything else fail.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("SHOAL_BUILD", os.path.join(HERE, "..", "..", "build"))


def json_has_every_figure():
    inst = os.path.join(BUILD, "instance", "shoal-instance")
    if os.geteuid() != 0:
        return 77
    out = subprocess.run([sys.executable, os.path.join(HERE, "job-bench.py"), "--instance", inst,
                          "--runs", "3", "--calls", "300", "--json",
                          "--probe", os.path.join(BUILD, "tests", "bench", "job-probe")],
                         check=True, capture_output=True, timeout=240).stdout
    r = json.loads(out)
    for prog in ("true", "python3"):
        for peer in ("shoal", "native"):
            s = r["exec"][prog][peer]
            assert s["runs"] == 3 and s["median_ms"] > 0 and s["p99_ms"] >= s["median_ms"], s
    for side in ("shoal", "shoal_trapped", "native"):
        for key in ("pipe_call_ns", "getppid_ns", "trapped_host_ns"):
            assert isinstance(r["calls"][side][key], (int, float)), (side, key)
    return 0


CASES = {"json_has_every_figure": (json_has_every_figure, 300)}

if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        for name, (_, timeout) in CASES.items():
            print("%s timeout=%d" % (name, timeout))
        sys.exit(0)
    sys.exit(CASES[sys.argv[1]][0]())
