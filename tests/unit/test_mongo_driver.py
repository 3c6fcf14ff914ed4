"""The Mongo driver without a server: routing, refusals before anything is sent, unreachable
servers, value conversion, explain commands, error translation and pool monitoring.

Everything that needs a running MongoDB is in tests/integration/test_mongo_server.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import time
import uuid

import bson
import pytest
from pymongo import errors, monitoring

from aishell.engine.drivers import driver_for
from aishell.engine.drivers.mongo import (
    MongoDriver,
    PoolMonitor,
    database_from_url,
    explain_command,
    index_info,
    to_bson,
    translate_error,
)
from aishell.engine.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    ConnectionLost,
    QueryCancelled,
    QueryError,
    ReadOnlyViolation,
)
from aishell.engine.metrics import PoolSnapshot
from aishell.engine.mongo.shell import parse

DEAD = "mongodb://app:s3cret@127.0.0.1:1/shop?authSource=admin"


def test_urls_route_to_the_mongo_driver():
    for url in ("mongodb://localhost/shop", "mongodb+srv://u:p@cluster0.example.net/shop"):
        driver = driver_for(url)
        assert isinstance(driver, MongoDriver)
        assert (driver.name, driver.dialect) == ("mongo", "mongo")
        assert driver.language == "mongosh" and not driver.POOLED and not driver.HYPOTHETICAL_INDEXES
    assert driver_for(DEAD).display_url == "mongodb://app:***@127.0.0.1:1/shop?authSource=admin"
    assert driver_for(DEAD, read_only=True).read_only


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("mongodb://localhost", "test"),
        ("mongodb://localhost/", "test"),
        ("mongodb://h1:27017,h2:27017/shop?replicaSet=rs0", "shop"),
        ("mongodb://u:p%2Fq@host/my%20db?authSource=admin", "my db"),
        ("mongodb+srv://u:p@cluster0.example.net/analytics", "analytics"),
    ],
)
def test_database_from_url(url, name):
    assert database_from_url(url) == name


def test_bad_driver_options_show_the_value():
    with pytest.raises(ValueError, match="-1"):
        MongoDriver("mongodb://localhost", connect_timeout=-1)
    with pytest.raises(ValueError, match="0"):
        MongoDriver("mongodb://localhost", max_pool_size=0)


async def test_unreachable_server_is_connection_failed_without_the_password():
    driver = MongoDriver(DEAD, connect_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ConnectionFailed) as err:
        await driver.connect()
    assert time.monotonic() - started < 5
    assert "s3cret" not in str(err.value) and "app:***@" in str(err.value)
    assert "no server answered within 0.3s" in str(err.value)
    # The failed connect released the client: the pool PyMongo opened for the seed is closed again.
    assert driver._client is None and driver.listener.pools == 0


async def test_invalid_settings_are_connection_failed():
    with pytest.raises(ConnectionFailed, match="invalid connection settings"):
        await MongoDriver("mongodb://localhost:99999/shop").connect()
    with pytest.raises(ConnectionFailed, match="invalid connection settings"):
        await MongoDriver("mongodb://localhost/shop", replicaSet=5).connect()


async def test_parse_errors_and_read_only_refusals_send_nothing():
    # The server is unreachable: anything sent would end in ConnectionLost, not these errors.
    driver = MongoDriver(DEAD, connect_timeout=0.3, read_only=True)
    conn = await driver.connect(verify=False)
    try:
        with pytest.raises(QueryError) as err:
            await conn.execute("db.orders.find({status: 'paid'")
        assert not isinstance(err.value, ConnectionLost) and err.value.position == 31
        script = "db.orders.find({})\ndb.orders.deleteMany({})"
        with pytest.raises(ReadOnlyViolation) as err:
            await conn.execute(script)
        assert err.value.position == script.index("db.orders.deleteMany") + 1
        assert "nothing was sent" in str(err.value)
        for text in (
            "db.orders.aggregate([{$out: 'copy'}])",
            "db.orders.createIndex({a: 1})",
            "db.runCommand({dropDatabase: 1})",
        ):
            with pytest.raises(ReadOnlyViolation):
                await conn.execute(text)
        with pytest.raises(ReadOnlyViolation):
            async with conn.stream("db.orders.insertOne({a: 1})"):
                pass
        with pytest.raises(QueryError, match="no parameters"):
            await conn.execute("db.orders.find({})", (1,))
        # A read does reach the (dead) network: translated, password-free.
        with pytest.raises(ConnectionLost) as lost:
            await conn.execute("db.orders.find({})")
        assert "s3cret" not in str(lost.value)
        with pytest.raises(ConnectionLost):
            async with conn.stream("db.orders.find({})"):
                pass
        assert await conn.cancel() is False  # nothing running
        assert not conn.in_transaction and not conn.closed
    finally:
        await conn.close()
    assert conn.closed
    with pytest.raises(ConnectionLost):
        await conn.execute("db.orders.find({})")
    await conn.close()  # twice is fine


async def test_connections_share_one_client_closed_with_the_last():
    driver = MongoDriver(DEAD, connect_timeout=0.3)
    a = await driver.connect(verify=False)
    b = await driver.connect(verify=False)
    assert a.client is b.client
    await a.close()
    assert driver._client is b.client
    await b.close()
    assert driver._client is None


async def test_use_switches_the_connection_database_only():
    driver = MongoDriver(DEAD, connect_timeout=0.3)
    a = await driver.connect(verify=False)
    b = await driver.connect(verify=False)
    try:
        result = await a.execute("use archive")
        assert result.status == "switched to db archive"
        assert (a.database, b.database) == ("archive", "shop")
    finally:
        await a.close()
        await b.close()


def test_to_bson_converts_shell_values_and_encodes():
    q = parse(
        'db.c.insertOne({_id: ObjectId("65a1b2c3d4e5f60718293a4b"), n: NumberLong(5), d: NumberDecimal("1.10"), '
        "r: /^a/i, t: Timestamp(10, 1), b: BinData(0, 'aGk='), lo: MinKey(), hi: MaxKey(), "
        "u: UUID('3b241101-e2bb-4255-8caf-4136c566a962'), at: ISODate('2024-01-02T03:04:05Z'), deep: [{x: NumberLong(1)}]})"
    )
    doc = to_bson(q.documents[0])
    assert doc["_id"] == bson.ObjectId("65a1b2c3d4e5f60718293a4b")
    assert isinstance(doc["n"], bson.Int64) and doc["n"] == 5
    assert doc["d"] == bson.Decimal128("1.10")
    assert doc["r"] == bson.Regex("^a", "i")
    assert doc["t"] == bson.Timestamp(10, 1)
    assert doc["b"] == bson.Binary(b"hi", 0)
    assert isinstance(doc["lo"], bson.MinKey) and isinstance(doc["hi"], bson.MaxKey)
    assert isinstance(doc["deep"][0]["x"], bson.Int64)
    codec = bson.CodecOptions(tz_aware=True, uuid_representation=bson.binary.UuidRepresentation.STANDARD)
    back = bson.decode(bson.encode(doc, codec_options=codec), codec_options=codec)
    assert back["u"] == uuid.UUID("3b241101-e2bb-4255-8caf-4136c566a962")
    assert back["at"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert back["d"].to_decimal() == decimal.Decimal("1.10")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        (
            'db.orders.find({status: "paid"}, {total: 1}).sort({ts: -1}).skip(5).limit(20).hint({status: 1})',
            {"find": "orders", "filter": {"status": "paid"}, "projection": {"total": 1}, "sort": {"ts": -1},
             "limit": 20, "skip": 5, "hint": {"status": 1}},
        ),
        ("db.orders.findOne({a: 1})", {"find": "orders", "filter": {"a": 1}, "limit": 1}),
        (
            "db.orders.aggregate([{$match: {a: 1}}], {allowDiskUse: true})",
            {"aggregate": "orders", "pipeline": [{"$match": {"a": 1}}], "cursor": {}, "allowDiskUse": True},
        ),
        ("db.orders.countDocuments({a: 1})", {"count": "orders", "query": {"a": 1}}),
        ("db.orders.distinct('c', {a: 1})", {"distinct": "orders", "key": "c", "query": {"a": 1}}),
        (
            "db.orders.updateMany({a: 1}, {$set: {b: 2}}, {upsert: true})",
            {"update": "orders", "updates": [{"q": {"a": 1}, "u": {"$set": {"b": 2}}, "multi": True, "upsert": True}]},
        ),
        ("db.orders.deleteOne({a: 1})", {"delete": "orders", "deletes": [{"q": {"a": 1}, "limit": 1}]}),
        ("db.orders.deleteMany({})", {"delete": "orders", "deletes": [{"q": {}, "limit": 0}]}),
        (
            "db.orders.findOneAndDelete({a: 1}, {sort: {ts: 1}})",
            {"findAndModify": "orders", "query": {"a": 1}, "remove": True, "sort": {"ts": 1}},
        ),
    ],
)
def test_explain_commands(text, command):
    assert explain_command(parse(text)) == command


def test_explain_command_refuses_what_cannot_be_explained():
    with pytest.raises(QueryError, match="cannot be explained"):
        explain_command(parse("db.orders.insertOne({a: 1})"))


def test_index_info_from_list_indexes_documents():
    primary = index_info({"v": 2, "key": {"_id": 1}, "name": "_id_"})
    assert (primary.name, primary.columns, primary.unique, primary.primary) == ("_id_", ("_id",), True, True)
    ix = index_info(
        {"v": 2, "key": {"status": 1, "ts": -1}, "name": "status_1_ts_-1", "unique": True,
         "partialFilterExpression": {"total": {"$gt": bson.Int64(0)}}}
    )
    assert ix.columns == ("status", "ts") and ix.unique and ix.partial and not ix.primary
    assert ix.definition == "createIndex({status: 1, ts: -1}, {unique: true, partialFilterExpression: {total: {$gt: NumberLong(0)}}})"
    text = index_info({"key": {"_fts": "text", "_ftsx": 1}, "name": "body_text", "weights": {"body": 1}})
    assert text.columns == ("_fts", "_ftsx") and '"text"' in text.definition


def test_translate_error_maps_server_codes():
    driver = MongoDriver(DEAD)
    sql = "db.orders.find({})"
    cases = [
        (errors.OperationFailure("operation was interrupted", 11601, {"codeName": "Interrupted"}), QueryCancelled),
        (errors.ExecutionTimeout("operation exceeded time limit", 50, {"codeName": "MaxTimeMSExpired"}), QueryError),
        (errors.OperationFailure("Authentication failed.", 18, {"codeName": "AuthenticationFailed"}), AuthenticationFailed),
        (errors.AutoReconnect("connection closed"), ConnectionLost),
        (errors.ServerSelectionTimeoutError("db:27017: timed out, Timeout: 5s, Topology Description: <...>"), ConnectionLost),
        (errors.InvalidOperation("Cannot use AsyncMongoClient after close"), ConnectionLost),
        (bson.errors.InvalidDocument("cannot encode object: <object>"), QueryError),
        (OSError(104, "Connection reset by peer"), ConnectionLost),
    ]
    for exc, kind in cases:
        assert type(translate_error(exc, sql, driver)) is kind, exc
    timeout = translate_error(cases[1][0], sql, driver)
    assert "time limit" in timeout.message and timeout.sqlstate == "MaxTimeMSExpired"
    lost = translate_error(cases[4][0], sql, driver)
    assert "Topology Description" not in lost.message


def test_translate_error_details():
    driver = MongoDriver(DEAD)
    dup = errors.DuplicateKeyError(
        "E11000 duplicate key error collection: shop.orders index: _id_ dup key: { _id: 1 }", 11000,
        {"code": 11000, "errmsg": "E11000 duplicate key error"},
    )
    err = translate_error(dup, "db.orders.insertOne({_id: 1})", driver)
    assert type(err) is QueryError and err.sqlstate == "DuplicateKey" and "E11000" in err.message
    bulk = errors.BulkWriteError(
        {"writeErrors": [{"index": 1, "code": 11000, "errmsg": "E11000 duplicate key error dup key: { _id: 2 }"}],
         "nInserted": 1, "writeConcernErrors": [], "nUpserted": 0, "nMatched": 0, "nModified": 0, "nRemoved": 0, "upserted": []}
    )
    err = translate_error(bulk, "db.o.insertMany([{_id: 1}, {_id: 2}])", driver)
    assert "(1 write error, 1 inserted)" in err.message
    # A statement further down a script points at itself.
    script = "use shop\ndb.o.find({a: 1})"
    query = [q for q in __import__("aishell.engine.mongo.shell", fromlist=["parse_script"]).parse_script(script)][1]
    failed = errors.OperationFailure("unknown operator: $foo", 2, {"codeName": "BadValue"})
    err = translate_error(failed, script, driver, query)
    assert err.position == script.index("db.o.find") + 1 and err.sqlstate == "BadValue"
    assert err.line_column == (2, 1)
    # Unauthorized in a read-only session reads as a read-only refusal.
    ro = MongoDriver(DEAD, read_only=True)
    denied = errors.OperationFailure("not authorized on shop to execute command { insert: ... }", 13, {"codeName": "Unauthorized"})
    assert isinstance(translate_error(denied, "x", ro), ReadOnlyViolation)
    assert type(translate_error(denied, "x", driver)) is QueryError
    # After a cancel, a killed cursor is a cancellation.
    gone = errors.CursorNotFound("cursor id 123 not found", 43, {"codeName": "CursorNotFound"})
    assert isinstance(translate_error(gone, "x", driver, cancelled=True), QueryCancelled)
    assert type(translate_error(gone, "x", driver)) is QueryError
    secret = errors.OperationFailure("bad auth for mongodb://app:s3cret@h/x", 8000, {})
    assert "s3cret" not in translate_error(secret, "x", driver).message


def test_pool_monitor_snapshot_from_real_events():
    monitor = PoolMonitor(min_size=1, max_size=4)
    addr = ("db1", 27017)
    monitor.pool_created(monitoring.PoolCreatedEvent(addr, {"maxPoolSize": 4}))
    monitor.pool_ready(monitoring.PoolReadyEvent(addr))
    for cid in (1, 2):
        monitor.connection_created(monitoring.ConnectionCreatedEvent(addr, cid))
        monitor.connection_ready(monitoring.ConnectionReadyEvent(addr, cid, 0.004))
    for cid, wait in ((1, 0.001), (2, 0.003)):
        monitor.connection_check_out_started(monitoring.ConnectionCheckOutStartedEvent(addr))
        monitor.connection_checked_out(monitoring.ConnectionCheckedOutEvent(addr, cid, wait))
    monitor.connection_check_out_started(monitoring.ConnectionCheckOutStartedEvent(addr))  # a waiter
    snap = monitor.snapshot()
    assert isinstance(snap, PoolSnapshot) and snap.backend == "mongo"
    assert (snap.size, snap.in_use, snap.idle, snap.waiters, snap.acquisitions) == (2, 2, 0, 1, 2)
    assert (snap.min_size, snap.max_size, snap.peak_in_use, snap.breaker) == (1, 4, 2, "closed")
    assert snap.acquire_p50 == pytest.approx(0.002)
    monitor.connection_check_out_failed(monitoring.ConnectionCheckOutFailedEvent(addr, "timeout", 10.0))
    monitor.connection_checked_in(monitoring.ConnectionCheckedInEvent(addr, 1))
    monitor.connection_closed(monitoring.ConnectionClosedEvent(addr, 1, "stale"))
    monitor.pool_cleared(monitoring.PoolClearedEvent(addr))
    monitor.connection_check_out_failed(monitoring.ConnectionCheckOutFailedEvent(addr, "connectionError", 0.5))
    snap = monitor.snapshot()
    assert (snap.size, snap.in_use, snap.idle, snap.waiters) == (1, 1, 0, 0)
    assert (snap.timeouts, snap.errors, snap.releases, snap.opened, snap.closed) == (1, 1, 1, 2, 1)
    assert (snap.breaker, snap.breaker_failures) == ("open", 1)
    assert snap.lifetime_avg >= 0 and snap.lifetime_max >= 0
    monitor.pool_ready(monitoring.PoolReadyEvent(addr))
    monitor.connection_check_out_started(monitoring.ConnectionCheckOutStartedEvent(addr))
    monitor.connection_checked_out(monitoring.ConnectionCheckedOutEvent(addr, 2, 0.001))
    snap = monitor.snapshot()
    assert (snap.breaker, snap.breaker_failures) == ("closed", 0)
    assert set(snap.as_dict()) >= {"size", "in_use", "acquire_p95", "breaker"}


async def test_driver_listener_receives_pymongo_events():
    driver = MongoDriver(DEAD, connect_timeout=0.2)
    assert isinstance(driver.listener, monitoring.ConnectionPoolListener)
    conn = await driver.connect(verify=False)
    try:
        with pytest.raises(ConnectionLost):
            await conn.ping()
        assert driver.listener.pools == 1  # PyMongo created the seed server's pool and told us
        assert conn.pool_metrics().backend == "mongo"
    finally:
        await conn.close()
    await asyncio.sleep(0)
    assert driver.listener.pools == 0


def test_get_indexes_grid_is_one_line_an_index():
    from aishell.engine.drivers.mongo import _doc_grid

    docs = [
        {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        {"v": 2, "key": {"email": 1}, "name": "email_1", "unique": True, "collation": {"locale": "en", "strength": 2}},
        {"v": 2, "key": {"at": 1}, "name": "at_1", "expireAfterSeconds": 3600},
    ]
    columns, rows = _doc_grid(parse("db.users.getIndexes()"), docs)
    assert [c.name for c in columns] == ["name", "key", "unique", "options"]
    assert rows == [
        ("_id_", "{_id: 1}", True, ""),
        ("email_1", "{email: 1}", True, '{collation: {locale: "en", strength: 2}}'),
        ("at_1", "{at: 1}", False, "{expireAfterSeconds: 3600}"),
    ]


async def test_find_cursor_carries_every_modifier_and_the_cancel_tag():
    # PyMongo builds a find cursor without I/O: this checks our keywords against its real API.
    driver = MongoDriver("mongodb://127.0.0.1:1/shop", connect_timeout=0.2, statement_timeout=2)
    conn = await driver.connect(verify=False)
    try:
        query = parse(
            "db.o.find({a: ObjectId('65a1b2c3d4e5f60718293a4b')}, {b: 1}).sort({ts: -1}).skip(5).limit(20)"
            ".hint({a: 1}).batchSize(7).collation({locale: 'en'}).allowDiskUse()"
        )
        cursor = await conn._open_cursor(query, batch_size=500)
        state = vars(cursor)
        assert cursor.collection.full_name == "shop.o"
        assert state["_spec"] == {"a": bson.ObjectId("65a1b2c3d4e5f60718293a4b")}
        assert (state["_projection"], state["_ordering"], state["_skip"], state["_limit"]) == ({"b": 1}, {"ts": -1}, 5, 20)
        assert (state["_hint"], state["_batch_size"], state["_collation"]) == ({"a": 1}, 7, {"locale": "en"})
        assert state["_max_time_ms"] == 2000 and state["_allow_disk_use"] is True
        assert state["_comment"] == conn._tag and conn._tag.startswith("aishell-")
        tagged = await conn._open_cursor(parse("db.o.find({}).comment('mine')"), batch_size=0)
        assert vars(tagged)["_comment"] == "mine" == conn._tag
        options = await conn._open_cursor(parse("db.o.find({}, {}, {sort: {a: 1}, limit: 3, maxTimeMS: 50})"), batch_size=0)
        assert (vars(options)["_ordering"], vars(options)["_limit"], vars(options)["_max_time_ms"]) == ({"a": 1}, 3, 50)
        with pytest.raises(QueryError, match="unknown option 'nope' for find"):
            await conn._open_cursor(parse("db.o.find({}, {}, {nope: 1})"), batch_size=0)
    finally:
        await conn.close()


EVERY_CALL = [
    "db.o.findOne({a: 1}, {b: 1}, {sort: {a: 1}})",
    "db.o.aggregate([{$match: {a: 1}}], {allowDiskUse: true, hint: {a: 1}, let: {x: 1}}).maxTimeMS(50)",
    "db.o.countDocuments({a: 1}, {limit: 5, skip: 1, hint: {a: 1}, maxTimeMS: 10})",
    "db.o.estimatedDocumentCount({maxTimeMS: 10})",
    "db.o.distinct('a', {b: 1}, {collation: {locale: 'en'}})",
    "db.o.insertOne({a: NumberDecimal('1.5')}, {bypassDocumentValidation: true})",
    "db.o.insertMany([{a: 1}, {a: 2}], {ordered: false})",
    "db.o.updateOne({a: 1}, {$set: {b: 2}}, {upsert: true, arrayFilters: [{x: 1}], hint: {a: 1}, collation: {locale: 'en'}})",
    "db.o.updateMany({a: 1}, [{$set: {b: '$a'}}], {let: {v: 1}})",
    "db.o.replaceOne({a: 1}, {a: 1, b: 3}, {upsert: true})",
    "db.o.deleteOne({a: 1}, {hint: {a: 1}})",
    "db.o.deleteMany({a: {$lt: 5}}, {collation: {locale: 'en'}})",
    "db.o.findOneAndUpdate({a: 1}, {$inc: {n: 1}}, {returnNewDocument: true, upsert: true, sort: {a: 1}, projection: {n: 1}})",
    "db.o.findOneAndReplace({a: 1}, {a: 2}, {returnDocument: 'after'})",
    "db.o.findOneAndDelete({a: 1}, {sort: {a: -1}, maxTimeMS: 10})",
    "db.o.createIndex({a: 1, b: -1}, {name: 'ab', unique: true, partialFilterExpression: {a: {$gt: 0}}})",
    "db.o.dropIndex('ab')",
    "db.o.dropIndex({a: 1, b: -1})",
    "db.o.drop()",
    "db.o.getIndexes()",
    "db.o.find({a: 1}).sort({a: 1}).explain('executionStats')",
    "db.o.explain('executionStats').updateMany({a: 1}, {$set: {b: 1}})",
    "db.getCollectionNames()",
    "db.getCollectionInfos({name: 'o'})",
    "db.stats()",
    "db.runCommand({collStats: 'o'})",
    "db.createCollection('c2', {capped: true, size: 4096})",
    "db.dropDatabase()",
    "show dbs",
    "show collections",
]


async def test_every_call_reaches_the_network_with_accepted_keywords():
    # Against an unreachable server each statement must fail with ConnectionLost: a keyword
    # PyMongo does not take would fail earlier, as a QueryError, without a round trip.
    driver = MongoDriver("mongodb://127.0.0.1:1/shop", connect_timeout=0.3)
    conns = [await driver.connect(verify=False) for _ in EVERY_CALL]
    try:
        outcomes = await asyncio.gather(*(c.execute(t) for c, t in zip(conns, EVERY_CALL)), return_exceptions=True)
    finally:
        for c in conns:
            await c.close()
    wrong = {t: repr(o) for t, o in zip(EVERY_CALL, outcomes) if not isinstance(o, ConnectionLost)}
    assert wrong == {}


def test_session_plans_mongo_statements_for_the_cache():
    from aishell.engine import session

    assert session._plan("SELECT 1", "sqlite").kind == "select"  # whichever dialect comes first
    mongo = session._plan("db.orders.find({a: 1})", "mongo")
    assert mongo.cacheable and mongo.reads == frozenset({"orders"})
    assert session._plan("db.orders.deleteMany({a: 1})", "mongo").writes == frozenset({"orders"})
    assert session._plan("SELECT * FROM t", "postgres").reads == frozenset({"t"})


def test_session_analyze_gives_mongo_advice_without_a_round_trip():
    from aishell.engine.config import Settings
    from aishell.engine.session import Session, SingleConnection

    driver = MongoDriver(DEAD)
    session = Session(driver, Settings(), SingleConnection(driver))
    result = session.analyze("db.orders.deleteMany({})")
    assert [f.code for f in result.findings] == ["MG005"]
    assert [f.code for f in session.analyze("db.orders.find({").findings] == ["MG000"]


async def test_url_options_win_over_driver_defaults():
    from pymongo import monitoring as mon

    class Extra(mon.ConnectionPoolListener):
        def __init__(self) -> None:
            self.pools = 0

        def pool_created(self, event):
            self.pools += 1

        def pool_ready(self, event): ...
        def pool_cleared(self, event): ...
        def pool_closed(self, event): ...
        def connection_created(self, event): ...
        def connection_ready(self, event): ...
        def connection_closed(self, event): ...
        def connection_check_out_started(self, event): ...
        def connection_check_out_failed(self, event): ...
        def connection_checked_out(self, event): ...
        def connection_checked_in(self, event): ...

    extra = Extra()
    driver = MongoDriver(
        "mongodb://127.0.0.1:1/shop?maxPoolSize=3&appName=mine&serverSelectionTimeoutMS=200",
        max_pool_size=10, event_listeners=[extra],
    )
    conn = await driver.connect(verify=False)
    try:
        options = conn.client.options
        assert options.pool_options.max_pool_size == 3
        assert options.pool_options.metadata["application"]["name"] == "mine"
        assert options.server_selection_timeout == 0.2
        assert driver.listener.max_size == 3 and conn.pool_metrics().max_size == 3
        with pytest.raises(ConnectionLost):
            await conn.ping()
        assert extra.pools == 1 and driver.listener.pools == 1  # both listeners hear PyMongo
    finally:
        await conn.close()
