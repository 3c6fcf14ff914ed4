"""The server view keeps a running statement's text on screen when it is narrow: ``aishell top``
at 80x24 and the workbench's Server tab in its side column. Columns give way by priority (as
pg_activity drops columns at 80), the statement is cut to the room left; what is checked is the
screen itself (the exported screenshot), not the table's data."""

from __future__ import annotations

import asyncio
import html

import asyncpg
import pytest

from aishell.engine.config import Settings
from tests.tui.appkit import connected, make_app, until

pytestmark = pytest.mark.pg

MARKER = "zz_narrow_marker"


def settings() -> Settings:
    return Settings.load(read_file=False, overrides={"memory": {"enabled": False}})


def screen_text(app) -> str:
    """What the terminal shows, as text (the screenshot's SVG, unescaped)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


@pytest.fixture
async def running(pg_url):
    """A statement running on the server for the test's length, its text starting with MARKER."""
    conn = await asyncpg.connect(pg_url)
    task = asyncio.create_task(conn.execute(f"SELECT '{MARKER}', pg_sleep(60)"))
    try:
        yield conn
    finally:
        task.cancel()
        conn.terminate()


async def test_top_at_80x24_shows_the_running_statement(pg_url, running):
    from aishell.tui.screens.top import TopApp

    app = TopApp(pg_url, settings=settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: MARKER in screen_text(app), timeout=20, what="the running statement on screen")
        table = app.screen.query_one("#server-table")
        assert [str(c.label) for c in table.columns.values()][-1] == "statement"
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width


async def test_server_tab_in_the_side_column_shows_the_running_statement(pg_url, running):
    app = make_app(pg_url, settings=settings())
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        await pilot.press("alt+a")
        await until(pilot, lambda: f"SELECT '{MARKER[:4]}" in screen_text(app), timeout=20, what="the running statement in the Server tab")
