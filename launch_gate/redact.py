"""The one place secrets become safe text.

Checks never put a value in a message; this module is the net under that rule. Every result passes through a
`Redactor` (which knows the values the gate read) before any reporter sees it, and every reporter passes its
text through `scrub` (which knows the shapes of common secrets) before writing it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from launch_gate.results import CheckResult, Finding

MIN_SECRET_LENGTH = 6
FRAGMENT = 8
_RUN = re.compile(
    r"[^\s'\"()\[\]{},:;<>.]{8,}"
)  # candidate fragments; "..." (a shortened string) splits them
_SENSITIVE_NAME = re.compile(
    r"(KEY|SECRET|TOKEN|PASSWORD|PASSWD|PWD|CREDENTIAL|PRIVATE|AUTH|DSN|DATABASE_URL|_URL$|_URI$|COOKIE|SALT)",
    re.IGNORECASE,
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
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@", re.I)
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


def fingerprint(value: str) -> str:
    """A stable, non-reversible name for a secret value: enough to match it, never to recover it."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def redacted_prefix(value: str, keep: int = 4) -> str:
    """The first few characters and the length, for values whose kind shows in their prefix."""
    shown = value[:keep] if len(value) > 2 * keep else ""
    return f"{shown}…({len(value)} chars)"


def scrub(text: str) -> str:
    """Replace anything shaped like a common secret with a fingerprint."""
    for shape in _SHAPES:
        text = shape.sub(lambda m: f"[redacted {fingerprint(m.group(0))}]", text)
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:[redacted]@", text)
    return _ASSIGNMENT.sub(lambda m: f"{m['key']}[redacted]", text)


def is_sensitive_name(name: str) -> bool:
    """Whether an environment variable's name says its value is a secret."""
    return bool(_SENSITIVE_NAME.search(name))


class Redactor:
    """Removes known secret values (and secret-shaped text) from results before anyone sees them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        self._secrets = sorted(unique, key=len, reverse=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], declared: Iterable[str] = ()) -> Redactor:
        """Treat every declared variable and every variable with a secret-sounding name as secret."""
        names = set(declared) | {n for n in environ if is_sensitive_name(n)}
        return cls(environ[n] for n in names if n in environ)

    def text(self, text: str, fragments: bool = False) -> str:
        """`fragments`: also any run of 8+ characters taken from a secret, as pytest's shortened assertion
        diffs show them ('sk_live_abc...xyz')."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, f"[redacted {fingerprint(secret)}]")
        if fragments:
            long = [s for s in self._secrets if len(s) >= FRAGMENT]
            text = _RUN.sub(lambda m: "[redacted fragment]" if any(m[0] in s for s in long) else m[0], text)
        return scrub(text)

    def finding(self, finding: Finding) -> Finding:
        file = self.text(finding.file) if finding.file is not None else None
        return replace(finding, message=self.text(finding.message), file=file)

    def result(self, result: CheckResult) -> CheckResult:
        return replace(
            result,
            message=self.text(result.message),
            findings=tuple(self.finding(f) for f in result.findings),
        )
