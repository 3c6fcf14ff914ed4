"""Snapshots of the server pane at 120×36 and 80×24: sessions with an idle-in-transaction one
flagged, the lock tree with its blocking root, top statements and health. The pane draws a
fixed sample (pids, durations and rates made up here), so nothing volatile reaches the SVG."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from aishell.engine.drivers.server import Backend, Health, StatementStat
from aishell.engine.server import ServerSnapshot, StatementDelta, lock_tree
from aishell.tui.controllers.server import view_model
from aishell.tui.widgets.server import ServerPane
from tests.tui.test_app_snapshots import SIZES, _snapshots_in_top_level_folder  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")

BACKENDS = (
    Backend(4101, "shop", "app", "checkout", "10.0.0.7", "idle in transaction", "Client:ClientRead", 312.0, 312.5,
            "UPDATE orders SET status = 'paid' WHERE id = 1042"),
    Backend(4102, "shop", "app", "checkout", "10.0.0.8", "active", "Lock:transactionid", 41.2, 41.2,
            "UPDATE orders SET status = 'shipped' WHERE id = 1042", (4101,), waiting_for="ShareLock on transactionid"),
    Backend(4103, "shop", "report", "psql", None, "active", "Lock:relation", 12.0, 12.0,
            "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", (4102,), waiting_for="AccessExclusiveLock on orders"),
    Backend(4104, "shop", "app", "pgbench", None, "active", None, 0.02, 0.03, "SELECT abalance FROM pgbench_accounts WHERE aid = 77"),
    Backend(4105, "postgres", "postgres", "psql", None, "idle", "Client:ClientRead", 900.0, None, "SELECT 1"),
)
HISTORY = {"tps": (120.0, 180.0, 240.0, 90.0, 310.0, 280.0), "active": (1.0, 2.0, 3.0, 3.0, 2.0, 3.0), "hit": (0.99, 0.98, 0.995, 0.97, 0.99, 0.999)}


def stat(n: int, query: str, calls: int, ms: float) -> StatementDelta:
    s = StatementStat((n, 1, 10), query, "shop", calls * 10, ms * 12, calls * 10, calls * 40, calls)
    return StatementDelta(s, calls, ms, calls, calls * 4, calls // 10)


SNAPSHOTS = {
    "activity": ServerSnapshot("activity", backends=BACKENDS, locks=tuple(lock_tree(BACKENDS)), tps=280.0, hit_ratio=0.999, active=3, history=HISTORY),
    "locks": ServerSnapshot("locks", backends=BACKENDS, locks=tuple(lock_tree(BACKENDS)), tps=280.0, hit_ratio=0.999, active=3, history=HISTORY),
    "statements": ServerSnapshot("statements", statements=(
        stat(1, "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2", 1520, 812.4),
        stat(2, "SELECT abalance FROM pgbench_accounts WHERE aid = $1", 1520, 95.1),
        stat(3, "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)", 1519, 40.7),
    ), tps=280.0, hit_ratio=0.999, active=3, history=HISTORY),
    "health": ServerSnapshot("health", health=Health(
        connections=23, max_connections=200, temp_files=4, temp_bytes=18_000_000, deadlocks=1, checkpoints_timed=12,
        checkpoints_requested=2, sizes=(("postgres", 7_500_000), ("shop", 1_240_000_000)),
        dead_tuples=(("public.orders", 120_000, 880_000, 5400.0),),
        unused_indexes=(("public.orders_note_idx", "public.orders", 24_000_000, "DROP INDEX public.orders_note_idx"),),
        duplicate_indexes=(("orders_customer_b", "orders_customer_a", "orders", 16_000_000, "DROP INDEX orders_customer_b"),),
    ), tps=280.0, hit_ratio=0.999, active=3, history=HISTORY),
}


class PaneApp(App):
    def __init__(self, view: str, filter: str = "all") -> None:
        super().__init__()
        self.view, self.filter = view, filter

    def compose(self) -> ComposeResult:
        yield ServerPane(id="server")

    def on_mount(self) -> None:
        self.query_one(ServerPane).show(view_model(SNAPSHOTS[self.view], self.filter))
        self.query_one("#server-table").focus()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", ["activity", "locks"])
def test_server_pane(snap_compare, view, size):
    assert snap_compare(PaneApp(view), terminal_size=SIZES[size])


@pytest.mark.parametrize("view", ["statements", "health"])
def test_server_pane_narrow(snap_compare, view):
    assert snap_compare(PaneApp(view), terminal_size=SIZES["80x24"])


def test_view_model_flags_and_tree():
    activity = view_model(SNAPSHOTS["activity"], "all")
    states = {key: cells[1] for key, cells, _ in activity["rows"]}
    assert str(states["pid4101"]) == "⚠ idle in tx"
    assert [key for key, _, _ in activity["rows"]][:1] == ["pid4101"]  # the oldest transaction first
    locks = view_model(SNAPSHOTS["locks"])
    assert [str(cells[0]) for _, cells, _ in locks["rows"]][:3] == ["▶ 4101", "  └ 4102", "    └ 4103"]
    health = {cells[1]: info["statement"] for _, cells, info in view_model(SNAPSHOTS["health"])["rows"]}
    assert health["orders_customer_b"] == "DROP INDEX orders_customer_b"
