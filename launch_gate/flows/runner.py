"""Smoke flows, run: a flow's steps as a first customer would take them, with templates (`{user.email}`,
`{env.NAME}`, captured values), captures, email steps and proofs, cookie and caching rules on every answer,
and a cleanup that always runs. The checks that use it declare themselves in `launch_gate/checks/`."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

import httpx

from launch_gate.checks import Context
from launch_gate.config import Settings
from launch_gate.config.schema import Flow, FlowStep
from launch_gate.errors import ConfigError, CouldNotVerify
from launch_gate.flows.identity import Identity, new_identity
from launch_gate.flows.mailbox import Mail, Mailbox, MailboxError, MailboxFactory, first_link
from launch_gate.flows.mailproof import prove
from launch_gate.net import dns_resolver, http_client, http_options
from launch_gate.net.addresses import is_address
from launch_gate.net.http import answer_secrets
from launch_gate.redact import Redactor
from launch_gate.results import Finding, Outcome, Verdict
from launch_gate.rules.cookies import SESSIONISH, response_cookie_problems
from launch_gate.rules.domains import mail_domain, organizational_domain
from launch_gate.rules.headers import shared_cache_problem
from launch_gate.rules.words import count

_TEMPLATE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][\w.-]*)\}")
SNIPPET = 160
# Captures from these sources are shown as they are (a booking id, a redirect's path), unless a name says
# otherwise; cookies, page text and email links (a confirmation link carries a token) are always secrets.
_PLAIN_SOURCES = ("json:", "header:", "subject")
_SECRET_WORDS = re.compile(
    r"(?i)token|secret|session|passw|jwt|key|auth|csrf|xsrf|code|otp|nonce|sig|cookie|credential|bearer"
)
_STATIC = re.compile(r"\.(?:js|mjs|css|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|map)$", re.IGNORECASE)


class Missing(KeyError):
    """A template names a value nobody captured (yet)."""


class StepFailed(Exception):
    def __init__(self, outcome: Outcome, text: str) -> None:
        super().__init__(text)
        self.outcome = outcome
        self.text = text


@dataclass
class Values:
    """The values templates may use: `user.*`, captures, `env.NAME`; every one of them is kept secret."""

    identity: Identity | None
    environ: Mapping[str, str]
    secrets: set[str]
    captured: dict[str, str] = field(default_factory=dict)
    typed: dict[str, int | float | bool] = field(default_factory=dict)  # JSON numbers and booleans captured

    def get(self, name: str) -> str:
        if name in self.captured:
            return self.captured[name]
        if name.startswith("user."):
            if self.identity is None:
                raise ConfigError("flows that use {user.*} need [smoke] plus-address or catch-all-domain")
            values = {"user.email": self.identity.email, "user.password": self.identity.password,
                      "user.tag": self.identity.tag}  # fmt: skip
            if name in values:
                return values[name]
        if name.startswith("env."):
            value = self.environ.get(name[4:])
            if value:
                self.secrets.add(value)
                return value
        raise Missing(name)

    def render(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            if match[0] in ("{{", "}}"):
                return match[0][0]
            return self.get(match[1])

        return _TEMPLATE.sub(one, text)

    def render_url(self, text: str) -> str:
        """A path or URL template filled in, each value encoded for where it stands: in the path as one
        segment (`quote(safe="")`: a `+`, `/`, `?` or `#` in it stays data), after the template's `?` as a
        query value (`quote_plus`). Values with no literal text before them (`{env.API}/x`, a captured
        `{next}` path) are a URL or path themselves, and stay as they are."""
        out: list[str] = []
        where, last = "start", 0
        for match in _TEMPLATE.finditer(text):
            literal = text[last : match.start()] + (match[0][0] if match[0] in ("{{", "}}") else "")
            out.append(literal)
            if literal:
                where = _url_part(where, literal)
            last = match.end()
            if match[0] in ("{{", "}}"):
                continue
            value = self.get(match[1])
            out.append({"start": value, "path": quote(value, safe=""), "query": quote_plus(value)}.get(
                where, quote(value, safe="")
            ))  # fmt: skip
        out.append(text[last:])
        return "".join(out)

    def render_any(self, value: Any) -> Any:
        """A JSON body's values rendered; a string that is just "{name}" of a captured number stays a number."""
        if isinstance(value, str):
            whole = _TEMPLATE.fullmatch(value)
            if whole is not None and whole[1] in self.typed:
                return self.typed[whole[1]]
            return self.render(value)
        if isinstance(value, list):
            return [self.render_any(v) for v in value]
        if isinstance(value, dict):
            return {k: self.render_any(v) for k, v in value.items()}
        return value

    def capture(self, name: str, source: str, value: object) -> None:
        """Keep a captured value; it is a secret unless it plainly is not (an id, a path, a subject)."""
        text = str(value).lower() if isinstance(value, bool) else str(value)
        self.captured[name] = text
        if isinstance(value, int | float | bool):
            self.typed[name] = value
        else:
            self.typed.pop(name, None)
        if not source.startswith(_PLAIN_SOURCES) or _SECRET_WORDS.search(f"{name} {source}"):
            self.secrets.add(text)


