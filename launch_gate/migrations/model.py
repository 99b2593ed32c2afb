"""What a migration reader reports: the risky operations it found (`Risk`), the kinds of risk with why each
matters and its safe alternative (`KINDS`), what one file holds (`Reading`), and `Unreadable` for a file no
parser could read. Also `Scope`, what earlier statements of the same file did (tables it created, columns it
gave a default), which makes a later operation harmless."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class Kind:
    """A kind of risky operation: what it risks, and what to do instead."""

    risk: str
    instead: str


KINDS: dict[str, Kind] = {
    "drop-table": Kind(
        "every row in the table is gone, and code still running the old version fails",
        "stop using the table in one release; drop it in a later one, after a backup",
    ),
    "drop-schema": Kind(
        "every table in the schema or database is gone",
        "drop it by hand after a backup, outside the deploy",
    ),
    "drop-column": Kind(
        "every value in the column is gone, and code still running the old version fails",
        "stop reading and writing the column in one release; drop it in a later one",
    ),
    "rename-table": Kind(
        "code still running the old version fails while the deploy rolls out",
        "create the new table (or a view), write to both, move reads, then drop the old one later",
    ),
    "rename-column": Kind(
        "code still running the old version fails while the deploy rolls out",
        "add the new column, write to both and backfill, move reads, then drop the old column later",
    ),
    "narrow-type": Kind(
        "values that do not fit the new type are cut or make the migration fail, and the table is "
        "rewritten under an exclusive lock",
        "add a new column of the new type, backfill it in batches, then switch over",
    ),
    "not-null": Kind(
        "the migration fails on any existing NULL (or any existing row, for a new column) after scanning "
        "the table under an exclusive lock",
        "give the column a default or backfill it first; on PostgreSQL add a CHECK (col IS NOT NULL) NOT VALID "
        "constraint, VALIDATE it, then SET NOT NULL",
    ),
    "truncate": Kind("every row in the table is gone", "delete what must go with a WHERE, in batches"),
    "delete-all": Kind(
        "a DELETE without WHERE empties the table", "add the WHERE that says which rows must go"
    ),
    "update-all": Kind(
        "an UPDATE without WHERE overwrites every row (and locks them all)",
        "add a WHERE, and update a large table in batches",
    ),
    "blocking-index": Kind(
        "building the index blocks every write to the table until it is done",
        "CREATE INDEX CONCURRENTLY (Django: AddIndexConcurrently; Alembic: postgresql_concurrently=True), "
        "outside a transaction; for a unique constraint, add it USING INDEX afterwards",
    ),
    "validating-constraint": Kind(
        "adding the constraint scans every row while holding a lock that blocks writes",
        "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration (Django: AddConstraintNotValid and "
        "ValidateConstraint; Alembic: postgresql_not_valid=True)",
    ),
    "unchecked": Kind(
        "the operation is not written out in the migration (SQL built at run time, a computed list of "
        "operations), so nobody can tell what it does before it runs",
        "write the SQL or the operations out literally, or approve the file after reading what it runs",
    ),
}
# What a waiver or a commit trailer may also approve: a file that could not be parsed at all.
UNPARSABLE = "unparsable"


@dataclass(frozen=True)
class Risk:
    """One risky operation: its kind (a key of KINDS), the line it starts on, the operation as written
    (`RemoveField user.legacy`, `DROP COLUMN users.legacy`) and what makes it risky here."""

    kind: str
    line: int
    operation: str
    detail: str = ""

    @property
    def message(self) -> str:
        why = self.detail or KINDS[self.kind].risk
        return f"{self.kind}: {self.operation}: {why}"


@dataclass(frozen=True)
class Reading:
    """What one migration file holds: the framework that wrote it and its risky operations, in order."""

    framework: str  # "django", "alembic" or "sql"
    risks: tuple[Risk, ...] = ()


class Unreadable(ValueError):
    """A migration no parser could read; the message says where and why (`line 3: syntax error at ...`)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line


def bare(name: str) -> str:
    """A table or model name compared without case, quotes or schema: `"Public"."Users"` -> `users`."""
    return name.rsplit(".", 1)[-1].strip('"`[] ').lower()


@dataclass
class Scope:
    """What earlier operations of the same file did: an operation on a table the file itself created is
    harmless (the table is new and empty), and NOT NULL is safe once the column was given a default or
    backfilled (an UPDATE that sets it), or the table had a constraint validated first."""

    created: set[str] = field(default_factory=set)
    backfilled: set[tuple[str, str]] = field(default_factory=set)
    defaults: set[tuple[str, str]] = field(default_factory=set)
    validated: set[str] = field(default_factory=set)

    def is_new(self, table: str) -> bool:
        return bare(table) in self.created

    def prepared(self, table: str, column: str) -> bool:
        """Whether NOT NULL on this column was prepared for: a default, a backfill or a validated check."""
        key = (bare(table), bare(column))
        return key in self.defaults or key in self.backfilled or key[0] in self.validated

    def backfill(self, table: str, columns: Iterable[str]) -> None:
        """An UPDATE of `table` that sets `columns`."""
        self.backfilled.update((bare(table), bare(c)) for c in columns)
