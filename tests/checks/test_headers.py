"""headers.* against an edge served by uvicorn over https on loopback; the header and cookie rules."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launch_gate.demo.site import CANONICAL, GOOD_HEADERS
from launch_gate.results import Outcome
from tests.checks.conftest import UNREACHABLE, check
from tests.servers import tls_server


@pytest.mark.parametrize("check_id", ["headers.hsts", "headers.security"])
def test_a_well_configured_edge_passes(project, edge, check_id):
    result = check(project, edge[1], check_id)
    assert result.outcome is Outcome.PASS, result.message


@pytest.mark.parametrize("check_id", ["headers.hsts", "headers.security"])
def test_an_unreachable_site_could_not_be_verified(project, check_id):
    result = check(project, UNREACHABLE, check_id)
    assert result.outcome is Outcome.ERROR, result.message
    assert "could not verify" in result.message


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
    from launch_gate.rules.cookies import cookie_problems

    found = cookie_problems(cookie)
    assert (found[0].split("lacks ")[1] if found else None) == problem


@pytest.mark.parametrize(
    ("header", "ok"),
    [("public, max-age=31536000, immutable", True), ("max-age=86400", True), ("max-age=60", False),
     ("no-store", False), (None, False), ("private, max-age=999999", False)],
)  # fmt: skip
def test_static_cache_control(header, ok):
    from launch_gate.rules.headers import cache_problem

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


def test_a_nameless_or_removed_cookie_never_shows_a_value_and_http_answers_need_no_secure():
    from launch_gate.rules.cookies import cookie_problems, response_cookie_problems

    assert cookie_problems("s3cr3tvalue123") == ["cookie (a cookie with no name) lacks Secure, SameSite"]
    assert cookie_problems("session=; Max-Age=0") == []  # a logout removing the cookie
    assert cookie_problems("session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT") == []
    assert cookie_problems("session=x; Expires=Fri, 01 Jan 2100 00:00:00 GMT") != []
    assert response_cookie_problems(["sid=x; HttpOnly; SameSite=Lax"], "http://127.0.0.1:8000/") == []
    assert response_cookie_problems(["sid=x; HttpOnly; SameSite=Lax"] * 2, "https://a.test/") == [
        "cookie sid lacks Secure"
    ]


@pytest.mark.parametrize(
    ("html", "links"),
    [
        ('<a href="/login">Log in</a>', ["https://www.example.test/login"]),
        ('<a class="btn" href="/accounts/">Sign in</a><a href="/blog">Blog index</a>', ["https://www.example.test/accounts/"]),
        ('<a href="/users/sign_in?next=/">Account</a>', ["https://www.example.test/users/sign_in?next=/"]),
        ('<a href="https://auth.other.test/login">Log in</a><a href="/blog-intro">Blog intro</a>', []),
        ('<a href="/login">Log in</a><a href="/login">Login</a>', ["https://www.example.test/login"]),
    ],
)  # fmt: skip
def test_login_pages_are_found_among_the_home_pages_links(html, links):
    from launch_gate.checks.headers import login_links

    assert login_links(f"<html><body>{html}</body></html>", f"https://{CANONICAL}/") == links


class Relocated:
    """A site whose canonical URL `/` redirects to `/en/` on the same host, the way many real sites do."""

    def __init__(self, elsewhere: bool = False):
        self.elsewhere = elsewhere

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()
        headers = [(b"content-type", b"text/html")]
        if scope["path"] == "/":
            target = b"https://other.test/en/" if self.elsewhere else b"/en/"
            status, body, headers = 301, b"", [*headers, (b"location", target)]
        else:
            status, body = 200, b"<h1>Hello</h1>"
            headers += [(k.encode(), v.encode()) for k, v in
                        {**GOOD_HEADERS,
                         "set-cookie": "sid=x; Secure; HttpOnly; SameSite=Lax"}.items()]  # fmt: skip
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize(("elsewhere", "outcome"), [(False, Outcome.PASS), (True, Outcome.ERROR)])
def test_headers_are_judged_on_the_page_a_same_site_redirect_ends_at(project, tmp_path, elsewhere, outcome):
    with tls_server(Relocated(elsewhere), [CANONICAL], tmp_path) as (port, ca):
        config = (
            f'target = "https://{CANONICAL}/"\n[net]\nconnect-to = ["{CANONICAL}:443:127.0.0.1:{port}"]\n'
            f'ca-bundle = "{ca}"\nprobe-timeout = 3\n'
        )
        results = {
            c: check(project, config, c) for c in ("headers.hsts", "headers.security", "headers.cookies")
        }
    assert {r.outcome for r in results.values()} == {outcome}, {c: r.message for c, r in results.items()}
    if elsewhere:
        assert "redirects to another site" in results["headers.hsts"].message


def test_an_insecure_session_cookie_set_by_the_linked_login_page_fails(project, edge):
    """Before: headers.cookies judged the landing page only, and passed."""
    app, config = edge
    app.faults.add("insecure-login-cookie")
    result = check(project, config, "headers.cookies")
    assert result.outcome is Outcome.FAIL, result.message
    assert result.message.startswith(
        f"https://{CANONICAL}/login: cookie session lacks Secure, HttpOnly: a stolen or cross-site-sent cookie"
    )
    assert "anonymous" not in str([f.message for f in result.findings])  # the cookie's value


def test_the_clean_edge_has_its_login_page_cookies_judged_too(project, edge):
    app, config = edge
    result = check(project, config, "headers.cookies")
    assert result.outcome is Outcome.PASS, result.message
    assert f"2 cookies on https://{CANONICAL}/, https://{CANONICAL}/login" in result.message
    assert ("https", CANONICAL, "/login") in app.requests


class Account:
    """A site whose home page links no login page; /account sets a session cookie with no attributes."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()
        status, headers = (
            {"/": 200, "/account": 200}.get(scope["path"], 404),
            [(b"content-type", b"text/html")],
        )
        if scope["path"] == "/account":
            headers.append((b"set-cookie", b"sid=s3cr3t-value; Path=/"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"<h1>Hi</h1>"})


