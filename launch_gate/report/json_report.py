"""The machine-readable report: every check with id, phase, outcome, message, duration and findings."""

from __future__ import annotations

import json
from typing import Any

from launch_gate import __version__
from launch_gate.redact import scrub
from launch_gate.report.interface import Reporter
from launch_gate.results import GateReport

SCHEMA_VERSION = 1


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def to_json(report: GateReport) -> str:
    data = {"tool": "launch-gate", "version": __version__, "schema": SCHEMA_VERSION, **report.to_dict()}
    return json.dumps(_scrubbed(data), indent=2) + "\n"


class JsonReport(Reporter):
    name = "JSON report"
    flag = "--report-json"
    help = "write the JSON report here"

    def format(self, report: GateReport) -> str:
        return to_json(report)
