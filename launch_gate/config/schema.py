"""The per-area configuration tables (`[tool.launch-gate.<area>]`) and the waiver they share."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import idna
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import NoDecode

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SETTINGS_CLASS = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def kebab(name: str) -> str:
    return name.replace("_", "-")


def split_list(value: object) -> object:
    """Accept a list, a JSON list, or a comma-separated string (handy in environment variables)."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                return json.loads(stripped)
            except json.JSONDecodeError:
                raise ValueError(
                    "starts with '[' but is not a JSON list: give a JSON list or comma-separated items"
                ) from None
        return [part.strip() for part in stripped.split(",") if part.strip()]
    return value


# A list of strings that an environment variable may also give as "a, b" or as JSON.
CommaList = Annotated[list[str], NoDecode, BeforeValidator(split_list)]


class Table(BaseModel):
    """A configuration table: kebab-case keys, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=kebab, populate_by_name=True, frozen=True, allow_inf_nan=False
    )


class Waiver(Table):
    """An accepted finding: what (`id`), why (`reason`) and until when (`expires`); expired, it fails the gate."""

    id: str = Field(min_length=1)
    reason: str = Field(min_length=3)
    expires: date

    def expired(self, today: date) -> bool:
        return today > self.expires


class EnvTable(Table):
    """`[tool.launch-gate.env]`: which environment variables the deploy needs."""

    required: CommaList = Field(default_factory=list)
    example_file: str | None = None
    settings_class: str | None = None
    python: str | None = (
        None  # the app's interpreter (e.g. ".venv/bin/python"): settings-class is loaded there
    )

    @field_validator("python")
    @classmethod
    def _interpreter(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or not value.isprintable()):
            raise ValueError("must be the path of the app's Python interpreter, e.g. '.venv/bin/python'")
        return value

    @field_validator("required")
    @classmethod
    def _valid_names(cls, names: list[str]) -> list[str]:
        bad = [str(i + 1) for i, n in enumerate(names) if not _ENV_NAME.match(n)]
        if bad:
            raise ValueError(
                f"item {', '.join(bad)} of {len(names)} is not an environment variable name (letters, digits "
                "and _, not starting with a digit): list the variables' NAMES, never their values"
            )
        return names

    @field_validator("settings_class")
    @classmethod
    def _import_path(cls, value: str | None) -> str | None:
        if value is not None and not _SETTINGS_CLASS.match(value):
            raise ValueError("must be 'package.module:ClassName'")
        return value


class SecretsTable(Table):
    """`[tool.launch-gate.secrets]`: what the secret scans cover and which findings are accepted."""

    baseline: str | None = None
    bundle_dirs: CommaList = Field(default_factory=list)
    exclude: CommaList = Field(default_factory=list)
    base: str | None = None
    max_file_bytes: int = Field(default=25_000_000, gt=0)
    waivers: list[Waiver] = Field(default_factory=list)


PRE_PUSH_CHECKS = ("secrets.diff",)


class PrePushTable(Table):
    """`[tool.launch-gate.pre-push]`: what `launch-gate pre-push` (the git hook) runs on a developer's machine."""

    checks: CommaList = Field(
        default_factory=lambda: list(PRE_PUSH_CHECKS),
        description=(
            "check ids or id prefixes the pre-push hook runs (`launch-gate pre-push`). The default scans the "
            "pushed commits for secrets (`secrets.diff`) and nothing that needs production values (`env.*` "
            "judges the machine it runs on) or the network (`deps.audit`); list those to run them too"
        ),
    )

    @field_validator("checks")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(
                'must list at least one check (the default is ["secrets.diff"]); a hook that checks nothing '
                "would let every push through: remove the hook instead"
            )
        bad = [str(n) for n, item in enumerate(value, 1) if not re.fullmatch(r"[a-z0-9][\w.-]*", item)]
        if bad:
            raise ValueError(
                f"item {', '.join(bad)} is not a check id or id prefix (such as secrets.diff or env)"
            )
        return value


class DepsTable(Table):
    """`[tool.launch-gate.deps]`: what pip-audit audits, against which service, and accepted vulnerabilities."""

    source: Literal["auto", "requirements", "project", "environment"] = "auto"
    requirements: CommaList = Field(default_factory=list)
    locked: bool = False
    canary: str = "django==3.2"
    service: Literal["pypi", "osv"] = "pypi"
    timeout: float = Field(default=600.0, gt=0, le=86_400)
    request_timeout: int = Field(default=15, gt=0, le=3600)
    waivers: list[Waiver] = Field(default_factory=list)

    @field_validator("canary")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!_-]+", value.strip()):
            raise ValueError(
                "must be a pinned requirement such as 'django==3.2', or empty to turn the canary off"
            )
        return value.strip()


# What `migrations.destructive` reports (launch_gate.migrations.KINDS), and a file it could not parse.
MigrationOperation = Literal[
    "drop-table", "drop-schema", "drop-column", "rename-table", "rename-column", "narrow-type", "not-null",
    "truncate", "delete-all", "update-all", "blocking-index", "validating-constraint", "unchecked", "unparsable",
]  # fmt: skip
MIGRATION_SQL_DIRS = (
    "migrations", "db/migrate", "db/migrations", "db/migration", "prisma/migrations", "supabase/migrations",
    "src/main/resources/db/migration",
)  # fmt: skip


