"""The pools against real servers: metrics, timeouts, recycling, health, breaker, Session pinning."""

from __future__ import annotations

import asyncio
import time

import pytest

from aishell.engine.bench.pgtemp import free_port
from aishell.engine.config import PoolSettings, Settings
from aishell.engine.drivers import driver_for
from aishell.engine.errors import CircuitOpen, ConnectionFailed, PoolTimeout, QueryCancelled, QueryError, ReadOnlyViolation
from aishell.engine.metrics import LatencyWindow
from aishell.engine.pool import CircuitBreaker, create_pool
from aishell.engine.statements import changes_session_state
from aishell.engine.session import Session


def settings(**pool) -> Settings:
    s = Settings.load(read_file=False)
    s.memory.enabled = False
    s.cache.enabled = False
    s.pool.health_check_interval = 0
    for key, value in pool.items():
        setattr(s.pool, key, value)
    return s


async def pid(conn) -> int:
    return (await conn.execute("SELECT pg_backend_pid()")).rows[0][0]


# -- pure parts ---------------------------------------------------------------------------------


def test_latency_window_keeps_the_last_samples():
    w = LatencyWindow(100)
    for i in range(1000):
        w.record(i / 1000)
    p50, p95, p99 = w.percentiles()
    assert 0.9 < p50 < p95 < p99 < 1.0  # only the last 100 samples count
    assert w.count == 1000
    assert LatencyWindow(3).percentiles() == (0.0, 0.0, 0.0)


def test_breaker_opens_fails_fast_half_opens_and_closes():
    b = CircuitBreaker(3, 0.05, "db")
    b.failure("refused")
    b.failure("refused")
    assert b.state == "closed"
    b.failure("refused")
    assert b.state == "open" and b.opens == 1
    with pytest.raises(CircuitOpen, match="3 connection failures in a row.*refused"):
        b.allow()
    time.sleep(0.06)
    assert b.display_state == "half-open"
    b.allow()  # the one trial
    with pytest.raises(CircuitOpen, match="checking"):
        b.allow()  # everyone else still fails fast
    b.failure("refused")  # the trial failed: open again
    assert b.state == "open" and b.opens == 2
    time.sleep(0.06)
    b.allow()
    b.success()
    assert b.state == "closed" and b.failures == 0
    b.allow()  # closed: not an error even if called


