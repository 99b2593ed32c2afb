"""health.dependencies against real health endpoints on loopback: the demo's, and small ones answering each
common shape (flat, `checks`, Spring Boot's actuator, the IETF health-check-response draft)."""

import asyncio
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launch_gate.checks.health import (
    State,
    cached_answer,
    matches,
    names_a_dependency,
    reported,
    state_of,
)
from launch_gate.results import Outcome
from tests.checks.conftest import check
from tests.conftest import run_check
from tests.servers import http_server

UP = {
    "flat": {"database": "ok", "cache": "ok", "version": "1.4.2"},
    "checks map": {"status": "ok", "checks": {"db": {"status": "up"}, "redis": {"status": "up"}}},
    "spring actuator": {
        "status": "UP",
        "components": {
            "db": {"status": "UP", "details": {"database": "PostgreSQL"}},
            "redis": {"status": "UP"},
            "diskSpace": {"status": "UP"},
        },
    },
    "ietf": {
        "status": "pass",
        "checks": {
            "postgres:connections": [{"componentType": "datastore", "status": "pass"}],
            "cache:responseTime": [{"status": "pass", "observedValue": 3}],
        },
    },
    "list of checks": {
        "checks": [{"name": "primaryDatabase", "healthy": True}, {"name": "memcached", "ok": True}]
    },
}
DB_DOWN = {
    "flat": {"database": "down", "cache": "ok"},
    "checks map": {"status": "ok", "checks": {"db": {"status": "down"}, "redis": {"status": "up"}}},
    "spring actuator": {"status": "UP", "components": {"db": {"status": "DOWN"}, "redis": {"status": "UP"}}},
    "ietf": {
        "status": "pass",
        "checks": {
            "postgres:connections": [{"status": "fail", "output": "timeout"}],
            "cache": [{"status": "pass"}],
        },
    },
}


