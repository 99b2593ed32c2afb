"""launch-gate's secret scan against `detect-secrets scan --all-files --no-verify`, on the same trees.

Trees: a pinned source distribution fetched from PyPI (Pygments 2.18.0, checked against its sha256), and a
generated tree with planted secrets of many kinds. Both tools run as fresh processes, in the same run;
findings are compared as (file, type, hashed secret). A third tree, one file of 10,000 lines of 999
characters, shows the scan does not blow up; it is left out of the ratio (detect-secrets is given 120 s).
`--no-verify` keeps detect-secrets from calling providers' APIs (which would also time the network).
Usage: python benchmarks/secret_scan.py [--skip-corpus]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import string
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

CORPUS = "pygments-2.18.0"
CORPUS_URL = (
    "https://files.pythonhosted.org/packages/8e/62/8336eff65bcbc8e4cb5d05b55faf041285951b6e80f33e2bff2024788f31/"
    "pygments-2.18.0.tar.gz"
)
CORPUS_SHA256 = "786ff802f32e91311bff3889f6e9a86e81505fe99f2735bb6d60ae0c5004f199"  # pragma: allowlist secret
Found = set[tuple[str, str, str]]
LONG_LINES_LIMIT = 120.0
DENSITY = 0.005  # one line in 200 holds a planted secret or decoy: many more than a real repository has


def fetch_corpus(into: Path) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "launch-gate-bench"
    archive = cache / f"{CORPUS}.tar.gz"
    if not archive.exists() or hashlib.sha256(archive.read_bytes()).hexdigest() != CORPUS_SHA256:
        cache.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(CORPUS_URL, timeout=120) as response:
            archive.write_bytes(response.read())
    if hashlib.sha256(archive.read_bytes()).hexdigest() != CORPUS_SHA256:
        raise SystemExit(f"{archive} does not match the pinned sha256")
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / CORPUS


def _word(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def generate_tree(root: Path, files: int = 300, seed: int = 11) -> Path:
    """Code-like files with planted secrets (and decoys) of many kinds; .yaml files are valid YAML and .cfg
    files valid INI, so detect-secrets' YAML and config transformers (and our handling of them) are timed."""
    rng = random.Random(seed)  # noqa: S311 (test data, not cryptography)
    alnum = string.ascii_letters + string.digits
    planted = [  # (key, value, trailing comment)
        lambda: ("AWS_ACCESS_KEY_ID", f"AKIA{_word(rng, string.ascii_uppercase + string.digits, 16)}", ""),
        lambda: ("aws_secret_access_key", _word(rng, alnum + "/+", 40), ""),
        lambda: ("STRIPE_KEY", f"sk_{'live'}_{_word(rng, alnum, 24)}", ""),
        lambda: ("token", f"ghp_{_word(rng, alnum, 36)}", ""),
        lambda: ("slack", f"xoxb-{rng.randint(10**9, 10**10)}-{_word(rng, 'abcdef0123456789', 24)}", ""),
        lambda: ("password", _word(rng, alnum, 16), ""),
        lambda: ("url", f"postgres://app:{_word(rng, alnum, 12)}@db.internal:5432/app", ""),
        lambda: (
            "jwt",
            f"eyJ{_word(rng, alnum, 20)}.eyJ{_word(rng, alnum, 30)}.{_word(rng, alnum + '-_', 43)}",
            "",
        ),
        lambda: ("digest", _word(rng, "0123456789abcdef", 40), ""),
        lambda: ("api_key", _word(rng, alnum, 32), "  # pragma: allowlist secret"),
    ]
    code = [
        lambda: f"def view_{rng.randint(0, 10**6)}(request, slug):",
        lambda: "    return render(request, 'coach/profile.html', {'coach': coach})",
        lambda: "    booking = Booking.objects.create(coach=coach, client=request.user)",
        lambda: f"    logger.info('booked %s', {rng.randint(0, 999)})",
        lambda: "",
    ]
    settings = [  # plain settings lines for the YAML and INI files
        lambda: ("timeout", str(rng.randint(1, 90)), ""),
        lambda: ("template", "coach/profile.html", ""),
        lambda: ("debug", "false", ""),
    ]
    for index in range(files):
        suffix = rng.choice([".py", ".js", ".ts", ".yaml", ".json", ".cfg", ".md"])
        if suffix in (".yaml", ".cfg"):
            pairs = [rng.choice(planted if rng.random() < DENSITY else settings)() for _ in range(400)]
            keyed = [(f"{key}_{n}", value, note) for n, (key, value, note) in enumerate(pairs)]
            if suffix == ".yaml":
                lines = ["app:", *(f"  {key}: {value}{note}" for key, value, note in keyed)]
            else:
                lines = ["[app]", *(f"{key} = {value}{note}" for key, value, note in keyed)]
        else:
            lines = [
                '{} = "{}"{}'.format(*rng.choice(planted)()) if rng.random() < DENSITY else rng.choice(code)()
                for _ in range(400)
            ]
        path = root / f"src/pkg{index % 12}/module_{index}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    return root


