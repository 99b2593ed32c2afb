"""launch-gate: blocks a web app's deploy when it is not launch-ready.

The public API is small: load settings, build a plan, run it, read the report. Names are imported on first
use, so that pytest, which imports this package for the plugin on every run, pays nothing for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CheckResult": "launch_gate.results",
    "ExitCode": "launch_gate.results",
    "Finding": "launch_gate.results",
    "GateReport": "launch_gate.results",
    "Outcome": "launch_gate.results",
    "Phase": "launch_gate.results",
    "ConfigError": "launch_gate.errors",
    "CouldNotVerify": "launch_gate.errors",
    "LaunchGateError": "launch_gate.errors",
    "Settings": "launch_gate.config",
    "load_settings": "launch_gate.config",
    "build_plan": "launch_gate.runner",
    "run_plan": "launch_gate.runner",
    "make_context": "launch_gate.runner",
}
__all__ = [
    "CheckResult",
    "ConfigError",
    "CouldNotVerify",
    "ExitCode",
    "Finding",
    "GateReport",
    "LaunchGateError",
    "Outcome",
    "Phase",
    "Settings",
    "__version__",
    "build_plan",
    "load_settings",
    "make_context",
    "run_plan",
]

if TYPE_CHECKING:
    from launch_gate.config import Settings, load_settings
    from launch_gate.errors import ConfigError, CouldNotVerify, LaunchGateError
    from launch_gate.results import CheckResult, ExitCode, Finding, GateReport, Outcome, Phase
    from launch_gate.runner import build_plan, make_context, run_plan


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'launch_gate' has no attribute {name!r}")
