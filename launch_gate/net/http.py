"""HTTP clients that honour connect-to overrides and a CA bundle, with the right SNI and Host.

A connect-to override (`www.example.com:443:127.0.0.1:8443`, as curl's --connect-to) changes only where the
TCP connection goes: the URL, the Host header, TLS SNI and certificate verification all keep the real name.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpcore
import httpx

from launch_gate.errors import ConfigError
from launch_gate.net.addresses import ConnectTo, is_address, parse_nameserver, route


@dataclass(frozen=True)
class HttpOptions:
    connect_to: tuple[ConnectTo, ...] = ()
    ca_bundle: Path | None = None
    timeout: float = 10.0
    headers: Mapping[str, str] | None = None
    nameservers: tuple[str, ...] = ()  # resolve names through these, as the DNS checks do (else the system's)
    pins: tuple[tuple[str, int, str], ...] = ()  # (host, port, address): connect there, whatever DNS says

    def destination(self, host: str, port: int) -> tuple[str, int]:
        to_host, to_port = route(self.connect_to, host, port)
        pinned = next((a for h, p, a in self.pins if h == host.lower() and p == port), None)
        return pinned or to_host, to_port


QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def _quick_ack(stream: httpcore.NetworkStream | httpcore.AsyncNetworkStream) -> None:
    """Ask Linux to acknowledge the response at once. Without it, delayed ACK against a server that writes
    headers and body separately (Nagle) adds ~40 ms to each request on a kept-alive connection."""
    sock = stream.get_extra_info("socket")
    if QUICKACK is not None and sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)


class _QuickAckStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)
        _quick_ack(self._inner)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:  # fmt: skip
        return _QuickAckStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncQuickAckStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)
        _quick_ack(self._inner)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:  # fmt: skip
        return _AsyncQuickAckStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _SyncBackend(httpcore.NetworkBackend):
    def __init__(self, options: HttpOptions) -> None:
        self._inner = httpcore.SyncBackend()
        self._options = options

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        to_host, to_port = self._options.destination(host, port)
        if self._options.nameservers and not is_address(to_host):
            to_host = first_address_sync(self._options, to_host)
        return _QuickAckStream(self._inner.connect_tcp(to_host, to_port, *args, **kwargs))


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, options: HttpOptions) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._options = options

    async def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        to_host, to_port = self._options.destination(host, port)
        if self._options.nameservers and not is_address(to_host):
            to_host = await first_address(self._options, to_host)
        return _AsyncQuickAckStream(await self._inner.connect_tcp(to_host, to_port, *args, **kwargs))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def first_address(options: HttpOptions, name: str) -> str:
    """The first address of `name` from the configured nameservers; a failed lookup is a connect error."""
    from launch_gate.net.dns import Status, addresses, resolver

    answer = await addresses(resolver(options.nameservers, options.timeout), name)
    if answer.status is not Status.FOUND:
        raise httpcore.ConnectError(answer.detail or f"{name} does not resolve")
    return answer.records[0]


def first_address_sync(options: HttpOptions, name: str) -> str:
    """As `first_address`, for the sync client (usable inside a running event loop, e.g. under pytest-asyncio)."""
    import dns.exception
    import dns.resolver

    parsed = [parse_nameserver(n) for n in options.nameservers]
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host for host, _ in parsed]
    resolver.port = parsed[0][1]
    resolver.lifetime = resolver.timeout = options.timeout
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(name, rdtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            break
        except dns.exception.DNSException as exc:
            raise httpcore.ConnectError(f"{rdtype} lookup of {name} failed: {type(exc).__name__}") from None
        if answer.rrset:
            return str(next(iter(answer.rrset)))
    raise httpcore.ConnectError(f"{name} has no A or AAAA record")


@functools.lru_cache(maxsize=8)
def ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """The system's trust store, plus the given CA certificates (built once: loading the store takes tens of
    milliseconds, which would stall every other probe on the event loop)."""
    context = ssl.create_default_context()
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"ca-bundle {ca_bundle} cannot be loaded ({exc}); point it at a PEM file."
            ) from None
    return context


def _pool_kwargs(options: HttpOptions) -> dict[str, Any]:
    return {"ssl_context": ssl_context(options.ca_bundle), "http1": True, "http2": False}


class _Transport(httpx.HTTPTransport):
    def __init__(self, options: HttpOptions) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend; its pool (httpcore's) does. Replace the pool it built.
        self._pool = httpcore.ConnectionPool(network_backend=_SyncBackend(options), **_pool_kwargs(options))


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, options: HttpOptions) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            network_backend=_AsyncBackend(options), **_pool_kwargs(options)
        )


def transport(options: HttpOptions) -> httpx.HTTPTransport:
    """A sync transport through connect-to, the nameservers and the CA bundle, for a client of one's own."""
    return _Transport(options)


def client(options: HttpOptions) -> httpx.Client:
    """A client that follows no redirects by itself: checks look at every hop."""
    return httpx.Client(
        transport=_Transport(options),
        timeout=options.timeout,
        follow_redirects=False,
        headers=options.headers,
    )


def async_client(options: HttpOptions) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=_AsyncTransport(options),
        timeout=options.timeout,
        follow_redirects=False,
        headers=options.headers,
    )


def answer_secrets(response: httpx.Response) -> set[str]:
    """What an answer hands out that must never reach a report: cookie values and token-like JSON fields."""
    from launch_gate.redact import secret_fields

    found = {v for v in response.cookies.values() if v}
    if "json" in response.headers.get("content-type", ""):
        with contextlib.suppress(ValueError, httpx.ResponseNotRead):  # not JSON, or a stream not read
            found |= {v for v in secret_fields(response.json()) if v}
    return found
