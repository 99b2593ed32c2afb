"""Migrations in other SQL dialects (MySQL, SQLite, SQL Server, ...) read by sqlglot: the data-loss rules
(DROP, RENAME, TRUNCATE, DELETE/UPDATE without WHERE, also inside a `WITH` query, type changes, NOT NULL
without a default). A statement sqlglot can only keep as an opaque command, and whose verb can change data,
makes the file unreadable rather than passing unread; the message names its kind, never its text."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from launch_gate.migrations.model import Risk, Scope, Table, Unreadable
from launch_gate.migrations.sqltext import Where, placeholders_as_values, statement_kind, type_change

# Our dialect names that sqlglot spells another way.
SQLGLOT_NAMES = {"mariadb": "mysql"}
# sqlglot keeps a statement it cannot parse as an opaque Command; these verbs can hide a risk.
RISKY_VERBS = frozenset({"ALTER", "DROP", "TRUNCATE", "DELETE", "UPDATE", "MERGE", "REPLACE", "RENAME"})
# ... unless what follows the verb holds no table data: accounts and their passwords.
NO_DATA = frozenset({"USER", "ROLE", "LOGIN"})


@contextmanager
def _quiet() -> Iterator[None]:
    """sqlglot logs a warning, with the statement's text, for each statement it keeps as a command; the
    reader reports those itself, without the text."""
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
    except (SqlglotError, ValueError, RecursionError):
        raise Unreadable(
            f"{dialect} SQL could not be read (an unclosed quote or comment?)", where.first_line
        ) from None
    chunk: list[Any] = []
    for token in [*tokens, None]:
        if token is not None and token.token_type != TokenType.SEMICOLON:
            chunk.append(token)
            continue
        if chunk:
            yield text[chunk[0].start : chunk[-1].end + 1], where.line(chunk[0].start)
        chunk = []


def _parse(statement: str, dialect: str, line: int) -> Any:
    """One statement's tree; as a second try, with driver placeholders (`%s`, `:name`) read as values."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    for text in (statement, placeholders_as_values(statement)):
        if text is None:
            continue
        try:
            with _quiet():
                return sqlglot.parse_one(text, dialect=dialect)
        except (SqlglotError, ValueError, RecursionError):
            continue
    raise Unreadable(f"{dialect} SQL could not be parsed: {statement_kind(statement)}", line)


def read(text: str, dialect: str, where: Where, scope: Scope) -> list[Risk]:
    """Every risky statement of `text` in `dialect`, in order."""
    name = SQLGLOT_NAMES.get(dialect, dialect)
    risks: list[Risk] = []
    for statement, line in _statements(text, name, where):
        risks += _judge(_parse(statement, name, line), statement, line, scope)
    return risks


def _table(node: Any) -> str:
    """A table expression's name as written: `db.users`."""
    parts = [node.args.get("db"), node.args.get("this")] if node is not None else []
    return ".".join(getattr(p, "name", str(p)) for p in parts if p) or "?"


def _key(node: Any, scope: Scope) -> Table:
    if node is None:
        return ("?", "?")
    db = node.args.get("db")
    return scope.table(getattr(node.args.get("this"), "name", "?") or "?", getattr(db, "name", None) or None)


def _judge(tree: Any, statement: str, line: int, scope: Scope) -> list[Risk]:
    from sqlglot import exp

    if isinstance(tree, exp.Command):
        return _command(tree, statement, line)
    risks = _top(tree, line, scope)
    for node in tree.find_all(exp.Delete, exp.Update):  # also inside WITH queries
        risks += _without_where(node, line, scope)
    return risks


def _top(tree: Any, line: int, scope: Scope) -> list[Risk]:
    from sqlglot import exp

    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if not tree.args.get("exists"):  # IF NOT EXISTS may leave an existing table in place
            scope.created.add(_key(target, scope))
        return []
    if isinstance(tree, exp.Use) and tree.this is not None:
        scope.default_schema = getattr(tree.this, "name", "") or "?"
        return []
    if isinstance(tree, exp.Drop):
        return _drop(tree, line, scope)
    if isinstance(tree, exp.TruncateTable):
        tables = [t for t in tree.expressions if not scope.is_new(_key(t, scope))]
        return [Risk("truncate", line, f"TRUNCATE {_table(t)}") for t in tables]
    if isinstance(tree, exp.Alter) and str(tree.args.get("kind", "TABLE")).upper() == "TABLE":
        if scope.is_new(_key(tree.this, scope)):
            return []
        table, key = _table(tree.this), _key(tree.this, scope)
        return [
            r for action in tree.args.get("actions") or [] for r in _action(table, key, action, line, scope)
        ]
    if isinstance(tree, exp.Execute) and _table(tree.this).lower().endswith("sp_rename"):
        args = [str(getattr(e, "this", "")) for e in tree.expressions]
        kind = "rename-column" if len(args) > 2 and args[2].upper() == "COLUMN" else "rename-table"
        return [Risk(kind, line, f"sp_rename {', '.join(_identifier(a) for a in args[:2])}")]
    return []


def _identifier(text: str) -> str:
    """A name given as a string (sp_rename's), shown only when it looks like one."""
    plain = text.replace(".", "").replace("_", "").replace("[", "").replace("]", "")
    return text if plain.isalnum() and len(text) <= 128 else "(a name)"


