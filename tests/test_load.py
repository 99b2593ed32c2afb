"""`launch-gate load`: the demo's marketplace profile on Locust, in-process, with worker processes, and as a
master with two workers (all on 127.0.0.1), against the clean demo and its latency fault; lost and missing
workers; k6 and Locust files judged against the same budgets; bad profiles are one sentence (exit 4)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launch_gate import demo
from launch_gate.load.budgets import Figures, LoadBudgets, LoadSummary, judge
from launch_gate.load.chart import markdown_page, text_chart
from launch_gate.load.readers import from_k6, from_locust_csv
from launch_gate.load.runner import free_port
from launch_gate.load.spec import RUNNING
from launch_gate.results import Outcome
from tests.conftest import base_env, run_cli

JOURNEYS = ["home", "search", "listing", "signup", "login", "booking"]


def _load(
    config: Path, out: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    args = ["load", "marketplace", "--config", str(config), "--output-dir", str(out), *extra]
    return run_cli(*args, "--report-json", str(out / "report.json"), cwd=out, env=env or base_env())


def _check(out: Path) -> dict[str, object]:
    [check] = json.loads((out / "report.json").read_text(encoding="utf-8"))["checks"]
    assert check["id"] == "load.marketplace"
    return dict(check)


def _verdicts(tmp_path: Path, mode: list[str]) -> list[tuple[int, str]]:
    """The same profile against the clean demo, then with the latency fault switched on: exit codes."""
    seen = []
    with demo.running() as running:
        for label in ("clean", "slow"):
            if label == "slow":
                running.site.faults.add("slow-booking")
            out = tmp_path / label
            out.mkdir()
            done = _load(running.config, out, *mode, "--summary-md", str(out / "summary.md"))
            check = _check(out)
            seen.append((done.returncode, str(check["outcome"])))
            if label == "clean":
                assert done.returncode == 0, done.stdout + done.stderr
                metrics = dict(check["metrics"])  # type: ignore[arg-type]
                assert set(metrics["series"]) == set(JOURNEYS)  # type: ignore[arg-type]
                assert "capped at 4 s and 100,000 requests" in str(check["message"])
                assert (out / "marketplace" / "locust_stats.csv").is_file()
                assert (out / "marketplace" / "locust.html").is_file()
                page = (out / "marketplace" / "report.md").read_text(encoding="utf-8")
                assert "p95 over time per journey" in page
                assert "xychart-beta" in page
                assert "p95 over time per journey" in done.stdout
                summary = (out / "summary.md").read_text(encoding="utf-8")
                assert "### Load profile `marketplace`: p95 over time per journey" in summary
                assert summary.count("    line [") == len(JOURNEYS) + 1  # each journey, then the budget
            else:
                assert done.returncode == 1, done.stdout + done.stderr
                assert "over its 400 ms budget" in str(check["message"])
        assert running.leftovers() == "Left behind: no users, no bookings."
    return seen


def test_in_process_passes_the_clean_demo_and_fails_its_latency_fault(tmp_path):
    assert _verdicts(tmp_path, []) == [(0, "pass"), (1, "fail")]


def test_worker_processes_give_the_same_verdicts(tmp_path):
    assert _verdicts(tmp_path, ["--processes", "2"]) == [(0, "pass"), (1, "fail")]


def _worker(config: Path, out: Path, port: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "launch_gate", "load", "marketplace", "--config", str(config), "--worker",
               "--master-host", "127.0.0.1", "--master-port", str(port), "--output-dir", str(out)]  # fmt: skip
    return subprocess.Popen(
        command, cwd=out, env=base_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _distributed(
    config: Path, out: Path, workers: int, expect: int, kill_one: bool = False, within: int = 8
) -> tuple[int, dict[str, object]]:
    port = free_port()
    out.mkdir()
    env = base_env(LAUNCH_GATE_LOAD__CONNECT_WITHIN=str(within))
    master = subprocess.Popen(
        [sys.executable, "-m", "launch_gate", "load", "marketplace", "--config", str(config), "--master",
         "--expect-workers", str(expect), "--master-bind", f"127.0.0.1:{port}", "--output-dir", str(out),
         "--report-json", str(out / "report.json")],
        cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = [_worker(config, out, port) for _ in range(workers)]
    try:
        if kill_one:
            victim = started[0]
            assert victim.stderr is not None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # bounded: the worker says when its users run
                line = victim.stderr.readline()
                if RUNNING in line or not line:
                    break
            time.sleep(0.5)
            _kill_tree(victim.pid)
        master.wait(timeout=60)
    finally:
        for process in (master, *started):
            if process.poll() is None:
                _kill_tree(process.pid)
            process.wait(timeout=10)
    return master.returncode, _check(out)


def _kill_tree(pid: int) -> None:
    """The `launch-gate load --worker` process and its Locust child: a machine that went away."""
    parent = psutil.Process(pid)
    for process in [*parent.children(recursive=True), parent]:
        with suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)


def test_a_master_with_two_workers_gives_the_same_verdicts(tmp_path):
    with demo.running() as running:
        code, check = _distributed(running.config, tmp_path / "clean", 2, 2)
        assert (code, check["outcome"]) == (0, "pass"), check["message"]
        assert "2 workers" in str(check["message"])
        running.site.faults.add("slow-booking")
        code, check = _distributed(running.config, tmp_path / "slow", 2, 2)
        assert (code, check["outcome"]) == (1, "fail"), check["message"]


def test_a_worker_that_never_connects_is_could_not_verify(tmp_path):
    with demo.running() as running:
        code, check = _distributed(running.config, tmp_path / "missing", 1, 2, within=3)
    assert (code, check["outcome"]) == (2, "error")
    assert "only 1 of 2 workers connected within 3 s" in str(check["message"])


def test_a_worker_lost_during_the_run_is_could_not_verify(tmp_path):
    with demo.running() as running:
        code, check = _distributed(running.config, tmp_path / "lost", 2, 2, kill_one=True)
    assert (code, check["outcome"]) == (2, "error"), check["message"]
    assert "lost 1 worker" in str(check["message"])


# --- what users already run: a k6 summary and a Locust stats CSV, against the same budgets ---
BUDGETS = LoadBudgets(400, None, 0.01, 5, {"home": (400, None), "booking": (400, None)})


def _k6(tmp_path: Path, p95: float, booking: float, failed: int = 3) -> Path:
    """A `k6 run --summary-export` file, with per-journey submetrics from a `journey` tag threshold."""
    summary = {
        "metrics": {
            "http_req_duration": {
                "avg": 40.1,
                "min": 2.0,
                "med": 30.0,
                "max": 900.0,
                "p(90)": 80.0,
                "p(95)": p95,
            },
            "http_req_duration{journey:home}": {"med": 20.0, "p(95)": 60.0},
            "http_req_duration{journey:booking}": {"med": 50.0, "p(95)": booking},
            "http_reqs": {"count": 1200, "rate": 40.0},
            "http_req_failed": {"passes": failed, "fails": 1200 - failed, "value": failed / 1200},
        },
        "state": {"testRunDurationMs": 30000},
    }
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary), encoding="utf-8")
    return path


def _locust(tmp_path: Path, p95: float, booking: float, failed: int = 3) -> Path:
    """A `locust --csv` stats file: rows named `<journey>/<step>` and the Aggregated row."""
    head = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
            "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
            "99.99%,100%")  # fmt: skip
    rows = [
        "GET,home/home,600,0,20,25,2,300,5120,20.0,0.0,20,25,30,35,50,60,80,90,300,300,300",
        f"POST,booking/book,300,{failed},50,60,5,900,300,10.0,0.1,50,60,70,80,100,{booking:g},900,900,900,900,900",
        "GET,booking/open slots,300,0,40,45,5,400,200,10.0,0.0,40,45,50,55,70,90,100,120,400,400,400",
        f",Aggregated,1200,{failed},30,40,2,900,2500,40.0,0.1,30,40,50,60,80,{p95:g},150,200,900,900,900",
    ]
    path = tmp_path / "stats.csv"
    path.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("read", [from_k6, from_locust_csv])
def test_k6_and_locust_files_are_judged_against_the_same_budgets(tmp_path, read):
    write = _k6 if read is from_k6 else _locust
    good = read(write(tmp_path, 120, 300), ["home", "booking"])
    assert judge(good, BUDGETS).outcome is Outcome.PASS
    assert (good.overall.requests, good.overall.failures, good.rps) == (1200, 3, 40.0)
    slow = judge(read(write(tmp_path, 120, 470), ["home", "booking"]), BUDGETS)
    assert slow.outcome is Outcome.FAIL
    assert slow.over == ("journey 'booking' p95 470 ms is over its 400 ms budget",)
    failing = judge(read(write(tmp_path, 120, 300, failed=60), ["home", "booking"]), BUDGETS)
    assert failing.outcome is Outcome.FAIL
    assert "error rate 5.0% of 1200 requests" in failing.over[0]


def test_the_command_judges_a_k6_summary_without_running_anything(tmp_path):
    with demo.running() as running:  # the demo's profile and budgets; nothing is sent to it
        summary = _k6(tmp_path, 120, 470)
        done = run_cli("load", "marketplace", "--config", str(running.config), "--from-k6", str(summary),
                       "--report-json", str(tmp_path / "report.json"), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # a failure is evidence; the gaps are listed too
    check = _check(tmp_path)
    assert str(check["message"]).startswith(
        "marketplace (k6 summary summary.json): journey 'booking' p95 470 ms is over its 400 ms budget"
    )
    assert "journey 'search' has no measured request" in str(check["findings"])


def test_a_run_that_measured_nothing_or_lost_a_worker_is_never_a_pass():
    nothing = LoadSummary("Locust, in-process", Figures(0))
    assert judge(nothing, BUDGETS).outcome is Outcome.ERROR
    lost = LoadSummary("Locust master, 2 workers", Figures(100, 0, 0, 5, 9, 12), {}, 50, 4, {}, ("w1",))
    assert judge(lost, BUDGETS).doubts == ("lost 1 worker during the run (w1): its requests are missing",)
    unanswered = LoadSummary("Locust", Figures(10, 10, 10, 1, 1, 1, "home/home: no answer (ConnectError)"))
    assert "no request got an answer" in judge(unanswered, LoadBudgets(400, None, 0.01, None)).doubts[0]


def test_a_broken_result_file_is_could_not_verify(tmp_path):
    from launch_gate.load.readers import from_result

    (tmp_path / "result.json").write_text("{not json", encoding="utf-8")
    summary = from_result(tmp_path / "result.json", "Locust, in-process")
    assert judge(summary, BUDGETS).outcome is Outcome.ERROR
    assert judge(from_result(tmp_path / "missing.json", "x"), BUDGETS).outcome is Outcome.ERROR


def test_the_chart_draws_p95_over_time_for_each_journey():
    series = {"home": [[1.0, 10.0], [2.0, 12.0]], "booking": [[1.0, 100.0], [2.0, 470.0]]}
    lines = text_chart(series, 400)
    assert lines[0].startswith("  home     ")
    assert "p95 10-12 ms over 2.0 s" in lines[0]
    assert lines[1].endswith("OVER BUDGET")
    page = markdown_page("marketplace", {"series": series, "budget_p95_ms": 400, "source": "Locust"}, "fail")
    assert page.count("    line [") == 3  # two journeys and the budget


# --- bad input: one sentence, exit 4, never a traceback ---
KEYS = {
    "users": st.sampled_from([0, -1, "many", 10**9, [1]]),
    "duration": st.sampled_from([0, -5, "long", 10**6, True]),
    "ramp": st.sampled_from([-1, "soon", 10**5]),
    "think-time": st.sampled_from([[3, 1], [-1, 2], "x", [1, 2, 3], [0, 100]]),
    "p95-ms": st.sampled_from([0, -3, "fast", [], {}]),
    "error-rate": st.sampled_from([2, -0.1, "low"]),
    "shape": st.sampled_from(["desktop", 3, ""]),
    "journeys": st.sampled_from(
        [
            {},
            {"Home Page": {"steps": [{"path": "/"}]}},
            {"home": {}},
            {"home": {"flow": "nope"}},
            {"home": {"steps": [{"path": "no-slash"}]}},
        ]
    ),
}


def _toml(profile: dict[str, object]) -> str:
    """A configuration with profile `p` (journeys as their own tables); keys and values written as JSON."""
    lines = ['target = "http://127.0.0.1:9/"', 'environment = "staging"', "[load.profiles.p]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in profile.items() if k != "journeys"]
    journeys = profile["journeys"]
    assert isinstance(journeys, dict)
    for name, journey in journeys.items():
        lines.append(f"[load.profiles.p.journeys.{json.dumps(name)}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in journey.items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(sorted(KEYS)), st.none(), min_size=1).flatmap(
    lambda chosen: st.fixed_dictionaries({k: KEYS[k] for k in chosen})))  # fmt: skip
def test_a_bad_profile_is_one_sentence_and_exit_4(tmp_path, capsys, bad):
    from launch_gate.cli import main

    profile = {"journeys": {"home": {"steps": [{"path": "/"}]}}, **bad}
    config = tmp_path / "launch-gate.toml"
    config.write_text(_toml(profile), encoding="utf-8")
    code = main(["load", "p", "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == 4, (bad, out, err)
    assert "Traceback" not in out + err
    first, *more = err.splitlines()
    assert first.startswith("launch-gate: configuration error: ")
    assert all(line.startswith("  ") for line in more)  # the problems, each on its own indented line


def test_the_gates_process_never_imports_locust():
    code = (
        "import sys, launch_gate.checks.load, launch_gate.load.command, launch_gate.load.runner;"
        "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
