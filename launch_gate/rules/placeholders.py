"""What a placeholder looks like: the rule env.placeholders judges variables by and the secret scans set
placeholder values (`changeme`, `<your-key>`, `xxx`) aside with."""

from __future__ import annotations

import re

_WORD = r"(?<![A-Za-z0-9]){}(?![A-Za-z0-9])"
PLACEHOLDERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an <angle-bracket> template", re.compile(r"^\s*<[^<>]*>\s*$")),
    ("a {template}", re.compile(r"^\s*\{\{?[^{}]*\}\}?\s*$")),
    ("'your-…'", re.compile(r"(?i)(?:^|[^A-Za-z0-9])your[-_ ][A-Za-z]")),
    ("a run of x's", re.compile(r"(?i)(?:^|[^A-Za-z0-9])x{3,}(?:[^A-Za-z0-9]|$)")),
    ("'changeme'", re.compile(_WORD.format(r"(?i:change[-_ ]?me|replace[-_ ]?me)"))),
    ("'TODO'", re.compile(_WORD.format(r"(?i:todo|fixme|tbd|placeholder|dummy)"))),
    ("'example'", re.compile(_WORD.format(r"(?i:example)"))),
)


def placeholder_kind(value: str) -> str | None:
    """Which placeholder shape a value has, or None for a value that looks real."""
    return next((label for label, pattern in PLACEHOLDERS if pattern.search(value)), None)
