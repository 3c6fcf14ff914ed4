"""SQLite on aiosqlite.

Connections run in autocommit mode (``isolation_level=None``) like psql: a statement commits
unless the user opened a transaction with BEGIN. A path that does not exist is an error unless
``create=True``: a typo never leaves an empty database behind, and an empty (0-byte) file is not
taken for a database either (SQLite would write its header into it). Read-only sessions open the file
with ``mode=ro`` and ``PRAGMA query_only`` plus an authorizer (:func:`read_only_authorizer`) that
denies writes, schema changes, ATTACH/DETACH and the pragmas that would lift read-only, so SQLite
itself refuses them, before any file is opened or created.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

from aishell.engine.drivers import catalog_listing
from aishell.engine.drivers.listing import Listing
from aishell.engine.drivers.url import check_sqlite_file, sqlite_path
from aishell.engine.errors import (
    AishellError,
    ConnectionFailed,
    ConnectionLost,
    QueryCancelled,
    QueryError,
    ReadOnlyViolation,
)
from aishell.engine.types import CatalogObjects, CatalogRelations, Column, ColumnInfo, DatabaseInfo, IndexInfo, Params, QueryResult, SchemaInfo, TableInfo


class SQLiteDriver:
    """Connections to one SQLite file (or ``:memory:``)."""

    name = "sqlite"
    language = "sql"
    dialect = "sqlite"
    POOLED = True
    MANUAL_COMMIT = True
    HYPOTHETICAL_INDEXES = False
    LISTINGS = catalog_listing.LISTINGS
    COPY = True
    value_text = None

    def __init__(self, target: str, *, read_only: bool = False, create: bool = False, busy_timeout: float = 5.0) -> None:
        self.path = sqlite_path(target)
        self.display_url = self.path if self.path == ":memory:" else f"sqlite:///{Path(self.path).resolve()}"
        self.read_only = read_only
        self.create = create
        self.busy_timeout = busy_timeout

    def _uri(self, mode: str | None = None) -> str:
        if self.path == ":memory:":
            return "file::memory:"
        mode = mode or ("ro" if self.read_only else ("rwc" if self.create else "rw"))
        return f"file:{quote(str(Path(self.path).resolve()))}?mode={mode}"

    async def connect(self, *, mode: str | None = None) -> "SQLiteConnection":
        """Open a connection; ``mode`` (``ro``/``rw``/``rwc``) overrides the driver's default."""
        if self.path != ":memory:":
            check_sqlite_file(self.path, create=self.create and mode != "ro")
        try:
            raw = aiosqlite.connect(
                self._uri(mode), uri=True, isolation_level=None, timeout=self.busy_timeout, check_same_thread=False
            )
            thread = getattr(raw, "_thread", None)
            if thread is not None:
                thread.daemon = True  # a connection left open never keeps the process alive
            await raw
        except sqlite3.Error as exc:
            raise ConnectionFailed(f"cannot open {self.display_url}: {exc}") from None
        conn = SQLiteConnection(raw, self)
        try:
            # Reading the schema fails fast on a file that is not a database.
            await conn._fetch("SELECT count(*) FROM sqlite_master")
            if self.read_only or mode == "ro":
                await conn._fetch("PRAGMA query_only = ON")
            if self.read_only:
                await raw.set_authorizer(conn._authorize)  # installed on aiosqlite's thread
        except (Exception, asyncio.CancelledError) as exc:
            await conn.close()  # its worker thread would otherwise keep the process alive
            if isinstance(exc, AishellError):
                raise ConnectionFailed(f"cannot open {self.display_url}: {exc}") from None
            raise
        return conn


