"""The demo's mail: an SMTP server (aiosmtpd) that keeps what it receives, and a DKIM-signing sender."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import dkim
from aiosmtpd.controller import Controller


class Inbox:
    """aiosmtpd handler: every message, as received (bytes), with its recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with (
        socket.socket() as probe
    ):  # a free port: aiosmtpd checks readiness by connecting to the port it is given
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class Sender:
    """Sends as noreply@<domain>, signed with DKIM (selector, private key in PEM)."""

    def __init__(
        self,
        port: int,
        domain: str,
        selector: str,
        private_key: bytes,
        sign: bool = True,
        tamper: bool = False,
    ) -> None:
        self.port, self.domain, self.selector, self.key, self.sign = port, domain, selector, private_key, sign
        self.tamper = tamper  # a relay that rewrites the body after signing: the signature no longer verifies

    def message(self, to: str, subject: str, body: str) -> bytes:
        message = EmailMessage()
        message["From"] = f"Coachly <noreply@{self.domain}>"
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        raw = message.as_bytes()
        if not self.sign:
            return raw
        signature = dkim.sign(raw, self.selector.encode(), self.domain.encode(), self.key,
                              include_headers=[b"from", b"to", b"subject"])  # fmt: skip
        if self.tamper:
            raw += b"\r\n-- \r\nSent through a relay that adds a footer.\r\n"
        return bytes(signature) + raw

    def _send(self, to: str, raw: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            smtp.sendmail(f"noreply@{self.domain}", [to], raw)

    async def __call__(self, to: str, subject: str, body: str) -> None:
        await asyncio.to_thread(self._send, to, self.message(to, subject, body))
