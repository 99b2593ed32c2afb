import os
import sys
from pathlib import Path

import pytest

from launch_gate.checks.env import read_example_file
from launch_gate.errors import ConfigError, CouldNotVerify
from launch_gate.results import Outcome
from launch_gate.rules.placeholders import placeholder_kind
from tests.conftest import run_check

REQUIRED = '[env]\nrequired = ["DATABASE_URL", "SMTP_URL"]\n'


def test_missing_and_empty_required_variables_fail_by_name(project):
    root = project({"launch-gate.toml": REQUIRED})
    result = run_check(root, "env.required", {"SMTP_URL": "  "})
    assert result.outcome is Outcome.FAIL
    assert [f.message for f in result.findings] == ["DATABASE_URL is not set", "SMTP_URL is set but empty"]


def test_required_variables_all_set_pass(project):
    root = project({"launch-gate.toml": REQUIRED})
    result = run_check(root, "env.required", {"DATABASE_URL": "postgres://db/app", "SMTP_URL": "smtp://mx"})
    assert result.outcome is Outcome.PASS


def test_every_key_of_the_example_file_is_required(project):
    example = "# comment\nexport STRIPE_SECRET_KEY=\nAPP_URL=https://localhost\n\nnot a line\n"
    root = project({"launch-gate.toml": '[env]\nexample-file = ".env.example"\n', ".env.example": example})
    result = run_check(root, "env.required", {"APP_URL": "https://www.coachly.app"})
    assert result.outcome is Outcome.FAIL
    assert "STRIPE_SECRET_KEY" in result.message
    assert "APP_URL" not in result.message


def test_a_missing_example_file_could_not_be_verified_and_says_which_setting(project):
    root = project({"launch-gate.toml": '[env]\nexample-file = ".env.missing"\n'})
    result = run_check(root, "env.required", {})
    assert result.outcome is Outcome.ERROR
    assert "`[env] example-file` in launch-gate.toml" in result.message


def test_no_declared_variables_is_a_skip_that_says_how_to_declare_them(project):
    result = run_check(project({"launch-gate.toml": ""}), "env.required", {})
    assert result.outcome is Outcome.SKIP
    assert "required" in result.message


def test_read_example_file_handles_export_comments_and_junk(tmp_path):
    path = tmp_path / ".env.example"
    path.write_text("A=1\nexport B=\n# C=3\n  D = x\nE\n9F=1\n")
    assert read_example_file(path) == ["A", "B", "D"]


@pytest.mark.parametrize(
    "value",
    [
        "changeme",
        "CHANGE_ME",
        "xxx",
        "sk_live_xxxxxxxx",
        "<your-api-key>",
        "your-stripe-key",
        "TODO",
        "https://example.com/db",
        "{{ SECRET }}",
        "replace-me",
        "placeholder",
    ],
)
def test_placeholder_shapes_are_recognised(value):
    assert placeholder_kind(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "sk_live_51HqLyjWDarjtT1zdp7dcXYZ",
        "postgres://app@db.internal:5432/app",
        "Xx3xxXq9",
        "todolist-prod",
        "https://www.coachly.app",
        "ExampleCorp-Key-889",
    ],
)
def test_real_looking_values_are_not_placeholders(value):
    assert placeholder_kind(value) is None


def test_placeholder_values_fail_without_showing_the_value(project):
    root = project({"launch-gate.toml": REQUIRED})
    result = run_check(
        root, "env.placeholders", {"DATABASE_URL": "postgres://db/app", "SMTP_URL": "changeme-now"}
    )
    assert result.outcome is Outcome.FAIL
    assert "SMTP_URL" in result.message
    assert "changeme-now" not in repr(result)


STRIPE_TEST = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"


def test_test_mode_keys_fail_in_production_wherever_they_are(project):
    root = project({"launch-gate.toml": 'environment = "production"\n'})
    result = run_check(root, "env.test-keys", {"PAYMENTS_KEY": STRIPE_TEST, "OTHER": "pk_live_abc"})
    assert result.outcome is Outcome.FAIL
    assert "PAYMENTS_KEY" in result.message
    assert "OTHER" not in result.message
    assert STRIPE_TEST not in repr(result)
    assert result.findings[0].fingerprint is not None


