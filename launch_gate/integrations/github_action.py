"""The GitHub Action's script: turns the Action's inputs (passed as `GATE_*` environment variables) into a
`launch-gate check` run, and adds the `report-path` output. The CLI itself writes the step summary,
annotations and the `result` output whenever it runs inside GitHub Actions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from launch_gate import cli
from launch_gate.report import github

INPUTS = {
    "GATE_TARGET_URL": "--target",
    "GATE_CONFIG": "--config",
    "GATE_SELECT": "--select",
    "GATE_BASE": "--base",
    "GATE_SARIF": "--sarif",
}


def arguments(environ: Mapping[str, str], report_path: Path) -> list[str]:
    """The `launch-gate` arguments the Action's inputs stand for."""
    argv = [
        "check",
        "--phase",
        environ.get("GATE_PHASE", "").strip() or "pre",
        "--report-json",
        str(report_path),
    ]
    for name, flag in INPUTS.items():
        value = environ.get(name, "").strip()
        if value:
            argv += [flag, value]
    return argv


def report_path(environ: Mapping[str, str]) -> Path:
    base = environ.get("RUNNER_TEMP") or "."
    return Path(base) / "launch-gate-report.json"


def main(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    path = report_path(environ)
    code = cli.main(arguments(environ, path))
    github.write_outputs({"report-path": str(path) if path.exists() else ""}, environ)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
