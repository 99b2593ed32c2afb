"""`launch-gate handover` and `check --summary-md PATH --handover`: the gate result (run now, or read from a
JSON report), the checks the pack reads its facts from, the pack's own lookups, written as Markdown."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from launch_gate.config import Settings, load_settings
from launch_gate.errors import ConfigError
from launch_gate.handover.facts import Facts, gather
from launch_gate.handover.pack import Inputs, render, rollback
from launch_gate.report.interface import Reporter
from launch_gate.report.markdown import render as summary
from launch_gate.report.progress import progress_for
from launch_gate.results import CheckResult, ExitCode, Finding, GateReport, Outcome, Phase
from launch_gate.runner import Planned, Progress, build_plan, make_context, run_plan_async

# The checks whose results the pack reads its facts from (registrar, certificate, CDN, health endpoint).
FACT_CHECKS = ("domain.registration", "tls.expiry", "edge.protection", "health.dependencies")


def overrides(args: argparse.Namespace) -> dict[str, object]:
    return {
        "target": getattr(args, "target", None),
        "environment": getattr(args, "environment", None),
        "timeout": getattr(args, "timeout", None),
    }


def read_report(path: Path) -> GateReport:
    """A `--report-json` file as a GateReport; anything else is a ConfigError naming the file."""
    shown = os.fsdecode(path)
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"--report-json {shown}: cannot read it ({exc.strerror or type(exc).__name__})."
        ) from None
    except ValueError:
        raise ConfigError(
            f"--report-json {shown} is not JSON; give a file written by `launch-gate check --report-json`."
        ) from None
    try:
        results = tuple(_result(item) for item in data["checks"])
        return GateReport(str(data["phase"]), results, tuple(str(c) for c in data.get("config", ())))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ConfigError(
            f"--report-json {shown} is not a launch-gate JSON report (each of its `checks` needs id, phase, "
            "outcome and message); give a file written by `launch-gate check --report-json`."
        ) from None


def _result(item: Mapping[str, object]) -> CheckResult:
    findings = item.get("findings") or []
    metrics = item.get("metrics") or {}
    if not isinstance(findings, list) or not isinstance(metrics, dict):
        raise TypeError("findings and metrics")
    return CheckResult(
        str(item["id"]),
        Phase(str(item["phase"])),
        Outcome(str(item["outcome"])),
        str(item["message"]),
        float(str(item.get("duration_ms", 0.0))),
        tuple(Finding(str(f["message"])) for f in findings),
        metrics,
    )


def plan_for(settings: Settings, select: Sequence[str], have: GateReport | None) -> list[Planned]:
    """With a gate result (`have`), the fact checks it lacks; without, the post checks (narrowed by `select`,
    the fact checks always in)."""
    if have is not None:
        known = {r.id for r in have.results}
        wanted = [c for c in FACT_CHECKS if c not in known]
        return build_plan(settings, "post", wanted) if wanted else []
    return build_plan(settings, "post", [*select, *FACT_CHECKS] if select else ())


async def _collect(
    settings: Settings, plan: list[Planned], progress: Progress | None = None
) -> tuple[list[CheckResult], Facts]:
    """The planned checks' results and the pack's own lookups, concurrently."""
    results, facts = await asyncio.gather(
        run_plan_async(plan, make_context(settings), progress), gather(settings)
    )
    return results, facts


def pack(
    settings: Settings, report: GateReport, extra: Sequence[CheckResult], facts: Facts, source: str
) -> str:
    """The pack's Markdown for `report`, the fact checks' results it lacks taken from `extra`."""
    return render(Inputs(settings, report, facts, os.environ, datetime.now(UTC), source, tuple(extra)))


def run_handover(args: argparse.Namespace) -> int:
    """The `handover` command: write the pack to `--output` (default: standard output); exit 0 when
    written, 3 when it could not be, 4 for bad usage or configuration."""
    settings = load_settings(config_file=args.config, overrides=overrides(args))
    rollback(settings)  # an unreadable rollback-file is exit 4 before anything runs
    have = read_report(args.report_json) if args.report_json else None
    plan = plan_for(settings, args.select, have)
    with progress_for(sys.stderr, os.environ, len(plan), args.quiet or not plan) as progress:
        results, facts = asyncio.run(_collect(settings, plan, progress))
    if have is None:
        report, source = GateReport("post", tuple(results)), "the post checks, run just now"
    else:
        report, source = have, f"the report {os.fsdecode(args.report_json)}"
    text = pack(settings, report, results if have else (), facts, source)
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.READY
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(
            f"launch-gate: could not write the handover pack to {os.fsdecode(args.output)}: "
            f"{exc.strerror or type(exc).__name__}. Fix the path or its folder.",
            file=sys.stderr,
        )
        return ExitCode.REPORT_NOT_WRITTEN
    if not args.quiet:
        print(f"launch-gate: wrote the handover pack to {os.fsdecode(args.output)}", file=sys.stderr)
    return ExitCode.READY


class PackSummary(Reporter):
    """The Markdown summary with the handover pack after it (`check --summary-md PATH --handover`)."""

    name = "Markdown summary with the handover pack"
    flag = "--summary-md"
    help = "write a Markdown summary here"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def format(self, report: GateReport) -> str:
        extra, facts = asyncio.run(_collect(self.settings, plan_for(self.settings, (), report)))
        return summary(report) + "\n" + pack(self.settings, report, extra, facts, "this run")


def with_pack(reporters: Mapping[str, Reporter], args: argparse.Namespace) -> dict[str, Reporter]:
    """`reporters` with the Markdown summary replaced by one that adds the handover pack."""
    if getattr(args, "summary_md", None) is None or "--summary-md" not in reporters:
        raise ConfigError(
            "--handover adds the handover pack to the Markdown summary: give --summary-md PATH too."
        )
    settings = load_settings(config_file=args.config, overrides=overrides(args))
    rollback(settings)
    return {**reporters, "--summary-md": PackSummary(settings)}
