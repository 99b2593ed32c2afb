"""Reading a migration's Python source with `ast`, never importing it: call names and arguments, literal
strings (also through a module-level constant), and SQL strings with the line each starts on."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import dataclass

MAX_SHOWN = 80


def call_name(node: ast.AST) -> str | None:
    """`migrations.RemoveField(...)` -> `RemoveField`; `op.drop_column(...)` -> `drop_column`."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def receiver(call: ast.Call) -> str | None:
    """What a method is called on, dotted: `op.drop_column` -> `op`, `alembic.op.execute` -> `alembic.op`."""
    if not isinstance(call.func, ast.Attribute):
        return None
    try:
        return ast.unparse(call.func.value)
    except (ValueError, TypeError, AttributeError, RecursionError):  # pragma: no cover - ast.unparse edge
        return None


def argument(call: ast.Call, index: int | None, name: str) -> ast.expr | None:
    """The argument given by keyword `name`, else at position `index` (None: keyword only)."""
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if (
        index is not None
        and index < len(call.args)
        and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1])
    ):
        return call.args[index]
    return None


def has_keyword(call: ast.Call, name: str) -> bool:
    return any(k.arg == name for k in call.keywords)


def constant(node: ast.expr | None) -> object:
    """A literal's value (None for anything else, and for `None` itself)."""
    return node.value if isinstance(node, ast.Constant) else None


def is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_none(node: ast.expr | None) -> bool:
    """Absent, or `None` written out."""
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def integers(call: ast.Call, *names: str) -> list[int]:
    """Integer arguments, by keyword or in order of position: `String(50)`, `Numeric(precision=10, scale=2)`."""
    found = []
    for index, name in enumerate(names):
        value = constant(argument(call, index, name))
        if isinstance(value, int) and not isinstance(value, bool):
            found.append(value)
        else:
            break
    return found


def module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Names the module binds once to an expression at top level (`SQL = "..."`), for RunSQL(SQL)."""
    bound: dict[str, ast.expr] = {}
    twice: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            pairs = [(target, stmt.value) for target in stmt.targets]
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            pairs = [(stmt.target, stmt.value)]
        else:
            continue
        for target, value in pairs:
            if isinstance(target, ast.Name):
                if target.id in bound:
                    twice.add(target.id)
                bound[target.id] = value
    return {name: value for name, value in bound.items() if name not in twice}


@dataclass(frozen=True)
class Sql:
    """SQL text found in Python, with the line its first character is on and the last line of the literal."""

    text: str
    line: int
    last_line: int


def string(node: ast.expr | None, names: dict[str, ast.expr], depth: int = 0) -> Sql | None:
    """A literal string: a constant, `"a" + "b"`, a module constant, or `text("...")`/`sa.text("...")`."""
    if node is None or depth > 8:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return Sql(node.value, node.lineno, node.end_lineno or node.lineno)
    if isinstance(node, ast.Name) and node.id in names:
        return string(names[node.id], names, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = string(node.left, names, depth + 1), string(node.right, names, depth + 1)
        if left is not None and right is not None:
            return Sql(left.text + right.text, left.line, max(left.last_line, right.last_line))
    if call_name(node) == "text" and isinstance(node, ast.Call) and len(node.args) == 1:
        return string(node.args[0], names, depth + 1)
    if call_name(node) in ("bindparams", "columns") and isinstance(
        node, ast.Call
    ):  # text("...").bindparams(x=1)
        assert isinstance(node.func, ast.Attribute)
        return string(node.func.value, names, depth + 1)
    return None


def sql_list(node: ast.expr | None, names: dict[str, ast.expr], depth: int = 0) -> list[Sql] | None:
    """RunSQL's `sql`: a string, or a list of strings or of (sql, params) pairs; None when any part is not
    written out literally."""
    if node is None:
        return []
    if isinstance(node, ast.Name) and node.id in names and depth < 8:
        return sql_list(names[node.id], names, depth + 1)
    if isinstance(node, ast.List | ast.Tuple):
        found: list[Sql] = []
        for item in node.elts:
            if isinstance(item, ast.Tuple | ast.List) and item.elts:
                item = item.elts[0]
            one = string(item, names, depth + 1)
            if one is None:
                return None
            found.append(one)
        return found
    one = string(node, names, depth + 1)
    return None if one is None else [one]


class _Literals(ast.NodeTransformer):
    """Every string, bytes and f-string literal replaced by `'…'`."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant("…") if isinstance(node.value, str | bytes) else node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return ast.Constant("…")


def shown(node: ast.AST) -> str:
    """Source text of a node, cut to fit one line of a report, its string literals shown as `'…'`: a migration's
    strings may hold a password or a key, and what reaches a report says what the code does, not its data."""
    try:
        text = " ".join(ast.unparse(_Literals().visit(copy.deepcopy(node))).split())
    except (ValueError, TypeError, AttributeError, RecursionError):  # pragma: no cover - ast.unparse edge
        return type(node).__name__
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def calls_in_order(node: ast.AST) -> Iterator[ast.Call]:
    """Every call in an expression or statement, in source order."""
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
    yield from sorted(calls, key=lambda c: (c.lineno, c.col_offset))


def name_string(node: ast.expr | None) -> str | None:
    value = constant(node)
    return value if isinstance(value, str) else None
