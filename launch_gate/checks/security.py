"""The auth and data-path baseline (`security.*`), on the smoke-flow machinery: what user A's flow created
stays A's (`security.ownership`), login and reset routes are throttled (`security.rate-limits`), public
endpoints answer bad input with a 4xx (`security.inputs`), and the run's own secrets never reach the app's
logs (`security.logs`). Every check that sends traffic uses the run's throwaway users only, cleans up what
they made however it ends, and is skipped against production unless `[smoke] allow-production`."""

from __future__ import annotations

import asyncio
import bisect
import json
import re
import secrets as secrets_module
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from launch_gate.checks import Context, check
from launch_gate.config import Settings
from launch_gate.errors import ConfigError, CouldNotVerify
from launch_gate.redact import encoded_pattern, escaped_pattern
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.words import count

if TYPE_CHECKING:  # the HTTP and flow machinery is imported when a security check runs, not when it is listed
    import httpx

    from launch_gate.config.schema import (
        LogsTable,
        OwnershipRequest,
        OwnershipTable,
        RateLimitsTable,
        SecurityRequest,
    )
    from launch_gate.flows.runner import Session, Values

_NAME = re.compile(r"(?<!\{)\{([A-Za-z_][\w.-]*)\}")
_READS = frozenset({"GET", "HEAD"})
PURPOSE = {"flow": "creates user A's data", "as-b": "signs up and logs in user B"}
_EMPTY = frozenset({"", "[]", "{}", "null", '""'})


def _shown(method: str, path: str) -> str:
    """A request as messages show it: the template (`{booking}`), never the values filled in, nor a query."""
    return f"{method} {path.split('?', 1)[0]}"


def _statuses(codes: list[int]) -> str:
    words = [str(c) for c in codes]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _body(values: Values, request: SecurityRequest) -> dict[str, object]:
    if request.json_body is not None:
        return {"json": values.render_any(request.json_body)}
    if request.form is not None:
        return {"data": {k: values.render(v) for k, v in request.form.items()}}
    return {}


# --- security.ownership ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One request of user A's, made by someone else: user B, or nobody (no credentials)."""

    request: OwnershipRequest
    as_b: bool
    path: str  # filled in with A's values (a neighbouring id's, for a neighbour)
    neighbour: str = ""  # "{booking}+1" when it reads the id next to A's

    @property
    def who(self) -> str:
        return "as user B" if self.as_b else "without credentials"

    @property
    def shown(self) -> str:
        shown = _shown(self.request.method, self.request.path)
        return f"{shown} (the id next to A's, {self.neighbour})" if self.neighbour else shown


def _used_names(table: OwnershipTable) -> set[str]:
    """The values the requests take from user A's flow: the names templated into their paths and bodies."""
    used = set()
    for request in table.requests:
        used |= set(_NAME.findall(request.path)) | set(_NAME.findall(json.dumps(request.json_body)))
        used |= {n for v in (request.form or {}).values() for n in _NAME.findall(v)}
    return {n for n in used if not n.startswith(("user.", "env."))}


def _b_plan(settings: Settings, table: OwnershipTable) -> tuple[str, int | None]:
    """User B's flow and how many of its steps to take: `as-b`'s whole flow, else `flow`'s steps before the
    one that captures the first value the requests use (B signs up and logs in as A did, and stops there)."""
    flows = settings.smoke.flows
    for key, name in (("flow", table.flow), ("as-b", table.as_b)):
        if name is not None and name not in flows:
            known = ", ".join(flows) or "none"
            raise ConfigError(
                f"`[security.ownership] {key}` names {name!r}, which is not a flow in [smoke.flows] (known: "
                f"{known}); name the flow that {PURPOSE[key]}"
            )
    assert table.flow is not None
    if table.as_b is not None:
        return table.as_b, None
    used = _used_names(table)
    for number, step in enumerate(flows[table.flow].steps):
        if used & set(step.capture) and number > 0:
            return table.flow, number
    raise ConfigError(
        f"`[security.ownership]`: user B takes flow {table.flow!r}'s steps before the one that captures what "
        'the requests use, but no step after the first captures a value they use (e.g. path = "/api/bookings/'
        '{booking}" with capture = { booking = "json:id" }); fix the requests, or set as-b to a flow that '
        "logs in user B"
    )


def _captured(settings: Settings, flow: str, steps: int | None) -> set[str]:
    return {name for step in settings.smoke.flows[flow].steps[:steps] for name in step.capture}


def _check_templates(settings: Settings, table: OwnershipTable, b_flow: str, b_steps: int | None) -> None:
    """Every name the requests take from A's flow, and every name their headers take from B's steps, is
    captured there: said before any user is made."""
    assert table.flow is not None
    mine, theirs = _captured(settings, table.flow, None), _captured(settings, b_flow, b_steps)
    headers = {n for r in table.requests for v in r.headers.values() for n in _NAME.findall(v)}
    markers = {n for m in table.markers for n in _NAME.findall(m)}
    for names, known, where in (
        (_used_names(table) | markers, mine, f"the steps of user A's flow {table.flow!r}"),
        (headers | markers, theirs, f"user B's steps of flow {b_flow!r}"),
    ):
        missing = sorted(n for n in names - known if not n.startswith(("user.", "env.")))
        if missing:
            raise ConfigError(
                f"`[security.ownership]` uses {{{missing[0]}}}, which {where} do not capture; capture it "
                "there, or fix the name"
            )


