"""The GitHub Action: its script run as the runner runs it, and its YAML audited."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import base_env

REPO = Path(__file__).resolve().parent.parent
CONFIG = (
    '[tool.launch-gate]\nenvironment = "production"\n\n[tool.launch-gate.env]\nrequired = ["DATABASE_URL"]\n'
    '\n[tool.launch-gate.checks]\ndeps = "off"  # tests never reach PyPI\n'
)


def run_action(root: Path, tmp: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    env = base_env(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp / "output"),
        GITHUB_STEP_SUMMARY=str(tmp / "summary.md"),
        RUNNER_TEMP=str(tmp),
        **inputs,
    )
    return subprocess.run(
        [sys.executable, "-m", "launch_gate.integrations.github_action"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def outputs(tmp: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (tmp / "output").read_text().splitlines())


def test_a_blocked_gate_fails_the_step_with_outputs_summary_and_annotations(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    done = run_action(root, tmp_path, GATE_PHASE="pre", GATE_SELECT="env")
    assert done.returncode == 1
    assert outputs(tmp_path) == {
        "result": "failed",
        "exit-code": "1",
        "report-path": str(tmp_path / "launch-gate-report.json"),
    }
    assert json.loads((tmp_path / "launch-gate-report.json").read_text())["result"] == "failed"
    assert "blocked, a check failed" in (tmp_path / "summary.md").read_text()
    assert "::error title=launch-gate env.required::" in done.stdout


def test_a_ready_gate_passes_the_step(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    done = run_action(root, tmp_path, GATE_PHASE="pre", DATABASE_URL="postgres://app@db/app")
    assert done.returncode == 0, done.stdout
    assert outputs(tmp_path)["result"] == "ready"
    assert "ready to launch" in (tmp_path / "summary.md").read_text()


def test_a_configuration_error_says_so_in_outputs_and_annotations(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    done = run_action(root, tmp_path, GATE_CONFIG="missing.toml")
    assert done.returncode == 4
    assert outputs(tmp_path)["result"] == "config-error"
    assert outputs(tmp_path)["report-path"] == ""
    assert "::error title=launch-gate configuration::" in done.stdout


def test_the_action_inputs_reach_the_gate(project, tmp_path):
    root = project({"gate/custom.toml": '[env]\nrequired = ["ONLY_IN_CUSTOM"]\n'})
    done = run_action(root, tmp_path, GATE_CONFIG="gate/custom.toml", GATE_SELECT="env.required")
    assert done.returncode == 1
    assert "ONLY_IN_CUSTOM" in done.stdout
    report = json.loads((tmp_path / "launch-gate-report.json").read_text())
    assert [c["id"] for c in report["checks"]] == ["env.required"]


def action_steps() -> list[str]:
    text = (REPO / "action.yml").read_text()
    return re.split(r"\n    - ", text.split("\n  steps:\n", 1)[1])


def test_no_expression_is_expanded_inside_a_run_script():
    scripts = [step.split("run:", 1)[1] for step in action_steps() if "run:" in step]
    assert len(scripts) >= 2  # setting up launch-gate's environment, then running it
    for script in scripts:
        assert "${{" not in script, script


def test_every_input_reaches_the_script_through_env():
    text = (REPO / "action.yml").read_text()
    inputs = re.findall(r"^  ([a-z-]+):\n    description", text.split("\noutputs:")[0], re.M)
    assert inputs == [
        "phase",
        "target-url",
        "config",
        "select",
        "base",
        "sarif",
        "python-version",
        "working-directory",
    ]
    for name in inputs:
        assert f"${{{{ inputs.{name} }}}}" in text, name


def test_zizmor_finds_nothing_in_the_action_and_workflows():
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    if not Path(zizmor).exists():
        pytest.fail("zizmor is not installed: install the test extra (pip install -e '.[test]')")
    targets = ["action.yml", ".github/workflows", "examples/workflows"]
    done = subprocess.run(
        [zizmor, "--offline", "--format", "json", *targets],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == []
