"""The plugin's options, ini twins, marker texts and stash keys, and the settings as the gate sees them.
Shared by the entry point (`launch_gate.pytest_plugin`), the gate's items and the fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from launch_gate.errors import ConfigError

if TYPE_CHECKING:
    from launch_gate.config import Settings

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


SMOKE_FLOW = (
    "smoke_flow(name): this test is a step of the smoke flow `name` (signup, login, booking, ...); the summary "
    "reports each flow, and with --launch-gate it joins the post-deploy gate"
)
LATENCY_BUDGET = (
    "latency_budget(p95_ms=300, p99_ms=None, error_rate=0.01, samples=30, warmup=1): call this test's body "
    "samples times (after warmup calls), one sample each, and fail when p95/p99/error rate are over budget"
)
# Values the gate's fixtures handled (tokens, cookies, passwords), per session: every test report is scrubbed
# of them, so they reach neither the terminal nor JUnit.
SECRETS = pytest.StashKey[set[str]]()
FLOW_PROPERTY = "smoke_flow"
LATENCY_PROPERTY = "latency_budget"


def option(config: pytest.Config, name: str) -> str | None:
    """A command-line option, else its ini twin (`--gate-phase` / `launch_gate_phase`), else None."""
    value = config.getoption(f"gate_{name}")
    if value is None:
        return str(config.getini(f"launch_gate_{name}")) or None
    return str(value)


def gate_enabled(config: pytest.Config) -> bool:
    flag = config.getoption("launch_gate")
    return bool(config.getini("launch_gate")) if flag is None else bool(flag)


def load_settings_for(config: pytest.Config) -> Settings:
    """Settings as the gate sees them, from the rootdir, the ini keys and the command line."""
    from launch_gate.config import load_settings  # pydantic: only when settings are asked for

    config_file = option(config, "config")
    try:
        return load_settings(
            cwd=config.rootpath,
            config_file=Path(config_file) if config_file else None,
            overrides={"target": option(config, "target")},
            flag_names={"target": "--gate-target"},
            require_file=gate_enabled(config),  # the gate needs one; fixtures alone can live on defaults
        )
    except ConfigError as error:
        raise pytest.UsageError(f"launch-gate: {error}") from None