def _url_part(where: str, literal: str) -> str:
    """Where in a URL the text after `literal` stands: the path, the query (after `?`) or the fragment."""
    if where in ("start", "path"):
        where = "path"
        if "?" in literal:
            where, literal = "query", literal.split("?", 1)[1]
    if where == "query" and "#" in literal:
        where = "fragment"
    return where


def _json_path(data: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            raise KeyError(path)
    if isinstance(data, dict | list) or data is None:
        raise KeyError(path)
    return data


def captured(source: str, response: httpx.Response) -> object:
    """The value a capture source names in an answer (header:, cookie:, json:, body:)."""
    kind, _, name = source.partition(":")
    if kind == "header" and name in response.headers:
        return response.headers[name]
    if kind == "cookie" and name in response.cookies:
        return response.cookies[name]
    if kind == "json":
        try:
            return _json_path(response.json(), name)
        except ValueError:
            raise KeyError(source) from None
    if kind == "body":  # e.g. a CSRF token in a server-rendered form: body:name="csrf" value="([^"]+)"
        found = re.search(name, response.text)
        if found is not None:
            return found.group(1) if found.groups() else found.group(0)
    raise KeyError(source)


def _capture_mail(source: str, mail: Mail) -> object:
    kind, _, part = source.partition(":")
    if kind == "subject":
        return mail.subject
    if kind == "link":
        link = first_link(mail.links, part or None)
        if link is not None:
            return link
    raise KeyError(source)


def _shown(path: str) -> str:
    """A path as messages show it: without its query, which may carry a token."""
    return path.split("?", 1)[0]


def _site(host: str) -> str:
    host = host.lower().rstrip(".")
    return host if is_address(host) else organizational_domain(host)


def same_site(url: str, target: str) -> bool:
    """Whether `url` is on the target's site: the same registrable domain (public suffix list; so
    `www.`, the apex and `api.` of one domain are one site) or, for an IP address, the same address. Scheme
    and port do not count: cookies are scoped to host names, not ports (RFC 6265 section 8.5), so what
    127.0.0.1:8001 sets goes to 127.0.0.1:8000 too."""
    host, home = urlsplit(url).hostname, urlsplit(target).hostname
    return bool(host and home) and _site(host or "") == _site(home or "")


@dataclass
class FlowRun:
    name: str
    flow: Flow
    ctx: Context
    values: Values
    http: httpx.AsyncClient
    mailbox: Mailbox | None
    seen: set[str] = field(default_factory=set)
    log: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)  # cookie problems, each with the step that met it

    def judge_cookies(self, label: str, what: str, response: httpx.Response) -> None:
        """Keep what each Set-Cookie of this answer lacks (its name only, never its value); the flow goes on.
        Only answers from the target's site are judged (`same_site`): a payment provider's cookies are its own.
        """
        if not same_site(str(response.url), self.settings.target or ""):
            return
        for problem in response_cookie_problems(response.headers.get_list("set-cookie"), str(response.url)):
            if not any(known.endswith(f": {problem}") for known in self.cookies):
                self.cookies.append(f"{label}: {what}: {problem}")

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return (self.settings.target or "").rstrip("/") + path

    async def step(self, step: FlowStep, cleanup: bool = False) -> None:
        started = time.perf_counter()
        entry: dict[str, object] = {"step": step.label}
        self.log.append(entry)
        try:
            if step.email is not None:
                await self.email(step, entry, cleanup)
            else:
                await self.request(step, entry, cleanup)
        finally:
            entry["ms"] = round((time.perf_counter() - started) * 1000, 1)

    async def request(self, step: FlowStep, entry: dict[str, object], cleanup: bool) -> None:
        assert step.path is not None
        path = self.values.render_url(step.path)
        headers = {k: self.values.render(v) for k, v in step.headers.items()}
        body: dict[str, Any] = {}
        if step.json_body is not None:
            body["json"] = self.values.render_any(step.json_body)
        if step.form is not None:
            body["data"] = {k: self.values.render(v) for k, v in step.form.items()}
        what = f"{step.method} {_shown(path)}"
        # Logged in: an Authorization header, or a session-like cookie going along (static assets aside).
        authenticated = not step.public and (
            "authorization" in {k.lower() for k in headers}
            or (
                any(SESSIONISH.search(name) for name in self.http.cookies)
                and not _STATIC.search(_shown(path))
            )
        )
        unsendable = sorted(k for k, v in headers.items() if not (k + v).isascii())
        if unsendable:  # a captured value or {env.X} with a character no HTTP header can carry
            raise StepFailed(
                Outcome.ERROR,
                f"{what}: header {', '.join(unsendable)} is not ASCII once its templates are filled in, and "
                "HTTP headers carry ASCII only; check the values it uses",
            )
        try:
            response = await self.http.request(step.method, self.url(path), headers=headers, **body)
        except httpx.HTTPError as exc:
            raise StepFailed(Outcome.ERROR, f"{what} got no answer ({type(exc).__name__}: {exc})") from None
        entry["status"] = response.status_code
        self.ctx.secrets.update(answer_secrets(response))  # tokens the app hands out never reach a report
        # Every step so far logged one entry, so the count is this step's number.
        label = f"cleanup {step.label!r}" if cleanup else f"step {len(self.log)} ({step.label})"
        self.judge_cookies(label, what, response)
        expected = step.expect or list(range(200, 300))
        if response.status_code not in expected:
            want = ", ".join(map(str, step.expect)) if step.expect else "2xx"
            # Redact, then cut: what the cut leaves must hold no piece of a secret (the runner's net is second).
            whole = " ".join(response.text[: SNIPPET * 8].split())
            snippet = Redactor(self.ctx.secrets).text(whole)[:SNIPPET]
            raise StepFailed(
                Outcome.FAIL,
                f"{what} answered {response.status_code} (expected {want})"
                + (f": {snippet}" if snippet else ""),
            )
        cache = shared_cache_problem(response.headers.get("cache-control"))
        if authenticated and cache is not None:
            raise StepFailed(
                Outcome.FAIL,
                f"{what} is a logged-in response that is {cache}: a CDN may show one user's data to another; "
                "send Cache-Control: private, no-store",
            )
        self.captures(step, partial(captured, response=response), f"{what} answered without", cleanup)

    async def email(self, step: FlowStep, entry: dict[str, object], cleanup: bool) -> None:
        assert step.email is not None
        if self.mailbox is None:
            raise StepFailed(Outcome.ERROR, "no mailbox")
        to = self.values.render(step.email.to)
        within = step.email.within or self.settings.smoke.email_within
        about = f" with subject containing {step.email.subject!r}" if step.email.subject else ""
        started = time.perf_counter()
        mail = await self.mailbox.wait(to, step.email.subject, within, self.seen)
        if mail is None:
            raise StepFailed(Outcome.FAIL, f"no email to {to}{about} arrived within {within:g} s")
        entry["arrived_s"] = round(time.perf_counter() - started, 2)
        target = urlsplit(self.settings.target or "").hostname or ""
        proof = await prove(
            mail,
            dns_resolver(self.settings),
            mail_domain(self.settings),
            target,
            tuple(self.settings.smoke.link_hosts),
        )
        self.notes += [f"email {mail.subject!r}: {n}" for n in proof.notes]
        if proof.fails:
            raise StepFailed(Outcome.FAIL, f"the email {mail.subject!r} to {to}: " + "; ".join(proof.fails))
        if proof.errors:
            raise StepFailed(Outcome.ERROR, f"the email {mail.subject!r} to {to}: " + "; ".join(proof.errors))
        self.captures(step, partial(_capture_mail, mail=mail), f"the email {mail.subject!r} has no", cleanup)

    def captures(self, step: FlowStep, get: Callable[[str], object], lacking: str, cleanup: bool) -> None:
        """Keep each captured value; one that is not there fails the step (in cleanup it is just left out)."""
        for name, source in step.capture.items():
            try:
                self.values.capture(name, source, get(source))
            except KeyError:
                if not cleanup:
                    raise StepFailed(Outcome.FAIL, f"{lacking} {source} (to capture {name})") from None

    async def cleanup(self) -> list[str]:
        """Every cleanup step, whatever happened before; what went wrong, as sentences."""
        problems = []
        for step in self.flow.cleanup:
            try:
                await self.step(step, cleanup=True)
            except Missing as missing:
                problems.append(f"cleanup {step.label!r} not run: {{{missing.args[0]}}} was never captured")
            except StepFailed as failed:
                problems.append(f"cleanup {step.label!r}: {failed.text}")
            except (CouldNotVerify, ConfigError) as exc:
                problems.append(f"cleanup {step.label!r}: {exc}")
        return problems


