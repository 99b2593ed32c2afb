"""Builds the plan for a phase from the check registry and runs it: concurrently, each check under a timeout,
a crash an error."""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from launch_gate.checks import Check, Context, all_checks
from launch_gate.checks.registry import known_areas, needed
from launch_gate.config import CheckSetting, Settings
from launch_gate.errors import ConfigError, LaunchGateError
from launch_gate.redact import Redactor, environ_secrets
from launch_gate.results import CheckResult, GateReport, Outcome, Phase, Verdict
from launch_gate.rules.dotenv import declared_in

PHASES = ("pre", "post", "all")
T = TypeVar("T")


@dataclass(frozen=True)
class Planned:
    """A check and the level the configuration gives it."""

    check: Check
    level: CheckSetting


class Progress(Protocol):
    """What a shell is told while the gate runs: which check started, and each result (already redacted) as
    it finishes. The command draws live progress from it, the pytest plugin hands results to its items."""

    def started(self, planned: Planned) -> None: ...

    def finished(self, planned: Planned, result: CheckResult) -> None: ...


def _matches(check_id: str, prefix: str) -> bool:
    return check_id == prefix or check_id.startswith(prefix.rstrip(".") + ".")


def _level(check_id: str, levels: Mapping[str, CheckSetting]) -> CheckSetting:
    """The most specific configured level for a check (`env.debug` beats `env`); `fail` by default."""
    keys = [k for k in levels if _matches(check_id, k)]
    return levels[max(keys, key=len)] if keys else "fail"


def build_plan(
    settings: Settings,
    phase: str = "all",
    select: Sequence[str] = (),
    checks: Sequence[Check] | None = None,
    selected_by: str = "--select",
) -> list[Planned]:
    """The checks of a phase, narrowed by `select` prefixes (`selected_by` says where they came from); a key
    or prefix matching nothing is an error. Only the check areas the plan needs are imported: a `[checks]`
    key of an area not loaded must name a known area, and is checked whole by any run that loads it."""
    if phase not in PHASES:
        raise ConfigError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}.")
    wanted = needed(phase, select) if checks is None else None
    checks = all_checks(settings, wanted) if checks is None else checks
    known = [c.id for c in checks]

    def every() -> str:  # for an error message: every check, loaded now if the plan did not need them all
        return ", ".join(c.id for c in (all_checks(settings) if wanted is not None else checks))

    for key in settings.checks:
        area = key.split(".", 1)[0]
        loaded = wanted is None or area in wanted
        if not any(_matches(i, key) for i in known) and (loaded or area not in known_areas()):
            raise ConfigError(
                f"{settings.where('checks', key)} names {key!r}, which matches no check. "
                f"Known check ids: {every()}."
            )
    for number, prefix in enumerate(select, 1):
        if not any(_matches(i, prefix) for i in known):
            raise ConfigError(
                f"{selected_by}: prefix {number} of {len(select)} matches no check (a prefix is whole id "
                f"segments, e.g. env or env.required). Known check ids: {every()}."
            )
    return [
        Planned(c, _level(c.id, settings.checks))
        for c in checks
        if (phase == "all" or c.phase == Phase(phase))
        and (not select or any(_matches(c.id, p) for p in select))
    ]


