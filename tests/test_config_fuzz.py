"""The configuration promise, held by a property: whatever configuration documents (any keys, nesting, types,
encodings) and LAUNCH_GATE_* values a user writes, `launch-gate` ends in exit 0, 1, 2 or 4, with no traceback,
no internal error, no crashed check and no 6-character piece of a value planted in the configuration."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from launch_gate.cli import main
from launch_gate.config import Settings
from launch_gate.config.schema import kebab

BOUNDED = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PLANT = "\x00plant\x00"  # stands for the planted value until the document is written
# Keys whose value the gate shows on purpose: variable NAMES, the environment's name, a path or class the
# report names. A planted value goes elsewhere; `python` names a program to run, so it is never generated.
SHOWN = {("environment",), ("env", "required"), ("env", "example-file"), ("env", "settings-class")}
NEVER = {("env", "python")}
ARGVS = (["check", "--phase", "pre", "--select", "env"], ["list"])
OK_EXITS = {0, 1, 2, 4}

# A value unlike any word the gate prints: two fixed letters, then consonants and digits.
secrets_ = st.text(alphabet="BCDFGHJKLMNPQRSTVWXZ23456789", min_size=8, max_size=14).map(lambda s: "Zq" + s)
odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from("\x00\x07\n\r\t \x7f"),
    max_size=12,
)
plausible = st.sampled_from(
    [
        "https://www.example.com",
        "https://[::1",
        "https://x.example:99999",
        "/api/health",
        "127.0.0.1:5353",
        "www.example.com:443:127.0.0.1:8443",
        "qa@yourapp.com",
        "fail",
        "warn",
        "off",
        "smtp",
        "GET",
        "json:a.b",
        "body:(",
        "a.b:C",
        "{user.email}",
        "2030-01-01",
    ]
)
scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("inf"), float("-inf"), float("nan"), 0, -1, 10**30, 2**63 - 1]),
    st.integers(),
    st.booleans(),
    odd_text,
    plausible,
    st.just(PLANT),
    st.sampled_from(["ftp://", "https://", "/", "", "body:(?P=", "body:(?P<", "json:", "header:"]).map(
        lambda p: p + PLANT
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text | plausible, inner, max_size=3),
    max_leaves=8,
)


def _members(annotation: object) -> list[object]:
    if typing.get_origin(annotation) is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) if a is not type(None) for m in _members(a)]
    return [annotation]


def shaped(annotation: object, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like the settings model where it has a shape (so the fuzz reaches nested tables), with
    any value or key mixed in."""
    options: list[st.SearchStrategy[Any]] = [values]
    for member in _members(annotation):
        origin = typing.get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel) and depth < 5:
            fields = {f.alias or kebab(n): f.annotation for n, f in member.model_fields.items()}
            options.append(
                st.fixed_dictionaries(
                    {}, optional={k: shaped(a, depth + 1) for k, a in fields.items()} | {"bogus-key": values}
                )
            )
        elif origin is dict and depth < 5:
            item = typing.get_args(member)[1]
            options.append(
                st.dictionaries(
                    st.sampled_from(["home", "signup", "Bad Name", "x"]), shaped(item, depth + 1), max_size=2
                )
            )
        elif origin is list and depth < 5:
            options.append(st.lists(shaped(typing.get_args(member)[0], depth + 1), max_size=2))
        elif origin is typing.Literal:
            options.append(st.sampled_from(typing.get_args(member)))
    return st.one_of(*options)


documents = shaped(Settings).filter(lambda d: isinstance(d, dict))


def planted(value: Any, secret: str, path: tuple[str, ...] = ()) -> Any:
    """The document with PLANT replaced by the secret, except where the gate shows the value on purpose."""
    if isinstance(value, dict):
        return {
            k: planted(v, secret, (*path, str(k))) for k, v in value.items() if (*path, str(k)) not in NEVER
        }
    if isinstance(value, list):
        return [planted(v, secret, path) for v in value]
    if isinstance(value, str) and PLANT in value:
        return value.replace(PLANT, "x" if path[:2] in SHOWN or path[:1] in SHOWN else secret)
    return value


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    items = ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items())
    return "{ " + items + " }"


