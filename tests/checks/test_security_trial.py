"""The reviewer's trial of security.* (issue #13), as tests against a small loopback shop: values encoded for
where they stand in a URL, A's data found in any escape a server writes, redirects to a login page,
throttles signalled in a body, the burst after the other checks, and the rate-limit user cleaned up."""

import json
import re
import uuid
from urllib.parse import parse_qs, quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launch_gate.checks import all_checks
from launch_gate.checks.security import Marks
from launch_gate.config import load_settings
from launch_gate.flows.runner import Values
from tests.conftest import run_check
from tests.servers import http_server, read_body

# Text a server may be handed: any letters, and the characters URLs and JSON treat specially.
AWKWARD = st.text(
    st.one_of(st.sampled_from("+/@%?#&= :;'\"\\é中😀"), st.characters(exclude_categories=("Cc", "Cs"))),
    min_size=1,
    max_size=30,
)


class Shop:
    """Sign up, log in (X-Token), create items, list them by owner, read one, delete yourself.
    `bugs`: list (any logged-in user lists anyone's items), netjson (answers escape `+` and `@` as
    \\u002B/\\u0040, as .NET does), redirect/elsewhere (a visitor without a token is sent to /login or to
    /home), throttle (after 3 wrong passwords: 200 with an error body), nodelete (DELETE /me answers 500)."""

    def __init__(self, *bugs):
        self.bugs, self.users, self.tokens, self.items, self.seen = set(bugs), {}, {}, {}, []
        self.failures = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        raw = scope.get("raw_path", scope["path"].encode()).decode()
        self.seen.append((scope["method"], raw, scope["query_string"].decode()))
        headers = dict(scope["headers"])
        me = self.tokens.get(headers.get(b"x-token", b"").decode())
        status, data, extra = self.route(
            scope["method"], scope["path"], scope["query_string"].decode(), body, me
        )
        text = b"" if data is None else json.dumps(data).encode()
        if "netjson" in self.bugs:
            text = text.replace(b"+", b"\\u002B").replace(b"@", b"\\u0040")
        out = [(b"content-type", b"application/json"), *extra]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": text})

    def route(self, method, path, query, body, me):
        data = json.loads(body) if body else {}
        if (method, path) == ("POST", "/signup"):
            self.users[data["email"]] = data["password"]
            return 201, {"ok": True}, []
        if (method, path) == ("POST", "/login"):
            if self.users.get(data.get("email")) != data.get("password"):
                self.failures += 1
                if "throttle" in self.bugs and self.failures > 3:
                    return 200, {"error": "too many attempts"}, []
                return 401, {"error": "wrong email or password"}, []
            token = uuid.uuid4().hex
            self.tokens[token] = data["email"]
            return 200, {"token": token}, []
        if me is None and path.startswith("/items/") and {"redirect", "elsewhere"} & self.bugs:
            to = "/login?next=" + quote(path) if "redirect" in self.bugs else "/home"
            return 302, None, [(b"location", to.encode())]
        if me is None:
            return 401, {"error": "log in"}, []
        if (method, path) == ("POST", "/items"):
            item = {"id": uuid.uuid4().hex, "owner": me, "title": "yoga mat"}
            self.items[item["id"]] = item
            return 201, item, []
        if (method, path) == ("GET", "/items"):
            owner = parse_qs(query).get("owner", [""])[0]
            if owner != me and "list" not in self.bugs:
                return 200, [], []
            return 200, [i for i in self.items.values() if i["owner"] == owner], []
        if method == "GET" and path.startswith("/items/"):
            item = self.items.get(path.removeprefix("/items/"))
            return (200, item, []) if item and item["owner"] == me else (404, {"error": "no such item"}, [])
        if (method, path) == ("DELETE", "/me"):
            if "nodelete" in self.bugs:
                return 500, {"error": "cannot delete"}, []
            self.users.pop(me, None)
            self.items = {k: v for k, v in self.items.items() if v["owner"] != me}
            return 204, None, []
        return 404, {"error": "no route"}, []


