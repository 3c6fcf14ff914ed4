"""--read-only against attacks, on the real cluster and real SQLite files, layer by layer.

Read-only holds in three layers: (a) the server's read-only session (PostgreSQL's
default_transaction_read_only; SQLite's read-only open plus an authorizer), (b) the statement
classifier refusing before sending what (a) lets through or what would switch it off, and (c)
on PostgreSQL, a check after every statement that the server still reports the session
read-only. Each row names an attack and what must happen to each of its statements: ``ok``,
or a piece of the one-line ReadOnlyViolation that refuses it. After every row nothing has
changed: table rows, large objects, the server's configuration, other sessions, files on disk,
and the session is still read-only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from aishell.engine import commands
from aishell.engine.config import Settings
from aishell.engine.drivers.postgres import PostgresDriver
from aishell.engine.drivers.sqlite import SQLiteDriver
from aishell.engine.errors import ReadOnlyViolation
from aishell.engine.session import Session

AISHELL = [sys.executable, "-m", "aishell.tui.cli"]
COPY_FILE = Path(__file__).with_name("read_only_copy.csv")
"""The rows a ``\\copy … FROM`` attack would load (two valid rows)."""
COPY_OUT = f"/tmp/aishell-ro-out-{uuid.uuid4().hex[:8]}"
"""Where a read-only ``\\copy … TO`` writes (on this side: a client file)."""
MARK = f"/tmp/aishell-ro-{uuid.uuid4().hex[:8]}"
"""Files an attack would create on the server's machine (the cluster runs as another OS user,
which can write to /tmp)."""

# -- PostgreSQL ---------------------------------------------------------------------------------

PG_ATTACKS = [
    # one -c with several statements
    ("begin read write script", [("BEGIN READ WRITE; INSERT INTO t VALUES (2); COMMIT", "BEGIN READ WRITE")]),
    ("start transaction read write", [("START TRANSACTION READ WRITE; INSERT INTO t VALUES (2); COMMIT", "START TRANSACTION READ WRITE")]),
    ("set transaction read write", [("BEGIN; SET TRANSACTION READ WRITE; INSERT INTO t VALUES (2); COMMIT", "SET TRANSACTION READ WRITE")]),
    ("set local in a transaction", [("BEGIN; SET LOCAL transaction_read_only = off; INSERT INTO t VALUES (2); COMMIT", "transaction_read_only")]),
    # separate statements through one Session
    ("set default off", [("SET default_transaction_read_only = off", "default_transaction_read_only"), ("INSERT INTO t VALUES (2)", "read-only transaction")]),
    ("session characteristics", [("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "READ WRITE"), ("INSERT INTO t VALUES (2)", "read-only transaction")]),
    ("set_config in select", [("SELECT set_config('default_transaction_read_only', 'off', false)", "set_config"), ("INSERT INTO t VALUES (2)", "read-only transaction")]),
    ("set_config through the schema", [("SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false)", "set_config")]),
    ("set_config in a where clause", [("SELECT a FROM t WHERE set_config('transaction_read_only', 'off', true) IS NOT NULL", "set_config")]),
    ("comment, case and spacing", [("/* x */ set  DEFAULT_TRANSACTION_READ_ONLY=off", "default_transaction_read_only")]),
    ("quoted setting", [('SET "default_transaction_read_only" = off', "default_transaction_read_only")]),
    ("reset the setting", [("RESET default_transaction_read_only", "RESET default_transaction_read_only")]),
    ("reset all", [("RESET ALL", "RESET ALL")]),
    ("set role", [("SET ROLE aishell", "SET ROLE")]),
    # side effects a read-only transaction does not stop
    ("copy to program", [(f"COPY t TO PROGRAM 'touch {MARK}-program'", "COPY … TO PROGRAM runs a shell command on the server")]),
    ("copy from program", [(f"COPY t FROM PROGRAM 'touch {MARK}-from'", "FROM PROGRAM")]),
    ("copy to a server file", [(f"COPY t TO '{MARK}-file'", "writes a file on the server")]),
    ("copy from stdin", [("COPY t FROM STDIN", "COPY … FROM writes rows")]),
    ("\\copy from a client file", [("\\copy t FROM '{copy_file}'", "COPY … FROM writes rows"), ("\\copy t FROM '{copy_file}' csv", "COPY … FROM writes rows")]),
    ("alter system", [("ALTER SYSTEM SET work_mem = '7MB'", "ALTER SYSTEM")]),
    ("lo_create", [("SELECT lo_create(0)", "lo_create()")]),
    ("lo_import", [("SELECT lo_import('/etc/hostname')", "lo_import()")]),
    ("lo_from_bytea", [("SELECT lo_from_bytea(0, 'x')", "lo_from_bytea()")]),
    ("terminate a backend", [("SELECT pg_terminate_backend({victim})", "pg_terminate_backend()")]),
    ("cancel a backend", [("SELECT pg_cancel_backend({victim})", "pg_cancel_backend()")]),
    ("reload the configuration", [("SELECT pg_reload_conf()", "pg_reload_conf()")]),
    ("rotate the log", [("SELECT pg_rotate_logfile()", "pg_rotate_logfile()")]),
    ("dblink", [("SELECT dblink_exec('dbname=postgres', 'CREATE TABLE x (a int)')", "dblink_exec()")]),
    ("explain analyze runs it", [("EXPLAIN ANALYZE SELECT lo_create(0)", "lo_create()")]),
    ("do block", [("DO $$ BEGIN PERFORM set_config('default_transaction_read_only', 'off', false); END $$", "DO runs")]),
    ("call", [("CALL nothing()", "CALL runs")]),
    ("prepare an escape", [("PREPARE lift_it AS SELECT set_config('default_transaction_read_only', 'off', false)", "set_config")]),
    ("vacuum", [("VACUUM t", "VACUUM")]),
    ("analyze", [("ANALYZE t", "ANALYZE")]),
    ("notify", [("NOTIFY jobs", "NOTIFY")]),
    ("not understood", [("SELEC 1", "not understood")]),
    # what the server's read-only session refuses itself
    ("insert", [("INSERT INTO t VALUES (2)", "read-only transaction")]),
    ("writable cte", [("WITH x AS (INSERT INTO t VALUES (2) RETURNING a) SELECT * FROM x", "read-only transaction")]),
    ("create temp table", [("CREATE TEMP TABLE scratch (a int)", "read-only transaction")]),
    ("prepare and execute a write", [("PREPARE w AS INSERT INTO t VALUES (2)", "ok"), ("EXECUTE w", "read-only transaction")]),
    ("select for update", [("SELECT a FROM t FOR UPDATE", "read-only transaction")]),
    ("alter role set", [("ALTER ROLE aishell SET default_transaction_read_only = off", "read-only transaction")]),
    # a function the classifier cannot see into: the check after the statement (layer c)
    ("a function that lifts it", [("SELECT lift()", "stopped being read-only"), ("INSERT INTO t VALUES (2)", "read-only transaction")]),
    ("the same function in a script", [("SELECT 1; SELECT lift(); SELECT 2", "stopped being read-only")]),
]

PG_ALLOWED = [
    ("\\copy to a client file", [("\\copy (SELECT a FROM t) TO '{copy_out}' csv header", "ok"), ("\\copy t TO '{copy_out}'", "ok")]),
    ("select", [("SELECT count(*) FROM t", "ok")]),
    ("explain", [("EXPLAIN SELECT * FROM t", "ok")]),
    ("explain analyze", [("EXPLAIN ANALYZE SELECT * FROM t", "ok")]),
    ("show", [("SHOW search_path", "ok")]),
    ("set search_path", [("SET search_path TO public", "ok"), ("SELECT count(*) FROM t", "ok")]),
    ("set statement_timeout", [("SET statement_timeout = 5000", "ok")]),
    ("set_config of another setting", [("SELECT set_config('application_name', 'ro-test', false)", "ok")]),
    ("transaction", [("BEGIN; SELECT 1; COMMIT", "ok")]),
    ("begin read only", [("BEGIN READ ONLY", "ok"), ("SELECT count(*) FROM t", "ok"), ("COMMIT", "ok")]),
    ("start transaction read only", [("START TRANSACTION READ ONLY", "ok"), ("SELECT 1", "ok"), ("ROLLBACK", "ok")]),
]


@pytest.fixture(scope="module")
def pg_db(pg_cluster):
    """A database for this module: table t with one row, a function that lifts read-only."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    url = pg_cluster.create_database(f"ro_{uuid.uuid4().hex[:10]}")
    pg_cluster.psql(
        "CREATE TABLE t (a int); INSERT INTO t VALUES (1); "
        "CREATE FUNCTION lift() RETURNS text LANGUAGE sql "
        "AS $$ SELECT set_config('default_transaction_read_only', 'off', false) $$",
        database=url.rsplit("/", 1)[1],
    )
    return url


