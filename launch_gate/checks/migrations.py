"""`migrations.destructive`: the migrations added or changed since the base, read without running them, and
every operation in them that can lose data or lock a busy table, unless someone approved it.

The base is `secrets.diff`'s: `--base` (or `[secrets] base`), pre-commit's refs, the pull request's base in
GitHub Actions; under `launch-gate pre-push`, the newest version of each migration the pushed commits add.
Without a base the check is skipped (judging every migration ever written would block every deploy); a base
this clone lacks is could-not-verify. Approval is explicit and leaves a trail: a commit since the base with
the trailer `Approved-Destructive-Migration: <file>`, or a `[[migrations.waivers]]` entry (file, operation,
reason, expiry). Approved operations are still listed, as a warning; a migration that cannot be parsed is
could-not-verify unless approved in the same way.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

from launch_gate.checks import Context, check
from launch_gate.config.schema import MigrationWaiver
from launch_gate.migrations import UNPARSABLE, Layout, Reading, Risk, Unreadable, alembic_dirs, read_migration
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.words import count
from launch_gate.secretscan import sources

TRAILER = "Approved-Destructive-Migration"
MAX_BYTES = 5_000_000
FETCH_BASE = (
    "Make the base reachable (`git fetch origin {ref}`; in GitHub Actions, actions/checkout with "
    "`fetch-depth: 0`), or fix --base / [secrets] base."
)
APPROVE = (
    f"Make each one safe (docs/migrations.md says how), or approve the file with a commit trailer "
    f"`{TRAILER}: <file>` on a commit since the base, or a [[migrations.waivers]] entry (file, operation, "
    "reason, expires)."
)


@dataclass(frozen=True)
class Source:
    """One migration to read: its path (as git names it), its text, or why it could not be read."""

    name: str
    text: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Changes:
    """The candidate migrations, the commits whose trailers may approve them, and words for messages."""

    sources: list[Source]
    commits: list[str]
    scope: str
    changed: int


def _git(root: Path, *args: str, stdin: str = "") -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _layout(ctx: Context) -> Layout:
    table = ctx.settings.migrations
    ini = ctx.root / "alembic.ini"
    try:
        versions = alembic_dirs(ini.read_text(encoding="utf-8")) if ini.is_file() else []
    except (OSError, UnicodeDecodeError):
        versions = []
    root = ctx.root
    return Layout(table.sql_dirs, versions, table.paths, table.exclude, lambda name: (root / name).is_file())


def _read_file(path: Path, name: str) -> Source:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return Source(name, problem=f"{size} bytes, over the {MAX_BYTES}-byte limit for a migration")
        return Source(name, path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return Source(name, problem="not UTF-8 text")
    except OSError as exc:
        return Source(name, problem=f"unreadable ({exc.strerror or type(exc).__name__})")


def _from_work_tree(ctx: Context, listing: sources.Listing, layout: Layout) -> list[Source]:
    found = [_read_file(ctx.root / n, sources.display(n)) for n in listing.files if layout.kind(n)]
    found += [Source(sources.display(n), problem=why) for n, why in listing.not_scanned if layout.kind(n)]
    return sorted(found, key=lambda s: s.name)


def _since_base(ctx: Context, base: sources.Base, layout: Layout) -> Changes | Verdict:
    """What changed in the work tree since the merge base with `base`, and the commits since it."""
    changed = sources.changed_files(ctx.root, base)
    if changed is None:
        if not sources.is_repository(ctx.root):
            return Verdict.of(
                Outcome.ERROR,
                f"could not verify: there is no git repository here to compare with base {base.ref} "
                f"({base.origin}); run it in a clone.",
            )
        if base.ref != sources.ZERO_SHA:
            fix = FETCH_BASE.format(ref=base.ref.removeprefix("origin/"))
            return Verdict.of(
                Outcome.ERROR,
                f"could not verify: base {base.ref} ({base.origin}) was not found in this clone, so which "
                f"migrations are new is unknown. {fix}",
            )
        listing, _ = sources.repo_files(ctx.root)  # a new branch: every file is new
        commits = (_git(ctx.root, "rev-list", "HEAD", "--not", "--remotes", "--") or "").split()
        files = len(listing.files) + len(listing.not_scanned)
        return Changes(_from_work_tree(ctx, listing, layout), commits, "on a new branch", files)
    merge_base = (_git(ctx.root, "merge-base", base.ref, "HEAD") or "").strip() or base.ref
    commits = (_git(ctx.root, "rev-list", f"{merge_base}..HEAD", "--") or "").split()
    files = len(changed.files) + len(changed.not_scanned)
    return Changes(_from_work_tree(ctx, changed, layout), commits, f"since {_short(base.ref)}", files)


def _short(ref: str) -> str:
    """A ref as messages show it: a full commit id cut to 12 characters."""
    return ref[:12] if len(ref) >= 40 and all(c in "0123456789abcdef" for c in ref) else ref


def _pushed(ctx: Context, push: sources.Push, layout: Layout, since: str | None = None) -> Changes | Verdict:
    """The newest version of each migration the push's new commits add (what leaves this machine)."""
    scope = f"since {_short(since)}" if since else "being pushed"
    pushed = sources.pushed_versions(ctx.root, push)
    if pushed is None:
        return Verdict.of(Outcome.ERROR, sources.unlisted(scope, push))
    commits, versions = pushed
    newest: dict[str, sources.Version] = {}
    for version in versions:  # newest commit first
        if layout.kind(version.path):
            newest.setdefault(version.path, version)
    found: list[Source] = []
    with sources.checked_out(ctx.root, list(newest.values()), MAX_BYTES) as checkout:
        if checkout is None:
            return Verdict.of(Outcome.ERROR, f"could not verify: git could not read the migrations {scope}.")
        found += [_read_file(path, sources.display(name)) for path, name in checkout.files]
        found += [Source(sources.display(name), problem=why) for name, why in checkout.not_scanned]
    paths = {v.path for v in versions}
    return Changes(sorted(found, key=lambda s: s.name), commits, scope, len(paths))


