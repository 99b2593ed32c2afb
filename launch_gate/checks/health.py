"""A health endpoint that reflects the app's real dependencies, not a server-is-alive check: it answers 2xx,
reports each required dependency healthy, is never kept by a shared cache, and answers in time.

The body is read in the common shapes: flat (`{"database": "ok"}`; only keys that name a dependency, or hold
an object with a status, count), a `checks`/`components`/`details` map (`{"checks": {"db": {"status": "up"}}}`,
Spring Boot's actuator), .NET's HealthChecks (`{"status": "Healthy", "entries": {"npgsql": {...}}}`), and the
IETF health-check-response draft (`{"status": "pass", "checks": {"database:connections": [{"status": "pass"}]}}`).
Names match loosely: `database` is `db`, `postgres`, `npgsql`, `primaryDatabase`. No answer is could-not-verify;
any answer is evidence.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from launch_gate.checks import Context, check
from launch_gate.net import http_client
from launch_gate.net.probes import get
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.headers import directives, shared_cache_problem
from launch_gate.rules.words import count

TOLERANCE = (50.0, 0.05)  # (ms, share of the budget) an answer may overrun `within-ms` by: measuring's own


class State(enum.StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


WORDS = {
    State.UP: {"ok", "up", "pass", "passed", "passing", "healthy", "green", "true", "available", "online",
               "operational", "connected", "ready", "success", "succeeded", "fine", "alive", "good", "running"},
    State.DEGRADED: {"warn", "warning", "degraded", "yellow", "partial", "slow"},
    State.DOWN: {"down", "fail", "failed", "failing", "failure", "error", "unhealthy", "red", "false",
                 "unavailable", "offline", "critical", "outofservice", "disconnected", "timeout", "unreachable",
                 "dead", "broken", "ko", "nok"},
}  # fmt: skip
CONTAINERS = ("checks", "components", "details", "dependencies", "services", "health", "results", "entries")
NESTED = (
    "components",
    "entries",
    "checks",
)  # a dependency's own parts (Spring's `db.components`): worst counts
STATUS_KEYS = ("status", "state", "health", "healthy", "ok", "up", "connected", "available", "reachable")
NAME_KEYS = ("name", "component", "componentName", "componentId", "service", "id", "key")
ALIASES = {
    "database": {"database", "db", "postgres", "postgresql", "pg", "npgsql", "mysql", "mariadb", "sql", "sqlite",
                 "sqlserver", "mssql", "oracle", "mongo", "mongodb", "datasource", "datasources", "rds",
                 "supabase", "prisma", "sqlalchemy", "cosmosdb", "dynamodb", "cockroachdb", "neon"},
    "cache": {"cache", "redis", "memcached", "memcache", "valkey", "keydb", "dragonfly"},
    "email": {"email", "mail", "mailer", "smtp", "ses", "sendgrid", "postmark", "mailgun", "resend", "sparkpost",
              "mailjet", "brevo"},
    "queue": {"queue", "queues", "rabbitmq", "amqp", "sqs", "kafka", "celery", "jobs", "worker", "sidekiq",
              "broker", "nats", "servicebus", "azureservicebus", "hangfire"},
    "storage": {"storage", "s3", "blob", "bucket", "gcs", "files", "minio", "r2", "azureblob", "azureblobstorage"},
    "search": {"search", "elasticsearch", "opensearch", "meilisearch", "algolia", "typesense", "solr"},
}  # fmt: skip
# Names a flat body's key must carry to count as a dependency: `{"message": "OK", "version": "1.2"}` reports none.
DEPENDENCIES = set().union(*ALIASES.values()) | {
    "stripe", "payments", "payment", "paypal", "braintree", "adyen", "twilio", "auth", "ldap", "keycloak", "auth0",
    "vault", "upstream", "disk", "diskspace", "dns", "grpc", "consul", "etcd", "zookeeper",
}  # fmt: skip
ALIASES |= {"db": ALIASES["database"], "mail": ALIASES["email"], "redis": ALIASES["cache"]}


def state_of(value: object, depth: int = 0) -> State | None:
    """What one reported value says (None: it is no status): `"ok"`, `true`, `{"status": "UP"}` (with its own
    `components`/`entries`, whose worst counts), or a list of results (the IETF shape), whose worst counts."""
    if depth > 10:  # nested deeper than any health format: no status
        return None
    if isinstance(value, bool):
        return State.UP if value else State.DOWN
    if isinstance(value, str):
        word = re.sub(r"[\s_-]+", "", value.strip().lower())
        return next((state for state, words in WORDS.items() if word in words), None)
    if isinstance(value, Mapping):
        own = next(
            (s for key in STATUS_KEYS if key in value and (s := state_of(value[key], depth + 1))), None
        )
        parts = [s for key in NESTED for s in _entries(value.get(key), depth + 1).values()]
        return _worst([own, *parts] if own else parts)
    if isinstance(value, list):
        return _worst([s for item in value[:50] if (s := state_of(item, depth + 1)) is not None])
    return None


def _worst(states: list[State]) -> State | None:
    return max(states, key=list(State).index) if states else None


def _name(item: Mapping[str, object]) -> str | None:
    return next((str(item[key]) for key in NAME_KEYS if isinstance(item.get(key), str)), None)


def _entries(container: object, depth: int = 0) -> dict[str, State]:
    found: dict[str, State] = {}
    if isinstance(container, Mapping):
        pairs = [(str(name), value) for name, value in container.items()]
    elif isinstance(container, list):
        pairs = [(n, item) for item in container if isinstance(item, Mapping) and (n := _name(item))]
    else:
        pairs = []
    for name, value in pairs[:100]:
        state = state_of(value, depth)
        if state is not None and name.lower() not in STATUS_KEYS:
            found[name] = state
    return found


def names_a_dependency(name: str, required: Iterable[str] = ()) -> bool:
    """Whether a key of a flat body names a dependency (`db`, `redis`, `stripe`, one `requires` lists), not
    the answer's own fields (`message`, `version`, `uptime`)."""
    spaced = words(name)
    joined = re.sub(r"[^a-z0-9]+", "", name.lower())
    return bool(spaced & DEPENDENCIES) or joined in DEPENDENCIES or any(matches(r, name) for r in required)


