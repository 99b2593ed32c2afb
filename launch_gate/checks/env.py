"""Environment checks: required variables present and real, no test keys or debug flags in production.

Values are never put in a message: a finding names the variable and, at most, a fingerprint of the value.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import typing
from collections.abc import Iterator, Mapping, Sequence
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

from launch_gate.checks import Context, check
from launch_gate.errors import ConfigError, CouldNotVerify
from launch_gate.redact import fingerprint
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.dotenv import declared_in
from launch_gate.rules.placeholders import placeholder_kind
from launch_gate.rules.words import count

TEST_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Stripe test-mode key", re.compile(r"(?<![A-Za-z0-9])[spr]k_test_\w")),
    ("a Razorpay test key", re.compile(r"(?<![A-Za-z0-9])rzp_test_\w")),
    ("a Square sandbox credential", re.compile(r"(?<![A-Za-z0-9])sandbox-sq0\w")),
    ("a Braintree sandbox key", re.compile(r"^sandbox_[a-z0-9]{6,}")),
)
DEBUG_FLAGS = ("DEBUG", "FLASK_DEBUG", "DJANGO_DEBUG", "APP_DEBUG")
TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})


def read_example_file(path: Path) -> list[str]:
    """The variable names a dotenv-style example file declares (`KEY=value`, `export KEY=`, comments).
    A file that cannot be read, or is not UTF-8 (a UTF-16 file would declare nothing), could not be verified."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CouldNotVerify(
            f"cannot read the example file {shown(path)}: {exc.strerror or type(exc).__name__}."
        ) from None
    except UnicodeDecodeError as exc:
        raise CouldNotVerify(
            f"the example file {shown(path)} is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None
    return declared_in(text)


def declared_names(ctx: Context) -> list[str]:
    """Required names from the config plus every key of the example file, in order, without repeats."""
    table = ctx.settings.env
    names = list(table.required)
    if table.example_file:
        path = ctx.root / table.example_file
        where = ctx.settings.where("env", "example-file")
        if not path.is_file():
            raise CouldNotVerify(
                f"{where} names {shown(table.example_file)}, which is not a file in {shown(ctx.root)}; fix the "
                "path or remove the setting."
            )
        declared = read_example_file(path)
        if not declared:
            raise CouldNotVerify(
                f"{where}: {shown(table.example_file)} declares no variable (no KEY=value line); list the "
                "variables the deploy needs there, or remove the setting."
            )
        names.extend(declared)
    return list(dict.fromkeys(names))


def shown(path: Path | str) -> str:
    """A path as printable text (a file name that is not UTF-8 keeps its bytes escaped)."""
    return os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")


def _no_declared_names() -> Verdict:
    return Verdict.of(
        Outcome.SKIP,
        "no variables declared: set `required` or `example-file` in [tool.launch-gate.env].",
    )


@check(
    "env.required",
    Phase.PRE,
    "required variables are set and not empty",
    fails_when=(
        "a variable from `required` or the `example-file` is unset or empty; an `example-file` that is "
        "missing, cannot be read, is not UTF-8 or declares no variable is *could not verify*, naming the "
        "file"
    ),
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
            f"{len(findings)} of {count(len(names), 'required variable')} {'is' if len(findings) == 1 else 'are'} "
            "missing or empty: "
            f"{', '.join(missing + empty)}. Set them in the deploy environment (e.g. your host's secrets).",
            findings,
        )
    return Verdict.of(Outcome.PASS, f"every required variable is set ({len(names)})")


@check(
    "env.placeholders",
    Phase.PRE,
    "declared variables hold no placeholder values",
    fails_when=(
        "a declared variable holds a placeholder: `changeme`, `xxx`, `your-…`, `TODO`, `<…>`, `{{…}}`, "
        "`example`"
    ),
)
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


@check(
    "env.test-keys",
    Phase.PRE,
    "no test-mode payment keys in production",
    fails_when=(
        "in production, any variable holds a payment test key (`sk_test_`, `pk_test_`, `rk_test_`, "
        "`rzp_test_`, Square/Braintree sandbox)"
    ),
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


@check(
    "env.debug",
    Phase.PRE,
    "no debug flag on in production",
    fails_when=(
        "in production, `DEBUG`, `FLASK_DEBUG`, `DJANGO_DEBUG` or `APP_DEBUG` is truthy, "
        "`FLASK_ENV=development`, or `NODE_ENV` is set to anything but `production`"
    ),
)
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
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        _not_found(where, spec, exc.name or "", sys.executable, here=True)
    except Exception as exc:  # the user's module failed while importing: its message may hold values
        raise CouldNotVerify(
            f"{where}: importing {module_name} raised {type(exc).__name__}; fix the module, or run the gate "
            "where the app itself runs."
        ) from None
    obj = getattr(module, class_name, None)
    if obj is None:
        raise ConfigError(f"{where}: module {module_name} defines no {class_name}; fix the class name.")
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        raise ConfigError(f"{where}: {spec} is not a pydantic model or pydantic-settings class.")
    return obj


def _not_found(where: str, spec: str, missing: str, python: str, here: bool) -> typing.NoReturn:
    """A module that cannot be found: the configured one (a misspelling), or a package it imports."""
    module_name = spec.partition(":")[0]
    if missing and (module_name == missing or module_name.startswith(missing + ".")):
        raise ConfigError(
            f"{where}: cannot import {spec}: there is no module {missing} for {python}. Fix the spelling "
            "(module.path:ClassName, relative to the project root)."
        )
    fix = (
        'Set `[env] python` to your app\'s interpreter (e.g. python = ".venv/bin/python"), so the class is '
        "loaded there, or run `pytest --launch-gate` inside the app's environment."
        if here
        else "Install the app's dependencies in that environment."
    )
    raise CouldNotVerify(
        f"{where}: cannot import {spec}: it imports the package {missing or '(unnamed)'}, which is not "
        f"installed where the class is loaded ({python}). {fix}"
    )


_MARK = "@@launch-gate-settings-class@@ "
# Run by the app's interpreter: imports the class, loads it from the environment and prints one JSON line of
# problems (variable names, error types and messages with the variable's own value removed), never values.
_PROBE = """
import importlib, json, sys
root, spec, mark = sys.argv[1], sys.argv[2], sys.argv[3]
module_name, _, class_name = spec.partition(":")
sys.path.insert(0, root)
def say(**result):
    sys.stdout.write("\\n" + mark + json.dumps(result) + "\\n")
    sys.stdout.flush()
    raise SystemExit(0)
try:
    module = importlib.import_module(module_name)
except ModuleNotFoundError as exc:
    say(status="module-not-found", name=exc.name or "")
except Exception as exc:
    say(status="import-failed", error=type(exc).__name__)
cls = getattr(module, class_name, None)
if cls is None:
    say(status="no-class")
try:
    from pydantic import BaseModel, ValidationError
except ImportError:
    say(status="module-not-found", name="pydantic")
if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
    say(status="not-a-model")
config = dict(cls.model_config)
naming = {
    "prefix": str(config.get("env_prefix") or ""),
    "delimiter": str(config.get("env_nested_delimiter") or "__"),
    "case_sensitive": bool(config.get("case_sensitive")),
    "aliases": {
        name: (f.validation_alias if isinstance(f.validation_alias, str) else f.alias)
        for name, f in cls.model_fields.items()
    },
}
try:
    cls()
except ValidationError as exc:
    errors = [{"loc": list(e["loc"]), "type": e["type"], "msg": e["msg"]} for e in exc.errors(include_input=False)]
    say(status="invalid", errors=errors, naming=naming)
except Exception as exc:
    say(status="crashed", error=type(exc).__name__)
say(status="ok")
"""


def _naming(cls: type[BaseModel]) -> dict[str, Any]:
    config: Any = cls.model_config
    return {
        "prefix": str(config.get("env_prefix", "") or ""),
        "delimiter": str(config.get("env_nested_delimiter", "") or "__"),
        "case_sensitive": bool(config.get("case_sensitive")),
        "aliases": {
            name: (f.validation_alias if isinstance(f.validation_alias, str) else f.alias)
            for name, f in cls.model_fields.items()
        },
    }


def _in_app_python(ctx: Context, spec: str) -> dict[str, Any]:
    """Load the class with `[env] python` in a subprocess; its one line of JSON answer."""
    from launch_gate.config import interpreter

    where = ctx.settings.where("env", "python")
    python = interpreter(ctx.settings)
    if python is None:
        raise ConfigError(f"{where}: no executable Python interpreter there; name your app's interpreter.")
    try:
        done = subprocess.run(
            [str(python), "-c", _PROBE, str(ctx.root), spec, _MARK],
            cwd=ctx.root,
            env=dict(ctx.environ),
            capture_output=True,
            timeout=ctx.settings.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CouldNotVerify(f"loading {spec} with {shown(python)} took longer than the timeout.") from None
    except OSError as exc:
        raise CouldNotVerify(f"cannot run {shown(python)} ({where}): {exc.strerror}.") from None
    lines = [line for line in done.stdout.decode("utf-8", "replace").splitlines() if line.startswith(_MARK)]
    try:
        answer = json.loads(lines[-1][len(_MARK) :])
    except (IndexError, json.JSONDecodeError):
        answer = None
    if not isinstance(answer, dict):
        raise CouldNotVerify(
            f"{shown(python)} ({where}) did not answer about {spec} (exit {done.returncode}); check that it "
            "is a Python 3 interpreter that can import your app."
        )
    return answer


@check(
    "env.settings-class",
    Phase.PRE,
    "your pydantic-settings class loads",
    fails_when=(
        "your `settings-class` (e.g. `app.config:Settings`) rejects the environment; each problem names the "
        "environment variable"
    ),
)
def check_settings_class(ctx: Context) -> Verdict:
    spec = ctx.settings.env.settings_class
    if spec is None:
        return Verdict.of(Outcome.SKIP, "no settings-class configured in [tool.launch-gate.env]")
    if ctx.settings.env.python is None:
        cls = _load_class(ctx, spec)
        try:
            reading(cls, ctx.environ)()
        except ValidationError as exc:
            errors = exc.errors(include_input=False)
            return _rejected(spec, [_validation_finding(_naming(cls), e, ctx.environ) for e in errors])
        except Exception as exc:  # the user's class failed: its message may hold values
            raise CouldNotVerify(
                f"{spec} raised {type(exc).__name__} when loaded from the environment; fix the class."
            ) from None
        return Verdict.of(Outcome.PASS, f"{spec} loads from the environment")
    return _judge(ctx, spec, _in_app_python(ctx, spec))


def _judge(ctx: Context, spec: str, answer: Mapping[str, Any]) -> Verdict:
    """The verdict on what the app's interpreter said about the class."""
    from launch_gate.config import interpreter

    where = ctx.settings.where("env", "settings-class")
    python = shown(interpreter(ctx.settings) or "the app's interpreter")
    status = answer.get("status")
    if status == "ok":
        return Verdict.of(Outcome.PASS, f"{spec} loads from the environment (with {python})")
    if status == "invalid":
        naming, errors = answer.get("naming") or {}, answer.get("errors") or []
        return _rejected(spec, [_validation_finding(naming, e, ctx.environ) for e in errors])
    if status == "module-not-found":
        _not_found(where, spec, str(answer.get("name", "")), python, here=False)
    if status == "no-class":
        raise ConfigError(f"{where}: {spec.partition(':')[0]} defines no {spec.partition(':')[2]}.")
    if status == "not-a-model":
        raise ConfigError(f"{where}: {spec} is not a pydantic model or pydantic-settings class.")
    what = "importing it" if status == "import-failed" else "loading it from the environment"
    raise CouldNotVerify(f"{where}: {what} with {python} raised {answer.get('error', 'an error')}.")


def _rejected(spec: str, findings: list[Finding]) -> Verdict:
    return Verdict.of(
        Outcome.FAIL,
        f"{spec} rejects the environment ({count(len(findings), 'problem')}): "
        + "; ".join(f.message for f in findings),
        findings,
    )


def env_var_for(cls: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """The environment variable a pydantic-settings field is read from."""
    return _variable(_naming(cls), loc)


def _variable(naming: Mapping[str, Any], loc: Sequence[int | str]) -> str:
    if not loc:
        return ""
    head = (naming.get("aliases") or {}).get(str(loc[0]))
    first = str(head) if isinstance(head, str) else str(naming.get("prefix", "")) + str(loc[0])
    name = str(naming.get("delimiter") or "__").join([first, *(str(p) for p in loc[1:])])
    return name if naming.get("case_sensitive") else name.upper()


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


def _validation_finding(
    naming: Mapping[str, Any], err: Mapping[str, Any], environ: Mapping[str, str]
) -> Finding:
    var = _variable(naming, tuple(err.get("loc") or ()))
    message = str(err.get("msg", "invalid"))
    value = environ.get(var)
    if value and len(value) >= 3:
        message = message.replace(value, "[redacted]")
    return Finding(f"{var}: {message}")
