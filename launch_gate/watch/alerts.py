"""Alerts through Apprise: one URL per destination (`mailto://`, `slack://`, `json://`, ...), one message
when an incident opens and one when it closes.

Alert URLs hold credentials: they are secrets. They are never printed; a destination is named by its place in
`[watch] alerts` and its scheme (`alert 2 (slack)`), and every text that leaves (the alert itself, a failure
reason) goes through the run's redactor, which knows the URLs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from launch_gate.errors import ConfigError
from launch_gate.history import KIND_WORDS, Incident
from launch_gate.redact import Redactor

T = TypeVar("T")
SEND_TIMEOUT = 60.0  # seconds one delivery may take before it counts as failed (and is retried)
MISSING = "alerts need Apprise: pip install apprise (a dependency of launch-gate: reinstall it)"


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def lasted(seconds: float) -> str:
    """A duration as people say it: `45 s`, `3 min 20 s`, `2 h 5 min`."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def compose(event: str, incident: Incident, target: str | None, dashboard: str | None, now: float) -> Message:
    """The alert for an incident's opening (`open`) or closing (`close`): check, kind, since when, the last
    message and where to look."""
    kind = KIND_WORDS.get(incident.kind, incident.kind)
    where = f" on {target}" if target else ""
    look = dashboard or "run `launch-gate dashboard` where the history is kept"
    if event == "open":
        title = f"[launch-gate] {incident.check_id} is failing: {kind}{where}"
        lines = [
            f"Incident opened: {incident.check_id} has failed every round since {when(incident.since)}.",
            f"Check: {incident.check_id}",
            f"Kind: {kind}",
            f"Since: {when(incident.since)}",
            f"Last message: {incident.last_message}",
        ]
    else:
        closed = incident.closed_at or now
        title = f"[launch-gate] {incident.check_id} recovered ({kind}, for {lasted(closed - incident.since)}){where}"
        lines = [
            f"Recovered: {incident.check_id} passed at {when(closed)}.",
            f"Check: {incident.check_id}",
            f"Kind: {kind}",
            f"Since: {when(incident.since)}, for {lasted(closed - incident.since)}",
            f"Last message while failing: {incident.last_message}",
        ]
    if target:
        lines.append(f"Target: {target}")
    lines.append(f"Dashboard: {look}")
    return Message(title, "\n".join(lines))


def service_of(url: str) -> str:
    """What a destination may be called in output: its scheme, never the rest of its URL."""
    scheme = url.split("://", 1)[0].lower()
    return scheme if scheme.isalnum() and len(scheme) <= 20 else "alert"


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def in_daemon_thread(work: Callable[[], T], timeout: float) -> T:
    """Run blocking work on a daemon thread; a delivery that hangs is abandoned at `timeout` (TimeoutError)."""
    box: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            box.append(work())
        except BaseException as exc:  # handed to the caller, as the delivery's failure
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True, name="launch-gate-alert")
    thread.start()
    thread.join(timeout)
    if errors:
        raise errors[0]
    if not box:
        raise TimeoutError(f"no answer within {timeout:g} s")
    return box[0]


class Alerter:
    """The destinations of `[watch] alerts`, checked once at start (a URL Apprise cannot use is exit 4)."""

    def __init__(self, urls: Sequence[str], redactor: Redactor, timeout: float = SEND_TIMEOUT) -> None:
        try:
            import apprise
        except ImportError:
            raise ConfigError(MISSING) from None
        self._apprise = apprise
        self.services = [service_of(u) for u in urls]
        self.redactor, self.timeout = redactor, timeout
        self._targets = []
        for number, url in enumerate(urls, 1):
            target = apprise.Apprise()
            with self._quiet():
                usable = target.add(url)
            if not usable:
                raise ConfigError(
                    f"[watch] alerts item {number} of {len(urls)} ({self.services[number - 1]}) "
                    "is not a URL Apprise can send to: see https://github.com/caronc/apprise/wiki for its form."
                )
            self._targets.append(target)

    def name(self, destination: int) -> str:
        return f"alert {destination} ({self.services[destination - 1]})"

    def _quiet(self) -> _Quiet:
        return _Quiet()

    def send(self, destination: int, message: Message) -> str | None:
        """Deliver to one destination (1-based); None when delivered, else why not (redacted)."""
        if not 1 <= destination <= len(self._targets):
            return "this destination is no longer in [watch] alerts"
        target = self._targets[destination - 1]
        title, body = self.redactor.text(message.title), self.redactor.text(message.body)
        with self._quiet() as captured:
            try:
                sent = in_daemon_thread(lambda: bool(target.notify(body=body, title=title)), self.timeout)
            except Exception as exc:  # Apprise's or a plugin's: the delivery failed, the watch goes on
                return self.redactor.text(f"{type(exc).__name__}: {exc}")
        if sent:
            return None
        reason = "; ".join(dict.fromkeys(captured.lines)) or "Apprise reported a failed delivery"
        return self.redactor.text(reason)[:500]


class _Quiet:
    """Apprise's log records, kept from the terminal and handed back (to be redacted) as the failure reason."""

    def __enter__(self) -> _Captured:
        self.logger = logging.getLogger("apprise")
        self.handler, self.propagate = _Captured(), self.logger.propagate
        self.logger.addHandler(self.handler)
        self.logger.propagate = False
        return self.handler

    def __exit__(self, *_: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = self.propagate


def redactor_for_alerts(
    urls: Iterable[str], others: Iterable[str] = (), public: Iterable[str] = ()
) -> Redactor:
    """A redactor that knows the alert URLs (and `others`: the history URL, the run's secrets). An Apprise URL
    can hold its token where a URL holds its host (`slack://TokenA/TokenB/TokenC`): all after the scheme is
    secret, less what is `public` (the target, check ids, the dashboard's address)."""
    urls = list(urls)
    return Redactor([*urls, *(u.split("://", 1)[1] for u in urls), *others], vocabulary=public)
