"""Email authentication in DNS: SPF, DMARC, DKIM and MX for the domain your transactional mail comes from.

Without them, signup confirmations and booking emails land in spam or are refused. A DNS answer that says a
record does not exist fails a check; a resolver that does not answer makes it an error (could not verify).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.asyncresolver

from launch_gate.checks import Context, check
from launch_gate.errors import CouldNotVerify
from launch_gate.net import dns_resolver
from launch_gate.net.dns import Answer, Status, lookup
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.domains import mail_domain, organizational_domain
from launch_gate.rules.mailauth import (
    SpfSyntaxError,
    dkim_key_bits,
    is_dmarc,
    is_spf,
    parse_dmarc,
    parse_spf,
    policy_rank,
)

MAX_LOOKUPS = 10  # RFC 7208 4.6.4
MAX_VOID = 2
MAX_QUERIES = 60  # a bound on our own walk, whatever the records say


def _no_domain() -> Verdict:
    return Verdict.of(Outcome.SKIP, "no mail domain: set `target` or [tool.launch-gate.email] domain.")


async def _ask(res: dns.asyncresolver.Resolver, name: str, rdtype: str) -> Answer:
    answer = await lookup(res, name, rdtype)
    if answer.status is Status.UNANSWERED:
        raise CouldNotVerify(answer.detail)
    return answer


@dataclass
class SpfWalk:
    """Follows includes and redirects, counting DNS-querying terms and void lookups as receivers do."""

    res: dns.asyncresolver.Resolver
    lookups: int = 0
    void: int = 0
    queries: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    async def record(self, domain: str) -> str | None:
        self.queries += 1
        answer = await _ask(self.res, domain, "TXT")
        found = [r for r in answer.records if is_spf(r)]
        if len(found) > 1:
            self.problems.append(
                f"{domain} publishes {len(found)} SPF records; receivers treat that as an error"
            )
        return found[0] if found else None

    async def walk(self, domain: str, record: str, seen: tuple[str, ...]) -> None:
        try:
            terms = parse_spf(record)
        except SpfSyntaxError as exc:
            self.problems.append(f"SPF record of {domain} is invalid: {exc}")
            return
        for term in terms:
            if term.counts_lookup:
                self.lookups += 1
            if term.name == "ptr":
                self.notes.append(f"{domain} uses ptr, which RFC 7208 says not to use")
            if self.queries >= MAX_QUERIES or self.lookups > MAX_LOOKUPS:
                return
            if term.name in ("include", "redirect") and term.value:
                await self._follow(term.name, term.value.lower().rstrip("."), seen)
            elif term.name in ("a", "mx", "exists") and "%" not in (term.value or ""):
                target = (term.value or domain).lower().rstrip(".")
                self.queries += 1
                answer = await _ask(self.res, target, "MX" if term.name == "mx" else "A")
                if answer.status is Status.ABSENT:
                    self.void += 1

    async def _follow(self, kind: str, target: str, seen: tuple[str, ...]) -> None:
        if target in seen:
            self.problems.append(f"{kind}:{target} loops back to {' -> '.join(seen)}")
            return
        inner = await self.record(target)
        if inner is None:
            self.void += 1
            self.problems.append(f"{kind}:{target} has no SPF record (receivers report a permanent error)")
            return
        await self.walk(target, inner, (*seen, target))


@check(
    "email.spf",
    Phase.POST,
    "SPF: one valid record, at most 10 lookups and 2 void, no +all/?all",
    fails_when=(
        "the mail domain has no SPF record, two of them, invalid syntax, more than 10 DNS-querying terms or "
        "2 void lookups (counted through includes), or ends in `+all`/`?all`"
    ),
)
async def check_spf(ctx: Context) -> Verdict:
    domain = mail_domain(ctx.settings)
    if domain is None:
        return _no_domain()
    walk = SpfWalk(dns_resolver(ctx.settings))
    record = await walk.record(domain)
    if record is None:
        return Verdict.of(
            Outcome.FAIL,
            f"{domain} has no SPF record: receivers cannot tell your mail from forgeries. Publish a TXT record "
            "such as `v=spf1 include:<your mail provider> -all`.",
        )
    await walk.walk(domain, record, (domain,))
    problems = list(walk.problems)
    if walk.lookups > MAX_LOOKUPS:
        problems.append(f"{walk.lookups} DNS-querying terms counted through includes (at most {MAX_LOOKUPS})")
    if walk.void > MAX_VOID:
        problems.append(f"{walk.void} void lookups (at most {MAX_VOID})")
    try:
        final = [t for t in parse_spf(record) if t.name == "all"]
    except SpfSyntaxError:
        final = []
    if final and final[-1].qualifier in ("+", "?"):
        problems.append(
            f"ends in {final[-1].qualifier}all: any server may send as {domain}; end in -all or ~all"
        )
    findings = [Finding(p) for p in problems] + [Finding(n) for n in walk.notes]
    if problems:
        return Verdict.of(Outcome.FAIL, f"SPF for {domain} is broken: {problems[0]}", findings)
    return Verdict.of(
        Outcome.PASS,
        f"SPF for {domain}: {walk.lookups} of {MAX_LOOKUPS} DNS lookups, {walk.void} void",
        findings,
    )


@check(
    "email.dmarc",
    Phase.POST,
    "DMARC present with at least the minimum policy (rua as a warning)",
    fails_when=(
        "no DMARC record (at the domain, else the organizational domain), or a policy below "
        "`dmarc-min-policy`; warns without `rua=` or with `pct` < 100"
    ),
)
async def check_dmarc(ctx: Context) -> Verdict:
    domain = mail_domain(ctx.settings)
    if domain is None:
        return _no_domain()
    res = dns_resolver(ctx.settings)
    names = [f"_dmarc.{domain}"]
    if organizational_domain(domain) != domain:
        names.append(f"_dmarc.{organizational_domain(domain)}")  # RFC 7489 6.6.3: fall back to the org domain
    records: list[str] = []
    for name in names:
        records = [r for r in (await _ask(res, name, "TXT")).records if is_dmarc(r)]
        if records:
            break
    if not records:
        return Verdict.of(
            Outcome.FAIL,
            f"{domain} has no DMARC record: publish `v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}` "
            f"at _dmarc.{domain}.",
        )
    if len(records) > 1:
        return Verdict.of(
            Outcome.FAIL, f"{len(records)} DMARC records for {domain}; receivers ignore them all."
        )
    try:
        dmarc = parse_dmarc(records[0])
    except ValueError as exc:
        return Verdict.of(Outcome.FAIL, f"the DMARC record of {domain} is invalid: {exc}.")
    minimum = ctx.settings.email.dmarc_min_policy
    if policy_rank(dmarc.policy) < policy_rank(minimum):
        return Verdict.of(
            Outcome.FAIL,
            f"DMARC policy of {domain} is p={dmarc.policy}: forged mail is still delivered. Expected at least "
            f"p={minimum} ([email] dmarc-min-policy).",
        )
    gaps = []
    if not dmarc.rua:
        gaps.append("no rua= address: you will not see reports of who sends as you")
    if dmarc.pct < 100:
        gaps.append(f"pct={dmarc.pct}: the policy applies to only part of the mail")
    if gaps:
        return Verdict.of(Outcome.WARN, f"DMARC p={dmarc.policy} for {domain}, but {'; '.join(gaps)}.")
    return Verdict.of(Outcome.PASS, f"DMARC p={dmarc.policy} for {domain}, reports to {', '.join(dmarc.rua)}")


@check(
    "email.dkim",
    Phase.POST,
    "DKIM keys published for the configured selectors, RSA >= 1024 bits",
    fails_when=(
        "a configured selector has no key, a revoked one, or an RSA key under 1024 bits; warns under 2048"
    ),
)
async def check_dkim(ctx: Context) -> Verdict:
    domain = mail_domain(ctx.settings)
    if domain is None:
        return _no_domain()
    selectors = ctx.settings.email.dkim_selectors
    if not selectors:
        return Verdict.of(
            Outcome.SKIP, "no dkim-selectors in [tool.launch-gate.email] (your mail provider names them)."
        )
    res = dns_resolver(ctx.settings)
    failures, weak, good = [], [], []
    for selector in selectors:
        name = f"{selector}._domainkey.{domain}"
        records = [r for r in (await _ask(res, name, "TXT")).records if "p=" in r]
        if not records:
            failures.append(Finding(f"{name}: no DKIM key published"))
            continue
        try:
            bits = dkim_key_bits(records[0])
        except ValueError as exc:
            failures.append(Finding(f"{name}: {exc}"))
            continue
        if bits is None:
            failures.append(Finding(f"{name}: the key is revoked (empty p=)"))
        elif bits < 1024:
            failures.append(Finding(f"{name}: RSA key of {bits} bits; receivers reject keys under 1024"))
        elif bits < 2048:
            weak.append(Finding(f"{name}: RSA key of {bits} bits; use 2048"))
        else:
            good.append(f"{selector} ({bits} bits)")
    if failures:
        return Verdict.of(Outcome.FAIL, f"DKIM for {domain}: {failures[0].message}", [*failures, *weak])
    if weak:
        return Verdict.of(Outcome.WARN, f"DKIM for {domain}: {weak[0].message}", weak)
    return Verdict.of(Outcome.PASS, f"DKIM keys for {domain}: {', '.join(good)}")


@check(
    "email.mx",
    Phase.POST,
    "the mail domain has MX records",
    fails_when="the mail domain has no MX, or a null MX",
)
async def check_mx(ctx: Context) -> Verdict:
    domain = mail_domain(ctx.settings)
    if domain is None:
        return _no_domain()
    answer = await _ask(dns_resolver(ctx.settings), domain, "MX")
    if answer.status is Status.ABSENT:
        return Verdict.of(
            Outcome.FAIL, f"{domain} has no MX record: replies and bounces to your mail are lost."
        )
    if any(r.split()[-1] == "." for r in answer.records):
        return Verdict.of(Outcome.FAIL, f"{domain} publishes a null MX: it says it accepts no mail at all.")
    return Verdict.of(Outcome.PASS, f"MX for {domain}: {', '.join(answer.records)}")
