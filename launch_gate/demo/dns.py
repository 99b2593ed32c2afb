"""An authoritative DNS server (dnslib over UDP on loopback) for the demo's domain and for tests.

`mode` makes it fail as broken servers do: SERVFAIL, REFUSED, or no answer at all (timeout).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import QTYPE, RCODE, RR, DNSRecord

Zone = dict[tuple[str, str], list[str]]  # (name, type) -> zone-file rdata
MODES = ("answer", "servfail", "refused", "drop")


class DnsServer:
    """Answers from `zone` on 127.0.0.1 at a port chosen at start."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self.mode = "answer"
        self.queries: list[tuple[str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
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
            return bytes(reply.pack())
        records = self.zone.get((name, qtype))
        if records is None and not any(n == name for n, _ in self.zone):
            reply.header.rcode = RCODE.NXDOMAIN
        for rdata in records or []:
            reply.add_answer(*RR.fromZone(f"{name}. 60 IN {qtype} {rdata}"))
        return bytes(reply.pack())

    def _answer(self, data: bytes) -> bytes | None:
        try:
            return self.reply(data)
        except Exception:  # a zone entry that does not parse: answer as a broken server would
            reply = DNSRecord.parse(data).reply()
            reply.header.rcode = RCODE.SERVFAIL
            return bytes(reply.pack())

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            answer = self._answer(data)
            if answer is not None:
                self._sock.sendto(answer, peer)

    @contextmanager
    def running(self) -> Iterator[DnsServer]:
        thread = threading.Thread(target=self._serve, daemon=True, name="demo-dns")
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(5)
            self._sock.close()
