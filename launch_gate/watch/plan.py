"""What a watch round runs: `[watch] checks`, else the home page, every latency route and the flows marked
`watch = true`."""

from __future__ import annotations

from launch_gate.config import Settings
from launch_gate.runner import Planned, build_plan

HOME = "domain.redirects"


def default_selection(settings: Settings) -> list[str]:
    routes = [f"latency.{name}" for name in settings.latency.routes]
    flows = [f"smoke.{name}" for name, flow in settings.smoke.flows.items() if flow.watch]
    return [HOME, *routes, *flows]


def watch_plan(settings: Settings) -> list[Planned]:
    """The round's checks (post-deploy only); a selection that matches no check is a ConfigError."""
    chosen = settings.watch.checks or default_selection(settings)
    where = settings.where("watch", "checks") if settings.watch.checks else "the watch's default checks"
    return build_plan(settings, "post", chosen, selected_by=where)
