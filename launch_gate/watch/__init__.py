"""`launch-gate watch`: the post-deploy checks every `interval`, the history of every round, incidents
after `alert-after` failing rounds, and alerts through Apprise when one opens and when it closes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from launch_gate.config import Settings
from launch_gate.history import History, database_url, shown_url
from launch_gate.history.urls import public_target, target_secrets
from launch_gate.runner import gate_secrets
from launch_gate.watch.alerts import Alerter, Message, compose, redactor_for_alerts
from launch_gate.watch.loop import Tally, Watcher, install_stop
from launch_gate.watch.plan import default_selection, watch_plan

__all__ = [
    "Alerter",
    "Message",
    "Tally",
    "Watcher",
    "compose",
    "default_selection",
    "run_watch",
    "watch_plan",
]


def run_watch(
    settings: Settings,
    rounds: int | None = None,
    say: Callable[[str], None] = print,
    environ: Mapping[str, str] | None = None,
    handle_signals: bool = True,
) -> int:
    """Watch until stopped (or `rounds` are done); the exit code. Bad configuration raises ConfigError before
    the first round; an unreachable history at start raises CouldNotVerify."""
    environ = dict(os.environ if environ is None else environ)
    plan = watch_plan(settings)
    target = public_target(settings.target) or ""  # the target as it may be shown: no credentials
    store = database_url(settings.history.url, settings.root)
    public = [
        *(p.check.id for p in plan),
        target,
        urlsplit(settings.target or "").hostname or "",
        settings.watch.dashboard_url or "",
        shown_url(store),  # the history's scheme, user, host and database name are no secret; its password is
    ]
    others = [
        *gate_secrets(settings, environ),
        *target_secrets(settings.target),
        *([store.password] if store.password else []),
    ]
    redactor = redactor_for_alerts(settings.watch.alerts, others, public)
    alerter = Alerter(settings.watch.alerts, redactor) if settings.watch.alerts else None
    with History.open(settings.history.url, settings.root) as history:
        watcher = Watcher(settings, plan, history, alerter, say, environ, redactor)
        say(
            f"Watching {target or 'the deployment'}: {len(plan)} checks every {settings.watch.interval:g} s "
            f"({', '.join(p.check.id for p in plan)}); history in {history.where}; "
            f"{len(settings.watch.alerts)} alert destinations; an incident after "
            f"{settings.watch.alert_after} failing rounds."
        )

        async def main() -> int:
            stop = asyncio.Event()
            undo = install_stop(stop) if handle_signals else (lambda: None)
            try:
                return await watcher.run(rounds, settings.watch.interval, stop)
            finally:
                undo()

        code = asyncio.run(main())
        tally = watcher.tally
        say(
            f"Watch stopped after {tally.rounds} rounds: {tally.opened} incidents opened, {tally.closed} closed, "
            f"{tally.sent} alerts sent, {tally.failed_deliveries} failed deliveries; open now: "
            f"{', '.join(tally.open_incidents) or 'none'}."
        )
        return code
