"""One request through the gate's HTTP client (connect-to, CA bundle, nameservers), read within bounds."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

KEPT = 256 * 1024  # bytes of an answer kept for judging
READ_AT_MOST = 4 * 1024 * 1024  # bytes read before the rest of an answer is dropped


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes  # the first KEPT bytes
    size: int  # bytes read (at most READ_AT_MOST)
    elapsed: float  # seconds


@dataclass(frozen=True)
class NoAnswer:
    reason: str  # "ReadTimeout", "ConnectError: ..."


def send(
    client: httpx.Client,
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]],
    body: bytes | None,
    keep: int = KEPT,
) -> Answer | NoAnswer:
    """Send the request and read its answer: at most READ_AT_MOST bytes (the first `keep` kept), for at
    most twice the client's timeout in all (a server that drips its answer does not hold the run). A request
    the client will not send at all is a ValueError."""
    start = time.monotonic()
    limit = 2 * (client.timeout.read or 10.0)
    encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    try:
        with client.stream(method, url, headers=encoded, content=body) as response:
            kept, size = bytearray(), 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                kept += chunk[: max(0, keep - len(kept))]
                if size >= READ_AT_MOST or time.monotonic() - start > limit:
                    break
            return Answer(
                response.status_code,
                list(response.headers.multi_items()),
                bytes(kept),
                size,
                time.monotonic() - start,
            )
    except httpx.LocalProtocolError as exc:  # our client refuses to send it (a header h11 calls illegal)
        raise ValueError(str(exc)) from None
    except httpx.HTTPError as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else ""
        return NoAnswer(type(exc).__name__ + (f": {detail}" if detail else ""))
