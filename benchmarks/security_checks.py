"""What the security checks cost against the demo deployment: the requests each sends to the app and the
wall time it adds to the post-deploy gate. The peer is the same gate without the security checks.

Usage: python benchmarks/security_checks.py [--runs N] [--delay SECONDS]
Each run starts a fresh demo (every response delayed by --delay, default 0) and gates it: once without any
`security.*` check (the peer), once with each of ours added alone (`security.ownership`,
`security.rate-limits`, `security.logs`), once with all three. Requests are counted at the demo's edge (every
request the site served during the gate); wall time is the whole gate's. The clean demo throttles the login
after 5 wrong passwords, so the rate-limit row is the cost on a well-configured app; `--fault
no-login-throttle` shows the worst case (the whole burst). Medians of --runs. Prints each run and, last, one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.runner import build_plan, make_context, run_plan

OURS = ("security.ownership", "security.rate-limits", "security.logs")


def gate(running: demo.Demo, keep: tuple[str, ...]) -> tuple[float, int, dict[str, str], dict[str, float]]:
    """Wall seconds and requests served of the post gate without any security check but `keep`; the
    security checks' outcomes and own seconds."""
    settings = load_settings(cwd=running.config.parent, config_file=running.config, environ={})
    plan = [
        p
        for p in build_plan(settings, "post")
        if not p.check.id.startswith("security.") or p.check.id in keep
    ]
    before = len(running.site.requests)
    started = time.perf_counter()
    report = run_plan(plan, make_context(settings, {}))
    wall = time.perf_counter() - started
    ours = [r for r in report.results if r.id.startswith("security.")]
    own = {r.id: r.duration_ms / 1000 for r in ours}
    return wall, len(running.site.requests) - before, {r.id: r.outcome.value for r in ours}, own


def one_run(delay: float, faults: list[str]) -> dict[str, tuple[float, int, float]]:
    """name -> (the gate's wall seconds, requests served, the named check's own seconds) for each gate."""
    figures: dict[str, tuple[float, int, float]] = {}
    for name, keep in (("peer", ()), *((i, (i,)) for i in OURS), ("all", OURS)):
        with demo.running(faults, delay=delay) as running:
            wall, requests, outcomes, own = gate(running, keep)
            if running.site.users or running.site.bookings:
                raise SystemExit(f"{name}: {running.leftovers()}")
        figures[name] = (wall, requests, own.get(name, sum(own.values())))
        shown = ", ".join(f"{k} {v}" for k, v in outcomes.items()) or "no security check"
        print(f"  {name:<22} {wall:6.2f} s {requests:5d} requests  own {figures[name][2]:5.2f} s  ({shown})")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--fault", action="append", default=[])
    args = parser.parse_args()
    runs = []
    for index in range(args.runs):
        print(f"run {index + 1}:", flush=True)
        runs.append(one_run(args.delay, args.fault))

    def median(name: str, which: int) -> float:
        return statistics.median(r[name][which] for r in runs)

    peer_s, peer_requests = median("peer", 0), median("peer", 1)
    added = {
        name: {
            "requests": round(median(name, 1) - peer_requests),
            "wall_s": round(median(name, 0) - peer_s, 2),
            "own_s": round(median(name, 2), 2),
        }
        for name in (*OURS, "all")
    }
    print(json.dumps({
        "benchmark": "security_checks", "runs": args.runs, "delay_s": args.delay, "faults": args.fault,
        "peer_wall_s": round(peer_s, 2), "peer_requests": round(peer_requests),
        "with_security_wall_s": round(median("all", 0), 2), "with_security_requests": round(median("all", 1)),
        "ratio": round(median("all", 0) / peer_s, 2), "added": added,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
