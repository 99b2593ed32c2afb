"""Requests/s the demo sustains under three clients on one machine, in one run: the gate's own prober
(launch_gate.net.prober, open model, the fastest rate it keeps up with), Locust in one process, and Locust
with a master and 2 worker processes (`launch-gate load --processes 2`), each driving the demo's `search`
and `home` journeys with no think time. Also the client-side CPU per request of the Locust runs (the
children's CPU time over their requests), and the ratio of worker scaling (2 workers vs 1 process).

The demo shares the machine (and its cores) with the clients: on a 2-core runner the server, not the
client, is usually the ceiling, and the ratio says so. Run it on a bigger machine to see clients scale.

Usage: python benchmarks/load_scale.py [--duration 5] [--users 20]
Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
from pathlib import Path

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.load.runner import run_profile
from launch_gate.net import http_options
from launch_gate.net.prober import Prober, summarize

PROFILE = """
[load.profiles.bench]
shape = "plain"
users = {users}
ramp = 0.5
duration = {duration}
max-requests = 200000
[load.profiles.bench.journeys.home]
steps = [{{ path = "/", public = true }}]
[load.profiles.bench.journeys.search]
steps = [{{ path = "/api/coaches?q=yoga" }}]
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def locust(config: Path, out: Path, mode: dict[str, object]) -> tuple[float, float]:
    """Requests/s and client CPU ms per request of one Locust run of the bench profile."""
    settings = load_settings(
        config_file=config, environ={}, overrides={"load": {"output-dir": str(out), **mode}}
    )
    before = _children_cpu()
    summary = run_profile(settings, "bench", {})
    cpu = _children_cpu() - before
    if summary.error or not summary.overall.requests:
        raise SystemExit(f"the Locust run failed: {summary.error}")
    return summary.rps or 0.0, cpu * 1000 / summary.overall.requests


def prober(config: Path, duration: float) -> float:
    """The highest of a few rates the prober sends and gets answered within 10 %, in requests/s."""
    settings = load_settings(config_file=config, environ={})
    url = (settings.target or "").rstrip("/") + "/api/coaches?q=yoga"
    best = 0.0
    for rate in (100, 200, 400, 800):
        samples = asyncio.run(Prober(http_options(settings), url, "GET", {}).burst(rate, duration, 5))
        summary = summarize(samples, 0.0, rate)
        answered = summary.samples - summary.unanswered
        achieved = min(summary.sent_rate, answered / duration)
        if achieved < 0.9 * rate:
            break
        best = achieved
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    with demo.running() as running, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "launch-gate.toml"
        text = running.config.read_text(encoding="utf-8")
        config.write_text(text + PROFILE.format(users=args.users, duration=args.duration), encoding="utf-8")
        gate = prober(running.config, min(args.duration, 3.0))
        one, one_cpu = locust(config, Path(tmp) / "one", {"mode": "local"})
        two, two_cpu = locust(config, Path(tmp) / "two", {"mode": "processes", "processes": 2})
    print(f"{'client':<34} {'requests/s':>10} {'client CPU ms/request':>22}")
    print(f"{'gate prober (open model)':<34} {gate:>10.1f} {'-':>22}")
    print(f"{'Locust, 1 process':<34} {one:>10.1f} {one_cpu:>22.2f}")
    print(f"{'Locust, master + 2 workers':<34} {two:>10.1f} {two_cpu:>22.2f}")
    result = {
        "benchmark": "load_scale",
        "ratio": round(two / one, 2) if one else None,
        "prober_rps": round(gate, 1),
        "locust_1_rps": round(one, 1),
        "locust_2_workers_rps": round(two, 1),
        "locust_1_cpu_ms_per_request": round(one_cpu, 2),
        "locust_2_workers_cpu_ms_per_request": round(two_cpu, 2),
        "users": args.users,
        "duration_s": args.duration,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
