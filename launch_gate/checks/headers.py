"""What a visitor's browser is told by the home page's headers: HSTS, security headers, cookies, CORS and
caching. The page is the one domain.redirects follows (fetched once per run); a page that cannot be judged
makes these checks an error ("could not judge"), never "header missing" on a redirect.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

import httpx

from launch_gate.checks import Context, check
from launch_gate.net import http_client
from launch_gate.net.probes import Page, fetch_page, get, home_page, origin
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.cookies import response_cookie_problems
from launch_gate.rules.headers import cache_problem, hsts_preload, hsts_problems, shared_cache_problem
from launch_gate.rules.words import count

FOREIGN_ORIGIN = "https://launch-gate-foreign-origin.test"
_LINK = re.compile(
    r"""<a\b[^>]*?\bhref\s*=\s*["']([^"'#]*)["'][^>]*>(.*?)</a\s*>""", re.IGNORECASE | re.DOTALL
)
_LOGIN = re.compile(r"(?i)\b(?:log[\s_-]?in|sign[\s_-]?in)\b")
MAX_LOGIN_LINKS = 3
_ASSET = re.compile(
    r"""<(?:script|link)\b[^>]*?(?:src|href)\s*=\s*["'](/[^"'#?]+\.(?:js|css|woff2?|png|svg|webp))"""
)


async def _judged_page(ctx: Context, what: str) -> httpx.Response | Verdict:
    """The home page whose headers the header checks judge, or the verdict saying why they cannot.

    The canonical URL may redirect within its own site (`/` -> `/en/`): the page it ends on is judged. A loop,
    a redirect to another site, or no answer is domain.redirects' finding; here it makes the checks an
    error ("could not judge"), never "header missing" on a redirect."""
    page = await home_page(ctx, ctx.settings.target or "")
    why = page.unjudgeable()
    if page.error is not None:
        return Verdict.of(Outcome.ERROR, f"could not verify {what}: {why}")
    if why is not None or page.response is None:
        return Verdict.of(Outcome.ERROR, f"could not judge {what}: {why} (see domain.redirects)")
    return page.response


@check(
    "headers.hsts",
    Phase.POST,
    "HSTS with max-age >= 1 year and includeSubDomains",
    needs_target="to check HSTS",
    https=True,
    fails_when=(
        "no `Strict-Transport-Security`, max-age under a year, or no includeSubDomains (preload noted)"
    ),
)
async def check_hsts(ctx: Context) -> Verdict:
    response = await _judged_page(ctx, "HSTS")
    if isinstance(response, Verdict):
        return response
    header = response.headers.get("strict-transport-security")
    if header is None:
        return Verdict.of(
            Outcome.FAIL,
            "no Strict-Transport-Security header: browsers may still try http. Send "
            "`Strict-Transport-Security: max-age=31536000; includeSubDomains`.",
        )
    problems = hsts_problems(header)
    if problems:
        return Verdict.of(Outcome.FAIL, f"HSTS is too weak: {'; '.join(problems)}.")
    preload = "preload-ready" if hsts_preload(header) else "not marked preload (optional)"
    return Verdict.of(Outcome.PASS, f"HSTS: {header} ({preload})")


@check(
    "headers.security",
    Phase.POST,
    "CSP, X-Content-Type-Options, frame protection, Referrer-Policy",
    needs_target="to check security headers",
    fails_when=(
        "no Content-Security-Policy, `X-Content-Type-Options: nosniff`, frame protection (X-Frame-Options "
        "or CSP frame-ancestors) or Referrer-Policy"
    ),
)
async def check_security_headers(ctx: Context) -> Verdict:
    response = await _judged_page(ctx, "security headers")
    if isinstance(response, Verdict):
        return response
    h = response.headers
    csp = h.get("content-security-policy", "")
    missing = []
    if not csp:
        missing.append("Content-Security-Policy")
    if h.get("x-content-type-options", "").lower() != "nosniff":
        missing.append("X-Content-Type-Options: nosniff")
    if not h.get("x-frame-options") and "frame-ancestors" not in csp:
        missing.append("X-Frame-Options or CSP frame-ancestors (clickjacking)")
    if not h.get("referrer-policy"):
        missing.append("Referrer-Policy")
    if missing:
        return Verdict.of(
            Outcome.FAIL, f"missing security headers on {response.url}: {', '.join(missing)}.",
            [Finding(m) for m in missing],
        )  # fmt: skip
    return Verdict.of(Outcome.PASS, "CSP, nosniff, frame protection and Referrer-Policy are set")


