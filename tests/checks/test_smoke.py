"""Smoke flows against the demo deployment: real sign-ups, logins, bookings and DKIM-signed emails."""

import asyncio
import email
import json
import re
import smtplib
import ssl
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import dkim
import pytest
import trustme

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.demo.mail import Sender
from launch_gate.errors import ConfigError
from launch_gate.flows.mailbox import Mail
from launch_gate.flows.mailproof import prove
from launch_gate.net import dns_resolver, http_client
from launch_gate.runner import build_plan, make_context, run_plan
from tests.conftest import run_check
from tests.servers import ImapServer, http_server, read_body

FLOWS = {"smoke.signup", "smoke.login", "smoke.booking"}


def gate(running, environ=None, select=("smoke",), extra=""):
    environ = dict(environ or {})
    config = running.config
    if extra:
        config = running.config.with_name("extra.toml")
        config.write_text(running.config.read_text() + "\n" + extra)
    settings = load_settings(cwd=config.parent, config_file=config, environ=environ)
    report = run_plan(build_plan(settings, "post", select=list(select)), make_context(settings, environ))
    return {r.id: r for r in report.results}


async def post(running, path, body):
    settings = load_settings(cwd=running.config.parent, config_file=running.config, environ={})
    async with http_client(settings) as http:
        return (await http.post(f"https://www.example.test{path}", json=body)).status_code


def replaced(running, old, new):
    """The demo's configuration with one setting changed, as a user would edit it."""
    text = running.config.read_text()
    assert old in text
    running.config.write_text(text.replace(old, new))


def test_the_marketplace_flows_pass_on_the_clean_demo_and_leave_nothing_behind():
    with demo.running() as running:
        results = gate(running)
        assert running.site.users == {}  # every flow deleted its user (and with it the bookings)
        assert running.site.bookings == {}
        subjects = [email.message_from_bytes(raw)["subject"] for _, raw in running.inbox.messages]
    assert set(results) == FLOWS
    for result in results.values():
        assert result.outcome.value == "pass", result.message
        assert re.search(r"as lg-\d{14}-[0-9a-f]{6}@example\.test", result.message)
    steps = results["smoke.booking"].metrics["steps"]
    assert [s["step"] for s in steps][:3] == ["sign up", "log in", "search coaches"]
    assert steps[0]["status"] == 201
    assert next(s for s in steps if s["step"] == "booking email")["arrived_s"] < 5
    assert subjects.count("Your booking is confirmed") == 1
    assert subjects.count("Confirm your Coachly account") == 3


def test_a_password_templated_into_a_failing_request_is_redacted_in_the_report():
    flow = """
[[smoke.flows.oops.steps]]
name = "password in a path, by mistake"
path = "/api/users/{user.password}/profile"
"""
    with demo.running() as running:
        result = gate(running, select=["smoke.oops"], extra=flow)["smoke.oops"]
        asked = [path for _, _, path in running.site.requests if path.startswith("/api/users/")]
    assert result.outcome.value == "fail"
    assert "GET /api/users/[redacted #" in result.message
    [path] = asked
    password = path.split("/")[3]
    assert password.startswith("Lg-")  # the generated password did go out: it is the report that hides it
    assert password not in json.dumps(result.to_dict())
    assert "Lg-" not in json.dumps(result.to_dict())


def test_a_signup_that_answers_500_fails_the_flow_with_the_answer():
    with demo.running(["signup-500"]) as running:
        results = gate(running)
    signup = results["smoke.signup"]
    assert signup.outcome.value == "fail"
    assert "step 1 (sign up): POST /api/signup answered 500 (expected 201)" in signup.message
    assert "internal server error" in signup.message
    # Cleanup ran anyway: its login found no such user, so there was nothing to delete.
    assert any("{token} was never captured" in f.message for f in signup.findings)


def test_an_email_that_never_comes_fails_and_the_user_is_still_removed():
    with demo.running(["no-email"]) as running:
        results = gate(running, select=["smoke.signup"])
        deleted = [r for r in running.site.requests if r[2] == "/api/me"]
        users_left = dict(running.site.users)
        # Ask the app itself: the flow's address can sign up again, so no account with it exists.
        address = re.search(r"no email to (\S+@example\.test)", results["smoke.signup"].message)[1]
        again = asyncio.run(post(running, "/api/signup", {"email": address, "password": "another-pass1"}))
    assert again == 201
    result = results["smoke.signup"]
    assert result.outcome.value == "fail"
    assert re.search(r"step 2 \(confirmation email\): no email to lg-\S+@example\.test with subject "
                     r"containing 'confirm your' arrived within 5 s", result.message)  # fmt: skip
    assert users_left == {}  # the app itself says: no user left behind
    assert len(deleted) == 1
    assert [s["status"] for s in result.metrics["steps"][-2:]] == [200, 204]