def test_session_state_statements():
    assert changes_session_state("SET search_path TO app")
    assert changes_session_state("set statement_timeout = 5")
    assert not changes_session_state("SET LOCAL work_mem = '8MB'")
    assert not changes_session_state("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
    assert changes_session_state("CREATE TEMPORARY TABLE t AS SELECT 1")
    assert changes_session_state("SELECT 1; PREPARE p AS SELECT 2")
    assert changes_session_state("SELECT set_config('app.user', 'x', false)")
    assert changes_session_state("PRAGMA foreign_keys = ON", "sqlite")
    assert not changes_session_state("PRAGMA table_info(t)", "sqlite")
    assert not changes_session_state("SELECT 'SET x' FROM t")


# -- PostgreSQL ---------------------------------------------------------------------------------


async def test_pg_pool_serves_concurrent_callers_and_counts(pg_url):
    driver = driver_for(pg_url)
    pool = await create_pool(driver, PoolSettings(min_size=2, max_size=4, health_check_interval=0))
    try:
        async def work(i: int) -> int:
            async with pool.acquire() as conn:
                return (await conn.execute("SELECT $1::int FROM pg_sleep(0.01)", (i,))).rows[0][0]

        assert sorted(await asyncio.gather(*(work(i) for i in range(20)))) == list(range(20))
        m = pool.metrics()
        assert m.backend == "postgres"
        assert m.acquisitions == m.releases == 20
        assert m.in_use == 0 and m.peak_in_use == 4
        assert 2 <= m.size <= 4 and m.idle == m.size
        assert 0 < m.acquire_p50 <= m.acquire_p95 <= m.acquire_p99
        assert m.breaker == "closed" and m.timeouts == m.errors == 0
        assert m.lifetime_max > 0
    finally:
        await pool.close()


async def test_pg_acquire_timeout_is_a_clear_error(pg_url):
    pool = await create_pool(driver_for(pg_url), PoolSettings(min_size=1, max_size=1, health_check_interval=0))
    try:
        async with pool.acquire():
            started = time.monotonic()
            with pytest.raises(PoolTimeout, match="within 0.2s"):
                async with pool.acquire(timeout=0.2):
                    pass
            assert 0.15 < time.monotonic() - started < 1.0
        m = pool.metrics()
        assert m.timeouts == 1 and m.waiters == 0 and m.in_use == 0
        async with pool.acquire(timeout=0.2) as conn:  # nothing leaked
            await conn.execute("SELECT 1")
    finally:
        await pool.close()


async def test_pg_cancelled_waiter_leaves_nothing_behind(pg_url):
    pool = await create_pool(driver_for(pg_url), PoolSettings(min_size=1, max_size=1, health_check_interval=0))
    try:
        async with pool.acquire():
            async def waiter():
                async with pool.acquire():
                    pass

            task = asyncio.create_task(waiter())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert pool.metrics().waiters == 0
        async with pool.acquire(timeout=1) as conn:
            await conn.execute("SELECT 1")
    finally:
        await pool.close()


async def test_pg_connections_are_recycled_by_uses_and_lifetime(pg_url):
    pool = await create_pool(driver_for(pg_url), PoolSettings(min_size=1, max_size=1, max_uses=3, health_check_interval=0))
    try:
        pids = []
        for _ in range(7):
            async with pool.acquire() as conn:
                pids.append(await pid(conn))
        assert len(set(pids)) >= 2
        m = pool.metrics()
        assert m.opened >= 2 and m.closed >= 1 and m.lifetime_avg > 0
    finally:
        await pool.close()
    pool = await create_pool(driver_for(pg_url), PoolSettings(min_size=1, max_size=1, max_lifetime=0.2, health_check_interval=0))
    try:
        async with pool.acquire() as conn:
            first = await pid(conn)
        await asyncio.sleep(0.3)
        async with pool.acquire() as conn:
            pass  # released past its lifetime: closed, replaced
        async with pool.acquire() as conn:
            assert await pid(conn) != first
    finally:
        await pool.close()


async def test_pg_broken_connections_are_replaced_and_checked(pg_url):
    pool = await create_pool(driver_for(pg_url), PoolSettings(min_size=2, max_size=2, health_check_interval=0))
    admin = await driver_for(pg_url).connect()
    try:
        async with pool.acquire() as a, pool.acquire() as b:
            victims = [await pid(a), await pid(b)]
        await admin.execute("SELECT pg_terminate_backend(p) FROM unnest($1::int[]) p", (victims,))
        await asyncio.sleep(0.2)
        await pool.check_health()
        for _ in range(4):
            async with pool.acquire(timeout=5) as conn:
                assert await pid(conn) not in victims
        assert pool.metrics().breaker == "closed"
    finally:
        await admin.close()
        await pool.close()


async def test_pg_breaker_opens_on_an_unreachable_server():
    url = f"postgresql://nobody:x@127.0.0.1:{free_port()}/nothing"
    pool = await create_pool(
        driver_for(url),
        PoolSettings(min_size=0, max_size=2, breaker_threshold=2, breaker_backoff=0.3, health_check_interval=0),
    )
    try:
        for _ in range(2):
            with pytest.raises(ConnectionFailed, match="could not connect"):
                async with pool.acquire(timeout=2):
                    pass
        started = time.monotonic()
        with pytest.raises(CircuitOpen, match="2 connection failures"):
            async with pool.acquire(timeout=2):
                pass
        assert time.monotonic() - started < 0.05  # fails fast, no waiting
        m = pool.metrics()
        assert m.breaker == "open" and m.errors == 2 and m.breaker_failures == 2
        await asyncio.sleep(0.35)
        assert pool.metrics().breaker == "half-open"
        with pytest.raises(ConnectionFailed):  # the trial goes through and fails
            async with pool.acquire(timeout=2):
                pass
        assert pool.metrics().breaker == "open"
    finally:
        await pool.close()


async def test_pool_open_on_a_dead_server_is_a_clear_error():
    url = f"postgresql://nobody:x@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(ConnectionFailed, match="could not connect"):
        await Session.open(url, settings=settings())


# -- Session over the pool ----------------------------------------------------------------------


async def test_session_transaction_pins_one_connection(pg_fresh_db):
    s = await Session.open(pg_fresh_db, settings=settings(min_size=2, max_size=4))
    other = await Session.open(pg_fresh_db, settings=settings(min_size=1, max_size=1))
    try:
        await s.execute("CREATE TABLE t (a int)")
        await s.execute("BEGIN")
        pinned = (await s.execute("SELECT pg_backend_pid()")).rows[0][0]
        await s.execute("INSERT INTO t VALUES (1)")
        results = await asyncio.gather(*(s.execute("SELECT pg_backend_pid(), count(*) FROM t") for _ in range(5)))
        assert {r.rows[0] for r in results} == {(pinned, 1)}
        assert (await other.execute("SELECT count(*) FROM t")).rows == [(0,)]  # not committed yet
        assert s.metrics()["pool"].in_use == 1
        await s.execute("COMMIT")
        assert s.metrics()["pool"].in_use == 0
        assert (await other.execute("SELECT count(*) FROM t")).rows == [(1,)]
        # An error inside a transaction keeps it (aborted) until ROLLBACK.
        await s.execute("BEGIN")
        with pytest.raises(Exception):
            await s.execute("SELECT * FROM missing_table")
        assert s.metrics()["pool"].in_use == 1
        await s.execute("ROLLBACK")
        assert s.metrics()["pool"].in_use == 0
    finally:
        await s.close()
        await other.close()


async def test_session_state_keeps_its_connection(pg_fresh_db):
    s = await Session.open(pg_fresh_db, settings=settings(min_size=2, max_size=4))
    try:
        await s.execute("CREATE SCHEMA app; CREATE TABLE app.only_here (a int)")
        await s.execute("SET search_path TO app")
        for _ in range(3):
            assert (await s.execute("SELECT count(*) FROM only_here")).rows == [(0,)]
        await s.execute("CREATE TEMP TABLE scratch AS SELECT 42 AS x")
        assert (await s.execute("SELECT x FROM scratch")).rows == [(42,)]
        assert {c.name for c in await s.columns("only_here")} == {"a"}
    finally:
        await s.close()


async def test_session_cancel_through_the_pool(pg_url):
    s = await Session.open(pg_url, settings=settings(min_size=1, max_size=3))
    try:
        task = asyncio.create_task(s.execute("SELECT pg_sleep(30)"))
        for _ in range(100):
            await asyncio.sleep(0.02)
            if s.busy:
                break
        await asyncio.sleep(0.1)
        assert await s.cancel()
        with pytest.raises(QueryCancelled):
            await asyncio.wait_for(task, 10)
        assert (await s.execute("SELECT 1")).rows == [(1,)]
        m = s.metrics()
        assert m["pool"].in_use == 0 and m["cache"] is None
    finally:
        await s.close()


# -- SQLite -------------------------------------------------------------------------------------


async def test_sqlite_writer_and_readers(tmp_path):
    path = tmp_path / "pool.db"
    s = await Session.open(str(path), settings=settings(min_size=1, max_size=4), create=True)
    try:
        pool = s._source
        assert pool.journal_mode == "wal"
        await s.execute("CREATE TABLE t (a int)")
        await s.execute("INSERT INTO t VALUES (1)")
        async with pool.acquire(write=False) as reader:
            with pytest.raises(ReadOnlyViolation):
                await reader.execute("INSERT INTO t VALUES (2)")
        # A transaction on the writer does not block readers, which see the last commit.
        await s.execute("BEGIN")
        await s.execute("INSERT INTO t VALUES (2)")
        async with pool.acquire(write=False, timeout=1) as reader:
            assert (await reader.execute("SELECT count(*) FROM t")).rows == [(1,)]
        assert (await s.execute("SELECT count(*) FROM t")).rows == [(2,)]  # the session sees its own
        await s.execute("COMMIT")
        results = await asyncio.gather(*(s.execute("SELECT count(*) FROM t") for _ in range(8)))
        assert {r.rows[0][0] for r in results} == {2}
        m = s.metrics()["pool"]
        assert m.backend == "sqlite" and m.in_use == 0 and 2 <= m.size <= 4
        assert m.acquisitions == m.releases and m.peak_in_use >= 2
    finally:
        await s.close()


async def test_sqlite_writer_timeout_and_recycling(tmp_path):
    path = tmp_path / "pool.db"
    s = await Session.open(str(path), settings=settings(min_size=1, max_size=2, max_uses=3), create=True)
    try:
        pool = s._source
        async with pool.acquire(write=True):
            with pytest.raises(PoolTimeout):
                async with pool.acquire(write=True, timeout=0.1):
                    pass
        for i in range(8):
            await s.execute(f"CREATE TABLE t{i} (a int)")
        m = pool.metrics()
        assert m.timeouts == 1 and m.closed >= 2 and m.opened >= 3
        assert len(await s.tables()) == 8
    finally:
        await s.close()


async def test_sqlite_memory_database_uses_one_connection():
    s = await Session.open(":memory:", settings=settings(min_size=1, max_size=4))
    try:
        await s.execute("CREATE TABLE t (a int)")
        await s.execute("INSERT INTO t VALUES (1)")
        results = await asyncio.gather(*(s.execute("SELECT count(*) FROM t") for _ in range(4)))
        assert {r.rows[0][0] for r in results} == {1}
        assert s.metrics()["pool"].size == 1
    finally:
        await s.close()


async def test_sqlite_idle_readers_are_closed_and_dead_ones_replaced(tmp_path):
    path = tmp_path / "idle.db"
    s = await Session.open(str(path), settings=settings(min_size=1, max_size=4, idle_timeout=0.05), create=True)
    try:
        pool = s._source
        await s.execute("CREATE TABLE t (a int)")
        await asyncio.gather(*(s.execute("SELECT count(*) FROM t") for _ in range(6)))
        opened = pool.metrics().size
        assert opened >= 2
        await asyncio.sleep(0.1)
        assert await pool.check_health() == 0
        assert pool.metrics().size < opened  # idle readers above min_size went
        async with pool.acquire(write=False) as reader:
            pass
        await reader.close()  # a reader that died while idle
        assert await pool.check_health() == 1
        assert (await s.execute("SELECT count(*) FROM t")).rows == [(0,)]
        assert pool.metrics().errors == 1
    finally:
        await s.close()


async def test_sqlite_breaker_counts_connection_failures(tmp_path):
    path = tmp_path / "gone.db"
    s = await Session.open(str(path), settings=settings(min_size=1, max_size=3, breaker_threshold=2, breaker_backoff=30), create=True)
    try:
        pool = s._source
        path.unlink()  # readers can no longer be opened
        for _ in range(2):
            with pytest.raises(ConnectionFailed):
                async with pool.acquire(write=False):
                    pass
        with pytest.raises(CircuitOpen):
            async with pool.acquire(write=False):
                pass
        assert pool.metrics().breaker == "open"
    finally:
        await s.close()


async def test_statement_timeout_applies_to_pooled_connections(pg_url):
    s = await Session.open(pg_url, settings=settings(min_size=2, max_size=2, statement_timeout=0.2))
    try:
        started = time.monotonic()
        with pytest.raises(QueryError, match="statement timeout"):
            await s.execute("SELECT pg_sleep(3)")
        assert time.monotonic() - started < 2.5
        results = await asyncio.gather(*(s.execute("SELECT current_setting('statement_timeout')") for _ in range(4)))
        assert {r.rows[0][0] for r in results} == {"200ms"}
    finally:
        await s.close()


async def test_release_resets_only_what_may_carry_state(pg_url):
    pool = await create_pool(driver_for(pg_url), PoolSettings(min_size=1, max_size=1, health_check_interval=0))
    try:
        async with pool.acquire() as conn:  # a plain borrower: full reset on release
            await conn.execute("SET application_name = 'leaked'")
        async with pool.acquire() as conn:
            assert (await conn.execute("SHOW application_name")).rows == [("aishell",)]
        async with pool.acquire(stateless=True) as conn:  # promise broken on purpose, to see...
            await conn.execute("SET application_name = 'kept'")
        async with pool.acquire() as conn:  # ...that no reset round trip ran on that release
            assert (await conn.execute("SHOW application_name")).rows == [("kept",)]
        async with pool.acquire() as conn:  # the plain borrower before was reset again
            assert (await conn.execute("SHOW application_name")).rows == [("aishell",)]
    finally:
        await pool.close()
    s = await Session.open(pg_url, settings=settings(min_size=1, max_size=1))
    try:
        # Unclassified statements (DO, CALL) may change anything: their connection is reset.
        await s.execute("DO $$ BEGIN PERFORM set_config('application_name', 'leaked', false); END $$")
        assert (await s.execute("SHOW application_name")).rows == [("aishell",)]
        # A transaction abandoned at close is rolled back, not committed.
        await s.execute("CREATE TABLE IF NOT EXISTS reset_probe (a int)")
        await s.execute("TRUNCATE reset_probe")
        await s.execute("BEGIN")
        await s.execute("INSERT INTO reset_probe VALUES (1)")
    finally:
        await s.close()
    s = await Session.open(pg_url, settings=settings(min_size=1, max_size=1))
    try:
        assert (await s.execute("SELECT count(*) FROM reset_probe")).rows == [(0,)]
        await s.execute("DROP TABLE reset_probe")
    finally:
        await s.close()
