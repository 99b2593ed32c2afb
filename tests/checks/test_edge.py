"""edge.protection against real sites on loopback: the demo's edge (Cloudflare-shaped headers, a cache HIT
on the second asset request), small sites shaped like other CDNs, and origins that answer, refuse or don't."""

import asyncio
import re
import ssl
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from launch_gate.checks.edge import cache_hit, detect
from launch_gate.demo.site import APEX, CANONICAL, Edge
from launch_gate.results import Outcome
from tests.checks.conftest import UNREACHABLE, check
from tests.conftest import run_check
from tests.servers import DnsServer, http_server, tls_server

PAGE = b'<html><head><script src="/static/app.js"></script></head><body>Coachly</body></html>'
IMMUTABLE = "public, max-age=31536000, immutable"


class CdnSite:
    """A site whose every answer carries `headers`; /static/app.js adds `first` the first time, `then` after."""

    def __init__(self, headers=None, first=None, then=None, status=200, asset_cache=IMMUTABLE):
        self.headers, self.first, self.then = headers or {}, first or {}, then or {}
        self.status, self.asset_cache, self.assets = status, asset_cache, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        headers = dict(self.headers)
        if scope["path"].startswith("/static/"):
            self.assets += 1
            headers |= {"cache-control": self.asset_cache, **(self.first if self.assets == 1 else self.then)}
            body, kind = b"console.log('coachly')", "text/javascript"
        else:
            body, kind = PAGE, "text/html"
        raw = [(k.encode(), v.encode()) for k, v in {**headers, "content-type": kind}.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def site(project, app, extra=""):
    with http_server(app) as port:
        text = f'target = "http://127.0.0.1:{port}/"\n[net]\nprobe-timeout = 2\n{extra}'
        return run_check(project({"launch-gate.toml": text}), "edge.protection")


def test_the_demo_edge_is_a_cdn_that_serves_its_assets_from_cache(project, edge):
    result = check(project, edge[1], "edge.protection")
    assert result.outcome is Outcome.PASS, result.message
    assert result.message == (
        "Cloudflare stands in front (cf-ray, cf-cache-status); 1 static asset served from its cache "
        "(/static/app.js (cf-cache-status: HIT))"
    )
    assert result.metrics["cdn"] == "Cloudflare"


def test_no_cdn_in_front_warns_by_default_and_fails_when_configured_to(project, edge):
    app, config = edge
    app.faults.add("no-edge")
    result = check(project, config, "edge.protection")
    assert result.outcome is Outcome.WARN, result.message
    assert result.message.startswith(f"no CDN or WAF answers in front of https://{CANONICAL}/")
    result = check(project, config + '[checks]\n"edge.protection" = "fail"\n', "edge.protection")
    assert result.outcome is Outcome.FAIL, result.message
    result = check(project, config + '[checks]\nedge = "off"\n', "edge.protection")
    assert result.outcome is Outcome.SKIP


CDNS = {
    "Fastly": ({"x-served-by": "cache-lhr7380-LHR"}, {"x-cache": "MISS"}, {"x-cache": "HIT"}),
    "Amazon CloudFront": (
        {"x-amz-cf-id": "q1w2e3", "via": "1.1 abc.cloudfront.net (CloudFront)"},
        {"x-cache": "Miss from cloudfront"},
        {"x-cache": "Hit from cloudfront"},
    ),
    "Vercel": ({"x-vercel-id": "lhr1::abc"}, {"x-vercel-cache": "MISS"}, {"x-vercel-cache": "HIT"}),
    "Netlify": (
        {"x-nf-request-id": "01H"},
        {"cache-status": '"Netlify Edge"; fwd=miss'},
        {"cache-status": '"Netlify Edge"; hit'},
    ),
    "Azure Front Door": ({"x-azure-ref": "0abc"}, {"x-cache": "TCP_MISS"}, {"x-cache": "TCP_HIT"}),
    "Akamai": ({"server": "AkamaiGHost"}, {}, {"age": "12"}),
}


@pytest.mark.parametrize("name", CDNS)
def test_each_cdn_is_told_by_its_headers_and_its_cache_hit_seen(project, name):
    headers, first, then = CDNS[name]
    result = site(project, CdnSite(headers, first, then))
    assert result.outcome is Outcome.PASS, result.message
    assert result.message.startswith(f"{name} stands in front")
    assert "1 static asset served from its cache" in result.message


def test_a_cdn_that_never_serves_a_cacheable_asset_from_its_cache_warns(project):
    app = CdnSite({"cf-ray": "8a-LHR"}, {"cf-cache-status": "MISS"}, {"cf-cache-status": "MISS"})
    result = site(project, app)
    assert result.outcome is Outcome.WARN, result.message
    assert (
        "Cloudflare does not serve static assets from its cache on a second request: /static/app.js "
        + ("(cf-cache-status: MISS)")
        in result.message
    )


UNCACHED = [  # (the asset's Cache-Control, its cache status on the second request, what the warning says)
    ("public, max-age=3600", {"cf-cache-status": "MISS"}, "(cf-cache-status: MISS; max-age under a day"),
    ("no-store", {"cf-cache-status": "BYPASS"}, "(cf-cache-status: BYPASS; Cache-Control: no-store)"),
    (
        "private, max-age=600",
        {"cf-cache-status": "DYNAMIC"},
        "(cf-cache-status: DYNAMIC; Cache-Control: private",
    ),
    ("public, max-age=60", {"cf-cache-status": "DYNAMIC", "age": "30"}, "(cf-cache-status: DYNAMIC; max-age"),
    ("", {"cf-cache-status": "MISS"}, "(cf-cache-status: MISS; no Cache-Control)"),
]


@pytest.mark.parametrize(("control", "then", "said"), UNCACHED)
def test_a_cdn_that_serves_no_asset_from_its_cache_warns_whatever_the_assets_cache_control(
    project, control, then, said
):
    app = CdnSite({"cf-ray": "8a-LHR"}, then, then, asset_cache=control)
    result = site(project, app)
    assert result.outcome is Outcome.WARN, result.message
    assert "Cloudflare does not serve static assets from its cache on a second request: /static/app.js " in (
        result.message
    )
    assert said in result.message
    assert "`Cache-Control: public, max-age=31536000, immutable`" in result.message


@pytest.mark.parametrize("status", ["MISS", "DYNAMIC", "BYPASS", "EXPIRED"])
def test_an_explicit_miss_wins_over_an_age_the_origin_sent(project, status):
    assert cache_hit({"cf-cache-status": status, "age": "30"}) == (False, f"cf-cache-status: {status}")
    app = CdnSite(
        {"cf-ray": "8a-LHR"},
        {"cf-cache-status": status, "age": "30"},
        {"cf-cache-status": status, "age": "30"},
    )
    result = site(project, app)
    assert result.outcome is Outcome.WARN, result.message
    assert f"/static/app.js (cf-cache-status: {status})" in result.message


def test_configured_assets_are_the_ones_tried(project):
    app = CdnSite({"cf-ray": "8a-LHR"}, {"cf-cache-status": "MISS"}, {"cf-cache-status": "HIT"})
    result = site(project, app, '[edge]\nassets = ["/static/app.css"]\n')
    assert result.outcome is Outcome.PASS, result.message
    assert "/static/app.css (cf-cache-status: HIT)" in result.message


class HangingAssets(CdnSite):
    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/static/"):
            await asyncio.sleep(3)
        await super().__call__(scope, receive, send)


def test_an_asset_that_does_not_answer_is_could_not_verify(project):
    with http_server(HangingAssets({"cf-ray": "8a-LHR"})) as port:
        text = f'target = "http://127.0.0.1:{port}/"\n[net]\nprobe-timeout = 1\n'
        result = run_check(project({"launch-gate.toml": text}), "edge.protection")
    assert result.outcome is Outcome.ERROR, result.message
    assert result.message.startswith(
        f"could not verify: GET http://127.0.0.1:{port}/static/app.js did not answer"
    )


def test_a_site_that_does_not_answer_is_could_not_verify(project):
    result = check(project, UNREACHABLE, "edge.protection")
    assert result.outcome is Outcome.ERROR, result.message
    assert result.message.startswith("could not verify what stands in front: the home page GET https://")


def origin_check(project, origin_app=None, origin=None, net=""):
    """edge.protection of a CDN-fronted site whose `[edge] origin` is `origin_app` on loopback, or `origin`."""
    front = CdnSite({"cf-ray": "8a-LHR"}, {"cf-cache-status": "MISS"}, {"cf-cache-status": "HIT"})
    with http_server(front) as port, http_server(origin_app or CdnSite()) as origin_port:
        origin = (origin or "127.0.0.1:{port}").format(port=origin_port)
        text = f'target = "http://127.0.0.1:{port}/"\n[net]\nprobe-timeout = 2\n{net}[edge]\norigin = "{origin}"\n'
        return run_check(project({"launch-gate.toml": text}), "edge.protection")


def test_an_origin_that_serves_the_site_to_anyone_warns(project):
    result = origin_check(project, CdnSite())
    assert result.outcome is Outcome.WARN, result.message
    assert re.search(
        r"the origin 127\.0\.0\.1:\d+ serves http://127\.0\.0\.1:\d+/ directly \(200\)", result.message
    )
    assert "attackers can go around Cloudflare" in result.message


def test_an_origin_that_refuses_or_does_not_answer_passes(project):
    result = origin_check(project, CdnSite(status=403))
    assert result.outcome is Outcome.PASS, result.message
    assert "refuses to serve the site directly (403)" in result.message
    result = origin_check(project, origin="127.0.0.1:9")
    assert result.outcome is Outcome.PASS, result.message
    assert "the origin 127.0.0.1:9 does not answer (ConnectError)" in result.message


def test_an_origin_given_by_name_is_looked_up_and_one_that_does_not_resolve_is_could_not_verify(project):
    zone = {("origin.example.test", "A"): ["127.0.0.1"], ("example.test", "NS"): ["ns1.example.test."]}
    with DnsServer(zone).running() as dns:
        net = f'nameservers = ["{dns.address}"]\n'
        result = origin_check(project, origin="origin.example.test:{port}", net=net)
        assert result.outcome is Outcome.WARN, result.message
        assert re.search(r"the origin origin\.example\.test:\d+ \(127\.0\.0\.1:\d+\) serves", result.message)
        result = origin_check(project, origin="gone.example.test", net=net)
    assert result.outcome is Outcome.ERROR, result.message
    assert "[edge] origin gone.example.test does not resolve" in result.message


def test_an_https_origin_that_completes_a_handshake_for_the_site_with_anyone_warns(project, edge, tmp_path):
    _, config = edge
    with tls_server(Edge(), [CANONICAL, APEX], tmp_path / "origin") as (
        origin_port,
        _,
    ):  # another, untrusted CA
        result = check(project, config + f'[edge]\norigin = "127.0.0.1:{origin_port}"\n', "edge.protection")
    assert result.outcome is Outcome.WARN, result.message
    assert (
        f"the origin 127.0.0.1:{origin_port} serves https://{CANONICAL}/ (200) to anyone who skips the "
        f"certificate check (its certificate is not trusted for {CANONICAL}" in result.message
    )


class _Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@contextmanager
def client_cert_origin(cert):
    """An origin that serves the site only to a client with a certificate of its own CA (authenticated
    origin pulls), with `cert` as its own certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    context.verify_mode = ssl.CERT_REQUIRED
    trustme.CA().configure_trust(context)  # the CDN's client CA: the gate holds no certificate of it
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("origin_ca", ["the site's own CA", "an origin CA browsers do not trust"])
def test_an_origin_that_requires_a_client_certificate_passes(project, tmp_path, origin_ca):
    ca = trustme.CA()
    front = CdnSite({"cf-ray": "8a-LHR"}, {"cf-cache-status": "MISS"}, {"cf-cache-status": "HIT"})
    issuer = ca if origin_ca == "the site's own CA" else trustme.CA()
    with (
        tls_server(front, [CANONICAL], tmp_path, ca=ca) as (port, ca_file),
        client_cert_origin(issuer.issue_cert(CANONICAL)) as origin_port,
    ):
        text = (
            f'target = "https://{CANONICAL}/"\n[net]\nconnect-to = ["{CANONICAL}:443:127.0.0.1:{port}"]\n'
            f'ca-bundle = "{ca_file}"\nprobe-timeout = 2\n[edge]\norigin = "127.0.0.1:{origin_port}"\n'
        )
        result = run_check(project({"launch-gate.toml": text}), "edge.protection")
    assert result.outcome is Outcome.PASS, result.message
    assert re.search(
        rf"the origin 127\.0\.0\.1:{origin_port} (refuses the TLS handshake \(tlsv13 alert certificate "
        r"required\): it requires a client certificate|closes the connection without serving the site)",
        result.message,
    )


def test_the_demo_edge_itself_answers_as_an_exposed_origin(project, edge):
    _, config = edge
    port = re.search(rf"{re.escape(CANONICAL)}:443:127\.0\.0\.1:(\d+)", config)[1]
    result = check(project, config + f'[edge]\norigin = "127.0.0.1:{port}"\n', "edge.protection")
    assert result.outcome is Outcome.WARN, result.message
    assert f"serves https://{CANONICAL}/ directly (200)" in result.message


@pytest.mark.parametrize(
    ("headers", "hit"),
    [
        ({"cf-cache-status": "HIT"}, True),
        ({"cf-cache-status": "REVALIDATED"}, True),
        ({"cf-cache-status": "DYNAMIC"}, False),
        ({"x-cache": "RefreshHit from cloudfront"}, True),
        ({"x-cache": "HIT, MISS"}, True),
        ({"cache-status": "ExampleCache; fwd=uri-miss"}, False),
        ({"age": "0"}, None),
        ({"age": "300"}, True),
        ({"cf-cache-status": "DYNAMIC", "age": "300"}, False),
        ({"x-cache": "MISS", "age": "300"}, False),
        ({"x-cache": "TCP_MISS", "age": "12"}, False),
        ({}, None),
    ],
)
def test_a_cache_hit_is_read_from_the_cdns_headers(headers, hit):
    assert cache_hit(headers)[0] is hit


def test_the_best_evidenced_cdn_wins():
    found = detect([{"via": "1.1 google", "cf-ray": "8a", "cf-cache-status": "HIT", "server": "cloudflare"}])
    assert found is not None
    assert found.name == "Cloudflare"
    assert found.evidence == ("cf-ray", "cf-cache-status", "server: cloudflare")
    assert detect([{"server": "nginx"}]) is None
