"""Python migrations read with `ast` (the file is never imported, so no app code runs): a module with a
top-level `class Migration` is a Django migration, one with a top-level `def upgrade()` an Alembic revision;
any other module in a migrations folder (Alembic's `env.py`, a helper) is not a migration."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterable

from launch_gate.migrations.alembic_ops import read_alembic, upgrade_function
from launch_gate.migrations.django_ops import migration_class, read_django
from launch_gate.migrations.model import Reading, Unreadable


def parse(text: str) -> ast.Module:
    """The module's syntax tree; Unreadable, naming the line, when it is not valid Python."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like are not our report
            return ast.parse(text)
    except SyntaxError as exc:
        raise Unreadable(f"not valid Python: {exc.msg}", exc.lineno) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise Unreadable(f"not valid Python: {type(exc).__name__}") from None


def read_python(text: str, dialect: str, earlier: Callable[[], Iterable[str]]) -> Reading | None:
    """What a Python migration holds; None for a module that is neither a Django nor an Alembic migration."""
    tree = parse(text)
    cls = migration_class(tree)
    if cls is not None:
        return Reading("django", tuple(read_django(tree, cls, dialect, earlier)))
    upgrade = upgrade_function(tree)
    if upgrade is not None:
        return Reading("alembic", tuple(read_alembic(tree, upgrade, dialect)))
    return None