class SQLiteConnection:
    """One aiosqlite connection behind the driver protocol."""

    dialect = "sqlite"

    def __init__(self, raw: aiosqlite.Connection, driver: SQLiteDriver) -> None:
        self.raw = raw
        self.driver = driver
        self._running = 0
        self._closed = False
        self.uses = 0
        self._denied = ""

    def _authorize(self, action: int, arg1: str | None, arg2: str | None, database: str | None, trigger: str | None) -> int:
        """The read-only authorizer (runs on aiosqlite's thread): remembers what it denied."""
        denied = read_only_authorizer(action, arg1, arg2, database)
        if denied:
            self._denied = denied
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    async def execute(self, sql: str, params: Params = None) -> QueryResult:
        args = tuple(params or ())
        started = time.perf_counter()
        self._running += 1
        self.uses += 1
        try:
            try:
                cursor = await self.raw.execute(sql, args)
            except sqlite3.ProgrammingError as exc:
                if "one statement at a time" not in str(exc) or args:
                    raise
                changes = self.raw.total_changes
                await self.raw.executescript(sql)
                return QueryResult((), [], self.raw.total_changes - changes, "OK", time.perf_counter() - started)
            try:
                rows = await cursor.fetchall()
                columns = _columns(cursor.description, rows[:1])
                rowcount = len(rows) if columns else cursor.rowcount
            finally:
                await cursor.close()
        except sqlite3.Error as exc:
            raise self._translate(exc, sql) from None
        except ValueError as exc:
            raise QueryError(str(exc), statement=sql) from None
        finally:
            self._running -= 1
        status = f"SELECT {rowcount}" if columns else _status(sql, rowcount)
        return QueryResult(columns, [tuple(r) for r in rows], rowcount, status, time.perf_counter() - started)

    def stream(self, sql: str, params: Params = None, *, page_size: int = 1000) -> "_SQLiteStream":
        return _SQLiteStream(self, sql, tuple(params or ()), page_size)

    async def copy_out(self, query: str, sink: Any, options: Any, progress: Any = None) -> int:
        """See :mod:`engine.drivers.copy`."""
        from aishell.engine.drivers.copy import sqlite_copy_out

        return await sqlite_copy_out(self, query, sink, options, *([progress] if progress else []))

    async def copy_in(self, table: tuple[str | None, str], columns: Any, source: Any, options: Any, progress: Any = None) -> int:
        """See :mod:`engine.drivers.copy`."""
        from aishell.engine.drivers.copy import sqlite_copy_in

        return await sqlite_copy_in(self, table, columns, source, options, *([progress] if progress else []))

    async def cancel(self) -> bool:
        if not self._running or self._closed:
            return False
        await self.raw.interrupt()  # thread-safe: stops the statement in aiosqlite's thread
        return True

    # -- catalog --------------------------------------------------------------------------------

    async def databases(self) -> list[DatabaseInfo]:
        result = []
        for _, name, file in await self._fetch("PRAGMA database_list"):
            pages = await self._fetch(f"PRAGMA {_q(name)}.page_count")
            page_size = await self._fetch(f"PRAGMA {_q(name)}.page_size")
            result.append(DatabaseInfo(name, size=pages[0][0] * page_size[0][0], location=file or ""))
        return sorted(result, key=lambda info: info.name)

    async def schemas(self) -> list[str]:
        rows = await self._fetch("PRAGMA database_list")
        return [r[1] for r in rows if r[1] != "temp"]

    async def tables(self, schema: str | None = None) -> list[TableInfo]:
        result: list[TableInfo] = []
        for name in [schema] if schema else await self.schemas():
            rows = await self._fetch(
                f"SELECT name, type FROM {_q(name)}.sqlite_master "
                "WHERE type IN ('table','view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
            estimates = await self._estimates(name)
            for table, kind in rows:
                result.append(TableInfo(name, table, kind, estimates.get(table, -1)))
        return result

    async def columns(self, table: str, schema: str | None = None) -> list[ColumnInfo]:
        rows = await self._fetch(f"PRAGMA {_q(schema or 'main')}.table_xinfo({_q(table)})")
        return [
            ColumnInfo(r[1], r[2] or "", not r[3] and not r[5], r[4], int(r[0]) + 1)
            for r in rows
            if r[6] in (0, 2, 3)  # hidden columns of virtual tables are left out
        ]

    async def indexes(self, table: str, schema: str | None = None) -> list[IndexInfo]:
        prefix = _q(schema or "main")
        result = []
        for r in await self._fetch(f"PRAGMA {prefix}.index_list({_q(table)})"):
            name, unique, origin, partial = r[1], bool(r[2]), r[3], bool(r[4])
            cols = await self._fetch(f"PRAGMA {prefix}.index_xinfo({_q(name)})")
            names = tuple((c[2] if c[2] is not None else "<expr>") for c in sorted(cols, key=lambda c: c[0]) if c[5])
            sql_rows = await self._fetch(f"SELECT sql FROM {prefix}.sqlite_master WHERE type='index' AND name=?", (name,))
            definition = sql_rows[0][0] if sql_rows and sql_rows[0][0] else f"{origin} index on {table}"
            result.append(IndexInfo(name, names, unique, origin == "pk", definition, partial))
        # An INTEGER PRIMARY KEY is the rowid: an index in all but name.
        pk = [r for r in await self._fetch(f"PRAGMA {prefix}.table_info({_q(table)})") if r[5]]
        if len(pk) == 1 and (pk[0][2] or "").upper() == "INTEGER" and not any(ix.primary for ix in result):
            result.insert(0, IndexInfo(f"{table}_rowid", (pk[0][1],), True, True, "INTEGER PRIMARY KEY (rowid)"))
        return result

    async def schema_info(self) -> SchemaInfo:
        info = SchemaInfo(search_path=("main", "temp"))
        for table in await self.tables():
            table.columns = await self.columns(table.name, table.schema)
            table.indexes = await self.indexes(table.name, table.schema)
            info.add(table)
        return info

    async def _estimates(self, schema: str) -> dict[str, int]:
        """Row estimates from ``sqlite_stat1`` when ANALYZE ran; otherwise exact max(rowid)
        style counts are too slow on big tables, so the count of the table's pages is used."""
        estimates: dict[str, int] = {}
        try:
            for tbl, stat in await self._fetch(
                f"SELECT tbl, stat FROM {_q(schema)}.sqlite_stat1 WHERE idx IS NULL OR idx = tbl OR stat IS NOT NULL"
            ):
                if tbl not in estimates and stat:
                    estimates[tbl] = int(str(stat).split()[0])
        except QueryError:
            pass
        rows = await self._fetch(
            f"SELECT name FROM {_q(schema)}.sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
        for (name,) in rows:
            if name in estimates:
                continue
            try:
                # max(rowid) is an O(log n) b-tree lookup: a good estimate for rowid tables.
                value = await self._fetch(f"SELECT max(rowid) FROM {_q(schema)}.{_q(name)}")
                estimates[name] = int(value[0][0] or 0)
            except QueryError:  # WITHOUT ROWID tables
                estimates[name] = -1
        return estimates

    async def listing(self, command: str, pattern: str | None, *, system: bool, verbose: bool) -> Listing:
        """``\\dt \\dv \\di \\dn \\l`` over ``main`` and ``temp`` (:mod:`.catalog_listing`)."""
        return await catalog_listing.listing(self, command, pattern, visible=("main", "temp"), verbose=verbose)

    async def describe(self, pattern: str, *, system: bool, verbose: bool) -> list[Listing]:
        """Columns, indexes, foreign keys both ways, triggers, a view's definition."""
        return await catalog_listing.describe(
            self, pattern, visible=("main", "temp"), verbose=verbose, footers=catalog_listing.sqlite_footers(self._fetch),
        )

    async def server_version(self) -> str:
        return sqlite3.sqlite_version

    async def relation_sizes(self) -> list[tuple[TableInfo, int]]:
        """The tables of ``main`` (what a copy of the file holds), each with its size on disk in
        bytes, its indexes included; -1 when this SQLite lacks the ``dbstat`` table."""
        tables = [t for t in await self.tables("main") if t.kind == "table"]
        sizes: dict[str, int] = {}
        try:  # dbstat is an optional compile-time feature
            rows = await self._fetch(
                "SELECT m.tbl_name, sum(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name GROUP BY m.tbl_name"
            )
            sizes = {r[0]: int(r[1]) for r in rows}
        except QueryError:
            pass
        return [(t, sizes.get(t.name, -1)) for t in tables]

    async def user_relation_count(self) -> int:
        """Tables, views, indexes and triggers of ``main`` outside SQLite's own: 0 for an empty
        database."""
        rows = await self._fetch("SELECT count(*) FROM main.sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
        return int(rows[0][0])

    async def catalog_marker(self) -> tuple[Any, Any] | None:
        """``PRAGMA schema_version`` (any DDL) and ``PRAGMA data_version`` (another connection
        committed: what it changed is unknown)."""
        rows = await self._fetch("SELECT * FROM pragma_schema_version, pragma_data_version")
        return ((rows[0][0],), rows[0][1])

    async def catalog_relations(self) -> CatalogRelations:
        """Tables and views of ``main`` with their definition as version; cascading foreign
        keys and triggers."""
        rows = await self._fetch(
            "SELECT lower(name), type || ':' || coalesce(sql, '') FROM sqlite_master WHERE type IN ('table', 'view')"
        )
        versions = {str(r[0]): str(r[1]) for r in rows}
        views = [name for name, version in versions.items() if version.startswith("view:")]
        return CatalogRelations.of(versions, views, await self._fetch(_CATALOG_EDGES))

    async def catalog_objects(self) -> CatalogObjects:
        """Foreign keys of every attached database and the registered functions (see
        :mod:`engine.drivers.objects`)."""
        from aishell.engine.drivers.objects import sqlite_objects

        return await sqlite_objects(self._fetch, await self.schemas())

    @property
    def in_transaction(self) -> bool:
        return not self._closed and self.raw.in_transaction

    @property
    def transaction_failed(self) -> bool:
        return False  # an error leaves SQLite's transaction usable (or rolls it back itself)

    @property
    def closed(self) -> bool:
        return self._closed

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    async def readers_block_writers(self) -> str:
        mode = await self._fetch("PRAGMA journal_mode")
        if mode and str(mode[0][0]).lower() == "wal":
            return ""
        return "the SQLite file is not in WAL mode: a reader would block the writes"

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self.raw.close(), 5.0)
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - close never raises
            pass

    async def _fetch(self, sql: str, params: Params = None) -> list[Any]:
        if self._closed:
            raise ConnectionLost(f"connection to {self.driver.display_url} is closed")
        try:
            return list(await self.raw.execute_fetchall(sql, tuple(params or ())))
        except sqlite3.Error as exc:
            raise self._translate(exc, sql) from None
        except ValueError as exc:  # aiosqlite: "no active connection"
            raise ConnectionLost(f"connection to {self.driver.display_url} lost: {exc}") from None

    def _translate(self, exc: Exception, sql: str) -> AishellError:
        message = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and message == "interrupted":
            return QueryCancelled("statement cancelled", statement=sql)
        if "attempt to write a readonly database" in message or "query_only" in message.lower():
            return ReadOnlyViolation(f"read-only session: {message}", statement=sql)
        if self.driver.read_only and message in ("not authorized", "authorization denied"):
            denied, self._denied = self._denied, ""
            return ReadOnlyViolation(f"read-only session: SQLite refused {denied or 'the statement'}", statement=sql)
        return QueryError(message, statement=sql, sqlstate=getattr(exc, "sqlite_errorname", None))


READ_ONLY_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
    "foreign_key_check", "integrity_check", "quick_check", "table_list", "busy_timeout", "cache_size",
    "foreign_keys", "case_sensitive_like", "automatic_index", "temp_store", "threads", "analysis_limit",
    "reverse_unordered_selects",
})
"""Pragmas a read-only session may run with an argument: readers that take a table or index
name, and tuning that neither writes nor lifts read-only. Any other pragma given a value
(``query_only``, ``writable_schema``, ``journal_mode``, ``user_version``...) is denied; one
read without a value is allowed. The statement classifier refuses the same ones before sending."""