def login_links(html: str, base: str) -> list[str]:
    """Same-site pages the home page links as "log in" / "sign in": where session cookies are usually set."""
    found = []
    for href, text in _LINK.findall(html[:500_000]):
        if _LOGIN.search(href) or _LOGIN.search(re.sub(r"<[^>]+>", " ", text)):
            url = str(httpx.URL(base).join(href.strip()))
            if origin(url) == origin(base):
                found.append(url)
    return list(dict.fromkeys(found))[:MAX_LOGIN_LINKS]


def _shown(url: str) -> str:
    """A URL as messages show it: without its query, which may carry a token."""
    return url.split("?", 1)[0]


def _cookie_findings(page: Page) -> list[str]:
    return [
        f"{_shown(hop.url)}: {problem}"
        for hop in page.hops
        for problem in response_cookie_problems(hop.cookies, hop.url)
    ]


def cookie_paths(ctx: Context) -> list[str]:
    """`[headers] cookie-paths`: pages that set cookies, besides the login pages the home page links."""
    return list(ctx.settings.headers.cookie_paths)


@check(
    "headers.cookies",
    Phase.POST,
    "cookies set by the home page, the login pages it links and cookie-paths are Secure and SameSite; "
    "session cookies HttpOnly",
    needs_target="to check cookies",
    fails_when=(
        "a cookie set on the way to the home page, by a login page it links (log in / sign in) or by a page "
        "in `cookie-paths` lacks Secure (on https) or SameSite, or a session-like cookie lacks HttpOnly; "
        "named by page and cookie, never its value"
    ),
)
async def check_cookies(ctx: Context) -> Verdict:
    """Every Set-Cookie on the way to the home page, on `cookie-paths` and on the login pages it links."""
    home = await home_page(ctx, ctx.settings.target or "")
    problems, errors = _cookie_findings(home), []
    why = home.unjudgeable()
    linked: list[str] = []
    if home.error is not None:
        errors.append(f"could not verify cookies: {why}")
    elif why is not None or home.response is None:
        errors.append(f"could not judge the home page's cookies: {why} (see domain.redirects)")
    else:
        linked = login_links(home.response.text, str(home.response.url))
    root = f"{home.start.split('://', 1)[0]}://{urlsplit(home.start).netloc}"
    configured = [root + p if p.startswith("/") else p for p in cookie_paths(ctx)]
    urls = list(dict.fromkeys([*configured, *linked]))
    pages = await asyncio.gather(*(fetch_page(ctx, url) for url in urls))
    for url, page in zip(urls, pages, strict=True):
        problems += _cookie_findings(page)
        status = page.hops[-1].status if page.hops else None
        if page.error is not None:
            errors.append(f"could not judge the cookies of {_shown(url)}: {page.error}")
        elif url in configured and (page.stopped or status is None or not 200 <= status < 300):
            errors.append(
                f"could not judge the cookies of {_shown(url)} ([headers] cookie-paths): it answered "
                f"{page.stopped or status}; fix the path"
            )
    judged = ", ".join(_shown(u) for u in [home.start, *urls])
    if problems:
        findings = [Finding(p) for p in dict.fromkeys(problems)] + [Finding(e) for e in errors]
        return Verdict.of(
            Outcome.FAIL, f"{problems[0]}: a stolen or cross-site-sent cookie is a stolen session.", findings
        )
    if errors:
        return Verdict.of(Outcome.ERROR, errors[0], [Finding(e) for e in errors])
    cookies = sum(len(hop.cookies) for page in (home, *pages) for hop in page.hops)
    return Verdict.of(
        Outcome.PASS,
        f"{count(cookies, 'cookie')} on {judged}, all Secure and SameSite, session cookies HttpOnly"
        + ("" if urls else " (no login page linked; list pages that set cookies in [headers] cookie-paths)"),
    )


