"""What stands in front of the app: a CDN/WAF (told by the headers it adds), whether its cache serves static
assets on a second request, and whether the origin answers anyone directly on its own address (it should
only answer the CDN). Hardening, so `edge.protection` warns by default; `[checks] "edge.protection" =
"fail"` makes it block. No answer from the site is could-not-verify; no answer from the origin is the point.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from launch_gate.checks import Context, check
from launch_gate.errors import CouldNotVerify
from launch_gate.net import dns_resolver, http_client, http_options
from launch_gate.net.addresses import ConnectTo, is_address
from launch_gate.net.dns import Status, addresses
from launch_gate.net.http import async_client
from launch_gate.net.probes import get, home_page
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.headers import cache_problem
from launch_gate.rules.words import count

# name -> (header, a regular expression its value must match, or None: the header alone tells)
CDNS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "Cloudflare": (("cf-ray", None), ("cf-cache-status", None), ("server", r"^cloudflare")),
    "Fastly": (("x-fastly-request-id", None), ("fastly-debug-digest", None), ("x-served-by", r"^cache-")),
    "Amazon CloudFront": (("x-amz-cf-id", None), ("x-amz-cf-pop", None), ("via", r"cloudfront"),
                          ("x-cache", r"cloudfront")),
    "Akamai": (("akamai-grn", None), ("x-akamai-transformed", None), ("x-akamai-request-id", None),
               ("akamai-cache-status", None), ("server", r"akamaighost")),
    "Vercel": (("x-vercel-id", None), ("x-vercel-cache", None), ("server", r"^vercel")),
    "Netlify": (("x-nf-request-id", None), ("server", r"^netlify")),
    "Azure Front Door": (("x-azure-ref", None), ("x-fd-int-roxy-purgeid", None), ("x-msedge-ref", None)),
    "Google Cloud CDN / load balancer": (("via", r"\bgoogle\b"),),
    "Bunny CDN": (("cdn-pullzone", None), ("cdn-requestid", None), ("server", r"bunnycdn")),
    "Sucuri": (("x-sucuri-id", None), ("server", r"sucuri")),
    "Imperva": (("x-iinfo", None), ("x-cdn", r"imperva|incapsula")),
    "KeyCDN": (("server", r"keycdn"),),
}  # fmt: skip
HIT = re.compile(r"(?i)(?:hit|stale|revalidated|updating|prerender)\b")
MISS = re.compile(r"(?i)\b(?:tcp_)?(?:miss|expired|dynamic|bypass|pass|fwd=)")
CACHE_HEADERS = ("cf-cache-status", "x-cache", "x-vercel-cache", "akamai-cache-status", "cdn-cache",
                 "x-proxy-cache", "x-cache-status", "cache-status")  # fmt: skip
_ASSET = re.compile(
    r"""<(?:script|link)\b[^>]*?(?:src|href)\s*=\s*["'](/[^"'#?]+\.(?:js|css|woff2?|png|svg|webp|jpg|ico))"""
)
MAX_ASSETS = 3


@dataclass(frozen=True)
class Cdn:
    name: str
    evidence: tuple[str, ...]  # the headers that told: `cf-ray`, `server: cloudflare`


def detect(headers: Iterable[Mapping[str, str]]) -> Cdn | None:
    """The CDN/WAF whose headers the answers carry (the best-evidenced one), or None."""
    best: Cdn | None = None
    for name, signatures in CDNS.items():
        seen = []
        for answer in headers:
            for header, pattern in signatures:
                value = answer.get(header)
                if value is not None and (pattern is None or re.search(pattern, value, re.IGNORECASE)):
                    seen.append(header if pattern is None else f"{header}: {value[:60]}")
        evidence = tuple(dict.fromkeys(seen))
        if evidence and (best is None or len(evidence) > len(best.evidence)):
            best = Cdn(name, evidence)
    return best