def _in_daemon_thread(func: Callable[[], T]) -> asyncio.Future[T]:
    """Run blocking work on a daemon thread, so a hung check can be abandoned at its timeout."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(setter: Callable[[], None]) -> None:
        if not future.done():
            setter()

    def work() -> None:
        try:
            value = func()
        except BaseException as exc:  # every failure becomes the future's, to be reported as an error
            error = exc
            with suppress(RuntimeError):  # the loop is gone when an abandoned check finally returns
                loop.call_soon_threadsafe(settle, lambda: future.set_exception(error))
        else:
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, lambda: future.set_result(value))

    threading.Thread(target=work, daemon=True, name="launch-gate-check").start()
    return future


async def _verdict(check: Check, ctx: Context) -> Verdict:
    if inspect.iscoroutinefunction(check.func):
        result = await check.func(ctx)
    else:
        result = await _in_daemon_thread(lambda: check.func(ctx))
        if inspect.isawaitable(result):
            result = await result
    assert isinstance(result, Verdict), f"check {check.id} returned {type(result).__name__}, not a Verdict"
    return result


async def run_one(planned: Planned, ctx: Context) -> CheckResult:
    """Run one check; a timeout or exception is an `error` result (could not verify), never a pass."""
    check = planned.check
    if planned.level == "off":
        return CheckResult(check.id, check.phase, Outcome.SKIP, "off by configuration")
    timeout = check.time_limit(ctx.settings)
    started = time.perf_counter()
    try:
        verdict = await asyncio.wait_for(_verdict(check, ctx), timeout)
    except TimeoutError:
        verdict = Verdict.of(
            Outcome.ERROR, f"could not verify: no answer within {timeout:g} s (the timeout setting)"
        )
    except (
        ConfigError
    ) as exc:  # found only once the check ran (e.g. a settings-class in the app's interpreter)
        elapsed_ms = (time.perf_counter() - started) * 1000
        message = f"configuration error: {exc}"
        return CheckResult(check.id, check.phase, Outcome.ERROR, message, elapsed_ms, config_error=True)
    except LaunchGateError as exc:
        verdict = Verdict.of(Outcome.ERROR, f"could not verify: {exc}")
    except Exception as exc:
        verdict = Verdict.of(
            Outcome.ERROR, f"could not verify: the check crashed ({type(exc).__name__}: {exc})"
        )
    outcome = verdict.outcome
    message = verdict.message
    if outcome is Outcome.FAIL and planned.level == "warn":
        outcome, message = Outcome.WARN, f"{message} (set to warn in configuration)"
    elapsed_ms = (time.perf_counter() - started) * 1000
    return CheckResult(check.id, check.phase, outcome, message, elapsed_ms, verdict.findings, verdict.metrics)


def gate_secrets(settings: Settings, environ: Mapping[str, str]) -> set[str]:
    """Everything the gate may have read that could be secret: declared and secret-named variables."""
    declared = list(settings.env.required)
    example = settings.env.example_file
    if example and (settings.root / example).is_file():
        with suppress(OSError, UnicodeDecodeError):  # env.required says what is wrong with it
            declared += declared_in((settings.root / example).read_bytes().decode("utf-8-sig"))
    return environ_secrets(environ, declared)


def redactor_for(settings: Settings, environ: Mapping[str, str], public: Iterable[str] = ()) -> Redactor:
    """The run's redactor; `public` words (check ids, the target) are never taken for pieces of a secret."""
    return Redactor(gate_secrets(settings, environ), vocabulary=public)


def make_context(settings: Settings, environ: Mapping[str, str] | None = None) -> Context:
    return Context(settings, dict(os.environ if environ is None else environ))


async def run_staged(
    plan: Iterable[Planned], ctx: Context, progress: Progress | None = None
) -> list[CheckResult]:
    """Every planned check, concurrently within each stage and stage after stage (latency bursts run alone,
    so the gate's own probes neither load the server nor delay the prober); results redacted, in plan order.
    `progress` hears of each check as it starts and finishes."""
    planned = list(plan)
    # The run's public words (check ids, the target and its host) are never taken for pieces of a secret.
    target = ctx.settings.target or ""
    public = [*(p.check.id for p in planned), target, urlsplit(target).hostname or ""]
    redactor = redactor_for(ctx.settings, ctx.environ, public)
    results: dict[int, CheckResult] = {}

    async def one(index: int) -> None:
        if progress is not None:
            progress.started(planned[index])
        result = redactor.result(await run_one(planned[index], ctx))
        # and what the check learnt while running: generated passwords, captured tokens, an inbox's password
        known = Redactor(ctx.secrets, [*public, *ctx.public]) if ctx.secrets else None
        results[index] = known.result(result) if known is not None else result
        if progress is not None:
            progress.finished(planned[index], results[index])

    for stage in sorted({p.check.stage for p in planned}):
        await asyncio.gather(*(one(i) for i, p in enumerate(planned) if p.check.stage == stage))
    # Once more with everything the run learnt: a token a later flow was handed may sit in an earlier result.
    final = Redactor(ctx.secrets, [*public, *ctx.public]) if ctx.secrets else None
    return [final.result(results[i]) if final is not None else results[i] for i in range(len(planned))]


async def run_plan_async(
    plan: Iterable[Planned], ctx: Context, progress: Progress | None = None
) -> list[CheckResult]:
    return await run_staged(plan, ctx, progress)


def run_plan(
    plan: Sequence[Planned], ctx: Context, phase: str = "all", progress: Progress | None = None
) -> GateReport:
    """Run every planned check concurrently and return the redacted report; `progress` hears of each check."""
    return GateReport(phase, tuple(asyncio.run(run_plan_async(plan, ctx, progress))))