def reported(body: object, required: Iterable[str] = ()) -> tuple[State | None, dict[str, State]]:
    """(the overall status, each dependency's state) from a health answer's JSON body: the entries of every
    container it has (`checks`, `components`, .NET's `entries`...), else the keys of a flat body that name a
    dependency or hold an object with a status."""
    if not isinstance(body, Mapping):
        return state_of(body), {}
    overall = next((s for key in STATUS_KEYS if key in body and (s := state_of(body[key]))), None)
    found: dict[str, State] = {}
    for key in CONTAINERS:
        inner = body.get(key)
        if isinstance(inner, Mapping | list):
            found |= {n: s for n, s in _entries(inner).items() if n not in found}
    if found:
        return overall, found
    flat = _entries(body)
    wanted = list(required)
    return overall, {
        n: s
        for n, s in flat.items()
        if names_a_dependency(n, wanted) or (isinstance(body[n], Mapping) and _has_status(body[n]))
    }


def _has_status(value: Mapping[str, object]) -> bool:
    return any(key in value and state_of(value[key]) is not None for key in STATUS_KEYS)


def words(name: str) -> set[str]:
    """The words of a reported name: `primaryDatabase` -> primary, database; `database:connections` ->
    database, connections."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w}


def matches(required: str, name: str) -> bool:
    """Whether a reported name stands for a required dependency (loosely, by known aliases)."""
    want = required.strip().lower()
    aliases = ALIASES.get(want, set()) | {want}
    joined = re.sub(r"[^a-z0-9]+", "", name.lower())  # `dataSources`, `AzureBlob`
    return bool(words(name) & aliases) or joined in aliases or want == name.strip().lower()


def judge_body(
    required: list[str], overall: State | None, deps: Mapping[str, State]
) -> tuple[list[str], list[str]]:
    """(problems, warnings) about what the body reports."""
    problems, warnings = [], []
    down = [n for n, s in deps.items() if s is State.DOWN]
    if down:
        problems.append(
            f"reports {', '.join(down)} down while answering 2xx: load balancers keep sending traffic"
        )
    for want in required:
        mine = [n for n in deps if matches(want, n)]
        if not mine:
            problems.append(
                f"does not report {want} ([health] requires): "
                + ("it reports no dependency at all" if not deps else f"it reports {', '.join(deps)}")
            )
    if overall is State.DOWN and not down:
        problems.append("reports its overall status down while answering 2xx")
    degraded = [n for n, s in deps.items() if s is State.DEGRADED]
    if degraded:
        warnings.append(f"reports {', '.join(degraded)} degraded")
    elif overall is State.DEGRADED and not down:
        warnings.append("reports its overall status degraded")
    if not deps and not required:
        warnings.append(
            "reports no dependency at all: a fake server-is-alive check that stays green while the database is "
            "down. Report each dependency (database, cache, email) and list them in [health] requires"
        )
    return problems, warnings


CACHE_STATUS = ("cf-cache-status", "x-cache", "x-vercel-cache", "akamai-cache-status", "x-cache-status",
                "x-proxy-cache", "cdn-cache", "x-served-from-cache")  # fmt: skip
CACHE_HIT = re.compile(r"(?i)\b(?:tcp_|refresh)?(?:hit|stale|updating|revalidated)\b")
CDN_CONTROLS = ("cdn-cache-control", "cloudflare-cdn-cache-control", "vercel-cdn-cache-control",
                "surrogate-control", "fastly-surrogate-control")  # fmt: skip


def _cdn_control_keeps(value: str) -> bool:
    """Whether a CDN-only control (`CDN-Cache-Control`, `Surrogate-Control`) lets the CDN store the answer."""
    names = directives(value, ",")
    if names & {"no-store", "private", "no-cache"}:
        return False
    age = re.search(r"(?:s-maxage|max-age)\s*=\s*\"?(\d+)", value, re.IGNORECASE)
    return age is None or int(age[1]) > 0


def _expires_later(headers: Mapping[str, str], now: datetime) -> bool:
    """Whether `Expires` lets caches keep the answer (RFC 9111: `max-age`, `no-store`... in Cache-Control win)."""
    control = headers.get("cache-control") or ""
    if re.search(r"(?i)max-age|no-store|no-cache|private", control):
        return False
    try:
        expires = parsedate_to_datetime(headers.get("expires", ""))
        date = parsedate_to_datetime(headers["date"]) if "date" in headers else now
    except (TypeError, ValueError, IndexError):  # "0", "-1", garbage: already expired (RFC 9111 5.3)
        return False
    if expires.tzinfo is None or date.tzinfo is None:
        expires, date = expires.replace(tzinfo=UTC), date.replace(tzinfo=UTC)
    return expires > date


def cached_answer(headers: Mapping[str, str], now: datetime) -> str | None:
    """Why this answer is, or may be, a cached one (None: nothing says so): the header that tells."""
    if why := shared_cache_problem(headers.get("cache-control")):
        return why
    for name in CACHE_STATUS:
        value = headers.get(name)
        if value is not None and CACHE_HIT.search(value):
            return f"served from a cache ({name}: {value[:60]})"
    status = headers.get("cache-status")
    if status is not None and re.search(r"(?i);\s*hit\b", status):
        return f"served from a cache (Cache-Status: {status[:60]})"
    age = headers.get("age", "").strip()
    if age.isdigit() and int(age) > 0:
        return f"served from a cache (Age: {age})"
    for name in CDN_CONTROLS:
        value = headers.get(name)
        if value is not None and _cdn_control_keeps(value):
            return f"kept by the CDN ({name}: {value[:60]})"
    if "expires" in headers and _expires_later(headers, now):
        return f"kept by caches until it expires (Expires: {headers['expires'][:40]})"
    return None


def _allowed(within_ms: float) -> float:
    """The budget and the measuring's own share: a busy event loop reads an answer late."""
    slack, share = TOLERANCE
    return within_ms * (1 + share) + slack


