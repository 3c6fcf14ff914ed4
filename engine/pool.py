"""Connection pools with live metrics, health checks, recycling and a circuit breaker.

PostgreSQL wraps :func:`asyncpg.create_pool` (asyncpg does the pooling: holders, resets,
``max_queries`` recycling, idle close, refilling to ``min_size``); this module adds the acquire
timeout, metrics, the breaker, lifetime recycling and periodic health checks around it. SQLite
gets a small pool of its own: one writer connection and several read-only readers on a WAL
database (readers never block the writer and see every committed write).

Both have the same interface::

    pool = await create_pool(driver, settings.pool)
    async with pool.acquire(timeout=2.0, write=False) as conn:   # a driver Connection
        await conn.execute("SELECT 1")
    pool.metrics()   # PoolSnapshot, cheap: counters are read, percentiles sorted on demand
    await pool.close()

Recording an acquisition is a few attribute updates and a store into a ring buffer (well under
5 µs, no lock: everything runs on one event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aishell.engine.compat import asyncpg as compat_asyncpg
from aishell.engine.config import PoolSettings
from aishell.engine.drivers.base import Driver
from aishell.engine.errors import AishellError, CircuitOpen, ConnectionFailed, ConnectionLost, PoolError, PoolTimeout
from aishell.engine.liveness import CONNECTED, Liveness
from aishell.engine.metrics import LatencyWindow, PoolSnapshot

_perf = time.perf_counter
_mono = time.monotonic

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


class CircuitBreaker:
    """Counts consecutive connection failures; opens at ``threshold``, fails fast while open.

    After ``backoff`` seconds one caller is let through (half-open): its success closes the
    breaker, its failure opens it again for another ``backoff``.

    >>> b = CircuitBreaker(2, 60.0, "db")
    >>> b.failure(); b.state
    'closed'
    >>> b.failure(); b.state
    'open'
    >>> b.allow()
    Traceback (most recent call last):
    ...
    engine.errors.CircuitOpen: db is unavailable: 2 connection failures in a row; retrying in 60.0s
    """

    __slots__ = ("threshold", "backoff", "state", "failures", "opened_at", "opens", "_trial", "_target", "last_error")

    def __init__(self, threshold: int, backoff: float, target: str) -> None:
        if threshold < 1:
            raise ValueError(f"breaker threshold must be >= 1, got {threshold!r}")
        if backoff < 0:
            raise ValueError(f"breaker backoff must be >= 0, got {backoff!r}")
        self.threshold = threshold
        self.backoff = backoff
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.opens = 0
        """Times the breaker opened since start."""
        self.last_error = ""
        self._trial = False
        self._target = target

    def allow(self) -> None:
        """Called before an attempt when the breaker is not closed; raises CircuitOpen to fail fast."""
        if self.state == OPEN:
            wait = self.opened_at + self.backoff - _mono()
            if wait > 0:
                raise CircuitOpen(
                    f"{self._target} is unavailable: {self.failures} connection failures in a row; "
                    f"retrying in {wait:.1f}s" + (f" (last: {self.last_error})" if self.last_error else "")
                )
            self.state = HALF_OPEN
            self._trial = True
            return
        if self._trial:
            raise CircuitOpen(f"{self._target} is unavailable: checking whether it is back")
        self._trial = True

    def success(self) -> None:
        self.state = CLOSED
        self.failures = 0
        self._trial = False

    def failure(self, error: str = "") -> None:
        self.failures += 1
        if error:
            self.last_error = error
        if self.state == HALF_OPEN or self.failures >= self.threshold:
            if self.state != OPEN:
                self.opens += 1
            self.state = OPEN
            self.opened_at = _mono()
            self._trial = False

    def abandon(self) -> None:
        """The half-open trial ended without a verdict (timeout, cancellation): reopen."""
        if self.state == HALF_OPEN:
            self.state = OPEN
            self.opened_at = _mono()
            self._trial = False

    @property
    def display_state(self) -> str:
        if self.state == OPEN and _mono() >= self.opened_at + self.backoff:
            return HALF_OPEN
        return self.state


class _PoolBase:
    """Counters, latency window, breaker, liveness and the background maintenance task."""

    backend = ""

    def __init__(self, driver: Driver, settings: PoolSettings) -> None:
        _check_settings(settings)
        self.driver = driver
        self.settings = settings
        self._timeout = settings.acquire_timeout if settings.acquire_timeout > 0 else None
        self._window = LatencyWindow(settings.latency_window)
        self._breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_backoff, driver.display_url)
        self._in_use = 0
        self._peak = 0
        self._waiters = 0
        self._acquisitions = 0
        self._releases = 0
        self._timeouts = 0
        self._errors = 0
        self._opened = 0
        self._closed_count = 0
        self._lifetime_total = 0.0
        self._born: dict[Any, float] = {}  # raw connection -> perf_counter time it was opened
        self._max_lifetime = settings.max_lifetime
        self._closing = False
        self._task: asyncio.Task | None = None
        self.liveness = Liveness(self._probe)
        """Whether the server can be reached now, told to listeners when it changes: a
        connection the server closed or a failed connect starts probing, a success ends it."""

    async def _probe(self) -> None:
        """Open one connection outside the pool and close it (Liveness's check)."""
        conn = await self.driver.connect()
        await conn.close()

    # -- metrics --------------------------------------------------------------------------------

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    def _size_idle(self) -> tuple[int, int]:
        raise NotImplementedError

    def metrics(self) -> PoolSnapshot:
        """A snapshot of the pool, cheap enough for a twice-a-second refresh."""
        p50, p95, p99 = self._window.percentiles()
        size, idle = self._size_idle()
        now = _perf()
        oldest = max((now - t for t in self._born.values()), default=0.0)
        return PoolSnapshot(
            backend=self.backend,
            size=size,
            min_size=self.settings.min_size,
            max_size=self.settings.max_size,
            in_use=self._in_use,
            idle=idle,
            waiters=self._waiters,
            acquisitions=self._acquisitions,
            releases=self._releases,
            timeouts=self._timeouts,
            errors=self._errors,
            acquire_p50=p50,
            acquire_p95=p95,
            acquire_p99=p99,
            peak_in_use=self._peak,
            opened=self._opened,
            closed=self._closed_count,
            lifetime_avg=self._lifetime_total / self._closed_count if self._closed_count else 0.0,
            lifetime_max=oldest,
            breaker=self._breaker.display_state,
            breaker_failures=self._breaker.failures,
        )

    def _born_now(self, raw: Any) -> None:
        self._born[raw] = _perf()
        self._opened += 1

    def _died(self, raw: Any) -> None:
        born = self._born.pop(raw, None)
        if born is not None:
            self._closed_count += 1
            self._lifetime_total += _perf() - born

    def _timeout_error(self, timeout: float | None) -> PoolTimeout:
        self._timeouts += 1
        return PoolTimeout(
            f"no connection to {self.driver.display_url} became free within {timeout:g}s "
            f"({self._in_use} of {self.settings.max_size} in use, {self._waiters} waiting)"
        )

    def _acquire_failed(self, exc: BaseException, timeout: float | None) -> BaseException:
        """Count a failed acquire and turn it into our error (CancelledError passes through)."""
        breaker = self._breaker
        if isinstance(exc, asyncio.CancelledError):
            breaker.abandon()
            return exc
        if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            breaker.abandon()
            return self._timeout_error(timeout)
        if isinstance(exc, CircuitOpen):
            return exc
        self._errors += 1
        if isinstance(exc, AishellError):
            error = exc
        elif hasattr(self.driver, "translate_connect_error"):
            error = self.driver.translate_connect_error(exc)
        else:
            error = ConnectionFailed(f"could not connect to {self.driver.display_url}: {exc}")
        if isinstance(error, ConnectionFailed):
            breaker.failure(str(error))
            self.liveness.lost(str(error))
        else:
            breaker.abandon()
        return error

    # -- maintenance ----------------------------------------------------------------------------

    def _start_maintenance(self) -> None:
        interval = self.settings.health_check_interval
        if interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._maintain(interval), name="aishell-pool-health")

    async def _maintain(self, interval: float) -> None:
        while not self._closing:
            await asyncio.sleep(interval)
            try:
                await self.check_health()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the checker must outlive any single failure
                pass

    async def check_health(self) -> int:
        """Ping idle connections now; broken ones are closed and replaced. Returns how many failed."""
        raise NotImplementedError

    async def _stop_maintenance(self) -> None:
        self._closing = True
        await self.liveness.close()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


