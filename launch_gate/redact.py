"""The one place secrets become safe text.

Checks never put a value in a message; this module is the net under that rule. Every result passes through a
`Redactor` (which knows the values the gate read) before any reporter sees it, and every reporter passes its
text through `scrub` (which knows the shapes of common secrets) before writing it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets as secrets_module
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cache, lru_cache
from html.entities import html5
from typing import Any
from urllib.parse import quote, quote_plus

from launch_gate.results import CheckResult, Finding

MIN_SECRET_LENGTH = 6
WINDOW = 6  # no run of this many characters of a known secret may reach any output
LONG_SECRET = 256  # longer values (a private key) are looked for in their usual forms, not any mixture
_SENSITIVE_NAME = re.compile(
    r"(KEY|SECRET|TOKEN|PASSWORD|PASSWD|PWD|CREDENTIAL|PRIVATE|AUTH|DSN|DATABASE_URL|_URL$|_URI$|COOKIE|SALT)",
    re.IGNORECASE,
)
# Names that match the pattern above by accident and never hold a secret: the shell's and CI runners' own.
_NOT_SECRET_NAMES = frozenset(
    {"PWD", "OLDPWD", "HOME", "PATH", "SHELL", "USER", "LOGNAME", "TMPDIR", "TERM", "LANG", "HOSTNAME",
     "SSH_AUTH_SOCK", "GPG_AGENT_INFO", "XAUTHORITY", "VIRTUAL_ENV", "PYTHONPATH", "GITHUB_WORKSPACE",
     "GITHUB_SERVER_URL", "GITHUB_API_URL", "GITHUB_GRAPHQL_URL", "ACTIONS_ID_TOKEN_REQUEST_URL",
     "ACTIONS_RESULTS_URL", "ACTIONS_CACHE_URL", "RUNNER_TEMP", "RUNNER_TOOL_CACHE", "RUNNER_WORKSPACE"}
)  # fmt: skip
_STRONG_NAME = re.compile(
    r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|PWD|CREDENTIAL|PRIVATE|SALT|DSN|DATABASE_URL", re.IGNORECASE
)
# flags, ports, counts and durations; eight digits and more may be a PIN or a numeric password
_NOT_A_SECRET = re.compile(r"[0-9]{1,7}|true|false|yes|no|on|off|none|null", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z_-]{1,20}")  # "session", "lax", "strict": a setting, unless the name is strong
_PATH = re.compile(r"(?:/|~/|[A-Za-z]:\\)[^\s:;]*")  # where a credential file lies is not the credential...
_URL = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]*://)(?:(?P<userinfo>[^/@\s]*)@)?(?P<host>[^/?#@\s]*)(?P<rest>.*)", re.I
)
_SHAPES = [
    re.compile(r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{6,}"),
    re.compile(r"\b(?:whsec|rzp_live|rzp_test)_[A-Za-z0-9]{6,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
]
# Linear on any text: a scheme is tried only where a run of scheme characters starts (the lookbehind), and the
# run is taken whole (possessive), so a long word is read once, not once per letter.
_USERINFO = re.compile(
    r"(?<![a-z0-9+.-])(?P<lead>[0-9+.-]*+)(?P<scheme>[a-z][a-z0-9+.-]*+://)"
    r"(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@",
    re.I,
)
_ASSIGNMENT = re.compile(
    r"(?P<key>(?:password|passwd|secret|token|api[_-]?key|authorization)\s*[:=]\s*)(?P<value>[^\s,;'\"]{4,})",
    re.IGNORECASE,
)


_SECRET_FIELD = re.compile(r"(?i)token|secret|session|password|passwd|jwt|api[_-]?key|credential")


def secret_fields(data: object, depth: int = 0) -> set[str]:
    """String values of JSON fields whose names say they are secret (`token`, `access_token`, `session`...)."""
    found: set[str] = set()
    if depth > 5:
        return found
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and _SECRET_FIELD.search(str(key)):
                found.add(value)
            else:
                found |= secret_fields(value, depth + 1)
    elif isinstance(data, list):
        for value in data[:100]:
            found |= secret_fields(value, depth + 1)
    return found


_RUN_KEY = secrets_module.token_bytes(16)  # per process: markers match within a run, never across runs


def marker(value: str) -> str:
    """What a known secret becomes in text: a keyed digest, so that the same value reads the same within a
    run, while a short value (a PIN, a dictionary password) cannot be found by hashing guesses."""
    digest = hmac.new(_RUN_KEY, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]
    return f"[redacted #{digest}]"


def fingerprint(value: str) -> str:
    """A stable, non-reversible name for a secret value: enough to match it, never to recover it."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def scrub(text: str) -> str:
    """Replace anything shaped like a common secret with a fingerprint."""
    for shape in _SHAPES:
        text = shape.sub(lambda m: f"[redacted {fingerprint(m.group(0))}]", text)
    text = _USERINFO.sub(lambda m: f"{m['lead']}{m['scheme']}{m['user']}:[redacted]@", text)
    return _ASSIGNMENT.sub(lambda m: f"{m['key']}[redacted]", text)


