"""HTTP header rules the checks share: directive lists, HSTS strength, what a browser or a shared cache may
keep. Pure: no network; each takes a header's value and says what is wrong with it."""

from __future__ import annotations

import re

YEAR = 31_536_000
DAY = 86_400


def directives(value: str, separator: str) -> set[str]:
    """The directive names of a header such as Cache-Control (`,`) or Strict-Transport-Security (`;`),
    lower case: `public, max-age=60` -> {"public", "max-age"}."""
    return {part.strip().split("=")[0].lower() for part in value.split(separator) if part.strip()}


def hsts_problems(header: str) -> list[str]:
    """Why a Strict-Transport-Security value is too weak: under a year's max-age, no includeSubDomains."""
    age = re.search(r"max-age\s*=\s*\"?(\d+)", header, re.IGNORECASE)
    problems = []
    if age is None or int(age[1]) < YEAR:
        problems.append(f"max-age is {age[1] if age else 'missing'} (at least {YEAR}, one year)")
    if "includesubdomains" not in directives(header, ";"):
        problems.append("no includeSubDomains")
    return problems


def hsts_preload(header: str) -> bool:
    return "preload" in directives(header, ";")


def cache_problem(cache_control: str | None) -> str | None:
    """Why a static asset is not cacheable for at least a day (None: it is)."""
    if not cache_control:
        return "no Cache-Control"
    names = directives(cache_control, ",")
    if names & {"no-store", "no-cache", "private"}:
        return f"Cache-Control: {cache_control}"
    age = re.search(r"max-age\s*=\s*(\d+)", cache_control)
    if (age is None or int(age[1]) < DAY) and "immutable" not in names:
        return f"max-age under a day ({cache_control})"
    return None


def shared_cache_problem(cache_control: str | None) -> str | None:
    """Why a CDN or proxy may store this response and hand it to someone else (None: it may not)."""
    if not cache_control:
        return None
    names = directives(cache_control, ",")
    if names & {"private", "no-store"}:
        return None
    age = re.search(r"(?:s-maxage|max-age)\s*=\s*(\d+)", cache_control)
    if "public" in names or "s-maxage" in names or (age is not None and int(age[1]) > 0):
        return f"cacheable by shared caches (Cache-Control: {cache_control})"
    return None
