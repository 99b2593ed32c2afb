"""`launch-gate` as a user runs it: a subprocess in a scratch project, judged by exit code and output."""

import json

from launch_gate import __version__
from tests.conftest import base_env, run_cli

NEEDS_DB = (
    '[tool.launch-gate]\nenvironment = "production"\n\n[tool.launch-gate.env]\nrequired = ["DATABASE_URL"]\n'
    '\n[tool.launch-gate.checks]\ndeps = "off"  # tests never reach PyPI\n'
)


def test_exit_0_when_ready(project):
    root = project({"pyproject.toml": NEEDS_DB})
    done = run_cli("check", "--phase", "pre", cwd=root, env=base_env(DATABASE_URL="postgres://app@db/app"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "READY to launch" in done.stdout


def test_exit_1_when_a_required_variable_is_missing_and_0_once_set(project):
    root = project({"pyproject.toml": NEEDS_DB})
    blocked = run_cli("check", "--phase", "pre", cwd=root)
    assert blocked.returncode == 1
    assert "DATABASE_URL is not set" in blocked.stdout
    assert "BLOCKED" in blocked.stdout


def test_exit_2_when_a_check_could_not_verify(project):
    root = project(
        {
            "launch-gate.toml": '[env]\nsettings-class = "app_cfg:Settings"\n',
            "app_cfg.py": "import not_installed_pkg\n\n\nclass Settings:\n    pass\n",
        }
    )
    done = run_cli("check", "--phase", "pre", "--select", "env.settings-class", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ERROR" in done.stdout
    assert "could not verify" in done.stdout


def test_exit_4_for_bad_configuration_with_a_sentence_not_a_traceback(project):
    root = project({"launch-gate.toml": 'environment = "production"\ntimeout = "soon"\n'})
    done = run_cli("check", cwd=root)
    assert done.returncode == 4
    assert "`timeout` in launch-gate.toml" in done.stderr
    assert "Traceback" not in done.stderr


def test_exit_4_for_bad_usage(project):
    root = project({})
    assert run_cli("check", "--phase", "later", cwd=root).returncode == 4
    assert run_cli("frobnicate", cwd=root).returncode == 4
    assert run_cli("check", "--select", "nothing.here", cwd=root).returncode == 4
    assert run_cli("check", "--timeout", "-1", cwd=root).returncode == 4


def test_select_runs_only_the_matching_checks(project):
    root = project({"pyproject.toml": NEEDS_DB})
    done = run_cli("check", "--select", "env.debug", "--report-json", "r.json", cwd=root)
    assert done.returncode == 0
    assert [c["id"] for c in json.loads((root / "r.json").read_text())["checks"]] == ["env.debug"]


def test_environment_flag_overrides_the_files(project):
    root = project({"pyproject.toml": NEEDS_DB})
    env = base_env(DATABASE_URL="postgres://db/app", DEBUG="1")
    assert run_cli("check", "--select", "env.debug", cwd=root, env=env).returncode == 1
    staging = run_cli(
        "check", "--select", "env.debug,env.required", "--environment", "staging", "-v", cwd=root, env=env
    )
    assert staging.returncode == 0, staging.stdout
    assert "SKIP   env.debug" in staging.stdout


def test_a_gate_whose_every_check_was_skipped_is_not_ready(project):
    root = project({"pyproject.toml": NEEDS_DB})
    env = base_env(DEBUG="1")
    done = run_cli("check", "--select", "env.debug", "--environment", "staging", cwd=root, env=env)
    assert done.returncode == 2
    assert "BLOCKED: nothing was checked, every check was skipped" in done.stdout


def test_a_report_that_cannot_be_written_is_an_error_after_the_reports_not_a_traceback(project, tmp_path):
    root = project({"pyproject.toml": NEEDS_DB})
    (root / "a-directory").mkdir()
    env = base_env(
        DATABASE_URL="postgres://db/app",
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp_path / "missing" / "out"),
    )
    done = run_cli(
        "check", "--select", "env", "--report-json", "/dev/full", "--sarif", "a-directory",
        "--summary-md", "s\udcff.md", cwd=root, env=env,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "could not write the JSON report (--report-json) to /dev/full: No space left" in done.stderr
    assert "could not write the SARIF (--sarif) to a-directory: Is a directory" in done.stderr
    assert "could not write GitHub Actions' step outputs" in done.stderr
    assert done.stdout.splitlines()[-1].startswith("NOT DONE: 3 reports could not be written;")
    assert done.stdout.splitlines()[-1].endswith("(exit 3)")


def test_a_failed_gate_keeps_its_exit_code_when_a_report_cannot_be_written(project):
    root = project({"pyproject.toml": NEEDS_DB})
    done = run_cli("check", "--select", "env.required", "--report-json", "/dev/full", cwd=root)
    assert done.returncode == 1
    assert "could not write the JSON report" in done.stderr
    assert done.stdout.splitlines()[-1].startswith("BLOCKED:")


def test_json_report_lists_every_check_with_its_fields(project):
    root = project({"pyproject.toml": NEEDS_DB})
    run_cli("check", "--phase", "pre", "--report-json", "out/report.json", cwd=root)
    report = json.loads((root / "out/report.json").read_text())
    assert report["exit_code"] == 1
    assert report["result"] == "failed"
    assert report["summary"]["fail"] == 1
    required = next(c for c in report["checks"] if c["id"] == "env.required")
    assert required["phase"] == "pre"
    assert required["outcome"] == "fail"
    assert required["findings"] == [{"message": "DATABASE_URL is not set"}]
    assert isinstance(required["duration_ms"], float)


def test_markdown_summary_has_the_verdict_and_a_row_per_check(project):
    root = project({"pyproject.toml": NEEDS_DB})
    run_cli("check", "--phase", "pre", "--summary-md", "summary.md", cwd=root)
    summary = (root / "summary.md").read_text()
    assert "blocked, a check failed" in summary
    assert "| `env.required` | ❌ fail |" in summary
    assert summary.count("| `env.") == 5


def test_list_names_every_check(project):
    done = run_cli("list", cwd=project({}))
    assert done.returncode == 0
    assert "env.test-keys" in done.stdout


def test_list_names_the_configured_flows_and_routes_too(project):
    root = project({"launch-gate.toml": '[latency.routes]\nsearch = "/api/search"\n\n'
                    '[[smoke.flows.signup.steps]]\npath = "/api/health"\n'})  # fmt: skip
    done = run_cli("list", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "smoke.signup" in done.stdout
    assert "latency.search" in done.stdout
    broken = run_cli("list", cwd=project({"launch-gate.toml": "[latency]\nrate = -1\n"}))
    assert broken.returncode == 4
    assert "[latency] rate" in broken.stderr


def test_version(project):
    assert run_cli("--version", cwd=project({})).stdout.strip() == f"launch-gate {__version__}"


def test_no_configuration_is_exit_4_with_what_to_do_not_ready(project):
    root = project({"app.py": "print('hello')\n"})
    done = run_cli("check", cwd=root)
    assert done.returncode == 4, done.stdout
    assert "READY" not in done.stdout
    assert "launch-gate.toml" in done.stderr
    assert "--config" in done.stderr


def test_the_report_says_which_configuration_it_read(project):
    root = project({"pyproject.toml": NEEDS_DB})
    (root / "sub").mkdir()
    (root / ".git").mkdir()  # the repository's root: the search for configuration goes up to it
    env = base_env(DATABASE_URL="postgres://db/app")
    done = run_cli("check", "--select", "env.required", "--report-json", "r.json", cwd=root / "sub", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"config {root / 'pyproject.toml'}" in done.stdout.splitlines()[0]
    assert json.loads((root / "sub" / "r.json").read_text())["config"] == [str(root / "pyproject.toml")]


def test_bad_flags_never_echo_what_was_given(project):
    root = project({"pyproject.toml": NEEDS_DB})
    planted = "Qv7s3cr3t-val-ue"
    for args in (["--timeout", planted], ["--phase", planted], ["--select", planted], ["--target", planted]):
        done = run_cli("check", *args, cwd=root)
        assert done.returncode == 4, args
        assert "Traceback" not in done.stderr
        assert not [
            planted[i : i + 6] for i in range(len(planted) - 5) if planted[i : i + 6] in done.stderr
        ], args


def test_a_settings_class_misspelled_for_the_apps_interpreter_is_exit_4(project):
    root = project(
        {"launch-gate.toml": '[env]\nsettings-class = "nosuchmodule:Settings"\npython = "python3"\n'}
    )
    done = run_cli(
        "check", "--phase", "pre", "--select", "env.settings-class", "--report-json", "r.json", cwd=root
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "configuration error: `[env] settings-class` in launch-gate.toml" in done.stdout
    report = json.loads((root / "r.json").read_text())
    assert report["result"] == "config-error"
    assert report["checks"][0]["config_error"] is True


def test_a_missing_outputs_folder_costs_neither_the_annotations_nor_the_summary(project, tmp_path):
    root = project({"pyproject.toml": NEEDS_DB})
    summary = tmp_path / "summary.md"
    env = base_env(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp_path / "missing" / "out"),
        GITHUB_STEP_SUMMARY=str(summary),
    )
    done = run_cli("check", "--select", "env.required", cwd=root, env=env)
    assert done.returncode == 1
    assert "::error title=launch-gate env.required::" in done.stdout
    assert "could not write GitHub Actions' step outputs (GITHUB_OUTPUT)" in done.stderr
    assert "env.required" in summary.read_text()
