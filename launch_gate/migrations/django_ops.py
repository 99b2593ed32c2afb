"""Django migrations read with `ast`: the operations list of `class Migration`, judged one by one.

RemoveField, DeleteModel, RenameField, RenameModel and AlterModelTable lose data or break the running
release; AlterField is judged against the field's earlier definition (from the app's earlier migrations: a
narrower type, or NULL allowed before and not now without a default); RunSQL's SQL is parsed; on PostgreSQL,
AddIndex, AddConstraint and a new ForeignKey lock the table (AddIndexConcurrently and AddConstraintNotValid do
not). Operations on a model the same migration creates are harmless. RunPython and custom operations are not
judged. SeparateDatabaseAndState's `state_operations` never touch the database, so only its
`database_operations` are judged.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from launch_gate.migrations.coltypes import ColumnType, column_type, narrows
from launch_gate.migrations.model import POSTGRESQL, Risk, Scope
from launch_gate.migrations.pyast import (
    argument,
    call_name,
    constant,
    is_none,
    is_true,
    module_constants,
    name_string,
    shown,
    sql_list,
)
from launch_gate.migrations.sql_ops import read_sql
from launch_gate.migrations.sqltext import without_bom

FOREIGN_KEYS = frozenset({"ForeignKey", "OneToOneField"})
# Modules a migration imports its operations from, by name (`from django.db.migrations import RemoveField as RF`).
OPERATION_MODULES = ("django.db.migrations", "django.contrib.postgres.operations")
TOGETHER = {"AlterUniqueTogether": "unique_together", "AlterIndexTogether": "index_together"}


def aliases(tree: ast.Module) -> dict[str, str]:
    """Operations imported under a name of their own: `RF` -> `RemoveField`."""
    found: dict[str, str] = {}
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.ImportFrom) and (stmt.module or "").startswith(OPERATION_MODULES):
            found.update({a.asname: a.name for a in stmt.names if a.asname})
    return found


def operation_name(op: ast.Call, names: dict[str, str]) -> str | None:
    """`migrations.RemoveField(...)`, `m.RemoveField(...)` and `RF(...)` (imported as RF) are all RemoveField."""
    name = call_name(op)
    if isinstance(op.func, ast.Name) and name in names:
        return names[name]
    return name


def migration_class(tree: ast.Module) -> ast.ClassDef | None:
    """The module's top-level `class Migration`, if it is a Django migration."""
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Migration":
            return stmt
    return None


def operations(cls: ast.ClassDef) -> ast.expr | None:
    """The value of `operations = [...]` in the class body (None: not set, which Django reads as none)."""
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "operations" for t in stmt.targets
        ):
            return stmt.value
        if isinstance(stmt, ast.AnnAssign) and getattr(stmt.target, "id", None) == "operations":
            return stmt.value
    return None


def _text(call: ast.Call, index: int, name: str) -> str:
    return name_string(argument(call, index, name)) or "?"


def field_type(call: ast.expr | None) -> ColumnType | None:
    """A field's column type: `models.CharField(max_length=50)` is varchar(50)."""
    if not isinstance(call, ast.Call):
        return None
    name = call_name(call) or "?"
    text = shown(call)
    if name == "CharField" and argument(call, None, "max_length") is None:
        return column_type("text", (), text)  # Django 4.2+: an unbounded varchar on PostgreSQL
    if name == "DecimalField":
        return column_type("decimal", integers_kw(call, "max_digits", "decimal_places"), text)
    sizes = integers_kw(call, "max_length")
    return column_type(name, sizes, text)


def integers_kw(call: ast.Call, *names: str) -> list[int]:
    found = []
    for name in names:
        value = constant(argument(call, None, name))
        if isinstance(value, int) and not isinstance(value, bool):
            found.append(value)
    return found


def together(node: ast.expr | None) -> set[tuple[str, ...]] | None:
    """`unique_together`/`index_together` as written: a set of field-name tuples (one tuple alone is the set of
    it); None when not written out literally."""
    if node is None or is_none(node):
        return set()
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    items = list(value) if isinstance(value, set | list | tuple | frozenset) else None
    if items is None:
        return None
    if items and all(isinstance(i, str) for i in items):
        items = [tuple(items)]
    if not all(isinstance(i, tuple | list) and all(isinstance(f, str) for f in i) for i in items):
        return None
    return {tuple(i) for i in items}


