"""The human report: what blocks first (failures, then could-not-verify, with their findings), then warnings, a
one-line count of passes and skips, a shared root cause said once, and a verdict line with the exit code.

Verbosity: `VERBOSE` lists every check in plan order (with its findings); `QUIET` is the verdict line alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TextIO

from launch_gate.redact import scrub
from launch_gate.report.causes import RootCause, cause_index, cause_of, normalise, root_causes, shortened
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
QUIET, DEFAULT, VERBOSE = -1, 0, 1
# What the default report lists, in this order; passes and skips are only counted.
LISTED = (Outcome.FAIL, Outcome.ERROR, Outcome.WARN)


def use_color(stream: TextIO) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    return "FORCE_COLOR" in os.environ or (hasattr(stream, "isatty") and stream.isatty())


def label(outcome: Outcome, color: bool) -> str:
    text, code = LABELS[outcome]
    padded = f"{text:<5}"
    return f"\x1b[{code}m{padded}\x1b[0m" if color else padded


def result_lines(result: CheckResult, width: int, color: bool = False, cause: str | None = None) -> list[str]:
    """A check's line and its findings; with `cause` (the mark of a root cause it shares), the line is
    shortened and findings that only repeat the shared cause are left out."""
    message = scrub(result.message)
    findings = result.findings
    if cause is not None:
        shared = normalise(cause_of(result.message)[0])
        message = shortened(message, cause)
        findings = tuple(f for f in findings if shared not in normalise(cause_of(f.message)[0]))
    lines = [f"  {label(result.outcome, color)}  {result.id:<{width}}  {message}"]
    for finding in findings[:MAX_FINDINGS]:
        where = f"{finding.file}:{finding.line}: " if finding.file else ""
        extra = f" [{finding.fingerprint}]" if finding.fingerprint else ""
        lines.append(f"  {'':5}  {'':<{width}}  - {scrub(where + finding.message)}{extra}")
    if len(findings) > MAX_FINDINGS:
        lines.append(
            f"  {'':5}  {'':<{width}}  … and {len(findings) - MAX_FINDINGS} more (see the JSON report)"
        )
    return lines


def problems_first(results: Iterable[CheckResult]) -> list[CheckResult]:
    """Failures, then could-not-verify, then warnings, each in plan order; passes and skips left out."""
    return sorted((r for r in results if r.outcome in LISTED), key=lambda r: LISTED.index(r.outcome))


def tally(results: Sequence[CheckResult]) -> str:
    """The passes and skips the default report does not list, e.g. "27 passed, 3 skipped"; "" if none."""
    passed = sum(r.outcome is Outcome.PASS for r in results)
    skipped = sum(r.outcome is Outcome.SKIP for r in results)
    parts = [f"{passed} passed" if passed else "", f"{skipped} skipped" if skipped else ""]
    return ", ".join(part for part in parts if part)


def cause_lines(causes: Sequence[RootCause]) -> list[str]:
    """Each shared root cause, said once."""
    if len(causes) == 1:
        return [f"root cause: {causes[0].sentence()}"]
    return [f"root cause {number}: {cause.sentence()}" for number, cause in enumerate(causes, 1)]


def verdict_line(report: GateReport, exit_code: int | None = None, unwritten: int = 0) -> str:
    """The last line: the verdict, the tally and the exit code (the command's, when a report it was asked
    for could not be written)."""
    counts = report.counts()
    tally_text = (
        f"{counts['fail']} failed, {counts['error']} could not verify, {count(counts['warn'], 'warning')}, "
        f"{counts['pass']} passed, {counts['skip']} skipped"
    )
    code = int(report.exit_code) if exit_code is None else exit_code
    if code == ExitCode.REPORT_NOT_WRITTEN:
        return f"NOT DONE: {count(unwritten, 'report')} could not be written; {tally_text} (exit {code})"
    if report.verdict == "ready":
        return f"READY to launch: {tally_text} (exit {code})"
    if code == ExitCode.USAGE:
        return f"BLOCKED: a check found the configuration unusable (see above): {tally_text} (exit {code})"
    if not report.checked_anything:
        return f"BLOCKED: nothing was checked, every check was skipped: {tally_text} (exit {code})"
    return f"BLOCKED: {tally_text} (exit {code})"


def check_lines(
    results: Sequence[CheckResult], verbosity: int, color: bool = False, first: bool = False
) -> list[str]:
    """The checks' part of the report: problems first and a count of the rest (every check when verbose),
    the latency chart, and each shared root cause once. `first`: only each check's first line."""
    causes = root_causes(results)
    marks = cause_index(causes)
    listed = list(results) if verbosity >= VERBOSE else problems_first(results)
    width = max((len(r.id) for r in listed if "::" not in r.id), default=10)  # users' node ids run over
    lines: list[str] = []
    for result in listed:
        lines.extend(result_lines(result, width, color, marks.get(result.id))[: 1 if first else None])
    rest = tally(results) if verbosity < VERBOSE else ""
    chart = latency_chart(latency_rows(results))
    for block in ([f"  {rest} (-v lists them)"] if rest else [], ["latency by route:", *chart] if chart else [],
                  cause_lines(causes) if causes else []):  # fmt: skip
        lines += ["", *block] if lines and block else block
    return lines


def render(report: GateReport, color: bool = False, verdict: bool = True, verbosity: int = DEFAULT) -> str:
    """The whole report; without `verdict`, all but its last line (the command writes the files first)."""
    if verbosity <= QUIET:
        return f"{verdict_line(report)}\n" if verdict else ""
    read = f" · config {', '.join(report.config)}" if report.config else ""
    lines = [f"launch-gate · phase {report.phase} · {count(len(report.results), 'check')}{read}", ""]
    lines += check_lines(report.results, verbosity, color)
    lines += ["", verdict_line(report)] if verdict else [""]
    return "\n".join(lines) + "\n"


def write(report: GateReport, stream: TextIO, verbosity: int = DEFAULT) -> None:
    stream.write(Terminal(use_color(stream), verbosity=verbosity).format(report))


class Terminal(Reporter):
    """The report the command prints; `verdict=False` leaves out the last line (written after the files)."""

    name = "terminal report"

    def __init__(self, color: bool = False, verdict: bool = True, verbosity: int = DEFAULT) -> None:
        self.color = color
        self.verdict = verdict
        self.verbosity = verbosity

    def format(self, report: GateReport) -> str:
        return render(report, self.color, self.verdict, self.verbosity)