def is_sensitive_name(name: str) -> bool:
    """Whether an environment variable's name says its value is a secret."""
    return bool(_SENSITIVE_NAME.search(name)) and name.upper() not in _NOT_SECRET_NAMES


def _existing_path(value: str) -> bool:
    """...when it is one: base64 secrets can start with `/` too."""
    return bool(_PATH.fullmatch(value)) and os.path.exists(os.path.expanduser(value))


def inferred_secret(name: str, value: str) -> bool:
    """Whether a variable nobody declared holds a secret, judged by its name and the shape of its value: a
    path, a port, a flag or (for names like `*_URL`, `*COOKIE*`) a plain word is configuration, not a secret."""
    if not is_sensitive_name(name) or _NOT_A_SECRET.fullmatch(value) or _existing_path(value):
        return False
    url = _URL.fullmatch(value)
    if url is not None and not _STRONG_NAME.search(name):  # `API_BASE_URL`, unless it carries a credential
        rest = url["rest"]
        return bool(url["userinfo"]) or "?" in rest or any(len(seg) >= 16 for seg in rest.split("/"))
    return not (_WORD.fullmatch(value) and not _STRONG_NAME.search(name))


def environ_secrets(environ: Mapping[str, str], declared: Iterable[str] = ()) -> set[str]:
    """Every declared variable's value, and the values `inferred_secret` judges secret."""
    wanted = set(declared)
    return {v for n, v in environ.items() if n in wanted or inferred_secret(n, v)}


# --- a value in the encodings a server or a client may give it ---


def _hex(digits: str) -> str:
    """Hex digits in either case, as a pattern: `2B` matches `2b` too."""
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in digits.upper())


@cache
def _html_names() -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    for name, char in html5.items():
        if name.endswith(";") and len(char) == 1:
            names.setdefault(char, []).append(name)
    return {char: tuple(found) for char, found in names.items()}


def _char_forms(char: str, fold: bool) -> str:
    """One character of a value as a pattern: as is, URL-encoded (`%XX` per UTF-8 byte, `+` for a space),
    JSON-escaped (`\\uXXXX` per UTF-16 unit, or its short escape) or an HTML entity (`&#43;`, `&#x2b;`,
    `&plus;`); letters in either case when `fold`."""
    literal = {char, char.lower(), char.upper()} if fold else {char}
    forms = {re.escape(c) for c in literal if len(c) == 1}
    forms.add("".join("%" + _hex(f"{b:02X}") for b in char.encode("utf-8", "surrogatepass")))
    if char == " ":
        forms.add(r"\+")
    units = char.encode("utf-16-be", "surrogatepass")
    forms.add("".join(r"\\u" + _hex(units[i : i + 2].hex()) for i in range(0, len(units), 2)))
    short = {'"': '"', "\\": "\\", "/": "/", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}
    if char in short:
        forms.add(re.escape("\\" + short[char]))
    forms.add(f"&#[xX]0*{_hex(f'{ord(char):X}')};")
    forms.add(f"&#0*{ord(char)};")
    forms.update(re.escape("&" + name) for name in _html_names().get(char, ()))
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


