"""The result cache inside the Session, against real SQLite files and the throwaway PostgreSQL.

The property test drives a cached Session with random interleavings of reads, writes and
transactions and checks every read against the same read run uncached at that moment (another
Session without cache outside transactions; the same connection, bypassing the cache, inside).
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from aishell.engine.config import Settings
from aishell.engine.errors import QueryError
from aishell.engine.session import Session


def cfg(*, cache: bool = True, poll: float = 0.0, pool: bool = True) -> Settings:
    s = Settings.load(read_file=False)
    s.memory.enabled = False
    s.cache.enabled = cache
    s.cache.schema_poll_interval = poll
    s.pool.enabled = pool
    s.pool.health_check_interval = 0
    return s


SCHEMA = """
CREATE TABLE customers (id int PRIMARY KEY, name text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers(id) ON DELETE CASCADE, total int);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 50;
"""


async def wait_until(predicate, timeout: float = 5.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
def sqlite_db(tmp_path) -> str:
    return str(tmp_path / "cache.db")


async def test_hits_and_invalidation_through_the_session(sqlite_db):
    s = await Session.open(sqlite_db, settings=cfg(), create=True)
    try:
        await s.execute(SCHEMA)
        await s.execute("INSERT INTO customers VALUES (1, 'ann'), (2, 'bob')")
        q = "SELECT name FROM customers ORDER BY id"
        first, second = await s.execute(q), await s.execute(q)
        assert (first.cached, second.cached) == (False, True)
        assert second.rows == [("ann",), ("bob",)]
        other = "SELECT count(*) FROM orders"
        await s.execute(other)
        await s.execute("UPDATE customers SET name = 'cy' WHERE id = 2")
        third = await s.execute(q)
        assert not third.cached and third.rows == [("ann",), ("cy",)]
        assert (await s.execute(other)).cached  # orders were not written
        assert not (await s.execute("SELECT random()")).cached
        assert not (await s.execute("SELECT random()")).cached
        assert not (await s.execute("SELECT id, total FROM big_orders")).cached
        assert not (await s.execute("SELECT id, total FROM big_orders")).cached  # a view: base tables unknown
        m = s.metrics()["cache"]
        assert m.hits == 2 and m.misses >= 3 and m.invalidations >= 1 and m.entries >= 2 and m.bytes > 0
        assert m.uncacheable >= 4
    finally:
        await s.close()


async def test_parameters_and_cache_off(sqlite_db):
    s = await Session.open(sqlite_db, settings=cfg(), create=True)
    off = await Session.open(sqlite_db, settings=cfg(cache=False))
    try:
        await s.execute(SCHEMA)
        await s.execute("INSERT INTO customers VALUES (1, 'ann'), (2, 'bob')")
        q = "SELECT name FROM customers WHERE id = ?"
        assert (await s.execute(q, (1,))).rows == [("ann",)]
        assert (await s.execute(q, (2,))).rows == [("bob",)]
        assert (await s.execute(q, (1,))).cached
        assert not (await off.execute(q, (1,))).cached
        assert not (await off.execute(q, (1,))).cached
        assert off.metrics()["cache"] is None
    finally:
        await s.close()
        await off.close()


async def test_ddl_drops_entries_and_schema_metadata(sqlite_db):
    s = await Session.open(sqlite_db, settings=cfg(), create=True)
    try:
        await s.execute(SCHEMA)
        await s.execute("SELECT * FROM customers")
        assert [c.name for c in await s.columns("customers")] == ["id", "name"]
        await s.execute("ALTER TABLE customers ADD COLUMN email text")
        result = await s.execute("SELECT * FROM customers")
        assert not result.cached and [c.name for c in result.columns] == ["id", "name", "email"]
        assert [c.name for c in await s.columns("customers")] == ["id", "name", "email"]
        assert "customers" in {t.name for t in (await s.schema()).tables.values()}
    finally:
        await s.close()


async def test_transaction_reads_are_not_shared(sqlite_db):
    s = await Session.open(sqlite_db, settings=cfg(), create=True)
    try:
        await s.execute(SCHEMA)
        await s.execute("INSERT INTO customers VALUES (1, 'ann')")
        q = "SELECT count(*) FROM customers"
        assert (await s.execute(q)).rows == [(1,)]
        assert (await s.execute(q)).cached
        await s.execute("BEGIN")
        await s.execute("INSERT INTO customers VALUES (2, 'bob')")
        inside = await s.execute(q)
        assert not inside.cached and inside.rows == [(2,)]
        assert not (await s.execute(q)).cached  # nothing read inside is stored
        await s.execute("ROLLBACK")
        after = await s.execute(q)
        assert after.rows == [(1,)] and not after.cached
        assert (await s.execute(q)).cached
    finally:
        await s.close()


async def test_external_changes_are_noticed_on_sqlite(sqlite_db):
    s = await Session.open(sqlite_db, settings=cfg(poll=0.1), create=True)
    elsewhere = await Session.open(sqlite_db, settings=cfg(cache=False, pool=False))
    try:
        await s.execute(SCHEMA)
        q = "SELECT count(*) FROM customers"
        assert (await s.execute(q)).rows == [(0,)]
        assert (await s.execute(q)).cached
        await elsewhere.execute("INSERT INTO customers VALUES (1, 'ann')")  # another client writes

        async def fresh() -> bool:
            return (await s.execute(q)).rows == [(1,)]

        assert await wait_until(fresh)
    finally:
        await s.close()
        await elsewhere.close()


async def test_external_schema_change_is_noticed_on_postgres(pg_fresh_db):
    s = await Session.open(pg_fresh_db, settings=cfg(poll=0.1))
    admin = await asyncpg.connect(pg_fresh_db)
    try:
        await s.execute("CREATE TABLE gadgets (id int)")
        await s.execute("INSERT INTO gadgets VALUES (1)")
        q = "SELECT * FROM gadgets"
        assert (await s.execute(q)).rows == [(1,)]
        assert (await s.execute(q)).cached
        await admin.execute("DROP TABLE gadgets; CREATE TABLE gadgets (id int, label text); INSERT INTO gadgets VALUES (7, 'x')")

        async def fresh() -> bool:
            return (await s.execute(q)).rows == [(7, "x")]

        assert await wait_until(fresh)
        assert s.metrics()["cache"].invalidations >= 1
    finally:
        await admin.close()
        await s.close()


async def test_cascading_delete_invalidates_children_on_postgres(pg_fresh_db):
    admin = await asyncpg.connect(pg_fresh_db)
    await admin.execute(SCHEMA + "INSERT INTO customers VALUES (1, 'ann'); INSERT INTO orders VALUES (10, 1, 5);")
    await admin.close()
    s = await Session.open(pg_fresh_db, settings=cfg())
    try:
        q = "SELECT count(*) FROM orders"
        assert (await s.execute(q)).rows == [(1,)]
        assert (await s.execute(q)).cached
        await s.execute("DELETE FROM customers WHERE id = 1")  # ON DELETE CASCADE empties orders
        assert (await s.execute(q)).rows == [(0,)]
    finally:
        await s.close()


# -- property: cached reads equal uncached reads ------------------------------------------------

READS = (
    ("SELECT count(*) FROM customers", ()),
    ("SELECT id, name FROM customers ORDER BY id", ()),
    ("SELECT id, customer_id, total FROM orders ORDER BY id", ()),
    ("SELECT c.name, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY c.name", ()),
    ("SELECT total FROM orders WHERE id = {p}", ("k",)),
    ("SELECT id, total FROM big_orders ORDER BY id", ()),
    ("WITH t AS (SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) SELECT * FROM t ORDER BY 1", ()),
)
WRITES = (
    ("INSERT INTO customers (id, name) VALUES ({p}, {p}) ON CONFLICT DO NOTHING", ("k", "name")),
    ("INSERT INTO orders (id, customer_id, total) VALUES ({p}, {p}, {p}) ON CONFLICT DO NOTHING", ("v", "k", "v")),
    ("UPDATE orders SET total = total + {p} WHERE customer_id = {p}", ("v", "k")),
    ("DELETE FROM orders WHERE id = {p}", ("v",)),
    ("DELETE FROM customers WHERE id = {p}", ("k",)),
    ("UPDATE customers SET name = {p} WHERE id = {p}", ("name", "k")),
)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(0, len(READS) - 1), st.integers(1, 5), st.integers(1, 100)),
        st.tuples(st.just("write"), st.integers(0, len(WRITES) - 1), st.integers(1, 5), st.integers(1, 100)),
        st.tuples(st.just("tx"), st.sampled_from(["BEGIN", "COMMIT", "ROLLBACK"]), st.just(0), st.just(0)),
    ),
    min_size=5,
    max_size=40,
)


def render(template: str, names: tuple[str, ...], k: int, v: int, dialect: str) -> tuple[str, tuple]:
    values = {"k": k, "v": v, "name": f"n{v}"}
    parts = template.split("{p}")
    sql = parts[0]
    for i, part in enumerate(parts[1:], 1):
        sql += (f"${i}" if dialect == "postgres" else "?") + part
    return sql, tuple(values[n] for n in names)


async def check_interleaving(cached: Session, reference: Session, ops) -> None:
    dialect = cached.dialect
    await cached.execute("DELETE FROM orders")
    await cached.execute("DELETE FROM customers")
    await cached.execute("INSERT INTO customers VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')")
    await cached.execute("INSERT INTO orders VALUES (10, 1, 20), (20, 2, 70), (30, 3, 55)")
    in_tx = False
    for op, which, k, v in ops:
        if op == "tx":
            if (which == "BEGIN") == in_tx:
                continue
            await cached.execute(which)
            in_tx = which == "BEGIN"
            continue
        template, names = (READS if op == "read" else WRITES)[which]
        sql, params = render(template, names, k, v, dialect)
        try:
            got = await cached.execute(sql, params or None)
        except QueryError:
            if in_tx and dialect == "postgres":  # the transaction is aborted: end it
                await cached.execute("ROLLBACK")
                in_tx = False
            continue
        if op != "read":
            continue
        if in_tx:  # the truth inside a transaction is on its own connection
            expected = await cached._pin.connection.execute(sql, params or None)
        else:
            expected = await reference.execute(sql, params or None)
        assert got.rows == expected.rows, (sql, params, got.cached)
        assert [c.name for c in got.columns] == [c.name for c in expected.columns]
    if in_tx:
        await cached.execute("ROLLBACK")


PROPERTY = hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
async def sqlite_pair(sqlite_db):
    cached = await Session.open(sqlite_db, settings=cfg(), create=True)
    await cached.execute(SCHEMA)
    reference = await Session.open(sqlite_db, settings=cfg(cache=False, pool=False))
    yield cached, reference
    await cached.close()
    await reference.close()


@pytest.fixture
async def pg_pair(pg_fresh_db):
    admin = await asyncpg.connect(pg_fresh_db)
    await admin.execute(SCHEMA)
    await admin.close()
    cached = await Session.open(pg_fresh_db, settings=cfg())
    reference = await Session.open(pg_fresh_db, settings=cfg(cache=False, pool=False))
    yield cached, reference
    await cached.close()
    await reference.close()


@PROPERTY
@given(ops=OPS)
async def test_property_cached_reads_equal_uncached_sqlite(sqlite_pair, ops):
    await check_interleaving(*sqlite_pair, ops)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
async def test_property_cached_reads_equal_uncached_postgres(pg_pair, ops):
    await check_interleaving(*pg_pair, ops)
    assert pg_pair[0].metrics()["cache"].hits >= 0
