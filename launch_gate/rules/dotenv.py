"""What a dotenv-style example file (`.env.example`) declares: the names env.required asks for and the run's
redactor treats as secret. Pure: it reads text, not files."""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def declared_in(text: str) -> list[str]:
    """The variable names an example file's text declares (`KEY=value`, `export KEY=`, comments skipped)."""
    names = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key = line.removeprefix("export ").split("=", 1)[0].strip()
        if _NAME.fullmatch(key) and "=" in line:
            names.append(key)
    return names