def _changes(ctx: Context, layout: Layout) -> Changes | Verdict:
    if ctx.push is not None:
        return _pushed(ctx, ctx.push, layout)
    base = sources.find_base(ctx.settings.secrets.base, ctx.environ)
    if base is None:
        return Verdict.of(
            Outcome.SKIP,
            "no base to compare against: pass --base REF (e.g. origin/main) to check the migrations added since "
            "it (in a pull request on GitHub Actions, and under pre-commit, the base is found by itself).",
        )
    if base.to and base.ref != sources.ZERO_SHA:  # a range of commits: pre-commit's push refs
        return _pushed(ctx, sources.Push.between(base.ref, base.to, base.origin), layout, base.ref)
    return _since_base(ctx, base, layout)


def approvals(root: Path, commits: Sequence[str]) -> dict[str, str] | None:
    """The files approved by a trailer on one of `commits`: path -> the (first) commit that approves it; None
    when git cannot say."""
    if not commits:
        return {}
    fmt = f"%h%x1f%(trailers:key={TRAILER},valueonly,separator=%x1f)%x1e"
    out = _git(
        root, "log", "--no-walk=unsorted", "--stdin", f"--format={fmt}", stdin="\n".join(commits) + "\n"
    )
    if out is None:
        return None
    approved: dict[str, str] = {}
    for record in out.split("\x1e"):
        sha, *values = record.strip().split("\x1f")
        for value in values:
            name = normalise(value)
            if name:
                approved.setdefault(name, sha)
    return approved


def normalise(path: str) -> str:
    """A path as a trailer or a waiver may write it (`./app/x.py`, quoted) compared to git's spelling."""
    text = path.strip().strip("`'\"").strip()
    return PurePosixPath(text).as_posix().removeprefix("./") if text else ""


def _earlier(ctx: Context, name: str) -> list[str]:
    """The texts of the migrations before `name` in its folder, in name order (Django's history)."""
    folder = (ctx.root / name).parent
    try:
        names = sorted(
            p for p in folder.glob("*.py") if p.name < PurePosixPath(name).name and p.name != "__init__.py"
        )
    except OSError:
        return []
    texts = []
    for path in names:
        source = _read_file(path, path.name)
        if source.text is not None:
            texts.append(source.text)
    return texts


@dataclass
class Judged:
    """What the migrations hold, sorted into open, approved and unreadable, and how each was approved."""

    migrations: int = 0
    frameworks: set[str] = field(default_factory=set)
    open: list[Finding] = field(default_factory=list)
    approved: list[Finding] = field(default_factory=list)
    unreadable: list[Finding] = field(default_factory=list)
    open_files: set[str] = field(default_factory=set)
    how: set[str] = field(default_factory=set)
    kinds: dict[str, None] = field(default_factory=dict)  # of the open findings, in order


@dataclass(frozen=True)
class Approval:
    """How an operation was approved: `by` a trailer or a waiver, and the note the finding carries."""

    by: str
    note: str


@dataclass(frozen=True)
class Approver:
    """Who approved what: trailers (file -> commit) and the unexpired waivers."""

    trailers: dict[str, str]
    waivers: Sequence[MigrationWaiver]

    def approval(self, name: str, operation: str) -> Approval | None:
        """How `operation` in file `name` was approved, or None."""
        key = normalise(name)
        if key in self.trailers:
            return Approval("a trailer", f"approved by the {TRAILER} trailer of commit {self.trailers[key]}")
        for waiver in self.waivers:
            if normalise(waiver.file) == key and waiver.operation == operation:
                return Approval("a waiver", f"waived until {waiver.expires}: {waiver.reason}")
        return None


def _read(ctx: Context, source: Source) -> Reading | Unreadable | None:
    if source.text is None:
        return Unreadable(source.problem or "could not be read")
    try:
        return read_migration(
            source.name, source.text, ctx.settings.migrations.dialect, lambda: _earlier(ctx, source.name)
        )
    except Unreadable as exc:
        return exc


