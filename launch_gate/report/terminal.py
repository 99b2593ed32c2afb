"""The human report: one line per check, findings beneath, a verdict line with the exit code."""

from __future__ import annotations

import os
from typing import TextIO

from launch_gate.redact import scrub
from launch_gate.report.interface import Reporter
from launch_gate.report.latency_view import latency_chart as latency_chart  # re-exported for older imports
from launch_gate.report.latency_view import latency_rows as latency_rows
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
    stream.write(Terminal(use_color(stream)).format(report))


class Terminal(Reporter):
    """The report the command prints; `verdict=False` leaves out the last line (written after the files)."""

    name = "terminal report"

    def __init__(self, color: bool = False, verdict: bool = True) -> None:
        self.color = color
        self.verdict = verdict

    def format(self, report: GateReport) -> str:
        return render(report, self.color, self.verdict)
