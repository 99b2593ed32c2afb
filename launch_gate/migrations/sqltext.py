"""What the SQL readers share: where a statement starts in its file, the forward part of a migration that
also holds its rollback, a type change whose old type the SQL does not say, driver placeholders (`%s`,
`:name`, `?`) read as values, and what a message may say of a statement it could not parse: its kind, in
keywords (`ALTER USER`), never its text, which may hold a password."""

from __future__ import annotations

import re
from dataclasses import dataclass

from launch_gate.migrations.coltypes import safe_target, sql_type
from launch_gate.migrations.model import Risk, Scope, Table

_DOWN = re.compile(r"^[ \t]*--[ \t]*(?:migrate:down|\+goose[ \t]+down)\b", re.IGNORECASE | re.MULTILINE)
_TRIVIA = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


# Statement verbs and the object words after them that a message may name; any other word stays unsaid.
_VERBS = frozenset(
    {"ALTER", "ANALYZE", "BEGIN", "CALL", "CLUSTER", "COMMENT", "COMMIT", "COPY", "CREATE", "DECLARE", "DELETE",
     "DELIMITER", "DO", "DROP", "EXEC", "EXECUTE", "EXPLAIN", "GRANT", "INSERT", "LOCK", "MERGE", "PREPARE",
     "REINDEX", "RENAME", "REPLACE", "RESET", "REVOKE", "ROLLBACK", "SELECT", "SET", "SHOW", "START", "TRUNCATE",
     "UPDATE", "USE", "VACUUM", "WITH"}
)  # fmt: skip
_OBJECTS = frozenset(
    {"TABLE", "INDEX", "UNIQUE", "USER", "ROLE", "LOGIN", "VIEW", "MATERIALIZED", "SCHEMA", "DATABASE",
     "FUNCTION", "PROCEDURE", "TRIGGER", "SEQUENCE", "TYPE", "EXTENSION", "EVENT", "POLICY", "DOMAIN", "SERVER",
     "TEMPORARY", "TEMP", "OR", "COLUMN", "CONSTRAINT", "PASSWORD", "TABLESPACE", "PUBLICATION", "SUBSCRIPTION"}
)  # fmt: skip
_FIRST_WORDS = re.compile(r"([A-Za-z]+)(?:\s+([A-Za-z]+))?")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_PLACEHOLDERS = re.compile(
    r"(?P<skip>'(?:[^']|'')*'|\"[^\"]*\"|`[^`]*`|--[^\n]*|/\*.*?\*/|\$(?P<tag>[A-Za-z_]\w*)?\$.*?\$(?P=tag)?\$)"
    r"|(?P<param>%\(\w+\)s|%s|(?<![\w:\]]):[A-Za-z_]\w*|\$\d+|\?)",
    re.DOTALL,
)


def without_bom(text: str) -> str:
    """The text without the UTF-8 byte order mark some editors write at its start."""
    return text.removeprefix("\ufeff")


def statement_kind(text: str) -> str:
    """What a statement is, in its leading keywords only (`an `ALTER USER` statement`): the rest of a statement
    that cannot be parsed is never shown, as it may hold a password (`IDENTIFIED BY '...'`)."""
    start = _TRIVIA.match(text)
    words = _FIRST_WORDS.match(text, start.end() if start else 0)
    if words is None or words[1].upper() not in _VERBS:
        return "a statement"
    verb = words[1].upper()
    more = words[2].upper() if words[2] and words[2].upper() in _OBJECTS else ""
    shown = f"{verb} {more}".strip()
    return f"{'an' if shown[0] in 'AEIOU' else 'a'} `{shown}` statement"


def scrub(message: str) -> str:
    """A parser's message without what it echoes of the input: the token it stopped at and any quoted text."""
    for cut in (" at or near ", ", at index ", " at end of input"):
        message = message.split(cut, 1)[0]
    message = _QUOTED.sub("'…'", message)
    for quote in "'\"`$":
        message = message.split(quote, 1)[0] if quote in message.replace("'…'", "") else message
    return message.strip() or "a syntax error"


def placeholders_as_values(text: str) -> str | None:
    """The SQL with driver placeholders (`%s`, `%(name)s`, `:name`, `$1`, `?`) outside strings and comments
    read as the value `0` (padded, so offsets and lines stay put); None when it holds none."""
    found = False

    def value(match: re.Match[str]) -> str:
        nonlocal found
        if match["param"] is None:
            return match[0]
        found = True
        return "0".ljust(len(match[0]))

    replaced = _PLACEHOLDERS.sub(value, text)
    return replaced if found else None


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


def type_change(
    shown_table: str, table: Table, column: str, shown: str, line: int, scope: Scope, verb: str
) -> Risk | None:
    """A column's type changed to `shown`, the old type not being in the SQL: narrowing cannot be ruled
    out, unless the new type is unbounded text (which holds any value)."""
    if scope.is_new(table) or safe_target(sql_type(shown, scope.dialect)):
        return None
    return Risk(
        "narrow-type",
        line,
        f"{verb} {shown_table}.{column} TYPE {shown}",
        "the old type is not in this migration, so a narrowing cannot be ruled out (values cut, or the "
        "migration failing), and most type changes rewrite the table under an exclusive lock",
    )
