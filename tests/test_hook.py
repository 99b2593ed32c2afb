"""The pre-push hook: `launch-gate install-hook` and pre-commit's hook, and a real `git push` they block."""

import subprocess
from pathlib import Path

from tests.conftest import base_env, run_cli

REPO = Path(__file__).resolve().parent.parent
CONFIG = (
    '[tool.launch-gate]\nenvironment = "production"\n\n[tool.launch-gate.env]\nrequired = ["DATABASE_URL"]\n'
    '\n[tool.launch-gate.checks]\ndeps = "off"  # tests never reach PyPI\n'
)
IDENTITY = {
    "GIT_AUTHOR_NAME": "Founder",
    "GIT_AUTHOR_EMAIL": "founder@coachly.test",
    "GIT_COMMITTER_NAME": "Founder",
    "GIT_COMMITTER_EMAIL": "founder@coachly.test",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=base_env(**IDENTITY, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def make_repo(root: Path) -> Path:
    remote = root.parent / f"{root.name}-remote.git"
    git("init", "--bare", "-q", str(remote), cwd=root.parent)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "first", cwd=root)
    git("remote", "add", "origin", str(remote), cwd=root)
    return remote


def test_the_installed_hook_blocks_a_push_until_the_variable_is_set(project):
    root = project({"pyproject.toml": CONFIG})
    make_repo(root)
    installed = run_cli("install-hook", cwd=root)
    assert installed.returncode == 0, installed.stderr

    blocked = git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=root)
    assert blocked.returncode != 0
    assert "DATABASE_URL is not set" in blocked.stdout + blocked.stderr
    assert git("ls-remote", "origin", cwd=root).stdout == ""  # nothing reached the remote

    pushed = git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=root, DATABASE_URL="postgres://db/app")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "refs/heads/main" in git("ls-remote", "origin", cwd=root).stdout


def test_install_hook_refuses_to_overwrite_an_existing_hook_unless_forced(project):
    root = project({"pyproject.toml": CONFIG})
    make_repo(root)
    hook = root / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\necho mine\n")

    refused = run_cli("install-hook", cwd=root)
    assert refused.returncode == 4
    assert "will not overwrite" in refused.stderr
    assert hook.read_text() == "#!/bin/sh\necho mine\n"

    forced = run_cli("install-hook", "--force", cwd=root)
    assert forced.returncode == 0
    assert "launch_gate check --phase pre" in hook.read_text()


def test_install_hook_outside_a_repository_is_a_clear_error(project):
    done = run_cli("install-hook", cwd=project({}), env=base_env(GIT_CEILING_DIRECTORIES="/"))
    assert done.returncode == 4
    assert "not inside a git repository" in done.stderr


def test_pre_commit_hook_runs_the_pre_phase_at_pre_push():
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "- id: launch-gate\n" in text
    assert "entry: launch-gate check --phase pre\n" in text
    assert "stages: [pre-push]\n" in text
    assert "pass_filenames: false\n" in text