class Endpoint:
    """A health endpoint at /healthz answering `body` with `status`, `headers`, after `delay` seconds."""

    def __init__(self, body, status=200, headers=None, delay=0.0):
        self.body, self.status, self.delay = body, status, delay
        self.headers = {"cache-control": "no-store", **(headers or {})}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        await asyncio.sleep(self.delay)
        status = self.status if scope["path"] == "/healthz" else 404
        body = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        headers = [
            (k.encode(), v.encode()) for k, v in {"content-type": "application/json", **self.headers}.items()
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def health(project, app, table='path = "/healthz"\nrequires = ["database", "cache"]\n'):
    with http_server(app) as port:
        text = f'target = "http://127.0.0.1:{port}/"\n[net]\nprobe-timeout = 2\n[health]\n{table}'
        return run_check(project({"launch-gate.toml": text}), "health.dependencies")


@pytest.mark.parametrize("shape", UP)
def test_every_common_shape_reporting_the_required_dependencies_up_passes(project, shape):
    result = health(project, Endpoint(UP[shape]))
    assert result.outcome is Outcome.PASS, result.message
    assert "answers 200" in result.message
    assert "healthy" in result.message
    assert all(state == "up" for state in result.metrics["dependencies"].values())


@pytest.mark.parametrize("shape", DB_DOWN)
def test_a_200_that_reports_the_database_down_fails_in_every_shape(project, shape):
    result = health(project, Endpoint(DB_DOWN[shape]))
    assert result.outcome is Outcome.FAIL, result.message
    assert "down while answering 2xx" in result.message


def test_a_server_is_alive_check_warns_when_nothing_is_required(project):
    result = health(project, Endpoint({"status": "ok"}), 'path = "/healthz"\n')
    assert result.outcome is Outcome.WARN, result.message
    assert "reports no dependency at all: a fake server-is-alive check" in result.message


def test_a_plain_text_ok_reports_no_dependency(project):
    result = health(project, Endpoint(b"OK", headers={"content-type": "text/plain"}), 'path = "/healthz"\n')
    assert result.outcome is Outcome.WARN, result.message


def test_a_required_dependency_it_does_not_report_fails(project):
    result = health(project, Endpoint({"status": "ok", "checks": {"db": "ok"}}))
    assert result.outcome is Outcome.FAIL, result.message
    assert "does not report cache ([health] requires): it reports db" in result.message
    result = health(project, Endpoint({"status": "ok"}))
    assert result.outcome is Outcome.FAIL, result.message
    assert "it reports no dependency at all" in result.message


def test_an_overall_status_down_fails_even_without_dependencies(project):
    result = health(project, Endpoint({"status": "DOWN"}), 'path = "/healthz"\n')
    assert result.outcome is Outcome.FAIL, result.message
    assert "overall status down" in result.message


def test_a_degraded_dependency_warns(project):
    result = health(project, Endpoint({"checks": {"db": "up", "cache": "warn"}}))
    assert result.outcome is Outcome.WARN, result.message
    assert "reports cache degraded" in result.message


def test_an_error_status_fails_naming_what_is_down(project):
    result = health(project, Endpoint({"checks": {"db": "down", "cache": "up"}}, status=503))
    assert result.outcome is Outcome.FAIL, result.message
    assert "/healthz answers 503 (reports db down), not 2xx" in result.message


def test_a_redirect_is_not_followed_and_fails(project):
    result = health(project, Endpoint(UP["flat"], status=302, headers={"location": "/login"}))
    assert result.outcome is Outcome.FAIL, result.message
    assert "answers 302" in result.message


@pytest.mark.parametrize("control", ["public, max-age=30", "s-maxage=10", "max-age=60"])
def test_an_answer_shared_caches_may_keep_fails(project, control):
    result = health(project, Endpoint(UP["flat"], headers={"cache-control": control}))
    assert result.outcome is Outcome.FAIL, result.message
    assert f"cacheable by shared caches (Cache-Control: {control})" in result.message


def test_a_slow_answer_fails_its_budget(project):
    table = 'path = "/healthz"\nrequires = ["database"]\nwithin-ms = 100\n'
    result = health(project, Endpoint(UP["flat"], delay=0.4), table)
    assert result.outcome is Outcome.FAIL, result.message
    assert "(budget 100 ms, [health] within-ms)" in result.message


def test_no_answer_is_could_not_verify(project):
    text = 'target = "http://127.0.0.1:9/"\n[net]\nprobe-timeout = 1\n[health]\npath = "/healthz"\n'
    result = run_check(project({"launch-gate.toml": text}), "health.dependencies")
    assert result.outcome is Outcome.ERROR, result.message
    assert "could not verify: GET http://127.0.0.1:9/healthz did not answer" in result.message


def test_an_answer_slower_than_the_probe_timeout_is_could_not_verify(project):
    result = health(project, Endpoint(UP["flat"], delay=3), 'path = "/healthz"\nrequires = ["database"]\n')
    assert result.outcome is Outcome.ERROR, result.message


def test_without_a_health_path_it_is_skipped_with_the_fix(project):
    result = run_check(
        project({"launch-gate.toml": 'target = "https://www.example.test/"\n'}), "health.dependencies"
    )
    assert result.outcome is Outcome.SKIP
    assert '[health] path = "/healthz"' in result.message


def test_requires_without_a_path_is_a_configuration_error(project):
    from launch_gate.config import load_settings
    from launch_gate.errors import ConfigError

    root = project({"launch-gate.toml": '[health]\nrequires = ["database"]\n'})
    with pytest.raises(ConfigError, match="requires needs `path`"):
        load_settings(cwd=root, environ={})


HEALTH = '[health]\npath = "/healthz"\nrequires = ["database", "cache", "email"]\n'


def test_the_demo_health_endpoint_passes_and_its_database_fault_fails(project, edge):
    app, config = edge
    result = check(project, config + HEALTH, "health.dependencies")
    assert result.outcome is Outcome.PASS, result.message
    app.faults.add("health-db-down")
    result = check(project, config + HEALTH, "health.dependencies")
    assert result.outcome is Outcome.FAIL, result.message
    assert (
        result.message
        == "https://www.example.test/healthz reports database down while answering 2xx: "
        + ("load balancers keep sending traffic.")
    )


@pytest.mark.parametrize(
    ("required", "name", "expected"),
    [
        ("database", "db", True),
        ("database", "primaryDatabase", True),
        ("database", "postgres:connections", True),
        ("database", "diskSpace", False),
        ("cache", "redis", True),
        ("email", "smtp", True),
        ("email", "ses", True),
        ("stripe", "stripe", True),
        ("stripe", "ping", False),
    ],
)
def test_names_match_loosely(required, name, expected):
    assert matches(required, name) is expected


def test_states_are_read_from_words_booleans_objects_and_lists():
    assert state_of("UP") is State.UP
    assert state_of("out_of_service") is State.DOWN
    assert state_of(False) is State.DOWN
    assert state_of({"healthy": True}) is State.UP
    assert state_of([{"status": "pass"}, {"status": "warn"}]) is State.DEGRADED
    assert state_of([{"status": "pass"}, {"status": "fail"}]) is State.DOWN
    assert state_of("1.4.2") is None
    assert reported({"status": "ok", "uptime": 12, "version": "1.0"}) == (State.UP, {})


# --- the trial's findings (issue 15): fields that are no dependency, .NET's shape, cached answers ---
NOT_DEPENDENCIES = [
    {"message": "OK"},
    {"version": "1.2"},
    {"uptime": 5},
    {"uptime": 123.4, "message": "OK", "timestamp": 1700000000},
    {"status": "ok", "app": "up", "env": "production", "alive": True},
    {"result": "success", "server": "running", "node": "ok"},
]


@pytest.mark.parametrize("body", NOT_DEPENDENCIES)
def test_a_flat_body_of_its_own_fields_reports_no_dependency_and_warns(project, body):
    assert reported(body)[1] == {}
    result = health(project, Endpoint(body), 'path = "/healthz"\n')
    assert result.outcome is Outcome.WARN, result.message
    assert "reports no dependency at all: a fake server-is-alive check" in result.message
    result = health(project, Endpoint(body), 'path = "/healthz"\nrequires = ["database"]\n')
    assert result.outcome is Outcome.FAIL, result.message
    assert "does not report database ([health] requires): it reports no dependency at all" in result.message


def test_a_flat_key_counts_when_it_names_a_dependency_or_holds_a_status_or_is_required():
    assert reported({"db": True, "redis": False, "message": "OK"})[1] == {"db": State.UP, "redis": State.DOWN}
    assert reported({"app": {"status": "up"}, "version": "1"})[1] == {"app": State.UP}
    assert reported({"stripe": "ok", "s3": "ok", "smtp": "ok"})[1].keys() == {"stripe", "s3", "smtp"}
    assert reported({"billing": "ok"})[1] == {}
    assert reported({"billing": "ok"}, ["billing"])[1] == {"billing": State.UP}


WORD = st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=10)


