"""psql's ``\\watch``: the last statement again every few seconds, in the workbench until Escape
and in ``aishell run -f`` for a count of runs."""

from __future__ import annotations

import doctest
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from aishell.engine.commands import CommandError, watch
from tests.tui.appkit import connected, grid, make_app, run, type_sql, until


@pytest.fixture
def counter(tmp_path) -> Path:
    path = tmp_path / "w.db"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE jobs(id INTEGER PRIMARY KEY); INSERT INTO jobs VALUES (1), (2);")
    db.close()
    return path


def test_arguments_as_psql_reads_them():
    assert doctest.testmod(watch).failed == 0
    assert watch.parse_watch("5") == watch.Watch(5.0, None)
    assert watch.parse_watch("interval=1 count=2") == watch.Watch(1.0, 2)
    for bad in ("0", "-1", "c=0", "soon", "x=1", "c=1.5"):
        with pytest.raises(CommandError):
            watch.parse_watch(bad)


async def test_watch_reruns_until_escape_and_sees_new_rows(counter):
    app = make_app(counter)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        g = grid(pilot)
        await run(pilot, "SELECT count(*) AS n FROM jobs")
        assert g.rows[0][0] == 2
        type_sql(pilot, "\\watch 0.2")
        await pilot.press("f5")
        await until(pilot, lambda: "\\watch every 0.2 s" in str(g.border_subtitle or ""), what="the watch")
        db = sqlite3.connect(counter)
        db.execute("INSERT INTO jobs VALUES (3)")
        db.commit()
        db.close()
        await until(pilot, lambda: g.rows and g.rows[0][0] == 3, what="the new count")
        await pilot.press("alt+r")  # Escape works from any pane
        await pilot.press("escape")
        await until(pilot, lambda: not app.screen.query_runner.watching, what="Escape to stop the watch")
        assert not g.border_subtitle
        assert app.screen.query_one("#editor").text_area.text == "\\watch 0.2"


async def test_escape_stops_the_watch_when_the_cancel_reaches_a_run_as_it_ends(counter):
    """Under load, Escape's cancel can reach the server as a run finishes: the server says a
    statement was cancelled, the run ends normally, and the watch went on to its next run."""
    app = make_app(counter)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        g = grid(pilot)
        type_sql(pilot, "SELECT count(*) AS n FROM jobs\n\\watch 0.2")
        await pilot.press("f5")
        await until(pilot, lambda: "\\watch" in str(g.border_subtitle or ""), what="the watch")
        session = app.session
        real_cancel = session.cancel

        async def cancel_as_the_run_ends() -> bool:
            await real_cancel()
            return True  # a run was going when the cancel was sent: the server acknowledged it

        session.cancel = cancel_as_the_run_ends
        await pilot.press("escape")
        await until(pilot, lambda: not app.screen.query_runner.watching, what="Escape to stop the watch")


async def test_a_query_with_watch_below_it_is_watched(counter):
    """As in psql: the query, Enter, ``\\watch 1``, run: the query above is watched."""
    app = make_app(counter)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        g = grid(pilot)
        type_sql(pilot, "SELECT count(*) AS n FROM jobs\n\\watch 0.2")
        await pilot.press("f5")
        await until(pilot, lambda: g.rows and g.rows[0][0] == 2 and "\\watch" in str(g.border_subtitle or ""), what="the watched query")
        await pilot.press("escape")
        await until(pilot, lambda: not app.screen.query_runner.watching, what="Escape to stop the watch")


async def test_watch_needs_a_statement_first(counter):
    app = make_app(counter)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(pilot)
        g = grid(pilot)
        await run(pilot, "\\watch")
        assert "run one first" in str(g.query_one("#results-message").content)


def test_aishell_run_watches_a_count_of_times(counter, tmp_path):
    script = tmp_path / "w.sql"
    script.write_text("SELECT count(*) AS n FROM jobs;\n\\watch i=0.1 c=3\n")
    out = subprocess.run([sys.executable, "-m", "aishell.tui.cli", "run", str(counter), "-f", str(script), "--format", "csv"],
                         capture_output=True, text=True, timeout=60, env=None)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("n\n2\n") == 4  # the statement, then three watched runs
