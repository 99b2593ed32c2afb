"""PostgreSQL migrations read by pglast, PostgreSQL's own parser (libpg_query): data loss (DROP, RENAME,
TRUNCATE, DELETE/UPDATE without WHERE, also inside a `WITH` query, type changes, NOT NULL) and locks on a
busy table (CREATE INDEX without CONCURRENTLY, a foreign key or check constraint without NOT VALID, a unique
or primary key constraint that builds its own index). SQL that only parses with its driver placeholders
(`%s`, `:name`, `?`) read as values is read that way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from launch_gate.migrations.model import Risk, Scope, Table, Unreadable
from launch_gate.migrations.sqltext import (
    Where,
    placeholders_as_values,
    scrub,
    statement_kind,
    type_change,
)


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
        substituted = placeholders_as_values(text)
        if substituted is not None:
            try:
                return tuple(parse_sql(substituted))
            except (ParseError, ValueError, RecursionError, MemoryError):
                pass
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        raise Unreadable(_why(text, exc, offset), where.line(offset)) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise Unreadable(f"PostgreSQL could not parse it: {scrub(str(exc))}", where.first_line) from None


def _why(text: str, exc: Exception, offset: int) -> str:
    """What failed, naming the statement by its keywords only (its text may hold a password)."""
    start = max(text.rfind(";", 0, max(0, min(offset, len(text)))) + 1, 0)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"PostgreSQL could not parse {statement_kind(text[start:])}: {scrub(first)}"


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


def _table(relation: Any, scope: Scope) -> Table:
    if relation is None:
        return ("?", "?")
    return scope.table(relation.relname or "?", relation.schemaname)


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
    for nested in _nested_dml(stmt):  # `WITH gone AS (DELETE FROM users RETURNING *) ...`, EXPLAIN ANALYZE
        yield from NESTED[type(nested).__name__](nested, line, scope)


def _children(node: Any) -> Iterator[Any]:
    from pglast.ast import Node

    for name in getattr(type(node), "__slots__", ()):
        value = getattr(node, name, None)
        for item in value if isinstance(value, tuple | list) else (value,):
            if isinstance(item, Node):
                yield item
            elif isinstance(item, tuple | list):
                yield from (i for i in item if isinstance(i, Node))


def _nested_dml(stmt: Any) -> Iterator[Any]:
    """Every DELETE and UPDATE inside the statement (not the statement itself), in order; not those a rule, a
    function, a trigger or a prepared statement only keeps for later."""
    stack = [] if type(stmt).__name__ in LATER else list(reversed(list(_children(stmt))))
    while stack:
        node = stack.pop()
        if type(node).__name__ in NESTED:
            yield node
        if type(node).__name__ not in LATER:
            stack.extend(reversed(list(_children(node))))


def _create(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    relation = stmt.relation if type(stmt).__name__ == "CreateStmt" else stmt.into.rel
    if not stmt.if_not_exists:  # IF NOT EXISTS may leave an existing table, rows and all, in place
        scope.created.add(_table(relation, scope))
    yield from ()


def _set(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    """`SET search_path`: where unqualified names land from here on."""
    if (stmt.name or "").lower() != "search_path":
        return
    first = (stmt.args or (None,))[0]
    value = getattr(getattr(first, "val", None), "sval", None)
    scope.default_schema = value if isinstance(value, str) and value else "public"
    yield from ()


def _drop(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    from pglast.enums import ObjectType

    kinds = {ObjectType.OBJECT_TABLE: "drop-table", ObjectType.OBJECT_SCHEMA: "drop-schema"}
    kind = kinds.get(stmt.removeType)
    if kind is None:
        return
    for parts in stmt.objects or ():
        names = [getattr(p, "sval", "") for p in (parts if isinstance(parts, tuple) else (parts,))]
        name = ".".join(names)
        if kind == "drop-table" and scope.is_new(
            scope.table(names[-1], names[-2] if len(names) > 1 else None)
        ):
            continue
        what = "TABLE" if kind == "drop-table" else "SCHEMA"
        yield Risk(kind, line, f"DROP {what} {name}")


def _dropdb(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    yield Risk("drop-schema", line, f"DROP DATABASE {stmt.dbname}")


def _rename(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    from pglast.enums import ObjectType

    table = _name(stmt.relation)
    if scope.is_new(_table(stmt.relation, scope)):
        return
    if stmt.renameType == ObjectType.OBJECT_TABLE:
        yield Risk("rename-table", line, f"RENAME TABLE {table} TO {stmt.newname}")
    elif stmt.renameType == ObjectType.OBJECT_COLUMN:
        yield Risk("rename-column", line, f"RENAME COLUMN {table}.{stmt.subname} TO {stmt.newname}")


def _truncate(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    for relation in stmt.relations or ():
        if not scope.is_new(_table(relation, scope)):
            yield Risk("truncate", line, f"TRUNCATE {_name(relation)}")


def _delete(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    table = _name(stmt.relation)
    if stmt.whereClause is None and not scope.is_new(_table(stmt.relation, scope)):
        yield Risk("delete-all", line, f"DELETE FROM {table} (no WHERE)")  # noqa: S608 (a message)


def _is_null_test(where: Any) -> str | None:
    """The column of a `WHERE col IS NULL`, else None."""
    from pglast.enums import NullTestType

    if type(where).__name__ != "NullTest" or where.nulltesttype != NullTestType.IS_NULL:
        return None
    fields = getattr(where.arg, "fields", None) or ()
    return getattr(fields[-1], "sval", None) if fields and type(where.arg).__name__ == "ColumnRef" else None


def _update(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    table = _name(stmt.relation)
    key = _table(stmt.relation, scope)
    columns = [t.name for t in stmt.targetList or () if getattr(t, "name", None)]
    if stmt.whereClause is None:  # every row is set
        scope.backfill(key, columns)
    else:  # `SET col = ... WHERE col IS NULL`: every NULL of col is set
        scope.backfill(key, [c for c in columns if c == _is_null_test(stmt.whereClause)])
    if stmt.whereClause is None and not scope.is_new(key):
        yield Risk("update-all", line, f"UPDATE {table} (no WHERE)")


def _index(stmt: Any, line: int, scope: Scope) -> Iterator[Risk]:
    table = _name(stmt.relation)
    if stmt.concurrent or scope.is_new(_table(stmt.relation, scope)):
        return
    unique = "UNIQUE " if stmt.unique else ""
    yield Risk("blocking-index", line, f"CREATE {unique}INDEX {stmt.idxname or '(unnamed)'} ON {table}")


def _constraints(column: Any) -> list[Any]:
    return list(getattr(column, "constraints", None) or ())


def _add_column(table: str, key: Table, column: Any, line: int, scope: Scope) -> Iterator[Risk]:
    from pglast.enums import ConstrType

    kinds = {c.contype for c in _constraints(column)}
    filled = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}
    if kinds & filled and not _default_is_null(column):
        scope.filled.add((key, column.colname))
    not_null = ConstrType.CONSTR_NOTNULL in kinds or ConstrType.CONSTR_PRIMARY in kinds or column.is_not_null
    if not_null and not kinds & filled:
        yield Risk(
            "not-null",
            line,
            f"ADD COLUMN {table}.{column.colname} NOT NULL",
            "a NOT NULL column without a DEFAULT cannot be added to a table that has rows: the migration fails",
        )
    for constraint in _constraints(column):
        yield from _constraint(table, key, constraint, line, f"ADD COLUMN {table}.{column.colname}", scope)


def _default_is_null(column: Any) -> bool:
    from pglast.enums import ConstrType

    for constraint in _constraints(column):
        if constraint.contype == ConstrType.CONSTR_DEFAULT:
            raw = constraint.raw_expr
            return type(raw).__name__ == "A_Const" and bool(getattr(raw, "isnull", False))
    return False


def _not_null_check(constraint: Any) -> str | None:
    """The column of a `CHECK (col IS NOT NULL)`, else None."""
    from pglast.enums import NullTestType

    expr = constraint.raw_expr
    if type(expr).__name__ != "NullTest" or expr.nulltesttype != NullTestType.IS_NOT_NULL:
        return None
    fields = getattr(expr.arg, "fields", None) or ()
    return getattr(fields[-1], "sval", None) if fields and type(expr.arg).__name__ == "ColumnRef" else None


def _constraint(
    table: str, key: Table, constraint: Any, line: int, operation: str, scope: Scope
) -> Iterator[Risk]:
    from pglast.enums import ConstrType

    kind = constraint.contype
    named = f" {constraint.conname}" if constraint.conname else ""
    if kind == ConstrType.CONSTR_CHECK:
        column = _not_null_check(constraint)
        if column:
            scope.check_not_null(key, constraint.conname or "", column, not constraint.skip_validation)
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
    key = _table(stmt.relation, scope)
    new = scope.is_new(key)
    for cmd in stmt.cmds or ():
        sub, column = cmd.subtype, cmd.name
        if sub == At.AT_ValidateConstraint:
            scope.validate(key, column or "")
        if new:
            if sub == At.AT_AddConstraint:  # a check on a new table still proves its column is not NULL
                list(_constraint(table, key, cmd.def_, line, "", scope))
            continue
        if sub == At.AT_DropColumn:
            yield Risk("drop-column", line, f"DROP COLUMN {table}.{column}")
        elif sub == At.AT_AlterColumnType:
            change = type_change(
                table, key, column or "?", _type(cmd.def_.typeName), line, scope, "ALTER COLUMN"
            )
            yield from [change] if change else []
        elif sub == At.AT_SetNotNull and not scope.prepared(key, column or ""):
            yield Risk(
                "not-null",
                line,
                f"ALTER COLUMN {table}.{column} SET NOT NULL",
                "the column is not backfilled first (a DEFAULT fills new rows only): the table is scanned under "
                "an exclusive lock and the migration fails on any NULL",
            )
        elif sub == At.AT_AddColumn:
            yield from _add_column(table, key, cmd.def_, line, scope)
        elif sub == At.AT_AddConstraint:
            yield from _constraint(table, key, cmd.def_, line, f"ADD CONSTRAINT ON {table}", scope)


HANDLERS = {
    "CreateStmt": _create,
    "CreateTableAsStmt": _create,
    "VariableSetStmt": _set,
    "DropStmt": _drop,
    "DropdbStmt": _dropdb,
    "RenameStmt": _rename,
    "TruncateStmt": _truncate,
    "DeleteStmt": _delete,
    "UpdateStmt": _update,
    "IndexStmt": _index,
    "AlterTableStmt": _alter,
}
# Statements that can hide inside another one (a data-modifying WITH query, EXPLAIN ANALYZE).
NESTED = {"DeleteStmt": _delete, "UpdateStmt": _update}
# Statements that keep others to run later, not now.
LATER = frozenset({"RuleStmt", "CreateFunctionStmt", "CreateTrigStmt", "PrepareStmt"})
