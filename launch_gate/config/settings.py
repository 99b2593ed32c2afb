"""Settings and their sources: what the gate is told, validated once, with every error naming where it came from.

Precedence, lowest first: defaults < `[tool.launch-gate]` in pyproject.toml < launch-gate.toml <
`LAUNCH_GATE_*` environment variables < command-line flags (and their pytest ini twins).

Discovery: the nearest directory, from the current one up to the repository root (the directory holding
`.git`; without a repository, the current directory alone), that holds a launch-gate.toml or a pyproject.toml
with a `[tool.launch-gate]` table. Its files are read and relative paths in them are relative to it.
Errors never echo a value: they name the key, where it came from, the expected shape and the fix.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from launch_gate.config.schema import (
    TABLES,
    DepsTable,
    DnsTable,
    EdgeTable,
    EmailTable,
    EnvTable,
    HandoverTable,
    HeadersTable,
    HealthTable,
    HistoryTable,
    LatencyTable,
    LoadTable,
    MigrationsTable,
    NetTable,
    PrePushTable,
    RegistrationTable,
    SecretsTable,
    SecurityTable,
    SmokeTable,
    TlsTable,
    WatchTable,
    kebab,
    usable_url,
)
from launch_gate.errors import ConfigError

ENV_PREFIX = "LAUNCH_GATE_"
PRODUCTION_NAMES = frozenset({"production", "prod", "live"})
CheckSetting = Literal["fail", "warn", "off"]
CONFIG_NAMES = ("pyproject.toml", "launch-gate.toml")
HOW_TO_CONFIGURE = (
    "create a launch-gate.toml (or a [tool.launch-gate] table in pyproject.toml) in the project, e.g. with "
    '`[env] required = ["DATABASE_URL"]` and `target = "https://www.example.com"`, or pass --config FILE'
)


def flatten_checks(value: object) -> object:
    """`env.debug = "warn"` in TOML is a nested table; turn it back into the dotted check id."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value  # validation says a table was expected, naming the key
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
        frozen=True,
        allow_inf_nan=False,
    )

    environment: str = "production"
    target: str | None = None
    timeout: float = Field(default=60.0, gt=0, le=86_400)
    checks: dict[str, CheckSetting] = Field(default_factory=dict)
    env: EnvTable = Field(default_factory=EnvTable)
    secrets: SecretsTable = Field(default_factory=SecretsTable)
    deps: DepsTable = Field(default_factory=DepsTable)
    migrations: MigrationsTable = Field(default_factory=MigrationsTable)
    net: NetTable = Field(default_factory=NetTable)
    email: EmailTable = Field(default_factory=EmailTable)
    dns: DnsTable = Field(default_factory=DnsTable)
    tls: TlsTable = Field(default_factory=TlsTable)
    headers: HeadersTable = Field(default_factory=HeadersTable)
    latency: LatencyTable = Field(default_factory=LatencyTable)
    smoke: SmokeTable = Field(default_factory=SmokeTable)
    security: SecurityTable = Field(default_factory=SecurityTable)
    pre_push: PrePushTable = Field(default_factory=PrePushTable)
    registration: RegistrationTable = Field(default_factory=RegistrationTable)
    health: HealthTable = Field(default_factory=HealthTable)
    edge: EdgeTable = Field(default_factory=EdgeTable)
    handover: HandoverTable = Field(default_factory=HandoverTable)
    history: HistoryTable = Field(default_factory=HistoryTable)
    watch: WatchTable = Field(default_factory=WatchTable)
    load: LoadTable = Field(default_factory=LoadTable)

    _provenance: dict[tuple[str, ...], str] = PrivateAttr(default_factory=dict)
    _root: Path = PrivateAttr(default_factory=Path.cwd)
    _sources: tuple[Path, ...] = PrivateAttr(default=())

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
        if value is not None and not usable_url(value):
            raise ValueError(
                "must be an http:// or https:// URL such as https://www.example.com, with a host, a port from "
                "1 to 65535 if any, IPv6 addresses in [brackets], and no spaces or control characters"
            )
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        if not value.strip() or not value.isprintable():
            raise ValueError("must be a name such as 'production' or 'staging'")
        return value.strip()

    @property
    def is_production(self) -> bool:
        return self.environment.lower() in PRODUCTION_NAMES

    @property
    def root(self) -> Path:
        """The directory relative paths in the configuration are resolved against."""
        return self._root

    @property
    def sources(self) -> tuple[Path, ...]:
        """The configuration files read, lowest precedence first (absolute paths; empty when none was)."""
        return self._sources

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
            if path[0] == "checks" and len(path) > 1:  # check ids are keys of one JSON table, not variables
                return f"environment variable {ENV_PREFIX}CHECKS (its key {path[1]!r})"
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


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    """A TOML file as a dict; an unreadable, binary, non-UTF-8 or malformed file is a ConfigError naming it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {label}: {exc.strerror or type(exc).__name__}.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{label} is not UTF-8 text (byte {exc.start} is not UTF-8); a configuration file is TOML, which "
            "must be UTF-8: save it as UTF-8, or point --config at the right file."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label} is not valid TOML ({exc}); fix the syntax at that line.") from None


def _launch_gate_table(path: Path, label: str) -> dict[str, Any] | None:
    """pyproject.toml's `[tool.launch-gate]` table, or None when it has none."""
    tool = _read_toml(path, label).get("tool")
    table = tool.get("launch-gate") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"`[tool] launch-gate` in {label} must be a table: write `[tool.launch-gate]`.")
    return table


