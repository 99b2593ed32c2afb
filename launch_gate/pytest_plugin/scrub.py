"""Keep the run's secrets out of what pytest shows and writes: test and collection reports (failure text,
captured output, `record_property` values that reach JUnit) and the warnings summary."""

from __future__ import annotations

import warnings

import pytest


def scrub_report(report: pytest.TestReport | pytest.CollectReport, secrets: set[str]) -> None:
    """Replace every known secret (and every piece of one) in a report's failure text, captured sections and
    user properties (what `record_property` puts in JUnit)."""
    from launch_gate.redact import Redactor

    redactor = Redactor(secrets)
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason), a shape JUnit relies on
        path, line, reason = report.longrepr
        report.longrepr = (redactor.text(str(path)), line, redactor.text(reason))
    elif report.longrepr is not None:
        text = str(report.longrepr)
        clean = redactor.text(text)
        if clean != text:
            report.longrepr = clean
    report.sections = [(title, redactor.text(body)) for title, body in report.sections]
    if isinstance(report, pytest.TestReport):
        report.user_properties = [(name, redactor.text(str(value))) for name, value in report.user_properties]


class WarningScrubber:
    """A warning's text reaches the warnings summary: scrub it of the run's secrets first."""

    name = "launch-gate-warning-scrubber"

    def __init__(self, secrets: set[str]) -> None:
        self.secrets = secrets

    @pytest.hookimpl(
        tryfirst=True
    )  # before the terminal reporter records it (the hook is historic: no wrapper)
    def pytest_warning_recorded(self, warning_message: warnings.WarningMessage) -> None:
        if self.secrets:
            from launch_gate.redact import Redactor

            text = str(warning_message.message)
            clean = Redactor(self.secrets).text(text)
            if clean != text:
                try:
                    warning_message.message = warning_message.category(clean)
                except Exception:  # a warning class with a signature of its own
                    warning_message.message = UserWarning(clean)
