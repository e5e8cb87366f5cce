#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bounded libFuzzer runs, as cases of the unit suite (tests/README.md protocol).

The fuzz targets in tests/fuzz/ are built by fuzz.mk into $SHOAL_BUILD/tests/fuzz/.
Each case here runs one target for a fixed number of inputs, starting from the
seed corpus in tests/fuzz/corpus/ with the target's dictionary, and fails on any
crash, sanitizer report, leak, per-input timeout or allocation over the limit.
New inputs libFuzzer finds go to a temporary directory, never into the tree; the
inputs of a failure are copied to $SHOAL_BUILD/tests/fuzz/artifacts/ with the
command that reproduces them.

SHOAL_FUZZ_RUNS overrides the number of inputs (default 200000, a few seconds).
"""

import os
import shutil
import subprocess
import sys
import tempfile

RUNS = os.environ.get("SHOAL_FUZZ_RUNS", "200000")

# case name -> (target binary, seed corpus, dictionary)
CASES = {
    "proto_decoder": ("fuzz_proto", "tests/fuzz/corpus/proto", "tests/fuzz/proto.dict"),
}

# Lines that mean a finding even if the exit status were to say otherwise.
FINDINGS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
            "ERROR: libFuzzer", "property broken", "deadly signal")


def run_case(name):
    target, seeds, dictionary = CASES[name]
    build = os.environ.get("SHOAL_BUILD", "build")
    binary = os.path.join(build, "tests", "fuzz", target)
    if not os.access(binary, os.X_OK):
        print(f"{binary} is missing: 'make test' builds it ('make {binary}' alone)")
        return 1
    with tempfile.TemporaryDirectory(prefix="shoal-fuzz-") as work:
        corpus = os.path.join(work, "corpus")
        os.mkdir(corpus)
        cmd = [binary, f"-runs={RUNS}", "-max_len=65536", "-timeout=10",
               "-malloc_limit_mb=64", "-rss_limit_mb=2048", f"-dict={dictionary}",
               f"-artifact_prefix={work}/", "-print_final_stats=1", corpus, seeds]
        print("$ " + " ".join(cmd), flush=True)
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, errors="replace", timeout=280)
            out, status = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout or ""
            if isinstance(out, bytes):
                out = out.decode(errors="replace")
            status = "timeout after 280 s"
        artifacts = sorted(f for f in os.listdir(work) if f != "corpus")
        findings = [f for f in FINDINGS if f in out]
        if status != 0 or artifacts or findings:
            keep = os.path.join(build, "tests", "fuzz", "artifacts")
            os.makedirs(keep, exist_ok=True)
            for a in artifacts:
                shutil.copy(os.path.join(work, a), keep)
            print("\n".join(out.splitlines()[-150:]))
            print(f"{target}: exit status {status}; findings: {', '.join(findings) or 'none'}")
            for a in artifacts:
                print(f"  kept {os.path.join(keep, a)}; reproduce: {binary} "
                      f"{os.path.join(keep, a)}")
            return 1
        stats = dict(line.split(": ", 1) for line in out.splitlines() if line.startswith("stat::"))
        done = [line for line in out.splitlines() if "DONE" in line]
        print(done[-1] if done else "")
        print(f"{target}: {stats.get('stat::number_of_executed_units', '?').strip()} inputs, "
              f"no crash, leak, hang or broken property")
        return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name in CASES:
            print(f"{name} timeout=300")
        return 0
    if len(argv) == 2 and argv[1] in CASES:
        return run_case(argv[1])
    print(f"usage: {argv[0]} --list | CASE (cases: {', '.join(CASES)})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
