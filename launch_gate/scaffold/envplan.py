"""Which environment variables the deploy needs, as init tells `[env]`: an example file when the project has
one, else what its settings read (a pydantic-settings class, Django settings, Flask config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from launch_gate.rules.dotenv import declared_in
from launch_gate.scaffold import frameworks, pysource, settings_classes
from launch_gate.scaffold.tree import MAX_BYTES

EXAMPLE_FILES = (".env.example", ".env.sample", ".env.template")


@dataclass(frozen=True)
class EnvPlan:
    """What `[env]` will say, and where each part came from (for comments and the summary)."""

    example_file: str | None = None
    declared: int = 0  # variables the example file declares
    required: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)
    source: str = ""  # where `required` came from, e.g. "app/config.py (Settings)"
    settings_class: settings_classes.SettingsClass | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.example_file:
            return f"required variables: {self.example_file} ({self.declared} declared)"
        if self.required:
            names = ", ".join(self.required[:6]) + (
                f" and {len(self.required) - 6} more" if len(self.required) > 6 else ""
            )
            return f"required variables: {names} (read without a default by {self.source})"
        return "required variables: none found"


def _example(root: Path) -> tuple[str | None, int, list[str]]:
    """The first example file that declares variables; notes on the ones that could not be used."""
    notes = []
    for name in EXAMPLE_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            if path.stat().st_size > MAX_BYTES:
                raise ValueError
            declared = declared_in(path.read_bytes().decode("utf-8-sig"))
        except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
            notes.append(f"{name} is not readable UTF-8 text: not used (env.required could not read it)")
            continue
        if not declared:
            notes.append(f"{name} declares no variable (no KEY=value line): not used")
            continue
        return name, len(declared), notes
    return None, 0, notes


def plan(root: Path, sources: list[frameworks.Source]) -> tuple[EnvPlan, list[frameworks.AppConfig]]:
    """The `[env]` plan, and the frameworks' configurations found (Django's STATIC_ROOT is used elsewhere)."""
    example, declared, notes = _example(root)
    classes = settings_classes.find(root)
    chosen = classes[0] if classes else None
    apps = [a for a in (frameworks.django(root, sources), frameworks.flask(sources)) if a is not None]
    if example:
        return EnvPlan(example, declared, settings_class=chosen, notes=notes), apps
    reads: list[pysource.EnvRead] = []
    origins = []
    if chosen is not None:
        reads += [pysource.EnvRead(n, True) for n in chosen.required]
        reads += [pysource.EnvRead(n, False) for n in chosen.optional]
        origins.append(f"{chosen.file} ({chosen.name})")
    for app in apps:
        reads += app.reads
        origins.append(f"{app.framework} {', '.join(app.files)}" if app.files else app.framework)
    required, optional, bad = pysource.merge(reads)
    skipped = bad + (chosen.skipped if chosen else 0)
    if skipped:
        notes.append(f"{skipped} names read from the environment are not variable names: left out")
    return EnvPlan(None, 0, required, optional, "; ".join(origins), chosen, notes), apps
