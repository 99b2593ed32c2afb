"""The one way to declare a check: `@check(...)` registers it here, under the area its module is named after.

The registry finds the built-in areas itself (every module of `launch_gate.checks`) and a third-party
package's through the `launch_gate.checks` entry-point group; both declare checks with the same decorator.
A check's id prefix is its area: the module's name for a built-in (`checks/dns.py` declares `dns.*`), the
entry point's name for a third-party module (`mycheck = "pkg.checks"` declares `mycheck.*`).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import pkgutil
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from launch_gate.config import Settings
from launch_gate.errors import ConfigError
from launch_gate.results import Outcome, Phase, Verdict

if TYPE_CHECKING:
    from launch_gate.secretscan.sources import Push

GROUP = "launch_gate.checks"
PACKAGE = "launch_gate.checks"
# Where the built-in areas stand in a report: pre-deploy first, then from the name inwards. An area not named
# here (a new module, a third-party package) still runs: it follows these, in the order it was found.
PRE_AREAS = ("env", "secrets", "deps", "migrations")
POST_AREAS = (
    *("dns", "tls", "domain", "headers", "exposure", "email"),  # from the name inwards
    *("edge", "health"),  # what stands in front of the app, what the app says of its dependencies
    *("smoke", "latency"),  # configured
    "load",  # configured, and run by `launch-gate load` (a run takes its duration)
)
REPORT_ORDER = (*PRE_AREAS, *POST_AREAS)
NOT_AREAS = frozenset({"registry"})


@dataclass(frozen=True)
class Context:
    """What every check may read: the validated settings and a snapshot of the environment."""

    settings: Settings
    environ: Mapping[str, str]
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)  # probes checks share
    secrets: set[str] = field(default_factory=set, compare=False, repr=False)  # learnt while running
    public: set[str] = field(default_factory=set, compare=False, repr=False)  # never redacted: a flow's user
    # What git is pushing, when the pre-push hook runs the gate: `secrets.diff` scans its new commits.
    push: Push | None = None

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
F = TypeVar("F", bound=CheckFunc)
Factory = Callable[[Settings], tuple["Check", ...]]


@dataclass(frozen=True)
class Check:
    """A check with a stable dotted id; `summary` is the one line the README and `--list` show."""

    id: str
    phase: Phase
    summary: str
    func: CheckFunc
    timeout: Callable[[Settings], float] | None = None  # its own limit, where the global one does not fit
    stage: int = 0  # checks run concurrently within a stage, stages one after another (measurements last)
    fails_when: str = ""  # what makes it fail, beyond the summary: docs/checks.md shows it

    def time_limit(self, settings: Settings) -> float:
        """Seconds this check may take: its own limit, else the `timeout` setting."""
        return self.timeout(settings) if self.timeout else settings.timeout

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]


def _target_guard(func: CheckFunc, purpose: str, https: bool) -> CheckFunc:
    """`func`, skipped with one message when there is no target (or, with `https`, no https target)."""
    message = f"no {'https ' if https else ''}target: set `target` {purpose}."

    def missing(ctx: Context) -> Verdict | None:
        target = ctx.settings.target
        if not target or (https and not target.startswith("https://")):
            return Verdict.of(Outcome.SKIP, message)
        return None

    if inspect.iscoroutinefunction(func):

        async def guarded_async(ctx: Context) -> Verdict:
            return missing(ctx) or await func(ctx)

        return functools.update_wrapper(guarded_async, func)

    def guarded(ctx: Context) -> Verdict | Awaitable[Verdict]:
        return missing(ctx) or func(ctx)

    return functools.update_wrapper(guarded, func)


def new_check(
    id: str,
    phase: Phase,
    summary: str,
    func: CheckFunc,
    *,
    needs_target: bool | str = False,
    https: bool = False,
    timeout: Callable[[Settings], float] | None = None,
    stage: int = 0,
    fails_when: str = "",
) -> Check:
    """A Check; `needs_target` (True, or the purpose the skip message names, e.g. "to check DNS") skips it
    when no `target` is set, `https` when the target is not https."""
    if needs_target or https:
        purpose = needs_target if isinstance(needs_target, str) else "to run this check"
        func = _target_guard(func, purpose, https)
    return Check(id, phase, summary, func, timeout, stage, fails_when)


def _module_area(module: str) -> str | None:
    """The area of a built-in check module (`launch_gate.checks.dns` -> `dns`), None for any other module."""
    package, _, name = module.rpartition(".")
    return name if package == PACKAGE and name not in NOT_AREAS else None


@dataclass
class Registry:
    """Declared checks and factories of configured checks, by the module that declared them."""

    checks: dict[str, list[Check]] = field(default_factory=dict)  # module -> its checks, in declaration order
    factories: dict[str, list[Factory]] = field(default_factory=dict)  # module -> its factories
    areas: dict[str, str] = field(default_factory=dict)  # module -> area, once known
    order: list[str] = field(default_factory=list)  # modules in the order they were found

    def _claim(self, module: str) -> None:
        if module not in self.order:
            self.order.append(module)
        area = _module_area(module)
        if area is not None:
            self.areas[module] = area

    def add(self, module: str, declared: Check) -> None:
        area = _module_area(module)
        assert area is None or declared.area == area, (
            f"{declared.id} is declared in {module}: a check's id prefix is its module's name ({area}.*)"
        )
        known = {c.id for found in self.checks.values() for c in found}
        assert declared.id not in known, f"{declared.id} is declared twice (the second time in {module})"
        self._claim(module)
        self.checks.setdefault(module, []).append(declared)

    def add_factory(self, module: str, factory: Factory) -> None:
        self._claim(module)
        self.factories.setdefault(module, []).append(factory)

    def adopt(self, entry: EntryPoint, module: str) -> None:
        """Give the checks a third-party module declared to its entry point's area; a wrong prefix is an error."""
        owned = [m for m in self.order if m == module or m.startswith(module + ".")]
        for name in owned:
            wrong = [c.id for c in self.checks.get(name, ()) if c.area != entry.name]
            if wrong:
                raise ConfigError(
                    f"the check plugin {entry.name!r} ({entry.value}, entry point group {GROUP}) declares "
                    f"{', '.join(wrong)}: a plugin's check ids start with its entry point's name ({entry.name}.)"
                )
            self.areas[name] = entry.name

    def _ranked(self) -> list[str]:
        rank = {area: index for index, area in enumerate(REPORT_ORDER)}
        return sorted(self.order, key=lambda m: rank.get(self.areas.get(m, ""), len(rank)))

    def all(self, settings: Settings | None, wanted: Wanted | None = None) -> tuple[Check, ...]:
        modules = [m for m in self._ranked() if wanted is None or self.areas.get(m, "") in wanted]
        declared = [c for m in modules for c in self.checks.get(m, ())]
        if settings is None:
            return tuple(declared)
        made_all: list[Check] = []
        for module in modules:
            for factory in self.factories.get(module, ()):
                made = factory(settings)
                area = self.areas.get(module)
                assert area is None or all(c.area == area for c in made), (
                    f"{module} made checks of another area"
                )
                made_all += made
        return (*declared, *made_all)


