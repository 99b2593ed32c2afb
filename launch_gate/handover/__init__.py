"""The founder-ready handover pack (`launch-gate handover`): who holds the domain, DNS, mail, certificate,
hosting and edge; monitoring; where secrets live (names only); rollback; the latest gate result, open
waivers and known risks, as Markdown that needs no code reading. Facts come from the checks' results
(`domain.registration`, `tls.expiry`, `edge.protection`, `health.dependencies`, run through the runner) and
a few lookups of its own (`facts.py`); the text passes through the run's redactor before it is written.
"""

from __future__ import annotations

from launch_gate.handover.command import FACT_CHECKS, PackSummary, read_report, run_handover, with_pack
from launch_gate.handover.facts import Facts, gather
from launch_gate.handover.pack import Inputs, render

__all__ = [
    "FACT_CHECKS",
    "Facts",
    "Inputs",
    "PackSummary",
    "gather",
    "read_report",
    "render",
    "run_handover",
    "with_pack",
]
