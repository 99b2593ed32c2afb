"""GitHub Actions: workflow-command annotations, step outputs and the job summary.

Used whenever `GITHUB_ACTIONS=true`, whether the gate runs through our Action or as a plain command. A
`Publisher`, not a `Reporter`: it writes to the files the runner names and prints workflow commands.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from launch_gate.redact import scrub
from launch_gate.report import markdown
from launch_gate.report.interface import Publisher
from launch_gate.results import GateReport, Outcome

COMMANDS = {Outcome.FAIL: "error", Outcome.ERROR: "error", Outcome.WARN: "warning"}


def in_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def data(text: str) -> str:
    """Text made safe for a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_lines(report: GateReport) -> Iterator[str]:
    """One `::error`/`::warning` per finding with a file (so it lands on the line), else one per check."""
    for result in report.results:
        command = COMMANDS.get(result.outcome)
        if command is None:
            continue
        prefix = (
            "could not verify: "
            if result.outcome is Outcome.ERROR and "could not verify" not in result.message
            else ""
        )
        title = _prop(f"launch-gate {result.id}")
        located = [f for f in result.findings if f.file]
        for f in located:
            where = f"file={_prop(f.file or '')}" + (f",line={f.line}" if f.line else "")
            yield f"::{command} {where},title={title}::{data(scrub(f.message))}"
        if not located:
            yield f"::{command} title={title}::{data(scrub(prefix + result.message))}"


def _append(path: str, text: str) -> None:
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(text)


def write_outputs(outputs: Mapping[str, str], environ: Mapping[str, str]) -> None:
    """Append `name=value` lines to the file `GITHUB_OUTPUT` names (values here are never multi-line)."""
    target = environ.get("GITHUB_OUTPUT")
    if target:
        _append(target, "".join(f"{k}={v}\n" for k, v in outputs.items()))


def publish(
    report: GateReport,
    environ: Mapping[str, str] | None = None,
    summary: bool = True,
    exit_code: int | None = None,
) -> tuple[list[str], list[str]]:
    """Everything the Actions runner reads: the annotation lines to print on stdout, and what could not be
    written (each file on its own: a missing outputs folder must not cost the annotations or the summary).
    `exit_code` is the command's, where it differs from the report's (a report that could not be written)."""
    environ = os.environ if environ is None else environ
    code = int(report.exit_code) if exit_code is None else exit_code
    problems: list[str] = []
    try:
        write_outputs({"result": report.verdict, "exit-code": str(code)}, environ)
    except OSError as exc:
        problems.append(f"could not write GitHub Actions' step outputs (GITHUB_OUTPUT): {exc.strerror}.")
    if summary and environ.get("GITHUB_STEP_SUMMARY"):
        try:
            _append(environ["GITHUB_STEP_SUMMARY"], markdown.render(report))
        except OSError as exc:
            problems.append(
                f"could not write GitHub Actions' job summary (GITHUB_STEP_SUMMARY): {exc.strerror}."
            )
    return list(annotation_lines(report)), problems


class GitHubActions(Publisher):
    name = "GitHub Actions"

    def applies(self, environ: Mapping[str, str]) -> bool:
        return in_actions(environ)

    def publish(
        self, report: GateReport, exit_code: int, environ: Mapping[str, str]
    ) -> tuple[list[str], list[str]]:
        return publish(report, environ, exit_code=exit_code)