def _label(path: Path, cwd: Path) -> str:
    """A path as the user would type it from where they are (file names with odd bytes escaped)."""
    text = os.path.relpath(path, cwd) if path.is_relative_to(cwd) and cwd != Path("/") else str(path)
    return os.fsdecode(text).encode("utf-8", "backslashreplace").decode("utf-8")


def _file_layer(path: Path, label: str) -> _Layer | None:
    if path.name == "pyproject.toml":
        table = _launch_gate_table(path, label)
        return None if table is None else _Layer(table, "pyproject", label)
    return _Layer(_read_toml(path, label), "toml", label)


def _searched(cwd: Path) -> Iterator[Path]:
    """The current directory and its parents up to the repository root; just cwd outside a repository."""
    chain = [cwd, *cwd.parents]
    top = next((i for i, d in enumerate(chain) if (d / ".git").exists()), 0)
    yield from chain[: top + 1]


def _file_layers(cwd: Path, config_file: Path | None) -> tuple[list[_Layer], list[Path], Path]:
    """The configuration files' layers (lowest precedence first), their paths, and the directory their paths
    are relative to."""
    if config_file is not None:
        path = config_file if config_file.is_absolute() else cwd / config_file
        label = _label(config_file, cwd) if config_file.is_absolute() else _label(path, cwd)
        if not path.exists():
            raise ConfigError(f"configuration file {label} does not exist; check the --config path.")
        if not path.is_file():
            raise ConfigError(f"configuration file {label} is not a file; --config takes a TOML file.")
        layer = _file_layer(path, label)
        if layer is None:
            raise ConfigError(
                f"{label} has no [tool.launch-gate] table; add one, or point --config elsewhere."
            )
        return [layer], [path], path.parent
    for directory in _searched(cwd):
        found = [(directory / name) for name in CONFIG_NAMES if (directory / name).is_file()]
        layers = [(layer, path) for path in found if (layer := _file_layer(path, _label(path, cwd)))]
        if layers:
            return [la for la, _ in layers], [path for _, path in layers], directory
    return [], [], cwd


def _no_configuration(cwd: Path) -> ConfigError:
    searched = list(_searched(cwd))
    where = _label(cwd, Path("/")) if len(searched) == 1 else f"{cwd} and its parents up to {searched[-1]}"
    return ConfigError(
        f"no launch-gate configuration found (looked for {' or '.join(CONFIG_NAMES[::-1])} with a "
        f"[tool.launch-gate] table in {where}); without one the gate would check nothing and call it ready. "
        f"To configure it, {HOW_TO_CONFIGURE}."
    )