def _attempts(table: OwnershipTable, a: Session, b: Session) -> list[Attempt]:
    """Every attempt, reads before writes: each request without credentials and as B, and for reads of a
    numeric id, the ids next to it (never writes: the id next to A's may be a real user's)."""
    from launch_gate.flows.runner import Missing

    made: list[Attempt] = []
    for request in sorted(table.requests, key=lambda r: r.writes):
        try:
            path = a.values.render_url(request.path)
        except Missing as missing:
            raise ConfigError(
                f"`[security.ownership]` request {request.label!r} uses {{{missing.args[0]}}}, which flow "
                f"{table.flow!r} did not capture"
            ) from None
        made += [Attempt(request, False, path), Attempt(request, True, path)]
        if request.neighbours and request.method in _READS:
            made += _neighbours(request, a, b)
    return made


def _neighbours(request: OwnershipRequest, a: Session, b: Session) -> Iterator[Attempt]:
    for name in dict.fromkeys(_NAME.findall(request.path)):
        value = a.values.captured.get(name, "")
        if not value.isdigit():
            continue
        for step in (-1, 1):
            other = int(value) + step
            if other < 0 or str(other) == b.values.captured.get(name):  # B's own record is B's to read
                continue
            path = a.values.render_url(request.path.replace(f"{{{name}}}", str(other)))
            for as_b in (False, True):
                yield Attempt(request, as_b, path, f"{{{name}}}{step:+d}")


def _anonymous_headers(request: OwnershipRequest, values: Values) -> dict[str, str]:
    """Headers sent without credentials: none that carries one (Authorization, Cookie, any {template})."""
    plain = {k: v for k, v in request.headers.items() if k.lower() not in ("authorization", "cookie")}
    return {k: values.render(v) for k, v in plain.items() if not _NAME.search(v)}


def _b_headers(request: OwnershipRequest, b: Session, flow: str) -> dict[str, str]:
    from launch_gate.flows.runner import Missing

    try:
        return {k: b.values.render(v) for k, v in request.headers.items()}
    except Missing as missing:
        raise ConfigError(
            f"`[security.ownership]` request {request.label!r} sends {{{missing.args[0]}}} as user B, but user "
            f"B's steps of flow {flow!r} did not capture it; capture it there, or set as-b"
        ) from None


_LOGIN_PAGE = re.compile(
    r"(?i)(?:^|[/_-])(?:log-?in|sign-?in|sign_in|logon|auth|sso|session/new)(?:$|[/._-])"
)


def _to_login(response: httpx.Response) -> bool:
    """A redirect to a login page (`302 Location: /login?next=...`): how server-rendered apps deny a visitor
    who is not logged in, or not allowed; a denial, whatever `deny` lists."""
    location = response.headers.get("location")
    if not response.is_redirect or not location:
        return False
    return bool(_LOGIN_PAGE.search(urlsplit(urljoin(str(response.url), location)).path))


def _has_data(body: str) -> bool:
    return body.strip() not in _EMPTY


def _judge(attempt: Attempt, response: httpx.Response, table: OwnershipTable, mark: Marks) -> str | None:
    """Why this answer gives A's data (or anyone's) away, or None when it does not."""
    status = response.status_code
    deny = attempt.request.deny or table.deny
    head = f"{attempt.who}: {attempt.shown} answered {status}"
    if status in deny or _to_login(response):
        return None
    if 300 <= status < 400:
        where = urlsplit(urljoin(str(response.url), response.headers.get("location", ""))).path or "nowhere"
        return (
            f"{head} (a redirect to {where}), which is not a denial ({_statuses(deny)}) nor a login page; if "
            f"that is how this route denies, add {status} to `deny` ([security.ownership] deny, or the "
            "request's own)"
        )
    if not 200 <= status < 300:
        return f"{head} (expected a denial: {_statuses(deny)})"
    if attempt.request.writes:
        return f"{head}: someone other than user A can change A's data (expected {_statuses(deny)})"
    body = response.text
    if attempt.neighbour:
        if _has_data(body) and not (attempt.as_b and mark.holds(body, mark.b)):
            return f"{head} with another user's data (expected {_statuses(deny)})"
        return None
    if mark.holds(body, mark.a):
        return f"{head} with user A's data (expected {_statuses(deny)})"
    return None  # an answer without A's data: a list filtered to B's own, a login page


@dataclass(frozen=True)
class Marks:
    """What shows a record is A's (or B's own): the `markers` filled in with each user's values."""

    a: tuple[str, ...]
    b: tuple[str, ...]

    @staticmethod
    def holds(body: str, marks: tuple[str, ...]) -> bool:
        """Whether the body holds one of `marks` in any form a server writes it (`encoded_pattern`: as
        written, URL-encoded, JSON `\\uXXXX` escapes, HTML entities, base64; an address in any case)."""
        return any(encoded_pattern(m, "@" in m).search(body) for m in marks)


