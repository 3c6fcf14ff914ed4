"""Sort and filter of a result larger than what is loaded: the workbench re-runs the statement
wrapped on the real PostgreSQL server; a statement that cannot run again, or a MongoDB query
(FerretDB), sorts and filters the loaded rows and says so."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from aishell.engine.config import Settings
from tests.tui.appkit import connected, grid, make_app, run, until
from tests.tui.widgets_harness import screen_text

pytestmark = pytest.mark.pg
SIZE = (120, 36)


def _app(pg_url: str):
    settings = Settings.load()
    settings.ui.page_size = 50
    return make_app(pg_url, settings=settings)


async def test_sort_and_filter_a_streaming_result_on_the_server(pg_fresh_db):
    app = _app(pg_fresh_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "SELECT g AS n, (g * 7919) % 1000 AS score FROM generate_series(1, 3000) AS g")
        g = grid(pilot)
        assert not g.finished and g.row_count < 3000
        g.focus()
        await pilot.press("right", "s", "s")  # score, descending
        # The server sorted all 3,000 rows: the top is the highest score of the whole result.
        await until(pilot, lambda: g.row_count > 0 and g.rows[0][1] == 999, what="server sort")
        assert not g.finished and g.row_count < 3000
        assert "score ▼" in screen_text(app)
        assert g.view_text == "Sort: score ▼ · by the server"
        assert g.cursor_coordinate[1] == 1
        await pilot.press("f")
        g.query_one("#results-prompt", Input).value = "n > 2990 and score < 500"
        await pilot.press("enter")
        await until(pilot, lambda: g.finished, what="filtered result")
        expected = sorted(((n, n * 7919 % 1000) for n in range(2991, 3001) if n * 7919 % 1000 < 500), key=lambda r: -r[1])
        assert [tuple(row) for row in g.rows] == expected
        # All rows are loaded now: the next sort is exact here, without the server.
        sent = app.screen.query_runner.sql
        await pilot.press("left", "s")
        assert [row[0] for row in g.body._grid._shown] == sorted(n for n, _ in expected)
        assert app.screen.query_runner.sql == sent
        assert g.view_text == 'Sort: n ▲ · Filter: "n" > 2990 AND "score" < 500'
        # Clearing the filter the server applied asks the server again for every row.
        await pilot.press("f")
        g.query_one("#results-prompt", Input).value = ""
        await pilot.press("enter")
        await until(pilot, lambda: g.row_count > 0 and not g.finished, what="unfiltered again")
        assert g.view_text == "Sort: n ▲ · by the server"
        assert [row[0] for row in g.rows[:3]] == [1, 2, 3]
        # Memory keeps what the user ran, never the wrapper the app built around it.
        app.screen.query_runner.stop()
        await pilot.pause(0.3)
        texts = [hit.text for hit in await app.session.recall("", limit=50)]
        assert any(text.startswith("SELECT g AS n") for text in texts)
        assert not any(text.startswith("SELECT * FROM (") for text in texts), texts


async def test_a_statement_that_cannot_run_again_sorts_the_loaded_rows(pg_fresh_db):
    app = _app(pg_fresh_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "CREATE TABLE t (id int)")
        await run(pilot, "INSERT INTO t SELECT g FROM generate_series(1, 500) AS g RETURNING id")
        g = grid(pilot)
        await until(pilot, lambda: g.row_count > 0, what="rows")
        assert not g.finished
        g.focus()
        await pilot.press("s", "s")
        await pilot.pause()
        loaded = g.row_count
        assert [row[0] for row in g.body._grid._shown][:3] == [loaded, loaded - 1, loaded - 2]
        assert g.view_text == "Sort: id ▼ · loaded rows only: only a query that reads can be sorted on the server, not an insert"
        assert app.screen.query_runner.sql.startswith("INSERT")  # not run again


@pytest.mark.mongo
async def test_mongodb_results_sort_and_filter_the_loaded_rows(mongo_url):
    import uuid

    app = _app(mongo_url)
    collection = f"grid_{uuid.uuid4().hex[:8]}"
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        docs = ", ".join(f"{{_id: {i}, score: {i * 37 % 101}}}" for i in range(300))
        await run(pilot, f"db.{collection}.insertMany([{docs}])")
        await run(pilot, f"db.{collection}.find({{}}, {{score: 1}}).sort({{_id: 1}})")
        g = grid(pilot)
        await until(pilot, lambda: g.row_count > 0, what="rows")
        assert not g.finished and g.row_count < 300
        g.focus()
        names = [name for name, _ in g.columns]
        g.move_cursor(0, names.index("score"))
        await pilot.press("s", "s")
        await pilot.pause()
        loaded = [row[names.index("score")] for row in g.rows]
        assert [row[names.index("score")] for row in g.body._grid._shown] == sorted(loaded, reverse=True)
        assert g.view_text == "Sort: score ▼ · loaded rows only: MongoDB results are sorted and filtered on the loaded rows"
        await pilot.press("f")
        g.query_one("#results-prompt", Input).value = "score > 90"
        await pilot.press("enter")
        shown = [row[names.index("score")] for row in g.body._grid._shown]
        assert shown and all(score > 90 for score in shown)
        assert shown == sorted(shown, reverse=True)