# -- PostgreSQL ---------------------------------------------------------------------------------


class PostgresPool(_PoolBase):
    """asyncpg's pool with our acquire timeout, metrics, breaker and health checks."""

    backend = "postgres"

    def __init__(self, driver: Any, settings: PoolSettings) -> None:
        super().__init__(driver, settings)
        self._raw: Any = None
        self._wrappers: dict[Any, Any] = {}  # asyncpg Connection -> PostgresConnection
        self._deadlines = _Deadlines()
        self._dirty: set[Any] = set()  # connections to reset fully before reuse
        self._by_pid: dict[int, Any] = {}  # server process id -> asyncpg Connection

    async def start(self) -> None:
        """Open ``min_size`` connections. Raises ConnectionFailed and its subclasses."""
        import asyncpg

        s = self.settings
        try:
            self._raw = await asyncpg.create_pool(
                min_size=s.min_size,
                max_size=s.max_size,
                max_queries=s.max_uses,
                max_inactive_connection_lifetime=s.idle_timeout,
                init=self._init_connection,
                reset=self._reset_connection,
                **self.driver.connect_kwargs(),
            )
        except (Exception, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self.driver.translate_connect_error(exc) from None
        self._start_maintenance()

    async def _init_connection(self, raw: Any) -> None:
        await self.driver.prepare_connection(raw)
        self._born_now(raw)
        self._by_pid[raw.get_server_pid()] = raw
        raw.add_termination_listener(lambda _ref, raw=raw: self._on_terminated(raw))

    def _on_terminated(self, raw: Any) -> None:
        self._wrappers.pop(raw, None)
        if self._by_pid.get(raw.get_server_pid()) is raw:
            del self._by_pid[raw.get_server_pid()]
        self._dirty.discard(raw)
        self._died(raw)
        if not self._closing:
            # The server may have closed it (shutdown, restart, network), or we did (recycling):
            # a probe tells which, so the state changes only when the server is really gone.
            self.liveness.lost("the server closed a connection")

    async def _reset_connection(self, raw: Any) -> None:
        """asyncpg's release hook (after it rolled back any open transaction).

        A connection whose borrower declared ``stateless`` comes back as it left: no round
        trip. Any other gets asyncpg's full reset (``RESET ALL``, ``UNLISTEN *``, ``CLOSE ALL``,
        advisory locks released).
        """
        if raw in self._dirty:
            self._dirty.discard(raw)
            query = raw.get_reset_query()
            if query:
                await raw.execute(query)

    def acquire(self, *, timeout: float | None = None, write: bool = True, stateless: bool = False) -> "_PostgresAcquire":
        """``async with pool.acquire() as conn``: a PostgresConnection, returned on exit.

        Raises PoolTimeout after ``timeout`` (default: the settings' acquire timeout),
        CircuitOpen while the breaker is open, ConnectionFailed when no connection can be made.
        ``write`` is accepted for interface parity with SQLite (every connection can write).
        ``stateless=True`` promises the borrower leaves no session state behind (no SET, temp
        table, LISTEN, cursor, advisory lock): the reset round trip on release is skipped. The
        Session knows this from each statement's plan (:mod:`engine.statements`); set the
        attribute of the same name on the context to False before exit to take the promise back.
        """
        return _PostgresAcquire(self, self._timeout if timeout is None else timeout, stateless)

    def _size_idle(self) -> tuple[int, int]:
        raw = self._raw
        if raw is None or raw.is_closing():
            return 0, 0
        return raw.get_size(), raw.get_idle_size()

    async def check_health(self) -> int:
        raw = self._raw
        if raw is None or raw.is_closing():
            return 0
        held = []
        try:
            for _ in range(raw.get_idle_size()):
                try:
                    held.append(await asyncio.wait_for(raw.acquire(), 0.05))
                except (Exception, asyncio.TimeoutError):  # noqa: BLE001 - busy or unreachable: stop
                    break
            failed = 0
            for proxy in held:
                try:
                    await asyncio.wait_for(proxy.fetchval("SELECT 1"), 5.0)
                except (Exception, asyncio.TimeoutError):  # noqa: BLE001 - dead: drop it
                    failed += 1
                    self._errors += 1
                    proxy.terminate()
            return failed
        finally:
            for proxy in held:
                with contextlib.suppress(Exception):
                    await raw.release(proxy)

    async def close(self) -> None:
        """Close every connection (waits up to 5 s for borrowed ones, then terminates)."""
        await self._stop_maintenance()
        self._deadlines.close()
        raw, self._raw = self._raw, None
        if raw is None:
            return
        try:
            await asyncio.wait_for(raw.close(), 5.0)
        except (Exception, asyncio.TimeoutError, asyncio.CancelledError):  # noqa: BLE001
            raw.terminate()


_current_task = asyncio.current_task


class _Deadlines:
    """Acquire timeouts for every waiter on one periodic timer.

    ``asyncio.timeout`` schedules (and cancels) a timer handle per call, which costs as much as
    the rest of an acquisition; here a waiter is a dict entry and one sweeper task wakes every
    ``tick`` while anyone waits, cancelling the tasks past their deadline (then told apart
    from other cancellations by :meth:`expired`). Timeouts fire at most one tick late.
    """

    __slots__ = ("_waiting", "_expired", "_sweeper", "_tick")

    def __init__(self) -> None:
        self._waiting: dict[asyncio.Task, float] = {}
        self._expired: set[asyncio.Task] = set()
        self._sweeper: asyncio.Task | None = None
        self._tick = 0.05

    def add(self, task: asyncio.Task, timeout: float) -> None:
        self._waiting[task] = _perf() + timeout
        if self._sweeper is None:
            self.start(timeout)

    def start(self, timeout: float) -> None:
        """Start the sweeper (the caller has registered a waiter)."""
        if timeout < self._tick * 10:
            self._tick = max(timeout / 10, 0.001)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="aishell-pool-deadlines")

    def discard(self, task: asyncio.Task) -> None:
        self._waiting.pop(task, None)

    def expired(self, task: asyncio.Task) -> bool:
        """True (once) when ``task`` was cancelled by its deadline, not by someone else."""
        if task in self._expired:
            self._expired.discard(task)
            task.uncancel()
            return True
        return False

    async def _sweep(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(self._tick)
                now = _perf()
                late = [task for task, deadline in self._waiting.items() if deadline <= now]
                for task in late:
                    del self._waiting[task]
                    if not task.done():
                        self._expired.add(task)
                        task.cancel()
        finally:
            self._sweeper = None

    def close(self) -> None:
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()


class _PostgresAcquire:
    """One acquisition from a :class:`PostgresPool` (the hot path: keep it thin)."""

    __slots__ = ("_pool", "_timeout", "_proxy", "_expired", "stateless")

    def __init__(self, pool: PostgresPool, timeout: float | None, stateless: bool = False) -> None:
        self._pool = pool
        self._timeout = timeout
        self._proxy: Any = None
        self._expired = False
        self.stateless = stateless

    async def __aenter__(self) -> Any:
        pool = self._pool
        breaker = pool._breaker
        if breaker.state != CLOSED:
            breaker.allow()
        raw = pool._raw
        if raw is None:
            raise PoolError(f"the pool for {pool.driver.display_url} is closed")
        timeout = self._timeout
        started = _perf()
        pool._waiters += 1
        try:
            if timeout is None or (compat_asyncpg.free_holder(raw) and not breaker.failures):
                # A free holder and a healthy server: asyncpg hands it over without waiting (a
                # reconnect, if the holder must make one, is bounded by the connect timeout).
                proxy = await compat_asyncpg.acquire(raw)
            else:
                deadlines = pool._deadlines
                task = _current_task()
                deadlines._waiting[task] = started + timeout
                if deadlines._sweeper is None:
                    deadlines.start(timeout)
                try:
                    proxy = await compat_asyncpg.acquire(raw)
                except asyncio.CancelledError:
                    if deadlines.expired(task):
                        raise TimeoutError from None
                    raise
                finally:
                    deadlines._waiting.pop(task, None)
        except (Exception, asyncio.CancelledError) as exc:
            pool._waiters -= 1
            raise pool._acquire_failed(exc, timeout) from None
        now = _perf()
        pool._waiters -= 1
        # Recording: a store into the ring and a few counters (inlined LatencyWindow.record).
        window = pool._window
        i = window._next
        window._samples[i] = now - started
        window._next = i + 1 if i + 1 < window._size else 0
        window.count += 1
        if breaker.failures:
            breaker.success()
        if pool.liveness.state != CONNECTED:
            pool.liveness.reached()
        pool._acquisitions += 1
        n = pool._in_use = pool._in_use + 1
        if n > pool._peak:
            pool._peak = n
        self._proxy = proxy
        con = compat_asyncpg.connection(proxy, pool._by_pid)
        born = pool._born.get(con)
        if born is not None and now - born > pool._max_lifetime:
            self._expired = True  # recycled on release
        conn = pool._wrappers.get(con)
        if conn is None:
            conn = pool._wrappers[con] = _connection_class()(con, pool.driver)
        return conn

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        pool = self._pool
        proxy, self._proxy = self._proxy, None
        pool._in_use -= 1
        pool._releases += 1
        if exc_type is not None and issubclass(exc_type, ConnectionLost):
            pool._errors += 1
            with contextlib.suppress(Exception):
                proxy.terminate()  # asyncpg replaces it; the holder goes back to the queue
            return
        con = compat_asyncpg.connection(proxy, pool._by_pid)
        if con is None:
            return  # closed while borrowed: asyncpg already took the holder back
        if self._expired:  # past max_lifetime when it was handed out: a fresh one replaces it
            await asyncio.shield(_close_quietly(con))
            return
        raw = pool._raw
        if raw is not None:
            if not self.stateless:
                pool._dirty.add(con)
            try:
                await raw.release(proxy)
            except Exception:  # noqa: BLE001 - the reset failed: asyncpg terminated it, a new one replaces it
                pool._errors += 1


def _connection_class() -> Any:
    """The driver's PostgresConnection: its ``execute`` is already the lean one-round-trip path."""
    from aishell.engine.drivers.postgres import PostgresConnection

    return PostgresConnection


async def _close_quietly(con: Any) -> None:
    try:
        await asyncio.wait_for(con.close(), 2.0)
    except (Exception, asyncio.TimeoutError):  # noqa: BLE001
        con.terminate()




# -- SQLite -------------------------------------------------------------------------------------


class SQLitePool(_PoolBase):
    """One writer and up to ``max_size - 1`` read-only readers on a WAL database.

    ``acquire(write=False)`` hands out a reader (opened on demand); ``write=True`` the writer.
    Without WAL (the mode cannot be set) or for ``:memory:`` every caller gets the writer;
    a read-only session has no writer: every connection is a reader.
    """

    backend = "sqlite"

    def __init__(self, driver: Any, settings: PoolSettings) -> None:
        super().__init__(driver, settings)
        self._writer_q: asyncio.LifoQueue = asyncio.LifoQueue()
        self._reader_q: asyncio.LifoQueue = asyncio.LifoQueue()
        self._readers_enabled = False
        self._idle_since: dict[Any, float] = {}
        self._open: set[Any] = set()
        self.journal_mode = ""

    async def start(self) -> None:
        """Open the writer (and readers up to ``min_size``). Raises ConnectionFailed."""
        driver = self.driver
        writer = await self._connect(write=True)
        memory = driver.path == ":memory:"
        if driver.read_only:
            self._readers_enabled = not memory
        elif not memory:
            try:
                mode = (await writer.execute("PRAGMA journal_mode=WAL")).rows
                self.journal_mode = str(mode[0][0]).lower() if mode else ""
            except AishellError:
                self.journal_mode = ""
            self._readers_enabled = self.journal_mode == "wal"
        self._put_idle(self._writer_q, writer)
        readers = max(self.settings.max_size - 1, 0) if self._readers_enabled else 0
        for _ in range(readers):
            self._reader_q.put_nowait(None)  # a permit to open one reader
        for _ in range(min(self.settings.min_size - 1, readers)):
            slot = self._reader_q.get_nowait()
            try:
                self._put_idle(self._reader_q, await self._connect(write=False))
            except BaseException:
                self._reader_q.put_nowait(slot)
                raise
        self._start_maintenance()

    async def _probe(self) -> None:
        conn = await self.driver.connect(mode="ro")  # a probe never creates the file
        await conn.close()

    async def _connect(self, *, write: bool) -> Any:
        driver = self.driver
        mode = None if write or driver.read_only else "ro"
        conn = await driver.connect(mode=mode)
        self._born_now(conn)
        self._open.add(conn)
        return conn

    def _put_idle(self, queue: asyncio.LifoQueue, conn: Any) -> None:
        if conn is not None:
            self._idle_since[conn] = _mono()
        queue.put_nowait(conn)

    async def _discard(self, conn: Any) -> None:
        self._open.discard(conn)
        self._idle_since.pop(conn, None)
        self._died(conn)
        await conn.close()

    def acquire(self, *, timeout: float | None = None, write: bool = True, stateless: bool = False) -> "_SQLiteAcquire":
        """``async with pool.acquire(write=False) as conn``: a SQLiteConnection, returned on exit.

        Raises PoolTimeout, CircuitOpen, ConnectionFailed (see :meth:`PostgresPool.acquire`).
        ``stateless`` is accepted for parity (an open transaction is rolled back on release).
        """
        queue = self._reader_q if (not write and self._readers_enabled) else self._writer_q
        return _SQLiteAcquire(self, queue, self._timeout if timeout is None else timeout)

    def _size_idle(self) -> tuple[int, int]:
        idle = sum(1 for q in (self._writer_q, self._reader_q) for c in q._queue if c is not None)  # type: ignore[attr-defined]
        return len(self._open), idle

    def _take_idle(self) -> list[tuple[asyncio.LifoQueue, Any]]:
        taken = []
        for queue in (self._writer_q, self._reader_q):
            keep = []
            while not queue.empty():
                conn = queue.get_nowait()
                (taken.append((queue, conn)) if conn is not None else keep.append(conn))
            for slot in keep:
                queue.put_nowait(slot)
        return taken

    async def check_health(self) -> int:
        failed = 0
        now = _mono()
        readers_open = sum(1 for c in self._open if c is not None) - 1
        for queue, conn in self._take_idle():
            try:
                idle_for = now - self._idle_since.get(conn, now)
                if queue is self._reader_q and readers_open >= self.settings.min_size and idle_for > self.settings.idle_timeout:
                    await self._discard(conn)
                    readers_open -= 1
                    conn = None
                else:
                    await asyncio.wait_for(conn.ping(), 5.0)
            except (Exception, asyncio.TimeoutError):  # noqa: BLE001 - dead: replaced on demand
                failed += 1
                self._errors += 1
                await self._discard(conn)
                conn = None
            if conn is None:
                queue.put_nowait(None)
            else:
                queue.put_nowait(conn)  # keeps its idle-since time
        return failed

    async def close(self) -> None:
        await self._stop_maintenance()
        for conn in list(self._open):
            self._died(conn)
            await conn.close()
        self._open.clear()


class _SQLiteAcquire:
    __slots__ = ("_pool", "_queue", "_timeout", "_conn")

    def __init__(self, pool: SQLitePool, queue: asyncio.LifoQueue, timeout: float | None) -> None:
        self._pool = pool
        self._queue = queue
        self._timeout = timeout
        self._conn: Any = None

    async def __aenter__(self) -> Any:
        pool = self._pool
        if pool._closing:
            raise PoolError(f"the pool for {pool.driver.display_url} is closed")
        breaker = pool._breaker
        if breaker.state != CLOSED:
            breaker.allow()
        queue = self._queue
        timeout = self._timeout
        started = _perf()
        pool._waiters += 1
        slot_taken = False
        try:
            if not queue.empty() or timeout is None:
                conn = await queue.get()
            else:
                async with asyncio.timeout(timeout):
                    conn = await queue.get()
            slot_taken = True
            if conn is not None and conn.closed:
                pool._errors += 1
                await pool._discard(conn)
                conn = None
            if conn is None:
                if timeout is None:
                    conn = await pool._connect(write=queue is pool._writer_q)
                else:
                    async with asyncio.timeout(max(timeout - (_perf() - started), 0.001)):
                        conn = await pool._connect(write=queue is pool._writer_q)
        except (Exception, asyncio.CancelledError) as exc:
            pool._waiters -= 1
            if slot_taken:
                queue.put_nowait(None)
            raise pool._acquire_failed(exc, timeout) from None
        pool._waiters -= 1
        pool._idle_since.pop(conn, None)
        pool._window.record(_perf() - started)
        if breaker.failures:
            breaker.success()
        if pool.liveness.state != CONNECTED:
            pool.liveness.reached()
        pool._acquisitions += 1
        n = pool._in_use = pool._in_use + 1
        if n > pool._peak:
            pool._peak = n
        self._conn = conn
        return conn

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        pool = self._pool
        conn, self._conn = self._conn, None
        pool._in_use -= 1
        pool._releases += 1
        broken = exc_type is not None and issubclass(exc_type, ConnectionLost)
        if broken:
            pool._errors += 1
            pool.liveness.lost(str(exc))
        born = pool._born.get(conn, _perf())
        if broken or conn.closed or pool._closing or conn.uses >= pool.settings.max_uses or _perf() - born > pool._max_lifetime:
            await asyncio.shield(pool._discard(conn))
            if not pool._closing:
                self._queue.put_nowait(None)
            return
        if conn.in_transaction:
            # Returned with a transaction open (the caller did not pin it): roll it back so the
            # next user starts clean, as asyncpg's reset does.
            try:
                await asyncio.shield(conn.execute("ROLLBACK"))
            except (Exception, asyncio.CancelledError):  # noqa: BLE001
                await asyncio.shield(pool._discard(conn))
                self._queue.put_nowait(None)
                return
        pool._put_idle(self._queue, conn)


# -- factory ------------------------------------------------------------------------------------


async def create_pool(driver: Driver, settings: PoolSettings) -> PostgresPool | SQLitePool:
    """A started pool for ``driver`` (PostgreSQL or SQLite).

    Raises ConnectionFailed (and subclasses) when the first connections cannot be made,
    ConfigurationError for a backend without a pool (MongoDB pools inside its client).
    """
    kind = {PostgresPool.backend: PostgresPool, SQLitePool.backend: SQLitePool}.get(driver.name) if driver.POOLED else None
    if kind is None:
        from aishell.engine.errors import ConfigurationError

        raise ConfigurationError(f"no connection pool for {driver.name!r} targets")
    pool = kind(driver, settings)
    await pool.start()
    return pool


def _check_settings(s: PoolSettings) -> None:
    from aishell.engine.errors import ConfigurationError

    if s.min_size < 0 or s.max_size < 1 or s.min_size > s.max_size:
        raise ConfigurationError(f"pool sizes must satisfy 0 <= min_size <= max_size, max_size >= 1; got min_size={s.min_size!r}, max_size={s.max_size!r}")
    if s.max_uses < 1:
        raise ConfigurationError(f"pool.max_uses must be >= 1, got {s.max_uses!r}")
    if s.latency_window < 1:
        raise ConfigurationError(f"pool.latency_window must be >= 1, got {s.latency_window!r}")
    if s.breaker_threshold < 1:
        raise ConfigurationError(f"pool.breaker_threshold must be >= 1, got {s.breaker_threshold!r}")


__all__ = ["create_pool", "PostgresPool", "SQLitePool", "CircuitBreaker", "PoolSnapshot"]
