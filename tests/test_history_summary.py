"""`launch-gate dashboard --markdown`: the last 24 h of the history as Markdown for a job summary. The history
is written by the real recording code (gate runs by `record_gate`, rounds as the watch records them) in
SQLite and in a real PostgreSQL server; the figures are checked against the rows; an empty window says it is
not a pass; no planted secret in a stored message reaches the Markdown."""

from __future__ import annotations

import string
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launch_gate.config import Settings, load_settings
from launch_gate.dashboard.markdown import build_summary, span_label, summary_redactor
from launch_gate.history import History, Run, new_run_id, record_gate, result_signals
from launch_gate.redact import WINDOW
from launch_gate.results import CheckResult, GateReport, Outcome, Phase
from tests.conftest import base_env, run_cli
from tests.planted import Planted
from tests.postgres import fresh_database, postgres_server

HOUR = 3600.0
CONFIG = (
    'target = "https://www.example.test/"\n[latency.routes]\nhome = "/"\n'
    '[watch]\np95-ms = 500\n[checks]\ndeps = "off"\n'
)
GREEN, BLOCKED, OLD = "a1b2c3d4e5f6" + "0" * 28, "f6e5d4c3b2a1" + "0" * 28, "0bad0bad0bad" + "0" * 28


@pytest.fixture(scope="session")
def postgres_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def history_config(request, tmp_path) -> Settings:
    """Settings of a project whose history is SQLite in the project, or a fresh PostgreSQL database."""
    config = CONFIG
    if request.param == "postgresql":
        url = fresh_database(request.getfixturevalue("postgres_url"), f"s_{new_run_id()[:12]}")
        config += f'[history]\nurl = "{url}"\n'
    (tmp_path / "launch-gate.toml").write_text(config, encoding="utf-8")
    return load_settings(cwd=tmp_path, environ={})


