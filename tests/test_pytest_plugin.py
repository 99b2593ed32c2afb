"""The plugin as a user meets it: pytester runs real pytest sessions in a scratch directory."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from launch_gate.checks import all_checks

GATE = """
[tool.launch-gate]
environment = "production"

[tool.launch-gate.env]
required = ["DATABASE_URL"]

[tool.launch-gate.checks]
deps = "off"  # tests never reach PyPI
"""
CHECK_IDS = [check.id for check in all_checks()]
TOTAL = len(CHECK_IDS) + 1  # and the user's test_unit
ENV_ONLY = ("-k", "env or test_")  # counts below are about the env checks and the user's tests


@pytest.fixture
def gated(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(GATE)
    pytester.makepyfile(test_app="def test_unit():\n    assert True\n")
    return pytester


def test_without_the_flag_the_plugin_adds_no_items(gated):
    result = gated.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["test_app.py::test_unit", "1 test collected*"])
    result.stdout.no_fnmatch_line("*launch-gate*")


def test_without_the_flag_a_missing_variable_does_not_fail_the_run(gated):
    gated.runpytest().assert_outcomes(passed=1)


def test_the_flag_adds_one_item_per_check(gated):
    result = gated.runpytest("--launch-gate", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [f"launch-gate::{check_id}" for check_id in CHECK_IDS] + ["test_app.py::test_unit"]
    )


def test_a_failed_check_reads_as_a_check_report_not_a_traceback(gated, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = gated.runpytest("--launch-gate", *ENV_ONLY)
    result.assert_outcomes(passed=3, failed=1, skipped=2)
    result.stdout.fnmatch_lines(["*launch-gate env.required: fail*", "*- DATABASE_URL is not set*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*def setup*")
    result.stdout.fnmatch_lines(["*launch-gate: BLOCKED*", "*FAIL*env.required*", "*BLOCKED: 1 failed*"])


def test_the_gate_passes_once_the_variable_is_set(gated, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/app")
    result = gated.runpytest("--launch-gate", *ENV_ONLY)
    result.assert_outcomes(passed=5, skipped=1)
    result.stdout.fnmatch_lines(["*launch-gate: READY*"])


def test_a_check_that_could_not_verify_is_an_error_not_a_failure(gated):
    gated.makefile(".toml", **{"launch-gate": '[env]\nsettings-class = "app_cfg:Settings"\n'})
    gated.makepyfile(app_cfg="import not_installed_pkg\n\n\nclass Settings:\n    pass\n")
    result = gated.runpytest("--launch-gate", "-k", "settings")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*could not verify*not_installed_pkg*"])
    result.stdout.fnmatch_lines(["launch-gate: phase all, configuration *launch-gate.toml"])


def test_a_misspelled_settings_class_is_a_usage_error(gated):
    gated.makefile(".toml", **{"launch-gate": '[env]\nsettings-class = "missing_mod:Settings"\n'})
    result = gated.runpytest("--launch-gate", "-k", "settings")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*settings-class*"])


def test_keyword_selection_applies_to_checks(gated):
    result = gated.runpytest("--launch-gate", "-k", "debug or test-keys", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["launch-gate::env.test-keys", "launch-gate::env.debug", f"2/{TOTAL} tests collected*"]
    )


def test_the_marker_selects_the_gate_alone(gated):
    result = gated.runpytest("--launch-gate", "-m", "launch_gate", "--collect-only", "-q")
    result.stdout.fnmatch_lines([f"{TOTAL - 1}/{TOTAL} tests collected (1 deselected)*"])


def outcomes_by_id(result: pytest.RunResult) -> dict[str, str]:
    found = {}
    for line in result.stdout.lines:
        for check_id in CHECK_IDS:
            if f"launch-gate::{check_id} " in line:
                found[check_id] = line.split()[-1] if "[gw" in line else line.split()[1]
    return found


def test_xdist_gives_the_same_outcomes(gated, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc")
    serial = gated.runpytest_subprocess("--launch-gate", "-rA", *ENV_ONLY)
    parallel = gated.runpytest_subprocess("--launch-gate", "-n", "2", "-rA", *ENV_ONLY)
    expected = {"failed": 2, "passed": 2, "skipped": 2}
    assert {k: v for k, v in serial.parseoutcomes().items() if k != "deselected"} == expected
    assert {k: v for k, v in parallel.parseoutcomes().items() if k != "deselected"} == expected
    summary = [line for line in parallel.stdout.lines if line.startswith(("FAILED", "PASSED", "SKIPPED"))]
    assert sorted(line.split(" - ")[0] for line in summary if "launch-gate::" in line) == sorted(
        line.split(" - ")[0]
        for line in serial.stdout.lines
        if line.startswith(("FAILED", "PASSED", "SKIPPED")) and "launch-gate::" in line
    )
    parallel.stdout.fnmatch_lines(["*launch-gate: BLOCKED*", "*FAIL*env.test-keys*"])


@pytest.mark.parametrize("dist", [(), ("--dist", "loadgroup")], ids=["default", "loadgroup"])
def test_under_xdist_every_gate_item_runs_on_one_worker(gated, monkeypatch, dist):
    """xdist's default scheduling (and an explicit loadgroup) sends the gate to one worker as one unit, so that
    worker runs its checks together; the user's tests are spread as usual."""
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/app")
    for n in range(6):
        gated.makepyfile(**{f"test_more{n}": f"def test_more{n}():\n    pass\n"})
    result = gated.runpytest_subprocess("--launch-gate", "-n", "2", *dist, "-v", *ENV_ONLY)
    result.assert_outcomes(passed=11, skipped=1)
    ran_on = [re.match(r"\[(gw\d+)\]", line) for line in result.stdout.lines if "launch-gate::" in line]
    gate_workers = {match.group(1) for match in ran_on if match}
    assert sum(1 for match in ran_on if match) == 5, result.stdout.str()  # the env checks
    assert len(gate_workers) == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["*launch-gate: READY*"])


