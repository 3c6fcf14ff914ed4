"""The workbench with prefetch on, as a user sees it: a statement that usually follows the one
just run comes from prefetch, and the Metrics pane counts the hit and the load it added."""

from __future__ import annotations

from pathlib import Path

import pytest

from aishell.engine.config import Settings
from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import connected, copy_db, grid, make_app, run, until

FIRST = "SELECT status, count(*) FROM orders GROUP BY status"
THEN = "SELECT product_id, sum(quantity) AS sold FROM order_items GROUP BY product_id ORDER BY sold DESC, product_id LIMIT 5"


@pytest.fixture
def demo_db(tmp_path_factory, tmp_path) -> Path:
    return copy_db(ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db"), tmp_path)


def cache_figures(app) -> str:
    metrics = app.screen.query_one("#metrics")
    return " ".join(" ".join(str(line.content).split()) for line in metrics.query("#cache-body Static"))


async def test_the_usual_next_statement_comes_from_prefetch_and_metrics_count_it(demo_db):
    settings = Settings.load()
    settings.cache.prefetch = True
    app = make_app(demo_db, settings=settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        for _ in range(2):  # the user's routine, twice: THEN follows FIRST
            await run(pilot, FIRST)
            await run(pilot, THEN)
        expected = [tuple(row) for row in (await app.session.execute(f"{THEN} -- fresh")).rows]
        await run(pilot, FIRST)
        prefetcher = app.session.prefetcher
        await until(pilot, lambda: app.session._cache.ahead(THEN), what="the prefetched result")
        await run(pilot, THEN)
        g = grid(pilot)
        await until(pilot, lambda: g.finished and g.row_count == 5, what="the result")
        assert [tuple(row) for row in g.rows] == expected
        assert prefetcher.successors.next_of(FIRST) == THEN
        await pilot.press("alt+m")
        await until(pilot, lambda: "prefetch hits 1" in cache_figures(app), what="the hit in Metrics")
        figures = cache_figures(app)
        assert f"prefetched {prefetcher.runs}" in figures and "prefetch time" in figures and "saved" in figures