@check(
    "headers.cors",
    Phase.POST,
    "CORS never reflects a foreign origin nor allows * with credentials",
    needs_target="to check CORS",
    fails_when=(
        "a response reflects a foreign Origin, allows `*` with credentials, or allows an origin not in "
        "`cors-origins` (on `cors-paths`)"
    ),
)
async def check_cors(ctx: Context) -> Verdict:
    if not ctx.settings.headers.cors_paths:
        return Verdict.of(Outcome.SKIP, "[headers] cors-paths is empty: no path to probe for CORS.")
    base = (ctx.settings.target or "").rstrip("/")
    allowed = set(ctx.settings.headers.cors_origins)
    problems = []
    async with http_client(ctx.settings) as http:
        for path in ctx.settings.headers.cors_paths:
            response = await get(http, base + path, headers={"Origin": FOREIGN_ORIGIN})
            allows = response.headers.get("access-control-allow-origin")
            credentials = response.headers.get("access-control-allow-credentials", "").lower() == "true"
            if allows == FOREIGN_ORIGIN:
                problems.append(
                    Finding(f"{path} reflects any Origin" + (" with credentials" if credentials else ""))
                )
            elif allows == "*" and credentials:
                problems.append(Finding(f"{path} allows * with credentials"))
            elif allows not in (None, "*") and allows not in allowed:
                problems.append(Finding(f"{path} allows {allows}, which is not in [headers] cors-origins"))
    if problems:
        return Verdict.of(
            Outcome.FAIL, f"CORS lets other sites read your responses: {problems[0].message}.", problems
        )
    return Verdict.of(
        Outcome.PASS, f"CORS allows only configured origins on {', '.join(ctx.settings.headers.cors_paths)}"
    )


@check(
    "headers.cache",
    Phase.POST,
    "static assets cacheable; cookie-setting pages not shared-cached",
    needs_target="to check caching",
    fails_when=(
        "a static asset (linked from the page, or `static-paths`) is not cacheable for at least a day, or "
        "the page sets a cookie yet shared caches may store it (`public`, `s-maxage` or `max-age` without "
        "`private`/`no-store`); smoke flows check logged-in responses the same way"
    ),
)
async def check_cache(ctx: Context) -> Verdict:
    page = await _judged_page(ctx, "caching")
    if isinstance(page, Verdict):
        return page
    base = (ctx.settings.target or "").rstrip("/")
    problems: list[Finding] = []
    if page.headers.get_list("set-cookie") and (
        why := shared_cache_problem(page.headers.get("cache-control"))
    ):
        problems.append(
            Finding(
                f"{page.url} sets a cookie but is {why}: a CDN may serve one visitor's session to another. "
                "Send `Cache-Control: private` or `no-store` on responses that set cookies or need a login."
            )
        )
    paths = list(ctx.settings.headers.static_paths)
    if not paths:
        paths = list(dict.fromkeys(_ASSET.findall(page.text[:500_000])))[:20]
    async with http_client(ctx.settings) as http:
        responses = await asyncio.gather(*(get(http, base + p) for p in paths))
    static = [
        Finding(f"{p}: {why}")
        for p, r in zip(paths, responses, strict=True)
        if (
            why := f"status {r.status_code}"
            if r.status_code != 200
            else cache_problem(r.headers.get("cache-control"))
        )
    ]
    if static:
        problems.append(
            Finding(
                f"static assets are not cacheable: {static[0].message}. Serve them with e.g. "
                "`Cache-Control: public, max-age=31536000, immutable` (with hashed file names)."
            )
        )
    if problems:
        return Verdict.of(Outcome.FAIL, problems[0].message, [*problems, *static[1:]])
    if not paths:
        return Verdict.of(
            Outcome.SKIP,
            "no static assets linked from the page (list them in [headers] static-paths); "
            "the page itself is not publicly cached with its cookies.",
        )
    return Verdict.of(
        Outcome.PASS,
        f"{count(len(paths), 'static asset')} {'is' if len(paths) == 1 else 'are'} cacheable for at least a "
        "day; pages that set cookies are not shared-cached",
    )
