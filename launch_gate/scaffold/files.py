"""Where init writes and how, without harming the user's files: a new launch-gate.toml, or `[tool.launch-gate]`
appended to pyproject.toml (the rest kept byte for byte); an existing configuration is never changed without
`force`, and with it only our table or file is replaced. Every new text is parsed back before it is written,
and a write that leaves no loadable configuration is undone."""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launch_gate.errors import ConfigError

PYPROJECT = "pyproject.toml"
OWN_FILE = "launch-gate.toml"
_HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\[\]#]+?)\s*\]\]?\s*(#.*)?$")


@dataclass(frozen=True)
class Destination:
    """The file init writes, what it holds now, and whether our configuration is being replaced."""

    path: Path
    in_pyproject: bool
    original: bytes | None  # None: a new file
    replacing: bool

    @property
    def label(self) -> str:
        return self.path.name


def read_pyproject(root: Path) -> dict[str, Any] | None:
    """pyproject.toml's data, None when there is none; unreadable, non-UTF-8 or invalid TOML is a ConfigError."""
    path = root / PYPROJECT
    if not path.exists():
        return None
    return _parse(_text(path), path.name)


def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror or type(exc).__name__}; fix its permissions."
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path.name} is not UTF-8 text (byte {exc.start}); TOML must be UTF-8: save it as UTF-8 and run "
            "init again."
        ) from None


def _parse(text: str, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label} is not valid TOML ({exc}); fix it and run init again.") from None


def _has_table(data: dict[str, Any] | None) -> bool:
    tool = data.get("tool") if data else None
    return isinstance(tool, dict) and "launch-gate" in tool


def choose(root: Path, pyproject: dict[str, Any] | None, force: bool) -> Destination:
    """launch-gate.toml when it exists, else pyproject.toml when it exists, else a new launch-gate.toml.
    An existing configuration is a ConfigError unless `force`."""
    own = root / OWN_FILE
    in_pyproject = _has_table(pyproject)
    existing = [
        name
        for name, there in ((OWN_FILE, own.exists() or own.is_symlink()), (PYPROJECT, in_pyproject))
        if there
    ]
    if existing and not force:
        what = " and ".join(f"{n} ([tool.launch-gate])" if n == PYPROJECT else n for n in existing)
        raise ConfigError(
            f"{what} already holds a launch-gate configuration in {root}; init never changes it. Edit it, or "
            "run `launch-gate init --force` to replace it (only launch-gate's own file or tables)."
        )
    if len(existing) == 2:
        raise ConfigError(
            f"both {OWN_FILE} and {PYPROJECT} ([tool.launch-gate]) hold launch-gate configuration in {root}; "
            "init --force replaces one place only: delete one of them and run it again."
        )
    if own.exists() or own.is_symlink():
        if not own.is_file() or own.is_symlink():
            raise ConfigError(f"{own} is not a regular file; init will not replace it: move it away first.")
        return Destination(own, False, _bytes(own), True)
    if pyproject is not None:
        path = root / PYPROJECT
        return Destination(path, True, _bytes(path), in_pyproject)
    return Destination(own, False, None, False)


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or type(exc).__name__}.") from None


def new_text(dest: Destination, rendered: str) -> str:
    """The whole new file: the configuration alone, or pyproject.toml with our tables appended or replaced.
    Parsed back, it must hold exactly what the user had plus our table, or it is not written."""
    if not dest.in_pyproject:
        text = rendered
        _parse(text, dest.label)
        return text
    original = (dest.original or b"").decode("utf-8")
    newline = "\r\n" if "\r\n" in original else "\n"
    ours = rendered.replace("\n", newline)
    text = _replace(original, ours, newline) if dest.replacing else _append(original, ours, newline)
    before = _parse(original, dest.label)
    after = _parse_ours(text, dest)
    table = _parse(rendered, "the new table")["tool"]["launch-gate"]
    if _without_ours(after) != _without_ours(before) or after.get("tool", {}).get("launch-gate") != table:
        raise ConfigError(
            f"init cannot add its table to {dest.label} without changing what the file means (its "
            f"[tool] table is written in a form init cannot extend); add the [tool.launch-gate] table by hand, "
            "or write it to launch-gate.toml."
        )
    return text


