"""Dependency audit: pip-audit through its command line (its Python API is private), judged fail-closed.

pip-audit exits 0 when every dependency was skipped, 1 for vulnerabilities and for outages alike, and reads
an empty answer from its service as "no vulnerabilities". So its exit code is not trusted: its JSON is read,
a skipped dependency or an unreadable answer is an error, and a canary (a pinned release with known
vulnerabilities) is audited beside the project: if the service finds nothing in the canary, it cannot be
trusted to have found nothing in the project either.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from launch_gate.checks import Context, check
from launch_gate.config import Settings
from launch_gate.config.schema import DepsTable
from launch_gate.errors import ConfigError
from launch_gate.redact import scrub
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.words import count

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Source:
    """What pip-audit audits: its arguments, the file findings point at, and words for messages."""

    args: tuple[str, ...]
    files: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class Audit:
    """pip-audit's answer: audited dependencies, vulnerabilities, skips; or why there is no answer."""

    audited: int = 0
    vulns: tuple[
        tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...
    ] = ()  # name, version, id, aliases, fixes
    skipped: tuple[tuple[str, str], ...] = ()  # name, reason
    problem: str | None = None


def choose_source(ctx: Context) -> Source | None:
    """What to audit. `auto`: the configured requirements, else [project] dependencies, else a root
    requirements.txt; never silently the environment launch-gate runs in (under pre-commit or the Action,
    that is launch-gate's own, not the project's). None: nothing to audit."""
    table = ctx.settings.deps
    kind: str = table.source
    requirements = list(table.requirements)
    if kind == "auto":
        if not requirements and not _has_project(ctx.root) and (ctx.root / "requirements.txt").is_file():
            requirements = ["requirements.txt"]
        kind = "requirements" if requirements else "project" if _has_project(ctx.root) else "none"
    if kind == "none":
        return None
    if kind == "project":
        return Source((str(ctx.root),), ("pyproject.toml",), "pyproject.toml's dependencies")
    if kind == "environment":
        return Source((), (), f"the environment of {sys.executable}")
    if not requirements:
        raise ConfigError(
            f"{ctx.settings.where('deps', 'source')} is 'requirements' but no requirements are listed."
        )
    for name in requirements:
        if not (ctx.root / name).is_file():
            raise ConfigError(
                f"{ctx.settings.where('deps', 'requirements')} names {name}, which does not exist."
            )
    args = [arg for name in requirements for arg in ("-r", str(ctx.root / name))]
    if table.locked:
        args += ["--no-deps", "--disable-pip"]
    return Source(tuple(args), tuple(requirements), ", ".join(requirements))


def _has_project(root: Path) -> bool:
    import tomllib

    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(data.get("project", {}).get("dependencies"))


def _command(table: DepsTable, source_args: tuple[str, ...], cache: str) -> list[str]:
    return [
        sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off",
        "--vulnerability-service", table.service, "--timeout", str(table.request_timeout),
        "--cache-dir", cache, *source_args,
    ]  # fmt: skip


