"""SARIF 2.1.0 for findings that point into the code (secrets, vulnerable dependencies, destructive
migrations), as github/codeql-action/upload-sarif expects: one rule per check, one result per located finding."""

from __future__ import annotations

import json
from typing import Any

from launch_gate import __version__
from launch_gate.redact import scrub
from launch_gate.report.interface import Reporter
from launch_gate.results import CheckResult, Finding, GateReport, Outcome

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
AREAS = ("secrets", "deps", "migrations")
LEVELS = {Outcome.FAIL: "error", Outcome.ERROR: "error", Outcome.WARN: "warning"}


def _rule(result: CheckResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "name": result.id.replace(".", "-"),
        "shortDescription": {"text": f"launch-gate {result.id}"},
        "helpUri": "https://github.com/launch-gate/launch-gate#checks",
    }


def _result(check: CheckResult, finding: Finding) -> dict[str, Any]:
    region = {"startLine": max(finding.line or 1, 1)}
    entry: dict[str, Any] = {
        "ruleId": check.id,
        "level": LEVELS.get(check.outcome, "note"),
        "message": {
            "text": scrub(finding.message + (f" ({finding.fingerprint})" if finding.fingerprint else ""))
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.file, "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
    }
    if finding.fingerprint:
        entry["partialFingerprints"] = {"launchGateFinding/v1": finding.fingerprint}
    return entry


def to_sarif(report: GateReport) -> dict[str, Any]:
    checks = [r for r in report.results if r.id.split(".")[0] in AREAS]
    blocking = [r for r in checks if r.outcome in LEVELS]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "launch-gate",
                        "version": __version__,
                        "informationUri": "https://github.com/launch-gate/launch-gate",
                        "rules": [_rule(r) for r in checks],
                    }
                },
                "results": [_result(r, f) for r in blocking for f in r.findings if f.file],
            }
        ],
    }


class Sarif(Reporter):
    name = "SARIF"
    flag = "--sarif"
    help = "write SARIF 2.1.0 (secrets, dependencies, migrations) here"

    def format(self, report: GateReport) -> str:
        return json.dumps(to_sarif(report), indent=2) + "\n"
