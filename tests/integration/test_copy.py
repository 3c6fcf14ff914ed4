"""\\copy on the real cluster and real SQLite files: round trips of awkward values (quotes, NULLs,
empty strings, newlines, delimiters, backslashes) in CSV and text, psql's two syntaxes, a
malformed line named and nothing half-imported, files complete or absent, and psql's own
\\copy reading what we wrote (and the other way round)."""

from __future__ import annotations

import asyncio
import subprocess
import uuid

import asyncpg
import pytest

from aishell.engine import commands
from aishell.engine.config import Settings
from aishell.engine.errors import QueryCancelled, QueryError
from aishell.engine.session import Session

ROWS = [
    (1, 'say "hi", ok', "plain"),
    (2, None, ""),
    (3, "two\nlines\r\nand a tab\t", "back\\slash"),
    (4, "", None),
    (5, "ø ✓ 'single'", "NULL"),
    (6, " padded ", "\\N"),
]

FORMATS = [  # (name, the options as typed, psql's own \copy options for the same file)
    ("csv with header", "WITH (FORMAT csv, HEADER)", "csv header"),
    ("csv, old syntax", "csv header", "csv header"),
    ("csv semicolons", "WITH (FORMAT csv, DELIMITER ';', HEADER true)", "csv header delimiter ';'"),
    ("text", "", ""),
    ("text with a null marker", "WITH (NULL 'nil')", "null 'nil'"),
]


def settings() -> Settings:
    return Settings.load(read_file=False, overrides={"memory": {"enabled": False}, "cache": {"enabled": False}})


@pytest.fixture(scope="module")
async def pg_db(pg_cluster) -> str:
    """One database for the module: ``src`` holds ROWS; each test empties ``dst``."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    url = pg_cluster.create_database(f"copy_{uuid.uuid4().hex[:10]}")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE src (id int PRIMARY KEY, a text, b text); CREATE TABLE dst (LIKE src INCLUDING ALL)")
        await conn.executemany("INSERT INTO src VALUES ($1, $2, $3)", ROWS)
    finally:
        await conn.close()
    return url


async def pg_open(url: str) -> Session:
    session = await Session.open(url, settings=settings())
    await session.execute("TRUNCATE dst")
    return session


async def sqlite_open(path) -> Session:
    import sqlite3

    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE src (id integer PRIMARY KEY, a text, b text)")
        raw.execute("CREATE TABLE dst (id integer PRIMARY KEY, a text, b text)")
        raw.executemany("INSERT INTO src VALUES (?, ?, ?)", ROWS)
    raw.close()
    return await Session.open(str(path), settings=settings())


@pytest.fixture
async def pg_session(pg_db):
    async with await pg_open(pg_db) as session:
        yield session


@pytest.fixture
async def sqlite_session(tmp_path):
    async with await sqlite_open(tmp_path / "copy.db") as session:
        yield session


@pytest.fixture(params=["postgres", "sqlite"])
def target(request, tmp_path) -> str:
    """Each test once on the cluster and once on a SQLite file, the same tables and rows."""
    return request.getfixturevalue("pg_db") if request.param == "postgres" else str(tmp_path / "copy.db")


@pytest.fixture
async def session(target):
    opened = await (pg_open(target) if target.startswith("postgresql") else sqlite_open(target))
    async with opened:
        yield opened


async def run(session: Session, line: str) -> commands.Outcome:
    return await commands.run(commands.Context(session), line)


async def table(session: Session, name: str) -> list[tuple]:
    return (await session.execute(f"SELECT id, a, b FROM {name} ORDER BY id")).rows


@pytest.mark.parametrize("options", [f[1] for f in FORMATS], ids=[f[0] for f in FORMATS])
async def test_round_trip(session, options, tmp_path):
    path = tmp_path / "rows.out"
    assert (await run(session, f"\\copy src TO '{path}' {options}")).status == f"COPY {len(ROWS)}"
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (await run(session, f"\\copy dst FROM '{path}' {options}")).status == f"COPY {len(ROWS)}"
    assert await table(session, "dst") == ROWS


async def test_query_and_columns(session, tmp_path):
    path = tmp_path / "q.csv"
    out = await run(session, f"\\copy (SELECT id, b FROM src WHERE id > 4 ORDER BY id) TO '{path}' WITH (FORMAT csv)")
    assert out.status == "COPY 2"
    assert path.read_text() == '5,NULL\n6,\\N\n'
    assert (await run(session, f"\\copy dst (id, b) FROM '{path}' csv")).status == "COPY 2"
    assert await table(session, "dst") == [(5, None, "NULL"), (6, None, "\\N")]


BAD_FILES = [  # (case, the file, the line the error names: PostgreSQL's, SQLite's)
    ("too few fields", 'id,a,b\n1,x,y\n2,"q ""w""",z\n3,only two\n4,a,b\n', (4, 4)),
    # PostgreSQL reads to the end of the file looking for the closing quote; we name where it opened
    ("a quote left open", 'id,a,b\n1,x,y\n2,"never closed,z\n3,a,b\n', (5, 3)),
    ("a key twice", 'id,a,b\n1,x,y\n2,x,y\n2,duplicate key,z\n', (4, 4)),
    ("not a number", 'id,a,b\n1,x,y\nseven,x,y\n', (3, None)),  # SQLite stores it (no STRICT table)
]


