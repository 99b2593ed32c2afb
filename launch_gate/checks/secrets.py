"""Secret checks: the repository, what changed since a base (or what a push sends), and the built client bundle.

Findings show file, line, the detector types that found it and detect-secrets' SHA-1 of the secret (the id a
waiver or `.secrets.baseline` uses), never the secret: one finding per secret per file, however many detectors
found it. Placeholder values (`changeme`) are set aside and counted. Paths that could not be scanned (unreadable,
a symlink loop, a symlink out of the project, which is never followed) make the check an error, and so does a
scan of nothing (every file excluded, nothing tracked, an empty bundle directory): 0 files is not clean.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from launch_gate.checks import Context, check
from launch_gate.config.schema import Waiver
from launch_gate.errors import ConfigError
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.words import count
from launch_gate.secretscan import sources
from launch_gate.secretscan.engine import NotScanned, ScanReport, SecretHit, scan

DEFAULT_BASELINE = ".secrets.baseline"


@dataclass(frozen=True)
class Accepted:
    """Findings the project accepted: (file, hash) pairs from the baseline, hashes from unexpired waivers."""

    baseline: frozenset[tuple[str, str]] = frozenset()
    waived: frozenset[str] = frozenset()

    def covers(self, hit: SecretHit) -> bool:
        return hit.hashed_secret in self.waived or (hit.file, hit.hashed_secret) in self.baseline


def baseline_path(ctx: Context) -> Path | None:
    configured = ctx.settings.secrets.baseline
    path = ctx.root / (configured or DEFAULT_BASELINE)
    if configured and not path.is_file():
        raise ConfigError(
            f"{ctx.settings.where('secrets', 'baseline')} names {configured}, which does not exist."
        )
    return path if path.is_file() else None


def read_baseline(path: Path) -> frozenset[tuple[str, str]]:
    """Accepted (file, hashed_secret) pairs of a detect-secrets baseline; entries audited as real are not."""
    try:
        results = json.loads(path.read_text(encoding="utf-8"))["results"]
        return frozenset(
            (file, entry["hashed_secret"])
            for file, entries in results.items()
            for entry in entries
            if entry.get("is_secret") is not True
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"{path.name} is not a detect-secrets baseline ({type(exc).__name__}); regenerate it with "
            "`detect-secrets scan > .secrets.baseline`."
        ) from None


def live_waivers(waivers: Iterable[Waiver], today: date) -> frozenset[str]:
    return frozenset(w.id.removeprefix("sha1:") for w in waivers if not w.expired(today))


def _targets(ctx: Context, listing: sources.Listing, skip: Iterable[Path] = ()) -> Targets:
    """The files to scan as (path, printable name), and what cannot be scanned; [secrets] exclude applies
    to both (listing an unreadable path there is how a project accepts not scanning it)."""
    skipped = {os.path.normpath(os.path.relpath(p, ctx.root)) for p in skip}
    patterns = ctx.settings.secrets.exclude
    files = [
        (ctx.root / name, sources.display(name))
        for name in listing.files
        if not sources.excluded(name, patterns) and os.path.normpath(name) not in skipped
    ]
    unscannable = [
        NotScanned(sources.display(name), reason)
        for name, reason in listing.not_scanned
        if not sources.excluded(name, patterns)
    ]
    return Targets(files, unscannable)


@dataclass(frozen=True)
class Targets:
    files: list[tuple[Path, str]]
    not_scanned: list[NotScanned]


def _nothing_scanned(ctx: Context, listing: sources.Listing, targets: Targets, empty: str) -> Verdict | None:
    """A scan that read nothing proves nothing: could not verify, saying why nothing was scanned (`empty`:
    why there was nothing to list), rather than "no secrets (0 files)"."""
    if targets.files or targets.not_scanned:
        return None
    names = [*listing.files, *(name for name, _ in listing.not_scanned)]
    left_out = sum(sources.excluded(name, ctx.settings.secrets.exclude) for name in names)
    if left_out:
        why = (
            f"{ctx.settings.where('secrets', 'exclude')} leaves out "
            f"{'the only file' if len(names) == 1 else f'all {len(names)} files'}; narrow it"
        )
    elif names:
        why = "the only file is the secrets baseline"
    else:
        why = empty
    return Verdict.of(Outcome.ERROR, f"could not verify: nothing was scanned: {why}.")


@dataclass(frozen=True)
class Secret:
    """One secret in one file, however many detectors found it: its first line and every detector's type."""

    file: str
    line: int
    types: tuple[str, ...]
    hashed_secret: str


