"""Explain reading, findings, ESR index advice, destructive statements and fingerprints.

The fixtures in tests/fixtures/mongo/ follow the executionStats structure MongoDB documents
(classic plans, slot-based plans of 7.0, sharded SHARD_MERGE, aggregation $cursor stages,
write explains, a failed execution).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aishell.engine.analyzer.mongo.explain import (
    classify_filter,
    findings,
    plan_rows,
    read_explain,
    suggest_index,
)
from aishell.engine.statements.fingerprint import digest, normalize_query as normalize
from aishell.engine.statements import fingerprint as fingerprints
from aishell.engine.statements.mongo import describe, is_destructive
from aishell.engine.mongo.shell import parse
from aishell.engine.types import IndexInfo

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mongo"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def codes(found) -> list[str]:
    return [f.code for f in found]


# -- reading plans ------------------------------------------------------------------------------


def test_collscan_totals_and_stages():
    s = read_explain(load("collscan"))
    assert s.namespace == "shop.orders"
    assert (s.n_returned, s.docs_examined, s.keys_examined, s.time_ms) == (1204, 50000, 0, 38)
    assert [st.stage for st in s.stages] == ["COLLSCAN"]
    assert s.collscans[0].docs_examined == 50000
    assert s.has_execution_stats and not s.slot_based


def test_ixscan_fetch_nesting():
    s = read_explain(load("ixscan_fetch_filter"))
    assert [(st.stage, st.depth) for st in s.stages] == [("FETCH", 0), ("IXSCAN", 1)]
    ix = s.stages[1]
    assert (ix.index_name, ix.key_pattern, ix.keys_examined) == ("status_1", {"status": 1}, 12000)
    assert s.stages[0].filter == {"total": {"$gt": 500}}
    assert s.index_names == ["status_1"]


def test_sort_stage_is_blocking():
    s = read_explain(load("sort_in_memory"))
    sort = s.blocking_sorts[0]
    assert (sort.stage, sort.sort_pattern, sort.memory_bytes, sort.used_disk) == ("SORT", {"ts": -1}, 5240123, False)
    assert plan_rows(s)[0][0] == "SORT {ts: -1}"
    assert plan_rows(s)[2][0] == "    IXSCAN status_1"


def test_slot_based_plan_uses_query_plan_and_totals():
    s = read_explain(load("sbe_collscan"))
    assert s.slot_based
    assert [st.stage for st in s.stages] == ["COLLSCAN"]  # not the SBE "filter"/"scan" nodes
    assert (s.docs_examined, s.n_returned) == (250000, 12)


def test_shard_merge_reads_every_shard():
    s = read_explain(load("shard_merge"))
    assert s.shards == ["shard-a", "shard-b"]
    assert s.namespace == "shop.events"
    scans = s.collscans
    assert [(c.shard, c.docs_examined) for c in scans] == [("shard-a", 40000), ("shard-b", 40000)]
    assert s.stages[0].stage == "SHARD_MERGE" and s.stages[1].depth == 1 and scans[0].depth == 2
    assert (s.n_returned, s.docs_examined) == (1500, 80000)


def test_aggregation_cursor_stage_and_pipeline():
    s = read_explain(load("aggregate_cursor"))
    assert s.pipeline_stages == ["$group", "$sort"]
    assert s.docs_examined == 50000
    assert [st.stage for st in s.stages] == ["PROJECTION_SIMPLE", "COLLSCAN", "$sort"]
    # A $sort of $group's output cannot use an index: not reported as avoidable.
    assert s.blocking_sorts == []


def test_or_plan_with_input_stages():
    s = read_explain(load("or_stage"))
    assert [st.stage for st in s.stages] == ["SUBPLAN", "FETCH", "OR", "IXSCAN", "IXSCAN"]
    assert s.index_names == ["status_1", "priority_1"]


def test_queryplanner_only_has_no_counts():
    doc = load("collscan")
    del doc["executionStats"]
    s = read_explain(doc)
    assert not s.has_execution_stats and s.collscans
    found = findings(s, parse('db.orders.find({status: "paid"})'))
    assert codes(found) == ["MG001"] and found[0].severity == "info"


# -- findings -----------------------------------------------------------------------------------


def test_collscan_finding_with_index_advice():
    found = findings(read_explain(load("collscan")), parse('db.orders.find({status: "paid"})'))
    assert codes(found) == ["MG001"]
    f = found[0]
    assert f.severity == "warning"
    assert "50,000 documents" in f.message and "1,204" in f.message
    assert f.index is not None and f.index.command == "db.orders.createIndex({status: 1})"
    assert "db.orders.createIndex({status: 1})" in f.suggestion


def test_small_collscan_is_not_reported():
    doc = load("collscan")
    doc["executionStats"]["totalDocsExamined"] = 300
    doc["executionStats"]["executionStages"]["docsExamined"] = 300
    assert findings(read_explain(doc), parse('db.orders.find({status: "paid"})')) == []


def test_poor_ratio_on_an_index_suggests_extending_it():
    q = parse('db.orders.find({status: "paid", total: {$gt: 500}})')
    indexes = [IndexInfo("_id_", ("_id",), True, True), IndexInfo("status_1", ("status",))]
    found = findings(read_explain(load("ixscan_fetch_filter")), q, indexes)
    assert codes(found) == ["MG002"]
    assert "300:1" in found[0].message
    assert found[0].index.key_document == {"status": 1, "total": 1}


def test_in_memory_sort_finding_and_esr_index():
    q = parse('db.orders.find({status: "paid"}).sort({ts: -1}).limit(20)')
    found = findings(read_explain(load("sort_in_memory")), q)
    # Every match had to be read before the limit: the ratio is measured against the sort's input.
    assert codes(found) == ["MG003"]
    assert "sorted {ts: -1} in memory, 5.0 MB" in found[0].message
    assert found[0].index.command == "db.orders.createIndex({status: 1, ts: -1})"


def test_index_walked_in_order_gives_no_findings():
    q = parse('db.orders.find({status: "paid"}).sort({ts: -1}).limit(20)')
    assert findings(read_explain(load("index_in_order")), q) == []


def test_shard_merge_collscan_names_shards():
    found = findings(read_explain(load("shard_merge")), parse('db.events.find({kind: "click"})'))
    assert codes(found) == ["MG001"]
    assert "shard-a, shard-b" in found[0].message


def test_failed_execution_and_disk_sort():
    found = findings(read_explain(load("failed_sort")), parse("db.events.find().sort({payload: 1})"))
    assert codes(found) == ["MG004", "MG001", "MG003"]
    assert "Sort exceeded memory limit" in found[0].message and found[0].severity == "error"
    assert found[2].index.command == "db.events.createIndex({payload: 1})"


def test_delete_explain_counts_matches_at_the_scan():
    found = findings(
        read_explain(load("delete_collscan")),
        parse('db.sessions.deleteMany({expires: {$lt: ISODate("2024-06-01")}})'),
    )
    assert codes(found) == ["MG001"]
    assert "read 90,000 documents to find 5,000" in found[0].message
    assert found[0].index.command == "db.sessions.createIndex({expires: 1})"


def test_thresholds_are_parameters():
    s = read_explain(load("ixscan_fetch_filter"))
    q = parse('db.orders.find({status: "paid", total: {$gt: 500}})')
    assert findings(s, q, max_ratio=1000) == []
    assert findings(s, q, min_docs=20000) == []


# -- ESR advice ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ('db.o.find({status: "paid", total: {$gt: 100}}).sort({ts: -1})', {"status": 1, "ts": -1, "total": 1}),
        ("db.o.find({total: {$gte: 5, $lt: 9}, status: 'x', region: 'eu'})", {"status": 1, "region": 1, "total": 1}),
        ("db.o.find({sku: {$in: ['a', 'b']}}).sort({qty: 1, ts: -1})", {"sku": 1, "qty": 1, "ts": -1}),
        ("db.o.find({name: /^Ann/})", {"name": 1}),
        ("db.o.find({$and: [{a: 1}, {b: {$gte: 2}}]})", {"a": 1, "b": 1}),
        ("db.o.find({a: 1, b: {$ne: 2}, c: /x/, d: /^y/i, e: {$regex: '^z'}})", {"a": 1, "e": 1}),
        ("db.o.find({a: 1, $or: [{b: 1}, {c: 2}]})", {"a": 1}),
        ("db.o.find({a: {$eq: 3}}).sort({a: 1, b: 1})", {"a": 1, "b": 1}),
        ("db.o.find({}).sort({ts: -1})", {"ts": -1}),
        ("db.o.find({ts: {$gt: 1}}).sort({ts: 1})", {"ts": 1}),
        ("db.o.aggregate([{$match: {s: 1}}, {$sort: {t: -1}}, {$group: {_id: '$c'}}])", {"s": 1, "t": -1}),
        ("db.o.countDocuments({s: 1, n: {$lte: 4}})", {"s": 1, "n": 1}),
        ("db.o.updateMany({s: 'old'}, {$set: {s: 'new'}})", {"s": 1}),
        ("db.o.find({'address.city': 'Oslo', age: {$exists: true}})", {"address.city": 1, "age": 1}),
        ("db.o.find({doc: {x: 1, y: 2}})", {"doc": 1}),
    ],
)
def test_esr_order(text, keys):
    advice = suggest_index(parse(text))
    assert advice is not None and advice.key_document == keys


def test_esr_parts_and_reason():
    advice = suggest_index(parse('db.o.find({status: "paid", total: {$gt: 100}}).sort({ts: -1})'))
    assert (advice.equality, advice.sort, advice.range) == (("status",), ("ts",), ("total",))
    assert advice.reason == "equality on status, then sort on ts, then range on total (equality → sort → range)"


@pytest.mark.parametrize(
    "text",
    [
        "db.o.find({_id: ObjectId('65a1b2c3d4e5f60718293a4b'), a: 1})",  # point lookup on _id
        "db.o.find({$or: [{a: 1}, {b: 2}]})",
        "db.o.find({$expr: {$gt: ['$a', '$b']}})",
        "db.o.find({})",
        "db.o.insertOne({a: 1})",
        "db.o.find({tags: {$size: 3}})",
        "db.o.find({items: {$elemMatch: {sku: 'A', qty: {$gt: 1}}}})",
        "show dbs",
    ],
)
def test_no_advice(text):
    assert suggest_index(parse(text)) is None


def test_existing_index_with_the_same_prefix_suppresses_advice():
    q = parse('db.o.find({status: "paid"}).sort({ts: -1})')
    assert suggest_index(q, [IndexInfo("status_1_ts_-1_total_1", ("status", "ts", "total"))]) is None
    assert suggest_index(q, [IndexInfo("status_1", ("status",))]).key_document == {"status": 1, "ts": -1}


def test_classify_filter():
    assert classify_filter({"a": 1, "b": {"$gt": 2}, "c": {"$in": [1]}, "d": {"$in": [1], "$gt": 0}}) == (
        ["a", "c"],
        ["b", "d"],
    )


# -- destructive statements ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("db.orders.deleteMany({})", "deleteMany({}) deletes every document in orders"),
        ("db.orders.deleteMany({$and: []})", "deleteMany({}) deletes every document in orders"),
        ("db.orders.updateMany({}, {$set: {a: 1}})", "updateMany({}) changes every document in orders"),
        ("db.orders.drop()", "drop() removes the collection orders with its documents and indexes"),
        ("db.orders.dropIndex('status_1')", 'dropIndex() removes the index "status_1" from orders'),
        ("db.dropDatabase()", "dropDatabase() removes the database with every collection"),
        ("db.orders.aggregate([{$match: {}}, {$out: 'summary'}])", "$out replaces the collection summary"),
        ("db.runCommand({drop: 'orders'})", "runCommand(drop) removes orders"),
        ("db.runCommand({delete: 'orders', deletes: [{q: {}, limit: 0}]})", "runCommand(delete) deletes every document in orders"),
    ],
)
def test_destructive(text, reason):
    found = is_destructive(parse(text))
    assert found is not None and found.startswith(reason)


@pytest.mark.parametrize(
    "text",
    [
        "db.orders.deleteMany({status: 'void'})",
        "db.orders.deleteOne({})",
        "db.orders.updateMany({a: 1}, {$set: {a: 2}})",
        "db.orders.find({})",
        "db.orders.explain('executionStats').deleteMany({})",
        "db.orders.aggregate([{$merge: {into: 'x'}}])",
        "db.runCommand({delete: 'orders', deletes: [{q: {}, limit: 1}]})",
    ],
)
def test_not_destructive(text):
    assert is_destructive(parse(text)) is None


# -- fingerprints -------------------------------------------------------------------------------


def fingerprint(query) -> str:
    return digest(normalize(query))


def fingerprint_text(text: str) -> tuple[str, str]:
    return fingerprints.normalize(text, "mongo"), fingerprints.fingerprint(text, "mongo")


def test_fingerprint_strips_literals_but_keeps_shape():
    a = parse('db.orders.find({status: "paid", qty: {$in: [1, 2, 3]}}, {total: 1}).sort({ts: -1}).limit(20)')
    b = parse("db.orders.find({status: 'open', qty: {$in: [7]}}, {total: 1}).sort({ts: -1}).limit(5)")
    c = parse("db.orders.find({status: 'open', qty: {$in: [7]}}, {total: 1}).sort({ts: 1}).limit(5)")
    d = parse("db.orders.find({state: 'open', qty: {$in: [7]}}, {total: 1}).sort({ts: -1}).limit(5)")
    assert normalize(a) == 'db.orders.find({status: ?, qty: {$in: [?]}}, {total: 1}).sort({ts: -1}).limit(?)'
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)  # the sort order changes the plan
    assert fingerprint(a) != fingerprint(d)
    assert len(fingerprint(a)) == 16


def test_fingerprint_of_pipelines_writes_and_scripts():
    agg = parse(
        "db.orders.aggregate([{$match: {ts: {$gte: ISODate('2024-01-01')}}}, "
        "{$group: {_id: '$customer', n: {$sum: 1}}}, {$sort: {n: -1}}, {$limit: 10}])"
    )
    assert normalize(agg) == (
        'db.orders.aggregate([{$match: {ts: {$gte: ?}}}, {$group: {_id: "$customer", n: {$sum: ?}}}, '
        "{$sort: {n: -1}}, {$limit: ?}])"
    )
    ins3 = parse("db.o.insertMany([{a: 1, b: 'x'}, {a: 2, b: 'y'}, {a: 3, b: 'z'}])")
    ins1 = parse("db.o.insertMany([{a: 9, b: 'q'}])")
    assert fingerprint(ins3) == fingerprint(ins1)
    assert normalize(parse("db.o.updateOne({a: 1}, {$set: {b: 2}}, {upsert: true})")) == (
        "db.o.updateOne({a: ?}, {$set: {b: ?}}, {upsert: true})"
    )
    assert normalize(parse("db.o.createIndex({a: 1, b: -1}, {unique: true})")) == "db.o.createIndex({a: 1, b: -1}, {unique: true})"
    assert normalize(parse('db.getCollection("my-coll").find({"a.b": 1})')) == 'db.getCollection("my-coll").find({"a.b": ?})'
    text, digest = fingerprint_text("use shop\ndb.o.find({a: 1})")
    assert text == "use shop; db.o.find({a: ?})"
    assert digest == fingerprint_text("use shop; db.o.find({a: 2})")[1]


def test_describe_for_session_and_tui():
    info = describe("db.orders.deleteMany({})")
    assert (info.kind, info.writes, info.destructive) == ("delete", frozenset({"orders"}), True)
    info = describe("db.orders.find({a: 1})")
    assert info.is_read_only and info.reads == frozenset({"orders"})
    info = describe("db.orders.aggregate([{$lookup: {from: 'customers', localField: 'c', foreignField: '_id', as: 'cust'}}, {$out: 'report'}])")
    assert info.reads == frozenset({"orders", "customers"}) and info.writes == frozenset({"report"})
    assert info.destructive and info.is_write
    assert describe("db.orders.find({").kind == "unknown"
    assert describe("db.runCommand({dropDatabase: 1})").destructive


# -- advice without a server ----------------------------------------------------------------------


def _schema(rows: int = 50_000, indexes=(("_id_", ("_id",)),)):
    from aishell.engine.types import SchemaInfo, TableInfo

    schema = SchemaInfo(search_path=("shop",))
    schema.add(TableInfo("shop", "orders", "collection", rows, [], [IndexInfo(n, c, n == "_id_", n == "_id_") for n, c in indexes]))
    return schema


def test_static_parse_error_has_line_and_column():
    from aishell.engine.analyzer.mongo.explain import static_findings

    [f] = static_findings("db.orders.find({\n  a: ")
    assert (f.code, f.severity, f.line, f.column) == ("MG000", "error", 2, 6)


def test_static_no_index_uses_the_catalog():
    from aishell.engine.analyzer.mongo.explain import static_findings

    text = 'use shop\ndb.orders.find({status: "paid"}).sort({ts: -1})'
    [f] = static_findings(text, _schema())
    assert (f.code, f.line, f.column) == ("MG006", 2, 1)
    assert f.index.command == "db.orders.createIndex({status: 1, ts: -1})"
    assert "50,000 documents" in f.message and "filter and sort" in f.message
    assert static_findings(text, _schema(rows=500)) == []  # small collection
    assert static_findings(text, _schema(indexes=(("_id_", ("_id",)), ("status_1", ("status",))))) == []
    assert static_findings(text) == []  # no catalog, no claim


def test_static_destructive_weak_conditions_and_deep_skip():
    from aishell.engine.analyzer.mongo.explain import static_findings

    assert codes(static_findings("db.orders.deleteMany({})")) == ["MG005"]
    found = static_findings("db.orders.find({a: /x/, b: /^y/i, $where: 'this.a > 1', c: {$ne: 1}, d: /^ok/}).skip(5000)")
    assert codes(found) == ["MG007"] * 4 + ["MG008"]
    assert [f.severity for f in found[:4]] == ["info", "info", "warning", "info"]
    assert "unanchored regex on a" in found[0].message and "skip(5,000)" in found[4].message
    assert static_findings("db.orders.find({d: /^ok/}).skip(10)") == []


# -- result cache plans ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cacheable", "reads", "writes", "clears_all", "reason"),
    [
        ("db.orders.find({a: 1}).sort({b: 1})", True, {"orders"}, set(), False, ""),
        ("db.orders.aggregate([{$lookup: {from: 'customers'}}, {$unionWith: 'archive'}])", True, {"orders", "customers", "archive"}, set(), False, ""),
        ("db.orders.countDocuments({})", True, {"orders"}, set(), False, ""),
        ("db.orders.aggregate([{$sample: {size: 3}}])", False, {"orders"}, set(), False, "volatile $sample"),
        ("db.orders.find({$expr: {$lt: ['$ts', '$$NOW']}})", False, {"orders"}, set(), False, "volatile $$NOW"),
        ("db.orders.find({ts: {$lt: new Date()}})", False, {"orders"}, set(), False, "time-dependent value"),
        ("db.orders.find().explain('executionStats')", False, {"orders"}, set(), False, "explain"),
        ("db.a.find(); db.b.find()", False, {"a", "b"}, set(), False, "more than one statement"),
        ("show collections", False, set(), set(), False, "not a query"),
        ("db.orders.insertOne({a: 1})", False, set(), {"orders"}, False, "writes"),
        ("db.orders.aggregate([{$out: 'report'}])", False, {"orders"}, {"report"}, False, "writes"),
        ("use archive", False, set(), set(), True, "changes the database"),
        ("db.dropDatabase()", False, set(), set(), True, "changes the database"),
        ("db.runCommand({drop: 'orders'})", False, set(), set(), True, "a command that may change anything"),
        ("db.orders.find({", False, set(), set(), True, "statement not understood"),
    ],
)
def test_cache_plan(text, cacheable, reads, writes, clears_all, reason):
    from aishell.engine.statements.mongo import plan as cache_plan

    p = cache_plan(text)
    assert (p.cacheable, set(p.reads), set(p.writes), p.clears_all, p.reason) == (cacheable, reads, writes, clears_all, reason)


def test_cache_plan_marks_index_changes_as_ddl():
    from aishell.engine.statements.mongo import plan as cache_plan

    assert cache_plan("db.orders.createIndex({a: 1})").ddl
    assert not cache_plan("db.orders.updateMany({a: 1}, {$set: {b: 1}})").ddl


def test_cache_plan_refuses_date_now():
    from aishell.engine.statements.mongo import plan as cache_plan

    assert cache_plan("db.o.find({ts: {$gt: Date.now() - 1000}})").reason == "time-dependent value"


# -- in the analyzer's shapes ---------------------------------------------------------------------


def test_analysis_for_the_suggestions_pane():
    from aishell.engine.analyzer.findings import Analysis, Finding
    from aishell.engine.analyzer.mongo.report import analysis

    result = analysis("use shop\ndb.orders.deleteMany({})\ndb.orders.find({status: 'x'}).sort({ts: -1})", _schema())
    assert isinstance(result, Analysis) and result.statements == 3
    assert all(isinstance(f, Finding) for f in result.findings)
    assert [(f.code, f.line, f.column, f.statement) for f in result.findings] == [("MG005", 2, 1, 1), ("MG006", 3, 1, 2)]
    assert result.findings[1].suggestion == "db.orders.createIndex({status: 1, ts: -1})"
    assert result.findings[1].candidate.columns == ("status", "ts")
    broken = analysis("db.orders.find({")
    assert [(f.code, f.severity, f.line, f.column) for f in broken.findings] == [("MG000", "error", 1, 17)]
    assert broken.worst() == "error"


def test_plan_report_from_explain_output():
    from aishell.engine.analyzer.plan import PlanReport
    from aishell.engine.analyzer.mongo.report import plan_report

    q = parse('db.orders.find({status: "paid"}).sort({ts: -1}).limit(20)')
    report = plan_report(load("sort_in_memory"), q)
    assert isinstance(report, PlanReport) and report.dialect == "mongo" and report.analyzed
    assert report.summary == "index status_1: 30,211 documents and 30,211 keys examined, 20 returned in 64 ms"
    assert [(n.depth, n.label()) for n in report.nodes] == [(0, "SORT"), (1, "FETCH on orders"), (2, "IXSCAN on orders using status_1")]
    assert report.nodes[2].detail == "30,211 keys examined" and report.execution_ms == 64.0
    assert [(f.code, f.suggestion) for f in report.findings] == [("MG003", "db.orders.createIndex({status: 1, ts: -1})")]
    planned = load("collscan")
    del planned["executionStats"]
    report = plan_report(planned, parse('db.orders.find({status: "paid"})'), analyzed=False)
    assert report.summary == "collection scan (planned, not run)" and not report.analyzed
    sharded = plan_report(load("shard_merge"), parse("db.events.find({kind: 'click'})"))
    assert sharded.summary.endswith("across 2 shards") and sharded.nodes[2].detail == "shard shard-a, 40,000 docs examined"


def test_typed_explain_shows_the_plan_grid_with_findings_in_the_status():
    # What a typed db.c.find().explain() shows: the driver returns the server's reply unread and
    # the Session hands it to this reader (drivers never import the analyzer).
    from aishell.engine.analyzer.mongo.explain import PLAN_COLUMNS
    from aishell.engine.analyzer.mongo.report import plan_result

    q = parse('db.orders.find({status: "paid"}).sort({ts: -1}).limit(20).explain("executionStats")')
    result = plan_result(load("sort_in_memory"), q)
    assert [c.name for c in result.columns] == list(PLAN_COLUMNS)
    assert [r[0] for r in result.rows] == ["SORT {ts: -1}", "  FETCH", "    IXSCAN status_1"]
    assert result.rowcount == 3 and result.status.startswith("EXPLAIN: ") and "sort" in result.status.lower()
    quiet = plan_result(load("index_in_order"), parse("db.orders.find({status: 'paid'}).sort({ts: -1}).explain()"))
    assert quiet.status == "EXPLAIN"


def test_advice_recommends_each_index_once():
    from aishell.engine.analyzer.advisor import Advice
    from aishell.engine.analyzer.mongo.report import advice

    found = findings(read_explain(load("failed_sort")), parse("db.events.find().sort({payload: 1})"))
    result = advice(found)
    assert isinstance(result, Advice) and not result.hypopg
    assert [r.statement for r in result.recommended] == ["db.events.createIndex({payload: 1})"]
    assert [f.code for f in result.findings] == ["MG004", "MG001", "MG003"]
    assert advice([]).message == "no index would help this query"


def test_statements_describe_routes_mongo_for_the_tui_confirmation():
    from aishell.engine.statements import describe as describe_any

    info = describe_any("db.orders.updateMany({}, {$set: {archived: true}})", "mongo")
    assert info.destructive and info.reason == "updateMany({}) changes every document in orders"
    assert describe_any("db.orders.createIndex({a: 1})", "mongo").kind == "ddl"
    assert describe_any("DELETE FROM orders", "postgres").destructive  # SQL untouched
