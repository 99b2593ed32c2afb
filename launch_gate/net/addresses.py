"""Where the gate connects: ports, curl-style connect-to overrides and nameserver addresses, parsed.

Pure functions of their text (no sockets, no settings), so the configuration's models can validate with them.
Every error is a ConfigError that describes the expected shape and never echoes the entry.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from launch_gate.errors import ConfigError


def port_number(raw: str, shape: str) -> int:
    """A TCP/UDP port written in ASCII digits, 1-65535; else a ConfigError saying `shape` (never `raw`)."""
    if not re.fullmatch(r"[0-9]{1,5}", raw) or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{shape}; a port is a number from 1 to 65535")
    return int(raw)


CONNECT_TO_SHAPE = (
    "a connect-to entry must be HOST:PORT:TO_HOST:TO_PORT, e.g. www.example.com:443:127.0.0.1:8443 "
    "(an empty TO_HOST keeps the name: www.example.com:443::8443)"
)


@dataclass(frozen=True)
class ConnectTo:
    """HOST:PORT:TO_HOST:TO_PORT; an empty HOST or PORT matches any, an empty TO_HOST or TO_PORT keeps it."""

    host: str
    port: int | None
    to_host: str
    to_port: int | None

    @classmethod
    def parse(cls, text: str) -> ConnectTo:
        """Parse one entry; a malformed one is a ConfigError that describes the shape, never the entry."""
        parts = text.rsplit(":", 3) if not text.startswith("[") else []
        if (
            len(parts) != 4
            or not (parts[2] or parts[3])
            or any(not c.isprintable() or c.isspace() for c in text)
        ):
            raise ConfigError(CONNECT_TO_SHAPE)
        port, to_port = (port_number(p, CONNECT_TO_SHAPE) if p else None for p in (parts[1], parts[3]))
        return cls(parts[0], port, parts[2], to_port)

    def matches(self, host: str, port: int) -> bool:
        return (not self.host or self.host.lower() == host.lower()) and (
            self.port is None or self.port == port
        )


def route(overrides: Iterable[ConnectTo], host: str, port: int) -> tuple[str, int]:
    """Where a connection to host:port goes after the first matching connect-to override."""
    for o in overrides:
        if o.matches(host, port):
            return o.to_host or host, o.to_port or port
    return host, port


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


NAMESERVER_SHAPE = "an IP address with an optional port 1-65535, e.g. 1.1.1.1, 127.0.0.1:5353 or [::1]:5353"


def parse_nameserver(text: str) -> tuple[str, int]:
    """`1.1.1.1`, `127.0.0.1:5353` or `[::1]:5353`; anything else is a ConfigError (which never echoes it)."""
    raw: str | None = None
    if text.startswith("["):
        host, close, rest = text[1:].partition("]")
        if not close or (rest and not rest.startswith(":")):
            raise ConfigError(f"a nameserver must be {NAMESERVER_SHAPE}")
        raw = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, _, raw = text.partition(":")
    else:
        host = text
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(
            f"a nameserver must be {NAMESERVER_SHAPE} (an address: the resolver does not look names up)"
        ) from None
    return host, 53 if raw is None else port_number(raw, f"a nameserver must be {NAMESERVER_SHAPE}")
