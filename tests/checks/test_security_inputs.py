"""security.inputs: the demo's API against schemathesis's invalid requests, and declared endpoints against the
fixed malformed bodies, all on loopback; what the servers received is what the tests assert."""

import asyncio
import json
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from launch_gate.apiprobe.curl import reproduction
from launch_gate.apiprobe.malformed import MALFORMED
from launch_gate.demo import apidoc
from launch_gate.demo.site import APEX, CANONICAL, Edge
from tests.checks.conftest import UNREACHABLE
from tests.conftest import base_env, run_check, run_cli
from tests.servers import http_server, tls_server

CHECK = "security.inputs"
DEMO_INPUTS = '[security.inputs]\nopenapi = "/openapi.json"\nmethods = ["GET", "POST"]\nexamples = 5\n'


class Recorder:
    """ASGI middleware: every request's method, path, content type and body, then the app's answer."""

    def __init__(self, app):
        self.app, self.seen = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.seen.append((scope["method"], scope["path"], headers.get("content-type", ""), body))
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def methods(self):
        return {method for method, *_ in self.seen}


@contextmanager
def demo_site(tmp_path, faults=()):
    """The demo's site (edge and app) over https on loopback, behind a Recorder; yields (site, recorder,
    the settings that reach it)."""
    site = Edge(faults=set(faults))
    recorder = Recorder(site)
    with (
        http_server(recorder) as plain,
        tls_server(recorder, [CANONICAL, APEX], tmp_path / "tls") as (tls, ca),
    ):
        routes = ", ".join(
            f'"{h}:{p}:127.0.0.1:{to}"' for h in (CANONICAL, APEX) for p, to in ((80, plain), (443, tls))
        )
        yield (
            site,
            recorder,
            f'target = "https://{CANONICAL}/"\n[net]\nconnect-to = [{routes}]\nca-bundle = "{ca}"\nprobe-timeout = 3\n',
        )


def gate(project, config):
    """The check against `config`, for a staging deployment unless it names another environment."""
    staging = "" if config.startswith("environment") else 'environment = "staging"\n'
    return run_check(project({"launch-gate.toml": staging + config}), CHECK)


def json_api(crash=False):
    """A JSON endpoint that refuses what it cannot use with a 4xx, or (crash) fails with a 500 and a stack
    trace on what is not a JSON object."""

    async def app(scope, receive, send):
        body = (await receive()).get("body", b"")
        try:
            payload = json.loads(body)
            status, answer = (
                (422, b'{"error": "email and password, please"}')
                if isinstance(payload, dict)
                else (400, b"{}")
            )
        except ValueError:
            status, answer = (
                (500, b'Traceback (most recent call last):\n  File "api.py", line 9')
                if crash
                else (400, b"{}")
            )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    return app


# --- with the app's OpenAPI document: schemathesis ---


def test_the_clean_demo_answers_invalid_input_with_4xx_and_passes(project, tmp_path):
    with demo_site(tmp_path) as (site, recorder, config):
        result = gate(project, config + DEMO_INPUTS)
    assert result.outcome == "pass", result.message
    assert result.metrics["operations"] == 8  # every GET and POST of the document
    assert result.metrics["requests"] == len(recorder.seen) - 1  # and the document's own fetch
    assert {path for _, path, *_ in recorder.seen} >= {
        "/openapi.json",
        "/api/signup",
        "/api/coaches",
        "/health",
    }
    assert site.users == {}, "invalid input created no user"
    assert site.bookings == {}


def test_a_signup_that_crashes_on_a_malformed_body_fails_naming_the_route_and_the_status(project, tmp_path):
    with demo_site(tmp_path, ["input-500"]) as (_, recorder, config):
        result = gate(project, config + DEMO_INPUTS)
    assert result.outcome == "fail", result.message
    assert result.message.startswith("POST /api/signup answered 500 with a stack trace"), result.message
    assert "curl" in result.message
    assert "https://www.example.test/api/signup" in result.message
    signups = [body for method, path, _, body in recorder.seen if (method, path) == ("POST", "/api/signup")]
    assert len(signups) == 1, "the operation stops at its first wrong answer"


def test_only_safe_methods_are_sent_unless_methods_allows_more(project, tmp_path):
    with demo_site(tmp_path, ["input-500"]) as (_, recorder, config):
        result = gate(project, config + '[security.inputs]\nopenapi = "/openapi.json"\nexamples = 3\n')
    assert result.outcome == "pass", result.message  # the crashing signup is a POST: not sent
    assert recorder.methods() == {"GET"}
    assert result.metrics["operations"] == 5


