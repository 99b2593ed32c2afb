"""The run history: what `check --history` and watch rounds write, in SQLite and in a real PostgreSQL server;
the schema version; the deploy's commit; the kinds of trouble read from real results; when incidents open
and close (pure, with a property test of the consecutive-rounds rule)."""

from __future__ import annotations

import subprocess
from pathlib import Path

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

    assert signals(route(errors=0, p95_ms=40.0), 500.0) == signals(route(errors=0), None)  # not slow
    # too few samples is no outage of the site, but no pass either: the watch could not check
    assert signals(route(errors=0, p95_ms=40.0), 500.0).kind == "watch"
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


# --- a failing latency route always has a kind; TLS and DNS are named before "down" (issue 14, finding 4) ---
def latency(outcome, message, **figures):
    return CheckResult("latency.api", Phase.POST, Outcome(outcome), message, metrics={**LATENCY, **figures})


TLS_ERROR = (
    "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
)
DNS_ERROR = "ConnectError: no nameserver answered for www.example.test (SERVFAIL)"


@pytest.mark.parametrize(
    ("result", "bound", "kind"),
    [
        # over the gate's p95 budget, not a core route (no watch bound): the false pass of the review
        (latency("fail", "GET /api/items: p95 250 ms is over its 100 ms budget", errors=0, p95_ms=250.0), None,
         "slow"),
        (latency("fail", "GET /api/items: p99 900 ms is over its 800 ms budget", errors=0, p95_ms=90.0), 500.0,
         "slow"),
        (latency("fail", "GET /api/items: p95 grew from 40 ms to 90 ms (more than 50%)", errors=0, p95_ms=90.0),
         500.0, "slow"),
        # over the watch's bound as well: the `slow` track says it, once
        (latency("fail", "GET /api/items: p95 900 ms is over its 100 ms budget", errors=0, p95_ms=900.0), 500.0,
         None),
        (latency("error", f"could not verify GET /api/items: no request got an answer ({TLS_ERROR})",
                 errors=60, unanswered=60), 500.0, "tls"),
        (latency("error", f"could not verify GET /api/items: no request got an answer ({DNS_ERROR})",
                 errors=60, unanswered=60), 500.0, "dns"),
        (latency("error", "could not verify GET /api/items: no request got an answer (ConnectError: refused)",
                 errors=60, unanswered=60), 500.0, "down"),
        (latency("fail", "GET /tls-resolve: error rate 100.0% is over 1.0% (first: status 503)", errors=60,
                 unanswered=0), 500.0, "errors"),  # the route's own path names neither TLS nor DNS
        (latency("error", "could not verify GET /api/items: the client sent 3.0 requests/s of the 10 asked",
                 errors=0), 500.0, "watch"),
        (latency("fail", "GET /api/items: something new the check may say one day", errors=0), 500.0, "errors"),
        (latency("pass", "GET /api/items: p50 1 ms, p95 2 ms", errors=0, p95_ms=2.0), 500.0, None),
    ],
)  # fmt: skip
def test_a_failing_latency_route_is_never_healthy_and_tls_or_dns_is_named_before_down(result, bound, kind):
    assert signals(result, bound).kind == kind


@settings(max_examples=50, deadline=None)
@given(
    outcome=st.sampled_from(["fail", "error"]),
    message=st.text(max_size=80),
    errors=st.integers(0, 60),
    unanswered=st.integers(0, 60),
    p95=st.one_of(st.none(), st.floats(0, 5000)),
    bound=st.one_of(st.none(), st.just(500.0)),
)
def test_a_blocking_latency_route_opens_an_incident_on_some_track(
    outcome, message, errors, unanswered, p95, bound
):
    """Whatever its figures and message, a route the gate blocks is failing on the `fail` track or the `slow`
    one: two such rounds always open an incident (the review's false pass)."""
    result = latency(outcome, message, errors=errors, unanswered=min(unanswered, errors), p95_ms=p95)
    found = signals(result, bound)
    assert found.kind is not None or found.slow
    rows = [Row("r", at, "watch", "latency.api", outcome, 1.0, message, None, p95, None, None, None, found.kind,
                found.slow) for at in (20, 10)]  # fmt: skip
    assert decide({"latency.api": rows}, [], 2, 500).opened


