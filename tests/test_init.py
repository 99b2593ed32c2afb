"""`launch-gate init`: on small projects of each framework it writes a configuration whose first
`check --phase pre` runs with no hand edits and finds a planted secret; it never changes an existing
configuration without --force; it recognises mail providers from DNS (a loopback server); bad input is one
sentence and exit 4."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launch_gate.config import load_settings
from launch_gate.scaffold import InitOptions, pysource, run_init, settings_classes
from launch_gate.scaffold.mail import recognise
from tests.conftest import base_env
from tests.planted import Planted
from tests.projects_init import DJANGO, FASTAPI_VITE, FLASK, NEXTJS, SHAPES, Shape, build, git, plant, unplant
from tests.servers import DnsServer, Zone
from tests.vulnservice import VulnService

EXAMPLE = Path(__file__).parents[1] / "examples" / "workflows" / "deploy.yml"


def launch_gate(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launch_gate", *args],
        cwd=root,
        env=env or base_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def outcomes(report: Path) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in json.loads(report.read_text())["checks"]}


@pytest.fixture(scope="module")
def vuln_feed(tmp_path_factory) -> Iterator[VulnService]:
    feed = VulnService(tmp_path_factory.mktemp("vuln"))
    with feed.running():
        yield feed


# ---- the fixture projects, end to end: init, plant, check, unplant, check -------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_init_then_check_finds_a_planted_secret_with_no_hand_edits(tmp_path, shape: Shape, vuln_feed):
    root = build(tmp_path / shape.name, shape)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}

    done = launch_gate(root, "init", "--yes")  # base_env: no production variable is set
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    verb = "wrote" if shape.config == "launch-gate.toml" else "appended [tool.launch-gate] to"
    assert f"launch-gate init: {verb} {shape.config}" in done.stdout
    assert done.stdout.rstrip().endswith("Next: launch-gate check --phase pre")
    config = (root / shape.config).read_text(encoding="utf-8")
    for line in shape.expect_in_config:
        assert line in config, (line, config)
    for path, data in before.items():  # the user's files, byte for byte (pyproject.toml: an append)
        now = path.read_bytes()
        assert now == data or (
            path.name == "pyproject.toml"
            and now.startswith(data)
            and b"[tool.launch-gate]" in now[len(data) :]
        )

    secrets = Planted.make(seed=len(shape.name))
    plant(root, shape, secrets)
    env = base_env(**vuln_feed.env())
    first = launch_gate(root, "check", "--phase", "pre", "--report-json", "report.json", env=env)
    assert first.returncode == 1, first.stdout + first.stderr
    expected = {
        "env.required": "fail",  # documented: no production values here (docs/init.md)
        "env.placeholders": "skip",
        "env.test-keys": "pass",
        "env.debug": "pass",
        "env.settings-class": "fail" if shape.settings_class else "skip",
        "secrets.repo": "fail",
        "secrets.diff": "skip",
        "secrets.bundle": "fail",
        "deps.audit": "pass" if shape.audited else "skip",
        "migrations.destructive": "skip",  # no base to compare with: a fresh repository
    }
    assert outcomes(root / "report.json") == expected, first.stdout
    report = json.loads((root / "report.json").read_text())
    files = {c["id"]: {f.get("file") for f in c["findings"]} for c in report["checks"]}
    assert files["secrets.repo"] == {"app_payments.py"}
    assert files["secrets.bundle"] == {shape.bundle_file}
    for variable in shape.variables:
        assert variable in first.stdout
    for value in secrets.values():
        assert value not in first.stdout + first.stderr

    unplant(root, shape)
    production = {name: f"prod-{name.lower()}-4c9e1f7a2b" for name in shape.variables}
    second = launch_gate(
        root, "check", "--phase", "pre", "--report-json", "report.json", env={**env, **production}
    )
    assert second.returncode == 0, second.stdout + second.stderr
    clean = {k: ("skip" if v == "skip" else "pass") for k, v in expected.items()}
    clean["env.placeholders"] = "pass"
    assert outcomes(root / "report.json") == clean, second.stdout


def test_a_bundle_not_built_yet_is_left_commented_so_the_first_run_does_not_error(tmp_path):
    shape = NEXTJS
    root = build(tmp_path / "next", shape)
    git(root, "rm", "-q", "--cached", "-r", "--ignore-unmatch", ".next")
    for path in sorted((root / ".next").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (root / ".next").rmdir()

    done = launch_gate(root, "init", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Not built yet: .next/static" in done.stdout
    config = (root / "launch-gate.toml").read_text()
    assert '# bundle-dirs = [".next/static"]  # Next.js (next.config.js): not built yet' in config
    assert load_settings(cwd=root, environ={}).secrets.bundle_dirs == []
    check = launch_gate(root, "check", "--phase", "pre", "--select", "secrets", "--report-json", "r.json")
    assert check.returncode == 0, check.stdout
    assert outcomes(root / "r.json")["secrets.bundle"] == "skip"


def test_a_settings_class_importing_the_apps_framework_is_left_to_the_apps_python(tmp_path):
    files = dict(FASTAPI_VITE.files)
    files["app/__init__.py"] = "from fastapi import FastAPI\n\napp = FastAPI()\n"
    shape = Shape("fastapi-pkg", files, FASTAPI_VITE.bundle_file, FASTAPI_VITE.variables, "pyproject.toml")
    root = build(tmp_path / "api", shape)
    assert launch_gate(root, "init", "--yes").returncode == 0
    config = (root / "pyproject.toml").read_text()
    assert '# settings-class = "app.config:Settings"' in config
    assert '# python = ".venv/bin/python"' in config
    assert "importing app.config imports fastapi (app imports it)" in config
    settings_ = load_settings(cwd=root, environ={})
    assert settings_.env.settings_class is None
    assert settings_.env.required == ["API_DATABASE_URL", "STRIPE_SECRET_KEY"]


# ---- never overwrite without --force -------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    where=st.sampled_from(["own", "pyproject", "workflow"]),
    content=st.binary(max_size=200),
    yes=st.booleans(),
    workflow=st.sampled_from([None, True, False]),
    target=st.sampled_from([None, "https://www.example.test"]),
)
def test_init_never_changes_an_existing_configuration_without_force(where, content, yes, workflow, target):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".env.example").write_text("A=1\n")
        if where == "own":
            (root / "launch-gate.toml").write_bytes(content)
        elif where == "pyproject":
            note = content.decode("utf-8", "replace")
            note = "".join(c for c in note if c.isprintable())  # TOML comments take no control characters
            (root / "pyproject.toml").write_text(f'[tool.launch-gate]\ntarget = "https://a.test"\n# {note}\n')
        else:
            (root / ".github" / "workflows").mkdir(parents=True)
            (root / ".github" / "workflows" / "launch-gate.yml").write_bytes(content)
            workflow = True
        before = snapshot(root)
        out, err = io.StringIO(), io.StringIO()
        options = InitOptions(target=target, yes=yes, workflow=workflow, nameservers=("127.0.0.1:9",))
        code = run_init(root, options, io.StringIO(""), out, err)
        assert code == 4
        assert snapshot(root) == before
        assert len(err.getvalue().splitlines()) == 1
        assert "--force" in err.getvalue()


def test_force_replaces_only_our_tables_in_pyproject(tmp_path):
    head = '[project]\nname = "x"\nversion = "1"\n\n[tool.ruff]\nline-length = 100\n\n'
    ours = '[tool.launch-gate]\ntarget = "https://old.example.test"\n\n[tool.launch-gate.env]\nrequired = ["OLD"]\n\n'
    tail = "# the formatter\n[tool.black]\nline-length = 100\n"
    (tmp_path / "pyproject.toml").write_text(head + ours + tail)
    (tmp_path / ".env.example").write_text("NEW=1\n")
    out, err = io.StringIO(), io.StringIO()
    assert run_init(tmp_path, InitOptions(yes=True, force=True), io.StringIO(), out, err) == 0, err.getvalue()
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(head)
    assert text.endswith(tail)
    data = tomllib.loads(text)
    assert data["tool"]["ruff"] == {"line-length": 100}
    assert data["tool"]["black"] == {"line-length": 100}
    assert "target" not in data["tool"]["launch-gate"]
    assert data["tool"]["launch-gate"]["env"] == {"example-file": ".env.example"}
    assert "replaced [tool.launch-gate] in pyproject.toml" in out.getvalue()


def test_force_replaces_launch_gate_toml(tmp_path):
    (tmp_path / "launch-gate.toml").write_text('environment = "staging"\n')
    assert (
        run_init(tmp_path, InitOptions(yes=True, force=True), io.StringIO(), io.StringIO(), io.StringIO())
        == 0
    )
    assert load_settings(cwd=tmp_path, environ={}).environment == "production"


tables = st.lists(
    st.sampled_from(
        [
            "[tool.ruff]\nline-length = 100\n",
            '# about black\n[tool.black]\ntarget = ["py311"]\n',
            '[project]\nname = "x"\nversion = "1"\n',
            '[tool.launch-gate]\ntarget = "https://old.example.test"\n',
            '[tool.launch-gate.env]\nrequired = ["OLD"]\n',
            '[[tool.launch-gate.secrets.waivers]]\nid = "sha1:abc"\nreason = "a test key"\nexpires = 2030-01-01\n',
            '[tool.other]\ntext = """\n[tool.launch-gate]\n"""\n',
            "[tool]\nmypy = { strict = true }\n",
        ]
    ),
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(sections=tables, crlf=st.booleans())
def test_force_changes_nothing_but_our_tables_or_nothing_at_all(sections, crlf):
    text = "\n".join(sections)
    text = text.replace("\n", "\r\n") if crlf else text
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # a table twice: not a pyproject.toml anyone has
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_bytes(text.encode())
        (root / ".env.example").write_text("NEW=1\n")
        err = io.StringIO()
        code = run_init(root, InitOptions(yes=True, force=True), io.StringIO(), io.StringIO(), err)
        after_bytes = (root / "pyproject.toml").read_bytes()
    if code != 0:  # refused: one sentence, nothing changed
        assert code == 4
        assert len(err.getvalue().splitlines()) == 1
        assert after_bytes == text.encode()
        return
    after = tomllib.loads(after_bytes.decode())
    ours = after["tool"].pop("launch-gate")
    before.get("tool", {}).pop("launch-gate", None)
    if not after["tool"]:
        after.pop("tool")
    if "tool" in before and not before["tool"]:
        before.pop("tool")
    assert after == before
    assert ours["env"] == {"example-file": ".env.example"}
    assert (b"\r\n" in after_bytes) == crlf or not text


def test_appending_to_a_crlf_pyproject_keeps_its_line_endings(tmp_path):
    original = b"[tool.black]\r\nline-length = 100\r\n"
    (tmp_path / "pyproject.toml").write_bytes(original)
    assert run_init(tmp_path, InitOptions(yes=True), io.StringIO(), io.StringIO(), io.StringIO()) == 0
    now = (tmp_path / "pyproject.toml").read_bytes()
    assert now.startswith(original + b"\r\n[tool.launch-gate]\r\n")
    assert b"\n" not in now.replace(b"\r\n", b"")


# ---- the written TOML always loads ----------------------------------------------------------------------

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)


@st.composite
def projects(draw) -> dict[str, str]:
    files: dict[str, str] = {}
    source = draw(st.sampled_from(["example", "pydantic", "django", "flask", "none"]))
    variables = draw(st.lists(st.one_of(identifiers, names), min_size=1, max_size=5))
    if source == "example":
        files[draw(st.sampled_from([".env.example", ".env.sample", ".env.template"]))] = "".join(
            f"{v}=x\n".replace("\r", "") for v in variables
        )
    elif source == "pydantic":
        fields = "".join(
            f"    {v}: str\n" for v in variables if v.isidentifier() and v not in ("model_config",)
        )
        files["app/config.py"] = (
            "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
            + (fields or "    pass\n")
        )
        files["app/__init__.py"] = ""
    elif source in ("django", "flask"):
        reads = "".join(f"V{i} = os.environ[{v!r}]\n" for i, v in enumerate(variables))
        head = "import os\nINSTALLED_APPS = []\n" if source == "django" else "import os\nimport flask\n"
        files["site/settings.py" if source == "django" else "config.py"] = head + reads
    tool = draw(st.sampled_from(["none", "vite", "next", "cra", "vite-outdir"]))
    out_dir = draw(st.from_regex(r"[A-Za-z0-9_. -]{1,10}", fullmatch=True))
    if tool == "vite-outdir":
        files["web/vite.config.js"] = f"export default {{ build: {{ outDir: '{out_dir}' }} }}\n"
    elif tool != "none":
        package = {"vite": "vite", "next": "next", "cra": "react-scripts"}[tool]
        files["package.json"] = json.dumps({"devDependencies": {package: "1.0.0"}})
    if draw(st.booleans()):
        files["requirements.txt"] = draw(
            st.sampled_from(["flask==3.0\n", "# via pip-compile\nflask==3.0\n", ""])
        )
    if draw(st.booleans()):
        pyproject = draw(
            st.sampled_from(
                [
                    '[project]\nname = "x"\ndependencies = ["flask"]\n',
                    "[tool.black]\nx = 1",
                    "[tool]\nruff = {}\r\n",
                    "",
                ]
            )
        )
        files["pyproject.toml"] = pyproject
    return files


@settings(max_examples=40, deadline=None)
@given(shape=projects(), built=st.booleans())
def test_what_init_writes_always_loads(shape, built):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in shape.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(text.encode("utf-8"))
        if built:
            for folder in ("dist", "build", ".next/static"):
                (root / folder).mkdir(parents=True, exist_ok=True)
                (root / folder / "a.js").write_text("1\n")
        original = (root / "pyproject.toml").read_bytes() if "pyproject.toml" in shape else None
        out, err = io.StringIO(), io.StringIO()
        assert run_init(root, InitOptions(yes=True), io.StringIO(), out, err) == 0, err.getvalue()
        loaded = load_settings(cwd=root, environ={})
        assert all(not os.path.isabs(d) for d in loaded.secrets.bundle_dirs)
        if original is not None:
            now = (root / "pyproject.toml").read_bytes()
            assert now.startswith(original)
            assert b"[tool.launch-gate]" in now[len(original) :]
        else:
            assert (root / "launch-gate.toml").is_file()


# ---- bad input: one sentence, exit 4 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'[project]\nname = "caf\xe9"\n', "pyproject.toml is not UTF-8 text (byte"),
        (b"[project\nname = 1\n", "pyproject.toml is not valid TOML"),
    ],
)
def test_a_pyproject_init_cannot_read_is_one_sentence_and_exit_4(tmp_path, content, says):
    (tmp_path / "pyproject.toml").write_bytes(content)
    done = launch_gate(tmp_path, "init", "--yes")
    assert done.returncode == 4
    assert done.stderr.startswith(f"launch-gate init: {says}")
    assert len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert (tmp_path / "pyproject.toml").read_bytes() == content
    assert not (tmp_path / "launch-gate.toml").exists()


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """A folder nobody may create files in: its mode, or for root (whom modes do not stop) the immutable flag."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode != 0:
        pytest.skip("running as root on a filesystem without the immutable flag: nothing is read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_an_unwritable_directory_is_one_sentence_and_exit_4(tmp_path):
    (tmp_path / ".env.example").write_text("A=1\n")
    with read_only(tmp_path):
        done = launch_gate(tmp_path, "init", "--yes")
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith(f"launch-gate init: cannot write {tmp_path / 'launch-gate.toml'}: ")
    assert len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "launch-gate.toml").exists()


