"""How far the gate's latency figures are from the truth, next to an independent tool measured in the same run.

A loopback HTTP/1.1 server delays each response by a known amount drawn from a seeded distribution (2 ms plus
a log-normal with a 15 ms median) and records each request's service time: that is the ground truth. Two
cases: `steady`, and `stall`, where the server freezes for 1 s and every request arriving then waits out
the rest of it. Each case is measured by the gate's prober (launch_gate.net.prober: open model, fixed arrival
rate), by httpx's AsyncClient on the same schedule, and by `hey` (Debian's package; a closed model: each of
its workers waits for its response before sending again, as most load tools do).

Goal: the gate's p50/p95/p99 within +-(1 ms + 2 %) of the ground truth, and the stall visible in its p99.

Usage: python benchmarks/latency_accuracy.py [--rate 200] [--duration 5] [--warmup 1]
Prints a table per case and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from launch_gate.net.http import HttpOptions
from launch_gate.net.prober import Prober, percentile, summarize

STALL_AT, STALL_FOR = 2.0, 1.0  # seconds after the first request


def delays(seed: int, count: int) -> list[float]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible delay plan, not a secret
    return [min(0.250, 0.002 + rng.lognormvariate(-4.2, 0.5)) for _ in range(count)]  # median ~15 ms


@dataclass
class Server:
    """Answers GET with a delay from `plan`, in arrival order; records (arrival, service seconds)."""

    plan: list[float]
    stall: bool = False
    records: list[tuple[float, float]] = field(default_factory=list)
    first: float | None = None
    port: int = 0
    writers: set[asyncio.StreamWriter] = field(default_factory=set)
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.writers.add(writer)
        self.handlers.add(task)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                arrived = time.perf_counter()
                self.first = self.first or arrived
                index = len(self.records)
                self.records.append((arrived - self.first, 0.0))
                wait = self.plan[index % len(self.plan)]
                since = arrived - self.first
                if self.stall and STALL_AT <= since < STALL_AT + STALL_FOR:
                    wait += STALL_AT + STALL_FOR - since
                await asyncio.sleep(wait)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
                await writer.drain()
                self.records[index] = (arrived - self.first, time.perf_counter() - arrived)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.writers.discard(writer)
            self.handlers.discard(task)


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def start() -> asyncio.base_events.Server:
        made = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=2048)
        server.port = made.sockets[0].getsockname()[1]
        ready.set()
        return made

    made = loop.run_until_complete(start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(shut_down(made, server), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def shut_down(made: asyncio.base_events.Server, server: Server) -> None:
    """Stop listening, close every connection still open (a closed-model tool keeps its own open) and wait
    for their handlers to return, so that no task is pending when the loop closes."""
    made.close()
    for writer in list(server.writers):
        writer.close()
    await asyncio.wait_for(asyncio.gather(*list(server.handlers), return_exceptions=True), 10)
    await made.wait_closed()
    await asyncio.sleep(0)  # the transports' connection_lost callbacks


def figures(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    return {q: round(percentile(ordered, float(q[1:])), 2) for q in ("p50", "p95", "p99")}


def truth_of(server: Server, skip: int) -> dict[str, float]:
    return figures([service * 1000 for _, service in server.records[skip:]])


def gate(port: int, rate: float, duration: float, warmup: float) -> dict[str, float]:
    prober = Prober(HttpOptions(), f"http://127.0.0.1:{port}/")
    samples = asyncio.run(prober.burst(rate, warmup + duration, 10.0))
    summary = summarize(samples, warmup, rate)
    return {"p50": round(summary.p50, 2), "p95": round(summary.p95, 2), "p99": round(summary.p99, 2),
            "lag_p99": round(summary.lag_p99, 2)}  # fmt: skip


def with_httpx(port: int, rate: float, duration: float, warmup: float) -> dict[str, float]:
    """httpx's AsyncClient on the same open-model schedule."""

    async def run() -> list[tuple[float, float]]:
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
        async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=10) as client:
            loop = asyncio.get_running_loop()
            start = loop.time() + 0.01

            async def one(index: int) -> tuple[float, float]:
                await asyncio.sleep(max(0.0, start + index / rate - loop.time()))
                sent = time.perf_counter()
                await client.get(f"http://127.0.0.1:{port}/")
                return index / rate, (time.perf_counter() - sent) * 1000

            return list(await asyncio.gather(*(one(i) for i in range(int(rate * (warmup + duration))))))

    return figures([ms for due, ms in asyncio.run(run()) if due >= warmup])


def with_hey(port: int, rate: float, duration: float) -> dict[str, float] | None:
    """hey at the same total rate (10 workers, each rate-limited); its CSV gives every request's time."""
    if shutil.which("hey") is None:
        return None
    workers = 10
    done = subprocess.run(
        ["hey", "-z", f"{duration}s", "-c", str(workers), "-q", str(rate / workers), "-o", "csv",
         f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, timeout=duration + 60, check=True,
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    return {**figures([float(r["response-time"]) * 1000 for r in rows]), "samples": len(rows)}


def within(measured: dict[str, float], truth: dict[str, float]) -> bool:
    return all(abs(measured[q] - truth[q]) <= 1.0 + 0.02 * truth[q] for q in ("p50", "p95", "p99"))


def case(name: str, rate: float, duration: float, warmup: float) -> dict[str, object]:
    count = int(rate * (warmup + duration)) + 100
    stall = name == "stall"
    skip = int(rate * warmup)
    with serving(Server(delays(7, count), stall)) as server:
        ours = gate(server.port, rate, duration, warmup)
        truth = truth_of(server, skip)
    with serving(Server(delays(7, count), stall)) as server:
        via_httpx = with_httpx(server.port, rate, duration, warmup)
        truth_httpx = truth_of(server, skip)
    with serving(Server(delays(7, count), stall)) as server:
        via_hey = with_hey(server.port, rate, warmup + duration)
    rows = [("ground truth", truth), ("launch-gate", ours), ("httpx (same schedule)", via_httpx)]
    if via_hey is not None:
        rows.append((f"hey ({via_hey['samples']} requests, closed model)", via_hey))
    print(f"\n{name}: {rate:g} requests/s for {duration:g} s after a {warmup:g} s warm-up")
    for label, row in rows:
        print(f"  {label:<38} p50 {row['p50']:8.2f}  p95 {row['p95']:8.2f}  p99 {row['p99']:8.2f} ms")
    return {
        "truth": truth, "gate": ours, "gate_within_goal": within(ours, truth),
        "httpx": via_httpx, "httpx_within_goal": within(via_httpx, truth_httpx), "hey": via_hey,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    args = parser.parse_args()
    steady = case("steady", args.rate, args.duration, args.warmup)
    stalled = case("stall", args.rate, args.duration, args.warmup)
    hey_stall = stalled["hey"]
    print(json.dumps({
        "benchmark": "latency_accuracy", "rate": args.rate, "duration_s": args.duration,
        "within_goal": bool(steady["gate_within_goal"] and stalled["gate_within_goal"]),
        "steady": steady, "stall": stalled,
        "stall_visible_in_p99": stalled["gate"]["p99"] >= 500,  # type: ignore[index]
        "hey_stall_p99_ms": hey_stall["p99"] if isinstance(hey_stall, dict) else None,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
