import threading
import time

import pytest

from launch_gate.checks import Check, Context
from launch_gate.config import load_settings
from launch_gate.errors import ConfigError
from launch_gate.results import Outcome, Phase, Verdict
from launch_gate.runner import build_plan, make_context, run_plan


def settings(project, toml: str = ""):
    return load_settings(cwd=project({"launch-gate.toml": toml}), environ={})


def check(check_id: str, func, phase: Phase = Phase.PRE) -> Check:
    return Check(check_id, phase, "test check", func)


def failing(ctx: Context) -> Verdict:
    return Verdict.of(Outcome.FAIL, "expected x, saw y")


def run(s, checks, phase="all", select=()):
    return run_plan(build_plan(s, phase, select, checks), make_context(s, {}))


def test_a_crashing_check_is_an_error_never_a_pass(project):
    def crash(ctx):
        raise ValueError("bad thing")

    [result] = run(settings(project), [check("x.crash", crash)]).results
    assert result.outcome is Outcome.ERROR
    assert "could not verify" in result.message
    assert "ValueError: bad thing" in result.message


def test_a_check_that_hangs_is_an_error_after_the_timeout(project):
    release = threading.Event()

    def hang(ctx):
        release.wait(30)
        return Verdict.of(Outcome.PASS, "too late")

    try:
        [result] = run(settings(project, "timeout = 0.2\n"), [check("x.hang", hang)]).results
    finally:
        release.set()
    assert result.outcome is Outcome.ERROR
    assert "no answer within 0.2 s" in result.message


def test_an_async_check_that_hangs_is_an_error_too(project):
    async def hang(ctx):
        import asyncio

        await asyncio.sleep(30)
        return Verdict.of(Outcome.PASS, "too late")

    [result] = run(settings(project, "timeout = 0.2\n"), [check("x.hang", hang)]).results
    assert result.outcome is Outcome.ERROR
    assert result.message == "could not verify: no answer within 0.2 s (the timeout setting)"


def test_checks_run_concurrently(project):
    barrier = threading.Barrier(3, timeout=10)

    def meet(ctx):
        barrier.wait()  # only returns when all three checks are running at once
        return Verdict.of(Outcome.PASS, "met")

    checks = [check(f"x.meet{i}", meet) for i in range(3)]
    report = run(settings(project), checks)
    assert [r.outcome for r in report.results] == [Outcome.PASS] * 3


def test_warn_level_turns_a_failure_into_a_warning_but_not_an_error(project):
    def crash(ctx):
        raise OSError("unreachable")

    s = settings(project, '[checks]\nx = "warn"\n')
    fail, err = run(s, [check("x.fail", failing), check("x.crash", crash)]).results
    assert fail.outcome is Outcome.WARN
    assert "set to warn" in fail.message
    assert err.outcome is Outcome.ERROR


def test_the_most_specific_level_wins_and_off_skips_without_running(project):
    calls = []

    def counted(ctx):
        calls.append(1)
        return failing(ctx)

    s = settings(project, '[checks]\nx = "off"\n"x.on" = "fail"\n')
    off, on = run(s, [check("x.off", counted), check("x.on", counted)]).results
    assert off.outcome is Outcome.SKIP
    assert on.outcome is Outcome.FAIL
    assert len(calls) == 1


def test_phase_and_select_narrow_the_plan(project):
    checks = [check("a.one", failing), check("a.two", failing), check("b.one", failing, Phase.POST)]
    s = settings(project)
    assert [p.check.id for p in build_plan(s, "pre", (), checks)] == ["a.one", "a.two"]
    assert [p.check.id for p in build_plan(s, "post", (), checks)] == ["b.one"]
    assert [p.check.id for p in build_plan(s, "all", ["a.two", "b"], checks)] == ["a.two", "b.one"]
    assert build_plan(s, "all", ["a"], checks)[0].check.id == "a.one"


def test_a_configured_id_that_matches_no_check_is_a_configuration_error(project):
    with pytest.raises(ConfigError, match=r"names 'env\.debgu', which matches no check"):
        build_plan(settings(project, '[checks]\n"env.debgu" = "off"\n'))


def test_a_select_prefix_that_matches_no_check_is_a_configuration_error(project):
    with pytest.raises(ConfigError, match="--select: prefix 1 of 1 matches no check"):
        build_plan(settings(project), select=["nv"])


def test_a_prefix_matches_whole_id_segments_only(project):
    with pytest.raises(ConfigError, match=r"--select: prefix 1 of 1 matches no check"):
        build_plan(settings(project), select=["env.req"])


def test_durations_are_recorded(project):
    def slow(ctx):
        time.sleep(0.05)
        return Verdict.of(Outcome.PASS, "ok")

    [result] = run(settings(project), [check("x.slow", slow)]).results
    assert result.duration_ms >= 50