def _any_escape(text: str, fold: bool = False) -> str:
    return "".join(_char_forms(c, fold) for c in text)


def base64_forms(value: str) -> list[str]:
    """The part of value's base64 that does not depend on what comes before or after it, at each of the three
    byte alignments it may have inside a longer encoded text (`Basic base64(email:password)`), standard and
    URL-safe; only parts of 8 characters or more."""
    raw = value.encode("utf-8", "surrogatepass")
    found: list[str] = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode().rstrip("=")
        start = -(-8 * offset // 6)
        # in the middle of a text; and at its end (a password ends `email:password`), where the last
        # characters depend on the value alone
        for window in (encoded[start : (8 * (offset + len(raw))) // 6], encoded[start:]):
            for text in (window, window.replace("+", "-").replace("/", "_")):
                if len(text) >= 8 and text not in found:
                    found.append(text)
    return found


def _escaped_all(value: str, upper: bool) -> str:
    """Every character but ASCII letters and digits as `\\uXXXX` (as .NET's encoder writes `+`, `@`...)."""

    def one(char: str) -> str:
        units = char.encode("utf-16-be", "surrogatepass").hex()
        units = units.upper() if upper else units
        return "".join(f"\\u{units[i : i + 4]}" for i in range(0, len(units), 4))

    return "".join(c if c.isascii() and c.isalnum() else one(c) for c in value)


@lru_cache(maxsize=4096)
def escaped_pattern(value: str, fold: bool = False) -> re.Pattern[str]:
    """`value` as written or in any mixture of URL, JSON and HTML escapes (no base64)."""
    return re.compile(_any_escape(value, fold))


@lru_cache(maxsize=4096)
def encoded_pattern(value: str, fold: bool = False) -> re.Pattern[str]:
    """`value` in any mixture of the escapes a server may write around it: as written, URL-encoded (upper- or
    lower-case hex, `+` for a space), JSON-escaped (`\\uXXXX` for any character, either case), HTML entities;
    and its base64 (alone or inside `base64(email:password)`), itself in any of those escapes. `fold`: letters
    in either case (an email address)."""
    longest = sorted(base64_forms(value), key=len, reverse=True)  # a whole base64 tail, not a part of it
    forms = [_any_escape(value, fold), *(_any_escape(b) for b in longest)]
    return re.compile("|".join(forms))


def encoded_forms(value: str) -> set[str]:
    """The usual encoded forms of `value`, each as one text: URL-encoded (`%2B` and `+`, either case),
    JSON-escaped (ASCII-only, and with every character but letters and digits as `\\uXXXX`), base64 parts."""
    forms = {quote(value, safe=""), quote_plus(value), quote(value), quote(value, safe="@")}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), f) for f in forms}
    escaped = json.dumps(value)[1:-1]
    forms |= {escaped, escaped.replace("/", "\\/"), json.dumps(value, ensure_ascii=False)[1:-1]}
    forms |= {_escaped_all(value, upper) for upper in (False, True)}
    return {f for f in forms | set(base64_forms(value)) if f != value}


def _secret_parts(value: str) -> list[str]:
    """The parts of a value whose every piece is secret. In a URL that is what follows the host (credentials,
    a webhook's path, a query's token), not the scheme and host, which every report names anyway."""
    url = _URL.fullmatch(value)
    if url is None:
        return [value]
    return [part for part in (url["userinfo"] or "", url["rest"]) if len(part) >= WINDOW]


def _windows_of(texts: Iterable[str]) -> set[str]:
    return {text[i : i + WINDOW] for text in texts for i in range(len(text) - WINDOW + 1)}


