"""`security.inputs` from settings to verdict: which requests may go, where, within what budget."""

from __future__ import annotations

import asyncio
import time
from functools import partial

import httpx

from launch_gate.apiprobe import document, malformed, openapi
from launch_gate.apiprobe.curl import reproduction
from launch_gate.apiprobe.malformed import Reproduce
from launch_gate.apiprobe.tally import SAFE_METHODS, Budget, Tally
from launch_gate.apiprobe.verdict import verdict
from launch_gate.config import Settings
from launch_gate.net import http_options
from launch_gate.net.http import client
from launch_gate.results import Outcome, Verdict

NOT_CONFIGURED = (
    'not configured: set [security.inputs] openapi = "/openapi.json" (or a file), or endpoints = '
    '["POST /api/signup", ...] to send malformed bodies'
)


def writes_allowed(settings: Settings) -> bool:
    """The production guard: against an environment named production, only reads, unless flows may run."""
    return not settings.is_production or settings.smoke.allow_production


def _document(settings: Settings, http: httpx.Client, reproduce: Reproduce, budget: Budget) -> Tally:
    """schemathesis's requests for the document's operations whose methods may be sent."""
    inputs, target = settings.security.inputs, settings.target or ""
    openapi.require()  # before any request: a missing extra is the first thing to say
    assert inputs.openapi is not None
    url = document.document_url(target, inputs.openapi)
    found = document.fetch(http, url) if url else document.read_file(settings.root, inputs.openapi)
    schema = openapi.load(found.text, found.where)
    base = document.base_url(target, inputs.base_url, schema.raw_schema)
    allowed = frozenset(m for m in inputs.methods if writes_allowed(settings) or m in SAFE_METHODS)
    tally = Tally(f"schemathesis, from {found.where}", note=_held(settings, set(inputs.methods) - allowed))
    budget.restart()  # the document's fetch is not probing time
    openapi.probe(schema, allowed, inputs.examples, openapi.Target(base, http, reproduce), budget, tally)
    return tally


def _endpoints(settings: Settings, http: httpx.Client, reproduce: Reproduce, budget: Budget) -> Tally:
    """The fixed malformed bodies for each declared endpoint that may be sent."""
    inputs = settings.security.inputs
    declared = [(m, p) for m, p in (e.split(" ", 1) for e in inputs.endpoints)]  # "POST /x": validated
    allowed = [(m, p) for m, p in declared if writes_allowed(settings) or m in SAFE_METHODS]
    held = {f"{m} {p}" for m, p in declared if (m, p) not in allowed}
    tally = Tally("fixed malformed bodies", note=_held(settings, held))
    malformed.probe(
        allowed, (inputs.base_url or settings.target or "").rstrip("/"), http, reproduce, budget, tally
    )
    return tally


def _held(settings: Settings, held: set[str]) -> str:
    if not held:
        return ""
    return f"({', '.join(sorted(held))} not sent: environment {settings.environment!r} is production)"


def _probe(settings: Settings) -> Tally:
    inputs = settings.security.inputs
    options = http_options(settings)
    reproduce = partial(reproduction, connect_to=tuple(settings.net.connect_to), ca_bundle=options.ca_bundle)
    budget = Budget.of(inputs.max_requests, inputs.max_time)
    start = time.monotonic()
    with client(options) as http:
        probe = _document if inputs.openapi is not None else _endpoints
        tally = probe(settings, http, reproduce, budget)
    tally.sent, tally.seconds = budget.sent, time.monotonic() - start
    return tally


async def probe_inputs(settings: Settings) -> Verdict:
    """Probe the API with bad input as configured, in a worker thread (schemathesis and hypothesis are
    synchronous); the run stops itself at `max-time`, whatever happens to the awaiting task."""
    inputs = settings.security.inputs
    if not inputs.configured:
        return Verdict.of(Outcome.SKIP, NOT_CONFIGURED)
    reads = [e for e in inputs.endpoints if e.split(" ", 1)[0] in SAFE_METHODS]
    if not writes_allowed(settings) and inputs.openapi is None and not reads:
        return Verdict.of(
            Outcome.SKIP,
            f"not run: environment is {settings.environment!r} and every endpoint writes; probe staging, "
            "or set [smoke] allow-production = true",
        )
    return verdict(await asyncio.to_thread(_probe, settings))
