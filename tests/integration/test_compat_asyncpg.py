"""The asyncpg shim (engine/compat/asyncpg.py) against the test cluster: its use of asyncpg's
internals and its public fallback give the same rows, statuses, columns and connections, and the
pool keeps its guarantees (reset on release, recycling) on the fallback too."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import pytest

from aishell.engine.compat import asyncpg as compat_asyncpg
from aishell.engine.config import PoolSettings
from aishell.engine.drivers import driver_for
from aishell.engine.pool import create_pool

STATEMENTS = [
    ("SELECT $1::int AS n, $2::text AS label, now() > $3::timestamptz AS later", (7, "x", dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))),
    ("CREATE TEMP TABLE compat_t (id serial PRIMARY KEY, name text)", ()),
    ("INSERT INTO compat_t (name) VALUES ($1), ($2)", ("a", "b")),
    ("UPDATE compat_t SET name = upper(name) WHERE name = $1 RETURNING id, name", ("a",)),
    ("SELECT id, name FROM compat_t ORDER BY id", ()),
    ("DELETE FROM compat_t", ()),
]


def _text(status) -> str:
    return status.decode() if isinstance(status, bytes) else status


async def test_execute_and_prepared_match_the_public_api(pg_url):
    # The same statements on two connections (temp tables are per connection): one through the
    # internals, one through the public fallback.
    fast, public = await asyncpg.connect(pg_url), await asyncpg.connect(pg_url)
    try:
        for sql, args in STATEMENTS:
            rows, status, state = await compat_asyncpg.execute(fast, sql, args)
            public_rows, public_status, statement = await compat_asyncpg.execute_public(public, sql, args)
            assert [tuple(r) for r in rows] == [tuple(r) for r in public_rows]
            assert _text(status) == _text(public_status)
            columns = [(a.name, a.type.name) for a in compat_asyncpg.attributes(state)]
            assert columns == [(a.name, a.type.name) for a in compat_asyncpg.attributes(statement)]
            if sql.startswith("SELECT"):
                described = await compat_asyncpg.prepared(fast, sql)
                assert [(a.name, a.type.name) for a in compat_asyncpg.attributes(described)] == columns
        assert _text(status) == "DELETE 2" and [tuple(r) for r in rows] == []
    finally:
        await fast.close()
        await public.close()


async def test_pool_internals_match_the_public_api(pg_url):
    pool = await asyncpg.create_pool(pg_url, min_size=1, max_size=2)
    try:
        assert compat_asyncpg.free_holder(pool) and pool.get_size() - pool.get_idle_size() < pool.get_max_size()
        first = await compat_asyncpg.acquire(pool)
        second = await pool.acquire()  # the public way
        by_pid = {p.get_server_pid(): compat_asyncpg.connection(p, {}) for p in (first, second)}
        assert len(by_pid) == 2
        for proxy in (first, second):
            con = compat_asyncpg.connection(proxy, by_pid)
            assert isinstance(con, asyncpg.Connection) and con is compat_asyncpg.connection_public(proxy, by_pid)
        # Both borrowed: neither way sees a free holder.
        assert not compat_asyncpg.free_holder(pool)
        assert not pool.get_size() - pool.get_idle_size() < pool.get_max_size()
        await pool.release(second)
        assert compat_asyncpg.connection(second, by_pid) is None and compat_asyncpg.connection_public(second, by_pid) is None
        assert compat_asyncpg.free_holder(pool)
        await pool.release(first)
    finally:
        await pool.close()


@pytest.fixture
def public_api(monkeypatch):
    """The engine as it runs on an asyncpg outside the tested range."""
    monkeypatch.setattr(compat_asyncpg, "_fast", False)


async def test_pool_on_the_public_fallback_keeps_its_guarantees(pg_url, public_api):
    pool = await create_pool(driver_for(pg_url), PoolSettings(min_size=1, max_size=2, max_uses=3, health_check_interval=0))
    try:
        async def work(i: int) -> int:
            async with pool.acquire(timeout=5) as conn:
                return (await conn.execute("SELECT $1::int FROM pg_sleep(0.01)", (i,))).rows[0][0]

        assert sorted(await asyncio.gather(*(work(i) for i in range(8)))) == list(range(8))
        m = pool.metrics()
        assert m.acquisitions == m.releases == 8 and m.in_use == 0 and m.opened >= 3  # max_uses recycled some
    finally:
        await pool.close()
    pool = await create_pool(driver_for(pg_url), PoolSettings(min_size=1, max_size=1, health_check_interval=0))
    try:
        async with pool.acquire(timeout=5) as conn:  # a plain borrower: full reset on release
            await conn.execute("SET application_name = 'leaked'")
        async with pool.acquire(timeout=5) as conn:
            assert (await conn.execute("SHOW application_name")).rows == [("aishell",)]
        async with pool.acquire(timeout=5, stateless=True) as conn:  # no reset round trip for these
            await conn.execute("SET application_name = 'kept'")
        async with pool.acquire(timeout=5) as conn:
            assert (await conn.execute("SHOW application_name")).rows == [("kept",)]
    finally:
        await pool.close()
