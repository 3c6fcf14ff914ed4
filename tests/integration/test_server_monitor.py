"""The server monitor against the real cluster: a pgbench load, a lock that blocks another
session, an idle-in-transaction session; the views show each, cancel and terminate work, and
they are refused with the reason in a read-only session and for a role without the right."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid

import asyncpg
import pytest

from aishell.engine.config import Settings
from aishell.engine.drivers import driver_for
from aishell.engine.drivers.server import ServerActionRefused
from aishell.engine.server import ServerMonitor, flag, select
from aishell.engine.session import Session

pytestmark = pytest.mark.pg


def settings() -> Settings:
    return Settings.load(read_file=False, overrides={"memory": {"enabled": False}, "cache": {"enabled": False}, "pool": {"min_size": 1, "max_size": 2}})


@pytest.fixture(scope="module")
def bench_db(pg_cluster):
    """A database with pgbench's tables, an unused index and a duplicate one."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    name = f"mon_{uuid.uuid4().hex[:10]}"
    url = pg_cluster.create_database(name)
    pg_cluster.pgbench_init(name)
    pg_cluster.psql(
        "CREATE INDEX branches_bbalance ON pgbench_branches (bbalance);"
        "CREATE INDEX tellers_bid_a ON pgbench_tellers (bid); CREATE INDEX tellers_bid_b ON pgbench_tellers (bid);"
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
        database=name,
    )
    return pg_cluster, name, url


def start_pgbench(cluster, database: str, seconds: int) -> subprocess.Popen:
    cmd = [str(cluster.bin / "pgbench"), "-n", "-c", "2", "-T", str(seconds), "-h", str(cluster.sockdir), "-p", str(cluster.port), "-U", cluster.user, database]
    if cluster.as_root:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def until(predicate, monitor: ServerMonitor, view: str, timeout: float = 8.0):
    deadline = time.monotonic() + timeout
    while True:
        snapshot = await monitor.refresh(view)
        if predicate(snapshot):
            return snapshot
        assert time.monotonic() < deadline, f"{view}: not seen in {timeout}s: {snapshot}"
        await asyncio.sleep(0.2)


async def test_pgbench_load_shows_in_activity_rates_and_top_statements(bench_db):
    cluster, name, url = bench_db
    monitor = ServerMonitor(driver_for(url), read_only=False)
    try:
        await monitor.refresh("statements")  # the watched interval starts before the load
        load = start_pgbench(cluster, name, 3)
        try:
            seen = await until(lambda s: sum(b.application == "pgbench" for b in s.backends) == 2, monitor, "activity")
            pgbench = [b for b in seen.backends if b.application == "pgbench"]
            assert {b.database for b in pgbench} == {name} and {b.user for b in pgbench} == {cluster.user}
            await asyncio.sleep(0.5)
            busy = await until(lambda s: (s.tps or 0) > 10, monitor, "activity")
            assert busy.hit_ratio is not None and 0 <= busy.hit_ratio <= 1
            assert busy.history["tps"] and busy.history["active"]
            top = await until(lambda s: any("pgbench_accounts" in r.stat.query and r.calls > 10 for r in s.statements), monitor, "statements")
        finally:
            load.wait(timeout=30)
    finally:
        await monitor.close()
    update = next(r for r in top.statements if r.stat.query.startswith("UPDATE pgbench_accounts"))
    assert update.stat.calls >= update.calls > 0 and update.total_ms > 0 and update.mean_ms > 0
    assert update.stat.database == name
    assert top.statements_reset_at is not None
    assert top.unavailable is None