def production_guard(settings: Settings) -> str | None:
    if settings.is_production and not settings.smoke.allow_production:
        return (
            f"not run: environment is {settings.environment!r} and flows create data; run them against "
            "staging, or set [smoke] allow-production = true"
        )
    return None


def _needs_mailbox(flow: Flow) -> bool:
    return any(s.email is not None for s in (*flow.steps, *flow.cleanup))


async def run_flow(name: str, ctx: Context) -> Verdict:
    settings = ctx.settings
    flow = settings.smoke.flows[name]
    guard = production_guard(settings)
    if guard is not None:
        return Verdict.of(Outcome.SKIP, guard)
    try:
        identity: Identity | None = new_identity(settings.smoke)
    except ConfigError:
        identity = None  # only an error if a step uses {user.*}
    if identity is not None:
        ctx.secrets.add(identity.password)
        ctx.public.add(identity.email)  # reports name the user; a confirmation link holding it stays secret
    values = Values(identity, ctx.environ, ctx.secrets)
    options = http_options(settings)
    factory = MailboxFactory(
        settings.smoke.mailbox, ctx.environ, options.ca_bundle, options.timeout, ctx.secrets
    )
    try:
        mailbox = factory() if _needs_mailbox(flow) else None
    except MailboxError as exc:
        return Verdict.of(Outcome.ERROR, f"could not verify: {exc}")
    async with http_client(settings) as http:
        if mailbox is None:
            return await _run(name, flow, FlowRun(name, flow, ctx, values, http, None), identity)
        async with mailbox:
            return await _run(name, flow, FlowRun(name, flow, ctx, values, http, mailbox), identity)


