"""connect-to and the CA bundle against uvicorn with TLS on loopback: right Host, right name verified."""

import asyncio
import json

import httpx
import pytest

from launch_gate.errors import ConfigError
from launch_gate.net.addresses import ConnectTo
from launch_gate.net.http import HttpOptions, async_client, client
from tests.servers import DnsServer, tls_server


async def echo(scope, receive, send):
    """Answers with the Host header and path it was asked for."""
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    body = json.dumps({"host": headers.get("host"), "path": scope["path"]}).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def site(tmp_path):
    with tls_server(echo, ["www.example.test", "example.test"], tmp_path) as (port, ca_file):
        yield port, ca_file


def test_connect_to_reaches_loopback_with_the_real_host_and_a_verified_certificate(site):
    port, ca_file = site
    options = HttpOptions((ConnectTo.parse(f"www.example.test:443:127.0.0.1:{port}"),), ca_file)
    with client(options) as http:
        response = http.get("https://www.example.test/coaches?q=yoga")
    assert response.status_code == 200
    assert response.json() == {"host": "www.example.test", "path": "/coaches"}


def test_the_async_client_does_the_same(site):
    port, ca_file = site
    options = HttpOptions((ConnectTo.parse(f":443:127.0.0.1:{port}"),), ca_file)

    async def fetch():
        async with async_client(options) as http:
            return await http.get("https://example.test/health")

    assert asyncio.run(fetch()).json() == {"host": "example.test", "path": "/health"}


def test_a_certificate_for_another_name_is_rejected(site):
    port, ca_file = site
    options = HttpOptions((ConnectTo.parse(f"admin.example.test:443:127.0.0.1:{port}"),), ca_file)
    with client(options) as http, pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|match"):
        http.get("https://admin.example.test/")


def test_without_the_ca_bundle_the_local_certificate_is_not_trusted(site):
    port, _ = site
    options = HttpOptions((ConnectTo.parse(f"www.example.test:443:127.0.0.1:{port}"),))
    with client(options) as http, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        http.get("https://www.example.test/")


def test_redirects_are_not_followed_by_the_client():
    assert client(HttpOptions()).follow_redirects is False


@pytest.mark.parametrize(
    "bad", ["www.example.test:443:127.0.0.1", "a:b:c:d", "x:443::", "x:443::port", "onlyhost"]
)
def test_malformed_connect_to_is_a_configuration_error(bad):
    with pytest.raises(ConfigError, match="HOST:PORT:TO_HOST:TO_PORT"):
        ConnectTo.parse(bad)


def test_a_missing_ca_bundle_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot be loaded"):
        client(HttpOptions(ca_bundle=tmp_path / "nope.pem"))


def test_settings_build_a_client_that_reaches_the_site(site, project):
    from launch_gate.config import load_settings
    from launch_gate.net import http_client

    port, ca_file = site
    config = f'[net]\nconnect-to = ["www.example.test:443:127.0.0.1:{port}"]\nca-bundle = "{ca_file}"\n'
    settings = load_settings(cwd=project({"launch-gate.toml": config}), environ={})

    async def fetch():
        async with http_client(settings) as http:
            return await http.get("https://www.example.test/")

    assert asyncio.run(fetch()).json()["host"] == "www.example.test"


def test_a_bad_connect_to_setting_names_the_key(project):
    from launch_gate.config import load_settings

    root = project({"launch-gate.toml": '[net]\nconnect-to = ["nonsense"]\n'})
    with pytest.raises(ConfigError, match=r"`\[net\] connect-to` in launch-gate.toml"):
        load_settings(cwd=root, environ={})


def test_a_kept_name_resolves_through_the_configured_nameservers_and_pins_override_them(site):
    port, ca_file = site
    zone = {("www.example.test", "A"): ["127.0.0.1"], ("example.test", "A"): ["127.0.0.9"]}
    with DnsServer(zone).running() as dns:
        options = HttpOptions((ConnectTo.parse(f":443::{port}"),), ca_file, nameservers=(dns.address,))
        with client(options) as http:
            assert http.get("https://www.example.test/x").json() == {"host": "www.example.test", "path": "/x"}
            with pytest.raises(httpx.ConnectError):  # the nameserver says 127.0.0.9, where nothing listens
                http.get("https://example.test/")
        with client(HttpOptions(options.connect_to, ca_file, nameservers=(dns.address,),
                                pins=(("example.test", 443, "127.0.0.1"),))) as http:  # fmt: skip
            assert http.get("https://example.test/").json()["host"] == "example.test"
        with (
            client(options) as http,
            pytest.raises(httpx.ConnectError, match=r"nowhere\.example\.test has no A or AAAA record"),
        ):
            http.get("https://nowhere.example.test/")
        assert ("www.example.test", "A") in dns.queries