RECORD_MARKERS = """
import json
import sys


def pytest_collection_finish(session):
    seen = {"xdist imported": "xdist" in sys.modules}
    for item in session.items:
        if item.nodeid.startswith("launch-gate::"):
            timeout = item.get_closest_marker("timeout")
            group = item.get_closest_marker("xdist_group")
            seen[item.name] = {
                "timeout": [list(timeout.args), timeout.kwargs] if timeout else None,
                "group": list(group.args) if group else None,
            }
    with open("markers.json", "w") as out:
        json.dump(seen, out)
"""


def test_each_gate_item_gets_pytest_timeouts_limit_from_its_checks_own(gated):
    gated.makepyprojecttoml(
        GATE.replace('environment = "production"', 'environment = "production"\ntimeout = 7')
        + '\n[tool.launch-gate.latency.routes]\nhome = "/"\n'  # a latency burst: the stage after the others
    )
    gated.makeconftest(RECORD_MARKERS)
    gated.runpytest_subprocess("--launch-gate", "--collect-only", "-q")
    seen = json.loads((gated.path / "markers.json").read_text())
    # the check's own 7 s, 10 % and 10 s more: the check's own timeout reports first
    assert seen["env.required"]["timeout"] == [[17.7], {"func_only": False}]
    assert seen["env.required"]["group"] == ["launch-gate"]
    limits = {name: marks["timeout"][0][0] for name, marks in seen.items() if isinstance(marks, dict)}
    assert set(limits) == {*CHECK_IDS, "latency.home"}
    # a latency burst runs after the other checks: its limit counts the stage it waits for
    assert limits["latency.home"] > limits["env.required"] + 10


