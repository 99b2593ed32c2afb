"""Which mail provider a domain uses, from its MX and SPF records (looked up through the gate's own resolver),
and the DKIM selectors that provider signs with.

Fixed selectors are written as the providers document them: Google Workspace `google`, Microsoft 365
`selector1` and `selector2`, SendGrid `s1` and `s2`. Mailgun and Postmark name a selector per domain, so the
usual ones are looked up (Mailgun `mx`, `k1`, `smtp`, `krs`, `pic`, `mailo`; Postmark `pm`) and only those
published are written. Amazon SES's Easy DKIM selectors are random tokens: they are left to the user.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from launch_gate.net.dns import Status, lookup, resolver
from launch_gate.rules.domains import organizational_domain


@dataclass(frozen=True)
class Provider:
    name: str
    mx: tuple[str, ...]  # MX host suffixes
    spf: tuple[str, ...]  # SPF include suffixes
    selectors: tuple[str, ...] = ()  # always signs with these
    candidates: tuple[str, ...] = ()  # one of these, per domain: looked up
    advice: str = ""  # when no selector can be told


PROVIDERS = (
    Provider("Google Workspace", ("google.com", "googlemail.com"), ("_spf.google.com",), selectors=("google",)),
    Provider(
        "Microsoft 365", ("mail.protection.outlook.com",), ("spf.protection.outlook.com",),
        selectors=("selector1", "selector2"),
    ),
    Provider("SendGrid", (), ("sendgrid.net",), selectors=("s1", "s2")),
    Provider(
        "Postmark", ("mtasv.net",), ("mtasv.net",), candidates=("pm",),
        advice="Postmark's selector is date-stamped (e.g. 20240101000000pm): copy it from Postmark's DNS settings",
    ),
    Provider(
        "Mailgun", ("mailgun.org",), ("mailgun.org",), candidates=("mx", "k1", "smtp", "krs", "pic", "mailo"),
        advice="copy Mailgun's selector from its domain settings (the TXT record's name before ._domainkey)",
    ),
    Provider(
        "Amazon SES", ("amazonaws.com", "amazonses.com"), ("amazonses.com",),
        advice="SES Easy DKIM selectors are 3 random tokens: copy them from the SES console (Authentication)",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class MailPlan:
    domain: str
    providers: list[tuple[str, str]] = field(default_factory=list)  # (provider, the record that showed it)
    selectors: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    problem: str | None = None  # DNS could not answer

    @property
    def summary(self) -> str:
        if self.problem:
            return f"mail: could not look up {self.domain} ({self.problem})"
        if not self.providers:
            return f"mail: no known provider in the MX/SPF records of {self.domain}"
        names = ", ".join(p for p, _ in self.providers)
        chosen = f" (DKIM selectors {', '.join(self.selectors)})" if self.selectors else ""
        return f"mail: {names} for {self.domain}{chosen}"


def _matches(host: str, suffixes: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in suffixes)


def _spf_includes(records: tuple[str, ...]) -> list[str]:
    """The domains an SPF record includes or redirects to."""
    includes = []
    for record in records:
        if not record.lower().startswith("v=spf1"):
            continue
        for term in record.split()[1:]:
            low = term.lower().lstrip("+?~-")
            if low.startswith("include:") or low.startswith("redirect="):
                includes.append(low.split(":" if low.startswith("include:") else "=", 1)[1])
    return includes


def recognise(mx: tuple[str, ...], txt: tuple[str, ...]) -> list[tuple[Provider, str]]:
    """The providers the records show, each with the record that showed it. Pure."""
    hosts = [r.split()[-1].rstrip(".") for r in mx if r.split()]
    includes = _spf_includes(txt)
    found = []
    for provider in PROVIDERS:
        by_mx = next((h for h in hosts if _matches(h, provider.mx)), None)
        by_spf = next((i for i in includes if _matches(i, provider.spf)), None)
        if by_mx or by_spf:
            found.append((provider, f"MX {by_mx}" if by_mx else f"SPF include:{by_spf}"))
    return found


async def _detect(domain: str, nameservers: list[str], timeout: float) -> MailPlan:
    res = resolver(nameservers, timeout)
    mx, txt = await asyncio.gather(lookup(res, domain, "MX"), lookup(res, domain, "TXT"))
    failed = next((a for a in (mx, txt) if a.status is Status.UNANSWERED), None)
    if failed is not None:
        return MailPlan(domain, problem=failed.detail)
    found = recognise(mx.records, txt.records)
    selectors = [s for p, _ in found for s in p.selectors]
    advice = []
    for provider, _ in found:
        if not provider.candidates:
            advice += [provider.advice] if provider.advice else []
            continue
        names = [f"{c}._domainkey.{domain}" for c in provider.candidates]
        answers = await asyncio.gather(*(lookup(res, n, "TXT") for n in names))
        cnames = await asyncio.gather(*(lookup(res, n, "CNAME") for n in names))
        published = [
            c for c, a, b in zip(provider.candidates, answers, cnames, strict=True)
            if Status.FOUND in (a.status, b.status)
        ]  # fmt: skip
        selectors += published
        if not published:
            advice.append(provider.advice)
    return MailPlan(domain, [(p.name, why) for p, why in found], list(dict.fromkeys(selectors)), advice)


def detect(host: str, nameservers: list[str], timeout: float = 3.0) -> MailPlan:
    """The mail plan for the organizational domain of `host`; a DNS failure is in `problem`, never raised."""
    domain = organizational_domain(host)
    try:
        return asyncio.run(_detect(domain, nameservers, timeout))
    except Exception as exc:  # a resolver we could not even build (no resolv.conf): a note, not a crash
        return MailPlan(domain, problem=f"{type(exc).__name__}")
