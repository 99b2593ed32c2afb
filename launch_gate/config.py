"""Settings and their sources: what the gate is told, validated once, with every error naming where it came from.

Precedence, lowest first: defaults < `[tool.launch-gate]` in pyproject.toml < launch-gate.toml <
`LAUNCH_GATE_*` environment variables < command-line flags (and their pytest ini twins).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    PyprojectTomlConfigSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from launch_gate.errors import ConfigError
from launch_gate.tables import (
    TABLES,
    DepsTable,
    DnsTable,
    EmailTable,
    EnvTable,
    HeadersTable,
    LatencyTable,
    NetTable,
    SecretsTable,
    SmokeTable,
    TlsTable,
    kebab,
)

ENV_PREFIX = "LAUNCH_GATE_"
PRODUCTION_NAMES = frozenset({"production", "prod", "live"})
CheckSetting = Literal["fail", "warn", "off"]


def flatten_checks(value: object) -> object:
    """`env.debug = "warn"` in TOML is a nested table; turn it back into the dotted check id."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, Mapping):
        return value
    flat: dict[str, object] = {}
    for key, setting in value.items():
        if isinstance(setting, Mapping):
            inner = flatten_checks(setting)
            assert isinstance(inner, dict)
            flat.update({f"{key}.{sub}": level for sub, level in inner.items()})
        else:
            flat[str(key)] = setting
    return flat


class Settings(BaseSettings):
    """Everything the gate is told. Build it with `load_settings`, which layers the sources."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        hide_input_in_errors=True,
        pyproject_toml_table_header=("tool", "launch-gate"),
        frozen=True,
    )

    environment: str = "production"
    target: str | None = None
    timeout: float = Field(default=60.0, gt=0)
    checks: dict[str, CheckSetting] = Field(default_factory=dict)
    env: EnvTable = Field(default_factory=EnvTable)
    secrets: SecretsTable = Field(default_factory=SecretsTable)
    deps: DepsTable = Field(default_factory=DepsTable)
    net: NetTable = Field(default_factory=NetTable)
    email: EmailTable = Field(default_factory=EmailTable)
    dns: DnsTable = Field(default_factory=DnsTable)
    tls: TlsTable = Field(default_factory=TlsTable)
    headers: HeadersTable = Field(default_factory=HeadersTable)
    latency: LatencyTable = Field(default_factory=LatencyTable)
    smoke: SmokeTable = Field(default_factory=SmokeTable)

    _provenance: dict[tuple[str, ...], str] = PrivateAttr(default_factory=dict)
    _root: Path = PrivateAttr(default_factory=Path.cwd)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # `load_settings` reads and layers the sources itself, so it can say which one a bad value came from.
        return (init_settings,)

    @field_validator("checks", mode="before")
    @classmethod
    def _flatten_checks(cls, value: object) -> object:
        return flatten_checks(value)

    @field_validator("target")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL such as https://www.example.com")
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty; use e.g. 'production' or 'staging'")
        return value.strip()

    @property
    def is_production(self) -> bool:
        return self.environment.lower() in PRODUCTION_NAMES

    @property
    def root(self) -> Path:
        """The directory relative paths in the configuration are resolved against."""
        return self._root

    def where(self, *path: str) -> str:
        """Which source set this key, for error messages."""
        return self._provenance.get(path, f"`{'.'.join(path)}`")


class _Layer:
    """One configuration source, read into a plain dict, able to describe where each key came from."""

    def __init__(
        self, data: Mapping[str, Any], kind: str, label: str, flags: Mapping[str, str] | None = None
    ) -> None:
        self.data = _normalise(data)
        if "checks" in self.data:
            self.data["checks"] = flatten_checks(self.data["checks"])
        self.kind = kind
        self.label = label
        self.flags = flags or {}

    def describe(self, path: tuple[str, ...]) -> str:
        if self.kind == "env":
            return "environment variable " + ENV_PREFIX + "__".join(p.replace("-", "_") for p in path).upper()
        if self.kind == "cli":
            return f"{self.label} {self.flags.get(path[0], path[0])}"
        table, key = path[:-1], path[-1]
        header = ".".join((*(("tool", "launch-gate") if self.kind == "pyproject" else ()), *table))
        return f"`[{header}] {key}` in {self.label}" if header else f"`{key}` in {self.label}"


# Tables whose keys are the user's names (check ids, route and flow names) or data sent as given (a request's
# JSON body, form fields and headers, captures): their keys keep their spelling.
_NAMED = frozenset({"routes", "flows"})
_VERBATIM = frozenset({"json", "form", "headers", "capture"})


def _normalise(data: Mapping[str, Any], depth: int = 0, named: bool = False) -> dict[str, Any]:
    """Kebab-case setting names (so `probe_timeout` and `probe-timeout` are one key); leave user names alone."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key) if named else kebab(str(key))
        if name == "checks" or (depth and name in _VERBATIM):
            out[name] = value
        elif isinstance(value, Mapping):
            out[name] = _normalise(value, depth + 1, named=name in _NAMED)
        else:
            out[name] = value
    return out


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict) and key != "checks":
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path, pyproject: bool) -> dict[str, Any]:
    try:
        if pyproject:
            return dict(PyprojectTomlConfigSettingsSource(Settings, path)())
        return dict(TomlConfigSettingsSource(Settings, path)())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the syntax at that line.") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}.") from None


