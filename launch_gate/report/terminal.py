"""The human report: one line per check, findings beneath, a verdict line with the exit code."""

from __future__ import annotations

import os
from typing import TextIO

from launch_gate.redact import scrub
from launch_gate.results import CheckResult, GateReport, Outcome

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


def verdict_line(report: GateReport) -> str:
    counts = report.counts()
    tally = (
        f"{counts['fail']} failed, {counts['error']} could not verify, {counts['warn']} warnings, "
        f"{counts['pass']} passed, {counts['skip']} skipped"
    )
    if report.verdict == "ready":
        return f"READY to launch: {tally} (exit 0)"
    return f"BLOCKED: {tally} (exit {int(report.exit_code)})"


def render(report: GateReport, color: bool = False) -> str:
    width = max((len(r.id) for r in report.results), default=10)
    lines = [f"launch-gate · phase {report.phase} · {len(report.results)} checks", ""]
    for result in report.results:
        lines.extend(result_lines(result, width, color))
    lines += ["", verdict_line(report)]
    return "\n".join(lines) + "\n"


def write(report: GateReport, stream: TextIO) -> None:
    stream.write(render(report, use_color(stream)))
