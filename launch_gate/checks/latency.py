"""Latency budgets (`latency.<route>`): p50/p95/p99 and error rate of an open-model burst per configured route.

Answers are evidence: a route that answers 503 to every request has failed (error rate 100 %). Could not
verify is for a run that cannot settle the verdict: too few samples, no answer at all, or doubts (requests
with no answer, a client that sent late) large enough to turn a pass into a failure or back (`judge`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from launch_gate.checks import Check, Context, configured, new_check
from launch_gate.config import Settings
from launch_gate.config.schema import LatencyRoute
from launch_gate.errors import ConfigError
from launch_gate.net import http_options
from launch_gate.net.prober import Prober, Summary, summarize
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.words import count


def _budgets(settings: Settings, route: LatencyRoute) -> tuple[float, float | None, float]:
    table = settings.latency
    return (
        route.p95_ms or table.p95_ms,
        route.p99_ms or table.p99_ms,
        table.error_rate if route.error_rate is None else route.error_rate,
    )


def _baseline_p95(settings: Settings, check_id: str) -> float | None:
    name = settings.latency.baseline
    if not name:
        return None
    path = settings.root / name
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        checks = report["checks"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{settings.where('latency', 'baseline')}: {path} is not a launch-gate JSON report ({exc}); "
            "point it at a previous run's --report-json file."
        ) from None
    for check in checks:
        if isinstance(check, dict) and check.get("id") == check_id:
            value = (check.get("metrics") or {}).get("p95_ms")
            return float(value) if isinstance(value, int | float) else None
    return None


@dataclass(frozen=True)
class Budgets:
    """What one route must meet: percentile limits in ms, a share of failed requests, and how late the
    client may send before its lateness counts against the figures (`max-lag-ms`)."""

    p95_ms: float
    p99_ms: float | None
    error_rate: float
    max_lag_ms: float
    min_samples: int = 1
    baseline_p95_ms: float | None = None  # a previous run's p95
    regression: float = 0.25  # how much it may grow (plus 1 ms)


@dataclass(frozen=True)
class Judgement:
    """The verdict on a summary: what is over budget for certain, and what the evidence cannot settle."""

    outcome: Outcome
    over: tuple[str, ...] = ()
    doubts: tuple[str, ...] = ()


LOAD_SHORTFALL = 0.9  # a pass needs at least this share of the asked rate actually sent


class _Limit(NamedTuple):
    figure: str  # "p95"
    q: float
    value: float  # as measured
    limit: float
    budget: str  # "its 300 ms budget"
    over: str  # what to say when it is over for certain


def judge(summary: Summary, budgets: Budgets) -> Judgement:
    """Pass, fail or could not verify, deciding on measurement doubts only when they could change the verdict.

    Answers are evidence: a 5xx counts as an error however many came. Requests that got no answer at all
    (connection error, timeout, failed lookup) are unknowns: each figure is taken at both ends, as if they had
    all been answered well the moment they were given up on (a timeout took at least the timeout: timeouts
    over budget are a failure), and as if never. A client that sent late (p99 over `max-lag-ms`) is
    allowed its lateness both ways: it may have added it to what it measured (a busy client reads answers
    late) or hidden it (the server saw the requests later and fewer at a time). A figure over budget at its
    best is a failure; within budget at its worst is met; in between is could not verify.
    """
    if summary.samples < budgets.min_samples:
        why = f"only {count(summary.samples, 'sample')} (at least {budgets.min_samples}: raise rate or duration)"
        return Judgement(Outcome.ERROR, doubts=(why,))
    if summary.unanswered == summary.samples:
        return Judgement(Outcome.ERROR, doubts=(f"no request got an answer ({summary.first_unanswered})",))
    lag = summary.lag_p99 if summary.lag_p99 > budgets.max_lag_ms else 0.0
    over: list[str] = []
    doubts: list[str] = []
    for limit in _limits(summary, budgets):
        low, high = summary.bounds(limit.q)
        if low - lag > limit.limit:
            allowing = f" even allowing for the client's {lag:.0f} ms lag" if lag else ""
            timeouts = (
                f" ({_unanswered(summary)}, each counted at the time waited)" if summary.unanswered else ""
            )
            over.append(limit.over + allowing + timeouts)
        elif not high + lag <= limit.limit:  # `nan` (no figure) is a doubt, never a pass
            doubts.append(_doubt(summary, budgets, limit, low, high, lag))
    low_rate, high_rate = summary.error_rate_bounds()
    if low_rate > budgets.error_rate:
        over.append(
            f"error rate {summary.error_rate:.1%} is over {budgets.error_rate:.1%} (first: {summary.first_error})"
        )
    elif high_rate > budgets.error_rate:
        doubts.append(
            f"{_unanswered(summary)}: the error rate is within {budgets.error_rate:.1%} only if they would have "
            "been answered"
        )
    if over:
        return Judgement(Outcome.FAIL, tuple(over))
    if summary.sent_rate < LOAD_SHORTFALL * summary.rate:
        doubts.append(
            f"the client sent {summary.sent_rate:.1f} requests/s of the {summary.rate:g} asked (p99 "
            f"{summary.lag_p99:.0f} ms late): the server was not loaded as specified"
        )
    if doubts:
        return Judgement(Outcome.ERROR, doubts=tuple(doubts))
    return Judgement(Outcome.PASS)


def _limits(summary: Summary, budgets: Budgets) -> list[_Limit]:
    """Every latency limit the route has: its p95 and p99 budgets, and the baseline's p95 plus `regression`."""
    limits = [
        _Limit("p95", 95, summary.p95, budgets.p95_ms, f"its {budgets.p95_ms:g} ms budget",
               f"p95 {summary.p95:.0f} ms is over its {budgets.p95_ms:g} ms budget"),
    ]  # fmt: skip
    if budgets.p99_ms is not None:
        limits.append(
            _Limit("p99", 99, summary.p99, budgets.p99_ms, f"its {budgets.p99_ms:g} ms budget",
                   f"p99 {summary.p99:.0f} ms is over its {budgets.p99_ms:g} ms budget")
        )  # fmt: skip
    before = budgets.baseline_p95_ms
    if before is not None:
        limits.append(
            _Limit("p95", 95, summary.p95, before * (1 + budgets.regression) + 1,
                   f"the baseline's {before:.0f} ms plus {budgets.regression:.0%}",
                   f"p95 grew from {before:.0f} ms to {summary.p95:.0f} ms (more than {budgets.regression:.0%})")
        )  # fmt: skip
    return limits