def _file_layer(path: Path, label: str) -> _Layer:
    pyproject = path.name == "pyproject.toml"
    return _Layer(_read_toml(path, pyproject), "pyproject" if pyproject else "toml", label)


def _file_layers(cwd: Path, config_file: Path | None) -> tuple[list[_Layer], Path]:
    """The configuration files, lowest precedence first, and the directory their paths are relative to."""
    if config_file is not None:
        path = config_file if config_file.is_absolute() else cwd / config_file
        if not path.is_file():
            raise ConfigError(f"configuration file {config_file} does not exist; check the --config path.")
        return [_file_layer(path, str(config_file))], path.parent
    found = [cwd / name for name in ("pyproject.toml", "launch-gate.toml") if (cwd / name).is_file()]
    return [_file_layer(path, path.name) for path in found], cwd


def _env_layer(environ: Mapping[str, str]) -> _Layer:
    known = set(Settings.model_fields)
    for name in environ:
        if name.upper().startswith(ENV_PREFIX):
            top = name[len(ENV_PREFIX) :].split("__")[0].lower()
            if top not in known:
                raise ConfigError(
                    f"environment variable {name} is not a launch-gate setting; known settings are "
                    f"{', '.join(ENV_PREFIX + k.upper() for k in sorted(known))}. Unset it or fix the spelling."
                )
    source = EnvSettingsSource(Settings)
    source.env_vars = {k.lower(): v for k, v in environ.items() if k.upper().startswith(ENV_PREFIX)}
    return _Layer(source(), "env", "environment")


def _leaves(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for key, value in data.items():
        path = (*prefix, key)
        paths.append(path)
        if isinstance(value, Mapping):
            paths.extend(_leaves(value, path))
    return paths


def _explain(error: Mapping[str, Any], layers: list[_Layer]) -> str:
    loc = tuple(str(p) for p in error["loc"])
    origin = f"`{'.'.join(loc)}`"
    for size in range(len(loc), 0, -1):  # list items (waivers) are named by their list and position
        layer = next((la for la in reversed(layers) if loc[:size] in _leaves(la.data)), None)
        if layer is not None:
            rest = loc[size:]
            if rest and rest[0].isdigit():
                where = f" (item {int(rest[0]) + 1}{', ' + rest[1] if len(rest) > 1 else ''})"
            else:  # a string given where a table was expected, e.g. a latency route given as a path
                where = f" ({'.'.join(rest)})" if rest else ""
            origin = layer.describe(loc[:size]) + where
            break
    if error["type"] == "extra_forbidden":
        model: type[BaseModel] = Settings if len(loc) == 1 else TABLES.get(loc[0], Settings)
        known = ", ".join(sorted(kebab(k) for k in model.model_fields))
        return f"{origin}: unknown setting; known settings here are {known}. Remove it or fix the spelling."
    if error["type"] == "literal_error" and loc[:1] == ("checks",):
        return f'{origin}: must be "fail", "warn" or "off".'
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{origin}: {message}. Fix the value."


def load_settings(
    cwd: Path | None = None,
    config_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
    flag_names: Mapping[str, str] | None = None,
) -> Settings:
    """Read every source in precedence order and validate once; raise ConfigError naming the culprit."""
    cwd = cwd or Path.cwd()
    environ = os.environ if environ is None else environ
    layers, root = _file_layers(cwd, config_file)
    layers.append(_env_layer(environ))
    cli = {k: v for k, v in (overrides or {}).items() if v is not None}
    layers.append(_Layer(cli, "cli", "option", flag_names))
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = _merge(merged, layer.data)
    try:
        with warnings.catch_warnings():
            # The pyproject table header is read by our own layer, not by a source pydantic-settings runs.
            warnings.filterwarnings("ignore", message=".*pyproject_toml_table_header", category=UserWarning)
            settings = Settings(**merged)
    except ValidationError as exc:
        problems = [_explain(e, layers) for e in exc.errors(include_input=False)]
        raise ConfigError("invalid launch-gate configuration:\n  " + "\n  ".join(problems)) from None
    except json.JSONDecodeError:
        raise ConfigError(
            "a list or table given as JSON in a LAUNCH_GATE_* variable is not valid JSON."
        ) from None
    settings._root = root
    settings._provenance = {path: layer.describe(path) for layer in layers for path in _leaves(layer.data)}
    return settings
