"""Transactions you can see, in the workbench: the header's transaction badge (idle, in
transaction, failed, snapshot held), manual-commit mode with its keys, the question before
quitting or switching databases with a transaction open, and a partly read result released after
an idle time. Against real SQLite files and the real PostgreSQL test cluster.
"""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from aishell.engine.config import Settings
from tests.tui.appkit import connected, grid, make_app, run, until

SIZE = (120, 36)


def badge(pilot) -> str:
    return str(pilot.app.screen.query_one("#tx-state").content)


def status(pilot) -> str:
    return str(grid(pilot).query_one("#results-status").content)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "tx.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    return path


def committed(path) -> int:
    with sqlite3.connect(path) as con:
        return con.execute("SELECT count(*) FROM t").fetchone()[0]


async def test_the_header_says_a_transaction_is_open(db):
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await until(pilot, lambda: badge(pilot) == "Tx: Auto", what="the badge")
        await run(pilot, "BEGIN")
        await run(pilot, "INSERT INTO t VALUES (1)")
        await until(pilot, lambda: badge(pilot) == "Tx: Auto · in transaction", what="in transaction")
        assert app.screen.query_one("#tx-state").has_class("-open")
        assert committed(db) == 0
        await run(pilot, "COMMIT")
        await until(pilot, lambda: badge(pilot) == "Tx: Auto", what="idle again")
        assert committed(db) == 1


async def test_manual_commit_mode_and_its_keys(db):
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("alt+t")
        await until(pilot, lambda: badge(pilot) == "Tx: Manual", what="manual mode")
        await run(pilot, "INSERT INTO t VALUES (1)")
        await until(pilot, lambda: badge(pilot) == "Tx: Manual · in transaction", what="opened by the first statement")
        await pilot.press("alt+z")
        await until(pilot, lambda: badge(pilot) == "Tx: Manual", what="rolled back")
        assert committed(db) == 0
        await run(pilot, "INSERT INTO t VALUES (2)")
        await until(pilot, lambda: "in transaction" in badge(pilot), what="opened again")
        await pilot.press("alt+c")
        await until(pilot, lambda: badge(pilot) == "Tx: Manual", what="committed")
        assert committed(db) == 1
        await pilot.press("alt+t")
        await until(pilot, lambda: badge(pilot) == "Tx: Auto", what="auto-commit again")
        await run(pilot, "INSERT INTO t VALUES (3)")
        assert badge(pilot) == "Tx: Auto" and committed(db) == 2


@pytest.mark.parametrize("answer, rows", [("c", 1), ("r", 0)])
async def test_quitting_with_an_open_transaction_asks(db, answer, rows):
    from aishell.tui.screens.dialogs import TransactionScreen

    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "BEGIN")
        await run(pilot, "INSERT INTO t VALUES (1)")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, TransactionScreen), what="the question")
        await pilot.press("s")  # stay: nothing ends
        await until(pilot, lambda: not isinstance(app.screen, TransactionScreen), what="back")
        assert app.is_running and app.session.transaction.open
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, TransactionScreen), what="the question again")
        await pilot.press(answer)
        await until(pilot, lambda: not app.is_running, what="quit")
    assert committed(db) == rows


async def test_quitting_without_a_transaction_does_not_ask(db):
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "INSERT INTO t VALUES (1)")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, what="quit")
    assert committed(db) == 1


async def test_switching_databases_with_an_open_transaction_asks(db, tmp_path):
    from aishell.tui.screens.dialogs import TransactionScreen

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE planets(name TEXT)").connection.commit()
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "BEGIN")
        await run(pilot, "INSERT INTO t VALUES (1)")
        await run(pilot, f"\\c {other}", finished=False)
        await until(pilot, lambda: isinstance(app.screen, TransactionScreen), what="the question")
        await pilot.press("c")
        await until(pilot, lambda: "other.db" in app.session.display_url, what="the switch")
        assert committed(db) == 1


@pytest.mark.pg
async def test_a_failed_postgres_transaction_shows_in_the_header(pg_fresh_db):
    from aishell.tui.screens.dialogs import TransactionScreen

    app = make_app(pg_fresh_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "BEGIN")
        await run(pilot, "SELECT 1/0")
        await until(pilot, lambda: badge(pilot) == "Tx: Auto · failed: ROLLBACK needed", what="failed")
        assert app.screen.query_one("#tx-state").has_class("-failed")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, TransactionScreen), what="the question")
        assert not app.screen.query("#commit")  # a failed transaction cannot be committed
        await pilot.press("s")
        await run(pilot, "ROLLBACK")
        await until(pilot, lambda: badge(pilot) == "Tx: Auto", what="idle")


@pytest.mark.pg
async def test_an_idle_result_releases_its_snapshot(pg_fresh_db):
    """A partly read 1M-row result holds a snapshot (backend_xmin) while the grid waits; after
    the idle time its cursor closes, the rows loaded stay and the grid says so. A database of
    its own: snapshots are counted in it, and other tests share the cluster."""
    pg_url = pg_fresh_db
    settings = Settings.load()
    settings.ui.release_result_after = 1.0
    # Only a connection that sits in a transaction holding a snapshot counts: the app's own
    # catalog and metrics queries hold one for a moment while they run, which raced a baseline.
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL"
        " AND state LIKE 'idle in transaction%'"
    )
    app = make_app(pg_url, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        watcher = await asyncpg.connect(pg_url)
        try:
            assert await watcher.fetchval(query) == 0
            await run(pilot, "SELECT g, md5(g::text) FROM generate_series(1, 1000000) g")
            g = grid(pilot)
            await until(pilot, lambda: "snapshot held" in badge(pilot), what="the snapshot in the header")
            assert status(pilot).startswith("snapshot held · ")
            assert await watcher.fetchval(query) == 1
            loaded = g.row_count
            await until(pilot, lambda: g.finished, timeout=10, what="the release")
            assert "result released" in status(pilot) and g.row_count == loaded
            assert badge(pilot) == "Tx: Auto"
            assert await watcher.fetchval(query) == 0
        finally:
            await watcher.close()


@pytest.mark.pg
async def test_commit_while_a_result_is_open_closes_it_first(pg_fresh_db):
    """Manual mode: a SELECT's result is still open (its cursor in the transaction) when Alt-C
    is pressed: the result is closed, then the transaction commits."""
    app = make_app(pg_fresh_db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("alt+t")
        await run(pilot, "SELECT g FROM generate_series(1, 100000) g")
        await until(pilot, lambda: badge(pilot) == "Tx: Manual · in transaction · snapshot held", what="open result")
        await pilot.press("alt+c")
        await until(pilot, lambda: badge(pilot) == "Tx: Manual", what="committed")
        assert grid(pilot).finished and not app.session.transaction.open