def test_an_email_whose_dkim_signature_does_not_verify_fails():
    with demo.running(["bad-dkim"]) as running:
        results = gate(running, select=["smoke.signup"])
    result = results["smoke.signup"]
    assert result.outcome.value == "fail"
    assert "DKIM signature (d=example.test, s=s1) does not verify" in result.message


def test_a_logged_in_response_that_a_cdn_may_cache_fails_the_flow():
    with demo.running(["public-session-cache"]) as running:
        results = gate(running, select=["smoke.login"])
    result = results["smoke.login"]
    assert result.outcome.value == "fail"
    assert "step 3 (profile): GET /api/me is a logged-in response that is cacheable by shared caches" in (
        result.message
    )


def test_an_unreachable_api_is_could_not_verify_not_a_failure():
    with demo.running() as running:
        replaced(
            running,
            'connect-to = ["www.example.test:80::',
            'connect-to = ["www.example.test:443:127.0.0.1:9", "www.example.test:80::',
        )
        results = gate(running, select=["smoke.login"])
    result = results["smoke.login"]
    assert result.outcome.value == "error"
    assert result.message.startswith("could not verify step 1 (sign up): POST /api/signup got no answer")


def test_an_unreadable_mailbox_is_could_not_verify():
    with demo.running() as running:
        replaced(
            running,
            'url = "http://127.0.0.1:',
            'url = "http://127.0.0.1:9#',
        )
        results = gate(running, select=["smoke.signup"])
    result = results["smoke.signup"]
    assert result.outcome.value == "error"
    assert "cannot read the mailbox API at http://127.0.0.1:9" in result.message
    assert "[smoke.mailbox] url" in result.message


def test_mailhog_api_reads_the_same_mail():
    with demo.running() as running:
        replaced(running, 'kind = "mailpit"', 'kind = "mailhog"')
        results = gate(running, select=["smoke.booking"])
    assert results["smoke.booking"].outcome.value == "pass", results["smoke.booking"].message


def test_flows_do_not_run_against_production_unless_allowed():
    with demo.running() as running:
        replaced(running, 'environment = "demo"', 'environment = "production"')
        skipped = gate(running, select=["smoke.login"])["smoke.login"]
        replaced(running, "email-within = 5", "email-within = 5\nallow-production = true")
        allowed = gate(running, select=["smoke.login"])["smoke.login"]
        users_created = [r for r in running.site.requests if r[2] == "/api/signup"]
    assert skipped.outcome.value == "skip"
    assert "environment is 'production'" in skipped.message
    assert "allow-production = true" in skipped.message
    assert allowed.outcome.value == "pass", allowed.message
    assert len(users_created) == 1  # only the allowed run signed anyone up


def test_a_template_naming_a_value_nobody_captured_is_an_error_naming_it():
    flow = """
[[smoke.flows.typo.steps]]
path = "/api/bookings/{bookin}"
"""
    with demo.running() as running:
        result = gate(running, select=["smoke.typo"], extra=flow)["smoke.typo"]
    assert result.outcome.value == "error"
    assert "uses {bookin}, which no earlier step captured" in result.message


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_gates_own_smtp_sink_receives_and_proves_mail():
    """kind = "smtp": the gate listens; the demo's signing sender stands in for an app pointed at it."""
    flow = """
[[smoke.flows.sink.steps]]
name = "welcome email"
email = { to = "founder@example.test", subject = "welcome" }
capture = { link = "link" }
"""
    port = free_port()
    with demo.running() as running:
        replaced(running, 'kind = "mailpit"', f'kind = "smtp"\nlisten = "127.0.0.1:{port}"\n#')
        mailer = running.site.mailer
        assert isinstance(mailer, Sender)
        raw = mailer.message(
            "founder@example.test", "Welcome to Coachly", "Start: https://www.example.test/start"
        )
        sent = threading.Event()

        def send_when_listening():
            for _ in range(100):  # bounded: the sink starts when the flow does
                try:
                    with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost", timeout=2) as smtp:
                        smtp.sendmail("noreply@example.test", ["founder@example.test"], raw)
                    sent.set()
                    return
                except OSError:
                    time.sleep(0.05)

        sender = threading.Thread(target=send_when_listening)
        sender.start()
        result = gate(running, select=["smoke.sink"], extra=flow)["smoke.sink"]
        sender.join(10)
    assert sent.is_set()
    assert result.outcome.value == "pass", result.message
    with pytest.raises(ConnectionRefusedError):  # the sink stopped with the run
        smtplib.SMTP("127.0.0.1", port, local_hostname="localhost", timeout=2)