_DENIED_ACTIONS = {
    getattr(sqlite3, name): name[len("SQLITE_"):].replace("_", " ")
    for name in dir(sqlite3)
    if name.startswith(("SQLITE_CREATE_", "SQLITE_DROP_"))
    or name in ("SQLITE_ALTER_TABLE", "SQLITE_REINDEX", "SQLITE_ANALYZE", "SQLITE_ATTACH", "SQLITE_DETACH")
}
_ROW_WRITES = {sqlite3.SQLITE_INSERT: "INSERT", sqlite3.SQLITE_UPDATE: "UPDATE", sqlite3.SQLITE_DELETE: "DELETE"}
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"})


def read_only_authorizer(action: int, arg1: str | None, arg2: str | None, database: str | None) -> str:
    """What a read-only connection must not do, as words for the message (empty: allowed).

    Schema changes (temporary ones too, as PostgreSQL's read-only transactions refuse them),
    ATTACH and DETACH (an attached file would be opened read-write, even created; VACUUM INTO
    attaches its target, so it is denied too), row writes outside ``temp``, and pragmas given a
    value unless listed in :data:`READ_ONLY_PRAGMAS`. SQLite asks while preparing a statement,
    so nothing runs and no file is created.

    >>> read_only_authorizer(sqlite3.SQLITE_ATTACH, "copy.db", None, None)
    'ATTACH'
    >>> read_only_authorizer(sqlite3.SQLITE_PRAGMA, "query_only", "0", None)
    'PRAGMA query_only'
    >>> read_only_authorizer(sqlite3.SQLITE_PRAGMA, "table_info", "orders", None)
    ''
    """
    if action in _DENIED_ACTIONS:
        return _DENIED_ACTIONS[action]
    if action in _ROW_WRITES:
        # SQLite itself updates its schema table while it sets up pragma table functions.
        if database == "temp" or (arg1 or "").lower() in _SCHEMA_TABLES:
            return ""
        return f"{_ROW_WRITES[action]} on {arg1}"
    if action == sqlite3.SQLITE_PRAGMA and arg2 is not None and (arg1 or "").lower() not in READ_ONLY_PRAGMAS:
        return f"PRAGMA {arg1}"
    return ""


