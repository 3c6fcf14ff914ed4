"""Snapshots of the results grid's tools at 120×36 and 80×24: the sort and filter header (the
view bar and the ▼ on the sorted column) and the cell viewer's pretty-printed JSON."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.tui.appkit import grid, type_sql, until
from tests.tui.test_app_snapshots import SIZES, SnapshotsDir, app_for, demo, ready  # noqa: F401
import pytest_textual_snapshot

pytestmark = pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")


@pytest.fixture(autouse=True)
def _snapshots_in_top_level_folder(monkeypatch):
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", SnapshotsDir)


async def _result(pilot, sql: str) -> None:
    await ready(pilot, query=None)
    type_sql(pilot, sql)
    await pilot.press("f5")
    g = grid(pilot)
    await until(pilot, lambda: g.finished, what="query")
    await pilot.press("alt+r")


@pytest.mark.parametrize("size", SIZES)
def test_results_sort_filter(snap_compare, demo, size):  # noqa: F811
    async def sorted_and_filtered(pilot):
        await _result(pilot, "SELECT id, status, total FROM orders ORDER BY id LIMIT 60")
        g = grid(pilot)
        await pilot.press("f")
        g.query_one("#results-prompt", Input).value = "total > 100 and status <> cancelled"
        await pilot.press("enter", "right", "right", "s", "s")
        await pilot.pause()

    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=sorted_and_filtered)


@pytest.mark.parametrize("size", SIZES)
def test_results_cell_viewer(snap_compare, demo, size):  # noqa: F811
    async def viewer(pilot):
        await _result(
            pilot,
            "SELECT id, json_object('id', id, 'status', status, 'lines', json_array(1, 2, 3),"
            " 'customer', json_object('id', customer_id, 'vip', json('true'))) AS doc FROM orders ORDER BY id LIMIT 3",
        )
        await pilot.press("right", "v")
        await pilot.pause()

    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=viewer)
