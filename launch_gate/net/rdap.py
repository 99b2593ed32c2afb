"""RDAP (RFC 9083): who registered a domain, until when, and with which statuses. The registry's server is
found through the IANA bootstrap (RFC 9224), or given (`[net] rdap-url`, which also makes it testable offline).

The registry is a third party, not the deployment: it is asked through the system's resolver, without the
connect-to overrides that send the target's names elsewhere (the CA bundle still applies). No answer, an
error status or a body that is not RDAP JSON raises CouldNotVerify; a 404 means the registry has no such
domain (`lookup` returns None).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import idna

from launch_gate.config import Settings
from launch_gate.errors import CouldNotVerify
from launch_gate.net import http_options
from launch_gate.net.http import async_client

BOOTSTRAP = "https://data.iana.org/rdap/dns.json"
ACCEPT = {"accept": "application/rdap+json, application/json;q=0.9"}
MAX_BYTES = 2_000_000  # an RDAP answer is a few kilobytes; the IANA bootstrap about 100 kB


@dataclass(frozen=True)
class Registration:
    """What a registry says about a domain."""

    domain: str
    registrar: str | None
    expires: datetime | None
    registered: datetime | None
    statuses: tuple[str, ...]  # EPP spelling (RFC 8056): clientTransferProhibited, clientHold, ...
    server: str  # the URL that answered


def client(settings: Settings) -> httpx.AsyncClient:
    """The gate's HTTP client for a registry: the CA bundle and probe timeout, no connect-to, the system's DNS."""
    options = dataclasses.replace(http_options(settings), connect_to=(), nameservers=())
    return async_client(dataclasses.replace(options, headers=ACCEPT))


def epp(status: str) -> str:
    """An RDAP status in EPP spelling: `client transfer prohibited` -> `clientTransferProhibited`."""
    words = re.split(r"[\s_-]+", status.strip())
    if len(words) == 1:
        return words[0][:1].lower() + words[0][1:]
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:] if w)


async def _json(http: httpx.AsyncClient, url: str, what: str) -> Any | None:
    """The JSON at `url`; None for a 404. No answer, another error status or bad JSON: CouldNotVerify."""
    try:
        response = await http.get(url, follow_redirects=True)
    except httpx.HTTPError as exc:
        detail = str(exc) or "no answer in time"
        raise CouldNotVerify(f"{what} at {url} did not answer ({type(exc).__name__}: {detail})") from None
    if response.status_code == 404:
        return None
    if not 200 <= response.status_code < 300:
        raise CouldNotVerify(f"{what} at {url} answered {response.status_code}")
    if len(response.content) > MAX_BYTES:
        raise CouldNotVerify(f"{what} at {url} sent {len(response.content)} bytes, more than RDAP ever needs")
    try:
        return response.json()
    except ValueError:
        raise CouldNotVerify(f"{what} at {url} did not answer with JSON") from None


def servers_in(bootstrap: object, domain: str) -> list[str]:
    """The RDAP base URLs the bootstrap file names for the longest suffix of `domain` it lists, https first."""
    services = bootstrap.get("services") if isinstance(bootstrap, Mapping) else None
    if not isinstance(services, list):
        raise CouldNotVerify("the IANA RDAP bootstrap has no `services` list")
    table: dict[str, list[str]] = {}
    for service in services:
        if isinstance(service, list) and len(service) >= 2:
            suffixes, urls = service[0], service[1]
            for suffix in suffixes if isinstance(suffixes, list) else ():
                table.setdefault(str(suffix).lower().rstrip("."), []).extend(str(u) for u in urls)
    labels = domain.lower().rstrip(".").split(".")
    for start in range(1, len(labels)):
        urls = table.get(".".join(labels[start:]))
        if urls:
            return sorted(dict.fromkeys(urls), key=lambda u: not u.startswith("https://"))
    return []


def idn_forms(name: str) -> tuple[str, str]:
    """(the A-label form a registry is asked with, the Unicode form people read) of a domain name:
    `café.example` and `xn--caf-dma.example` -> (`xn--caf-dma.example`, `café.example`). An ASCII name is
    both. Raises ValueError for a name IDNA 2008 (UTS #46) does not allow."""
    cleaned = name.strip().rstrip(".")
    try:
        ascii_form = idna.encode(cleaned, uts46=True).decode("ascii").lower()
        return ascii_form, idna.decode(ascii_form)
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"{name!r} is not a valid (internationalized) domain name: {exc}") from None


