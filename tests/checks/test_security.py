"""The security baseline against real servers: the demo marketplace (ownership, its login throttle, its log)
and small loopback apps for the rate-limit and log-source edge cases."""

import asyncio
import base64
import dataclasses
import json
import re
import sys
import time
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launch_gate import demo
from launch_gate.checks import all_checks
from launch_gate.checks.security import Trace, find, judge_log, needles
from launch_gate.config import load_settings
from launch_gate.errors import ConfigError
from launch_gate.runner import Planned, build_plan, make_context, run_one, run_plan
from tests.conftest import run_check, run_cli
from tests.servers import http_server

OURS = ("security.ownership", "security.rate-limits", "security.logs")
PASSWORD = "Lg-Q2hhbmdlLW1lLXBsZWFzZQ-9a!"  # the shape of a throwaway user's password
TOKEN = "tok_9f8e7d6c5b4a39281706"
EMAIL = "lg-20261205120000-abc123@example.test"


def gate(running, select=("smoke", *OURS), extra="", environ=None, ctx_secrets=()):
    config = running.config
    if extra:
        config = running.config.with_name("extra.toml")
        config.write_text(running.config.read_text() + "\n" + extra)
    loaded = load_settings(cwd=config.parent, config_file=config, environ={})
    ctx = make_context(loaded, dict(environ or {}))
    ctx.secrets.update(ctx_secrets)
    report = run_plan(build_plan(loaded, "post", select=list(select)), ctx)
    return {r.id: r for r in report.results}


def leftovers(running):
    return running.site.users, running.site.bookings


def written(result) -> str:
    return json.dumps([result.message, [f.message for f in result.findings], result.metrics], default=str)


# --- the demo: clean, each fault, and nothing left behind ----------------------------------------------


def test_the_clean_demo_passes_each_security_check_and_leaves_nobody_behind():
    with demo.running() as running:
        results = gate(running)
        assert leftovers(running) == ({}, {})
        assert running.leftovers() == "Left behind: no users, no bookings."
    for check_id in OURS:
        assert results[check_id].outcome.value == "pass", results[check_id].message
    attempts = results["security.ownership"].metrics["attempts"]
    assert {a["who"] for a in attempts} == {"as user B", "without credentials"}
    assert {a["status"] for a in attempts} <= {401, 404}
    assert any("next to A's" in a["request"] for a in attempts)  # the neighbouring ids were read too
    assert "users A and B cleaned up" in results["security.ownership"].message
    [login] = results["security.rate-limits"].metrics["routes"]
    assert (login["accepted"], login["sent"], login["throttle"]) == (
        5,
        6,
        "429",
    )  # 429 after 5 wrong passwords
    assert "login after 5 accepted (429 at" in results["security.rate-limits"].message
    assert results["security.logs"].metrics["values"] >= 6  # the flows' passwords, tokens and addresses


@pytest.mark.parametrize(
    ("fault", "check_id", "says"),
    [
        ("idor-booking", "security.ownership",
         "as user B: GET /api/bookings/{booking} answered 200 with user A's data (expected 401, 403 or 404)"),
        ("no-login-throttle", "security.rate-limits",
         "login (POST /api/login) accepted all 20 requests in 4 s without a 429 or Retry-After (answers: 401 x20)"),
        ("password-in-log", "security.logs", "(POST /api/signup), holds the throwaway user's password (as written)"),
    ],
)  # fmt: skip
def test_each_security_fault_fails_its_check_naming_the_route_and_leaves_nobody_behind(fault, check_id, says):
    with demo.running([fault]) as running:
        results = gate(running)
        assert leftovers(running) == ({}, {})  # also after the failure
        log = (running.config.parent / "app.log").read_text()
    assert results[check_id].outcome.value == "fail", results[check_id].message
    assert says in results[check_id].message
    assert {i for i in OURS if results[i].outcome.value != "pass"} == {check_id}
    for password in re.findall(r'"password": "(Lg-[^"]+)"', log):  # the fault wrote them: never reported
        assert not any(password in written(r) for r in results.values())


