"""Panes that say what they are: a title in every border at every size, names in the schema
tree not cut at 120 columns, an editor never narrower than 40 columns (the insights column folds
first), and F10 on the insights giving them the whole screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import connected, copy_db, make_app, until
from tests.tui.widgets_harness import screen_text

EDITOR_MIN = 40


@pytest.fixture
def demo_db(tmp_path_factory, tmp_path) -> Path:
    return copy_db(ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db"), tmp_path)


def _top_border(app, pane) -> str:
    """The row of the screen that holds ``pane``'s top border, cut to the pane's columns."""
    region = pane.region
    row = screen_text(app).splitlines()[region.y]
    return row[region.x : region.x + region.width]


async def _side_panes_shown(pilot) -> None:
    screen = pilot.app.screen
    await until(pilot, lambda: not screen.query("PaneSlot"), what="side panes mounted")
    for name, key in (("#schema", "ctrl+b"), ("#insights", "f9")):
        if not screen.query_one(name).display:
            await pilot.press(key)
    await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_every_pane_has_its_title_in_its_border(demo_db, size):
    app = make_app(demo_db)
    async with app.run_test(size=size) as pilot:
        await connected(pilot)
        screen = app.screen
        await _side_panes_shown(pilot)
        titles = {"#editor": "Editor", "#results": "Results"}
        for name, title in titles.items():
            assert title in _top_border(app, screen.query_one(name)), (name, _top_border(app, screen.query_one(name)))
        for name in ("#schema", "#insights"):
            pane = screen.query_one(name)
            if pane.display:
                expected = "Schema" if name == "#schema" else "Suggestions"
                assert expected in _top_border(app, pane), (name, _top_border(app, pane))
        insights = screen.query_one("#insights")
        for tab in ("metrics", "memory"):
            await pilot.press(f"alt+{'m' if tab == 'metrics' else 'h'}")
            await pilot.pause()
            if insights.display:
                assert tab.capitalize() in _top_border(app, insights)


async def test_schema_names_are_not_cut_at_120_columns(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        tree = app.screen.query_one("#schema")
        await until(pilot, lambda: len(tree.root.children) and len(tree.root.children[0].children) > 5, what="tables")
        await pilot.pause()
        text = screen_text(app)
        labels = [node.label.plain for node in tree.root.children[0].children]
        assert "inventory_events" in " ".join(labels)
        for label in labels:
            assert label in text, f"{label!r} is cut"


@pytest.mark.parametrize("first,second", [("ctrl+b", "f9"), ("f9", "ctrl+b")])
async def test_editor_keeps_40_columns_at_80x24(demo_db, first, second):
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        screen = app.screen
        await until(pilot, lambda: not screen.query("PaneSlot"), what="side panes mounted")
        for key in (first, second):
            await pilot.press(key)
            await pilot.pause()
            await pilot.pause()
            assert screen.query_one("#editor").outer_size.width >= EDITOR_MIN
        # the pane asked for last stays on screen; the other one folded
        asked = "#insights" if second == "f9" else "#schema"
        assert screen.query_one(asked).display


async def test_a_narrowing_terminal_folds_the_insights_first(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        screen = app.screen
        await _side_panes_shown(pilot)
        assert screen.query_one("#schema").display and screen.query_one("#insights").display
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        await pilot.pause()
        # 90 columns: 40 for the editor leaves too little for both side columns
        assert screen.query_one("#editor").outer_size.width >= EDITOR_MIN
        assert screen.query_one("#schema").display
        assert not screen.query_one("#insights").display


async def test_f10_gives_the_insights_the_whole_screen(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        screen = app.screen
        await _side_panes_shown(pilot)
        await pilot.press("alt+s")
        await pilot.press("f10")
        await pilot.pause()
        insights = screen.query_one("#insights")
        assert screen.maximized is insights
        assert insights.outer_size.width == 120
        await pilot.press("f10")
        await pilot.pause()
        assert screen.maximized is None
