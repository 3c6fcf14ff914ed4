"""The Server tab against the real cluster: it samples only while shown, lists an idle-in-
transaction session and who it blocks, cancels after a confirmation that shows the query,
refuses in a read-only session, and opens a session's statement in a new buffer with its plan."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from aishell.engine.config import Settings
from tests.tui.appkit import connected, make_app, until

pytestmark = pytest.mark.pg


def settings() -> Settings:
    return Settings.load(read_file=False, overrides={"memory": {"enabled": False}})


def table_text(app) -> str:
    table = app.screen.query_one("#server-table")
    return "\n".join(" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count))


async def test_server_tab_shows_a_blocker_and_cancels_after_asking(pg_fresh_db, monkeypatch):
    monkeypatch.setattr("aishell.tui.controllers.server.REFRESH_S", 0.4)  # samples come sooner; the checks stay the same
    setup = await asyncpg.connect(pg_fresh_db)
    await setup.execute("CREATE TABLE acct (id int PRIMARY KEY, n int); INSERT INTO acct VALUES (1, 0)")
    holder = await asyncpg.connect(pg_fresh_db, server_settings={"application_name": "holder"})
    waiter = await asyncpg.connect(pg_fresh_db, server_settings={"application_name": "waiter"})
    await holder.execute("BEGIN; UPDATE acct SET n = n + 1 WHERE id = 1")
    blocked = asyncio.create_task(waiter.execute("UPDATE acct SET n = n - 1 WHERE id = 1"))
    app = make_app(pg_fresh_db, settings=settings())
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await connected(pilot)
            screen = app.screen
            await pilot.pause(0.3)
            assert screen.server.last is None  # hidden tab: nothing sampled
            await pilot.press("alt+a")
            # by pid: a narrow pane gives up the application's column before the statement's
            await until(pilot, lambda: screen.server.last is not None and str(holder.get_server_pid()) in table_text(app), what="activity")
            # flagged once idle in its transaction for a second: at the next refresh
            await until(pilot, lambda: "⚠ idle in tx" in table_text(app), what="the idle-in-transaction flag")
            await pilot.press("l")
            await until(pilot, lambda: f"▶ {holder.get_server_pid()}" in table_text(app), what="lock tree")
            rows = table_text(app).splitlines()
            assert rows[1].strip().startswith(f"└ {waiter.get_server_pid()}")
            pane = screen.query_one("#server")
            pane.query_one("#server-table").move_cursor(row=1)
            await pilot.press("x")
            await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="confirmation")
            assert "UPDATE acct SET n = n - 1" in app.screen.sql
            await pilot.press("y")
            with pytest.raises(asyncpg.QueryCanceledError):
                await asyncio.wait_for(blocked, 5)
            await until(pilot, lambda: f"▶ {holder.get_server_pid()}" not in table_text(app), what="lock gone")

            await pilot.press("a")
            await until(pilot, lambda: str(holder.get_server_pid()) in table_text(app), what="activity again")
            keys = [str(k.value) for k in pane.query_one("#server-table").rows]
            pane.query_one("#server-table").move_cursor(row=keys.index(f"pid{holder.get_server_pid()}"))
            await pilot.press("o")
            editor = screen.query_one("#editor")
            await until(pilot, lambda: editor.text == "BEGIN; UPDATE acct SET n = n + 1 WHERE id = 1", what="statement in a buffer")
            assert editor.buffer_names[editor.active_buffer] == "from server"
            await until(pilot, lambda: screen.query_one("#insights").active == "tab-suggestions", what="plan shown")
            await pilot.pause(0.5)
            sampled = screen.server.last
            await pilot.pause(1.0)  # two and a half refresh intervals
            assert screen.server.last is sampled  # the Server tab is hidden again: no sampling
    finally:
        await waiter.close()
        holder.terminate()
        await setup.close()


async def test_read_only_refuses_before_asking(pg_fresh_db):
    victim = await asyncpg.connect(pg_fresh_db, server_settings={"application_name": "victim"})
    app = make_app(pg_fresh_db, settings=settings(), read_only=True)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await connected(pilot)
            await pilot.press("alt+a")
            await until(pilot, lambda: str(victim.get_server_pid()) in table_text(app), what="activity")
            pane = app.screen.query_one("#server")
            keys = [str(k.value) for k in pane.query_one("#server-table").rows]
            pane.query_one("#server-table").move_cursor(row=keys.index(f"pid{victim.get_server_pid()}"))
            await pilot.press("X")
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "MainScreen"
            assert any("read-only session: will not terminate" in str(n.message) for n in app._notifications)
        assert await victim.fetchval("SELECT 1") == 1
    finally:
        await victim.close()


async def test_aishell_top_shows_the_pane_full_screen_and_quits(pg_fresh_db):
    from aishell.tui.screens.top import TopApp

    other = await asyncpg.connect(pg_fresh_db, server_settings={"application_name": "someone"})
    app = TopApp(pg_fresh_db, settings=settings(), read_only=True)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: str(other.get_server_pid()) in table_text(app), what="activity in aishell top")
            assert "read-only" in app.sub_title and "***" in app.sub_title
            await pilot.press("h")
            await until(pilot, lambda: "connections" in table_text(app), what="health")
            await pilot.press("q")
        assert app.return_code in (0, None)
    finally:
        await other.close()


def test_aishell_top_refuses_a_bad_target_with_one_line():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "aishell.tui.cli", "top", "ftp://nowhere"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "unsupported URL scheme" in done.stderr
