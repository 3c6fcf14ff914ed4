"""Memory through the Session: every statement recorded and committed before its result is
shown, found again by Session.recall; faults (full disk, read-only dir, SIGKILL) never cost a
query or an acknowledged entry."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from aishell.engine.config import Settings
from aishell.engine.demo import ensure_demo_database
from aishell.engine.errors import MemoryUnavailable, QueryError
from aishell.engine.session import Session

ROOT = Path(__file__).resolve().parents[2]


def _runs(memory_path: Path) -> list[tuple[str, str, int | None, str | None, int | None]]:
    """(text, database, success, error, rows) of every run, read by a separate connection."""
    raw = sqlite3.connect(f"file:{memory_path}?mode=ro", uri=True)
    try:
        return raw.execute(
            "SELECT s.text, r.database, r.success, r.error, r.rows FROM runs r JOIN statements s ON s.id = r.statement_id ORDER BY r.id"
        ).fetchall()
    finally:
        raw.close()


@pytest.fixture(scope="module")
def _demo_db(tmp_path_factory) -> Path:
    """The demo shop database, built once for the module (copied per test)."""
    return ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db")


@pytest.fixture
def shop(aishell_home, _demo_db) -> tuple[Settings, Path]:
    settings = Settings.load()
    settings.pool.enabled = False  # one connection is all these tests need
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = settings.data_dir / "shop.db"
    shutil.copyfile(_demo_db, db)
    return settings, db


async def test_every_statement_is_committed_before_its_result_is_returned(shop):
    settings, db = shop
    async with await Session.open(str(db), settings=settings) as session:
        assert session.memory is not None and session.memory.enabled, session.memory and session.memory.reason
        result = await session.execute("SELECT count(*) FROM orders WHERE status = 'shipped'")
        runs = _runs(settings.memory_path)  # another connection sees it already
        assert runs[-1][:3] == ("SELECT count(*) FROM orders WHERE status = 'shipped'", session.display_url, 1)
        assert runs[-1][4] == result.rowcount == 1

        with pytest.raises(QueryError):
            await session.execute("SELECT no_such_column FROM orders")
        text, _, success, error, _ = _runs(settings.memory_path)[-1]
        assert (text, success) == ("SELECT no_such_column FROM orders", 0) and "no_such_column" in error

        async with session.stream("SELECT id, email FROM customers", page_size=100) as rows:
            total = sum([len(page) async for page in rows])
        text, _, success, _, n = _runs(settings.memory_path)[-1]
        assert (text, success, n) == ("SELECT id, email FROM customers", 1, total)

        await session.execute(" SELECT 'kept out' AS private")  # leading space: not remembered
        assert all("kept out" not in r[0] for r in _runs(settings.memory_path))

        hits = await session.recall("customers email")
        assert hits[0].text == "SELECT id, email FROM customers"
        assert hits[0].database == session.display_url and hits[0].rows == total and hits[0].success
        assert hits[0].signals["same_db"] == 1.0 and hits[0].duration_ms is not None
        failed = await session.recall("no_such_column orders")
        assert failed[0].success is False and "no_such_column" in failed[0].error


async def test_a_failing_stream_is_recorded_before_the_context_exits(shop):
    settings, db = shop
    async with await Session.open(str(db), settings=settings) as session:
        with pytest.raises(QueryError):
            async with session.stream("SELECT * FROM missing_table") as rows:
                async for _ in rows:
                    pass
        text, _, success, error, _ = _runs(settings.memory_path)[-1]
        assert text == "SELECT * FROM missing_table" and success == 0 and "missing_table" in error


async def test_password_statements_are_stored_redacted(shop):
    settings, db = shop
    async with await Session.open(str(db), settings=settings) as session:
        with pytest.raises(QueryError):  # SQLite has no roles: fails, and is still recorded
            await session.execute("ALTER ROLE app WITH PASSWORD 'Tr0ub4dor&3'")
    texts = [r[0] for r in _runs(settings.memory_path)]
    assert "ALTER ROLE app WITH PASSWORD '***'" in texts
    for p in settings.memory_path.parent.iterdir():
        if p.name.startswith("memory"):
            assert b"Tr0ub4dor" not in p.read_bytes(), p


async def test_memory_disabled_in_settings(shop):
    settings, db = shop
    settings.memory.enabled = False
    async with await Session.open(str(db), settings=settings) as session:
        assert session.memory is None
        assert (await session.execute("SELECT 1")).rows == [(1,)]
        with pytest.raises(MemoryUnavailable):
            await session.recall("anything")
    assert not settings.memory_path.exists()


async def test_full_disk_turns_memory_off_and_queries_go_on(shop, caplog):
    settings, db = shop
    async with await Session.open(str(db), settings=settings) as session:
        memory = session.memory
        await session.execute("SELECT 1")
        (pages,) = next(iter(await memory.store._conn.execute_fetchall("PRAGMA page_count")))
        await memory.store._conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full now
        for i in range(40):
            result = await session.execute(f"SELECT {i} AS n, '{'x' * 3000}' AS padding")
            assert result.rows[0][0] == i
        assert not memory.enabled and "memory off" in memory.reason
        assert any("memory off" in r.getMessage() for r in caplog.records)
        with pytest.raises(MemoryUnavailable):
            await session.recall("padding")


@pytest.mark.pg
async def test_postgres_statements_are_recorded_without_the_password(pg_url, aishell_home):
    settings = Settings.load()
    async with await Session.open(pg_url, settings=settings) as session:
        await session.execute("CREATE TEMP TABLE memo_probe (id int, note text)")
        await session.execute("INSERT INTO memo_probe VALUES (1, 'a'), (2, 'b')")
        result = await session.execute("SELECT note FROM memo_probe WHERE id = 2")
        assert result.rows == [("b",)]
        hits = await session.recall("memo_probe note by id")
        assert hits[0].text == "SELECT note FROM memo_probe WHERE id = 2"
        assert hits[0].database == session.display_url and "memo_probe" in hits[0].tables
        inserted = await session.recall("insert into memo_probe")
        assert inserted[0].rows == 2
    password = pg_url.split("@")[0].rsplit(":", 1)[-1] if "@" in pg_url else ""
    if password and "//" not in password:
        for p in settings.memory_path.parent.iterdir():
            if p.name.startswith("memory"):
                assert password.encode() not in p.read_bytes()


_RECORDER = """
import asyncio, sys
from aishell.engine.config import Settings
from aishell.engine.session import Session

