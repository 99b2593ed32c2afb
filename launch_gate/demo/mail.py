"""The demo's mail: an SMTP server (aiosmtpd) that keeps what it receives, a DKIM-signing sender, and the
inbox's HTTP API in Mailpit's and MailHog's shapes, which is how the gate reads the demo's mail."""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote

import dkim
from aiosmtpd.controller import Controller


class Inbox:
    """aiosmtpd handler: every message, as received (bytes), with its recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # A delivering server records the envelope sender as Return-Path, as Mailpit does.
        raw = f"Return-Path: <{envelope.mail_from}>\r\n".encode() + bytes(envelope.content)
        self.messages.append(([r.lower() for r in envelope.rcpt_tos], raw))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[tuple[str, bytes]]:
        """(ID, raw message) of every message for `address`."""
        return [(str(n), raw) for n, (rcpts, raw) in enumerate(self.messages) if address.lower() in rcpts]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """The inbox over HTTP: Mailpit's /api/v1 search and raw source, MailHog's /api/v2 search."""
        if scope["type"] != "http":
            return
        query = parse_qs(scope["query_string"].decode())
        path = scope["path"]
        body: object = {"error": "not found"}
        status, kind = 404, "application/json"
        raw_id = re.fullmatch(r"/api/v1/message/([^/]+)/raw", path)
        if path == "/api/v1/search":
            wanted = re.search(r'to:"?([^"\s]+)"?', (query.get("query") or [""])[0])
            found = self.to(wanted[1]) if wanted else []
            status, body = (
                200,
                {
                    "total": len(found),
                    "messages": [
                        {"ID": i, "To": [{"Address": wanted[1] if wanted else ""}]} for i, _ in found
                    ],
                },
            )
        elif path == "/api/v2/search" and (query.get("kind") or [""])[0] == "to":
            found = self.to((query.get("query") or [""])[0])
            items = [{"ID": i, "Raw": {"Data": raw.decode("utf-8", "surrogateescape")}} for i, raw in found]
            status, body = 200, {"total": len(items), "count": len(items), "start": 0, "items": items}
        elif raw_id and unquote(raw_id[1]).isdigit() and int(unquote(raw_id[1])) < len(self.messages):
            status, body, kind = 200, self.messages[int(unquote(raw_id[1]))][1], "message/rfc822"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", kind.encode())]}
        )
        await send({"type": "http.response.body", "body": data})


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
        # local_hostname: smtplib would otherwise ask DNS for this machine's name (slow, sometimes seconds)
        with smtplib.SMTP("127.0.0.1", self.port, local_hostname="localhost", timeout=10) as smtp:
            smtp.sendmail(f"noreply@{self.domain}", [to], raw)

    async def __call__(self, to: str, subject: str, body: str) -> None:
        await asyncio.to_thread(self._send, to, self.message(to, subject, body))
