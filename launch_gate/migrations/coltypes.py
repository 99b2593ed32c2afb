"""Column types as Django fields, SQLAlchemy types and SQL spell them, and whether a change narrows one.

A type is a family (integer, text, numeric, float) and a size (bytes, length, precision and scale; None for
unbounded). A change narrows when the new type holds fewer values: a shorter length, a smaller integer, fewer
digits, or another family (except to unbounded text, which holds anything). Unknown types are compared by
name: the same name with no smaller size is not narrower, another name cannot be judged (None).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

INTEGERS = {
    **dict.fromkeys(("smallint", "int2", "smallinteger", "positivesmallinteger", "smallauto"), 2),
    **dict.fromkeys(("integer", "int", "int4", "positiveinteger", "auto", "serial", "mediumint"), 4),
    **dict.fromkeys(("bigint", "int8", "biginteger", "positivebiginteger", "bigauto", "bigserial"), 8),
    "tinyint": 1,
}
FLOATS = {
    **dict.fromkeys(("real", "float4"), 4),
    **dict.fromkeys(("float", "float8", "double", "double precision", "double_precision"), 8),
}
SIZED_TEXT = frozenset(
    {"char", "varchar", "character", "character varying", "bpchar", "nchar", "nvarchar", "string", "unicode",
     "slug", "email", "url", "filepath", "file", "image", "genericipaddress"}
)  # fmt: skip
TEXT = frozenset({"text", "unicodetext", "clob", "mediumtext", "longtext", "tinytext"})
MYSQL = frozenset({"mysql", "mariadb"})
# MySQL's text types by the bytes they hold: only LONGTEXT holds what any other type holds.
MYSQL_TEXT = {"tinytext": 255, "text": 65_535, "mediumtext": 16_777_215, "longtext": 4_294_967_295}
NUMERIC = frozenset({"numeric", "decimal"})
# Django fields whose length has a default (`SlugField()` is varchar(50)).
DEFAULT_LENGTHS = {
    **{"slug": 50, "email": 254, "url": 200, "genericipaddress": 39},
    **dict.fromkeys(("filepath", "file", "image"), 100),
}


@dataclass(frozen=True)
class ColumnType:
    """A column's type: as written (for messages), its family (None: not one we know) and its size."""

    shown: str
    name: str
    family: str | None
    size: tuple[int, ...] | None = None  # None: unbounded (or no size given)


def key(name: str) -> str:
    """`models.CharField` -> `char`, `sa.BigInteger` -> `biginteger`, `CHARACTER VARYING` -> `character varying`."""
    last = name.rsplit(".", 1)[-1].strip().lower()
    return last.removesuffix("field") if last.endswith("field") and last != "field" else last


def column_type(
    name: str, sizes: Sequence[int] = (), shown: str | None = None, dialect: str = ""
) -> ColumnType:
    """The type called `name` with its size arguments (length; precision and scale); MySQL's text types have a
    size of their own (`TINYTEXT` holds 255 bytes, `TEXT(100)` is a TINYTEXT)."""
    k = key(name)
    text = shown or name
    if k in INTEGERS:
        return ColumnType(text, k, "integer", (INTEGERS[k],))
    if k in FLOATS:
        return ColumnType(text, k, "float", (FLOATS[k],))
    if dialect in MYSQL and (k in MYSQL_TEXT or k == "text"):
        size = sizes[0] if sizes else MYSQL_TEXT.get(k, 65_535)
        return ColumnType(text, k, "text", None if size > MYSQL_TEXT["mediumtext"] else (size,))
    if k in TEXT and sizes:
        return ColumnType(text, k, "text", (sizes[0],))
    if k in TEXT or (k in ("varchar", "character varying", "string", "unicode") and not sizes):
        return ColumnType(text, k, "text", None)
    if k in SIZED_TEXT:
        length = sizes[0] if sizes else DEFAULT_LENGTHS.get(k, 1)
        return ColumnType(text, k, "text", (length,))
    if k in NUMERIC:
        return ColumnType(text, k, "numeric", tuple(sizes[:2]) or None)
    return ColumnType(text, k, None, tuple(sizes) or None)


def _smaller(old: tuple[int, ...] | None, new: tuple[int, ...] | None, family: str | None) -> bool:
    if new is None:
        return False
    if old is None:
        return True
    if family == "numeric" and len(old) == 2 and len(new) == 2:
        # numeric(p, s): fewer digits after the point, or fewer before it
        return new[1] < old[1] or new[0] - new[1] < old[0] - old[1]
    return any(n < o for n, o in zip(new, old, strict=False))


def narrows(old: ColumnType, new: ColumnType) -> bool | None:
    """Whether changing `old` to `new` can lose values; None when the types cannot be compared."""
    if new.family == "text" and new.size is None:
        return False  # unbounded text holds any value's text
    if old.family is not None and new.family is not None:
        if old.family != new.family:
            return True
        return _smaller(old.size, new.size, old.family)
    if old.name != new.name:
        return None
    return _smaller(old.size, new.size, None)


_TYPMODS = re.compile(r"\(([^)]*)\)")


def sql_type(text: str, dialect: str = "") -> ColumnType:
    """A type as SQL writes it: `varchar(50)`, `numeric(10, 2)`, `character varying`, `bigint`."""
    match = _TYPMODS.search(text)
    sizes = [int(n) for n in re.findall(r"\d+", match[1])] if match else []
    name = _TYPMODS.sub("", text).strip().strip('"').lower()
    name = name.removeprefix("pg_catalog.")
    return column_type(name, sizes, text, dialect)


def safe_target(kind: ColumnType) -> bool:
    """Whether any type can be changed to this one without losing a value (unbounded text)."""
    return kind.family == "text" and kind.size is None