def test_a_password_in_the_log_is_named_by_line_and_kind_never_by_value():
    with demo.running(["password-in-log"]) as running:
        results = gate(running)
        lines = (running.config.parent / "app.log").read_text().splitlines()
    result = results["security.logs"]
    assert "holds the throwaway user's password (as written)" in result.message
    line = int(re.search(r"line (\d+)", result.message)[1])
    assert '"password": "Lg-' in lines[line - 1]  # the line it names is the line that holds it
    assert f"line {line} (POST /api/signup): the throwaway user's password (as written)" in {
        f.message for f in result.findings
    }
    assert not any("address" in f.message for f in result.findings)  # an address is no secret


@pytest.mark.parametrize("fault", ["signup-500", "api-down", "idor-booking"])
def test_failed_runs_leave_no_user_and_no_booking(fault):
    with demo.running([fault]) as running:
        results = gate(running, select=("smoke", "security.ownership", "security.rate-limits"))
        assert leftovers(running) == ({}, {})
    if fault != "idor-booking":  # user A's flow broke: the check cannot judge, and says why
        assert results["security.ownership"].outcome.value == "error"
        assert results["security.ownership"].message.startswith(
            "could not verify: user A: flow 'booking' step"
        )


@pytest.mark.parametrize("limit", [0.4, 1.0])  # while the users take their steps; while B probes A's data
def test_a_timeout_in_the_middle_of_the_ownership_check_still_deletes_both_users(limit):
    with demo.running(delay=0.1) as running:
        loaded = load_settings(cwd=running.config.parent, config_file=running.config, environ={})
        [ownership] = [c for c in all_checks(loaded) if c.id == "security.ownership"]
        hurried = dataclasses.replace(ownership, timeout=lambda _: limit)
        result = asyncio.run(run_one(Planned(hurried, "fail"), make_context(loaded, {})))
        signups = (running.config.parent / "app.log").read_text().count("POST /api/signup")
        assert leftovers(running) == ({}, {})
    assert result.outcome.value == "error"
    assert f"no answer within {limit:g} s" in result.message
    assert signups == 2  # users A and B both existed when the timeout came


def test_a_neighbouring_booking_of_another_user_is_not_revealed():
    other = {"id": 1, "coach": 2, "client": "someone-else@clients.test"}
    with demo.running(["idor-booking"]) as running:
        running.site.bookings[1] = dict(other)  # a real customer's booking, just below user A's
        results = gate(running, select=("security.ownership",))
        del running.site.bookings[1]
        assert leftovers(running) == ({}, {})
    findings = {f.message for f in results["security.ownership"].findings}
    assert (
        "as user B: GET /api/bookings/{booking} (the id next to A's, {booking}-1) answered 200 with another "
        "user's data (expected 401, 403 or 404)"
    ) in findings
    assert not any("someone-else" in written(r) for r in results.values())


def test_writes_are_denied_and_the_clean_demo_counts_every_request_it_made():
    with demo.running() as running:
        before = len(running.site.requests)
        results = gate(running, select=("security.ownership",))
        made = len(running.site.requests) - before
    attempts = results["security.ownership"].metrics["attempts"]
    deletes = [a for a in attempts if a["request"].startswith("DELETE")]
    assert [a["status"] for a in deletes] == [401, 404]  # without credentials, then as user B
    assert (
        made == len(attempts) + 6 + 2 + 4 + 2
    )  # A's 6 requests (and an email), cleanup, B's 4 steps, cleanup


def test_against_production_the_security_checks_send_nothing():
    with demo.running() as running:
        text = running.config.read_text()
        running.config.write_text(text.replace('environment = "demo"', 'environment = "production"'))
        results = gate(running, select=OURS)
        assert running.site.requests == []
    for check_id in OURS:
        assert results[check_id].outcome.value == "skip"
        assert "allow-production" in results[check_id].message


