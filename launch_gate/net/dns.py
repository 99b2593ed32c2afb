"""DNS lookups that keep "absent" apart from "could not verify".

NXDOMAIN and an answer with no records of the type mean the record is absent (a check may fail on that);
SERVFAIL, REFUSED, timeouts and malformed answers mean the question was not answered (an error, never a pass
and never "absent").
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver

from launch_gate.errors import ConfigError
from launch_gate.net.addresses import parse_nameserver


class Status(enum.StrEnum):
    FOUND = "found"
    ABSENT = "absent"
    UNANSWERED = "unanswered"


@dataclass(frozen=True)
class Answer:
    name: str
    rdtype: str
    status: Status
    records: tuple[str, ...] = ()
    detail: str = ""


def resolver(nameservers: Sequence[str] = (), timeout: float = 5.0) -> dns.asyncresolver.Resolver:
    """The system's resolver, or one that asks only the given nameservers (all on one port)."""
    if not nameservers:
        made = dns.asyncresolver.Resolver()
    else:
        parsed = [parse_nameserver(n) for n in nameservers]
        ports = {port for _, port in parsed}
        if len(ports) > 1:
            raise ConfigError("all nameservers must use the same port (dnspython asks them all on one port).")
        made = dns.asyncresolver.Resolver(configure=False)
        made.nameservers = [host for host, _ in parsed]
        made.port = ports.pop()
    made.lifetime = timeout
    made.timeout = timeout
    return made


async def lookup(res: dns.asyncresolver.Resolver, name: str, rdtype: str) -> Answer:
    try:
        answer = await res.resolve(name, rdtype, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Answer(name, rdtype, Status.ABSENT, detail=f"{name} does not exist (NXDOMAIN)")
    except dns.resolver.NoNameservers as exc:
        return Answer(
            name, rdtype, Status.UNANSWERED, detail=f"no nameserver answered for {name} ({_why(exc)})"
        )
    except dns.exception.Timeout:
        return Answer(name, rdtype, Status.UNANSWERED, detail=f"{rdtype} lookup of {name} timed out")
    except dns.exception.DNSException as exc:
        return Answer(
            name, rdtype, Status.UNANSWERED, detail=f"{rdtype} lookup of {name} failed: {type(exc).__name__}"
        )
    if answer.rrset is None:
        return Answer(name, rdtype, Status.ABSENT, detail=f"{name} has no {rdtype} records")
    records = tuple(sorted(_text(r) for r in answer.rrset))
    return Answer(name, rdtype, Status.FOUND, records)


async def addresses(res: dns.asyncresolver.Resolver, name: str) -> Answer:
    """Every A and AAAA address of `name` (FOUND), none (ABSENT), or no usable answer (UNANSWERED)."""
    answers = await asyncio.gather(lookup(res, name, "A"), lookup(res, name, "AAAA"))
    found = tuple(r for a in answers for r in a.records)
    if found:
        return Answer(name, "A/AAAA", Status.FOUND, found)
    failed = next((a for a in answers if a.status is Status.UNANSWERED), None)
    if failed is not None:
        return Answer(name, "A/AAAA", Status.UNANSWERED, detail=failed.detail)
    return Answer(name, "A/AAAA", Status.ABSENT, detail=f"{name} has no A or AAAA record")


def _why(exc: dns.resolver.NoNameservers) -> str:
    text = str(exc)
    for code in ("SERVFAIL", "REFUSED", "NOTIMP", "FORMERR"):
        if code in text:
            return code
    return "no usable answer"


def _text(rdata: object) -> str:
    strings = getattr(rdata, "strings", None)
    if strings is not None:  # TXT: the joined character-strings, as SPF and DMARC read them
        return b"".join(strings).decode("utf-8", errors="replace")
    return str(rdata)
