"""Alembic migrations read with `ast`: the calls on `op` (however it is imported: `from alembic import op as
o`, `import alembic.op`), on `batch_op` inside `with op.batch_alter_table(...)`, and on the connection
`op.get_bind()` returns, in `upgrade()` and the module's functions it calls, in order; a multi-database
revision's `upgrade_<engine>()` functions too. `downgrade()` is the rollback and is not judged.

drop_table, drop_column, rename_table and alter_column(new_column_name=...) lose data or break the running
release; alter_column is judged by what it says of the column before (`existing_type`, `existing_nullable`);
execute's SQL is parsed; on PostgreSQL, create_index without `postgresql_concurrently=True` and constraints
without `postgresql_not_valid=True` lock the table. Calls on a table the same upgrade creates are harmless
(not so with `if_not_exists=True`: the table may be an existing one).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from launch_gate.migrations.coltypes import ColumnType, column_type, narrows
from launch_gate.migrations.model import POSTGRESQL, Risk, Scope, Table
from launch_gate.migrations.pyast import (
    argument,
    call_name,
    calls_in_order,
    integers,
    is_none,
    is_true,
    module_constants,
    name_string,
    receiver,
    shown,
    string,
)
from launch_gate.migrations.sql_ops import read_sql

# Each operation's positional parameters on `op`; on a batch the table parameter is left out.
PARAMS = {
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "drop_column": ("table_name", "column_name"),
    "rename_table": ("old_table_name", "new_table_name"),
    "alter_column": ("table_name", "column_name"),
    "add_column": ("table_name", "column"),
    "create_index": ("index_name", "table_name", "columns"),
    "create_foreign_key": ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "execute": ("sqltext",),
}
TABLE_PARAMS = frozenset({"table_name", "source_table"})
# What a connection runs SQL with: `op.get_bind().execute(text("..."))`, `conn.exec_driver_sql("...")`.
CONNECTION_CALLS = frozenset({"execute", "exec_driver_sql"})
_NOT_NULL_CHECK = re.compile(r'^\s*\(?\s*"?([A-Za-z_]\w*)"?\s+IS\s+NOT\s+NULL\s*\)?\s*$', re.IGNORECASE)


def upgrade_function(tree: ast.Module) -> ast.FunctionDef | None:
    """The module's top-level `def upgrade()`, if it is an Alembic revision."""
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "upgrade":
            return stmt
    return None


def op_names(tree: ast.Module) -> frozenset[str]:
    """What the module calls Alembic's `op`: `op`, `alembic.op`, and any alias it imports it as."""
    names = {"op", "alembic.op"}
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "alembic":
            names.update(a.asname or a.name for a in stmt.names if a.name == "op")
        elif isinstance(stmt, ast.Import):
            names.update(a.asname for a in stmt.names if a.name == "alembic.op" and a.asname)
    return frozenset(names)


def sa_type(node: ast.expr | None) -> ColumnType | None:
    """A SQLAlchemy type as a column type: `sa.String(length=50)`, `sa.Integer()`, `postgresql.UUID`."""
    if node is None or is_none(node):
        return None
    if isinstance(node, ast.Call):
        name = call_name(node) or "?"
        sizes = integers(node, "length") if name.lower() not in ("numeric", "decimal") else []
        if name.lower() in ("numeric", "decimal"):
            sizes = integers(node, "precision", "scale")
        return column_type(name, sizes, shown(node))
    if isinstance(node, ast.Name | ast.Attribute):
        text = shown(node)
        return column_type(text, (), text)
    return None


@dataclass(frozen=True)
class Batch:
    """A `with op.batch_alter_table(table, schema=...) as batch_op:` block's table."""

    table: str
    schema: str | None = None