def test_the_demo_command_shows_the_ownership_fault(tmp_path):
    done = run_cli("demo", "--fault", "idor-booking", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "GET /api/bookings/{booking} answered 200 with user A's data" in done.stdout


# --- configuration -------------------------------------------------------------------------------------

STAGING = (
    'environment = "staging"\ntarget = "http://127.0.0.1:9/"\n[smoke]\ncatch-all-domain = "example.test"\n'
)


def test_a_write_not_declared_safe_to_try_is_a_configuration_error(project):
    root = project({"launch-gate.toml": STAGING + """
[smoke.flows.booking]
steps = [{ method = "POST", path = "/api/bookings", capture = { booking = "json:id" } }]
[security.ownership]
flow = "booking"
requests = [{ method = "PATCH", path = "/api/bookings/{booking}" }]
"""})  # fmt: skip
    with pytest.raises(ConfigError, match=r"PATCH /api/bookings/\{booking\} writes: .*safe-to-try = true"):
        load_settings(cwd=root, environ={})


def test_an_ownership_flow_that_does_not_exist_is_a_configuration_error(project):
    root = project({"launch-gate.toml": STAGING + """
[security.ownership]
flow = "bookings"
requests = [{ path = "/api/bookings/{booking}" }]
"""})  # fmt: skip
    result = run_check(root, "security.ownership")
    assert result.config_error
    assert (
        "`[security.ownership] flow` names 'bookings', which is not a flow in [smoke.flows]" in result.message
    )


def test_a_template_no_step_captures_is_a_configuration_error_before_any_user_is_made(project):
    root = project({"launch-gate.toml": STAGING + """
[[smoke.flows.booking.steps]]
method = "POST"
path = "/api/login"
capture = { token = "json:token" }
[[smoke.flows.booking.steps]]
method = "POST"
path = "/api/bookings"
capture = { booking = "json:id" }
[security.ownership]
flow = "booking"
requests = [{ path = "/api/bookings/{booking}", headers = { Authorization = "Bearer {tokn}" } }]
"""})  # fmt: skip
    result = run_check(root, "security.ownership")  # the target is a closed port: nothing was sent
    assert result.config_error
    assert result.message == (
        "configuration error: `[security.ownership]` uses {tokn}, which user B's steps of flow 'booking' do "
        "not capture; capture it there, or fix the name"
    )


@pytest.mark.parametrize("burst", [0, 101, "many"])
def test_a_burst_over_the_hard_cap_is_refused(project, burst):
    root = project({"launch-gate.toml": STAGING + f"[security.rate-limits]\nburst = {json.dumps(burst)}\n"})
    with pytest.raises(ConfigError, match=r"\[security.rate-limits\] burst"):
        load_settings(cwd=root, environ={})


def test_two_log_sources_are_refused(project):
    root = project(
        {"launch-gate.toml": STAGING + '[security.logs]\nfile = "a.log"\nurl = "http://127.0.0.1:9/"\n'}
    )
    with pytest.raises(ConfigError, match="give one log source, not file and url"):
        load_settings(cwd=root, environ={})


def test_unconfigured_security_checks_skip_and_say_what_to_set(project):
    root = project({"launch-gate.toml": STAGING})
    for check_id, setting in zip(OURS, ("requests", "routes", "command, file or url"), strict=True):
        result = run_check(root, check_id)
        assert result.outcome.value == "skip"
        assert setting in result.message


# --- rate limits against small loopback apps -----------------------------------------------------------


class Counting:
    """An app that counts requests and, after `allow` of them, answers `status` with `headers`."""

    def __init__(self, allow=None, status=401, headers=()):
        self.allow, self.status, self.headers, self.seen = allow, status, list(headers), []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        self.seen.append((scope["method"], scope["path"], time.monotonic()))
        over = self.allow is not None and len(self.seen) > self.allow
        headers = [(b"content-type", b"application/json")] + (self.headers if over else [])
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"error": "wrong email or password"}'})


def rate_config(port, burst=10, within=1.0):
    return (
        f'environment = "staging"\ntarget = "http://127.0.0.1:{port}/"\n[smoke]\ncatch-all-domain = "example.test"\n'
        f"[security.rate-limits]\nburst = {burst}\nwithin = {within}\n"
        '[security.rate-limits.routes.reset]\nmethod = "POST"\npath = "/api/password-reset"\n'
        'json = { email = "{user.email}" }\n'
    )


