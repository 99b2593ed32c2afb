"""Latency measured as users meet it: an open-model burst at a fixed arrival rate, with exact percentiles.

Each request is sent at its scheduled time whether or not earlier ones have answered (a new connection is
opened when none is idle), so a stalled server shows up in the percentiles instead of slowing the client
down: no coordinated omission. A request's latency runs from when it was sent to when its whole response
was read. How late the client sent each request is kept too, so that the verdict can allow for it
(`launch_gate.checks.latency.judge`); a full garbage-collector pass, the longest stall a busy process
gives its sends, is kept out of the burst (`collector_paused`).

The client is a small HTTP/1.1 client on asyncio streams rather than httpx: its pool serialises connection
management under concurrency (httpx #3215, httpcore #924) and adds per-request overhead that shows in a
millisecond budget; `benchmarks/latency_accuracy.py` measures both against ground truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore

from launch_gate.net.addresses import is_address
from launch_gate.net.http import HttpOptions, first_address, ssl_context

MAX_IN_FLIGHT = 512
QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class Sample:
    due: float  # seconds after the start of the burst when the request was scheduled
    lag: float  # how late the client sent it (seconds)
    latency: float  # sent -> whole response read (seconds); the timeout for a request that timed out
    status: int | None  # None: no HTTP response (connection error or timeout)
    error: str | None = None


def percentile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); `ordered` is sorted.

    Infinite values (a request never answered, in a worst case) interpolate to infinity, never to `nan`:
    `inf - inf` would make every comparison with a budget False. Exactly on a rank, that rank's value.
    Only an empty list has no percentile (`nan`).
    """
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    if rank == low or ordered[low] == ordered[high]:
        return ordered[low]
    if math.isinf(ordered[high]):
        return ordered[high]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """What a burst measured, warm-up excluded. Times in milliseconds."""

    samples: int
    errors: int  # answered outside `ok`, or not answered
    p50: float
    p95: float
    p99: float
    max: float
    lag_p99: float
    rate: float  # requests per second asked for
    sent_rate: float  # requests per second actually sent
    statuses: Mapping[int, int] = field(default_factory=dict)
    first_error: str | None = None
    unanswered: int = 0  # no HTTP response at all: connection error, timeout, failed name lookup
    answered_ms: tuple[float, ...] = ()  # latencies of the answered requests, sorted
    first_unanswered: str | None = None
    unanswered_ms: tuple[float, ...] = ()  # how long each unanswered request was waited for, sorted

    @property
    def error_rate(self) -> float:
        return self.errors / self.samples if self.samples else 1.0

    def error_rate_bounds(self) -> tuple[float, float]:
        """The error rate if every unanswered request had been answered well, and if none had."""
        if not self.samples:
            return 1.0, 1.0
        return (self.errors - self.unanswered) / self.samples, self.errors / self.samples

    def bounds(self, q: float) -> tuple[float, float]:
        """The q-th percentile if every unanswered request had been answered the moment it was given up on,
        and if never.

        A request that got no answer within the time it was waited for (the timeout, or until its connection
        failed) would have taken at least that long: that is its latency's lower bound, not 0. So timeouts
        over a budget are evidence of a failure; a connection refused at once leaves the figure in doubt.
        Neither end is ever `nan` (see `percentile`); without samples both are.
        """
        waited = list(self.unanswered_ms)[: self.unanswered]
        waited += [0.0] * (self.unanswered - len(waited))  # a summary built without them: the weakest bound
        low = percentile(sorted([*waited, *self.answered_ms]), q)
        high = percentile([*self.answered_ms, *([math.inf] * self.unanswered)], q)
        return low, high

    def as_dict(self) -> dict[str, object]:
        return {
            "samples": self.samples, "errors": self.errors, "error_rate": round(self.error_rate, 4),
            "unanswered": self.unanswered,
            "p50_ms": round(self.p50, 2), "p95_ms": round(self.p95, 2), "p99_ms": round(self.p99, 2),
            "max_ms": round(self.max, 2), "client_lag_p99_ms": round(self.lag_p99, 2),
            "rate": self.rate, "sent_rate": round(self.sent_rate, 2),
        }  # fmt: skip


def summarize(samples: list[Sample], warmup: float, rate: float, ok: range = range(200, 400)) -> Summary:
    measured = [s for s in samples if s.due >= warmup]
    failed = [s for s in measured if s.status is None or s.status not in ok]
    unanswered = [s for s in measured if s.status is None]
    latencies = sorted(s.latency * 1000 for s in measured)
    answered = tuple(sorted(s.latency * 1000 for s in measured if s.status is not None))
    lags = sorted(s.lag * 1000 for s in measured)
    span = (max(s.due + s.lag for s in measured) - min(s.due + s.lag for s in measured)) if measured else 0
    statuses: dict[int, int] = {}
    for s in measured:
        if s.status is not None:
            statuses[s.status] = statuses.get(s.status, 0) + 1
    first = next((s.error or f"status {s.status}" for s in failed), None)
    return Summary(
        len(measured), len(failed), percentile(latencies, 50), percentile(latencies, 95),
        percentile(latencies, 99), latencies[-1] if latencies else math.nan, percentile(lags, 99), rate,
        (len(measured) - 1) / span if span > 0 else 0.0, statuses, first, len(unanswered), answered,
        unanswered[0].error if unanswered else None, tuple(sorted(s.latency * 1000 for s in unanswered)),
    )  # fmt: skip


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.socket = writer.get_extra_info("socket")

    def quick_ack(self) -> None:
        """Acknowledge what arrives at once. Linux otherwise may delay an ACK up to 40 ms, and a server whose
        response goes out in several small writes (TLS records, chunks) then waits for it: the delay would
        be the client's, not the server's. (A browser's connection is interactive and rarely hits this.)"""
        if QUICKACK is not None and self.socket is not None:
            with contextlib.suppress(OSError):
                self.socket.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)

    def close(self) -> None:
        self.writer.close()


