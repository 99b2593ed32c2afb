"""Where the app's OpenAPI document is and where its API answers: a path on the target, a URL or a file.

`openapi = "/openapi.json"` is a path on the target's host; a whole URL is fetched as it is; anything else
is a file in the project. The document is fetched through the gate's HTTP client (connect-to, CA bundle),
so a deploy not yet in DNS is probed where it runs. The API is probed at `base-url`, else at the target
with the path of the document's first server: a document's servers never send the gate to another host.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from launch_gate.apiprobe.wire import READ_AT_MOST, Answer, send
from launch_gate.errors import ConfigError, CouldNotVerify


@dataclass(frozen=True)
class Document:
    text: str
    where: str  # its URL or file, for messages


def document_url(target: str, setting: str) -> str | None:
    """The URL the document is fetched from, or None when `setting` names a file."""
    if setting.lower().startswith(("http://", "https://")):
        return setting
    if setting.startswith("/"):
        return urljoin(target, setting)
    return None


def read_file(root: Path, setting: str) -> Document:
    path = root / setting
    try:
        return Document(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"[security.inputs] openapi: the file {path} cannot be read ({type(exc).__name__}); give a path "
            'on the target ("/openapi.json"), a URL, or a file in the project.'
        ) from None


def fetch(client: httpx.Client, url: str) -> Document:
    """The document at `url`; no answer, or an answer that is not the document, is could-not-verify."""
    accept = [("Accept", "application/json, application/yaml, */*")]
    answer = send(client, "GET", url, accept, None, keep=READ_AT_MOST)
    if not isinstance(answer, Answer):
        raise CouldNotVerify(f"the OpenAPI document at {url} could not be fetched ({answer.reason})")
    if answer.status != 200:
        location = dict((k.lower(), v) for k, v in answer.headers).get("location")
        moved = (
            f" (to {location}): point [security.inputs] openapi at the document itself" if location else ""
        )
        raise CouldNotVerify(f"the OpenAPI document at {url} answered {answer.status}{moved}")
    if answer.size >= READ_AT_MOST:
        raise CouldNotVerify(f"the OpenAPI document at {url} is larger than the {READ_AT_MOST} bytes read")
    return Document(answer.body.decode("utf-8", "replace"), url)


def server_path(raw: Any) -> str:
    """The path of the document's first server (OpenAPI 3) or its basePath (Swagger 2), without variables."""
    path = ""
    if isinstance(raw, dict):
        servers = raw.get("servers")
        if isinstance(servers, list) and servers and isinstance(servers[0], dict):
            path = urlsplit(str(servers[0].get("url", ""))).path
        elif isinstance(raw.get("basePath"), str):
            path = raw["basePath"]
    return "" if "{" in path else path.rstrip("/")


def base_url(target: str, configured: str | None, raw: Any) -> str:
    """Where the API's paths are appended: `base-url`, else the target's origin and the server's path."""
    if configured:
        return configured.rstrip("/")
    parts = urlsplit(target)
    path = server_path(raw)
    return f"{parts.scheme}://{parts.netloc}{path}" if path else target.rstrip("/")
