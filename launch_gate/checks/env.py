"""Environment checks: required variables present and real, no test keys or debug flags in production.

Values are never put in a message: a finding names the variable and, at most, a fingerprint of the value.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
)

from launch_gate.checks import Check, Context
from launch_gate.errors import ConfigError
from launch_gate.redact import fingerprint
from launch_gate.results import Finding, Outcome, Phase, Verdict

_WORD = r"(?<![A-Za-z0-9]){}(?![A-Za-z0-9])"
PLACEHOLDERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an <angle-bracket> template", re.compile(r"^\s*<[^<>]*>\s*$")),
    ("a {template}", re.compile(r"^\s*\{\{?[^{}]*\}\}?\s*$")),
    ("'your-…'", re.compile(r"(?i)(?:^|[^A-Za-z0-9])your[-_ ][A-Za-z]")),
    ("a run of x's", re.compile(r"(?i)(?:^|[^A-Za-z0-9])x{3,}(?:[^A-Za-z0-9]|$)")),
    ("'changeme'", re.compile(_WORD.format(r"(?i:change[-_ ]?me|replace[-_ ]?me)"))),
    ("'TODO'", re.compile(_WORD.format(r"(?i:todo|fixme|tbd|placeholder|dummy)"))),
    ("'example'", re.compile(_WORD.format(r"(?i:example)"))),
)
TEST_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Stripe test-mode key (sk_test_/pk_test_/rk_test_)", re.compile(r"(?<![A-Za-z0-9])[spr]k_test_\w")),
    ("a Razorpay test key (rzp_test_)", re.compile(r"(?<![A-Za-z0-9])rzp_test_\w")),
    ("a Square sandbox credential (sandbox-sq0)", re.compile(r"(?<![A-Za-z0-9])sandbox-sq0\w")),
    ("a Braintree sandbox key (sandbox_)", re.compile(r"^sandbox_[a-z0-9]{6,}")),
)
DEBUG_FLAGS = ("DEBUG", "FLASK_DEBUG", "DJANGO_DEBUG", "APP_DEBUG")
TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})


def read_example_file(path: Path) -> list[str]:
    """The variable names a dotenv-style example file declares (`KEY=value`, `export KEY=`, comments)."""
    names = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key = line.removeprefix("export ").split("=", 1)[0].strip()
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) and "=" in line:
            names.append(key)
    return names


def declared_names(ctx: Context) -> list[str]:
    """Required names from the config plus every key of the example file, in order, without repeats."""
    table = ctx.settings.env
    names = list(table.required)
    if table.example_file:
        path = ctx.root / table.example_file
        if not path.is_file():
            raise ConfigError(
                f"{ctx.settings.where('env', 'example-file')} names {table.example_file}, which does not exist "
                f"in {ctx.root}; fix the path or remove the setting."
            )
        names.extend(read_example_file(path))
    return list(dict.fromkeys(names))


def _no_declared_names() -> Verdict:
    return Verdict.of(
        Outcome.SKIP,
        "no variables declared: set `required` or `example-file` in [tool.launch-gate.env].",
    )


def check_required(ctx: Context) -> Verdict:
    names = declared_names(ctx)
    if not names:
        return _no_declared_names()
    missing = [n for n in names if n not in ctx.environ]
    empty = [n for n in names if n in ctx.environ and not ctx.environ[n].strip()]
    findings = [Finding(f"{n} is not set") for n in missing] + [
        Finding(f"{n} is set but empty") for n in empty
    ]
    if findings:
        return Verdict.of(
            Outcome.FAIL,
            f"{len(findings)} of {len(names)} required variables are missing or empty: "
            f"{', '.join(missing + empty)}. Set them in the deploy environment (e.g. your host's secrets).",
            findings,
        )
    return Verdict.of(Outcome.PASS, f"every required variable is set ({len(names)})")


def placeholder_kind(value: str) -> str | None:
    """Which placeholder shape a value has, or None for a value that looks real."""
    return next((label for label, pattern in PLACEHOLDERS if pattern.search(value)), None)


def check_placeholders(ctx: Context) -> Verdict:
    declared = declared_names(ctx)
    names = [n for n in declared if ctx.environ.get(n, "").strip()]
    if not declared:
        return _no_declared_names()
    if not names:
        return Verdict.of(Outcome.SKIP, "no declared variable is set (env.required reports that)")
    findings = [
        Finding(f"{n} looks like a placeholder: its value is {kind}", fingerprint=fingerprint(ctx.environ[n]))
        for n in names
        if (kind := placeholder_kind(ctx.environ[n]))
    ]
    if findings:
        culprits = ", ".join(f.message.split(" ", 1)[0] for f in findings)
        return Verdict.of(Outcome.FAIL, f"placeholder values in {culprits}; set the real values.", findings)
    return Verdict.of(Outcome.PASS, f"no placeholder among the declared variables ({len(names)} set)")


def _not_production(ctx: Context, what: str) -> Verdict:
    return Verdict.of(
        Outcome.SKIP, f"environment is {ctx.settings.environment!r}; {what} are checked in production only."
    )


def check_test_keys(ctx: Context) -> Verdict:
    if not ctx.settings.is_production:
        return _not_production(ctx, "test-mode keys")
    findings = []
    for name in sorted(ctx.environ):
        if name.startswith("LAUNCH_GATE_"):
            continue
        value = ctx.environ[name]
        for label, pattern in TEST_KEYS:
            if pattern.search(value):
                findings.append(Finding(f"{name} holds {label}", fingerprint=fingerprint(value)))
                break
    if findings:
        names = ", ".join(f.message.split(" ", 1)[0] for f in findings)
        return Verdict.of(
            Outcome.FAIL,
            f"test-mode keys in production: {names}. Payments would not be real; use the live keys.",
            findings,
        )
    return Verdict.of(Outcome.PASS, "no test-mode keys in the environment")


def check_debug(ctx: Context) -> Verdict:
    if not ctx.settings.is_production:
        return _not_production(ctx, "debug flags")
    findings = [
        Finding(f"{name} is on")
        for name in DEBUG_FLAGS
        if ctx.environ.get(name, "").strip().lower() in TRUTHY
    ]
    if ctx.environ.get("FLASK_ENV", "").strip().lower() == "development":
        findings.append(Finding("FLASK_ENV is 'development'"))
    node_env = ctx.environ.get("NODE_ENV")
    if node_env is not None and node_env.strip() != "production":
        findings.append(Finding("NODE_ENV is set, but not to 'production'"))
    if findings:
        return Verdict.of(
            Outcome.FAIL,
            f"debug mode is on in production ({'; '.join(f.message for f in findings)}): debug pages leak "
            "source and settings. Turn it off in the deploy environment.",
            findings,
        )
    return Verdict.of(Outcome.PASS, "no debug flag is on")


@contextmanager
def _importable_from(root: Path) -> Iterator[None]:
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))


def _load_class(ctx: Context, spec: str) -> type[BaseModel]:
    module_name, _, class_name = spec.partition(":")
    where = ctx.settings.where("env", "settings-class")
    try:
        with _importable_from(ctx.root):
            obj = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"{where}: cannot import {spec} ({type(exc).__name__}: {exc}). "
            "Fix the path, or run the gate from the project root."
        ) from None
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        raise ConfigError(f"{where}: {spec} is not a pydantic model or pydantic-settings class.")
    return obj


def env_var_for(cls: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """The environment variable a pydantic-settings field is read from."""
    config: Any = cls.model_config
    prefix = str(config.get("env_prefix", "") or "")
    delimiter = str(config.get("env_nested_delimiter", "") or "__")
    field = cls.model_fields.get(str(loc[0])) if loc else None
    head = (field.validation_alias or field.alias) if field is not None else None
    parts = [str(head) if isinstance(head, str) else prefix + str(loc[0])] if loc else []
    name = delimiter.join(parts + [str(p) for p in loc[1:]])
    return name if config.get("case_sensitive") else name.upper()


def reading(cls: type[BaseModel], environ: Mapping[str, str]) -> type[BaseModel]:
    """The user's settings class, reading its environment variables from `environ` (not os.environ)."""
    if not issubclass(cls, BaseSettings):
        return cls
    original = cls.settings_customise_sources.__func__  # type: ignore[attr-defined]

    def sources(
        owner: type[BaseSettings],
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env = env_settings
        if isinstance(env, EnvSettingsSource) and not isinstance(env, DotEnvSettingsSource):
            env.env_vars = {(k if env.case_sensitive else k.lower()): v for k, v in environ.items()}
        chosen = original(owner, settings_cls, init_settings, env, dotenv_settings, file_secret_settings)
        return tuple(chosen)

    return type(cls.__name__, (cls,), {"settings_customise_sources": classmethod(sources)})


def check_settings_class(ctx: Context) -> Verdict:
    spec = ctx.settings.env.settings_class
    if spec is None:
        return Verdict.of(Outcome.SKIP, "no settings-class configured in [tool.launch-gate.env]")
    cls = _load_class(ctx, spec)
    try:
        reading(cls, ctx.environ)()
    except ValidationError as exc:
        findings = [_validation_finding(cls, err, ctx.environ) for err in exc.errors(include_input=False)]
        return Verdict.of(
            Outcome.FAIL,
            f"{spec} rejects the environment ({len(findings)} problems): "
            + "; ".join(f.message for f in findings),
            findings,
        )
    return Verdict.of(Outcome.PASS, f"{spec} loads from the environment")


def _validation_finding(cls: type[BaseModel], err: Mapping[str, Any], environ: Mapping[str, str]) -> Finding:
    var = env_var_for(cls, tuple(err["loc"]))
    message = str(err["msg"])
    value = environ.get(var)
    if value and len(value) >= 3:
        message = message.replace(value, "[redacted]")
    return Finding(f"{var}: {message}")


CHECKS = (
    Check("env.required", Phase.PRE, "required variables are set and not empty", check_required),
    Check("env.placeholders", Phase.PRE, "declared variables hold no placeholder values", check_placeholders),
    Check("env.test-keys", Phase.PRE, "no test-mode payment keys in production", check_test_keys),
    Check("env.debug", Phase.PRE, "no debug flag on in production", check_debug),
    Check("env.settings-class", Phase.PRE, "your pydantic-settings class loads", check_settings_class),
)
