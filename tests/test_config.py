import json
import sys
from pathlib import Path

import pytest

from launch_gate.config import Settings, load_settings, model_at
from launch_gate.config.schema import (
    EmailWait,
    Flow,
    FlowStep,
    LatencyRoute,
    MailboxTable,
    NetTable,
    SmokeTable,
    Waiver,
)
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


def test_defaults_when_a_caller_allows_no_configuration_file(project):
    settings = load_settings(cwd=project({}), environ={}, require_file=False)
    assert settings.environment == "production"
    assert settings.is_production
    assert settings.target is None
    assert settings.env.required == []
    assert settings.sources == ()


def test_defaults_of_an_empty_launch_gate_toml(project):
    root = project({"launch-gate.toml": ""})
    settings = load_settings(cwd=root, environ={})
    assert settings.environment == "production"
    assert settings.sources == (root / "launch-gate.toml",)


def test_nested_tables_merge_across_files_instead_of_replacing(project):
    root = project(
        {
            "pyproject.toml": PYPROJECT,
            "launch-gate.toml": '[env]\nsettings-class = "app:S"\n',
            "app.py": "class S: ...\n",
        }
    )
    settings = load_settings(cwd=root, environ={})
    assert settings.env.required == ["A"]
    assert settings.env.settings_class == "app:S"


def test_environment_lists_accept_commas_or_json(project):
    root = project({"launch-gate.toml": ""})
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
    message = error_for(project({"launch-gate.toml": ""}), environ={"LAUNCH_GATE_TIMEOUT": "fast-secret-ish"})
    assert "environment variable LAUNCH_GATE_TIMEOUT" in message
    assert "fast-secret-ish" not in message


def test_bad_value_from_the_command_line_names_the_flag(project):
    message = error_for(
        project({"launch-gate.toml": ""}),
        environ={},
        overrides={"target": "ftp://x"},
        flag_names={"target": "--target"},
    )
    assert "option --target" in message
    assert "https://" in message


def test_bad_check_level_names_the_check_and_the_choices(project):
    root = project({"launch-gate.toml": '[checks]\n"env.debug" = "maybe"\n'})
    message = error_for(root, environ={})
    assert "`[checks] env.debug` in launch-gate.toml" in message
    assert '"fail", "warn" or "off"' in message


def test_a_misspelt_launch_gate_variable_is_an_error_not_ignored(project):
    message = error_for(project({"launch-gate.toml": ""}), environ={"LAUNCH_GATE_ENVIROMENT": "staging"})
    assert "LAUNCH_GATE_ENVIROMENT" in message
    assert "LAUNCH_GATE_ENVIRONMENT" in message


def test_invalid_toml_names_the_file(project):
    message = error_for(project({"launch-gate.toml": "environment = \n"}), environ={})
    assert "launch-gate.toml is not valid TOML" in message


def test_missing_config_file_names_the_option(project):
    message = error_for(project({}), environ={}, config_file=Path("nope.toml"))
    assert "nope.toml does not exist" in message


def test_invalid_variable_names_are_rejected_by_position_without_echoing_them(project):
    message = error_for(project({"launch-gate.toml": "[env]\nrequired = ['A', '9LIVES']\n"}), environ={})
    assert "`[env] required` in launch-gate.toml: item 2 of 2 is not an environment variable name" in message
    assert "9LIVES" not in message


# Discovery: the nearest directory up to the repository root with a configuration; none is an error.


def test_no_configuration_is_an_error_that_says_what_to_do(project):
    message = error_for(project({"README.md": "hi"}), environ={})
    assert "no launch-gate configuration found" in message
    assert "[tool.launch-gate]" in message
    assert "launch-gate.toml" in message
    assert "--config" in message


def test_a_pyproject_without_a_launch_gate_table_is_not_a_configuration(project):
    message = error_for(project({"pyproject.toml": "[project]\nname = 'app'\n"}), environ={})
    assert "no launch-gate configuration found" in message


def test_configuration_is_found_up_to_the_repository_root_and_paths_stay_relative_to_it(project, monkeypatch):
    root = project(
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "launch-gate.toml": '[env]\nexample-file = ".env.example"\n',
            "services/api/pyproject.toml": "[project]\nname = 'api'\n",  # no table: the search goes on
        }
    )
    monkeypatch.chdir(root / "services/api")
    settings = load_settings(environ={})
    assert settings.sources == (root / "launch-gate.toml",)
    assert settings.root == root
    assert settings.env.example_file == ".env.example"  # read against root, not the current directory


