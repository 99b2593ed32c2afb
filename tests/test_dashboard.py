"""`launch-gate dashboard`: one self-contained page from the history, with uptime, p95 against budgets, the
deploys, incidents and the first week; opened in a real headless Chromium, it loads without a console
message and its charts draw (the screenshot is not blank)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from launch_gate.history import History, Run, new_run_id, signals
from launch_gate.results import CheckResult, Outcome, Phase
from tests.conftest import base_env, run_cli

HOUR = 3600.0
CONFIG = 'target = "https://www.example.test/"\n[latency.routes]\nhome = "/"\n[watch]\np95-ms = 400\n'


def latency(p95, errors=0):
    return {"route": "/", "samples": 60, "errors": errors, "error_rate": errors / 60, "unanswered": 0,
            "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95 * 1.2, "budget_p95_ms": 300.0}  # fmt: skip


def seed(root: Path, now: float) -> None:
    """Eight days of history: a deploy a day (one blocked), a watch round an hour, a 2-hour incident."""
    with History.open(None, root) as history:
        start = now - 8 * 24 * HOUR
        for day in range(8):
            at = start + day * 24 * HOUR
            verdict = "failed" if day == 3 else "ready"
            run = Run(new_run_id(), "check", at, at + 30, "all", verdict, 0 if verdict == "ready" else 1,
                      f"{day:040x}", "https://www.example.test/", "production")  # fmt: skip
            history.record(run, [CheckResult("env.required", Phase.PRE, Outcome(
                "pass" if verdict == "ready" else "fail"), "APP_NAME is set")])  # fmt: skip
        for hour in range(8 * 24):
            at = start + hour * HOUR + 60
            down = 100 <= hour < 102
            results = [
                CheckResult("domain.redirects", Phase.POST, Outcome.FAIL if down else Outcome.PASS,
                            "https://www.example.test/ answers 500" if down else "ends at the target"),
                CheckResult("latency.home", Phase.POST, Outcome.PASS, "GET /", metrics=latency(80 + hour % 24 * 5)),
            ]  # fmt: skip
            run = Run(
                new_run_id(), "watch", at, at + 2, "post", "failed" if down else "ready", 1 if down else 0
            )
            history.record(run, results, {r.id: signals(r, 400.0) for r in results})
        opened = history.open_incident("domain.redirects", "fail", "errors", start + 100 * HOUR + 62,
                                       start + 101 * HOUR + 62, "https://www.example.test/ answers 500")  # fmt: skip
        history.close_incident(opened.id, start + 102 * HOUR + 62)


@pytest.fixture
def dashboard(tmp_path) -> Path:
    (tmp_path / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
    seed(tmp_path, time.time())
    done = run_cli("dashboard", "--output", "board.html", cwd=tmp_path, env=base_env())
    assert done.returncode == 0, done.stderr
    assert "Wrote the dashboard to board.html" in done.stdout
    return tmp_path / "board.html"


def test_the_page_is_self_contained_and_shows_uptime_incidents_deploys_and_the_first_week(dashboard):
    page = dashboard.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page), "nothing is loaded from elsewhere"
    assert "uPlot" in page  # the chart library, inlined
    assert "domain.redirects" in page
    assert "answers 500" in page
    assert "2 h 0 min" in page
    assert re.search(r"uptime 7 d<b class='\w*'>98\.\d\d %", page)  # 188 of 192 rounds
    assert "blocked (failed)" in page
    assert "0" * 12 in page
    assert page.count("<tr><td>day ") == 7


def test_the_vendored_chart_library_keeps_its_license():
    vendor = Path(__file__).parents[1] / "launch_gate" / "dashboard" / "vendor"
    assert "MIT License" in (vendor / "uPlot.LICENSE").read_text(encoding="utf-8")
    assert (
        (vendor / "uPlot.iife.min.js")
        .read_text(encoding="utf-8")
        .startswith("/*! https://github.com/leeoniya/uPlot")
    )


def test_a_history_that_cannot_be_read_is_exit_2_in_one_sentence(tmp_path):
    (tmp_path / "launch-gate.toml").write_text(
        CONFIG + '[history]\nurl = "postgresql://gate:Sup3rS3cretPassw0rd@127.0.0.1:9/h"\n', encoding="utf-8"
    )
    done = run_cli("dashboard", cwd=tmp_path, env=base_env())
    assert done.returncode == 2
    assert "could not open" in done.stderr
    assert "Sup3rS3cret" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


# --- in a real browser ---
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        pytest.skip("no Chromium to open the dashboard in: apt-get install -y chromium")
    return found


def browse(page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--window-size=1280,2600",
            *flags, page.as_uri()]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, cwd=page.parent)


def pixels(png: bytes) -> list[bytes]:
    """The pixels of an 8-bit RGB(A), non-interlaced PNG (what Chromium writes), as bytes per pixel."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, header = 8, b"", None
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            data += body
    width, height, depth, color, _, _, interlace = header
    assert depth == 8
    assert interlace == 0
    assert color in (2, 6)
    size = 4 if color == 6 else 3
    raw, stride, rows, previous = zlib.decompress(data), width * size, [], bytearray(width * size)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return [row[x : x + 3] for row in rows for x in range(0, stride, size)]


