"""What a migration reader reports: the risky operations it found (`Risk`), the kinds of risk with why each
matters and its safe alternative (`KINDS`), what one file holds (`Reading`), and `Unreadable` for a file no
parser could read. Also `Scope`, what earlier statements of the same file did (tables it created, columns it
backfilled), which makes a later operation harmless."""

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
        "for a new column, give it a DEFAULT; for an existing one, backfill it first in the same migration "
        "(UPDATE ... SET col = ... WHERE col IS NULL: a default fills new rows only), or on PostgreSQL add a "
        "CHECK (col IS NOT NULL) NOT VALID constraint, VALIDATE it, then SET NOT NULL",
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


# A table as (schema, name), compared exactly: PostgreSQL's parser has already folded unquoted names, and a
# table the file created only makes later operations harmless when it is the very same table.
Table = tuple[str, str]
# The schema an unqualified name lands in by default; "" where the dialect does not say (MySQL: the current
# database), so that a qualified name never matches an unqualified one there.
DEFAULT_SCHEMAS = {POSTGRESQL: "public", "tsql": "dbo", "sqlite": "main"}


def unquoted(name: str) -> str:
    """An identifier without its quotes: `"Users"` -> `Users`, `` `users` `` -> `users`, `[users]` -> `users`."""
    text = name.strip()
    if len(text) >= 2 and (text[0], text[-1]) in (('"', '"'), ("`", "`"), ("[", "]")):
        return text[1:-1]
    return text


@dataclass
class Scope:
    """What earlier operations of the same file did: an operation on a table the file itself created is
    harmless (the table is new and empty); NOT NULL is safe once the column was backfilled (an UPDATE that
    sets it on every row, or on the rows where it IS NULL), added with a default by this file, or covered by a
    validated `CHECK (col IS NOT NULL)`. A later `SET DEFAULT` is no preparation: a default fills new rows only.
    `CREATE TABLE IF NOT EXISTS` creates nothing the file can count on: the table may be an existing one."""

    dialect: str = POSTGRESQL
    default_schema: str = field(default="")
    created: set[Table] = field(default_factory=set)
    backfilled: set[tuple[Table, str]] = field(default_factory=set)
    filled: set[tuple[Table, str]] = field(default_factory=set)
    checks: dict[tuple[Table, str], str] = field(default_factory=dict)  # NOT VALID `col IS NOT NULL` checks
    validated: set[tuple[Table, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.default_schema:
            self.default_schema = DEFAULT_SCHEMAS.get(self.dialect, "")

    def table(self, name: str, schema: str | None = None) -> Table:
        """The table `name` (unqualified, as written) in `schema`, or in the default schema."""
        return (unquoted(schema) if schema else self.default_schema, unquoted(name))

    def is_new(self, table: Table) -> bool:
        return table in self.created

    def prepared(self, table: Table, column: str) -> bool:
        """Whether NOT NULL on this column was prepared for: a backfill, a filled new column, a validated check."""
        key = (table, unquoted(column))
        return key in self.backfilled or key in self.filled or key in self.validated

    def backfill(self, table: Table, columns: Iterable[str]) -> None:
        """An UPDATE of `table` that sets `columns` on every row that was NULL."""
        self.backfilled.update((table, unquoted(c)) for c in columns)

    def check_not_null(self, table: Table, constraint: str, column: str, valid: bool) -> None:
        """A `CHECK (column IS NOT NULL)` constraint; `valid` when added validated (not NOT VALID)."""
        if valid:
            self.validated.add((table, unquoted(column)))
        elif constraint:
            self.checks[(table, unquoted(constraint))] = unquoted(column)

    def validate(self, table: Table, constraint: str) -> None:
        """`VALIDATE CONSTRAINT`: a NOT VALID not-null check on the table is now proven."""
        column = self.checks.get((table, unquoted(constraint)))
        if column is not None:
            self.validated.add((table, column))
