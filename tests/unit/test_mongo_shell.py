"""The mongosh-syntax parser: statements, relaxed JSON, shell constructors, errors with positions."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aishell.engine.errors import QueryError
from aishell.engine.mongo.shell import format_query, format_value, parse, parse_script
from aishell.engine.mongo.values import (
    MAX_KEY,
    MIN_KEY,
    BinaryValue,
    Int64Value,
    ObjectIdValue,
    RegexValue,
    TimestampValue,
)

UTC = dt.timezone.utc


def test_the_issue_example():
    q = parse('db.orders.find({status: "paid"}, {total: 1}).sort({ts: -1}).limit(20)')
    assert (q.collection, q.method, q.kind) == ("orders", "find", "read")
    assert q.filter == {"status": "paid"}
    assert q.projection == {"total": 1}
    assert q.sort == {"ts": -1}
    assert q.limit == 20
    assert q.skip is None
    assert not q.is_write
    assert q.text == 'db.orders.find({status: "paid"}, {total: 1}).sort({ts: -1}).limit(20)'


def test_relaxed_json():
    q = parse(
        """db.orders.find({
            status: 'paid',            // single quotes and a comment
            "customer.name": "O'Hara",
            $and: [{total: {$gte: 10.5}}, {total: {$lt: 1e3,},},],   /* trailing commas */
            tags: [ 'a', "b", ],
            'quoted key': -2,
            n: +7, hex: 0x1F, frac: .25,
            esc: "tab\\there \\u00e9\\x41",
        })"""
    )
    assert q.filter == {
        "status": "paid",
        "customer.name": "O'Hara",
        "$and": [{"total": {"$gte": 10.5}}, {"total": {"$lt": 1000.0}}],
        "tags": ["a", "b"],
        "quoted key": -2,
        "n": 7,
        "hex": 31,
        "frac": 0.25,
        "esc": "tab\there éA",
    }


def test_dotted_unquoted_keys_and_numeric_keys():
    q = parse("db.c.find({a.b: 1, 0: 'zero'})")
    assert q.filter == {"a.b": 1, "0": "zero"}


def test_shell_constructors():
    q = parse(
        """db.events.insertOne({
            _id: ObjectId("65A1B2C3D4E5F60718293A4B"),
            at: ISODate("2024-05-01T12:30:00.250+02:00"),
            day: ISODate("2024-05-01"),
            epoch: new Date(0),
            made: Date("2020-02-29T00:00:00Z"),
            big: NumberLong("9007199254740993"),
            small: NumberLong(42),
            i: NumberInt(7),
            price: NumberDecimal("19.99"),
            ts: Timestamp(1700000000, 3),
            ts2: Timestamp({t: 5, i: 6}),
            id: UUID("3b241101-e2bb-4255-8caf-4136c566a962"),
            bin: BinData(0, "aGVsbG8="),
            hex: HexData(0, "ff00"),
            re: /^ab+c$/i,
            re2: RegExp("x\\\\d", "m"),
            lo: MinKey(), hi: MaxKey, nothing: null, undef: undefined, inf: -Infinity,
        })"""
    )
    doc = q.documents[0]
    assert doc["_id"] == ObjectIdValue("65a1b2c3d4e5f60718293a4b")
    assert doc["at"] == dt.datetime(2024, 5, 1, 10, 30, 0, 250000, tzinfo=UTC)
    assert doc["day"] == dt.datetime(2024, 5, 1, tzinfo=UTC)
    assert doc["epoch"] == dt.datetime(1970, 1, 1, tzinfo=UTC)
    assert doc["made"] == dt.datetime(2020, 2, 29, tzinfo=UTC)
    assert doc["big"] == Int64Value(9007199254740993)
    assert doc["small"] == Int64Value(42)
    assert doc["i"] == 7 and type(doc["i"]) is int
    assert doc["price"] == decimal.Decimal("19.99")
    assert doc["ts"] == TimestampValue(1700000000, 3)
    assert doc["ts2"] == TimestampValue(5, 6)
    assert doc["id"] == uuid.UUID("3b241101-e2bb-4255-8caf-4136c566a962")
    assert doc["bin"] == BinaryValue(0, b"hello")
    assert doc["hex"] == BinaryValue(0, b"\xff\x00")
    assert doc["re"] == RegexValue("^ab+c$", "i")
    assert doc["re2"] == RegexValue("x\\d", "m")
    assert doc["lo"] is MIN_KEY and doc["hi"] is MAX_KEY
    assert doc["nothing"] is None and doc["undef"] is None
    assert doc["inf"] == -math.inf


def test_object_id_without_argument_is_fresh():
    a = parse("db.c.insertOne({_id: ObjectId()})").documents[0]["_id"]
    b = parse("db.c.insertOne({_id: new ObjectId()})").documents[0]["_id"]
    assert len(a.hex) == 24 and a != b
    assert int(a.hex[:8], 16) == pytest.approx(dt.datetime.now(UTC).timestamp(), abs=120)


def test_regex_literal_with_slash_in_class_and_escape():
    q = parse(r"db.c.find({path: /^\/api\/v[0-9/]+/m})")
    assert q.filter["path"] == RegexValue(r"^\/api\/v[0-9/]+", "m")


def test_every_method():
    cases = {
        "db.o.aggregate([{$match: {s: 1}}, {$group: {_id: '$c', n: {$sum: 1}}}], {allowDiskUse: true})": "aggregate",
        "db.o.countDocuments({s: 1}, {limit: 5})": "countDocuments",
        "db.o.estimatedDocumentCount()": "estimatedDocumentCount",
        "db.o.distinct('customer', {s: 1})": "distinct",
        "db.o.insertMany([{a: 1}, {a: 2}], {ordered: false})": "insertMany",
        "db.o.updateOne({a: 1}, {$set: {b: 2}}, {upsert: true})": "updateOne",
        "db.o.updateMany({a: 1}, [{$set: {b: '$a'}}])": "updateMany",
        "db.o.replaceOne({a: 1}, {a: 1, b: 3})": "replaceOne",
        "db.o.deleteOne({a: 1})": "deleteOne",
        "db.o.deleteMany({a: {$lt: 5}})": "deleteMany",
        "db.o.createIndex({s: 1, ts: -1}, {name: 's_ts', unique: true})": "createIndex",
        "db.o.dropIndex('s_ts')": "dropIndex",
        "db.o.drop()": "drop",
        "db.o.getIndexes()": "getIndexes",
        "db.o.findOne({a: 1})": "findOne",
        "db.o.findOneAndUpdate({a: 1}, {$inc: {n: 1}}, {returnNewDocument: true})": "findOneAndUpdate",
        "db.o.count({a: 1})": "countDocuments",
        "db.getCollectionNames()": "getCollectionNames",
        "db.runCommand({ping: 1})": "runCommand",
        "db.dropDatabase()": "dropDatabase",
    }
    for text, method in cases.items():
        assert parse(text).method == method, text


def test_argument_views():
    q = parse("db.o.updateMany({a: 1}, [{$set: {b: '$a'}}], {upsert: true})")
    assert q.filter == {"a": 1}
    assert q.update == [{"$set": {"b": "$a"}}]
    assert q.options == {"upsert": True}
    assert q.is_write and q.kind == "write"
    agg = parse("db.o.aggregate([{$match: {s: 'x'}}, {$match: {t: {$gt: 1}}}, {$sort: {ts: -1}}, {$limit: 5}])")
    assert agg.filter == {"s": "x", "t": {"$gt": 1}}
    assert agg.sort == {"ts": -1}
    assert not agg.is_write
    assert parse("db.o.aggregate([{$match: {}}, {$out: 'copy'}])").is_write
    assert parse("db.o.aggregate([{$merge: {into: 'copy'}}])").is_write
    assert parse("db.o.distinct('f', {a: 1})").filter == {"a": 1}
    assert parse("db.o.find({}, {}, {sort: {a: 1}, limit: 3})").sort == {"a": 1}
    assert parse("db.o.find({}, {}, {sort: {a: 1}, limit: 3})").limit == 3


def test_collection_addressing():
    assert parse("db.system.profile.find()").collection == "system.profile"
    assert parse('db.getCollection("order items").find()').collection == "order items"
    assert parse("db['order-items'].find()").collection == "order-items"
    q = parse('db.getSiblingDB("archive").orders.find()')
    assert (q.database, q.collection) == ("archive", "orders")
    q = parse('db.getSiblingDB("archive").getCollection("a.b").find()')
    assert (q.database, q.collection) == ("archive", "a.b")
    # A collection named like a database method is still a collection when followed by '.'.
    assert parse("db.stats.find()").collection == "stats"


def test_show_and_use():
    assert parse("show dbs").target == "dbs"
    assert parse("show databases").target == "dbs"
    assert parse("show collections").target == "collections"
    q = parse("use shop_2024")
    assert (q.method, q.target, q.is_write) == ("use", "shop_2024", False)


def test_explain_forms():
    a = parse('db.orders.find({a: 1}).sort({b: 1}).explain("executionStats")')
    b = parse('db.orders.explain("executionStats").find({a: 1}).sort({b: 1})')
    assert a.explain == b.explain == "executionStats"
    assert a.filter == b.filter and a.sort == b.sort
    assert parse("db.orders.find().explain()").explain == "queryPlanner"
    assert parse("db.orders.find().explain(true)").explain == "allPlansExecution"
    explained_delete = parse("db.orders.explain('executionStats').deleteMany({})")
    assert explained_delete.method == "deleteMany" and not explained_delete.is_write


def test_legacy_cursor_count_becomes_count_documents():
    q = parse("db.orders.find({status: 'paid'}).count()")
    assert (q.method, q.filter) == ("countDocuments", {"status": "paid"})


def test_scripts_split_on_semicolons_and_new_lines():
    text = "use shop\ndb.orders.find({a: 1})\n   .sort({b: -1})\n   .limit(3); db.orders.countDocuments({})\n\n// done\n"
    queries = parse_script(text)
    assert [q.method for q in queries] == ["use", "find", "countDocuments"]
    assert queries[1].sort == {"b": -1} and queries[1].limit == 3
    assert queries[2].start == text.index("db.orders.countDocuments")


def test_parse_rejects_several_statements():
    with pytest.raises(QueryError) as err:
        parse("db.a.find(); db.b.find()")
    assert err.value.position == 14


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("db.orders.fnd({})", 11, "did you mean 'find'"),
        ("db.orders.find({status: 'paid'", 31, "expected ',' or '}' in object"),
        ('db.orders.find({_id: ObjectId("xyz")})', 31, "is not 24 hex digits"),
        ("db.orders.deleteMany()", 11, "pass {} to match every document"),
        ("db.orders.find({status: paid})", 25, "unknown name 'paid'"),
        ("db.orders.find({a: 1 b: 2})", 22, "expected ',' or '}'"),
        ("db.orders.find({a: 'x})", 20, "unterminated string"),
        ("db.orders.find().sortt({a: 1})", 18, "did you mean 'sort'"),
        ("db.orders.find().limit(-1)", 24, "non-negative"),
        ("db.orders.find().limit(2.5)", 24, "whole number"),
        ("db.orders.aggregate({$match: {}})", 21, "array of objects"),
        ("db.orders.insertOne()", 11, "needs 1 argument"),
        ("db.orders.find({}, {}, {}, {})", 28, "at most 3 arguments"),
        ("db.orders.countDocuments({}).sort({a: 1})", 30, "does not return a cursor"),
        ('db.o.find({t: ISODate("yesterday")})', 23, "is not an ISO-8601 date"),
        ("db.o.find({n: NumberLong('12x')})", 26, "is not an integer"),
        ("db.o.find({n: NumberInt(3000000000)})", 25, "does not fit in 32 bits"),
        ("db.o.find({a: /x/g})", 18, "unsupported regular expression flag 'g'"),
        ("db.o.find({a: 12abc})", 15, "malformed number"),
        ("select * from orders", 1, "starts with db."),
        ("db.orders.find() db.x.find()", 18, "expected ';' or a new line"),
        ("db.o.find({a: 1}) /* open", 19, "unterminated /* comment"),
        ("show tables_x", 6, "unknown show target"),
        ("db.o.find().explain('fast')", 21, "explain verbosity"),
        ("", 1, "nothing to run"),
        ("db.nosuch()", 4, "unknown database method"),
        ("db.o.find({a: new Foo(1)})", 19, "unknown constructor"),
    ],
)
def test_errors_have_positions(text, position, fragment):
    with pytest.raises(QueryError) as err:
        parse(text)
    assert fragment in err.value.message
    assert err.value.position == position, err.value.one_line()
    assert err.value.statement == text


def test_error_line_and_column_in_multiline_text():
    text = "db.orders.find({\n  status: 'paid',\n  total: {$gt: }\n})"
    with pytest.raises(QueryError) as err:
        parse(text)
    assert err.value.line_column == (3, 16)
    assert "expected a value" in err.value.one_line()


STATEMENTS = [
    'db.orders.find({status: "paid", "a.b": {$in: [1, 2]}}, {total: 1}).sort({ts: -1}).skip(5).limit(20)',
    "db.orders.aggregate([{$match: {ts: {$gte: ISODate('2024-01-01')}}}, {$group: {_id: '$c', n: {$sum: 1}}}])",
    'db.getCollection("x y").updateMany({_id: ObjectId("65a1b2c3d4e5f60718293a4b")}, {$set: {n: NumberLong(5), p: NumberDecimal("1.5")}})',
    "db.c.find({re: /^a.*z$/i, u: UUID('3b241101-e2bb-4255-8caf-4136c566a962'), nested: {deep: [1, {x: null}]}})",
    "db.getSiblingDB('archive').events.deleteMany({kind: 'x'})",
]


@pytest.mark.parametrize("text", STATEMENTS)
def test_format_query_round_trips(text):
    q = parse(text)
    again = parse(format_query(q))
    assert (again.method, again.collection, again.database, again.args, again.modifiers) == (
        q.method, q.collection, q.database, q.args, q.modifiers,
    )


@pytest.mark.parametrize("text", STATEMENTS)
def test_every_prefix_either_parses_or_raises_query_error(text):
    for end in range(len(text)):
        try:
            parse(text[:end])
        except QueryError as exc:
            assert exc.position is not None and 1 <= exc.position <= end + 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='db.ofind({}[]:,"\'/$ 1-2eE.x\n;()*NObjectIdISODate', max_size=60))
def test_arbitrary_text_raises_only_query_error(text):
    try:
        parse_script(text)
    except QueryError as exc:
        assert exc.position is not None and 1 <= exc.position <= len(text) + 1


def test_format_value_output_parses_back():
    value = {
        "s": 'quote " and \\ backslash\n',
        "key with space": [1, -2.5, None, True, False],
        "$gt": dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
        "oid": ObjectIdValue("65a1b2c3d4e5f60718293a4b"),
        "long": Int64Value(-9),
        "dec": decimal.Decimal("0.1"),
        "re": RegexValue("a/b", "i"),
    }
    text = f"db.c.insertOne({format_value(value)})"
    assert parse(text).documents[0] == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('db.runCommand({createUser: "bob", pwd: "s3cret", roles: []})', 'db.runCommand({createUser: "bob", pwd: "***", roles: []})'),
        ("db.createUser({user: 'x', 'pwd': 'it\\'s', roles: ['read']})", "db.createUser({user: 'x', 'pwd': \"***\", roles: ['read']})"),
        ('db.changeUserPassword("bob", "n3w")', 'db.changeUserPassword("bob", "***")'),
        ('db.runCommand({updateUser: "u", Password: "p"})', 'db.runCommand({updateUser: "u", Password: "***"})'),
        ('db.c.find({note: "password: x"})', 'db.c.find({note: "password: x"})'),
        ("db.c.insertOne({url: 'mongodb://u:pw@h/x'})", "db.c.insertOne({url: 'mongodb://u:***@h/x'})"),
    ],
)
def test_redact_secrets(text, expected):
    from aishell.engine.mongo.shell import redact_secrets

    assert redact_secrets(text) == expected


def test_arithmetic_and_date_now():
    before = dt.datetime.now(UTC)
    q = parse(
        "db.o.find({ts: {$gte: new Date(Date.now() - 7 * 24 * 3600 * 1000)}, n: (1 + 2) * 3, h: 10 / 4, "
        "whole: 10 / 2, m: 7 % 3, s: 'a' + \"b\", neg: -2 - -3, d: 1 - 0.5}).limit(10 * 2)"
    )
    week_ago = q.filter["ts"]["$gte"]
    assert before - dt.timedelta(days=7, seconds=5) < week_ago <= dt.datetime.now(UTC) - dt.timedelta(days=7)
    assert {k: q.filter[k] for k in ("n", "h", "whole", "m", "s", "neg", "d")} == {
        "n": 9, "h": 2.5, "whole": 5, "m": 1, "s": "ab", "neg": 1, "d": 0.5,
    }
    assert type(q.filter["whole"]) is int and q.limit == 20


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("db.o.find({a: 'x' - 1})", 15, "needs two numbers"),
        ("db.o.find({a: 1 +})", 18, "expected a value"),
        ("db.o.find({a: (1 + 2})", 21, "to close the parenthesis"),
        ("db.o.find({a: true * 2})", 15, "needs two numbers"),
    ],
)
def test_arithmetic_errors(text, position, fragment):
    with pytest.raises(QueryError) as err:
        parse(text)
    assert fragment in err.value.message and err.value.position == position


@pytest.mark.parametrize(
    ("text", "method", "args"),
    [
        ("db.o.insert({a: 1})", "insertOne", ({"a": 1},)),
        ("db.o.insert([{a: 1}, {a: 2}])", "insertMany", ([{"a": 1}, {"a": 2}],)),
        ("db.o.remove({})", "deleteMany", ({},)),
        ("db.o.remove({a: 1}, true)", "deleteOne", ({"a": 1},)),
        ("db.o.remove({a: 1}, {justOne: true, collation: {locale: 'en'}})", "deleteOne", ({"a": 1}, {"collation": {"locale": "en"}})),
        ("db.o.update({a: 1}, {$set: {b: 2}})", "updateOne", ({"a": 1}, {"$set": {"b": 2}})),
        ("db.o.update({a: 1}, {$set: {b: 2}}, {multi: true, upsert: true})", "updateMany", ({"a": 1}, {"$set": {"b": 2}}, {"upsert": True})),
        ("db.o.update({a: 1}, {b: 2})", "replaceOne", ({"a": 1}, {"b": 2})),
    ],
)
def test_legacy_methods_read_as_their_replacements(text, method, args):
    q = parse(text)
    assert (q.method, q.args, q.is_write) == (method, args, True)


def test_legacy_mistakes():
    with pytest.raises(QueryError, match="a document or an array"):
        parse("db.o.insert(5)")
    with pytest.raises(QueryError, match="needs update operators"):
        parse("db.o.update({a: 1}, {b: 2}, {multi: true})")
