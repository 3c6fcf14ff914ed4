"""Buffers as a daily driver uses them: Alt-W as a terminal sends it, close (asking only when text
would be lost), rename, reorder, the active tab in view among 42, .sql files in and out, and
``\\e`` through $EDITOR."""

from __future__ import annotations

import json
import stat
import sys

import pytest
from textual._xterm_parser import XTermParser

from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import make_app, type_sql, until

SIZE = (120, 36)


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory):
    return ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db")


def save_buffers(home, names, active=0, texts=None):
    texts = texts or [""] * len(names)
    data = {"active": active, "buffers": [{"name": n, "text": t, "cursor": [0, 0]} for n, t in zip(names, texts)]}
    (home / "data").mkdir(exist_ok=True)
    (home / "data" / "buffers.json").write_text(json.dumps(data))


async def answer(pilot, text: str) -> None:
    """Type ``text`` into the open prompt (in one go: Pilot's per-key round trips are slow) and Enter."""
    field = pilot.app.screen.query_one("#prompt-value")
    field.value = text
    await pilot.press("enter")


async def type_raw(pilot, data: str) -> None:
    """Send ``data`` as a terminal writes it (Alt-W is ``ESC w``), through Textual's own parser."""
    parser = XTermParser()
    events = [*parser.feed(data), *parser.feed("")]
    for event in events:
        pilot.app._driver.send_message(event)
        await pilot.pause()


def editor_of(app):
    return app.screen.query_one("#editor")


def tab_in_view(editor) -> bool:
    strip = editor.strip
    tab = strip.active_tab
    scroll = strip.query_one("#tabs-scroll")
    return tab is not None and scroll.region.contains_region(tab.region)


async def test_alt_w_from_a_terminal_closes_the_buffer_and_types_nothing(demo_master, aishell_home):
    save_buffers(aishell_home, ["query 1", "query 2"], active=1)
    app = make_app(demo_master)
    async with app.run_test(size=SIZE) as pilot:
        editor = editor_of(app)
        await type_raw(pilot, "\x1bw")
        await until(pilot, lambda: editor.buffer_names == ["query 1"], what="buffer closed")
        assert editor.text == ""  # not "w"
        assert editor.strip.names == ["query 1"]


async def test_close_asks_only_when_text_would_be_lost(demo_master, aishell_home, tmp_path):
    saved = tmp_path / "kept.sql"
    saved.write_text("select 'in a file'")
    save_buffers(aishell_home, ["empty", "typed", "kept.sql"], active=1, texts=["", "select 'only here'", "select 'in a file'"])
    data = json.loads((aishell_home / "data" / "buffers.json").read_text())
    data["buffers"][2]["path"] = str(saved)
    (aishell_home / "data" / "buffers.json").write_text(json.dumps(data))
    app = make_app(demo_master)
    async with app.run_test(size=SIZE) as pilot:
        editor = editor_of(app)
        await pilot.press("alt+w")
        await until(pilot, lambda: type(app.screen).__name__ == "QuestionScreen", what="the question")
        await pilot.press("n")
        assert editor.buffer_names == ["empty", "typed", "kept.sql"] and editor.text == "select 'only here'"
        await pilot.press("alt+w")
        await until(pilot, lambda: type(app.screen).__name__ == "QuestionScreen", what="the question")
        await pilot.press("y")
        await until(pilot, lambda: editor.buffer_names == ["empty", "kept.sql"], what="closed after yes")
        assert editor.active_buffer == 1 and editor.text == "select 'in a file'"
        await pilot.press("alt+w")  # its file holds the same text: no question
        await until(pilot, lambda: editor.buffer_names == ["empty"], what="file buffer closed")
        await pilot.press("alt+w")  # the last one, empty: stays as an empty buffer
        await pilot.pause()
        assert editor.buffer_names == ["empty"] and type(app.screen).__name__ == "MainScreen"


