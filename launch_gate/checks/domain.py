"""The canonical domain: every http/https, apex/www variant ends at the canonical URL, and the canonical URL
itself is a page that answers in time. A host that cannot be reached makes the check an error, never a pass.
"""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import urlsplit, urlunsplit

import httpx

from launch_gate.checks import Context, check
from launch_gate.errors import CouldNotVerify
from launch_gate.net import destinations, http_client
from launch_gate.net.dns import Status
from launch_gate.net.probes import Hop, Page, chain, follow, home_page, origin
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.domains import target_host, twin

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