@pytest.fixture(scope="module")
async def admin(pg_db):
    """A superuser connection to look at the server from outside, and a victim session."""
    conn = await asyncpg.connect(pg_db)
    victim = await asyncpg.connect(pg_db)
    try:
        yield conn, victim
    finally:
        await victim.close()
        await conn.close()


async def pg_state(conn: asyncpg.Connection, victim: asyncpg.Connection) -> dict:
    """Everything an attack could change, in one round trip (and the victim still answers)."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM t) AS rows,"
        " (SELECT count(*) FROM pg_largeobject_metadata) AS large_objects,"
        " (SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf') AS auto_conf,"
        " pg_conf_load_time() AS conf_loaded,"
        " (SELECT count(*) FROM pg_db_role_setting) AS role_settings"
    )
    return {
        **dict(row),
        "victim alive": not victim.is_closed() and await victim.fetchval("SELECT 1") == 1,
        "files": sorted(p.name for p in Path("/tmp").glob(Path(MARK).name + "*")),
    }


def ro_settings() -> Settings:
    return Settings.load(
        read_file=False,
        overrides={"memory": {"enabled": False}, "cache": {"enabled": False}, "pool": {"min_size": 1, "max_size": 2}},
    )


async def run_steps(session: Session, steps: list[tuple[str, str]], victim_pid: int, *, stream: bool = False) -> None:
    for sql, expected in steps:
        sql = sql.replace("{victim}", str(victim_pid)).replace("{copy_file}", str(COPY_FILE)).replace("{copy_out}", f"{COPY_OUT}-{uuid.uuid4().hex[:6]}")
        try:
            if sql.startswith("\\"):  # psql's client-side commands (\copy) run through the command table
                await commands.run(commands.Context(session), sql)
            elif stream:
                async with session.stream(sql) as rows:
                    async for _ in rows:
                        pass
            else:
                await session.execute(sql)
        except ReadOnlyViolation as exc:
            message = exc.one_line()
            assert expected != "ok", f"{sql!r} was refused: {message}"
            assert expected in message, (sql, message)
            assert "\n" not in message
        else:
            assert expected == "ok", f"{sql!r} ran; expected a refusal naming {expected!r}"


@pytest.mark.parametrize("steps", [s for _, s in PG_ATTACKS + PG_ALLOWED], ids=[n for n, _ in PG_ATTACKS + PG_ALLOWED])
async def test_postgres_attacks_through_the_session(pg_db, admin, steps):
    conn, victim = admin
    before = await pg_state(conn, victim)
    session = await Session.open(pg_db, settings=ro_settings(), read_only=True)
    try:
        await run_steps(session, steps, victim.get_server_pid())
        # still read-only, whatever the row did: every later transaction starts read-only
        if session._pin is not None and session._pin.connection.in_transaction:
            await session.execute("ROLLBACK")
        assert (await session.execute("SHOW default_transaction_read_only")).rows == [("on",)]
        assert (await session.execute("SHOW transaction_read_only")).rows == [("on",)]
    finally:
        await session.close()
    assert await pg_state(conn, victim) == before


@pytest.mark.parametrize(
    "name", ["set default off", "set_config in select", "copy to program", "a function that lifts it", "select", "begin read only"]
)
async def test_postgres_attacks_through_a_stream(pg_db, admin, name):
    conn, victim = admin
    steps = dict(PG_ATTACKS + PG_ALLOWED)[name]
    before = await pg_state(conn, victim)
    async with await Session.open(pg_db, settings=ro_settings(), read_only=True) as session:
        await run_steps(session, steps, victim.get_server_pid(), stream=True)
    assert await pg_state(conn, victim) == before


SERVER_PANE_ATTACKS = [
    # the server pane's cancel and terminate (Session.server_monitor), refused before sending
    ("server pane cancels a backend", False, "read-only session: will not cancel backend"),
    ("server pane terminates a backend", True, "read-only session: will not terminate backend"),
]


@pytest.mark.parametrize("terminate, expected", [row[1:] for row in SERVER_PANE_ATTACKS], ids=[row[0] for row in SERVER_PANE_ATTACKS])
async def test_postgres_attacks_through_the_server_pane(pg_db, admin, terminate, expected):
    from aishell.engine.drivers.server import ServerActionRefused

    conn, victim = admin
    before = await pg_state(conn, victim)
    async with await Session.open(pg_db, settings=ro_settings(), read_only=True) as session:
        monitor = session.server_monitor()
        try:
            with pytest.raises(ServerActionRefused, match=expected):
                await monitor.signal(victim.get_server_pid(), terminate=terminate)
        finally:
            await monitor.close()
    assert await pg_state(conn, victim) == before


async def test_explain_analyze_through_the_session_is_checked_too(pg_db, admin):
    conn, victim = admin
    before = await pg_state(conn, victim)
    async with await Session.open(pg_db, settings=ro_settings(), read_only=True) as session:
        with pytest.raises(ReadOnlyViolation, match="lo_create"):
            await session.explain("SELECT lo_create(0)", analyze=True)
        assert (await session.explain("SELECT count(*) FROM t", analyze=True)).summary
    assert await pg_state(conn, victim) == before


async def test_the_attacks_are_real_without_read_only(pg_fresh_db):
    """The checks above can fail: the same statements change things in a writable session."""
    async with await Session.open(pg_fresh_db, settings=ro_settings()) as session:
        await session.execute("CREATE TABLE t (a int)")
        await session.execute("BEGIN READ WRITE; INSERT INTO t VALUES (2); COMMIT")
        # the program reads what COPY writes: one that does not (touch) may close the pipe first
        await session.execute(f"COPY t TO PROGRAM 'cat > {MARK}-control'")
        assert (await session.execute("SELECT count(*) FROM t")).rows == [(1,)]
        assert (await commands.run(commands.Context(session), f"\\copy t FROM '{COPY_FILE}'")).status == "COPY 2"
        assert (await session.execute("SELECT lo_create(0) > 0")).rows == [(True,)]
    assert Path(f"{MARK}-control").exists()
    os.unlink(f"{MARK}-control")


async def test_layer_a_the_server_refuses_writes_on_its_own(pg_db):
    """The driver alone, no classifier: the server's read-only session refuses the write."""
    conn = await PostgresDriver(pg_db, read_only=True).connect()
    try:
        with pytest.raises(ReadOnlyViolation, match="read-only transaction"):
            await conn.execute("INSERT INTO t VALUES (2)")
    finally:
        await conn.close()