@pytest.mark.parametrize(
    "args", [["--target", "ftp://x"], ["--target", "https://a b"], ["--nameserver", "dns.example"]]
)
def test_bad_flags_are_one_sentence_and_exit_4(tmp_path, args):
    done = launch_gate(tmp_path, "init", "--yes", *args)
    assert done.returncode == 4
    assert len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "launch-gate.toml").exists()


# ---- mail providers from DNS (a loopback server) -----------------------------------------------------------


def zone_for(mx: list[str], spf: str, extra: Zone | None = None) -> Zone:
    zone: Zone = {("shop.test", "TXT"): [f'"{spf}"', '"google-site-verification=abc"']}
    if mx:
        zone[("shop.test", "MX")] = mx
    return {**zone, **(extra or {})}


@pytest.mark.parametrize(
    ("zone", "selectors", "provider"),
    [
        (zone_for(["1 smtp.google.com."], "v=spf1 include:_spf.google.com ~all"), ["google"], "Google Workspace"),
        (zone_for(["0 shop-test.mail.protection.outlook.com."], "v=spf1 include:spf.protection.outlook.com -all"),
         ["selector1", "selector2"], "Microsoft 365"),
        (zone_for(["1 smtp.google.com."], "v=spf1 include:_spf.google.com include:u123.wl.sendgrid.net ~all"),
         ["google", "s1", "s2"], "SendGrid"),
        (zone_for(["10 mxa.mailgun.org."], "v=spf1 include:mailgun.org ~all",
                  {("k1._domainkey.shop.test", "TXT"): ['"v=DKIM1; k=rsa; p=MIGf"']}), ["k1"], "Mailgun"),
        (zone_for([], "v=spf1 include:spf.mtasv.net ~all",
                  {("pm._domainkey.shop.test", "CNAME"): ["pm.dkim.mtasv.net."]}), ["pm"], "Postmark"),
    ],
)  # fmt: skip
def test_init_recognises_the_mail_provider_and_writes_its_selectors(tmp_path, zone, selectors, provider):
    with DnsServer(zone).running() as server:
        done = launch_gate(
            tmp_path, "init", "--yes", "--target", "https://www.shop.test", "--nameserver", server.address
        )
    assert done.returncode == 0, done.stderr
    loaded = load_settings(cwd=tmp_path, environ={})
    assert loaded.email.dkim_selectors == selectors
    assert loaded.target == "https://www.shop.test"
    assert provider in done.stdout
    assert provider in (tmp_path / "launch-gate.toml").read_text()
    assert ("shop.test", "MX") in server.queries