def test_the_nearest_configuration_wins_and_both_its_files_are_read(project, monkeypatch):
    root = project(
        {
            ".git/HEAD": "",
            "launch-gate.toml": 'environment = "from-root"\n',
            "app/pyproject.toml": '[tool.launch-gate]\nenvironment = "from-app"\ntimeout = 5\n',
            "app/launch-gate.toml": 'environment = "from-app-toml"\n',
        }
    )
    monkeypatch.chdir(root / "app")
    settings = load_settings(environ={})
    assert settings.environment == "from-app-toml"
    assert settings.timeout == 5
    assert settings.sources == (root / "app/pyproject.toml", root / "app/launch-gate.toml")


def test_the_search_stops_at_the_repository_root(project, monkeypatch):
    root = project(
        {"launch-gate.toml": 'environment = "outside"\n', "repo/.git/HEAD": "", "repo/src/x.py": ""}
    )
    monkeypatch.chdir(root / "repo/src")
    assert "no launch-gate configuration found" in error_for(root / "repo/src", environ={})


def test_outside_a_repository_only_the_current_directory_is_searched(project, monkeypatch):
    root = project({"launch-gate.toml": 'environment = "parent"\n', "sub/x.py": ""})
    monkeypatch.chdir(root / "sub")
    assert "no launch-gate configuration found" in error_for(root / "sub", environ={})


def test_an_explicit_config_file_is_the_source_and_its_folder_the_root(project):
    root = project({"conf/gate.toml": 'environment = "staging"\n'})
    settings = load_settings(cwd=root, environ={}, config_file=Path("conf/gate.toml"))
    assert settings.sources == (root / "conf/gate.toml",)
    assert settings.root == root / "conf"


# Unusable files and variables are configuration errors naming them, never tracebacks.


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("launch-gate.toml", b'environment = "\xff\xfe"\n'),
        ("pyproject.toml", b'[tool.launch-gate]\nenvironment = "caf\xe9"\n'),
    ],
)
def test_a_configuration_file_that_is_not_utf8_is_a_configuration_error(tmp_path, monkeypatch, name, content):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(content)
    message = error_for(tmp_path, environ={})
    assert f"{name} is not UTF-8 text" in message


def test_a_binary_config_file_is_a_configuration_error(project):
    message = error_for(project({}), environ={}, config_file=Path(sys.executable).resolve())
    assert "is not UTF-8 text" in message or "is not valid TOML" in message


def test_a_directory_given_as_config_file_is_a_configuration_error(project):
    root = project({"conf/x.toml": ""})
    assert "is not a file" in error_for(root, environ={}, config_file=Path("conf"))


def test_a_config_pyproject_without_the_table_says_so(project):
    root = project({"other/pyproject.toml": "[project]\nname = 'x'\n"})
    assert "has no [tool.launch-gate] table" in error_for(
        root, environ={}, config_file=Path("other/pyproject.toml")
    )


def test_a_launch_gate_key_that_is_not_a_table_in_pyproject_is_an_error(project):
    root = project({"pyproject.toml": "[tool]\nlaunch-gate = 1\n"})
    assert "must be a table" in error_for(root, environ={})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LAUNCH_GATE_LATENCY__ROUTES", "{bad-Zq8s3cr3tVALUE"),
        ("LAUNCH_GATE_CHECKS", "{bad-Zq8s3cr3tVALUE"),
        ("LAUNCH_GATE_SMOKE__FLOWS", "[Zq8s3cr3tVALUE"),
    ],
)
def test_invalid_json_in_a_nested_variable_names_the_variable_not_the_value(project, variable, value):
    message = error_for(project({"launch-gate.toml": ""}), environ={variable: value})
    assert f"environment variable {variable} cannot be read" in message
    assert "JSON" in message
    assert "Zq8s3c" not in message


def test_a_list_variable_that_starts_like_json_but_is_not_says_so(project):
    message = error_for(project({"launch-gate.toml": ""}), environ={"LAUNCH_GATE_ENV__REQUIRED": "[A, B"})
    assert "environment variable LAUNCH_GATE_ENV__REQUIRED" in message
    assert "not a JSON list" in message


