"""The secrets checks on real git repositories with planted secrets, as a user runs them."""

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from launch_gate.config import load_settings
from launch_gate.results import CheckResult, Outcome
from tests.conftest import base_env, run_check, run_cli
from tests.planted import EXPECTED_TYPES, Planted
from tests.test_hook import git

PLANTED = Planted.make()


def commit_all(root: Path, message: str = "work") -> None:
    git("add", "-A", cwd=root)
    done = git("commit", "-qm", message, cwd=root)
    assert done.returncode == 0, done.stderr


def repo(project, files: dict[str, str], config: str = "") -> Path:
    root = project({"launch-gate.toml": config, "README.md": "# coachly\n", **files})
    git("init", "-q", cwd=root)
    commit_all(root, "first")
    return root


def found(result: CheckResult) -> dict[str, set[str]]:
    """Detector types per file (a finding lists every detector that found its secret)."""
    kinds: dict[str, set[str]] = {}
    for f in result.findings:
        if f.file and not f.message.startswith("not scanned"):
            kinds.setdefault(f.file, set()).update(f.message.split(", "))
    return kinds


def test_repo_scan_finds_every_planted_kind(project):
    root = repo(project, PLANTED.files())
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.FAIL
    kinds = found(result)
    for file, expected in EXPECTED_TYPES.items():
        assert expected <= kinds.get(file, set()), file
    assert all(f.fingerprint and f.fingerprint.startswith("sha1:") for f in result.findings)
    assert all(f.line for f in result.findings)


def test_a_clean_repository_passes(project):
    root = repo(project, {"app/views.py": "def home(request):\n    return 'hello'\n"})
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.PASS
    assert "no secrets in the repository" in result.message


def test_untracked_files_count_but_ignored_ones_do_not(project):
    root = repo(project, {".gitignore": "local/\n"})
    (root / "new.py").write_text(f'KEY = "{PLANTED.stripe_live}"\n')
    (root / "local").mkdir()
    (root / "local" / "mine.py").write_text(f'KEY = "{PLANTED.stripe_live}"\n')
    assert set(found(run_check(root, "secrets.repo"))) == {"new.py"}


def test_pragma_allowlisted_lines_are_not_reported(project):
    line = f'KEY = "{PLANTED.stripe_live}"  # pragma: allowlist secret\n'
    assert run_check(repo(project, {"app/x.py": line}), "secrets.repo").outcome is Outcome.PASS


def baseline_for(root: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "--no-verify"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def test_baseline_accepts_by_hash_even_after_the_line_moves(project):
    root = repo(project, {"app/settings.py": f'STRIPE_KEY = "{PLANTED.stripe_live}"\n'})
    (root / ".secrets.baseline").write_text(json.dumps(baseline_for(root)))
    (root / "app/settings.py").write_text("# moved down\n\n\n" + f'STRIPE_KEY = "{PLANTED.stripe_live}"\n')
    assert run_check(root, "secrets.repo").outcome is Outcome.PASS


def test_baseline_entries_audited_as_real_secrets_still_fail(project):
    root = repo(project, {"app/settings.py": f'STRIPE_KEY = "{PLANTED.stripe_live}"\n'})
    baseline = baseline_for(root)
    for entries in baseline["results"].values():
        for entry in entries:
            entry["is_secret"] = True
    (root / ".secrets.baseline").write_text(json.dumps(baseline))
    assert run_check(root, "secrets.repo").outcome is Outcome.FAIL


def test_a_broken_baseline_could_not_be_verified(project):
    root = repo(project, {".secrets.baseline": "{not json"})
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.ERROR
    assert "not a detect-secrets baseline" in result.message


def waiver_config(hashes: list[str], expires: date) -> str:
    return "".join(
        f'[[secrets.waivers]]\nid = "{h}"\nreason = "test fixture, not a real key"\nexpires = {expires.isoformat()}\n'
        for h in hashes
    )


def test_an_unexpired_waiver_accepts_and_an_expired_one_fails(project):
    files = {"app/settings.py": f'STRIPE_KEY = "{PLANTED.stripe_live}"\n'}
    hashes = [
        f.fingerprint for f in run_check(repo(project, files), "secrets.repo").findings if f.fingerprint
    ]
    tomorrow, yesterday = date.today() + timedelta(days=1), date.today() - timedelta(days=1)

    (Path.cwd() / "launch-gate.toml").write_text(waiver_config(hashes, tomorrow))
    assert run_check(Path.cwd(), "secrets.repo").outcome is Outcome.PASS

    (Path.cwd() / "launch-gate.toml").write_text(waiver_config(hashes, yesterday))
    result = run_check(Path.cwd(), "secrets.repo")
    assert result.outcome is Outcome.FAIL
    assert f"expired on {yesterday}" in result.findings[0].message


def test_a_waiver_without_reason_or_expiry_is_a_configuration_error(project):
    root = project({"launch-gate.toml": '[[secrets.waivers]]\nid = "abc"\n'})
    with pytest.raises(Exception, match=r"waivers` in launch-gate.toml \(item 1, reason\)"):
        load_settings(cwd=root, environ={})


def test_exclude_globs_leave_files_out(project):
    root = repo(
        project,
        {"tests/fixtures/keys.py": f'K = "{PLANTED.stripe_live}"\n'},
        '[secrets]\nexclude = ["tests/fixtures"]\n',
    )
    assert run_check(root, "secrets.repo").outcome is Outcome.PASS


def test_a_file_too_large_to_scan_makes_the_check_an_error(project):
    root = repo(project, {"data/dump.sql": "-- " + "x" * 5000 + "\n"}, "[secrets]\nmax-file-bytes = 1000\n")
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.ERROR
    assert [f.file for f in result.findings] == ["data/dump.sql"]


def test_diff_scan_finds_exactly_what_a_full_scan_finds_in_the_changed_files(project):
    root = repo(project, {"old/legacy.py": f'OLD = "{PLANTED.jwt}"\n', "app/ok.py": "x = 1\n"})
    base = git("rev-parse", "HEAD", cwd=root).stdout.strip()
    for name, text in PLANTED.files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    commit_all(root, "add config")
    (root / "app/ok.py").write_text(
        f'y = "{PLANTED.aws_key_id}"\n'
    )  # changed in the work tree, not committed

    (root / "launch-gate.toml").write_text(f'[secrets]\nbase = "{base}"\n')
    diff = run_check(root, "secrets.diff")
    full = run_check(root, "secrets.repo")
    changed = set(PLANTED.files()) | {"app/ok.py", "launch-gate.toml"}  # the base's sha in it is hex entropy
    in_changed = {(f.file, f.line, f.message) for f in full.findings if f.file in changed}
    assert {(f.file, f.line, f.message) for f in diff.findings} == in_changed
    assert "old/legacy.py" in {f.file for f in full.findings}
    assert diff.outcome is Outcome.FAIL


def test_diff_scan_without_a_base_skips_and_with_a_missing_base_scans_everything(project):
    root = repo(project, {"app/settings.py": f'STRIPE_KEY = "{PLANTED.stripe_live}"\n'})
    assert run_check(root, "secrets.diff").outcome is Outcome.SKIP
    result = run_check(root, "secrets.diff", {"GITHUB_BASE_REF": "main"})  # origin/main does not exist here
    assert result.outcome is Outcome.FAIL
    assert "base origin/main (the pull request's base (GITHUB_BASE_REF)) was not found" in result.message
    assert "so the whole repository was scanned instead" in result.message


def test_a_base_that_is_not_in_the_clone_is_named_with_the_fix(project):
    root = repo(project, {"app/ok.py": "x = 1\n"}, '[secrets]\nbase = "nosuchref"\n')
    result = run_check(root, "secrets.diff")
    assert result.outcome is Outcome.WARN  # a full scan passed, but not the diff that was asked for
    assert result.message.startswith("base nosuchref (the configured base) was not found in this clone")
    assert "the whole repository was scanned instead. No secrets in the whole repository (" in result.message
    assert ", 0.0 MB). To scan only what changed" in result.message
    assert "`git fetch origin nosuchref`" in result.message
    assert "fetch-depth: 0" in result.message


def test_diff_scan_uses_pre_commit_push_refs(project):
    root = repo(project, {"a.py": "x = 1\n"})
    base = git("rev-parse", "HEAD", cwd=root).stdout.strip()
    (root / "b.py").write_text(f'K = "{PLANTED.stripe_live}"\n')
    commit_all(root)
    head = git("rev-parse", "HEAD", cwd=root).stdout.strip()
    result = run_check(root, "secrets.diff", {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": head})
    assert set(found(result)) == {"b.py"}
    assert "1 file changed since" in result.message


MINIFIED = '!function(){var e={api:"/v1"};window.cfg=e}();var k="SECRET";/* pragma: allowlist secret */\n'


def test_bundle_secrets_fail_whatever_the_baseline_or_pragma_says(project):
    root = repo(project, {".gitignore": "dist/\n"}, '[secrets]\nbundle-dirs = ["dist"]\n')
    (root / "dist" / "assets").mkdir(parents=True)
    (root / "dist" / "assets" / "index-4f2a.js").write_text(MINIFIED.replace("SECRET", PLANTED.stripe_live))
    (root / ".secrets.baseline").write_text(json.dumps(baseline_for(root)))  # the baseline does not see dist/
    result = run_check(root, "secrets.bundle")
    assert result.outcome is Outcome.FAIL
    assert "dist/assets/index-4f2a.js" in found(result)
    assert "Anything in the bundle is public" in result.message


def test_missing_bundle_directory_could_not_be_verified(project):
    root = repo(project, {}, '[secrets]\nbundle-dirs = ["dist"]\n')
    result = run_check(root, "secrets.bundle")
    assert result.outcome is Outcome.ERROR
    assert "build the client bundle" in result.message


def test_no_output_ever_contains_a_planted_secret(project, tmp_path):
    root = repo(project, PLANTED.files(), '[secrets]\nbundle-dirs = ["dist"]\n')
    (root / "dist").mkdir()
    (root / "dist" / "app.js").write_text(MINIFIED.replace("SECRET", PLANTED.jwt))
    env = base_env(
        GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(tmp_path / "o"), GITHUB_STEP_SUMMARY=str(tmp_path / "s")
    )
    done = run_cli(
        "check",
        "--select",
        "secrets",
        "--base",
        "HEAD~0",
        "--report-json",
        "r.json",
        "--summary-md",
        "s.md",
        "--sarif",
        "r.sarif",
        cwd=root,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    assert "::error file=app/settings.py,line=" in done.stdout
    texts = [done.stdout, done.stderr] + [
        p.read_text() for p in (root / "r.json", root / "s.md", root / "r.sarif")
    ]
    texts += [(tmp_path / "o").read_text(), (tmp_path / "s").read_text()]
    for text in texts:
        for value in PLANTED.values():
            assert value not in text
    report = json.loads((root / "r.json").read_text())
    repo_check = next(c for c in report["checks"] if c["id"] == "secrets.repo")
    assert all({"file", "line"} <= set(f) for f in repo_check["findings"])


def test_the_pre_push_hook_blocks_a_push_that_adds_a_secret(project):
    root = repo(project, {"a.py": "x = 1\n"}, "")
    remote = root.parent / f"{root.name}-remote.git"
    git("init", "--bare", "-q", str(remote), cwd=root.parent)
    git("remote", "add", "origin", str(remote), cwd=root)
    (root / "launch-gate.toml").write_text('environment = "development"\n[checks]\ndeps = "off"\n')
    commit_all(root)
    assert run_cli("install-hook", cwd=root).returncode == 0
    assert git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=root).returncode == 0

    (root / "app.py").write_text(f'STRIPE = "{PLANTED.stripe_live}"\n')
    commit_all(root, "add payments")
    blocked = git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=root)
    assert blocked.returncode != 0
    output = blocked.stdout + blocked.stderr
    assert "Stripe Access Key" in output
    assert PLANTED.stripe_live not in output


def test_outside_git_every_file_is_scanned_except_tools_caches(project):
    secret = f'K = "{PLANTED.stripe_live}"\n'
    root = project({
        "launch-gate.toml": "",
        "app.py": secret,
        ".pytest_cache/v/cache/lastfailed": secret,
        "node_modules/pkg/index.js": secret,
        "build/.gitignore": "*\n",
        "build/out.py": secret,
    })  # fmt: skip
    result = run_check(root, "secrets.repo")
    assert set(found(result)) == {"app.py"}
    assert "not a git repository: every file" in result.message


def test_one_secret_found_by_several_detectors_is_one_finding_listing_them(project):
    root = repo(project, {"app/settings.py": f'STRIPE_SECRET_KEY = "{PLANTED.stripe_live}"\n'})
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.FAIL
    assert [(f.file, f.line, f.message) for f in result.findings] == [
        ("app/settings.py", 1, "Stripe Access Key, Secret Keyword")
    ]
    assert result.message.startswith("1 secret in 1 file of the repository")


def test_the_same_secret_in_two_files_is_one_secret_in_two_places(project):
    line = f'STRIPE_SECRET_KEY = "{PLANTED.stripe_live}"\n'
    result = run_check(repo(project, {"a.py": line, "b.py": line}), "secrets.repo")
    assert len(result.findings) == 2
    assert result.message.startswith("1 secret in 2 places in 2 files")


def test_placeholder_values_are_set_aside_and_counted(project):
    root = repo(project, {".env.example": "DATABASE_URL=postgres://user:changeme@localhost/db\n"})
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.PASS, result.message
    assert "1 placeholder value set aside ('changeme')" in result.message


def test_a_real_password_in_the_same_place_still_fails(project):
    root = repo(project, {".env.example": f"DATABASE_URL=postgres://user:{PLANTED.env_password}@db/app\n"})
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.FAIL
    assert "Basic Auth Credentials" in found(result)[".env.example"]
    assert "placeholder" not in result.message


def not_scanned(result: CheckResult) -> dict[str, str]:
    return {f.file: f.message for f in result.findings if f.file and f.message.startswith("not scanned")}


def write_bytes_name(root: Path, name: bytes, text: str) -> None:
    with open(os.fsencode(root) + b"/" + name, "w", encoding="utf-8") as handle:
        handle.write(text)


@pytest.mark.parametrize("check", ["secrets.repo", "secrets.diff"])
def test_a_file_name_that_is_not_utf8_is_scanned_and_shown_escaped(project, check):
    root = repo(project, {"a.py": "x = 1\n"}, '[secrets]\nbase = "HEAD"\n')
    write_bytes_name(root, b"caf\xe9.py", f'STRIPE_SECRET_KEY = "{PLANTED.stripe_live}"\n')
    commit_all(root)
    (root / "launch-gate.toml").write_text('[secrets]\nbase = "HEAD~1"\n')
    result = run_check(root, check)
    assert result.outcome is Outcome.FAIL, result.message
    assert set(found(result)) == {"caf\\xe9.py"}


def test_a_symlink_loop_in_the_bundle_is_named_and_the_rest_is_scanned(project):
    root = repo(project, {".gitignore": "dist/\n"}, '[secrets]\nbundle-dirs = ["dist"]\n')
    (root / "dist" / "assets").mkdir(parents=True)
    (root / "dist" / "assets" / "app.js").write_text(MINIFIED.replace("SECRET", "not-a-secret"))
    (root / "dist" / "loop-a").symlink_to("loop-b")
    (root / "dist" / "loop-b").symlink_to("loop-a")
    (root / "dist" / "self").symlink_to(".")  # a directory loop: not walked into
    result = run_check(root, "secrets.bundle")
    assert result.outcome is Outcome.ERROR, result.message
    assert not_scanned(result) == {
        "dist/loop-a": "not scanned: a symlink loop",
        "dist/loop-b": "not scanned: a symlink loop",
    }
    assert "2 paths of the client bundle (dist) could not be scanned (1 file," in result.message

    (root / "dist" / "assets" / "app.js").write_text(MINIFIED.replace("SECRET", PLANTED.stripe_live))
    result = run_check(root, "secrets.bundle")
    assert result.outcome is Outcome.FAIL  # what could be scanned still counts
    assert set(found(result)) == {"dist/assets/app.js"}
    assert set(not_scanned(result)) == {"dist/loop-a", "dist/loop-b"}


def test_a_symlink_loop_outside_git_is_named_not_a_crash(project, tmp_path_factory):
    root = project({"launch-gate.toml": "", "app.py": "x = 1\n"})
    (root / "loop").symlink_to("loop")
    (root / ".venv").symlink_to(tmp_path_factory.mktemp("venv"))  # a tool's directory: not the project's
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.ERROR, result.message
    assert not_scanned(result) == {"loop": "not scanned: a symlink loop"}


def test_a_symlink_out_of_the_project_is_never_followed(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "shadow"
    outside.write_text(f'STRIPE_SECRET_KEY = "{PLANTED.stripe_live}"\n')
    root = repo(project, {"app.py": "x = 1\n"})
    (root / "shadow").symlink_to(outside)
    (root / "etc").symlink_to(outside.parent)
    (root / "inside.py").symlink_to("app.py")  # inside the project: followed
    commit_all(root, "links")
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.ERROR, result.message  # nothing found, and not everything was scanned
    assert not_scanned(result) == {
        "etc": "not scanned: a symlink to outside the project, not followed",
        "shadow": "not scanned: a symlink to outside the project, not followed",
    }
    assert "[secrets] exclude" in result.message
    (root / "launch-gate.toml").write_text('[secrets]\nexclude = ["shadow", "etc"]\n')
    assert run_check(root, "secrets.repo").outcome is Outcome.PASS


CAN_DROP_PRIVILEGE = os.geteuid() == 0 and shutil.which("setpriv") is not None


@pytest.mark.skipif(not CAN_DROP_PRIVILEGE, reason="needs root and setpriv to take away root's read-anything")
@pytest.mark.parametrize("git_repo", [True, False])
def test_an_unreadable_directory_is_named_and_the_rest_is_scanned(project, git_repo):
    files = {"app.py": f'STRIPE_SECRET_KEY = "{PLANTED.stripe_live}"\n', "locked/notes.py": "x = 1\n"}
    root = repo(project, files) if git_repo else project({"launch-gate.toml": "", **files})
    (root / "locked" / "new.py").write_text("y = 2\n")
    (root / "locked").chmod(0)
    try:
        # Root reads anything; without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH it is held to the modes.
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", sys.executable, "-m"]
        done = subprocess.run(
            [*command, "launch_gate", "check", "--select", "secrets.repo", "--report-json", "r.json"],
            cwd=root,
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        (root / "locked").chmod(0o755)
    assert "Traceback" not in done.stderr + done.stdout
    report = json.loads((root / "r.json").read_text())
    check = next(c for c in report["checks"] if c["id"] == "secrets.repo")
    assert check["outcome"] == "fail", check["message"]  # what could be read was scanned
    files = {f["file"]: f["message"] for f in check["findings"]}
    assert files["app.py"] == "Stripe Access Key, Secret Keyword"
    assert any(name.startswith("locked") and "Permission denied" in why for name, why in files.items())


def test_a_real_secret_containing_a_placeholder_word_is_reported_not_set_aside(project):
    text = 'smtp_password = "todo-Xk29fLq8ZpR3vN7w"\nDB_PASSWORD=Your_Company_Pr0d!2024\nAPI_KEY=changeme\n'
    result = run_check(repo(project, {".env": text}), "secrets.repo")
    assert result.outcome is Outcome.FAIL, result.message
    assert sorted(f.line for f in result.findings) == [1, 2]
    assert "1 placeholder value set aside ('changeme')" in result.message


@pytest.mark.parametrize("check", ["secrets.repo", "secrets.diff"])
def test_a_repository_scan_that_excludes_every_file_could_not_be_verified(project, check):
    config = '[secrets]\nexclude = ["*", "**"]\nbase = "nosuchref"\n'
    root = repo(project, {"app/settings.py": f'STRIPE_KEY = "{PLANTED.stripe_live}"\n'}, config)
    result = run_check(root, check)
    assert result.outcome is Outcome.ERROR, result.message
    assert (
        "ould not verify: nothing was scanned: `[secrets] exclude` in launch-gate.toml leaves out all 3 files; "
        "narrow it." in result.message
    )
    assert "0 files" not in result.message


def test_a_repository_with_nothing_tracked_could_not_be_verified(project):
    root = project({"launch-gate.toml": "", ".gitignore": "*\n"})
    git("init", "-q", cwd=root)
    result = run_check(root, "secrets.repo")
    assert result.outcome is Outcome.ERROR, result.message
    assert result.message.startswith("could not verify: nothing was scanned: git lists no files here")


def test_an_empty_bundle_directory_could_not_be_verified(project):
    root = repo(project, {"dist/app.js": "var a = 1;\n"}, '[secrets]\nbundle-dirs = ["dist", "build"]\n')
    (root / "build" / "assets").mkdir(parents=True)  # created, never built into
    result = run_check(root, "secrets.bundle")
    assert result.outcome is Outcome.ERROR, result.message
    assert "could not verify: nothing was scanned: bundle directory build is empty; " in result.message
    assert "build the client bundle before the gate runs" in result.message


def test_a_bundle_scan_that_excludes_every_file_could_not_be_verified(project):
    config = '[secrets]\nbundle-dirs = ["dist"]\nexclude = ["dist"]\n'
    root = repo(project, {"dist/app.js": "var a = 1;\n"}, config)
    result = run_check(root, "secrets.bundle")
    assert result.outcome is Outcome.ERROR, result.message
    assert "leaves out the only file; narrow it." in result.message


# --- what a push sends: every file version its new commits add, not the work tree ---------------------------


def scan_push(root: Path, stdin: str, environ: dict[str, str] | None = None) -> CheckResult:
    """`secrets.diff` as `launch-gate pre-push` runs it, told the refs git would pass the hook."""
    from launch_gate.checks import Context
    from launch_gate.runner import build_plan, run_plan
    from launch_gate.secretscan.sources import read_push

    settings = load_settings(cwd=root, environ={})
    context = Context(settings, dict(environ or {}), push=read_push(stdin))
    [result] = run_plan(build_plan(settings, "all", ["secrets.diff"]), context).results
    return result


def sha(root: Path, rev: str = "HEAD") -> str:
    return git("rev-parse", rev, cwd=root).stdout.strip()


ZERO = "0" * 40


def test_a_push_scans_each_commits_version_not_the_work_tree(project):
    root = repo(project, {"app/ok.py": "x = 1\n"})
    base = sha(root)
    (root / "app/keys.py").write_text(f'AWS = "{PLANTED.aws_key_id}"\n')
    commit_all(root, "add keys")
    (root / "app/keys.py").write_text("AWS = None\n")
    commit_all(root, "remove them")  # the first version is pushed all the same
    (root / "app/ok.py").write_text(f'STRIPE = "{PLANTED.stripe_live}"\n')  # not committed: not pushed
    result = scan_push(root, f"refs/heads/main {sha(root)} refs/heads/main {base}\n")
    assert result.outcome is Outcome.FAIL
    assert found(result) == {"app/keys.py": {"AWS Access Key"}}
    assert "2 files changed by 2 new commits being pushed" not in result.message  # one path, two versions
    assert "1 file changed by 2 new commits being pushed" in result.message


def test_pre_commits_range_is_scanned_as_commits_too(project):
    root = repo(project, {"a.py": "x = 1\n"})
    base = sha(root)
    (root / "b.py").write_text(f'K = "{PLANTED.stripe_live}"\n')
    commit_all(root)
    (root / "b.py").unlink()  # deleted in the work tree, still in the commit being pushed
    result = run_check(root, "secrets.diff", {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": sha(root)})
    assert result.outcome is Outcome.FAIL
    assert set(found(result)) == {"b.py"}
    assert f"1 file changed since {base} (1 new commit)" in result.message


def test_a_pushed_version_too_large_to_scan_is_an_error_naming_it(project):
    root = repo(project, {"a.py": "x = 1\n"}, "[secrets]\nmax-file-bytes = 1000\n")
    base = sha(root)
    (root / "dump.sql").write_text("-- " + "x" * 5000 + "\n")
    commit_all(root)
    result = scan_push(root, f"HEAD {sha(root)} refs/heads/main {base}\n")
    assert result.outcome is Outcome.ERROR
    assert not_scanned(result) == {"dump.sql": "not scanned: 5004 bytes, over the 1000-byte limit"}


def test_exclude_and_the_baseline_apply_to_pushed_files(project):
    root = repo(project, {"a.py": "x = 1\n"}, '[secrets]\nexclude = ["tests/fixtures"]\n')
    base = sha(root)
    (root / "tests/fixtures").mkdir(parents=True)
    (root / "tests/fixtures/keys.py").write_text(f'K = "{PLANTED.stripe_live}"\n')
    (root / "app.py").write_text(f'J = "{PLANTED.jwt}"\n')
    commit_all(root)
    blocked = scan_push(root, f"HEAD {sha(root)} refs/heads/main {base}\n")
    assert set(found(blocked)) == {"app.py"}
    (root / ".secrets.baseline").write_text(json.dumps(baseline_for(root)))
    commit_all(root, "accept the fixture's token")
    accepted = scan_push(root, f"HEAD {sha(root)} refs/heads/main {base}\n")
    assert accepted.outcome is Outcome.PASS, accepted.message
    assert "accepted by baseline or waiver" in accepted.message


def test_a_push_that_only_deletes_files_passes_saying_so(project):
    root = repo(project, {"a.py": "x = 1\n", "b.py": "y = 2\n"})
    base = sha(root)
    (root / "b.py").unlink()
    commit_all(root)
    result = scan_push(root, f"HEAD {sha(root)} refs/heads/main {base}\n")
    assert result.outcome is Outcome.PASS
    assert result.message == "1 new commit being pushed adds or changes no file (deletions only)"


def test_commits_git_cannot_find_could_not_be_verified(project):
    root = repo(project, {"a.py": "x = 1\n"})
    result = scan_push(root, f"HEAD {'1' * 40} refs/heads/main {ZERO}\n")
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith("could not verify: git could not list the commits being pushed")


def test_a_merge_is_scanned_for_what_it_adds_itself(project):
    root = repo(project, {"a.py": "x = 1\n"})
    base = sha(root)
    git("checkout", "-qb", "side", cwd=root)
    (root / "side.py").write_text("s = 1\n")
    commit_all(root, "side")
    git("checkout", "-q", "-", cwd=root)
    (root / "main.py").write_text("m = 1\n")
    commit_all(root, "main")
    assert git("merge", "-q", "--no-commit", "side", cwd=root).returncode == 0
    (root / "a.py").write_text(f'K = "{PLANTED.stripe_live}"\n')  # slipped into the merge commit itself
    commit_all(root, "merge")
    result = scan_push(root, f"HEAD {sha(root)} refs/heads/main {base}\n")
    assert set(found(result)) == {"a.py"}
    assert "by 3 new commits" in result.message


def test_a_file_that_becomes_a_directory_within_the_push_is_scanned_in_both_shapes(project):
    root = repo(project, {"a.py": "x = 1\n"})
    base = sha(root)
    (root / "config").write_text(f'K = "{PLANTED.stripe_live}"\n')
    commit_all(root)
    (root / "config").unlink()
    (root / "config").mkdir()
    (root / "config" / "prod.py").write_text(f'J = "{PLANTED.jwt}"\n')
    commit_all(root)
    result = scan_push(root, f"HEAD {sha(root)} refs/heads/main {base}\n")
    assert set(found(result)) == {"config", "config/prod.py"}
