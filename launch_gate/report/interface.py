"""The two kinds of output: a `Reporter` renders a gate report as text; a `Publisher` hands the results to
the environment the gate runs in (files and workflow commands that environment names).

A new output format is a new `Reporter` in `launch_gate.report.FILE_REPORTERS`, not a new branch in the CLI.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from launch_gate.results import GateReport


class Reporter(ABC):
    """One output format: the whole report as text, every word of it through `launch_gate.redact`."""

    name: ClassVar[str]
    """What the output is called in a sentence, e.g. "JSON report"."""
    flag: ClassVar[str | None] = None
    """The `launch-gate check` option that writes it to a file; None for the terminal's report."""
    help: ClassVar[str] = ""
    """That option's help text."""

    @abstractmethod
    def format(self, report: GateReport) -> str:
        """The report as this format's text."""

    def write(self, report: GateReport, path: Path) -> None:
        """The report written to `path` (its folder created); raises OSError or UnicodeError if it cannot be."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.format(report), encoding="utf-8")


class Publisher(ABC):
    """An environment that reads the gate's results from places it names, such as GitHub Actions."""

    name: ClassVar[str]

    @abstractmethod
    def applies(self, environ: Mapping[str, str]) -> bool:
        """Whether the gate runs inside this environment."""

    @abstractmethod
    def publish(
        self, report: GateReport, exit_code: int, environ: Mapping[str, str]
    ) -> tuple[list[str], list[str]]:
        """The lines to print on stdout, and what could not be written, as sentences."""


def by_flag(*reporters: Reporter) -> dict[str, Reporter]:
    """The table the CLI picks file reports from: option -> reporter, in the order they are written."""
    table: dict[str, Reporter] = {}
    for reporter in reporters:
        if not reporter.flag or not reporter.flag.startswith("--"):
            raise ValueError(f"{type(reporter).__name__} needs a `--flag` to write a file")
        if reporter.flag in table:
            raise ValueError(f"{reporter.flag} is taken by {type(table[reporter.flag]).__name__}")
        table[reporter.flag] = reporter
    return table
