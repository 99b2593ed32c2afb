"""Load profiles (`load.<profile>`): weighted journeys of smoke-flow steps under many simulated users, run on
Locust in a child process (`launch_gate.load`), or read from an existing k6 or Locust run; judged against
p95/p99 budgets per journey and overall, an error rate and a minimum throughput.

They run from `launch-gate load` (and in `launch-gate check` only with `[load] in-gate = true`: a load run
takes its duration). A run that sent nothing, lost a worker, or left no result is could not verify.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import asdict
from functools import partial
from pathlib import Path

from launch_gate.checks import Check, Context, configured, new_check
from launch_gate.config import Settings
from launch_gate.load.budgets import LoadBudgets, LoadSummary, headline, judge
from launch_gate.load.chart import markdown_page
from launch_gate.load.readers import from_k6, from_locust_csv
from launch_gate.load.runner import START_GRACE, output_dir, run_profile
from launch_gate.load.spec import caps, profile_of
from launch_gate.results import Finding, Outcome, Phase, Verdict


def budgets(settings: Settings, name: str) -> LoadBudgets:
    profile = profile_of(settings, name)
    return LoadBudgets(
        profile.p95_ms,
        profile.p99_ms,
        profile.error_rate,
        profile.min_rps,
        {
            j: (journey.p95_ms or profile.p95_ms, journey.p99_ms or profile.p99_ms)
            for j, journey in profile.journeys.items()
        },
    )


def measure(settings: Settings, name: str, ctx: Context) -> LoadSummary:
    """The figures: from the file `from-k6`/`from-locust` names, else a Locust run of the profile."""
    table = settings.load
    journeys = list(profile_of(settings, name).journeys)
    if table.from_k6:
        return from_k6(settings.root / table.from_k6, journeys)
    if table.from_locust:
        return from_locust_csv(settings.root / table.from_locust, journeys)
    return run_profile(settings, name, ctx.environ)


def _metrics(settings: Settings, name: str, summary: LoadSummary) -> dict[str, object]:
    overall = summary.overall
    journeys = {
        j: {k: v for k, v in asdict(f).items() if k != "first_failure"} for j, f in summary.journeys.items()
    }
    metrics: dict[str, object] = {
        "profile": name,
        "source": summary.source,
        "requests": overall.requests,
        "failures": overall.failures,
        "error_rate": round(overall.error_rate, 4),
        "p50_ms": overall.p50_ms,
        "p95_ms": overall.p95_ms,
        "p99_ms": overall.p99_ms,
        "rps": summary.rps,
        "elapsed_s": summary.elapsed_s,
        "budget_p95_ms": profile_of(settings, name).p95_ms,
        "journeys": journeys,
        "series": {j: [list(p) for p in points] for j, points in summary.series.items()},
    }
    if not (settings.load.from_k6 or settings.load.from_locust):
        metrics["caps"] = caps(settings, name).sentence() + (
            f"; stopped by {summary.stopped_by}" if summary.stopped_by else ""
        )
        metrics["reports"] = str(output_dir(settings, name))
    return metrics


def check_profile(name: str, ctx: Context) -> Verdict:
    """`load.<name>`: measure, then judge against the profile's budgets."""
    settings = ctx.settings
    if settings.is_production and not settings.load.allow_production:
        return Verdict.of(
            Outcome.SKIP,
            f"not run: environment is {settings.environment!r} and load journeys create data under load; run "
            "them against staging, or set [load] allow-production = true",
        )
    summary = measure(settings, name, ctx)
    judgement = judge(summary, budgets(settings, name))
    metrics = _metrics(settings, name, summary)
    figures = headline(summary)
    stated = f"; {metrics['caps']}" if "caps" in metrics else ""
    where = f"{name} ({summary.source})"
    if judgement.outcome is Outcome.ERROR:
        verdict = Verdict.of(
            Outcome.ERROR,
            f"could not verify {where}: {'; '.join(judgement.doubts)}" + (f"; {figures}" if figures else ""),
            metrics=metrics,
        )
    elif judgement.outcome is Outcome.FAIL:
        findings = [Finding(o) for o in (*judgement.over, *judgement.doubts)]
        verdict = Verdict.of(
            Outcome.FAIL, f"{where}: {judgement.over[0]}; {figures}{stated}", findings, metrics
        )
    else:
        verdict = Verdict.of(Outcome.PASS, f"{where}: {figures}{stated}", metrics=metrics)
    _page(settings, name, verdict)
    return verdict


def _page(settings: Settings, name: str, verdict: Verdict) -> None:
    """The profile's Markdown page (p95 over time per journey) beside Locust's reports; best effort."""
    if settings.load.from_k6 or settings.load.from_locust:
        return
    path = Path(str(verdict.metrics.get("reports", ""))) / "report.md"
    if path.parent.is_dir():
        with suppress(OSError):  # the verdict stands; the page is a convenience
            path.write_text(markdown_page(name, verdict.metrics, verdict.message), encoding="utf-8")


def _timeout(name: str, settings: Settings) -> float:
    profile = profile_of(settings, name)
    table = settings.load
    waits = table.connect_within if table.mode != "local" else 0.0
    return profile.duration + waits + 2 * START_GRACE + 15


@configured
def checks_for(settings: Settings) -> tuple[Check, ...]:
    """One check per load profile, when the run asks for them (`launch-gate load`, or `[load] in-gate`)."""
    if not settings.load.in_gate:
        return ()
    return tuple(
        new_check(
            f"load.{name}",
            Phase.POST,
            f"profile {name!r}: {profile.users} {profile.shape} users for {profile.duration:g} s on Locust, "
            "p95/p99 per journey, errors and throughput within budget",
            partial(check_profile, name),
            needs_target="to run load profiles",
            timeout=partial(_timeout, name),
            stage=2,
            fails_when=(
                "one per profile in `[load.profiles]`, run by `launch-gate load` (or in the gate with `[load] "
                "in-gate`): a journey's or the overall p95 (or p99) over its budget, the error rate over "
                "`error-rate`, or throughput under `min-rps`. *Could not verify*: no request sent, none "
                "answered, a journey without a measured request, a worker lost or never connected, a Locust "
                "process that crashed or left no result. Skipped against production unless `allow-production`"
            ),
        )
        for name, profile in settings.load.profiles.items()
    )
