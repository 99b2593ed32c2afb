"""The GitHub Action's script: turns the Action's inputs (`GATE_*` environment variables, which action.yml sets
from `with:`) into a `launch-gate check` run, and tells the Action how to install launch-gate.

`run` (the default) validates every input, runs the command with the interpreter running this script, and adds
the `report-path` output; the command itself writes the annotations, the job summary and the `result` and
`exit-code` outputs. With `history-summary: true` the run is recorded (`--history`) and the history's last
24 h (`launch-gate dashboard --markdown -`) are appended to the job summary. `prepare` validates `version`
and says what to install and the cache key of the virtual environment. An input that cannot be used is one
`::error` line naming it, the `config-error` result and exit 4, before anything runs; an input's value is never
echoed (it may be anything, a secret included).

Standard library only, and it speaks to launch-gate only through its command line: the Action runs this file
from its own checkout, against whichever launch-gate `version` installed, and `prepare` runs before any.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import os
import platform
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MINIMUM_PYTHON = (3, 11)  # pyproject.toml's requires-python
USAGE = 4  # launch-gate's exit code for bad usage or configuration
COULD_NOT_VERIFY = 2
REPORT_NOT_WRITTEN = 3
EXIT_CODES = frozenset({0, 1, 2, 3, 4})
DEFAULT_REPORT = "launch-gate-report.json"
VENV = "launch-gate-venv"
CACHE_FORMAT = "1"  # bump when the virtual environment's layout changes, so old caches are not restored
PHASES = ("pre", "post", "all")
BOOLEANS = {"true": True, "false": False}
# A launch-gate release as pip takes it: 0.4.0, v0.4.0, 1.0.0rc1, 1.0.0.post1, 1.1.0.dev2
RELEASE = re.compile(r"v?\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", re.ASCII)

# The inputs that become a `launch-gate check` flag as they are: input -> (variable, flag)
FLAG_INPUTS = {
    "target-url": ("GATE_TARGET_URL", "--target"),
    "config": ("GATE_CONFIG", "--config"),
    "select": ("GATE_SELECT", "--select"),
    "base": ("GATE_BASE", "--base"),
    "sarif": ("GATE_SARIF", "--sarif"),
    "environment": ("GATE_ENVIRONMENT", "--environment"),
}
# Every `check` flag an input owns: `args` may not set them (argparse takes any unique prefix of a flag, too).
OWNED = {
    "--phase": "phase",
    "--report-json": "report",
    "--timeout": "timeout",
    **{flag: name for name, (_, flag) in FLAG_INPUTS.items()},
}


class InputError(Exception):
    """An input that cannot be used: `name` is the input, the message says what it must be."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"the `{name}` input {problem}")
        self.name = name


@dataclass(frozen=True)
class Run:
    """What the inputs ask for: the `launch-gate` arguments, where the JSON report goes, and the summary."""

    argv: list[str]
    report: Path
    summary: bool
    history: bool = False  # `history-summary`: record the run, then add the history's last 24 h


def value(environ: Mapping[str, str], variable: str) -> str:
    return environ.get(variable, "").strip()


def phase(text: str) -> str:
    if text and text.lower() not in PHASES:
        raise InputError("phase", "must be pre, post or all.")
    return text.lower() or "pre"


def timeout(text: str) -> str:
    try:
        seconds = float(text)
    except ValueError:
        raise InputError("timeout", "must be a number of seconds, such as 60.") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise InputError("timeout", "must be a number of seconds more than 0, such as 60.")
    return repr(seconds)


def summary(text: str) -> bool:
    if not text:
        return True
    try:
        return BOOLEANS[text.lower()]
    except KeyError:
        raise InputError("summary", "must be true or false.") from None


def history_summary(text: str) -> bool:
    try:
        return BOOLEANS[text.lower() or "false"]
    except KeyError:
        raise InputError("history-summary", "must be true or false.") from None


def report_path(environ: Mapping[str, str]) -> Path:
    """The JSON report's path, absolute (later steps run elsewhere): `report`, else in `RUNNER_TEMP`."""
    given = value(environ, "GATE_REPORT")
    if not given:
        return Path(os.path.abspath(Path(environ.get("RUNNER_TEMP") or ".") / DEFAULT_REPORT))
    if given.endswith(("/", os.sep)):
        raise InputError("report", "must be the path of a file, such as launch-gate-report.json.")
    return Path(os.path.abspath(given))


def _owner(flag: str) -> str | None:
    """The input that owns `flag`, also when the flag is abbreviated as argparse allows (`--pha`)."""
    if flag in OWNED:
        return OWNED[flag]
    owners = {name for full, name in OWNED.items() if len(flag) > 2 and full.startswith(flag)}
    return "` or `".join(sorted(owners)) if owners else None


def extra_arguments(text: str) -> list[str]:
    """`args` split as a shell would, with nothing expanded; flags other inputs own, or help, refused."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise InputError(
            "args", "has a quote that is never closed; quote a value with spaces as a shell would."
        ) from None
    for word in words:
        flag = word.split("=", 1)[0]
        if re.fullmatch(r"-h.*|--h(e(lp?)?)?", flag):
            raise InputError("args", "asks for help, which runs no check; remove -h/--help.")
        owner = _owner(flag) if flag.startswith("--") else None
        if owner:
            raise InputError("args", f"sets a flag the `{owner}` input owns; set it with that input instead.")
    return words


def plan(environ: Mapping[str, str]) -> Run:
    """The run the inputs ask for; `InputError` names the first input that cannot be used."""
    report = report_path(environ)
    argv = ["check", f"--phase={phase(value(environ, 'GATE_PHASE'))}", f"--report-json={report}"]
    for variable, flag in FLAG_INPUTS.values():
        given = value(environ, variable)
        if given:
            argv.append(f"{flag}={given}")  # one word: a value that starts with "-" is still a value
    seconds = value(environ, "GATE_TIMEOUT")
    if seconds:
        argv.append(f"--timeout={timeout(seconds)}")
    wants_summary = summary(value(environ, "GATE_SUMMARY"))
    wants_history = history_summary(value(environ, "GATE_HISTORY_SUMMARY"))
    argv += ["--history"] if wants_history else []
    argv += extra_arguments(environ.get("GATE_ARGS", ""))
    return Run(argv, report, wants_summary, wants_history)


def data(text: str) -> str:
    """Text made safe for a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def write_outputs(outputs: Mapping[str, str], environ: Mapping[str, str]) -> None:
    """Append `name=value` lines to the file `GITHUB_OUTPUT` names; a file that cannot be written is said once
    (the command has its own say about it) and costs nothing else."""
    target = environ.get("GITHUB_OUTPUT")
    if not target:
        return
    try:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write("".join(f"{k}={v}\n" for k, v in outputs.items()))
    except OSError as exc:
        print(
            f"launch-gate: could not write the step outputs (GITHUB_OUTPUT): {exc.strerror}.", file=sys.stderr
        )


def bad_input(error: InputError, environ: Mapping[str, str]) -> int:
    print(f"::error title=launch-gate input {error.name}::{data(str(error))}", flush=True)
    write_outputs({"result": "config-error", "exit-code": str(USAGE), "report-path": ""}, environ)
    return USAGE


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. a name too long for the file system: the command said it could not write it
        return False


def _output_size(environ: Mapping[str, str]) -> int:
    try:
        return Path(environ.get("GITHUB_OUTPUT") or "").stat().st_size
    except OSError:
        return 0


def _result_written(environ: Mapping[str, str], since: int) -> bool:
    """Whether the command wrote its `result` output (it does, unless it stopped at its command line)."""
    if not environ.get("GITHUB_OUTPUT"):
        return True
    try:
        with Path(environ["GITHUB_OUTPUT"]).open("rb") as handle:
            handle.seek(since)
            return any(line.startswith(b"result=") for line in handle.read().splitlines())
    except FileNotFoundError:
        return False
    except OSError:
        return True  # unreadable: writing the result would fail the same way


def _gate(argv: list[str], environ: Mapping[str, str]) -> int:
    """`launch-gate ARGV` with this interpreter; its exit code, or 2 when it could not decide."""
    # -I: the project's directory is not put on sys.path, so its own modules never shadow launch-gate's
    command = [sys.executable, "-I", "-m", "launch_gate", *argv]
    try:
        code = subprocess.run(command, env=dict(environ), check=False).returncode
    except OSError as exc:
        print(
            f"launch-gate: could not start launch-gate ({exc.strerror}); nothing was decided.",
            file=sys.stderr,
        )
        return COULD_NOT_VERIFY
    if code not in EXIT_CODES:
        print(f"launch-gate: the command ended with {code}; nothing was decided.", file=sys.stderr)
        return COULD_NOT_VERIFY
    return code


def _undecided(code: int, environ: Mapping[str, str]) -> None:
    """The `result` the command did not write: it refused its command line (exit 4), or crashed."""
    if code == USAGE:
        fix = (
            "fix the `args` input."
            if value(environ, "GATE_ARGS")
            else "is the installed launch-gate older than this Action (the `version` input)?"
        )
        message = f"launch-gate refused its command line (the message above says why): {fix}"
        print(f"::error title=launch-gate input args::{data(message)}", flush=True)
    write_outputs({"result": "config-error" if code == USAGE else "error", "exit-code": str(code)}, environ)


