"""Run all (F6) and ``\\i FILE`` in the workbench: one result tab a statement, the failing one
named and marked in the editor, the results before it kept, the ones after it never run; the run
mode (statement by statement or one transaction) on screen and switched with Shift-F6."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aishell.engine.demo import ensure_demo_database
from aishell.tui.controllers import query
from aishell.tui.widgets import result_tabs
from aishell.tui.widgets.result_tabs import ResultTabs
from tests.tui.appkit import connected, copy_db, grid, make_app, type_sql, until

SIZE = (120, 36)


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory) -> Path:
    return ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db")


@pytest.fixture
def demo_db(demo_master, tmp_path) -> Path:
    return copy_db(demo_master, tmp_path)


def tabs_of(pilot) -> ResultTabs:
    return pilot.app.screen.query_one(ResultTabs)


async def run_all(pilot, sql: str) -> ResultTabs:
    """Type ``sql``, press F6 and wait until the script has ended."""
    tabs = tabs_of(pilot)
    type_sql(pilot, sql)
    await pilot.pause()
    tabs.summary = ""
    await pilot.press("f6")
    await until(pilot, lambda: tabs.summary and not tabs.scripting, what=f"Run all of {sql!r}")
    return tabs


def status(g) -> str:
    return str(g.query_one("#results-status").content)


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}


async def test_run_all_shows_one_tab_per_statement_and_keys_move_between_them(demo_db, monkeypatch):
    """Tabs, keys and clicks between them, a plain run after, and the cap on tabs."""
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        tabs = await run_all(pilot, "select 1 as a; select 2 as b; select count(*) as n from customers;")
        g = grid(pilot)
        assert [(s.number, s.label, s.state) for s in tabs.slots] == [
            (1, "select 1 as a", "ok"), (2, "select 2 as b", "ok"), (3, "select count(*) as n from customers", "ok")]
        assert tabs.has_class("-tabs") and tabs.query_one("#result-strip").region.height == 1
        strip = str(tabs.query_one("#result-strip").content)
        assert strip.startswith(" 1 select 1 ") and "✓  2 select 2 " in strip and "✓  3 select co" in strip
        assert "stop on error" in str(g.border_subtitle) and "3 ran" in str(g.border_subtitle)
        # The last result is shown, with its own status line (rows, time, status).
        assert tabs.active == 2 and g.columns[0][0] == "n" and g.rows[0][0] == 6000
        assert status(g).startswith("1 row · ")
        # Alt-PageUp from the editor, ] and [ (Ctrl-PageDown/Up) in the results.
        await pilot.press("alt+pageup")
        assert tabs.active == 1 and g.columns[0][0] == "b" and g.rows[0][0] == 2 and g.finished
        assert status(g).startswith("1 row · ")
        await pilot.press("alt+r", "left_square_bracket")
        assert tabs.active == 0 and g.rows[0][0] == 1
        # The record view (x) stays on from tab to tab.
        await pilot.press("x", "ctrl+pagedown", "right_square_bracket")
        assert tabs.active == 2 and g.rows[0][0] == 6000 and g.expanded
        await pilot.press("x")
        # A click on a tab shows it.
        await pilot.click("#result-strip", offset=(3, 0))
        assert tabs.active == 0 and g.columns[0][0] == "a"
        # A single statement afterwards: one grid as before, no strip.
        type_sql(pilot, "select 42 as answer")
        await pilot.press("f5")
        await until(pilot, lambda: g.finished and g.columns and g.columns[0][0] == "answer", what="single statement")
        assert not tabs.has_class("-tabs") and not tabs.slots and g.border_subtitle in (None, "")
        # At most MAX_TABS results are kept; the summary counts the others (4 here, not 20: fast).
        cap = 4
        monkeypatch.setattr(result_tabs, "MAX_TABS", cap)
        monkeypatch.setattr(query, "MAX_TABS", cap)
        count = cap + 3
        tabs = await run_all(pilot, "\n".join(f"select {i} as n{i};" for i in range(1, count + 1)))
        assert len(tabs.slots) == cap and [s.number for s in tabs.slots] == list(range(1, cap + 1))
        assert f"{count} ran · {cap} shown" in str(grid(pilot).border_subtitle)
        assert tabs.active == cap - 1 and g.columns[0][0] == f"n{cap}"
        # The strip scrolls so the tab shown is on it (four tabs do not fit in 52 columns).
        strip = str(tabs.query_one("#result-strip").content)
        assert strip.startswith("‹ ") and f" {cap} select" in strip and " 1 select" not in strip


async def test_a_failing_statement_is_named_and_marked_and_stops_the_run(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        tabs = await run_all(pilot, "create table t1 (a);\ninsert into t1 values (1);\n\nselect a,\n  nosuch from t1;\ncreate table t3 (a);")
        g = grid(pilot)
        assert [s.state for s in tabs.slots] == ["ok", "ok", "failed"]
        assert tabs.active == 2 and g.has_class("-error") and "nosuch" in str(g.query_one("#results-message").content)
        assert str(tabs.query_one("#result-strip").content).rstrip().endswith("3 select a, … ✗")
        assert "#3 failed · rest not run" in str(g.border_subtitle)
        # The failing statement is marked where it starts in the buffer (SQLite gives no position).
        editor = app.screen.query_one("#editor")
        assert editor.text_area.cursor_location == (3, 0)
        # Statement by statement: the work before it stays, the statement after it never ran.
        assert "t1" in tables(demo_db) and "t3" not in tables(demo_db)
        with sqlite3.connect(demo_db) as conn:
            assert conn.execute("select a from t1").fetchall() == [(1,)]
        # Results before the failure are kept: their tabs still show them.
        await pilot.press("alt+pageup")
        assert g.finished and not g.has_class("-error") and "affected" in status(g).lower() or "insert" in status(g).lower()
        # A statement that starts mid-line is marked at its column.
        await run_all(pilot, "select 1 as a; select nosuch from customers")
        assert editor.text_area.cursor_location == (0, 15)
        # Escape while a statement runs: it is cancelled and the script stops there.
        tabs = tabs_of(pilot)
        slow = "with recursive c(x) as (select 1 union all select x + 1 from c where x < 300000000) select count(*) from c"
        type_sql(pilot, f"select 1 as a;\n{slow};\ncreate table never (a);")
        await pilot.press("f6")
        await until(pilot, lambda: len(tabs.slots) == 2 and app.session.busy, what="the slow statement")
        await pilot.press("escape")
        await until(pilot, lambda: not tabs.scripting and tabs.summary, what="the script to stop")
        assert [s.state for s in tabs.slots] == ["ok", "failed"] and "#2 failed" in tabs.summary
        assert "never" not in tables(demo_db)


async def test_one_transaction_mode_rolls_everything_back_on_error(demo_db, monkeypatch):
    monkeypatch.setenv("AISHELL_UI__RUN_ALL", "transaction")  # the setting: ui.run_all in config.toml
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert app.screen.query_runner.mode == "transaction"
        tabs = await run_all(pilot, "create table tx1 (a);\ninsert into tx1 values (1);\nselect nosuch from tx1;")
        g = grid(pilot)
        assert [s.state for s in tabs.slots] == ["ok", "ok", "failed"]
        assert "one transaction · #3 failed · rolled back" in str(g.border_subtitle)
        assert "tx1" not in tables(demo_db)
        # Without an error the transaction commits.
        tabs = await run_all(pilot, "create table tx2 (a);\ninsert into tx2 values (1);")
        assert [s.state for s in tabs.slots] == ["ok", "ok"] and "tx2" in tables(demo_db)
        assert not app.session.transaction.open
        # A script that commits by itself: the run's own end has nothing left to commit.
        tabs = await run_all(pilot, "insert into tx2 values (2);\ncommit;\nselect count(*) as n from tx2;")
        assert [s.state for s in tabs.slots] == ["ok", "ok", "ok"] and grid(pilot).rows[0][0] == 2
        # Shift-F6 again: back to statement by statement.
        await pilot.press("shift+f6")
        assert app.screen.query_runner.mode == "statements"
        tabs = await run_all(pilot, "create table tx3 (a);\nselect nosuch from tx3;")
        assert "tx3" in tables(demo_db) and "stop on error" in str(g.border_subtitle)


async def test_the_last_result_pages_as_the_grid_asks_and_earlier_ones_keep_their_first_rows(demo_db, tmp_path, monkeypatch):
    kept = 1000  # two pages: a statement keeps whole pages up to KEPT_ROWS
    monkeypatch.setattr(query, "KEPT_ROWS", kept)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        page = app.settings.ui.page_size
        tabs = tabs_of(pilot)
        type_sql(pilot, "select id from order_items order by id;\nselect id from orders where id <= 1600 order by id")
        await pilot.press("f6")
        g = grid(pilot)
        await until(pilot, lambda: len(tabs.slots) == 2 and g.row_count >= page, what="last statement's first page")
        first = tabs.slots[0]
        assert first.finished and first.rowcount == kept and f"first {kept:,} rows kept" in first.status
        assert not g.finished and g.row_count < 1600 and tabs.scripting
        # NeedRows on the tab shown (the live one) fetches the next page.
        g.body.focus()
        g.move_cursor(page - 10, 0)
        await until(pilot, lambda: g.row_count > page, what="next page")
        # Another tab's grid asking for rows does not pull pages of the live one.
        loaded = g.row_count
        await pilot.press("left_square_bracket")
        assert g.row_count == kept and g.finished
        await pilot.press("end")
        await pilot.pause(0.2)
        assert tabs.slots[1].row_count == loaded
        # Export writes the tab shown.
        out = tmp_path / "first.csv"
        g.request_export("csv", str(out))
        await until(pilot, lambda: out.exists() and out.read_text().count("\n") == kept + 1, what="export")
        # Back on the live tab: its rows are there and it still pages (End fetches the rest).
        await pilot.press("right_square_bracket")
        assert g.row_count == loaded and not g.finished
        await pilot.press("end")
        await until(pilot, lambda: g.finished and g.row_count == 1600, what="the rest after switching back")
        await until(pilot, lambda: not tabs.scripting, what="script end")


async def test_include_runs_a_file_like_run_all(demo_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.sql").write_text("create table from_file (a);\ninsert into from_file values (7);\nselect a from from_file;\n")
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        tabs = tabs_of(pilot)
        type_sql(pilot, "\\i setup.sql")
        await pilot.press("f5")
        await until(pilot, lambda: tabs.summary and not tabs.scripting, what="\\i")
        g = grid(pilot)
        assert [s.label for s in tabs.slots] == ["create table from_file (a)", "insert into from_file values (7)", "select a from from_file"]
        assert g.rows[0][0] == 7
        # A statement of the file that fails names the file and line; the buffer is not marked.
        (tmp_path / "bad.sql").write_text("select 1;\nselect nosuch from from_file;\n")
        type_sql(pilot, "\\i bad.sql")
        tabs.summary = ""
        await pilot.press("f5")
        await until(pilot, lambda: tabs.summary and not tabs.scripting, what="\\i bad.sql")
        assert [s.state for s in tabs.slots] == ["ok", "failed"]
        assert "bad.sql:2: " in str(g.query_one("#results-message").content)
        # A file that cannot be read is one error on the \i line.
        type_sql(pilot, "\\i nowhere.sql")
        tabs.summary = ""
        await pilot.press("f5")
        await until(pilot, lambda: tabs.summary and not tabs.scripting, what="\\i nowhere.sql")
        assert "nowhere.sql: no such file" in str(g.query_one("#results-message").content)


@pytest.mark.pg
async def test_postgres_script_error_position_and_one_transaction_inside_an_open_one(pg_fresh_db):
    import asyncpg

    app = make_app(pg_fresh_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        # The server's position inside the third statement lands on the word in the buffer.
        tabs = await run_all(pilot, "create table r (a int);\ninsert into r values (1);  select a,\n       nosuch from r;\ncreate table r_after (b int);")
        assert [s.state for s in tabs.slots] == ["ok", "ok", "failed"]
        area = app.screen.query_one("#editor").text_area
        assert area.cursor_location == (2, 7) and area.text[slice(*area.error_range)] == "nosuch"
        # One transaction inside a transaction the user opened: a savepoint, so only the
        # script's work is undone and the user's transaction goes on.
        tabs = await run_all(pilot, "begin; insert into r values (2)")
        assert app.session.transaction.open
        await pilot.press("shift+f6")
        tabs = await run_all(pilot, "insert into r values (3);\nselect nosuch from r;")
        assert "failed · rolled back" in str(grid(pilot).border_subtitle) and app.session.transaction.open
        tabs = await run_all(pilot, "insert into r values (4);\ncommit;")
        assert not app.session.transaction.open
        conn = await asyncpg.connect(pg_fresh_db)
        try:
            assert [r["a"] for r in await conn.fetch("select a from r order by a")] == [1, 2, 4]
        finally:
            await conn.close()
