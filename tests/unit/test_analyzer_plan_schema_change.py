"""EXPLAIN on SQLite after another process changed the schema: the plan is today's, not the one
SQLite prepared before the change (a cached ``EXPLAIN QUERY PLAN`` statement is never re-checked
against the schema, so the workbench showed a view's old plan after it was redefined)."""

from __future__ import annotations

import sqlite3

from aishell.engine.analyzer.plan import explain
from aishell.engine.drivers import driver_for


async def test_plan_follows_a_view_redefined_elsewhere(tmp_path):
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE t (x INTEGER); CREATE TABLE u (y INTEGER); CREATE VIEW v AS SELECT x FROM t;")
    conn = await driver_for(str(path)).connect()
    try:
        assert "SCAN t" in (await explain(conn, "SELECT count(*) FROM v")).summary
        with sqlite3.connect(path) as db:
            db.executescript("DROP VIEW v; CREATE VIEW v AS SELECT y AS x FROM u;")
        for _ in range(2):  # before and after the connection has read anything since
            summary = (await explain(conn, "SELECT count(*) FROM v")).summary
            assert "SCAN u" in summary and "SCAN t" not in summary
    finally:
        await conn.close()