async def test_layer_c_a_lifted_session_is_dropped(pg_db, admin):
    """The driver alone, no classifier: the statement lifts read-only, the server reports it,
    the connection is closed and the user told; nothing else changes."""
    conn, victim = admin
    before = await pg_state(conn, victim)
    ro = await PostgresDriver(pg_db, read_only=True).connect()
    pid = ro.raw.get_server_pid()
    with pytest.raises(ReadOnlyViolation, match="stopped being read-only"):
        await ro.execute("SET default_transaction_read_only = off")
    assert ro.closed
    assert not await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'idle'", pid)
    assert await pg_state(conn, victim) == before


async def test_layer_c_in_a_pooled_session_hands_out_a_fresh_read_only_connection(pg_db, admin):
    conn, victim = admin
    async with await Session.open(pg_db, settings=ro_settings(), read_only=True) as session:
        with pytest.raises(ReadOnlyViolation, match="stopped being read-only"):
            await session.execute("SELECT lift()")
        for _ in range(3):  # whichever pooled connection comes next is read-only
            assert (await session.execute("SHOW default_transaction_read_only")).rows == [("on",)]
        with pytest.raises(ReadOnlyViolation, match="read-only transaction"):
            await session.execute("INSERT INTO t VALUES (2)")
    assert await conn.fetchval("SELECT count(*) FROM t") == 1


