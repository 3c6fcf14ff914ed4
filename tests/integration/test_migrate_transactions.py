"""Transaction control inside a migration, against the real cluster and real SQLite files.

A migration runs in one transaction with its state row. A ``COMMIT`` (or any other transaction
control) inside it would end that transaction early: its first half would stay applied while the
message says nothing was. Such a migration is refused before anything runs, with the file and the
line; a header line ``-- aishell: no-transaction`` runs the statements one by one instead and a
failure says which of them were applied.
"""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from aishell.engine.migrate import STATE_TABLE, MigrationError, MigrationFailed, Migrator
from aishell.tui.cli import main as cli

pytestmark = pytest.mark.pg

# (row id, dialects, the up section). Line 1 of the section is line 2 of the file ("-- up" first).
# The transaction control is always on the section's line 3 (file line 4).
REFUSED = [
    ("commit", "both", "CREATE TABLE a (x integer);\nINSERT INTO a VALUES (1);\nCOMMIT;\nCREATE TABLE b (x integer);"),
    ("commit-lower-after-comment", "both", "CREATE TABLE a (x integer);\n-- now\n/* done */ commit ;\nCREATE TABLE b (x integer);"),
    ("begin", "both", "CREATE TABLE a (x integer);\n\nBEGIN;\nCREATE TABLE b (x integer);"),
    ("begin-transaction", "both", "CREATE TABLE a (x integer);\n\nBEGIN TRANSACTION;\nCREATE TABLE b (x integer);"),
    ("rollback", "both", "CREATE TABLE a (x integer);\nINSERT INTO a VALUES (1);\nROLLBACK;\nCREATE TABLE b (x integer);"),
    ("end", "both", "CREATE TABLE a (x integer);\n\nEND;\nCREATE TABLE b (x integer);"),
    ("end-transaction", "both", "CREATE TABLE a (x integer);\n\nEND TRANSACTION;\nCREATE TABLE b (x integer);"),
    ("savepoint", "both", "CREATE TABLE a (x integer);\n\nSAVEPOINT s1;\nCREATE TABLE b (x integer);"),
    ("release", "both", "CREATE TABLE a (x integer);\n\nRELEASE SAVEPOINT s1;\nCREATE TABLE b (x integer);"),
    ("release-short", "both", "CREATE TABLE a (x integer);\n\nRELEASE s1;\nCREATE TABLE b (x integer);"),
    ("rollback-to", "both", "CREATE TABLE a (x integer);\n\nROLLBACK TO SAVEPOINT s1;\nCREATE TABLE b (x integer);"),
    ("begin-immediate", "sqlite", "CREATE TABLE a (x integer);\n\nBEGIN IMMEDIATE;\nCREATE TABLE b (x integer);"),
    ("start-transaction", "postgres", "CREATE TABLE a (x integer);\n\nSTART TRANSACTION;\nCREATE TABLE b (x integer);"),
    ("abort", "postgres", "CREATE TABLE a (x integer);\n\nABORT;\nCREATE TABLE b (x integer);"),
    ("commit-and-chain", "postgres", "CREATE TABLE a (x integer);\n\nCOMMIT AND CHAIN;\nCREATE TABLE b (x integer);"),
    ("prepare-transaction", "postgres", "CREATE TABLE a (x integer);\n\nPREPARE TRANSACTION 'm1';\nCREATE TABLE b (x integer);"),
    ("commit-prepared", "postgres", "CREATE TABLE a (x integer);\n\nCOMMIT PREPARED 'm1';\nCREATE TABLE b (x integer);"),
]

# Text that mentions transaction control without being it: these migrations apply.
ALLOWED = [
    ("in-string", "both", "CREATE TABLE a (x text);\nINSERT INTO a VALUES ('COMMIT;');\nINSERT INTO a VALUES ('BEGIN; ROLLBACK;');"),
    ("in-comment", "both", "CREATE TABLE a (x text);\n-- COMMIT;\n/* BEGIN; */ INSERT INTO a VALUES ('x');"),
    ("column-named-end", "both", 'CREATE TABLE a ("end" integer, "begin" integer);\nINSERT INTO a ("end", "begin") VALUES (1, 2);'),
    ("sqlite-trigger", "sqlite",
     "CREATE TABLE a (x integer);\nCREATE TABLE log (x integer);\n"
     "CREATE TRIGGER a_log AFTER INSERT ON a BEGIN INSERT INTO log VALUES (new.x); END;\nINSERT INTO a VALUES (1);"),
    ("pg-do-block", "postgres",
     "CREATE TABLE a (x integer);\nDO $$ BEGIN INSERT INTO a VALUES (1); END $$;\n"
     "CREATE FUNCTION f() RETURNS integer LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;"),
    ("pg-begin-atomic", "postgres",
     "CREATE TABLE a (x integer);\nCREATE FUNCTION g() RETURNS integer LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND;"),
]


def _rows(table, dialect):
    return [pytest.param(row[2], id=row[0]) for row in table if row[1] in ("both", dialect)]