class _SQLiteStream:
    """Rows from one cursor, ``page_size`` at a time."""

    def __init__(self, conn: SQLiteConnection, sql: str, args: tuple, page_size: int) -> None:
        self._conn = conn
        self._sql = sql
        self._args = args
        self._page_size = max(1, page_size)
        self._cursor: Any = None
        self._first: list[tuple] | None = None
        self.columns: tuple[Column, ...] = ()
        self.rowcount = 0
        self.status = ""

    async def __aenter__(self) -> "_SQLiteStream":
        conn = self._conn
        conn._running += 1
        conn.uses += 1
        try:
            self._cursor = await conn.raw.execute(self._sql, self._args)
            if self._cursor.description is None:
                self.rowcount = self._cursor.rowcount
                self.status = _status(self._sql, self.rowcount)
                await self._close_cursor()
                return self
            self._first = [tuple(r) for r in await self._cursor.fetchmany(self._page_size)]
            self.columns = _columns(self._cursor.description, self._first[:1])
        except sqlite3.ProgrammingError as exc:
            await self._close_cursor()
            if "one statement at a time" in str(exc) and not self._args:
                conn._running -= 1
                conn.uses -= 1
                result = await conn.execute(self._sql)
                conn._running += 1
                self.rowcount, self.status = result.rowcount, result.status
                return self
            raise conn._translate(exc, self._sql) from None
        except sqlite3.Error as exc:
            await self._close_cursor()
            raise conn._translate(exc, self._sql) from None
        except BaseException:
            await self._close_cursor()
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._close_cursor()

    @property
    def holds_snapshot(self) -> bool:
        return self._cursor is not None

    def __aiter__(self) -> "_SQLiteStream":
        return self

    async def __anext__(self) -> list[tuple]:
        if self._first:
            rows, self._first = self._first, None
            self.rowcount += len(rows)
            return rows
        if self._cursor is None:
            raise StopAsyncIteration
        try:
            rows = [tuple(r) for r in await self._cursor.fetchmany(self._page_size)]
        except sqlite3.Error as exc:
            await self._close_cursor()
            raise self._conn._translate(exc, self._sql) from None
        if not rows:
            self.status = f"SELECT {self.rowcount}"
            await self._close_cursor()
            raise StopAsyncIteration
        self.rowcount += len(rows)
        return rows

    async def _close_cursor(self) -> None:
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            self._conn._running -= 1
            try:
                await cursor.close()
            except (sqlite3.Error, ValueError):
                pass


