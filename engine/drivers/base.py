"""The driver protocol: what every database backend provides, and the values it returns.

A driver turns a URL into connections; a connection executes statements, streams rows in pages,
cancels the running statement and describes the schema. Optional abilities are declared by
flags on the driver (as harlequin's adapters do) so front ends can adapt instead of failing.
Native exceptions never escape: drivers translate them into :mod:`engine.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Protocol, Sequence, runtime_checkable

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

    @property
    def returns_rows(self) -> bool:
        return bool(self.columns)


@runtime_checkable
class RowStream(Protocol):
    """Rows of one statement, fetched from the server a page at a time.

    ``columns`` is known before the first page; ``rowcount`` and ``status`` are final once the
    iteration ends. Iterating yields lists of row tuples (never empty lists).
    """

    columns: tuple[Column, ...]
    rowcount: int
    status: str

    def __aiter__(self) -> AsyncIterator[list[tuple]]: ...


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
        self.tables[(table.schema.lower(), table.name.lower())] = table

    def find(self, name: str, schema: str | None = None) -> TableInfo | None:
        """The table called ``name`` (optionally in ``schema``), or None."""
        name = name.lower()
        if schema:
            return self.tables.get((schema.lower(), name))
        for candidate in self.search_path:
            table = self.tables.get((candidate.lower(), name))
            if table is not None:
                return table
        for (_, table_name), table in self.tables.items():
            if table_name == name:
                return table
        return None

    @property
    def schemas(self) -> list[str]:
        return sorted({t.schema for t in self.tables.values()})


@runtime_checkable
class Connection(Protocol):
    """One open database connection. Not safe for concurrent statements: one at a time.

    Every method raises :class:`engine.errors.QueryError` for a statement the server rejects
    (with ``position`` where the server gives one), :class:`~engine.errors.QueryCancelled` when
    :meth:`cancel` stopped it, and :class:`~engine.errors.ConnectionLost` when the link broke.
    """

    dialect: str

    async def execute(self, sql: str, params: Params = None) -> QueryResult:
        """Run one statement (or, without params, a script) and return all its rows."""

    def stream(self, sql: str, params: Params = None, *, page_size: int = 1000) -> "StreamContext":
        """``async with conn.stream(sql) as rows`` gives a :class:`RowStream` of pages.

        Memory stays bounded by ``page_size`` whatever the result's size.
        """

    async def cancel(self) -> bool:
        """Ask the server to stop the running statement; True if one was running."""

    async def databases(self) -> list[DatabaseInfo]:
        """The databases the user can see, by name: the server's (PostgreSQL, MongoDB; templates
        left out) or those attached to the connection (SQLite). Sizes the user may not read are
        None rather than an error."""

    async def schemas(self) -> list[str]:
        """Names of the schemas the user can see (``main`` for SQLite)."""

    async def tables(self, schema: str | None = None) -> list[TableInfo]:
        """Tables and views (without columns/indexes) with row estimates; fast on big catalogs."""

    async def columns(self, table: str, schema: str | None = None) -> list[ColumnInfo]:
        """Columns of one table, in order."""

    async def indexes(self, table: str, schema: str | None = None) -> list[IndexInfo]:
        """Indexes of one table."""

    async def schema_info(self) -> SchemaInfo:
        """Every table with its columns and indexes, in a few catalog queries."""

    async def server_version(self) -> str:
        """The server's version string."""

    @property
    def in_transaction(self) -> bool:
        """True while an explicit transaction is open on this connection."""

    @property
    def closed(self) -> bool:
        """True once the connection is closed or known to be broken."""

    async def ping(self) -> None:
        """A cheap round trip; raises ConnectionLost when the connection is dead."""

    async def close(self) -> None:
        """Close; never raises."""


class StreamContext(Protocol):
    async def __aenter__(self) -> RowStream: ...

    async def __aexit__(self, *exc: object) -> bool | None: ...


class Driver(Protocol):
    """Turns a target into connections. One instance per database target."""

    name: str
    """Short name: ``postgres``, ``sqlite``, ``mongo``."""
    dialect: str
    """sqlglot dialect of its SQL (``postgres``, ``sqlite``); ``mongo`` for Mongo shell syntax."""
    display_url: str
    """The target with any password redacted, safe to show and store."""

    IMPLEMENTS_CANCEL: bool
    IMPLEMENTS_EXPLAIN: bool
    IMPLEMENTS_TRANSACTIONS: bool

    async def connect(self) -> Connection:
        """Open a connection.

        Raises ConnectionFailed (unreachable), AuthenticationFailed, DatabaseNotFound.
        """
