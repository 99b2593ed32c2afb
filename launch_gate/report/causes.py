"""Naming the cause once: when several checks failed or could not verify for the same reason (a dead
nameserver, a host that refuses connections), the reports say that reason once.

The rule, applied to each failed or could-not-verify message:
1. its cause is the innermost exception it quotes, `(ConnectError: <cause>)`; else what follows
   `could not verify ...: ` or `configuration error: `; else the whole message;
2. the check-specific parts of that cause become `…`: URLs, e-mail addresses, IP addresses and host names
   (with a port), paths, long hex tokens and measured decimals; a DNS record type before `lookup`
   (`A lookup`, `TXT lookup`) becomes `DNS lookup`;
3. checks with the same outcome and the same normalised cause, at least `MIN_CHECKS` of them, share a root
   cause. It is shown as the checks' own cause when they all quote the same text, else normalised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from launch_gate.redact import scrub
from launch_gate.results import CheckResult, Outcome
from launch_gate.rules.words import count

MIN_CHECKS = 2
GAP = "…"
_EXCEPTION = re.compile(r"\((?:[a-z_]+\.)*[A-Z]\w*: ")
_PREFIX = re.compile(r"^(?:could not verify[^:]*|configuration error): ")
_SPECIFIC = [
    re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s()<>\"']+", re.IGNORECASE),  # URLs
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"\[?\b(?:\d{1,3}\.){3}\d{1,3}\b\]?(?::\d+)?|\[[0-9a-f:]+\](?::\d+)?", re.IGNORECASE),  # IPs
    re.compile(
        r"\b(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]\b(?::\d+)?", re.I
    ),  # hosts
    re.compile(r"(?<![\w.…])/[^\s:;,()'\"]*"),  # paths
    re.compile(r"\b[0-9a-f]{8,}\b", re.IGNORECASE),  # tokens, digests
    re.compile(r"\b\d+\.\d+\b"),  # measured figures
]
_RECORD_TYPE = re.compile(r"\b(?:A|AAAA|CAA|CNAME|MX|NS|PTR|SOA|SRV|TXT) lookup\b")


@dataclass(frozen=True)
class RootCause:
    """One reason several checks share: their outcome, the reason's text (scrubbed) and their ids."""

    outcome: Outcome
    text: str
    ids: tuple[str, ...]

    def sentence(self) -> str:
        """E.g. "22 checks could not verify for one reason: no nameserver answered for … (SERVFAIL)"."""
        verb = "could not verify" if self.outcome is Outcome.ERROR else "failed"
        return f"{count(len(self.ids), 'check')} {verb} for one reason: {self.text}"


def _closing(text: str, opening: int) -> int:
    """The index just past the parenthesis that closes the one at `opening` (the end if it never closes)."""
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    return len(text)


def cause_of(message: str) -> tuple[str, tuple[int, int] | None]:
    """The message's cause (rule 1), and where it sits when it is a quoted exception (to be shortened)."""
    quoted = list(_EXCEPTION.finditer(message))
    if quoted:
        last = quoted[-1]
        end = _closing(message, last.start())
        inner = message[last.end() : end - 1 if message[end - 1 : end] == ")" else end]
        return inner.strip(), (last.start(), end)
    prefix = _PREFIX.match(message)
    return (message[prefix.end() :] if prefix else message).strip(), None


def normalise(cause: str) -> str:
    """The cause without its check-specific parts (rule 2)."""
    for pattern in _SPECIFIC:
        cause = pattern.sub(GAP, cause)
    return _RECORD_TYPE.sub("DNS lookup", cause)


def root_causes(results: Iterable[CheckResult], min_checks: int = MIN_CHECKS) -> list[RootCause]:
    """The reasons at least `min_checks` failed or could-not-verify results share (rule 3), largest first."""
    groups: dict[tuple[Outcome, str], list[tuple[str, str]]] = {}
    for result in results:
        if result.outcome in (Outcome.FAIL, Outcome.ERROR):
            cause = cause_of(result.message)[0]
            groups.setdefault((result.outcome, normalise(cause)), []).append((result.id, cause))
    found = []
    for (outcome, key), members in groups.items():
        if len(members) >= min_checks and key:
            same = len({cause for _, cause in members}) == 1
            text = members[0][1] if same else key
            found.append(RootCause(outcome, scrub(text), tuple(check_id for check_id, _ in members)))
    return sorted(found, key=lambda c: (-len(c.ids), c.outcome is Outcome.ERROR))


def shortened(message: str, mark: str, limit: int = 120) -> str:
    """A grouped check's message: the quoted cause left out, at most `limit` characters, then `mark`."""
    _, span = cause_of(message)
    if span is not None:
        message = f"{message[: span[0]].rstrip()} (…){message[span[1] :]}"
    if len(message) > limit:
        message = message[: limit - 1].rstrip() + "…"
    return f"{message} [{mark}]"


def cause_index(causes: Sequence[RootCause]) -> dict[str, str]:
    """Check id -> the mark its shortened line carries: `root cause`, or `root cause N` when there are several."""
    marks = {}
    for number, cause in enumerate(causes, 1):
        for check_id in cause.ids:
            marks[check_id] = "root cause" if len(causes) == 1 else f"root cause {number}"
    return marks
