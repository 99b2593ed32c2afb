"""domain.*, headers.*, exposure.* against an edge served by uvicorn over http and https on loopback."""

import re
from collections.abc import Iterator

import pytest

from launch_gate.demo.site import APEX, CANONICAL, Edge
from launch_gate.results import Outcome
from tests.conftest import run_check
from tests.servers import http_server, tls_server


@pytest.fixture
def edge(tmp_path) -> Iterator[tuple[Edge, str]]:
    app = Edge()
    with http_server(app) as plain, tls_server(app, [CANONICAL, APEX], tmp_path) as (tls, ca):
        routes = ", ".join(
            f'"{h}:{p}:127.0.0.1:{to}"' for h in (CANONICAL, APEX) for p, to in ((80, plain), (443, tls))
        )
        yield (
            app,
            f'target = "https://{CANONICAL}/"\n[net]\nconnect-to = [{routes}]\nca-bundle = "{ca}"\nprobe-timeout = 3\n',
        )


def check(project, config: str, check_id: str):
    return run_check(project({"launch-gate.toml": config}), check_id)


@pytest.mark.parametrize(
    "check_id", ["domain.redirects", "headers.hsts", "headers.security", "exposure.files", "exposure.errors"]
)
def test_a_well_configured_edge_passes(project, edge, check_id):
    result = check(project, edge[1], check_id)
    assert result.outcome is Outcome.PASS, result.message


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("temporary-redirect", "redirects with 302; use 301 or 308"),
        ("loop", "loop"),
        ("drop-path", "ends at https://www.example.test, not https://www.example.test/launch-gate-probe"),
        ("http-skips-https", "first goes to http://"),
    ],
)
def test_redirect_faults_are_reported_with_the_chain(project, edge, fault, words):
    app, config = edge
    app.faults.add(fault)
    result = check(project, config, "domain.redirects")
    assert result.outcome is Outcome.FAIL
    assert any(words in f.message for f in result.findings), [f.message for f in result.findings]
    assert all(
        re.search(r"\(\d{3}\)|redirects with \d{3}|loop", f.message) for f in result.findings
    )  # chains shown


@pytest.mark.parametrize(
    ("fault", "words"), [("no-hsts", "no Strict-Transport-Security"), ("weak-hsts", "max-age is 300")]
)
def test_hsts_faults(project, edge, fault, words):
    app, config = edge
    app.faults.add(fault)
    result = check(project, config, "headers.hsts")
    assert result.outcome is Outcome.FAIL
    assert words in result.message


def test_missing_csp_fails(project, edge):
    app, config = edge
    app.faults.add("no-csp")
    result = check(project, config, "headers.security")
    assert result.outcome is Outcome.FAIL
    assert "Content-Security-Policy" in result.message


@pytest.mark.parametrize(("fault", "path"), [("exposed-env", "/.env"), ("exposed-git", "/.git/config")])
def test_exposed_files_fail(project, edge, fault, path):
    app, config = edge
    app.faults.add(fault)
    result = check(project, config, "exposure.files")
    assert result.outcome is Outcome.FAIL
    assert f"{path} is served" in result.message


def test_a_stack_trace_on_an_error_page_fails(project, edge):
    app, config = edge
    app.faults.add("stack-trace")
    result = check(project, config, "exposure.errors")
    assert result.outcome is Outcome.FAIL
    assert "Traceback (most recent call last)" in result.message


@pytest.mark.parametrize(
    "check_id", ["domain.redirects", "headers.hsts", "headers.security", "exposure.files", "exposure.errors"]
)
def test_an_unreachable_site_could_not_be_verified(project, check_id):
    routes = ", ".join(
        f'"{h}:{p}:127.0.0.1:9"' for h in (CANONICAL, APEX) for p in (80, 443)
    )  # nothing listens
    config = f'target = "https://{CANONICAL}/"\n[net]\nconnect-to = [{routes}]\nprobe-timeout = 2\n'
    result = check(project, config, check_id)
    assert result.outcome is Outcome.ERROR, result.message
    assert "could not verify" in result.message


@pytest.mark.parametrize(
    ("cookie", "problem"),
    [
        ("session=x; Secure; HttpOnly; SameSite=Lax", None),
        ("theme=dark; Secure; SameSite=Lax", None),
        ("session=x; Secure; SameSite=Lax", "HttpOnly"),
        ("csrftoken=x; HttpOnly", "Secure, SameSite"),
        ("sid=x", "Secure, SameSite, HttpOnly"),
    ],
)
def test_cookie_attributes(cookie, problem):
    from launch_gate.checks.web import cookie_problems

    found = cookie_problems(cookie)
    assert (found[0].split("lacks ")[1] if found else None) == problem


@pytest.mark.parametrize(
    ("header", "ok"),
    [("public, max-age=31536000, immutable", True), ("max-age=86400", True), ("max-age=60", False),
     ("no-store", False), (None, False), ("private, max-age=999999", False)],
)  # fmt: skip
def test_static_cache_control(header, ok):
    from launch_gate.checks.web import cache_problem

    assert (cache_problem(header) is None) is ok


def test_the_header_checks_share_one_fetch_of_the_canonical_page(project, edge):
    from launch_gate.config import load_settings
    from launch_gate.runner import build_plan, make_context, run_plan

    app, config = edge
    settings = load_settings(cwd=project({"launch-gate.toml": config}), environ={})
    plan = build_plan(settings, "post", ["headers.hsts", "headers.security", "headers.cookies"])
    report = run_plan(plan, make_context(settings, {}))
    assert {r.outcome for r in report.results} == {Outcome.PASS}
    assert app.requests.count(("https", CANONICAL, "/")) == 1


def test_a_context_reused_across_event_loops_probes_again(project, edge):
    """As under pytest, where every gate item runs its own event loop with the session's context."""
    from launch_gate.config import load_settings
    from launch_gate.runner import build_plan, make_context, run_plan

    app, config = edge
    settings = load_settings(cwd=project({"launch-gate.toml": config}), environ={})
    context = make_context(settings, {})
    plan = build_plan(settings, "post", ["headers.hsts"])
    for _ in range(3):
        assert run_plan(plan, context).results[0].outcome is Outcome.PASS
    assert app.requests.count(("https", CANONICAL, "/")) == 3


def test_cors_with_no_paths_to_probe_skips_rather_than_passes(project, edge):
    _, config = edge
    result = check(project, config + "[headers]\ncors-paths = []\n", "headers.cors")
    assert result.outcome is Outcome.SKIP