@pytest.fixture
def account(tmp_path):
    with tls_server(Account(), [CANONICAL], tmp_path) as (port, ca):
        yield (
            f'target = "https://{CANONICAL}/"\n[net]\nconnect-to = ["{CANONICAL}:443:127.0.0.1:{port}"]\n'
            f'ca-bundle = "{ca}"\nprobe-timeout = 3\n'
        )


def test_with_no_login_page_linked_the_pass_says_what_was_judged_and_how_to_add_pages(project, account):
    result = check(project, account, "headers.cookies")
    assert result.outcome is Outcome.PASS, result.message
    assert result.message == (
        f"0 cookies on https://{CANONICAL}/, all Secure and SameSite, session cookies HttpOnly "
        "(no login page linked; list pages that set cookies in [headers] cookie-paths)"
    )


def test_cookies_set_on_configured_pages_are_judged_and_a_missing_page_cannot_be_judged(project, account):
    result = check(project, account + '[headers]\ncookie-paths = ["/account"]\n', "headers.cookies")
    assert result.outcome is Outcome.FAIL, result.message
    assert result.message.startswith(
        f"https://{CANONICAL}/account: cookie sid lacks Secure, SameSite, HttpOnly"
    )
    assert "s3cr3t" not in result.message
    missing = check(project, account + '[headers]\ncookie-paths = ["/nowhere"]\n', "headers.cookies")
    assert missing.outcome is Outcome.ERROR, missing.message
    assert missing.message == (
        f"could not judge the cookies of https://{CANONICAL}/nowhere ([headers] cookie-paths): it answered 404; "
        "fix the path"
    )


@settings(max_examples=150, deadline=None)
@given(
    name=st.text("abcdefghijklmnopqrstuvwxyz_-", max_size=12),
    value=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/", min_size=6, max_size=40),
    attributes=st.lists(st.sampled_from(["Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=60"])),
    equals=st.booleans(),
)
def test_a_cookies_value_never_reaches_a_message(name, value, attributes, equals):
    from launch_gate.rules.cookies import response_cookie_problems

    header = "; ".join([f"{name}={value}" if equals else value, *attributes])
    text = " ".join(response_cookie_problems([header], "https://www.example.test/login"))
    assert not any(value[i : i + 6] in text for i in range(len(value) - 5)), text
