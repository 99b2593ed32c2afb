"""The handover pack as Markdown: who holds what (registrar, DNS, mail, certificate, hosting, edge),
monitoring, where secrets live (names only), rollback, the latest gate result, open waivers and known risks.

Built from the gate's results (their messages and `metrics`), the pack's own lookups (`facts.py`) and the
settings; nothing in it needs the code to be read. The whole text passes through the run's redactor last:
a value a user pasted into the rollback steps is redacted like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from launch_gate.config import Settings
from launch_gate.errors import ConfigError
from launch_gate.handover.facts import Facts
from launch_gate.handover.providers import dns_providers, mail_providers
from launch_gate.redact import Redactor, fingerprint, is_sensitive_name, scrub
from launch_gate.report.markdown import HEADLINES, ICONS, cell
from launch_gate.results import CheckResult, GateReport, Outcome
from launch_gate.rules.domains import target_host
from launch_gate.rules.dotenv import declared_in
from launch_gate.rules.words import count
from launch_gate.runner import redactor_for

_ENV_REF = re.compile(r"\{env\.([A-Za-z_][A-Za-z0-9_]*)\}")
HOSTED = frozenset({"http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos"})
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>`|)]+", re.IGNORECASE)
SECTIONS = (
    "Domain registration", "DNS", "Email", "TLS certificate", "Hosting and edge", "Monitoring",
    "Secrets", "Rollback", "Latest gate result", "Open waivers", "Known risks",
)  # fmt: skip


@dataclass(frozen=True)
class Inputs:
    """What the pack is written from."""

    settings: Settings
    report: GateReport
    facts: Facts
    environ: Mapping[str, str]
    now: datetime
    source: str  # where the gate result came from: "this run", "the report r.json"
    extra: tuple[CheckResult, ...] = ()  # fact checks run for the pack, that the gate result lacks
    redactor: Redactor | None = None  # set by `render`: what the user wrote passes through it too

    def clean(self, text: str) -> str:
        return self.redactor.text(text) if self.redactor is not None else text

    def result(self, check_id: str) -> CheckResult | None:
        """The result the pack reads a fact from: the gate result's, else one run for the pack."""
        return next((r for r in (*self.report.results, *self.extra) if r.id == check_id), None)


def site_only(text: str) -> str:
    """Every URL in `text` cut to its scheme and host (`https://hooks.slack.com/…`): a webhook's path, a
    query's token and credentials before the host never reach the pack. In a notification URL of another
    scheme (Apprise's `slack://TokenA/TokenB`, `tgram://bottoken/chat`) even the host may be a token: only
    the scheme is kept (`slack://…`)."""

    def cut(match: re.Match[str]) -> str:
        url = match[0].rstrip(",.;:!?")  # the sentence's punctuation, not the URL's
        tail = match[0][len(url) :]
        parts = urlsplit(url)
        if parts.scheme.lower() not in HOSTED:
            return f"{parts.scheme}://…{tail}"
        host = parts.hostname or ""
        port = f":{parts.port}" if _port(parts.netloc) else ""
        rest = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
        return f"{parts.scheme}://{host}{port}{rest}{tail}"

    return _URL.sub(cut, text)


def _port(netloc: str) -> bool:
    tail = netloc.rpartition("@")[2]
    return bool(re.search(r":\d+$", tail))


def rollback(settings: Settings) -> str | None:
    """The rollback steps: `[handover] rollback`, or the file `rollback-file` names (a ConfigError if unreadable)."""
    table = settings.handover
    if table.rollback_file is None:
        return table.rollback.strip() if table.rollback else None
    path = settings.root / table.rollback_file
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigError(
            f"{settings.where('handover', 'rollback-file')} names {table.rollback_file} ({why}, looked for it "
            f"in {settings.root}); fix the path, or write the steps in `rollback`."
        ) from None


def _gate(result: CheckResult | None, check_id: str) -> str:
    if result is None:
        return f"- `{check_id}` did not run in this gate result."
    return f"- {ICONS[result.outcome]} `{result.id}`: {cell(result.message)}"


def _m(result: CheckResult | None, key: str) -> Any:
    return result.metrics.get(key) if result is not None else None


def _registration(inputs: Inputs) -> list[str]:
    result = inputs.result("domain.registration")
    registrar, expires = _m(result, "registrar"), _m(result, "expires")
    if result is None or not (registrar or expires):
        return [
            _gate(result, "domain.registration"),
            "",
            "Registrar and expiry unknown: see the gate's line above.",
        ]
    left = _m(result, "days_left")
    rows = [
        ("Domain", _m(result, "domain")),
        ("Registrar", registrar or "not published by the registry"),
        ("Expires", f"{expires} ({left:.0f} days left)" if isinstance(left, int | float) else expires),
        ("Status", ", ".join(_m(result, "statuses") or []) or "none published"),
        ("Looked up at (RDAP)", _m(result, "rdap")),
    ]
    advice = "Renewals and transfers are made in the registrar's account: write down who can log in to it."
    return [*_table(rows), "", _gate(result, "domain.registration"), "", advice]