def test_a_latency_route_over_its_budget_and_one_behind_a_bad_certificate_open_incidents(tmp_path):
    """Real bursts against the demo: a slow route that is not core (kind slow), and TLS that fails (kind tls,
    not down); each opens an incident after two rounds."""
    from launch_gate import demo
    from launch_gate.config import load_settings
    from launch_gate.runner import build_plan, make_context, run_plan

    def twice(running, route_budget):
        text = running.config.read_text(encoding="utf-8").replace(
            "[latency]\nrate = 20\nduration = 3\nwarmup = 0.5\n", ""
        )
        text += (f"\n[latency]\nrate = 10\nduration = 1\nwarmup = 0\nmin-samples = 5\np95-ms = {route_budget}\n"
                 "[watch]\np95-ms = 5000\ncore-routes = []\n")  # fmt: skip
        running.config.write_text(text, encoding="utf-8")
        settings = load_settings(config_file=running.config)
        check_id = next(f"latency.{name}" for name in settings.latency.routes)
        [result] = run_plan(build_plan(settings, "post", [check_id]), make_context(settings, {})).results
        found = signals(result, None)
        rows = [Row("r", at, "watch", check_id, result.outcome.value, 1.0, result.message, None, None, None, None,
                    None, found.kind, found.slow) for at in (20, 10)]  # fmt: skip
        return result, found, decide({check_id: rows}, [], 2, 5000)

    with demo.running(delay=0.05) as running:
        result, found, decision = twice(running, 10)
    assert result.outcome is Outcome.FAIL, result.message
    assert found.kind == "slow"
    assert [o.kind for o in decision.opened] == ["slow"]
    with demo.running(faults={"expired-cert"}) as running:
        result, found, decision = twice(running, 1000)
    assert result.outcome.blocks, result.message
    assert found.kind == "tls", result.message
    assert [o.kind for o in decision.opened] == ["tls"]


# --- history URLs that would leak or crash (issue 14, findings 2 and 3) ---
PASSWORDS = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="@/?#"),
                    min_size=6, max_size=24)  # fmt: skip


def no_window_of(secret, text):
    windows = {secret[i : i + 6] for i in range(len(secret) - 5)}
    return [w for w in windows if w in text]


@settings(max_examples=50, deadline=None)
@given(before=PASSWORDS, after=PASSWORDS)
def test_a_password_with_an_unencoded_at_is_refused_naming_the_setting_and_never_echoed(before, after):
    with pytest.raises(ConfigError) as caught:  # refused before anything is opened or created
        History.open(f"postgresql://gate:{before}@{after}@db.internal:5432/history", Path("/nonexistent"))
    said = str(caught.value)
    assert "[history] url" in said
    assert "%40" in said
    with pytest.raises(ConfigError) as plain:  # the same sentence for a password with no piece of any word
        History.open("postgresql://gate:~~~~~~@~~~~~~@db.internal:5432/history", Path("/nonexistent"))
    leaked = [w for w in no_window_of(f"{before}@{after}", said) if w not in str(plain.value)]
    assert not leaked, leaked  # a password such as `000000@passwo` shares `passwo` with the word password
    assert "db.internal" not in said  # the URL is never repeated, not even its harmless parts


def test_an_unencoded_at_in_the_history_url_is_exit_4_without_a_traceback(tmp_path):
    (tmp_path / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
    url = "postgresql://gate:Pg@Secret@Value@127.0.0.1:5432/history"
    done = run_cli("dashboard", "--output", str(tmp_path / "d.html"), cwd=tmp_path,
                   env=base_env(LAUNCH_GATE_HISTORY__URL=url))  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    assert "[history] url" in done.stderr
    assert "%40" in done.stderr
    assert "Secret" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("port", ["99999", "abc", "0", "65536", "-1"])
def test_a_bad_port_in_the_history_url_is_exit_4_naming_the_setting(tmp_path, port):
    (tmp_path / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
    url = f"postgresql://gate:Sup3rS3cretPassw0rd@127.0.0.1:{port}/history"
    for command in (["dashboard", "--output", str(tmp_path / "d.html")], ["watch", "--rounds", "1"]):
        done = run_cli(*command, cwd=tmp_path, env=base_env(LAUNCH_GATE_HISTORY__URL=url, APP_NAME="shop"))
        said = done.stdout + done.stderr
        assert done.returncode == 4, said
        assert "[history] url has a port that is not a number from 1 to 65535" in done.stderr
        assert "internal error" not in said
        assert "Traceback" not in said
        assert "Sup3rS3cret" not in said


def test_an_unreachable_history_names_scheme_user_host_port_and_database_and_masks_only_the_password(
    tmp_path,
):
    """The review saw `[redacted]ql+psycopg://[redacted][redacted]@[redacted]432/lg`: with the URL in the
    environment (a secret-named variable), the message must still say where the history is."""
    (tmp_path / "launch-gate.toml").write_text('target = "https://www.example.test/"\n', encoding="utf-8")
    url = "postgresql://postgres:PgSuperSecret_77@127.0.0.1:9/launch_gate"
    for command in (["dashboard", "--output", str(tmp_path / "d.html")], ["dashboard", "--markdown", "-"],
                    ["watch", "--rounds", "1"]):  # fmt: skip
        done = run_cli(*command, cwd=tmp_path, env=base_env(LAUNCH_GATE_HISTORY__URL=url))
        assert done.returncode == 2, done.stdout + done.stderr
        assert "postgresql+psycopg://postgres:[redacted]@127.0.0.1:9/launch_gate" in done.stderr
        assert "PgSuperSecret" not in done.stdout + done.stderr
