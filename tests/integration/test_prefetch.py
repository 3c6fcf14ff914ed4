"""Prefetch against real databases: the attack table first (what must never run unasked), then
what it guarantees (a write in between is never served stale, the result is what running it
gives, the user never waits on it), then that it learns from memory and warms at connect.

Successors are taught through the prefetcher's own model (``Successors.ran``), so the statement
under attack is never run by the test itself: whatever changes in the database was done by
prefetch.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import pytest

from aishell.engine.config import Settings
from aishell.engine.prefetch import ResultRows, Successors
from aishell.engine.session import Session

BEFORE = "SELECT id, v FROM t WHERE id = 1"
"""The user's read whose successor is under test."""


def cfg(**cache: object) -> Settings:
    s = Settings.load(read_file=False)
    s.memory.enabled = False
    s.cache.schema_poll_interval = 0
    s.cache.prefetch = True
    s.cache.prefetch_warm = 0
    s.pool.health_check_interval = 0
    for name, value in cache.items():
        setattr(s.cache, name, value)
    return s


def teach(session: Session, before: str, after: str, times: int = 2) -> None:
    """``after`` followed ``before`` ``times`` times: its usual successor."""
    model = session.prefetcher.successors
    for start in range(0, 10 * times, 10):
        model.ran(before, at=start)
        model.ran(after, at=start + 1)
    model.ran("SELECT 'break the chain'", at=1e6, ok=False)


async def read(session: Session, sql: str) -> tuple[bool, list[tuple]]:
    """``sql`` streamed as the workbench does: (served by prefetch, rows)."""
    async with session.stream(sql) as rows:
        got = [row async for page in rows for row in page]
    return isinstance(rows, ResultRows), got


