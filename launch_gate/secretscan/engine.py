"""Reads files and runs the detector on them, spread over processes when there is enough to scan.

A file that cannot be read or is over the size limit is reported as not scanned, never as clean. Binary files
(a NUL byte in the first 8 KiB, and not UTF-8) are counted and skipped, as detect-secrets skips them.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from launch_gate.secretscan import detector

PARALLEL_BYTES = 4_000_000  # below this, starting worker processes costs more than it saves
BINARY_PROBE = 8192


@dataclass(frozen=True)
class SecretHit:
    """A secret found in a file: its kind, where, and detect-secrets' SHA-1 of it (never the secret)."""

    file: str
    line: int
    type: str
    hashed_secret: str
    placeholder: str | None = None  # the placeholder shape of the value (`changeme`): set aside, not a secret


@dataclass(frozen=True)
class NotScanned:
    file: str
    reason: str


@dataclass
class ScanReport:
    hits: list[SecretHit] = field(default_factory=list)
    not_scanned: list[NotScanned] = field(default_factory=list)
    binary: int = 0
    files: int = 0
    bytes: int = 0

    def merge(self, other: ScanReport) -> None:
        self.hits += other.hits
        self.not_scanned += other.not_scanned
        self.binary += other.binary
        self.files += other.files
        self.bytes += other.bytes


def _detector_name(path: Path) -> str:
    """The name detect-secrets sees: relative to the working directory when inside it, as its CLI does."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def scan_file(path: Path, display: str, bundle: bool, max_bytes: int) -> ScanReport:
    report = ScanReport(files=1)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            report.not_scanned.append(NotScanned(display, f"{size} bytes, over the {max_bytes}-byte limit"))
            return report
        data = path.read_bytes()
    except OSError as exc:
        report.not_scanned.append(NotScanned(display, f"unreadable ({exc.strerror or type(exc).__name__})"))
        return report
    report.bytes = len(data)
    if b"\0" in data[:BINARY_PROBE] and not _is_utf8(data):  # detect-secrets reads any UTF-8 text
        report.binary = 1
        return report
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    analyze = detector.analyze_bundle if bundle else detector.analyze
    for hit in analyze(_detector_name(path), text):
        report.hits.append(SecretHit(display, hit.line, hit.type, hit.hashed_secret, hit.placeholder))
    return report


def scan_batch(batch: Sequence[tuple[str, str]], bundle: bool, max_bytes: int) -> ScanReport:
    report = ScanReport()
    for path, display in batch:
        report.merge(scan_file(Path(path), display, bundle, max_bytes))
    return report


def _batches(files: Sequence[tuple[Path, str, int]], count: int) -> list[list[tuple[str, str]]]:
    """Split files into `count` batches of about equal size, largest first (greedy bin packing)."""
    bins: list[list[tuple[str, str]]] = [[] for _ in range(count)]
    loads = [0] * count
    for path, display, size in sorted(files, key=lambda f: -f[2]):
        target = loads.index(min(loads))
        bins[target].append((str(path), display))
        loads[target] += size + 2000  # a per-file cost, so thousands of tiny files spread out too
    return [b for b in bins if b]


def _in_workers(
    batches: list[list[tuple[str, str]]], bundle: bool, max_bytes: int, workers: int
) -> list[ScanReport]:
    """Feed batches to `workers` processes as each finishes its last; a worker that dies is an error."""
    pending = queue.SimpleQueue[list[tuple[str, str]]]()
    for batch in batches:
        pending.put(batch)
    reports: list[ScanReport] = []
    failures: list[str] = []

    def drive() -> None:
        command = [sys.executable, "-m", "launch_gate.secretscan.worker"]
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            while not failures:
                try:
                    batch = pending.get_nowait()
                except queue.Empty:
                    break
                proc.stdin.write(
                    json.dumps({"files": batch, "bundle": bundle, "max_bytes": max_bytes}) + "\n"
                )
                proc.stdin.flush()
                answer = proc.stdout.readline()
                if not answer:
                    raise RuntimeError(proc.stderr.read().strip()[-500:] if proc.stderr else "no answer")
                reports.append(_report_from(json.loads(answer)))
        except (OSError, RuntimeError, ValueError) as exc:
            failures.append(f"a scanning worker failed: {exc}")
        finally:
            proc.stdin.close()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    threads = [threading.Thread(target=drive, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(failures[0])
    return reports


def _report_from(data: dict[str, object]) -> ScanReport:
    hits = [SecretHit(**h) for h in data["hits"]]  # type: ignore[attr-defined]
    not_scanned = [NotScanned(**n) for n in data["not_scanned"]]  # type: ignore[attr-defined]
    return ScanReport(hits, not_scanned, int(data["binary"]), int(data["files"]), int(data["bytes"]))  # type: ignore[call-overload]


def _sizes(paths: Sequence[tuple[Path, str]]) -> list[tuple[Path, str, int]]:
    sized = []
    for path, display in paths:
        try:
            sized.append((path, display, path.stat().st_size))
        except OSError:
            sized.append((path, display, 0))  # scan_file reports it as unreadable
    return sized


def scan(
    paths: Sequence[tuple[Path, str]],
    bundle: bool = False,
    max_bytes: int = 25_000_000,
    workers: int | None = None,
    min_parallel_bytes: int = PARALLEL_BYTES,
) -> ScanReport:
    """Scan (path, display name) pairs; results sorted by file and line."""
    detector.configure()
    sized = _sizes(paths)
    total = sum(min(size, max_bytes) for _, _, size in sized)
    workers = workers or min(os.cpu_count() or 1, 8)
    report = ScanReport()
    if workers < 2 or total < min_parallel_bytes:
        report.merge(scan_batch([(str(p), d) for p, d, _ in sized], bundle, max_bytes))
    else:
        for part in _in_workers(_batches(sized, workers * 16), bundle, max_bytes, workers):
            report.merge(part)
    report.hits.sort(key=lambda h: (h.file, h.line, h.type))
    report.not_scanned.sort(key=lambda n: n.file)
    return report