class MigrationWaiver(Table):
    """An approved destructive operation: which migration file and operation, why, and until when."""

    file: str = Field(
        min_length=1, description="the migration's path from the project root, as reports show it"
    )
    operation: MigrationOperation = Field(
        description="the kind of operation the finding starts with (`drop-column`, `blocking-index`, ...)"
    )
    reason: str = Field(
        min_length=3, description="why it is safe here (e.g. the column is unused since v2.3)"
    )
    expires: date = Field(
        description="an expired waiver approves nothing and fails the gate until renewed or removed"
    )

    @field_validator("file")
    @classmethod
    def _path(cls, value: str) -> str:
        return value.strip().removeprefix("./")

    def expired(self, today: date) -> bool:
        return today > self.expires


class MigrationsTable(Table):
    """`[tool.launch-gate.migrations]`: where the migrations are, the database's SQL dialect, approved ones."""

    dialect: Literal["postgresql", "mysql", "mariadb", "sqlite", "tsql", "oracle"] = Field(
        default="postgresql",
        description=(
            "the database's SQL dialect: `postgresql` is parsed by pglast (and gets the lock rules: CREATE INDEX "
            "without CONCURRENTLY, constraints without NOT VALID), the others by sqlglot"
        ),
    )
    sql_dirs: CommaList = Field(
        default_factory=lambda: list(MIGRATION_SQL_DIRS),
        description=(
            "folders whose `.sql` files are migrations (Prisma, Flyway, dbmate, Supabase, ...), found anywhere in "
            "the repository (`/db/migrations`: only at the root; `*` globs)"
        ),
    )
    paths: CommaList = Field(
        default_factory=list,
        description=(
            "globs of the migration files, instead of finding them (`*/migrations/*.py`, `versions/*.py`, "
            "`.sql` under `sql-dirs`)"
        ),
    )
    exclude: CommaList = Field(default_factory=list, description="globs of files that are not migrations")
    waivers: list[MigrationWaiver] = Field(
        default_factory=list,
        description="approved destructive operations, each with its file, operation, reason and expiry date",
    )


class NetTable(Table):
    """`[tool.launch-gate.net]`: how post-deploy checks reach the deployment (all optional)."""

    nameservers: CommaList = Field(default_factory=list)  # HOST or HOST:PORT; default: the system's resolver
    connect_to: CommaList = Field(default_factory=list)  # HOST:PORT:TO_HOST:TO_PORT, as curl's --connect-to
    ca_bundle: str | None = None  # extra CA certificates (PEM) to trust, beside the system's
    probe_timeout: float = Field(default=10.0, gt=0, le=3600)  # seconds for one HTTP request or DNS lookup
    rdap_url: str | None = Field(
        default=None,
        description=(
            "an RDAP server's base URL (`https://rdap.example/v1/`), asked instead of the one the IANA bootstrap "
            "names for the domain's TLD (`domain.registration`, the handover pack)"
        ),
    )

    @field_validator("rdap_url")
    @classmethod
    def _rdap(cls, value: str | None) -> str | None:
        if value is not None and not usable_url(value):
            raise ValueError(URL_SHAPE)
        return value

    @field_validator("connect_to")
    @classmethod
    def _routes(cls, value: list[str]) -> list[str]:
        from launch_gate.errors import ConfigError
        from launch_gate.net.addresses import ConnectTo

        for number, entry in enumerate(value, 1):
            try:
                ConnectTo.parse(entry)
            except ConfigError as exc:
                raise ValueError(f"item {number}: {exc}") from None
        return value

    @field_validator("nameservers")
    @classmethod
    def _servers(cls, value: list[str]) -> list[str]:
        from launch_gate.errors import ConfigError
        from launch_gate.net.addresses import parse_nameserver

        ports = set()
        for number, entry in enumerate(value, 1):
            try:
                ports.add(parse_nameserver(entry)[1])
            except ConfigError as exc:
                raise ValueError(f"item {number}: {exc}") from None
        if len(ports) > 1:
            raise ValueError("all nameservers must use the same port (dnspython asks them all on one port)")
        return value


class EmailTable(Table):
    """`[tool.launch-gate.email]`: the domain your mail comes from and what its DNS must say."""

    domain: str | None = None  # default: the organizational domain of `target`
    dkim_selectors: CommaList = Field(default_factory=list)  # e.g. ["google", "s1"]: ask your mail provider
    dmarc_min_policy: Literal["none", "quarantine", "reject"] = "quarantine"


class DnsTable(Table):
    """`[tool.launch-gate.dns]`: the names that must resolve (labels under the domain, or full names)."""

    subdomains: CommaList = Field(default_factory=list)  # e.g. ["www", "api", "admin"]


class TlsTable(Table):
    """`[tool.launch-gate.tls]`: certificate expiry thresholds and extra hosts to check."""

    hosts: CommaList = Field(default_factory=list)  # besides the target's host and its apex/www twin
    warn_days: int = Field(default=30, gt=0, le=3650)
    fail_days: int = Field(default=7, gt=0, le=3650)