def _marks(table: OwnershipTable, a: Session, b: Session) -> Marks:
    from launch_gate.flows.runner import Missing

    def filled(session: Session, user: str) -> tuple[str, ...]:
        try:
            marks = tuple(session.values.render(m) for m in table.markers)
        except Missing as missing:
            raise ConfigError(
                f"`[security.ownership] markers` uses {{{missing.args[0]}}}, which user {user}'s steps did not "
                "capture"
            ) from None
        short = [m for m in table.markers if len(session.values.render(m)) < 6]
        if short:
            raise ConfigError(
                f"`[security.ownership] markers`: {short[0]!r} is under 6 characters once filled in, too short "
                "to tell A's data from anything else; use {user.email} or a longer captured value"
            )
        return marks

    return Marks(filled(a, "A"), filled(b, "B"))


async def _send(
    http: httpx.AsyncClient, ctx: Context, attempt: Attempt, headers: dict[str, str], a: Session
) -> httpx.Response:
    import httpx

    from launch_gate.net.http import answer_secrets

    url = attempt.path if attempt.path.startswith(("http://", "https://")) else a.run.url(attempt.path)
    try:
        response = await http.request(
            attempt.request.method,
            url,
            headers=headers,
            **_body(a.values, attempt.request),  # type: ignore[arg-type]
        )
    except httpx.HTTPError as exc:
        raise CouldNotVerify(f"{attempt.who}: {attempt.shown} got no answer ({type(exc).__name__})") from None
    ctx.secrets.update(answer_secrets(response))
    return response


async def _probe(
    ctx: Context, table: OwnershipTable, a: Session, b: Session
) -> tuple[list[str], list[dict[str, object]]]:
    """Make every attempt; the failures as sentences, and each attempt's status for the report's metrics."""
    from launch_gate.net import http_client

    assert table.flow is not None
    attempts, mark = _attempts(table, a, b), _marks(table, a, b)
    failures: list[str] = []
    log: list[dict[str, object]] = []
    async with http_client(ctx.settings) as nobody:
        for attempt in attempts:
            if attempt.as_b:
                response = await _send(b.http, ctx, attempt, _b_headers(attempt.request, b, table.flow), a)
            else:
                response = await _send(nobody, ctx, attempt, _anonymous_headers(attempt.request, a.values), a)
                nobody.cookies.clear()
            log.append({"who": attempt.who, "request": attempt.shown, "status": response.status_code})
            failure = _judge(attempt, response, table, mark)
            if failure is not None:
                failures.append(failure)
    return failures, log


def _ownership_timeout(settings: Settings) -> float:
    table = settings.security.ownership
    flow = settings.smoke.flows.get(table.flow or "")
    steps = 2 * (len(flow.steps) + len(flow.cleanup)) if flow else 0
    waits = (
        2 * sum((s.email.within or settings.smoke.email_within) for s in flow.steps if s.email) if flow else 0
    )
    return max(settings.timeout, (steps + 6 * len(table.requests)) * settings.net.probe_timeout + waits + 10)


@asynccontextmanager
async def _users(
    ctx: Context, a: tuple[str, int | None], b: tuple[str, int | None], left: list[str]
) -> AsyncIterator[tuple[Session, Session]]:
    """Users A and B, each through their flow's steps, side by side; both cleaned up however the block
    ends (what a cleanup could not do goes to `left`). A's failure is reported first."""
    from launch_gate.flows.runner import flow_session

    async with AsyncExitStack() as stack:
        entered = await asyncio.gather(
            stack.enter_async_context(flow_session(a[0], ctx, a[1], problems=left, who="user A")),
            stack.enter_async_context(flow_session(b[0], ctx, b[1], problems=left, who="user B")),
            return_exceptions=True,
        )
        users = [user for user in entered if not isinstance(user, BaseException)]
        for outcome in entered:
            if isinstance(outcome, BaseException):
                raise outcome
        yield users[0], users[1]


