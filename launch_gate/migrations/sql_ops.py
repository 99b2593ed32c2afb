"""Risky statements in SQL, read with a real parser: pglast (PostgreSQL's own parser) for `postgresql`,
sqlglot for other dialects. Only PostgreSQL gets the lock rules (CREATE INDEX without CONCURRENTLY, a
constraint without NOT VALID): other databases build indexes and check constraints differently.

Procedural code (DO blocks, function bodies) is not looked into.
"""

from __future__ import annotations

from launch_gate.migrations.model import POSTGRESQL, Risk, Scope
from launch_gate.migrations.sql_generic import read as read_generic
from launch_gate.migrations.sql_postgres import read as read_postgres
from launch_gate.migrations.sqltext import Where


def read_sql(
    text: str, dialect: str, scope: Scope | None = None, first_line: int = 1, last_line: int | None = None
) -> list[Risk]:
    """The risky statements in `text`, SQL that starts on `first_line` of its file (and, inside a Python
    string, ends by `last_line`); Unreadable when the dialect's parser cannot read it. `scope` carries what
    earlier statements of the same file did (tables created, columns backfilled)."""
    where = Where(text, first_line, last_line)
    scope = scope if scope is not None else Scope(dialect)
    if dialect == POSTGRESQL:
        return read_postgres(text, where, scope)
    return read_generic(text, dialect, where, scope)
