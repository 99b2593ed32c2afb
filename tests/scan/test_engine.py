"""The engine against detect-secrets itself: the same findings, on a generated tree, in one process or many."""

import json
import random
import string
import subprocess
import sys
from pathlib import Path

import pytest

from launch_gate.secretscan import detector
from launch_gate.secretscan.engine import scan
from tests.planted import Planted


def generated_tree(root: Path, files: int = 40, seed: int = 3) -> None:
    """Source-like files with planted and decoy secrets of every kind detect-secrets knows."""
    rng = random.Random(seed)
    planted = Planted.make(seed)
    kinds = [
        lambda: f'password = "{"".join(rng.choices(string.ascii_letters, k=14))}"',
        lambda: f'api_key: "{"".join(rng.choices(string.hexdigits, k=32))}"',
        lambda: f'TOKEN = "{"".join(rng.choices(string.ascii_letters + string.digits, k=40))}"',
        lambda: f"url = 'https://user:{''.join(rng.choices(string.ascii_letters, k=12))}@db.internal/app'",
        lambda: f'aws = "{planted.aws_key_id}"',
        lambda: f'stripe = "{planted.stripe_live}"',
        lambda: f'jwt = "{planted.jwt}"',
        lambda: 'checksum = "0123456789abcdef0123"  # pragma: allowlist secret',
        lambda: f"def handler_{rng.randint(0, 999)}(request): return request.path",
        lambda: "x = 1",
    ]
    for index in range(files):
        suffix = rng.choice([".py", ".js", ".yaml", ".txt", ".cfg"])
        lines = [rng.choice(kinds)() for _ in range(rng.randint(5, 60))]
        path = root / f"pkg{index % 4}" / f"module{index}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    (root / "keys.pem").write_text(planted.private_key)


def detect_secrets_cli(root: Path) -> set[tuple[str, str, str]]:
    # This interpreter's detect-secrets, never whatever `detect-secrets` PATH finds first. --no-verify: it would
    # otherwise call providers' APIs about what it finds; tests stay on loopback.
    command = [sys.executable, "-m", "detect_secrets", "scan", "--all-files", "--no-verify"]
    out = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True, timeout=300)
    return {
        (f, r["type"], r["hashed_secret"]) for f, rs in json.loads(out.stdout)["results"].items() for r in rs
    }


def ours(root: Path, monkeypatch, **kwargs) -> set[tuple[str, str, str]]:
    monkeypatch.chdir(root)
    files = [(p, p.relative_to(root).as_posix()) for p in sorted(root.rglob("*")) if p.is_file()]
    return {(h.file, h.type, h.hashed_secret) for h in scan(files, **kwargs).hits}


def test_finds_exactly_what_detect_secrets_finds(tmp_path, monkeypatch):
    generated_tree(tmp_path)
    expected = detect_secrets_cli(tmp_path)
    assert len(expected) > 50  # the tree really is full of findings
    assert ours(tmp_path, monkeypatch) == expected


def test_worker_processes_find_the_same(tmp_path, monkeypatch):
    generated_tree(tmp_path, files=12)
    single = ours(tmp_path, monkeypatch)
    parallel = ours(tmp_path, monkeypatch, workers=2, min_parallel_bytes=0)
    assert parallel == single
    assert single


def test_long_lines_do_not_blow_up(tmp_path, monkeypatch):
    planted = Planted.make()
    line = ("a = '" + "x" * 990 + "'\n")[:999] + "\n"
    (tmp_path / "big.py").write_text(line * 10_000 + f'key = "{planted.stripe_live}"\n')
    found = ours(tmp_path, monkeypatch)
    assert ("big.py", "Stripe Access Key") in {(f, t) for f, t, _ in found}


def test_a_file_over_the_size_limit_is_not_scanned_not_clean(tmp_path, monkeypatch):
    (tmp_path / "huge.js").write_text("x" * 5000)
    monkeypatch.chdir(tmp_path)
    report = scan([(tmp_path / "huge.js", "huge.js")], max_bytes=1000)
    assert [n.file for n in report.not_scanned] == ["huge.js"]
    assert "over the 1000-byte limit" in report.not_scanned[0].reason


def test_binary_files_are_counted_and_skipped(tmp_path, monkeypatch):
    (tmp_path / "logo.bin").write_bytes(b"\x89PNG\0\0" + Planted.make().stripe_live.encode())
    monkeypatch.chdir(tmp_path)
    report = scan([(tmp_path / "logo.bin", "logo.bin")])
    assert (report.binary, report.hits) == (1, [])


def test_utf8_text_with_a_nul_byte_is_scanned_as_detect_secrets_scans_it(tmp_path, monkeypatch):
    (tmp_path / "dump.txt").write_bytes(b"header\0\n" + f'key = "{Planted.make().stripe_live}"\n'.encode())
    expected = detect_secrets_cli(tmp_path)
    assert {t for _, t, _ in expected} == {"Stripe Access Key"}
    assert ours(tmp_path, monkeypatch) == expected


def test_unquoted_dotenv_values_are_found_beyond_what_detect_secrets_finds(tmp_path, monkeypatch):
    planted = Planted.make()
    (tmp_path / ".env").write_text(f"DEBUG=false\nDB_PASSWORD={planted.env_password}\n")
    (tmp_path / ".env.example").write_text("DEBUG=false\nDB_PASSWORD=changeme\n")
    theirs = detect_secrets_cli(tmp_path)
    found = ours(tmp_path, monkeypatch)
    assert found >= theirs
    assert (".env", "Secret Keyword") in {(f, t) for f, t, _ in found}
    assert ".env.example" not in {f for f, _, _ in found}


VERIFICATION_FILTER = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"


def test_network_verification_is_never_configured():
    import detect_secrets.filters.common

    # The filter that calls providers' APIs still exists under this name (so its absence below means something)
    assert hasattr(detect_secrets.filters.common, VERIFICATION_FILTER.rsplit(".", 1)[1])
    filters = detector.active_filters()
    assert (
        "detect_secrets.filters.heuristic.is_likely_id_string" in filters
    )  # the false-positive filters are on
    assert VERIFICATION_FILTER not in filters
    assert not [f for f in filters if "verif" in f]


@pytest.mark.parametrize("name", [".env", ".env.production", "prod.env", "config/.env.local"])
def test_dotenv_names(name):
    assert detector.is_dotenv(name)


@pytest.mark.parametrize("name", [".env.example", ".env.sample", "environment.py", "envoy.yaml"])
def test_not_dotenv_names(name):
    assert not detector.is_dotenv(name)