def _table(rows: list[tuple[str, object]]) -> list[str]:
    lines = ["| Fact | Value |", "| --- | --- |"]
    return lines + [f"| {label} | {cell(str(value))} |" for label, value in rows if value not in (None, "")]


def _dns(inputs: Inputs) -> list[str]:
    facts = inputs.facts
    if not facts.nameservers.values:
        return [f"Nameservers of {facts.domain or 'the domain'}: not found ({cell(facts.nameservers.note)})."]
    names = [n.rstrip(".") for n in facts.nameservers.values]
    known = dns_providers(names)
    who = ", ".join(known) if known else "not recognised from the names: whoever runs them holds the zone"
    return [
        f"- Nameservers of `{facts.domain}`: {', '.join(f'`{n}`' for n in names)}",
        f"- DNS provider: {who}",
        "- Every record (the site, mail, verification) is changed there: write down who can log in to it.",
    ]


def _email(inputs: Inputs) -> list[str]:
    facts = inputs.facts
    if facts.mail_domain is None:
        return ["No mail domain (set `target` or `[email] domain`)."]
    exchanges = [mx.rstrip(".") for mx in facts.exchanges.values]
    hosts = [mx.partition(" ")[2] or mx for mx in exchanges]
    known = mail_providers(hosts, facts.includes)
    lines = [f"- Mail domain: `{facts.mail_domain}`"]
    lines.append(
        f"- Receives mail at (MX): {', '.join(f'`{m}`' for m in exchanges)}"
        if exchanges
        else f"- Receives mail at (MX): none ({cell(facts.exchanges.note)})"
    )
    record = facts.spf.values[0] if facts.spf.values else None
    lines.append(f"- SPF: `{cell(record)}`" if record else f"- SPF: none ({cell(facts.spf.note)})")
    if facts.includes:
        lines.append(f"- Sends through (SPF includes): {', '.join(f'`{i}`' for i in facts.includes)}")
    lines.append(f"- Mail provider: {', '.join(known) if known else 'not recognised from the names above'}")
    return lines


def _tls(inputs: Inputs) -> list[str]:
    cert = inputs.facts.certificate
    gate = _gate(inputs.result("tls.expiry"), "tls.expiry")
    if cert is None:
        return [f"Certificate not read ({cell(inputs.facts.certificate_note)}).", "", gate]
    left = (cert.expires - inputs.now).total_seconds() / 86400
    return [
        f"- `{cert.host}`: issued by {cell(cert.issuer)}, expires {cert.expires:%Y-%m-%d} ({left:.0f} days left)",
        "- Renewal: automatic if the issuer is an ACME CA (Let's Encrypt, Google Trust Services, the CDN's); "
        "otherwise someone renews and installs it by hand.",
        gate,
    ]


def _hosting(inputs: Inputs) -> list[str]:
    facts, settings = inputs.facts, inputs.settings
    host = target_host(settings)
    lines = []
    if host is None:
        return ["No target: set `target` to the canonical URL."]
    if facts.addresses.values:
        via = f" (port {facts.port}, through `[net] connect-to`)" if facts.port else ""
        lines.append(f"- `{host}` points at {', '.join(f'`{a}`' for a in facts.addresses.values)}{via}")
    else:
        lines.append(f"- `{host}`: addresses not found ({cell(facts.addresses.note)})")
    edge = inputs.result("edge.protection")
    cdn = _m(edge, "cdn")
    evidence = ", ".join(_m(edge, "evidence") or [])
    lines.append(f"- In front: {cdn} ({cell(evidence)})" if cdn else "- In front: no CDN or WAF detected")
    cache = _m(edge, "edge_cache") or {}
    if isinstance(cache, Mapping) and cache.get("hit"):
        lines.append(f"- Edge cache serves: {cell(', '.join(cache['hit']))}")
    origin = _m(edge, "origin")
    lines.append(f"- Origin: {cell(str(origin))}" if origin else "- Origin: not configured (`[edge] origin`)")
    return [*lines, _gate(edge, "edge.protection")]


def _plain(key: str, value: object) -> str:
    if is_sensitive_name(key.replace("-", "_")) and not key.endswith(("-env", "_env")):
        return "(set; not shown)"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_plain(str(k), v)}" for k, v in value.items()) or "(empty)"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(key, v) for v in value) or "(none)"
    return site_only(str(value))


