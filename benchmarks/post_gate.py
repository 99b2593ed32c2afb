"""The post-deploy gate against the demo deployment with a slow origin: wall time against the sum of the
checks' own times. Run concurrently, the gate should take about as long as its slowest check, not the sum.

Usage: python benchmarks/post_gate.py [--delay SECONDS] [--runs N]
Every response of the demo's site is delayed by --delay (default 0.2 s); DNS answers are not delayed.
Prints each run and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.runner import build_plan, make_context, run_plan


def one_run(delay: float) -> tuple[float, float, float, int]:
    """Wall seconds, summed check seconds, slowest check seconds, and how many checks passed."""
    with demo.running(delay=delay) as running:
        settings = load_settings(cwd=running.config.parent, config_file=running.config, environ={})
        plan = build_plan(settings, "post")
        started = time.perf_counter()
        report = run_plan(plan, make_context(settings, {}))
        wall = time.perf_counter() - started
    durations = [r.duration_ms / 1000 for r in report.results]
    passed = sum(r.outcome.value == "pass" for r in report.results)
    return wall, sum(durations), max(durations), passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for index in range(args.runs):
        wall, total, slowest, passed = one_run(args.delay)
        runs.append((wall, total, slowest, passed))
        print(f"run {index + 1}: wall {wall:.2f} s, sum of checks {total:.2f} s, slowest check {slowest:.2f} s, "
              f"{passed} checks passed")  # fmt: skip
    wall = statistics.median(r[0] for r in runs)
    total = statistics.median(r[1] for r in runs)
    slowest = statistics.median(r[2] for r in runs)
    print(json.dumps({
        "benchmark": "post_gate", "delay_s": args.delay, "runs": args.runs, "wall_s": round(wall, 2),
        "sum_of_checks_s": round(total, 2), "slowest_check_s": round(slowest, 2),
        "ratio": round(total / wall, 1), "wall_over_slowest": round(wall / slowest, 2),
        "checks_passed": min(r[3] for r in runs),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
