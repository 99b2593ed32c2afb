"""Figures from files: our Locust child's `result.json`, a Locust `*_stats.csv` (`locust --csv`), and a k6
summary (`k6 run --summary-export`, or `handleSummary`'s JSON). A file that is not what it claims is a
ConfigError naming it and how to write the right one."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from launch_gate.errors import ConfigError
from launch_gate.load.budgets import Figures, LoadSummary

_K6_TAG = re.compile(r"^http_req_duration\{(?:journey|name|group|scenario):(?:::)?([^}]+)\}$")


def _read(path: Path, flag: str, how: str) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(
            f"{flag} {path}: cannot be read ({exc.strerror or type(exc).__name__}); {how}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{flag} {path}: is not UTF-8 text; {how}") from None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _count(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def from_result(path: Path, source: str) -> LoadSummary:
    """Our child's result.json (written by `launch_gate.load.worker`); a missing or broken one is an error
    result: the run could not be measured."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return LoadSummary(source, Figures(0), error="the Locust run left no readable result (did it crash?)")
    if not isinstance(data, dict):
        return LoadSummary(source, Figures(0), error="the Locust run left an unreadable result")
    if data.get("error"):
        return LoadSummary(source, Figures(0), error=str(data["error"]))

    def figures(raw: Mapping[str, Any]) -> Figures:
        return Figures(
            _count(raw.get("requests")) or 0,
            _count(raw.get("failures")) or 0,
            _count(raw.get("unanswered")) or 0,
            _number(raw.get("p50_ms")),
            _number(raw.get("p95_ms")),
            _number(raw.get("p99_ms")),
            str(raw.get("first_failure") or ""),
        )

    series = {
        name: tuple((float(p[0]), float(p[1])) for p in points)
        for name, points in (data.get("series") or {}).items()
    }
    return LoadSummary(
        source,
        figures(data.get("overall") or {}),
        {name: figures(raw) for name, raw in (data.get("journeys") or {}).items()},
        _number(data.get("rps")),
        _number(data.get("elapsed_s")),
        series,
        tuple(str(w) for w in data.get("lost_workers") or ()),
        str(data.get("stopped_by") or ""),
    )


LOCUST_HOW = "give the *_stats.csv that `locust --headless --csv PREFIX` writes (PREFIX_stats.csv)"


def from_locust_csv(path: Path, journeys: list[str]) -> LoadSummary:
    """A Locust stats CSV: the `Aggregated` row overall; a journey is the rows named `<journey>` or
    `<journey>/...` (their highest percentile: a CSV has no histogram to merge)."""
    text = _read(path, "--from-locust", LOCUST_HOW)
    rows = list(csv.DictReader(io.StringIO(text)))
    needed = {"Name", "Request Count", "Failure Count", "95%"}
    if not rows or not needed <= set(rows[0]):
        raise ConfigError(
            f"--from-locust {path}: is not a Locust stats CSV (no Name/Request Count/95% columns); {LOCUST_HOW}"
        )
    total = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if total is None:
        raise ConfigError(f"--from-locust {path}: has no Aggregated row; {LOCUST_HOW}")

    def figures(picked: list[dict[str, str]]) -> Figures:
        if not picked:
            return Figures(0)
        p = [[_number(r.get(k)) for r in picked] for k in ("50%", "95%", "99%")]
        top = [max((v for v in vs if v is not None), default=None) for vs in p]
        return Figures(
            sum(_count(r.get("Request Count")) or 0 for r in picked),
            sum(_count(r.get("Failure Count")) or 0 for r in picked),
            0,
            top[0],
            top[1],
            top[2],
        )

    named = [r for r in rows if r is not total]
    mine = {j: [r for r in named if r["Name"] == j or r["Name"].startswith(j + "/")] for j in journeys}
    return LoadSummary(
        f"Locust stats {path.name}",
        figures([total]),
        {j: figures(r) for j, r in mine.items() if r},
        _number(total.get("Requests/s")),
    )


K6_HOW = (
    "give the JSON of `k6 run --summary-export FILE` or of a handleSummary that returns JSON.stringify(data)"
)


def _values(metric: object) -> Mapping[str, Any]:
    if not isinstance(metric, dict):
        return {}
    inner = metric.get("values")
    return inner if isinstance(inner, dict) else metric


def from_k6(path: Path, journeys: list[str]) -> LoadSummary:
    """A k6 summary: `http_req_duration` overall, `http_req_duration{journey:<name>}` (or name:, group:::,
    scenario:) per journey, `http_reqs` and `http_req_failed` for counts and errors."""
    text = _read(path, "--from-k6", K6_HOW)
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError(f"--from-k6 {path}: is not JSON; {K6_HOW}") from None
    metrics = data.get("metrics") if isinstance(data, dict) else None
    duration = _values(metrics.get("http_req_duration")) if isinstance(metrics, dict) else {}
    if not isinstance(metrics, dict) or _number(duration.get("p(95)")) is None:
        raise ConfigError(f"--from-k6 {path}: has no metrics.http_req_duration with p(95); {K6_HOW}")
    reqs = _values(metrics.get("http_reqs"))
    failed = _values(metrics.get("http_req_failed"))
    total = _count(reqs.get("count"))
    rate = _number(failed.get("rate", failed.get("value")))
    failures = _count(failed.get("passes"))  # http_req_failed is true for a failed request
    if failures is None and rate is not None and total is not None:
        failures = round(rate * total)

    def figures(values: Mapping[str, Any], requests: int | None, failed_count: int) -> Figures:
        return Figures(
            requests,
            failed_count,
            0,
            _number(values.get("med")),
            _number(values.get("p(95)")),
            _number(values.get("p(99)")),
        )

    per: dict[str, Figures] = {}
    for key, metric in metrics.items():
        tag = _K6_TAG.match(key)
        if tag and tag[1] in journeys:
            counted = _count(
                _values(metrics.get(key.replace("http_req_duration", "http_reqs", 1))).get("count")
            )
            per[tag[1]] = figures(_values(metric), counted, 0)
    state = data.get("state") if isinstance(data.get("state"), dict) else {}
    elapsed = _number(state.get("testRunDurationMs"))
    return LoadSummary(
        f"k6 summary {path.name}",
        figures(duration, total, failures or 0),
        per,
        _number(reqs.get("rate")),
        elapsed / 1000 if elapsed is not None else None,
    )
