"""Which files a scan covers: the repository (git's view), what changed since a base, or built bundles."""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40


def _git(root: Path, *args: str) -> str | None:
    """git's output, or None when git is missing, this is not a repository, or the command fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _split(output: str) -> list[str]:
    return [name for name in output.split("\0") if name]


# Without git to ask, these are taken to be tools' caches and environments, not the project's files.
UNTRACKED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", "__pycache__",
     ".venv", "venv", "node_modules"}
)  # fmt: skip


def _ignores_itself(directory: Path) -> bool:
    """A directory whose own .gitignore is `*` (as pytest, mypy, ruff and venv write) is a tool's."""
    try:
        return (directory / ".gitignore").read_text(encoding="utf-8").split() == ["*"]
    except OSError:
        return False


def _walk(top: Path, root: Path, skip_tool_dirs: bool = True) -> list[str]:
    """Every file below `top`, relative to `root`, leaving out .git and (optionally) tools' directories."""
    names = []
    for dirpath, dirnames, filenames in os.walk(top):
        if skip_tool_dirs:
            dirnames[:] = [
                d for d in dirnames if d not in UNTRACKED_DIRS and not _ignores_itself(Path(dirpath, d))
            ]
        else:
            dirnames[:] = [d for d in dirnames if d != ".git"]
        names += [Path(dirpath, f).relative_to(root).as_posix() for f in filenames]
    return names


def repo_files(root: Path) -> tuple[list[str], bool]:
    """Files git tracks plus untracked ones it does not ignore (relative, posix); else every file.

    Returns the names and whether git answered (False: not a repository, every file was listed).
    """
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed is None:
        return sorted(_walk(root, root)), False
    return sorted({n for n in _split(listed) if (root / n).is_file()}), True


@dataclass(frozen=True)
class Base:
    """The ref a diff scan compares against, where it came from, and the ref it compares to (None: work tree)."""

    ref: str
    origin: str
    to: str | None = None


def find_base(explicit: str | None, environ: Mapping[str, str]) -> Base | None:
    """`--base` / `[secrets] base`, else pre-commit's pre-push refs, else the pull request's base in Actions."""
    if explicit:
        return Base(explicit, "the configured base")
    if environ.get("PRE_COMMIT_FROM_REF"):
        to = environ.get("PRE_COMMIT_TO_REF") or None
        return Base(environ["PRE_COMMIT_FROM_REF"], "pre-commit's PRE_COMMIT_FROM_REF", to)
    if environ.get("GITHUB_BASE_REF"):
        return Base(f"origin/{environ['GITHUB_BASE_REF']}", "the pull request's base (GITHUB_BASE_REF)")
    return None


def changed_files(root: Path, base: Base) -> list[str] | None:
    """Files added or changed since the base (committed, staged, unstaged, untracked); None if the base is
    not in this clone (a shallow clone, a new branch)."""
    if (
        base.ref == ZERO_SHA
        or _git(root, "rev-parse", "--verify", "--quiet", f"{base.ref}^{{commit}}") is None
    ):
        return None
    target = base.to if base.to and base.to != ZERO_SHA else None
    if target is not None:
        committed = _git(root, "diff", "--name-only", "-z", "--diff-filter=d", f"{base.ref}...{target}")
        outputs = [committed]
    else:
        merge_base = _git(root, "merge-base", base.ref, "HEAD")
        since = merge_base.strip() if merge_base else base.ref
        outputs = [
            _git(root, "diff", "--name-only", "-z", "--diff-filter=d", since),
            _git(root, "ls-files", "-z", "--others", "--exclude-standard"),
        ]
    if any(out is None for out in outputs):
        return None
    names = {n for out in outputs for n in _split(out or "")}
    return sorted(n for n in names if (root / n).is_file())


def bundle_files(root: Path, dirs: Iterable[str]) -> tuple[list[str], list[str]]:
    """Every file under the bundle directories (ignored by git or not), and the directories that are missing."""
    names, missing = [], []
    for entry in dirs:
        top = root / entry
        if not top.is_dir():
            missing.append(entry)
            continue
        names += _walk(top, root, skip_tool_dirs=False)  # a bundle is scanned whole
    return sorted(set(names)), missing


def excluded(name: str, patterns: Iterable[str]) -> bool:
    """Glob patterns on the posix path relative to the project (`*` crosses directories)."""
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(name, p.rstrip("/") + "/*") for p in patterns)
