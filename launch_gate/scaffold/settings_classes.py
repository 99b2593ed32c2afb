"""pydantic-settings classes in a project, read with `ast` (the user's code is never imported): the variables
a class needs, and whether launch-gate's own environment could load it for `env.settings-class`."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

from launch_gate.config.settings import defines, module_origin
from launch_gate.scaffold import pysource
from launch_gate.scaffold.tree import read_text, relative, walk

# What the class's module may import for launch-gate's own environment to load it (launch-gate depends on
# pydantic-settings, which brings these): anything else may be missing where the gate runs (the Action,
# pre-commit), so the class is then left for `[env] python`.
AVAILABLE = frozenset(
    {"pydantic", "pydantic_settings", "pydantic_core", "typing_extensions", "annotated_types", "dotenv"}
)
_BASES = frozenset({"BaseSettings", "pydantic_settings.BaseSettings", "pydantic.BaseSettings"})


@dataclass(frozen=True)
class SettingsClass:
    """A pydantic-settings class found in the project."""

    spec: str | None  # module:Class, when the module path is importable from the project root
    file: str  # relative to the root
    name: str
    required: list[str]
    optional: list[str]
    loadable: bool  # launch-gate's own environment can import its module (and packages) as they are
    why_not: str = ""  # when not loadable: the reason, for a comment
    skipped: int = 0  # fields whose variable name could not be told
    notes: list[str] = field(default_factory=list)


def find(root: Path) -> list[SettingsClass]:
    """Every BaseSettings subclass under `root`, the one named `Settings` first."""
    found = []
    for path in walk(root, ".py"):
        text = read_text(path)
        if text is None or "BaseSettings" not in text:
            continue
        tree = pysource.parse(text)
        rel = relative(path, root)
        if tree is None or rel is None:
            continue
        found.extend(_classes(root, path, rel, tree))
    return sorted(found, key=lambda c: (c.name != "Settings", c.file, c.name))


def _classes(root: Path, path: Path, rel: str, tree: ast.Module) -> list[SettingsClass]:
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    chosen = []
    for node in classes.values():
        chain = _chain(node, classes)
        if chain is None:
            continue
        required, optional, skipped = _fields(chain)
        module = _module(rel)
        spec = f"{module}:{node.name}" if module else None
        loadable, why = _loadable(root, path, module, node.name)
        chosen.append(SettingsClass(spec, rel, node.name, required, optional, loadable, why, skipped))
    return chosen


def _chain(node: ast.ClassDef, classes: dict[str, ast.ClassDef], depth: int = 0) -> list[ast.ClassDef] | None:
    """The class and its bases in this module, most derived first, if it is a BaseSettings subclass."""
    if depth > 10:
        return None
    for base in node.bases:
        name = ast.unparse(base)
        if name in _BASES:
            return [node]
        parent = classes.get(name)
        if parent is not None and parent is not node:
            rest = _chain(parent, classes, depth + 1)
            if rest is not None:
                return [node, *rest]
    return None


def _config(chain: list[ast.ClassDef]) -> tuple[str, bool]:
    """env_prefix and case_sensitive, from `model_config = SettingsConfigDict(...)`, a dict, or `class Config`."""
    for node in chain:
        for item in node.body:
            found = _config_of(item)
            if found is not None:
                return found
    return "", False


def _config_of(item: ast.stmt) -> tuple[str, bool] | None:
    values: dict[str, object] = {}
    if isinstance(item, ast.Assign | ast.AnnAssign) and item.value is not None:
        targets = item.targets if isinstance(item, ast.Assign) else [item.target]
        if not any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
            return None
        value = item.value
        if isinstance(value, ast.Call):
            values = {k.arg: _constant(k.value) for k in value.keywords if k.arg}
        elif isinstance(value, ast.Dict):
            values = {_constant(k): _constant(v) for k, v in zip(value.keys, value.values, strict=True) if k}  # type: ignore[misc]
    elif isinstance(item, ast.ClassDef) and item.name == "Config":
        for sub in item.body:
            if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name):
                values[sub.targets[0].id] = _constant(sub.value)
    else:
        return None
    prefix = values.get("env_prefix")
    return (prefix if isinstance(prefix, str) else ""), values.get("case_sensitive") is True


def _constant(node: ast.expr) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _fields(chain: list[ast.ClassDef]) -> tuple[list[str], list[str], int]:
    """The variables of the class's fields: required (no default), optional, and fields not told."""
    prefix, case_sensitive = _config(chain)
    reads: dict[str, pysource.EnvRead] = {}
    skipped = 0
    for node in reversed(chain):  # a subclass's field overrides its base's
        for item in node.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            name = item.target.id
            if name.startswith("_") or name == "model_config" or "ClassVar" in ast.unparse(item.annotation):
                continue
            variable, has_default = _field(item.value)
            env = variable or prefix + name
            env = env if case_sensitive else env.upper()
            if not pysource.ENV_NAME.match(env):
                skipped += 1
                continue
            reads[name] = pysource.EnvRead(env, not has_default)
    required, optional, bad = pysource.merge(list(reads.values()))
    return required, optional, skipped + bad