def _monitoring(inputs: Inputs) -> list[str]:
    settings = inputs.settings
    lines = []
    health = settings.health
    if health.path:
        needs = f", must report {', '.join(health.requires)}" if health.requires else ""
        lines.append(f"- Health endpoint: `{site_only(health.path)}`{needs}")
        lines.append(_gate(inputs.result("health.dependencies"), "health.dependencies"))
    else:
        lines.append("- Health endpoint: not configured (`[health] path`)")
    watch = getattr(settings, "watch", None)
    if watch is None or "watch" not in settings.model_fields_set:
        lines.append("- Watch (`launch-gate watch`) and its alert destinations: not configured (`[watch]`)")
    else:
        lines.append("- Watch (`[watch]`), alert destinations shown by host only:")
        dumped = watch.model_dump(mode="json", by_alias=True) if isinstance(watch, BaseModel) else {}
        lines += [f"  - {key}: {cell(inputs.clean(_plain(key, value)))}" for key, value in dumped.items()]
    return lines


def secret_names(settings: Settings) -> list[tuple[str, str]]:
    """(variable, where it is named) for every variable the configuration names: never a value."""
    found: dict[str, str] = {}
    for name in settings.env.required:
        found.setdefault(name, "`[env] required`")
    example = settings.env.example_file
    if example and (settings.root / example).is_file():
        try:
            text = (settings.root / example).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            text = ""
        for name in declared_in(text):
            found.setdefault(name, f"`{example}`")
    if settings.smoke.mailbox.password_env:
        found.setdefault(settings.smoke.mailbox.password_env, "`[smoke.mailbox] password-env`")
    for name in _ENV_REF.findall(settings.model_dump_json()):
        found.setdefault(name, "a template (`{env.NAME}`) in the configuration")
    return list(found.items())


def _secrets(inputs: Inputs) -> list[str]:
    names = secret_names(inputs.settings)
    store = inputs.settings.handover.secrets_store
    lines = [
        f"- Kept in: {cell(inputs.clean(store))}"
        if store
        else "- Kept in: not written down (`[handover] secrets-store`): say where the values live"
    ]
    if not names:
        return [*lines, "- Variables: none named in the configuration (`[env] required`, `example-file`)"]
    lines.append("- Variables (names only; rotate any that the leaving person could read):")
    return lines + [f"  - `{name}` ({where})" for name, where in names]


def waivers(settings: Settings) -> Iterator[tuple[str, str, str, date]]:
    """(table, what is waived, reason, expiry) of every waiver in any table."""
    for field in type(settings).model_fields:
        table = getattr(settings, field)
        for waiver in getattr(table, "waivers", None) or ():
            what = getattr(waiver, "id", None) or " ".join(
                str(getattr(waiver, k)) for k in ("file", "operation") if hasattr(waiver, k)
            )
            yield field.replace("_", "-"), str(what), str(getattr(waiver, "reason", "")), waiver.expires


# `X-Amz-Signature=…`, `?sig=…`, `token: …`, `password hunter22`: a value after a name that says it is a credential
_CREDENTIAL = re.compile(
    r"(?P<name>[A-Za-z0-9_.-]*(?:sig|signature|token|secret|password|passwd|pwd|pass|key|auth|credential|"
    r"session|cookie|bearer|jwt)[A-Za-z0-9_.-]*)(?:(?P<sep>\s*[:=]\s*)|(?P<space>\s+)(?=\S*\d))"
    r"(?P<value>(?!\[redacted)[^\s&,;'\"<>`|)\]]{6,})",
    re.IGNORECASE,
)
_TOKENISH = re.compile(r"(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/=-]{16,}(?![A-Za-z0-9_+/=-])")
# what people write: `drop-table`, `V2__AddUsersTable`, `createOrders20240101`, a number, a path of those
_NAMED = re.compile(
    r"[A-Za-z]?\d*(?:[_-]*(?:[A-Z][a-z]+|[a-z]{2,})\d*)+(?:[_-]+\d+)*[_-]*|[A-Z]+(?:[_-]+[A-Z]+)*|[\d_-]+"
)


