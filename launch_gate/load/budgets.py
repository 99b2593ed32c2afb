"""A load run's figures and the verdict on them: pure, whichever tool measured (our Locust run, a Locust CSV,
a k6 summary). Answers are evidence: requests answered wrongly count as failures; a run that sent nothing,
got no answer at all, or lost a worker cannot be judged (could not verify)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from launch_gate.results import Outcome
from launch_gate.rules.words import count


@dataclass(frozen=True)
class Figures:
    """One journey's (or the whole run's) requests and latency; `requests` None when the source does not say."""

    requests: int | None
    failures: int = 0
    unanswered: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    first_failure: str = ""

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class LoadSummary:
    """What a run measured, from any source; `error` is why the run itself could not measure."""

    source: str
    overall: Figures
    journeys: Mapping[str, Figures] = field(default_factory=dict)
    rps: float | None = None
    elapsed_s: float | None = None
    series: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    lost_workers: tuple[str, ...] = ()
    stopped_by: str = ""
    error: str = ""


@dataclass(frozen=True)
class LoadBudgets:
    """The profile's limits: p95/p99 overall and per journey (a journey's own, else the profile's), the share
    of failed requests, and the throughput the run must reach."""

    p95_ms: float
    p99_ms: float | None
    error_rate: float
    min_rps: float | None
    journeys: Mapping[str, tuple[float, float | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Judgement:
    outcome: Outcome
    over: tuple[str, ...] = ()
    doubts: tuple[str, ...] = ()


def _latency(what: str, figures: Figures, p95: float, p99: float | None) -> list[str]:
    over = []
    if figures.p95_ms is not None and figures.p95_ms > p95:
        over.append(f"{what} p95 {figures.p95_ms:.0f} ms is over its {p95:g} ms budget")
    if p99 is not None and figures.p99_ms is not None and figures.p99_ms > p99:
        over.append(f"{what} p99 {figures.p99_ms:.0f} ms is over its {p99:g} ms budget")
    return over


def _cannot_judge(summary: LoadSummary) -> str | None:
    overall = summary.overall
    if summary.error:
        return summary.error
    if summary.lost_workers:
        lost = ", ".join(summary.lost_workers)
        return f"lost {count(len(summary.lost_workers), 'worker')} during the run ({lost}): its requests are missing"
    if overall.requests == 0:
        return "no request was sent (is the target up? raise duration or users)"
    if overall.requests is not None and overall.unanswered >= overall.requests:
        return f"no request got an answer ({overall.first_failure or 'connection failed'})"
    return None


def judge(summary: LoadSummary, budgets: LoadBudgets) -> Judgement:
    """Fail when a figure is over its budget; could not verify when the run cannot settle it."""
    reason = _cannot_judge(summary)
    if reason is not None:
        return Judgement(Outcome.ERROR, doubts=(reason,))
    over: list[str] = []
    doubts: list[str] = []
    for name, (p95, p99) in budgets.journeys.items():
        figures = summary.journeys.get(name)
        if figures is None or figures.requests == 0 or figures.p95_ms is None:
            doubts.append(
                f"journey {name!r} has no measured request (raise duration or users, or name it so)"
            )
            continue
        over += _latency(f"journey {name!r}", figures, p95, p99)
    overall = summary.overall
    over += _latency("overall", overall, budgets.p95_ms, budgets.p99_ms)
    if overall.error_rate > budgets.error_rate:
        over.append(
            f"error rate {overall.error_rate:.1%} of {count(overall.requests or 0, 'request')} is over "
            f"{budgets.error_rate:.1%} (most frequent: {overall.first_failure})"
        )
    if budgets.min_rps is not None:
        if summary.rps is None:
            doubts.append("the source does not say the achieved throughput, and min-rps needs it")
        elif summary.rps < budgets.min_rps:
            over.append(f"throughput {summary.rps:.1f} requests/s is under min-rps {budgets.min_rps:g}")
    if over:
        return Judgement(Outcome.FAIL, tuple(over), tuple(doubts))
    if doubts:
        return Judgement(Outcome.ERROR, doubts=tuple(doubts))
    return Judgement(Outcome.PASS)


def headline(summary: LoadSummary) -> str:
    """The run in one clause: p95 overall, errors, throughput."""
    overall = summary.overall
    parts = []
    if overall.p95_ms is not None:
        parts.append(f"p95 {overall.p95_ms:.0f} ms")
    if overall.p99_ms is not None:
        parts.append(f"p99 {overall.p99_ms:.0f} ms")
    if overall.requests is not None:
        parts.append(f"errors {overall.error_rate:.1%} of {count(overall.requests, 'request')}")
    if summary.rps is not None:
        parts.append(f"{summary.rps:.1f} requests/s")
    return ", ".join(parts)