REGISTRY = Registry()


def check(
    id: str,
    phase: Phase,
    summary: str,
    *,
    needs_target: bool | str = False,
    https: bool = False,
    timeout: Callable[[Settings], float] | None = None,
    stage: int = 0,
    fails_when: str = "",
) -> Callable[[F], F]:
    """Declare and register a check: `@check("dns.caa", Phase.POST, "one-line summary", needs_target=...)`."""

    def register(func: F) -> F:
        made = new_check(
            id,
            phase,
            summary,
            func,
            needs_target=needs_target,
            https=https,
            timeout=timeout,
            stage=stage,
            fails_when=fails_when,
        )
        REGISTRY.add(func.__module__, made)
        return func

    return register


def configured(factory: Factory) -> Factory:
    """Register a factory of configured checks (one per flow, per route), made from the settings."""
    REGISTRY.add_factory(factory.__module__, factory)
    return factory


def builtin_modules() -> list[str]:
    """Every area module of the package, found on disk: a new module needs no listing anywhere."""
    path = importlib.import_module(PACKAGE).__path__
    return [
        f"{PACKAGE}.{info.name}"
        for info in pkgutil.iter_modules(path)
        if not info.name.startswith("_") and info.name not in NOT_AREAS
    ]


@dataclass(frozen=True)
class Wanted:
    """The areas a run needs loaded: those named (None: every one), less those known to hold only checks of
    another phase. Loading is the slow part of a short run (httpx, DNS, detect-secrets), so a run of
    `secrets.diff` imports `checks/secrets.py` alone."""

    areas: frozenset[str] | None = None
    skip: frozenset[str] = frozenset()

    def __contains__(self, area: object) -> bool:
        return (self.areas is None or area in self.areas) and area not in self.skip


def needed(phase: str, select: Collection[str] = ()) -> Wanted:
    """What a plan for `phase` narrowed by `select` prefixes needs: the prefixes' areas (`secrets.diff` ->
    `secrets`), else every area but those of the other phase (an area not listed in PRE_AREAS or POST_AREAS,
    and every plugin, is always loaded)."""
    areas = frozenset(prefix.split(".", 1)[0] for prefix in select) if select else None
    other = {"pre": POST_AREAS, "post": PRE_AREAS}.get(phase, ())
    return Wanted(areas, frozenset(other))


def known_areas() -> frozenset[str]:
    """Every area's name, without importing any: the built-in modules' and the plugins' entry points'."""
    builtin = {module.rsplit(".", 1)[1] for module in builtin_modules()}
    return frozenset(builtin | {entry.name for entry in entry_points(group=GROUP)})


def _load_plugin(entry: EntryPoint) -> None:
    try:
        loaded = entry.load()
    except Exception as exc:  # a plugin's own failure: the user sees which plugin, not a traceback
        detail = f": {exc}" if isinstance(exc, ImportError) else ""
        raise ConfigError(
            f"the check plugin {entry.name!r} ({entry.value}, entry point group {GROUP}) failed to import "
            f"({type(exc).__name__}{detail}). Fix or uninstall the package that provides it."
        ) from None
    REGISTRY.adopt(entry, getattr(loaded, "__name__", entry.module))


_loaded: set[str] = set()


def discover(wanted: Wanted | None = None) -> None:
    """Import the built-in area modules and the plugins `wanted` (default: every one), each once (a plugin
    that failed is tried again). A plugin's area is its entry point's name, known before it is imported."""
    for module in builtin_modules():
        if module not in _loaded and (wanted is None or module.rsplit(".", 1)[1] in wanted):
            importlib.import_module(module)
            _loaded.add(module)
    for entry in entry_points(group=GROUP):
        key = f"plugin:{entry.name}={entry.value}"
        if key not in _loaded and (wanted is None or entry.name in wanted):
            _load_plugin(entry)
            _loaded.add(key)


def all_checks(settings: Settings | None = None, wanted: Wanted | None = None) -> tuple[Check, ...]:
    """Every declared check, in report order, then (given settings) the configured ones: `smoke.<flow>` and
    `latency.<route>`; with `wanted`, those of the wanted areas only, and only their modules are imported.
    A plugin that cannot be imported is a ConfigError naming it."""
    discover(wanted)
    return REGISTRY.all(settings, wanted)