# Values that pass a pattern but cannot be used are rejected, naming the key.


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
@pytest.mark.parametrize(
    ("table", "key", "shown"),
    [
        ("", "timeout", "`timeout`"),
        ("net", "probe-timeout", "`[net] probe-timeout`"),
        ("deps", "timeout", "`[deps] timeout`"),
        ("latency", "rate", "`[latency] rate`"),
        ("latency", "duration", "`[latency] duration`"),
        ("latency", "p95-ms", "`[latency] p95-ms`"),
        ("latency", "max-lag-ms", "`[latency] max-lag-ms`"),
        ("smoke", "email-within", "`[smoke] email-within`"),
        ("smoke.mailbox", "poll", "`[smoke.mailbox] poll`"),
    ],
)
def test_infinite_and_nan_numbers_are_rejected_naming_the_key(project, table, key, shown, value):
    text = (f"[{table}]\n" if table else "") + f"{key} = {value}\n"
    message = error_for(project({"launch-gate.toml": text}), environ={})
    assert f"{shown} in launch-gate.toml" in message
    assert "finite" in message or "greater than" in message


def test_an_infinite_timeout_from_the_command_line_names_the_flag(project):
    message = error_for(
        project({"launch-gate.toml": ""}),
        environ={},
        overrides={"timeout": float("inf")},
        flag_names={"timeout": "--timeout"},
    )
    assert "option --timeout: Input should be a finite number" in message


def test_a_timeout_too_large_for_the_event_loop_is_rejected(project):
    message = error_for(project({"launch-gate.toml": "timeout = 10000000000000000000000\n"}), environ={})
    assert "`timeout` in launch-gate.toml" in message


@pytest.mark.parametrize(
    "target",
    [
        "https://[::1",
        "https://www.example.com:99999",
        "https://www.example.com:0",
        "https://www.example.com:http",
        "https://www.exa\u0007mple.com",
        "https://www.example.com/a b",
        "https://www.example.com\n",
        "https://",
        "https://:443",
    ],
)
def test_a_target_that_looks_like_a_url_but_cannot_be_used_is_rejected(project, target):
    message = error_for(project({"launch-gate.toml": ""}), environ={"LAUNCH_GATE_TARGET": target})
    assert "environment variable LAUNCH_GATE_TARGET" in message
    assert "https://www.example.com" in message  # the expected shape


@pytest.mark.parametrize(
    "target",
    [
        "https://www.example.com",
        "http://127.0.0.1:8080/",
        "https://[::1]:8443",
        "https://bücher.example/x?y=1",
    ],
)
def test_usable_targets_are_accepted(project, target):
    assert (
        load_settings(cwd=project({"launch-gate.toml": ""}), environ={"LAUNCH_GATE_TARGET": target}).target
        == target
    )


@pytest.mark.parametrize(
    "servers",
    [
        ["127.0.0.1:99999"],
        ["127.0.0.1:0"],
        ["[::1]:abc"],
        ["[::1"],
        ["127.0.0.1:5\u00b2"],
        ["ns1.example.com"],
        ["127.0.0.1:5353", "127.0.0.2:53"],
    ],
)
def test_unusable_nameservers_are_rejected_naming_the_key(project, servers):
    config = f"[net]\nnameservers = {json.dumps(servers)}\n"
    message = error_for(project({"launch-gate.toml": config}), environ={})
    assert "`[net] nameservers` in launch-gate.toml" in message


def test_nameserver_forms_that_work(project):
    config = '[net]\nnameservers = ["127.0.0.1:5353", "[::1]:5353"]\n'
    assert load_settings(cwd=project({"launch-gate.toml": config}), environ={}).net.nameservers == [
        "127.0.0.1:5353",
        "[::1]:5353",
    ]


@pytest.mark.parametrize(
    "entry",
    [
        "www.example.com:99999:127.0.0.1:8443",
        "www.example.com:443:127.0.0.1:0",
        ":443:127.0.0.1:8\u00b2",
        ":443:bad host:1",
    ],
)
def test_unusable_connect_to_entries_are_rejected_naming_the_key(project, entry):
    message = error_for(
        project({"launch-gate.toml": f"[net]\nconnect-to = {json.dumps([entry])}\n"}), environ={}
    )
    assert "`[net] connect-to` in launch-gate.toml: item 1: a connect-to entry must be" in message


