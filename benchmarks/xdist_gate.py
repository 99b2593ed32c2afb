"""`pytest --launch-gate` with and without pytest-xdist (`-n 2`), against the bundled demo's post phase.

Under xdist the gate's items go to one worker as one unit and run together there, so `-n 2` should take about
as long as the run without it (plus the workers' start-up), not the sum of the checks.

Usage: python benchmarks/xdist_gate.py [--delay SECONDS] [--runs N]
Each run starts the demo (every response of its site delayed by --delay, default 0.2 s), then times the whole
`pytest` command, start-up included, as a user waits for it: once without -n, once with -n 2. It also times each
command's start-up alone (`-m "not launch_gate"` deselects every gate item; xdist still starts its workers), so
the gate's own time can be told from xdist's fixed cost of starting workers. Prints each run and, last, one JSON
line with the medians: `ratio` = n2_s / serial_s (whole commands), `gate_ratio` the same net of start-up.
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


def pytest_seconds(config: Path, *extra: str) -> float:
    """Wall seconds of `pytest --launch-gate` on the post phase against `config`, in an empty directory."""
    with tempfile.TemporaryDirectory() as empty:
        command = [sys.executable, "-m", "pytest", "--launch-gate", "--gate-phase", "post", "--gate-config",
                   str(config), "-q", "-p", "no:cacheprovider", *extra]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCH_GATE_")}
        started = time.perf_counter()
        done = subprocess.run(command, cwd=empty, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    # exit code 5, "no tests ran", is the start-up measurement's (every gate item deselected)
    if done.returncode not in (0, 5) or (done.returncode == 5) != ("not launch_gate" in extra):
        raise SystemExit(f"pytest --launch-gate {' '.join(extra)} failed against the clean demo:\n"
                         f"{done.stdout}{done.stderr}")  # fmt: skip
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: list[tuple[float, float, float, float]] = []
    no_gate = ("-m", "not launch_gate")
    for index in range(args.runs):
        with demo.running(delay=args.delay) as running:
            serial = pytest_seconds(running.config)
            n2 = pytest_seconds(running.config, "-n", "2")
            serial_start = pytest_seconds(running.config, *no_gate)
            n2_start = pytest_seconds(running.config, "-n", "2", *no_gate)
        runs.append((serial, n2, serial_start, n2_start))
        print(f"run {index + 1}: without -n {serial:.2f} s (start-up {serial_start:.2f} s), "
              f"with -n 2 {n2:.2f} s (start-up {n2_start:.2f} s)")  # fmt: skip
    serial_s, n2_s, serial_start_s, n2_start_s = (statistics.median(r[i] for r in runs) for i in range(4))
    print(json.dumps({
        "benchmark": "xdist_gate", "delay_s": args.delay, "runs": args.runs, "serial_s": round(serial_s, 2),
        "n2_s": round(n2_s, 2), "ratio": round(n2_s / serial_s, 2), "serial_startup_s": round(serial_start_s, 2),
        "n2_startup_s": round(n2_start_s, 2),
        "gate_ratio": round((n2_s - n2_start_s) / (serial_s - serial_start_s), 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
