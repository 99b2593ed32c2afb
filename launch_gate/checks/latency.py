"""Latency budgets (`latency.<route>`): p50/p95/p99 and error rate of an open-model burst per configured route.

Inconclusive runs are errors, never passes: too few samples, every request failed, or a client that could
not keep its sending rate (its lateness would hide the server's).
"""

from __future__ import annotations

import json
from functools import partial

from launch_gate.checks import Check, Context
from launch_gate.config import Settings
from launch_gate.errors import ConfigError
from launch_gate.latency import Prober, Summary, summarize
from launch_gate.net import http_options
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.tables import LatencyRoute


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


def inconclusive(summary: Summary, settings: Settings) -> str | None:
    table = settings.latency
    if summary.samples < table.min_samples:
        return f"only {summary.samples} samples (at least {table.min_samples}: raise rate or duration)"
    if summary.errors == summary.samples:
        return f"every request failed ({summary.first_error})"
    if summary.lag_p99 > table.max_lag_ms:
        return (
            f"the client could not keep its rate of {summary.rate:g}/s (sent {summary.sent_rate:.1f}/s, "
            f"p99 {summary.lag_p99:.0f} ms late): the figures would hide the server's latency"
        )
    return None


def line(summary: Summary) -> str:
    return (
        f"p50 {summary.p50:.1f} ms, p95 {summary.p95:.1f} ms, p99 {summary.p99:.1f} ms, "
        f"errors {summary.error_rate:.1%} of {summary.samples}"
    )


async def check_route(name: str, ctx: Context) -> Verdict:
    settings = ctx.settings
    route = settings.latency.routes[name]
    if not settings.target:
        return Verdict.of(Outcome.SKIP, "no target: set `target` to measure latency.")
    url = settings.target.rstrip("/") + route.path
    table = settings.latency
    prober = Prober(http_options(settings), url, route.method, route.headers)
    samples = await prober.burst(table.rate, table.warmup + table.duration, settings.net.probe_timeout)
    summary = summarize(samples, table.warmup, table.rate)
    metrics = {"route": route.path, **summary.as_dict()}
    why = inconclusive(summary, settings)
    if why is not None:
        return Verdict.of(
            Outcome.ERROR, f"could not verify {route.method} {route.path}: {why}", metrics=metrics
        )
    p95, p99, error_rate = _budgets(settings, route)
    metrics["budget_p95_ms"] = p95
    over = []
    if summary.p95 > p95:
        over.append(f"p95 {summary.p95:.0f} ms is over its {p95:g} ms budget")
    if p99 is not None and summary.p99 > p99:
        over.append(f"p99 {summary.p99:.0f} ms is over its {p99:g} ms budget")
    if summary.error_rate > error_rate:
        over.append(
            f"error rate {summary.error_rate:.1%} is over {error_rate:.1%} (first: {summary.first_error})"
        )
    before = _baseline_p95(settings, f"latency.{name}")
    if before is not None and summary.p95 > before * (1 + table.regression) + 1:
        over.append(
            f"p95 grew from {before:.0f} ms to {summary.p95:.0f} ms (more than {table.regression:.0%})"
        )
    if before is not None:
        metrics["baseline_p95_ms"] = before
    if over:
        return Verdict.of(
            Outcome.FAIL, f"{route.method} {route.path}: {over[0]}; {line(summary)}", [Finding(o) for o in over],
            metrics,
        )  # fmt: skip
    return Verdict.of(Outcome.PASS, f"{route.method} {route.path}: {line(summary)}", metrics=metrics)


def _timeout(settings: Settings) -> float:
    table = settings.latency
    return table.warmup + table.duration + settings.net.probe_timeout + 10


def checks_for(settings: Settings) -> tuple[Check, ...]:
    """One check per configured route, in configuration order."""
    return tuple(
        Check(
            f"latency.{name}",
            Phase.POST,
            f"{route.method} {route.path}: p95/p99 and error rate within budget under a fixed-rate burst",
            partial(check_route, name),
            _timeout,
            stage=1,
        )
        for name, route in settings.latency.routes.items()
    )