@check(
    "security.ownership",
    Phase.POST,
    "another user, and no user at all, cannot read or change what a flow's user created",
    needs_target="to check ownership",
    timeout=_ownership_timeout,
    fails_when=(
        "`[security.ownership] flow` runs as throwaway user A; each of `requests` (e.g. GET and DELETE "
        "`/api/bookings/{booking}`), made as a second throwaway user B and without credentials, answers a "
        "2xx to a write, a 2xx read whose body holds A's data (`markers`, default A's email), or a status "
        "that is not a denial (`deny`, default 401, 403, 404); or, for a numeric id, a read of the id next "
        "to A's answers any other user's data. Writes are sent only where declared `safe-to-try`. Users A "
        "and B are cleaned up by their flow's cleanup, also after a failure; a cleanup that fails fails the "
        "check. A flow step that goes wrong, or no answer, is *could not verify*. Skipped against "
        "production unless `[smoke] allow-production`"
    ),
)
async def check_ownership(ctx: Context) -> Verdict:
    from launch_gate.flows.runner import StepFailed, production_guard

    table = ctx.settings.security.ownership
    if not table.requests:
        return Verdict.of(
            Outcome.SKIP, "not configured: list user A's requests in [security.ownership] requests"
        )
    guard = production_guard(ctx.settings)
    if guard is not None:
        return Verdict.of(Outcome.SKIP, guard)
    assert table.flow is not None
    b_flow, b_steps = _b_plan(ctx.settings, table)
    _check_templates(ctx.settings, table, b_flow, b_steps)
    left: list[str] = []
    failures: list[str] = []
    log: list[dict[str, object]] = []
    problem: tuple[Outcome, str] | None = None
    try:
        async with _users(ctx, (table.flow, None), (b_flow, b_steps), left) as (a, b):
            failures, log = await _probe(ctx, table, a, b)
    except StepFailed as failed:
        problem = failed.outcome, failed.text
    except CouldNotVerify as exc:
        problem = Outcome.ERROR, str(exc)
    return _ownership_verdict(failures, log, left, problem)


def _ownership_verdict(
    failures: list[str], log: list[dict[str, object]], left: list[str], problem: tuple[Outcome, str] | None
) -> Verdict:
    findings = [Finding(f) for f in (*failures, *left)]
    metrics: dict[str, object] = {"attempts": log}
    if failures:
        more = f" (and {count(len(failures) - 1, 'more attempt')})" if len(failures) > 1 else ""
        return Verdict.of(
            Outcome.FAIL,
            f"{failures[0]}{more}: one user can reach another's data by its id; check that the record "
            "belongs to the logged-in user in that route",
            findings,
            metrics,
        )
    if problem is not None and problem[0] is Outcome.FAIL and not log:
        return Verdict.of(Outcome.ERROR, f"could not verify: {problem[1]}", findings, metrics)
    if problem is not None:
        prefix = "" if problem[1].startswith("could not verify") else "could not verify: "
        return Verdict.of(Outcome.ERROR, f"{prefix}{problem[1]}", findings, metrics)
    if left:
        return Verdict.of(
            Outcome.FAIL,
            f"every attempt was denied, but cleanup did not: {left[0]} (data may be left behind)",
            findings,
            metrics,
        )
    neighbours = sum(1 for e in log if "next to A's" in str(e["request"]))
    return Verdict.of(
        Outcome.PASS,
        f"{count(len(log), 'attempt')} on user A's data as user B and without credentials ({neighbours} of "
        "them on the ids next to A's) were denied or held nothing of A's; users A and B cleaned up",
        findings,
        metrics,
    )


# --- security.rate-limits -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Burst:
    """One route's burst: how many answers came before the first throttle, and when it came."""

    name: str
    shown: str
    sent: int
    accepted: int
    throttled_s: float | None  # seconds from the first request to the throttling answer
    throttle: str  # what throttled: "429", "Retry-After"
    statuses: Counter[int]
    error: str | None = None

    @property
    def summary(self) -> str:
        if self.throttled_s is None:
            return f"all {self.sent} accepted ({_answers(self.statuses)})"
        return f"{self.accepted} accepted, then {self.throttle} at {self.throttled_s:.1f} s"

    def metrics(self) -> dict[str, object]:
        return {"route": self.name, "sent": self.sent, "accepted": self.accepted,
                "throttled_s": self.throttled_s, "throttle": self.throttle or None}  # fmt: skip


def _throttled(response: httpx.Response, table: RateLimitsTable) -> str:
    """What in this answer is a throttle ("429", "Retry-After"), or "" for an accepted request."""
    if response.status_code in table.throttled:
        return str(response.status_code)
    header = next((h for h in table.throttle_headers if h in response.headers), "")
    if header:
        return header
    body = table.throttled_body
    if body and body.lower() in response.text[:65536].lower():
        return f"{response.status_code} saying {body!r}"
    return ""


async def _burst(
    ctx: Context, http: httpx.AsyncClient, values: Values, name: str, route: SecurityRequest
) -> Burst:
    """Up to `burst` requests spread evenly over `within` seconds, one after another, until one is throttled."""
    import httpx

    from launch_gate.net.http import answer_secrets

    table = ctx.settings.security.rate_limits
    shown = _shown(route.method, route.path)
    url = (
        (ctx.settings.target or "").rstrip("/") + values.render_url(route.path)
        if route.path.startswith("/")
        else values.render_url(route.path)
    )
    headers = {k: values.render(v) for k, v in route.headers.items()}
    statuses: Counter[int] = Counter()
    late = table.within + ctx.settings.net.probe_timeout
    started = time.perf_counter()
    for number in range(table.burst):
        await asyncio.sleep(max(0.0, started + number * table.within / table.burst - time.perf_counter()))
        if time.perf_counter() - started > late:
            error = f"only {count(number, 'request')} of {table.burst} were answered within {late:g} s"
            return Burst(name, shown, number, number, None, "", statuses, error)
        try:
            response = await http.request(route.method, url, headers=headers, **_body(values, route))  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            error = f"request {number + 1} got no answer ({type(exc).__name__})"
            return Burst(name, shown, number + 1, number, None, "", statuses, error)
        ctx.secrets.update(answer_secrets(response))
        statuses[response.status_code] += 1
        throttle = _throttled(response, table)
        if throttle:
            return Burst(name, shown, number + 1, number, time.perf_counter() - started, throttle, statuses)
        moved = _moved(response)
        if moved:
            return Burst(name, shown, number + 1, number, None, "", statuses, moved)
    return Burst(name, shown, table.burst, table.burst, None, "", statuses)


