"""The human report: one line per check, findings beneath, a verdict line with the exit code."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import TextIO

from launch_gate.redact import scrub
from launch_gate.results import CheckResult, ExitCode, GateReport, Outcome
from launch_gate.rules.words import count

LABELS = {
    Outcome.PASS: ("PASS", "32"),
    Outcome.WARN: ("WARN", "33"),
    Outcome.FAIL: ("FAIL", "31;1"),
    Outcome.ERROR: ("ERROR", "35;1"),
    Outcome.SKIP: ("SKIP", "2"),
}
MAX_FINDINGS = 20


def use_color(stream: TextIO) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    return "FORCE_COLOR" in os.environ or (hasattr(stream, "isatty") and stream.isatty())


def label(outcome: Outcome, color: bool) -> str:
    text, code = LABELS[outcome]
    padded = f"{text:<5}"
    return f"\x1b[{code}m{padded}\x1b[0m" if color else padded


def result_lines(result: CheckResult, width: int, color: bool = False) -> list[str]:
    lines = [f"  {label(result.outcome, color)}  {result.id:<{width}}  {scrub(result.message)}"]
    for finding in result.findings[:MAX_FINDINGS]:
        where = f"{finding.file}:{finding.line}: " if finding.file else ""
        extra = f" [{finding.fingerprint}]" if finding.fingerprint else ""
        lines.append(f"  {'':5}  {'':<{width}}  - {scrub(where + finding.message)}{extra}")
    if len(result.findings) > MAX_FINDINGS:
        lines.append(
            f"  {'':5}  {'':<{width}}  … and {len(result.findings) - MAX_FINDINGS} more (see the JSON report)"
        )
    return lines


Row = tuple[str, float, float, float, float | None]  # name, p50, p95, p99 (ms), p95 budget


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def latency_chart(rows: list[Row], width: int = 32) -> list[str]:
    """One bar per route, on one scale: solid to p95, shaded to p99, `│` where the p95 budget is."""
    if not rows:
        return []
    top = max(max(p99, budget or 0.0) for _, _, _, p99, budget in rows) * 1.05 or 1.0
    names = max(len(name) for name, *_ in rows)
    lines = []
    for name, p50, p95, p99, budget in rows:
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
        over = "  OVER BUDGET" if budget and p95 > budget else ""
        limit = f" (budget {_ms(budget)})" if budget else ""
        lines.append(
            f"  {name:<{names}}  ▕{''.join(cells)}▏ p50 {_ms(p50)} · p95 {_ms(p95)} · p99 {_ms(p99)} ms{limit}{over}"
        )
    lines.append(f"  {'':<{names}}   █ p95  ░ p99  │ p95 budget; scale 0-{_ms(top)} ms")
    return lines


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


def verdict_line(report: GateReport, exit_code: int | None = None, unwritten: int = 0) -> str:
    """The last line: the verdict, the tally and the exit code (the command's, when a report it was asked
    for could not be written)."""
    counts = report.counts()
    tally = (
        f"{counts['fail']} failed, {counts['error']} could not verify, {counts['warn']} warnings, "
        f"{counts['pass']} passed, {counts['skip']} skipped"
    )
    code = int(report.exit_code) if exit_code is None else exit_code
    if code == ExitCode.REPORT_NOT_WRITTEN:
        return f"NOT DONE: {count(unwritten, 'report')} could not be written; {tally} (exit {code})"
    if report.verdict == "ready":
        return f"READY to launch: {tally} (exit {code})"
    if code == ExitCode.USAGE:
        return f"BLOCKED: a check found the configuration unusable (see above): {tally} (exit {code})"
    if not report.checked_anything:
        return f"BLOCKED: nothing was checked, every check was skipped: {tally} (exit {code})"
    return f"BLOCKED: {tally} (exit {code})"


def render(report: GateReport, color: bool = False, verdict: bool = True) -> str:
    """The whole report; without `verdict`, all but its last line (the command writes the files first)."""
    width = max((len(r.id) for r in report.results), default=10)
    count = f"{len(report.results)} check" + ("" if len(report.results) == 1 else "s")
    read = f" · config {', '.join(report.config)}" if report.config else ""
    lines = [f"launch-gate · phase {report.phase} · {count}{read}", ""]
    for result in report.results:
        lines.extend(result_lines(result, width, color))
    chart = latency_chart(latency_rows(report.results))
    if chart:
        lines += ["", "latency by route:", *chart]
    lines += ["", verdict_line(report)] if verdict else [""]
    return "\n".join(lines) + "\n"


def write(report: GateReport, stream: TextIO) -> None:
    stream.write(render(report, use_color(stream)))
