"""A health endpoint that reflects the app's real dependencies, not a server-is-alive check: it answers 2xx,
reports each required dependency healthy, is never kept by a shared cache, and answers in time.

The body is read in the common shapes: flat (`{"database": "ok"}`), a `checks`/`components`/`details` map
(`{"checks": {"db": {"status": "up"}}}`, Spring Boot's actuator), and the IETF health-check-response draft
(`{"status": "pass", "checks": {"database:connections": [{"status": "pass"}]}}`). Names match loosely:
`database` is `db`, `postgres`, `primaryDatabase`. No answer is could-not-verify; any answer is evidence.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from launch_gate.checks import Context, check
from launch_gate.net import http_client
from launch_gate.net.probes import get
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.headers import shared_cache_problem
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
CONTAINERS = ("checks", "components", "details", "dependencies", "services", "health", "results")
STATUS_KEYS = ("status", "state", "health", "healthy", "ok", "up")
NAME_KEYS = ("name", "component", "componentName", "componentId", "service", "id", "key")
ALIASES = {
    "database": {"database", "db", "postgres", "postgresql", "pg", "mysql", "mariadb", "sql", "sqlite",
                 "mongo", "mongodb", "datasource", "rds", "supabase", "prisma", "sqlalchemy"},
    "cache": {"cache", "redis", "memcached", "memcache", "valkey", "keydb", "dragonfly"},
    "email": {"email", "mail", "mailer", "smtp", "ses", "sendgrid", "postmark", "mailgun", "resend", "sparkpost",
              "mailjet", "brevo"},
    "queue": {"queue", "queues", "rabbitmq", "amqp", "sqs", "kafka", "celery", "jobs", "worker", "sidekiq",
              "broker", "nats"},
    "storage": {"storage", "s3", "blob", "bucket", "gcs", "files", "minio", "r2"},
    "search": {"search", "elasticsearch", "opensearch", "meilisearch", "algolia", "typesense", "solr"},
}  # fmt: skip
ALIASES |= {"db": ALIASES["database"], "mail": ALIASES["email"], "redis": ALIASES["cache"]}


def state_of(value: object) -> State | None:
    """What one reported value says (None: it is no status): `"ok"`, `true`, `{"status": "UP"}`, or a list
    of results (the IETF shape), whose worst counts."""
    if isinstance(value, bool):
        return State.UP if value else State.DOWN
    if isinstance(value, str):
        word = re.sub(r"[\s_-]+", "", value.strip().lower())
        return next((state for state, words in WORDS.items() if word in words), None)
    if isinstance(value, Mapping):
        return next((s for key in STATUS_KEYS if key in value and (s := state_of(value[key]))), None)
    if isinstance(value, list):
        states = [s for item in value[:50] if (s := state_of(item)) is not None]
        return max(states, key=list(State).index) if states else None
    return None


def _name(item: Mapping[str, object]) -> str | None:
    return next((str(item[key]) for key in NAME_KEYS if isinstance(item.get(key), str)), None)


def _entries(container: object) -> dict[str, State]:
    found: dict[str, State] = {}
    if isinstance(container, Mapping):
        pairs = [(str(name), value) for name, value in container.items()]
    elif isinstance(container, list):
        pairs = [(n, item) for item in container if isinstance(item, Mapping) and (n := _name(item))]
    else:
        pairs = []
    for name, value in pairs[:100]:
        state = state_of(value)
        if state is not None and name.lower() not in STATUS_KEYS:
            found[name] = state
    return found


def reported(body: object) -> tuple[State | None, dict[str, State]]:
    """(the overall status, each dependency's state) from a health answer's JSON body."""
    if not isinstance(body, Mapping):
        return state_of(body), {}
    overall = next((s for key in STATUS_KEYS if key in body and (s := state_of(body[key]))), None)
    for key in CONTAINERS:
        inner = body.get(key)
        if isinstance(inner, Mapping | list) and (found := _entries(inner)):
            return overall, found
    return overall, _entries(body)


def words(name: str) -> set[str]:
    """The words of a reported name: `primaryDatabase` -> primary, database; `database:connections` ->
    database, connections."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w}


def matches(required: str, name: str) -> bool:
    """Whether a reported name stands for a required dependency (loosely, by known aliases)."""
    want = required.strip().lower()
    aliases = ALIASES.get(want, set()) | {want}
    return bool(words(name) & aliases) or want == name.strip().lower()


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
    if not deps and not required:
        warnings.append(
            "reports no dependency at all: a fake server-is-alive check that stays green while the database is "
            "down. Report each dependency (database, cache, email) and list them in [health] requires"
        )
    return problems, warnings


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
        "loosely: `database` is `db`, `postgres`...), may be kept by shared caches (`public`, `s-maxage`, "
        "`max-age` without `private`/`no-store`), or takes longer than `within-ms` (1000, with 50 ms + 5 % "
        "for measuring; a slow answer is asked again and the faster counts); warns when it reports no "
        "dependency at all and none is required (a fake server-is-alive check), or one degraded. Skipped "
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
    overall, deps = reported(_body(response.text[:200_000]))
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
    if why_cached := shared_cache_problem(response.headers.get("cache-control")):
        problems.append(
            f"{url} is {why_cached}: a CDN may keep answering healthy after a dependency died. Send "
            "`Cache-Control: no-store`"
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
        f"{urlsplit(url).path or url} answers {response.status_code} in {ms:.0f} ms, not shared-cached, with "
        f"{count(len(deps), 'dependency', 'dependencies')} healthy ({shown})",
        metrics=metrics,
    )
