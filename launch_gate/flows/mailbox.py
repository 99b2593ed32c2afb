"""Where the gate reads the mail a smoke flow triggers (`[smoke.mailbox]`).

Backends: an SMTP sink of the gate's own (point the app's SMTP settings at it, e.g. in CI), a real inbox over
IMAP (stdlib `imaplib`), or a Mailpit- or MailHog-compatible HTTP API. A mailbox that cannot be read raises
`MailboxError` (could not verify); a message that does not come within its budget is `None` (a failure).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import imaplib
import re
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from launch_gate.config.schema import MailboxTable
from launch_gate.errors import CouldNotVerify
from launch_gate.redact import scrub

_LINK = re.compile(r"""https?://[^\s"'<>)\]]+""", re.IGNORECASE)


class MailboxError(CouldNotVerify):
    """The mailbox could not be read: nobody can say whether the message came."""


@dataclass(frozen=True)
class Mail:
    """One received message, as its raw bytes."""

    id: str
    raw: bytes
    envelope: frozenset[str] = frozenset()  # recipients the delivering server was given (BCC included)

    @cached_property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message.get("subject", ""))

    def recipients(self) -> set[str]:
        headers = [
            str(v) for k in ("to", "cc", "delivered-to", "x-original-to") for v in self.message.get_all(k, [])
        ]
        return {address.lower() for _, address in getaddresses(headers) if address}

    @cached_property
    def links(self) -> tuple[str, ...]:
        """Every http(s) link in the text and HTML parts, in order, once each."""
        found: dict[str, None] = {}
        for part in self.message.walk():
            if part.get_content_maintype() != "text" or part.is_multipart():
                continue
            try:
                text = str(part.get_content())
            except (LookupError, ValueError):
                continue
            for link in _LINK.findall(text.replace("&amp;", "&")):
                found[link.rstrip(".,;")] = None
        return tuple(found)


def _matches(mail: Mail, to: str, subject: str | None) -> bool:
    if subject is not None and subject.lower() not in mail.subject.lower():
        return False
    return to.lower() in mail.envelope or to.lower() in mail.recipients()


class Mailbox:
    """Messages for an address, looked at every `poll` seconds until a deadline."""

    def __init__(self, table: MailboxTable) -> None:
        self.table = table

    async def __aenter__(self) -> Mailbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def messages(self, to: str) -> list[Mail]:
        raise NotImplementedError

    async def wait(self, to: str, subject: str | None, within: float, seen: set[str]) -> Mail | None:
        """The first message to `to` (subject containing `subject`) not in `seen`, or None after `within` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            for mail in await self.messages(to):
                if mail.id not in seen and _matches(mail, to, subject):
                    seen.add(mail.id)
                    return mail
            left = deadline - loop.time()
            if left <= 0:
                return None
            await asyncio.sleep(min(self.table.poll, left))


class _HttpMailbox(Mailbox):
    def __init__(self, table: MailboxTable, ca_bundle: Path | None, timeout: float) -> None:
        from launch_gate.net.http import ssl_context

        super().__init__(table)
        self.base = (table.url or "").rstrip("/")
        self.client = httpx.AsyncClient(verify=ssl_context(ca_bundle), timeout=timeout, trust_env=False)

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(self, path: str) -> httpx.Response:
        try:
            response = await self.client.get(self.base + path)
        except httpx.HTTPError as exc:
            raise MailboxError(
                f"cannot read the mailbox API at {scrub(self.base)} ({type(exc).__name__}); "
                "check [smoke.mailbox] url and that the service runs"
            ) from None
        if response.status_code != 200:
            raise MailboxError(
                f"the mailbox API at {scrub(self.base)} answered {response.status_code} to {path.split('?')[0]}; "
                f"check [smoke.mailbox] url and kind ({self.table.kind})"
            )
        return response

    def json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise MailboxError(
                f"the mailbox API at {scrub(self.base)} did not answer JSON; is it a {self.table.kind} API?"
            ) from None


class MailpitMailbox(_HttpMailbox):
    """Mailpit's API: /api/v1/search?query=to:ADDRESS, then each message's raw source."""

    async def messages(self, to: str) -> list[Mail]:
        query = quote(f"to:{_quoted(to)}")
        found = self.json(await self.get(f"/api/v1/search?query={query}&limit=50"))
        listed = found.get("messages") if isinstance(found, dict) else None
        if not isinstance(listed, list):
            raise MailboxError(
                f"the mailbox API at {scrub(self.base)} answered without `messages`: not Mailpit?"
            )
        ids = [str(m["ID"]) for m in listed if isinstance(m, dict) and "ID" in m]
        return [Mail(i, (await self.get(f"/api/v1/message/{quote(i)}/raw")).content) for i in ids]


class MailhogMailbox(_HttpMailbox):
    """MailHog's API: /api/v2/search?kind=to&query=ADDRESS, raw source included."""

    async def messages(self, to: str) -> list[Mail]:
        found = self.json(await self.get(f"/api/v2/search?kind=to&query={quote(to)}&limit=50"))
        items = found.get("items") if isinstance(found, dict) else None
        if not isinstance(items, list):
            raise MailboxError(
                f"the mailbox API at {scrub(self.base)} answered without `items`: not MailHog?"
            )
        mails = []
        for item in items:
            raw = (item.get("Raw") or {}).get("Data") if isinstance(item, dict) else None
            if isinstance(raw, str):
                mails.append(Mail(str(item.get("ID")), raw.encode("utf-8", "surrogateescape")))
        return mails


