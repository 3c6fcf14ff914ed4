"""The Session: the one facade the TUI, the CLI, scripts and tests use to talk to a database.

It owns the driver and the connection source (a pool, or one connection), and runs every
statement through the same path: cache lookup, execution, memory record, cache invalidation.
Everything is async; nothing here knows about Textual.

    async with await Session.open("sqlite:///shop.db") as session:
        result = await session.execute("SELECT count(*) FROM orders")
        async with session.stream("SELECT * FROM order_items") as rows:
            async for page in rows:
                ...
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator

from engine.config import Settings
from engine.drivers import driver_for
from engine.drivers.base import Connection, Driver, Params, QueryResult, RowStream, SchemaInfo, TableInfo, ColumnInfo, IndexInfo
from engine.errors import AishellError, ConnectionLost


class SingleConnection:
    """A connection source of exactly one connection, reconnecting when it breaks.

    Used when the pool is switched off. Statements are serialized by a lock; an open
    transaction keeps the connection pinned to this session by construction.
    """

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._conn = await self._driver.connect()

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        async with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = await self._driver.connect()
            yield self._conn

    @property
    def current(self) -> Connection | None:
        """The connection a running statement uses (for cancel)."""
        return self._conn

    def metrics(self) -> None:
        return None

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


@dataclass(slots=True)
class Running:
    """The statement in flight, so :meth:`Session.cancel` can reach it."""

    sql: str
    connection: Connection
    started: float


class Session:
    """A connected database session. Create with :meth:`open`; close with :meth:`close`."""

    def __init__(self, driver: Driver, settings: Settings, source: Any) -> None:
        self.driver = driver
        self.settings = settings
        self._source = source
        self._running: set[Running] = set()  # type: ignore[misc]
        self._running_list: list[Running] = []
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        target: str,
        *,
        settings: Settings | None = None,
        read_only: bool | None = None,
        create: bool = False,
    ) -> "Session":
        """Connect to ``target`` (URL or SQLite path).

        Raises UnsupportedURL, ConnectionFailed, AuthenticationFailed, DatabaseNotFound.
        """
        settings = settings or Settings.load()
        read_only = settings.read_only if read_only is None else read_only
        options: dict[str, Any] = {}
        if settings.pool.statement_timeout and target.split(":", 1)[0].startswith("postgres"):
            options["statement_timeout"] = settings.pool.statement_timeout
        driver = driver_for(target, read_only=read_only, create=create, **options)
        source = SingleConnection(driver)
        await source.start()
        return cls(driver, settings, source)

    async def close(self) -> None:
        """Close every connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await self._source.close()

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- identity -------------------------------------------------------------------------------

    @property
    def display_url(self) -> str:
        """The target without secrets: safe for titles, logs and memory."""
        return self.driver.display_url

    @property
    def dialect(self) -> str:
        return self.driver.dialect

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.driver, "read_only", False))

    # -- statements -----------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = None) -> QueryResult:
        """Run ``sql`` and return its whole result.

        Raises QueryError (with position), QueryCancelled, ConnectionLost, PoolTimeout.
        """
        started = time.perf_counter()
        async with self._source.acquire() as conn:
            running = Running(sql, conn, time.monotonic())
            self._running_list.append(running)
            try:
                result = await conn.execute(sql, params)
            finally:
                self._running_list.remove(running)
        result.elapsed = time.perf_counter() - started
        return result

    @contextlib.asynccontextmanager
    async def stream(self, sql: str, params: Params = None, *, page_size: int | None = None) -> AsyncIterator[RowStream]:
        """``async with session.stream(sql) as rows``: pages of rows, memory bounded by page size.

        ``rows.columns`` is set on entry; ``rows.rowcount`` and ``rows.status`` once exhausted.
        """
        size = page_size or self.settings.ui.page_size
        async with self._source.acquire() as conn:
            running = Running(sql, conn, time.monotonic())
            self._running_list.append(running)
            try:
                async with conn.stream(sql, params, page_size=size) as rows:
                    yield rows
            finally:
                self._running_list.remove(running)

    async def cancel(self) -> bool:
        """Cancel every statement this session is running, on the server. True if any was."""
        cancelled = False
        for running in list(self._running_list):
            try:
                cancelled = await running.connection.cancel() or cancelled
            except AishellError:
                pass
        return cancelled

    @property
    def busy(self) -> bool:
        return bool(self._running_list)

    # -- catalog --------------------------------------------------------------------------------

    async def schemas(self) -> list[str]:
        async with self._source.acquire() as conn:
            return await conn.schemas()

    async def tables(self, schema: str | None = None) -> list[TableInfo]:
        async with self._source.acquire() as conn:
            return await conn.tables(schema)

    async def columns(self, table: str, schema: str | None = None) -> list[ColumnInfo]:
        async with self._source.acquire() as conn:
            return await conn.columns(table, schema)

    async def indexes(self, table: str, schema: str | None = None) -> list[IndexInfo]:
        async with self._source.acquire() as conn:
            return await conn.indexes(table, schema)

    async def schema(self) -> SchemaInfo:
        """The whole catalog with columns and indexes (for completion and the analyzer)."""
        async with self._source.acquire() as conn:
            return await conn.schema_info()

    async def server_version(self) -> str:
        async with self._source.acquire() as conn:
            return await conn.server_version()

    # -- metrics --------------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """Snapshots of the pool and cache, cheap enough to call twice a second.

        Keys: ``pool`` and ``cache``, each a snapshot object or None when not available.
        """
        return {"pool": self._source.metrics(), "cache": None}


__all__ = ["Session", "SingleConnection", "ConnectionLost"]
