"""The watch: a round of post-deploy checks every `interval`, each round recorded, incidents decided from the
history, alerts sent and retried. Nothing that goes wrong in a round ends the watch: a round that crashes is
recorded as an error (check `watch.round`), a history that cannot be reached is said and tried again next
round, and a delivery that fails is retried. Alerts are sent beside the rounds, each destination on its own
and each send bounded by the alerter's timeout: a destination that hangs delays neither the next round nor
the other destinations. SIGINT and SIGTERM stop it between two database writes."""

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
    Delivery,
    History,
    Row,
    Run,
    decide,
    deploy_commit,
    new_run_id,
    result_signals,
)
from launch_gate.history.urls import public_target
from launch_gate.redact import Redactor, scrub
from launch_gate.results import CheckResult, ExitCode, GateReport, Outcome, Phase
from launch_gate.runner import Planned, make_context, run_plan_async
from launch_gate.watch.alerts import NO_LONGER, Alerter, compose, when

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
        self.target = public_target(settings.target)  # as output and the history may show it
        self.sending: dict[int, asyncio.Task[None]] = {}  # destination -> its deliveries in flight

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
        results = [self.redactor.result(r) for r in results]  # the target's credentials too
        finished = time.time()
        report = GateReport("post", tuple(results))
        run = Run(
            new_run_id(), "watch", started, finished, "post", report.verdict, int(report.exit_code),
            self.commit, self.target, self.settings.environment, crash,
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
        self.dispatch()
        self.say(self.summary(number, started, finished, failing))

    def judge(self, check_ids: Sequence[str]) -> Decision:
        count = self.settings.watch.alert_after
        latest: dict[str, list[Row]] = {c: self.history.latest(c, count) for c in dict.fromkeys(check_ids)}
        return decide(latest, self.history.open_incidents(), count, self.settings.watch.p95_ms)

    def apply(self, decision: Decision, at: float) -> None:
        services = self.alerter.destinations if self.alerter is not None else []
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

    def dispatch(self, fresh_only: bool = False) -> None:
        """Start sending the pending alerts: one task per destination that has none in flight, which sends
        that destination's alerts oldest first. A pending alert whose destination is no longer configured is
        given up at once, and said. `fresh_only`: only alerts never tried (the last call of a watch)."""
        if self.alerter is None:
            return
        try:
            pending = self.history.pending_deliveries()
        except LaunchGateError:
            return  # said already by the round
        queues: dict[int, list[Delivery]] = {}
        for delivery in pending:
            if fresh_only and delivery.attempts:
                continue
            place = self.alerter.place(delivery.destination_key, delivery.destination)
            if place is None:
                self.record_attempt(delivery, NO_LONGER, give_up=True)
                self.tally.failed_deliveries += 1
                self.say(f"an alert to a removed destination ({delivery.service}) was given up: {NO_LONGER}")
                continue
            queues.setdefault(place, []).append(delivery)
        for place, queue in queues.items():
            running = self.sending.get(place)
            if running is None or running.done():
                self.sending[place] = asyncio.create_task(self.send_all(place, queue))

    async def send_all(self, place: int, queue: Sequence[Delivery]) -> None:
        """Send `queue` to destination `place`, one after the other; each failure is recorded and retried."""
        try:
            await self._send_all(place, queue)
        except Exception as exc:  # a bug in the bookkeeping: said; the alerts stay pending, the watch goes on
            self.say(f"sending alerts to {self.alerter.name(place) if self.alerter else place} failed: "
                     f"{scrub(repr(exc))}")  # fmt: skip

    async def _send_all(self, place: int, queue: Sequence[Delivery]) -> None:
        assert self.alerter is not None
        for delivery in queue:
            try:
                incident = self.history.incident(delivery.incident_id)
            except LaunchGateError:
                return  # the history is away: the alert stays pending
            if incident is None:
                continue
            message = compose(
                delivery.event, incident, self.target, self.settings.watch.dashboard_url, time.time()
            )
            error = await asyncio.to_thread(self.alerter.send, place, message)
            give_up = error is not None and delivery.attempts + 1 > self.settings.watch.retries
            self.record_attempt(delivery, error, give_up)
            name = self.alerter.name(place)
            if error is None:
                self.tally.sent += 1
                self.say(f"alert sent: {delivery.event} {incident.check_id} to {name}")
            else:
                self.tally.failed_deliveries += 1
                later = "given up" if give_up else "retried next round"
                self.say(f"alert to {name} failed ({error}); {later}")

    def record_attempt(self, delivery: Delivery, error: str | None, give_up: bool) -> None:
        with suppress(LaunchGateError):  # not recorded: still pending, so tried again (never lost)
            self.history.delivery_attempted(delivery.id, time.time(), error, give_up)

    async def settle(self, fresh: bool) -> None:
        """Wait for the alerts in flight (and, when `fresh`, send those never tried yet), at most about two
        send timeouts; what is left stays pending in the history for the next watch."""
        if self.alerter is None:
            return
        bound = 2 * self.alerter.timeout + 1 if fresh else self.alerter.timeout
        deadline = asyncio.get_running_loop().time() + bound
        for again in (fresh, False):
            running = [t for t in self.sending.values() if not t.done()]
            if running:
                left = deadline - asyncio.get_running_loop().time()
                await asyncio.wait(running, timeout=max(0.0, left))
            if not again:
                break
            self.dispatch(fresh_only=True)

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
        await self.settle(fresh=not stop.is_set())
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
