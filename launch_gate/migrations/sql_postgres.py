"""PostgreSQL migrations read by pglast, PostgreSQL's own parser (libpg_query): data loss (DROP, RENAME,
TRUNCATE, DELETE/UPDATE without WHERE, type changes, NOT NULL) and locks on a busy table (CREATE INDEX without
CONCURRENTLY, a foreign key or check constraint without NOT VALID, a unique or primary key constraint that
builds its own index)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from launch_gate.migrations.model import Risk, Scope, Unreadable, bare
from launch_gate.migrations.sqltext import Where, first_line_of, type_change


def _parse(text: str, where: Where) -> tuple[Any, ...]:
    try:
        from pglast.parser import ParseError, parse_sql
    except ImportError:  # pragma: no cover - a dependency of launch-gate
        raise Unreadable(
            "pglast is not installed: `pip install pglast` (a dependency of launch-gate)"
        ) from None
    try:
        return tuple(parse_sql(text))
    except ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        raise Unreadable(f"PostgreSQL could not parse it: {first_line_of(exc)}", where.line(offset)) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise Unreadable(f"PostgreSQL could not parse it: {first_line_of(exc)}", where.first_line) from None


def read(text: str, where: Where, scope: Scope) -> list[Risk]:
    """Every risky statement of `text`, in order."""
    risks: list[Risk] = []
    for raw in _parse(text, where):
        line = where.line(raw.stmt_location or 0)
        risks += _statement(raw.stmt, line, scope)
    return risks


def _name(relation: Any) -> str:
    """A RangeVar as written: `schema.table`."""
    if relation is None:
        return "?"
    return ".".join(p for p in (relation.schemaname, relation.relname) if p)


def _type(type_name: Any) -> str:
    """A TypeName as SQL: `varchar(50)`, `numeric(10, 2)`."""
    try:
        from pglast.stream import RawStream

        return str(RawStream()(type_name))
    except Exception:  # pglast cannot print every node it parses
        names = [getattr(n, "sval", "") for n in (type_name.names or ())]
        return ".".join(n for n in names if n != "pg_catalog") or "?"


def _statement(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    kind = type(stmt).__name__
    handler = HANDLERS.get(kind)
    if handler is not None:
        yield from handler(stmt, line, scope)


def _create(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    relation = stmt.relation if type(stmt).__name__ == "CreateStmt" else stmt.into.rel
    scope.created.add(bare(_name(relation)))
    yield from ()


def _drop(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    from pglast.enums import ObjectType

    kinds = {ObjectType.OBJECT_TABLE: "drop-table", ObjectType.OBJECT_SCHEMA: "drop-schema"}
    kind = kinds.get(stmt.removeType)
    if kind is None:
        return
    for parts in stmt.objects or ():
        names = parts if isinstance(parts, tuple) else (parts,)
        name = ".".join(getattr(p, "sval", "") for p in names)
        if kind == "drop-table" and scope.is_new(name):
            continue
        what = "TABLE" if kind == "drop-table" else "SCHEMA"
        yield Risk(kind, line, f"DROP {what} {name}")


def _dropdb(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    yield Risk("drop-schema", line, f"DROP DATABASE {stmt.dbname}")


def _rename(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    from pglast.enums import ObjectType

    table = _name(stmt.relation)
    if scope.is_new(table):
        return
    if stmt.renameType == ObjectType.OBJECT_TABLE:
        yield Risk("rename-table", line, f"RENAME TABLE {table} TO {stmt.newname}")
    elif stmt.renameType == ObjectType.OBJECT_COLUMN:
        yield Risk("rename-column", line, f"RENAME COLUMN {table}.{stmt.subname} TO {stmt.newname}")


def _truncate(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    for relation in stmt.relations or ():
        if not scope.is_new(_name(relation)):
            yield Risk("truncate", line, f"TRUNCATE {_name(relation)}")


def _delete(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    table = _name(stmt.relation)
    if stmt.whereClause is None and not scope.is_new(table):
        yield Risk("delete-all", line, f"DELETE FROM {table} (no WHERE)")  # noqa: S608 (a message)


def _update(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    table = _name(stmt.relation)
    scope.backfill(table, [t.name for t in stmt.targetList or () if getattr(t, "name", None)])
    if stmt.whereClause is None and not scope.is_new(table):
        yield Risk("update-all", line, f"UPDATE {table} (no WHERE)")


def _index(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    table = _name(stmt.relation)
    if stmt.concurrent or scope.is_new(table):
        return
    unique = "UNIQUE " if stmt.unique else ""
    yield Risk("blocking-index", line, f"CREATE {unique}INDEX {stmt.idxname or '(unnamed)'} ON {table}")


def _constraints(column: Any) -> list[Any]:
    return list(getattr(column, "constraints", None) or ())


def _add_column(table: str, column: Any, line: int, scope: Scope) -> Iterator[Risk]:
    from pglast.enums import ConstrType

    kinds = {c.contype for c in _constraints(column)}
    filled = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}
    not_null = ConstrType.CONSTR_NOTNULL in kinds or ConstrType.CONSTR_PRIMARY in kinds or column.is_not_null
    if not_null and not kinds & filled:
        yield Risk(
            "not-null",
            line,
            f"ADD COLUMN {table}.{column.colname} NOT NULL",
            "a NOT NULL column without a DEFAULT cannot be added to a table that has rows: the migration fails",
        )
    for constraint in _constraints(column):
        yield from _constraint(table, constraint, line, f"ADD COLUMN {table}.{column.colname}")


def _constraint(table: str, constraint: Any, line: int, operation: str) -> Iterator[Risk]:
    from pglast.enums import ConstrType

    kind = constraint.contype
    named = f" {constraint.conname}" if constraint.conname else ""
    if kind in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK) and not constraint.skip_validation:
        what = "FOREIGN KEY" if kind == ConstrType.CONSTR_FOREIGN else "CHECK"
        yield Risk("validating-constraint", line, f"{operation} {what}{named} (without NOT VALID)")
    elif kind in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_EXCLUSION) and (
        not constraint.indexname
    ):
        what = {ConstrType.CONSTR_UNIQUE: "UNIQUE", ConstrType.CONSTR_PRIMARY: "PRIMARY KEY"}.get(
            kind, "EXCLUDE"
        )
        yield Risk(
            "blocking-index",
            line,
            f"{operation} {what}{named}",
            "the constraint builds its index while blocking writes to the table; build the index "
            "CONCURRENTLY first, then add the constraint USING INDEX",
        )


def _alter(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    from pglast.enums import AlterTableType as At

    table = _name(stmt.relation)
    new = scope.is_new(table)
    for cmd in stmt.cmds or ():
        sub, column = cmd.subtype, cmd.name
        if sub == At.AT_ColumnDefault and cmd.def_ is not None:
            scope.defaults.add((bare(table), bare(column or "")))
        elif sub == At.AT_ValidateConstraint:
            scope.validated.add(bare(table))
        if new:
            continue
        if sub == At.AT_DropColumn:
            yield Risk("drop-column", line, f"DROP COLUMN {table}.{column}")
        elif sub == At.AT_AlterColumnType:
            change = type_change(table, column or "?", _type(cmd.def_.typeName), line, scope, "ALTER COLUMN")
            yield from [change] if change else []
        elif sub == At.AT_SetNotNull and not scope.prepared(table, column or ""):
            yield Risk(
                "not-null",
                line,
                f"ALTER COLUMN {table}.{column} SET NOT NULL",
                "the column gets no default or backfill first: the table is scanned under an exclusive lock "
                "and the migration fails on any NULL",
            )
        elif sub == At.AT_AddColumn:
            yield from _add_column(table, cmd.def_, line, scope)
        elif sub == At.AT_AddConstraint:
            yield from _constraint(table, cmd.def_, line, f"ADD CONSTRAINT ON {table}")


HANDLERS = {
    "CreateStmt": _create,
    "CreateTableAsStmt": _create,
    "DropStmt": _drop,
    "DropdbStmt": _dropdb,
    "RenameStmt": _rename,
    "TruncateStmt": _truncate,
    "DeleteStmt": _delete,
    "UpdateStmt": _update,
    "IndexStmt": _index,
    "AlterTableStmt": _alter,
}
