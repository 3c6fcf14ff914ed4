"""Backup and restore against the throwaway PostgreSQL cluster and real SQLite files.

The PostgreSQL source is a ``pgbench -i -s 5`` database (500,000 accounts) plus a table with a
sequence, arrays, NULLs and non-ASCII text, and a view; every restore is compared table by
table (row count and a checksum over every row's md5) and sequence by sequence with the source.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from aishell.engine.backup import MANIFEST_NAME, BackupCorrupt, BackupError, backup, restore, verify
from aishell.tui.cli import main as cli

pytestmark = pytest.mark.pg

_TABLES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
ORDER BY 1
"""


async def _fingerprint(url: str) -> dict[str, tuple]:
    """Every table's (row count, sum of row md5s), every sequence's last value, the views."""
    conn = await asyncpg.connect(url)
    try:
        result: dict[str, tuple] = {}
        for (table,) in await conn.fetch(_TABLES):
            # Order-independent: the sum of each row's md5 (as a 64-bit number), no sort needed.
            row = await conn.fetchrow(
                f"SELECT count(*), sum(('x' || left(md5(t::text), 16))::bit(64)::bigint) FROM {table} t"
            )
            result[table] = (row[0], row[1])
        for name, value in await conn.fetch("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1"):
            result[f"sequence {name}"] = (value,)
        for (name,) in await conn.fetch("SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1"):
            result[f"view {name}"] = (await conn.fetchval(f"SELECT count(*) FROM {name}"),)
        return result
    finally:
        await conn.close()


