"""The pre-push hook: `launch-gate install-hook`, `launch-gate pre-push` and pre-commit's hook, run by a real
`git push` to a local bare remote (git feeds the refs on stdin), on a machine with no production variables."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from launch_gate.checks.registry import POST_AREAS, PRE_AREAS, all_checks, builtin_modules
from launch_gate.config import load_settings
from launch_gate.redact import VOCABULARY, WINDOW
from tests.conftest import base_env, run_cli
from tests.planted import Planted

REPO = Path(__file__).resolve().parent.parent
PLANTED = Planted.make(seed=12)
# The app needs DATABASE_URL in production; no test here sets it (a laptop has none of production's values).
CONFIG = '[env]\nrequired = ["DATABASE_URL"]\n\n[checks]\ndeps = "off"  # tests never reach PyPI\n'
IDENTITY = {
    "GIT_AUTHOR_NAME": "Founder",
    "GIT_AUTHOR_EMAIL": "founder@coachly.test",
    "GIT_COMMITTER_NAME": "Founder",
    "GIT_COMMITTER_EMAIL": "founder@coachly.test",
    "GIT_CONFIG_NOSYSTEM": "1",
}
ZERO = "0" * 40
GIT_DIR = str(Path(shutil.which("git") or "/usr/bin/git").parent)


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


def commit(root: Path, files: dict[str, str | None], message: str = "work") -> str:
    """Write (or, for None, delete) files and commit them; the new commit's sha."""
    for name, text in files.items():
        path = root / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git("add", "-A", cwd=root)
    done = git("commit", "-qm", message, cwd=root)
    assert done.returncode == 0, done.stderr
    return head(root)


def head(root: Path, rev: str = "HEAD") -> str:
    return git("rev-parse", rev, cwd=root).stdout.strip()


