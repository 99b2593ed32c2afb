"""The docs are a contract: the generated pages are what the code makes, README stays a short front page whose
commands CI runs, and every link and path the docs name exists."""

import re
import shutil
from pathlib import Path

from launch_gate import _docs
from launch_gate.cli import main

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.glob("*.md") if not p.name.startswith("_"))
PROSE = [README, ROOT / "CONTRIBUTING.md", *PAGES]
CONFIGURED = """
target = "https://www.example.test"

[smoke.flows.signup]
steps = [{ path = "/" }]

[latency.routes]
home = "/"
"""


def outside_code(path: Path) -> str:
    """A Markdown file's text without its fenced code blocks (links and paths there are examples)."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)


def links(path: Path) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", outside_code(path))


def anchors(path: Path) -> set[str]:
    return {_docs.slug(h) for h in re.findall(r"^#+ (.+)$", outside_code(path), re.M)}


def checks_page_table() -> list[tuple[str, str]]:
    """(id, phase) of every row of docs/checks.md's table."""
    text = (DOCS / "checks.md").read_text(encoding="utf-8")
    return re.findall(r"^\| \[`([a-z0-9<>.-]+)`\]\(#[^)]*\) \| (pre|post) \|", text, re.M)


def test_generated_pages_are_what_the_code_makes():
    stale = [str(p.relative_to(ROOT)) for p in _docs.stale(ROOT)]
    assert not stale, f"{', '.join(stale)} stale: run `python3 -m launch_gate._docs` and commit the result"


def test_check_exits_1_on_a_stale_page_and_writing_makes_it_current(tmp_path, capsys):
    shutil.copytree(DOCS, tmp_path / "docs")
    page = tmp_path / "docs" / "checks.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace("`env.debug`", "`env.debugging`"), encoding="utf-8"
    )

    assert _docs.main(["--check", "--root", str(tmp_path)]) == 1
    assert "docs/checks.md is stale: run `python3 -m launch_gate._docs`" in capsys.readouterr().err
    assert _docs.main(["--root", str(tmp_path)]) == 0
    assert _docs.main(["--check", "--root", str(tmp_path)]) == 0
    assert page.read_text(encoding="utf-8") == (DOCS / "checks.md").read_text(encoding="utf-8")


def test_every_check_declares_what_makes_it_fail():
    """The reference's "Fails when" comes from each check's declaration: none is left without one."""
    rows = _docs.documented_checks()
    assert [check_id for check_id, _, _, fails_when in rows if not fails_when] == []
    assert len(rows) >= 27


def test_every_configuration_description_names_a_setting():
    assert sorted(set(_docs.DESCRIPTIONS) - _docs.documented_keys()) == []


def test_configuration_reference_reads_types_defaults_bounds_and_comments_from_the_models():
    reference = _docs.configuration_reference()
    # the comment on the field's line in the model, its bounds and default
    assert "| `poll` | number, > 0, ≤ 30 | `0.5` | seconds between looks |" in reference
    # a shared table is documented once, under every path it appears at
    assert reference.count("### `[[secrets.waivers]]`, `[[deps.waivers]]`") == 1
    assert "| `expires` | date | required |" in reference


def test_checks_page_table_is_what_launch_gate_list_prints(project, capsys):
    root = project({"launch-gate.toml": CONFIGURED})
    assert main(["list", "--config", str(root / "launch-gate.toml")]) == 0
    listed = [tuple(line.split()[:2]) for line in capsys.readouterr().out.splitlines() if line.strip()]
    # the configured checks, named as the docs name them
    named = {"smoke.signup": "smoke.<flow>", "latency.home": "latency.<route>"}
    listed = [(named.get(check_id, check_id), phase) for check_id, phase in listed]
    assert ("smoke.<flow>", "post") in listed
    assert checks_page_table() == listed


def test_readme_is_a_front_page_under_12000_characters():
    assert len(README.read_text(encoding="utf-8")) < 12_000


def test_readme_gives_the_set_up_demo_and_test_commands_and_ci_runs_them():
    text = README.read_text(encoding="utf-8")
    block = text.split("## Set up, see it work, test\n\n```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    assert commands == ["python3 -m pip install -e '.[test]'", "launch-gate demo", "python3 -m pytest"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[0] in ci
    assert commands[2] in ci


def test_readme_links_every_docs_page():
    linked = {link.split("#")[0] for link in links(README) if link.startswith("docs/")}
    assert sorted({f"docs/{p.name}" for p in PAGES} - linked) == [], "README should link these pages"


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for page in PROSE:
        for link in links(page):
            if re.match(r"^[a-z]+:", link):
                continue  # https:, mailto:
            target, _, anchor = link.partition("#")
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: {link} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                broken.append(f"{page.relative_to(ROOT)}: {link} (no such heading)")
    assert broken == []


def test_every_project_path_the_docs_name_exists():
    missing = []
    for page in PROSE:
        for named in re.findall(r"`((?:launch_gate|tests|benchmarks|examples)/[^`\s]*)`", outside_code(page)):
            if not (ROOT / named).exists():
                missing.append(f"{page.relative_to(ROOT)}: {named}")
    assert missing == []