def test_bad_flow_settings_name_the_setting(project):
    project({"launch-gate.toml": """
[[smoke.flows.signup.steps]]
path = "/api/signup"
email = { subject = "x" }
"""})  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={})
    assert "[smoke.flows.signup] steps` in launch-gate.toml (item 1)" in str(caught.value)
    assert "either `path` (a request) or `email`" in str(caught.value)


@pytest.fixture
def imap_demo(tmp_path):
    """The demo, its mail also readable over IMAP with TLS (a second CA in the bundle, as for a real inbox)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with demo.running() as running:
        server = ImapServer(lambda: running.inbox.messages, "qa", "imap-Pa55word!", context)
        with server.running() as port:
            bundle = tmp_path / "bundle.pem"
            demo_ca = re.search(r'ca-bundle = "([^"]+)"', running.config.read_text())[1]
            bundle.write_bytes(Path(demo_ca).read_bytes() + ca.cert_pem.bytes())
            replaced(running, demo_ca, str(bundle))
            replaced(running, 'kind = "mailpit"', f'kind = "imap"\nhost = "127.0.0.1"\nport = {port}\nuser = "qa"\n'
                     'password-env = "SMOKE_IMAP_PASSWORD"\n#')  # fmt: skip
            yield running, server


def test_imap_reads_a_real_inbox_over_tls(imap_demo):
    running, server = imap_demo
    result = gate(running, {"SMOKE_IMAP_PASSWORD": "imap-Pa55word!"}, select=["smoke.signup"])["smoke.signup"]
    assert result.outcome.value == "pass", result.message
    assert server.logins  # it did read over IMAP


def test_an_imap_login_refused_is_could_not_verify_and_never_shows_the_password(imap_demo):
    running, _ = imap_demo
    result = gate(running, {"SMOKE_IMAP_PASSWORD": "wrong-Pa55word!"}, select=["smoke.signup"])[
        "smoke.signup"
    ]
    assert result.outcome.value == "error"
    assert "refused us" in result.message
    assert "[smoke.mailbox] user and password" in result.message
    assert "wrong-Pa55word!" not in json.dumps(result.to_dict())


def test_an_imap_password_variable_that_is_unset_is_named(imap_demo):
    running, _ = imap_demo
    result = gate(running, {}, select=["smoke.signup"])["smoke.signup"]
    assert result.outcome.value == "error"
    assert "environment variable SMOKE_IMAP_PASSWORD (named by [smoke.mailbox] password-env) is not set" in (
        result.message
    )


def test_form_bodies_and_captures_from_a_page_and_a_header():
    flow = """
[[smoke.flows.forms.steps]]
name = "landing page"
path = "/"
capture = { brand = 'body:<h1>([^<]+)</h1>', type = "header:content-type" }

[[smoke.flows.forms.steps]]
name = "sign up with a form"
method = "POST"
path = "/api/signup"
form = { email = "{user.email}", password = "{user.password}" }
expect = 201

[[smoke.flows.forms.steps]]
name = "search for the brand"
path = "/api/coaches?q={brand}"
expect = 200

[[smoke.flows.forms.cleanup]]
method = "POST"
path = "/api/login"
form = { email = "{user.email}", password = "{user.password}" }
capture = { token = "json:token" }

