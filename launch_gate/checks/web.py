"""What a visitor's browser sees: the canonical domain and its redirects, security headers, exposed files and
error pages. Every request goes through the shared client (connect-to, CA bundle, timeouts); a host that cannot
be reached makes a check an error, never a pass.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from launch_gate.checks import Check, Context
from launch_gate.checks.dns_records import target_host, twin
from launch_gate.cookies import response_cookie_problems
from launch_gate.errors import CouldNotVerify
from launch_gate.net import destinations, http_client
from launch_gate.net.dns import Status
from launch_gate.results import Finding, Outcome, Phase, Verdict

MAX_FOLLOW = 10
PERMANENT = (301, 308)
YEAR = 31_536_000
EXPOSED = {
    "/.env": re.compile(r"(?m)^[A-Z][A-Z0-9_]*\s*="),
    "/.git/config": re.compile(r"\[core\]"),
    "/.git/HEAD": re.compile(r"^ref: refs/"),
    "/backup.zip": re.compile(r"^PK"),
    "/db.sql": re.compile(r"(?i)(create table|insert into)"),
    "/.DS_Store": re.compile(r"Bud1"),
    "/phpinfo.php": re.compile(r"(?i)phpinfo\(\)|PHP Version"),
    "/__debug__/": re.compile(r"(?i)debug toolbar|djdt"),
}
STACK_TRACES = re.compile(
    r"Traceback \(most recent call last\)|Werkzeug Debugger|django\.core\.|DEBUG = True|"
    r"at [\w$.<>]+ \([^)]*:\d+:\d+\)|Exception in thread|Stack trace:|NoMethodError|ActionController::|"
    r"System\.\w+Exception|at java\.|SQLSTATE\[|Fatal error: .* on line \d+"
)


def _target(ctx: Context) -> tuple[str, str] | None:
    target = ctx.settings.target
    host = target_host(ctx)
    return (target, host) if target and host else None


async def _get(http: httpx.AsyncClient, url: str, **kwargs: object) -> httpx.Response:
    try:
        return await http.get(url, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        detail = str(exc) or "no answer in time"
        raise CouldNotVerify(f"GET {url} did not answer ({type(exc).__name__}: {detail})") from None


@dataclass(frozen=True)
class Hop:
    url: str
    status: int
    location: str | None
    cookies: tuple[str, ...] = ()  # its Set-Cookie headers
    seconds: float = 0.0  # the request's own time: sent (connection included) to the whole answer read


def _hop(url: str, response: httpx.Response) -> Hop:
    return Hop(
        url,
        response.status_code,
        response.headers.get("location"),
        tuple(response.headers.get_list("set-cookie")),
        response.elapsed.total_seconds(),
    )


async def _follow(
    http: httpx.AsyncClient, url: str, into: list[tuple[Hop, httpx.Response]], stay: bool = False
) -> str | None:
    """Follow `url`, appending every (hop, answer) to `into`; a problem (loop, too many hops, with `stay` a
    redirect off the site) if it stopped early. No answer raises CouldNotVerify, the hops so far in `into`."""
    seen, site = set(), _origin(url)
    for _ in range(MAX_FOLLOW):
        if url in seen:
            return "loop"
        seen.add(url)
        response = await _get(http, url)
        into.append((_hop(url, response), response))
        location = response.headers.get("location")
        if not (300 <= response.status_code < 400 and location):
            return None
        url = str(httpx.URL(url).join(location))
        if stay and _origin(url) != site:
            return "another site"
    return f"more than {MAX_FOLLOW} redirects"


async def follow(http: httpx.AsyncClient, url: str) -> tuple[list[Hop], str | None]:
    """Every hop from `url`, and a problem (loop, too many hops) if following stopped early."""
    answers: list[tuple[Hop, httpx.Response]] = []
    stopped = await _follow(http, url, answers)
    return [hop for hop, _ in answers], stopped


def _chain(hops: list[Hop]) -> str:
    return " -> ".join(f"{h.url} ({h.status})" for h in hops) + (
        f" -> {hops[-1].location}" if hops[-1].location else ""
    )


def _variant_problems(start: str, name: str, hops: list[Hop], expected: str) -> list[str]:
    chain = _chain(hops)
    final, redirects = hops[-1].url, hops[:-1]
    problems = []
    if final != expected:
        problems.append(f"{start} ends at {final}, not {expected}: {chain}")
    if len(redirects) > 2:
        problems.append(f"{start} takes {len(redirects)} redirects (at most 2): {chain}")
    temporary = [h for h in redirects if h.status not in PERMANENT]
    if temporary:
        problems.append(f"{temporary[0].url} redirects with {temporary[0].status}; use 301 or 308")
    if start.startswith("http:") and redirects:
        first = urlsplit(str(httpx.URL(start).join(redirects[0].location or "")))
        if first.scheme != "https" or first.hostname != name:
            problems.append(f"{start} first goes to {first.geturl()}, not https://{name}: {chain}")
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
            problems.append(f"{start}: {stopped}: {_chain(hops)}{via}")
        else:
            problems += [p + via for p in _variant_problems(start, name, hops, expected)]
    return problems, errors


def page_within(ctx: Context) -> float:
    """The home page's time budget, `[headers] page-within`."""
    return ctx.settings.headers.page_within


