"""Email proof: a received message is signed (DKIM verifies against the key in DNS, asked through the gate's
own resolver), its From domain is the mail domain whose SPF/DMARC the gate checks and aligns with the
signature, and its links point at the canonical host over https.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import urlsplit

import dkim
import dns.asyncresolver

from launch_gate.flows.mailbox import Mail
from launch_gate.net.dns import Status, lookup
from launch_gate.rules.mailauth import parse_tags


@dataclass
class Proof:
    """What is wrong with a message (`fails`), what could not be verified (`errors`), and notes."""

    fails: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _organizational(host: str) -> str:
    from launch_gate.rules.domains import organizational_domain  # the public suffix list: loaded when needed

    return organizational_domain(host)


def _domain(address_header: str) -> str:
    return parseaddr(address_header)[1].rpartition("@")[2].lower().rstrip(".")


async def _verify_signature(raw: bytes, index: int, record: str) -> bool:
    def verify() -> bool:
        try:
            return bool(
                dkim.DKIM(raw, minkey=1024).verify(idx=index, dnsfunc=lambda *_a, **_k: record.encode())
            )
        except dkim.DKIMException:
            return False

    return await asyncio.to_thread(verify)


@dataclass(frozen=True)
class Signature:
    domain: str
    verified: bool
    problem: str = ""  # why it does not count
    unanswered: bool = False  # its key could not be fetched: could not verify


async def signatures(mail: Mail, resolver: dns.asyncresolver.Resolver) -> list[Signature]:
    """Each DKIM signature of the message, verified against the key DNS publishes for it."""
    found = []
    for index, header in enumerate(str(s) for s in mail.message.get_all("dkim-signature", [])):
        tags = parse_tags(header.replace("\r\n", "").replace("\n", ""))
        domain, selector = tags.get("d", "").lower(), tags.get("s", "")
        if not domain or not selector:
            found.append(Signature(domain, False, "its DKIM-Signature has no d= or s= tag"))
            continue
        name = f"{selector}._domainkey.{domain}"
        answer = await lookup(resolver, name, "TXT")
        record = next((r for r in answer.records if "p=" in r), None)
        if answer.status is Status.UNANSWERED:
            found.append(
                Signature(domain, False, f"the DKIM key {name} could not be fetched ({answer.detail})", True)
            )
        elif record is None:
            found.append(
                Signature(
                    domain, False, f"its DKIM signature names the key {name}, which DNS does not publish"
                )
            )
        elif await _verify_signature(mail.raw, index, record):
            found.append(Signature(domain, True))
        else:
            found.append(Signature(domain, False,
                f"its DKIM signature (d={domain}, s={selector}) does not verify: the message was changed after "
                "signing (a relay or footer) or DNS publishes another key than the one signing"))  # fmt: skip
    return found


async def prove(
    mail: Mail,
    resolver: dns.asyncresolver.Resolver,
    mail_domain: str | None,
    canonical_host: str,
    link_hosts: tuple[str, ...] = (),
) -> Proof:
    proof = Proof()
    sender = _domain(str(mail.message.get("from", "")))
    org = _organizational(sender) if sender else ""
    signed = await signatures(mail, resolver)
    aligned = [g for g in signed if g.verified and _organizational(g.domain) == org]
    if not sender:
        proof.fails.append("it has no From address")
    elif mail_domain and org != _organizational(mail_domain):
        proof.fails.append(
            f"it comes from {sender}, not your mail domain {mail_domain} whose SPF and DMARC the gate checks "
            "(send from that domain, or set [email] domain)"
        )
    if not signed:
        proof.fails.append(
            "it is not DKIM-signed: receivers cannot tie it to your domain (turn on DKIM signing at your "
            "mail provider)"
        )
    elif aligned:  # what DMARC needs; other signatures (a provider's own, a broken relay's) are only noted
        proof.notes += [g.problem for g in signed if g.problem]
    elif any(g.verified for g in signed):
        others = ", ".join(sorted({g.domain for g in signed if g.verified}))
        proof.fails.append(
            f"its DKIM signature is by {others}, not aligned with From {sender}: DMARC fails (sign with your "
            "own domain at the mail provider)"
        )
    else:
        proof.fails += [g.problem for g in signed if not g.unanswered]
        proof.errors += [g.problem for g in signed if g.unanswered]
    bounce = _domain(str(mail.message.get("return-path", "")))
    if sender and bounce and _organizational(bounce) != org:
        proof.notes.append(
            f"its Return-Path {bounce} is not aligned with From (SPF does not count for DMARC)"
        )
    allowed = {canonical_host.lower(), *(h.lower() for h in link_hosts)}
    for link in mail.links:
        parts = urlsplit(link)
        shown = f"{parts.scheme}://{parts.netloc}{parts.path}"  # never the query: it may carry a token
        if (parts.hostname or "").lower() not in allowed:
            proof.fails.append(f"it links to {shown}, not to {canonical_host} (or [smoke] link-hosts)")
        elif parts.scheme.lower() != "https":
            proof.fails.append(f"it links to {shown} over plain http")
    return proof
