"""The plain git pre-push hook `launch-gate install-hook` writes (for users who do not use pre-commit)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from launch_gate.errors import ConfigError

MARKER = "# installed by launch-gate install-hook"
HOOK = """#!/bin/sh
{marker}: runs the pre-deploy gate before every push.
# Skip it once with: git push --no-verify
if [ -x {python} ]; then
  exec {python} -m launch_gate check --phase pre
fi
exec launch-gate check --phase pre
"""


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


def install_hook(repo: Path, force: bool = False) -> str:
    """Write the hook; never overwrite someone else's hook unless asked to."""
    path = hook_path(repo)
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; launch-gate will not overwrite it. Add `launch-gate check --phase pre` "
            "to it yourself, or run `launch-gate install-hook --force` to replace it."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HOOK.format(marker=MARKER, python=shlex.quote(sys.executable)), encoding="utf-8")
    path.chmod(0o755)
    return f"installed the pre-push hook at {path}: `git push` now runs `launch-gate check --phase pre`."
