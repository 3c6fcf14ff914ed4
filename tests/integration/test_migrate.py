"""Migrations against real PostgreSQL (throwaway cluster) and real SQLite files."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from aishell.engine.migrate import (
    LOCK_KEY,
    STATE_TABLE,
    ChecksumMismatch,
    MigrationError,
    MigrationFailed,
    MigrationLocked,
    Migrator,
)
from aishell.tui.cli import main as cli

USERS = "-- up\nCREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);\n-- down\nDROP TABLE users;\n"
ORDERS = (
    "-- up\n"
    "CREATE TABLE orders (id integer PRIMARY KEY, user_id integer REFERENCES users (id), total numeric);\n"
    "INSERT INTO users VALUES (1, 'a@example.com');\n"
    "INSERT INTO orders VALUES (1, 1, 9.5);\n"
    "-- down\n"
    "DROP TABLE orders;\n"
    "DELETE FROM users WHERE id = 1;\n"
)
# Creates a table and writes rows, then fails on line 6 of the file: none of it may stay.
BROKEN = (
    "-- up\n"
    "CREATE TABLE audit (id integer, note text);\n"
    "INSERT INTO audit VALUES (1, 'first');\n"
    "UPDATE users SET email = 'changed@example.com';\n"
    "\n"
    "INSERT INTO no_such_table VALUES (1);\n"
    "-- down\n"
    "DROP TABLE audit;\n"
)


@pytest.fixture(params=["postgres", "sqlite"])
def db(request, tmp_path) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("pg_fresh_db")
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as created:  # a database, not a 0-byte file (that needs --create)
        created.execute("PRAGMA user_version = 1")
    return f"sqlite:///{path}"


@pytest.fixture
def mdir(tmp_path) -> Path:
    d = tmp_path / "migrations"
    d.mkdir()
    (d / "0001_users.sql").write_text(USERS)
    (d / "0002_orders.sql").write_text(ORDERS)
    return d


async def _query(url: str, sql: str) -> list[tuple]:
    async with await Migrator.open(url, ".") as m:
        return (await m.conn.execute(sql)).rows


async def _tables(url: str) -> set[str]:
    if url.startswith("sqlite"):
        rows = await _query(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = await _query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r[0] for r in rows}


async def test_up_status_down_cycle(db, mdir):
    async with await Migrator.open(db, mdir) as m:
        assert [(s.version, s.state) for s in await m.status()] == [(1, "pending"), (2, "pending")]
        assert await _tables(db) == set(), "status creates nothing"
        applied = await m.up()
        assert [x.label for x in applied] == ["0001_users", "0002_orders"]
        states = await m.status()
        assert [(s.version, s.state) for s in states] == [(1, "applied"), (2, "applied")]
        assert all(s.applied_at is not None for s in states)
        assert await m.up() == []
        rows = (await m.conn.execute(f"SELECT version, name, checksum FROM {STATE_TABLE} ORDER BY version")).rows
        assert [(r[0], r[1]) for r in rows] == [(1, "users"), (2, "orders")]
        assert rows[0][2] == states[0].migration.checksum
        assert (await m.conn.execute("SELECT count(*) FROM orders")).rows == [(1,)]

        assert [x.label for x in await m.down()] == ["0002_orders"]
        assert "orders" not in await _tables(db)
        assert [(s.version, s.state) for s in await m.status()] == [(1, "applied"), (2, "pending")]
        assert [x.label for x in await m.up(1)] == ["0002_orders"]
        assert [x.label for x in await m.down(5)] == ["0002_orders", "0001_users"]
        assert await _tables(db) == {STATE_TABLE}


async def test_failing_migration_leaves_database_and_state_as_they_were(db, mdir):
    (mdir / "0003_broken.sql").write_text(BROKEN)
    (mdir / "0004_after.sql").write_text("-- up\nCREATE TABLE later (x integer);\n")
    async with await Migrator.open(db, mdir) as m:
        await m.up(2)
        before_state = (await m.conn.execute(f"SELECT version, name, checksum FROM {STATE_TABLE} ORDER BY 1")).rows
        with pytest.raises(MigrationFailed) as info:
            await m.up()
        assert info.value.version == 3
        message = str(info.value)
        assert "0003_broken" in message and "no_such_table" in message and "rolled back" in message
        if db.startswith("sqlite"):
            assert "line 6" in message  # the statement's line in the file
        assert not m.conn.in_transaction
        assert await _tables(db) == {"users", "orders", STATE_TABLE}, "audit was rolled back, 0004 never ran"
        assert (await m.conn.execute("SELECT email FROM users")).rows == [("a@example.com",)]
        after_state = (await m.conn.execute(f"SELECT version, name, checksum FROM {STATE_TABLE} ORDER BY 1")).rows
        assert after_state == before_state
        assert [s.state for s in await m.status()] == ["applied", "applied", "pending", "pending"]

        # Fixed, it applies with the one after it.
        (mdir / "0003_broken.sql").write_text(BROKEN.replace("INSERT INTO no_such_table VALUES (1);", "SELECT 1;"))
        assert [x.version for x in await m.up()] == [3, 4]
        assert (await m.conn.execute("SELECT note FROM audit")).rows == [("first",)]


async def test_edited_applied_migration_is_reported_and_refused(db, mdir):
    async with await Migrator.open(db, mdir) as m:
        await m.up()
        (mdir / "0001_users.sql").write_text(USERS.replace("email text NOT NULL", "email text"))
        (mdir / "0003_more.sql").write_text("-- up\nCREATE TABLE more (x integer);\n")
        assert [s.state for s in await m.status()] == ["changed", "applied", "pending"]
        with pytest.raises(ChecksumMismatch, match="0001_users is changed after being applied"):
            await m.up()
        assert "more" not in await _tables(db)
        (mdir / "0001_users.sql").write_text(USERS + "\n")  # trailing blank lines do not count as an edit
        assert [s.state for s in await m.status()] == ["applied", "applied", "pending"]
        (mdir / "0002_orders.sql").unlink()
        assert [s.state for s in await m.status()] == ["applied", "missing", "pending"]
        with pytest.raises(MigrationError, match="file is gone"):
            await m.down()


async def test_down_checks_every_target_before_running_any(db, mdir):
    (mdir / "0003_seed.sql").write_text("INSERT INTO users VALUES (7, 'seed@example.com');\n")  # no down
    async with await Migrator.open(db, mdir) as m:
        await m.up()
        with pytest.raises(MigrationError, match="0003_seed: it has no '-- down' section"):
            await m.down(2)
        assert [s.state for s in await m.status()] == ["applied"] * 3


async def test_out_of_order_migration_is_refused_unless_asked(db, tmp_path):
    d = tmp_path / "gaps"
    d.mkdir()
    (d / "0001_a.sql").write_text("-- up\nCREATE TABLE a (x integer);\n")
    (d / "0003_c.sql").write_text("-- up\nCREATE TABLE c (x integer);\n")
    async with await Migrator.open(db, d) as m:
        assert len(await m.up()) == 2
        (d / "0002_b.sql").write_text("-- up\nCREATE TABLE b (x integer);\n")
        with pytest.raises(MigrationError, match="0002_b is older than the newest applied migration"):
            await m.up()
        assert "b" not in await _tables(db)
        assert [x.label for x in await m.up(out_of_order=True)] == ["0002_b"]


async def test_concurrent_runs_apply_each_migration_once(db, tmp_path):
    d = tmp_path / "concurrent"
    d.mkdir()
    slow = "SELECT pg_sleep(0.4);" if db.startswith("postgres") else "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000) SELECT count(*) FROM c;"
    (d / "0001_log.sql").write_text(f"-- up\nCREATE TABLE log (run text);\n{slow}\nINSERT INTO log VALUES ('one');\n")
    (d / "0002_more.sql").write_text(f"-- up\n{slow}\nINSERT INTO log VALUES ('two');\n")
    first = await Migrator.open(db, d)
    second = await Migrator.open(db, d)
    try:
        results = await asyncio.gather(first.up(), second.up())
    finally:
        await first.close()
        await second.close()
    assert sorted(len(r) for r in results) in ([0, 2], [1, 1])
    assert sorted(m.version for r in results for m in r) == [1, 2]
    assert sorted(r[0] for r in await _query(db, "SELECT run FROM log")) == ["one", "two"]
    assert (await _query(db, f"SELECT count(*) FROM {STATE_TABLE}")) == [(2,)]


async def test_postgres_lock_held_elsewhere_times_out(pg_fresh_db, mdir):
    holder = await asyncpg.connect(pg_fresh_db)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        pid = holder.get_server_pid()
        async with await Migrator.open(pg_fresh_db, mdir, lock_timeout=0.3) as m:
            with pytest.raises(MigrationLocked, match=f"server process {pid}"):
                await m.up()
            await holder.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
            assert len(await m.up()) == 2
    finally:
        await holder.close()


async def test_postgres_no_transaction_migration(pg_fresh_db, tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_t.sql").write_text("-- up\nCREATE TABLE t (x integer);\n-- down\nDROP TABLE t;\n")
    (d / "0002_idx.sql").write_text(
        "-- aishell:no-transaction\n-- up\nCREATE INDEX CONCURRENTLY t_x ON t (x);\n-- down\nDROP INDEX CONCURRENTLY t_x;\n"
    )
    async with await Migrator.open(pg_fresh_db, d) as m:
        assert len(await m.up()) == 2
        assert (await m.conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 't_x'")).rows == [(1,)]
        assert len(await m.down()) == 1
        assert (await m.conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 't_x'")).rows == [(0,)]


def test_cli_migrate_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "cli.db"
    assert cli(["migrate", "new", "create users"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == Path("migrations/0001_create_users.sql")
    path.write_text(USERS)
    (tmp_path / "migrations" / "0002_broken.sql").write_text(BROKEN)
    assert cli(["migrate", "status", "--db", str(db)]) == 2  # no such file, no --create
    assert cli(["migrate", "up", "--db", str(db), "--create"]) == 2
    out, err = capsys.readouterr()
    assert "applied 0001_create_users" in out
    assert err.count("\n") == 2 and "0002_broken" in err.splitlines()[-1] and "Traceback" not in err
    assert cli(["migrate", "status", "--db", str(db), "--format", "json"]) == 0
    states = json.loads(capsys.readouterr().out)["migrations"]
    assert [(s["version"], s["state"]) for s in states] == [(1, "applied"), (2, "pending")]
    (tmp_path / "migrations" / "0002_broken.sql").unlink()
    assert cli(["migrate", "status", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "create_users  applied" in out and "1 applied" in out
    assert cli(["migrate", "--db", str(db), "down"]) == 0  # options before the action work too
    assert "reverted 0001_create_users" in capsys.readouterr().out
    assert cli(["migrate", "up", "--db", str(db), "--dir", str(tmp_path / "elsewhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli(["migrate", "up"]) == 2
    assert "needs --db" in capsys.readouterr().err


async def test_syntax_error_points_at_the_line_in_the_file(db, tmp_path):
    d = tmp_path / "syntax"
    d.mkdir()
    (d / "0001_typo.sql").write_text(
        "-- a migration with a typo\n-- up\n\nCREATE TABLE a (x integer);\nCREATE TABLE b (x integer,\n  y integer));\n"
    )
    async with await Migrator.open(db, d) as m:
        with pytest.raises(MigrationFailed) as info:
            await m.up()
        assert "0001_typo.sql, line" in str(info.value)
        line = int(str(info.value).split(", line ")[1].split(")")[0])
        assert line == (6 if db.startswith("postgres") else 5)  # PostgreSQL gives the position; SQLite the statement
        assert await _tables(db) == {STATE_TABLE}