def _parse_ours(text: str, dest: Destination) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise ConfigError(
            f"init cannot add its table to {dest.label}: the result would not be valid TOML (the file defines "
            "[tool] in a form init cannot extend); add [tool.launch-gate] by hand, or use launch-gate.toml."
        ) from None


def _without_ours(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    tool = data.get("tool")
    if isinstance(tool, dict):
        tool.pop("launch-gate", None)
        if not tool:
            data.pop("tool")
    return data


def _append(original: str, ours: str, newline: str) -> str:
    if not original:
        return ours
    gap = "" if original.endswith("\n") else newline
    return original + gap + newline + ours


def _is_ours(header: str) -> bool:
    parts = [p.strip().strip("\"'") for p in header.split(".")]
    return parts[:2] == ["tool", "launch-gate"]


def _sections(lines: list[str]) -> list[tuple[int, bool]]:
    """(first line, is ours) for each table header, skipping lines inside multi-line strings."""
    found = []
    open_quote: str | None = None
    for number, line in enumerate(lines):
        if open_quote is None:
            match = _HEADER.match(line)
            if match:
                found.append((number, _is_ours(match["name"])))
                continue
        for quote in ('"""', "'''"):
            if (open_quote in (None, quote)) and line.count(quote) % 2 == 1:
                open_quote = None if open_quote == quote else quote
    return found


def _replace(original: str, ours: str, newline: str) -> str:
    """`original` with every [tool.launch-gate...] section removed and `ours` where the first one was. Comments
    just above the next foreign table stay with it."""
    lines = original.splitlines(keepends=True)
    sections = _sections(lines)
    keep: list[str] = []
    insert_at: int | None = None
    for index, (start, mine) in enumerate(sections):
        end = sections[index + 1][0] if index + 1 < len(sections) else len(lines)
        if index == 0:
            keep += lines[:start]
        body = lines[start:end]
        if not mine:
            keep += body
            continue
        insert_at = len(keep) if insert_at is None else insert_at
        following_foreign = index + 1 < len(sections) and not sections[index + 1][1]
        keep += _trailing_comments(body) if following_foreign else []
    if not sections:
        keep = lines
    at = len(keep) if insert_at is None else insert_at
    head = "".join(keep[:at])
    tail = "".join(keep[at:])
    if head and not head.endswith("\n"):
        head += newline
    if head.strip() and not head.endswith(newline * 2):
        head += newline
    if tail.strip():
        ours += newline
    return head + ours + tail


def _trailing_comments(body: list[str]) -> list[str]:
    """The comment lines after the last blank line of a section: they introduce what follows it."""
    blanks = [i for i, line in enumerate(body) if not line.strip()]
    if not blanks or blanks[-1] == 0:
        return []
    tail = body[blanks[-1] + 1 :]
    return tail if tail and all(line.lstrip().startswith("#") for line in tail) else []


def write(dest: Destination, text: str) -> None:
    """Write the new text (an append to pyproject.toml stays an append); a failure is a ConfigError."""
    data = text.encode("utf-8")
    try:
        if (
            dest.in_pyproject
            and not dest.replacing
            and dest.original is not None
            and data.startswith(dest.original)
        ):
            with dest.path.open("ab") as handle:
                handle.write(data[len(dest.original) :])
        else:
            dest.path.write_bytes(data)
    except OSError as exc:
        restore(dest)
        raise ConfigError(
            f"cannot write {dest.path}: {exc.strerror or type(exc).__name__}; run init where you may write, "
            "or fix the folder's permissions."
        ) from None


def restore(dest: Destination) -> None:
    """Put the file back as it was (or remove a new one): best effort, after a failed or unloadable write."""
    try:
        if dest.original is None:
            dest.path.unlink(missing_ok=True)
        elif dest.path.read_bytes() != dest.original:
            dest.path.write_bytes(dest.original)
    except OSError:
        pass