async def test_rename_and_move_keep_the_strip_in_order(demo_master, aishell_home):
    save_buffers(aishell_home, ["a", "b", "c"], active=0, texts=["1", "2", "3"])
    app = make_app(demo_master)
    async with app.run_test(size=SIZE) as pilot:
        editor = editor_of(app)
        await pilot.press("alt+n")
        await until(pilot, lambda: type(app.screen).__name__ == "PromptScreen", what="the rename prompt")
        await answer(pilot, "orders")
        await until(pilot, lambda: editor.buffer_names[0] == "orders", what="renamed")
        await type_raw(pilot, "\x1b[1;4C")  # Alt-Shift-Right as xterm sends it
        await until(pilot, lambda: editor.buffer_names == ["b", "orders", "c"], what="moved right")
        await pilot.press("ctrl+shift+pagedown")
        assert editor.buffer_names == ["b", "c", "orders"] and editor.active_buffer == 2
        await pilot.press("alt+shift+right")  # at the end: stays
        await pilot.press("alt+shift+left")
        await pilot.pause()
        assert editor.buffer_names == ["b", "orders", "c"] and editor.active_buffer == 1
        assert editor.text == "1" and editor.strip.names == ["b", "orders", "c"]
        assert editor.strip.active_tab.label_text == "orders"
        editor.save()
    saved = json.loads((aishell_home / "data" / "buffers.json").read_text())
    assert [(b["name"], b["text"]) for b in saved["buffers"]] == [("b", "2"), ("orders", "1"), ("c", "3")]


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_active_tab_in_view_among_42(demo_master, aishell_home, size):
    names = [f"query {i}" for i in range(1, 43)]
    save_buffers(aishell_home, names, active=39)
    app = make_app(demo_master)
    async with app.run_test(size=size) as pilot:
        editor = editor_of(app)
        await until(pilot, lambda: tab_in_view(editor), what="the active tab in view at start")
        for keys, active in ((("ctrl+pagedown", "ctrl+pagedown"), 41), (("ctrl+pagedown",), 0), (("ctrl+pageup",), 41), (("alt+w",), 40)):
            await pilot.press(*keys)
            await until(pilot, lambda: editor.active_buffer == active and tab_in_view(editor), what=f"tab {active} in view")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: editor.active_buffer == 41 and tab_in_view(editor), what="a new tab in view")
        for _ in range(3):
            await pilot.press("alt+shift+left")
        await until(pilot, lambda: editor.active_buffer == 38 and tab_in_view(editor), what="a moved tab in view")


async def test_open_and_save_sql_files(demo_master, aishell_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.sql").write_text("select count(*)\r\nfrom orders;\n")
    shared = tmp_path / "shared.sql"
    shared.write_text("old")
    shared.chmod(0o644)
    app = make_app(demo_master)
    async with app.run_test(size=SIZE) as pilot:
        editor = editor_of(app)
        await pilot.press("alt+o")
        await until(pilot, lambda: type(app.screen).__name__ == "PromptScreen", what="the open prompt")
        await answer(pilot, "report.sql")
        await until(pilot, lambda: editor.buffer_names[-1] == "report.sql", what="file opened")
        assert editor.text == "select count(*)\nfrom orders;\n" and editor.active_buffer == 1
        await pilot.press("alt+o")
        await until(pilot, lambda: type(app.screen).__name__ == "PromptScreen", what="the open prompt")
        await answer(pilot, "missing.sql")
        await pilot.pause()
        assert len(editor.buffer_names) == 2  # a one-line error, nothing opened

        await pilot.press("ctrl+pageup")
        type_sql(pilot, "select 42")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: type(app.screen).__name__ == "PromptScreen", what="the save prompt")
        await pilot.press("enter")  # the suggested name: query_1.sql here
        await until(pilot, lambda: editor.buffer_names[0] == "query_1.sql", what="saved")
        new = tmp_path / "query_1.sql"
        assert new.read_text() == "select 42" and stat.S_IMODE(new.stat().st_mode) == 0o600
        await pilot.press("alt+w")  # saved: closes without a question
        await until(pilot, lambda: editor.buffer_names == ["report.sql"], what="closed")

        type_sql(pilot, "select 'new'")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: type(app.screen).__name__ == "PromptScreen", what="the save prompt")
        await answer(pilot, "shared.sql")
        await until(pilot, lambda: type(app.screen).__name__ == "QuestionScreen", what="replace?")
        await pilot.press("y")
        await until(pilot, lambda: shared.read_text() == "select 'new'", what="replaced")
        assert stat.S_IMODE(shared.stat().st_mode) == 0o644  # the user's file keeps its mode
        assert not list(tmp_path.glob(".*.part"))


async def test_backslash_e_edits_the_buffer_in_editor(demo_master, aishell_home, tmp_path, monkeypatch):
    script = tmp_path / "fake-editor"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, stat, sys\n"
        "path = sys.argv[1]\n"
        "text = open(path).read()\n"
        "mode = oct(stat.S_IMODE(os.stat(path).st_mode))\n"
        "open(path, 'w').write(text.upper() + '-- ' + mode + '\\n')\n"
    )
    script.chmod(0o755)
    monkeypatch.delenv("PSQL_EDITOR", raising=False)
    monkeypatch.setenv("EDITOR", str(script))
    app = make_app(demo_master)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session is not None, what="connection")
        editor = editor_of(app)
        type_sql(pilot, "select 1;\n\\e")
        editor.text_area.cursor_location = (1, 2)
        await pilot.press("f5")
        await until(pilot, lambda: editor.text.startswith("SELECT 1;"), what="the edited text back")
        assert editor.text == "SELECT 1;\n-- 0o600\n"  # the \e line left out; a private file
        await pilot.press("ctrl+z")
        assert editor.text == "select 1;\n\\e"
