"""DNS checks: every name the product uses resolves; a CAA record says who may issue its certificates."""

from __future__ import annotations

from launch_gate.checks import Context, check
from launch_gate.net import dns_resolver
from launch_gate.net.dns import Status, lookup
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.domains import organizational_domain, target_host, twin


def names_to_resolve(ctx: Context, host: str) -> list[str]:
    apex = organizational_domain(host)
    names = [host, twin(host)]
    for entry in ctx.settings.dns.subdomains:
        entry = entry.lower().rstrip(".")
        names.append(entry if entry.endswith(apex) and "." in entry else f"{entry}.{apex}")
    return list(dict.fromkeys(names))


@check(
    "dns.resolves",
    Phase.POST,
    "the target, its apex/www twin and configured subdomains resolve",
    needs_target="(the canonical URL) to check DNS",
    fails_when="the target's host, its apex/www twin, or a configured subdomain has no A/AAAA record",
)
async def check_resolves(ctx: Context) -> Verdict:
    host = target_host(ctx.settings) or ""
    res = dns_resolver(ctx.settings)
    missing, unanswered, found = [], [], []
    for name in names_to_resolve(ctx, host):
        answers = [await lookup(res, name, rdtype) for rdtype in ("A", "AAAA")]
        if any(a.status is Status.FOUND for a in answers):
            found.append(f"{name} ({', '.join(r for a in answers for r in a.records)})")
        elif any(a.status is Status.UNANSWERED for a in answers):
            unanswered.append(Finding(next(a.detail for a in answers if a.status is Status.UNANSWERED)))
        else:
            missing.append(Finding(f"{name} has no A or AAAA record"))
    if missing:
        names = ", ".join(f.message.split(" ", 1)[0] for f in missing)
        return Verdict.of(
            Outcome.FAIL,
            f"{names} do not resolve: visitors get 'site not found'. Add the DNS records.",
            missing,
        )
    if unanswered:
        return Verdict.of(Outcome.ERROR, f"could not verify: {unanswered[0].message}", unanswered)
    return Verdict.of(Outcome.PASS, f"all resolve: {'; '.join(found)}")


@check(
    "dns.caa",
    Phase.POST,
    "a CAA record limits who may issue certificates (warning)",
    needs_target="(the canonical URL) to check DNS",
    fails_when=(
        "warns when no CAA record (up the tree to the organizational domain) limits who may issue "
        "certificates"
    ),
)
async def check_caa(ctx: Context) -> Verdict:
    host = target_host(ctx.settings) or ""
    res = dns_resolver(ctx.settings)
    apex = organizational_domain(host)
    labels = host.split(".")
    # RFC 8659: the closest CAA record set up the tree applies; stop at the organizational domain.
    for start in range(len(labels) - len(apex.split(".")) + 1):
        name = ".".join(labels[start:])
        answer = await lookup(res, name, "CAA")
        if answer.status is Status.UNANSWERED:
            return Verdict.of(Outcome.ERROR, f"could not verify: {answer.detail}")
        if answer.status is Status.FOUND:
            return Verdict.of(Outcome.PASS, f"CAA at {name}: {'; '.join(answer.records)}")
    return Verdict.of(
        Outcome.WARN,
        f"no CAA record for {host} or {apex}: any certificate authority may issue for it. Add e.g. "
        f'`{apex}. CAA 0 issue "letsencrypt.org"`.',
    )