PAGE_TOLERANCE = (0.05, 0.05)  # (seconds, share of the budget) a page may overrun `page-within` by


@dataclass(frozen=True)
class Page:
    """A page followed as a browser would: every hop, the last answer, how long it all took, what went wrong.

    `seconds` is the sum of the hops' own times (httpx's `response.elapsed`: from sending the request,
    connecting included, to reading the whole answer), not the wall clock around the whole fetch: building
    the client (SSL context, CA bundle) and the time between hops are launch-gate's, not the site's."""

    start: str
    hops: tuple[Hop, ...]
    response: httpx.Response | None  # the last answer (None: the first request got none)
    seconds: float
    stopped: str | None = None  # "loop", "more than 10 redirects"
    error: str | None = None  # no answer

    def unjudgeable(self) -> str | None:
        """Why the page's headers say nothing about the site (None: its last answer is the page)."""
        if self.error is not None:
            return f"{self.error}{f' after {_chain(list(self.hops))}' if self.hops else ''}"
        if self.stopped == "another site":
            return f"{self.start} redirects to another site: {_chain(list(self.hops))}"
        if self.stopped is not None:
            return f"{self.start} redirects with no end ({self.stopped}): {_chain(list(self.hops))}"
        if not 200 <= self.hops[-1].status < 300:
            after = f" after {_chain(list(self.hops[:-1]))}" if len(self.hops) > 1 else ""
            return f"{self.start} answers {self.hops[-1].status}{after}, not a 2xx page"
        return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


async def fetch_page(ctx: Context, url: str) -> Page:
    """`url` followed on its own site (at most MAX_FOLLOW hops), timed by its requests' own times (`Page`);
    no answer is kept as `error`."""
    answers: list[tuple[Hop, httpx.Response]] = []
    stopped = error = None
    async with http_client(ctx.settings) as http:
        try:
            stopped = await _follow(http, url, answers, stay=True)
        except CouldNotVerify as exc:
            error = str(exc)
    hops = tuple(hop for hop, _ in answers)
    last = answers[-1][1] if answers else None
    return Page(url, hops, last, sum(hop.seconds for hop in hops), stopped, error)


async def home_page(ctx: Context, url: str) -> Page:
    """A page of the target, fetched once per run for every check that needs it."""
    page: Page = await ctx.shared(("page", url), lambda: fetch_page(ctx, url))
    return page


def _home_urls(target: str) -> list[str]:
    """The canonical URL and the root of its origin (one URL when the target is the root)."""
    scheme, netloc = _origin(target)
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


async def _judged_page(ctx: Context, what: str) -> httpx.Response | Verdict:
    """The home page whose headers the header checks judge, or the verdict saying why they cannot.

    The canonical URL may redirect within its own site (`/` -> `/en/`): the page it ends on is judged. A loop,
    a redirect to another site, or no answer is domain.redirects' finding; here it makes the checks an
    error ("could not judge"), never "header missing" on a redirect."""
    found = _target(ctx)
    if found is None:
        return Verdict.of(Outcome.SKIP, f"no target: set `target` to check {what}.")
    page = await home_page(ctx, found[0])
    why = page.unjudgeable()
    if page.error is not None:
        return Verdict.of(Outcome.ERROR, f"could not verify {what}: {why}")
    if why is not None or page.response is None:
        return Verdict.of(Outcome.ERROR, f"could not judge {what}: {why} (see domain.redirects)")
    return page.response


async def check_redirects(ctx: Context) -> Verdict:
    found = _target(ctx)
    if found is None:
        return Verdict.of(Outcome.SKIP, "no target: set `target` to the canonical URL.")
    target, host = found
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


