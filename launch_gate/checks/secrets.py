"""Secret checks: the repository, what changed since a base, and the built client bundle.

Findings show file, line, detector type and detect-secrets' SHA-1 of the secret (the id a waiver or
`.secrets.baseline` uses), never the secret. Files that could not be scanned make the check an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from launch_gate.checks import Check, Context
from launch_gate.errors import ConfigError
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.scan import sources
from launch_gate.scan.engine import ScanReport, SecretHit, scan
from launch_gate.tables import Waiver

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


def _targets(ctx: Context, names: Iterable[str], skip: Iterable[Path] = ()) -> list[tuple[Path, str]]:
    skipped = {p.resolve() for p in skip}
    patterns = ctx.settings.secrets.exclude
    return [
        (ctx.root / name, name)
        for name in names
        if not sources.excluded(name, patterns) and (ctx.root / name).resolve() not in skipped
    ]


def _hit_finding(hit: SecretHit) -> Finding:
    return Finding(hit.type, file=hit.file, line=hit.line, fingerprint=f"sha1:{hit.hashed_secret}")


def judge(report: ScanReport, accepted: Accepted, scope: str, advice: str) -> Verdict:
    """Fail on any secret not accepted; error when anything could not be scanned; else pass."""
    secrets = [h for h in report.hits if not accepted.covers(h)]
    unscanned = [Finding(f"not scanned: {n.reason}", file=n.file) for n in report.not_scanned]
    counted = f"{report.files} files, {report.bytes / 1e6:.1f} MB" + (
        f", {report.binary} binary skipped" if report.binary else ""
    )
    if secrets:
        files = len({h.file for h in secrets})
        return Verdict.of(
            Outcome.FAIL,
            f"{len(secrets)} secrets in {files} files of {scope} ({counted}). {advice}",
            [*map(_hit_finding, secrets), *unscanned],
        )
    if unscanned:
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: {len(unscanned)} files of {scope} could not be scanned; they are not counted as "
            "clean. Raise [secrets] max-file-bytes or list them in [secrets] exclude.",
            unscanned,
        )
    accepted_count = len(report.hits) - len(secrets)
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


def _scan(ctx: Context, targets: Sequence[tuple[Path, str]], bundle: bool = False) -> ScanReport:
    return scan(targets, bundle=bundle, max_bytes=ctx.settings.secrets.max_file_bytes)


def check_repo(ctx: Context) -> Verdict:
    names, from_git = sources.repo_files(ctx.root)
    path = baseline_path(ctx)
    report = _scan(ctx, _targets(ctx, names, [path] if path else []))
    scope = "the repository" if from_git else "the project directory (not a git repository: every file)"
    verdict = judge(report, _accepted(ctx), scope, ROTATE)
    expired = [w for w in ctx.settings.secrets.waivers if w.expired(date.today())]
    if not expired:
        return verdict
    stale = [Finding(f"waiver {w.id} expired on {w.expires} ({w.reason})") for w in expired]
    return Verdict.of(
        Outcome.FAIL,
        f"{len(expired)} secret waivers expired: renew them with a new date or remove them. {verdict.message}",
        [*stale, *verdict.findings],
    )


def check_diff(ctx: Context) -> Verdict:
    base = sources.find_base(ctx.settings.secrets.base, ctx.environ)
    if base is None:
        return Verdict.of(
            Outcome.SKIP, "no base to diff against: pass --base REF (secrets.repo scans everything anyway)."
        )
    changed = sources.changed_files(ctx.root, base)
    path = baseline_path(ctx)
    if changed is None:
        names, _ = sources.repo_files(ctx.root)
        report = _scan(ctx, _targets(ctx, names, [path] if path else []))
        scope = (
            f"the repository (base {base.ref} from {base.origin} is not in this clone: scanned every file)"
        )
        return judge(report, _accepted(ctx), scope, ROTATE)
    report = _scan(ctx, _targets(ctx, changed, [path] if path else []))
    return judge(report, _accepted(ctx), f"{len(changed)} files changed since {base.ref}", ROTATE)


def check_bundle(ctx: Context) -> Verdict:
    dirs = ctx.settings.secrets.bundle_dirs
    if not dirs:
        return Verdict.of(Outcome.SKIP, "no bundle-dirs configured in [tool.launch-gate.secrets].")
    names, missing = sources.bundle_files(ctx.root, dirs)
    if missing:
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify: bundle directories {', '.join(missing)} do not exist; build the client bundle "
            "before the gate runs, or fix [secrets] bundle-dirs.",
        )
    # Shipped to every visitor's browser: no pragma or baseline makes that acceptable; a waiver still can.
    report = _scan(ctx, _targets(ctx, names), bundle=True)
    accepted = Accepted(waived=live_waivers(ctx.settings.secrets.waivers, date.today()))
    advice = "Anything in the bundle is public: move the secret to the server and rotate it."
    return judge(report, accepted, f"the client bundle ({', '.join(dirs)})", advice)


CHECKS = (
    Check("secrets.repo", Phase.PRE, "no secrets in the files git tracks (or would)", check_repo),
    Check("secrets.diff", Phase.PRE, "no secrets in what changed since the base ref", check_diff),
    Check("secrets.bundle", Phase.PRE, "no secrets in the built client bundle", check_bundle),
)
