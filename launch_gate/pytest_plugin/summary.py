"""The terminal summary for users' own tests: each `smoke_flow`'s outcome and the `latency_budget` figures."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from launch_gate.pytest_plugin.options import FLOW_PROPERTY, LATENCY_PROPERTY


class Tally:
    """Per session: users' smoke flows (outcome of each marked test) and latency_budget figures, for the summary."""

    name = "launch-gate-tally"

    def __init__(self) -> None:
        self.flows: dict[str, list[str]] = {}
        self.budgets: list[tuple[str, str]] = []  # (node id, JSON figures)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        flow = properties.get(FLOW_PROPERTY)
        if flow is not None and (report.when == "call" or report.failed or report.skipped):
            outcome = "error" if report.when != "call" and report.failed else report.outcome
            self.flows.setdefault(str(flow), []).append(outcome)
        if LATENCY_PROPERTY in properties and report.when == "call":
            self.budgets.append((report.nodeid, str(properties[LATENCY_PROPERTY])))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not (self.flows or self.budgets):
            return

        for line in summary_lines(self.flows, self.budgets):
            terminalreporter.write_line(line)


def summary_lines(flows: Mapping[str, list[str]], budgets: list[tuple[str, str]]) -> list[str]:
    """The terminal summary's smoke-flow tally and latency chart for users' marked tests."""
    from launch_gate.report.latency_view import latency_chart

    lines: list[str] = []
    if flows:
        lines.append("smoke flows (your tests marked smoke_flow):")
        for name, outcomes in flows.items():
            verdict = "passed" if all(o == "passed" for o in outcomes) else "FAILED"
            counts = ", ".join(f"{outcomes.count(o)} {o}" for o in dict.fromkeys(outcomes))
            lines.append(f"  {name:<20} {verdict} ({counts})")
    if budgets:
        rows = []
        for nodeid, raw in budgets:
            figures = json.loads(raw)
            rows.append((nodeid.rsplit("::", 1)[-1], figures["p50_ms"], figures["p95_ms"], figures["p99_ms"],
                         figures.get("budget_p95_ms")))  # fmt: skip
        lines.append("latency budgets (your tests marked latency_budget):")
        lines += latency_chart(rows)
    return lines