@pytest.fixture(scope="module")
def pg_db(pg_cluster) -> str:
    """One database for every refusal row: a refusal must leave it without any table."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    return pg_cluster.create_database(f"mt_{uuid.uuid4().hex[:10]}")


def _sqlite_db(tmp_path) -> str:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as created:  # a database, not a 0-byte file (that needs --create)
        created.execute("PRAGMA user_version = 1")
    return f"sqlite:///{path}"


async def _tables(m: Migrator) -> set[str]:
    if m.conn.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return {r[0] for r in (await m.conn.execute(sql)).rows}


async def _refused(url: str, tmp_path, up: str) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_ok.sql").write_text("-- up\nSELECT 1;\n")
    (d / "0002_bad.sql").write_text(f"-- up\n{up}\n")
    async with await Migrator.open(url, d) as m:
        before = await _tables(m)
        with pytest.raises(MigrationError) as info:
            await m.up()
        assert not isinstance(info.value, MigrationFailed), "refused before running, not failed midway"
        message = str(info.value)
        assert "0002_bad.sql, line 4" in message and "\n" not in message, message
        assert "no-transaction" in message, "the message names the way out"
        assert await _tables(m) == before, "nothing ran: not even 0001 or the state table"
        assert [s.state for s in await m.status()] == ["pending", "pending"]


@pytest.mark.parametrize("up", _rows(REFUSED, "sqlite"))
async def test_sqlite_transaction_control_is_refused_up_front(tmp_path, up):
    await _refused(_sqlite_db(tmp_path), tmp_path, up)


@pytest.mark.parametrize("up", _rows(REFUSED, "postgres"))
async def test_postgres_transaction_control_is_refused_up_front(pg_db, tmp_path, up):
    await _refused(pg_db, tmp_path, up)


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
async def test_mentions_of_transaction_words_are_not_refused(dialect, tmp_path, request):
    for name, dialects, up in ALLOWED:
        if dialects not in ("both", dialect):
            continue
        (tmp_path / name).mkdir()
        url = _sqlite_db(tmp_path / name) if dialect == "sqlite" else request.getfixturevalue("pg_cluster").create_database(
            f"ma_{uuid.uuid4().hex[:10]}"
        )
        d = tmp_path / name / "m"
        d.mkdir()
        (d / "0001_ok.sql").write_text(f"-- up\n{up}\n")
        async with await Migrator.open(url, d) as m:
            assert [x.label for x in await m.up()] == ["0001_ok"], name
            assert "a" in await _tables(m)


def test_down_section_with_transaction_control_is_refused(tmp_path):
    url = _sqlite_db(tmp_path)
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_t.sql").write_text("-- up\nCREATE TABLE t (x integer);\n-- down\nDELETE FROM t;\nCOMMIT;\nDROP TABLE t;\n")
    assert cli(["migrate", "up", "--db", url, "--dir", str(d)]) == 0
    assert cli(["migrate", "down", "--db", url, "--dir", str(d)]) == 2
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 't'").fetchone() == (1,)


def test_cli_refusal_is_one_line_naming_file_and_line(tmp_path, capsys):
    url = _sqlite_db(tmp_path)
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_half.sql").write_text("-- the classic\n-- up\nCREATE TABLE a (x integer);\nCOMMIT;\nCREATE TABLE b (x integer);\n")
    assert cli(["migrate", "up", "--db", url, "--dir", str(d)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("aishell: ") and "Traceback" not in err
    assert "0001_half.sql, line 4" in err and "COMMIT" in err
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


# -- the explicit non-transactional mode ---------------------------------------------------------

NO_TRANSACTION = (
    "-- aishell: no-transaction\n"
    "-- up\n"
    "CREATE TABLE a (x integer);\n"           # statement 1, line 3
    "INSERT INTO a VALUES (1);\n"             # statement 2, line 4
    "INSERT INTO no_such_table VALUES (1);\n"  # statement 3, line 5: fails
    "CREATE TABLE c (x integer);\n"           # statement 4: never runs
)


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
async def test_no_transaction_failure_reports_what_was_applied(dialect, tmp_path, request):
    url = _sqlite_db(tmp_path) if dialect == "sqlite" else request.getfixturevalue("pg_fresh_db")
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_seed.sql").write_text(NO_TRANSACTION)
    async with await Migrator.open(url, d) as m:
        with pytest.raises(MigrationFailed) as info:
            await m.up()
        message = str(info.value)
        assert "0001_seed.sql, line 5" in message and "no_such_table" in message
        assert "statement 3 of 4" in message and "statements 1-2 (lines 3-4) were applied" in message, message
        assert "rolled back" not in message
        assert await _tables(m) == {"a", STATE_TABLE}, "statements 1 and 2 ran, 4 did not"
        assert (await m.conn.execute("SELECT x FROM a")).rows == [(1,)]
        assert [s.state for s in await m.status()] == ["pending"], "not recorded as applied"


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
async def test_no_transaction_mode_runs_statements_one_by_one(dialect, tmp_path, request):
    """Its own transaction control is the author's business; CREATE INDEX CONCURRENTLY works."""
    url = _sqlite_db(tmp_path) if dialect == "sqlite" else request.getfixturevalue("pg_fresh_db")
    concurrently = "CONCURRENTLY " if dialect == "postgres" else ""
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_batches.sql").write_text(
        "-- aishell:no-transaction\n-- up\n"
        "CREATE TABLE a (x integer);\n"
        "BEGIN;\nINSERT INTO a VALUES (1);\nCOMMIT;\n"
        "BEGIN;\nINSERT INTO a VALUES (2);\nROLLBACK;\n"
        f"CREATE INDEX {concurrently}a_x ON a (x);\n"
        f"-- down\nDROP INDEX {concurrently}a_x;\nDROP TABLE a;\n"
    )
    async with await Migrator.open(url, d) as m:
        assert [x.label for x in await m.up()] == ["0001_batches"]
        assert (await m.conn.execute("SELECT x FROM a")).rows == [(1,)]
        assert [s.state for s in await m.status()] == ["applied"]
        assert not m.conn.in_transaction
        assert [x.label for x in await m.down()] == ["0001_batches"]
        assert await _tables(m) == {STATE_TABLE}


def test_no_transaction_failure_in_the_cli_is_one_line(tmp_path, capsys):
    url = _sqlite_db(tmp_path)
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_seed.sql").write_text(NO_TRANSACTION)
    assert cli(["migrate", "up", "--db", url, "--dir", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "statements 1-2 (lines 3-4) were applied" in err