def cache_hit(headers: Mapping[str, str]) -> tuple[bool | None, str]:
    """(whether a cache served this answer, the header that says so); None: no header tells. An explicit
    status (`cf-cache-status: MISS`, `DYNAMIC`) wins over `Age`, which the origin or a cache behind the CDN
    may have set."""
    miss: str | None = None
    for name in CACHE_HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        shown = f"{name}: {value[:60]}"
        if name == "cache-status" and re.search(r";\s*hit\b", value, re.IGNORECASE):
            return True, shown
        if name != "cache-status" and HIT.search(value):
            return True, shown
        if MISS.search(value) or name == "cache-status":
            miss = miss or shown
    if miss:
        return False, miss
    age = headers.get("age", "").strip()
    if age.isdigit() and int(age) > 0:
        return True, f"age: {age}"
    return None, "no cache status header, no Age"


def strict(ctx: Context) -> bool:
    """Whether the configuration made this warning a failure (`[checks]` `"edge.protection"` or `edge`)."""
    for key in ("edge.protection", "edge"):
        if key in ctx.settings.checks:
            return ctx.settings.checks[key] == "fail"
    return False


def _assets(ctx: Context, html: str | None) -> list[str]:
    paths = list(ctx.settings.edge.assets) or list(ctx.settings.headers.static_paths)
    if not paths and html:
        paths = list(dict.fromkeys(_ASSET.findall(html[:500_000])))
    return paths[:MAX_ASSETS]


async def _twice(http: httpx.AsyncClient, url: str) -> tuple[httpx.Response, httpx.Response]:
    first = await get(http, url)
    return first, await get(http, url)


@dataclass
class Caching:
    """What two requests of each static asset showed."""

    seen: list[Mapping[str, str]] = field(default_factory=list)  # every answer's headers
    hits: list[str] = field(default_factory=list)  # served from the edge cache the second time
    misses: list[str] = field(default_factory=list)  # cacheable, yet not served from it
    uncached: list[str] = field(default_factory=list)  # not served from it, and its Cache-Control says why
    unjudged: list[str] = field(default_factory=list)  # not a 200
    error: str | None = None  # an asset did not answer


async def _caching(ctx: Context, paths: list[str]) -> Caching:
    base = (ctx.settings.target or "").rstrip("/")
    found = Caching()
    try:
        async with http_client(ctx.settings) as http:
            answers = await asyncio.gather(*(_twice(http, base + p) for p in paths))
    except CouldNotVerify as exc:
        return Caching(error=str(exc))
    for path, (first, second) in zip(paths, answers, strict=True):
        found.seen += [first.headers, second.headers]
        if second.status_code != 200:
            found.unjudged.append(f"{path} answers {second.status_code}")
            continue
        hit, said = cache_hit(second.headers)
        if hit:
            found.hits.append(f"{path} ({said})")
        elif why := cache_problem(second.headers.get("cache-control")):
            found.uncached.append(f"{path} ({said}; {why})")
        else:
            found.misses.append(f"{path} ({said})")
    return found


def _origin_parts(origin: str, default_port: int) -> tuple[str, int]:
    if origin.startswith("["):
        host, _, rest = origin[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if origin.count(":") == 1:
        host, _, port = origin.partition(":")
        return host, int(port)
    return origin, default_port


@dataclass(frozen=True)
class OriginProbe:
    exposed: bool  # it serves the site (or completes its TLS handshake) to anyone
    said: str
    error: str | None = None


async def _origin(ctx: Context, origin: str) -> OriginProbe:
    """Whether `[edge] origin` serves the site to anyone: the target's URL, Host and SNI, sent there."""
    target = urlsplit(ctx.settings.target or "")
    name, port = target.hostname or "", target.port or (443 if target.scheme == "https" else 80)
    host, to_port = _origin_parts(origin, port)
    address = host
    if not is_address(host):
        answer = await addresses(dns_resolver(ctx.settings), host)
        if answer.status is not Status.FOUND:
            why = f"[edge] origin {host} does not resolve ({answer.detail}); fix the name, or give an address"
            return OriginProbe(False, why, why)
        address = answer.records[0]
    route = ConnectTo(name, port, address.strip("[]"), to_port)
    options = dataclasses.replace(http_options(ctx.settings), connect_to=(route,), nameservers=())
    where = f"{origin} ({address}:{to_port})" if address != host else origin
    try:
        async with async_client(options) as http:
            response = await http.get(ctx.settings.target or "")
    except (httpx.HTTPError, ssl.SSLError, OSError) as exc:  # a TLS alert may come through unwrapped
        if alert := _tls_alert(exc):
            return _refuses_tls(where, alert)
        if _certificate_error(exc):  # an origin certificate (Cloudflare's Origin CA...): attackers ignore it
            return await _unverified(ctx, where, address.strip("[]"), to_port, options.timeout)
        if isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError | ConnectionResetError):
            return _hangs_up(where, type(exc).__name__)
        return OriginProbe(False, f"the origin {where} does not answer ({type(exc).__name__})")
    if response.status_code < 400:
        return OriginProbe(
            True, f"the origin {where} serves {ctx.settings.target} directly ({response.status_code})"
        )
    return OriginProbe(
        False, f"the origin {where} refuses to serve the site directly ({response.status_code})"
    )