def _moved(response: httpx.Response) -> str:
    """Why a redirect of the same path elsewhere (another host or scheme) means the app never judged the
    request, or "" (a form login that redirects back to its page after a wrong password was judged)."""
    location = response.headers.get("location")
    if not response.is_redirect or location is None:
        return ""
    there = urlsplit(urljoin(str(response.url), location))
    if there.path != response.url.path:
        return ""
    return (
        f"it was redirected ({response.status_code}) to {there.scheme}://{there.netloc}{there.path}, so the app "
        "never judged it; point the route's path (or target) at where it is served"
    )


def _answers(statuses: Counter[int]) -> str:
    return ", ".join(f"{status} x{n}" for status, n in sorted(statuses.items()))


def _rate_limits_timeout(settings: Settings) -> float:
    table = settings.security.rate_limits
    flow = settings.smoke.flows.get(table.flow or "")
    steps = (len(flow.steps) + len(flow.cleanup)) * settings.net.probe_timeout if flow else 0
    bursts = len(table.routes) * (table.within + 2 * settings.net.probe_timeout)
    return max(settings.timeout, bursts + steps + 10)


@check(
    "security.rate-limits",
    Phase.POST,
    "login, password reset, OTP, invite and upload routes throttle a burst",
    needs_target="to check rate limits",
    timeout=_rate_limits_timeout,
    stage=2,  # after the flows and the ownership check: a burst may lock out their logins
    fails_when=(
        "a route of `[security.rate-limits] routes` (e.g. a login with a wrong password for the run's "
        "throwaway address) accepts a whole burst (`burst` requests over `within` seconds; default 30 in "
        "10 s; more than 100 is a configuration error) without one answer in `throttled` (default 429), "
        "carrying one of `throttle-headers` (default Retry-After), or whose body holds `throttled-body`; or "
        "the cleanup of `flow` (the user the bursts aim at) fails. Runs after the other post checks (stage "
        "2), one request after another, stopping at the first throttle. No answer, a redirect of the route "
        "to another host or scheme (the app never judged it), answers too slow to fit the burst, or a step "
        "of `flow` that goes wrong is *could not verify*. Skipped against production unless `[smoke] "
        "allow-production`"
    ),
)
async def check_rate_limits(ctx: Context) -> Verdict:
    from launch_gate.flows.runner import StepFailed, production_guard
    from launch_gate.net import http_client

    table = ctx.settings.security.rate_limits
    if not table.routes:
        return Verdict.of(Outcome.SKIP, "not configured: declare routes in [security.rate-limits] routes")
    guard = production_guard(ctx.settings)
    if guard is not None:
        return Verdict.of(Outcome.SKIP, guard)
    if table.flow is not None and table.flow not in ctx.settings.smoke.flows:
        known = ", ".join(ctx.settings.smoke.flows) or "none"
        raise ConfigError(
            f"`[security.rate-limits] flow` names {table.flow!r}, which is not a flow in [smoke.flows] (known: "
            f"{known}); name the flow that signs up the user the bursts aim at"
        )
    left: list[str] = []
    bursts: list[Burst] = []
    try:
        async with _burst_values(ctx, table.flow, left) as values, http_client(ctx.settings) as http:
            for name, route in table.routes.items():
                bursts.append(await _burst(ctx, http, values, name, route))
                http.cookies.clear()
    except StepFailed as failed:
        return Verdict.of(Outcome.ERROR, f"could not verify: {failed.text}", [Finding(p) for p in left])
    return _rate_limits_verdict(bursts, table, left)


@asynccontextmanager
async def _burst_values(ctx: Context, flow: str | None, left: list[str]) -> AsyncIterator[Values]:
    """The values the bursts fill in: a new throwaway address (never signed up), or with `flow`, the user
    that flow's steps made, whose cleanup runs after the bursts however they end (what it could not do goes
    to `left`)."""
    from launch_gate.flows.runner import Values, flow_session, new_session_identity

    if flow is None:
        yield Values(new_session_identity(ctx), ctx.environ, ctx.secrets)
        return
    async with flow_session(flow, ctx, problems=left, who="the rate-limit user") as session:
        yield session.values


