"""domain.* against an edge served by uvicorn over http and https on loopback."""

import re

import pytest

from launch_gate.demo.site import CANONICAL
from launch_gate.results import Outcome
from tests.checks.conftest import UNREACHABLE, check


@pytest.mark.parametrize("check_id", ["domain.redirects"])
def test_a_well_configured_edge_passes(project, edge, check_id):
    result = check(project, edge[1], check_id)
    assert result.outcome is Outcome.PASS, result.message


@pytest.mark.parametrize("check_id", ["domain.redirects"])
def test_an_unreachable_site_could_not_be_verified(project, check_id):
    result = check(project, UNREACHABLE, check_id)
    assert result.outcome is Outcome.ERROR, result.message
    assert "could not verify" in result.message


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


def test_a_canonical_url_that_redirects_to_itself_fails_with_the_chain_and_headers_are_not_judged(
    project, edge
):
    """Before: the random probe path passed domain.redirects and HSTS said "no header" on the redirect."""
    app, config = edge
    app.faults.add("home-loop")
    result = check(project, config, "domain.redirects")
    assert result.outcome is Outcome.FAIL, result.message
    assert result.message.startswith(f"1 problem: https://{CANONICAL}/ redirects with no end (loop)")
    assert f"https://{CANONICAL}/ (301) -> https://{CANONICAL}/" in result.message
    for check_id in ("headers.hsts", "headers.security", "headers.cookies", "headers.cache"):
        judged = check(project, config, check_id)
        assert judged.outcome is Outcome.ERROR, (check_id, judged.message)
        assert "could not judge" in judged.message
        assert "redirects with no end (loop)" in judged.message
        assert "no Strict-Transport-Security" not in judged.message


def test_a_home_page_that_answers_500_fails_and_headers_say_they_could_not_judge(project, edge):
    app, config = edge
    app.faults.add("home-500")
    result = check(project, config, "domain.redirects")
    assert result.outcome is Outcome.FAIL, result.message
    assert f"https://{CANONICAL}/ answers 500, not a 2xx page" in result.message
    hsts = check(project, config, "headers.hsts")
    assert hsts.outcome is Outcome.ERROR
    assert (
        hsts.message
        == f"could not judge HSTS: https://{CANONICAL}/ answers 500, not a 2xx page (see domain.redirects)"
    )


def test_a_home_page_that_never_answers_is_could_not_verify_naming_the_url(project, edge):
    app, config = edge
    app.faults.add("home-hang")
    config = config.replace("probe-timeout = 3", "probe-timeout = 1")
    result = check(project, config, "domain.redirects")
    assert result.outcome is Outcome.ERROR, result.message
    assert result.message.startswith(
        f"could not verify redirects: the home page GET https://{CANONICAL}/ did not answer"
    )
    for check_id in ("headers.hsts", "headers.cookies"):
        judged = check(project, config, check_id)
        assert judged.outcome is Outcome.ERROR, judged.message
        assert judged.message.startswith("could not verify"), judged.message
        assert f"GET https://{CANONICAL}/ did not answer" in judged.message


def test_a_slow_home_page_fails_with_its_time(project, edge):
    from launch_gate.demo.site import SLOW_HOME

    app, config = edge
    app.faults.add("home-slow")
    result = check(project, config, "domain.redirects")
    assert result.outcome is Outcome.FAIL, result.message
    [finding] = result.findings
    took = re.fullmatch(
        rf"https://{re.escape(CANONICAL)}/ took (\d+\.\d) s \(budget 2 s, \[headers\] page-within\)",
        finding.message,
    )
    assert took is not None, finding.message
    assert float(took[1]) >= SLOW_HOME - 0.05


def test_the_page_budget_is_a_setting(project, edge):
    app, config = edge
    app.delay = 0.3
    slow = check(project, config + "[headers]\npage-within = 0.2\n", "domain.redirects")
    fine = check(project, config + "[headers]\npage-within = 5\n", "domain.redirects")
    assert slow.outcome is Outcome.FAIL, slow.message
    assert "(budget 0.2 s, [headers] page-within)" in slow.message
    assert fine.outcome is Outcome.PASS, fine.message
    assert "answer 2xx within 5 s" in fine.message


def test_the_page_budget_is_not_charged_for_building_the_client(project, edge, tmp_path):
    # A CA bundle that takes a long while to load (a big corporate store): the client is built before the
    # first request, and that time is launch-gate's, not the site's.
    import asyncio
    import ssl
    import time

    from launch_gate.checks.domain import page_problems
    from launch_gate.config import load_settings
    from launch_gate.net.probes import fetch_page
    from launch_gate.runner import make_context

    app, config = edge
    ca = re.search(r'ca-bundle = "([^"]+)"', config)[1]
    store = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    with open(store, encoding="ascii") as system, open(ca, encoding="ascii") as own:
        big = own.read() + system.read() * 30
    bundle = tmp_path / "big-bundle.pem"
    bundle.write_text(big, encoding="ascii")
    started = time.perf_counter()
    ssl.create_default_context().load_verify_locations(cafile=str(bundle))
    loading = time.perf_counter() - started
    assert loading > 0.3, f"loading the bundle took only {loading:.2f} s: nothing was tested"
    config = config.replace(ca, str(bundle)) + "[headers]\npage-within = 0.3\n"
    settings = load_settings(cwd=project({"launch-gate.toml": config}), environ={})
    page = asyncio.run(fetch_page(make_context(settings, {}), f"https://{CANONICAL}/"))
    assert page.error is None, page
    assert page.hops[-1].status == 200, page
    assert page.seconds < 0.3, f"{page.seconds:.2f} s charged to the site"
    assert page_problems(page, 0.3) == ([], [])
    app.delay = 0.5  # the site itself over budget still fails
    slow = check(project, config, "domain.redirects")
    assert slow.outcome is Outcome.FAIL, slow.message
    assert "(budget 0.3 s, [headers] page-within)" in slow.message


def test_a_page_a_hair_over_its_budget_is_within_the_measurement_tolerance():
    import httpx

    from launch_gate.checks.domain import page_problems
    from launch_gate.net.probes import Hop, Page

    hop = Hop(f"https://{CANONICAL}/", 200, None)
    answer = httpx.Response(200)

    def page(seconds):
        return Page(hop.url, (hop,), answer, seconds)

    assert page_problems(page(2.0), 2.0) == ([], [])
    assert page_problems(page(2.1), 2.0) == ([], [])  # within 5 % + 50 ms: the clock shares a busy loop
    assert page_problems(page(2.2), 2.0) == (
        [f"https://{CANONICAL}/ took 2.2 s (budget 2 s, [headers] page-within)"],
        [],
    )
    assert page_problems(page(0.24), 0.2) == ([], [])
    assert page_problems(page(0.27), 0.2)[0], "a small budget gets a small tolerance"
