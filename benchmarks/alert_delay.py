"""How soon `launch-gate watch` alerts, and how fast its history writes.

Usage: python benchmarks/alert_delay.py [--cycles N] [--interval SECONDS] [--alert-after N] [--rows N]

Alert delay: the demo runs; a watch with `interval` (1 s) and `alert-after` (2) checks its home page; each
cycle switches the `home-500` fault on at a random moment of a round, measures the time until the incident's
alert arrives at a loopback webhook (through Apprise's json://), switches the fault off, and measures the time
until the recovery message. The expected delay is about alert-after x interval (the fault must be seen by
alert-after rounds, the first of which starts within one interval); the ratio is measured / expected.
Recovery needs one passing round: expected about one interval.

Write rate: rounds of 10 results written to the history (one transaction a round, as the watch does) on
SQLite and on a throwaway PostgreSQL server (Debian's postgresql package), against the same rows written by
the database driver alone (sqlite3's / psycopg's executemany), in rows per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.history import History, Run, new_run_id, signals
from launch_gate.results import CheckResult, Outcome, Phase
from launch_gate.watch import Alerter, Watcher, watch_plan
from launch_gate.watch.alerts import redactor_for_alerts

JITTER = secrets.SystemRandom()


@contextmanager
def webhook(arrivals: list[tuple[float, dict[str, object]]]):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            arrivals.append((time.monotonic(), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()


def wait_for(arrivals: list, count: int, limit: float = 60.0) -> float:
    deadline = time.monotonic() + limit
    while len(arrivals) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"no alert within {limit:g} s")
        time.sleep(0.005)
    return arrivals[count - 1][0]


def alert_delays(cycles: int, interval: float, alert_after: int) -> tuple[list[float], list[float]]:
    import os

    os.environ["NO_PROXY"] = "127.0.0.1"
    arrivals: list[tuple[float, dict[str, object]]] = []
    opened, recovered = [], []
    with demo.running() as running, webhook(arrivals) as hook, tempfile.TemporaryDirectory() as tmp:
        running.config.write_text(
            running.config.read_text(encoding="utf-8")
            + f'\n[watch]\ninterval = {interval}\nalert-after = {alert_after}\nchecks = ["domain.redirects"]\n'
            f'alerts = ["{hook}"]\n[history]\nurl = "sqlite:///{tmp}/h.sqlite"\n',
            encoding="utf-8",
        )
        settings = load_settings(config_file=running.config, environ={})
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        with History.open(settings.history.url, Path(tmp)) as history:
            redactor = redactor_for_alerts(settings.watch.alerts)
            watcher = Watcher(settings, watch_plan(settings), history, Alerter(settings.watch.alerts, redactor),
                              lambda _: None, {}, redactor)  # fmt: skip
            thread = threading.Thread(
                target=lambda: loop.run_until_complete(watcher.run(None, interval, stop))
            )
            thread.start()
            time.sleep(interval * 2)
            for cycle in range(cycles):
                time.sleep(JITTER.uniform(0, interval))  # a random moment of a round
                switched = time.monotonic()
                running.site.faults.add("home-500")
                opened.append(wait_for(arrivals, 2 * cycle + 1) - switched)
                time.sleep(JITTER.uniform(0, interval))
                switched = time.monotonic()
                running.site.faults.discard("home-500")
                recovered.append(wait_for(arrivals, 2 * cycle + 2) - switched)
                print(
                    f"cycle {cycle + 1}: alert after {opened[-1]:.2f} s, recovery after {recovered[-1]:.2f} s"
                )
            loop.call_soon_threadsafe(stop.set)
            thread.join(60)
    titles = [str(body["title"]) for _, body in arrivals]
    assert len(titles) == 2 * cycles, titles  # exactly one alert and one recovery per cycle
    return opened, recovered


def sample_results() -> list[CheckResult]:
    figures = {"samples": 60, "errors": 0, "error_rate": 0.0, "unanswered": 0, "p50_ms": 12.0, "p95_ms": 40.0,
               "p99_ms": 55.0, "budget_p95_ms": 300.0}  # fmt: skip
    return [
        CheckResult(
            f"latency.r{n}" if n < 5 else f"smoke.f{n}",
            Phase.POST,
            Outcome.PASS,
            "ok " * 20,
            120.0,
            metrics=figures if n < 5 else {},
        )
        for n in range(10)
    ]


def ours(url: str, rounds: int) -> float:
    """Rows per second written through History.record."""
    results = sample_results()
    marks = {r.id: signals(r, 500.0) for r in results}
    with History.open(url, Path(tempfile.gettempdir())) as history:
        started = time.perf_counter()
        for n in range(rounds):
            run = Run(new_run_id(), "watch", float(n), n + 1.0, "post", "ready", 0)
            history.record(run, results, marks)
        seconds = time.perf_counter() - started
    return rounds * (len(results) + 1) / seconds


def raw_rows(run_id: str) -> list[tuple[object, ...]]:
    return [(run_id, 1.0, "watch", f"c{n}", "pass", 120.0, "ok " * 20, 12.0, 40.0, 55.0, 0.0, 300.0, None, False)
            for n in range(10)]  # fmt: skip


RAW_TABLES = (
    "CREATE TABLE runs (id TEXT PRIMARY KEY, source TEXT, started_at REAL, finished_at REAL, phase TEXT, "
    "verdict TEXT, exit_code INTEGER)",
    "CREATE TABLE results (id {serial}, run_id TEXT, at REAL, source TEXT, check_id TEXT, outcome TEXT, "
    "duration_ms REAL, message TEXT, p50_ms REAL, p95_ms REAL, p99_ms REAL, error_rate REAL, budget_p95_ms REAL, "
    "kind TEXT, slow BOOLEAN)",
)
INSERT_RESULT = ("INSERT INTO results (run_id, at, source, check_id, outcome, duration_ms, message, p50_ms, p95_ms, "
                 "p99_ms, error_rate, budget_p95_ms, kind, slow) VALUES ({marks})")  # fmt: skip


def peer_sqlite(path: Path, rounds: int) -> float:
    """The same rows by sqlite3 alone: one transaction a round."""
    connection = sqlite3.connect(path)
    for statement in RAW_TABLES:
        connection.execute(statement.format(serial="INTEGER PRIMARY KEY"))
    insert = INSERT_RESULT.format(marks=", ".join("?" * 14))
    started = time.perf_counter()
    for n in range(rounds):
        with connection:
            run_id = new_run_id()
            connection.execute(
                "INSERT INTO runs VALUES (?, 'watch', ?, ?, 'post', 'ready', 0)", (run_id, n, n)
            )
            connection.executemany(insert, raw_rows(run_id))
    seconds = time.perf_counter() - started
    connection.close()
    return rounds * 11 / seconds


def peer_postgres(url: str, rounds: int) -> float:
    import psycopg

    with psycopg.connect(url) as connection:
        for statement in RAW_TABLES:
            connection.execute(statement.format(serial="SERIAL PRIMARY KEY"))
        connection.commit()
        insert = INSERT_RESULT.format(marks=", ".join(["%s"] * 14))
        started = time.perf_counter()
        for n in range(rounds):
            with connection.transaction():
                run_id = new_run_id()
                connection.execute("INSERT INTO runs VALUES (%s, 'watch', %s, %s, 'post', 'ready', 0)",
                                   (run_id, n, n))  # fmt: skip
                with connection.cursor() as cursor:
                    cursor.executemany(insert, raw_rows(run_id))
        return rounds * 11 / (time.perf_counter() - started)


def write_rates(rounds: int) -> dict[str, float | None]:
    from tests.postgres import fresh_database, postgres_server

    with tempfile.TemporaryDirectory() as tmp:
        rates: dict[str, float | None] = {
            "sqlite_rows_per_s": ours(f"sqlite:///{tmp}/ours.sqlite", rounds),
            "sqlite_driver_rows_per_s": peer_sqlite(Path(tmp) / "peer.sqlite", rounds),
        }
    try:
        with postgres_server() as server:
            rates["postgresql_rows_per_s"] = ours(fresh_database(server, "bench_ours"), rounds)
            rates["postgresql_driver_rows_per_s"] = peer_postgres(
                fresh_database(server, "bench_peer"), rounds
            )
    except BaseException as exc:  # pytest.skip without the server binaries: said, and SQLite's figures stand
        print(f"PostgreSQL not measured: {exc}")
        rates["postgresql_rows_per_s"] = rates["postgresql_driver_rows_per_s"] = None
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--alert-after", type=int, default=2)
    parser.add_argument("--rows", type=int, default=2000, help="rounds written per store (11 rows each)")
    args = parser.parse_args()
    opened, recovered = alert_delays(args.cycles, args.interval, args.alert_after)
    expected = args.alert_after * args.interval
    rates = write_rates(args.rows)
    for name, value in rates.items():
        print(f"{name}: {'-' if value is None else f'{value:,.0f}'}")
    result = {
        "benchmark": "alert_delay",
        "interval_s": args.interval,
        "alert_after": args.alert_after,
        "expected_s": expected,
        "alert_s_median": round(statistics.median(opened), 3),
        "alert_s_max": round(max(opened), 3),
        "ratio": round(statistics.median(opened) / expected, 3),
        "recovery_s_median": round(statistics.median(recovered), 3),
        "recovery_s_max": round(max(recovered), 3),
        "alerts": len(opened),
        **{k: None if v is None else round(v) for k, v in rates.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
