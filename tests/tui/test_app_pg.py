"""The workbench against the real PostgreSQL test cluster: results, error positions, cancel on
the server, a lost connection that recovers, read-only sessions and index advice."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.tui.appkit import connected, grid, make_app, run, type_sql, until

pytestmark = pytest.mark.pg
SIZE = (120, 36)


def message_text(g) -> str:
    return str(g.query_one("#results-message").content)


async def test_postgres_query_error_position_and_backslash(pg_url):
    app = make_app(pg_url)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        target = str(app.screen.query_one("#target").content)
        assert target.startswith("postgresql://") and "password" not in target.lower()
        await run(pilot, "SELECT g AS n, g * 2 AS twice FROM generate_series(1, 2000) AS g")
        g = grid(pilot)
        assert [c[0] for c in g.columns] == ["n", "twice"]
        assert 0 < g.row_count < 2000 or g.finished
        editor = app.screen.query_one("#editor")
        editor.text_area.load_text("SELECT 1;\n\nSELECT oid,\n       nosuch\nFROM pg_class")
        editor.text_area.cursor_location = (3, 2)
        await pilot.press("f5")
        await until(pilot, lambda: g.has_class("-error"), what="error")
        assert "nosuch" in message_text(g)
        # The server's position is mapped back into the buffer: line 4, column 8. The word is
        # underlined, not selected (the next key must not replace it).
        area = editor.text_area
        assert area.cursor_location == (3, 7) and area.selected_text == ""
        assert area.text[slice(*area.error_range)] == "nosuch"
        await run(pilot, "\\dn")
        assert "public" in [r[0] for r in g.rows]


async def test_postgres_cancel_on_server(pg_url):
    app = make_app(pg_url)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "SELECT pg_sleep(30)", finished=False)
        await until(pilot, lambda: app.session.busy, what="running")
        await pilot.pause(0.3)
        await pilot.press("ctrl+c")
        g = grid(pilot)
        await until(pilot, lambda: g.finished, timeout=10, what="cancelled")
        assert "cancel" in message_text(g).lower()
        await run(pilot, "SELECT 5 AS five")
        await until(pilot, lambda: g.finished and [tuple(r) for r in g.rows] == [(5,)], what="after cancel")


async def test_postgres_lost_connection_recovers(pg_url):
    app = make_app(pg_url)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "SELECT 1 AS one")
        admin = await asyncpg.connect(pg_url)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        finally:
            await admin.close()
        await asyncio.sleep(0.2)
        g = grid(pilot)
        g.clear()
        type_sql(pilot, "SELECT 2 AS two")
        await pilot.press("f5")
        await until(pilot, lambda: g.finished, what="statement after kill")
        if g.has_class("-error"):
            # The loss was reported; the app reconnects and the next statement works.
            await until(pilot, lambda: app.screen.connection_state in ("reconnected", "connected"), timeout=20, what="reconnect")
            await run(pilot, "SELECT 2 AS two")
        await until(pilot, lambda: g.finished and [tuple(r) for r in g.rows] == [(2,)], what="recovered")


async def test_postgres_read_only_and_advice(pg_fresh_db):
    admin = await asyncpg.connect(pg_fresh_db)
    try:
        await admin.execute("CREATE TABLE t(id int, v int); INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 20000) g; ANALYZE t")
    finally:
        await admin.close()
    app = make_app(pg_fresh_db, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert app.screen.query_one("#read-only").display
        await run(pilot, "INSERT INTO t VALUES (1, 1)")
        g = grid(pilot)
        assert g.has_class("-error") and "read-only" in message_text(g).lower()
        pane = app.screen.query_one("#suggestions")
        plans = []
        original = pane.show_plan
        pane.show_plan = lambda summary, findings, *tree: (plans.append(summary), original(summary, findings, *tree))[1]
        type_sql(pilot, "SELECT * FROM t WHERE v = 7")
        await pilot.press("f8")
        await until(pilot, lambda: plans, timeout=20, what="advice")
        assert "CREATE INDEX" in plans[-1] or "hypo" in plans[-1].lower()
