"""Writing a gate run to the history: `launch-gate check --history` (or a `[history] url`) calls this."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from launch_gate.config import Settings
from launch_gate.history.kinds import Signals, signals
from launch_gate.history.store import History, Run, deploy_commit, new_run_id
from launch_gate.history.urls import public_target, target_secrets
from launch_gate.redact import Redactor
from launch_gate.results import CheckResult, GateReport


def core_bounds(settings: Settings) -> dict[str, float]:
    """`latency.<route>` -> the p95 bound (ms) of each core route: `[watch] core-routes`, else every route."""
    routes = settings.watch.core_routes or list(settings.latency.routes)
    return {f"latency.{name}": settings.watch.p95_ms for name in routes}


def result_signals(settings: Settings, results: Sequence[CheckResult]) -> dict[str, Signals]:
    bounds = core_bounds(settings)
    return {r.id: signals(r, bounds.get(r.id)) for r in results}


def without_target_secrets(target: str | None, results: Sequence[CheckResult]) -> list[CheckResult]:
    """`results` with the target's credentials (a password, a query token) removed from every message: the
    run's redactor takes the target for a public word."""
    secrets = target_secrets(target)
    if not secrets:
        return list(results)
    redactor = Redactor(secrets, vocabulary=[public_target(target) or "", *(r.id for r in results)])
    return [redactor.result(r) for r in results]


def record_gate(
    settings: Settings,
    report: GateReport,
    started_at: float,
    finished_at: float,
    environ: Mapping[str, str],
    source: str = "check",
) -> int:
    """Write one gate run and its results; returns the rows written. Raises ConfigError or CouldNotVerify."""
    run = Run(
        new_run_id(),
        source,
        started_at,
        finished_at,
        report.phase,
        report.verdict,
        int(report.exit_code),
        deploy_commit(settings.root, environ),
        settings.target,
        settings.environment,
    )
    results = without_target_secrets(settings.target, report.results)
    with History.open(settings.history.url, settings.root) as history:
        return history.record(run, results, result_signals(settings, results))
