"""A finding you can read: the list cuts it at the pane's width, Enter opens it in full (the
whole message, the suggestion and a preview of the fix), and F10 gives the insights the whole
screen."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from aishell.engine.demo import ensure_demo_database
from aishell.tui.controllers import insights
from aishell.tui.widgets import plan, suggestions
from tests.tui.appkit import connected, copy_db, make_app, type_sql, until
from tests.tui.widgets_harness import screen_text

QUERY = "SELECT id, total FROM orders\nWHERE status = 'shipped' OR customer_id = 3"


@pytest.fixture
def demo_db(tmp_path_factory, tmp_path) -> Path:
    return copy_db(ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db"), tmp_path)


def _words(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def _pane_text(app, pane) -> str:
    region = pane.region
    rows = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(row[region.x : region.right] for row in rows)


@pytest.mark.parametrize("maximized", [False, True])
async def test_a_finding_opens_to_its_full_text_suggestion_and_fix(demo_db, maximized):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        screen = app.screen
        type_sql(pilot, QUERY)
        screen.query_one("#editor").text_area.cursor_location = (1, 2)
        pane = screen.query_one("#suggestions")
        await until(pilot, lambda: any(f.get("code") == "AS006" for f in pane._findings), what="findings")
        finding = next(f for f in pane._findings if f["code"] == "AS006")
        message = finding["message"]
        assert len(message) > 60
        await pilot.press("alt+s")
        if maximized:
            await pilot.press("f10")
        await pilot.pause()
        if not maximized:
            assert _words(message) not in _words(_pane_text(app, pane))  # cut in the list
        rows = pane._rows
        pane.query_one("#suggestions-list").highlighted = rows.index(finding)
        await pilot.press("enter")
        await pilot.pause()
        shown = _words(_pane_text(app, pane))
        assert _words(message) in shown and "Fix preview" in shown
        if not maximized:  # the rest is a scroll away
            shown = _words(str(pane.query_one("#suggestions-detail-text").content))
        # the statement as it is, then the rewrite that replaces it
        assert "- SELECT id, total FROM orders - WHERE status = 'shipped' OR customer_id = 3" in shown
        assert "+ SELECT id, total FROM orders WHERE status = 'shipped' + UNION + SELECT id, total FROM orders WHERE customer_id = 3" in shown
        if maximized:
            assert screen.maximized is screen.query_one("#insights") and pane.region.width > 100
        # Enter jumped to the finding in the editor (not when maximized); o closes it
        assert app.focused is screen.query_one("#sql") if not maximized else app.focused.id == "suggestions-list"
        if not maximized:
            await pilot.press("alt+s")
        await pilot.press("o")
        await pilot.pause()
        assert "Fix preview" not in _words(_pane_text(app, pane))


@pytest.mark.parametrize("module", [insights, plan, suggestions])
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