@pytest.mark.parametrize("content, lines", [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
async def test_a_bad_line_is_named_and_nothing_is_half_imported(session, content, lines, tmp_path):
    line = lines[session.driver.dialect != "postgres"]
    if line is None:
        pytest.skip("SQLite takes any value in a column of a table that is not STRICT")
    path = tmp_path / "bad.csv"
    path.write_text(content)
    await session.execute("INSERT INTO dst VALUES (100, 'kept', 'kept')")
    with pytest.raises(QueryError) as caught:
        await run(session, f"\\copy dst FROM '{path}' csv header")
    assert f"line {line}" in str(caught.value) and "\n" not in str(caught.value)
    assert await table(session, "dst") == [(100, "kept", "kept")]


async def test_inside_an_open_transaction_a_failure_keeps_the_transaction(session, tmp_path):
    """SQLite: the copy is a savepoint of the user's transaction (PostgreSQL aborts it, as psql does)."""
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("7,x,y\n")
    bad.write_text("8,x,y\n9,x\n")
    await session.execute("BEGIN")
    await run(session, f"\\copy dst FROM '{good}' csv")
    with pytest.raises(QueryError, match="line 2"):
        await run(session, f"\\copy dst FROM '{bad}' csv")
    await session.execute("ROLLBACK")
    assert await table(session, "dst") == []


@pytest.mark.parametrize("line, message", [
    ("\\copy", "table or a (query)"),
    ("\\copy src", "FROM or TO"),
    ("\\copy src TO", "file name"),
    ("\\copy src TO PROGRAM 'rm -rf /'", "PROGRAM"),
    ("\\copy src FROM stdin", "stdin"),
    ("\\copy (SELECT 1) FROM 'x.csv'", "FROM needs a table"),
    ("\\copy src TO 'x.csv' WITH (FORMAT xml)", "csv, text or binary"),
    ("\\copy src TO 'x.csv' WITH (DELIMITER ';;')", "one character"),
    ("\\copy src FROM '/nonexistent/file.csv'", "cannot read"),
    ("\\copy src TO '/nonexistent/dir/file.csv'", "cannot write"),
])
async def test_usage_errors_say_what_to_type(sqlite_session, line, message):
    with pytest.raises(commands.CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await run(sqlite_session, line)


async def test_a_file_is_complete_or_absent(pg_session, tmp_path):
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "failed.csv"
    with pytest.raises(QueryError, match="division by zero"):
        await run(pg_session, f"\\copy (SELECT 1/(id - 3) FROM src) TO '{path}' csv")
    assert list(path.parent.iterdir()) == []


async def test_cancel_stops_a_copy_on_the_server(pg_session, tmp_path):
    path = tmp_path / "slow.csv"
    task = asyncio.ensure_future(run(pg_session, f"\\copy (SELECT pg_sleep(30)) TO '{path}'"))
    for _ in range(100):
        if pg_session.busy:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    assert await pg_session.cancel()
    with pytest.raises(QueryCancelled):
        await asyncio.wait_for(task, 10)
    assert not path.exists()


async def test_progress_is_reported(pg_session, tmp_path):
    path = tmp_path / "big.csv"
    seen = []
    context = commands.Context(pg_session, progress=lambda rows, size, total: seen.append((rows, size, total)))
    import aishell.engine.copy as copy_module

    interval, copy_module.PROGRESS_INTERVAL = copy_module.PROGRESS_INTERVAL, 0.0
    try:
        out = await commands.run(context, f"\\copy (SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g) TO '{path}'")
    finally:
        copy_module.PROGRESS_INTERVAL = interval
    assert out.status == "COPY 200000"
    assert seen and seen[-1][0] <= 200000 and seen[-1][1] <= path.stat().st_size
    seen.clear()
    await pg_session.execute("DROP TABLE IF EXISTS big; CREATE TABLE big (g int, x text)")
    copy_module.PROGRESS_INTERVAL = 0.0
    try:
        await commands.run(context, f"\\copy big FROM '{path}'")
    finally:
        copy_module.PROGRESS_INTERVAL = interval
    assert seen and seen[-1][2] == path.stat().st_size


@pytest.mark.parametrize("options, psql_options", [(f[1], f[2]) for f in FORMATS], ids=[f[0] for f in FORMATS])
async def test_psql_reads_what_we_write_and_we_read_what_psql_writes(pg_session, pg_db, options, psql_options, tmp_path):
    ours, theirs = tmp_path / "ours.out", tmp_path / "theirs.out"
    await run(pg_session, f"\\copy src TO '{ours}' {options}")
    psql = ["psql", pg_db, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c"]
    subprocess.run([*psql, f"\\copy src TO '{theirs}' {psql_options}"], check=True, timeout=30)
    assert ours.read_bytes() == theirs.read_bytes()
    subprocess.run([*psql, f"\\copy dst FROM '{ours}' {psql_options}"], check=True, timeout=30)
    assert await table(pg_session, "dst") == ROWS


async def test_sqlite_writes_what_postgresql_writes(pg_session, sqlite_session, tmp_path):
    """The same rows from SQLite and from PostgreSQL's COPY give the same bytes (CSV and text)."""
    for _, options, _ in FORMATS:
        outputs = []
        for session in (sqlite_session, pg_session):
            out = tmp_path / f"{len(outputs)}.out"
            await run(session, f"\\copy src TO '{out}' {options}")
            outputs.append(out.read_bytes())
        assert outputs[0] == outputs[1], options


def test_o_sends_results_to_a_file_until_o_alone(tmp_path):
    """``aishell run -f``: ``\\o FILE`` appends each result there (format by the name), ``\\o``
    alone brings them back; ``\\copy`` runs in scripts too."""
    import os
    import sys

    db, script, out_csv, out_txt, copied = (tmp_path / n for n in ("o.db", "s.sql", "out.csv", "out.txt", "t.csv"))
    script.write_text(
        "create table t (id integer, note text);\n"
        "insert into t values (1, 'a \"q\"'), (2, null), (3, '');\n"
        f"\\o {out_csv}\nselect * from t order by id;\nselect count(*) as n from t;\n"
        f"\\o {out_txt}\nselect id from t where id = 1;\n"
        "\\o\nselect 'back on screen' as here;\n"
        f"\\copy t to '{copied}' csv header\n\\copy t from '{copied}' csv header\nselect count(*) as total from t;\n"
    )
    env = dict(os.environ, AISHELL_MEMORY__ENABLED="false")
    done = subprocess.run([sys.executable, "-m", "aishell.tui.cli", "run", str(db), "--create", "-f", str(script), "--format", "csv"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert out_csv.read_text() == 'id,note\n1,"a ""q"""\n2,\n3,""\nn\n3\n'
    assert out_txt.read_text().splitlines()[-1] == "(1 row)"
    assert "back on screen" in done.stdout and "a \"q\"" not in done.stdout
    assert done.stdout.strip().endswith("total\n6")
    assert (out_csv.stat().st_mode & 0o777) == 0o600