def test_test_mode_keys_are_fine_in_staging(project):
    root = project({"launch-gate.toml": 'environment = "staging"\n'})
    result = run_check(root, "env.test-keys", {"PAYMENTS_KEY": STRIPE_TEST})
    assert result.outcome is Outcome.SKIP
    assert "staging" in result.message


@pytest.mark.parametrize(
    ("environ", "culprit"),
    [
        ({"DEBUG": "True"}, "DEBUG"),
        ({"FLASK_DEBUG": "1"}, "FLASK_DEBUG"),
        ({"DJANGO_DEBUG": "yes"}, "DJANGO_DEBUG"),
        ({"NODE_ENV": "development"}, "NODE_ENV"),
        ({"FLASK_ENV": "development"}, "FLASK_ENV"),
    ],
)
def test_debug_flags_on_in_production_fail(project, environ, culprit):
    result = run_check(project({"launch-gate.toml": ""}), "env.debug", environ)
    assert result.outcome is Outcome.FAIL
    assert culprit in result.message


def test_debug_flags_off_pass(project):
    environ = {"DEBUG": "false", "FLASK_DEBUG": "0", "NODE_ENV": "production"}
    assert run_check(project({"launch-gate.toml": ""}), "env.debug", environ).outcome is Outcome.PASS


SETTINGS_MODULE = """
from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    database_url: str
    workers: int = 2
    smtp_password: str = ""

    @field_validator("smtp_password")
    @classmethod
    def _strong(cls, value):
        if value and len(value) < 20:
            raise ValueError(f"password {value} is too short")
        return value

class Exploding(BaseSettings):
    def __init__(self):
        raise RuntimeError("boom")
"""


def settings_project(project, module: str, target: str) -> Path:
    return project(
        {
            "launch-gate.toml": f'[env]\nsettings-class = "{module}:{target}"\n',
            f"{module}.py": SETTINGS_MODULE,
        }
    )


def test_settings_class_errors_name_the_environment_variable_not_the_value(project):
    root = settings_project(project, "appcfg_one", "Settings")
    result = run_check(
        root, "env.settings-class", {"APP_WORKERS": "many", "APP_SMTP_PASSWORD": "hunter2-short"}
    )
    assert result.outcome is Outcome.FAIL
    messages = [f.message for f in result.findings]
    assert any(m.startswith("APP_DATABASE_URL:") for m in messages)
    assert any(m.startswith("APP_WORKERS:") for m in messages)
    assert any(m.startswith("APP_SMTP_PASSWORD:") for m in messages)
    assert "hunter2-short" not in repr(result)


def test_settings_class_that_loads_passes(project):
    root = settings_project(project, "appcfg_two", "Settings")
    assert (
        run_check(root, "env.settings-class", {"APP_DATABASE_URL": "postgres://db"}).outcome is Outcome.PASS
    )


def test_a_settings_class_module_that_does_not_exist_is_a_configuration_error(project):
    root = project({"launch-gate.toml": '[env]\nsettings-class = "nowhere_module:Settings"\n'})
    with pytest.raises(ConfigError, match="there is no module nowhere_module"):
        run_check(root, "env.settings-class", {})


def test_settings_class_that_crashes_could_not_be_verified(project):
    root = settings_project(project, "appcfg_three", "Exploding")
    result = run_check(root, "env.settings-class", {})
    assert result.outcome is Outcome.ERROR
    assert "RuntimeError" in result.message


# An example file that cannot be read, or would declare nothing, is never a pass.


def test_an_unreadable_example_file_could_not_be_verified_naming_the_file(project):
    if not Path("/proc/self/mem").is_file():
        pytest.skip("needs /proc/self/mem, a file every read of which fails (root can read any mode)")
    root = project({"launch-gate.toml": '[env]\nexample-file = "/proc/self/mem"\n'})
    result = run_check(root, "env.required", {})
    assert result.outcome is Outcome.ERROR
    assert "cannot read the example file /proc/self/mem" in result.message
    assert "crashed" not in result.message


def test_a_utf16_example_file_could_not_be_verified_instead_of_declaring_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "launch-gate.toml").write_text('[env]\nexample-file = ".env.example"\n')
    (tmp_path / ".env.example").write_bytes("DATABASE_URL=\n".encode("utf-16"))
    result = run_check(tmp_path, "env.required", {})
    assert result.outcome is Outcome.ERROR
    assert ".env.example is not UTF-8 text" in result.message