def shop_config(port, extra=""):
    return f"""environment = "staging"
target = "http://127.0.0.1:{port}"
[smoke]
plus-address = "qa@example.test"

[[smoke.flows.shop.steps]]
method = "POST"
path = "/signup"
json = {{ email = "{{user.email}}", password = "{{user.password}}" }}
[[smoke.flows.shop.steps]]
method = "POST"
path = "/login"
json = {{ email = "{{user.email}}", password = "{{user.password}}" }}
capture = {{ token = "json:token" }}
[[smoke.flows.shop.steps]]
method = "POST"
path = "/items"
headers = {{ X-Token = "{{token}}" }}
json = {{ title = "yoga mat" }}
capture = {{ item = "json:id" }}
[[smoke.flows.shop.cleanup]]
method = "DELETE"
path = "/me"
headers = {{ X-Token = "{{token}}" }}
expect = 204
{extra}"""


OWNERSHIP = """
[security.ownership]
flow = "shop"
[[security.ownership.requests]]
path = "/items/{item}"
headers = { X-Token = "{token}" }
[[security.ownership.requests]]
path = "/items?owner={user.email}"
headers = { X-Token = "{token}" }
"""


def ownership(project, *bugs):
    shop = Shop(*bugs)
    with http_server(shop) as port:
        result = run_check(project({"launch-gate.toml": shop_config(port, OWNERSHIP)}), "security.ownership")
    return result, shop


# --- 1. values are encoded for where they stand in a URL -----------------------------------------------


@settings(max_examples=50, deadline=None)
@given(value=AWKWARD)
def test_a_value_in_a_path_segment_or_a_query_reaches_the_app_as_itself(value):
    values = Values(None, {}, set(), captured={"v": value, "next": "/a/b?c=d"})
    url = values.render_url("/items/{v}/x?owner={v}&n=1#{v}")
    path, _, rest = url.partition("?")
    query, _, fragment = rest.partition("#")
    segments = path.split("/")
    assert len(segments) == 4  # a `/` of the value did not make a new segment
    assert unquote(segments[2]) == value
    assert parse_qs(query, keep_blank_values=True) == {"owner": [value], "n": ["1"]}
    assert unquote(fragment) == value
    assert values.render_url("{next}") == "/a/b?c=d"  # a captured path, as it is


def test_an_address_with_a_plus_reaches_the_app_as_itself_and_the_owner_filter_leak_fails(project):
    result, shop = ownership(project, "list")
    queries = [q for method, path, q in shop.seen if (method, path) == ("GET", "/items")]
    assert queries
    assert all(re.fullmatch(r"owner=qa%2Blg-[\w-]+%40example\.test", q) for q in queries)
    assert result.outcome.value == "fail", result.message
    assert "as user B: GET /items answered 200 with user A's data" in result.message
    assert shop.users == {}
    assert shop.items == {}


# --- 2. A's data found in any escape a server writes ---------------------------------------------------


def test_a_leak_in_an_answer_that_escapes_plus_and_at_as_json_unicode_fails(project):
    result, _ = ownership(project, "list", "netjson")
    assert result.outcome.value == "fail", result.message
    assert "with user A's data" in result.message


def test_the_clean_shop_passes_also_when_it_escapes_its_json(project):
    result, shop = ownership(project, "netjson")
    assert result.outcome.value == "pass", result.message
    assert shop.users == {}


def escapes(value):
    """The forms a server may write `value` in."""
    import base64
    from urllib.parse import quote_plus

    def every(c, fmt):
        return c if c.isascii() and c.isalnum() else "".join(fmt.format(u) for u in units(c))

    def units(c):
        raw = c.encode("utf-16-be", "surrogatepass")
        return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]

    return [
        value,
        quote(value, safe=""),
        re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), quote_plus(value)),
        json.dumps(value)[1:-1],
        "".join(every(c, "\\u{:04x}") for c in value),
        "".join(every(c, "\\u{:04X}") for c in value),
        "".join(c if c.isalnum() else f"&#{ord(c)};" for c in value),
        "".join(c if c.isalnum() else f"&#x{ord(c):x};" for c in value),
        base64.b64encode(f"qa@example.test:{value}".encode()).decode(),
    ]


@settings(max_examples=50, deadline=None)
@given(
    value=st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=6, max_size=30),
    form=st.integers(0, 8),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_a_marker_is_found_in_any_form_anywhere_in_a_body(value, form, before, after):
    body = before + escapes(value)[form] + after
    assert Marks.holds(body, (value,))


