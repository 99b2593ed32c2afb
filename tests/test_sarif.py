"""SARIF 2.1.0 as github/codeql-action/upload-sarif reads it: rules, levels, relative locations, lines >= 1."""

import json

from launch_gate.report.sarif import Sarif, to_sarif
from launch_gate.results import CheckResult, Finding, GateReport, Outcome, Phase


def report() -> GateReport:
    return GateReport(
        "pre",
        (
            CheckResult(
                "env.required", Phase.PRE, Outcome.FAIL, "DATABASE_URL missing", findings=(Finding("x"),)
            ),
            CheckResult(
                "secrets.repo",
                Phase.PRE,
                Outcome.FAIL,
                "1 secret",
                findings=(
                    Finding("Stripe Access Key", file="app/settings.py", line=3, fingerprint="sha1:ab12"),
                ),
            ),
            CheckResult(
                "deps.audit",
                Phase.PRE,
                Outcome.WARN,
                "1 vulnerability",
                findings=(Finding("flask 0.12.2: PYSEC-2018-66", file="requirements.txt", line=None),),
            ),
            CheckResult("secrets.bundle", Phase.PRE, Outcome.PASS, "clean"),
        ),
    )


def test_sarif_has_the_shape_upload_sarif_requires():
    sarif = to_sarif(report())
    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"].endswith("sarif-2.1.0.json")
    [run] = sarif["runs"]
    rules = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert rules == {"secrets.repo", "deps.audit", "secrets.bundle"}  # env checks are not code findings
    for result in run["results"]:
        assert result["ruleId"] in rules
        assert result["level"] in {"error", "warning", "note"}
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert not physical["artifactLocation"]["uri"].startswith("/")
        assert physical["region"]["startLine"] >= 1


def test_sarif_results_carry_level_line_and_fingerprint():
    secret, vuln = to_sarif(report())["runs"][0]["results"]
    assert (secret["level"], secret["locations"][0]["physicalLocation"]["region"]["startLine"]) == (
        "error",
        3,
    )
    assert secret["partialFingerprints"] == {"launchGateFinding/v1": "sha1:ab12"}
    assert vuln["level"] == "warning"
    assert vuln["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_the_sarif_reporter_writes_what_to_sarif_builds(tmp_path):
    path = tmp_path / "out" / "r.sarif"
    Sarif().write(report(), path)
    assert json.loads(path.read_text(encoding="utf-8")) == to_sarif(report())
    assert Sarif.flag == "--sarif"
