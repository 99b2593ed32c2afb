"""Shared fixtures: a scratch project directory and a clean, controlled environment for every test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import settings

from launch_gate.config import load_settings
from launch_gate.results import CheckResult
from launch_gate.runner import build_plan, make_context, run_plan

# In CI (CI=true) every property test draws the same examples on every run, so a landing is decided by the code,
# not by the draw; on a laptop each run draws afresh and keeps exploring (a failure prints its reproduce blob).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")

# Any HTTP(S) client a test starts by mistake goes to a closed port on loopback, never to the internet.
NOWHERE = "http://127.0.0.1:9"
OFFLINE = {"HTTPS_PROXY": NOWHERE, "https_proxy": NOWHERE, "HTTP_PROXY": NOWHERE, "http_proxy": NOWHERE}
# Variables the gate reads that the machine running our tests may happen to have.
AMBIENT = ("DEBUG", "FLASK_DEBUG", "DJANGO_DEBUG", "APP_DEBUG", "FLASK_ENV", "NODE_ENV")
GITHUB = ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "RUNNER_TEMP")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's or CI's LAUNCH_GATE_*, debug flags or GitHub Actions files, and no test
    reaches the internet: HTTP clients that honour proxy settings are sent to a closed loopback port."""
    for name in list(os.environ):
        if name.startswith("LAUNCH_GATE_") or name in AMBIENT or name in GITHUB or name.lower() == "no_proxy":
            monkeypatch.delenv(name)
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write files into a scratch project (the current directory for the test) and return its path."""
    monkeypatch.chdir(tmp_path)

    def write(files: Mapping[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return tmp_path

    return write


def base_env(**extra: str) -> dict[str, str]:
    """A minimal environment for a subprocess: nothing from this machine that the gate would judge."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR") if k in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(OFFLINE)
    env.update(extra)
    return env


def run_check(root: Path, check_id: str, environ: Mapping[str, str] | None = None) -> CheckResult:
    """One check, through the real settings loader and runner, against `environ`."""
    settings = load_settings(cwd=root, environ={})
    plan = build_plan(settings, "all", [check_id])
    [result] = run_plan(plan, make_context(settings, dict(environ or {}))).results
    return result


def run_cli(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `launch-gate` as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "launch_gate", *args],
        cwd=cwd,
        env=dict(env if env is not None else base_env()),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
