"""Latency budgets against the demo deployment: real bursts at a fixed rate, over TLS, on loopback."""

import json

import pytest

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.latency import Sample, percentile, summarize
from launch_gate.runner import build_plan, make_context, run_plan


def gate(running, environ=None, select=("latency",)):
    environ = dict(environ or {})
    settings = load_settings(cwd=running.config.parent, config_file=running.config, environ=environ)
    report = run_plan(build_plan(settings, "post", select=list(select)), make_context(settings, environ))
    return {r.id: r for r in report.results}


def test_every_route_passes_on_the_clean_demo_and_reports_its_percentiles():
    with demo.running() as running:
        results = gate(running)
    assert set(results) == {"latency.home", "latency.search", "latency.booking"}
    for result in results.values():
        assert result.outcome.value == "pass", result.message
        assert result.metrics["samples"] >= 30
        assert 0 < result.metrics["p50_ms"] <= result.metrics["p95_ms"] <= result.metrics["p99_ms"] < 300
        assert "p95" in json.dumps(result.to_dict())


def test_a_slow_booking_endpoint_fails_its_budget_only():
    with demo.running(["slow-booking"]) as running:
        results = gate(running)
    assert results["latency.booking"].outcome.value == "fail"
    assert "p95" in results["latency.booking"].message
    assert "over its 300 ms budget" in results["latency.booking"].message
    assert results["latency.booking"].metrics["p50_ms"] >= 450
    assert results["latency.home"].outcome.value == "pass"


def test_a_one_second_stall_shows_in_the_percentiles_not_as_a_slower_client():
    with demo.running(["stall"]) as running:
        results = gate(running, select=["latency.search"])
    result = results["latency.search"]
    assert result.outcome.value == "fail", result.message
    # Open model: requests keep arriving during the stall, and each waits out the rest of it.
    assert result.metrics["p99_ms"] >= 800, result.metrics
    assert result.metrics["p50_ms"] < 100, result.metrics
    assert result.metrics["client_lag_p99_ms"] < 50, result.metrics


def test_every_request_failing_is_inconclusive_not_a_pass_or_a_plain_failure():
    with demo.running(["api-down"]) as running:
        results = gate(running, select=["latency.search"])
    result = results["latency.search"]
    assert result.outcome.value == "error"
    assert "every request failed (status 503)" in result.message


def test_too_few_samples_is_inconclusive():
    with demo.running() as running:
        results = gate(running, {"LAUNCH_GATE_LATENCY__DURATION": "0.5"}, select=["latency.home"])
    assert results["latency.home"].outcome.value == "error"
    assert "only 10 samples (at least 30" in results["latency.home"].message


def test_a_regression_against_a_previous_report_fails(tmp_path):
    previous = {"checks": [{"id": "latency.booking", "metrics": {"p95_ms": 2.0}}]}
    (tmp_path / "before.json").write_text(json.dumps(previous))
    with demo.running(["slow-booking"]) as running:
        env = {
            "LAUNCH_GATE_LATENCY__BASELINE": str(tmp_path / "before.json"),
            "LAUNCH_GATE_LATENCY__P95_MS": "5000",
        }
        results = gate(running, env, select=["latency.booking"])
    result = results["latency.booking"]
    assert result.outcome.value == "fail"
    assert "p95 grew from 2 ms" in result.message
    assert result.metrics["baseline_p95_ms"] == 2.0


def test_a_baseline_that_is_not_a_report_names_the_setting(tmp_path):
    (tmp_path / "before.json").write_text("not json")
    with demo.running() as running:
        results = gate(
            running, {"LAUNCH_GATE_LATENCY__BASELINE": str(tmp_path / "before.json")}, ["latency.home"]
        )
    assert results["latency.home"].outcome.value == "error"
    assert "LAUNCH_GATE_LATENCY__BASELINE" in results["latency.home"].message
    assert "not a launch-gate JSON report" in results["latency.home"].message


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ('[latency.routes]\nHome = "/"\n', "route names become check ids"),
        ('[latency.routes]\nhome = "index.html"\n', "must start with '/'"),
        ("[latency]\nrate = 0\n", "rate"),
    ],
)
def test_bad_latency_settings_name_the_key(project, bad, says):
    from launch_gate.errors import ConfigError

    root = project({"launch-gate.toml": bad})
    with pytest.raises(ConfigError, match=says):
        load_settings(cwd=root, environ={})


def test_percentiles_interpolate_and_warmup_is_excluded():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    samples = [Sample(i / 10, 0.0, 1.0 if i < 5 else 0.010, 200) for i in range(20)]
    summary = summarize(samples, warmup=0.5, rate=10)
    assert summary.samples == 15
    assert summary.max == pytest.approx(10.0)


def test_the_summaries_draw_each_routes_latency_against_its_budget(tmp_path):
    from tests.conftest import run_cli

    with demo.running(["slow-booking"]) as running:
        done = run_cli("check", "--phase", "post", "--config", str(running.config), "--select", "latency",
                       "--summary-md", str(tmp_path / "summary.md"), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stdout
    lines = done.stdout.splitlines()
    chart = lines[lines.index("latency by route:") + 1 :]
    assert chart[0].startswith("  home     ▕")
    assert "(budget 300)" in chart[0]
    assert chart[2].startswith("  booking  ▕██")
    assert chart[2].endswith("OVER BUDGET")
    assert "┃" in chart[2]  # the budget mark inside the bar
    summary = (tmp_path / "summary.md").read_text()
    mermaid = summary.split("```mermaid\n")[1].split("```")[0]
    assert "xychart-beta" in mermaid
    assert 'x-axis ["home", "search", "booking"]' in mermaid
    assert "line [300, 300, 300]" in mermaid
    bars = [float(v) for v in mermaid.split("bar [")[1].split("]")[0].split(", ")]
    assert bars[2] >= 450 > bars[0]
    assert "| `booking` |" in summary
    assert "❌" in summary.split("| `booking` |")[1].split("\n")[0]