[[smoke.flows.forms.cleanup]]
method = "DELETE"
path = "/api/me"
headers = { Authorization = "Bearer {token}" }
"""
    with demo.running() as running:
        result = gate(running, select=["smoke.forms"], extra=flow)["smoke.forms"]
        searched = [p for _, _, p in running.site.requests if p == "/api/coaches"]
        users_left = dict(running.site.users)
    assert result.outcome.value == "pass", result.message
    assert searched == ["/api/coaches"]
    assert users_left == {}


def signed(running, sender, extra_headers=b""):
    mailer = running.site.mailer
    body = (f"From: Coachly <{sender}>\r\nTo: ada@clients.test\r\nSubject: Welcome\r\n\r\n"
            "Start here: https://www.example.test/start\r\n").encode()  # fmt: skip
    signature = dkim.sign(
        body, b"s1", b"example.test", mailer.key, include_headers=[b"from", b"to", b"subject"]
    )
    return Mail("1", extra_headers + signature + body)


def proof_of(running, mail):
    settings = load_settings(cwd=running.config.parent, config_file=running.config, environ={})
    return asyncio.run(prove(mail, dns_resolver(settings), "example.test", "www.example.test"))


def test_one_aligned_signature_that_verifies_is_enough_others_are_noted():
    with demo.running() as running:
        foreign = b"DKIM-Signature: v=1; a=rsa-sha256; d=esp.test; s=k1; h=from; bh=AAAA; b=AAAA\r\n"
        proof = proof_of(running, signed(running, "noreply@example.test", foreign))
    assert proof.fails == []
    assert proof.errors == []
    assert any("k1._domainkey.esp.test, which DNS does not publish" in n for n in proof.notes)


def test_mail_from_another_domain_is_neither_your_domain_nor_aligned():
    with demo.running() as running:
        proof = proof_of(running, signed(running, "hello@coachly-mail.test"))
    assert any("not your mail domain example.test" in f for f in proof.fails)
    assert any(
        "DKIM signature is by example.test, not aligned with From coachly-mail.test" in f for f in proof.fails
    )


def test_a_dkim_key_that_cannot_be_fetched_is_could_not_verify():
    with demo.running(["dns-timeout"]) as running:
        replaced(running, "probe-timeout = 5", "probe-timeout = 0.5")
        proof = proof_of(running, signed(running, "noreply@example.test"))
    assert proof.fails == []
    assert any("the DKIM key s1._domainkey.example.test could not be fetched" in e for e in proof.errors)


STEP = "[[smoke.flows.login.steps]]\n"
UNUSABLE = {
    STEP + 'email = { subject = "x" }': "flow 'login' waits for an email: set [smoke.mailbox] kind",
    STEP + 'path = "/x"\njson = { a = "{user.email}" }': "flow 'login' uses {user.*}: set plus-address",
    STEP + 'path = "/x"\ncapture = { t = "jsn:token" }': "capture 't' must be json:<field.path>",
    STEP
    + 'path = "/x"\ncapture = { t = "body:([" }': "capture 't': body:<regex> is not a valid regular expression",
    '[[smoke.flows.Login.steps]]\npath = "/x"': "flow names become check ids",
    '[smoke.mailbox]\nkind = "imap"\nhost = "i"\nuser = "q"\npassword-env = "a b"': "password-env is the NAME",
}


@pytest.mark.parametrize(("toml", "expected"), UNUSABLE.items())
def test_unusable_flow_settings_are_configuration_errors(project, toml, expected):
    project({"launch-gate.toml": toml})
    with pytest.raises(ConfigError, match=re.escape(expected)) as raised:
        load_settings(environ={})
    assert "jsn:token" not in str(raised.value)  # the name of the capture, never its value
    assert "body:([" not in str(raised.value)


def test_a_token_in_an_unexpected_answer_is_not_shown():
    flow = """
[[smoke.flows.leak.steps]]
method = "POST"
path = "/api/signup"
json = { email = "{user.email}", password = "{user.password}" }

[[smoke.flows.leak.steps]]
name = "log in, expecting the wrong status"
method = "POST"
path = "/api/login"
json = { email = "{user.email}", password = "{user.password}" }
expect = 201
"""
    with demo.running() as running:
        result = gate(running, select=["smoke.leak"], extra=flow)["smoke.leak"]
        tokens = list(running.site.tokens)
    assert result.outcome.value == "fail"
    assert "answered 200 (expected 201)" in result.message
    assert '{"token": "[redacted #' in result.message
    assert tokens
    assert not any(t in json.dumps(result.to_dict()) for t in tokens)


def test_with_a_session_cookie_a_cacheable_answer_fails_unless_marked_public():
    """The landing page sets `session`; later answers are judged as logged-in ones, static assets are not."""
    flow = """
[[smoke.flows.cookie.steps]]
name = "landing page"
path = "/"

[[smoke.flows.cookie.steps]]
name = "static asset"
path = "/static/app.js"