def test_writes_are_not_sent_against_production(project, tmp_path):
    with demo_site(tmp_path, ["input-500"]) as (_, recorder, config):
        result = gate(project, 'environment = "production"\n' + config + DEMO_INPUTS)
    assert result.outcome == "pass", result.message
    assert recorder.methods() == {"GET"}
    assert "(POST not sent: environment 'production' is production)" in result.message


def test_an_answer_that_breaks_the_document_fails(project, tmp_path):
    """A document (a file in the project) that says coach ids are strings: the app's integers break it."""
    document = json.loads(json.dumps(apidoc.OPENAPI))
    document["components"]["schemas"]["Coach"]["properties"]["id"] = {"type": "string"}
    (tmp_path / "spec.json").write_text(json.dumps(document), encoding="utf-8")
    with demo_site(tmp_path) as (_, recorder, config):
        result = gate(project, config + '[security.inputs]\nopenapi = "spec.json"\nexamples = 3\n')
    assert result.outcome == "fail", result.message
    assert result.message.startswith("GET /api/coaches answered 200, which breaks the document"), (
        result.message
    )
    assert "/openapi.json" not in {path for _, path, *_ in recorder.seen}, "the file was read, not the URL"


def test_an_unreachable_document_is_could_not_verify(project):
    result = gate(project, UNREACHABLE + '[security.inputs]\nopenapi = "/openapi.json"\n')
    assert result.outcome == "error", result.message
    assert result.message.startswith(
        "could not verify: the OpenAPI document at https://www.example.test/openapi.json could not be fetched"
    )


def test_a_document_the_app_does_not_serve_is_could_not_verify(project, tmp_path):
    with demo_site(tmp_path) as (_, recorder, config):
        result = gate(project, config + '[security.inputs]\nopenapi = "/api/openapi.yaml"\n')
    assert result.outcome == "error", result.message
    assert "/api/openapi.yaml answered 404" in result.message
    assert len(recorder.seen) == 1


def test_the_budget_caps_the_requests_and_says_what_was_left_untried(project, tmp_path):
    with demo_site(tmp_path) as (_, recorder, config):
        result = gate(project, config + DEMO_INPUTS + "max-requests = 4\n")
    assert len(recorder.seen) == 1 + 4  # the document, then the budget
    assert result.outcome == "warn", result.message
    assert "not tried within [security.inputs] max-time / max-requests" in result.message


