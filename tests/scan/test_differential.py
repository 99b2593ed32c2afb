"""Differential: launch-gate's findings against detect-secrets' own, on generated files of every file type
detect-secrets treats differently, with a sample secret for every detector in every line shape.

detect-secrets runs in-process through its API (`scan_file` under `default_settings()`: every plugin, the
default filters), on the same file. A difference is a finding one side has and the other has not; the one
documented extra is ours on dotenv files (unquoted values, see `detector.is_dotenv`).

Raw hits are not what users see: the check sets placeholder values aside. So what `judge` reports is
compared too, on values that are placeholders as a whole (`changeme`, which may be set aside) and on real
samples with a placeholder word attached (`todo-…`, which never may).
"""

from __future__ import annotations

import base64
import contextlib
import random
import string
import tempfile
from collections.abc import Callable
from pathlib import Path

from detect_secrets.core.scan import scan_file
from detect_secrets.settings import default_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launch_gate.checks.secrets import Accepted, judge
from launch_gate.secretscan import detector
from launch_gate.secretscan.engine import scan

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
Finding = tuple[str, str, int]  # type, hashed secret, line
# Values that are placeholders as a whole; a finding of one of these (or of a piece of one) may be set aside.
PURE = (
    "changeme", "CHANGE_ME", "<your-key>", "xxxxxxxx", "sk_live_xxxxxxxx", "your-stripe-key", "example-key",
    "TODO", "replace-me", "{{ SECRET }}", "dummy",
)  # fmt: skip
# Placeholder words a real secret may carry (`todo-Xk29…`): such a secret is never set aside.
WORDS = ("todo", "TODO", "your_", "Your_Company_", "example", "xxx", "changeme", "FIXME", "dummy")


