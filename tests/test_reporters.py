"""One reporter interface, one table: every output format renders every outcome through the redactor, and
`launch-gate check` offers and writes exactly the reports its table holds, a new one included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from launch_gate.cli import build_parser, main
from launch_gate.report import (
    FILE_REPORTERS,
    PUBLISHERS,
    GitHubActions,
    Reporter,
    Terminal,
    by_flag,
    latency_view,
    terminal,
)
from launch_gate.report.json_report import JsonReport
from launch_gate.report.markdown import MarkdownSummary
from launch_gate.results import CheckResult, Finding, GateReport, Outcome, Phase

PASSWORD = "hunter22-correct-horse"
LEAKY = f"postgres://app:{PASSWORD}@db.internal/app"
REPORT = GateReport(
    "all",
    (
        CheckResult("env.required", Phase.PRE, Outcome.PASS, "all 2 required variables are set"),
        CheckResult(
            "secrets.repo",
            Phase.PRE,
            Outcome.FAIL,
            f"1 secret found: {LEAKY}",
            findings=(
                Finding(f"database URL {LEAKY}", file="app/settings.py", line=7, fingerprint="sha1:9f"),
            ),
        ),
        CheckResult("deps.audit", Phase.PRE, Outcome.ERROR, "could not verify: PyPI did not answer"),
        CheckResult("domain.redirects", Phase.POST, Outcome.SKIP, "no target configured"),
        CheckResult(
            "headers.hsts", Phase.POST, Outcome.WARN, "max-age is 1 day", findings=(Finding("short"),)
        ),
        CheckResult(
            "latency.home",
            Phase.POST,
            Outcome.PASS,
            "p95 12 ms within 50 ms",
            metrics={"p50_ms": 4.2, "p95_ms": 12.0, "p99_ms": 30.0, "budget_p95_ms": 50},
        ),
    ),
)
IDS = [r.id for r in REPORT.results]
EVERY_REPORTER: list[Reporter] = [Terminal(), *FILE_REPORTERS.values()]
NEEDS_NOTHING = '[tool.launch-gate]\nenvironment = "production"\n\n[tool.launch-gate.checks]\ndeps = "off"\n'


class Csv(Reporter):
    """A format a third party might add: one `id,outcome` line per check."""

    name = "CSV list"
    flag = "--report-csv"
    help = "write one id,outcome line per check here"

    def format(self, report: GateReport) -> str:
        return "".join(f"{r.id},{r.outcome.value}\n" for r in report.results)


@pytest.mark.parametrize("reporter", EVERY_REPORTER, ids=lambda r: r.name)
def test_every_reporter_shows_the_failure_and_scrubs_the_password_in_it(reporter):
    text = reporter.format(REPORT)
    assert "secrets.repo" in text
    assert "app/settings.py" in text
    assert PASSWORD not in text
    assert PASSWORD not in json.dumps(text)  # nor in an escaped form


def test_the_terminal_report_has_a_line_per_outcome_the_latency_chart_and_the_verdict():
    lines = Terminal(verbosity=terminal.VERBOSE).format(REPORT).splitlines()
    for label, check_id in zip(("PASS", "FAIL", "ERROR", "SKIP", "WARN", "PASS"), IDS, strict=True):
        assert any(line.split()[:2] == [label, check_id] for line in lines), (label, check_id)
    assert "latency by route:" in lines
    assert any(line.strip().startswith("home") and "(budget 50)" in line for line in lines)
    assert lines[-1] == "BLOCKED: 1 failed, 1 could not verify, 1 warning, 2 passed, 1 skipped (exit 1)"
    assert (
        not Terminal(verdict=False).format(REPORT).splitlines()[-1]
    )  # the command prints it after the files
    assert "\x1b[31;1mFAIL" in Terminal(color=True).format(REPORT)


def test_by_default_the_terminal_report_lists_what_blocks_first_then_warnings_then_counts_the_rest():
    lines = Terminal().format(REPORT).splitlines()
    listed = [line.split()[:2] for line in lines if line.split()[:1] in (["FAIL"], ["ERROR"], ["WARN"])]
    assert listed == [["FAIL", "secrets.repo"], ["ERROR", "deps.audit"], ["WARN", "headers.hsts"]]
    assert "  2 passed, 1 skipped (-v lists them)" in lines
    assert not any(line.split()[:1] in (["PASS"], ["SKIP"]) for line in lines)
    assert "app/settings.py:7" in "\n".join(lines)  # a failure keeps its findings
    assert "latency by route:" in lines  # the chart stays
    assert lines[-1].startswith("BLOCKED: 1 failed")


def test_quiet_is_the_verdict_line_alone():
    assert Terminal(verbosity=terminal.QUIET).format(REPORT) == terminal.verdict_line(REPORT) + "\n"
    assert Terminal(verdict=False, verbosity=terminal.QUIET).format(REPORT) == ""


def test_the_json_report_lists_every_outcome_and_the_latency_figures():
    data = json.loads(JsonReport().format(REPORT))
    assert [(c["id"], c["outcome"]) for c in data["checks"]] == [
        (r.id, r.outcome.value) for r in REPORT.results
    ]
    assert data["checks"][-1]["metrics"]["p95_ms"] == 12.0
    assert (data["result"], data["exit_code"]) == ("failed", 1)


def test_the_markdown_summary_has_a_row_per_outcome_and_the_latency_table():
    text = MarkdownSummary().format(REPORT)
    for check_id, icon in zip(
        IDS, ("✅ pass", "❌ fail", "⛔ could not verify", "⏭️ skip", "⚠️ warn"), strict=False
    ):
        assert f"| `{check_id}` | {icon} |" in text
    assert "### Latency by route" in text
    assert "| `home` | 4.2 ms | 12 ms | 30 ms | 50 ms |" in text


def test_the_sarif_holds_the_code_findings_only():
    [run] = json.loads(FILE_REPORTERS["--sarif"].format(REPORT))["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["secrets.repo", "deps.audit"]
    [result] = run["results"]
    assert (result["ruleId"], result["level"]) == ("secrets.repo", "error")


def test_the_table_answers_every_report_option_of_check_and_names_each_in_its_help(capsys):
    assert list(FILE_REPORTERS) == ["--report-json", "--summary-md", "--sarif"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["check", "--help"])
    helptext = " ".join(capsys.readouterr().out.split())
    for flag, reporter in FILE_REPORTERS.items():
        assert reporter.flag == flag
        assert reporter.name
        assert f"{flag} PATH {reporter.help}" in helptext


def test_the_table_refuses_a_reporter_without_an_option_or_with_a_taken_one():
    with pytest.raises(ValueError, match="needs a `--flag`"):
        by_flag(Terminal())
    with pytest.raises(ValueError, match="--report-json is taken by JsonReport"):
        by_flag(JsonReport(), JsonReport())


def test_a_reporter_added_to_the_table_is_offered_and_written_by_the_command(project, capsys):
    root = project({"pyproject.toml": NEEDS_NOTHING})
    table = by_flag(*FILE_REPORTERS.values(), Csv())
    argv = ["check", "--select", "env.debug", "--report-csv", "out/r.csv", "--report-json", "r.json"]
    assert main(argv, reporters=table) == 0, capsys.readouterr()
    assert (root / "out" / "r.csv").read_text(encoding="utf-8") == "env.debug,pass\n"
    assert json.loads((root / "r.json").read_text(encoding="utf-8"))["result"] == "ready"
    with pytest.raises(SystemExit) as usage:  # the built-in table does not know the option
        main(argv)
    assert usage.value.code == 4


def test_a_new_report_that_cannot_be_written_is_named_by_its_table_entry(project, capsys):
    root = project({"pyproject.toml": NEEDS_NOTHING})
    (root / "a-directory").mkdir()
    code = main(["check", "--select", "env.debug", "--report-csv", "a-directory"], reporters=by_flag(Csv()))
    out = capsys.readouterr()
    assert code == 3
    assert "could not write the CSV list (--report-csv) to a-directory: Is a directory" in out.err
    assert out.out.splitlines()[-1].startswith("NOT DONE: 1 report could not be written;")


def test_the_github_publisher_acts_only_inside_actions_and_writes_what_the_runner_names(tmp_path: Path):
    assert [type(p) for p in PUBLISHERS] == [GitHubActions]
    actions = GitHubActions()
    assert not actions.applies({})
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    assert actions.applies(environ)
    lines, problems = actions.publish(REPORT, 1, environ)
    assert problems == []
    assert lines[0].startswith("::error file=app/settings.py,line=7,title=launch-gate secrets.repo::")
    assert PASSWORD not in "\n".join(lines)
    assert (tmp_path / "out").read_text(encoding="utf-8") == "result=failed\nexit-code=1\n"
    assert (tmp_path / "summary.md").read_text(encoding="utf-8") == MarkdownSummary().format(REPORT)


def test_the_latency_view_reads_the_routes_and_the_terminal_still_exports_it():
    assert latency_view.latency_rows(REPORT.results) == [("home", 4.2, 12.0, 30.0, 50.0)]
    assert (terminal.latency_chart, terminal.latency_rows) == (
        latency_view.latency_chart,
        latency_view.latency_rows,
    )
    chart = latency_view.latency_chart(latency_view.latency_rows(REPORT.results), width=10)
    assert chart[0] == "  home  ▕██░░░░   │▏ p50 4.2 · p95 12 · p99 30 ms (budget 50)"
