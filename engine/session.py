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
import contextvars
import logging
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Iterator, TypedDict, TypeVar

from aishell.engine.config import Settings
from aishell.engine.drivers import driver_for
from aishell.engine.drivers.base import Connection, Driver, RowStream
from aishell.engine.drivers.listing import Listing
from aishell.engine.errors import AishellError, ConnectionFailed, ConnectionLost, MemoryUnavailable, QueryError, ReadOnlyViolation
from aishell.engine.liveness import Liveness
from aishell.engine.metrics import CacheSnapshot, PoolSnapshot
from aishell.engine.profiles import Profile
from aishell.engine.redact import redact_url
from aishell.engine.transaction import TransactionState, status_of
from aishell.engine.types import CatalogObjects, ColumnInfo, DatabaseInfo, IndexInfo, Params, QueryResult, SchemaInfo, TableInfo

if TYPE_CHECKING:
    from aishell.engine.analyzer.advisor import Advice
    from aishell.engine.analyzer.findings import Analysis
    from aishell.engine.analyzer.plan import PlanReport
    from aishell.engine.cache import QueryCache, SchemaWatcher
    from aishell.engine.memory.search import SearchHit
    from aishell.engine.memory.service import Memory
    from aishell.engine.prefetch import Prefetcher
    from aishell.engine.tunnel import AskHostKey, Tunnel
    from aishell.engine.pool import PostgresPool, SQLitePool
    from aishell.engine.server import ServerMonitor
    from aishell.engine.statements import Plan
    from aishell.engine.workload import WorkloadAdvice
    from aishell.engine.workload.advice import Progress

_T = TypeVar("_T")
_TYPED: contextvars.ContextVar[bool] = contextvars.ContextVar("aishell_typed", default=False)
"""Set inside :meth:`Session.typed`: the statements run there are not recorded one by one."""


class SessionMetrics(TypedDict):
    """What :meth:`Session.metrics` returns: each snapshot, or None where there is none."""

    pool: PoolSnapshot | None
    """The connection pool (ours, or the client's own for MongoDB); None with one connection."""
    cache: CacheSnapshot | None
    """The query-result cache; None when it is switched off."""


class SingleConnection:
    """A connection source of exactly one connection, reconnecting when it breaks.

    Used when the pool is switched off. Statements are serialized by a lock; an open
    transaction keeps the connection pinned to this session by construction.
    """

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()
        self.liveness = Liveness(self._probe)
        """Whether the server can be reached now (see :class:`engine.liveness.Liveness`)."""

    async def start(self) -> None:
        self._conn = await self._driver.connect()

    async def _probe(self) -> None:
        conn = await self._driver.connect()
        await conn.close()

    @contextlib.asynccontextmanager
    async def acquire(self, *, timeout: float | None = None, write: bool = True, stateless: bool = False) -> AsyncIterator[Connection]:
        async with self._lock:
            if self._conn is None or self._conn.closed:
                try:
                    self._conn = await self._driver.connect()
                except ConnectionFailed as exc:
                    self.liveness.lost(str(exc))
                    raise
                self.liveness.reached()
            try:
                yield self._conn
            except ConnectionLost as exc:
                self.liveness.lost(str(exc))
                raise

    @property
    def current(self) -> Connection | None:
        """The connection a running statement uses (for cancel)."""
        return self._conn

    def metrics(self) -> PoolSnapshot | None:
        """The pool snapshot of a driver that pools inside its client (MongoDB), else None."""
        if self._driver.POOLED or self._conn is None:
            return None
        return self._conn.pool_metrics()  # type: ignore[attr-defined] - see Driver.POOLED

    async def close(self) -> None:
        await self.liveness.close()
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


@dataclass(slots=True)
class _Pin:
    """A pool connection kept by the session: an open transaction, or session state (SET...)."""

    lease: Any
    connection: Connection
    sticky: bool
    """Kept until the session closes (session state), not just until the transaction ends."""


@dataclass(slots=True, eq=False)
class Running:
    """The statement in flight, so :meth:`Session.cancel` can reach it."""

    sql: str
    connection: Connection
    started: float
    rows: RowStream | None = None
    """The stream being read, for a streamed statement (it may hold a cursor open)."""