# The gate's own words: a secret that happens to contain "secret" must not turn `secrets.repo` into
# `[redacted]s.repo`. A window found in one of these (or in the run's public words: check ids, the target's
# host, a flow's throwaway address, also as a URL carries it) is no piece of a secret.
VOCABULARY = (
    "launch-gate", "launch_gate", "redacted", "secrets", "settings", "environment", "production", "password",
    "session", "cookie", "token", "required", "placeholder", "configuration", "could not verify",
)  # fmt: skip


def _windows(secrets: Iterable[str], vocabulary: Iterable[str]) -> frozenset[str]:
    """Every window of every secret part, as written and in its usual encodings, but the public words'."""
    words = {*VOCABULARY, *vocabulary}
    public = _windows_of({*words, *(quote(w, safe="") for w in words), *(quote_plus(w) for w in words)})
    parts = {part for secret in secrets for part in _secret_parts(secret)}
    forms = {form for part in parts for form in encoded_forms(part)}
    return frozenset(_windows_of(parts | forms) - public)


def _covered(text: str, windows: frozenset[str]) -> list[tuple[int, int]]:
    """The spans of `text` made of windows taken from a secret, merged."""
    spans: list[tuple[int, int]] = []
    if not windows:
        return spans
    for i in range(len(text) - WINDOW + 1):
        if text[i : i + WINDOW] in windows:
            if spans and spans[-1][1] >= i:
                spans[-1] = (spans[-1][0], i + WINDOW)
            else:
                spans.append((i, i + WINDOW))
    return spans


def _cut(text: str, spans: list[tuple[int, int]], mark: str) -> str:
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], mark]
        last = end
    return "".join([*pieces, text[last:]])


class Redactor:
    """Removes known secret values, and every piece of one, from text before anyone sees it.

    A whole value becomes its fingerprint; what is left of a value cut short (a response's first 160
    characters, pytest's shortened diffs) becomes `[redacted]`: no `WINDOW` characters of a secret survive.
    """

    def __init__(self, secrets: Iterable[str] = (), vocabulary: Iterable[str] = ()) -> None:
        unique = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        self._secrets = sorted(unique, key=len, reverse=True)
        self._windows = _windows(self._secrets, vocabulary)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], declared: Iterable[str] = ()) -> Redactor:
        return cls(environ_secrets(environ, declared))

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, text: str, fragments: bool = True) -> str:
        """`text` with every known secret and every piece of one replaced, then secret-shaped text scrubbed.
        (`fragments` is accepted for callers of the older interface; pieces are always removed.)"""
        for secret in self._secrets:
            text = self._whole(secret, text)
        for _ in range(3):  # a marker can, in theory, complete a window of a secret made of marker characters
            spans = _covered(text, self._windows)
            if not spans:
                break
            text = _cut(text, spans, "[redacted]")
        else:
            while spans := _covered(text, self._windows):  # the last resort: no marker, no exception
                text = _cut(text, spans, "")
        return scrub(text)

    @staticmethod
    def _whole(secret: str, text: str) -> str:
        """`text` with `secret` replaced wherever it is whole: as written or in any mixture of the encodings a
        server writes (`encoded_pattern`); a very long value, in its usual encoded forms."""
        mark = marker(secret)
        if len(secret) <= LONG_SECRET:
            return encoded_pattern(secret).sub(lambda _: mark, text)
        for form in sorted({secret, *encoded_forms(secret)}, key=len, reverse=True):
            text = text.replace(form, mark)
        return text

    def finding(self, finding: Finding) -> Finding:
        file = self.text(finding.file) if finding.file is not None else None
        return replace(finding, message=self.text(finding.message), file=file)

    def result(self, result: CheckResult) -> CheckResult:
        return replace(
            result,
            message=self.text(result.message),
            findings=tuple(self.finding(f) for f in result.findings),
            metrics=self.metrics(result.metrics),
        )

    def metrics(self, value: Any) -> Any:
        """Measured figures can hold text (a flow step's name, a path): redacted like the rest."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.metrics(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.metrics(v) for v in value]
        return value