def _field(value: ast.expr | None) -> tuple[str | None, bool]:
    """A field's own variable name (alias / validation_alias) and whether it has a default."""
    if value is None:
        return None, False
    if not (isinstance(value, ast.Call) and ast.unparse(value.func) in ("Field", "pydantic.Field")):
        return None, True
    keywords = {k.arg: k.value for k in value.keywords if k.arg}
    has_default = "default" in keywords or "default_factory" in keywords
    if value.args:
        first = value.args[0]
        has_default = has_default or not (isinstance(first, ast.Constant) and first.value is Ellipsis)
    alias = keywords.get("validation_alias", keywords.get("alias"))
    if isinstance(alias, ast.Call) and ast.unparse(alias.func).endswith("AliasChoices") and alias.args:
        alias = alias.args[0]
    name = alias.value if isinstance(alias, ast.Constant) and isinstance(alias.value, str) else None
    return name, has_default


def _module(rel: str) -> str | None:
    """The dotted module a file is imported as from the project root, if its path can be one."""
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def _loadable(root: Path, path: Path, module: str | None, name: str) -> tuple[bool, str]:
    """Whether `env.settings-class` can load the class where launch-gate runs, judged without importing it:
    the module is found from the project root, and it and its packages import only the standard library,
    pydantic and pydantic-settings (and other modules of the project that do the same)."""
    if module is None:
        return False, f"{relative(path, root)} is not importable as a module from the project root"
    origin = module_origin(module, root, installed=False)
    if origin is None or origin.resolve() != path.resolve() or not defines(origin, name):
        return False, f"{module} is not found from the project root as {relative(path, root)}"
    foreign = _foreign_imports(root, module, set())
    if foreign:
        where, top = foreign
        inside = f" ({where} imports it)" if where != module else ""
        return False, f"importing {module} imports {top}{inside}, which launch-gate's environment may lack"
    return True, ""


def _foreign_imports(root: Path, module: str, seen: set[str], depth: int = 0) -> tuple[str, str] | None:
    """The first import, in `module` or a package above it, that is not the standard library, pydantic's
    family or a module of the project that passes the same test, as (the module importing it, its top-level
    name); None when there is none."""
    parts = module.split(".")
    for size in range(1, len(parts) + 1):
        name = ".".join(parts[:size])
        if name in seen:
            continue
        seen.add(name)
        origin = module_origin(name, root, installed=False)
        if origin is None:
            return module, name
        if origin.suffix != ".py":
            continue  # a namespace package: no code runs
        text = read_text(origin)
        tree = pysource.parse(text) if text is not None else None
        if tree is None:
            return name, name
        package = parts[:size] if origin.name == "__init__.py" else parts[: size - 1]
        for imported, level in pysource.top_imports(tree):
            absolute = ".".join([*package[: len(package) - level + 1], imported]) if level else imported
            absolute = absolute.strip(".")
            top = absolute.split(".")[0]
            if not top or top == "__future__" or top in sys.stdlib_module_names or top in AVAILABLE:
                continue
            if depth >= 5 or module_origin(absolute, root, installed=False) is None:
                return name, top
            problem = _foreign_imports(root, absolute, seen, depth + 1)
            if problem:
                return problem
    return None
