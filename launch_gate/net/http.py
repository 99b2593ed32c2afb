"""HTTP clients that honour connect-to overrides and a CA bundle, with the right SNI and Host.

A connect-to override (`www.example.com:443:127.0.0.1:8443`, as curl's --connect-to) changes only where the
TCP connection goes: the URL, the Host header, TLS SNI and certificate verification all keep the real name.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpcore
import httpx

from launch_gate.errors import ConfigError


@dataclass(frozen=True)
class ConnectTo:
    """HOST:PORT:TO_HOST:TO_PORT; an empty HOST or PORT matches any."""

    host: str
    port: int | None
    to_host: str
    to_port: int

    @classmethod
    def parse(cls, text: str) -> ConnectTo:
        parts = text.rsplit(":", 3) if not text.startswith("[") else []
        if len(parts) != 4 or not parts[2] or not parts[3].isdigit() or (parts[1] and not parts[1].isdigit()):
            raise ConfigError(
                f"connect-to entry {text!r} must be HOST:PORT:TO_HOST:TO_PORT, e.g. www.example.com:443:127.0.0.1:8443"
            )
        return cls(parts[0], int(parts[1]) if parts[1] else None, parts[2], int(parts[3]))

    def matches(self, host: str, port: int) -> bool:
        return (not self.host or self.host.lower() == host.lower()) and (
            self.port is None or self.port == port
        )


def _route(overrides: Iterable[ConnectTo], host: str, port: int) -> tuple[str, int]:
    return next(((o.to_host, o.to_port) for o in overrides if o.matches(host, port)), (host, port))


class _SyncBackend(httpcore.NetworkBackend):
    def __init__(self, overrides: tuple[ConnectTo, ...]) -> None:
        self._inner = httpcore.SyncBackend()
        self._overrides = overrides

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        to_host, to_port = _route(self._overrides, host, port)
        return self._inner.connect_tcp(to_host, to_port, *args, **kwargs)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, overrides: tuple[ConnectTo, ...]) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._overrides = overrides

    async def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        to_host, to_port = _route(self._overrides, host, port)
        return await self._inner.connect_tcp(to_host, to_port, *args, **kwargs)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """The system's trust store, plus the given CA certificates."""
    context = ssl.create_default_context()
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"ca-bundle {ca_bundle} cannot be loaded ({exc}); point it at a PEM file."
            ) from None
    return context


@dataclass(frozen=True)
class HttpOptions:
    connect_to: tuple[ConnectTo, ...] = ()
    ca_bundle: Path | None = None
    timeout: float = 10.0
    headers: Mapping[str, str] | None = None


def _pool_kwargs(options: HttpOptions) -> dict[str, Any]:
    return {"ssl_context": ssl_context(options.ca_bundle), "http1": True, "http2": False}


class _Transport(httpx.HTTPTransport):
    def __init__(self, options: HttpOptions) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend; its pool (httpcore's) does. Replace the pool it built.
        self._pool = httpcore.ConnectionPool(
            network_backend=_SyncBackend(options.connect_to), **_pool_kwargs(options)
        )


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, options: HttpOptions) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            network_backend=_AsyncBackend(options.connect_to), **_pool_kwargs(options)
        )


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