def _doubt(summary: Summary, budgets: Budgets, limit: _Limit, low: float, high: float, lag: float) -> str:
    """Why a figure cannot be judged: requests with no answer decide it, or the client's lateness does."""
    if low <= limit.limit and not high <= limit.limit:
        return (
            f"{_unanswered(summary)}: {limit.figure} is within {limit.budget} only if they would have been "
            "answered in time"
        )
    return (
        f"the client sent p99 {lag:.0f} ms late (more than max-lag-ms {budgets.max_lag_ms:g}: a busy machine?) "
        f"and {limit.figure} {limit.value:.0f} ms is within that of {limit.budget}"
    )


def _unanswered(summary: Summary) -> str:
    return f"{summary.unanswered} of {count(summary.samples, 'request')} got no answer ({summary.first_unanswered})"


def line(summary: Summary) -> str:
    return (
        f"p50 {summary.p50:.1f} ms, p95 {summary.p95:.1f} ms, p99 {summary.p99:.1f} ms, "
        f"errors {summary.error_rate:.1%} of {summary.samples}"
    )


async def check_route(name: str, ctx: Context) -> Verdict:
    settings = ctx.settings
    route = settings.latency.routes[name]
    url = (settings.target or "").rstrip("/") + route.path
    table = settings.latency
    prober = Prober(http_options(settings), url, route.method, route.headers)
    samples = await prober.burst(table.rate, table.warmup + table.duration, settings.net.probe_timeout)
    summary = summarize(samples, table.warmup, table.rate)
    metrics: dict[str, object] = {"route": route.path, **summary.as_dict()}
    p95, p99, error_rate = _budgets(settings, route)
    before = _baseline_p95(settings, f"latency.{name}")
    budgets = Budgets(p95, p99, error_rate, table.max_lag_ms, table.min_samples, before, table.regression)
    judgement = judge(summary, budgets)
    metrics["budget_p95_ms"] = p95
    if before is not None:
        metrics["baseline_p95_ms"] = before
    what = f"{route.method} {route.path}"
    if judgement.outcome is Outcome.ERROR:
        return Verdict.of(
            Outcome.ERROR, f"could not verify {what}: {'; '.join(judgement.doubts)}; {line(summary)}",
            metrics=metrics,
        )  # fmt: skip
    if judgement.outcome is Outcome.FAIL:
        return Verdict.of(
            Outcome.FAIL, f"{what}: {judgement.over[0]}; {line(summary)}", [Finding(o) for o in judgement.over],
            metrics,
        )  # fmt: skip
    return Verdict.of(Outcome.PASS, f"{what}: {line(summary)}", metrics=metrics)


def _timeout(settings: Settings) -> float:
    table = settings.latency
    return table.warmup + table.duration + settings.net.probe_timeout + 10


@configured
def checks_for(settings: Settings) -> tuple[Check, ...]:
    """One check per configured route, in configuration order."""
    return tuple(
        new_check(
            f"latency.{name}",
            Phase.POST,
            f"{route.method} {route.path}: p95/p99 and error rate within budget under a fixed-rate burst",
            partial(check_route, name),
            needs_target="to measure latency",
            timeout=_timeout,
            stage=1,
            fails_when=(
                "one per route in `[latency.routes]`: p95 (or p99) over its budget, error rate over its "
                "budget (a route that answers 5xx to every request has *failed*: error rate 100 %), or p95 "
                "grown by more than `regression` against a previous JSON report. *Could not verify*: too "
                "few samples, no answer at all (connection refused, timeout, name lookup failed), or a "
                "doubt that could change the verdict: requests without an answer that decide it, or a "
                "client that sent late by more than its distance to the budget"
            ),
        )
        for name, route in settings.latency.routes.items()
    )