def test_a_retry_after_header_counts_as_a_throttle(project):
    app = Counting(allow=3, status=401, headers=[(b"retry-after", b"60")])
    with http_server(app) as port:
        result = run_check(project({"launch-gate.toml": rate_config(port)}), "security.rate-limits")
    assert result.outcome.value == "pass", result.message
    assert "reset after 3 accepted (Retry-After at" in result.message
    assert len(app.seen) == 4  # it stops at the first throttle


def test_an_unthrottled_route_gets_the_burst_and_not_one_request_more(project):
    app = Counting()
    with http_server(app) as port:
        started = time.monotonic()
        result = run_check(
            project({"launch-gate.toml": rate_config(port, burst=12, within=1.2)}), "security.rate-limits"
        )
        took = time.monotonic() - started
    assert result.outcome.value == "fail"
    assert result.message.startswith("reset (POST /api/password-reset) accepted all 12 requests in 1.2 s")
    assert len(app.seen) == 12
    assert took >= 1.0  # spread over `within`, not fired at once
    assert result.metrics["requests"] == 12


@pytest.mark.parametrize(
    ("location", "outcome"),
    [
        ("https://elsewhere.test/api/password-reset", "error"),  # the route is not served here: no judgement
        ("/login?error=1", "fail"),  # a form that redirects back after a wrong answer: the request was judged
    ],
)
def test_a_redirect_of_the_route_itself_is_could_not_verify_but_a_redirect_back_is_an_answer(
    project, location, outcome
):
    app = Counting(status=302)
    app.headers = [(b"location", location.encode())]
    app.allow = 0  # every answer carries the Location header
    with http_server(app) as port:
        result = run_check(
            project({"launch-gate.toml": rate_config(port, burst=5, within=0.5)}), "security.rate-limits"
        )
    assert result.outcome.value == outcome, result.message
    if outcome == "error":
        assert (
            "redirected (302) to https://elsewhere.test/api/password-reset, so the app never judged it"
            in result.message
        )
        assert len(app.seen) == 1
    else:
        assert len(app.seen) == 5


def test_an_unreachable_rate_limited_route_is_could_not_verify(project):
    result = run_check(project({"launch-gate.toml": rate_config(9)}), "security.rate-limits")
    assert result.outcome.value == "error"
    assert result.message.startswith(
        "could not verify reset (POST /api/password-reset): request 1 got no answer"
    )


# --- log sources: each could-not-verify path -----------------------------------------------------------


class AccessLog:
    """An app that answers 404 to everything and writes each request to `log` as an access log does."""

    def __init__(self, log=None):
        self.log, self.seen = log, []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        self.seen.append((scope["method"], scope["path"]))
        if self.log is not None:
            with open(self.log, "a") as log:
                log.write(f"{scope['method']} {scope['path']} 404\n")
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"not found"})


def logs_result(project, table, secrets=(PASSWORD, TOKEN), files=None, public=(EMAIL,), app=None):
    with http_server(app or AccessLog()) as port:
        staging = STAGING.replace("127.0.0.1:9/", f"127.0.0.1:{port}/")
        root = project({"launch-gate.toml": staging + "[security.logs]\n" + table, **(files or {})})
        loaded = load_settings(cwd=root, environ={})
        ctx = make_context(loaded, {})
        ctx.secrets.update(secrets)  # what the run's flows made and were handed
        ctx.public.update(public)
        [result] = run_plan(build_plan(loaded, "post", ["security.logs"]), ctx).results
    return result


def python(code):
    return json.dumps([sys.executable, "-c", code])


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('file = "missing.log"', "could not verify: the log file missing.log could not be read (No such file"),
        ('file = "empty.log"', "could not verify: empty.log is empty; is it the app's log?"),
        ('command = ["lg-no-such-command"]', "could not verify: the log command 'lg-no-such-command' could not start"),
        (f"command = {python('import sys; sys.exit(3)')}", "exited with 3"),
        (f"command = {python('import time; time.sleep(5)')}\ntimeout = 0.5", "did not finish within 0.5 s"),
        ('url = "http://127.0.0.1:9/logs"', "could not verify: the log URL got no answer"),
    ],
)  # fmt: skip
def test_a_log_source_that_cannot_be_read_is_could_not_verify(project, table, says):
    result = logs_result(project, table, files={"empty.log": ""})
    assert result.outcome.value == "error"
    assert says in result.message


