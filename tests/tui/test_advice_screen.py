"""The workload advice screen against the real PostgreSQL test cluster (HypoPG): a workload run
in the workbench (so memory has it) is advised on in a worker with progress shown; the ranked
index, the statements it helps and slows, and a duplicate existing index are listed; a CREATE
INDEX goes into the editor, or runs only after a question, and never in a read-only session.
Opened by Shift-F8, by ``\\advise`` and from the command palette."""

from __future__ import annotations

import pytest

from aishell.engine.drivers import driver_for
from aishell.engine.errors import AishellError
from aishell.tui.controllers.advice import AdviceProgress
from aishell.tui.screens.advice import READ_ONLY, AdviceScreen
from aishell.tui.screens.dialogs import ConfirmScreen
from tests.tui.appkit import connected, make_app, run, until
from tests.tui.widgets_harness import screen_text

pytestmark = pytest.mark.pg

SETUP = (
    "CREATE EXTENSION IF NOT EXISTS hypopg",
    "CREATE TABLE items (id int PRIMARY KEY, sku int NOT NULL, name text NOT NULL)",
    "INSERT INTO items SELECT g, g % 3000, md5(g::text) FROM generate_series(1, 30000) g",
    "CREATE INDEX items_name_a ON items (name)",
    "CREATE INDEX items_name_b ON items (name)",
    "ANALYZE items",
)
WORKLOAD = ("SELECT id, name FROM items WHERE sku = 11", "SELECT id, name FROM items WHERE sku = 12", "UPDATE items SET sku = sku WHERE id = 5")
CREATE = "CREATE INDEX CONCURRENTLY ON items (sku);"


async def _prepare(url: str) -> None:
    conn = await driver_for(url).connect()
    try:
        for sql in SETUP:
            await conn.execute(sql)
    finally:
        await conn.close()


async def _indexes(url: str) -> set[str]:
    conn = await driver_for(url).connect()
    try:
        return {row[0] for row in (await conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'items'")).rows}
    finally:
        await conn.close()


async def _advice_shown(pilot) -> AdviceScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, AdviceScreen), what="the advice screen")
    screen = app.screen
    await until(pilot, lambda: screen.state in ("ready", "failed"), timeout=30, what="the workload advice")
    assert screen.state == "ready", screen.query_one("#advice-status").content
    await until(pilot, lambda: "Index" in screen_text(app) and "Close" in screen_text(app), what="the list drawn")
    return screen


async def test_workload_advice_lists_runs_and_hands_over(pg_fresh_db):
    await _prepare(pg_fresh_db)
    app = make_app(pg_fresh_db)
    progress = []

    def hook(message) -> None:
        if isinstance(message, AdviceProgress):
            progress.append((message.done, message.total, message.what))

    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await connected(pilot)
        for sql in (*WORKLOAD, WORKLOAD[0]):
            await run(pilot, sql)
        await pilot.press("shift+f8")
        screen = await _advice_shown(pilot)

        # ranked: the index on sku first, with what it helps and slows; the duplicate below
        first = screen.items[0]
        assert first["kind"] == "index" and first["statement"] == CREATE and first["saves"].endswith(" ms")
        assert first["helps"] >= 1 and first["slows"] >= 1
        assert any(item["kind"] == "duplicate" and "items_name_b" in item["what"] for item in screen.items)
        assert progress and any("trying" in what or "planning" in what for _, _, what in progress)
        text = screen_text(app)
        assert "1. index" in text and "items (sku)" in text and "duplicate" in text
        assert CREATE in text and "WHERE sku = 1" in text and "UPDATE items SET sku" in text  # helps and slows
        assert "Close" in text and "To editor" in text  # the footer's keys fit at 80 columns

        # r asks; No creates nothing
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert CREATE in screen_text(app)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, what="back from the question")
        assert not any("(sku)" in d for d in await _indexes(pg_fresh_db))
        # Yes creates it, once
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await until(pilot, lambda: "done: " in str(screen.query_one("#advice-status").content), what="the index built")
        assert any("(sku)" in d for d in await _indexes(pg_fresh_db))
        assert "✔ created" in screen_text(app)
        await pilot.press("r")  # run already: not asked again
        await pilot.pause()
        assert app.screen is screen

        # e hands the statement to the editor and closes the screen
        await pilot.press("e")
        await until(pilot, lambda: not isinstance(app.screen, AdviceScreen), what="back to the workbench")
        assert CREATE in app.screen.query_one("#editor").text_area.text

        # opened again, the last advice shows at once (a advises again)
        await pilot.press("shift+f8")
        screen = await _advice_shown(pilot)
        assert "last advice (a: again)" in str(screen.query_one("#advice-status").content) and "✔ created" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AdviceScreen), what="closed")


async def test_read_only_session_refuses_to_create(pg_fresh_db):
    await _prepare(pg_fresh_db)
    app = make_app(pg_fresh_db, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        for sql in (WORKLOAD[0], WORKLOAD[1], WORKLOAD[0]):
            await run(pilot, sql)
        await run(pilot, "\\advise", finished=False)  # the backslash command opens the screen too
        screen = await _advice_shown(pilot)
        assert screen.items[0]["statement"] == CREATE
        assert READ_ONLY in str(screen.query_one("#advice-detail-text").content)  # said before anyone tries
        assert "read-only session: nothing is created" in screen_text(app)
        await pilot.press("r")
        await pilot.pause(0.2)
        assert app.screen is screen and not isinstance(app.screen, ConfirmScreen)  # not even asked
        assert READ_ONLY in str(screen.query_one("#advice-status").content)
        # and the session itself refuses, should the screen ever ask it
        with pytest.raises(AishellError, match="read-only"):
            await screen.session.execute(CREATE)
        assert not any("(sku)" in d for d in await _indexes(pg_fresh_db))


async def test_command_palette_opens_it(pg_fresh_db):
    await _prepare(pg_fresh_db)
    app = make_app(pg_fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await run(pilot, WORKLOAD[0])
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"workload")
        await pilot.pause(0.5)
        await pilot.press("enter")
        screen = await _advice_shown(pilot)
        assert screen.items and screen.items[0]["statement"] == CREATE
