"""psql's client-side commands in the workbench: variables interpolated into what runs, a named
query run by \\n, \\pset null in the grid, \\x auto deciding by the row's width."""

from __future__ import annotations

import sqlite3

from aishell.tui.widgets.results import cell_text, set_null_text
from tests.tui.appkit import connected, grid, make_app, run, until

SIZE = (120, 36)


def _db(tmp_path):
    path = tmp_path / "v.db"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE t(id INTEGER, label TEXT); INSERT INTO t VALUES (1, NULL), (2, 'two');")
    db.commit()
    db.close()
    return path


async def test_variables_named_queries_null_and_auto_expanded(tmp_path):
    app = make_app(_db(tmp_path))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            g = grid(pilot)
            screen = pilot.app.screen
            await pilot.press("escape")
            screen.submit("\\set n 2")
            await until(pilot, lambda: screen.query_runner.commands.variables.get("n") == "2", what="\\set")
            await run(pilot, "select id, ':n' as literal, label from t where id = :n")
            assert [tuple(r) for r in g.rows] == [(2, ":n", "two")]

            screen.submit("\\ns one select id, label from t where id = $1")
            await pilot.pause(0.3)
            g.clear()
            screen.submit("\\n one 1")
            await until(pilot, lambda: g.finished and g.row_count == 1, what="the named query's result")
            assert tuple(g.rows[0]) == (1, None)

            screen.submit("\\pset null (none)")
            await until(pilot, lambda: cell_text(None) == "(none)", what="\\pset null")

            screen.submit("\\x auto")
            await pilot.pause(0.3)
            await run(pilot, "select 1 as a")
            assert not g.expanded
            await run(pilot, "select printf('%.200c', 'x') as wide, 2 as b")
            assert g.expanded
    finally:
        set_null_text("NULL")
