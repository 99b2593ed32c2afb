from launch_gate.results import CheckResult, ExitCode, GateReport, Outcome, Phase


def result(outcome: Outcome, check_id: str = "env.x") -> CheckResult:
    return CheckResult(check_id, Phase.PRE, outcome, "m")


def test_all_passing_warning_and_skipped_checks_are_ready():
    report = GateReport("pre", (result(Outcome.PASS), result(Outcome.WARN), result(Outcome.SKIP)))
    assert report.exit_code is ExitCode.READY
    assert report.verdict == "ready"


def test_a_failure_exits_1_even_beside_a_could_not_verify():
    report = GateReport("pre", (result(Outcome.ERROR), result(Outcome.FAIL)))
    assert report.exit_code == 1
    assert report.verdict == "failed"


def test_could_not_verify_exits_2_and_is_not_a_pass():
    report = GateReport("pre", (result(Outcome.PASS), result(Outcome.ERROR)))
    assert report.exit_code == 2
    assert report.verdict == "error"


def test_no_ready_without_evidence_an_empty_or_all_skipped_gate_could_not_verify():
    assert GateReport("pre").exit_code == 2
    assert GateReport("pre", (result(Outcome.SKIP), result(Outcome.SKIP))).verdict == "error"
    assert GateReport("pre", (result(Outcome.SKIP), result(Outcome.PASS))).exit_code == 0
    assert GateReport("pre", (result(Outcome.SKIP), result(Outcome.WARN))).exit_code == 0


def test_report_dict_has_every_check_field_and_the_summary():
    data = GateReport("pre", (result(Outcome.FAIL),)).to_dict()
    assert data["exit_code"] == 1
    assert data["summary"] == {"pass": 0, "warn": 0, "fail": 1, "error": 0, "skip": 0}
    check = data["checks"][0]  # type: ignore[index]
    assert set(check) == {"id", "phase", "outcome", "message", "duration_ms", "findings"}
