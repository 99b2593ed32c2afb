"""A Markdown summary, sized for GitHub's job summary page (`GITHUB_STEP_SUMMARY`)."""

from __future__ import annotations

from launch_gate.load.chart import mermaid
from launch_gate.redact import scrub
from launch_gate.report.interface import Reporter
from launch_gate.report.latency_view import latency_rows
from launch_gate.report.latency_view import milliseconds as ms
from launch_gate.results import CheckResult, GateReport, Outcome
from launch_gate.rules.words import count

ICONS = {
    Outcome.PASS: "✅ pass",
    Outcome.WARN: "⚠️ warn",
    Outcome.FAIL: "❌ fail",
    Outcome.ERROR: "⛔ could not verify",
    Outcome.SKIP: "⏭️ skip",
}
HEADLINES = {
    "ready": "✅ launch-gate: ready to launch",
    "failed": "❌ launch-gate: blocked, a check failed",
    "error": "⛔ launch-gate: blocked, a check could not be verified",
    "config-error": "⛔ launch-gate: blocked, a check found the configuration unusable",
}


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return scrub(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _findings(result: CheckResult) -> list[str]:
    lines = [
        f"<details><summary><code>{result.id}</code>: {count(len(result.findings), 'finding')}</summary>",
        "",
    ]
    for f in result.findings:
        where = f"`{cell(f.file)}:{f.line}` " if f.file else ""
        extra = f" (`{f.fingerprint}`)" if f.fingerprint else ""
        lines.append(f"- {where}{cell(f.message)}{extra}")
    return [*lines, "", "</details>", ""]


def latency_section(report: GateReport) -> list[str]:
    """Per-route latency as a Mermaid chart (bars: p95; line: each route's p95 budget) and a table."""
    rows = latency_rows(report.results)
    if not rows:
        return []
    names = ", ".join(f'"{name}"' for name, *_ in rows)
    top = max(max(p99, budget or 0.0) for _, _, _, p99, budget in rows) * 1.1
    lines = [
        "### Latency by route",
        "",
        "```mermaid",
        "xychart-beta",
        '    title "p95 latency by route (ms); line: p95 budget"',
        f"    x-axis [{names}]",
        f'    y-axis "milliseconds" 0 --> {max(top, 1):.0f}',
        f"    bar [{', '.join(f'{p95:.1f}' for _, _, p95, _, _ in rows)}]",
    ]
    if all(budget is not None for *_, budget in rows):
        lines.append(f"    line [{', '.join(f'{budget:g}' for *_, budget in rows)}]")
    lines += ["```", "", "| Route | p50 | p95 | p99 | p95 budget |", "| --- | --- | --- | --- | --- |"]
    for name, p50, p95, p99, budget in rows:
        flag = " ❌" if budget is not None and p95 > budget else ""
        limit = f"{budget:g} ms" if budget is not None else "-"
        lines.append(f"| `{name}` | {ms(p50)} ms | {ms(p95)} ms{flag} | {ms(p99)} ms | {limit} |")
    return [*lines, ""]


def load_section(report: GateReport) -> list[str]:
    """p95 over time for each journey of each `load.<profile>` that measured a series, as a Mermaid chart."""
    lines: list[str] = []
    for result in report.results:
        series = result.metrics.get("series")
        if not result.id.startswith("load.") or not isinstance(series, dict) or not series:
            continue
        budget = result.metrics.get("budget_p95_ms")
        limit = float(budget) if isinstance(budget, int | float) else None
        profile = result.id.removeprefix("load.")
        legend = ", ".join(f"`{cell(str(name))}`" for name in series) + (", then the budget" if limit else "")
        lines += [
            f"### Load profile `{profile}`: p95 over time per journey",
            "",
            f"Lines in order: {legend}.",
            "",
        ]
        lines += [*mermaid(f"p95 over time, {profile} (ms)", series, limit), ""]
    return lines


def render(report: GateReport) -> str:
    counts = report.counts()
    lines = [
        f"## {HEADLINES[report.verdict]}",
        "",
        f"Phase `{report.phase}` · {counts['fail']} failed · {counts['error']} could not verify · "
        f"{count(counts['warn'], 'warning')} · {counts['pass']} passed · {counts['skip']} skipped · "
        f"exit code {int(report.exit_code)}",
        "",
        "| Check | Outcome | Details |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{r.id}` | {ICONS[r.outcome]} | {cell(r.message)} |" for r in report.results]
    lines.append("")
    lines += latency_section(report)
    lines += load_section(report)
    for result in report.results:
        if result.findings and result.outcome is not Outcome.PASS:
            lines += _findings(result)
    return "\n".join(lines) + "\n"


class MarkdownSummary(Reporter):
    name = "Markdown summary"
    flag = "--summary-md"
    help = "write a Markdown summary here"

    def format(self, report: GateReport) -> str:
        return render(report)
