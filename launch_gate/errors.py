"""The one exception root and its few children.

Users see these as a sentence (what is wrong, where it came from, what to do), never as a traceback.
"""


class LaunchGateError(Exception):
    """Root of every error launch-gate raises on purpose."""


class ConfigError(LaunchGateError):
    """Bad usage or configuration: the gate cannot be planned (exit code 4)."""


class CouldNotVerify(LaunchGateError):
    """A check could not reach a verdict (timeout, unreachable service, tool crash): an *error*, never a pass."""
