"""email.* against a real authoritative DNS server on loopback: the good zone passes, each fault is reported."""

import base64
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from launch_gate.results import Outcome
from launch_gate.rules.mailauth import SpfSyntaxError, dkim_key_bits, parse_dmarc, parse_spf
from tests.conftest import run_check
from tests.servers import DnsServer, Zone


def dkim_record(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    p = base64.b64encode(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()
    chunks = [p[i : i + 200] for i in range(0, len(p), 200)]  # TXT character-strings hold 255 bytes at most
    return " ".join(f'"{c}"' for c in ["v=DKIM1; k=rsa; p=" + chunks[0], *chunks[1:]])


def good_zone() -> Zone:
    return {
        ("example.test", "A"): ["127.0.0.1"],
        ("example.test", "MX"): ["10 mail.example.test."],
        ("mail.example.test", "A"): ["127.0.0.1"],
        ("example.test", "TXT"): [
            '"v=spf1 mx include:_spf.provider.test -all"',
            '"google-site-verification=abc"',
        ],
        ("_spf.provider.test", "TXT"): ['"v=spf1 ip4:127.0.0.0/8 ~all"'],
        ("_dmarc.example.test", "TXT"): ['"v=DMARC1; p=reject; rua=mailto:dmarc@example.test"'],
        ("s1._domainkey.example.test", "TXT"): [dkim_record(2048)],
    }


@pytest.fixture
def zone() -> Zone:
    return good_zone()


@pytest.fixture
def dns_server(zone) -> Iterator[DnsServer]:
    with DnsServer(zone).running() as server:
        yield server


def gate(project, dns_server, extra: str = ""):
    config = (
        'target = "https://www.example.test"\n'
        f'[net]\nnameservers = ["{dns_server.address}"]\nprobe-timeout = 1\n'
        '[email]\ndkim-selectors = ["s1"]\n' + extra
    )
    root = project({"launch-gate.toml": config})
    return lambda check_id: run_check(root, check_id)


@pytest.mark.parametrize("check_id", ["email.spf", "email.dmarc", "email.dkim", "email.mx"])
def test_a_well_configured_domain_passes(project, dns_server, check_id):
    result = gate(project, dns_server)(check_id)
    assert result.outcome is Outcome.PASS, result.message


def test_spf_counts_lookups_through_includes(project, dns_server):
    result = gate(project, dns_server)("email.spf")
    assert "2 of 10 DNS lookups" in result.message  # mx, include


def test_spf_over_ten_lookups_fails(project, zone, dns_server):
    first = " ".join(f"include:i{n}.example.test" for n in range(6))
    rest = " ".join(f"include:i{n}.example.test" for n in range(6, 11))
    zone[("example.test", "TXT")] = [
        f'"v=spf1 {first} " "{rest} -all"'
    ]  # two strings: 255 bytes each at most
    for n in range(11):
        zone[(f"i{n}.example.test", "TXT")] = ['"v=spf1 -all"']
    result = gate(project, dns_server)("email.spf")
    assert result.outcome is Outcome.FAIL
    assert "11 DNS-querying terms" in result.message or any("11 DNS" in f.message for f in result.findings)


def test_spf_with_more_than_two_void_lookups_fails(project, zone, dns_server):
    zone[("example.test", "TXT")] = ['"v=spf1 a:n1.example.test a:n2.example.test a:n3.example.test -all"']
    result = gate(project, dns_server)("email.spf")
    assert result.outcome is Outcome.FAIL
    assert any("3 void lookups" in f.message for f in result.findings)


@pytest.mark.parametrize("ending", ["+all", "?all", "all"])
def test_spf_that_lets_anyone_send_fails(project, zone, dns_server, ending):
    zone[("example.test", "TXT")] = [f'"v=spf1 mx {ending}"']
    result = gate(project, dns_server)("email.spf")
    assert result.outcome is Outcome.FAIL
    assert "any server may send" in result.message


def test_two_spf_records_fail(project, zone, dns_server):
    zone[("example.test", "TXT")] = ['"v=spf1 -all"', '"v=spf1 mx -all"']
    assert "2 SPF records" in gate(project, dns_server)("email.spf").message


def test_an_include_without_spf_is_a_permanent_error(project, zone, dns_server):
    zone[("example.test", "TXT")] = ['"v=spf1 include:gone.provider.test -all"']
    result = gate(project, dns_server)("email.spf")
    assert result.outcome is Outcome.FAIL
    assert "include:gone.provider.test has no SPF record" in result.message


def test_no_spf_record_fails_with_what_to_publish(project, zone, dns_server):
    zone[("example.test", "TXT")] = ['"google-site-verification=abc"']
    result = gate(project, dns_server)("email.spf")
    assert result.outcome is Outcome.FAIL
    assert "v=spf1 include:" in result.message


def test_dmarc_p_none_fails_against_the_minimum(project, zone, dns_server):
    zone[("_dmarc.example.test", "TXT")] = ['"v=DMARC1; p=none; rua=mailto:d@example.test"']
    result = gate(project, dns_server)("email.dmarc")
    assert result.outcome is Outcome.FAIL
    assert "p=none" in result.message
    assert gate(project, dns_server, 'dmarc-min-policy = "none"\n')("email.dmarc").outcome is Outcome.PASS


def test_dmarc_without_reports_is_a_warning(project, zone, dns_server):
    zone[("_dmarc.example.test", "TXT")] = ['"v=DMARC1; p=quarantine"']
    result = gate(project, dns_server)("email.dmarc")
    assert result.outcome is Outcome.WARN
    assert "no rua=" in result.message


def test_missing_dmarc_fails(project, zone, dns_server):
    del zone[("_dmarc.example.test", "TXT")]
    assert gate(project, dns_server)("email.dmarc").outcome is Outcome.FAIL


def test_missing_dkim_key_fails_and_a_short_key_warns(project, zone, dns_server):
    del zone[("s1._domainkey.example.test", "TXT")]
    result = gate(project, dns_server)("email.dkim")
    assert result.outcome is Outcome.FAIL
    assert "s1._domainkey.example.test: no DKIM key published" in result.message
    zone[("s1._domainkey.example.test", "TXT")] = [dkim_record(1024)]
    assert gate(project, dns_server)("email.dkim").outcome is Outcome.WARN


def test_no_mx_fails(project, zone, dns_server):
    del zone[("example.test", "MX")]
    assert gate(project, dns_server)("email.mx").outcome is Outcome.FAIL


@pytest.mark.parametrize("mode", ["servfail", "refused", "drop"])
@pytest.mark.parametrize("check_id", ["email.spf", "email.dmarc", "email.dkim", "email.mx"])
def test_a_resolver_failure_is_could_not_verify_never_absent(project, dns_server, mode, check_id):
    dns_server.mode = mode
    result = gate(project, dns_server)(check_id)
    assert result.outcome is Outcome.ERROR, result.message
    assert "could not verify" in result.message


def test_the_mail_domain_is_the_organizational_domain_of_the_target(project, dns_server):
    gate(project, dns_server)("email.mx")
    assert ("example.test", "MX") in dns_server.queries


def test_without_target_or_domain_the_checks_skip(project):
    root = project({"launch-gate.toml": ""})
    assert run_check(root, "email.spf").outcome is Outcome.SKIP


@pytest.mark.parametrize(
    "record", ["v=spf1 include -all", "v=spf1 foo:bar -all", "spf1 -all", "v=spf1 redirect=a redirect=b"]
)
def test_spf_syntax_errors(record):
    with pytest.raises(SpfSyntaxError):
        parse_spf(record)


def test_dmarc_and_dkim_parsing():
    assert parse_dmarc("v=DMARC1; p=Reject; sp=none; pct=50").pct == 50
    with pytest.raises(ValueError, match="p= must be"):
        parse_dmarc("v=DMARC1; rua=mailto:x@y")
    assert dkim_key_bits("v=DKIM1; p=") is None
    with pytest.raises(ValueError, match="not a valid public key"):
        dkim_key_bits("v=DKIM1; p=bm90IGEga2V5")