# Configuration errors never echo a value: every setting with a value check, from a file, a variable, a flag.

PLANTED = "Qv7s3cr3t-val-ue"
ECHO_CASES = [
    ("launch-gate.toml", f'target = "ftp://{PLANTED}"\n'),
    ("launch-gate.toml", f'environment = "\\u0007{PLANTED}"\n'),
    ("launch-gate.toml", f'[env]\nrequired = ["{PLANTED}"]\n'),
    ("launch-gate.toml", f'[env]\nsettings-class = "{PLANTED}"\n'),
    ("launch-gate.toml", f'[smoke]\nplus-address = "{PLANTED}"\n'),
    ("launch-gate.toml", f'[smoke]\ncatch-all-domain = "{PLANTED}!"\n'),
    ("launch-gate.toml", f'[net]\nconnect-to = ["{PLANTED}"]\n'),
    ("launch-gate.toml", f'[net]\nnameservers = ["{PLANTED}"]\n'),
    ("launch-gate.toml", f'[latency.routes.home]\npath = "{PLANTED}"\n'),
    ("launch-gate.toml", f'[latency]\nroutes = {{ home = "{PLANTED}" }}\n'),
    ("launch-gate.toml", f'[[smoke.flows.f.steps]]\npath = "{PLANTED}"\n'),
    ("launch-gate.toml", f'[smoke.mailbox]\nkind = "smtp"\nlisten = "{PLANTED}"\n'),
    ("launch-gate.toml", f'[smoke.mailbox]\nkind = "mailpit"\nurl = "https://[{PLANTED}"\n'),
    ("launch-gate.toml", f'[smoke.mailbox]\npassword-env = "{PLANTED}"\n'),
    ("launch-gate.toml", f'[[smoke.flows.f.steps]]\npath = "/"\ncapture = {{ t = "body:({PLANTED}" }}\n'),
    ("launch-gate.toml", f'[[smoke.flows.f.steps]]\npath = "/"\ncapture = {{ t = "{PLANTED}" }}\n'),
    ("launch-gate.toml", f'[[smoke.flows.f.steps]]\npath = "/"\ncapture = {{ t = "body:(?P={PLANTED})" }}\n'),
    (
        "launch-gate.toml",
        f'[[smoke.flows.f.steps]]\npath = "/"\ncapture = {{ t = "body:(?P<{PLANTED}>x)" }}\n',
    ),
    ("env", f'LAUNCH_GATE_CHECKS={{"env.required": "{PLANTED}"}}'),
    ("launch-gate.toml", f'[deps]\ncanary = "{PLANTED}"\n'),
    ("launch-gate.toml", f'[deps]\nsource = "{PLANTED}"\n'),
    ("launch-gate.toml", f'[checks]\n"env.debug" = "{PLANTED}"\n'),
    ("launch-gate.toml", f'[[secrets.waivers]]\nid = "x"\nreason = "ok then"\nexpires = "{PLANTED}"\n'),
    ("launch-gate.toml", f'timeout = "{PLANTED}"\n'),
    ("env", f"LAUNCH_GATE_ENV__REQUIRED={PLANTED}"),
    ("env", f"LAUNCH_GATE_TIMEOUT={PLANTED}"),
    ("env", f"LAUNCH_GATE_TARGET=https://{PLANTED}:99999"),
    ("env", f'LAUNCH_GATE_LATENCY__ROUTES={{"home": "{PLANTED}"}}'),
    ("env", f"LAUNCH_GATE_NET__CONNECT_TO={PLANTED}"),
    ("env", f"LAUNCH_GATE_SMOKE__PLUS_ADDRESS={PLANTED}"),
]


def windows(secret: str, size: int = 6) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


@pytest.mark.parametrize(("where", "text"), ECHO_CASES)
def test_configuration_errors_never_echo_a_value(project, where, text):
    if where == "env":
        name, _, value = text.partition("=")
        message = error_for(project({"launch-gate.toml": ""}), environ={name: value})
    else:
        message = error_for(project({where: text}), environ={})
    leaked = [w for w in windows(PLANTED) if w in message]
    assert not leaked, message


