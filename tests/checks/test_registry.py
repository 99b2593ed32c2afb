"""The registry: one decorator declares a check; the id prefix is the module's (or the entry point's) name; a
check that needs a target skips with its own sentence; a third-party package adds checks through the
`launch_gate.checks` entry-point group and runs under the CLI and pytest like a built-in one."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from launch_gate.checks import Context, Outcome, Phase, Verdict, all_checks, check
from launch_gate.config import load_settings
from launch_gate.runner import build_plan, make_context, run_plan

EXAMPLE = Path(__file__).parents[2] / "examples" / "third_party_check"
CONFIGURED = """
[smoke.flows.signup]
steps = [{ path = "/" }]

[latency.routes]
home = "/"
"""
# Today's sentences, one per check: the guard must say exactly what each check said when it skipped itself.
NO_TARGET = {
    "dns.resolves": "no target: set `target` (the canonical URL) to check DNS.",
    "dns.caa": "no target: set `target` (the canonical URL) to check DNS.",
    "tls.certificate": "no https target: set `target` to check certificates.",
    "tls.expiry": "no https target: set `target` to check certificates.",
    "domain.redirects": "no target: set `target` to the canonical URL.",
    "headers.hsts": "no https target: set `target` to check HSTS.",
    "headers.security": "no target: set `target` to check security headers.",
    "headers.cookies": "no target: set `target` to check cookies.",
    "headers.cors": "no target: set `target` to check CORS.",
    "headers.cache": "no target: set `target` to check caching.",
    "exposure.files": "no target: set `target` to check for exposed files.",
    "exposure.errors": "no target: set `target` to check error pages.",
    "email.spf": "no mail domain: set `target` or [tool.launch-gate.email] domain.",
    "email.dmarc": "no mail domain: set `target` or [tool.launch-gate.email] domain.",
    "email.dkim": "no mail domain: set `target` or [tool.launch-gate.email] domain.",
    "email.mx": "no mail domain: set `target` or [tool.launch-gate.email] domain.",
    "smoke.signup": "no target: set `target` to run smoke flows.",
    "latency.home": "no target: set `target` to measure latency.",
    "domain.registration": "no target: set `target` (a domain name) or [registration] domain to look it up.",
    "edge.protection": "no target: set `target` to check what stands in front of the site.",
    "health.dependencies": "no target: set `target` to check the health endpoint.",
    "security.ownership": "no target: set `target` to check ownership.",
    "security.rate-limits": "no target: set `target` to check rate limits.",
    "security.logs": "no target: set `target` to read the app's logs after the flows.",
    "security.inputs": "no target: set `target` to probe the API with bad input.",
}


def test_with_no_target_every_post_check_skips_with_its_own_sentence(project):
    settings = load_settings(cwd=project({"launch-gate.toml": CONFIGURED}), environ={})
    report = run_plan(build_plan(settings, "post"), make_context(settings, {}))
    assert {r.id: (r.outcome, r.message) for r in report.results} == {
        check_id: (Outcome.SKIP, message) for check_id, message in NO_TARGET.items()
    }


def test_an_http_target_skips_only_the_checks_that_need_https(project):
    settings = load_settings(
        cwd=project({"launch-gate.toml": 'target = "http://127.0.0.1:9/"\n'}), environ={}
    )
    report = run_plan(build_plan(settings, "post", ["tls", "headers.hsts"]), make_context(settings, {}))
    assert {r.id: r.message for r in report.results} == {
        c: NO_TARGET[c] for c in ("tls.certificate", "tls.expiry", "headers.hsts")
    }


def _declared_in(module: str):
    def func(ctx: Context) -> Verdict:
        return Verdict.of(Outcome.PASS, "never run")

    func.__module__ = module
    return func


def test_a_built_in_check_whose_prefix_is_not_its_modules_name_is_refused_at_registration():
    with pytest.raises(AssertionError, match=r"dns.elsewhere is declared in launch_gate.checks.tls"):
        check("dns.elsewhere", Phase.POST, "wrongly placed")(_declared_in("launch_gate.checks.tls"))


def test_a_check_id_declared_twice_is_refused():
    all_checks()  # dns.caa registered first, as it always is before anything runs
    with pytest.raises(AssertionError, match=r"dns\.caa is declared twice"):
        check("dns.caa", Phase.POST, "again")(_declared_in("launch_gate.checks.dns"))


def plugin_env(tmp_path: Path, entry: str = "license = launch_gate_example.checks") -> dict[str, str]:
    """An installed third-party package, as pip would leave it, without installing anything: its source on
    PYTHONPATH and a dist-info folder that declares the entry point."""
    site = tmp_path / "site"
    info = site / "launch_gate_example-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: launch-gate-example\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[launch_gate.checks]\n{entry}\n")
    (site / "broken_plugin.py").write_text("import a_package_that_is_not_installed\n")
    path = os.pathsep.join([str(site), str(EXAMPLE / "src"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep), "NO_COLOR": "1"}


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def licensed(project) -> Path:
    return project({"launch-gate.toml": "", "LICENSE": "MIT License\n"})


def test_a_third_party_check_is_listed_after_the_built_in_ones(tmp_path, licensed):
    done = run(plugin_env(tmp_path), licensed, "-m", "launch_gate", "list")
    assert done.returncode == 0, done.stderr
    ids = [line.split()[0] for line in done.stdout.splitlines()]
    assert ids[-1] == "license.present", ids
    assert "license.present          pre   the project root has a LICENSE file" in done.stdout
    assert ids[:-1] == [
        line.split()[0]
        for line in run({**os.environ}, licensed, "-m", "launch_gate", "list").stdout.splitlines()
    ]


def test_a_third_party_check_runs_under_the_command(tmp_path, licensed):
    env = plugin_env(tmp_path)
    done = run(env, licensed, "-m", "launch_gate", "check", "--phase", "pre", "--select", "license", "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "license.present" in done.stdout
    assert "LICENSE is present" in done.stdout
    (licensed / "LICENSE").unlink()
    failed = run(env, licensed, "-m", "launch_gate", "check", "--phase", "pre", "--select", "license")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "no license file" in failed.stdout


def test_a_third_party_check_runs_as_a_pytest_item(tmp_path, licensed):
    (licensed / "test_app.py").write_text("def test_app():\n    assert True\n")
    done = run(
        plugin_env(tmp_path),
        licensed,
        "-m",
        "pytest",
        "--launch-gate",
        "-k",
        "license",
        "-p",
        "no:cacheprovider",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "license.present" in done.stdout or "1 passed" in done.stdout, done.stdout
    assert "1 passed" in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("broken = broken_plugin", "the check plugin 'broken' (broken_plugin, entry point group launch_gate.checks) "
         "failed to import (ModuleNotFoundError: No module named 'a_package_that_is_not_installed')"),
        ("other = launch_gate_example.checks", "declares license.present: a plugin's check ids start with its "
         "entry point's name (other.)"),
    ],
)  # fmt: skip
def test_a_plugin_that_cannot_be_used_is_a_configuration_error_naming_it(tmp_path, licensed, entry, words):
    done = run(plugin_env(tmp_path, entry), licensed, "-m", "launch_gate", "list")
    assert done.returncode == 4, done.stdout + done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr
