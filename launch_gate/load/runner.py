"""Starting and watching the Locust children from the gate's process: one process (`local`), a master and N
workers on this machine (`processes`), or a master waiting for workers elsewhere (`master`); and a worker
for someone else's master (`launch-gate load --worker`). Every wait is bounded; a child that crashed, hung
or never wrote its result makes the run an error (could not verify), never a pass."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from launch_gate.config import Settings
from launch_gate.errors import ConfigError
from launch_gate.load.budgets import Figures, LoadSummary
from launch_gate.load.readers import from_result
from launch_gate.load.spec import build_spec

START_GRACE = 30.0  # seconds a child may take to start (imports) and to write its reports after the run
MODE_NAMES = {
    "local": "Locust, in-process",
    "processes": "Locust, {n} worker processes",
    "master": "Locust master, {n} workers",
}


@dataclass(frozen=True)
class Child:
    """A started child and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path


def output_dir(settings: Settings, profile: str) -> Path:
    return settings.root / settings.load.output_dir / profile


def _command(spec: Path, out: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "launch_gate.load.worker", str(spec), str(out), *args]


def _start(stack: ExitStack, name: str, command: list[str], out: Path, environ: Mapping[str, str]) -> Child:
    log = out / f"{name}.log"
    handle: IO[bytes] = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=dict(environ), cwd=out)
    stack.callback(_stop, process)
    return Child(name, process, log)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def _wait(child: Child, seconds: float) -> int | None:
    try:
        return child.process.wait(timeout=max(seconds, 0.1))
    except subprocess.TimeoutExpired:
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: this process's (PATH, Python's own) with the run's values over it; Locust's
    own start-up chatter off."""
    return {**os.environ, **environ, "PYTHONUNBUFFERED": "1", "LOCUST_SKIP_URLLIB3_PATCH": "1"}


def needs_locust() -> None:
    """Locust is the `load` extra: without it, one sentence (exit 4) instead of a child that dies at once."""
    if importlib.util.find_spec("locust") is None:
        raise ConfigError("load runs need Locust, the load extra: pip install 'launch-gate[load]'")


def run_profile(settings: Settings, name: str, environ: Mapping[str, str]) -> LoadSummary:
    """Run profile `name` in the configured mode; its figures (an error summary when a child failed)."""
    needs_locust()
    spec = build_spec(settings, name)
    out = output_dir(settings, name)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("result.json", "locust_stats.csv", "locust.html"):
        (out / stale).unlink(missing_ok=True)
    spec_file = out / "spec.json"
    spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    table = settings.load
    env = child_environ(environ)
    duration = float(spec["duration"])
    with ExitStack() as stack:
        if table.mode == "local":
            master = _start(stack, "locust", _command(spec_file, out, "--role", "local"), out, env)
            workers: list[Child] = []
            source = MODE_NAMES["local"]
            limit = duration + START_GRACE
        else:
            count = table.processes if table.mode == "processes" else table.expect_workers
            bind = f"127.0.0.1:{free_port()}" if table.mode == "processes" else table.master_bind
            within = (
                min(table.connect_within, START_GRACE) if table.mode == "processes" else table.connect_within
            )
            args = [
                "--role",
                "master",
                "--bind",
                bind,
                "--expect",
                str(count),
                "--connect-within",
                f"{within:g}",
            ]
            master = _start(stack, "master", _command(spec_file, out, *args), out, env)
            host, port = bind.rpartition(":")[0], bind.rpartition(":")[2]
            worker_args = ["--role", "worker", "--master-host", host, "--master-port", port]
            worker_args += ["--connect-within", f"{within:g}"]
            workers = []
            if table.mode == "processes":
                for n in range(1, count + 1):
                    command = _command(spec_file, out, *worker_args)
                    workers.append(_start(stack, f"worker-{n}", command, out, env))
            source = MODE_NAMES[table.mode].format(n=count)
            limit = within + duration + START_GRACE
        code = _wait(master, limit)
        if code is None:
            return _failed(
                source, f"the Locust run did not finish within {limit:g} s (stopped; see {master.log})"
            )
        crashed = []
        deadline = time.monotonic() + 15
        for worker in workers:
            status = _wait(worker, deadline - time.monotonic())
            if status != 0:
                crashed.append(f"{worker.name} ({'still running' if status is None else f'exit {status}'})")
        summary = from_result(out / "result.json", source)
        if code != 0 and not summary.error:
            return _failed(source, f"the Locust process exited with {code} (see {master.log})")
        if crashed and not summary.error:
            return _failed(
                source,
                f"worker process {', '.join(crashed)} did not end cleanly: its figures are in doubt (see {out})",
            )
        return summary


def _failed(source: str, why: str) -> LoadSummary:
    return LoadSummary(source, Figures(0), error=why)


def run_worker(
    settings: Settings, name: str, master_host: str, master_port: int, environ: Mapping[str, str]
) -> int:
    """`launch-gate load PROFILE --worker --master-host HOST`: one worker child, until the master stops it.
    0 when the master ran it to the end, 2 when it never connected or was cut off."""
    needs_locust()
    spec = build_spec(settings, name)
    out = output_dir(settings, name)
    out.mkdir(parents=True, exist_ok=True)
    spec_file = out / f"spec-worker-{os.getpid()}.json"
    spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    within = settings.load.connect_within
    command = _command(
        spec_file,
        out,
        "--role",
        "worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
        "--connect-within",
        f"{within:g}",
    )
    try:
        done = subprocess.run(
            command, env=child_environ(environ), timeout=within + float(spec["duration"]) + 60, check=False
        )
    except subprocess.TimeoutExpired:
        return 2
    finally:
        spec_file.unlink(missing_ok=True)
    return 0 if done.returncode == 0 else 2


def spec_of(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "spec.json").read_text(encoding="utf-8")))
