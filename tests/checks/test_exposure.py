"""exposure.* against an edge served by uvicorn over https on loopback."""

import pytest

from launch_gate.results import Outcome
from tests.checks.conftest import UNREACHABLE, check


@pytest.mark.parametrize("check_id", ["exposure.files", "exposure.errors"])
def test_a_well_configured_edge_passes(project, edge, check_id):
    result = check(project, edge[1], check_id)
    assert result.outcome is Outcome.PASS, result.message


@pytest.mark.parametrize("check_id", ["exposure.files", "exposure.errors"])
def test_an_unreachable_site_could_not_be_verified(project, check_id):
    result = check(project, UNREACHABLE, check_id)
    assert result.outcome is Outcome.ERROR, result.message
    assert "could not verify" in result.message


@pytest.mark.parametrize(("fault", "path"), [("exposed-env", "/.env"), ("exposed-git", "/.git/config")])
def test_exposed_files_fail(project, edge, fault, path):
    app, config = edge
    app.faults.add(fault)
    result = check(project, config, "exposure.files")
    assert result.outcome is Outcome.FAIL
    assert f"{path} is served" in result.message


def test_a_stack_trace_on_an_error_page_fails(project, edge):
    app, config = edge
    app.faults.add("stack-trace")
    result = check(project, config, "exposure.errors")
    assert result.outcome is Outcome.FAIL
    assert "Traceback (most recent call last)" in result.message
