"""dns.* against a real DNS server on loopback."""

from collections.abc import Iterator

import pytest

from launch_gate.results import Outcome
from tests.conftest import run_check
from tests.servers import DnsServer, Zone


@pytest.fixture
def zone() -> Zone:
    return {
        ("example.test", "A"): ["127.0.0.1"],
        ("www.example.test", "A"): ["127.0.0.1"],
        ("api.example.test", "AAAA"): ["::1"],
        ("admin.example.test", "A"): ["127.0.0.2"],
        ("example.test", "CAA"): ['0 issue "letsencrypt.org"'],
    }


@pytest.fixture
def dns_server(zone) -> Iterator[DnsServer]:
    with DnsServer(zone).running() as server:
        yield server


def gate(project, dns_server, subdomains: str = '["api", "admin.example.test"]'):
    config = (
        'target = "https://www.example.test/"\n'
        f'[net]\nnameservers = ["{dns_server.address}"]\nprobe-timeout = 1\n[dns]\nsubdomains = {subdomains}\n'
    )
    root = project({"launch-gate.toml": config})
    return lambda check_id: run_check(root, check_id)


def test_target_twin_and_subdomains_resolve(project, dns_server):
    result = gate(project, dns_server)("dns.resolves")
    assert result.outcome is Outcome.PASS, result.message
    for name in ("www.example.test", "example.test", "api.example.test (::1)", "admin.example.test"):
        assert name in result.message


def test_a_subdomain_that_does_not_resolve_fails_by_name(project, dns_server):
    result = gate(project, dns_server, '["api", "billing"]')("dns.resolves")
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith("billing.example.test do not resolve")


def test_the_apex_twin_is_checked_too(project, zone, dns_server):
    del zone[("example.test", "A")]
    del zone[("example.test", "CAA")]
    result = gate(project, dns_server, "[]")("dns.resolves")
    assert result.outcome is Outcome.FAIL
    assert "example.test has no A or AAAA record" in [f.message for f in result.findings]


@pytest.mark.parametrize("mode", ["servfail", "drop"])
def test_a_resolver_failure_is_could_not_verify(project, dns_server, mode):
    dns_server.mode = mode
    for check_id in ("dns.resolves", "dns.caa"):
        assert gate(project, dns_server)(check_id).outcome is Outcome.ERROR


def test_caa_is_found_up_the_tree_and_its_absence_is_a_warning(project, zone, dns_server):
    result = gate(project, dns_server)("dns.caa")
    assert result.outcome is Outcome.PASS
    assert "CAA at example.test" in result.message
    del zone[("example.test", "CAA")]
    result = gate(project, dns_server)("dns.caa")
    assert result.outcome is Outcome.WARN
    assert 'CAA 0 issue "letsencrypt.org"' in result.message
