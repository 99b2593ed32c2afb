"""What the handover pack looks up that no check reports: who serves the zone (NS), who takes the mail (MX,
SPF includes), who issued the certificate, and where the target's name points. Each lookup goes through the
gate's own resolver and connect-to settings; a lookup that fails leaves a note saying why, never an error.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID

from launch_gate.config import Settings
from launch_gate.net import destinations, dns_resolver
from launch_gate.net.dns import Answer, Status, lookup
from launch_gate.rules.domains import mail_domain, organizational_domain, target_host
from launch_gate.rules.mailauth import SpfSyntaxError, is_spf, parse_spf


@dataclass(frozen=True)
class Found:
    """What one lookup found, or (no values) why it found nothing."""

    values: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Certificate:
    host: str
    issuer: str
    expires: datetime


@dataclass(frozen=True)
class Facts:
    """Everything the pack looked up itself."""

    domain: str | None = None  # the organizational domain of the target
    nameservers: Found = Found(note="no target")
    mail_domain: str | None = None
    exchanges: Found = Found(note="no mail domain")  # `10 mx.example.com`, by preference
    spf: Found = Found(note="no mail domain")  # the SPF record, whole
    includes: tuple[str, ...] = ()  # its include: and redirect= domains
    addresses: Found = Found(note="no target")
    port: int | None = None  # where connect-to sends the target's port, when it changes it
    certificate: Certificate | None = None
    certificate_note: str = "no https target"


def _found(answer: Answer, what: str) -> Found:
    if answer.status is Status.FOUND:
        return Found(answer.records)
    return Found(note=answer.detail or f"no {what}")


def _issuer(certificate: x509.Certificate) -> str:
    name = certificate.issuer
    parts = [
        a.value
        for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME)
        for a in name.get_attributes_for_oid(oid)
    ]
    return " / ".join(str(p) for p in dict.fromkeys(parts)) or name.rfc4514_string()


async def certificate(settings: Settings, host: str, port: int) -> Certificate | str:
    """The certificate `host` serves (read, not judged: tls.* judge it), or why it could not be read."""
    answer, to_port = await destinations(settings, host, port)
    if answer.status is not Status.FOUND:
        return answer.detail or f"{host} does not resolve"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # to read who issued it, even one that fails verification
    timeout = settings.net.probe_timeout
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(answer.records[0], to_port, ssl=context, server_hostname=host), timeout
        )
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        return f"no TLS connection to {host}:{port} ({type(exc).__name__})"
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        writer.close()
    if not der:
        return f"{host} sent no certificate"
    parsed = x509.load_der_x509_certificate(der)
    return Certificate(host, _issuer(parsed), parsed.not_valid_after_utc)


async def _spf(settings: Settings, domain: str) -> tuple[Found, tuple[str, ...]]:
    answer = await lookup(dns_resolver(settings), domain, "TXT")
    if answer.status is not Status.FOUND:
        return _found(answer, "TXT records"), ()
    record = next((r for r in answer.records if is_spf(r)), None)
    if record is None:
        return Found(note=f"{domain} publishes no SPF record"), ()
    try:
        terms = parse_spf(record)
    except SpfSyntaxError:
        return Found((record,)), ()
    named = [t.value for t in terms if t.name in ("include", "redirect") and t.value]
    return Found((record,)), tuple(dict.fromkeys(n.lower().rstrip(".") for n in named))


async def gather(settings: Settings) -> Facts:
    """Every lookup, concurrently."""
    host = target_host(settings)
    mail = mail_domain(settings)
    target = urlsplit(settings.target or "")
    port = target.port or (443 if target.scheme == "https" else 80)
    domain = organizational_domain(host) if host else None
    res = dns_resolver(settings)
    none = Found(note="no target")

    async def ns() -> Found:
        return _found(await lookup(res, domain, "NS"), "NS records") if domain else none

    async def mx() -> Found:
        return _found(await lookup(res, mail, "MX"), "MX records") if mail else Found(note="no mail domain")

    async def spf() -> tuple[Found, tuple[str, ...]]:
        return await _spf(settings, mail) if mail else (Found(note="no mail domain"), ())

    async def where() -> tuple[Found, int]:
        if not host:
            return none, port
        answer, to_port = await destinations(settings, host, port)
        return _found(answer, "addresses"), to_port

    async def tls() -> Certificate | str:
        return (
            await certificate(settings, host, port)
            if host and target.scheme == "https"
            else "no https target"
        )

    nameservers, exchanges, (record, includes), (addresses, to_port), cert = await asyncio.gather(
        ns(), mx(), spf(), where(), tls()
    )
    return Facts(
        domain,
        nameservers,
        mail,
        Found(tuple(sorted(exchanges.values, key=_preference)), exchanges.note),
        record,
        includes,
        addresses,
        to_port if to_port != port else None,
        cert if isinstance(cert, Certificate) else None,
        cert if isinstance(cert, str) else "",
    )


def _preference(mx: str) -> tuple[int, str]:
    first, _, rest = mx.partition(" ")
    return (int(first), rest) if first.isdigit() else (65536, mx)
