"""Which files are migrations, from their paths: Django's `<app>/migrations/*.py`, Alembic's `versions/*.py`
(and the folders alembic.ini names), `.sql` files under the SQL folders wherever they sit in the repository
(`apps/api/prisma/migrations/...` in a monorepo; a folder written with a leading `/` only at the root, one
with `*` as a glob); or, when `[migrations] paths` is set, exactly the files its globs match. Dependencies'
folders (`node_modules`, `.venv`, `vendor`, ...) hold no migration of yours. Rollback files (`*.down.sql`,
`<name>_down.sql` beside its `<name>_up.sql`, `down.sql`, Flyway's `U<version>__*.sql`, sqitch's `revert/`)
are left out, and counted: a rollback does not run at the deploy."""

from __future__ import annotations

import configparser
import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

_FLYWAY_UNDO = re.compile(r"^U\d[\w.]*__.*\.sql$", re.IGNORECASE)
# Folders of other people's code: installed packages, vendored copies.
VENDORED = frozenset(
    {"node_modules", "bower_components", ".venv", "venv", "site-packages", "dist-packages", "__pypackages__",
     "vendor", "vendored", "third_party", "third-party", ".tox", ".nox", ".git"}
)  # fmt: skip


def matches(name: str, patterns: Sequence[str]) -> bool:
    """Glob patterns on the posix path from the project root (`*` crosses folders; a folder matches all in it)."""
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(name, p.rstrip("/") + "/*") for p in patterns)


def _under(name: str, folder: str) -> bool:
    """Whether `name` is inside `folder`: anywhere in the tree (`db/migrations` also matches
    `services/x/db/migrations/1.sql`), only at the root when written `/db/migrations`, or as a glob."""
    anchored = folder.strip().startswith("/")
    top = folder.strip().strip("/")
    if top in ("", "."):
        return True
    if any(c in top for c in "*?["):
        parents = PurePosixPath(name).parents
        return any(fnmatch.fnmatch(str(p), top) or fnmatch.fnmatch(str(p), "*/" + top) for p in parents)
    return name.startswith(top + "/") or (not anchored and f"/{top}/" in name)


def _never(name: str) -> bool:
    return False


def is_rollback(name: str, exists: Callable[[str], bool] = _never) -> bool:
    """A file that undoes a migration; `<name>_down.sql` only beside its `<name>_up.sql` (`exists` says whether a
    file is there), since `0006_wind_down.sql` is a migration like any other."""
    path = PurePosixPath(name)
    lower = path.name.lower()
    if lower.endswith("_down.sql"):
        stem, ext = path.name[: -len("_down.sql")], path.name[-len(".sql") :]
        twins = (f"{stem}_up{ext}", f"{stem}_UP{ext}", f"{stem}_Up{ext}")
        return any(exists(str(path.with_name(twin))) for twin in twins)
    return (
        lower.endswith(".down.sql")
        or lower == "down.sql"
        or bool(_FLYWAY_UNDO.match(path.name))
        or "revert" in path.parts[:-1]
    )


@dataclass(frozen=True)
class Layout:
    """Where the project keeps its migrations; `exists` says whether a file is in the project (for a
    `_down.sql` file's `_up.sql` twin)."""

    sql_dirs: Sequence[str] = ()
    alembic_dirs: Sequence[str] = ()
    paths: Sequence[str] = ()  # when set, exactly these globs
    exclude: Sequence[str] = field(default_factory=tuple)
    exists: Callable[[str], bool] = field(default=_never, compare=False)

    def kind(self, name: str) -> str | None:
        """`python`, `sql`, or None for a file that is not a migration."""
        candidate = self._candidate(name)
        if candidate == "sql" and is_rollback(name, self.exists):
            return None
        return candidate

    def rollback(self, name: str) -> bool:
        """Whether `name` would be a SQL migration but is a rollback, which is not judged."""
        return self._candidate(name) == "sql" and is_rollback(name, self.exists)

    def _candidate(self, name: str) -> str | None:
        path = PurePosixPath(name)
        suffix = path.suffix.lower()
        if suffix not in (".py", ".sql") or matches(name, self.exclude):
            return None
        if self.paths:
            return ("python" if suffix == ".py" else "sql") if matches(name, self.paths) else None
        if VENDORED.intersection(path.parts[:-1]):
            return None
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
