"""What psql's ``\\d`` commands return from a driver, and psql's name patterns.

A driver answers the listing commands it declares in ``LISTINGS`` (``"dt"``, ``"df"``…) with a
:class:`Listing`: a titled table with psql's column names, and for ``\\d NAME`` footer sections
(indexes, constraints, triggers…). Patterns follow psql (``processSQLNamePattern``): unquoted
letters fold to lower case, ``*`` and ``?`` are wildcards, ``.`` separates the schema, double
quotes keep case and make every character literal, and a pattern without a schema means "the
objects visible on the search path".

>>> p = NamePattern.parse('sales.order*')
>>> p.schema, p.name
('^(sales)$', '^(order.*)$')
>>> NamePattern.parse('"Mixed Case"').name
'^(Mixed Case)$'
>>> NamePattern.parse('ORDERS').matches("orders"), NamePattern.parse('"a.b"').qualified
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aishell.engine.errors import QueryError


@dataclass(slots=True)
class Section:
    """A footer of ``\\d NAME``: a title (``Indexes``) and one line a object, its name first."""

    title: str
    items: list[tuple[str, str]] = field(default_factory=list)
    """(name, the rest of the line as psql prints it)."""


@dataclass(slots=True)
class Listing:
    """One table as psql titles it (``List of relations``, ``Table "public.orders"``)."""

    title: str
    columns: list[str]
    rows: list[tuple]
    sections: list[Section] = field(default_factory=list)


class PatternError(QueryError):
    """A pattern psql would refuse (too many dotted names, another database)."""


_REGEX_SPECIAL = set("|*+?()[]{}.^$\\")


@dataclass(frozen=True, slots=True)
class NamePattern:
    """A psql name pattern as anchored POSIX regular expressions (None: any)."""

    schema: str | None
    name: str | None
    database: str | None = None
    qualified: bool = False
    """A schema part was written (even ``*.orders``): the search path no longer decides."""

    @classmethod
    def parse(cls, pattern: str, *, parts: int = 2) -> "NamePattern":
        """Translate ``pattern`` as psql's ``patternToSQLRegex`` does (``parts``: 3 allows
        ``database.schema.name``)."""
        pieces: list[str] = [""]
        in_quotes = False
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == '"':
                if in_quotes and pattern[i + 1:i + 2] == '"':
                    pieces[-1] += '"'
                    i += 1
                else:
                    in_quotes = not in_quotes
            elif not in_quotes and "A" <= ch <= "Z":
                pieces[-1] += ch.lower()
            elif not in_quotes and ch == "*":
                pieces[-1] += ".*"
            elif not in_quotes and ch == "?":
                pieces[-1] += "."
            elif not in_quotes and ch == ".":
                pieces.append("")
            elif ch == "$":
                pieces[-1] += "\\$"
            elif in_quotes and ch in _REGEX_SPECIAL:
                pieces[-1] += "\\" + ch
            elif ch == "[" and pattern[i + 1:i + 2] == "]":
                pieces[-1] += "\\["
            else:
                pieces[-1] += ch
            i += 1
        if len(pieces) > parts:
            raise PatternError(f"improper qualified name (too many dotted names): {pattern}")
        regexes = [f"^({piece})$" for piece in pieces]
        name = regexes[-1]
        schema = regexes[-2] if len(regexes) > 1 else None
        database = regexes[-3] if len(regexes) > 2 else None
        return cls(
            None if schema == "^(.*)$" else schema, None if name == "^(.*)$" else name, database, len(regexes) > 1,
        )

    def matches(self, name: str, schema: str | None = None) -> bool:
        """Whether ``name`` (in ``schema``) matches, for catalogs read into Python (SQLite,
        MongoDB); PostgreSQL's listings match on the server."""
        if self.name is not None and not re.fullmatch(self.name, name):
            return False
        return schema is None or self.matches_schema(schema)

    def matches_schema(self, schema: str) -> bool:
        """Whether ``schema`` matches the schema part (any schema when there is none)."""
        return self.schema is None or bool(re.fullmatch(self.schema, schema))


def size_pretty(size: int) -> str:
    """A size in bytes (not negative) as PostgreSQL's ``pg_size_pretty`` writes it.

    >>> size_pretty(8000), size_pretty(7_631_663), size_pretty(3 * 2**40)
    ('8000 bytes', '7453 kB', '3072 GB')
    """
    if size < 10 * 1024:
        return f"{size} bytes"
    halves = size >> 9  # one extra bit, to round half up like the server
    for unit in ("kB", "MB", "GB"):
        if halves < 20 * 1024 - 1:
            return f"{(halves + 1) // 2} {unit}"
        halves >>= 10
    return f"{(halves + 1) // 2} TB"
