"""The history store: runs, their results, incidents and alert deliveries, in SQLite or PostgreSQL.

One `History` per process; every write is one short transaction, so several watchers and a dashboard can
share a PostgreSQL store. Messages are written as the run redacted them; database URLs never reach output.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, insert, select, update
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from launch_gate.errors import ConfigError, CouldNotVerify
from launch_gate.history import schema
from launch_gate.history.kinds import Signals
from launch_gate.history.urls import public_target
from launch_gate.redact import Redactor, scrub
from launch_gate.results import CheckResult

DEFAULT_FILE = Path(".launch-gate") / "history.sqlite"
T = TypeVar("T")
MISSING_DRIVER = "a PostgreSQL history needs psycopg 3: pip install 'launch-gate[postgres]'"


def new_run_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Run:
    """One gate run (`check`) or one watch round (`watch`)."""

    id: str
    source: str
    started_at: float
    finished_at: float
    phase: str
    verdict: str
    exit_code: int
    commit: str | None = None
    target: str | None = None
    environment: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Row:
    """One stored result."""

    run_id: str
    at: float
    source: str
    check_id: str
    outcome: str
    duration_ms: float
    message: str
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_rate: float | None
    budget_p95_ms: float | None
    kind: str | None
    slow: bool


@dataclass(frozen=True)
class Incident:
    """A check's failure over `alert-after` rounds: open until one round passes."""

    id: int
    check_id: str
    track: str
    kind: str
    since: float
    opened_at: float
    closed_at: float | None
    last_message: str


@dataclass(frozen=True)
class Delivery:
    """One alert to one destination: pending until sent, retried each round, given up after `retries`."""

    id: int
    incident_id: int
    event: str
    destination: int
    service: str
    status: str
    attempts: int
    created_at: float
    sent_at: float | None
    last_error: str | None
    destination_key: str | None = None  # a fingerprint of the destination's URL (None: a version-1 row)


def deploy_commit(root: Path, environ: Mapping[str, str]) -> str | None:
    """The deploy's commit: `GITHUB_SHA` in Actions, else the project's `git rev-parse HEAD`, else unknown."""
    if environ.get("GITHUB_SHA"):
        return environ["GITHUB_SHA"][:64]
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


NOT_A_URL = "[history] url is not a database URL: use sqlite:///path or postgresql://user@host:5432/dbname."
TWO_ATS = (
    "[history] url has more than one `@` before its host: an `@` in the user name or password must be "
    "percent-encoded as %40 (and `:` as %3A, `/` as %2F)."
)
BAD_PORT = (
    "[history] url has a port that is not a number from 1 to 65535: fix it (postgresql://user@host:5432/dbname), "
    "or leave it out for the default."
)


def _authority(configured: str) -> str:
    """What comes between `://` and the first `/`, `?` or `#` after the last `@` before the query."""
    rest = configured.split("://", 1)[1] if "://" in configured else ""
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    userinfo, _, host = rest.rpartition("@")
    return userinfo + ("@" if userinfo else "") + host.split("/", 1)[0]


def database_url(configured: str | None, root: Path) -> URL:
    """The SQLAlchemy URL: PostgreSQL through psycopg 3, a relative SQLite path from the project's root.
    A URL that would be misread (an unencoded `@` in a password, a bad port) is a ConfigError that never
    repeats the URL: it holds a password."""
    if configured and not configured.lower().startswith("sqlite") and _authority(configured).count("@") > 1:
        raise ConfigError(TWO_ATS)
    try:
        url = make_url(configured or f"sqlite:///{root / DEFAULT_FILE}")
    except ArgumentError:
        raise ConfigError(NOT_A_URL) from None
    except ValueError:  # SQLAlchemy reads the port with int(): `:abc`
        raise ConfigError(BAD_PORT) from None
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ConfigError(BAD_PORT)
    if "@" in (url.host or ""):
        raise ConfigError(TWO_ATS)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        url = url.set(database=str(path if path.is_absolute() else root / path))
    return url


def shown_url(url: URL) -> str:
    """A database URL as messages may name it: scheme, user, host, port and database; the password masked,
    no query (it can hold credentials too)."""
    if url.drivername.startswith("sqlite"):
        return f"sqlite:///{url.database or ''}"
    return scrub(url.set(query={}).render_as_string(hide_password=True))


