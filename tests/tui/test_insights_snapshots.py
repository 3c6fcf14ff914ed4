"""Snapshots of the insights (SVGs in the top-level snapshots/ folder, named after the test):
the insights maximized with a finding open, the plan tree (one plan, and index advice before
and after side by side) and the 80×24 layout with the side panes asked for."""

from __future__ import annotations

import pytest

from aishell.tui.widgets.plan import PlanView
from tests.tui.appkit import type_sql, until
from tests.tui.test_app_snapshots import _snapshots_in_top_level_folder, app_for, demo, ready  # noqa: F401
from tests.tui.widgets_harness import WidgetHarness

pytestmark = pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")
OR_QUERY = "SELECT id, total FROM orders\nWHERE status = 'shipped' OR customer_id = 3"

BEFORE = [
    {"depth": 0, "node": "Sort", "conditions": [("Sort Key", "o.total DESC")], "plan_rows": 300, "cost": 742.6, "share": 0.03},
    {"depth": 1, "node": "Hash Join", "conditions": [("Hash Cond", "(o.customer_id = c.id)")], "plan_rows": 300, "cost": 720.1, "share": 0.05},
    {"depth": 2, "node": "Seq Scan", "relation": "orders", "alias": "o", "conditions": [("Filter", "(customer_id = 42)")],
     "plan_rows": 15, "cost": 621.0, "share": 0.84, "costliest": True},
    {"depth": 2, "node": "Hash", "plan_rows": 2000, "cost": 56.0, "share": 0.01},
    {"depth": 3, "node": "Seq Scan", "relation": "customers", "alias": "c", "plan_rows": 2000, "cost": 31.0, "share": 0.04},
]
AFTER = [
    {"depth": 0, "node": "Sort", "conditions": [("Sort Key", "o.total DESC")], "plan_rows": 300, "cost": 130.2, "share": 0.05},
    {"depth": 1, "node": "Hash Join", "conditions": [("Hash Cond", "(o.customer_id = c.id)")], "plan_rows": 300, "cost": 123.7, "share": 0.27},
    {"depth": 2, "node": "Index Scan", "relation": "orders", "alias": "o", "index": "<13706>btree_orders_customer_id",
     "conditions": [("Index Cond", "(customer_id = 42)")], "plan_rows": 15, "cost": 8.6, "share": 0.07},
    {"depth": 2, "node": "Hash", "plan_rows": 2000, "cost": 56.0, "share": 0.19},
    {"depth": 3, "node": "Seq Scan", "relation": "customers", "alias": "c", "plan_rows": 2000, "cost": 31.0, "share": 0.42,
     "costliest": True},
]
ANALYZED = [
    {"depth": 0, "node": "Insert", "relation": "audit", "plan_rows": 1000, "actual_rows": 0, "loops": 1, "cost": 15.0, "time_ms": 1.84, "share": 0.81, "costliest": True},
    {"depth": 1, "node": "Function Scan", "relation": "generate_series", "alias": "g", "plan_rows": 1000, "actual_rows": 500,
     "loops": 1, "cost": 10.0, "time_ms": 0.43, "share": 0.19},
]


def test_insights_maximized(snap_compare, demo):  # noqa: F811
    async def maximize(pilot):
        await ready(pilot, query=None)
        screen = pilot.app.screen
        type_sql(pilot, OR_QUERY)
        screen.query_one("#editor").text_area.cursor_location = (1, 2)
        pane = screen.query_one("#suggestions")
        await until(pilot, lambda: any(f.get("code") == "AS006" for f in pane._findings), what="findings")
        await pilot.press("alt+s", "f10")
        pane.query_one("#suggestions-list").highlighted = next(i for i, f in enumerate(pane._rows) if f and f["code"] == "AS006")
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app_for(demo), terminal_size=(120, 36), run_before=maximize)


@pytest.mark.parametrize("kind", ["explain_analyze", "advice"])
def test_plan_tree(snap_compare, kind):
    def show(pilot):
        view = pilot.app.widget
        if kind == "advice":
            view.show(BEFORE, ("Before · cost 742.60", "With CREATE INDEX ON orders (customer_id); · cost 130.20"), AFTER)
        else:
            view.show(ANALYZED, ("EXPLAIN ANALYZE · 2.27 ms", ""))

    assert snap_compare(WidgetHarness(PlanView()), terminal_size=(120, 16), run_before=show)


def test_layout_80x24_side_panes(snap_compare, demo):  # noqa: F811
    async def both(pilot):
        await ready(pilot, query=None)
        await until(pilot, lambda: not pilot.app.screen.query("PaneSlot"), what="side panes")
        await pilot.press("ctrl+b")
        await pilot.pause(0.2)
        await pilot.press("f9")
        await pilot.pause()

    assert snap_compare(app_for(demo), terminal_size=(80, 24), run_before=both)