async def main():
    settings = Settings.load()
    settings.pool.enabled = False
    async with await Session.open(sys.argv[1], settings=settings) as session:
        i = 0
        while True:
            await session.execute(f"SELECT {i} AS n, 'ack_marker_{i}' AS marker")
            print("ACK", i, flush=True)
            i += 1

asyncio.run(main())
"""


def test_sigkill_mid_stream_loses_no_acknowledged_entry(shop, aishell_home):
    settings, db = shop
    env = dict(os.environ, AISHELL_HOME=str(aishell_home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _RECORDER, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    acked: list[int] = []
    deadline = time.monotonic() + 60
    try:
        while len(acked) < 60 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("ACK "):
                acked.append(int(line.split()[1]))
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the stream of statements
    finally:
        proc.wait(10)
    assert len(acked) >= 60, proc.stderr.read()
    texts = {r[0] for r in _runs(settings.memory_path)}
    missing = [i for i in acked if f"SELECT {i} AS n, 'ack_marker_{i}' AS marker" not in texts]
    assert not missing
    # and the store opens cleanly afterwards, with its index rebuilt or caught up
    async def reopen() -> int:
        from aishell.engine.memory import Memory

        memory = await Memory.open(settings)
        try:
            assert memory.enabled and memory.notice is None
            hits = await memory.search(f"ack_marker_{acked[-1]}")
            assert hits and hits[0].text.endswith(f"'ack_marker_{acked[-1]}' AS marker")
            return memory.index.ntotal
        finally:
            await memory.close()

    assert asyncio.run(reopen()) >= len(acked)


def test_read_only_data_dir_means_memory_off_and_the_query_still_runs(tmp_path):
    """Run `aishell run` where the data dir cannot be written (as root: without CAP_DAC_OVERRIDE)."""
    base = Path(tempfile.mkdtemp(prefix="aishell-ro-", dir="/tmp"))
    try:
        home = base / "home"
        (home / "data").mkdir(parents=True)
        db = base / "shop.db"
        raw = sqlite3.connect(db)
        raw.execute("CREATE TABLE t (x int)")
        raw.execute("INSERT INTO t VALUES (42)")
        raw.commit()
        raw.close()
        for p in (base, home, home / "data"):
            os.chmod(p, 0o555)
        os.chmod(db, 0o444)
        cmd = [sys.executable, "-m", "aishell.tui.cli", "run", str(db), "-c", "SELECT x FROM t", "--format", "csv", "--read-only"]
        if os.geteuid() == 0:  # root ignores permissions unless it gives up CAP_DAC_OVERRIDE
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv: cannot drop CAP_DAC_OVERRIDE")
            cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *cmd]
        env = dict(os.environ, AISHELL_HOME=str(home), PYTHONPATH=str(ROOT), HOME=str(base))
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == ["x", "42"]
        assert "memory off" in done.stderr
        assert not (home / "data" / "memory.db").exists()
    finally:
        for p in (base, base / "home", base / "home" / "data"):
            if p.exists():
                os.chmod(p, 0o755)
        shutil.rmtree(base, ignore_errors=True)
