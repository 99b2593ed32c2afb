"""Hypothesis, driven for the gate: a bounded number of examples, a fixed seed, no shrinking, no example
database, and no `.hypothesis/` directory left in the user's project."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from hypothesis import strategies as st

T = TypeVar("T")


class Enough(Exception):
    """Raised by a visit to stop the exploration: its goal is met, or its budget spent."""


def _cache() -> Path:
    try:
        home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no home directory
        home = Path(tempfile.gettempdir())
    return home / "launch-gate" / "hypothesis"


@contextmanager
def quiet_storage() -> Iterator[None]:
    """Hypothesis caches tables under `.hypothesis/` in the working directory: the gate must not create one
    in the user's project. Unless the project has one already or HYPOTHESIS_STORAGE_DIRECTORY says where,
    hypothesis keeps them under the user's cache directory while the gate explores (then as before)."""
    from hypothesis import configuration

    home = configuration.storage_directory(intent_to_write=False).home_directory
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or home.exists():
        yield
        return
    configuration.set_hypothesis_home_dir(_cache())
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(home)


def explore(strategy: st.SearchStrategy[T], examples: int, visit: Callable[[T], None]) -> str | None:
    """Call `visit` with up to `examples` values drawn from `strategy` (fewer when the strategy has fewer
    distinct ones, or `visit` raises Enough); why none could be drawn, if so."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings

    @settings(
        max_examples=examples,
        phases=[Phase.generate],  # no shrinking: one wrong answer is enough, and shrinking sends more
        database=None,
        deadline=None,
        derandomize=True,  # the same requests each run: a gate that flips between runs helps no one
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
    )
    @given(value=strategy)
    def run(value: T) -> None:
        visit(value)

    try:
        with quiet_storage():
            run()
    except Enough:
        return None
    except Exception as exc:  # hypothesis or the strategy could not draw: said, never a pass by itself
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return None
