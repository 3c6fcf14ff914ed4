"""The plain values every layer shares: result columns and rows, and the catalog as drivers
describe it. Nothing here imports another AIShell module, so drivers, the analyzer, memory,
the cache and front ends all use them without depending on each other.

>>> schema = SchemaInfo()
>>> schema.add(TableInfo("public", "orders", columns=[ColumnInfo("id", "integer")],
...                      indexes=[IndexInfo("orders_pkey", ("id",), unique=True, primary=True)]))
>>> schema.find("ORDERS").leading_index_columns()
{'id'}
>>> QueryResult((Column("n", "int4"),), [(1,)], 1, "SELECT 1").rows
[(1,)]
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Sequence

Params = Sequence[Any] | None


@dataclass(frozen=True, slots=True)
class Column:
    """A result column: its name and the database's name for its type."""

    name: str
    type_name: str = ""


@dataclass(slots=True)
class QueryResult:
    """A statement's complete result.

    ``rowcount`` is the number of rows returned, or affected for writes (-1 when unknown);
    ``status`` is the server's command tag (``SELECT 3``, ``INSERT 0 1``) or an equivalent.
    """

    columns: tuple[Column, ...]
    rows: list[tuple]
    rowcount: int
    status: str = ""
    elapsed: float = 0.0
    cached: bool = False


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """A table column as the catalog describes it."""

    name: str
    type_name: str
    nullable: bool = True
    default: str | None = None
    position: int = 0


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """An index: the columns (or expressions) it covers, in order."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    primary: bool = False
    definition: str = ""
    partial: bool = False


@dataclass(slots=True)
class TableInfo:
    """A table or view. ``columns``/``indexes`` are filled by :meth:`Connection.schema_info`
    and may be empty when the table was listed lazily."""

    schema: str
    name: str
    kind: str = "table"  # table, view, materialized view, foreign table, partitioned table
    row_estimate: int = -1
    columns: list[ColumnInfo] = field(default_factory=list)
    indexes: list[IndexInfo] = field(default_factory=list)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def column(self, name: str) -> ColumnInfo | None:
        lowered = name.lower()
        for col in self.columns:
            if col.name.lower() == lowered:
                return col
        return None

    def leading_index_columns(self) -> set[str]:
        """Lower-cased names of columns that lead some index (usable for lookups)."""
        return {ix.columns[0].lower() for ix in self.indexes if ix.columns}


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """A database ``\\l`` lists: one the PostgreSQL server holds, one attached to the SQLite
    connection (``main``, ``temp``, attached files) or a MongoDB database."""

    name: str
    owner: str = ""
    """The owning role (PostgreSQL); '' where databases have no owner."""
    encoding: str = ""
    """The server encoding (PostgreSQL); '' elsewhere."""
    size: int | None = None
    """Bytes on disk; None when the server does not say or the user may not ask."""
    location: str = ""
    """The file behind it (SQLite); '' for in-memory databases and servers."""


@dataclass(slots=True)
class SchemaInfo:
    """A snapshot of the catalog: every table with its columns and indexes.

    ``search_path`` resolves unqualified names the way the server would.
    """

    tables: dict[tuple[str, str], TableInfo] = field(default_factory=dict)
    search_path: tuple[str, ...] = ("public",)

    def add(self, table: TableInfo) -> None:
        # A mixed-case name is its own table: PostgreSQL may hold both "Users" and users.
        self.tables[(table.schema.lower(), table.name)] = table

    def find(self, name: str, schema: str | None = None) -> TableInfo | None:
        """The table called ``name`` (optionally in ``schema``), or None: the exact name first,
        then as folded to lower case, then any case."""
        lowered = name.lower()
        for candidate in [schema] if schema else self.search_path:
            key = candidate.lower()
            table = self.tables.get((key, name)) or self.tables.get((key, lowered))
            if table is not None:
                return table
        wanted = schema.lower() if schema else None
        for (table_schema, table_name), table in self.tables.items():
            if table_name.lower() == lowered and wanted in (None, table_schema):
                return table
        return None

    @property
    def schemas(self) -> list[str]:
        return sorted({t.schema for t in self.tables.values()})


@dataclass(frozen=True, slots=True)
class CatalogRelations:
    """What the query cache must know about the catalog, from
    ``Connection.catalog_relations()``: each relation's version, which are views, and where
    writes spread."""

    versions: dict[str, str] = field(default_factory=dict)
    """Lower-cased relation name -> a version that changes whenever it is created, altered,
    dropped and created again (compare, never read)."""
    views: frozenset[str] = frozenset()
    """Lower-cased names of views (their base tables are unknown: reads of them are not cached)."""
    cascades: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    """Table -> (child, actions) a write to it can change too: ``actions`` holds ``d`` when a
    delete cascades (ON DELETE CASCADE/SET NULL/SET DEFAULT), ``u`` for updates; a child ``*``
    (a user trigger, which may write anything) means any table."""

    @classmethod
    def of(cls, versions: dict[str, str], views: Any, edges: Any) -> "CatalogRelations":
        """From relation versions, view names and ``(parent, child, actions)`` rows."""
        cascades: dict[str, set[tuple[str, str]]] = {}
        for parent, child, actions in edges:
            if parent and child:
                cascades.setdefault(str(parent), set()).add((str(child), str(actions)))
        return cls(versions, frozenset(views), {k: frozenset(v) for k, v in cascades.items()})



@dataclass(frozen=True, slots=True)
class ForeignKeyInfo:
    """A foreign key: ``columns`` of ``schema.table`` reference ``ref_columns`` of
    ``ref_schema.ref_table``, pairwise in order (completion offers the join condition)."""

    schema: str
    table: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CatalogObjects:
    """What completion needs beyond relations and columns, from ``Connection.catalog_objects()``."""

    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    functions: tuple[tuple[str, str], ...] = ()
    """(schema, name) of functions the user can call: PostgreSQL's user-defined ones (extensions'
    left out), SQLite's registered functions (schema '')."""
    types: tuple[tuple[str, str], ...] = ()
    """(schema, name) of user-defined types: enums, composites, domains, ranges (PostgreSQL)."""
    builtin_types: tuple[str, ...] = ()
    """Type names the database knows without CREATE TYPE (column definitions, casts)."""