def _rate_limits_verdict(bursts: list[Burst], table: RateLimitsTable, left: list[str]) -> Verdict:
    metrics: dict[str, object] = {
        "routes": [b.metrics() for b in bursts],
        "requests": sum(b.sent for b in bursts),
    }
    unthrottled = [b for b in bursts if b.error is None and b.throttled_s is None]
    errors = [b for b in bursts if b.error is not None]
    throttles = " or ".join([*map(str, table.throttled), *table.throttle_headers])
    findings = [Finding(f"{b.name} ({b.shown}): {b.error or b.summary}") for b in bursts]
    findings += [Finding(p) for p in left]
    throttles += f" or a body saying {table.throttled_body!r}" if table.throttled_body else ""
    if unthrottled:
        b = unthrottled[0]
        return Verdict.of(
            Outcome.FAIL,
            f"{b.name} ({b.shown}) accepted all {b.sent} requests in {table.within:g} s without a "
            f"{throttles} (answers: {_answers(b.statuses)}): anyone can guess passwords or send mail at no "
            "cost; throttle it per account and per client (if it does throttle, with another status or a body "
            'such as {"error": "too many attempts"}, say so in `throttled` or `throttled-body`)',
            findings,
            metrics,
        )
    if errors:
        b = errors[0]
        return Verdict.of(
            Outcome.ERROR, f"could not verify {b.name} ({b.shown}): {b.error}", findings, metrics
        )
    if left:
        return Verdict.of(
            Outcome.FAIL,
            f"every route throttled, but cleanup did not: {left[0]} (data may be left behind; a burst may "
            "have locked the account: let the cleanup use the session the steps captured)",
            findings,
            metrics,
        )
    each = "; ".join(
        f"{b.name} after {b.accepted} accepted ({b.throttle} at {b.throttled_s or 0:.1f} s)" for b in bursts
    )
    return Verdict.of(Outcome.PASS, f"throttled: {each}", findings, metrics)


# --- security.logs --------------------------------------------------------------------------------------

# The shape of a throwaway user's password (`launch_gate.flows.identity.new_identity`): names the kind found.
_THROWAWAY_PASSWORD = re.compile(r"^Lg-[\w-]{20,}-9a!$")
_CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"[0-9]"), re.compile(r"[^A-Za-z0-9]"))
MIN_SECRET = 10  # shorter values, or values of one kind of character ("anonymous"), are not looked for


@dataclass(frozen=True)
class Needle:
    """One of the run's secret values to look for in the log, in any of the forms a server writes it."""

    kind: str
    value: int  # which of the run's values it is
    text: str
    pattern: re.Pattern[str]  # `launch_gate.redact.encoded_pattern`: as written, URL, JSON, HTML, base64


KINDS = (  # the worst first: a report names the worst kind it found
    "the throwaway user's password",
    "a token, cookie or other secret the run was handed",
)


def _kind(value: str, public: set[str]) -> str | None:
    if value in public:
        return None  # an address: the gate's own requests carry it (`?owner=`), so it is no leak (see Trace)
    if _THROWAWAY_PASSWORD.match(value):
        return KINDS[0]
    if len(value) >= MIN_SECRET and sum(1 for c in _CLASSES if c.search(value)) >= 2:
        return KINDS[1]
    return None


def encoding_of(found: str, value: str) -> str:
    """How the log wrote `value` (`found` is what matched): as written, URL-encoded, JSON-escaped, as HTML
    entities, or base64 (of it, or of a text holding it such as `email:password`)."""
    if found == value or found.lower() == value.lower():
        return "as written"
    if escaped_pattern(value, "@" in value).fullmatch(found) is None:
        return "base64"
    if found.count("\\") > value.count("\\"):
        return "JSON-escaped"
    if found.count("&") > value.count("&") and found.count(";") > value.count(";"):
        return "HTML entities"
    return "URL-encoded"


def needles(secrets: set[str], public: set[str]) -> list[Needle]:
    """Every secret value the run made or was handed (`secrets`; the addresses in `public` are not secrets)
    that the app's log must never hold, in any form."""
    found = []
    for number, value in enumerate(sorted(secrets)):
        kind = _kind(value, public)
        if kind is not None:
            found.append(Needle(kind, number, value, encoded_pattern(value)))
    return found


def find(log: str, wanted: list[Needle]) -> list[tuple[int, Needle, str]]:
    """(line number, needle, encoding) for each line holding a needle."""
    starts = [0, *(m.end() for m in re.finditer("\n", log))]
    hits: dict[tuple[int, str], tuple[int, Needle, str]] = {}
    for needle in wanted:
        for match in needle.pattern.finditer(log):
            line = bisect.bisect_right(starts, match.start())
            hits.setdefault((line, needle.kind), (line, needle, encoding_of(match[0], needle.text)))
            if len(hits) >= 1000:
                break
    return sorted(hits.values(), key=lambda hit: (hit[0], hit[1].kind))


@dataclass(frozen=True)
class Trace:
    """What shows that a log holds this run's requests: the marker request the check sent just before
    reading it (`GET /launch-gate/<marker>`), or one of the run's throwaway addresses in any encoding."""

    marker: str
    addresses: tuple[str, ...] = ()
    where: str = "/launch-gate/{marker}"  # `[security.logs] marker-path`

    @classmethod
    def new(cls, addresses: set[str], where: str = "/launch-gate/{marker}") -> Trace:
        return cls(f"lg-log-marker-{secrets_module.token_hex(8)}", tuple(sorted(addresses)), where)

    @property
    def path(self) -> str:
        return self.where.replace("{marker}", self.marker)

    def seen(self, log: str) -> str | None:
        """What of this run the log holds, or None."""
        if self.marker in log:
            return "the marker request"
        if any(encoded_pattern(a, True).search(log) for a in self.addresses):
            return "a throwaway address of this run"
        return None