@dataclass
class Fields:
    """The fields Django's migration state holds, by (model, field), as each migration leaves them, and each
    model's unique_together and index_together."""

    calls: dict[tuple[str, str], ast.Call] = field(default_factory=dict)
    groups: dict[tuple[str, str], set[tuple[str, ...]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def apply(self, op: ast.Call) -> None:
        name = operation_name(op, self.names)
        if name == "CreateModel":
            model = _text(op, 0, "name").lower()
            fields = argument(op, 1, "fields")
            for item in fields.elts if isinstance(fields, ast.List | ast.Tuple) else []:
                if isinstance(item, ast.Tuple) and len(item.elts) == 2 and isinstance(item.elts[1], ast.Call):
                    self.calls[(model, name_string(item.elts[0]) or "?")] = item.elts[1]
            options = argument(op, 2, "options")
            if isinstance(options, ast.Dict):
                for key, value in zip(options.keys, options.values, strict=False):
                    option = name_string(key) or ""
                    if option in TOGETHER.values() and (groups := together(value)) is not None:
                        self.groups[(model, option)] = groups
        elif name in TOGETHER:
            option = TOGETHER[name]
            groups = together(argument(op, 1, option))
            model = _text(op, 0, "name").lower()
            if groups is None:
                self.groups.pop((model, option), None)
            else:
                self.groups[(model, option)] = groups
        elif name in ("AddField", "AlterField"):
            definition = argument(op, 2, "field")
            if isinstance(definition, ast.Call):
                self.calls[(_text(op, 0, "model_name").lower(), _text(op, 1, "name"))] = definition
        elif name == "RemoveField":
            self.calls.pop((_text(op, 0, "model_name").lower(), _text(op, 1, "name")), None)
        elif name == "RenameField":
            model = _text(op, 0, "model_name").lower()
            moved = self.calls.pop((model, _text(op, 1, "old_name")), None)
            if moved is not None:
                self.calls[(model, _text(op, 2, "new_name"))] = moved
        elif name in ("DeleteModel", "RenameModel"):
            self._model(op, name)
        elif name == "SeparateDatabaseAndState":
            for inner in _calls(argument(op, 1, "state_operations")):
                self.apply(inner)

    def _model(self, op: ast.Call, name: str) -> None:
        old = _text(op, 0, "name" if name == "DeleteModel" else "old_name").lower()
        new = _text(op, 1, "new_name").lower() if name == "RenameModel" else None
        for key in [k for k in self.calls if k[0] == old]:
            moved = self.calls.pop(key)
            if new is not None:
                self.calls[(new, key[1])] = moved

    def learn(self, texts: Iterable[str]) -> None:
        """Replay the app's earlier migrations (any that cannot be read are left out)."""
        for text in texts:
            try:
                tree = ast.parse(without_bom(text))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            cls = migration_class(tree)
            self.names = aliases(tree)
            for op in _calls(operations(cls) if cls else None):
                self.apply(op)
        self.names = {}


def _calls(node: ast.expr | None) -> list[ast.Call]:
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else []
    return [item for item in items if isinstance(item, ast.Call)]


@dataclass
class Reader:
    """One Django migration: its dialect, module constants, and the app's history (read on first need)."""

    dialect: str
    names: dict[str, ast.expr]
    earlier: Callable[[], Iterable[str]]
    aliases: dict[str, str] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)
    models: set[str] = field(default_factory=set)  # created by this migration
    seen: list[ast.Call] = field(default_factory=list)  # this migration's operations so far, for the state
    _fields: Fields | None = None

    @property
    def fields(self) -> Fields:
        """The fields as the app's earlier migrations and this one's operations so far leave them."""
        if self._fields is None:
            self._fields = Fields()
            self._fields.learn(self.earlier())
            self._fields.names = self.aliases
            for op in self.seen:
                self._fields.apply(op)
        return self._fields

    def read(self, ops: ast.expr | None, state: bool = True) -> Iterator[Risk]:
        """Judge each operation; with `state`, each also changes the migration state (not so for the
        `database_operations` of SeparateDatabaseAndState)."""
        if ops is None:
            return
        if not isinstance(ops, ast.List | ast.Tuple):
            detail = "the operations are not a list written out in the migration, so they cannot be checked"
            yield Risk("unchecked", ops.lineno, f"operations = {shown(ops)}", detail)
            return
        for op in ops.elts:
            yield from self.operation(op, state)

    def operation(self, op: ast.expr, state: bool) -> Iterator[Risk]:
        if not isinstance(op, ast.Call):
            yield Risk("unchecked", op.lineno, shown(op), "an operation not written out in the migration")
            return
        name = operation_name(op, self.aliases) or "?"
        judge = JUDGES.get(name)
        if judge is not None:
            yield from judge(self, op)
        if name == "CreateModel":
            self.models.add(_text(op, 0, "name").lower())
        if state:
            self.seen.append(op)
            if self._fields is not None:
                self._fields.apply(op)

    def new(self, op: ast.Call, index: int, name: str) -> bool:
        return _text(op, index, name).lower() in self.models


def _remove_field(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    if not reader.new(op, 0, "model_name"):
        yield Risk(
            "drop-column", op.lineno, f"RemoveField {_text(op, 0, 'model_name')}.{_text(op, 1, 'name')}"
        )


def _delete_model(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    if not reader.new(op, 0, "name"):
        yield Risk("drop-table", op.lineno, f"DeleteModel {_text(op, 0, 'name')}")


def _rename_field(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    if not reader.new(op, 0, "model_name"):
        model = _text(op, 0, "model_name")
        what = f"RenameField {model}.{_text(op, 1, 'old_name')} to {_text(op, 2, 'new_name')}"
        yield Risk("rename-column", op.lineno, what)


def _rename_model(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    if not reader.new(op, 0, "old_name"):
        yield Risk(
            "rename-table", op.lineno, f"RenameModel {_text(op, 0, 'old_name')} to {_text(op, 1, 'new_name')}"
        )


def _alter_model_table(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    """AlterModelTable renames the model's table."""
    if not reader.new(op, 0, "name"):
        table = argument(op, 1, "table")
        what = f"AlterModelTable {_text(op, 0, 'name')} to {name_string(table) or shown(table or ast.Constant(None))}"
        yield Risk("rename-table", op.lineno, what)


def _has_default(call: ast.Call) -> bool:
    """A default that fills a NULL: `default=None` (or `db_default=None`) fills nothing."""
    return any(not is_none(argument(call, None, k)) for k in ("default", "db_default"))


def _alter_field(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    if reader.new(op, 0, "model_name"):
        return
    model, name = _text(op, 0, "model_name"), _text(op, 1, "name")
    new = argument(op, 2, "field")
    what = f"AlterField {model}.{name}"
    if not isinstance(new, ast.Call):
        yield Risk("unchecked", op.lineno, what, "the new field is not written out in the migration")
        return
    old = reader.fields.calls.get((model.lower(), name))
    if reader.dialect == POSTGRESQL:
        yield from _new_index(op, old, new, what)
    if old is None:
        detail = ("its earlier definition is not in the app's earlier migrations, so a narrower type or a new "
                  "NOT NULL cannot be ruled out")  # fmt: skip
        yield Risk("narrow-type", op.lineno, what, detail)
        return
    if (
        is_true(argument(old, None, "null"))
        and not is_true(argument(new, None, "null"))
        and not _has_default(new)
    ):
        yield Risk("not-null", op.lineno, f"{what} null=True to NOT NULL without a default")
    before, after = field_type(old), field_type(new)
    if before is not None and after is not None and narrows(before, after) is not False:
        yield Risk("narrow-type", op.lineno, f"{what} from {before.shown} to {after.shown}")


def _add_field(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    if reader.new(op, 0, "model_name"):
        return
    model, name = _text(op, 0, "model_name"), _text(op, 1, "name")
    new = argument(op, 2, "field")
    if not isinstance(new, ast.Call) or call_name(new) == "ManyToManyField":
        return
    if not is_true(argument(new, None, "null")) and not _has_default(new) and not _auto(new):
        yield Risk("not-null", op.lineno, f"AddField {model}.{name} NOT NULL without a default",
                   "a NOT NULL column without a default cannot be added to a table that has rows")  # fmt: skip
    if reader.dialect == POSTGRESQL:
        yield from _new_index(op, None, new, f"AddField {model}.{name}")


def _indexed(call: ast.Call) -> str | None:
    """Which index a field's definition asks Django to build: `unique`, `db_index`, a key's own, or None."""
    if is_true(argument(call, None, "primary_key")) or is_true(argument(call, None, "unique")):
        return "unique"
    if is_true(argument(call, None, "db_index")):
        return "db_index"
    return None


def _new_index(op: ast.Call, old: ast.Call | None, new: ast.Call, what: str) -> Iterator[Risk]:
    """The index (and, for a new foreign key, the constraint) Django builds for the field as it now is, unless
    the field had it already: built without CONCURRENTLY, it blocks writes to the table."""
    if call_name(new) in FOREIGN_KEYS and (old is None or call_name(old) not in FOREIGN_KEYS):
        yield from _foreign_key(op, new, f"{what} {call_name(new)}")
        return
    index = _indexed(new)
    if index is None or call_name(new) in FOREIGN_KEYS:
        return
    before = _indexed(old) if old is not None else None
    if before == "unique" or before == index:
        return
    detail = ("Django builds the index without CONCURRENTLY, blocking writes to the table; add the field without "
              f"{index}=True, then AddIndexConcurrently (for unique, a unique index built CONCURRENTLY and the "
              "constraint added USING INDEX)")  # fmt: skip
    yield Risk("blocking-index", op.lineno, f"{what} {index}=True", detail)


def _foreign_key(op: ast.Call, field_call: ast.Call, what: str) -> Iterator[Risk]:
    """A new ForeignKey: Django adds its constraint validated and builds its index without CONCURRENTLY,
    unless told not to (`db_constraint=False`, `db_index=False`)."""
    if constant(argument(field_call, None, "db_constraint")) is not False:
        detail = (
            "Django adds the foreign key validated, scanning every row under a lock on both tables; add it with "
            "db_constraint=False and add the constraint NOT VALID in SQL, then VALIDATE it"
        )
        yield Risk("validating-constraint", op.lineno, what, detail)
    elif constant(argument(field_call, None, "db_index")) is not False:
        detail = (
            "Django builds the key's index without CONCURRENTLY; use db_index=False and AddIndexConcurrently"
        )
        yield Risk("blocking-index", op.lineno, what, detail)


def _auto(call: ast.Call) -> bool:
    """A field the database or Django fills for existing rows: a serial key, a generated column, a timestamp."""
    name = call_name(call) or ""
    return (
        name.endswith("AutoField")
        or name == "GeneratedField"
        or any(is_true(argument(call, None, k)) for k in ("auto_now", "auto_now_add"))
    )


def _add_index(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    if reader.dialect == POSTGRESQL and not reader.new(op, 0, "model_name"):
        index = argument(op, 1, "index")
        named = name_string(argument(index, None, "name")) if isinstance(index, ast.Call) else None
        yield Risk(
            "blocking-index",
            op.lineno,
            f"AddIndex {_text(op, 0, 'model_name')} {named or (shown(index) if index else '')}".strip(),
        )


def _add_constraint(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    if reader.dialect != POSTGRESQL or reader.new(op, 0, "model_name"):
        return
    constraint = argument(op, 1, "constraint")
    what = f"AddConstraint {_text(op, 0, 'model_name')} {shown(constraint) if constraint else ''}".strip()
    if call_name(constraint or ast.Constant(None)) == "CheckConstraint":
        yield Risk("validating-constraint", op.lineno, what, "the check is validated on every row under an "
                   "exclusive lock; use AddConstraintNotValid, then ValidateConstraint")  # fmt: skip
    else:
        yield Risk("blocking-index", op.lineno, what, "a unique or exclusion constraint builds its index while "
                   "blocking writes to the table")  # fmt: skip


def _together(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    """AlterUniqueTogether/AlterIndexTogether: each new group of fields is an index built without
    CONCURRENTLY."""
    if reader.dialect != POSTGRESQL or reader.new(op, 0, "name"):
        return
    name = operation_name(op, reader.aliases) or "?"
    option, model = TOGETHER[name], _text(op, 0, "name")
    groups = together(argument(op, 1, option))
    before = reader.fields.groups.get((model.lower(), option), set())
    added = sorted(groups - before) if groups is not None else None
    if added == []:
        return
    shown_groups = ", ".join("(" + ", ".join(g) + ")" for g in added) if added else "(not written out)"
    yield Risk("blocking-index", op.lineno, f"{name} {model} {option} adds {shown_groups}", "each new group "
               "builds its index without CONCURRENTLY, blocking writes to the table; use AddIndexConcurrently "
               "(for unique, a unique index built CONCURRENTLY, then the constraint USING INDEX)")  # fmt: skip


def _run_sql(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    sql = argument(op, 0, "sql")
    pieces = sql_list(sql, reader.names)
    if pieces is None:
        yield Risk("unchecked", op.lineno, f"RunSQL({shown(sql) if sql else ''})", "the SQL is not written out "
                   "in the migration, so it cannot be checked")  # fmt: skip
        return
    for piece in pieces:
        for risk in read_sql(piece.text, reader.dialect, reader.scope, piece.line, piece.last_line):
            yield replace(risk, operation=f"RunSQL {risk.operation}")


def _separate(reader: Reader, op: ast.Call) -> Iterator[Risk]:
    """Only `database_operations` touch the database; `state_operations` change Django's view of it."""
    database = argument(op, 0, "database_operations")
    if database is not None:
        yield from reader.read(database, state=False)


JUDGES: dict[str, Callable[[Reader, ast.Call], Iterator[Risk]]] = {
    "RemoveField": _remove_field,
    "DeleteModel": _delete_model,
    "RenameField": _rename_field,
    "RenameModel": _rename_model,
    "AlterModelTable": _alter_model_table,
    "AlterField": _alter_field,
    "AddField": _add_field,
    "AddIndex": _add_index,
    "AddConstraint": _add_constraint,
    "RunSQL": _run_sql,
    "SeparateDatabaseAndState": _separate,
    "AlterUniqueTogether": _together,
    "AlterIndexTogether": _together,
}


def read_django(
    tree: ast.Module, cls: ast.ClassDef, dialect: str, earlier: Callable[[], Iterable[str]]
) -> list[Risk]:
    """The risky operations of a Django migration, in order."""
    reader = Reader(dialect, module_constants(tree), earlier, aliases(tree), Scope(dialect))
    return list(reader.read(operations(cls)))
