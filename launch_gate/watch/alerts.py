"""Alerts through Apprise: one URL per destination (`mailto://`, `slack://`, `json://`, ...), one message
when an incident opens and one when it closes.

The body is Markdown, and Apprise is told so: it turns it into HTML for email (the dashboard's link and the
list render) and hands it as is to chat services that read Markdown. Text from outside (a check's message,
the target) is escaped, so it reads as text and can never become a link or markup.

Alert URLs hold credentials: they are secrets. They are never printed; a destination is named by its place in
`[watch] alerts` and its scheme (`alert 2 (slack)`), and every text that leaves (the alert itself, a failure
reason) goes through the run's redactor, which knows the URLs.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from launch_gate.errors import ConfigError
from launch_gate.history import KIND_WORDS, Incident
from launch_gate.redact import Redactor, fingerprint

T = TypeVar("T")
SEND_TIMEOUT = 15.0  # seconds one delivery may take before it counts as failed (and is retried)
NO_LONGER = "this destination is no longer in [watch] alerts"
_MARKUP = re.compile(r"([\\`*_\[\]<>|~#]|&(?=#?[0-9A-Za-z]{1,32};))")
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


def escaped(text: str) -> str:
    """Text as Markdown shows it literally: markup characters escaped, on one line."""
    return _MARKUP.sub(r"\\\1", " ".join(text.split()))


def _link(url: str) -> str:
    """A URL as a Markdown autolink (`<https://...>`); characters that would end it are percent-encoded."""
    return "<" + "".join(f"%{ord(c):02X}" if c in '<> "' or not c.isprintable() else c for c in url) + ">"


def compose(event: str, incident: Incident, target: str | None, dashboard: str | None, now: float) -> Message:
    """The alert for an incident's opening (`open`) or closing (`close`), in Markdown: check, kind, since
    when, the last message and the dashboard's link. `target`: as it may be shown (no credentials)."""
    kind = KIND_WORDS.get(incident.kind, incident.kind)
    where = f" on {target}" if target else ""
    check = f"`{incident.check_id.replace('`', '')}`"
    look = _link(dashboard) if dashboard else "run `launch-gate dashboard` where the history is kept"
    if event == "open":
        title = f"[launch-gate] {incident.check_id} is failing: {kind}{where}"
        lines = [
            f"**Incident opened:** {check} has failed every round since {when(incident.since)}.",
            "",
            f"- **Check:** {check}",
            f"- **Kind:** {escaped(kind)}",
            f"- **Since:** {when(incident.since)}",
            f"- **Last message:** {escaped(incident.last_message)}",
        ]
    else:
        closed = incident.closed_at or now
        title = f"[launch-gate] {incident.check_id} recovered ({kind}, for {lasted(closed - incident.since)}){where}"
        lines = [
            f"**Recovered:** {check} passed at {when(closed)}.",
            "",
            f"- **Check:** {check}",
            f"- **Kind:** {escaped(kind)}",
            f"- **Since:** {when(incident.since)}, for {lasted(closed - incident.since)}",
            f"- **Last message while failing:** {escaped(incident.last_message)}",
        ]
    if target:
        lines.append(f"- **Target:** {escaped(target)}")
    lines.append(f"- **Dashboard:** {look}")
    return Message(title, "\n".join(lines))


def service_of(url: str) -> str:
    """What a destination may be called in output: its scheme, never the rest of its URL."""
    scheme = url.split("://", 1)[0].lower()
    return scheme if scheme.isalnum() and len(scheme) <= 20 else "alert"