def _env_layer(environ: Mapping[str, str]) -> _Layer:
    known = set(Settings.model_fields)
    ours = {k: v for k, v in environ.items() if k.upper().startswith(ENV_PREFIX)}
    for name in ours:
        top = name[len(ENV_PREFIX) :].split("__")[0].lower()
        if top not in known:
            raise ConfigError(
                f"environment variable {_printable(name)} is not a launch-gate setting; known settings are "
                f"{', '.join(ENV_PREFIX + k.upper() for k in sorted(known))}. Unset it or fix the spelling."
            )
    try:
        return _Layer(_read_env(ours), "env", "environment")
    except (SettingsError, ValueError, TypeError, AttributeError):
        pass
    culprits = []  # the variables that cannot be read even alone; else every one, as they clash together
    for name, value in ours.items():
        try:
            _read_env({name: value})
        except (SettingsError, ValueError, TypeError, AttributeError):
            culprits.append(name)
    names = ", ".join(_printable(n) for n in sorted(culprits or ours))
    raise ConfigError(
        f"environment variable {names} cannot be read: a table or list given in a LAUNCH_GATE_* variable must "
        'be valid JSON (e.g. LAUNCH_GATE_LATENCY__ROUTES=\'{"home": {"path": "/"}}\'), and a variable cannot '
        "set both a table and one of its keys. Fix or unset it."
    )


def _read_env(variables: Mapping[str, str]) -> dict[str, Any]:
    source = EnvSettingsSource(Settings)
    source.env_vars = {k.lower(): v for k, v in variables.items()}
    return dict(source())


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8") if text.isprintable() else repr(text)


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
    loc = (kebab(loc[0]), *loc[1:]) if loc else loc  # a top-level key as the sources spell it: `pre-push`
    origin = f"`{'.'.join(loc)}`"
    for size in range(len(loc), 0, -1):  # list items (waivers) are named by their list and position
        layer = next((la for la in reversed(layers) if loc[:size] in _leaves(la.data)), None)
        if layer is not None:
            rest = loc[size:]
            if rest and rest[0].isdigit():
                where = f" (item {int(rest[0]) + 1}{', ' + '.'.join(rest[1:]) if len(rest) > 1 else ''})"
            else:  # a string given where a table was expected, e.g. a latency route given as a path
                where = f" ({'.'.join(rest)})" if rest else ""
            origin = layer.describe(loc[:size]) + where
            break
    if error["type"] == "extra_forbidden":
        model = model_at(tuple(error["loc"])[:-1])
        known = ", ".join(sorted(field.alias or kebab(name) for name, field in model.model_fields.items()))
        return f"{origin}: unknown setting; known settings here are {known}. Remove it or fix the spelling."
    if error["type"] == "literal_error" and loc[:1] == ("checks",):
        return f'{origin}: must be "fail", "warn" or "off".'
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{origin}: {message}. Fix the value."


def model_at(loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The settings model a location inside the settings points at (e.g. `latency.routes.home` is a
    LatencyRoute, `smoke.flows.f.steps.0` a FlowStep), walking fields, dict values and list items."""
    found: type[BaseModel] = Settings
    annotation: object = Settings
    for part in loc:
        annotation = _inner(annotation, part)
        model = _model_of(annotation)
        if model is not None:
            found = model
        elif annotation is None:
            break
    return found if annotation is not None else TABLES.get(str(loc[0]), Settings) if loc else Settings


def _members(annotation: object) -> list[object]:
    """The types an annotation may hold: Annotated and Optional/Union unwrapped."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) if arg is not type(None) for m in _members(arg)]
    return [annotation]


def _model_of(annotation: object) -> type[BaseModel] | None:
    return next((m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)), None)


def _inner(annotation: object, part: int | str) -> object:
    """The annotation one step further in: a model's field, a dict's value or a list's item."""
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for name, field in member.model_fields.items():
                if part in (name, field.alias, kebab(name)):
                    return field.annotation
        elif typing.get_origin(member) is dict:
            return typing.get_args(member)[1]
        elif typing.get_origin(member) in (list, tuple) and isinstance(part, int):
            return typing.get_args(member)[0]
    return None


def load_settings(
    cwd: Path | None = None,
    config_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
    flag_names: Mapping[str, str] | None = None,
    require_file: bool = True,
) -> Settings:
    """Read every source in precedence order and validate once; raise ConfigError naming the culprit (and
    nothing else). Without a configuration file that is an error too, unless `require_file` is False."""
    cwd = cwd or Path.cwd()
    environ = os.environ if environ is None else environ
    try:
        return _load(cwd, config_file, overrides, environ, flag_names, require_file)
    except ConfigError:
        raise
    except Exception as exc:  # a bug of ours must still be a sentence, and never show a value
        raise ConfigError(
            f"the configuration could not be read ({type(exc).__name__}); please report it, with the "
            "configuration's keys (not its values)."
        ) from None


