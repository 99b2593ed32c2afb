"""Outcomes, findings, check results and the gate report, which owns the exit-code contract."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class Phase(enum.StrEnum):
    """When a check runs: before the deploy (`pre`) or against the live deployment (`post`)."""

    PRE = "pre"
    POST = "post"


class Outcome(enum.StrEnum):
    """What a check concluded. `error` means it could not verify: that blocks, but is not a failure."""

    PASS = "pass"  # noqa: S105 (an outcome, not a password)
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"

    @property
    def blocks(self) -> bool:
        """Whether this outcome stops the deploy."""
        return self in (Outcome.FAIL, Outcome.ERROR)


class ExitCode(enum.IntEnum):
    """The `launch-gate` command's exit codes: a contract users script against."""

    READY = 0
    FAILED = 1
    COULD_NOT_VERIFY = 2
    REPORT_NOT_WRITTEN = 3  # the gate found it ready, but a report asked for could not be written
    USAGE = 4


@dataclass(frozen=True)
class Finding:
    """One thing a check found. Never holds a secret: values are shown as a fingerprint or redacted prefix."""

    message: str
    file: str | None = None
    line: int | None = None
    fingerprint: str | None = None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"message": self.message}
        if self.file is not None:
            data["file"] = self.file
            data["line"] = self.line
        if self.fingerprint is not None:
            data["fingerprint"] = self.fingerprint
        return data


@dataclass(frozen=True)
class Verdict:
    """What a check function returns; the runner adds id, phase and duration."""

    outcome: Outcome
    message: str
    findings: tuple[Finding, ...] = ()
    metrics: Mapping[str, object] = field(default_factory=dict)  # measured figures, e.g. p95_ms

    @classmethod
    def of(
        cls,
        outcome: Outcome,
        message: str,
        findings: Iterable[Finding] = (),
        metrics: Mapping[str, object] | None = None,
    ) -> Verdict:
        return cls(outcome, message, tuple(findings), dict(metrics or {}))


@dataclass(frozen=True)
class CheckResult:
    """The result of one check, as every reporter sees it."""

    id: str
    phase: Phase
    outcome: Outcome
    message: str
    duration_ms: float = 0.0
    findings: tuple[Finding, ...] = ()
    metrics: Mapping[str, object] = field(default_factory=dict)
    config_error: bool = False  # the check found the configuration unusable once it ran: exit 4, not 2

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "id": self.id,
            "phase": self.phase.value,
            "outcome": self.outcome.value,
            "message": self.message,
            "duration_ms": round(self.duration_ms, 1),
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.metrics:
            data["metrics"] = dict(self.metrics)
        if self.config_error:
            data["config_error"] = True
        return data


@dataclass(frozen=True)
class GateReport:
    """All results of one gate run. Decides the exit code: a failure outranks a could-not-verify."""

    phase: str
    results: tuple[CheckResult, ...] = field(default_factory=tuple)
    config: tuple[str, ...] = ()  # the configuration files read, lowest precedence first

    @property
    def exit_code(self) -> ExitCode:
        outcomes = {r.outcome for r in self.results}
        if any(r.config_error for r in self.results):
            return ExitCode.USAGE
        if Outcome.FAIL in outcomes:
            return ExitCode.FAILED
        if Outcome.ERROR in outcomes or not self.checked_anything:
            return ExitCode.COULD_NOT_VERIFY
        return ExitCode.READY

    @property
    def checked_anything(self) -> bool:
        """No READY without evidence: a gate whose every check was skipped has verified nothing."""
        return any(r.outcome is not Outcome.SKIP for r in self.results)

    @property
    def verdict(self) -> str:
        """One word for the whole gate: `ready`, `failed`, `error` or `config-error`."""
        words = {ExitCode.READY: "ready", ExitCode.FAILED: "failed", ExitCode.USAGE: "config-error"}
        return words.get(self.exit_code, "error")

    def counts(self) -> dict[str, int]:
        counted = Counter(r.outcome for r in self.results)
        return {o.value: counted.get(o, 0) for o in Outcome}

    def to_dict(self) -> dict[str, object]:
        return {
            "phase": self.phase,
            "result": self.verdict,
            "exit_code": int(self.exit_code),
            "summary": self.counts(),
            "config": list(self.config),
            "checks": [r.to_dict() for r in self.results],
        }
