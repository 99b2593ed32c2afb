"""The Locust side of a load run, in the child process `launch_gate.load.worker` starts: Locust used as a
library (an `Environment` and its local, master or worker runner), the journeys sent with
`launch_gate.load.journey`, and data left behind: Locust's CSV files and HTML report, and `result.json` with
the figures the check judges (per journey and overall, p95 over time, how the run stopped, workers lost).

Importing this module imports Locust, which monkey-patches the whole process with gevent: only the child
imports it (`launch_gate.load.worker`), never the gate's own process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
import locust.runners
import locust.stats
from locust import User, between, events
from locust.env import Environment
from locust.html import get_html_report
from locust.runners import MasterRunner, Runner, WorkerRunner
from locust.stats import StatsCSVFileWriter, StatsEntry, calculate_response_time_percentile

from launch_gate.load.journey import Journey, Sent, http_options, session_client
from launch_gate.load.spec import RUNNING

STOP_WITHIN = 10.0  # seconds sessions get to finish their step and cleanup when the run stops
REPORT_INTERVAL = 0.5  # seconds between a worker's stats reports (Locust's default is 3)
LOST_AFTER = 2.0  # seconds without a report after which a worker counts as lost
NO_ANSWER = "no answer ("


class Budget:
    """The requests this process may still send, and whether the run is stopping: a session sends no new
    step once either says so, and goes straight to its cleanup (which always runs: data is never left)."""

    def __init__(self, cap: int) -> None:
        self.left = cap
        self.stopping = False

    def take(self) -> bool:
        if self.left <= 0 or self.stopping:
            return False
        self.left -= 1
        return True

    def stop(self, **_: object) -> None:
        self.stopping = True


def user_class(spec: Mapping[str, Any], budget: Budget) -> type[User]:
    """A Locust user whose tasks are the profile's journeys, weighted; each task is one session."""
    shape = spec["shape"]
    options = http_options(spec["net"], shape["headers"])
    think_low, think_high = shape["think_time"]
    journeys = [Journey.from_spec(j, spec["target"], spec["identity"]) for j in spec["journeys"]]
    weights = {j["name"]: int(j["weight"]) for j in spec["journeys"]}
    environ = dict(os.environ)

    def think() -> None:
        if think_high > 0:
            time.sleep(random.uniform(think_low, think_high))  # noqa: S311 (think time, not a secret)

    def task_for(journey: Journey) -> Callable[[User], None]:
        def session(user: User) -> None:
            fire = user.environment.events.request.fire

            def report(sent: Sent) -> None:
                fire(
                    request_type=sent.method,
                    name=sent.name,
                    response_time=sent.ms,
                    response_length=sent.size,
                    exception=sent.error,
                    context={},
                )

            if shape["new_connection"]:
                with session_client(options) as http:
                    journey.run(http, environ, report, think, budget.take)
            else:
                journey.run(user.http, environ, report, think, budget.take)  # type: ignore[attr-defined]

        session.__name__ = journey.name
        return session

    def on_start(user: User) -> None:
        if not shape["new_connection"]:
            user.http = session_client(options)  # type: ignore[attr-defined]

    return type(
        str(spec["profile"]),
        (User,),
        {
            "tasks": {task_for(j): weights[j.name] for j in journeys},
            "wait_time": between(*shape["pause"]),
            "host": spec["target"],
            "on_start": on_start,
            "__module__": __name__,
        },
    )


def _grouped(entries: Mapping[Any, StatsEntry], stats: Any) -> dict[str, StatsEntry]:
    """Per journey: its steps' entries (named `<journey>/<step>`) merged into one."""
    merged: dict[str, StatsEntry] = {}
    for entry in entries.values():
        journey = entry.name.split("/", 1)[0]
        if journey not in merged:
            merged[journey] = StatsEntry(stats, journey, "")
        merged[journey].extend(entry)
    return merged


