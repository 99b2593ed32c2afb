"""Reporters: each turns a GateReport into one output format, passing all text through `redact.scrub`.

`FILE_REPORTERS` is the one table the `launch-gate check` command builds its report options from and
writes files with; `PUBLISHERS` are the environments that read results from places they name.
"""

from __future__ import annotations

from collections.abc import Mapping

from launch_gate.report.github import GitHubActions
from launch_gate.report.interface import Publisher, Reporter, by_flag
from launch_gate.report.json_report import JsonReport
from launch_gate.report.markdown import MarkdownSummary
from launch_gate.report.sarif import Sarif
from launch_gate.report.terminal import Terminal

FILE_REPORTERS: Mapping[str, Reporter] = by_flag(JsonReport(), MarkdownSummary(), Sarif())
PUBLISHERS: tuple[Publisher, ...] = (GitHubActions(),)

__all__ = [
    "FILE_REPORTERS",
    "PUBLISHERS",
    "GitHubActions",
    "JsonReport",
    "MarkdownSummary",
    "Publisher",
    "Reporter",
    "Sarif",
    "Terminal",
    "by_flag",
]
