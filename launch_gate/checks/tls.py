"""TLS checks: each host serves a certificate that is valid for it, from a trusted chain, and not about to expire.

Hosts are reached as a browser would (through `[net] connect-to` or the configured nameservers), with SNI.
A host that cannot be reached is an error (could not verify), never a pass.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography import x509

from launch_gate.checks import Context, check
from launch_gate.errors import CouldNotVerify
from launch_gate.net import destinations, http_options
from launch_gate.net.dns import Status
from launch_gate.net.http import ssl_context
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.domains import target_host, twin


@dataclass(frozen=True)
class TlsProbe:
    host: str
    verified: bool
    problem: str | None  # why verification failed
    not_before: datetime | None
    not_after: datetime | None


async def _address(ctx: Context, host: str, port: int) -> tuple[str, int]:
    answer, to_port = await destinations(ctx.settings, host, port)
    if answer.status is not Status.FOUND:
        raise CouldNotVerify(answer.detail or f"{host} does not resolve")
    return answer.records[0], to_port


async def _handshake(address: tuple[str, int], host: str, context: ssl.SSLContext, timeout: float) -> bytes:
    """The server's certificate (DER) after a handshake with SNI `host`."""
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(address[0], address[1], ssl=context, server_hostname=host), timeout
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        if not der:
            raise CouldNotVerify(f"{host} sent no certificate")
        return bytes(der)
    finally:
        writer.close()


async def _probe(ctx: Context, host: str, port: int) -> TlsProbe:
    timeout = ctx.settings.net.probe_timeout
    address = await _address(ctx, host, port)
    lenient = ssl.create_default_context()
    lenient.check_hostname = False
    lenient.verify_mode = ssl.CERT_NONE  # to read dates even from a certificate that fails verification
    try:
        der = await _handshake(address, host, lenient, timeout)
        certificate = x509.load_der_x509_certificate(der)
        dates = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        try:
            await _handshake(address, host, ssl_context(http_options(ctx.settings).ca_bundle), timeout)
        except ssl.SSLCertVerificationError as exc:
            return TlsProbe(host, False, exc.verify_message or str(exc), *dates)
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise CouldNotVerify(f"no TLS connection to {host}:{port} ({type(exc).__name__}: {exc})") from None
    return TlsProbe(host, True, None, *dates)


async def probe(ctx: Context, host: str, port: int) -> TlsProbe:
    """One probe per host and run, shared by the TLS checks."""
    result: TlsProbe = await ctx.shared(("tls", host, port), lambda: _probe(ctx, host, port))
    return result


def hosts(ctx: Context) -> tuple[list[str], int]:
    host = target_host(ctx.settings)
    if host is None:
        return [], 443
    port = urlsplit(ctx.settings.target or "").port or 443
    extra = [h.lower().rstrip(".") for h in ctx.settings.tls.hosts]
    return list(dict.fromkeys([host, twin(host), *extra])), port


async def _all(ctx: Context) -> tuple[list[TlsProbe], list[Finding]]:
    names, port = hosts(ctx)
    results = await asyncio.gather(*(probe(ctx, h, port) for h in names), return_exceptions=True)
    probes, errors = [], []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, TlsProbe):
            probes.append(result)
        elif isinstance(result, CouldNotVerify):
            errors.append(Finding(f"{name}: {result}"))
        else:
            raise result
    return probes, errors


@check(
    "tls.certificate",
    Phase.POST,
    "each host's certificate is valid for it and chains to a trusted CA",
    needs_target="to check certificates",
    https=True,
    fails_when=(
        "a host's certificate is not valid for its name or does not chain to a trusted CA (checked with "
        "SNI, as a browser does)"
    ),
)
async def check_certificate(ctx: Context) -> Verdict:
    probes, errors = await _all(ctx)
    bad = [Finding(f"{p.host}: {p.problem}") for p in probes if not p.verified]
    if bad:
        return Verdict.of(
            Outcome.FAIL,
            f"browsers will refuse {bad[0].message}. Serve a certificate for the name from a public CA.",
            [*bad, *errors],
        )
    if errors:
        return Verdict.of(Outcome.ERROR, f"could not verify {errors[0].message}", errors)
    return Verdict.of(Outcome.PASS, f"valid, trusted certificates for {', '.join(p.host for p in probes)}")


def thresholds(ctx: Context, probe_: TlsProbe) -> tuple[float, float]:
    """(fail, warn) days left: the configured ones, scaled down for short-lived certificates."""
    assert probe_.not_before is not None
    assert probe_.not_after is not None
    lifetime = (probe_.not_after - probe_.not_before).total_seconds() / 86400
    return min(ctx.settings.tls.fail_days, lifetime / 3), min(ctx.settings.tls.warn_days, lifetime / 2)


@check(
    "tls.expiry",
    Phase.POST,
    "certificates are not near expiry (warn < 30 days, fail < 7)",
    needs_target="to check certificates",
    https=True,
    fails_when=(
        "a certificate expires in under `fail-days` (7); warns under `warn-days` (30); both scaled down for "
        "short-lived certificates (a third and a half of their lifetime)"
    ),
)
async def check_expiry(ctx: Context) -> Verdict:
    probes, errors = await _all(ctx)
    now = datetime.now(UTC)
    failing: list[Finding] = []
    warning: list[Finding] = []
    fine: list[Finding] = []
    for p in probes:
        assert p.not_after is not None
        days = (p.not_after - now).total_seconds() / 86400
        fail, warn = thresholds(ctx, p)
        line = f"{p.host}: expires {p.not_after:%Y-%m-%d} ({days:.1f} days left)"
        (failing if days < fail else warning if days < warn else fine).append(Finding(line))
    if failing:
        return Verdict.of(
            Outcome.FAIL,
            f"certificate expiring or expired: {failing[0].message}. Renew it now.",
            [*failing, *warning],
        )
    if errors:
        return Verdict.of(Outcome.ERROR, f"could not verify {errors[0].message}", errors)
    if warning:
        return Verdict.of(Outcome.WARN, f"renew soon: {warning[0].message}", warning)
    return Verdict.of(Outcome.PASS, "; ".join(f.message for f in fine))
