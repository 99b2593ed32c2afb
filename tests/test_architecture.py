"""The layout holds: read from the import graph (`ast`, every import, also those inside functions) and from
the registry. No check module imports another; nothing outside `launch_gate/checks` imports a check area; the
registry finds every area module; a check's id prefix is its module's name; the package has no import cycle
(imports inside functions count: they only hide one); no module imports another's private names; the top
level holds the shells and the few modules everything shares, features live in packages."""

import ast
import functools
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import launch_gate
from launch_gate.checks import all_checks
from launch_gate.checks.registry import builtin_modules
from launch_gate.config import load_settings

PACKAGE = Path(launch_gate.__file__).parent
CHECKS = PACKAGE / "checks"
NOT_AREAS = {"__init__", "registry"}
AREAS = sorted(p.stem for p in CHECKS.glob("*.py") if p.stem not in NOT_AREAS and not p.stem.startswith("_"))
CONFIGURED = """
target = "https://www.example.test"

[smoke.flows.signup]
steps = [{ path = "/" }]

[latency.routes]
home = "/"

[load]
in-gate = true

[load.profiles.shop.journeys.home]
steps = [{ path = "/" }]
"""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(text: str, module: str, package: bool = False) -> set[str]:
    """Every module (and `package.name` for `from package import name`) a module's source imports, relative
    imports resolved; `package`: the source is a package's `__init__`."""
    here = module.split(".") if package else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level + 1]) if node.level else ""
            name = ".".join(p for p in (base, node.module or "") if p)
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def area_imports(path: Path, text: str | None = None) -> set[str]:
    """The check area modules a file imports (`launch_gate.checks.dns`, `from launch_gate.checks import dns`)."""
    source = path.read_text(encoding="utf-8") if text is None else text
    names = imported(source, module_name(path), path.stem == "__init__")
    areas = {f"launch_gate.checks.{area}" for area in AREAS}
    return {n for n in names if n in areas or any(n.startswith(a + ".") for a in areas)}


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_import_reader_sees_area_imports_in_every_form():
    """The reader itself: absolute, `from package import module`, relative and function-level imports."""
    text = (
        "import launch_gate.checks.dns\n"
        "from launch_gate.checks import tls, Context\n"
        "from . import email\n"
        "def f():\n    from .headers import check_hsts\n"
    )
    found = area_imports(CHECKS / "somewhere.py", text)
    assert found >= {
        "launch_gate.checks.dns",
        "launch_gate.checks.tls",
        "launch_gate.checks.email",
        "launch_gate.checks.headers",
    }
    assert "launch_gate.checks.Context" not in found


@pytest.mark.parametrize("area", AREAS)
def test_no_check_module_imports_another(area):
    assert area_imports(CHECKS / f"{area}.py") == set(), (
        f"checks/{area}.py imports another check module: move what they share to launch_gate/rules/ "
        "(pure) or launch_gate/net/probes.py (network)"
    )


def test_no_module_outside_the_checks_imports_a_check_area():
    outside = [p for p in sources() if CHECKS not in p.parents]
    offenders = {module_name(p): sorted(area_imports(p)) for p in outside if area_imports(p)}
    assert offenders == {}, "only the registry reaches the area modules; others use `launch_gate.checks`"


def test_the_registry_reaches_areas_only_by_discovery():
    """The package's own modules name no area: a new module needs no listing by hand."""
    for name in ("__init__", "registry"):
        assert area_imports(CHECKS / f"{name}.py") == set(), name


def test_the_registry_discovers_every_area_module(project):
    settings = load_settings(config_file=project({"launch-gate.toml": CONFIGURED}) / "launch-gate.toml")
    assert sorted(m.rsplit(".", 1)[1] for m in builtin_modules()) == AREAS
    areas = {c.area for c in all_checks(settings)}
    assert set(AREAS) <= areas, f"declare no check, or not found: {sorted(set(AREAS) - areas)}"