def test_amazon_ses_is_recognised_and_its_random_selectors_are_left_to_the_user(tmp_path):
    zone = zone_for(["10 inbound-smtp.us-east-1.amazonaws.com."], "v=spf1 include:amazonses.com ~all")
    with DnsServer(zone).running() as server:
        done = launch_gate(
            tmp_path, "init", "--yes", "--target", "https://shop.test", "--nameserver", server.address
        )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "launch-gate.toml").read_text()
    assert "Amazon SES" in text
    assert "SES Easy DKIM selectors are 3 random tokens" in text
    assert load_settings(cwd=tmp_path, environ={}).email.dkim_selectors == []


@pytest.mark.parametrize("mode", ["servfail", "refused"])
def test_a_dns_failure_is_a_comment_and_a_line_never_a_crash(tmp_path, mode):
    with DnsServer({}).running() as server:
        server.mode = mode
        done = launch_gate(
            tmp_path, "init", "--yes", "--target", "https://www.shop.test", "--nameserver", server.address
        )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "mail: could not look up shop.test" in done.stdout
    text = (tmp_path / "launch-gate.toml").read_text()
    assert "init could not look up its MX/TXT records" in text
    assert load_settings(cwd=tmp_path, environ={}).email.dkim_selectors == []


def test_a_target_that_is_an_address_has_no_mail_domain_to_look_up(tmp_path):
    out = io.StringIO()
    options = InitOptions(target="https://127.0.0.1:8443", yes=True, nameservers=("127.0.0.1:9",))
    assert run_init(tmp_path, options, io.StringIO(), out, io.StringIO()) == 0
    assert "mail:" not in out.getvalue()
    assert "[email]" not in (tmp_path / "launch-gate.toml").read_text()