def _sort(ctx: Context, found: Iterable[Source], approver: Approver) -> Judged:
    judged = Judged()
    for source in found:
        reading = _read(ctx, source)
        if reading is None:
            continue
        judged.migrations += 1
        if isinstance(reading, Unreadable):
            approval = approver.approval(source.name, UNPARSABLE)
            finding = Finding(f"could not be parsed: {reading}", file=source.name, line=reading.line)
            if approval:
                judged.approved.append(
                    Finding(f"{finding.message} (not checked; {approval.note})", source.name, reading.line)
                )
                judged.how.add(approval.by)
            else:
                judged.unreadable.append(finding)
            continue
        judged.frameworks.add(reading.framework)
        for risk in reading.risks:
            _place(judged, source.name, risk, approver.approval(source.name, risk.kind))
    return judged


def _place(judged: Judged, name: str, risk: Risk, approval: Approval | None) -> None:
    if approval:
        judged.approved.append(Finding(f"{risk.message} ({approval.note})", file=name, line=risk.line))
        judged.how.add(approval.by)
    else:
        judged.kinds.setdefault(risk.kind)
        judged.open.append(Finding(risk.message, file=name, line=risk.line))
        judged.open_files.add(name)


def _expired(ctx: Context, today: date) -> list[Finding]:
    return [
        Finding(f"waiver for {w.file} ({w.operation}) expired on {w.expires} ({w.reason})")
        for w in ctx.settings.migrations.waivers
        if w.expired(today)
    ]


def _verdict(judged: Judged, changes: Changes, expired: list[Finding]) -> Verdict:
    scope = changes.scope
    approved = (
        f"; {count(len(judged.approved), 'more', 'more')} approved" if judged.approved and judged.open else ""
    )
    if judged.open or expired:
        kinds = ", ".join(judged.kinds)
        parts = []
        if judged.open:
            parts.append(
                f"{count(len(judged.open), 'destructive operation')} in "
                f"{count(len(judged.open_files), 'migration')} {scope} ({kinds}), not approved{approved}. {APPROVE}"
            )
        if expired:
            parts.append(
                f"{count(len(expired), 'migration waiver')} expired: renew them with a new date or remove them."
            )
        if judged.unreadable:
            parts.append(f"{count(len(judged.unreadable), 'migration')} could not be parsed.")
        return Verdict.of(
            Outcome.FAIL, " ".join(parts), [*judged.open, *judged.unreadable, *expired, *judged.approved]
        )
    if judged.unreadable:
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: {count(len(judged.unreadable), 'migration')} {scope} could not be parsed, so "
            "what it does is unknown. Fix it (for SQL, check [migrations] dialect), or approve the file with a "
            f'`{TRAILER}` trailer or a waiver with operation = "unparsable" to let it through unchecked.',
            [*judged.unreadable, *judged.approved],
        )
    if judged.approved:
        how = " and ".join(sorted(judged.how))
        return Verdict.of(
            Outcome.WARN,
            f"{count(len(judged.approved), 'destructive operation')} {scope}, each approved by {how}; they "
            "still run at the deploy: take a backup and keep the rollback at hand.",
            judged.approved,
        )
    if judged.migrations == 0:
        return Verdict.of(
            Outcome.PASS, f"no migration added or changed {scope} ({count(changes.changed, 'file')} changed)"
        )
    frameworks = ", ".join(sorted(judged.frameworks))
    return Verdict.of(
        Outcome.PASS,
        f"{count(judged.migrations, 'migration')} {scope} ({frameworks}): no destructive operation",
    )


@check(
    "migrations.destructive",
    Phase.PRE,
    "no migration added since the base drops, rewrites or locks data without an approval",
    fails_when=(
        "a migration added or changed since the base (`--base`, the pull request's base, or the commits "
        "`launch-gate pre-push` sends) drops or renames a table or column, narrows a type, adds NOT NULL "
        "without a default, truncates, deletes or updates without WHERE, or (PostgreSQL) builds an index "
        "without CONCURRENTLY or adds a constraint without NOT VALID, and no commit trailer "
        f"`{TRAILER}: <file>` or waiver approves it; could not verify when a migration cannot be parsed"
    ),
)
def check_destructive(ctx: Context) -> Verdict:
    expired = _expired(ctx, date.today())
    changes = _changes(ctx, _layout(ctx))
    if isinstance(changes, Verdict):
        if not expired:
            return changes
        return Verdict.of(
            Outcome.FAIL,
            f"{count(len(expired), 'migration waiver')} expired: renew or remove them. {changes.message}",
            [*expired, *changes.findings],
        )
    trailers = approvals(ctx.root, changes.commits)
    if trailers is None:
        return Verdict.of(
            Outcome.ERROR, f"could not verify: git could not read the commit messages {changes.scope}."
        )
    live = [w for w in ctx.settings.migrations.waivers if not w.expired(date.today())]
    judged = _sort(ctx, changes.sources, Approver(trailers, live))
    return _verdict(judged, changes, expired)
