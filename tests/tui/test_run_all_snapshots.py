"""Snapshots of Run all's result tabs at 120×36 and 80×24: every statement's result, and a
script whose middle statement failed (its tab marked, the error shown, the run's summary)."""

from __future__ import annotations

import pytest

from aishell.tui.widgets.result_tabs import ResultTabs
from tests.tui.appkit import type_sql, until
from tests.tui.test_app_snapshots import SIZES, _snapshots_in_top_level_folder, app_for, demo, ready  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")
SCRIPTS = {
    "ok": "select 1 as a;\nselect 2 as b;\nselect count(*) as customers from customers;",
    "failed": "select 1 as a;\nselect nosuch\n  from customers;\nselect 3 as c;",
}


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("size", SIZES)
def test_run_all(snap_compare, demo, size, script):
    async def run_all(pilot):
        await ready(pilot, query=None)
        tabs = pilot.app.screen.query_one(ResultTabs)
        type_sql(pilot, SCRIPTS[script])
        await pilot.press("f6")
        await until(pilot, lambda: tabs.summary and not tabs.scripting, what="Run all")
        await pilot.pause()  # idle: the tabs drawn

    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=run_all)
