"""Reproductions: a request as the curl command that sends it again, with nothing secret in it.

Header values whose names say they carry credentials (Authorization, Cookie, API keys, tokens) and query
values with such names become `[redacted]`; the rest is scrubbed of secret-shaped text before a long body is
cut, so no piece of a secret survives the cut. The gate's connect-to and CA bundle are public settings and
are kept: the command reaches the same server the gate did.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from launch_gate.net.addresses import ConnectTo
from launch_gate.redact import scrub

SENSITIVE = re.compile(
    r"(?i)auth|cookie|token|secret|session|key|passw|pwd|signature|credential|csrf|xsrf|bearer|jwt"
)
# What any client sends, and what the reader does not need to repeat the request.
NOT_SHOWN = frozenset(
    {
        "user-agent",
        "accept-encoding",
        "accept",
        "connection",
        "content-length",
        "host",
        "x-schemathesis-testcaseid",
    }
)
BODY_SHOWN = 600  # characters (or bytes, for a binary body) of a body the command carries
MARGIN = 4096  # characters past the cut that are scrubbed with it: longer than any secret's shape
URL_SHOWN = 2000  # characters of a URL (a generated query string can be long)
VALUE_SHOWN = 200  # characters of a header's value
REDACTED = "[redacted]"


def redacted_url(url: str) -> str:
    """`url` with the values of query parameters that have sensitive names replaced."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = []
    for pair in parts.query.split("&"):
        name, eq, _ = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if eq and SENSITIVE.search(name) else pair)
    return urlunsplit(parts._replace(query="&".join(pairs)))


def _routes(url: str, connect_to: Iterable[str]) -> list[str]:
    """The connect-to entries that apply to `url`'s host and port (the first that matches, as curl takes)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for entry in connect_to:
        route = ConnectTo.parse(entry)
        if route.matches(parts.hostname or "", port):
            return [entry]
    return []


def _body_arguments(body: bytes) -> tuple[list[str], str, str]:
    """curl's arguments for `body`, a shell prefix that feeds it (binary bodies), and a note when it was cut."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\n\r\t" for c in text):
        # Redact before cutting (a secret cut in half may no longer look like one), within a margin: scrub's
        # patterns take time that grows faster than the text, and a body may be hundreds of kilobytes.
        shown = scrub(text[: BODY_SHOWN + MARGIN])[:BODY_SHOWN]
        note = f"  # body cut: {BODY_SHOWN} of {len(text)} characters shown" if len(text) > BODY_SHOWN else ""
        return ["--data-binary", shown], "", note
    note = f"  # body cut: {BODY_SHOWN} of {len(body)} bytes shown" if len(body) > BODY_SHOWN else ""
    escaped = "".join(f"\\x{b:02x}" for b in body[:BODY_SHOWN])
    return ["--data-binary", "@-"], f"printf '%b' {shlex.quote(escaped)} | ", note


def reproduction(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    connect_to: Iterable[str] = (),
    ca_bundle: Path | None = None,
) -> str:
    """A curl command that repeats the request, with no credential in it."""
    parts = ["curl", "-sS", "-i"]
    parts += ["--head"] if method == "HEAD" else ["-X", method] if method != "GET" or body else []
    for name, value in headers:
        if name.lower() not in NOT_SHOWN:
            parts += ["-H", f"{name}: {REDACTED if SENSITIVE.search(name) else value[:VALUE_SHOWN]}"]
    parts += [arg for entry in _routes(url, connect_to) for arg in ("--connect-to", entry)]
    if ca_bundle is not None:
        parts += ["--cacert", str(ca_bundle)]
    prefix, note = "", ""
    if body:
        data, prefix, note = _body_arguments(body)
        parts += data
    url = redacted_url(url)
    if len(url) > URL_SHOWN:
        url, note = url[:URL_SHOWN], note + f"  # URL cut: {URL_SHOWN} of {len(url)} characters shown"
    parts.append(url)
    return scrub(prefix + " ".join(shlex.quote(p) for p in parts) + note)
