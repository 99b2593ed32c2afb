"""The GitHub Actions workflow init can add (`.github/workflows/launch-gate.yml`): launch-gate's example
deploy workflow, shipped in the package, with the variables init found and the target filled in."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from launch_gate.scaffold.pysource import ENV_NAME

WORKFLOW = Path(".github/workflows/launch-gate.yml")
_EXAMPLE_VARIABLES = (
    "          DATABASE_URL: ${{ secrets.DATABASE_URL }}\n",
    "          STRIPE_SECRET_KEY: ${{ secrets.STRIPE_SECRET_KEY }}\n",
)
_TARGET = "          target-url: https://www.example.com\n"


def template() -> str:
    return (
        resources.files("launch_gate.scaffold")
        .joinpath("templates/launch-gate.yml")
        .read_text(encoding="utf-8")
    )


def render(variables: list[str], target: str | None) -> str:
    """The workflow: the pre-deploy gate gets each required variable from the environment's secrets of the
    same name (the example's two when none was found, commented out), the post-deploy gate the target."""
    text = template()
    names = [n for n in variables if ENV_NAME.match(n)]
    if names:
        lines = "".join(f"          {n}: ${{{{ secrets.{n} }}}}\n" for n in names)
    else:
        lines = "".join(line.replace("          ", "          # ", 1) for line in _EXAMPLE_VARIABLES)
    text = text.replace("".join(_EXAMPLE_VARIABLES), lines, 1)
    if target:
        text = text.replace(_TARGET, f"          target-url: {json.dumps(target, ensure_ascii=False)}\n", 1)
    return text
