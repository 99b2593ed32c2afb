"""The pytest11 entry point (`-p no:launch_gate` disables it): options, ini keys, markers and fixtures.

Cheap to import on purpose: without `--launch-gate` it registers its options and markers and nothing else.
The gate's items live in `launch_gate.pytest_plugin.gate`, imported only when the gate is on.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

from launch_gate.pytest_plugin.options import (
    CONFIG_HELP,
    ENABLE_HELP,
    FLOW_PROPERTY,
    LATENCY_BUDGET,
    MARKER,
    PHASE_HELP,
    SECRETS,
    SMOKE_FLOW,
    TARGET_HELP,
    gate_enabled,
    load_settings_for,
)
from launch_gate.pytest_plugin.scrub import WarningScrubber
from launch_gate.pytest_plugin.summary import Tally

if TYPE_CHECKING:
    from launch_gate.config import Settings
    from launch_gate.pytest_plugin.fixtures import GateEnv, GateHttp, GateMailbox, GateUser


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("launch-gate", "launch readiness gate")
    group.addoption("--launch-gate", action="store_true", default=None, dest="launch_gate", help=ENABLE_HELP)
    group.addoption("--gate-phase", dest="gate_phase", choices=("pre", "post", "all"), help=PHASE_HELP)
    group.addoption("--gate-config", dest="gate_config", metavar="FILE", help=CONFIG_HELP)
    group.addoption("--gate-target", dest="gate_target", metavar="URL", help=TARGET_HELP)
    parser.addini("launch_gate", ENABLE_HELP, type="bool", default=False)
    parser.addini("launch_gate_phase", PHASE_HELP, default="all")
    parser.addini("launch_gate_config", CONFIG_HELP, default="")
    parser.addini("launch_gate_target", TARGET_HELP, default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    config.addinivalue_line("markers", SMOKE_FLOW)
    config.addinivalue_line("markers", LATENCY_BUDGET)
    config.pluginmanager.register(Tally(), Tally.name)
    config.stash[SECRETS] = set()
    config.pluginmanager.register(WarningScrubber(config.stash[SECRETS]), WarningScrubber.name)
    if gate_enabled(config):
        from launch_gate.pytest_plugin.gate import GatePlugin

        config.pluginmanager.register(GatePlugin(config), GatePlugin.name)


@pytest.fixture(scope="session")
def gate_settings(pytestconfig: pytest.Config) -> Settings:
    """The validated launch-gate settings (pyproject.toml, launch-gate.toml, LAUNCH_GATE_*, options)."""
    return load_settings_for(pytestconfig)


@pytest.fixture
def gate_env(pytestconfig: pytest.Config) -> GateEnv:
    """The process environment as the gate sees it, with values kept out of reprs and failure messages; what
    `require` returns is scrubbed from every report."""
    import os

    from launch_gate.pytest_plugin.fixtures import GateEnv

    return GateEnv(os.environ, pytestconfig.stash[SECRETS])


@pytest.fixture
def gate_http(gate_settings: Settings, pytestconfig: pytest.Config) -> Iterator[GateHttp]:
    """An httpx.Client bound to the target through the gate's connect-to, nameservers and CA bundle;
    `timings` holds each request's milliseconds by route; auth headers, cookies and tokens stay out of reports; a
    weak Set-Cookie it receives (no Secure, SameSite or, on a session cookie, HttpOnly) errors the test."""
    from launch_gate.pytest_plugin.fixtures import GateHttp

    if not gate_settings.target:
        pytest.fail("gate_http needs a target: set `target` or pass --gate-target URL.", pytrace=False)
    with GateHttp(gate_settings, pytestconfig.stash[SECRETS]) as client:
        yield client
    if client.cookie_problems:
        pytest.fail(
            "gate_http saw weak cookies: "
            + "; ".join(client.cookie_problems)
            + " (a stolen or cross-site-sent session cookie is a stolen session)",
            pytrace=False,
        )


@pytest.fixture
def gate_user(gate_settings: Settings, pytestconfig: pytest.Config) -> Iterator[GateUser]:
    """A unique throwaway identity ([smoke] plus-address or catch-all-domain) and a strong password; what you
    register with `gate_user.cleanup(fn)` runs after the test, even when it failed."""
    from launch_gate.errors import ConfigError
    from launch_gate.flows.identity import new_identity
    from launch_gate.pytest_plugin.fixtures import GateUser

    try:
        identity = new_identity(gate_settings.smoke)
    except ConfigError as error:
        problem = str(error)
    else:
        problem = ""
    if problem:  # outside the `except`: the report shows the sentence, not a chained traceback
        pytest.fail(f"gate_user: {problem}", pytrace=False)
    pytestconfig.stash[SECRETS].add(identity.password)
    user = GateUser(identity.email, identity.password, identity.tag)
    yield user
    problems = user.run_cleanups()
    if problems:
        pytest.fail(f"cleanup of {user.email} failed (data may be left behind): " + "; ".join(problems),
                    pytrace=False)  # fmt: skip


@pytest.fixture(scope="session")
def gate_mailbox(gate_settings: Settings, pytestconfig: pytest.Config) -> Iterator[GateMailbox]:
    """The mailbox of [smoke.mailbox] (SMTP sink, IMAP, Mailpit or MailHog API): `wait(to, subject)` for a
    message, `prove(mail)` that it is DKIM-signed, aligned and links to the canonical host."""
    import os

    from launch_gate.errors import LaunchGateError
    from launch_gate.pytest_plugin.fixtures import GateMailbox

    box: GateMailbox | None = None
    try:
        box = GateMailbox(gate_settings, os.environ, pytestconfig.stash[SECRETS])
    except LaunchGateError as error:
        problem = str(error)
    if box is None:
        pytest.fail(f"gate_mailbox: {problem}", pytrace=False)
    yield box
    box.close()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    marker = pyfuncitem.get_closest_marker("latency_budget")
    if marker is None:
        return None
    from launch_gate.pytest_plugin.budget import measure_budget

    measure_budget(pyfuncitem, marker)
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    flow = item.get_closest_marker("smoke_flow")
    if flow is not None and call.when == "setup":
        name = flow.args[0] if flow.args else flow.kwargs.get("name", item.name)
        item.user_properties.append((FLOW_PROPERTY, str(name)))
        report.user_properties = list(item.user_properties)
    secrets = item.config.stash.get(SECRETS, None)
    if secrets:
        from launch_gate.pytest_plugin.scrub import scrub_report

        scrub_report(report, secrets)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A module that fails to import shows its error text: scrubbed like a test's."""
    report = yield
    secrets = collector.config.stash.get(SECRETS, None)
    if secrets and report.longrepr is not None:
        from launch_gate.pytest_plugin.scrub import scrub_report

        scrub_report(report, secrets)
    return report
