"""domain.registration against real RDAP servers on loopback: the demo's registry, and small ones that
answer what a broken or unusual registry would."""

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launch_gate.checks.domain import judge_registration
from launch_gate.config import load_settings
from launch_gate.demo.rdap import REGISTRAR, Registry
from launch_gate.errors import CouldNotVerify
from launch_gate.net import rdap
from launch_gate.results import Outcome
from tests.conftest import run_check
from tests.servers import http_server

NOW = datetime.now(UTC)


class Answers:
    """An RDAP server that answers every request with one (status, body), after `delay` seconds."""

    def __init__(self, status=200, body=b"{}", delay=0.0):
        self.status, self.body, self.delay = status, body, delay
        self.paths = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        self.paths.append(scope["path"])
        await asyncio.sleep(self.delay)
        body = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"application/rdap+json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def record(
    expires=NOW + timedelta(days=400), status=("client transfer prohibited", "active"), registrar=True
):
    data = {
        "objectClassName": "domain",
        "ldhName": "example.test",
        "status": list(status),
        "events": [{"eventAction": "expiration", "eventDate": expires.isoformat().replace("+00:00", "Z")}]
        if expires
        else [],
    }
    if registrar:
        data["entities"] = [
            {"roles": ["registrar"], "vcardArray": ["vcard", [["fn", {}, "text", "Example Registrar SA"]]]}
        ]
    return data


def config(port, extra=""):
    return (
        f'target = "https://www.example.test/"\n[net]\nrdap-url = "http://127.0.0.1:{port}/"\n'
        f"probe-timeout = 2\n{extra}"
    )


def registration(project, text):
    return run_check(project({"launch-gate.toml": text}), "domain.registration")


@pytest.fixture
def registry():
    app = Registry()
    with http_server(app) as port:
        yield app, port


def test_a_registered_locked_domain_passes_naming_its_registrar_and_expiry(project, registry):
    app, port = registry
    result = registration(project, config(port))
    assert result.outcome is Outcome.PASS, result.message
    expires = f"{NOW + timedelta(days=400):%Y-%m-%d}"
    assert result.message.startswith(
        f"example.test: registrar {REGISTRAR}, expires {expires} (400 days left)"
    )
    assert "transfer-locked (clientTransferProhibited)" in result.message
    assert result.metrics["registrar"] == REGISTRAR
    assert result.metrics["expires"] == expires
    assert app.requests == ["/domain/example.test"]  # the organizational domain, not www.


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (
            "domain-expiring",
            "example.test expires on {soon}, in 5 days (fail under 14, [registration] fail-days)",
        ),
        ("domain-hold", "example.test is in clientHold"),
    ],
)
def test_the_demo_registrys_faults_fail(project, registry, fault, words):
    app, port = registry
    app.faults.add(fault)
    result = registration(project, config(port))
    assert result.outcome is Outcome.FAIL, result.message
    assert words.format(soon=f"{NOW + timedelta(days=5):%Y-%m-%d}") in result.message
    assert REGISTRAR in result.message


@pytest.mark.parametrize(
    ("body", "outcome", "words"),
    [
        (record(expires=NOW - timedelta(days=3)), Outcome.FAIL, "expired on"),
        (record(expires=NOW + timedelta(days=30)), Outcome.WARN, "in 30 days (warn under 45)"),
        (record(status=["active"]), Outcome.WARN, "has no transfer lock"),
        (record(status=["server transfer prohibited"]), Outcome.PASS, "serverTransferProhibited"),
        (record(status=["clientTransferProhibited", "pendingDelete"]), Outcome.FAIL, "is in pendingDelete"),
        (
            record(status=["client transfer prohibited", "redemption period"]),
            Outcome.FAIL,
            "redemptionPeriod",
        ),
        (record(status=["client transfer prohibited", "server hold"]), Outcome.FAIL, "is in serverHold"),
        (record(registrar=False), Outcome.PASS, "registrar not published"),
    ],
)
def test_what_the_registry_says_decides(project, body, outcome, words):
    with http_server(Answers(body=body)) as port:
        result = registration(project, config(port))
    assert result.outcome is outcome, result.message
    assert words in result.message


def test_the_thresholds_are_configurable(project, registry):
    _, port = registry
    result = registration(project, config(port, "[registration]\nwarn-days = 500\nfail-days = 30\n"))
    assert result.outcome is Outcome.WARN, result.message
    assert "(warn under 500)" in result.message
    result = registration(project, config(port, "[registration]\nwarn-days = 600\nfail-days = 500\n"))
    assert result.outcome is Outcome.FAIL, result.message


