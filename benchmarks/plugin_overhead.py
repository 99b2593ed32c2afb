"""Time the installed plugin adds to a trivial pytest run *without* --launch-gate.

Peer: the same run without the plugin, measured in the same run, alternating, so machine noise hits both
sides alike. Measured twice:
- isolated: PYTEST_DISABLE_PLUGIN_AUTOLOAD=1, our plugin loaded with `-p launch_gate.pytest_plugin` against an
  empty plugin loaded the same way (`-p` itself makes pytest scan every entry point, ~25 ms here, on both
  sides). The headline figure, held to the 30 ms budget: no other plugin's start-up noise is in it.
- installed: every plugin on the machine autoloads; ours as installed against `-p no:launch_gate`.
Times are CPU time of the pytest process (user + system), so other load on the machine barely moves them.
Prints the medians and, last, one JSON line.  Usage: python benchmarks/plugin_overhead.py [--pairs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BUDGET_MS = 30.0


def timed_run(cwd: Path, args: tuple[str, ...], isolated: bool) -> float:
    """CPU time (user + system, ms) of one pytest run: steadier than wall time on a shared machine."""
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1") if isolated else None
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_trivial.py"]
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"pytest failed ({child.returncode}): {' '.join(command)}")
    return (usage.ru_utime + usage.ru_stime) * 1000


def paired(
    root: Path, pairs: int, with_args: tuple[str, ...], without_args: tuple[str, ...], isolated: bool
) -> tuple[float, float, float]:
    """Median with, median without, and median of the paired differences, in CPU ms."""
    timed_run(root, with_args, isolated)  # warm the file system and bytecode caches
    timed_run(root, without_args, isolated)
    with_plugin, without = [], []
    for _ in range(pairs):
        with_plugin.append(timed_run(root, with_args, isolated))
        without.append(timed_run(root, without_args, isolated))
    diffs = [a - b for a, b in zip(with_plugin, without, strict=True)]
    return statistics.median(with_plugin), statistics.median(without), statistics.median(diffs)


def import_cost_us() -> int:
    """Self time of importing our package and plugin module (`python -X importtime`, pytest already loaded)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pytest, launch_gate.pytest_plugin"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    ours = [
        line.split("|")
        for line in done.stderr.splitlines()
        if line.rstrip().endswith(("launch_gate", "launch_gate.pytest_plugin"))
    ]
    return sum(int(fields[0].split(":")[1]) for fields in ours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=21)
    pairs = parser.parse_args().pairs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_trivial.py").write_text("def test_trivial():\n    assert True\n")
        (root / "empty_peer_plugin.py").write_text('"""A plugin that does nothing: the peer."""\n')
        iso = paired(
            root, pairs, ("-p", "launch_gate.pytest_plugin"), ("-p", "empty_peer_plugin"), isolated=True
        )
        inst = paired(root, pairs, (), ("-p", "no:launch_gate"), isolated=False)
    print(f"isolated:  with plugin {iso[0]:7.1f} ms, empty plugin {iso[1]:7.1f} ms, added {iso[2]:+.1f} ms")
    print(
        f"installed: with plugin {inst[0]:7.1f} ms, -p no:launch_gate {inst[1]:7.1f} ms, added {inst[2]:+.1f} ms"
    )
    print(f"CPU time; budget {BUDGET_MS:.0f} ms; medians over {pairs} alternating pairs each")
    result = {
        "benchmark": "plugin_overhead",
        "pairs": pairs,
        "overhead_ms": round(iso[2], 1),
        "ratio": round(iso[0] / iso[1], 3),
        "with_plugin_ms": round(iso[0], 1),
        "without_plugin_ms": round(iso[1], 1),
        "installed_overhead_ms": round(inst[2], 1),
        "installed_ratio": round(inst[0] / inst[1], 3),
        "plugin_import_us": import_cost_us(),
        "budget_ms": BUDGET_MS,
        "within_budget": iso[2] < BUDGET_MS,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
