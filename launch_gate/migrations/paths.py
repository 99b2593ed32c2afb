"""Which files are migrations, from their paths: Django's `<app>/migrations/*.py`, Alembic's `versions/*.py`
(and the folders alembic.ini names), `.sql` files under the SQL folders; or, when `[migrations] paths` is set,
exactly the files its globs match. Rollback files (`*.down.sql`, Flyway's `U<version>__*.sql`, sqitch's
`revert/`) are left out: undoing a migration is expected to drop what it made."""

from __future__ import annotations

import configparser
import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

_FLYWAY_UNDO = re.compile(r"^U\d[\w.]*__.*\.sql$", re.IGNORECASE)


def matches(name: str, patterns: Sequence[str]) -> bool:
    """Glob patterns on the posix path from the project root (`*` crosses folders; a folder matches all in it)."""
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(name, p.rstrip("/") + "/*") for p in patterns)


def _under(name: str, folder: str) -> bool:
    top = folder.strip().strip("/")
    top = "" if top in ("", ".") else top
    return not top or name.startswith(top + "/")


def is_rollback(name: str) -> bool:
    path = PurePosixPath(name)
    lower = path.name.lower()
    return (
        lower.endswith((".down.sql", "_down.sql"))
        or lower == "down.sql"
        or bool(_FLYWAY_UNDO.match(path.name))
        or "revert" in path.parts[:-1]
    )


@dataclass(frozen=True)
class Layout:
    """Where the project keeps its migrations."""

    sql_dirs: Sequence[str] = ()
    alembic_dirs: Sequence[str] = ()
    paths: Sequence[str] = ()  # when set, exactly these globs
    exclude: Sequence[str] = field(default_factory=tuple)

    def kind(self, name: str) -> str | None:
        """`python`, `sql`, or None for a file that is not a migration."""
        path = PurePosixPath(name)
        suffix = path.suffix.lower()
        if suffix not in (".py", ".sql") or matches(name, self.exclude):
            return None
        if suffix == ".sql" and is_rollback(name):
            return None
        if self.paths:
            return ("python" if suffix == ".py" else "sql") if matches(name, self.paths) else None
        if suffix == ".sql":
            return "sql" if any(_under(name, d) for d in self.sql_dirs) else None
        if path.name == "__init__.py":
            return None
        parent = path.parent.name
        if parent in ("migrations", "versions") or any(_under(name, d) for d in self.alembic_dirs):
            return "python"
        return None


def alembic_dirs(ini_text: str) -> list[str]:
    """The version folders an alembic.ini names: `<script_location>/versions` and `version_locations`,
    relative to the project (`%(here)s/` is the project root; `package:path` forms are left out)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(ini_text)
    except configparser.Error:
        return []
    if not parser.has_section("alembic"):
        return []
    section = parser["alembic"]
    found = []
    script = section.get("script_location", "").strip()
    if script:
        found.append(script.rstrip("/") + "/versions")
    for entry in re.split(r"[\s,;]+", section.get("version_locations", "")):
        if entry:
            found.append(entry)
    cleaned = [entry.replace("%(here)s/", "").replace("%(here)s", ".") for entry in found]
    return [
        entry for entry in cleaned if ":" not in entry and not entry.startswith("/") and ".." not in entry
    ]
