"""Reading Python source without running it (`ast` only): which environment variables it reads, whether a
read has a default, and what a simple path expression (`BASE_DIR / "staticfiles"`) comes to."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# django-environ: a call that names no variable reads these; methods whose default is the third argument.
ENVIRON_DEFAULT_NAMES = {
    "db": "DATABASE_URL",
    "db_url": "DATABASE_URL",
    "cache": "CACHE_URL",
    "cache_url": "CACHE_URL",
    "email": "EMAIL_URL",
    "email_url": "EMAIL_URL",
    "search_url": "SEARCH_URL",
}
_DEFAULT_THIRD = frozenset({"__call__", "list", "tuple", "dict"})


@dataclass(frozen=True)
class EnvRead:
    """One read of an environment variable; `required`: without it the app fails (no default given)."""

    name: str
    required: bool


def parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_environ(node: ast.expr) -> bool:
    """`os.environ` or a bare `environ` (from os import environ)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _has_default(call: ast.Call, position: int) -> bool:
    return len(call.args) > position or any(k.arg == "default" for k in call.keywords)


def _decouple_names(tree: ast.Module) -> frozenset[str]:
    """Names bound to python-decouple's `config` (`from decouple import config`)."""
    return frozenset(
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "decouple"
        for alias in node.names
        if alias.name == "config"
    )


def _environ_scheme(tree: ast.Module) -> frozenset[str]:
    """Variables given a default in `environ.Env(NAME=(type, default))`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("environ.Env", "Env"):
            for keyword in node.keywords:
                if keyword.arg and isinstance(keyword.value, ast.Tuple) and len(keyword.value.elts) == 2:
                    names.add(keyword.arg)
    return frozenset(names)


def _read_of(node: ast.AST, decouple: frozenset[str], scheme: frozenset[str]) -> EnvRead | None:
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value):
        name = _literal(node.slice)
        return EnvRead(name, True) if name else None
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    first = _literal(node.args[0]) if node.args else None
    if isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value):
        return EnvRead(first, not _has_default(node, 1)) if first else None
    if ast.unparse(func) in ("os.getenv", "getenv"):
        return EnvRead(first, not _has_default(node, 1)) if first else None
    if isinstance(func, ast.Name) and func.id in decouple:
        return EnvRead(first, not _has_default(node, 1)) if first else None
    method = "__call__" if isinstance(func, ast.Name) and func.id == "env" else None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env":
        method = func.attr
    if method is None:
        return None
    name = first or (ENVIRON_DEFAULT_NAMES.get(method) if not node.args else None)
    if name is None:
        return None
    position = 2 if method in _DEFAULT_THIRD else 1
    return EnvRead(name, not _has_default(node, position) and name not in scheme)


def env_reads(tree: ast.AST, module: ast.Module | None = None) -> list[EnvRead]:
    """Every environment variable read under `tree` (`module`: the file it is in, for its imports)."""
    whole = module if module is not None else tree if isinstance(tree, ast.Module) else None
    decouple = _decouple_names(whole) if whole else frozenset()
    scheme = _environ_scheme(whole) if whole else frozenset()
    found = (_read_of(node, decouple, scheme) for node in ast.walk(tree))
    return [read for read in found if read is not None]


def merge(reads: list[EnvRead]) -> tuple[list[str], list[str], int]:
    """Required names, optional names (read only with a default), and how many names were not variable
    names (`os.environ["my-key"]`), in the order first read."""
    required: dict[str, None] = {}
    optional: dict[str, None] = {}
    bad = set()
    for read in reads:
        if not ENV_NAME.match(read.name):
            bad.add(read.name)
        elif read.required:
            required[read.name] = None
    for read in reads:
        if ENV_NAME.match(read.name) and read.name not in required:
            optional[read.name] = None
    return list(required), list(optional), len(bad)


def top_imports(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Every import as (module, level): `import a.b` is ("a.b", 0), `from .x import y` ("x", 1)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


class PathEvaluator:
    """The value of simple path expressions in a module, as Django settings write them: string literals,
    `Path(__file__).resolve().parent.parent`, `os.path.dirname(os.path.abspath(__file__))`, `/`,
    `os.path.join`, `str(...)`, and names assigned earlier in the module. Anything else is unknown (None)."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.names: dict[str, Path | str] = {}

    def run(self, tree: ast.Module) -> Mapping[str, Path | str]:
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = self.value(node.value)
                for target in targets:
                    if isinstance(target, ast.Name):
                        if value is None:
                            self.names.pop(target.id, None)
                        else:
                            self.names[target.id] = value
        return self.names

    def value(self, node: ast.expr) -> Path | str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.file if node.id == "__file__" else self.names.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left, right = self.value(node.left), self.value(node.right)
            return Path(left) / right if isinstance(left, Path) and right is not None else None
        if isinstance(node, ast.Attribute):
            inner = self.value(node.value)
            return Path(inner).parent if node.attr == "parent" and isinstance(inner, Path) else None
        if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith(".parents"):
            base = node.value.value if isinstance(node.value, ast.Attribute) else None
            inner = self.value(base) if base is not None else None
            index = node.slice.value if isinstance(node.slice, ast.Constant) else None
            if isinstance(inner, Path) and isinstance(index, int) and 0 <= index < len(inner.parents):
                return inner.parents[index]
            return None
        if isinstance(node, ast.Call):
            return self.call(node)
        return None

    def call(self, node: ast.Call) -> Path | str | None:
        func = ast.unparse(node.func)
        args = [self.value(a) for a in node.args]
        if node.keywords or any(a is None for a in args):
            return None
        if func in ("Path", "pathlib.Path") and args:
            return Path(*[str(a) for a in args])
        if func in ("str", "os.fspath") and len(args) == 1:
            return args[0]
        if func.endswith((".resolve", ".absolute")) and isinstance(node.func, ast.Attribute) and not args:
            inner = self.value(node.func.value)
            return Path(inner) if inner is not None else None
        if func in ("os.path.abspath", "os.path.realpath", "os.path.normpath") and len(args) == 1:
            return Path(os.path.normpath(str(args[0])))
        if func == "os.path.dirname" and len(args) == 1:
            return Path(str(args[0])).parent
        if func == "os.path.join" and args:
            return Path(*[str(a) for a in args])
        return None