async def _table_count(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                   "WHERE c.relkind IN ('r','v','S') AND n.nspname = 'public'")
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def pgbench_source(pg_cluster) -> str:
    """A pgbench scale-5 database with some extra shapes, created once for this module."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    name = f"bk_{uuid.uuid4().hex[:10]}"
    url = pg_cluster.create_database(name)
    pg_cluster.pgbench_init(name, scale=5)
    pg_cluster.psql(
        """CREATE TABLE notes (id serial PRIMARY KEY, body text, tags text[], amount numeric(12,3), at timestamptz);
           INSERT INTO notes (body, tags, amount, at)
             SELECT CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || g || ' — café ✓' END,
                    ARRAY['t' || (g % 3), 'x'], g * 1.125, '2024-01-01'::timestamptz + g * interval '1 hour'
             FROM generate_series(1, 2000) g;
           CREATE VIEW rich_accounts AS SELECT * FROM pgbench_accounts WHERE abalance > 0;
           UPDATE pgbench_accounts SET abalance = aid % 97 WHERE aid % 1000 = 0;
           ANALYZE;""",
        database=name,
    )
    return url


@pytest.fixture(scope="module")
def source_fingerprint(pgbench_source) -> dict[str, tuple]:
    return asyncio.run(_fingerprint(pgbench_source))


def _new_db(pg_cluster) -> str:
    return pg_cluster.create_database(f"rs_{uuid.uuid4().hex[:10]}")


@pytest.mark.parametrize(("fmt", "compress"), [("directory", None), ("custom", "zstd"), ("custom", "gzip")])
async def test_backup_restore_round_trip_matches_every_table(pgbench_source, source_fingerprint, pg_cluster, tmp_path, fmt, compress):
    out = tmp_path / "bk"
    events = []
    manifest = await backup(pgbench_source, out, format=fmt, jobs=2, compress=compress, progress=lambda p: events.append(
        (p.phase, max(p.bytes_done, p.dumped), p.tables_done, p.tables_total, p.finished)))
    assert manifest.format == fmt and manifest.engine == "postgres"
    assert manifest.compression == (compress or "gzip")  # pg_dump 15: gzip inside directory archives
    assert manifest.server_version.startswith("15")
    tables = {(t.schema, t.name): t for t in manifest.tables}
    assert tables[("public", "pgbench_accounts")].row_estimate == 500_000
    assert tables[("public", "pgbench_accounts")].bytes > 50_000_000
    assert events[-1][-1] is True and events[-1][2] == events[-1][3] == 5
    assert any(e[1] > 0 for e in events[:-1]), f"bytes reported while the dump ran: {events}"
    written = json.loads((out / MANIFEST_NAME).read_text())
    assert written["database"]["database"] == urlsplit(pgbench_source).path.lstrip("/")
    assert "aishell-test-pw" not in (out / MANIFEST_NAME).read_text()
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != MANIFEST_NAME)
    assert sorted(f.path for f in manifest.files) == on_disk
    if fmt == "custom":
        suffix = {"zstd": ".zst", "gzip": ".gz"}[compress]
        assert on_disk == [f"database.dump{suffix}"]
        assert manifest.total_bytes < 10_000_000  # compressed: the table alone is ~65 MB of text

    target = _new_db(pg_cluster)
    events.clear()
    await restore(out, target, jobs=2, progress=lambda p: events.append((p.phase, p.tables_done, p.finished)))
    assert [e for e in events if e[0] == "verify"][-1][2] is True, "verified before restoring"
    assert events[-1] == ("restore", 5, True)
    assert await _fingerprint(target) == source_fingerprint


async def test_corrupted_backup_is_refused_and_target_untouched(pgbench_source, pg_cluster, tmp_path):
    out = tmp_path / "bk"
    manifest = await backup(pgbench_source, out, format="directory", jobs=2)
    biggest = max(manifest.files, key=lambda f: f.bytes)
    data = bytearray((out / biggest.path).read_bytes())
    data[len(data) // 2] ^= 0x40  # one flipped bit in the accounts data
    (out / biggest.path).write_bytes(bytes(data))
    target = _new_db(pg_cluster)
    with pytest.raises(BackupCorrupt, match=rf"checksum mismatch in {biggest.path}"):
        await restore(out, target)
    with pytest.raises(BackupCorrupt):
        await verify(out)
    assert await _table_count(target) == 0

    (out / biggest.path).write_bytes(bytes(data[:1000]))  # truncated
    with pytest.raises(BackupCorrupt, match="has 1000 bytes"):
        await restore(out, target)
    (out / biggest.path).unlink()
    with pytest.raises(BackupCorrupt, match="is missing"):
        await restore(out, target)
    (out / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(BackupCorrupt, match="not valid JSON"):
        await restore(out, target)
    assert await _table_count(target) == 0


def test_cli_backup_verify_restore_and_corruption(pgbench_source, source_fingerprint, pg_cluster, tmp_path, capsys):
    out = tmp_path / "cli-bk"
    assert cli(["backup", pgbench_source, "--out", str(out), "--format", "custom", "-j", "2"]) == 0
    captured = capsys.readouterr()
    assert "backed up" in captured.out and "aishell-test-pw" not in captured.out + captured.err
    assert "tables 5/5, done" in captured.err  # progress on stderr
    assert cli(["restore", "--verify-only", str(out)]) == 0
    assert "is intact" in capsys.readouterr().out

    target = _new_db(pg_cluster)
    assert cli(["restore", str(out), target, "-q"]) == 0
    assert asyncio.run(_fingerprint(target)) == source_fingerprint
    capsys.readouterr()
    # Restoring again into the now non-empty database is refused.
    assert cli(["restore", str(out), target, "-q"]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and err.count("\n") == 1

    file = out / "database.dump.zst"
    data = bytearray(file.read_bytes())
    data[-10] ^= 0xFF
    file.write_bytes(bytes(data))
    empty = _new_db(pg_cluster)
    assert cli(["restore", str(out), empty]) == 2
    err = capsys.readouterr().err
    assert "corrupt" in err and "checksum mismatch" in err and "Traceback" not in err
    assert cli(["restore", "--verify-only", str(out)]) == 2
    assert asyncio.run(_table_count(empty)) == 0
    assert cli(["backup", pgbench_source, "--out", str(out)]) == 2  # never overwrites
    assert "not empty" in capsys.readouterr().err


async def test_password_reaches_tools_only_through_a_private_passfile(pgbench_source, source_fingerprint, pg_cluster, tmp_path, monkeypatch):
    """Also the one-job path: a directory archive restored in a single transaction."""
    seen = []
    real = asyncio.create_subprocess_exec

    async def recording(*cmd, **kwargs):
        env = kwargs.get("env") or {}
        passfile = env.get("PGPASSFILE")
        mode = stat.S_IMODE(os.stat(passfile).st_mode) if passfile else None
        seen.append((cmd, passfile, mode, "PGPASSWORD" in env))
        return await real(*cmd, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recording)
    await backup(pgbench_source, tmp_path / "bk", format="directory", jobs=1)
    target = _new_db(pg_cluster)
    await restore(tmp_path / "bk", target, jobs=1)
    assert any("--single-transaction" in cmd for cmd, *_ in seen)
    password = urlsplit(pgbench_source).password
    assert password and len(seen) >= 2
    for cmd, passfile, mode, has_pgpassword in seen:
        assert not any(password in str(arg) for arg in cmd), cmd
        if "pg_dump" in cmd[0] or "pg_restore" in cmd[0]:
            assert passfile and mode == 0o600 and not has_pgpassword
            assert not Path(passfile).exists(), "passfile removed afterwards"
    assert await _fingerprint(target) == source_fingerprint


async def test_failed_dump_reports_the_tool_error_and_leaves_nothing(pg_cluster, tmp_path):
    url = pg_cluster.url_for("aishell_test").replace(pg_cluster.password, "wrong-password")
    out = tmp_path / "bk"
    with pytest.raises(Exception) as info:
        await backup(url, out)
    assert "password authentication failed" in str(info.value)
    assert "wrong-password" not in str(info.value)
    assert not out.exists()


async def test_cancel_kills_pg_dump_and_removes_the_partial_backup(pgbench_source, tmp_path, monkeypatch):
    procs = []
    real = asyncio.create_subprocess_exec

    async def recording(*cmd, **kwargs):
        proc = await real(*cmd, **kwargs)
        procs.append(proc)
        return proc

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recording)
    out = tmp_path / "bk"
    started = asyncio.Event()
    task = asyncio.create_task(
        backup(pgbench_source, out, format="custom", compress="gzip", progress=lambda p: p.bytes_done and started.set())
    )
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert procs and all(p.returncode is not None for p in procs)
    assert not out.exists()


async def test_compressor_killed_mid_stream_fails_the_backup_without_hanging(pgbench_source, tmp_path, monkeypatch):
    """zstd dies while pg_dump's stream is relayed into it: the backup fails at once with zstd
    named (pg_dump, left with nobody reading, is stopped), and no partial backup stays."""
    procs = {}
    real = asyncio.create_subprocess_exec

    async def recording(*cmd, **kwargs):
        proc = await real(*cmd, **kwargs)
        procs[Path(cmd[0]).name] = proc
        return proc

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recording)
    out = tmp_path / "bk"
    killed = []

    def kill_zstd(progress):
        if progress.dumped and not killed:
            killed.append(progress.dumped)
            procs["zstd"].kill()

    with pytest.raises(Exception, match="zstd failed"):
        await asyncio.wait_for(backup(pgbench_source, out, format="custom", compress="zstd", progress=kill_zstd), 30)
    assert killed and all(p.returncode is not None for p in procs.values())
    assert not out.exists()


async def test_restore_refuses_non_empty_target_and_wrong_engine(pgbench_source, pg_url, tmp_path):
    out = tmp_path / "bk"
    sqlite_file = tmp_path / "x.db"
    with contextlib.closing(sqlite3.connect(sqlite_file)) as db:
        db.execute("PRAGMA user_version = 1")  # a database, not a 0-byte file (that needs --create)
    await backup(f"sqlite:///{sqlite_file}", out)
    with pytest.raises(BackupError, match="is a sqlite backup"):
        await restore(out, pgbench_source)
    with pytest.raises(BackupError, match="not empty"):
        pg_out = tmp_path / "pg"
        await backup(pgbench_source, pg_out, format="custom")
        await restore(pg_out, pgbench_source)


# -- SQLite -----------------------------------------------------------------------------------


def _sqlite_fingerprint(path: Path) -> dict[str, tuple]:
    # immutable: reading a WAL-mode backup copy must not leave -wal/-shm files in the backup
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY 1")]
        result = {}
        for name in names:
            rows = db.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()
            result[name] = (len(rows), hash(tuple(rows)))
        result["schema"] = tuple(db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"))
        return result


async def test_sqlite_backup_is_consistent_while_written_and_restores(tmp_path):
    source = tmp_path / "live.db"
    with sqlite3.connect(source) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, account INT, amount INT)")
        db.execute("CREATE INDEX ledger_account ON ledger(account)")
        db.executemany("INSERT INTO ledger (account, amount) VALUES (?, ?)", [(i % 50, 10) for i in range(100_000)])
        db.execute("CREATE TABLE totals (account INT PRIMARY KEY, total INT)")
        db.execute("INSERT INTO totals SELECT account, sum(amount) FROM ledger GROUP BY account")

    stop = False

    def writer() -> int:
        """Transfers that keep ledger and totals in agreement inside each transaction."""
        n = 0
        with sqlite3.connect(source, timeout=10) as db:
            while not stop:
                with db:
                    db.execute("INSERT INTO ledger (account, amount) VALUES (?, 5)", (n % 50,))
                    db.execute("UPDATE totals SET total = total + 5 WHERE account = ?", (n % 50,))
                n += 1
        return n

    writes = asyncio.ensure_future(asyncio.to_thread(writer))
    try:
        await asyncio.sleep(0.05)
        manifest = await backup(str(source), tmp_path / "bk")
    finally:
        stop = True
        writes_done = await writes
    assert writes_done > 0
    assert manifest.engine == "sqlite" and manifest.files[0].path == "database.sqlite"
    copy = tmp_path / "bk" / "database.sqlite"
    with contextlib.closing(sqlite3.connect(f"file:{copy}?mode=ro&immutable=1", uri=True)) as db:  # leaves no -wal/-shm
        ledger = dict(db.execute("SELECT account, sum(amount) FROM ledger GROUP BY account"))
        totals = dict(db.execute("SELECT account, total FROM totals"))
        assert ledger == totals, "the copy is one consistent snapshot"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    await verify(tmp_path / "bk")
    target = tmp_path / "restored" / "shop.db"
    await restore(tmp_path / "bk", f"sqlite:///{target}")
    assert _sqlite_fingerprint(target) == _sqlite_fingerprint(copy)
    with pytest.raises(BackupError, match="not empty"):
        await restore(tmp_path / "bk", str(target))
    await restore(tmp_path / "bk", str(target), clean=True)

    data = bytearray(copy.read_bytes())
    data[len(data) // 3] ^= 0x01
    copy.write_bytes(bytes(data))
    fresh = tmp_path / "fresh.db"
    with pytest.raises(BackupCorrupt, match="checksum mismatch in database.sqlite"):
        await restore(tmp_path / "bk", str(fresh))
    assert not fresh.exists()


def test_cli_sqlite_round_trip_and_bad_input(tmp_path, capsys):
    from aishell.engine.demo import ensure_demo_database

    demo = Path(ensure_demo_database(tmp_path / "demo.db"))
    assert cli(["backup", str(demo), "--out", str(tmp_path / "bk")]) == 0
    assert cli(["restore", str(tmp_path / "bk"), str(tmp_path / "copy.db")]) == 0
    assert _sqlite_fingerprint(tmp_path / "copy.db") == _sqlite_fingerprint(demo)
    assert "verify: " in capsys.readouterr().err
    assert cli(["restore", str(tmp_path / "bk"), str(tmp_path / "copy2.db"), "--no-verify"]) == 0
    err = capsys.readouterr().err
    assert "restore: " in err and "verify: " not in err
    assert _sqlite_fingerprint(tmp_path / "copy2.db") == _sqlite_fingerprint(demo)
    assert cli(["backup", str(demo), "--out", str(tmp_path / "bk2"), "--compress", "zstd"]) == 2
    assert cli(["restore", str(tmp_path / "nowhere"), str(tmp_path / "c.db")]) == 2
    assert cli(["restore", str(tmp_path / "bk")]) == 2  # no target
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("aishell: ") for line in err)
    assert not (tmp_path / "bk2").exists()


async def test_sqlite_backup_cancelled_midway_leaves_nothing(tmp_path):
    source = tmp_path / "big.db"
    with sqlite3.connect(source) as db:
        db.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)")
        db.executemany("INSERT INTO blobs (body) VALUES (randomblob(4000))", [()] * 8000)  # ~32 MB
    out = tmp_path / "bk"
    first = asyncio.Event()
    seen = []

    def on_progress(p):
        seen.append(p.bytes_done)
        first.set()

    task = asyncio.create_task(backup(str(source), out, progress=on_progress))
    await asyncio.wait_for(first.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen and seen[-1] < source.stat().st_size, "stopped before the end"
    assert not out.exists()


# -- killed backups ------------------------------------------------------------------------------


def _proc_children() -> dict[int, list[int]]:
    """ppid -> pids, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat_line = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat_line.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    return children


