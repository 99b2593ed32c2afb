"""launch-gate: blocks a web app's deploy when it is not launch-ready.

The public API is small: load settings, build a plan, run it, read the report.
"""

from launch_gate.errors import ConfigError, CouldNotVerify, LaunchGateError
from launch_gate.results import CheckResult, ExitCode, Finding, GateReport, Outcome, Phase

__version__ = "0.1.0"

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
    "__version__",
]
