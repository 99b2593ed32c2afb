"""p95 over time per journey, drawn from a check's `series` metric: a text sparkline for the terminal and a
Markdown page (a Mermaid line chart and a table) written beside Locust's reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
Series = Mapping[str, Sequence[Sequence[float]]]  # journey -> [[seconds, p95 ms, ...], ...]


def sparkline(values: Sequence[float], top: float) -> str:
    top = top or 1.0
    return "".join(BLOCKS[min(len(BLOCKS) - 1, max(0, round(v / top * (len(BLOCKS) - 1))))] for v in values)


def text_chart(series: Series, budget: float | None = None) -> list[str]:
    """One line per journey, on one scale: `home  ▁▂▁▃  p95 8-15 ms over 4.1 s`."""
    drawn: dict[str, list[float]] = {
        n: [float(p[1]) for p in points] for n, points in series.items() if points
    }
    if not drawn:
        return []
    top = max(max(v) for v in drawn.values())
    top = max(top, budget or 0.0)
    width = max(len(name) for name in drawn)
    lines = []
    for name, values in drawn.items():
        end = float(series[name][-1][0])
        over = "  OVER BUDGET" if budget is not None and max(values) > budget else ""
        span = f"p95 {min(values):.0f}-{max(values):.0f} ms over {end:.1f} s"
        lines.append(f"  {name:<{width}}  {sparkline(values, top)}  {span}{over}")
    scale = f"; budget {budget:g} ms" if budget is not None else ""
    lines.append(f"  {'':<{width}}  scale 0-{top:.0f} ms{scale}")
    return lines


def _buckets(series: Series) -> list[int]:
    times = sorted({round(float(p[0])) for points in series.values() for p in points})
    return times or [0]


def mermaid(title: str, series: Series, budget: float | None = None) -> list[str]:
    """A Mermaid xychart: one line per journey (p95 per second of the run), and the budget as a line."""
    buckets = _buckets(series)
    top = max([float(p[1]) for points in series.values() for p in points] + [budget or 0.0, 1.0]) * 1.1
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{title}"',
        f'    x-axis "seconds" [{", ".join(f"{b:g}" for b in buckets)}]',
        f'    y-axis "p95 ms" 0 --> {top:.0f}',
    ]
    for points in series.values():
        at = {round(float(p[0])): float(p[1]) for p in points}
        last = 0.0
        values = []
        for b in buckets:
            last = at.get(b, last)
            values.append(f"{last:.1f}")
        lines.append(f"    line [{', '.join(values)}]")
    if budget is not None:
        lines.append(f"    line [{', '.join(f'{budget:g}' for _ in buckets)}]")
    return [*lines, "```"]


def markdown_page(profile: str, metrics: Mapping[str, object], verdict: str) -> str:
    """The profile's page: the verdict, p95 over time per journey, and each journey's figures."""
    raw = metrics.get("series")
    series: Series = raw if isinstance(raw, dict) else {}
    budget = metrics.get("budget_p95_ms")
    limit = float(budget) if isinstance(budget, int | float) else None
    names = list(series)
    lines = [
        f"## Load profile `{profile}`",
        "",
        verdict,
        "",
        f"Source: {metrics.get('source', '?')}; {metrics.get('caps', '')}.",
        "",
    ]
    if series:
        legend = ", ".join(f"`{n}`" for n in names) + (", then the budget" if limit is not None else "")
        lines += ["### p95 over time per journey", "", f"Lines in order: {legend}.", ""]
        lines += mermaid(f"p95 over time, {profile} (ms)", series, limit)
        lines += ["", "```text", *text_chart(series, limit), "```", ""]
    journeys = metrics.get("journeys")
    if isinstance(journeys, dict) and journeys:
        lines += [
            "| Journey | Requests | Failures | p50 | p95 | p99 |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, row in journeys.items():
            cells = [row.get(k) for k in ("requests", "failures", "p50_ms", "p95_ms", "p99_ms")]
            shown = ["-" if c is None else f"{c:.0f}" if isinstance(c, float) else str(c) for c in cells]
            lines.append(
                f"| `{name}` | "
                + " | ".join(shown[:2])
                + " | "
                + " | ".join(f"{s} ms" if s != "-" else s for s in shown[2:])
                + " |"
            )
    return "\n".join(lines) + "\n"