class _Sink:
    """aiosmtpd handler: keeps every message with a Return-Path line, as a delivering server adds one."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = f"Return-Path: <{envelope.mail_from}>\r\n".encode() + bytes(envelope.content)
        with self.lock:
            self.mails.append(([r.lower() for r in envelope.rcpt_tos], raw))
        return "250 accepted by launch-gate"


_SINKS: dict[str, tuple[Any, _Sink, int]] = {}  # listen -> (controller, sink, users): flows share one sink
_SINKS_LOCK = threading.Lock()


class SmtpSink(Mailbox):
    """The gate's own SMTP server at `listen`, for as long as any flow of the run needs it."""

    def __init__(self, table: MailboxTable) -> None:
        super().__init__(table)
        self.listen = table.listen
        self.sink: _Sink | None = None

    def _acquire(self) -> _Sink:
        from aiosmtpd.controller import Controller

        with _SINKS_LOCK:
            if self.listen in _SINKS:
                controller, sink, users = _SINKS[self.listen]
                _SINKS[self.listen] = (controller, sink, users + 1)
                return sink
            host, _, port = self.listen.rpartition(":")
            sink = _Sink()
            controller = Controller(sink, hostname=host, port=int(port), ready_timeout=5)
            try:
                controller.start()
            except (OSError, RuntimeError, TimeoutError) as exc:
                raise MailboxError(
                    f"cannot listen for mail at {self.listen} ({exc}); choose a free [smoke.mailbox] listen"
                ) from None
            _SINKS[self.listen] = (controller, sink, 1)
            return sink

    def _release(self) -> None:
        with _SINKS_LOCK:
            controller, sink, users = _SINKS[self.listen]
            if users > 1:
                _SINKS[self.listen] = (controller, sink, users - 1)
                return
            del _SINKS[self.listen]
        controller.stop()

    async def __aenter__(self) -> Mailbox:
        self.sink = await asyncio.to_thread(self._acquire)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.sink is not None:
            self.sink = None
            await asyncio.to_thread(self._release)

    async def messages(self, to: str) -> list[Mail]:
        assert self.sink is not None, "use the sink inside `async with`"
        with self.sink.lock:
            mails = list(self.sink.mails)
        return [
            Mail(f"smtp:{n}", raw, frozenset(rcpts))
            for n, (rcpts, raw) in enumerate(mails)
            if to.lower() in rcpts
        ]


class ImapMailbox(Mailbox):
    """A real inbox over IMAP (TLS unless `tls = false`), read-only: messages are never marked or moved."""

    def __init__(self, table: MailboxTable, password: str, ca_bundle: Path | None, timeout: float) -> None:
        super().__init__(table)
        self.password = password
        self.ca_bundle = ca_bundle
        self.timeout = timeout

    def _connect(self) -> imaplib.IMAP4:
        from launch_gate.net.http import ssl_context

        host = self.table.host or ""
        if self.table.tls:
            context: ssl.SSLContext = ssl_context(self.ca_bundle)
            return imaplib.IMAP4_SSL(host, self.table.port or 993, ssl_context=context, timeout=self.timeout)
        return imaplib.IMAP4(host, self.table.port or 143, timeout=self.timeout)

    def _fetch(self, to: str) -> list[Mail]:
        where = f"IMAP {self.table.host}:{self.table.port or (993 if self.table.tls else 143)}"
        try:
            with self._connect() as imap:
                imap.login(self.table.user or "", self.password)
                status, _ = imap.select(_quoted(self.table.folder), readonly=True)
                if status != "OK":
                    raise MailboxError(
                        f"{where} has no folder {self.table.folder!r}; check [smoke.mailbox] folder"
                    )
                status, data = imap.uid("SEARCH", "TO", _quoted(to))
                uids = (data[0] or b"").split() if status == "OK" and data else []
                mails = []
                for uid in uids[-50:]:
                    status, parts = imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
                    raw = (
                        next((p[1] for p in parts if isinstance(p, tuple)), None) if status == "OK" else None
                    )
                    if isinstance(raw, bytes):
                        mails.append(Mail(f"imap:{uid.decode()}", raw))
                return mails
        except imaplib.IMAP4.error as exc:
            text = str(exc).replace(self.password, "[redacted]") if self.password else str(exc)
            raise MailboxError(
                f"{where} refused us ({scrub(text)}); check [smoke.mailbox] user and password"
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise MailboxError(
                f"cannot reach {where} ({type(exc).__name__}: {exc.strerror or exc})"
            ) from None

    async def messages(self, to: str) -> list[Mail]:
        return await asyncio.to_thread(self._fetch, to)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class MailboxFactory:
    """Builds the configured mailbox; names the setting to fix when it cannot."""

    table: MailboxTable
    environ: Mapping[str, str]
    ca_bundle: Path | None = None
    timeout: float = 10.0
    secrets: set[str] = field(default_factory=set)

    def __call__(self) -> Mailbox:
        kind = self.table.kind
        if kind in ("mailpit", "mailhog"):
            cls: Callable[..., Mailbox] = MailpitMailbox if kind == "mailpit" else MailhogMailbox
            return cls(self.table, self.ca_bundle, self.timeout)
        if kind == "smtp":
            return SmtpSink(self.table)
        if kind == "imap":
            name = self.table.password_env or ""
            password = self.environ.get(name, "")
            if not password:
                raise MailboxError(
                    f"environment variable {name} (named by [smoke.mailbox] password-env) is not set; "
                    "set it to the inbox's password in the CI secrets"
                )
            self.secrets.add(password)
            return ImapMailbox(self.table, password, self.ca_bundle, self.timeout)
        raise MailboxError(
            "a step waits for an email but [smoke.mailbox] kind is none: set it to smtp, imap, mailpit or mailhog"
        )


def first_link(links: Iterable[str], part: str | None) -> str | None:
    return next((link for link in links if part is None or part in link), None)
