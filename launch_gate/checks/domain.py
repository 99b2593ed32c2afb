"""The canonical domain: every http/https, apex/www variant ends at the canonical URL, and the canonical URL
itself is a page that answers in time; and the registered domain itself (RDAP): not about to expire, not on
hold, locked against transfer. A host or registry that cannot be reached makes the check an error, never a pass.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from launch_gate.checks import Context, check
from launch_gate.errors import ConfigError, CouldNotVerify
from launch_gate.net import destinations, http_client, rdap
from launch_gate.net.addresses import is_address
from launch_gate.net.dns import Status
from launch_gate.net.probes import Hop, Page, chain, follow, home_page, origin
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.domains import organizational_domain, target_host, twin

PERMANENT = (301, 308)
PAGE_TOLERANCE = (0.05, 0.05)  # (seconds, share of the budget) a page may overrun `page-within` by


def _variant_problems(start: str, name: str, hops: list[Hop], expected: str) -> list[str]:
    shown = chain(hops)
    final, redirects = hops[-1].url, hops[:-1]
    problems = []
    if final != expected:
        problems.append(f"{start} ends at {final}, not {expected}: {shown}")
    if len(redirects) > 2:
        problems.append(f"{start} takes {len(redirects)} redirects (at most 2): {shown}")
    temporary = [h for h in redirects if h.status not in PERMANENT]
    if temporary:
        problems.append(f"{temporary[0].url} redirects with {temporary[0].status}; use 301 or 308")
    if start.startswith("http:") and redirects:
        first = urlsplit(str(httpx.URL(start).join(redirects[0].location or "")))
        if first.scheme != "https" or first.hostname != name:
            problems.append(f"{start} first goes to {first.geturl()}, not https://{name}: {shown}")
    return problems


async def _variant(
    ctx: Context, scheme: str, name: str, probe_path: str, expected: str
) -> tuple[list[str], list[str]]:
    """(problems, could-not-verify) for one variant, followed from every address its name resolves to."""
    port = 80 if scheme == "http" else 443
    answer, _ = await destinations(ctx.settings, name, port)
    if answer.status is Status.ABSENT:
        return [f"{name} does not resolve ({answer.detail}): visitors who type it get nothing"], []
    if answer.status is Status.UNANSWERED:
        return [], [answer.detail]
    start = f"{scheme}://{name}{probe_path}"
    problems, errors = [], []
    for address in answer.records:
        via = f" [via {address}]" if len(answer.records) > 1 else ""
        try:
            async with http_client(ctx.settings, pins=((name, port, address),)) as http:
                hops, stopped = await follow(http, start)
        except CouldNotVerify as exc:
            errors.append(f"{exc}{via}")
            continue
        if stopped:
            problems.append(f"{start}: {stopped}: {chain(hops)}{via}")
        else:
            problems += [p + via for p in _variant_problems(start, name, hops, expected)]
    return problems, errors


def page_within(ctx: Context) -> float:
    """The home page's time budget, `[headers] page-within`."""
    return ctx.settings.headers.page_within


def _home_urls(target: str) -> list[str]:
    """The canonical URL and the root of its origin (one URL when the target is the root)."""
    scheme, netloc = origin(target)
    return list(dict.fromkeys([target, f"{scheme}://{netloc}/"]))


def page_problems(page: Page, within: float) -> tuple[list[str], list[str]]:
    """(problems, could-not-verify) for a home page: it must end, on its own site, in a 2xx page in time.

    In time: within `within` seconds plus a measurement tolerance (`PAGE_TOLERANCE`: 50 ms and 5 % of the
    budget). The requests' own times still share the event loop with every other check of the run, and a
    busy loop reads an answer late; an overrun smaller than that is not evidence the site was slow."""
    why = page.unjudgeable()
    if page.error is not None:
        return [], [f"the home page {why}"]
    problems = [] if why is None else [why]
    slack, share = PAGE_TOLERANCE
    if page.seconds > within * (1 + share) + slack and page.stopped is None:
        problems.append(
            f"{page.start} took {page.seconds:.1f} s (budget {within:g} s, [headers] page-within)"
        )
    return problems, []


async def _home_findings(ctx: Context, target: str) -> tuple[list[str], list[str]]:
    pages = await asyncio.gather(*(home_page(ctx, url) for url in _home_urls(target)))
    within = page_within(ctx)
    judged = [page_problems(page, within) for page in pages]
    return [p for found, _ in judged for p in found], [e for _, failed in judged for e in failed]