def test_recognise_is_pure_and_ignores_lookalike_hosts():
    [(provider, why)] = recognise(("10 aspmx.l.google.com.",), ())
    assert (provider.name, why) == ("Google Workspace", "MX aspmx.l.google.com")
    assert recognise(("10 google.com.evil.test.",), ('"v=spf1 include:notsendgrid.net -all"',)) == []


# ---- the workflow ----------------------------------------------------------------------------------------


def test_workflow_is_written_from_the_packaged_example_with_the_found_variables(tmp_path):
    root = build(tmp_path / "flask", FLASK)
    with DnsServer({}).running() as server:
        target = ["--target", "https://www.shop.test", "--nameserver", server.address]
        done = launch_gate(root, "init", "--yes", "--workflow", *target)
    assert done.returncode == 0, done.stderr
    text = (root / ".github" / "workflows" / "launch-gate.yml").read_text()
    assert "SECRET_KEY: ${{ secrets.SECRET_KEY }}" in text
    assert "DATABASE_URL: ${{ secrets.DATABASE_URL }}" in text
    assert "STRIPE_SECRET_KEY" not in text
    assert 'target-url: "https://www.shop.test"' in text
    assert "placeholder commit SHA" in done.stdout
    uses = lambda t: sorted(line.split("@")[0].strip() for line in t.splitlines() if "uses:" in line)  # noqa: E731
    assert uses(text) == uses(EXAMPLE.read_text())  # the same actions as the example, pinned the same way
    pins = [line.split("@")[1].split()[0] for line in text.splitlines() if "uses:" in line]
    assert all(len(pin) == 40 and set(pin) <= set("0123456789abcdef") for pin in pins)