def _descendants(pid: int) -> set[int]:
    tree = _proc_children()
    found, pending = set(), [pid]
    while pending:
        for child in tree.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie writes nothing; its parent may be a non-reaping init)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _mentioning(text: str) -> set[int]:
    """Running processes whose command line contains ``text``."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in Path(f"/proc/{entry}/cmdline").read_bytes() and _running(int(entry)):
                    found.add(int(entry))
    return found


def _bytes_under(path: Path) -> int:
    total = 0
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file():
                total += p.stat().st_size
    return total


@pytest.mark.parametrize("fmt", [
    pytest.param(["--format", "directory", "-j", "2"], id="directory-2-jobs"),
    pytest.param(["--format", "custom", "--compress", "gzip"], id="custom-gzip"),  # zstd: the stalled test below
])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killed_backup_takes_its_tools_with_it(pgbench_source, tmp_path, sig, fmt):
    """A real `aishell backup` killed while pg_dump writes: within 2 s no tool of it runs, and
    nothing that looks like a backup (a manifest) exists; the next backup to the same path works."""
    area = tmp_path / "area"
    area.mkdir()
    out = area / "bk"
    cmd = [sys.executable, "-m", "aishell.tui.cli", "backup", pgbench_source, "--out", str(out), "-q", *fmt]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:  # until pg_dump is writing
            assert proc.poll() is None, f"backup ended before the signal: {proc.communicate()}"
            tools = {p: _comm(p) for p in _descendants(proc.pid)}
            if "pg_dump" in tools.values() and _bytes_under(area) > 0:
                break
            assert time.monotonic() < deadline, "pg_dump never started writing"
            time.sleep(0.01)
        tree = _descendants(proc.pid)
        if "-j" in fmt:
            time.sleep(0.05)
            tree = _descendants(proc.pid)
            assert sum(1 for p in tree if _comm(p) == "pg_dump") >= 2, "the parallel workers run"
        stopped = time.monotonic()
        os.kill(proc.pid, sig)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    while (left := {p for p in tree if _running(p)} | _mentioning(str(area))) and time.monotonic() - stopped < 2:
        time.sleep(0.02)
    assert not left, f"still running after 2 s: {[(p, _comm(p)) for p in left]}"
    assert not out.exists(), "no complete-looking backup"
    assert not list(area.rglob(MANIFEST_NAME))
    while list(area.iterdir()) and time.monotonic() - stopped < 2:
        time.sleep(0.02)
    assert list(area.iterdir()) == [], "the partial copy is removed (by us on SIGTERM, by the watchdog on SIGKILL)"
    err = proc.stderr.read().decode()
    if sig == signal.SIGTERM:
        assert proc.returncode == 143
        assert err.count("\n") == 1 and "stopped by SIGTERM" in err and "Traceback" not in err, err
    else:
        assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()
    proc.stderr.close()
    if sig == signal.SIGKILL and "gzip" in fmt:  # once: the path is usable again
        assert cli(["backup", pgbench_source, "--out", str(out), "-q", *fmt]) == 0
        assert cli(["restore", "-q", "--verify-only", str(out)]) == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killed_backup_stops_tools_that_are_stalled(pgbench_source, tmp_path, sig):
    """zstd stopped (as on a stalled disk): pg_dump blocks on the full pipe, silent, and would
    wait forever, since no closing pipe of ours would ever reach it. Killing `aishell backup`
    must end both anyway, within 2 s."""
    area = tmp_path / "area"
    area.mkdir()
    out = area / "bk"
    cmd = [sys.executable, "-m", "aishell.tui.cli", "backup", pgbench_source, "--out", str(out), "-q", "--format", "custom", "--compress", "zstd"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tree: set[int] = set()
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "pg_dump and zstd never ran"
            tree = _descendants(proc.pid)
            tools = {_comm(p): p for p in tree}
            if {"pg_dump", "zstd"} <= set(tools) and _bytes_under(area) > 0:
                break
            time.sleep(0.01)
        os.kill(tools["zstd"], signal.SIGSTOP)
        time.sleep(0.3)  # pg_dump fills the pipe and blocks
        assert _running(tools["pg_dump"])
        stopped = time.monotonic()
        os.kill(proc.pid, sig)
        proc.wait(10)
        while (left := {p for p in tree if _running(p)}) and time.monotonic() - stopped < 2:
            time.sleep(0.02)
        assert not left, f"still running after 2 s: {[(p, _comm(p)) for p in left]}"
        while list(area.iterdir()) and time.monotonic() - stopped < 2:
            time.sleep(0.02)
        assert list(area.iterdir()) == [], "nothing left behind"
    finally:
        for pid in tree | {proc.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