@check(
    "domain.redirects",
    Phase.POST,
    "every http/https, apex/www variant ends at the canonical URL, permanently, in <= 2 hops; "
    "the canonical URL itself ends in a 2xx page within the page budget",
    needs_target="to the canonical URL",
    fails_when=(
        "an http/https, apex/www variant of the target does not end at the canonical URL with path and "
        "query kept, http's first hop is not https on the same host, a redirect is temporary (not 301/308), "
        "or a chain is longer than 2 hops or loops (reported with the chain); each variant is followed from "
        "every A/AAAA address its name has, and a wrong one is named (`[via 203.0.113.7]`). The canonical "
        "URL itself (and `/`) must end, on its own site, in a 2xx page within `page-within` (2 s): a loop, "
        "a redirect to another site, a 4xx/5xx or a slow page fails naming the URL; no answer is *could not "
        "verify*. When the home page fails, the header checks say they could not judge it instead of "
        "reporting missing headers"
    ),
)
async def check_redirects(ctx: Context) -> Verdict:
    target, host = ctx.settings.target or "", target_host(ctx.settings) or ""
    canonical = urlsplit(target)
    probe_path = f"/launch-gate-probe-{secrets.token_hex(3)}?from=launch-gate"
    expected = urlunsplit(
        (canonical.scheme, canonical.netloc, probe_path.split("?")[0], "from=launch-gate", "")
    )
    variants = [(scheme, name) for scheme in ("http", "https") for name in dict.fromkeys([host, twin(host)])]
    home, outcomes = await asyncio.gather(
        _home_findings(ctx, target),
        asyncio.gather(*(_variant(ctx, s, n, probe_path, expected) for s, n in variants)),
    )
    outcomes = [home, *outcomes]  # the home page first: when it is broken, it is the cause to name
    problems = [Finding(p) for found_, _ in outcomes for p in found_]
    errors = [Finding(e) for _, failed in outcomes for e in failed]
    if problems:
        return Verdict.of(
            Outcome.FAIL,
            f"{len(problems)} problem{'s' * (len(problems) != 1)}: {problems[0].message}",
            [*problems, *errors],
        )
    if errors:
        return Verdict.of(Outcome.ERROR, f"could not verify redirects: {errors[0].message}", errors)
    return Verdict.of(
        Outcome.PASS,
        f"every http/https, apex/www variant, from every address, ends at {canonical.scheme}://{canonical.netloc}; "
        f"{' and '.join(_home_urls(target))} answer 2xx within {page_within(ctx):g} s (their requests' own "
        "time, 50 ms + 5 % tolerance)",
    )


# --- domain.registration: the registered domain over RDAP (launch_gate/net/rdap.py) ---
HOLDS = ("clientHold", "serverHold", "pendingDelete", "redemptionPeriod")  # the domain is off, or going
LOCKS = ("clientTransferProhibited", "serverTransferProhibited")


def registered_domain(ctx: Context) -> tuple[str, str] | None:
    """(A-label, Unicode form) of `[registration] domain`, else of the organizational domain of the target's
    host (None: an address). An internationalized name is looked up as its A-label (`xn--caf-dma.example`)
    and shown as people write it (`café.example`)."""
    setting = ctx.settings.registration.domain
    host = setting or target_host(ctx.settings)
    if host is None or is_address(host) or "." not in host:
        return None
    try:
        ascii_host, _ = rdap.idn_forms(host)
    except ValueError as exc:
        where = ctx.settings.where("registration", "domain") if setting else "`target`"
        raise ConfigError(f"{where}: {exc}. Fix the name (or set [registration] domain).") from None
    ascii_domain = ascii_host if setting else organizational_domain(ascii_host)
    return ascii_domain, rdap.idn_forms(ascii_domain)[1]


def _days(days: float) -> str:
    return f"{days:.0f} day{'s' * (round(days) != 1)}"