@dataclass
class Prober:
    """Sends `method url` at `rate` per second for `duration` seconds through the gate's network settings."""

    options: HttpOptions
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    _idle: list[_Connection] = field(default_factory=list)
    _context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {self.url}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.tls = parts.scheme == "https"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = parts.netloc.rsplit("@", 1)[-1]
        lines = [f"{self.method} {target} HTTP/1.1", f"Host: {host_header}", "User-Agent: launch-gate latency",
                 "Accept: */*", *(f"{k}: {v}" for k, v in self.headers.items())]  # fmt: skip
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body
        if self.tls:
            self._context = ssl_context(self.options.ca_bundle)

    async def _address(self) -> tuple[str, int]:
        to_host, to_port = self.options.destination(self.host, self.port)
        if self.options.nameservers and not is_address(to_host):
            to_host = await first_address(self.options, to_host)
        return to_host, to_port

    async def _open(self, address: tuple[str, int]) -> _Connection:
        reader, writer = await asyncio.open_connection(
            address[0], address[1], ssl=self._context, server_hostname=self.host if self.tls else None,
            limit=1 << 20,
        )  # fmt: skip
        return _Connection(reader, writer)

    def _send(self, connection: _Connection) -> None:
        connection.writer.write(self.request)
        connection.quick_ack()

    async def _one(
        self,
        address: tuple[str, int],
        connection: _Connection | None,
        sent: float,
        due: float,
        lag: float,
        timeout: float,
    ) -> Sample:
        """Finish one request: open a connection and send if none was idle at its time, then read the answer."""
        try:
            async with asyncio.timeout(timeout):
                if connection is None:
                    connection = await self._open(address)
                    self._send(connection)
                status, keep = await _read_response(connection.reader, self.method)
        except TimeoutError:
            if connection is not None:
                connection.close()
            return Sample(due, lag, timeout, None, f"no response within {timeout:g} s")
        except (OSError, ssl.SSLError, ValueError, asyncio.IncompleteReadError) as exc:
            if connection is not None:
                connection.close()
            return Sample(due, lag, time.perf_counter() - sent, None, f"{type(exc).__name__}: {exc}")
        except BaseException:
            if connection is not None:
                connection.close()
            raise
        latency = time.perf_counter() - sent
        if keep:
            self._idle.append(connection)
        else:
            connection.close()
        return Sample(due, lag, latency, status)

    async def burst(self, rate: float, duration: float, timeout: float) -> list[Sample]:
        """Every request of the burst, scheduled at `start + i / rate`.

        One scheduler sleeps until the next request is due and sends it then and there on an idle connection
        (a task per request would first wait its turn on the loop); only the answer is awaited in a task.
        """
        count = max(1, int(rate * duration))
        try:
            address = await self._address()
        except (OSError, httpcore.ConnectError) as exc:
            return [Sample(i / rate, 0.0, 0.0, None, f"{type(exc).__name__}: {exc}") for i in range(count)]
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[Sample]] = []
        in_flight: set[asyncio.Task[Sample]] = set()
        start = loop.time() + 0.01
        try:
            with collector_paused():
                for index in range(count):
                    due = index / rate
                    wait = start + due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    while len(in_flight) >= MAX_IN_FLIGHT:  # the server holds them all: lateness shows it
                        await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    connection = self._idle.pop() if self._idle else None
                    sent = time.perf_counter()
                    lag = max(0.0, loop.time() - (start + due))
                    if connection is not None:
                        self._send(connection)
                    task = loop.create_task(self._one(address, connection, sent, due, lag, timeout))
                    tasks.append(task)
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:
                task.cancel()
            for connection in self._idle:
                connection.close()
            self._idle.clear()


_pause_lock = threading.Lock()
_pauses = 0


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the garbage collector's full passes from stalling the send schedule.

    A full pass walks every object the process holds and holds the GIL meanwhile: a test run of this
    project holds 114,000 (74 ms a pass; 270-460 ms on a 2-core machine with both cores busy), and one that
    comes due during a burst makes every request due meanwhile late (`benchmarks/prober_lag.py`).
    `gc.freeze()` moves what is alive now out of the collector's sight for the burst, so a pass walks only
    what was made since; young-generation passes go on as usual. Bursts may overlap: the last to end
    unfreezes.
    """
    global _pauses
    with _pause_lock:
        if _pauses == 0:
            gc.freeze()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0:
                gc.unfreeze()


async def _read_response(reader: asyncio.StreamReader, method: str) -> tuple[int, bool]:
    """Read one whole HTTP/1.1 response; (status, whether the connection may be reused)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP/1.x response: {lines[0][:60]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    keep = headers.get("connection", "").lower() != "close" and parts[0] == "HTTP/1.1"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return status, keep
    if "content-length" in headers:
        length = int(headers["content-length"])
        if length > MAX_BODY:
            raise ValueError(f"response body of {length} bytes")
        await reader.readexactly(length)
        return status, keep
    await reader.read(MAX_BODY)  # delimited by the connection closing
    return status, False
