"""Which files a scan covers: the repository (git's view), what changed since a base, what a push sends (every
file version its new commits add), or built bundles."""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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


def _git_run(root: Path, *args: str, stdin: str = "") -> tuple[str, str] | None:
    """git's (stdout, stderr), or None when git is missing, this is not a repository, or the command fails.
    Output is decoded as the file system decodes names, so a name that is not UTF-8 survives."""
    command = ["git", "-C", str(root), *args]
    try:
        done = subprocess.run(command, input=stdin.encode(), capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return os.fsdecode(done.stdout), done.stderr.decode("utf-8", "replace")


def _git(root: Path, *args: str, stdin: str = "") -> str | None:
    done = _git_run(root, *args, stdin=stdin)
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
    """Files added or changed in the work tree since the base (committed, staged, unstaged, untracked); None
    if the base is not in this clone (a shallow clone, a new branch). A base with `to` is a range of commits:
    `Push.between` and `pushed_commits` scan it."""
    if (
        base.ref == ZERO_SHA
        or _git(root, "rev-parse", "--verify", "--quiet", f"{base.ref}^{{commit}}") is None
    ):
        return None
    merge_base = _git(root, "merge-base", base.ref, "HEAD")
    since = merge_base.strip() if merge_base else base.ref
    untracked = _git_run(root, "ls-files", "-z", "--others", "--exclude-standard")
    changed = _git(root, "diff", "--name-only", "-z", "--diff-filter=d", since)
    if changed is None or untracked is None:
        return None
    return listing(root, {*_split(changed), *_split(untracked[0])}, _git_unreadable(untracked[1]))


def _is_zero(sha: str) -> bool:
    return set(sha) == {"0"}


@dataclass(frozen=True)
class PushedRef:
    """One line git gives a pre-push hook: `<local ref> <local sha> <remote ref> <remote sha>`. A new branch
    has an all-zero remote sha; a deletion an all-zero local sha (`(delete)` as its local ref)."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def deletes(self) -> bool:
        return _is_zero(self.local_sha)

    @property
    def creates(self) -> bool:
        return _is_zero(self.remote_sha)


@dataclass(frozen=True)
class Push:
    """What a push sends: its refs, and who said so (git's hook input, or pre-commit's variables)."""

    refs: tuple[PushedRef, ...]
    origin: str = "the refs git passed the pre-push hook"

    @property
    def sends(self) -> tuple[PushedRef, ...]:
        """The refs that send commits (not deletions)."""
        return tuple(ref for ref in self.refs if not ref.deletes)

    @classmethod
    def between(cls, base: str, to: str, origin: str) -> Push:
        """The commits after `base` up to `to`, as a push of `to` onto a remote at `base`."""
        return cls((PushedRef(to, to, "", base),), origin)


_OBJECT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256


def read_push(text: str) -> Push:
    """The refs git writes to a pre-push hook's stdin; ValueError naming a line that is not one of them."""
    refs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4 or not all(_OBJECT.fullmatch(sha) for sha in (parts[1], parts[3])):
            raise ValueError(
                f"line {number} of standard input is not `<local ref> <local sha> <remote ref> <remote sha>`"
            )
        refs.append(PushedRef(*parts))
    return Push(tuple(refs))


def pre_commit_push(environ: Mapping[str, str]) -> Push | None:
    """The push pre-commit describes to a pre-push hook: the range PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF, or,
    for a push that reaches a root commit (pre-commit then sets no range), PRE_COMMIT_LOCAL_BRANCH as a new
    branch. None outside pre-commit."""
    start, end = environ.get("PRE_COMMIT_FROM_REF"), environ.get("PRE_COMMIT_TO_REF")
    if start and end:
        return Push.between(start, end, "pre-commit's PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF")
    local = environ.get("PRE_COMMIT_LOCAL_BRANCH")
    if local:
        remote = environ.get("PRE_COMMIT_REMOTE_BRANCH", "")
        ref = PushedRef(local, local, remote, ZERO_SHA)
        return Push((ref,), "pre-commit's PRE_COMMIT_LOCAL_BRANCH (a new branch)")
    return None


def pushed_commits(root: Path, push: Push) -> list[str] | None:
    """The commits the push sends that no remote-tracking ref has: after the remote's old value for an update,
    all of a new branch's (or when this clone lacks the old value); None when git cannot say."""
    commits: dict[str, None] = {}
    for ref in push.sends:
        known = not ref.creates and _git(root, "cat-file", "-e", f"{ref.remote_sha}^{{commit}}") is not None
        old = [f"^{ref.remote_sha}"] if known else []
        listed = _git(root, "rev-list", ref.local_sha, *old, "--not", "--remotes", "--")
        if listed is None:
            return None
        commits.update(dict.fromkeys(listed.split()))
    return list(commits)


def pushed_versions(root: Path, push: Push) -> tuple[list[str], list[Version]] | None:
    """The push's new commits and every file version they add or change; None when git cannot say."""
    commits = pushed_commits(root, push)
    versions = introduced(root, commits) if commits is not None else None
    return None if commits is None or versions is None else (commits, versions)


def unlisted(scope: str, push: Push) -> str:
    """What a check says when git could not list the pushed commits."""
    return (
        f"could not verify: git could not list the commits {scope} ({push.origin}); run it inside the "
        "repository, with the pushed commits in this clone."
    )


@dataclass(frozen=True)
class Version:
    """One version of a file that a commit adds or changes: its path and its blob."""

    path: str
    blob: str


def introduced(root: Path, commits: Sequence[str]) -> list[Version] | None:
    """Every file version the commits add or change (a root commit: all its files; a merge: what differs from
    every parent, i.e. its own resolutions), in order, each once; deletions and submodules left out."""
    if not commits:
        return []
    out = _git(
        root, "diff-tree", "--stdin", "-r", "-c", "--root", "--no-renames", "--no-commit-id", "-z",
        stdin="\n".join(commits) + "\n",
    )  # fmt: skip
    if out is None:
        return None
    fields = out.split("\0")
    found: dict[Version, None] = {}
    for header, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = header.lstrip(":").split()
        parents = len(header) - len(header.lstrip(":"))  # one colon per parent
        if parents < 1 or len(parts) != 2 * parents + 3:
            continue
        mode, blob = parts[parents], parts[2 * parents + 1]
        if not _is_zero(blob) and mode not in ("160000", "000000"):
            found[Version(path, blob)] = None
    return list(found)


@dataclass
class Checkout:
    """File versions written out to be scanned: (temporary file, path in the repository), and the versions
    that could not be, with why."""

    files: list[tuple[Path, str]] = field(default_factory=list)
    not_scanned: list[tuple[str, str]] = field(default_factory=list)


def _sizes(root: Path, blobs: Iterable[str]) -> dict[str, int] | None:
    """The size of each blob git has (one `git cat-file --batch-check`)."""
    asked = "".join(f"{blob}\n" for blob in blobs)
    out = _git(root, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)", stdin=asked)
    if out is None:
        return None
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    return sizes


def _contents(root: Path, blobs: Sequence[str]) -> Iterator[tuple[str, bytes]] | None:
    """(blob, content) of each blob, read by one `git cat-file --batch`."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "cat-file", "--batch"],
            input="".join(f"{blob}\n" for blob in blobs).encode(),
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return _batch(done.stdout)


def _batch(data: bytes) -> Iterator[tuple[str, bytes]]:
    """`git cat-file --batch` output: `<name> <type> <size>`, a newline, the content, a newline; repeated."""
    at = 0
    while at < len(data):
        end = data.index(b"\n", at)
        name, _, size = data[at:end].decode().split(" ")
        yield name, data[end + 1 : end + 1 + int(size)]
        at = end + 1 + int(size) + 1


@contextmanager
def checked_out(root: Path, versions: Sequence[Version], max_bytes: int) -> Iterator[Checkout | None]:
    """The versions written to a private temporary directory (removed afterwards) so the engine scans exactly
    what is pushed, not the work tree; a version over `max_bytes` is not written but reported. None when git
    cannot read them."""
    sizes = _sizes(root, {v.blob for v in versions})
    if sizes is None or any(v.blob not in sizes for v in versions):
        yield None
        return
    out = Checkout()
    small = [v for v in versions if sizes[v.blob] <= max_bytes]
    out.not_scanned += [
        (v.path, f"{sizes[v.blob]} bytes, over the {max_bytes}-byte limit")
        for v in versions
        if sizes[v.blob] > max_bytes
    ]
    contents = _contents(root, list(dict.fromkeys(v.blob for v in small)))
    if contents is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="launch-gate-push-") as temporary:  # mode 0700: this user's only
        data = dict(contents)
        seen: dict[str, int] = {}
        for number, version in enumerate(small):
            seen[version.path] = seen.get(version.path, -1) + 1
            path = _write(
                Path(temporary), (str(seen[version.path]), f"v{number}"), version.path, data[version.blob]
            )
            if isinstance(path, str):
                out.not_scanned.append((version.path, path))
            else:
                out.files.append((path, version.path))
        yield out


def _write(top: Path, slots: Sequence[str], name: str, content: bytes) -> Path | str:
    """`content` written as `name` under the first slot where it fits (the n-th version of a path goes under
    `<n>/`, so each keeps its name; a name that clashes with a directory there gets a slot of its own); or why
    it could not be written."""
    reason = ""
    for slot in slots:
        path = top / slot / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        except OSError as exc:
            reason = f"could not be written out to be scanned ({exc.strerror or type(exc).__name__})"
            continue
        return path
    return reason


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