def test_a_log_url_that_answers_an_error_is_could_not_verify(project):
    with http_server(Counting(status=500)) as port:
        result = logs_result(project, f'url = "http://127.0.0.1:{port}/logs"')
    assert result.message == "could not verify: the log URL answered 500"


def test_the_marker_request_reaches_the_app_before_the_log_is_read(project, tmp_path):
    app = AccessLog(tmp_path / "app.log")
    result = logs_result(project, 'file = "app.log"', app=app)
    [(method, path)] = app.seen
    assert method == "GET"
    assert re.fullmatch(r"/launch-gate/lg-log-marker-[0-9a-f]{16}", path)
    assert result.outcome.value == "pass", result.message
    assert "holding the marker request" in result.message


@pytest.mark.parametrize(
    "stale",
    [
        "GET / 200\nPOST /api/login 401\n",  # a log of an earlier run, or of another app
        f"POST /api/signup email={EMAIL.replace('-abc', '-old')} 201\n",  # another run's address
    ],
)
def test_a_log_without_a_trace_of_this_run_is_could_not_verify_naming_the_setting(project, stale):
    result = logs_result(project, 'file = "app.log"', files={"app.log": stale})  # the app never writes it
    assert result.outcome.value == "error"
    assert "holds no trace of this run" in result.message
    assert "`[security.logs] file`" in result.message
    assert "marker-path" in result.message


def test_the_runs_own_address_in_a_url_the_gate_sent_is_evidence_not_a_leak(project):
    line = f"GET /api/messages?owner={quote(EMAIL, safe='')} 200 user={EMAIL}\n"
    result = logs_result(project, 'file = "app.log"', files={"app.log": line})
    assert result.outcome.value == "pass", result.message
    assert "holding a throwaway address of this run" in result.message


def test_a_marker_path_aims_the_marker_at_a_route_the_log_records(project, tmp_path):
    app = AccessLog(tmp_path / "app.log")
    logs_result(project, 'file = "app.log"\nmarker-path = "/api/health?lg={marker}"', app=app)
    [(_, path)] = app.seen
    assert path == "/api/health"


def test_a_command_whose_output_holds_a_token_fails_naming_the_line(project):
    code = f"import sys; print('GET /health 200'); print('auth ok', file=sys.stderr); print('Bearer {TOKEN}')"
    result = logs_result(project, f"command = {python(code)}")
    assert result.outcome.value == "fail"
    assert result.message.startswith("the output of ")
    assert "line 3, holds a token, cookie or other secret the run was handed (as written)" in result.message
    assert TOKEN not in written(result)


def test_a_run_that_made_no_values_cannot_judge_the_log(project):
    result = logs_result(project, 'file = "app.log"', secrets=(), files={"app.log": "GET / 200\n"}, public=())
    assert result.outcome.value == "error"
    assert "made no throwaway user or token to look for" in result.message


def test_a_clean_log_passes_and_says_how_much_it_read(project):
    log = f"GET / 200\nPOST /api/login 401 {EMAIL}\n"
    result = logs_result(project, 'file = "app.log"', files={"app.log": log})
    assert result.outcome.value == "pass", result.message
    assert "(2 lines read, holding a throwaway address of this run)" in result.message


# --- finding the run's values in a log, in their encodings ---------------------------------------------

WANTED = needles({PASSWORD, TOKEN, "anonymous", "12345", EMAIL}, {EMAIL})
BASIC = base64.b64encode(f"{EMAIL}:{PASSWORD}".encode()).decode()
TRACE = Trace("lg-log-marker-0123456789abcdef", (EMAIL,))


def escaped_all(value, upper=False):
    """Every character but letters and digits as \\uXXXX, as .NET's JSON encoder writes some of them."""
    out = "".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in value)
    return re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m[1].upper(), out) if upper else out


