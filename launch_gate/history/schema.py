"""The history's tables (SQLAlchemy Core, one definition for SQLite and PostgreSQL) and its migrations.

Times are seconds since the epoch (UTC) in floats: the same in every database, and plain to compare.
A `schema_version` table holds the version; `migrate` brings a store up to `VERSION`, step by step
(an empty store gets `create_all`); a store newer than this launch-gate is refused rather than misread.
Version 2 keys each alert delivery by a fingerprint of its destination's URL (`destination_key`), not only by
its place in `[watch] alerts`, so that reordering or adding destinations never misroutes a retry.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

from launch_gate.errors import ConfigError

VERSION = 2
metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(16), nullable=False),  # "check" (a gate run) or "watch" (a round)
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("phase", String(8), nullable=False),
    Column("verdict", String(16), nullable=False),  # ready, failed, error, config-error
    Column("exit_code", Integer, nullable=False),
    Column("commit", String(64)),  # the deploy's commit, when known
    Column("target", Text),
    Column("environment", String(64)),
    Column("error", Text),  # a round that crashed as a whole: why (redacted)
    Index("ix_runs_started", "started_at"),
)

results = Table(
    "results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("at", Float, nullable=False),
    Column("source", String(16), nullable=False),
    Column("check_id", String(200), nullable=False),
    Column("outcome", String(8), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("message", Text, nullable=False),  # redacted before it is written
    Column("p50_ms", Float),
    Column("p95_ms", Float),
    Column("p99_ms", Float),
    Column("error_rate", Float),
    Column("budget_p95_ms", Float),
    Column("kind", String(16)),  # the incident kind when failing (launch_gate.history.kinds), else null
    Column("slow", Boolean, nullable=False, default=False),  # a core route's p95 over [watch] p95-ms
    Index("ix_results_check_at", "check_id", "at"),
    Index("ix_results_at", "at"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("check_id", String(200), nullable=False),
    Column("track", String(8), nullable=False),  # "fail" (any failure of the check) or "slow" (its p95)
    Column("kind", String(16), nullable=False),
    Column("since", Float, nullable=False),  # the first failing round of the streak
    Column("opened_at", Float, nullable=False),
    Column("closed_at", Float),
    Column("last_message", Text, nullable=False),
    Index("ix_incidents_open", "check_id", "track", "closed_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(8), nullable=False),  # "open" or "close"
    Column("destination", Integer, nullable=False),  # the position of its URL in [watch] alerts (1-based)
    # a fingerprint (hash) of the destination's URL, never the URL (a secret); null in rows of version 1
    Column("destination_key", String(64)),
    Column("service", String(32), nullable=False),  # the URL's scheme: never the URL itself (a secret)
    Column("status", String(8), nullable=False),  # pending, sent, failed (given up)
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float),
    Column("last_error", Text),  # redacted
)


def _add_destination_key(connection: Connection) -> None:
    """1 -> 2: deliveries get `destination_key`; older rows keep only their place (and are sent by it)."""
    connection.execute(text("ALTER TABLE deliveries ADD COLUMN destination_key VARCHAR(64)"))


# version -> the step that brings a store at that version to the next one
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _add_destination_key}


def current_version(connection: Connection) -> int:
    """The store's schema version; 0 for an empty database."""
    if not inspect(connection).has_table("schema_version"):
        return 0
    found = connection.execute(select(schema_version.c.version)).scalar()
    return int(found) if found is not None else 0


def migrate(connection: Connection, where: str) -> int:
    """Bring the store to `VERSION` (an empty one: create every table); returns the version it was at."""
    start = current_version(connection)
    if start > VERSION:
        raise ConfigError(
            f"the history at {where} has schema version {start}, newer than this launch-gate knows ({VERSION}): "
            "upgrade launch-gate, or point [history] url at another database."
        )
    if start == 0:
        metadata.create_all(connection)
        connection.execute(insert(schema_version).values(version=VERSION))
        return 0
    for version in range(start, VERSION):
        MIGRATIONS[version](connection)
        connection.execute(schema_version.update().values(version=version + 1))
    return start
