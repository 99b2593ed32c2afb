"""The pre-push hook `launch-gate install-hook` writes, against `detect-secrets-hook --no-verify`, on one push.

A real git repository in a temporary directory, with a bare remote: a base commit is pushed, then a commit
that changes 50 code-like files (about 3.5 KB each) is "pushed" twice: once with a secret in one of them
(both tools must block: exit 1) and once clean (both must pass: exit 0). Our side is the installed hook
script itself, given the remote's name and URL as arguments and the refs on stdin, exactly as `git push`
runs it (so the figure includes finding launch-gate, loading the configuration and scanning the pushed
commits); the peer is detect-secrets' pre-commit hook given the same 50 files, as pre-commit would run it
(`--no-verify`: no network calls about what it finds; launch-gate never makes them). Both are console scripts
of this interpreter, run as fresh processes, alternating; medians over `--rounds`.
The environment holds no production variables; the configuration requires one (`DATABASE_URL`) to show the
hook does not need it. Usage: python benchmarks/pre_push.py [--rounds 9] [--files 50]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 0.5
CONFIG = '[env]\nrequired = ["DATABASE_URL"]\n'
ZERO = "0" * 40


def console_script(name: str) -> str:
    """The console script installed beside this interpreter (not a version manager's shim), else PATH's."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: pip install -e '.[test]' installs both tools")
    return found


def environment(bin_dir: str) -> dict[str, str]:
    """A laptop's shell without production values: PATH with the console scripts and git, no DATABASE_URL."""
    git_dir = str(Path(shutil.which("git") or "/usr/bin/git").parent)
    env = {k: os.environ[k] for k in ("HOME", "LANG", "TMPDIR") if k in os.environ}
    env.update(
        PATH=os.pathsep.join([bin_dir, git_dir, "/usr/bin", "/bin"]),
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.test",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.test",
        GIT_CONFIG_NOSYSTEM="1",
        NO_COLOR="1",
    )
    return env


def git(root: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def code_file(rng: random.Random, number: int) -> str:
    lines = [f'"""Module {number} of the app."""\n']
    for j in range(60):
        lines.append(f"def handler_{j}(request):\n    return request.get('q{j}', {rng.randint(0, 10**6)})\n")
    return "".join(lines)


def secret(rng: random.Random) -> str:
    """A Stripe live key made at run time (no secret-shaped literal is committed)."""
    return "sk_" + "live_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))


def commit_files(
    root: Path, env: dict[str, str], names: list[str], rng: random.Random, planted: str | None
) -> str:
    for number, name in enumerate(names):
        text = code_file(rng, number)
        if planted is not None and number == len(names) // 2:
            text += f'STRIPE_KEY = "{planted}"\n'
        (root / name).write_text(text)
    git(root, env, "add", "-A")
    git(root, env, "commit", "-qm", "change 50 files" if planted is None else "change 50 files, one secret")
    return git(root, env, "rev-parse", "HEAD")


def timed(command: list[str], root: Path, env: dict[str, str], stdin: str = "") -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=root, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    return time.perf_counter() - started, done.returncode, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--files", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(12)  # noqa: S311 (test data, not cryptography)
    with tempfile.TemporaryDirectory(prefix="lg-pre-push-bench-") as temporary:
        top = Path(temporary)
        bin_dir = top / "bin"
        bin_dir.mkdir()
        (bin_dir / "launch-gate").symlink_to(console_script("launch-gate"))
        peer = console_script("detect-secrets-hook")
        env = environment(str(bin_dir))
        remote, root = top / "remote.git", top / "app"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], env=env, check=True)
        root.mkdir()
        git(root, env, "init", "-q")
        (root / "launch-gate.toml").write_text(CONFIG)
        names = [f"app/module_{n:02d}.py" for n in range(args.files)]
        (root / "app").mkdir()
        for number, name in enumerate(names):
            (root / name).write_text(code_file(rng, number))
        git(root, env, "add", "-A")
        git(root, env, "commit", "-qm", "base")
        git(root, env, "remote", "add", "origin", str(remote))
        git(root, env, "push", "-q", "origin", "HEAD:refs/heads/main")
        base = git(root, env, "rev-parse", "HEAD")
        subprocess.run(
            [str(bin_dir / "launch-gate"), "install-hook"], cwd=root, env=env, check=True, capture_output=True
        )
        hook = Path(git(root, env, "rev-parse", "--git-path", "hooks/pre-push"))
        hook = hook if hook.is_absolute() else root / hook

        planted = secret(rng)
        pushes = {"secret": commit_files(root, env, names, rng, planted)}
        git(root, env, "reset", "-q", "--hard", base)
        pushes["clean"] = commit_files(root, env, names, rng, None)

        rows = []
        for kind, sha in pushes.items():
            git(root, env, "checkout", "-q", sha)  # the work tree detect-secrets reads is the pushed commit
            stdin = f"refs/heads/main {sha} refs/heads/main {base}\n"
            ours: list[float] = []
            theirs: list[float] = []
            codes: set[tuple[int, int]] = set()
            leaked = False
            for _ in range(args.rounds):
                spent, code, out = timed([str(hook), "origin", str(remote)], root, env, stdin)
                ours.append(spent)
                leaked |= planted in out
                peer_spent, peer_code, _ = timed([peer, "--no-verify", *names], root, env)
                theirs.append(peer_spent)
                codes.add((code, peer_code))
            expected = (1, 1) if kind == "secret" else (0, 0)
            rows.append(
                {
                    "push": kind,
                    "launch_gate_s": round(statistics.median(ours), 3),
                    "detect_secrets_s": round(statistics.median(theirs), 3),
                    "exit_codes": sorted(codes),
                    "as_expected": codes == {expected},
                    "secret_printed": leaked,
                }
            )
    print(
        f"{'push':<8} {'files':>5} {'launch-gate':>12} {'detect-secrets':>15} {'ratio':>6}  exit codes (ours, peer)"
    )
    for row in rows:
        ratio = row["detect_secrets_s"] / row["launch_gate_s"]
        print(
            f"{row['push']:<8} {args.files:>5} {row['launch_gate_s']:>10.3f} s {row['detect_secrets_s']:>13.3f} s "
            f"{ratio:>5.2f}x  {row['exit_codes']}"
        )
    slowest = max(row["launch_gate_s"] for row in rows)
    peer_time = max(row["detect_secrets_s"] for row in rows)
    print(
        json.dumps(
            {
                "benchmark": "pre_push",
                "files": args.files,
                "rounds": args.rounds,
                "launch_gate_s": slowest,
                "detect_secrets_s": peer_time,
                "ratio": round(peer_time / slowest, 2),
                "budget_s": BUDGET_S,
                "within_budget": slowest < BUDGET_S,
                "blocks_and_passes_as_expected": all(row["as_expected"] for row in rows),
                "secret_printed": any(row["secret_printed"] for row in rows),
            }
        )
    )


if __name__ == "__main__":
    main()