@pytest.mark.parametrize(
    ("line", "kind", "encoding"),
    [
        (f"login body=email={quote(EMAIL)}&password={quote(PASSWORD, safe='')}", "password", "URL-encoded"),
        (f"login body=password={quote(PASSWORD, safe='').replace('%21', '%2a')}", "nothing", ""),  # not it
        (f"Authorization: Basic {BASIC}", "password", "base64"),
        (f"auth={quote(BASIC, safe='')}", "password", "base64"),  # base64, then URL-encoded
        (json.dumps({"auth": BASIC}).replace("/", "\\/").replace("+", "\\u002B"), "password", "base64"),
        (json.dumps({"msg": json.dumps({"token": TOKEN})}), "handed", "as written"),
        (f'{{"password": "{escaped_all(PASSWORD)}"}}', "password", "JSON-escaped"),
        (f'{{"password": "{escaped_all(PASSWORD, upper=True)}"}}', "password", "JSON-escaped"),
        ('{"p": "Lg\\u002DQ2hhbmdlLW1lLXBsZWFzZQ-9a\\u0021"}', "password", "JSON-escaped"),  # only some
        ("<td>Lg&#45;Q2hhbmdlLW1lLXBsZWFzZQ&#x2d;9a&excl;</td>", "password", "HTML entities"),
        (json.dumps({"password": PASSWORD.replace("-", '"')}), "nothing", ""),
        (f"signup {EMAIL.upper()} {quote(EMAIL)}", "nothing", ""),  # an address is no secret
        ("session=anonymous id=12345", "nothing", ""),
    ],
)  # fmt: skip
def test_values_are_found_in_any_encoding_a_server_writes(line, kind, encoding):
    hits = find(f"boot\n{line}\nbye\n", WANTED)
    if kind == "nothing":
        assert hits == []
        return
    assert (2, kind, encoding) in {(line, n.kind.split()[-1], how) for line, n, how in hits}


def test_a_json_escaped_value_is_found():
    value = 'Lg-with"quote\\-and/slash-9a!'
    hits = find(json.dumps({"password": value}).replace("/", "\\/"), needles({value}, set()))
    assert [(line, how) for line, _, how in hits] == [(1, "JSON-escaped")]


secret_values = st.text(alphabet="abcdefghijkLMNOPQRS0123456789-_.!@+/=", min_size=10, max_size=40).filter(
    lambda v: len(set(v)) > 4 and re.search(r"[a-z]", v) and re.search(r"[0-9]", v)
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=secret_values,
    encoding=st.sampled_from(
        ["as written", "URL-encoded", "URL-encoded+", "base64", "JSON-escaped", "JSON-all", "HTML"]
    ),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    lines=st.lists(st.text(max_size=40), max_size=5),
)
def test_an_embedded_value_is_always_found_and_never_shown(value, encoding, before, after, lines):
    """The promise: whatever the log around it, a value of the run in any of its forms is found, on its line,
    and neither the report's message nor its findings show it."""
    forms = {
        "as written": value,
        "URL-encoded": quote(value, safe=""),
        "URL-encoded+": re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), quote_plus(value)),
        "base64": base64.b64encode(f"{before}:{value}:{after}".encode()).decode(),
        "JSON-escaped": json.dumps(value)[1:-1],
        "JSON-all": escaped_all(value, upper=True),
        "HTML": "".join(f"&#{ord(c)};" if not c.isalnum() else c for c in value),
    }
    clean = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    text = "\n".join([*clean, f"{before}{forms[encoding]}{after}".replace("\n", " ")]) + "\n"
    verdict = judge_log(text, "app.log", needles({value}, set()), TRACE)
    assert verdict.outcome.value == "fail"
    assert any(
        f.message.startswith((f"line {len(clean) + 1}:", f"line {len(clean) + 1} ("))
        for f in verdict.findings
    )
    shown = verdict.message + " ".join(f.message for f in verdict.findings)
    assert value not in shown
    assert forms[encoding] not in shown


@settings(max_examples=50, deadline=None)
@given(log=st.text(max_size=300))
def test_judging_any_log_never_raises(log):
    verdict = judge_log(log, "app.log", WANTED, TRACE)
    assert verdict.outcome.value in {"pass", "fail", "error"}
    assert PASSWORD not in verdict.message