def declaring_module(func: object) -> str:
    """The module of the function a check runs, through the target guard and `partial(check_route, name)`."""
    while isinstance(func, functools.partial) or hasattr(func, "__wrapped__"):
        func = func.func if isinstance(func, functools.partial) else inspect.unwrap(func)  # type: ignore[arg-type]
    return str(func.__module__)


def test_every_check_id_prefix_is_its_modules_name(project):
    settings = load_settings(config_file=project({"launch-gate.toml": CONFIGURED}) / "launch-gate.toml")
    checks = all_checks(settings)
    assert len(checks) == len({c.id for c in checks}), "check ids are unique"
    wrong = {
        c.id: declaring_module(c.func)
        for c in checks
        if declaring_module(c.func) != f"launch_gate.checks.{c.area}"
    }
    assert wrong == {}


def test_the_standard_librarys_email_package_is_not_shadowed():
    """`checks/email.py` and `checks/dns.py` are found by absolute imports only: the stdlib's `email` and
    dnspython's `dns` still import, after every check module has."""
    code = (
        "import launch_gate.checks as c; c.all_checks()\n"
        "import email, email.utils, dns, dns.resolver\n"
        "print(email.__file__); print(dns.__file__); print(email.utils.parseaddr('A <a@b.test>')[1])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "launch_gate" not in out[0], out
    assert "launch_gate" not in out[1], out
    assert out[2] == "a@b.test"


# The top level: shared foundations and the command; every feature has a package of its own.
TOP_LEVEL = {"__init__", "__main__", "_docs", "cli", "errors", "redact", "results", "runner"}
PACKAGES = {
    "apiprobe",
    "checks",
    "config",
    "dashboard",
    "demo",
    "flows",
    "handover",
    "history",
    "integrations",
    "load",
    "migrations",
    "net",
    "pytest_plugin",
    "report",
    "rules",
    "scaffold",
    "secretscan",
    "watch",
}


def runtime_imports(path: Path) -> set[str]:
    """The launch_gate modules a file imports at run time (anywhere in it, but not under `if TYPE_CHECKING:`),
    each resolved to a module file: `from launch_gate.net import dns` is `launch_gate.net.dns` alone,
    `from launch_gate.net import http_client` is `launch_gate.net`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # drop typing-only blocks
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = [ast.Pass()]
    modules = {module_name(p) for p in sources()}
    me = module_name(path)
    here = me.split(".") if path.stem == "__init__" else me.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            names = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name.startswith("launch_gate") and name != me:
                found.add(name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_cycle():
    graph = {module_name(p): runtime_imports(p) for p in sources()}
    assert sum(len(v) for v in graph.values()) > 100, "the reader sees the package's imports"
    assert cycles(graph) == [], "break the cycle: move what both sides need into a module below them"


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("launch_gate"):
                private = [
                    a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")
                ]
                if private and node.module != "launch_gate":  # `from launch_gate import _docs`: a module
                    offenders.append(f"{module_name(path)}: from {node.module} import {', '.join(private)}")
    assert offenders == []


def test_the_top_level_holds_only_shared_modules_and_feature_packages():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert modules == TOP_LEVEL, "a new feature goes in a package of its own (see CONTRIBUTING.md)"
    assert packages == PACKAGES


def test_the_pytest_entry_point_stays_import_light():
    """Every pytest run imports the plugin: without --launch-gate it loads no HTTP, settings or check code."""
    code = (
        "import sys, launch_gate.pytest_plugin\n"
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in {'httpx', 'pydantic', 'dns'} "
        "or m.startswith(('launch_gate.checks', 'launch_gate.config', 'launch_gate.net'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == []


def test_the_public_surface_is_declared():
    assert set(launch_gate.__all__) >= {"Settings", "load_settings", "GateReport", "Outcome", "run_plan"}
    for name in launch_gate.__all__:
        assert getattr(launch_gate, name) is not None, name
