"""How reports count things: "1 secret", "2 secrets", "1 file"."""

from __future__ import annotations


def count(number: int, noun: str, plural: str | None = None) -> str:
    """`number` and the noun, singular for one (`count(1, "path")`, `count(3, "entry", "entries")`)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
