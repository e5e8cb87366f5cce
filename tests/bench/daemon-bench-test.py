#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Shape check of daemon-bench: one quick run against a real shoald (and the
netns+veth peer; UML is left out to keep it short) prints complete JSON and
leaves nothing behind. It judges no figure (tests never assert on time).

Protocol (tests/run-tests): `--list` prints the cases, `CASE` runs one:
exit 0 pass, 77 skip, anything else fail.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("SHOAL_BUILD", os.path.join(HERE, "..", "..", "build"))

LIFECYCLE_KEYS = ("count", "concurrency", "created", "failed", "wall_s", "creates_per_s",
                  "ready_p50_ms", "ready_p99_ms", "destroyed", "destroy_failed",
                  "destroy_p50_ms", "destroy_p99_ms", "destroys_per_s",
                  "daemon_cpu_ms_per_create", "host_cpu_ms_per_create",
                  "daemon_ready_p50_ms", "boot_p50_ms")
DENSITY_KEYS = ("count", "alive", "failed", "destroy_failed", "pss_mib_per_instance",
                "rss_mib_per_instance", "daemon_pss_mib", "idle_cpu_pct_all", "get")
GET_KEYS = ("concurrency", "seconds", "requests", "errors", "per_s",
            "daemon_cpu_us_per_request")


def netns_names():
    try:
        return set(os.listdir("/run/netns"))
    except OSError:
        return set()


def json_has_every_figure():
    if os.geteuid() != 0:
        return 77
    before = netns_names()
    p = subprocess.run([sys.executable, os.path.join(HERE, "daemon-bench.py"),
                        "--shoald", os.path.join(BUILD, "daemon", "shoald"),
                        "--instance", os.path.join(BUILD, "instance", "shoal-instance"),
                        "--creates", "3", "--density", "3", "--execs", "3",
                        "--get-seconds", "0.5", "--settle", "0", "--idle-seconds", "0.5", "--peers", "shoal,netns", "--json", "--quiet"],
                       capture_output=True, timeout=240)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    r = json.loads(p.stdout)
    for key in ("conditions", "goals", "skipped", "peers", "left"):
        assert key in r, key
    for key in ("create_p50_ms", "creates_per_s", "idle_alive"):
        assert isinstance(r["goals"][key], (int, float)), key
    assert r["peers"]["uml"] is None, r["peers"]["uml"]
    for name in ("shoal", "netns"):
        peer = r["peers"][name]
        for conc in ("1", "8", "32"):
            lc = peer["lifecycle"][conc]
            for key in LIFECYCLE_KEYS:
                assert key in lc, (name, conc, key)
            assert lc["created"] == 3 and lc["failed"] == 0, (name, conc, lc)
            assert lc["destroyed"] == 3 and lc["destroy_failed"] == 0, (name, conc, lc)
            for key in ("creates_per_s", "ready_p50_ms", "ready_p99_ms", "destroy_p50_ms",
                        "host_cpu_ms_per_create"):
                assert isinstance(lc[key], (int, float)), (name, conc, key)
            assert (lc["daemon_cpu_ms_per_create"] is None) == (name != "shoal"), (name, lc)
        ex = peer["exec"]
        assert ex["runs"] == 3 and isinstance(ex["p50_ms"], float), (name, ex)
        d = peer["density"]
        for key in DENSITY_KEYS:
            assert key in d, (name, key)
        assert d["alive"] == 3 and d["failed"] == 0 and d["destroy_failed"] == 0, (name, d)
        assert isinstance(d["pss_mib_per_instance"], float), (name, d)
    sb = r["peers"]["shoal"]["shoal_bench"]
    assert sb.get("created") == 3 and sb.get("failed") == 0, sb
    assert isinstance(sb["create_p50_ms"], (int, float)), sb
    nn = r["peers"]["shoal"]["no_network"]
    assert nn["count"] == 3 and isinstance(nn["ready_p50_ms"], float), nn
    assert r["peers"]["netns"]["no_network"] is None
    get = r["peers"]["shoal"]["density"]["get"]
    for key in GET_KEYS:
        assert key in get, key
    assert get["requests"] > 0 and get["errors"] == 0, get
    assert r["peers"]["netns"]["density"]["get"] is None
    assert r["left"] == {"instances": 0, "namespaces": 0, "shoald_status": 0}, r["left"]
    left = [n for n in netns_names() - before if n.startswith("shoal-db")]
    assert not left, left
    return 0


CASES = {"json_has_every_figure": (json_has_every_figure, 300)}

if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        for name, (_, timeout) in CASES.items():
            print("%s timeout=%d" % (name, timeout))
        sys.exit(0)
    sys.exit(CASES[sys.argv[1]][0]())