@settings(max_examples=50, deadline=None)
@given(
    body=st.dictionaries(
        WORD.filter(lambda w: not names_a_dependency(w)),
        st.sampled_from(["ok", "OK", "up", "healthy", True, "pass", 5, "1.2"]),
        max_size=6,
    )
)
def test_no_flat_body_of_fields_that_name_no_dependency_reports_one(body):
    assert reported(body)[1] == {}


DOTNET_UP = {
    "status": "Healthy",
    "totalDuration": "00:00:00.0123",
    "entries": {
        "npgsql": {"status": "Healthy", "duration": "00:00:00.01", "tags": ["db"]},
        "redis": {"status": "Healthy"},
    },
}


def test_the_dotnet_healthchecks_shape_is_read(project):
    result = health(project, Endpoint(DOTNET_UP))
    assert result.outcome is Outcome.PASS, result.message
    assert result.metrics["dependencies"] == {"npgsql": "up", "redis": "up"}
    down = {
        **DOTNET_UP,
        "status": "Unhealthy",
        "entries": {**DOTNET_UP["entries"], "npgsql": {"status": "Unhealthy"}},
    }
    result = health(project, Endpoint(down))
    assert result.outcome is Outcome.FAIL, result.message
    assert "reports npgsql down while answering 2xx" in result.message
    degraded = {
        **DOTNET_UP,
        "status": "Degraded",
        "entries": {**DOTNET_UP["entries"], "redis": {"status": "Degraded"}},
    }
    result = health(project, Endpoint(degraded))
    assert result.outcome is Outcome.WARN, result.message
    assert "reports redis degraded" in result.message


def test_an_overall_status_degraded_warns(project):
    body = {
        "status": "Degraded",
        "entries": {"npgsql": {"status": "Healthy"}, "redis": {"status": "Healthy"}},
    }
    result = health(project, Endpoint(body))
    assert result.outcome is Outcome.WARN, result.message
    assert "reports its overall status degraded" in result.message


