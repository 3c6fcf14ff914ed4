"""Snapshots of the header's transaction badge in each state, at 120×36 and 80×24: manual
commit, in transaction, a result holding a snapshot, a failed transaction (PostgreSQL), and the
question before quitting with a transaction open.

The SQLite states use the snapshot suite's demo database; the writes stay in a transaction that
is rolled back when the app closes. The PostgreSQL one shows a fixed target (the test cluster's
port changes from run to run).
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.tui.appkit import grid, make_app, type_sql, until
from tests.tui.test_app_snapshots import SIZES, _snapshots_in_top_level_folder, app_for, demo, ready  # noqa: F401 - fixtures

pytestmark = pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")


async def _statement(pilot, sql: str) -> None:
    type_sql(pilot, sql)
    await pilot.press("f5")
    g = grid(pilot)
    await until(pilot, lambda: g.finished or g.row_count > 0, what=sql)


def _badge(pilot) -> str:
    return str(pilot.app.screen.query_one("#tx-state").content)


async def _manual(pilot) -> None:
    await ready(pilot, query=None)
    await pilot.press("alt+t")
    await until(pilot, lambda: _badge(pilot) == "Tx: Manual", what="manual mode")
    pilot.app.clear_notifications()
    await pilot.pause()


async def _in_transaction(pilot) -> None:
    await ready(pilot, query=None)
    await _statement(pilot, "BEGIN")
    await _statement(pilot, "UPDATE products SET price = price WHERE id = 1")
    await until(pilot, lambda: "in transaction" in _badge(pilot), what="in transaction")
    await pilot.pause()


async def _snapshot(pilot) -> None:
    await ready(pilot, query=None)
    await _statement(pilot, "SELECT id, order_id, product_id, quantity FROM order_items ORDER BY id")
    await until(pilot, lambda: "snapshot held" in _badge(pilot), what="snapshot held")
    await pilot.pause()


async def _quit_asks(pilot) -> None:
    await _in_transaction(pilot)
    await pilot.press("ctrl+q")
    await pilot.pause()


STATES = {"manual": _manual, "in_transaction": _in_transaction, "snapshot": _snapshot, "quit": _quit_asks}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("size", SIZES)
def test_transaction(snap_compare, demo, size, state):
    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=STATES[state])


@pytest.mark.pg
@pytest.mark.parametrize("size", SIZES)
def test_transaction_failed(snap_compare, pg_fresh_db, size):
    async def failed(pilot) -> None:
        con = await asyncpg.connect(pg_fresh_db)
        await con.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance numeric)")
        await con.close()
        await ready(pilot, query=None)
        pilot.app.screen.query_one("#target").update("postgresql://aishell@localhost/aishell_test")
        await _statement(pilot, "BEGIN")
        await _statement(pilot, "SELECT 1/0")
        await until(pilot, lambda: "failed" in _badge(pilot), what="failed")
        await pilot.pause()

    assert snap_compare(make_app(pg_fresh_db), terminal_size=SIZES[size], run_before=failed)