def judge_registration(found: rdap.Registration, now: datetime, warn_days: int, fail_days: int) -> Verdict:
    """The verdict on what the registry said: holds and near expiry fail, no transfer lock warns."""
    who = f"registrar {found.registrar}" if found.registrar else "registrar not published"
    metrics: dict[str, object] = {
        "domain": found.domain,
        "registrar": found.registrar,
        "expires": found.expires.date().isoformat() if found.expires else None,
        "statuses": list(found.statuses),
        "rdap": found.server,
    }
    problems, warnings = [], []
    held = [s for s in found.statuses if s in HOLDS]
    if held:
        problems.append(
            f"{found.domain} is in {', '.join(held)}: it does not resolve or is being deleted. Ask your "
            "registrar to lift it (pay the renewal, answer the verification email) now."
        )
    if found.expires is None:
        return Verdict.of(
            Outcome.FAIL if problems else Outcome.ERROR,
            problems[0]
            if problems
            else f"could not verify the expiry of {found.domain}: the registry's "
            f"RDAP answer ({found.server}) has no expiration event; check it at your registrar.",
            [Finding(p) for p in problems],
            metrics,
        )
    left = (found.expires - now).total_seconds() / 86400
    metrics["days_left"] = round(left, 1)
    until = f"{found.expires:%Y-%m-%d}"
    if left < 0:
        problems.append(
            f"{found.domain} expired on {until}: renew it at {found.registrar or 'your registrar'} now"
        )
    elif left < fail_days:
        problems.append(
            f"{found.domain} expires on {until}, in {_days(left)} (fail under {fail_days}, [registration] "
            f"fail-days): renew it at {found.registrar or 'your registrar'} and turn auto-renew on"
        )
    elif left < warn_days:
        warnings.append(
            f"{found.domain} expires on {until}, in {_days(left)} (warn under {warn_days}): renew it or check "
            "that auto-renew is on with a card that works"
        )
    if not any(s in LOCKS for s in found.statuses):
        warnings.append(
            f"{found.domain} has no transfer lock (clientTransferProhibited): anyone who gets into the registrar "
            "account or its email can move the domain away. Turn the registrar lock on."
        )
    facts = f"{found.domain}: {who}, expires {until} ({_days(left)} left)"
    if problems:
        return Verdict.of(
            Outcome.FAIL, f"{problems[0]} ({who})", [Finding(p) for p in [*problems, *warnings]], metrics
        )
    if warnings:
        return Verdict.of(Outcome.WARN, f"{warnings[0]} ({who})", [Finding(w) for w in warnings], metrics)
    locks = ", ".join(s for s in found.statuses if s in LOCKS)
    return Verdict.of(Outcome.PASS, f"{facts}; transfer-locked ({locks})", metrics=metrics)


@check(
    "domain.registration",
    Phase.POST,
    "the registered domain is not about to expire, not on hold, and locked against transfer (RDAP)",
    fails_when=(
        "the registry's RDAP answer (found through the IANA bootstrap, or at `[net] rdap-url`) says the "
        "organizational domain of the target (or `[registration] domain`) expires in under `fail-days` (14) "
        "or has expired, or is in clientHold, serverHold, pendingDelete or redemptionPeriod, or the registry "
        "has no such domain; warns under `warn-days` (45) and when no transfer lock "
        "(clientTransferProhibited/serverTransferProhibited) is set. The registrar and the expiry date are "
        "in the message and in `metrics` (the handover pack shows them). A registry that does not answer, "
        "answers an error or no RDAP JSON, a TLD the bootstrap names no server for, or an answer without an "
        "expiry date is *could not verify*"
    ),
)
async def check_registration(ctx: Context) -> Verdict:
    names = registered_domain(ctx)
    if names is None:
        why = "the target's host is an address" if target_host(ctx.settings) else "no target"
        return Verdict.of(
            Outcome.SKIP, f"{why}: set `target` (a domain name) or [registration] domain to look it up."
        )
    domain, shown = names
    looked_up = shown if shown == domain else f"{shown} ({domain})"
    async with rdap.client(ctx.settings) as http:
        found = await rdap.lookup(http, domain, ctx.settings.net.rdap_url)
    if found is None:
        return Verdict.of(
            Outcome.FAIL,
            f"the registry has no record of {looked_up} (RDAP 404): it is not registered, or `[net] rdap-url` "
            "points at another registry's server",
            metrics={"domain": shown, "domain_ascii": domain},
        )
    table = ctx.settings.registration
    verdict = judge_registration(
        dataclasses.replace(found, domain=shown), datetime.now(UTC), table.warn_days, table.fail_days
    )
    return dataclasses.replace(verdict, metrics={**verdict.metrics, "domain_ascii": domain})