def test_without_xdist_and_pytest_timeout_the_gate_marks_nothing_for_them(gated, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/app")
    gated.makeconftest(RECORD_MARKERS)
    without = ("-p", "no:xdist", "-p", "no:xdist.looponfail", "-p", "no:timeout")  # as if not installed
    result = gated.runpytest_subprocess(*without, "--strict-markers", "--launch-gate", *ENV_ONLY)
    result.assert_outcomes(passed=5, skipped=1)
    seen = json.loads((gated.path / "markers.json").read_text())
    assert seen["xdist imported"] is False
    assert seen["env.required"] == {"timeout": None, "group": None}


def test_a_global_timeout_smaller_than_a_checks_own_does_not_cut_the_check_short(gated, monkeypatch):
    """--timeout sized for unit tests does not kill a gate item: the check's own timeout decides."""
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/app")
    gated.makefile(".toml", **{"launch-gate": '[env]\nsettings-class = "slow_settings:Settings"\n'})
    gated.makepyfile(
        slow_settings="""
        import time

        from pydantic_settings import BaseSettings

        time.sleep(2)  # an app whose settings take a while to import


        class Settings(BaseSettings):
            pass
        """
    )
    result = gated.runpytest_subprocess("--launch-gate", "--timeout", "1", "-k", "settings")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*Timeout*")


def test_junit_has_a_testcase_per_check(gated, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    gated.runpytest("--launch-gate", "--junitxml=report.xml")
    cases = ET.parse(gated.path / "report.xml").getroot().iter("testcase")
    by_name = {case.get("name"): case for case in cases if case.get("classname") == "launch-gate"}
    assert sorted(by_name) == sorted(CHECK_IDS)
    assert by_name["env.required"].find("failure") is not None
    assert by_name["env.debug"].find("failure") is None
    assert by_name["env.placeholders"].find("skipped") is not None


def test_strict_markers_pass_with_the_gate_marker(gated):
    gated.makepyfile(
        test_smoke="""
        import pytest

        @pytest.mark.launch_gate(phase="post")
        def test_homepage():
            assert True
        """
    )
    gated.runpytest("--strict-markers").assert_outcomes(passed=2)


def test_marked_tests_join_the_gate_only_in_their_phase(gated, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/app")
    gated.makepyfile(
        test_smoke="""
        import pytest

        @pytest.mark.launch_gate(phase="post")
        def test_homepage():
            assert True

        @pytest.mark.launch_gate(phase="pre")
        def test_migrations_applied():
            assert False, "migration 0042 pending"
        """
    )
    result = gated.runpytest("--launch-gate", "--gate-phase", "pre", *ENV_ONLY)
    result.assert_outcomes(passed=5, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*FAIL*test_smoke.py::test_migrations_applied*"])


def test_ini_twins_enable_the_gate_and_choose_the_phase(pytester, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    pytester.makepyprojecttoml(
        GATE + '\n[tool.pytest.ini_options]\nlaunch_gate = true\nlaunch_gate_phase = "post"\n'
    )
    pytester.makepyfile(test_app="def test_unit():\n    pass\n")
    # The post phase plans no env check, so the missing variable does not fail it.
    pytester.runpytest(*ENV_ONLY).assert_outcomes(passed=1)
    pytester.runpytest("--gate-phase", "pre", *ENV_ONLY).assert_outcomes(passed=3, failed=1, skipped=2)


def test_a_configuration_error_is_a_usage_error_naming_the_key(gated):
    gated.makefile(".toml", **{"launch-gate": '[checks]\n"env.nope" = "off"\n'})
    result = gated.runpytest("--launch-gate")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*launch-gate*env.nope*matches no check*"])


def test_gate_target_option_reaches_the_settings(gated):
    gated.makepyfile(
        test_target="""
        def test_target(gate_settings):
            assert gate_settings.target == "https://www.coachly.app"
            assert gate_settings.env.required == ["DATABASE_URL"]
        """
    )
    gated.runpytest("--gate-target", "https://www.coachly.app", "-k", "target").assert_outcomes(passed=1)


def test_gate_env_fixture_requires_without_revealing(gated, monkeypatch):
    monkeypatch.setenv("SESSION_SECRET", "s3cr3t-session-value")
    gated.makepyfile(
        test_env="""
        def test_env(gate_env):
            assert gate_env.require("SESSION_SECRET")
            assert "s3cr3t" not in repr(gate_env)
            gate_env.require("NOT_SET_ANYWHERE")
        """
    )
    result = gated.runpytest("-k", "test_env")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*environment variable NOT_SET_ANYWHERE is not set*"])
    assert "s3cr3t-session-value" not in result.stdout.str()
