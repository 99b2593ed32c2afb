"""What one load run needs, built from the settings in the gate's process and handed to the Locust child as
JSON: the journeys as smoke-flow steps, the shape, the users and caps, and how to reach the target."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from launch_gate.config import Settings
from launch_gate.config.schema import FlowStep, LoadJourney, LoadProfile
from launch_gate.errors import ConfigError
from launch_gate.load.shape import shape

SPAWN_ALL_AT_ONCE = 1000.0  # users per second when `ramp` is 0
RUNNING = "launch-gate load worker: running"  # a worker says so on stderr once its users start


@dataclass(frozen=True)
class Caps:
    """The hard limits of a run, stated in the report: it stops at whichever comes first."""

    duration_s: float
    max_requests: int

    def sentence(self) -> str:
        return f"capped at {self.duration_s:g} s and {self.max_requests:,} requests"


def profile_of(settings: Settings, name: str) -> LoadProfile:
    try:
        return settings.load.profiles[name]
    except KeyError:
        known = ", ".join(settings.load.profiles) or "none configured"
        raise ConfigError(
            f"no load profile {name!r} in [load.profiles] (known: {known}); add [load.profiles.{name}] "
            "or name one of them"
        ) from None


def _uses(steps: list[FlowStep], name: str) -> bool:
    return any(f"{{{name}}}" in json.dumps(s.model_dump(mode="json", by_alias=True)) for s in steps)


def _requests_only(steps: list[FlowStep], where: str) -> list[FlowStep]:
    """The steps without email steps (a load run sends requests only); one whose capture a later step
    needs cannot be left out, and is a configuration error naming it."""
    kept: list[FlowStep] = []
    for number, step in enumerate(steps):
        if step.email is None:
            kept.append(step)
            continue
        needed = [n for n in step.capture if _uses(steps[number + 1 :], n)]
        if needed:
            raise ConfigError(
                f"{where} waits for an email to capture {{{needed[0]}}}, which a later step uses; a load run "
                "sends requests only: give the journey its own `steps`"
            )
    return kept


def journey_steps(
    settings: Settings, profile: str, name: str, journey: LoadJourney
) -> tuple[list[FlowStep], list[FlowStep]]:
    """The journey's steps and cleanup: its own, or its smoke flow's (without email steps)."""
    where = f"[load.profiles.{profile}.journeys.{name}]"
    if journey.flow is None:
        return journey.steps, journey.cleanup
    flow = settings.smoke.flows.get(journey.flow)
    if flow is None:
        known = ", ".join(settings.smoke.flows) or "none configured"
        raise ConfigError(
            f"{where} flow names {journey.flow!r}, which is not in [smoke.flows] (known: {known})"
        )
    where = f"{where} (flow {journey.flow!r})"
    return _requests_only(flow.steps, where), _requests_only(flow.cleanup, where + " cleanup")


def _step(step: FlowStep) -> dict[str, Any]:
    return step.model_dump(mode="json", by_alias=True, exclude_none=True)


def caps(settings: Settings, name: str) -> Caps:
    profile = profile_of(settings, name)
    return Caps(profile.duration, profile.max_requests)


def build_spec(settings: Settings, name: str) -> dict[str, Any]:
    """The child's whole input, as JSON-ready data (paths absolute: the child may run elsewhere)."""
    profile = profile_of(settings, name)
    if not settings.target:
        raise ConfigError("a load run needs `target`: set target (or --target) to the deployment's URL")
    journeys = []
    uses_user = False
    for journey_name, journey in profile.journeys.items():
        steps, cleanup = journey_steps(settings, name, journey_name, journey)
        if not steps:
            raise ConfigError(f"[load.profiles.{name}.journeys.{journey_name}] has no request step to send")
        uses_user |= _uses([*steps, *cleanup], "user.email") or _uses([*steps, *cleanup], "user.password")
        journeys.append(
            {
                "name": journey_name,
                "weight": journey.weight,
                "steps": [_step(s) for s in steps],
                "cleanup": [_step(s) for s in cleanup],
            }
        )
    smoke = settings.smoke
    if uses_user and not (smoke.plus_address or smoke.catch_all_domain):
        raise ConfigError(
            f"load profile {name!r} uses {{user.*}}: set [smoke] plus-address or catch-all-domain so each "
            "session gets a throwaway address"
        )
    chosen = shape(profile.shape, profile.think_time, profile.pause)
    net = settings.net
    bundle = settings.root / net.ca_bundle if net.ca_bundle else None
    return {
        "profile": name,
        "target": settings.target,
        "users": profile.users,
        "spawn_rate": profile.users / profile.ramp if profile.ramp else SPAWN_ALL_AT_ONCE,
        "duration": profile.duration,
        "max_requests": profile.max_requests,
        "tick": max(0.5, round(profile.duration / 30, 2)),
        "shape": {
            "name": profile.shape,
            "think_time": list(chosen.think_time),
            "pause": list(chosen.pause),
            "new_connection": chosen.new_connection_per_session,
            "headers": chosen.headers,
        },
        "journeys": journeys,
        "net": {
            "connect_to": list(net.connect_to),
            "ca_bundle": str(bundle.resolve()) if bundle else None,
            "nameservers": list(net.nameservers),
            "timeout": net.probe_timeout,
        },
        "identity": {"plus-address": smoke.plus_address, "catch-all-domain": smoke.catch_all_domain},
    }