def _figures(entry: StatsEntry, errors: Mapping[Any, Any], prefix: str | None) -> dict[str, Any]:
    mine = [e for e in errors.values() if prefix is None or e.name.split("/", 1)[0] == prefix]
    unanswered = sum(e.occurrences for e in mine if str(e.error).startswith(NO_ANSWER))
    top = max(mine, key=lambda e: e.occurrences, default=None)
    answered = entry.num_requests
    return {
        "requests": answered,
        "failures": entry.num_failures,
        "unanswered": unanswered,
        "p50_ms": entry.get_response_time_percentile(0.5) if answered else None,
        "p95_ms": entry.get_response_time_percentile(0.95) if answered else None,
        "p99_ms": entry.get_response_time_percentile(0.99) if answered else None,
        "avg_bytes": round(entry.avg_content_length, 1) if answered else None,
        "first_failure": f"{top.name}: {top.error}" if top is not None else "",
    }


class Series:
    """p95 over time per journey: each tick, the p95 of the requests that ended since the last one."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last: dict[str, dict[int, int]] = {}
        self.points: dict[str, list[list[float]]] = {}

    def sample(self, grouped: Mapping[str, StatsEntry]) -> None:
        at = round(time.monotonic() - self.started, 2)
        for journey, entry in grouped.items():
            now = dict(entry.response_times)
            before = self.last.get(journey, {})
            window = {k: v - before.get(k, 0) for k, v in now.items() if v - before.get(k, 0) > 0}
            self.last[journey] = now
            count = sum(window.values())
            if count:
                p95 = calculate_response_time_percentile(window, count, 0.95)
                self.points.setdefault(journey, []).append([at, float(p95), float(count)])


def _write(out: Path, name: str, data: Mapping[str, Any]) -> None:
    tmp = out / f".{name}.tmp"
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(out / name)


def _wait_for_workers(runner: MasterRunner, expect: int, within: float) -> int:
    deadline = time.monotonic() + within
    while len(runner.clients.ready) < expect and time.monotonic() < deadline:
        gevent.sleep(0.1)
    return len(runner.clients.ready)


def drive(
    env: Environment, runner: Runner, spec: Mapping[str, Any], out: Path, expect: int
) -> dict[str, Any]:
    """Start the users, sample p95 over time, stop at the duration or the request cap; the figures."""
    result: dict[str, Any] = {"profile": spec["profile"], "users": spec["users"], "lost_workers": []}
    last_report: dict[str, float] = {}
    distributed = isinstance(runner, MasterRunner)
    if distributed:

        def seen(client_id: str, data: object) -> None:
            last_report[client_id] = time.monotonic()

        env.events.worker_report.add_listener(seen)  # type: ignore[no-untyped-call]
    runner.start(int(spec["users"]), float(spec["spawn_rate"]))
    series = Series()
    started = time.monotonic()
    ends = started + float(spec["duration"])
    tick = float(spec["tick"])
    next_tick = started + tick
    result["stopped_by"] = "duration"
    while time.monotonic() < ends:  # bounded by the duration
        gevent.sleep(0.05)
        if env.stats.total.num_requests >= int(spec["max_requests"]):
            result["stopped_by"] = "max-requests"
            break
        if time.monotonic() >= next_tick:
            series.sample(_grouped(env.stats.entries, env.stats))
            next_tick += tick
        if distributed and runner.worker_count <= 0:  # type: ignore[attr-defined]
            result["stopped_by"] = "no worker left"
            break
    series.sample(_grouped(env.stats.entries, env.stats))
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    if distributed:
        now = time.monotonic()
        master = runner
        assert isinstance(master, MasterRunner)
        missing = {c.id for c in master.clients.missing}
        result["lost_workers"] = sorted(
            w
            for w in result.setdefault("workers", sorted(last_report))
            if w in missing or now - last_report.get(w, 0) > LOST_AFTER
        )
        result["workers_reporting"] = len(last_report)
    runner.quit()
    grouped = _grouped(env.stats.entries, env.stats)
    result["overall"] = _figures(env.stats.total, env.stats.errors, None)
    result["journeys"] = {
        name: _figures(entry, env.stats.errors, name) for name, entry in sorted(grouped.items())
    }
    result["rps"] = round(env.stats.total.num_requests / max(result["elapsed_s"], 0.001), 2)
    result["series"] = series.points
    return result


def _environment(spec: Mapping[str, Any], budget: Budget) -> Environment:
    env = Environment(
        user_classes=[user_class(spec, budget)], events=events, host=spec["target"], stop_timeout=STOP_WITHIN
    )
    env.events.test_stopping.add_listener(budget.stop)  # type: ignore[no-untyped-call]
    return env


def _csv_writer(env: Environment, out: Path) -> StatsCSVFileWriter:
    writer = StatsCSVFileWriter(
        env, locust.stats.PERCENTILES_TO_REPORT, str(out / "locust"), full_history=True
    )
    gevent.spawn(writer.stats_writer)
    return writer


def run_local_or_master(args: argparse.Namespace, spec: Mapping[str, Any], out: Path) -> int:
    budget = Budget(int(spec["max_requests"]))
    env = _environment(spec, budget)
    if args.role == "master":
        host, _, port = args.bind.rpartition(":")
        runner: Runner = env.create_master_runner(host, int(port))
        assert isinstance(runner, MasterRunner)
        connected = _wait_for_workers(runner, args.expect, args.connect_within)
        if connected < args.expect:
            runner.quit()
            _write(
                out,
                "result.json",
                {
                    "error": f"only {connected} of {args.expect} workers connected within {args.connect_within:g} s"
                },
            )
            return 2
    else:
        runner = env.create_local_runner()
    gevent.spawn(locust.stats.stats_history, runner)
    writer = _csv_writer(env, out)
    result = drive(env, runner, spec, out, args.expect)
    writer.close_files()
    html = get_html_report(env)  # type: ignore[no-untyped-call]
    (out / "locust.html").write_text(html, encoding="utf-8")
    _write(out, "result.json", result)
    return 0


def run_worker(args: argparse.Namespace, spec: Mapping[str, Any]) -> int:
    """A worker: connect, run what the master says, stop when it says so (or when the time is up)."""
    locust.runners.WORKER_REPORT_INTERVAL = REPORT_INTERVAL
    locust.runners.CONNECT_RETRY_COUNT = max(1, int(args.connect_within // locust.runners.CONNECT_TIMEOUT))
    env = _environment(spec, Budget(int(spec["max_requests"])))

    def running(**_: object) -> None:
        print(RUNNING, file=sys.stderr, flush=True)

    env.events.test_start.add_listener(running)  # type: ignore[no-untyped-call]
    try:
        runner = env.create_worker_runner(args.master_host, args.master_port)
    except ConnectionError:
        print(f"launch-gate load worker: no master at {args.master_host}:{args.master_port}", file=sys.stderr)
        return 2
    assert isinstance(runner, WorkerRunner)
    limit = args.connect_within + float(spec["duration"]) + 30  # every wait bounded
    finished = runner.greenlet.join(timeout=limit)
    if not finished:
        runner.quit()
        print("launch-gate load worker: the master never said stop; gave up", file=sys.stderr)
        return 2
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m launch_gate.load.worker")
    parser.add_argument("spec", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--role", choices=("local", "master", "worker"), default="local")
    parser.add_argument("--bind", default="127.0.0.1:5557")
    parser.add_argument("--expect", type=int, default=1)
    parser.add_argument("--connect-within", type=float, default=60.0)
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    if args.role == "worker":
        return run_worker(args, spec)
    args.out.mkdir(parents=True, exist_ok=True)
    return run_local_or_master(args, spec, args.out)
