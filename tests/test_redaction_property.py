"""Never a piece of a secret: random secrets, placed anywhere, through every reporter, leave no 6-character window.

The example tests beside these pin the cases users reported; these hold the promise for the whole class of
input (any alphabet, any length >= 8, cut anywhere, in bodies, headers, JSON, messages and exception text).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from launch_gate.cli import main
from launch_gate.pytest_plugin.gate import explain
from launch_gate.redact import VOCABULARY, WINDOW, Redactor
from launch_gate.report import github, json_report, markdown, sarif, terminal
from launch_gate.results import CheckResult, Finding, GateReport, Outcome, Phase
from tests.servers import http_server, read_body

# Any alphabet: letters and digits of every script, punctuation, symbols, spaces; no control characters
# (those never survive as text in a report) and no surrogates (not text at all).
ANY = st.characters(exclude_categories=("Cc", "Cs"))
SECRET = st.text(ANY, min_size=8, max_size=40).filter(lambda s: len(s.strip()) >= 8)
ASCII_SECRET = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8, max_size=40)
FEW = settings(max_examples=60, deadline=None)


def leaks(secret: str, text: str) -> list[str]:
    """Every window of `secret` found in `text` (empty: no leak)."""
    return [secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1) if secret[i : i + WINDOW] in text]


def assert_no_piece(secrets: list[str], *outputs: str, vocabulary: str = "") -> None:
    """No window of a secret in any output, unless the output holds it anyway (a report's own words: a
    secret made of "launch-gate" shows "launch-gate" in every report, and that is not a leak)."""
    vocabulary += " ".join(VOCABULARY)  # the words the redactor keeps: check ids, "secrets", "launch-gate"
    for secret in secrets:
        assume(not leaks(secret, vocabulary))
        for output in outputs:
            assert not leaks(secret, output), f"a piece of a secret leaked: {leaks(secret, output)[:3]}"


def every_reporter(report: GateReport) -> list[str]:
    """What every reporter writes for this report (JSON decoded too: its escapes must not hide a leak)."""
    as_json = json_report.to_json(report)
    as_sarif = json.dumps(sarif.to_sarif(report), ensure_ascii=False)
    return [
        terminal.render(report),
        as_json,
        json.dumps(json.loads(as_json), ensure_ascii=False),
        markdown.render(report),
        as_sarif,
        "\n".join(github.annotation_lines(report)),
        *(explain(r) for r in report.results),
    ]


@st.composite
def placed(draw: st.DrawFn, secrets: list[str]) -> tuple[str, str]:
    """Text holding the secrets whole, cut at either end, or in the middle of other text, as a response
    body cut at 160 characters, a JSON error body or an exception message would; and the other text."""
    parts, noise = [], []
    for secret in secrets:
        start = draw(st.integers(0, len(secret) - WINDOW))
        end = draw(st.integers(start + WINDOW, len(secret)))
        shape = draw(st.sampled_from(["plain", "json", "header", "exception"]))
        piece = secret[start:end]
        parts.append(
            {
                "plain": piece,
                "json": json.dumps({"error": "bad token", "token": piece}, ensure_ascii=False),
                "header": f"Authorization: Bearer {piece}",
                "exception": f"RuntimeError: {piece!r} rejected",
            }[shape]
        )
        noise.append(draw(st.text(ANY, max_size=20)))
        parts.append(noise[-1])
    return "".join(parts), " ".join(noise)


def sample_result(message: str, finding: str, step: str) -> CheckResult:
    return CheckResult(
        "smoke.signup",
        Phase.POST,
        Outcome.FAIL,
        message[:160],  # as a failing step shows a response: cut wherever the cut falls
        findings=(Finding(finding, file="app/settings.py", line=3, fingerprint="sha1:0"),),
        metrics={"steps": [{"step": step, "status": 500}]},
    )


def report_vocabulary() -> str:
    """What the reporters write whatever the secrets: headings, keys, the placed shapes' own words."""
    shapes = 'Authorization: Bearer RuntimeError: rejected {"error": "bad token", "token": } [redacted] '
    report = GateReport("post", (sample_result(shapes, "f", "s"),))
    return shapes + "\n".join(every_reporter(report))


@FEW
@given(data=st.data(), secrets=st.lists(SECRET, min_size=1, max_size=3))
def test_no_window_of_a_secret_reaches_any_reporter(data, secrets):
    (message, n1), (finding, n2), (step, n3) = (data.draw(placed(secrets)) for _ in range(3))
    report = GateReport("post", (Redactor(secrets).result(sample_result(message, finding, step)),))
    vocabulary = "\n".join([report_vocabulary(), n1, n2, n3])
    assert_no_piece(secrets, *every_reporter(report), vocabulary=vocabulary)


@FEW
@given(secret=SECRET, noise=st.text(ANY, max_size=60))
def test_text_without_the_secret_is_left_alone(secret, noise):
    assume(not leaks(secret, noise) and "redacted" not in noise)
    assert Redactor([secret]).text(noise) == Redactor([]).text(noise)