class InfiniteDate(_dt.date):
    """PostgreSQL's ``infinity`` or ``-infinity`` date. asyncpg reads them as the largest and
    smallest date, so a real ``9999-12-31`` (a common "valid until" mark) showed as
    ``infinity``; read through :mod:`engine.drivers.pg_values`, they are of this type and a
    plain date is always its own value. They compare and sort as the largest and smallest date.

    >>> INFINITY > _dt.date(9999, 12, 30), INFINITY.infinite, NEGATIVE_INFINITY.infinite
    (True, 1, -1)
    """

    __slots__ = ()

    @property
    def infinite(self) -> int:
        """1 for ``infinity``, -1 for ``-infinity``."""
        return 1 if self.year == _dt.MAXYEAR else -1

    def __repr__(self) -> str:
        return "INFINITY" if self.infinite > 0 else "NEGATIVE_INFINITY"

    def __str__(self) -> str:
        return "infinity" if self.infinite > 0 else "-infinity"

    def __reduce__(self) -> tuple[Any, tuple[int, int, int]]:
        return (InfiniteDate, (self.year, self.month, self.day))


INFINITY = InfiniteDate(_dt.MAXYEAR, 12, 31)
NEGATIVE_INFINITY = InfiniteDate(_dt.MINYEAR, 1, 1)


class Interval(_dt.timedelta):
    """An interval as PostgreSQL stores it: :attr:`parts` is (months, days, microseconds), kept
    apart so it shows as psql shows it (``1 mon 2 days``, ``25:00:00``; see
    :mod:`engine.drivers.pg_values`). As a timedelta it is as long as asyncpg's reading of it (a
    month 30 days, a year 365), so code that reads timedeltas needs nothing more.

    >>> Interval(1, 2, 0).parts, Interval(1, 2, 0).days
    ((1, 2, 0), 32)
    """

    __slots__ = ("parts",)

    parts: tuple[int, int, int]

    def __new__(cls, months: int, days: int, microseconds: int) -> "Interval":
        sign = -1 if months < 0 else 1
        years, rest = divmod(abs(months), 12)
        self = super().__new__(cls, days=days + sign * (rest * 30 + years * 365), microseconds=microseconds)
        self.parts = (months, days, microseconds)
        return self

    def __reduce__(self) -> tuple[Any, tuple[int, int, int]]:
        return (Interval, self.parts)

    def __repr__(self) -> str:
        return f"Interval{self.parts!r}"
