"""The memory pane in the workbench: each entry shows the statement as typed (``\\l``, not
the SQL sent for it), its database, age, duration and outcome; why it ranked is one key away;
filters narrow the list; a pinned statement comes first; a forgotten one is gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import connected, copy_db, make_app, run, until
from tests.tui.widgets_harness import screen_text


@pytest.fixture
def demo_db(tmp_path_factory, tmp_path) -> Path:
    return copy_db(ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db"), tmp_path)


async def test_memory_entries_filters_pin_and_forget(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        for sql in ("SELECT 1 AS one", "\\l", "SELECT nosuch FROM orders"):
            await run(pilot, sql)
        screen = app.screen
        await pilot.press("alt+h")
        pane = screen.query_one("#memory")
        screen.insights.search("")
        await until(pilot, lambda: len(pane.shown) == 3, what="three entries")
        texts = [hit["text"] for hit in pane.shown]
        assert set(texts) == {"SELECT 1 AS one", "\\l", "SELECT nosuch FROM orders"}  # \l as typed
        assert not any("pragma" in t.lower() or "sqlite_master" in t.lower() for t in texts)
        await pilot.press("down")  # into the hits
        await pilot.pause()
        text = screen_text(app)
        assert "✗ failed" in text and "✓ ok" in text and "just now" in text and " ms" in text
        assert "demo.db" in text
        assert "ranked" not in text
        await pilot.press("w")
        await pilot.pause()
        assert "ranked " in screen_text(app) and "recency" in screen_text(app)
        await pilot.press("f")  # succeeded only
        await pilot.pause()
        assert {h["text"] for h in pane.shown} == {"\\l", "SELECT 1 AS one"}
        assert "only: succeeded" in screen_text(app)
        await pilot.press("f", "f")  # failed only, then any
        await pilot.press("t")  # last hour: all three ran just now
        await pilot.pause()
        assert len(pane.shown) == 3
        await pilot.press("t", "t", "t")
        # pin the last one: it comes first, marked
        pane.query_one("#memory-hits").highlighted = 2
        pinned_text = pane.shown[2]["text"]
        await pilot.press("p")
        await until(pilot, lambda: pane.shown and pane.shown[0]["text"] == pinned_text and pane.shown[0]["pinned"], what="pinned first")
        assert "★ " + pinned_text in screen_text(app)
        # forget the failed one
        failed = next(i for i, h in enumerate(pane.shown) if h["text"] == "SELECT nosuch FROM orders")
        pane.query_one("#memory-hits").highlighted = failed
        await pilot.press("delete")
        await until(pilot, lambda: len(pane.shown) == 2, what="forgotten")
        assert "SELECT nosuch FROM orders" not in [h["text"] for h in pane.shown]
        assert "SELECT nosuch FROM orders" not in [h.text for h in await app.session.memory.search("nosuch")]