async def _run(name: str, flow: Flow, run: FlowRun, identity: Identity | None) -> Verdict:
    failure: tuple[Outcome, str] | None = None
    done = 0
    problems: list[str] = []
    try:
        for number, step in enumerate(flow.steps, 1):
            try:
                await run.step(step)
            except StepFailed as failed:
                failure = failed.outcome, f"step {number} ({step.label}): {failed.text}"
            except Missing as missing:
                failure = (
                    Outcome.ERROR,
                    (
                        f"step {number} ({step.label}) uses {{{missing.args[0]}}}, which no earlier step captured "
                        "(capture it, or fix the name)"
                    ),
                )
            except (CouldNotVerify, ConfigError) as exc:
                failure = Outcome.ERROR, f"step {number} ({step.label}): {exc}"
            if failure is not None:
                break
            done = number
    finally:  # also when the check's timeout cancels the flow: the cleanup still runs to its end
        problems = await run.cleanup()
    who = f" as {identity.email}" if identity is not None else ""
    user = f" (flow user {identity.email})" if identity is not None else ""
    metrics: dict[str, object] = {"steps": run.log}
    findings = [Finding(p) for p in (*run.cookies, *problems, *run.notes)]
    if run.cookies:  # an answer that set a weak cookie is a failure, whatever a later step got
        later = f"; then {failure[1]}" if failure is not None else ""
        return Verdict.of(
            Outcome.FAIL,
            f"{run.cookies[0]}: a stolen or cross-site-sent cookie is a stolen session{later}{user}",
            findings,
            metrics,
        )
    if failure is not None:
        outcome, text = failure
        prefix = "could not verify " if outcome is Outcome.ERROR else ""
        return Verdict.of(outcome, f"{prefix}{text}{user}", findings, metrics)
    if problems:
        return Verdict.of(
            Outcome.FAIL,
            f"all {count(done, 'step')} passed{who}, but cleanup did not: {problems[0]} (data may be left behind)",
            findings,
            metrics,
        )
    total = sum(float(str(e.get("ms", 0))) for e in run.log)
    cleaned = f", cleaned up in {count(len(flow.cleanup), 'step')}" if flow.cleanup else ""
    return Verdict.of(
        Outcome.PASS, f"{count(done, 'step')} passed{who} in {total:.0f} ms{cleaned}", findings, metrics
    )


# --- sessions: a flow's user held open for other requests (the security checks' users A and B) ---


T = TypeVar("T")


