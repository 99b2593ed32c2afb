"""Destructive migrations: which files are migrations, and what risky operations each holds.

Pure parsing, no I/O: Python migrations (Django, Alembic) are read with `ast` and never imported; SQL with a
real parser (pglast for PostgreSQL, sqlglot for other dialects). `read_migration` takes a file's path and
text and returns a `Reading` (its framework and `Risk`s, each with a kind from `KINDS`, a line and the
operation as written), None for a file that is not a migration, or raises `Unreadable` naming the line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from launch_gate.migrations.model import KINDS, POSTGRESQL, UNPARSABLE, Kind, Reading, Risk, Unreadable
from launch_gate.migrations.paths import Layout, alembic_dirs
from launch_gate.migrations.python_ops import read_python
from launch_gate.migrations.sql_ops import read_sql
from launch_gate.migrations.sqltext import up_part, without_bom

__all__ = [
    "KINDS",
    "POSTGRESQL",
    "UNPARSABLE",
    "Kind",
    "Layout",
    "Reading",
    "Risk",
    "Unreadable",
    "alembic_dirs",
    "read_migration",
]


def _none() -> Iterable[str]:
    return ()


def read_migration(
    name: str, text: str, dialect: str = POSTGRESQL, earlier: Callable[[], Iterable[str]] = _none
) -> Reading | None:
    """What the migration `name` (a `.py` or `.sql` path) holds; `earlier` gives the texts of the migrations
    before it in the same folder (Django's AlterField is judged against the field's earlier definition)."""
    text = without_bom(text)
    if name.lower().endswith(".sql"):
        return Reading("sql", tuple(read_sql(up_part(text), dialect)))
    return read_python(text, dialect, earlier)