def _url(ctx: Context, path: str) -> str:
    if path.lower().startswith(("http://", "https://")):
        return path
    return (ctx.settings.target or "").rstrip("/") + path


def _body(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()[:100]


@check(
    "health.dependencies",
    Phase.POST,
    "the health endpoint answers 2xx, reports each required dependency healthy, uncached, in time",
    needs_target="to check the health endpoint",
    fails_when=(
        "`[health] path` does not answer 2xx (redirects are not followed), reports a dependency (or its "
        "overall status) down while answering 2xx, does not report a dependency `requires` lists (matched "
        "loosely: `database` is `db`, `postgres`, `npgsql`...), is or may be a cached answer (`Cache-Control` "
        "`public`, `s-maxage` or `max-age` without `private`/`no-store`; `Age` over 0; a cache status such as "
        "`cf-cache-status: HIT` or `X-Cache: HIT`; a `CDN-Cache-Control` or `Surrogate-Control` that keeps it; "
        "an `Expires` in the future), or takes longer than `within-ms` (1000, with 50 ms + 5 % for measuring; "
        "a slow answer is asked again and the faster counts); warns when it reports no dependency at all and "
        "none is required (a fake server-is-alive check: keys such as `message`, `version`, `uptime` are no "
        "dependency), or one (or its overall status) degraded. Skipped "
        "while `[health] path` is not set; no answer is *could not verify*"
    ),
)
async def check_dependencies(ctx: Context) -> Verdict:
    table = ctx.settings.health
    if table.path is None:
        return Verdict.of(
            Outcome.SKIP,
            'no health endpoint configured: set [health] path = "/healthz" and requires = ["database", ...] '
            "to check that it reports the app's real dependencies.",
        )
    url = _url(ctx, table.path)
    async with http_client(ctx.settings) as http:
        response = await get(http, url, headers={"accept": "application/json"})
        ms = response.elapsed.total_seconds() * 1000
        if ms > _allowed(table.within_ms):  # once more, on the open connection: the faster answer counts
            again = await get(http, url, headers={"accept": "application/json"})
            ms = min(ms, again.elapsed.total_seconds() * 1000)
    overall, deps = reported(_body(response.text[:200_000]), table.requires)
    metrics: dict[str, object] = {
        "url": url,
        "status": response.status_code,
        "ms": round(ms, 1),
        "dependencies": {name: state.value for name, state in deps.items()},
    }
    problems, warnings = [], []
    if not 200 <= response.status_code < 300:
        down = [n for n, s in deps.items() if s is State.DOWN]
        why = f" (reports {', '.join(down)} down)" if down else ""
        problems.append(f"{url} answers {response.status_code}{why}, not 2xx")
    else:
        found, noted = judge_body(list(table.requires), overall, deps)
        problems += [f"{url} {p}" for p in found]
        warnings += [f"{url} {w}" for w in noted]
    if why_cached := cached_answer(response.headers, datetime.now(UTC)):
        problems.append(
            f"{url} is {why_cached}: a cache may keep answering healthy after a dependency died. Send "
            "`Cache-Control: no-store` (and no `Expires`, `CDN-Cache-Control` or `Surrogate-Control` that keeps "
            "it; a CDN cache rule must bypass the health path)"
        )
    if ms > _allowed(table.within_ms):
        problems.append(f"{url} took {ms:.0f} ms (budget {table.within_ms:g} ms, [health] within-ms)")
    if problems:
        return Verdict.of(
            Outcome.FAIL, f"{problems[0]}.", [Finding(p) for p in [*problems, *warnings]], metrics
        )
    if warnings:
        return Verdict.of(Outcome.WARN, f"{warnings[0]}.", [Finding(w) for w in warnings], metrics)
    shown = ", ".join(f"{n} {s.value}" for n, s in deps.items())
    return Verdict.of(
        Outcome.PASS,
        f"{urlsplit(url).path or url} answers {response.status_code} in {ms:.0f} ms, not cached, with "
        f"{count(len(deps), 'dependency', 'dependencies')} healthy ({shown})",
        metrics=metrics,
    )
