"""Advice for a whole workload against the real PostgreSQL 15 test cluster (HypoPG,
pg_stat_statements): statements from the server's counts, from memory and from a file, ranked
by estimated time saved with the statements each index helps and slows; unused and duplicate
indexes; ``aishell advise`` as a real subprocess (text, JSON, SARIF, errors); and the speed
target: 200 statement shapes in at most 30 s."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid

import pytest

from aishell.engine.drivers import driver_for
from aishell.engine.memory.service import Memory
from aishell.engine.memory.store import Entry
from aishell.engine.config import Settings
from aishell.engine.redact import redact_url
from aishell.engine.statements.fingerprint import fingerprint
from aishell.engine.workload import WorkloadStatement, advise_workload, from_file, from_memory, from_pg_stat_statements, merge

SETUP = """
CREATE EXTENSION IF NOT EXISTS hypopg;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, total numeric NOT NULL, note text);
INSERT INTO orders SELECT g, g % 5000, (ARRAY['new','paid','shipped','done','void'])[1 + g % 5], (g * 7919 % 100000) / 10.0, md5(g::text)
  FROM generate_series(1, 100000) g;
CREATE INDEX orders_status_one ON orders (status);
CREATE INDEX orders_status_two ON orders (status);
CREATE INDEX orders_status_total ON orders (status, total);
CREATE TABLE events (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL, kind text NOT NULL);
INSERT INTO events SELECT g, g % 20000, g % 97, 'k' || (g % 7) FROM generate_series(1, 100000) g;
ANALYZE;
"""

HEAVY = "SELECT id FROM orders WHERE customer_id = $1"
LIGHT = "SELECT id FROM events WHERE a = $1"
WRITE = "UPDATE orders SET customer_id = $1 WHERE id = $2"
OTHER_WRITE = "UPDATE orders SET note = $1 WHERE id = $2"


@pytest.fixture(scope="module")
async def workload_db(pg_cluster):
    """A database with two tables and a workload the server counted in pg_stat_statements:
    the orders lookup runs 40 times, the events lookup 10, two kinds of UPDATE 5 times each."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    name = f"workload_{uuid.uuid4().hex[:10]}"
    url = pg_cluster.create_database(name)
    pg_cluster.psql(SETUP, database=name)
    conn = await driver_for(url).connect()
    await conn.execute("SELECT pg_stat_statements_reset()")
    for i in range(40):
        await conn.execute(HEAVY, [i])
    for i in range(10):
        await conn.execute(LIGHT, [i])
    for i in range(5):
        await conn.execute(WRITE, [i, i + 1])
        await conn.execute(OTHER_WRITE, ["x", i + 1])
    try:
        yield url, conn
    finally:
        await conn.close()


