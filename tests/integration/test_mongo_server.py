"""The Mongo driver against a real server: the session's FerretDB 1.24 (tests/conftest.py's
``mongo_server``: SQLite storage, authentication on), or the MongoDB ``AISHELL_TEST_MONGO_URL``
points at. Without either (no ``ferretdb`` binary, no Go to build it) every test skips with that
reason.

Where FerretDB 1.24 differs from MongoDB a test says so by name and checks what each server does:
it drops the connection on Decimal128 and MinKey/MaxKey values, has no views, no ``$where``, no
``currentOp``/``killOp`` (cancel closes the cursor or abandons the reply instead), and its explain
is its backend's SQL plan, not MongoDB's stage tree — the analyzer's reading of MongoDB's explain
stays covered by the recorded documents in tests/fixtures/mongo (tests/unit/test_mongo_explain.py).

Each test works in its own throwaway database, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
import time
import tracemalloc
import uuid

import pytest

from aishell.engine.analyzer.mongo.report import explain_findings, plan_result
from aishell.engine.bench.pgtemp import free_port
from aishell.engine.drivers.mongo import MongoConnection, MongoDriver
from aishell.engine.errors import AuthenticationFailed, ConnectionFailed, ConnectionLost, QueryCancelled, QueryError, ReadOnlyViolation
from aishell.engine.metrics import PoolSnapshot
from aishell.engine.mongo.schema import FieldInfo
from aishell.engine.types import ColumnInfo, QueryResult

pytestmark = pytest.mark.mongo
LARGE = 50_000
"""Documents in the large collection: enough that a full read takes seconds on FerretDB, few
enough to insert in a few seconds (``aishell bench mongo`` streams a million)."""


@functools.lru_cache
def server_kind(url: str) -> str:
    """``ferretdb`` or ``mongodb``, from ``buildInfo`` (FerretDB adds ``ferretdbVersion``)."""
    import pymongo

    with pymongo.MongoClient(url, serverSelectionTimeoutMS=5000) as client:
        return "ferretdb" if "ferretdbVersion" in client.admin.command("buildInfo") else "mongodb"


@pytest.fixture
def ferretdb(mongo_url) -> bool:
    """True on FerretDB, where the differences named in the module docstring apply."""
    return server_kind(mongo_url) == "ferretdb"


@pytest.fixture
async def conn(mongo_url):
    driver = MongoDriver(mongo_url, connect_timeout=5)
    connection = await driver.connect()
    name = f"aishell_test_{uuid.uuid4().hex[:10]}"
    await connection.execute(f"use {name}")
    try:
        yield connection
    finally:
        try:
            await connection.execute("db.dropDatabase()")
        finally:
            await connection.close()


async def seed(conn: MongoConnection, n: int, collection: str = "orders") -> None:
    statuses = ["paid", "open", "void"]
    batch = []
    for i in range(n):
        ts = (dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i)).isoformat().replace("+00:00", "Z")
        extra = f", coupon: 'C{i}'" if i >= n - 3 else ""
        batch.append(
            f"{{_id: {i}, status: '{statuses[i % 3]}', total: {i % 97}.5, ts: ISODate('{ts}'), "
            f"customer: {{name: 'c{i % 50}', city: '{'Oslo' if i % 2 else 'Bergen'}'}}, items: [{{sku: 'A{i % 7}', qty: {i % 4}}}]{extra}}}"
        )
        if len(batch) == 500:
            await conn.execute(f"db.{collection}.insertMany([{', '.join(batch)}])")
            batch = []
    if batch:
        await conn.execute(f"db.{collection}.insertMany([{', '.join(batch)}])")


async def test_crud_round_trip(conn, ferretdb):
    total = "9.99" if ferretdb else "NumberDecimal('9.99')"  # FerretDB 1.24 has no Decimal128: see below
    result = await conn.execute(f"db.orders.insertOne({{_id: 1, status: 'paid', total: {total}, tags: ['a', 'b']}})")
    assert (result.rowcount, result.status, result.rows) == (1, "INSERT 1", [(1,)])
    result = await conn.execute("db.orders.insertMany([{_id: 2, status: 'open'}, {_id: 3, status: 'paid', customer: {name: 'Ann'}}])")
    assert result.rowcount == 2
    found = await conn.execute("db.orders.find({status: 'paid'}, {status: 1, 'customer.name': 1}).sort({_id: -1}).limit(5)")
    assert [c.name for c in found.columns] == ["_id", "status", "customer.name"]
    assert found.rows == [(3, "paid", "Ann"), (1, "paid", None)]
    assert (await conn.execute("db.orders.countDocuments({status: 'paid'})")).rows == [(2,)]
    assert sorted(r[0] for r in (await conn.execute("db.orders.distinct('status')")).rows) == ["open", "paid"]
    updated = await conn.execute("db.orders.updateMany({status: 'paid'}, {$set: {flag: true}})")
    assert updated.rowcount == 2 and updated.status.startswith("UPDATE 2")
    one = await conn.execute("db.orders.findOne({_id: 1})")
    names = [c.name for c in one.columns]
    assert one.rows[0][names.index("tags")] == '["a", "b"]'
    assert str(one.rows[0][names.index("total")]) == "9.99"
    deleted = await conn.execute("db.orders.deleteOne({_id: 2})")
    assert (deleted.rowcount, deleted.status) == (1, "DELETE 1")
    agg = await conn.execute("db.orders.aggregate([{$group: {_id: '$status', n: {$sum: 1}}}, {$sort: {_id: 1}}])")
    assert agg.rows == [("paid", 2)]
    created = await conn.execute("db.orders.createIndex({status: 1, ts: -1})")
    assert created.rows == [("status_1_ts_-1",)]
    listing = await conn.execute("db.orders.getIndexes()")
    assert [c.name for c in listing.columns] == ["name", "key", "unique", "options"]
    assert listing.rows == [("_id_", "{_id: 1}", True, ""), ("status_1_ts_-1", "{status: 1, ts: -1}", False, "")]
    indexes = await conn.indexes("orders")
    assert [i.name for i in indexes] == ["_id_", "status_1_ts_-1"] and indexes[1].columns == ("status", "ts")
    await conn.execute("db.orders.dropIndex('status_1_ts_-1')")
    assert [i.name for i in await conn.indexes("orders")] == ["_id_"]
    script = await conn.execute("db.tmp.insertOne({a: 1}); db.tmp.countDocuments({})")
    assert script.rows == [(1,)]


async def test_decimal128_on_mongodb_and_on_ferretdb(conn, ferretdb):
    """MongoDB stores NumberDecimal; FerretDB 1.24 cannot and closes the connection instead of
    answering. The user gets one line, and the next statement runs on a fresh connection."""
    insert = "db.money.insertOne({_id: 1, amount: NumberDecimal('0.10')})"
    if ferretdb:
        with pytest.raises(ConnectionLost) as err:
            await conn.execute(insert)
        line = str(err.value)
        assert "\n" not in line and "connection closed" in line and "holds a NumberDecimal" in line
        assert (await conn.execute("db.money.countDocuments({})")).rows == [(0,)]
    else:
        await conn.execute(insert)
        assert str((await conn.execute("db.money.findOne({_id: 1})")).rows[0][1]) == "0.10"


async def test_stream_pages_with_stable_columns(conn):
    await seed(conn, 2500)
    pages: list[list[tuple]] = []
    async with conn.stream("db.orders.find({}).sort({_id: 1})", page_size=1000) as rows:
        columns = rows.columns
        async for page in rows:
            assert all(len(r) == len(columns) for r in page)
            pages.append(page)
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert rows.rowcount == 2500
    assert rows.status.startswith("FIND 2500") and "coupon" in rows.status
    names = [c.name for c in columns]
    assert names[:3] == ["_id", "status", "total"] and "customer.city" in names and "coupon" not in names
    assert pages[2][-1][0] == 2499


async def test_stream_of_a_write_and_of_an_empty_result(conn):
    async with conn.stream("db.orders.insertOne({a: 1})") as rows:
        pages = [p async for p in rows]
    assert (rows.status, rows.rowcount, len(pages), len(pages[0])) == ("INSERT 1", 1, 1, 1)
    assert len(pages[0][0][0]) == 24  # the new ObjectId, as hex
    async with conn.stream("db.orders.find({a: 2})") as rows:
        assert [p async for p in rows] == []
    assert rows.rowcount == 0


async def test_catalog(conn, ferretdb):
    await seed(conn, 300)
    await conn.execute("db.createCollection('empty')")
    view = "db.runCommand({create: 'paid_orders', viewOn: 'orders', pipeline: [{$match: {status: 'paid'}}]})"
    if ferretdb:  # FerretDB 1.24 has no views
        with pytest.raises(QueryError) as err:
            await conn.execute(view)
        assert err.value.sqlstate == "NotImplemented" and "full error" not in err.value.one_line()
    else:
        await conn.execute(view)
    assert conn.database in await conn.schemas()
    tables = {t.name: t for t in await conn.tables()}
    assert tables["orders"].row_estimate == 300 and tables["orders"].kind == "collection"
    if not ferretdb:
        assert tables["paid_orders"].kind == "view" and tables["paid_orders"].row_estimate == -1
    assert tables["empty"].row_estimate == 0
    assert "system.views" not in tables  # created by the view, hidden as server bookkeeping
    columns = await conn.columns("orders")
    assert all(isinstance(c, FieldInfo) and isinstance(c, ColumnInfo) for c in columns)
    by_name = {c.name: c for c in columns}
    assert by_name["_id"].position == 1 and by_name["status"].type_name == "string"
    assert by_name["ts"].type_name == "date" and by_name["items.sku"].frequency == 1.0
    assert 0 < by_name["coupon"].frequency < 0.1
    assert await conn.columns("empty") == []
    info = await conn.schema_info()
    assert info.find("orders").columns and info.find("orders").indexes[0].primary
    version = await conn.server_version()
    assert version[0].isdigit()


async def test_explain_and_advice(conn, ferretdb):
    if ferretdb:
        pytest.skip("FerretDB 1.24's explain is its backend's SQL plan, not MongoDB's stage tree: see test_ferretdb_explain")
    await seed(conn, 3000)
    text = "db.orders.find({status: 'paid', total: {$gt: 50}}).sort({ts: -1}).limit(10)"
    findings = await explain_findings(conn, text)
    assert [f.code for f in findings][:1] == ["MG001"]
    advice = findings[0].index
    assert advice is not None and advice.command == "db.orders.createIndex({status: 1, ts: -1, total: 1})"
    await conn.execute(advice.command)
    assert [f.code for f in await explain_findings(conn, text)] == []
    typed = text.replace(".limit(10)", ".limit(10).explain('executionStats')")
    unread = await conn.execute(typed)  # the driver alone shows the server's reply
    assert unread.status == "EXPLAIN" and "queryPlanner" in {c.name.split(".")[0] for c in unread.columns}
    conn.driver.read_plan = plan_result  # as the Session sets it
    plan = await conn.execute(typed)
    assert plan.status.startswith("EXPLAIN") and any("IXSCAN status_1_ts_-1_total_1" in r[0] for r in plan.rows)
    raw = await conn.explain("db.orders.deleteMany({status: 'void'})")
    assert "queryPlanner" in raw
    assert (await conn.execute("db.orders.countDocuments({status: 'void'})")).rows == [(1000,)]  # nothing deleted


async def test_cancel_stops_a_running_operation(conn, ferretdb):
    if ferretdb:
        pytest.skip("FerretDB 1.24 has no $where nor killOp: see test_cancel_of_a_long_query_on_the_large_collection")
    await seed(conn, 200)
    task = asyncio.ensure_future(conn.execute("db.orders.find({$where: 'sleep(50) || true'})"))
    await asyncio.sleep(0.8)
    assert await conn.cancel() is True
    with pytest.raises(QueryCancelled):
        await asyncio.wait_for(task, 10)
    assert (await conn.execute("db.orders.countDocuments({})")).rows == [(200,)]  # usable afterwards


async def test_cancel_between_pages_closes_the_cursor(conn):
    await seed(conn, 1500)
    async with conn.stream("db.orders.find({})", page_size=500) as rows:
        first = await rows.__anext__()
        assert len(first) == 500
        assert await conn.cancel() is True
        with pytest.raises(QueryCancelled):
            await rows.__anext__()


async def test_server_errors_are_query_errors(conn):
    await conn.execute("db.orders.insertOne({_id: 1})")
    with pytest.raises(QueryError) as err:
        await conn.execute("db.orders.insertOne({_id: 1})")
    assert err.value.sqlstate == "DuplicateKey"
    with pytest.raises(QueryError) as err:
        await conn.execute(f"use {conn.database}\ndb.orders.find({{a: {{$nope: 1}}}})")
    assert err.value.sqlstate == "BadValue" and err.value.line_column == (2, 1)
    # the server's message, not PyMongo's echo of the whole reply after it
    assert "$nope" in err.value.one_line() and "full error" not in err.value.one_line()


async def test_read_only_driver(mongo_url, conn):
    await conn.execute("db.orders.insertOne({_id: 1})")
    driver = MongoDriver(mongo_url, read_only=True)
    ro = await driver.connect()
    try:
        await ro.execute(f"use {conn.database}")
        assert (await ro.execute("db.orders.countDocuments({})")).rows == [(1,)]
        with pytest.raises(ReadOnlyViolation):
            await ro.execute("db.orders.deleteMany({})")
    finally:
        await ro.close()
    assert (await conn.execute("db.orders.countDocuments({})")).rows == [(1,)]


async def test_pool_metrics_follow_the_work(conn):
    await seed(conn, 50)
    await asyncio.gather(*(conn.client[conn.database].orders.count_documents({}) for _ in range(8)))
    snap = conn.pool_metrics()
    assert isinstance(snap, PoolSnapshot) and snap.backend == "mongo"
    assert snap.acquisitions >= 8 and snap.releases >= 8 and snap.size >= 1
    assert snap.in_use == 0 and snap.breaker == "closed" and snap.acquire_p99 >= snap.acquire_p50 >= 0


async def test_session_facade(mongo_url, ferretdb):
    from aishell.engine.session import Session

    name = f"aishell_test_{uuid.uuid4().hex[:10]}"
    async with await Session.open(mongo_url) as session:
        assert session.dialect == "mongo"
        await session.execute(f"use {name}")
        try:
            result = await session.execute("db.t.insertMany([{a: 1}, {a: 2, b: {c: 3}}])")
            assert isinstance(result, QueryResult) and result.rowcount == 2
            async with session.stream("db.t.find({}, {_id: 0}).sort({a: 1})") as rows:
                pages = [p async for p in rows]
            assert [c.name for c in rows.columns] == ["a", "b.c"]
            assert pages == [[(1, None), (2, 3)]]
            assert isinstance(session.metrics()["pool"], PoolSnapshot)
            first = await session.execute("db.t.find({a: {$gte: 1}}).sort({a: 1})")
            again = await session.execute("db.t.find({a: {$gte: 1}}).sort({a: 1})")
            assert (first.cached, again.cached, again.rows) == (False, True, first.rows)
            await session.execute("db.t.insertOne({a: 3})")  # invalidates reads of t
            fresh = await session.execute("db.t.find({a: {$gte: 1}}).sort({a: 1})")
            assert not fresh.cached and len(fresh.rows) == 3
            typed = await session.execute("db.t.find({a: 2}).explain('executionStats')")
            assert typed.status.startswith("EXPLAIN") and typed.columns[0].name == "stage"
            report = await session.explain("db.t.find({a: 2})", analyze=True)
            assert report.dialect == "mongo"
            if not ferretdb:  # FerretDB's plan: see test_ferretdb_explain
                assert report.analyzed and report.nodes[0].node_type in ("COLLSCAN", "FETCH")
            advice = await session.advise("db.t.find({a: 2})")
            assert advice.findings == [] and advice.recommended == []  # 3 documents: nothing worth an index
            assert [f.code for f in session.analyze("db.t.deleteMany({})").findings] == ["MG005"]
        finally:
            await session.execute("db.dropDatabase()")


# -- connecting ---------------------------------------------------------------------------------


async def test_connect_errors_are_one_line(mongo_server):
    """Nothing listening, a wrong password, no login at all: one line each, no password in it."""
    nowhere = f"mongodb://127.0.0.1:{free_port()}/"
    started = time.perf_counter()
    with pytest.raises(ConnectionFailed) as err:
        await MongoDriver(nowhere, connect_timeout=0.5).connect()
    line = str(err.value)
    assert line.startswith(f"could not connect to {nowhere}: no server answered within 0.5s")
    assert "\n" not in line and "Topology" not in line and time.perf_counter() - started < 5
    if mongo_server is None:
        pytest.skip("the rest needs the session's FerretDB, whose user and password this test knows")
    wrong = mongo_server.url_for(mongo_server.user, "not-the-password")
    with pytest.raises(AuthenticationFailed) as err:
        await MongoDriver(wrong, connect_timeout=2).connect()
    line = str(err.value)
    assert line.startswith("authentication failed for mongodb://aishell:") and "not-the-password" not in line
    assert "\n" not in line and "full error" not in line
    # No login: the server answers a ping, then refuses the first read, in one line.
    anonymous = await MongoDriver(mongo_server.url_for(None), connect_timeout=2).connect()
    try:
        with pytest.raises(QueryError) as err:
            await anonymous.execute("db.orders.find({})")
        assert err.value.sqlstate == "Unauthorized" and "requires authentication" in err.value.one_line()
    finally:
        await anonymous.close()


async def test_read_only_without_a_login_is_not_called_a_read_only_refusal(mongo_server):
    """A read the server refuses for want of a login is an authorization error, even in a
    read-only session (it was called "read-only session: … requires authentication")."""
    if mongo_server is None:
        pytest.skip("needs the session's FerretDB (a server with access control)")
    ro = await MongoDriver(mongo_server.url_for(None), read_only=True, connect_timeout=2).connect()
    try:
        with pytest.raises(QueryError) as err:
            await ro.execute("db.orders.countDocuments({})")
        assert not isinstance(err.value, ReadOnlyViolation) and err.value.sqlstate == "Unauthorized"
    finally:
        await ro.close()


# -- a large collection ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large(mongo_server):
    """(url, database) holding ``big``: LARGE order-like documents, inserted once for the module."""
    import pymongo

    url = os.environ.get("AISHELL_TEST_MONGO_URL") or mongo_server.url
    name = f"aishell_large_{uuid.uuid4().hex[:8]}"
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    with pymongo.MongoClient(url, serverSelectionTimeoutMS=5000) as client:
        for chunk in range(0, LARGE, 10_000):
            client[name].big.insert_many(
                [
                    {
                        "_id": i, "status": ("paid", "open", "void")[i % 3], "total": (i % 997) / 4,
                        "ts": start + dt.timedelta(minutes=i), "customer": {"name": f"c{i % 5000}", "city": ("Oslo", "Bergen")[i % 2]},
                        "items": [{"sku": f"A{i % 7}", "qty": i % 4}],
                    }
                    for i in range(chunk, min(chunk + 10_000, LARGE))
                ],
                ordered=False,
            )
        try:
            yield url, name
        finally:
            if mongo_server is None:  # the session's FerretDB goes with its files; dropping would
                client.drop_database(name)  # wait for the scan a cancel abandoned there


async def test_a_large_collection_streams_page_by_page_in_bounded_memory(large):
    url, name = large
    conn = await MongoDriver(url).connect()
    try:
        await conn.execute(f"use {name}")
        started = time.perf_counter()
        async with conn.stream("db.big.find({})", page_size=500) as rows:
            page = await rows.__anext__()
            first_page = time.perf_counter() - started
            assert len(page) == 500 and [c.name for c in rows.columns][:2] == ["_id", "status"]
            tracemalloc.start()
            try:
                page = await rows.__anext__()
                base = tracemalloc.get_traced_memory()[0]  # holding one page
                for _ in range(8):
                    page = await rows.__anext__()
                grown, peak = (v - base for v in tracemalloc.get_traced_memory())
            finally:
                tracemalloc.stop()
            assert rows.rowcount == 5_000 and page[-1][0] == 4_999
        # Eight more pages later, still one page held: what was read is gone.
        assert grown < 200_000 and peak < 2_000_000, (grown, peak)
        assert first_page <= 0.3, f"first page after {first_page:.3f}s"
    finally:
        await conn.close()


async def test_cancel_of_a_long_query_on_the_large_collection(large, ferretdb):
    """FerretDB 1.24 has no currentOp/killOp: cancel stops waiting for the reply (the pool drops
    that connection) and the next statement runs at once on another."""
    if not ferretdb:
        pytest.skip("on MongoDB this filter is fast: test_cancel_stops_a_running_operation uses $where")
    url, name = large
    conn = await MongoDriver(url).connect()
    try:
        await conn.execute(f"use {name}")
        # A regex on a nested field is filtered by FerretDB itself, document by document: seconds.
        task = asyncio.ensure_future(conn.execute("db.big.find({'customer.name': {$regex: 'nobody'}})"))
        await asyncio.sleep(0.3)
        assert not task.done()
        started = time.perf_counter()
        assert await conn.cancel() is True
        with pytest.raises(QueryCancelled):
            await asyncio.wait_for(task, 5)
        assert time.perf_counter() - started < 1
        assert (await conn.execute("db.big.findOne({_id: 7})")).rows[0][0] == 7
    finally:
        await conn.close()


# -- what the workbench builds on a connection ----------------------------------------------------


async def test_completion_from_the_sampled_schema(conn):
    from aishell.engine.mongo.complete import complete

    await seed(conn, 40)
    info = await conn.schema_info()
    fields = {t.name: [c.name for c in t.columns] for t in info.tables.values()}
    assert complete("db.or", 5, fields).names == ["orders"]
    text = "db.orders.find({status: 'paid', customer.c"
    assert complete(text, len(text) - len("customer.c") + len("cu"), fields).names == ["customer", "'customer.name'", "'customer.city'"]
    assert complete("db.orders.find({it", 18, fields).names[:3] == ["items", "'items.sku'", "'items.qty'"]


async def test_statements_are_recorded_in_memory_without_the_password(mongo_url):
    from aishell.engine.config import Settings
    from aishell.engine.session import Session

    settings = Settings.load()
    name = f"aishell_test_{uuid.uuid4().hex[:10]}"
    async with await Session.open(mongo_url, settings=settings) as session:
        await session.execute(f"use {name}")
        try:
            await session.execute("db.orders.insertMany([{status: 'paid', total: 5}, {status: 'open', total: 7}])")
            result = await session.execute("db.orders.find({status: 'paid'}, {_id: 0})")
            assert result.rows == [("paid", 5)]
            hits = await session.recall("orders paid status")
            assert hits[0].text == "db.orders.find({status: 'paid'}, {_id: 0})" and "orders" in hits[0].tables
            inserted = await session.recall("insertMany orders")
            assert inserted[0].rows == 2
        finally:
            await session.execute("db.dropDatabase()")
    password = mongo_url.split("@")[0].rsplit(":", 1)[-1] if "@" in mongo_url else ""
    if password and "//" not in password:
        for path in settings.memory_path.parent.iterdir():
            if path.name.startswith("memory"):
                assert password.encode() not in path.read_bytes()


async def test_ferretdb_explain(conn, ferretdb):
    """FerretDB answers explain with its backend's plan (SQLite's EXPLAIN QUERY PLAN lines) and
    whether filter, sort and limit ran in the backend, without execution statistics: the plan
    shows those lines and what FerretDB did itself (it showed "no plan"); no finding fires."""
    from aishell.engine.analyzer.mongo.report import explain

    if not ferretdb:
        pytest.skip("MongoDB's explain: test_explain_and_advice")
    await seed(conn, 30)
    doc = await conn.explain("db.orders.find({status: 'paid'}).sort({_id: 1})")
    assert doc["serverInfo"]["ferretdbVersion"].startswith("v1.24") and "queryPlanner" in doc
    assert {"filterPushdown", "sortPushdown", "limitPushdown"} <= set(doc)
    assert await explain_findings(conn, "db.orders.find({status: 'paid'})") == []
    conn.driver.read_plan = plan_result  # as the Session sets it
    plan = await conn.execute("db.orders.find({status: 'paid', 'customer.city': 'Oslo'}).explain('executionStats')")
    stages = [r[0].strip() for r in plan.rows]
    assert plan.status == "EXPLAIN" and stages[0].startswith("SCAN orders_") and "filter in FerretDB (not pushed down)" in stages
    report = await explain(conn, "db.orders.find({status: 'paid'})", analyze=True)
    assert report.summary.startswith("SCAN orders_") and report.summary.endswith("(planned, not run)") and not report.findings
