"""A real PostgreSQL server for the test session, from Debian's `postgresql` package: initdb and pg_ctl in
a temporary folder, listening on a free loopback port; stopped at the end. Skips (saying why) only when the
server's binaries are not installed. As root (CI), the server runs as the package's `postgres` user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

INSTALL = "apt-get install -y postgresql"


def server_binaries() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    for initdb in reversed(found):
        bin_dir = Path(initdb).parent
        if (bin_dir / "pg_ctl").is_file():
            return bin_dir
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway server; yields its URL (`postgresql://postgres@127.0.0.1:PORT/postgres`)."""
    bin_dir = server_binaries()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin): {INSTALL}")
    as_root = os.geteuid() == 0
    user = pwd.getpwnam("postgres") if as_root else None
    base = Path(tempfile.mkdtemp(prefix="launch-gate-pg-"))
    data, log = base / "data", base / "server.log"
    if user is not None:  # initdb refuses to run as root
        os.chown(base, user.pw_uid, user.pw_gid)
    run_as = {"user": user.pw_uid, "group": user.pw_gid} if user is not None else {}
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

    def pg(*argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True, env=env, timeout=120, **run_as)  # type: ignore[call-overload]

    try:
        pg(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(server_url: str, name: str) -> str:
    """A new, empty database on the server; its URL."""
    import psycopg

    with psycopg.connect(server_url.replace("postgresql://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
