"""Progress while the gate runs, and a report that reads failures first: live on a terminal, plain lines in CI
or a pipe, `-v`/`-q`, one root cause said once, "1 check"/"2 checks", and skipped gate items folded under
pytest. Real runs: the command in a subprocess (on a pseudo-terminal where it matters) against a nameserver
on loopback that answers nothing."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import termios
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launch_gate.cli import main
from launch_gate.config import load_settings
from launch_gate.report import terminal
from launch_gate.report.causes import cause_of, normalise, root_causes
from launch_gate.report.markdown import MarkdownSummary
from launch_gate.report.progress import ERASE, LiveProgress, PlainProgress, live
from launch_gate.results import CheckResult, Finding, GateReport, Outcome, Phase
from launch_gate.runner import Planned, build_plan, make_context, run_plan
from tests.conftest import base_env

SELECT = "dns,email,headers.hsts,headers.security,exposure.files"
PLAIN = re.compile(
    r"launch-gate \[(\d+)/(\d+)\] (\S+): (pass|warn|fail|could not verify|skip) \(\d+\.\d\d s\)"
)
FRAME = re.compile(r"launch-gate (\d+)/(\d+) done")


@pytest.fixture
def silent_dns() -> Iterator[str]:
    """A nameserver on loopback that takes every query and answers none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def dead_dns_project(project, silent_dns) -> Path:
    return project(
        {
            "launch-gate.toml": 'target = "https://www.example.test"\n\n'
            f'[net]\nnameservers = ["{silent_dns}"]\nprobe-timeout = 0.3\n\n'
            '[email]\ndkim-selectors = ["s1"]\n'
        }
    )


def on_a_terminal(*args: str, cwd: Path, env: dict[str, str], columns: int = 100) -> tuple[bytes, str, int]:
    """The command with stderr on a pseudo-terminal `columns` wide and stdout on a pipe: (what the terminal
    got, stdout, exit code)."""
    controller, terminal_end = os.openpty()
    fcntl.ioctl(terminal_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "launch_gate", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal_end,
    )
    os.close(terminal_end)
    shown = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1)
        if not ready:
            if child.poll() is not None:
                break
            continue
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child is gone and closed its end
            break
        if not chunk:
            break
        shown += chunk
    out = child.stdout.read().decode() if child.stdout else ""
    code = child.wait(timeout=30)
    os.close(controller)
    return shown, out, code


def test_on_a_terminal_progress_is_redrawn_in_place_and_erased_before_the_report(dead_dns_project):
    env = base_env(TERM="xterm")
    shown, out, code = on_a_terminal(
        "check", "--phase", "post", "--select", SELECT, cwd=dead_dns_project, env=env
    )
    assert code == 2, out
    text = shown.decode()
    frames = [frame for frame in text.split(ERASE) if frame]
    assert len(frames) >= 5, text  # redrawn as checks start and finish, and while they run
    assert "\n" not in text  # in place: the terminal got no line of its own
    assert text.endswith(ERASE)  # and the line is gone before the report
    done = [int(FRAME.match(frame).group(1)) for frame in frames]
    assert done == sorted(done)  # the count only goes up...
    assert {int(FRAME.match(frame).group(2)) for frame in frames} == {done[-1]}  # ...to every check
    assert any("running" in frame and "dns.resolves" in frame for frame in frames)
    assert any(re.search(r"\d+ could not verify", frame) for frame in frames)
    assert all(len(frame) < 100 for frame in frames)  # never wraps: a wrapped line cannot be redrawn
    assert "lookup" not in text  # ids and outcomes only, never a message
    assert "timed out" not in text
    assert out.startswith("launch-gate · phase post")


def test_in_ci_even_a_terminal_gets_plain_lines(dead_dns_project):
    shown, _, code = on_a_terminal(
        "check",
        "--phase",
        "post",
        "--select",
        "email",
        cwd=dead_dns_project,
        env=base_env(TERM="xterm", CI="true"),
    )
    assert code == 2
    lines = shown.decode().splitlines()
    assert "\x1b" not in shown.decode()
    assert [PLAIN.fullmatch(line) is not None for line in lines] == [True] * 4, lines