class Session:
    """A connected database session. Create with :meth:`open`; close with :meth:`close`."""

    def __init__(
        self, driver: Driver, settings: Settings, source: "PostgresPool | SQLitePool | SingleConnection", *, cache: "QueryCache | None" = None
    ) -> None:
        self.driver = driver
        self.settings = settings
        self._source = source
        self._cache = cache
        self._pin: _Pin | None = None
        self._pin_lock = asyncio.Lock()
        self._tx_plans: list[Plan] = []
        self._watcher: SchemaWatcher | None = None
        self._watch_task: asyncio.Task | None = None
        self._catalog_listeners: list[Callable[[], None]] = []
        self._running_list: list[Running] = []
        self._closed = False
        self.memory: Memory | None = None
        """The :class:`engine.memory.Memory` recording this session's statements (None: off)."""
        self._owns_memory = False
        self._schema_cache: SchemaInfo | None = None
        """The catalog last loaded by :meth:`schema`, used by :meth:`analyze`."""
        self._read_only = driver.read_only
        self.target = ""
        """What :meth:`open` was given (URL or path, password included: never show it); ``\\c dbname``
        starts from it."""
        self.profile: Profile | None = None
        """The saved connection this session was opened from (None: a URL or path)."""
        self.tunnel: Tunnel | None = None
        """The SSH tunnel the connections go through (None: direct)."""
        self._manual_commit = False
        self._prefetch: Prefetcher | None = None
        """Runs the usual successor of a read ahead (``cache.prefetch``; None: off)."""
        if driver.language == "mongosh":
            driver.read_plan = _mongo_plan_result  # a typed .explain() shows the analyzer's plan grid

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        target: str,
        *,
        settings: Settings | None = None,
        read_only: bool | None = None,
        create: bool = False,
        memory: "Memory | None" = None,
        ssh: str = "",
        password: str = "",
        ask_host_key: "AskHostKey | None" = None,
    ) -> "Session":
        """Connect to ``target`` (URL, SQLite path, ``service=NAME`` or a saved connection's name,
        see :func:`aishell.engine.connections.resolve`), through an SSH tunnel when ``ssh`` or
        the profile names one (``ask_host_key`` is asked about a host key never seen before;
        without it such a key is refused). ``password``: one typed at a prompt, for a target
        without one.

        ``memory``: an open :class:`engine.memory.Memory` to share; else one is opened from
        settings unless ``settings.memory.enabled`` is off (one that cannot open is off, never
        an error).

        Raises UnsupportedURL, ConnectionFailed, AuthenticationFailed, DatabaseNotFound.
        """
        from aishell.engine.connections import resolve

        settings = settings or Settings.load()
        resolved = resolve(target, settings, ssh=ssh, password=password)
        read_only = (settings.read_only if read_only is None else read_only) or resolved.read_only
        tunnel, url = None, resolved.url
        if resolved.ssh:
            from aishell.engine.tunnel import open_route

            url, tunnel = await open_route(url, resolved.ssh, settings.ssh, ask=ask_host_key)
        try:
            driver = driver_for(url, read_only=read_only, create=create, statement_timeout=settings.pool.statement_timeout)
            if tunnel is not None:
                driver.display_url = redact_url(resolved.url)  # the server's name, not the loopback port
            session = await cls._start(driver, settings, memory)
        except BaseException:
            if tunnel is not None:
                await tunnel.close()
            raise
        session.target = resolved.url
        session.profile = resolved.profile
        session.tunnel = tunnel
        return session

    @classmethod
    async def _start(cls, driver: Driver, settings: Settings, memory: "Memory | None") -> "Session":
        """A Session on ``driver``: its pool (or connection), cache and memory."""
        source: PostgresPool | SQLitePool | SingleConnection
        if settings.pool.enabled and driver.POOLED:
            from aishell.engine.pool import create_pool

            source = await create_pool(driver, settings.pool)
        else:
            source = SingleConnection(driver)
            await source.start()
        cache = None
        try:
            if settings.cache.enabled:
                from aishell.engine.cache import QueryCache

                cache = QueryCache(settings.cache, dialect=driver.dialect)
                cache.share(driver.display_url)
            session = cls(driver, settings, source, cache=cache)
            if cache is not None:
                await session._start_watcher()
                if settings.cache.prefetch:
                    session._start_prefetch(cache)
        except BaseException:
            await source.close()  # a bad cache setting or a cancelled open leaks no connection
            raise
        await session._open_memory(memory)
        return session

    async def close(self) -> None:
        """Close every connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._prefetch is not None:
            await self._prefetch.close()
        task, self._watch_task = self._watch_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        pin, self._pin = self._pin, None
        if pin is not None:
            with contextlib.suppress(Exception):
                if not pin.connection.closed and pin.connection.in_transaction:
                    await asyncio.wait_for(pin.connection.execute("ROLLBACK"), 5.0)  # an open transaction is abandoned
            with contextlib.suppress(Exception):
                await pin.lease.__aexit__(None, None, None)
        await self._source.close()
        if self.tunnel is not None:
            await self.tunnel.close()
        if self.memory is not None and self._owns_memory:
            await self.memory.close()

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
    def tunnel_hop(self) -> str:
        """The SSH hop this session goes through ("" when direct)."""
        return self.tunnel.hop if self.tunnel is not None else ""

    @property
    def dialect(self) -> str:
        """The driver's dialect (:attr:`Driver.dialect`): how its statements are classified."""
        return self.driver.dialect

    @property
    def liveness(self) -> Liveness:
        """Whether the server can be reached now: ``liveness.state`` is connected, reconnecting
        or disconnected, and ``liveness.listen(fn)`` hears every change (no polling needed)."""
        return self._source.liveness

    @property
    def read_only(self) -> bool:
        """Read-only in three layers: the server's read-only session (SQLite: read-only open and
        an authorizer), statements that would escape it refused before sending
        (:attr:`engine.statements.Plan.read_only_escape`), and on PostgreSQL a check after every
        statement that the session is still read-only (its connection is dropped if not)."""
        return self._read_only

    # -- statements -----------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = None) -> QueryResult:
        """Run ``sql`` and return its whole result, recorded in memory before it is returned.

        Raises QueryError (with position), QueryCancelled, ConnectionLost, PoolTimeout.
        """
        started = time.perf_counter()
        wall = time.time()
        try:
            result = await self._execute(sql, params)
        except (QueryError, ConnectionLost, asyncio.CancelledError) as exc:
            await self._remember(sql, wall, started, None, exc)
            self._prefetch_after(sql, False)
            raise
        await self._remember(sql, wall, started, result.rowcount, None, timed=not result.cached)
        self._prefetch_after(sql, True)
        return result

    async def _execute(self, sql: str, params: Params = None) -> QueryResult:
        """:meth:`execute` without the memory record."""
        started = time.perf_counter()
        if self._prefetch is not None:
            self._prefetch.interrupt()  # the user's statement never waits on a prefetch
        cache = self._cache
        if cache is not None and self._pin is None and not self._manual_commit:
            hit = cache.get(sql, params)
            if hit is not None:
                hit.elapsed = time.perf_counter() - started
                return hit
        plan = _plan(sql, self.driver.dialect)
        _refuse_unsendable(sql, plan, self._read_only)
        if self._manual_commit:
            await self._begin_if_manual(plan)
        if self._pin is not None:
            result = await self._execute_pinned(sql, params, plan)
            result.elapsed = time.perf_counter() - started
            return result
        token = cache.token(plan) if cache is not None and plan.cacheable else None
        if cache is not None and (plan.writes or plan.clears_all):
            cache.applied(plan)  # before too: a concurrent read of the old rows is not stored
        lease = self._source.acquire(write=plan.writer, stateless=plan.stateless)
        conn = await lease.__aenter__()
        running = Running(sql, conn, time.monotonic())
        self._running_list.append(running)
        try:
            result = await conn.execute(sql, params)
        except BaseException as exc:
            self._running_list.remove(running)
            if cache is not None and not plan.cacheable:
                cache.applied(plan)  # a failed script may have written part of its work
            if not isinstance(exc, ConnectionLost) and not conn.closed and conn.in_transaction:
                self._pin = _Pin(lease, conn, False)  # e.g. "BEGIN; <error>": the transaction stays open
            else:
                await lease.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        self._running_list.remove(running)
        # Only a statement that is not a plain query can leave a transaction open.
        if plan.sticky or (plan.kind != "select" and conn.in_transaction):
            self._pin = _Pin(lease, conn, not conn.in_transaction)
            if plan.sticky:
                _mark_dirty(lease)
        else:
            await lease.__aexit__(None, None, None)
        if cache is not None:
            if token is not None and self._pin is None:
                cache.put(sql, params, result, plan, token)
            elif not plan.cacheable:
                cache.applied(plan)
                if plan.ddl:
                    await self._refresh_watcher()
        result.elapsed = time.perf_counter() - started
        return result

    async def _execute_pinned(self, sql: str, params: Params, plan: Plan) -> QueryResult:
        """Run on the connection this session keeps (open transaction or session state)."""
        async with self._pin_lock:
            pin = self._pin
            if pin is None:  # the transaction ended while this statement waited
                return await self._execute(sql, params)
            conn = pin.connection
            running = Running(sql, conn, time.monotonic())
            self._running_list.append(running)
            try:
                return await conn.execute(sql, params)
            finally:
                self._running_list.remove(running)
                if self._cache is not None and not plan.cacheable:
                    self._cache.applied(plan)
                    self._tx_plans.append(plan)
                if plan.sticky:
                    pin.sticky = True
                if not plan.stateless:
                    _mark_dirty(pin.lease)
                await self._after_pinned(pin)

    async def _after_pinned(self, pin: _Pin) -> None:
        """Give the kept connection back once its transaction ended (or it broke)."""
        conn = pin.connection
        if conn.closed:
            self._pin = None
            await pin.lease.__aexit__(ConnectionLost, ConnectionLost("connection lost"), None)
        elif not conn.in_transaction and not pin.sticky:
            self._pin = None
            await pin.lease.__aexit__(None, None, None)
        else:
            return
        plans, self._tx_plans = self._tx_plans, []
        if self._cache is not None:
            for plan in plans:  # committed now: drop what was read meanwhile outside
                self._cache.applied(plan)

    @contextlib.asynccontextmanager
    async def _lease(self, *, write: bool = True, sticky: bool = False, stateless: bool = True) -> AsyncIterator[Connection]:
        """A connection for one operation: the kept one when pinned, else one from the source.

        It is kept afterwards when the operation left a transaction open or, ``sticky``, changed
        session state.
        """
        if self._pin is not None:
            async with self._pin_lock:
                pin = self._pin
                if pin is not None:
                    try:
                        yield pin.connection
                    finally:
                        pin.sticky = pin.sticky or sticky
                        if not stateless:
                            _mark_dirty(pin.lease)
                        await self._after_pinned(pin)
                    return
        lease = self._source.acquire(write=write, stateless=stateless and not sticky)
        conn = await lease.__aenter__()
        failed: BaseException | None = None
        try:
            yield conn
        except BaseException as exc:
            failed = exc
            raise
        finally:
            if not conn.closed and not isinstance(failed, ConnectionLost) and (conn.in_transaction or (sticky and failed is None)):
                self._pin = _Pin(lease, conn, not conn.in_transaction)  # "BEGIN; <error>" too: it stays open
            elif failed is not None:
                await lease.__aexit__(type(failed), failed, failed.__traceback__)
            else:
                await lease.__aexit__(None, None, None)

    async def _start_watcher(self) -> None:
        """Learn views and cascades now; then poll for schema changes made elsewhere."""
        from aishell.engine.cache import SchemaWatcher

        self._watcher = SchemaWatcher(self._cache, self.driver.dialect)
        await self._refresh_watcher()
        interval = self.settings.cache.schema_poll_interval
        if interval > 0:
            self._watch_task = asyncio.get_running_loop().create_task(self._watch(interval), name="aishell-schema-watch")

    async def _refresh_watcher(self) -> None:
        if self._watcher is None or self._pin is not None:
            return
        seen = self._watcher.catalog_changes
        try:
            async with self._lease(write=True) as conn:
                await asyncio.wait_for(self._watcher.check(conn), 10.0)
        except (AishellError, asyncio.TimeoutError):
            pass  # the next poll tries again
        except Exception:  # noqa: BLE001 - a watcher bug must not end the session's polling
            pass
        if self._watcher.catalog_changes != seen:
            for listener in list(self._catalog_listeners):
                try:
                    listener()
                except Exception as exc:  # noqa: BLE001 - a listener's failure is not the watcher's
                    logging.getLogger("aishell.engine.session").warning("catalog listener failed: %s", exc)

    def on_catalog_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` (on the session's loop) whenever the schema watcher sees a relation
        created, altered or dropped, here or by another client; returns the unsubscribe call.
        Nothing is watched when the query cache is off or the database has no change marker."""
        self._catalog_listeners.append(listener)
        return lambda: self._catalog_listeners.remove(listener) if listener in self._catalog_listeners else None

    async def _watch(self, interval: float) -> None:
        while not self._closed:
            await asyncio.sleep(interval)
            await self._refresh_watcher()

    @contextlib.asynccontextmanager
    async def stream(self, sql: str, params: Params = None, *, page_size: int | None = None) -> AsyncIterator[RowStream]:
        """``async with session.stream(sql) as rows``: pages of rows, memory bounded by page size.

        ``rows.columns`` is set on entry; ``rows.rowcount`` and ``rows.status`` once exhausted.
        The statement is recorded in memory when the stream ends or fails, before the context exits.

        Raises what :meth:`execute` raises, on entry or while iterating.
        """
        started = time.perf_counter()
        wall = time.time()
        seen: RowStream | None = None
        try:
            async with self._stream(sql, params, page_size=page_size) as rows:
                seen = rows
                yield rows
        except BaseException as exc:
            failed = exc if isinstance(exc, (QueryError, ConnectionLost, asyncio.CancelledError)) else None
            await self._remember(sql, wall, started, getattr(seen, "rowcount", None), failed)
            self._prefetch_after(sql, False)
            raise
        await self._remember(sql, wall, started, getattr(seen, "rowcount", None), None, timed=not getattr(seen, "cached", False))
        self._prefetch_after(sql, True)

    @contextlib.asynccontextmanager
    async def _stream(self, sql: str, params: Params = None, *, page_size: int | None = None) -> AsyncIterator[RowStream]:
        """:meth:`stream` without the memory record."""
        size = page_size or self.settings.ui.page_size
        if self._prefetch is not None:
            self._prefetch.interrupt()
            ahead = self._cache.prefetched(sql, params) if self._pin is None and not self._manual_commit else None  # type: ignore[union-attr]
            if ahead is not None:
                from aishell.engine.prefetch import ResultRows

                yield ResultRows(ahead, page_size=size)
                return
        plan = _plan(sql, self.driver.dialect)
        _refuse_unsendable(sql, plan, self._read_only)
        if self._manual_commit:
            await self._begin_if_manual(plan)
        cache = self._cache
        if cache is not None and not plan.cacheable:
            cache.applied(plan)
        async with self._lease(write=plan.writer, sticky=plan.sticky, stateless=plan.stateless) as conn:
            with self._running(sql, conn, plan) as running:
                async with conn.stream(sql, params, page_size=size) as rows:
                    running.rows = rows
                    yield rows

    @contextlib.asynccontextmanager
    async def transfer(self, statement: str) -> AsyncIterator[Connection]:
        """A connection for a bulk copy (``\\copy``, see :mod:`engine.copy`), checked as
        ``statement``, the COPY it stands for (``COPY t FROM STDIN``, ``COPY (q) TO STDOUT``):
        refused where that would be (into a table in a read-only session), the cache told what it
        writes, and :meth:`cancel` reaches it.

        Raises ReadOnlyViolation, ConnectionLost, PoolTimeout.
        """
        plan = _plan(statement, self.driver.dialect)
        _refuse_unsendable(statement, plan, self._read_only)
        async with self._lease(write=plan.writer, stateless=plan.stateless) as conn:
            with self._running(statement, conn, plan):
                yield conn

    @contextlib.contextmanager
    def _running(self, sql: str, conn: Connection, plan: Any) -> Iterator[Running]:
        """``conn`` runs ``sql`` meanwhile (what :meth:`cancel` reaches); when it ends, the cache
        learns what ``plan`` wrote (and an open transaction keeps the plan for its rollback)."""
        running = Running(sql, conn, time.monotonic())
        self._running_list.append(running)
        try:
            yield running
        finally:
            self._running_list.remove(running)
            cache = self._cache
            if cache is not None and not plan.cacheable:
                cache.applied(plan)
                if self._pin is not None:
                    self._tx_plans.append(plan)

    async def cancel(self) -> bool:
        """Cancel every statement this session is running, on the server.

        Returns True if any was running. Never raises (a cancel that fails changes nothing).
        """
        cancelled = False
        for running in list(self._running_list):
            try:
                cancelled = await running.connection.cancel() or cancelled
            except AishellError:
                pass
        return cancelled

    # -- transactions ---------------------------------------------------------------------------

    @property
    def transaction(self) -> TransactionState:
        """Idle, in a transaction or in a failed one; manual-commit mode; whether a result being
        read holds a cursor and its snapshot open. Cheap (no round trip); never raises."""
        pin = self._pin
        return TransactionState(
            status_of(pin.connection if pin is not None else None),
            manual=self._manual_commit,
            snapshot=any(r.rows is not None and r.rows.holds_snapshot for r in self._running_list),
        )

    @property
    def manual_commit(self) -> bool:
        """Manual-commit mode: the first statement after a COMMIT or ROLLBACK opens a
        transaction (the session sends BEGIN), which stays open on this session's connection
        until :meth:`commit`, :meth:`rollback` or a COMMIT/ROLLBACK statement (psql's
        ``AUTOCOMMIT off``). Off by default: every statement commits on its own. Setting it on
        raises QueryError where the driver has no such transactions
        (:attr:`Driver.MANUAL_COMMIT`); switching it off leaves an open transaction open."""
        return self._manual_commit

    @manual_commit.setter
    def manual_commit(self, on: bool) -> None:
        if on and not self.driver.MANUAL_COMMIT:
            raise QueryError(f"manual commit: {self.display_url} has no BEGIN/COMMIT transactions")
        self._manual_commit = bool(on)

    async def commit(self) -> bool:
        """COMMIT the open transaction (a failed one is rolled back: the server says ROLLBACK).
        Returns False when none was open. Raises QueryError, ConnectionLost."""
        return await self._end_transaction("COMMIT")

    async def rollback(self) -> bool:
        """ROLLBACK the open transaction; False when none was open. Raises ConnectionLost."""
        return await self._end_transaction("ROLLBACK")

    async def _end_transaction(self, statement: str) -> bool:
        if not self.transaction.open:
            return False
        await self._execute(statement)
        return True

    async def _begin_if_manual(self, plan: Plan) -> None:
        """Manual-commit mode: open the transaction this statement runs in, on the writer (a
        later write in it must not land on a read-only SQLite reader). Statements that control
        transactions themselves (BEGIN, COMMIT, SAVEPOINT…) run as typed."""
        if plan.transaction_control or self.transaction.open:
            return
        async with self._lease(write=True) as conn:
            await conn.execute("BEGIN")

    @property
    def pinned(self) -> bool:
        """Statements run on one kept connection (an open transaction, or session state such as
        SET), one at a time: a second result waits until the open one is closed."""
        return self._pin is not None

    @property
    def busy(self) -> bool:
        """A statement of this session is running (:meth:`cancel` would reach it)."""
        return bool(self._running_list)

    # -- memory ---------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def typed(self, line: str) -> AsyncIterator[None]:
        """``async with session.typed("\\l")``: record ``line`` in memory as the user typed it,
        with the block's outcome, and not the statements the block runs for it (a backslash
        command's catalog queries). Committed before the block's caller goes on."""
        started, wall = time.perf_counter(), time.time()
        token = _TYPED.set(True)
        error: BaseException | None = None
        try:
            yield
        except (Exception, asyncio.CancelledError) as exc:
            error = exc
            raise
        finally:
            _TYPED.reset(token)
            await self._remember(line, wall, started, None, error)

    async def recall(self, text: str, *, limit: int = 10) -> list[SearchHit]:
        """Remembered statements matching ``text`` (words or a similar query), best first.

        Returns :class:`engine.memory.search.SearchHit` with per-signal scores; this database's
        runs rank higher; ``text=""`` gives the most recent.
        Raises MemoryUnavailable when memory is off (``str(err)`` says why).
        """
        if self.memory is None:
            raise MemoryUnavailable("memory off: disabled in settings")
        return await self.memory.search(text, limit=limit, database=self.display_url)

    async def _open_memory(self, memory: "Memory | None") -> None:
        if memory is not None:
            self.memory = memory
            return
        if not self.settings.memory.enabled:
            return
        from aishell.engine.memory.service import Memory

        try:
            self.memory = await Memory.open(self.settings)
            self._owns_memory = True
        except Exception as exc:  # memory never keeps a session from opening
            logging.getLogger("aishell.engine.memory").warning("memory off: %s", exc)

    async def _remember(
        self, sql: str, wall: float, started: float, rows: int | None, error: BaseException | None, *, timed: bool = True
    ) -> None:
        """Record one statement in memory, committed on return; never raises. ``timed=False``: it
        was served from the cache and did not run, so the run keeps no duration (a shape's
        timings, which regression alerts and workload advice read, stay the server's)."""
        memory = self.memory
        if memory is None or not memory.enabled or _TYPED.get():
            return
        from aishell.engine.memory.store import Entry
        from aishell.engine.statements import describe

        try:
            info = describe(sql, self.dialect)
            if self.driver.language == "mongosh":
                from aishell.engine.mongo.shell import redact_secrets

                sql = redact_secrets(sql)  # createUser/changeUserPassword: never stored in clear
            if isinstance(error, asyncio.CancelledError):
                message: str | None = "cancelled"
            elif error is not None:
                one_line = getattr(error, "one_line", None)
                message = one_line() if callable(one_line) else str(error)
            else:
                message = None
            entry = Entry(
                text=sql,
                database=self.display_url,
                started_at=wall,
                duration_ms=(time.perf_counter() - started) * 1000.0 if timed else None,
                rows=rows if rows is not None and rows >= 0 else None,
                success=error is None,
                error=message,
                tables=tuple(sorted(info.reads | info.writes)),
                kind=info.kind,
            )
            await asyncio.shield(memory.record(entry, dialect=self.dialect))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logging.getLogger("aishell.engine.memory").warning("memory: could not record: %s", exc)

    # -- prefetch -------------------------------------------------------------------------------

    def _start_prefetch(self, cache: "QueryCache") -> None:
        """Prefetch for this session, where its database allows (see :mod:`engine.prefetch`)."""
        from aishell.engine.prefetch import Prefetcher

        self._prefetch = Prefetcher.create(self.driver, cache, self.settings, database=self.display_url)
        if self._prefetch is not None:
            self._prefetch.start()

    def _prefetch_after(self, sql: str, ok: bool) -> None:
        """Tell prefetch the user's statement ended (not the ones a typed command ran for it)."""
        if self._prefetch is not None and not _TYPED.get():
            self._prefetch.ran(sql, ok=ok, idle=self._pin is None and not self._manual_commit)

    @property
    def prefetcher(self) -> "Prefetcher | None":
        """This session's :class:`engine.prefetch.Prefetcher` (None: ``cache.prefetch`` off, or
        a database it cannot run on)."""
        return self._prefetch

    # -- catalog --------------------------------------------------------------------------------

    # Every catalog method raises QueryError (the user may not read the catalog), ConnectionLost
    # and PoolTimeout.

    async def databases(self) -> list[DatabaseInfo]:
        """The databases ``\\l`` lists (see :meth:`Connection.databases`)."""
        async with self._lease(write=False) as conn:
            return await conn.databases()

    async def schemas(self) -> list[str]:
        """Names of the schemas the user can see (``main`` for SQLite, databases for MongoDB)."""
        async with self._lease(write=False) as conn:
            return await conn.schemas()

    async def tables(self, schema: str | None = None) -> list[TableInfo]:
        """Tables and views of ``schema`` (all when None), without columns or indexes."""
        async with self._lease(write=False) as conn:
            return await conn.tables(schema)

    async def columns(self, table: str, schema: str | None = None) -> list[ColumnInfo]:
        """Columns of one table, in order (cached until the schema changes)."""
        return await self._metadata(("columns", table, schema), lambda conn: conn.columns(table, schema))

    async def indexes(self, table: str, schema: str | None = None) -> list[IndexInfo]:
        """Indexes of one table (cached until the schema changes)."""
        return await self._metadata(("indexes", table, schema), lambda conn: conn.indexes(table, schema))

    async def schema(self) -> SchemaInfo:
        """The whole catalog with columns and indexes (for completion and the analyzer)."""
        info = await self._metadata(("schema",), lambda conn: conn.schema_info())
        self._schema_cache = info
        return info

    async def catalog_objects(self) -> CatalogObjects:
        """Foreign keys, functions and user types, for completion (cached until the schema
        changes); see :class:`engine.types.CatalogObjects`."""
        return await self._metadata(("objects",), lambda conn: conn.catalog_objects())

    async def _metadata(self, key: tuple, fetch: Callable[[Connection], Awaitable[_T]]) -> _T:
        """Schema metadata through the cache (dropped on DDL and on external schema changes)."""
        cache = self._cache if self._pin is None else None
        if cache is not None:
            found = cache.meta_get(key)
            if found is not None:
                return found
        async with self._lease(write=False) as conn:
            value = await fetch(conn)
        if cache is not None:
            cache.meta_put(key, value)
        return value

    async def listing(self, command: str, pattern: str | None = None, *, system: bool = False, verbose: bool = False) -> Listing:
        """psql's ``\\<command>`` listing (``dt``, ``dT``…), one of :attr:`listings`.
        Raises PatternError for a pattern psql refuses."""
        async with self._lease(write=False) as conn:
            return await conn.listing(command, pattern, system=system, verbose=verbose)

    async def describe(self, pattern: str, *, system: bool = False, verbose: bool = False) -> list[Listing]:
        """psql's ``\\d pattern``: each matching relation with its footers. Raises PatternError
        when nothing matches."""
        async with self._lease(write=False) as conn:
            return await conn.describe(pattern, system=system, verbose=verbose)

    @property
    def listings(self) -> frozenset[str]:
        """The psql listing commands this database answers (``Driver.LISTINGS``)."""
        return self.driver.LISTINGS

    async def server_version(self) -> str:
        """The server's version string."""
        async with self._lease(write=False) as conn:
            return await conn.server_version()

    def server_monitor(self) -> "ServerMonitor":
        """A monitor of the server behind this session (sessions, locks, top statements,
        health) on a connection of its own, to close when done; it refuses to cancel or
        terminate a backend in a read-only session."""
        from aishell.engine.server import ServerMonitor

        return ServerMonitor(self.driver, read_only=self._read_only)

    # -- analysis -------------------------------------------------------------------------------

    def analyze(self, sql: str) -> Analysis:
        """The analyzer's findings for ``sql``: sync, cached, never raises (safe in a thread).

        Schema-aware rules use the catalog last loaded by :meth:`schema` (none before the first
        load). Returns :class:`engine.analyzer.findings.Analysis`.
        """
        from aishell.engine.analyzer import Analysis, analyze

        if self.driver.language == "mongosh":
            from aishell.engine.analyzer.mongo.report import analysis

            try:
                return analysis(sql, self._schema_cache, self.settings.analyzer)
            except Exception:  # noqa: BLE001 - never raises
                return Analysis()
        return analyze(sql, dialect=self.dialect, schema=self._schema_cache, settings=self.settings.analyzer)

    async def explain(self, sql: str, *, analyze: bool = False, allow_writes: bool = False) -> PlanReport:
        """The plan of one statement, read into findings and a summary.

        ``analyze`` runs it (a write only with ``allow_writes``, rolled back).
        Returns :class:`engine.analyzer.plan.PlanReport`.
        Raises QueryError, ReadOnlyViolation, ConnectionLost, PoolTimeout.
        """
        from aishell.engine.analyzer.plan import explain

        if analyze:  # EXPLAIN ANALYZE runs the statement
            _refuse_unsendable(sql, _plan(sql, self.dialect), self._read_only)
        if self.driver.language == "mongosh":  # explain never applies a write: nothing to roll back
            from aishell.engine.analyzer.mongo.report import explain as explain_mongo

            async with self._lease(write=False) as conn:
                return await explain_mongo(conn, sql, analyze=analyze, settings=self.settings.analyzer)
        async with self._lease(write=analyze and allow_writes) as conn:
            return await explain(
                conn, sql, analyze=analyze, dialect=self.dialect, allow_writes=allow_writes, settings=self.settings.analyzer
            )

    async def advise(self, sql: str) -> Advice:
        """Index advice for one statement: hypothetical indexes where the driver has them
        (:attr:`Driver.HYPOTHETICAL_INDEXES`), rule-based candidates otherwise. Creates nothing.

        Returns :class:`engine.analyzer.advisor.Advice`.
        Raises QueryError, ConnectionLost, PoolTimeout.
        """
        from aishell.engine.analyzer.advisor import advise

        if self.driver.language == "mongosh":  # explain("executionStats") + the equality-sort-range rule
            from aishell.engine.analyzer.mongo.report import advise as advise_mongo

            async with self._lease(write=False) as conn:
                return await advise_mongo(conn, sql)
        schema = self._schema_cache if self._schema_cache is not None else await self.schema()
        async with self._lease(write=False) as conn:
            return await advise(
                conn, sql, schema, min_reduction=self.settings.analyzer.min_cost_reduction, settings=self.settings.analyzer
            )

    async def advise_workload(self, *, limit: int = 200, progress: "Progress | None" = None) -> "tuple[WorkloadAdvice, list[str]]":
        """Index advice for this database's whole workload (memory and ``pg_stat_statements``),
        on a connection of its own so the editor stays free; creates nothing (a read-only session
        may ask). Returns the advice and the sources read. Raises ConfigurationError (no HypoPG
        driver, no statements), ConnectionFailed, ConnectionLost."""
        from aishell.engine.errors import ConfigurationError
        from aishell.engine.workload import advise_workload, collect

        if not self.driver.HYPOTHETICAL_INDEXES:
            raise ConfigurationError(f"workload advice needs PostgreSQL with HypoPG: this is {self.driver.name}")
        memory = self.memory.path if self.memory is not None and self.memory.enabled else None
        conn = await self.driver.connect()
        try:
            statements, sources = await collect(conn, memory_path=memory, database=self.display_url, limit=limit)
            return await advise_workload(conn, statements, progress=progress), sources
        finally:
            await conn.close()

    # -- metrics --------------------------------------------------------------------------------

    def metrics(self) -> SessionMetrics:
        """Snapshots of the pool and cache, cheap enough to call twice a second; never raises."""
        cache = self._cache.metrics() if self._cache is not None else None
        if cache is not None and self._prefetch is not None:
            cache = replace(cache, **self._prefetch.figures())
        return {"pool": self._source.metrics(), "cache": cache}


def _mark_dirty(lease: Any) -> None:
    """The connection behind ``lease`` may carry session state: reset it fully on release."""
    if getattr(lease, "stateless", False):
        lease.stateless = False


def _plan(sql: str, dialect: str) -> Plan:
    """:func:`aishell.engine.statements.plan`, imported on first use (keeps ``import
    aishell.engine.session`` light)."""
    global _plan
    from aishell.engine.statements import plan

    _plan = plan
    return plan(sql, dialect)


def _mongo_plan_result(doc: dict[str, Any], query: Any) -> QueryResult:
    """:func:`aishell.engine.analyzer.mongo.report.plan_result`, imported on first use."""
    from aishell.engine.analyzer.mongo.report import plan_result

    return plan_result(doc, query)


def _refuse_unsendable(sql: str, plan: Plan, read_only: bool) -> None:
    """No session sends a statement whose password is AIShell's mask; a read-only session does
    not send one that would escape read-only."""
    if plan.masked_password is not None:
        raise QueryError(plan.masked_password, statement=sql)
    if read_only and plan.read_only_escape is not None:
        raise ReadOnlyViolation(f"read-only: {plan.read_only_escape}", statement=sql)


__all__ = ["Session", "SessionMetrics", "SingleConnection", "ConnectionLost"]