def latency(p95: float, errors: int) -> dict[str, object]:
    return {"route": "/", "samples": 60, "errors": errors, "error_rate": errors / 60, "unanswered": 0,
            "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95 * 1.2, "budget_p95_ms": 300.0}  # fmt: skip


def gate(settings: Settings, at: float, commit: str, passed: bool) -> None:
    """One `launch-gate check --history` run, written by the command's own recording code."""
    outcome = Outcome.PASS if passed else Outcome.FAIL
    report = GateReport("all", (CheckResult("env.required", Phase.PRE, outcome, "DATABASE_URL is set"),))
    record_gate(settings, report, at, at + 20, {"GITHUB_SHA": commit})


def watch_round(history: History, settings: Settings, at: float, results: list[CheckResult]) -> None:
    """One watch round, recorded as the watch records it (its results and their signals)."""
    report = GateReport("post", tuple(results))
    run = Run(new_run_id(), "watch", at, at + 2, "post", report.verdict, int(report.exit_code),
              None, settings.target, settings.environment)  # fmt: skip
    history.record(run, results, result_signals(settings, results))


def seed(settings: Settings, now: float) -> None:
    """24 hourly rounds in the window (the home page fails rounds 10 and 11; p95 climbs 100 -> 330 ms against
    a 300 ms budget; odd rounds have one 5xx in 60), two failing rounds and a gate run before it; incidents."""
    start = now - 24 * HOUR
    with History.open(settings.history.url, settings.root) as history:
        for at in (start - 6 * HOUR, start - 5 * HOUR):  # outside the window: must not count
            watch_round(history, settings, at, [
                CheckResult("dns.records", Phase.POST, Outcome.FAIL, "SERVFAIL from every nameserver")])  # fmt: skip
        for k in range(24):
            down = k in (10, 11)
            watch_round(history, settings, start + HOUR / 2 + k * HOUR, [
                CheckResult("domain.redirects", Phase.POST, Outcome.FAIL if down else Outcome.PASS,
                            "https://www.example.test/ answers 500" if down else "ends at the target"),
                CheckResult("latency.home", Phase.POST, Outcome.PASS, "GET /",
                            metrics=latency(100 + 10 * k, k % 2)),
            ])  # fmt: skip
        old = history.open_incident(
            "dns.records", "fail", "dns", start - 6 * HOUR, start - 5 * HOUR, "SERVFAIL"
        )
        history.close_incident(old.id, start - 4 * HOUR)  # closed before the window: not shown
        before = history.open_incident("tls.expiry", "fail", "tls", start - 3 * HOUR, start - 2 * HOUR,
                                       "the certificate expired")  # fmt: skip
        history.close_incident(before.id, start + HOUR)  # opened before, closed inside: closed, not opened
        down = history.open_incident("domain.redirects", "fail", "errors", start + 10.5 * HOUR,
                                     start + 11.5 * HOUR, "https://www.example.test/ answers 500")  # fmt: skip
        history.close_incident(down.id, start + 12.5 * HOUR)
        history.open_incident("latency.home", "slow", "slow", start + 22.5 * HOUR, start + 23.5 * HOUR,
                              "p95 330 ms, over the 300 ms bound")  # fmt: skip
    gate(settings, start - 2 * HOUR, OLD, True)
    gate(settings, start + 2 * HOUR, GREEN, True)
    gate(settings, start + 12 * HOUR, BLOCKED, False)


def test_the_summary_shows_the_windows_figures_from_the_recorded_rows(history_config):
    now = time.time()
    seed(history_config, now)
    with History.open(history_config.history.url, history_config.root) as history:
        text, recorded = build_summary(history, {"latency.home": 500.0}, str, now=now)
    assert recorded
    assert text.startswith("## ❌ launch-gate: the last 24 h of https://www.example.test/")  # one is open
    # 22 of the 24 rounds passed every check; the two older failing rounds are outside the window
    assert "**91.67 % uptime** (22 of 24 watch rounds passed every check)" in text
    assert "**error rate 0.83 %**" in text  # 12 rounds of 1/60, 12 of 0
    assert "**2 incidents** opened, 2 closed, 1 open now" in text
    assert "**2 gate runs**: 1 ready, 1 blocked" in text
    assert "| `domain.redirects` | ❌ 91.67 % | 2 of 24 | - | - |" in text
    assert (
        "| `latency.home` | ✅ 100.00 % | 0 of 24 | ❌ 330 ms (budget 300 ms, 3 of 24 over) | 0.83 % |"
        in text
    )
    assert "| `env.required` | ❌ 50.00 % | 1 of 2 | - | - |" in text  # the gate runs' check is a row too
    assert "dns.records" not in text  # its rounds and its incident are older than the window
    incidents = text.split("### Incidents", 1)[1].split("### Gate runs", 1)[0]
    assert (
        incidents.index("latency.home") < incidents.index("domain.redirects") < incidents.index("tls.expiry")
    )
    assert "| `domain.redirects` | errors (a 5xx or a wrong answer) |" in incidents
    assert "2 h 0 min | https://www.example.test/ answers 500 |" in incidents
    assert "| ❌ open | 1 h 30 min |" in incidents  # failing since 90 min before now
    gates = text.split("### Gate runs", 1)[1]
    assert gates.index(f"`{BLOCKED[:12]}` | ❌ blocked (failed)") < gates.index(f"`{GREEN[:12]}` | ✅ ready")
    assert OLD[:12] not in text


def test_since_widens_the_window_to_the_older_rows(history_config):
    now = time.time()
    seed(history_config, now)
    with History.open(history_config.history.url, history_config.root) as history:
        text, _ = build_summary(history, {}, str, span=2 * 24 * HOUR, now=now)
    assert text.startswith("## ❌ launch-gate: the last 2 d of")
    assert "(22 of 26 watch rounds passed every check)" in text
    assert "| `dns.records` | ❌ 0.00 % | 2 of 2 |" in text
    assert "**3 gate runs**: 2 ready, 1 blocked" in text


def test_with_many_checks_the_failing_ones_lead_and_those_that_never_failed_are_folded(tmp_path):
    (tmp_path / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
    config = load_settings(cwd=tmp_path, environ={})
    now = time.time()
    with History.open(None, tmp_path) as history:
        results = [CheckResult(f"headers.h{n:02d}", Phase.POST, Outcome.PASS, "ok") for n in range(12)]
        watch_round(history, config, now - HOUR, [
            *results, CheckResult("tls.expiry", Phase.POST, Outcome.FAIL, "expires in 3 days")])  # fmt: skip
        text, _ = build_summary(history, {}, str, now=now)
    main, folded = text.split("<details><summary>12 more checks, never failed</summary>", 1)
    assert "| `tls.expiry` | ❌ 0.00 % | 1 of 1 |" in main
    assert "headers.h" not in main
    assert folded.count("| `headers.h") == 12


@pytest.mark.parametrize(("seconds", "label"), [(86_400, "24 h"), (7 * 86_400, "7 d"), (5400, "90 min")])
def test_a_window_is_named_as_people_say_it(seconds, label):
    assert span_label(seconds) == label


# --- the command ---
@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def test_markdown_alone_writes_the_summary_and_no_page(project):
    seed(load_settings(cwd=project, environ={}), time.time())
    done = run_cli("dashboard", "--markdown", "summary.md", cwd=project, env=base_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Wrote the last 24 h of the history as Markdown to summary.md.\n"
    assert "(22 of 24 watch rounds passed every check)" in (project / "summary.md").read_text(
        encoding="utf-8"
    )
    assert not (project / "launch-gate-dashboard.html").exists()


def test_markdown_dash_prints_it_and_output_still_writes_the_page(project):
    seed(load_settings(cwd=project, environ={}), time.time())
    done = run_cli("dashboard", "--markdown", "-", "--since", "7d", "--output", "board.html", cwd=project,
                   env=base_env())  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("## ❌ launch-gate: the last 7 d of https://www.example.test/")
    assert "(22 of 26 watch rounds passed every check)" in done.stdout
    assert "Wrote the dashboard to board.html" in done.stderr  # standard output holds the Markdown alone
    assert (project / "board.html").is_file()


def test_an_empty_window_says_it_is_not_a_pass_and_exits_2(project):
    done = run_cli("dashboard", "--markdown", "summary.md", cwd=project, env=base_env())
    assert done.returncode == 2
    text = (project / "summary.md").read_text(encoding="utf-8")
    assert text.startswith("## ⚠️ launch-gate: nothing recorded in the last 24 h")
    assert "**This is not a pass**: nothing was checked" in text
    assert "✅" not in text
    assert done.stderr.count("\n") == 1
    assert "not a pass" in done.stderr


@pytest.mark.parametrize("window", ["2x", "24", "0h", "-5m", "30s", "401d", "1e9h", "soon"])
def test_a_bad_since_is_one_sentence_and_exit_4(project, window):
    done = run_cli("dashboard", "--markdown", "-", f"--since={window}", cwd=project, env=base_env())
    assert done.returncode == 4
    assert "argument --since: must be a window from 1m to 400d, such as 24h, 90m or 7d" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_since_without_markdown_is_exit_4_naming_the_fix(project):
    done = run_cli("dashboard", "--since", "24h", cwd=project, env=base_env())
    assert done.returncode == 4
    assert "--since sets the window of the Markdown summary: add --markdown PATH" in done.stderr
    assert not (project / "launch-gate-dashboard.html").exists()


def test_an_unwritable_summary_path_is_exit_2_in_one_sentence(project):
    seed(load_settings(cwd=project, environ={}), time.time())
    done = run_cli("dashboard", "--markdown", "missing/dir/summary.md", cwd=project, env=base_env())
    assert done.returncode == 2
    assert "could not write the Markdown summary to missing/dir/summary.md" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_history_that_cannot_be_read_is_exit_2_without_its_password(project):
    with (project / "launch-gate.toml").open("a", encoding="utf-8") as config:
        config.write('[history]\nurl = "postgresql://gate:Sup3rS3cretPassw0rd@127.0.0.1:9/h"\n')
    done = run_cli("dashboard", "--markdown", "-", cwd=project, env=base_env())
    assert done.returncode == 2
    assert "could not open" in done.stderr
    assert "Sup3rS3cret" not in done.stderr + done.stdout


# --- never a secret ---
SECRET = st.text(string.ascii_letters + string.digits, min_size=16, max_size=40).filter(
    lambda s: len(set(s)) >= 10
)


def windows(secret: str) -> set[str]:
    return {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}


def summary_with(secret_texts: list[str], environ: dict[str, str]) -> str:
    """A history whose stored messages hold `secret_texts` raw (as a run that did not know them would have
    written them), summarised with the redactor the command builds from `environ`."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
        config = load_settings(cwd=root, environ={})
        now = time.time()
        with History.open(None, root) as history:
            for n, text in enumerate(secret_texts):
                watch_round(history, config, now - HOUR + n, [
                    CheckResult("smoke.login", Phase.POST, Outcome.FAIL, text)])  # fmt: skip
                opened = history.open_incident(
                    "smoke.login", "fail", "errors", now - HOUR, now - HOUR + n, text
                )
                if n % 2:
                    history.close_incident(opened.id, now - 60)
            return build_summary(history, {}, summary_redactor(config, environ).text, now=now)[0]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=SECRET, cut=st.integers(0, 8), data=st.data())
def test_no_piece_of_a_known_secret_in_a_stored_message_reaches_the_markdown(secret, cut, data):
    shapes = [
        f"login answered 401 for token {secret}",
        f"POST /login failed: {secret[cut:]}",  # a secret cut short, as a response's first bytes
        f"{secret[: len(secret) - cut]}|`<b>` and more",
        f"error: password={secret}",
    ]
    texts = data.draw(st.lists(st.sampled_from(shapes), min_size=1, max_size=3))
    text = summary_with(texts, {"APP_API_TOKEN": secret})
    assert "smoke.login" in text
    leaked = {w for w in windows(secret) if w in text}
    assert not leaked, (leaked, text)


def test_secrets_shaped_like_keys_are_scrubbed_even_when_the_environment_does_not_hold_them():
    planted = Planted.make()
    values = [planted.aws_key_id, planted.stripe_live, planted.jwt]
    text = summary_with([f"the page showed {value}" for value in values], {})
    assert "the page showed [redacted" in text
    for value in values:
        assert value not in text
        assert value[4:16] not in text