async def _read_command(argv: list[str], table: LogsTable) -> str:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as exc:
        raise CouldNotVerify(
            f"the log command {argv[0]!r} could not start ({exc.strerror or type(exc).__name__})"
        ) from None
    try:
        output, _ = await asyncio.wait_for(process.communicate(), table.timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise CouldNotVerify(
            f"the log command {argv[0]!r} did not finish within {table.timeout:g} s"
        ) from None
    if process.returncode != 0:
        raise CouldNotVerify(
            f"the log command {argv[0]!r} exited with {process.returncode} (run it yourself to see why)"
        )
    return output[-table.max_bytes :].decode("utf-8", "replace")


def _read_file(settings: Settings, table: LogsTable) -> str:
    assert table.file is not None
    path = settings.root / table.file
    try:
        with path.open("rb") as log:
            size = log.seek(0, 2)
            log.seek(max(0, size - table.max_bytes))
            return log.read().decode("utf-8", "replace")
    except OSError as exc:
        raise CouldNotVerify(
            f"the log file {table.file} could not be read ({exc.strerror or type(exc).__name__})"
        ) from None


async def _read_url(ctx: Context, table: LogsTable) -> str:
    import httpx

    from launch_gate.flows.runner import Missing, Values
    from launch_gate.net import http_client

    assert table.url is not None
    values = Values(None, ctx.environ, ctx.secrets)
    try:
        headers = {k: values.render(v) for k, v in table.headers.items()}
    except Missing as missing:
        raise ConfigError(
            f"`[security.logs] headers` uses {{{missing.args[0]}}}: only {{env.NAME}} of a variable that is set"
        ) from None
    try:
        async with http_client(ctx.settings) as http:
            response = await http.get(table.url, headers=headers, timeout=table.timeout)
    except httpx.HTTPError as exc:
        raise CouldNotVerify(f"the log URL got no answer ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise CouldNotVerify(f"the log URL answered {response.status_code}")
    return response.text[-table.max_bytes :]


async def read_log(ctx: Context, table: LogsTable) -> tuple[str, str]:
    """The app's recent log and where it came from; CouldNotVerify when the source cannot be read."""
    if table.command is not None:
        return await _read_command(table.command, table), f"the output of {table.command[0]}"
    if table.file is not None:
        return await asyncio.to_thread(_read_file, ctx.settings, table), table.file
    return await _read_url(ctx, table), "the log URL"


def _logs_timeout(settings: Settings) -> float:
    table = settings.security.logs
    return max(settings.timeout, table.wait + table.timeout + 10)


@check(
    "security.logs",
    Phase.POST,
    "the run's own secrets (password, tokens, cookies) never appear in the app's logs",
    needs_target="to read the app's logs after the flows",
    timeout=_logs_timeout,
    stage=3,
    fails_when=(
        "after the flows and the other security checks (rate-limit bursts included), the app's recent log "
        "(`[security.logs]`: a `command` run without a shell, a `file`, or a `url`) holds a secret only this "
        "run knew: a throwaway user's password, or a token, cookie or captured secret the app handed it, as "
        "written, URL-encoded, JSON-escaped (any character as \\uXXXX), as HTML entities or base64 (also "
        "inside `Basic base64(email:password)`); reported by line number and kind, never the value. The "
        "throwaway email address is no leak (the gate's own URLs carry it). A source that cannot be read, an "
        "empty log, a log without a trace of this run (the marker request the check sends, or a throwaway "
        "address: a stale file, another app's log), or a run that made no such value is *could not verify*"
    ),
)
async def check_logs(ctx: Context) -> Verdict:
    from launch_gate.flows.runner import production_guard

    table = ctx.settings.security.logs
    if not table.configured:
        return Verdict.of(Outcome.SKIP, "not configured: set [security.logs] command, file or url")
    guard = production_guard(ctx.settings)
    if guard is not None:
        return Verdict.of(Outcome.SKIP, f"{guard} (so no throwaway values were made to look for)")
    wanted = needles(ctx.secrets, ctx.public)
    if not wanted:
        return Verdict.of(
            Outcome.ERROR,
            "could not verify: this run made no throwaway user or token to look for; run it with the smoke "
            "flows (configure [smoke] flows, and do not --select security.logs alone)",
        )
    trace = Trace.new({a for a in ctx.public if "@" in a}, table.marker_path)
    try:
        await _send_marker(ctx, trace)
        await asyncio.sleep(table.wait)
        log, source = await read_log(ctx, table)
    except CouldNotVerify as exc:
        return Verdict.of(Outcome.ERROR, f"could not verify: {exc}")
    return await asyncio.to_thread(judge_log, log, source, wanted, trace, _setting(table))


async def _send_marker(ctx: Context, trace: Trace) -> None:
    """One GET the app has never seen (`/launch-gate/lg-log-marker-<random>`, also in the User-Agent): its
    line in the log shows the log is the app's, and current."""
    import httpx

    from launch_gate.net import http_client

    try:
        async with http_client(ctx.settings) as http:
            await http.get(
                (ctx.settings.target or "").rstrip("/") + trace.path,
                headers={"User-Agent": f"launch-gate {trace.marker}"},
                follow_redirects=False,
            )
    except httpx.HTTPError as exc:
        raise CouldNotVerify(
            f"the marker request GET {trace.path} (sent so the log can show it is this run's) got no answer "
            f"({type(exc).__name__})"
        ) from None


def _setting(table: LogsTable) -> str:
    key = "command" if table.command is not None else "file" if table.file is not None else "url"
    return f"`[security.logs] {key}`"


_REQUEST_LINE = re.compile(r"\b(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) +(/[^\s?\"'#]{0,80})")


def _route(line: str, wanted: list[Needle]) -> str:
    """` (POST /api/signup)` when the log line names the request it was written for (and the path holds
    none of the run's values), else nothing."""
    found = _REQUEST_LINE.search(line)
    if found is None or any(n.pattern.search(found[0]) for n in wanted):
        return ""
    return f" ({found[1]} {found[2]})"


def judge_log(
    log: str, source: str, wanted: list[Needle], trace: Trace, setting: str = "`[security.logs]`"
) -> Verdict:
    """The verdict on a log: which lines hold which kind of the run's secrets (never the values); could
    not verify when the log holds no trace of this run (`trace`): a stale or another app's log proves
    nothing."""
    lines = log.count("\n") + (not log.endswith("\n"))
    if not log.strip():
        return Verdict.of(Outcome.ERROR, f"could not verify: {source} is empty; is it the app's log?")
    hits = find(log, wanted)
    values = len({n.value for n in wanted})
    metrics: dict[str, object] = {"lines": lines, "values": values, "leaks": len(hits)}
    if hits:
        texts = log.split("\n")
        where = {line: _route(texts[line - 1], wanted) for line, _, _ in hits}
        findings = [Finding(f"line {line}{where[line]}: {needle.kind} ({how})") for line, needle, how in hits]
        line, needle, how = min(hits, key=lambda hit: (KINDS.index(hit[1].kind), hit[0]))
        more = len(where) - 1
        also = f" (and {count(more, 'more line')} hold this run's secrets)" if more else ""
        return Verdict.of(
            Outcome.FAIL,
            f"{source}, line {line}{where[line]}, holds {needle.kind} ({how}){also}: whoever reads "
            "the logs can use it; stop logging request bodies, headers and tokens",
            findings,
            metrics,
        )
    seen = trace.seen(log)
    if seen is None:
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: {source} ({count(lines, 'line')}) holds no trace of this run: neither the "
            f"marker request the gate sent (GET {trace.path}) nor a throwaway address of its flows, so it may "
            f"be stale or another app's log; point {setting} at the app's live log (e.g. docker logs --since "
            "10m app), aim `[security.logs] marker-path` at a route the log records, or raise `wait` if its "
            "log pipeline lags",
            metrics=metrics,
        )
    return Verdict.of(
        Outcome.PASS,
        f"none of this run's {count(values, 'secret')} (passwords, tokens, cookies, in any encoding) is in "
        f"{source} ({count(lines, 'line')} read, holding {seen})",
        metrics=metrics,
    )


# --- security.inputs (section 3) ---
# The `security.inputs` check is declared here (a check's id prefix is its module's name) by the helper who
# builds section 3; its logic lives in `launch_gate/apiprobe/`. Keep this block at the end of the module.
@check(
    "security.inputs",
    Phase.POST,
    "public endpoints answer bad input with a 4xx: no 5xx, no stack trace, no answer outside their schema",
    needs_target="to probe the API with bad input",
    # its own probing time, the document's fetch and the last request's timeout, and a margin
    timeout=lambda settings: settings.security.inputs.max_time + 3 * settings.net.probe_timeout + 15,
    fails_when=(
        "with `[security.inputs] openapi`: a request schemathesis generated from the document (invalid data "
        "for every operation whose method `methods` allows, valid data too for reads) got a 5xx, an answer "
        "that breaks the documented schema, or a body with a stack trace; without a document: one of a fixed "
        "set of malformed bodies (bad JSON, wrong types, missing fields, oversized strings, wrong content "
        "type) sent to an `endpoints` entry got a 5xx or a stack trace. Names the operation and gives a "
        "redacted curl command. No answer, or a document that cannot be fetched or read, is *could not "
        "verify*; without schemathesis installed, a document is a configuration error "
        "(pip install 'launch-gate[api]'). Writes are not sent against production unless `[smoke] "
        "allow-production`"
    ),
)
async def check_inputs(ctx: Context) -> Verdict:
    from launch_gate.apiprobe import probe_inputs

    return await probe_inputs(ctx.settings)


# --- end of security.inputs (section 3) ---
