"""What a placeholder looks like: the rule env.placeholders judges variables by and the secret scans set
placeholder values (`changeme`, `<your-key>`, `xxx`) aside with."""

from __future__ import annotations

import re

_WORD = r"(?<![A-Za-z0-9]){}(?![A-Za-z0-9])"
PLACEHOLDERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an <angle-bracket> template", re.compile(r"^\s*<[^<>]*>\s*$")),
    ("a {template}", re.compile(r"^\s*\{\{?[^{}]*\}\}?\s*$")),
    ("'your-…'", re.compile(r"(?i)(?<![A-Za-z0-9])your[-_ ][A-Za-z]")),
    ("a run of x's", re.compile(_WORD.format(r"(?i:x{3,})"))),
    ("'changeme'", re.compile(_WORD.format(r"(?i:change[-_ ]?me|replace[-_ ]?me)"))),
    ("'TODO'", re.compile(_WORD.format(r"(?i:todo|fixme|tbd|placeholder|dummy)"))),
    ("'example'", re.compile(_WORD.format(r"(?i:example)"))),
)
# What a placeholder's own text spans, to see what else a value holds: `your-` takes the letters-only words
# after it (`your-stripe-key`), never a word with a digit in it (`Your_Company_Pr0d`).
_YOUR_WORDS = re.compile(r"(?i)(?<![A-Za-z0-9])your(?:[-_ ][A-Za-z]+(?![A-Za-z0-9]))+")
_SPANS = (_YOUR_WORDS, *(pattern for _, pattern in PLACEHOLDERS))  # the longer `your-` span first
# A whole placeholder may keep a few letters beside its placeholder words (`sk_live_xxxxxxxx`, `example-key`);
# a real secret that only carries one (`todo-Xk29fLq8ZpR3vN7w`) keeps far more.
FEW = 6


def placeholder_kind(value: str) -> str | None:
    """Which placeholder shape a value has anywhere in it, or None for a value that looks real.

    For environment values (env.placeholders), where a false alarm is the safe side."""
    return next((label for label, pattern in PLACEHOLDERS if pattern.search(value)), None)


def whole_placeholder_kind(value: str) -> str | None:
    """Which placeholder shape a value has when it is a placeholder as a whole, or None.

    For secret findings, where setting a value aside hides it: only a value that is nothing but placeholder
    text and at most FEW other letters or digits is one (`changeme`, `sk_live_xxxxxxxx`, `your-stripe-key`);
    a real secret that merely contains a placeholder word (`todo-Xk29fLq8ZpR3vN7w`) is not."""
    kind = placeholder_kind(value)
    if kind is None:
        return None
    rest = value
    for pattern in _SPANS:
        rest = pattern.sub(" ", rest)
    return kind if sum(c.isalnum() for c in rest) <= FEW else None
