"""tls.* against uvicorn with trustme certificates on loopback, reached through connect-to."""

from datetime import UTC, datetime, timedelta

import pytest

from launch_gate.results import Outcome
from tests.conftest import run_check
from tests.net.test_http import echo
from tests.servers import tls_server

NOW = datetime.now(UTC)


def gate(project, port, ca_file, with_ca: bool = True, hosts=("www.example.test", "example.test")):
    routes = ", ".join(f'"{h}:443:127.0.0.1:{port}"' for h in hosts)
    config = f'target = "https://www.example.test"\n[net]\nconnect-to = [{routes}]\nprobe-timeout = 3\n'
    if with_ca:
        config += f'ca-bundle = "{ca_file}"\n'
    root = project({"launch-gate.toml": config})
    return lambda check_id: run_check(root, check_id)


def serve(tmp_path, names=("www.example.test", "example.test"), days_left=80.0, lifetime=90.0):
    return tls_server(
        echo, list(names), tmp_path, not_before=NOW - timedelta(days=lifetime - days_left),
        not_after=NOW + timedelta(days=days_left),
    )  # fmt: skip


def test_a_valid_certificate_for_both_names_passes(project, tmp_path):
    with serve(tmp_path) as (port, ca):
        check = gate(project, port, ca)
        certificate, expiry = check("tls.certificate"), check("tls.expiry")
    assert certificate.outcome is Outcome.PASS, certificate.message
    assert "www.example.test, example.test" in certificate.message
    assert expiry.outcome is Outcome.PASS, expiry.message


def test_a_certificate_missing_the_apex_fails_for_the_apex(project, tmp_path):
    with serve(tmp_path, names=("www.example.test",)) as (port, ca):
        result = gate(project, port, ca)("tls.certificate")
    assert result.outcome is Outcome.FAIL
    assert [f.message.split(":")[0] for f in result.findings] == ["example.test"]
    assert "mismatch" in result.message.lower()


def test_an_untrusted_chain_fails(project, tmp_path):
    with serve(tmp_path) as (port, ca):
        result = gate(project, port, ca, with_ca=False)("tls.certificate")
    assert result.outcome is Outcome.FAIL
    assert "unable to get local issuer certificate" in result.message


@pytest.mark.parametrize(
    ("days_left", "outcome"), [(20, Outcome.WARN), (3, Outcome.FAIL), (-1, Outcome.FAIL)]
)
def test_expiry_thresholds(project, tmp_path, days_left, outcome):
    with serve(tmp_path, days_left=days_left) as (port, ca):
        result = gate(project, port, ca)("tls.expiry")
    assert result.outcome is outcome, result.message
    assert "days left" in result.message


def test_an_expired_certificate_also_fails_verification(project, tmp_path):
    with serve(tmp_path, days_left=-1) as (port, ca):
        result = gate(project, port, ca)("tls.certificate")
    assert result.outcome is Outcome.FAIL
    assert "expired" in result.message


def test_a_short_lived_certificate_is_judged_by_its_lifetime(project, tmp_path):
    with serve(tmp_path, days_left=4, lifetime=6) as (port, ca):
        result = gate(project, port, ca)("tls.expiry")
    assert result.outcome is Outcome.PASS, result.message  # 4 of 6 days left is healthy


def test_an_unreachable_host_could_not_be_verified(project, tmp_path):
    with serve(tmp_path) as (port, ca):
        pass  # the server is gone: the port refuses connections
    check = gate(project, port, ca)
    for check_id in ("tls.certificate", "tls.expiry"):
        result = check(check_id)
        assert result.outcome is Outcome.ERROR, result.message
        assert "no TLS connection" in result.message
