"""How late the latency prober sends its requests on a busy machine, against its previous scheduling measured
in the same run.

A prober that sends late measures a lighter load than was asked for, and a busy client reads answers late
too; past `max-lag-ms` its lateness counts against the figures (see `launch_gate.checks.latency.judge`).
This loads every core with a CPU-bound process (`while True: pass`, one per core, ended with the run), runs a
minimal HTTP/1.1 server on 127.0.0.1 in its own process, and alternates bursts of the current prober and of
the previous one (kept below: a task per request created up front, each sleeping to its time, then a
semaphore and `asyncio.wait_for`, i.e. a second task, before it sent). The process holds what the gate's
process holds (the checks, pydantic, httpx), so a full garbage-collector pass costs what it costs there.

Besides the bursts, a thread works as a test run does (`pytest --launch-gate` measures in the background
while the tests run): short steps that leave objects behind, so full collector passes come due (`--alone`
leaves it out). The headline is the p99 of every request's lateness over all rounds of a kind;
"scheduler only" is the current scheduling without `collector_paused`, to tell the two changes apart.

Usage: python benchmarks/prober_lag.py [--rate 200] [--duration 4] [--rounds 3] [--no-load] [--alone]
Prints one line per burst and, last, one JSON line. About 40 s with the defaults; traffic to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import launch_gate.checks
import launch_gate.cli
import launch_gate.net.prober
import launch_gate.runner
from launch_gate.net.http import HttpOptions
from launch_gate.net.prober import MAX_IN_FLIGHT, Prober, Sample, _read_response, percentile

SERVER = """
import asyncio, sys

async def handle(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the benchmark ends

asyncio.run(main())
"""
HOG = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end: pass\n"


class PreviousProber(Prober):
    """The prober's scheduling before this benchmark: every request a task from the start."""

    async def _exchange(self, address: tuple[str, int]) -> int:
        connection = self._idle.pop() if self._idle else await self._open(address)
        try:
            self._send(connection)
            status, keep = await _read_response(connection.reader, self.method)
        except BaseException:
            connection.close()
            raise
        if keep:
            self._idle.append(connection)
        else:
            connection.close()
        return status

    async def burst(self, rate: float, duration: float, timeout: float) -> list[Sample]:
        address = await self._address()
        loop = asyncio.get_running_loop()
        count = max(1, int(rate * duration))
        in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        start = loop.time() + 0.01

        async def one(index: int) -> Sample:
            due = index / rate
            await asyncio.sleep(max(0.0, start + due - loop.time()))
            async with in_flight:
                sent = time.perf_counter()
                lag = max(0.0, loop.time() - (start + due))
                try:
                    status = await asyncio.wait_for(self._exchange(address), timeout)
                except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                    return Sample(due, lag, time.perf_counter() - sent, None, str(exc))
                return Sample(due, lag, time.perf_counter() - sent, status)

        try:
            return list(await asyncio.gather(*(one(i) for i in range(count))))
        finally:
            for connection in self._idle:
                connection.close()
            self._idle.clear()


@contextmanager
def server() -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield int(process.stdout.readline())
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(10)


@contextmanager
def load(on: bool, seconds: float) -> Iterator[int]:
    """One CPU-bound process per core, each ending by itself after `seconds` at the latest."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", HOG, str(seconds)])
        for _ in range((os.cpu_count() or 1) if on else 0)
    ]
    try:
        time.sleep(0.5 if on else 0)
        yield len(hogs)
    finally:
        for hog in hogs:
            hog.terminate()
        for hog in hogs:
            hog.wait(10)


class Collections:
    """The garbage collector's passes while a burst runs: how many full ones, and the longest pause."""

    def __init__(self) -> None:
        self.full = 0
        self.longest_ms = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started:  # not a pass that began before the burst did
            self.longest_ms = max(self.longest_ms, (time.perf_counter() - self._started) * 1000)
            self.full += info["generation"] == 2
        self._started = 0.0


lateness: dict[str, list[float]] = {"before": [], "scheduler only": [], "after": []}


def one_burst(kind: str, port: int, rate: float, duration: float) -> dict[str, float]:
    prober = (PreviousProber if kind == "before" else Prober)(HttpOptions(), f"http://127.0.0.1:{port}/")
    collections = Collections()
    gc.callbacks.append(collections)
    paused = launch_gate.net.prober.collector_paused
    if kind == "scheduler only":
        launch_gate.net.prober.collector_paused = contextlib.nullcontext  # type: ignore[assignment]
    try:
        samples = asyncio.run(prober.burst(rate, duration, 10.0))
    finally:
        launch_gate.net.prober.collector_paused = paused
        gc.callbacks.remove(collections)
    lags = sorted(s.lag * 1000 for s in samples)
    lateness[kind].extend(lags)
    return {
        "late_p50_ms": round(percentile(lags, 50), 2), "late_p99_ms": round(percentile(lags, 99), 2),
        "late_max_ms": round(lags[-1], 2), "full_gc": collections.full,
        "longest_gc_ms": round(collections.longest_ms, 1), "errors": sum(s.status != 200 for s in samples),
    }  # fmt: skip


def ballast(count: int) -> list[dict[str, object]]:
    """Long-lived objects, as a test run holds them (this project's `pytest --collect-only`: 114,000)."""
    return [{"id": i, "tags": [i]} for i in range(count // 2)]


@contextmanager
def test_run_beside(on: bool) -> Iterator[None]:
    """A thread that works as pytest does while `pytest --launch-gate` measures in the background: in short
    steps, each leaving objects behind (reports, captured output), so the collector's full passes come due."""
    stop = threading.Event()
    kept: list[object] = []

    def run() -> None:
        while not stop.is_set():
            kept.append([{"step": i, "out": [i]} for i in range(50)])
            if len(kept) > 1000:  # a bounded heap (100,000 objects): the oldest steps' objects go
                del kept[:100]
            time.sleep(0.005)

    thread = threading.Thread(target=run, daemon=True)
    if on:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if on:
            thread.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--heap", type=int, default=120_000, help="long-lived objects to hold besides the gate"
    )
    parser.add_argument("--no-load", action="store_true", help="no CPU-bound processes beside")
    parser.add_argument("--alone", action="store_true", help="no test run in the same process")
    args = parser.parse_args()
    kinds = ["before", "scheduler only", "after"]
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    held = ballast(args.heap)
    gc.collect()
    objects = len(gc.get_objects())
    budget = args.rounds * len(kinds) * (args.duration + 1) + 10
    with server() as port, load(not args.no_load, budget) as hogs, test_run_beside(not args.alone):
        for round_ in range(args.rounds):
            for kind in kinds if round_ % 2 == 0 else reversed(kinds):
                figures = one_burst(kind, port, args.rate, args.duration)
                results[kind].append(figures)
                print(f"round {round_ + 1} {kind:<15} " + "  ".join(f"{k} {v:g}" for k, v in figures.items()))
    del held

    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in results[kind])

    def pooled(kind: str) -> float:  # every request of every round of this kind
        return round(percentile(sorted(lateness[kind]), 99), 2)

    before, after = pooled("before"), pooled("after")
    print(json.dumps({
        "benchmark": "prober_lag", "loaded": not args.no_load, "hogs": hogs, "cores": os.cpu_count(),
        "rate": args.rate, "duration_s": args.duration, "rounds": args.rounds, "objects_in_process": objects,
        "test_run_beside": not args.alone, "loaded_late_p99_ms_before": before,
        "loaded_late_p99_ms_scheduler_only": pooled("scheduler only"),
        "loaded_late_p99_ms_after": after, "ratio": round(before / after, 2) if after else None,
        "late_max_ms": {kind: max(r["late_max_ms"] for r in results[kind]) for kind in kinds},
        "median_burst_late_p99_ms": {kind: median(kind, "late_p99_ms") for kind in kinds},
        "bursts_with_a_full_gc": {kind: sum(r["full_gc"] > 0 for r in results[kind]) for kind in kinds},
        "longest_gc_ms": {kind: max(r["longest_gc_ms"] for r in results[kind]) for kind in kinds},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