def test_into_a_pipe_each_finished_check_is_one_plain_line(dead_dns_project):
    done = subprocess.run(
        [sys.executable, "-m", "launch_gate", "check", "--phase", "post", "--select", SELECT,
         "--report-json", "r.json"],
        cwd=dead_dns_project, env=base_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    report = json.loads((dead_dns_project / "r.json").read_text())
    matches = [PLAIN.fullmatch(line) for line in done.stderr.splitlines()]
    assert all(matches), done.stderr
    assert sorted(m.group(3) for m in matches) == sorted(c["id"] for c in report["checks"])
    assert [int(m.group(1)) for m in matches] == list(range(1, len(report["checks"]) + 1))
    outcome_words = {"error": "could not verify"}
    assert {m.group(3): m.group(4) for m in matches} == {
        c["id"]: outcome_words.get(c["outcome"], c["outcome"]) for c in report["checks"]
    }
    assert "\r" not in done.stderr
    assert "\x1b" not in done.stderr
    assert "timed out" not in done.stderr  # the messages are the report's, after redaction


def test_one_dead_nameserver_is_named_once_as_the_root_cause(dead_dns_project, capsys):
    code = main(["check", "--phase", "post", "--select", SELECT, "--report-json", "r.json"])
    out = capsys.readouterr().out
    assert code == 2, out
    errors = [c["id"] for c in json.loads((dead_dns_project / "r.json").read_text())["checks"]
              if c["outcome"] == "error"]  # fmt: skip
    assert len(errors) >= 8
    causes = [line for line in out.splitlines() if "root cause:" in line]
    assert causes == [
        f"root cause: {len(errors)} checks could not verify for one reason: DNS lookup of … timed out"
    ]
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("  ERROR")}
    assert sorted(lines) == sorted(errors)  # each check still has its line...
    assert all(line.endswith("[root cause]") for line in lines.values())  # ...pointing at the cause
    assert out.index("[root cause]") < out.index("root cause:")  # said once, at the end
    assert "could not verify: the check crashed" not in out


