"""Parsers for the email authentication records (SPF, DMARC, DKIM): pure functions of the record text.

The checks in `checks/email.py` fetch the records and follow SPF includes; everything here can be
tested without a network.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})  # RFC 7208 4.6.4
_TERM = re.compile(r"^([+\-~?]?)([A-Za-z][A-Za-z0-9_.-]*)(?::(.*?))?(/\d+(?://\d+)?)?$")
_MODIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$")
POLICIES = ("none", "quarantine", "reject")


def is_spf(txt: str) -> bool:
    return txt.lower() == "v=spf1" or txt.lower().startswith("v=spf1 ")


@dataclass(frozen=True)
class SpfTerm:
    qualifier: str  # "+", "-", "~", "?" (a mechanism without one is "+")
    name: str  # lowercase mechanism or modifier name
    value: str | None
    modifier: bool = False

    @property
    def counts_lookup(self) -> bool:
        return self.name in LOOKUP_TERMS


class SpfSyntaxError(ValueError):
    """The record is a permerror for receivers: they treat it as if there were no SPF at all."""


def parse_spf(record: str) -> list[SpfTerm]:
    words = record.split()
    if not words or words[0].lower() != "v=spf1":
        raise SpfSyntaxError("does not start with v=spf1")
    terms = []
    for word in words[1:]:
        modifier = _MODIFIER.match(word)
        if modifier and ":" not in modifier[1]:
            terms.append(SpfTerm("", modifier[1].lower(), modifier[2], modifier=True))
            continue
        match = _TERM.match(word)
        if match is None or match[2].lower() not in MECHANISMS:
            raise SpfSyntaxError(f"unknown or malformed term {word!r}")
        name = match[2].lower()
        if name in ("include", "exists") and not match[3]:
            raise SpfSyntaxError(f"{name} needs a domain ({word!r})")
        if name in ("ip4", "ip6") and not match[3]:
            raise SpfSyntaxError(f"{name} needs an address ({word!r})")
        terms.append(SpfTerm(match[1] or "+", name, match[3]))
    redirects = [t for t in terms if t.modifier and t.name == "redirect"]
    if len(redirects) > 1:
        raise SpfSyntaxError("more than one redirect=")
    return terms


@dataclass(frozen=True)
class Dmarc:
    policy: str
    subdomain_policy: str | None
    rua: tuple[str, ...]
    pct: int


def parse_tags(record: str) -> dict[str, str]:
    """`k=v; k=v` tag lists, as DMARC and DKIM records use."""
    tags = {}
    for part in record.split(";"):
        if "=" in part:
            key, _, value = part.partition("=")
            tags[key.strip().lower()] = value.strip()
    return tags


def is_dmarc(txt: str) -> bool:
    return re.match(r"^\s*v\s*=\s*DMARC1\s*(;|$)", txt, re.IGNORECASE) is not None


def parse_dmarc(record: str) -> Dmarc:
    tags = parse_tags(record)
    policy = tags.get("p", "").lower()
    if policy not in POLICIES:
        raise ValueError(f"p= must be none, quarantine or reject, got {policy or 'nothing'!r}")
    sp = tags.get("sp", "").lower() or None
    if sp is not None and sp not in POLICIES:
        raise ValueError(f"sp= must be none, quarantine or reject, got {sp!r}")
    rua = tuple(u.strip() for u in tags.get("rua", "").split(",") if u.strip())
    try:
        pct = int(tags.get("pct", "100"))
    except ValueError:
        raise ValueError(f"pct= must be a number, got {tags['pct']!r}") from None
    return Dmarc(policy, sp, rua, pct)


def policy_rank(policy: str) -> int:
    return POLICIES.index(policy)


def dkim_key_bits(record: str) -> int | None:
    """RSA modulus size of a DKIM key record; None for a revoked key (empty p=). Raises ValueError."""
    tags = parse_tags(record)
    if tags.get("k", "rsa").lower() not in ("rsa", "ed25519"):
        raise ValueError(f"unknown key type k={tags['k']!r}")
    if "p" not in tags:
        raise ValueError("no p= (public key) tag")
    data = re.sub(r"\s+", "", tags["p"])
    if not data:
        return None
    if tags.get("k", "rsa").lower() == "ed25519":
        return 256
    try:
        key = load_der_public_key(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"p= is not a valid public key ({type(exc).__name__})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("p= is not an RSA key")
    return key.key_size
