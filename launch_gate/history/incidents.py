"""When an incident opens and closes, decided from the history alone (pure).

A check has two tracks: `fail` (it failed or could not verify, in any way) and `slow` (a core route's p95 over
`[watch] p95-ms`). A track's incident opens when its last `alert-after` rounds all failed, named by the kind
the newest round showed and dated from the first of them; it closes on the first round that passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from launch_gate.history.store import Incident, Row

TRACKS = ("fail", "slow")


@dataclass(frozen=True)
class Opened:
    check_id: str
    track: str
    kind: str
    since: float
    message: str


@dataclass(frozen=True)
class Closed:
    incident: Incident
    message: str


@dataclass(frozen=True)
class Decision:
    opened: tuple[Opened, ...] = ()
    closed: tuple[Closed, ...] = ()
    noted: tuple[tuple[Incident, str], ...] = ()  # still open: the newest message


def _failing(row: Row, track: str) -> bool:
    return row.slow if track == "slow" else row.kind is not None


def _message(row: Row, track: str, p95_ms: float) -> str:
    if track == "slow":
        return f"p95 {row.p95_ms or 0:.0f} ms, over the {p95_ms:g} ms bound ([watch] p95-ms)"
    return row.message


def decide(
    latest: Mapping[str, Sequence[Row]], open_now: Sequence[Incident], alert_after: int, p95_ms: float
) -> Decision:
    """What changes after a round: `latest` holds each checked id's last `alert_after` rounds, newest first."""
    opened, closed, noted = [], [], []
    by_key = {(i.check_id, i.track): i for i in open_now}
    for check_id, rows in latest.items():
        if not rows:
            continue
        newest = rows[0]
        for track in TRACKS:
            incident = by_key.get((check_id, track))
            if incident is not None:
                if _failing(newest, track):
                    noted.append((incident, _message(newest, track, p95_ms)))
                else:
                    closed.append(Closed(incident, newest.message))
                continue
            streak = rows[:alert_after]
            if len(streak) == alert_after and all(_failing(r, track) for r in streak):
                kind = "slow" if track == "slow" else newest.kind or "errors"
                opened.append(Opened(check_id, track, kind, streak[-1].at, _message(newest, track, p95_ms)))
    return Decision(tuple(opened), tuple(closed), tuple(noted))