def _command(tree: Any, statement: str, line: int) -> list[Risk]:
    verb = str(tree.this).upper()
    rest = str(tree.args.get("expression") or "").split()
    if verb in ("ALTER", "DROP") and rest and rest[0].upper() in NO_DATA:
        return []
    if verb == "RENAME":
        return [Risk("rename-table", line, _rename_tables(statement))]
    if verb in RISKY_VERBS:
        kind = statement_kind(statement)
        raise Unreadable(f"sqlglot could not parse {kind}, so what it changes is unknown", line)
    return []


def _rename_tables(statement: str) -> str:
    """MySQL's `RENAME TABLE a TO b, c TO d`, from its identifier tokens only."""
    words = statement.replace(",", " , ").split()[2:]
    names = [w for w in words if w == "," or w.upper() == "TO" or _identifier(w.strip("`")) != "(a name)"]
    return "RENAME TABLE " + " ".join(names).replace(" ,", ",") if names == words else "RENAME TABLE"


def _drop(tree: Any, line: int, scope: Scope) -> list[Risk]:
    kind = str(tree.args.get("kind", "")).upper()
    tables = [t for t in tree.args.get("tables") or [tree.this] if t is not None]
    if kind == "TABLE":
        return [
            Risk("drop-table", line, f"DROP TABLE {_table(t)}")
            for t in tables
            if not scope.is_new(_key(t, scope))
        ]
    if kind in ("SCHEMA", "DATABASE"):
        return [Risk("drop-schema", line, f"DROP {kind} {_table(t)}") for t in tables]
    return []


def _without_where(tree: Any, line: int, scope: Scope) -> list[Risk]:
    from sqlglot import exp

    table, key = _table(tree.this), _key(tree.this, scope)
    update = isinstance(tree, exp.Update)
    where = tree.args.get("where")
    if update:
        columns = [getattr(e.this, "name", "") for e in tree.expressions]
        scope.backfill(key, columns if where is None else [c for c in columns if c == _is_null_test(where)])
    if where is not None or scope.is_new(key):
        return []
    if update:
        return [Risk("update-all", line, f"UPDATE {table} (no WHERE)")]
    return [Risk("delete-all", line, f"DELETE FROM {table} (no WHERE)")]  # noqa: S608 (a message)


def _is_null_test(where: Any) -> str | None:
    """The column of `WHERE col IS NULL`, else None."""
    from sqlglot import exp

    test = where.this
    if (
        isinstance(test, exp.Is)
        and isinstance(test.expression, exp.Null)
        and isinstance(test.this, exp.Column)
    ):
        return str(test.this.name)
    return None


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
        and not isinstance(k.this, exp.Null)
        for k in kinds
    )
    return not_null, default


def _action(table: str, key: Table, action: Any, line: int, scope: Scope) -> Iterator[Risk]:
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
        yield from _alter_column(table, key, action, line, scope)
    elif isinstance(action, exp.ModifyColumn):
        yield from _modify(table, key, action, line, scope)
    elif isinstance(action, exp.ColumnDef):
        not_null, default = _not_null(action.args.get("constraints") or [])
        if default:
            scope.filled.add((key, action.name))
        if not_null and not default:
            yield Risk(
                "not-null",
                line,
                f"ADD COLUMN {table}.{action.name} NOT NULL",
                "a NOT NULL column without a DEFAULT cannot be added to a table that has rows",
            )


def _type_sql(dtype: Any, scope: Scope) -> str:
    """A type as the dialect writes it (MySQL's TINYTEXT is not TEXT)."""
    return str(dtype.sql(dialect=SQLGLOT_NAMES.get(scope.dialect, scope.dialect)))


def _alter_column(table: str, key: Table, action: Any, line: int, scope: Scope) -> Iterator[Risk]:
    column = action.name
    dtype = action.args.get("dtype")
    if dtype is not None:
        change = type_change(table, key, column, _type_sql(dtype, scope), line, scope, "ALTER COLUMN")
        yield from [change] if change else []
    if action.args.get("allow_null") is False and not scope.prepared(key, column):
        yield Risk("not-null", line, f"ALTER COLUMN {table}.{column} NOT NULL")


def _modify(table: str, key: Table, action: Any, line: int, scope: Scope) -> Iterator[Risk]:
    """MySQL's MODIFY/CHANGE restates the whole column: its type, nullability and (CHANGE) its name."""
    definition = action.this
    column = definition.name
    renamed = action.args.get("rename_from")
    if renamed is not None:
        yield Risk("rename-column", line, f"CHANGE COLUMN {table}.{renamed.name} TO {column}")
    dtype = definition.args.get("kind")
    if dtype is not None:
        change = type_change(table, key, column, _type_sql(dtype, scope), line, scope, "MODIFY COLUMN")
        yield from [change] if change else []
    not_null, _ = _not_null(definition.args.get("constraints") or [])
    if not_null and not scope.prepared(key, column):
        yield Risk(
            "not-null",
            line,
            f"MODIFY COLUMN {table}.{column} NOT NULL",
            "if the column allowed NULL before, the migration fails on any NULL (a DEFAULT fills new rows only); "
            "backfill it first in the same migration (UPDATE ... WHERE col IS NULL)",
        )
