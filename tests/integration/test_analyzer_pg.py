"""The analyzer against the real throwaway PostgreSQL 15 (pgbench schema plus tables made here,
HypoPG for hypothetical indexes) and real SQLite (the demo database): schema-aware rules,
EXPLAIN reading (plain and ANALYZE), index advice, the Session facade and the CLI."""

from __future__ import annotations

import asyncio
import json

import pytest

from aishell.engine.analyzer import analyze
from aishell.engine.analyzer.advisor import advise
from aishell.engine.analyzer.plan import explain
from aishell.engine.config import Settings
from aishell.engine.demo import ensure_demo_database
from aishell.engine.drivers import driver_for
from aishell.engine.session import Session
from aishell.tui.cli import main as cli

ACCOUNTS_BY_BALANCE = "SELECT aid, abalance FROM pgbench_accounts WHERE abalance = 5"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The demo shop in SQLite (26,000 orders; some foreign keys without an index)."""
    return ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db")


def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


@pytest.fixture
async def bench_db(pg_cluster, pg_fresh_db):
    """A fresh database with the pgbench schema (100,000 accounts) and HypoPG."""
    pg_cluster.pgbench_init(_dbname(pg_fresh_db))
    conn = await driver_for(pg_fresh_db).connect()
    await conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    try:
        yield pg_fresh_db, conn
    finally:
        await conn.close()


@pytest.mark.pg
async def test_schema_aware_rules_on_pgbench(bench_db):
    _, conn = bench_db
    schema = await conn.schema_info()
    found = analyze(ACCOUNTS_BY_BALANCE, schema=schema).findings
    (missing,) = [f for f in found if f.code == "AS014"]
    assert missing.severity == "warning" and "pgbench_accounts" in missing.message
    assert missing.suggestion == "CREATE INDEX ON pgbench_accounts (abalance);"
    assert analyze("SELECT abalance FROM pgbench_accounts WHERE aid = 5", schema=schema).findings == []
    star = [f for f in analyze("SELECT * FROM pgbench_branches", schema=schema).findings if f.code == "AS001"]
    assert star[0].suggestion == "SELECT bid, bbalance, filler"
    typed = analyze("SELECT 1 FROM pgbench_accounts a JOIN pgbench_history h ON h.aid = a.filler WHERE a.aid = 1", schema=schema)
    assert "AS013" in [f.code for f in typed.findings]


@pytest.mark.pg
async def test_explain_reads_plans(bench_db):
    _, conn = bench_db
    report = await explain(conn, ACCOUNTS_BY_BALANCE)
    assert not report.analyzed and report.total_cost and report.total_cost > 1000
    assert "Seq Scan on pgbench_accounts" in report.summary
    assert [f.code for f in report.findings] == ["AS101"]
    assert report.findings[0].candidate.columns == ("abalance",)

    analyzed = await explain(conn, ACCOUNTS_BY_BALANCE, analyze=True)
    assert analyzed.analyzed and analyzed.execution_ms is not None
    assert "AS105" in [f.code for f in analyzed.findings]


@pytest.mark.pg
async def test_misestimate_sort_spill_and_nested_loop(bench_db):
    _, conn = bench_db
    await conn.execute("CREATE TABLE skew AS SELECT g AS a, g AS b FROM generate_series(1, 50000) g")
    await conn.execute("ANALYZE skew")
    report = await explain(conn, "SELECT count(*) FROM skew WHERE a = b", analyze=True)
    assert "AS102" in [f.code for f in report.findings]

    await conn.execute("SET work_mem = '64kB'")
    try:
        report = await explain(conn, "SELECT aid, filler FROM pgbench_accounts ORDER BY filler, aid", analyze=True)
        assert "AS103" in [f.code for f in report.findings]
    finally:
        await conn.execute("RESET work_mem")

    await conn.execute("SET enable_hashjoin = off")
    await conn.execute("SET enable_mergejoin = off")
    try:
        report = await explain(
            conn, "SELECT count(*) FROM pgbench_accounts a JOIN pgbench_tellers t ON a.bid = t.bid", analyze=True
        )
        assert "AS104" in [f.code for f in report.findings]
    finally:
        await conn.execute("RESET enable_hashjoin")
        await conn.execute("RESET enable_mergejoin")


@pytest.mark.pg
async def test_writes_are_not_analyzed_unless_asked_and_then_rolled_back(bench_db):
    _, conn = bench_db
    before = (await conn.execute("SELECT sum(abalance) FROM pgbench_accounts")).rows[0][0]
    update = "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 100"
    report = await explain(conn, update, analyze=True)
    assert not report.analyzed and report.findings[0].code == "AS106"
    report = await explain(conn, update, analyze=True, allow_writes=True)
    assert report.analyzed
    assert (await conn.execute("SELECT sum(abalance) FROM pgbench_accounts")).rows[0][0] == before
    assert not conn.in_transaction


@pytest.mark.pg
async def test_hypopg_advice_keeps_only_indexes_that_halve_the_cost(bench_db):
    _, conn = bench_db
    schema = await conn.schema_info()
    indexes_before = (await conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")).rows[0][0]

    advice = await advise(conn, ACCOUNTS_BY_BALANCE, schema)
    assert advice.hypopg and advice.cost_before and advice.cost_before > 1000
    (best,) = advice.recommended
    assert best.candidate.columns == ("abalance",) and best.used
    assert best.reduction is not None and best.reduction >= 0.5
    assert best.statement == "CREATE INDEX ON pgbench_accounts (abalance);"
    assert [f.code for f in advice.findings] == ["AS110"]

    unselective = await advise(conn, "SELECT aid FROM pgbench_accounts WHERE abalance > -1000000", schema)
    assert unselective.hypopg and unselective.recommended == [] and unselective.rejected
    assert "none of" in unselective.message

    after = (await conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")).rows[0][0]
    assert after == indexes_before  # nothing real was created
    assert (await conn.execute("SELECT count(*) FROM hypopg_list_indexes")).rows[0][0] == 0


@pytest.mark.pg
async def test_without_hypopg_the_advice_says_so(pg_cluster, pg_fresh_db):
    pg_cluster.pgbench_init(_dbname(pg_fresh_db))
    conn = await driver_for(pg_fresh_db).connect()
    try:
        schema = await conn.schema_info()
        advice = await advise(conn, ACCOUNTS_BY_BALANCE, schema)
    finally:
        await conn.close()
    assert not advice.hypopg and "HypoPG is not installed" in advice.message
    assert [a.statement for a in advice.recommended] == ["CREATE INDEX ON pgbench_accounts (abalance);"]
    assert [f.code for f in advice.findings] == ["AS111"]


@pytest.mark.pg
async def test_session_analyze_explain_advise(bench_db):
    url, _ = bench_db
    settings = Settings.load(read_file=False)
    settings.memory.enabled = False
    session = await Session.open(url, settings=settings)
    try:
        assert [f.code for f in session.analyze(ACCOUNTS_BY_BALANCE).findings] == []  # no schema loaded yet
        await session.schema()
        assert "AS014" in [f.code for f in session.analyze(ACCOUNTS_BY_BALANCE).findings]
        report = await session.explain(ACCOUNTS_BY_BALANCE)
        assert "AS101" in [f.code for f in report.findings]
        advice = await session.advise(ACCOUNTS_BY_BALANCE)
        assert advice.hypopg and advice.recommended
    finally:
        await session.close()


@pytest.mark.pg
async def test_cli_with_postgres(bench_db, tmp_path, capsys):
    url, _ = bench_db
    path = tmp_path / "q.sql"
    path.write_text(ACCOUNTS_BY_BALANCE + ";\nSELECT aid FROM pgbench_accounts WHERE aid = $1;\n")
    code = await asyncio.to_thread(cli, ["analyze", "--db", url, "--format", "json", "--fail-on", "warning", str(path)])
    out = capsys.readouterr().out
    found = {(f["code"], f["statement"]) for f in json.loads(out)["findings"]}
    assert {("AS014", 0), ("AS101", 0), ("AS110", 0)} <= found
    assert ("AS106", 1) in found  # a parameter without a value: no plan, said so
    assert code == 1


async def test_sqlite_plans_and_advice(demo_db):
    conn = await driver_for(str(demo_db)).connect()
    try:
        schema = await conn.schema_info()
        report = await explain(conn, "SELECT id FROM orders WHERE status = 'shipped'")
        assert [f.code for f in report.findings] == ["AS101"] and "SCAN orders" in report.summary
        indexed = await explain(conn, "SELECT id FROM orders WHERE customer_id = 42")
        assert indexed.findings == [] and "SEARCH orders USING" in indexed.summary
        sorted_report = await explain(conn, "SELECT id FROM order_items ORDER BY unit_price LIMIT 5")
        assert "AS103" in [f.code for f in sorted_report.findings]
        advice = await advise(conn, "SELECT id FROM orders WHERE status = 'shipped'", schema)
        assert not advice.hypopg
        assert [a.statement for a in advice.recommended] == ["CREATE INDEX idx_orders_status ON orders (status);"]
    finally:
        await conn.close()


async def test_sqlite_session(demo_db):
    db = demo_db
    settings = Settings.load(read_file=False)
    settings.memory.enabled = False
    session = await Session.open(str(db), settings=settings)
    try:
        await session.schema()
        sql = "SELECT o.id FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.customer_id = 5"
        assert "AS014" in [f.code for f in session.analyze(sql).findings]
        report = await session.explain(sql)
        assert report.dialect == "sqlite" and report.nodes
    finally:
        await session.close()
