"""The watch: a round of post-deploy checks every `interval`, each round recorded, incidents decided from the
history, alerts sent and retried. Nothing that goes wrong in a round ends the watch: a round that crashes is
recorded as an error (check `watch.round`), a history that cannot be reached is said and tried again next
round, and a delivery that fails is retried. SIGINT and SIGTERM stop it between two database writes."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from launch_gate.config import Settings
from launch_gate.errors import LaunchGateError
from launch_gate.history import (
    WATCH_CHECK,
    Decision,
    History,
    Row,
    Run,
    decide,
    deploy_commit,
    new_run_id,
    result_signals,
)
from launch_gate.redact import Redactor, scrub
from launch_gate.results import CheckResult, ExitCode, GateReport, Outcome, Phase
from launch_gate.runner import Planned, make_context, run_plan_async
from launch_gate.watch.alerts import Alerter, compose, when

Say = Callable[[str], None]


@dataclass
class Tally:
    """What the watch did, for its last line and its exit code."""

    rounds: int = 0
    failing: int = 0  # checks failing in the last round
    history_failed: bool = False  # the last round could not be written or judged
    opened: int = 0
    closed: int = 0
    sent: int = 0
    failed_deliveries: int = 0
    open_incidents: list[str] = field(default_factory=list)


class Watcher:
    """One watch over a plan; `run` loops until `rounds` are done or `stop` is set."""

    def __init__(
        self,
        settings: Settings,
        plan: Sequence[Planned],
        history: History,
        alerter: Alerter | None,
        say: Say,
        environ: Mapping[str, str],
        redactor: Redactor,
    ) -> None:
        self.settings, self.plan, self.history, self.alerter = settings, list(plan), history, alerter
        self.say, self.environ, self.redactor = say, environ, redactor
        self.tally = Tally()
        self.commit = deploy_commit(settings.root, environ)

    # --- one round ---
    async def checks(self) -> tuple[list[CheckResult], str | None]:
        """Run the plan; a crash of the round itself becomes one error result."""
        try:
            return await run_plan_async(self.plan, make_context(self.settings, self.environ)), None
        except Exception as exc:  # a bug or a broken environment: recorded, and the watch goes on
            reason = self.redactor.text(f"the round crashed ({type(exc).__name__}: {exc})")
            return [
                CheckResult(WATCH_CHECK, Phase.POST, Outcome.ERROR, f"could not verify: {reason}")
            ], reason

    async def round(self, number: int) -> None:
        started = time.time()
        results, crash = await self.checks()
        finished = time.time()
        report = GateReport("post", tuple(results))
        run = Run(
            new_run_id(), "watch", started, finished, "post", report.verdict, int(report.exit_code),
            self.commit, self.settings.target, self.settings.environment, crash,
        )  # fmt: skip
        failing = [r for r in results if r.outcome.blocks]
        self.tally.rounds, self.tally.failing = number, len(failing)
        try:
            signals = result_signals(self.settings, results)
            self.history.record(run, results, signals)
            decision = self.judge([r.id for r in results])
            self.apply(decision, finished)
            self.tally.history_failed = False
        except LaunchGateError as exc:
            self.tally.history_failed = True
            self.say(f"round {number}: {self.redactor.text(str(exc))} (tried again next round)")
        await self.deliver()
        self.say(self.summary(number, started, finished, failing))

    def judge(self, check_ids: Sequence[str]) -> Decision:
        count = self.settings.watch.alert_after
        latest: dict[str, list[Row]] = {c: self.history.latest(c, count) for c in dict.fromkeys(check_ids)}
        return decide(latest, self.history.open_incidents(), count, self.settings.watch.p95_ms)

    def apply(self, decision: Decision, at: float) -> None:
        services = self.alerter.services if self.alerter is not None else []
        for opened in decision.opened:
            incident = self.history.open_incident(
                opened.check_id, opened.track, opened.kind, opened.since, at, opened.message
            )
            self.history.add_deliveries(incident.id, "open", services, at)
            self.tally.opened += 1
            self.say(f"incident opened: {opened.check_id} ({opened.kind}) since {when(opened.since)}")
        for closed in decision.closed:
            self.history.close_incident(closed.incident.id, at)
            self.history.add_deliveries(closed.incident.id, "close", services, at)
            self.tally.closed += 1
            self.say(f"incident closed: {closed.incident.check_id} ({closed.incident.kind}) recovered")
        for incident, message in decision.noted:
            if message != incident.last_message:
                self.history.note_incident(incident.id, message)
        self.tally.open_incidents = [f"{i.check_id} ({i.kind})" for i in self.history.open_incidents()]

    async def deliver(self) -> None:
        """Send every pending alert, oldest first; a failure is recorded and retried next round."""
        if self.alerter is None:
            return
        try:
            pending = self.history.pending_deliveries()
        except LaunchGateError:
            return  # said already by the round
        for delivery in pending:
            incident = self.history.incident(delivery.incident_id)
            if incident is None:
                continue
            message = compose(
                delivery.event, incident, self.settings.target, self.settings.watch.dashboard_url, time.time()
            )
            error = await asyncio.to_thread(self.alerter.send, delivery.destination, message)
            give_up = error is not None and delivery.attempts + 1 > self.settings.watch.retries
            with suppress(LaunchGateError):
                self.history.delivery_attempted(delivery.id, time.time(), error, give_up)
            name = self.alerter.name(delivery.destination)
            if error is None:
                self.tally.sent += 1
                self.say(f"alert sent: {delivery.event} {incident.check_id} to {name}")
            else:
                self.tally.failed_deliveries += 1
                later = "given up" if give_up else "retried next round"
                self.say(f"alert to {name} failed ({error}); {later}")

    def summary(self, number: int, started: float, finished: float, failing: Sequence[CheckResult]) -> str:
        names = ", ".join(f"{r.id} ({r.outcome.value})" for r in failing) or "none"
        incidents = ", ".join(self.tally.open_incidents) or "none"
        return (
            f"round {number} at {when(started)}: {len(self.plan)} checks in {finished - started:.1f} s, "
            f"failing: {names}; open incidents: {incidents}"
        )

    # --- the loop ---
    async def run(self, rounds: int | None, interval: float, stop: asyncio.Event) -> int:
        loop = asyncio.get_running_loop()
        number = 0
        while rounds is None or number < rounds:
            begun = loop.time()
            number += 1
            task = asyncio.create_task(self.round(number))
            halt = asyncio.create_task(stop.wait())
            await asyncio.wait({task, halt}, return_when=asyncio.FIRST_COMPLETED)
            halt.cancel()
            if not task.done():  # stopped mid-round: the round is abandoned, not recorded
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
                self.say(f"round {number} abandoned: stopping.")
                break
            if task.exception() is not None:  # a bug in the round's own bookkeeping: said, and on we go
                self.say(f"round {number} failed: {scrub(repr(task.exception()))}")
            if stop.is_set() or (rounds is not None and number >= rounds):
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, begun + interval - loop.time()))
            if stop.is_set():
                break
        return self.exit_code(stopped=stop.is_set())

    def exit_code(self, stopped: bool) -> int:
        if stopped:
            return ExitCode.READY
        if self.tally.history_failed:
            return ExitCode.COULD_NOT_VERIFY
        return ExitCode.FAILED if self.tally.open_incidents else ExitCode.READY


def install_stop(stop: asyncio.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set `stop` (a second one ends at once); returns how to undo it."""
    loop = asyncio.get_running_loop()
    installed = []

    def on_signal() -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)

    def undo() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return undo