def test_a_bad_flag_value_is_not_echoed(project):
    message = error_for(
        project({"launch-gate.toml": ""}),
        environ={},
        overrides={"target": f"https://{PLANTED}:99999", "environment": " "},
        flag_names={"target": "--target", "environment": "--environment"},
    )
    assert "option --target" in message
    assert not [w for w in windows(PLANTED) if w in message]


# An unknown key is answered with the keys of the table it is in, however deep.


@pytest.mark.parametrize(
    ("config", "where", "model"),
    [
        ('[latency.routes.home]\npath = "/"\nbogus = 1\n', "`[latency.routes.home] bogus`", LatencyRoute),
        ('[[smoke.flows.f.steps]]\npath = "/"\nbogus = 1\n', "(item 1, bogus)", FlowStep),
        ("[[smoke.flows.f.steps]]\nemail = { bogus = 1 }\n", "bogus", EmailWait),
        ("[smoke.mailbox]\nbogus = 1\n", "`[smoke.mailbox] bogus`", MailboxTable),
        ('[smoke.flows.f]\nsteps = [{ path = "/" }]\nbogus = 1\n', "`[smoke.flows.f] bogus`", Flow),
        (
            '[[deps.waivers]]\nid = "x"\nreason = "why not"\nexpires = 2030-01-01\nbogus = 1\n',
            "bogus",
            Waiver,
        ),
        ("[net]\nbogus = 1\n", "`[net] bogus`", NetTable),
        ("bogus = 1\n", "`bogus`", Settings),
    ],
)
def test_an_unknown_nested_key_lists_the_keys_of_its_own_table(project, config, where, model):
    message = error_for(project({"launch-gate.toml": config}), environ={})
    assert where in message
    known = ", ".join(sorted(f.alias or n.replace("_", "-") for n, f in model.model_fields.items()))
    assert f"known settings here are {known}." in message


def test_model_at_walks_fields_dict_values_and_list_items():
    assert model_at(("latency", "routes", "home")) is LatencyRoute
    assert model_at(("smoke", "flows", "signup", "steps", 2)) is FlowStep
    assert model_at(("smoke", "flows", "signup", "steps", 0, "email")) is EmailWait
    assert model_at(("secrets", "waivers", 0)) is Waiver
    assert model_at(("smoke",)) is SmokeTable
    assert model_at(()) is Settings


# settings-class and python are checked against the project when the configuration is read.


def test_a_misspelled_settings_class_module_is_a_configuration_error(project):
    root = project(
        {"launch-gate.toml": '[env]\nsettings-class = "apps.confg:Settings"\n', "apps/config.py": ""}
    )
    message = error_for(root, environ={})
    assert "`[env] settings-class` in launch-gate.toml: there is no module apps.confg" in message
    assert "[env] python" in message  # the way out when the module lives in the app's environment


def test_a_misspelled_settings_class_name_is_a_configuration_error(project):
    root = project(
        {
            "launch-gate.toml": '[env]\nsettings-class = "apps.config:Setings"\n',
            "apps/__init__.py": "",
            "apps/config.py": "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings): ...\n",
        }
    )
    message = error_for(root, environ={})
    assert "defines no Setings" in message


def test_a_class_bound_by_import_or_under_a_try_is_found_without_running_the_module(project):
    root = project(
        {
            "launch-gate.toml": '[env]\nsettings-class = "cfg:Settings"\n',
            "cfg.py": "try:\n    from real_cfg import Settings\nexcept ImportError:\n    raise\n",
        }
    )
    assert load_settings(cwd=root, environ={}).env.settings_class == "cfg:Settings"


def test_a_python_setting_that_names_no_interpreter_is_a_configuration_error(project):
    root = project({"launch-gate.toml": '[env]\nsettings-class = "cfg:S"\npython = ".venv/bin/python"\n'})
    message = error_for(root, environ={})
    assert "`[env] python` in launch-gate.toml: no executable Python interpreter" in message


# load_settings raises ConfigError and nothing else.


def test_a_value_of_the_wrong_shape_everywhere_is_a_configuration_error(project):
    config = '[latency]\nroutes = 5\n[smoke]\nflows = "x"\n[checks]\nenv = 3\n'
    assert "invalid launch-gate configuration" in error_for(project({"launch-gate.toml": config}), environ={})