def _columns(description: Any, sample: list[Any]) -> tuple[Column, ...]:
    if not description:
        return ()
    first = sample[0] if sample else None
    return tuple(
        Column(d[0], _type_of(first[i]) if first is not None else "") for i, d in enumerate(description)
    )


def _type_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "INTEGER"
    return {int: "INTEGER", float: "REAL", str: "TEXT", bytes: "BLOB"}.get(type(value), type(value).__name__.upper())


def _status(sql: str, rowcount: int) -> str:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if head in ("INSERT", "UPDATE", "DELETE", "REPLACE") and rowcount >= 0:
        return f"{head} {rowcount}"
    return head or "OK"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# Writes to the first table can change the second (the query cache's schema watcher):
# cascading foreign keys, and triggers, which may write anything ('*').
_CATALOG_EDGES = (
    "SELECT lower(f.\"table\"), lower(m.name), "
    "CASE WHEN upper(f.on_delete) IN ('CASCADE','SET NULL','SET DEFAULT') THEN 'd' ELSE '' END || "
    "CASE WHEN upper(f.on_update) IN ('CASCADE','SET NULL','SET DEFAULT') THEN 'u' ELSE '' END "
    "FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
    "WHERE m.type = 'table' AND (upper(f.on_delete) IN ('CASCADE','SET NULL','SET DEFAULT') "
    "OR upper(f.on_update) IN ('CASCADE','SET NULL','SET DEFAULT')) "
    "UNION SELECT lower(tbl_name), '*', '' FROM sqlite_master WHERE type = 'trigger'"
)
