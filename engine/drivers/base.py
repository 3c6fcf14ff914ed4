"""The driver protocol: what every database backend provides.

A driver turns a URL into connections; a connection executes statements, streams rows in pages,
cancels the running statement and describes the schema. Optional abilities are declared by
flags on the driver (as harlequin's adapters do) so front ends can adapt instead of failing.
Native exceptions never escape: drivers translate them into :mod:`engine.errors`; the values
they return are the plain types of :mod:`engine.types`.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Protocol, runtime_checkable

from aishell.engine.drivers.listing import Listing
from aishell.engine.types import (
    CatalogObjects, CatalogRelations, Column, ColumnInfo, DatabaseInfo, IndexInfo, Params, QueryResult, SchemaInfo, TableInfo,
)


@runtime_checkable
class RowStream(Protocol):
    """Rows of one statement, fetched from the server a page at a time.

    ``columns`` is known before the first page; ``rowcount`` and ``status`` are final once the
    iteration ends. Iterating yields lists of row tuples (never empty lists).
    """

    columns: tuple[Column, ...]
    rowcount: int
    status: str
    holds_snapshot: bool
    """The server keeps a cursor open for the rows not read yet, and with it the snapshot they
    are read from (PostgreSQL: a cursor in a transaction, ``backend_xmin`` set; SQLite: a read
    statement keeping WAL checkpoints behind it), until the iteration ends or the stream closes."""

    def __aiter__(self) -> AsyncIterator[list[tuple]]: ...


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

    async def listing(self, command: str, pattern: str | None, *, system: bool, verbose: bool) -> Listing:
        """What psql's ``\\<command>[S][+] [pattern]`` lists (``command`` one of the driver's
        ``LISTINGS``), with psql's columns and visibility; see :mod:`engine.drivers.listing`."""

    async def describe(self, pattern: str, *, system: bool, verbose: bool) -> list[Listing]:
        """psql's ``\\d[+] pattern``: every relation it matches, with its footers. Raises
        PatternError when nothing matches."""

    async def catalog_marker(self) -> tuple[Any, Any] | None:
        """The catalog change marker: a cheap value to poll that changes whenever the catalog may
        have (a relation created, altered or dropped), as ``(schema, data)``. ``data`` changes
        when another connection committed anything the server cannot say more about (SQLite's
        ``data_version``) and is None where there is no such thing. None: nothing to watch
        (MongoDB). The query cache's schema watcher reads :meth:`catalog_relations` only when
        the marker moved."""

    async def catalog_relations(self) -> CatalogRelations:
        """Each relation's version, the views and the write cascades (foreign keys that cascade,
        user triggers), in a few catalog queries; see :class:`engine.types.CatalogRelations`."""

    async def catalog_objects(self) -> CatalogObjects:
        """Foreign keys, callable functions and user-defined types, for completion; see
        :class:`engine.types.CatalogObjects` (empty where the database has none)."""

    @property
    def in_transaction(self) -> bool:
        """True while an explicit transaction is open on this connection."""

    @property
    def transaction_failed(self) -> bool:
        """True while the open transaction is aborted: a statement in it failed and the server
        refuses every other until ROLLBACK (PostgreSQL). False where an error leaves the
        transaction usable (SQLite, MongoDB) and when no transaction is open."""

    @property
    def closed(self) -> bool:
        """True once the connection is closed or known to be broken."""

    async def ping(self) -> None:
        """A cheap round trip; raises ConnectionLost when the connection is dead."""

    async def readers_block_writers(self) -> str:
        """Why another connection reading this database would hold up its writers ("" when it
        would not: PostgreSQL and MongoDB never; SQLite unless the file is in WAL mode)."""

    async def close(self) -> None:
        """Close; never raises."""


class StreamContext(Protocol):
    async def __aenter__(self) -> RowStream: ...

    async def __aexit__(self, *exc: object) -> bool | None: ...


class Driver(Protocol):
    """Turns a target into connections. One instance per database target."""

    name: str
    """Short name: ``postgres``, ``sqlite``, ``mongo`` (for messages and registries, not for
    deciding what the driver can do: read its flags)."""
    language: str
    """The language its statements are written in: ``sql`` (parsed by sqlglot in ``dialect``) or
    ``mongosh`` (MongoDB shell syntax). Code that parses, analyzes, explains or redacts statement
    text picks its implementation by this, never by ``name``."""
    dialect: str
    """sqlglot dialect of its SQL (``postgres``, ``sqlite``); ``mongo`` for Mongo shell syntax."""
    display_url: str
    """The target with any password redacted, safe to show and store."""
    read_only: bool
    """Connections refuse writes (see :attr:`engine.session.Session.read_only`)."""

    POOLED: bool
    """Its connections are independent and :mod:`engine.pool` shares them (PostgreSQL, SQLite).
    False when the client pools by itself (MongoDB): each connection is then a handle on that
    pool, and ``connection.pool_metrics()`` reports it."""
    MANUAL_COMMIT: bool
    """``BEGIN``, ``COMMIT`` and ``ROLLBACK`` statements control its transactions, so a front end
    can offer manual-commit mode (the session sends ``BEGIN`` before the first statement)."""
    HYPOTHETICAL_INDEXES: bool
    """The planner can cost indexes that do not exist (PostgreSQL with HypoPG), so index advice
    can be verified rather than only proposed by the rules."""
    LISTINGS: frozenset[str]
    """The psql listing commands its connections answer (``"dt"``, ``"dT"``…; ``"d"`` also
    means ``\\d NAME``): the others say they are not available here."""
    COPY: bool
    """Connections bulk-copy between a table or query and a file (``copy_out``/``copy_in``, see
    :mod:`engine.drivers.copy`): ``\\copy`` is offered."""
    value_text: Callable[[Any], str | None] | None
    """The text its own client shows for a value, ``None`` for NULL (PostgreSQL: psql's forms,
    :func:`engine.encode.pg_text`, which the exports write too); None: the results grid shows its
    own natural forms (SQLite's and MongoDB's values)."""

    async def connect(self) -> Connection:
        """Open a connection.

        Raises ConnectionFailed (unreachable), AuthenticationFailed, DatabaseNotFound.
        """
