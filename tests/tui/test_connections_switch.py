"""Several connections at once: the picker opens one beside the one in front (Ctrl-N), F12 and
Shift-F12 go between them, each keeps its buffer, result grid, transaction and memory; closing
one with its transaction open asks, and quitting asks about every open transaction. Against real
SQLite files and a database of its own on the PostgreSQL test cluster."""

from __future__ import annotations

import json
import sqlite3

import pytest

from aishell.tui.screens.dialogs import TransactionScreen
from aishell.tui.screens.picker import ConnectionPicker
from aishell.tui.screens.switcher import ConnectionSwitcher
from tests.tui.appkit import connected, dialog_ready, grid, make_app, run, until

SIZE = (120, 36)


def badge(pilot) -> str:
    return str(pilot.app.screen.query_one("#tx-state").content)


def header(pilot) -> tuple[str, str]:
    """(position label, target) of the header in front."""
    screen = pilot.app.screen
    position = screen.query_one("#connections")
    return (str(position.content) if position.display else ""), str(screen.query_one("#target").content)


def sampling(screen) -> bool:
    """The screen's metrics are sampled (Textual's Timer has no public flag for it)."""
    return screen._metrics_timer._active.is_set()


def buffer_text(pilot) -> str:
    return pilot.app.screen.query_one("#editor").text_area.text


def table_db(path) -> str:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, side TEXT)")
    return str(path)


def rows_in(path) -> int:
    with sqlite3.connect(path) as con:
        return con.execute("SELECT count(*) FROM t").fetchone()[0]


async def open_beside(pilot, target: str) -> None:
    """Ctrl-O, the target typed in the field, Ctrl-N: opened next to the one in front."""
    app = pilot.app
    count = len(app.connections)
    await pilot.press("ctrl+o")
    await until(pilot, lambda: dialog_ready(app, ConnectionPicker), what="the picker")
    app.screen.query_one("#picker-url").value = target
    await pilot.pause()
    await pilot.press("ctrl+n")
    await until(pilot, lambda: len(app.connections) == count + 1, what=f"{target} opened beside")
    await connected(pilot)


@pytest.mark.pg
async def test_each_connection_keeps_its_buffer_grid_and_transaction(tmp_path, pg_fresh_db, aishell_home):
    lite = table_db(tmp_path / "lite.db")
    app = make_app(lite)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert header(pilot)[0] == ""  # one connection: the header as it always was
        await run(pilot, "SELECT 'from sqlite' AS side")
        first = app.screen
        await pilot.press("alt+m")
        await until(pilot, lambda: sampling(first), what="metrics sampled")
        await open_beside(pilot, pg_fresh_db)
        second = app.screen
        await until(pilot, lambda: not sampling(first), what="the metrics behind paused")  # an idle one costs CPU
        assert second is not first and app.session is second.session and first.session is not second.session
        assert header(pilot) == ("2/2", second.session.display_url)
        await run(pilot, "BEGIN")
        await run(pilot, "SELECT 'from pg' AS side")
        await until(pilot, lambda: badge(pilot) == "Tx: Auto · in transaction", what="pg in transaction")

        await pilot.press("f12")  # wraps round to the first
        await until(pilot, lambda: app.screen is first, what="the first connection")
        assert header(pilot) == ("1/2", first.session.display_url) and "lite.db" in header(pilot)[1]
        assert buffer_text(pilot) == "SELECT 'from sqlite' AS side"
        assert grid(pilot).rows[0][0] == "from sqlite" and badge(pilot) == "Tx: Auto"
        assert app.session is first.session and first.query_runner.session is first.session
        await until(pilot, lambda: sampling(first), what="its metrics sampled again")
        await run(pilot, "INSERT INTO t (side) VALUES ('sqlite')")  # auto-commit here, whatever pg holds

        await pilot.press("shift+f12")
        await until(pilot, lambda: app.screen is second, what="back to PostgreSQL")
        assert buffer_text(pilot) == "SELECT 'from pg' AS side"
        assert grid(pilot).rows[0][0] == "from pg" and badge(pilot) == "Tx: Auto · in transaction"
        assert second.session.transaction.open and not first.session.transaction.open
        assert rows_in(lite) == 1

        # each memory pane ranks its own connection's runs first
        for screen, own in ((second, "SELECT 'from pg' AS side"), (first, "SELECT 'from sqlite' AS side")):
            hits = await screen.session.recall("from side", limit=5)
            assert hits and hits[0].text == own, (own, [h.text for h in hits])

        await pilot.press("alt+l")
        await until(pilot, lambda: isinstance(app.screen, ConnectionSwitcher), what="the list")
        listing = app.screen.query_one("#switcher-list")
        lines = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert lines[0].startswith("1  sqlite:///") and "transaction" not in lines[0]
        assert lines[1].startswith("2  postgresql://") and "transaction open" in lines[1] and "(in front)" in lines[1]
        await pilot.press("up", "enter")
        await until(pilot, lambda: app.screen is first, what="the first, from the list")