@pytest.mark.pg
async def test_pg_stat_statements_workload_is_ranked_with_what_each_index_helps_and_slows(workload_db):
    _, conn = workload_db
    statements = await from_pg_stat_statements(conn)
    texts = {s.text: s for s in statements}
    assert texts[HEAVY].calls == 40 and texts[LIGHT].calls == 10 and texts[HEAVY].mean_ms is not None
    assert not any("pg_stat_statements" in t or "hypopg" in t for t in texts)  # the catalog's and our own are left out
    indexes_before = (await conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")).rows[0][0]

    seen = []
    advice = await advise_workload(conn, statements, progress=lambda done, total, what: seen.append((done, total, what)))
    assert advice.hypopg and advice.unit == "ms" and advice.statements >= 4
    ranked = [r.statement for r in advice.recommendations]
    assert ranked[:2] == ["CREATE INDEX CONCURRENTLY ON orders (customer_id);", "CREATE INDEX CONCURRENTLY ON events (a);"] or ranked[:2] == [
        "CREATE INDEX CONCURRENTLY ON events (a);", "CREATE INDEX CONCURRENTLY ON orders (customer_id);"
    ]
    assert [r.saved for r in advice.recommendations] == sorted((r.saved for r in advice.recommendations), reverse=True)
    orders = next(r for r in advice.recommendations if r.candidate.columns == ("customer_id",))
    assert [e.statement.text for e in orders.helps] == [HEAVY]
    assert orders.helps[0].reduction > 0.5 and orders.helps[0].saved > 0
    assert [e.statement.text for e in orders.slows] == [WRITE]  # the UPDATE of note is a heap-only update
    assert orders.slows[0].saved < 0 and orders.saved == pytest.approx(orders.helps[0].saved + orders.slows[0].saved)
    assert seen[0][2] == "planning" and seen[-1][2] == "ranking"

    assert (await conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")).rows[0][0] == indexes_before
    assert (await conn.execute("SELECT count(*) FROM hypopg_list_indexes")).rows[0][0] == 0


@pytest.mark.pg
async def test_unused_and_duplicate_indexes(workload_db):
    _, conn = workload_db
    advice = await advise_workload(conn, [])
    notes = {(n.kind, n.index): n for n in advice.notes}
    assert ("duplicate", "orders_status_two") in notes and "orders_status_one" in notes[("duplicate", "orders_status_two")].reason
    # the other copy is not "the same as" its twin (one of them stays), but (status, total) serves its lookups
    assert "orders_status_total" in notes[("duplicate", "orders_status_one")].reason
    assert ("unused", "orders_status_total") in notes
    assert ("unused", "orders_status_one") not in notes  # said once, as the stronger reason
    assert not any(n.index.endswith("_pkey") for n in advice.notes)  # a primary key enforces something
    assert notes[("duplicate", "orders_status_two")].drop_statement == "DROP INDEX CONCURRENTLY public.orders_status_two;"


@pytest.mark.pg
async def test_memory_workload_merges_with_the_servers_by_fingerprint(workload_db, aishell_home):
    url, conn = workload_db
    settings = Settings.load(read_file=False)
    memory = await Memory.open(settings, background=False)
    try:
        database = redact_url(url)
        for i in range(3):
            await memory.record(Entry(f"SELECT id FROM orders WHERE customer_id = {i}", database=database, duration_ms=30.0))
        await memory.record(Entry("SELECT kind FROM events WHERE b = 5", database=database, duration_ms=12.0))
        await memory.record(Entry("SELECT 1 FROM elsewhere", database="postgresql://other/db", duration_ms=1.0))
    finally:
        await memory.close()
    remembered = await from_memory(settings.memory_path, database)
    by_text = {s.text: s for s in remembered}
    assert set(by_text) == {"SELECT id FROM orders WHERE customer_id = 2", "SELECT kind FROM events WHERE b = 5"}
    assert by_text["SELECT id FROM orders WHERE customer_id = 2"].calls == 3
    merged = merge(await from_pg_stat_statements(conn), remembered)
    lookup = next(s for s in merged if s.text.startswith("SELECT id FROM orders WHERE customer_id"))
    assert lookup.calls == 40 and lookup.sources == ("pg_stat_statements", "memory")
    assert lookup.text == "SELECT id FROM orders WHERE customer_id = 2"  # memory's values plan better than $1


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aishell.tui.cli", "advise", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.pg
async def test_advise_cli_text_json_and_sarif(workload_db, tmp_path):
    url, _ = workload_db
    done = await asyncio.to_thread(_cli, "--db", url, "--from", "pg_stat_statements", "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    statements = [r["statement"] for r in document["recommendations"]]
    assert "CREATE INDEX CONCURRENTLY ON orders (customer_id);" in statements
    first = next(r for r in document["recommendations"] if r["columns"] == ["customer_id"])
    assert first["unit"] == "ms" and first["helps"][0]["calls"] == 40 and first["slows"][0]["text"] == WRITE
    assert {"duplicate", "unused"} <= {e["kind"] for e in document["existing"]}
    assert document["stats"]["hypopg"] and document["stats"]["sources"] == ["pg_stat_statements"]
    assert "planning" in done.stderr and "ranking" in done.stderr  # progress on stderr, never in the document

    sarif = json.loads((await asyncio.to_thread(_cli, "--db", url, "--from", "pg_stat_statements", "--format", "sarif")).stdout)
    results = sarif["runs"][0]["results"]
    assert {"AS120", "AS121", "AS122"} <= {r["ruleId"] for r in results}
    assert [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]] == ["AS120", "AS121", "AS122"]

    path = tmp_path / "workload.sql"
    path.write_text("SELECT id FROM events WHERE a = 7;\nSELECT id FROM events WHERE a = 8;\nSELECT nope FROM events;\n")
    text = await asyncio.to_thread(_cli, "--db", url, "--from", str(path))
    assert text.returncode == 0, text.stderr
    assert "1. CREATE INDEX CONCURRENTLY ON events (a);" in text.stdout and "cost units" in text.stdout
    assert "x2" in text.stdout  # the two statements are one shape that ran twice
    assert "1 statement shape(s) could not be planned" in text.stdout
    assert "nothing was created or dropped" in text.stdout


@pytest.mark.pg
@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "/nonexistent/workload.sql"], "cannot read /nonexistent/workload.sql"),
        (["--limit", "0"], "--limit must be at least 1"),
    ],
)
async def test_advise_cli_usage_errors_are_one_line(workload_db, args, message):
    url, _ = workload_db
    done = await asyncio.to_thread(_cli, "--db", url, *args)
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0