def test_in_chromium_the_page_loads_without_console_messages_and_draws_its_charts(dashboard, tmp_path):
    dom = browse(dashboard, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert 'data-charts="4"' in dom.stdout  # p95 of the route, rounds, deploys, first week
    assert dom.stdout.count("<canvas") >= 4
    shot = tmp_path / "shot.png"
    taken = browse(dashboard, f"--screenshot={shot}")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.is_file()
    colors = pixels(shot.read_bytes())
    assert len(set(colors)) > 50, "the screenshot is blank"
    blue = sum(1 for c in colors if c[2] > 180 and c[0] < 80)  # the p95 line and the deploy points (#2266dd)
    assert blue > 200, "no chart line was drawn"


def test_the_error_rate_is_called_what_it_counts_on_the_page_and_in_the_summary(tmp_path):
    """The latency routes' error rate counts every request answered outside 2xx/3xx or not answered (a 404,
    a timeout), not only 5xx: the page and the summary call it the error rate (issue 14, finding 7)."""
    (tmp_path / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
    now = time.time()
    not_found = {**latency(80), "errors": 6, "error_rate": 0.1, "statuses": {"404": 6, "200": 54}}
    with History.open(None, tmp_path) as history:
        run = Run(new_run_id(), "watch", now - 60, now - 58, "post", "failed", 1)
        result = CheckResult("latency.home", Phase.POST, Outcome.FAIL, "GET /: error rate 10.0% is over 1.0% "
                             "(first: status 404)", metrics=not_found)  # fmt: skip
        history.record(run, [result], {result.id: signals(result, 400.0)})
    page_run = run_cli("dashboard", "--output", "board.html", "--markdown", "summary.md", cwd=tmp_path,
                       env=base_env())  # fmt: skip
    assert page_run.returncode == 0, page_run.stderr
    page = (tmp_path / "board.html").read_text(encoding="utf-8")
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "<th class='num'>error rate 24 h</th>" in page
    assert "<td class='num'>10.00 %</td>" in page
    assert "**error rate 10.00 %**" in summary
    assert "| Error rate |" in summary
    for text in (page, summary):
        assert "5xx rate" not in text


def test_a_target_stored_with_its_password_by_an_older_version_is_never_shown(tmp_path):
    """Rows written before targets were stored without credentials: the page and the summary still mask them."""
    from sqlalchemy import insert

    from launch_gate.history import schema

    (tmp_path / "launch-gate.toml").write_text(CONFIG, encoding="utf-8")
    now = time.time()
    with History.open(None, tmp_path) as history, history.engine.begin() as connection:
        connection.execute(insert(schema.runs).values(
            id=new_run_id(), source="check", started_at=now - 60, finished_at=now - 58, phase="post",
            verdict="ready", exit_code=0, target="https://deploy:OldPassw0rd9@www.example.test/?key=OldKey12345",
        ))  # fmt: skip
    done = run_cli("dashboard", "--output", "board.html", "--markdown", "summary.md", cwd=tmp_path,
                   env=base_env())  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in ("board.html", "summary.md"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "https://redacted@www.example.test/?key=redacted" in text, name
        assert "OldPassw0rd9" not in text, name
        assert "OldKey12345" not in text, name