class EchoApp:
    """A login that hands out a token, and an endpoint that fails with a body echoing every secret it got,
    at an offset the test chooses, so the 160-character cut of a failing step slices them anywhere."""

    def __init__(self) -> None:
        self.token = ""
        self.offset = 0
        self.seen: list[str] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        data = json.loads(body or b"{}")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["path"] == "/login":
            self.seen.append(data.get("password", ""))
            status, answer = 200, {"token": self.token}
        else:
            echoed = [headers.get("x-api-key", ""), data.get("note", ""), self.token, *self.seen]
            status, answer = (
                500,
                {"error": "x" * self.offset, "echo": echoed, "auth": headers.get("authorization")},
            )
        payload = json.dumps(answer, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": payload})


FLOW = """
target = "http://127.0.0.1:{port}"
environment = "staging"

[smoke]
plus-address = "qa@example.test"

[[smoke.flows.echo.steps]]
method = "POST"
path = "/login"
json = {{ email = "{{user.email}}", password = "{{user.password}}" }}
capture = {{ token = "json:token" }}

[[smoke.flows.echo.steps]]
method = "POST"
path = "/echo"
headers = {{ Authorization = "Bearer {{token}}", X-Api-Key = "{{env.API_KEY}}" }}
json = {{ note = "{{env.NOTE_SECRET}}" }}
"""


@pytest.fixture(scope="module")
def echo_server():
    app = EchoApp()
    with http_server(app) as port:
        yield app, port


def gate_the_echo_flow(echo_server, root, monkeypatch, capsys, token, header, note, offset) -> list[str]:
    """`launch-gate check` on the failing flow, with every report and GitHub Actions file: what it wrote."""
    app, port = echo_server
    app.token, app.offset, app.seen = token, offset, []
    (root / "launch-gate.toml").write_text(FLOW.format(port=port), encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setenv("API_KEY", header)
    monkeypatch.setenv("NOTE_SECRET", note)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(root / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(root / "summary.md"))
    capsys.readouterr()
    code = main(
        ["check", "--phase", "post", "--select", "smoke", "--report-json", "r.json", "--summary-md", "s.md",
         "--sarif", "r.sarif"]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 1, out.out
    assert "smoke.echo" in out.out
    assert "500" in out.out
    assert app.seen, "the flow logged in"
    files = [root / name for name in ("r.json", "s.md", "r.sarif", "out", "summary.md")]
    texts = [out.out, out.err, *(f.read_text(encoding="utf-8") for f in files)]
    texts.append(json.dumps(json.loads(texts[2]), ensure_ascii=False))
    return [re.sub(r"qa\+lg-[0-9a-f-]+@example\.test", "USER", text) for text in texts]  # not a secret


_VOCABULARY: list[str] = []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=ASCII_SECRET, header=ASCII_SECRET, note=SECRET, offset=st.integers(0, 150))
def test_a_failing_flow_prints_no_piece_of_any_secret_in_any_output(
    echo_server, tmp_path_factory, monkeypatch, capsys, token, header, note, offset
):
    if not _VOCABULARY:  # the words every run prints, whatever the secrets
        fixed = ("T" * 12, "H" * 12, "N" * 12)
        texts = gate_the_echo_flow(
            echo_server, tmp_path_factory.mktemp("v"), monkeypatch, capsys, *fixed, 150
        )
        _VOCABULARY.append("\n".join(texts))
    root = tmp_path_factory.mktemp("flow")
    texts = gate_the_echo_flow(echo_server, root, monkeypatch, capsys, token, header, note, offset)
    app, _ = echo_server
    assert_no_piece([token, header, note, *app.seen], *texts, vocabulary=_VOCABULARY[0])


USER_TESTS = """
import warnings

def test_require_in_a_failed_assert(gate_env):
    value = gate_env.require("SHOP_API_KEY")
    assert value == "something else"

def test_a_warning_with_a_token(gate_env):
    warnings.warn("retrying with " + gate_env.require("SHOP_API_KEY")[3:])

def test_a_property_for_junit(gate_env, record_property):
    record_property("key", gate_env.require("SHOP_API_KEY"))

def test_printing_a_secret_named_variable():
    import os
    print("debug:", os.environ["STRIPE_SECRET_KEY"])
    assert os.environ["STRIPE_SECRET_KEY"].startswith("nope")
"""
GATE_CONFIG = """
[tool.launch-gate]
environment = "staging"

[tool.launch-gate.env]
required = ["SHOP_API_KEY"]

[tool.launch-gate.checks]
deps = "off"
secrets = "off"
"""


BROKEN_MODULE = """
import os

raise RuntimeError("bad key " + os.environ["SHOP_API_KEY"])
"""


def run_user_tests(pytester, monkeypatch, api_key: str, stripe: str) -> str:
    pytester.makepyprojecttoml(GATE_CONFIG)
    pytester.makepyfile(test_user=USER_TESTS, test_broken=BROKEN_MODULE)
    monkeypatch.setenv("SHOP_API_KEY", api_key)
    monkeypatch.setenv("STRIPE_SECRET_KEY", stripe)
    junit = Path(pytester.path, "junit.xml")
    with warnings.catch_warnings():
        result = pytester.runpytest_inprocess(
            "--launch-gate",
            "--gate-phase",
            "pre",
            "-rA",
            "-vv",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            "--continue-on-collection-errors",
        )
    result.assert_outcomes(failed=2, passed=4, skipped=8, warnings=2, errors=1)
    output = "\n".join(result.outlines + result.errlines)
    assert "retrying with" in output
    assert "[redacted" in output
    return output + junit.read_text(encoding="utf-8")


_PYTEST_VOCABULARY: list[str] = []


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(api_key=ASCII_SECRET, stripe=ASCII_SECRET)
def test_pytest_reports_carry_no_piece_of_a_secret(pytester, monkeypatch, api_key, stripe):
    assume(not api_key.startswith("nope"))
    assume(not stripe.startswith("nope"))
    if not _PYTEST_VOCABULARY:  # what pytest prints whatever the secrets (plugin versions, timings...)
        _PYTEST_VOCABULARY.append(run_user_tests(pytester, monkeypatch, "Q" * 12, "R" * 12))
    output = run_user_tests(pytester, monkeypatch, api_key, stripe)
    assert_no_piece([api_key, stripe], output, vocabulary=USER_TESTS + GATE_CONFIG + _PYTEST_VOCABULARY[0])
