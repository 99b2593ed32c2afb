"""A Markdown summary, sized for GitHub's job summary page (`GITHUB_STEP_SUMMARY`)."""

from __future__ import annotations

from launch_gate.redact import scrub
from launch_gate.results import CheckResult, GateReport, Outcome

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
}


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return scrub(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _findings(result: CheckResult) -> list[str]:
    lines = [f"<details><summary><code>{result.id}</code>: {len(result.findings)} findings</summary>", ""]
    for f in result.findings:
        where = f"`{cell(f.file)}:{f.line}` " if f.file else ""
        extra = f" (`{f.fingerprint}`)" if f.fingerprint else ""
        lines.append(f"- {where}{cell(f.message)}{extra}")
    return [*lines, "", "</details>", ""]


def render(report: GateReport) -> str:
    counts = report.counts()
    lines = [
        f"## {HEADLINES[report.verdict]}",
        "",
        f"Phase `{report.phase}` · {counts['fail']} failed · {counts['error']} could not verify · "
        f"{counts['warn']} warnings · {counts['pass']} passed · {counts['skip']} skipped · "
        f"exit code {int(report.exit_code)}",
        "",
        "| Check | Outcome | Details |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{r.id}` | {ICONS[r.outcome]} | {cell(r.message)} |" for r in report.results]
    lines.append("")
    for result in report.results:
        if result.findings and result.outcome is not Outcome.PASS:
            lines += _findings(result)
    return "\n".join(lines) + "\n"
