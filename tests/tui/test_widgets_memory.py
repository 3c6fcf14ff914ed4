"""MemoryPane: search-as-you-type, ranked hits with their reasons, recall on Enter."""

from __future__ import annotations

from textual.widgets import Input, OptionList

from tests.tui.widgets_harness import WidgetHarness, screen_text, widget_snap_compare  # noqa: F401
from aishell.tui.widgets.memory import MemoryPane, format_age

HITS = [
    {
        "text": "SELECT c.name, sum(o.total)\n  FROM customers c JOIN orders o ON o.customer_id = c.id\n GROUP BY c.name",
        "database": "demo.db",
        "age_s": 185,
        "duration_ms": 12.34,
        "rows": 42,
        "success": True,
        "score": 0.91,
        "signals": {"recency": 0.4, "text": 0.82, "success": 1.0},
    },
    {
        "text": "SELECT * FROM orderz",
        "database": "shop",
        "age_s": 7300,
        "duration_ms": 1.5,
        "rows": 0,
        "success": False,
        "score": 0.55,
        "signals": {"text": 0.7},
    },
    {"text": "SELECT 1"},
]


async def test_typing_posts_search_changed_and_enter_recalls() -> None:
    pane = MemoryPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        search = pane.query_one("#memory-search", Input)
        pane.query_one("#memory-hits", OptionList).focus()
        await pilot.press("slash")  # focus the search box from anywhere in the pane
        assert search.has_focus and search.value == ""
        await pilot.press(*"ord")
        await pilot.pause()
        assert [m.text for m in app.posted(MemoryPane.SearchChanged)] == ["o", "or", "ord"]
        assert app.posted(MemoryPane.SearchChanged)[0].control is pane
        assert pane.search_text == "ord"

        pane.show_hits(HITS)
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert "SELECT c.name, sum(o.total) FROM customers c JOIN orders o" in text
        assert "✓ ok 3 min ago · 12.3 ms · 42 rows · demo.db" in text
        assert "✗ failed 2 h ago · 1.5 ms · 0 rows · shop" in text
        assert "3 matches" in text
        assert "ranked" not in text  # why it ranked is one key away
        pane.action_toggle_why()
        await pilot.pause()
        text = screen_text(app)
        assert "ranked 0.91: success 1.00 · text 0.82 · recency 0.40" in text
        assert "ranked 0.55: text 0.70" in text

        await pilot.press("down", "down")  # into the hits, then the second one
        assert pane.query_one("#memory-hits", OptionList).has_focus
        await pilot.press("enter")
        await pilot.pause()
        (recall,) = app.posted(MemoryPane.Recall)
        assert recall.text == "SELECT * FROM orderz" and recall.control is pane

        # Enter in the search box goes to the hits; Enter there recalls the best one.
        pane.focus()
        await pilot.pause()
        assert search.has_focus
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert app.posted(MemoryPane.Recall)[-1].text == HITS[0]["text"]


async def test_no_matches_and_unavailable() -> None:
    pane = MemoryPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        search = pane.query_one("#memory-search", Input)
        search.focus()
        await pilot.press("x")
        pane.show_hits([])
        await pilot.pause()
        assert "No statement in the history matches" in screen_text(app)
        await pilot.press("enter")
        assert not app.posted(MemoryPane.Recall)

        pane.show_unavailable("memory file is corrupt (moved aside to memory.db.corrupt)")
        await pilot.pause()
        assert "Memory not available: memory file is corrupt" in screen_text(app)
        assert search.disabled
        pane.show_hits(HITS[:1])
        await pilot.pause()
        assert not search.disabled and "not available" not in screen_text(app)


def test_format_age() -> None:
    assert format_age(0) == "just now"
    assert format_age(60) == "1 min ago"
    assert format_age(3600) == "1 h ago"
    assert format_age(86400) == "1 day ago"
    assert format_age(86400 * 90) == "3 months ago"
    assert format_age(86400 * 800) == "2 years ago"


def test_snapshot_memory(widget_snap_compare) -> None:
    async def run_before(pilot) -> None:
        pane = pilot.app.widget
        await pilot.press(*"orders")
        pane.show_hits(HITS)
        pane.focus_hits()

    app = WidgetHarness(MemoryPane())
    assert widget_snap_compare(app, run_before=run_before, terminal_size=(80, 24))


def test_snapshot_memory_unavailable(widget_snap_compare) -> None:
    def run_before(pilot) -> None:
        pilot.app.widget.show_unavailable("the memory store could not be opened")

    assert widget_snap_compare(WidgetHarness(MemoryPane()), run_before=run_before, terminal_size=(80, 24))
