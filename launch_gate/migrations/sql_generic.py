"""Migrations in other SQL dialects (MySQL, SQLite, SQL Server, ...) read by sqlglot: the data-loss rules
(DROP, RENAME, TRUNCATE, DELETE/UPDATE without WHERE, type changes, NOT NULL without a default). A statement
sqlglot can only keep as an opaque command, and whose verb can change data, makes the file unreadable rather
than passing unread."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from launch_gate.migrations.model import Risk, Scope, Unreadable, bare
from launch_gate.migrations.sqltext import Where, first_line_of, type_change

# Our dialect names that sqlglot spells another way.
SQLGLOT_NAMES = {"mariadb": "mysql"}
# sqlglot keeps a statement it cannot parse as an opaque Command; these verbs can hide a risk.
RISKY_VERBS = frozenset({"ALTER", "DROP", "TRUNCATE", "DELETE", "UPDATE", "MERGE", "REPLACE", "RENAME"})


@contextmanager
def _quiet() -> Iterator[None]:
    """sqlglot logs a warning for each statement it keeps as a command; the reader reports those itself."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _statements(text: str, dialect: str, where: Where) -> Iterator[tuple[str, int]]:
    """Each statement's text and line, split on the dialect's own semicolons (not those inside strings)."""
    import sqlglot
    from sqlglot import TokenType
    from sqlglot.errors import SqlglotError

    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    except (SqlglotError, ValueError, RecursionError) as exc:
        raise Unreadable(f"{dialect} SQL could not be read: {first_line_of(exc)}", where.first_line) from None
    chunk: list[Any] = []
    for token in [*tokens, None]:
        if token is not None and token.token_type != TokenType.SEMICOLON:
            chunk.append(token)
            continue
        if chunk:
            yield text[chunk[0].start : chunk[-1].end + 1], where.line(chunk[0].start)
        chunk = []


def read(text: str, dialect: str, where: Where, scope: Scope) -> list[Risk]:
    """Every risky statement of `text` in `dialect`, in order."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    name = SQLGLOT_NAMES.get(dialect, dialect)
    risks: list[Risk] = []
    for statement, line in _statements(text, name, where):
        try:
            with _quiet():
                tree = sqlglot.parse_one(statement, dialect=name)
        except (SqlglotError, ValueError, RecursionError) as exc:
            raise Unreadable(f"{dialect} SQL could not be parsed: {first_line_of(exc)}", line) from None
        risks += _judge(tree, statement, line, scope)
    return risks


def _table(node: Any) -> str:
    """A table expression's name as written: `db.users`."""
    parts = [node.args.get("db"), node.args.get("this")] if node is not None else []
    return ".".join(getattr(p, "name", str(p)) for p in parts if p) or "?"


def _judge(tree: Any, statement: str, line: int, scope: Scope) -> list[Risk]:
    from sqlglot import exp

    if isinstance(tree, exp.Command):
        return _command(tree, statement, line)
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        scope.created.add(bare(_table(target)))
        return []
    if isinstance(tree, exp.Drop):
        return _drop(tree, line, scope)
    if isinstance(tree, exp.TruncateTable):
        names = [_table(t) for t in tree.expressions]
        return [Risk("truncate", line, f"TRUNCATE {n}") for n in names if not scope.is_new(n)]
    if isinstance(tree, exp.Delete | exp.Update):
        return _without_where(tree, line, scope)
    if isinstance(tree, exp.Alter) and str(tree.args.get("kind", "TABLE")).upper() == "TABLE":
        table = _table(tree.this)
        if scope.is_new(table):
            return []
        return [r for action in tree.args.get("actions") or [] for r in _action(table, action, line, scope)]
    if isinstance(tree, exp.Execute) and _table(tree.this).lower().endswith("sp_rename"):
        args = [getattr(e, "this", "") for e in tree.expressions]
        kind = "rename-column" if len(args) > 2 and str(args[2]).upper() == "COLUMN" else "rename-table"
        return [Risk(kind, line, f"sp_rename {', '.join(map(str, args[:2]))}")]
    return []


def _command(tree: Any, statement: str, line: int) -> list[Risk]:
    verb = str(tree.this).upper()
    if verb == "RENAME":
        return [Risk("rename-table", line, " ".join(statement.split())[:80])]
    if verb in RISKY_VERBS:
        shown = " ".join(statement.split())[:60]
        raise Unreadable(f"sqlglot could not parse `{shown}`, so what it changes is unknown", line)
    return []


