"""Which files a scan covers: the repository (git's view), what changed since a base, or built bundles."""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class Listing:
    """What a scan covers: the files to read, and the paths it may not read or could not, with why.

    Names are relative posix paths as the file system spells them (undecodable bytes kept as surrogates,
    so they can still be opened); `display` makes one printable.
    """

    files: list[str] = field(default_factory=list)
    not_scanned: list[tuple[str, str]] = field(default_factory=list)


def display(name: str) -> str:
    """A name fit to print: bytes that are not UTF-8 shown as \\xNN escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _git_run(root: Path, *args: str) -> tuple[str, str] | None:
    """git's (stdout, stderr), or None when git is missing, this is not a repository, or the command fails.
    Output is decoded as the file system decodes names, so a name that is not UTF-8 survives."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return os.fsdecode(done.stdout), done.stderr.decode("utf-8", "replace")


def _git(root: Path, *args: str) -> str | None:
    done = _git_run(root, *args)
    return done[0] if done is not None else None


def is_repository(root: Path) -> bool:
    return _git(root, "rev-parse", "--git-dir") is not None


def _split(output: str) -> list[str]:
    return [name for name in output.split("\0") if name]


# Without git to ask, these are taken to be tools' caches and environments, not the project's files.
UNTRACKED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", "__pycache__",
     ".venv", "venv", "node_modules"}
)  # fmt: skip
_UNOPENED = re.compile(r"could not open directory '(.+?)': (.+)")


def _ignores_itself(directory: Path) -> bool:
    """A directory whose own .gitignore is `*` (as pytest, mypy, ruff and venv write) is a tool's."""
    try:
        return (directory / ".gitignore").read_text(encoding="utf-8").split() == ["*"]
    except (OSError, UnicodeDecodeError):
        return False


def _walk(top: Path, root: Path, skip_tool_dirs: bool = True) -> tuple[list[str], list[tuple[str, str]]]:
    """Every file below `top` relative to `root` (and every symlinked directory, to be judged as a link),
    leaving out .git and (optionally) tools' directories; and the directories that could not be read."""
    names: list[str] = []
    unreadable: list[tuple[str, str]] = []

    def failed(exc: OSError) -> None:
        where = Path(exc.filename).relative_to(root).as_posix() if exc.filename else top.as_posix()
        unreadable.append((where + "/", f"directory unreadable ({exc.strerror or type(exc).__name__})"))

    for dirpath, dirnames, filenames in os.walk(top, onerror=failed):  # never follows a symlinked directory
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if d not in (UNTRACKED_DIRS if skip_tool_dirs else {".git"})]
        links = [d for d in dirnames if (here / d).is_symlink()]  # judged by `listing`, never walked into
        dirnames[:] = [
            d for d in dirnames if d not in links and not (skip_tool_dirs and _ignores_itself(here / d))
        ]
        names += [(here / f).relative_to(root).as_posix() for f in [*filenames, *links]]
    return names, unreadable


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _admit(root: Path, real_root: Path, name: str) -> str | None:
    """Why `name` cannot be scanned; "" for a name with nothing to scan (a directory, a FIFO, a link to
    nothing); None for a regular file inside the project. Symlinks are followed only inside the project."""
    path = root / name
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            target = Path(os.path.realpath(path))  # never raises on a loop, unlike Path.resolve in 3.11
            if not _inside(target, real_root):
                return "a symlink to outside the project, not followed"
            mode = path.stat().st_mode  # raises on a loop or a link to nothing
    except FileNotFoundError:
        return ""
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        return f"unreadable ({exc.strerror or type(exc).__name__})"
    return None if stat.S_ISREG(mode) else ""


def listing(root: Path, names: Iterable[str], unreadable: Iterable[tuple[str, str]] = ()) -> Listing:
    """The regular files among `names`, and those that cannot be scanned, sorted."""
    result = Listing(not_scanned=list(unreadable))
    real_root = Path(os.path.realpath(root))
    for name in sorted(set(names)):
        reason = _admit(root, real_root, name)
        if reason is None:
            result.files.append(name)
        elif reason:
            result.not_scanned.append((name, reason))
    result.not_scanned.sort()
    return result


def _git_unreadable(stderr: str) -> list[tuple[str, str]]:
    """Directories git said it could not open while listing untracked files."""
    return [
        (match[1].rstrip("/") + "/", f"directory unreadable ({match[2].strip()})")
        for match in _UNOPENED.finditer(stderr)
    ]


def repo_files(root: Path) -> tuple[Listing, bool]:
    """Files git tracks plus untracked ones it does not ignore; else every file. And whether git answered
    (False: not a repository, every file was listed)."""
    listed = _git_run(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed is None:
        names, unreadable = _walk(root, root)
        return listing(root, names, unreadable), False
    return listing(root, _split(listed[0]), _git_unreadable(listed[1])), True


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


def changed_files(root: Path, base: Base) -> Listing | None:
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
        outputs, unreadable = [committed], []
    else:
        merge_base = _git(root, "merge-base", base.ref, "HEAD")
        since = merge_base.strip() if merge_base else base.ref
        untracked = _git_run(root, "ls-files", "-z", "--others", "--exclude-standard")
        outputs = [_git(root, "diff", "--name-only", "-z", "--diff-filter=d", since)]
        outputs.append(untracked[0] if untracked else None)
        unreadable = _git_unreadable(untracked[1]) if untracked else []
    if any(out is None for out in outputs):
        return None
    return listing(root, {n for out in outputs for n in _split(out or "")}, unreadable)


def bundle_files(root: Path, dirs: Iterable[str]) -> tuple[Listing, list[str]]:
    """Every file under the bundle directories (ignored by git or not), and the directories that are missing."""
    names: list[str] = []
    unreadable: list[tuple[str, str]] = []
    missing = []
    real_root = Path(os.path.realpath(root))
    for entry in dirs:
        top = root / entry
        if not top.is_dir():
            missing.append(entry)
            continue
        if not _inside(Path(os.path.realpath(top)), real_root):
            unreadable.append((entry, "a symlink to outside the project, not followed"))
            continue
        found, failed = _walk(top, root, skip_tool_dirs=False)  # a bundle is scanned whole
        names += found
        unreadable += failed
    return listing(root, names, unreadable), missing


def excluded(name: str, patterns: Iterable[str]) -> bool:
    """Glob patterns on the posix path relative to the project (`*` crosses directories)."""
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(name, p.rstrip("/") + "/*") for p in patterns)
