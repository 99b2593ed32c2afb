"""Real servers on loopback for network tests: an authoritative DNS server (dnslib) and uvicorn with TLS."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import trustme
import uvicorn
from dnslib import QTYPE, RCODE, RR, DNSRecord

Zone = dict[tuple[str, str], list[str]]  # (name, type) -> zone-file rdata
MODES = ("answer", "servfail", "refused", "drop")


class DnsServer:
    """Answers from a zone; `mode` makes it fail like a broken server. UDP on 127.0.0.1, a random port."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self.mode = "answer"
        self.queries: list[tuple[str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def reply(self, data: bytes) -> bytes | None:
        request = DNSRecord.parse(data)
        name = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        self.queries.append((name, qtype))
        if self.mode == "drop":
            return None
        reply = request.reply()
        if self.mode in ("servfail", "refused"):
            reply.header.rcode = RCODE.SERVFAIL if self.mode == "servfail" else RCODE.REFUSED
            return reply.pack()
        records = self.zone.get((name, qtype))
        if records is None and not any(n == name for n, _ in self.zone):
            reply.header.rcode = RCODE.NXDOMAIN
        for rdata in records or []:
            reply.add_answer(*RR.fromZone(f"{name}. 60 IN {qtype} {rdata}"))
        return reply.pack()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            try:
                answer = self.reply(data)
            except Exception:  # a zone entry the test got wrong: answer as a broken server would
                request = DNSRecord.parse(data).reply()
                request.header.rcode = RCODE.SERVFAIL
                answer = request.pack()
            if answer is not None:
                self._sock.sendto(answer, peer)

    @contextmanager
    def running(self) -> Iterator[DnsServer]:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(5)
            self._sock.close()


Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


@contextmanager
def _uvicorn(app: App, **ssl: str) -> Iterator[int]:
    """uvicorn on a loopback socket bound first, so the port is known before it starts; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **ssl))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):  # bounded wait for start-up
        if server.started:
            break
        time.sleep(0.025)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def http_server(app: App) -> Iterator[int]:
    """uvicorn serving `app` over plain HTTP on loopback."""
    with _uvicorn(app) as port:
        yield port


@contextmanager
def tls_server(
    app: App, hostnames: list[str], tmp: Path, not_before: Any = None, not_after: Any = None
) -> Iterator[tuple[int, Path]]:
    """uvicorn serving `app` over TLS with a trustme certificate for `hostnames`; yields (port, CA file)."""
    ca = trustme.CA()
    cert = ca.issue_cert(*hostnames, not_before=not_before, not_after=not_after)
    key_file, cert_file, ca_file = tmp / "server.key", tmp / "server.pem", tmp / "ca.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    ca.cert_pem.write_to_path(str(ca_file))
    with _uvicorn(app, ssl_keyfile=str(key_file), ssl_certfile=str(cert_file)) as port:
        yield port, ca_file
