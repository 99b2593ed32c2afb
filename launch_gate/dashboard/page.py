"""The dashboard as one self-contained HTML page: tables drawn here, charts drawn in the page by uPlot (MIT,
vendored in `vendor/` with its license) from the figures embedded as JSON. No request leaves the file."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from importlib.resources import files

from launch_gate.dashboard.data import Figures
from launch_gate.history import KIND_WORDS
from launch_gate.redact import scrub

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#b9c0cc}main{padding:20px 28px;display:grid;gap:20px;max-width:1200px}
section{background:#fff;border-radius:8px;padding:16px 20px;box-shadow:0 1px 2px #0001}
h2{font-size:16px;margin:0 0 12px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
th{font-weight:600;color:#555}.num{text-align:right;font-variant-numeric:tabular-nums}
.tiles{display:flex;gap:14px;flex-wrap:wrap}.tile{background:#f0f3f8;border-radius:8px;padding:10px 16px}
.tile b{display:block;font-size:26px}.good{color:#0a7a3b}.bad{color:#b3261e}.warn{color:#9a6700}
.chart{margin:6px 0 14px}.muted{color:#777}
"""

SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById("figures").textContent);
  const width = () => Math.min(1100, document.querySelector("main").clientWidth - 60);
  let drawn = 0;
  function chart(id, title, series, columns, yLabel) {
    const el = document.getElementById(id);
    if (!el || !columns[0].length) return;
    new uPlot({title: title, width: width(), height: 220, series: series,
               axes: [{}, {label: yLabel}], scales: {x: {time: true}}}, columns, el);
    drawn += 1;
  }
  data.series.forEach((s, i) => {
    const bound = s.at.map(() => s.bound_ms);
    chart("p95-" + i, s.check_id + ": p95 (ms) against its budget",
      [{}, {label: "p95", stroke: "#2266dd", width: 2},
           {label: "budget", stroke: "#9a6700", dash: [6, 4]},
           {label: "watch bound", stroke: "#b3261e", dash: [2, 4]}],
      [s.at, s.p95_ms, s.budget_ms, bound], "ms");
  });
  chart("rounds", "Checks passing per run (%)",
    [{}, {label: "passing %", stroke: "#0a7a3b", fill: "#0a7a3b22", width: 2}],
    [data.rounds.at, data.rounds.passing], "%");
  chart("deploys", "Deploys: 1 = ready, 0 = blocked",
    [{}, {label: "gate verdict", stroke: "#1d2330", width: 0, points: {show: true, size: 9, fill: "#2266dd"}}],
    [data.deploys.at, data.deploys.ready], "ready");
  chart("week", "First week: the worst route's p95 per day (ms)",
    [{}, {label: "p95", stroke: "#2266dd", width: 2, points: {show: true}}],
    [data.week.at, data.week.p95_ms], "ms");
  document.body.dataset.charts = String(drawn);
})();
"""


def _esc(value: object) -> str:
    return html.escape(scrub(str(value)))


def _time(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} %"


def _class(value: float | None) -> str:
    return "" if value is None else "good" if value >= 99.9 else "warn" if value >= 99 else "bad"


def _duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"


def _uptime(figures: Figures) -> str:
    rows = "".join(
        f"<tr><td>{_esc(u.check_id)}</td><td class='num {_class(u.windows['24 h'])}'>{_pct(u.windows['24 h'])}</td>"
        f"<td class='num {_class(u.windows['7 d'])}'>{_pct(u.windows['7 d'])}</td>"
        f"<td class='num'>{u.failures['24 h']}</td><td class='num'>{_pct(u.error_rate)}</td>"
        f"<td>{_esc(u.last_outcome)} at {_time(u.last_at)}</td></tr>"
        for u in figures.uptime
    )
    return (
        "<table><tr><th>check</th><th class='num'>uptime 24 h</th><th class='num'>uptime 7 d</th>"
        "<th class='num'>failures 24 h</th><th class='num'>error rate 24 h</th><th>last</th></tr>"
        f"{rows or '<tr><td colspan=6 class=muted>no results yet</td></tr>'}</table>"
    )


def _incidents(figures: Figures) -> str:
    rows = []
    for i in reversed(figures.incidents):
        end = i.closed_at if i.closed_at is not None else figures.now
        state = "open" if i.closed_at is None else f"closed {_time(i.closed_at)}"
        rows.append(
            f"<tr><td>{_esc(i.check_id)}</td><td>{_esc(KIND_WORDS.get(i.kind, i.kind))}</td>"
            f"<td>{_time(i.since)}</td><td class='{'bad' if i.closed_at is None else ''}'>{state}</td>"
            f"<td class='num'>{_duration(end - i.since)}</td><td>{_esc(i.last_message)}</td></tr>"
        )
    return (
        "<table><tr><th>check</th><th>kind</th><th>since</th><th>state</th><th class='num'>lasted</th>"
        f"<th>last message</th></tr>{''.join(rows) or '<tr><td colspan=6 class=muted>none</td></tr>'}</table>"
    )


def _deploys(figures: Figures) -> str:
    rows = "".join(
        f"<tr><td>{_time(r.started_at)}</td><td>{_esc((r.commit or 'unknown')[:12])}</td>"
        f"<td class='{'good' if r.verdict == 'ready' else 'bad'}'>"
        f"{'ready' if r.verdict == 'ready' else 'blocked (' + _esc(r.verdict) + ')'}</td>"
        f"<td>{_esc(r.environment or '')}</td></tr>"
        for r in reversed(figures.deploys[-30:])
    )
    return (
        "<table><tr><th>gate run</th><th>commit</th><th>verdict</th><th>environment</th></tr>"
        f"{rows or '<tr><td colspan=4 class=muted>no gate run recorded (launch-gate check --history)</td></tr>'}"
        "</table>"
    )


def _week(figures: Figures) -> str:
    rows = "".join(
        f"<tr><td>day {d.day} ({_time(d.start)})</td><td class='num'>"
        f"{'-' if d.p95_ms is None else f'{d.p95_ms:.0f} ms'}</td><td class='num'>{_pct(d.error_rate)}</td>"
        f"<td class='num'>{d.failed_runs} of {d.runs}</td></tr>"
        for d in figures.first_week
    )
    return (
        "<table><tr><th>day</th><th class='num'>worst p95</th><th class='num'>error rate</th>"
        f"<th class='num'>failed runs</th></tr>{rows or '<tr><td colspan=4 class=muted>no runs</td></tr>'}</table>"
    )


def chart_data(figures: Figures, rounds: list[tuple[float, float]]) -> dict[str, object]:
    return {
        "series": [s.__dict__ for s in figures.series],
        "rounds": {"at": [a for a, _ in rounds], "passing": [p for _, p in rounds]},
        "deploys": {
            "at": [r.started_at for r in figures.deploys],
            "ready": [1 if r.verdict == "ready" else 0 for r in figures.deploys],
        },
        "week": {
            "at": [d.start for d in figures.first_week],
            "p95_ms": [d.p95_ms for d in figures.first_week],
        },
    }


def _vendor(name: str) -> str:
    return (files("launch_gate.dashboard") / "vendor" / name).read_text(encoding="utf-8")


def render(figures: Figures, rounds: list[tuple[float, float]], where: str) -> str:
    """The whole page."""
    payload = json.dumps(chart_data(figures, rounds), allow_nan=False).replace("</", "<\\/")
    open_now = [i for i in figures.incidents if i.closed_at is None]
    tiles = "".join(
        f"<div class='tile'>{label}<b class='{_class(value)}'>{_pct(value)}</b></div>"
        for label, value in (("uptime 24 h", figures.overall["24 h"]), ("uptime 7 d", figures.overall["7 d"]))
    ) + (
        f"<div class='tile'>open incidents<b class='{'bad' if open_now else 'good'}'>{len(open_now)}</b></div>"
        f"<div class='tile'>watch rounds<b>{figures.rounds}</b></div>"
        f"<div class='tile'>gate runs<b>{len(figures.deploys)}</b></div>"
    )
    p95 = "".join(f"<div class='chart' id='p95-{n}'></div>" for n in range(len(figures.series)))
    target = ", ".join(figures.targets) or "the deployment"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>launch-gate: {_esc(target)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_vendor("uPlot.min.css")}{STYLE}</style></head>
<body><header><h1>launch-gate: {_esc(target)}</h1>
<p>generated {_time(figures.now)} from the history in {_esc(where)}</p></header>
<main>
<section><h2>Uptime</h2><div class="tiles">{tiles}</div><div class="chart" id="rounds"></div>
{_uptime(figures)}</section>
<section><h2>Response time: p95 per route against its budget</h2>
{p95 or "<p class=muted>no latency routes measured yet ([latency.routes])</p>"}</section>
<section><h2>Incidents</h2>{_incidents(figures)}</section>
<section><h2>Deploys</h2><div class="chart" id="deploys"></div>{_deploys(figures)}</section>
<section><h2>First week: error budget</h2><div class="chart" id="week"></div>{_week(figures)}</section>
</main>
<script id="figures" type="application/json">{payload}</script>
<script>{_vendor("uPlot.iife.min.js")}</script>
<script>{SCRIPT}</script>
</body></html>
"""