def _drop(tree: Any, line: int, scope: Scope) -> list[Risk]:
    kind = str(tree.args.get("kind", "")).upper()
    names = [_table(t) for t in tree.args.get("tables") or [tree.this] if t is not None]
    if kind == "TABLE":
        return [Risk("drop-table", line, f"DROP TABLE {n}") for n in names if not scope.is_new(n)]
    if kind in ("SCHEMA", "DATABASE"):
        return [Risk("drop-schema", line, f"DROP {kind} {n}") for n in names]
    return []


def _without_where(tree: Any, line: int, scope: Scope) -> list[Risk]:
    from sqlglot import exp

    table = _table(tree.this)
    update = isinstance(tree, exp.Update)
    if update:
        scope.backfill(table, [getattr(e.this, "name", "") for e in tree.expressions])
    if tree.args.get("where") is not None or scope.is_new(table):
        return []
    if update:
        return [Risk("update-all", line, f"UPDATE {table} (no WHERE)")]
    return [Risk("delete-all", line, f"DELETE FROM {table} (no WHERE)")]  # noqa: S608 (a message)


def _not_null(constraints: list[Any]) -> tuple[bool, bool]:
    """(NOT NULL, has a default) among a column definition's constraints."""
    from sqlglot import exp

    kinds = [c.args.get("kind") for c in constraints]
    not_null = any(isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null") for k in kinds)
    not_null = not_null or any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds)
    default = any(
        isinstance(
            k,
            exp.DefaultColumnConstraint
            | exp.GeneratedAsIdentityColumnConstraint
            | exp.AutoIncrementColumnConstraint,
        )
        for k in kinds
    )
    return not_null, default


def _action(table: str, action: Any, line: int, scope: Scope) -> Iterator[Risk]:
    from sqlglot import exp

    if isinstance(action, exp.Drop) and str(action.args.get("kind", "")).upper() == "COLUMN":
        for column in action.args.get("tables") or [action.this]:
            yield Risk("drop-column", line, f"DROP COLUMN {table}.{getattr(column, 'name', column)}")
    elif isinstance(action, exp.AlterRename):
        yield Risk("rename-table", line, f"RENAME TABLE {table} TO {_table(action.this)}")
    elif isinstance(action, exp.RenameColumn):
        old, new = action.this.name, action.args["to"].name
        yield Risk("rename-column", line, f"RENAME COLUMN {table}.{old} TO {new}")
    elif isinstance(action, exp.AlterColumn):
        yield from _alter_column(table, action, line, scope)
    elif isinstance(action, exp.ModifyColumn):
        yield from _modify(table, action, line, scope)
    elif isinstance(action, exp.ColumnDef):
        not_null, default = _not_null(action.args.get("constraints") or [])
        if not_null and not default:
            yield Risk(
                "not-null",
                line,
                f"ADD COLUMN {table}.{action.name} NOT NULL",
                "a NOT NULL column without a DEFAULT cannot be added to a table that has rows",
            )


def _alter_column(table: str, action: Any, line: int, scope: Scope) -> Iterator[Risk]:
    column = action.name
    if action.args.get("default") is not None:
        scope.defaults.add((bare(table), bare(column)))
    dtype = action.args.get("dtype")
    if dtype is not None:
        change = type_change(table, column, dtype.sql(), line, scope, "ALTER COLUMN")
        yield from [change] if change else []
    if action.args.get("allow_null") is False and not scope.prepared(table, column):
        yield Risk("not-null", line, f"ALTER COLUMN {table}.{column} NOT NULL")


def _modify(table: str, action: Any, line: int, scope: Scope) -> Iterator[Risk]:
    """MySQL's MODIFY/CHANGE restates the whole column: its type, nullability and (CHANGE) its name."""
    definition = action.this
    column = definition.name
    renamed = action.args.get("rename_from")
    if renamed is not None:
        yield Risk("rename-column", line, f"CHANGE COLUMN {table}.{renamed.name} TO {column}")
    dtype = definition.args.get("kind")
    if dtype is not None:
        change = type_change(table, column, dtype.sql(), line, scope, "MODIFY COLUMN")
        yield from [change] if change else []
    not_null, default = _not_null(definition.args.get("constraints") or [])
    if not_null and not default and not scope.prepared(table, column):
        yield Risk("not-null", line, f"MODIFY COLUMN {table}.{column} NOT NULL")
