"""deps.audit: the real pip-audit against a vulnerability feed on loopback, through a proxy with real TLS."""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from launch_gate.results import CheckResult, Outcome
from tests.conftest import run_check
from tests.vulnservice import VulnService

LOCKED = '[deps]\nrequirements = ["requirements.txt"]\nlocked = true\nrequest-timeout = 3\n'


@pytest.fixture
def service(tmp_path_factory, monkeypatch) -> Iterator[VulnService]:
    feed = VulnService(tmp_path_factory.mktemp("vuln"))
    with feed.running():
        for name, value in feed.env().items():
            monkeypatch.setenv(name, value)
        yield feed


def audit(project, requirements: str, extra: str = "") -> CheckResult:
    return run_check(
        project({"launch-gate.toml": LOCKED + extra, "requirements.txt": requirements}), "deps.audit"
    )


def test_a_vulnerable_dependency_fails_naming_id_package_and_versions(project, service):
    result = audit(project, "requests==2.31.0\nflask==0.12.2  # web\n")
    assert result.outcome is Outcome.FAIL, result.message
    [finding] = result.findings
    assert finding.message == "flask 0.12.2: PYSEC-2018-66 (CVE-2018-1000656), fixed in 0.12.3"
    assert (finding.file, finding.line) == ("requirements.txt", 2)
    assert any("/pypi/flask/0.12.2/json" in r for r in service.requests)


def test_clean_dependencies_pass(project, service):
    result = audit(project, "requests==2.31.0\n")
    assert result.outcome is Outcome.PASS, result.message
    assert "no known vulnerabilities in 1 dependency of" in result.message


@pytest.mark.parametrize("mode", ["outage", "hang", "malformed"])
def test_a_broken_service_could_not_be_verified(project, service, mode):
    service.mode = mode
    result = audit(project, "flask==0.12.2\n")
    assert result.outcome is Outcome.ERROR, result.message
    assert result.message.startswith("could not verify")


def test_an_empty_answer_is_caught_by_the_canary(project, service):
    service.mode = "empty"  # pip-audit alone reads `{}` as "no vulnerabilities" and exits 0
    result = audit(project, "flask==0.12.2\n")
    assert result.outcome is Outcome.ERROR, result.message
    assert "canary django==3.2" in result.message


def test_a_dependency_pip_audit_skipped_is_an_error_not_clean(project, service):
    service.missing.add("internal-billing")
    result = audit(project, "requests==2.31.0\ninternal-billing==1.0\n")
    assert result.outcome is Outcome.ERROR
    assert "internal-billing was not audited" in result.message


def test_pip_audit_that_does_not_finish_is_an_error(project, service):
    service.mode = "hang"
    result = audit(project, "flask==0.12.2\n", "timeout = 1\n")
    assert result.outcome is Outcome.ERROR
    assert "did not finish within 1 s" in result.message


def waiver(vuln_id: str, expires: date) -> str:
    return f'[[deps.waivers]]\nid = "{vuln_id}"\nreason = "not reachable: we never parse JSON"\nexpires = {expires}\n'


def test_a_waiver_by_id_or_alias_accepts_until_it_expires(project, service):
    tomorrow, yesterday = date.today() + timedelta(days=1), date.today() - timedelta(days=1)
    assert audit(project, "flask==0.12.2\n", waiver("CVE-2018-1000656", tomorrow)).outcome is Outcome.PASS
    expired = audit(project, "flask==0.12.2\n", waiver("PYSEC-2018-66", yesterday))
    assert expired.outcome is Outcome.FAIL
    assert "expired" in expired.message


def test_missing_requirements_file_is_a_configuration_error(project):
    result = run_check(project({"launch-gate.toml": '[deps]\nrequirements = ["nope.txt"]\n'}), "deps.audit")
    assert result.outcome is Outcome.ERROR
    assert "nope.txt, which does not exist" in result.message


def test_the_proxy_only_serves_pypi(service):
    import socket

    with socket.create_connection(("127.0.0.1", service.port), timeout=5) as sock:
        sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 403")
    assert Path(service.ca_path).read_text().startswith("-----BEGIN CERTIFICATE-----")


def run_deps(root: Path) -> CheckResult:
    return run_check(root, "deps.audit")


def test_the_environment_source_audits_every_installed_distribution(project, service):
    root = project({"launch-gate.toml": '[deps]\nsource = "environment"\nrequest-timeout = 5\n'})
    result = run_deps(root)
    assert result.outcome is Outcome.PASS, result.message
    assert "of the environment of" in result.message
    audited = {r.split("/")[2] for r in service.requests if r.startswith("/pypi/")}
    assert {"pytest", "pip-audit", "detect-secrets"} <= audited


def test_auto_finds_a_root_requirements_file_and_never_silently_audits_the_environment(project, service):
    assert (
        run_deps(
            project({"requirements.txt": "flask==0.12.2\n", "launch-gate.toml": "[deps]\nlocked = true\n"})
        ).outcome
        is Outcome.FAIL
    )
    (Path.cwd() / "requirements.txt").unlink()
    result = run_deps(Path.cwd())
    assert result.outcome is Outcome.SKIP
    assert 'source = "environment"' in result.message
