"""The git pre-push hook: the script `launch-gate install-hook` writes, and `launch-gate pre-push`, which it runs.

The hook scans what is being pushed, as gitleaks' and detect-secrets' hooks do. git writes one line per ref on
the hook's standard input (`<local ref> <local sha> <remote ref> <remote sha>`); the commits those refs send
that no remote-tracking ref already has are what `secrets.diff` scans, every file version they add. Under
pre-commit, its PRE_COMMIT_* variables say the same. Which checks run is `[pre-push] checks` (by default the
secret scan alone: nothing that needs production values or the network).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from launch_gate.errors import ConfigError
from launch_gate.results import GateReport
from launch_gate.secretscan.sources import Push, pre_commit_push, read_push

MARKER = "# installed by launch-gate install-hook"
COMMAND = "launch-gate pre-push"
# launch-gate on PATH first (the environment the developer works in now), else the Python that installed the
# hook, if it still exists; else one sentence and exit 1 (a failed hook blocks the push), never a shell error.
HOOK = """#!/bin/sh
{marker}: scans what you push for secrets ({command}).
# Skip it once with: git push --no-verify
INSTALL_PYTHON={python}
if command -v launch-gate >/dev/null 2>&1; then
  exec launch-gate pre-push "$@"
fi
if [ -x "$INSTALL_PYTHON" ]; then
  exec "$INSTALL_PYTHON" -m launch_gate pre-push "$@"
fi
echo {missing} >&2
exit 1
"""
MISSING = (
    "launch-gate pre-push hook: launch-gate is not on PATH, and {python} (the Python it was installed with) "
    "no longer exists. Activate the project's virtual environment, or reinstall launch-gate and run "
    "`launch-gate install-hook --force`. To push once without the check: git push --no-verify"
)


def hook_path(repo: Path) -> Path:
    """Where git looks for the pre-push hook (honours core.hooksPath and worktrees)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--git-path", "hooks/pre-push"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        raise ConfigError(
            f"{repo} is not inside a git repository; run install-hook from your project."
        ) from None
    path = Path(out)
    return path if path.is_absolute() else repo / path


def hook_script(python: str) -> str:
    """The hook, remembering `python` (the interpreter installing it) as the fallback."""
    missing = MISSING.format(python=python)
    return HOOK.format(
        marker=MARKER, command=COMMAND, python=shlex.quote(python), missing=shlex.quote(missing)
    )


def install_hook(repo: Path, force: bool = False) -> str:
    """Write the hook; never overwrite someone else's hook unless asked to."""
    path = hook_path(repo)
    if path.exists() and not force:
        raise ConfigError(
            f'{path} already exists; launch-gate will not overwrite it. Add `{COMMAND} "$@"` to it '
            "yourself (it reads the refs git passes on standard input), or run `launch-gate install-hook "
            "--force` to replace it."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(hook_script(sys.executable), encoding="utf-8")
    path.chmod(0o755)
    return (
        f"installed the pre-push hook at {path}: `git push` now runs `{COMMAND}`, which scans the pushed "
        "commits for secrets ([pre-push] checks says what else runs)."
    )


NOT_A_TERMINAL = (
    "`launch-gate pre-push` is what the git pre-push hook runs: it reads the refs git passes on standard input. "
    "Install it with `launch-gate install-hook`; to scan a branch by hand run `launch-gate check --select "
    "secrets.diff --base origin/main`."
)


NOT_FROM_PRE_COMMIT = (
    "pre-commit ran `launch-gate pre-push` without saying what is pushed (no PRE_COMMIT_FROM_REF/"
    "PRE_COMMIT_TO_REF): let git run it at the pre-push stage (`pre-commit install --hook-type pre-push`), or "
    "give the range with `pre-commit run --hook-stage pre-push --from-ref REF --to-ref REF`."
)


def read_pushed(stdin: TextIO | None, environ: Mapping[str, str]) -> Push:
    """What is being pushed: pre-commit's PRE_COMMIT_* variables, else git's lines on standard input."""
    from_pre_commit = pre_commit_push(environ)
    if from_pre_commit is not None:
        return from_pre_commit
    if environ.get("PRE_COMMIT") == "1":  # pre-commit read git's lines itself; its variables are all there is
        raise ConfigError(NOT_FROM_PRE_COMMIT)
    if stdin is None:
        return Push(())
    if stdin.isatty():
        raise ConfigError(NOT_A_TERMINAL)
    try:
        return read_push(stdin.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{exc}: {NOT_A_TERMINAL}") from None


def nothing_sent(push: Push) -> str | None:
    """Why there is nothing to check (no refs, or deletions only), or None."""
    if not push.refs:
        return "launch-gate pre-push: nothing to check: git passed no refs (nothing is being pushed)."
    if not push.sends:
        return "launch-gate pre-push: nothing to check: this push only deletes refs."
    return None


def pre_push(
    stdin: TextIO | None, environ: Mapping[str, str], config: Path | None = None
) -> GateReport | str:
    """The pre-push gate: `[pre-push] checks` against what is being pushed; or, when the push sends nothing,
    the sentence that says so (exit 0)."""
    push = read_pushed(stdin, environ)
    said = nothing_sent(push)
    if said is not None:
        return said
    from launch_gate.checks import Context
    from launch_gate.config import load_settings
    from launch_gate.runner import build_plan, run_plan

    settings = load_settings(config_file=config, environ=environ)
    where = settings.where("pre-push", "checks")
    plan = build_plan(settings, "all", settings.pre_push.checks, selected_by=where)
    report = run_plan(plan, Context(settings, dict(environ), push=push), "pre")
    return replace(report, config=tuple(_shown(path) for path in settings.sources))


def _shown(path: Path) -> str:
    """A configuration file as the user would name it (relative to the current directory when inside it)."""
    with contextlib.suppress(ValueError):
        path = path.relative_to(Path.cwd())
    return os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")