class _Captured(logging.Handler):
    """Apprise's warnings from the threads in `threads` (every thread while it is empty)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.threads: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if not self.threads or record.thread in self.threads:
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
    """The destinations of `[watch] alerts`, checked once at start (a URL Apprise cannot use is exit 4).

    Each destination is known to the history by a fingerprint of its URL (`keys`), never by the URL: a
    pending alert finds its destination again after the list was reordered or grew."""

    def __init__(self, urls: Sequence[str], redactor: Redactor, timeout: float = SEND_TIMEOUT) -> None:
        try:
            import apprise
        except ImportError:
            raise ConfigError(MISSING) from None
        self._apprise = apprise
        self.services = [service_of(u) for u in urls]
        self.keys = [fingerprint(u) for u in urls]
        self.redactor, self.timeout = redactor, timeout
        self._urls = list(urls)
        for number, url in enumerate(urls, 1):
            if self._build(url) is None:
                raise ConfigError(
                    f"[watch] alerts item {number} of {len(urls)} ({self.services[number - 1]}) "
                    "is not a URL Apprise can send to: see https://github.com/caronc/apprise/wiki for its form."
                )

    def _build(self, url: str) -> Any:
        """A fresh Apprise object for one URL (one per send: a delivery abandoned at its timeout may still
        be running in its thread, and never shares an object with the next)."""
        target = self._apprise.Apprise()
        with self._quiet():
            return target if target.add(url) else None

    @property
    def destinations(self) -> list[tuple[str, str]]:
        """(scheme, fingerprint) of each destination, in the order of `[watch] alerts`."""
        return list(zip(self.services, self.keys, strict=True))

    def place(self, key: str | None, position: int) -> int | None:
        """The 1-based place of a stored delivery's destination now: by its fingerprint (by its old place
        for rows written before fingerprints); None when it is no longer configured."""
        if key is not None:
            return self.keys.index(key) + 1 if key in self.keys else None
        return position if 1 <= position <= len(self.keys) else None

    def name(self, destination: int) -> str:
        return f"alert {destination} ({self.services[destination - 1]})"

    def _quiet(self) -> _Quiet:
        return _Quiet()

    def send(self, destination: int, message: Message) -> str | None:
        """Deliver to one destination (1-based); None when delivered, else why not (redacted)."""
        if not 1 <= destination <= len(self._urls):
            return NO_LONGER
        url = self._urls[destination - 1]
        title, body = self.redactor.text(message.title), self.redactor.text(message.body)
        markdown = self._apprise.NotifyFormat.MARKDOWN

        def notify() -> bool:
            # deliveries run side by side: only this one's reasons
            captured.threads.add(threading.get_ident())
            target = self._build(url)
            return target is not None and bool(target.notify(body=body, title=title, body_format=markdown))

        with self._quiet() as captured:
            try:
                sent = in_daemon_thread(notify, self.timeout)
            except Exception as exc:  # Apprise's or a plugin's: the delivery failed, the watch goes on
                return self.redactor.text(f"{type(exc).__name__}: {exc}")
        if sent:
            return None
        reason = "; ".join(dict.fromkeys(captured.lines)) or "Apprise reported a failed delivery"
        return self.redactor.text(reason)[:500]


_QUIET_LOCK = threading.Lock()
_quiet_state: dict[str, bool | int] = {"depth": 0, "propagate": True}


class _Quiet:
    """Apprise's log records, kept from the terminal and handed back (to be redacted) as the failure reason.
    Several deliveries may be quiet at once: the logger is silenced by the first and restored by the last."""

    def __enter__(self) -> _Captured:
        self.logger = logging.getLogger("apprise")
        self.handler = _Captured()
        with _QUIET_LOCK:
            if not _quiet_state["depth"]:
                _quiet_state["propagate"] = self.logger.propagate
                self.logger.propagate = False
            _quiet_state["depth"] = int(_quiet_state["depth"]) + 1
            self.logger.addHandler(self.handler)
        return self.handler

    def __exit__(self, *_: object) -> None:
        with _QUIET_LOCK:
            self.logger.removeHandler(self.handler)
            _quiet_state["depth"] = int(_quiet_state["depth"]) - 1
            if not _quiet_state["depth"]:
                self.logger.propagate = bool(_quiet_state["propagate"])


def redactor_for_alerts(
    urls: Iterable[str], others: Iterable[str] = (), public: Iterable[str] = ()
) -> Redactor:
    """A redactor that knows the alert URLs (and `others`: the history URL, the run's secrets). An Apprise URL
    can hold its token where a URL holds its host (`slack://TokenA/TokenB/TokenC`): all after the scheme is
    secret, less what is `public` (the target, check ids, the dashboard's address)."""
    urls = list(urls)
    return Redactor([*urls, *(u.split("://", 1)[1] for u in urls), *others], vocabulary=public)