@pytest.fixture
def on_path(tmp_path: Path) -> str:
    """A PATH with git and a `launch-gate` command (this checkout's, as an installed console script would be)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "launch-gate"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -m launch_gate "$@"\n')
    script.chmod(0o755)
    return os.pathsep.join([str(bin_dir), GIT_DIR, "/usr/bin", "/bin"])


@pytest.fixture
def hooked(project, on_path):
    """A project with the hook installed, its first commit pushed (through the hook) to a bare remote."""
    root = project({"launch-gate.toml": CONFIG, "app/views.py": "def home():\n    return 'hello'\n"})
    make_repo(root)
    assert run_cli("install-hook", cwd=root).returncode == 0
    first = push(root, on_path)
    assert first.returncode == 0, first.stdout + first.stderr
    return root


def push(root: Path, path: str, *refspec: str, **env: str) -> subprocess.CompletedProcess[str]:
    return git("push", "-q", "origin", *(refspec or ("HEAD:refs/heads/main",)), cwd=root, PATH=path, **env)


def remote_sha(root: Path, ref: str = "refs/heads/main") -> str:
    listed = git("ls-remote", "origin", ref, cwd=root).stdout.split()
    return listed[0] if listed else ""


def test_a_pushed_secret_blocks_the_push_and_shows_only_its_fingerprint(hooked, on_path):
    before = remote_sha(hooked)
    commit(hooked, {"app/settings.py": f'STRIPE_KEY = "{PLANTED.stripe_live}"\n'})
    blocked = push(hooked, on_path)
    out = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0
    assert "FAIL   secrets.diff" in out
    assert "app/settings.py:1: Stripe Access Key [sha1:" in out
    assert "BLOCKED" in out
    assert "(exit 1)" in out
    assert PLANTED.stripe_live not in out
    assert PLANTED.stripe_live[8:20] not in out
    assert "Traceback" not in out
    assert remote_sha(hooked) == before  # nothing reached the remote


def test_a_clean_push_passes_without_any_production_variable(hooked, on_path):
    sha = commit(hooked, {"app/views.py": "def home():\n    return 'hello, coach'\n"})
    done = push(hooked, on_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "READY" in done.stdout
    assert "DATABASE_URL" not in done.stdout  # env.required is not part of the default hook
    assert remote_sha(hooked) == sha


def test_a_new_branch_scans_all_its_new_commits_and_only_those(hooked, on_path):
    # main already carries a secret (pushed without the hook): it is on the remote, not this push's to judge
    commit(hooked, {"old/legacy.py": f'OLD = "{PLANTED.jwt}"\n'})
    assert push(hooked, on_path, "--no-verify", "HEAD:refs/heads/main").returncode == 0
    git("checkout", "-qb", "feature", cwd=hooked)
    commit(hooked, {"app/keys.py": f'AWS = "{PLANTED.aws_key_id}"\n'}, "add keys")
    commit(hooked, {"app/keys.py": None}, "remove keys again")  # the first commit is still pushed
    blocked = push(hooked, on_path, "feature")
    assert blocked.returncode != 0
    assert "2 new commits being pushed" in blocked.stdout
    assert "app/keys.py:1: AWS Access Key" in blocked.stdout
    assert "old/legacy.py" not in blocked.stdout
    assert remote_sha(hooked, "refs/heads/feature") == ""

    git("reset", "-q", "--hard", "origin/main", cwd=hooked)
    commit(hooked, {"app/about.py": "ABOUT = 'coaching'\n"})
    done = push(hooked, on_path, "feature")
    assert done.returncode == 0, done.stdout + done.stderr
    assert remote_sha(hooked, "refs/heads/feature") == head(hooked)


def test_deleting_a_branch_passes_without_scanning(hooked, on_path):
    git("push", "-q", "--no-verify", "origin", "HEAD:refs/heads/old", cwd=hooked)
    done = push(hooked, on_path, "--delete", "old")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing to check: this push only deletes refs" in done.stdout
    assert remote_sha(hooked, "refs/heads/old") == ""


def test_pushing_commits_already_on_a_remote_passes(hooked, on_path):
    done = push(hooked, on_path, "HEAD:refs/heads/copy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing new being pushed: every commit is already on a remote-tracking branch" in (
        run_pre_push(hooked, f"HEAD {head(hooked)} refs/heads/copy2 {ZERO}\n", "-v").stdout
    )


def test_checks_listed_in_the_pre_push_table_run_too(hooked, on_path):
    (hooked / "launch-gate.toml").write_text(
        CONFIG + '\n[pre-push]\nchecks = ["secrets.diff", "env.required"]\n'
    )
    commit(hooked, {})
    blocked = push(hooked, on_path)
    assert blocked.returncode != 0
    assert "DATABASE_URL is not set" in blocked.stdout
    done = push(hooked, on_path, DATABASE_URL="postgres://db/app")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_hook_runs_launch_gate_from_path_first(hooked, tmp_path):
    used = tmp_path / "used"
    bin_dir = tmp_path / "other-bin"
    bin_dir.mkdir()
    (bin_dir / "launch-gate").write_text(
        f'#!/bin/sh\necho "$@" > {used}\nexec {sys.executable} -m launch_gate "$@"\n'
    )
    (bin_dir / "launch-gate").chmod(0o755)
    commit(hooked, {"app/a.py": "A = 1\n"})
    done = push(hooked, os.pathsep.join([str(bin_dir), GIT_DIR, "/usr/bin", "/bin"]), "HEAD:refs/heads/x")
    assert done.returncode == 0, done.stdout + done.stderr
    assert used.read_text().split()[:2] == ["pre-push", "origin"]  # git's arguments are passed on


def test_without_launch_gate_on_path_the_hook_uses_the_python_that_installed_it(project, tmp_path):
    root = project({"launch-gate.toml": CONFIG, "app/a.py": "A = 1\n"})
    make_repo(root)
    python = tmp_path / "venv-python"
    python.symlink_to(sys.executable)
    installed = subprocess.run(
        [str(python), "-m", "launch_gate", "install-hook"],
        cwd=root,
        env=base_env(),
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    bare_path = os.pathsep.join([GIT_DIR, "/usr/bin", "/bin"])
    assert shutil.which("launch-gate", path=bare_path) is None
    done = push(root, bare_path)
    assert done.returncode == 0, done.stdout + done.stderr

    python.unlink()  # the virtual environment it was installed from is gone
    commit(root, {"app/b.py": "B = 2\n"})
    missing = push(root, bare_path)
    assert missing.returncode != 0
    assert "launch-gate pre-push hook: launch-gate is not on PATH, and" in missing.stderr
    assert f"{python} (the Python it was installed with) no longer exists" in missing.stderr
    assert "git push --no-verify" in missing.stderr
    assert "not found" not in missing.stderr
    assert "Traceback" not in missing.stderr


def test_install_hook_refuses_to_overwrite_an_existing_hook_unless_forced(project):
    root = project({"launch-gate.toml": CONFIG})
    make_repo(root)
    hook = root / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\necho mine\n")

    refused = run_cli("install-hook", cwd=root)
    assert refused.returncode == 4
    assert "will not overwrite" in refused.stderr
    assert hook.read_text() == "#!/bin/sh\necho mine\n"

    forced = run_cli("install-hook", "--force", cwd=root)
    assert forced.returncode == 0
    assert 'exec launch-gate pre-push "$@"' in hook.read_text()
    assert str(Path(sys.executable).parent) not in hook.read_text().split("INSTALL_PYTHON=")[0]


def test_install_hook_outside_a_repository_is_a_clear_error(project):
    done = run_cli("install-hook", cwd=project({}), env=base_env(GIT_CEILING_DIRECTORIES="/"))
    assert done.returncode == 4
    assert "not inside a git repository" in done.stderr


def run_pre_push(root: Path, stdin: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launch_gate", "pre-push", *args],
        cwd=root,
        input=stdin,
        env=base_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lines_that_are_not_git_refs_are_a_usage_error(hooked):
    done = run_pre_push(hooked, "main is fine\n")
    assert done.returncode == 4
    assert (
        "line 1 of standard input is not `<local ref> <local sha> <remote ref> <remote sha>`" in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_run_from_a_terminal_it_says_what_it_is_for(hooked):
    controller, terminal = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "launch_gate", "pre-push"],
            cwd=hooked,
            stdin=terminal,
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        os.close(controller)
        os.close(terminal)
    assert done.returncode == 4
    assert "is what the git pre-push hook runs" in done.stderr
    assert "launch-gate check --select secrets.diff --base origin/main" in done.stderr


def test_under_pre_commit_its_push_refs_say_what_is_pushed(hooked):
    base = head(hooked)
    secret = commit(hooked, {"app/settings.py": f'STRIPE_KEY = "{PLANTED.stripe_live}"\n'})
    ranged = run_pre_push(hooked, "", PRE_COMMIT="1", PRE_COMMIT_FROM_REF=base, PRE_COMMIT_TO_REF=secret)
    assert ranged.returncode == 1, ranged.stdout + ranged.stderr
    assert "app/settings.py:1: Stripe Access Key" in ranged.stdout
    # a push that reaches a root commit: pre-commit names the local branch and no range
    root = run_pre_push(
        hooked, "", PRE_COMMIT="1", PRE_COMMIT_LOCAL_BRANCH="HEAD", PRE_COMMIT_REMOTE_BRANCH="x"
    )
    assert root.returncode == 1
    assert "app/settings.py" in root.stdout
    told_nothing = run_pre_push(hooked, "", PRE_COMMIT="1")
    assert told_nothing.returncode == 4
    assert "--from-ref REF --to-ref REF" in told_nothing.stderr


def test_the_pre_commit_hook_uses_pre_commits_push_refs():
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "- id: launch-gate\n" in text
    assert "entry: launch-gate pre-push\n" in text
    assert "stages: [pre-push]\n" in text
    assert "pass_filenames: false\n" in text
    assert "always_run: true\n" in text
    assert 'minimum_pre_commit_version: "3.2.0"\n' in text  # stage names that match git's hook names


def test_an_unknown_check_in_the_pre_push_table_names_the_setting(hooked):
    (hooked / "launch-gate.toml").write_text(CONFIG + '\n[pre-push]\nchecks = ["secrets.dif"]\n')
    done = run_pre_push(hooked, f"HEAD {head(hooked)} refs/heads/y {ZERO}\n")
    assert done.returncode == 4
    assert "`[pre-push] checks` in launch-gate.toml: prefix 1 of 1 matches no check" in done.stderr
    assert "secrets.diff" in done.stderr  # the known ids, all of them


# --- loading only what the selection needs ------------------------------------------------------------------

HEAVY = ("httpx", "httpcore", "dns", "cryptography", "detect_secrets")


def imported_by(root: Path, *argv: str, stdin: str = "") -> set[str]:
    """The top-level packages and launch_gate modules imported by one `launch-gate` run."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['launch-gate', *{list(argv)!r}]\n"
        "try:\n    runpy.run_module('launch_gate', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, input=stdin, env=base_env(), capture_output=True, text=True
    )
    names = done.stderr.rpartition("MODULES ")[2].split()
    return {n.split(".")[0] for n in names} | {n for n in names if n.startswith("launch_gate.checks.")}