async def check_hsts(ctx: Context) -> Verdict:
    found = _target(ctx)
    if found is None or not found[0].startswith("https://"):
        return Verdict.of(Outcome.SKIP, "no https target: set `target` to check HSTS.")
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
    directives = {d.strip().split("=")[0].lower(): d.strip() for d in header.split(";") if d.strip()}
    age = re.search(r"max-age\s*=\s*\"?(\d+)", header, re.IGNORECASE)
    problems = []
    if age is None or int(age[1]) < YEAR:
        problems.append(f"max-age is {age[1] if age else 'missing'} (at least {YEAR}, one year)")
    if "includesubdomains" not in directives:
        problems.append("no includeSubDomains")
    if problems:
        return Verdict.of(Outcome.FAIL, f"HSTS is too weak: {'; '.join(problems)}.")
    preload = "preload-ready" if "preload" in directives else "not marked preload (optional)"
    return Verdict.of(Outcome.PASS, f"HSTS: {header} ({preload})")


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


async def check_exposed_files(ctx: Context) -> Verdict:
    found = _target(ctx)
    if found is None:
        return Verdict.of(Outcome.SKIP, "no target: set `target` to check for exposed files.")
    base = found[0].rstrip("/")
    async with http_client(ctx.settings) as http:
        responses = await asyncio.gather(*(_get(http, base + path) for path in EXPOSED))
    exposed = [
        Finding(f"{path} is served ({r.status_code}, {len(r.content)} bytes)")
        for (path, pattern), r in zip(EXPOSED.items(), responses, strict=True)
        if r.status_code == 200 and pattern.search(r.text[:4096])
    ]
    if exposed:
        return Verdict.of(
            Outcome.FAIL,
            f"exposed to anyone: {exposed[0].message}. Block these paths at the web server or CDN.",
            exposed,
        )
    return Verdict.of(Outcome.PASS, f"none of {len(EXPOSED)} well-known sensitive paths is served")


async def check_error_pages(ctx: Context) -> Verdict:
    found = _target(ctx)
    if found is None:
        return Verdict.of(Outcome.SKIP, "no target: set `target` to check error pages.")
    base = found[0].rstrip("/")
    paths = [f"/launch-gate-missing-{secrets.token_hex(4)}", "/%ff%fe", f"/?id='{secrets.token_hex(2)}"]
    async with http_client(ctx.settings) as http:
        responses = await asyncio.gather(*(_get(http, base + p) for p in paths))
    leaks = [
        Finding(f"{r.request.url} ({r.status_code}) shows {m[0]!r}")
        for r in responses
        if (m := STACK_TRACES.search(r.text[:200_000]))
    ]
    if leaks:
        return Verdict.of(
            Outcome.FAIL, f"an error page shows debug output: {leaks[0].message}. Turn debug mode off.", leaks
        )
    return Verdict.of(Outcome.PASS, f"no stack trace or debug output on {len(paths)} error pages")


FOREIGN_ORIGIN = "https://launch-gate-foreign-origin.test"
DAY = 86_400
_LINK = re.compile(
    r"""<a\b[^>]*?\bhref\s*=\s*["']([^"'#]*)["'][^>]*>(.*?)</a\s*>""", re.IGNORECASE | re.DOTALL
)
_LOGIN = re.compile(r"(?i)\b(?:log[\s_-]?in|sign[\s_-]?in)\b")
MAX_LOGIN_LINKS = 3


def login_links(html: str, base: str) -> list[str]:
    """Same-site pages the home page links as "log in" / "sign in": where session cookies are usually set."""
    found = []
    for href, text in _LINK.findall(html[:500_000]):
        if _LOGIN.search(href) or _LOGIN.search(re.sub(r"<[^>]+>", " ", text)):
            url = str(httpx.URL(base).join(href.strip()))
            if _origin(url) == _origin(base):
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


async def check_cookies(ctx: Context) -> Verdict:
    """Every Set-Cookie on the way to the home page, on `cookie-paths` and on the login pages it links."""
    found = _target(ctx)
    if found is None:
        return Verdict.of(Outcome.SKIP, "no target: set `target` to check cookies.")
    home = await home_page(ctx, found[0])
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
    count = sum(len(hop.cookies) for page in (home, *pages) for hop in page.hops)
    return Verdict.of(
        Outcome.PASS,
        f"{count} cookies on {judged}, all Secure and SameSite, session cookies HttpOnly"
        + ("" if urls else " (no login page linked; list pages that set cookies in [headers] cookie-paths)"),
    )