GENERIC = ("Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String")


def one_per_secret(hits: Iterable[SecretHit]) -> list[Secret]:
    """Hits grouped by (file, secret): detect-secrets reports a secret once per detector that finds it."""
    groups: dict[tuple[str, str], list[SecretHit]] = {}
    for hit in hits:
        groups.setdefault((hit.file, hit.hashed_secret), []).append(hit)
    secrets = []
    for (file, hashed), group in groups.items():
        # The provider's own detector names a secret best; the generic ones (keyword, entropy) come last.
        types = sorted({h.type for h in group}, key=lambda t: (t in GENERIC, t))
        secrets.append(Secret(file, min(h.line for h in group), tuple(types), hashed))
    return sorted(secrets, key=lambda s: (s.file, s.line, s.types))


def _finding(secret: Secret) -> Finding:
    return Finding(
        ", ".join(secret.types),
        file=secret.file,
        line=secret.line,
        fingerprint=f"sha1:{secret.hashed_secret}",
    )


def _set_aside(placeholders: Sequence[SecretHit]) -> str:
    if not placeholders:
        return ""
    number = len({(h.file, h.hashed_secret) for h in placeholders})
    kinds = ", ".join(sorted({h.placeholder for h in placeholders if h.placeholder}))
    return f"; {count(number, 'placeholder value')} set aside ({kinds})"


def _counted(report: ScanReport, secrets: Sequence[Secret]) -> str:
    distinct = len({s.hashed_secret for s in secrets})
    places = f" in {count(len(secrets), 'place')}" if len(secrets) != distinct else ""
    return f"{count(distinct, 'secret')}{places} in {count(len({s.file for s in secrets}), 'file')}"


def judge(report: ScanReport, accepted: Accepted, scope: str, advice: str) -> Verdict:
    """Fail on any secret not accepted; error when anything could not be scanned; else pass. A value the
    placeholder rules recognise (`changeme`, `<your-key>`) is set aside and counted, not reported."""
    pending = [h for h in report.hits if not accepted.covers(h)]
    placeholders = [h for h in pending if h.placeholder]
    secrets = one_per_secret(h for h in pending if not h.placeholder)
    unscanned = [Finding(f"not scanned: {n.reason}", file=n.file) for n in report.not_scanned]
    counted = (
        f"{count(report.files, 'file')}, {report.bytes / 1e6:.1f} MB"
        + (f", {report.binary} binary skipped" if report.binary else "")
        + _set_aside(placeholders)
    )
    if secrets:
        return Verdict.of(
            Outcome.FAIL,
            f"{_counted(report, secrets)} of {scope} ({counted}). {advice}",
            [*map(_finding, secrets), *unscanned],
        )
    if unscanned:
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: {count(len(unscanned), 'path')} of {scope} could not be scanned ({counted}); they are "
            "not counted as clean. Make them readable, raise [secrets] max-file-bytes for large files, or "
            "list them in [secrets] exclude.",
            unscanned,
        )
    accepted_count = len({(h.file, h.hashed_secret) for h in report.hits if accepted.covers(h)})
    note = f"; {accepted_count} accepted by baseline or waiver" if accepted_count else ""
    return Verdict.of(Outcome.PASS, f"no secrets in {scope} ({counted}{note})")


ROTATE = (
    "Remove them and rotate each one (it is in git history). A known false positive can be accepted with "
    "`# pragma: allowlist secret`, a .secrets.baseline entry, or a [[secrets.waivers]] entry with its sha1."
)


def _accepted(ctx: Context) -> Accepted:
    path = baseline_path(ctx)
    return Accepted(
        read_baseline(path) if path else frozenset(),
        live_waivers(ctx.settings.secrets.waivers, date.today()),
    )


def _scan(ctx: Context, targets: Targets, bundle: bool = False) -> ScanReport:
    report = scan(targets.files, bundle=bundle, max_bytes=ctx.settings.secrets.max_file_bytes)
    report.not_scanned = sorted([*report.not_scanned, *targets.not_scanned], key=lambda n: n.file)
    return report


def _baseline_skip(ctx: Context) -> list[Path]:
    path = baseline_path(ctx)
    return [path] if path else []


NOTHING_TRACKED = (
    "git lists no files here (none committed or staged, and every other one is in .gitignore); add the "
    "project's files"
)
NO_FILES = "the project directory holds no files"


