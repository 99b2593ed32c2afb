"""The check areas. Each module owns one area and exposes `CHECKS`; a check is a plain function of a Context."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launch_gate.config import Settings
from launch_gate.results import Phase, Verdict


@dataclass(frozen=True)
class Context:
    """What every check may read: the validated settings and a snapshot of the environment."""

    settings: Settings
    environ: Mapping[str, str]
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)  # probes checks share
    secrets: set[str] = field(default_factory=set, compare=False, repr=False)  # learnt while running
    public: set[str] = field(default_factory=set, compare=False, repr=False)  # never redacted: a flow's user

    @property
    def root(self) -> Path:
        return self.settings.root

    async def shared(self, key: Hashable, make: Callable[[], Awaitable[Any]]) -> Any:
        """One network probe per run that several checks need (made once, awaited by each)."""
        loop = asyncio.get_running_loop()
        task = self.memo.get(key)
        if task is None or task.get_loop() is not loop:  # under pytest each item runs its own event loop
            task = self.memo[key] = loop.create_task(make())  # type: ignore[arg-type]
        return await asyncio.shield(task)


CheckFunc = Callable[[Context], Verdict | Awaitable[Verdict]]


@dataclass(frozen=True)
class Check:
    """A check with a stable dotted id; `summary` is the one line the README and `--list` show."""

    id: str
    phase: Phase
    summary: str
    func: CheckFunc
    timeout: Callable[[Settings], float] | None = None  # its own limit, where the global one does not fit
    stage: int = 0  # checks run concurrently within a stage, stages one after another (measurements last)

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]


def all_checks(settings: Settings | None = None) -> tuple[Check, ...]:
    """Every built-in check, in report order, then (given settings) the configured ones: `smoke.<flow>` and
    `latency.<route>`."""
    from launch_gate.checks import deps, dns_records, email_auth, env, latency, secrets, smoke, tls, web

    areas = (env, secrets, deps, dns_records, tls, web, email_auth)
    configured = (*smoke.checks_for(settings), *latency.checks_for(settings)) if settings is not None else ()
    return (*(check for area in areas for check in area.CHECKS), *configured)
