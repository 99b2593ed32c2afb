"""`launch-gate watch` against the demo: a fault switched on and off gives exactly one alert and one recovery,
at a loopback webhook and by email (over SQLite and a real PostgreSQL); a slow route is its own incident; a
failed delivery is recorded and retried without stopping the watch; a crashed round is recorded; SIGTERM
stops it cleanly; no secret reaches an alert (property test); demo --serve --fault-control switches faults."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from email import message_from_string
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.history import History, Incident, new_run_id
from launch_gate.redact import WINDOW
from launch_gate.watch import Alerter, Watcher, compose, run_watch
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
    assert "Check: domain.redirects" in opened
    assert "Since: " in opened
    assert "answers 500" in opened  # the last message
    assert "Dashboard: https://status.example.test/" in opened
    assert [rcpts for rcpts, _ in room.messages] == [["oncall@example.test"]] * 2
    assert "failing" in room.messages[0][1]
    assert "recovered" in room.messages[1][1]
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
