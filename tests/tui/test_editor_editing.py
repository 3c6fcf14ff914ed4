"""Editing in the workbench never crashes and never loses a keystroke (issue 14, first part).

Typed as a person types under Pilot: one key at a time, a pause before Enter so the completion
menu has opened, on the demo database so completion knows the tables.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from textual import events
from textual.widgets import TextArea

from aishell.engine.demo import ensure_demo_database
from tests.tui.appkit import connected, copy_db, grid, make_app, run, until

SIZES = {"120x36": (120, 36), "80x24": (80, 24)}


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory) -> Path:
    return ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db")


@pytest.fixture
def demo_db(demo_master, tmp_path) -> Path:
    return copy_db(demo_master, tmp_path)


async def type_keys(pilot, text: str, *, pause_before_enter: float = 0.2) -> list[bool]:
    """Type ``text`` key by key; before each newline, wait as a person does (so the menu has
    opened). Returns, for each newline, whether the completion menu was open when Enter went."""
    menu = pilot.app.screen.query_one("#editor").menu
    menu_at_enter = []
    for ch in text:
        if ch == "\n":
            await pilot.pause(pause_before_enter)
            menu_at_enter.append(bool(menu.display))
            await pilot.press("enter")
        else:
            await pilot.press(ch)
    return menu_at_enter


async def typed_before(pilot, editor, earlier: str, keys: str) -> None:
    """``earlier`` put at the cursor as if typed a while ago, then ``keys`` typed key by key: for
    tests about what the last keys do (typing itself, key by key, is the first test's subject;
    each key costs Pilot about 0.1 s)."""
    editor.text_area.insert(earlier)
    await pilot.pause()
    await type_keys(pilot, keys)


async def editor_ready(pilot):
    await connected(pilot)
    editor = pilot.app.screen.query_one("#editor")
    await until(pilot, lambda: "orders" in editor._catalog.tables, what="catalog")
    editor.text_area.load_text("")
    editor.text_area.focus()
    await pilot.pause()
    return editor


# -- Enter is a newline unless the user moved into the menu -----------------------------------------


async def test_enter_after_a_word_is_a_newline(demo_db):
    """``count(*) as n`` + Enter became ``as nowfrom``, ``from orders o`` + Enter + ``join``
    became ``orders ONjoin``: Enter took the first item of a menu nobody moved into."""
    # (Right after AS nothing is offered now: an alias is being typed. Without AS the menu opens.)
    typed = "select count(*) n\nfrom orders o\nlimit 3;"
    app = make_app(demo_db)
    async with app.run_test(size=SIZES["120x36"]) as pilot:
        editor = await editor_ready(pilot)
        menu_at_enter = await type_keys(pilot, typed)
        assert menu_at_enter[:2] == [True, True]  # the menu for "n" and for "o" was open
        assert editor.text == typed
        editor.text_area.cursor_location = (0, len("select count(*) n"))
        await pilot.press("backspace", "n")
        await until(pilot, lambda: editor.menu.display, what="menu for 'n'")
        await pilot.press("f5")  # runs the statement and closes the menu
        assert not editor.menu.display and editor.text == typed
        g = grid(pilot)
        await until(pilot, lambda: g.finished or g.has_class("-error"), what="result")
        assert not g.has_class("-error") and g.row_count > 0


async def test_tab_or_arrows_then_enter_accept(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZES["120x36"]) as pilot:
        editor = await editor_ready(pilot)
        menu = editor.menu
        await typed_before(pilot, editor, "select * from or", "d")
        await until(pilot, lambda: menu.display, what="menu")
        assert menu.highlighted is None  # nothing chosen yet
        await pilot.press("tab")  # Tab takes the first item
        assert editor.text == "select * from orders" and not menu.display
        await typed_before(pilot, editor, " o where o.c", "u")
        await until(pilot, lambda: menu.display, what="column menu")
        await pilot.press("down")  # moved into the menu: now Enter accepts
        assert menu.highlighted == 0
        await pilot.press("enter")
        assert editor.text == "select * from orders o where o.customer_id" and not menu.display
        await typed_before(pilot, editor, " = 1 or o.s", "t")
        await until(pilot, lambda: menu.display, what="menu again")
        await pilot.press("escape")  # closes the menu only
        assert not menu.display and editor.text_area.has_focus
        await pilot.press("enter")
        assert editor.text == "select * from orders o where o.customer_id = 1 or o.st\n"


async def test_menu_never_applies_to_text_typed_after_it_opened(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZES["120x36"]) as pilot:
        editor = await editor_ready(pilot)
        await typed_before(pilot, editor, "select * from orders ", "o")
        await until(pilot, lambda: editor.menu.display, what="menu for 'o'")
        # Keys whose effect the menu has not caught up with (a fast typist, a paste): the menu
        # was computed for "o", the text now ends in "o x". Tab only brings the menu up to date.
        area = editor.text_area
        with area.prevent(TextArea.Changed, TextArea.SelectionChanged):  # not seen by the menu yet
            area.insert(" x")
        await pilot.press("tab")
        assert editor.text == "select * from orders o x"
        assert not editor.menu.display or editor.completion_is_current()
        await pilot.press("tab")  # now Tab completes what the menu shows for "x"
        assert editor.text.startswith("select * from orders o ") and not editor.menu.display
        typed = editor.text
        await typed_before(pilot, editor, "\nwhere ", "o")
        await until(pilot, lambda: editor.menu.display, what="menu for 'o'")
        with area.prevent(TextArea.Changed, TextArea.SelectionChanged):
            area.insert(".")
        await pilot.press("down")  # brings the menu up to date for "o.", moves nothing
        assert editor.menu.highlighted is None
        await pilot.press("enter")  # a newline: nobody moved into the menu
        assert editor.text == typed + "\nwhere o.\n"


# -- Escape never moves the focus -----------------------------------------------------------------


async def test_escape_keeps_the_focus_in_the_editor(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZES["120x36"]) as pilot:
        editor = await editor_ready(pilot)
        area = editor.text_area
        await typed_before(pilot, editor, "select 1 as ", "a")
        await pilot.press("escape")  # closes the menu for "a"
        await pilot.press("escape")  # nothing open: nothing happens
        assert app.focused is area
        await type_keys(pilot, "\nfrom orders")  # would be grid commands if the grid had the focus
        assert editor.text == "select 1 as a\nfrom orders" and app.focused is area


@pytest.mark.pg
async def test_cancel_from_another_pane_keeps_the_focus(pg_url):
    """Escape cancels a running statement from the schema tree and the focus stays there (from
    the editor: the next test)."""
    app = make_app(pg_url)
    async with app.run_test(size=SIZES["120x36"]) as pilot:
        await connected(pilot)
        await run(pilot, "SELECT pg_sleep(30)", finished=False)
        await until(pilot, lambda: app.session.busy, what="statement running")
        g = grid(pilot)
        await pilot.press("alt+d")
        target = app.focused
        assert target is not None and target.id == "schema"
        await pilot.press("escape")
        await until(pilot, lambda: g.finished or g.has_class("-error"), what="cancelled")
        assert not app.session.busy
        assert app.focused is target


@pytest.mark.pg
async def test_escape_closes_the_menu_before_it_cancels(pg_url):
    """Typing while a statement runs: the first Escape closes the menu, the next one cancels.
    (pg_sleep keeps the CPU idle, so Pilot does not wait out a busy process at every key.)"""
    app = make_app(pg_url)
    async with app.run_test(size=SIZES["120x36"]) as pilot:
        await connected(pilot)
        editor = pilot.app.screen.query_one("#editor")
        slow = "SELECT pg_sleep(30);\n"
        await run(pilot, slow, finished=False)
        await until(pilot, lambda: app.session.busy, what="statement running")
        editor.text_area.focus()
        editor.text_area.cursor_location = (1, 0)
        await type_keys(pilot, "select o")
        await until(pilot, lambda: editor.menu.display, what="menu")
        await pilot.press("escape")
        assert not editor.menu.display and app.session.busy
        await pilot.press("escape")
        g = grid(pilot)
        await until(pilot, lambda: g.finished or g.has_class("-error"), what="cancelled")
        assert app.focused is editor.text_area and editor.text == slow + "select o"


# -- An error marks its token without selecting it ------------------------------------------------


@pytest.mark.pg
async def test_syntax_error_underlines_without_selecting(pg_url):
    """PostgreSQL says where ``selec`` is; the editor used to select it, so the next key typed
    replaced it (``selec 1`` became ``w 1``)."""
    app = make_app(pg_url)
    async with app.run_test(size=SIZES["120x36"]) as pilot:
        await connected(pilot)
        editor = pilot.app.screen.query_one("#editor")
        area = editor.text_area
        area.load_text("select 1;\nselec 1")
        area.cursor_location = (1, 7)
        area.focus()
        await pilot.pause()
        await pilot.press("f5")
        g = grid(pilot)
        await until(pilot, lambda: g.has_class("-error"), what="syntax error")
        await until(pilot, lambda: area.selection.start == (1, 0), what="cursor on the error")
        assert area.selected_text == "" and area.cursor_location == (1, 0)
        assert editor.text[slice(*area.error_range)] == "selec"
        assert any(name == "error" for _, _, name in area._highlights[1])
        await pilot.press("w")  # the next key is typed; it replaces nothing
        assert editor.text == "select 1;\nwselec 1"
        assert area.error_range is None
        assert not any(name == "error" for row in area._highlights.values() for _, _, name in row)


# -- Undo and redo across every kind of edit -------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_format_then_undo_on_the_last_line(demo_db, size):
    """F4 grows a 4-line query past the pane's height; Ctrl-Z with the cursor below the old
    end crashed Textual (the scrollbar went away while the old cursor row was asked for)."""
    query = (
        "select o.id, o.customer_id, o.total, o.status, c.name, c.email\nfrom orders o join customers c on c.id = o.customer_id\n"
        "where o.total > 100 and o.status = 'shipped' and c.name like 'A%'\norder by o.total desc, o.id limit 10"
    )
    app = make_app(demo_db)
    async with app.run_test(size=SIZES[size]) as pilot:
        editor = await editor_ready(pilot)
        editor.text_area.load_text(query)
        editor.text_area.cursor_location = (3, 5)  # on the last line: F4 moves it far below line 4
        await pilot.pause()
        await pilot.press("f4")
        formatted = editor.text
        assert formatted.count("\n") > editor.text_area.size.height  # the scrollbar appeared
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.is_running and editor.text == query
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert editor.text == formatted
    assert app.return_code in (None, 0) and app._exception is None


_WORDS = ["select", " ", "id", ",", "from", "orders", " o", "\n", "where", "o.", "c", "1", ";", "(", ")", "count(*)", "as", "n", "'x'"]
_SNIPPETS = ["select 2;\nselect 3", "x", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n", "-- note\n"]
_MEMORY = ["select 1", "select *\nfrom orders\nwhere id = 2\nand total > 5\nlimit 1"]


async def _random_action(pilot, editor, rng: random.Random) -> str:
    """One thing a user does to the buffer, chosen by ``rng``; returns its name."""
    area = editor.text_area
    # Weighted towards what changes the line count (the view's scrollbar comes and goes).
    kind = rng.choice(["type", "type", "enter", "format", "format", "comment", "complete", "memory", "memory", "find", "paste", "paste", "move", "select", "delete", "undo", "undo", "undo", "redo", "redo"])
    if kind == "type":
        for ch in rng.choice(_WORDS):
            await pilot.press("enter" if ch == "\n" else ch)
    elif kind == "enter":
        await pilot.pause(0.05)
        await pilot.press("enter")
    elif kind == "format":
        await pilot.press("f4")
    elif kind == "comment":
        await pilot.press("ctrl+underscore")
    elif kind == "complete":
        await pilot.press("ctrl+@")
        await pilot.pause()
        await pilot.press(rng.choice(["tab", "down", "enter", "escape"]))
        if rng.random() < 0.5:
            await pilot.press("enter")
    elif kind == "memory":
        editor.insert_statement(rng.choice(_MEMORY))
    elif kind == "find":
        await pilot.press("ctrl+f", *rng.choice(["o", "id", "zz"]), "enter", "escape")
        await pilot.press(rng.choice(["x", "f3", "delete"]))  # typing over the match replaces it
    elif kind == "paste":
        area.post_message(events.Paste(rng.choice(_SNIPPETS)))
    elif kind == "move":
        await pilot.press(rng.choice(["up", "down", "left", "right", "home", "end", "ctrl+home", "ctrl+end", "pagedown"]))
    elif kind == "select":
        await pilot.press(rng.choice(["shift+up", "shift+down", "shift+left", "shift+end", "ctrl+a"]))
    elif kind == "delete":
        await pilot.press(rng.choice(["backspace", "delete"]))
    elif kind == "undo":
        await pilot.press("ctrl+z")
    elif kind == "redo":
        await pilot.press("ctrl+y")
    await pilot.pause()
    return kind


async def test_random_edits_undos_and_redos_never_crash(demo_db):
    """Seeded random sequences of every kind of edit, undo and redo, for a few seconds
    (AISHELL_TEST_FUZZ_SECONDS): the app keeps running, the view stays in step with the
    document, every text an undo or redo shows is one the buffer had, and undoing then redoing
    comes back to the same text. At 80x24 the editor is short, so edits make its scrollbar come
    and go, which is where Textual's undo crashed."""
    start = "select *\nfrom orders o\nwhere o.id = 1"
    app = make_app(demo_db)
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        editor = await editor_ready(pilot)
        area = editor.text_area
        had: set[str] = set()
        edit = area.edit

        def recording_edit(change):  # every text the buffer passes through, whatever edits it
            result = edit(change)
            had.add(area.text)
            return result

        area.edit = recording_edit
        deadline = time.monotonic() + float(os.environ.get("AISHELL_TEST_FUZZ_SECONDS", "5"))
        seed = 0
        while time.monotonic() < deadline:
            rng = random.Random(seed)
            area.load_text(start)
            had.clear()
            had.add(start)
            steps: list[str] = []
            while len(steps) < 25 and time.monotonic() < deadline:
                steps.append(await _random_action(pilot, editor, rng))
                where = f"seed {seed}, steps {steps}"
                assert app.is_running and app._exception is None, where
                assert len(area.wrapped_document._wrap_offsets) == area.document.line_count, where
                assert area.clamp_visitable(area.cursor_location) == area.cursor_location, where
                if steps[-1] in ("undo", "redo"):
                    assert editor.text in had, f"{where}: {steps[-1]} showed a text the buffer never had"
            before = editor.text
            undos = min(5, len(area.history.undo_stack))  # the redo stack may hold older undos
            await pilot.press(*["ctrl+z"] * undos, *["ctrl+y"] * undos)
            await pilot.pause()
            assert app.is_running and editor.text == before, f"seed {seed}, steps {steps}: undo then redo"
            seed += 1
    assert app._exception is None