def parse(stdout: str, stderr: str, returncode: int) -> Audit:
    """pip-audit's JSON, or the reason there is none. Never trusts the exit code alone."""
    try:
        data = json.loads(stdout)
        deps = data["dependencies"]
        assert isinstance(deps, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        tail = scrub(
            stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {returncode}, no output"
        )
        return Audit(problem=f"pip-audit gave no report ({tail[:300]})")
    vulns, skipped, audited = [], [], 0
    for dep in deps:
        if "skip_reason" in dep:
            skipped.append((str(dep.get("name")), str(dep["skip_reason"])))
            continue
        audited += 1
        for vuln in dep.get("vulns", []):
            fixes = tuple(str(v) for v in vuln.get("fix_versions", []))
            aliases = tuple(str(a) for a in vuln.get("aliases", []))
            vulns.append((str(dep["name"]), str(dep["version"]), str(vuln["id"]), aliases, fixes))
    return Audit(audited, tuple(vulns), tuple(skipped))


async def run_pip_audit(table: DepsTable, source_args: tuple[str, ...], cwd: Path) -> Audit:
    with tempfile.TemporaryDirectory(prefix="launch-gate-audit-") as cache:  # a fresh cache: no stale answers
        proc = await asyncio.create_subprocess_exec(
            *_command(table, source_args, cache),
            cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(proc.communicate(), table.timeout)
        except TimeoutError:
            return Audit(problem=f"pip-audit did not finish within {table.timeout:g} s ([deps] timeout)")
        finally:
            if proc.returncode is None:  # timed out, or the gate itself was cancelled
                proc.kill()
                await proc.wait()
    return parse(out.decode(errors="replace"), err.decode(errors="replace"), proc.returncode or 0)


def _line_of(root: Path, files: tuple[str, ...], package: str) -> tuple[str | None, int | None]:
    """Where a package is named, so annotations and SARIF can point at it."""
    wanted = package.lower().replace("_", "-")
    for name in files:
        try:
            lines = (root / name).read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, start=1):
            match = _NAME.match(line.split("#", 1)[0].replace('"', " ").strip())
            if match and match[1].lower().replace("_", "-") == wanted:
                return name, number
        return name, 1
    return None, None


def judge(ctx: Context, source: Source, audit: Audit, canary: Audit | None) -> Verdict:
    table = ctx.settings.deps
    today = date.today()
    live = {w.id for w in table.waivers if not w.expired(today)}
    expired = [
        Finding(f"waiver {w.id} expired on {w.expires} ({w.reason})")
        for w in table.waivers
        if w.expired(today)
    ]
    open_vulns = [v for v in audit.vulns if v[2] not in live and not live.intersection(v[3])]
    vuln_findings = []
    for name, version, vuln_id, aliases, fixes in open_vulns:
        file, line = _line_of(ctx.root, source.files, name)
        also = f" ({', '.join(aliases)})" if aliases else ""
        fix = f"fixed in {', '.join(fixes)}" if fixes else "no fixed release yet"
        vuln_findings.append(Finding(f"{name} {version}: {vuln_id}{also}, {fix}", file=file, line=line))
    errors = [Finding(f"{name} was not audited: {reason}") for name, reason in audit.skipped]
    if audit.problem:
        errors.append(Finding(audit.problem))
    elif audit.audited == 0:
        errors.append(Finding(f"nothing was audited in {source.label}"))
    if canary is not None and not audit.problem and (canary.problem or not canary.vulns):
        errors.append(Finding(
                f"the {table.service} vulnerability service reported no vulnerability in the canary {table.canary}, "
                "which has known ones: its answers cannot be trusted"
            ))  # fmt: skip
    if vuln_findings or expired:
        message = (
            f"{len(vuln_findings)} known vulnerabilities in {source.label}; upgrade to the fixed versions"
        )
        if expired:
            message += f"; {count(len(expired), 'waiver')} expired (renew or remove them)"
        return Verdict.of(Outcome.FAIL, message + ".", [*vuln_findings, *expired, *errors])
    if errors:
        return Verdict.of(
            Outcome.ERROR,
            f"could not verify {source.label}: {errors[0].message}"
            + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""),
            errors,
        )
    waived = len(audit.vulns)
    note = f"; {waived} waived" if waived else ""
    return Verdict.of(
        Outcome.PASS,
        f"no known vulnerabilities in {count(audit.audited, 'dependency', 'dependencies')} of {source.label}{note}",
    )


def _audit_timeout(settings: Settings) -> float:
    return settings.deps.timeout + 30  # pip-audit's own limit comes first


@check(
    "deps.audit",
    Phase.PRE,
    "no known-vulnerable dependencies (pip-audit)",
    timeout=_audit_timeout,
    fails_when="pip-audit finds a known vulnerability in your dependencies",
)
async def check_audit(ctx: Context) -> Verdict:
    source = choose_source(ctx)
    if source is None:
        return Verdict.of(
            Outcome.SKIP,
            "no Python dependencies found (no [deps] requirements, [project] dependencies or requirements.txt); "
            'set [deps] source = "environment" to audit the environment launch-gate runs in.',
        )
    table = ctx.settings.deps
    jobs = [run_pip_audit(table, source.args, ctx.root)]
    if table.canary:
        with tempfile.TemporaryDirectory(prefix="launch-gate-canary-") as tmp:
            canary_file = Path(tmp) / "canary.txt"
            canary_file.write_text(table.canary + "\n")
            jobs.append(
                run_pip_audit(table, ("-r", str(canary_file), "--no-deps", "--disable-pip"), ctx.root)
            )
            audit, canary = await asyncio.gather(*jobs)
        return judge(ctx, source, audit, canary)
    [audit] = await asyncio.gather(*jobs)
    return judge(ctx, source, audit, None)
