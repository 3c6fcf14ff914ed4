"""SuggestionsPane: findings in colour, jump to a finding, plan, explain/advice keys."""

from __future__ import annotations

from textual.widgets import OptionList

from tests.tui.widgets_harness import WidgetHarness, screen_text, widget_snap_compare  # noqa: F401
from aishell.tui.widgets.suggestions import SuggestionsPane

FINDINGS = [
    {
        "code": "AS003",
        "rule": "select-star",
        "severity": "warning",
        "message": "SELECT * reads every column",
        "line": 1,
        "column": 8,
        "suggestion": "List the columns you need",
    },
    {
        "code": "AS000",
        "rule": "parse-error",
        "severity": "error",
        "message": "Invalid expression / Unexpected token",
        "line": 3,
        "column": 5,
        "suggestion": None,
    },
    {"code": "AS010", "rule": "implicit-cross-join", "severity": "info", "message": "No position here"},
]
PLAN = "Seq Scan on orders  (cost=0.00..431.00 rows=21000 width=36)\n  Filter: (customer_id = 42)"
ADVICE = [
    {
        "code": "AS101",
        "rule": "index-advice",
        "severity": "info",
        "message": "A btree index on orders(customer_id) cuts the cost from 431 to 8.3",
        "line": 2,
        "column": 7,
        "suggestion": "CREATE INDEX ON orders (customer_id)",
    }
]


async def test_findings_select_and_keys() -> None:
    pane = SuggestionsPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        pane.show_findings(FINDINGS)
        await pilot.pause()
        text = screen_text(app)
        assert "3 findings: 1 error, 1 warning, 1 info" in text
        assert "▲ warning  1:8  AS003 select-star" in text
        assert "SELECT * reads every column" in text and "→ List the columns you need" in text
        assert "✗ error  3:5  AS000 parse-error" in text

        option_list = pane.query_one("#suggestions-list", OptionList)
        pane.focus()
        await pilot.pause()
        assert option_list.has_focus
        await pilot.press("down", "enter")
        await pilot.pause()
        (selected,) = app.posted(SuggestionsPane.FindingSelected)
        assert (selected.line, selected.column, selected.control) == (3, 5, pane)
        # A finding without a position posts nothing.
        await pilot.press("down", "enter")
        await pilot.pause()
        assert len(app.posted(SuggestionsPane.FindingSelected)) == 1

        await pilot.press("p", "a")
        await pilot.pause()
        assert len(app.posted(SuggestionsPane.ExplainRequested)) == 1
        assert len(app.posted(SuggestionsPane.AdviceRequested)) == 1
        assert app.posted(SuggestionsPane.AdviceRequested)[0].control is pane


async def test_severity_colours_differ() -> None:
    pane = SuggestionsPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)):
        colours = {name: pane.get_component_rich_style(f"suggestions-pane--{name}", partial=True).color for name in ("error", "warning", "info")}
        assert None not in colours.values() and len(set(colours.values())) == 3
        pane.show_findings(FINDINGS[:1])
        prompt = pane.query_one("#suggestions-list", OptionList).get_option_at_index(0).prompt
        spans = [span for span in prompt.spans if prompt.plain[span.start : span.end].endswith("warning")]
        assert spans and spans[0].style.color == colours["warning"]


async def test_plan_and_advice_then_clear() -> None:
    pane = SuggestionsPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        pane.show_findings([])
        await pilot.pause()
        assert "No findings ✓" in screen_text(app)
        pane.show_plan(PLAN, ADVICE)
        await pilot.pause()
        text = screen_text(app)
        assert "Seq Scan on orders" in text and "Filter: (customer_id = 42)" in text
        assert "CREATE INDEX ON orders (customer_id)" in text and "plan below" in text
        option_list = pane.query_one("#suggestions-list", OptionList)
        option_list.focus()
        option_list.highlighted = 1  # the advice, under the "Plan" heading
        await pilot.press("enter")
        await pilot.pause()
        assert [(m.line, m.column) for m in app.posted(SuggestionsPane.FindingSelected)] == [(2, 7)]
        # New findings keep the plan; clear_plan drops it.
        pane.show_findings(FINDINGS[:1])
        await pilot.pause()
        assert "Seq Scan on orders" in screen_text(app)
        pane.clear_plan()
        await pilot.pause()
        text = screen_text(app)
        assert "Seq Scan" not in text and "CREATE INDEX" not in text


async def test_unavailable() -> None:
    pane = SuggestionsPane()
    app = WidgetHarness(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        pane.show_findings(FINDINGS)
        pane.show_unavailable("the analyzer failed to load")
        await pilot.pause()
        text = screen_text(app)
        assert "Suggestions not available: the analyzer failed to load" in text
        assert "select-star" not in text
        pane.show_findings(FINDINGS)
        await pilot.pause()
        assert "not available" not in screen_text(app)


def test_snapshot_suggestions(widget_snap_compare) -> None:
    def run_before(pilot) -> None:
        pane = pilot.app.widget
        pane.show_findings(FINDINGS)
        pane.show_plan(PLAN, ADVICE)
        pane.query_one("#suggestions-list").focus()

    assert widget_snap_compare(WidgetHarness(SuggestionsPane()), run_before=run_before, terminal_size=(80, 24))
