"""A vulnerability feed on loopback that pip-audit reaches as https://pypi.org, with nothing faked in pip-audit.

An HTTP proxy on 127.0.0.1 accepts `CONNECT pypi.org:443`, terminates TLS with a certificate for pypi.org from
a trustme CA, and answers PyPI's JSON API. pip-audit finds it through the ordinary client settings a user
behind a corporate proxy has (HTTPS_PROXY, REQUESTS_CA_BUNDLE). Every behaviour a real outage shows is a mode.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import trustme

CANARY = ("django", "3.2")
KNOWN: dict[tuple[str, str], list[dict[str, Any]]] = {
    CANARY: [
        {"id": "PYSEC-2021-98", "aliases": ["CVE-2021-33203"], "fixed_in": ["3.2.4"], "details": "traversal"}
    ],
    ("flask", "0.12.2"): [
        {
            "id": "PYSEC-2018-66",
            "aliases": ["CVE-2018-1000656"],
            "fixed_in": ["0.12.3"],
            "details": "DoS via JSON",
        }
    ],
}
MODES = ("ok", "outage", "hang", "malformed", "empty")
_PATH = re.compile(r"^/pypi/([^/]+)/([^/]+)/json$")


class VulnService:
    def __init__(self, tmp: Path) -> None:
        self.ca = trustme.CA()
        self.ca_path = tmp / "vuln-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("pypi.org").configure_cert(self.tls)
        self.mode = "ok"
        self.missing: set[str] = set()  # packages PyPI answers 404 for
        self.requests: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()

    def env(self) -> dict[str, str]:
        proxy = f"http://127.0.0.1:{self.port}"
        return {"HTTPS_PROXY": proxy, "https_proxy": proxy, "REQUESTS_CA_BUNDLE": str(self.ca_path),
                "NO_PROXY": "", "no_proxy": ""}  # fmt: skip

    def answer(self, path: str) -> tuple[int, bytes] | None:
        if self.mode == "hang":
            return None
        if self.mode == "outage":
            return 503, b'{"message": "Service Unavailable"}'
        if self.mode == "malformed":
            return 200, b'{"info": {"name": '
        if self.mode == "empty":
            return 200, b"{}"
        match = _PATH.match(path)
        if match is None or match[1].lower() in self.missing:
            return 404, b'{"message": "Not Found"}'
        name, version = match[1].lower(), match[2]
        body = {
            "info": {"name": name, "version": version},
            "urls": [],
            "vulnerabilities": KNOWN.get((name, version), []),
        }
        return 200, json.dumps(body).encode()

    async def _serve_tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(1000):  # requests on one kept-alive connection, bounded
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b"\r\n", 1)[0].decode().split(" ")[1]
            self.requests.append(path)
            reply = self.answer(path)
            if reply is None:
                await asyncio.sleep(30)  # the client's timeout comes first; bounded all the same
                return
            status, body = reply
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0].decode()
            if not first.startswith("CONNECT pypi.org:443 "):
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await writer.start_tls(self.tls)
            await self._serve_tunnel(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, asyncio.LimitOverrunError):
            pass
        finally:
            with suppress(Exception):
                writer.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()
        server.close()
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        with suppress(Exception):
            self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    @contextmanager
    def running(self) -> Iterator[VulnService]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        assert self._started.wait(10)
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            thread.join(10)
