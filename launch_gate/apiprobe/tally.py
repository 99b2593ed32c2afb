"""What a probe run found and how much it spent: the budget every loop checks, and the tally it fills."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Budget:
    """Requests and seconds left to the whole run: every request asks first, and none is sent past either."""

    max_requests: int
    seconds: float
    deadline: float  # time.monotonic() after which nothing more is sent
    sent: int = 0

    @classmethod
    def of(cls, max_requests: int, seconds: float) -> Budget:
        return cls(max_requests, seconds, time.monotonic() + seconds)

    def restart(self) -> None:
        """Count the seconds from now: what came before (fetching the document) was not probing."""
        self.deadline = time.monotonic() + self.seconds

    def left(self) -> bool:
        return self.sent < self.max_requests and time.monotonic() < self.deadline


@dataclass(frozen=True)
class Problem:
    """One operation's wrong answer (or no answer) to bad input, with the command that repeats it."""

    operation: str  # "POST /api/signup"
    what: str  # "answered 500 with a stack trace ('Traceback (most recent call last)')"
    reproduction: str  # a curl command, redacted


@dataclass
class Tally:
    """The run, for the verdict: problems first, then what could not be judged, then what was not tried."""

    source: str  # what generated the requests, for the message
    operations: list[str] = field(default_factory=list)  # in the order they were probed
    problems: list[Problem] = field(default_factory=list)
    unanswered: list[Problem] = field(default_factory=list)  # no answer at all: could not verify
    untried: list[str] = field(default_factory=list)  # the budget ran out first
    ungenerated: dict[str, str] = field(default_factory=dict)  # operation -> why no request could be made
    unreadable: dict[str, str] = field(default_factory=dict)  # the document's operations that cannot be read
    accepted: list[str] = field(default_factory=list)  # writes that took a malformed body with a 2xx
    sent: int = 0
    seconds: float = 0.0
    note: str = ""  # what the run held back, e.g. writes against production

    def spoiled(self, operation: str) -> bool:
        """Whether `operation` already has a wrong or missing answer: one is enough, the rest of its budget
        goes to the other operations."""
        return any(p.operation == operation for p in (*self.problems, *self.unanswered))