def _token_shaped(word: str) -> bool:
    """A run of 16+ characters with a secret's variety (an API key, a signature: two of lower case, upper case
    and digits, many distinct), not a name, path or identifier people write (`db/migrations/V2__AddUsers`,
    `GHSA-jfh8-c2jp-5v3q`)."""
    if (
        re.fullmatch(r"[0-9a-f]{16,}|[0-9A-F]{16,}", word)
        and re.search(r"\d", word)
        and re.search(r"\D", word)
    ):
        return True  # a hex digest or key
    if all(_NAMED.fullmatch(piece) for piece in word.rstrip("=").split("/") if piece):
        return False
    pieces = [piece for piece in re.split(r"[-_/]", word) if piece]
    if max(map(len, pieces)) <= 8 and not any(
        re.search(r"[a-z]", p) and re.search(r"[A-Z]", p) for p in pieces
    ):
        return False
    classes = sum(bool(re.search(c, word)) for c in (r"[a-z]", r"[A-Z]", r"\d"))
    return classes >= 2 and len(set(word)) >= min(10, len(word) // 2)


def _print(value: str) -> str:
    return f"[redacted {fingerprint(value)}]"


def safe_note(text: str, redactor: Redactor | None) -> str:
    """Free text a user wrote into the configuration (a waiver's reason), made safe for the pack: the run's
    redactor (known secrets, secret shapes), a URL cut to its host, and a value that follows a credential's
    name (`X-Amz-Signature=…`, `token: …`) or looks like a key (16+ varied letters and digits) fingerprinted."""
    text = site_only(redactor.text(text) if redactor is not None else scrub(text))
    text = _CREDENTIAL.sub(lambda m: f"{m['name']}{m['sep'] or m['space']}{_print(m['value'])}", text)
    return _TOKENISH.sub(lambda m: _print(m[0]) if _token_shaped(m[0]) else m[0], text)


def _waivers(inputs: Inputs) -> list[str]:
    rows = sorted(waivers(inputs.settings), key=lambda w: w[3])
    if not rows:
        return ["None: no finding is waived."]
    today = inputs.now.date()
    lines = ["| Table | Waived | Reason | Expires |", "| --- | --- | --- | --- |"]
    for table, what, reason, expires in rows:
        state = "**expired: fails the gate**" if expires < today else f"in {(expires - today).days} days"
        shown = safe_note(reason, inputs.redactor)
        lines.append(f"| `[{table}]` | `{cell(what)}` | {cell(shown)} | {expires} ({state}) |")
    return lines


def _result(inputs: Inputs) -> list[str]:
    report = inputs.report
    counts = report.counts()
    lines = [
        f"**{HEADLINES[report.verdict]}** (from {cell(inputs.source)}, phase `{report.phase}`): "
        f"{counts['fail']} failed, {counts['error']} could not verify, {count(counts['warn'], 'warning')}, "
        f"{counts['pass']} passed, {counts['skip']} skipped.",
        "",
        "| Check | Outcome | Details |",
        "| --- | --- | --- |",
    ]
    return lines + [f"| `{r.id}` | {ICONS[r.outcome]} | {cell(r.message)} |" for r in report.results]


def _risks(inputs: Inputs) -> list[str]:
    shown = (Outcome.FAIL, Outcome.ERROR, Outcome.WARN)
    risky = sorted(
        (r for r in inputs.report.results if r.outcome in shown), key=lambda r: shown.index(r.outcome)
    )
    today = inputs.now.date()
    soon = [w for w in waivers(inputs.settings) if (w[3] - today).days <= 30]
    lines = [f"- {ICONS[r.outcome]} `{r.id}`: {cell(r.message)}" for r in risky]
    lines += [
        f"- ⏳ the `[{t}]` waiver of `{cell(what)}` expires on {expires}" for t, what, _, expires in soon
    ]
    return lines or ["None: the latest gate result has no warning, failure or unverified check."]


def render(inputs: Inputs) -> str:
    """The whole pack, redacted."""
    settings = inputs.settings
    host = target_host(settings) or "the deployment"
    public = [settings.target or "", host, *(r.id for r in (*inputs.report.results, *inputs.extra))]
    redactor = redactor_for(settings, inputs.environ, public)
    results = tuple(redactor.result(r) for r in inputs.report.results)  # before Markdown escapes a secret
    inputs = replace(
        inputs,
        report=replace(inputs.report, results=results),
        extra=tuple(redactor.result(r) for r in inputs.extra),
        redactor=redactor,
    )
    config = ", ".join(f"`{p.name}`" for p in settings.sources) or "defaults"
    bodies = (
        _registration, _dns, _email, _tls, _hosting, _monitoring,
        _secrets, _rollback, _result, _waivers, _risks,
    )  # fmt: skip
    lines = [
        f"# Handover pack: {host}",
        "",
        f"Written by `launch-gate handover` on {inputs.now:%Y-%m-%d %H:%M} UTC from {config}. Who holds what, "
        "how to roll back, and what is at risk; nothing here needs the code to be read, and no secret is in "
        "it (variables are named, never shown).",
        "",
    ]
    for title, body in zip(SECTIONS, bodies, strict=True):
        lines += [f"## {title}", "", *body(inputs), ""]
    text = "\n".join(lines).rstrip() + "\n"
    return redactor.text(text)  # once more, whole: nothing the sections wrote is left out


def _rollback(inputs: Inputs) -> list[str]:
    steps = rollback(inputs.settings)
    if not steps:
        return ["Not written down: put the steps in `[handover] rollback` (or `rollback-file`)."]
    return [inputs.clean(steps)]