def test_check_select_env_required_imports_no_network_or_scanner_module(project):
    root = project({"launch-gate.toml": CONFIG})
    modules = imported_by(root, "check", "--select", "env.required")
    assert "launch_gate.checks.env" in modules
    assert not set(HEAVY) & modules, sorted(set(HEAVY) & modules)
    assert {m for m in modules if m.startswith("launch_gate.checks.")} <= {
        "launch_gate.checks.env",
        "launch_gate.checks.registry",
    }


def test_the_hook_imports_only_the_secrets_area(hooked):
    modules = imported_by(hooked, "pre-push", stdin=f"HEAD {head(hooked)} refs/heads/z {ZERO}\n")
    assert "launch_gate.checks.secrets" in modules
    assert "detect_secrets" in modules
    assert not {"httpx", "httpcore", "dns", "cryptography"} & modules
    assert "launch_gate.checks.env" not in modules


def test_the_pre_phase_leaves_post_deploy_areas_unloaded(project):
    modules = imported_by(
        project({"launch-gate.toml": CONFIG}), "check", "--phase", "pre", "--select", "env,secrets"
    )
    assert not {f"launch_gate.checks.{area}" for area in POST_AREAS} & modules


def test_list_still_lists_every_area(project):
    done = run_cli("list", cwd=project({"launch-gate.toml": CONFIG}))
    listed = {line.split()[0].split(".")[0] for line in done.stdout.splitlines()}
    # smoke, latency and load hold one check per configured flow, route or profile; none are configured here
    assert {m.rsplit(".", 1)[1] for m in builtin_modules()} - {"smoke", "latency", "load"} <= listed


