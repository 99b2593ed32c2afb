"""The dashboard's figures, computed from the history (pure): uptime, error rates, p95 series, the deploy
timeline, incidents and the first week's error budget. Everything a chart or a table shows is here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from launch_gate.history import Incident, Row, Run
from launch_gate.history.urls import public_target

DAY = 86_400.0
WINDOWS = {"24 h": DAY, "7 d": 7 * DAY}


@dataclass(frozen=True)
class Uptime:
    check_id: str
    windows: dict[str, float | None]  # "24 h" -> percent of results that passed (None: no results)
    failures: dict[str, int]  # "24 h" -> failing results
    # the mean error share of its latency samples over 24 h (latency routes only): answers outside 2xx/3xx, or none
    error_rate: float | None
    last_outcome: str
    last_at: float
    checked: dict[str, int] = field(default_factory=dict)  # "24 h" -> results in the window


@dataclass(frozen=True)
class Series:
    """A route's p95 over time against its budget (the gate's) and the watch's bound."""

    check_id: str
    at: list[float]
    p95_ms: list[float | None]
    budget_ms: list[float | None]
    bound_ms: float | None


@dataclass(frozen=True)
class Day:
    """One day of the first week after the first deploy: the error budget's view."""

    day: int
    start: float
    p95_ms: float | None  # the worst route's p95 that day
    error_rate: float | None  # mean error share of latency samples
    runs: int
    failed_runs: int


@dataclass(frozen=True)
class Figures:
    now: float
    uptime: list[Uptime]
    overall: dict[str, float | None]
    series: list[Series]
    deploys: list[Run]
    incidents: list[Incident]
    first_week: list[Day]
    rounds: int
    first_deploy: float | None
    targets: list[str] = field(default_factory=list)


def _passed(row: Row) -> bool:
    return row.outcome in ("pass", "warn", "skip")


def _percent(good: int, total: int) -> float | None:
    return round(100.0 * good / total, 3) if total else None


def error_rate(rows: Sequence[Row]) -> float | None:
    """The mean error rate (percent) of the latency samples in `rows`: requests answered outside 2xx/3xx or
    not answered at all, not only 5xx (the routes record no more); None when none measured it."""
    rates = [r.error_rate for r in rows if r.error_rate is not None]
    return round(100.0 * sum(rates) / len(rates), 3) if rates else None


def uptime(
    rows: Sequence[Row], now: float, windows: Mapping[str, float] = WINDOWS, rate_span: float = DAY
) -> list[Uptime]:
    """Per check: uptime and failures in each window (name -> seconds), the error rate over `rate_span`."""
    by_check: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_check[row.check_id].append(row)
    found = []
    for check_id, mine in sorted(by_check.items()):
        shares, failures, checked = {}, {}, {}
        for name, span in windows.items():
            recent = [r for r in mine if r.at >= now - span]
            shares[name] = _percent(sum(_passed(r) for r in recent), len(recent))
            failures[name], checked[name] = sum(not _passed(r) for r in recent), len(recent)
        rate = error_rate([r for r in mine if r.at >= now - rate_span])
        last = max(mine, key=lambda r: r.at)
        found.append(Uptime(check_id, shares, failures, rate, last.outcome, last.at, checked))
    return found


def overall(
    runs: Sequence[Run], now: float, windows: Mapping[str, float] = WINDOWS
) -> dict[str, float | None]:
    """Percent of watch rounds (else of all runs) in which every check passed."""
    rounds = [r for r in runs if r.source == "watch"] or list(runs)
    result = {}
    for name, span in windows.items():
        recent = [r for r in rounds if r.started_at >= now - span]
        result[name] = _percent(sum(r.verdict == "ready" for r in recent), len(recent))
    return result


def series(rows: Sequence[Row], bounds: dict[str, float]) -> list[Series]:
    by_check: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.check_id.startswith("latency.") and row.p95_ms is not None:
            by_check[row.check_id].append(row)
    return [
        Series(
            check_id,
            [r.at for r in mine],
            [r.p95_ms for r in mine],
            [r.budget_p95_ms for r in mine],
            bounds.get(check_id),
        )
        for check_id, mine in sorted(by_check.items())
    ]


def first_week(runs: Sequence[Run], rows: Sequence[Row]) -> tuple[float | None, list[Day]]:
    """The seven days from the first recorded deploy (a `check` run; else the first run)."""
    deploys = [r for r in runs if r.source == "check"] or list(runs)
    if not deploys:
        return None, []
    first = min(r.started_at for r in deploys)
    days = []
    for day in range(7):
        start, end = first + day * DAY, first + (day + 1) * DAY
        mine = [r for r in rows if start <= r.at < end]
        p95s = [r.p95_ms for r in mine if r.p95_ms is not None]
        rates = [r.error_rate for r in mine if r.error_rate is not None]
        todays = [r for r in runs if start <= r.started_at < end]
        days.append(
            Day(
                day + 1,
                start,
                max(p95s) if p95s else None,
                round(100.0 * sum(rates) / len(rates), 3) if rates else None,
                len(todays),
                sum(r.verdict != "ready" for r in todays),
            )
        )
    return first, days


def figures(
    runs: Sequence[Run],
    rows: Sequence[Row],
    incidents: Sequence[Incident],
    bounds: dict[str, float],
    now: float,
) -> Figures:
    first, week = first_week(runs, rows)
    targets = sorted({shown for r in runs if (shown := public_target(r.target))})  # also rows stored raw
    return Figures(
        now=now,
        uptime=uptime(rows, now),
        overall=overall(runs, now),
        series=series(rows, bounds),
        deploys=[r for r in runs if r.source == "check"],
        incidents=list(incidents),
        first_week=week,
        rounds=sum(r.source == "watch" for r in runs),
        first_deploy=first,
        targets=targets,
    )