def _load(
    cwd: Path,
    config_file: Path | None,
    overrides: Mapping[str, object] | None,
    environ: Mapping[str, str],
    flag_names: Mapping[str, str] | None,
    require_file: bool,
) -> Settings:
    layers, files, root = _file_layers(cwd, config_file)
    if not files and require_file:
        raise _no_configuration(cwd)
    layers.append(_env_layer(environ))
    cli = {k: v for k, v in (overrides or {}).items() if v is not None}
    layers.append(_Layer(cli, "cli", "option", flag_names))
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = _merge(merged, layer.data)
    try:  # the sources spell keys in kebab-case; the model's top-level fields are Python names (`pre_push`)
        settings = Settings(**{key.replace("-", "_"): value for key, value in merged.items()})
    except ValidationError as exc:
        problems = [_explain(e, layers) for e in exc.errors(include_input=False, include_context=False)]
        raise ConfigError("invalid launch-gate configuration:\n  " + "\n  ".join(problems)) from None
    settings._root = root
    settings._sources = tuple(files)
    settings._provenance = {path: layer.describe(path) for layer in layers for path in _leaves(layer.data)}
    _check_settings_class(settings)
    return settings


def _check_settings_class(settings: Settings) -> None:
    """`[env] settings-class` must name a module and class that exist (a misspelling is a configuration
    error, found without running the module); `[env] python` must name an interpreter."""
    table = settings.env
    if table.python is not None and interpreter(settings) is None:
        raise ConfigError(
            f"{settings.where('env', 'python')}: no executable Python interpreter at that path (relative to "
            f"{settings.root}) or of that name on PATH; name your app's interpreter, e.g. '.venv/bin/python'."
        )
    if table.settings_class is None:
        return
    module, _, cls = table.settings_class.partition(":")
    where = settings.where("env", "settings-class")
    origin = module_origin(module, settings.root, installed=table.python is None)
    if origin is None and table.python is None:
        raise ConfigError(
            f"{where}: there is no module {module} in {settings.root} nor installed where launch-gate runs "
            f"({sys.executable}). Fix the spelling (module.path:ClassName); if the module is installed only "
            "in your app's environment, set `[env] python` to that environment's interpreter (e.g. "
            "'.venv/bin/python'), or run `pytest --launch-gate` inside it."
        )
    if origin is not None and not defines(origin, cls):
        raise ConfigError(f"{where}: module {module} ({origin}) defines no {cls}; fix the class name.")


def interpreter(settings: Settings) -> Path | None:
    """The app's Python named by `[env] python` (a path relative to the configuration, or a command)."""
    name = settings.env.python
    if name is None:
        return None
    if os.sep in name or (os.altsep and os.altsep in name):
        path = settings.root / name
    else:
        found = shutil.which(name)
        path = Path(found) if found else settings.root / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


def module_origin(module: str, root: Path, installed: bool) -> Path | None:
    """Where `module` would be imported from (the project root first, then, if `installed`, where launch-gate
    runs, import hooks of editable installs included), without running any of it; None if nowhere."""
    parts = module.split(".")
    spec = importlib.machinery.PathFinder.find_spec(parts[0], [str(root)])
    if spec is None and installed:
        try:
            spec = importlib.util.find_spec(parts[0])  # a top-level name: nothing is imported to find it
        except (ImportError, ValueError):
            spec = None
    for depth in range(1, len(parts)):
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if not locations:
            return None  # no such package, or a plain module, which has no submodules
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: depth + 1]), locations)
    if spec is None:
        return None
    return Path(spec.origin) if spec.origin else Path(spec.name)


def defines(origin: Path, name: str) -> bool:
    """Whether a module's source binds `name` at top level; True when that cannot be told without running it
    (not Python source, a syntax error, `import *`, a module `__getattr__`)."""
    if origin.suffix != ".py":
        return True
    try:
        tree = ast.parse(origin.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return True
    bound = _bound(tree.body)
    return bool({name, "*", "__getattr__"} & bound)


def _bound(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        else:  # if/try/with blocks at top level bind names too
            for field in ("body", "orelse", "finalbody"):
                names |= _bound([n for n in getattr(node, field, []) if isinstance(n, ast.stmt)])
            for handler in getattr(node, "handlers", []):
                names |= _bound(handler.body)
    return names
