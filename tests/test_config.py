from pathlib import Path

import pytest

from launch_gate.config import load_settings
from launch_gate.errors import ConfigError

PYPROJECT = """
[tool.launch-gate]
environment = "from-pyproject"
target = "https://pyproject.example.com"
timeout = 11

[tool.launch-gate.env]
required = ["A"]
example-file = ".env.example"
"""
LAUNCH_GATE_TOML = """
environment = "from-toml"
target = "https://toml.example.com"
"""


def test_precedence_is_defaults_pyproject_toml_environment_then_command_line(project):
    root = project({"pyproject.toml": PYPROJECT, "launch-gate.toml": LAUNCH_GATE_TOML})
    env = {"LAUNCH_GATE_TARGET": "https://env.example.com"}
    cli = {"environment": "from-cli"}

    settings = load_settings(cwd=root, environ=env, overrides=cli)

    assert settings.timeout == 11  # pyproject beats the default (60)
    assert settings.env.required == ["A"]  # only pyproject sets it
    assert settings.target == "https://env.example.com"  # environment beats both files
    assert settings.environment == "from-cli"  # the command line beats everything
    assert load_settings(cwd=root, environ={}).target == "https://toml.example.com"  # toml beats pyproject
    assert load_settings(cwd=root, environ={}).environment == "from-toml"


def test_defaults_without_any_configuration(project):
    settings = load_settings(cwd=project({}), environ={})
    assert settings.environment == "production"
    assert settings.is_production
    assert settings.target is None
    assert settings.env.required == []


def test_nested_tables_merge_across_files_instead_of_replacing(project):
    root = project({"pyproject.toml": PYPROJECT, "launch-gate.toml": '[env]\nsettings-class = "app:S"\n'})
    settings = load_settings(cwd=root, environ={})
    assert settings.env.required == ["A"]
    assert settings.env.settings_class == "app:S"


def test_environment_lists_accept_commas_or_json(project):
    root = project({})
    assert load_settings(cwd=root, environ={"LAUNCH_GATE_ENV__REQUIRED": "A, B"}).env.required == ["A", "B"]
    assert load_settings(cwd=root, environ={"LAUNCH_GATE_ENV__REQUIRED": '["C"]'}).env.required == ["C"]


def test_check_levels_accept_dotted_ids_quoted_or_as_tables(project):
    root = project(
        {"launch-gate.toml": '[checks]\nenv.debug = "warn"\n"env.test-keys" = "off"\nsecrets = "fail"\n'}
    )
    assert load_settings(cwd=root, environ={}).checks == {
        "env.debug": "warn",
        "env.test-keys": "off",
        "secrets": "fail",
    }


def test_explicit_config_file_replaces_discovery(project):
    root = project({"pyproject.toml": PYPROJECT, "other.toml": 'environment = "staging"\n'})
    settings = load_settings(cwd=root, environ={}, config_file=Path("other.toml"))
    assert settings.environment == "staging"
    assert settings.env.required == []


def error_for(root: Path, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(cwd=root, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_unknown_key_names_the_table_the_file_and_the_known_keys(project):
    root = project({"pyproject.toml": "[tool.launch-gate.env]\nrequird = ['A']\n"})
    message = error_for(root, environ={})
    assert "`[tool.launch-gate.env] requird` in pyproject.toml" in message
    assert "unknown setting" in message
    assert "required" in message


def test_bad_value_names_the_environment_variable_without_echoing_it(project):
    message = error_for(project({}), environ={"LAUNCH_GATE_TIMEOUT": "fast-secret-ish"})
    assert "environment variable LAUNCH_GATE_TIMEOUT" in message
    assert "fast-secret-ish" not in message


def test_bad_value_from_the_command_line_names_the_flag(project):
    message = error_for(
        project({}), environ={}, overrides={"target": "ftp://x"}, flag_names={"target": "--target"}
    )
    assert "option --target" in message
    assert "https://" in message


def test_bad_check_level_names_the_check_and_the_choices(project):
    root = project({"launch-gate.toml": '[checks]\n"env.debug" = "maybe"\n'})
    message = error_for(root, environ={})
    assert "`[checks] env.debug` in launch-gate.toml" in message
    assert '"fail", "warn" or "off"' in message


def test_a_misspelt_launch_gate_variable_is_an_error_not_ignored(project):
    message = error_for(project({}), environ={"LAUNCH_GATE_ENVIROMENT": "staging"})
    assert "LAUNCH_GATE_ENVIROMENT" in message
    assert "LAUNCH_GATE_ENVIRONMENT" in message


def test_invalid_toml_names_the_file(project):
    message = error_for(project({"launch-gate.toml": "environment = \n"}), environ={})
    assert "launch-gate.toml is not valid TOML" in message


def test_missing_config_file_names_the_option(project):
    message = error_for(project({}), environ={}, config_file=Path("nope.toml"))
    assert "nope.toml does not exist" in message


def test_invalid_variable_names_are_rejected(project):
    message = error_for(project({"launch-gate.toml": "[env]\nrequired = ['9LIVES']\n"}), environ={})
    assert "'9LIVES'" in message
