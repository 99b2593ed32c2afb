"""The check areas: one module per id prefix (`dns.py` declares `dns.*`), each check declared with `@check`.

A check is a plain function of a Context that returns a Verdict. The registry finds every module of this
package and every third-party module of the `launch_gate.checks` entry-point group; no check module imports
another: what several share lives below them, in `launch_gate.rules` (pure) and `launch_gate.net.probes` (network).
"""

from __future__ import annotations

from launch_gate.checks.registry import (
    Check,
    CheckFunc,
    Context,
    all_checks,
    check,
    configured,
    new_check,
)
from launch_gate.results import Finding, Outcome, Phase, Verdict

# What a check author needs, in-tree or in a third-party package (examples/third_party_check).
__all__ = [
    "Check",
    "CheckFunc",
    "Context",
    "Finding",
    "Outcome",
    "Phase",
    "Verdict",
    "all_checks",
    "check",
    "configured",
    "new_check",
]