def test_the_registered_domain_can_be_named(project):
    app = Registry(domains=("coachly.test",))
    with http_server(app) as port:
        result = registration(project, config(port, '[registration]\ndomain = "Coachly.test."\n'))
    assert result.outcome is Outcome.PASS, result.message
    assert app.requests == ["/domain/coachly.test"]


def test_a_domain_the_registry_does_not_know_fails(project):
    app = Registry(domains=("other.test",))
    with http_server(app) as port:
        result = registration(project, config(port))
    assert result.outcome is Outcome.FAIL, result.message
    assert "the registry has no record of example.test (RDAP 404)" in result.message


@pytest.mark.parametrize(
    ("app", "words"),
    [
        (Answers(500, {"errorCode": 500}), "answered 500"),
        (Answers(429, b"slow down"), "answered 429"),
        (Answers(200, b"<html>registry maintenance</html>"), "did not answer with JSON"),
        (Answers(200, {"objectClassName": "entity"}), "did not answer with a domain object"),
        (Answers(200, [1, 2]), "did not answer with a domain object"),
        (Answers(200, record(expires=None)), "has no expiration event"),
        (
            Answers(200, {**record(), "events": [{"eventAction": "expiration", "eventDate": "soon"}]}),
            "not ISO 8601",
        ),
        (Answers(200, record(), delay=3), "did not answer"),
    ],
)
def test_a_registry_that_does_not_answer_usefully_is_could_not_verify(project, app, words):
    with http_server(app) as port:
        result = registration(project, config(port))
    assert result.outcome is Outcome.ERROR, result.message
    assert words in result.message


def test_a_registry_nobody_listens_at_is_could_not_verify(project):
    result = registration(project, config(9))
    assert result.outcome is Outcome.ERROR, result.message
    assert (
        "could not verify: the registry's RDAP server at http://127.0.0.1:9/domain/example.test did not answer"
        in (result.message)
    )


def test_an_address_target_is_skipped_with_the_fix(project):
    result = registration(project, 'target = "http://127.0.0.1:8080/"\n')
    assert result.outcome is Outcome.SKIP
    assert "set `target` (a domain name) or [registration] domain" in result.message


def lookup(port, domain, bootstrap_path="/dns.json"):
    settings = load_settings(require_file=False, environ={})

    async def ask():
        async with rdap.client(settings) as http:
            return await rdap.lookup(http, domain, None, bootstrap=f"http://127.0.0.1:{port}{bootstrap_path}")

    return asyncio.run(ask())


def test_without_an_override_the_iana_bootstrap_names_the_registrys_server(registry):
    app, port = registry
    found = lookup(port, "example.test")
    assert found is not None
    assert (found.registrar, found.server) == (REGISTRAR, f"http://127.0.0.1:{port}/domain/example.test")
    assert app.requests == ["/dns.json", "/domain/example.test"]


def test_a_tld_the_bootstrap_does_not_list_is_could_not_verify_with_the_fix(registry):
    _, port = registry
    with pytest.raises(CouldNotVerify, match=r"names no RDAP server for \.example; set `\[net\] rdap-url`"):
        lookup(port, "shop.example")
    with pytest.raises(CouldNotVerify, match=r"bootstrap at .* answered 404"):
        lookup(port, "example.test", "/missing.json")


def test_the_bootstrap_picks_the_longest_suffix_and_https_first():
    bootstrap = {
        "services": [
            [["uk"], ["http://uk.test/"]],
            [["co.uk", "org.uk"], ["http://a.test/", "https://b.test/"]],
        ]
    }
    assert rdap.servers_in(bootstrap, "shop.example.co.uk") == ["https://b.test/", "http://a.test/"]
    assert rdap.servers_in(bootstrap, "example.uk") == ["http://uk.test/"]
    assert rdap.servers_in(bootstrap, "example.com") == []
    with pytest.raises(CouldNotVerify):
        rdap.servers_in({"services": "none"}, "example.com")


@pytest.mark.parametrize(
    ("status", "epp"),
    [
        ("client transfer prohibited", "clientTransferProhibited"),
        ("clientHold", "clientHold"),
        ("Redemption Period", "redemptionPeriod"),
        ("pending_delete", "pendingDelete"),
    ],
)
def test_rdap_statuses_read_as_epp_statuses(status, epp):
    assert rdap.epp(status) == epp


def test_the_registrar_is_read_from_the_entity_with_the_registrar_role():
    data = {
        "entities": [
            {"roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", "Ada Brooks"]]]},
            {"roles": ["registrar"], "handle": "292"},
        ]
    }
    assert rdap.registrar(data) == "292"
    assert rdap.registrar({"entities": "none"}) is None


