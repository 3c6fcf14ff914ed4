"""Transactions the user can see: the Session's transaction state (idle, in transaction, failed,
a result holding a cursor and snapshot), manual-commit mode, commit and rollback, against the
real PostgreSQL cluster and real SQLite files.

Statements go through ``Session.stream`` as the workbench sends them. A transaction opened by
one statement must hold the next ones on the same connection: a separate connection checks
what was committed.
"""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from aishell.engine.config import Settings
from aishell.engine.errors import QueryError
from aishell.engine.session import Session
from aishell.engine.transaction import FAILED, IDLE, IN_TRANSACTION

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=["postgres", "sqlite"])
def target(request, tmp_path):
    """(url, count of committed rows in t seen from outside the session)."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_fresh_db")

        async def committed() -> int:
            con = await asyncpg.connect(url)
            try:
                return await con.fetchval("SELECT count(*) FROM t")
            finally:
                await con.close()

        return url, committed
    path = tmp_path / "tx.db"

    async def committed() -> int:
        with sqlite3.connect(path) as con:
            return con.execute("SELECT count(*) FROM t").fetchone()[0]

    return f"sqlite:///{path}", committed


def settings() -> Settings:
    s = Settings.load()
    s.memory.enabled = False
    s.pool.max_size = 4
    return s


async def run(session: Session, sql: str) -> list[tuple]:
    """What the workbench does with a statement: stream it to the end."""
    rows: list[tuple] = []
    async with session.stream(sql) as stream:
        async for page in stream:
            rows.extend(page)
    return rows


async def opened(url: str) -> Session:
    session = await Session.open(url, settings=settings(), create=True)
    await run(session, "CREATE TABLE t (id int PRIMARY KEY)")
    return session


async def test_begin_keeps_one_connection_and_the_state_says_so(target):
    url, committed = target
    async with await opened(url) as session:
        assert session.transaction.status == IDLE
        await run(session, "BEGIN; INSERT INTO t VALUES (1)")
        assert session.transaction.status == IN_TRANSACTION and session.transaction.open
        # the next statements see the uncommitted row: they run on the transaction's connection
        for _ in range(5):
            assert await run(session, "SELECT count(*) FROM t") == [(1,)]
        assert await committed() == 0
        await run(session, "INSERT INTO t VALUES (2)")
        await run(session, "COMMIT")
        assert session.transaction.status == IDLE
        assert await committed() == 2


async def test_rollback_typed_ends_the_transaction(target):
    url, committed = target
    async with await opened(url) as session:
        await run(session, "BEGIN")
        await run(session, "INSERT INTO t VALUES (1)")
        assert session.transaction.status == IN_TRANSACTION
        await run(session, "ROLLBACK")
        assert session.transaction.status == IDLE
        assert await run(session, "SELECT count(*) FROM t") == [(0,)]
        assert await committed() == 0


@pytest.mark.parametrize(
    "statements, status",
    [
        (["BEGIN", "SELECT 1/0"], FAILED),
        (["BEGIN; SELECT 1/0"], FAILED),
        (["BEGIN", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)"], FAILED),
        (["BEGIN", "SELECT 1/0", "SELECT 1"], FAILED),  # refused: still failed
        (["BEGIN", "SELECT 1/0", "ROLLBACK"], IDLE),
        (["BEGIN", "SELECT 1/0", "COMMIT"], IDLE),  # the server rolls it back
        (["BEGIN", "SAVEPOINT s", "SELECT 1/0", "ROLLBACK TO SAVEPOINT s"], IN_TRANSACTION),
        (["SELECT 1/0"], IDLE),  # no transaction to fail
        (["BEGIN", "SELECT no_such_column FROM t"], FAILED),
    ],
)
async def test_a_failed_postgres_transaction_needs_rollback(pg_fresh_db, statements, status):
    async with await opened(pg_fresh_db) as session:
        for sql in statements:
            try:
                await run(session, sql)
            except QueryError:
                pass
        state = session.transaction
        assert state.status == status
        assert state.needs_rollback == (status == FAILED)


@pytest.mark.parametrize("planned", ["begin", "SELECT no_such_column FROM t", "SELECT count(*) FROM t", "SELECT $1::int"])
async def test_a_plan_asked_inside_the_users_transaction_never_aborts_it(target, planned):
    """The insights pane plans the statement under the cursor, on the transaction's connection
    while one is open: ``EXPLAIN begin`` right after the user's BEGIN aborted their transaction,
    and the UPDATE they typed next was refused (found in tmux)."""
    url, committed = target
    async with await opened(url) as session:
        await run(session, "BEGIN")
        await run(session, "INSERT INTO t VALUES (1)")
        try:
            await session.explain(planned)
        except QueryError:
            pass
        assert session.transaction.status == IN_TRANSACTION
        await run(session, "INSERT INTO t VALUES (2)")
        await run(session, "COMMIT")
        assert await committed() == 2


async def test_an_error_leaves_a_sqlite_transaction_usable(tmp_path):
    async with await opened(f"sqlite:///{tmp_path / 'f.db'}") as session:
        await run(session, "BEGIN")
        with pytest.raises(QueryError):
            await run(session, "SELECT * FROM no_such_table")
        assert session.transaction.status == IN_TRANSACTION
        await run(session, "INSERT INTO t VALUES (1)")
        await run(session, "COMMIT")
        assert await run(session, "SELECT count(*) FROM t") == [(1,)]


@pytest.mark.parametrize("end", ["commit", "rollback"])
async def test_manual_commit_opens_a_transaction_at_the_first_statement(target, end):
    url, committed = target
    async with await opened(url) as session:
        session.manual_commit = True
        assert session.transaction.manual and session.transaction.status == IDLE
        await run(session, "INSERT INTO t VALUES (1)")
        assert session.transaction.status == IN_TRANSACTION
        await run(session, "INSERT INTO t VALUES (2)")
        assert await run(session, "SELECT count(*) FROM t") == [(2,)]
        assert await committed() == 0
        assert await getattr(session, end)() is True
        assert session.transaction.status == IDLE
        assert await committed() == (2 if end == "commit" else 0)
        assert await getattr(session, end)() is False  # nothing open: nothing sent
        # the next statement opens the next transaction, also for a plain SELECT
        await run(session, "SELECT count(*) FROM t")
        assert session.transaction.status == IN_TRANSACTION


async def test_manual_commit_lets_typed_transaction_control_through(target):
    url, committed = target
    async with await opened(url) as session:
        session.manual_commit = True
        await run(session, "BEGIN; INSERT INTO t VALUES (1)")  # no second BEGIN before it
        await run(session, "COMMIT")
        assert session.transaction.status == IDLE
        assert await committed() == 1
        session.manual_commit = False
        await run(session, "INSERT INTO t VALUES (2)")
        assert session.transaction.status == IDLE and await committed() == 2


async def test_manual_commit_on_a_read_only_session(pg_url):
    async with await Session.open(pg_url, settings=settings(), read_only=True) as session:
        session.manual_commit = True
        assert await run(session, "SELECT 1") == [(1,)]
        assert session.transaction.status == IN_TRANSACTION
        assert await session.rollback() is True
        assert session.transaction.status == IDLE


async def test_an_open_result_holds_a_snapshot_until_it_is_closed(pg_url):
    """A paused stream keeps its cursor and backend_xmin (vacuum is held back) until it ends."""
    async with await Session.open(pg_url, settings=settings()) as session:
        watcher = await asyncpg.connect(pg_url)
        try:
            async with session.stream("SELECT g FROM generate_series(1, 100000) g", page_size=100) as rows:
                async for _page in rows:
                    break
                assert session.transaction.snapshot
                assert session.transaction.status == IDLE  # the result's own transaction is not the user's
                xmins = await watcher.fetchval(
                    "SELECT count(backend_xmin) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                assert xmins == 1
            assert not session.transaction.snapshot
            assert await watcher.fetchval(
                "SELECT count(backend_xmin) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ) == 0
        finally:
            await watcher.close()



@pytest.mark.parametrize("manual", [False, True])
async def test_a_result_closed_inside_a_transaction_lets_its_snapshot_go(pg_url, manual):
    """A result left partly read inside the user's transaction (READ COMMITTED) closes its
    cursor: the transaction stays open, but no snapshot holds vacuum back until COMMIT."""
    query = "SELECT count(backend_xmin) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    async with await Session.open(pg_url, settings=settings()) as session:
        session.manual_commit = manual
        if not manual:
            await run(session, "BEGIN")
        watcher = await asyncpg.connect(pg_url)
        try:
            async with session.stream("SELECT g FROM generate_series(1, 100000) g", page_size=100) as rows:
                async for _page in rows:
                    break
                assert session.transaction.snapshot and session.transaction.status == IN_TRANSACTION
                assert await watcher.fetchval(query) == 1
            assert session.transaction == session.transaction.__class__(IN_TRANSACTION, manual=manual)
            assert await watcher.fetchval(query) == 0
            assert await run(session, "SELECT 1") == [(1,)]  # the transaction is still usable
        finally:
            await watcher.close()
