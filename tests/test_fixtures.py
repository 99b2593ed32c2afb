"""The fixtures and markers users write their own smoke tests with, run by pytester against the demo."""

import pytest

from launch_gate import demo

SMOKE_TESTS = """
import pytest

pytestmark = pytest.mark.smoke_flow("signup")


def test_signup_gets_a_proven_confirmation_email(gate_http, gate_user, gate_mailbox):
    answer = gate_http.post("/api/signup", json={"email": gate_user.email, "password": gate_user.password})
    assert answer.status_code == 201

    @gate_user.cleanup
    def delete_user():
        login = {"email": gate_user.email, "password": gate_user.password}
        token = gate_http.post("/api/login", json=login).json()["token"]
        assert gate_http.delete("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 204

    mail = gate_mailbox.wait(gate_user.email, subject="confirm")
    gate_mailbox.prove(mail)
    assert any("/confirm" in link for link in mail.links)
    assert gate_http.timings["POST /api/signup"]


@pytest.mark.smoke_flow("login")
def test_a_failing_test_shows_no_token_or_password(gate_http, gate_user):
    login = {"email": gate_user.email, "password": gate_user.password}
    gate_http.post("/api/signup", json=login)
    token = gate_http.post("/api/login", json=login).json()["token"]

    @gate_user.cleanup
    def delete_user():
        gate_http.delete("/api/me", headers={"Authorization": f"Bearer {token}"})

    print("debugging with", token, gate_user.password)
    assert token == gate_user.password, f"token {token} is not {gate_user.password}"
"""


def test_users_smoke_tests_use_the_gates_client_user_and_mailbox(pytester):
    pytester.makepyfile(test_smoke=SMOKE_TESTS)
    with demo.running() as running:
        result = pytester.runpytest_inprocess(
            "--gate-config", str(running.config), "-p", "no:cacheprovider", "--strict-markers",
            "--junitxml", str(pytester.path / "junit.xml"), "-rA",
        )  # fmt: skip
        users_left = dict(running.site.users)
        tokens = list(running.site.tokens)
    result.assert_outcomes(passed=1, failed=1)
    assert users_left == {}  # both tests' cleanups ran, the failing one's too
    output = result.stdout.str() + (pytester.path / "junit.xml").read_text()
    assert tokens == [] or not any(t in output for t in tokens)
    assert "Lg-" not in output  # the generated password's prefix, also not in pytest's shortened diff
    assert "[redacted #" in output
    result.stdout.fnmatch_lines(["smoke flows (your tests marked smoke_flow):", "  signup * passed (1 passed)",
                                 "  login * FAILED (1 failed)"])  # fmt: skip


def test_the_plugins_markers_are_registered_for_strict_markers(pytester):
    result = pytester.runpytest_inprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.smoke_flow(name)*", "@pytest.mark.latency_budget(p95_ms=300*"])


BUDGET_TESTS = """
import pytest


@pytest.mark.latency_budget(p95_ms=200, samples=10, warmup=1)
def test_search_is_fast(gate_http):
    assert gate_http.get("/api/coaches?q=yoga").status_code == 200


@pytest.mark.latency_budget(p95_ms=300, samples=4, warmup=0)
def test_slots_are_fast(gate_http):
    assert gate_http.get("/api/coaches/1/slots").status_code == 200


@pytest.mark.latency_budget(samples=3, warmup=0)
def test_a_missing_page(gate_http):
    assert gate_http.get("/api/nothing-here").status_code == 200
"""


def test_latency_budget_turns_a_test_into_a_budgeted_measurement(pytester):
    pytester.makepyfile(test_budget=BUDGET_TESTS)
    with demo.running(["slow-booking"]) as running:
        before = len(running.site.requests)
        result = pytester.runpytest_inprocess("--gate-config", str(running.config), "-p", "no:cacheprovider")
        calls = [path for _, _, path in running.site.requests[before:]]
    result.assert_outcomes(passed=1, failed=2)
    assert calls.count("/api/coaches") == 11  # warm-up plus samples
    assert calls.count("/api/coaches/1/slots") == 4
    result.stdout.fnmatch_lines([
        "p95 4?? ms is over its 300 ms budget (p50 4* ms, *errors 0 of 4)",
        "could not measure: every call failed (AssertionError: assert 404 == 200",
        "latency budgets (your tests marked latency_budget):",
        "  test_search_is_fast*p95 * ms (budget 200)",
        "  test_slots_are_fast*(budget 300)  OVER BUDGET",
    ])  # fmt: skip


def test_under_the_gate_the_summary_draws_the_routes_latency(pytester):
    with demo.running() as running:
        result = pytester.runpytest_inprocess(
            "--launch-gate", "--gate-phase", "post", "--gate-config", str(running.config),
            "-k", "latency", "-p", "no:cacheprovider",
        )  # fmt: skip
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["latency by route:", "  home  *▕*▏ p50 * · p95 * · p99 * ms (budget 300)",
                                 "*█ p95  ░ p99  │ p95 budget*"])  # fmt: skip


