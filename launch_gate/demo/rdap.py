"""The demo's registry: a tiny RDAP server (RFC 9083) on loopback that answers for example.test, as a TLD
registry's server would, and an IANA-style bootstrap file (RFC 9224) naming itself for `.test`.

Faults: `domain-expiring` (the registration ends in 5 days), `domain-hold` (clientHold: the registry took
the domain out of the DNS, as after an unpaid renewal or an unanswered verification email).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

REGISTRY_FAULTS = frozenset({"domain-expiring", "domain-hold"})
REGISTRAR = "Demo Registrar, Inc."
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _vcard(name: str) -> list[object]:
    return ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]]


@dataclass
class Registry:
    """An RDAP server for the demo's domains (`/domain/<name>`) and a bootstrap (`/dns.json`)."""

    domains: tuple[str, ...] = ("example.test",)
    faults: set[str] = field(default_factory=set)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    requests: list[str] = field(default_factory=list)

    def record(self, name: str) -> dict[str, object]:
        expires = self.now + (timedelta(days=5) if "domain-expiring" in self.faults else timedelta(days=400))
        status = ["client transfer prohibited", "client delete prohibited", "client update prohibited"]
        status.append("client hold" if "domain-hold" in self.faults else "active")
        return {
            "objectClassName": "domain",
            "rdapConformance": ["rdap_level_0"],
            "handle": f"{name.upper().replace('.', '_')}-DEMO",
            "ldhName": name,
            "status": status,
            "events": [
                {
                    "eventAction": "registration",
                    "eventDate": f"{self.now - timedelta(days=365):%Y-%m-%dT%H:%M:%SZ}",
                },
                {"eventAction": "expiration", "eventDate": f"{expires:%Y-%m-%dT%H:%M:%SZ}"},
            ],
            "entities": [
                {
                    "objectClassName": "entity",
                    "handle": "9999",
                    "roles": ["registrar"],
                    "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
                    "vcardArray": _vcard(REGISTRAR),
                }
            ],
            "nameservers": [{"objectClassName": "nameserver", "ldhName": f"ns1.{name}"}],
        }

    def bootstrap(self, base: str) -> dict[str, object]:
        return {"version": "1.0", "services": [[["test"], [base]]]}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        self.requests.append(path)
        host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode()
        if path == "/dns.json":
            return await _reply(send, 200, self.bootstrap(f"http://{host}/"))
        name = path.removeprefix("/domain/").lower().rstrip(".")
        if path.startswith("/domain/") and name in self.domains:
            return await _reply(send, 200, self.record(name))
        return await _reply(send, 404, {"errorCode": 404, "title": "Not Found", "description": [path]})

    @classmethod
    def with_faults(cls, faults: Iterable[str]) -> Registry:
        return cls(faults=set(faults) & REGISTRY_FAULTS)


async def _reply(send: Send, status: int, data: object) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/rdap+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
