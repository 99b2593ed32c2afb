"""A probe run's tally as the check's verdict: a wrong answer fails; no answer, or a document that cannot be
read, is could-not-verify; operations the budget left untried warn; else it passes, saying how much it sent."""

from __future__ import annotations

from launch_gate.apiprobe.tally import Tally
from launch_gate.results import Finding, Outcome, Verdict
from launch_gate.rules.words import count

EXPECTED = (
    "Expected a 4xx to bad input, never a 5xx or debug output, and answers as the API's document describes "
    "them: validate input before using it."
)


def _findings(tally: Tally) -> list[Finding]:
    found = [Finding(f"{p.operation} {p.what}; reproduce: {p.reproduction}") for p in tally.problems]
    found += [Finding(f"{p.operation} {p.what}; reproduce: {p.reproduction}") for p in tally.unanswered]
    found += [Finding(f"{op}: no request was generated ({why})") for op, why in tally.ungenerated.items()]
    found += [
        Finding(f"{where}: schemathesis cannot read it ({why})") for where, why in tally.unreadable.items()
    ]
    found += [Finding(f"not tried within the budget: {op}") for op in tally.untried]
    found += [Finding(f"accepted: {text}") for text in tally.accepted]
    return found


def verdict(tally: Tally) -> Verdict:
    findings = _findings(tally)
    metrics = {
        "requests": tally.sent,
        "operations": len(tally.operations),
        "seconds": round(tally.seconds, 2),
        "source": tally.source,
    }
    sent = f"{count(tally.sent, 'request')} to {count(len(tally.operations), 'operation')} ({tally.source})"
    note = f" {tally.note}" if tally.note else ""
    if tally.problems:
        first = tally.problems[0]
        more = f" ({len(tally.problems) - 1} more in the findings)" if len(tally.problems) > 1 else ""
        return Verdict.of(
            Outcome.FAIL,
            f"{first.operation} {first.what}{more}. {EXPECTED} Reproduce: {first.reproduction}",
            findings,
            metrics,
        )
    if tally.unanswered:
        first = tally.unanswered[0]
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: {first.operation} {first.what}. Reproduce: {first.reproduction}",
            findings,
            metrics,
        )
    if tally.unreadable:
        where, why = next(iter(tally.unreadable.items()))
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: schemathesis cannot read {count(len(tally.unreadable), 'operation')} of the "
            f"document ({where}: {why}); fix the document",
            findings,
            metrics,
        )
    if not tally.sent:
        why = (
            "; ".join(f"{op}: {w}" for op, w in tally.ungenerated.items())
            or "no operation allowed by methods"
        )
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: no request was sent ({why}). Check [security.inputs] methods and the document.{note}",
            findings,
            metrics,
        )
    if tally.untried:
        return Verdict.of(
            Outcome.WARN,
            f"no wrong answer in {sent}, but {count(len(tally.untried), 'operation')} not tried within "
            "[security.inputs] max-time / max-requests: raise them to cover the whole API" + note,
            findings,
            metrics,
        )
    took = (
        f"; {count(len(tally.accepted), 'write')} took a malformed body with a 2xx" if tally.accepted else ""
    )
    return Verdict.of(
        Outcome.PASS,
        f"no 5xx, stack trace or answer outside the document in {sent}{took}{note}",
        findings,
        metrics,
    )
