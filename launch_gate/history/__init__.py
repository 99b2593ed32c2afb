"""The run history: every gate run (`check --history`) and watch round, in SQLite or PostgreSQL; the kinds
of trouble a result shows; and when incidents open and close, decided from the history."""

from __future__ import annotations

from launch_gate.history.incidents import Closed, Decision, Opened, decide
from launch_gate.history.kinds import KIND_WORDS, KINDS, WATCH_CHECK, Signals, signals
from launch_gate.history.recording import core_bounds, record_gate, result_signals
from launch_gate.history.store import (
    Delivery,
    History,
    Incident,
    Row,
    Run,
    database_url,
    deploy_commit,
    new_run_id,
    shown_url,
)

__all__ = [
    "KINDS",
    "KIND_WORDS",
    "WATCH_CHECK",
    "Closed",
    "Decision",
    "Delivery",
    "History",
    "Incident",
    "Opened",
    "Row",
    "Run",
    "Signals",
    "core_bounds",
    "database_url",
    "decide",
    "deploy_commit",
    "new_run_id",
    "record_gate",
    "result_signals",
    "shown_url",
    "signals",
]