# --- the trial's findings (issue 15): dates without an offset, internationalized names ---
def dated(value):
    return {**record(), "events": [{"eventAction": "expiration", "eventDate": value}]}


FORMATS = {  # how registries write a date: each must read as the same day, in UTC when no offset is given
    "Z": lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "+00:00": lambda d: d.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
    "naive": lambda d: d.strftime("%Y-%m-%dT%H:%M:%S"),
    "date only": lambda d: d.strftime("%Y-%m-%d"),
    "fractional seconds": lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.123456Z"),
    "fractional, naive": lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.5"),
}


@pytest.mark.parametrize("style", FORMATS)
def test_every_rdap_date_format_is_judged_without_a_crash(project, style):
    expires = NOW.replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=10)
    with http_server(Answers(body=dated(FORMATS[style](expires)))) as port:
        result = registration(project, config(port))
    assert result.outcome is Outcome.FAIL, result.message
    assert f"expires on {expires:%Y-%m-%d}, in " in result.message
    assert result.metrics["expires"] == f"{expires:%Y-%m-%d}"


@settings(max_examples=50, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1)),
    offset=st.one_of(st.none(), st.integers(-14 * 60, 14 * 60)),
    style=st.sampled_from(["iso", "Z", "naive", "date only", "fractional"]),
)
def test_any_rdap_date_is_read_aware_and_judged(when, offset, style):
    whole = when.replace(microsecond=0, tzinfo=UTC)
    if style == "iso" and offset is not None:
        expected = when.replace(tzinfo=timezone(timedelta(minutes=offset)))
        text = expected.isoformat()
    elif style == "Z":
        expected, text = whole, when.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif style == "date only":
        expected, text = whole.replace(hour=0, minute=0, second=0), when.strftime("%Y-%m-%d")
    elif style == "fractional":
        expected, text = when.replace(tzinfo=UTC), when.strftime("%Y-%m-%dT%H:%M:%S.%f")
    else:  # naive, or "iso" without an offset
        expected, text = whole, when.strftime("%Y-%m-%dT%H:%M:%S")
    found = rdap.parse("example.test", dated(text), "http://rdap.test/domain/example.test")
    assert found.expires == expected
    assert found.expires.utcoffset() is not None
    verdict = judge_registration(found, NOW, 45, 14)  # never a TypeError between aware and naive
    assert verdict.outcome in (Outcome.PASS, Outcome.WARN, Outcome.FAIL)


@settings(max_examples=50, deadline=None)
@given(
    text=st.text(max_size=30).filter(lambda t: not _iso(t)),
    event=st.sampled_from(["expiration", "registration"]),
)
def test_a_date_that_is_not_iso_8601_is_could_not_verify_naming_the_event(text, event):
    body = {**record(), "events": [{"eventAction": event, "eventDate": text}]}
    with pytest.raises(CouldNotVerify, match=f"has an {event} date that is not ISO 8601"):
        rdap.parse("example.test", body, "http://rdap.test/domain/example.test")


def _iso(text):
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("written", ["café.test", "CAFÉ.test", "xn--caf-dma.test"])
def test_an_internationalized_domain_is_looked_up_as_its_a_label_and_shown_in_unicode(project, written):
    app = Registry(domains=("xn--caf-dma.test",))
    with http_server(app) as port:
        result = registration(project, config(port, f'[registration]\ndomain = "{written}"\n'))
    assert result.outcome is Outcome.PASS, result.message
    assert app.requests == ["/domain/xn--caf-dma.test"]
    assert result.message.startswith("café.test: registrar")
    assert result.metrics["domain"] == "café.test"
    assert result.metrics["domain_ascii"] == "xn--caf-dma.test"


def test_an_internationalized_target_is_looked_up_as_its_a_label(project):
    app = Registry(domains=("xn--bcher-kva.test",))
    with http_server(app) as port:
        text = config(port).replace("https://www.example.test/", "https://www.bücher.test/")
        result = registration(project, text)
    assert result.outcome is Outcome.PASS, result.message
    assert app.requests == ["/domain/xn--bcher-kva.test"]
    assert result.message.startswith("bücher.test: registrar")


def test_a_name_idna_does_not_allow_is_a_configuration_error(project):
    from launch_gate.errors import ConfigError

    root = project({"launch-gate.toml": '[registration]\ndomain = "bad_name!.test"\n'})
    with pytest.raises(ConfigError, match=r"must be a domain name such as example\.com"):
        load_settings(cwd=root, environ={})