async def check_cors(ctx: Context) -> Verdict:
    found = _target(ctx)
    if found is None:
        return Verdict.of(Outcome.SKIP, "no target: set `target` to check CORS.")
    if not ctx.settings.headers.cors_paths:
        return Verdict.of(Outcome.SKIP, "[headers] cors-paths is empty: no path to probe for CORS.")
    base = found[0].rstrip("/")
    allowed = set(ctx.settings.headers.cors_origins)
    problems = []
    async with http_client(ctx.settings) as http:
        for path in ctx.settings.headers.cors_paths:
            response = await _get(http, base + path, headers={"Origin": FOREIGN_ORIGIN})
            origin = response.headers.get("access-control-allow-origin")
            credentials = response.headers.get("access-control-allow-credentials", "").lower() == "true"
            if origin == FOREIGN_ORIGIN:
                problems.append(
                    Finding(f"{path} reflects any Origin" + (" with credentials" if credentials else ""))
                )
            elif origin == "*" and credentials:
                problems.append(Finding(f"{path} allows * with credentials"))
            elif origin not in (None, "*") and origin not in allowed:
                problems.append(Finding(f"{path} allows {origin}, which is not in [headers] cors-origins"))
    if problems:
        return Verdict.of(
            Outcome.FAIL, f"CORS lets other sites read your responses: {problems[0].message}.", problems
        )
    return Verdict.of(
        Outcome.PASS, f"CORS allows only configured origins on {', '.join(ctx.settings.headers.cors_paths)}"
    )


_ASSET = re.compile(
    r"""<(?:script|link)\b[^>]*?(?:src|href)\s*=\s*["'](/[^"'#?]+\.(?:js|css|woff2?|png|svg|webp))"""
)


def cache_problem(cache_control: str | None) -> str | None:
    if not cache_control:
        return "no Cache-Control"
    directives = {d.strip().split("=")[0].lower(): d.strip() for d in cache_control.split(",")}
    if "no-store" in directives or "no-cache" in directives or "private" in directives:
        return f"Cache-Control: {cache_control}"
    age = re.search(r"max-age\s*=\s*(\d+)", cache_control)
    if (age is None or int(age[1]) < DAY) and "immutable" not in directives:
        return f"max-age under a day ({cache_control})"
    return None


def shared_cache_problem(cache_control: str | None) -> str | None:
    """Why a CDN or proxy may store this response and hand it to someone else (None: it may not)."""
    if not cache_control:
        return None
    directives = {d.strip().split("=")[0].lower() for d in cache_control.split(",")}
    if directives & {"private", "no-store"}:
        return None
    age = re.search(r"(?:s-maxage|max-age)\s*=\s*(\d+)", cache_control)
    if "public" in directives or "s-maxage" in directives or (age is not None and int(age[1]) > 0):
        return f"cacheable by shared caches (Cache-Control: {cache_control})"
    return None


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
        responses = await asyncio.gather(*(_get(http, base + p) for p in paths))
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
        f"{len(paths)} static assets are cacheable for at least a day; pages that set cookies are not shared-cached",
    )


CHECKS = (
    Check(
        "domain.redirects",
        Phase.POST,
        "every http/https, apex/www variant ends at the canonical URL, permanently, in <= 2 hops; "
        "the canonical URL itself ends in a 2xx page within the page budget",
        check_redirects,
    ),
    Check("headers.hsts", Phase.POST, "HSTS with max-age >= 1 year and includeSubDomains", check_hsts),
    Check(
        "headers.security",
        Phase.POST,
        "CSP, X-Content-Type-Options, frame protection, Referrer-Policy",
        check_security_headers,
    ),
    Check("headers.cookies", Phase.POST, "cookies set by the home page, the login pages it links and "
          "cookie-paths are Secure and SameSite; session cookies HttpOnly", check_cookies),
    Check("headers.cors", Phase.POST, "CORS never reflects a foreign origin nor allows * with credentials", check_cors),
    Check("headers.cache", Phase.POST, "static assets cacheable; cookie-setting pages not shared-cached", check_cache),
    Check("exposure.files", Phase.POST, "/.env, /.git, backups and debug pages are not served", check_exposed_files),
    Check("exposure.errors", Phase.POST, "404 and error pages show no stack trace or debug output", check_error_pages),
)  # fmt: skip