@pytest.mark.parametrize(
    "marker", ["latency_budget(p95=100)", "latency_budget(100)", "latency_budget(samples=0)"]
)
def test_a_misspelt_budget_is_a_usage_error_naming_the_arguments(pytester, marker):
    pytester.makepyfile(test_x=f"import pytest\n\n@pytest.mark.{marker}\ndef test_x():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert "latency_budget takes keyword arguments p95_ms, p99_ms, error_rate, samples, warmup" in (
        result.stdout.str() + result.stderr.str()
    )
    assert result.ret != 0


def test_gate_user_without_an_address_setting_says_which_to_set(pytester):
    pytester.makepyfile(test_x="def test_x(gate_user):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["gate_user: a throwaway user needs an address: set [[]smoke] plus-address*"])
    assert "During handling" not in result.stdout.str()


def test_the_examples_run_against_the_demo(tmp_path):
    """examples/smoke_tests as a user runs them: `python3 -m pytest examples/smoke_tests` (the demo starts)."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import base_env

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "examples/smoke_tests", "-p", "no:cacheprovider", "-q",
         "--junitxml", str(tmp_path / "junit.xml")],
        cwd=root, env=base_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    assert "signup               passed (1 passed)" in done.stdout
    assert "test_coach_search_is_within_budget" in done.stdout  # the latency chart's row


def test_the_marketplace_example_declares_the_demos_flows(tmp_path):
    from pathlib import Path

    from launch_gate.config import load_settings
    from launch_gate.demo import flows_toml

    root = Path(__file__).resolve().parents[1]
    example = load_settings(cwd=root, config_file=root / "examples/marketplace/launch-gate.toml", environ={})
    demo_file = tmp_path / "launch-gate.toml"
    demo_file.write_text(flows_toml())
    demo_settings = load_settings(cwd=demo_file.parent, config_file=demo_file, environ={})
    assert example.smoke.flows == demo_settings.smoke.flows
    assert set(example.smoke.flows) == {"signup", "login", "booking"}
    assert example.smoke.plus_address == "qa@coachly.app"


def test_under_the_gate_smoke_flow_tests_are_post_deploy(pytester):
    pytester.makepyfile(
        test_x="import pytest\n\n@pytest.mark.smoke_flow('signup')\ndef test_signup():\n    pass\n\n"
        "def test_plain():\n    pass\n"
    )
    pytester.makefile(".toml", **{"launch-gate": 'environment = "staging"\n'})
    result = pytester.runpytest_inprocess("--launch-gate", "--gate-phase", "pre", "-k", "signup or plain",
                                          "-p", "no:cacheprovider")  # fmt: skip
    result.stdout.fnmatch_lines(["*1 passed*"])
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 1
    assert outcomes["deselected"] >= 1


LOGIN_TEST = """
def test_log_in(gate_http, gate_user):
    login = {"email": gate_user.email, "password": gate_user.password}
    assert gate_http.post("/api/signup", json=login).status_code == 201
    token = gate_http.post("/api/login", json=login).json()["token"]

    @gate_user.cleanup
    def delete_user():
        gate_http.delete("/api/me", headers={"Authorization": f"Bearer {token}"})
"""


@pytest.mark.parametrize("faults", [[], ["insecure-login-cookie"]])
def test_gate_http_judges_every_cookie_it_receives(pytester, faults):
    pytester.makepyfile(test_login=LOGIN_TEST)
    with demo.running(faults) as running:
        result = pytester.runpytest_inprocess("--gate-config", str(running.config), "-p", "no:cacheprovider")
        tokens = list(running.site.tokens)
    if not faults:
        result.assert_outcomes(passed=1)
        return
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*gate_http saw weak cookies: POST /api/login: cookie session lacks Secure*"]
    )
    assert not any(token in result.stdout.str() for token in tokens)
