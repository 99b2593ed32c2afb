"""A registered secret is masked in the encodings a server or a client gives it (URL, JSON, base64 and the
`Basic base64(email:password)` of a login), whole or cut; and redaction stays linear on long text."""

import base64
import json
import re
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from launch_gate.redact import VOCABULARY, Redactor, base64_forms, scrub
from launch_gate.results import Outcome
from tests.conftest import run_check
from tests.servers import http_server, read_body

EMAIL = "qa+lg-20261205-abc123@example.test"
# Any text with the characters encodings treat specially, and any letter of any script.
SECRET = st.text(
    st.one_of(st.sampled_from('+/=@:%&?#"\\ é中😀'), st.characters(exclude_categories=("Cc", "Cs"))),
    min_size=8,
    max_size=32,
).filter(lambda s: len(set(s)) >= 4)
PIECE = 8


def encodings(secret: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (the text a server writes, the parts of it that come from the secret alone)."""
    basic = base64.b64encode(f"{EMAIL}:{secret}".encode()).decode()
    ours = [f for f in base64_forms(secret) if f in basic]
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), quote(secret, safe=""))
    return {
        "as written": (secret, [secret]),
        "URL-encoded": (quote(secret, safe=""), [quote(secret, safe="")]),
        "URL-encoded, lower-case hex": (lower, [lower]),
        "form-encoded": (quote_plus(secret), [quote_plus(secret)]),
        "JSON-escaped": (json.dumps(secret)[1:-1], [json.dumps(secret)[1:-1]]),
        "JSON-escaped, unicode": (json.dumps(secret, ensure_ascii=False)[1:-1], [secret]),
        "base64": (base64.b64encode(secret.encode()).decode(), [base64.b64encode(secret.encode()).decode()]),
        "Basic base64(email:password)": (f"Basic {basic}", ours),
    }


def pieces(text: str) -> set[str]:
    return {text[i : i + PIECE] for i in range(len(text) - PIECE + 1)}


@settings(max_examples=50, deadline=None)
@given(
    secret=SECRET,
    name=st.sampled_from(sorted(encodings("x" * 8))),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_a_secret_in_any_encoding_leaves_no_piece_in_the_redacted_text(secret, name, before, after):
    """The promise: whatever surrounds it, neither the secret nor its encoding nor any 8-character piece of
    either (of what in it comes from the secret alone) survives `Redactor.text`."""
    text, own = encodings(secret)[name]
    assume(not any(piece in " ".join(VOCABULARY) for piece in pieces(secret)))
    out = Redactor([secret]).text(f"{before}{text}{after}")
    for part in {secret, *own}:
        left = pieces(part) & pieces(out)
        assert not left - pieces(before + after + "[redacted]"), (name, left)


def test_a_login_echo_in_a_failing_step_shows_no_base64_of_the_password(project):
    """The reviewer's case: a login that answers 503 with `credentials seen: Basic base64(email:password)`."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        data = json.loads(body)
        seen = base64.b64encode(f"{data['email']}:{data['password']}".encode())
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b"login disabled; credentials seen: Basic " + seen})

    with http_server(app) as port:
        root = project(
            {
                "launch-gate.toml": f"""environment = "staging"
target = "http://127.0.0.1:{port}"
[smoke]
catch-all-domain = "example.test"
[[smoke.flows.login.steps]]
method = "POST"
path = "/login"
json = {{ email = "{{user.email}}", password = "{{user.password}}" }}
"""
            }
        )
        result = run_check(root, "smoke.login")
    assert result.outcome is Outcome.FAIL
    assert "credentials seen: Basic " in result.message
    shown = result.message.split("Basic ", 1)[1]
    assert "[redacted" in shown  # the password's part of the base64 is masked
    assert re.match(r"[A-Za-z0-9+/]*\[redacted #[0-9a-f]+\][A-Za-z0-9+/=]{0,3}(?:\s|$)", shown), shown


@pytest.mark.timeout(60)  # linear: well under a second; the quadratic rule took minutes (20 KB: 2 s)
def test_a_long_lowercase_text_is_redacted_whole_and_unchanged():
    """The URL-credentials rule reads a long word once (it used to retry it from every letter); the result
    is asserted, and credentials after a run that starts with digits are still found."""
    text = "abcdefghijklmnopqrstuvwxyz" * 8000  # 208 KB
    assert scrub(text) == text
    assert Redactor(["Lg-secret-value-9a!"]).text(text) == text
    assert scrub("see 1postgres://app:hunter22@db/app") == "see 1postgres://app:[redacted]@db/app"
