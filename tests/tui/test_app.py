"""The workbench under Pilot against the demo SQLite database: every pane and key path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import connected, copy_db, done, grid, make_app, run, type_sql, until

SIZE = (120, 36)


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory) -> Path:
    return ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db")


@pytest.fixture
def demo_db(demo_master, tmp_path) -> Path:
    return copy_db(demo_master, tmp_path)


def message_text(g) -> str:
    return str(g.query_one("#results-message").content)


async def test_run_statement_streams_pages_and_header(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        header = app.screen.query_one("#target")
        assert str(demo_db) in str(header.content)
        assert not app.screen.query_one("#read-only").display
        # Ctrl-J runs the statement under the cursor; only the first page arrives at first.
        await run(pilot, "SELECT id, total FROM orders ORDER BY id", key="ctrl+j")
        g = grid(pilot)
        page = app.settings.ui.page_size
        await until(pilot, lambda: g.row_count >= page, what="first page")
        assert g.columns[0][0] == "id" and g.row_count < 26_000 and not g.finished
        assert g.rows[0][0] == 1
        # Scrolling to the end of the loaded rows asks for more: the app pulls the next page
        # from the stream (End would fetch every page: tests/tui/test_results_tools.py).
        g.body.focus()
        g.move_cursor(g.row_count - 1, 0)
        await until(pilot, lambda: g.row_count > page, what="next page")
        # Cancel while paused: the stream is closed and the grid keeps what it has.
        await pilot.press("escape")
        await until(pilot, lambda: g.finished, what="stream stopped")
        loaded = g.row_count
        assert loaded < 26_000


async def test_statement_under_cursor_selection_and_buffer(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        editor = app.screen.query_one("#editor")
        editor.text_area.load_text("SELECT 1 AS a;\nSELECT 2 AS b;\nSELECT 3 AS c")
        editor.text_area.cursor_location = (1, 3)
        await pilot.press("f5")
        g = grid(pilot)
        await until(pilot, lambda: g.finished and g.columns == [("b", g.columns[0][1])], what="second statement")
        # A selection wins over the statement under the cursor.
        from textual.widgets.text_area import Selection

        editor.text_area.selection = Selection((2, 0), (2, 13))
        await pilot.press("f5")
        await until(pilot, lambda: g.finished and g.columns and g.columns[0][0] == "c", what="selection")
        # F6 runs the whole buffer (a script): the driver returns the last statement's result.
        editor.text_area.cursor_location = (0, 0)
        await pilot.press("f6")
        await until(pilot, lambda: g.finished, what="buffer")


async def test_error_shows_in_results_and_marks_editor(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "SELECT nosuchcolumn FROM orders")
        g = grid(pilot)
        assert g.has_class("-error")
        assert "nosuchcolumn" in message_text(g)
        # The app survives bad input and keeps working.
        await run(pilot, "SELECT count(*) AS n FROM customers")
        await until(pilot, lambda: g.finished and g.rows, what="count")
        assert g.rows[0][0] == 6000


async def test_destructive_statement_asks_first(demo_db):
    from aishell.tui.screens.dialogs import ConfirmScreen

    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        type_sql(pilot, "DELETE FROM reviews")
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        assert "without WHERE" in app.screen.reason
        await pilot.press("n")
        await pilot.pause(0.2)
        assert sqlite3.connect(demo_db).execute("SELECT count(*) FROM reviews").fetchone()[0] == 8000
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation again")
        await pilot.press("y")
        g = grid(pilot)
        await until(pilot, lambda: g.finished, what="delete")
        assert sqlite3.connect(demo_db).execute("SELECT count(*) FROM reviews").fetchone()[0] == 0


async def test_read_only_badge_and_server_refusal(demo_db):
    app = make_app(demo_db, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert app.screen.query_one("#read-only").display
        await run(pilot, "UPDATE products SET stock = 0 WHERE id = 1")
        g = grid(pilot)
        assert g.has_class("-error")
        assert sqlite3.connect(demo_db).execute("SELECT stock FROM products WHERE id = 1").fetchone()[0] != 0


async def test_cancel_long_statement_with_escape(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        await run(pilot, slow, finished=False)
        await until(pilot, lambda: app.session.busy, what="statement running")
        await pilot.pause(0.2)
        await pilot.press("escape")
        g = grid(pilot)
        await until(pilot, lambda: g.finished, what="cancelled")
        assert g.has_class("-error") and "ancel" in message_text(g) or "interrupt" in message_text(g).lower()
        await run(pilot, "SELECT 42 AS answer")
        await until(pilot, lambda: g.finished and g.rows and g.rows[0][0] == 42, what="after cancel")


async def test_backslash_commands(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        g = grid(pilot)
        await run(pilot, "\\dt")
        assert [c[0] for c in g.columns][:2] == ["Schema", "Name"]  # psql's headers
        assert {r[1] for r in g.rows} >= {"orders", "customers", "order_items"}
        await run(pilot, "\\d orders")
        assert [r[0] for r in g.rows][:3] == ["id", "customer_id", "status"]
        await run(pilot, "\\di order*")
        assert g.rows and all(isinstance(r[1], str) for r in g.rows)
        await run(pilot, "\\dn")
        assert ("main",) in [tuple(r) for r in g.rows]
        await run(pilot, "\\l")
        assert g.rows
        await run(pilot, "\\?")
        assert any(r[0].startswith("\\dt") for r in g.rows)
        await run(pilot, "\\nope")
        assert g.has_class("-error") and "unknown command" in message_text(g)
        # \x toggles the record view; \timing toggles elapsed times.
        type_sql(pilot, "\\x")
        await pilot.press("f5")
        await until(pilot, lambda: g.expanded, what="expanded on")
        type_sql(pilot, "\\timing off")
        await pilot.press("f5")
        await until(pilot, lambda: app.screen.timing is False, what="timing off")
        await run(pilot, "\\d nosuchtable")
        assert "Did not find any relation" in message_text(g)  # psql's words


async def test_backslash_connect_switches_database(demo_db, tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).executescript("CREATE TABLE planets(name TEXT); INSERT INTO planets VALUES ('mars');")
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        type_sql(pilot, f"\\c {other}")
        await pilot.press("f5")
        await until(pilot, lambda: app.session is not None and "other.db" in app.session.display_url, what="switch")
        await run(pilot, "SELECT name FROM planets")
        g = grid(pilot)
        await until(pilot, lambda: g.finished and [tuple(r) for r in g.rows] == [("mars",)], what="planets")
        # A bad target keeps the current connection and says why.
        type_sql(pilot, f"\\c {tmp_path / 'missing' / 'x.db'}")
        await pilot.press("f5")
        await pilot.pause(0.5)
        assert "other.db" in app.session.display_url


async def test_completion_menu_and_accept(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        editor = app.screen.query_one("#editor")
        await until(pilot, lambda: "orders" in editor._catalog.tables, what="catalog")
        type_sql(pilot, "")
        editor.text_area.focus()
        # typing key by key is tests/tui/test_editor_editing.py's subject: the last key is enough here
        editor.text_area.insert("SELECT * FROM or")
        await pilot.press("d")
        menu = editor.menu
        await until(pilot, lambda: menu.display, what="menu")
        assert str(menu.get_option_at_index(0).prompt).startswith("orders")
        await pilot.press("tab")
        assert editor.text == "SELECT * FROM orders"
        assert not menu.display
        editor.text_area.insert(" o WHERE o.c")
        await pilot.press("u")
        await until(pilot, lambda: menu.display, what="column menu")
        assert str(menu.get_option_at_index(0).prompt).startswith("customer_id")
        await pilot.press("escape")
        assert not menu.display
        await pilot.press("ctrl+@")
        assert menu.display


async def test_buffers_persist_format_comment_find(demo_db, aishell_home):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        editor = app.screen.query_one("#editor")
        type_sql(pilot, "select id,total from orders where id=1")
        await pilot.press("f4")
        assert editor.text.startswith("SELECT\n")
        editor.text_area.cursor_location = (0, 0)
        await pilot.press("ctrl+underscore")
        assert editor.text.startswith("-- SELECT") and editor.text.count("--") == 1
        await pilot.press("ctrl+underscore")
        assert editor.text.startswith("SELECT") and "--" not in editor.text
        editor.text_area.select_all()
        await pilot.press("ctrl+underscore")
        assert all(line.startswith("-- ") for line in editor.text.splitlines())
        editor.text_area.select_all()
        await pilot.press("ctrl+underscore")
        await pilot.press("ctrl+n")
        assert editor.buffer_names == ["query 1", "query 2"] and editor.active_buffer == 1
        type_sql(pilot, "SELECT 'second buffer'")
        await pilot.press("ctrl+f")
        await pilot.press(*"second", "enter")
        assert editor.text_area.selected_text == "second"
        await pilot.press("escape")
        await pilot.press("ctrl+pageup")
        assert editor.active_buffer == 0 and editor.text.startswith("SELECT")
        await app.action_quit()
    saved = json.loads((aishell_home / "data" / "buffers.json").read_text())
    assert [b["name"] for b in saved["buffers"]] == ["query 1", "query 2"]
    app2 = make_app(demo_db)
    async with app2.run_test(size=SIZE) as pilot:
        editor = app2.screen.query_one("#editor")
        assert editor.buffer_names == ["query 1", "query 2"]
        assert editor.text.startswith("SELECT")
        await pilot.press("alt+w")  # its text is in no file: asked first
        await until(pilot, lambda: type(app2.screen).__name__ == "QuestionScreen", what="the question")
        await pilot.press("y")
        await until(pilot, lambda: editor.buffer_names == ["query 2"], what="closed")


async def test_pane_keys_focus_hide_maximize(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = app.screen
        for key, pane in (("alt+r", "results"), ("alt+s", "suggestions"), ("alt+m", "metrics"), ("alt+h", "memory"), ("alt+d", "schema"), ("alt+e", "editor")):
            await pilot.press(key)
            await pilot.pause()
            focused = app.focused
            assert focused is not None and (focused.id == pane or any(a.id == pane for a in focused.ancestors)), (key, focused)
        await pilot.press("ctrl+b")
        assert not screen.query_one("#schema").display
        await pilot.press("ctrl+b")
        assert screen.query_one("#schema").display
        await pilot.press("f9")
        assert not screen.query_one("#insights").display
        await pilot.press("alt+m")
        await pilot.pause()
        assert screen.query_one("#insights").display
        await pilot.press("alt+r", "f10")
        assert screen.maximized is screen.query_one("#results")
        await pilot.press("f10")
        assert screen.maximized is None
        await pilot.press("f2")
        assert app.focused is not None


async def test_narrow_terminal_collapses_side_panes(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        screen = app.screen
        assert not screen.query_one("#schema").display and not screen.query_one("#insights").display
        await pilot.press("alt+s")
        await pilot.pause()
        assert screen.query_one("#insights").display
        await run(pilot, "SELECT 1 AS one")
        assert [tuple(r) for r in grid(pilot).rows] == [(1,)]


async def test_help_lists_every_binding(demo_db):
    from aishell.tui.screens.help import HelpScreen, binding_rows

    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        ids = {row[3] for row in binding_rows(app)}
        assert {"main.run", "main.cancel", "editor.format", "results.copy_cell", "schema.insert_name", "app.quit"} <= ids
        table = app.screen.query_one("#help-keys")
        assert table.row_count >= len(ids)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_keymap_from_settings(demo_db):
    from aishell.engine.config import Settings

    settings = Settings.load()
    settings.keys["main.run"] = "f12"
    app = make_app(demo_db, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "SELECT 7 AS seven", key="f12")
        assert [tuple(r) for r in grid(pilot).rows] == [(7,)]


async def test_suggestions_findings_jump_and_explain(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        pane = app.screen.query_one("#suggestions")
        editor = app.screen.query_one("#editor")
        type_sql(pilot, "SELECT 1;\nSELEC broken FROM orders")
        editor.text_area.cursor_location = (1, 2)
        seen = []
        original = pane.show_findings
        pane.show_findings = lambda findings: (seen.append(findings), original(findings))[1]
        await until(pilot, lambda: any(seen), what="findings")
        finding = seen[-1][0]
        assert finding["code"] == "AS000" and finding["line"] == 2
        pane.post_message(pane.FindingSelected(pane, 2, 3))
        await until(pilot, lambda: editor.text_area.cursor_location == (1, 2), what="jump")
        type_sql(pilot, "SELECT * FROM orders WHERE customer_id = 5")
        plans = []
        original_plan = pane.show_plan
        pane.show_plan = lambda summary, findings, *tree: (plans.append(summary + " ".join(str(n["relation"]) for n in (tree[0] or [] if tree else []))), original_plan(summary, findings, *tree))[1]
        await pilot.press("f7")
        await until(pilot, lambda: plans, what="plan")
        assert "orders" in plans[-1].lower()
        await pilot.press("f8")
        await until(pilot, lambda: len(plans) > 1, what="advice")


async def test_metrics_memory_and_schema_panes(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = app.screen
        metrics = screen.query_one("#metrics")
        await pilot.press("alt+m")  # figures are drawn while the tab is shown
        await until(pilot, lambda: not metrics.has_class("-no-pool"), what="pool metrics")
        await run(pilot, "SELECT name FROM categories WHERE id = 3")
        # Memory: search finds the statement; Enter on a hit recalls it into the editor.
        memory = screen.query_one("#memory")
        hits = []
        original = memory.show_hits
        memory.show_hits = lambda h: (hits.append(h), original(h))[1]
        await pilot.press("alt+h")
        await pilot.pause()
        await pilot.press(*"categories")
        await until(pilot, lambda: any(any("categories" in x["text"] for x in h) for h in hits), what="memory hit")
        hit = next(x for h in reversed(hits) for x in h if "categories" in x["text"])
        assert hit["database"] and hit["success"] is True and hit["age_s"] is not None
        editor = screen.query_one("#editor")
        type_sql(pilot, "")
        memory.post_message(memory.Recall(memory, hit["text"]))
        await until(pilot, lambda: "categories" in editor.text, what="recall")
        # Schema: the tree loads lazily; Enter inserts the name in the editor.
        tree = screen.query_one("#schema")
        await pilot.press("alt+d")
        await until(pilot, lambda: any(str(n.label).startswith("orders") for n in _walk(tree.root)), what="tables")
        node = next(n for n in _walk(tree.root) if str(n.label).startswith("orders"))
        tree.move_cursor(node)
        type_sql(pilot, "")
        await pilot.press("enter")
        await until(pilot, lambda: "orders" in editor.text, what="insert name")


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


async def test_connection_failure_shows_dialog(tmp_path):
    from aishell.tui.screens.dialogs import ErrorScreen

    app = make_app(tmp_path / "missing" / "nope.db")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen), what="error dialog")
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code == 2


async def test_export_writes_file(demo_db, tmp_path):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "SELECT id, name FROM categories ORDER BY id")
        g = grid(pilot)
        await until(pilot, lambda: g.finished, what="categories")
        out = tmp_path / "cats.jsonl"
        g.request_export("jsonl", str(out))
        await until(pilot, out.exists, what="export")
        assert len(out.read_text().splitlines()) == 24
        # A still-streaming result: the user chooses, and the full result is run again.
        await run(pilot, "SELECT id FROM orders ORDER BY id")
        await until(pilot, lambda: g.row_count > 0 and not g.finished, what="partial")
        full = tmp_path / "orders.csv"
        g.request_export("csv", str(full))
        await until(pilot, lambda: type(app.screen).__name__ == "ExportScopeScreen", what="loaded or full?")
        await pilot.press("f")
        await until(pilot, full.exists, timeout=30, what="full export")
        assert len(full.read_text().splitlines()) == 26_001


async def test_restored_buffer_gets_schema_aware_findings(demo_db, aishell_home):
    data = aishell_home / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "buffers.json").write_text(json.dumps({"active": 0, "buffers": [{"name": "saved", "text": "SELECT * FROM orders WHERE status = 'shipped'", "cursor": [0, 5]}]}))
    app = make_app(demo_db)
    seen: list[list[dict]] = []
    async with app.run_test(size=SIZE) as pilot:
        # The side panes are mounted right after the first frame.
        await until(pilot, lambda: bool(app.screen.query("#suggestions")), what="suggestions pane")
        pane = app.screen.query_one("#suggestions")
        original = pane.show_findings
        pane.show_findings = lambda findings: (seen.append(findings), original(findings))[1]
        await connected(pilot)
        # The missing-index rule needs the catalog: it shows once the catalog has loaded.
        await until(pilot, lambda: any(f.get("code") == "AS014" for batch in seen for f in batch), what="schema-aware finding")
        assert app.screen.query_one("#editor").buffer_names == ["saved"]


async def test_run_key_waits_for_keys_typed_before_it(demo_db):
    """F5 right behind a burst of typing (a paste) runs the whole statement, not a prefix."""
    from textual import events

    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        sql = "SELECT count(*) AS n FROM order_items"
        for char in sql:  # all queued at once, as a terminal delivers a paste
            app.post_message(events.Key(char if char != " " else "space", char))
        app.post_message(events.Key("f5", None))
        await until(pilot, lambda: grid(pilot).finished, what="statement finished")
        assert grid(pilot).columns[0][0] == "n"