def domain_url(base: str, domain: str) -> str:
    return f"{base.rstrip('/')}/domain/{domain}"


async def lookup(
    http: httpx.AsyncClient, domain: str, base: str | None = None, bootstrap: str = BOOTSTRAP
) -> Registration | None:
    """`domain` at `base` (else at the server the bootstrap names for its TLD); None: the registry has no
    such domain. Raises CouldNotVerify when no server answers usefully."""
    if base is None:
        found = await _json(http, bootstrap, "the IANA RDAP bootstrap")
        if found is None:
            raise CouldNotVerify(f"the IANA RDAP bootstrap at {bootstrap} answered 404")
        servers = servers_in(found, domain)
        if not servers:
            tld = domain.rsplit(".", 1)[-1]
            raise CouldNotVerify(
                f"the IANA RDAP bootstrap names no RDAP server for .{tld}; set `[net] rdap-url` to the "
                "registry's RDAP server, or set domain.registration to off in [checks]"
            )
        base = servers[0]
    url = domain_url(base, domain)
    data = await _json(http, url, "the registry's RDAP server")
    return None if data is None else parse(domain, data, url)


def parse(domain: str, data: object, url: str) -> Registration:
    """An RDAP domain answer (pure); not one raises CouldNotVerify."""
    if not isinstance(data, Mapping) or (data.get("objectClassName") not in (None, "domain")):
        raise CouldNotVerify(f"the registry's RDAP server at {url} did not answer with a domain object")
    events = {
        str(e.get("eventAction", "")).lower(): e.get("eventDate")
        for e in _list(data.get("events"))
        if isinstance(e, Mapping)
    }
    statuses = tuple(dict.fromkeys(epp(str(s)) for s in _list(data.get("status")) if str(s).strip()))
    return Registration(
        domain,
        registrar(data),
        event_date(events.get("expiration"), "expiration", url),
        event_date(events.get("registration"), "registration", url),
        statuses,
        url,
    )


def _list(value: object) -> Sequence[Any]:
    return value if isinstance(value, list) else ()


def event_date(value: object, event: str, url: str) -> datetime | None:
    """An RDAP event's date, aware: RFC 3339 says it carries its offset; one without (`2027-01-01T00:00:00`,
    `2027-01-01`) is read as UTC, as registries mean it. A date that is not ISO 8601 raises CouldNotVerify
    naming the event."""
    if value is None:
        return None
    text = str(value).strip()[:64]
    try:
        when = datetime.fromisoformat(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when.utcoffset()  # an offset out of range fails here, not later in arithmetic
    except (ValueError, OverflowError, TypeError):
        raise CouldNotVerify(
            f"the RDAP answer at {url} has an {event} date that is not ISO 8601 ({text!r}); check the date "
            "at your registrar"
        ) from None
    return when


def registrar(data: Mapping[str, Any]) -> str | None:
    """The name of the entity with the `registrar` role (its vCard's `fn`, else its handle)."""
    for entity in _list(data.get("entities")):
        if isinstance(entity, Mapping) and "registrar" in _list(entity.get("roles")):
            return _vcard_name(entity.get("vcardArray")) or (
                str(entity["handle"]) if "handle" in entity else None
            )
    return None


def _vcard_name(vcard: object) -> str | None:
    """`fn` of a jCard (RFC 7095): ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Name"]]]."""
    if not (isinstance(vcard, list) and len(vcard) == 2 and isinstance(vcard[1], list)):
        return None
    for prop in vcard[1]:
        if isinstance(prop, list) and len(prop) >= 4 and prop[0] == "fn" and str(prop[3]).strip():
            return str(prop[3]).strip()
    return None