def test_without_schemathesis_a_document_is_a_configuration_error_that_says_how_to_install_it(project):
    root = project({"launch-gate.toml": UNREACHABLE + '[security.inputs]\nopenapi = "/openapi.json"\n'})
    code = (
        "import sys, runpy\nsys.modules['schemathesis'] = None\n"
        f"sys.argv = ['launch-gate', 'check', '--phase', 'post', '--select', '{CHECK}']\n"
        "runpy.run_module('launch_gate', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "pip install 'launch-gate[api]'" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_the_command_leaves_no_hypothesis_directory_in_the_project(project, tmp_path):
    """Hypothesis caches tables under `.hypothesis/` in the working directory: not in the user's project."""
    with demo_site(tmp_path) as (_, recorder, config):
        root = project({"launch-gate.toml": 'environment = "staging"\n' + config + DEMO_INPUTS})
        cache = tmp_path / "cache"
        done = run_cli(
            "check", "--phase", "post", "--select", CHECK, cwd=root, env=base_env(XDG_CACHE_HOME=str(cache))
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(recorder.seen) > 40
    assert not (root / ".hypothesis").exists()
    assert (cache / "launch-gate" / "hypothesis").is_dir()


# --- without a document: the fixed malformed bodies ---


def endpoints_config(port, *endpoints):
    listed = ", ".join(f'"{e}"' for e in endpoints)
    return f'target = "http://127.0.0.1:{port}/"\n[net]\nprobe-timeout = 3\n[security.inputs]\nendpoints = [{listed}]\n'


def test_without_a_document_each_endpoint_receives_the_fixed_malformed_bodies(project):
    recorder = Recorder(json_api())
    with http_server(recorder) as port:
        result = gate(project, endpoints_config(port, "POST /api/signup", "put /api/items/7"))
    assert result.outcome == "pass", result.message
    expected = [(m.content_type, m.body) for m in MALFORMED]
    assert [(ct, body) for method, path, ct, body in recorder.seen if path == "/api/signup"] == expected
    assert {method for method, path, *_ in recorder.seen if path == "/api/items/7"} == {"PUT"}
    assert len(recorder.seen) == 2 * len(MALFORMED)
    names = {m.name for m in MALFORMED}
    assert {
        "bad JSON (cut short)",
        "fields of the wrong type",
        "an empty object (every field missing)",
    } <= names
    assert max(len(m.body) for m in MALFORMED) < 256 * 1024


def test_without_the_api_extra_declared_endpoints_are_still_probed(project):
    with http_server(Recorder(json_api(crash=True))) as port:
        root = project({"launch-gate.toml": 'environment = "staging"\n' + endpoints_config(port, "POST /a")})
        code = (
            "import sys, runpy\nsys.modules['schemathesis'] = sys.modules['hypothesis'] = None\n"
            f"sys.argv = ['launch-gate', 'check', '--phase', 'post', '--select', '{CHECK}']\n"
            "runpy.run_module('launch_gate', run_name='__main__')\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "POST /a answered 500" in done.stdout


def test_without_a_document_a_5xx_with_a_stack_trace_fails_naming_the_endpoint_and_the_body(project):
    with http_server(Recorder(json_api(crash=True))) as port:
        result = gate(project, endpoints_config(port, "POST /api/signup"))
    assert result.outcome == "fail", result.message
    assert result.message.startswith(
        "POST /api/signup answered 500 with a stack trace ('Traceback (most recent call last)') to bad JSON"
    ), result.message
    assert "--data-binary '{\"launch-gate\": '" in result.message


def test_max_time_bounds_the_probing_of_a_slow_api(project):
    async def slow(scope, receive, send):
        await asyncio.sleep(0.25)
        await json_api()(scope, receive, send)

    recorder = Recorder(slow)
    with http_server(recorder) as port:
        started = time.monotonic()
        result = gate(project, endpoints_config(port, "POST /a", "POST /b") + "max-time = 1\n")
        took = time.monotonic() - started
    assert result.outcome == "warn", result.message
    assert len(recorder.seen) <= 6  # 1 s of 0.25 s requests, and the one under way
    assert {path for _, path, *_ in recorder.seen} == {"/a"}
    assert took < 4


def test_a_write_that_takes_a_malformed_body_is_reported_not_failed(project):
    async def accepting(scope, receive, send):
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    with http_server(Recorder(accepting)) as port:
        result = gate(project, endpoints_config(port, "POST /api/bookings"))
    assert result.outcome == "pass", result.message
    assert f"{len(MALFORMED)} writes took a malformed body with a 2xx" in result.message
    assert "accepted: POST /api/bookings took bad JSON (cut short) with 201" in [
        f.message for f in result.findings
    ]


def test_an_endpoint_that_does_not_answer_is_could_not_verify(project):
    result = gate(
        project,
        'target = "http://127.0.0.1:9/"\n[net]\nprobe-timeout = 2\n'
        '[security.inputs]\nendpoints = ["POST /api/signup"]\n',
    )
    assert result.outcome == "error", result.message
    assert result.message.startswith("could not verify: POST /api/signup gave no answer"), result.message


def test_without_a_document_or_endpoints_the_check_is_skipped_saying_what_to_set(project):
    result = gate(project, UNREACHABLE)
    assert result.outcome == "skip"
    assert "[security.inputs] openapi" in result.message


def test_an_endpoint_that_is_not_method_and_path_is_a_configuration_error(project):
    done = subprocess.run(
        [sys.executable, "-m", "launch_gate", "check", "--phase", "post", "--select", CHECK],
        cwd=project({"launch-gate.toml": UNREACHABLE + '[security.inputs]\nendpoints = ["/api/signup"]\n'}),
        env=base_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    assert 'must be "METHOD /path"' in done.stderr
    assert "Traceback" not in done.stderr


# --- reproductions: never a credential ---

SENSITIVE = ["Authorization", "Cookie", "X-Api-Key", "X-Auth-Token", "Proxy-Authorization", "X-CSRF-Token"]


@settings(max_examples=50, deadline=None)
@given(
    name=st.sampled_from(SENSITIVE),
    value=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=40),
    body=st.binary(max_size=50) | st.none(),
)
def test_a_reproduction_never_carries_a_credential_header_or_query_value(name, value, body):
    def command_with(secret):
        url = (
            f"https://www.example.test/api/items?api_key={quote(secret, safe='')}&q=x"  # as a client sends it
        )
        return reproduction(
            "POST", url, [(name, secret), ("Accept", "*/*")], body, ["www.example.test:443::8443"]
        )

    command, baseline = command_with(value), command_with("z")
    windows = {text[i : i + 6] for text in (value, quote(value, safe="")) for i in range(len(text) - 5)}
    leaked = {w for w in windows if w in command and w not in baseline}
    assert leaked == set(), (command, value)
    assert f"{name}: [redacted]" in command
    assert "api_key=[redacted]" in command