def test_an_example_file_that_declares_nothing_could_not_be_verified(project):
    root = project({"launch-gate.toml": '[env]\nexample-file = "env.txt"\n', "env.txt": "# nothing\n"})
    result = run_check(root, "env.required", {})
    assert result.outcome is Outcome.ERROR
    assert "declares no variable" in result.message


def test_a_utf8_bom_does_not_hide_the_first_name(tmp_path):
    path = tmp_path / ".env.example"
    path.write_bytes("\ufeffA=1\nB=2\n".encode())
    assert read_example_file(path) == ["A", "B"]


def test_read_example_file_raises_could_not_verify_not_unicode_error(tmp_path):
    path = tmp_path / ".env.example"
    path.write_bytes(b"A=\xff\n")
    with pytest.raises(CouldNotVerify, match="not UTF-8"):
        read_example_file(path)


# settings-class in the app's own environment: a package launch-gate's environment lacks.

APP_MODULE = """
import appdep  # installed only in the app's environment

from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    database_url: str
    workers: int = appdep.WORKERS
"""


def app_project(project, tmp_path: Path, python_line: str = "") -> Path:
    """A project whose settings module imports `appdep`, which only the app's interpreter can import."""
    site = tmp_path / "appsite"
    site.mkdir()
    (site / "appdep.py").write_text("WORKERS = 2\n")
    wrapper = tmp_path / "app-python"  # the app's interpreter: ours, with the app's packages on its path
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    config = '[env]\nsettings-class = "appsettings:Settings"\n' + python_line.format(python=wrapper)
    return project({"launch-gate.toml": config, "appsettings.py": APP_MODULE})


def test_a_settings_class_needing_a_package_missing_here_says_so_and_how_to_fix(project, tmp_path):
    root = app_project(project, tmp_path)
    result = run_check(root, "env.settings-class", {"APP_DATABASE_URL": "postgres://db"})
    assert result.outcome is Outcome.ERROR
    assert "imports the package appdep, which is not installed where the class is loaded" in result.message
    assert "[env] python" in result.message
    assert "pytest --launch-gate" in result.message


@pytest.mark.skipif(os.name != "posix", reason="the app's interpreter is a shell wrapper")
def test_with_the_apps_python_the_class_is_loaded_there_and_passes(project, tmp_path):
    root = app_project(project, tmp_path, 'python = "{python}"\n')
    result = run_check(root, "env.settings-class", {"APP_DATABASE_URL": "postgres://db"})
    assert result.outcome is Outcome.PASS, result.message
    assert "app-python" in result.message


@pytest.mark.skipif(os.name != "posix", reason="the app's interpreter is a shell wrapper")
def test_with_the_apps_python_problems_name_variables_never_values(project, tmp_path):
    root = app_project(project, tmp_path, 'python = "{python}"\n')
    result = run_check(root, "env.settings-class", {"APP_WORKERS": "many-Zq8s3cr3t"})
    assert result.outcome is Outcome.FAIL
    messages = sorted(f.message.split(":", 1)[0] for f in result.findings)
    assert messages == ["APP_DATABASE_URL", "APP_WORKERS"]
    assert "Zq8s3c" not in repr(result)


@pytest.mark.skipif(os.name != "posix", reason="the app's interpreter is a shell wrapper")
def test_with_the_apps_python_a_package_missing_there_could_not_be_verified(project, tmp_path):
    root = app_project(project, tmp_path, f'python = "{sys.executable}"\n')  # ours: no appdep
    result = run_check(root, "env.settings-class", {"APP_DATABASE_URL": "postgres://db"})
    assert result.outcome is Outcome.ERROR
    assert "imports the package appdep" in result.message
    assert "Install the app's dependencies" in result.message


@pytest.mark.skipif(os.name != "posix", reason="the app's interpreter is a shell wrapper")
def test_with_the_apps_python_a_class_that_crashes_names_only_the_error_type(project, tmp_path):
    root = settings_project(project, "appcfg_four", "Exploding")
    with open(root / "launch-gate.toml", "a") as config:
        config.write(f'python = "{sys.executable}"\n')
    result = run_check(root, "env.settings-class", {})
    assert result.outcome is Outcome.ERROR
    assert "raised RuntimeError" in result.message
    assert "boom" not in result.message