def test_advise_cli_refuses_sqlite(tmp_path):
    done = _cli("--db", str(tmp_path / "x.db"))
    assert done.returncode == 2 and "needs PostgreSQL" in done.stderr


@pytest.mark.pg
async def test_two_hundred_shapes_within_thirty_seconds(workload_db, tmp_path):
    _, conn = workload_db
    lines = []
    for i in range(200):
        table, column = [("orders", "customer_id"), ("orders", "total"), ("events", "a"), ("events", "b")][i % 4]
        extra = f" AND id > {i}" if i % 3 else ""
        lines.append(f"SELECT id, {i} AS n{i} FROM {table} WHERE {column} = 1{extra};")
    path = tmp_path / "many.sql"
    path.write_text("\n".join(lines))
    statements = from_file(path)
    assert len(statements) == 200
    started = time.perf_counter()
    advice = await advise_workload(conn, statements)
    elapsed = time.perf_counter() - started
    assert advice.statements == 200 and advice.recommendations
    assert elapsed <= 30.0, f"{elapsed:.1f} s for 200 shapes"


@pytest.mark.pg
async def test_backslash_advise_in_a_script_prints_the_advice(workload_db, tmp_path):
    """``\\advise`` in ``aishell run -f``: the advice as ``aishell advise`` prints it (the
    workbench opens its screen instead); nothing is created."""
    url, conn = workload_db
    script = tmp_path / "advise.sql"
    script.write_text("SELECT 1;\n\\advise\n")
    before = (await conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")).rows[0][0]
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "aishell.tui.cli", "run", url, "-f", str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "CREATE INDEX CONCURRENTLY ON orders (customer_id);" in done.stdout and "nothing was created or dropped" in done.stdout
    assert "planning" in done.stderr
    assert (await conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")).rows[0][0] == before


@pytest.mark.pg
async def test_an_index_the_workload_reads_is_not_unused(pg_fresh_db):
    """Statistics start at zero for an index created a moment ago (say from the advice itself):
    one the workload's plans read is not proposed for removal; one nobody reads still is."""
    conn = await driver_for(pg_fresh_db).connect()
    try:
        for sql in (
            "CREATE EXTENSION IF NOT EXISTS hypopg",
            "CREATE TABLE t (id int PRIMARY KEY, k int NOT NULL, idle int NOT NULL)",
            "INSERT INTO t SELECT g, g % 1000, g FROM generate_series(1, 20000) g",
            "CREATE INDEX t_k ON t (k)",
            "CREATE INDEX t_idle ON t (idle)",
            "ANALYZE t",
        ):
            await conn.execute(sql)
        lookup = "SELECT * FROM t WHERE k = 5"
        advice = await advise_workload(conn, [WorkloadStatement(fingerprint(lookup), lookup, 3, 2.0, ("test",))])
        unused = {note.index for note in advice.notes if note.kind == "unused"}
        assert "t_idle" in unused and "t_k" not in unused
    finally:
        await conn.close()

