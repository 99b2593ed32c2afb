"""The run history: what `check --history` and watch rounds write, in SQLite and in a real PostgreSQL server;
the schema version; the deploy's commit; the kinds of trouble read from real results; when incidents open
and close (pure, with a property test of the consecutive-rounds rule)."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from launch_gate.errors import ConfigError, CouldNotVerify
from launch_gate.history import History, Incident, Row, Run, decide, deploy_commit, new_run_id, signals
from launch_gate.history.schema import VERSION
from launch_gate.results import CheckResult, Outcome, Phase
from tests.conftest import base_env, run_cli
from tests.postgres import fresh_database, postgres_server

LATENCY = {"route": "/", "samples": 60, "errors": 3, "error_rate": 0.05, "unanswered": 0, "p50_ms": 12.5,
           "p95_ms": 48.0, "p99_ms": 90.25, "budget_p95_ms": 300.0}  # fmt: skip


@pytest.fixture(scope="session")
def postgres_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}"
    server = request.getfixturevalue("postgres_url")
    return fresh_database(server, f"h_{new_run_id()[:12]}")


def a_run(source="check", at=1_000.0, verdict="ready"):
    return Run(new_run_id(), source, at, at + 2, "post", verdict, 0 if verdict == "ready" else 1, "abc123",
               "https://www.example.test/", "production")  # fmt: skip


def test_a_run_and_its_results_are_written_and_read_back_with_their_figures(store_url, tmp_path):
    results = [
        CheckResult("latency.home", Phase.POST, Outcome.FAIL, "GET /: 3 answers were 5xx", 3500.0,
                    metrics=LATENCY),
        CheckResult("domain.redirects", Phase.POST, Outcome.PASS, "every variant ends at the target", 120.0),
    ]  # fmt: skip
    run = a_run()
    with History.open(store_url, tmp_path) as history:
        written = history.record(run, results, {r.id: signals(r, 500.0) for r in results})
        [stored_run] = history.runs()
        rows = {r.check_id: r for r in history.results()}
    assert written == 3
    assert stored_run == run
    home = rows["latency.home"]
    assert (home.p50_ms, home.p95_ms, home.p99_ms, home.error_rate) == (12.5, 48.0, 90.25, 0.05)
    assert (home.outcome, home.kind, home.slow, home.budget_p95_ms) == ("fail", "errors", False, 300.0)
    assert (rows["domain.redirects"].kind, rows["domain.redirects"].p95_ms) == (None, None)
    assert home.run_id == run.id
    assert home.at == run.finished_at


def test_the_schema_is_created_once_with_its_version_and_a_newer_one_is_refused(store_url, tmp_path):
    with History.open(store_url, tmp_path) as history:
        history.record(a_run(), [])
    with History.open(store_url, tmp_path) as history:  # reopened: nothing recreated, the run is still there
        assert len(history.runs()) == 1
        with history.engine.begin() as connection:
            assert connection.execute(text("SELECT version FROM schema_version")).scalar() == VERSION
            connection.execute(text("UPDATE schema_version SET version = 99"))
    with pytest.raises(ConfigError, match="schema version 99, newer than this launch-gate knows"):
        History.open(store_url, tmp_path)


def test_the_default_store_is_sqlite_in_the_project(tmp_path):
    with History.open(None, tmp_path) as history:
        history.record(a_run(), [])
    assert (tmp_path / ".launch-gate" / "history.sqlite").is_file()
    engine = create_engine(f"sqlite:///{tmp_path / '.launch-gate' / 'history.sqlite'}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM runs")).scalar() == 1
    engine.dispose()


def test_an_unreachable_postgresql_is_could_not_verify_without_its_password(tmp_path):
    with pytest.raises(CouldNotVerify) as caught:
        History.open("postgresql://gate:Sup3rS3cretPassw0rd@127.0.0.1:9/history", tmp_path)
    assert "Sup3rS3cret" not in str(caught.value)
    assert "could not open" in str(caught.value)


def test_the_deploys_commit_is_githubs_sha_else_the_repositorys_head_else_unknown(tmp_path):
    assert deploy_commit(tmp_path, {"GITHUB_SHA": "f" * 40}) == "f" * 40
    assert deploy_commit(tmp_path, {}) is None  # not a repository
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.test"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "first"], cwd=tmp_path, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    assert deploy_commit(tmp_path, {}) == head


CONFIG = 'environment = "staging"\n[env]\nrequired = ["APP_NAME"]\n'


def test_check_with_history_records_the_gate_run_in_the_projects_sqlite(tmp_path):
    (tmp_path / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
    done = run_cli("check", "--phase", "pre", "--select", "env.required", "--history", cwd=tmp_path,
                   env=base_env(APP_NAME="shop", GITHUB_SHA="a" * 40))  # fmt: skip
    assert done.returncode == 0, done.stderr
    with History.open(None, tmp_path) as history:
        [run] = history.runs()
        [row] = history.results()
    assert (run.source, run.verdict, run.commit, run.environment) == ("check", "ready", "a" * 40, "staging")
    assert (row.check_id, row.outcome) == ("env.required", "pass")


def test_a_history_url_in_the_configuration_records_without_the_flag(tmp_path, store_url):
    config = CONFIG + f'[history]\nurl = "{store_url}"\n'
    (tmp_path / "launch-gate.toml").write_text(config, encoding="utf-8")
    done = run_cli("check", "--phase", "pre", "--select", "env.required", cwd=tmp_path, env=base_env())
    assert done.returncode == 1  # APP_NAME is missing: the run is recorded as failed
    with History.open(store_url, tmp_path) as history:
        [run] = history.runs()
        [row] = history.results()
    assert (run.verdict, row.outcome, row.kind) == ("failed", "fail", "errors")


def test_a_history_that_cannot_be_written_is_said_and_exit_3_and_the_password_never_shown(tmp_path):
    (tmp_path / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
    url = "postgresql://gate:Sup3rS3cretPassw0rd@127.0.0.1:9/history"
    done = run_cli("check", "--phase", "pre", "--select", "env.required", cwd=tmp_path,
                   env=base_env(APP_NAME="shop", LAUNCH_GATE_HISTORY__URL=url))  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert "could not record the run in the history" in done.stderr
    assert "Sup3rS3cret" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_a_history_url_that_is_not_a_database_is_exit_4_naming_the_key(tmp_path):
    (tmp_path / "launch-gate.toml").write_text(CONFIG + '[history]\nurl = "mysql://x"\n', encoding="utf-8")
    done = run_cli("check", "--phase", "pre", cwd=tmp_path, env=base_env(APP_NAME="shop"))
    assert done.returncode == 4
    assert "history" in done.stderr
    assert "url" in done.stderr
    assert "sqlite:///" in done.stderr


# --- kinds, read from results the demo's faults produce (messages as the checks write them) ---
@pytest.mark.parametrize(
    ("check_id", "outcome", "message", "kind"),
    [
        ("domain.redirects", "fail", "1 problem: https://www.example.test/ answers 500, not a 2xx page", "errors"),
        ("domain.redirects", "error", "could not verify redirects: the home page GET https://www.example.test/ "
         "did not answer (ReadTimeout: no answer in time)", "down"),
        ("domain.redirects", "error", "could not verify redirects: the home page GET https://www.example.test/ did "
         "not answer (ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed)", "tls"),
        ("smoke.signup", "error", "could not verify step 1 (sign up): POST /api/signup got no answer (ConnectError: "
         "no nameserver answered for www.example.test (SERVFAIL))", "dns"),
        ("smoke.signup", "fail", "step 2 (confirmation email): no email to lg-1@example.test with subject "
         "containing 'confirm your' arrived within 5 s", "email"),
        ("smoke.signup", "fail", 'step 1 (sign up): POST /api/signup answered 500 (expected 201): {"error": 1}',
         "errors"),
        ("domain.redirects", "fail", "1 problem: https://www.example.test/ took 2.6 s (budget 2 s, [headers] "
         "page-within)", "slow"),
        ("tls.expiry", "fail", "www.example.test: expires in 3 days", "tls"),
        ("domain.redirects", "pass", "every variant ends at https://www.example.test", None),
        ("domain.redirects", "warn", "a warning is no incident", None),
    ],
)  # fmt: skip
def test_the_kind_of_a_result_is_read_from_its_area_and_message(check_id, outcome, message, kind):
    assert signals(CheckResult(check_id, Phase.POST, Outcome(outcome), message)).kind == kind


def test_a_latency_route_is_judged_by_its_figures_and_the_watchs_bound():
    def route(**figures):
        return CheckResult(
            "latency.home", Phase.POST, Outcome.ERROR, "only 20 samples", metrics={**LATENCY, **figures}
        )

    assert signals(route(errors=0, p95_ms=40.0), 500.0) == signals(route(errors=0), None)  # healthy, not slow
    assert signals(route(errors=0, p95_ms=40.0), 500.0).kind is None  # too few samples is no outage
    assert signals(route(errors=0, p95_ms=700.0), 500.0).slow
    assert not signals(route(errors=0, p95_ms=700.0), None).slow  # not a core route: no bound
    assert signals(route(errors=20, unanswered=20), 500.0).kind == "down"
    assert signals(route(errors=20, unanswered=0), 500.0).kind == "errors"


# --- incidents (pure) ---
def row(at, kind=None, slow=False, message="m", p95=None):
    return Row("r", at, "watch", "domain.redirects", "fail" if kind else "pass", 1.0, message, None, p95, None,
               None, None, kind, slow)  # fmt: skip


def test_one_failing_round_opens_nothing_two_open_an_incident_dated_from_the_first():
    assert decide({"domain.redirects": [row(10, "errors")]}, [], 2, 500).opened == ()
    [opened] = decide(
        {"domain.redirects": [row(20, "down", message="no answer"), row(10, "errors")]}, [], 2, 500
    ).opened
    assert (opened.check_id, opened.track, opened.kind, opened.since, opened.message) == (
        "domain.redirects", "fail", "down", 10, "no answer")  # fmt: skip


def test_an_open_incident_closes_on_one_passing_round_and_is_not_reopened_while_failing():
    incident = Incident(1, "domain.redirects", "fail", "errors", 10, 20, None, "m")
    failing = decide(
        {"domain.redirects": [row(30, "errors", message="still"), row(20, "errors")]}, [incident], 2, 500
    )
    assert failing.opened == ()
    assert failing.closed == ()
    assert failing.noted == ((incident, "still"),)
    [closed] = decide({"domain.redirects": [row(40), row(30, "errors")]}, [incident], 2, 500).closed
    assert closed.incident == incident


def test_slowness_is_an_incident_of_its_own_beside_a_failure():
    rows = [row(20, "errors", slow=True, p95=800.0), row(10, "errors", slow=True, p95=700.0)]
    found = decide({"latency.home": rows}, [], 2, 500)
    assert sorted((o.track, o.kind) for o in found.opened) == [("fail", "errors"), ("slow", "slow")]
    assert "p95 800 ms, over the 500 ms bound" in next(o.message for o in found.opened if o.track == "slow")


@settings(max_examples=50, deadline=None)
@given(rounds=st.lists(st.booleans(), max_size=40), alert_after=st.integers(1, 4))
def test_incidents_open_once_per_run_of_alert_after_failures_and_close_on_the_first_pass(rounds, alert_after):
    """Feeding rounds one by one: one incident per maximal run of >= alert_after failing rounds, opened at
    its alert_after-th round, closed at the first pass after it; never an alert per round."""
    history: list[Row] = []
    open_now: list[Incident] = []
    opened_at, closed_at = [], []
    for n, failing in enumerate(rounds):
        history.insert(0, row(n, "errors" if failing else None))
        found = decide({"domain.redirects": history[:alert_after]}, open_now, alert_after, 500)
        for o in found.opened:
            open_now.append(Incident(n, o.check_id, o.track, o.kind, o.since, n, None, o.message))
            opened_at.append(n)
        for c in found.closed:
            open_now.remove(c.incident)
            closed_at.append(n)
    expected_open, expected_close, streak = [], [], 0
    for n, failing in enumerate(rounds):
        streak = streak + 1 if failing else 0
        if streak == alert_after:
            expected_open.append(n)
        if not failing and n > 0 and len(expected_close) < len(expected_open):
            expected_close.append(n)
    assert opened_at == expected_open
    assert closed_at == expected_close