PG_SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, v int);
INSERT INTO t SELECT g, g % 7 FROM generate_series(1, 200) g;
CREATE TABLE big (a int);
INSERT INTO big SELECT generate_series(1, 20000);
ANALYZE t; ANALYZE big;
CREATE SEQUENCE s;
CREATE FUNCTION bump() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT nextval(''s'')::int';
CREATE VIEW next_number AS SELECT nextval('s') AS n;
CREATE FUNCTION public.md5(text) RETURNS text VOLATILE LANGUAGE sql AS 'SELECT nextval(''s'')::text';
"""
PG_STATE = (
    "SELECT (SELECT count(*) FROM t), (SELECT sum(v) FROM t), (SELECT last_value FROM s), "
    "(SELECT is_called FROM s), (SELECT count(*) FROM pg_class WHERE relname = 't2')"
)

SQLITE_SCHEMA = """
CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 200) INSERT INTO t SELECT n, n % 7 FROM g;
CREATE TABLE big (a INTEGER);
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000) INSERT INTO big SELECT n FROM g;
ANALYZE;
"""
SQLITE_STATE = "SELECT (SELECT count(*) FROM t), (SELECT sum(v) FROM t), (SELECT count(*) FROM sqlite_master)"

NEVER = [
    # (case, dialects, successor)
    ("insert", "pg sqlite", "INSERT INTO t VALUES (1000, 1)"),
    ("update", "pg sqlite", "UPDATE t SET v = 99 WHERE id = 2"),
    ("delete", "pg sqlite", "DELETE FROM t WHERE id = 3"),
    ("nextval", "pg", "SELECT nextval('s')"),
    ("random", "pg sqlite", "SELECT random() AS r, id FROM t WHERE id = 4"),
    ("now", "pg", "SELECT now() AS at, id FROM t WHERE id = 4"),
    ("now literal", "sqlite", "SELECT datetime('now') AS at, id FROM t WHERE id = 4"),
    ("clock_timestamp", "pg", "SELECT clock_timestamp() AS at, id FROM t WHERE id = 4"),
    ("volatile user function", "pg", "SELECT bump() AS n FROM t WHERE id = 4"),
    ("view calling nextval", "pg", "SELECT n FROM next_number"),
    # a name the analyzer knows as deterministic, the user's volatile function: the read-only
    # connection refuses its nextval()
    ("user function named like a built-in", "pg", "SELECT public.md5(v::text) AS h FROM t WHERE id = 4"),
    ("for update", "pg", "SELECT * FROM t WHERE id = 5 FOR UPDATE"),
    ("select into", "pg", "SELECT * INTO t2 FROM t"),
    ("create table as", "pg sqlite", "CREATE TABLE t2 AS SELECT * FROM t"),
    ("over the cost budget", "pg sqlite", "SELECT count(*) FROM big a, big b WHERE a.a < b.a"),
    ("$1 parameter", "pg", "SELECT v FROM t WHERE id = $1"),
    ("? parameter", "sqlite", "SELECT v FROM t WHERE id = ?"),
    ("two statements", "pg sqlite", "SELECT v FROM t WHERE id = 6; DELETE FROM t WHERE id = 6"),
    ("set", "pg", "SET work_mem = '64MB'"),
]

ALLOWED = "SELECT v FROM t WHERE id = 7"
"""The control: a cheap deterministic read, prefetched (so the table's cases can fail)."""


async def open_pg(url: str, **kw: object) -> Session:
    session = await Session.open(url, settings=cfg(**kw.pop("cache", {})), **kw)  # type: ignore[arg-type]
    assert session.prefetcher is not None
    return session


async def prepared_pg(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(PG_SCHEMA)
    finally:
        await conn.close()
    return url


async def prepared_sqlite(path: str) -> str:
    session = await Session.open(path, settings=cfg(prefetch=False), create=True)
    try:
        await session.execute(SQLITE_SCHEMA)
    finally:
        await session.close()
    return path


@pytest.fixture
async def pg_db(pg_fresh_db) -> str:
    return await prepared_pg(pg_fresh_db)


@pytest.fixture
async def sqlite_db(tmp_path) -> str:
    return await prepared_sqlite(str(tmp_path / "prefetch.db"))


@pytest.fixture(params=["pg", "sqlite"])
def db(request) -> tuple[str, str]:
    """(dialect tag, target) of a prepared database of this test's own."""
    return request.param, request.getfixturevalue("pg_db" if request.param == "pg" else "sqlite_db")


@pytest.fixture(scope="module")
async def shared(pg_cluster, pg_url, tmp_path_factory) -> dict[str, str]:
    """A prepared database of each kind for the tests that must leave it unchanged."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    pg = await prepared_pg(pg_cluster.create_database(f"t_{uuid.uuid4().hex[:12]}"))
    return {"pg": pg, "sqlite": await prepared_sqlite(str(tmp_path_factory.mktemp("prefetch") / "shared.db"))}


async def state(session: Session, tag: str) -> tuple:
    return tuple((await session.execute(PG_STATE if tag == "pg" else SQLITE_STATE)).rows[0])


# -- the attack table -----------------------------------------------------------------------------


ATTACKS = [(tag, case, successor) for case, dialects, successor in NEVER for tag in dialects.split()]


@pytest.mark.parametrize(("tag", "case", "successor"), ATTACKS, ids=[f"{tag}-{case}" for tag, case, _ in ATTACKS])
async def test_never_prefetched(shared, tag, case, successor):
    target = shared[tag]
    plain = await Session.open(target, settings=cfg(prefetch=False, enabled=False))
    session = await Session.open(target, settings=cfg())
    try:
        before = await state(plain, tag)
        teach(session, BEFORE, successor)
        await read(session, BEFORE)
        await session.prefetcher.idle()
        assert session.prefetcher.runs == 0, case
        assert sum(session.prefetcher.refused.values()) >= 1, case
        if case == "over the cost budget":  # planned, and the plan said too costly
            assert session.prefetcher.refused["over the cost budget"] == 1 and session.prefetcher.plans == 1
        assert not session._cache.ahead(successor)
        assert await state(plain, tag) == before, f"{case}: prefetch changed the database"

        teach(session, BEFORE, ALLOWED, times=4)  # the control: the same path runs a harmless read
        await read(session, BEFORE)
        await session.prefetcher.idle()
        assert session.prefetcher.runs == 1 and session._cache.ahead(ALLOWED)
    finally:
        await session.close()
        await plain.close()


@pytest.mark.parametrize("tag", ["pg", "sqlite"])
@pytest.mark.parametrize("how", ["BEGIN", "manual commit"])
async def test_nothing_runs_inside_an_open_transaction(shared, tag, how):
    target = shared[tag]
    session = await Session.open(target, settings=cfg())
    try:
        teach(session, BEFORE, ALLOWED)
        if how == "BEGIN":
            await session.execute("BEGIN")
        else:
            session.manual_commit = True
        await read(session, BEFORE)
        await session.prefetcher.idle()
        assert session.transaction.open
        assert session.prefetcher.runs == 0 and not session._cache.ahead(ALLOWED)
        await session.rollback()
    finally:
        await session.close()


@pytest.mark.parametrize("tag", ["pg", "sqlite"])
async def test_read_only_session_prefetches_reads_and_never_writes(shared, tag):
    target = shared[tag]
    plain = await Session.open(target, settings=cfg(prefetch=False, enabled=False))
    session = await Session.open(target, settings=cfg(), read_only=True)
    try:
        before = await state(plain, tag)
        teach(session, BEFORE, "UPDATE t SET v = v + 1 WHERE id = 8")
        await read(session, BEFORE)
        await session.prefetcher.idle()
        assert session.prefetcher.runs == 0
        assert await state(plain, tag) == before
        teach(session, BEFORE, ALLOWED, times=4)
        await read(session, BEFORE)
        await session.prefetcher.idle()
        assert session.prefetcher.runs == 1 and await read(session, ALLOWED) == (True, [(0,)])
    finally:
        await session.close()
        await plain.close()


async def test_the_prefetch_connection_is_its_own_and_read_only(shared):
    session = await open_pg(shared["pg"])
    try:
        teach(session, BEFORE, ALLOWED)
        await read(session, BEFORE)
        await session.prefetcher.idle()
        rows = (await session.execute(
            "SELECT application_name, backend_type FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'aishell prefetch'"
        )).rows
        assert len(rows) == 1, "prefetch has one connection of its own"
        pool = session.prefetcher._pool
        async with pool.acquire() as conn:
            assert (await conn.execute("SHOW default_transaction_read_only")).rows == [("on",)]
            assert (await conn.execute("SHOW statement_timeout")).rows == [("2s",)]
    finally:
        await session.close()


async def test_sqlite_without_wal_turns_prefetch_off(tmp_path):
    path = tmp_path / "rollback.db"
    import sqlite3

    raw = sqlite3.connect(path)
    raw.executescript("PRAGMA journal_mode=DELETE; CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (1, 1), (7, 0);")
    raw.close()
    session = await Session.open(str(path), settings=cfg(), read_only=True)  # read-only: the file stays in DELETE mode
    try:
        teach(session, BEFORE, ALLOWED)
        await read(session, BEFORE)
        await session.prefetcher.idle()
        assert session.prefetcher.runs == 0 and "WAL" in session.prefetcher.off
    finally:
        await session.close()


# -- what it guarantees --------------------------------------------------------------------------


@pytest.mark.parametrize("write", ["autocommit", "transaction"])
async def test_a_write_between_prefetch_and_use_is_never_served_stale(db, write):
    tag, target = db
    successor = "SELECT sum(v) AS total FROM t"
    session = await Session.open(target, settings=cfg())
    try:
        teach(session, BEFORE, successor)
        await read(session, BEFORE)
        await session.prefetcher.idle()
        assert session._cache.ahead(successor)
        old = (await session.execute(f"{successor} -- uncached")).rows
        if write == "autocommit":
            await session.execute("UPDATE t SET v = v + 100 WHERE id = 10")
        else:
            await session.execute("BEGIN")
            await session.execute("UPDATE t SET v = v + 100 WHERE id = 10")
            await session.execute("COMMIT")
        served, rows = await read(session, successor)
        assert not served
        assert rows[0][0] == old[0][0] + 100
        assert session.metrics()["cache"].prefetch_hits == 0
    finally:
        await session.close()


SAME = {
    "pg": [
        "SELECT id, v, v::numeric / 3 AS third, NULL::text AS missing, (id % 2 = 0) AS even FROM t WHERE id < 30 ORDER BY id",
        "SELECT v, count(*), min(id), max(id) FROM t GROUP BY v ORDER BY v",
        "SELECT json_build_object('id', id, 'v', v) AS doc, DATE '2024-02-29' + id AS day FROM t WHERE id BETWEEN 40 AND 45 ORDER BY id",
    ],
    "sqlite": [
        "SELECT id, v, v / 3.0 AS third, NULL AS missing, id % 2 = 0 AS even FROM t WHERE id < 30 ORDER BY id",
        "SELECT v, count(*), min(id), max(id) FROM t GROUP BY v ORDER BY v",
        "SELECT printf('%05d', id) AS code, typeof(v) FROM t WHERE id BETWEEN 40 AND 45 ORDER BY id",
    ],
}


@pytest.mark.parametrize("tag", ["pg", "sqlite"])
async def test_a_prefetched_result_is_what_running_it_gives(shared, tag):
    target = shared[tag]
    plain = await Session.open(target, settings=cfg(prefetch=False, enabled=False))
    session = await Session.open(target, settings=cfg(prefetch_max_cost=1e9))
    try:
        for successor in SAME[tag]:
            session.prefetcher.successors = Successors(session.dialect)  # each one the usual successor in turn
            teach(session, BEFORE, successor)
            await read(session, BEFORE)
            await session.prefetcher.idle()
            expected = await plain.execute(successor)
            async with session.stream(successor) as rows:
                got = [row async for page in rows for row in page]
                columns = [(c.name, c.type_name) for c in rows.columns]
            assert isinstance(rows, ResultRows), successor
            assert got == [tuple(r) for r in expected.rows]
            assert columns == [(c.name, c.type_name) for c in expected.columns]
            assert rows.rowcount == expected.rowcount
        assert session.metrics()["cache"].prefetch_hits == len(SAME[tag])
    finally:
        await session.close()
        await plain.close()


SLOW = "SELECT count(*) FROM big a, big b WHERE a.a < b.a"
"""Seconds of work on either database (400 million pairs)."""


async def test_the_user_never_waits_on_a_slow_prefetch(db):
    tag, target = db
    session = await Session.open(target, settings=cfg(prefetch_max_cost=1e12, prefetch_timeout=60.0))
    try:
        teach(session, BEFORE, SLOW)
        await read(session, BEFORE)
        prefetcher = session.prefetcher
        deadline = time.monotonic() + 10
        while prefetcher.plans == 0 and time.monotonic() < deadline:  # costed: now it runs
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        assert prefetcher.runs == 0, "the slow statement is still running"
        started = time.perf_counter()
        assert (await session.execute("SELECT count(*) FROM t WHERE id < 50")).rows == [(49,)]
        await session.execute("UPDATE t SET v = v WHERE id = 11")  # a write too (SQLite: WAL, a reader never blocks it)
        took = time.perf_counter() - started
        assert took < 1.0, f"the user's statements waited {took:.2f} s"
        assert prefetcher.cancelled >= 1
        stopping = time.perf_counter()
        await asyncio.wait_for(prefetcher.idle(), 10)
        assert time.perf_counter() - stopping < 5, "the prefetch was not stopped on the server"
        assert prefetcher.runs == 0 and not session._cache.ahead(SLOW)
        if tag == "pg":
            active = (await session.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aishell prefetch' AND state = 'active'"
            )).rows
            assert active == [(0,)]
    finally:
        await session.close()


# -- learning from memory, warming at connect ----------------------------------------------------


async def test_learns_from_memory_and_warms_at_connect(sqlite_db):
    settings = cfg(prefetch_warm=2)
    settings.memory.enabled = True
    first, second = "SELECT id, v FROM t WHERE id = 12", "SELECT count(*) FROM t WHERE v = 5"
    session = await Session.open(sqlite_db, settings=settings)
    try:
        for _ in range(3):
            await read(session, first)
            await read(session, second)
    finally:
        await session.close()

    settings.cache.prefetch_warm = 0
    session = await Session.open(sqlite_db, settings=settings)
    try:
        await session.prefetcher.idle()
        assert not session._cache.ahead(second)
        assert await read(session, first) == (False, [(12, 5)])
        await session.prefetcher.idle()
        assert await read(session, second) == (True, [(28,)])  # memory said it comes next
        import sqlite3

        conn = sqlite3.connect(f"file:{settings.memory_path}?mode=ro", uri=True)
        durations = conn.execute(
            "SELECT r.duration_ms FROM runs r JOIN statements s ON s.id = r.statement_id WHERE s.text = ? ORDER BY r.started_at", (second,)
        ).fetchall()
        conn.close()
        assert len(durations) == 4 and all(d[0] is not None for d in durations[:3])
        assert durations[3][0] is None  # served, not run: no duration for the shape's timings
    finally:
        await session.close()

    settings.cache.prefetch_warm = 2
    session = await Session.open(sqlite_db, settings=settings)
    try:
        await session.prefetcher.idle()
        assert session._cache.ahead(first) and session._cache.ahead(second)
        assert session.metrics()["cache"].prefetch_runs == 2
    finally:
        await session.close()


async def test_off_by_default(sqlite_db):
    settings = Settings.load(read_file=False)
    settings.memory.enabled = False
    session = await Session.open(sqlite_db, settings=settings)
    try:
        assert session.prefetcher is None
        assert session.metrics()["cache"].prefetch_runs is None
    finally:
        await session.close()


async def test_bench_replays_a_recorded_session(pg_fresh_db, tmp_path, monkeypatch):
    from aishell.engine.bench import BenchContext
    from aishell.engine.bench import prefetch as bench

    monkeypatch.setattr(bench, "THINK", 0.05)
    results = {r.name: r for r in await bench.run(BenchContext(pg_url=pg_fresh_db, workdir=str(tmp_path), quick=True))}
    assert sorted(results) == ["prefetch.extra_statements", "prefetch.hit_rate", "prefetch.saved", "prefetch.wait"]
    assert results["prefetch.hit_rate"].value > 0.2  # the reports follow each other: prefetched
    assert results["prefetch.extra_statements"].value > 0
    assert results["prefetch.wait"].baseline_value > 0 and results["prefetch.wait"].ratio is not None
    assert all(r.as_json()["unit"] in ("ms", "ratio") for r in results.values())


async def test_a_write_in_another_connection_of_the_workbench_drops_the_prefetched_result(db):
    tag, target = db
    successor = "SELECT sum(v) AS total FROM t"
    session = await Session.open(target, settings=cfg())
    other = await Session.open(target, settings=cfg())  # a second connection open on the same database
    try:
        teach(session, BEFORE, successor)
        await read(session, BEFORE)
        await session.prefetcher.idle()
        assert session._cache.ahead(successor)
        await other.execute("UPDATE t SET v = v + 1000 WHERE id = 13")
        served, rows = await read(session, successor)
        assert not served and rows == (await other.execute(f"{successor} -- now")).rows
    finally:
        await other.close()
        await session.close()


@pytest.mark.parametrize("tag", ["pg", "sqlite"])
async def test_a_result_larger_than_the_cache_keeps_is_not_read_whole(shared, tag):
    session = await Session.open(shared[tag], settings=cfg(max_rows=50))
    try:
        teach(session, BEFORE, "SELECT id, v FROM t ORDER BY id")  # 200 rows
        await read(session, BEFORE)
        await session.prefetcher.idle()
        assert session.prefetcher.refused["more rows than the cache keeps"] == 1
        assert not session._cache.ahead("SELECT id, v FROM t ORDER BY id")
    finally:
        await session.close()