# -- SQLite -------------------------------------------------------------------------------------

SQLITE_ATTACKS = [
    ("query_only then attach and write", [
        ("PRAGMA query_only = 0", "PRAGMA query_only"),
        ("ATTACH DATABASE '{dir}/new.db' AS n", "ATTACH"),
        ("CREATE TABLE n.x (a)", "?"),
        ("INSERT INTO t VALUES (2)", "read-only"),
    ]),
    ("attach a new file", [("ATTACH DATABASE '{dir}/new.db' AS n", "ATTACH")]),
    ("attach by uri", [("ATTACH DATABASE 'file:{dir}/new.db?mode=rwc' AS n", "ATTACH")]),
    ("vacuum into", [("VACUUM INTO '{dir}/copy.db'", "VACUUM INTO")]),
    ("vacuum", [("VACUUM", "VACUUM")]),
    ("writable schema", [("PRAGMA writable_schema = 1", "PRAGMA writable_schema")]),
    ("journal mode", [("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode")]),
    ("user version", [("PRAGMA user_version = 7", "PRAGMA user_version")]),
    ("insert", [("INSERT INTO t VALUES (2)", "read-only")]),
    ("create temp table", [("CREATE TEMP TABLE scratch (a)", "CREATE TEMP TABLE")]),
    ("\\copy from a client file", [("\\copy t FROM '{copy_file}' WITH (FORMAT csv)", "COPY … FROM writes rows")]),
    ("script", [("SELECT 1; ATTACH '{dir}/new.db' AS n; CREATE TABLE n.x (a)", "ATTACH")]),
]
SQLITE_ALLOWED = [
    ("select", [("SELECT count(*) FROM t", "ok")]),
    ("table info", [("PRAGMA table_info(t)", "ok"), ("SELECT * FROM pragma_table_info('t')", "ok")]),
    ("read a pragma", [("PRAGMA query_only", "ok"), ("PRAGMA journal_mode", "ok")]),
    ("explain", [("EXPLAIN QUERY PLAN SELECT * FROM t", "ok")]),
    ("transaction", [("BEGIN; SELECT 1; COMMIT", "ok")]),
]