class History:
    """The store. Build it with `History.open(url, root)`; close it when done."""

    def __init__(self, engine: Engine, where: str, password: str | None = None) -> None:
        self.engine, self.where = engine, where
        # a driver's message never holds the password; should one, no piece of it is shown
        self._redactor = Redactor([password] if password else [], vocabulary=[where])

    @classmethod
    def open(cls, configured: str | None, root: Path) -> History:
        """Open (and create or migrate) the store; a bad URL is a ConfigError, an unreachable one CouldNotVerify."""
        url = database_url(configured, root)
        where = shown_url(url)
        if url.drivername == "sqlite" and url.database and url.database != ":memory:":
            try:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CouldNotVerify(
                    f"could not create the folder of the history {where}: {exc.strerror}"
                ) from None
        try:
            engine = create_engine(url, pool_pre_ping=True, **_engine_options(url))
        except NoSuchModuleError:
            raise ConfigError(
                f"[history] url names a database launch-gate does not support ({where})."
            ) from None
        except ImportError:
            raise ConfigError(MISSING_DRIVER) from None
        except ValueError:  # an option or port the dialect cannot read
            raise ConfigError(BAD_PORT if url.port is not None else NOT_A_URL) from None
        history = cls(engine, where, url.password)
        history.guard(lambda: history._migrate(), "open")
        return history

    def _migrate(self) -> None:
        with self.engine.begin() as connection:
            schema.migrate(connection, self.where)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def guard(self, work: Callable[[], T], what: str) -> T:
        """Run `work`; a database error becomes CouldNotVerify, in a sentence that holds no credential."""
        try:
            return work()
        except SQLAlchemyError as exc:
            reason = self._redactor.text(
                str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
            )
            raise CouldNotVerify(f"the history at {self.where} could not {what}: {reason}") from None

    # --- writes ---
    def record(
        self, run: Run, results: Sequence[CheckResult], signals: Mapping[str, Signals] | None = None
    ) -> int:
        """Write a run and its results in one transaction; returns the rows written. The run's target is
        stored without its credentials (`public_target`)."""
        rows = [_result_row(run, r, (signals or {}).get(r.id)) for r in results]
        values = {**run.__dict__, "target": public_target(run.target)}

        def write() -> int:
            with self.engine.begin() as connection:
                connection.execute(insert(schema.runs).values(**values))
                if rows:
                    connection.execute(insert(schema.results), rows)
            return len(rows) + 1

        return int(self.guard(write, "record the run"))

    def open_incident(
        self, check_id: str, track: str, kind: str, since: float, at: float, message: str
    ) -> Incident:
        values = {"check_id": check_id, "track": track, "kind": kind, "since": since, "opened_at": at,
                  "last_message": message}  # fmt: skip

        def write() -> int:
            with self.engine.begin() as connection:
                key = connection.execute(insert(schema.incidents).values(**values)).inserted_primary_key
                return int(key[0]) if key else 0

        incident_id = self.guard(write, "open an incident")
        return Incident(incident_id, check_id, track, kind, since, at, None, message)

    def close_incident(self, incident_id: int, at: float) -> None:
        """Close it; its last message stays the last failure's."""
        stmt = update(schema.incidents).where(schema.incidents.c.id == incident_id).values(closed_at=at)
        self._execute(stmt, "close an incident")

    def note_incident(self, incident_id: int, message: str) -> None:
        stmt = (
            update(schema.incidents).where(schema.incidents.c.id == incident_id).values(last_message=message)
        )
        self._execute(stmt, "update an incident")

    def add_deliveries(
        self, incident_id: int, event: str, destinations: Sequence[tuple[str, str]], at: float
    ) -> None:
        """One pending delivery per destination: `destinations[n]` is (the scheme, the fingerprint) of alert
        URL n+1. A retry finds its destination by the fingerprint, wherever it has moved in the list."""
        rows = [
            {"incident_id": incident_id, "event": event, "destination": n, "service": service,
             "destination_key": key, "status": "pending", "attempts": 0, "created_at": at}
            for n, (service, key) in enumerate(destinations, 1)
        ]  # fmt: skip
        if rows:
            self._execute(insert(schema.deliveries), "queue an alert", rows)

    def delivery_attempted(self, delivery_id: int, at: float, error: str | None, give_up: bool) -> None:
        table = schema.deliveries
        values: dict[str, object] = {"attempts": table.c.attempts + 1, "last_error": error}
        values.update(
            {"status": "sent", "sent_at": at} if error is None else {"status": "failed"} if give_up else {}
        )
        self._execute(update(table).where(table.c.id == delivery_id).values(**values), "record a delivery")

    def _execute(self, stmt: Any, what: str, rows: Iterable[Mapping[str, object]] | None = None) -> None:
        def write() -> None:
            with self.engine.begin() as connection:
                connection.execute(stmt, list(rows)) if rows is not None else connection.execute(stmt)

        self.guard(write, what)

    # --- reads ---
    def latest(self, check_id: str, count: int, source: str = "watch") -> list[Row]:
        """The last `count` results of a check from `source`, newest first."""
        table = schema.results
        stmt = (
            select(table)
            .where(table.c.check_id == check_id, table.c.source == source)
            .order_by(table.c.at.desc(), table.c.id.desc())
            .limit(count)
        )
        return self._rows(stmt, Row, "read results")

    def open_incidents(self) -> list[Incident]:
        table = schema.incidents
        stmt = select(table).where(table.c.closed_at.is_(None)).order_by(table.c.id)
        return self._rows(stmt, Incident, "read incidents")

    def incident(self, incident_id: int) -> Incident | None:
        table = schema.incidents
        found = self._rows(select(table).where(table.c.id == incident_id), Incident, "read an incident")
        return found[0] if found else None

    def pending_deliveries(self) -> list[Delivery]:
        table = schema.deliveries
        stmt = select(table).where(table.c.status == "pending").order_by(table.c.id)
        return self._rows(stmt, Delivery, "read alerts")

    def deliveries(self) -> list[Delivery]:
        return self._rows(select(schema.deliveries).order_by(schema.deliveries.c.id), Delivery, "read alerts")

    def runs(self, since: float = 0.0) -> list[Run]:
        table = schema.runs
        stmt = select(table).where(table.c.started_at >= since).order_by(table.c.started_at)
        return self._rows(stmt, Run, "read runs")

    def results(self, since: float = 0.0) -> list[Row]:
        table = schema.results
        stmt = select(table).where(table.c.at >= since).order_by(table.c.at, table.c.id)
        return self._rows(stmt, Row, "read results")

    def incidents(self, since: float = 0.0) -> list[Incident]:
        """Incidents open at any time after `since`, oldest first."""
        table = schema.incidents
        stmt = (
            select(table)
            .where((table.c.closed_at.is_(None)) | (table.c.closed_at >= since))
            .order_by(table.c.opened_at, table.c.id)
        )
        return self._rows(stmt, Incident, "read incidents")

    def _rows(self, stmt: Any, kind: type[T], what: str) -> list[T]:
        fields = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]

        def read() -> list[T]:
            with self.engine.connect() as connection:
                return [kind(**{k: v for k, v in row._mapping.items() if k in fields})
                        for row in connection.execute(stmt)]  # fmt: skip

        return self.guard(read, what)


def _engine_options(url: URL) -> dict[str, Any]:
    if url.drivername.startswith("postgresql"):
        return {"connect_args": {"connect_timeout": 10}}
    return {"connect_args": {"timeout": 30}}


def _metric(metrics: Mapping[str, object], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _result_row(run: Run, result: CheckResult, signal: Signals | None) -> dict[str, object]:
    metrics = result.metrics or {}
    return {
        "run_id": run.id,
        "at": run.finished_at,
        "source": run.source,
        "check_id": result.id,
        "outcome": result.outcome.value,
        "duration_ms": round(result.duration_ms, 1),
        "message": result.message,
        "p50_ms": _metric(metrics, "p50_ms"),
        "p95_ms": _metric(metrics, "p95_ms"),
        "p99_ms": _metric(metrics, "p99_ms"),
        "error_rate": _metric(metrics, "error_rate"),
        "budget_p95_ms": _metric(metrics, "budget_p95_ms"),
        "kind": signal.kind if signal is not None else None,
        "slow": bool(signal is not None and signal.slow),
    }


def environ_commit(root: Path) -> str | None:
    """`deploy_commit` from this process's environment."""
    return deploy_commit(root, os.environ)