@dataclass
class Call:
    """One call on `op` or on a batch: its operation, arguments and table (a batch's own table)."""

    node: ast.Call
    name: str
    batch: Batch | None = None

    def arg(self, param: str) -> ast.expr | None:
        params = [p for p in PARAMS.get(self.name, ()) if not (self.batch and p in TABLE_PARAMS)]
        index = params.index(param) if param in params else None
        return argument(self.node, index, param)

    @property
    def table(self) -> str:
        if self.batch is not None:
            return self.batch.table
        for param in PARAMS.get(self.name, ()):
            if param in TABLE_PARAMS:
                return name_string(self.arg(param)) or "?"
        return "?"

    def key(self, scope: Scope) -> Table:
        """The table as the scope knows it, in the call's `schema=` (or the batch's)."""
        schema = self.batch.schema if self.batch is not None else None
        return scope.table(self.table, name_string(argument(self.node, None, "schema")) or schema)

    @property
    def where(self) -> str:
        return "batch_op" if self.batch is not None else "op"


@dataclass
class Reader:
    dialect: str
    names: dict[str, ast.expr]
    ops: frozenset[str] = frozenset({"op", "alembic.op"})
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)
    connections: set[str] = field(default_factory=set)
    entered: set[str] = field(default_factory=set)  # the module's functions read so far

    def function(self, name: str) -> Iterator[Risk]:
        """A module-level function's body, read where it is called (once: no recursion)."""
        if name in self.entered or name not in self.functions:
            return
        self.entered.add(name)
        yield from self.statements(self.functions[name].body, {})

    def statements(self, body: list[ast.stmt], batches: dict[str, Batch]) -> Iterator[Risk]:
        """Every op call in the statements, in order; a `with op.batch_alter_table(t) as b:` binds `b` to
        `t` inside its body, and `conn = op.get_bind()` makes `conn` a connection."""
        for stmt in body:
            inner = (
                {**batches, **_batch_names(stmt)} if isinstance(stmt, ast.With | ast.AsyncWith) else batches
            )
            for name, value in ast.iter_fields(stmt):
                if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                    yield from self.statements(value, inner if name == "body" else batches)
                elif isinstance(value, list) and value and isinstance(value[0], ast.excepthandler):
                    for handler in value:
                        yield from self.statements(handler.body, batches)
                elif isinstance(value, list) and value and isinstance(value[0], ast.withitem):
                    for item in value:
                        yield from self.expression(item.context_expr, batches)
                        self._bind(item.optional_vars, item.context_expr)
                elif isinstance(value, ast.expr):
                    yield from self.expression(value, batches)
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    self._bind(target, stmt.value)

    def _bind(self, target: ast.expr | None, value: ast.expr) -> None:
        if isinstance(target, ast.Name) and self.is_connection(value):
            self.connections.add(target.id)

    def is_connection(self, node: ast.expr) -> bool:
        """`op.get_bind()`, `op.get_context().connection`, a name bound to one, `bind.connect()`."""
        if isinstance(node, ast.Name):
            return node.id in self.connections
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            on = node.func.value
            if node.func.attr == "get_bind":
                return shown(on) in self.ops
            return node.func.attr in ("connect", "begin") and self.is_connection(on)
        if isinstance(node, ast.Attribute) and node.attr == "connection":
            value = node.value
            return (
                call_name(value) == "get_context"
                and isinstance(value, ast.Call)
                and receiver(value) in self.ops
            )
        return False

    def expression(self, node: ast.expr, batches: dict[str, Batch]) -> Iterator[Risk]:
        for node_call in calls_in_order(node):
            on, name = receiver(node_call), call_name(node_call)
            if isinstance(node_call.func, ast.Name) and node_call.func.id in self.functions:
                yield from self.function(node_call.func.id)
            elif (
                isinstance(node_call.func, ast.Attribute)
                and name in CONNECTION_CALLS
                and (self.is_connection(node_call.func.value))
            ):
                yield from self.execute(Call(node_call, "execute"), "bind")
            elif name not in PARAMS or on is None:
                continue
            elif on in self.ops:
                yield from self.call(Call(node_call, name))
            elif on in batches:
                yield from self.call(Call(node_call, name, batches[on]))

    def call(self, call: Call) -> Iterator[Risk]:
        if call.name == "create_table":
            if not is_true(argument(call.node, None, "if_not_exists")):
                self.scope.created.add(call.key(self.scope))
            return
        if call.name == "execute":
            yield from self.execute(call, call.where)
            return
        if call.name == "rename_table":
            old = name_string(call.arg("old_table_name")) or "?"
            if not self.scope.is_new(call.key(self.scope)):
                new = name_string(call.arg("new_table_name")) or "?"
                yield Risk("rename-table", call.node.lineno, f"op.rename_table {old} to {new}")
            return
        if self.scope.is_new(call.key(self.scope)):
            return
        judge = JUDGES.get(call.name)
        if judge is not None:
            yield from judge(self, call)

    def execute(self, call: Call, where: str) -> Iterator[Risk]:
        sql = string(call.arg("sqltext"), self.names)
        if sql is None:
            argument_node = call.arg("sqltext")
            what = f"{where}.execute({shown(argument_node) if argument_node else ''})"
            yield Risk("unchecked", call.node.lineno, what, "the SQL is not written out in the migration, so "
                       "it cannot be checked")  # fmt: skip
            return
        for risk in read_sql(sql.text, self.dialect, self.scope, sql.line, sql.last_line):
            yield replace(risk, operation=f"{where}.execute {risk.operation}")


