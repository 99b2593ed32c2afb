"""What the SQL readers share: where a statement starts in its file, the forward part of a migration that
also holds its rollback, and a type change whose old type the SQL does not say."""

from __future__ import annotations

import re
from dataclasses import dataclass

from launch_gate.migrations.coltypes import safe_target, sql_type
from launch_gate.migrations.model import Risk, Scope

_DOWN = re.compile(r"^[ \t]*--[ \t]*(?:migrate:down|\+goose[ \t]+down)\b", re.IGNORECASE | re.MULTILINE)
_TRIVIA = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


def up_part(text: str) -> str:
    """The forward part of a SQL migration that holds its rollback too (`-- migrate:down` for dbmate,
    `-- +goose Down` for goose): the rollback is expected to drop what the migration made."""
    down = _DOWN.search(text)
    return text if down is None else text[: down.start()]


@dataclass(frozen=True)
class Where:
    """Turns a character offset of the SQL into a line of the file it came from (SQL inside Python starts on
    the line of its string and never goes past the string's last line)."""

    text: str
    first_line: int = 1
    last_line: int | None = None

    def line(self, offset: int) -> int:
        offset = max(0, min(offset, len(self.text)))
        start = _TRIVIA.match(self.text, offset)  # a statement's offset may point at a comment before it
        at = start.end() if start else offset
        line = self.first_line + self.text.count("\n", 0, at)
        return min(line, self.last_line) if self.last_line else line


def first_line_of(exc: BaseException) -> str:
    """A parser's error message, one line of it."""
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def type_change(table: str, column: str, shown: str, line: int, scope: Scope, verb: str) -> Risk | None:
    """A column's type changed to `shown`, the old type not being in the SQL: narrowing cannot be ruled
    out, unless the new type is unbounded text (which holds any value)."""
    if scope.is_new(table) or safe_target(sql_type(shown)):
        return None
    return Risk(
        "narrow-type",
        line,
        f"{verb} {table}.{column} TYPE {shown}",
        "the old type is not in this migration, so a narrowing cannot be ruled out (values cut, or the "
        "migration failing), and most type changes rewrite the table under an exclusive lock",
    )