@check(
    "secrets.repo",
    Phase.PRE,
    "no secrets in the files git tracks (or would)",
    fails_when="a secret is in a file git tracks, or an untracked file git does not ignore",
)
def check_repo(ctx: Context) -> Verdict:
    listing, from_git = sources.repo_files(ctx.root)
    targets = _targets(ctx, listing, _baseline_skip(ctx))
    empty = _nothing_scanned(ctx, listing, targets, NOTHING_TRACKED if from_git else NO_FILES)
    report = _scan(ctx, targets)
    scope = "the repository" if from_git else "the project directory (not a git repository: every file)"
    verdict = empty or judge(report, _accepted(ctx), scope, ROTATE)
    expired = [w for w in ctx.settings.secrets.waivers if w.expired(date.today())]
    if not expired:
        return verdict
    stale = [Finding(f"waiver {w.id} expired on {w.expires} ({w.reason})") for w in expired]
    return Verdict.of(
        Outcome.FAIL,
        f"{len(expired)} secret waivers expired: renew them with a new date or remove them. {verdict.message}",
        [*stale, *verdict.findings],
    )


FETCH_BASE = (
    "To scan only what changed, make the base reachable: `git fetch origin {ref}` (in GitHub Actions, "
    "actions/checkout with `fetch-depth: 0`), or fix --base / [secrets] base."
)


