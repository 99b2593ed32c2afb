"""`launch-gate watch` against the demo: a fault switched on and off gives exactly one alert and one recovery,
at a loopback webhook and by email (over SQLite and a real PostgreSQL); a slow route is its own incident; a
failed delivery is recorded and retried without stopping the watch; a crashed round is recorded; SIGTERM
stops it cleanly; no secret reaches an alert (property test); demo --serve --fault-control switches faults."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager, redirect_stderr, redirect_stdout, suppress
from email import message_from_string
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.dashboard import write_dashboard
from launch_gate.dashboard.data import DAY
from launch_gate.dashboard.markdown import write_summary
from launch_gate.history import History, Incident, new_run_id
from launch_gate.redact import WINDOW, fingerprint
from launch_gate.watch import Alerter, Watcher, compose, run_watch, watch_plan
from launch_gate.watch.alerts import redactor_for_alerts
from tests.conftest import base_env
from tests.postgres import fresh_database, postgres_server


class Webhook:
    """A loopback webhook (what Apprise's json:// posts to); answers 500 to the first `failures` posts."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[dict] = []
        self.attempts = 0
        self.failures = failures

    @contextmanager
    def running(self):
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                hook.attempts += 1
                if hook.attempts <= hook.failures:
                    self.send_response(500)
                else:
                    hook.received.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"json://127.0.0.1:{server.server_address[1]}/hooks/launch-gate"
        finally:
            server.shutdown()
            server.server_close()


class Mailroom:
    """aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def email_html(raw: str) -> str:
    """The HTML part of an email (fails when it has none: Apprise sent it as plain text)."""
    [part] = [p for p in message_from_string(raw).walk() if p.get_content_type() == "text/html"]
    return str(part.get_payload(decode=True), "utf-8")


@contextmanager
def smtp():
    room = Mailroom()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        room,
        hostname="127.0.0.1",
        port=port,
        auth_require_tls=False,
        authenticator=lambda *args: AuthResult(success=True),
    )  # any login: the test's
    controller.start()
    try:
        yield room, f"mailto://{{user}}127.0.0.1:{port}?from=gate@example.test&to=oncall@example.test"
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def loopback_without_proxy(monkeypatch):
    """Apprise (requests) honours proxy variables; the tests' alerts go straight to loopback."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


def watch_config(running, alerts, history_url, checks=("domain.redirects",), extra=""):
    alerts_toml = json.dumps(list(alerts))
    text = running.config.read_text(encoding="utf-8") + (
        f"\n[watch]\ninterval = 0.2\nchecks = {json.dumps(list(checks))}\nalerts = {alerts_toml}\n"
        f'dashboard-url = "https://status.example.test/"\n{extra}\n[history]\nurl = "{history_url}"\n'
    )
    running.config.write_text(text, encoding="utf-8")
    return load_settings(config_file=running.config)


def switching(site, on_after, off_after, fault="home-500"):
    """A `say` that switches `fault` on after round `on_after` and off after round `off_after`; keeps lines."""
    lines = []

    def say(line):
        lines.append(line)
        if line.startswith(f"round {on_after} at"):
            site.faults.add(fault)
        if line.startswith(f"round {off_after} at"):
            site.faults.discard(fault)

    return say, lines


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_fault_on_then_off_gives_one_alert_and_one_recovery_by_webhook_and_email(store, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    if store == "postgresql":
        url = fresh_database(request.getfixturevalue("postgres_url"), f"w_{new_run_id()[:12]}")
    hook = Webhook()
    with demo.running() as running, hook.running() as hook_url, smtp() as (room, mail_url):
        settings = watch_config(running, [hook_url, mail_url.format(user="")], url)
        # round 1 passes; 2, 3, 4 fail (the incident opens at 3); 5 and 6 pass (it closes at 5)
        say, lines = switching(running.site, on_after=1, off_after=4)
        code = run_watch(settings, rounds=6, say=say, environ={}, handle_signals=False)
    assert code == 0, lines
    titles = [m["title"] for m in hook.received]
    assert len(titles) == 2, lines
    assert "domain.redirects is failing: errors" in titles[0]
    assert "domain.redirects recovered" in titles[1]
    opened = hook.received[0]["message"]
    assert "- **Check:** `domain.redirects`" in opened  # Markdown, as Apprise was told
    assert "- **Since:** " in opened
    assert "answers 500" in opened  # the last message
    assert "- **Dashboard:** <https://status.example.test/>" in opened
    assert [rcpts for rcpts, _ in room.messages] == [["oncall@example.test"]] * 2
    assert "failing" in room.messages[0][1]
    assert "recovered" in room.messages[1][1]
    html = email_html(room.messages[0][1])  # the email renders it: a list, and the dashboard as a link
    assert '<a href="https://status.example.test/">' in html
    assert "<li><strong>Check:</strong> <code>domain.redirects</code></li>" in html
    with History.open(url, tmp_path) as history:
        [incident] = history.incidents()
        rounds = [r for r in history.runs() if r.source == "watch"]
        deliveries = history.deliveries()
    assert incident.closed_at is not None
    assert incident.kind == "errors"
    assert len(rounds) == 6
    assert [(d.event, d.status) for d in deliveries] == [("open", "sent")] * 2 + [("close", "sent")] * 2
    assert sum("incident opened" in line for line in lines) == 1


def test_a_p95_over_the_bound_on_a_core_route_is_a_slow_incident(tmp_path):
    extra = "p95-ms = 300\n[latency]\nrate = 10\nduration = 1\nwarmup = 0\nmin-samples = 5\n"
    hook = Webhook()
    with demo.running(delay=0.4) as running, hook.running() as hook_url:
        text = running.config.read_text(encoding="utf-8").replace(
            "[latency]\nrate = 20\nduration = 3\nwarmup = 0.5\n", ""
        )
        running.config.write_text(text, encoding="utf-8")
        settings = watch_config(
            running, [hook_url], f"sqlite:///{tmp_path / 'h.sqlite'}", ["latency.home"], extra
        )
        code = run_watch(settings, rounds=2, say=lambda _: None, environ={}, handle_signals=False)
    assert code == 1  # an incident is open at the end
    [alert] = hook.received
    assert "latency.home is failing: slow" in alert["title"]
    assert "over the 300 ms bound" in alert["message"]


def test_a_failed_delivery_is_recorded_and_retried_and_never_stops_the_watch(tmp_path):
    hook = Webhook(failures=2)
    with demo.running(faults={"home-500"}) as running, hook.running() as hook_url:
        dead = "json://127.0.0.1:9/nobody-listens"
        settings = watch_config(running, [hook_url, dead], f"sqlite:///{tmp_path / 'h.sqlite'}",
                                extra="retries = 2")  # fmt: skip
        lines: list[str] = []
        code = run_watch(settings, rounds=6, say=lines.append, environ={}, handle_signals=False)
        with History.open(settings.history.url, tmp_path) as history:
            deliveries = {d.destination: d for d in history.deliveries()}
    assert code == 1
    assert len(hook.received) == 1  # delivered on its third attempt, once
    assert (deliveries[1].status, deliveries[1].attempts) == ("sent", 3)
    assert (deliveries[2].status, deliveries[2].attempts) == ("failed", 3)  # given up after 2 retries
    assert sum(line.startswith("round ") for line in lines) == 6
    assert any("retried next round" in line for line in lines)
    assert "nobody-listens" not in "\n".join(lines)  # the URL is a secret: named by its place and scheme


def test_a_round_that_crashes_is_recorded_as_an_error_and_the_watch_goes_on(tmp_path):
    with demo.running() as running:
        settings = watch_config(running, [], f"sqlite:///{tmp_path / 'h.sqlite'}")
        with History.open(settings.history.url, tmp_path) as history:
            broken_plan = [object()]  # not a check: running it crashes the round itself
            redactor = redactor_for_alerts([])
            watcher = Watcher(settings, broken_plan, history, None, lambda _: None, {}, redactor)
            import asyncio

            code = asyncio.run(watcher.run(3, 0.05, asyncio.Event()))
            rows = history.results()
            [incident] = history.open_incidents()
    assert code == 1
    assert [r.check_id for r in rows] == ["watch.round"] * 3
    assert all(r.outcome == "error" and "the round crashed" in r.message for r in rows)
    assert incident.kind == "watch"


def test_sigterm_stops_the_watch_cleanly(tmp_path):
    with demo.running() as running:
        settings_text = running.config.read_text(encoding="utf-8") + (
            f'\n[watch]\ninterval = 30\nchecks = ["domain.redirects"]\n[history]\n'
            f'url = "sqlite:///{tmp_path / "h.sqlite"}"\n'
        )
        running.config.write_text(settings_text, encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "launch_gate", "watch", "--config", str(running.config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=base_env(), cwd=tmp_path,
        )  # fmt: skip
        first = []
        for line in process.stdout:
            first.append(line)
            if line.startswith("round 1 at"):
                break
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Watch stopped after 1 rounds" in out
    assert "Traceback" not in err


def test_an_alert_url_apprise_cannot_use_is_exit_4_and_never_echoed(tmp_path):
    (tmp_path / "launch-gate.toml").write_text('target = "https://www.example.test/"\n', encoding="utf-8")
    env = base_env(LAUNCH_GATE_WATCH__ALERTS='["nosuchservice://Hunter2Hunter2@example.test/x"]')
    done = subprocess.run([sys.executable, "-m", "launch_gate", "watch", "--rounds", "1"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert "[watch] alerts item 1 of 1" in done.stderr
    assert "Hunter2" not in done.stdout + done.stderr


SECRETS = st.text(
    alphabet="abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=12, max_size=32
)


@pytest.fixture(scope="module")
def alert_servers():
    hook = Webhook()
    with hook.running() as hook_url, smtp() as (room, mail_url):
        yield hook, hook_url, room, mail_url


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=SECRETS, token=SECRETS)
def test_no_piece_of_a_secret_reaches_an_alert(alert_servers, secret, token):
    """The alert URL's own token, the history URL's password and a secret a check echoed in its message: no
    WINDOW characters of any of them reach the webhook's or the mailbox's copy."""
    hook, hook_url, room, mail_url = alert_servers
    before_hook, before_mail = len(hook.received), len(room.messages)
    urls = [f"{hook_url}?token={token}", mail_url.format(user=f"gate:{token}@")]
    redactor = redactor_for_alerts(
        urls, [secret, f"postgresql://gate:{secret}@db/x"], ["https://www.example.test/"]
    )
    alerter = Alerter(urls, redactor, timeout=20)
    incident = Incident(
        1,
        "smoke.login",
        "fail",
        "errors",
        time.time() - 120,
        time.time() - 60,
        None,
        f"step 2 (log in): answered 500: token={token} password {secret} db {secret[::-1]}{secret}",
    )
    for event in ("open", "close"):
        message = compose(
            event, incident, "https://www.example.test/", "https://status.example.test/", time.time()
        )
        assert alerter.send(1, message) is None
        if event == "close":  # one email per example: Apprise waits 5.5 s between two to the same server
            assert alerter.send(2, message) is None
    seen = [json.dumps(m) for m in hook.received[before_hook:]] + [
        "\n".join(
            str(part.get_payload(decode=True), "utf-8")
            for part in message_from_string(raw).walk()
            if not part.is_multipart()
        )
        + str(message_from_string(raw)["subject"])
        for _, raw in room.messages[before_mail:]
    ]
    assert len(seen) == 3
    for text in seen:
        for value in (secret, token):
            windows = {value[i : i + WINDOW] for i in range(len(value) - WINDOW + 1)}
            leaked = [w for w in windows if w in text]
            assert not leaked, f"a piece of a secret reached an alert: {leaked} in {text!r}"
        assert "smoke.login" in text


def test_demo_serve_with_fault_control_switches_a_fault_while_it_runs(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "launch_gate", "demo", "--serve", "--fault-control"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=base_env(), cwd=tmp_path,
    )  # fmt: skip
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C stops the demo"):
                break
        text = "".join(lines)
        assert "[watch]" in text
        assert "[net]" in text
        control = next(line.split(": ", 1)[1].strip() for line in lines if line.startswith("Fault control:"))
        config = Path(next(line.split()[-1] for line in lines if line.startswith("Watch it:")))
        request = urllib.request.Request(f"{control}/home-500", method="POST")  # noqa: S310 (loopback, http)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as answer:
            assert json.load(answer)["on"] == ["home-500"]
        gate = subprocess.run([sys.executable, "-m", "launch_gate", "check", "--phase", "post", "--select",
                               "domain.redirects", "--config", str(config), "-q"], env=base_env(),
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert gate.returncode == 1, gate.stdout
        off = urllib.request.Request(f"{control}/home-500", method="DELETE")  # noqa: S310 (loopback, http)
        with opener.open(off, timeout=10) as answer:
            assert json.load(answer)["on"] == []
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(urllib.request.Request(f"{control}/expired-cert", method="POST"), timeout=10)  # noqa: S310 (loopback, http)
        assert refused.value.code == 409
        gate = subprocess.run([sys.executable, "-m", "launch_gate", "check", "--phase", "post", "--select",
                               "domain.redirects", "--config", str(config), "-q"], env=base_env(),
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert gate.returncode == 0, gate.stdout
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Stopped the demo deployment." in out


# --- issue 14: the review's findings ---
def target_with(password: str) -> str:
    return f"https://deploy:{quote(password, safe='')}@www.example.test/?access_token=Tok{quote(password, safe='')}"


@pytest.fixture(scope="module")
def demo_for_leaks():
    hook = Webhook()
    with demo.running() as running, hook.running() as hook_url:
        yield running, running.config.read_text(encoding="utf-8"), hook, hook_url


def everything_a_watch_shows(demo_for_leaks, password: str, folder: Path) -> dict[str, str]:
    """One watch round (domain.redirects, an incident at once, an alert), then the dashboard and the Markdown
    summary; everything each wrote: standard output and error, the SQLite file, the page, the summary, the
    alert."""
    running, config, hook, hook_url = demo_for_leaks
    folder.mkdir()
    before = len(hook.received)
    text = config.replace(
        'target = "https://www.example.test/"', f"target = {json.dumps(target_with(password))}"
    )
    running.config.write_text(text, encoding="utf-8")
    settings = watch_config(running, [hook_url], f"sqlite:///{folder / 'h.sqlite'}", extra="alert-after = 1")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        run_watch(settings, rounds=1, environ={}, handle_signals=False)
        write_dashboard(settings, folder / "status.html")
        write_summary(settings, str(folder / "summary.md"), DAY, {})
        write_summary(settings, "-", DAY, {})
    return {
        "stdout": out.getvalue(),
        "stderr": err.getvalue(),
        "sqlite": (folder / "h.sqlite").read_bytes().decode("latin-1"),
        "dashboard": (folder / "status.html").read_text(encoding="utf-8"),
        "markdown": (folder / "summary.md").read_text(encoding="utf-8"),
        "alert": json.dumps(hook.received[before:]),
    }


def test_a_password_in_the_target_is_never_printed_stored_or_shown(demo_for_leaks, tmp_path):
    shown = everything_a_watch_shows(demo_for_leaks, "TargetPassw0rd4242", tmp_path / "w")
    assert "Watching https://redacted@www.example.test/?access_token=redacted:" in shown["stdout"]
    assert "incident opened: domain.redirects" in shown["stdout"]  # the round ran, and failed (the userinfo)
    assert "https://redacted@www.example.test/" in shown["dashboard"]
    assert "https://redacted@www.example.test/" in shown["markdown"]
    assert "domain.redirects is failing" in shown["alert"]
    for where, text in shown.items():
        assert "TargetPassw0rd4242" not in text, where
        assert "TargetPassw0rd" not in text, where


@pytest.fixture(scope="module")
def reference_outputs(demo_for_leaks, tmp_path_factory):
    """What a watch shows with another password: text a random password could match by chance."""
    shown = everything_a_watch_shows(demo_for_leaks, "Reference-Only-1", tmp_path_factory.mktemp("r") / "w")
    return "\n".join(shown.values())


PASSWORDS = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=8, max_size=24)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=PASSWORDS)
def test_no_password_in_the_target_reaches_any_output_property(
    demo_for_leaks, reference_outputs, tmp_path, password
):
    """Any password (and the query token made of it) in `target`: in no output, in no form the URL held."""
    encoded = quote(password, safe="")
    assume(password not in reference_outputs and encoded not in reference_outputs)
    shown = everything_a_watch_shows(demo_for_leaks, password, tmp_path / new_run_id())
    for where, text in shown.items():
        assert password not in text, where
        assert encoded not in text, where


@contextmanager
def blackhole():
    """A TCP server that accepts connections and never answers (an alert destination that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            with suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.getsockname()[1]}/hangs-forever"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


def watcher_for(settings, tmp_path, alert_timeout, lines):
    """A Watcher as `run_watch` builds it, with a short send timeout (the default is SEND_TIMEOUT)."""
    redactor = redactor_for_alerts(settings.watch.alerts)
    alerter = Alerter(settings.watch.alerts, redactor, timeout=alert_timeout)
    history = History.open(settings.history.url, tmp_path)
    return history, Watcher(settings, watch_plan(settings), history, alerter, lines.append, {}, redactor)


def test_a_hanging_destination_delays_neither_the_rounds_nor_the_other_destinations(tmp_path):
    """The review: a destination that never answers stalled every round by its timeout, one alert after the
    other. Now rounds start every interval, the webhook gets its alert in the round the incident opens, and
    the hanging delivery is recorded as failed and tried again."""
    hook = Webhook()
    with demo.running(faults={"home-500"}) as running, hook.running() as hook_url, blackhole() as hang:
        settings = watch_config(running, [hang, hook_url], f"sqlite:///{tmp_path / 'h.sqlite'}",
                                extra="alert-after = 1\nretries = 9")  # fmt: skip
        lines: list[str] = []
        history, watcher = watcher_for(settings, tmp_path, alert_timeout=1.0, lines=lines)
        stamps: list[float] = []
        say = watcher.say

        def timed(line):
            if line.startswith("round "):
                stamps.append(time.monotonic())
            say(line)

        watcher.say = timed
        with history:
            began = time.monotonic()
            asyncio.run(watcher.run(10, 0.2, asyncio.Event()))
            deliveries = {d.destination: d for d in history.deliveries()}
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(stamps) == 10, lines
    assert max(gaps) < 0.9, (gaps, lines)  # a round every 0.2 s and its checks, never the 1 s send timeout
    assert len(hook.received) == 1  # the open alert, once, while the other destination hangs
    assert stamps[-1] - began < 10 * 0.9
    assert deliveries[2].status == "sent"
    hanging = deliveries[1]
    assert hanging.status == "pending"  # recorded and retried, not dropped (retries = 9)
    assert hanging.attempts >= 2, lines
    assert "no answer within 1 s" in (hanging.last_error or "")
    assert any("alert to alert 1 (json) failed" in line and "retried next round" in line for line in lines)
    assert all("hangs-forever" not in line for line in lines)


def test_a_retry_finds_its_destination_after_the_alerts_were_reordered(tmp_path):
    """A failed delivery is retried to the same destination even when `[watch] alerts` was reordered and
    grew between two watches (the review: keyed by place, it went to whoever took the place)."""
    first, second, third = Webhook(failures=1), Webhook(), Webhook()
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    with (
        demo.running(faults={"home-500"}) as running,
        first.running() as a,
        second.running() as b,
        third.running() as c,
    ):
        config = running.config.read_text(encoding="utf-8")
        settings = watch_config(running, [a, b], url, extra="alert-after = 1")
        run_watch(settings, rounds=1, say=lambda _: None, environ={}, handle_signals=False)
        assert (len(first.received), len(second.received), first.attempts) == (0, 1, 1)
        with History.open(url, tmp_path) as history:
            stored = history.deliveries()
        running.config.write_text(config, encoding="utf-8")
        settings = watch_config(running, [c, b, a], url, extra="alert-after = 1")  # reordered, and grew
        run_watch(settings, rounds=1, say=lambda _: None, environ={}, handle_signals=False)
    assert len(first.received) == 1  # its retry, to it
    assert "domain.redirects is failing" in first.received[0]["title"]
    assert len(second.received) == 1  # nothing twice
    assert third.received == []  # a newcomer gets no alert of an incident opened before it was added
    # the history holds a fingerprint, not the URL
    assert all(a not in json.dumps(d.__dict__) for d in stored)
    assert {d.destination_key for d in stored} == {fingerprint(a), fingerprint(b)}


def test_an_alert_is_markdown_that_email_renders_and_outside_text_cannot_become_markup(alert_servers):
    hook, hook_url, room, mail_url = alert_servers
    before_hook, before_mail = len(hook.received), len(room.messages)
    alerter = Alerter([hook_url, mail_url.format(user="")], redactor_for_alerts([]), timeout=20)
    message = "answered 500: <script>alert(1)</script> [click](https://evil.test/) *now* `x` & &amp; | a_b"
    incident = Incident(1, "smoke.login", "fail", "errors", time.time() - 60, time.time(), None, message)
    alert = compose(
        "open", incident, "https://www.example.test/", "https://status.example.test/a b", time.time()
    )
    assert alerter.send(1, alert) is None
    assert alerter.send(2, alert) is None
    body = hook.received[before_hook]["message"]
    assert (
        "- **Last message:** answered 500: \\<script\\>alert(1)\\</script\\> \\[click\\](https://evil.test/)"
        in body
    )
    html = email_html(room.messages[before_mail][1])
    assert "<ul>" in html
    assert "<li><strong>Kind:</strong> errors (a 5xx or a wrong answer)</li>" in html
    assert '<a href="https://status.example.test/a%20b">' in html  # the dashboard, a link
    assert "<script>" not in html
    assert 'href="https://evil.test/"' not in html  # a message is text: no link, no markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "*now*" in html
    assert "a_b" in html


def test_a_history_lost_mid_watch_is_said_with_its_host_port_and_database_and_no_password(
    postgres_url, tmp_path
):
    """The review: `[redacted]ql+psycopg://[redacted][redacted]@[redacted]432/lg`. The URL with its password
    is in the environment (a secret-named variable), as a real deployment gives it."""
    server = postgres_url.rsplit("/", 1)[0]
    database = fresh_database(postgres_url, f"m_{new_run_id()[:12]}").rsplit("/", 1)[1]
    port = int(server.rsplit(":", 1)[1])
    with demo.running() as running, forwarder(port) as (front, cut):
        url = f"postgresql://postgres:PgSuperSecret_77@127.0.0.1:{front}/{database}"  # trust: any password
        settings = watch_config(running, [], url)
        lines: list[str] = []

        def say(line):
            lines.append(line)
            if line.startswith("round 1 at"):
                cut()  # the store goes away

        run_watch(
            settings, rounds=2, say=say, environ={"LAUNCH_GATE_HISTORY__URL": url}, handle_signals=False
        )
    [lost] = [line for line in lines if "could not record the run" in line]
    assert (
        f"the history at postgresql+psycopg://postgres:[redacted]@127.0.0.1:{front}/{database} could not"
        in lost
    )
    assert "PgSuperSecret" not in "\n".join(lines)


@contextmanager
def forwarder(port):
    """A loopback TCP forwarder to `port`; `cut()` closes it and every connection through it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(20)
    listener.settimeout(0.1)
    open_sockets: list[socket.socket] = []
    stop = threading.Event()

    def pump(source, sink):
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def accept():
        while not stop.is_set():
            try:
                client = listener.accept()[0]
            except OSError:
                continue
            upstream = socket.create_connection(("127.0.0.1", port))
            open_sockets.extend([client, upstream])
            threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client), daemon=True).start()

    def cut():
        stop.set()
        thread.join()
        listener.close()
        for end in open_sockets:
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], cut
    finally:
        if not stop.is_set():
            cut()