def _batch_names(stmt: ast.With | ast.AsyncWith) -> dict[str, Batch]:
    names = {}
    for item in stmt.items:
        context = item.context_expr
        if call_name(context) == "batch_alter_table" and isinstance(item.optional_vars, ast.Name):
            assert isinstance(context, ast.Call)
            table = name_string(argument(context, 0, "table_name")) or "?"
            names[item.optional_vars.id] = Batch(table, name_string(argument(context, 1, "schema")))
    return names


def _drop_table(reader: Reader, call: Call) -> Iterator[Risk]:
    yield Risk("drop-table", call.node.lineno, f"op.drop_table {call.table}")


def _drop_column(reader: Reader, call: Call) -> Iterator[Risk]:
    column = name_string(call.arg("column_name")) or "?"
    yield Risk("drop-column", call.node.lineno, f"{call.where}.drop_column {call.table}.{column}")


def _alter_column(reader: Reader, call: Call) -> Iterator[Risk]:
    node, line = call.node, call.node.lineno
    column = name_string(call.arg("column_name")) or "?"
    what = f"{call.where}.alter_column {call.table}.{column}"
    renamed = name_string(argument(node, None, "new_column_name"))
    if renamed:
        yield Risk("rename-column", line, f"{what} new_column_name={renamed!r}")
    nullable = argument(node, None, "nullable")
    existing_nullable = argument(node, None, "existing_nullable")
    was_not_null = isinstance(existing_nullable, ast.Constant) and existing_nullable.value is False
    becomes_not_null = isinstance(nullable, ast.Constant) and nullable.value is False and not was_not_null
    if becomes_not_null and not reader.scope.prepared(call.key(reader.scope), column):
        yield Risk("not-null", line, f"{what} nullable=False without a backfill first", "the migration "
                       "fails on any NULL after scanning the table under an exclusive lock; a server_default "
                       "fills new rows only")  # fmt: skip
    new_type = argument(node, None, "type_")
    if not is_none(new_type):
        yield from _type_change(what, line, sa_type(argument(node, None, "existing_type")), sa_type(new_type))


def _type_change(what: str, line: int, before: ColumnType | None, after: ColumnType | None) -> Iterator[Risk]:
    if after is None:
        return
    if before is None:
        if not (after.family == "text" and after.size is None):
            detail = ("without existing_type= the old type is unknown, so a narrowing cannot be ruled out (and "
                      "most type changes rewrite the table under an exclusive lock)")  # fmt: skip
            yield Risk("narrow-type", line, f"{what} type_={after.shown}", detail)
        return
    if narrows(before, after) is not False:
        yield Risk("narrow-type", line, f"{what} from {before.shown} to {after.shown}")


