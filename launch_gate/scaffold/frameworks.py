"""Django settings and Flask config, read with `ast`: the environment variables they read, and Django's
STATIC_ROOT when it is a path the source spells out."""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

from launch_gate.scaffold import pysource
from launch_gate.scaffold.tree import read_text, relative, walk

# Settings modules for a developer's machine or the tests: what they read is not what production needs.
_NOT_PRODUCTION = re.compile(r"^(local|dev|develop|development|test|tests|testing|ci)(_.*)?$")


@dataclass(frozen=True)
class AppConfig:
    """What a framework's settings read from the environment."""

    framework: str  # "Django" or "Flask"
    files: list[str]
    reads: list[pysource.EnvRead]
    static_root: str | None = None  # Django: STATIC_ROOT relative to the root, when spelled out
    static_note: str = ""  # Django: why STATIC_ROOT could not be used
    static_file: str = ""  # Django: the settings file that sets STATIC_ROOT


@dataclass(frozen=True)
class Source:
    path: Path
    rel: str
    tree: ast.Module


def python_sources(root: Path) -> list[Source]:
    """The project's Python files that parse (bounded: see `tree.walk`)."""
    sources = []
    for path in walk(root, ".py"):
        text = read_text(path)
        rel = relative(path, root)
        tree = pysource.parse(text) if text is not None and rel is not None else None
        if tree is not None and rel is not None:
            sources.append(Source(path, rel, tree))
    return sources


def _is_django_settings(source: Source) -> bool:
    parts = source.rel.split("/")
    in_package = len(parts) > 1 and parts[-2] == "settings"
    if not (parts[-1] == "settings.py" or in_package) or _NOT_PRODUCTION.match(Path(parts[-1]).stem):
        return False
    names = {
        t.id
        for n in source.tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    return bool(names & {"INSTALLED_APPS", "ROOT_URLCONF", "STATIC_ROOT", "SECRET_KEY", "DATABASES"})


def django(root: Path, sources: list[Source]) -> AppConfig | None:
    chosen = [s for s in sources if _is_django_settings(s)]
    if not chosen:
        return None
    packages = {s.path.parent for s in chosen if s.path.parent.name == "settings"}
    chosen += [  # a settings package's production module may set only what differs (ALLOWED_HOSTS, ...)
        s
        for s in sources
        if s.path.parent in packages and s not in chosen and not _NOT_PRODUCTION.match(s.path.stem)
    ]
    reads = [read for s in chosen for read in pysource.env_reads(s.tree)]
    static, note, where = None, "STATIC_ROOT is not set in the settings", ""
    for source in chosen:
        if any(_assigns(n, "STATIC_ROOT") for n in source.tree.body):
            (static, note), where = _static_root(root, source), source.rel
            break
    return AppConfig("Django", [s.rel for s in chosen], reads, static, note, where)


def _assigns(node: ast.stmt, name: str) -> bool:
    targets = (
        node.targets
        if isinstance(node, ast.Assign)
        else [node.target]
        if isinstance(node, ast.AnnAssign)
        else []
    )
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


def _static_root(root: Path, source: Source) -> tuple[str | None, str]:
    """STATIC_ROOT relative to the root: an absolute path from `__file__`, or a relative one, which Django
    takes from where manage.py runs (the folder holding manage.py, else the root)."""
    names = pysource.PathEvaluator(source.path.resolve()).run(source.tree)
    value = names.get("STATIC_ROOT")
    if value is None:
        return (
            None,
            "STATIC_ROOT is not a path spelled out in the settings (it comes from the environment or code)",
        )
    path = Path(value)
    if not path.is_absolute():
        manage = (
            next(iter(sorted(root.glob("*/manage.py"))), None) if not (root / "manage.py").exists() else None
        )
        path = (manage.parent if manage else root) / path
    rel = relative(Path(_normal(path)), root.resolve())
    if rel is None or rel in ("", ".") or rel.startswith(".."):
        return None, "STATIC_ROOT is outside the project"
    return rel, ""


def _normal(path: Path) -> str:
    return os.path.normpath(str(path))


def _imports_flask(tree: ast.Module) -> bool:
    return any(name.split(".")[0] == "flask" and level == 0 for name, level in pysource.top_imports(tree))


def _config_target(node: ast.AST) -> bool:
    """`app.config["X"] = ...` or `app.config.update(...)` / `.from_mapping(...)`."""
    if isinstance(node, ast.Assign):
        return any(
            isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute) and t.value.attr == "config"
            for t in node.targets
        )
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr in ("update", "from_mapping")
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "config"
        )
    return False


def flask(sources: list[Source]) -> AppConfig | None:
    """Flask: every read in a config.py, and the reads that feed `app.config` elsewhere."""
    if not any(_imports_flask(s.tree) for s in sources):
        return None
    files, reads = [], []
    for source in sources:
        if source.rel.split("/")[-1] == "config.py":
            found = pysource.env_reads(source.tree)
        else:
            nodes = [n for n in ast.walk(source.tree) if _config_target(n)]
            found = [r for n in nodes for r in pysource.env_reads(n, source.tree)]
        if found:
            files.append(source.rel)
            reads.extend(found)
    return AppConfig("Flask", files, reads) if reads else None