def test_an_address_marker_is_found_in_any_letter_case_but_not_a_neighbours():
    email = "qa+lg-20261205-abc123@example.test"
    assert Marks.holds('{"owner": "QA+LG-20261205-ABC123@EXAMPLE.TEST"}', (email,))
    assert not Marks.holds('{"owner": "qa+lg-20261205-abc124@example.test"}', (email,))


# --- 6. a redirect to a login page is a denial; any other redirect says how to accept it ---------------


def test_a_redirect_to_the_login_page_is_a_denial(project):
    result, _ = ownership(project, "redirect")
    assert result.outcome.value == "pass", result.message
    assert any(a["status"] == 302 for a in result.metrics["attempts"])


def test_a_redirect_elsewhere_fails_saying_what_was_seen_and_the_setting_that_accepts_it(project):
    result, _ = ownership(project, "elsewhere")
    assert result.outcome.value == "fail"
    assert "without credentials: GET /items/{item} answered 302 (a redirect to /home)" in result.message
    assert "add 302 to `deny` ([security.ownership] deny, or the request's own)" in result.message


# --- 5. rate limits: after the others, throttles in a body, the user cleaned up -------------------------


def test_the_burst_runs_after_the_flows_and_the_log_is_read_after_the_burst(project):
    root = project({"launch-gate.toml": 'environment = "staging"\ntarget = "http://127.0.0.1:9"\n'})
    stages = {c.id: c.stage for c in all_checks(load_settings(cwd=root, environ={}))}
    flows = [stage for check, stage in stages.items() if check.startswith(("smoke", "security.ownership"))]
    assert stages["security.rate-limits"] > max(flows)
    assert stages["security.logs"] > stages["security.rate-limits"]


def rate_limits(project, bugs=(), table=""):
    shop = Shop(*bugs)
    config = f"""
[security.rate-limits]
burst = 8
within = 0.8
{table}
[security.rate-limits.routes.login]
method = "POST"
path = "/login"
json = {{ email = "{{user.email}}", password = "wrong-{{user.tag}}" }}
"""
    with http_server(shop) as port:
        result = run_check(project({"launch-gate.toml": shop_config(port, config)}), "security.rate-limits")
    return result, shop


def test_a_throttle_signalled_in_a_200_body_counts_when_throttled_body_says_so(project):
    result, _ = rate_limits(project, ["throttle"], 'throttled-body = "too many"')
    assert result.outcome.value == "pass", result.message
    assert "login after 3 accepted (200 saying 'too many' at" in result.message


def test_a_throttle_in_a_body_without_the_setting_fails_and_names_the_setting(project):
    result, _ = rate_limits(project, ["throttle"])
    assert result.outcome.value == "fail"
    assert "`throttled-body`" in result.message


def test_the_rate_limit_user_of_a_flow_is_made_first_and_cleaned_up_after_the_bursts(project):
    result, shop = rate_limits(project, ["throttle"], 'throttled-body = "too many"\nflow = "shop"')
    assert result.outcome.value == "pass", result.message
    methods = [(m, p) for m, p, _ in shop.seen]
    assert methods[:3] == [("POST", "/signup"), ("POST", "/login"), ("POST", "/items")]
    assert methods[-1] == ("DELETE", "/me")
    assert shop.users == {}
    assert shop.items == {}


def test_a_cleanup_that_fails_fails_the_rate_limit_check(project):
    result, _ = rate_limits(project, ["throttle", "nodelete"], 'throttled-body = "too many"\nflow = "shop"')
    assert result.outcome.value == "fail"
    assert "every route throttled, but cleanup did not" in result.message
    assert "data may be left behind" in result.message


def test_a_rate_limit_flow_that_does_not_exist_is_a_configuration_error(project):
    result, shop = rate_limits(project, (), 'flow = "shopping"')
    assert result.config_error
    assert "`[security.rate-limits] flow` names 'shopping'" in result.message
    assert shop.seen == []


@pytest.mark.parametrize("burst", [100, 101])
def test_the_burst_cap_is_100_and_more_is_a_configuration_error(project, burst):
    from launch_gate.errors import ConfigError

    root = project(
        {"launch-gate.toml": f'environment = "staging"\n[security.rate-limits]\nburst = {burst}\n'}
    )
    if burst == 100:
        assert load_settings(cwd=root, environ={}).security.rate_limits.burst == 100
        return
    with pytest.raises(ConfigError, match="less than or equal to 100"):
        load_settings(cwd=root, environ={})