def _w(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# One sample per detector detect-secrets ships (and a few per keyword-driven one), made from a seed.
SAMPLES: dict[str, Callable[[random.Random], str]] = {
    "aws": lambda r: "AKIA" + _w(r, string.ascii_uppercase + string.digits, 16),
    "aws-secret": lambda r: _w(r, ALNUM + "/+", 40),
    "artifactory": lambda r: "AKC" + _w(r, ALNUM, 14),
    "azure": lambda r: "DefaultEndpointsProtocol=https;AccountKey=" + _w(r, ALNUM + "+/", 86) + "==",
    "basic-auth": lambda r: f"postgres://app:{_w(r, ALNUM, 14)}@db.internal:5432/app",
    "cloudant": lambda r: f"https://acct:{_w(r, HEX, 64)}@acct.cloudant.com",
    "discord": lambda r: "M" + _w(r, ALNUM, 23) + "." + _w(r, ALNUM, 6) + "." + _w(r, ALNUM, 27),
    "github": lambda r: "ghp_" + _w(r, ALNUM, 36),
    "gitlab": lambda r: "glpat-" + _w(r, ALNUM, 20),
    "hex": lambda r: _w(r, HEX, 40),
    "base64": lambda r: _w(r, ALNUM + "+/", 44),
    "ibm-iam": lambda r: _w(r, ALNUM + "_-", 44),
    "ibm-cos": lambda r: _w(r, HEX, 48),
    # detect-secrets' own filters drop every IPv4 address (no letters: is_not_alphanumeric_string), so this
    # sample shows only that we drop them too.
    "ip": lambda r: f"{r.randint(11, 99)}.{r.randint(1, 254)}.{r.randint(1, 254)}.{r.randint(1, 254)}",
    "jwt": lambda r: ".".join(
        [_b64(b'{"alg":"HS256","typ":"JWT"}'), _b64(b'{"sub":"%d"}' % r.randint(0, 10**9)), _w(r, ALNUM, 43)]
    ),
    "word": lambda r: _w(r, string.ascii_lowercase, 6) + _w(r, string.digits, 3),
    "mailchimp": lambda r: _w(r, HEX, 32) + "-us" + str(r.randint(1, 20)),
    "npm": lambda r: "//registry.npmjs.org/:_authToken=npm_" + _w(r, ALNUM, 36),
    "openai": lambda r: "sk-" + _w(r, ALNUM, 20) + "T3Blbk" + "FJ" + _w(r, ALNUM, 20),
    "private-key": lambda r: "-----BEGIN RSA " + "PRIVATE KEY-----",
    "pypi": lambda r: "pypi-AgEIcHlwaS5vcmc" + _w(r, ALNUM + "-_", 72),
    "sendgrid": lambda r: "SG." + _w(r, ALNUM, 22) + "." + _w(r, ALNUM, 43),
    "slack": lambda r: f"xoxb-{r.randint(10**9, 10**10)}-{_w(r, HEX, 24)}",
    "slack-hook": lambda r: (
        f"https://hooks.slack.com/services/T{_w(r, ALNUM, 8)}/B{_w(r, ALNUM, 8)}/{_w(r, ALNUM, 24)}"
    ),
    "softlayer": lambda r: _w(r, string.ascii_lowercase + string.digits, 64),
    "square": lambda r: "sq0csp-" + _w(r, ALNUM, 43),
    "stripe": lambda r: "sk_" + "live_" + _w(r, ALNUM, 24),
    "telegram": lambda r: f"{r.randint(10**8, 10**9)}:{_w(r, ALNUM, 35)}",
    "twilio": lambda r: "AC" + _w(r, string.ascii_lowercase + string.digits, 32),
    "placeholder": lambda r: r.choice(PURE),
}
KEYS = (
    "password", "DB_PASSWORD", "api_key", "apiKey", "secret", "token", "STRIPE_SECRET_KEY", "auth",
    "aws_secret_access_key", "client_secret", "ibm_cloud_iam_api_key", "cos_secret_access_key",
    "softlayer_api_key", "cloudant_password", "url", "value", "x", "passwd", "private_key", "contraseña",
)  # fmt: skip
# Detectors that look for a key name as well as the value: half the time, the key they look for.
PAIRED = {
    "aws-secret": "aws_secret_access_key",
    "ibm-iam": "ibm_cloud_iam_api_key",
    "ibm-cos": "cos_secret_access_key",
    "softlayer": "softlayer_api_key",
    "word": "password",
    "placeholder": "password",
}
QUOTES = ("", '"', "'")
SHAPES = (
    "{k} = {q}{v}{q}",
    "{k}={q}{v}{q}",
    "{k}: {q}{v}{q}",
    "export {k}={q}{v}{q}",
    "{k} := {q}{v}{q}",
    '"{k}": {q}{v}{q},',
    "${k} = {q}{v}{q};",
    "<{k}>{v}</{k}>",
    "ENV {k}={q}{v}{q}",
    "{k} {v}",
    "- {k}={v}",
    "{q}{v}{q}",
    "{k} => {q}{v}{q},",
    "{k} = {q}{v}{q}  # set by ops",
    "{k}: |\n{i}  {v}\n{i}  more",
    "{k} =\n{i}    {v}",
    "{k} = {q}{v}{q}  # pragma: allowlist secret",
)
FILLERS = (
    "", "# settings", "x = 1", "name: app", "[extra]", "def view(request): return 1", "  - item",
    "version: '3.8'", "debug = false", "<config>", "}", "image: postgres:16", "\x0c", "a\u2028b",
    "# pragma: allowlist nextline secret", "clé = 'naïve'",
)  # fmt: skip
NAMES = (
    "docker-compose.yml", "values.yaml", "config.json", "setup.cfg", "app.ini", "entry_points.txt",
    "pyproject.toml", "settings.py", "app.js", "client.ts", "deploy.sh", ".env", "prod.env", "README.md",
    "web.xml", "index.php", "main.go", "App.java", "app.rb", "main.tf", "Dockerfile", "LICENSE",
    "app.properties", "nginx.conf", ".env.example", "Makefile",
)  # fmt: skip


@st.composite
def secret_lines(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 2**32)))
    kind = draw(st.sampled_from(sorted(SAMPLES)))
    keys = st.sampled_from(KEYS)
    key = draw(st.one_of(st.just(PAIRED[kind]), keys) if kind in PAIRED else keys)
    indent = draw(st.sampled_from(("", "  ", "    ", "\t")))
    value = SAMPLES[kind](rng)
    if kind != "placeholder" and draw(st.integers(0, 3)) == 0:  # a real secret with a placeholder word on it
        word, sep = draw(st.sampled_from(WORDS)), draw(st.sampled_from(("-", "_", "", ".")))
        value = f"{word}{sep}{value}" if draw(st.booleans()) else f"{value}{sep}{word.rstrip('_')}"
    line = draw(st.sampled_from(SHAPES)).format(k=key, q=draw(st.sampled_from(QUOTES)), v=value, i=indent)
    return indent + line


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, str]:
    """(file name, text): secret lines among fillers, laid out as plain lines, INI, nested YAML or JSON."""
    lines = draw(st.lists(st.one_of(secret_lines(), st.sampled_from(FILLERS)), min_size=1, max_size=8))
    layout = draw(st.sampled_from(("plain", "ini", "yaml", "json")))
    if layout == "ini":
        lines = ["[app]", *(line.lstrip() for line in lines)]
    elif layout == "yaml":
        lines = ["services:", "  web:", "    environment:", *("      " + line.lstrip() for line in lines)]
    elif layout == "json":
        lines = ["{", *("  " + line.strip() for line in lines), '  "end": 1', "}"]
    newline = draw(st.sampled_from(("\n", "\r\n")))
    return draw(st.sampled_from(NAMES)), newline.join(lines) + draw(st.sampled_from((newline, "")))