class HeadersTable(Table):
    """`[tool.launch-gate.headers]`: what the pages send: CORS, static assets, the pages that set cookies, and
    the home page's time budget."""

    cors_origins: CommaList = Field(default_factory=list)  # e.g. ["https://app.coachly.app"]
    cors_paths: CommaList = Field(default_factory=lambda: ["/"])
    static_paths: CommaList = Field(default_factory=list)  # default: the scripts and styles the page links
    cookie_paths: CommaList = Field(
        default_factory=list
    )  # pages that set cookies, besides linked login pages
    page_within: float = Field(default=2.0, gt=0, le=600)  # seconds to end in a 2xx page

    @field_validator("cookie_paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        bad = [str(n) for n, p in enumerate(value, 1) if not p.startswith(("/", "https://", "http://"))]
        if bad:
            raise ValueError(f"item {', '.join(bad)} must be a path such as /login or a whole http(s) URL")
        return value


_ROUTE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
N = TypeVar("N")


def check_id_names(named: dict[str, N], what: str) -> dict[str, N]:
    """Route and flow names become check ids (`latency.<route>`, `smoke.<flow>`)."""
    bad = [n for n in named if not _ROUTE_NAME.match(n)]
    if bad:
        raise ValueError(
            f"{what} names become check ids: use lowercase letters, digits, - and _ ({bad[0]!r})"
        )
    return named


HTTP_METHODS = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class LatencyRoute(Table):
    """One measured endpoint; budgets left out are the `[latency]` table's."""

    path: str
    method: HTTP_METHODS = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/") or not value.isprintable():
            raise ValueError(
                "must be a path starting with '/', such as /api/health, without control characters"
            )
        return value


def _route(value: object) -> object:
    return {"path": value} if isinstance(value, str) else value


class LatencyTable(Table):
    """`[tool.launch-gate.latency]`: per-route budgets, measured by an open-model burst (check `latency.<route>`)."""

    routes: dict[str, Annotated[LatencyRoute, BeforeValidator(_route)]] = Field(default_factory=dict)
    rate: float = Field(default=20.0, gt=0, le=2000)  # requests per second, sent on schedule
    duration: float = Field(default=5.0, gt=0, le=600)  # seconds measured, after the warm-up
    warmup: float = Field(default=1.0, ge=0, le=60)  # seconds sent first and not counted
    min_samples: int = Field(default=30, ge=1)
    p95_ms: float = Field(default=300.0, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    error_rate: float = Field(default=0.01, ge=0, le=1)
    max_lag_ms: float = Field(
        default=50.0, gt=0
    )  # client lateness (p99) allowed before it is held against the figures
    baseline: str | None = None  # a previous JSON report: fail when p95 grew by more than `regression`
    regression: float = Field(default=0.25, gt=0)

    @field_validator("routes")
    @classmethod
    def _names(cls, routes: dict[str, LatencyRoute]) -> dict[str, LatencyRoute]:
        return check_id_names(routes, "route")


URL_SHAPE = (
    "must be a whole http:// or https:// URL such as https://www.example.com, with a host, a port from 1 to "
    "65535 if any, IPv6 addresses in [brackets], and no spaces or control characters"
)


def usable_url(value: str) -> bool:
    """An http(s) URL that an HTTP client can actually use (not just one that looks like one)."""
    import httpx

    if not value.isprintable() or any(c.isspace() for c in value):
        return False
    if not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
        return False
    try:
        parts = urlsplit(value)
        port = parts.port
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL):
        return False
    return bool(parts.hostname) and port != 0


def _usable_path(path: str) -> bool:
    if path.startswith("{"):
        return path.isprintable()
    if path.lower().startswith(("http://", "https://")):
        return ("{" in path and path.isprintable()) or usable_url(path)
    return path.startswith("/") and path.isprintable() and not any(c.isspace() for c in path)


def _host_port(text: str) -> bool:
    host, _, port = text.partition(":")
    return (
        re.fullmatch(r"[^:\s]+", host) is not None
        and host.isprintable()
        and (re.fullmatch(r"[0-9]{1,5}", port) is not None and 1 <= int(port) <= 65535)
    )


_CAPTURE = re.compile(r"^(json:.*|header:[A-Za-z0-9-]+|cookie:[^\s;=]+|body:.+|link(:.+)?|subject)$")


def _statuses(value: object) -> object:
    return [value] if isinstance(value, int) else value


class EmailWait(Table):
    """An email step: wait for a message to `to` (templated) whose subject contains `subject`."""

    to: str = "{user.email}"
    subject: str | None = None  # a part of the subject, case-insensitive
    within: float | None = Field(default=None, gt=0, le=600)  # seconds; default: [smoke] email-within


class FlowStep(Table):
    """One request (`path`) or one awaited email (`email`), with what to expect and what to capture."""

    name: str | None = None
    method: HTTP_METHODS = "GET"
    path: str | None = None  # "/api/signup", or a whole URL for another host
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    form: dict[str, str] | None = None
    expect: Annotated[list[int], BeforeValidator(_statuses)] = Field(default_factory=list)  # default: 2xx
    capture: dict[str, str] = Field(
        default_factory=dict
    )  # name -> json:a.b | header:X | cookie:n | link[:part]
    email: EmailWait | None = None
    public: bool = False  # the answer is the same for every visitor: its caching is not judged

    @model_validator(mode="after")
    def _one_kind(self) -> FlowStep:
        if (self.path is None) == (self.email is None):
            raise ValueError("a step has either `path` (a request) or `email` (wait for a message)")
        if self.path is not None and not _usable_path(self.path):
            raise ValueError(
                "path must start with '/' (or be a whole http(s) URL, or a {template}), without spaces or "
                "control characters"
            )
        if self.json_body is not None and self.form is not None:
            raise ValueError("a step sends `json` or `form`, not both")
        bad = [name for name, source in self.capture.items() if not _CAPTURE.match(source)]
        if bad:
            raise ValueError(
                f"capture {bad[0]!r} must be json:<field.path>, header:<name>, cookie:<name>, body:<regex>, "
                "link, link:<part of the URL> or subject"
            )
        for name, source in self.capture.items():
            if source.startswith("body:"):
                try:
                    re.compile(source[5:])
                except re.error as exc:
                    # re.error's own message can quote part of the pattern: say only where it breaks
                    where = f" (it breaks at position {exc.pos})" if exc.pos is not None else ""
                    raise ValueError(
                        f"capture {name!r}: body:<regex> is not a valid regular expression{where}"
                    ) from None
        if any(not 100 <= s <= 599 for s in self.expect):
            raise ValueError("expect must be HTTP status codes (100-599)")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return f"{self.method} {self.path}" if self.path is not None else "email"


class Flow(Table):
    """`[smoke.flows.<name>]`: steps in order, then cleanup steps that run even when a step failed."""

    steps: list[FlowStep] = Field(min_length=1)
    cleanup: list[FlowStep] = Field(default_factory=list)
    watch: bool = Field(
        default=False, description="`launch-gate watch` runs this flow every round (docs/watch.md)"
    )


class MailboxTable(Table):
    """`[smoke.mailbox]`: where the gate reads the mail a flow triggers."""

    kind: Literal["none", "smtp", "imap", "mailpit", "mailhog"] = "none"
    url: str | None = None  # mailpit / mailhog: the API's base URL, e.g. http://127.0.0.1:8025
    listen: str = "127.0.0.1:2525"  # smtp: where the gate's own SMTP sink listens during the run
    host: str | None = None  # imap
    port: int | None = Field(default=None, gt=0, lt=65536)
    user: str | None = None
    password_env: str | None = None  # imap: the NAME of the variable holding the password, never the password
    tls: bool = True
    folder: str = "INBOX"
    poll: float = Field(default=0.5, gt=0, le=30)  # seconds between looks

    @model_validator(mode="after")
    def _complete(self) -> MailboxTable:
        if self.kind in ("mailpit", "mailhog") and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError(
                f"kind {self.kind!r} needs `url`, the API's base URL such as http://127.0.0.1:8025"
            )
        if self.kind == "imap" and not (self.host and self.user and self.password_env):
            raise ValueError("kind 'imap' needs `host`, `user` and `password-env` (the variable's name)")
        if self.password_env is not None and not _ENV_NAME.match(self.password_env):
            raise ValueError("password-env is the NAME of an environment variable, e.g. SMOKE_IMAP_PASSWORD")
        if self.kind == "smtp" and not _host_port(self.listen):
            raise ValueError("listen must be HOST:PORT with a port from 1 to 65535, such as 127.0.0.1:2525")
        if self.url is not None and not usable_url(self.url):
            raise ValueError(f"url {URL_SHAPE}")
        return self


class SmokeTable(Table):
    """`[tool.launch-gate.smoke]`: declarative flows (check `smoke.<flow>`), their throwaway user and mailbox."""

    flows: dict[str, Flow] = Field(default_factory=dict)
    allow_production: bool = False  # flows create data: off against an environment named production
    plus_address: str | None = None  # qa@yourapp.com -> qa+lg-<id>@yourapp.com
    catch_all_domain: str | None = None  # qa.yourapp.com -> lg-<id>@qa.yourapp.com
    email_within: float = Field(default=60.0, gt=0, le=600)  # seconds an email may take to arrive
    link_hosts: CommaList = Field(default_factory=list)  # hosts email links may use besides the target's
    mailbox: MailboxTable = Field(default_factory=MailboxTable)

    @field_validator("flows")
    @classmethod
    def _names(cls, flows: dict[str, Flow]) -> dict[str, Flow]:
        return check_id_names(flows, "flow")

    @model_validator(mode="after")
    def _usable(self) -> SmokeTable:
        for name, flow in self.flows.items():
            steps = [*flow.steps, *flow.cleanup]
            if self.mailbox.kind == "none" and any(step.email is not None for step in steps):
                raise ValueError(
                    f"flow {name!r} waits for an email: set [smoke.mailbox] kind to mailpit, mailhog, imap or smtp"
                )
            uses_user = any("{user." in json.dumps(step.model_dump(mode="json")) for step in steps)
            if uses_user and not (self.plus_address or self.catch_all_domain):
                raise ValueError(
                    f"flow {name!r} uses {{user.*}}: set plus-address (e.g. qa@yourapp.com) or catch-all-domain "
                    "so each run gets a throwaway address"
                )
        return self

    @field_validator("plus_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s+]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError("must be an address without a tag, such as qa@yourapp.com")
        return value

    @field_validator("catch_all_domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z0-9-]+", value):
            raise ValueError("must be a domain such as qa.yourapp.com")
        return value


# --- [security]: ownership (IDOR), rate limits, input handling, secrets in logs (checks/security.py) ---
RATE_BURST_CAP = 100  # requests per route: a burst is never larger, whatever the configuration says
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SecurityRequest(Table):
    """A request the security checks send: method, path (a template), headers and a JSON or form body."""

    name: str | None = Field(default=None, description="what reports call it (default: `METHOD path`)")
    method: HTTP_METHODS = Field(default="GET", description="the request's method")
    path: str = Field(
        description="`/api/...` on the target, or a whole URL; a template (`{user.email}`, `{env.NAME}`, a "
        "captured name)"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="header values are templates")
    json_body: Any = Field(default=None, alias="json", description="the body, every string in it a template")
    form: dict[str, str] | None = Field(default=None, description="the body, every string in it a template")

    @model_validator(mode="after")
    def _request(self) -> SecurityRequest:
        if not _usable_path(self.path):
            raise ValueError(
                "path must start with '/' (or be a whole http(s) URL), without spaces or control characters"
            )
        if self.json_body is not None and self.form is not None:
            raise ValueError("a request sends `json` or `form`, not both")
        return self

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.path}"

    @property
    def writes(self) -> bool:
        return self.method in _WRITES


class OwnershipRequest(SecurityRequest):
    """One request that must be user A's alone: tried as user B (`headers` are B's) and with no credentials."""

    deny: Annotated[list[int], BeforeValidator(_statuses)] | None = None  # default: [security.ownership] deny
    safe_to_try: bool = False  # a write (POST, PUT, PATCH, DELETE) is sent only when this says it may be
    neighbours: bool = True  # a numeric id in the path: also read {id}-1 and {id}+1 (reads only)

    @model_validator(mode="after")
    def _safe(self) -> OwnershipRequest:
        if self.writes and not self.safe_to_try:
            raise ValueError(
                f"{self.method} {self.path} writes: the gate sends it as another user only if you declare it "
                "safe to try (safe-to-try = true), since a broken app would let it change user A's data"
            )
        if self.deny is not None and (not self.deny or any(not 300 <= s <= 599 for s in self.deny)):
            raise ValueError("deny must be a list of HTTP statuses from 300 to 599, such as [401, 403, 404]")
        return self


class OwnershipTable(Table):
    """`[security.ownership]`: what user A's flow creates must stay A's (check `security.ownership`)."""

    flow: str | None = None  # the smoke flow that creates A's data and captures its id, e.g. "booking"
    as_b: str | None = (
        None  # a flow that signs up and logs in user B; default: `flow`'s steps before A's data
    )
    markers: CommaList = Field(default_factory=lambda: ["{user.email}"])  # A's values: in an answer, A's data
    deny: Annotated[list[int], BeforeValidator(_statuses)] = Field(
        default_factory=lambda: [401, 403, 404]
    )  # the answers that deny user B or no user (a 2xx read without A's data is no leak either)
    requests: list[OwnershipRequest] = Field(default_factory=list)  # what must be A's alone

    @model_validator(mode="after")
    def _complete(self) -> OwnershipTable:
        if self.requests and not self.flow:
            raise ValueError(
                "requests need `flow`: the smoke flow that creates user A's data, e.g. 'booking'"
            )
        if not self.deny or any(not 300 <= s <= 599 for s in self.deny):
            raise ValueError("deny must be a list of HTTP statuses from 300 to 599, such as [401, 403, 404]")
        if not self.markers:
            raise ValueError("markers must name at least one of user A's values, such as '{user.email}'")
        return self


class RateLimitsTable(Table):
    """`[security.rate-limits]`: bursts that must be throttled (check `security.rate-limits`)."""

    routes: dict[str, SecurityRequest] = Field(default_factory=dict)  # name -> the request to repeat
    burst: int = Field(default=30, ge=2, le=RATE_BURST_CAP)  # requests per route at most
    within: float = Field(default=10.0, gt=0, le=120)  # seconds the burst is spread over
    throttled: Annotated[list[int], BeforeValidator(_statuses)] = Field(
        default_factory=lambda: [429]
    )  # statuses that mean "throttled"
    throttle_headers: CommaList = Field(default_factory=lambda: ["Retry-After"])  # any one of them: throttled
    throttled_body: str | None = Field(
        default=None, min_length=3
    )  # text in an answer's body that means throttled (any status, any case): "too many"
    flow: str | None = None  # a [smoke.flows] flow whose user the bursts aim at; its cleanup runs after them

    @field_validator("routes")
    @classmethod
    def _names(cls, routes: dict[str, SecurityRequest]) -> dict[str, SecurityRequest]:
        return check_id_names(routes, "rate-limit route")

    @field_validator("throttled")
    @classmethod
    def _statuses_ok(cls, value: list[int]) -> list[int]:
        if any(not 100 <= s <= 599 for s in value):
            raise ValueError("throttled must be HTTP status codes (100-599), such as [429]")
        return value


class LogsTable(Table):
    """`[security.logs]`: where the app's recent logs are read (check `security.logs`); one source."""

    command: list[str] | None = None  # argv, run without a shell: ["docker", "logs", "--since", "10m", "app"]
    file: str | None = None  # a log file (relative to the project)
    url: str | None = None  # a URL that returns the log as text
    headers: dict[str, str] = Field(default_factory=dict)  # for `url`: values may use {env.NAME}
    wait: float = Field(default=0.0, ge=0, le=300)  # seconds to wait first, for log pipelines that lag
    timeout: float = Field(default=30.0, gt=0, le=600)  # seconds the source may take
    max_bytes: int = Field(default=20_000_000, gt=0)  # read at most this much (the end of a file)
    marker_path: str = Field(
        default="/launch-gate/{marker}", pattern=r"^/\S*\{marker\}\S*$"
    )  # where the marker request goes (a path the log records); {marker}: the run's unique text

    @model_validator(mode="after")
    def _one_source(self) -> LogsTable:
        given = [k for k in ("command", "file", "url") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one log source, not {' and '.join(given)}")
        if self.command is not None and (
            not self.command or not all(a and a.isprintable() for a in self.command)
        ):
            raise ValueError('command must be a non-empty argv list such as ["docker", "logs", "app"]')
        if self.url is not None and not usable_url(self.url):
            raise ValueError(f"url {URL_SHAPE}")
        return self

    @property
    def configured(self) -> bool:
        return self.command is not None or self.file is not None or self.url is not None


class InputsTable(Table):
    """`[security.inputs]`: bad input to public endpoints (check `security.inputs`). With `openapi`,
    schemathesis generates the requests from the document; else `endpoints` get a fixed set of malformed
    bodies. Every request counts against `max-requests` and `max-time`."""

    openapi: str | None = (
        None  # "/openapi.json" (a path on the target), a whole URL, or a file in the project
    )
    base_url: str | None = None  # where the API answers; default: the target, with the document's server path
    endpoints: CommaList = Field(default_factory=list)  # without a document: ["POST /api/bookings", ...]
    methods: CommaList = Field(
        default_factory=lambda: ["GET", "HEAD", "OPTIONS"]
    )  # the document's operations probed, by method: list POST, PUT... to send invalid writes too
    examples: int = Field(default=10, ge=1, le=100)  # generated requests per operation and kind of data
    max_requests: int = Field(default=300, ge=1, le=5000)  # requests in all, whatever else says
    max_time: float = Field(default=60.0, gt=0, le=900)  # seconds of probing in all

    @field_validator("openapi")
    @classmethod
    def _document(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip() or not value.isprintable():
            raise ValueError(
                'must be a path on the target ("/openapi.json"), a URL, or a file ("openapi.yaml")'
            )
        if value.lower().startswith(("http://", "https://")) and not usable_url(value):
            raise ValueError(URL_SHAPE)
        return value

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None and not usable_url(value):
            raise ValueError(URL_SHAPE)
        return value

    @field_validator("methods")
    @classmethod
    def _methods(cls, value: list[str]) -> list[str]:
        known = {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"}
        upper = [m.upper() for m in value]
        if not upper or any(m not in known for m in upper):
            raise ValueError(
                f"must list HTTP methods from {', '.join(sorted(known))}, such as ['GET', 'POST']"
            )
        return upper

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: list[str]) -> list[str]:
        if len(value) > 50:
            raise ValueError("lists at most 50 endpoints")
        parsed = [entry.split() for entry in value]
        for n, parts in enumerate(parsed, 1):
            if not (
                len(parts) == 2
                and parts[0].upper() in {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
                and parts[1].startswith("/")
                and parts[1].isprintable()
            ):
                raise ValueError(f'entry {n} must be "METHOD /path", such as "POST /api/bookings"')
        return [f"{method.upper()} {path}" for method, path in parsed]

    @property
    def configured(self) -> bool:
        return self.openapi is not None or bool(self.endpoints)


class SecurityTable(Table):
    """`[tool.launch-gate.security]`: the auth and data-path baseline (checks `security.*`)."""

    ownership: OwnershipTable = Field(default_factory=OwnershipTable)
    rate_limits: RateLimitsTable = Field(default_factory=RateLimitsTable)
    logs: LogsTable = Field(default_factory=LogsTable)
    inputs: InputsTable = Field(default_factory=InputsTable)


# --- release safety and ownership: [registration], [health], [edge], [handover] (checks domain.registration,
# health.dependencies, edge.protection; `launch-gate handover`) ---
class RegistrationTable(Table):
    """`[tool.launch-gate.registration]`: the domain's registration, looked up over RDAP (`domain.registration`)."""

    domain: str | None = Field(
        default=None,
        description="the registered domain to look up (default: the organizational domain of `target`)",
    )
    warn_days: int = Field(
        default=45, gt=0, le=3650, description="`domain.registration` warns when it expires in fewer days"
    )
    fail_days: int = Field(
        default=14, gt=0, le=3650, description="`domain.registration` fails when it expires in fewer days"
    )

    @field_validator("domain")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:  # an internationalized name (café.example, xn--caf-dma.example) is checked as its A-label
            ascii_form = idna.encode(value.strip().rstrip("."), uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            ascii_form = ""
        if not re.fullmatch(r"(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+", ascii_form):
            raise ValueError("must be a domain name such as example.com (or café.example)")
        return value.strip().lower().rstrip(".")


def _health_path(value: str) -> bool:
    return (value.startswith("/") and value.isprintable() and not any(c.isspace() for c in value)) or (
        value.lower().startswith(("http://", "https://")) and usable_url(value)
    )


class HealthTable(Table):
    """`[tool.launch-gate.health]`: the health endpoint and the dependencies it must report (`health.dependencies`)."""

    path: str | None = Field(
        default=None,
        description=(
            "the health endpoint, a path on the target (`/healthz`) or a whole URL; unset, the check is skipped"
        ),
    )
    requires: CommaList = Field(
        default_factory=list,
        description=(
            "dependencies the answer must report healthy, matched loosely (`database` matches `db`, "
            "`postgres`, `primaryDatabase`; `cache` matches `redis`; `email` matches `smtp`, `ses`)"
        ),
    )
    within_ms: float = Field(
        default=1000.0, gt=0, le=60_000, description="milliseconds the endpoint may take to answer"
    )

    @model_validator(mode="after")
    def _usable(self) -> HealthTable:
        if self.path is not None and not _health_path(self.path):
            raise ValueError("path must be a path such as /healthz or a whole http(s) URL, without spaces")
        if self.requires and self.path is None:
            raise ValueError('requires needs `path`, the health endpoint, e.g. path = "/healthz"')
        if any(not name.strip() or not name.isprintable() for name in self.requires):
            raise ValueError('requires lists dependency names such as ["database", "cache", "email"]')
        return self


def _origin_shape(value: str) -> bool:
    """`203.0.113.7`, `203.0.113.7:8443`, `[2001:db8::1]:8443`, `app.fly.dev`, `app.fly.dev:8443`."""
    host, port = value, ""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else ("x" if rest else "")
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    elif value.count(":") > 1:
        port = ""
    if port and not (re.fullmatch(r"[0-9]{1,5}", port) and 1 <= int(port) <= 65535):
        return False
    return bool(re.fullmatch(r"[A-Za-z0-9.:-]+", host)) and not host.startswith(("-", "."))


class EdgeTable(Table):
    """`[tool.launch-gate.edge]`: what stands in front of the app (`edge.protection`, a warning by default)."""

    origin: str | None = Field(
        default=None,
        description=(
            "the origin's own address or name (`203.0.113.7`, `app.fly.dev`, `[2001:db8::1]:8443`; default "
            "port: the target's): it should not serve the site to anyone but the CDN"
        ),
    )
    assets: CommaList = Field(
        default_factory=list,
        description=(
            "static paths requested twice to see the edge cache serve them (default: `[headers] static-paths`, "
            "else the scripts and styles the home page links)"
        ),
    )

    @field_validator("origin")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value is not None and not _origin_shape(value.strip()):
            raise ValueError(
                "must be an address or host name with an optional port, such as 203.0.113.7, app.fly.dev or "
                "[2001:db8::1]:8443 (no scheme, no path)"
            )
        return value.strip() if value is not None else None

    @field_validator("assets")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        bad = [str(n) for n, p in enumerate(value, 1) if not _usable_path(p) or p.startswith("{")]
        if bad:
            raise ValueError(f"item {', '.join(bad)} must be a path such as /static/app.js")
        return value


class HandoverTable(Table):
    """`[tool.launch-gate.handover]`: what `launch-gate handover` cannot find out for itself."""

    rollback: str | None = Field(
        default=None, description="how to roll a bad deploy back, in the words the pack shows (Markdown)"
    )
    rollback_file: str | None = Field(
        default=None,
        description="a file (relative to the configuration) holding the rollback steps, instead of `rollback`",
    )
    secrets_store: str | None = Field(
        default=None,
        description=(
            "where the secret values are kept (e.g. `Fly.io secrets of the app; GitHub Actions secrets`); the "
            "pack lists the variables' names, never a value"
        ),
    )

    @model_validator(mode="after")
    def _one_rollback(self) -> HandoverTable:
        if self.rollback is not None and self.rollback_file is not None:
            raise ValueError("give `rollback` or `rollback-file`, not both")
        if self.rollback_file is not None and not self.rollback_file.strip():
            raise ValueError("rollback-file must name a file, e.g. docs/rollback.md")
        return self


# --- [history] and [watch]: the run history, `launch-gate watch` and its alerts (docs/watch.md) ---
_HISTORY_SCHEMES = ("sqlite://", "postgresql://", "postgresql+psycopg://", "postgres://")


class HistoryTable(Table):
    """`[tool.launch-gate.history]`: where `check --history` and `watch` keep every result."""

    url: str | None = Field(
        default=None,
        description=(
            "the database: `sqlite:///path/history.sqlite` or `postgresql://user@host/db` (psycopg 3, the "
            "`postgres` extra); default: SQLite at `.launch-gate/history.sqlite` in the project. A password "
            "belongs in `LAUNCH_GATE_HISTORY__URL`, not in a file"
        ),
    )

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith(_HISTORY_SCHEMES) or not value.isprintable()):
            raise ValueError(
                "must be a database URL starting with sqlite:/// or postgresql:// (e.g. "
                "postgresql://gate@db.internal/launch_gate), without spaces or control characters"
            )
        return value


class WatchTable(Table):
    """`[tool.launch-gate.watch]`: what `launch-gate watch` runs, how often, when it alerts and where."""

    interval: float = Field(
        default=60.0, gt=0, le=86_400, description="seconds from one round's start to the next"
    )
    checks: CommaList = Field(
        default_factory=list,
        description=(
            "check ids or prefixes each round runs; default: `domain.redirects` (the home page), every "
            "`latency.<route>` and `smoke.<flow>` of the flows marked `watch = true`"
        ),
    )
    alert_after: int = Field(
        default=2, ge=1, le=1000, description="consecutive failing rounds that open an incident"
    )
    p95_ms: float = Field(
        default=500.0, gt=0, description="a core route's p95 over this (ms) is a `slow` incident"
    )
    core_routes: CommaList = Field(
        default_factory=list, description="the latency routes judged against `p95-ms`; default: every route"
    )
    alerts: CommaList = Field(
        default_factory=list,
        description=(
            "Apprise URLs, one per destination (`mailto://...`, `slack://...`, `json://...`): they hold "
            "credentials, so set them in `LAUNCH_GATE_WATCH__ALERTS` from a secret store, not in a file"
        ),
    )
    dashboard_url: str | None = Field(
        default=None, description="where the dashboard is published: alerts link it"
    )
    retries: int = Field(
        default=5, ge=0, le=1000, description="rounds a failed alert delivery is tried again"
    )

    @field_validator("alerts")
    @classmethod
    def _apprise_urls(cls, urls: list[str]) -> list[str]:
        bad = [str(n) for n, url in enumerate(urls, 1) if "://" not in url or not url.isprintable()]
        if bad:
            raise ValueError(
                f"item {', '.join(bad)} must be an Apprise URL such as mailtos://smtp.example.com?to=ops@example.com "
                "or json://hooks.example.com/path"
            )
        return urls


# --- [load]: load profiles run on Locust (checks/load.py, launch_gate/load/) ---
LOAD_MAX_DURATION = 3600.0  # seconds: no profile runs longer, whatever the configuration says
LOAD_MAX_REQUESTS = 1_000_000  # requests: the ceiling of every `max-requests`


def _pair(value: object) -> object:
    """`think-time = 2` is `[2, 2]`; a list is taken as [min, max]."""
    return [value, value] if isinstance(value, int | float) and not isinstance(value, bool) else value


Seconds = Annotated[tuple[float, float], BeforeValidator(_pair)]


class LoadJourney(Table):
    """`[load.profiles.<name>.journeys.<journey>]`: one weighted task, the steps of a smoke flow or its own."""

    weight: int = Field(default=1, ge=1, le=1000, description="how often it is picked against the others")
    flow: str | None = Field(
        default=None,
        description="take the steps and cleanup of this `[smoke.flows]` flow (email steps skipped)",
    )
    steps: list[FlowStep] = Field(default_factory=list, description="its own steps, in the smoke-flow format")
    cleanup: list[FlowStep] = Field(
        default_factory=list, description="steps run after every pass, however it went (e.g. delete the user)"
    )
    p95_ms: float | None = Field(
        default=None, gt=0, description="this journey's p95 budget (default: the profile's)"
    )
    p99_ms: float | None = Field(
        default=None, gt=0, description="this journey's p99 budget (default: the profile's)"
    )

    @model_validator(mode="after")
    def _steps(self) -> LoadJourney:
        if (self.flow is None) == (not self.steps):
            raise ValueError(
                "a journey has either `flow` (a smoke flow's name) or its own `steps`, one of them"
            )
        if any(s.email is not None and s.capture for s in (*self.steps, *self.cleanup)):
            raise ValueError(
                "a journey cannot wait for email to capture a value: load runs send requests only"
            )
        return self


class LoadProfile(Table):
    """`[load.profiles.<name>]`: weighted journeys, how many users and how long, and the budgets (check
    `load.<name>`)."""

    journeys: dict[str, LoadJourney] = Field(min_length=1, description="journey name → its weight and steps")
    shape: Literal["mobile", "plain"] = Field(
        default="mobile",
        description=(
            "`mobile`: think times between steps, a new connection per session, a phone's headers (docs/load.md); "
            "`plain`: none of these"
        ),
    )
    users: int = Field(default=10, ge=1, le=100_000, description="concurrent simulated users (sessions)")
    ramp: float = Field(default=1.0, ge=0, le=600, description="seconds to start all the users")
    duration: float = Field(
        default=30.0, gt=0, le=LOAD_MAX_DURATION, description="seconds the run lasts, ramp included"
    )
    think_time: Seconds | None = Field(
        default=None, description="[min, max] seconds between steps (mobile default [1, 3], plain 0)"
    )
    pause: Seconds | None = Field(
        default=None, description="[min, max] seconds between sessions (mobile default [2, 5], plain 0)"
    )
    p95_ms: float = Field(default=800.0, gt=0, description="p95 budget of every journey and overall (ms)")
    p99_ms: float | None = Field(
        default=None, gt=0, description="p99 budget of every journey and overall (ms)"
    )
    error_rate: float = Field(default=0.01, ge=0, le=1, description="share of failed requests allowed")
    min_rps: float | None = Field(default=None, gt=0, description="achieved requests per second at least")
    max_requests: int = Field(
        default=100_000,
        ge=1,
        le=LOAD_MAX_REQUESTS,
        description="hard cap: the run stops after this many requests",
    )

    @field_validator("journeys")
    @classmethod
    def _names(cls, journeys: dict[str, LoadJourney]) -> dict[str, LoadJourney]:
        return check_id_names(journeys, "journey")

    @model_validator(mode="after")
    def _ranges(self) -> LoadProfile:
        for name, pair in (("think-time", self.think_time), ("pause", self.pause)):
            if pair is not None and not 0 <= pair[0] <= pair[1] <= 60:
                raise ValueError(f"{name} must be [min, max] seconds with 0 <= min <= max <= 60")
        if self.ramp >= self.duration:
            raise ValueError("ramp must be shorter than duration (the run lasts `duration`, ramp included)")
        return self


class LoadTable(Table):
    """`[tool.launch-gate.load]`: load profiles run on Locust by `launch-gate load` (docs/load.md)."""

    profiles: dict[str, LoadProfile] = Field(
        default_factory=dict,
        description="profile name → its journeys, users, duration and budgets; check `load.<name>`",
    )
    in_gate: bool = Field(
        default=False,
        description="also run the profiles in `launch-gate check` and under pytest (they take their duration)",
    )
    allow_production: bool = Field(
        default=False, description="run against an environment named production (journeys create data)"
    )
    mode: Literal["local", "processes", "master"] = Field(
        default="local",
        description=(
            "`local`: one Locust process; `processes`: a master and `processes` workers on this machine; "
            "`master`: wait for `expect-workers` workers started elsewhere with `launch-gate load --worker`"
        ),
    )
    processes: int = Field(default=2, ge=1, le=256, description="workers in `processes` mode")
    expect_workers: int = Field(default=1, ge=1, le=10_000, description="workers the master waits for")
    master_bind: str = Field(
        default="127.0.0.1:5557",
        description="HOST:PORT the master listens on for workers (`*:5557`: every interface)",
    )
    connect_within: float = Field(
        default=60.0, gt=0, le=3600, description="seconds the master waits for its workers before giving up"
    )
    output_dir: str = Field(
        default="launch-gate-load",
        description="where Locust's CSV and HTML reports and the chart are written",
    )
    from_k6: str | None = Field(default=None, description="judge this k6 summary JSON instead of running")
    from_locust: str | None = Field(
        default=None, description="judge this Locust `*_stats.csv` instead of running"
    )

    @field_validator("profiles")
    @classmethod
    def _names(cls, profiles: dict[str, LoadProfile]) -> dict[str, LoadProfile]:
        return check_id_names(profiles, "load profile")

    @field_validator("master_bind")
    @classmethod
    def _bind(cls, value: str) -> str:
        if not _host_port(value):
            raise ValueError(
                "must be HOST:PORT with a port from 1 to 65535, such as 127.0.0.1:5557 or *:5557"
            )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> LoadTable:
        if self.from_k6 and self.from_locust:
            raise ValueError("give from-k6 or from-locust, not both")
        return self


TABLES: dict[str, type[Table]] = {
    "env": EnvTable,
    "secrets": SecretsTable,
    "pre-push": PrePushTable,
    "deps": DepsTable,
    "migrations": MigrationsTable,
    "net": NetTable,
    "email": EmailTable,
    "dns": DnsTable,
    "tls": TlsTable,
    "headers": HeadersTable,
    "latency": LatencyTable,
    "smoke": SmokeTable,
    "security": SecurityTable,
    "registration": RegistrationTable,
    "health": HealthTable,
    "edge": EdgeTable,
    "handover": HandoverTable,
    "history": HistoryTable,
    "watch": WatchTable,
    "load": LoadTable,
}
