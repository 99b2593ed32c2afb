"""Progress while the gate runs, for the command: on a terminal, one status line redrawn in place (which checks
run, how long, how many are done); in CI or into a pipe or file, one plain line per finished check.

Both say only check ids, outcomes and seconds, never a message: what a check found is the report's to say,
after redaction. Both implement `launch_gate.runner.Progress`.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, TextIO

from launch_gate.redact import scrub
from launch_gate.results import CheckResult, Outcome

if TYPE_CHECKING:
    from launch_gate.runner import Planned, Progress

WORDS = {
    Outcome.PASS: "pass",
    Outcome.WARN: "warn",
    Outcome.FAIL: "fail",
    Outcome.ERROR: "could not verify",
    Outcome.SKIP: "skip",
}
ERASE = "\r\x1b[2K"  # back to the line's start, erase the line
CI_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "TF_BUILD",
    "JENKINS_URL",
    "TEAMCITY_VERSION",
)


def in_ci(environ: Mapping[str, str]) -> bool:
    """Whether a CI service runs us (its log is no terminal, whatever the runner's pseudo-terminal says)."""
    flag = environ.get("CI", "").strip().lower()
    return flag not in ("", "0", "false", "no") or any(environ.get(name) for name in CI_VARIABLES)


def live(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether progress may be drawn in place on `stream`: a terminal that understands it, outside CI."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        tty = False
    return tty and not in_ci(environ) and environ.get("TERM", "") != "dumb"


class _Writer:
    """Writes to the stream; progress must never stop the gate, so a stream that broke is left alone."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def write(self, text: str) -> None:
        with self.lock, suppress(OSError, ValueError):
            self.stream.write(scrub(text))
            self.stream.flush()


class PlainProgress:
    """One line when a check finishes: `launch-gate [3/27] env.required: fail (0.01 s)`."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.out = _Writer(stream)
        self.total = total
        self.done = 0

    def started(self, planned: Planned) -> None:
        """Nothing: a log gets a line per result, not per start."""

    def finished(self, planned: Planned, result: CheckResult) -> None:
        self.done += 1
        seconds = result.duration_ms / 1000
        line = (
            f"launch-gate [{self.done}/{self.total}] {result.id}: {WORDS[result.outcome]} ({seconds:.2f} s)"
        )
        self.out.write(line + "\n")


class LiveProgress:
    """A status line redrawn in place, at least every `interval` seconds while checks run:
    `launch-gate 12/27 done · 1 failed · 4.2 s · running deps.audit 3.1 s, tls.expiry 0.4 s`."""

    def __init__(
        self,
        stream: TextIO,
        total: int,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        width: Callable[[], int] | None = None,
    ) -> None:
        self.out = _Writer(stream)
        self.total = total
        self.interval = interval
        self.clock = clock
        self.width = width or (lambda: terminal_width(stream))
        self.began = clock()
        self.running: dict[str, float] = {}  # check id -> when it started
        self.done: dict[Outcome, int] = {}
        self.state = threading.Lock()
        self.stopped = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True, name="launch-gate-progress")

    def started(self, planned: Planned) -> None:
        with self.state:
            self.running[planned.check.id] = self.clock()
        self.draw()

    def finished(self, planned: Planned, result: CheckResult) -> None:
        with self.state:
            self.running.pop(planned.check.id, None)
            self.done[result.outcome] = self.done.get(result.outcome, 0) + 1
        self.draw()

    def line(self) -> str:
        """The status line, cut to the terminal's width (a line that wraps cannot be redrawn in place)."""
        now = self.clock()
        with self.state:
            finished = sum(self.done.values())
            bad = [f"{self.done[o]} {w}" for o, w in ((Outcome.FAIL, "failed"), (Outcome.ERROR, "could not verify"))
                   if self.done.get(o)]  # fmt: skip
            running = sorted(self.running.items(), key=lambda item: item[1])
        parts = [f"launch-gate {finished}/{self.total} done", *bad, f"{now - self.began:.1f} s"]
        if running:
            parts.append(f"running {len(running)}: " + ", ".join(f"{i} {now - t:.1f} s" for i, t in running))
        text = " · ".join(parts)
        room = max(self.width() - 1, 10)
        return text if len(text) <= room else text[: room - 1] + "…"

    def draw(self) -> None:
        if not self.stopped.is_set():
            self.out.write(ERASE + self.line())

    def _tick(self) -> None:
        while not self.stopped.wait(self.interval):
            self.draw()

    def start(self) -> None:
        self.draw()
        self.ticker.start()

    def stop(self) -> None:
        """Stop redrawing and erase the line, so the report starts on a clean one."""
        self.stopped.set()
        if self.ticker.is_alive():
            self.ticker.join()
        self.out.write(ERASE)


def terminal_width(stream: TextIO) -> int:
    """The stream's columns; else `COLUMNS` or 80 (a new pseudo-terminal says 0)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns or shutil.get_terminal_size().columns


@contextmanager
def progress_for(
    stream: TextIO, environ: Mapping[str, str], total: int, quiet: bool = False
) -> Iterator[Progress | None]:
    """The progress the command shows on `stream` (none when quiet): live on a terminal, plain lines elsewhere."""
    if quiet:
        yield None
        return
    if not live(stream, environ):
        yield PlainProgress(stream, total)
        return
    shown = LiveProgress(stream, total)
    shown.start()
    try:
        yield shown
    finally:
        shown.stop()