@pytest.fixture
def sqlite_db(tmp_path):
    import sqlite3

    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE t (a)")
        raw.execute("INSERT INTO t VALUES (1)")
    raw.close()
    return path


def sqlite_state(path: Path) -> tuple:
    import sqlite3

    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = raw.execute("SELECT count(*) FROM t").fetchone()[0]
        pragmas = raw.execute("SELECT * FROM pragma_user_version, pragma_journal_mode").fetchone()
    finally:
        raw.close()
    return rows, pragmas, sorted(p.name for p in path.parent.iterdir()), path.read_bytes()


@pytest.mark.parametrize("steps", [s for _, s in SQLITE_ATTACKS + SQLITE_ALLOWED], ids=[n for n, _ in SQLITE_ATTACKS + SQLITE_ALLOWED])
async def test_sqlite_attacks_through_the_session(sqlite_db, steps):
    before = sqlite_state(sqlite_db)
    steps = [(sql.replace("{dir}", str(sqlite_db.parent)), expected) for sql, expected in steps]
    async with await Session.open(str(sqlite_db), settings=ro_settings(), read_only=True) as session:
        for sql, expected in steps:
            if expected == "?":  # refused one way or another (no such database n)
                with pytest.raises(Exception):
                    await session.execute(sql)
                continue
            await run_steps(session, [(sql, expected)], 0)
        assert (await session.execute("PRAGMA query_only")).rows == [(1,)]
    assert sqlite_state(sqlite_db) == before


