"""Lookups against a real DNS server on loopback: found, absent, and unanswered kept apart."""

import asyncio

import pytest

from launch_gate.errors import ConfigError
from launch_gate.net.addresses import parse_nameserver
from launch_gate.net.dns import Status, lookup, resolver
from tests.servers import DnsServer

ZONE = {
    ("example.test", "A"): ["127.0.0.1"],
    ("www.example.test", "A"): ["127.0.0.1"],
    ("example.test", "TXT"): ['"v=spf1 include:_spf.mail.example.test -all"'],
    ("_dmarc.example.test", "TXT"): ['"v=DMARC1; p=reject; " "rua=mailto:dmarc@example.test"'],
}


@pytest.fixture
def dns_server():
    with DnsServer(ZONE).running() as server:
        yield server


def ask(server, name, rdtype, timeout=2.0):
    return asyncio.run(lookup(resolver([server.address], timeout), name, rdtype))


def test_records_are_found_through_the_configured_nameserver(dns_server):
    answer = ask(dns_server, "www.example.test", "A")
    assert (answer.status, answer.records) == (Status.FOUND, ("127.0.0.1",))
    assert ("www.example.test", "A") in dns_server.queries


def test_txt_character_strings_are_joined_as_spf_and_dmarc_read_them(dns_server):
    answer = ask(dns_server, "_dmarc.example.test", "TXT")
    assert answer.records == ("v=DMARC1; p=reject; rua=mailto:dmarc@example.test",)


def test_a_name_that_does_not_exist_is_absent(dns_server):
    answer = ask(dns_server, "api.example.test", "A")
    assert answer.status is Status.ABSENT
    assert "NXDOMAIN" in answer.detail


def test_a_name_without_records_of_the_type_is_absent(dns_server):
    assert ask(dns_server, "www.example.test", "TXT").status is Status.ABSENT


@pytest.mark.parametrize(
    ("mode", "words"), [("servfail", "SERVFAIL"), ("refused", "REFUSED"), ("drop", "timed out")]
)
def test_a_failing_server_is_unanswered_never_absent(dns_server, mode, words):
    dns_server.mode = mode
    answer = ask(dns_server, "www.example.test", "A", timeout=0.5)
    assert answer.status is Status.UNANSWERED
    assert words in answer.detail


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("1.1.1.1", ("1.1.1.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)), ("[::1]:53", ("::1", 53))],
)
def test_nameserver_forms(text, parsed):
    assert parse_nameserver(text) == parsed


def test_bad_nameservers_are_configuration_errors():
    with pytest.raises(ConfigError, match="a port is a number from 1 to 65535") as raised:
        parse_nameserver("127.0.0.1:dns")
    assert "127.0.0.1:dns" not in str(raised.value)  # values are never echoed
    with pytest.raises(ConfigError, match="same port"):
        resolver(["127.0.0.1:5353", "127.0.0.2:53"])


def test_settings_point_the_resolver_at_the_configured_nameserver(dns_server, project):
    from launch_gate.config import load_settings
    from launch_gate.net import dns_resolver

    root = project(
        {"launch-gate.toml": f'[net]\nnameservers = ["{dns_server.address}"]\nprobe-timeout = 2\n'}
    )
    res = dns_resolver(load_settings(cwd=root, environ={}))
    assert asyncio.run(lookup(res, "example.test", "A")).records == ("127.0.0.1",)
