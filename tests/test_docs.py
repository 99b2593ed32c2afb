"""README is a contract: its check table is what `launch-gate list` prints."""

import re
from pathlib import Path

from launch_gate.cli import main

README = Path(__file__).parents[1] / "README.md"
CONFIGURED = """
target = "https://www.example.test"

[smoke.flows.signup]
steps = [{ path = "/" }]

[latency.routes]
home = "/"
"""


def readme_checks() -> list[tuple[str, str]]:
    """(id, phase) of every row of README's check table."""
    section = README.read_text(encoding="utf-8").split("\n## Checks\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| `([a-z0-9<>.-]+)` \| (pre|post) \|", section, re.M)


def test_readme_check_table_is_what_launch_gate_list_prints(project, capsys):
    root = project({"launch-gate.toml": CONFIGURED})
    assert main(["list", "--config", str(root / "launch-gate.toml")]) == 0
    listed = [tuple(line.split()[:2]) for line in capsys.readouterr().out.splitlines() if line.strip()]
    # the configured checks, named as README names them
    named = {"smoke.signup": "smoke.<flow>", "latency.home": "latency.<route>"}
    listed = [(named.get(check_id, check_id), phase) for check_id, phase in listed]
    assert ("smoke.<flow>", "post") in listed
    assert sorted(readme_checks()) == sorted(listed)
