"""The history's last hours as Markdown, sized for GitHub's job summary (`launch-gate dashboard --markdown`):
overall uptime, each check's uptime and failures, p95 against its budget, the error rate, and the window's
incidents and gate runs. The figures are the dashboard's (`dashboard.data`); every text read from the
history passes through the run's redactor before it is written."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from launch_gate.config import Settings
from launch_gate.dashboard.data import DAY, Series, Uptime, error_rate, overall, series, uptime
from launch_gate.errors import CouldNotVerify
from launch_gate.history import KIND_WORDS, History, Incident, Row, Run, core_bounds, database_url, shown_url
from launch_gate.history.urls import public_target, target_secrets
from launch_gate.redact import Redactor
from launch_gate.report.markdown import cell
from launch_gate.runner import gate_secrets

STDOUT = "-"
LISTED = 10  # incidents and gate runs listed; older ones are counted
MESSAGE = 160  # characters of an incident's last message, cut after redaction
Redact = Callable[[str], str]


@dataclass(frozen=True)
class Route:
    """A latency route over the window: its worst p95 against its budget (else the watch's bound)."""

    check_id: str
    worst_ms: float
    budget_ms: float | None
    bound_ms: float | None
    over: int  # rounds whose p95 was over that round's budget
    measured: int


@dataclass(frozen=True)
class Window:
    """What the summary shows: the history from `start` to `now`."""

    start: float
    now: float
    label: str
    runs: list[Run]
    uptime: float | None  # percent of watch rounds (else of all runs) in which every check passed
    rounds: int  # the runs that percentage counts
    basis: str  # "watch round" or "run"
    checks: list[Uptime]
    routes: dict[str, Route]
    error_rate: float | None
    incidents: list[Incident]
    deploys: list[Run]
    targets: list[str]

    @property
    def empty(self) -> bool:
        return not self.runs


def span_label(seconds: float) -> str:
    """`86400` -> `24 h`, `604800` -> `7 d`, `5400` -> `90 min`."""
    whole = round(seconds)
    if whole % DAY == 0 and whole >= 2 * DAY:
        return f"{whole // round(DAY)} d"
    if whole % 3600 == 0:
        return f"{whole // 3600} h"
    return f"{whole // 60} min" if whole % 60 == 0 else f"{whole} s"


def _route(found: Series) -> Route:
    pairs = [(p, b) for p, b in zip(found.p95_ms, found.budget_ms, strict=True) if p is not None]
    budgets = [b for _, b in pairs if b is not None]
    return Route(
        found.check_id,
        max(p for p, _ in pairs),
        budgets[-1] if budgets else None,
        found.bound_ms,
        sum(b is not None and p > b for p, b in pairs),
        len(pairs),
    )


def summarize(
    runs: Sequence[Run],
    rows: Sequence[Row],
    incidents: Sequence[Incident],
    bounds: dict[str, float],
    now: float,
    span: float = DAY,
) -> Window:
    """The window's figures, computed by the dashboard's own functions (pure)."""
    start, label = now - span, span_label(span)
    runs = [r for r in runs if start <= r.started_at <= now]
    rows = [r for r in rows if start <= r.at <= now]
    watched = [r for r in runs if r.source == "watch"]
    return Window(
        start=start,
        now=now,
        label=label,
        runs=runs,
        uptime=overall(runs, now, {label: span})[label],
        rounds=len(watched or runs),
        basis="watch round" if watched else "run",
        checks=uptime(rows, now, {label: span}, span),
        routes={s.check_id: _route(s) for s in series(rows, bounds)},
        error_rate=error_rate(rows),
        incidents=[
            i for i in incidents if i.opened_at <= now and (i.closed_at is None or i.closed_at >= start)
        ],
        deploys=[r for r in runs if r.source == "check"],
        targets=sorted({shown for r in runs if (shown := public_target(r.target))}),
    )


# --- rendering ---
def _time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%b %d %H:%M UTC")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} %"


def _mark(value: float | None) -> str:
    """The dashboard's colours as icons: 99.9 % and more is good, 99 % a warning, less is bad."""
    return "" if value is None else "✅ " if value >= 99.9 else "⚠️ " if value >= 99 else "❌ "


def _lasted(seconds: float) -> str:
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"


def _code(text: str, redact: Redact) -> str:
    return "`" + cell(redact(text)).replace("`", "'") + "`"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _p95(route: Route | None) -> str:
    if route is None:
        return "-"
    limit = route.budget_ms if route.budget_ms is not None else route.bound_ms
    if limit is None:
        return f"{route.worst_ms:.0f} ms"
    name = "budget" if route.budget_ms is not None else "watch bound"
    over = f", {route.over} of {route.measured} over" if route.over else ""
    mark = "❌ " if route.worst_ms > limit else ""
    return f"{mark}{route.worst_ms:.0f} ms ({name} {limit:g} ms{over})"


def _headline(window: Window, target: str) -> list[str]:
    open_now = sum(i.closed_at is None for i in window.incidents)
    opened = sum(i.opened_at >= window.start for i in window.incidents)
    closed = sum(i.closed_at is not None for i in window.incidents)
    ready = sum(r.verdict == "ready" for r in window.deploys)
    passed = round((window.uptime or 0.0) * window.rounds / 100)
    icon = "❌" if open_now else _mark(window.uptime).strip() or "✅"
    return [
        f"## {icon} launch-gate: the last {window.label} of {target}",
        "",
        f"**{_pct(window.uptime)} uptime** ({passed} of {_plural(window.rounds, window.basis)} passed every "
        f"check) · {'' if window.error_rate is None else f'**error rate {_pct(window.error_rate)}** · '}"
        f"**{_plural(opened, 'incident')}** opened, {closed} closed, {open_now} open now · "
        f"**{_plural(len(window.deploys), 'gate run')}**: {ready} ready, {len(window.deploys) - ready} blocked",
        "",
    ]


def _check_rows(window: Window, checks: Sequence[Uptime], redact: Redact) -> list[str]:
    lines = [
        f"| Check | Uptime {window.label} | Failed | p95, worst | Error rate |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    for u in checks:
        share = u.windows[window.label]
        lines.append(
            f"| {_code(u.check_id, redact)} | {_mark(share)}{_pct(share)} | "
            f"{u.failures[window.label]} of {u.checked[window.label]} | {_p95(window.routes.get(u.check_id))} | "
            f"{_pct(u.error_rate)} |"
        )
    return [*lines, ""]


def _checks(window: Window, redact: Redact) -> list[str]:
    """Failing checks first; with many checks, those that passed every time and measure nothing are folded."""
    if not window.checks:
        return ["No check result in the window.", ""]
    ordered = sorted(window.checks, key=lambda u: -u.failures[window.label])
    quiet = [u for u in ordered if not u.failures[window.label] and u.check_id not in window.routes]
    shown = ordered if len(ordered) <= LISTED else [u for u in ordered if u not in quiet]
    folded = [u for u in ordered if u not in shown]
    lines = _check_rows(window, shown, redact) if shown else []
    if folded:
        lines += [
            f"<details><summary>{_plural(len(folded), 'more check')}, never failed</summary>",
            "",
            *_check_rows(window, folded, redact),
            "</details>",
            "",
        ]
    return lines


def _incidents(window: Window, redact: Redact) -> list[str]:
    if not window.incidents:
        return ["No incident in the window.", ""]
    lines = [
        "### Incidents",
        "",
        "| Check | Kind | Since | State | Lasted | Last message |",
        "| --- | --- | --- | --- | ---: | --- |",
    ]
    shown = list(reversed(window.incidents))[:LISTED]
    for i in shown:
        end = i.closed_at if i.closed_at is not None else window.now
        state = "❌ open" if i.closed_at is None else f"closed {_time(i.closed_at)}"
        message = redact(i.last_message)
        message = message if len(message) <= MESSAGE else message[: MESSAGE - 1] + "…"
        lines.append(
            f"| {_code(i.check_id, redact)} | {cell(KIND_WORDS.get(i.kind, redact(i.kind)))} | {_time(i.since)} "
            f"| {state} | {_lasted(end - i.since)} | {cell(message)} |"
        )
    more = len(window.incidents) - len(shown)
    return [*lines, *(["", f"and {_plural(more, 'older incident')}."] if more else []), ""]


def _deploys(window: Window, redact: Redact) -> list[str]:
    if not window.deploys:
        return ["No gate run recorded in the window (`launch-gate check --history` records one).", ""]
    lines = [
        "### Gate runs",
        "",
        "| Gate run | Commit | Verdict | Environment |",
        "| --- | --- | --- | --- |",
    ]
    shown = list(reversed(window.deploys))[:LISTED]
    for r in shown:
        verdict = "✅ ready" if r.verdict == "ready" else f"❌ blocked ({cell(redact(r.verdict))})"
        lines.append(
            f"| {_time(r.started_at)} | {_code((r.commit or 'unknown')[:12], redact)} | {verdict} | "
            f"{cell(redact(r.environment or ''))} |"
        )
    more = len(window.deploys) - len(shown)
    return [*lines, *(["", f"and {_plural(more, 'older gate run')}."] if more else []), ""]


def _nothing(window: Window, where: str) -> str:
    return "\n".join(
        [
            f"## ⚠️ launch-gate: nothing recorded in the last {window.label}",
            "",
            f"No watch round and no gate run was recorded from {_time(window.start)} to {_time(window.now)} "
            f"in the history at `{where}`.",
            "",
            "**This is not a pass**: nothing was checked, so nothing is known about the deployment. Is "
            "`launch-gate watch` running and writing to this history (`[history] url`)? A scheduled workflow "
            "needs its history kept from run to run: PostgreSQL, or the SQLite file carried as an artifact.",
            "",
        ]
    )


def render(window: Window, where: str, redact: Redact, target: str | None = None) -> str:
    """The summary: a headline, the checks, then the window's incidents and gate runs. `target`: the
    configured one, named when no run in the window recorded one."""
    where = cell(redact(where)).replace("`", "'")
    if window.empty:
        return _nothing(window, where)
    shown = window.targets or [public_target(target) or ""]
    target = ", ".join(redact(t) for t in shown if t) or "the deployment"
    latest = max(r.finished_at for r in window.runs)
    return "\n".join(
        [
            *_headline(window, cell(target)),
            f"<sub>From {_time(window.start)} to {_time(window.now)}; latest record {_time(latest)}; "
            f"history in <code>{where}</code>; figures as on `launch-gate dashboard`.</sub>",
            "",
            *_checks(window, redact),
            *_incidents(window, redact),
            *_deploys(window, redact),
        ]
    )


# --- the command's side ---
def build_summary(
    history: History,
    bounds: dict[str, float],
    redact: Redact,
    span: float = DAY,
    now: float | None = None,
    target: str | None = None,
) -> tuple[str, bool]:
    """The summary of the last `span` seconds, and whether anything was recorded in them."""
    now = time.time() if now is None else now
    since = now - span
    window = summarize(
        history.runs(since), history.results(since), history.incidents(since), bounds, now, span
    )
    return render(window, history.where, redact, target), not window.empty


def summary_redactor(settings: Settings, environ: Mapping[str, str]) -> Redactor:
    """What the gate would redact (its secret-named and declared variables), the target's credentials and
    the history's password. The target and the history as they are shown are public words."""
    store = database_url(settings.history.url, settings.root)
    secrets = {
        *gate_secrets(settings, environ),
        *target_secrets(settings.target),
        *([store.password] if store.password else []),
    }
    public = [public_target(settings.target) or "", shown_url(store), *core_bounds(settings)]
    return Redactor(secrets, vocabulary=[p for p in public if p])


def write_summary(
    settings: Settings, output: str, span: float, environ: Mapping[str, str]
) -> tuple[str, bool]:
    """Write the summary to `output` (`-`: standard output). Returns the sentence to say (empty for `-`) and
    whether anything was recorded in the window. Unreadable history or unwritable file: CouldNotVerify."""
    redactor = summary_redactor(settings, environ)
    with History.open(settings.history.url, settings.root) as history:
        text, recorded = build_summary(
            history, core_bounds(settings), redactor.text, span, target=settings.target
        )
    if output == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return "", recorded
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CouldNotVerify(
            f"could not write the Markdown summary to {output}: {exc.strerror}. Fix the path (--markdown)."
        ) from None
    return f"Wrote the last {span_label(span)} of the history as Markdown to {output}.", recorded
