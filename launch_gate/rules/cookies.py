"""The one rule for a `Set-Cookie` header, wherever the gate sees one: the home page, login pages, every answer
in a smoke flow, `gate_http`. Pure (no I/O); messages name a cookie, never its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

SESSIONISH = re.compile(r"(?i)sess|sid|token|auth|jwt|remember|login")


def cookie_name(set_cookie: str) -> str:
    """The cookie's name as messages show it (a header without `=` is a nameless cookie: all of it is value)."""
    name, equals, _ = set_cookie.split(";", 1)[0].partition("=")
    return name.strip() if equals and name.strip() else "(a cookie with no name)"


def _attributes(set_cookie: str) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in set_cookie.split(";")[1:])
    return {key.strip().lower(): value.strip() for key, _, value in pairs if key.strip()}


def _deletes(attributes: dict[str, str]) -> bool:
    """A cookie being removed (Max-Age <= 0 or Expires in the past) carries nothing worth protecting."""
    age = attributes.get("max-age", "")
    if re.fullmatch(r"-?\d+", age):
        return int(age) <= 0
    try:
        expires = parsedate_to_datetime(attributes["expires"])
    except (KeyError, TypeError, ValueError, IndexError):
        return False
    return (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) < datetime.now(UTC)


def cookie_problems(set_cookie: str, https: bool = True) -> list[str]:
    """What a Set-Cookie lacks: Secure (on https answers) and SameSite always, HttpOnly for session-like
    cookies. Over plain http a browser would refuse a Secure cookie, so Secure is not asked for there."""
    attributes = _attributes(set_cookie)
    if _deletes(attributes):
        return []
    name = cookie_name(set_cookie)
    wanted = ("Secure", "SameSite") if https else ("SameSite",)
    missing = [a for a in wanted if a.lower() not in attributes]
    if SESSIONISH.search(name) and "httponly" not in attributes:
        missing.append("HttpOnly")
    return [f"cookie {name} lacks {', '.join(missing)}"] if missing else []


def response_cookie_problems(set_cookies: Iterable[str], url: str) -> list[str]:
    """Every problem of every cookie one answer (from `url`) sets, each cookie once."""
    https = url.lower().startswith("https:")
    return list(dict.fromkeys(p for header in set_cookies for p in cookie_problems(header, https)))
