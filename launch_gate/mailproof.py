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

from launch_gate.mailauth import parse_tags
from launch_gate.mailbox import Mail
from launch_gate.net.dns import Status, lookup


@dataclass
class Proof:
    """What is wrong with a message (`fails`), what could not be verified (`errors`), and notes."""

    fails: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _organizational(host: str) -> str:
    from launch_gate.checks.email_auth import organizational_domain

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


async def dkim_proof(mail: Mail, resolver: dns.asyncresolver.Resolver, proof: Proof) -> list[str]:
    """The domains (d=) of signatures that verify; problems go into `proof`."""
    signatures = [str(s) for s in mail.message.get_all("dkim-signature", [])]
    if not signatures:
        proof.fails.append(
            "it is not DKIM-signed: receivers cannot tie it to your domain (turn on DKIM signing at your "
            "mail provider)"
        )
        return []
    verified = []
    for index, signature in enumerate(signatures):
        tags = parse_tags(signature.replace("\r\n", "").replace("\n", ""))
        domain, selector = tags.get("d", "").lower(), tags.get("s", "")
        if not domain or not selector:
            proof.fails.append("its DKIM-Signature has no d= or s= tag")
            continue
        name = f"{selector}._domainkey.{domain}"
        answer = await lookup(resolver, name, "TXT")
        if answer.status is Status.UNANSWERED:
            proof.errors.append(f"the DKIM key {name} could not be fetched ({answer.detail})")
            continue
        record = next((r for r in answer.records if "p=" in r), None)
        if answer.status is Status.ABSENT or record is None:
            proof.fails.append(f"its DKIM signature names the key {name}, which DNS does not publish")
            continue
        if await _verify_signature(mail.raw, index, record):
            verified.append(domain)
        else:
            proof.fails.append(
                f"its DKIM signature (d={domain}, s={selector}) does not verify: the message was changed "
                "after signing (a relay or footer) or DNS publishes another key than the one signing"
            )
    return verified


async def prove(
    mail: Mail,
    resolver: dns.asyncresolver.Resolver,
    mail_domain: str | None,
    canonical_host: str,
    link_hosts: tuple[str, ...] = (),
) -> Proof:
    proof = Proof()
    sender = _domain(str(mail.message.get("from", "")))
    verified = await dkim_proof(mail, resolver, proof)
    if not sender:
        proof.fails.append("it has no From address")
    else:
        org = _organizational(sender)
        if mail_domain and org != _organizational(mail_domain):
            proof.fails.append(
                f"it comes from {sender}, not your mail domain {mail_domain} whose SPF and DMARC the gate checks "
                "(send from that domain, or set [email] domain)"
            )
        if verified and not any(_organizational(d) == org for d in verified):
            proof.fails.append(
                f"its DKIM signature is by {', '.join(sorted(set(verified)))}, not aligned with From {sender}: "
                "DMARC fails (sign with your own domain at the mail provider)"
            )
        bounce = _domain(str(mail.message.get("return-path", "")))
        if bounce and _organizational(bounce) != org:
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
