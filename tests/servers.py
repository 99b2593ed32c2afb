"""Real servers on loopback for network tests: the demo's own DNS server, uvicorn helpers, an IMAP server."""

import asyncio
import re
import threading
from contextlib import contextmanager

from launch_gate.demo.dns import DnsServer, Zone
from launch_gate.demo.serve import http_server, tls_server

__all__ = ["DnsServer", "ImapServer", "Zone", "http_server", "tls_server"]


async def read_body(receive):
    """The whole request body an ASGI app receives, however many messages it comes in."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


class ImapServer:
    """A small IMAP4rev1 server (LOGIN, EXAMINE/SELECT, UID SEARCH TO, UID FETCH BODY.PEEK[], LOGOUT) over
    TLS on loopback, serving the messages `source()` returns as (recipients, raw) pairs: enough for imaplib."""

    def __init__(self, source, user, password, ssl_context):
        self.source, self.user, self.password, self.ssl = source, user, password, ssl_context
        self.logins = []

    async def session(self, reader, writer):
        writer.write(b"* OK IMAP4rev1 launch-gate test server ready\r\n")
        authed = False
        while line := await reader.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                command, _, args = args.partition(" ")
                command = "UID " + command.upper()
            words = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', args)
            values = [quoted or bare for quoted, bare in words]
            out = []
            if command == "CAPABILITY":
                out.append(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                done = b"OK CAPABILITY completed"
            elif command == "LOGIN":
                self.logins.append(values[0])
                authed = values == [self.user, self.password]
                done = b"OK LOGIN completed" if authed else b"NO [AUTHENTICATIONFAILED] invalid credentials"
            elif not authed and command != "LOGOUT":
                done = b"BAD log in first"
            elif command in ("SELECT", "EXAMINE"):
                out.append(f"* {len(self.source())} EXISTS".encode())
                done = b"OK [READ-ONLY] EXAMINE completed" if values[0] == "INBOX" else b"NO no such folder"
            elif command == "UID SEARCH":
                to = values[values.index("TO") + 1].lower() if "TO" in values else ""
                uids = [
                    str(n + 1) for n, (rcpts, _) in enumerate(self.source()) if any(to in r for r in rcpts)
                ]
                out.append(("* SEARCH " + " ".join(uids)).rstrip().encode())
                done = b"OK SEARCH completed"
            elif command == "UID FETCH":
                raw = self.source()[int(values[0]) - 1][1]
                out.append(
                    f"* {values[0]} FETCH (UID {values[0]} BODY[] {{{len(raw)}}}".encode()
                    + b"\r\n"
                    + raw
                    + b")"
                )
                done = b"OK FETCH completed"
            elif command == "LOGOUT":
                out.append(b"* BYE")
                done = b"OK LOGOUT completed"
            else:
                done = b"BAD unknown command"
            for response in out:
                writer.write(response + b"\r\n")
            writer.write(tag.encode() + b" " + done + b"\r\n")
            await writer.drain()
            if command == "LOGOUT":
                break
        writer.close()

    @contextmanager
    def running(self):
        """Serve in a background event loop; yields the port."""
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(self.session, "127.0.0.1", 0, ssl=self.ssl))
        thread = threading.Thread(target=loop.run_forever, daemon=True, name="test-imap")
        thread.start()
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            loop.call_soon_threadsafe(server.close)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
