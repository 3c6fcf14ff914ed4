"""An import takes each statement's shape fingerprint from the splitter's tokens instead of
tokenizing the statement once more: it must be the fingerprint of the text it records, for real
queries (TPC-H), generated ones and the tricky ones (``;`` in strings, dollar quotes, comments,
``$1``, bodies kept whole, psql lines between), and a statement that redaction changed gets the
shape of what it became."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aishell.engine.bench.memory import _distinct, _history
from aishell.engine.config import MemorySettings
from aishell.engine.memory import Memory
from aishell.engine.memory.history import parse
from aishell.engine.statements.fingerprint import fingerprint

TPCH = [p.read_text() for p in sorted((Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tpch").glob("q*.sql"))]

TRICKY = [
    "SELECT 'a;b', E'it\\'s; here' FROM t WHERE x = 'c;'",
    "SELECT $fn$ ; $fn$, $$;$$",
    "-- a comment; with a semicolon\nSELECT 1 /* ; */ + 2",
    "/* /* nested ; */ */ SELECT \"odd;name\" FROM \"T\"",
    "SELECT id FROM t WHERE a = $1 AND b IN ($2, $3)",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
    "CREATE TRIGGER tr AFTER INSERT ON a BEGIN DELETE FROM b; END",
    "select *  from T where id=42 and kind in ('a', 'b')",
    "SELECT x::text, y->>'k', B'101', X'ff' FROM t\nWHERE z ~ '^a;'",
    "UPDATE t SET a = 1\n  -- trailing; comment\n",
    "\\echo /* a psql line that opens a comment\n*/ SELECT 9",
]


def _file(statements: list[str]) -> str:
    # psql lines between statements, blank lines, and a last statement without its ";"
    body = "".join(f"{s};\n" + ("\\x\n\n" if i % 3 == 0 else "") for i, s in enumerate(statements[:-1]))
    return "\\c shop\n" + body + statements[-1]


@pytest.mark.parametrize(
    "statements",
    [pytest.param(TPCH, id="tpch", marks=pytest.mark.skipif(not TPCH, reason="the TPC-H queries (../shared/data/tpch) are not beside this checkout")),
     pytest.param(_distinct(300, seed=3) + _history(300, 40, seed=4), id="generated"),
     pytest.param(TRICKY, id="tricky")],
)
def test_the_splitters_shape_is_the_fingerprint_of_the_text_read(statements):
    items = parse(_file(statements), "plain")
    assert len(items) == len(statements)
    # given for each statement read as it is written (no comment before it or before its ";")
    plain = [i for i in items if "--" not in i.text and "/*" not in i.text and "*/" not in i.text]
    assert plain and all(item.fingerprint is not None for item in plain)
    known = [item for item in items if item.fingerprint is not None]
    assert [item.fingerprint for item in known] == [fingerprint(item.text, "postgres") for item in known]


def test_a_comment_a_psql_line_opened_is_no_part_of_the_splitters_shape():
    # the tokenizer read "/* … */" as a comment from the psql line on: the statement's tokens are
    # SELECT 9, while the text recorded, after that line, is "*/ SELECT 9;"
    items = parse("\\echo /* a psql line that opens a comment\n*/ SELECT 9;\nSELECT 10;\n", "plain")
    assert [i.text for i in items] == ["*/ SELECT 9;", "SELECT 10;"]
    assert items[0].fingerprint is None and items[1].fingerprint == fingerprint("SELECT 10")


def test_a_statement_never_closed_gets_no_shape_from_the_splitter():
    items = parse("SELECT 1;\nSELECT 'never closed", "plain")
    assert [i.text for i in items] == ["SELECT 1;", "SELECT 'never closed"]
    assert items[0].fingerprint == fingerprint("SELECT 1") and items[1].fingerprint is None


async def test_imported_statements_are_stored_with_the_shape_of_their_stored_text(tmp_path):
    statements = TRICKY + [
        "ALTER USER bob WITH PASSWORD 'hunter2;x'",
        'SELECT 1 AS "postgres://bob:hunter2@db/shop"',  # redacted: the splitter's shape is not its shape
    ]
    path = tmp_path / "history.sql"
    path.write_text(_file(statements))
    memory = await Memory.open(MemorySettings(prune_interval=0), path=tmp_path / "m.db")
    try:
        await memory.wait_ready()
        report = await memory.import_file(path, kind="plain")
    finally:
        await memory.close()
    assert report.recorded == len(statements) and report.redacted >= 1
    raw = sqlite3.connect(tmp_path / "m.db")
    rows = raw.execute("SELECT text, fingerprint FROM statements").fetchall()
    raw.close()
    assert len(rows) == len(statements)
    assert not any("hunter2" in text for text, _ in rows) and any("bob:***@db" in text for text, _ in rows)
    assert [fp for _, fp in rows] == [fingerprint(text, "postgres") for text, _ in rows]