def long_lines_tree(root: Path) -> Path:
    """10,000 lines of 999 characters and one secret at the end: the scan must not blow up."""
    root.mkdir(parents=True)
    long_line = ("data = '" + "xyz" * 330)[:998] + "'"
    secret = 'key = "sk_' + "live_" + "a1B2" * 6 + '"'
    (root / "long_lines.py").write_text((long_line + "\n") * 10_000 + secret + "\n")
    return root


def run_detect_secrets(tree: Path, limit: float | None = None) -> tuple[float, Found | None]:
    """Seconds and findings; findings None when it did not finish within `limit`."""
    command = [sys.executable, "-m", "detect_secrets", "scan", "--all-files", "--no-verify"]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, None
    elapsed = time.perf_counter() - started
    results = json.loads(done.stdout)["results"]
    return elapsed, {(f, r["type"], r["hashed_secret"]) for f, rs in results.items() for r in rs}


def run_ours(tree: Path) -> tuple[float, Found]:
    command = [sys.executable, __file__, "--ours-only", str(tree)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    return elapsed, {(f, t, h) for f, t, h in json.loads(done.stdout)}


def ours_only(tree: Path) -> None:
    from launch_gate.secretscan.engine import scan

    os.chdir(tree)
    files = [(p, p.relative_to(tree).as_posix()) for p in sorted(tree.rglob("*")) if p.is_file()]
    report = scan(files)
    if report.not_scanned:
        raise SystemExit(f"not scanned: {report.not_scanned}")
    print(json.dumps(sorted({(h.file, h.type, h.hashed_secret) for h in report.hits})))


def size_mb(tree: Path) -> float:
    return sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) / 1e6


def compare(name: str, tree: Path) -> dict[str, object]:
    theirs_s, found = run_detect_secrets(tree)
    theirs = found or set()
    ours_s, ours = run_ours(tree)
    missed, extra = theirs - ours, ours - theirs
    print(
        f"{name}: {size_mb(tree):.1f} MB; detect-secrets {theirs_s:.1f} s, {len(theirs)} findings; "
        f"launch-gate {ours_s:.1f} s, {len(ours)} findings; {theirs_s / ours_s:.1f}x; "
        f"missed {len(missed)}, extra {len(extra)}"
    )
    for item in sorted(missed)[:10]:
        print(f"  missed: {item[0]} {item[1]}")
    return {
        "mb": round(size_mb(tree), 1),
        "detect_secrets_s": round(theirs_s, 2),
        "launch_gate_s": round(ours_s, 2),
        "ratio": round(theirs_s / ours_s, 1),
        "findings": len(theirs),
        "missed": len(missed),
        "extra": len(extra),
    }


def long_lines(tree: Path) -> dict[str, object]:
    ours_s, ours = run_ours(tree)
    theirs_s, theirs = run_detect_secrets(tree, limit=LONG_LINES_LIMIT)
    peer = f"{theirs_s:.1f} s" if theirs is not None else f"did not finish in {LONG_LINES_LIMIT:.0f} s"
    print(f"long-lines (10,000 x 999 chars, not in the ratio): launch-gate {ours_s:.1f} s, {len(ours)} findings; "
          f"detect-secrets {peer}")  # fmt: skip
    return {
        "launch_gate_s": round(ours_s, 2),
        "findings": len(ours),
        "detect_secrets_s": round(theirs_s, 2) if theirs is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-corpus", action="store_true", help="only the generated trees (quick)")
    parser.add_argument("--ours-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours_only:
        return ours_only(args.ours_only.resolve())
    figures: dict[str, object] = {"benchmark": "secret_scan"}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"generated": generate_tree(Path(tmp) / "generated")}
        if not args.skip_corpus:
            trees[CORPUS] = fetch_corpus(Path(tmp))
        parts = {name: compare(name, tree) for name, tree in trees.items()}
        figures.update(parts)
        figures["long_lines"] = long_lines(long_lines_tree(Path(tmp) / "long-lines"))
    theirs = sum(float(p["detect_secrets_s"]) for p in parts.values())  # type: ignore[arg-type]
    ours = sum(float(p["launch_gate_s"]) for p in parts.values())  # type: ignore[arg-type]
    figures.update(
        ratio=round(theirs / ours, 1),
        missed=sum(int(p["missed"]) for p in parts.values()),  # type: ignore[call-overload]
        extra=sum(int(p["extra"]) for p in parts.values()),  # type: ignore[call-overload]
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
