"""The per-area configuration tables (`[tool.launch-gate.<area>]`) and the waiver they share."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

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


class NetTable(Table):
    """`[tool.launch-gate.net]`: how post-deploy checks reach the deployment (all optional)."""

    nameservers: CommaList = Field(default_factory=list)  # HOST or HOST:PORT; default: the system's resolver
    connect_to: CommaList = Field(default_factory=list)  # HOST:PORT:TO_HOST:TO_PORT, as curl's --connect-to
    ca_bundle: str | None = None  # extra CA certificates (PEM) to trust, beside the system's
    probe_timeout: float = Field(default=10.0, gt=0, le=3600)  # seconds for one HTTP request or DNS lookup

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


TABLES: dict[str, type[Table]] = {
    "env": EnvTable,
    "secrets": SecretsTable,
    "pre-push": PrePushTable,
    "deps": DepsTable,
    "net": NetTable,
    "email": EmailTable,
    "dns": DnsTable,
    "tls": TlsTable,
    "headers": HeadersTable,
    "latency": LatencyTable,
    "smoke": SmokeTable,
}
