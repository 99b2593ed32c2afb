"""uvicorn on loopback, plain or with TLS from a trustme CA, started and stopped in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import trustme
import uvicorn

Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


@contextmanager
def _uvicorn(app: App, host: str = "127.0.0.1", port: int = 0, **ssl: str) -> Iterator[int]:
    """uvicorn on a loopback socket bound first, so the port is known before it starts; yields the port."""
    sock = socket.socket()
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **ssl))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="demo-http")
    thread.start()
    for _ in range(400):  # bounded wait for start-up
        if server.started:
            break
        time.sleep(0.025)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def http_server(app: App, host: str = "127.0.0.1", port: int = 0) -> Iterator[int]:
    """uvicorn serving `app` over plain HTTP on loopback."""
    with _uvicorn(app, host, port) as bound:
        yield bound


@contextmanager
def tls_server(
    app: App,
    hostnames: list[str],
    tmp: Path,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    ca: trustme.CA | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[tuple[int, Path]]:
    """uvicorn serving `app` over TLS with a trustme certificate for `hostnames`; yields (port, CA file)."""
    ca = ca or trustme.CA()
    cert = ca.issue_cert(*hostnames, not_before=not_before, not_after=not_after)
    tmp.mkdir(parents=True, exist_ok=True)
    key_file, cert_file, ca_file = tmp / "server.key", tmp / "server.pem", tmp / "ca.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    ca.cert_pem.write_to_path(str(ca_file))
    with _uvicorn(app, host, port, ssl_keyfile=str(key_file), ssl_certfile=str(cert_file)) as bound:
        yield bound, ca_file