[[smoke.flows.cookie.steps]]
name = "landing page again, with the session cookie"
path = "/"
"""
    with demo.running(["public-session-cache"]) as running:
        judged = gate(running, select=["smoke.cookie"], extra=flow)["smoke.cookie"]
        marked = gate(running, select=["smoke.cookie"], extra=flow + "public = true\n")["smoke.cookie"]
    assert judged.outcome.value == "fail"
    assert judged.message.startswith(
        "step 3 (landing page again, with the session cookie): GET / is a logged-in"
    )
    assert marked.outcome.value == "pass", marked.message


class FormSite:
    """A server-rendered app unlike the demo: a CSRF token in the sign-up form, a 303 after posting it, a
    cookie session, and a dashboard whose caching is `cache` (the thing under test)."""

    def __init__(self, cache, cookie="HttpOnly; SameSite=Lax"):
        self.cache, self.users, self.sessions, self.forms = cache, {}, {}, set()
        self.cookie = cookie  # the session cookie's attributes (over plain http: Secure is not asked for)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        cookies = dict(c.strip().split("=", 1) for c in headers.get("cookie", "").split(";") if "=" in c)
        route, extra, status, page = (scope["method"], scope["path"]), [], 200, b""
        if route == ("GET", "/signup"):
            token = f"csrf{len(self.forms)}x{id(self):x}"
            self.forms.add(token)
            page = f'<form method="post"><input type="hidden" name="csrf" value="{token}"></form>'.encode()
        elif route == ("POST", "/signup"):
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("csrf") not in self.forms:
                status, page = 403, b"CSRF check failed"
            else:
                self.users[form["email"]] = form["password"]
                sid = f"s{len(self.sessions)}-{form['email']}"
                self.sessions[sid] = form["email"]
                status = 303
                extra = [
                    (b"location", b"/dashboard"),
                    (b"set-cookie", f"sessionid={sid}; {self.cookie}".encode()),
                ]
        elif route == ("GET", "/dashboard") and cookies.get("sessionid") in self.sessions:
            page, extra = b"<h1>Your bookings</h1>", [(b"cache-control", self.cache.encode())]
        elif route == ("POST", "/account/delete") and cookies.get("sessionid") in self.sessions:
            self.users.pop(self.sessions.pop(cookies["sessionid"]), None)
            status = 204
        else:
            status = 404
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/html"), *extra]})  # fmt: skip
        await send({"type": "http.response.body", "body": page})


FORM_FLOW = """
environment = "staging"
target = "http://127.0.0.1:{port}/"

[smoke]
catch-all-domain = "qa.shop.test"

[[smoke.flows.signup.steps]]
name = "sign-up form"
path = "/signup"
capture = {{ csrf = 'body:name="csrf" value="([^"]+)"' }}

[[smoke.flows.signup.steps]]
name = "sign up"
method = "POST"
path = "/signup"
form = {{ csrf = "{{csrf}}", email = "{{user.email}}", password = "{{user.password}}" }}
expect = 303
capture = {{ next = "header:Location" }}

[[smoke.flows.signup.steps]]
name = "dashboard"
path = "{{next}}"

[[smoke.flows.signup.cleanup]]
name = "delete account"
method = "POST"
path = "/account/delete"
expect = 204
"""


@pytest.mark.parametrize(("cache", "outcome"), [("private, no-store", "pass"), ("max-age=300", "fail")])
def test_a_server_rendered_app_with_csrf_redirects_and_a_cookie_session(project, cache, outcome):
    site = FormSite(cache)
    with http_server(site) as port:
        root = project({"launch-gate.toml": FORM_FLOW.format(port=port)})
        result = run_check(root, "smoke.signup")
    assert result.outcome.value == outcome, result.message
    assert site.users == {}  # the cookie session deleted the account
    assert len(site.sessions) == 0
    if outcome == "fail":
        assert result.message.startswith("step 3 (dashboard): GET /dashboard is a logged-in response")
    else:
        assert [s["status"] for s in result.metrics["steps"]] == [200, 303, 200, 204]


def test_a_session_cookie_without_httponly_fails_the_flow_naming_the_step_and_cookie(project):
    """Before: flows never looked at Set-Cookie; the flow passed."""
    site = FormSite("private, no-store", cookie="SameSite=Lax")
    with http_server(site) as port:
        result = run_check(project({"launch-gate.toml": FORM_FLOW.format(port=port)}), "smoke.signup")
    assert result.outcome.value == "fail", result.message
    assert result.message.startswith(
        "step 2 (sign up): POST /signup: cookie sessionid lacks HttpOnly: a stolen or cross-site-sent cookie"
    )
    assert [s["status"] for s in result.metrics["steps"]] == [200, 303, 200, 204]  # the flow still ran out
    assert site.users == {}


def test_a_login_api_setting_an_insecure_session_cookie_fails_the_flows_that_log_in():
    """The demo's `insecure-login-cookie`: /api/login sets `session` without Secure and HttpOnly."""
    with demo.running(["insecure-login-cookie"]) as running:
        results = gate(running)
        tokens = set(running.site.tokens)
        assert running.site.users == {}  # cleanup still ran
    login = results["smoke.login"]
    assert login.outcome.value == "fail", login.message
    assert login.message.startswith(
        "step 2 (log in): POST /api/login: cookie session lacks Secure, HttpOnly: a stolen or cross-site-sent"
    )
    assert results["smoke.signup"].message.startswith(
        "cleanup 'log in to clean up': POST /api/login: cookie session lacks Secure, HttpOnly"
    )
    report = json.dumps([r.to_dict() for r in results.values()])
    assert not any(t[:6] in report for t in tokens)