async def test_a_blocked_session_its_blocker_and_cancel_and_terminate(bench_db):
    _, _, url = bench_db
    holder = await asyncpg.connect(url, server_settings={"application_name": "holder"})
    waiter = await asyncpg.connect(url, server_settings={"application_name": "waiter"})
    monitor = ServerMonitor(driver_for(url), read_only=False)
    try:
        await holder.execute("BEGIN; UPDATE pgbench_branches SET bbalance = bbalance + 1 WHERE bid = 1")
        blocked = asyncio.create_task(waiter.execute("UPDATE pgbench_branches SET bbalance = bbalance - 1 WHERE bid = 1"))
        snapshot = await until(lambda s: len(s.locks) == 2, monitor, "locks")
        root, child = snapshot.locks
        assert (root.depth, root.root, root.backend.pid, root.blocks) == (0, True, holder.get_server_pid(), 1)
        assert (child.depth, child.root, child.backend.pid) == (1, False, waiter.get_server_pid())
        assert child.backend.blocked_by == (holder.get_server_pid(),)
        assert "pgbench_branches" in child.backend.waiting_for or "transactionid" in child.backend.waiting_for
        assert root.backend.idle_in_transaction
        assert flag(root.backend, long_after=3600, idle_after=0).startswith("idle in transaction")
        assert [b.pid for b in select(snapshot.backends, "idle in transaction")] == [holder.get_server_pid()]
        assert waiter.get_server_pid() in [b.pid for b in select(snapshot.backends, "active")]

        assert await monitor.signal(waiter.get_server_pid(), terminate=False)
        with pytest.raises(asyncpg.QueryCanceledError):
            await asyncio.wait_for(blocked, 5)
        assert await monitor.signal(holder.get_server_pid(), terminate=True)
        gone = await until(lambda s: holder.get_server_pid() not in {b.pid for b in s.backends}, monitor, "activity")
        with pytest.raises(ServerActionRefused, match="no such backend"):
            await monitor.signal(holder.get_server_pid(), terminate=True)
        with pytest.raises(ServerActionRefused, match="own connection"):
            await monitor.signal(gone.own_pid, terminate=False)
    finally:
        await monitor.close()
        await waiter.close()
        holder.terminate()


async def test_read_only_and_a_role_without_the_right_are_refused_with_the_reason(bench_db):
    cluster, name, url = bench_db
    role = f"watcher_{uuid.uuid4().hex[:6]}"
    cluster.psql(f"CREATE ROLE {role} LOGIN PASSWORD 'pw'", database=name)
    victim = await asyncpg.connect(url)
    try:
        session = await Session.open(url, settings=settings(), read_only=True)
        monitor = session.server_monitor()
        try:
            with pytest.raises(ServerActionRefused, match="read-only session: will not terminate"):
                await monitor.signal(victim.get_server_pid(), terminate=True)
        finally:
            await monitor.close()
            await session.close()
        weak = ServerMonitor(driver_for(url.replace(f"{cluster.user}:{cluster.password}", f"{role}:pw")), read_only=False)
        try:
            with pytest.raises(ServerActionRefused, match=r"cannot cancel backend \d+: .*superuser"):
                await weak.signal(victim.get_server_pid(), terminate=False)
        finally:
            await weak.close()
        assert await victim.fetchval("SELECT 1") == 1
    finally:
        await victim.close()


async def test_health_figures_and_index_suggestions(bench_db):
    _, name, url = bench_db
    monitor = ServerMonitor(driver_for(url), read_only=False)
    try:
        health = (await monitor.refresh("health")).health
    finally:
        await monitor.close()
    assert health.max_connections == 200 and 1 <= health.connections <= 200
    assert dict(health.sizes)[name] > 1_000_000
    assert health.deadlocks is not None and health.temp_files is not None and health.checkpoints_timed is not None
    assert health.replicas == ()
    unused = {item[0]: item for item in health.unused_indexes}
    assert unused["public.branches_bbalance"][3] == "DROP INDEX public.branches_bbalance"
    assert [(d[0], d[1], d[4]) for d in health.duplicate_indexes] == [("tellers_bid_b", "tellers_bid_a", "DROP INDEX tellers_bid_b")]


async def test_statements_unavailable_says_how_to_enable_it(pg_fresh_db):
    monitor = ServerMonitor(driver_for(pg_fresh_db), read_only=False)
    try:
        snapshot = await monitor.refresh("statements")
    finally:
        await monitor.close()
    assert snapshot.statements == ()
    assert "shared_preload_libraries = 'pg_stat_statements'" in snapshot.unavailable
    assert "CREATE EXTENSION pg_stat_statements" in snapshot.unavailable


async def test_sqlite_file_figures_and_check_on_demand(tmp_path):
    path = tmp_path / "shop.db"
    session = await Session.open(f"sqlite:///{path}", settings=settings(), create=True)
    try:
        await session.execute("PRAGMA journal_mode=wal")
        await session.execute("CREATE TABLE t (a int)")
        await session.execute("INSERT INTO t VALUES (1)")
        monitor = session.server_monitor()
        try:
            health = (await monitor.refresh("health")).health
            activity = await monitor.refresh("activity")
            assert await monitor.check(full=True) == "ok"
            with pytest.raises(ServerActionRefused, match="no server sessions"):
                await monitor.signal(1, terminate=False)
            assert await monitor.capabilities() == {"activity": False, "statements": False, "signals": False}
        finally:
            await monitor.close()
    finally:
        await session.close()
    facts = dict(health.facts)
    assert facts["file"] == str(path) and facts["journal"] == "wal" and "WAL" in facts
    assert facts["pages"].split()[0].replace(",", "").isdigit()
    assert activity.unavailable == "SQLite has no server: no other sessions to list"
