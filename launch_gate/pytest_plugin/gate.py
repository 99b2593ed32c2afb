"""The gate inside pytest: one item per built-in check, marked tests joined in, and a summary table.

Imported only when `--launch-gate` is on. A failed check fails its item during the call; a check that could
not verify errors its item during setup, so pytest (and JUnit) keep "failed" and "error" apart.

The gate's checks run together in a background thread, as the command runs them. Under pytest-xdist the gate's
items are one unit of work sent to one worker, which runs them together from the first one's setup; under
pytest-timeout each item's limit comes from its check's own timeout. Both stay optional: xdist is imported only
inside xdist's own hook, and their markers are added only when the plugin is active.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import warnings
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from launch_gate.checks import Context
from launch_gate.config import Settings
from launch_gate.errors import ConfigError
from launch_gate.pytest_plugin.options import SECRETS, load_settings_for, option
from launch_gate.redact import scrub
from launch_gate.report import terminal
from launch_gate.results import CheckResult, GateReport, Outcome, Phase
from launch_gate.rules.words import count
from launch_gate.runner import Planned, build_plan, gate_secrets, make_context, run_plan, run_staged

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController

PROPERTY = "launch_gate"
METRICS_PROPERTY = "launch_gate_metrics"
COLLECTOR_NAME = "launch-gate"
# pytest-xdist: the modes that send the gate's items to one worker as one unit (`load` and `loadgroup` through
# our scheduler, `loadscope`/`loadfile` through the node ids; `each` sends all to
# all); the controller tells each worker so in its workerinput. `worksteal` may split them: they run one by one.
TOGETHER = "launch_gate_together"
TOGETHER_MODES = ("load", "loadgroup", "loadscope", "loadfile", "each")
# pytest-timeout: a gate item's limit is its check's own timeout (and the stages before it), 10 % + 10 s more,
# so that the check's own timeout reports first ("could not verify: no answer within N s").
TIMEOUT_FACTOR = 1.1
TIMEOUT_MARGIN_S = 10.0


class LaunchGateWarning(UserWarning):
    """A gate check that passed with a warning."""


def explain(result: CheckResult) -> str:
    """The failure text a user reads instead of a traceback."""
    width = len(result.id)
    head = "could not verify" if result.outcome is Outcome.ERROR else result.outcome.value
    return f"launch-gate {result.id}: {head}\n" + "\n".join(terminal.result_lines(result, width))


class GateItem(pytest.Item):
    """One built-in check as a pytest item."""

    def __init__(self, *, planned: Planned, context: Context, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.planned = planned
        self.context = context
        self.result: CheckResult | None = None
        self.future: Future[CheckResult] | None = None  # set when the session runs all gate items at once
        self.add_marker(pytest.mark.launch_gate(phase=planned.check.phase.value))

    def setup(self) -> None:
        # The future is bounded: every check has its own timeout.
        result = self.future.result() if self.future else run_plan([self.planned], self.context).results[0]
        self.result = result
        self.user_properties.append((PROPERTY, f"{result.id} {result.outcome.value} {result.message}"))
        if result.metrics:  # measured figures (latency percentiles, flow steps): for the summary's chart
            self.user_properties.append((METRICS_PROPERTY, json.dumps(result.metrics, default=str)))
        if result.outcome is Outcome.ERROR:
            pytest.fail(explain(result), pytrace=False)

    def runtest(self) -> None:
        result = self.result
        assert result is not None
        if result.outcome is Outcome.FAIL:
            pytest.fail(explain(result), pytrace=False)
        if result.outcome is Outcome.SKIP:
            pytest.skip(f"{result.id}: {result.message}")
        if result.outcome is Outcome.WARN:
            warnings.warn(LaunchGateWarning(f"{result.id}: {result.message}"), stacklevel=1)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"launch-gate check {self.name}"


class GateCollector(pytest.Collector):
    """The built-in checks of the selected phase, collected under the node id `launch-gate`."""

    def __init__(self, *, plan: list[Planned], context: Context, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.plan = plan
        self.context = context

    def collect(self) -> Iterator[GateItem]:
        for planned in self.plan:
            yield GateItem.from_parent(self, name=planned.check.id, planned=planned, context=self.context)


def timeout_limits(plan: Sequence[Planned], settings: Settings) -> dict[str, float]:
    """pytest-timeout's limit for each gate item: a backstop that fires only if the gate's own timeouts did not.
    An item may wait for the stages before its own (the background run finishes a stage before the next)."""
    own = {p.check.id: p.check.time_limit(settings) for p in plan}
    slowest: dict[int, float] = {}
    for p in plan:
        slowest[p.check.stage] = max(slowest.get(p.check.stage, 0.0), own[p.check.id])
    limits = {}
    for p in plan:
        waited = sum(limit for stage, limit in slowest.items() if stage < p.check.stage)
        limits[p.check.id] = round((waited + own[p.check.id]) * TIMEOUT_FACTOR + TIMEOUT_MARGIN_S, 1)
    return limits


def mark_for_plugins(
    items: Sequence[GateItem], settings: Settings, plugins: pytest.PytestPluginManager
) -> None:
    """Markers for the optional plugins, each only when it is active (--strict-markers knows it only then)."""
    if plugins.has_plugin("xdist"):  # honoured by `--dist loadgroup`
        for item in items:
            item.add_marker(pytest.mark.xdist_group(COLLECTOR_NAME))
    if plugins.has_plugin("timeout"):  # a marker wins over --timeout and the `timeout` ini key
        limits = timeout_limits([item.planned for item in items], settings)
        for item in items:
            item.add_marker(pytest.mark.timeout(limits[item.planned.check.id], func_only=False))


def together_scheduling(config: pytest.Config, log: object) -> object:
    """xdist's `load` or `loadgroup` scheduling, except that the gate's items are one unit of work (without
    renaming their node ids, and whatever order xdist's own hooks run in)."""
    from xdist.scheduler import LoadGroupScheduling, LoadScopeScheduling

    grouped = config.getvalue("dist") == "loadgroup"

    class GateTogetherScheduling(LoadGroupScheduling if grouped else LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(f"{COLLECTOR_NAME}::"):
                return COLLECTOR_NAME
            return str(super()._split_scope(nodeid)) if grouped else nodeid

    return GateTogetherScheduling(config, log)


def _marked_phase(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("launch_gate")
    if marker is None:
        return None
    return str(marker.kwargs.get("phase", marker.args[0] if marker.args else "all"))


class Handover:
    """The runner's progress, as the gate's items hear it: each result goes to its item's future."""

    def __init__(self, futures: dict[str, Future[CheckResult]]) -> None:
        self.futures = futures

    def started(self, planned: Planned) -> None:
        """Nothing to do: pytest shows its own progress."""

    def finished(self, planned: Planned, result: CheckResult) -> None:
        self.futures[planned.check.id].set_result(result)


def run_in_background(items: list[GateItem], context: Context) -> None:
    """Run the selected gate items' checks as the command does (concurrently, stage by stage) in a background
    thread: the gate takes about its slowest check, not the sum. Each item waits for its own result."""
    futures: dict[str, Future[CheckResult]] = {}
    for item in items:
        item.future = futures[item.planned.check.id] = Future()

    def main() -> None:
        try:
            asyncio.run(run_staged([i.planned for i in items], context, Handover(futures)))
        finally:  # never leave an item waiting
            for item in items:
                assert item.future is not None
                if not item.future.done():
                    item.future.set_result(
                        CheckResult(item.planned.check.id, item.planned.check.phase, Outcome.ERROR,
                                    "could not verify: the gate's background run stopped")
                    )  # fmt: skip

    threading.Thread(target=main, daemon=True, name="launch-gate-checks").start()


class GatePlugin:
    """Registered by `pytest_configure` when the gate is on; holds the plan and the results for the summary."""

    name = "launch-gate-gate"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.phase = option(config, "phase") or "all"
        if self.phase not in ("pre", "post", "all"):
            raise pytest.UsageError(f"launch_gate_phase must be pre, post or all, got {self.phase!r}.")
        self.settings: Settings = load_settings_for(config)
        # Every report of the run (the gate's items and the user's tests) is scrubbed of the variables the gate
        # treats as secret, as the command's reports are.
        config.stash[SECRETS].update(gate_secrets(self.settings, os.environ))
        try:
            self.plan = build_plan(self.settings, self.phase)
        except ConfigError as error:
            raise pytest.UsageError(f"launch-gate: {error}") from None
        self.results: dict[str, CheckResult] = {}
        self.waiting: list[GateItem] = []  # on an xdist worker: run together once the first one is set up

    def pytest_report_header(self, config: pytest.Config) -> str:
        read = ", ".join(str(path) for path in self.settings.sources) or "none"
        return f"launch-gate: phase {self.phase}, configuration {read}"

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        keep: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        for item in items:
            if item.get_closest_marker("smoke_flow") and not item.get_closest_marker("launch_gate"):
                item.add_marker(pytest.mark.launch_gate(phase="post"))  # users' smoke flows gate the deploy
            phase = _marked_phase(item)
            (dropped if phase not in (None, "all", self.phase) and self.phase != "all" else keep).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        collector = GateCollector.from_parent(
            session,
            name=COLLECTOR_NAME,
            nodeid=COLLECTOR_NAME,
            plan=self.plan,
            context=make_context(self.settings),
        )
        collector.path = self.settings.root
        gate_items = list(collector.collect())
        mark_for_plugins(gate_items, self.settings, config.pluginmanager)
        # Report the collection so pytest's "collected N items" and -k/-m tallies count the gate's items.
        report = pytest.CollectReport(
            COLLECTOR_NAME, "passed", None, list[pytest.Item | pytest.Collector](gate_items)
        )
        session.ihook.pytest_collectreport(report=report)
        items[:] = [*gate_items, *keep]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        selected = [item for item in session.items if isinstance(item, GateItem)]
        if len(selected) < 2 or session.config.option.collectonly:
            return
        workerinput = getattr(session.config, "workerinput", None)
        if workerinput is None:
            run_in_background(selected, selected[0].context)
        elif workerinput.get(TOGETHER):  # this worker is sent all of them or none: wait and see
            self.waiting = selected

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.waiting and isinstance(item, GateItem):
            waiting, self.waiting = self.waiting, []
            run_in_background(waiting, item.context)

    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: object) -> object | None:
        """`-n N` alone means `--dist load`: keep it (or `loadgroup`), with the gate's items sent to one worker
        together."""
        return together_scheduling(config, log) if config.getvalue("dist") in ("load", "loadgroup") else None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: WorkerController) -> None:
        node.workerinput[TOGETHER] = self.config.getvalue("dist") in TOGETHER_MODES

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        gate = properties.get(PROPERTY)
        if gate is not None and (report.when == "call" or report.failed):
            check_id, outcome, message = str(gate).split(" ", 2)
            phase = next((p.check.phase for p in self.plan if p.check.id == check_id), Phase.PRE)
            metrics = json.loads(str(properties.get(METRICS_PROPERTY, "{}")))
            self.results[check_id] = CheckResult(check_id, phase, Outcome(outcome), message, metrics=metrics)
        elif gate is None and report.when in ("setup", "call") and "launch_gate" in report.keywords:
            self._record_marked(report)

    def _record_marked(self, report: pytest.TestReport) -> None:
        if report.when == "setup" and report.passed:
            return
        outcome = {"passed": Outcome.PASS, "skipped": Outcome.SKIP}.get(report.outcome, Outcome.FAIL)
        if report.when == "setup" and report.failed:
            outcome = Outcome.ERROR
        message = "your test " + {"pass": "passed", "skip": "was skipped"}.get(outcome.value, "failed")
        self.results[report.nodeid] = CheckResult(report.nodeid, Phase.PRE, outcome, message)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.results:
            return
        order = {p.check.id: i for i, p in enumerate(self.plan)}
        ordered = sorted(self.results.values(), key=lambda r: (order.get(r.id, len(order)), r.id))
        report = GateReport(self.phase, tuple(ordered))
        title = "READY" if report.verdict == "ready" else f"BLOCKED (gate exit code {int(report.exit_code)})"
        terminalreporter.write_sep("=", f"launch-gate: {title}")
        verbosity = terminal.VERBOSE if terminalreporter.verbosity > 0 else terminal.DEFAULT
        for line in terminal.check_lines(report.results, verbosity, first=True):
            terminalreporter.write_line(line)
        terminalreporter.write_line(terminal.verdict_line(report))

    @pytest.hookimpl(wrapper=True, tryfirst=True, specname="pytest_terminal_summary")
    def pytest_fold_skipped(self, terminalreporter: pytest.TerminalReporter) -> Generator[None, None, None]:
        """The gate's skipped items as one line in pytest's short summary (`-rs`), not one line each; the
        reports themselves (and JUnit's record of each item) stay as they were."""
        stats = terminalreporter.stats
        skipped = list(stats.get("skipped", []))
        gate = [
            r for r in skipped if isinstance(r, pytest.TestReport) and PROPERTY in dict(r.user_properties)
        ]
        if len(gate) > 1:
            folded = folded_skip(
                gate, str(self.settings.sources[-1] if self.settings.sources else self.settings.root)
            )
            copies = len(gate) if getattr(terminalreporter, "foldskipped", True) else 1  # `SKIPPED [N] ...`
            stats["skipped"] = [r for r in skipped if r not in gate] + [folded] * copies
        try:
            return (yield)
        finally:
            if len(gate) > 1:
                stats["skipped"] = skipped


def skip_reasons(reports: Sequence[pytest.TestReport]) -> str:
    """Why the checks were skipped, each reason by its head and the most common first: `no target (11), off by
    configuration (1)`; a single reason is said whole."""
    messages = [str(dict(r.user_properties)[PROPERTY]).split(" ", 2)[-1] for r in reports]
    heads = [re.split(r": |; | \(", message, maxsplit=1)[0].rstrip(".") for message in messages]
    if len(set(heads)) == 1:
        return messages[0]
    tally = Counter(heads)
    return ", ".join(
        f"{head} ({n})" for head, n in sorted(tally.items(), key=lambda item: (-item[1], item[0]))
    )


def folded_skip(reports: Sequence[pytest.TestReport], where: str) -> pytest.TestReport:
    """One skip report that stands for all of the gate's skipped items in the short summary."""
    reason = scrub(f"launch-gate: {count(len(reports), 'check')} skipped: {skip_reasons(reports)}")
    no_line: int = None  # type: ignore[assignment]  # pytest's short summary prints "where: reason" for it
    return pytest.TestReport(
        COLLECTOR_NAME, (where, None, COLLECTOR_NAME), {}, "skipped", (where, no_line, reason), "call"
    )
