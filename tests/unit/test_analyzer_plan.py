"""Plan reading without a server: PostgreSQL EXPLAIN (FORMAT JSON) documents and SQLite EXPLAIN
QUERY PLAN rows, in the shapes the servers return (the live versions are in
tests/integration/test_analyzer_pg.py)."""

from __future__ import annotations

from aishell.engine.analyzer.findings import IndexCandidate
from aishell.engine.analyzer.plan import read_postgres_plan, read_sqlite_plan
from aishell.engine.config import AnalyzerSettings


def seq_scan(rows=1.0, actual=None, removed=None, relation="accounts"):
    node = {
        "Node Type": "Seq Scan", "Relation Name": relation, "Alias": relation,
        "Startup Cost": 0.0, "Total Cost": 2890.0, "Plan Rows": rows, "Plan Width": 97,
        "Filter": "(abalance = 5)",
    }
    if actual is not None:
        node.update({"Actual Startup Time": 0.01, "Actual Total Time": 9.5, "Actual Rows": actual, "Actual Loops": 1,
                     "Rows Removed by Filter": removed})
    return node


def codes(report):
    return [f.code for f in report.findings]


def test_selective_seq_scan_on_a_large_table():
    report = read_postgres_plan([{"Plan": seq_scan()}], sizes={"accounts": 100_000})
    assert codes(report) == ["AS101"]
    finding = report.findings[0]
    assert finding.candidate == IndexCandidate("accounts", ("abalance",))
    assert finding.suggestion == "CREATE INDEX ON accounts (abalance);"
    assert report.total_cost == 2890.0 and not report.analyzed
    assert report.summary.startswith("Seq Scan on accounts  (cost=2890.00 rows=1)")


def test_seq_scan_small_or_unselective_is_fine():
    assert codes(read_postgres_plan([{"Plan": seq_scan()}], sizes={"accounts": 500})) == []
    assert codes(read_postgres_plan([{"Plan": seq_scan(rows=60_000)}], sizes={"accounts": 100_000})) == []


def test_analyzed_plan_uses_actual_rows_and_reports_slowest_and_misestimate():
    document = [{"Plan": seq_scan(rows=1.0, actual=5000, removed=95_000), "Planning Time": 0.1, "Execution Time": 9.6}]
    report = read_postgres_plan(document)
    assert report.analyzed and report.execution_ms == 9.6
    assert codes(report) == ["AS101", "AS102", "AS105"]
    assert "estimated 1 rows, got 5,000" in report.findings[1].message
    assert report.findings[2].message.startswith("slowest step: Seq Scan on accounts took 9.50 ms")


def test_sort_spill_and_hash_batches():
    sort = {"Node Type": "Sort", "Total Cost": 10.0, "Plan Rows": 10, "Sort Method": "external merge",
            "Sort Space Used": 12_000, "Sort Space Type": "Disk", "Plans": [seq_scan(rows=100)]}
    report = read_postgres_plan([{"Plan": sort}])
    assert codes(report) == ["AS103"]
    assert "spilled 12,000 kB" in report.findings[0].message
    assert report.findings[0].suggestion.startswith("SET work_mem = '24MB'")
    hashed = {"Node Type": "Hash", "Hash Batches": 4, "Peak Memory Usage": 4100, "Plans": []}
    assert codes(read_postgres_plan([{"Plan": hashed}])) == ["AS103"]


def test_nested_loop_over_many_rows():
    loop = {
        "Node Type": "Nested Loop", "Total Cost": 1e6, "Plan Rows": 100_000,
        "Plans": [
            dict(seq_scan(rows=100_000), **{"Parent Relationship": "Outer", "Filter": None}),
            {"Node Type": "Seq Scan", "Relation Name": "branches", "Parent Relationship": "Inner", "Plan Rows": 1},
        ],
    }
    report = read_postgres_plan([{"Plan": loop}])
    assert codes(report) == ["AS104"]
    assert "runs its inner side (Seq Scan on branches) 100,000 times" in report.findings[0].message


def test_sqlite_scan_and_temp_btree():
    rows = [(2, 0, 0, "SCAN orders"), (5, 0, 0, "SEARCH customers USING INTEGER PRIMARY KEY (rowid=?)"),
            (9, 0, 0, "USE TEMP B-TREE FOR ORDER BY")]
    report = read_sqlite_plan(rows, sizes={"orders": 26_000, "customers": 6_000})
    assert codes(report) == ["AS101", "AS103"]
    assert report.nodes[1].index == "INTEGER PRIMARY KEY" and report.total_cost is None
    assert read_sqlite_plan(rows, sizes={"orders": 20}).findings == []
    old_style = read_sqlite_plan([(0, 0, 0, "SCAN TABLE orders")], sizes={"orders": 50_000},
                                 settings=AnalyzerSettings(large_table_rows=1000))
    assert codes(old_style) == ["AS101"]


async def test_explain_refuses_several_statements(tmp_path):
    """EXPLAIN of the first statement must not run a second one for real (real SQLite file)."""
    import sqlite3

    import pytest

    from aishell.engine.analyzer.plan import explain
    from aishell.engine.drivers import driver_for
    from aishell.engine.errors import QueryError

    path = tmp_path / "t.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
        db.executemany("INSERT INTO accounts VALUES (?)", [(i,) for i in range(10)])
    conn = await driver_for(str(path)).connect()
    try:
        with pytest.raises(QueryError, match="one statement"):
            await explain(conn, "SELECT 1; DELETE FROM accounts")
        with pytest.raises(QueryError, match="empty"):
            await explain(conn, " ; -- nothing")
        assert (await conn.execute("SELECT count(*) FROM accounts")).rows == [(10,)]
        report = await explain(conn, "SELECT id FROM accounts WHERE id = 3;")
        assert "SEARCH accounts USING INTEGER PRIMARY KEY" in report.summary
    finally:
        await conn.close()


def test_sqlite_automatic_index_from_a_real_plan():
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.executescript("CREATE TABLE a (id INTEGER PRIMARY KEY, x INT); CREATE TABLE b (id INTEGER PRIMARY KEY, a_x INT);")
    db.executemany("INSERT INTO a (x) VALUES (?)", [(i,) for i in range(2000)])
    db.executemany("INSERT INTO b (a_x) VALUES (?)", [(i % 100,) for i in range(2000)])
    db.execute("ANALYZE")
    rows = list(db.execute("EXPLAIN QUERY PLAN SELECT * FROM a JOIN b ON b.a_x = a.x"))
    report = read_sqlite_plan(rows)
    assert [f.code for f in report.findings] == ["AS107"]
    assert report.findings[0].suggestion == "CREATE INDEX idx_b_a_x ON b (a_x);"
    db.execute("CREATE INDEX b_a_x ON b (a_x)")
    assert read_sqlite_plan(list(db.execute("EXPLAIN QUERY PLAN SELECT * FROM a JOIN b ON b.a_x = a.x"))).findings == []
