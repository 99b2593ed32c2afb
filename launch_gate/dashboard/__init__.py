"""`launch-gate dashboard`: the history as one self-contained, offline HTML page (uptime, error rate, p95 per
route against its budget, deploys, incidents, the first week's error budget), with charts by uPlot."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

from launch_gate.config import Settings
from launch_gate.dashboard.data import DAY, Figures, figures
from launch_gate.dashboard.page import render
from launch_gate.errors import CouldNotVerify
from launch_gate.history import History, Row, core_bounds

__all__ = ["Figures", "build_page", "write_dashboard"]
SPAN = 35 * DAY  # what the page reads: five weeks, enough for 7-day uptime and the first week


def _rounds(rows: list[Row]) -> list[tuple[float, float]]:
    """(time, percent of checks passing) per run."""
    by_run: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_run[row.run_id].append(row)
    points = [
        (
            min(r.at for r in mine),
            100.0 * sum(r.outcome in ("pass", "warn", "skip") for r in mine) / len(mine),
        )
        for mine in by_run.values()
    ]
    return sorted(points)


def build_page(history: History, bounds: dict[str, float], now: float | None = None) -> str:
    now = time.time() if now is None else now
    since = now - SPAN
    runs, rows = history.runs(since), history.results(since)
    found = figures(runs, rows, history.incidents(since), bounds, now)
    return render(found, _rounds(rows), history.where)


def write_dashboard(settings: Settings, output: Path) -> str:
    """Write the page; the sentence to print. An unreadable history or unwritable file is CouldNotVerify."""
    with History.open(settings.history.url, settings.root) as history:
        page = build_page(history, core_bounds(settings))
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise CouldNotVerify(
            f"could not write the dashboard to {output}: {exc.strerror}. Fix the path."
        ) from None
    return f"Wrote the dashboard to {output} ({len(page) // 1024} KB, works offline)."
