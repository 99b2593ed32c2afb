"""Objects the plugin's fixtures hand to users' tests (imported only when a test asks for one)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

if TYPE_CHECKING:
    from launch_gate.config import Settings
    from launch_gate.flows.mailbox import Mail

T = TypeVar("T")


class GateEnv(Mapping[str, str]):
    """The environment the gate checks, read-only; `require` fails a test without ever showing a value."""

    def __init__(self, environ: Mapping[str, str], secrets: set[str] | None = None) -> None:
        self._environ = dict(environ)
        self._secrets = (
            secrets if secrets is not None else set()
        )  # the session's: reports are scrubbed of them

    def __getitem__(self, name: str) -> str:
        return self._environ[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)

    def __repr__(self) -> str:
        return f"GateEnv({len(self)} variables, values hidden)"

    def require(self, name: str) -> str:
        """The value of `name`; fails the test (naming the variable only) when it is unset or empty."""
        __tracebackhide__ = True
        value = self._environ.get(name, "")
        if not value.strip():
            pytest.fail(
                f"environment variable {name} is not set (or empty); set it for this deploy.", pytrace=False
            )
        self._secrets.add(value)
        return value


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"})


class GateHttp(httpx.Client):
    """An httpx client bound to the target (relative URLs), through the gate's connect-to, nameservers and CA
    bundle, redirects not followed. Records each request's time by route (`timings`); the auth headers,
    cookies and tokens it carries are kept out of every report; every Set-Cookie it receives is judged as
    `headers.cookies` judges them (`cookie_problems`)."""

    def __init__(self, settings: Settings, secrets: set[str]) -> None:
        from launch_gate.net import http_options
        from launch_gate.net.http import transport

        options = http_options(settings)
        super().__init__(
            transport=transport(options),
            base_url=settings.target or "",
            timeout=options.timeout,
            follow_redirects=False,
        )
        self.timings: dict[str, list[float]] = {}
        self.secrets = secrets  # the session's: every report is scrubbed of them
        self.cookie_problems: list[str] = []  # weak Set-Cookie headers seen: the test errors at teardown

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        for name, value in request.headers.items():
            if name.lower() in _SECRET_HEADERS:
                self.secrets.update((value, value.split(" ", 1)[-1]))
        started = time.perf_counter()
        try:
            response = super().send(request, **kwargs)
        finally:
            route = f"{request.method} {request.url.path}"
            self.timings.setdefault(route, []).append((time.perf_counter() - started) * 1000)
        from launch_gate.net.http import answer_secrets
        from launch_gate.rules.cookies import response_cookie_problems

        self.secrets.update(answer_secrets(response))
        for problem in response_cookie_problems(response.headers.get_list("set-cookie"), str(request.url)):
            line = f"{request.method} {request.url.path}: {problem}"
            if line not in self.cookie_problems:
                self.cookie_problems.append(line)
        return response

    def __repr__(self) -> str:
        return f"GateHttp(base_url={str(self.base_url)!r}, {sum(map(len, self.timings.values()))} requests)"


@dataclass
class GateUser:
    """A throwaway identity for one test; `cleanup(fn)` registers what removes it (run even when the test
    fails, last registered first)."""

    email: str
    password: str
    tag: str
    cleanups: list[Callable[[], object]] = field(default_factory=list, repr=False)

    def cleanup(self, func: Callable[[], object]) -> Callable[[], object]:
        """Register `func` to run after the test (usable as a decorator)."""
        self.cleanups.append(func)
        return func

    def __repr__(self) -> str:
        return f"GateUser(email={self.email!r}, password=[hidden])"

    def run_cleanups(self) -> list[str]:
        problems = []
        for func in reversed(self.cleanups):
            try:
                func()
            except Exception as exc:
                problems.append(f"{getattr(func, '__name__', 'cleanup')}: {type(exc).__name__}: {exc}")
        return problems


class GateMailbox:
    """The configured mailbox (`[smoke.mailbox]`) for users' tests: `wait` for a message, `prove` it."""

    def __init__(self, settings: Settings, environ: Mapping[str, str], secrets: set[str]) -> None:
        from launch_gate.flows.mailbox import MailboxFactory
        from launch_gate.net import http_options

        options = http_options(settings)
        self.settings = settings
        self.seen: set[str] = set()
        factory = MailboxFactory(settings.smoke.mailbox, environ, options.ca_bundle, options.timeout, secrets)
        self.box = factory()  # a settings problem raises here, before any thread exists
        self._loop = asyncio.new_event_loop()  # its own loop: usable from sync tests and from async ones
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="gate-mailbox")
        self._thread.start()
        try:
            self._run(self.box.__aenter__())
        except BaseException:
            self._stop_loop()
            raise

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        try:
            self._run(self.box.__aexit__(None, None, None))
        finally:
            self._stop_loop()

    def wait(self, to: str, subject: str | None = None, timeout: float | None = None) -> Mail:
        """The first new message to `to` whose subject contains `subject`; fails the test after `timeout`
        seconds (default `[smoke] email-within`)."""
        __tracebackhide__ = True
        within = timeout or self.settings.smoke.email_within
        mail = self._run(self.box.wait(to, subject, within, self.seen))
        if mail is None:
            about = f" with subject containing {subject!r}" if subject else ""
            pytest.fail(f"no email to {to}{about} arrived within {within:g} s", pytrace=False)
        return mail

    def problems(self, mail: Mail) -> list[str]:
        """What receivers would hold against this message: DKIM, alignment with the mail domain, links."""
        from launch_gate.flows.mailproof import prove
        from launch_gate.net import dns_resolver
        from launch_gate.rules.domains import mail_domain

        host = urlsplit(self.settings.target or "").hostname or ""
        domain = mail_domain(self.settings)
        links = tuple(self.settings.smoke.link_hosts)
        proof = self._run(prove(mail, dns_resolver(self.settings), domain, host, links))
        return [*proof.fails, *(f"could not verify: {e}" for e in proof.errors)]

    def prove(self, mail: Mail) -> None:
        """Fail the test unless the message is signed, aligned and links to the canonical host."""
        __tracebackhide__ = True
        problems = self.problems(mail)
        if problems:
            pytest.fail(f"the email {mail.subject!r}: " + "; ".join(problems), pytrace=False)
