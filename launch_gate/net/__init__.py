"""How the gate reaches a deployment as a user would: HTTP clients and DNS resolvers built from settings.

Public settings only (`[tool.launch-gate.net]`): nameservers to ask, curl-style connect-to overrides (test a
new deploy before DNS cut-over, or the bundled demo on loopback), and extra CA certificates to trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dns.asyncresolver
    import httpx

    from launch_gate.config import Settings
    from launch_gate.net.dns import Answer
    from launch_gate.net.http import HttpOptions


def http_options(settings: Settings) -> HttpOptions:
    from launch_gate.net.addresses import ConnectTo
    from launch_gate.net.http import HttpOptions

    net = settings.net
    bundle = settings.root / net.ca_bundle if net.ca_bundle else None
    return HttpOptions(
        tuple(ConnectTo.parse(c) for c in net.connect_to),
        bundle,
        net.probe_timeout,
        nameservers=tuple(net.nameservers),
    )


def http_client(settings: Settings, pins: tuple[tuple[str, int, str], ...] = ()) -> httpx.AsyncClient:
    """The async client post-deploy checks share: connect-to, CA bundle, per-request timeout, no redirects.
    `pins`: (host, port, address) connections that must go to one given address."""
    import dataclasses

    from launch_gate.net.http import async_client

    return async_client(dataclasses.replace(http_options(settings), pins=pins))


async def destinations(settings: Settings, host: str, port: int) -> tuple[Answer, int]:
    """Every address a visitor's connection to host:port may reach (after connect-to), and the port."""
    from launch_gate.net.addresses import is_address, route
    from launch_gate.net.dns import Answer, Status, addresses

    to_host, to_port = route(http_options(settings).connect_to, host, port)
    if is_address(to_host):
        return Answer(to_host, "A/AAAA", Status.FOUND, (to_host.strip("[]"),)), to_port
    return await addresses(dns_resolver(settings), to_host), to_port


def dns_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    from launch_gate.net.dns import resolver

    return resolver(settings.net.nameservers, settings.net.probe_timeout)
