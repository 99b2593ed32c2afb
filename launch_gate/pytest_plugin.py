"""The pytest11 entry point (`-p no:launch_gate` disables it): options, ini keys, markers and fixtures.

Cheap to import on purpose: without `--launch-gate` it registers its options and markers and nothing else.
The gate's items live in `launch_gate.pytest_gate`, imported only when the gate is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from launch_gate.config import Settings
    from launch_gate.fixtures import GateEnv

ENABLE_HELP = (
    "run launch-gate's built-in checks as test items, plus tests marked launch_gate (off by default)"
)
PHASE_HELP = "which gate checks to run: pre, post or all (default: all)"
CONFIG_HELP = "a launch-gate.toml or pyproject.toml to read instead of the ones in the rootdir"
TARGET_HELP = "the canonical URL of the deployment to check, e.g. https://www.example.com"
MARKER = (
    "launch_gate(phase='all'): this test joins the launch gate (phase 'pre', 'post' or 'all'); with --launch-gate "
    "it runs only when its phase is selected"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("launch-gate", "launch readiness gate")
    group.addoption("--launch-gate", action="store_true", default=None, dest="launch_gate", help=ENABLE_HELP)
    group.addoption("--gate-phase", dest="gate_phase", choices=("pre", "post", "all"), help=PHASE_HELP)
    group.addoption("--gate-config", dest="gate_config", metavar="FILE", help=CONFIG_HELP)
    group.addoption("--gate-target", dest="gate_target", metavar="URL", help=TARGET_HELP)
    parser.addini("launch_gate", ENABLE_HELP, type="bool", default=False)
    parser.addini("launch_gate_phase", PHASE_HELP, default="all")
    parser.addini("launch_gate_config", CONFIG_HELP, default="")
    parser.addini("launch_gate_target", TARGET_HELP, default="")


def option(config: pytest.Config, name: str) -> str | None:
    """A command-line option, else its ini twin (`--gate-phase` / `launch_gate_phase`), else None."""
    value = config.getoption(f"gate_{name}")
    if value is None:
        return str(config.getini(f"launch_gate_{name}")) or None
    return str(value)


def gate_enabled(config: pytest.Config) -> bool:
    flag = config.getoption("launch_gate")
    return bool(config.getini("launch_gate")) if flag is None else bool(flag)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    if gate_enabled(config):
        from launch_gate.pytest_gate import GatePlugin

        config.pluginmanager.register(GatePlugin(config), GatePlugin.name)


def load_settings_for(config: pytest.Config) -> Settings:
    """Settings as the gate sees them, from the rootdir, the ini keys and the command line."""
    from pathlib import Path

    from launch_gate.config import load_settings
    from launch_gate.errors import ConfigError

    config_file = option(config, "config")
    try:
        return load_settings(
            cwd=config.rootpath,
            config_file=Path(config_file) if config_file else None,
            overrides={"target": option(config, "target")},
            flag_names={"target": "--gate-target"},
        )
    except ConfigError as error:
        raise pytest.UsageError(f"launch-gate: {error}") from None


@pytest.fixture(scope="session")
def gate_settings(pytestconfig: pytest.Config) -> Settings:
    """The validated launch-gate settings (pyproject.toml, launch-gate.toml, LAUNCH_GATE_*, options)."""
    return load_settings_for(pytestconfig)


@pytest.fixture
def gate_env() -> GateEnv:
    """The process environment as the gate sees it, with values kept out of reprs and failure messages."""
    import os

    from launch_gate.fixtures import GateEnv

    return GateEnv(os.environ)