def planted_placeholder(value: str) -> bool:
    """Whether a detected value is a generated whole placeholder (or a piece of one): only these may be set
    aside; every other value the generator plants is a real secret, placeholder word or not."""
    core = value.strip(" \t\"'`,;")
    return bool(core) and any(core.lower() in whole.lower() for whole in PURE)


def theirs_valued(name: str) -> dict[Finding, str]:
    """What `detect-secrets scan` reports for the file, one finding per (type, secret) at its first line,
    each with the secret's value."""
    first: dict[tuple[str, str], tuple[int, str]] = {}
    with default_settings():
        for secret in scan_file(name):
            key = (secret.type, secret.secret_hash)
            seen = first.get(key)
            if seen is None or secret.line_number < seen[0]:
                first[key] = (secret.line_number, secret.secret_value or "")
    return {(t, h, line): value for (t, h), (line, value) in first.items()}


def theirs(name: str) -> set[Finding]:
    return set(theirs_valued(name))


def ours(path: Path, name: str) -> set[Finding]:
    return {(h.type, h.hashed_secret, h.line) for h in scan([(path, name)]).hits}


def reported(path: Path, name: str) -> set[str]:
    """The hashes of the secrets the check reports (placeholders set aside), as `judge` words its findings."""
    verdict = judge(scan([(path, name)]), Accepted(), "the file", "")
    return {f.fingerprint.removeprefix("sha1:") for f in verdict.findings if f.fingerprint}