def run(environ: Mapping[str, str]) -> int:
    """Run the gate the inputs ask for; exit with its code (0-4), never anything else."""
    try:
        wanted = plan(environ)
    except InputError as error:
        return bad_input(error, environ)
    child = {k: v for k, v in environ.items() if wanted.summary or k != "GITHUB_STEP_SUMMARY"}
    since = _output_size(environ)
    code = _gate(wanted.argv, child)
    if not _result_written(environ, since):
        _undecided(code, environ)
    if wanted.history and code != USAGE:
        code = _history_summary(environ, code)
    write_outputs({"report-path": str(wanted.report) if _is_file(wanted.report) else ""}, environ)
    return code


def _history_summary(environ: Mapping[str, str], code: int) -> int:
    """Append the history's last 24 h (`launch-gate dashboard --markdown -`) to the job summary. The gate's
    code stands, but a ready gate whose summary could not be made or found nothing recorded is 3."""
    argv = ["dashboard", "--markdown=-"]
    argv += [f"--config={value(environ, 'GATE_CONFIG')}"] if value(environ, "GATE_CONFIG") else []
    child = {k: v for k, v in environ.items() if k != "GITHUB_OUTPUT"}  # the outputs are the gate's
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-m", "launch_gate", *argv], env=child, stdout=subprocess.PIPE, check=False
        )
        if done.stdout and environ.get("GITHUB_STEP_SUMMARY"):
            with Path(environ["GITHUB_STEP_SUMMARY"]).open("ab") as handle:
                handle.write(b"\n" + done.stdout)
        failed = done.returncode != 0
    except OSError as exc:
        print(f"launch-gate: could not add the history summary: {exc.strerror}.", file=sys.stderr)
        failed = True
    if not failed:
        return code
    message = "the history summary is missing or found nothing recorded (the message above says why)."
    print(f"::warning title=launch-gate history-summary::{data(message)}", flush=True)
    if code != 0:
        return code
    # after the gate's own line: the last value of an output is the one that counts
    write_outputs({"exit-code": str(REPORT_NOT_WRITTEN)}, environ)
    return REPORT_NOT_WRITTEN


def source_digest(root: Path) -> str:
    """A digest of the launch-gate source at `root`: the cache key of an install from a checkout."""
    digest = hashlib.sha256()
    files = [root / "pyproject.toml", *(root / "launch_gate").rglob("*")]
    for path in sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def prepare(environ: Mapping[str, str]) -> int:
    """Outputs `venv` (where launch-gate is installed), `requirement` (what pip installs) and `cache-key` (the
    venv's: this Python, this runner, this launch-gate, this week, so dependencies are refreshed weekly)."""
    wanted = value(environ, "GATE_VERSION")
    if sys.version_info[:2] < MINIMUM_PYTHON:  # setup-python's interpreter, before anything is installed
        return bad_input(
            InputError("python-version", "must be 3.11 or later: launch-gate needs it."), environ
        )
    if wanted and not RELEASE.fullmatch(wanted):
        error = InputError(
            "version", "must be a launch-gate release such as 0.4.0, or empty for this Action's."
        )
        return bad_input(error, environ)
    action = Path(environ.get("GATE_ACTION_PATH") or Path(__file__).resolve().parents[2])
    try:  # a history kept in PostgreSQL needs the driver: the `postgres` extra
        extra = "[postgres]" if history_summary(value(environ, "GATE_HISTORY_SUMMARY")) else ""
    except InputError as error:
        return bad_input(error, environ)
    if wanted:
        requirement, what = f"launch-gate{extra}=={wanted.removeprefix('v')}", wanted.removeprefix("v")
    else:
        requirement, what = f"{action}{extra}", "src-" + source_digest(action)
    what += "-postgres" if extra else ""
    year, week, _ = datetime.date.today().isocalendar()
    python = f"{sys.implementation.name}{'.'.join(map(str, sys.version_info[:3]))}"
    parts = ["launch-gate-venv", CACHE_FORMAT, environ.get("RUNNER_OS", sys.platform), platform.machine()]
    key = "-".join([*parts, python, what, f"{year}w{week:02d}"])
    venv = Path(environ.get("RUNNER_TEMP") or ".") / VENV
    write_outputs({"venv": str(venv), "requirement": requirement, "cache-key": key}, environ)
    return 0


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    command = list(sys.argv[1:] if argv is None else argv) or ["run"]
    try:
        if command == ["prepare"]:
            return prepare(environ)
        if command == ["run"]:
            return run(environ)
        print(f"usage: {Path(__file__).name} [run|prepare]", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print("launch-gate: interrupted; nothing was decided.", file=sys.stderr)
        return COULD_NOT_VERIFY
    except Exception as exc:  # a bug of ours: the deploy must not go ahead on it, nor show a traceback
        print(
            f"launch-gate: internal error in the Action's script ({type(exc).__name__}); nothing was decided. "
            "Please report it with the Action's inputs.",
            file=sys.stderr,
        )
        return COULD_NOT_VERIFY


if __name__ == "__main__":
    raise SystemExit(main())
