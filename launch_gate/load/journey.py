"""One session of a journey, as a load run's simulated user takes it: the smoke-flow step format and
templating (`launch_gate.flows.runner.Values`), sent with the gate's own HTTP client settings (connect-to, CA
bundle, nameservers), each request reported as it ends. Synchronous on purpose: inside the Locust child the
sockets are gevent's, so many sessions run at once on one thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from launch_gate.config.schema import FlowStep, SmokeTable
from launch_gate.errors import ConfigError
from launch_gate.flows.identity import new_identity
from launch_gate.flows.runner import Missing, Values, captured
from launch_gate.net.addresses import ConnectTo
from launch_gate.net.http import HttpOptions, client


@dataclass(frozen=True)
class Sent:
    """One request as the stats see it: `name` is `<journey>/<step>`; `error` is None when it met `expect`."""

    name: str
    method: str
    ms: float
    size: int
    error: str | None = None
    answered: bool = True


Report = Callable[[Sent], None]


def http_options(net: Mapping[str, Any], headers: Mapping[str, str]) -> HttpOptions:
    """The spec's `net` as the gate's HTTP options."""
    bundle = net.get("ca_bundle")
    from pathlib import Path

    return HttpOptions(
        tuple(ConnectTo.parse(c) for c in net.get("connect_to", ())),
        Path(bundle) if bundle else None,
        float(net.get("timeout", 10.0)),
        headers=dict(headers),
        nameservers=tuple(net.get("nameservers", ())),
    )


@dataclass
class Journey:
    """A journey's steps and cleanup, parsed once per process from the spec."""

    name: str
    steps: list[FlowStep]
    cleanup: list[FlowStep]
    target: str
    smoke: SmokeTable = field(default_factory=SmokeTable)

    @classmethod
    def from_spec(cls, data: Mapping[str, Any], target: str, identity: Mapping[str, Any]) -> Journey:
        return cls(
            str(data["name"]),
            [FlowStep.model_validate(s) for s in data["steps"]],
            [FlowStep.model_validate(s) for s in data["cleanup"]],
            target,
            SmokeTable.model_validate({k: v for k, v in identity.items() if v}),
        )

    def values(self, environ: Mapping[str, str]) -> Values:
        try:
            identity = new_identity(self.smoke)
        except ConfigError:
            identity = None  # only a problem if a step uses {user.*}: the spec refused that already
        return Values(identity, environ, set())

    def run(
        self,
        http: httpx.Client,
        environ: Mapping[str, str],
        report: Report,
        think: Callable[[], None],
        allowed: Callable[[], bool],
    ) -> None:
        """The steps until one goes wrong (later ones need its answer), with `think` between them, then every
        cleanup step; `allowed` says whether the run (stopping, its request cap) leaves room for one more step."""
        values = self.values(environ)
        try:
            for number, step in enumerate(self.steps):
                if number:
                    think()
                if not allowed() or not self._send(http, values, step, f"{self.name}/{step.label}", report):
                    break
        finally:  # always, cap or not: a handful of requests per session, and no data left behind
            for step in self.cleanup:
                self._send(http, values, step, f"{self.name}/cleanup {step.label}", report, cleanup=True)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.target.rstrip("/") + path

    def _send(
        self,
        http: httpx.Client,
        values: Values,
        step: FlowStep,
        name: str,
        report: Report,
        cleanup: bool = False,
    ) -> bool:
        assert step.path is not None
        try:
            path = values.render_url(step.path)
            headers = {k: values.render(v) for k, v in step.headers.items()}
            body: dict[str, Any] = {}
            if step.json_body is not None:
                body["json"] = values.render_any(step.json_body)
            if step.form is not None:
                body["data"] = {k: values.render(v) for k, v in step.form.items()}
        except Missing as missing:
            if not cleanup:
                report(
                    Sent(
                        name,
                        step.method,
                        0.0,
                        0,
                        f"uses {{{missing.args[0]}}}, which no step captured",
                        False,
                    )
                )
            return False
        started = time.perf_counter()
        try:
            response = http.request(step.method, self.url(path), headers=headers, **body)
        except httpx.HTTPError as exc:
            ms = (time.perf_counter() - started) * 1000
            report(Sent(name, step.method, ms, 0, f"no answer ({type(exc).__name__})", answered=False))
            return False
        sent = Sent(name, step.method, (time.perf_counter() - started) * 1000, len(response.content))
        expected = step.expect or list(range(200, 300))
        if response.status_code not in expected:
            want = ", ".join(map(str, step.expect)) if step.expect else "2xx"
            report(replace(sent, error=f"answered {response.status_code} (expected {want})"))
            return False
        for capture, source in step.capture.items():
            try:
                values.capture(capture, source, captured(source, response))
            except KeyError:
                if not cleanup:
                    report(replace(sent, error=f"answered without {source} (to capture {capture})"))
                    return False
        report(sent)
        return True


def session_client(options: HttpOptions) -> httpx.Client:
    """A new client: a new connection pool, so a session's first request opens a new connection."""
    return client(options)
