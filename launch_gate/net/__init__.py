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
    from launch_gate.net.http import HttpOptions


def http_options(settings: Settings) -> HttpOptions:
    from launch_gate.net.http import ConnectTo, HttpOptions

    net = settings.net
    bundle = settings.root / net.ca_bundle if net.ca_bundle else None
    return HttpOptions(tuple(ConnectTo.parse(c) for c in net.connect_to), bundle, net.probe_timeout)


def http_client(settings: Settings) -> httpx.AsyncClient:
    """The async client post-deploy checks share: connect-to, CA bundle, per-request timeout, no redirects."""
    from launch_gate.net.http import async_client

    return async_client(http_options(settings))


def dns_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    from launch_gate.net.dns import resolver

    return resolver(settings.net.nameservers, settings.net.probe_timeout)
