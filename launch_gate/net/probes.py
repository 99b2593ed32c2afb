"""Network probes several check areas share: a GET that says who did not answer, a redirect chain followed
hop by hop, and the target's home page fetched once per run (domain.redirects and the header checks judge
the same page). Every request goes through the shared client (connect-to, CA bundle, timeouts)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from launch_gate.config import Settings
from launch_gate.errors import CouldNotVerify
from launch_gate.net import http_client

MAX_FOLLOW = 10


class Run(Protocol):
    """What a probe needs of a check's context: the settings and the run's shared probes."""

    @property
    def settings(self) -> Settings: ...

    async def shared(self, key: Hashable, make: Callable[[], Awaitable[Any]]) -> Any: ...


async def get(http: httpx.AsyncClient, url: str, **kwargs: object) -> httpx.Response:
    """GET `url`; no answer raises CouldNotVerify naming the URL."""
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


def origin(url: str) -> tuple[str, str]:
    """(scheme, host:port) of a URL, lower case: what "the same site" means for a redirect."""
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def chain(hops: list[Hop]) -> str:
    """A redirect chain as messages show it: `url (status) -> url (status) -> next location`."""
    return " -> ".join(f"{h.url} ({h.status})" for h in hops) + (
        f" -> {hops[-1].location}" if hops[-1].location else ""
    )


async def follow_into(
    http: httpx.AsyncClient, url: str, into: list[tuple[Hop, httpx.Response]], stay: bool = False
) -> str | None:
    """Follow `url`, appending every (hop, answer) to `into`; a problem (loop, too many hops, with `stay` a
    redirect off the site) if it stopped early. No answer raises CouldNotVerify, the hops so far in `into`."""
    seen, site = set(), origin(url)
    for _ in range(MAX_FOLLOW):
        if url in seen:
            return "loop"
        seen.add(url)
        response = await get(http, url)
        into.append((_hop(url, response), response))
        location = response.headers.get("location")
        if not (300 <= response.status_code < 400 and location):
            return None
        url = str(httpx.URL(url).join(location))
        if stay and origin(url) != site:
            return "another site"
    return f"more than {MAX_FOLLOW} redirects"


async def follow(http: httpx.AsyncClient, url: str) -> tuple[list[Hop], str | None]:
    """Every hop from `url`, and a problem (loop, too many hops) if following stopped early."""
    answers: list[tuple[Hop, httpx.Response]] = []
    stopped = await follow_into(http, url, answers)
    return [hop for hop, _ in answers], stopped


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
            return f"{self.error}{f' after {chain(list(self.hops))}' if self.hops else ''}"
        if self.stopped == "another site":
            return f"{self.start} redirects to another site: {chain(list(self.hops))}"
        if self.stopped is not None:
            return f"{self.start} redirects with no end ({self.stopped}): {chain(list(self.hops))}"
        if not 200 <= self.hops[-1].status < 300:
            after = f" after {chain(list(self.hops[:-1]))}" if len(self.hops) > 1 else ""
            return f"{self.start} answers {self.hops[-1].status}{after}, not a 2xx page"
        return None


async def fetch_page(ctx: Run, url: str) -> Page:
    """`url` followed on its own site (at most MAX_FOLLOW hops), timed by its requests' own times (`Page`);
    no answer is kept as `error`."""
    answers: list[tuple[Hop, httpx.Response]] = []
    stopped = error = None
    async with http_client(ctx.settings) as http:
        try:
            stopped = await follow_into(http, url, answers, stay=True)
        except CouldNotVerify as exc:
            error = str(exc)
    hops = tuple(hop for hop, _ in answers)
    last = answers[-1][1] if answers else None
    return Page(url, hops, last, sum(hop.seconds for hop in hops), stopped, error)


async def home_page(ctx: Run, url: str) -> Page:
    """A page of the target, fetched once per run for every check that needs it."""
    page: Page = await ctx.shared(("page", url), lambda: fetch_page(ctx, url))
    return page