def toml_document(document: dict[str, Any], pyproject: bool) -> str:
    lines = ["[tool.launch-gate]"] if pyproject else []
    lines += [f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}" for k, v in document.items()]
    return "\n".join(lines) + "\n"


ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1", "garbage"])


def encoded(text: str, encoding: str, noise: bytes) -> bytes:
    if encoding == "garbage":
        data = text.encode("utf-8")
        middle = len(data) // 2
        return data[:middle] + noise + data[middle:]
    return text.encode(encoding, errors="replace")


ENV_NAMES = st.sampled_from(
    [
        "LAUNCH_GATE_TIMEOUT",
        "LAUNCH_GATE_TARGET",
        "LAUNCH_GATE_CHECKS",
        "LAUNCH_GATE_ENV__REQUIRED",
        "LAUNCH_GATE_LATENCY__ROUTES",
        "LAUNCH_GATE_LATENCY",
        "LAUNCH_GATE_LATENCY__RATE",
        "LAUNCH_GATE_SMOKE__FLOWS",
        "LAUNCH_GATE_SMOKE__MAILBOX__LISTEN",
        "LAUNCH_GATE_SMOKE__PLUS_ADDRESS",
        "LAUNCH_GATE_NET__CONNECT_TO",
        "LAUNCH_GATE_NET__NAMESERVERS",
        "LAUNCH_GATE_NET__PROBE_TIMEOUT",
        "LAUNCH_GATE_DEPS__WAIVERS",
        "LAUNCH_GATE_NOPE",
    ]
)
env_values = st.one_of(
    odd_text.filter(lambda t: "\x00" not in t), plausible, st.just(PLANT), values.map(json.dumps)
)


@dataclass
class Run:
    code: object
    output: str


@contextlib.contextmanager
def scratch(environ: dict[str, str]) -> Iterator[Path]:
    """A scratch project as the current directory, with exactly `environ`'s LAUNCH_GATE_* variables."""
    saved_cwd, saved_env = os.getcwd(), dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        for name in [n for n in os.environ if n.startswith("LAUNCH_GATE_")]:
            del os.environ[name]
        os.environ.update(environ)
        try:
            yield Path(tmp)
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)


def run_main(argv: list[str]) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: object = main(argv)
        except BaseException as exc:  # the property: nothing escapes main
            code = f"escaped {type(exc).__name__}"
    return Run(code, out.getvalue() + err.getvalue())


def assert_promise(run: Run, secret: str, shown: str = "") -> None:
    """`shown` is the user's text without the planted value: a key such as `222222` may happen to share a piece
    with the secret, and the gate names unknown keys on purpose."""
    assert run.code in OK_EXITS, run
    for bad in ("Traceback", "internal error", "the check crashed", "INTERNALERROR", "please report it"):
        assert bad not in run.output, run.output
    pieces = {secret[i : i + 6] for i in range(len(secret) - 5)}
    leaked = [piece for piece in pieces if piece in run.output and piece not in shown]
    assert not leaked, (leaked, run.output)


@BOUNDED
@given(
    document=documents,
    secret=secrets_,
    pyproject=st.booleans(),
    encoding=ENCODINGS,
    noise=st.binary(min_size=1, max_size=4),
    argv=st.sampled_from(ARGVS),
)
def test_any_configuration_file_ends_in_a_verdict_or_a_sentence(
    document, secret, pyproject, encoding, noise, argv
):
    text = toml_document(planted(document, secret), pyproject)
    with scratch({}) as root:
        name = "pyproject.toml" if pyproject else "launch-gate.toml"
        (root / name).write_bytes(encoded(text, encoding, noise))
        run = run_main(list(argv))
    assert_promise(run, secret, shown=toml_document(planted(document, ""), pyproject))


@BOUNDED
@given(
    variables=st.dictionaries(ENV_NAMES, env_values, min_size=1, max_size=3),
    secret=secrets_,
    argv=st.sampled_from(ARGVS),
)
def test_any_launch_gate_variables_end_in_a_verdict_or_a_sentence(variables, secret, argv):
    environ = {
        k: v.replace(PLANT, secret) if "REQUIRED" not in k else v.replace(PLANT, "x")
        for k, v in variables.items()
    }
    with scratch(environ) as root:
        (root / "launch-gate.toml").write_text("")
        run = run_main(list(argv))
    assert_promise(run, secret)