async def test_sqlite_read_only_session_with_cache_and_catalog_still_works(sqlite_db):
    """The authorizer lets through what the workbench itself runs: schema polling, the catalog."""
    before = sqlite_state(sqlite_db)
    settings = Settings.load(read_file=False, overrides={"memory": {"enabled": False}})
    async with await Session.open(str(sqlite_db), settings=settings, read_only=True) as session:
        info = await session.schema()
        assert [c.name for c in info.find("t").columns] == ["a"]
        assert (await session.execute("SELECT count(*) FROM t")).rows == [(1,)]
        assert (await session.execute("SELECT count(*) FROM t")).cached
    assert sqlite_state(sqlite_db) == before


@pytest.mark.parametrize(
    "sql, denied",
    [
        ("ATTACH DATABASE '{dir}/new.db' AS n", "ATTACH"),
        ("VACUUM INTO '{dir}/copy.db'", "ATTACH"),
        ("PRAGMA query_only = 0", "PRAGMA query_only"),
        ("PRAGMA writable_schema = ON", "PRAGMA writable_schema"),
        ("CREATE TEMP TABLE scratch (a)", "CREATE TEMP TABLE"),
        ("CREATE TABLE x (a)", "CREATE TABLE"),
    ],
)
async def test_layer_a_the_sqlite_authorizer_on_its_own(sqlite_db, sql, denied):
    """The driver alone, no classifier: SQLite's authorizer refuses, and no file appears."""
    before = sqlite_state(sqlite_db)
    conn = await SQLiteDriver(str(sqlite_db), read_only=True).connect()
    try:
        with pytest.raises(ReadOnlyViolation, match=f"SQLite refused {denied}"):
            await conn.execute(sql.replace("{dir}", str(sqlite_db.parent)))
        assert (await conn.execute("PRAGMA query_only")).rows == [(1,)]
        assert (await conn.execute("SELECT count(*) FROM t")).rows == [(1,)]
        assert (await conn.execute("PRAGMA table_info(t)")).rowcount == 1
    finally:
        await conn.close()
    assert sqlite_state(sqlite_db) == before


# -- the command line ---------------------------------------------------------------------------


CLI_ROWS = [
    ("pg", f"COPY t TO PROGRAM 'touch {MARK}-cli'", "read-only: COPY … TO PROGRAM runs a shell command on the server"),
    ("pg", "SELECT lift()", "read-only: the session stopped being read-only"),
    ("pg", "SELECT count(*) FROM t", None),
    ("sqlite", "VACUUM INTO '{dir}/copy.db'", "read-only: VACUUM INTO writes a new database file"),
]


