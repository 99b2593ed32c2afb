"""Domain names as the checks reason about them: the organizational domain (public suffix list), the apex/www
twin, the target's host and the mail domain. Pure: no network."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

from launch_gate.config import Settings


@functools.cache
def _public_suffixes() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()  # parsing the list takes a while: once per process


def organizational_domain(host: str) -> str:
    """The registrable domain of `host` (`www.shop.example.co.uk` -> `example.co.uk`)."""
    return str(_public_suffixes().privatesuffix(host.lower().rstrip(".")) or host)


def twin(host: str) -> str:
    """www.example.com <-> example.com (only for the organizational domain and its www)."""
    apex = organizational_domain(host)
    return apex if host == f"www.{apex}" else f"www.{apex}" if host == apex else host


def target_host(settings: Settings) -> str | None:
    """The target's host name, lower case and without a trailing dot (None: no target)."""
    host = urlsplit(settings.target or "").hostname
    return host.lower().rstrip(".") if host else None


def mail_domain(settings: Settings) -> str | None:
    """The domain transactional mail comes from: `[email] domain`, else the target's organizational domain."""
    if settings.email.domain:
        return settings.email.domain.lower().rstrip(".")
    host = urlsplit(settings.target or "").hostname
    return organizational_domain(host) if host else None
