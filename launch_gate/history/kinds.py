"""What kind of trouble a result shows, read from the result alone (pure): the incident kinds of a watch.

*down* (no answer), *errors* (5xx or another wrong answer), *slow* (over a time budget), *dns*, *tls*,
*email* (a flow's email did not arrive or failed its proof), and *watch* (the watch itself could not check).
A healthy result has no kind. A latency route is judged by its figures, not by the gate's budgets: its own
`slow` signal compares its p95 with `[watch] p95-ms`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from launch_gate.results import CheckResult, Outcome

KINDS = ("down", "errors", "slow", "dns", "tls", "email", "watch")
KIND_WORDS = {
    "down": "down (no answer)",
    "errors": "errors (a 5xx or a wrong answer)",
    "slow": "slow",
    "dns": "DNS",
    "tls": "TLS",
    "email": "email",
    "watch": "the watch could not check",
}
WATCH_CHECK = "watch.round"  # the id a round that crashed as a whole is recorded under
_TLS = re.compile(r"\b(SSL|TLS|certificate|CERTIFICATE_VERIFY_FAILED|handshake)\b", re.IGNORECASE)
_DNS = re.compile(
    r"\b(SERVFAIL|NXDOMAIN|nameserver|DNS|resolve|getaddrinfo|Name or service not known)\b", re.I
)
_SERVER_ERROR = re.compile(
    r"\b(answer(?:s|ed)?|status|got)\s+5\d\d\b|\b5\d\d\s+(Internal|Bad Gateway|Service)"
)
_NO_ANSWER = re.compile(
    r"did not answer|no answer|timed? ?out|refused|unreachable|ConnectError|Timeout", re.I
)
_EMAIL = re.compile(r"\bno email\b|\bemail\b.*\b(DKIM|DMARC|SPF|align|proof)|\bDKIM\b", re.IGNORECASE)
_SLOW = re.compile(r"\btook [0-9.]+ ?m?s \(budget\b")
_ROUTE = re.compile(r"^[A-Z]+ \S*: ")
_OVER_BUDGET = re.compile(r"\bp9[59] [0-9.]+ ms is over\b|\bp95 grew from\b")


@dataclass(frozen=True)
class Signals:
    """A result as a watch reads it: its kind when failing (None when healthy) and whether it was slow."""

    kind: str | None
    slow: bool = False


def _number(metrics: Mapping[str, object], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _latency(result: CheckResult, p95_ms: float | None) -> Signals:
    """A latency route: a TLS or DNS failure is named so (before anything else: it leaves requests
    unanswered), unanswered requests are down, wrong answers are errors, a route over its own budgets is
    slow, one that could not be measured is `watch`; p95 over the watch's bound is the separate `slow` signal.
    A route the gate blocks always has a kind: a failing route is never taken for a healthy one."""
    metrics = result.metrics or {}
    samples, errors = _number(metrics, "samples"), _number(metrics, "errors") or 0
    unanswered = _number(metrics, "unanswered") or 0
    p95 = _number(metrics, "p95_ms")
    slow = p95_ms is not None and p95 is not None and p95 > p95_ms
    if samples is None or (not result.outcome.blocks and not errors):
        return Signals(kind_of_text(result) if result.outcome.blocks else None, slow)
    said = _ROUTE.sub("", result.message, count=1)  # not the route's own path (`GET /tls-info: ...`)
    if _TLS.search(said):
        return Signals("tls", slow)
    if _DNS.search(said):
        return Signals("dns", slow)
    if unanswered and unanswered >= errors / 2:
        return Signals("down", slow)
    if errors:
        return Signals("errors", slow)
    if result.outcome is Outcome.FAIL and _OVER_BUDGET.search(result.message):
        # over the gate's own p95/p99 budget or the baseline: slow. Over the watch's bound too, the `slow`
        # signal (an incident of its own) says it already: one incident, not two for the same slowness.
        return Signals(None if slow else "slow", slow)
    if result.outcome is Outcome.ERROR:  # every request answered well, yet not measurable (too few samples,
        return Signals("watch", slow)  # a late client): the watch could not check, which is no pass either
    return Signals(kind_of_text(result), slow)


def kind_of_text(result: CheckResult) -> str:
    """The kind of a blocking result, from its area and its message."""
    area, message = result.id.split(".", 1)[0], result.message
    if result.id == WATCH_CHECK:
        return "watch"
    if area in ("dns", "tls", "email"):
        return area
    if _TLS.search(message):
        return "tls"
    if _DNS.search(message):
        return "dns"
    if area == "smoke" and _EMAIL.search(message):
        return "email"
    if _SERVER_ERROR.search(message):
        return "errors"
    if result.outcome is Outcome.ERROR or _NO_ANSWER.search(message):
        return "down"
    if _SLOW.search(message):
        return "slow"
    return "errors"


def signals(result: CheckResult, p95_ms: float | None = None) -> Signals:
    """What a watch reads in a result; `p95_ms`: the bound of a core latency route (None: not judged)."""
    if result.id.startswith("latency."):
        return _latency(result, p95_ms)
    return Signals(kind_of_text(result) if result.outcome.blocks else None)