@pytest.mark.parametrize(
    ("required", "names"),
    [
        ("database", ["npgsql", "sqlserver", "mssql", "mysql", "mongodb", "NpgSql", "dataSources"]),
        ("queue", ["rabbitmq", "azureservicebus"]),
        ("storage", ["azureblob", "AzureBlobStorage", "s3"]),
    ],
)
def test_dotnet_and_driver_names_stand_for_their_dependency(required, names):
    for name in names:
        assert matches(required, name), name
        assert names_a_dependency(name), name


def test_a_part_of_a_dependency_that_is_down_makes_it_down():
    body = {
        "status": "UP",
        "components": {"db": {"status": "UP", "components": {"replica": {"status": "DOWN"}}}},
    }
    assert reported(body)[1] == {"db": State.DOWN}
    body = {"status": "ok", "checks": {"app": "ok"}, "components": {"db": {"status": "DOWN"}}}
    assert reported(body)[1] == {"app": State.UP, "db": State.DOWN}  # every container counts, not the first
    assert reported({"database": {"connected": False, "latency_ms": 0}})[1] == {"database": State.DOWN}


NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
CACHED = [
    ({"age": "240"}, "Age: 240"),
    ({"cf-cache-status": "HIT"}, "cf-cache-status: HIT"),
    ({"x-cache": "HIT"}, "x-cache: HIT"),
    ({"x-cache": "Hit from cloudfront"}, "x-cache: Hit from cloudfront"),
    ({"x-vercel-cache": "STALE"}, "x-vercel-cache: STALE"),
    ({"cache-status": "Fastly; hit"}, "Cache-Status: Fastly; hit"),
    ({"cdn-cache-control": "max-age=300"}, "cdn-cache-control: max-age=300"),
    ({"surrogate-control": "max-age=300"}, "surrogate-control: max-age=300"),
    ({"cloudflare-cdn-cache-control": "public"}, "cloudflare-cdn-cache-control: public"),
    ({"expires": "Thu, 01 Jan 2037 00:00:00 GMT"}, "Expires: Thu, 01 Jan 2037 00:00:00 GMT"),
    ({"cache-control": "s-maxage=60"}, "Cache-Control: s-maxage=60"),
    ({"cache-control": "no-cache", "cdn-cache-control": "max-age=300"}, "cdn-cache-control: max-age=300"),
]
NOT_CACHED = [
    {"cache-control": "no-store"},
    {"cache-control": "no-store", "age": "0", "x-cache": "MISS", "cf-cache-status": "DYNAMIC"},
    {
        "cache-control": "no-store",
        "expires": "Thu, 01 Jan 2037 00:00:00 GMT",
    },  # Cache-Control wins (RFC 9111)
    {"expires": "0"},
    {"expires": "Thu, 01 Jan 1970 00:00:00 GMT"},
    {"cdn-cache-control": "no-store", "surrogate-control": "max-age=0"},
    {},
]


@pytest.mark.parametrize(("headers", "named"), CACHED)
def test_every_sign_of_a_cached_answer_is_named(headers, named):
    why = cached_answer(headers, NOW)
    assert why is not None
    assert named in why


@pytest.mark.parametrize("headers", NOT_CACHED)
def test_an_answer_no_cache_keeps_is_not_called_cached(headers):
    assert cached_answer(headers, NOW) is None


@pytest.mark.parametrize(("headers", "named"), [CACHED[0], CACHED[1], CACHED[6], CACHED[7], CACHED[9]])
def test_a_cached_health_answer_fails_naming_the_header_and_the_fix(project, headers, named):
    app = Endpoint(UP["flat"])
    app.headers = headers  # and no Cache-Control: no-store
    result = health(project, app, 'path = "/healthz"\nrequires = ["database"]\n')
    assert result.outcome is Outcome.FAIL, result.message
    assert named in result.message
    assert "Send `Cache-Control: no-store`" in result.message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=50, deadline=None)
@given(body=JSON)
def test_any_json_body_is_read_without_an_exception(body):
    overall, deps = reported(body)
    assert overall is None or isinstance(overall, State)
    assert all(isinstance(state, State) for state in deps.values())
