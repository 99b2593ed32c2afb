"""The configuration init writes, as commented TOML text: a new launch-gate.toml, or `[tool.launch-gate]`
tables to append to pyproject.toml. Pure: it formats a plan; what it found, and why, goes in the comments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from launch_gate.rules.words import count
from launch_gate.scaffold.bundles import Bundle
from launch_gate.scaffold.deps import DepsPlan
from launch_gate.scaffold.envplan import EnvPlan
from launch_gate.scaffold.mail import MailPlan

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


@dataclass(frozen=True)
class Plan:
    """Everything init found and was told; `render` turns it into the file."""

    env: EnvPlan
    bundles: list[Bundle]
    deps: DepsPlan
    target: str | None = None
    mail: MailPlan | None = None
    nameservers: list[str] = field(default_factory=list)
    version: str = ""
    bundle_notes: list[str] = field(default_factory=list)

    def found(self) -> list[str]:
        """One line per thing found, for the screen."""
        lines = [self.env.summary]
        lines += [f"bundle: {b.summary}" for b in self.bundles] or ["bundle: no front-end build tool found"]
        lines.append(self.deps.summary)
        lines.append(f"target: {self.target}" if self.target else "target: none (the pre phase needs none)")
        if self.mail is not None:
            lines.append(self.mail.summary)
        return [comment(line) for line in lines]


def string(value: str) -> str:
    """A TOML basic string."""
    text = "".join(
        _ESCAPES.get(c, f"\\u{ord(c):04X}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in value
    )
    return f'"{text}"'


def array(values: Iterable[str]) -> str:
    return "[" + ", ".join(string(v) for v in values) + "]"


def comment(text: str) -> str:
    """Text that can stand in a TOML comment (one line, printable)."""
    return "".join(c if c.isprintable() else "?" for c in text)


class _Writer:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.lines: list[str] = []

    def table(self, name: str) -> None:
        self.lines += ["", f"[{self.prefix}.{name}]" if self.prefix else f"[{name}]"]

    def note(self, *texts: str) -> None:
        self.lines += [f"# {comment(t)}" if t else "#" for t in texts]

    def key(self, name: str, value: str, why: str = "") -> None:
        self.lines.append(f"{name} = {value}" + (f"  # {comment(why)}" if why else ""))

    def off(self, name: str, value: str, why: str = "") -> None:
        self.lines.append(f"# {name} = {comment(value)}" + (f"  # {comment(why)}" if why else ""))


def render(plan: Plan, in_pyproject: bool) -> str:
    """The whole configuration text, ending in a newline."""
    out = _Writer("tool.launch-gate" if in_pyproject else "")
    if in_pyproject:
        out.lines.append("[tool.launch-gate]")
    out.note(
        f"Written by `launch-gate init`{f' (launch-gate {plan.version})' if plan.version else ''}. Run",
        "`launch-gate check --phase pre` before a deploy and `launch-gate check --phase post` after it; every",
        "key is in launch-gate's docs/configuration.md. `environment` stays at its default, production: this",
        "describes the deploy (a non-production name would also turn off env.test-keys and env.debug).",
    )
    out.lines.append("")
    _target(out, plan)
    _env(out, plan.env)
    _secrets(out, plan.bundles, plan.bundle_notes)
    _deps(out, plan.deps)
    if plan.mail is not None:
        _email(out, plan.mail)
    if plan.nameservers:
        out.table("net")
        out.off(
            "nameservers",
            array(plan.nameservers),
            "init asked these (--nameserver); uncomment for the checks",
        )
    return "\n".join(out.lines).lstrip("\n") + "\n"


def _target(out: _Writer, plan: Plan) -> None:
    out.note(
        "The deployment's canonical URL, for the post-deploy checks (DNS, TLS, redirects, headers, email)."
    )
    if plan.target:
        out.key("target", string(plan.target))
    else:
        out.off("target", '"https://www.example.com"', "set it before `check --phase post`; pre needs none")


def _env(out: _Writer, env: EnvPlan) -> None:
    out.table("env")
    out.note(
        "env.required checks each variable is set and not empty, env.placeholders that none holds a",
        "placeholder. Where the production values are not set (a laptop, a fresh clone, CI without the deploy's",
        "secrets) env.required fails and names them: run the pre phase where the deploy runs, with its secrets.",
    )
    if env.example_file:
        out.key("example-file", string(env.example_file), f"declares {count(env.declared, 'variable')}")
    elif env.required:
        out.key("required", array(env.required), f"read without a default by {env.source}")
    else:
        out.note("No .env.example/.env.sample/.env.template or settings read from the environment was found;")
        out.note("list the variables the deploy needs, e.g.:")
        out.off("required", '["DATABASE_URL", "SECRET_KEY"]')
    if env.optional and not env.example_file:
        out.note(f"Read with a default, so not required: {', '.join(env.optional)}")
    cls = env.settings_class
    if cls is not None and cls.spec is not None:
        if cls.loadable:
            out.key("settings-class", string(cls.spec), "env.settings-class loads it from the environment")
        else:
            out.note(
                f"{cls.why_not}: to have env.settings-class load it,",
                "set python to your app's interpreter and uncomment both lines.",
            )
            out.off("settings-class", string(cls.spec))
            out.off("python", '".venv/bin/python"')
    for note in env.notes:
        out.note(note)


def _secrets(out: _Writer, bundles: list[Bundle], notes: list[str]) -> None:
    out.table("secrets")
    out.note(
        "secrets.repo scans the files git tracks (or would); secrets.bundle the built client bundle, which every",
        "visitor downloads. A bundle directory that is missing or empty is could-not-verify (exit 2), so build",
        "the bundle before the gate runs; one not built when init ran is left commented out for the first run.",
    )
    built = [b for b in bundles if b.exists]
    if built:
        out.key(
            "bundle-dirs",
            array(b.directory for b in built),
            "; ".join(f"{b.tool}, {b.evidence}" for b in built),
        )
    for bundle in (b for b in bundles if not b.exists):
        out.off("bundle-dirs", array([bundle.directory]), f"{bundle.tool} ({bundle.evidence}): not built yet")
    if not bundles:
        django = "" if notes else " or Django STATIC_ROOT"
        out.note(f"No front-end build tool (Vite, Next.js, Create React App){django} found.")
        out.off("bundle-dirs", '["dist"]')
    for note in notes:
        out.note(f"Django: {note}.")


def _deps(out: _Writer, deps: DepsPlan) -> None:
    out.table("deps")
    out.note("deps.audit runs pip-audit on these (fail-closed: an unreachable service is could-not-verify).")
    if deps.requirements:
        out.key("requirements", array(deps.requirements))
        if deps.locked:
            out.key("locked", "true", f"{deps.lock_evidence}: every dependency pinned, nothing resolved")
        else:
            out.key("locked", "false", "pip-audit resolves them (needs PyPI); true if they pin every one")
    elif deps.project:
        out.key("source", '"project"', "pyproject.toml's [project] dependencies, resolved by pip-audit")
    else:
        out.note("No requirements*.txt or [project] dependencies found: deps.audit skips. Otherwise, e.g.:")
        out.off("requirements", '["requirements.txt"]')
    if deps.left_out:
        out.note(f"Left out, as not shipped: {', '.join(deps.left_out)}")


def _email(out: _Writer, mail: MailPlan) -> None:
    out.table("email")
    out.note(f"Mail comes from {mail.domain} (the target's organizational domain; set domain to change it).")
    if mail.problem:
        out.note(f"init could not look up its MX/TXT records ({mail.problem}): set the selectors by hand.")
        out.off("dkim-selectors", '["google"]')
        return
    if not mail.providers:
        out.note("No known provider in its MX/SPF records: ask yours for its DKIM selectors.")
        out.off("dkim-selectors", '["s1"]')
        return
    out.note("Found " + "; ".join(f"{name} ({why})" for name, why in mail.providers) + ".")
    if mail.selectors:
        out.key("dkim-selectors", array(mail.selectors), "email.dkim looks up their keys")
    for advice in mail.advice:
        out.note(advice)
    if not mail.selectors:
        out.off("dkim-selectors", '["selector"]')
