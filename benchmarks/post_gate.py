"""The post-deploy gate against the demo deployment with a slow origin: wall time against the sum of the
checks' own times. Run concurrently, the gate should take about as long as its slowest check, not the sum.

Usage: python benchmarks/post_gate.py [--delay SECONDS] [--runs N]
Every response of the demo's site is delayed by --delay (default 0.2 s); DNS answers are not delayed.
Checks run in stages (the latency bursts run last, alone), so the floor is the sum of each stage's slowest
check, printed as "slowest". Both surfaces are measured: the runner (as `launch-gate check` uses it) and
`pytest --launch-gate`, whose time is its run minus its own collection-only start-up (`--collect-only`),
so pytest's start-up cost and this machine's other plugins are not counted. Prints each run and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.runner import build_plan, make_context, run_plan


def _pytest_seconds(config: Path, *extra: str) -> float:
    """Wall seconds of `pytest --launch-gate` on the post phase against `config`, in an empty directory."""
    with tempfile.TemporaryDirectory() as empty:
        command = [sys.executable, "-m", "pytest", "--launch-gate", "--gate-phase", "post", "--gate-config",
                   str(config), "-q", "-p", "no:cacheprovider", *extra]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCH_GATE_")}
        started = time.perf_counter()
        done = subprocess.run(command, cwd=empty, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pytest --launch-gate failed against the clean demo:\n{done.stdout}{done.stderr}")
    return seconds


def one_run(delay: float) -> tuple[float, float, float, int, float]:
    """Wall seconds, summed check seconds, slowest check seconds, checks passed, pytest's seconds."""
    with demo.running(delay=delay) as running:
        settings = load_settings(cwd=running.config.parent, config_file=running.config, environ={})
        plan = build_plan(settings, "post")
        started = time.perf_counter()
        report = run_plan(plan, make_context(settings, {}))
        wall = time.perf_counter() - started
        under_pytest = _pytest_seconds(running.config) - _pytest_seconds(running.config, "--collect-only")
    durations = [r.duration_ms / 1000 for r in report.results]
    stages = {p.check.id: p.check.stage for p in plan}
    # Stages run one after another (latency bursts last, alone): the critical path is each stage's slowest.
    critical = sum(
        max(r.duration_ms / 1000 for r in report.results if stages[r.id] == stage)
        for stage in set(stages.values())
    )
    passed = sum(r.outcome.value == "pass" for r in report.results)
    return wall, sum(durations), critical, passed, under_pytest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for index in range(args.runs):
        wall, total, slowest, passed, under_pytest = one_run(args.delay)
        runs.append((wall, total, slowest, passed, under_pytest))
        print(f"run {index + 1}: wall {wall:.2f} s, sum of checks {total:.2f} s, slowest per stage {slowest:.2f} s, "
              f"{passed} checks passed; under pytest {under_pytest:.2f} s")  # fmt: skip
    wall = statistics.median(r[0] for r in runs)
    total = statistics.median(r[1] for r in runs)
    slowest = statistics.median(r[2] for r in runs)
    under_pytest = statistics.median(r[4] for r in runs)
    print(json.dumps({
        "benchmark": "post_gate", "delay_s": args.delay, "runs": args.runs, "wall_s": round(wall, 2),
        "sum_of_checks_s": round(total, 2), "slowest_check_s": round(slowest, 2),
        "ratio": round(total / wall, 1), "wall_over_slowest": round(wall / slowest, 2),
        "checks_passed": min(r[3] for r in runs), "pytest_s": round(under_pytest, 2),
        "pytest_ratio": round(total / under_pytest, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
