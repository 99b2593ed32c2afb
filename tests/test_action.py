"""The GitHub Action: its script run as the runner runs it (by path, inputs as `GATE_*` variables, the
runner's files in tmp_path), its inputs judged by what they change, and its YAML audited by zizmor."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import base_env

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "launch_gate" / "integrations" / "github_action.py"
CONFIG = (
    '[tool.launch-gate]\nenvironment = "production"\n\n[tool.launch-gate.env]\nrequired = ["DATABASE_URL"]\n'
    '\n[tool.launch-gate.checks]\ndeps = "off"  # tests never reach PyPI\n'
)
STAGING = CONFIG.replace('"production"', '"staging"')


def run_action(root: Path, tmp: Path, *command: str, **inputs: str) -> subprocess.CompletedProcess[str]:
    env = base_env(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp / "output"),
        GITHUB_STEP_SUMMARY=str(tmp / "summary.md"),
        RUNNER_TEMP=str(tmp),
        **inputs,
    )
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *command],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def outputs(tmp: Path) -> dict[str, str]:
    path = tmp / "output"
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines)


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


def test_environment_production_judges_debug_flags_that_staging_lets_pass(project, tmp_path):
    root = project({"pyproject.toml": STAGING})
    env = {"GATE_SELECT": "env.debug,env.required", "DEBUG": "1", "DATABASE_URL": "postgres://app@db/app"}
    staging = run_action(root, tmp_path, **env)
    assert staging.returncode == 0, staging.stdout
    production = run_action(root, tmp_path, GATE_ENVIRONMENT="production", **env)
    assert production.returncode == 1, production.stdout
    assert "::error title=launch-gate env.debug::debug mode is on in production" in production.stdout


def test_timeout_limits_each_check(project, tmp_path):
    slow = (
        "import time\ntime.sleep(5)\nfrom pydantic import BaseModel\nclass Settings(BaseModel):\n    pass\n"
    )
    config = STAGING.replace(
        "[tool.launch-gate.env]", '[tool.launch-gate.env]\nsettings-class = "slow:Settings"'
    )
    root = project({"pyproject.toml": config, "slow.py": slow})
    done = run_action(root, tmp_path, GATE_SELECT="env.settings-class", GATE_TIMEOUT="0.5")
    assert done.returncode == 2, done.stdout
    report = json.loads((tmp_path / "launch-gate-report.json").read_text())
    [check] = report["checks"]
    assert check["outcome"] == "error"
    assert "no answer within 0.5 s" in check["message"]


def test_summary_false_writes_no_job_summary_but_the_outputs(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    done = run_action(root, tmp_path, GATE_SELECT="env", GATE_SUMMARY="false")
    assert done.returncode == 1
    assert not (tmp_path / "summary.md").exists()
    assert outputs(tmp_path)["result"] == "failed"
    assert "::error title=launch-gate env.required::" in done.stdout


def test_report_writes_the_json_there_and_names_it_absolute_in_the_output(project, tmp_path):
    root = project({"pyproject.toml": CONFIG, "app/README": ""})
    done = run_action(
        root / "app",
        tmp_path,
        GATE_SELECT="env",
        GATE_REPORT="out/gate.json",
        GATE_CONFIG="../pyproject.toml",
    )
    assert done.returncode == 1, done.stderr
    written = root / "app" / "out" / "gate.json"
    assert json.loads(written.read_text())["result"] == "failed"
    assert outputs(tmp_path)["report-path"] == str(written)
    assert not (tmp_path / "launch-gate-report.json").exists()


def test_args_are_split_as_a_shell_would_and_nothing_is_expanded(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    args = "--summary-md 'gate summary $HOME.md'"
    done = run_action(root, tmp_path, GATE_SELECT="env", GATE_ARGS=args)
    assert done.returncode == 1, done.stderr
    assert "blocked" in (root / "gate summary $HOME.md").read_text()


BAD_INPUTS = [
    ({"GATE_TIMEOUT": "soon"}, "timeout"),
    ({"GATE_TIMEOUT": "-5"}, "timeout"),
    ({"GATE_TIMEOUT": "nan"}, "timeout"),
    ({"GATE_SUMMARY": "maybe"}, "summary"),
    ({"GATE_PHASE": "later"}, "phase"),
    ({"GATE_ARGS": "--summary-md 'unclosed"}, "args"),
    ({"GATE_ARGS": "--help"}, "args"),
    ({"GATE_ARGS": "-h"}, "args"),
    ({"GATE_ARGS": "--phase post"}, "args"),
    ({"GATE_ARGS": "--pha=post"}, "args"),
    ({"GATE_ARGS": "--report-json elsewhere.json"}, "args"),
    ({"GATE_ARGS": "--tar https://x.test"}, "args"),
    ({"GATE_REPORT": "reports/"}, "report"),
    ({"GATE_HISTORY_SUMMARY": "yes"}, "history-summary"),
]


@pytest.mark.parametrize(
    ("inputs", "name"), BAD_INPUTS, ids=[f"{n}={next(iter(i.values()))}" for i, n in BAD_INPUTS]
)
def test_a_bad_input_is_one_error_line_naming_it_and_exit_4(project, tmp_path, inputs, name):
    root = project({"pyproject.toml": CONFIG})
    done = run_action(root, tmp_path, DATABASE_URL="postgres://app@db/app", **inputs)
    assert done.returncode == 4
    assert done.stdout.splitlines() == [done.stdout.strip()]  # one line, and nothing ran
    assert done.stdout.startswith(f"::error title=launch-gate input {name}::the `{name}` input ")
    assert "Traceback" not in done.stderr
    assert outputs(tmp_path) == {"result": "config-error", "exit-code": "4", "report-path": ""}
    assert not (tmp_path / "launch-gate-report.json").exists()


def test_an_input_value_is_never_echoed(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    done = run_action(root, tmp_path, GATE_ARGS="--token 'sk_live_Zq8fK2LmN4pR7sT9", GATE_TIMEOUT="x9Qv7Lm2")
    assert done.returncode == 4
    assert "x9Qv7Lm2" not in done.stdout + done.stderr
    done = run_action(root, tmp_path, GATE_ARGS="--token 'sk_live_Zq8fK2LmN4pR7sT9")
    assert done.returncode == 4
    assert "Zq8fK2" not in done.stdout + done.stderr


# `history-summary: true`: the run is recorded in the history, and its last 24 h follow the job summary.
def test_history_summary_records_the_run_and_adds_the_last_24_h_to_the_job_summary(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    commits = ["a1b2c3d4e5f6" + "0" * 28, "f6e5d4c3b2a1" + "0" * 28]
    ready = run_action(root, tmp_path, GATE_SELECT="env", GATE_HISTORY_SUMMARY="true",
                       DATABASE_URL="postgres://app@db/app", GITHUB_SHA=commits[0])  # fmt: skip
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert (root / ".launch-gate" / "history.sqlite").is_file()
    blocked = run_action(
        root, tmp_path, GATE_SELECT="env", GATE_HISTORY_SUMMARY="TRUE", GITHUB_SHA=commits[1]
    )
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr  # the gate's verdict stands
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    second = summary.split("blocked, a check failed", 1)[1]  # this run's part: the table of checks first
    assert "## ❌ launch-gate: the last 24 h of" in second
    assert "**2 gate runs**: 1 ready, 1 blocked" in second
    assert second.index(f"`{commits[1][:12]}` | ❌ blocked (failed)") < second.index(f"`{commits[0][:12]}`")
    assert outputs(tmp_path)["result"] == "failed"


def test_without_history_summary_nothing_is_recorded_or_added(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    done = run_action(root, tmp_path, GATE_SELECT="env", DATABASE_URL="postgres://app@db/app")
    assert done.returncode == 0, done.stdout
    assert not (root / ".launch-gate").exists()
    assert "the last 24 h" not in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_history_summary_of_a_history_that_cannot_be_read_warns_and_is_exit_3(project, tmp_path):
    url = "postgresql://gate:Sup3rS3cretPassw0rd@127.0.0.1:9/history"
    root = project({"pyproject.toml": CONFIG + f'\n[tool.launch-gate.history]\nurl = "{url}"\n'})
    done = run_action(root, tmp_path, GATE_SELECT="env", GATE_HISTORY_SUMMARY="true",
                      DATABASE_URL="postgres://app@db/app")  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert "::warning title=launch-gate history-summary::" in done.stdout
    assert outputs(tmp_path)["exit-code"] == "3"
    assert "Sup3rS3cret" not in done.stdout + done.stderr + (tmp_path / "summary.md").read_text()


def test_prepare_installs_the_postgres_extra_for_a_history_summary(tmp_path):
    done = run_action(tmp_path, tmp_path, "prepare", GATE_HISTORY_SUMMARY="true", GATE_ACTION_PATH=str(REPO))
    assert done.returncode == 0, done.stderr
    said = outputs(tmp_path)
    assert said["requirement"] == f"{REPO}[postgres]"
    assert "-postgres-" in said["cache-key"]


# What `prepare` says the Action should install, and the cache key of the environment it goes in.
def test_prepare_installs_the_actions_own_copy_by_default(tmp_path):
    done = run_action(tmp_path, tmp_path, "prepare", GATE_ACTION_PATH=str(REPO), RUNNER_OS="Linux")
    assert done.returncode == 0, done.stderr
    said = outputs(tmp_path)
    assert said["requirement"] == str(REPO)
    assert said["venv"] == str(tmp_path / "launch-gate-venv")
    python = "cpython" + ".".join(map(str, sys.version_info[:3]))
    assert re.fullmatch(
        rf"launch-gate-venv-1-Linux-[\w]+-{re.escape(python)}-src-[0-9a-f]{{20}}-\d{{4}}w\d\d",
        said["cache-key"],
    )


def test_prepare_installs_a_release_named_by_version(tmp_path):
    done = run_action(tmp_path, tmp_path, "prepare", GATE_VERSION="v0.4.0", GATE_ACTION_PATH=str(REPO))
    assert done.returncode == 0, done.stderr
    said = outputs(tmp_path)
    assert said["requirement"] == "launch-gate==0.4.0"
    assert "-0.4.0-" in said["cache-key"]


def test_a_change_to_the_actions_source_is_a_new_cache_key(tmp_path):
    copy = tmp_path / "action"
    shutil.copytree(REPO / "launch_gate", copy / "launch_gate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy)
    keys = []
    for _ in range(2):
        (tmp_path / "output").unlink(missing_ok=True)
        assert run_action(tmp_path, tmp_path, "prepare", GATE_ACTION_PATH=str(copy)).returncode == 0
        keys.append(outputs(tmp_path)["cache-key"])
        (copy / "launch_gate" / "results.py").write_text("# changed\n", encoding="utf-8")
    assert keys[0] != keys[1]
    (copy / "launch_gate" / "__pycache__").mkdir(exist_ok=True)
    (copy / "launch_gate" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    (tmp_path / "output").unlink()
    assert run_action(tmp_path, tmp_path, "prepare", GATE_ACTION_PATH=str(copy)).returncode == 0
    assert outputs(tmp_path)["cache-key"] == keys[1]  # compiled files are not the source


@pytest.mark.parametrize("version", ["latest", "0.4.0; rm -rf /", ">=0.4", "0.4.0 --index-url=http://x"])
def test_a_version_that_is_not_a_release_is_an_error_before_anything_is_installed(tmp_path, version):
    done = run_action(tmp_path, tmp_path, "prepare", GATE_VERSION=version, GATE_ACTION_PATH=str(REPO))
    assert done.returncode == 4
    assert done.stdout.startswith("::error title=launch-gate input version::the `version` input must be")
    assert outputs(tmp_path)["result"] == "config-error"
    assert "requirement" not in outputs(tmp_path)


# The promise: whatever strings the inputs hold, the script ends in one of launch-gate's exit codes, with no
# traceback. Phases are kept off `post`/`all` and paths inside the project: tests never reach the network,
# and never write outside tmp_path.
# An environment variable holds no NUL and no lone surrogate; nothing else is kept out.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
NOT_NETWORK = TEXT.filter(lambda s: s.strip().lower() not in {"post", "all"})
RELATIVE = TEXT.filter(lambda s: ".." not in s and not s.strip().startswith(("/", "~")))
FRAGMENTS = st.sampled_from(
    [
        "'",
        '"',
        "\\",
        "--",
        "-h",
        "--select",
        "--summary-md",
        "--timeout=",
        "--phase=post",
        "$(id)",
        "`id`",
        " ",
    ]
)
ARGS = st.lists(st.one_of(FRAGMENTS, TEXT.filter(lambda s: "/" not in s)), max_size=5).map(" ".join)
ANY = st.one_of(TEXT, st.sampled_from(["0", "1e999", "-1", "nan", "true", "FALSE", "production", "-x"]))
# Per input: values a user would write (so that most examples reach the gate), and anything at all.
USUAL = {
    "GATE_PHASE": ["", "pre", "PRE"],
    "GATE_TARGET_URL": ["", "https://www.example.test"],
    "GATE_ENVIRONMENT": ["", "production", "staging"],
    "GATE_TIMEOUT": ["", "30", "0.5"],
    "GATE_SELECT": ["", "env", "secrets,env.debug"],
    "GATE_BASE": ["", "HEAD~1"],
    "GATE_SUMMARY": ["", "true", "False"],
    "GATE_HISTORY_SUMMARY": ["", "false", "true"],
    "GATE_ARGS": ["", "--summary-md gate.md"],
    "GATE_REPORT": ["", "gate.json"],
    "GATE_CONFIG": ["", "pyproject.toml"],
    "GATE_SARIF": ["", "gate.sarif"],
}
ANYTHING = {name: ANY for name in USUAL} | {
    "GATE_PHASE": NOT_NETWORK,
    "GATE_ARGS": ARGS,
    "GATE_REPORT": RELATIVE,
    "GATE_CONFIG": RELATIVE,
    "GATE_SARIF": RELATIVE,
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(odd=st.sets(st.sampled_from(sorted(USUAL)), max_size=3), data=st.data())
def test_any_inputs_end_in_an_exit_code_without_a_traceback(project, tmp_path, odd, data):
    root = project({"pyproject.toml": CONFIG})
    inputs = {
        name: data.draw(ANYTHING[name] if name in odd else st.sampled_from(USUAL[name]), label=name)
        for name in sorted(USUAL)
    }
    (tmp_path / "output").unlink(missing_ok=True)
    done = run_action(root, tmp_path, **inputs)
    event(f"exit {done.returncode}")
    assert done.returncode in {0, 1, 2, 3, 4}, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "internal error" not in done.stderr
    assert outputs(tmp_path)["result"] in {"ready", "failed", "error", "config-error"}


# action.yml and the workflows, read as text.
def action_steps() -> list[str]:
    text = (REPO / "action.yml").read_text()
    return re.split(r"\n    - ", text.split("\n  steps:\n", 1)[1])


def test_no_expression_is_expanded_inside_a_run_script():
    scripts = [step.split("run:", 1)[1] for step in action_steps() if "run:" in step]
    assert len(scripts) >= 3  # choosing what to install, installing it, running it
    for script in scripts:
        assert "${{" not in script, script


def test_every_input_reaches_the_scripts_through_env():
    text = (REPO / "action.yml").read_text()
    inputs = re.findall(r"^  ([a-z-]+):\n    description", text.split("\noutputs:")[0], re.M)
    assert inputs == [
        "version",
        "phase",
        "target-url",
        "environment",
        "timeout",
        "config",
        "select",
        "base",
        "args",
        "summary",
        "history-summary",
        "report",
        "sarif",
        "python-version",
        "working-directory",
    ]
    for name in inputs:
        assert f"${{{{ inputs.{name} }}}}" in text, name


def test_the_run_step_sets_every_variable_the_script_reads():
    [gate] = [step for step in action_steps() if "id: gate" in step]
    given = set(re.findall(r"^\s+(GATE_\w+): \$\{\{ ", gate, re.M))
    read = set(re.findall(r'"(GATE_\w+)"', SCRIPT.read_text()))
    assert read - {"GATE_VERSION"} <= given, read - given
    assert {"GATE_ARGS", "GATE_SUMMARY", "GATE_REPORT", "GATE_TIMEOUT", "GATE_ENVIRONMENT"} <= given


def workflow_files() -> list[Path]:
    """Every workflow and action file, by path: zizmor given a directory audits only its .github/workflows."""
    return [
        REPO / "action.yml",
        *sorted((REPO / ".github" / "workflows").glob("*.yml")),
        *sorted((REPO / "examples" / "workflows").glob("*.yml")),
    ]


def test_every_action_used_is_pinned_by_a_full_sha_with_its_tag_in_a_comment():
    files = workflow_files()
    assert any(p.parent.name == "workflows" and p.parent.parent.name == "examples" for p in files)
    for path in files:
        for line in re.findall(r"^\s*(?:- )?uses: (.+)$", path.read_text(), re.M):
            if line.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d[\w.]*( .*)?", line), (
                f"{path.name}: {line}"
            )


def test_zizmor_finds_nothing_in_the_action_and_workflows():
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    if not Path(zizmor).exists():
        pytest.fail("zizmor is not installed: install the test extra (pip install -e '.[test]')")
    files = workflow_files()
    assert len(files) >= 4, files  # action.yml, CI's workflows and the examples
    done = subprocess.run(
        [zizmor, "--offline", "--format", "json", *map(str, files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == []
    audited = {
        line.split("completed ", 1)[1].strip() for line in done.stderr.splitlines() if "completed " in line
    }
    assert {str(p) for p in files} <= audited, audited
