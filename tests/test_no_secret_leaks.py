"""Planted secrets must never reach stdout, stderr, JSON, Markdown, JUnit, annotations or outputs."""

import subprocess
import sys

from tests.conftest import base_env, run_cli

STRIPE_TEST = "sk_test_51PlantedSecretValue9x8y7z6w"
DB_PASSWORD = "pl4nted-db-pass-7731"
SESSION = "planted-session-secret-0042"
CONFIG = """
[tool.launch-gate]
environment = "production"

[tool.launch-gate.env]
required = ["DATABASE_URL", "SESSION_SECRET", "SMTP_PASSWORD"]

[tool.launch-gate.checks]
deps = "off"  # tests never reach PyPI
"""
SECRETS = (STRIPE_TEST, DB_PASSWORD, SESSION)


def planted_env(tmp) -> dict[str, str]:
    return base_env(
        STRIPE_SECRET_KEY=STRIPE_TEST,
        DATABASE_URL=f"postgres://app:{DB_PASSWORD}@db.internal/app",
        SESSION_SECRET=SESSION,
        SMTP_PASSWORD="changeme",
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp / "gh-output"),
        GITHUB_STEP_SUMMARY=str(tmp / "gh-summary.md"),
    )


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_cli_outputs_never_contain_the_secret_values(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    done = run_cli(
        "check",
        "--phase",
        "pre",
        "--report-json",
        "r.json",
        "--summary-md",
        "s.md",
        cwd=root,
        env=planted_env(tmp_path),
    )
    assert done.returncode == 1  # the test key and the placeholder both fail
    assert "STRIPE_SECRET_KEY" in done.stdout
    assert "SMTP_PASSWORD" in done.stdout
    assert "::error title=launch-gate env.test-keys::" in done.stdout
    files = [root / "r.json", root / "s.md", tmp_path / "gh-output", tmp_path / "gh-summary.md"]
    assert_clean(done.stdout, done.stderr, *(f.read_text() for f in files))


def test_pytest_outputs_never_contain_the_secret_values(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--launch-gate",
            "-rA",
            "-p",
            "no:cacheprovider",
            "--junitxml=junit.xml",
        ],
        cwd=root,
        env=planted_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout
    assert "env.test-keys" in done.stdout
    assert_clean(done.stdout, done.stderr, (root / "junit.xml").read_text())


def test_a_configuration_error_does_not_echo_a_secret_value(project, tmp_path):
    root = project({"pyproject.toml": CONFIG})
    env = planted_env(tmp_path) | {"LAUNCH_GATE_TIMEOUT": STRIPE_TEST}
    done = run_cli("check", cwd=root, env=env)
    assert done.returncode == 4
    assert "LAUNCH_GATE_TIMEOUT" in done.stderr
    assert_clean(done.stdout, done.stderr)