def test_a_header_value_that_is_not_ascii_is_a_clear_error_naming_the_header_not_a_crash(project):
    site = FormSite("private")
    with http_server(site) as port:
        root = project(
            {
                "launch-gate.toml": f'target = "http://127.0.0.1:{port}"\nenvironment = "staging"\n'
                "[[smoke.flows.api.steps]]\npath = '/signup'\nheaders = { X-Api-Key = '{env.API_KEY}' }\n"
            }
        )
        result = run_check(root, "smoke.api", {"API_KEY": "clé-secrète-0042"})
    assert result.outcome.value == "error"
    assert "header X-Api-Key is not ASCII" in result.message
    assert "crashed" not in result.message
    assert "secr" not in result.message


class Provider:
    """Another site a flow calls with a whole URL (a payment provider): it sets its own tracking cookie."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"set-cookie", b"__stripe_sid=p0-provider-cookie; Path=/")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"{}"})


PROVIDER_STEP = """
[[smoke.flows.signup.steps]]
name = "payment session"
path = "{url}"
"""


def test_cookies_another_site_sets_during_a_flow_are_not_the_targets_to_judge(project):
    """Before: the provider's `__stripe_sid` (session-like: `sid`) failed the app's flow."""
    site = FormSite("private, no-store")
    with http_server(site) as port, http_server(Provider()) as other:
        config = FORM_FLOW.format(port=port) + PROVIDER_STEP.format(url="http://pay.stripe.test/v1/session")
        config = config.replace(
            "[smoke]", f'[net]\nconnect-to = ["pay.stripe.test:80:127.0.0.1:{other}"]\n\n[smoke]'
        )
        result = run_check(project({"launch-gate.toml": config}), "smoke.signup")
    assert result.outcome.value == "pass", result.message
    assert [s["status"] for s in result.metrics["steps"]] == [
        200,
        303,
        200,
        200,
        204,
    ]  # the provider answered


def test_cookies_from_the_targets_host_on_another_port_are_judged(project):
    # Cookies are scoped to a host, not a port (RFC 6265 8.5): what 127.0.0.1:B sets goes to 127.0.0.1:A too.
    site = FormSite("private, no-store")
    with http_server(site) as port, http_server(Provider()) as other:
        config = FORM_FLOW.format(port=port) + PROVIDER_STEP.format(
            url=f"http://127.0.0.1:{other}/v1/session"
        )
        result = run_check(project({"launch-gate.toml": config}), "smoke.signup")
    assert result.outcome.value == "fail", result.message
    assert result.message.startswith(
        f"step 4 (payment session): GET http://127.0.0.1:{other}/v1/session: cookie __stripe_sid lacks"
    ), result.message
    assert "p0-provider-cookie" not in result.message


@pytest.mark.parametrize(
    ("url", "judged"),
    [
        ("https://www.example.test/login", True),
        ("https://example.test/login", True),  # the apex twin
        ("https://api.example.test:8443/session", True),  # one registrable domain: it can set example.test
        ("https://WWW.EXAMPLE.TEST./", True),
        ("https://js.stripe.com/v3/session", False),
        ("https://example.test.evil.test/", False),
        ("http://127.0.0.1:9000/", False),
    ],
)
def test_the_targets_site_is_its_registrable_domain(url, judged):
    from launch_gate.flows.runner import same_site

    assert same_site(url, "https://www.example.test/") is judged
    assert same_site("http://127.0.0.1:9000/a", "http://127.0.0.1:8000/") is True
    assert same_site("http://127.0.0.2:8000/a", "http://127.0.0.1:8000/") is False