def both(name: str, text: str) -> tuple[set[Finding], set[Finding]]:
    """(detect-secrets', launch-gate's) findings for one file, written to a scratch directory."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        Path(tmp, name).write_bytes(text.encode())
        return theirs(name), ours(Path(tmp, name), name)


def differences(name: str, text: str) -> tuple[set[Finding], set[Finding]]:
    """(missed, extra) of launch-gate against detect-secrets for one file."""
    expected, found = both(name, text)
    if detector.is_dotenv(name):  # our documented addition: unquoted dotenv values, maybe on earlier lines
        pairs = {(t, h) for t, h, _ in found}
        return {f for f in expected if (f[0], f[1]) not in pairs}, set()
    return expected - found, found - expected


def hidden(name: str, text: str) -> tuple[set[str], int]:
    """(real secrets detect-secrets reports that the check does not, how many findings it set aside)."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        Path(tmp, name).write_bytes(text.encode())
        expected, shown = theirs_valued(name), reported(Path(tmp, name), name)
    real = {h for (_, h, _), value in expected.items() if not planted_placeholder(value)}
    return real - shown, len({h for _, h, _ in expected} - shown)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_findings_equal_detect_secrets_own(document: tuple[str, str]) -> None:
    name, text = document
    missed, extra = differences(name, text)
    assert (missed, extra) == (set(), set())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_the_check_reports_every_real_secret_detect_secrets_reports(document: tuple[str, str]) -> None:
    """Setting placeholders aside never hides a real secret, whatever placeholder word it carries."""
    missing, _ = hidden(*document)
    assert missing == set()


def compose_file(stripe: str, aws: str) -> str:
    return (
        'version: "3.8"\nservices:\n  web:\n    image: coachly/web:latest\n    environment:\n'
        f"      STRIPE_SECRET_KEY: {stripe}\n      AWS_ACCESS_KEY_ID: {aws}\n"
        "      DB_PASSWORD: hunter2hunter2\n  db:\n    image: postgres:16\n"
    )


def test_the_reported_docker_compose_file_is_found_like_detect_secrets_finds_it() -> None:
    rng = random.Random(5)
    text = compose_file(SAMPLES["stripe"](rng), SAMPLES["aws"](rng))
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        Path(tmp, "docker-compose.yml").write_text(text)
        found = ours(Path(tmp, "docker-compose.yml"), "docker-compose.yml")
        assert found == theirs("docker-compose.yml")
    assert {(t, line) for t, _, line in found} >= {
        ("Stripe Access Key", 6),
        ("AWS Access Key", 7),
        ("Secret Keyword", 8),
    }


def test_an_ini_file_is_found_like_detect_secrets_finds_it() -> None:
    rng = random.Random(6)
    text = (
        "[metadata]\nname = coachly\n\n[options]\n"
        f"api_key = {SAMPLES['aws-secret'](rng)}\npassword = {SAMPLES['word'](rng)}\n"
    )
    for name in ("setup.cfg", "app.ini", "entry_points.txt"):
        assert differences(name, text) == (set(), set())
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        Path(tmp, "setup.cfg").write_text(text)
        lines = {(t, line) for t, _, line in ours(Path(tmp, "setup.cfg"), "setup.cfg")}
    assert {("Secret Keyword", 5), ("Secret Keyword", 6)} <= lines


def test_unquoted_key_value_lines_after_the_first_are_found() -> None:
    rng = random.Random(8)
    text = f"name = coachly\npassword = {SAMPLES['word'](rng)}\nnote = ok\n"
    for name in ("notes.txt", "settings", "app.conf"):
        expected, found = both(name, text)
        assert found == expected
        assert ("Secret Keyword", 2) in {(t, line) for t, _, line in found}


def count(examples: int) -> None:
    """Print how many generated files differ, and by how many findings (for the notes, not for CI)."""
    from hypothesis import Phase

    totals = {"files": 0, "differing": 0, "missed": 0, "extra": 0, "theirs": 0, "set_aside": 0, "hidden": 0}

    @settings(max_examples=examples, deadline=None, phases=[Phase.generate], database=None)
    @given(documents())
    def tally(document: tuple[str, str]) -> None:
        missed, extra = differences(*document)
        totals["theirs"] += len(both(*document)[0])
        totals["files"] += 1
        totals["differing"] += bool(missed or extra)
        totals["missed"] += len(missed)
        totals["extra"] += len(extra)
        missing, set_aside = hidden(*document)
        totals["hidden"] += len(missing)
        totals["set_aside"] += set_aside

    tally()
    print(totals)


if __name__ == "__main__":
    import sys

    count(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
