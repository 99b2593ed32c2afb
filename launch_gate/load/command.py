"""`launch-gate load [PROFILE]`: the settings from the flags, then the `load.<profile>` checks through the
gate's runner and reporters, with p95 over time per journey drawn under the report. `--worker` runs a worker
for a master elsewhere instead, and reports nothing itself (the master does)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from launch_gate.config import Settings, load_settings
from launch_gate.errors import ConfigError
from launch_gate.load.chart import text_chart
from launch_gate.load.spec import build_spec
from launch_gate.results import ExitCode, GateReport

FLAGS = {"target": "--target", "environment": "--environment", "load": "the load options (--processes, ...)"}


def _absolute(path: Path | None) -> str | None:
    return str(path.resolve()) if path is not None else None


def overrides(args: argparse.Namespace) -> dict[str, object]:
    """The flags as a settings layer over the files (the load table's `in-gate` on: this run is for them)."""
    load: dict[str, object] = {"in-gate": True}
    if args.processes:
        load.update({"mode": "processes", "processes": args.processes})
    if args.master:
        load["mode"] = "master"
    if args.expect_workers:
        load["expect-workers"] = args.expect_workers
    if args.master_bind:
        load["master-bind"] = args.master_bind
    if args.output_dir:
        load["output-dir"] = _absolute(Path(args.output_dir))
    if args.from_k6 or args.from_locust:
        load.update({"from-k6": _absolute(args.from_k6), "from-locust": _absolute(args.from_locust)})
    return {"target": args.target, "environment": args.environment, "load": load}


def _profiles(settings: Settings, name: str | None) -> list[str]:
    if name is None:
        if not settings.load.profiles:
            raise ConfigError(
                "no load profile configured: add [load.profiles.<name>] with its journeys (docs/load.md)"
            )
        return list(settings.load.profiles)
    if name not in settings.load.profiles:
        known = ", ".join(settings.load.profiles) or "none configured"
        raise ConfigError(f"no load profile {name!r} in [load.profiles] (known: {known})")
    return [name]


def _worker(args: argparse.Namespace, settings: Settings, names: list[str]) -> int:
    from launch_gate.load.runner import run_worker

    if len(names) != 1:
        raise ConfigError("--worker runs one profile: name it, e.g. launch-gate load marketplace --worker")
    print(
        f"launch-gate: worker for profile {names[0]!r}, master {args.master_host}:{args.master_port}",
        flush=True,
    )
    code = run_worker(settings, names[0], args.master_host, args.master_port, os.environ)
    said = "the master ran it to the end" if code == 0 else "it never reached the master, or was cut off"
    print(f"launch-gate: worker done: {said}.", file=sys.stderr if code else sys.stdout)
    return int(ExitCode.READY if code == 0 else ExitCode.COULD_NOT_VERIFY)


def run_load(args: argparse.Namespace, publish: Callable[[GateReport], int]) -> int:
    from launch_gate.report.progress import progress_for
    from launch_gate.runner import build_plan, make_context, run_plan

    settings = load_settings(config_file=args.config, overrides=overrides(args), flag_names=FLAGS)
    names = _profiles(settings, args.profile)
    if not (settings.load.from_k6 or settings.load.from_locust):
        for name in names:  # every profile's journeys and references checked before anything runs
            build_spec(settings, name)
    if args.worker:
        return _worker(args, settings, names)
    plan = build_plan(settings, "post", [f"load.{n}" for n in names], selected_by="launch-gate load")
    with progress_for(sys.stderr, os.environ, len(plan), args.quiet) as progress:
        report = run_plan(plan, make_context(settings), "post", progress)
    if not args.quiet:
        for result in report.results:
            series = result.metrics.get("series")
            budget = result.metrics.get("budget_p95_ms")
            if isinstance(series, dict) and series:
                print(f"{result.id}: p95 over time per journey")
                limit = float(budget) if isinstance(budget, int | float) else None
                print("\n".join(text_chart(series, limit)))
            if result.metrics.get("reports"):
                print(
                    f"{result.id}: Locust's CSV and HTML reports and the chart: {result.metrics['reports']}"
                )
    return publish(report)