def _sentence(text: str) -> str:
    """`text` as a sentence of a longer message: capitalised, ending in a full stop."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _whole_repository(ctx: Context, base: sources.Base) -> Verdict:
    """No diff to take: scan every file, and say why in the result (a pass becomes a warning when the base
    was asked for and is missing, so nobody takes a full scan for the diff they asked for, or the reverse)."""
    listing, from_git = sources.repo_files(ctx.root)
    targets = _targets(ctx, listing, _baseline_skip(ctx))
    empty = _nothing_scanned(ctx, listing, targets, NOTHING_TRACKED if from_git else NO_FILES)
    report = _scan(ctx, targets)
    if not from_git:
        why = f"there is no git repository here to diff against base {base.ref} ({base.origin})"
    elif base.ref == sources.ZERO_SHA:
        return empty or judge(report, _accepted(ctx), "the repository (a new branch: every file)", ROTATE)
    else:
        why = f"base {base.ref} ({base.origin}) was not found in this clone"
    scope = "the whole repository" if from_git else "the project directory"
    verdict = empty or judge(report, _accepted(ctx), scope, ROTATE)
    outcome = Outcome.WARN if verdict.outcome is Outcome.PASS else verdict.outcome
    fix = FETCH_BASE.format(ref=base.ref.removeprefix("origin/")) if from_git else "Run it in a git clone."
    message = f"{why}, so {scope} was scanned instead. {_sentence(verdict.message)} {fix}"
    return Verdict.of(outcome, message, list(verdict.findings))


PUSH_ADVICE = (
    "Take them out of the commits being pushed (amend or rebase: a later commit that deletes a secret still "
    "pushes it) and rotate any that ever left this machine. A known false positive can be accepted with "
    "`# pragma: allowlist secret`, a .secrets.baseline entry, or a [[secrets.waivers]] entry with its sha1."
)


def _blob_targets(ctx: Context, checkout: sources.Checkout) -> Targets:
    """The pushed versions to scan, under their repository paths; [secrets] exclude and the baseline apply."""
    baseline = baseline_path(ctx)
    skipped = {os.path.normpath(os.path.relpath(baseline, ctx.root))} if baseline else set()
    patterns = ctx.settings.secrets.exclude
    files = [
        (path, sources.display(name))
        for path, name in checkout.files
        if not sources.excluded(name, patterns) and os.path.normpath(name) not in skipped
    ]
    unscannable = [
        NotScanned(sources.display(name), reason)
        for name, reason in checkout.not_scanned
        if not sources.excluded(name, patterns)
    ]
    return Targets(files, unscannable)


def _pushed(ctx: Context, push: sources.Push, since: str | None = None) -> Verdict:
    """Scan every file version the push's new commits add: what leaves this machine, not the work tree.
    `since`: the base of a range of commits (pre-commit's refs given to `check`), named in the result."""
    scope = f"since {since}" if since else "being pushed"
    pushed = sources.pushed_versions(ctx.root, push)
    if pushed is None:
        return Verdict.of(Outcome.ERROR, sources.unlisted(scope, push))
    commits, versions = pushed
    if not commits:
        return Verdict.of(
            Outcome.PASS, f"nothing new {scope}: every commit is already on a remote-tracking branch"
        )
    if not versions:
        return Verdict.of(
            Outcome.PASS,
            f"{count(len(commits), 'new commit')} {scope} "
            f"{'adds or changes' if len(commits) == 1 else 'add or change'} no file (deletions only)",
        )
    with sources.checked_out(ctx.root, versions, ctx.settings.secrets.max_file_bytes) as checkout:
        if checkout is None:
            return Verdict.of(Outcome.ERROR, f"could not verify: git could not read the files {scope}.")
        targets = _blob_targets(ctx, checkout)
        paths = sorted({v.path for v in versions})
        empty = _nothing_scanned(ctx, sources.Listing(paths), targets, "no file")
        report = _scan(ctx, targets)
    changed = f"{count(len(paths), 'file')} changed"
    commits_text = count(len(commits), "new commit")
    where = f"{changed} {scope} ({commits_text})" if since else f"{changed} by {commits_text} {scope}"
    return empty or judge(report, _accepted(ctx), where, PUSH_ADVICE)


@check(
    "secrets.diff",
    Phase.PRE,
    "no secrets in what changed since the base ref, or in what a push sends",
    fails_when=(
        "a secret is in a file changed since the base ref (`--base`, or the pull request's base), or in any "
        "version of a file that the commits being pushed add (`launch-gate pre-push`, pre-commit's push refs)"
    ),
)
def check_diff(ctx: Context) -> Verdict:
    if ctx.push is not None:
        return _pushed(ctx, ctx.push)
    base = sources.find_base(ctx.settings.secrets.base, ctx.environ)
    if base is None:
        return Verdict.of(
            Outcome.SKIP, "no base to diff against: pass --base REF (secrets.repo scans everything anyway)."
        )
    if base.to and base.ref != sources.ZERO_SHA:  # a range of commits: pre-commit's push refs
        return _pushed(ctx, sources.Push.between(base.ref, base.to, base.origin), base.ref)
    changed = sources.changed_files(ctx.root, base)
    if changed is None:
        return _whole_repository(ctx, base)
    report = _scan(ctx, _targets(ctx, changed, _baseline_skip(ctx)))
    number = len(changed.files) + len(changed.not_scanned)
    return judge(report, _accepted(ctx), f"{count(number, 'file')} changed since {base.ref}", ROTATE)


def _holds(listing: sources.Listing, directory: str) -> bool:
    """Whether the listing has anything (scannable or not) in `directory`."""
    top = os.path.normpath(directory)
    names = [*listing.files, *(name for name, _ in listing.not_scanned)]
    return top == "." or any(
        os.path.normpath(n) == top or os.path.normpath(n).startswith(top + "/") for n in names
    )


def _are_empty(dirs: Sequence[str]) -> str:
    if len(dirs) == 1:
        return f"bundle directory {dirs[0]} is empty"
    return f"bundle directories {', '.join(dirs)} are empty"


@check(
    "secrets.bundle",
    Phase.PRE,
    "no secrets in the built client bundle",
    fails_when="a secret is anywhere in the built client bundle (`bundle-dirs`): shipped to every visitor",
)
def check_bundle(ctx: Context) -> Verdict:
    dirs = ctx.settings.secrets.bundle_dirs
    if not dirs:
        return Verdict.of(Outcome.SKIP, "no bundle-dirs configured in [tool.launch-gate.secrets].")
    listing, missing = sources.bundle_files(ctx.root, dirs)
    if missing:
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: bundle directories {', '.join(missing)} do not exist; build the client bundle "
            "before the gate runs, or fix [secrets] bundle-dirs.",
        )
    hollow = [d for d in dirs if not _holds(listing, d)]
    if hollow:
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: nothing was scanned: {_are_empty(hollow)}; build the client bundle before the "
            "gate runs, or fix [secrets] bundle-dirs.",
        )
    targets = _targets(ctx, listing)
    empty = _nothing_scanned(ctx, listing, targets, "the bundle directories hold no files")
    if empty:
        return empty
    # Shipped to every visitor's browser: no pragma or baseline makes that acceptable; a waiver still can.
    report = _scan(ctx, targets, bundle=True)
    accepted = Accepted(waived=live_waivers(ctx.settings.secrets.waivers, date.today()))
    advice = "Anything in the bundle is public: move the secret to the server and rotate it."
    return judge(report, accepted, f"the client bundle ({', '.join(dirs)})", advice)