def test_the_areas_named_by_phase_hold_checks_of_that_phase_only(project):
    """Loading by phase skips the other phase's areas: that is only right while each holds its phase alone."""
    config = 'target = "https://www.example.test"\n[smoke.flows.f]\nsteps = [{ path = "/" }]\n'
    config += '[latency.routes]\nhome = "/"\n'
    config += "[load]\nin-gate = true\n[load.profiles.p]\nusers = 1\nramp = 0\nduration = 2\n"
    config += '[load.profiles.p.journeys.j]\nsteps = [{ path = "/" }]\n'
    checks = all_checks(load_settings(cwd=project({"launch-gate.toml": config}), environ={}))
    phases = {area: {c.phase.value for c in checks if c.area == area} for area in (*PRE_AREAS, *POST_AREAS)}
    assert phases == {**{a: {"pre"} for a in PRE_AREAS}, **{a: {"post"} for a in POST_AREAS}}


def test_a_configured_key_of_an_area_not_loaded_must_still_name_an_area(project):
    root = project({"launch-gate.toml": CONFIG + 'headrs = "warn"\n'})
    done = run_cli("check", "--select", "env.required", cwd=root)
    assert done.returncode == 4
    assert "names 'headrs', which matches no check" in done.stderr
    assert "headers.hsts" in done.stderr  # the message lists every check, not only the loaded ones


# --- never a traceback, never a piece of a secret -----------------------------------------------------------

UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SECRETISH = st.one_of(
    st.text(st.sampled_from(UPPER_DIGITS), min_size=16, max_size=16).map(lambda s: "AKIA" + s),
    st.text(st.sampled_from(ALNUM), min_size=24, max_size=40).map(lambda s: "sk_" + "live_" + s),
    st.text(st.sampled_from(ALNUM), min_size=36, max_size=36).map(lambda s: "ghp_" + s),
    st.text(st.sampled_from(ALNUM + "+/=-_!@#%^&*"), min_size=12, max_size=48),
)


def leaks(secret: str, text: str) -> list[str]:
    return [secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1) if secret[i : i + WINDOW] in text]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=SECRETISH, shape=st.sampled_from(['API_KEY = "{}"\n', "password: {}\n", '{{"token": "{}"}}\n']))
def test_the_hook_never_prints_a_traceback_or_a_piece_of_what_it_finds(hooked, on_path, value, shape):
    vocabulary = " ".join(
        [*VOCABULARY, "secrets.diff launch-gate pre-push config.py app/ sha1 READY BLOCKED"]
    )
    assume(not leaks(value, vocabulary))
    git("checkout", "-q", "-B", "work", "origin/main", cwd=hooked)
    commit(hooked, {"app/config.py": shape.format(value)})
    done = push(hooked, on_path, "HEAD:refs/heads/probe", "--force")
    out = done.stdout + done.stderr
    assert "Traceback" not in out
    assert not leaks(value, out), leaks(value, out)
    assert ("BLOCKED" in out) == (done.returncode != 0), out
    if "BLOCKED" in out:
        assert "[sha1:" in out