async def _unverified(ctx: Context, where: str, address: str, port: int, timeout: float) -> OriginProbe:
    """The target's page asked of the origin without checking its certificate, as an attacker would: an
    origin that requires a client certificate (authenticated origin pulls) refuses, one that serves is exposed."""
    target = urlsplit(ctx.settings.target or "")
    name = target.hostname or ""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    request = (
        f"GET {target.path or '/'}{'?' + target.query if target.query else ''} HTTP/1.1\r\nHost: {target.netloc}"
        "\r\nUser-Agent: launch-gate\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(address, port, ssl=context, server_hostname=name)
            writer.write(request.encode("ascii", "replace"))
            await writer.drain()
            line = await reader.readline()
    except ssl.SSLError as exc:
        return _refuses_tls(where, _alert_text(exc) or str(exc.reason or type(exc).__name__))
    except (OSError, TimeoutError) as exc:
        if (
            writer is not None
        ):  # the handshake went through (TLS 1.3 asks for the client certificate after it)
            return _hangs_up(where, type(exc).__name__)
        return OriginProbe(False, f"the origin {where} does not answer ({type(exc).__name__})")
    finally:
        if writer is not None:
            writer.close()
    status = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", line)
    if status is None:
        return _hangs_up(where, "no HTTP answer")
    code = int(status[1])
    if code < 400:
        return OriginProbe(
            True,
            f"the origin {where} serves {ctx.settings.target} ({code}) to anyone who skips the certificate check "
            f"(its certificate is not trusted for {name}, which stops browsers, not attackers)",
        )
    return OriginProbe(False, f"the origin {where} refuses to serve the site directly ({code})")


def _alert_text(exc: BaseException) -> str | None:
    """The TLS alert the server sent (`tlsv13 alert certificate required`), or None."""
    found = re.search(r"(?:tlsv1\d?|sslv3) alert [a-z ]+", str(exc), re.IGNORECASE)
    return found[0].strip() if found else None


def _tls_alert(exc: BaseException) -> str | None:
    """The server's TLS alert anywhere in an error's chain: a server that asks for a client certificate it
    did not get ends the handshake with one."""
    seen: BaseException | None = exc
    while seen is not None:
        if alert := _alert_text(seen):
            return alert
        seen = seen.__cause__ or seen.__context__
    return None


def _hangs_up(where: str, how: str) -> OriginProbe:
    return OriginProbe(
        False,
        f"the origin {where} closes the connection without serving the site ({how}), as one that requires a "
        "client certificate (authenticated origin pulls) does",
    )


def _refuses_tls(where: str, alert: str) -> OriginProbe:
    why = (
        ": it requires a client certificate, as authenticated origin pulls do"
        if "certificate" in alert
        else ""
    )
    return OriginProbe(False, f"the origin {where} refuses the TLS handshake ({alert}){why}")


def _certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _problems(ctx: Context, cdn: Cdn | None, caching: Caching, origin: OriginProbe | None) -> list[str]:
    problems: list[str] = []
    if cdn is None:
        problems.append(
            f"no CDN or WAF answers in front of {ctx.settings.target} (none of the headers Cloudflare, Fastly, "
            "CloudFront, Akamai, Vercel, Netlify or Azure Front Door add): the app takes every request and "
            "every flood itself. Put a CDN/WAF in front"
        )
    elif caching.misses or (caching.uncached and not caching.hits):
        first = (caching.misses or caching.uncached)[0]
        problems.append(
            f"{cdn.name} does not serve static assets from its cache on a second request: {first}. "
            "Let the CDN cache them (`Cache-Control: public, max-age=31536000, immutable` on fingerprinted "
            "files, or a cache rule for the static path)"
        )
    if origin is not None and origin.exposed:
        problems.append(
            f"{origin.said}: attackers can go around {cdn.name if cdn else 'the CDN'} and its WAF. Let only "
            "the CDN reach it (its published address ranges at the firewall, a tunnel, or authenticated "
            "origin pulls)"
        )
    return problems


@check(
    "edge.protection",
    Phase.POST,
    "a CDN/WAF stands in front, serves static assets from its cache, and the origin is not reachable around "
    "it (warning)",
    needs_target="to check what stands in front of the site",
    fails_when=(
        "warns (fails when `[checks]` sets `edge.protection` to `fail`) when no CDN/WAF header shows on the "
        "home page or its assets (Cloudflare `cf-ray`, Fastly `x-served-by`, CloudFront `x-amz-cf-id`, "
        "Akamai, Vercel `x-vercel-id`, Netlify `x-nf-request-id`, Azure Front Door `x-azure-ref`, Google, "
        "Bunny, Sucuri, Imperva, KeyCDN), when a cacheable static asset (`[edge] assets`, `[headers] "
        "static-paths`, else those the page links) is not served from the edge cache on a second request, "
        "or none is (whatever their `Cache-Control`: an uncached CDN) (`cf-cache-status: HIT`, `x-cache: "
        "Hit`; `Age` > 0 only when no cache status says MISS, DYNAMIC or BYPASS), or when `[edge] origin` "
        "serves the site to anyone (2xx/3xx; over TLS with a certificate browsers do not trust, to anyone "
        "who skips the check). An origin that does not answer, refuses (4xx/5xx) or requires a client "
        "certificate (authenticated origin pulls) passes; the site not answering is *could not verify*"
    ),
)
async def check_protection(ctx: Context) -> Verdict:
    page = await home_page(ctx, ctx.settings.target or "")
    if page.error is not None or page.response is None:
        return Verdict.of(
            Outcome.ERROR, f"could not verify what stands in front: the home page {page.unjudgeable()}"
        )
    html = page.response.text if 200 <= page.response.status_code < 300 else None
    origin = ctx.settings.edge.origin
    caching, probe = await asyncio.gather(
        _caching(ctx, _assets(ctx, html)), _origin(ctx, origin) if origin else _nothing()
    )
    cdn = detect([page.response.headers, *caching.seen])
    problems = _problems(ctx, cdn, caching, probe)
    errors = [e for e in (caching.error, probe.error if probe else None) if e]
    metrics: dict[str, object] = {
        "cdn": cdn.name if cdn else None,
        "evidence": list(cdn.evidence) if cdn else [],
        "edge_cache": {
            "hit": caching.hits,
            "miss": [*caching.misses, *caching.uncached],
            "not_judged": caching.unjudged,
        },
    }
    if probe is not None:
        metrics["origin"] = probe.said
    findings = [Finding(p) for p in [*problems, *errors]]
    if problems:
        return Verdict.of(Outcome.FAIL if strict(ctx) else Outcome.WARN, f"{problems[0]}.", findings, metrics)
    if errors:
        return Verdict.of(Outcome.ERROR, f"could not verify: {errors[0]}", findings, metrics)
    assert cdn is not None
    if caching.hits:
        cached = (
            f"{count(len(caching.hits), 'static asset')} served from its cache ({', '.join(caching.hits)})"
        )
    else:
        cached = f"its cache not judged ({'; '.join(caching.unjudged) or 'no static asset to try'})"
    if caching.hits and caching.uncached:
        cached += f"; not cacheable, see headers.cache: {', '.join(caching.uncached)}"
    guarded = f"; {probe.said}" if probe is not None else ""
    return Verdict.of(
        Outcome.PASS,
        f"{cdn.name} stands in front ({', '.join(cdn.evidence)}); {cached}{guarded}",
        metrics=metrics,
    )


async def _nothing() -> None:
    return None
