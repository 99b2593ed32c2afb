"""The traffic shapes a profile can take: what `mobile` models, in numbers (docs/load.md says it in words).

`mobile`: a person on a phone. They read, tap, wait (think time between steps), leave and come back later (a
pause between sessions); each session opens new connections (a phone moving between cells and Wi-Fi keeps
no warm pool), asks for compressed answers, and says it is a phone. What it does not model: radio latency
and loss, which are the client's, not the server's (add them on a runner you control with `tc netem`).
"""

from __future__ import annotations

from dataclasses import dataclass

MOBILE_HEADERS = {
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) launch-gate-load",
    "Accept": "application/json, text/html;q=0.9, */*;q=0.8",
    "Accept-Encoding": "gzip, deflate",
    "Accept-Language": "en-US,en;q=0.9",
}
PLAIN_HEADERS = {"User-Agent": "launch-gate-load"}


@dataclass(frozen=True)
class Shape:
    """How sessions behave: seconds between steps and between sessions, and their connections and headers."""

    think_time: tuple[float, float]
    pause: tuple[float, float]
    new_connection_per_session: bool
    headers: dict[str, str]


def shape(name: str, think_time: tuple[float, float] | None, pause: tuple[float, float] | None) -> Shape:
    """The named shape, with the profile's own think time and pause where it sets them."""
    if name == "mobile":
        return Shape(think_time or (1.0, 3.0), pause or (2.0, 5.0), True, dict(MOBILE_HEADERS))
    return Shape(think_time or (0.0, 0.0), pause or (0.0, 0.0), False, dict(PLAIN_HEADERS))