def _add_column(reader: Reader, call: Call) -> Iterator[Risk]:
    column = call.arg("column")
    if not isinstance(column, ast.Call) or call_name(column) != "Column":
        return
    name = name_string(argument(column, 0, "name")) or "?"
    what = f"{call.where}.add_column {call.table}.{name}"
    nullable = argument(column, None, "nullable")
    not_null = (isinstance(nullable, ast.Constant) and nullable.value is False) or (
        nullable is None and is_true(argument(column, None, "primary_key"))
    )
    if not is_none(argument(column, None, "server_default")):
        reader.scope.filled.add((call.key(reader.scope), name))
    elif not_null:
        yield Risk("not-null", call.node.lineno, f"{what} nullable=False without a server_default",
                   "a NOT NULL column without a default cannot be added to a table that has rows")  # fmt: skip
    if reader.dialect == POSTGRESQL and any(call_name(a) == "ForeignKey" for a in column.args):
        yield Risk("validating-constraint", call.node.lineno, f"{what} with a ForeignKey", "the foreign key is "
                   "added validated, scanning every row while holding a lock on both tables")  # fmt: skip


def _name(node: ast.expr | None) -> str:
    """An index or constraint name as written: `"ix_users_email"`, `op.f("ix_users_email")`."""
    if node is None or is_none(node):
        return "(unnamed)"
    return name_string(node) or shown(node)


def _create_index(reader: Reader, call: Call) -> Iterator[Risk]:
    if reader.dialect != POSTGRESQL or is_true(argument(call.node, None, "postgresql_concurrently")):
        return
    name = _name(call.arg("index_name"))
    yield Risk(
        "blocking-index",
        call.node.lineno,
        f"{call.where}.create_index {name} on {call.table}",
    )


def _constraint(reader: Reader, call: Call) -> Iterator[Risk]:
    if reader.dialect != POSTGRESQL:
        return
    name = _name(call.arg("constraint_name"))
    what = f"{call.where}.{call.name} {name} on {call.table}"
    if call.name in ("create_unique_constraint", "create_primary_key"):
        yield Risk("blocking-index", call.node.lineno, what, "the constraint builds its index while blocking "
                   "writes; create the index with postgresql_concurrently=True, then add the constraint USING "
                   "INDEX (op.execute)")  # fmt: skip
    else:
        valid = not is_true(argument(call.node, None, "postgresql_not_valid"))
        if call.name == "create_check_constraint":
            _not_null_check(reader, call, valid)
        if valid:
            yield Risk("validating-constraint", call.node.lineno, f"{what} without postgresql_not_valid=True")


def _not_null_check(reader: Reader, call: Call, valid: bool) -> None:
    """`create_check_constraint(name, table, "col IS NOT NULL")`: a proof, once valid, that col holds no NULL."""
    condition = name_string(call.arg("condition"))
    match = _NOT_NULL_CHECK.match(condition or "")
    if match:
        name = name_string(call.arg("constraint_name")) or ""
        reader.scope.check_not_null(call.key(reader.scope), name, match[1], valid)


JUDGES = {
    "drop_table": _drop_table,
    "drop_column": _drop_column,
    "alter_column": _alter_column,
    "add_column": _add_column,
    "create_index": _create_index,
    "create_foreign_key": _constraint,
    "create_check_constraint": _constraint,
    "create_unique_constraint": _constraint,
    "create_primary_key": _constraint,
}


def read_alembic(tree: ast.Module, upgrade: ast.FunctionDef, dialect: str) -> list[Risk]:
    """The risky operations of an Alembic revision's upgrade(), in order."""
    functions = {
        stmt.name: stmt
        for stmt in tree.body
        if isinstance(stmt, ast.FunctionDef) and not stmt.name.startswith(("upgrade", "downgrade"))
    }
    engines = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name.startswith("upgrade_")]
    functions.update({stmt.name: stmt for stmt in engines})
    reader = Reader(dialect, module_constants(tree), op_names(tree), functions, Scope(dialect))
    risks = list(reader.statements(upgrade.body, {}))
    for engine in engines:  # a multi-database revision: upgrade(engine_name) calls upgrade_<engine>()
        risks += reader.function(engine.name)
    return risks