def test_without_a_terminal_and_without_yes_init_takes_the_defaults(tmp_path):
    (tmp_path / ".env.example").write_text("A=1\n")
    done = launch_gate(tmp_path, "init")  # stdin is /dev/null: no terminal
    assert done.returncode == 0, done.stderr
    assert "?" not in done.stdout.splitlines()[0]
    assert not (tmp_path / ".github").exists()
    assert load_settings(cwd=tmp_path, environ={}).target is None


def test_init_writes_at_the_repository_root_from_a_subdirectory(tmp_path):
    root = build(tmp_path / "django", DJANGO)
    done = launch_gate(root / "mysite", "init", "--yes")
    assert done.returncode == 0, done.stderr
    assert not (root / "mysite" / "launch-gate.toml").exists()
    assert "[tool.launch-gate]" in (root / "pyproject.toml").read_text()
    assert f"appended [tool.launch-gate] to {root.resolve() / 'pyproject.toml'}" in done.stdout
    check = launch_gate(root / "mysite", "check", "--phase", "pre", "--select", "env.required")
    assert check.returncode == 1  # found from the subdirectory: DJANGO_SECRET_KEY and DATABASE_URL are unset
    assert f"config {root.resolve() / 'pyproject.toml'}" in check.stdout


def test_on_a_terminal_init_asks_for_the_target_and_the_workflow(tmp_path):
    pty = pytest.importorskip("pty")
    (tmp_path / ".env.example").write_text("A=1\n")
    zone = zone_for(["1 smtp.google.com."], "v=spf1 include:_spf.google.com ~all")
    master, terminal = pty.openpty()
    try:
        os.write(
            master, b"not a url\nhttps://www.shop.test\ny\n"
        )  # the line discipline holds them for reading
        with DnsServer(zone).running() as server:
            done = subprocess.run(
                [sys.executable, "-m", "launch_gate", "init", "--nameserver", server.address],
                cwd=tmp_path, env=base_env(), stdin=terminal, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
    finally:
        os.close(master)
        os.close(terminal)
    assert done.returncode == 0, done.stderr
    assert "That is not a usable URL" in done.stdout
    assert "Add a GitHub Actions workflow at .github/workflows/launch-gate.yml? [y/N]" in done.stdout
    loaded = load_settings(cwd=tmp_path, environ={})
    assert loaded.target == "https://www.shop.test"
    assert loaded.email.dkim_selectors == ["google"]
    assert (tmp_path / ".github" / "workflows" / "launch-gate.yml").is_file()


# ---- the readers (pure: source text in, names out) -------------------------------------------------------


def reads_of(source: str) -> tuple[list[str], list[str], int]:
    return pysource.merge(pysource.env_reads(ast.parse(source)))


def test_env_reads_tell_required_from_defaulted_in_every_common_spelling():
    source = (
        "import os, environ\nfrom os import getenv\nfrom decouple import config\n"
        "env = environ.Env(DEBUG=(bool, False))\n"
        "A = os.environ['A']\nB = os.environ.get('B')\nC = os.getenv('C', 'x')\nD = getenv('D')\n"
        "E = env('E')\nF = env.bool('DEBUG')\nG = env.str('G', default='x')\nH = env.db()\n"
        "I = env.list('I', str, [])\nJ = config('J')\nK = config('K', default=1)\n"
        "os.environ['SET'] = '1'\nM = os.environ['not-a-name']\n"
    )
    required, optional, bad = reads_of(source)
    assert required == ["A", "B", "D", "E", "DATABASE_URL", "J"]
    assert optional == ["C", "DEBUG", "G", "I", "K"]
    assert bad == 1


def test_static_root_spelled_from_file_is_found_relative_to_the_project(tmp_path):
    settings_file = tmp_path / "site" / "settings.py"
    for expression, expected in [
        ("Path(__file__).resolve().parent.parent / 'staticfiles'", tmp_path / "staticfiles"),
        (
            "os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'static')",
            tmp_path / "static",
        ),
        ("Path(__file__).resolve().parents[1] / 'public' / 'assets'", tmp_path / "public" / "assets"),
        ("str(BASE / 'x')", tmp_path / "x"),
        ("os.environ['STATIC_ROOT']", None),
    ]:
        tree = ast.parse(f"import os\nBASE = Path(__file__).parent.parent\nSTATIC_ROOT = {expression}\n")
        found = pysource.PathEvaluator(settings_file).run(tree).get("STATIC_ROOT")
        assert (Path(found) if found is not None else None) == expected, expression


def test_a_settings_class_names_its_variables_as_pydantic_settings_reads_them(tmp_path):
    (tmp_path / "conf.py").write_text(
        "from pydantic import Field, AliasChoices\nfrom pydantic_settings import BaseSettings\n\n"
        "class Base(BaseSettings):\n    class Config:\n        env_prefix = 'svc_'\n    token: str\n\n"
        "class Settings(Base):\n    url: str = Field(...)\n"
        "    key: str = Field(validation_alias=AliasChoices('KEY_A', 'KEY_B'))\n"
        "    port: int = Field(8000)\n    mode: str = 'x'\n    _private: str\n"
    )
    [first, second] = settings_classes.find(tmp_path)
    assert (first.spec, first.required, first.optional) == (
        "conf:Settings",
        ["SVC_TOKEN", "SVC_URL", "KEY_A"],
        ["SVC_PORT", "SVC_MODE"],
    )
    assert first.loadable
    assert second.name == "Base"
