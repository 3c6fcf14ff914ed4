"""What the database has, as completion sees it: relations and their columns, foreign keys,
functions, types; how a name typed in SQL finds its relation (case folding) and how a name is
written back (quoted only when it must be).

PostgreSQL folds unquoted names to lower case, so ``Users`` is ``users`` and only ``"Users"``
names the mixed-case table; SQLite compares names without case.

>>> cat = Catalog({"users": ["id"], "Users": ["Id", "Name"]})
>>> cat.resolve([("Users", False)]), cat.resolve([("Users", True)])
('users', 'Users')
>>> cat.quote("Users"), cat.quote("users"), cat.quote("order")
('"Users"', 'users', '"order"')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

KEYWORDS = (
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "BETWEEN",
    "EXISTS", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "FULL", "CROSS", "ON", "USING", "AS",
    "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "DISTINCT", "UNION", "UNION ALL",
    "INTERSECT", "EXCEPT", "WITH", "RECURSIVE", "CASE", "WHEN", "THEN", "ELSE", "END", "ASC",
    "DESC", "NULLS FIRST", "NULLS LAST", "INSERT INTO", "VALUES", "UPDATE", "SET", "DELETE FROM",
    "RETURNING", "CREATE TABLE", "CREATE INDEX", "CREATE VIEW", "ALTER TABLE", "DROP TABLE",
    "DROP INDEX", "TRUNCATE", "PRIMARY KEY", "FOREIGN KEY", "REFERENCES", "DEFAULT", "UNIQUE",
    "CHECK", "CONSTRAINT", "BEGIN", "COMMIT", "ROLLBACK", "EXPLAIN", "ANALYZE", "OVER",
    "PARTITION BY", "WINDOW", "FILTER", "LATERAL", "TRUE", "FALSE", "CAST", "INTERVAL",
    "ON CONFLICT", "DO NOTHING", "DO UPDATE", "VACUUM", "FETCH FIRST", "ROWS ONLY", "COPY",
    "CREATE MATERIALIZED VIEW", "REFRESH MATERIALIZED VIEW", "DROP VIEW", "DROP MATERIALIZED VIEW",
    "DROP FUNCTION", "DROP TYPE", "DROP SCHEMA", "ADD COLUMN", "ALTER COLUMN", "DROP COLUMN",
    "RENAME COLUMN", "RENAME TO", "IF EXISTS", "IF NOT EXISTS", "NATURAL", "TYPE", "NOT NULL",
)
FUNCTIONS = (
    "count", "sum", "avg", "min", "max", "coalesce", "nullif", "greatest", "least", "lower",
    "upper", "length", "substring", "substr", "trim", "replace", "concat", "round", "floor",
    "ceil", "abs", "now", "current_date", "current_timestamp", "date_trunc", "extract",
    "to_char", "to_date", "date", "datetime", "strftime", "julianday", "string_agg",
    "group_concat", "array_agg", "json_agg", "jsonb_agg", "json_extract", "row_number", "rank",
    "dense_rank", "lag", "lead", "first_value", "last_value", "ntile", "percentile_cont",
    "generate_series", "random", "md5", "split_part", "position", "regexp_replace", "age",
    "ifnull", "iif", "printf", "typeof", "unnest", "exists",
)
TYPES = ("bigint", "boolean", "date", "integer", "numeric", "real", "text", "timestamp", "varchar")
"""Type names for a catalog built by hand (the database's own come with its catalog)."""

RESERVED = frozenset({w for k in KEYWORDS for w in k.split()} | {"LIMIT", "OFFSET", "NATURAL", "LATERAL", "ONLY", "TO", "USER"})
_LOWER_NAME = re.compile(r"^[a-z_][a-z0-9_$]*$")
_ANY_CASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(slots=True)
class Catalog:
    """What the database has, as plain data.

    ``tables`` maps a relation's key (``name`` in a schema of the search path, ``schema.name``
    elsewhere, spelled as the database spells it) to its column names in order; ``kinds`` says
    which keys are views (``view``) or materialized views (``matview``); ``foreign_keys`` are
    ``(key, columns, referenced key, referenced columns)``."""

    tables: Mapping[str, list[str]] = field(default_factory=dict)
    schemas: list[str] = field(default_factory=list)
    functions: tuple[str, ...] = FUNCTIONS
    keywords: tuple[str, ...] = KEYWORDS
    kinds: Mapping[str, str] = field(default_factory=dict)
    foreign_keys: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = ()
    user_functions: tuple[str, ...] = ()
    user_types: tuple[str, ...] = ()
    folds: bool = True
    """Unquoted names fold to lower case and quoted ones are exact (PostgreSQL); False: names
    compare without case (SQLite)."""
    builtin_types: tuple[str, ...] = TYPES
    search_path: tuple[str, ...] = ("public", "main")
    _lower: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for key in self.tables:
            self._lower.setdefault(key.lower(), key)

    @property
    def types(self) -> tuple[str, ...]:
        """The database's built-in type names, then the user's."""
        return tuple(self.builtin_types) + tuple(self.user_types)

    def kind(self, key: str) -> str:
        """``table``, ``view`` or ``matview``."""
        return self.kinds.get(key, "table")

    def fold(self, name: str, quoted: bool) -> str:
        """``name`` as the database stores it when typed unquoted (or quoted)."""
        return name if quoted or not self.folds else name.lower()

    def resolve(self, parts: list[tuple[str, bool]]) -> str | None:
        """The key of the relation a typed name (``[(part, quoted)]``: ``table`` or
        ``schema.table``) names, or None."""
        names = [self.fold(name, quoted) for name, quoted in parts]
        tries = [".".join(names)]
        if len(names) == 2 and names[0].lower() in (s.lower() for s in self.search_path):
            tries.insert(0, names[1])
        for key in tries:
            if key in self.tables:
                return key
        if not self.folds:
            for key in tries:
                found = self._lower.get(key.lower())
                if found is not None:
                    return found
        return None

    def columns(self, key: str | None) -> list[str]:
        """Columns of the relation ``key`` (empty when unknown)."""
        return list(self.tables.get(key, ())) if key is not None else []

    def columns_of(self, name: str) -> list[str] | None:
        """Columns of ``name`` typed as text (``table`` or ``schema.table``), None when unknown."""
        key = self.resolve([(part, False) for part in name.split(".")])
        return self.columns(key) if key is not None else None

    def quote(self, name: str) -> str:
        """``name`` written so the database reads it back as is."""
        plain = _LOWER_NAME if self.folds else _ANY_CASE_NAME
        if plain.match(name) and name.upper() not in RESERVED:
            return name
        return '"' + name.replace('"', '""') + '"'

    def quote_key(self, key: str) -> str:
        """A relation's key (``name`` or ``schema.name``) written for the database."""
        if "." in key:
            schema, name = key.split(".", 1)
            return f"{self.quote(schema)}.{self.quote(name)}"
        return self.quote(key)


def quote_always(name: str) -> str:
    """``name`` in double quotes (completing inside an open quote)."""
    return '"' + name.replace('"', '""') + '"'


__all__ = ["Catalog", "KEYWORDS", "FUNCTIONS", "TYPES", "RESERVED", "quote_always"]