def test_quiet_prints_the_verdict_alone_and_no_progress(dead_dns_project):
    done = subprocess.run(
        [sys.executable, "-m", "launch_gate", "check", "--phase", "post", "--select", "email", "-q"],
        cwd=dead_dns_project, env=base_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout.splitlines() == [
        "BLOCKED: 0 failed, 4 could not verify, 0 warnings, 0 passed, 0 skipped (exit 2)"
    ]
    assert done.stderr == ""


def test_verbose_lists_passes_and_skips_the_default_counts_them(project, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/app")
    project({"pyproject.toml": '[tool.launch-gate]\nenvironment = "staging"\n[tool.launch-gate.env]\n'
             'required = ["DATABASE_URL"]\n'})  # fmt: skip
    assert main(["check", "--select", "env.debug,env.required"]) == 0
    default = capsys.readouterr().out
    assert "  1 passed, 1 skipped (-v lists them)" in default
    assert "PASS" not in default
    assert "SKIP" not in default
    assert main(["check", "--select", "env.debug,env.required", "-v"]) == 0
    verbose = capsys.readouterr().out
    assert [line.split()[:2] for line in verbose.splitlines() if line.startswith("  ")] == [
        ["PASS", "env.required"], ["SKIP", "env.debug"]
    ]  # fmt: skip
    with pytest.raises(SystemExit) as both:
        main(["check", "-v", "-q"])
    assert both.value.code == 4


def test_the_demo_takes_quiet_and_verbose_too(tmp_path):
    quiet = subprocess.run(
        [sys.executable, "-m", "launch_gate", "demo", "-q"],
        cwd=tmp_path, env=base_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert len(quiet.stdout.splitlines()) == 1
    assert quiet.stdout.startswith("READY to launch: 0 failed")
    verbose = subprocess.run(
        [sys.executable, "-m", "launch_gate", "demo", "-v"],
        cwd=tmp_path, env=base_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert verbose.returncode == 0
    assert "  PASS   tls.certificate" in verbose.stdout
    assert "Stopped the demo deployment." in verbose.stdout


class Recorder:
    """A shell's view of the run: the events in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Outcome | None]] = []

    def started(self, planned: Planned) -> None:
        self.events.append(("started", planned.check.id, None))

    def finished(self, planned: Planned, result: CheckResult) -> None:
        self.events.append(("finished", result.id, result.outcome))


def test_the_runner_tells_its_progress_each_start_before_its_result(project):
    root = project({"pyproject.toml": '[tool.launch-gate]\nenvironment = "production"\n'
                    '[tool.launch-gate.checks]\ndeps = "off"\n'})  # fmt: skip
    settings_ = load_settings(cwd=root, environ={})
    plan = build_plan(settings_, "pre", ["env", "deps"])
    recorder = Recorder()
    report = run_plan(plan, make_context(settings_, {"DEBUG": "1"}), "pre", recorder)
    ids = [p.check.id for p in plan]
    assert sorted(i for kind, i, _ in recorder.events if kind == "started") == sorted(ids)
    finished = {i: outcome for kind, i, outcome in recorder.events if kind == "finished"}
    assert finished == {r.id: r.outcome for r in report.results}
    for check_id in ids:
        kinds = [kind for kind, i, _ in recorder.events if i == check_id]
        assert kinds == ["started", "finished"]


def test_the_live_line_fits_the_terminal_and_names_the_longest_running_first(project):
    now = [100.0]
    stream = StringIO()
    columns = [60]
    shown = LiveProgress(stream, 3, clock=lambda: now[0], width=lambda: columns[0])
    plan = build_plan(load_settings(cwd=project({"launch-gate.toml": ""}), environ={}), "pre", ["env"])
    shown.started(plan[0])
    now[0] += 2
    shown.started(plan[1])
    now[0] += 1.5
    line = shown.line()
    assert len(line) <= 59
    assert line.startswith("launch-gate 0/3 done · 3.5 s · running 2: ")
    columns[0] = 30
    assert len(shown.line()) == 29
    assert shown.line().endswith("…")
    wide = LiveProgress(StringIO(), 3, clock=lambda: now[0], width=lambda: 200)
    wide.started(plan[1])
    now[0] += 1
    wide.started(plan[0])
    assert wide.line().endswith(f"{plan[1].check.id} 1.0 s, {plan[0].check.id} 0.0 s")
    wide.finished(plan[1], CheckResult(plan[1].check.id, Phase.PRE, Outcome.FAIL, "a message"))
    assert "1/3 done · 1 failed" in wide.line()
    assert "a message" not in stream.getvalue()


def test_progress_is_live_only_on_a_terminal_outside_ci():
    controller, terminal_end = os.openpty()
    with os.fdopen(terminal_end, "w") as tty:
        assert live(tty, {"TERM": "xterm"})
        assert not live(tty, {"TERM": "xterm", "CI": "true"})
        assert not live(tty, {"TERM": "xterm", "GITHUB_ACTIONS": "true"})
        assert not live(tty, {"TERM": "dumb"})
        assert live(tty, {"TERM": "xterm", "CI": "false"})
    os.close(controller)
    assert not live(StringIO(), {"TERM": "xterm"})


def test_a_plain_line_says_id_outcome_and_seconds_only(project):
    stream = StringIO()
    plan = build_plan(load_settings(cwd=project({"launch-gate.toml": ""}), environ={}), "pre", ["env.debug"])
    PlainProgress(stream, 1).finished(
        plan[0], CheckResult("env.debug", Phase.PRE, Outcome.ERROR, "could not verify: secret stuff", 1234.5)
    )
    assert stream.getvalue() == "launch-gate [1/1] env.debug: could not verify (1.23 s)\n"


SERVFAIL = [
    "could not verify redirects: the home page GET https://www.example.test/ did not answer "
    "(ConnectError: no nameserver answered for www.example.test (SERVFAIL))",
    "could not verify: no nameserver answered for _dmarc.example.test (SERVFAIL)",
    "could not verify GET /api/coaches?q=yoga: no request got an answer (ConnectError: no nameserver answered "
    "for www.example.test (SERVFAIL)); p50 0.0 ms, p95 0.0 ms, p99 0.0 ms, errors 100.0% of 60",
    "could not verify step 1 (sign up): POST /api/signup got no answer (ConnectError: no nameserver answered "
    "for www.example.test (SERVFAIL)) (flow user lg-20261205123657-cec481@example.test)",
]


def test_the_rule_finds_one_cause_behind_differently_worded_messages():
    assert {normalise(cause_of(m)[0]) for m in SERVFAIL} == {"no nameserver answered for … (SERVFAIL)"}
    assert normalise(cause_of("could not verify: TXT lookup of example.test timed out")[0]) == (
        "DNS lookup of … timed out"
    )
    assert cause_of("DATABASE_URL is not set") == ("DATABASE_URL is not set", None)


def test_different_causes_and_lone_errors_are_not_grouped():
    results = [
        CheckResult("a.one", Phase.POST, Outcome.ERROR, SERVFAIL[0]),
        CheckResult("a.two", Phase.POST, Outcome.ERROR, "could not verify: no answer within 60 s"),
        CheckResult("a.three", Phase.PRE, Outcome.FAIL, "DATABASE_URL is not set"),
        CheckResult("a.four", Phase.PRE, Outcome.FAIL, "DEBUG is on"),
    ]
    assert root_causes(results) == []
    grouped = root_causes([*results, CheckResult("a.five", Phase.POST, Outcome.ERROR, SERVFAIL[1])])
    assert [(c.ids, c.text) for c in grouped] == [
        (("a.one", "a.five"), "no nameserver answered for … (SERVFAIL)")
    ]


def test_a_shared_message_is_quoted_as_it_is_and_the_lines_are_shortened():
    same = (
        "could not verify: GET https://x.test/ did not answer (ConnectError: [Errno 111] Connection refused)"
    )
    report = GateReport(
        "post",
        tuple(CheckResult(f"headers.c{n}", Phase.POST, Outcome.ERROR, same,
                          findings=(Finding("[Errno 111] Connection refused"), Finding("another thing")))
              for n in range(3)),
    )  # fmt: skip
    text = terminal.render(report)
    assert "root cause: 3 checks could not verify for one reason: [Errno 111] Connection refused\n" in text
    assert text.count("  ERROR  headers.c") == 3
    assert "did not answer (…) [root cause]" in text
    assert text.count("- another thing") == 3  # a finding of its own stays
    assert "- [Errno 111]" not in text  # one that repeats the cause goes


def one(outcome: Outcome, n: int = 1) -> GateReport:
    return GateReport("pre", tuple(CheckResult(f"env.c{i}", Phase.PRE, outcome, "m", findings=(Finding("f"),) * n)
                                   for i in range(n)))  # fmt: skip


@pytest.mark.parametrize(
    ("n", "checks", "warnings", "findings"),
    [(1, "1 check", "1 warning", "1 finding"), (2, "2 checks", "2 warnings", "2 findings")],
)
def test_counts_read_as_english_for_one_and_two(n, checks, warnings, findings):
    report = one(Outcome.WARN, n)
    text = terminal.render(report)
    assert text.startswith(f"launch-gate · phase pre · {checks}\n")
    assert f", {warnings}, " in text.splitlines()[-1]
    markdown = MarkdownSummary().format(report)
    assert f" · {warnings} · " in markdown
    assert f"<code>env.c0</code>: {findings}</summary>" in markdown
    unwritten = terminal.verdict_line(one(Outcome.PASS), 3, unwritten=n)
    assert unwritten.startswith(f"NOT DONE: {n} report{'s' if n == 2 else ''} could not be written")


outcomes = st.sampled_from(list(Outcome))
messages = st.sampled_from(["DATABASE_URL is not set", SERVFAIL[0], SERVFAIL[1], "could not verify: x", "ok"])
reports = st.lists(st.tuples(outcomes, messages), max_size=12).map(
    lambda rows: GateReport(
        "all", tuple(CheckResult(f"area.c{i}", Phase.PRE, o, m) for i, (o, m) in enumerate(rows))
    )
)
LEVEL = {"FAIL": 0, "ERROR": 1, "WARN": 2}
LABELS = {"FAIL", "ERROR", "WARN", "PASS", "SKIP"}


@settings(max_examples=50, deadline=None)
@given(report=reports)
def test_the_report_lists_what_blocks_before_warnings_and_only_counts_the_rest(report):
    lines = terminal.render(report).splitlines()
    listed = [line.split()[:2] for line in lines if line.startswith("  ") and line.split()[0] in LABELS]
    levels = [LEVEL.get(label, 9) for label, _ in listed]
    assert levels == sorted(levels)  # failures, could-not-verify, warnings: in that order
    assert 9 not in levels  # passes and skips are not listed...
    problems = [r.id for r in report.results if r.outcome in (Outcome.FAIL, Outcome.ERROR, Outcome.WARN)]
    assert sorted(i for _, i in listed) == sorted(problems)  # ...and every problem is, once
    counts = report.counts()
    if counts["pass"] or counts["skip"]:
        assert f"  {terminal.tally(report.results)} (-v lists them)" in lines
    assert lines[-1] == terminal.verdict_line(report)
    verbose = terminal.render(report, verbosity=terminal.VERBOSE).splitlines()
    assert [line.split()[1] for line in verbose if line.startswith("  ") and line.split()[0] in LABELS] == [
        r.id for r in report.results
    ]
    assert terminal.render(report, verbosity=terminal.QUIET) == terminal.verdict_line(report) + "\n"
    causes = [line for line in lines if line.startswith("root cause")]
    marked = [line for line in lines if line.rstrip().endswith("]") and "[root cause" in line]
    assert len(marked) == sum(len(c.ids) for c in root_causes(report.results))
    assert len(causes) == len(root_causes(report.results))


GATE = """
[tool.launch-gate]
environment = "production"

[tool.launch-gate.env]
required = ["DATABASE_URL"]

[tool.launch-gate.checks]
deps = "off"
"""


def test_under_pytest_skipped_gate_items_fold_into_one_line_and_junit_keeps_each(pytester, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    pytester.makepyprojecttoml(GATE)
    pytester.makepyfile(test_app="import pytest\n\ndef test_unit():\n    pytest.skip('not today')\n")
    result = pytester.runpytest("--launch-gate", "-rs", "--junitxml=junit.xml", "-p", "no:cacheprovider")
    skipped = result.parseoutcomes()["skipped"]
    gate_skipped = skipped - 1
    assert gate_skipped >= 5
    result.stdout.fnmatch_lines(
        [
            f"SKIPPED [[]{gate_skipped}[]] pyproject.toml: launch-gate: {gate_skipped} checks skipped: no target (*"
        ]
    )
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_app.py:4: not today"])  # the user's own stays
    assert not [line for line in result.stdout.lines if line.startswith("SKIPPED") and "gate.py" in line]
    root = ET.parse(pytester.path / "junit.xml").getroot()
    skips = {case.get("name"): case.find("skipped") for case in root.iter("testcase")}
    gate = {name: s for name, s in skips.items() if s is not None and name != "test_unit"}
    assert len(gate) == gate_skipped  # JUnit: one skipped record per item, with its own reason
    assert "no mail domain" in gate["email.spf"].get("message")
    assert "off by configuration" in gate["deps.audit"].get("message")
    unfolded = pytester.runpytest("--launch-gate", "-rs", "--no-fold-skipped", "-p", "no:cacheprovider")
    gate_lines = [line for line in unfolded.stdout.lines if line.startswith("SKIPPED launch-gate")]
    assert gate_lines == [f"SKIPPED launch-gate - launch-gate: {gate_skipped} checks skipped: " + gate_lines[0].split(
        "checks skipped: ", 1)[1]]  # fmt: skip
    assert unfolded.parseoutcomes()["skipped"] == skipped


def test_under_pytest_the_gate_summary_lists_what_blocks_and_counts_the_rest(pytester, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    pytester.makepyprojecttoml(GATE)
    result = pytester.runpytest("--launch-gate", "-k", "env", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["*launch-gate: BLOCKED*", "  FAIL   env.required*", "", "  2 passed, 2 skipped (-v lists them)",
         "BLOCKED: 1 failed*"]
    )  # fmt: skip
    result.stdout.no_fnmatch_line("  PASS   env.*")
    verbose = pytester.runpytest("--launch-gate", "-k", "env", "-v", "-p", "no:cacheprovider")
    verbose.stdout.fnmatch_lines(
        [
            "*launch-gate: BLOCKED*",
            "  FAIL   env.required*",
            "  SKIP   env.placeholders*",
            "  PASS   env.test-keys*",
        ]
    )