@dataclass
class Session:
    """A flow's throwaway user after its steps: the values it captured and its HTTP client (with the cookies
    the app set), for requests of another check; `problems` is what its cleanup could not do."""

    run: FlowRun
    identity: Identity | None
    problems: list[str] = field(default_factory=list)

    @property
    def values(self) -> Values:
        return self.run.values

    @property
    def http(self) -> httpx.AsyncClient:
        return self.run.http


async def to_the_end(work: Coroutine[Any, Any, T]) -> T:
    """`work`'s result, even if the task awaiting it is cancelled meanwhile (a check's timeout in the middle
    of a cleanup): it runs to its end, and then the cancellation goes on."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                raise
            cancelled = True
            continue
        if cancelled:
            raise asyncio.CancelledError
        return result


def new_session_identity(ctx: Context) -> Identity | None:
    """A throwaway user for a session, known to the run's redaction (its password) and reports (its email)."""
    try:
        identity = new_identity(ctx.settings.smoke)
    except ConfigError:
        return None  # only an error if a step uses {user.*}
    ctx.secrets.add(identity.password)
    ctx.public.add(identity.email)
    return identity


@asynccontextmanager
async def flow_session(
    name: str, ctx: Context, steps: int | None = None, *, problems: list[str] | None = None, who: str = ""
) -> AsyncIterator[Session]:
    """Flow `name`'s steps (the first `steps` of them) as a new throwaway user, then the caller's requests,
    then the flow's cleanup, which runs however the block ends (a failure, the check's timeout) and adds what
    it could not do to `problems`. A step that goes wrong raises StepFailed naming `who` (e.g. "user B"), the
    flow and the step. The caller applies the production guard."""
    prefix = f"{who}: " if who else ""
    flow = ctx.settings.smoke.flows[name]
    chosen = flow.steps if steps is None else flow.steps[:steps]
    identity = new_session_identity(ctx)
    options = http_options(ctx.settings)
    needs_mail = any(s.email is not None and s.capture for s in (*chosen, *flow.cleanup))
    try:
        mailbox = (
            MailboxFactory(
                ctx.settings.smoke.mailbox, ctx.environ, options.ca_bundle, options.timeout, ctx.secrets
            )()
            if needs_mail
            else None
        )
    except MailboxError as exc:
        raise StepFailed(Outcome.ERROR, f"{prefix}flow {name!r}: {exc}") from None
    async with http_client(ctx.settings) as http, AsyncExitStack() as stack:
        if mailbox is not None:
            await stack.enter_async_context(mailbox)
        session = Session(
            FlowRun(name, flow, ctx, Values(identity, ctx.environ, ctx.secrets), http, mailbox), identity
        )
        try:
            await _session_steps(session.run, chosen, prefix)
            yield session
        finally:  # also when the check's timeout cancels it: the cleanup still runs to its end
            session.problems = [prefix + problem for problem in await to_the_end(session.run.cleanup())]
            if problems is not None:
                problems += session.problems


async def _session_steps(run: FlowRun, steps: list[FlowStep], prefix: str) -> None:
    """The steps, as a flow takes them, but for email: proving mail is the smoke flow's job, so a session
    skips an email step that captures nothing, and only waits for one whose values a later step needs."""
    for number, step in enumerate(steps, 1):
        where = f"{prefix}flow {run.name!r} step {number} ({step.label})"
        try:
            if step.email is not None:
                await _session_mail(run, step)
            else:
                await run.step(step)
        except StepFailed as failed:
            raise StepFailed(failed.outcome, f"{where}: {failed.text}") from None
        except Missing as missing:
            raise StepFailed(
                Outcome.ERROR, f"{where} uses {{{missing.args[0]}}}, which no earlier step captured"
            ) from None
        except (CouldNotVerify, ConfigError) as exc:
            raise StepFailed(Outcome.ERROR, f"{where}: {exc}") from None


async def _session_mail(run: FlowRun, step: FlowStep) -> None:
    assert step.email is not None
    if not step.capture:
        return
    if run.mailbox is None:
        raise StepFailed(Outcome.ERROR, "no mailbox")
    to = run.values.render(step.email.to)
    within = step.email.within or run.settings.smoke.email_within
    mail = await run.mailbox.wait(to, step.email.subject, within, run.seen)
    if mail is None:
        raise StepFailed(Outcome.FAIL, f"no email to {to} arrived within {within:g} s")
    run.captures(step, partial(_capture_mail, mail=mail), f"the email {mail.subject!r} has no", False)
