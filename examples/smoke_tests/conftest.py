"""Only for trying these examples against the bundled demo: without --gate-config, start the demo for the
session and point the gate's settings at it. Against your own deploy, drop this file."""

import contextlib

import pytest

_demo = contextlib.ExitStack()


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("gate_config") or config.getini("launch_gate_config"):
        return
    from launch_gate import demo

    running = _demo.enter_context(demo.running())
    config.option.gate_config = str(running.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    _demo.close()
