"""Built client bundles, from the build tool a front end uses: Vite `dist/` (or its `build.outDir`), Next.js
`.next/static` (or its `distDir`), Create React App `build/`; and Django's STATIC_ROOT. Only tools present
count; the directory may not exist yet (nothing was built)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from launch_gate.scaffold.tree import SKIPPED, read_text, relative

_CONFIGS = {
    "Vite": tuple(f"vite.config.{e}" for e in ("js", "mjs", "cjs", "ts", "mts", "cts")),
    "Next.js": tuple(f"next.config.{e}" for e in ("js", "mjs", "cjs", "ts")),
}
_PACKAGES = {"Vite": "vite", "Next.js": "next", "Create React App": "react-scripts"}
_OUT_DIR = re.compile(r"""\boutDir\s*:\s*['"]([^'"\n]+)['"]""")
_DIST_DIR = re.compile(r"""\bdistDir\s*:\s*['"]([^'"\n]+)['"]""")


@dataclass(frozen=True)
class Bundle:
    """A bundle directory (relative to the root) and the tool that builds it."""

    directory: str
    tool: str
    evidence: str  # the file that shows the tool, e.g. "frontend/vite.config.ts"
    exists: bool  # holds at least one file now

    @property
    def summary(self) -> str:
        state = "" if self.exists else ", not built yet"
        return f"{self.directory} ({self.tool}, {self.evidence}{state})"


def _folders(root: Path) -> list[Path]:
    """The root and the folders two levels under it where a front end usually lives (frontend/, apps/web/)."""
    found = [root]
    level = [root]
    for _ in range(2):
        deeper = []
        for folder in level:
            try:
                children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                continue
            deeper += [c for c in children if not c.name.startswith(".") and c.name not in SKIPPED]
        found += deeper
        level = deeper
    return found[:200]


def _dependencies(folder: Path) -> set[str]:
    text = read_text(folder / "package.json")
    if text is None:
        return set()
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    names: set[str] = set()
    for key in ("dependencies", "devDependencies"):
        table = data.get(key) if isinstance(data, dict) else None
        if isinstance(table, dict):
            names.update(str(n) for n in table)
    return names


def _holds_files(path: Path) -> bool:
    try:
        for _, _, files in os.walk(path):
            if files:
                return True
    except OSError:
        return False
    return False


def _tool_in(folder: Path) -> list[tuple[str, str, str | None]]:
    """(tool, evidence file, config text) for each tool this folder uses."""
    found: list[tuple[str, str, str | None]] = []
    deps = _dependencies(folder)
    for tool in ("Next.js", "Vite", "Create React App"):
        config = next((folder / n for n in _CONFIGS.get(tool, ()) if (folder / n).is_file()), None)
        if config is not None:
            found.append((tool, config.name, read_text(config)))
        elif _PACKAGES[tool] in deps:
            found.append((tool, "package.json", None))
    if any(t == "Next.js" for t, _, _ in found):  # Next.js is not also a Vite or CRA app
        found = [f for f in found if f[0] == "Next.js"]
    return found


def _directory(tool: str, config: str | None) -> str:
    if tool == "Vite":
        match = _OUT_DIR.search(config or "")
        return match[1] if match else "dist"
    if tool == "Next.js":
        match = _DIST_DIR.search(config or "")
        return f"{match[1] if match else '.next'}/static"
    return "build"


def find(root: Path, django_static: str | None = None, settings_file: str = "settings") -> list[Bundle]:
    bundles: dict[str, Bundle] = {}
    for folder in _folders(root):
        for tool, evidence, config in _tool_in(folder):
            path = Path(os.path.normpath(folder / _directory(tool, config)))
            rel = relative(path, root)
            where = relative(folder / evidence, root)
            if rel is None or where is None or rel.startswith("..") or rel in ("", "."):
                continue
            bundles.setdefault(rel, Bundle(rel, tool, where, _holds_files(path)))
    if django_static:
        bundles.setdefault(
            django_static,
            Bundle(django_static, "Django STATIC_ROOT", settings_file, _holds_files(root / django_static)),
        )
    return list(bundles.values())
