"""What init may read of a project: a bounded walk that skips dependencies, builds and virtual environments,
never follows a symlink out, and reads text without ever failing on a file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Folders that hold other people's code, builds or caches: nothing there describes the project.
SKIPPED = frozenset(
    {
        "node_modules", "site-packages", "__pycache__", "venv", "env", "build", "dist", "out",
        "staticfiles", "migrations", "tests", "test", "htmlcov", "bower_components", "vendor", "target",
    }
)  # fmt: skip
MAX_FILES = 4000  # files looked at in one walk: a monorepo is not read whole
MAX_BYTES = 512_000  # a source file larger than this is generated, not written


def walk(root: Path, suffix: str, max_depth: int = 6) -> Iterator[Path]:
    """Files under `root` whose name ends in `suffix`, shallow first, at most MAX_FILES looked at."""
    level = [root]
    seen = 0
    for _ in range(max_depth + 1):
        deeper: list[Path] = []
        for folder in level:
            for entry in _entries(folder):
                seen += 1
                if seen > MAX_FILES:
                    return
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith(".") and entry.name not in SKIPPED:
                        deeper.append(Path(entry.path))
                elif entry.name.endswith(suffix) and entry.is_file(follow_symlinks=False):
                    yield Path(entry.path)
        level = deeper


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError:
        return []


def read_text(path: Path) -> str | None:
    """A small UTF-8 text file's text; None for anything else (too big, binary, unreadable, not UTF-8)."""
    try:
        if path.is_symlink() or path.stat().st_size > MAX_BYTES:
            return None
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def relative(path: Path, root: Path) -> str | None:
    """`path` relative to `root` with forward slashes; None when it is outside or its name is not UTF-8 text
    (it could not be written into a TOML file as it is)."""
    try:
        text = path.relative_to(root).as_posix()
    except ValueError:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text if text.isprintable() else None