async def test_closing_a_connection_with_its_transaction_open_asks(tmp_path, aishell_home):
    a, b = table_db(tmp_path / "a.db"), table_db(tmp_path / "b.db")
    app = make_app(a)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        first = app.screen
        await open_beside(pilot, b)
        second = app.screen
        await run(pilot, "BEGIN")
        await run(pilot, "INSERT INTO t (side) VALUES ('b')")
        await pilot.press("alt+x")
        await until(pilot, lambda: isinstance(app.screen, TransactionScreen), what="the question")
        await pilot.press("s")  # stay: nothing closes
        await until(pilot, lambda: app.screen is second, what="back")
        assert len(app.connections) == 2 and second.session.transaction.open
        await pilot.press("alt+x")
        await until(pilot, lambda: isinstance(app.screen, TransactionScreen), what="the question again")
        session = second.session
        await pilot.press("c")
        await until(pilot, lambda: len(app.connections) == 1 and app.screen is first, what="closed")
        assert rows_in(b) == 1 and header(pilot) == ("", first.session.display_url)
        await until(pilot, lambda: session._closed, what="its session closed")  # the Session has no public flag
        assert app.is_running and not first.session._closed
        await pilot.press("alt+x")  # the last one: like Ctrl-Q
        await until(pilot, lambda: not app.is_running, what="quit")


async def test_quitting_asks_about_each_open_transaction(tmp_path, aishell_home):
    a, b = table_db(tmp_path / "a.db"), table_db(tmp_path / "b.db")
    app = make_app(a)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "BEGIN")
        await run(pilot, "INSERT INTO t (side) VALUES ('a')")
        first = app.screen
        await open_beside(pilot, b)
        await run(pilot, "BEGIN")
        await run(pilot, "INSERT INTO t (side) VALUES ('b')")
        await pilot.press("ctrl+q")
        # the first connection comes to the front and is asked about
        await until(pilot, lambda: isinstance(app.screen, TransactionScreen) and app.screen_stack[0] is first, what="the first question")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, TransactionScreen) and app.screen_stack[0] is not first, what="the second question")
        await pilot.press("c")
        await until(pilot, lambda: not app.is_running, what="quit")
    assert (rows_in(a), rows_in(b)) == (0, 1)


async def test_buffers_of_a_connection_beside_come_back_with_it(tmp_path, aishell_home):
    a, b = table_db(tmp_path / "a.db"), table_db(tmp_path / "b.db")
    other = table_db(tmp_path / "other.db")
    app = make_app(a)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "SELECT 'kept in a'")
        first = app.screen
        await open_beside(pilot, b)
        second = app.screen
        await run(pilot, "SELECT 'kept in b'")
        await run(pilot, f"\\c {other}", finished=False)  # \c replaces the one in front only
        await until(pilot, lambda: second.session is not None and "other.db" in second.session.display_url and app.screen.connection_state == "connected", what="\\c")
        assert "a.db" in first.session.display_url and len(app.connections) == 2
        await pilot.press("alt+x")
        await until(pilot, lambda: len(app.connections) == 1, what="closed")
        await open_beside(pilot, b)
        assert buffer_text(pilot) == f"\\c {other}"
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, what="quit")
    data = aishell_home / "data"
    assert json.loads((data / "buffers.json").read_text())["buffers"][0]["text"] == "SELECT 'kept in a'"
    beside = [p for p in data.glob("buffers-*.json")]
    assert len(beside) == 1 and "b.db" in beside[0].name


async def test_enter_in_the_picker_still_replaces_and_next_with_one_connection_says_how(tmp_path, aishell_home):
    a, b = table_db(tmp_path / "a.db"), table_db(tmp_path / "b.db")
    app = make_app(a)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("f12")
        await until(pilot, lambda: any("Ctrl-N" in n.message for n in app._notifications), what="the hint")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: dialog_ready(app, ConnectionPicker), what="the picker")
        assert app.screen.query("#beside")  # a connection is open: it can be opened beside
        field = app.screen.query_one("#picker-url")
        field.value = b
        field.focus()
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: app.session is not None and "b.db" in app.session.display_url, what="replaced")
        assert len(app.connections) == 1


@pytest.mark.pg
async def test_a_connection_behind_another_hears_its_own_server(pg_stoppable, tmp_path, aishell_home):
    """The engine's word on a server goes to the screen of that connection, not to the one in front."""
    import asyncio

    lite = table_db(tmp_path / "lite.db")
    app = make_app(pg_stoppable.url)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        behind = app.screen
        await open_beside(pilot, lite)
        front = app.screen
        await asyncio.to_thread(pg_stoppable.stop)
        try:
            await until(pilot, lambda: behind.connection_state in ("reconnecting…", "disconnected"), timeout=5, what="the loss, behind")
            assert front.connection_state == "connected"
        finally:
            await asyncio.to_thread(pg_stoppable.start)
        await until(pilot, lambda: behind.connection_state == "connected", timeout=10, what="the server back, behind")
        assert front.connection_state == "connected" and app.screen is front
        # the notice shows over the connection in front, so it names the one it is about
        await until(pilot, lambda: any(n.title.endswith("Reconnected") for n in app._notifications), what="the notice")
        notice = next(n for n in app._notifications if n.title.endswith("Reconnected"))
        assert notice.title == f"{behind.session.display_url} · Reconnected"


def test_the_buffer_file_examples_run():
    import doctest

    from aishell.tui import open_connections

    result = doctest.testmod(open_connections)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("key", ["prod-db", "sqlite:////tmp/../etc/passwd", "postgresql://bob@db:5432/shop?sslmode=require", "..", "/", "ü" * 80])
def test_a_buffer_file_name_stays_in_the_data_dir_and_is_the_keys_own(key):
    from aishell.tui.open_connections import buffer_file_name

    name = buffer_file_name(key)
    assert "/" not in name and not name.startswith(".") and name.startswith("buffers-") and name.endswith(".json")
    assert len(name) <= 64 and name != buffer_file_name(key + "x") and buffer_file_name(key, copy=2) != name
