"""The prefetcher: runs the usual successor of the user's read ahead, into the session's cache.

Everything it runs goes through a pool of its own holding one read-only connection (PostgreSQL:
a ``default_transaction_read_only`` session with the prefetch timeout as its
``statement_timeout``; SQLite: the file opened read-only, WAL only, so a reader never blocks the
user's writer), never the user's pool or transaction. It yields to the user: every statement
the user starts cancels what it is doing (:meth:`Prefetcher.interrupt`, which never waits), and
it starts again only after a read the user ran ended with no transaction open. A result is
stored with the cache's write token taken before it ran, so a write the user made meanwhile
keeps it out, and a later write drops it like any cached result.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable

from aishell.engine.errors import AishellError
from aishell.engine.analyzer.plan_cost import estimated_cost
from aishell.engine.prefetch.safety import refusal
from aishell.engine.prefetch.successors import Successors
from aishell.engine.types import QueryResult

if TYPE_CHECKING:
    from aishell.engine.cache import QueryCache
    from aishell.engine.config import Settings
    from aishell.engine.drivers.base import Driver

_log = logging.getLogger("aishell.engine.prefetch")

VERDICTS = 512
"""Statements whose estimated cost is remembered ..."""
PAGE = 1000
"""Rows read a round trip."""
VERDICT_TTL = 60.0
"""... and for how many seconds (tables grow, the schema changes)."""


class Prefetcher:
    """One session's prefetch: its model of what follows what, its connection, its figures."""

    def __init__(self, twin: "Driver", cache: "QueryCache", settings: "Settings", *, database: str) -> None:
        self._twin = twin
        self._cache = cache
        self._settings = settings.cache
        self._pool_settings = settings.pool
        self._memory_path = settings.memory_path if settings.memory.enabled else None
        self._database = database
        self.dialect = twin.dialect
        self.successors = Successors(self.dialect)
        """What usually follows what on this database (memory's runs, then this session's)."""
        self._pool: Any = None
        self._opening = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._learning: asyncio.Task | None = None
        self._busy: Any = None
        """The connection while a prefetched statement runs on it (what :meth:`interrupt` stops)."""
        self._stopping: set[asyncio.Task] = set()
        self._running: set[asyncio.Task] = set()
        """Prefetch tasks not finished yet (one interrupted may still be winding down)."""
        self._costs: dict[str, tuple[float | None, float]] = {}
        self._closed = False
        self.off = ""
        """Why prefetch stopped for this session ("" while it runs): a SQLite file not in WAL mode."""
        self.runs = 0
        """Statements run ahead (their EXPLAINs not counted)."""
        self.plans = 0
        """EXPLAINs asked to cost a statement."""
        self.seconds = 0.0
        """Time the prefetch connection spent on statements and their plans."""
        self.stored = 0
        """Results kept in the cache (a write meanwhile keeps one out)."""
        self.cancelled = 0
        """Prefetches stopped because the user started a statement."""
        self.refused: Counter[str] = Counter()
        """Successors not run, by reason (a volatile function, over the cost budget…)."""

    @classmethod
    def create(cls, driver: "Driver", cache: "QueryCache", settings: "Settings", *, database: str) -> "Prefetcher | None":
        """A prefetcher for a session on ``driver``, or None where it cannot run: a database
        without a pool of independent connections, or an in-memory SQLite database (a second
        connection would see another database)."""
        from aishell.engine.drivers import driver_for

        target = getattr(driver, "url", None) or getattr(driver, "path", "")
        if driver.language != "sql" or not driver.POOLED or not target or target == ":memory:":
            return None
        twin = driver_for(
            target, read_only=True, statement_timeout=settings.cache.prefetch_timeout, application_name="aishell prefetch"
        )
        return cls(twin, cache, settings, database=database)

    # -- what the session tells it -------------------------------------------------------------

    def start(self) -> None:
        """Learn from memory, then warm the cache with the most repeated cheap reads; both in
        the background (the session is usable at once)."""
        loop = asyncio.get_running_loop()
        self._learning = loop.create_task(self._learn(), name="aishell-prefetch-learn")
        if self._settings.prefetch_warm > 0:
            self._spawn(self._warm())

    def interrupt(self) -> None:
        """The user starts a statement: stop what prefetch is doing (never waits for it). A
        statement running is cancelled on the server, in the background; the prefetch ends
        with that error and runs nothing more."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        self.cancelled += 1
        if self._busy is None:
            task.cancel()
        else:
            self._cancel_on_server(self._busy)

    def _cancel_on_server(self, conn: Any) -> None:
        stopper = asyncio.get_running_loop().create_task(conn.cancel(), name="aishell-prefetch-stop")
        self._stopping.add(stopper)
        stopper.add_done_callback(self._stopped)

    def _stopped(self, stopper: asyncio.Task) -> None:
        self._stopping.discard(stopper)
        if not stopper.cancelled() and stopper.exception() is not None:
            _log.debug("prefetch: cancel failed: %s", stopper.exception())

    def ran(self, sql: str, *, ok: bool, idle: bool) -> None:
        """The user's ``sql`` ended (``ok``: it succeeded; ``idle``: no transaction is open).
        Learn from it and, after a read, run its usual successor ahead."""
        self.successors.ran(sql, at=time.time(), ok=ok)
        if self._closed or self.off or not (ok and idle):
            return
        if self._cache.plan(sql).kind != "select":
            return
        successor = self.successors.next_of(sql)
        if successor is None or successor == sql:  # the same again: the user wants it fresh
            return
        self.interrupt()
        self._spawn(self._run([successor]))

    def _spawn(self, work: Any) -> None:
        task = self._task = asyncio.get_running_loop().create_task(work, name="aishell-prefetch")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    def figures(self) -> dict[str, Any]:
        """The Metrics pane's prefetch figures (the fields of :class:`engine.metrics.CacheSnapshot`)."""
        return {
            "prefetch_hits": self._cache.prefetch_hits,
            "prefetch_saved_ms": round(self._cache.prefetch_saved * 1000, 3),
            "prefetch_runs": self.runs,
            "prefetch_ms": round(self.seconds * 1000, 3),
        }

    async def idle(self) -> None:
        """Wait until nothing is being prefetched or stopped (tests and the benchmark)."""
        while True:
            pending = [t for t in (self._learning, self._task, *self._running, *self._stopping) if t is not None and not t.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    async def close(self) -> None:
        """Stop everything and close the connection; safe to call twice."""
        self._closed = True
        self.interrupt()
        pending = [t for t in (self._learning, *self._running, *self._stopping) if t is not None and not t.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=5.0)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(BaseException):
                    await task
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    # -- work ------------------------------------------------------------------------------------

    async def _learn(self) -> None:
        # Statement shapes are memory's fingerprints: import what computes them now, in a
        # thread, rather than on the first statement the user runs (with memory off, nothing has).
        await asyncio.to_thread(importlib.import_module, "aishell.engine.memory.service")
        if self._memory_path is not None:
            await self.successors.load(self._memory_path, self._database)

    async def _warm(self) -> None:
        if self._learning is not None:
            await asyncio.shield(self._learning)
        await self._run(self.successors.most_repeated(self._settings.prefetch_warm * 4), limit=self._settings.prefetch_warm)

    async def _run(self, texts: Iterable[str], *, limit: int = 1) -> None:
        """Run up to ``limit`` of ``texts`` that may be prefetched into the cache, one at a time."""
        done = 0
        me = asyncio.current_task()
        for sql in texts:
            if done >= limit or self._closed or self.off or me is not self._task:  # interrupted
                return
            reason = refusal(sql, self.dialect, views=self._cache.views)
            if reason:
                self.refused[reason] += 1
                continue
            if self._cache.ahead(sql):  # already waiting (an entry served before is not: a stream reads afresh)
                done += 1
                continue
            if await self._prefetch(sql):
                done += 1

    async def _prefetch(self, sql: str) -> bool:
        """Cost ``sql`` and, under the budget, run it and store the result. False when it was
        refused or failed (the user never hears of it)."""
        cache = self._cache
        plan = cache.plan(sql)
        token = cache.token(plan)  # before it runs: a write meanwhile keeps the result out
        try:
            pool = self._pool or await self._open_once()
            if pool is None:
                return False
            async with pool.acquire(timeout=1.0) as conn:
                started = time.perf_counter()
                try:
                    cost = await self._cost(conn, sql)
                    if cost is None or cost > self._settings.prefetch_max_cost:
                        self.refused["over the cost budget" if cost is not None else "cost unknown"] += 1
                        return False
                    ran = time.perf_counter()
                    result = await self._execute(conn, sql)
                    self.runs += 1
                    if result is None:
                        self.refused["more rows than the cache keeps"] += 1
                        return False
                    result.elapsed = time.perf_counter() - ran
                finally:
                    self.seconds += time.perf_counter() - started
        except (AishellError, asyncio.TimeoutError) as exc:
            if asyncio.current_task() is self._task:  # not stopped by the user: it failed
                self.refused["failed"] += 1
            _log.debug("prefetch of %.80s failed: %s", sql, exc)
            return False
        if cache.put(sql, None, result, plan, token, prefetched=True):
            self.stored += 1
        return True

    async def _execute(self, conn: Any, sql: str) -> QueryResult | None:
        """Run ``sql`` and read its rows, stopped on the server after the prefetch timeout
        (PostgreSQL's own ``statement_timeout`` does it too; SQLite has no server to) or when
        :meth:`interrupt` says so. None when it returns more rows than the cache keeps: it stops
        reading there (a result never held whole in memory, only to be refused)."""
        keep = self._cache.settings.max_rows
        watchdog = asyncio.get_running_loop().call_later(self._settings.prefetch_timeout, self._cancel_on_server, conn)
        self._busy = conn  # set and run with no await between: interrupt() always finds it running
        try:
            rows: list[tuple] = []
            async with conn.stream(sql, page_size=PAGE) as stream:
                async for page in stream:
                    rows += page
                    if len(rows) > keep:
                        return None
            return QueryResult(tuple(stream.columns), rows, stream.rowcount, stream.status)
        finally:
            self._busy = None
            watchdog.cancel()

    async def _cost(self, conn: Any, sql: str) -> float | None:
        """The statement's estimated cost, remembered for :data:`VERDICT_TTL` seconds."""
        known = self._costs.get(sql)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        self.plans += 1
        cost = await asyncio.wait_for(estimated_cost(conn, sql, self.dialect), self._settings.prefetch_timeout)
        self._costs.pop(sql, None)
        if len(self._costs) >= VERDICTS:
            self._costs.pop(next(iter(self._costs)))
        self._costs[sql] = (cost, time.monotonic() + VERDICT_TTL)
        return cost

    async def _open_once(self) -> Any:
        """:meth:`_open`, by one task at a time (an interrupted prefetch may still be opening)."""
        async with self._opening:
            if self._pool is None and not self.off and not self._closed:
                await self._open()
            return self._pool

    async def _open(self) -> Any:
        """The pool of one read-only connection (SQLite: only on a WAL file)."""
        from aishell.engine.config import PoolSettings
        from aishell.engine.pool import create_pool

        settings = PoolSettings(
            min_size=1, max_size=1, acquire_timeout=1.0, idle_timeout=self._pool_settings.idle_timeout,
            health_check_interval=self._pool_settings.health_check_interval,
        )
        pool = await create_pool(self._twin, settings)
        async with pool.acquire(timeout=1.0) as conn:
            blocking = await conn.readers_block_writers()
        if blocking:
            await pool.close()
            self.off = blocking
            _log.info("prefetch off: %s", self.off)
            return None
        if self._closed:
            await pool.close()
            return None
        self._pool = pool
        return pool


__all__ = ["Prefetcher"]
