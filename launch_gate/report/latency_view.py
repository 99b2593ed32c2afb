"""Per-route latency as every reporter shows it: the rows (p50, p95, p99, budget) read from `latency.<route>`
results, and the text chart the terminal and the pytest summary draw."""

from __future__ import annotations

import math
from collections.abc import Iterable

from launch_gate.results import CheckResult

Row = tuple[str, float, float, float, float | None]  # name, p50, p95, p99 (ms), p95 budget


def milliseconds(value: float) -> str:
    """A latency figure as the reports print it: one decimal under 10 ms, none above."""
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def latency_rows(results: Iterable[CheckResult]) -> list[Row]:
    """The chart's rows from `latency.<route>` results that measured something."""
    rows: list[Row] = []
    for result in results:
        figures = [result.metrics.get(k) for k in ("p50_ms", "p95_ms", "p99_ms", "budget_p95_ms")]
        numbers = [float(f) if isinstance(f, int | float) and math.isfinite(f) else None for f in figures]
        p50, p95, p99, budget = numbers
        if result.id.startswith("latency.") and p50 is not None and p95 is not None and p99 is not None:
            rows.append((result.id.removeprefix("latency."), p50, p95, p99, budget))
    return rows


def latency_chart(rows: list[Row], width: int = 32) -> list[str]:
    """One bar per route, on one scale: solid to p95, shaded to p99, `│` where the p95 budget is."""
    if not rows:
        return []
    ms = milliseconds
    top = max(max(p99, budget or 0.0) for _, _, _, p99, budget in rows) * 1.05 or 1.0
    names = max(len(name) for name, *_ in rows)
    lines = []
    for name, p50, p95, p99, budget in rows:
        over = "  OVER BUDGET" if budget and p95 > budget else ""
        limit = f" (budget {ms(budget)})" if budget else ""
        lines.append(
            f"  {name:<{names}}  ▕{_bar(p95, p99, budget, top, width)}▏ "
            f"p50 {ms(p50)} · p95 {ms(p95)} · p99 {ms(p99)} ms{limit}{over}"
        )
    lines.append(f"  {'':<{names}}   █ p95  ░ p99  │ p95 budget; scale 0-{ms(top)} ms")
    return lines


def _bar(p95: float, p99: float, budget: float | None, top: float, width: int) -> str:
    cells = [" "] * width
    solid, shaded = round(p95 / top * width), round(p99 / top * width)
    for i in range(min(solid, width)):
        cells[i] = "█"
    for i in range(solid, min(shaded, width)):
        cells[i] = "░"
    if solid == 0 and p95 > 0:
        cells[0] = "▏"
    if budget:
        mark = min(width - 1, round(budget / top * width))
        cells[mark] = "│" if cells[mark] == " " else "┃"
    return "".join(cells)