def test_cli_refuses_with_one_line_and_exit_2(pg_db, sqlite_db):
    """``aishell run URL --read-only -c ...`` as a user runs it (all rows at once: a few seconds)."""
    env = dict(os.environ, AISHELL_MEMORY__ENABLED="false")
    folder = sqlite_db.parent
    before = sqlite_state(sqlite_db)
    runs = [
        subprocess.Popen(
            [*AISHELL, "run", pg_db if where == "pg" else str(sqlite_db), "--read-only", "-c", sql.replace("{dir}", str(folder))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for where, sql, _ in CLI_ROWS
    ]
    for (where, sql, reason), run in zip(CLI_ROWS, runs):
        out, err = run.communicate(timeout=60)
        if reason is None:
            assert run.returncode == 0 and "(1 row)" in out, (sql, err)
            continue
        assert run.returncode == 2, (sql, run.returncode, err)
        assert err.startswith(f"aishell: {reason}") and err.count("\n") == 1, (sql, err)
    assert not Path(f"{MARK}-cli").exists()
    assert sqlite_state(sqlite_db) == before  # no copy.db, no new.db


# -- MongoDB ------------------------------------------------------------------------------------
# MongoDB has no read-only session: the statement classifier is the only layer (a user with the
# read role is the server-side guarantee). Runs against the session's FerretDB (tests/conftest.py)
# or AISHELL_TEST_MONGO_URL. FerretDB 1.24 has no $out/$merge: those rows show the refusal happens
# before anything is sent (the server would answer NotImplemented, not a read-only refusal).

MONGO_ATTACKS = [
    ("insertOne", [("db.t.insertOne({_id: 2})", "insertOne() would change data")]),
    ("insertMany", [("db.t.insertMany([{_id: 2}, {_id: 3}])", "insertMany()")]),
    ("legacy insert", [("db.t.insert({_id: 2})", "would change data")]),
    ("updateOne", [("db.t.updateOne({_id: 1}, {$set: {a: 9}})", "updateOne()")]),
    ("updateMany upsert", [("db.t.updateMany({_id: 5}, {$set: {a: 9}}, {upsert: true})", "updateMany()")]),
    ("replaceOne", [("db.t.replaceOne({_id: 1}, {a: 9})", "replaceOne()")]),
    ("deleteMany", [("db.t.deleteMany({})", "deleteMany()")]),
    ("legacy remove", [("db.t.remove({})", "would change data")]),
    ("findOneAndDelete", [("db.t.findOneAndDelete({_id: 1})", "findOneAndDelete()")]),
    ("findOneAndUpdate", [("db.t.findOneAndUpdate({_id: 1}, {$inc: {a: 1}})", "findOneAndUpdate()")]),
    ("createIndex", [("db.t.createIndex({b: 1})", "createIndex()")]),
    ("dropIndex", [("db.t.dropIndex('a_1')", "dropIndex()")]),
    ("drop", [("db.t.drop()", "drop()")]),
    ("dropDatabase", [("db.dropDatabase()", "dropDatabase()")]),
    ("createCollection", [("db.createCollection('fresh')", "createCollection()")]),
    ("aggregate $out", [("db.t.aggregate([{$match: {}}, {$out: 'copy'}])", "aggregate()")]),
    ("aggregate $merge", [("db.t.aggregate([{$merge: {into: 'copy'}}])", "aggregate()")]),
    ("another database", [("db.getSiblingDB('ro_other').x.insertOne({a: 1})", "insertOne()")]),
    ("getCollection", [("db.getCollection('t').deleteMany({})", "deleteMany()")]),
    ("read then write in a script", [("db.t.find({}); db.t.deleteMany({})", "deleteMany()")]),
    ("use then write", [("use ro_other\ndb.x.insertOne({a: 1})", "insertOne()")]),
    ("runCommand insert", [("db.runCommand({insert: 't', documents: [{_id: 3}]})", "runCommand()")]),
    ("runCommand delete", [("db.runCommand({delete: 't', deletes: [{q: {}, limit: 0}]})", "runCommand()")]),
    ("runCommand findAndModify", [("db.runCommand({findAndModify: 't', query: {}, remove: true})", "runCommand()")]),
    ("runCommand drop", [("db.runCommand({drop: 't'})", "runCommand()")]),
    ("runCommand createIndexes", [("db.runCommand({createIndexes: 't', indexes: [{key: {b: 1}, name: 'b_1'}]})", "runCommand()")]),
    ("runCommand killOp", [("db.runCommand({killOp: 1, op: 1})", "runCommand()")]),
    ("runCommand empty", [("db.runCommand({})", "runCommand()")]),
    # a read command carrying a write: these ran
    ("runCommand aggregate $out", [("db.runCommand({aggregate: 't', pipeline: [{$out: 'copy'}], cursor: {}})", "runCommand()")]),
    ("runCommand aggregate $merge", [("db.runCommand({aggregate: 't', pipeline: [{$merge: {into: 'copy'}}], cursor: {}})", "runCommand()")]),
    ("runCommand explain of $out", [("db.runCommand({explain: {aggregate: 't', pipeline: [{$out: 'copy'}], cursor: {}}, verbosity: 'executionStats'})", "runCommand()")]),
    ("runCommand validate repair", [("db.runCommand({validate: 't', repair: true})", "runCommand()")]),
]

MONGO_ALLOWED = [
    ("find", [("db.t.find({a: {$gte: 1}}).sort({a: 1})", "ok")]),
    ("aggregate", [("db.t.aggregate([{$group: {_id: null, n: {$sum: 1}}}])", "ok")]),
    ("count and distinct", [("db.t.countDocuments({})", "ok"), ("db.t.distinct('a')", "ok")]),
    ("indexes and collections", [("db.t.getIndexes()", "ok"), ("show collections", "ok"), ("db.getCollectionNames()", "ok")]),
    ("explain of a delete plans it", [("db.t.deleteMany({}).explain('executionStats')", "ok")]),
    ("runCommand reads", [("db.runCommand({find: 't', filter: {}})", "ok"), ("db.runCommand({count: 't'})", "ok"), ("db.runCommand({aggregate: 't', pipeline: [], cursor: {}})", "ok")]),
    ("runCommand explain of a delete", [("db.runCommand({explain: {delete: 't', deletes: [{q: {}, limit: 0}]}, verbosity: 'executionStats'})", "ok")]),
    ("use another database and read", [("use ro_other", "ok"), ("db.x.find({})", "ok")]),
]


@pytest.fixture(scope="module")
def mongo_ro(mongo_server):
    """(url, database): collection t with one document and an index on a, for this module."""
    import pymongo

    url = os.environ.get("AISHELL_TEST_MONGO_URL") or mongo_server.url
    name = f"ro_{uuid.uuid4().hex[:10]}"
    with pymongo.MongoClient(url, serverSelectionTimeoutMS=5000) as client:
        client[name].t.insert_one({"_id": 1, "a": 1})
        client[name].t.create_index("a")
        try:
            yield url, name
        finally:
            client.drop_database(name)


def mongo_state(url: str, name: str) -> tuple:
    """Databases, collections, t's documents and indexes: everything a row could change."""
    import pymongo

    with pymongo.MongoClient(url, serverSelectionTimeoutMS=5000) as client:
        db = client[name]
        return (
            sorted(n for n in client.list_database_names() if n.startswith("ro_")),
            sorted(db.list_collection_names()),
            list(db.t.find({}).sort("_id", 1)),
            sorted(i["name"] for i in db.t.list_indexes()),
        )


@pytest.mark.mongo
@pytest.mark.parametrize("steps", [s for _, s in MONGO_ATTACKS + MONGO_ALLOWED], ids=[n for n, _ in MONGO_ATTACKS + MONGO_ALLOWED])
async def test_mongo_attacks_through_the_session(mongo_ro, steps):
    url, name = mongo_ro
    before = mongo_state(url, name)
    async with await Session.open(url, settings=ro_settings(), read_only=True) as session:
        await session.execute(f"use {name}")
        await run_steps(session, steps, 0)
    assert mongo_state(url, name) == before


@pytest.mark.mongo
@pytest.mark.parametrize("name", ["deleteMany", "runCommand aggregate $out", "read then write in a script", "find"])
async def test_mongo_attacks_through_a_stream(mongo_ro, name):
    url, database = mongo_ro
    before = mongo_state(url, database)
    async with await Session.open(url, settings=ro_settings(), read_only=True) as session:
        await session.execute(f"use {database}")
        await run_steps(session, dict(MONGO_ATTACKS + MONGO_ALLOWED)[name], 0, stream=True)
    assert mongo_state(url, database) == before


@pytest.mark.mongo
async def test_the_mongo_attacks_are_real_without_read_only(mongo_ro):
    """The rows above can fail: the same statements change things in a writable session."""
    url, name = mongo_ro
    scratch = f"{name}_w"
    async with await Session.open(url, settings=ro_settings()) as session:
        await session.execute(f"use {scratch}")
        try:
            await session.execute("db.t.insertOne({_id: 2}); db.runCommand({insert: 't', documents: [{_id: 3}]})")
            await session.execute("db.runCommand({validate: 't', repair: true})")  # runs; nothing to repair
            assert (await session.execute("db.t.countDocuments({})")).rows == [(2,)]
            await session.execute("db.t.createIndex({b: 1})")
            assert len((await session.execute("db.t.getIndexes()")).rows) == 2
        finally:
            await session.execute("db.dropDatabase()")
